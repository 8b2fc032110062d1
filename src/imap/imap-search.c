/* SEARCH program parsing and evaluation. */
#include "imap-search.h"
#include "date.h"
#include "imap-arg.h"
#include "imap-storage.h"
#include "istream.h"
#include "strnum.h"
#include "mime-charset.h"
#include "search-keys.h"

#include <strings.h>

#define SEARCH_MAX_DEPTH 100

enum search_key_type {
	SK_ALL, SK_AND, SK_OR, SK_NOT,
	SK_SEQSET, SK_UIDSET,
	SK_FLAG_SET, SK_FLAG_UNSET, SK_KEYWORD, SK_UNKEYWORD,
	SK_NEW, SK_OLD, SK_RECENT,
	SK_LARGER, SK_SMALLER,
	SK_BEFORE, SK_ON, SK_SINCE,
	SK_SENTBEFORE, SK_SENTON, SK_SENTSINCE,
	SK_HEADER, SK_BODY, SK_TEXT,
	SK_OLDER, SK_YOUNGER,
	SK_SAVEDBEFORE, SK_SAVEDON, SK_SAVEDSINCE, SK_SAVEDATESUPPORTED,
	SK_EMAILID, SK_THREADID,
	SK_MODSEQ,
};

struct search_key {
	enum search_key_type type;
	struct search_key *a, *b;   /* NOT: a; OR: a, b; AND: a list via next */
	struct search_key *next;    /* sibling in an AND list */
	uint32_t flag;
	uint64_t number;
	time_t date;                /* 00:00 UTC of the day */
	const char *field, *value;
	/* sets as parsed, and resolved against the view by each run (an
	   UPDATE context runs the program again after '*' moved) */
	imap_seq_ranges_t parsed_set, set;
	bool set_saved;
	/* FROM/TO/CC/BCC/SUBJECT rather than HEADER */
	bool field_key;
	/* text keys: the matching UIDs, ascending, found before evaluation */
	array_uint32_t uids;
};

struct search_parser {
	struct imap_client *client;
	/* CHARSET other than UTF-8: strings are converted (NULL: none) */
	const char *charset;
	pool_t pool;
	const struct imap_arg *args;
	const char *error;
	unsigned int depth;
};

static const struct { const char *name; uint32_t flag; bool set; } flag_keys[] = {
	{ "ANSWERED", MAIL_ANSWERED, true }, { "UNANSWERED", MAIL_ANSWERED, false },
	{ "DELETED", MAIL_DELETED, true }, { "UNDELETED", MAIL_DELETED, false },
	{ "DRAFT", MAIL_DRAFT, true }, { "UNDRAFT", MAIL_DRAFT, false },
	{ "FLAGGED", MAIL_FLAGGED, true }, { "UNFLAGGED", MAIL_FLAGGED, false },
	{ "SEEN", MAIL_SEEN, true }, { "UNSEEN", MAIL_SEEN, false },
};

static const struct { const char *name; enum search_key_type type; } date_keys[] = {
	{ "BEFORE", SK_BEFORE }, { "ON", SK_ON }, { "SINCE", SK_SINCE },
	{ "SENTBEFORE", SK_SENTBEFORE }, { "SENTON", SK_SENTON }, { "SENTSINCE", SK_SENTSINCE },
	{ "SAVEDBEFORE", SK_SAVEDBEFORE }, { "SAVEDON", SK_SAVEDON },
	{ "SAVEDSINCE", SK_SAVEDSINCE },
};

static const char *const header_keys[] = { "FROM", "TO", "CC", "BCC", "SUBJECT" };

static struct search_key *search_parse_key(struct search_parser *p);

static bool next_string(struct search_parser *p, const char **str_r)
{
	if (p->args->type == IMAP_ARG_EOL || !imap_arg_get_astring(p->args, str_r)) {
		p->error = "BAD Missing search argument.";
		return false;
	}
	p->args++;
	/* copied: an UPDATE context keeps the program after the command's
	   arguments are gone */
	if (p->charset != NULL) {
		string_t *utf8 = str_new(p->pool, strlen(*str_r) * 2 + 1);
		(void)charset_to_utf8(p->charset, *str_r, strlen(*str_r), utf8);
		*str_r = str_c(utf8);
	} else {
		*str_r = p_strdup(p->pool, *str_r);
	}
	return true;
}

