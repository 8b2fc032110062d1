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

	/* the result is one allocation starting at the first root */
	static const struct test_msg msgs[] = {
		{ 1, 1, "<a@x>", NULL, "<x@x>", "s" },
		{ 2, 2, "<b@x>", NULL, "<x@x>", "s" },
		{ 3, 3, "<c@x>", "<b@x>", NULL, "Re: s" },
	};
	struct search_thread_msg tmsgs[N_ELEMENTS(msgs)];
	for (unsigned int i = 0; i < N_ELEMENTS(msgs); i++)
		test_msg_convert(&msgs[i], &tmsgs[i]);
	for (int alg = SEARCH_THREAD_ORDEREDSUBJECT; alg <= SEARCH_THREAD_REFS; alg++) {
		test_assert(search_thread_build(system_pool, alg, tmsgs,
						N_ELEMENTS(tmsgs), &roots) == 0);
		test_assert(roots != NULL);
		p_free(system_pool, roots);
	}
	test_end();
}


static void test_thread_references(void)
{
	static const struct test_msg chain[] = {
		{ 1, 1, "<a@x>", NULL, NULL, "hello" },
		{ 2, 2, "<b@x>", NULL, "<a@x>", "Re: hello" },
		{ 3, 3, "<c@x>", NULL, "<a@x> <b@x>", "Re: hello" },
	};
	static const struct test_msg siblings[] = {
		{ 1, 1, "<a@x>", NULL, NULL, "s1" },
		{ 2, 2, "<b@x>", "<a@x>", NULL, "s2" },
		{ 3, 3, "<c@x>", "<a@x>", NULL, "s3" },
	};
	static const struct test_msg dummy_root[] = {
		{ 1, 1, "<a@x>", NULL, "<x@x>", "one" },
		{ 2, 2, "<b@x>", NULL, "<x@x>", "two" },
	};
	static const struct test_msg dummy_one[] = {
		{ 1, 1, "<a@x>", NULL, "<x@x> <y@x>", "one" },
		{ 2, 2, "<b@x>", NULL, "<z@x>", "two" },
	};
	static const struct test_msg dummy_middle[] = {
		{ 1, 1, "<a@x>", NULL, NULL, "s1" },
		{ 2, 2, "<b@x>", NULL, "<a@x> <x@x>", "s2" },
		{ 3, 3, "<c@x>", NULL, "<a@x> <x@x>", "s3" },
	};
	static const struct test_msg duplicate[] = {
		{ 1, 1, "<a@x>", NULL, NULL, "p" },
		{ 2, 2, "<a@x>", NULL, NULL, "q" },
		{ 3, 3, "<c@x>", "<a@x>", NULL, "r" },
	};
	static const struct test_msg loop[] = {
		{ 1, 1, "<a@x>", NULL, "<b@x>", "p" },
		{ 2, 2, "<b@x>", NULL, "<a@x>", "q" },
	};
	static const struct test_msg self[] = {
		{ 1, 1, "<a@x>", NULL, "<a@x>", "p" },
		{ 2, 2, "<b@x>", "<b@x>", "<b@x> <b@x>", "q" },
	};
	/* (1)(B): message 2's own References beat message 1's <p> <m2> */
	static const struct test_msg truncated[] = {
		{ 1, 1, "<m1@x>", NULL, "<p@x> <m2@x>", "one" },
		{ 2, 2, "<m2@x>", NULL, "<q@x>", "two" },
		{ 3, 3, "<m3@x>", NULL, "<p@x>", "three" },
	};
	/* (1)(A): b keeps its first parent a */
	static const struct test_msg keep_parent[] = {
		{ 1, 1, "<c@x>", NULL, "<a@x> <b@x>", "one" },
		{ 2, 2, "<d@x>", NULL, "<x@x> <b@x>", "two" },
	};
	static const struct test_msg no_ids[] = {
		{ 1, 1, NULL, NULL, NULL, "one" },
		{ 2, 2, "junk", "<>", "<nothing>", "two" },
		{ 3, 3, "", NULL, "<@x>", "three" },
	};
	static const struct test_msg in_reply_to[] = {
		{ 1, 1, "<a@x>", NULL, NULL, "one" },
		{ 2, 2, "<b@x>", NULL, NULL, "two" },
		/* References without a valid id: In-Reply-To's first id */
		{ 3, 3, "<c@x>", "junk <a@x> <b@x>", "junk <b>", "three" },
		/* References wins over In-Reply-To */
		{ 4, 4, "<d@x>", "<a@x>", "<b@x>", "four" },
	};
	static const struct test_msg quoting[] = {
		{ 1, 1, "<\"a\"@x>", NULL, NULL, "one" },
		{ 2, 2, "<b@x>", "<a@x>", NULL, "two" },
		{ 3, 3, "<c@x>", "< a @ x (comment) >", NULL, "three" },
		/* ids are case-sensitive */
		{ 4, 4, "<d@x>", "<A@x>", NULL, "four" },
	};
	static const struct test_msg dates[] = {
		{ 1, 10, "<a@x>", NULL, NULL, "s1" },
		{ 2, 30, "<b@x>", "<a@x>", NULL, "s2" },
		{ 3, 20, "<c@x>", "<a@x>", NULL, "s3" },
		{ 4, 20, "<d@x>", "<a@x>", NULL, "s4" },
		{ 5, 5, "<e@x>", NULL, NULL, "s5" },
	};
	static const struct test_msg dummy_key[] = {
		{ 1, 50, "<a@x>", NULL, "<x@x>", "s1" },
		{ 2, 40, "<b@x>", NULL, "<x@x>", "s2" },
		{ 3, 45, "<c@x>", NULL, NULL, "s3" },
	};
	static const struct test_msg uids[] = {
		{ 10, 1, "<a@x>", NULL, NULL, "s1" },
		{ 25, 2, "<b@x>", "<a@x>", NULL, "s2" },
		{ 4000000000u, 3, "<c@x>", NULL, "<x@x>", "s3" },
	};
	/* a reply arriving before its parent */
	static const struct test_msg reversed[] = {
		{ 1, 3, "<c@x>", NULL, "<a@x> <b@x>", "s1" },
		{ 2, 2, "<b@x>", NULL, "<a@x>", "s2" },
		{ 3, 1, "<a@x>", NULL, NULL, "s3" },
	};

	test_begin("THREAD=REFERENCES links and dummies");
	test_assert_strcmp(TEST_THREAD(SEARCH_THREAD_REFERENCES, chain), "(1 2 3)");
	test_assert_strcmp(TEST_THREAD(SEARCH_THREAD_REFERENCES, siblings), "(1 (2)(3))");
	test_assert_strcmp(TEST_THREAD(SEARCH_THREAD_REFERENCES, dummy_root), "((1)(2))");
	test_assert_strcmp(TEST_THREAD(SEARCH_THREAD_REFERENCES, dummy_one), "(1)(2)");
	test_assert_strcmp(TEST_THREAD(SEARCH_THREAD_REFERENCES, dummy_middle), "(1 (2)(3))");
	test_assert_strcmp(TEST_THREAD(SEARCH_THREAD_REFERENCES, duplicate), "(1 3)(2)");
	test_assert_strcmp(TEST_THREAD(SEARCH_THREAD_REFERENCES, loop), "(2 1)");
	test_assert_strcmp(TEST_THREAD(SEARCH_THREAD_REFERENCES, self), "(1)(2)");
	test_assert_strcmp(TEST_THREAD(SEARCH_THREAD_REFERENCES, truncated), "(2 1)(3)");
	test_assert_strcmp(TEST_THREAD(SEARCH_THREAD_REFERENCES, keep_parent), "((1)(2))");
	test_assert_strcmp(TEST_THREAD(SEARCH_THREAD_REFERENCES, no_ids), "(1)(2)(3)");
	test_assert_strcmp(TEST_THREAD(SEARCH_THREAD_REFERENCES, in_reply_to), "(1 3)(2 4)");
	test_assert_strcmp(TEST_THREAD(SEARCH_THREAD_REFERENCES, quoting), "(1 (2)(3))(4)");
	test_assert_strcmp(TEST_THREAD(SEARCH_THREAD_REFERENCES, dates), "(5)(1 (3)(4)(2))");
	test_assert_strcmp(TEST_THREAD(SEARCH_THREAD_REFERENCES, dummy_key), "((2)(1))(3)");
	test_assert_strcmp(TEST_THREAD(SEARCH_THREAD_REFERENCES, uids), "(10 25)(4000000000)");
	test_assert_strcmp(TEST_THREAD(SEARCH_THREAD_REFERENCES, reversed), "(3 2 1)");
	test_end();
}

