/* Unit tests for the validator and the interpreter: table-driven scripts
 * run on in-memory messages, checking the resulting actions (RFC 5228
 * §2.10 implicit keep and duplicates, §4 actions, §5 tests, §2.7 match
 * types, comparators and address parts) or the error and its line. */
#include "test-common.h"
#include "buffer.h"
#include "mime-header.h"
#include "sieve-interp.h"

#include <strings.h>

struct test_message {
	pool_t pool;
	const char *data;
	ARRAY(const struct mime_header_field *) fields;
	const char *env_from, *env_to;
};

static void test_message_field(const struct mime_header_field *field, void *context)
{
	struct test_message *msg = context;
	struct mime_header_field *copy = p_new(msg->pool, struct mime_header_field, 1);

	copy->name = p_strdup(msg->pool, field->name);
	copy->value = p_strdup(msg->pool, field->value);
	array_push(&msg->fields, copy);
}

static int test_get_headers(void *context, const char *name,
			    const char *const **values_r, const char **error_r)
{
	struct test_message *msg = context;
	ARRAY(const char *) values;

	if (strcasecmp(name, "x-fail") == 0) {
		*error_r = "simulated failure";
		return -1;
	}
	array_init(&values, msg->pool, 4);
	for (unsigned int i = 0; i < msg->fields.count; i++) {
		if (strcasecmp(msg->fields.v[i]->name, name) == 0)
			array_push(&values, msg->fields.v[i]->value);
	}
	array_push(&values, NULL);
	*values_r = values.v;
	return 0;
}

static int test_get_envelope(void *context, enum sieve_envelope_part part,
			     const char **value_r, const char **error_r)
{
	struct test_message *msg = context;

	*value_r = part == SIEVE_ENVELOPE_FROM ? msg->env_from : msg->env_to;
	return *value_r == NULL ? 0 : 1;
}

static int test_get_size(void *context, uint64_t *size_r, const char **error_r)
{
	struct test_message *msg = context;

	*size_r = strlen(msg->data);
	return 0;
}

static const struct sieve_message_vfuncs test_message_vfuncs = {
	.get_headers = test_get_headers,
	.get_envelope = test_get_envelope,
	.get_size = test_get_size,
};

static const char default_message[] =
	"From: \"Joe Sender\" <Joe.Sender@Example.COM>\r\n"
	"To: alice@example.org, \"Bob\" <bob+lists@sub.example.net>\r\n"
	"Cc: undisclosed-recipients:;\r\n"
	"Subject: Re: [list] Weekly   report\r\n"
	"X-Spam-Score: 7\r\n"
	"X-Multi: first\r\n"
	"X-Multi: second\r\n"
	"X-Encoded: =?utf-8?q?caf=C3=A9?= time\r\n"
	"X-Empty:\r\n"
	"Sender: not an address\r\n"
	"Received: from a\r\n"
	"\tby b\r\n"
	"\r\n"
	"Hello world.\r\n";

struct interp_test {
	const char *script;
	/* actions as sieve_result_write() writes them, with '|' for the
	   newlines; or "ERR:line N: text" for a compile error and
	   "RUN:line N: text" for a runtime error (result: implicit keep) */
	const char *expected;
};

/* the same with an envelope of their own */
struct envelope_test {
	const char *script, *expected, *env_from, *env_to;
};

#define FROM "sender@example.com"
#define TO "alice@example.org"

