/* Sieve at delivery: the administrator's before scripts, the user's active
 * script and the after scripts, run in that order the way Pigeonhole runs
 * sieve_before/sieve_after: the next script runs only while the message is
 * still kept (a script whose actions cancelled the keep - fileinto,
 * redirect, discard, reject - ends the sequence, so a user script can't
 * undo an administrator's discard), a keep is carried over to the next
 * script, and a runtime error keeps the message and ends the sequence
 * (RFC 5228 §2.10.6). Compiled scripts are cached per process by path,
 * inode, mtime and size. The Sieve engine's actions are translated into
 * deliver actions here, in one place. */
#include "deliver-private.h"
#include "hash.h"
#include "mail-storage.h"
#include "mailbox-attribute.h"
#include "sieve-interp.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* compiled scripts kept per process; past it the cache starts over */
#define DELIVER_SCRIPT_CACHE_MAX 1000
/* *.sieve files run from one before/after directory */
#define DELIVER_SCRIPT_DIR_MAX 64

struct deliver_script {
	char *path;
	pool_t pool;
	dev_t dev;
	ino_t ino;
	struct timespec mtime;
	off_t size;
	struct sieve_ast *ast; /* NULL when it didn't compile */
	const char *error;     /* the compile error */
	/* it used more than sieve.max_cpu_time: not run again until the
	   file changes (Pigeonhole's resource usage limit) */
	bool excessive;
};

static struct hash_table *deliver_scripts;

static void deliver_script_free(struct deliver_script *script)
{
	free(script->path);
	pool_destroy(&script->pool);
	free(script);
}

void deliver_sieve_deinit(void)
{
	if (deliver_scripts == NULL)
		return;
	struct hash_iter iter;
	const void *key;
	void *value;
	hash_table_iter_init(deliver_scripts, &iter);
	while (hash_table_iter_next(&iter, &key, &value))
		deliver_script_free(value);
	hash_table_destroy(&deliver_scripts);
}

static int deliver_script_read(const char *path, uint64_t max_size, pool_t pool,
			       void **data_r, size_t *size_r, const char **error_r)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		*error_r = t_strdup_printf("open(%s) failed: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if ((uint64_t)st.st_size > max_size) {
		*error_r = t_strdup_printf("script is larger than sieve.max_script_size (%llu)",
					   (unsigned long long)max_size);
		close(fd);
		return -1;
	}
	char *data = p_malloc(pool, (size_t)st.st_size + 1);
	size_t used = 0;
	while (used < (size_t)st.st_size) {
		ssize_t n = read(fd, data + used, (size_t)st.st_size - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		used += (size_t)n;
	}
	close(fd);
	*data_r = data;
	*size_r = used;
	return 0;
}

static struct deliver_script *deliver_script_compile(struct deliver_ctx *ctx, const char *path,
						     const struct stat *st)
{
	struct deliver_script *script = i_zalloc(sizeof(*script));
	script->path = i_strdup(path);
	script->pool = pool_create("sieve script", 4096);
	script->dev = st->st_dev;
	script->ino = st->st_ino;
	script->mtime = st->st_mtim;
	script->size = st->st_size;
	const struct sieve_parser_limits limits = {
		.lexer = { .max_script_size = (size_t)ctx->set->sieve.max_script_size },
	};
	void *data;
	size_t size;
	const char *error;
	if (deliver_script_read(path, ctx->set->sieve.max_script_size, script->pool,
				&data, &size, &error) < 0 ||
	    sieve_compile(script->pool, data, size, &limits, &script->ast, &error) < 0) {
		script->ast = NULL;
		script->error = p_strdup(script->pool, error);
	}
	return script;
}

