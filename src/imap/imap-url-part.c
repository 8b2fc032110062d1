/* Message parts named by IMAP URLs (RFC 5092), read through the FETCH
 * section code: the URL's SECTION is parsed as BODY.PEEK[section] is,
 * and its PARTIAL (RFC 5092 §5, RFC 5550 URL-PARTIAL) cuts the section's
 * content. */
#include "imap-url-part.h"
#include "imap-fetch.h"
#include "istream.h"

struct imap_url_part {
	pool_t pool;
	const struct tern_settings *set;
	struct mailbox *box;
	struct mail_record rec;
	struct fetch_item item;
	/* the message's structure (NULL when the section needs none) */
	struct imap_structure *s;
	bool s_header_only;
	struct fetch_content content;
	bool binary;
	int64_t size;          /* the section's whole content, -1: unknown */
	bool has_nuls;
	/* reading */
	bool reading;
	uint64_t skip, left;   /* URL PARTIAL */
	buffer_t *chunk;
};

/* The URL's SECTION as a BODY.PEEK[] item (RFC 5092 §9 enc-section is a
   section-text of RFC 9051 §6.4.5). */
static int url_part_parse_section(struct imap_url_part *part, const char *section,
				  const char **error_r)
{
	struct imap_arg atom[2], list[2];
	fetch_items_t items;
	unsigned int used;
	const char *error;

	memset(atom, 0, sizeof(atom));
	memset(list, 0, sizeof(list));
	atom[0].type = IMAP_ARG_ATOM;
	atom[0].u.s.str = p_strdup_printf(part->pool, "BODY.PEEK[%s]",
					  section == NULL ? "" : section);
	atom[0].u.s.len = strlen(atom[0].u.s.str);
	atom[1].type = IMAP_ARG_EOL;
	list[0].type = IMAP_ARG_LIST;
	list[0].u.list.args = atom;
	list[0].u.list.count = 1;
	list[1].type = IMAP_ARG_EOL;
	if (imap_fetch_parse_items(list, part->pool, false, &items, &used, &error) < 0 ||
	    items.count != 1 || items.v[0].type != FETCH_SECTION || items.v[0].partial) {
		*error_r = "Invalid section";
		return -1;
	}
	part->item = items.v[0];
	return 0;
}

/* One streaming parse of the message's structure (the root header only
   when that is enough). Returns 1, 0 if expunged, -1. */
static int url_part_parse_structure(struct imap_url_part *part, bool header_only)
{
	struct mime_parser_limits limits = {
		.max_depth = part->set->mail.mime_max_depth,
		.max_parts = part->set->mail.mime_max_parts,
		.max_header_size = (size_t)part->set->mail.mime_max_header_size,
	};
	struct istream *input;
	uint64_t phys_size;
	int ret = mailbox_open_message(part->box, part->rec.uid, &input, &phys_size);

	if (ret <= 0)
		return ret;
	struct imap_structure_parser *parser =
		imap_structure_parser_create(part->pool, &limits, header_only);
	for (;;) {
		size_t size;
		const unsigned char *data = i_stream_get_data(input, &size);
		if (size > 0) {
			imap_structure_parser_feed(parser, data, size);
			i_stream_skip(input, size);
			if (header_only && imap_structure_parser_is_header_done(parser))
				break;
			continue;
		}
		if (i_stream_read(input) == -1 && i_stream_get_data_size(input) == 0)
			break;
	}
	ret = i_stream_get_error(input) != 0 ? -1 : 1;
	i_stream_destroy(&input);
	part->s = imap_structure_parser_finish(parser);
	part->s_header_only = header_only;
	imap_structure_parser_destroy(&parser);
	return ret;
}

/* Finds the message in its mailbox. Returns 1, 0 (*error_r), -1. */
static int url_part_find(struct imap_url_part *part, struct mail_user *user,
			 const struct imap_url *url, const char **error_r)
{
	part->box = mailbox_open(user, url->mailbox, MAILBOX_OPEN_READONLY);
	if (part->box == NULL) {
		const char *text;
		if (mail_user_get_error(user, &text) != MAIL_ERROR_NOTFOUND)
			return -1;
		*error_r = "Mailbox doesn't exist";
		return 0;
	}
	/* RFC 5092 §6: the URL is for the mailbox it was made for */
	if (url->uidvalidity != 0 &&
	    url->uidvalidity != mailbox_get_view_status(part->box)->uidvalidity) {
		*error_r = "UIDVALIDITY doesn't match";
		return 0;
	}
	uint32_t seq = mailbox_view_seq(part->box, url->uid);
	int ret = seq == 0 ? 0 : mailbox_get_record(part->box, seq, part->pool, &part->rec);
	if (ret <= 0) {
		*error_r = "No such message";
		return ret;
	}
	return 1;
}