static const struct interp_test interp_tests[] = {
	/* implicit keep and the base actions (RFC 5228 §2.10.2, §4) */
	{ "", "keep:implicit" },
	{ "keep;", "keep" },
	{ "discard;", "discard" },
	{ "discard; keep;", "keep" },
	{ "keep; discard;", "keep" },
	{ "require \"fileinto\"; fileinto \"Junk\";", "fileinto \"Junk\"" },
	{ "require [\"fileinto\",\"copy\"]; fileinto :copy \"Junk\";",
	  "fileinto:copy \"Junk\"|keep:implicit" },
	{ "redirect \"bob@example.net\";", "redirect \"bob@example.net\"" },
	{ "require \"copy\"; redirect :copy \"bob@example.net\";",
	  "redirect:copy \"bob@example.net\"|keep:implicit" },
	{ "stop; discard;", "keep:implicit" },
	{ "discard; stop; keep;", "discard" },
	/* duplicates (RFC 5228 §2.10.3) */
	{ "keep; keep;", "keep" },
	{ "require \"fileinto\"; fileinto \"A\"; fileinto \"A\"; fileinto \"B\";",
	  "fileinto \"A\"|fileinto \"B\"" },
	{ "require \"fileinto\"; keep; fileinto \"INBOX\";", "keep" },
	{ "require \"fileinto\"; fileinto \"inbox\"; keep;", "keep" },
	{ "redirect \"a@b.c\"; redirect \"A@B.C\";", "redirect \"a@b.c\"" },
	{ "require [\"copy\",\"fileinto\"]; fileinto :copy \"A\"; fileinto \"A\";",
	  "fileinto \"A\"" },
	/* if / elsif / else (RFC 5228 §3.1) */
	{ "if true { keep; } else { discard; }", "keep" },
	{ "if false { keep; } elsif true { discard; } else { keep; }", "discard" },
	{ "if false { keep; } elsif false { keep; } else { discard; }", "discard" },
	{ "if true { discard; } if true { keep; }", "keep" },
	{ "if true { if true { stop; } discard; } discard;", "keep:implicit" },
	{ "if anyof(false, true) { discard; }", "discard" },
	{ "if allof(true, false) { discard; }", "keep:implicit" },
	{ "if allof(true, true, not false) { discard; }", "discard" },
	{ "if anyof(false, not true) { discard; }", "keep:implicit" },
	/* header (RFC 5228 §5.7) with the match types (§2.7.1) */
	{ "if header :is \"subject\" \"Re: [list] Weekly   report\" { discard; }", "discard" },
	{ "if header :is \"Subject\" \"re: [LIST] weekly   REPORT\" { discard; }", "discard" },
	{ "if header :comparator \"i;octet\" :is \"Subject\" \"re: [list] weekly   report\""
	  " { discard; }", "keep:implicit" },
	{ "if header :contains \"subject\" \"[LIST]\" { discard; }", "discard" },
	{ "if header :contains :comparator \"i;octet\" \"subject\" \"[LIST]\" { discard; }",
	  "keep:implicit" },
	{ "if header :contains \"subject\" \"\" { discard; }", "discard" },
	{ "if header :contains \"x-none\" \"\" { discard; }", "keep:implicit" },
	{ "if header :matches \"subject\" \"re: *report\" { discard; }", "discard" },
	{ "if header :matches \"subject\" \"*\\\\[list]*\" { discard; }", "discard" },
	{ "if header :matches \"subject\" \"re?: *\" { discard; }", "keep:implicit" },
	{ "if header :matches \"subject\" \"re?\" { discard; }", "keep:implicit" },
	{ "if header :matches \"x-spam-score\" \"?\" { discard; }", "discard" },
	{ "if header :matches \"x-empty\" \"\" { discard; }", "discard" },
	{ "if header :matches \"x-empty\" \"?*\" { discard; }", "keep:implicit" },
	{ "if header :matches \"x-multi\" \"sec*\" { discard; }", "discard" },
	{ "if header :is [\"x-none\", \"x-multi\"] [\"zz\", \"first\"] { discard; }", "discard" },
	{ "if header :is \"received\" \"from a\tby b\" { discard; }", "discard" },
	{ "if header :is \"x-encoded\" \"caf\xc3\xa9 time\" { discard; }", "discard" },
	{ "if header :matches \"subject\" \"*\\\\*\" { discard; }", "keep:implicit" },
	/* i;ascii-numeric (RFC 4790 §9.1) */
	{ "require \"comparator-i;ascii-numeric\";"
	  "if header :comparator \"i;ascii-numeric\" :is \"x-spam-score\" \"007\" { discard; }",
	  "discard" },
	{ "require \"comparator-i;ascii-numeric\";"
	  "if header :comparator \"i;ascii-numeric\" :is \"subject\" \"x\" { discard; }",
	  "discard" },
	/* exists (§5.5) */
	{ "if exists \"x-empty\" { discard; }", "discard" },
	{ "if exists [\"from\", \"X-MULTI\"] { discard; }", "discard" },
	{ "if exists [\"from\", \"x-none\"] { discard; }", "keep:implicit" },
	/* size (§5.9) */
	{ "if size :over 100 { discard; }", "discard" },
	{ "if size :over 1K { discard; }", "keep:implicit" },
	{ "if size :under 1K { discard; }", "discard" },
	{ "if size :under 10 { discard; }", "keep:implicit" },
	/* address (§5.1) and address parts (§2.7.4) */
	{ "if address :is \"from\" \"joe.sender@example.com\" { discard; }", "discard" },
	{ "if address :all :comparator \"i;octet\" :is \"from\" \"joe.sender@example.com\""
	  " { discard; }", "keep:implicit" },
	{ "if address :localpart :is \"to\" \"bob+lists\" { discard; }", "discard" },
	{ "if address :domain :is \"to\" \"sub.example.net\" { discard; }", "discard" },
	{ "if address :domain :matches \"to\" \"*.example.net\" { discard; }", "discard" },
	{ "if address :domain :is \"from\" \"Joe Sender\" { discard; }", "keep:implicit" },
	{ "if address :all :contains \"cc\" \"undisclosed\" { discard; }", "keep:implicit" },
	{ "if address :localpart :is \"sender\" \"not\" { discard; }", "keep:implicit" },
	{ "if address :all :is \"sender\" \"not an address\" { discard; }", "discard" },
	/* encoded-character (RFC 5228 §2.4.2.4) */
	{ "require [\"encoded-character\", \"fileinto\"];"
	  "fileinto \"${hex:49 4e}${unicode:42}OX-${unicode: 263a }\";",
	  "fileinto \"INBOX-\xe2\x98\xba\"" },
	{ "require [\"encoded-character\", \"fileinto\"]; fileinto \"${hex:4}${foo}${hex:41\";",
	  "fileinto \"${hex:4}${foo}${hex:41\"" },
	{ "require \"fileinto\"; fileinto \"${hex:41}\";", "fileinto \"${hex:41}\"" },
	{ "require [\"encoded-character\", \"fileinto\"];\nfileinto \"${unicode:D800}\";",
	  "ERR:line 2: encoded character value in \"${unicode:D800}\" is invalid: invalid Unicode character U+D800" },
	{ "require [\"encoded-character\", \"fileinto\"];\nfileinto \"${unicode:110000}\";",
	  "ERR:line 2: encoded character value in \"${unicode:110000}\" is invalid: invalid Unicode character U+110000" },
	/* reject (RFC 5429) */
	{ "require \"reject\"; reject \"go away\";", "reject \"go away\"" },
	{ "require \"ereject\"; ereject \"no\";", "ereject \"no\"" },
	{ "require [\"reject\", \"fileinto\"];\nfileinto \"A\";\nreject \"no\";",
	  "RUN:line 3: reject cannot be combined with keep, fileinto or redirect" },
	{ "require \"reject\";\nreject \"no\";\nkeep;",
	  "RUN:line 3: reject cannot be combined with keep, fileinto or redirect" },
	{ "require \"reject\"; reject \"no\";\nreject \"no\";",
	  "RUN:line 2: reject given more than once" },
	/* runtime errors: RFC 5228 §2.10.6 fallback to keep */
	{ "if header :is \"x-fail\" \"\" { discard; }\n",
	  "RUN:line 1: failed to read header x-fail: simulated failure" },
	{ "redirect \"a@b.c\"; redirect \"b@b.c\"; redirect \"c@b.c\";\n"
	  "redirect \"d@b.c\";\nredirect \"e@b.c\";",
	  "RUN:line 3: number of redirect actions exceeds policy limit (4)" },
};

