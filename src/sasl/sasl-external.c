/* EXTERNAL (RFC 4422 Appendix A): the client names only the identity it
 * wants to act as; who it is comes from outside SASL (a verified TLS
 * client certificate), so the caller decides. */
#include "sasl-private.h"

#define EXTERNAL_MAX_AUTHZID_LEN 1024

static int external_step(struct sasl_session *s, const unsigned char *input,
			 size_t input_len, bool have_input, buffer_t *output,
			 const char **error_r)
{
	if (!have_input) {
		if (s->steps > 1) {
			*error_r = "Invalid authentication message.";
			return -1;
		}
		return 0;
	}
	if (memchr(input, '\0', input_len) != NULL || input_len > EXTERNAL_MAX_AUTHZID_LEN) {
		*error_r = "Invalid authentication message.";
		return -1;
	}
	const char *authzid = input_len == 0 ? NULL : t_strndup(input, input_len);
	sasl_session_set_identities(s, NULL, authzid);
	int ret = s->cb->verify_external(s->context, authzid);
	if (sasl_session_callback_result(s, ret) > 0)
		return 1;
	*error_r = s->temp_failed ? "Temporary authentication failure." :
		"Authentication failed.";
	return -1;
}

const struct sasl_mech_vfuncs sasl_mech_external = {
	.step = external_step,
};
