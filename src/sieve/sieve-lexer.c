/* Sieve tokeniser (RFC 5228 §8.1). Works on the whole script in memory,
 * which the size limit keeps small; tracks line and column for errors. */
#include "sieve-lexer.h"
#include "buffer.h"

#include <strings.h>

#define SIEVE_DEFAULT_MAX_SCRIPT_SIZE (1024 * 1024)
#define SIEVE_DEFAULT_MAX_STRING_LEN (1024 * 1024)

struct sieve_lexer {
	pool_t pool;
	const unsigned char *data;
	size_t size, pos;
	unsigned int line, column;
	struct sieve_lexer_limits limits;
	/* a fatal error: every later call fails with it */
	const char *error;
	/* a recoverable error of the token just read (a stand-in token was
	   produced) */
	const char *soft_error;
};

struct sieve_lexer *sieve_lexer_create(pool_t pool, const void *data, size_t size,
				       const struct sieve_lexer_limits *limits)
{
	struct sieve_lexer *lexer = p_new(pool, struct sieve_lexer, 1);

	lexer->pool = pool;
	lexer->data = data;
	lexer->size = size;
	lexer->line = 1;
	lexer->column = 1;
	if (limits != NULL)
		lexer->limits = *limits;
	if (lexer->limits.max_script_size == 0)
		lexer->limits.max_script_size = SIEVE_DEFAULT_MAX_SCRIPT_SIZE;
	if (lexer->limits.max_string_len == 0)
		lexer->limits.max_string_len = SIEVE_DEFAULT_MAX_STRING_LEN;
	if (size > lexer->limits.max_script_size) {
		lexer->error = p_strdup_printf(pool,
			"line 1: script too large (%zu bytes, limit %zu)",
			size, lexer->limits.max_script_size);
	}
	return lexer;
}

void sieve_lexer_destroy(struct sieve_lexer **lexer)
{
	/* everything lives in the caller's pool */
	*lexer = NULL;
}

void sieve_lexer_get_position(const struct sieve_lexer *lexer,
			      unsigned int *line_r, unsigned int *column_r)
{
	*line_r = lexer->line;
	*column_r = lexer->column;
}

static int lexer_fail(struct sieve_lexer *lexer, unsigned int line,
		      const char *fmt, ...) ATTR_PRINTF(3, 4);
static int lexer_fail(struct sieve_lexer *lexer, unsigned int line,
		      const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	lexer->error = p_strconcat(lexer->pool,
				   p_strdup_printf(lexer->pool, "line %u: ", line),
				   p_strdup_vprintf(lexer->pool, fmt, args), NULL);
	va_end(args);
	return -1;
}

/* A recoverable error: the caller gets a stand-in token and may go on. */
static int lexer_fail_soft(struct sieve_lexer *lexer, unsigned int line,
			   const char *fmt, ...) ATTR_PRINTF(3, 4);
static int lexer_fail_soft(struct sieve_lexer *lexer, unsigned int line,
			   const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	lexer->soft_error = t_strconcat(t_strdup_printf("line %u: ", line),
					p_strdup_vprintf(t_pool(), fmt, args), NULL);
	va_end(args);
	return -1;
}

static inline int lexer_peek(const struct sieve_lexer *lexer, size_t offset)
{
	return lexer->pos + offset < lexer->size ? lexer->data[lexer->pos + offset] : -1;
}

static void lexer_advance(struct sieve_lexer *lexer)
{
	if (lexer->data[lexer->pos++] == '\n') {
		lexer->line++;
		lexer->column = 1;
	} else {
		lexer->column++;
	}
}

static int lexer_check_nul(struct sieve_lexer *lexer)
{
	if (lexer->data[lexer->pos] == '\0')
		return lexer_fail(lexer, lexer->line, "NUL byte in script");
	return 0;
}

/* Skips whitespace and comments (RFC 5228 §2.3). */
static int lexer_skip_white(struct sieve_lexer *lexer)
{
	for (;;) {
		int c = lexer_peek(lexer, 0);

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			lexer_advance(lexer);
		} else if (c == '#') {
			while (lexer->pos < lexer->size && lexer->data[lexer->pos] != '\n') {
				if (lexer_check_nul(lexer) < 0)
					return -1;
				lexer_advance(lexer);
			}
		} else if (c == '/' && lexer_peek(lexer, 1) == '*') {
			unsigned int start_line = lexer->line;

			lexer_advance(lexer);
			lexer_advance(lexer);
			while (!(lexer_peek(lexer, 0) == '*' && lexer_peek(lexer, 1) == '/')) {
				if (lexer->pos >= lexer->size) {
					return lexer_fail(lexer, start_line,
						"unterminated bracket comment");
				}
				if (lexer_check_nul(lexer) < 0)
					return -1;
				lexer_advance(lexer);
			}
			lexer_advance(lexer);
			lexer_advance(lexer);
		} else {
			return 0;
		}
	}
}