static struct search_key *new_key(struct search_parser *p, enum search_key_type type)
{
	struct search_key *key = p_new(p->pool, struct search_key, 1);
	key->type = type;
	return key;
}

/* A list of keys ANDed together until the end of args or list. */
static struct search_key *search_parse_and(struct search_parser *p)
{
	struct search_key *and = new_key(p, SK_AND), **tail = &and->a;
	while (p->args->type != IMAP_ARG_EOL) {
		struct search_key *key = search_parse_key(p);
		if (key == NULL)
			return NULL;
		*tail = key;
		tail = &key->next;
	}
	if (and->a == NULL) {
		p->error = "BAD Empty search program.";
		return NULL;
	}
	return and;
}

static struct search_key *search_parse_list(struct search_parser *p)
{
	const struct imap_arg *list;
	unsigned int count;
	(void)imap_arg_get_list(p->args, &list, &count);
	p->args++;
	const struct imap_arg *saved = p->args;
	p->args = list;
	struct search_key *key = search_parse_and(p);
	p->args = saved;
	return key;
}

static struct search_key *search_parse_date(struct search_parser *p, enum search_key_type type)
{
	const char *str;
	struct search_key *key = new_key(p, type);
	if (!next_string(p, &str))
		return NULL;
	if (imap_date_parse(str, &key->date) < 0) {
		p->error = t_strdup_printf("BAD Invalid date: %s", str);
		return NULL;
	}
	return key;
}

static struct search_key *search_parse_set(struct search_parser *p, const char *str, bool uid)
{
	struct search_key *key = new_key(p, uid ? SK_UIDSET : SK_SEQSET);
	if (imap_seqset_is_saved(str)) {
		/* SEARCHRES (RFC 5182 §2.1): the saved UIDs, whatever the key */
		const array_uint32_t *saved = &p->client->search_saved;
		key->type = SK_UIDSET;
		if (saved->count > 0)
			imap_seqset_from_sorted(saved->v, saved->count, p->pool, &key->parsed_set);
		else
			array_init(&key->parsed_set, p->pool, 1);
		key->set_saved = true;
		return key;
	}
	if (imap_seqset_parse(str, p->pool, &key->parsed_set) < 0) {
		p->error = t_strdup_printf("BAD Invalid message set: %s", str);
		return NULL;
	}
	return key;
}

/* MODSEQ [entry-name entry-type-req] mod-sequence-valzer (RFC 7162
   §3.1.5). Modseqs are kept per message, not per flag, so the entry
   (a flag's "/flags/..." name, and priv, shared or all) is checked and
   then stands for the message's modseq, as §3.1.5 allows. */
static struct search_key *search_parse_modseq(struct search_parser *p)
{
	struct search_key *key = new_key(p, SK_MODSEQ);
	const char *str, *type;
	if (p->args->type == IMAP_ARG_STRING || p->args->type == IMAP_ARG_LITERAL) {
		(void)imap_arg_get_astring(p->args, &str);
		if (strncasecmp(str, "/flags/", 7) != 0 || str[7] == '\0' ||
		    !imap_arg_get_atom(&p->args[1], &type) ||
		    (strcasecmp(type, "priv") != 0 && strcasecmp(type, "shared") != 0 &&
		     strcasecmp(type, "all") != 0)) {
			p->error = "BAD Invalid MODSEQ entry.";
			return NULL;
		}
		p->args += 2;
	}
	if (!imap_arg_get_atom(p->args, &str) || str_to_uint64(str, &key->number) < 0 ||
	    key->number > INT64_MAX) {
		p->error = "BAD MODSEQ takes a mod-sequence value.";
		return NULL;
	}
	p->args++;
	return key;
}

