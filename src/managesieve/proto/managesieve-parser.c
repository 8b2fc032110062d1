/* The ManageSieve line parser (RFC 5804 §4 string, literal-c2s, atom,
 * number) as a byte-driven state machine, and the quoting of server
 * strings. */
#include "managesieve-parser.h"
#include "array.h"
#include "buffer.h"
#include "strnum.h"

/* RFC 5804 §4: quoted strings are meant for short values */
#define MANAGESIEVE_MAX_QUOTED_SIZE 1024
/* digits of a literal's size: more can't be a valid number64 */
#define MANAGESIEVE_MAX_LITERAL_DIGITS 19

enum parser_state {
	STATE_SEP,        /* between arguments */
	STATE_ATOM,
	STATE_QUOTED,
	STATE_QUOTED_ESC,
	STATE_LIT_SIZE,   /* after '{' */
	STATE_LIT_CLOSE,  /* after '+': '}' */
	STATE_LIT_EOL,    /* after '}': CRLF */
	STATE_LIT_LF,     /* after '}' CR: LF */
	STATE_LIT_DATA,
	STATE_CR,         /* CR at the end of a line: LF */
	STATE_AFTER_STRING, /* SP or the end of the line */
	STATE_SKIP,       /* bad line: up to its end, literals included */
};

struct managesieve_parser {
	struct istream *input;
	struct managesieve_parser_limits limits;
	pool_t pool; /* the current line's arguments */
	ARRAY(struct managesieve_arg) args;
	buffer_t *value;
	enum parser_state state;
	size_t line_len;
	uint64_t literal_size, literal_left, literal_total;
	bool literal_discard;
	/* in STATE_SKIP: a "{n+}" at the end of a skipped line */
	unsigned int skip_lit; /* 0 none, 1 digits, 2 '+', 3 '}', 4 CR */
	uint64_t skip_lit_size;

	enum managesieve_parse_error error;
	char error_text[96];
	char command[33];
	bool need_clear; /* the last line was returned: start afresh */
};

struct managesieve_parser *
managesieve_parser_create(struct istream *input, const struct managesieve_parser_limits *limits)
{
	struct managesieve_parser *parser = i_zalloc(sizeof(*parser));
	parser->input = input;
	if (limits != NULL)
		parser->limits = *limits;
	if (parser->limits.max_line_length == 0)
		parser->limits.max_line_length = MANAGESIEVE_PARSER_DEFAULT_MAX_LINE_LENGTH;
	if (parser->limits.max_literal_size == 0)
		parser->limits.max_literal_size = MANAGESIEVE_PARSER_DEFAULT_MAX_LITERAL_SIZE;
	if (parser->limits.max_args == 0)
		parser->limits.max_args = MANAGESIEVE_PARSER_DEFAULT_MAX_ARGS;
	parser->pool = pool_create("managesieve parser", 1024);
	parser->value = buffer_create(system_pool, 256);
	array_init(&parser->args, parser->pool, 4);
	return parser;
}

void managesieve_parser_destroy(struct managesieve_parser **_parser)
{
	struct managesieve_parser *parser = *_parser;
	if (parser == NULL)
		return;
	*_parser = NULL;
	buffer_free(&parser->value);
	pool_destroy(&parser->pool);
	free(parser);
}

void managesieve_parser_reset(struct managesieve_parser *parser)
{
	pool_clear(parser->pool);
	array_init(&parser->args, parser->pool, 4);
	buffer_clear(parser->value);
	parser->state = STATE_SEP;
	parser->line_len = 0;
	parser->literal_total = 0;
	parser->literal_discard = false;
	parser->skip_lit = 0;
	parser->command[0] = '\0';
	parser->error = MANAGESIEVE_PARSE_ERROR_NONE;
	parser->error_text[0] = '\0';
	parser->need_clear = false;
}

const char *managesieve_parser_get_error(struct managesieve_parser *parser,
					 enum managesieve_parse_error *code_r,
					 const char **command_r)
{
	*code_r = parser->error;
	if (command_r != NULL)
		*command_r = parser->command;
	return parser->error_text;
}

static void parser_fail(struct managesieve_parser *parser, enum managesieve_parse_error code,
			const char *text)
{
	/* the first error of a line is the one reported */
	if (parser->error == MANAGESIEVE_PARSE_ERROR_NONE) {
		parser->error = code;
		snprintf(parser->error_text, sizeof(parser->error_text), "%s", text);
	}
	parser->state = STATE_SKIP;
	parser->skip_lit = 0;
}

