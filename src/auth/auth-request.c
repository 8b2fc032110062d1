/* Authentication requests: runs the SASL exchange, checks credentials
 * against the passdb chain (password, nologin, allow_nets, master users), logs each result
 * once and delivers replies from the event loop, failures after the
 * configured delay. */
#include "auth-request-private.h"
#include "auth-allow-nets.h"
#include "auth-password.h"
#include "base64.h"
#include "buffer.h"
#include "ioloop.h"
#include "log.h"
#include "sasl-server.h"

#include <ctype.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#define AUTH_REASON_FAILED "Authentication failed."
#define AUTH_REASON_TEMP "Temporary authentication failure."
#define AUTH_REASON_PLAINTEXT \
	"Plaintext authentication disallowed on non-secure (SSL/TLS) connections."

static void auth_request_free(struct auth_request *req)
{
	timeout_remove(&req->to);
	sasl_session_end(&req->sasl);
	if (req->prev != NULL)
		req->prev->next = req->next;
	else
		req->auth->requests = req->next;
	if (req->next != NULL)
		req->next->prev = req->prev;
	pool_destroy(&req->pool);
}

void auth_requests_free_all(struct auth *auth)
{
	while (auth->requests != NULL)
		auth_request_free(auth->requests);
}

static void auth_request_deliver(void *context)
{
	struct auth_request *req = context;
	struct auth_reply reply = req->reply;

	req->to = NULL;
	if (reply.status == AUTH_REPLY_CONTINUE)
		req->state = AUTH_REQUEST_STATE_WAIT_CLIENT;
	req->in_callback = true;
	req->cb(&reply, req->context);
	req->in_callback = false;
	if (reply.status != AUTH_REPLY_CONTINUE || req->aborted)
		auth_request_free(req);
}

static void auth_request_schedule(struct auth_request *req, unsigned int delay_ms)
{
	i_assert(req->to == NULL);
	req->to = timeout_add_once(delay_ms, auth_request_deliver, req);
}

static void auth_request_log(struct auth_request *req, const char *result,
			     const char *reason, bool temporary)
{
	log_info(&req->log_ctx, "auth", "result=%s mech=%s proto=%s%s%s%s", result,
		 log_value(req->info.mech == NULL ? "" : req->info.mech),
		 log_value(req->info.protocol == NULL ? "" : req->info.protocol),
		 reason == NULL ? "" : " reason=",
		 reason == NULL ? "" : log_value(reason),
		 temporary ? " temporary=yes" : "");
}

static time_t auth_request_now(void)
{
	return (time_t)(ioloop_now_ms() / 1000);
}

/* Before a password check for user: the penalty's delay for this answer,
   or a refusal (reasons set, returns 0; else 1). */
static int auth_request_penalty_check(struct auth_request *req, const char *user)
{
	const char *reason;

	if (req->auth->penalty == NULL)
		return 1;
	req->penalty_user = p_strdup(req->pool, user);
	if (auth_penalty_check(req->auth->penalty, req->info.remote_ip, user,
			       auth_request_now(), &req->penalty_delay_ms, &reason) > 0) {
		req->penalty_refused = true;
		req->fail_log_reason = reason;
		return 0;
	}
	return 1;
}

/* log_reason is for the log; user_reason is shown to the client. */
static void auth_request_fail(struct auth_request *req, enum auth_fail_code code,
			      const char *log_reason, const char *user_reason)
{
	bool temporary = code == AUTH_FAIL_TEMPORARY;

	req->state = AUTH_REQUEST_STATE_FINISHED;
	if (req->auth->penalty != NULL && code == AUTH_FAIL_CREDENTIALS &&
	    req->penalty_user != NULL && !req->penalty_refused) {
		auth_penalty_record_failure(req->auth->penalty, req->info.remote_ip,
					    req->penalty_user, auth_request_now());
	}
	auth_request_log(req, "fail", log_reason, temporary);
	req->reply = (struct auth_reply){
		.status = AUTH_REPLY_FAIL,
		.reason = p_strdup(req->pool, user_reason),
		.temporary = temporary,
		.fail_code = code,
		.referral = code == AUTH_FAIL_DISABLED ? req->fail_referral : NULL,
	};
	auth_request_schedule(req, I_MAX(req->auth->failure_delay_ms, req->penalty_delay_ms));
}

