/* The auth side of the SASL mechanisms beyond PLAIN and LOGIN: stored
 * credentials for CRAM-MD5 and SCRAM (from the passdbs that can hand them
 * out, with master users as for PLAIN), OAuth 2.0 tokens for OAUTHBEARER
 * and XOAUTH2, and the TLS client certificate for EXTERNAL; and which
 * mechanisms a connection is offered. */
#include "auth-request-private.h"
#include "auth-password-sasl.h"
#include "auth-sasl.h"

#define AUTH_REASON_AUTHZID "Authorization identity not permitted."

const char *auth_get_mechanisms_for(struct auth *auth, bool secured,
				    bool channel_binding, bool client_cert)
{
	string_t *str = t_str_new(128);

	for (unsigned int i = 0; i < auth->mechs.count; i++) {
		enum sasl_mech_flags flags = sasl_mech_get_flags(auth->mechs.v[i]);
		if ((flags & SASL_MECH_FLAG_PLAINTEXT) != 0 && !secured &&
		    !auth->allow_insecure_plaintext)
			continue;
		if ((flags & SASL_MECH_FLAG_CHANNEL_BINDING) != 0 && !channel_binding)
			continue;
		if ((flags & SASL_MECH_FLAG_EXTERNAL) != 0 && !client_cert)
			continue;
		if (str_len(str) > 0)
			str_append_c(str, ' ');
		str_append(str, auth->mechs.v[i]);
	}
	return str_c(str);
}

int auth_sasl_init(struct auth *auth, const struct auth_options *opts,
		   const char **error_r)
{
	if (auth_oauth2_create(&opts->oauth2, &auth->oauth2, error_r) < 0)
		return -1;
	for (unsigned int i = 0; i < auth->mechs.count && auth->oauth2 == NULL; i++) {
		if ((sasl_mech_get_flags(auth->mechs.v[i]) & SASL_MECH_FLAG_TOKEN) != 0) {
			*error_r = t_strdup_printf("mechanism %s needs auth.oauth2_jwt_keys_dir, "
						   "oauth2_jwt_secret_file or "
						   "oauth2_introspection_url", auth->mechs.v[i]);
			return -1;
		}
	}
	return 0;
}

void auth_sasl_deinit(struct auth *auth)
{
	auth_oauth2_destroy(&auth->oauth2);
}

/* name's stored secret from the (master) passdbs that can hand one out,
   in a form mech can use. Returns 1 (req->sasl_passdb_user set), 0 with
   the reason set, or -1. */
static int auth_request_find_credentials(struct auth_request *req, const char *mech,
					 const char *name, bool master,
					 struct sasl_credentials *creds_r)
{
	struct auth_db_lookup lookup;
	const char *reason = NULL, *blind_db = NULL;
	bool failed = false;

	auth_request_lookup_info(req, name, &lookup);
	for (unsigned int i = 0; i < req->auth->passdbs.count; i++) {
		struct auth_db *db = req->auth->passdbs.v[i];
		struct auth_user *user = NULL;
		const char *error = NULL;
		if (auth_db_is_master(db) != master)
			continue;
		if (!auth_db_can_hand_out_passwords(db)) {
			blind_db = auth_db_get_name(db);
			continue;
		}
		int ret = auth_db_passdb_lookup(db, &lookup, lookup.user, req->pool, &user, &error);
		if (ret == 0)
			continue;
		if (ret > 0) {
			/* a stored hash the mechanism can't use passes the
			   attempt on, like a password mismatch does */
			ret = password_sasl_get_credentials(user->password, mech, creds_r, &error);
			if (ret > 0) {
				req->sasl_passdb_user = user;
				return 1;
			}
			if (ret == 0) {
				if (reason == NULL)
					reason = t_strdup_printf("passdb %s: %s",
								 auth_db_get_name(db), error);
				continue;
			}
		}
		log_error(&req->log_ctx, "auth", "passdb=%s error=%s",
			  log_value(auth_db_get_name(db)), log_value(error));
		failed = true;
	}
	if (failed)
		reason = "passdb error";
	else if (reason == NULL && blind_db != NULL)
		reason = t_strdup_printf("unknown user (passdb %s can't hand out the "
					 "credentials %s needs)", blind_db, mech);
	if (reason == NULL)
		reason = master ? "unknown master user" : "unknown user";
	req->fail_log_reason = p_strdup(req->pool, reason);
	return failed ? -1 : 0;
}

int auth_request_lookup_credentials(void *context, const char *mech,
				    const char *authzid, const char *authcid,
				    struct sasl_credentials *creds_r)
{
	struct auth_request *req = context;
	const char *sep = req->auth->master_user_separator;
	const char *target = authzid, *login = authcid;

