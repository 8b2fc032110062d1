/* ternctl index: maintenance of a user's index. "rebuild" re-reads every
 * message of one mailbox (or all) and rebuilds its search data (the
 * full-text index and the SORT/THREAD keys), as after a change of the
 * text extraction or a damaged index. */
#include "ternctl.h"
#include "auth-passwd-file.h"
#include "auth-user.h"
#include "config.h"
#include "mail-storage.h"

static int index_open_user(const char *name, struct mail_user **user_r)
{
	const struct tern_config *config;
	const char *error;
	if (ternctl_config_get(&config) < 0)
		return TERNCTL_EXIT_ERROR;
	const struct tern_settings *set = config->set;
	struct passwd_file *pf = passwd_file_open(set->auth.passwd_file);
	struct auth_user *au;
	int ret = passwd_file_lookup(pf, name, t_pool(), &au, &error);
	if (ret <= 0) {
		passwd_file_close(&pf);
		if (ret < 0) {
			ternctl_error("%s", error);
			return TERNCTL_EXIT_ERROR;
		}
		ternctl_error("no such user: %s", name);
		return TERNCTL_EXIT_NOUSER;
	}
	const char *home = config_mail_home(set, au->name, au->home);
	struct mail_user_settings mset = {
		.username = au->name, .home = home, .driver = set->mail.driver,
	};
	passwd_file_close(&pf);
	if (home == NULL || mail_user_init(&mset, user_r, &error) < 0) {
		ternctl_error("cannot open the mail of %s: %s", name,
			      home == NULL ? "no home" : error);
		return TERNCTL_EXIT_ERROR;
	}
	return TERNCTL_EXIT_OK;
}

static int index_rebuild_mailbox(struct mail_user *user, const char *name)
{
	struct mailbox *box = mailbox_open(user, name, 0);
	if (box == NULL || mailbox_search_rebuild(box) < 0) {
		const char *text;
		(void)mail_user_get_error(user, &text);
		ternctl_error("%s: %s", name, text);
		mailbox_close(&box);
		return -1;
	}
	printf("%s: %u messages indexed\n", name, mailbox_view_count(box));
	mailbox_close(&box);
	return 0;
}

static int cmd_index_run(const struct ternctl_command *cmd, int argc, char *argv[])
{
	if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0))
		return ternctl_usage_print(cmd);
	if (argc < 3 || argc > 4 || strcmp(argv[1], "rebuild") != 0)
		return ternctl_usage_error(cmd, NULL);
	struct mail_user *user;
	int ret = index_open_user(argv[2], &user);
	if (ret != TERNCTL_EXIT_OK)
		return ret;
	ret = TERNCTL_EXIT_OK;
	if (argc == 4) {
		if (index_rebuild_mailbox(user, argv[3]) < 0)
			ret = TERNCTL_EXIT_ERROR;
	} else {
		const struct mailbox_list_entry *entries;
		unsigned int count;
		if (mail_user_list_mailboxes(user, t_pool(), &entries, &count) < 0) {
			const char *text;
			(void)mail_user_get_error(user, &text);
			ternctl_error("%s", text);
			ret = TERNCTL_EXIT_ERROR;
		}
		for (unsigned int i = 0; ret == TERNCTL_EXIT_OK && i < count; i++) {
			if ((entries[i].attrs & (MAILBOX_ATTR_NOSELECT | MAILBOX_ATTR_NONEXISTENT)) == 0 &&
			    index_rebuild_mailbox(user, entries[i].name) < 0)
				ret = TERNCTL_EXIT_ERROR;
		}
	}
	mail_user_deinit(&user);
	return ret;
}

const struct ternctl_command ternctl_cmd_index = {
	.name = "index",
	.usage = "index rebuild USER [MAILBOX]",
	.summary = "rebuild the search data (full-text index, sort keys) of a user's "
		   "mailboxes from the message files",
	.run = cmd_index_run,
};