static void test_thread_subjects(void)
{
	static const struct test_msg reply[] = {
		{ 1, 1, "<a@x>", NULL, NULL, "Hello" },
		{ 2, 2, "<b@x>", NULL, NULL, "Re: Hello" },
	};
	static const struct test_msg same[] = {
		{ 1, 1, "<a@x>", NULL, NULL, "Hello" },
		{ 2, 2, "<b@x>", NULL, NULL, "HELLO" },
	};
	static const struct test_msg reply_first[] = {
		{ 1, 1, "<a@x>", NULL, NULL, "Re: Hello" },
		{ 2, 2, "<b@x>", NULL, NULL, "Hello" },
	};
	static const struct test_msg both_replies[] = {
		{ 1, 1, "<a@x>", NULL, NULL, "Re: x" },
		{ 2, 2, "<b@x>", NULL, NULL, "Fwd: x" },
	};
	static const struct test_msg dummy_and_msg[] = {
		{ 1, 1, "<a@x>", NULL, "<x@x>", "S" },
		{ 2, 2, "<b@x>", NULL, "<x@x>", "Re: S" },
		{ 3, 3, "<c@x>", NULL, NULL, "S" },
	};
	static const struct test_msg two_dummies[] = {
		{ 1, 1, "<a@x>", NULL, "<x@x>", "S" },
		{ 2, 2, "<b@x>", NULL, "<x@x>", "S" },
		{ 3, 3, "<c@x>", NULL, "<y@x>", "Re: S" },
		{ 4, 4, "<d@x>", NULL, "<y@x>", "S" },
	};
	static const struct test_msg empty[] = {
		{ 1, 1, "<a@x>", NULL, NULL, "" },
		{ 2, 2, "<b@x>", NULL, NULL, NULL },
		{ 3, 3, "<c@x>", NULL, NULL, "Re:" },
	};
	static const struct test_msg into_thread[] = {
		{ 1, 1, "<a@x>", NULL, NULL, "Topic" },
		{ 2, 2, "<b@x>", "<a@x>", NULL, "Re: Topic" },
		{ 3, 3, "<c@x>", NULL, NULL, "Re: Topic" },
	};
	static const struct test_msg three[] = {
		{ 1, 1, "<a@x>", NULL, NULL, "S" },
		{ 2, 2, "<b@x>", NULL, NULL, "S" },
		{ 3, 3, "<c@x>", NULL, NULL, "S" },
	};
	static const struct test_msg reply_triple[] = {
		{ 1, 1, "<a@x>", NULL, NULL, "Re: S" },
		{ 2, 2, "<b@x>", NULL, NULL, "S" },
		{ 3, 3, "<c@x>", NULL, NULL, "Re: S" },
	};
	static const struct test_msg blob_not_reply[] = {
		{ 1, 1, "<a@x>", NULL, NULL, "[list] S" },
		{ 2, 2, "<b@x>", NULL, NULL, "S (fwd)" },
		{ 3, 3, "<c@x>", NULL, NULL, "[fwd: S]" },
	};
	/* the dummy's subject is its earliest child's */
	static const struct test_msg dummy_subject[] = {
		{ 1, 2, "<a@x>", NULL, "<x@x>", "other" },
		{ 2, 1, "<b@x>", NULL, "<x@x>", "S" },
		{ 3, 3, "<c@x>", NULL, NULL, "S" },
		{ 4, 4, "<d@x>", NULL, NULL, "other" },
	};
	/* gathering reorders roots: the merged thread sorts by its first */
	static const struct test_msg reorder[] = {
		{ 1, 1, "<a@x>", NULL, NULL, "A" },
		{ 2, 2, "<b@x>", NULL, NULL, "B" },
		{ 3, 3, "<c@x>", NULL, NULL, "Re: A" },
		{ 4, 4, "<d@x>", NULL, NULL, "B" },
	};

	test_begin("THREAD=REFERENCES subject gathering");
	test_assert_strcmp(TEST_THREAD(SEARCH_THREAD_REFERENCES, reply), "(1 2)");
	test_assert_strcmp(TEST_THREAD(SEARCH_THREAD_REFERENCES, same), "((1)(2))");
	test_assert_strcmp(TEST_THREAD(SEARCH_THREAD_REFERENCES, reply_first), "(2 1)");
	test_assert_strcmp(TEST_THREAD(SEARCH_THREAD_REFERENCES, both_replies), "((1)(2))");
	test_assert_strcmp(TEST_THREAD(SEARCH_THREAD_REFERENCES, dummy_and_msg), "((1)(2)(3))");
	test_assert_strcmp(TEST_THREAD(SEARCH_THREAD_REFERENCES, two_dummies), "((1)(2)(3)(4))");
	test_assert_strcmp(TEST_THREAD(SEARCH_THREAD_REFERENCES, empty), "(1)(2)(3)");
	test_assert_strcmp(TEST_THREAD(SEARCH_THREAD_REFERENCES, into_thread), "(1 (2)(3))");
	test_assert_strcmp(TEST_THREAD(SEARCH_THREAD_REFERENCES, three), "((1)(2)(3))");
	test_assert_strcmp(TEST_THREAD(SEARCH_THREAD_REFERENCES, reply_triple), "(2 (1)(3))");
	test_assert_strcmp(TEST_THREAD(SEARCH_THREAD_REFERENCES, blob_not_reply), "(1 (2)(3))");
	test_assert_strcmp(TEST_THREAD(SEARCH_THREAD_REFERENCES, dummy_subject),
			   "((2)(1)(3))(4)");
	test_assert_strcmp(TEST_THREAD(SEARCH_THREAD_REFERENCES, reorder), "(1 3)((2)(4))");
	test_end();
}