/* The compiled script at path: 1 found (check ->ast), 0 no such file. */
static int deliver_script_get(struct deliver_ctx *ctx, const char *path,
			      struct deliver_script **script_r)
{
	struct stat st;
	if (stat(path, &st) < 0) {
		if (errno != ENOENT && errno != ENOTDIR)
			log_error(ctx->in->log, "sieve_script_failed", "script=%s error=%s",
				  log_value(path), log_value(strerror(errno)));
		return 0;
	}
	if (deliver_scripts == NULL)
		deliver_scripts = hash_table_create(system_pool, str_hash,
						    (hash_cmp_fn_t *)strcmp);
	struct deliver_script *script = hash_table_lookup(deliver_scripts, path);
	if (script != NULL && script->dev == st.st_dev && script->ino == st.st_ino &&
	    script->size == st.st_size && script->mtime.tv_sec == st.st_mtim.tv_sec &&
	    script->mtime.tv_nsec == st.st_mtim.tv_nsec) {
		*script_r = script;
		return 1;
	}
	if (script != NULL) {
		(void)hash_table_remove(deliver_scripts, path);
		deliver_script_free(script);
	}
	script = deliver_script_compile(ctx, path, &st);
	hash_table_insert(deliver_scripts, script->path, script);
	*script_r = script;
	return 1;
}

static int name_cmp(const void *p1, const void *p2)
{
	return strcmp(*(const char *const *)p1, *(const char *const *)p2);
}

void deliver_scripts_add(const char *path, array_str_t *paths)
{
	struct stat st;
	if (path[0] == '\0' || stat(path, &st) < 0 || !S_ISDIR(st.st_mode)) {
		if (path[0] != '\0')
			array_push(paths, path);
		return;
	}
	DIR *dir = opendir(path);
	if (dir == NULL)
		return;
	array_str_t names;
	array_init(&names, t_pool(), 8);
	struct dirent *d;
	while ((d = readdir(dir)) != NULL && names.count < DELIVER_SCRIPT_DIR_MAX) {
		size_t len = strlen(d->d_name);
		if (d->d_name[0] != '.' && len > 6 && strcmp(d->d_name + len - 6, ".sieve") == 0)
			array_push(&names, t_strdup_printf("%s/%s", path, d->d_name));
	}
	closedir(dir);
	qsort(names.v, names.count, sizeof(names.v[0]), name_cmp);
	for (unsigned int i = 0; i < names.count; i++)
		array_push(paths, names.v[i]);
}

const char *deliver_expand_path(struct deliver_ctx *ctx, const char *tmpl)
{
	if (tmpl[0] == '\0')
		return NULL;
	string_t *str = t_str_new(128);
	for (const char *p = tmpl; *p != '\0'; p++) {
		if (*p != '%' || p[1] == '\0') {
			str_append_c(str, *p);
			continue;
		}
		p++;
		if (*p == 'h')
			str_append(str, ctx->in->user->home);
		else if (*p == 'u')
			str_append(str, ctx->in->user->name);
		else
			str_append_c(str, *p);
	}
	const char *path = str_c(str);
	if (path[0] != '/')
		path = t_strdup_printf("%s/%s", ctx->in->user->home, path);
	return p_strdup(ctx->pool, path);
}

static const char *deliver_user_script_path(struct deliver_ctx *ctx)
{
	return deliver_expand_path(ctx, ctx->set->sieve.script);
}

/* Pigeonhole keeps "<script>.log" for the user: errors of their own
   script, so they can find out why mail went to INBOX. */
static void deliver_sieve_user_log(struct deliver_ctx *ctx, const char *script,
				   const char *error)
{
	if (!ctx->set->sieve.user_log || ctx->user_script == NULL ||
	    strcmp(script, ctx->user_script) != 0)
		return;
	const char *path = t_strdup_printf("%s.log", script);
	struct stat st;
	int flags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW;
	if (stat(path, &st) == 0 && st.st_size > DELIVER_USER_LOG_MAX_SIZE)
		flags |= O_TRUNC;
	int fd = open(path, flags, 0600);
	if (fd < 0)
		return;
	char date[64];
	struct tm tm;
	time_t now = ctx->now;
	strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S", localtime_r(&now, &tm));
	const char *line = t_strdup_printf("%s: %s\n", date, error);
	(void)i_write_full(fd, line, strlen(line));
	close(fd);
}

/* --- the message as the interpreter reads it --- */

