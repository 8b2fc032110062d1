/* The IMAP command parser's framing: lifetime, tag and command words
 * (RFC 9051 §2.2.1, §9 "tag" and "command"), raw continuation lines, errors
 * and skipping the rest of a bad line. The argument grammar is in
 * imap-parser-args.c. */
#include "imap-parser-private.h"

#include <strings.h>

/* The token buffer keeps its size between commands up to this much, so an
   idle connection stays small after one long command. */
#define IMAP_PARSER_TOKEN_KEEP_SIZE 1024

struct imap_parser *imap_parser_create(struct istream *input,
				       const struct imap_parser_limits *limits)
{
	struct imap_parser *parser = i_new(struct imap_parser, 1);

	parser->input = input;
	parser->limits = *limits;
	if (parser->limits.max_line_length == 0)
		parser->limits.max_line_length = IMAP_PARSER_DEFAULT_MAX_LINE_LENGTH;
	if (parser->limits.max_literal_size == 0)
		parser->limits.max_literal_size = IMAP_PARSER_DEFAULT_MAX_LITERAL_SIZE;
	if (parser->limits.max_list_depth == 0)
		parser->limits.max_list_depth = IMAP_PARSER_DEFAULT_MAX_LIST_DEPTH;
	if (parser->limits.max_args == 0)
		parser->limits.max_args = IMAP_PARSER_DEFAULT_MAX_ARGS;
	parser->pool = pool_create("imap parser", 256);
	parser->args_pool = pool_create("imap parser args", 1024);
	parser->token = str_new(system_pool, 128);
	array_init(&parser->levels, system_pool, 8);
	return parser;
}

void imap_parser_destroy(struct imap_parser **_parser)
{
	struct imap_parser *parser = *_parser;

	if (parser == NULL)
		return;
	*_parser = NULL;
	array_free(&parser->levels);
	str_free(&parser->token);
	pool_destroy(&parser->args_pool);
	pool_destroy(&parser->pool);
	free(parser);
}

void imap_parser_reset(struct imap_parser *parser)
{
	pool_clear(parser->pool);
	pool_clear(parser->args_pool);
	if (parser->token->alloc > IMAP_PARSER_TOKEN_KEEP_SIZE) {
		str_free(&parser->token);
		parser->token = str_new(system_pool, 128);
	}
	str_truncate(parser->token, 0);
	array_clear(&parser->levels);

	parser->phase = IMAP_PARSER_PHASE_LINE_START;
	parser->tag = NULL;
	parser->line_cr = parser->line_ended = false;
	parser->line_len = 0;
	parser->literal_total = 0;
	parser->arg_count = 0;
	parser->lex = IMAP_PARSER_LEX_NONE;
	parser->need_sep = parser->quote_escape = false;
	parser->bracket_depth = 0;
	parser->bracket_quoted = false;
	memset(&parser->lit, 0, sizeof(parser->lit));
	parser->lit8 = parser->lit_stop = false;
	parser->lit_remaining = 0;
	parser->lit_data = NULL;
	parser->want_cont = false;
	parser->done_args = NULL;
	parser->stop_args = NULL;
	parser->stop_offset = parser->stop_size = 0;
	parser->stop_sync = parser->stop_lit8 = parser->stop_to_memory = false;
	parser->stop_in_list = false;
	parser->error = IMAP_PARSE_ERROR_NONE;
	parser->error_text = NULL;
	parser->error_fatal = parser->error_raw = false;
	parser->skipping = false;
	parser->skip_remaining = 0;
	memset(&parser->skip_hdr, 0, sizeof(parser->skip_hdr));
	parser->raw_active = false;
}

void imap_parser_set_stream(struct imap_parser *parser, struct istream *input)
{
	parser->input = input;
}

int imap_parser_error(struct imap_parser *parser, enum imap_parse_error code,
		      const char *text)
{
	parser->phase = IMAP_PARSER_PHASE_ERROR;
	parser->error = code;
	parser->error_text = text;
	return -1;
}

const char *imap_parser_get_error(struct imap_parser *parser,
				  enum imap_parse_error *code_r, bool *fatal_r)
{
	if (code_r != NULL)
		*code_r = parser->error;
	if (fatal_r != NULL)
		*fatal_r = parser->error_fatal;
	return parser->error_text;
}

int imap_parser_count_byte(struct imap_parser *parser)
{
	if (++parser->line_len <= parser->limits.max_line_length)
		return 0;
	return imap_parser_error(parser, IMAP_PARSE_ERROR_LINE_TOO_LONG,
				 "Command line too long");
}

bool imap_parser_is_atom_char(unsigned char c)
{
	if (c <= ' ' || c >= 0x7f)
		return false; /* SP, CTL and 8-bit */
	return c != '(' && c != ')' && c != '{' && c != '"';
}

