/* Unit tests for search-subject.c: RFC 5256 §2.1 base subjects, the
 * reply/forward flag, whitespace and UTF-8 handling, hostile inputs with
 * timing, and random inputs checked for idempotence and valid UTF-8. */
#include "test-common.h"
#include "search-subject.h"
#include "buffer.h"

#include <time.h>

static double test_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_subject_table(void)
{
	static const struct {
		const char *in, *out;
		bool reply;
	} tests[] = {
		{ "", "", false },
		{ "Hello", "Hello", false },
		{ "Hello World", "Hello World", false },
		/* (1) whitespace */
		{ "  Hello   World  ", "Hello World", false },
		{ "Hello\r\n\tWorld", "Hello World", false },
		{ "Hello\t\tWorld", "Hello World", false },
		{ "\t\r\n ", "", false },
		/* (2) subj-trailer */
		{ "x (fwd)", "x", true },
		{ "x(fwd)", "x", true },
		{ "x (FWD) (Fwd)", "x", true },
		{ "x\t(fwd)  ", "x", true },
		{ "(fwd)", "", true },
		{ "(fwd)(fwd)", "", true },
		{ "x (fwd) y", "x (fwd) y", false },
		{ "x (fw)", "x (fw)", false },
		{ "x fwd)", "x fwd)", false },
		/* (3) subj-refwd */
		{ "Re: Hello", "Hello", true },
		{ "RE: Hello", "Hello", true },
		{ "rE:Hello", "Hello", true },
		{ "Re : Hello", "Hello", true },
		{ "Re  :  Hello", "Hello", true },
		{ "Fwd: Hello", "Hello", true },
		{ "FWD: Hello", "Hello", true },
		{ "Fw: Hello", "Hello", true },
		{ "fw:Hello", "Hello", true },
		{ "Re: Re: Re: x", "x", true },
		{ "Re: Fwd: RE: fw: x", "x", true },
		{ "Re[2]: x", "x", true },
		{ "Re [2]: x", "x", true },
		{ "Re: [2]: x", ": x", true },
		{ "Re:", "", true },
		{ "Re: ", "", true },
		{ "Re:Re:", "", true },
		{ "Re: (fwd)", "", true },
		{ "Refund: x", "Refund: x", false },
		{ "Rex: y", "Rex: y", false },
		{ "Fwdx: y", "Fwdx: y", false },
		{ "Fw d: y", "Fw d: y", false },
		{ "Re [a][b]: x", "Re [a][b]: x", false },
		{ "Re [a: x", "Re [a: x", false },
		{ "AW: x", "AW: x", false },
		{ "Sv: x", "Sv: x", false },
		{ "x Re: y", "x Re: y", false },
		/* (3) blobs before subj-refwd, (4) a leading blob */
		{ "[list] x", "x", false },
		{ "[list]x", "x", false },
		{ "[list] Re: x", "x", true },
		{ "[a][b] Re: x", "x", true },
		{ "[a] [b] RE[c]: x", "x", true },
		{ "Re: [list] x", "x", true },
		{ "Re: [list] Re: x", "x", true },
		{ "[list]", "[list]", false },
		{ "[list] ", "[list]", false },
		{ "[a] [b]", "[b]", false },
		{ "[a] [b] [c]", "[c]", false },
		{ "[a][b] x", "x", false },
		{ "[] x", "x", false },
		{ "[]", "[]", false },
		{ "[a [b] x", "[a [b] x", false },
		{ "[a]] x", "] x", false },
		{ "[[a]] x", "[[a]] x", false },
		{ "] x", "] x", false },
		{ "[x]Re: y", "y", true },
		{ "Re: [list] (fwd)", "[list]", true },
		/* (6) subj-fwd */
		{ "[fwd: x]", "x", true },
		{ "[FWD: x]", "x", true },
		{ "[Fwd:x]", "x", true },
		{ "[fwd: Re: x]", "x", true },
		{ "[fwd: [fwd: x]]", "x", true },
		{ "[fwd: x] (fwd)", "x", true },
		{ "Re: [fwd: [list] x] (fwd)", "x", true },
		{ "[fwd: x (fwd)]", "x", true },
		{ "[fwd:]", "", true },
		{ "[fwd: ]", "", true },
		{ "[fwd: x", "[fwd: x", false },
		{ "[fwd x]", "[fwd x]", false },
		{ "[fwd: x] y", "y", false },
		{ "x [fwd: y]", "x [fwd: y]", false },
		{ "[fwd: [a] b]", "b", true },
		{ "[fwd: [a]]", "[a]", true },
		{ "[list] [fwd: x]", "x", true },
		/* UTF-8 is never cut */
		{ "Re: Привет", "Привет", true },
		{ "[列表] Re: 你好 (fwd)", "你好", true },
		{ "Re: é(fwd)", "é", true },
		{ "Ré: x", "Ré: x", false },
		{ "[é] x", "x", false },
		{ "[fwd: ü]", "ü", true },
		{ "\xc3\xa9  \xc3\xa9", "\xc3\xa9 \xc3\xa9", false },
		/* invalid UTF-8 passes through untouched */
		{ "Re: \xff\xfe", "\xff\xfe", true },
		/* other control characters are not whitespace */
		{ "Re:\x0bx", "\x0bx", true },
	};

	test_begin("search_subject_base table");
	for (unsigned int i = 0; i < N_ELEMENTS(tests); i++) {
		bool reply = !tests[i].reply;
		const char *out = search_subject_base(t_pool(), tests[i].in, &reply);

		if (strcmp(out, tests[i].out) != 0 || reply != tests[i].reply) {
			printf("  input '%s': got '%s' reply=%d, expected '%s' reply=%d\n",
			       tests[i].in, out, reply, tests[i].out, tests[i].reply);
			test_assert(false);
		}
	}
	test_end();
}

