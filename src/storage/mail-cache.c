/* The storage side of the index's message cache (index-cache.h): reads
 * per message, and fills batched into one opportunistic write
 * transaction, so a FETCH that parsed 500 messages pays one commit and
 * never waits for the write lock. */
#include "mail-storage-private.h"
#include "index-cache.h"

int mailbox_cache_get(struct mailbox *box, uint32_t uid, pool_t pool,
		      struct mail_cache_fields *fields_r)
{
	struct index_cache_fields f;
	memset(fields_r, 0, sizeof(*fields_r));
	int ret = index_cache_get(box->user->db, box->id, uid, pool, &f);
	if (ret < 0)
		return mail_user_set_index_error(box->user, "read message cache");
	fields_r->envelope = f.envelope;
	fields_r->body = f.body;
	fields_r->bodystructure = f.bodystructure;
	return ret;
}

int mailbox_cache_put(struct mailbox *box, const uint32_t *uids,
		      const struct mail_cache_fields *fields, unsigned int count)
{
	struct mail_user *user = box->user;
	/* EXAMINE too: the cache is not part of the mailbox's state */
	if (count == 0)
		return 0;
	int ret = index_db_try_begin_write(user->db);
	if (ret <= 0)
		return ret < 0 ? mail_user_set_index_error(user, "write message cache") : 0;
	for (unsigned int i = 0; i < count; i++) {
		const struct index_cache_fields f = {
			.envelope = fields[i].envelope,
			.body = fields[i].body,
			.bodystructure = fields[i].bodystructure,
		};
		if (index_cache_put(user->db, box->id, uids[i], &f) < 0) {
			mail_user_rollback(user);
			return mail_user_set_index_error(user, "write message cache");
		}
	}
	if (mail_user_commit(user) < 0)
		return -1;
	return 1;
}
