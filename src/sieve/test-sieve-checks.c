/* Unit tests for the engine's compile-time and run-time checks that the
 * Pigeonhole suite found missing: mailto URIs (RFC 6068, RFC 5436),
 * notify :options, escaping modifiers at the variable size limit, unknown
 * environment items, text: line endings, includes resolved at compile
 * time (RFC 6609), envelope paths, result rules, conflicts with actions
 * carried out already, invalid addresses (RFC 5228 §2.7.4), and the MIME
 * parts body searches (RFC 5173 §5.2, §5.3). */
#include "test-common.h"
#include "sieve-extension.h"
#include "sieve-run.h"

#include <strings.h>

static const char test_message[] =
	"From: joe@example.com\r\n"
	"To: alice@example.org\r\n"
	"Subject: hello\r\n"
	"\r\n"
	"body\r\n";

/* Compiles and runs script; returns "ERR:...", "RUN:..." or the
   result with '|' between actions. */
static const char *run(pool_t pool, const char *script, const char *message,
		       const struct sieve_env *env, const struct sieve_exec_limits *limits,
		       struct sieve_result **result_r)
{
	struct sieve_envelope envelope = { .from = "joe@example.com", .to = "alice@example.org" };
	const struct sieve_message *msg = sieve_message_from_memory(
		pool, message, strlen(message), &envelope);
	struct sieve_result *result;
	struct sieve_ast *ast;
	const char *error;
	string_t *out = t_str_new(256);

	if (sieve_compile(pool, script, strlen(script), NULL, &ast, &error) < 0)
		return t_strconcat("ERR:", error, NULL);
	if (sieve_execute_env(ast, msg, env, limits, pool, &result, &error) < 0)
		return t_strconcat("RUN:", error, NULL);
	sieve_result_write(out, result);
	for (size_t i = 0; i < str_len(out); i++) {
		if (out->data[i] == '\n')
			((unsigned char *)out->data)[i] = '|';
	}
	if (result_r != NULL)
		*result_r = result;
	return str_c(out);
}

static void test_sieve_mailto(void)
{
	static const struct {
		const char *uri;
		/* "ERR" or the recipients as "T:addr C:addr B:addr" */
		const char *expected;
	} tests[] = {
		{ "mailto:a@example.org", "T:a@example.org" },
		{ "MAILTO:a@example.org,b@example.org", "T:a@example.org T:b@example.org" },
		/* an encoded comma separates recipients too */
		{ "mailto:a@example.org%2cb@example.org?cc=c@example.org",
		  "T:a@example.org T:b@example.org C:c@example.org" },
		/* duplicates go, the first stays */
		{ "mailto:a@example.org?cc=A@example.org&bcc=d@example.org",
		  "T:a@example.org B:d@example.org" },
		{ "mailto:?to=%22Joe%20X%22%20%3Cj@example.org%3E", "T:j@example.org" },
		{ "mailto:a@example.org;?header=x", "ERR" },
		{ "mailto:a@example.org?header<=x", "ERR" },
		{ "mailto:a@example.org?header=x>y", "ERR" },
		{ "mailto:a@example.org?header:=x", "ERR" },
		{ "mailto:a%23example.org", "ERR" },
		{ "mailto:a@example.org?to=b%23example.org", "ERR" },
		{ "mailto:a@example.org?subject=a%0d%0ab", "ERR" },
		{ "mailto:a@example.org%00", "ERR" },
		{ "mailto:a@example.org%4", "ERR" },
		{ "mailto:", "ERR" },
		{ "mailto:?subject=x", "ERR" },
		{ "http://example.org/", "ERR" },
	};
	pool_t pool = pool_create("test mailto", 1024);

	test_begin("sieve mailto URIs");
	for (unsigned int i = 0; i < N_ELEMENTS(tests); i++) {
		struct sieve_mailto *mailto;
		const char *error, *got = "ERR";

		if (sieve_mailto_parse(pool, tests[i].uri, &mailto, &error) == 0) {
			string_t *str = t_str_new(64);
			for (unsigned int j = 0; j < mailto->recipients.count; j++) {
				const struct sieve_mailto_recipient *r = &mailto->recipients.v[j];
				str_printfa(str, "%s%c:%s", j == 0 ? "" : " ",
					    r->field == SIEVE_MAILTO_TO ? 'T' :
					    r->field == SIEVE_MAILTO_CC ? 'C' : 'B', r->address);
			}
			got = str_c(str);
		}
		if (strcmp(got, tests[i].expected) != 0)
			printf("  uri %u: %s\n", i, tests[i].uri);
		test_assert_strcmp(got, tests[i].expected);
	}
	/* header fields: subject and body apart, the unsafe ones dropped */
	struct sieve_mailto *mailto;
	const char *error;
	test_assert(sieve_mailto_parse(pool, "mailto:a@example.org?subject=Hi%20there&"
				       "body=x%0D%0Ay&from=evil@example.com&X-Tag=1",
				       &mailto, &error) == 0);
	test_assert_strcmp(mailto->subject, "Hi there");
	test_assert_strcmp(mailto->body, "x\r\ny");
	test_assert(mailto->headers.count == 1);
	test_assert_strcmp(mailto->headers.v[0].name, "X-Tag");
	test_end();
	pool_destroy(&pool);
}

