/* The argument grammar of IMAP commands (RFC 9051 §4 and §9: atoms, quoted
 * strings, literals incl. non-synchronizing ones of RFC 7888 and literal8
 * of RFC 3516, NIL and parenthesised lists), read byte by byte into a tree
 * of struct imap_arg, and the LITERAL_SIZE stops that let APPEND stream
 * message data itself. */
#include "imap-parser-private.h"

#include <strings.h>

/* What handling one byte did. */
enum {
	ARG_ERROR = -1,   /* the error is set; the byte was not consumed */
	ARG_CONSUMED = 0,
	ARG_AGAIN,        /* the state changed; handle the same byte again */
	ARG_LINE_DONE,    /* the line's LF was consumed */
	ARG_STOP,         /* consumed; return to the caller now */
};

static void imap_parser_level_push(struct imap_parser *parser)
{
	imap_arg_array_t *level = array_append_space(&parser->levels);

	array_init(level, parser->args_pool, 8);
}

/* Closes the innermost level into an EOL-terminated array. */
static const struct imap_arg *
imap_parser_level_finish(struct imap_parser *parser, unsigned int *count_r)
{
	i_assert(parser->levels.count > 0);
	imap_arg_array_t *level = &parser->levels.v[parser->levels.count - 1];
	struct imap_arg *args = p_new(parser->args_pool, struct imap_arg,
				      level->count + 1);

	if (level->count > 0)
		memcpy(args, level->v, sizeof(*args) * level->count);
	args[level->count].type = IMAP_ARG_EOL;
	*count_r = level->count;
	parser->levels.count--;
	return args;
}

static struct imap_arg *imap_parser_add_arg(struct imap_parser *parser,
					    enum imap_arg_type type)
{
	imap_arg_array_t *level = &parser->levels.v[parser->levels.count - 1];
	struct imap_arg *arg = array_append_space(level);

	arg->type = type;
	return arg;
}

static void imap_parser_add_token(struct imap_parser *parser, enum imap_arg_type type)
{
	struct imap_arg *arg = imap_parser_add_arg(parser, type);
	size_t len = str_len(parser->token);

	arg->u.s.str = p_strndup(parser->args_pool, str_data(parser->token), len);
	arg->u.s.len = len;
}

/* Every argument, lists included, counts against max_args when it
   starts. */
static int imap_parser_arg_begin(struct imap_parser *parser)
{
	if (parser->arg_count >= parser->limits.max_args) {
		return imap_parser_error(parser, IMAP_PARSE_ERROR_BAD_SYNTAX,
					 "Too many arguments");
	}
	parser->arg_count++;
	str_truncate(parser->token, 0);
	return 0;
}

static int imap_parser_syntax_error(struct imap_parser *parser, unsigned char c,
				    const char *text)
{
	if (c == '\0')
		return imap_parser_error(parser, IMAP_PARSE_ERROR_NUL, "NUL byte in command");
	return imap_parser_error(parser, IMAP_PARSE_ERROR_BAD_SYNTAX, text);
}

void imap_parser_args_begin(struct imap_parser *parser)
{
	parser->phase = IMAP_PARSER_PHASE_ARGS;
	parser->lex = IMAP_PARSER_LEX_NONE;
	parser->need_sep = false;
	array_clear(&parser->levels);
	imap_parser_level_push(parser);
}

void imap_parser_args_new_segment(struct imap_parser *parser)
{
	pool_clear(parser->args_pool);
	parser->line_len = 0;
	parser->literal_total = 0;
	parser->arg_count = 0;
	parser->stop_args = NULL;
	parser->stop_to_memory = false;
	imap_parser_args_begin(parser);
	if (parser->stop_in_list) {
		/* the stopped literal was in a list that is still open */
		parser->stop_in_list = false;
		imap_parser_level_push(parser);
	}
}

static int imap_parser_line_end(struct imap_parser *parser)
{
	unsigned int count;

	parser->line_ended = true;
	if (parser->levels.count > 1) {
		return imap_parser_error(parser, IMAP_PARSE_ERROR_BAD_SYNTAX,
					 "Missing ')'");
	}
	parser->done_args = imap_parser_level_finish(parser, &count);
	parser->phase = IMAP_PARSER_PHASE_DONE;
	return ARG_LINE_DONE;
}

