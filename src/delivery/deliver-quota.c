/* The delivery-side quota check: a per-user limit on storage and message
 * count from the userdb's Dovecot-style quota_rule fields (or
 * quota.default_rule), compared with the usage the user's index keeps
 * (every mailbox's message count and size, exact in its index row). A
 * later quota issue extends this to IMAP (RFC 9208) and to enforcement
 * in the storage itself. */
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

/* Sums messages and sizes over the user's mailboxes. The storage API
   offers the counts per mailbox (kept exact in the index rows); a single
   SUM query over the index would be cheaper for users with thousands of
   mailboxes (noted in docs/lmtp.md). */
static int deliver_quota_usage(struct mail_user *user, uint64_t *bytes_r,
			       uint64_t *messages_r)
{
	const struct mailbox_list_entry *entries;
	unsigned int count;
	*bytes_r = *messages_r = 0;
	if (mail_user_list_mailboxes(user, t_pool(), &entries, &count) < 0)
		return -1;
	for (unsigned int i = 0; i < count; i++) {
		if ((entries[i].attrs & (MAILBOX_ATTR_NOSELECT | MAILBOX_ATTR_NONEXISTENT)) != 0)
			continue;
		struct mailbox_status status;
		if (mailbox_get_status(user, entries[i].name, STATUS_MESSAGES | STATUS_SIZE,
				       t_pool(), &status) < 0) {
			const char *text;
			if (mail_user_get_error(user, &text) == MAIL_ERROR_NOTFOUND)
				continue; /* deleted meanwhile */
			return -1;
		}
		*bytes_r += status.size;
		*messages_r += status.messages;
	}
	return 0;
}

int deliver_quota_fits(struct mail_user *user, const struct deliver_quota *quota,
		       uint64_t size)
{
	uint64_t bytes, messages;
	if (deliver_quota_usage(user, &bytes, &messages) < 0)
		return -1;
	if (quota->storage != 0 && bytes + size > quota->storage)
		return 0;
	if (quota->messages != 0 && messages + 1 > quota->messages)
		return 0;
	return 1;
}
