/* Message structure for FETCH: one streaming MIME parse of the message file
 * per message (src/mime never holds the message whole), shared by all
 * items of the message, and a small process-wide cache of recent parses
 * keyed by user, message GUID and size, so that a client fetching
 * BODYSTRUCTURE and then parts in later commands reads the file once for
 * the structure. Maildir messages never change, and GUIDs are random per
 * saved message (copies keep theirs: same content, same structure). */
#include "imap-fetch.h"
#include "imap-preview.h"
#include "istream.h"

#define STRUCTURE_CACHE_SIZE 32
/* structures bigger than this aren't cached (a 10,000-part message) */
#define STRUCTURE_CACHE_MAX_ENTRY (256 * 1024)
#define STRUCTURE_CACHE_MAX_TOTAL (2 * 1024 * 1024)

struct structure_cache_entry {
	char *key;
	struct fetch_structure *structure;
	size_t size;
	uint64_t last_use;
};

/* The parser's bounds from the mail settings (mail.mime_max_*); the
   default depth 99 is Dovecot's, so that structures agree. */
static struct mime_parser_limits fetch_limits(const struct tern_settings *set)
{
	struct mime_parser_limits limits = {
		.max_depth = set->mail.mime_max_depth,
		.max_parts = set->mail.mime_max_parts,
		.max_header_size = (size_t)set->mail.mime_max_header_size,
	};
	return limits;
}

static struct structure_cache_entry structure_cache[STRUCTURE_CACHE_SIZE];
static size_t structure_cache_total;
static uint64_t structure_cache_clock;

void imap_fetch_structure_unref(struct fetch_structure **_structure)
{
	struct fetch_structure *structure = *_structure;

	if (structure == NULL)
		return;
	*_structure = NULL;
	i_assert(structure->refcount > 0);
	if (--structure->refcount > 0)
		return;
	pool_destroy(&structure->pool);
	i_free(structure);
}

static void structure_cache_drop(struct structure_cache_entry *entry)
{
	structure_cache_total -= entry->size;
	i_free(entry->key);
	imap_fetch_structure_unref(&entry->structure);
	memset(entry, 0, sizeof(*entry));
}

void imap_fetch_structure_cache_clear(void)
{
	for (unsigned int i = 0; i < STRUCTURE_CACHE_SIZE; i++) {
		if (structure_cache[i].key != NULL)
			structure_cache_drop(&structure_cache[i]);
	}
}

static const char *structure_cache_key(struct imap_client *client,
				       const struct mail_record *rec)
{
	if (rec->guid == NULL || rec->guid[0] == '\0')
		return NULL;
	return t_strdup_printf("%s\t%s\t%llu", mail_user_get_name(client->mail_user),
			       rec->guid, (unsigned long long)rec->size);
}

static struct fetch_structure *structure_cache_lookup(const char *key)
{
	for (unsigned int i = 0; i < STRUCTURE_CACHE_SIZE; i++) {
		struct structure_cache_entry *entry = &structure_cache[i];

		if (entry->key == NULL || strcmp(entry->key, key) != 0)
			continue;
		entry->last_use = ++structure_cache_clock;
		entry->structure->refcount++;
		return entry->structure;
	}
	return NULL;
}

static void structure_cache_add(const char *key, struct fetch_structure *structure)
{
	size_t size = pool_get_allocated(structure->pool);
	struct structure_cache_entry *victim = NULL;

	if (size > STRUCTURE_CACHE_MAX_ENTRY)
		return;
	/* the least recently used slot (empty ones first) */
	victim = &structure_cache[0];
	for (unsigned int i = 1; i < STRUCTURE_CACHE_SIZE; i++) {
		if (structure_cache[i].last_use < victim->last_use)
			victim = &structure_cache[i];
	}
	if (victim->key != NULL)
		structure_cache_drop(victim);
	while (structure_cache_total + size > STRUCTURE_CACHE_MAX_TOTAL) {
		struct structure_cache_entry *old = NULL;
		for (unsigned int i = 0; i < STRUCTURE_CACHE_SIZE; i++) {
			if (structure_cache[i].key != NULL &&
			    (old == NULL || structure_cache[i].last_use < old->last_use))
				old = &structure_cache[i];
		}
		i_assert(old != NULL);
		structure_cache_drop(old);
	}
	victim->key = i_strdup(key);
	victim->structure = structure;
	victim->size = size;
	victim->last_use = ++structure_cache_clock;
	structure_cache_total += size;
	structure->refcount++;
	structure->cached = true;
}

