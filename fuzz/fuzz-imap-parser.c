/* libFuzzer target for the IMAP command parser (src/imap/proto): parses
 * every command of the input with small limits, skipping lines after
 * errors, and checks the argument tree and the parser's memory bounds.
 * Each input is parsed twice, all at once and byte by byte, and both runs
 * must see the same commands and errors. The first byte picks the mode:
 * bit 1 parses with IMAP_PARSE_FLAG_LITERAL_SIZE (literals are consumed
 * as APPEND would), bit 2 reads a command's first stopped literal into
 * memory instead, bit 3 also reads raw lines (as IDLE would) after
 * commands named IDLE, bit 4 adds IMAP_PARSE_FLAG_LITERAL_SIZE_IN_LIST
 * (CATENATE's literals stop inside a list). */
#include "lib.h"
#include "pool.h"
#include "imap-arg.h"
#include "imap-parser-private.h"
#include "imap-quote.h"
#include "istream.h"
#include "transport.h"

#include <strings.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MODE_BYTEWISE 0x01
#define FUZZ_MODE_LITERAL_SIZE 0x02
#define FUZZ_MODE_TO_MEMORY 0x04
#define FUZZ_MODE_RAW_LINES 0x08
#define FUZZ_MODE_IN_LIST 0x10

static const struct imap_parser_limits fuzz_limits = {
	.max_line_length = 1024,
	.max_literal_size = 4096,
	.max_list_depth = 8,
	.max_args = 64,
};

struct fuzz_ctx {
	struct transport *t;
	struct istream *input;
	struct imap_parser *parser;
	size_t size, visible;
	unsigned int mode;
	unsigned int steps, max_steps;
	string_t *transcript; /* what was parsed, to compare the two runs */
};

/* Makes more input available; false at its end. */
static bool fuzz_more(struct fuzz_ctx *ctx)
{
	/* each step must consume input or end, so a stuck parser shows */
	if (++ctx->steps > ctx->max_steps)
		i_panic("imap parser made no progress");
	if ((ctx->mode & FUZZ_MODE_BYTEWISE) != 0) {
		if (ctx->visible >= ctx->size)
			return false;
		transport_memory_set_visible(ctx->t, ++ctx->visible);
	}
	return i_stream_read(ctx->input) > 0;
}

static void fuzz_check_args(const struct imap_arg *args, unsigned int depth,
			    string_t *out)
{
	i_assert(depth <= fuzz_limits.max_list_depth);
	for (unsigned int i = 0; args[i].type != IMAP_ARG_EOL; i++) {
		const struct imap_arg *arg = &args[i];
		const char *str;

		str_printfa(out, " %d%s%s:", (int)arg->type, arg->literal8 ? "~" : "",
			    arg->literal_sync ? "" : "+");
		switch (arg->type) {
		case IMAP_ARG_NIL:
		case IMAP_ARG_ATOM:
		case IMAP_ARG_STRING:
		case IMAP_ARG_LITERAL:
			i_assert(arg->u.s.str[arg->u.s.len] == '\0');
			i_assert(arg->literal8 || memchr(arg->u.s.str, '\0', arg->u.s.len) == NULL);
			if (arg->type != IMAP_ARG_LITERAL)
				i_assert(arg->u.s.len <= fuzz_limits.max_line_length);
			else
				i_assert(arg->u.s.len <= fuzz_limits.max_literal_size);
			/* the quoting code gets the parsed strings too */
			if (imap_arg_get_astring(arg, &str))
				imap_append_astring(out, str);
			imap_append_string(out, arg->u.s.str, arg->u.s.len);
			break;
		case IMAP_ARG_LIST:
			i_assert(arg->u.list.args[arg->u.list.count].type == IMAP_ARG_EOL);
			str_append_c(out, '(');
			fuzz_check_args(arg->u.list.args, depth + 1, out);
			str_append_c(out, ')');
			break;
		case IMAP_ARG_LITERAL_SIZE:
			/* only as the last top-level argument, or the last of
			   the last top-level list (LITERAL_SIZE_IN_LIST) */
			i_assert(depth <= 1 && args[i + 1].type == IMAP_ARG_EOL);
			str_printfa(out, "%llu", (unsigned long long)arg->u.literal_size);
			break;
		case IMAP_ARG_EOL:
			i_unreached();
		}
	}
}

