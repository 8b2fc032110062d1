/* Unit tests for mime-address.c: RFC 5322 §3.4 and §4.4 address lists,
 * the RFC 5322 appendix A examples, and how broken addresses degrade
 * (the NIL and placeholder conventions IMAP ENVELOPE relies on). */
#include "test-common.h"
#include "mime-address.h"

struct address_test {
	const char *input;
	/* each address "{name,route,mailbox,domain}" with NIL for NULL and
	   "!" after an invalid one, separated by " " */
	const char *expected;
	/* the same with MIME_ADDRESS_FLAG_FILL_MISSING; NULL if equal */
	const char *filled;
};

static const struct address_test address_tests[] = {
	/* valid forms */
	{ "user@domain", "{NIL,NIL,user,domain}", NULL },
	{ "\"user\"@domain", "{NIL,NIL,user,domain}", NULL },
	{ "\"user name\"@domain", "{NIL,NIL,user name,domain}", NULL },
	{ "\"user@na\\\\me\"@domain", "{NIL,NIL,user@na\\me,domain}", NULL },
	{ "\"user\\\"name\"@domain", "{NIL,NIL,user\"name,domain}", NULL },
	{ "\"\"@domain", "{NIL,NIL,,domain}", NULL },
	{ "<user@domain>", "{NIL,NIL,user,domain}", NULL },
	{ "user@domain (DisplayName)", "{DisplayName,NIL,user,domain}", NULL },
	{ "user@domain (Display Name)", "{Display Name,NIL,user,domain}", NULL },
	{ "user@domain ()", "{NIL,NIL,user,domain}", NULL },
	{ "Display Name <user@domain>", "{Display Name,NIL,user,domain}", NULL },
	{ "\"Display\\\"Name\" <user@domain>", "{Display\"Name,NIL,user,domain}", NULL },
	{ "\"\" <user@domain>", "{NIL,NIL,user,domain}", NULL },
	{ "<@route:user@domain>", "{NIL,@route,user,domain}", NULL },
	{ "<@route,@route2:user@domain>", "{NIL,@route,@route2,user,domain}", NULL },
	{ "<@route@route2:user@domain>", "{NIL,@route,@route2,user,domain}", NULL },
	{ "<@a, ,@b:user@host>", "{NIL,@a,@b,user,host}", NULL },
	{ "Display Name <@route:user@domain>", "{Display Name,@route,user,domain}", NULL },
	{ "\"foo: <a@b>;,\" <user@domain>", "{foo: <a@b>;,,NIL,user,domain}", NULL },
	{ "user@[192.168.0.1]", "{NIL,NIL,user,[192.168.0.1]}", NULL },
	{ "user.name+tag@sub.example.co.uk", "{NIL,NIL,user.name+tag,sub.example.co.uk}", NULL },
	{ "  user @ domain . com  ", "{NIL,NIL,user,domain.com}", NULL },
	{ "..foo..@example.com", "{NIL,NIL,..foo..,example.com}", NULL },
	{ "J\xC3\xB6rg <j\xC3\xB6rg@ex\xC3\xA4mple.de>",
	  "{J\xC3\xB6rg,NIL,j\xC3\xB6rg,ex\xC3\xA4mple.de}", NULL },
	{ "=?utf-8?q?J=C3=B6rg?= <j@x.de>", "{=?utf-8?q?J=C3=B6rg?=,NIL,j,x.de}", NULL },
	{ "\"Doe, John\" <john@example.com>", "{Doe, John,NIL,john,example.com}", NULL },
	{ "Joe Q. Public <john.q.public@example.com>",
	  "{Joe Q. Public,NIL,john.q.public,example.com}", NULL },
	{ "Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>",
	  "{Pete,NIL,pete,silly.test}", NULL },
	{ "jdoe@machine(comment).  example", "{comment,NIL,jdoe,machine.example}", NULL },
	{ "\"Folded\r\n Name\" <a@b>", "{Folded Name,NIL,a,b}", NULL },
	/* lists and groups */
	{ "Mary Smith <mary@x.test>, jdoe@example.org, Who? <one@y.test>",
	  "{Mary Smith,NIL,mary,x.test} {NIL,NIL,jdoe,example.org} {Who?,NIL,one,y.test}",
	  NULL },
	{ "<boss@nil.test>, \"Giant; \\\"Big\\\" Box\" <sysservices@example.net>",
	  "{NIL,NIL,boss,nil.test} {Giant; \"Big\" Box,NIL,sysservices,example.net}", NULL },
	{ "A Group:Ed Jones <c@a.test>,joe@where.test,John <jdoe@one.test>;",
	  "{NIL,NIL,A Group,NIL} {Ed Jones,NIL,c,a.test} {NIL,NIL,joe,where.test} "
	  "{John,NIL,jdoe,one.test} {NIL,NIL,NIL,NIL}", NULL },
	{ "undisclosed-recipients:;", "{NIL,NIL,undisclosed-recipients,NIL} {NIL,NIL,NIL,NIL}",
	  NULL },
	{ "Undisclosed recipients: ;", "{NIL,NIL,Undisclosed recipients,NIL} {NIL,NIL,NIL,NIL}",
	  NULL },
	{ "group: a@b, c@d;", "{NIL,NIL,group,NIL} {NIL,NIL,a,b} {NIL,NIL,c,d} {NIL,NIL,NIL,NIL}",
	  NULL },
	{ "group: a@b; , e@f", "{NIL,NIL,group,NIL} {NIL,NIL,a,b} {NIL,NIL,NIL,NIL} "
	  "{NIL,NIL,e,f}", NULL },
	{ "x@y, g1:;, g2: a@b;", "{NIL,NIL,x,y} {NIL,NIL,g1,NIL} {NIL,NIL,NIL,NIL} "
	  "{NIL,NIL,g2,NIL} {NIL,NIL,a,b} {NIL,NIL,NIL,NIL}", NULL },
	{ "a@b,c@d ,\r\n e@f", "{NIL,NIL,a,b} {NIL,NIL,c,d} {NIL,NIL,e,f}", NULL },
	{ "a@b,", "{NIL,NIL,a,b}", NULL },
	{ "", "", NULL },
	{ "   ", "", NULL },
	{ "(only a comment)", "", NULL },
	/* broken */
	{ "user", "{NIL,NIL,user,}!", "{NIL,NIL,user,MISSING_DOMAIN}!" },
	{ "postmaster", "{NIL,NIL,postmaster,}!", "{NIL,NIL,postmaster,MISSING_DOMAIN}!" },
	{ "@domain", "{NIL,NIL,,domain}!", "{NIL,NIL,MISSING_MAILBOX,domain}!" },
	{ "Display Name", "{Display Name,NIL,,}!",
	  "{Display Name,NIL,MISSING_MAILBOX,MISSING_DOMAIN}!" },
	{ "\"Display Name\"", "{Display Name,NIL,,}!",
	  "{Display Name,NIL,MISSING_MAILBOX,MISSING_DOMAIN}!" },
	{ "Display \"Name\"", "{Display Name,NIL,,}!",
	  "{Display Name,NIL,MISSING_MAILBOX,MISSING_DOMAIN}!" },
	{ "\"\"", "{,NIL,,}!", "{,NIL,MISSING_MAILBOX,MISSING_DOMAIN}!" },
	{ "<user>", "{NIL,NIL,user,}!", "{NIL,NIL,user,MISSING_DOMAIN}!" },
	{ "<@route>", "{NIL,@route,,}!",
	  "{NIL,INVALID_ROUTE,MISSING_MAILBOX,MISSING_DOMAIN}!" },
	{ "user (Display Name)", "{Display Name,NIL,user,}!",
	  "{Display Name,NIL,user,MISSING_DOMAIN}!" },
	{ "@domain (Display Name)", "{Display Name,NIL,,domain}!",
	  "{Display Name,NIL,MISSING_MAILBOX,domain}!" },
	{ "Display Name <user>", "{Display Name,NIL,user,}!",
	  "{Display Name,NIL,user,MISSING_DOMAIN}!" },
	{ "Display Name <@route@route2:user>", "{Display Name,@route,@route2,user,}!",
	  "{Display Name,@route,@route2,user,MISSING_DOMAIN}!" },
	{ "<>", "{NIL,NIL,,}!", "{NIL,NIL,MISSING_MAILBOX,MISSING_DOMAIN}!" },
	{ "<@>", "{NIL,NIL,,}!", "{NIL,INVALID_ROUTE,MISSING_MAILBOX,MISSING_DOMAIN}!" },
	{ "aaaa@", "{NIL,NIL,aaaa,}!", "{NIL,NIL,aaaa,MISSING_DOMAIN}!" },
	{ "a(aa", "{NIL,NIL,,}!", "{NIL,NIL,MISSING_MAILBOX,MISSING_DOMAIN}!" },
	{ "Jane Doe <jane@example.com", "{Jane Doe,NIL,jane,example.com}!",
	  "{Jane Doe,NIL,jane,SYNTAX_ERROR}!" },
	{ "a@b,,c@d", "{NIL,NIL,a,b} {NIL,NIL,,}! {NIL,NIL,c,d}",
	  "{NIL,NIL,a,b} {NIL,NIL,MISSING_MAILBOX,MISSING_DOMAIN}! {NIL,NIL,c,d}" },
	{ "a@b, (open comment", "{NIL,NIL,a,b} {NIL,NIL,,}!",
	  "{NIL,NIL,a,b} {NIL,NIL,MISSING_MAILBOX,MISSING_DOMAIN}!" },
	{ "group: a@b", "{NIL,NIL,group,NIL} {NIL,NIL,a,b} {NIL,NIL,NIL,NIL}!", NULL },
	{ "group:", "{NIL,NIL,group,NIL}! {NIL,NIL,NIL,NIL}!", NULL },
	{ "group: a@b,", "{NIL,NIL,group,NIL} {NIL,NIL,a,b} {NIL,NIL,NIL,NIL}!", NULL },
	{ "user@domain@other", "{NIL,NIL,user,domain}", NULL },
	{ "\"unterminated@domain", "{NIL,NIL,,}!",
	  "{NIL,NIL,MISSING_MAILBOX,MISSING_DOMAIN}!" },
	{ "user@[unterminated", "{NIL,NIL,user,}!", "{NIL,NIL,user,MISSING_DOMAIN}!" },
	{ "first last@example.com", "{first last,NIL,,}!",
	  "{first last,NIL,MISSING_MAILBOX,MISSING_DOMAIN}!" },
	{ "<a@b> trailing garbage, c@d", "{NIL,NIL,a,b}", NULL },
	{ ";", "{NIL,NIL,,}!", "{NIL,NIL,MISSING_MAILBOX,MISSING_DOMAIN}!" },
	{ "a.@b", "{NIL,NIL,a.,b}", NULL },
};