/* The engine reads spamtest and virustest verdicts as the first number
   of a header it is told; these names can't be real header fields (':'
   is not allowed in a field name), so they are served from
   deliver-spamtest.c's verdicts: for spamtest the verdict 1..10 as 0..9
   on a scale of 9, for virustest 1..5 as it is. */
#define DELIVER_SPAMTEST_HEADER "tern:spamtest"
#define DELIVER_VIRUSTEST_HEADER "tern:virustest"

static const char *const *deliver_verdict_header(unsigned int verdict, unsigned int offset)
{
	const char **values = t_new(const char *, 2);
	values[0] = verdict == 0 ? NULL : t_strdup_printf("%u", verdict - offset);
	return values;
}

static int deliver_sieve_get_headers(void *context, const char *name,
				     const char *const **values_r, const char **error_r)
{
	struct deliver_ctx *ctx = context;
	if (strcmp(name, DELIVER_SPAMTEST_HEADER) == 0)
		*values_r = deliver_verdict_header(ctx->spam_verdict, 1);
	else if (strcmp(name, DELIVER_VIRUSTEST_HEADER) == 0)
		*values_r = deliver_verdict_header(ctx->virus_verdict, 0);
	else
		*values_r = deliver_message_get_headers(ctx->msg, name);
	return 0;
}

static int deliver_sieve_get_envelope(void *context, enum sieve_envelope_part part,
				      const char **value_r, const char **error_r)
{
	struct deliver_ctx *ctx = context;
	if (ctx->imap != NULL) {
		/* RFC 6785 §4.6: there is no envelope on an IMAP event */
		*error_r = "envelope tests are not allowed for IMAP events";
		return -1;
	}
	switch (part) {
	case SIEVE_ENVELOPE_FROM:
		*value_r = ctx->in->sender;
		return 1;
	case SIEVE_ENVELOPE_TO:
	case SIEVE_ENVELOPE_ORIG_TO:
		*value_r = ctx->in->rcpt;
		return *value_r == NULL ? 0 : 1;
	case SIEVE_ENVELOPE_AUTH:
		break;
	}
	return 0;
}

/* The whole message for body, mime and editheader tests: read once, up
   to DELIVER_MAX_SIEVE_DATA (a bigger message is seen cut there). */
static int deliver_sieve_get_data(void *context, const unsigned char **data_r, size_t *size_r,
				  const char **error_r)
{
	struct deliver_ctx *ctx = context;
	if (ctx->data == NULL) {
		uint64_t size = I_MIN(deliver_message_size(ctx->msg), DELIVER_MAX_SIEVE_DATA);
		unsigned char *data = p_malloc(ctx->pool, (size_t)size + 1);
		size_t used = 0;
		while (used < size) {
			ssize_t n = ctx->msg->source.pread(ctx->msg->source.context, data + used,
							   (size_t)size - used, used);
			if (n < 0) {
				*error_r = "reading the message failed";
				return -1;
			}
			if (n == 0)
				break;
			used += (size_t)n;
		}
		ctx->data = data;
		ctx->data_size = used;
	}
	*data_r = ctx->data;
	*size_r = ctx->data_size;
	return 0;
}

static int deliver_sieve_get_size(void *context, uint64_t *size_r, const char **error_r)
{
	struct deliver_ctx *ctx = context;
	*size_r = deliver_message_size(ctx->msg);
	return 0;
}

/* RFC 6785 §3.8: on an IMAP event imap4flags starts from the stored
   message's flags; that a script read them also says its keep decides
   the flags (deliver-imapsieve.c) */
static int deliver_sieve_get_flags(void *context, const char *const **flags_r,
				   const char **error_r)
{
	struct deliver_ctx *ctx = context;
	*flags_r = NULL;
	if (ctx->imap != NULL) {
		*flags_r = ctx->imap->flags;
		ctx->imap->flags_read = true;
	}
	return 0;
}

static const struct sieve_message_vfuncs deliver_sieve_message_vfuncs = {
	.get_headers = deliver_sieve_get_headers,
	.get_envelope = deliver_sieve_get_envelope,
	.get_size = deliver_sieve_get_size,
	.get_data = deliver_sieve_get_data,
	.get_flags = deliver_sieve_get_flags,
};

