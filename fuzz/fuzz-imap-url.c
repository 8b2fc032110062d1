/* libFuzzer target for the IMAP URL parser (src/imap/proto/imap-url.c,
 * RFC 5092/4467/5550). The first byte picks the parse flags. No crash,
 * and every URL that parses is written back with its fields
 * percent-encoded and must parse again to the same fields; relative ones
 * are resolved against a base; the BADURL text of any input holds only
 * response-code characters. */
#include "lib.h"
#include "imap-url.h"
#include "pool.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_write_url(const struct imap_url *u, string_t *dest)
{
	str_append(dest, "imap://");
	if (u->user != NULL || u->auth_type != NULL) {
		if (u->user != NULL)
			imap_url_append_encoded(dest, u->user, false);
		if (u->auth_type != NULL) {
			str_append(dest, ";AUTH=");
			if (strcmp(u->auth_type, "*") == 0)
				str_append_c(dest, '*');
			else
				imap_url_append_encoded(dest, u->auth_type, false);
		}
		str_append_c(dest, '@');
	}
	str_append(dest, u->host);
	if (u->port != 0)
		str_printfa(dest, ":%u", u->port);
	if (!u->have_path)
		return;
	str_append_c(dest, '/');
	if (u->mailbox == NULL)
		return;
	imap_url_append_encoded(dest, u->mailbox, true);
	if (u->uidvalidity != 0)
		str_printfa(dest, ";UIDVALIDITY=%u", u->uidvalidity);
	if (u->search != NULL) {
		str_append_c(dest, '?');
		imap_url_append_encoded(dest, u->search, true);
		return;
	}
	if (u->uid != 0)
		str_printfa(dest, "/;UID=%u", u->uid);
	if (u->section != NULL) {
		str_append(dest, "/;SECTION=");
		imap_url_append_encoded(dest, u->section, true);
	}
	if (u->have_partial) {
		str_printfa(dest, "/;PARTIAL=%u", u->partial_offset);
		if (u->partial_length != 0)
			str_printfa(dest, ".%u", u->partial_length);
	}
}

static bool fuzz_same(const char *a, const char *b)
{
	return (a == NULL) == (b == NULL) && (a == NULL || strcmp(a, b) == 0);
}

static void fuzz_check_roundtrip(const struct imap_url *u)
{
	string_t *str = t_str_new(256);
	struct imap_url u2;
	const char *error;

	fuzz_write_url(u, str);
	if (str_len(str) > IMAP_URL_MAX_LENGTH)
		return;
	if (imap_url_parse(str_c(str), str_len(str), 0, t_pool(), &u2, &error) < 0)
		__builtin_trap();
	if (!fuzz_same(u->user, u2.user) || !fuzz_same(u->auth_type, u2.auth_type) ||
	    !fuzz_same(u->host, u2.host) || u->port != u2.port ||
	    !fuzz_same(u->mailbox, u2.mailbox) || u->uidvalidity != u2.uidvalidity ||
	    u->uid != u2.uid || !fuzz_same(u->section, u2.section) ||
	    u->have_partial != u2.have_partial || u->partial_offset != u2.partial_offset ||
	    u->partial_length != u2.partial_length || !fuzz_same(u->search, u2.search))
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	enum imap_url_parse_flags flags = data[0] & (IMAP_URL_PARSE_RELATIVE | IMAP_URL_PARSE_URLAUTH);
	const char *text = (const char *)data + 1;
	size_t len = size - 1;
	struct imap_url url, base, res;
	const char *error;

	if (imap_url_parse(text, len, flags, t_pool(), &url, &error) == 0) {
		if (url.rump_length > len || (url.token != NULL && url.mechanism == NULL))
			__builtin_trap();
		if (url.have_server)
			fuzz_check_roundtrip(&url);
		const char *b = "imap://u@h/base;UIDVALIDITY=1/;UID=2/;SECTION=3";
		if (imap_url_parse(b, strlen(b), 0, t_pool(), &base, &error) < 0)
			__builtin_trap();
		imap_url_resolve(&url, &base, &res);
		(void)imap_url_is_message_part(&res);
		if (res.have_server)
			fuzz_check_roundtrip(&res);
	} else if (error == NULL) {
		__builtin_trap();
	}
	string_t *resp = t_str_new(len * 3 + 1);
	imap_url_append_resp_text(resp, text, len);
	for (size_t i = 0; i < str_len(resp); i++) {
		unsigned char c = str_data(resp)[i];
		if (c <= ' ' || c >= 0x7f || c == ']')
			__builtin_trap();
	}
	t_pool_clear();
	return 0;
}
