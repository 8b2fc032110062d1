/* What the SASL mechanism files share: the session, the mechanism table
 * entry and the interface of the mechanisms we implement ourselves. */
#ifndef TERN_SASL_PRIVATE_H
#define TERN_SASL_PRIVATE_H

#include "sasl-server.h"

#include <gsasl.h>

/* A mechanism libgsasl doesn't run (or runs in a way we can't use). */
struct sasl_mech_vfuncs {
	/* Same contract as sasl_session_step(), after the size and step
	   limits were checked. */
	int (*step)(struct sasl_session *s, const unsigned char *input,
		    size_t input_len, bool have_input, buffer_t *output,
		    const char **error_r);
	/* Frees s->mech_data; NULL if there is nothing to free. */
	void (*deinit)(struct sasl_session *s);
};

struct sasl_mech {
	const char *name;
	enum sasl_mech_flags flags;
	/* NULL: libgsasl runs it */
	const struct sasl_mech_vfuncs *v;
};

struct sasl_session {
	Gsasl_session *gs; /* NULL for our own mechanisms */
	const struct sasl_mech *mech;
	const struct sasl_callbacks *cb;
	void *context;
	void *mech_data;
	/* PLAIN's password as the client sent it (see sasl_plain_keep_password) */
	char *raw_password;
	/* identities of our own mechanisms (libgsasl keeps its own) */
	char *authid, *authzid;
	unsigned char *channel_binding;
	size_t channel_binding_size;
	/* SCRAM: the stored secret looked up at the first message */
	struct sasl_credentials *creds;
	unsigned int steps;
	bool finished;
	bool temp_failed;
	/* the exchange succeeded; waiting for the client's empty answer to
	   the final data */
	bool success_pending;
	/* refused; waiting for the client's answer to the error challenge */
	bool failure_pending;
	/* see sasl_session_get_rejection() */
	const char *rejection;
};

extern const struct sasl_mech_vfuncs sasl_mech_cram_md5;
extern const struct sasl_mech_vfuncs sasl_mech_oauthbearer;
extern const struct sasl_mech_vfuncs sasl_mech_xoauth2;
extern const struct sasl_mech_vfuncs sasl_mech_external;

/* Sets s->authid / s->authzid (copies; NULL or "" authzid, or one equal
   to authid, clears it). */
void sasl_session_set_identities(struct sasl_session *s, const char *authid,
				 const char *authzid);
/* Maps a callback's 1/0/-1 to 1/-1, setting temp_failed for -1 and the
   rejection for 0. */
int sasl_session_callback_result(struct sasl_session *s, int ret);

/* sasl-scram.c: libgsasl's property requests during a SCRAM exchange.
   Returns a GSASL_* code. */
int sasl_scram_property(struct sasl_session *s, Gsasl_property prop);
/* Runs the credentials_verified callback after libgsasl accepted the
   client's proof. Returns a GSASL_* code. */
int sasl_scram_verified(struct sasl_session *s);

#endif
