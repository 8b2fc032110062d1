/* Crash safety and concurrency. A child process saves messages in a loop (with a STORE and
 * an expunge now and then) and reports each one the API acknowledged; the
 * parent kills it with SIGKILL at a random moment, then reopens the
 * mailbox (a full sync) and checks that every acknowledged message is
 * there exactly once, every acknowledged expunge is gone, nothing is there
 * twice, and the index matches the Maildir. Repeated for many rounds.
 * Then several processes save, STORE, expunge, copy, move and sync the
 * same mailboxes at once, and index and Maildir must still agree. */
#include "test-common.h"
#include "test-storage-common.h"

#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CRASH_ROUNDS 40
#define CRASH_MAX_IDS 100000

static char *home;

static void child_report(int fd, const char *line)
{
	size_t len = strlen(line);
	if (write(fd, line, len) != (ssize_t)len)
		_exit(2);
}

static void child_store_and_expunge(struct mailbox *box, int fd, unsigned int n,
				    const uint32_t *uids, const unsigned int *ids)
{
	pool_t pool = pool_create("child", 1024);
	struct mailbox_sync_result res;
	if (mailbox_sync(box, 0, pool, &res) < 0)
		_exit(3);
	uint32_t count = mailbox_view_count(box);
	if (n % 7 == 0 && count > 0) {
		uint32_t *seqs = i_new(uint32_t, count);
		for (uint32_t i = 0; i < count; i++)
			seqs[i] = i + 1;
		struct mail_flags_change change = { .modify = MAIL_FLAGS_ADD, .flags = MAIL_SEEN };
		if (mailbox_update_flags(box, seqs, count, &change, pool, NULL) < 0)
			_exit(4);
		free(seqs);
	}
	if (n % 11 == 0 && n >= 3) {
		uint32_t uid = uids[n - 3];
		uint32_t seq = mailbox_view_seq(box, uid);
		/* from here on the message may or may not survive a kill */
		child_report(fd, t_strdup_printf("X %u\n", ids[n - 3]));
		struct mail_flags_change change = { .modify = MAIL_FLAGS_ADD, .flags = MAIL_DELETED };
		if (seq != 0 && mailbox_update_flags(box, &seq, 1, &change, pool, NULL) == 0 &&
		    mailbox_expunge(box, &uid, 1) == 0)
			child_report(fd, t_strdup_printf("E %u\n", ids[n - 3]));
	}
	pool_destroy(&pool);
}

static void ATTR_NORETURN child_run(int fd, unsigned int round)
{
	struct mail_user *user = test_storage_user(home, false);
	struct mailbox *box = mailbox_open(user, "INBOX", 0);
	if (box == NULL)
		_exit(5);
	uint32_t *uids = i_new(uint32_t, CRASH_MAX_IDS);
	unsigned int *ids = i_new(unsigned int, CRASH_MAX_IDS);
	for (unsigned int n = 0; n < CRASH_MAX_IDS; n++) {
		unsigned int id = round * CRASH_MAX_IDS + n;
		const char *content = t_strdup_printf("X-Id: %u\r\nSubject: crash test\r\n\r\n"
						      "body of %u\r\n", id, id);
		uint32_t uid = test_storage_save(user, "INBOX", content, 0, NULL);
		if (uid == 0)
			_exit(6);
		uids[n] = uid;
		ids[n] = id;
		child_report(fd, t_strdup_printf("S %u\n", id));
		child_store_and_expunge(box, fd, n + 1, uids, ids);
		t_pool_clear();
	}
	_exit(0);
}

/* Reads the child's reports: acked[id] = 1 saved, 2 saved and expunged,
   3 expunge attempted (either outcome is fine). */
