/* Sieve on IMAP events (RFC 6785), the way Pigeonhole's imapsieve plugin
 * behaves: the scripts of the administrator's imapsieve_mailbox blocks
 * whose mailbox, cause and source match run before and after the user's
 * own script - the METADATA entry /shared/imapsieve/script of the mailbox,
 * else the server's (§2.3.1), naming a ManageSieve script, used only with
 * imapsieve.url set. Each message runs the sequence with the same rules
 * as delivery (deliver-sieve.c), then its actions are done on the stored
 * message (§3): keep leaves it, taking the flags imap4flags decided
 * (§3.8); fileinto stores a new copy (§3.3); redirect and notify go out
 * through the submission path with the user's address as the sender
 * (§3.4, §3.6); a keep that was cancelled - and every fileinto or
 * redirect done - flags it \Deleted (§2.2.4), expunging it too with
 * imapsieve.expunge_discarded. reject, ereject and vacation are errors
 * (§3.11), envelope tests too (§4.6). Nothing done here is an IMAP event
 * itself, so scripts can't loop (§2.2.3, §6). */
#include "deliver-imapsieve.h"
#include "deliver-spool.h"
#include "deliver-private.h"
#include "istream.h"
#include "mail-storage.h"
#include "mailbox-attribute.h"
#include "sieve-interp.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* longest script name taken from METADATA */
#define IMAPSIEVE_SCRIPT_NAME_MAX 255
/* message bytes held in memory while the scripts run; more go to an
   unlinked file in the home */
#define IMAPSIEVE_SPOOL_MEMORY (256 * 1024)

static const char *const imapsieve_cause_names[] = {
	[DELIVER_IMAPSIEVE_APPEND] = "APPEND",
	[DELIVER_IMAPSIEVE_COPY] = "COPY",
	[DELIVER_IMAPSIEVE_FLAG] = "FLAG",
};

/* One event in progress. */
struct imapsieve_ctx {
	const struct deliver_imapsieve_session *session;
	const struct deliver_imapsieve_event *event;
	struct deliver_user duser;
	struct mail_deliver_input in;
	array_str_t paths;
	const char *user_script;
	struct mailbox *box;
	pool_t pool;
};


const char *deliver_imapsieve_capability(const struct tern_settings *set)
{
	if (set->imapsieve.url[0] == '\0')
		return NULL;
	return t_strdup_printf("IMAPSIEVE=%s", set->imapsieve.url);
}

/* '*' any characters, '?' one; mailbox names are compared as given
   ("INBOX" canonical). */
static bool imapsieve_pattern_match(const char *pattern, const char *name)
{
	const char *star = NULL, *resume = NULL;
	while (*name != '\0') {
		if (*pattern == '*') {
			star = pattern++;
			resume = name;
		} else if (*pattern == '?' || *pattern == *name) {
			pattern++;
			name++;
		} else if (star != NULL) {
			pattern = star + 1;
			name = ++resume;
		} else {
			return false;
		}
	}
	while (*pattern == '*')
		pattern++;
	return *pattern == '\0';
}

static bool imapsieve_causes_have(const char *causes, enum deliver_imapsieve_cause cause)
{
	const char *name = imapsieve_cause_names[cause];
	size_t len = strlen(name);
	for (const char *p = causes; *p != '\0';) {
		while (*p == ' ' || *p == ',')
			p++;
		size_t n = strcspn(p, " ,");
		if (n == len && strncasecmp(p, name, len) == 0)
			return true;
		p += n;
	}
	return false;
}

static bool imapsieve_rule_matches(const struct imapsieve_mailbox_settings *rule,
				   enum deliver_imapsieve_cause cause, const char *mailbox,
				   const char *src_mailbox)
{
	if (rule->name[0] == '\0' || !imapsieve_pattern_match(rule->name, mailbox) ||
	    !imapsieve_causes_have(rule->causes, cause))
		return false;
	return cause != DELIVER_IMAPSIEVE_COPY || src_mailbox == NULL ||
		imapsieve_pattern_match(rule->from, src_mailbox);
}