int imap_url_part_open(struct mail_user *user, const struct tern_settings *set,
		       const struct imap_url *url, struct imap_url_part **part_r,
		       const char **error_r)
{
	pool_t pool = pool_create("imap url part", 2048);
	struct imap_url_part *part = p_new(pool, struct imap_url_part, 1);
	int ret;

	i_assert(imap_url_is_message_part(url));
	part->pool = pool;
	part->set = set;
	part->size = -1;
	*part_r = part;
	if (url_part_parse_section(part, url->section, error_r) < 0)
		return 0;
	if ((ret = url_part_find(part, user, url, error_r)) <= 0)
		return ret;
	if (url->have_partial) {
		part->skip = url->partial_offset;
		part->left = url->partial_length == 0 ? UINT64_MAX : url->partial_length;
	} else {
		part->left = UINT64_MAX;
	}
	if (imap_fetch_item_needs_structure(&part->item)) {
		ret = url_part_parse_structure(part, part->item.part_count == 0);
		if (ret <= 0) {
			*error_r = "No such message";
			return ret;
		}
	}
	if (imap_fetch_content_section(&part->content, part->pool, part->s, &part->item,
				       part->rec.size, &part->size) == 0) {
		*error_r = "No such section";
		return 0;
	}
	return 1;
}

void imap_url_part_close(struct imap_url_part **_part)
{
	struct imap_url_part *part = *_part;

	if (part == NULL)
		return;
	*_part = NULL;
	if (part->reading)
		imap_fetch_content_close(&part->content);
	if (part->chunk != NULL)
		buffer_free(&part->chunk);
	mailbox_close(&part->box);
	pool_destroy(&part->pool);
}

/* Only section-part numbers (or none) name a body part. */
static bool url_part_is_body_part(const struct imap_url_part *part)
{
	return part->item.section == SECTION_ALL;
}

int imap_url_part_set_binary(struct imap_url_part *part)
{
	if (!url_part_is_body_part(part))
		return 0;
	if (part->s == NULL || part->s_header_only) {
		int ret = url_part_parse_structure(part, false);
		if (ret <= 0)
			return ret;
	}
	int ret = imap_fetch_content_binary(&part->content, part->pool, part->s, &part->item);
	if (ret <= 0)
		return 0;
	part->binary = true;
	part->size = -1;
	return 1;
}

int imap_url_part_get_size(struct imap_url_part *part, uint64_t *size_r, bool *literal8_r)
{
	if (part->size < 0 || part->binary) {
		uint64_t size;
		int ret = imap_fetch_content_measure(&part->content, part->box, part->rec.uid,
						     &size, &part->has_nuls);
		if (ret <= 0)
			return -1;
		part->size = (int64_t)size;
	}
	uint64_t total = (uint64_t)part->size;
	uint64_t skip = I_MIN(part->skip, total);
	*size_r = I_MIN(total - skip, part->left);
	/* as FETCH BINARY answers: literal8 once anything was decoded */
	*literal8_r = part->binary && (part->content.converted || part->has_nuls);
	return 0;
}

int imap_url_part_read(struct imap_url_part *part, buffer_t *dest)
{
	if (!part->reading) {
		if (imap_fetch_content_open(&part->content, part->box, part->rec.uid) <= 0)
			return -1;
		part->reading = true;
		part->chunk = buffer_create(system_pool, FETCH_CONTENT_CHUNK + 4096);
	}
	while (part->left > 0) {
		buffer_clear(part->chunk);
		int ret = imap_fetch_content_read(&part->content, part->chunk);
		if (ret < 0)
			return -1;
		const unsigned char *data = part->chunk->data;
		size_t size = part->chunk->used;
		size_t n = (size_t)I_MIN((uint64_t)size, part->skip);
		part->skip -= n;
		data += n;
		size -= n;
		size = (size_t)I_MIN((uint64_t)size, part->left);
		buffer_append(dest, data, size);
		part->left -= size;
		if (ret == 0)
			break;
		if (size > 0)
			return part->left > 0 ? 1 : 0;
	}
	return 0;
}

