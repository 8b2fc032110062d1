/* Unit tests for IMAP URL parsing (RFC 5092, RFC 4467, RFC 5550), relative
 * resolution and output helpers. */
#include "test-common.h"
#include "imap-url.h"

/* One line describing every field that is set, or "ERR: error". */
static const char *describe(const struct imap_url *u)
{
	string_t *s = t_str_new(256);

	if (u->have_server) {
		str_printfa(s, "server(%s;%s@%s:%u) ", u->user == NULL ? "-" : u->user,
			    u->auth_type == NULL ? "-" : u->auth_type, u->host, u->port);
	}
	if (u->mailbox != NULL)
		str_printfa(s, "mbox=%s ", u->mailbox);
	if (u->uidvalidity != 0)
		str_printfa(s, "uv=%u ", u->uidvalidity);
	if (u->uid != 0)
		str_printfa(s, "uid=%u ", u->uid);
	if (u->section != NULL)
		str_printfa(s, "sec=%s ", u->section);
	if (u->have_partial)
		str_printfa(s, "partial=%u.%u ", u->partial_offset, u->partial_length);
	if (u->search != NULL)
		str_printfa(s, "search=%s ", u->search);
	if (u->have_expire)
		str_printfa(s, "expire=%lld ", (long long)u->expire);
	if (u->access != IMAP_URL_ACCESS_NONE) {
		static const char *const names[] = { "", "anonymous", "authuser", "user+", "submit+" };
		str_printfa(s, "access=%s%s ", names[u->access],
			    u->access_user == NULL ? "" : u->access_user);
	}
	if (u->mechanism != NULL)
		str_printfa(s, "mech=%s token=%s ", u->mechanism, u->token);
	if (str_len(s) > 0)
		str_truncate(s, str_len(s) - 1);
	return str_c(s);
}

static const char *parse(const char *text, enum imap_url_parse_flags flags)
{
	struct imap_url url;
	const char *error;

	if (imap_url_parse(text, strlen(text), flags, t_pool(), &url, &error) < 0)
		return t_strconcat("ERR: ", error, NULL);
	return describe(&url);
}

#define ALL (IMAP_URL_PARSE_RELATIVE | IMAP_URL_PARSE_URLAUTH)
#define TOKEN "0123456789abcdef0123456789ABCDEF"

static void test_url_absolute(void)
{
	test_begin("imap url absolute");
	test_assert_strcmp(parse("imap://host", 0), "server(-;-@host:0)");
	test_assert_strcmp(parse("IMAP://Host.Example:143/", 0), "server(-;-@host.example:143)");
	test_assert_strcmp(parse("imap://fred@host/INBOX", 0), "server(fred;-@host:0) mbox=INBOX");
	test_assert_strcmp(parse("imap://fred;AUTH=*@host/a%20b", 0),
			   "server(fred;*@host:0) mbox=a b");
	test_assert_strcmp(parse("imap://;AUTH=GSSAPI@host/x", 0), "server(-;GSSAPI@host:0) mbox=x");
	test_assert_strcmp(parse("imap://[::1]:993/x", 0), "server(-;-@[::1]:993) mbox=x");
	test_assert_strcmp(parse("imap://h/INBOX;UIDVALIDITY=785799047/;UID=113330/;section=1.5.9", 0),
			   "server(-;-@h:0) mbox=INBOX uv=785799047 uid=113330 sec=1.5.9");
	test_assert_strcmp(parse("imap://h/a/b/c/;UID=5/;SECTION=HEADER.FIELDS%20(FROM%20TO)/;PARTIAL=0.1024", 0),
			   "server(-;-@h:0) mbox=a/b/c uid=5 sec=HEADER.FIELDS (FROM TO) partial=0.1024");
	test_assert_strcmp(parse("imap://h/x/;uid=5/;partial=100", 0),
			   "server(-;-@h:0) mbox=x uid=5 partial=100.0");
	test_assert_strcmp(parse("imap://h/gray-council?SUBJECT%20shadows", 0),
			   "server(-;-@h:0) mbox=gray-council search=SUBJECT shadows");
	test_assert_strcmp(parse("imap://h/x;UIDVALIDITY=1?ALL", 0),
			   "server(-;-@h:0) mbox=x uv=1 search=ALL");
	/* UTF-8 names, percent-encoded (RFC 5092 §3.1: not modified UTF-7) */
	test_assert_strcmp(parse("imap://h/%C3%A4iti/;UID=1", 0), "server(-;-@h:0) mbox=äiti uid=1");
	test_assert_strcmp(parse("imap://h/&AOQ-/;UID=1", 0), "server(-;-@h:0) mbox=&AOQ- uid=1");
	test_end();
}

