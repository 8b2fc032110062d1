/* Micro-benchmark of the storage on a 100,000-message INBOX (TERN_BENCH_
 * MESSAGES to change): indexing a Maildir, SELECT warm and cold, FETCH
 * 1:* (UID FLAGS), STORE 1:* +FLAGS (\Seen), APPEND rates into an empty
 * and a full folder, a no-change sync and a full rescan. Prints timings;
 * registered with the CTest label "bench", so `make check` skips it. */
#include "test-common.h"
#include "test-storage-common.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *home;

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static const char bench_message[] =
	"From: Alice <alice@example.com>\r\nTo: Bob <bob@example.com>\r\n"
	"Subject: benchmark message\r\nDate: Sat, 21 Nov 2026 10:00:00 +0000\r\n"
	"Message-ID: <bench@example.com>\r\n\r\n"
	"Hello Bob,\r\nthis is a benchmark message of moderate size.\r\n";

static void bench_fill_maildir(struct mail_user *user, unsigned int count)
{
	char *cur = i_strdup(test_storage_subdir(user, "INBOX", "cur"));
	size_t len = strlen(bench_message);
	for (unsigned int i = 0; i < count; i++) {
		const char *path = t_strdup_printf("%s/%u.M%uP1Q1.bench,S=%zu,W=%zu:2,%s", cur,
						   1700000000 + i, i, len, len,
						   i % 2 == 0 ? "S" : "");
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0 || write(fd, bench_message, len) != (ssize_t)len)
			i_fatal("writing %s failed", path);
		close(fd);
		if (i % 1000 == 0)
			t_pool_clear();
	}
	free(cur);
}

struct bench_fetch_ctx {
	string_t *out;
	unsigned int count;
};

static int bench_fetch_cb(const struct mail_record *rec, uint32_t seq, void *context)
{
	struct bench_fetch_ctx *ctx = context;
	str_printfa(ctx->out, "* %u FETCH (UID %u FLAGS (%s%s))\r\n", seq, rec->uid,
		    (rec->flags & MAIL_SEEN) != 0 ? "\\Seen" : "",
		    rec->keywords[0] != NULL ? " kw" : "");
	ctx->count++;
	if (str_len(ctx->out) > 65536)
		str_truncate(ctx->out, 0);
	return 0;
}

static double bench_append(struct mail_user *user, const char *mailbox, unsigned int count)
{
	double start = now_ms();
	for (unsigned int i = 0; i < count; i++) {
		if (test_storage_save(user, mailbox, bench_message, 0, NULL) == 0)
			i_fatal("save failed");
		t_pool_clear();
	}
	return count / ((now_ms() - start) / 1000);
}

