/* tern-lda: the local delivery agent. Reads one message from stdin and
 * delivers it to one user through the same code as LMTP (src/delivery),
 * for Postfix's mailbox_command, Exim's pipe transport and procmail-style
 * setups. Exit codes are sendmail's (sysexits.h): 0 delivered, 75
 * EX_TEMPFAIL (the MTA retries), 67 EX_NOUSER, 64 EX_USAGE, 65
 * EX_DATAERR, 77 EX_NOPERM (rejected, or over quota when permanent). */
#include "deliver-spool.h"
#include "mail-deliver.h"
#include "deliver-user.h"
#include "auth.h"

#include <errno.h>
#include <fcntl.h>
#include <strings.h>
#include <getopt.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#define LDA_SYSTEM_CONFIG "/etc/tern/tern.conf"
#define EX_OK 0
#define EX_USAGE 64
#define EX_DATAERR 65
#define EX_NOUSER 67
#define EX_TEMPFAIL 75
#define EX_NOPERM 77

struct lda_args {
	const char *user, *mailbox, *rcpt, *sender, *config_path;
	bool errors_to_stderr;
};

static int lda_read_stdin(struct deliver_spool *spool)
{
	unsigned char buf[65536];
	for (;;) {
		ssize_t n = read(0, buf, sizeof(buf));
		if (n == 0)
			return 0;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (deliver_spool_append(spool, buf, (size_t)n) < 0)
			return -1;
	}
}

static void lda_usage(void)
{
	fprintf(stderr, "usage: tern-lda [-c CONFIG] [-d USER] [-m MAILBOX] [-a ADDRESS] "
		"[-f SENDER] [-e] < message\n");
}

static int lda_parse_args(int argc, char **argv, struct lda_args *args)
{
	int c;
	while ((c = getopt(argc, argv, "a:c:d:ef:m:")) != -1) {
		switch (c) {
		case 'a': args->rcpt = optarg; break;
		case 'c': args->config_path = optarg; break;
		case 'd': args->user = optarg; break;
		case 'e': args->errors_to_stderr = true; break;
		case 'f': args->sender = optarg; break;
		case 'm': args->mailbox = optarg; break;
		default: return -1;
		}
	}
	if (optind != argc)
		return -1;
	if (args->config_path == NULL && access(LDA_SYSTEM_CONFIG, F_OK) == 0)
		args->config_path = LDA_SYSTEM_CONFIG;
	if (args->user == NULL) {
		/* the invoking user, as for Postfix's mailbox_command */
		struct passwd *pw = getpwuid(getuid());
		if (pw == NULL)
			return -1;
		args->user = i_strdup(pw->pw_name);
	}
	return 0;
}

/* The sender: -f, else the message's own Return-Path (dovecot-lda does the
   same), else MAILER-DAEMON. "<>" is the null sender. */
static const char *lda_sender(const struct lda_args *args, const char *return_path)
{
	const char *s = args->sender != NULL ? args->sender : return_path;
	if (s == NULL)
		return "MAILER-DAEMON";
	size_t len = strlen(s);
	if (len >= 2 && s[0] == '<' && s[len - 1] == '>')
		s = t_strndup(s + 1, len - 2);
	return s;
}

/* The value of a Return-Path field at the very top of the message. */
static const char *lda_message_return_path(struct deliver_spool *spool)
{
	char buf[1024];
	ssize_t n = deliver_spool_pread(spool, buf, sizeof(buf) - 1, 0);
	if (n < 12 || strncasecmp(buf, "Return-Path:", 12) != 0)
		return NULL;
	buf[n] = '\0';
	char *p = buf + 12;
	while (*p == ' ' || *p == '\t')
		p++;
	p[strcspn(p, "\r\n")] = '\0';
	return t_strdup_printf("%s", p);
}

/* The line ending the message uses: "\r\n", or "\n" from a pipe. */
static const char *lda_spool_eol(struct deliver_spool *spool)
{
	char buf[4096];
	ssize_t n = deliver_spool_pread(spool, buf, sizeof(buf), 0);
	const char *lf = n > 0 ? memchr(buf, '\n', (size_t)n) : NULL;
	return lf != NULL && (lf == buf || lf[-1] != '\r') ? "\n" : "\r\n";
}

/* A leading "From sender date" line is mbox framing, not mail. */
static void lda_spool_skip_from_line(struct deliver_spool *spool)
{
	char line[4096];
	ssize_t n = deliver_spool_pread(spool, line, sizeof(line), 0);
	if (n < 5 || memcmp(line, "From ", 5) != 0)
		return;
	const char *lf = memchr(line, '\n', (size_t)n);
	if (lf != NULL)
		spool->skip = (uint64_t)(lf - line + 1);
}

static int lda_status_exit(const struct mail_deliver_result *result, const struct lda_args *args)
{
	switch (result->status) {
	case MAIL_DELIVER_OK:
		return EX_OK;
	case MAIL_DELIVER_TEMPFAIL:
		fprintf(stderr, "tern-lda: temporary failure: %s\n",
			result->reason == NULL ? "try again later" : result->reason);
		return EX_TEMPFAIL;
	case MAIL_DELIVER_OVERQUOTA:
		fprintf(stderr, "tern-lda: %s: Quota exceeded (mailbox for user is full)\n",
			args->user);
		return result->permanent ? EX_NOPERM : EX_TEMPFAIL;
	case MAIL_DELIVER_REJECTED:
		fprintf(stderr, "%s\n", result->reason == NULL ? "Rejected" : result->reason);
		return EX_NOPERM;
	}
	return EX_TEMPFAIL;
}