static void test_url_urlauth(void)
{
	test_begin("imap url urlauth");
	test_assert_strcmp(parse("imap://joe@h/INBOX/;uid=20/;section=1.2;urlauth=submit+fred", ALL),
			   "server(joe;-@h:0) mbox=INBOX uid=20 sec=1.2 access=submit+fred");
	test_assert_strcmp(parse("imap://joe@h/INBOX/;uid=20;urlauth=anonymous:internal:" TOKEN, ALL),
			   "server(joe;-@h:0) mbox=INBOX uid=20 access=anonymous mech=internal token=" TOKEN);
	test_assert_strcmp(parse("imap://joe@h/INBOX/;uid=20;expire=2026-11-21T19:57:31Z;urlauth=authuser", ALL),
			   "server(joe;-@h:0) mbox=INBOX uid=20 expire=1795291051 access=authuser");
	test_assert_strcmp(parse("imap://joe@h/INBOX/;uid=20;EXPIRE=2026-11-21t21:57:31.25+02:00;URLAUTH=user+a%40b", ALL),
			   "server(joe;-@h:0) mbox=INBOX uid=20 expire=1795291051 access=user+a@b");
	test_assert_strcmp(parse("imap://joe@h/INBOX/;uid=20/;partial=5.10;urlauth=authuser", ALL),
			   "server(joe;-@h:0) mbox=INBOX uid=20 partial=5.10 access=authuser");

	struct imap_url url;
	const char *error, *text = "imap://joe@h/INBOX/;uid=20;urlauth=authuser:INTERNAL:" TOKEN;
	test_assert(imap_url_parse(text, strlen(text), ALL, t_pool(), &url, &error) == 0);
	test_assert(url.rump_length == strlen("imap://joe@h/INBOX/;uid=20;urlauth=authuser"));
	text = "imap://joe@h/INBOX/;uid=20;urlauth=authuser";
	test_assert(imap_url_parse(text, strlen(text), ALL, t_pool(), &url, &error) == 0);
	test_assert(url.rump_length == strlen(text) && url.mechanism == NULL);

	/* errors */
	test_assert_strcmp(parse("imap://joe@h/INBOX/;uid=20;urlauth=authuser", 0),
			   "ERR: URLAUTH is only allowed in an absolute message URL");
	test_assert_strcmp(parse("imap://joe@h/INBOX;urlauth=authuser", ALL),
			   "ERR: URLAUTH is only allowed in an absolute message URL");
	test_assert_strcmp(parse("/INBOX/;uid=20;urlauth=authuser", ALL),
			   "ERR: URLAUTH is only allowed in an absolute message URL");
	test_assert_strcmp(parse("imap://joe@h/INBOX/;uid=20;urlauth=nobody", ALL),
			   "ERR: Invalid URLAUTH access identifier");
	test_assert_strcmp(parse("imap://joe@h/INBOX/;uid=20;urlauth=user+", ALL),
			   "ERR: Invalid URLAUTH access identifier");
	test_assert_strcmp(parse("imap://joe@h/INBOX/;uid=20;urlauth=authuser:internal:abc", ALL),
			   "ERR: Invalid URLAUTH token length");
	test_assert_strcmp(parse("imap://joe@h/INBOX/;uid=20;urlauth=authuser:in_ternal:" TOKEN, ALL),
			   "ERR: Invalid URLAUTH mechanism");
	test_assert_strcmp(parse("imap://joe@h/INBOX/;uid=20;urlauth=authuser:internal:" TOKEN "g", ALL),
			   "ERR: Invalid URLAUTH token");
	test_assert_strcmp(parse("imap://joe@h/INBOX/;uid=20;expire=2026-13-01T00:00:00Z;urlauth=authuser", ALL),
			   "ERR: Invalid EXPIRE date-time");
	test_assert_strcmp(parse("imap://joe@h/INBOX/;uid=20;expire=2026-01-01 00:00:00Z;urlauth=authuser", ALL),
			   "ERR: Invalid EXPIRE date-time");
	test_assert_strcmp(parse("imap://joe@h/INBOX/;uid=20;urlauth=authuser;expire=2026-01-01T00:00:00Z", ALL),
			   "ERR: Invalid URLAUTH access identifier");
	test_assert_strcmp(parse("imap://joe@h/INBOX/;uid=20;expire=2026-01-01T00:00:00Z", ALL),
			   "ERR: EXPIRE without URLAUTH");
	test_end();
}