static void fuzz_check_memory(struct imap_parser *parser)
{
	i_assert(parser->token->alloc <= 4 * fuzz_limits.max_line_length + 256);
	i_assert(pool_get_allocated(parser->args_pool) <= 64 * 1024);
	i_assert(pool_get_allocated(parser->pool) <= 16 * 1024);
}

/* Consumes a stopped literal as APPEND would; false at the input's end. */
static bool fuzz_consume_literal(struct fuzz_ctx *ctx, uint64_t size)
{
	while (size > 0) {
		size_t avail = i_stream_get_data_size(ctx->input);
		if (avail == 0) {
			if (!fuzz_more(ctx))
				return false;
			continue;
		}
		avail = (size_t)I_MIN(avail, size);
		i_stream_skip(ctx->input, avail);
		size -= avail;
	}
	return true;
}

/* 1 = args done, 0 = input ended, -1 = parse error. */
static int fuzz_read_args(struct fuzz_ctx *ctx, enum imap_parser_flags flags)
{
	const struct imap_arg *args;
	bool to_memory = (ctx->mode & FUZZ_MODE_TO_MEMORY) != 0;
	int ret;

	for (;;) {
		while ((ret = imap_parser_read_args(ctx->parser, flags, &args)) == 0) {
			if (imap_parser_want_continuation(ctx->parser))
				str_append(ctx->transcript, "+\n");
			else if (!fuzz_more(ctx))
				return 0;
		}
		if (ret < 0)
			return -1;
		str_append(ctx->transcript, "args");
		fuzz_check_args(args, 0, ctx->transcript);
		str_append_c(ctx->transcript, '\n');
		fuzz_check_memory(ctx->parser);

		unsigned int count = imap_args_count(args);
		uint64_t size;
		const struct imap_arg *last = count == 0 ? NULL : &args[count - 1];
		if (last != NULL && last->type == IMAP_ARG_LIST && last->u.list.count > 0)
			last = &last->u.list.args[last->u.list.count - 1];
		if (last == NULL || !imap_arg_get_literal_size(last, &size))
			return 1;
		if (to_memory) {
			to_memory = false;
			imap_parser_literal_to_memory(ctx->parser);
		} else if (!fuzz_consume_literal(ctx, size)) {
			return 0;
		}
	}
}

/* 1 = a command was read, 0 = input ended, -1 = parse error. */
static int fuzz_read_command(struct fuzz_ctx *ctx, enum imap_parser_flags flags,
			     bool *idle_r)
{
	const char *tag, *word;
	int ret;

	while ((ret = imap_parser_read_tag(ctx->parser, &tag)) == 0) {
		if (!fuzz_more(ctx))
			return 0;
	}
	if (ret < 0)
		return -1;
	i_assert(*tag != '\0' && strlen(tag) <= fuzz_limits.max_line_length);
	str_printfa(ctx->transcript, "tag %s\n", tag);
	do {
		while ((ret = imap_parser_read_word(ctx->parser, &word)) == 0) {
			if (!fuzz_more(ctx))
				return 0;
		}
		if (ret < 0)
			return -1;
		i_assert(*word != '\0');
		str_printfa(ctx->transcript, "word %s\n", word);
	} while (strcasecmp(word, "UID") == 0);
	*idle_r = strcasecmp(word, "IDLE") == 0;
	return fuzz_read_args(ctx, flags);
}

