/* The state of one authentication attempt, shared by auth-request.c (the
 * exchange, PLAIN/LOGIN and APOP) and auth-request-sasl.c (credential,
 * token and EXTERNAL mechanisms). */
#ifndef TERN_AUTH_REQUEST_PRIVATE_H
#define TERN_AUTH_REQUEST_PRIVATE_H

#include "auth-private.h"
#include "log.h"
#include "sasl-server.h"

enum auth_request_state {
	/* a reply is scheduled */
	AUTH_REQUEST_STATE_REPLY_PENDING,
	/* a CONTINUE was delivered; waiting for auth_request_continue() */
	AUTH_REQUEST_STATE_WAIT_CLIENT,
	/* the OK or FAIL reply is scheduled or being delivered */
	AUTH_REQUEST_STATE_FINISHED,
};

struct auth_request {
	struct auth *auth;
	pool_t pool;
	struct auth_request *prev, *next;
	auth_reply_callback_t *cb;
	void *context;

	struct auth_request_info info;
	const char *mech; /* canonical, NULL if unknown */
	struct sasl_session *sasl;
	struct log_ctx log_ctx;
	struct timeout *to;
	enum auth_request_state state;
	struct auth_reply reply;

	/* set while checking credentials */
	struct auth_user *user;
	const char *fail_log_reason;  /* for the log, never the client */
	const char *fail_user_reason; /* NULL: the generic text */
	const char *fail_referral;    /* nologin with a referral field */
	enum auth_fail_code fail_code;
	/* credential mechanisms (auth-request-sasl.c): the passdb entry
	   lookup_credentials found, and for a master login the user to log
	   in as */
	struct auth_user *sasl_passdb_user;
	const char *sasl_master_target;

	/* brute-force penalty: the user name counted (NULL until known),
	   the delay its answer waits, and whether it was refused outright */
	const char *penalty_user;
	unsigned int penalty_delay_ms;
	bool penalty_refused;

	bool in_callback;
	bool aborted;
};

/* auth-request.c */
/* The passdb checks after a password matched: extra fields that refuse
   the login. Returns 1 allowed, 0 refused (reasons set), -1 error. */
int auth_request_check_user(struct auth_request *req, const struct auth_user *user);
void auth_request_lookup_info(struct auth_request *req, const char *user,
			      struct auth_db_lookup *lookup_r);
/* The user a passdb approved, with the userdb's fields; 1, 0 (not in the
   userdb) or -1, with reasons set. */
int auth_request_finish_user(struct auth_request *req, const struct auth_db_lookup *lookup,
			     struct auth_user *passdb_user);

/* auth-request-sasl.c: the sasl_callbacks of the mechanisms other than
   PLAIN and LOGIN */
int auth_request_lookup_credentials(void *context, const char *mech,
				    const char *authzid, const char *authcid,
				    struct sasl_credentials *creds_r);
int auth_request_credentials_verified(void *context, const char *authzid,
				      const char *authcid);
int auth_request_verify_token(void *context, const char *mech, const char *authzid,
			      const char *token);
int auth_request_verify_external(void *context, const char *authzid);

#endif