static int lexer_string_append(struct sieve_lexer *lexer, string_t *str,
			       const void *data, size_t size, unsigned int line)
{
	if (str_len(str) + size > lexer->limits.max_string_len) {
		return lexer_fail(lexer, line, "string too long (limit %zu bytes)",
				  lexer->limits.max_string_len);
	}
	str_append_n(str, data, size);
	return 0;
}

/* RFC 5228 §2.4.2: a backslash escapes the next character; unknown
   escapes just lose the backslash. A line break inside the string is CRLF
   in the value (the grammar's CRLF), also where the file has a bare LF. */
static int lexer_read_quoted(struct sieve_lexer *lexer, struct sieve_token *token_r)
{
	string_t *str = str_new(lexer->pool, 64);
	unsigned int line = lexer->line;

	lexer_advance(lexer);
	for (;;) {
		int c = lexer_peek(lexer, 0);

		if (c < 0)
			return lexer_fail(lexer, line, "unterminated quoted string");
		if (c == '"')
			break;
		if (c == '\\') {
			lexer_advance(lexer);
			c = lexer_peek(lexer, 0);
			if (c < 0)
				return lexer_fail(lexer, line, "unterminated quoted string");
		}
		if (lexer_check_nul(lexer) < 0)
			return -1;
		/* an escaped line break is a line break too (RFC 5228
		   §2.4.2: other escapes just lose the backslash) */
		if (c == '\n' &&
		    (str_len(str) == 0 || str_data(str)[str_len(str) - 1] != '\r') &&
		    lexer_string_append(lexer, str, "\r", 1, line) < 0)
			return -1;
		unsigned char ch = (unsigned char)c;
		if (lexer_string_append(lexer, str, &ch, 1, line) < 0)
			return -1;
		lexer_advance(lexer);
	}
	lexer_advance(lexer);
	token_r->type = SIEVE_TOKEN_STRING;
	token_r->str = str_c(str);
	token_r->str_len = str_len(str);
	return 1;
}

/* Length of the line starting at pos, line ending included. */
static size_t lexer_line_length(const struct sieve_lexer *lexer)
{
	const unsigned char *nl = memchr(lexer->data + lexer->pos, '\n',
					 lexer->size - lexer->pos);

	return nl == NULL ? lexer->size - lexer->pos :
		(size_t)(nl - (lexer->data + lexer->pos)) + 1;
}

/* RFC 5228 §2.4.2 multi-line strings: "text:" then optional whitespace
   and a hash comment up to the line end, then dot-stuffed lines ended by
   a line holding a single ".". Every line ends in CRLF in the value, as
   the grammar writes it (CRLF), whatever the stored script used, so a
   text: value is the same whether the file has LF or CRLF lines. */