static struct search_key *search_parse_word(struct search_parser *p, const char *word)
{
	struct search_key *key;
	const char *str;
	for (unsigned int i = 0; i < N_ELEMENTS(flag_keys); i++) {
		if (strcasecmp(word, flag_keys[i].name) == 0) {
			key = new_key(p, flag_keys[i].set ? SK_FLAG_SET : SK_FLAG_UNSET);
			key->flag = flag_keys[i].flag;
			return key;
		}
	}
	for (unsigned int i = 0; i < N_ELEMENTS(date_keys); i++) {
		if (strcasecmp(word, date_keys[i].name) == 0)
			return search_parse_date(p, date_keys[i].type);
	}
	for (unsigned int i = 0; i < N_ELEMENTS(header_keys); i++) {
		if (strcasecmp(word, header_keys[i]) == 0) {
			key = new_key(p, SK_HEADER);
			key->field = header_keys[i];
			key->field_key = true;
			return next_string(p, &key->value) ? key : NULL;
		}
	}
	if (strcasecmp(word, "ALL") == 0)
		return new_key(p, SK_ALL);
	if (strcasecmp(word, "NEW") == 0)
		return new_key(p, SK_NEW);
	if (strcasecmp(word, "OLD") == 0)
		return new_key(p, SK_OLD);
	if (strcasecmp(word, "RECENT") == 0)
		return new_key(p, SK_RECENT);
	if (strcasecmp(word, "KEYWORD") == 0 || strcasecmp(word, "UNKEYWORD") == 0) {
		key = new_key(p, word[0] == 'K' || word[0] == 'k' ? SK_KEYWORD : SK_UNKEYWORD);
		return next_string(p, &key->value) ? key : NULL;
	}
	if (strcasecmp(word, "LARGER") == 0 || strcasecmp(word, "SMALLER") == 0) {
		key = new_key(p, word[0] == 'L' || word[0] == 'l' ? SK_LARGER : SK_SMALLER);
		if (!next_string(p, &str) || str_to_uint64(str, &key->number) < 0) {
			p->error = "BAD Invalid size.";
			return NULL;
		}
		return key;
	}
	if (strcasecmp(word, "OLDER") == 0 || strcasecmp(word, "YOUNGER") == 0) {
		/* WITHIN (RFC 5032): an interval in seconds */
		key = new_key(p, word[0] == 'O' || word[0] == 'o' ? SK_OLDER : SK_YOUNGER);
		if (!next_string(p, &str) || str_to_uint64(str, &key->number) < 0 ||
		    key->number == 0 || key->number > UINT32_MAX) {
			p->error = "BAD Invalid interval.";
			return NULL;
		}
		key->date = time(NULL) - (time_t)key->number;
		return key;
	}
	if (strcasecmp(word, "MODSEQ") == 0)
		return search_parse_modseq(p);
	if (strcasecmp(word, "SAVEDATESUPPORTED") == 0)
		return new_key(p, SK_SAVEDATESUPPORTED);
	if (strcasecmp(word, "EMAILID") == 0 || strcasecmp(word, "THREADID") == 0) {
		/* RFC 8474 §5.3 */
		key = new_key(p, word[0] == 'E' || word[0] == 'e' ? SK_EMAILID : SK_THREADID);
		if (!next_string(p, &key->value))
			return NULL;
		if (!imap_objectid_is_valid(key->value)) {
			p->error = "BAD Invalid object id.";
			return NULL;
		}
		return key;
	}
	if (strcasecmp(word, "HEADER") == 0) {
		key = new_key(p, SK_HEADER);
		return next_string(p, &key->field) && next_string(p, &key->value) ? key : NULL;
	}
	if (strcasecmp(word, "BODY") == 0 || strcasecmp(word, "TEXT") == 0) {
		key = new_key(p, word[0] == 'B' || word[0] == 'b' ? SK_BODY : SK_TEXT);
		return next_string(p, &key->value) ? key : NULL;
	}
	if (strcasecmp(word, "UID") == 0) {
		if (!next_string(p, &str))
			return NULL;
		return search_parse_set(p, str, true);
	}
	if (strcasecmp(word, "NOT") == 0) {
		key = new_key(p, SK_NOT);
		key->a = search_parse_key(p);
		return key->a == NULL ? NULL : key;
	}
	if (strcasecmp(word, "OR") == 0) {
		key = new_key(p, SK_OR);
		if ((key->a = search_parse_key(p)) == NULL || (key->b = search_parse_key(p)) == NULL)
			return NULL;
		return key;
	}
	if ((word[0] >= '0' && word[0] <= '9') || word[0] == '*' || word[0] == '$')
		return search_parse_set(p, word, false);
	p->error = t_strdup_printf("BAD Unknown search key %s.", word);
	return NULL;
}