static void test_describe(string_t *str, const struct mime_address *addr)
{
	for (; addr != NULL; addr = addr->next) {
		if (str_len(str) > 0)
			str_append_c(str, ' ');
		str_printfa(str, "{%s,%s,%s,%s}%s",
			    addr->name == NULL ? "NIL" : addr->name,
			    addr->route == NULL ? "NIL" : addr->route,
			    addr->mailbox == NULL ? "NIL" : addr->mailbox,
			    addr->domain == NULL ? "NIL" : addr->domain,
			    addr->invalid ? "!" : "");
	}
}

static const char *test_parse(pool_t pool, const char *input, size_t len,
			      enum mime_address_flags flags)
{
	struct mime_address_list list = { NULL, NULL, 0 };
	/* a copy without NUL so that sanitizers see reads past the end */
	char *copy = i_malloc(len == 0 ? 1 : len);
	string_t *str = t_str_new(128);

	memcpy(copy, input, len);
	mime_address_parse(pool, copy, len, 0, flags, &list);
	free(copy);
	test_describe(str, list.head);
	return str_c(str);
}

static void test_address_table(void)
{
	pool_t pool = pool_create("test addresses", 4096);

	test_begin("address parsing");
	for (unsigned int i = 0; i < N_ELEMENTS(address_tests); i++) {
		const struct address_test *t = &address_tests[i];
		const char *got = test_parse(pool, t->input, strlen(t->input), 0);
		if (strcmp(got, t->expected) != 0)
			printf("  input: %s\n", t->input);
		test_assert_strcmp(got, t->expected);
		got = test_parse(pool, t->input, strlen(t->input),
				 MIME_ADDRESS_FLAG_FILL_MISSING);
		test_assert_strcmp(got, t->filled != NULL ? t->filled : t->expected);
	}
	pool_destroy(&pool);
	test_end();
}

