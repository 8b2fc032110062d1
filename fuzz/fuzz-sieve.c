/* libFuzzer target for src/sieve: tokenises the input, compiles it
 * (parse + validate, with tight limits when the first byte is odd) and,
 * when it compiles, re-prints the tree, checks that the re-print compiles
 * to the same text, and runs it on a fixed message, once through the
 * header callbacks only and once on a MIME message with every extension
 * callback. */
#include "buffer.h"
#include "mime-header.h"
#include "sieve-extension.h"

#include <strings.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char fuzz_message[] =
	"From: a@example.com\r\nTo: b@example.org, c <d@e.f>\r\n"
	"Subject: =?utf-8?q?h=C3=A9llo?=\r\nX-A: 1\r\nX-A: 2\r\n\r\nbody\r\n";

struct fuzz_field {
	const char *name, *value;
};

static struct fuzz_field fuzz_fields[16];
static unsigned int fuzz_field_count;

static void fuzz_collect(const struct mime_header_field *field, void *context)
{
	if (fuzz_field_count < N_ELEMENTS(fuzz_fields)) {
		fuzz_fields[fuzz_field_count].name = i_strdup(field->name);
		fuzz_fields[fuzz_field_count++].value = i_strdup(field->value);
	}
}

static int fuzz_get_headers(void *context, const char *name,
			    const char *const **values_r, const char **error_r)
{
	const char **values = t_new(const char *, fuzz_field_count + 1);
	unsigned int n = 0;

	for (unsigned int i = 0; i < fuzz_field_count; i++) {
		if (strcasecmp(fuzz_fields[i].name, name) == 0)
			values[n++] = fuzz_fields[i].value;
	}
	*values_r = values;
	return 0;
}

static int fuzz_get_envelope(void *context, enum sieve_envelope_part part,
			     const char **value_r, const char **error_r)
{
	*value_r = part == SIEVE_ENVELOPE_FROM ? "" : "b@example.org";
	return 1;
}

static int fuzz_get_size(void *context, uint64_t *size_r, const char **error_r)
{
	*size_r = sizeof(fuzz_message) - 1;
	return 0;
}

static const struct sieve_message_vfuncs fuzz_vfuncs = {
	.get_headers = fuzz_get_headers,
	.get_envelope = fuzz_get_envelope,
	.get_size = fuzz_get_size,
};

static void fuzz_lex(pool_t pool, const uint8_t *data, size_t size,
		     const struct sieve_lexer_limits *limits)
{
	struct sieve_lexer *lexer = sieve_lexer_create(pool, data, size, limits);
	struct sieve_token token;
	const char *error;
	int ret;

	while ((ret = sieve_lexer_next(lexer, &token, &error)) > 0) {
		if (token.type == SIEVE_TOKEN_STRING)
			i_assert(strlen(token.str) == token.str_len);
	}
	i_assert(ret == 0 || error != NULL);
	sieve_lexer_destroy(&lexer);
}

static void fuzz_run(pool_t pool, struct sieve_ast *ast)
{
	struct sieve_message msg = { .v = &fuzz_vfuncs };
	struct sieve_exec_limits limits = { .max_actions = 8, .max_redirects = 2 };
	struct sieve_result *result;
	const char *error;
	string_t *out = str_new(pool, 256);

	if (sieve_execute(ast, &msg, &limits, pool, &result, &error) < 0)
		i_assert(error != NULL);
	i_assert(result->actions.count > 0);
	sieve_result_write(out, result);
}

static const char fuzz_mime_message[] =
	"From: a+b@example.com\r\nTo: c@example.org\r\nSubject: test 42\r\n"
	"Date: Tue, 3 Mar 2026 14:05:06 +0100\r\nMessage-ID: <x@y>\r\n"
	"X-Spam: 5\r\nMIME-Version: 1.0\r\n"
	"Content-Type: multipart/mixed; boundary=b\r\n\r\n"
	"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nhello\r\n"
	"--b\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\ninner body\r\n"
	"--b--\r\n";