static struct search_key *search_parse_key(struct search_parser *p)
{
	if (p->args->type == IMAP_ARG_EOL) {
		p->error = "BAD Missing search key.";
		return NULL;
	}
	if (++p->depth > SEARCH_MAX_DEPTH) {
		p->error = "BAD Search program nested too deep.";
		return NULL;
	}
	struct search_key *key;
	const char *word;
	if (p->args->type == IMAP_ARG_LIST) {
		key = search_parse_list(p);
	} else if (imap_arg_get_atom(p->args, &word)) {
		p->args++;
		key = search_parse_word(p, word);
	} else {
		p->error = "BAD Invalid search key.";
		key = NULL;
	}
	p->depth--;
	return key;
}

bool imap_search_charset_is_supported(const char *charset)
{
	return charset_is_utf8(charset) || charset_is_known(charset);
}

int imap_search_parse_charset(struct imap_client *client, const struct imap_arg *args,
			      const char *charset, pool_t pool, struct search_key **key_r,
			      const char **error_r)
{
	struct search_parser p = { .client = client, .pool = pool, .args = args };
	if (charset != NULL && !charset_is_utf8(charset))
		p.charset = p_strdup(pool, charset);
	*key_r = search_parse_and(&p);
	if (*key_r == NULL) {
		*error_r = p.error;
		return -1;
	}
	return 0;
}

int imap_search_parse(struct imap_client *client, const struct imap_arg *args, pool_t pool,
		      struct search_key **key_r, const char **error_r)
{
	const char *charset = NULL;
	if (imap_arg_atom_equals(&args[0], "CHARSET")) {
		/* RFC 9755 §3 (RFC 6855 erratum 4029): the strings are
		   UTF-8 once UTF8=ACCEPT is on, a charset label conflicts */
		if (client->utf8_accept) {
			*error_r = "BAD CHARSET is not allowed after ENABLE UTF8=ACCEPT.";
			return -1;
		}
		if (!imap_arg_get_astring(&args[1], &charset)) {
			*error_r = "BAD Missing charset.";
			return -1;
		}
		if (!imap_search_charset_is_supported(charset)) {
			*error_r = IMAP_SEARCH_BADCHARSET_REPLY;
			return -1;
		}
		args += 2;
	}
	return imap_search_parse_charset(client, args, charset, pool, key_r, error_r);
}

/* --- evaluation --- */

/* Text keys are answered by the full-text index before the per-message
   pass, which then only looks the UID up; SENT* keys read the sent dates
   of the index's sort keys. No message file is opened. */

struct search_sent_day {
	uint32_t uid;
	time_t day;
};

struct search_eval {
	struct imap_client *client;
	pool_t pool;
	bool index_updated;
	bool sent_loaded;
	ARRAY(struct search_sent_day) sent_days;
};

/* 00:00 of t's UTC day */
static time_t utc_day(time_t t)
{
	return t - ((t % 86400) + 86400) % 86400;
}

static bool uids_contain(const array_uint32_t *uids, uint32_t uid)
{
	return uids->count > 0 &&
		bsearch(&uid, uids->v, uids->count, sizeof(uids->v[0]), uint32_cmp) != NULL;
}

static int search_update_index(struct search_eval *ev)
{
	if (ev->index_updated)
		return 0;
	ev->index_updated = true;
	return mailbox_search_update(ev->client->box);
}

static int sent_day_callback(uint32_t uid, const struct search_keys *keys, void *context)
{
	struct search_eval *ev = context;
	if (keys->has_sent_date) {
		/* the date as the sender wrote it, time and zone ignored */
		time_t t = keys->sent_date + (time_t)keys->sent_tz * 60;
		struct search_sent_day *d = array_append_space(&ev->sent_days);
		d->uid = uid;
		d->day = utc_day(t);
	}
	return 0;
}

