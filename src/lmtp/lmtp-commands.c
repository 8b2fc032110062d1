/* The LMTP commands (RFC 2033 §4, RFC 5321 §4.1.1) and the table that
 * dispatches them. Every reply but the greeting, LHLO's and 354 carries an
 * enhanced status code (RFC 2034 §3, codes from RFC 3463). */
#include "lmtp-client.h"

struct lmtp_command {
	enum lmtp_cmd cmd;
	void (*func)(struct lmtp_client *client, const char *args);
};

static void cmd_lhlo(struct lmtp_client *client, const char *args)
{
	if (!lmtp_proto_lhlo_name_is_valid(args)) {
		lmtp_client_send_bad(client, "501 5.5.4 Syntax: LHLO <domain>");
		return;
	}
	/* RFC 5321 §4.1.4: a new greeting resets the transaction */
	lmtp_client_reset_transaction(client);
	i_assert(strlen(args) < sizeof(client->lhlo_name));
	strcpy(client->lhlo_name, args);
	struct ostream *output = client->conn->output;
	/* RFC 2033 §4.1 and the extensions: PIPELINING RFC 2920,
	   ENHANCEDSTATUSCODES RFC 2034, 8BITMIME RFC 6152, SMTPUTF8
	   RFC 6531, CHUNKING RFC 3030, SIZE RFC 1870 */
	o_stream_printf(output, "250-%s\r\n", client->lset.hostname);
	o_stream_send_str(output, "250-PIPELINING\r\n250-ENHANCEDSTATUSCODES\r\n"
			  "250-8BITMIME\r\n250-SMTPUTF8\r\n250-CHUNKING\r\n");
	o_stream_printf(output, "250 SIZE %llu\r\n",
			(unsigned long long)client->lset.max_message_size);
}

static void cmd_helo(struct lmtp_client *client, const char *args)
{
	/* RFC 2033 §4.1: HELO and EHLO are not LMTP */
	lmtp_client_send_bad(client, "500 5.5.1 This is LMTP: use LHLO (RFC 2033).");
}

static void cmd_mail(struct lmtp_client *client, const char *args)
{
	if (client->lhlo_name[0] == '\0') {
		lmtp_client_send_bad(client, "503 5.5.1 Send LHLO first.");
		return;
	}
	if (client->mail_given) {
		lmtp_client_send_bad(client, "503 5.5.1 Sender already given.");
		return;
	}
	struct lmtp_address addr;
	struct lmtp_mail_params params;
	const char *error;
	if (lmtp_proto_parse_mail(args, t_pool(), &addr, &params, &error) < 0) {
		lmtp_client_send_bad(client, error);
		return;
	}
	/* RFC 1870 §6.2: refuse at once what can't be accepted */
	if (params.size > client->lset.max_message_size) {
		lmtp_client_send_line(client, "552 5.3.4 Message too big for system.");
		return;
	}
	client->mail_given = true;
	client->mail_params = params;
	client->sender = lmtp_address_to_string(&addr, client->trans_pool);
	lmtp_client_send_line(client, "250 2.1.0 OK");
}

static void cmd_rcpt(struct lmtp_client *client, const char *args)
{
	if (!client->mail_given || client->data_started) {
		lmtp_client_send_bad(client, client->mail_given ?
				     "503 5.5.1 Message data already started." :
				     "503 5.5.1 Send MAIL first.");
		return;
	}
	struct lmtp_address addr;
	const char *error;
	if (lmtp_proto_parse_rcpt(args, t_pool(), &addr, &error) < 0) {
		lmtp_client_send_bad(client, error);
		return;
	}
	if (client->rcpts.count >= client->lset.max_recipients) {
		/* RFC 5321 §4.5.3.1.10: temporary, the MTA sends the rest later */
		lmtp_client_send_line(client, "452 4.5.3 Too many recipients.");
		return;
	}
	/* looked up in temporary memory: refused recipients cost nothing */
	struct lmtp_recipient rcpt;
	int ret = lmtp_deliver_lookup(client, &addr, t_pool(), &rcpt);
	const char *shown = lmtp_address_to_string(&addr, t_pool());
	if (ret < 0) {
		lmtp_client_send_line(client, "451 4.3.0 Temporary user lookup failure.");
		return;
	}
	if (ret == 0) {
		lmtp_client_send_line(client, t_strdup_printf(
			"550 5.1.1 <%s> User doesn't exist.", shown));
		return;
	}
	const char *refusal = lmtp_deliver_quota_refusal(client, &rcpt);
	if (refusal != NULL) {
		lmtp_client_send_line(client, refusal);
		return;
	}
	pool_t pool = client->trans_pool;
	struct lmtp_recipient *r = array_append_space(&client->rcpts);
	r->address = p_strdup(pool, shown);
	r->detail = rcpt.detail == NULL ? NULL : p_strdup(pool, rcpt.detail);
	r->user = rcpt.user;
	r->user.name = p_strdup(pool, rcpt.user.name);
	r->user.home = p_strdup(pool, rcpt.user.home);
	r->user.quota_rule = rcpt.user.quota_rule == NULL ? NULL :
		p_strdup(pool, rcpt.user.quota_rule);
	lmtp_client_send_line(client, "250 2.1.5 OK");
}