static void parser_arg_done(struct managesieve_parser *parser, enum managesieve_arg_type type,
			    bool literal)
{
	if (parser->args.count >= parser->limits.max_args) {
		parser_fail(parser, MANAGESIEVE_PARSE_ERROR_TOO_MANY_ARGS, "Too many arguments");
		return;
	}
	struct managesieve_arg *arg = array_append_space(&parser->args);
	arg->type = type;
	arg->literal = literal;
	arg->size = parser->value->used;
	arg->str = p_strndup(parser->pool, parser->value->data, parser->value->used);
	if (parser->args.count == 1 && type == MANAGESIEVE_ARG_ATOM) {
		size_t n = I_MIN(arg->size, sizeof(parser->command) - 1);
		for (size_t i = 0; i < n; i++) {
			char c = arg->str[i];
			parser->command[i] = (char)(c >= 'a' && c <= 'z' ? c - 32 : c);
		}
		parser->command[n] = '\0';
	}
	buffer_clear(parser->value);
	parser->state = STATE_SEP;
}

static bool is_atom_char(unsigned char c)
{
	/* RFC 5804 §4 ATOM-CHAR: no CTLs, SP, quotes, braces or list chars */
	return c > 0x20 && c < 0x7f && c != '"' && c != '{' && c != '}' &&
		c != '(' && c != ')' && c != '%' && c != '*' && c != '\\';
}

/* A byte in STATE_SKIP: looks for the end of the line, and for a literal
   announced at the end of a skipped line, whose octets are skipped too.
   Returns true at the end of the line. */
static bool parser_skip_byte(struct managesieve_parser *parser, unsigned char c)
{
	switch (c) {
	case '{':
		parser->skip_lit = 1;
		parser->skip_lit_size = 0;
		return false;
	case '+':
		parser->skip_lit = parser->skip_lit == 1 ? 2 : 0;
		return false;
	case '}':
		parser->skip_lit = parser->skip_lit == 1 || parser->skip_lit == 2 ? 3 : 0;
		return false;
	case '\r':
		parser->skip_lit = parser->skip_lit == 3 ? 4 : 0;
		return false;
	case '\n':
		if (parser->skip_lit >= 3) {
			parser->skip_lit = 0;
			parser->literal_left = parser->skip_lit_size;
			parser->literal_discard = true;
			/* back to STATE_SKIP once the octets are gone */
			parser->state = parser->literal_left > 0 ? STATE_LIT_DATA : STATE_SKIP;
			return false;
		}
		return true;
	default:
		if (parser->skip_lit == 1 && c >= '0' && c <= '9' &&
		    parser->skip_lit_size <= (UINT64_MAX - 9) / 10) {
			parser->skip_lit_size = parser->skip_lit_size * 10 + (c - '0');
			return false;
		}
		parser->skip_lit = 0;
		return false;
	}
}

static void parser_literal_start(struct managesieve_parser *parser)
{
	parser->literal_left = parser->literal_size;
	parser->literal_discard = false;
	if (parser->literal_size > parser->limits.max_literal_size ||
	    parser->literal_total + parser->literal_size > parser->limits.max_literal_size) {
		parser_fail(parser, MANAGESIEVE_PARSE_ERROR_LITERAL_TOO_LARGE,
			    "Literal too large");
		parser->literal_discard = true;
	}
	parser->literal_total += parser->literal_size;
	buffer_clear(parser->value);
	if (parser->literal_left > 0) {
		parser->state = STATE_LIT_DATA;
	} else if (parser->literal_discard) {
		parser->state = STATE_SKIP;
	} else {
		parser_arg_done(parser, MANAGESIEVE_ARG_STRING, true);
		if (parser->state == STATE_SEP)
			parser->state = STATE_AFTER_STRING;
	}
}

/* Literal octets: copied (or dropped) in bulk. Returns bytes used. */
static size_t parser_literal_data(struct managesieve_parser *parser,
				  const unsigned char *data, size_t size)
{
	size_t n = parser->literal_left < size ? (size_t)parser->literal_left : size;
	if (!parser->literal_discard)
		buffer_append(parser->value, data, n);
	parser->literal_left -= n;
	if (parser->literal_left == 0) {
		if (parser->literal_discard) {
			parser->state = STATE_SKIP;
		} else {
			parser_arg_done(parser, MANAGESIEVE_ARG_STRING, true);
			if (parser->state == STATE_SEP)
				parser->state = STATE_AFTER_STRING;
		}
	}
	return n;
}

