/* The state of tern-sieve-test, the runner of Pigeonhole-style .svtest
 * files: the message and envelope under test, an in-memory mail store
 * (mailboxes, their messages, flags and metadata), the mail "sent" by
 * redirect/vacation/reject/notify, configuration set by the script, compiled
 * scripts and the errors they reported, and the per-test bookkeeping. */
#ifndef TERN_SIEVE_TESTSUITE_H
#define TERN_SIEVE_TESTSUITE_H

#include "array.h"
#include "sieve-interp.h"

/* Growth limits: a test file is untrusted input like any script. */
#define SIEVE_TESTSUITE_MAX_MESSAGE_SIZE (10 * 1024 * 1024)
#define SIEVE_TESTSUITE_MAX_MAILBOXES 1000
#define SIEVE_TESTSUITE_MAX_MAILS 10000
#define SIEVE_TESTSUITE_MAX_SENT 10000
#define SIEVE_TESTSUITE_MAX_ERRORS 1000
/* errors one test_script_compile collects (Pigeonhole reports them all) */
#define SIEVE_TESTSUITE_MAX_COMPILE_ERRORS 100
#define SIEVE_TESTSUITE_MAX_SETTINGS 1000
#define SIEVE_TESTSUITE_MAX_SCRIPT_SIZE (1024 * 1024)

struct sieve_testsuite_field {
	const char *name;  /* as in the message */
	const char *value; /* unfolded, not RFC 2047 decoded */
};

/* One message: its bytes and its parsed header fields. */
struct sieve_testsuite_message {
	pool_t pool;
	const unsigned char *data;
	size_t size;
	/* offset of the body (after the blank line) */
	size_t body_offset;
	ARRAY(struct sieve_testsuite_field) fields;
};

struct sieve_testsuite_envelope {
	/* NULL = not set; "" = the null reverse path */
	const char *from, *to, *orig_to, *auth;
};

struct sieve_testsuite_mail {
	struct sieve_testsuite_message *msg;
	array_str_t flags;
};

struct sieve_testsuite_metadata {
	const char *entry, *value;
};

typedef ARRAY(struct sieve_testsuite_metadata) sieve_testsuite_metadata_array_t;

struct sieve_testsuite_mailbox {
	const char *name;
	ARRAY(struct sieve_testsuite_mail) mails;
	sieve_testsuite_metadata_array_t metadata;
};

/* A message handed to the "MTA". */
struct sieve_testsuite_sent {
	const char *envelope_from; /* "" for <> */
	const char *envelope_to;
	struct sieve_testsuite_message *msg;
};

struct sieve_testsuite_setting {
	const char *name, *value;
};

struct sieve_testsuite_binary {
	const char *name;
	struct sieve_ast *ast;
};

struct sieve_testsuite {
	pool_t pool;
	/* directory of the .svtest file, with a trailing '/' */
	const char *test_dir;
	/* the user running the test (environment vnd.dovecot.username) */
	const char *username;

	/* the message under test, and the one test_set "message" gave */
	struct sieve_testsuite_message *msg;
	struct sieve_testsuite_envelope envelope;
	/* every message parsed, freed at the end */
	ARRAY(struct sieve_testsuite_message *) messages;

	ARRAY(struct sieve_testsuite_mailbox *) mailboxes;
	sieve_testsuite_metadata_array_t server_metadata;
	ARRAY(struct sieve_testsuite_sent) sent;
	ARRAY(struct sieve_testsuite_setting) settings;
	ARRAY(struct sieve_testsuite_binary) binaries;

	/* the script of the last test_script_compile/test_binary_load, NULL if
	   it failed */
	struct sieve_ast *script;
	/* errors of the last compile, run or result execution */
	array_str_t errors;

	/* what the engine reads: the message callbacks (over msg and
	   envelope), the environment built from the settings */
	struct sieve_message sieve_msg;
	struct sieve_env env;
	/* sieve_spamtest_* / sieve_virustest_* settings for env */
	struct sieve_score_config spam_score, virus_score;
	/* sieve_user_email as env->user_addresses */
	const char *user_addresses[2];
	struct sieve_exec_limits limits;
	/* the mail test_message :folder selected (hasflag reads its flags) */
	struct sieve_testsuite_mail *current_mail;
	/* actions of the result already carried out by test_result_execute */
	unsigned int executed_actions;
	/* the implicit keep was carried out already */
	bool implicit_kept;
	/* duplicate ids recorded (vacation handles, duplicate test) */
	array_str_t duplicates;
	/* a runtime error ended the file */
	bool aborted;

