/* Recursive-descent parser for the RFC 5228 §8.2 grammar. One token of
 * lookahead; recursion depth is bounded by the nesting limit. A syntax
 * error in a command is reported and the parser skips to the end of that
 * command (its ';', or its block, or the end of the enclosing block), so
 * one parse reports the errors of several commands. */
#include "sieve-parser.h"

#include <stdio.h>

#define SIEVE_DEFAULT_MAX_NESTING 32
#define SIEVE_DEFAULT_MAX_PARSE_ERRORS 10

struct sieve_parser {
	pool_t pool;
	struct sieve_lexer *lexer;
	struct sieve_ast *ast;
	struct sieve_token token;
	unsigned int max_nesting, max_errors;
	sieve_diag_array_t *diags;
	unsigned int error_count;
	/* skipping tokens after an error: lexer errors are not reported */
	bool recovering;
	/* an error about the end of the script was reported: the enclosing
	   blocks' missing '}' are not reported again */
	bool eof_reported;
	/* the lexer cannot go on, or too many errors: stop parsing */
	bool fatal;
};

static void parser_report(struct sieve_parser *parser, const char *text)
{
	struct sieve_diag diag = { .text = p_strdup(parser->pool, text) };

	/* text starts with "line N: " */
	if (sscanf(text, "line %u:", &diag.line) != 1)
		diag.line = 0;
	parser->error_count++;
	if (parser->diags != NULL)
		array_push(parser->diags, diag);
	if (parser->error_count >= parser->max_errors)
		parser->fatal = true;
}

/* Reads the next token. Soft lexer errors are reported and parsing goes
   on with the lexer's stand-in token; a fatal one returns -1. */
static int parser_next(struct sieve_parser *parser)
{
	const char *error;

	if (parser->fatal)
		return -1;
	if (sieve_lexer_next(parser->lexer, &parser->token, &error) < 0) {
		if (sieve_lexer_failed(parser->lexer)) {
			parser_report(parser, error);
			parser->fatal = true;
			return -1;
		}
		if (!parser->recovering)
			parser_report(parser, error);
	}
	return parser->fatal ? -1 : 0;
}

static const char *token_describe(const struct sieve_token *token)
{
	switch (token->type) {
	case SIEVE_TOKEN_IDENTIFIER:
		return t_strdup_printf("identifier '%s'", token->str);
	case SIEVE_TOKEN_TAG:
		return t_strdup_printf("tag ':%s'", token->str);
	default:
		return sieve_token_type_name(token->type);
	}
}

static int parser_fail(struct sieve_parser *parser, const char *text)
{
	if (parser->token.type == SIEVE_TOKEN_EOF) {
		if (parser->eof_reported)
			return -1;
		parser->eof_reported = true;
	}
	parser_report(parser, t_strdup_printf("line %u: %s", parser->token.line, text));
	return -1;
}

static int parser_fail_expected(struct sieve_parser *parser, const char *expected)
{
	return parser_fail(parser, t_strdup_printf("expected %s, found %s", expected,
						   token_describe(&parser->token)));
}

static int parser_check_depth(struct sieve_parser *parser, unsigned int depth)
{
	if (depth <= parser->max_nesting)
		return 0;
	return parser_fail(parser, t_strdup_printf("nesting too deep (limit %u)",
						   parser->max_nesting));
}

/* After an error in a command: skips tokens up to the end of the command -
   its ';' (consumed), a block it opens (consumed with its '}'), or a '}'
   closing the enclosing block (left for that block). skip_first: consume
   the current token whatever it is (it cannot end anything). */
static int parser_recover(struct sieve_parser *parser, bool skip_first)
{
	unsigned int depth = 0;
	int ret = 0;

	parser->recovering = true;
	if (skip_first && parser->token.type != SIEVE_TOKEN_EOF)
		ret = parser_next(parser);
	while (ret == 0 && parser->token.type != SIEVE_TOKEN_EOF) {
		enum sieve_token_type type = parser->token.type;

		if (type == SIEVE_TOKEN_SEMICOLON && depth == 0) {
			ret = parser_next(parser);
			break;
		}
		if (type == SIEVE_TOKEN_RBRACE && depth == 0)
			break;
		if (type == SIEVE_TOKEN_LBRACE || type == SIEVE_TOKEN_LPAREN ||
		    type == SIEVE_TOKEN_LBRACKET) {
			/* bounded: one counter, no recursion */
			depth++;
		} else if (type == SIEVE_TOKEN_RBRACE) {
			ret = parser_next(parser);
			if (--depth == 0)
				break;
			continue;
		} else if ((type == SIEVE_TOKEN_RPAREN || type == SIEVE_TOKEN_RBRACKET) &&
			   depth > 0) {
			depth--;
		}
		ret = parser_next(parser);
	}
	parser->recovering = false;
	return ret;
}