static void test_sieve_notify_checks(void)
{
	static const struct {
		const char *script, *expected;
	} tests[] = {
		/* a constant URI is checked at compile time */
		{ "require \"enotify\"; notify \"mailto:a%23example.org\";",
		  "ERR:line 1: invalid mailto URI" },
		{ "require \"enotify\"; notify :options \"frop\" \"mailto:a@example.org\";",
		  "ERR:line 1: notify: invalid :options value 'frop'" },
		{ "require \"enotify\"; notify :options \"_x=1\" \"mailto:a@example.org\";",
		  "ERR:line 1: notify: invalid :options value" },
		/* a variable one at run time */
		{ "require [\"enotify\", \"variables\"]; set \"u\" \"mailto:a%23x\"; notify \"${u}\";",
		  "RUN:line 1: notify: invalid mailto URI" },
		{ "require \"enotify\"; notify :options \"a.b-c=x y\" \"mailto:a@example.org\";",
		  "notify \"mailto:a@example.org\" importance=\"2\" options=[\"a.b-c=x y\"]|"
		  "keep:implicit" },
		{ "require \"enotify\"; if valid_notify_method \"mailto:a@example.org?to=b%23x\" "
		  "{ discard; }", "keep:implicit" },
	};
	pool_t pool = pool_create("test notify", 1024);

	test_begin("sieve notify checks");
	for (unsigned int i = 0; i < N_ELEMENTS(tests); i++) {
		const char *got = run(pool, tests[i].script, test_message, NULL, NULL, NULL);
		size_t len = strlen(tests[i].expected);
		bool prefix = strncmp(tests[i].expected, "ERR:", 4) == 0 ||
			strncmp(tests[i].expected, "RUN:", 4) == 0;

		if (prefix ? strncmp(got, tests[i].expected, len) != 0 :
		    strcmp(got, tests[i].expected) != 0) {
			printf("  script %u: %s\n", i, tests[i].script);
			test_assert_strcmp(got, tests[i].expected);
		}
	}
	/* RFC 5436 §2.7: no notification about an automatic message */
	struct sieve_result *result;
	const char *auto_msg = "From: a@example.com\r\nAuto-Submitted: auto-replied\r\n\r\nx\r\n";
	test_assert_strcmp(run(pool, "require \"enotify\"; notify \"mailto:a@example.org\";",
			       auto_msg, NULL, NULL, &result),
			   "notify \"mailto:a@example.org\" importance=\"2\"|keep:implicit");
	test_assert(result->actions.v[0].notify->suppress_reason != NULL);
	test_assert(result->actions.v[0].notify->mailto->recipients.count == 1);
	test_end();
	pool_destroy(&pool);
}