static int search_load_sent_days(struct search_eval *ev)
{
	if (ev->sent_loaded)
		return 0;
	ev->sent_loaded = true;
	array_init(&ev->sent_days, ev->pool, 256);
	if (search_update_index(ev) < 0)
		return -1;
	return mailbox_search_foreach_keys(ev->client->box, SEARCH_KEYS_DATE, sent_day_callback, ev);
}

static bool search_sent_day(const struct search_eval *ev, uint32_t uid, time_t *day_r)
{
	const struct search_sent_day *d = ev->sent_days.count == 0 ? NULL :
		bsearch(&uid, ev->sent_days.v, ev->sent_days.count, sizeof(ev->sent_days.v[0]),
			uint32_cmp);
	if (d == NULL)
		return false;
	*day_r = d->day;
	return true;
}

static enum mail_search_text_key search_text_key(const struct search_key *key)
{
	static const struct { const char *name; enum mail_search_text_key key; } fields[] = {
		{ "FROM", MAIL_SEARCH_FROM }, { "TO", MAIL_SEARCH_TO }, { "CC", MAIL_SEARCH_CC },
		{ "BCC", MAIL_SEARCH_BCC }, { "SUBJECT", MAIL_SEARCH_SUBJECT },
	};
	if (key->type == SK_BODY)
		return MAIL_SEARCH_BODY;
	if (key->type == SK_TEXT)
		return MAIL_SEARCH_TEXT;
	for (unsigned int i = 0; key->field_key && i < N_ELEMENTS(fields); i++) {
		if (strcasecmp(key->field, fields[i].name) == 0)
			return fields[i].key;
	}
	return MAIL_SEARCH_HEADER;
}

/* Finds the UIDs of every text key and loads what SENT* keys need. */
static int search_prepare_keys(struct search_eval *ev, struct search_key *key)
{
	for (; key != NULL; key = key->next) {
		switch (key->type) {
		case SK_HEADER:
		case SK_BODY:
		case SK_TEXT:
			if (search_update_index(ev) < 0)
				return -1;
			array_init(&key->uids, ev->pool, 64);
			if (mailbox_search_text(ev->client->box, search_text_key(key), key->field,
						key->value, &key->uids) < 0)
				return -1;
			break;
		case SK_SENTBEFORE:
		case SK_SENTON:
		case SK_SENTSINCE:
			if (search_load_sent_days(ev) < 0)
				return -1;
			break;
		default:
			break;
		}
		if ((key->a != NULL && search_prepare_keys(ev, key->a) < 0) ||
		    (key->b != NULL && search_prepare_keys(ev, key->b) < 0))
			return -1;
	}
	return 0;
}

static bool keyword_has(const struct mail_record *rec, const char *kw)
{
	for (unsigned int i = 0; rec->keywords != NULL && rec->keywords[i] != NULL; i++) {
		if (strcasecmp(rec->keywords[i], kw) == 0)
			return true;
	}
	return false;
}

static time_t internal_day(const struct mail_record *rec)
{
	return utc_day(rec->internal_date + (time_t)rec->internal_date_tz * 60);
}