static int fuzz_env_get(void *context, const char *name, const char **value_r)
{
	*value_r = "x";
	return name[0] == 'd' ? 1 : 0;
}

static int fuzz_env_mailbox(void *context, const char *mailbox, const char **error_r)
{
	return mailbox[0] == 'I' ? 1 : 0;
}

static int fuzz_env_metadata(void *context, const char *mailbox, const char *entry,
			     const char **value_r, const char **error_r)
{
	*value_r = "v";
	return 1;
}

static int fuzz_env_duplicate(void *context, const char *id, uint64_t period,
			      const char **error_r)
{
	return strlen(id) % 2;
}

/* every included script is this one again: exercises the loop check and
   the nesting limits */
static const struct sieve_ast *fuzz_include_ast;

static int fuzz_env_include(void *context, enum sieve_include_location location,
			    const char *name, const struct sieve_ast **ast_r,
			    const char **error_r)
{
	if (name[0] == 'n')
		return 0;
	*ast_r = fuzz_include_ast;
	return 1;
}

static void fuzz_run_full(pool_t pool, struct sieve_ast *ast)
{
	struct sieve_envelope envelope = { .from = "s@example.com", .to = "c@example.org" };
	const struct sieve_message *msg =
		sieve_message_from_memory(pool, fuzz_mime_message, sizeof(fuzz_mime_message) - 1,
					  &envelope);
	struct sieve_env env = {
		.get_environment = fuzz_env_get, .mailbox_exists = fuzz_env_mailbox,
		.metadata_get = fuzz_env_metadata, .duplicate_check = fuzz_env_duplicate,
		.include_load = fuzz_env_include, .spam_header = "X-Spam", .spam_max = 10,
		.local_zone_set = true, .now = 1770000000,
	};
	struct sieve_exec_limits limits = {
		.max_actions = 8, .max_redirects = 2, .max_include_depth = 3,
		.max_includes = 8, .max_variables = 16, .max_variable_size = 256,
		.max_cpu_ms = 500,
	};
	struct sieve_result *result;
	const char *error;
	string_t *out = str_new(pool, 256);

	fuzz_include_ast = ast;
	if (sieve_execute_env(ast, msg, &env, &limits, pool, &result, &error) < 0)
		i_assert(error != NULL);
	i_assert(result->actions.count > 0);
	sieve_result_write(out, result);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sieve_parser_limits limits = { .max_nesting = 4, .lexer = {
		.max_script_size = 4096, .max_string_len = 64 } };
	const struct sieve_parser_limits *lp = size > 0 && (data[0] & 1) != 0 ? &limits : NULL;
	pool_t pool = pool_create("fuzz sieve", 4096);
	struct sieve_ast *ast, *ast2;
	const char *error;

	if (fuzz_field_count == 0) {
		mime_header_parse_block(fuzz_message, sizeof(fuzz_message) - 1, NULL,
					fuzz_collect, NULL);
	}
	fuzz_lex(pool, data, size, lp == NULL ? NULL : &lp->lexer);
	if (sieve_compile(pool, data, size, lp, &ast, &error) < 0) {
		i_assert(strncmp(error, "line ", 5) == 0);
	} else {
		string_t *text = str_new(pool, size + 64), *text2 = str_new(pool, size + 64);

		sieve_ast_write(text, ast->root);
		/* the re-print parses back to itself; it may exceed the
		   tight limits (escapes grow strings), so use defaults, and
		   encoded-character may decode twice, so only parse */
		if (sieve_parse(pool, str_data(text), str_len(text), NULL, &ast2, &error) == 0) {
			sieve_ast_write(text2, ast2->root);
			i_assert(strcmp(str_c(text), str_c(text2)) == 0);
		} else {
			i_panic("re-print failed to parse: %s\n%s", error, str_c(text));
		}
		fuzz_run(pool, ast);
		fuzz_run_full(pool, ast);
	}
	pool_destroy(&pool);
	t_pool_clear();
	return 0;
}
