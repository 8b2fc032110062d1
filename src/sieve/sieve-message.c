/* The message as tests see it: header values through the caller's callback
 * with editheader's changes (RFC 5293), :index/:last (RFC 5260 §6) and the
 * current MIME part of foreverypart (RFC 5703 §4); the MIME structure
 * parsed with src/mime from the caller's raw bytes; address parts (RFC 5228
 * §2.7.4, RFC 5233). */
#include "sieve-run.h"
#include "mime-address.h"
#include "mime-charset.h"
#include "mime-encoded-word.h"
#include "mime-parser.h"

#include <strings.h>

int sieve_run_get_data(struct sieve_run *run, const struct sieve_ast_node *node,
		       const unsigned char **data_r, size_t *size_r)
{
	const char *error;

	*data_r = (const unsigned char *)"";
	*size_r = 0;
	if (run->msg->v->get_data == NULL)
		return 0;
	if (run->msg->v->get_data(run->msg->context, data_r, size_r, &error) < 0)
		return sieve_run_error(run, node, "failed to read the message: %s", error);
	return 0;
}

static void parsed_header_cb(struct mime_part *part, const struct mime_header_field *field,
			     void *context)
{
	struct sieve_parsed_message *parsed = context;
	struct sieve_msg_part *mpart;

	if (parsed->parts.count == 0 ||
	    parsed->parts.v[parsed->parts.count - 1].part != part) {
		mpart = array_append_space(&parsed->parts);
		mpart->part = part;
		mpart->parent = -1;
		for (unsigned int i = parsed->parts.count - 1; i-- > 0; ) {
			if (parsed->parts.v[i].part == part->parent) {
				mpart->parent = (int)i;
				break;
			}
		}
		array_init(&mpart->names, parsed->parts.pool, 8);
		array_init(&mpart->values, parsed->parts.pool, 8);
	}
	mpart = &parsed->parts.v[parsed->parts.count - 1];
	if (field != NULL && !field->no_colon) {
		array_push(&mpart->names, p_strdup(parsed->parts.pool, field->name));
		array_push(&mpart->values, p_strdup(parsed->parts.pool, field->value));
	}
}

struct sieve_parsed_message *sieve_run_parse_message(struct sieve_run *run,
						     const struct sieve_ast_node *node)
{
	struct sieve_parsed_message *parsed;
	struct mime_parser_limits limits = {
		.max_depth = 20, .max_parts = 1000, .max_header_fields = 1000,
	};

	if (run->parsed != NULL)
		return run->parsed;
	parsed = p_new(run->pool, struct sieve_parsed_message, 1);
	if (sieve_run_get_data(run, node, &parsed->data, &parsed->size) < 0)
		return NULL;
	array_init(&parsed->parts, run->pool, 4);
	struct mime_parser *parser = mime_parser_create(run->pool, &limits);
	mime_parser_set_header_callback(parser, parsed_header_cb, parsed);
	mime_parser_feed(parser, parsed->data, parsed->size);
	(void)mime_parser_finish(parser);
	mime_parser_destroy(&parser);
	for (unsigned int i = 0; i < parsed->parts.count; i++) {
		struct sieve_msg_part *part = &parsed->parts.v[i];

		part->raw = parsed->data + part->part->body_offset;
		part->raw_size = (size_t)part->part->body_size;
	}
	run->parsed = parsed;
	return parsed;
}

const char *const *sieve_msg_part_headers(struct sieve_run *run, struct sieve_msg_part *part,
					  const char *name)
{
	ARRAY(const char *) values;

	array_init(&values, run->pool, 4);
	for (unsigned int i = 0; i < part->names.count; i++) {
		if (strcasecmp(part->names.v[i], name) == 0)
			array_push(&values, part->values.v[i]);
	}
	array_push(&values, NULL);
	return values.v;
}

