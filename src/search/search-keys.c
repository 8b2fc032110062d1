/* Sort and thread keys from the first From/To/Cc/Date/Subject fields. */
#include "search-keys.h"
#include "search-casemap.h"
#include "search-subject.h"
#include "date.h"
#include "mime-address.h"
#include "mime-encoded-word.h"

/* only the first address counts; a few more are parsed so that a
   leading empty group is skipped */
#define SEARCH_KEYS_MAX_ADDRESSES 16

static const struct mime_address *keys_first_address(pool_t pool, const char *value)
{
	struct mime_address_list list = { NULL, NULL, 0 };
	if (value == NULL)
		return NULL;
	mime_address_parse(pool, value, strlen(value), SEARCH_KEYS_MAX_ADDRESSES, 0, &list);
	/* the first address may be a group's start marker (mailbox = the
	   group's name, domain NULL): sorting uses the name, as other
	   servers do; end markers are skipped */
	for (const struct mime_address *a = list.head; a != NULL; a = a->next) {
		if (a->mailbox != NULL)
			return a;
	}
	return NULL;
}

static const char *keys_addr_mailbox(pool_t pool, const struct mime_address *addr)
{
	if (addr == NULL)
		return "";
	return search_casemap(pool, addr->mailbox);
}

static const char *keys_display(pool_t pool, const struct mime_address *addr)
{
	if (addr == NULL)
		return "";
	if (addr->name != NULL && addr->name[0] != '\0') {
		string_t *decoded = t_str_new(128);
		mime_encoded_word_decode(addr->name, strlen(addr->name), decoded);
		if (str_len(decoded) > 0) {
			string_t *dest = str_new(pool, str_len(decoded) + 8);
			search_casemap_append(dest, str_data(decoded), str_len(decoded), true);
			return str_c(dest);
		}
	}
	const char *spec = addr->domain == NULL || addr->domain[0] == '\0' ? addr->mailbox :
		t_strdup_printf("%s@%s", addr->mailbox, addr->domain);
	return search_casemap(pool, spec);
}

void search_keys_from_text(pool_t pool, const struct search_text *text,
			   struct search_keys *keys_r)
{
	memset(keys_r, 0, sizeof(*keys_r));
	if (text->date != NULL &&
	    rfc5322_date_parse(text->date, &keys_r->sent_date, &keys_r->sent_tz) == 0)
		keys_r->has_sent_date = true;
	const struct mime_address *from = keys_first_address(pool, text->from);
	const struct mime_address *to = keys_first_address(pool, text->to);
	const struct mime_address *cc = keys_first_address(pool, text->cc);
	keys_r->from_addr = keys_addr_mailbox(pool, from);
	keys_r->to_addr = keys_addr_mailbox(pool, to);
	keys_r->cc_addr = keys_addr_mailbox(pool, cc);
	keys_r->from_display = keys_display(pool, from);
	keys_r->to_display = keys_display(pool, to);
	const char *base = search_subject_base(pool, text->subject, &keys_r->subject_is_reply);
	keys_r->subject = search_casemap(pool, base);
	keys_r->message_id = text->message_id;
	keys_r->in_reply_to = text->in_reply_to;
	keys_r->references = text->references;
}
