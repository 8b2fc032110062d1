/* The runner's simulated world: the message and envelope under test, an
 * in-memory mail store with flags and metadata (RFC 5464 entries), the
 * outgoing mail queue, settings, errors, and the PASS/FAIL bookkeeping
 * with its output lines. Everything is bounded by the limits in
 * sieve-testsuite.h. */
#include "sieve-testsuite.h"
#include "mime-address.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* What pigeonhole's testsuite starts with, and what it falls back to when
   the message names no sender or recipient. */
static const char default_message[] =
	"From: sender@example.com\n"
	"To: recipient@example.org\n"
	"Subject: Frop!\n"
	"\n"
	"Friep!\n";

struct sieve_testsuite *sieve_testsuite_create(const char *test_path)
{
	pool_t pool = pool_create("sieve testsuite", 16384);
	struct sieve_testsuite *ts = p_new(pool, struct sieve_testsuite, 1);
	const char *slash = strrchr(test_path, '/');

	ts->pool = pool;
	ts->test_dir = slash == NULL ? "./" : p_strndup(pool, test_path, slash - test_path + 1);
	array_init(&ts->mailboxes, pool, 8);
	array_init(&ts->server_metadata, pool, 4);
	array_init(&ts->sent, pool, 8);
	array_init(&ts->settings, pool, 8);
	array_init(&ts->binaries, pool, 4);
	array_init(&ts->errors, pool, 8);
	array_init(&ts->messages, pool, 8);
	array_init(&ts->duplicates, pool, 4);
	(void)sieve_testsuite_mailbox_create(ts, "INBOX");
	sieve_testsuite_set_message(ts, default_message, sizeof(default_message) - 1);
	return ts;
}

void sieve_testsuite_destroy(struct sieve_testsuite **_ts)
{
	struct sieve_testsuite *ts = *_ts;

	if (ts == NULL)
		return;
	for (unsigned int i = 0; i < ts->messages.count; i++)
		sieve_testsuite_message_free(&ts->messages.v[i]);
	pool_destroy(&ts->pool);
	*_ts = NULL;
}

/* The first address of the first field called name, as "local@domain". */
static const char *message_first_address(struct sieve_testsuite *ts,
					 const struct sieve_testsuite_message *msg,
					 const char *name)
{
	const char *const *values = sieve_testsuite_message_headers(msg, t_pool(), name);
	struct mime_address_list list = { 0 };

	if (values[0] == NULL)
		return NULL;
	mime_address_parse(t_pool(), values[0], strlen(values[0]), 1, 0, &list);
	if (list.head == NULL || list.head->mailbox == NULL || *list.head->mailbox == '\0' ||
	    list.head->domain == NULL || list.head->invalid)
		return NULL;
	if (*list.head->domain == '\0')
		return p_strdup(ts->pool, list.head->mailbox);
	return p_strdup_printf(ts->pool, "%s@%s", list.head->mailbox, list.head->domain);
}

/* A message keeps the envelope it implies, as pigeonhole's runner does:
   recipient from Envelope-To or To, sender from Return-Path, Sender or
   From. */
static void message_set_envelope(struct sieve_testsuite *ts)
{
	const char *to, *from;

	if ((to = message_first_address(ts, ts->msg, "Envelope-To")) == NULL &&
	    (to = message_first_address(ts, ts->msg, "To")) == NULL)
		to = "recipient@example.com";
	if ((from = message_first_address(ts, ts->msg, "Return-Path")) == NULL &&
	    (from = message_first_address(ts, ts->msg, "Sender")) == NULL &&
	    (from = message_first_address(ts, ts->msg, "From")) == NULL)
		from = "sender@example.com";
	ts->envelope.from = from;
	ts->envelope.to = to;
	ts->envelope.orig_to = to;
	ts->envelope.auth = NULL;
}

static void testsuite_use_message(struct sieve_testsuite *ts, struct sieve_testsuite_message *msg)
{
	/* older messages stay until the end: the engine may still hold
	   strings of them */
	array_push(&ts->messages, msg);
	ts->msg = msg;
}

void sieve_testsuite_set_message(struct sieve_testsuite *ts, const char *data, size_t size)
{
	testsuite_use_message(ts, sieve_testsuite_message_parse(data, size));
	message_set_envelope(ts);
}

void sieve_testsuite_use_mail(struct sieve_testsuite *ts, const struct sieve_testsuite_message *msg,
			      const char *envelope_from, const char *envelope_to)
{
	testsuite_use_message(ts, sieve_testsuite_message_parse(msg->data, msg->size));
	if (envelope_from == NULL && envelope_to == NULL) {
		message_set_envelope(ts);
		return;
	}
	ts->envelope.from = p_strdup(ts->pool, envelope_from);
	ts->envelope.to = p_strdup(ts->pool, envelope_to);
	ts->envelope.orig_to = ts->envelope.to;
}

