/* The delivery-side quota check: a per-user limit on storage and message
 * count from the userdb's Dovecot-style quota_rule fields (or
 * quota.default_rule), compared with the usage the user's index keeps
 * (mail_user_get_usage(): every mailbox's exact message count and size
 * summed in one query). A later quota issue extends this to IMAP
 * (RFC 9208) and to enforcement in the storage itself. */
#include "deliver-private.h"
#include "mail-storage.h"
#include "strnum.h"

int deliver_quota_parse(const char *rules, struct deliver_quota *quota_r)
{
	memset(quota_r, 0, sizeof(*quota_r));
	char *copy = t_strdup_printf("%s", rules);
	for (char *tok = strtok(copy, " "); tok != NULL; tok = strtok(NULL, " ")) {
		/* only the "*" (whole user) root is known; other mailbox
		   patterns belong to the later quota work and are ignored */
		if (strncmp(tok, "*:", 2) != 0)
			continue;
		const char *rule = tok + 2;
		if (strncmp(rule, "storage=", 8) == 0) {
			if (str_parse_size(rule + 8, &quota_r->storage) < 0)
				return -1;
		} else if (strncmp(rule, "messages=", 9) == 0) {
			if (str_to_uint64(rule + 9, &quota_r->messages) < 0)
				return -1;
		} else if (strncmp(rule, "bytes=", 6) == 0) {
			/* Dovecot's older spelling */
			if (str_parse_size(rule + 6, &quota_r->storage) < 0)
				return -1;
		}
	}
	return 0;
}

int deliver_quota_get(const struct tern_settings *set, const struct log_ctx *log,
		      const struct deliver_user *user, struct deliver_quota *quota_r)
{
	const char *rules = user->quota_rule != NULL ? user->quota_rule :
		set->quota.default_rule;
	if (deliver_quota_parse(rules, quota_r) < 0) {
		log_error(log, "quota_rule_invalid", "user=%s rule=%s",
			  log_value(user->name), log_value(rules));
		return -1;
	}
	return quota_r->storage != 0 || quota_r->messages != 0 ? 1 : 0;
}

int deliver_quota_fits(struct mail_user *user, const struct deliver_quota *quota,
		       uint64_t size)
{
	uint64_t bytes, messages;
	/* one sum over the index, whatever the number of mailboxes */
	if (mail_user_get_usage(user, &bytes, &messages) < 0)
		return -1;
	if (quota->storage != 0 && bytes + size > quota->storage)
		return 0;
	if (quota->messages != 0 && messages + 1 > quota->messages)
		return 0;
	return 1;
}