/* tag = 1*<any ASTRING-CHAR except "+"> (RFC 9051 §9) */
static bool imap_parser_is_tag_char(unsigned char c)
{
	return imap_parser_is_atom_char(c) && c != '%' && c != '*' &&
		c != '\\' && c != '+';
}

bool imap_parser_want_continuation(struct imap_parser *parser)
{
	bool want = parser->want_cont;

	parser->want_cont = false;
	return want;
}

const char *imap_parser_get_tag(const struct imap_parser *parser)
{
	return parser->tag;
}

/* Returns 1 when c was consumed, 0 when the tag ends before c, -1 on
   error. */
static int imap_parser_tag_char(struct imap_parser *parser, unsigned char c)
{
	if (parser->phase == IMAP_PARSER_PHASE_LINE_START) {
		if (c == '\n') {
			parser->line_cr = false; /* an empty line */
			return 1;
		}
		if (parser->line_cr)
			return imap_parser_error(parser, IMAP_PARSE_ERROR_BAD_SYNTAX,
						 "CR without LF");
		if (c == '\r') {
			parser->line_cr = true;
			return 1;
		}
		parser->phase = IMAP_PARSER_PHASE_TAG;
		str_truncate(parser->token, 0);
		if (c == ' ')
			return imap_parser_error(parser, IMAP_PARSE_ERROR_BAD_SYNTAX,
						 "Missing tag");
	}
	if (imap_parser_is_tag_char(c)) {
		str_append_c(parser->token, (char)c);
		return imap_parser_count_byte(parser) < 0 ? -1 : 1;
	}
	if (c == ' ' || c == '\r' || c == '\n')
		return 0;
	if (c == '\0')
		return imap_parser_error(parser, IMAP_PARSE_ERROR_NUL, "NUL byte in tag");
	return imap_parser_error(parser, IMAP_PARSE_ERROR_BAD_SYNTAX, "Invalid tag");
}

int imap_parser_read_tag(struct imap_parser *parser, const char **tag_r)
{
	if (parser->phase == IMAP_PARSER_PHASE_ERROR)
		return -1;
	if (parser->tag != NULL) {
		*tag_r = parser->tag;
		return 1;
	}
	size_t size, pos = 0;
	const unsigned char *data = i_stream_get_data(parser->input, &size);
	int ret = 1;

	while (pos < size && (ret = imap_parser_tag_char(parser, data[pos])) > 0)
		pos++;
	if (ret == 0 && data[pos] == ' ') {
		/* the separating space belongs to the tag */
		if (imap_parser_count_byte(parser) < 0)
			ret = -1;
		pos++;
	}
	i_stream_skip(parser->input, pos);
	if (ret != 0)
		return ret < 0 ? -1 : 0;
	parser->tag = p_strndup(parser->pool, str_data(parser->token),
				str_len(parser->token));
	parser->phase = IMAP_PARSER_PHASE_WORDS;
	*tag_r = parser->tag;
	return 1;
}

/* Returns 1 when c was consumed, 0 when the word ends before c, -1 on
   error. */
static int imap_parser_word_char(struct imap_parser *parser, unsigned char c)
{
	if (parser->phase == IMAP_PARSER_PHASE_WORDS) {
		if (c == ' ')
			return imap_parser_count_byte(parser) < 0 ? -1 : 1;
		if (c == '\r' || c == '\n')
			return imap_parser_error(parser, IMAP_PARSE_ERROR_BAD_SYNTAX,
						 "Missing command name");
		parser->phase = IMAP_PARSER_PHASE_WORD;
		str_truncate(parser->token, 0);
	}
	if (imap_parser_is_atom_char(c)) {
		str_append_c(parser->token, (char)c);
		return imap_parser_count_byte(parser) < 0 ? -1 : 1;
	}
	if ((c == ' ' || c == '\r' || c == '\n') && str_len(parser->token) > 0)
		return 0;
	if (c == '\0')
		return imap_parser_error(parser, IMAP_PARSE_ERROR_NUL,
					 "NUL byte in command name");
	return imap_parser_error(parser, IMAP_PARSE_ERROR_BAD_SYNTAX,
				 "Invalid characters in command name");
}

int imap_parser_read_word(struct imap_parser *parser, const char **word_r)
{
	switch (parser->phase) {
	case IMAP_PARSER_PHASE_ERROR:
		return -1;
	case IMAP_PARSER_PHASE_WORDS:
	case IMAP_PARSER_PHASE_WORD:
		break;
	default:
		i_panic("imap_parser_read_word() called outside the command words");
	}
	size_t size, pos = 0;
	const unsigned char *data = i_stream_get_data(parser->input, &size);
	int ret = 1;

	while (pos < size && (ret = imap_parser_word_char(parser, data[pos])) > 0)
		pos++;
	i_stream_skip(parser->input, pos);
	if (ret != 0)
		return ret < 0 ? -1 : 0;
	*word_r = p_strndup(parser->pool, str_data(parser->token),
			    str_len(parser->token));
	parser->phase = IMAP_PARSER_PHASE_WORDS;
	return 1;
}