/* "<a@b>" or "a@b"; "<>" and "" are the null path. */
static const char *envelope_path(struct sieve_testsuite *ts, const char *value)
{
	size_t len = strlen(value);

	if (len >= 2 && value[0] == '<' && value[len - 1] == '>')
		return p_strndup(ts->pool, value + 1, len - 2);
	return p_strdup(ts->pool, value);
}

int sieve_testsuite_set_envelope(struct sieve_testsuite *ts, const char *member, const char *value)
{
	if (strcasecmp(member, "from") == 0)
		ts->envelope.from = envelope_path(ts, value);
	else if (strcasecmp(member, "to") == 0) {
		ts->envelope.to = envelope_path(ts, value);
		ts->envelope.orig_to = ts->envelope.to;
	} else if (strcasecmp(member, "orig_to") == 0)
		ts->envelope.orig_to = envelope_path(ts, value);
	else if (strcasecmp(member, "auth") == 0)
		ts->envelope.auth = p_strdup(ts->pool, value);
	else
		return -1;
	return 0;
}

struct sieve_testsuite_mailbox *sieve_testsuite_mailbox_find(struct sieve_testsuite *ts,
							     const char *name)
{
	for (unsigned int i = 0; i < ts->mailboxes.count; i++) {
		const char *box = ts->mailboxes.v[i]->name;

		/* RFC 3501 §5.1: INBOX is case-insensitive */
		if (strcmp(box, name) == 0 ||
		    (strcasecmp(box, "INBOX") == 0 && strcasecmp(name, "INBOX") == 0))
			return ts->mailboxes.v[i];
	}
	return NULL;
}

struct sieve_testsuite_mailbox *sieve_testsuite_mailbox_create(struct sieve_testsuite *ts,
							       const char *name)
{
	struct sieve_testsuite_mailbox *box = sieve_testsuite_mailbox_find(ts, name);

	if (box != NULL)
		return box;
	if (ts->mailboxes.count >= SIEVE_TESTSUITE_MAX_MAILBOXES)
		return NULL;
	box = p_new(ts->pool, struct sieve_testsuite_mailbox, 1);
	box->name = p_strdup(ts->pool, name);
	array_init(&box->mails, ts->pool, 4);
	array_init(&box->metadata, ts->pool, 2);
	array_push(&ts->mailboxes, box);
	return box;
}

int sieve_testsuite_mailbox_save(struct sieve_testsuite *ts, struct sieve_testsuite_mailbox *box,
				 const struct sieve_testsuite_message *msg,
				 const char *const *flags, unsigned int flag_count)
{
	struct sieve_testsuite_mail *mail;

	if (box->mails.count >= SIEVE_TESTSUITE_MAX_MAILS)
		return -1;
	mail = array_append_space(&box->mails);
	mail->msg = sieve_testsuite_message_parse(msg->data, msg->size);
	array_push(&ts->messages, mail->msg);
	array_init(&mail->flags, ts->pool, flag_count + 1);
	for (unsigned int i = 0; i < flag_count; i++)
		array_push(&mail->flags, p_strdup(ts->pool, flags[i]));
	return 0;
}

static struct sieve_testsuite_metadata *
metadata_find(struct sieve_testsuite *ts, const char *mailbox, const char *entry, bool create)
{
	struct sieve_testsuite_mailbox *box = NULL;
	struct sieve_testsuite_metadata *md;

	if (mailbox != NULL && (box = sieve_testsuite_mailbox_find(ts, mailbox)) == NULL)
		return NULL;
	sieve_testsuite_metadata_array_t *list = box == NULL ? &ts->server_metadata : &box->metadata;
	for (unsigned int i = 0; i < list->count; i++) {
		if (strcasecmp(list->v[i].entry, entry) == 0)
			return &list->v[i];
	}
	if (!create || list->count >= SIEVE_TESTSUITE_MAX_SETTINGS)
		return NULL;
	md = array_append_space(list);
	md->entry = p_strdup(ts->pool, entry);
	return md;
}

int sieve_testsuite_metadata_set(struct sieve_testsuite *ts, const char *mailbox,
				 const char *entry, const char *value)
{
	struct sieve_testsuite_metadata *md = metadata_find(ts, mailbox, entry, true);

	if (md == NULL)
		return -1;
	md->value = value == NULL ? NULL : p_strdup(ts->pool, value);
	return 0;
}

const char *sieve_testsuite_metadata_get(struct sieve_testsuite *ts, const char *mailbox,
					 const char *entry)
{
	struct sieve_testsuite_metadata *md = metadata_find(ts, mailbox, entry, false);

	return md == NULL ? NULL : md->value;
}

