/* SASL server sessions (RFC 4422): the mechanism table, libgsasl for PLAIN,
 * LOGIN and SCRAM, and the step driver shared with our own mechanisms.
 * Credentials go to the caller through callbacks, answered synchronously. */
#include "sasl-private.h"
#include "base64.h"

#include <strings.h>

#define SASL_FLAGS_SCRAM SASL_MECH_FLAG_CREDENTIALS
#define SASL_FLAGS_SCRAM_PLUS (SASL_MECH_FLAG_CREDENTIALS | SASL_MECH_FLAG_CHANNEL_BINDING)
#define SASL_FLAGS_TOKEN (SASL_MECH_FLAG_PLAINTEXT | SASL_MECH_FLAG_TOKEN)

/* In the order auth.mechanisms' error message lists them. CRAM-MD5 is
   ours because libgsasl can only check it against a cleartext password,
   not Dovecot's stored HMAC states; EXTERNAL because libgsasl's loops on
   an empty message. */
static const struct sasl_mech sasl_mechs[] = {
	{ .name = "PLAIN", .flags = SASL_MECH_FLAG_PLAINTEXT },
	{ .name = "LOGIN", .flags = SASL_MECH_FLAG_PLAINTEXT },
	{ .name = "CRAM-MD5", .flags = SASL_MECH_FLAG_CREDENTIALS, .v = &sasl_mech_cram_md5 },
	{ .name = "SCRAM-SHA-1", .flags = SASL_FLAGS_SCRAM },
	{ .name = "SCRAM-SHA-1-PLUS", .flags = SASL_FLAGS_SCRAM_PLUS },
	{ .name = "SCRAM-SHA-256", .flags = SASL_FLAGS_SCRAM },
	{ .name = "SCRAM-SHA-256-PLUS", .flags = SASL_FLAGS_SCRAM_PLUS },
	{ .name = "OAUTHBEARER", .flags = SASL_FLAGS_TOKEN, .v = &sasl_mech_oauthbearer },
	{ .name = "XOAUTH2", .flags = SASL_FLAGS_TOKEN, .v = &sasl_mech_xoauth2 },
	{ .name = "EXTERNAL", .flags = SASL_MECH_FLAG_EXTERNAL, .v = &sasl_mech_external },
};

static Gsasl *sasl_ctx;
static unsigned int sasl_refcount;

static const struct sasl_mech *sasl_mech_find(const char *name)
{
	for (size_t i = 0; i < N_ELEMENTS(sasl_mechs); i++) {
		if (strcasecmp(sasl_mechs[i].name, name) == 0)
			return &sasl_mechs[i];
	}
	return NULL;
}

void sasl_session_set_identities(struct sasl_session *s, const char *authid,
				 const char *authzid)
{
	i_free(s->authid);
	i_free(s->authzid);
	s->authid = authid == NULL ? NULL : i_strdup(authid);
	if (authzid != NULL && authzid[0] != '\0' &&
	    (authid == NULL || strcmp(authzid, authid) != 0))
		s->authzid = i_strdup(authzid);
}

int sasl_session_callback_result(struct sasl_session *s, int ret)
{
	if (ret > 0)
		return 1;
	if (ret < 0)
		s->temp_failed = true;
	else
		s->rejection = "refused by callback";
	return -1;
}

static int sasl_validate_simple(struct sasl_session *s)
{
	const char *authid = gsasl_property_fast(s->gs, GSASL_AUTHID);
	const char *authzid = gsasl_property_fast(s->gs, GSASL_AUTHZID);
	const char *password = gsasl_property_fast(s->gs, GSASL_PASSWORD);

	if (authid == NULL || password == NULL)
		return GSASL_AUTHENTICATION_ERROR;
	if (s->raw_password != NULL)
		password = s->raw_password;
	/* libgsasl may fill in authzid from authcid: asking to act as
	   yourself is the same as not asking */
	if (authzid != NULL && (authzid[0] == '\0' || strcmp(authzid, authid) == 0))
		authzid = NULL;
	int ret = s->cb->verify_plain(s->context, authzid, authid, password);
	return sasl_session_callback_result(s, ret) > 0 ? GSASL_OK :
		GSASL_AUTHENTICATION_ERROR;
}