int imap_parser_read_args(struct imap_parser *parser, enum imap_parser_flags flags,
			  const struct imap_arg **args_r)
{
	int ret;

	switch (parser->phase) {
	case IMAP_PARSER_PHASE_ERROR:
		return -1;
	case IMAP_PARSER_PHASE_DONE:
		*args_r = parser->done_args;
		return 1;
	case IMAP_PARSER_PHASE_LITERAL_STOP:
		if ((ret = imap_parser_args_resume(parser, args_r)) != 0)
			return ret == 2 ? 0 : ret;
		break;
	case IMAP_PARSER_PHASE_WORDS:
		imap_parser_args_begin(parser);
		break;
	case IMAP_PARSER_PHASE_ARGS:
		break;
	default:
		i_panic("imap_parser_read_args() called before the tag and words were read");
	}
	return imap_parser_args_parse(parser, flags, args_r);
}

void imap_parser_literal_to_memory(struct imap_parser *parser)
{
	i_assert(parser->phase == IMAP_PARSER_PHASE_LITERAL_STOP);
	i_assert(i_stream_get_offset(parser->input) == parser->stop_offset);
	parser->stop_to_memory = true;
}

int imap_parser_read_line(struct imap_parser *parser, const char **line_r)
{
	if (parser->phase == IMAP_PARSER_PHASE_ERROR)
		return -1;
	i_assert(parser->phase == IMAP_PARSER_PHASE_LINE_START ||
		 parser->phase == IMAP_PARSER_PHASE_DONE);
	if (!parser->raw_active) {
		parser->raw_active = true;
		parser->line_ended = false;
		str_truncate(parser->token, 0);
	}
	size_t size;
	const unsigned char *data = i_stream_get_data(parser->input, &size);
	const unsigned char *lf = memchr(data, '\n', size);
	size_t len = lf == NULL ? size : (size_t)(lf - data);
	/* one more byte than the limit for a CR before the LF */
	size_t room = parser->limits.max_line_length + 1 - str_len(parser->token);
	int ret = 0;

	if (memchr(data, '\0', I_MIN(len, room)) != NULL) {
		ret = imap_parser_error(parser, IMAP_PARSE_ERROR_NUL, "NUL byte in line");
	} else if (len > room) {
		ret = imap_parser_error(parser, IMAP_PARSE_ERROR_LINE_TOO_LONG,
					"Line too long");
	}
	if (ret < 0) {
		parser->error_raw = true;
		parser->raw_active = false;
		i_stream_skip(parser->input, I_MIN(len, room));
		return -1;
	}
	str_append_n(parser->token, data, len);
	if (lf == NULL) {
		i_stream_skip(parser->input, len);
		return 0;
	}
	i_stream_skip(parser->input, len + 1);
	parser->raw_active = false;
	parser->line_ended = true;
	len = str_len(parser->token);
	if (len > 0 && str_data(parser->token)[len - 1] == '\r')
		str_truncate(parser->token, --len);
	if (len > parser->limits.max_line_length) {
		parser->error_raw = true;
		return imap_parser_error(parser, IMAP_PARSE_ERROR_LINE_TOO_LONG,
					 "Line too long");
	}
	*line_r = str_c(parser->token);
	return 1;
}

enum imap_literal_hdr_event
imap_literal_hdr_feed(struct imap_literal_hdr *hdr, unsigned char c)
{
	switch (hdr->state) {
	case IMAP_LITERAL_HDR_NONE:
		if (c != '{')
			return IMAP_LITERAL_HDR_EV_ERROR;
		hdr->state = IMAP_LITERAL_HDR_OPEN;
		hdr->size = 0;
		hdr->nonsync = hdr->overflow = false;
		return IMAP_LITERAL_HDR_EV_MORE;
	case IMAP_LITERAL_HDR_OPEN:
	case IMAP_LITERAL_HDR_DIGITS:
		if (c >= '0' && c <= '9') {
			unsigned int digit = c - '0';
			if (hdr->size > (IMAP_PARSER_MAX_NUMBER64 - digit) / 10)
				hdr->overflow = true; /* keep reading the digits */
			else
				hdr->size = hdr->size * 10 + digit;
			hdr->state = IMAP_LITERAL_HDR_DIGITS;
			return IMAP_LITERAL_HDR_EV_MORE;
		}
		if (hdr->state == IMAP_LITERAL_HDR_OPEN)
			return IMAP_LITERAL_HDR_EV_ERROR;
		if (c == '+') {
			hdr->nonsync = true;
			hdr->state = IMAP_LITERAL_HDR_PLUS;
			return IMAP_LITERAL_HDR_EV_MORE;
		}
		/* fall through */
	case IMAP_LITERAL_HDR_PLUS:
		if (c != '}')
			return IMAP_LITERAL_HDR_EV_ERROR;
		hdr->state = IMAP_LITERAL_HDR_CLOSED;
		return IMAP_LITERAL_HDR_EV_CLOSED;
	case IMAP_LITERAL_HDR_CLOSED:
		if (c == '\r') {
			hdr->state = IMAP_LITERAL_HDR_CR;
			return IMAP_LITERAL_HDR_EV_MORE;
		}
		/* fall through */
	case IMAP_LITERAL_HDR_CR:
		if (c != '\n')
			return IMAP_LITERAL_HDR_EV_ERROR;
		hdr->state = IMAP_LITERAL_HDR_NONE;
		return IMAP_LITERAL_HDR_EV_DONE;
	}
	i_unreached();
}