static void test_thread_refs(void)
{
	static const struct test_msg latest[] = {
		{ 1, 1, "<a@x>", NULL, NULL, "s" },
		{ 2, 2, "<b@x>", NULL, NULL, "s" },
		{ 3, 3, "<c@x>", "<a@x>", NULL, "Re: s" },
	};
	static const struct test_msg dummy[] = {
		{ 1, 5, "<a@x>", NULL, "<x@x>", "s" },
		{ 2, 1, "<b@x>", NULL, "<x@x>", "s" },
		{ 3, 3, "<c@x>", NULL, NULL, "s" },
		{ 4, 4, "<d@x>", "<c@x>", NULL, "s" },
	};
	static const struct test_msg ties[] = {
		{ 1, 1, "<a@x>", NULL, NULL, "s" },
		{ 2, 1, "<b@x>", NULL, NULL, "s" },
	};

	/* equal latest dates: a thread whose first message is missing goes
	   first, as in Dovecot */
	static const struct test_msg dummy_ties[] = {
		{ 1, 5, "<a@x>", NULL, NULL, "s" },
		{ 2, 5, "<b@x>", NULL, "<x@x>", "s" },
		{ 3, 5, "<c@x>", NULL, "<y@x>", "s" },
		{ 4, 5, "<d@x>", NULL, "<y@x>", "s" },
	};

	test_begin("THREAD=REFS");
	test_assert_strcmp(TEST_THREAD(SEARCH_THREAD_REFS, latest), "(2)(1 3)");
	test_assert_strcmp(TEST_THREAD(SEARCH_THREAD_REFS, dummy), "(3 4)((2)(1))");
	test_assert_strcmp(TEST_THREAD(SEARCH_THREAD_REFS, ties), "(1)(2)");
	test_assert_strcmp(TEST_THREAD(SEARCH_THREAD_REFS, dummy_ties), "(2)((3)(4))(1)");
	test_end();
}