const char *sieve_msg_part_text(struct sieve_run *run, struct sieve_msg_part *part)
{
	buffer_t *decoded;
	string_t *text;

	if (part->text != NULL)
		return part->text;
	decoded = buffer_create(run->pool, part->raw_size + 1);
	if (mime_decode(part->part->encoding, part->raw, part->raw_size, decoded) < 0) {
		buffer_set_used_size(decoded, 0);
		buffer_append(decoded, part->raw, part->raw_size);
	}
	text = str_new(run->pool, decoded->used + 1);
	if (charset_to_utf8(mime_part_get_charset(part->part), decoded->data,
			    decoded->used, text) < 0) {
		str_truncate(text, 0);
		charset_utf8_append_valid(text, decoded->data, decoded->used);
	}
	/* NULs would cut the C string short; a space keeps words apart */
	for (size_t i = 0; i < str_len(text); i++) {
		if (text->data[i] == '\0')
			((unsigned char *)text->data)[i] = ' ';
	}
	part->text = str_c(text);
	return part->text;
}

/* Skips an element's content up to its closing tag ("</script"); returns
   the position after it or the end. */
static const char *html_skip_element(const char *p, const char *name)
{
	size_t len = strlen(name);

	for (; *p != '\0'; p++) {
		if (p[0] == '<' && p[1] == '/' && strncasecmp(p + 2, name, len) == 0) {
			const char *gt = strchr(p, '>');
			return gt == NULL ? p + strlen(p) : gt + 1;
		}
	}
	return p;
}

const char *sieve_html_to_text(pool_t pool, const char *html)
{
	static const struct {
		const char *entity, *text;
	} entities[] = {
		{ "&amp;", "&" }, { "&lt;", "<" }, { "&gt;", ">" }, { "&quot;", "\"" },
		{ "&apos;", "'" }, { "&nbsp;", " " },
	};
	string_t *text = t_str_new(strlen(html) + 1);
	const char *p = html;

	while (*p != '\0') {
		if (*p == '<') {
			const char *gt = strchr(p, '>');
			const char *skip = strncasecmp(p, "<script", 7) == 0 ? "script" :
				strncasecmp(p, "<style", 6) == 0 ? "style" : NULL;

			if (gt == NULL)
				break;
			/* a tag separates words */
			if (str_len(text) > 0 && str_data(text)[str_len(text) - 1] != ' ')
				str_append_c(text, ' ');
			p = skip != NULL ? html_skip_element(gt + 1, skip) : gt + 1;
			continue;
		}
		if (*p == '&') {
			unsigned int i;

			for (i = 0; i < N_ELEMENTS(entities); i++) {
				size_t len = strlen(entities[i].entity);
				if (strncasecmp(p, entities[i].entity, len) == 0) {
					str_append(text, entities[i].text);
					p += len;
					break;
				}
			}
			if (i < N_ELEMENTS(entities))
				continue;
		}
		str_append_c(text, *p++);
	}
	return p_strdup(pool, str_c(text));
}

const char *sieve_msg_part_plain_text(struct sieve_run *run, struct sieve_msg_part *part)
{
	const char *text = sieve_msg_part_text(run, part);
	const struct mime_content_type *ct = &part->part->content_type;

	if (!mime_content_type_is(ct, "text", "html") &&
	    !mime_content_type_is(ct, "application", "xhtml+xml"))
		return text;
	return sieve_html_to_text(run->pool, text);
}

static int get_message_headers(struct sieve_run *run, const struct sieve_ast_node *node,
			       const char *name, const char *const **values_r)
{
	const char *error;

	for (unsigned int i = 0; i < run->overlays.count; i++) {
		if (strcasecmp(run->overlays.v[i].name, name) == 0) {
			struct sieve_header_overlay *ov = &run->overlays.v[i];
			const char **values = p_new(run->pool, const char *, ov->values.count + 1);

			memcpy(values, ov->values.v, sizeof(*values) * ov->values.count);
			*values_r = values;
			return 0;
		}
	}
	if (run->msg->v->get_headers(run->msg->context, name, values_r, &error) < 0)
		return sieve_run_error(run, node, "failed to read header %s: %s", name, error);
	return 0;
}