static int sasl_gsasl_callback(Gsasl *ctx, Gsasl_session *gs, Gsasl_property prop)
{
	struct sasl_session *s = gs == NULL ? NULL : gsasl_session_hook_get(gs);

	if (s == NULL)
		return GSASL_NO_CALLBACK;
	if (prop == GSASL_VALIDATE_SIMPLE && s->cb->verify_plain != NULL)
		return sasl_validate_simple(s);
	if ((s->mech->flags & SASL_MECH_FLAG_CREDENTIALS) != 0)
		return sasl_scram_property(s, prop);
	/* Never let libgsasl fall back to fetching a cleartext password
	   (GSASL_PASSWORD) and comparing it itself. */
	return GSASL_NO_CALLBACK;
}

int sasl_server_init(const char **error_r)
{
	if (sasl_refcount > 0) {
		sasl_refcount++;
		return 0;
	}
	int ret = gsasl_init(&sasl_ctx);
	if (ret != GSASL_OK) {
		*error_r = t_strdup_printf("gsasl_init() failed: %s", gsasl_strerror(ret));
		sasl_ctx = NULL;
		return -1;
	}
	for (size_t i = 0; i < N_ELEMENTS(sasl_mechs); i++) {
		if (sasl_mechs[i].v == NULL &&
		    gsasl_server_support_p(sasl_ctx, sasl_mechs[i].name) == 0) {
			*error_r = t_strdup_printf("libgsasl lacks server mechanism %s",
						   sasl_mechs[i].name);
			gsasl_done(sasl_ctx);
			sasl_ctx = NULL;
			return -1;
		}
	}
	gsasl_callback_set(sasl_ctx, sasl_gsasl_callback);
	sasl_refcount = 1;
	return 0;
}

void sasl_server_deinit(void)
{
	i_assert(sasl_refcount > 0);
	if (--sasl_refcount > 0)
		return;
	gsasl_done(sasl_ctx);
	sasl_ctx = NULL;
}

bool sasl_mech_is_supported(const char *mech)
{
	return mech != NULL && sasl_mech_find(mech) != NULL;
}

bool sasl_mech_is_plaintext(const char *mech)
{
	return (sasl_mech_get_flags(mech) & SASL_MECH_FLAG_PLAINTEXT) != 0;
}

enum sasl_mech_flags sasl_mech_get_flags(const char *mech)
{
	const struct sasl_mech *m = mech == NULL ? NULL : sasl_mech_find(mech);
	return m == NULL ? 0 : m->flags;
}

const char *sasl_mechanisms_supported(void)
{
	static char list[256];

	if (list[0] == '\0') {
		string_t *str = t_str_new(sizeof(list));
		for (size_t i = 0; i < N_ELEMENTS(sasl_mechs); i++) {
			if (i > 0)
				str_append_c(str, ' ');
			str_append(str, sasl_mechs[i].name);
		}
		i_assert(str_len(str) < sizeof(list));
		memcpy(list, str_data(str), str_len(str));
	}
	return list;
}

struct sasl_session *sasl_session_begin(const char *mech,
					const struct sasl_callbacks *cb,
					void *context, const char **error_r)
{
	const struct sasl_mech *m = mech == NULL ? NULL : sasl_mech_find(mech);
	struct sasl_session *s;
	Gsasl_session *gs = NULL;

	i_assert(sasl_ctx != NULL);
	if (m == NULL) {
		*error_r = "Unsupported authentication mechanism.";
		return NULL;
	}
	if (m->v == NULL) {
		int ret = gsasl_server_start(sasl_ctx, m->name, &gs);
		if (ret != GSASL_OK) {
			*error_r = t_strdup_printf("gsasl_server_start(%s) failed: %s",
						   m->name, gsasl_strerror(ret));
			return NULL;
		}
	}
	s = i_new(struct sasl_session, 1);
	s->gs = gs;
	s->mech = m;
	s->cb = cb;
	s->context = context;
	if (gs != NULL)
		gsasl_session_hook_set(gs, s);
	return s;
}