static void test_thread_orderedsubject(void)
{
	static const struct test_msg basic[] = {
		{ 1, 3, NULL, NULL, NULL, "a" },
		{ 2, 1, NULL, NULL, NULL, "b" },
		{ 3, 2, NULL, NULL, NULL, "Re: a" },
		{ 4, 4, NULL, NULL, NULL, "A" },
	};
	static const struct test_msg pair[] = {
		{ 1, 1, "<a@x>", NULL, NULL, "x" },
		{ 2, 2, "<b@x>", "<zzz@x>", NULL, "Re: x" },
	};
	static const struct test_msg empty[] = {
		{ 1, 1, NULL, NULL, NULL, "" },
		{ 2, 2, NULL, NULL, NULL, "Re:" },
		{ 3, 3, NULL, NULL, NULL, NULL },
	};
	static const struct test_msg ties[] = {
		{ 1, 5, NULL, NULL, NULL, "x" },
		{ 2, 5, NULL, NULL, NULL, "x" },
		{ 3, 5, NULL, NULL, NULL, "y" },
		{ 4, 5, NULL, NULL, NULL, "y" },
	};

	test_begin("THREAD=ORDEREDSUBJECT");
	test_assert_strcmp(TEST_THREAD(SEARCH_THREAD_ORDEREDSUBJECT, basic), "(2)(3 (1)(4))");
	test_assert_strcmp(TEST_THREAD(SEARCH_THREAD_ORDEREDSUBJECT, pair), "(1 2)");
	test_assert_strcmp(TEST_THREAD(SEARCH_THREAD_ORDEREDSUBJECT, empty), "(1 (2)(3))");
	test_assert_strcmp(TEST_THREAD(SEARCH_THREAD_ORDEREDSUBJECT, ties), "(1 2)(3 4)");
	test_end();
}

/* --- a slow, literal reading of RFC 5256 §3 to compare against --- */

#define NV_MAX_NODES 128
#define NV_MAX_KIDS 64

struct nv_node {
	int parent, msg; /* msg -1: dummy */
	char id[64];
	int kids[NV_MAX_KIDS], nkids;
	time_t date; /* sort key, with idx */
	int idx;
	/* REFS order for equal dates (Dovecot's): a missing first message
	   first, by node creation, then by message */
	int refs_tie;
	bool gone;
};

struct nv_ctx {
	const struct search_thread_msg *msgs;
	struct nv_node nodes[NV_MAX_NODES];
	int nnodes;
	int roots[NV_MAX_NODES], nroots;
};

static int nv_new(struct nv_ctx *ctx, const char *id)
{
	struct nv_node *n = &ctx->nodes[ctx->nnodes];

	i_assert(ctx->nnodes < NV_MAX_NODES);
	memset(n, 0, sizeof(*n));
	n->parent = -1;
	n->msg = -1;
	n->refs_tie = ctx->nnodes;
	snprintf(n->id, sizeof(n->id), "%s", id);
	return ctx->nnodes++;
}

static int nv_lookup(struct nv_ctx *ctx, const char *id)
{
	for (int i = 0; i < ctx->nnodes; i++) {
		if (strcmp(ctx->nodes[i].id, id) == 0)
			return i;
	}
	return nv_new(ctx, id);
}

static bool nv_is_ancestor(struct nv_ctx *ctx, int anc, int n)
{
	for (; n != -1; n = ctx->nodes[n].parent) {
		if (n == anc)
			return true;
	}
	return false;
}

static void nv_link(struct nv_ctx *ctx, int parent, int child)
{
	if (parent == child || ctx->nodes[child].parent != -1 ||
	    nv_is_ancestor(ctx, child, parent))
		return;
	ctx->nodes[child].parent = parent;
}

static void nv_step1(struct nv_ctx *ctx, int i)
{
	const struct search_thread_msg *msg = &ctx->msgs[i];
	string_t *id = t_str_new(64);
	const char *p = msg->message_id;
	int node = -1, refs[64], nrefs = 0;

	if (search_thread_msgid_next(&p, id) > 0) {
		node = nv_lookup(ctx, str_c(id));
		if (ctx->nodes[node].msg != -1)
			node = -1;
	}
	if (node == -1)
		node = nv_new(ctx, "");
	ctx->nodes[node].msg = i;
	ctx->nodes[node].refs_tie = 1000 + i;
	ctx->nodes[node].date = msg->sent_date;
	ctx->nodes[node].idx = i;

	p = msg->references;
	for (str_truncate(id, 0); search_thread_msgid_next(&p, id) > 0; str_truncate(id, 0))
		refs[nrefs++] = nv_lookup(ctx, str_c(id));
	p = msg->in_reply_to;
	if (nrefs == 0 && search_thread_msgid_next(&p, id) > 0)
		refs[nrefs++] = nv_lookup(ctx, str_c(id));
	for (int j = 1; j < nrefs; j++)
		nv_link(ctx, refs[j - 1], refs[j]);
	int parent = nrefs == 0 ? -1 : refs[nrefs - 1];
	if (ctx->nodes[node].parent != parent)
		ctx->nodes[node].parent = -1;
	if (parent != -1)
		nv_link(ctx, parent, node);
}

/* Step (3), children before parents: a dummy goes when childless and
   gives way to its children unless that would put several at the root. */
static void nv_prune(struct nv_ctx *ctx, int *list, int *count, bool at_root)
{
	int i = 0;

	while (i < *count) {
		struct nv_node *n = &ctx->nodes[list[i]];

		nv_prune(ctx, n->kids, &n->nkids, false);
		if (n->msg != -1 || (at_root && n->nkids > 1)) {
			i++;
			continue;
		}
		int k = n->nkids;
		if (at_root && k == 1)
			ctx->nodes[n->kids[0]].refs_tie = n->refs_tie;
		i_assert(*count - 1 + k <= NV_MAX_NODES);
		memmove(&list[i + k], &list[i + 1], sizeof(int) * (*count - i - 1));
		memcpy(&list[i], n->kids, sizeof(int) * k);
		*count += k - 1;
		i += k;
	}
}