static void test_sieve_variable_limits(void)
{
	static const struct {
		const char *script, *expected;
	} tests[] = {
		/* 9 bytes allowed: "%40%40%40" fits, a 4th escape would be cut */
		{ "require [\"variables\", \"enotify\", \"fileinto\"]; "
		  "set :encodeurl \"a\" \"@@@@\"; fileinto \"${a}\";", "fileinto \"%40%40%40\"" },
		{ "require [\"variables\", \"enotify\", \"fileinto\"]; "
		  "set :encodeurl \"a\" \"0@@@@\"; fileinto \"${a}\";", "fileinto \"0%40%40\"" },
		/* a UTF-8 character's escapes stay together */
		{ "require [\"variables\", \"enotify\", \"fileinto\"]; "
		  "set :encodeurl \"a\" \"x\xe4\xb8\x83\"; fileinto \"${a}\";", "fileinto \"x\"" },
		{ "require [\"variables\", \"fileinto\"]; "
		  "set :quotewildcard \"a\" \"0****\"; fileinto \"${a}\";",
		  "fileinto \"0\\\\*\\\\*\\\\*\\\\*\"" },
		{ "require [\"variables\", \"fileinto\"]; "
		  "set :quotewildcard \"a\" \"00****\"; fileinto \"${a}\";",
		  "fileinto \"00\\\\*\\\\*\\\\*\"" },
		/* text: lines end in CRLF whatever the script file has */
		{ "require [\"variables\", \"fileinto\"]; set \"a\" text:\nab\n.\n;"
		  "set :length \"l\" \"${a}\"; fileinto \"${l}\";", "fileinto \"4\"" },
		/* RFC 5183: an unknown item matches nothing, even :count 0 */
		{ "require [\"environment\", \"relational\", \"fileinto\"]; "
		  "if environment :count \"eq\" \"nonsense\" \"0\" { fileinto \"x\"; }",
		  "keep:implicit" },
		{ "require [\"environment\", \"relational\", \"fileinto\"]; "
		  "if environment :count \"eq\" \"location\" \"1\" { fileinto \"x\"; }",
		  "fileinto \"x\"" },
	};
	pool_t pool = pool_create("test variable limits", 1024);
	struct sieve_exec_limits limits = { .max_variable_size = 9 };

	test_begin("sieve escaping modifiers at the size limit");
	for (unsigned int i = 0; i < N_ELEMENTS(tests); i++) {
		const char *got = run(pool, tests[i].script, test_message, NULL, &limits, NULL);

		if (strcmp(got, tests[i].expected) != 0)
			printf("  script %u: %s\n", i, tests[i].script);
		test_assert_strcmp(got, tests[i].expected);
	}
	test_end();
	pool_destroy(&pool);
}

/* included scripts for the compile-time loader: name -> source */
static const struct {
	const char *name, *script;
} included[] = {
	{ "plain", "keep;" },
	{ "self", "require \"include\"; include \"self\";" },
	{ "a", "require \"include\"; include \"b\";" },
	{ "b", "require \"include\"; include \"a\";" },
	{ "deep1", "require \"include\"; include \"deep2\";" },
	{ "deep2", "require \"include\"; include \"plain\";" },
	{ "once", "require \"include\"; include :once \"once\"; keep;" },
	{ "broken", "frop;" },
};

static int load_included(void *context, enum sieve_include_location location,
			 const char *name, const struct sieve_ast **ast_r, const char **error_r)
{
	pool_t pool = context;

	for (unsigned int i = 0; i < N_ELEMENTS(included); i++) {
		struct sieve_ast *ast;

		if (strcmp(included[i].name, name) != 0)
			continue;
		if (sieve_compile(pool, included[i].script, strlen(included[i].script), NULL,
				  &ast, error_r) < 0)
			return -1;
		*ast_r = ast;
		return 1;
	}
	return 0;
}

/* "OK" or the error texts (warnings with "W:") joined by '|' */
static const char *compile_env(pool_t pool, const char *script,
			       const struct sieve_compile_env *cenv)
{
	sieve_diag_array_t diags;
	struct sieve_ast *ast;
	string_t *out = t_str_new(128);
	int ret;

	array_init(&diags, pool, 4);
	ret = sieve_compile_env_diag(pool, script, strlen(script), NULL, 0, cenv, &ast, &diags);
	for (unsigned int i = 0; i < diags.count; i++) {
		str_printfa(out, "%s%s%s", i == 0 ? "" : "|",
			    diags.v[i].warning ? "W:" : "", diags.v[i].text);
	}
	return ret == 0 && str_len(out) == 0 ? "OK" : str_c(out);
}

