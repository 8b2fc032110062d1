/* Parsing FETCH attributes (RFC 9051 §6.4.5 fetch-att and section-spec,
 * RFC 3516 BINARY, BINARY.PEEK and BINARY.SIZE, RFC 8970 PREVIEW with its
 * LAZY modifier, and the macros ALL, FAST and FULL). */
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

/* section-part = nz-number *("." nz-number): the numbers, and in *rest_r
   what follows the last one ("" or ".MIME" etc.). */
static int parse_section_part(const char *spec, pool_t pool, struct fetch_item *item,
			      const char **rest_r)
{
	ARRAY(uint32_t) nums;
	const char *p = spec;

	array_init(&nums, pool, 4);
	while (*p >= '1' && *p <= '9') {
		uint32_t num = 0;
		for (; *p >= '0' && *p <= '9'; p++) {
			if (num > (UINT32_MAX - 9) / 10)
				return -1;
			num = num * 10 + (uint32_t)(*p - '0');
		}
		if (nums.count >= FETCH_SECTION_MAX_PARTS)
			return -1;
		array_push(&nums, num);
		if (*p != '.' || !(p[1] >= '0' && p[1] <= '9'))
			break;
		p++;
	}
	if (nums.count == 0 || (*p != '\0' && *p != '.'))
		return -1;
	item->part = nums.v;
	item->part_count = nums.count;
	*rest_r = *p == '.' ? p + 1 : p;
	return *p == '.' && p[1] == '\0' ? -1 : 0;
}

/* section-msgtext / "MIME" after an optional section-part; spec is
   NUL-terminated at the closing ']'. Returns the label's section text. */