static struct nv_ctx *nv_sort_ctx;

static int nv_cmp(const void *p1, const void *p2)
{
	const struct nv_node *n1 = &nv_sort_ctx->nodes[*(const int *)p1];
	const struct nv_node *n2 = &nv_sort_ctx->nodes[*(const int *)p2];

	if (n1->date != n2->date)
		return n1->date < n2->date ? -1 : 1;
	return n1->idx < n2->idx ? -1 : (n1->idx > n2->idx ? 1 : 0);
}

static void nv_sort(struct nv_ctx *ctx, int *list, int count)
{
	for (int i = 0; i < count; i++) {
		struct nv_node *n = &ctx->nodes[list[i]];
		nv_sort(ctx, n->kids, n->nkids);
		if (n->msg == -1) {
			n->date = ctx->nodes[n->kids[0]].date;
			n->idx = ctx->nodes[n->kids[0]].idx;
		}
	}
	nv_sort_ctx = ctx;
	qsort(list, count, sizeof(int), nv_cmp);
}

static const struct search_thread_msg *nv_first_msg(struct nv_ctx *ctx, int r)
{
	const struct nv_node *n = &ctx->nodes[r];

	return &ctx->msgs[n->msg != -1 ? n->msg : ctx->nodes[n->kids[0]].msg];
}

static void nv_add_kid(struct nv_ctx *ctx, int parent, int kid)
{
	i_assert(ctx->nodes[parent].nkids < NV_MAX_KIDS);
	ctx->nodes[parent].kids[ctx->nodes[parent].nkids++] = kid;
}

/* Step (5), written from the RFC's text. */
static void nv_gather(struct nv_ctx *ctx)
{
	const char *subj[NV_MAX_NODES];
	int msg[NV_MAX_NODES], nsubj = 0, nroots = ctx->nroots;

	for (int i = 0; i < nroots; i++) {
		int cur = ctx->roots[i], j;
		const char *s = nv_first_msg(ctx, cur)->base_subject;
		if (*s == '\0')
			continue;
		for (j = 0; j < nsubj && strcmp(subj[j], s) != 0; j++) ;
		if (j == nsubj) {
			subj[nsubj] = s;
			msg[nsubj++] = cur;
			continue;
		}
		struct nv_node *old = &ctx->nodes[msg[j]], *c = &ctx->nodes[cur];
		if (old->msg != -1 &&
		    (c->msg == -1 || (ctx->msgs[old->msg].subject_is_reply &&
				      !ctx->msgs[c->msg].subject_is_reply)))
			msg[j] = cur;
	}
	for (int i = 0; i < nroots; i++) {
		int cur = ctx->roots[i], j;
		struct nv_node *c = &ctx->nodes[cur];
		const char *s = nv_first_msg(ctx, cur)->base_subject;
		if (c->gone || *s == '\0')
			continue;
		for (j = 0; strcmp(subj[j], s) != 0; j++) ;
		if (msg[j] == cur)
			continue;
		struct nv_node *old = &ctx->nodes[msg[j]];
		c->gone = true;
		if (old->msg == -1 && c->msg == -1) {
			for (int k = 0; k < c->nkids; k++)
				nv_add_kid(ctx, msg[j], c->kids[k]);
		} else if (old->msg == -1 ||
			   (ctx->msgs[c->msg].subject_is_reply &&
			    !ctx->msgs[old->msg].subject_is_reply)) {
			nv_add_kid(ctx, msg[j], cur);
		} else {
			int d = nv_new(ctx, "");
			nv_add_kid(ctx, d, msg[j]);
			nv_add_kid(ctx, d, cur);
			ctx->nodes[msg[j]].gone = true;
			msg[j] = d;
			ctx->roots[ctx->nroots++] = d;
		}
	}
	int n = 0;
	for (int i = 0; i < ctx->nroots; i++) {
		if (!ctx->nodes[ctx->roots[i]].gone)
			ctx->roots[n++] = ctx->roots[i];
	}
	ctx->nroots = n;
}

static time_t nv_latest(struct nv_ctx *ctx, int r)
{
	const struct nv_node *n = &ctx->nodes[r];
	time_t latest = n->msg == -1 ? 0 : ctx->msgs[n->msg].sent_date;

	for (int i = 0; i < n->nkids; i++) {
		time_t t = nv_latest(ctx, n->kids[i]);
		if (t > latest)
			latest = t;
	}
	return latest;
}

static void nv_write_sub(struct nv_ctx *ctx, string_t *str, const int *list, int count)
{
	for (int i = 0; i < count; i++) {
		const struct nv_node *n = &ctx->nodes[list[i]];
		if (count > 1)
			str_append_c(str, '(');
		if (n->msg != -1)
			str_printfa(str, "%u", ctx->msgs[n->msg].id);
		if (n->nkids > 0) {
			if (n->msg != -1)
				str_append_c(str, ' ');
			nv_write_sub(ctx, str, n->kids, n->nkids);
		}
		if (count > 1)
			str_append_c(str, ')');
	}
}