static void auth_request_success(struct auth_request *req)
{
	req->state = AUTH_REQUEST_STATE_FINISHED;
	req->log_ctx.user = req->user->name;
	if (req->auth->penalty != NULL && req->penalty_user != NULL) {
		auth_penalty_record_success(req->auth->penalty, req->info.remote_ip,
					    req->penalty_user, auth_request_now());
	}
	auth_request_log(req, "ok", NULL, false);
	req->reply = (struct auth_reply){
		.status = AUTH_REPLY_OK,
		.user = req->user->name,
		.userdb = req->user,
	};
	/* a right guess waits as long as a wrong one would have */
	auth_request_schedule(req, req->penalty_delay_ms);
}

static void auth_request_challenge(struct auth_request *req, const buffer_t *challenge)
{
	string_t *str = str_new(req->pool, base64_encoded_size(challenge->used) + 1);

	base64_encode(challenge->data, challenge->used, str);
	req->state = AUTH_REQUEST_STATE_REPLY_PENDING;
	req->reply = (struct auth_reply){
		.status = AUTH_REPLY_CONTINUE,
		.challenge = str_c(str),
	};
	auth_request_schedule(req, 0);
}

/* The passdb checks after a password matched: extra fields that refuse
   the login. Returns 1 allowed, 0 refused (reasons set), -1 error. */
int auth_request_check_user(struct auth_request *req, const struct auth_user *user)
{
	const char *nets, *error;

	if (auth_user_extra_get(user, "nologin") != NULL) {
		const char *reason = auth_user_extra_get(user, "reason");
		req->fail_log_reason = "nologin";
		req->fail_code = AUTH_FAIL_DISABLED;
		req->fail_user_reason = reason != NULL && reason[0] != '\0' ?
			p_strdup(req->pool, reason) : "Login disabled.";
		const char *referral = auth_user_extra_get(user, "referral");
		if (referral != NULL && referral[0] != '\0')
			req->fail_referral = p_strdup(req->pool, referral);
		return 0;
	}
	nets = auth_user_extra_get(user, "allow_nets");
	if (nets != NULL) {
		int ret = auth_allow_nets_match(nets, req->info.remote_ip, &error);
		if (ret < 0) {
			log_error(&req->log_ctx, "auth", "error=%s", log_value(error));
			req->fail_log_reason = "invalid allow_nets";
			return -1;
		}
		if (ret == 0) {
			req->fail_log_reason = "remote IP not in allow_nets";
			return 0;
		}
	}
	return 1;
}

void auth_request_lookup_info(struct auth_request *req, const char *user,
				     struct auth_db_lookup *lookup_r)
{
	*lookup_r = (struct auth_db_lookup){
		.user = auth_lookup_name(req->auth, user),
		.service = req->info.protocol,
		.remote_ip = req->info.remote_ip,
		.local_ip = req->info.local_ip,
	};
}

/* The user a passdb approved, with the userdb's fields; 1, 0 (not in the
   userdb) or -1, with reasons set. */
int auth_request_finish_user(struct auth_request *req,
				    const struct auth_db_lookup *lookup,
				    struct auth_user *passdb_user)
{
	int ret = auth_request_check_user(req, passdb_user);
	if (ret <= 0)
		return ret;
	ret = auth_lookup_user_for_login(req->auth, lookup, passdb_user, req->pool,
					 &req->user);
	if (ret <= 0) {
		req->fail_log_reason = ret < 0 ? "userdb error" : "unknown user in userdb";
		return ret;
	}
	return 1;
}

/* A master user (RFC 4616 authzid, or "user*master") logs in as target:
   master's password is checked against the master passdbs, and target
   must exist. */
