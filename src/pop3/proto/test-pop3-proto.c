/* Unit tests of the POP3 grammar: line reading (byte at a time, too-long
 * lines, NULs), command splitting, numbers, CAPA, UIDL templates and the
 * RETR/TOP encoder (byte-at-a-time equivalence, dot-stuffing, bare LF,
 * final lines without CRLF, TOP limits). */
#include "test-common.h"
#include "pop3-capability.h"
#include "pop3-command.h"
#include "pop3-encoder.h"
#include "pop3-line-reader.h"
#include "pop3-uidl.h"

static void test_line_reader(void)
{
	/* the reader itself: src/lib/test-line-reader.c; here POP3's texts */
	test_begin("line reader");
	/* a NUL inside a line */
	static const char nul_input[] = "US\0ER x\r\nNOOP\r\n";
	struct transport *t = transport_create_memory(nul_input, sizeof(nul_input) - 1, 0);
	struct istream *is = i_stream_create(t, 64);
	struct line_reader *reader = pop3_line_reader_create(is, 60);
	const char *line, *error;
	test_assert(i_stream_read(is) > 0);
	test_assert(line_reader_read(reader, &line, &error) == -1);
	test_assert_strcmp(error, "Line contains a NUL byte.");
	test_assert(line_reader_read(reader, &line, &error) == 1);
	test_assert_strcmp(line, "NOOP");
	test_assert(line_reader_read(reader, &line, &error) == 0);
	line_reader_destroy(&reader);
	i_stream_destroy(&is);
	transport_destroy(&t);
	test_end();
}

static void test_command_parse(void)
{
	test_begin("command parse");
	struct pop3_command_line cmd;
	test_assert(pop3_command_parse("stat", &cmd) == 1);
	test_assert_strcmp(cmd.name, "STAT");
	test_assert_strcmp(cmd.rest, "");
	test_assert(pop3_command_parse("Pass  my secret ", &cmd) == 1);
	test_assert_strcmp(cmd.name, "PASS");
	test_assert_strcmp(cmd.rest, " my secret ");
	test_assert(pop3_command_parse("UTF8", &cmd) == 1);
	test_assert_strcmp(cmd.name, "UTF8");
	test_assert(pop3_command_parse("", &cmd) == -1);
	test_assert(pop3_command_parse(" STAT", &cmd) == -1);
	test_assert(pop3_command_parse("STATS", &cmd) == -1);
	test_assert(pop3_command_parse("ST-T", &cmd) == -1);
	test_assert(pop3_command_parse("STAT\t1", &cmd) == -1);

	const char *args[POP3_MAX_ARGS];
	test_assert(pop3_command_split_args("", t_pool(), args) == 0);
	test_assert(pop3_command_split_args("   ", t_pool(), args) == 0);
	test_assert(pop3_command_split_args("1", t_pool(), args) == 1);
	test_assert_strcmp(args[0], "1");
	test_assert(pop3_command_split_args(" 1  20 ", t_pool(), args) == 2);
	test_assert_strcmp(args[0], "1");
	test_assert_strcmp(args[1], "20");
	test_assert(pop3_command_split_args("1 2 3", t_pool(), args) == 3);

	uint32_t num;
	test_assert(pop3_parse_number("0", &num) == 0 && num == 0);
	test_assert(pop3_parse_number("4294967295", &num) == 0 && num == 4294967295u);
	test_assert(pop3_parse_number("4294967296", &num) == -1);
	test_assert(pop3_parse_number("99999999999999999999999", &num) == -1);
	test_assert(pop3_parse_number("", &num) == -1);
	test_assert(pop3_parse_number("-1", &num) == -1);
	test_assert(pop3_parse_number("+1", &num) == -1);
	test_assert(pop3_parse_number("1a", &num) == -1);

	test_assert_strcmp(pop3_printable("abc"), "abc");
	test_assert_strcmp(pop3_printable("a\x01"), "(unprintable)");
	test_assert_strcmp(pop3_printable("xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"),
			   "(unprintable)");
	test_end();
}

static void test_capability(void)
{
	test_begin("capability");
	string_t *str = t_str_new(256);
	struct pop3_capability_opts opts = {
		.stls = true, .user = true, .sasl_mechs = "PLAIN LOGIN",
	};
	pop3_capability_append(str, &opts);
	test_assert_strcmp(str_c(str),
		"TOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\nPIPELINING\r\nUSER\r\n"
		"SASL PLAIN LOGIN\r\nSTLS\r\nEXPIRE NEVER\r\nLOGIN-DELAY 0\r\n"
		"UTF8 USER\r\nIMPLEMENTATION Tern\r\n");
	str_truncate(str, 0);
	opts = (struct pop3_capability_opts){ .authenticated = true, .stls = true,
					      .user = true, .login_delay_secs = 60 };
	pop3_capability_append(str, &opts);
	test_assert_strcmp(str_c(str),
		"TOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\nPIPELINING\r\n"
		"EXPIRE NEVER\r\nLOGIN-DELAY 60\r\nUTF8 USER\r\nIMPLEMENTATION Tern\r\n");
	test_end();
}