int sieve_testsuite_send(struct sieve_testsuite *ts, const char *envelope_from,
			 const char *envelope_to, const void *data, size_t size)
{
	struct sieve_testsuite_sent *sent;

	if (ts->sent.count >= SIEVE_TESTSUITE_MAX_SENT)
		return -1;
	sent = array_append_space(&ts->sent);
	sent->envelope_from = p_strdup(ts->pool, envelope_from == NULL ? "" : envelope_from);
	sent->envelope_to = p_strdup(ts->pool, envelope_to);
	sent->msg = sieve_testsuite_message_parse(data, size);
	array_push(&ts->messages, sent->msg);
	return 0;
}

int sieve_testsuite_setting_set(struct sieve_testsuite *ts, const char *name, const char *value)
{
	struct sieve_testsuite_setting *setting;

	/* settings are trimmed as in a configuration file */
	if (value != NULL) {
		size_t len;

		while (*value == ' ' || *value == '\t')
			value++;
		len = strlen(value);
		while (len > 0 && (value[len - 1] == ' ' || value[len - 1] == '\t'))
			len--;
		value = t_strndup(value, len);
	}

	for (unsigned int i = 0; i < ts->settings.count; i++) {
		if (strcmp(ts->settings.v[i].name, name) == 0) {
			ts->settings.v[i].value = value == NULL ? NULL : p_strdup(ts->pool, value);
			return 0;
		}
	}
	if (value == NULL)
		return 0;
	if (ts->settings.count >= SIEVE_TESTSUITE_MAX_SETTINGS)
		return -1;
	setting = array_append_space(&ts->settings);
	setting->name = p_strdup(ts->pool, name);
	setting->value = p_strdup(ts->pool, value);
	return 0;
}

const char *sieve_testsuite_setting_get(struct sieve_testsuite *ts, const char *name)
{
	for (unsigned int i = 0; i < ts->settings.count; i++) {
		if (strcmp(ts->settings.v[i].name, name) == 0)
			return ts->settings.v[i].value;
	}
	return NULL;
}

void sieve_testsuite_errors_clear(struct sieve_testsuite *ts)
{
	array_clear(&ts->errors);
}

void sieve_testsuite_error_add(struct sieve_testsuite *ts, const char *text)
{
	if (ts->errors.count >= SIEVE_TESTSUITE_MAX_ERRORS)
		return;
	array_push(&ts->errors, p_strdup(ts->pool, text));
	if (ts->verbose)
		printf("   error: %s\n", text);
}

/* Paths come from the test script: relative to its directory, and
   ".." is allowed (the examples live in ../../examples), as the runner
   only ever reads. */
int sieve_testsuite_read_file(struct sieve_testsuite *ts, pool_t pool, const char *path,
			      const char **data_r, size_t *size_r, const char **error_r)
{
	const char *full = path[0] == '/' ? path : t_strconcat(ts->test_dir, path, NULL);
	struct stat st;
	char *data;
	ssize_t ret;
	int fd;

	if ((fd = open(full, O_RDONLY)) < 0) {
		if (errno == ENOENT)
			return 0;
		*error_r = t_strdup_printf("open(%s) failed: %s", full, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > SIEVE_TESTSUITE_MAX_SCRIPT_SIZE) {
		*error_r = t_strdup_printf("%s: not a regular file or too large", full);
		i_close_fd(&fd);
		return -1;
	}
	data = p_malloc(pool, (size_t)st.st_size + 1);
	ret = read(fd, data, (size_t)st.st_size);
	i_close_fd(&fd);
	if (ret != st.st_size) {
		*error_r = t_strdup_printf("read(%s) failed", full);
		return -1;
	}
	*data_r = data;
	*size_r = (size_t)ret;
	return 1;
}

void sieve_testsuite_test_begin(struct sieve_testsuite *ts, const char *name)
{
	ts->test_name = p_strdup(ts->pool, name);
	ts->fail_reason = NULL;
	ts->test_count++;
}

void sieve_testsuite_test_fail(struct sieve_testsuite *ts, const char *reason)
{
	if (ts->fail_reason == NULL)
		ts->fail_reason = p_strdup(ts->pool, reason == NULL ? "" : reason);
}

void sieve_testsuite_test_end(struct sieve_testsuite *ts)
{
	const char *name = ts->test_name == NULL ? "" : ts->test_name;

	if (ts->fail_reason != NULL) {
		ts->fail_count++;
		printf("FAIL %s: %s\n", name, ts->fail_reason);
	} else {
		printf("PASS %s\n", name);
	}
	fflush(stdout);
	ts->test_name = NULL;
	ts->fail_reason = NULL;
}