/* Each single-address input also parses the same as a list and group
   member, whatever the separators. */
static void test_address_lists_of_each(void)
{
	pool_t pool = pool_create("test addresses", 4096);

	test_begin("address lists of each");
	for (unsigned int i = 0; i < N_ELEMENTS(address_tests); i++) {
		const struct address_test *t = &address_tests[i];
		if (strchr(t->expected, ' ') != NULL || t->expected[0] == '\0' ||
		    strstr(t->input, "(aa") != NULL || strchr(t->input, ';') != NULL ||
		    strchr(t->input, ':') != NULL || strstr(t->input, "@other") != NULL ||
		    strstr(t->input, "unterminated") != NULL ||
		    strstr(t->input, "garbage") != NULL ||
		    strstr(t->input, "first last") != NULL ||
		    t->input[strlen(t->input) - 1] == ',')
			continue;
		string_t *input = t_str_new(256), *expected = t_str_new(256);
		str_printfa(input, "%s , \r\n %s,%s", t->input, t->input, t->input);
		str_printfa(expected, "%s %s %s", t->expected, t->expected, t->expected);
		const char *got = test_parse(pool, str_c(input), str_len(input), 0);
		if (strcmp(got, str_c(expected)) != 0)
			printf("  list of: %s\n", t->input);
		test_assert_strcmp(got, str_c(expected));

		str_truncate(input, 0);
		str_truncate(expected, 0);
		str_printfa(input, "grp: %s, %s;", t->input, t->input);
		str_printfa(expected, "{NIL,NIL,grp,NIL} %s %s {NIL,NIL,NIL,NIL}",
			    t->expected, t->expected);
		got = test_parse(pool, str_c(input), str_len(input), 0);
		if (strcmp(got, str_c(expected)) != 0)
			printf("  group of: %s\n", t->input);
		test_assert_strcmp(got, str_c(expected));
	}
	pool_destroy(&pool);
	test_end();
}

