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
};

struct sieve_message {
	const struct sieve_message_vfuncs *v;
	void *context;
};

enum sieve_action_type {
	SIEVE_ACTION_KEEP,     /* store into the default mailbox */
	SIEVE_ACTION_FILEINTO, /* store into target */
	SIEVE_ACTION_REDIRECT, /* forward to the address target */
	SIEVE_ACTION_REJECT,   /* refuse with the text target (RFC 5429) */
	SIEVE_ACTION_EREJECT,  /* refuse at SMTP level if possible (RFC 5429) */
	SIEVE_ACTION_DISCARD,  /* nothing else to do: the message is dropped */
};

struct sieve_action {
	enum sieve_action_type type;
	/* mailbox, address or reason; NULL for keep and discard */
	const char *target;
	/* :copy (RFC 3894) was given */
	bool copy;
	/* the implicit keep of RFC 5228 §2.10.2 */
	bool implicit;
	/* line of the command that caused it (0 for the implicit keep) */
	unsigned int line;
};

struct sieve_result {
	/* In execution order, duplicates removed (RFC 5228 §2.10.3); the
	   implicit keep last. Never empty: a run that leaves nothing to do
	   ends in one SIEVE_ACTION_DISCARD. */
	ARRAY(struct sieve_action) actions;
};

struct sieve_exec_limits {
	/* actions the script may cause, implicit keep not counted; 0 = 32 */
	unsigned int max_actions;
	/* redirects; 0 = 4 */
	unsigned int max_redirects;
	/* addresses looked at per header field; 0 = 256 */
	unsigned int max_addresses;
};

/* Runs the validated script on msg. The result is allocated from pool.
   Returns 0 on success. Returns -1 on a runtime error (a limit, an action
   conflict, a failing callback) with *error_r "line N: text": *result_r is
   then the RFC 5228 §2.10.6 fallback, a single implicit keep. */
int sieve_execute(const struct sieve_ast *ast, const struct sieve_message *msg,
		  const struct sieve_exec_limits *limits, pool_t pool,
		  struct sieve_result **result_r, const char **error_r);

/* Writes the actions as "keep", "fileinto:copy \"A\"", ... one per
   line (for tests and logs). */
void sieve_result_write(string_t *dest, const struct sieve_result *result);

#endif