/* --- what else the run asks of delivery (struct sieve_env) --- */

static int deliver_env_get_environment(void *context, const char *name, const char **value_r)
{
	struct deliver_ctx *ctx = context;
	if (ctx->imap != NULL && deliver_imapsieve_environment(ctx, name, value_r))
		return 1;
	/* RFC 5183 §4 */
	if (strcmp(name, "host") == 0 || strcmp(name, "domain") == 0) {
		*value_r = deliver_ctx_helo(ctx);
		return 1;
	}
	/* the engine says "post" for IMAP events (RFC 6785 §4.1) */
	if (strcmp(name, "phase") == 0 && ctx->imap == NULL) {
		*value_r = "during";
		return 1;
	}
	return 0;
}

static int deliver_env_mailbox_exists(void *context, const char *mailbox, const char **error_r)
{
	struct deliver_ctx *ctx = context;
	struct mailbox_status status;
	if (mailbox_get_status(ctx->user, mailbox, STATUS_MESSAGES, t_pool(), &status) == 0)
		return 1;
	const char *text;
	enum mail_error error = mail_user_get_error(ctx->user, &text);
	if (error == MAIL_ERROR_NOTFOUND || error == MAIL_ERROR_PARAMS)
		return 0;
	*error_r = text;
	return -1;
}

/* RFC 8579 §3 specialuse_exists: mailbox NULL asks for any mailbox */
static int deliver_env_specialuse_exists(void *context, const char *mailbox, const char *flag,
					 const char **error_r)
{
	return deliver_specialuse_has(context, mailbox, flag);
}

/* RFC 5490 §3.3, §3.4: metadata and servermetadata read METADATA
   entries (mailbox NULL: the server's) */
static int deliver_env_metadata_get(void *context, const char *mailbox, const char *entry,
				    const char **value_r, const char **error_r)
{
	struct deliver_ctx *ctx = context;
	enum mail_attribute_type type;
	const char *key, *text;
	struct mail_attribute attr;
	if (mail_attribute_entry_parse(entry, &type, &key, error_r) < 0)
		return 0;
	int ret = mail_attribute_get(ctx->user, mailbox == NULL ? MAIL_ATTRIBUTE_SERVER : mailbox,
				     type, key, NULL, t_pool(), &attr);
	if (ret > 0) {
		*value_r = t_strndup(attr.value, attr.size);
		return 1;
	}
	if (ret == 0 || mail_user_get_error(ctx->user, &text) == MAIL_ERROR_NOTFOUND)
		return 0;
	*error_r = text;
	return -1;
}

static int deliver_env_duplicate_check(void *context, const char *id, uint64_t period_secs,
				       const char **error_r)
{
	struct deliver_ctx *ctx = context;
	if (deliver_ctx_duplicate(ctx) < 0) {
		*error_r = "duplicate database not available";
		return -1;
	}
	return deliver_duplicate_exists(ctx->dup, "duplicate", id, strlen(id), ctx->now) ? 1 : 0;
}

/* RFC 6609: :personal scripts are NAME.sieve in sieve.script_dir,
   :global ones in sieve.global_dir */
static int deliver_env_include_load(void *context, enum sieve_include_location location,
				    const char *name, const struct sieve_ast **ast_r,
				    const char **error_r)
{
	struct deliver_ctx *ctx = context;
	if (strchr(name, '/') != NULL || name[0] == '.' || name[0] == '\0')
		return 0;
	const char *dir = location == SIEVE_INCLUDE_GLOBAL ?
		deliver_expand_path(ctx, ctx->set->sieve.global_dir) :
		deliver_expand_path(ctx, ctx->set->sieve.script_dir);
	if (dir == NULL)
		return 0;
	struct deliver_script *script;
	if (deliver_script_get(ctx, t_strdup_printf("%s/%s.sieve", dir, name), &script) == 0)
		return 0;
	if (script->ast == NULL) {
		*error_r = script->error;
		return -1;
	}
	*ast_r = script->ast;
	return 1;
}

