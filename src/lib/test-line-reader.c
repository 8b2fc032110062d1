/* Unit tests of the bounded line reader: lines split across reads of any
 * size, CRLF and bare LF, too-long lines reported once and skipped in
 * sync, NUL bytes, and the caller's error texts. */
#include "test-common.h"
#include "buffer.h"
#include "line-reader.h"
#include "transport.h"

static const struct line_reader_errors test_errors = {
	.too_long = "Line too long.",
	.nul = "Line contains a NUL byte.",
};

/* Reads all lines of input with chunk-sized reads; results are joined as
   "line|" or "ERR:<error>|". */
static const char *read_all_lines(const char *input, size_t chunk, size_t max_length)
{
	struct transport *t = transport_create_memory(input, strlen(input), chunk);
	struct istream *is = i_stream_create(t, max_length + 2);
	struct line_reader *reader = line_reader_create(is, max_length, &test_errors);
	string_t *out = t_str_new(256);
	for (;;) {
		const char *line, *error;
		int ret;
		while ((ret = line_reader_read(reader, &line, &error)) != 0) {
			if (ret > 0)
				str_printfa(out, "%s|", line);
			else
				str_printfa(out, "ERR:%s|", error);
		}
		if (i_stream_read(is) == -1)
			break;
	}
	line_reader_destroy(&reader);
	i_stream_destroy(&is);
	transport_destroy(&t);
	return str_c(out);
}

static void test_line_reader(void)
{
	test_begin("line reader");
	static const struct {
		const char *input, *output;
		size_t max;
	} tests[] = {
		{ "STAT\r\nLIST 1\nQUIT\r\n", "STAT|LIST 1|QUIT|", 20 },
		{ "\r\n\n", "||", 20 },
		{ "no end", "", 20 },
		{ "12345678901234567890\r\nok\r\n", "12345678901234567890|ok|", 20 },
		{ "123456789012345678901\r\nok\r\n", "ERR:Line too long.|ok|", 20 },
		{ "1234567890123456789012345678901234567890\r\nok\r\n",
		  "ERR:Line too long.|ok|", 20 },
		{ "a\r\r\n", "a\r|", 20 },
	};
	for (unsigned int i = 0; i < N_ELEMENTS(tests); i++) {
		for (size_t chunk = 0; chunk <= 3; chunk++) {
			const char *got = read_all_lines(tests[i].input, chunk, tests[i].max);
			test_assert_strcmp(got, tests[i].output);
		}
	}
	/* a NUL inside a line */
	static const char nul_input[] = "US\0ER x\r\nNOOP\r\n";
	struct transport *t = transport_create_memory(nul_input, sizeof(nul_input) - 1, 0);
	struct istream *is = i_stream_create(t, 64);
	struct line_reader *reader = line_reader_create(is, 60, &test_errors);
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

int main(void)
{
	static void (*const tests[])(void) = { test_line_reader, NULL };
	return test_run(tests);
}