	/* test bookkeeping */
	const char *test_name; /* NULL outside a test block */
	const char *fail_reason;
	unsigned int test_count, fail_count;
	/* names of the test blocks started, in order */
	ARRAY(const char *) started;
	bool verbose;
	/* a compile is resolving includes: the loader leaves the error list
	   alone (the compile reports the failure itself) */
	bool compiling;
};

/* The compile-time environment from the settings: includes resolved
   through the same loader as at run time. */
void sieve_testsuite_compile_env(struct sieve_testsuite *ts, struct sieve_compile_env *cenv_r);

/* --- sieve-testsuite-message.c --- */

/* Parses data as a message (RFC 5322 header block + body). Bare LF line
   endings are turned into CRLF first, as a message on the wire has them.
   The message is allocated from its own pool. */
struct sieve_testsuite_message *
sieve_testsuite_message_parse(const void *data, size_t size);
void sieve_testsuite_message_free(struct sieve_testsuite_message **msg);
/* All values of header name (case-insensitive), NULL-terminated, from
   pool. */
const char *const *sieve_testsuite_message_headers(const struct sieve_testsuite_message *msg,
						   pool_t pool, const char *name);
/* The message callbacks reading ts->msg and ts->envelope. */
void sieve_testsuite_message_init(struct sieve_testsuite *ts, struct sieve_message *msg_r);

/* --- sieve-testsuite-store.c --- */

struct sieve_testsuite *sieve_testsuite_create(const char *test_path);
void sieve_testsuite_destroy(struct sieve_testsuite **ts);

/* Replaces the message under test (test_set "message"). */
void sieve_testsuite_set_message(struct sieve_testsuite *ts, const char *data, size_t size);
/* Makes a stored or sent message the one under test (test_message), with
   its envelope (NULLs: derived from its header as for test_set). */
void sieve_testsuite_use_mail(struct sieve_testsuite *ts, const struct sieve_testsuite_message *msg,
			      const char *envelope_from, const char *envelope_to);
/* test_set "envelope.<member>": -1 for an unknown member. */
int sieve_testsuite_set_envelope(struct sieve_testsuite *ts, const char *member, const char *value);

struct sieve_testsuite_mailbox *sieve_testsuite_mailbox_find(struct sieve_testsuite *ts,
							     const char *name);
/* Creates the mailbox if it doesn't exist; NULL at the mailbox limit. */
struct sieve_testsuite_mailbox *sieve_testsuite_mailbox_create(struct sieve_testsuite *ts,
							       const char *name);
/* Stores msg into mailbox with flags. -1 at the limit. */
int sieve_testsuite_mailbox_save(struct sieve_testsuite *ts, struct sieve_testsuite_mailbox *box,
				 const struct sieve_testsuite_message *msg,
				 const char *const *flags, unsigned int flag_count);
/* Metadata: mailbox NULL for server metadata. value NULL unsets. */
int sieve_testsuite_metadata_set(struct sieve_testsuite *ts, const char *mailbox,
				 const char *entry, const char *value);
const char *sieve_testsuite_metadata_get(struct sieve_testsuite *ts, const char *mailbox,
					 const char *entry);

/* Records a message sent by an action. -1 at the limit. */
int sieve_testsuite_send(struct sieve_testsuite *ts, const char *envelope_from,
			 const char *envelope_to, const void *data, size_t size);

/* Settings (test_config_set/unset). value NULL unsets. */
int sieve_testsuite_setting_set(struct sieve_testsuite *ts, const char *name, const char *value);
const char *sieve_testsuite_setting_get(struct sieve_testsuite *ts, const char *name);

/* Errors of the last compile/run/execute (test_error). */
void sieve_testsuite_errors_clear(struct sieve_testsuite *ts);
void sieve_testsuite_error_add(struct sieve_testsuite *ts, const char *text);

/* Reads a file relative to the test directory (test_script_compile,
   includes). Returns 1 with the data (from pool), 0 if it doesn't exist,
   -1 on another error. */
int sieve_testsuite_read_file(struct sieve_testsuite *ts, pool_t pool, const char *path,
			      const char **data_r, size_t *size_r, const char **error_r);

/* Test bookkeeping and the output lines. */
void sieve_testsuite_test_begin(struct sieve_testsuite *ts, const char *name);
void sieve_testsuite_test_fail(struct sieve_testsuite *ts, const char *reason);
void sieve_testsuite_test_end(struct sieve_testsuite *ts);

#endif
