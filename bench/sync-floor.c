/* The kernel's floor under a durable delivery, without any server: N
 * processes deliver COUNT messages of SIZE bytes round-robin into USERS
 * Maildirs with only the file-system calls a delivery protocol makes, and
 * the machine's CPU per delivery is read from /proc/stat. Protocols:
 *   dovecot  tmp/ create, write, fsync, rename into new/, fdatasync of
 *            new/, a 46-byte append to dovecot-uidlist with fdatasync
 *            (what Dovecot 2.3.19's LMTP does with mail_fsync = optimized,
 *            seen with strace; its index log and cache writes are unsynced)
 *   tern     tmp/ create, write, fsync, rename into cur/, fsync of cur/,
 *            a 7-page append to the user's index WAL with fdatasync
 *            (docs/lmtp.md, "Durability and throughput")
 *   syncfs   Tern's with the WAL append unsynced and one syncfs() instead
 *            of the two syncs after the rename (a group commit, not taken)
 * Run by bench/sync-floor.sh; prints one JSON line per run. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define WAL_FRAME_SIZE (24 + 4096) /* SQLite WAL frame: header and page */
#define WAL_FRAMES 7 /* pages a delivery's index transaction writes */
#define WAL_MAX (4 * 1024 * 1024) /* a checkpointed WAL starts over */

static void die(const char *what, const char *path)
{
	fprintf(stderr, "sync-floor: %s %s: %s\n", what, path, strerror(errno));
	exit(1);
}

static void make_dir(const char *path)
{
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		die("mkdir", path);
}

static void write_all(int fd, const char *buf, size_t size, off_t offset, const char *path)
{
	while (size > 0) {
		ssize_t ret = offset < 0 ? write(fd, buf, size) : pwrite(fd, buf, size, offset);
		if (ret < 0 && errno == EINTR)
			continue;
		if (ret <= 0)
			die("write", path);
		buf += ret;
		size -= (size_t)ret;
		if (offset >= 0)
			offset += ret;
	}
}

static void sync_fd(int fd, int data_only, const char *path)
{
	if ((data_only ? fdatasync(fd) : fsync(fd)) < 0)
		die("fsync", path);
}

/* One delivery into user's Maildir under root. */
enum protocol { PROTO_DOVECOT, PROTO_TERN, PROTO_SYNCFS };

static void deliver(const char *root, unsigned int user, unsigned int seq, const char *msg,
		    size_t size, enum protocol proto, off_t *wal_offsets)
{
	const char *sub = proto == PROTO_DOVECOT ? "new" : "cur";
	char tmp[512], cur[512], dir[512], wal[512];
	snprintf(tmp, sizeof(tmp), "%s/u%u/tmp/%d.%u", root, user, getpid(), seq);
	snprintf(cur, sizeof(cur), "%s/u%u/%s/%d.%u,S=%zu:2,", root, user, sub, getpid(), seq, size);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		die("open", tmp);
	write_all(fd, msg, size, -1, tmp);
	sync_fd(fd, 0, tmp);
	close(fd);
	if (rename(tmp, cur) < 0)
		die("rename", tmp);
	snprintf(dir, sizeof(dir), "%s/u%u/%s", root, user, sub);
	int dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir_fd < 0)
		die("open", dir);
	if (proto != PROTO_SYNCFS)
		sync_fd(dir_fd, proto == PROTO_DOVECOT, dir);
	if (proto == PROTO_DOVECOT) {
		snprintf(wal, sizeof(wal), "%s/u%u/uidlist.%d", root, user, getpid());
		fd = open(wal, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
		if (fd < 0)
			die("open", wal);
		char line[64];
		int len = snprintf(line, sizeof(line), "%u :%d.%u,S=%zu,W=%zu\n", seq, getpid(), seq,
				   size, size);
		write_all(fd, line, (size_t)len, -1, wal);
		sync_fd(fd, 1, wal);
		close(fd);
		close(dir_fd);
		return;
	}
	/* each process has its own WAL per user, as if the index were its */
	snprintf(wal, sizeof(wal), "%s/u%u/wal.%d", root, user, getpid());
	fd = open(wal, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		die("open", wal);
	static char frames[WAL_FRAMES * WAL_FRAME_SIZE];
	memset(frames, (int)seq, sizeof(frames));
	if (wal_offsets[user] + (off_t)sizeof(frames) > WAL_MAX)
		wal_offsets[user] = 0;
	write_all(fd, frames, sizeof(frames), wal_offsets[user], wal);
	wal_offsets[user] += (off_t)sizeof(frames);
	if (proto == PROTO_TERN)
		sync_fd(fd, 1, wal);
	else if (syncfs(dir_fd) < 0)
		die("syncfs", dir);
	close(fd);
	close(dir_fd);
}

static unsigned long long machine_busy_ticks(void)
{
	FILE *f = fopen("/proc/stat", "r");
	unsigned long long v[8] = { 0 };
	if (f == NULL || fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1],
				&v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) != 8)
		die("read", "/proc/stat");
	fclose(f);
	/* all but idle and iowait */
	return v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
}

