/* The values SORT (RFC 5256 §3, RFC 5957) and THREAD (RFC 5256 §3) order
 * and group messages by, computed once from a message's searchable text
 * (search-text.h) and stored in the index, so that sorting a mailbox
 * reads no message files. */
#ifndef TERN_SEARCH_KEYS_H
#define TERN_SEARCH_KEYS_H

#include "search-text.h"

#include <time.h>

struct search_keys {
	/* the Date: header; without a valid one SORT and THREAD use the
	   internal date (RFC 5256 §3 DATE) */
	bool has_sent_date;
	time_t sent_date;
	int sent_tz;
	/* addr-mailbox of the first From/To/Cc address (RFC 5256 §3), in
	   i;unicode-casemap form; "" when there is none */
	const char *from_addr, *to_addr, *cc_addr;
	/* RFC 5957 display names: the first address's decoded display name,
	   or its addr-spec when it has none; canonical form */
	const char *from_display, *to_display;
	/* base subject (RFC 5256 §2.1) in canonical form, and whether a
	   reply or forward marker was removed from it */
	const char *subject;
	bool subject_is_reply;
	/* raw values for threading; NULL if absent */
	const char *message_id, *in_reply_to, *references;
};

/* Groups of the keys above, for reading only what a SORT or search needs. */
enum search_key_fields {
	SEARCH_KEYS_DATE = 0x01,    /* has_sent_date, sent_date, sent_tz */
	SEARCH_KEYS_ADDR = 0x02,    /* from_addr, to_addr, cc_addr */
	SEARCH_KEYS_DISPLAY = 0x04, /* from_display, to_display */
	SEARCH_KEYS_SUBJECT = 0x08, /* subject, subject_is_reply */
	SEARCH_KEYS_THREAD = 0x10,  /* message_id, in_reply_to, references */
	SEARCH_KEYS_ALL = 0x1f,
};

/* Fills keys from text; strings from pool. */
void search_keys_from_text(pool_t pool, const struct search_text *text,
			   struct search_keys *keys_r);

#endif