struct sieve_header_overlay *sieve_run_header_overlay(struct sieve_run *run,
						      const struct sieve_ast_node *node,
						      const char *name)
{
	const char *const *values;
	struct sieve_header_overlay *ov;

	for (unsigned int i = 0; i < run->overlays.count; i++) {
		if (strcasecmp(run->overlays.v[i].name, name) == 0)
			return &run->overlays.v[i];
	}
	if (get_message_headers(run, node, name, &values) < 0)
		return NULL;
	ov = array_append_space(&run->overlays);
	ov->name = p_strdup(run->pool, name);
	array_init(&ov->values, run->pool, 4);
	for (; *values != NULL; values++)
		array_push(&ov->values, *values);
	return ov;
}

static int get_mime_headers(struct sieve_run *run, const struct sieve_ast_node *node,
			    const char *name, const char *const **values_r)
{
	struct sieve_parsed_message *parsed = sieve_run_parse_message(run, node);
	ARRAY(const char *) values;
	unsigned int first = run->current_part == 0 ? 0 : run->current_part - 1;
	bool anychild = sieve_node_has_tag(node, "anychild");

	if (parsed == NULL)
		return -1;
	array_init(&values, run->pool, 4);
	for (unsigned int i = first; i < parsed->parts.count; i++) {
		struct sieve_msg_part *part = &parsed->parts.v[i];

		if (i > first) {
			/* only descendants of the current part */
			if (!anychild || part->part->depth <= parsed->parts.v[first].part->depth)
				break;
		}
		for (const char *const *v = sieve_msg_part_headers(run, part, name); *v != NULL; v++)
			array_push(&values, *v);
	}
	array_push(&values, NULL);
	*values_r = values.v;
	return 0;
}

static void apply_index(const struct sieve_ast_node *node, const char *const **values_r)
{
	const struct sieve_ast_arg *index = sieve_node_tag_value(node, "index");
	const char *const *values = *values_r;
	static const char *const none[] = { NULL };
	unsigned int count = 0;

	if (index == NULL)
		return;
	while (values[count] != NULL)
		count++;
	if (index->number == 0 || index->number > count) {
		*values_r = none;
		return;
	}
	/* RFC 5260 §6: counted from the top, or from the end with :last */
	const char **one = t_new(const char *, 2);
	one[0] = sieve_node_has_tag(node, "last") ? values[count - index->number] :
		values[index->number - 1];
	*values_r = one;
}

int sieve_run_get_headers(struct sieve_run *run, const struct sieve_ast_node *node,
			  const char *name, const char *const **values_r)
{
	int ret;

	if (sieve_node_has_tag(node, "mime") && (run->current_part != 0 ||
						 sieve_node_has_tag(node, "anychild")))
		ret = get_mime_headers(run, node, name, values_r);
	else
		ret = get_message_headers(run, node, name, values_r);
	if (ret == 0)
		apply_index(node, values_r);
	return ret;
}

/* RFC 5228 §5.7: header values are compared unfolded and with RFC 2047
   encoded words decoded; surrounding whitespace is not part of them. */
const char *sieve_header_value_prepare(pool_t pool, const char *value)
{
	size_t len;

	while (*value == ' ' || *value == '\t')
		value++;
	len = strlen(value);
	while (len > 0 && (value[len - 1] == ' ' || value[len - 1] == '\t'))
		len--;
	if (!mime_encoded_word_has_words(value, len))
		return p_strndup(pool, value, len);
	string_t *dest = str_new(pool, len + 16);
	mime_encoded_word_decode(value, len, dest);
	return str_c(dest);
}

/* RFC 5233 §4: user and detail split at the first delimiter (any of the
   delimiter characters) */