/* Feeds the file's bytes [start, end) to parser. Returns 0 or -1. */
static int url_part_feed_range(struct imap_url_part *part, struct imap_structure_parser *parser,
			       uint64_t start, uint64_t end)
{
	struct istream *input;
	uint64_t phys_size, pos = 0;

	if (mailbox_open_message(part->box, part->rec.uid, &input, &phys_size) <= 0)
		return -1;
	while (pos < end) {
		size_t size;
		const unsigned char *data = i_stream_get_data(input, &size);
		if (size == 0) {
			if (i_stream_read(input) == -1 && i_stream_get_data_size(input) == 0)
				break;
			continue;
		}
		size = (size_t)I_MIN((uint64_t)size, end - pos);
		if (pos + size > start) {
			size_t skip = pos < start ? (size_t)(start - pos) : 0;
			imap_structure_parser_feed(parser, data + skip, size - skip);
		}
		i_stream_skip(input, size);
		pos += size;
	}
	int ret = i_stream_get_error(input) != 0 || pos < end ? -1 : 0;
	i_stream_destroy(&input);
	return ret;
}

static void url_part_copy_sizes(struct mime_part *orig, const struct mime_part *decoded)
{
	orig->body_size_crlf = decoded->body_size_crlf;
	orig->body_lines = decoded->body_lines;
	const struct mime_part *d = decoded->children;
	for (struct mime_part *o = orig->children; o != NULL && d != NULL; o = o->next, d = d->next)
		url_part_copy_sizes(o, d);
}

/* RFC 5524 §4: with BINARY, BODYPARTSTRUCTURE gives the sizes of the
   decoded content (as other servers do, the encoding fields stay as
   stored). The part's header and its decoded content are parsed again
   and their sizes put into mpart's subtree. Returns 0 or -1. */
static int url_part_binary_sizes(struct imap_url_part *part, struct mime_part *mpart)
{
	struct mime_parser_limits limits = {
		.max_depth = part->set->mail.mime_max_depth,
		.max_parts = part->set->mail.mime_max_parts,
		.max_header_size = (size_t)part->set->mail.mime_max_header_size,
	};
	struct imap_structure_parser *parser =
		imap_structure_parser_create(part->pool, &limits, false);
	buffer_t *buf = buffer_create(system_pool, FETCH_CONTENT_CHUNK + 4096);
	int ret = 0;

	/* BINARY[] has the root's header itself */
	if (part->item.part_count > 0)
		ret = url_part_feed_range(part, parser, mpart->header_offset,
					  mpart->header_offset + mpart->header_size);
	if (ret == 0 && imap_fetch_content_open(&part->content, part->box, part->rec.uid) <= 0)
		ret = -1;
	while (ret == 0) {
		buffer_clear(buf);
		int read_ret = imap_fetch_content_read(&part->content, buf);
		imap_structure_parser_feed(parser, buf->data, buf->used);
		if (read_ret <= 0) {
			ret = read_ret < 0 ? -1 : 1;
			imap_fetch_content_close(&part->content);
		}
	}
	buffer_free(&buf);
	struct imap_structure *decoded = imap_structure_parser_finish(parser);
	imap_structure_parser_destroy(&parser);
	if (ret < 0)
		return -1;
	url_part_copy_sizes(mpart, decoded->root);
	return 0;
}

bool imap_url_part_write_bodystructure(struct imap_url_part *part, string_t *dest)
{
	if (!url_part_is_body_part(part))
		return false;
	if (part->s == NULL || part->s_header_only) {
		if (url_part_parse_structure(part, false) <= 0)
			return false;
	}
	struct mime_part *mpart = part->s->root;
	if (part->item.part_count > 0) {
		mpart = (struct mime_part *)imap_fetch_find_part(part->s, part->item.part,
								  part->item.part_count);
	}
	if (mpart == NULL || (part->binary && url_part_binary_sizes(part, mpart) < 0))
		return false;
	str_append_c(dest, '(');
	imap_bodystructure_write(part->s, mpart, true, dest);
	str_append_c(dest, ')');
	return true;
}
