/* The pam driver: a passdb that hands the login name and password to the
 * system's PAM stack (pam_authenticate, then pam_acct_mgmt for expired or
 * locked accounts). PAM can't hand out a password, so it serves only
 * mechanisms that send one; the calls block the worker meanwhile. */
#include "auth-db.h"
#include "log.h"

#include <security/pam_appl.h>
#include <stdlib.h>
#include <string.h>

/* The PAM service when neither args nor the lookup names one. */
#define PAM_DB_DEFAULT_SERVICE "tern"

struct pam_db {
	const char *service_tmpl; /* args: a template; "" = the lookup's */
};

struct pam_db_conv {
	const char *user;
	const char *password;
};

/* A service name is a file name under /etc/pam.d: a template with %u
   must not let a login name reach another directory. */
static bool pam_db_service_is_valid(const char *service)
{
	if (service[0] == '\0' || service[0] == '.')
		return false;
	for (const char *p = service; *p != '\0'; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.'))
			return false;
	}
	return true;
}

static int pam_db_init(const struct auth_db_settings *set, const char *base_dir,
		       void **ctx_r, const char **error_r)
{
	if (strchr(set->args, '%') == NULL && set->args[0] != '\0' &&
	    !pam_db_service_is_valid(set->args)) {
		*error_r = t_strdup_printf("invalid PAM service name '%s'", set->args);
		return -1;
	}
	struct pam_db *db = i_new(struct pam_db, 1);
	db->service_tmpl = set->args;
	*ctx_r = db;
	return 0;
}

static void pam_db_deinit(void *ctx)
{
	struct pam_db *db = ctx;
	i_free(db);
}

static void pam_db_free_replies(struct pam_response *resp, int count)
{
	for (int i = 0; i < count; i++) {
		if (resp[i].resp != NULL) {
			explicit_bzero(resp[i].resp, strlen(resp[i].resp));
			free(resp[i].resp);
		}
	}
	free(resp);
}

/* Answers the modules' prompts: the password for a hidden prompt, the
   login name for a visible one; messages for a terminal are dropped. PAM
   frees the replies with free(). */
static int pam_db_conv(int num_msg, const struct pam_message **msg,
		       struct pam_response **resp_r, void *appdata)
{
	const struct pam_db_conv *conv = appdata;

	if (num_msg <= 0 || num_msg > PAM_MAX_NUM_MSG)
		return PAM_CONV_ERR;
	struct pam_response *resp = calloc((size_t)num_msg, sizeof(*resp));
	if (resp == NULL)
		return PAM_BUF_ERR;
	for (int i = 0; i < num_msg; i++) {
		const char *answer = NULL;
		switch (msg[i]->msg_style) {
		case PAM_PROMPT_ECHO_OFF:
			answer = conv->password;
			break;
		case PAM_PROMPT_ECHO_ON:
			answer = conv->user;
			break;
		case PAM_ERROR_MSG:
		case PAM_TEXT_INFO:
			break;
		default:
			pam_db_free_replies(resp, num_msg);
			return PAM_CONV_ERR;
		}
		if (answer != NULL && (resp[i].resp = strdup(answer)) == NULL) {
			pam_db_free_replies(resp, num_msg);
			return PAM_BUF_ERR;
		}
	}
	*resp_r = resp;
	return PAM_SUCCESS;
}

/* pam_unix and others ask libpam to sleep a couple of seconds after a
   failure; that would stall every session of the worker. The auth
   service's own failure_delay answers the client late without blocking. */
static void pam_db_fail_delay(int status, unsigned int delay_usec, void *appdata)
{
}

/* PAM's result as ours: 0 for a refused login, -1 when PAM itself
   failed (a module missing, a directory down). */
static int pam_db_result(int rc)
{
	switch (rc) {
	case PAM_SUCCESS:
		return 1;
	case PAM_AUTH_ERR:
	case PAM_USER_UNKNOWN:
	case PAM_MAXTRIES:
	case PAM_CRED_INSUFFICIENT:
	case PAM_PERM_DENIED:
	case PAM_ACCT_EXPIRED:
	case PAM_NEW_AUTHTOK_REQD:
	case PAM_AUTHTOK_EXPIRED:
		return 0;
	default:
		return -1;
	}
}

static const char *pam_db_service(struct pam_db *db, const struct auth_db_lookup *lookup,
				  const char *name)
{
	if (db->service_tmpl[0] != '\0')
		return auth_db_expand(db->service_tmpl, lookup, name, NULL, t_pool());
	if (lookup->service != NULL && lookup->service[0] != '\0')
		return lookup->service;
	return PAM_DB_DEFAULT_SERVICE;
}

/* Runs the auth and account stacks. Returns PAM's result with *step_r
   naming the call that gave it. */
static int pam_db_authenticate(pam_handle_t *pamh, const struct auth_db_lookup *lookup,
			       const char **step_r)
{
	*step_r = "pam_set_item";
	int rc = pam_set_item(pamh, PAM_FAIL_DELAY, (const void *)pam_db_fail_delay);
	if (rc == PAM_SUCCESS && lookup->remote_ip != NULL)
		rc = pam_set_item(pamh, PAM_RHOST, lookup->remote_ip);
	if (rc != PAM_SUCCESS)
		return rc;
	*step_r = "pam_authenticate";
	rc = pam_authenticate(pamh, PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK);
	if (rc != PAM_SUCCESS)
		return rc;
	*step_r = "pam_acct_mgmt";
	return pam_acct_mgmt(pamh, PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK);
}

static int pam_db_passdb_verify(void *ctx, const struct auth_db_lookup *lookup,
				const char *name, const char *password, pool_t pool,
				struct auth_user **user_r, const char **error_r)
{
	struct pam_db *db = ctx;
	struct pam_db_conv conv_ctx = { .user = name, .password = password };
	const struct pam_conv conv = { .conv = pam_db_conv, .appdata_ptr = &conv_ctx };
	const char *service = pam_db_service(db, lookup, name);
	pam_handle_t *pamh;

	if (!pam_db_service_is_valid(service)) {
		/* args is checked at start: the name made it invalid */
		log_info(NULL, "pam", "user=%s error=%s", log_value(name),
			 log_value(t_strdup_printf("invalid PAM service name '%s'", service)));
		return 0;
	}
	int rc = pam_start(service, name, &conv, &pamh);
	if (rc != PAM_SUCCESS) {
		*error_r = t_strdup_printf("pam_start(%s) failed: %s", service,
					   pam_strerror(NULL, rc));
		return -1;
	}
	const char *step;
	rc = pam_db_authenticate(pamh, lookup, &step);
	int ret = pam_db_result(rc);
	if (ret < 0) {
		*error_r = t_strdup_printf("%s(service=%s) failed: %s", step, service,
					   pam_strerror(pamh, rc));
	} else if (ret > 0) {
		/* a module may have changed the name (case, aliases) */
		const void *item;
		if (pam_get_item(pamh, PAM_USER, &item) != PAM_SUCCESS || item == NULL)
			item = name;
		*user_r = auth_user_new(pool, item);
	} else {
		log_debug(NULL, "pam", "user=%s service=%s step=%s result=%s",
			  log_value(name), log_value(service), step,
			  log_value(pam_strerror(pamh, rc)));
	}
	(void)pam_end(pamh, rc);
	return ret;
}

const struct auth_db_driver auth_db_driver_pam = {
	.name = "pam",
	.init = pam_db_init,
	.deinit = pam_db_deinit,
	.passdb_verify = pam_db_passdb_verify,
};