static bool search_match(const struct search_eval *ev, const struct mail_record *rec,
			 uint32_t seq, const struct search_key *key)
{
	struct mailbox *box = ev->client->box;
	time_t day;
	switch (key->type) {
	case SK_ALL: return true;
	case SK_AND:
		for (const struct search_key *k = key->a; k != NULL; k = k->next) {
			if (!search_match(ev, rec, seq, k))
				return false;
		}
		return true;
	case SK_OR: return search_match(ev, rec, seq, key->a) || search_match(ev, rec, seq, key->b);
	case SK_NOT: return !search_match(ev, rec, seq, key->a);
	case SK_SEQSET: return imap_seqset_contains(&key->set, seq);
	case SK_UIDSET: return imap_seqset_contains(&key->set, rec->uid);
	case SK_FLAG_SET: return (rec->flags & key->flag) != 0;
	case SK_FLAG_UNSET: return (rec->flags & key->flag) == 0;
	case SK_KEYWORD: return keyword_has(rec, key->value);
	case SK_UNKEYWORD: return !keyword_has(rec, key->value);
	case SK_RECENT: return mailbox_view_is_recent(box, seq);
	case SK_NEW: return mailbox_view_is_recent(box, seq) && (rec->flags & MAIL_SEEN) == 0;
	case SK_OLD: return !mailbox_view_is_recent(box, seq);
	case SK_LARGER: return rec->size > key->number;
	case SK_SMALLER: return rec->size < key->number;
	case SK_BEFORE: return internal_day(rec) < key->date;
	case SK_ON: return internal_day(rec) == key->date;
	case SK_SINCE: return internal_day(rec) >= key->date;
	case SK_SENTBEFORE: return search_sent_day(ev, rec->uid, &day) && day < key->date;
	case SK_SENTON: return search_sent_day(ev, rec->uid, &day) && day == key->date;
	case SK_SENTSINCE: return search_sent_day(ev, rec->uid, &day) && day >= key->date;
	case SK_HEADER:
	case SK_BODY:
	case SK_TEXT:
		return uids_contain(&key->uids, rec->uid);
	case SK_OLDER: return rec->internal_date <= key->date;
	case SK_YOUNGER: return rec->internal_date > key->date;
	/* the save date as a UTC day (RFC 8514 §4) */
	case SK_SAVEDBEFORE: return utc_day(rec->save_date) < key->date;
	case SK_SAVEDON: return utc_day(rec->save_date) == key->date;
	case SK_SAVEDSINCE: return utc_day(rec->save_date) >= key->date;
	case SK_SAVEDATESUPPORTED: return true;
	/* EMAILID is the message's GUID, which copies keep; no THREADIDs */
	case SK_EMAILID: return rec->guid != NULL && strcmp(rec->guid, key->value) == 0;
	case SK_THREADID: return false;
	case SK_MODSEQ: return rec->modseq >= key->number;
	}
	return false;
}

/* Resolves '*' in sets against the mailbox, into pool. */
static void search_resolve(struct imap_client *client, struct search_key *key, pool_t pool)
{
	for (; key != NULL; key = key->next) {
		uint32_t count = mailbox_view_count(client->box);
		if (key->type == SK_SEQSET || key->type == SK_UIDSET) {
			array_init(&key->set, pool, key->parsed_set.count + 1);
			for (unsigned int i = 0; i < key->parsed_set.count; i++)
				array_push(&key->set, key->parsed_set.v[i]);
		}
		if (key->type == SK_SEQSET)
			imap_seqset_resolve(&key->set, count);
		else if (key->type == SK_UIDSET)
			imap_seqset_resolve(&key->set, count == 0 ? 0 : mailbox_view_uid(client->box, count));
		if (key->a != NULL)
			search_resolve(client, key->a, pool);
		if (key->b != NULL)
			search_resolve(client, key->b, pool);
	}
}

struct search_run_ctx {
	const struct search_eval *ev;
	const struct search_key *key;
	array_uint32_t *result;
};

static int search_run_cb(const struct mail_record *rec, uint32_t seq, void *context)
{
	struct search_run_ctx *ctx = context;
	if (search_match(ctx->ev, rec, seq, ctx->key))
		array_push(ctx->result, seq);
	return 0;
}

/* What of a message's record a search program reads. */
enum search_needs {
	SEARCH_NEEDS_UID,    /* the UID and sequence number: the view has them */
	SEARCH_NEEDS_FLAGS,  /* flags and keywords */
	SEARCH_NEEDS_RECORD, /* sizes and dates too */
};