static int imap_parser_list_open(struct imap_parser *parser)
{
	if (parser->levels.count > parser->limits.max_list_depth) {
		return imap_parser_error(parser, IMAP_PARSE_ERROR_BAD_SYNTAX,
					 "Too deeply nested lists");
	}
	if (imap_parser_arg_begin(parser) < 0)
		return ARG_ERROR;
	imap_parser_level_push(parser);
	return ARG_CONSUMED;
}

static int imap_parser_list_close(struct imap_parser *parser)
{
	unsigned int count;

	if (parser->levels.count == 1) {
		return imap_parser_error(parser, IMAP_PARSE_ERROR_BAD_SYNTAX,
					 "Unexpected ')'");
	}
	const struct imap_arg *list = imap_parser_level_finish(parser, &count);
	struct imap_arg *arg = imap_parser_add_arg(parser, IMAP_ARG_LIST);

	arg->u.list.args = list;
	arg->u.list.count = count;
	parser->need_sep = true;
	return ARG_CONSUMED;
}

/* Between arguments. */
static int imap_parser_lex_none(struct imap_parser *parser, unsigned char c)
{
	if (parser->need_sep && c != ' ' && c != ')' && c != '\r' && c != '\n')
		return imap_parser_syntax_error(parser, c, "Missing space between arguments");
	parser->need_sep = false;
	switch (c) {
	case ' ':
		return ARG_CONSUMED;
	case '\r':
		parser->lex = IMAP_PARSER_LEX_CR;
		return ARG_CONSUMED;
	case '\n':
		return imap_parser_line_end(parser);
	case '(':
		return imap_parser_list_open(parser);
	case ')':
		return imap_parser_list_close(parser);
	case '\0':
		return imap_parser_syntax_error(parser, c, NULL);
	}
	if (imap_parser_arg_begin(parser) < 0)
		return ARG_ERROR;
	switch (c) {
	case '"':
		parser->lex = IMAP_PARSER_LEX_QUOTED;
		parser->quote_escape = false;
		return ARG_CONSUMED;
	case '~':
		parser->lex = IMAP_PARSER_LEX_TILDE;
		return ARG_CONSUMED;
	case '{':
		parser->lex = IMAP_PARSER_LEX_LITERAL_HDR;
		parser->lit8 = false;
		memset(&parser->lit, 0, sizeof(parser->lit));
		return ARG_AGAIN;
	}
	parser->lex = IMAP_PARSER_LEX_ATOM;
	parser->bracket_depth = 0;
	parser->bracket_quoted = false;
	return ARG_AGAIN;
}

static int imap_parser_atom_end(struct imap_parser *parser)
{
	if (str_len(parser->token) == 3 &&
	    strncasecmp(str_c(parser->token), "NIL", 3) == 0)
		imap_parser_add_token(parser, IMAP_ARG_NIL);
	else
		imap_parser_add_token(parser, IMAP_ARG_ATOM);
	parser->lex = IMAP_PARSER_LEX_NONE;
	return ARG_AGAIN;
}

static int imap_parser_atom_invalid(struct imap_parser *parser, unsigned char c)
{
	if (c >= 0x80)
		return imap_parser_syntax_error(parser, c, "8-bit data in atom");
	return imap_parser_syntax_error(parser, c, "Invalid characters in atom");
}

/* Inside "[...]" of an atom: anything but CR, LF and a literal, with quoted
   strings kept verbatim, up to the matching ']'. A line that ends first
   ends the atom: '[' is an ordinary atom character (RFC 9051 §9
   ATOM-CHAR), as in a mailbox name "a[b"; a section left open is then
   the command's error to report. */