/* A ManageSieve script name usable as a file name. */
static bool imapsieve_script_name_valid(const char *name, size_t len)
{
	if (len == 0 || len > IMAPSIEVE_SCRIPT_NAME_MAX || name[0] == '.')
		return false;
	for (size_t i = 0; i < len; i++) {
		if ((unsigned char)name[i] < ' ' || name[i] == '/' || name[i] == 0x7f)
			return false;
	}
	return true;
}

/* RFC 6785 §2.3.1: the mailbox's entry, else the server's; an empty value
   means no script (and the server's is not tried). Returns 1 with the
   value, 0 if neither entry exists, -1 on an error. */
static int imapsieve_script_entry(struct mail_user *user, const char *mailbox,
				  const char **name_r, size_t *len_r)
{
	struct mail_attribute attr;
	int ret = mail_attribute_get(user, mailbox, MAIL_ATTRIBUTE_SHARED, "imapsieve/script",
				     NULL, t_pool(), &attr);
	if (ret == 0)
		ret = mail_attribute_get(user, MAIL_ATTRIBUTE_SERVER, MAIL_ATTRIBUTE_SHARED,
					 "imapsieve/script", NULL, t_pool(), &attr);
	if (ret > 0) {
		*name_r = (const char *)attr.value;
		*len_r = attr.size;
	}
	return ret;
}

/* The user's script for the mailbox: its path, or NULL (logged when an
   entry names an unusable or missing script). */
static const char *imapsieve_user_script(const struct deliver_imapsieve_session *s,
					 struct deliver_ctx *ctx, const char *mailbox)
{
	const char *name, *text;
	size_t len;
	if (s->set->imapsieve.url[0] == '\0')
		return NULL;
	int ret = imapsieve_script_entry(s->user, mailbox, &name, &len);
	if (ret < 0) {
		(void)mail_user_get_error(s->user, &text);
		log_error(s->log, "imapsieve_failed", "user=%s mailbox=%s error=%s",
			  log_value(s->username), log_value(mailbox), log_value(text));
		return NULL;
	}
	if (ret == 0 || len == 0)
		return NULL;
	if (!imapsieve_script_name_valid(name, len) || memchr(name, '\0', len) != NULL) {
		log_warning(s->log, "imapsieve_script_invalid", "user=%s mailbox=%s script=%s",
			    log_value(s->username), log_value(mailbox),
			    log_value(t_strndup(name, len)));
		return NULL;
	}
	const char *dir = deliver_expand_path(ctx, s->set->sieve.script_dir);
	const char *path = dir == NULL ? NULL :
		t_strdup_printf("%s/%.*s.sieve", dir, (int)len, name);
	struct stat st;
	if (path == NULL || stat(path, &st) < 0) {
		/* §2.3.1: a name the ManageSieve server doesn't have runs
		   nothing */
		log_warning(s->log, "imapsieve_script_missing", "user=%s mailbox=%s script=%s path=%s",
			    log_value(s->username), log_value(mailbox),
			    log_value(t_strndup(name, len)), log_value(path == NULL ? "" : path));
		return NULL;
	}
	return p_strdup(ctx->pool, path);
}

/* The scripts of the event in order; ctx is for path expansion. */
static void imapsieve_scripts(const struct deliver_imapsieve_session *s, struct deliver_ctx *ctx,
			      enum deliver_imapsieve_cause cause, const char *mailbox,
			      const char *src_mailbox, array_str_t *paths,
			      const char **user_script_r)
{
	const struct tern_settings *set = s->set;
	unsigned int count = array_is_created(&set->imapsieve_mailboxes) ?
		set->imapsieve_mailboxes.count : 0;
	for (unsigned int i = 0; i < count; i++) {
		const struct imapsieve_mailbox_settings *rule = set->imapsieve_mailboxes.v[i];
		if (imapsieve_rule_matches(rule, cause, mailbox, src_mailbox))
			deliver_scripts_add(rule->before, paths);
	}
	*user_script_r = imapsieve_user_script(s, ctx, mailbox);
	if (*user_script_r != NULL)
		array_push(paths, *user_script_r);
	for (unsigned int i = 0; i < count; i++) {
		const struct imapsieve_mailbox_settings *rule = set->imapsieve_mailboxes.v[i];
		if (imapsieve_rule_matches(rule, cause, mailbox, src_mailbox))
			deliver_scripts_add(rule->after, paths);
	}
}