void sasl_session_set_channel_binding(struct sasl_session *s,
				      const unsigned char *data, size_t size)
{
	i_assert(s->steps == 0);
	i_free(s->channel_binding);
	s->channel_binding = i_malloc(size);
	memcpy(s->channel_binding, data, size);
	s->channel_binding_size = size;
	if (s->gs != NULL) {
		string_t *b64 = t_str_new(base64_encoded_size(size) + 1);
		base64_encode(data, size, b64);
		(void)gsasl_property_set(s->gs, GSASL_CB_TLS_EXPORTER, str_c(b64));
	}
}

static const char *sasl_error_text(struct sasl_session *s, int gsasl_ret)
{
	if (s->temp_failed)
		return "Temporary authentication failure.";
	switch (gsasl_ret) {
	case GSASL_AUTHENTICATION_ERROR:
	case GSASL_NO_PASSWORD:
		return "Authentication failed.";
	case GSASL_MECHANISM_PARSE_ERROR:
		return "Invalid authentication message.";
	case GSASL_SASLPREP_ERROR:
		return "Invalid characters in credentials.";
	case GSASL_MECHANISM_CALLED_TOO_MANY_TIMES:
		return "Authentication exchange too long.";
	case GSASL_NO_CB_TLS_EXPORTER:
	case GSASL_NO_CB_TLS_UNIQUE:
		return "Channel binding is not available on this connection.";
	default:
		return "Authentication failed.";
	}
}

/* libgsasl hands PLAIN's password to us after SASLprep (RFC 4013), which
   rewrites some non-ASCII passwords (NFKC). Stored hashes were made from
   the bytes users typed, as Dovecot and our LOGIN see them, so keep the
   password exactly as it came: authzid NUL authcid NUL passwd (RFC 4616 §2).
   libgsasl still parses and validates the message. */
static void sasl_plain_keep_password(struct sasl_session *s, const char *input,
				     size_t input_len)
{
	const char *end = input + input_len;
	const char *p1 = memchr(input, '\0', input_len);
	const char *p2 = p1 == NULL ? NULL : memchr(p1 + 1, '\0', (size_t)(end - p1 - 1));

	if (p2 == NULL || memchr(p2 + 1, '\0', (size_t)(end - p2 - 1)) != NULL)
		return;
	size_t len = (size_t)(end - p2 - 1);
	s->raw_password = i_malloc(len + 1);
	memcpy(s->raw_password, p2 + 1, len);
	s->raw_password[len] = '\0';
}

/* Runs one gsasl_step and appends its output. Returns the gsasl code. */
static int sasl_gsasl_step(struct sasl_session *s, const void *input,
			   size_t input_len, buffer_t *output)
{
	char *out = NULL;
	size_t out_len = 0;
	int ret = gsasl_step(s->gs, input, input_len, &out, &out_len);

	if (ret == GSASL_OK || ret == GSASL_NEEDS_MORE)
		buffer_append(output, out, out_len);
	gsasl_free(out);
	return ret;
}

/* A mechanism run by libgsasl; same contract as sasl_session_step(). */
static int sasl_gsasl_run(struct sasl_session *s, const unsigned char *input,
			  size_t input_len, buffer_t *output, const char **error_r)
{
	int ret;

	if (s->steps == 1 && input_len > 0 && strcmp(s->mech->name, "LOGIN") == 0) {
		/* libgsasl ignores a LOGIN initial response and asks for the
		   user name anyway; SMTP clients send the user name there. Run
		   the "User Name" step first so the response answers it. */
		buffer_t *discard = buffer_create(t_pool(), 16);
		ret = sasl_gsasl_step(s, NULL, 0, discard);
		if (ret != GSASL_NEEDS_MORE) {
			*error_r = sasl_error_text(s, ret);
			return -1;
		}
	}
	if (s->raw_password == NULL && input_len > 0 &&
	    strcmp(s->mech->name, "PLAIN") == 0)
		sasl_plain_keep_password(s, (const char *)input, input_len);
	size_t output_start = output->used;
	ret = sasl_gsasl_step(s, input_len == 0 ? NULL : input, input_len, output);
	if (s->temp_failed) {
		/* a callback whose error libgsasl can't see (property
		   requests have no failure code) */
		ret = GSASL_AUTHENTICATION_ERROR;
	}
	if (ret == GSASL_OK && (s->mech->flags & SASL_MECH_FLAG_CREDENTIALS) != 0)
		ret = sasl_scram_verified(s);
	if (ret == GSASL_NEEDS_MORE)
		return 0;
	if (ret != GSASL_OK) {
		buffer_set_used_size(output, output_start);
		if (!s->temp_failed && s->rejection == NULL &&
		    (ret == GSASL_AUTHENTICATION_ERROR || ret == GSASL_NO_PASSWORD))
			s->rejection = "credentials mismatch";
		*error_r = sasl_error_text(s, ret);
		return -1;
	}
	if (output->used > output_start) {
		/* SCRAM's server signature: the client checks it, and IMAP
		   and POP3 carry it only as a challenge (RFC 4422 §5) */
		s->success_pending = true;
		return 0;
	}
	return 1;
}