static int lexer_read_multiline(struct sieve_lexer *lexer, struct sieve_token *token_r)
{
	string_t *str = str_new(lexer->pool, 128);
	unsigned int line = lexer->line;
	int c;

	for (unsigned int i = 0; i < 5; i++)
		lexer_advance(lexer);
	while ((c = lexer_peek(lexer, 0)) == ' ' || c == '\t')
		lexer_advance(lexer);
	if (c == '#') {
		while ((c = lexer_peek(lexer, 0)) >= 0 && c != '\n')
			lexer_advance(lexer);
	} else if (c == '\r' && lexer_peek(lexer, 1) == '\n') {
		lexer_advance(lexer);
	}
	if (c < 0 || lexer_peek(lexer, 0) != '\n')
		return lexer_fail(lexer, line, "expected end of line after 'text:'");
	lexer_advance(lexer);

	for (;;) {
		size_t len = lexer_line_length(lexer);
		const unsigned char *p = lexer->data + lexer->pos;

		if (len == 0)
			return lexer_fail(lexer, line, "unterminated multi-line string");
		if (memchr(p, '\0', len) != NULL)
			return lexer_fail(lexer, lexer->line, "NUL byte in script");
		if (p[0] == '.' && (len == 1 || (len == 2 && p[1] == '\n') ||
				    (len == 3 && p[1] == '\r' && p[2] == '\n'))) {
			for (size_t i = 0; i < len; i++)
				lexer_advance(lexer);
			break;
		}
		size_t skip = p[0] == '.' && len > 1 && p[1] == '.' ? 1 : 0;
		size_t text_len = len - skip;
		bool nl = p[len - 1] == '\n';

		if (nl)
			text_len -= len - skip >= 2 && p[len - 2] == '\r' ? 2 : 1;
		if (lexer_string_append(lexer, str, p + skip, text_len, line) < 0)
			return -1;
		if (nl && lexer_string_append(lexer, str, (const unsigned char *)"\r\n", 2,
					      line) < 0)
			return -1;
		for (size_t i = 0; i < len; i++)
			lexer_advance(lexer);
	}
	token_r->type = SIEVE_TOKEN_STRING;
	token_r->str = str_c(str);
	token_r->str_len = str_len(str);
	token_r->multiline = true;
	return 1;
}

