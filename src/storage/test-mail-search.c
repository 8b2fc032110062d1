/* Property test of SEARCH's full-text index (mail-search.c): on random
 * corpora of messages - non-ASCII text in several charsets and transfer
 * encodings, RFC 2047 words split across adjacent encoded words, HTML,
 * binary attachments carrying the same words, embedded messages - every
 * random query answered through the index must return exactly the set a
 * direct scan of every message file returns. Queries include one- and
 * two-character needles (which bypass the trigram index), needles in other
 * letter cases and forms, and needles spanning encoded-word boundaries. */
#include "test-common.h"
#include "test-storage-common.h"
#include "mail-storage-private.h"
#include "index-search.h"
#include "base64.h"
#include "buffer.h"

#include <stdlib.h>

static const char *const words[] = {
	"invoice", "xylograph", "Müller", "Grüße", "Straße", "naïve", "café", "ΑΘΗΝΑ",
	"привет", "МОСКВА", "日本語", "テスト", "ab", "a", "zz", "okonkwo", "Ünïcödé", "ﬁle",
	"e\xCC\x81t\xC3\xA9", "quote\"d", "per%cent", "under_score", "tab\tbed", "NUL",
};

static unsigned int rnd(unsigned int n)
{
	return (unsigned int)random() % n;
}

static const char *word(void)
{
	return words[rnd(N_ELEMENTS(words))];
}

static const char *phrase(unsigned int n)
{
	string_t *s = t_str_new(64);
	for (unsigned int i = 0; i < n; i++) {
		if (i > 0)
			str_append_c(s, ' ');
		str_append(s, word());
	}
	return str_c(s);
}

/* An RFC 2047 form of text: plain, one UTF-8 B word, or Q words split in
   the middle of the text (so a needle can span the boundary). */
static const char *encode_header(const char *text)
{
	size_t len = strlen(text);
	switch (rnd(3)) {
	case 0:
		return text;
	case 1: {
		string_t *b64 = t_str_new(len * 2 + 4);
		base64_encode(text, len, b64);
		return t_strdup_printf("=?utf-8?b?%s?=", str_c(b64));
	}
	default: {
		string_t *s = t_str_new(len * 4 + 32);
		size_t cut = len / 2;
		while (cut > 0 && ((unsigned char)text[cut] & 0xC0) == 0x80)
			cut--;
		for (unsigned int part = 0; part < 2; part++) {
			size_t from = part == 0 ? 0 : cut, to = part == 0 ? cut : len;
			str_append(s, part == 0 ? "=?UTF-8?Q?" : " =?UTF-8?Q?");
			for (size_t i = from; i < to; i++) {
				unsigned char c = (unsigned char)text[i];
				if (c == ' ')
					str_append_c(s, '_');
				else if (c < 0x80 && c > 0x20 && c != '=' && c != '?' && c != '_')
					str_append_c(s, (char)c);
				else
					str_printfa(s, "=%02X", c);
			}
			str_append(s, "?=");
		}
		return str_c(s);
	}
	}
}

static const char *body_part(const char *text)
{
	size_t len = strlen(text);
	if (rnd(2) == 0) {
		return t_strdup_printf("Content-Type: text/plain; charset=utf-8\r\n"
				       "Content-Transfer-Encoding: 8bit\r\n\r\n%s\r\n", text);
	}
	string_t *b64 = t_str_new(len * 2 + 4);
	base64_encode(text, len, b64);
	return t_strdup_printf("Content-Type: text/html; charset=utf-8\r\n"
			       "Content-Transfer-Encoding: base64\r\n\r\n%s\r\n", str_c(b64));
}

