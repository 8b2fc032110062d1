/* Unit tests for search-thread.c: msg-id parsing, hand-made REFERENCES,
 * REFS and ORDEREDSUBJECT cases (dummies, duplicates, loops, subject
 * gathering), the thread-list writer, random inputs checked against a
 * slow literal reading of RFC 5256 §3, and timed large and hostile
 * inputs. */
#include "test-common.h"
#include "search-thread.h"
#include "search-subject.h"
#include "array.h"

#include <time.h>

static double test_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A message as the tests write it: the Subject is raw (folded here with
   ASCII lowercase, standing in for i;unicode-casemap). */
struct test_msg {
	uint32_t id;
	time_t date;
	const char *message_id, *in_reply_to, *references, *subject;
};

static void test_msg_convert(const struct test_msg *in, struct search_thread_msg *out)
{
	bool reply;
	char *base = (char *)search_subject_base(t_pool(), in->subject, &reply);

	for (char *p = base; *p != '\0'; p++) {
		if (*p >= 'A' && *p <= 'Z')
			*p += 'a' - 'A';
	}
	*out = (struct search_thread_msg){
		.id = in->id,
		.sent_date = in->date,
		.message_id = in->message_id,
		.in_reply_to = in->in_reply_to,
		.references = in->references,
		.base_subject = base,
		.subject_is_reply = reply,
	};
}

static const char *test_thread(enum search_thread_algorithm alg,
			       const struct test_msg *msgs, unsigned int count)
{
	struct search_thread_msg *tmsgs = t_new(struct search_thread_msg, count + 1);
	struct search_thread_node *roots;
	string_t *str = t_str_new(128);

	for (unsigned int i = 0; i < count; i++)
		test_msg_convert(&msgs[i], &tmsgs[i]);
	if (search_thread_build(t_pool(), alg, tmsgs, count, &roots) < 0)
		return "(failed)";
	search_thread_write(str, roots);
	return str_c(str);
}

#define TEST_THREAD(alg, msgs) test_thread(alg, msgs, N_ELEMENTS(msgs))

static void test_msgid_parse(void)
{
	static const struct {
		const char *in;
		const char *ids; /* space-separated */
	} tests[] = {
		{ "<a@b>", "a@b" },
		{ "  <a@b>  ", "a@b" },
		{ "<a@b> <c@d>", "a@b c@d" },
		{ "<a@b><c@d>", "a@b c@d" },
		{ "<a@b>,\r\n\t<c@d>", "a@b c@d" },
		{ "<\"abc\"@d>", "abc@d" },
		{ "<\"a\\\"c\"@d>", "a\"c@d" },
		{ "<\"a>c\"@d>", "a>c@d" },
		{ "<\"a b\"@d>", "a b@d" },
		{ "< a@b >", "a@b" },
		{ "<a @ b>", "a@b" },
		{ "<a\r\n @b>", "a@b" },
		{ "<a(comment)@b>", "a@b" },
		{ "<a(nested (comment))@b>", "a@b" },
		{ "<a(c\\)d)@b>", "a@b" },
		{ "<a@[1.2.3.4]>", "a@[1.2.3.4]" },
		{ "<A@B>", "A@B" },
		{ "junk <a@b> more junk <c@d> (comment) end", "a@b c@d" },
		{ "Your message of Mon, 1 Jan <a@b>", "a@b" },
		{ "<ab> <c@d>", "c@d" },
		{ "<@b> <a@> <@> <a@b>", "a@b" },
		{ "<<a@b>", "a@b" },
		{ "<x <a@b>", "a@b" },
		{ "<a@b", "" },
		{ "a@b", "" },
		{ "", "" },
		{ "<>", "" },
		{ "<a(unclosed@b> <c@d>", "c@d" },
		{ "<\"unclosed@b> <c@d>", "" },
		{ "<a@b@c>", "a@b@c" },
		{ "<é@ü>", "é@ü" },
	};

	test_begin("search_thread_msgid_next");
	for (unsigned int i = 0; i < N_ELEMENTS(tests); i++) {
		const char *p = tests[i].in;
		string_t *all = t_str_new(64), *id = t_str_new(64);

		while (search_thread_msgid_next(&p, id) > 0) {
			if (str_len(all) > 0)
				str_append_c(all, ' ');
			str_append(all, str_c(id));
			str_truncate(id, 0);
		}
		test_assert(*p == '\0');
		test_assert(str_len(id) == 0);
		if (strcmp(str_c(all), tests[i].ids) != 0) {
			printf("  '%s': got '%s', expected '%s'\n",
			       tests[i].in, str_c(all), tests[i].ids);
			test_assert(false);
		}
	}
	/* NULL is no ids; appending keeps what dest had */
	const char *p = NULL;
	string_t *id = t_str_new(16);
	test_assert(search_thread_msgid_next(&p, id) == 0);
	str_append(id, "x");
	p = "<a@b>";
	test_assert(search_thread_msgid_next(&p, id) == 1);
	test_assert_strcmp(str_c(id), "xa@b");
	test_end();
}

