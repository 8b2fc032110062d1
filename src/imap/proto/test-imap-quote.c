/* Unit tests for IMAP output quoting: the chosen form for each kind of
 * string, and that the parser reads every output back unchanged. */
#include "test-common.h"
#include "imap-arg.h"
#include "imap-parser.h"
#include "imap-quote.h"
#include "istream.h"
#include "transport.h"

static void test_imap_append_quoted(void)
{
	static const struct {
		const char *in, *out;
	} tests[] = {
		{ "", "\"\"" },
		{ "abc", "\"abc\"" },
		{ "a\"b\\c", "\"a\\\"b\\\\c\"" },
		{ "line\r\nbreak", "\"line  break\"" },
		{ "F\xc3\xb6\xc3\xb6", "\"F\xc3\xb6\xc3\xb6\"" },
	};
	test_begin("imap_append_quoted");
	for (unsigned int i = 0; i < N_ELEMENTS(tests); i++) {
		string_t *str = t_str_new(64);
		imap_append_quoted(str, tests[i].in);
		test_assert_strcmp(str_c(str), tests[i].out);
	}
	test_end();
}

static void test_imap_append_astring(void)
{
	static const struct {
		const char *in, *out;
	} tests[] = {
		{ "INBOX", "INBOX" },
		{ "Sent.2024-01", "Sent.2024-01" },
		{ "", "\"\"" },
		{ "NIL", "\"NIL\"" },
		{ "nil", "\"nil\"" },
		{ "two words", "\"two words\"" },
		{ "[Gmail]/Sent", "\"[Gmail]/Sent\"" },
		{ "a*b", "\"a*b\"" },
		{ "a%b", "\"a%b\"" },
		{ "(x)", "\"(x)\"" },
		{ "{5}", "\"{5}\"" },
		{ "\\Seen", "\"\\\\Seen\"" },
		{ "q\"uote", "\"q\\\"uote\"" },
		{ "tab\there", "\"tab\there\"" },
		{ "F\xc3\xb6\xc3\xb6", "{5}\r\nF\xc3\xb6\xc3\xb6" },
		{ "a\r\nb", "{4}\r\na\r\nb" },
	};
	test_begin("imap_append_astring");
	for (unsigned int i = 0; i < N_ELEMENTS(tests); i++) {
		string_t *str = t_str_new(64);
		imap_append_astring(str, tests[i].in);
		test_assert_strcmp(str_c(str), tests[i].out);
	}
	/* long strings become literals */
	char *longstr = t_malloc(IMAP_QUOTE_MAX_QUOTED_LEN + 2);
	memset(longstr, 'x', IMAP_QUOTE_MAX_QUOTED_LEN + 1);
	longstr[0] = ' ';
	string_t *str = t_str_new(2048);
	imap_append_astring(str, longstr);
	test_assert(strncmp(str_c(str), "{1025}\r\n ", 9) == 0);
	longstr[IMAP_QUOTE_MAX_QUOTED_LEN] = '\0';
	str_truncate(str, 0);
	imap_append_astring(str, longstr);
	test_assert(str_c(str)[0] == '"');
	test_end();
}

static void test_imap_append_string(void)
{
	string_t *str = t_str_new(64);

	test_begin("imap_append_string and nstring");
	imap_append_nstring(str, NULL);
	str_append_c(str, ' ');
	imap_append_nstring(str, "NIL");
	str_append_c(str, ' ');
	imap_append_nstring(str, "atom");
	str_append_c(str, ' ');
	imap_append_string(str, "x\0y", 3);
	test_assert(str_len(str) == 25);
	test_assert(memcmp(str_data(str), "NIL \"NIL\" \"atom\" {3}\r\nx\x80y", 25) == 0);
	str_truncate(str, 0);
	imap_append_string(str, "", 0);
	test_assert_strcmp(str_c(str), "\"\"");
	test_end();
}

/* Everything written as an astring parses back as the same string. */
static void test_imap_quote_roundtrip(void)
{
	static const char *const strings[] = {
		"INBOX", "", "NIL", "nil", "two words", "[Gmail]/Sent", "a]b", "a[b",
		"\\Seen", "q\"u\\ote", "F\xc3\xb6\xc3\xb6", "a\r\nb", "\r", "\n", "{3}",
		"~{3}", "~", "(", ")", "%", "*", "\x01\x7f", "x\"", "\"",
	};
	static const struct imap_parser_limits limits = { .max_line_length = 4096 };

	test_begin("imap quote: parser reads back what we write");
	for (unsigned int i = 0; i < N_ELEMENTS(strings); i++) {
		string_t *line = t_str_new(128);
		str_append(line, "t CMD ");
		imap_append_astring(line, strings[i]);
		str_append(line, "\r\n");

		struct transport *t = transport_create_memory(str_data(line), str_len(line), 0);
		struct istream *input = i_stream_create(t, 4096);
		struct imap_parser *parser = imap_parser_create(input, &limits);
		const struct imap_arg *args;
		const char *tag, *word, *value = NULL;

		(void)i_stream_read(input);
		test_assert(imap_parser_read_tag(parser, &tag) == 1);
		test_assert(imap_parser_read_word(parser, &word) == 1);
		int ret;
		while ((ret = imap_parser_read_args(parser, 0, &args)) == 0)
			test_assert(imap_parser_want_continuation(parser));
		test_assert(ret == 1);
		if (ret == 1) {
			test_assert(imap_args_count(args) == 1);
			test_assert(imap_arg_get_astring(&args[0], &value));
			test_assert(!imap_arg_is_nil(&args[0]));
			test_assert_strcmp(value, strings[i]);
		}
		imap_parser_destroy(&parser);
		i_stream_destroy(&input);
		transport_destroy(&t);
	}
	test_end();
}

int main(void)
{
	static void (*const tests[])(void) = {
		test_imap_append_quoted,
		test_imap_append_astring,
		test_imap_append_string,
		test_imap_quote_roundtrip,
		NULL
	};
	return test_run(tests);
}
