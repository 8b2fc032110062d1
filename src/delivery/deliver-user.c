/* Recipient addresses to userdb users (with Dovecot-style detail
 * delimiters), the userdb fields delivery needs (home, uid/gid, quota
 * rules), and switching to the user's uid for the delivery. */
#include "deliver-user.h"
#include "auth.h"

#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

void deliver_address_split_detail(const char *localpart, const char *delims, pool_t pool,
				  const char **user_r, const char **detail_r)
{
	size_t len = delims == NULL || delims[0] == '\0' ? strlen(localpart) :
		strcspn(localpart, delims);
	if (localpart[len] == '\0' || len == 0) {
		/* "+foo" is a user named "+foo", not an empty user */
		*user_r = p_strdup(pool, localpart);
		*detail_r = NULL;
		return;
	}
	*user_r = p_strndup(pool, localpart, len);
	*detail_r = p_strdup(pool, localpart + len + 1);
}

/* The userdb's quota_rule, quota_rule2, ... joined by spaces. */
static const char *deliver_user_quota_rule(const struct auth_user *au, pool_t pool)
{
	const char *rule = auth_user_extra_get(au, "quota_rule");
	if (rule == NULL)
		return NULL;
	string_t *str = t_str_new(64);
	str_append(str, rule);
	for (unsigned int i = 2; i < 10; i++) {
		const char *more = auth_user_extra_get(au, t_strdup_printf("quota_rule%u", i));
		if (more == NULL)
			break;
		str_printfa(str, " %s", more);
	}
	return p_strdup(pool, str_c(str));
}

int deliver_user_lookup(struct auth *auth, const struct tern_settings *set,
			const char *name, const char *service, const char *remote_ip,
			pool_t pool, struct deliver_user *user_r, const char **error_r)
{
	const struct auth_db_lookup lookup = {
		.user = name, .service = service, .remote_ip = remote_ip,
	};
	struct auth_user *au;
	int ret = auth_userdb_lookup(auth, &lookup, pool, &au, error_r);
	if (ret <= 0)
		return ret;
	const char *home = config_mail_home(set, au->name, au->home);
	if (home == NULL)
		return 0;
	memset(user_r, 0, sizeof(*user_r));
	user_r->name = au->name;
	user_r->home = p_strdup(pool, home);
	user_r->uid = au->uid;
	user_r->gid = au->gid;
	user_r->quota_rule = deliver_user_quota_rule(au, pool);
	return 1;
}

/* Tries "user@domain", then "user". Returns 1, 0 or -1. */
static int deliver_user_lookup_name(struct auth *auth, const struct tern_settings *set,
				    const char *user, const char *domain,
				    const char *service, const char *remote_ip, pool_t pool,
				    struct deliver_user *user_r, const char **error_r)
{
	for (unsigned int i = domain == NULL ? 1 : 0; i < 2; i++) {
		const char *name = i == 0 ? t_strdup_printf("%s@%s", user, domain) : user;
		int ret = deliver_user_lookup(auth, set, name, service, remote_ip, pool,
					      user_r, error_r);
		if (ret != 0)
			return ret;
	}
	return 0;
}

int deliver_user_lookup_address(struct auth *auth, const struct tern_settings *set,
				const char *localpart, const char *domain,
				const char *service, const char *remote_ip, pool_t pool,
				struct deliver_user *user_r, const char **detail_r,
				const char **error_r)
{
	const char *user, *detail;
	deliver_address_split_detail(localpart, set->lmtp.detail_delimiter, pool,
				     &user, &detail);
	char *ldomain = domain == NULL ? NULL : t_strdup_printf("%s", domain);
	for (char *p = ldomain; p != NULL && *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	int ret = deliver_user_lookup_name(auth, set, user, ldomain, service, remote_ip,
					   pool, user_r, error_r);
	if (ret == 0 && detail != NULL) {
		/* a user whose name contains the delimiter */
		ret = deliver_user_lookup_name(auth, set, localpart, ldomain, service,
					       remote_ip, pool, user_r, error_r);
		detail = NULL;
	}
	*detail_r = ret > 0 ? detail : NULL;
	return ret;
}

static int deliver_user_gid(const struct deliver_user *user, gid_t *gid_r,
			    const char **error_r)
{
	*gid_r = user->gid;
	if (*gid_r != (gid_t)-1)
		return 0;
	char pwbuf[4096];
	struct passwd pw, *res;
	if (getpwuid_r(user->uid, &pw, pwbuf, sizeof(pwbuf), &res) != 0 || res == NULL) {
		*error_r = t_strdup_printf("uid %u has no gid", (unsigned int)user->uid);
		return -1;
	}
	*gid_r = pw.pw_gid;
	return 0;
}

int deliver_user_become(const struct deliver_user *user, const char **error_r)
{
	gid_t gid;

	if (user->uid == (uid_t)-1 || geteuid() != 0 || user->uid == 0)
		return 0;
	if (deliver_user_gid(user, &gid, error_r) < 0)
		return -1;
	if (setgroups(1, &gid) < 0 || setegid(gid) < 0 || seteuid(user->uid) < 0) {
		*error_r = t_strdup_printf("can't become uid %u: %s", (unsigned int)user->uid,
					   strerror(errno));
		(void)seteuid(0);
		(void)setegid(0);
		return -1;
	}
	return 1;
}

void deliver_user_become_root(void)
{
	if (seteuid(0) < 0 || setegid(0) < 0 || setgroups(0, NULL) < 0)
		i_fatal("can't return to root after a delivery: %s", strerror(errno));
}

int deliver_user_drop_privileges(const struct deliver_user *user, const char **error_r)
{
	gid_t gid;

	if (user->uid == (uid_t)-1 || getuid() != 0 || user->uid == 0)
		return 0;
	if (deliver_user_gid(user, &gid, error_r) < 0)
		return -1;
	if (setgroups(1, &gid) < 0 || setresgid(gid, gid, gid) < 0 ||
	    setresuid(user->uid, user->uid, user->uid) < 0) {
		*error_r = t_strdup_printf("can't become uid %u: %s", (unsigned int)user->uid,
					   strerror(errno));
		return -1;
	}
	return 0;
}
