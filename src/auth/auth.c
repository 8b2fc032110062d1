/* The authentication service object: settings, the passdb/userdb chains and
 * the mechanism lists offered on secured and unsecured connections. */
#include "auth-private.h"
#include "auth-cache.h"
#include "auth-sasl.h"
#include "buffer.h"
#include "log.h"
#include "sasl-server.h"

#include <ctype.h>
#include <errno.h>
#include <strings.h>
#include <sys/stat.h>

#define AUTH_DEFAULT_MECHANISMS "PLAIN LOGIN"

const char *auth_mech_find(const struct auth *auth, const char *mech)
{
	for (unsigned int i = 0; i < auth->mechs.count; i++) {
		if (strcasecmp(auth->mechs.v[i], mech) == 0)
			return auth->mechs.v[i];
	}
	return NULL;
}

static int auth_parse_mechanisms(struct auth *auth, const char *list,
				 const char **error_r)
{
	const char *p = list;

	array_init(&auth->mechs, auth->pool, 4);
	while (*p != '\0') {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		const char *start = p;
		while (*p != '\0' && *p != ' ' && *p != '\t' && *p != ',')
			p++;
		if (p == start)
			continue;
		char *mech = p_strndup(auth->pool, start, (size_t)(p - start));
		for (char *c = mech; *c != '\0'; c++)
			*c = (char)toupper((unsigned char)*c);
		if (!sasl_mech_is_supported(mech)) {
			*error_r = t_strdup_printf("unsupported mechanism '%s' (supported: %s)",
						   mech, sasl_mechanisms_supported());
			return -1;
		}
		if (auth_mech_find(auth, mech) == NULL)
			array_push(&auth->mechs, mech);
	}
	if (auth->mechs.count == 0) {
		*error_r = "no authentication mechanisms enabled";
		return -1;
	}
	return 0;
}

static const char *auth_mechs_join(struct auth *auth, bool include_plaintext)
{
	string_t *str = t_str_new(64);

	for (unsigned int i = 0; i < auth->mechs.count; i++) {
		if (!include_plaintext && sasl_mech_is_plaintext(auth->mechs.v[i]))
			continue;
		if (str_len(str) > 0)
			str_append_c(str, ' ');
		str_append(str, auth->mechs.v[i]);
	}
	return p_strdup(auth->pool, str_c(str));
}

static int auth_penalty_init(struct auth *auth, const struct auth_options *opts,
			     const char **error_r)
{
	struct auth_penalty_settings pset;

	if (opts->failure_delay_max_ms == 0 && opts->penalty_network_failures == 0 &&
	    opts->penalty_user_failures == 0)
		return 0;
	auth_penalty_settings_default(&pset);
	pset.delay_base_msecs = opts->failure_delay_ms;
	pset.delay_max_msecs = I_MAX(opts->failure_delay_max_ms, opts->failure_delay_ms);
	pset.ip_refuse_failures = opts->penalty_network_failures;
	pset.user_refuse_failures = opts->penalty_user_failures;
	if (opts->penalty_refuse_secs > 0)
		pset.refuse_secs = opts->penalty_refuse_secs;
	if (opts->penalty_ipv6_prefix > 0)
		pset.ipv6_prefix_bits = opts->penalty_ipv6_prefix;
	return auth_penalty_create(&pset, &auth->penalty, error_r);
}