/* --- the engine's actions to delivery's --- */

struct deliver_sieve_state {
	pool_t pool;
	deliver_action_array_t *actions;
	/* the running script's editheader changes, or NULL */
	struct deliver_header_edits *edits;
	/* the keep carried to the next script (or done at the end) */
	bool keep;
	/* IMAP event: the running script read the message's flags */
	bool flags_read;
	struct deliver_action keep_action;
};

static bool deliver_actions_have(const deliver_action_array_t *actions,
				 const struct deliver_action *act)
{
	for (unsigned int i = 0; i < actions->count; i++) {
		const struct deliver_action *a = &actions->v[i];
		if (a->type == act->type && a->target != NULL && act->target != NULL &&
		    strcmp(a->target, act->target) == 0)
			return true;
	}
	return false;
}

/* RFC 5232 flags: system flags to bits, the rest are keywords. */
static void deliver_sieve_flags(pool_t pool, const char *const *flags, uint32_t *flags_r,
				const char *const **keywords_r)
{
	static const struct { const char *name; uint32_t flag; } system_flags[] = {
		{ "\\Seen", MAIL_SEEN }, { "\\Answered", MAIL_ANSWERED },
		{ "\\Flagged", MAIL_FLAGGED }, { "\\Deleted", MAIL_DELETED },
		{ "\\Draft", MAIL_DRAFT },
	};
	*flags_r = 0;
	*keywords_r = NULL;
	if (flags == NULL)
		return;
	ARRAY(const char *) keywords;
	array_init(&keywords, pool, 4);
	for (unsigned int i = 0; flags[i] != NULL; i++) {
		unsigned int j;
		for (j = 0; j < N_ELEMENTS(system_flags); j++) {
			if (strcasecmp(flags[i], system_flags[j].name) == 0) {
				*flags_r |= system_flags[j].flag;
				break;
			}
		}
		/* \Recent and unknown \ flags can't be set (RFC 5232 §3) */
		if (j == N_ELEMENTS(system_flags) && flags[i][0] != '\\' && flags[i][0] != '\0')
			array_push(&keywords, p_strdup(pool, flags[i]));
	}
	if (keywords.count > 0) {
		array_push(&keywords, NULL);
		*keywords_r = keywords.v;
	}
}

static const struct deliver_vacation *deliver_sieve_vacation(pool_t pool,
							     const struct sieve_vacation *sv)
{
	struct deliver_vacation *v = p_malloc(pool, sizeof(*v));
	v->reason = sv->reason;
	v->mime = sv->mime;
	v->subject = sv->subject;
	v->from = sv->from;
	v->handle = sv->handle;
	v->period_secs = sv->period_secs;
	v->suppress_reason = sv->suppress_reason;
	return v;
}

