/* Parsing FETCH attributes (RFC 9051 §6.4.5 fetch-att, and the macros
 * ALL, FAST and FULL). */
#include "imap-fetch.h"
#include "imap-arg.h"
#include "strnum.h"

#include <ctype.h>
#include <strings.h>

static const char *str_upper_dup(pool_t pool, const char *s, size_t len)
{
	char *p = p_strndup(pool, s, len);
	for (char *c = p; *c != '\0'; c++)
		*c = (char)toupper((unsigned char)*c);
	return p;
}

/* Parses "(From To)" inside a section into a NULL-terminated list. */
static int parse_field_list(const char *p, const char **end_r, pool_t pool,
			    const char *const **fields_r)
{
	ARRAY(const char *) fields;
	array_init(&fields, pool, 8);
	if (*p++ != '(')
		return -1;
	for (;;) {
		while (*p == ' ')
			p++;
		if (*p == ')')
			break;
		const char *start = p;
		if (*p == '"') {
			start = ++p;
			while (*p != '\0' && *p != '"')
				p++;
			if (*p != '"')
				return -1;
			array_push(&fields, str_upper_dup(pool, start, (size_t)(p - start)));
			p++;
			continue;
		}
		/* header field names: printable ASCII except ':' (RFC 5322 §3.6.8) */
		while (*p > ' ' && *p < 0x7f && *p != ')' && *p != ':' && *p != '(')
			p++;
		if (p == start)
			return -1;
		array_push(&fields, str_upper_dup(pool, start, (size_t)(p - start)));
	}
	if (fields.count == 0)
		return -1;
	array_push(&fields, NULL);
	*fields_r = fields.v;
	*end_r = p + 1;
	return 0;
}

static int parse_partial(const char *p, struct fetch_item *item)
{
	/* "<start.size>" (RFC 9051 §6.4.5), size non-zero */
	uint64_t start, size;
	const char *end;
	if (*p == '\0')
		return 0;
	if (*p++ != '<' || str_parse_uint64(p, &start, &end) < 0 || *end != '.')
		return -1;
	if (str_parse_uint64(end + 1, &size, &end) < 0 || size == 0 || strcmp(end, ">") != 0)
		return -1;
	if (start > UINT32_MAX || size > UINT32_MAX)
		return -1;
	item->partial = true;
	item->partial_start = start;
	item->partial_size = size;
	return 0;
}

/* Parses the part of "BODY[...]<...>" after "BODY" or "BODY.PEEK". */
static int parse_section(const char *p, pool_t pool, struct fetch_item *item,
			 const char **error_r)
{
	const char *close = strchr(p, ']');
	if (*p != '[' || close == NULL) {
		*error_r = "Invalid BODY section.";
		return -1;
	}
	const char *spec = p + 1;
	size_t spec_len = (size_t)(close - spec);
	const char *label_spec = str_upper_dup(pool, spec, spec_len);
	if (spec_len == 0) {
		item->section = SECTION_ALL;
	} else if (strcasecmp(label_spec, "HEADER") == 0) {
		item->section = SECTION_HEADER;
	} else if (strcasecmp(label_spec, "TEXT") == 0) {
		item->section = SECTION_TEXT;
	} else if (strncasecmp(spec, "HEADER.FIELDS.NOT ", 18) == 0 ||
		   strncasecmp(spec, "HEADER.FIELDS ", 14) == 0) {
		bool not = strncasecmp(spec, "HEADER.FIELDS.NOT ", 18) == 0;
		const char *end;
		item->section = not ? SECTION_HEADER_FIELDS_NOT : SECTION_HEADER_FIELDS;
		if (parse_field_list(spec + (not ? 18 : 14), &end, pool, &item->fields) < 0 ||
		    end != close) {
			*error_r = "Invalid header field list.";
			return -1;
		}
		/* echo the field list normalised: upper case, single spaces */
		string_t *str = str_new(pool, 64);
		str_append(str, not ? "HEADER.FIELDS.NOT (" : "HEADER.FIELDS (");
		for (unsigned int i = 0; item->fields[i] != NULL; i++) {
			if (i > 0)
				str_append_c(str, ' ');
			str_append(str, item->fields[i]);
		}
		str_append_c(str, ')');
		label_spec = str_c(str);
	} else if (isdigit((unsigned char)spec[0])) {
		/* MIME part numbers need the MIME structure parser */
		*error_r = "MIME part sections are not supported yet.";
		return -1;
	} else {
		*error_r = "Invalid BODY section.";
		return -1;
	}
	if (parse_partial(close + 1, item) < 0) {
		*error_r = "Invalid partial range.";
		return -1;
	}
	item->label = item->partial ?
		p_strdup_printf(pool, "BODY[%s]<%llu>", label_spec,
				(unsigned long long)item->partial_start) :
		p_strdup_printf(pool, "BODY[%s]", label_spec);
	return 0;
}