static void parent_read_reports(int fd, unsigned char *acked, unsigned int *saves_r)
{
	string_t *buf = str_new(system_pool, 4096);
	char tmp[4096];
	ssize_t ret;
	while ((ret = read(fd, tmp, sizeof(tmp))) > 0)
		str_append_n(buf, tmp, (size_t)ret);
	char *p = (char *)str_c(buf), *line;
	while ((line = strsep(&p, "\n")) != NULL) {
		unsigned int id;
		if (sscanf(line, "S %u", &id) == 1 && id / CRASH_MAX_IDS < CRASH_ROUNDS) {
			acked[id] = 1;
			(*saves_r)++;
		} else if (sscanf(line, "E %u", &id) == 1 && id / CRASH_MAX_IDS < CRASH_ROUNDS) {
			acked[id] = 2;
		} else if (sscanf(line, "X %u", &id) == 1 && id / CRASH_MAX_IDS < CRASH_ROUNDS) {
			acked[id] = 3;
		}
	}
	str_free(&buf);
}

static void parent_verify(const unsigned char *acked, unsigned int max_id)
{
	struct mail_user *user = test_storage_user(home, false);
	struct mailbox *box = mailbox_open(user, "INBOX", 0);
	test_assert(box != NULL);
	if (box == NULL) {
		mail_user_deinit(&user);
		return;
	}
	const char *problem = test_storage_check(user, "INBOX");
	if (problem != NULL)
		printf("  index and Maildir differ: %s\n", problem);
	test_assert(problem == NULL);
	unsigned char *seen = i_new(unsigned char, max_id);
	for (uint32_t seq = 1; seq <= mailbox_view_count(box); seq++) {
		const char *content = test_storage_read_message(box, mailbox_view_uid(box, seq));
		unsigned int id;
		test_assert(content != NULL);
		if (content == NULL || sscanf(content, "X-Id: %u", &id) != 1 || id >= max_id) {
			test_assert(false);
			continue;
		}
		if (seen[id] != 0)
			printf("  message %u is there twice\n", id);
		test_assert(seen[id] == 0);
		seen[id] = 1;
		t_pool_clear();
	}
	for (unsigned int id = 0; id < max_id; id++) {
		if ((acked[id] == 1 && seen[id] == 0) || (acked[id] == 2 && seen[id] != 0)) {
			printf("  message %u: acknowledged %s but %s\n", id,
			       acked[id] == 1 ? "saved" : "expunged", seen[id] ? "present" : "missing");
			test_assert(false);
		}
	}
	free(seen);
	mailbox_close(&box);
	mail_user_deinit(&user);
}

static void test_crash(void)
{
	test_begin("storage survives SIGKILL at random points");
	home = i_strdup(test_storage_mkdtemp("test-storage-crash"));
	struct mail_user *user = test_storage_user(home, false);
	mail_user_deinit(&user);
	unsigned int seed = (unsigned int)time(NULL) ^ (unsigned int)getpid();
	const char *env = getenv("TERN_CRASH_SEED");
	if (env != NULL)
		seed = (unsigned int)strtoul(env, NULL, 10);
	printf("  seed %u\n", seed);
	srand(seed);
	unsigned int max_id = CRASH_ROUNDS * CRASH_MAX_IDS, saves = 0;
	unsigned char *acked = i_new(unsigned char, max_id);
	for (unsigned int round = 0; round < CRASH_ROUNDS; round++) {
		int fds[2];
		test_assert(pipe(fds) == 0);
		pid_t pid = fork();
		if (pid == 0) {
			close(fds[0]);
			child_run(fds[1], round);
		}
		close(fds[1]);
		/* past the child's startup most of the time, sometimes not */
		struct timespec delay = { .tv_nsec = (long)(rand() % 150 + 10) * 1000000 };
		nanosleep(&delay, NULL);
		kill(pid, SIGKILL);
		int status;
		test_assert(waitpid(pid, &status, 0) == pid);
		test_assert(WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) == 0));
		parent_read_reports(fds[0], acked, &saves);
		close(fds[0]);
		parent_verify(acked, max_id);
	}
	printf("  %u acknowledged saves over %u kills\n", saves, CRASH_ROUNDS);
	test_assert(saves > 0);
	free(acked);
	test_storage_rm_rf(home);
	free(home);
	test_end();
}