/* envelope (RFC 5228 §5.4) */
static const struct envelope_test envelope_tests[] = {
	{ "require \"envelope\"; if envelope :is \"from\" \"" FROM "\" { discard; }",
	  "discard", FROM, TO },
	{ "require \"envelope\"; if envelope :domain :is \"to\" \"example.org\" { discard; }",
	  "discard", FROM, TO },
	{ "require \"envelope\"; if envelope :localpart :is [\"from\",\"to\"] \"alice\""
	  " { discard; }", "discard", FROM, TO },
	{ "require \"envelope\"; if envelope :is \"from\" \"\" { discard; }",
	  "discard", "", TO },
	{ "require \"envelope\"; if envelope :domain :is \"from\" \"\" { discard; }",
	  "discard", "", TO },
	{ "require \"envelope\"; if envelope :matches \"from\" \"*\" { discard; }",
	  "keep:implicit", NULL, NULL },
};

static const char *run_script(const char *script, const char *message,
			      const char *env_from, const char *env_to,
			      const struct sieve_exec_limits *limits)
{
	pool_t pool = pool_create("test", 4096);
	struct test_message msg = {
		.pool = pool, .data = message, .env_from = env_from, .env_to = env_to,
	};
	struct sieve_message smsg = { .v = &test_message_vfuncs, .context = &msg };
	struct sieve_ast *ast;
	struct sieve_result *result;
	const char *error, *ret;
	string_t *out = t_str_new(128);

	array_init(&msg.fields, pool, 16);
	mime_header_parse_block(message, strlen(message), NULL, test_message_field, &msg);
	if (sieve_compile(pool, script, strlen(script), NULL, &ast, &error) < 0) {
		ret = t_strconcat("ERR:", error, NULL);
	} else if (sieve_execute(ast, &smsg, limits, pool, &result, &error) < 0) {
		sieve_result_write(out, result);
		ret = strcmp(str_c(out), "keep:implicit") != 0 ? "RUN without fallback keep" :
			t_strconcat("RUN:", error, NULL);
	} else {
		sieve_result_write(out, result);
		for (char *p = (char *)str_c(out); *p != '\0'; p++) {
			if (*p == '\n')
				*p = '|';
		}
		ret = str_c(out);
	}
	pool_destroy(&pool);
	return ret;
}