/* The client's answer to a challenge sent after success or failure was
   already decided. */
static int sasl_session_final_step(struct sasl_session *s, size_t input_len,
				   const char **error_r)
{
	if (s->failure_pending) {
		*error_r = "Authentication failed.";
		return -1;
	}
	if (input_len > 0) {
		s->rejection = "data after the final challenge";
		*error_r = "Unexpected data after the final challenge.";
		return -1;
	}
	return 1;
}

int sasl_session_step(struct sasl_session *s, const void *input, size_t input_len,
		      bool have_input, buffer_t *output, const char **error_r)
{
	int ret;

	if (s->finished) {
		*error_r = "Authentication already finished.";
		return -1;
	}
	if (input_len > SASL_MAX_INPUT_SIZE || ++s->steps > SASL_MAX_STEPS) {
		s->finished = true;
		*error_r = input_len > SASL_MAX_INPUT_SIZE ?
			"Authentication message too long." :
			"Authentication exchange too long.";
		return -1;
	}
	if (!have_input)
		input_len = 0;
	if (s->steps == 1 && (s->mech->flags & SASL_MECH_FLAG_CHANNEL_BINDING) != 0 &&
	    s->channel_binding == NULL) {
		s->finished = true;
		*error_r = "Channel binding is not available on this connection.";
		return -1;
	}
	if (s->success_pending || s->failure_pending)
		ret = sasl_session_final_step(s, input_len, error_r);
	else if (s->mech->v != NULL)
		ret = s->mech->v->step(s, input, input_len, have_input, output, error_r);
	else
		ret = sasl_gsasl_run(s, input, input_len, output, error_r);
	if (ret != 0)
		s->finished = true;
	return ret;
}

bool sasl_session_failed_temporarily(const struct sasl_session *s)
{
	return s->temp_failed;
}

const char *sasl_session_get_rejection(const struct sasl_session *s)
{
	return s->temp_failed ? NULL : s->rejection;
}

const char *sasl_session_get_authid(const struct sasl_session *s)
{
	if (s->gs == NULL)
		return s->authid;
	return gsasl_property_fast(s->gs, GSASL_AUTHID);
}

const char *sasl_session_get_authzid(const struct sasl_session *s)
{
	if (s->gs == NULL)
		return s->authzid;
	const char *authzid = gsasl_property_fast(s->gs, GSASL_AUTHZID);
	const char *authid = gsasl_property_fast(s->gs, GSASL_AUTHID);

	if (authzid == NULL || authzid[0] == '\0' ||
	    (authid != NULL && strcmp(authzid, authid) == 0))
		return NULL;
	return authzid;
}

const char *sasl_session_get_mech(const struct sasl_session *s)
{
	return s->mech->name;
}

void sasl_session_end(struct sasl_session **_s)
{
	struct sasl_session *s = *_s;

	if (s == NULL)
		return;
	*_s = NULL;
	if (s->mech->v != NULL && s->mech->v->deinit != NULL)
		s->mech->v->deinit(s);
	if (s->raw_password != NULL) {
		explicit_bzero(s->raw_password, strlen(s->raw_password));
		free(s->raw_password);
	}
	if (s->creds != NULL) {
		explicit_bzero(s->creds, sizeof(*s->creds));
		free(s->creds);
	}
	i_free(s->authid);
	i_free(s->authzid);
	i_free(s->channel_binding);
	if (s->gs != NULL)
		gsasl_finish(s->gs);
	i_free(s);
}
