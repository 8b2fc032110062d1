/* Unit tests of the ManageSieve line parser (whole and byte by byte),
 * string quoting and the capability response. */
#include "test-common.h"
#include "managesieve-capability.h"
#include "managesieve-parser.h"
#include "transport.h"

static const struct managesieve_parser_limits test_limits = {
	.max_line_length = 64, .max_literal_size = 20, .max_args = 4,
};

/* Every line of input as "A:atom S:str L:lit|" or "E<code>:CMD|". */
static const char *parse_all(const char *input, size_t chunk)
{
	struct transport *t = transport_create_memory(input, strlen(input), chunk);
	struct istream *is = i_stream_create(t, 32);
	struct managesieve_parser *parser = managesieve_parser_create(is, &test_limits);
	string_t *out = t_str_new(128);
	ssize_t rret;
	while ((rret = i_stream_read(is)) > 0 || i_stream_get_data_size(is) > 0) {
		const struct managesieve_arg *args;
		unsigned int count;
		int ret;
		while ((ret = managesieve_parser_read(parser, &args, &count)) != 0) {
			if (ret < 0) {
				enum managesieve_parse_error code;
				const char *cmd;
				(void)managesieve_parser_get_error(parser, &code, &cmd);
				str_printfa(out, "E%d:%s|", (int)code, cmd);
				continue;
			}
			for (unsigned int i = 0; i < count; i++) {
				str_printfa(out, "%s%c:%s", i > 0 ? " " : "",
					    args[i].type == MANAGESIEVE_ARG_ATOM ? 'A' :
					    args[i].literal ? 'L' : 'S', args[i].str);
			}
			str_append_c(out, '|');
		}
		if (rret <= 0)
			break;
	}
	managesieve_parser_destroy(&parser);
	i_stream_destroy(&is);
	transport_destroy(&t);
	return str_c(out);
}

static void test_parser_table(void)
{
	static const struct {
		const char *input, *output;
	} tests[] = {
		{ "NOOP\r\n", "A:NOOP|" },
		{ "putscript \"a b\" {5+}\r\nkeep;\r\n", "A:putscript S:a b L:keep;|" },
		{ "PUTSCRIPT \"x\" {3}\r\nabc\r\nNOOP\n", "A:PUTSCRIPT S:x L:abc|A:NOOP|" },
		{ "\"a\\\"b\\\\\"\r\n", "S:a\"b\\|" },
		{ "HAVESPACE \"s\" 100\r\n", "A:HAVESPACE S:s A:100|" },
		{ "\r\n", "|" },
		{ "x {0+}\r\n\r\n", "A:x L:|" },
		/* bad escape, then the next line is fine */
		{ "GETSCRIPT \"a\\b\"\r\nNOOP\r\n", "E1:GETSCRIPT|A:NOOP|" },
		/* no space after a string */
		{ "A \"b\"c\r\nNOOP\r\n", "E1:A|A:NOOP|" },
		/* a literal past the limit is skipped whole, even with CRLFs */
		{ "PUTSCRIPT \"a\" {30+}\r\n0123456789\r\n0123456789\r\n123456\r\nNOOP\r\n",
		  "E3:PUTSCRIPT|A:NOOP|" },
		/* a long line, and a literal announced at its end */
		{ "X aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa {4+}\r\n"
		  "\r\n\r\n\r\nNOOP\r\n", "E2:X|A:NOOP|" },
		{ "A B C D E\r\nNOOP\r\n", "E4:A|A:NOOP|" },
		{ "A {x}\r\nNOOP\r\n", "E1:A|A:NOOP|" },
		{ "A (b)\r\n", "E1:A|" },
		{ "A \"b\r\nNOOP\r\n", "E1:A|A:NOOP|" },
		{ "A\rB\r\n", "E1:A|" },
		{ "A {99999999999999999999+}\r\nNOOP\r\n", "E1:A|A:NOOP|" },
	};
	for (unsigned int i = 0; i < N_ELEMENTS(tests); i++) {
		test_begin(t_strdup_printf("parser %u", i));
		test_assert_strcmp(parse_all(tests[i].input, 0), tests[i].output);
		test_assert_strcmp(parse_all(tests[i].input, 1), tests[i].output);
		test_end();
	}
}

static void test_parser_helpers(void)
{
	test_begin("arg helpers");
	struct managesieve_arg num = { .type = MANAGESIEVE_ARG_ATOM, .str = "123", .size = 3 };
	struct managesieve_arg big = { .type = MANAGESIEVE_ARG_ATOM,
		.str = "99999999999999999999", .size = 20 };
	struct managesieve_arg str = { .type = MANAGESIEVE_ARG_STRING, .str = "1", .size = 1 };
	uint64_t n;
	const char *s;
	test_assert(managesieve_arg_get_number(&num, &n) && n == 123);
	test_assert(!managesieve_arg_get_number(&big, &n));
	test_assert(!managesieve_arg_get_number(&str, &n));
	test_assert(managesieve_arg_get_string(&str, &s) && strcmp(s, "1") == 0);
	test_assert(!managesieve_arg_get_string(&num, &s));
	test_end();
}

static void test_quote(void)
{
	test_begin("quote");
	string_t *str = t_str_new(64);
	managesieve_quote_append_str(str, "a\"b\\c");
	test_assert_strcmp(str_c(str), "\"a\\\"b\\\\c\"");
	str_truncate(str, 0);
	managesieve_quote_append_str(str, "line 1\r\nline 2");
	test_assert_strcmp(str_c(str), "{14}\r\nline 1\r\nline 2");
	test_end();
}

static void test_capability(void)
{
	test_begin("capability");
	static const char *const exts[] = { "fileinto", "enotify", NULL };
	const char *notify;
	const char *list = managesieve_capability_sieve_list(exts, &notify);
	test_assert_strcmp(list, "fileinto enotify");
	test_assert_strcmp(notify, "mailto");
	struct managesieve_capability_opts opts = {
		.sasl_mechs = "PLAIN", .sieve_extensions = list, .notify_methods = notify,
		.max_redirects = 4, .starttls = true, .unauthenticate = true,
	};
	string_t *str = t_str_new(256);
	managesieve_capability_append(str, &opts);
	test_assert_strcmp(str_c(str),
		"\"IMPLEMENTATION\" \"Tern\"\r\n\"SASL\" \"PLAIN\"\r\n"
		"\"SIEVE\" \"fileinto enotify\"\r\n\"NOTIFY\" \"mailto\"\r\n"
		"\"MAXREDIRECTS\" \"4\"\r\n\"STARTTLS\"\r\n\"VERSION\" \"1.0\"\r\n"
		"\"UNAUTHENTICATE\"\r\n");
	test_end();
}

int main(void)
{
	static void (*const tests[])(void) = {
		test_parser_table, test_parser_helpers, test_quote, test_capability, NULL,
	};
	return test_run(tests);
}