static enum search_needs search_key_needs(const struct search_key *key)
{
	enum search_needs needs = SEARCH_NEEDS_UID, n;
	for (; key != NULL; key = key->next) {
		/* no default: -Wswitch makes a new key type say what it reads */
		n = SEARCH_NEEDS_RECORD;
		switch (key->type) {
		case SK_ALL: case SK_AND: case SK_OR: case SK_NOT: case SK_SEQSET:
		case SK_UIDSET: case SK_OLD: case SK_RECENT: case SK_SENTBEFORE:
		case SK_SENTON: case SK_SENTSINCE: case SK_HEADER: case SK_BODY: case SK_TEXT:
		case SK_SAVEDATESUPPORTED: case SK_THREADID:
			n = SEARCH_NEEDS_UID;
			break;
		case SK_FLAG_SET: case SK_FLAG_UNSET: case SK_KEYWORD: case SK_UNKEYWORD:
		case SK_NEW: case SK_MODSEQ:
			n = SEARCH_NEEDS_FLAGS;
			break;
		case SK_LARGER: case SK_SMALLER: case SK_BEFORE: case SK_ON: case SK_SINCE:
		case SK_OLDER: case SK_YOUNGER: case SK_SAVEDBEFORE: case SK_SAVEDON: case SK_EMAILID:
		case SK_SAVEDSINCE:
			n = SEARCH_NEEDS_RECORD;
			break;
		}
		if (key->a != NULL && search_key_needs(key->a) > n)
			n = search_key_needs(key->a);
		if (key->b != NULL && search_key_needs(key->b) > n)
			n = search_key_needs(key->b);
		if (n > needs)
			needs = n;
	}
	return needs;
}

bool imap_search_uses_modseq(const struct search_key *key)
{
	for (; key != NULL; key = key->next) {
		if (key->type == SK_MODSEQ ||
		    (key->a != NULL && imap_search_uses_modseq(key->a)) ||
		    (key->b != NULL && imap_search_uses_modseq(key->b)))
			return true;
	}
	return false;
}

bool imap_search_uses_seqnums(const struct search_key *key)
{
	for (; key != NULL; key = key->next) {
		if (key->type == SK_SEQSET ||
		    (key->a != NULL && imap_search_uses_seqnums(key->a)) ||
		    (key->b != NULL && imap_search_uses_seqnums(key->b)))
			return true;
	}
	return false;
}

bool imap_search_seq_bounds(struct imap_client *client, const struct search_key *key,
			    uint32_t *seq1_r, uint32_t *seq2_r)
{
	uint32_t lo = 1, hi = mailbox_view_count(client->box);
	if (key != NULL && key->type == SK_AND)
		key = key->a;
	for (; key != NULL && lo <= hi; key = key->next) {
		const imap_seq_ranges_t *set = &key->set;
		uint32_t s1, s2;
		if ((key->type != SK_SEQSET && key->type != SK_UIDSET) || !array_is_created(set))
			continue;
		if (set->count == 0)
			return false;
		s1 = set->v[0].seq1;
		s2 = set->v[set->count - 1].seq2;
		if (key->type == SK_UIDSET &&
		    !mailbox_view_uid_range(client->box, s1, s2, &s1, &s2))
			return false;
		lo = I_MAX(lo, s1);
		hi = I_MIN(hi, s2);
	}
	*seq1_r = lo;
	*seq2_r = hi;
	return lo <= hi;
}

int imap_search_run(struct imap_client *client, const struct search_key *key, pool_t pool,
		    array_uint32_t *seqs_r)
{
	struct search_eval ev = { .client = client, .pool = pool };
	search_resolve(client, (struct search_key *)key, pool);
	array_init(seqs_r, pool, 64);
	if (search_prepare_keys(&ev, (struct search_key *)key) < 0)
		return -1;
	uint32_t count = mailbox_view_count(client->box);
	struct search_run_ctx ctx = { .ev = &ev, .key = key, .result = seqs_r };
	enum search_needs needs = search_key_needs(key);
	if (needs == SEARCH_NEEDS_UID) {
		/* ALL, sets, text keys: no index read per message */
		for (uint32_t seq = 1; seq <= count; seq++) {
			const struct mail_record rec = { .uid = mailbox_view_uid(client->box, seq) };
			search_run_cb(&rec, seq, &ctx);
		}
		return 0;
	}
	uint32_t batch[1024];
	int ret = 0;
	for (uint32_t seq = 1; seq <= count && ret == 0;) {
		unsigned int n = 0;
		while (n < N_ELEMENTS(batch) && seq <= count)
			batch[n++] = seq++;
		ret = needs == SEARCH_NEEDS_FLAGS ?
			mailbox_foreach_record_flags(client->box, batch, n, search_run_cb, &ctx) :
			mailbox_foreach_record(client->box, batch, n, search_run_cb, &ctx);
	}
	return ret;
}