static const char *imapsieve_email(const struct deliver_imapsieve_session *s)
{
	if (s->email != NULL && s->email[0] != '\0')
		return s->email;
	if (strchr(s->username, '@') != NULL)
		return s->username;
	const char *host = s->set->lmtp.hostname;
	if (host[0] == '\0') {
		char buf[256];
		host = gethostname(buf, sizeof(buf) - 1) == 0 ? t_strdup(buf) : "localhost";
	}
	return t_strdup_printf("%s@%s", s->username, host);
}

static void imapsieve_ctx_init(struct imapsieve_ctx *ictx,
			       const struct deliver_imapsieve_session *s,
			       const struct deliver_imapsieve_event *event, pool_t pool)
{
	memset(ictx, 0, sizeof(*ictx));
	ictx->session = s;
	ictx->event = event;
	ictx->pool = pool;
	ictx->duser.name = s->username;
	ictx->duser.home = s->home;
	ictx->duser.uid = (uid_t)-1;
	ictx->duser.gid = (gid_t)-1;
	/* the address only matters when a message runs the scripts */
	const char *email = event->count == 0 ? s->username : p_strdup(pool, imapsieve_email(s));
	ictx->in = (struct mail_deliver_input){
		.set = s->set, .log = s->log, .session_id = "imapsieve",
		/* §3.4: redirects are sent as the mailbox's owner */
		.sender = email, .rcpt = email, .user = &ictx->duser,
		.trace_headers = "", .has_return_path = true,
	};
	array_init(&ictx->paths, pool, 8);
}

/* A context for path expansion only (no message yet). */
static void imapsieve_bare_ctx(struct imapsieve_ctx *ictx, struct deliver_ctx *ctx_r)
{
	memset(ctx_r, 0, sizeof(*ctx_r));
	ctx_r->in = &ictx->in;
	ctx_r->set = ictx->session->set;
	ctx_r->pool = ictx->pool;
	ctx_r->user = ictx->session->user;
}

/* Nothing can run: no user scripts and no administrator's blocks. The
   common case, checked before anything else on every command. */
static bool imapsieve_off(const struct tern_settings *set)
{
	return set->imapsieve.url[0] == '\0' &&
		(!array_is_created(&set->imapsieve_mailboxes) ||
		 set->imapsieve_mailboxes.count == 0);
}

int deliver_imapsieve_wanted(const struct deliver_imapsieve_session *session,
			     enum deliver_imapsieve_cause cause, const char *mailbox,
			     const char *src_mailbox)
{
	if (imapsieve_off(session->set))
		return 0;
	struct imapsieve_ctx ictx;
	struct deliver_ctx ctx;
	const struct deliver_imapsieve_event event = { .cause = cause, .mailbox = mailbox };
	imapsieve_ctx_init(&ictx, session, &event, t_pool());
	imapsieve_bare_ctx(&ictx, &ctx);
	const char *user_script;
	imapsieve_scripts(session, &ctx, cause, mailbox, src_mailbox, &ictx.paths, &user_script);
	return ictx.paths.count > 0 ? 1 : 0;
}

/* --- what the scripts see --- */

bool deliver_imapsieve_environment(struct deliver_ctx *ctx, const char *name,
				   const char **value_r)
{
	const struct deliver_imap_event *ev = ctx->imap;
	if (strcmp(name, "imap.user") == 0)
		*value_r = ev->user;
	else if (strcmp(name, "imap.email") == 0)
		*value_r = ev->email;
	else if (strcmp(name, "imap.cause") == 0)
		*value_r = ev->cause;
	else if (strcmp(name, "imap.mailbox") == 0)
		*value_r = ev->mailbox;
	else if (strcmp(name, "imap.changedflags") == 0)
		*value_r = ev->changed_flags;
	else
		return false;
	return true;
}

