/* Unit tests for sieve-parser.c: the RFC 5228 §8.2 grammar re-printed in
 * canonical form, syntax errors with their line numbers, and the nesting
 * limit. */
#include "test-common.h"
#include "buffer.h"
#include "sieve-parser.h"

static const char *parse_write(const char *script, const struct sieve_parser_limits *limits)
{
	pool_t pool = pool_create("test", 1024);
	struct sieve_ast *ast;
	const char *error, *result;

	if (sieve_parse(pool, script, strlen(script), limits, &ast, &error) < 0) {
		result = t_strconcat("ERR:", error, NULL);
	} else {
		string_t *out = t_str_new(128);
		sieve_ast_write(out, ast->root);
		result = str_c(out);
	}
	pool_destroy(&pool);
	return result;
}

struct parse_test {
	const char *script, *expected;
};

static const struct parse_test parse_tests[] = {
	{ "", "" },
	{ "# only a comment\n", "" },
	{ "keep;", "keep;\n" },
	{ "require [\"fileinto\", \"copy\"];\nfileinto :copy \"A\";",
	  "require [\"fileinto\", \"copy\"];\nfileinto :copy \"A\";\n" },
	{ "if header :contains \"subject\" \"x\" { discard; stop; } else { keep; }",
	  "if header :contains \"subject\" \"x\" {\n\tdiscard;\n\tstop;\n}\n"
	  "else {\n\tkeep;\n}\n" },
	{ "if anyof (not exists \"x\", size :over 1M, allof(true, false)) {}",
	  "if anyof (not exists \"x\", size :over 1048576, allof (true, false)) {\n}\n" },
	{ "if true { if false { keep; } }",
	  "if true {\n\tif false {\n\t\tkeep;\n\t}\n}\n" },
	{ "redirect text:\na@b\n.\n;", "redirect \"a@b\r\n\";\n" },
	{ "x 1 \"s\" :t [\"a\"] y;", "x 1 \"s\" :t [\"a\"] y;\n" },
	{ "x y z;", "x y z;\n" },
	/* errors */
	{ "keep", "ERR:line 1: expected ';' or '{' after the arguments of 'keep', "
		  "found end of script" },
	{ "keep;\n\nkeep\n}", "ERR:line 4: expected ';' or '{' after the "
		  "arguments of 'keep', found '}'" },
	/* a test argument where a command has none is the validator's
	   business, the grammar allows it */
	{ "keep keep;", "keep keep;\n" },
	{ "if true {\nkeep;\n", "ERR:line 3: expected '}' to close the block, found end of script" },
	{ "}", "ERR:line 1: expected command, found '}'" },
	{ "\"str\";", "ERR:line 1: expected command, found string" },
	{ "if true { keep; }}", "ERR:line 1: expected command, found '}'" },
	{ "x [];", "ERR:line 1: expected string in string list, found ']'" },
	{ "x [\"a\" \"b\"];", "ERR:line 1: expected ',' or ']' in string list, found string" },
	{ "x [\"a\",];", "ERR:line 1: expected string in string list, found ']'" },
	{ "x [1];", "ERR:line 1: expected string in string list, found number" },
	{ "if anyof() {}", "ERR:line 1: expected test in test list, found ')'" },
	{ "if anyof(true,) {}", "ERR:line 1: expected test in test list, found ')'" },
	{ "if anyof(true; false) {}",
	  "ERR:line 1: expected ',' or ')' in test list, found ';'" },
	{ "if true\n) {}", "ERR:line 2: expected ';' or '{' after the arguments of 'if', "
			 "found ')'" },
	{ "keep;\n\"unterminated", "ERR:line 2: unterminated quoted string" },
};

static void test_parser(void)
{
	test_begin("sieve parser");
	for (unsigned int i = 0; i < N_ELEMENTS(parse_tests); i++)
		test_assert_strcmp(parse_write(parse_tests[i].script, NULL), parse_tests[i].expected);
	t_pool_clear();
	test_end();
}

