/* Sieve interpreter: runs a validated script (RFC 5228 §2.10 execution
 * model) against a message read through callbacks and produces the list of
 * actions for the caller to carry out - keep, fileinto, redirect, reject,
 * or nothing (discard). Knows nothing of storage or mail transport. */
#ifndef TERN_SIEVE_INTERP_H
#define TERN_SIEVE_INTERP_H

#include "sieve-validator.h"

enum sieve_envelope_part {
	SIEVE_ENVELOPE_FROM,
	SIEVE_ENVELOPE_TO,
	/* RFC 5228 §5.4 allows more parts: the authenticated sender
	   (AUTH=), and the original recipient (ORCPT, RFC 3461) */
	SIEVE_ENVELOPE_AUTH,
	SIEVE_ENVELOPE_ORIG_TO,
};

/* How the interpreter reads the message. Each returns -1 with *error_r on
   a failure to read (which ends the run with an error). */
struct sieve_message_vfuncs {
	/* All fields named name (case-insensitive) in message order, their
	   values unfolded (RFC 5322 §2.2.3), not RFC 2047 decoded:
	   *values_r is NULL-terminated, possibly empty. Memory must stay
	   valid until the run ends. Returns 0. */
	int (*get_headers)(void *context, const char *name,
			   const char *const **values_r, const char **error_r);
	/* The envelope sender (MAIL FROM, "" for the null path) or this
	   recipient (RCPT TO), without angle brackets. Returns 1 with
	   *value_r, 0 if unknown (then envelope tests are false). */
	int (*get_envelope)(void *context, enum sieve_envelope_part part,
			    const char **value_r, const char **error_r);
	/* RFC 5228 §5.9: the message size in octets. Returns 0. */
	int (*get_size)(void *context, uint64_t *size_r, const char **error_r);
	/* Optional: the whole message, header and body, as received. The
	   engine parses its MIME structure itself (with src/mime) when body
	   (RFC 5173), mime/foreverypart/extracttext (RFC 5703) or
	   editheader need it. NULL or no data: the body is empty. Memory
	   must stay valid until the run ends. Returns 0. */
	int (*get_data)(void *context, const unsigned char **data_r, size_t *size_r,
			const char **error_r);
	/* Optional: the IMAP flags the message already has (a stored
	   message, e.g. on an IMAP event, RFC 6785), the start value of
	   imap4flags' internal variable (RFC 5232 §3); NULL-terminated.
	   NULL: no flags. Returns 0. */
	int (*get_flags)(void *context, const char *const **flags_r, const char **error_r);
};

struct sieve_message {
	const struct sieve_message_vfuncs *v;
	void *context;
};

/* Envelope values for sieve_message_from_memory(); NULL = unknown. */
struct sieve_envelope {
	const char *from, *to, *auth, *orig_to;
};

/* Parses an SMTP path as the envelope test reads it (RFC 5321 §4.1.2):
   angle brackets optional, a source route skipped, a quoted local part
   unquoted; *domain_r NULL for a path that is only a local part
   ("MAILER-DAEMON"). Returns 0, -1 if the path is not valid. */
int sieve_envelope_path_parse(pool_t pool, const char *path, const char **local_r,
			      const char **domain_r);

/* A message held in memory (copied into pool), with all the callbacks
   filled in: headers parsed once, get_data serving the bytes. */
const struct sieve_message *sieve_message_from_memory(pool_t pool, const void *data,
						      size_t size,
						      const struct sieve_envelope *envelope);

enum sieve_action_type {
	SIEVE_ACTION_KEEP,     /* store into the default mailbox */
	SIEVE_ACTION_FILEINTO, /* store into target */
	SIEVE_ACTION_REDIRECT, /* forward to the address target */
	SIEVE_ACTION_REJECT,   /* refuse with the text target (RFC 5429) */
	SIEVE_ACTION_EREJECT,  /* refuse at SMTP level if possible (RFC 5429) */
	SIEVE_ACTION_DISCARD,  /* nothing else to do: the message is dropped */
	SIEVE_ACTION_VACATION, /* send the reply in action->vacation (RFC 5230) */
	SIEVE_ACTION_NOTIFY,   /* send the notification in action->notify (RFC 5435) */
};

/* RFC 5230 §4 / RFC 6131: an auto-reply the caller sends (through its
   submission path) unless its duplicate-response database says the sender
   got one with this handle within the period. The engine already applied
   the §4.5/§4.6 checks that need only the message. */
