/* Sieve syntax tree construction and canonical re-printing. */
#include "sieve-ast.h"

struct sieve_ast *sieve_ast_create(pool_t pool)
{
	struct sieve_ast *ast = p_new(pool, struct sieve_ast, 1);

	ast->pool = pool;
	ast->root = sieve_ast_node_create(ast, "", 1, 1);
	ast->root->has_block = true;
	array_init(&ast->extensions, pool, 4);
	return ast;
}

struct sieve_ast_node *sieve_ast_node_create(struct sieve_ast *ast, const char *identifier,
					     unsigned int line, unsigned int column)
{
	struct sieve_ast_node *node = p_new(ast->pool, struct sieve_ast_node, 1);

	node->identifier = identifier;
	node->line = line;
	node->column = column;
	array_init(&node->args, ast->pool, 2);
	array_init(&node->tests, ast->pool, 1);
	array_init(&node->block, ast->pool, 1);
	return node;
}

void sieve_ast_write_string(string_t *dest, const char *str)
{
	str_append_c(dest, '"');
	for (; *str != '\0'; str++) {
		if (*str == '"' || *str == '\\')
			str_append_c(dest, '\\');
		str_append_c(dest, *str);
	}
	str_append_c(dest, '"');
}

static void ast_write_arg(string_t *dest, const struct sieve_ast_arg *arg)
{
	switch (arg->type) {
	case SIEVE_AST_ARG_NUMBER:
		str_printfa(dest, "%llu", (unsigned long long)arg->number);
		break;
	case SIEVE_AST_ARG_STRING:
		sieve_ast_write_string(dest, arg->strings[0]);
		break;
	case SIEVE_AST_ARG_STRING_LIST:
		str_append_c(dest, '[');
		for (unsigned int i = 0; i < arg->string_count; i++) {
			if (i > 0)
				str_append(dest, ", ");
			sieve_ast_write_string(dest, arg->strings[i]);
		}
		str_append_c(dest, ']');
		break;
	case SIEVE_AST_ARG_TAG:
		str_printfa(dest, ":%s", arg->tag);
		break;
	}
}

static void ast_write_node(string_t *dest, const struct sieve_ast_node *node)
{
	str_append(dest, node->identifier);
	for (unsigned int i = 0; i < node->args.count; i++) {
		str_append_c(dest, ' ');
		ast_write_arg(dest, &node->args.v[i]);
	}
	if (node->test_list)
		str_append(dest, " (");
	else if (node->tests.count > 0)
		str_append_c(dest, ' ');
	for (unsigned int i = 0; i < node->tests.count; i++) {
		if (i > 0)
			str_append(dest, ", ");
		ast_write_node(dest, node->tests.v[i]);
	}
	if (node->test_list)
		str_append_c(dest, ')');
}

static void ast_write_block(string_t *dest, const struct sieve_ast_node *node,
			    unsigned int indent)
{
	for (unsigned int i = 0; i < node->block.count; i++) {
		const struct sieve_ast_node *cmd = node->block.v[i];

		for (unsigned int j = 0; j < indent; j++)
			str_append_c(dest, '\t');
		ast_write_node(dest, cmd);
		if (!cmd->has_block) {
			str_append(dest, ";\n");
			continue;
		}
		str_append(dest, " {\n");
		ast_write_block(dest, cmd, indent + 1);
		for (unsigned int j = 0; j < indent; j++)
			str_append_c(dest, '\t');
		str_append(dest, "}\n");
	}
}

void sieve_ast_write(string_t *dest, const struct sieve_ast_node *node)
{
	ast_write_block(dest, node, 0);
}