static void test_parser_nesting(void)
{
	struct sieve_parser_limits limits = { .max_nesting = 3 };

	test_begin("sieve parser nesting limit");
	test_assert_strcmp(parse_write("if true { if true { if true { keep; } } }", &limits),
			   "if true {\n\tif true {\n\t\tif true {\n\t\t\tkeep;\n\t\t}\n\t}\n}\n");
	test_assert_strcmp(parse_write("if true { if true { if true {\nif true { keep; } } } }",
				       &limits),
			   "ERR:line 2: nesting too deep (limit 3)");
	test_assert_strcmp(parse_write("if not not not\nnot true {}", &limits),
			   "ERR:line 2: nesting too deep (limit 3)");
	test_assert_strcmp(parse_write("if anyof(anyof(true)) {}", &limits),
			   "if anyof (anyof (true)) {\n}\n");
	test_assert_strcmp(parse_write("if anyof(anyof(anyof(true))) {}", &limits),
			   "ERR:line 1: nesting too deep (limit 3)");

	/* the default limit holds against deep input without exhausting
	   the stack */
	string_t *deep = t_str_new(40000);
	for (unsigned int i = 0; i < 10000; i++)
		str_append(deep, "if true {");
	test_assert_strcmp(parse_write(str_c(deep), NULL),
			   "ERR:line 1: nesting too deep (limit 32)");
	str_truncate(deep, 0);
	for (unsigned int i = 0; i < 10000; i++)
		str_append(deep, "not ");
	test_assert_strcmp(parse_write(str_c(deep), NULL),
			   "ERR:line 1: nesting too deep (limit 32)");
	t_pool_clear();
	test_end();
}

/* The errors of one parse, "|"-separated. */
static const char *parse_errors(const char *script, unsigned int max_errors)
{
	pool_t pool = pool_create("test", 1024);
	sieve_diag_array_t diags;
	struct sieve_ast *ast;
	string_t *out = t_str_new(256);

	array_init(&diags, pool, 4);
	if (sieve_parse_diag(pool, script, strlen(script), NULL, max_errors, &ast, &diags) == 0)
		str_append(out, "OK");
	for (unsigned int i = 0; i < diags.count; i++)
		str_printfa(out, "%s%s", i == 0 ? "" : "|", diags.v[i].text);
	pool_destroy(&pool);
	return str_c(out);
}

static void test_parser_recovery(void)
{
	test_begin("sieve parser error recovery");
	/* a broken command is skipped up to its ';' */
	test_assert_strcmp(parse_errors("keep ,;\nfrop $$$;\nkeep;", 0),
			   "line 1: expected ';' or '{' after the arguments of 'keep', found ','|"
			   "line 2: unexpected character '$'|"
			   "line 2: expected ';' or '{' after the arguments of 'frop', found "
			   "invalid characters");
	/* ... or the end of its block, which stays closed */
	test_assert_strcmp(parse_errors("if true {\n keep\n}\nif true { discard\n}", 0),
			   "line 3: expected ';' or '{' after the arguments of 'keep', found '}'|"
			   "line 5: expected ';' or '{' after the arguments of 'discard', found '}'");
	/* ... or over a block of its own */
	test_assert_strcmp(parse_errors("if anyof(true,) { keep; stop; }\nkeep,", 0),
			   "line 1: expected test in test list, found ')'|"
			   "line 2: expected ';' or '{' after the arguments of 'keep', found ','");
	/* lexical errors do not stop the parse */
	test_assert_strcmp(parse_errors("if size :over 99999999999999999999 { stop; }\n"
					"if size :over 12x { stop; }", 0),
			   "line 1: number is too large|line 2: invalid character after number");
	/* the end of the script is reported once, not for every open block */
	test_assert_strcmp(parse_errors("if true { if true { if true { keep;", 0),
			   "line 1: expected '}' to close the block, found end of script");
	/* a stray '}' at the top */
	test_assert_strcmp(parse_errors("keep; } discard;", 0),
			   "line 1: expected command, found '}'");
	/* argument count limit */
	string_t *args = t_str_new(256);
	str_append(args, "x");
	for (unsigned int i = 0; i <= SIEVE_PARSER_MAX_ARGS; i++)
		str_append(args, " 1");
	str_append(args, "; keep;");
	test_assert_strcmp(parse_errors(str_c(args), 0),
			   "line 1: too many arguments for 'x' (limit 32)");
	/* the error limit, and fatal lexer errors end the parse */
	test_assert_strcmp(parse_errors("a,; b,; c,;", 2),
			   "line 1: expected ';' or '{' after the arguments of 'a', found ','|"
			   "line 1: expected ';' or '{' after the arguments of 'b', found ','");
	test_assert_strcmp(parse_errors("a,; \"open", 0),
			   "line 1: expected ';' or '{' after the arguments of 'a', found ','|"
			   "line 1: unterminated quoted string");
	test_assert_strcmp(parse_errors("keep; if true { stop; }", 0), "OK");
	t_pool_clear();
	test_end();
}

int main(void)
{
	static void (*const tests[])(void) = {
		test_parser, test_parser_nesting, test_parser_recovery, NULL,
	};
	return test_run(tests);
}
