/* The wire format shared by both ends of Dovecot's authentication protocol
 * (the client protocol, v1.2, that login processes and MTAs speak, and the
 * master protocol, v1.0, of privileged processes): LF-terminated lines of
 * TAB-separated fields with Dovecot's \001 tab-escaping, bounded line
 * reading, and the names of the failure codes. */
#ifndef TERN_AUTH_CLIENT_PROTO_H
#define TERN_AUTH_CLIENT_PROTO_H

#include "buffer.h"
#include "istream.h"

#define AUTH_PROTO_CLIENT_MAJOR 1
#define AUTH_PROTO_CLIENT_MINOR 2
#define AUTH_PROTO_MASTER_MAJOR 1
#define AUTH_PROTO_MASTER_MINOR 0

/* Longest line either end accepts: a SASL message of 16 KiB in base64
   (the auth service takes up to 22000 base64 characters) plus the
   parameters. */
#define AUTH_PROTO_MAX_LINE_LENGTH 24576
/* Most fields one line may have. */
#define AUTH_PROTO_MAX_ARGS 128
/* The per-connection cookie: 16 random bytes as 32 hex digits. */
#define AUTH_PROTO_COOKIE_HEX_LEN 32

/* FAIL code= values. The first ones are Dovecot's; the rest are Tern's
   own (Dovecot clients ignore codes they don't know). No code means bad
   credentials. */
#define AUTH_PROTO_CODE_TEMP_FAIL "temp_fail"
#define AUTH_PROTO_CODE_AUTHZ_FAIL "authz_fail"
#define AUTH_PROTO_CODE_USER_DISABLED "user_disabled"
#define AUTH_PROTO_CODE_PASS_EXPIRED "pass_expired"
#define AUTH_PROTO_CODE_MECH_INVALID "auth_mech_invalid"
#define AUTH_PROTO_CODE_MECH_SSL_REQUIRED "auth_mech_ssl_required"
#define AUTH_PROTO_CODE_INVALID_BASE64 "invalid_base64"
#define AUTH_PROTO_CODE_MALFORMED "malformed"
#define AUTH_PROTO_CODE_ABORTED "aborted"

/* Appends value with TAB, LF, CR and \001 escaped (NUL can't occur in a C
   string, so never needs to be). */
void auth_proto_escape(string_t *dest, const char *value);
/* Unescapes in place. Returns 0, or -1 if the value would contain NUL. An
   escape character followed by anything else stands for that character;
   a trailing lone one is dropped. */
int auth_proto_unescape(char *value);

/* Splits line in place at TABs into at most max_args fields and
   unescapes each. Returns the number of fields (>= 1: an empty line is one
   empty field), or -1 for too many fields or an escaped NUL. */
int auth_proto_split(char *line, const char **args, unsigned int max_args);

/* Takes the next LF-terminated line out of input (without its LF; a CR
   right before it goes too, as senders escape CRs in values). Returns 1 with *line_r
   (modifiable, valid until the next read), 0 when no full line is buffered
   yet, -1 for a line longer than max_length or containing NUL (*error_r
   set; the caller disconnects). input must buffer at least max_length + 1
   bytes. */
int auth_proto_next_line(struct istream *input, size_t max_length, char **line_r,
			 const char **error_r);

/* If arg is "key=value" with this key, returns the value, else NULL. */
const char *auth_proto_arg_value(const char *arg, const char *key);

/* Formats a cookie of AUTH_PROTO_COOKIE_HEX_LEN/2 bytes. */
void auth_proto_cookie_hex(const unsigned char *bytes, char hex[AUTH_PROTO_COOKIE_HEX_LEN + 1]);
/* True for exactly AUTH_PROTO_COOKIE_HEX_LEN lower-case hex digits. */
bool auth_proto_cookie_is_valid(const char *cookie);

#endif
