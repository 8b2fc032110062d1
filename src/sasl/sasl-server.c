/* SASL server sessions (RFC 4422) over libgsasl. libgsasl parses the
 * mechanism messages; credentials go to the caller through
 * GSASL_VALIDATE_SIMPLE, which we answer synchronously from the callbacks. */
#include "sasl-server.h"

#include <gsasl.h>
#include <strings.h>

struct sasl_mech {
	const char *name;
	bool plaintext;
};

struct sasl_session {
	Gsasl_session *gs;
	const struct sasl_mech *mech;
	const struct sasl_callbacks *cb;
	void *context;
	/* PLAIN's password as the client sent it (see sasl_plain_keep_password) */
	char *raw_password;
	unsigned int steps;
	bool finished;
	bool temp_failed;
};

/* Mechanisms we let libgsasl run on the server side. Others it implements
   (CRAM-MD5, SCRAM, ...) need stored credentials and come later. */
static const struct sasl_mech sasl_mechs[] = {
	{ .name = "PLAIN", .plaintext = true },
	{ .name = "LOGIN", .plaintext = true },
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
	switch (s->cb->verify_plain(s->context, authzid, authid, password)) {
	case 1:
		return GSASL_OK;
	case 0:
		return GSASL_AUTHENTICATION_ERROR;
	default:
		s->temp_failed = true;
		return GSASL_AUTHENTICATION_ERROR;
	}
}

static int sasl_gsasl_callback(Gsasl *ctx, Gsasl_session *gs, Gsasl_property prop)
{
	struct sasl_session *s = gs == NULL ? NULL : gsasl_session_hook_get(gs);

	if (s == NULL)
		return GSASL_NO_CALLBACK;
	if (prop == GSASL_VALIDATE_SIMPLE && s->cb->verify_plain != NULL)
		return sasl_validate_simple(s);
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
		if (gsasl_server_support_p(sasl_ctx, sasl_mechs[i].name) == 0) {
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
	const struct sasl_mech *m = mech == NULL ? NULL : sasl_mech_find(mech);
	return m != NULL && m->plaintext;
}

const char *sasl_mechanisms_supported(void)
{
	return "PLAIN LOGIN";
}

struct sasl_session *sasl_session_begin(const char *mech,
					const struct sasl_callbacks *cb,
					void *context, const char **error_r)
{
	const struct sasl_mech *m = mech == NULL ? NULL : sasl_mech_find(mech);
	struct sasl_session *s;
	Gsasl_session *gs;

	i_assert(sasl_ctx != NULL);
	if (m == NULL) {
		*error_r = "Unsupported authentication mechanism.";
		return NULL;
	}
	int ret = gsasl_server_start(sasl_ctx, m->name, &gs);
	if (ret != GSASL_OK) {
		*error_r = t_strdup_printf("gsasl_server_start(%s) failed: %s",
					   m->name, gsasl_strerror(ret));
		return NULL;
	}
	s = i_new(struct sasl_session, 1);
	s->gs = gs;
	s->mech = m;
	s->cb = cb;
	s->context = context;
	gsasl_session_hook_set(gs, s);
	return s;
}

static const char *sasl_error_text(struct sasl_session *s, int gsasl_ret)
{
	if (s->temp_failed)
		return "Temporary authentication failure.";
	switch (gsasl_ret) {
	case GSASL_AUTHENTICATION_ERROR:
		return "Authentication failed.";
	case GSASL_MECHANISM_PARSE_ERROR:
		return "Invalid authentication message.";
	case GSASL_SASLPREP_ERROR:
		return "Invalid characters in credentials.";
	case GSASL_MECHANISM_CALLED_TOO_MANY_TIMES:
		return "Authentication exchange too long.";
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
	if (s->steps == 1 && input_len > 0 && strcmp(s->mech->name, "LOGIN") == 0) {
		/* libgsasl ignores a LOGIN initial response and asks for the
		   user name anyway; SMTP clients send the user name there. Run
		   the "User Name" step first so the response answers it. */
		buffer_t *discard = buffer_create(t_pool(), 16);
		ret = sasl_gsasl_step(s, NULL, 0, discard);
		if (ret != GSASL_NEEDS_MORE) {
			s->finished = true;
			*error_r = sasl_error_text(s, ret);
			return -1;
		}
	}
	if (s->raw_password == NULL && input_len > 0 &&
	    strcmp(s->mech->name, "PLAIN") == 0)
		sasl_plain_keep_password(s, input, input_len);
	ret = sasl_gsasl_step(s, input_len == 0 ? NULL : input, input_len, output);
	if (ret == GSASL_NEEDS_MORE)
		return 0;
	s->finished = true;
	if (ret == GSASL_OK)
		return 1;
	*error_r = sasl_error_text(s, ret);
	return -1;
}

bool sasl_session_failed_temporarily(const struct sasl_session *s)
{
	return s->temp_failed;
}

const char *sasl_session_get_authid(const struct sasl_session *s)
{
	return gsasl_property_fast(s->gs, GSASL_AUTHID);
}

const char *sasl_session_get_authzid(const struct sasl_session *s)
{
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
	if (s->raw_password != NULL) {
		explicit_bzero(s->raw_password, strlen(s->raw_password));
		free(s->raw_password);
	}
	gsasl_finish(s->gs);
	i_free(s);
}