static int auth_request_verify_master(struct auth_request *req, const char *target,
				      const char *master, const char *password)
{
	struct auth_db_lookup lookup;
	struct auth_user *mu, *user;

	if (!auth_has_master_passdb(req->auth) || target[0] == '\0') {
		req->fail_log_reason = t_strdup_printf("authzid %s not allowed", target);
		req->fail_user_reason = "Authorization identity not permitted.";
		return 0;
	}
	auth_request_lookup_info(req, master, &lookup);
	if (auth_request_penalty_check(req, lookup.user) == 0)
		return 0;
	int ret = auth_passdb_verify(req->auth, &lookup, true, password, req->pool, &mu);
	if (ret <= 0) {
		req->fail_log_reason = ret < 0 ? "passdb error" : "master password mismatch";
		return ret;
	}
	auth_request_lookup_info(req, target, &lookup);
	req->log_ctx.user = p_strdup(req->pool, lookup.user);
	ret = auth_userdb_lookup(req->auth, &lookup, req->pool, &user, &req->fail_log_reason);
	if (ret <= 0) {
		req->fail_log_reason = ret < 0 ? "userdb error" : "unknown user (master login)";
		return ret;
	}
	user->name = p_strdup(req->pool, lookup.user);
	log_info(&req->log_ctx, "auth", "master_user=%s", log_value(mu->name));
	if ((ret = auth_request_check_user(req, user)) <= 0)
		return ret;
	req->user = user;
	return 1;
}

static int auth_request_verify_plain(void *context, const char *authzid,
				     const char *authcid, const char *password)
{
	struct auth_request *req = context;
	struct auth_db_lookup lookup;
	struct auth_user *user;
	const char *sep = req->auth->master_user_separator;
	int ret;

	req->log_ctx.user = p_strdup(req->pool, authcid);
	if (strlen(password) > AUTH_REQUEST_MAX_PASSWORD_LEN) {
		req->fail_log_reason = "password too long";
		return 0;
	}
	if (authzid != NULL && strcmp(authzid, authcid) != 0)
		return auth_request_verify_master(req, authzid, authcid, password);
	const char *p = sep[0] == '\0' ? NULL : strstr(authcid, sep);
	if (p != NULL && auth_has_master_passdb(req->auth)) {
		return auth_request_verify_master(req, t_strndup(authcid, (size_t)(p - authcid)),
						  p + strlen(sep), password);
	}
	auth_request_lookup_info(req, authcid, &lookup);
	req->log_ctx.user = p_strdup(req->pool, lookup.user);
	if (auth_request_penalty_check(req, lookup.user) == 0)
		return 0;
	ret = auth_passdb_verify(req->auth, &lookup, false, password, req->pool, &user);
	if (ret <= 0) {
		req->fail_log_reason = ret < 0 ? "passdb error" :
			"unknown user or password mismatch";
		return ret;
	}
	return auth_request_finish_user(req, &lookup, user);
}

static const struct sasl_callbacks auth_sasl_callbacks = {
	.verify_plain = auth_request_verify_plain,
	.lookup_credentials = auth_request_lookup_credentials,
	.credentials_verified = auth_request_credentials_verified,
	.verify_token = auth_request_verify_token,
	.verify_external = auth_request_verify_external,
};

static void auth_request_step(struct auth_request *req, const void *data,
			      size_t size, bool have_input)
{
	buffer_t *output = buffer_create(t_pool(), 64);
	const char *error;

	/* reasons stay from earlier steps: a mechanism may look the user
	   up in one step and fail in the next (SCRAM, OAUTHBEARER) */
	int ret = sasl_session_step(req->sasl, data, size, have_input, output, &error);
	if (ret == 0) {
		auth_request_challenge(req, output);
	} else if (ret > 0 && req->user != NULL) {
		auth_request_success(req);
	} else if (ret > 0) {
		/* SASL succeeded without our callback approving a user */
		auth_request_fail(req, AUTH_FAIL_TEMPORARY,
				  "mechanism finished without a user", AUTH_REASON_TEMP);
	} else if (sasl_session_failed_temporarily(req->sasl)) {
		auth_request_fail(req, AUTH_FAIL_TEMPORARY, req->fail_log_reason,
				  AUTH_REASON_TEMP);
	} else if (req->fail_log_reason == NULL &&
		   sasl_session_get_rejection(req->sasl) == NULL) {
		/* refused before any credentials were checked */
		auth_request_fail(req, AUTH_FAIL_MALFORMED, error, error);
	} else {
		auth_request_fail(req, req->fail_code, req->fail_log_reason != NULL ?
				  req->fail_log_reason : sasl_session_get_rejection(req->sasl),
				  req->fail_user_reason != NULL ?
				  req->fail_user_reason : AUTH_REASON_FAILED);
	}
}