/* false at the input's end or after a fatal error */
static bool fuzz_skip_line(struct fuzz_ctx *ctx)
{
	enum imap_parse_error code;
	bool fatal;
	const char *error = imap_parser_get_error(ctx->parser, &code, &fatal);
	int ret;

	i_assert(error != NULL && code != IMAP_PARSE_ERROR_NONE);
	str_printfa(ctx->transcript, "error %d %s%s\n", (int)code, error,
		    fatal ? " fatal" : "");
	while ((ret = imap_parser_skip_line(ctx->parser)) == 0) {
		if (!fuzz_more(ctx))
			return false;
	}
	i_assert((ret < 0) == fatal);
	return ret > 0;
}

static bool fuzz_read_raw_line(struct fuzz_ctx *ctx)
{
	const char *line;
	int ret;

	while ((ret = imap_parser_read_line(ctx->parser, &line)) == 0) {
		if (!fuzz_more(ctx))
			return false;
	}
	if (ret < 0)
		return fuzz_skip_line(ctx);
	i_assert(strlen(line) <= fuzz_limits.max_line_length);
	str_printfa(ctx->transcript, "line %s\n", line);
	return true;
}

static void fuzz_run(const uint8_t *data, size_t size, unsigned int mode,
		     string_t *transcript)
{
	struct fuzz_ctx ctx;

	memset(&ctx, 0, sizeof(ctx));
	ctx.mode = mode;
	ctx.size = size;
	ctx.max_steps = size * 2 + 64;
	ctx.transcript = transcript;
	ctx.t = transport_create_memory(data, size, 0);
	/* a small buffer: the parser must consume as it goes */
	ctx.input = i_stream_create(ctx.t, 256);
	ctx.parser = imap_parser_create(ctx.input, &fuzz_limits);
	if ((ctx.mode & FUZZ_MODE_BYTEWISE) != 0)
		transport_memory_set_visible(ctx.t, 0);
	(void)i_stream_read(ctx.input);

	enum imap_parser_flags flags = (ctx.mode & FUZZ_MODE_LITERAL_SIZE) != 0 ?
		IMAP_PARSE_FLAG_LITERAL_SIZE : 0;
	if (flags != 0 && (ctx.mode & FUZZ_MODE_IN_LIST) != 0)
		flags |= IMAP_PARSE_FLAG_LITERAL_SIZE_IN_LIST;
	for (;;) {
		uint64_t offset = i_stream_get_offset(ctx.input);
		unsigned int steps = ctx.steps;
		bool idle = false;
		int ret = fuzz_read_command(&ctx, flags, &idle);
		if (ret == 0)
			break;
		if (ret < 0 && !fuzz_skip_line(&ctx))
			break;
		if (ret > 0 && idle && (ctx.mode & FUZZ_MODE_RAW_LINES) != 0 &&
		    !fuzz_read_raw_line(&ctx))
			break;
		if (i_stream_get_offset(ctx.input) == offset && ctx.steps == steps)
			i_panic("imap parser: a command consumed no input");
		imap_parser_reset(ctx.parser);
		fuzz_check_memory(ctx.parser);
	}
	imap_parser_destroy(&ctx.parser);
	i_stream_destroy(&ctx.input);
	transport_destroy(&ctx.t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	unsigned int mode = data[0] & ~FUZZ_MODE_BYTEWISE;
	string_t *whole = str_new(system_pool, 1024);
	string_t *bytewise = str_new(system_pool, 1024);

	fuzz_run(data + 1, size - 1, mode, whole);
	fuzz_run(data + 1, size - 1, mode | FUZZ_MODE_BYTEWISE, bytewise);
	if (str_len(whole) != str_len(bytewise) ||
	    memcmp(str_data(whole), str_data(bytewise), str_len(whole)) != 0) {
		fprintf(stderr, "all at once:\n%s\nbyte by byte:\n%s\n",
			str_c(whole), str_c(bytewise));
		i_panic("imap parser: results depend on how the input is split");
	}
	str_free(&whole);
	str_free(&bytewise);
	t_pool_clear();
	return 0;
}