static void test_sieve_compile_includes(void)
{
	static const struct {
		const char *script, *expected;
	} tests[] = {
		{ "require \"include\"; include \"plain\"; include :optional \"none\";", "OK" },
		{ "require \"include\"; include \"none\";",
		  "line 1: included script 'none' does not exist" },
		{ "require \"include\";\ninclude \"self\";",
		  "line 2: included script 'self', line 1: circular include of script 'self'|"
		  "line 2: failed to compile included script 'self'" },
		{ "require \"include\"; include \"a\";",
		  "line 1: included script 'b', line 1: circular include of script 'a'|"
		  "line 1: included script 'a', line 1: failed to compile included script 'b'|"
		  "line 1: failed to compile included script 'a'" },
		{ "require \"include\"; include \"once\";", "OK" },
		{ "require \"include\"; include \"broken\";",
		  "line 1: failed to compile included script 'broken': line 1: unknown command" },
		/* RFC 6609 §3.2: the name is a constant string, with or without
		   a loader; without variables "${n}" is just a name */
		{ "require [\"include\", \"variables\"]; set \"n\" \"none\"; include \"${n}\";",
		  "line 1: include: the script name \"${n}\" must be a constant string" },
		{ "require \"include\"; include \"${n}\";",
		  "line 1: included script '${n}' does not exist" },
		/* RFC 5804 §1.6 script names */
		{ "require [\"include\", \"encoded-character\"]; include \"x${unicode:2028}\";",
		  "line 1: include: invalid script name" },
		{ "require \"include\"; include \"../x\";", "line 1: include: invalid script name" },
	};
	pool_t pool = pool_create("test includes", 4096);
	struct sieve_compile_env cenv = { .context = pool, .include_load = load_included };

	test_begin("sieve includes at compile time");
	for (unsigned int i = 0; i < N_ELEMENTS(tests); i++) {
		const char *got = compile_env(pool, tests[i].script, &cenv);

		if (strncmp(got, tests[i].expected, strlen(tests[i].expected)) != 0) {
			printf("  script %u: %s\n", i, tests[i].script);
			test_assert_strcmp(got, tests[i].expected);
		}
	}
	/* the depth and count limits */
	cenv.max_include_depth = 2;
	test_assert(strstr(compile_env(pool, "require \"include\"; include \"deep1\";", &cenv),
			   "nested too deep (limit 2)") != NULL);
	cenv.max_include_depth = 3;
	test_assert_strcmp(compile_env(pool, "require \"include\"; include \"deep1\";", &cenv),
			   "OK");
	cenv.max_includes = 2;
	test_assert(strstr(compile_env(pool, "require \"include\"; include \"deep1\";", &cenv),
			   "too many included scripts (limit 2)") != NULL);
	/* ManageSieve: a script may be uploaded before the one it includes */
	cenv.max_includes = 0;
	cenv.missing_include_is_warning = true;
	test_assert_strcmp(compile_env(pool, "require \"include\"; include \"none\";", &cenv),
			   "W:line 1: warning: included script 'none' does not exist");
	/* without a loader nothing is resolved at compile time */
	test_assert_strcmp(compile_env(pool, "require \"include\"; include \"none\";", NULL),
			   "OK");
	test_assert(strstr(compile_env(pool, "require [\"include\", \"variables\"]; "
				       "include :optional \"x${n}\";", NULL),
			   "must be a constant string") != NULL);
	test_end();
	pool_destroy(&pool);
}

