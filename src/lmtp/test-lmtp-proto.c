/* Unit tests of the LMTP grammar: line reading (byte at a time, too-long
 * lines, NULs), command names, MAIL/RCPT paths and parameters, BDAT
 * arguments, detail splitting and the DATA decoder (byte-at-a-time
 * equivalence, dot-unstuffing, bare LF, the end line). */
#include "test-common.h"
#include "lmtp-proto.h"

static void test_line_reader(void)
{
	/* the reader itself: src/lib/test-line-reader.c; here LMTP's texts */
	test_begin("line reader");
	static const char nul[] = "a\0b\r\nok\r\n";
	struct transport *t = transport_create_memory(nul, sizeof(nul) - 1, 0);
	struct istream *is = i_stream_create(t, 64);
	struct line_reader *reader = lmtp_line_reader_create(is, 20);
	const char *line, *error;
	(void)i_stream_read(is);
	test_assert(line_reader_read(reader, &line, &error) == -1);
	test_assert(strstr(error, "NUL") != NULL);
	test_assert(line_reader_read(reader, &line, &error) == 1);
	test_assert_strcmp(line, "ok");
	line_reader_destroy(&reader);
	i_stream_destroy(&is);
	transport_destroy(&t);
	test_end();
}

static void test_command_parse(void)
{
	test_begin("command parse");
	const char *args;
	test_assert(lmtp_proto_command_parse("lhlo example.com", &args) == LMTP_CMD_LHLO);
	test_assert_strcmp(args, "example.com");
	test_assert(lmtp_proto_command_parse("MAIL  FROM:<>", &args) == LMTP_CMD_MAIL);
	test_assert_strcmp(args, "FROM:<>");
	test_assert(lmtp_proto_command_parse("Data", &args) == LMTP_CMD_DATA);
	test_assert_strcmp(args, "");
	test_assert(lmtp_proto_command_parse("DATAX", &args) == LMTP_CMD_UNKNOWN);
	test_assert(lmtp_proto_command_parse("", &args) == LMTP_CMD_UNKNOWN);
	test_assert(lmtp_proto_command_parse("EHLO x", &args) == LMTP_CMD_EHLO);
	test_assert(lmtp_proto_command_parse("bdat 10 LAST", &args) == LMTP_CMD_BDAT);
	test_end();
}

static void test_parse_mail(void)
{
	test_begin("MAIL FROM");
	static const struct {
		const char *args, *addr; /* addr NULL: error expected, error prefix */
		const char *error;
		uint64_t size;
		enum lmtp_body body;
		bool smtputf8;
	} tests[] = {
		{ "FROM:<>", "", NULL, 0, 0, false },
		{ "FROM:<a@b.example>", "a@b.example", NULL, 0, 0, false },
		{ "from: <a.b@c-d.example>", "a.b@c-d.example", NULL, 0, 0, false },
		{ "FROM:<@r1.example,@r2.example:x@y.example>", "x@y.example", NULL, 0, 0, false },
		{ "FROM:<\"a b\"@c.example>", "\"a b\"@c.example", NULL, 0, 0, false },
		{ "FROM:<\"a\\\"b\"@c.example>", "\"a\\\"b\"@c.example", NULL, 0, 0, false },
		{ "FROM:<x@[192.0.2.1]>", "x@[192.0.2.1]", NULL, 0, 0, false },
		{ "FROM:<a@b.example> SIZE=1000 BODY=8BITMIME SMTPUTF8", "a@b.example", NULL,
		  1000, LMTP_BODY_8BITMIME, true },
		{ "FROM:<a@b.example> body=7bit", "a@b.example", NULL, 0, LMTP_BODY_7BIT, false },
		{ "FROM:<j\xc3\xbcrgen@b.example> SMTPUTF8", "j\xc3\xbcrgen@b.example", NULL, 0, 0, true },
		{ "FROM:a@b.example", NULL, "501 5.1.7", 0, 0, false },
		{ "TO:<a@b.example>", NULL, "501 5.5.4", 0, 0, false },
		{ "FROM:<a@b.example", NULL, "501 5.1.7", 0, 0, false },
		{ "FROM:<a@>", NULL, "501 5.1.7", 0, 0, false },
		{ "FROM:<@b.example>", NULL, "501 5.1.7", 0, 0, false },
		{ "FROM:<a..b@c.example>", NULL, "501 5.1.7", 0, 0, false },
		{ "FROM:<a@-b.example>", NULL, "501 5.1.7", 0, 0, false },
		{ "FROM:<a@b-.example>", NULL, "501 5.1.7", 0, 0, false },
		{ "FROM:<postmaster>", NULL, "501 5.1.7", 0, 0, false },
		{ "FROM:<a@b.example>x", NULL, "501 5.5.4", 0, 0, false },
		{ "FROM:<a@b.example> SIZE=", NULL, "501 5.5.4", 0, 0, false },
		{ "FROM:<a@b.example> SIZE=12x", NULL, "501 5.5.4", 0, 0, false },
		{ "FROM:<a@b.example> SIZE=123456789012345678901", NULL, "501 5.5.4", 0, 0, false },
		{ "FROM:<a@b.example> SIZE=1 SIZE=2", NULL, "501 5.5.4", 0, 0, false },
		{ "FROM:<a@b.example> BODY=BINARYMIME", NULL, "555 5.5.4", 0, 0, false },
		{ "FROM:<a@b.example> AUTH=<>", NULL, "555 5.5.4", 0, 0, false },
		{ "FROM:<a@b.example> SMTPUTF8=yes", NULL, "501 5.5.4", 0, 0, false },
	};
	for (unsigned int i = 0; i < N_ELEMENTS(tests); i++) {
		struct lmtp_address addr;
		struct lmtp_mail_params params;
		const char *error = NULL;
		int ret = lmtp_proto_parse_mail(tests[i].args, t_pool(), &addr, &params, &error);
		if (tests[i].addr == NULL) {
			test_assert(ret < 0);
			if (ret < 0)
				test_assert(strncmp(error, tests[i].error, 9) == 0);
			continue;
		}
		test_assert(ret == 0);
		if (ret < 0)
			continue;
		test_assert_strcmp(lmtp_address_to_string(&addr, t_pool()), tests[i].addr);
		test_assert(params.size == tests[i].size);
		test_assert(params.body == tests[i].body);
		test_assert(params.smtputf8 == tests[i].smtputf8);
	}
	test_end();
}

