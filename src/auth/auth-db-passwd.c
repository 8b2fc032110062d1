/* The passwd driver: a userdb of system users through getpwnam_r() (so
 * /etc/passwd, or whatever NSS serves: LDAP via sssd, ...), giving home, uid
 * and gid. The usual companion of the pam passdb. */
#include "auth-db.h"

#include <errno.h>
#include <pwd.h>
#include <string.h>
#include <unistd.h>

/* getpwnam_r's buffer grows on ERANGE up to this. */
#define PASSWD_DB_MAX_BUFFER (1024 * 1024)

static int passwd_db_init(const struct auth_db_settings *set, const char *base_dir,
			  void **ctx_r, const char **error_r)
{
	if (set->args[0] != '\0') {
		*error_r = "the passwd driver takes no args";
		return -1;
	}
	*ctx_r = NULL;
	return 0;
}

static void passwd_db_deinit(void *ctx)
{
}

static int passwd_db_userdb_lookup(void *ctx, const struct auth_db_lookup *lookup,
				   const char *name, pool_t pool,
				   struct auth_user **user_r, const char **error_r)
{
	long size = sysconf(_SC_GETPW_R_SIZE_MAX);
	size_t bufsize = size <= 0 ? 4096 : (size_t)size;
	struct passwd pw, *result;
	int err;

	for (;;) {
		char *buf = t_malloc(bufsize);
		err = getpwnam_r(name, &pw, buf, bufsize, &result);
		if (err != ERANGE || bufsize >= PASSWD_DB_MAX_BUFFER)
			break;
		bufsize *= 2;
	}
	if (err != 0 && err != ENOENT && err != ESRCH) {
		*error_r = t_strdup_printf("getpwnam_r(%s) failed: %s", name, strerror(err));
		return -1;
	}
	if (result == NULL)
		return 0;
	struct auth_user *user = auth_user_new(pool, pw.pw_name);
	user->home = pw.pw_dir[0] == '\0' ? NULL : p_strdup(pool, pw.pw_dir);
	user->uid = pw.pw_uid;
	user->gid = pw.pw_gid;
	*user_r = user;
	return 1;
}

static int passwd_db_userdb_iterate(void *ctx, void (*cb)(const char *user, void *context),
				    void *context, const char **error_r)
{
	struct passwd *pw;

	/* getpwent() keeps one process-wide position: the loop runs to the
	   end without yielding, so no other walk interleaves */
	setpwent();
	errno = 0;
	while ((pw = getpwent()) != NULL) {
		cb(pw->pw_name, context);
		errno = 0;
	}
	int err = errno;
	endpwent();
	if (err != 0 && err != ENOENT) {
		*error_r = t_strdup_printf("getpwent() failed: %s", strerror(err));
		return -1;
	}
	return 0;
}

const struct auth_db_driver auth_db_driver_passwd = {
	.name = "passwd",
	.init = passwd_db_init,
	.deinit = passwd_db_deinit,
	.userdb_lookup = passwd_db_userdb_lookup,
	.userdb_iterate = passwd_db_userdb_iterate,
};