static const char *random_message(void)
{
	string_t *m = t_str_new(2048);
	str_printfa(m, "From: %s <%s@example.org>\r\n", encode_header(phrase(1 + rnd(2))),
		    rnd(2) == 0 ? "okonkwo" : "user");
	str_printfa(m, "To: %s <to@example.com>\r\n", encode_header(phrase(1)));
	if (rnd(2) == 0)
		str_printfa(m, "Cc: cc (%s) @example.net\r\n", "comment");
	str_printfa(m, "Subject: %s\r\n", encode_header(phrase(1 + rnd(4))));
	str_printfa(m, "X-Tag: %s\r\n", phrase(1));
	str_append(m, "Date: Mon, 7 Feb 1994 21:52:25 -0800\r\nMIME-Version: 1.0\r\n");
	switch (rnd(3)) {
	case 0:
		str_printfa(m, "Content-Type: text/plain; charset=iso-8859-1\r\n"
			       "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
			       "caf=E9 Stra=DFe %s=\r\n%s\r\n", "invo", "ice");
		break;
	case 1:
		str_printfa(m, "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
			       "--b\r\n%s--b\r\nContent-Type: application/octet-stream\r\n\r\n"
			       "%s xylograph\r\n--b--\r\n", body_part(phrase(3 + rnd(20))), phrase(3));
		break;
	default:
		str_printfa(m, "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
			       "--b\r\n%s--b\r\nContent-Type: message/rfc822\r\n\r\n"
			       "Subject: inner %s\r\n\r\n%s\r\n--b--\r\n",
			       body_part(phrase(2 + rnd(10))), phrase(1), phrase(2));
		break;
	}
	return str_c(m);
}

/* A needle: a whole word or phrase, a piece of one (one or two characters
   included), in a random letter case. */
static const char *random_needle(void)
{
	const char *w = rnd(4) == 0 ? phrase(2) : word();
	size_t len = strlen(w);
	size_t from = 0, to = len;
	if (rnd(2) == 0 && len > 1) {
		from = rnd((unsigned int)len);
		to = from + 1 + rnd((unsigned int)(len - from));
		while (from > 0 && ((unsigned char)w[from] & 0xC0) == 0x80)
			from--;
		while (to < len && ((unsigned char)w[to] & 0xC0) == 0x80)
			to++;
	}
	char *n = t_strndup(w + from, to - from);
	if (rnd(2) == 0) {
		for (char *p = n; *p != '\0'; p++) {
			if (*p >= 'a' && *p <= 'z')
				*p -= 32;
		}
	}
	return n;
}

static void test_search_property(void)
{
	test_begin("full-text index = direct scan");
	const char *home = test_storage_mkdtemp("test-mail-search");
	struct mail_user *user = test_storage_user(home, false);
	srandom(4242);
	const unsigned int n_msgs = 60;
	for (unsigned int i = 0; i < n_msgs; i++)
		test_assert(test_storage_save(user, "INBOX", random_message(), 0, NULL) != 0);
	struct mailbox *box = mailbox_open(user, "INBOX", 0);
	test_assert(box != NULL);
	/* saves moved the watermark along: no catch-up scan is needed */
	uint32_t indexed;
	test_assert(index_search_get_indexed_uid(user->db, box->id, &indexed) == 0 &&
		    indexed == n_msgs);
	test_assert(mailbox_search_update(box) == 0);
	static const enum mail_search_text_key keys[] = {
		MAIL_SEARCH_BODY, MAIL_SEARCH_TEXT, MAIL_SEARCH_HEADER, MAIL_SEARCH_FROM,
		MAIL_SEARCH_TO, MAIL_SEARCH_CC, MAIL_SEARCH_SUBJECT,
	};
	unsigned int nonempty = 0, mismatches = 0;
	for (unsigned int q = 0; q < 400; q++) {
		enum mail_search_text_key key = keys[rnd(N_ELEMENTS(keys))];
		const char *needle = rnd(40) == 0 ? "" : random_needle();
		const char *hdr = rnd(2) == 0 ? "X-Tag" : "subject";
		array_uint32_t got;
		array_init(&got, t_pool(), 16);
		test_assert(mailbox_search_text(box, key, hdr, needle, &got) == 0);
		unsigned int gi = 0;
		bool same = true;
		for (uint32_t uid = 1; uid <= n_msgs; uid++) {
			int r = mailbox_search_text_scan(box, uid, key, hdr, needle);
			test_assert(r >= 0);
			bool in_index = gi < got.count && got.v[gi] == uid;
			if (in_index)
				gi++;
			if ((r == 1) != in_index)
				same = false;
		}
		if (!same || gi != got.count) {
			if (mismatches++ < 5)
				printf("  mismatch: key=%d needle='%s'\n", key, needle);
		}
		if (got.count > 0)
			nonempty++;
	}
	test_assert(mismatches == 0);
	/* the test is only worth something if queries do find messages */
	test_assert(nonempty > 100);
	mailbox_close(&box);
	mail_user_deinit(&user);
	test_storage_rm_rf(home);
	test_end();
}