static void test_parse_rcpt(void)
{
	test_begin("RCPT TO");
	struct lmtp_address addr;
	const char *error;
	test_assert(lmtp_proto_parse_rcpt("TO:<alice+box@example.com>", t_pool(), &addr, &error) == 0);
	test_assert_strcmp(addr.localpart, "alice+box");
	test_assert_strcmp(addr.domain, "example.com");
	test_assert(lmtp_proto_parse_rcpt("TO:<Postmaster>", t_pool(), &addr, &error) == 0);
	test_assert_strcmp(addr.localpart, "Postmaster");
	test_assert(addr.domain == NULL);
	test_assert(lmtp_proto_parse_rcpt("TO:<>", t_pool(), &addr, &error) < 0);
	test_assert(lmtp_proto_parse_rcpt("TO:<bob>", t_pool(), &addr, &error) < 0);
	test_assert(lmtp_proto_parse_rcpt("TO:<a@b.c> NOTIFY=NEVER", t_pool(), &addr, &error) < 0);
	test_assert(strncmp(error, "555 5.5.4", 9) == 0);
	test_assert(lmtp_proto_parse_rcpt("FROM:<a@b.c>", t_pool(), &addr, &error) < 0);
	test_assert(lmtp_proto_parse_rcpt("TO:<a\x01@b.c>", t_pool(), &addr, &error) < 0);
	/* a local part over 64 octets (RFC 5321 §4.5.3.1.1) */
	test_assert(lmtp_proto_parse_rcpt(t_strdup_printf("TO:<%065d@b.c>", 1), t_pool(),
					  &addr, &error) < 0);
	test_end();
}

static void test_parse_bdat(void)
{
	test_begin("BDAT");
	uint64_t size;
	bool last;
	const char *error;
	test_assert(lmtp_proto_parse_bdat("100", &size, &last, &error) == 0 && size == 100 && !last);
	test_assert(lmtp_proto_parse_bdat("0 LAST", &size, &last, &error) == 0 && size == 0 && last);
	test_assert(lmtp_proto_parse_bdat("5 last", &size, &last, &error) == 0 && last);
	test_assert(lmtp_proto_parse_bdat("", &size, &last, &error) < 0);
	test_assert(lmtp_proto_parse_bdat("x", &size, &last, &error) < 0);
	test_assert(lmtp_proto_parse_bdat("5 FIRST", &size, &last, &error) < 0);
	test_assert(lmtp_proto_parse_bdat("-5", &size, &last, &error) < 0);
	test_assert(lmtp_proto_parse_bdat("99999999999999999999999", &size, &last, &error) < 0);
	test_end();
}