static void test_url_relative(void)
{
	test_begin("imap url relative");
	test_assert_strcmp(parse("/INBOX/;UID=5", IMAP_URL_PARSE_RELATIVE), "mbox=INBOX uid=5");
	test_assert_strcmp(parse("/INBOX;UIDVALIDITY=9/;UID=5/;SECTION=TEXT/;PARTIAL=1.2",
				 IMAP_URL_PARSE_RELATIVE),
			   "mbox=INBOX uv=9 uid=5 sec=TEXT partial=1.2");
	test_assert_strcmp(parse("Drafts/;UID=5", IMAP_URL_PARSE_RELATIVE), "mbox=Drafts uid=5");
	test_assert_strcmp(parse(";UID=5/;SECTION=1", IMAP_URL_PARSE_RELATIVE), "uid=5 sec=1");
	test_assert_strcmp(parse(";SECTION=1/;PARTIAL=3", IMAP_URL_PARSE_RELATIVE), "sec=1 partial=3.0");
	test_assert_strcmp(parse(";PARTIAL=3.4", IMAP_URL_PARSE_RELATIVE), "partial=3.4");
	test_assert_strcmp(parse("//joe@h/x/;UID=1", IMAP_URL_PARSE_RELATIVE),
			   "server(joe;-@h:0) mbox=x uid=1");
	test_assert_strcmp(parse("/INBOX/;UID=5", 0), "ERR: Not an imap:// URL");
	test_assert_strcmp(parse("/;UID=5", IMAP_URL_PARSE_RELATIVE), "ERR: Missing mailbox name");
	test_assert_strcmp(parse(";UIDVALIDITY=5", IMAP_URL_PARSE_RELATIVE),
			   "ERR: UIDVALIDITY without a mailbox");
	test_assert_strcmp(parse("/;SECTION=1", IMAP_URL_PARSE_RELATIVE), "ERR: Missing mailbox name");

	/* resolution against a base (the selected mailbox) */
	struct imap_url base, rel, res;
	const char *error;
	const char *b = "imap://joe@h/Sent;UIDVALIDITY=3/;UID=8/;SECTION=2";
	test_assert(imap_url_parse(b, strlen(b), 0, t_pool(), &base, &error) == 0);
	static const struct {
		const char *rel, *result;
	} tests[] = {
		{ "/INBOX/;UID=5", "server(joe;-@h:0) mbox=INBOX uid=5" },
		{ ";UID=5", "server(joe;-@h:0) mbox=Sent uv=3 uid=5" },
		{ ";SECTION=1", "server(joe;-@h:0) mbox=Sent uv=3 uid=8 sec=1" },
		{ ";PARTIAL=1.1", "server(joe;-@h:0) mbox=Sent uv=3 uid=8 sec=2 partial=1.1" },
		{ "//x@y/z/;UID=1", "server(x;-@y:0) mbox=z uid=1" },
	};
	for (unsigned int i = 0; i < N_ELEMENTS(tests); i++) {
		test_assert(imap_url_parse(tests[i].rel, strlen(tests[i].rel),
					   IMAP_URL_PARSE_RELATIVE, t_pool(), &rel, &error) == 0);
		imap_url_resolve(&rel, &base, &res);
		test_assert_strcmp(describe(&res), tests[i].result);
	}
	test_assert(imap_url_is_message_part(&res));
	test_end();
}