static void test_sieve_compile_checks(void)
{
	static const struct {
		const char *script, *expected;
	} tests[] = {
		/* RFC 5229 §3 namespaces */
		{ "require \"variables\"; set \"ns.x\" \"1\";",
		  "line 1: unknown variable namespace 'ns'" },
		{ "require [\"variables\", \"fileinto\"]; fileinto \"${ns.x}\";",
		  "line 1: unknown variable namespace 'ns'" },
		{ "require [\"variables\", \"include\"]; set \"global.x\" \"1\"; global \"x\";",
		  "OK" },
		{ "require [\"variables\", \"include\"]; set \"global.a.b\" \"1\";",
		  "line 1: invalid variable name 'global.a.b'" },
		{ "require [\"variables\", \"fileinto\"]; fileinto \"${32}${ a}${x\";", "OK" },
		{ "require [\"variables\", \"fileinto\"]; fileinto \"${33}\";",
		  "line 1: match variable ${33} out of range" },
		{ "require \"variables\"; set "
		  "\"a1234567890123456789012345678901234567890123456789012345678901234\" \"\";",
		  "line 1: variable name too long" },
		/* RFC 5703 §7 */
		{ "require [\"extracttext\", \"variables\"];\nkeep;",
		  "line 1: the extracttext extension cannot be used without the foreverypart" },
		{ "require [\"extracttext\", \"variables\", \"foreverypart\"]; "
		  "foreverypart { extracttext \"0\"; }", "line 1: invalid variable name \"0\"" },
		{ "require \"foreverypart\"; foreverypart { foreverypart { foreverypart { "
		  "foreverypart { keep; } } } }", "OK" },
		{ "require \"foreverypart\"; foreverypart { foreverypart { foreverypart { "
		  "foreverypart { foreverypart { keep; } } } } }",
		  "line 1: foreverypart loops nested too deep (limit 4)" },
	};
	pool_t pool = pool_create("test compile checks", 4096);
	struct sieve_compile_env cenv = { .max_variables = 3 };

	test_begin("sieve compile-time checks");
	for (unsigned int i = 0; i < N_ELEMENTS(tests); i++) {
		const char *got = compile_env(pool, tests[i].script, NULL);

		if (strncmp(got, tests[i].expected, strlen(tests[i].expected)) != 0) {
			printf("  script %u: %s\n", i, tests[i].script);
			test_assert_strcmp(got, tests[i].expected);
		}
	}
	/* the variable count, with a compile environment only */
	const char *many = "require \"variables\"; set \"a\" \"\"; set \"b\" \"\"; "
		"set \"A\" \"\"; set \"c\" \"\"; set \"d\" \"\"; set \"e\" \"\";";
	test_assert_strcmp(compile_env(pool, many, NULL), "OK");
	test_assert_strcmp(compile_env(pool, many, &cenv),
			   "line 1: too many variables in one script (limit 3)");
	test_end();
	pool_destroy(&pool);
}

static void test_sieve_envelope_paths(void)
{
	static const struct {
		const char *path, *expected;
	} tests[] = {
		{ "a@example.org", "a|example.org" },
		{ "<a@example.org>", "a|example.org" },
		{ "<@r1.example,@r2.example:a@example.org>", "a|example.org" },
		{ "<MAILER-DAEMON>", "MAILER-DAEMON|" },
		{ "..a...b..@ex_ample.com", "..a...b..|ex_ample.com" },
		{ "\"S[r]us\"@example.net", "\"S[r]us\"|example.net" },
		{ "\"Sirius\"@example.net", "Sirius|example.net" },
		{ "<<a@example.org>", NULL },
		{ "a@example.org>", NULL },
		{ "<a@example.org", NULL },
		{ "a example.org", NULL },
		{ "a@@example.org", NULL },
		{ "a@", NULL },
		{ "<r.example:a@example.org>", NULL },
		{ "<@.example:a@example.org>", NULL },
		{ "<@r..nl:a@example.org>", NULL },
		{ "<@r.example,r2.example:a@example.org>", NULL },
		{ "<@r.example,@r2.example,a@example.org>", NULL },
	};
	pool_t pool = pool_create("test paths", 1024);

	test_begin("sieve envelope paths");
	for (unsigned int i = 0; i < N_ELEMENTS(tests); i++) {
		const char *local, *domain, *got = NULL;

		if (sieve_envelope_path_parse(pool, tests[i].path, &local, &domain) == 0)
			got = t_strdup_printf("%s|%s", local, domain == NULL ? "" : domain);
		if (got == NULL || tests[i].expected == NULL) {
			if (got != tests[i].expected)
				printf("  path %u: %s -> %s\n", i, tests[i].path, got);
			test_assert(got == tests[i].expected);
		} else {
			test_assert_strcmp(got, tests[i].expected);
		}
	}
	test_end();
	pool_destroy(&pool);
}

