/* The UID map: each mailbox's set of UIDs in chunks of 8192, so that
 * opening a 100,000-message mailbox reads about a dozen small rows instead
 * of 100,000 (SELECT must not scan messages). Kept exact by the change
 * context in the same transactions that add and remove message rows. */
#include "index-db-private.h"

#define UIDMAP_LIST_MAX (INDEX_UIDMAP_BITMAP_SIZE / 2)

int index_uidmap_decode(const void *blob, size_t size,
			uint8_t bits_r[INDEX_UIDMAP_BITMAP_SIZE])
{
	const uint8_t *p = blob;
	memset(bits_r, 0, INDEX_UIDMAP_BITMAP_SIZE);
	if (size == INDEX_UIDMAP_BITMAP_SIZE) {
		memcpy(bits_r, p, size);
		return 0;
	}
	if (size % 2 != 0 || size > INDEX_UIDMAP_BITMAP_SIZE)
		return -1;
	for (size_t i = 0; i < size; i += 2) {
		unsigned int off = p[i] | (p[i + 1] << 8);
		if (off >= INDEX_UIDMAP_CHUNK_UIDS)
			return -1;
		bits_r[off / 8] |= (uint8_t)(1 << (off % 8));
	}
	return 0;
}

/* Returns the blob size: 0 for an empty chunk. */
static size_t index_uidmap_encode(const uint8_t bits[INDEX_UIDMAP_BITMAP_SIZE],
				  uint8_t out[INDEX_UIDMAP_BITMAP_SIZE])
{
	unsigned int count = 0;
	for (unsigned int i = 0; i < INDEX_UIDMAP_BITMAP_SIZE; i += 8) {
		uint64_t w;
		memcpy(&w, bits + i, sizeof(w));
		count += (unsigned int)__builtin_popcountll(w);
	}
	if (count == 0)
		return 0;
	if (count >= UIDMAP_LIST_MAX) {
		memcpy(out, bits, INDEX_UIDMAP_BITMAP_SIZE);
		return INDEX_UIDMAP_BITMAP_SIZE;
	}
	size_t n = 0;
	for (unsigned int off = 0; off < INDEX_UIDMAP_CHUNK_UIDS; off++) {
		if ((bits[off / 8] & (1 << (off % 8))) != 0) {
			out[n++] = (uint8_t)(off & 0xff);
			out[n++] = (uint8_t)(off >> 8);
		}
	}
	return n;
}

static void index_uidmap_expand(uint32_t chunk, const uint8_t bits[INDEX_UIDMAP_BITMAP_SIZE],
				array_uint32_t *uids)
{
	uint32_t base = chunk * INDEX_UIDMAP_CHUNK_UIDS;
	for (unsigned int i = 0; i < INDEX_UIDMAP_BITMAP_SIZE; i += 8) {
		uint64_t w;
		memcpy(&w, bits + i, sizeof(w));
		/* the bitmap is little-endian bytes; on a big-endian host the
		   word's bit order differs, so go byte-wise there */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		while (w != 0) {
			unsigned int bit = (unsigned int)__builtin_ctzll(w);
			array_push(uids, base + i * 8 + bit);
			w &= w - 1;
		}
#else
		for (unsigned int bit = 0; bit < 64; bit++) {
			if ((bits[i + bit / 8] & (1 << (bit % 8))) != 0)
				array_push(uids, base + i * 8 + bit);
		}
#endif
	}
}

int index_uidmap_load(struct index_db *db, int64_t mailbox_id, array_uint32_t *uids)
{
	bool priv;
	sqlite3_stmt *stmt = index_db_stmt_own(db, INDEX_STMT_UIDMAP_LOAD, &priv);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, mailbox_id);
	uint8_t bits[INDEX_UIDMAP_BITMAP_SIZE];
	int rc, ret = 0;
	uint32_t prev_chunk = 0;
	bool first = true;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		int64_t chunk = sqlite3_column_int64(stmt, 0);
		const void *blob = sqlite3_column_blob(stmt, 1);
		size_t size = (size_t)sqlite3_column_bytes(stmt, 1);
		if (chunk < 0 || chunk > UINT32_MAX / INDEX_UIDMAP_CHUNK_UIDS ||
		    (!first && chunk <= prev_chunk) ||
		    index_uidmap_decode(blob, size, bits) < 0) {
			ret = index_db_fail_text(db, t_strdup_printf(
				"uidmap of mailbox %lld is corrupt", (long long)mailbox_id));
			db->error_code = INDEX_ERROR_CORRUPT;
			break;
		}
		index_uidmap_expand((uint32_t)chunk, bits, uids);
		prev_chunk = (uint32_t)chunk;
		first = false;
	}
	if (ret == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
		ret = index_db_fail(db, "load uidmap");
	if (priv)
		sqlite3_finalize(stmt);
	else
		sqlite3_reset(stmt);
	return ret;
}

