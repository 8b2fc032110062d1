/* Recursive-descent parser for the RFC 5228 §8.2 grammar. One token of
 * lookahead; recursion depth is bounded by the nesting limit. */
#include "sieve-parser.h"

#define SIEVE_DEFAULT_MAX_NESTING 32

struct sieve_parser {
	pool_t pool;
	struct sieve_lexer *lexer;
	struct sieve_ast *ast;
	struct sieve_token token;
	unsigned int max_nesting;
	const char *error;
};

static int parser_next(struct sieve_parser *parser)
{
	const char *error;

	if (sieve_lexer_next(parser->lexer, &parser->token, &error) < 0) {
		parser->error = error;
		return -1;
	}
	return 0;
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

static int parser_fail_expected(struct sieve_parser *parser, const char *expected)
{
	parser->error = p_strdup_printf(parser->pool, "line %u: expected %s, found %s",
					parser->token.line, expected,
					token_describe(&parser->token));
	return -1;
}

static int parser_check_depth(struct sieve_parser *parser, unsigned int depth)
{
	if (depth <= parser->max_nesting)
		return 0;
	parser->error = p_strdup_printf(parser->pool,
		"line %u: nesting too deep (limit %u)", parser->token.line,
		parser->max_nesting);
	return -1;
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

/* command = identifier arguments (";" / block) */
static int parser_read_command(struct sieve_parser *parser, struct sieve_ast_node *parent,
			       unsigned int depth)
{
	struct sieve_ast_node *cmd;

	cmd = sieve_ast_node_create(parser->ast, parser->token.str,
				    parser->token.line, parser->token.column);
	cmd->parent = parent;
	array_push(&parent->block, cmd);
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

static int parser_read_commands(struct sieve_parser *parser, struct sieve_ast_node *parent,
				unsigned int depth)
{
	while (parser->token.type == SIEVE_TOKEN_IDENTIFIER) {
		if (parser_read_command(parser, parent, depth) < 0)
			return -1;
	}
	return 0;
}

int sieve_parse(pool_t pool, const void *data, size_t size,
		const struct sieve_parser_limits *limits,
		struct sieve_ast **ast_r, const char **error_r)
{
	struct sieve_parser parser = {
		.pool = pool,
		.max_nesting = limits == NULL || limits->max_nesting == 0 ?
			SIEVE_DEFAULT_MAX_NESTING : limits->max_nesting,
	};
	int ret = -1;

	parser.lexer = sieve_lexer_create(pool, data, size,
					  limits == NULL ? NULL : &limits->lexer);
	parser.ast = sieve_ast_create(pool);
	if (parser_next(&parser) == 0 &&
	    parser_read_commands(&parser, parser.ast->root, 0) == 0) {
		if (parser.token.type == SIEVE_TOKEN_EOF)
			ret = 0;
		else
			parser_fail_expected(&parser, "command");
	}
	sieve_lexer_destroy(&parser.lexer);
	if (ret < 0) {
		*error_r = parser.error;
		return -1;
	}
	*ast_r = parser.ast;
	return 0;
}