static void test_address_nuls_and_flags(void)
{
	static const char input[] = "\"user\0nul\"@[dom\0ain] (com\0ment)";
	pool_t pool = pool_create("test addresses", 4096);

	test_begin("address NULs and flags");
	test_assert_strcmp(test_parse(pool, input, sizeof(input) - 1, 0),
			   "{com\xEF\xBF\xBDment,NIL,user\xEF\xBF\xBDnul,"
			   "[dom\xEF\xBF\xBD" "ain]}");
	test_assert_strcmp(test_parse(pool, "..foo..@example.com", 19,
				      MIME_ADDRESS_FLAG_STRICT_DOTS),
			   "{NIL,NIL,,}!");
	test_assert_strcmp(test_parse(pool, "a..b@c", 6, MIME_ADDRESS_FLAG_STRICT_DOTS),
			   "{NIL,NIL,,}!");
	pool_destroy(&pool);
	test_end();
}

static void test_address_limits_and_append(void)
{
	struct mime_address_list list = { NULL, NULL, 0 };
	pool_t pool = pool_create("test addresses", 4096);
	string_t *str = t_str_new(256);

	test_begin("address limits and append");
	mime_address_parse(pool, "a@b, c@d, e@f", 13, 2, 0, &list);
	test_assert(list.count == 2);
	/* a second header appends */
	mime_address_parse(pool, "g@h", 3, 2, 0, &list);
	test_assert(list.count == 3 && list.tail->next == NULL);
	test_describe(str, list.head);
	test_assert_strcmp(str_c(str), "{NIL,NIL,a,b} {NIL,NIL,c,d} {NIL,NIL,g,h}");

	/* a group cut by the limit still gets its end marker */
	memset(&list, 0, sizeof(list));
	mime_address_parse(pool, "g: a@b, c@d, e@f;", 17, 2, 0, &list);
	str_truncate(str, 0);
	test_describe(str, list.head);
	test_assert_strcmp(str_c(str), "{NIL,NIL,g,NIL} {NIL,NIL,a,b} {NIL,NIL,NIL,NIL}!");

	/* many addresses: bounded by the default limit */
	string_t *many = t_str_new(200000);
	for (unsigned int i = 0; i < 20000; i++)
		str_append(many, "a@b,");
	memset(&list, 0, sizeof(list));
	mime_address_parse(pool, str_data(many), str_len(many), 0, 0, &list);
	test_assert(list.count == 10000);
	pool_destroy(&pool);
	test_end();
}

static void test_address_write(void)
{
	static const struct {
		const char *input, *output;
	} tests[] = {
		{ "user@domain", "user@domain" },
		{ "Display Name <user@domain>", "Display Name <user@domain>" },
		{ "\"Doe, John\" <j@x>", "\"Doe, John\" <j@x>" },
		{ "\"user name\"@domain", "\"user name\"@domain" },
		{ "<@a,@b:u@h>", "<@a,@b:u@h>" },
		{ "g: a@b, c@d;", "g: a@b, c@d;" },
		{ "undisclosed-recipients:;", "undisclosed-recipients: ;" },
		{ "user", "user" },
		{ "\"a\\\"b\" <c@d>, e@f", "\"a\\\"b\" <c@d>, e@f" },
		{ "..x@y", "\"..x\"@y" },
	};
	pool_t pool = pool_create("test addresses", 4096);

	test_begin("address write");
	for (unsigned int i = 0; i < N_ELEMENTS(tests); i++) {
		struct mime_address_list list = { NULL, NULL, 0 };
		string_t *str = t_str_new(128);
		mime_address_parse(pool, tests[i].input, strlen(tests[i].input), 0, 0, &list);
		mime_address_write(str, list.head);
		test_assert_strcmp(str_c(str), tests[i].output);
		/* what is written parses back to the same */
		struct mime_address_list list2 = { NULL, NULL, 0 };
		string_t *d1 = t_str_new(128), *d2 = t_str_new(128);
		mime_address_parse(pool, str_data(str), str_len(str), 0, 0, &list2);
		test_describe(d1, list.head);
		test_describe(d2, list2.head);
		test_assert_strcmp(str_c(d2), str_c(d1));
	}
	pool_destroy(&pool);
	test_end();
}

int main(void)
{
	static void (*const tests[])(void) = {
		test_address_table,
		test_address_lists_of_each,
		test_address_nuls_and_flags,
		test_address_limits_and_append,
		test_address_write,
		NULL
	};
	return test_run(tests);
}
