/* libFuzzer target for the POP3 grammar (src/pop3/proto): reads the input
 * as command lines with a small line limit (the bounded line reader),
 * parses each into a keyword and arguments, parses the arguments as
 * message numbers and quotes them back as -ERR text; then runs the
 * RETR/TOP encoder over the input as a message, all at once and byte by
 * byte: both runs must give the same bytes, every LF must follow a CR, and
 * every line that begins with "." must be stuffed (RFC 1939 §3). */
#include "lib.h"
#include "pool.h"
#include "buffer.h"
#include "istream.h"
#include "pop3-command.h"
#include "pop3-encoder.h"
#include "pop3-line-reader.h"
#include "transport.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_LINE 256

static void fuzz_line(const char *line)
{
	struct pop3_command_line cmd;
	const char *args[POP3_MAX_ARGS];
	if (pop3_command_parse(line, &cmd) < 0)
		return;
	if (strlen(cmd.name) < 1 || strlen(cmd.name) > 4)
		__builtin_trap();
	unsigned int count = pop3_command_split_args(cmd.rest, t_pool(), args);
	for (unsigned int i = 0; i < count && i < POP3_MAX_ARGS; i++) {
		uint32_t num;
		if (pop3_parse_number(args[i], &num) == 0 && args[i][0] == '\0')
			__builtin_trap();
		/* quoted back to the client: printable ASCII only */
		for (const char *p = pop3_printable(args[i]); *p != '\0'; p++) {
			if (*p < 0x20 || *p > 0x7e)
				__builtin_trap();
		}
	}
}

static void fuzz_lines(const uint8_t *data, size_t size)
{
	struct transport *t = transport_create_memory(data, size, 5);
	struct istream *input = i_stream_create(t, FUZZ_MAX_LINE + 2);
	struct line_reader *reader = pop3_line_reader_create(input, FUZZ_MAX_LINE);
	for (;;) {
		const char *line, *error;
		int ret;
		while ((ret = line_reader_read(reader, &line, &error)) != 0) {
			if (ret > 0) {
				if (strlen(line) > FUZZ_MAX_LINE)
					__builtin_trap();
				fuzz_line(line);
			}
		}
		if (i_stream_read(input) == -1)
			break;
	}
	line_reader_destroy(&reader);
	i_stream_destroy(&input);
	transport_destroy(&t);
}

static void fuzz_check_encoded(const buffer_t *out)
{
	const unsigned char *p = out->data;
	size_t n = out->used;
	if (n < 3 || memcmp(p + n - 3, ".\r\n", 3) != 0)
		__builtin_trap();
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
			__builtin_trap();
		/* a line starting with "." is stuffed, except the final ".\r\n" */
		bool line_start = i == 0 || p[i - 1] == '\n';
		if (line_start && p[i] == '.' && i != n - 3 && (i + 1 >= n || p[i + 1] != '.'))
			__builtin_trap();
	}
}

static void fuzz_encoder(const uint8_t *data, size_t size)
{
	/* the first byte picks TOP's line count (or RETR) */
	uint64_t lines = size == 0 || data[0] >= 0xf0 ? POP3_ENCODER_ALL_LINES : data[0] % 8;
	struct pop3_encoder enc1, enc2;
	buffer_t *out1 = buffer_create(t_pool(), 256), *out2 = buffer_create(t_pool(), 256);
	pop3_encoder_init(&enc1, lines);
	pop3_encoder_init(&enc2, lines);
	size_t used1 = pop3_encoder_feed(&enc1, data, size, out1);
	size_t used2 = 0;
	while (used2 < size && !pop3_encoder_is_done(&enc2))
		used2 += pop3_encoder_feed(&enc2, data + used2, 1, out2);
	if (used1 > size || (used1 < size && !pop3_encoder_is_done(&enc1)))
		__builtin_trap();
	pop3_encoder_finish(&enc1, out1);
	pop3_encoder_finish(&enc2, out2);
	if (out1->used != out2->used || memcmp(out1->data, out2->data, out1->used) != 0)
		__builtin_trap();
	fuzz_check_encoded(out1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_lines(data, size);
	fuzz_encoder(data, size);
	t_pool_clear();
	return 0;
}