/* Decodes a client's base64 line into output. "=" is an empty message
   (RFC 4959 §3). Returns 0, or -1 after failing the request. */
static int auth_request_decode(struct auth_request *req, const char *b64,
			       buffer_t *output)
{
	size_t len = strlen(b64);

	if (len > AUTH_REQUEST_MAX_RESPONSE_LEN) {
		auth_request_fail(req, AUTH_FAIL_MALFORMED, "response too long",
				  "Authentication response too long.");
		return -1;
	}
	if (strcmp(b64, "=") == 0)
		return 0;
	if (base64_decode(b64, len, output) < 0) {
		auth_request_fail(req, AUTH_FAIL_MALFORMED, "invalid base64",
				  "Invalid base64 data.");
		return -1;
	}
	return 0;
}

static void auth_request_copy_info(struct auth_request *req,
				   const struct auth_request_info *info)
{
	pool_t pool = req->pool;

	req->info = *info;
	req->info.mech = p_strdup(pool, info->mech);
	req->info.protocol = p_strdup(pool, info->protocol);
	req->info.session_id = p_strdup(pool, info->session_id);
	req->info.remote_ip = p_strdup(pool, info->remote_ip);
	req->info.local_ip = p_strdup(pool, info->local_ip);
	req->info.channel_binding = info->channel_binding == NULL ? NULL :
		p_memdup(pool, info->channel_binding, info->channel_binding_size);
	req->info.cert_username = p_strdup(pool, info->cert_username);
	req->log_ctx.session = req->info.session_id;
	req->log_ctx.remote = req->info.remote_ip;
}

/* Mechanism and connection checks before any SASL. Returns 0 or -1 after
   failing the request. */
static int auth_request_start_sasl(struct auth_request *req)
{
	const char *error;

	req->mech = req->info.mech == NULL ? NULL :
		auth_mech_find(req->auth, req->info.mech);
	if (req->mech == NULL) {
		auth_request_fail(req, AUTH_FAIL_MECH_UNSUPPORTED, "unsupported mechanism",
				  "Unsupported authentication mechanism.");
		return -1;
	}
	req->info.mech = req->mech;
	if (sasl_mech_is_plaintext(req->mech) && !req->info.secured &&
	    !req->auth->allow_insecure_plaintext) {
		auth_request_fail(req, AUTH_FAIL_PLAINTEXT_INSECURE,
				  "plaintext on unsecured connection", AUTH_REASON_PLAINTEXT);
		return -1;
	}
	req->sasl = sasl_session_begin(req->mech, &auth_sasl_callbacks, req, &error);
	if (req->sasl == NULL) {
		log_error(&req->log_ctx, "auth", "error=%s", log_value(error));
		auth_request_fail(req, AUTH_FAIL_TEMPORARY, "SASL start failed",
				  AUTH_REASON_TEMP);
		return -1;
	}
	if (req->info.channel_binding != NULL) {
		sasl_session_set_channel_binding(req->sasl, req->info.channel_binding,
						 req->info.channel_binding_size);
	}
	return 0;
}

static struct auth_request *auth_request_new(struct auth *auth,
					     const struct auth_request_info *info,
					     auth_reply_callback_t *cb, void *context)
{
	pool_t pool = pool_create("auth request", 1024);
	struct auth_request *req = p_new(pool, struct auth_request, 1);

	req->pool = pool;
	req->auth = auth;
	req->cb = cb;
	req->context = context;
	req->next = auth->requests;
	if (auth->requests != NULL)
		auth->requests->prev = req;
	auth->requests = req;
	auth_request_copy_info(req, info);
	req->state = AUTH_REQUEST_STATE_REPLY_PENDING;
	return req;
}