struct sieve_vacation {
	/* the reply body (text, or a MIME entity when mime) */
	const char *reason;
	bool mime;
	/* :subject (NULL: the caller writes "Auto: <original subject>"),
	   :from (NULL: the recipient) */
	const char *subject, *from;
	/* :handle or the engine's default (reason + subject + from + mime,
	   RFC 5230 §4.2) */
	const char *handle;
	/* minimum time between replies to one sender: :days * 86400 or
	   :seconds (RFC 6131), clamped to the env's limits */
	uint64_t period_secs;
	/* who gets the reply: the Return-Path (envelope sender) */
	const char *recipient;
	/* the original's Message-ID for In-Reply-To/References, or NULL */
	const char *original_message_id;
	/* the original's Subject (RFC 2047 decoded), NULL if none */
	const char *original_subject;
	/* RFC 5230 §4.5-§4.6: NULL, or why no reply may be sent (automatic
	   or list mail, null sender, the user's own address, the user not an
	   explicit recipient). The caller MUST NOT send when it is set; the
	   action stays in the result so the script's intent is visible. */
	const char *suppress_reason;
	/* the user's address found among the original's recipients (the
	   envelope recipient, the original recipient, an :addresses entry
	   or one of env->user_addresses): the reply's From when :from is
	   not given; NULL if none was found */
	const char *reply_from;
};

/* A mailto URI (RFC 6068) split up by sieve_mailto_parse(). */
enum sieve_mailto_field {
	SIEVE_MAILTO_TO,  /* the URI's recipient part or a "to" field */
	SIEVE_MAILTO_CC,
	SIEVE_MAILTO_BCC, /* gets the notification, not shown in a header */
};

struct sieve_mailto_recipient {
	/* addr-spec, for the envelope */
	const char *address;
	/* the address as written (percent-decoded, a display name kept),
	   for the To/Cc header of the notification */
	const char *text;
	enum sieve_mailto_field field;
};

struct sieve_mailto_header {
	const char *name, *value;
};

#define SIEVE_MAILTO_MAX_RECIPIENTS 32
#define SIEVE_MAILTO_MAX_HEADERS 32

struct sieve_mailto {
	/* at least one; duplicates removed (the first one stays) */
	ARRAY(struct sieve_mailto_recipient) recipients;
	/* header fields to add besides To/Cc/Subject; the ones the notifier
	   must control itself (From, Date, Auto-Submitted, ... RFC 5436
	   §2.2) are dropped */
	ARRAY(struct sieve_mailto_header) headers;
	/* the "subject" and "body" fields, NULL if absent */
	const char *subject, *body;
};

/* Parses and checks a "mailto:" URI (RFC 6068 §2, RFC 5436 §2): URI
   characters, percent-encoding, the addresses (RFC 5322 with a domain)
   and header field names. Returns 0 with *mailto_r from pool, -1 with
   *error_r. */
int sieve_mailto_parse(pool_t pool, const char *uri, struct sieve_mailto **mailto_r,
		       const char **error_r);

/* RFC 5435 §3: a notification through method (e.g. "mailto:...",
   RFC 5436). Importance "1" high, "2" normal (default), "3" low. */
struct sieve_notify {
	const char *method;
	const char *from;       /* NULL if not given */
	const char *importance; /* "1", "2" or "3" */
	const char *const *options; /* NULL-terminated, maybe empty */
	const char *message;    /* NULL: the caller's default */
	/* the method parsed, for "mailto:" (the only method known) */
	const struct sieve_mailto *mailto;
	/* RFC 5436 §2.7: NULL, or why no notification may be sent (the
	   message is itself automatic: Auto-Submitted other than "no").
	   The caller MUST NOT send when it is set. */
	const char *suppress_reason;
};

/* RFC 5293 editheader: the header changes, in order, that keep and
   fileinto store with the message (sieve_header_edits_apply() does
   them on a header block). */
enum sieve_header_edit_type {
	SIEVE_HEADER_EDIT_ADD,    /* add name: value at the top (or end: last) */
	SIEVE_HEADER_EDIT_DELETE, /* delete fields named name */
};

struct sieve_header_edit {
	enum sieve_header_edit_type type;
	const char *name;
	/* ADD: the value, UTF-8; line breaks in it already folded as
	   "\r\n" + whitespace (the caller encodes 8-bit text as RFC 2047
	   words if it must) */
	const char *value;
	/* ADD: append at the end instead of the top */
	bool last;
	/* DELETE: which fields named name go, as 1-based positions among the
	   fields of that name (top to bottom) at the time of this edit,
	   ascending */
	const unsigned int *occurrences;
	unsigned int occurrence_count;
};

