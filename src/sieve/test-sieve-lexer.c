/* Unit tests for sieve-lexer.c: the RFC 5228 §8.1 tokens, comments,
 * multi-line strings with dot-stuffing, numbers and their limits, and
 * line numbers in errors. */
#include "test-common.h"
#include "buffer.h"
#include "sieve-lexer.h"

/* Renders all tokens of a script: identifiers bare, tags ":x", numbers
   decimal, strings "<...>" (multi-line "T<...>"), punctuation itself;
   on an error "ERR:" + the message. */
static const char *lex_all(const char *script, const struct sieve_lexer_limits *limits)
{
	pool_t pool = pool_create("test", 1024);
	struct sieve_lexer *lexer = sieve_lexer_create(pool, script, strlen(script), limits);
	string_t *out = t_str_new(128);
	struct sieve_token token;
	const char *error;
	int ret;

	while ((ret = sieve_lexer_next(lexer, &token, &error)) > 0) {
		if (str_len(out) > 0)
			str_append_c(out, ' ');
		switch (token.type) {
		case SIEVE_TOKEN_IDENTIFIER: str_append(out, token.str); break;
		case SIEVE_TOKEN_TAG: str_printfa(out, ":%s", token.str); break;
		case SIEVE_TOKEN_NUMBER:
			str_printfa(out, "%llu", (unsigned long long)token.number);
			break;
		case SIEVE_TOKEN_STRING:
			str_printfa(out, "%s<%s>", token.multiline ? "T" : "", token.str);
			break;
		default: {
			const char *name = sieve_token_type_name(token.type);
			str_append_c(out, name[1]);
		}
		}
	}
	if (ret < 0) {
		str_truncate(out, 0);
		str_printfa(out, "ERR:%s", error);
	}
	sieve_lexer_destroy(&lexer);
	pool_destroy(&pool);
	return str_c(out);
}

struct lex_test {
	const char *script, *expected;
};

static const struct lex_test lex_tests[] = {
	{ "", "" },
	{ "keep;", "keep ;" },
	{ "if header :is \"a\" [\"b\",\"c\"] { stop; }",
	  "if header :is <a> [ <b> , <c> ] { stop ; }" },
	{ "anyof(true,false)", "anyof ( true , false )" },
	{ "FileInto_2 :Copy", "FileInto_2 :Copy" },
	/* numbers and quantifiers (RFC 5228 §2.4.1) */
	{ "0 42 1K 1k 2M 3G", "0 42 1024 1024 2097152 3221225472" },
	{ "18446744073709551615", "18446744073709551615" },
	{ "18446744073709551616", "ERR:line 1: number is too large" },
	{ "\n\n49834598293485814273947921734981723971293741923",
	  "ERR:line 3: number is too large" },
	{ "17179869184G", "ERR:line 1: number is too large" },
	{ "17179869183G", "18446744072635809792" },
	{ "12x", "ERR:line 1: invalid character after number" },
	/* quoted strings (RFC 5228 §2.4.2) */
	{ "\"\"", "<>" },
	{ "\"a\\\"b\\\\c\"", "<a\"b\\c>" },
	{ "\"\\a\\a\\q\"", "<aaq>" },
	{ "\"line1\nline2\"", "<line1\r\nline2>" },
	{ "\"a\r\nb\\\nc\"", "<a\r\nb\r\nc>" },
	{ "\"open", "ERR:line 1: unterminated quoted string" },
	{ "\"esc\\", "ERR:line 1: unterminated quoted string" },
	/* multi-line strings and dot-stuffing */
	{ "text:\nabc\n.\n", "T<abc\r\n>" },
	{ "text:\na\r\nb\n.\n", "T<a\r\nb\r\n>" },
	{ "text: # comment\r\n..x\r\n.y\r\n\r\n.\r\n;",
	  "T<.x\r\n.y\r\n\r\n> ;" },
	{ "TEXT:  \t\nA\n.", "T<A\r\n>" },
	{ "text:\n.\n", "T<>" },
	{ "text:\n..\n.\n", "T<.\r\n>" },
	{ "text: x\nabc\n.\n", "ERR:line 1: expected end of line after 'text:'" },
	{ "\ntext:\nabc\n", "ERR:line 2: unterminated multi-line string" },
	{ "text :is", "text :is" },
	/* comments (RFC 5228 §2.3) */
	{ "# hash\nkeep; # trailing", "keep ;" },
	{ "/* a\n * b */ stop /**/;", "stop ;" },
	{ "/* a * / b */x", "x" },
	{ "keep;\n/* open\n", "ERR:line 2: unterminated bracket comment" },
	{ "keep /", "ERR:line 1: unexpected character '/'" },
	/* identifiers and tags */
	{ "abcdefghijabcdefghijabcdefghij12", "abcdefghijabcdefghijabcdefghij12" },
	{ "abcdefghijabcdefghijabcdefghij123",
	  "ERR:line 1: identifier is too long (limit 32 characters)" },
	{ ":abcdefghijabcdefghijabcdefghij123",
	  "ERR:line 1: tag is too long (limit 32 characters)" },
	{ ": is", "ERR:line 1: ':' not followed by a tag name" },
	{ "keep\n\n  @", "ERR:line 3: unexpected character '@'" },
	{ "keep \x80", "ERR:line 1: unexpected byte 0x80" },
	{ "\"\xc3\xa9\"", "<\xc3\xa9>" },
};

