/* libFuzzer target for the ManageSieve line parser (src/managesieve/proto):
 * the input is parsed all at once and byte by byte with small limits, and
 * both runs must give the same lines, arguments and errors; every string
 * argument, quoted back the way the server writes strings, must parse again
 * to the same bytes. */
#include "lib.h"
#include "pool.h"
#include "buffer.h"
#include "istream.h"
#include "managesieve-parser.h"
#include "transport.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct managesieve_parser_limits fuzz_limits = {
	.max_line_length = 200, .max_literal_size = 300, .max_args = 5,
};

static void fuzz_requote(const struct managesieve_arg *arg)
{
	string_t *str = t_str_new(arg->size + 32);
	managesieve_quote_append(str, arg->str, arg->size);
	str_append(str, "\r\n");
	struct managesieve_parser_limits limits = {
		.max_line_length = str_len(str) + 8, .max_literal_size = arg->size + 1,
	};
	struct transport *t = transport_create_memory(str_data(str), str_len(str), 0);
	struct istream *is = i_stream_create(t, str_len(str) + 16);
	struct managesieve_parser *parser = managesieve_parser_create(is, &limits);
	const struct managesieve_arg *args;
	unsigned int count;
	(void)i_stream_read(is);
	if (managesieve_parser_read(parser, &args, &count) != 1 || count != 1 ||
	    args[0].type != MANAGESIEVE_ARG_STRING || args[0].size != arg->size ||
	    memcmp(args[0].str, arg->str, arg->size) != 0)
		__builtin_trap();
	managesieve_parser_destroy(&parser);
	i_stream_destroy(&is);
	transport_destroy(&t);
}

/* Every line as text; chunk 0 feeds everything at once. */
static const char *fuzz_parse(const uint8_t *data, size_t size, size_t chunk, bool requote)
{
	struct transport *t = transport_create_memory(data, size, chunk);
	struct istream *is = i_stream_create(t, 64);
	struct managesieve_parser *parser = managesieve_parser_create(is, &fuzz_limits);
	string_t *out = t_str_new(256);
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
			if (count > fuzz_limits.max_args)
				__builtin_trap();
			for (unsigned int i = 0; i < count; i++) {
				str_printfa(out, "%d:%zu:", (int)args[i].type, args[i].size);
				str_append_n(out, args[i].str, args[i].size);
				if (requote && args[i].type == MANAGESIEVE_ARG_STRING)
					fuzz_requote(&args[i]);
			}
			str_append_c(out, '|');
		}
		if (rret <= 0)
			break;
	}
	/* an unfinished line at EOF is left over, never reported */
	managesieve_parser_destroy(&parser);
	i_stream_destroy(&is);
	transport_destroy(&t);
	return str_c(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 4096)
		return 0;
	const char *whole = fuzz_parse(data, size, 0, true);
	const char *bytewise = fuzz_parse(data, size, 1, false);
	if (strcmp(whole, bytewise) != 0)
		__builtin_trap();
	t_pool_clear();
	return 0;
}