static int parse_one(const char *atom, pool_t pool, fetch_items_t *items, const char **error_r)
{
	struct fetch_item item;
	memset(&item, 0, sizeof(item));
	item.type = FETCH_SECTION;
	if (strcasecmp(atom, "FLAGS") == 0) {
		item.type = FETCH_FLAGS;
	} else if (strcasecmp(atom, "UID") == 0) {
		item.type = FETCH_UID;
	} else if (strcasecmp(atom, "INTERNALDATE") == 0) {
		item.type = FETCH_INTERNALDATE;
	} else if (strcasecmp(atom, "RFC822.SIZE") == 0) {
		item.type = FETCH_RFC822_SIZE;
	} else if (strcasecmp(atom, "RFC822") == 0) {
		item.section = SECTION_ALL;
		item.label = "RFC822";
	} else if (strcasecmp(atom, "RFC822.HEADER") == 0) {
		item.section = SECTION_HEADER;
		item.peek = true; /* RFC 9051 §6.4.5: doesn't set \Seen */
		item.label = "RFC822.HEADER";
	} else if (strcasecmp(atom, "RFC822.TEXT") == 0) {
		item.section = SECTION_TEXT;
		item.label = "RFC822.TEXT";
	} else if (strncasecmp(atom, "BODY.PEEK[", 10) == 0) {
		item.peek = true;
		if (parse_section(atom + 9, pool, &item, error_r) < 0)
			return -1;
	} else if (strncasecmp(atom, "BODY[", 5) == 0) {
		if (parse_section(atom + 4, pool, &item, error_r) < 0)
			return -1;
	} else if (strcasecmp(atom, "ENVELOPE") == 0 || strcasecmp(atom, "BODY") == 0 ||
		   strcasecmp(atom, "BODYSTRUCTURE") == 0 ||
		   strncasecmp(atom, "BINARY", 6) == 0) {
		*error_r = t_strdup_printf("%s is not supported yet.", atom);
		return -1;
	} else {
		*error_r = t_strdup_printf("Unknown FETCH attribute %s.", atom);
		return -1;
	}
	array_push(items, item);
	return 0;
}

int imap_fetch_parse_items(const struct imap_arg *arg, pool_t pool, bool uid_cmd,
			   fetch_items_t *items_r, const char **error_r)
{
	static const char *const fast[] = { "FLAGS", "INTERNALDATE", "RFC822.SIZE", NULL };
	const struct imap_arg *list;
	unsigned int count;
	const char *atom;
	array_init(items_r, pool, 8);
	/* UID FETCH always returns UID (RFC 9051 §6.4.9) */
	if (uid_cmd && parse_one("UID", pool, items_r, error_r) < 0)
		return -1;
	if (imap_arg_get_atom(arg, &atom)) {
		if (strcasecmp(atom, "FAST") == 0 || strcasecmp(atom, "ALL") == 0 ||
		    strcasecmp(atom, "FULL") == 0) {
			if (strcasecmp(atom, "FAST") != 0) {
				*error_r = t_strdup_printf("%s needs ENVELOPE, which is not supported yet.", atom);
				return -1;
			}
			for (unsigned int i = 0; fast[i] != NULL; i++)
				(void)parse_one(fast[i], pool, items_r, error_r);
			return 0;
		}
		return parse_one(atom, pool, items_r, error_r);
	}
	if (!imap_arg_get_list(arg, &list, &count) || count == 0) {
		*error_r = "Invalid FETCH attributes.";
		return -1;
	}
	for (unsigned int i = 0; i < count; i++) {
		if (!imap_arg_get_atom(&list[i], &atom) || imap_arg_is_nil(&list[i])) {
			*error_r = "Invalid FETCH attribute.";
			return -1;
		}
		if (uid_cmd && strcasecmp(atom, "UID") == 0)
			continue;
		if (parse_one(atom, pool, items_r, error_r) < 0)
			return -1;
	}
	return 0;
}