static const char *nv_thread(enum search_thread_algorithm alg,
			     const struct search_thread_msg *msgs, int count)
{
	struct nv_ctx *ctx = t_new(struct nv_ctx, 1);
	string_t *str = t_str_new(128);

	ctx->msgs = msgs;
	for (int i = 0; i < count; i++)
		nv_step1(ctx, i);
	for (int i = 0; i < ctx->nnodes; i++) {
		int p = ctx->nodes[i].parent;
		if (p == -1)
			ctx->roots[ctx->nroots++] = i;
		else
			nv_add_kid(ctx, p, i);
	}
	nv_prune(ctx, ctx->roots, &ctx->nroots, true);
	nv_sort(ctx, ctx->roots, ctx->nroots);
	if (alg == SEARCH_THREAD_REFERENCES) {
		nv_gather(ctx);
		nv_sort(ctx, ctx->roots, ctx->nroots);
	} else {
		for (int i = 0; i < ctx->nroots; i++) {
			struct nv_node *n = &ctx->nodes[ctx->roots[i]];
			n->date = nv_latest(ctx, ctx->roots[i]);
			n->idx = n->refs_tie;
		}
		nv_sort_ctx = ctx;
		qsort(ctx->roots, ctx->nroots, sizeof(int), nv_cmp);
	}
	for (int i = 0; i < ctx->nroots; i++) {
		const struct nv_node *n = &ctx->nodes[ctx->roots[i]];
		str_append_c(str, '(');
		if (n->msg != -1)
			str_printfa(str, "%u%s", msgs[n->msg].id, n->nkids > 0 ? " " : "");
		nv_write_sub(ctx, str, n->kids, n->nkids);
		str_append_c(str, ')');
	}
	return str_c(str);
}

static const struct search_thread_msg *nv_os_msgs;

static int nv_os_cmp(const void *p1, const void *p2)
{
	int i1 = *(const int *)p1, i2 = *(const int *)p2;
	int ret = strcmp(nv_os_msgs[i1].base_subject, nv_os_msgs[i2].base_subject);

	if (ret != 0)
		return ret;
	if (nv_os_msgs[i1].sent_date != nv_os_msgs[i2].sent_date)
		return nv_os_msgs[i1].sent_date < nv_os_msgs[i2].sent_date ? -1 : 1;
	return i1 - i2;
}

static int nv_os_thread_cmp(const void *p1, const void *p2)
{
	int i1 = **(const int *const *)p1, i2 = **(const int *const *)p2;

	if (nv_os_msgs[i1].sent_date != nv_os_msgs[i2].sent_date)
		return nv_os_msgs[i1].sent_date < nv_os_msgs[i2].sent_date ? -1 : 1;
	return i1 - i2;
}

/* ORDEREDSUBJECT as RFC 5256 §3 words it: sort by subject then date,
   split, sort the threads by their first message. */
static const char *nv_orderedsubject(const struct search_thread_msg *msgs, int count)
{
	int order[NV_MAX_NODES], *starts[NV_MAX_NODES], lens[NV_MAX_NODES], nthreads = 0;
	string_t *str = t_str_new(128);

	for (int i = 0; i < count; i++)
		order[i] = i;
	nv_os_msgs = msgs;
	qsort(order, count, sizeof(int), nv_os_cmp);
	for (int i = 0; i < count; i++) {
		if (i == 0 || strcmp(msgs[order[i]].base_subject,
				     msgs[order[i - 1]].base_subject) != 0) {
			starts[nthreads] = &order[i];
			lens[nthreads++] = 0;
		}
		lens[nthreads - 1]++;
	}
	int *sorted[NV_MAX_NODES];
	memcpy(sorted, starts, sizeof(starts[0]) * nthreads);
	qsort(sorted, nthreads, sizeof(sorted[0]), nv_os_thread_cmp);
	for (int t = 0; t < nthreads; t++) {
		int len = lens[0];
		for (int k = 0; k < nthreads; k++) {
			if (starts[k] == sorted[t])
				len = lens[k];
		}
		str_printfa(str, "(%u", msgs[sorted[t][0]].id);
		if (len == 2)
			str_printfa(str, " %u", msgs[sorted[t][1]].id);
		else if (len > 2) {
			str_append_c(str, ' ');
			for (int k = 1; k < len; k++)
				str_printfa(str, "(%u)", msgs[sorted[t][k]].id);
		}
		str_append_c(str, ')');
	}
	return str_c(str);
}

static unsigned int test_rand_state = 1;

static unsigned int test_rand(unsigned int n)
{
	test_rand_state = test_rand_state * 1103515245u + 12345u;
	return (test_rand_state >> 8) % n;
}

static const char *test_rand_id(void)
{
	static const char *const ids[] = {
		"<m0@x>", "<m1@x>", "<m2@x>", "<m3@x>", "<m4@x>", "<m5@x>",
		"<m6@x>", "<m7@x>", "<\"m0\"@x>", "< m1 @ x >", "<m2@x (c)>",
		"<bad>", "junk",
	};
	return ids[test_rand(N_ELEMENTS(ids))];
}

static const char *test_rand_ids(unsigned int max)
{
	string_t *str = t_str_new(64);
	unsigned int n = 1 + test_rand(max);

	for (unsigned int i = 0; i < n; i++) {
		if (i > 0)
			str_append(str, test_rand(4) == 0 ? ",\r\n\t" : " ");
		str_append(str, test_rand_id());
	}
	return str_c(str);
}

