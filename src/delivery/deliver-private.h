/* What the files of src/delivery share: the message object, one delivery's
 * context, the action list the Sieve results are turned into, and the
 * internal interfaces of the quota check, the duplicate database, the
 * submission client, vacation and rejection messages. */
#ifndef TERN_DELIVER_PRIVATE_H
#define TERN_DELIVER_PRIVATE_H

#include "mail-deliver.h"
#include "sieve-interp.h"
#include "array.h"
#include "buffer.h"
#include "deliver-duplicate.h"
#include "deliver-submit.h"

#include <time.h>

/* header bytes parsed for Sieve and auto-replies; fields past it are
   invisible to scripts (the message is still stored whole) */
#define DELIVER_MAX_HEADER_SIZE (1024 * 1024)
#define DELIVER_MAX_HEADER_FIELDS 10000
#define DELIVER_COPY_CHUNK_SIZE (64 * 1024)
/* message bytes Sieve's body/mime tests see at most */
#define DELIVER_MAX_SIEVE_DATA (16 * 1024 * 1024)
/* the user's script error log is cut back when it grows past this */
#define DELIVER_USER_LOG_MAX_SIZE (64 * 1024)
/* name of the duplicate database in the user's home */
#define DELIVER_DUPLICATE_FILE ".tern-duplicates"

struct deliver_header {
	const char *name;
	const char *value; /* unfolded, not decoded */
};

struct deliver_message {
	pool_t pool;
	struct deliver_source source;
	bool parsed, parse_failed;
	/* the first line ends in a bare LF (tern-lda input from a pipe) */
	bool lf_only;
	ARRAY(struct deliver_header) fields;
};

typedef int deliver_write_fn_t(void *context, const void *data, size_t size);

/* Parses the header block (once). Returns 0, or -1 on a read error. */
int deliver_message_parse(struct deliver_message *msg, const char **error_r);
/* All values of the field name (after deliver_message_parse()),
   NULL-terminated, from the temporary pool. */
const char *const *deliver_message_get_headers(struct deliver_message *msg, const char *name);
/* The first value of name, or NULL. */
const char *deliver_message_get_first(struct deliver_message *msg, const char *name);
uint64_t deliver_message_size(const struct deliver_message *msg);
/* Writes the message from offset to its end through write_fn. Returns 0,
   or -1 when reading or write_fn failed. */
int deliver_message_copy(struct deliver_message *msg, uint64_t offset,
			 deliver_write_fn_t *write_fn, void *context);

/* What the scripts decided, independent of the Sieve engine's types
   (deliver-sieve.c translates; new action kinds are added here and in
   deliver-actions.c's table). */
enum deliver_action_type {
	DELIVER_ACTION_STORE,    /* keep or fileinto */
	DELIVER_ACTION_REDIRECT,
	DELIVER_ACTION_REJECT,
	DELIVER_ACTION_EREJECT,
	DELIVER_ACTION_VACATION,
	DELIVER_ACTION_NOTIFY,
	DELIVER_ACTION_COUNT
};

/* RFC 5230 vacation parameters */
struct deliver_vacation {
	const char *reason;
	bool mime;               /* reason is a MIME entity (:mime) */
	const char *subject;     /* NULL: "Auto: " + the original subject */
	const char *from;        /* NULL: the recipient */
	const char *handle;      /* NULL: derived from the parameters */
	const char *const *addresses; /* more addresses of the user, or NULL */
	uint64_t period_secs;    /* 0: sieve.vacation_default_period */
	/* the Sieve engine's §4.5/§4.6 verdict: why no reply, or NULL */
	const char *suppress_reason;
};

/* RFC 5435 notifications; only the mailto method (RFC 5436) is known */
struct deliver_notify {
	const char *method;  /* "mailto:addr?..." */
	/* the method parsed by the engine (RFC 6068), NULL for an unknown
	   method */
	const struct sieve_mailto *mailto;
	const char *from;    /* NULL: the postmaster address */
	const char *message; /* NULL: a summary of the message */
	/* the engine's RFC 5436 §2.7 verdict: NULL, or why not to send */
	const char *suppress_reason;
};

/* RFC 5293 editheader: a script's header changes, as the new header
   block and where the original body starts */
struct deliver_edited_header {
	const unsigned char *data;
	size_t size;
	uint64_t body_offset;
};

