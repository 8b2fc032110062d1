/* COMPRESS (RFC 4978): after its tagged OK, every byte of the session in
 * both directions is raw DEFLATE (transport-deflate.h), over the plain
 * socket or over TLS. */
#include "imap-commands.h"
#include "imap-arg.h"
#include "istream.h"
#include "transport-deflate.h"

#include <strings.h>

/* Wraps the connection's transport. Output still queued (the tagged OK
   and whatever preceded it) goes out uncompressed, ahead of the first
   compressed byte: RFC 4978 §3 starts compression right after the CRLF
   of the OK. */
static void imap_compress_start(struct connection *conn)
{
	(void)o_stream_flush(conn->output);
	size_t unsent = o_stream_get_buffer_used(conn->output);
	struct transport *t = transport_deflate_create(conn->transport);
	transport_deflate_set_plain_prefix(t, unsent);
	connection_set_transport(conn, t);
	log_info(&conn->log, "compress_on", "algorithm=deflate unsent=%zu", unsent);
}

bool imap_cmd_compress(struct imap_cmd *cmd)
{
	struct imap_client *client = cmd->client;
	struct connection *conn = client->conn;
	const char *algorithm;

	if (!imap_arg_get_atom(&cmd->args[0], &algorithm) ||
	    cmd->args[1].type != IMAP_ARG_EOL) {
		imap_cmd_bad(cmd, "COMPRESS takes one algorithm name.");
		return true;
	}
	/* RFC 4978 §3: NO with COMPRESSIONACTIVE when it already runs */
	if (transport_is_deflate(conn->transport)) {
		imap_cmd_finish(cmd, "NO [COMPRESSIONACTIVE] DEFLATE is already active.");
		return true;
	}
	if (strcasecmp(algorithm, "DEFLATE") != 0) {
		imap_cmd_bad(cmd, "Unknown compression algorithm.");
		return true;
	}
	/* RFC 4978 §3: the client sends nothing more until it has seen the
	   OK. Bytes already buffered could be plain or compressed, and
	   guessing would run one as the other: a protocol error, and the
	   session can't go on in either form. */
	if (i_stream_get_data_size(conn->input) > 0) {
		imap_cmd_bad(cmd, "Commands pipelined after COMPRESS.");
		imap_client_disconnect(client, "COMPRESS must not be pipelined.",
				       "input pipelined after COMPRESS");
		return true;
	}
	imap_cmd_finish(cmd, "OK DEFLATE active");
	imap_compress_start(conn);
	return true;
}