static bool imapsieve_forbidden(const char *name)
{
	return strcmp(name, "reject") == 0 || strcmp(name, "ereject") == 0 ||
		strcmp(name, "vacation") == 0 || strcmp(name, "vacation-seconds") == 0;
}

const char *deliver_imapsieve_check_script(const struct sieve_ast *ast)
{
	for (unsigned int i = 0; ast != NULL && i < ast->extensions.count; i++) {
		if (imapsieve_forbidden(ast->extensions.v[i]))
			return t_strdup_printf("\"%s\" is not allowed for IMAP events "
					       "(RFC 6785 §3.11)", ast->extensions.v[i]);
	}
	return NULL;
}

const char *deliver_imapsieve_check_result(const struct sieve_result *result)
{
	for (unsigned int i = 0; i < result->actions.count; i++) {
		enum sieve_action_type type = result->actions.v[i].type;
		if (type == SIEVE_ACTION_REJECT || type == SIEVE_ACTION_EREJECT ||
		    type == SIEVE_ACTION_VACATION)
			return t_strdup_printf("line %u: %s is not allowed for IMAP events "
					       "(RFC 6785 §3.11)", result->actions.v[i].line,
					       sieve_action_type_name(type));
	}
	return NULL;
}

/* The record's flags as imap4flags names, NULL-terminated. */
static const char *const *imapsieve_flag_names(pool_t pool, const struct mail_record *rec)
{
	static const struct { uint32_t flag; const char *name; } names[] = {
		{ MAIL_ANSWERED, "\\Answered" }, { MAIL_FLAGGED, "\\Flagged" },
		{ MAIL_DELETED, "\\Deleted" }, { MAIL_SEEN, "\\Seen" },
		{ MAIL_DRAFT, "\\Draft" },
	};
	ARRAY(const char *) list;
	array_init(&list, pool, 8);
	for (unsigned int i = 0; i < N_ELEMENTS(names); i++) {
		if ((rec->flags & names[i].flag) != 0)
			array_push(&list, names[i].name);
	}
	for (unsigned int i = 0; rec->keywords != NULL && rec->keywords[i] != NULL; i++)
		array_push(&list, p_strdup(pool, rec->keywords[i]));
	array_push(&list, NULL);
	return list.v;
}

/* --- the message, copied out of the mailbox --- */

/* Copies message uid of box. Returns 1, 0 if it was expunged, -1. */
static int imapsieve_spool_fill(struct deliver_spool *spool, struct mailbox *box,
				uint32_t uid)
{
	struct istream *input;
	uint64_t size;
	int ret = mailbox_open_message(box, uid, &input, &size);
	if (ret <= 0)
		return ret;
	ssize_t n;
	while ((n = i_stream_read(input)) > 0 || i_stream_get_data_size(input) > 0) {
		size_t avail;
		const unsigned char *data = i_stream_get_data(input, &avail);
		if (deliver_spool_append(spool, data, avail) < 0) {
			n = -2;
			break;
		}
		i_stream_skip(input, avail);
		if (n < 0)
			break;
	}
	ret = n == -2 || i_stream_get_error(input) != 0 ? -1 : 1;
	i_stream_destroy(&input);
	return ret;
}

/* --- the actions on the stored message --- */

/* §3.3: a new copy in another mailbox; 1 stored, -1 not (logged). */
static int imapsieve_fileinto(struct deliver_ctx *ctx, const struct deliver_action *act)
{
	const char *name = mailbox_name_canonical(act->target);
	const char *special = act->specialuse == NULL ? NULL :
		deliver_specialuse_mailbox(ctx, act->specialuse);
	if (special != NULL)
		name = special;
	int ret = deliver_store_into(ctx, name, act);
	if (ret == 0 && act->create &&
	    (mailbox_create(ctx->user, name, MAILBOX_SPECIAL_NONE) == 0 ||
	     mail_user_get_error(ctx->user, &(const char *){NULL}) == MAIL_ERROR_EXISTS))
		ret = deliver_store_into(ctx, name, act);
	if (ret == 0)
		log_warning(ctx->in->log, "fileinto_missing", "user=%s mailbox=%s",
			    log_value(ctx->in->user->name), log_value(name));
	return ret > 0 ? 1 : -1;
}