static struct index_uidmap_chunk *index_uidmap_get_chunk(struct index_change *ch,
							 uint32_t chunk_no)
{
	for (unsigned int i = ch->chunks.count; i > 0; i--) {
		if (ch->chunks.v[i - 1]->chunk == chunk_no)
			return ch->chunks.v[i - 1];
	}
	sqlite3_stmt *stmt = index_db_stmt(ch->db, INDEX_STMT_UIDMAP_GET);
	if (stmt == NULL)
		return NULL;
	sqlite3_bind_int64(stmt, 1, ch->mb.id);
	sqlite3_bind_int64(stmt, 2, chunk_no);
	int ret = index_db_step_row(ch->db, stmt, "read uidmap chunk");
	if (ret < 0)
		return NULL;
	struct index_uidmap_chunk *chunk = p_new(ch->pool, struct index_uidmap_chunk, 1);
	chunk->chunk = chunk_no;
	if (ret > 0) {
		ret = index_uidmap_decode(sqlite3_column_blob(stmt, 0),
					  (size_t)sqlite3_column_bytes(stmt, 0), chunk->bits);
		sqlite3_reset(stmt);
		if (ret < 0) {
			/* rebuilt from scratch by index_mailbox_recount() */
			index_db_fail_text(ch->db, "uidmap chunk is corrupt");
			ch->db->error_code = INDEX_ERROR_CORRUPT;
			return NULL;
		}
	}
	array_push(&ch->chunks, chunk);
	return chunk;
}

int index_uidmap_set(struct index_change *ch, uint32_t uid, bool present)
{
	struct index_uidmap_chunk *chunk =
		index_uidmap_get_chunk(ch, uid / INDEX_UIDMAP_CHUNK_UIDS);
	if (chunk == NULL)
		return -1;
	unsigned int off = uid % INDEX_UIDMAP_CHUNK_UIDS;
	uint8_t mask = (uint8_t)(1 << (off % 8));
	if (present)
		chunk->bits[off / 8] |= mask;
	else
		chunk->bits[off / 8] &= (uint8_t)~mask;
	chunk->dirty = true;
	return 0;
}

static int index_uidmap_write(struct index_db *db, int64_t mailbox_id, uint32_t chunk_no,
			      const uint8_t bits[INDEX_UIDMAP_BITMAP_SIZE])
{
	uint8_t blob[INDEX_UIDMAP_BITMAP_SIZE];
	size_t size = index_uidmap_encode(bits, blob);
	sqlite3_stmt *stmt = index_db_stmt(db, size == 0 ? INDEX_STMT_UIDMAP_DEL :
					   INDEX_STMT_UIDMAP_PUT);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, mailbox_id);
	sqlite3_bind_int64(stmt, 2, chunk_no);
	if (size > 0)
		sqlite3_bind_blob(stmt, 3, blob, (int)size, SQLITE_TRANSIENT);
	return index_db_exec_stmt(db, stmt, "write uidmap chunk");
}

int index_uidmap_flush(struct index_change *ch)
{
	for (unsigned int i = 0; i < ch->chunks.count; i++) {
		struct index_uidmap_chunk *chunk = ch->chunks.v[i];
		if (!chunk->dirty)
			continue;
		if (index_uidmap_write(ch->db, ch->mb.id, chunk->chunk, chunk->bits) < 0)
			return -1;
		chunk->dirty = false;
	}
	return 0;
}

int index_uidmap_rebuild(struct index_db *db, int64_t mailbox_id)
{
	sqlite3_stmt *stmt = index_db_stmt(db, INDEX_STMT_UIDMAP_DELETE_ALL);
	if (stmt == NULL)
		return -1;
	sqlite3_bind_int64(stmt, 1, mailbox_id);
	if (index_db_exec_stmt(db, stmt, "clear uidmap") < 0)
		return -1;

	struct index_iter *iter = index_iter_init(db, mailbox_id, INDEX_ITER_UID_RANGE,
						  0, 1, UINT32_MAX);
	struct index_message msg;
	uint8_t bits[INDEX_UIDMAP_BITMAP_SIZE];
	uint32_t cur = UINT32_MAX;
	int ret;
	while ((ret = index_iter_next(iter, &msg)) > 0) {
		uint32_t chunk_no = msg.uid / INDEX_UIDMAP_CHUNK_UIDS;
		if (chunk_no != cur) {
			if (cur != UINT32_MAX &&
			    index_uidmap_write(db, mailbox_id, cur, bits) < 0) {
				ret = -1;
				break;
			}
			memset(bits, 0, sizeof(bits));
			cur = chunk_no;
		}
		unsigned int off = msg.uid % INDEX_UIDMAP_CHUNK_UIDS;
		bits[off / 8] |= (uint8_t)(1 << (off % 8));
	}
	if (index_iter_deinit(&iter) < 0)
		ret = -1;
	if (ret == 0 && cur != UINT32_MAX)
		ret = index_uidmap_write(db, mailbox_id, cur, bits);
	return ret;
}
