/* regexec() under a CPU budget: a long value goes to a forked child with
 * an ITIMER_PROF timer set to the budget (regex-bounded.h). */
#include "regex-bounded.h"
#include "lib.h"
#include "pool.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

/* what the child sends back */
struct regex_bounded_reply {
	int ret;
	regmatch_t groups[64];
};

static ATTR_NORETURN void regex_bounded_child(int fd, const regex_t *re, const char *value,
					      size_t nmatch, uint64_t budget_us)
{
	struct regex_bounded_reply reply;
	/* the kernel ends the child (SIGPROF) once it used the budget */
	(void)signal(SIGPROF, SIG_DFL);
	struct itimerval it = {
		.it_value = { .tv_sec = (time_t)(budget_us / 1000000),
			      .tv_usec = (suseconds_t)(budget_us % 1000000) },
	};
	if (setitimer(ITIMER_PROF, &it, NULL) < 0)
		_exit(2);
	memset(&reply, 0, sizeof(reply));
	reply.ret = regexec(re, value, nmatch, reply.groups, 0);
	_exit(i_write_full(fd, &reply, sizeof(reply)) < 0 ? 2 : 0);
}

int sieve_regexec_bounded(const regex_t *re, const char *value, size_t nmatch,
			  regmatch_t *groups, uint64_t budget_us, uint64_t *child_us_r,
			  const char **error_r)
{
	struct regex_bounded_reply reply;
	*child_us_r = 0;
	i_assert(nmatch <= N_ELEMENTS(reply.groups));
	if (strlen(value) <= SIEVE_REGEX_INLINE_MAX)
		return regexec(re, value, nmatch, groups, 0) == 0 ? 1 : 0;
	if (budget_us == 0)
		return -1;

	int fds[2];
	if (pipe2(fds, O_CLOEXEC) < 0) {
		*error_r = t_strdup_printf("pipe() failed: %s", strerror(errno));
		return -2;
	}
	pid_t pid = fork();
	if (pid < 0) {
		*error_r = t_strdup_printf("fork() failed: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return -2;
	}
	if (pid == 0) {
		close(fds[0]);
		regex_bounded_child(fds[1], re, value, nmatch, budget_us);
	}
	close(fds[1]);
	size_t got = 0;
	while (got < sizeof(reply)) {
		ssize_t n = read(fds[0], (char *)&reply + got, sizeof(reply) - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fds[0]);
	int status;
	struct rusage ru;
	pid_t waited;
	while ((waited = wait4(pid, &status, 0, &ru)) < 0 && errno == EINTR)
		;
	if (waited == pid) {
		*child_us_r = (uint64_t)ru.ru_utime.tv_sec * 1000000 + (uint64_t)ru.ru_utime.tv_usec +
			(uint64_t)ru.ru_stime.tv_sec * 1000000 + (uint64_t)ru.ru_stime.tv_usec;
	}
	if (waited == pid && WIFSIGNALED(status) && WTERMSIG(status) == SIGPROF)
		return -1;
	if (waited != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
	    got != sizeof(reply)) {
		*error_r = "the matching process failed";
		return -2;
	}
	if (reply.ret != 0)
		return 0;
	memcpy(groups, reply.groups, nmatch * sizeof(*groups));
	return 1;
}