/* Why message data can't start now, or NULL. */
static const char *lmtp_data_refusal(struct lmtp_client *client)
{
	if (!client->mail_given)
		return "503 5.5.1 Send MAIL first.";
	/* RFC 2033 §4.2: no successful RCPT, no DATA */
	if (client->rcpts.count == 0)
		return "503 5.5.1 No valid recipients.";
	return NULL;
}

static void cmd_data(struct lmtp_client *client, const char *args)
{
	const char *refusal = lmtp_data_refusal(client);
	if (refusal == NULL && client->data_started)
		refusal = "503 5.5.1 BDAT in progress: DATA is not allowed.";
	if (refusal != NULL) {
		lmtp_client_send_bad(client, refusal);
		return;
	}
	if (args[0] != '\0') {
		lmtp_client_send_bad(client, "501 5.5.4 DATA takes no arguments.");
		return;
	}
	/* RFC 2034 §3: no enhanced code on 354 */
	lmtp_client_send_line(client, "354 Start mail input; end with <CRLF>.<CRLF>");
	lmtp_data_begin(client, LMTP_INPUT_DATA);
}

static void cmd_bdat(struct lmtp_client *client, const char *args)
{
	uint64_t size;
	bool last;
	const char *error;
	if (lmtp_proto_parse_bdat(args, &size, &last, &error) < 0) {
		/* the chunk's length is unknown, so its data would be read
		   as commands: the only safe way on is to close */
		lmtp_client_send_line(client, error);
		connection_close(client->conn, "invalid BDAT");
		return;
	}
	/* RFC 3030 §2: a refused chunk is still read, then answered */
	client->bdat_reply = lmtp_data_refusal(client);
	if (client->bdat_reply == NULL && client->bdat_failed)
		client->bdat_reply = "503 5.5.1 A previous chunk failed: send RSET.";
	client->bdat_remaining = size;
	client->bdat_last = last;
	lmtp_data_begin(client, LMTP_INPUT_BDAT);
}

static void cmd_rset(struct lmtp_client *client, const char *args)
{
	lmtp_client_reset_transaction(client);
	lmtp_client_send_line(client, "250 2.0.0 OK");
}

static void cmd_noop(struct lmtp_client *client, const char *args)
{
	lmtp_client_send_line(client, "250 2.0.0 OK");
}

static void cmd_quit(struct lmtp_client *client, const char *args)
{
	/* the session's deliveries are all acknowledged: their text is
	   indexed before the reply, the storages closed */
	lmtp_storage_close_all(client, true);
	lmtp_client_send_line(client, t_strdup_printf("221 2.0.0 %s Closing connection.",
						      client->lset.hostname));
	client->quit = true;
}

static void cmd_vrfy(struct lmtp_client *client, const char *args)
{
	if (args[0] == '\0') {
		lmtp_client_send_bad(client, "501 5.5.4 Syntax: VRFY <address>");
		return;
	}
	/* RFC 5321 §3.5.3: no address harvesting */
	lmtp_client_send_line(client, "252 2.5.2 Cannot VRFY user, but will accept "
			      "message and attempt delivery.");
}

static void cmd_help(struct lmtp_client *client, const char *args)
{
	lmtp_client_send_line(client, "214 2.0.0 Commands: LHLO MAIL RCPT DATA BDAT "
			      "RSET NOOP QUIT VRFY HELP");
}

static const struct lmtp_command lmtp_commands[] = {
	{ .cmd = LMTP_CMD_LHLO, .func = cmd_lhlo },
	{ .cmd = LMTP_CMD_HELO, .func = cmd_helo },
	{ .cmd = LMTP_CMD_EHLO, .func = cmd_helo },
	{ .cmd = LMTP_CMD_MAIL, .func = cmd_mail },
	{ .cmd = LMTP_CMD_RCPT, .func = cmd_rcpt },
	{ .cmd = LMTP_CMD_DATA, .func = cmd_data },
	{ .cmd = LMTP_CMD_BDAT, .func = cmd_bdat },
	{ .cmd = LMTP_CMD_RSET, .func = cmd_rset },
	{ .cmd = LMTP_CMD_NOOP, .func = cmd_noop },
	{ .cmd = LMTP_CMD_QUIT, .func = cmd_quit },
	{ .cmd = LMTP_CMD_VRFY, .func = cmd_vrfy },
	{ .cmd = LMTP_CMD_HELP, .func = cmd_help },
};

void lmtp_client_command(struct lmtp_client *client, const char *line)
{
	const char *args;
	enum lmtp_cmd cmd = lmtp_proto_command_parse(line, &args);
	for (unsigned int i = 0; i < N_ELEMENTS(lmtp_commands); i++) {
		if (lmtp_commands[i].cmd == cmd) {
			lmtp_commands[i].func(client, args);
			return;
		}
	}
	lmtp_client_send_bad(client, "500 5.5.1 Unknown command.");
}