const char *imap_literal_hdr_error(const struct imap_literal_hdr *hdr)
{
	switch (hdr->state) {
	case IMAP_LITERAL_HDR_CLOSED:
	case IMAP_LITERAL_HDR_CR:
		return "Missing CRLF after literal size";
	case IMAP_LITERAL_HDR_PLUS:
		return "Missing '}' after literal size";
	default:
		return "Invalid literal size";
	}
}

/* Sets up skipping from where parsing stopped; 1 if the line has already
   ended. */
static int imap_parser_skip_begin(struct imap_parser *parser)
{
	parser->skipping = true;
	memset(&parser->skip_hdr, 0, sizeof(parser->skip_hdr));
	if (parser->line_ended)
		return 1;
	if (parser->phase == IMAP_PARSER_PHASE_LITERAL_STOP) {
		uint64_t consumed = i_stream_get_offset(parser->input) -
			parser->stop_offset;
		i_assert(consumed <= parser->stop_size);
		if (parser->stop_sync && consumed == 0)
			return 1;
		parser->skip_remaining = parser->stop_size - consumed;
	} else if (parser->lex == IMAP_PARSER_LEX_LITERAL_DATA) {
		if (!parser->lit.nonsync && parser->lit_remaining == parser->lit.size)
			return 1;
		parser->skip_remaining = parser->lit_remaining;
	} else if (parser->lex == IMAP_PARSER_LEX_LITERAL_HDR && !parser->error_raw) {
		parser->skip_hdr = parser->lit;
	}
	return 0;
}

/* Consumes bytes up to the LF ending the line; returns the bytes used and
   sets *done_r when the line ended. */
static size_t imap_parser_skip_data(struct imap_parser *parser,
				    const unsigned char *data, size_t size,
				    bool *done_r)
{
	size_t pos = 0;

	while (pos < size) {
		if (parser->skip_remaining > 0) {
			size_t n = I_MIN(size - pos, parser->skip_remaining);
			parser->skip_remaining -= n;
			pos += n;
			continue;
		}
		unsigned char c = data[pos++];
		if (parser->error_raw) {
			if (c == '\n') {
				*done_r = true;
				return pos;
			}
			continue;
		}
		/* a literal announced in the discarded line: a non-synchronizing
		   one's data follows at once; a synchronizing one gets no
		   continuation, so the line ends after its header */
		switch (imap_literal_hdr_feed(&parser->skip_hdr, c)) {
		case IMAP_LITERAL_HDR_EV_DONE:
			if (!parser->skip_hdr.nonsync || parser->skip_hdr.overflow) {
				*done_r = true;
				return pos;
			}
			parser->skip_remaining = parser->skip_hdr.size;
			continue;
		case IMAP_LITERAL_HDR_EV_ERROR:
			parser->skip_hdr.state = IMAP_LITERAL_HDR_NONE;
			if (c == '{')
				(void)imap_literal_hdr_feed(&parser->skip_hdr, c);
			break;
		default:
			break;
		}
		if (c == '\n') {
			*done_r = true;
			return pos;
		}
	}
	*done_r = false;
	return pos;
}

int imap_parser_skip_line(struct imap_parser *parser)
{
	if (parser->phase == IMAP_PARSER_PHASE_ERROR && parser->error_fatal)
		return -1;
	if (!parser->skipping && imap_parser_skip_begin(parser) > 0) {
		parser->line_ended = true;
		return 1;
	}
	if (parser->line_ended)
		return 1;

	size_t size;
	const unsigned char *data = i_stream_get_data(parser->input, &size);
	bool done = false;
	size_t pos = imap_parser_skip_data(parser, data, size, &done);

	i_stream_skip(parser->input, pos);
	if (!done)
		return 0;
	parser->line_ended = true;
	return 1;
}