/* Fails the line at byte c, which the skipping then looks at (it may end
   the line). Returns 1 at the end of the line. */
static int parser_fail_at(struct managesieve_parser *parser, enum managesieve_parse_error code,
			  const char *text, unsigned char c)
{
	parser_fail(parser, code, text);
	return parser_skip_byte(parser, c) ? 1 : 0;
}

static int parser_byte_sep(struct managesieve_parser *parser, unsigned char c)
{
	switch (c) {
	case ' ':
		return 0;
	case '\r':
		parser->state = STATE_CR;
		return 0;
	case '\n':
		return 1;
	case '"':
		parser->state = STATE_QUOTED;
		return 0;
	case '{':
		parser->state = STATE_LIT_SIZE;
		parser->literal_size = 0;
		buffer_clear(parser->value);
		return 0;
	}
	if (!is_atom_char(c))
		return parser_fail_at(parser, MANAGESIEVE_PARSE_ERROR_SYNTAX,
				      "Unexpected character in command line", c);
	parser->state = STATE_ATOM;
	buffer_append_c(parser->value, c);
	return 0;
}

static int parser_byte_quoted(struct managesieve_parser *parser, unsigned char c)
{
	if (parser->state == STATE_QUOTED_ESC) {
		/* RFC 5804 §4 QUOTED-SPECIALS */
		if (c != '"' && c != '\\')
			return parser_fail_at(parser, MANAGESIEVE_PARSE_ERROR_SYNTAX,
					      "Invalid escape in quoted string", c);
		buffer_append_c(parser->value, c);
		parser->state = STATE_QUOTED;
		return 0;
	}
	if (c == '"') {
		parser_arg_done(parser, MANAGESIEVE_ARG_STRING, false);
		if (parser->state == STATE_SEP)
			parser->state = STATE_AFTER_STRING;
		return 0;
	}
	if (c == '\\') {
		parser->state = STATE_QUOTED_ESC;
		return 0;
	}
	if (c == '\r' || c == '\n' || c == '\0')
		return parser_fail_at(parser, MANAGESIEVE_PARSE_ERROR_SYNTAX,
				      "Quoted string can't contain CR, LF or NUL", c);
	if (parser->value->used >= MANAGESIEVE_MAX_QUOTED_SIZE)
		return parser_fail_at(parser, MANAGESIEVE_PARSE_ERROR_LINE_TOO_LONG,
				      "Quoted string too long (use a literal)", c);
	buffer_append_c(parser->value, c);
	return 0;
}

static int parser_byte_literal(struct managesieve_parser *parser, unsigned char c)
{
	switch (parser->state) {
	case STATE_LIT_SIZE:
		if (c >= '0' && c <= '9' && parser->value->used < MANAGESIEVE_MAX_LITERAL_DIGITS) {
			buffer_append_c(parser->value, c);
			parser->literal_size = parser->literal_size * 10 + (uint64_t)(c - '0');
			return 0;
		}
		if (parser->value->used == 0 || (c != '+' && c != '}'))
			return parser_fail_at(parser, MANAGESIEVE_PARSE_ERROR_SYNTAX,
					      "Invalid literal size", c);
		parser->state = c == '+' ? STATE_LIT_CLOSE : STATE_LIT_EOL;
		return 0;
	case STATE_LIT_CLOSE:
		if (c != '}')
			return parser_fail_at(parser, MANAGESIEVE_PARSE_ERROR_SYNTAX,
					      "Invalid literal size", c);
		parser->state = STATE_LIT_EOL;
		return 0;
	default:
		if (c == '\r' && parser->state == STATE_LIT_EOL) {
			parser->state = STATE_LIT_LF;
			return 0;
		}
		if (c != '\n')
			return parser_fail_at(parser, MANAGESIEVE_PARSE_ERROR_SYNTAX,
					      "Missing CRLF after literal size", c);
		parser_literal_start(parser);
		return 0;
	}
}