static int imap_parser_atom_bracket(struct imap_parser *parser, unsigned char c)
{
	if (c == '\r' || c == '\n') {
		if (parser->bracket_quoted)
			return imap_parser_syntax_error(parser, c, "Unterminated quoted string");
		return imap_parser_atom_end(parser);
	}
	if (c == '\0')
		return imap_parser_syntax_error(parser, c, NULL);
	if (parser->bracket_quoted) {
		if (parser->quote_escape) {
			if (c != '"' && c != '\\') {
				return imap_parser_syntax_error(parser, c,
					"Invalid escape in quoted string");
			}
			parser->quote_escape = false;
		} else if (c == '\\') {
			parser->quote_escape = true;
		} else if (c == '"') {
			parser->bracket_quoted = false;
		}
	} else if (c == '"') {
		parser->bracket_quoted = true;
		parser->quote_escape = false;
	} else if (c == '[') {
		parser->bracket_depth++;
	} else if (c == ']') {
		parser->bracket_depth--;
	} else if (c == '{') {
		return imap_parser_syntax_error(parser, c, "Literal not allowed inside []");
	} else if (c < ' ' || c >= 0x7f) {
		return imap_parser_atom_invalid(parser, c);
	}
	str_append_c(parser->token, (char)c);
	return ARG_CONSUMED;
}

static int imap_parser_lex_atom(struct imap_parser *parser, unsigned char c)
{
	if (parser->bracket_depth > 0)
		return imap_parser_atom_bracket(parser, c);
	if (c == ' ' || c == ')' || c == '\r' || c == '\n')
		return imap_parser_atom_end(parser);
	if (!imap_parser_is_atom_char(c))
		return imap_parser_atom_invalid(parser, c);
	if (c == '[')
		parser->bracket_depth++;
	str_append_c(parser->token, (char)c);
	return ARG_CONSUMED;
}

/* '~' is an atom unless '{' follows (literal8). */
static int imap_parser_lex_tilde(struct imap_parser *parser, unsigned char c)
{
	if (c == '{') {
		parser->lex = IMAP_PARSER_LEX_LITERAL_HDR;
		parser->lit8 = true;
		memset(&parser->lit, 0, sizeof(parser->lit));
		return ARG_AGAIN;
	}
	str_append_c(parser->token, '~');
	parser->lex = IMAP_PARSER_LEX_ATOM;
	parser->bracket_depth = 0;
	parser->bracket_quoted = false;
	return ARG_AGAIN;
}

static int imap_parser_lex_quoted(struct imap_parser *parser, unsigned char c)
{
	if (c == '\r' || c == '\n')
		return imap_parser_syntax_error(parser, c, "Unterminated quoted string");
	if (c == '\0')
		return imap_parser_syntax_error(parser, c, NULL);
	if (parser->quote_escape) {
		/* RFC 9051 §9: only quoted-specials may be escaped */
		if (c != '"' && c != '\\') {
			return imap_parser_syntax_error(parser, c,
				"Invalid escape in quoted string");
		}
		parser->quote_escape = false;
	} else if (c == '\\') {
		parser->quote_escape = true;
		return ARG_CONSUMED;
	} else if (c == '"') {
		imap_parser_add_token(parser, IMAP_ARG_STRING);
		parser->lex = IMAP_PARSER_LEX_NONE;
		parser->need_sep = true;
		return ARG_CONSUMED;
	}
	str_append_c(parser->token, (char)c);
	return ARG_CONSUMED;
}

/* Starts reading a literal's data into memory. */
static int imap_parser_literal_begin(struct imap_parser *parser)
{
	parser->literal_total += parser->lit.size;
	parser->lex = IMAP_PARSER_LEX_LITERAL_DATA;
	parser->lit_remaining = parser->lit.size;
	parser->lit_data = NULL;
	if (parser->lit.nonsync)
		return ARG_CONSUMED;
	/* RFC 9051 §4.3: the client waits for our continuation */
	parser->want_cont = true;
	return ARG_STOP;
}

/* The literal's size is known at '}': refuse it before its data is asked
   for (synchronizing) or arrives (non-synchronizing; then the error is
   fatal since the data can't be told from commands). */
static int imap_parser_literal_closed(struct imap_parser *parser,
				      enum imap_parser_flags flags)
{
	const char *text;

	parser->lit_stop = (flags & IMAP_PARSE_FLAG_LITERAL_SIZE) != 0 &&
		(parser->levels.count == 1 ||
		 ((flags & IMAP_PARSE_FLAG_LITERAL_SIZE_IN_LIST) != 0 &&
		  parser->levels.count == 2));
	if (parser->lit.overflow)
		text = "Literal size out of range";
	else if (!parser->lit_stop && parser->lit.size >
		 parser->limits.max_literal_size - parser->literal_total)
		text = "Literal too big";
	else
		return ARG_CONSUMED;
	parser->error_fatal = parser->lit.nonsync;
	return imap_parser_error(parser, IMAP_PARSE_ERROR_LITERAL_TOO_BIG, text);
}

