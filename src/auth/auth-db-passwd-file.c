/* The passwd-file driver: Dovecot's "user:password:uid:gid::home::extra"
 * file (auth-passwd-file.c reads it) as a passdb and as a userdb. The userdb
 * role returns the userdb_ extra fields without their prefix. */
#include "auth-db.h"
#include "auth-passwd-file.h"

#include <string.h>

static int passwd_file_db_init(const struct auth_db_settings *set, const char *base_dir,
			       void **ctx_r, const char **error_r)
{
	const char *path = set->args;

	if (path[0] == '\0') {
		*error_r = "args must be the passwd-file's path";
		return -1;
	}
	if (path[0] != '/')
		path = t_strdup_printf("%s/%s", base_dir, path);
	*ctx_r = passwd_file_open(path);
	return 0;
}

static void passwd_file_db_deinit(void *ctx)
{
	struct passwd_file *pf = ctx;
	passwd_file_close(&pf);
}

static int passwd_file_db_passdb_lookup(void *ctx, const struct auth_db_lookup *lookup,
					const char *name, pool_t pool,
					struct auth_user **user_r, const char **error_r)
{
	return passwd_file_lookup(ctx, name, pool, user_r, error_r);
}

static int passwd_file_db_userdb_lookup(void *ctx, const struct auth_db_lookup *lookup,
					const char *name, pool_t pool,
					struct auth_user **user_r, const char **error_r)
{
	struct auth_user *user;
	int ret = passwd_file_lookup(ctx, name, pool, &user, error_r);
	if (ret <= 0)
		return ret;
	/* the userdb sees only userdb_ fields, as Dovecot's does */
	unsigned int kept = 0;
	for (unsigned int i = 0; i < user->extra.count; i++) {
		const char *field = user->extra.v[i];
		if (strncmp(field, "userdb_", 7) == 0)
			user->extra.v[kept++] = field + 7;
	}
	user->extra.count = kept;
	user->password = NULL;
	*user_r = user;
	return 1;
}

static int passwd_file_db_userdb_iterate(void *ctx,
					 void (*cb)(const char *user, void *context),
					 void *context, const char **error_r)
{
	return passwd_file_iterate(ctx, cb, context, error_r);
}

const struct auth_db_driver auth_db_driver_passwd_file = {
	.name = "passwd-file",
	.init = passwd_file_db_init,
	.deinit = passwd_file_db_deinit,
	.passdb_lookup = passwd_file_db_passdb_lookup,
	.userdb_lookup = passwd_file_db_userdb_lookup,
	.userdb_iterate = passwd_file_db_userdb_iterate,
};