static void test_lexer_tokens(void)
{
	test_begin("sieve lexer tokens");
	for (unsigned int i = 0; i < N_ELEMENTS(lex_tests); i++)
		test_assert_strcmp(lex_all(lex_tests[i].script, NULL), lex_tests[i].expected);
	t_pool_clear();
	test_end();
}

static void test_lexer_nul(void)
{
	static const char *const scripts[] = {
		"\"a\0b\"", "# c\0\nkeep;", "/* \0 */", "text:\na\0\n.\n", "keep\0",
	};
	static const size_t sizes[] = { 5, 10, 7, 11, 5 };

	test_begin("sieve lexer NUL bytes");
	for (unsigned int i = 0; i < N_ELEMENTS(scripts); i++) {
		pool_t pool = pool_create("test", 256);
		struct sieve_lexer *lexer =
			sieve_lexer_create(pool, scripts[i], sizes[i], NULL);
		struct sieve_token token;
		const char *error = NULL;
		int ret;

		while ((ret = sieve_lexer_next(lexer, &token, &error)) > 0) ;
		test_assert(ret == -1);
		sieve_lexer_destroy(&lexer);
		pool_destroy(&pool);
	}
	test_end();
}

static void test_lexer_positions(void)
{
	pool_t pool = pool_create("test", 256);
	const char *script = "require \"x\";\n  if true {\n\tkeep;}";
	static const unsigned int expected[][2] = {
		{ 1, 1 }, { 1, 9 }, { 1, 12 }, { 2, 3 }, { 2, 6 }, { 2, 11 },
		{ 3, 2 }, { 3, 6 }, { 3, 7 }, { 3, 8 },
	};
	struct sieve_lexer *lexer = sieve_lexer_create(pool, script, strlen(script), NULL);
	struct sieve_token token;
	const char *error;

	test_begin("sieve lexer positions");
	for (unsigned int i = 0; i < N_ELEMENTS(expected); i++) {
		test_assert(sieve_lexer_next(lexer, &token, &error) == (i < 9 ? 1 : 0));
		test_assert(token.line == expected[i][0]);
		test_assert(token.column == expected[i][1]);
	}
	pool_destroy(&pool);
	test_end();
}

static void test_lexer_limits(void)
{
	struct sieve_lexer_limits limits = { .max_script_size = 20, .max_string_len = 4 };

	test_begin("sieve lexer limits");
	test_assert_strcmp(lex_all("\"abcd\"", &limits), "<abcd>");
	test_assert_strcmp(lex_all("\"abcde\"", &limits),
			   "ERR:line 1: string too long (limit 4 bytes)");
	test_assert_strcmp(lex_all("text:\nab\ncd\n.\n", &limits),
			   "ERR:line 1: string too long (limit 4 bytes)");
	test_assert_strcmp(lex_all("keep; keep; keep; keep;", &limits),
			   "ERR:line 1: script too large (23 bytes, limit 20)");
	t_pool_clear();
	test_end();
}

int main(void)
{
	static void (*const tests[])(void) = {
		test_lexer_tokens, test_lexer_nul, test_lexer_positions,
		test_lexer_limits, NULL,
	};
	return test_run(tests);
}