int main(int argc, char **argv)
{
	if (argc != 7) {
		fprintf(stderr, "usage: sync-floor dovecot|tern|syncfs DIR PROCS COUNT USERS SIZE\n");
		return 64;
	}
	enum protocol proto = strcmp(argv[1], "tern") == 0 ? PROTO_TERN :
		strcmp(argv[1], "syncfs") == 0 ? PROTO_SYNCFS : PROTO_DOVECOT;
	const char *root = argv[2];
	unsigned int procs = (unsigned int)atoi(argv[3]), count = (unsigned int)atoi(argv[4]);
	unsigned int users = (unsigned int)atoi(argv[5]);
	size_t size = (size_t)atol(argv[6]);
	if (procs == 0 || users == 0 || size == 0) {
		fprintf(stderr, "sync-floor: PROCS, USERS and SIZE must be positive\n");
		return 64;
	}
	make_dir(root);
	for (unsigned int u = 0; u < users; u++) {
		static const char *const subs[] = { "", "/tmp", "/cur", "/new" };
		for (unsigned int i = 0; i < 4; i++) {
			char path[512];
			snprintf(path, sizeof(path), "%s/u%u%s", root, u, subs[i]);
			make_dir(path);
		}
	}
	char *msg = malloc(size);
	off_t *wal_offsets = calloc(users, sizeof(*wal_offsets));
	if (msg == NULL || wal_offsets == NULL)
		die("malloc", "");
	for (size_t i = 0; i < size; i++)
		msg[i] = (i % 78 == 77) ? '\n' : (char)('a' + i % 26);

	long hz = sysconf(_SC_CLK_TCK);
	unsigned long long busy0 = machine_busy_ticks();
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (unsigned int p = 0; p < procs; p++) {
		pid_t pid = fork();
		if (pid < 0)
			die("fork", "");
		if (pid == 0) {
			/* process p delivers messages p, p + procs, ... to users in turn */
			for (unsigned int n = p; n < count; n += procs)
				deliver(root, n % users, n, msg, size, proto, wal_offsets);
			_exit(0);
		}
	}
	int status, failed = 0;
	while (wait(&status) > 0)
		failed |= !WIFEXITED(status) || WEXITSTATUS(status) != 0;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	unsigned long long busy1 = machine_busy_ticks();
	struct rusage ru;
	getrusage(RUSAGE_CHILDREN, &ru);
	double wall = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	double procs_cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
		(double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
	printf("{\"protocol\":\"%s\",\"procs\":%u,\"messages\":%u,\"size\":%zu,"
	       "\"msgs_per_s\":%.1f,\"machine_cpu_ms_per_msg\":%.3f,"
	       "\"process_cpu_ms_per_msg\":%.3f,\"failed\":%s}\n",
	       argv[1], procs, count, size, count / wall,
	       (double)(busy1 - busy0) * 1000.0 / (double)hz / count,
	       procs_cpu * 1000.0 / count, failed ? "true" : "false");
	return failed;
}
