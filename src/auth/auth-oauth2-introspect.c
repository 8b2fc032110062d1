/* OAuth 2.0 token introspection (RFC 7662): POST token=... to the
 * configured endpoint with libcurl and accept the token only when the
 * answer says "active": true; the claims in it are then checked like a
 * JWT's (exp optional). Credentials for the endpoint go in the URL
 * (https://client:secret@host/...), which libcurl sends as Basic auth. */
#include "auth-oauth2-private.h"

#include <curl/curl.h>

struct introspect_body {
	buffer_t *buf;
	bool too_large;
};

static size_t introspect_write(char *data, size_t size, size_t nmemb, void *context)
{
	struct introspect_body *body = context;
	size_t len = size * nmemb;

	if (body->buf->used + len > AUTH_OAUTH2_MAX_RESPONSE_SIZE) {
		body->too_large = true;
		return 0; /* makes libcurl fail the transfer */
	}
	buffer_append(body->buf, data, len);
	return len;
}

/* Runs the request. Returns 0 with the body, or -1 (*error_r). */
static int introspect_request(struct auth_oauth2 *oauth, const char *token,
			      struct introspect_body *body, const char **error_r)
{
	static bool curl_initialised;
	char errbuf[CURL_ERROR_SIZE] = "";
	long status = 0;

	if (!curl_initialised) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			*error_r = "curl_global_init() failed";
			return -1;
		}
		curl_initialised = true;
	}
	CURL *curl = curl_easy_init();
	if (curl == NULL) {
		*error_r = "curl_easy_init() failed";
		return -1;
	}
	char *escaped = curl_easy_escape(curl, token, 0);
	const char *post = t_strdup_printf("token=%s&token_type_hint=access_token",
					   escaped == NULL ? "" : escaped);
	curl_free(escaped);
	struct curl_slist *headers = curl_slist_append(NULL, "Accept: application/json");
	curl_easy_setopt(curl, CURLOPT_URL, oauth->set.introspection_url);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)oauth->set.timeout_ms);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, post);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, introspect_write);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, body);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
	CURLcode res = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(headers);
	curl_easy_cleanup(curl);
	if (res != CURLE_OK) {
		*error_r = body->too_large ? "introspection response too large" :
			t_strdup_printf("introspection request failed: %s",
					errbuf[0] != '\0' ? errbuf : curl_easy_strerror(res));
		return -1;
	}
	if (status != 200) {
		*error_r = t_strdup_printf("introspection endpoint answered HTTP %ld", status);
		return -1;
	}
	return 0;
}

int auth_oauth2_introspect(struct auth_oauth2 *oauth, const char *token,
			   const char **user_r, const char **error_r)
{
	struct introspect_body body = { .buf = buffer_create(t_pool(), 1024) };
	struct json_object *active;

	if (introspect_request(oauth, token, &body, error_r) < 0)
		return -1;
	struct json_object *claims = auth_oauth2_json_parse(body.buf->data, body.buf->used);
	if (claims == NULL) {
		*error_r = "introspection response is not a JSON object";
		return -1;
	}
	int ret;
	/* RFC 7662 §2.2: active is REQUIRED and boolean */
	if (!json_object_object_get_ex(claims, "active", &active) ||
	    !json_object_is_type(active, json_type_boolean) ||
	    !json_object_get_boolean(active)) {
		*error_r = "token not active";
		ret = 0;
	} else {
		ret = auth_oauth2_check_claims(oauth, claims, time(NULL), false, user_r, error_r);
	}
	json_object_put(claims);
	return ret;
}