/* string-list = "[" string *("," string) "]" / string */
static int parser_read_string_list(struct sieve_parser *parser, struct sieve_ast_arg *arg)
{
	ARRAY(const char *) strings;

	array_init(&strings, parser->pool, 4);
	arg->type = SIEVE_AST_ARG_STRING_LIST;
	for (;;) {
		if (parser_next(parser) < 0)
			return -1;
		if (parser->token.type != SIEVE_TOKEN_STRING)
			return parser_fail_expected(parser, "string in string list");
		array_push(&strings, parser->token.str);
		if (parser_next(parser) < 0)
			return -1;
		if (parser->token.type == SIEVE_TOKEN_RBRACKET)
			break;
		if (parser->token.type != SIEVE_TOKEN_COMMA)
			return parser_fail_expected(parser, "',' or ']' in string list");
	}
	arg->strings = strings.v;
	arg->string_count = strings.count;
	return parser_next(parser);
}

/* argument = string-list / number / tag. Returns 1 if one was read. */
static int parser_read_argument(struct sieve_parser *parser, struct sieve_ast_node *node)
{
	const struct sieve_token *token = &parser->token;
	struct sieve_ast_arg *arg;

	switch (token->type) {
	case SIEVE_TOKEN_STRING: case SIEVE_TOKEN_NUMBER:
	case SIEVE_TOKEN_TAG: case SIEVE_TOKEN_LBRACKET:
		break;
	default:
		return 0;
	}
	if (node->args.count >= SIEVE_PARSER_MAX_ARGS) {
		return parser_fail(parser, t_strdup_printf(
			"too many arguments for '%s' (limit %u)", node->identifier,
			SIEVE_PARSER_MAX_ARGS));
	}
	arg = array_append_space(&node->args);
	arg->line = token->line;
	arg->column = token->column;
	switch (token->type) {
	case SIEVE_TOKEN_STRING:
		arg->type = SIEVE_AST_ARG_STRING;
		arg->strings = p_new(parser->pool, const char *, 1);
		arg->strings[0] = token->str;
		arg->string_count = 1;
		break;
	case SIEVE_TOKEN_NUMBER:
		arg->type = SIEVE_AST_ARG_NUMBER;
		arg->number = token->number;
		break;
	case SIEVE_TOKEN_TAG:
		arg->type = SIEVE_AST_ARG_TAG;
		arg->tag = token->str;
		break;
	default:
		return parser_read_string_list(parser, arg) < 0 ? -1 : 1;
	}
	return parser_next(parser) < 0 ? -1 : 1;
}

static int parser_read_test(struct sieve_parser *parser, struct sieve_ast_node *parent,
			    unsigned int depth);

/* arguments = *argument [ test / test-list ] */
static int parser_read_arguments(struct sieve_parser *parser, struct sieve_ast_node *node,
				 unsigned int depth)
{
	int ret;

	while ((ret = parser_read_argument(parser, node)) > 0) ;
	if (ret < 0)
		return -1;
	if (parser->token.type == SIEVE_TOKEN_IDENTIFIER)
		return parser_read_test(parser, node, depth + 1);
	if (parser->token.type != SIEVE_TOKEN_LPAREN)
		return 0;
	node->test_list = true;
	for (;;) {
		if (parser_next(parser) < 0)
			return -1;
		if (parser->token.type != SIEVE_TOKEN_IDENTIFIER)
			return parser_fail_expected(parser, "test in test list");
		if (parser_read_test(parser, node, depth + 1) < 0)
			return -1;
		if (parser->token.type == SIEVE_TOKEN_RPAREN)
			break;
		if (parser->token.type != SIEVE_TOKEN_COMMA)
			return parser_fail_expected(parser, "',' or ')' in test list");
	}
	return parser_next(parser);
}

