/* Unit tests of Maildir naming: mailbox names <-> Maildir++ folders
 * (modified UTF-7 with '.' and '~' escaped), the ":2," info flags, size
 * fields of base names and RFC822.SIZE counting. */
#include "test-common.h"
#include "maildir-private.h"

static void test_maildir_name_encode(void)
{
	static const struct {
		const char *name, *dir;
	} tests[] = {
		{ "INBOX", "" },
		{ "Sent", ".Sent" },
		{ "a/b/c", ".a.b.c" },
		{ "INBOX/x", ".INBOX.x" },
		{ "v1.2", ".v1~2E2" },
		{ "home~", ".home~7E" },
		{ "R&D", ".R&-D" },
		{ "Entw\xc3\xbcrfe", ".Entw&APw-rfe" },
		{ "\xe5\x8f\xb0\xe5\x8c\x97", ".&U,BTFw-" },
		{ "a b", ".a b" },
		{ "x/\xf0\x9f\x98\x80", ".x.&2D3eAA-" },
	};
	test_begin("maildir name encode/decode");
	for (unsigned int i = 0; i < N_ELEMENTS(tests); i++) {
		test_assert_strcmp(maildir_name_to_dir(tests[i].name), tests[i].dir);
		const char *name;
		test_assert(maildir_dir_to_name(tests[i].dir, &name) == 0);
		test_assert_strcmp(name, tests[i].name);
	}
	static const char *const bad[] = {
		".", "..", ".a..b", ".&Jjo", ".&AGE-", ".~2", ".~2F", ".~zz", "nodot",
		".&2D0-", ".a.",
	};
	const char *name;
	for (unsigned int i = 0; i < N_ELEMENTS(bad); i++) {
		if (maildir_dir_to_name(bad[i], &name) == 0)
			printf("  unexpectedly decoded %s\n", bad[i]);
		test_assert(maildir_dir_to_name(bad[i], &name) < 0);
	}
	test_end();
}

static void test_maildir_info_flags(void)
{
	test_begin("maildir info flags");
	test_assert(maildir_info_get_flags(NULL) == 0);
	test_assert(maildir_info_get_flags("2,") == 0);
	test_assert(maildir_info_get_flags("2,FRS") == (MAIL_FLAGGED | MAIL_ANSWERED | MAIL_SEEN));
	test_assert(maildir_info_get_flags("2,DT") == (MAIL_DRAFT | MAIL_DELETED));
	test_assert(maildir_info_get_flags("1,S") == 0);
	test_assert_strcmp(maildir_info_set_flags(t_pool(), NULL, 0), "2,");
	test_assert_strcmp(maildir_info_set_flags(t_pool(), NULL, MAIL_FLAGS_MASK), "2,DFRST");
	/* letters of other programs stay, in ASCII order */
	test_assert_strcmp(maildir_info_set_flags(t_pool(), "2,PSab", MAIL_FLAGGED), "2,FPab");
	test_assert_strcmp(maildir_info_set_flags(t_pool(), "junk", MAIL_SEEN), "2,S");
	test_end();
}

static void test_maildir_filename(void)
{
	test_begin("maildir file names");
	uint64_t size;
	test_assert(maildir_filename_get_size("1.M2P3Q4.host,S=1234,W=1300", 'S', &size));
	test_assert(size == 1234);
	test_assert(maildir_filename_get_size("1.M2P3Q4.host,S=1234,W=1300", 'W', &size));
	test_assert(size == 1300);
	test_assert(!maildir_filename_get_size("1.M2P3Q4.host", 'W', &size));
	test_assert(!maildir_filename_get_size("1.host,W=12x", 'W', &size));
	const char *base, *info;
	maildir_filename_split(t_pool(), "abc:2,S", &base, &info);
	test_assert_strcmp(base, "abc");
	test_assert_strcmp(info, "2,S");
	maildir_filename_split(t_pool(), "abc", &base, &info);
	test_assert(info == NULL);

	const unsigned char text[] = "a\nb\r\nc\n\n";
	test_assert(maildir_count_bare_lf(text, sizeof(text) - 1, false) == 3);
	/* a CR at the end of the previous chunk */
	test_assert(maildir_count_bare_lf((const unsigned char *)"\nx", 2, true) == 0);
	test_assert(maildir_count_bare_lf((const unsigned char *)"\nx", 2, false) == 1);
	test_end();
}

int main(void)
{
	static void (*const tests[])(void) = {
		test_maildir_name_encode,
		test_maildir_info_flags,
		test_maildir_filename,
		NULL
	};
	return test_run(tests);
}