struct sieve_action {
	enum sieve_action_type type;
	/* mailbox, address or reason; NULL for keep, discard, vacation and
	   notify */
	const char *target;
	/* :copy (RFC 3894) was given */
	bool copy;
	/* the implicit keep of RFC 5228 §2.10.2 */
	bool implicit;
	/* line of the command that caused it (0 for the implicit keep) */
	unsigned int line;

	/* keep/fileinto: the IMAP flags to set on the stored message
	   (RFC 5232 §3, §5: :flags or the internal variable), NULL-terminated;
	   NULL for none */
	const char *const *flags;
	/* fileinto :create (RFC 5490 §3.2): create the mailbox if missing */
	bool create;
	/* fileinto :specialuse (RFC 8579): store in the mailbox with this
	   special-use flag if one exists, else in target; NULL if not given */
	const char *specialuse;
	/* how many of result->header_edits (the first ones) shape the
	   message this action stores or redirects: the edits made before
	   the action (RFC 5293 §3: later edits do not change a message an
	   earlier action took); the implicit keep gets them all */
	unsigned int header_edits;
	/* SIEVE_ACTION_VACATION and SIEVE_ACTION_NOTIFY */
	const struct sieve_vacation *vacation;
	const struct sieve_notify *notify;
};

struct sieve_duplicate_mark {
	/* the tracked value, prefixed with the :handle and a newline */
	const char *id;
	uint64_t period_secs;
	/* the check found it (the caller then only refreshes the time when
	   last is set, RFC 7352 §3.3) */
	bool seen;
	/* :last: the period counts from the last occurrence */
	bool last;
};

struct sieve_result {
	/* In execution order, duplicates removed (RFC 5228 §2.10.3); the
	   implicit keep last. Never empty: a run that leaves nothing to do
	   ends in one SIEVE_ACTION_DISCARD. */
	ARRAY(struct sieve_action) actions;
	/* editheader changes (RFC 5293), in order, for keep and fileinto */
	ARRAY(struct sieve_header_edit) header_edits;
	/* RFC 7352: duplicate ids the caller records once the actions are
	   done (the check already happened through sieve_env) */
	ARRAY(struct sieve_duplicate_mark) duplicate_marks;
	/* the first executed_count actions were carried out already
	   (sieve_run_mark_executed()); 0 for a plain run */
	unsigned int executed_count;
	/* runtime problems that did not end the run, "line N: text" (a
	   :regex key built from variables that is no valid regex: the test
	   is false); at most SIEVE_MAX_RUN_WARNINGS, for the caller's log */
	ARRAY(const char *) warnings;
};
#define SIEVE_MAX_RUN_WARNINGS 16


enum sieve_score_kind {
	SIEVE_SCORE_SPAM,         /* RFC 5235 spamtest: "0" or "1".."10" */
	SIEVE_SCORE_SPAM_PERCENT, /* spamtestplus :percent: "0".."100" */
	SIEVE_SCORE_VIRUS,        /* virustest: "0" or "1".."5" */
};

enum sieve_include_location {
	SIEVE_INCLUDE_PERSONAL, /* RFC 6609 §3.2 :personal (the default) */
	SIEVE_INCLUDE_GLOBAL,   /* :global */
};

/* RFC 5235 scores read from headers an anti-spam/anti-virus filter
   added, in the form Pigeonhole's sieve_spamtest_* / sieve_virustest_*
   settings use. */
enum sieve_score_status_type {
	SIEVE_SCORE_STATUS_SCORE,  /* a decimal score, scaled by the max */
	SIEVE_SCORE_STATUS_STRLEN, /* a run of one repeated character ("*****") */
	SIEVE_SCORE_STATUS_TEXT,   /* a text, looked up in text_values */
};

struct sieve_score_config {
	/* "Header-Name" or "Header-Name: regex": the POSIX extended regex is
	   searched for in the header's first value and its first group is
	   the status */
	const char *status_header;
	enum sieve_score_status_type status_type;
	/* SCORE and STRLEN: the value that means "certainly spam" (or a
	   virus), from a header ("Name" or "Name: regex", like
	   status_header) or, when max_header is NULL, max_value */
	const char *max_header;
	double max_value;
	/* TEXT: the status text for each value 0..10 (virustest 0..5);
	   NULL entries never match */
	const char *text_values[11];
};

/* What the run needs from the caller besides the message. Every callback
   may be NULL: then the feature behaves as if nothing exists. */