static void test_subject_null(void)
{
	bool reply = true;

	test_begin("search_subject_base NULL and flag pointer");
	test_assert_strcmp(search_subject_base(t_pool(), NULL, &reply), "");
	test_assert(!reply);
	test_assert_strcmp(search_subject_base(t_pool(), "Re: x", NULL), "x");
	/* the result is its own allocation, so system_pool can free it */
	char *s = (char *)search_subject_base(system_pool, "Re: [a] x (fwd)", NULL);
	test_assert_strcmp(s, "x");
	p_free(system_pool, s);
	test_end();
}

static const char *test_repeat(const char *prefix, const char *unit,
			       unsigned int n, const char *suffix)
{
	string_t *str = t_str_new(strlen(unit) * n + 64);

	str_append(str, prefix);
	for (unsigned int i = 0; i < n; i++)
		str_append(str, unit);
	str_append(str, suffix);
	return str_c(str);
}

static void test_subject_hostile(void)
{
	static const struct {
		const char *prefix, *unit, *suffix, *out;
		bool reply;
	} tests[] = {
		{ "", "Re: ", "x", "x", true },
		{ "", "Re: [x] ", "z", "z", true },
		{ "", "[x]", " y", "y", false },
		{ "", "[x] ", "", "[x]", false },
		{ "", "[x]", "[y", "[y", false },
		{ "", "[", "", NULL, false },
		{ "", "]", "", NULL, false },
		{ "", "[a", "]", NULL, false },
		{ "", "(fwd)", "", "", true },
		{ "x", " (fwd)", "", "x", true },
		{ "", "[fwd: ", "x", NULL, false },
		{ "Re [", "a", ": x", NULL, false },
		{ "", "re", "", NULL, false },
		{ "", "\t \r\n", "x", "x", false },
		{ "", "re [b] [a] ", "x", NULL, false },
		{ "", "é", "", NULL, false },
	};
	const unsigned int n = 100000;

	test_begin("search_subject_base hostile");
	for (unsigned int i = 0; i < N_ELEMENTS(tests); i++) {
		const char *in = test_repeat(tests[i].prefix, tests[i].unit, n,
					     tests[i].suffix);
		bool reply;
		double start = test_now();
		const char *out = search_subject_base(t_pool(), in, &reply);
		double secs = test_now() - start;

		test_assert_strcmp(out, tests[i].out == NULL ? in : tests[i].out);
		test_assert(reply == tests[i].reply);
		/* linear: a few ms even under sanitizers */
		if (secs > 0.5) {
			printf("  '%s'x%u took %.3f s\n", tests[i].unit, n, secs);
			test_assert(false);
		}
	}

	/* nested forward wrappers */
	const char *in = t_strconcat(test_repeat("", "[fwd: ", n, "x"),
				     test_repeat("", "]", n, ""), NULL);
	bool reply;
	double start = test_now();
	test_assert_strcmp(search_subject_base(t_pool(), in, &reply), "x");
	test_assert(reply);
	printf("  %u nested [fwd: ...]: %.2f ms\n", n, (test_now() - start) * 1000);
	test_end();
}

static bool test_utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p != '\0') {
		unsigned int len = *p < 0x80 ? 1 : *p >= 0xf0 ? 4 : *p >= 0xe0 ? 3 : 2;
		if (*p >= 0x80 && *p < 0xc0)
			return false;
		for (unsigned int i = 1; i < len; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
		}
		p += len;
	}
	return true;
}

/* Random subjects from the characters that matter: the result must be a
   fixed point (extracting again changes nothing and sees no reply), must
   have no outer spaces and must stay valid UTF-8. */
static void test_subject_random(void)
{
	static const char *const pieces[] = {
		"[", "]", " ", "\t", "re", "Re", "fw", "FWD", "d", ":", "(fwd)",
		"(", ")", "x", "é", "你", "[fwd:", "\r\n ",
	};
	unsigned int seed = 12345;

	test_begin("search_subject_base random");
	for (unsigned int iter = 0; iter < 20000; iter++) {
		string_t *str = t_str_new(128);
		unsigned int len;

		seed = seed * 1103515245 + 12345;
		len = (seed >> 16) % 16;
		for (unsigned int i = 0; i < len; i++) {
			seed = seed * 1103515245 + 12345;
			str_append(str, pieces[(seed >> 16) % N_ELEMENTS(pieces)]);
		}
		bool reply, reply2;
		const char *out = search_subject_base(t_pool(), str_c(str), &reply);
		const char *out2 = search_subject_base(t_pool(), out, &reply2);
		size_t olen = strlen(out);

		if (strcmp(out, out2) != 0 || reply2 || !test_utf8_valid(out) ||
		    (olen > 0 && (out[0] == ' ' || out[olen - 1] == ' '))) {
			printf("  input '%s': '%s' then '%s' (reply %d)\n",
			       str_c(str), out, out2, reply2);
			test_assert(false);
			break;
		}
		if (iter % 1000 == 0)
			t_pool_clear();
	}
	test_end();
}

int main(void)
{
	static void (*const tests[])(void) = {
		test_subject_table,
		test_subject_null,
		test_subject_hostile,
		test_subject_random,
		NULL
	};
	return test_run(tests);
}
