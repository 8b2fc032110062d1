/* The storage-free LMTP grammar (RFC 2033 over RFC 5321): command lines
 * read from a bounded istream, command names, MAIL FROM / RCPT TO paths and
 * their ESMTP parameters (SIZE RFC 1870, BODY RFC 6152, SMTPUTF8 RFC 6531),
 * BDAT arguments (RFC 3030) and the DATA decoder (dot-unstuffing, RFC 5321
 * §4.5.2). Nothing here allocates beyond its caller's pool or limits, so
 * all of it is fuzzed (fuzz/fuzz-lmtp-proto.c). */
#ifndef TERN_LMTP_PROTO_H
#define TERN_LMTP_PROTO_H

#include "buffer.h"
#include "istream.h"
#include "line-reader.h"

/* RFC 5321 §4.5.3.1.4: 512 octets per command line, which ESMTP
   parameters may extend; long paths with SIZE, BODY and SMTPUTF8 fit
   easily in this. */
#define LMTP_PROTO_MAX_LINE_LENGTH 4096
/* RFC 5321 §4.5.3.1.1-3 */
#define LMTP_PROTO_MAX_LOCALPART_LENGTH 64
#define LMTP_PROTO_MAX_DOMAIN_LENGTH 255
#define LMTP_PROTO_MAX_PATH_LENGTH 256

enum lmtp_cmd {
	LMTP_CMD_UNKNOWN = 0,
	LMTP_CMD_LHLO,
	LMTP_CMD_HELO,
	LMTP_CMD_EHLO,
	LMTP_CMD_MAIL,
	LMTP_CMD_RCPT,
	LMTP_CMD_DATA,
	LMTP_CMD_BDAT,
	LMTP_CMD_RSET,
	LMTP_CMD_NOOP,
	LMTP_CMD_QUIT,
	LMTP_CMD_VRFY,
	LMTP_CMD_HELP,
};

enum lmtp_body {
	LMTP_BODY_UNSPECIFIED = 0,
	LMTP_BODY_7BIT,
	LMTP_BODY_8BITMIME,
};

/* A parsed path. localpart is unquoted (a Quoted-string's quotes and
   backslashes removed); both are NULL for the null path "<>". */
struct lmtp_address {
	const char *localpart;
	const char *domain; /* NULL for RCPT TO:<Postmaster> */
};

struct lmtp_mail_params {
	uint64_t size; /* 0 when SIZE= was not given */
	enum lmtp_body body;
	bool smtputf8;
};

/* --- command lines --- */

/* The shared bounded line reader (line-reader.h) with LMTP's errors:
   line_reader_read()'s *error_r is then the whole reply to send ("500
   5.5.2 Line too long." or a NUL byte). input must be able to buffer
   max_length + 2 bytes. */
struct line_reader *lmtp_line_reader_create(struct istream *input, size_t max_length);

/* Splits "NAME args" at the first space: *args_r is what follows the
   space(s) ("" if none). Returns the command (names are
   case-insensitive, RFC 5321 §2.4). */
enum lmtp_cmd lmtp_proto_command_parse(const char *line, const char **args_r);

/* --- MAIL FROM, RCPT TO, BDAT --- */

/* Parses the arguments of MAIL ("FROM:<path> params"). Returns 0, or -1
   with *error_r the whole reply ("501 5.5.4 ..." for syntax, "555 5.5.4"
   for an unknown parameter). Allocates from pool. */
int lmtp_proto_parse_mail(const char *args, pool_t pool, struct lmtp_address *addr_r,
			  struct lmtp_mail_params *params_r, const char **error_r);
/* Parses the arguments of RCPT ("TO:<path> params"); the path may not be
   null, and "<Postmaster>" without a domain is accepted (RFC 5321
   §4.1.1.3). No parameters are supported. Returns 0 or -1 as above. */
int lmtp_proto_parse_rcpt(const char *args, pool_t pool, struct lmtp_address *addr_r,
			  const char **error_r);
/* Parses "<size> [LAST]" (RFC 3030 §2). Returns 0 or -1 (*error_r: reply). */
int lmtp_proto_parse_bdat(const char *args, uint64_t *size_r, bool *last_r,
			  const char **error_r);
/* Checks the LHLO argument: a domain or an address literal, printable
   ASCII only (it is copied into the Received: header). */
bool lmtp_proto_lhlo_name_is_valid(const char *name);
/* "local@domain" with the local part quoted again if it needs it
   (RFC 5321 §4.1.2), "" for the null path. Allocated from pool. */
const char *lmtp_address_to_string(const struct lmtp_address *addr, pool_t pool);
/* Splits localpart at the first delim: *user_r the part before it (from
   pool), *detail_r the part after it (NULL when there is no delim, or
   it is the first character). */
void lmtp_address_split_detail(const char *localpart, char delim, pool_t pool,
			       const char **user_r, const char **detail_r);

/* --- DATA (RFC 5321 §4.1.1.4, §4.5.2) --- */

enum lmtp_data_state {
	LMTP_DATA_LINE_START = 0,
	LMTP_DATA_MID,
	LMTP_DATA_CR,      /* a CR is held back: it may start a CRLF */
	LMTP_DATA_DOT,     /* a line began with a dot */
	LMTP_DATA_DOT_CR,  /* ".\r" at the start of a line */
	LMTP_DATA_END,
};

struct lmtp_data_decoder {
	enum lmtp_data_state state;
};

/* Decodes size bytes of DATA input into dest: removes the leading dot of
   dot-stuffed lines, turns bare LF line ends into CRLF (clients that send
   them are tolerated) and stops after the terminating "." line (CRLF.CRLF;
   a bare-LF form is accepted too). The message data starts at a line
   start, so a "." as first line ends an empty message. *consumed_r is how
   much of data was used. Returns 1 when the end was reached, 0 when more
   input is needed. Byte-at-a-time input gives the same output. */
int lmtp_data_decode(struct lmtp_data_decoder *dec, const unsigned char *data, size_t size,
		     size_t *consumed_r, buffer_t *dest);

#endif