struct sieve_env {
	void *context;
	/* RFC 5183 environment item ("domain", "host", "name", "version",
	   "phase", "remote-host", "imap.cause", ...): 1 with *value_r, 0 if
	   unknown. The engine answers "name", "version" and "location"
	   itself when this returns 0. */
	int (*get_environment)(void *context, const char *name, const char **value_r);
	/* RFC 5490 §3.1: 1 exists, 0 not, -1 error */
	int (*mailbox_exists)(void *context, const char *mailbox, const char **error_r);
	/* RFC 5490 §3.3-§3.4 (mailbox NULL: server annotation): 1 with
	   *value_r, 0 not set, -1 error */
	int (*metadata_get)(void *context, const char *mailbox, const char *entry,
			    const char **value_r, const char **error_r);
	/* RFC 8579: does a mailbox (mailbox NULL: any) carry the special-use
	   flag (e.g. "\\Junk")? 1/0/-1 */
	int (*specialuse_exists)(void *context, const char *mailbox, const char *flag,
				 const char **error_r);
	/* RFC 7352 §3: 1 if id was seen (recorded) within period_secs, 0 if
	   not, -1 error. Recording happens through result->duplicate_marks. */
	int (*duplicate_check)(void *context, const char *id, uint64_t period_secs,
			       const char **error_r);
	/* RFC 6609: the compiled script name at location; 1 with *ast_r
	   (the caller keeps it alive for the run, e.g. with sieve_cache), 0
	   if it does not exist, -1 on error (a compile error too, in
	   *error_r). */
	int (*include_load)(void *context, enum sieve_include_location location,
			    const char *name, const struct sieve_ast **ast_r,
			    const char **error_r);
	/* RFC 5230 §4.5: the recipient's own addresses (besides the envelope
	   recipient), for :addresses-style checks; NULL-terminated or NULL */
	const char *const *user_addresses;
	/* RFC 5233: the separator of user and detail; NULL = "+" */
	const char *subaddress_delimiter;
	/* RFC 5235: the header holding the spam score and its scale; the
	   score is the header's first number, mapped onto 1..10 (spamtest) or
	   0..100 (spamtestplus :percent) with spam_max as the top. NULL
	   header: spamtest finds no score ("0"). Same for virustest: the
	   header's first number 1..5 taken directly. */
	const char *spam_header;
	double spam_max;
	const char *virus_header;
	/* Optional, replaces the header rules above for callers with their
	   own scoring (regex-extracted scores, text values): 1 with the
	   test's value in *value_r, 0 not tested ("0"), -1 error. */
	int (*score_get)(void *context, enum sieve_score_kind kind, const char **value_r,
			 const char **error_r);
	/* Optional, replaces spam_header/spam_max (spamtest, spamtestplus)
	   and virus_header (virustest): Pigeonhole-style score rules. A
	   status header that is missing or does not match means "not
	   tested" ("0"). */
	const struct sieve_score_config *spam_score, *virus_score;
	/* RFC 5230 §4.5 "explicit recipient" check: also accept the
	   envelope's original recipient (ORCPT), or skip the check */
	bool vacation_use_original_recipient, vacation_dont_check_recipient;
	/* RFC 5230/6131: the allowed :days/:seconds range; 0 = defaults
	   (1 day min for :days, 0 s; 90 days max) */
	uint64_t vacation_min_period, vacation_max_period;
	/* RFC 5260 §5: "now" for currentdate (0: time(NULL)) and the local
	   zone in minutes east of UTC (INT_MIN: from the system) */
	time_t now;
	int local_zone;
	bool local_zone_set;
	/* RFC 6785: the run is for an IMAP event; environment items
	   "imap.cause", "imap.mailbox", "imap.changedflags" come from
	   get_environment, and "location" reads "MS" */
	bool imap_event;
	/* RFC 5293 §6: header fields editheader may not change, by name
	   (NULL-terminated, or NULL): protected ones neither added nor
	   deleted, the others only the one way. Edits to them are ignored,
	   as for Received and Auto-Submitted, which are never deleted.
	   Names that are not valid field names are ignored. */
	const char *const *editheader_protected;
	const char *const *editheader_forbid_add, *const *editheader_forbid_delete;
};

struct sieve_exec_limits {
	/* actions the script may cause, implicit keep not counted; 0 = 32 */
	unsigned int max_actions;
	/* redirects; 0 = 4 */
	unsigned int max_redirects;
	/* addresses looked at per header field; 0 = 256 */
	unsigned int max_addresses;
	/* CPU time of one run in milliseconds; 0 = 3000 */
	unsigned int max_cpu_ms;
	/* RFC 6609: nesting of include and included scripts per run;
	   0 = 10 and 255 */
	unsigned int max_include_depth, max_includes;
	/* RFC 5229: variables per scope and bytes per value (longer values
	   are cut at a UTF-8 boundary); 0 = 255 and 4096 */
	unsigned int max_variables, max_variable_size;
	/* editheader changes per run; 0 = 1024 */
	unsigned int max_header_edits;
	/* editheader: the longest field addheader may add (name, ": " and
	   value, folded); 0 = 8192 */
	unsigned int max_header_size;
};