struct deliver_action {
	enum deliver_action_type type;
	/* STORE: mailbox (NULL: the default one, i.e. keep); REDIRECT:
	   address; REJECT/EREJECT: reason */
	const char *target;
	bool implicit;      /* the implicit keep */
	bool create;        /* fileinto :create (RFC 5490 §3.2) */
	uint32_t flags;     /* imap4flags (RFC 5232): system flags */
	const char *const *keywords;
	const struct deliver_vacation *vacation;
	const struct deliver_notify *notify;
	const char *script; /* for the log */
	unsigned int line;
	/* STORE/REDIRECT: the message with its script's editheader changes
	   (NULL: as received) */
	const struct deliver_edited_header *header;
	/* fileinto :specialuse (RFC 8579): "\\Junk" ..., or NULL */
	const char *specialuse;
	/* keep on an IMAP event: imap4flags decided the flags, so flags and
	   keywords replace the message's (an empty set clears them) */
	bool flags_given;
};
typedef ARRAY(struct deliver_action) deliver_action_array_t;

struct mail_user;

struct deliver_duplicate_id {
	const char *id;
	uint64_t period_secs;
};

/* One delivery in progress. */
struct deliver_ctx {
	const struct mail_deliver_input *in;
	const struct tern_settings *set;
	pool_t pool;
	struct deliver_message *msg;
	struct mail_deliver_result *result;
	struct mail_user *user;       /* opened before the scripts run */
	struct deliver_duplicate *dup; /* opened when first needed */
	const char *user_script;      /* resolved sieve.script, or NULL */
	time_t now;
	/* the message was here before (a Delivered-To: of this recipient):
	   no redirects or auto-replies, it is only stored */
	bool loop;
	/* null sender or Auto-Submitted (RFC 3834 §2): no auto-replies */
	bool no_auto_reply;
	/* storing into the default mailbox failed with OVERQUOTA */
	bool overquota;
	/* RFC 7352 duplicate ids to record once the actions are done */
	ARRAY(struct deliver_duplicate_id) duplicate_marks;
	/* the whole message for Sieve's body/mime tests, read on demand */
	const unsigned char *data;
	size_t data_size;
	/* RFC 5235 verdicts from the configured headers (deliver-spamtest.c):
	   1..10 and 1..5, 0 when not tested */
	unsigned int spam_verdict, virus_verdict;
	/* set when the scripts run for an IMAP event (RFC 6785,
	   deliver-imapsieve.c), NULL at delivery */
	struct deliver_imap_event *imap;
};

/* One message's IMAP event, as the scripts see it (RFC 6785 §4). */
struct deliver_imap_event {
	const char *user, *email;   /* imap.user, imap.email */
	const char *cause;          /* imap.cause: "APPEND", "COPY", "FLAG" */
	const char *mailbox;        /* imap.mailbox */
	const char *changed_flags;  /* imap.changedflags ("" unless FLAG) */
	/* the stored message's flags and keywords, NULL-terminated */
	const char *const *flags;
	/* the running script read them (imap4flags was used) */
	bool flags_read;
};

struct sieve_result;
struct deliver_imap_event;
struct sieve_action;
struct deliver_header_edits;
/* deliver-editheader.c: result's editheader changes ready to apply (the
   header block read once; memory from ctx->pool), NULL when there are
   none or they can't be applied (logged). */
struct deliver_header_edits *
deliver_editheader_begin(struct deliver_ctx *ctx, const struct sieve_result *result,
			 const char *script);
/* The new header block for one action of that result: the changes made
   before the action (action->header_edits; the implicit keep has them
   all). NULL when edits is NULL or no change came before the action. */
const struct deliver_edited_header *
deliver_editheader_for_action(struct deliver_header_edits *edits,
			      const struct sieve_action *action);
/* deliver-spamtest.c: sets ctx->spam_verdict and virus_verdict. */
void deliver_spamtest_prepare(struct deliver_ctx *ctx);
/* deliver-actions.c: the mailbox with the special-use flag ("\\Junk"),
   NULL if none (or the flag is unknown). Temporary memory. */
const char *deliver_specialuse_mailbox(struct deliver_ctx *ctx, const char *flag);
/* RFC 8579 specialuse_exists: 1 if mailbox (NULL: any) has the flag. */
int deliver_specialuse_has(struct deliver_ctx *ctx, const char *mailbox, const char *flag);
/* deliver-actions.c: stores one copy into name (the imapsieve fileinto
   too). Returns 1 stored, 0 the mailbox doesn't exist, -1 failed
   (logged). */
int deliver_store_into(struct deliver_ctx *ctx, const char *name,
		       const struct deliver_action *act);