static int parser_byte_state(struct managesieve_parser *parser, unsigned char c)
{
	switch (parser->state) {
	case STATE_SEP:
		return parser_byte_sep(parser, c);
	case STATE_ATOM:
		if (is_atom_char(c)) {
			buffer_append_c(parser->value, c);
			return 0;
		}
		if (c != ' ' && c != '\r' && c != '\n')
			return parser_fail_at(parser, MANAGESIEVE_PARSE_ERROR_SYNTAX,
					      "Invalid character in atom", c);
		parser_arg_done(parser, MANAGESIEVE_ARG_ATOM, false);
		if (parser->state != STATE_SEP)
			return parser_skip_byte(parser, c) ? 1 : 0;
		return parser_byte_sep(parser, c);
	case STATE_QUOTED:
	case STATE_QUOTED_ESC:
		return parser_byte_quoted(parser, c);
	case STATE_LIT_SIZE:
	case STATE_LIT_CLOSE:
	case STATE_LIT_EOL:
	case STATE_LIT_LF:
		return parser_byte_literal(parser, c);
	case STATE_CR:
		if (c == '\n')
			return 1;
		return parser_fail_at(parser, MANAGESIEVE_PARSE_ERROR_SYNTAX, "CR without LF", c);
	case STATE_AFTER_STRING:
		if (c == ' ' || c == '\r' || c == '\n') {
			parser->state = STATE_SEP;
			return parser_byte_sep(parser, c);
		}
		return parser_fail_at(parser, MANAGESIEVE_PARSE_ERROR_SYNTAX,
				      "Missing space after string", c);
	case STATE_SKIP:
	case STATE_LIT_DATA:
		break;
	}
	return parser_skip_byte(parser, c) ? 1 : 0;
}

/* One byte outside literal data. Returns 1 at the end of the line. */
static int parser_byte(struct managesieve_parser *parser, unsigned char c)
{
	if (parser->state == STATE_SKIP)
		return parser_skip_byte(parser, c) ? 1 : 0;
	if (++parser->line_len > parser->limits.max_line_length)
		return parser_fail_at(parser, MANAGESIEVE_PARSE_ERROR_LINE_TOO_LONG,
				      "Line too long", c);
	return parser_byte_state(parser, c);
}

int managesieve_parser_read(struct managesieve_parser *parser,
			    const struct managesieve_arg **args_r, unsigned int *count_r)
{
	size_t size, pos = 0;
	const unsigned char *data = i_stream_get_data(parser->input, &size);
	int ret = 0;

	if (parser->need_clear)
		managesieve_parser_reset(parser);
	while (pos < size && ret == 0) {
		if (parser->state == STATE_LIT_DATA)
			pos += parser_literal_data(parser, data + pos, size - pos);
		else
			ret = parser_byte(parser, data[pos++]);
	}
	i_stream_skip(parser->input, pos);
	if (ret == 0)
		return 0;
	/* what was returned stays valid until the next read */
	parser->need_clear = true;
	if (parser->error != MANAGESIEVE_PARSE_ERROR_NONE)
		return -1;
	*args_r = parser->args.v;
	*count_r = parser->args.count;
	return 1;
}

bool managesieve_arg_get_string(const struct managesieve_arg *arg, const char **str_r)
{
	if (arg->type != MANAGESIEVE_ARG_STRING)
		return false;
	*str_r = arg->str;
	return true;
}

bool managesieve_arg_get_number(const struct managesieve_arg *arg, uint64_t *num_r)
{
	/* RFC 5804 §4 number: 1*DIGIT, up to 4294967296 in practice */
	if (arg->type != MANAGESIEVE_ARG_ATOM || arg->size == 0 ||
	    strspn(arg->str, "0123456789") != arg->size)
		return false;
	return str_to_uint64(arg->str, num_r) == 0 && *num_r <= (uint64_t)INT64_MAX;
}

void managesieve_quote_append(string_t *dest, const void *data, size_t size)
{
	const unsigned char *p = data;
	bool quotable = size <= MANAGESIEVE_MAX_QUOTED_SIZE;
	for (size_t i = 0; i < size && quotable; i++) {
		if (p[i] == '\r' || p[i] == '\n' || p[i] == '\0')
			quotable = false;
	}
	if (!quotable) {
		str_printfa(dest, "{%zu}\r\n", size);
		str_append_n(dest, data, size);
		return;
	}
	str_append_c(dest, '"');
	for (size_t i = 0; i < size; i++) {
		if (p[i] == '"' || p[i] == '\\')
			str_append_c(dest, '\\');
		str_append_c(dest, (char)p[i]);
	}
	str_append_c(dest, '"');
}

void managesieve_reply_append(string_t *dest, const char *status, const char *code,
			      const char *text)
{
	str_append(dest, status);
	if (code != NULL)
		str_printfa(dest, " (%s)", code);
	if (text != NULL) {
		str_append_c(dest, ' ');
		managesieve_quote_append_str(dest, text);
	}
	str_append(dest, "\r\n");
}
