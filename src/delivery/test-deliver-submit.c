/* Unit tests of the submission client against a scripted SMTP server in a
 * child process: the dialogue and the data (CRLF, dot-stuffing, suffix),
 * permanent and temporary refusals, the HELO fallback, a refused
 * connection, a silent server (timeout), and the sendmail binary. */
#include "test-common.h"
#include "deliver-private.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* The server answers each command line with the next reply of replies
   (NULL-terminated; "" = say nothing), reads DATA up to ".", and writes
   everything it received to out_fd. */
static void test_smtp_server(int lfd, const char *const *replies, int out_fd)
{
	int fd = accept(lfd, NULL, NULL);
	if (fd < 0)
		_exit(1);
	FILE *in = fdopen(fd, "r");
	unsigned int i = 0;
	char line[8192];
	bool data = false;
	if (replies[i] != NULL && replies[i][0] != '\0')
		dprintf(fd, "%s\r\n", replies[i]);
	i++;
	while (fgets(line, sizeof(line), in) != NULL) {
		(void)!write(out_fd, line, strlen(line));
		if (data) {
			if (strcmp(line, ".\r\n") != 0)
				continue;
			data = false;
		} else if (strncmp(line, "DATA", 4) == 0 && replies[i] != NULL &&
			   strncmp(replies[i], "354", 3) == 0) {
			data = true;
		}
		if (replies[i] == NULL)
			break;
		if (replies[i][0] != '\0')
			dprintf(fd, "%s\r\n", replies[i]);
		i++;
	}
	_exit(0);
}

/* Runs deliver_submit() against a server with replies; returns its
   result and what the server received. */