/* Translates one action of a script's result. */
static void deliver_sieve_translate(struct deliver_sieve_state *state, const char *script,
				    const struct sieve_action *sa)
{
	struct deliver_action act = {
		.script = script, .line = sa->line, .target = sa->target,
		.specialuse = sa->specialuse,
	};
	/* RFC 5293: what is stored or redirected carries the edits made
	   before the action */
	if (sa->type == SIEVE_ACTION_KEEP || sa->type == SIEVE_ACTION_FILEINTO ||
	    sa->type == SIEVE_ACTION_REDIRECT)
		act.header = deliver_editheader_for_action(state->edits, sa);
	switch (sa->type) {
	case SIEVE_ACTION_KEEP:
		act.type = DELIVER_ACTION_STORE;
		act.target = NULL;
		act.implicit = sa->implicit;
		deliver_sieve_flags(state->pool, sa->flags, &act.flags, &act.keywords);
		act.flags_given = sa->flags != NULL || state->flags_read;
		state->keep = true;
		state->keep_action = act;
		return;
	case SIEVE_ACTION_FILEINTO:
		act.type = DELIVER_ACTION_STORE;
		break;
	case SIEVE_ACTION_REDIRECT:
		act.type = DELIVER_ACTION_REDIRECT;
		break;
	case SIEVE_ACTION_REJECT:
		act.type = DELIVER_ACTION_REJECT;
		break;
	case SIEVE_ACTION_EREJECT:
		act.type = DELIVER_ACTION_EREJECT;
		break;
	case SIEVE_ACTION_DISCARD:
		return;
	case SIEVE_ACTION_VACATION:
		act.type = DELIVER_ACTION_VACATION;
		act.vacation = deliver_sieve_vacation(state->pool, sa->vacation);
		array_push(state->actions, act);
		return;
	case SIEVE_ACTION_NOTIFY: {
		struct deliver_notify *n = p_malloc(state->pool, sizeof(*n));
		n->method = sa->notify->method;
		n->mailto = sa->notify->mailto;
		n->suppress_reason = sa->notify->suppress_reason;
		n->from = sa->notify->from;
		n->message = sa->notify->message;
		act.type = DELIVER_ACTION_NOTIFY;
		act.notify = n;
		array_push(state->actions, act);
		return;
	}
	}
	act.create = sa->create;
	deliver_sieve_flags(state->pool, sa->flags, &act.flags, &act.keywords);
	if (!deliver_actions_have(state->actions, &act))
		array_push(state->actions, act);
}

static double deliver_cpu_seconds(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) < 0)
		return 0;
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs one script. Returns 1 when the sequence may go on, 0 when it
   ends (the keep was cancelled, or an error kept the message). */
static int deliver_sieve_run_script(struct deliver_ctx *ctx, struct deliver_sieve_state *state,
				    const char *path)
{
	struct deliver_script *script;
	if (deliver_script_get(ctx, path, &script) == 0)
		return 1; /* a missing script does nothing */
	const char *error = script->error;
	if (script->excessive)
		error = "script used too much CPU time before; not run until it changes";
	if (error == NULL && ctx->imap != NULL)
		error = deliver_imapsieve_check_script(script->ast);
	struct sieve_result *result = NULL;
	if (error == NULL) {
		const struct sieve_exec_limits limits = {
			.max_actions = ctx->set->sieve.max_actions,
			.max_redirects = ctx->set->sieve.max_redirects,
			.max_cpu_ms = ctx->set->sieve.max_cpu_time_ms,
			.max_header_size = (unsigned int)ctx->set->sieve.editheader_max_header_size,
		};
		const struct sieve_message smsg = {
			.v = &deliver_sieve_message_vfuncs, .context = ctx,
		};
		const struct sieve_env env = {
			.context = ctx,
			.get_environment = deliver_env_get_environment,
			.mailbox_exists = deliver_env_mailbox_exists,
			.duplicate_check = deliver_env_duplicate_check,
			.include_load = deliver_env_include_load,
			.specialuse_exists = deliver_env_specialuse_exists,
			.metadata_get = deliver_env_metadata_get,
			.spam_header = DELIVER_SPAMTEST_HEADER, .spam_max = 9,
			.virus_header = DELIVER_VIRUSTEST_HEADER,
			.subaddress_delimiter = ctx->set->lmtp.detail_delimiter[0] == '\0' ? NULL :
				t_strndup(ctx->set->lmtp.detail_delimiter, 1),
			.vacation_min_period = ctx->set->sieve.vacation_min_period_ms / 1000,
			.vacation_max_period = ctx->set->sieve.vacation_max_period_ms / 1000,
			.now = ctx->now,
			.imap_event = ctx->imap != NULL,
			.editheader_protected = sieve_header_name_list_parse(ctx->pool,
				ctx->set->sieve.editheader_protected),
			.editheader_forbid_add = sieve_header_name_list_parse(ctx->pool,
				ctx->set->sieve.editheader_forbid_add),
			.editheader_forbid_delete = sieve_header_name_list_parse(ctx->pool,
				ctx->set->sieve.editheader_forbid_delete),
		};
		if (ctx->imap != NULL)
			ctx->imap->flags_read = false;
		double start = deliver_cpu_seconds();
		if (sieve_execute_env(script->ast, &smsg, &env, &limits, ctx->pool, &result,
				      &error) == 0 &&
		    (deliver_cpu_seconds() - start) * 1000.0 > ctx->set->sieve.max_cpu_time_ms) {
			script->excessive = true;
			error = "script used more than sieve.max_cpu_time";
		}
		if (error == NULL && ctx->imap != NULL)
			error = deliver_imapsieve_check_result(result);
	}
	if (error != NULL) {
		log_error(ctx->in->log, "sieve_failed", "user=%s script=%s error=%s",
			  log_value(ctx->in->user->name), log_value(path), log_value(error));
		deliver_sieve_user_log(ctx, path, error);
		/* RFC 5228 §2.10.6: this script's actions are dropped and
		   the message kept; no later script runs */
		state->keep = true;
		memset(&state->keep_action, 0, sizeof(state->keep_action));
		state->keep_action.type = DELIVER_ACTION_STORE;
		state->keep_action.implicit = true;
		return 0;
	}
	for (unsigned int i = 0; i < result->warnings.count; i++) {
		log_warning(ctx->in->log, "sieve_warning", "user=%s script=%s warning=%s",
			    log_value(ctx->in->user->name), log_value(path),
			    log_value(result->warnings.v[i]));
		deliver_sieve_user_log(ctx, path, result->warnings.v[i]);
	}
	state->keep = false;
	state->flags_read = ctx->imap != NULL && ctx->imap->flags_read;
	state->edits = deliver_editheader_begin(ctx, result, path);
	for (unsigned int i = 0; i < result->actions.count; i++)
		deliver_sieve_translate(state, p_strdup(ctx->pool, path), &result->actions.v[i]);
	for (unsigned int i = 0; i < result->duplicate_marks.count; i++) {
		const struct sieve_duplicate_mark *m = &result->duplicate_marks.v[i];
		/* RFC 7352 §3.3: a seen id keeps its time unless :last */
		if (m->seen && !m->last)
			continue;
		struct deliver_duplicate_id *d = array_append_space(&ctx->duplicate_marks);
		d->id = m->id;
		d->period_secs = m->period_secs;
	}
	return state->keep ? 1 : 0;
}