static void test_uidl(void)
{
	test_begin("uidl");
	static const struct {
		const char *format, *output;
	} tests[] = {
		/* Dovecot's default: what its pop3 sends for UID 1 in a
		   mailbox with UIDVALIDITY 1795296068 */
		{ "%08Xu%08Xv", "000000016b020b44" },
		{ "%u.%v", "1.1795296068" },
		{ "%Xv", "6b020b44" },
		{ "%UXv", "6B020B44" },
		{ "%g", "ABCdef0123" },
		{ "%Lg", "abcdef0123" },
		{ "%4g", "ABCd" },
		{ "%012u", "000000000001" },
		{ "UID%u-%v", "UID1-1795296068" },
		{ "%%%u", "%1" },
		{ "%u%", "1" },
		{ "%q%u", "1" },
	};
	struct pop3_uidl_vars vars = { .uid = 1, .uidvalidity = 1795296068, .guid = "ABCdef0123" };
	for (unsigned int i = 0; i < N_ELEMENTS(tests); i++) {
		string_t *str = t_str_new(64);
		pop3_uidl_expand(str, tests[i].format, &vars);
		test_assert_strcmp(str_c(str), tests[i].output);
	}
	vars.uid = 0xffffffff;
	string_t *str = t_str_new(64);
	pop3_uidl_expand(str, "%08Xu%08Xv", &vars);
	test_assert_strcmp(str_c(str), "ffffffff6b020b44");
	test_end();
}

static const char *encode(const char *input, size_t input_len, uint64_t lines, size_t chunk)
{
	struct pop3_encoder enc;
	string_t *out = t_str_new(256);
	pop3_encoder_init(&enc, lines);
	size_t pos = 0;
	while (pos < input_len && !pop3_encoder_is_done(&enc)) {
		size_t n = chunk == 0 ? input_len - pos : I_MIN(chunk, input_len - pos);
		size_t used = pop3_encoder_feed(&enc, input + pos, n, out);
		test_assert(used == n || pop3_encoder_is_done(&enc));
		pos += n;
	}
	pop3_encoder_finish(&enc, out);
	return str_c(out);
}

static void test_encoder(void)
{
	test_begin("encoder");
	static const struct {
		const char *input;
		uint64_t lines;
		const char *output;
	} tests[] = {
		{ "", POP3_ENCODER_ALL_LINES, ".\r\n" },
		{ "A: b\r\n\r\nbody\r\n", POP3_ENCODER_ALL_LINES, "A: b\r\n\r\nbody\r\n.\r\n" },
		{ "A: b\n\nbody\n.dot\nlast", POP3_ENCODER_ALL_LINES,
		  "A: b\r\n\r\nbody\r\n..dot\r\nlast\r\n.\r\n" },
		{ ".\r\n..\r\n.x", POP3_ENCODER_ALL_LINES, "..\r\n...\r\n..x\r\n.\r\n" },
		{ "a\rb\r\n", POP3_ENCODER_ALL_LINES, "a\rb\r\n.\r\n" },
		{ "end\r", POP3_ENCODER_ALL_LINES, "end\r\r\n.\r\n" },
		{ "end\r\n\r", POP3_ENCODER_ALL_LINES, "end\r\n\r\r\n.\r\n" },
		{ "A: b\r\n\r\n1\r\n2\r\n3\r\n", 0, "A: b\r\n\r\n.\r\n" },
		{ "A: b\r\n\r\n1\r\n2\r\n3\r\n", 2, "A: b\r\n\r\n1\r\n2\r\n.\r\n" },
		{ "A: b\r\n\r\n1\r\n2\r\n3\r\n", 3, "A: b\r\n\r\n1\r\n2\r\n3\r\n.\r\n" },
		{ "A: b\r\n\r\n1\r\n2\r\n3", 100, "A: b\r\n\r\n1\r\n2\r\n3\r\n.\r\n" },
		{ "A: b\n\n\n\nx\n", 1, "A: b\r\n\r\n\r\n.\r\n" },
		{ "A: b\r\nC: d", 0, "A: b\r\nC: d\r\n.\r\n" },
		{ "\r\nbody\r\n", 0, "\r\n.\r\n" },
		{ "A: b\r\n\r\n.1\r\n.2\r\n", 1, "A: b\r\n\r\n..1\r\n.\r\n" },
		{ "A: b\r\n \r\nnot body\r\n\r\nbody\r\n", 0,
		  "A: b\r\n \r\nnot body\r\n\r\n.\r\n" },
	};
	for (unsigned int i = 0; i < N_ELEMENTS(tests); i++) {
		for (size_t chunk = 0; chunk <= 3; chunk++) {
			const char *got = encode(tests[i].input, strlen(tests[i].input),
						 tests[i].lines, chunk);
			test_assert_strcmp(got, tests[i].output);
		}
	}
	/* RETR's octets before the terminator are RFC822.SIZE (bare LF
	   counted as CRLF) for messages ending in a line end */
	const char *msg = "From: a\nTo: b\r\n\n.x\nline\r\n";
	const char *out = encode(msg, strlen(msg), POP3_ENCODER_ALL_LINES, 0);
	size_t stuffed = 1, bare_lf = 3;
	test_assert(strlen(out) - 3 - stuffed == strlen(msg) + bare_lf);
	test_end();
}

int main(void)
{
	static void (*const tests[])(void) = {
		test_line_reader, test_command_parse, test_capability, test_uidl,
		test_encoder, NULL
	};
	return test_run(tests);
}