/* Looks up the user. Returns an exit code, EX_OK when found. */
static int lda_lookup(const struct tern_settings *set, const struct lda_args *args,
		      struct auth **auth_r, pool_t pool, struct deliver_user *user_r)
{
	const char *error;
	if (auth_create_from_settings(set, auth_r, &error) < 0) {
		log_error(NULL, "userdb_failed", "error=%s", log_value(error));
		return EX_TEMPFAIL;
	}
	int ret = deliver_user_lookup(*auth_r, set, args->user, "lda", NULL, pool, user_r, &error);
	if (ret < 0) {
		log_error(NULL, "userdb_failed", "user=%s error=%s", log_value(args->user),
			  log_value(error));
		return EX_TEMPFAIL;
	}
	if (ret == 0) {
		fprintf(stderr, "tern-lda: unknown user: %s\n", args->user);
		return EX_NOUSER;
	}
	return EX_OK;
}

static int lda_deliver(const struct tern_settings *set, const struct lda_args *args,
		       struct deliver_spool *spool, const struct deliver_user *user)
{
	const char *error;
	if (deliver_user_drop_privileges(user, &error) < 0) {
		log_error(NULL, "delivery_failed", "user=%s error=%s", log_value(user->name),
			  log_value(error));
		return EX_TEMPFAIL;
	}
	const char *rcpt = args->rcpt != NULL ? args->rcpt : user->name;
	const char *mailbox = args->mailbox;
	if (mailbox == NULL && args->rcpt != NULL && set->lmtp.detail_to_mailbox) {
		/* -a user+detail@domain: the detail's mailbox, as over LMTP */
		const char *at = strrchr(args->rcpt, '@'), *name, *detail;
		const char *local = at == NULL ? args->rcpt :
			t_strndup(args->rcpt, (size_t)(at - args->rcpt));
		deliver_address_split_detail(local, set->lmtp.detail_delimiter, t_pool(),
					     &name, &detail);
		mailbox = detail;
	}
	struct deliver_source source;
	deliver_spool_source(spool, &source);
	struct deliver_message *msg = deliver_message_create(&source);
	const char *return_path = lda_message_return_path(spool);
	const char *sender = lda_sender(args, return_path);
	const char *session_id = t_strdup_printf("lda-%u", (unsigned int)getpid());
	const struct log_ctx log = { .session = session_id, .user = user->name };
	/* our own Return-Path with the message's line ending */
	const char *eol = lda_spool_eol(spool);
	const struct mail_deliver_input in = {
		.set = set, .log = &log, .session_id = session_id, .sender = sender,
		.rcpt = rcpt, .user = user, .mailbox = mailbox, .msg = msg,
		.trace_headers = return_path != NULL ? "" :
			t_strdup_printf("Return-Path: <%s>%s", sender, eol),
		.has_return_path = true,
		.can_reject = args->errors_to_stderr,
		.reject_to_caller = args->errors_to_stderr,
	};
	pool_t pool = pool_create("lda delivery", 4096);
	struct mail_deliver_result result;
	mail_deliver(&in, pool, &result);
	int code = lda_status_exit(&result, args);
	pool_destroy(&pool);
	deliver_message_destroy(&msg);
	return code;
}

int main(int argc, char **argv)
{
	struct lda_args args = { .user = NULL };
	if (lda_parse_args(argc, argv, &args) < 0) {
		lda_usage();
		return EX_USAGE;
	}
	signal(SIGPIPE, SIG_IGN);
	log_init("lda", LOG_TARGET_STDERR, LOG_LEVEL_WARNING);
	struct tern_config *config;
	const char *error;
	if (config_load(args.config_path, NULL, &config, &error) < 0) {
		fprintf(stderr, "tern-lda: %s\n", error);
		return EX_TEMPFAIL;
	}
	const struct tern_settings *set = config->set;
	enum log_level level;
	if (log_level_parse(set->log_level, &level) == 0)
		log_init("lda", strcmp(set->log_target, "syslog") == 0 ? LOG_TARGET_SYSLOG :
			 LOG_TARGET_STDERR, level);
	/* stdin in memory up to the spool limit, then in an unlinked file */
	const char *tmpdir = getenv("TMPDIR");
	struct deliver_spool spool;
	deliver_spool_init(&spool, t_strdup_printf("%s/tern-lda.", tmpdir != NULL &&
				tmpdir[0] != '\0' ? tmpdir : "/tmp"), set->lmtp.spool_memory_limit);
	if (lda_read_stdin(&spool) < 0) {
		fprintf(stderr, "tern-lda: reading the message failed: %s\n", strerror(errno));
		return EX_TEMPFAIL;
	}
	struct auth *auth = NULL;
	pool_t pool = pool_create("lda user", 1024);
	struct deliver_user user;
	int code = lda_lookup(set, &args, &auth, pool, &user);
	if (code == EX_OK) {
		lda_spool_skip_from_line(&spool);
		code = lda_deliver(set, &args, &spool, &user);
	}
	auth_destroy(&auth);
	pool_destroy(&pool);
	mail_deliver_deinit();
	deliver_spool_free(&spool);
	config_free(&config);
	return code;
}