/* test = identifier arguments; the current token is the identifier */
static int parser_read_test(struct sieve_parser *parser, struct sieve_ast_node *parent,
			    unsigned int depth)
{
	struct sieve_ast_node *test;

	if (parser_check_depth(parser, depth) < 0)
		return -1;
	test = sieve_ast_node_create(parser->ast, parser->token.str,
				     parser->token.line, parser->token.column);
	test->parent = parent;
	array_push(&parent->tests, test);
	if (parser_next(parser) < 0)
		return -1;
	return parser_read_arguments(parser, test, depth);
}

static int parser_read_commands(struct sieve_parser *parser, struct sieve_ast_node *parent,
				unsigned int depth);

/* command = identifier arguments (";" / block). -1: an error, reported
   (the caller recovers unless parser->fatal). */
static int parser_read_command_syntax(struct sieve_parser *parser, struct sieve_ast_node *cmd,
				      unsigned int depth)
{
	if (parser_next(parser) < 0 || parser_read_arguments(parser, cmd, depth) < 0)
		return -1;
	if (parser->token.type == SIEVE_TOKEN_SEMICOLON)
		return parser_next(parser);
	if (parser->token.type != SIEVE_TOKEN_LBRACE) {
		return parser_fail_expected(parser, t_strdup_printf(
			"';' or '{' after the arguments of '%s'", cmd->identifier));
	}
	if (parser_check_depth(parser, depth + 1) < 0)
		return -1;
	cmd->has_block = true;
	if (parser_next(parser) < 0 || parser_read_commands(parser, cmd, depth + 1) < 0)
		return -1;
	if (parser->token.type != SIEVE_TOKEN_RBRACE)
		return parser_fail_expected(parser, "'}' to close the block");
	return parser_next(parser);
}

static int parser_read_command(struct sieve_parser *parser, struct sieve_ast_node *parent,
			       unsigned int depth)
{
	struct sieve_ast_node *cmd;

	cmd = sieve_ast_node_create(parser->ast, parser->token.str,
				    parser->token.line, parser->token.column);
	cmd->parent = parent;
	array_push(&parent->block, cmd);
	if (parser_read_command_syntax(parser, cmd, depth) == 0)
		return 0;
	return parser->fatal ? -1 : parser_recover(parser, false);
}

/* The commands of a block (or the top level) up to its '}' (or the end). */
static int parser_read_commands(struct sieve_parser *parser, struct sieve_ast_node *parent,
				unsigned int depth)
{
	for (;;) {
		switch (parser->token.type) {
		case SIEVE_TOKEN_IDENTIFIER:
			if (parser_read_command(parser, parent, depth) < 0)
				return -1;
			break;
		case SIEVE_TOKEN_EOF:
			return 0;
		case SIEVE_TOKEN_RBRACE:
			if (depth > 0)
				return 0;
			/* fall through */
		default:
			(void)parser_fail_expected(parser, "command");
			if (parser->fatal || parser_recover(parser, true) < 0)
				return -1;
			break;
		}
	}
}

int sieve_parse_diag(pool_t pool, const void *data, size_t size,
		     const struct sieve_parser_limits *limits, unsigned int max_errors,
		     struct sieve_ast **ast_r, sieve_diag_array_t *diags)
{
	struct sieve_parser parser = {
		.pool = pool,
		.max_nesting = limits == NULL || limits->max_nesting == 0 ?
			SIEVE_DEFAULT_MAX_NESTING : limits->max_nesting,
		.max_errors = max_errors == 0 ? SIEVE_DEFAULT_MAX_PARSE_ERRORS : max_errors,
		.diags = diags,
	};

	parser.lexer = sieve_lexer_create(pool, data, size,
					  limits == NULL ? NULL : &limits->lexer);
	parser.ast = sieve_ast_create(pool);
	if (parser_next(&parser) == 0)
		(void)parser_read_commands(&parser, parser.ast->root, 0);
	sieve_lexer_destroy(&parser.lexer);
	if (parser.error_count > 0)
		return -1;
	*ast_r = parser.ast;
	return 0;
}

int sieve_parse(pool_t pool, const void *data, size_t size,
		const struct sieve_parser_limits *limits,
		struct sieve_ast **ast_r, const char **error_r)
{
	sieve_diag_array_t diags;

	array_init(&diags, pool, 2);
	if (sieve_parse_diag(pool, data, size, limits, 1, ast_r, &diags) < 0) {
		*error_r = diags.count > 0 ? diags.v[0].text : "parse failed";
		return -1;
	}
	return 0;
}