/* Compile-time checks that need the caller's other scripts: with a loader,
   an include (RFC 6609) whose name is a constant is resolved while
   compiling, as far down as the included scripts go - a missing script
   (unless :optional), a circular include, the nesting depth and the
   number of scripts are compile errors then, each failing level adding
   an error that names it. Names built from variables are still resolved
   at run time. */
struct sieve_compile_env {
	void *context;
	/* as sieve_env.include_load; NULL: no compile-time include checks */
	int (*include_load)(void *context, enum sieve_include_location location,
			    const char *name, const struct sieve_ast **ast_r,
			    const char **error_r);
	/* 0 = the run-time defaults (10 and 255) */
	unsigned int max_include_depth, max_includes;
	/* RFC 5229: more distinct variables assigned in one script than this
	   is a compile error; 0 = 255 (as struct sieve_exec_limits) */
	unsigned int max_variables;
	/* as sieve_exec_limits.max_header_size, for constant addheader
	   fields; 0 = 8192 */
	unsigned int max_header_size;
	/* a missing included script is a warning, not an error: for scripts
	   uploaded before the ones they include (ManageSieve PUTSCRIPT) */
	bool missing_include_is_warning;
};

/* sieve_compile_diag() with compile-time checks through cenv (may be
   NULL: the same as sieve_compile_diag()). */
int sieve_compile_env_diag(pool_t pool, const void *data, size_t size,
			   const struct sieve_parser_limits *limits, unsigned int max_errors,
			   const struct sieve_compile_env *cenv, struct sieve_ast **ast_r,
			   sieve_diag_array_t *diags);

/* Runs the validated script on msg. The result is allocated from pool.
   Returns 0 on success. Returns -1 on a runtime error (a limit, an action
   conflict, a failing callback) with *error_r "line N: text": *result_r is
   then the RFC 5228 §2.10.6 fallback, a single implicit keep. The tree is
   only read, so one compiled script serves any number of runs. */
int sieve_execute(const struct sieve_ast *ast, const struct sieve_message *msg,
		  const struct sieve_exec_limits *limits, pool_t pool,
		  struct sieve_result **result_r, const char **error_r);
/* The same with the caller's callbacks (env may be NULL). */
int sieve_execute_env(const struct sieve_ast *ast, const struct sieve_message *msg,
		      const struct sieve_env *env, const struct sieve_exec_limits *limits,
		      pool_t pool, struct sieve_result **result_r, const char **error_r);

/* Runs several scripts in order on one result, as for administrator
   scripts before and after the user's (and Pigeonhole's test_multiscript):
   stop ends one script; the next one runs only while the implicit keep is
   still in effect; a runtime error ends the sequence with the RFC 5228
   §2.10.6 fallback. */
int sieve_execute_multi(const struct sieve_ast *const *asts, unsigned int count,
			const struct sieve_message *msg, const struct sieve_env *env,
			const struct sieve_exec_limits *limits, pool_t pool,
			struct sieve_result **result_r, const char **error_r);

/* Writes the actions as "keep", "fileinto:copy \"A\"", ... one per
   line (for tests and logs); flags as " flags=[\"\\\\Seen\"]", vacation as
   "vacation \"reason\" ...", notify as "notify \"method\"". */
void sieve_result_write(string_t *dest, const struct sieve_result *result);
/* "keep", "fileinto", "redirect", ... */
const char *sieve_action_type_name(enum sieve_action_type type);

/* Splits a list of header field names separated by spaces or commas
   (an editheader_protected setting) into a NULL-terminated array from
   pool; names that are not valid field names are left out. */
const char *const *sieve_header_name_list_parse(pool_t pool, const char *value);

/* Applies editheader changes to a header block (data up to and including
   the blank line), writing the new block to dest. */
void sieve_header_edits_apply(const struct sieve_result *result, const void *data,
			      size_t size, string_t *dest);
/* The same with the edits that apply to action (action->header_edits). */
void sieve_header_edits_apply_action(const struct sieve_result *result,
				     const struct sieve_action *action, const void *data,
				     size_t size, string_t *dest);

#endif