static void test_interp(void)
{
	test_begin("sieve interpreter");
	for (unsigned int i = 0; i < N_ELEMENTS(interp_tests); i++) {
		const struct interp_test *t = &interp_tests[i];
		const char *got = run_script(t->script, default_message, FROM, TO, NULL);

		if (strcmp(got, t->expected) != 0)
			printf("  script %u: %s\n", i, t->script);
		test_assert_strcmp(got, t->expected);
	}
	for (unsigned int i = 0; i < N_ELEMENTS(envelope_tests); i++) {
		const struct envelope_test *t = &envelope_tests[i];

		test_assert_strcmp(run_script(t->script, default_message, t->env_from,
					      t->env_to, NULL), t->expected);
	}
	t_pool_clear();
	test_end();
}

struct compile_test {
	const char *script, *error;
};

static const struct compile_test compile_tests[] = {
	{ "keep;\nfoo;", "line 2: unknown command 'foo' (reported once)" },
	{ "if foo { }", "line 1: unknown test 'foo' (reported once)" },
	{ "if keep { }", "line 1: cannot use command 'keep' as a test" },
	{ "\ntrue;", "line 2: cannot use test 'true' as a command" },
	{ "fileinto \"A\";", "line 1: 'fileinto' requires extension \"fileinto\" (missing require?)" },
	{ "require \"fileinto\";\nfileinto :copy \"A\";",
	  "line 2: tag ':copy' requires extension \"copy\" (missing require?)" },
	{ "require \"nonsense\";", "line 1: unsupported extension \"nonsense\"" },
	{ "require \"FILEINTO\";", "line 1: unsupported extension \"FILEINTO\" (it is a command every script has)" },
	{ "keep;\nrequire \"fileinto\";", "line 2: require commands can only be placed at the top level, before any other command" },
	{ "if true {\nrequire \"fileinto\"; }", "line 2: require commands can only be placed at the top level, before any other command" },
	{ "require 1;", "line 1: the require command expects a string list as argument 1, but a number was found" },
	{ "keep \"x\";", "line 1: too many positional arguments for the keep command (it takes 0, found a string as argument 1)" },
	{ "keep true;", "line 1: the keep command accepts no sub-tests, but tests are specified" },
	{ "keep { }", "line 1: the keep command does not accept a command block, but one is specified" },
	{ "redirect;", "line 1: the redirect command requires 1 positional argument, but 0 are specified" },
	{ "redirect [\"a@b.c\"];", "line 1: the redirect command expects a string as argument 1, but a string list was found" },
	{ "redirect \"not an address\";", "line 1: invalid redirect address \"not an address\"" },
	{ "redirect \"a@b.c, d@e.f\";", "line 1: invalid redirect address \"a@b.c, d@e.f\"" },
	{ "redirect \"a@\";", "line 1: invalid redirect address \"a@\"" },
	{ "require \"fileinto\"; fileinto \"\";",
	  "line 1: invalid mailbox name for fileinto (empty or not UTF-8)" },
	{ "require \"fileinto\"; fileinto \"\xff\";",
	  "line 1: invalid mailbox name for fileinto (empty or not UTF-8)" },
	{ "if true;", "line 1: the if command requires a command block, but it is missing" },
	{ "if { }", "line 1: the if command requires one sub-test, but none is specified" },
	{ "if (true) { }", "line 1: the if command requires one sub-test, but a list of tests is specified" },
	{ "if true { } else true { }", "line 1: the else command accepts no sub-tests, but tests are specified" },
	{ "keep;\nelse { }", "line 2: 'else' must follow 'if' or 'elsif'" },
	{ "elsif true { }", "line 1: 'elsif' must follow 'if' or 'elsif'" },
	{ "if true { } else { }\nelse { }", "line 2: 'else' must follow 'if' or 'elsif'" },
	{ "if true { } keep; elsif true { }", "line 1: 'elsif' must follow 'if' or 'elsif'" },
	{ "if anyof true { }", "line 1: the anyof test requires a list of sub-tests, but a single test is specified" },
	{ "if not (true) { }", "line 1: the not test requires one sub-test, but a list of tests is specified" },
	{ "if size 10 { }", "line 1: size needs exactly one of :over and :under" },
	{ "if size :over :under 10 { }", "line 1: size needs exactly one of :over and :under" },
	{ "if size :over \"10\" { }", "line 1: the size test expects a number as argument 1, but a string was found" },
	{ "if size :over :over 10 { }", "line 1: tag ':over' given more than once" },
	{ "if header :is :contains \"a\" \"b\" { }", "line 1: more than one match type given" },
	{ "if header :all \"a\" \"b\" { }", "line 1: unknown tagged argument ':all' for the header test (the command's other arguments are not checked)" },
	{ "if address :all :domain \"to\" \"b\" { }", "line 1: more than one address part given" },
	{ "if header :comparator \"i;nope\" \"a\" \"b\" { }",
	  "line 1: unknown comparator \"i;nope\"" },
	{ "if header :comparator \"i;octet\" \"b\" { }",
	  "line 1: the header test requires 2 positional arguments, but 1 is specified" },
	{ "if header :comparator { }", "line 1: the :comparator tag needs a string argument" },
	{ "if header :comparator \"i;ascii-numeric\" \"a\" \"b\" { }",
	  "line 1: comparator \"i;ascii-numeric\" requires extension "
	  "\"comparator-i;ascii-numeric\" (missing require?)" },
	{ "require \"comparator-i;ascii-numeric\";\n"
	  "if header :contains :comparator \"i;ascii-numeric\" \"a\" \"b\" { }",
	  "line 2: comparator \"i;ascii-numeric\" does not support this match type" },
	{ "if header \"bad header\" \"b\" { }", "line 1: invalid header name \"bad header\"" },
	{ "if exists \"a b\" { }", "line 1: invalid header name \"a b\"" },
	{ "if address \"subject\" \"b\" { }",
	  "line 1: header 'subject' holds no addresses: not allowed in the address test" },
	{ "require \"envelope\"; if envelope \"date\" \"b\" { }",
	  "line 1: unknown envelope part \"date\"" },
	{ "if true {\n  if false {\n    keep :copy;\n  }\n}", "line 3: unknown tagged argument ':copy' for the keep command (the command's other arguments are not checked)" },
	{ "keep;\n\nkeep", "line 3: expected ';' or '{' after the arguments of 'keep', "
		"found end of script" },
};

