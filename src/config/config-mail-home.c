/* The mail home of a user, as every protocol must find it: the userdb's
 * home, else the mail.home template. One function so IMAP, POP3 and LMTP
 * can never resolve different homes for the same user. */
#include "config.h"
#include "buffer.h"

static bool user_name_is_path_safe(const char *user)
{
	/* the name becomes a path: no traversal, no separators */
	return user[0] != '\0' && user[0] != '.' && strchr(user, '/') == NULL &&
		strstr(user, "..") == NULL;
}

const char *config_mail_home(const struct tern_settings *set, const char *user,
			     const char *userdb_home)
{
	if (userdb_home != NULL && userdb_home[0] != '\0')
		return userdb_home;
	if (!user_name_is_path_safe(user))
		return NULL;
	const char *at = strchr(user, '@');
	string_t *home = t_str_new(128);
	for (const char *p = set->mail.home; *p != '\0'; p++) {
		if (*p != '%' || p[1] == '\0') {
			str_append_c(home, *p);
			continue;
		}
		p++;
		if (*p == 'u')
			str_append(home, user);
		else if (*p == 'n')
			str_append_n(home, user, at == NULL ? strlen(user) : (size_t)(at - user));
		else if (*p == 'd')
			str_append(home, at == NULL ? "" : at + 1);
		else if (*p == '%')
			str_append_c(home, '%');
	}
	if (str_c(home)[0] == '/')
		return str_c(home);
	return t_strdup_printf("%s/%s", set->base_dir, str_c(home));
}