/* Feeds the message file through the parser (and the preview builder,
   NULL for header_only, while it wants more), keeping what it fed until
   the root header ended in capture (unless that grows past
   MAIL_CACHE_MAX_HEADER: then capture is emptied and left). Returns 1, 0
   if expunged, -1 on a read error. */
static int structure_parse_file(struct imap_client *client, uint32_t uid,
				struct imap_structure_parser *parser, bool header_only,
				buffer_t *capture, struct imap_preview_builder *preview)
{
	bool capturing = true;
	struct istream *input;
	uint64_t phys_size;
	int ret = mailbox_open_message(client->box, uid, &input, &phys_size);

	if (ret <= 0)
		return ret;
	for (;;) {
		size_t size;
		const unsigned char *data = i_stream_get_data(input, &size);

		if (size > 0) {
			if (capturing) {
				buffer_append(capture, data, size);
				if (capture->used > MAIL_CACHE_MAX_HEADER + FETCH_CONTENT_CHUNK) {
					buffer_clear(capture);
					capturing = false;
				}
			}
			imap_structure_parser_feed(parser, data, size);
			if (preview != NULL && !imap_preview_builder_is_done(preview))
				imap_preview_builder_feed(preview, data, size);
			if (capturing && imap_structure_parser_is_header_done(parser))
				capturing = false;
			i_stream_skip(input, size);
			if (header_only && imap_structure_parser_is_header_done(parser))
				break;
			continue;
		}
		if (i_stream_read(input) == -1 && i_stream_get_data_size(input) == 0)
			break;
	}
	ret = i_stream_get_error(input) != 0 ? -1 : 1;
	if (ret < 0) {
		log_error(&client->conn->log, "fetch_read_failed", "uid=%u error=%s", uid,
			  i_stream_get_error_text(input));
	}
	i_stream_destroy(&input);
	return ret;
}

struct fetch_structure *imap_fetch_structure_from_header(const unsigned char *header,
							 size_t size)
{
	struct fetch_structure *structure = i_new(struct fetch_structure, 1);
	structure->pool = pool_create("fetch structure", 1024);
	structure->refcount = 1;
	/* only the root's header numbers are needed for header sections:
	   counted from the block, not parsed (a parse with its envelope was
	   a quarter of a cached HEADER.FIELDS fetch) */
	struct imap_structure *s = p_new(structure->pool, struct imap_structure, 1);
	s->pool = structure->pool;
	s->root = mime_part_from_header_block(structure->pool, header, size);
	s->header_only = true;
	structure->s = s;
	structure->header = header;
	structure->header_size = size;
	return structure;
}

int imap_fetch_structure_get(struct imap_client *client, const struct mail_record *rec,
			     bool header_only, struct fetch_structure **structure_r)
{
	const char *key = structure_cache_key(client, rec);
	struct fetch_structure *structure;
	struct imap_structure_parser *parser;
	int ret;

	if (key != NULL && (structure = structure_cache_lookup(key)) != NULL) {
		*structure_r = structure;
		return 1;
	}
	structure = i_new(struct fetch_structure, 1);
	structure->pool = pool_create("fetch structure", 4096);
	structure->refcount = 1;
	const struct mime_parser_limits limits = fetch_limits(client->set);
	parser = imap_structure_parser_create(structure->pool, &limits, header_only);
	buffer_t *capture = buffer_create(system_pool, 8192);
	struct imap_preview_builder *preview = header_only ? NULL : imap_preview_builder_create();
	ret = structure_parse_file(client, rec->uid, parser, header_only, capture, preview);
	structure->s = imap_structure_parser_finish(parser);
	imap_structure_parser_destroy(&parser);
	if (preview != NULL) {
		if (ret > 0)
			structure->preview = imap_preview_builder_finish(preview, structure->pool);
		imap_preview_builder_destroy(&preview);
	}
	if (ret <= 0) {
		buffer_free(&capture);
		imap_fetch_structure_unref(&structure);
		return ret;
	}
	const struct mime_part *root = structure->s->root;
	uint64_t header_end = root->header_offset + root->header_size;
	if (root->header_offset == 0 && header_end > 0 && header_end <= capture->used &&
	    header_end <= MAIL_CACHE_MAX_HEADER) {
		structure->header_size = (size_t)header_end;
		structure->header = p_memdup(structure->pool, capture->data, structure->header_size);
	}
	buffer_free(&capture);
	/* header-only parses are cheap to redo and would push out the full
	   ones a client is fetching parts of */
	if (key != NULL && !structure->s->header_only)
		structure_cache_add(key, structure);
	*structure_r = structure;
	return 1;
}