static void test_sieve_result_rules(void)
{
	static const struct {
		const char *script, *expected;
	} tests[] = {
		/* RFC 5232 §5: the last flag list wins */
		{ "require [\"imap4flags\", \"fileinto\"]; fileinto :flags \"A\" \"X\"; "
		  "fileinto :flags \"B\" \"X\";", "fileinto \"X\" flags=[\"B\"]" },
		/* keep after fileinto "INBOX" is one keep */
		{ "require \"fileinto\"; fileinto \"INBOX\"; keep;", "keep" },
		{ "require [\"mime\", \"fileinto\"]; if header :mime :type "
		  "\"content-disposition\" \"attachment\" { fileinto \"t\"; }", "fileinto \"t\"" },
		{ "require [\"mime\", \"fileinto\"]; if header :mime :subtype "
		  "\"content-disposition\" \"\" { fileinto \"s\"; }", "fileinto \"s\"" },
		{ "require [\"imap4flags\", \"fileinto\"]; setflag \"A B\"; "
		  "if hasflag :is \"b a\" { fileinto \"f\"; }", "fileinto \"f\" flags=[\"A\", \"B\"]" },
		{ "require [\"envelope\", \"fileinto\"]; "
		  "if envelope :localpart \"from\" \"joe\" { fileinto \"e\"; }", "fileinto \"e\"" },
	};
	pool_t pool = pool_create("test result rules", 1024);
	const char *att = "From: a@example.com\r\nContent-Disposition: attachment; filename=x\r\n"
		"\r\nbody\r\n";

	test_begin("sieve result rules");
	for (unsigned int i = 0; i < N_ELEMENTS(tests); i++) {
		const char *got = run(pool, tests[i].script, att, NULL, NULL, NULL);

		if (strcmp(got, tests[i].expected) != 0)
			printf("  script %u: %s\n", i, tests[i].script);
		test_assert_strcmp(got, tests[i].expected);
	}
	/* RFC 5173: body never sets match variables; no body, no match */
	const char *html = "From: a@example.com\r\nContent-Type: text/html\r\n\r\n"
		"<html><style>p{}</style><b>Bold</b>&amp;<i>x</i></html>\r\n";
	test_assert_strcmp(run(pool, "require [\"body\", \"variables\", \"fileinto\"]; "
			       "if body :matches \"*Bold*\" { fileinto \"[${1}]\"; }", html,
			       NULL, NULL, NULL), "fileinto \"[]\"");
	test_assert_strcmp(run(pool, "require [\"body\", \"fileinto\"]; "
			       "if body :contains \"<b>\" { fileinto \"m\"; }", html,
			       NULL, NULL, NULL), "keep:implicit");
	test_assert_strcmp(run(pool, "require [\"body\", \"fileinto\"]; "
			       "if body :raw :contains \"\" { fileinto \"m\"; }",
			       "From: a@example.com\r\n", NULL, NULL, NULL), "keep:implicit");
	test_assert_strcmp(sieve_html_to_text(pool, "<html><style>p{}</style><b>Bold</b>&amp;"
						 "<i>x</i></html>"), "Bold & x ");
	/* a later script of a sequence stores with the flags an earlier one
	   set, without requiring imap4flags itself */
	const char *scripts[] = { "require \"imap4flags\"; setflag \"$label1\";",
				  "require \"fileinto\"; fileinto \"F\";" };
	struct sieve_ast *asts[2];
	struct sieve_result *result;
	const char *error;
	const struct sieve_message *msg = sieve_message_from_memory(pool, att, strlen(att), NULL);
	for (unsigned int i = 0; i < 2; i++)
		test_assert(sieve_compile(pool, scripts[i], strlen(scripts[i]), NULL,
					  &asts[i], &error) == 0);
	test_assert(sieve_execute_multi((const struct sieve_ast *const *)asts, 2, msg, NULL, NULL,
					pool, &result, &error) == 0);
	test_assert(result->actions.count == 1 && result->actions.v[0].flags != NULL &&
		    strcmp(result->actions.v[0].flags[0], "$label1") == 0);
	test_end();
	pool_destroy(&pool);
}