static unsigned int count_matches(struct mailbox *box, const char *needle)
{
	array_uint32_t got;
	array_init(&got, t_pool(), 16);
	test_assert(mailbox_search_text(box, MAIL_SEARCH_TEXT, NULL, needle, &got) == 0);
	return got.count;
}

static void test_search_copy_move(void)
{
	test_begin("copy and move carry the search data");
	const char *home = test_storage_mkdtemp("test-mail-search");
	struct mail_user *user = test_storage_user(home, false);
	test_assert(mailbox_create(user, "Copy", 0) == 0);
	test_assert(mailbox_create(user, "Moved", 0) == 0);
	test_assert(test_storage_save(user, "INBOX", "Subject: one\r\n\r\nalpha invoice\r\n", 0, NULL) != 0);
	test_assert(test_storage_save(user, "INBOX", "Subject: two\r\n\r\nbeta invoice\r\n", 0, NULL) != 0);
	/* no body at all: BODY "" still matches it, as a direct scan does */
	test_assert(test_storage_save(user, "INBOX", "Subject: empty\r\n\r\n", 0, NULL) != 0);
	struct mailbox *box = mailbox_open(user, "INBOX", 0);
	const uint32_t seqs[] = { 1, 2 };
	struct mail_copy_result result;
	test_assert(mailbox_copy(box, seqs, 2, "Copy", false, t_pool(), &result) == 0);
	test_assert(mailbox_copy(box, seqs, 1, "Moved", true, t_pool(), &result) == 0);
	mailbox_close(&box);
	struct mailbox *copy = mailbox_open(user, "Copy", 0);
	struct mailbox *moved = mailbox_open(user, "Moved", 0);
	test_assert(copy != NULL && moved != NULL);
	test_assert(mailbox_search_update(copy) == 0 && mailbox_search_update(moved) == 0);
	test_assert(count_matches(copy, "invoice") == 2);
	test_assert(count_matches(copy, "alpha") == 1);
	test_assert(count_matches(moved, "alpha") == 1);
	test_assert(count_matches(moved, "beta") == 0);
	box = mailbox_open(user, "INBOX", 0);
	test_assert(mailbox_search_update(box) == 0);
	test_assert(count_matches(box, "invoice") == 1);
	array_uint32_t all;
	array_init(&all, t_pool(), 4);
	test_assert(mailbox_search_text(box, MAIL_SEARCH_BODY, NULL, "", &all) == 0);
	test_assert(all.count == 2);
	for (unsigned int i = 0; i < all.count; i++)
		test_assert(mailbox_search_text_scan(box, all.v[i], MAIL_SEARCH_BODY, NULL, "") == 1);
	test_assert(count_matches(box, "alpha") == 0);
	/* a rebuild gives the same */
	test_assert(mailbox_search_rebuild(copy) == 0);
	test_assert(count_matches(copy, "invoice") == 2);
	mailbox_close(&box);
	mailbox_close(&copy);
	mailbox_close(&moved);
	mail_user_deinit(&user);
	test_storage_rm_rf(home);
	test_end();
}

int main(void)
{
	static void (*const tests[])(void) = {
		test_search_property, test_search_copy_move, NULL,
	};
	return test_run(tests);
}