static const char *parse_section_text(const char *spec, pool_t pool, struct fetch_item *item,
				      const char **error_r)
{
	const char *upper = str_upper_dup(pool, spec, strlen(spec));

	if (*spec == '\0') {
		item->section = SECTION_ALL;
	} else if (strcmp(upper, "HEADER") == 0) {
		item->section = SECTION_HEADER;
	} else if (strcmp(upper, "TEXT") == 0) {
		item->section = SECTION_TEXT;
	} else if (strcmp(upper, "MIME") == 0 && item->part_count > 0) {
		item->section = SECTION_MIME;
	} else if (strncmp(upper, "HEADER.FIELDS.NOT ", 18) == 0 ||
		   strncmp(upper, "HEADER.FIELDS ", 14) == 0) {
		bool not = strncmp(upper, "HEADER.FIELDS.NOT ", 18) == 0;
		const char *end;
		item->section = not ? SECTION_HEADER_FIELDS_NOT : SECTION_HEADER_FIELDS;
		if (parse_field_list(spec + (not ? 18 : 14), &end, pool, &item->fields) < 0 ||
		    *end != '\0') {
			*error_r = "Invalid header field list.";
			return NULL;
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
		return str_c(str);
	} else {
		*error_r = "Invalid BODY section.";
		return NULL;
	}
	return upper;
}

/* Parses "[section]<partial>" after BODY, BODY.PEEK, BINARY, BINARY.PEEK
   or BINARY.SIZE (name), and sets the item's label. */
static int parse_section(const char *p, const char *name, pool_t pool, struct fetch_item *item,
			 const char **error_r)
{
	const char *close = strchr(p, ']');
	bool binary = item->type != FETCH_SECTION;
	string_t *label = str_new(pool, 64);

	if (*p != '[' || close == NULL) {
		*error_r = binary ? "Invalid BINARY section." : "Invalid BODY section.";
		return -1;
	}
	const char *spec = p_strndup(pool, p + 1, (size_t)(close - p - 1));
	const char *rest = spec;
	if (*spec >= '0' && *spec <= '9' && parse_section_part(spec, pool, item, &rest) < 0) {
		*error_r = "Invalid section part number.";
		return -1;
	}
	if (binary && *rest != '\0') {
		/* RFC 3516 §6: section-binary = "[" [section-part] "]" */
		*error_r = "BINARY takes only a section part number.";
		return -1;
	}
	const char *text = parse_section_text(rest, pool, item, error_r);
	if (text == NULL)
		return -1;
	if (parse_partial(close + 1, item) < 0 ||
	    (item->partial && item->type == FETCH_BINARY_SIZE)) {
		*error_r = "Invalid partial range.";
		return -1;
	}
	str_printfa(label, "%s[", name);
	for (unsigned int i = 0; i < item->part_count; i++)
		str_printfa(label, i == 0 ? "%u" : ".%u", item->part[i]);
	if (item->part_count > 0 && *text != '\0')
		str_append_c(label, '.');
	str_printfa(label, "%s]", text);
	if (item->partial)
		str_printfa(label, "<%llu>", (unsigned long long)item->partial_start);
	item->label = str_c(label);
	return 0;
}

struct fetch_simple_item {
	const char *name;
	enum fetch_item_type type;
};

static const struct fetch_simple_item simple_items[] = {
	{ "FLAGS", FETCH_FLAGS },
	{ "UID", FETCH_UID },
	{ "MODSEQ", FETCH_MODSEQ },
	{ "INTERNALDATE", FETCH_INTERNALDATE },
	{ "SAVEDATE", FETCH_SAVEDATE },
	{ "EMAILID", FETCH_EMAILID },
	{ "THREADID", FETCH_THREADID },
	{ "RFC822.SIZE", FETCH_RFC822_SIZE },
	{ "ENVELOPE", FETCH_ENVELOPE },
	{ "BODY", FETCH_BODY },
	{ "BODYSTRUCTURE", FETCH_BODYSTRUCTURE },
	{ "PREVIEW", FETCH_PREVIEW },
};

/* "(LAZY)" after PREVIEW (RFC 8970 §4: preview-mod, repeated or not).
   Returns 0, or -1 with *error_r. */
static int parse_preview_mods(const struct imap_arg *arg, struct fetch_item *item,
			      const char **error_r)
{
	const struct imap_arg *list;
	unsigned int count;
	if (!imap_arg_get_list(arg, &list, &count) || count == 0) {
		*error_r = "PREVIEW takes a list of modifiers.";
		return -1;
	}
	for (unsigned int i = 0; i < count; i++) {
		const char *mod;
		if (!imap_arg_get_atom(&list[i], &mod) || strcasecmp(mod, "LAZY") != 0) {
			*error_r = "Unknown PREVIEW modifier.";
			return -1;
		}
	}
	item->lazy = true;
	return 0;
}

/* RFC822, RFC822.HEADER, RFC822.TEXT: BODY sections with other names. */
static bool parse_rfc822(const char *atom, struct fetch_item *item)
{
	if (strcasecmp(atom, "RFC822") == 0) {
		item->section = SECTION_ALL;
		item->label = "RFC822";
	} else if (strcasecmp(atom, "RFC822.HEADER") == 0) {
		item->section = SECTION_HEADER;
		item->peek = true; /* RFC 9051 §6.4.5: doesn't set \Seen */
		item->label = "RFC822.HEADER";
	} else if (strcasecmp(atom, "RFC822.TEXT") == 0) {
		item->section = SECTION_TEXT;
		item->label = "RFC822.TEXT";
	} else {
		return false;
	}
	return true;
}

static int parse_one(const char *atom, pool_t pool, fetch_items_t *items, const char **error_r)
{
	struct fetch_item item;
	memset(&item, 0, sizeof(item));
	item.type = FETCH_SECTION;
	for (unsigned int i = 0; i < N_ELEMENTS(simple_items); i++) {
		if (strcasecmp(atom, simple_items[i].name) == 0) {
			item.type = simple_items[i].type;
			array_push(items, item);
			return 0;
		}
	}
	int ret = 0;
	if (parse_rfc822(atom, &item)) {
		/* done */
	} else if (strncasecmp(atom, "BODY.PEEK[", 10) == 0) {
		item.peek = true;
		ret = parse_section(atom + 9, "BODY", pool, &item, error_r);
	} else if (strncasecmp(atom, "BODY[", 5) == 0) {
		ret = parse_section(atom + 4, "BODY", pool, &item, error_r);
	} else if (strncasecmp(atom, "BINARY.PEEK[", 12) == 0) {
		item.type = FETCH_BINARY;
		item.peek = true;
		ret = parse_section(atom + 11, "BINARY", pool, &item, error_r);
	} else if (strncasecmp(atom, "BINARY.SIZE[", 12) == 0) {
		item.type = FETCH_BINARY_SIZE;
		item.peek = true;
		ret = parse_section(atom + 11, "BINARY.SIZE", pool, &item, error_r);
	} else if (strncasecmp(atom, "BINARY[", 7) == 0) {
		item.type = FETCH_BINARY;
		ret = parse_section(atom + 6, "BINARY", pool, &item, error_r);
	} else {
		*error_r = t_strdup_printf("Unknown FETCH attribute %s.", atom);
		return -1;
	}
	if (ret < 0)
		return -1;
	array_push(items, item);
	return 0;
}

/* RFC 9051 §6.4.5 macros. */
static const char *const *fetch_macro(const char *atom)
{
	static const char *const fast[] = { "FLAGS", "INTERNALDATE", "RFC822.SIZE", NULL };
	static const char *const all[] = {
		"FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE", NULL
	};
	static const char *const full[] = {
		"FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE", "BODY", NULL
	};

	if (strcasecmp(atom, "FAST") == 0)
		return fast;
	if (strcasecmp(atom, "ALL") == 0)
		return all;
	if (strcasecmp(atom, "FULL") == 0)
		return full;
	return NULL;
}

/* PREVIEW followed by its modifier list; the item just parsed is it. */
static bool is_preview_with_mods(const char *atom, const struct imap_arg *next)
{
	return strcasecmp(atom, "PREVIEW") == 0 && next->type == IMAP_ARG_LIST;
}

int imap_fetch_parse_items(const struct imap_arg *arg, pool_t pool, bool uid_cmd,
			   fetch_items_t *items_r, unsigned int *used_r,
			   const char **error_r)
{
	const struct imap_arg *list;
	unsigned int count;
	const char *atom;
	array_init(items_r, pool, 8);
	*used_r = 1;
	/* UID FETCH always returns UID (RFC 9051 §6.4.9) */
	if (uid_cmd && parse_one("UID", pool, items_r, error_r) < 0)
		return -1;
	if (imap_arg_get_atom(arg, &atom)) {
		const char *const *macro = fetch_macro(atom);
		if (macro == NULL) {
			if (parse_one(atom, pool, items_r, error_r) < 0)
				return -1;
			/* "FETCH 1 PREVIEW (LAZY)"; a list of fetch
			   modifiers (CHANGEDSINCE ...) starts otherwise */
			const struct imap_arg *mods;
			unsigned int mod_count;
			if (!is_preview_with_mods(atom, &arg[1]) ||
			    !imap_arg_get_list(&arg[1], &mods, &mod_count) || mod_count == 0 ||
			    !imap_arg_get_atom(&mods[0], &atom) || strcasecmp(atom, "LAZY") != 0)
				return 0;
			*used_r = 2;
			return parse_preview_mods(&arg[1], &items_r->v[items_r->count - 1], error_r);
		}
		for (unsigned int i = 0; macro[i] != NULL; i++)
			(void)parse_one(macro[i], pool, items_r, error_r);
		return 0;
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
		if (i + 1 < count && is_preview_with_mods(atom, &list[i + 1])) {
			if (parse_preview_mods(&list[++i], &items_r->v[items_r->count - 1],
					       error_r) < 0)
				return -1;
		}
	}
	return 0;
}

bool imap_fetch_item_needs_structure(const struct fetch_item *item)
{
	switch (item->type) {
	case FETCH_ENVELOPE:
	case FETCH_BODY:
	case FETCH_BODYSTRUCTURE:
	case FETCH_BINARY:
	case FETCH_BINARY_SIZE:
		return true;
	case FETCH_PREVIEW:
		/* LAZY takes what the cache has and never parses */
		return !item->lazy;
	case FETCH_SECTION:
		return item->part_count > 0 || item->section != SECTION_ALL;
	default:
		return false;
	}
}