int auth_create(const struct auth_options *opts, struct auth **auth_r,
		const char **error_r)
{
	struct auth *auth;
	struct stat st;

	*auth_r = NULL;
	auth = i_new(struct auth, 1);
	auth->pool = pool_create("auth", 1024);
	auth->failure_delay_ms = opts->failure_delay_ms;
	auth->allow_insecure_plaintext = opts->allow_insecure_plaintext;
	if (auth_parse_mechanisms(auth, opts->mechanisms != NULL ? opts->mechanisms :
				  AUTH_DEFAULT_MECHANISMS, error_r) < 0) {
		pool_destroy(&auth->pool);
		i_free(auth);
		return -1;
	}
	if (sasl_server_init(error_r) < 0) {
		pool_destroy(&auth->pool);
		i_free(auth);
		return -1;
	}
	auth->mechs_secured = auth_mechs_join(auth, true);
	auth->mechs_unsecured = auth_mechs_join(auth, auth->allow_insecure_plaintext);
	auth->master_user_separator = p_strdup(auth->pool, opts->master_user_separator == NULL ?
					       "" : opts->master_user_separator);
	auth->default_domain = p_strdup(auth->pool, opts->default_domain == NULL ?
					"" : opts->default_domain);
	if (opts->cache_size > 0) {
		const struct auth_cache_settings cset = {
			.ttl_secs = opts->cache_ttl_secs,
			.negative_ttl_secs = opts->cache_negative_ttl_secs,
			.max_size = (size_t)opts->cache_size,
		};
		auth->cache = auth_cache_create(&cset);
	}
	if (auth_penalty_init(auth, opts, error_r) < 0 ||
	    auth_lookup_init(auth, opts, error_r) < 0 ||
	    auth_sasl_init(auth, opts, error_r) < 0) {
		auth_sasl_deinit(auth);
		auth_penalty_destroy(&auth->penalty);
		auth_cache_destroy(&auth->cache);
		auth_lookup_deinit(auth);
		sasl_server_deinit();
		pool_destroy(&auth->pool);
		i_free(auth);
		return -1;
	}
	/* a missing file isn't fatal (users may be added later), but say so
	   now rather than only at the first login */
	if (opts->passdb_count == 0 && stat(opts->passwd_file, &st) < 0) {
		log_warning(NULL, "auth", "passwd_file=%s error=%s",
			    log_value(opts->passwd_file), log_value(strerror(errno)));
	}
	*auth_r = auth;
	return 0;
}

int auth_create_from_settings(const struct tern_settings *set, struct auth **auth_r,
			      const char **error_r)
{
	struct auth_options opts = {
		.passwd_file = set->auth.passwd_file,
		.passdbs = (const struct auth_db_settings *const *)set->passdbs.v,
		.passdb_count = set->passdbs.count,
		.userdbs = (const struct auth_db_settings *const *)set->userdbs.v,
		.userdb_count = set->userdbs.count,
		.base_dir = set->base_dir,
		.master_user_separator = set->auth.master_user_separator,
		.default_domain = set->auth.default_domain,
		.mechanisms = set->auth.mechanisms,
		.failure_delay_ms = set->auth.failure_delay_ms,
		.failure_delay_max_ms = set->auth.failure_delay_max_ms,
		.penalty_network_failures = set->auth.penalty_network_failures,
		.penalty_user_failures = set->auth.penalty_user_failures,
		.penalty_refuse_secs = set->auth.penalty_refuse_time_ms / 1000,
		.penalty_ipv6_prefix = set->auth.penalty_ipv6_prefix,
		.cache_size = set->auth.cache_size,
		.cache_ttl_secs = set->auth.cache_ttl_ms / 1000,
		.cache_negative_ttl_secs = set->auth.cache_negative_ttl_ms / 1000,
		.allow_insecure_plaintext = set->auth.allow_insecure_plaintext,
	};
	auth_oauth2_settings_from_config(&set->auth, &opts.oauth2);
	return auth_create(&opts, auth_r, error_r);
}

void auth_destroy(struct auth **_auth)
{
	struct auth *auth = *_auth;

	if (auth == NULL)
		return;
	*_auth = NULL;
	auth_requests_free_all(auth);
	auth_sasl_deinit(auth);
	auth_lookup_deinit(auth);
	auth_penalty_destroy(&auth->penalty);
	auth_cache_destroy(&auth->cache);
	sasl_server_deinit();
	pool_destroy(&auth->pool);
	i_free(auth);
}

const char *auth_get_mechanisms(struct auth *auth, bool secured)
{
	return secured ? auth->mechs_secured : auth->mechs_unsecured;
}