static void test_compile_errors(void)
{
	test_begin("sieve compile errors");
	for (unsigned int i = 0; i < N_ELEMENTS(compile_tests); i++) {
		const char *got = run_script(compile_tests[i].script, default_message,
					     NULL, NULL, NULL);

		test_assert_strcmp(got, t_strconcat("ERR:", compile_tests[i].error, NULL));
	}
	/* keywords are case-insensitive, capabilities are not */
	test_assert_strcmp(run_script("REQUIRE \"fileinto\"; IF TRUE { FileInto :COPY \"A\"; }",
				      default_message, NULL, NULL, NULL),
			   "ERR:line 1: tag ':copy' requires extension \"copy\" (missing require?)");
	test_assert_strcmp(run_script("REQUIRE \"fileinto\"; IF TRUE { FileInto \"A\"; }",
				      default_message, NULL, NULL, NULL),
			   "fileinto \"A\"");
	t_pool_clear();
	test_end();
}

static void test_action_limits(void)
{
	struct sieve_exec_limits limits = { .max_actions = 3, .max_redirects = 1 };

	test_begin("sieve action limits");
	test_assert_strcmp(run_script("require \"fileinto\"; fileinto \"a\"; fileinto \"b\";\n"
				      "keep; keep; fileinto \"a\";", default_message,
				      NULL, NULL, &limits),
			   "fileinto \"a\"|fileinto \"b\"|keep");
	test_assert_strcmp(run_script("require \"fileinto\"; fileinto \"a\"; fileinto \"b\";\n"
				      "keep; fileinto \"c\";", default_message,
				      NULL, NULL, &limits),
			   "RUN:line 2: total number of actions exceeds policy limit (3)");
	test_assert_strcmp(run_script("redirect \"a@b.c\";\nredirect \"b@b.c\";",
				      default_message, NULL, NULL, &limits),
			   "RUN:line 2: number of redirect actions exceeds policy limit (1)");
	t_pool_clear();
	test_end();
}

int main(void)
{
	static void (*const tests[])(void) = {
		test_interp, test_compile_errors, test_action_limits, NULL,
	};
	return test_run(tests);
}