static int test_submit(const char *const *replies, const char *prefix, const char *suffix,
		       unsigned int timeout_ms, const char **received_r)
{
	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sin = { .sin_family = AF_INET };
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t len = sizeof(sin);
	i_assert(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	i_assert(listen(lfd, 1) == 0 && getsockname(lfd, (struct sockaddr *)&sin, &len) == 0);
	int pfd[2];
	i_assert(pipe(pfd) == 0);
	pid_t pid = fork();
	if (pid == 0) {
		close(pfd[0]);
		test_smtp_server(lfd, replies, pfd[1]);
	}
	close(pfd[1]);
	close(lfd);
	const struct submission_settings set = {
		.host = t_strdup_printf("127.0.0.1:%u", ntohs(sin.sin_port)),
		.sendmail_path = "", .timeout_ms = timeout_ms,
	};
	const struct deliver_submit_request req = {
		.sender = "bob@example.net", .rcpt = "carol@example.org", .helo = "test.example",
		.prefix = prefix, .suffix = suffix,
	};
	const char *error;
	int ret = deliver_submit(&set, &req, &error);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	string_t *str = t_str_new(1024);
	char buf[4096];
	ssize_t n;
	while ((n = read(pfd[0], buf, sizeof(buf))) > 0)
		str_append_n(str, buf, (size_t)n);
	close(pfd[0]);
	*received_r = str_c(str);
	return ret;
}

static const char *const ok_replies[] = {
	"220 hi", "250-hi\r\n250 8BITMIME", "250 ok", "250 ok", "354 go", "250 queued",
	"221 bye", NULL
};

static void test_submit_ok(void)
{
	test_begin("submit: dialogue, CRLF, dot-stuffing, suffix");
	const char *got;
	test_assert(test_submit(ok_replies, "Subject: x\n\n.dot\r\nbare\rcr\nend", "\n--b--",
				5000, &got) == 1);
	test_assert_strcmp(got, "EHLO test.example\r\nMAIL FROM:<bob@example.net>\r\n"
			   "RCPT TO:<carol@example.org>\r\nDATA\r\n"
			   "Subject: x\r\n\r\n..dot\r\nbare\rcr\r\nend\r\n--b--\r\n.\r\nQUIT\r\n");
	test_end();
}

static void test_submit_refusals(void)
{
	test_begin("submit: 5xx permanent, 4xx temporary, HELO fallback");
	const char *got;
	static const char *const perm[] = { "220 hi", "250 hi", "250 ok", "550 5.1.1 no", NULL };
	test_assert(test_submit(perm, "x\r\n", NULL, 5000, &got) == 0);
	static const char *const temp[] = { "220 hi", "250 hi", "451 4.3.0 later", NULL };
	test_assert(test_submit(temp, "x\r\n", NULL, 5000, &got) == -1);
	static const char *const busy[] = { "421 4.3.2 busy", NULL };
	test_assert(test_submit(busy, "x\r\n", NULL, 5000, &got) == -1);
	static const char *const helo[] = {
		"220 hi", "500 what", "250 hello", "250 ok", "250 ok", "354 go", "250 ok",
		"221 bye", NULL
	};
	test_assert(test_submit(helo, "x\r\n", NULL, 5000, &got) == 1);
	test_assert(strstr(got, "HELO test.example\r\n") != NULL);
	static const char *const garbage[] = { "hello there", NULL };
	test_assert(test_submit(garbage, "x\r\n", NULL, 5000, &got) == -1);
	test_end();
}

static void test_submit_timeout(void)
{
	test_begin("submit: silent server times out, refused connection");
	const char *got;
	static const char *const silent[] = { "", "", NULL };
	test_assert(test_submit(silent, "x\r\n", NULL, 300, &got) == -1);
	const struct submission_settings set = { .host = "127.0.0.1:1", .timeout_ms = 1000 };
	const struct deliver_submit_request req = {
		.sender = "", .rcpt = "a@b", .helo = "h", .prefix = "x\r\n",
	};
	const char *error;
	test_assert(deliver_submit(&set, &req, &error) == -1 && error != NULL);
	test_end();
}

static void test_submit_sendmail(void)
{
	test_begin("submit: sendmail binary arguments, LF data, exit codes");
	char dir[] = "/tmp/test-deliver-submit.XXXXXX";
	i_assert(mkdtemp(dir) != NULL);
	const char *script = t_strdup_printf("%s/sendmail", dir);
	FILE *f = fopen(script, "w");
	fprintf(f, "#!/bin/sh\nprintf '%%s|' \"$@\" > %s/args\ncat > %s/data\n"
		"[ \"$5\" = temp@x ] && exit 75\n[ \"$5\" = nouser@x ] && exit 67\nexit 0\n",
		dir, dir);
	fclose(f);
	chmod(script, 0755);
	struct submission_settings set = { .host = "", .sendmail_path = script, .timeout_ms = 5000 };
	struct deliver_submit_request req = {
		.sender = "", .rcpt = "carol@example.org", .helo = "h", .prefix = "A: b\r\n\r\n.x\r\n",
	};
	const char *error;
	test_assert(deliver_submit(&set, &req, &error) == 1);
	char buf[256];
	FILE *a = fopen(t_strdup_printf("%s/args", dir), "r");
	test_assert(a != NULL && fgets(buf, sizeof(buf), a) != NULL);
	test_assert_strcmp(buf, "-i|-f|<>|--|carol@example.org|");
	fclose(a);
	FILE *d = fopen(t_strdup_printf("%s/data", dir), "r");
	size_t n = fread(buf, 1, sizeof(buf) - 1, d);
	buf[n] = '\0';
	fclose(d);
	test_assert_strcmp(buf, "A: b\n\n.x\n");
	req.rcpt = "temp@x";
	test_assert(deliver_submit(&set, &req, &error) == -1);
	req.rcpt = "nouser@x";
	test_assert(deliver_submit(&set, &req, &error) == 0);
	set.sendmail_path = "/nonexistent/sendmail";
	test_assert(deliver_submit(&set, &req, &error) == -1);
	(void)!system(t_strdup_printf("rm -rf %s", dir));
	test_end();
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	static void (*const tests[])(void) = {
		test_submit_ok, test_submit_refusals, test_submit_timeout, test_submit_sendmail,
		NULL
	};
	return test_run(tests);
}