static bool imapsieve_keywords_equal(const char *const *a, const char *const *b)
{
	unsigned int na = 0, nb = 0;
	while (a != NULL && a[na] != NULL)
		na++;
	while (b != NULL && b[nb] != NULL)
		nb++;
	if (na != nb)
		return false;
	for (unsigned int i = 0; i < na; i++) {
		unsigned int j = 0;
		while (j < nb && strcasecmp(a[i], b[j]) != 0)
			j++;
		if (j == nb)
			return false;
	}
	return true;
}

/* §3.8: the flags imap4flags left, as if a client had stored them. */
static int imapsieve_keep_flags(struct deliver_ctx *ctx, struct mailbox *box, uint32_t seq,
				const struct mail_record *rec, const struct deliver_action *keep)
{
	if (!keep->flags_given ||
	    ((rec->flags & MAIL_FLAGS_MASK) == keep->flags &&
	     imapsieve_keywords_equal(rec->keywords, keep->keywords)))
		return 0;
	const struct mail_flags_change change = {
		.modify = MAIL_FLAGS_REPLACE, .flags = keep->flags, .keywords = keep->keywords,
	};
	return mailbox_update_flags(box, &seq, 1, &change, ctx->pool, NULL);
}

/* §2.2.4: the original is flagged \Deleted, and expunged on its own when
   configured (like a UID EXPUNGE of just this message). */
static int imapsieve_discard(struct deliver_ctx *ctx, struct mailbox *box, uint32_t seq,
			     uint32_t uid, bool *expunged_r)
{
	const struct mail_flags_change change = { .modify = MAIL_FLAGS_ADD, .flags = MAIL_DELETED };
	*expunged_r = false;
	if (mailbox_update_flags(box, &seq, 1, &change, ctx->pool, NULL) < 0)
		return -1;
	if (!ctx->set->imapsieve.expunge_discarded)
		return 0;
	if (mailbox_expunge(box, &uid, 1) < 0)
		return -1;
	*expunged_r = true;
	return 0;
}

/* Carries out one message's actions; returns what became of it. */
static const char *imapsieve_execute(struct deliver_ctx *ctx, struct mailbox *box, uint32_t seq,
				     const struct mail_record *rec,
				     const deliver_action_array_t *actions)
{
	const struct deliver_action *keep = NULL;
	bool failed = false;
	for (unsigned int i = 0; i < actions->count; i++) {
		const struct deliver_action *act = &actions->v[i];
		switch (act->type) {
		case DELIVER_ACTION_STORE:
			if (act->target == NULL)
				keep = act;
			else if (imapsieve_fileinto(ctx, act) < 0)
				failed = true;
			break;
		case DELIVER_ACTION_REDIRECT:
			if (deliver_redirect(ctx, act) <= 0)
				failed = true;
			break;
		case DELIVER_ACTION_NOTIFY:
			(void)deliver_notify_execute(ctx, act);
			break;
		default:
			/* reject, ereject, vacation: refused before (§3.11) */
			break;
		}
	}
	const char *text;
	if (keep != NULL) {
		if (imapsieve_keep_flags(ctx, box, seq, rec, keep) < 0)
			goto storage_failed;
		return "kept";
	}
	if (failed) {
		/* what the script wanted didn't all happen: the message stays
		   rather than be lost */
		return "kept (an action failed)";
	}
	bool expunged;
	if (imapsieve_discard(ctx, box, seq, rec->uid, &expunged) < 0)
		goto storage_failed;
	return expunged ? "expunged" : "deleted";
storage_failed:
	(void)mail_user_get_error(ctx->user, &text);
	log_error(ctx->in->log, "imapsieve_failed", "user=%s mailbox=%s uid=%u error=%s",
		  log_value(ctx->in->user->name), log_value(mailbox_get_name(box)), rec->uid,
		  log_value(text));
	return "kept (storage error)";
}

