/* Tests of the auth protocol framing: tab-escaping both ways, field
 * splitting with its limit, bounded line reading fed byte by byte, and
 * cookies. */
#include "test-common.h"
#include "auth-client-proto.h"
#include "transport.h"

static void test_proto_escape(void)
{
	static const struct {
		const char *in, *out;
	} tests[] = {
		{ "", "" },
		{ "plain", "plain" },
		{ "a\tb", "a\001tb" },
		{ "line\nbreak\r", "line\001nbreak\001r" },
		{ "\001", "\0011" },
		{ "x=\t\001\n", "x=\001t\0011\001n" },
	};

	test_begin("auth proto escape");
	for (unsigned int i = 0; i < N_ELEMENTS(tests); i++) {
		string_t *str = t_str_new(32);
		auth_proto_escape(str, tests[i].in);
		test_assert_strcmp(str_c(str), tests[i].out);
		char *copy = t_strdup(str_c(str));
		test_assert(auth_proto_unescape(copy) == 0);
		test_assert_strcmp(copy, tests[i].in);
	}
	test_end();
}

static void test_proto_unescape(void)
{
	char a[] = "a\001xb", b[] = "end\001", c[] = "nul\0010", d[] = "\001t\001t";

	test_begin("auth proto unescape");
	/* an unknown escape stands for the character itself */
	test_assert(auth_proto_unescape(a) == 0);
	test_assert_strcmp(a, "axb");
	test_assert(auth_proto_unescape(b) == 0);
	test_assert_strcmp(b, "end");
	/* NUL can't be carried in a C string */
	test_assert(auth_proto_unescape(c) == -1);
	test_assert(auth_proto_unescape(d) == 0);
	test_assert_strcmp(d, "\t\t");
	test_end();
}

static void test_proto_split(void)
{
	const char *args[4];
	char l1[] = "AUTH\t1\tPLAIN\tservice=imap";
	char l2[] = "", l3[] = "a\tb\tc\td\te", l4[] = "x\t\001ty\t", l5[] = "x\t\0010";

	test_begin("auth proto split");
	test_assert(auth_proto_split(l1, args, 4) == 4);
	test_assert_strcmp(args[0], "AUTH");
	test_assert_strcmp(args[3], "service=imap");
	test_assert(auth_proto_split(l2, args, 4) == 1);
	test_assert_strcmp(args[0], "");
	/* more fields than room */
	test_assert(auth_proto_split(l3, args, 4) == -1);
	test_assert(auth_proto_split(l4, args, 4) == 3);
	test_assert_strcmp(args[1], "\ty");
	test_assert_strcmp(args[2], "");
	test_assert(auth_proto_split(l5, args, 4) == -1);
	test_assert_strcmp(auth_proto_arg_value("resp=abc", "resp"), "abc");
	test_assert_strcmp(auth_proto_arg_value("resp=", "resp"), "");
	test_assert(auth_proto_arg_value("resp", "resp") == NULL);
	test_assert(auth_proto_arg_value("response=x", "resp") == NULL);
	test_end();
}

/* Reads every line of data through a 1-byte-at-a-time transport. */
static unsigned int test_read_lines(const char *data, size_t max_len, string_t *out,
				    bool *error_r)
{
	size_t len = strlen(data);
	struct transport *t = transport_create_memory(data, len, 1);
	struct istream *input = i_stream_create(t, max_len + 2);
	unsigned int lines = 0;
	const char *error;
	char *line;

	*error_r = false;
	for (;;) {
		int ret = auth_proto_next_line(input, max_len, &line, &error);
		if (ret < 0) {
			*error_r = true;
			break;
		}
		if (ret > 0) {
			str_printfa(out, "[%s]", line);
			lines++;
			continue;
		}
		if (i_stream_read(input) < 0)
			break;
	}
	i_stream_destroy(&input);
	transport_destroy(&t);
	return lines;
}

static void test_proto_next_line(void)
{
	string_t *out = t_str_new(64);
	bool error;

	test_begin("auth proto next_line");
	test_assert(test_read_lines("VERSION\t1\t2\nDONE\npartial", 32, out, &error) == 2);
	test_assert(!error);
	test_assert_strcmp(str_c(out), "[VERSION\t1\t2][DONE]");
	/* exactly at the limit is fine, one more is not */
	str_truncate(out, 0);
	test_assert(test_read_lines("1234567890\n", 10, out, &error) == 1 && !error);
	str_truncate(out, 0);
	test_assert(test_read_lines("12345678901\nok\n", 10, out, &error) == 0 && error);
	/* a line that never ends stops at the limit, not at memory's end */
	str_truncate(out, 0);
	test_assert(test_read_lines("ok\n0123456789012345678901234567890", 10, out, &error) == 1 &&
		    error);
	str_truncate(out, 0);
	const char nul_line[] = "a\0b\nc\n";
	struct transport *t = transport_create_memory(nul_line, sizeof(nul_line) - 1, 0);
	struct istream *input = i_stream_create(t, 64);
	const char *err;
	char *line;
	test_assert(i_stream_read(input) > 0);
	test_assert(auth_proto_next_line(input, 32, &line, &err) == -1);
	test_assert_strcmp(err, "NUL in line");
	i_stream_destroy(&input);
	transport_destroy(&t);
	test_end();
}

static void test_proto_cookie(void)
{
	unsigned char bytes[AUTH_PROTO_COOKIE_HEX_LEN / 2];
	char hex[AUTH_PROTO_COOKIE_HEX_LEN + 1];

	test_begin("auth proto cookie");
	for (unsigned int i = 0; i < sizeof(bytes); i++)
		bytes[i] = (unsigned char)(i * 17);
	auth_proto_cookie_hex(bytes, hex);
	test_assert_strcmp(hex, "00112233445566778899aabbccddeeff");
	test_assert(auth_proto_cookie_is_valid(hex));
	test_assert(!auth_proto_cookie_is_valid("00112233445566778899AABBCCDDEEFF"));
	test_assert(!auth_proto_cookie_is_valid("0011"));
	test_assert(!auth_proto_cookie_is_valid("00112233445566778899aabbccddeeff0"));
	test_assert(!auth_proto_cookie_is_valid(""));
	test_end();
}

int main(void)
{
	static void (*const tests[])(void) = {
		test_proto_escape,
		test_proto_unescape,
		test_proto_split,
		test_proto_next_line,
		test_proto_cookie,
		NULL,
	};
	return test_run(tests);
}
