/* Threading for the IMAP THREAD command: THREAD=ORDEREDSUBJECT and
 * THREAD=REFERENCES (RFC 5256 §3, §4), THREAD=REFS
 * (draft-ietf-morg-inthread-01), and the thread-list syntax they return.
 * Storage-free: the caller hands in the header values of the messages. */
#ifndef TERN_SEARCH_THREAD_H
#define TERN_SEARCH_THREAD_H

#include "pool.h"
#include "buffer.h"

#include <time.h>

struct search_thread_msg {
	/* What the result lists: sequence number or UID, never 0. The input
	   is in ascending id order; ties in dates go to the earlier one. */
	uint32_t id;
	/* The sent date, with RFC 5256 §2.2's fallback to the internal date
	   already applied by the caller. */
	time_t sent_date;
	/* Raw header values (unfolding not needed), or NULL when absent. */
	const char *message_id;
	const char *in_reply_to;
	const char *references;
	/* search_subject_base() of the Subject, already folded with
	   i;unicode-casemap; compared bytewise. "" when there is none. */
	const char *base_subject;
	/* search_subject_base()'s is_reply_or_fwd_r. */
	bool subject_is_reply;
};

enum search_thread_algorithm {
	SEARCH_THREAD_ORDEREDSUBJECT,
	SEARCH_THREAD_REFERENCES,
	SEARCH_THREAD_REFS,
};

struct search_thread_node {
	/* The message's id, or 0 for a dummy (only ever a root with two or
	   more children). */
	uint32_t id;
	/* First child and next sibling, both in display order. */
	struct search_thread_node *children, *next;
};

/* Threads msgs[0..count) with alg:
 *  - ORDEREDSUBJECT: by base subject; a subject's earliest message is the
 *    parent of all its others; threads by their earliest message.
 *  - REFERENCES: RFC 5256 steps (1)-(6), dummies pruned as Dovecot does
 *    (every message below a missing root hangs directly from it).
 *  - REFS: REFERENCES without subject gathering (step 5); threads by
 *    their latest message, ties as in Dovecot (threads whose first
 *    message is missing first).
 * Siblings are sorted by sent_date, ties by input order.
 *
 * *roots_r is the first thread (NULL when count is 0). All nodes are one
 * allocation from pool that starts at *roots_r. Returns 0, or -1 for an
 * unknown algorithm. Time is O(n log n) in the number of messages and
 * Message-IDs in their headers and memory linear in them (about 200 bytes
 * per distinct Message-ID), whatever the headers contain (duplicate
 * Message-IDs, loops, very long References): the caller bounds it by
 * bounding the header values it passes. Nothing recurses, so deep threads
 * cannot exhaust the stack. */
int search_thread_build(pool_t pool, enum search_thread_algorithm alg,
			const struct search_thread_msg *msgs, unsigned int count,
			struct search_thread_node **roots_r);

/* Appends the thread-list syntax of RFC 5256 §4 for roots, e.g.
 * "(1 2)(3 (4)(5))", without the "* THREAD " prefix. A dummy root is
 * written as "((4)(5))", as Dovecot does. */
void search_thread_write(string_t *dest, const struct search_thread_node *roots);

/* Parses an algorithm name (case-insensitive). Returns true when known. */
bool search_thread_algorithm_parse(const char *name,
				   enum search_thread_algorithm *alg_r);

/* Finds the next valid msg-id in *p (a Message-ID, In-Reply-To or
 * References value) and appends its normalised form to dest: the text
 * between '<' and '>' without whitespace or comments and with quoted
 * strings unquoted, so <"abc"@d> and <abc@d> are the same id (RFC 5256
 * §3 REFERENCES); ids then compare exactly, case included. Text outside
 * <...> and invalid ids (no '@', an empty side, a comment running into
 * '>') are skipped; an unterminated quoted string ends the value. Returns
 * 1 with *p moved past the id, or 0 when there are no more. Linear in
 * the input. */
int search_thread_msgid_next(const char **p, string_t *dest);

#endif