static void imap_parser_literal_stop(struct imap_parser *parser)
{
	struct imap_arg *arg = imap_parser_add_arg(parser, IMAP_ARG_LITERAL_SIZE);
	unsigned int count;

	arg->literal8 = parser->lit8;
	arg->literal_sync = !parser->lit.nonsync;
	arg->u.literal_size = parser->lit.size;
	parser->stop_in_list = parser->levels.count == 2;
	if (parser->stop_in_list) {
		/* returned as an open list ending in the stop */
		const struct imap_arg *list = imap_parser_level_finish(parser, &count);
		struct imap_arg *list_arg = imap_parser_add_arg(parser, IMAP_ARG_LIST);
		list_arg->u.list.args = list;
		list_arg->u.list.count = count;
	}
	parser->stop_args = imap_parser_level_finish(parser, &count);
	parser->stop_size = parser->lit.size;
	parser->stop_sync = !parser->lit.nonsync;
	parser->stop_lit8 = parser->lit8;
	parser->stop_to_memory = false;
	parser->phase = IMAP_PARSER_PHASE_LITERAL_STOP;
	parser->lex = IMAP_PARSER_LEX_NONE;
}

static int imap_parser_lex_literal_hdr(struct imap_parser *parser, unsigned char c,
				       enum imap_parser_flags flags)
{
	switch (imap_literal_hdr_feed(&parser->lit, c)) {
	case IMAP_LITERAL_HDR_EV_MORE:
		return ARG_CONSUMED;
	case IMAP_LITERAL_HDR_EV_CLOSED:
		return imap_parser_literal_closed(parser, flags);
	case IMAP_LITERAL_HDR_EV_DONE:
		break;
	case IMAP_LITERAL_HDR_EV_ERROR:
		return imap_parser_syntax_error(parser, c, imap_literal_hdr_error(&parser->lit));
	}
	if (parser->lit_stop) {
		imap_parser_literal_stop(parser);
		return ARG_STOP;
	}
	return imap_parser_literal_begin(parser);
}

/* Copies buffered literal data; -1 on a NUL in a non-literal8. */
static int imap_parser_literal_data(struct imap_parser *parser,
				    const unsigned char *data, size_t size, size_t *pos)
{
	size_t n = (size_t)I_MIN((uint64_t)(size - *pos), parser->lit_remaining);
	size_t offset = (size_t)(parser->lit.size - parser->lit_remaining);

	/* allocated on the first data byte, so an announced literal costs no
	   memory until the client really sends it */
	if (parser->lit_data == NULL)
		parser->lit_data = p_malloc(parser->args_pool, (size_t)parser->lit.size + 1);
	if (!parser->lit8) {
		const unsigned char *nul = memchr(data + *pos, '\0', n);
		if (nul != NULL) {
			n = (size_t)(nul - (data + *pos)) + 1;
			*pos += n;
			parser->lit_remaining -= n;
			return imap_parser_error(parser, IMAP_PARSE_ERROR_NUL,
						 "NUL byte in literal");
		}
	}
	memcpy(parser->lit_data + offset, data + *pos, n);
	*pos += n;
	parser->lit_remaining -= n;
	if (parser->lit_remaining > 0)
		return 0;

	struct imap_arg *arg = imap_parser_add_arg(parser, IMAP_ARG_LITERAL);
	arg->literal8 = parser->lit8;
	arg->literal_sync = !parser->lit.nonsync;
	arg->u.s.str = (const char *)parser->lit_data;
	arg->u.s.len = (size_t)parser->lit.size;
	parser->lit_data = NULL;
	parser->lex = IMAP_PARSER_LEX_NONE;
	parser->need_sep = true;
	return 0;
}