static void test_url_errors(void)
{
	static const struct {
		const char *url, *error;
	} tests[] = {
		{ "", "Empty URL" },
		{ "http://h/", "Not an imap:// URL" },
		{ "imap://", "Empty host" },
		{ "imap://h:70000/", "Invalid port" },
		{ "imap://h:x/", "Invalid port" },
		{ "imap://@h/", "Empty user info" },
		{ "imap://a;AUT=x@h/", "Invalid ;AUTH= in user info" },
		{ "imap://a b@h/", "Invalid character in user name" },
		{ "imap://h h/", "Invalid character in host" },
		{ "imap://[/", "Invalid IP literal host" },
		{ "imap://h/a%2", "Invalid %-encoding in mailbox name" },
		{ "imap://h/a%zz", "Invalid %-encoding in mailbox name" },
		{ "imap://h/a%00b", "mailbox name is not valid UTF-8 text" },
		{ "imap://h/a%0d%0a", "mailbox name is not valid UTF-8 text" },
		{ "imap://h/%ff", "mailbox name is not valid UTF-8 text" },
		{ "imap://h/a b", "Invalid character in mailbox name" },
		{ "imap://h/a;UID=1", "Missing '/' before parameter" },
		{ "imap://h/a/;UID=0", "Invalid UID" },
		{ "imap://h/a/;UID=01", "Invalid UID" },
		{ "imap://h/a/;UID=4294967296", "UID out of range" },
		{ "imap://h/a/;UID=4294967295/;UID=1", "URL parameters out of order" },
		{ "imap://h/a/;UID=1;SECTION=1", "Missing '/' before parameter" },
		{ "imap://h/a/;UID=1/;SECTION=", "Empty section" },
		{ "imap://h/a/;UID=1/;SECTION=%FF", "section is not valid UTF-8 text" },
		{ "imap://h/a/;UID=1/;PARTIAL=", "Invalid partial offset" },
		{ "imap://h/a/;UID=1/;PARTIAL=1.0", "Invalid partial length" },
		{ "imap://h/a/;UID=1/;FOO=1", "Unknown URL parameter" },
		{ "imap://h/a/;SECTION=1", "SECTION or PARTIAL without a UID" },
		{ "imap://h/a/;UID=1?x", "Search without a mailbox" },
		{ "imap://h/a?", "Empty search program" },
		{ "imap://h/a/;UID=1/", "Invalid URL path" },
		{ "imap://hx", NULL },
	};

	test_begin("imap url errors");
	for (unsigned int i = 0; i < N_ELEMENTS(tests); i++) {
		const char *got = parse(tests[i].url, IMAP_URL_PARSE_RELATIVE);
		if (tests[i].error == NULL)
			test_assert(strncmp(got, "ERR: ", 5) != 0);
		else
			test_assert_strcmp(got, t_strconcat("ERR: ", tests[i].error, NULL));
	}
	/* NUL and length bounds */
	struct imap_url url;
	const char *error;
	test_assert(imap_url_parse("imap://h/a\0b", 12, 0, t_pool(), &url, &error) < 0);
	string_t *big = t_str_new(IMAP_URL_MAX_LENGTH + 16);
	str_append(big, "imap://h/");
	while (str_len(big) <= IMAP_URL_MAX_LENGTH)
		str_append_c(big, 'a');
	test_assert(imap_url_parse(str_c(big), str_len(big), 0, t_pool(), &url, &error) < 0);
	str_truncate(big, 9 + IMAP_URL_MAX_MAILBOX + 1);
	test_assert_strcmp(parse(str_c(big), 0), "ERR: Too long mailbox name");
	test_end();
}

static void test_url_output(void)
{
	test_begin("imap url output helpers");
	string_t *s = t_str_new(64);
	imap_url_append_resp_text(s, "/a b]\r\n\x80%", 9);
	test_assert_strcmp(str_c(s), "/a%20b%5D%0D%0A%80%");
	str_truncate(s, 0);
	imap_url_append_encoded(s, "Drafts/äb c:@", true);
	test_assert_strcmp(str_c(s), "Drafts/%C3%A4b%20c:@");
	str_truncate(s, 0);
	imap_url_append_encoded(s, "a/b", false);
	test_assert_strcmp(str_c(s), "a%2Fb");
	test_end();
}

int main(void)
{
	static void (*const tests[])(void) = {
		test_url_absolute, test_url_urlauth, test_url_relative, test_url_errors,
		test_url_output, NULL
	};
	return test_run(tests);
}