static void test_thread_write(void)
{
	pool_t pool = t_pool();
	/* hand-made tree for RFC 5256's "(2)(3 6 (4 23)(44 7 96))" */
	struct search_thread_node *n[8];
	static const uint32_t ids[] = { 2, 3, 6, 4, 23, 44, 7, 96 };
	string_t *str = t_str_new(64);

	test_begin("search_thread_write");
	for (unsigned int i = 0; i < N_ELEMENTS(ids); i++) {
		n[i] = p_new(pool, struct search_thread_node, 1);
		n[i]->id = ids[i];
	}
	n[0]->next = n[1];
	n[1]->children = n[2];
	n[2]->children = n[3];
	n[3]->next = n[5];
	n[3]->children = n[4];
	n[5]->children = n[6];
	n[6]->children = n[7];
	search_thread_write(str, n[0]);
	test_assert_strcmp(str_c(str), "(2)(3 6 (4 23)(44 7 96))");

	/* a dummy root */
	struct search_thread_node *d = p_new(pool, struct search_thread_node, 1);
	str_truncate(str, 0);
	d->children = n[3];
	search_thread_write(str, d);
	test_assert_strcmp(str_c(str), "((4 23)(44 7 96))");

	str_truncate(str, 0);
	search_thread_write(str, NULL);
	test_assert_strcmp(str_c(str), "");

	/* 100,000 nested two-child levels and a 200,000 deep chain: the
	   writer must not recurse */
	const unsigned int levels = 100000;
	struct search_thread_node *lv = p_new(pool, struct search_thread_node, levels);
	struct search_thread_node *leaf = p_new(pool, struct search_thread_node, levels);
	for (unsigned int i = 0; i < levels; i++) {
		lv[i].id = 2 * i + 1;
		leaf[i].id = 2 * i + 2;
		if (i + 1 < levels) {
			lv[i].children = &leaf[i];
			leaf[i].next = &lv[i + 1];
		}
	}
	str_truncate(str, 0);
	search_thread_write(str, lv);
	test_assert(strncmp(str_c(str), "(1 (2)(3 (4)(5 (6)(7 ", 21) == 0);
	test_assert(str_len(str) > 4 * levels);
	test_assert(str_c(str)[str_len(str) - 1] == ')');

	const unsigned int deep = 200000;
	struct search_thread_node *chain = p_new(pool, struct search_thread_node, deep);
	for (unsigned int i = 0; i < deep; i++) {
		chain[i].id = i + 1;
		if (i + 1 < deep)
			chain[i].children = &chain[i + 1];
	}
	str_truncate(str, 0);
	search_thread_write(str, chain);
	test_assert(strncmp(str_c(str), "(1 2 3 4 ", 9) == 0);
	test_assert(strcmp(str_c(str) + str_len(str) - 8, " 200000)") == 0);
	test_end();
}

static void test_thread_algorithm_parse(void)
{
	enum search_thread_algorithm alg;

	test_begin("search_thread_algorithm_parse");
	test_assert(search_thread_algorithm_parse("REFERENCES", &alg) &&
		    alg == SEARCH_THREAD_REFERENCES);
	test_assert(search_thread_algorithm_parse("orderedsubject", &alg) &&
		    alg == SEARCH_THREAD_ORDEREDSUBJECT);
	test_assert(search_thread_algorithm_parse("Refs", &alg) &&
		    alg == SEARCH_THREAD_REFS);
	test_assert(!search_thread_algorithm_parse("REFERENCE", &alg));
	test_assert(!search_thread_algorithm_parse("", &alg));
	test_end();
}

static void test_thread_empty(void)
{
	struct search_thread_node *roots = (void *)1;

	test_begin("search_thread_build empty and bad algorithm");
	test_assert(search_thread_build(t_pool(), SEARCH_THREAD_REFERENCES, NULL, 0,
					&roots) == 0 && roots == NULL);
	roots = (void *)1;
	test_assert(search_thread_build(t_pool(), SEARCH_THREAD_ORDEREDSUBJECT, NULL,
					0, &roots) == 0 && roots == NULL);
	test_assert(search_thread_build(t_pool(), (enum search_thread_algorithm)99,
					NULL, 0, &roots) == -1);
	test_end();
}