/* deliver-actions.c: sends a redirect. Returns 1 sent (or sent before), 0
   refused for good, -1 temporary failure (logged). */
int deliver_redirect(struct deliver_ctx *ctx, const struct deliver_action *act);

/* deliver-sieve.c: a path template with %h (home), %u (user) and %%
   expanded, relative to the home; NULL for "" (memory from ctx->pool). */
const char *deliver_expand_path(struct deliver_ctx *ctx, const char *tmpl);
/* deliver-sieve.c: adds the script at path, or the *.sieve files of the
   directory at path in name order ("" adds nothing). */
void deliver_scripts_add(const char *path, array_str_t *paths);
/* deliver-sieve.c: runs the scripts at paths in order (as
   deliver_sieve_run() does with the configured ones); ctx->user_script
   names the one whose errors go to its .log. */
void deliver_sieve_run_paths(struct deliver_ctx *ctx, const array_str_t *paths,
			     deliver_action_array_t *actions);
struct sieve_ast;
/* deliver-imapsieve.c: the environment items of RFC 6785 §4.2-§4.5;
   true with *value_r when name is one. */
bool deliver_imapsieve_environment(struct deliver_ctx *ctx, const char *name,
				   const char **value_r);
/* deliver-imapsieve.c: why a script may not run for an IMAP event (it
   requires reject, ereject or vacation, RFC 6785 §3.11), or NULL. */
const char *deliver_imapsieve_check_script(const struct sieve_ast *ast);
/* deliver-imapsieve.c: the same for the actions of a result. */
const char *deliver_imapsieve_check_result(const struct sieve_result *result);

/* deliver-sieve.c: runs the configured scripts and fills actions
   (always at least a keep unless the scripts cancelled it). */
void deliver_sieve_run(struct deliver_ctx *ctx, deliver_action_array_t *actions);
void deliver_sieve_deinit(void);
/* deliver-actions.c: carries out the actions; sets ctx->result. */
void deliver_actions_execute(struct deliver_ctx *ctx, const deliver_action_array_t *actions);
/* Opens the user's duplicate database if needed. Returns 0 or -1. */
int deliver_ctx_duplicate(struct deliver_ctx *ctx);
/* The name this host gives in SMTP HELO and Received: */
const char *deliver_ctx_helo(const struct deliver_ctx *ctx);
/* deliver-vacation.c: sends the reply when RFC 5230 §4 allows. Returns
   1 sent, 0 not sent (a rule said no; logged), -1 failed (logged). */
int deliver_vacation_execute(struct deliver_ctx *ctx, const struct deliver_action *act);
/* deliver-vacation.c: sends a mailto notification (RFC 5436). Returns
   1 sent, 0 not sent, -1 failed (all logged). */
int deliver_notify_execute(struct deliver_ctx *ctx, const struct deliver_action *act);
/* deliver-reject.c: sends the RFC 5429 §2.1.1 rejection message (an
   RFC 3798 MDN). Returns 1 sent or not needed (null sender), 0 refused
   for good, -1 temporary failure. */
int deliver_reject_send(struct deliver_ctx *ctx, const char *reason);
/* The submission settings' postmaster address. */
const char *deliver_postmaster_address(const struct deliver_ctx *ctx);
/* A new unique token for Message-IDs and MIME boundaries (temporary). */
const char *deliver_unique_token(void);
/* The current time as an RFC 5322 date (temporary). */
const char *deliver_date_now(void);
/* value with control characters replaced, safe as one header line. */
const char *deliver_header_value(const char *value);

/* deliver-quota.c */
struct deliver_quota {
	uint64_t storage;  /* bytes, 0: no limit */
	uint64_t messages; /* 0: no limit */
};
/* Parses "*:storage=1G *:messages=100" (unknown rules are ignored).
   Returns 0, or -1 for a malformed rule. */
int deliver_quota_parse(const char *rules, struct deliver_quota *quota_r);
/* The quota of user (userdb rule, else quota.default_rule). Returns 1
   with a limit, 0 without, -1 for a malformed rule (logged). */
int deliver_quota_get(const struct tern_settings *set, const struct log_ctx *log,
		      const struct deliver_user *user, struct deliver_quota *quota_r);
/* Returns 1 when size more bytes (and one more message) fit, 0 if
   not, -1 on a storage error. */
int deliver_quota_fits(struct mail_user *user, const struct deliver_quota *quota,
		       uint64_t size);

#endif