void deliver_sieve_run(struct deliver_ctx *ctx, deliver_action_array_t *actions)
{
	array_str_t paths;
	array_init(&paths, t_pool(), 8);
	ctx->user_script = deliver_user_script_path(ctx);
	deliver_scripts_add(ctx->set->sieve.before, &paths);
	if (ctx->user_script != NULL)
		array_push(&paths, ctx->user_script);
	deliver_scripts_add(ctx->set->sieve.after, &paths);
	deliver_sieve_run_paths(ctx, &paths, actions);
}

void deliver_sieve_run_paths(struct deliver_ctx *ctx, const array_str_t *script_paths,
			     deliver_action_array_t *actions)
{
	struct deliver_sieve_state state = { .pool = ctx->pool, .actions = actions, .keep = true };
	array_init(&ctx->duplicate_marks, ctx->pool, 2);
	/* a full cache starts over now, never while a run uses its trees */
	if (deliver_scripts != NULL &&
	    hash_table_count(deliver_scripts) >= DELIVER_SCRIPT_CACHE_MAX)
		deliver_sieve_deinit();
	state.keep_action.type = DELIVER_ACTION_STORE;
	state.keep_action.implicit = true;

	array_str_t paths = *script_paths;
	const char *error;
	if (paths.count > 0 && deliver_message_parse(ctx->msg, &error) < 0) {
		log_error(ctx->in->log, "sieve_failed", "user=%s error=%s",
			  log_value(ctx->in->user->name), log_value(error));
		paths.count = 0;
	}
	if (paths.count > 0)
		deliver_spamtest_prepare(ctx);
	for (unsigned int i = 0; i < paths.count; i++) {
		if (deliver_sieve_run_script(ctx, &state, paths.v[i]) == 0)
			break;
	}
	if (state.keep)
		array_push(actions, state.keep_action);
}
