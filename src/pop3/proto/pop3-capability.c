/* CAPA capability lines: RFC 2449 §6 (TOP, USER, SASL, RESP-CODES,
 * LOGIN-DELAY, PIPELINING, EXPIRE, UIDL, IMPLEMENTATION), RFC 3206 §6
 * (AUTH-RESP-CODE), RFC 2595 §4 (STLS), RFC 6856 §2 (UTF8). */
#include "pop3-capability.h"

void pop3_capability_append(string_t *dest, const struct pop3_capability_opts *opts)
{
	str_append(dest, "TOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\nPIPELINING\r\n");
	if (!opts->authenticated) {
		if (opts->user)
			str_append(dest, "USER\r\n");
		if (opts->sasl_mechs != NULL && opts->sasl_mechs[0] != '\0')
			str_printfa(dest, "SASL %s\r\n", opts->sasl_mechs);
		if (opts->stls)
			str_append(dest, "STLS\r\n");
	}
	/* messages are never removed by the server on its own */
	str_append(dest, "EXPIRE NEVER\r\n");
	str_printfa(dest, "LOGIN-DELAY %u\r\n", opts->login_delay_secs);
	/* USER: user names and passwords may be UTF-8 without the UTF8
	   command (RFC 6856 §2) */
	str_append(dest, "UTF8 USER\r\n");
	str_append(dest, "IMPLEMENTATION Tern\r\n");
}