/* Checks an APOP digest. Returns 1 ok, 0 refused (reasons set), -1 error. */
static int auth_request_verify_apop(struct auth_request *req, const char *user_name,
				    const char *challenge, const char *digest)
{
	struct auth_user *user;
	struct auth_db_lookup lookup;
	const char *plaintext;

	auth_request_lookup_info(req, user_name, &lookup);
	req->log_ctx.user = p_strdup(req->pool, lookup.user);
	if (auth_request_penalty_check(req, lookup.user) == 0)
		return 0;
	int ret = auth_passdb_lookup(req->auth, &lookup, req->pool, &user);
	if (ret <= 0) {
		req->fail_log_reason = ret < 0 ? "passdb error" : "unknown user";
		return ret;
	}
	if (user->password == NULL || password_get_plaintext(user->password, &plaintext) == 0) {
		req->fail_log_reason = "APOP needs a plaintext password in the passdb";
		return 0;
	}
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len;
	string_t *input = t_str_new(256);
	str_append(input, challenge);
	str_append(input, plaintext);
	bool ok = EVP_Digest(str_data(input), str_len(input), md, &md_len, EVP_md5(), NULL) == 1;
	explicit_bzero(input->data, input->alloc);
	if (!ok) {
		req->fail_log_reason = "MD5 failed";
		return -1;
	}
	char hex[2 * EVP_MAX_MD_SIZE + 1];
	for (unsigned int i = 0; i < md_len; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	char given[2 * EVP_MAX_MD_SIZE + 1];
	size_t len = strlen(digest);
	for (size_t i = 0; i < len && i < sizeof(given) - 1; i++)
		given[i] = (char)tolower((unsigned char)digest[i]);
	if (len != 2 * md_len || CRYPTO_memcmp(hex, given, len) != 0) {
		req->fail_log_reason = "password mismatch";
		return 0;
	}
	return auth_request_finish_user(req, &lookup, user);
}

struct auth_request *auth_request_begin_apop(struct auth *auth,
					     const struct auth_request_info *info,
					     const char *user, const char *challenge,
					     const char *digest,
					     auth_reply_callback_t *cb, void *context)
{
	struct auth_request *req = auth_request_new(auth, info, cb, context);
	/* APOP sends no password, so it is fine on unsecured connections */
	req->mech = "APOP";
	req->info.mech = req->mech;
	req->log_ctx.user = p_strdup(req->pool, user);
	req->fail_code = AUTH_FAIL_CREDENTIALS;
	int ret = auth_request_verify_apop(req, user, challenge, digest);
	if (ret > 0)
		auth_request_success(req);
	else if (ret < 0)
		auth_request_fail(req, AUTH_FAIL_TEMPORARY, req->fail_log_reason, AUTH_REASON_TEMP);
	else
		auth_request_fail(req, req->fail_code, req->fail_log_reason,
				  req->fail_user_reason != NULL ? req->fail_user_reason :
				  AUTH_REASON_FAILED);
	return req;
}

struct auth_request *auth_request_begin(struct auth *auth,
					const struct auth_request_info *info,
					const char *initial_response,
					auth_reply_callback_t *cb, void *context)
{
	struct auth_request *req = auth_request_new(auth, info, cb, context);

	if (auth_request_start_sasl(req) < 0)
		return req;
	if (initial_response == NULL) {
		auth_request_step(req, NULL, 0, false);
		return req;
	}
	buffer_t *input = buffer_create(t_pool(), strlen(initial_response));
	if (auth_request_decode(req, initial_response, input) == 0)
		auth_request_step(req, input->data, input->used, true);
	explicit_bzero(input->data, input->alloc);
	return req;
}

void auth_request_continue(struct auth_request *req, const char *response)
{
	i_assert(req->state == AUTH_REQUEST_STATE_WAIT_CLIENT);

	req->state = AUTH_REQUEST_STATE_REPLY_PENDING;
	if (strcmp(response, "*") == 0) {
		auth_request_fail(req, AUTH_FAIL_ABORTED, "aborted by client",
				  "Authentication aborted by client.");
		return;
	}
	buffer_t *input = buffer_create(t_pool(), strlen(response));
	if (auth_request_decode(req, response, input) == 0)
		auth_request_step(req, input->data, input->used, true);
	explicit_bzero(input->data, input->alloc);
}

void auth_request_abort(struct auth_request **_req)
{
	struct auth_request *req = *_req;

	if (req == NULL)
		return;
	*_req = NULL;
	if (req->state != AUTH_REQUEST_STATE_FINISHED)
		auth_request_log(req, "aborted", NULL, false);
	if (req->in_callback) {
		/* freed when the callback returns */
		req->aborted = true;
		return;
	}
	auth_request_free(req);
}