static void test_thread_random(void)
{
	static const char *const subjects[] = {
		"", "a", "Re: a", "A", "b", "Fwd: b", "Re: Re: a", "[l] a",
		"b (fwd)", "[fwd: c]", "c", NULL,
	};
	unsigned int failures = 0;

	test_begin("THREAD random inputs against a literal reading of RFC 5256");
	for (unsigned int iter = 0; iter < 10000 && failures < 5; iter++) {
		unsigned int count = 1 + test_rand(12);
		struct test_msg msgs[12];

		for (unsigned int i = 0; i < count; i++) {
			msgs[i] = (struct test_msg){
				.id = i + 1 + (iter % 2 == 0 ? 0 : i * 7),
				.date = test_rand(5),
				.message_id = test_rand(8) == 0 ? NULL : test_rand_id(),
				.in_reply_to = test_rand(3) == 0 ? test_rand_ids(2) : NULL,
				.references = test_rand(2) == 0 ? test_rand_ids(5) : NULL,
				.subject = subjects[test_rand(N_ELEMENTS(subjects))],
			};
		}
		struct search_thread_msg tmsgs[12];
		for (unsigned int i = 0; i < count; i++)
			test_msg_convert(&msgs[i], &tmsgs[i]);

		static const enum search_thread_algorithm algs[] = {
			SEARCH_THREAD_REFERENCES, SEARCH_THREAD_REFS,
			SEARCH_THREAD_ORDEREDSUBJECT,
		};
		for (unsigned int a = 0; a < N_ELEMENTS(algs); a++) {
			const char *got = test_thread(algs[a], msgs, count);
			const char *want = algs[a] == SEARCH_THREAD_ORDEREDSUBJECT ?
				nv_orderedsubject(tmsgs, (int)count) :
				nv_thread(algs[a], tmsgs, (int)count);
			if (strcmp(got, want) == 0)
				continue;
			printf("  alg %u: got %s, want %s\n", a, got, want);
			for (unsigned int i = 0; i < count; i++) {
				printf("    %u date=%ld id=%s irt=%s refs=%s subj=%s\n",
				       msgs[i].id, (long)msgs[i].date,
				       msgs[i].message_id, msgs[i].in_reply_to,
				       msgs[i].references, msgs[i].subject);
			}
			test_assert(false);
			failures++;
		}
		t_pool_clear();
	}
	test_end();
}

/* --- large and hostile inputs, timed --- */

static double test_cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Builds and writes, printing CPU time (the build machine is shared, wall
   time mostly measures the neighbours) and wall time. */
static const char *test_time_build(const char *name, enum search_thread_algorithm alg,
				   const struct search_thread_msg *msgs, unsigned int count)
{
	pool_t pool = pool_create("test thread", 1024 * 1024);
	struct search_thread_node *roots;
	string_t *str = t_str_new(count * 8 + 16);
	double wall = test_now(), cpu = test_cpu_now(), built_cpu, built_wall;

	test_assert(search_thread_build(pool, alg, msgs, count, &roots) == 0);
	built_cpu = test_cpu_now();
	built_wall = test_now();
	search_thread_write(str, roots);
	printf("  %-40s %6u msgs: build %7.2f ms CPU (%7.2f ms wall), write %6.2f ms\n",
	       name, count, (built_cpu - cpu) * 1000, (built_wall - wall) * 1000,
	       (test_cpu_now() - built_cpu) * 1000);
	/* a generous bound that still catches anything quadratic, even with
	   sanitizers on a slow machine */
	test_assert(built_cpu - cpu < 5.0);
	pool_destroy(&pool);
	return str_c(str);
}

/* Each of the ids 1..count exactly once, parentheses balanced. */
static bool test_output_valid(const char *out, unsigned int count)
{
	bool *seen = t_new(bool, count + 1);
	unsigned int depth = 0, ids = 0;

	for (const char *p = out; *p != '\0'; p++) {
		if (*p == '(') {
			depth++;
		} else if (*p == ')') {
			if (depth-- == 0)
				return false;
		} else if (*p >= '1' && *p <= '9') {
			unsigned long id = strtoul(p, (char **)&p, 10);
			p--;
			if (id > count || seen[id] || depth == 0)
				return false;
			seen[id] = true;
			ids++;
		} else if (*p != ' ') {
			return false;
		}
	}
	return depth == 0 && ids == count;
}

static struct search_thread_msg *test_msgs_new(unsigned int count)
{
	struct search_thread_msg *msgs = t_new(struct search_thread_msg, count);

	for (unsigned int i = 0; i < count; i++) {
		msgs[i].id = i + 1;
		msgs[i].sent_date = 1000000 + (time_t)i * 60;
		msgs[i].base_subject = "";
	}
	return msgs;
}

static const char *test_msgid(unsigned int n)
{
	return t_strdup_printf("<m%u.%x@example.com>", n, n * 2654435761u);
}

/* A mailbox-like mix: new threads and replies to recent messages, with
   References listing up to ten ancestors, subjects with "Re:". */
static void test_thread_large(void)
{
	const unsigned int count = 100000;
	struct search_thread_msg *msgs = test_msgs_new(count);
	unsigned int *parent = t_new(unsigned int, count), *topic = t_new(unsigned int, count);

	test_begin("THREAD 100,000 messages");
	for (unsigned int i = 0; i < count; i++) {
		string_t *refs = t_str_new(256);
		unsigned int anc[10], n = 0;

		msgs[i].message_id = test_msgid(i);
		msgs[i].sent_date += (time_t)test_rand(600);
		if (i == 0 || test_rand(10) < 3) {
			parent[i] = UINT32_MAX;
			topic[i] = i;
		} else {
			parent[i] = i - 1 - test_rand(i < 1000 ? i : 1000);
			topic[i] = topic[parent[i]];
			for (unsigned int p = parent[i]; p != UINT32_MAX && n < 10; p = parent[p])
				anc[n++] = p;
			while (n > 0)
				str_printfa(refs, "%s ", test_msgid(anc[--n]));
			msgs[i].references = str_c(refs);
			msgs[i].in_reply_to = test_msgid(parent[i]);
		}
		msgs[i].base_subject = t_strdup_printf("topic %u", topic[i] % 20000);
		msgs[i].subject_is_reply = parent[i] != UINT32_MAX;
	}
	static const struct {
		const char *name;
		enum search_thread_algorithm alg;
	} algs[] = {
		{ "REFERENCES", SEARCH_THREAD_REFERENCES },
		{ "REFS", SEARCH_THREAD_REFS },
		{ "ORDEREDSUBJECT", SEARCH_THREAD_ORDEREDSUBJECT },
	};
	for (unsigned int round = 0; round < 2; round++) {
		for (unsigned int i = 0; i < N_ELEMENTS(algs); i++) {
			const char *name = t_strdup_printf("%s (%s)", algs[i].name,
							   round == 0 ? "first run" : "again");
			const char *out = test_time_build(name, algs[i].alg, msgs, count);
			test_assert(test_output_valid(out, count));
		}
	}
	test_end();
}