static bool is_ident_start(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_ident_char(int c)
{
	return is_ident_start(c) || (c >= '0' && c <= '9');
}

static int lexer_read_identifier(struct sieve_lexer *lexer, struct sieve_token *token_r,
				 enum sieve_token_type type)
{
	size_t start = lexer->pos, len = 0;

	while (is_ident_char(lexer_peek(lexer, len)))
		len++;
	for (size_t i = 0; i < len; i++)
		lexer_advance(lexer);
	token_r->type = type;
	if (len > SIEVE_IDENTIFIER_MAX_LEN) {
		/* the stand-in keeps the first characters */
		token_r->str = p_strndup(lexer->pool, lexer->data + start,
					 SIEVE_IDENTIFIER_MAX_LEN);
		token_r->str_len = SIEVE_IDENTIFIER_MAX_LEN;
		return lexer_fail_soft(lexer, token_r->line,
				       "%s is too long (limit %u characters)",
				       type == SIEVE_TOKEN_TAG ? "tag" : "identifier",
				       SIEVE_IDENTIFIER_MAX_LEN);
	}
	token_r->str = p_strndup(lexer->pool, lexer->data + start, len);
	token_r->str_len = len;
	return 1;
}

/* RFC 5228 §2.4.1: digits with an optional K, M or G (powers of 1024).
   Too large or followed by letters: a soft error, the whole run of
   characters is one (saturated) number. */
static int lexer_read_number(struct sieve_lexer *lexer, struct sieve_token *token_r)
{
	uint64_t value = 0;
	bool overflow = false;
	int c;

	while ((c = lexer_peek(lexer, 0)) >= '0' && c <= '9') {
		if (__builtin_mul_overflow(value, 10, &value) ||
		    __builtin_add_overflow(value, (uint64_t)(c - '0'), &value))
			overflow = true;
		lexer_advance(lexer);
	}
	unsigned int shift = 0;
	switch (c) {
	case 'k': case 'K': shift = 10; break;
	case 'm': case 'M': shift = 20; break;
	case 'g': case 'G': shift = 30; break;
	}
	if (shift != 0) {
		if (value > (UINT64_MAX >> shift))
			overflow = true;
		value <<= shift;
		lexer_advance(lexer);
		c = lexer_peek(lexer, 0);
	}
	token_r->type = SIEVE_TOKEN_NUMBER;
	token_r->number = overflow ? UINT64_MAX : value;
	if (is_ident_char(c)) {
		while (is_ident_char(lexer_peek(lexer, 0)))
			lexer_advance(lexer);
		return lexer_fail_soft(lexer, token_r->line, "invalid character after number");
	}
	if (overflow)
		return lexer_fail_soft(lexer, token_r->line, "number is too large");
	return 1;
}

/* Skips a run of characters no token starts with; they become one
   SIEVE_TOKEN_INVALID (a soft error). */
static int lexer_read_invalid(struct sieve_lexer *lexer, struct sieve_token *token_r)
{
	int c = lexer_peek(lexer, 0);
	const char *error = c >= 0x20 && c < 0x7f ?
		t_strdup_printf("unexpected character '%c'", c) :
		t_strdup_printf("unexpected byte 0x%02x", (unsigned int)c);

	do {
		lexer_advance(lexer);
		c = lexer_peek(lexer, 0);
	} while (c > 0 && c != ' ' && c != '\t' && c != '\r' && c != '\n' &&
		 strchr("[]{}(),;\":#/", c) == NULL && !is_ident_char(c));
	token_r->type = SIEVE_TOKEN_INVALID;
	return lexer_fail_soft(lexer, token_r->line, "%s", error);
}

static int lexer_read_token(struct sieve_lexer *lexer, struct sieve_token *token_r)
{
	static const char punct[] = "[]{}(),;";
	static const enum sieve_token_type punct_types[] = {
		SIEVE_TOKEN_LBRACKET, SIEVE_TOKEN_RBRACKET, SIEVE_TOKEN_LBRACE,
		SIEVE_TOKEN_RBRACE, SIEVE_TOKEN_LPAREN, SIEVE_TOKEN_RPAREN,
		SIEVE_TOKEN_COMMA, SIEVE_TOKEN_SEMICOLON,
	};
	int c = lexer_peek(lexer, 0);
	const char *p;

	if (c < 0) {
		token_r->type = SIEVE_TOKEN_EOF;
		return 0;
	}
	if (c != 0 && (p = strchr(punct, c)) != NULL) {
		token_r->type = punct_types[p - punct];
		lexer_advance(lexer);
		return 1;
	}
	if (c == '"')
		return lexer_read_quoted(lexer, token_r);
	if (c >= '0' && c <= '9')
		return lexer_read_number(lexer, token_r);
	if (c == ':') {
		if (!is_ident_start(lexer_peek(lexer, 1))) {
			lexer_advance(lexer);
			token_r->type = SIEVE_TOKEN_INVALID;
			return lexer_fail_soft(lexer, token_r->line,
					       "':' not followed by a tag name");
		}
		lexer_advance(lexer);
		return lexer_read_identifier(lexer, token_r, SIEVE_TOKEN_TAG);
	}
	if (is_ident_start(c)) {
		if (lexer->size - lexer->pos >= 5 &&
		    strncasecmp((const char *)lexer->data + lexer->pos, "text:", 5) == 0)
			return lexer_read_multiline(lexer, token_r);
		return lexer_read_identifier(lexer, token_r, SIEVE_TOKEN_IDENTIFIER);
	}
	if (c == 0)
		return lexer_fail(lexer, lexer->line, "NUL byte in script");
	return lexer_read_invalid(lexer, token_r);
}

int sieve_lexer_next(struct sieve_lexer *lexer, struct sieve_token *token_r,
		     const char **error_r)
{
	int ret;

	memset(token_r, 0, sizeof(*token_r));
	lexer->soft_error = NULL;
	if (lexer->error == NULL && lexer_skip_white(lexer) == 0) {
		token_r->line = lexer->line;
		token_r->column = lexer->column;
		ret = lexer_read_token(lexer, token_r);
		if (ret >= 0)
			return ret;
		if (lexer->error == NULL) {
			*error_r = lexer->soft_error;
			return -1;
		}
	}
	*error_r = lexer->error;
	return -1;
}

bool sieve_lexer_failed(const struct sieve_lexer *lexer)
{
	return lexer->error != NULL;
}

const char *sieve_token_type_name(enum sieve_token_type type)
{
	static const char *const names[] = {
		[SIEVE_TOKEN_EOF] = "end of script",
		[SIEVE_TOKEN_IDENTIFIER] = "identifier",
		[SIEVE_TOKEN_TAG] = "tag",
		[SIEVE_TOKEN_NUMBER] = "number",
		[SIEVE_TOKEN_STRING] = "string",
		[SIEVE_TOKEN_LBRACKET] = "'['",
		[SIEVE_TOKEN_RBRACKET] = "']'",
		[SIEVE_TOKEN_LPAREN] = "'('",
		[SIEVE_TOKEN_RPAREN] = "')'",
		[SIEVE_TOKEN_LBRACE] = "'{'",
		[SIEVE_TOKEN_RBRACE] = "'}'",
		[SIEVE_TOKEN_COMMA] = "','",
		[SIEVE_TOKEN_SEMICOLON] = "';'",
		[SIEVE_TOKEN_INVALID] = "invalid characters",
	};
	return type < N_ELEMENTS(names) ? names[type] : "?";
}