static int imap_parser_args_char(struct imap_parser *parser, unsigned char c,
				 enum imap_parser_flags flags)
{
	switch (parser->lex) {
	case IMAP_PARSER_LEX_NONE:
		return imap_parser_lex_none(parser, c);
	case IMAP_PARSER_LEX_ATOM:
		return imap_parser_lex_atom(parser, c);
	case IMAP_PARSER_LEX_TILDE:
		return imap_parser_lex_tilde(parser, c);
	case IMAP_PARSER_LEX_QUOTED:
		return imap_parser_lex_quoted(parser, c);
	case IMAP_PARSER_LEX_LITERAL_HDR:
		return imap_parser_lex_literal_hdr(parser, c, flags);
	case IMAP_PARSER_LEX_CR:
		if (c != '\n')
			return imap_parser_syntax_error(parser, c, "CR without LF");
		return imap_parser_line_end(parser);
	case IMAP_PARSER_LEX_LITERAL_DATA:
		break;
	}
	i_unreached();
}

/* Runs the lexer over buffered data; returns -1/0/1 like read_args(). */
static int imap_parser_args_run(struct imap_parser *parser, const unsigned char *data,
				size_t size, size_t *pos, enum imap_parser_flags flags)
{
	for (;;) {
		if (parser->lex == IMAP_PARSER_LEX_LITERAL_DATA) {
			if (parser->lit_remaining > 0 && *pos == size)
				return 0;
			if (imap_parser_literal_data(parser, data, size, pos) < 0)
				return -1;
			continue;
		}
		if (*pos == size)
			return 0;

		unsigned char c = data[*pos];
		int ret = imap_parser_args_char(parser, c, flags);
		if (ret == ARG_AGAIN)
			continue;
		if (ret == ARG_ERROR) {
			/* the LF of an unbalanced line is consumed: skip_line()
			   must not look for another one */
			if (parser->line_ended)
				(*pos)++;
			return -1;
		}
		(*pos)++;
		if (ret == ARG_LINE_DONE)
			return 1;
		if (ret == ARG_STOP)
			return parser->phase == IMAP_PARSER_PHASE_LITERAL_STOP ? 1 : 0;
		if (c != '\r' && c != '\n' && imap_parser_count_byte(parser) < 0)
			return -1;
	}
}

int imap_parser_args_parse(struct imap_parser *parser, enum imap_parser_flags flags,
			   const struct imap_arg **args_r)
{
	size_t size, pos = 0;
	const unsigned char *data = i_stream_get_data(parser->input, &size);
	int ret = imap_parser_args_run(parser, data, size, &pos, flags);

	i_stream_skip(parser->input, pos);
	if (ret <= 0)
		return ret;
	if (parser->phase == IMAP_PARSER_PHASE_LITERAL_STOP) {
		parser->stop_offset = i_stream_get_offset(parser->input);
		*args_r = parser->stop_args;
	} else {
		*args_r = parser->done_args;
	}
	return 1;
}

/* imap_parser_literal_to_memory(): the stopped literal becomes the first
   argument of a new segment, read like any literal. */
static int imap_parser_stop_to_memory(struct imap_parser *parser)
{
	imap_parser_args_new_segment(parser);
	parser->arg_count = 1;
	memset(&parser->lit, 0, sizeof(parser->lit));
	parser->lit.size = parser->stop_size;
	parser->lit.nonsync = !parser->stop_sync;
	parser->lit8 = parser->stop_lit8;
	if (parser->lit.size > parser->limits.max_literal_size) {
		/* the header's CRLF was consumed at the stop: a synchronizing
		   literal's line ends there, nothing follows before our answer */
		parser->line_ended = !parser->lit.nonsync;
		parser->error_fatal = parser->lit.nonsync;
		return imap_parser_error(parser, IMAP_PARSE_ERROR_LITERAL_TOO_BIG,
					 "Literal too big");
	}
	return imap_parser_literal_begin(parser) == ARG_STOP ? 2 : 0;
}

int imap_parser_args_resume(struct imap_parser *parser, const struct imap_arg **args_r)
{
	uint64_t consumed = i_stream_get_offset(parser->input) - parser->stop_offset;

	if (parser->stop_to_memory)
		return imap_parser_stop_to_memory(parser);
	if (consumed == 0 && parser->stop_size > 0) {
		*args_r = parser->stop_args;
		return 1;
	}
	if (consumed != parser->stop_size) {
		i_panic("imap parser: %llu bytes of a %llu byte literal were consumed",
			(unsigned long long)consumed, (unsigned long long)parser->stop_size);
	}
	imap_parser_args_new_segment(parser);
	parser->need_sep = true;
	return 0;
}