/* One of several processes working on the same mailboxes at once. */
static void ATTR_NORETURN concurrent_child(unsigned int seed, unsigned int ops)
{
	srand(seed);
	struct mail_user *user = test_storage_user(home, false);
	struct mailbox *box = mailbox_open(user, "INBOX", 0);
	if (box == NULL)
		_exit(10);
	pool_t pool = pool_create("child", 1024);
	for (unsigned int i = 0; i < ops; i++) {
		struct mailbox_sync_result res;
		uint32_t count = mailbox_view_count(box);
		uint32_t seq = count == 0 ? 0 : (uint32_t)rand() % count + 1;
		struct mail_flags_change change = {
			.modify = rand() % 2 == 0 ? MAIL_FLAGS_ADD : MAIL_FLAGS_REMOVE,
			.flags = 1u << (rand() % 5),
		};
		struct mail_copy_result cres;
		int ret = 0;
		switch (rand() % 6) {
		case 0:
		case 1:
			ret = test_storage_save(user, "INBOX", "X-Id: 0\r\n\r\nc\r\n", 0, NULL) == 0 ? -1 : 0;
			break;
		case 2:
			if (seq != 0)
				ret = mailbox_update_flags(box, &seq, 1, &change, pool, NULL);
			break;
		case 3:
			ret = mailbox_expunge(box, NULL, 0);
			break;
		case 4:
			if (seq != 0 && mailbox_copy(box, &seq, 1, "Other", rand() % 2 == 0, pool,
						     &cres) < 0) {
				const char *text;
				/* someone else expunged it first */
				ret = mail_user_get_error(user, &text) == MAIL_ERROR_EXPUNGED ? 0 : -1;
			}
			break;
		case 5:
			ret = mailbox_sync(box, MAILBOX_SYNC_FULL, pool, &res);
			break;
		}
		if (ret < 0 || mailbox_sync(box, 0, pool, &res) < 0)
			_exit(11);
		pool_clear(pool);
		t_pool_clear();
	}
	pool_destroy(&pool);
	mailbox_close(&box);
	mail_user_deinit(&user);
	_exit(0);
}

static void test_concurrent(void)
{
	test_begin("storage: processes working on one mailbox at once");
	home = i_strdup(test_storage_mkdtemp("test-storage-concurrent"));
	struct mail_user *user = test_storage_user(home, false);
	test_assert(mailbox_create(user, "Other", 0) == 0);
	for (unsigned int i = 0; i < 20; i++)
		test_assert(test_storage_save(user, "INBOX", "seed\r\n", 0, NULL) != 0);
	mail_user_deinit(&user);
	pid_t pids[4];
	const char *env = getenv("TERN_STRESS_OPS");
	unsigned int ops = env == NULL ? 150 : (unsigned int)strtoul(env, NULL, 10);
	for (unsigned int i = 0; i < N_ELEMENTS(pids); i++) {
		pids[i] = fork();
		if (pids[i] == 0)
			concurrent_child((unsigned int)time(NULL) + i * 7919, ops);
	}
	for (unsigned int i = 0; i < N_ELEMENTS(pids); i++) {
		int status;
		test_assert(waitpid(pids[i], &status, 0) == pids[i]);
		test_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	user = test_storage_user(home, false);
	struct mailbox *box = mailbox_open(user, "INBOX", 0);
	test_assert(box != NULL);
	mailbox_close(&box);
	box = mailbox_open(user, "Other", 0);
	mailbox_close(&box);
	const char *problem = test_storage_check(user, "INBOX");
	if (problem != NULL)
		printf("  INBOX: %s\n", problem);
	test_assert(problem == NULL);
	problem = test_storage_check(user, "Other");
	if (problem != NULL)
		printf("  Other: %s\n", problem);
	test_assert(problem == NULL);
	mail_user_deinit(&user);
	test_storage_rm_rf(home);
	free(home);
	test_end();
}

int main(void)
{
	static void (*const tests[])(void) = {
		test_crash,
		test_concurrent,
		NULL
	};
	return test_run(tests);
}