static void test_sieve_body_parts(void)
{
	static const char msg[] =
		"From: a@example.com\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
		"Prologue text\r\n--b\r\nContent-Type: text/plain/broken\r\n\r\nBroken type\r\n"
		"--b\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: x/y\r\n\r\n"
		"Bad encoding\r\n--b\r\nContent-Type: application/xhtml+xml\r\n\r\n"
		"<p>Xhtml &amp; text</p>\r\n--b\r\nContent-Type: message/rfc822\r\n\r\n"
		"Subject: inner\r\n folded\r\n\r\nInner body\r\n--b--\r\nEpilogue text\r\n";
	static const struct {
		const char *test;
		bool matches;
	} tests[] = {
		/* RFC 5173 §5.2: a multipart's prologue and epilogue, apart */
		{ ":content \"multipart\" :contains \"Prologue text\"", true },
		{ ":content \"multipart\" :is \"Epilogue text\r\n\"", true },
		{ ":content \"multipart\" :contains \"--b\"", false },
		{ ":content \"multipart\" :contains \"Inner\"", false },
		/* a message/rfc822 part: the enclosed header as one string */
		{ ":content \"message/rfc822\" :is \"Subject: inner\r\n folded\r\n\"", true },
		{ ":content \"text/plain\" :contains \"Inner body\"", true },
		/* a broken Content-Type is no type: only "" finds it */
		{ ":content \"text\" :contains \"Broken type\"", false },
		{ ":content \"\" :contains \"Broken type\"", true },
		{ ":text :contains \"Broken type\"", false },
		{ ":content \"text/plain/broken\" :contains \"\"", false },
		{ ":content \"/plain\" :contains \"\"", false },
		/* an encoding that cannot be undone leaves nothing to match */
		{ ":content \"text/plain\" :contains \"Bad encoding\"", false },
		{ ":raw :contains \"Bad encoding\"", true },
		/* XHTML is text for :text, its markup dropped */
		{ ":text :contains \"Xhtml & text\"", true },
		{ ":text :contains \"<p>\"", false },
		{ ":text :contains \"Prologue\"", false },
	};
	pool_t pool = pool_create("test body parts", 1024);

	test_begin("sieve body parts");
	for (unsigned int i = 0; i < N_ELEMENTS(tests); i++) {
		const char *script = t_strdup_printf(
			"require [\"body\", \"fileinto\"]; if body %s { fileinto \"m\"; }",
			tests[i].test);
		const char *got = run(pool, script, msg, NULL, NULL, NULL);
		const char *want = tests[i].matches ? "fileinto \"m\"" : "keep:implicit";

		if (strcmp(got, want) != 0)
			printf("  body %s: %s\n", tests[i].test, got);
		test_assert_strcmp(got, want);
	}
	/* broken structure: a boundary that never comes (all prologue), no
	   close delimiter (no epilogue), a message/rfc822 without a blank line */
	static const struct {
		const char *msg;
		bool matches;
	} broken[] = {
		{ "Content-Type: multipart/mixed; boundary=x\r\n\r\nonly text\r\n", true },
		{ "Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n\r\npart text\r\n",
		  false },
		{ "Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n"
		  "Content-Type: message/rfc822\r\n\r\nSubject: text", false },
		{ "Content-Type: multipart/mixed; boundary=x\r\n\r\n--x--\r\ntext after\r\n", true },
	};
	for (unsigned int i = 0; i < N_ELEMENTS(broken); i++) {
		const char *got = run(pool, "require [\"body\", \"fileinto\"]; if body :content "
				      "\"multipart\" :contains \"text\" { fileinto \"m\"; }",
				      broken[i].msg, NULL, NULL, NULL);

		test_assert_strcmp(got, broken[i].matches ? "fileinto \"m\"" : "keep:implicit");
	}
	test_end();
	pool_destroy(&pool);
}

static int exec_mark_executed(struct sieve_run *run, const struct sieve_ast_node *node)
{
	sieve_run_mark_executed(run);
	return 0;
}

static const struct sieve_command_def mark_executed_commands[] = {
	{ .identifier = "mark_executed", .execute = exec_mark_executed },
	{ .identifier = NULL },
};

static const struct sieve_extension_def mark_executed_ext = {
	.name = "x-tern-test-mark-executed", .commands = mark_executed_commands,
};

/* Conflicts with actions a caller has carried out already are graceful
   (a result executed in steps, as Pigeonhole's multiscript tests do). */