static void test_detail_and_lhlo(void)
{
	test_begin("detail, LHLO name");
	const char *user, *detail;
	lmtp_address_split_detail("alice+box", '+', t_pool(), &user, &detail);
	test_assert_strcmp(user, "alice");
	test_assert_strcmp(detail, "box");
	lmtp_address_split_detail("alice+a+b", '+', t_pool(), &user, &detail);
	test_assert_strcmp(user, "alice");
	test_assert_strcmp(detail, "a+b");
	lmtp_address_split_detail("alice", '+', t_pool(), &user, &detail);
	test_assert_strcmp(user, "alice");
	test_assert(detail == NULL);
	lmtp_address_split_detail("+alice", '+', t_pool(), &user, &detail);
	test_assert_strcmp(user, "+alice");
	test_assert(detail == NULL);
	lmtp_address_split_detail("alice+", '+', t_pool(), &user, &detail);
	test_assert_strcmp(detail, "");
	lmtp_address_split_detail("a+b", '\0', t_pool(), &user, &detail);
	test_assert_strcmp(user, "a+b");
	test_assert(lmtp_proto_lhlo_name_is_valid("mx.example.com"));
	test_assert(lmtp_proto_lhlo_name_is_valid("[127.0.0.1]"));
	test_assert(!lmtp_proto_lhlo_name_is_valid(""));
	test_assert(!lmtp_proto_lhlo_name_is_valid("a b"));
	test_assert(!lmtp_proto_lhlo_name_is_valid("a\x7f"));
	test_end();
}

static const char *decode(const char *input, size_t len, size_t chunk, int *ret_r,
			  size_t *consumed_r)
{
	struct lmtp_data_decoder dec = { 0 };
	buffer_t *out = buffer_create(t_pool(), 64);
	size_t pos = 0;
	int ret = 0;
	while (pos < len && ret == 0) {
		size_t n = chunk == 0 ? len - pos : I_MIN(chunk, len - pos), consumed;
		ret = lmtp_data_decode(&dec, (const unsigned char *)input + pos, n, &consumed, out);
		pos += consumed;
		if (ret == 0)
			i_assert(consumed == n);
	}
	*ret_r = ret;
	*consumed_r = pos;
	return t_strndup(out->data, out->used);
}

static void test_data_decode(void)
{
	test_begin("DATA decoder");
	static const struct {
		const char *input, *output;
		int ret;
		size_t consumed; /* 0: all */
	} tests[] = {
		{ ".\r\n", "", 1, 0 },
		{ "a\r\n.\r\n", "a\r\n", 1, 0 },
		{ "a\r\n.\r\nRSET\r\n", "a\r\n", 1, 6 },
		{ "..\r\n.\r\n", ".\r\n", 1, 0 },
		{ "..x\r\n...\r\n.\r\n", ".x\r\n..\r\n", 1, 0 },
		{ "a\nb\n.\n", "a\r\nb\r\n", 1, 0 },
		{ "a\r\rb\r\n.\r\n", "a\r\rb\r\n", 1, 0 },
		{ "a.\r\n .\r\n.\r\n", "a.\r\n .\r\n", 1, 0 },
		{ ".\rx\r\n.\r\n", "\rx\r\n", 1, 0 },
		{ "abc\r\n.", "abc\r\n", 0, 0 },
		{ "abc\r", "abc", 0, 0 },
		{ "x\r\n.x\r\n.\r\n", "x\r\nx\r\n", 1, 0 },
	};
	for (unsigned int i = 0; i < N_ELEMENTS(tests); i++) {
		size_t len = strlen(tests[i].input);
		for (size_t chunk = 0; chunk <= 3; chunk++) {
			int ret;
			size_t consumed;
			const char *got = decode(tests[i].input, len, chunk, &ret, &consumed);
			test_assert_strcmp(got, tests[i].output);
			test_assert(ret == tests[i].ret);
			test_assert(consumed == (tests[i].consumed == 0 ? len : tests[i].consumed));
		}
	}
	test_end();
}

int main(void)
{
	static void (*const tests[])(void) = {
		test_line_reader, test_command_parse, test_parse_mail, test_parse_rcpt,
		test_parse_bdat, test_detail_and_lhlo, test_data_decode, NULL
	};
	return test_run(tests);
}