	req->log_ctx.user = p_strdup(req->pool, authcid);
	const char *p = sep[0] == '\0' || target != NULL ? NULL : strstr(authcid, sep);
	if (p != NULL && auth_has_master_passdb(req->auth)) {
		target = t_strndup(authcid, (size_t)(p - authcid));
		login = p + strlen(sep);
	}
	if (target != NULL && (!auth_has_master_passdb(req->auth) || target[0] == '\0')) {
		req->fail_log_reason = p_strdup_printf(req->pool, "authzid %s not allowed", target);
		req->fail_user_reason = AUTH_REASON_AUTHZID;
		return 0;
	}
	req->sasl_master_target = target == NULL ? NULL : p_strdup(req->pool, target);
	if (target == NULL)
		req->log_ctx.user = p_strdup(req->pool, auth_lookup_name(req->auth, login));
	return auth_request_find_credentials(req, mech, login, target != NULL, creds_r);
}

/* A user known without a passdb check (master login target): must be in
   the userdb, and its extra fields may still refuse it. */
static int auth_request_login_userdb(struct auth_request *req, const char *name)
{
	struct auth_db_lookup lookup;
	struct auth_user *user;

	auth_request_lookup_info(req, name, &lookup);
	req->log_ctx.user = p_strdup(req->pool, lookup.user);
	int ret = auth_userdb_lookup(req->auth, &lookup, req->pool, &user,
				     &req->fail_log_reason);
	if (ret <= 0) {
		req->fail_log_reason = ret < 0 ? "userdb error" : "unknown user in userdb";
		return ret;
	}
	user->name = p_strdup(req->pool, lookup.user);
	if ((ret = auth_request_check_user(req, user)) <= 0)
		return ret;
	req->user = user;
	return 1;
}

int auth_request_credentials_verified(void *context, const char *authzid,
				      const char *authcid)
{
	struct auth_request *req = context;
	struct auth_db_lookup lookup;

	if (req->sasl_passdb_user == NULL) {
		req->fail_log_reason = "proof verified without credentials";
		return -1;
	}
	if (req->sasl_master_target != NULL) {
		int ret = auth_request_login_userdb(req, req->sasl_master_target);
		if (ret > 0) {
			log_info(&req->log_ctx, "auth", "master_user=%s",
				 log_value(req->sasl_passdb_user->name));
		}
		return ret;
	}
	auth_request_lookup_info(req, req->sasl_passdb_user->name, &lookup);
	return auth_request_finish_user(req, &lookup, req->sasl_passdb_user);
}

/* A user whose identity was proven another way (token, certificate):
   passdb fields (nologin, allow_nets) apply when a passdb knows the user,
   and the userdb must know it. */
static int auth_request_login_identified(struct auth_request *req, const char *name)
{
	struct auth_db_lookup lookup;
	struct auth_user *passdb_user;

	auth_request_lookup_info(req, name, &lookup);
	req->log_ctx.user = p_strdup(req->pool, lookup.user);
	int ret = auth_passdb_lookup(req->auth, &lookup, req->pool, &passdb_user);
	if (ret < 0) {
		req->fail_log_reason = "passdb error";
		return -1;
	}
	if (ret > 0)
		return auth_request_finish_user(req, &lookup, passdb_user);
	return auth_request_login_userdb(req, name);
}

static bool auth_request_same_user(struct auth_request *req, const char *a, const char *b)
{
	return strcmp(auth_lookup_name(req->auth, a), auth_lookup_name(req->auth, b)) == 0;
}

int auth_request_verify_token(void *context, const char *mech, const char *authzid,
			      const char *token)
{
	struct auth_request *req = context;
	const char *user, *error;

	if (authzid != NULL)
		req->log_ctx.user = p_strdup(req->pool, authzid);
	if (req->auth->oauth2 == NULL) {
		req->fail_log_reason = "no OAuth 2.0 validation configured";
		return -1;
	}
	int ret = auth_oauth2_validate(req->auth->oauth2, token, &user, &error);
	if (ret <= 0) {
		req->fail_log_reason = p_strdup_printf(req->pool, "%s%s",
						       ret == 0 ? "invalid token: " : "", error);
		return ret;
	}
	if (authzid != NULL && !auth_request_same_user(req, authzid, user)) {
		req->fail_log_reason = p_strdup_printf(req->pool, "token is for %s", user);
		return 0;
	}
	return auth_request_login_identified(req, user);
}

int auth_request_verify_external(void *context, const char *authzid)
{
	struct auth_request *req = context;
	const char *identity = req->info.cert_username;

	if (identity == NULL) {
		req->fail_log_reason = "no verified client certificate";
		return 0;
	}
	req->log_ctx.user = p_strdup(req->pool, identity);
	/* RFC 4422 Appendix A.1: acting as someone else needs a policy we
	   don't have */
	if (authzid != NULL && !auth_request_same_user(req, authzid, identity)) {
		req->fail_log_reason = p_strdup_printf(req->pool,
			"authzid %s differs from the certificate's %s", authzid, identity);
		req->fail_user_reason = AUTH_REASON_AUTHZID;
		return 0;
	}
	return auth_request_login_identified(req, identity);
}