static void test_sieve_executed_conflicts(void)
{
	static const struct {
		const char *script, *expected;
	} tests[] = {
		/* not carried out: the conflict stands */
		{ "fileinto \"A\"; reject \"no\";",
		  "RUN:line 1: reject cannot be combined with keep, fileinto or redirect" },
		/* the store happened: the reject can still refuse the message */
		{ "fileinto \"A\"; mark_executed; reject \"no\";",
		  "fileinto \"A\"|reject \"no\"" },
		/* a response was sent: a second reject is dropped */
		{ "fileinto \"A\"; mark_executed; reject \"no\"; mark_executed; reject \"again\";",
		  "fileinto \"A\"|reject \"no\"" },
		{ "vacation \"away\"; mark_executed; vacation \"again\";",
		  "vacation \"away\" to=\"joe@example.com\" period=604800|keep:implicit" },
		/* a reject after a sent vacation is a discard */
		{ "vacation \"away\"; mark_executed; reject \"no\";",
		  "vacation \"away\" to=\"joe@example.com\" period=604800|discard" },
		/* delivering after a sent reject still conflicts */
		{ "reject \"no\"; mark_executed; fileinto \"A\";",
		  "RUN:line 1: reject cannot be combined with keep, fileinto or redirect" },
		{ "reject \"no\"; mark_executed; vacation \"away\";",
		  "RUN:line 1: reject cannot be combined with vacation" },
	};
	pool_t pool = pool_create("test executed conflicts", 4096);

	test_begin("sieve conflicts with executed actions");
	test_assert(sieve_extension_register(&mark_executed_ext) == 0);
	for (unsigned int i = 0; i < N_ELEMENTS(tests); i++) {
		const char *script = t_strconcat(
			"require [\"x-tern-test-mark-executed\", \"fileinto\", \"reject\", "
			"\"vacation\"]; ", tests[i].script, NULL);
		const char *got = run(pool, script, test_message, NULL, NULL, NULL);

		if (strcmp(got, tests[i].expected) != 0) {
			printf("  script %u: %s\n", i, tests[i].script);
			test_assert_strcmp(got, tests[i].expected);
		}
	}
	test_end();
	pool_destroy(&pool);
}

/* RFC 5228 §2.7.4: an address that is not valid RFC 5322 (8-bit text in
   it, or none at all) has no local part or domain; :all sees the text */
static void test_sieve_address_validity(void)
{
	static const char msg[] =
		"From: a@example.com\r\nResent-Cc: <j\xc3\xbcrgen@example.com>\r\n"
		"Resent-To:\r\nTo: b@ex\xc3\xa4mple.org, c@example.org\r\n\r\nbody\r\n";
	static const struct {
		const char *test;
		bool matches;
	} tests[] = {
		{ ":localpart \"resent-cc\" \"j\xc3\xbcrgen\"", false },
		{ ":domain \"resent-cc\" \"example.com\"", false },
		{ ":all \"resent-cc\" \"<j\xc3\xbcrgen@example.com>\"", true },
		{ ":all \"resent-to\" \"\"", true },
		{ ":localpart \"resent-to\" \"\"", false },
		{ ":domain \"to\" \"ex\xc3\xa4mple.org\"", false },
		{ ":localpart \"to\" \"c\"", true },
	};
	pool_t pool = pool_create("test address validity", 1024);

	test_begin("sieve invalid addresses");
	for (unsigned int i = 0; i < N_ELEMENTS(tests); i++) {
		const char *script = t_strdup_printf(
			"require \"fileinto\"; if address :is %s { fileinto \"m\"; }", tests[i].test);
		const char *got = run(pool, script, msg, NULL, NULL, NULL);
		const char *want = tests[i].matches ? "fileinto \"m\"" : "keep:implicit";

		if (strcmp(got, want) != 0)
			printf("  address %s: %s\n", tests[i].test, got);
		test_assert_strcmp(got, want);
	}
	test_end();
	pool_destroy(&pool);
}

int main(void)
{
	static void (*const tests[])(void) = {
		test_sieve_mailto,
		test_sieve_notify_checks,
		test_sieve_variable_limits,
		test_sieve_compile_includes,
		test_sieve_compile_checks,
		test_sieve_envelope_paths,
		test_sieve_result_rules,
		test_sieve_body_parts,
		test_sieve_executed_conflicts,
		test_sieve_address_validity,
		NULL
	};
	return test_run(tests);
}