static const char *subaddress_part(struct sieve_run *run, const char *localpart, bool detail)
{
	const char *delims = run->env->subaddress_delimiter;
	size_t pos;

	if (delims == NULL || delims[0] == '\0')
		delims = "+";
	pos = strcspn(localpart, delims);
	if (localpart[pos] == '\0')
		return detail ? NULL : localpart;
	return detail ? localpart + pos + 1 : p_strndup(run->pool, localpart, pos);
}

const char *sieve_address_local_quote(pool_t pool, const char *local)
{
	const unsigned char *p;
	string_t *str;

	for (p = (const unsigned char *)local; *p != '\0'; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p >= 0x80 ||
		      strchr("!#$%&'*+-/=?^_`{|}~.", *p) != NULL))
			break;
	}
	if (*p == '\0' && *local != '\0')
		return p_strdup(pool, local);
	str = t_str_new(strlen(local) + 8);
	str_append_c(str, '"');
	for (p = (const unsigned char *)local; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			str_append_c(str, '\\');
		str_append_c(str, (char)*p);
	}
	str_append_c(str, '"');
	return p_strdup(pool, str_c(str));
}

const char *sieve_address_part_get(struct sieve_run *run, const struct sieve_ast_node *node,
				   const char *localpart, const char *domain)
{
	switch (node->address_part) {
	case SIEVE_ADDRESS_ALL:
		return domain[0] == '\0' ? localpart :
			p_strconcat(run->pool, localpart, "@", domain, NULL);
	case SIEVE_ADDRESS_LOCALPART:
		return localpart;
	case SIEVE_ADDRESS_DOMAIN:
		return domain;
	case SIEVE_ADDRESS_USER:
		return subaddress_part(run, localpart, false);
	case SIEVE_ADDRESS_DETAIL:
		return subaddress_part(run, localpart, true);
	}
	return NULL;
}

/* RFC 5228 §2.7.4 addresses are RFC 5322's, whose local parts and domains
   are ASCII: 8-bit text in them (RFC 6532 UTF-8 in a message that did not
   come as one) is not syntactically valid. */
static bool address_has_8bit(const char *mailbox, const char *domain)
{
	for (const unsigned char *p = (const unsigned char *)mailbox; *p != '\0'; p++) {
		if (*p >= 0x80)
			return true;
	}
	for (const unsigned char *p = (const unsigned char *)domain; *p != '\0'; p++) {
		if (*p >= 0x80)
			return true;
	}
	return false;
}

int sieve_match_address_header(struct sieve_run *run, const struct sieve_ast_node *node,
			       struct sieve_match *match, const char *value)
{
	struct mime_address_list list = { NULL, NULL, 0 };
	int ret;

	mime_address_parse(run->tmp_pool, value, strlen(value),
			   run->limits.max_addresses, 0, &list);
	/* nothing at all (an empty header): no valid address, so :all sees
	   the raw text, "" */
	if (list.head == NULL) {
		if (node->address_part != SIEVE_ADDRESS_ALL)
			return 0;
		return sieve_run_match_value(match, sieve_header_value_prepare(run->tmp_pool, value));
	}
	for (const struct mime_address *addr = list.head; addr != NULL; addr = addr->next) {
		const char *part;

		if (addr->domain == NULL)
			continue; /* group marker */
		if (addr->invalid || addr->mailbox[0] == '\0' ||
		    address_has_8bit(addr->mailbox, addr->domain)) {
			/* an unparsable address has no local part or
			   domain; :all still sees the raw text */
			if (node->address_part != SIEVE_ADDRESS_ALL)
				continue;
			part = sieve_header_value_prepare(run->tmp_pool, value);
		} else {
			part = sieve_address_part_get(run, node, addr->mailbox, addr->domain);
		}
		if (part == NULL)
			continue;
		if ((ret = sieve_run_match_value(match, part)) != 0)
			return ret;
	}
	return 0;
}
