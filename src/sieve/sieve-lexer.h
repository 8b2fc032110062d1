/* Tokeniser for Sieve scripts (RFC 5228 §8.1 lexical tokens): identifiers,
 * tags, numbers with K/M/G quantifiers, quoted and multi-line strings,
 * bracket and hash comments, with line/column positions. Bounded by a
 * script size limit and a string length limit. */
#ifndef TERN_SIEVE_LEXER_H
#define TERN_SIEVE_LEXER_H

#include "pool.h"

/* RFC 5228 puts no limit on identifiers; no command, test or tag is near
   this long, so longer ones are typos or abuse. */
#define SIEVE_IDENTIFIER_MAX_LEN 32

enum sieve_token_type {
	SIEVE_TOKEN_EOF = 0,
	SIEVE_TOKEN_IDENTIFIER, /* str = the identifier */
	SIEVE_TOKEN_TAG,        /* str = the identifier without ':' */
	SIEVE_TOKEN_NUMBER,     /* number = value with quantifier applied */
	SIEVE_TOKEN_STRING,     /* str = decoded contents */
	SIEVE_TOKEN_LBRACKET,   /* [ */
	SIEVE_TOKEN_RBRACKET,   /* ] */
	SIEVE_TOKEN_LPAREN,     /* ( */
	SIEVE_TOKEN_RPAREN,     /* ) */
	SIEVE_TOKEN_LBRACE,     /* { */
	SIEVE_TOKEN_RBRACE,     /* } */
	SIEVE_TOKEN_COMMA,
	SIEVE_TOKEN_SEMICOLON,
	/* characters no token starts with (after a soft error) */
	SIEVE_TOKEN_INVALID,
};

struct sieve_token {
	enum sieve_token_type type;
	/* NUL-terminated, allocated from the lexer's pool; NULL for
	   punctuation, numbers and EOF. Strings cannot hold NUL (RFC 5228
	   §8.1 octet-not-crlf excludes it). */
	const char *str;
	size_t str_len;
	uint64_t number;
	/* 1-based position of the token's first byte */
	unsigned int line, column;
	/* the string was a multi-line "text:" string */
	bool multiline;
};

struct sieve_lexer_limits {
	/* whole script; 0 = 1 MiB */
	size_t max_script_size;
	/* one string's decoded length; 0 = 1 MiB */
	size_t max_string_len;
};

struct sieve_lexer;

/* Reads data (not copied: it must outlive the lexer). Token strings are
   allocated from pool and stay valid as long as it. limits may be NULL. */
struct sieve_lexer *sieve_lexer_create(pool_t pool, const void *data, size_t size,
				       const struct sieve_lexer_limits *limits);
void sieve_lexer_destroy(struct sieve_lexer **lexer);

/* Returns 1 with the next token, 0 at the end of the script (token_r is
   SIEVE_TOKEN_EOF with the end's position), -1 on a lexical error with
   *error_r "line N: text" (temporary memory). Most errors are soft: token_r
   then holds a stand-in (a too large number as UINT64_MAX, a too long
   identifier cut, SIEVE_TOKEN_INVALID for stray characters) and the next
   call goes on, so a parser can report several errors. After a fatal error
   (sieve_lexer_failed(): unterminated string or comment, NUL byte, a
   limit) every call fails the same way. */
int sieve_lexer_next(struct sieve_lexer *lexer, struct sieve_token *token_r,
		     const char **error_r);
bool sieve_lexer_failed(const struct sieve_lexer *lexer);

/* The position the next token will be read from. */
void sieve_lexer_get_position(const struct sieve_lexer *lexer,
			      unsigned int *line_r, unsigned int *column_r);

/* Printable name of a token type for error messages ("identifier", "'{'"). */
const char *sieve_token_type_name(enum sieve_token_type type);

#endif