static void imapsieve_run_message(struct imapsieve_ctx *ictx, uint32_t uid, const char *changed)
{
	const struct deliver_imapsieve_session *s = ictx->session;
	uint32_t seq = mailbox_view_seq(ictx->box, uid);
	struct mail_record rec;
	pool_t pool = pool_create("imapsieve message", 16 * 1024);
	/* a copy of the stored message the scripts and actions read */
	struct deliver_spool spool;
	deliver_spool_init(&spool, t_strdup_printf("%s/.tern-imapsieve.", s->home),
			   IMAPSIEVE_SPOOL_MEMORY);
	int ret = seq == 0 ? 0 : mailbox_get_record(ictx->box, seq, pool, &rec);
	if (ret > 0)
		ret = imapsieve_spool_fill(&spool, ictx->box, uid);
	if (ret <= 0) {
		if (ret < 0)
			log_error(s->log, "imapsieve_failed", "user=%s mailbox=%s uid=%u error=%s",
				  log_value(s->username), log_value(ictx->event->mailbox), uid,
				  "reading the message failed");
		deliver_spool_free(&spool);
		pool_destroy(&pool);
		return;
	}
	struct deliver_source source;
	deliver_spool_source(&spool, &source);
	struct deliver_imap_event ev = {
		.user = s->username, .email = ictx->in.sender,
		.cause = imapsieve_cause_names[ictx->event->cause],
		.mailbox = ictx->event->mailbox, .changed_flags = changed,
		.flags = imapsieve_flag_names(pool, &rec),
	};
	struct mail_deliver_result result;
	memset(&result, 0, sizeof(result));
	struct deliver_ctx ctx = {
		.in = &ictx->in, .set = s->set, .pool = pool, .result = &result,
		.user = s->user, .now = time(NULL), .imap = &ev, .user_script = ictx->user_script,
	};
	ctx.msg = deliver_message_create(&source);
	ictx->in.msg = ctx.msg;
	deliver_action_array_t actions;
	array_init(&actions, pool, 8);
	deliver_sieve_run_paths(&ctx, &ictx->paths, &actions);
	const char *outcome = imapsieve_execute(&ctx, ictx->box, seq, &rec, &actions);
	log_info(s->log, "imapsieve", "user=%s cause=%s mailbox=%s uid=%u result=%s",
		 log_value(s->username), ev.cause, log_value(ev.mailbox), uid, log_value(outcome));
	deliver_duplicate_close(&ctx.dup);
	deliver_message_destroy(&ctx.msg);
	ictx->in.msg = NULL;
	deliver_spool_free(&spool);
	pool_destroy(&pool);
}

void deliver_imapsieve_run(const struct deliver_imapsieve_session *session,
			   const struct deliver_imapsieve_event *event)
{
	if (imapsieve_off(session->set) || event->count == 0)
		return;
	pool_t pool = pool_create("imapsieve", 4096);
	struct imapsieve_ctx ictx;
	struct deliver_ctx ctx;
	imapsieve_ctx_init(&ictx, session, event, pool);
	imapsieve_bare_ctx(&ictx, &ctx);
	const char *mailbox = mailbox_name_canonical(event->mailbox);
	imapsieve_scripts(session, &ctx, event->cause, mailbox,
			  event->src_mailbox == NULL ? NULL :
			  mailbox_name_canonical(event->src_mailbox),
			  &ictx.paths, &ictx.user_script);
	if (ictx.paths.count > 0 && event->count > 0) {
		ictx.box = mailbox_open(session->user, mailbox, 0);
		if (ictx.box == NULL) {
			const char *text;
			(void)mail_user_get_error(session->user, &text);
			log_error(session->log, "imapsieve_failed", "user=%s mailbox=%s error=%s",
				  log_value(session->username), log_value(mailbox), log_value(text));
		}
		for (unsigned int i = 0; ictx.box != NULL && i < event->count; i++) {
			imapsieve_run_message(&ictx, event->uids[i],
					      event->changed_flags == NULL ? "" :
					      event->changed_flags[i]);
		}
		mailbox_close(&ictx.box);
	}
	pool_destroy(&pool);
}