static void bench_select(struct mail_user *user, unsigned int count)
{
	/* cold: a new connection to the index (as in another process), with
	   the index files dropped from the OS page cache */
	static const char *const suffixes[] = { "", "-wal", "-shm" };
	for (unsigned int i = 0; i < N_ELEMENTS(suffixes); i++) {
		int fd = open(t_strdup_printf("%s/tern-index.db%s", home, suffixes[i]), O_RDONLY);
		if (fd >= 0) {
			(void)fdatasync(fd);
			(void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
			close(fd);
		}
	}
	double start = now_ms();
	struct mail_user *cold = test_storage_user(home, false);
	printf("  mail_user_init, index not cached: %.2f ms\n", now_ms() - start);
	start = now_ms();
	struct mailbox *box = mailbox_open(cold, "INBOX", 0);
	printf("  SELECT cold (new connection, index not cached): %.2f ms, %u messages\n",
	       now_ms() - start,
	       mailbox_view_count(box));
	test_assert(mailbox_view_count(box) == count);
	mailbox_close(&box);
	mail_user_deinit(&cold);

	const unsigned int rounds = 50;
	start = now_ms();
	for (unsigned int i = 0; i < rounds; i++) {
		box = mailbox_open(user, "INBOX", MAILBOX_OPEN_TRACK_RECENT);
		(void)mailbox_get_view_status(box);
		mailbox_close(&box);
	}
	printf("  SELECT warm: %.3f ms (average of %u)\n", (now_ms() - start) / rounds, rounds);
}

static void bench_fetch_store(struct mail_user *user, unsigned int count)
{
	struct mailbox *box = mailbox_open(user, "INBOX", 0);
	uint32_t *seqs = i_new(uint32_t, count);
	for (unsigned int i = 0; i < count; i++)
		seqs[i] = i + 1;
	struct bench_fetch_ctx ctx = { .out = str_new(system_pool, 70000) };
	double start = now_ms();
	for (unsigned int i = 0; i < count; i += 1024) {
		if (mailbox_foreach_record(box, seqs + i, I_MIN(1024, count - i), bench_fetch_cb,
					   &ctx) < 0)
			i_fatal("foreach failed");
	}
	printf("  FETCH 1:* (UID FLAGS): %.1f ms for %u records\n", now_ms() - start, ctx.count);
	str_free(&ctx.out);

	pool_t pool = pool_create("bench", 1024);
	struct mailbox_sync_result res;
	struct mail_flags_change change = { .modify = MAIL_FLAGS_ADD, .flags = MAIL_SEEN };
	start = now_ms();
	if (mailbox_update_flags(box, seqs, count, &change, pool, NULL) < 0 ||
	    mailbox_sync(box, 0, pool, &res) < 0)
		i_fatal("store failed");
	printf("  STORE 1:* +FLAGS (\\Seen) + sync: %.1f ms\n", now_ms() - start);
	start = now_ms();
	while (mailbox_run_deferred(box, 1000) > 0)
		;
	printf("  deferred flag mirroring (renames): %.1f ms\n", now_ms() - start);

	start = now_ms();
	const unsigned int rounds = 1000;
	for (unsigned int i = 0; i < rounds; i++) {
		if (mailbox_sync(box, 0, pool, &res) < 0)
			i_fatal("sync failed");
	}
	printf("  sync without changes: %.1f us\n", (now_ms() - start) * 1000 / rounds);
	start = now_ms();
	if (mailbox_sync(box, MAILBOX_SYNC_FULL, pool, &res) < 0)
		i_fatal("sync failed");
	printf("  full sync, cur/ unchanged: %.3f ms\n", now_ms() - start);
	/* another program touches cur/: a full rescan */
	const char *cur = test_storage_subdir(user, "INBOX", "cur");
	int fd = open(t_strdup_printf("%s/external.host", cur), O_WRONLY | O_CREAT, 0600);
	if (fd >= 0)
		close(fd);
	start = now_ms();
	if (mailbox_sync(box, MAILBOX_SYNC_FULL, pool, &res) < 0)
		i_fatal("sync failed");
	printf("  full sync, cur/ changed (rescan of %u files): %.1f ms\n", count + 1,
	       now_ms() - start);
	pool_destroy(&pool);
	free(seqs);
	mailbox_close(&box);
}

static void bench_run(void)
{
	unsigned int count = 100000;
	const char *env = getenv("TERN_BENCH_MESSAGES");
	if (env != NULL)
		count = (unsigned int)strtoul(env, NULL, 10);
	test_begin("storage benchmark");
	home = i_strdup(test_storage_mkdtemp("bench-storage"));
	struct mail_user *user = test_storage_user(home, false);
	test_assert(mailbox_create(user, "Empty", 0) == 0);

	printf("  APPEND into an empty folder: %.0f msg/s\n", bench_append(user, "Empty", 1000));

	bench_fill_maildir(user, count);
	double start = now_ms();
	struct mailbox *box = mailbox_open(user, "INBOX", 0);
	printf("  indexing %u Maildir files: %.0f ms\n", count, now_ms() - start);
	test_assert(box != NULL && mailbox_view_count(box) == count);
	mailbox_close(&box);

	bench_select(user, count);
	bench_fetch_store(user, count);
	printf("  APPEND into the %u-message folder: %.0f msg/s\n", count,
	       bench_append(user, "INBOX", 1000));
	printf("  APPEND into the empty folder again: %.0f msg/s\n",
	       bench_append(user, "Empty", 1000));
	test_assert(test_storage_check(user, "INBOX") == NULL);
	mail_user_deinit(&user);
	test_storage_rm_rf(home);
	free((char *)home);
	test_end();
}

int main(void)
{
	static void (*const tests[])(void) = { bench_run, NULL };
	return test_run(tests);
}