static void test_thread_hostile(void)
{
	const unsigned int count = 100000;
	struct search_thread_msg *msgs;
	const char *out;

	test_begin("THREAD hostile inputs");

	/* all with one Message-ID, all replying to it */
	msgs = test_msgs_new(count);
	for (unsigned int i = 0; i < count; i++) {
		msgs[i].message_id = "<same@x>";
		msgs[i].in_reply_to = "<same@x>";
		msgs[i].base_subject = "same";
	}
	out = test_time_build("one Message-ID", SEARCH_THREAD_REFERENCES, msgs, count);
	test_assert(strncmp(out, "(1 (2)(3)(4)", 12) == 0);
	test_assert(test_output_valid(out, count));

	/* a 100,000 deep chain, in order and in reverse */
	msgs = test_msgs_new(count);
	for (unsigned int i = 0; i < count; i++) {
		msgs[i].message_id = test_msgid(i);
		msgs[i].in_reply_to = i == 0 ? NULL : test_msgid(i - 1);
	}
	out = test_time_build("100,000 deep chain", SEARCH_THREAD_REFERENCES, msgs, count);
	test_assert(strncmp(out, "(1 2 3 4 ", 9) == 0);
	test_assert(test_output_valid(out, count));
	for (unsigned int i = 0; i < count; i++)
		msgs[i].in_reply_to = i + 1 == count ? NULL : test_msgid(i + 1);
	out = test_time_build("100,000 deep chain, children first",
			      SEARCH_THREAD_REFERENCES, msgs, count);
	test_assert(strncmp(out, "(100000 99999 99998 ", 20) == 0);

	/* a ring: the last link would close a loop */
	for (unsigned int i = 0; i < count; i++) {
		msgs[i].in_reply_to = NULL;
		msgs[i].references = test_msgid((i + 1) % count);
	}
	out = test_time_build("100,000 ring", SEARCH_THREAD_REFERENCES, msgs, count);
	test_assert(strncmp(out, "(100000 99999 99998 ", 20) == 0);
	test_assert(test_output_valid(out, count));

	/* deep chain, then nodes with children hung below its bottom: every
	   link needs a loop check against a 50,000 deep tree */
	msgs = test_msgs_new(count);
	for (unsigned int i = 0; i < count / 2; i++) {
		msgs[i].message_id = test_msgid(i);
		msgs[i].in_reply_to = i == 0 ? NULL : test_msgid(i - 1);
	}
	for (unsigned int i = count / 2; i < count; i += 2) {
		msgs[i].message_id = test_msgid(i);
		msgs[i].references = test_msgid(i + 1);
		msgs[i + 1].message_id = test_msgid(i + 1);
		msgs[i + 1].in_reply_to = test_msgid(count / 2 - 1);
	}
	out = test_time_build("loop checks below a 50,000 deep chain",
			      SEARCH_THREAD_REFERENCES, msgs, count);
	test_assert(strncmp(out, "(1 2 3 ", 7) == 0);
	test_assert(test_output_valid(out, count));

	/* 50 messages with the same 10,000 id References, and 50 with
	   10,000 ids of their own each, cycling through twice */
	const unsigned int nrefs = 10000;
	string_t *chain = t_str_new(nrefs * 30);
	for (unsigned int i = 0; i < nrefs; i++)
		str_printfa(chain, "%s ", test_msgid(count + i));
	msgs = test_msgs_new(100);
	for (unsigned int i = 0; i < 50; i++) {
		msgs[i].message_id = test_msgid(i);
		msgs[i].references = str_c(chain);
	}
	for (unsigned int i = 50; i < 100; i++) {
		string_t *own = t_str_new(nrefs * 30);
		for (unsigned int j = 0; j < nrefs / 2; j++)
			str_printfa(own, "%s ", test_msgid(count * (i + 1) + j));
		str_append(own, str_c(own));
		msgs[i].message_id = test_msgid(i);
		msgs[i].references = str_c(own);
	}
	out = test_time_build("10,000 id References", SEARCH_THREAD_REFERENCES, msgs, 100);
	test_assert(strncmp(out, "((1)(2)(3)", 10) == 0);
	test_assert(test_output_valid(out, 100));
	out = test_time_build("10,000 id References, REFS", SEARCH_THREAD_REFS, msgs, 100);
	test_assert(test_output_valid(out, 100));
	test_end();
}

int main(void)
{
	static void (*const tests[])(void) = {
		test_msgid_parse,
		test_thread_write,
		test_thread_algorithm_parse,
		test_thread_empty,
		test_thread_references,
		test_thread_subjects,
		test_thread_refs,
		test_thread_orderedsubject,
		test_thread_random,
		test_thread_large,
		test_thread_hostile,
		NULL
	};
	return test_run(tests);
}
