/* THREAD=ORDEREDSUBJECT and THREAD=REFERENCES (RFC 5256 §3), THREAD=REFS
 * (draft-ietf-morg-inthread-01) and the thread-list writer (RFC 5256 §4).
 * Step (1) of REFERENCES checks for loops with a link-cut tree, so hostile
 * References chains cost O(log n) per link instead of a walk to the root;
 * everything after it walks the tree with explicit stacks. */
#include "search-thread.h"
#include "array.h"
#include "hash.h"

#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

/* A hash table key (a Message-ID or a base subject) with its hash
   computed once, seeded per process so that nobody can mail in a set of
   ids or subjects that all land in one bucket. */
struct thread_key {
	unsigned int hash;
	size_t len;
	const char *str;
};

struct thread_node {
	/* the key in thread_ctx.ids (str NULL for a node without one) */
	struct thread_key id;
	/* the tree of REFERENCES step (1) */
	struct thread_node *parent;
	union {
		/* step (1): a link-cut tree mirroring the tree above;
		   lct_up is the splay parent or the path-parent */
		struct {
			struct thread_node *lct_up, *lct_kid[2];
		};
		/* from step (3) on */
		struct {
			/* where message descendants attach (step (3)) */
			struct thread_node *anchor;
			struct search_thread_node *out;
		};
	};
	/* the tree from step (3) on: first child, next sibling */
	struct thread_node *child, *next;
	/* NULL for a dummy */
	const struct search_thread_msg *msg;
	/* sort key (RFC 5256 §2.2 sent date, then input order); a dummy
	   takes its earliest child's */
	time_t key_date;
	unsigned int key_idx;
	/* msg->id (0 for a dummy), here to keep the output pass in nodes */
	uint32_t msg_id;
	/* children in the step (1) tree, from step (3) on in the new tree */
	unsigned int child_count;
	/* a root only because step (3) promoted it from a dummy's place */
	bool promoted;
	/* anchor is set (the union held link-cut tree pointers before) */
	bool anchored;
	/* merged below another root in step (5) */
	bool gone;
};

typedef ARRAY(struct thread_node *) array_thread_node_t;

struct thread_ctx {
	pool_t pool; /* private, freed when the build returns */
	const struct search_thread_msg *msgs;
	unsigned int count;
	struct hash_table *ids;
	array_thread_node_t nodes, roots, refs, tmp;
	string_t *msgid;
};

/* --- hash keys --- */

static uint64_t thread_hash_seed;

static void thread_hash_seed_init(void)
{
	uint64_t seed = 0;

	if (thread_hash_seed != 0)
		return;
	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != sizeof(seed))
		seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32) ^
			(uint64_t)(uintptr_t)&seed;
	thread_hash_seed = seed | 1;
}

/* Word-at-a-time multiplicative hashing: References make ids the hottest
   keys, and a byte-at-a-time hash costs as much as parsing them. */
static void thread_key_init(struct thread_key *key, const char *str, size_t len)
{
	const unsigned char *data = (const unsigned char *)str;
	uint64_t h = thread_hash_seed ^ len, w;

	key->len = len;
	key->str = str;
	for (; len >= 8; data += 8, len -= 8) {
		memcpy(&w, data, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdULL;
		h ^= h >> 32;
	}
	w = 0;
	memcpy(&w, data, len);
	h = (h ^ w) * 0xc4ceb9fe1a85ec53ULL;
	key->hash = (unsigned int)(h ^ (h >> 29));
}

static unsigned int thread_key_hash(const void *p)
{
	return ((const struct thread_key *)p)->hash;
}

static int thread_key_cmp(const void *p1, const void *p2)
{
	const struct thread_key *key1 = p1, *key2 = p2;

	if (key1->len != key2->len)
		return key1->len < key2->len ? -1 : 1;
	return memcmp(key1->str, key2->str, key1->len);
}

/* --- msg-id parsing --- */

/* Skips a comment at *s (on its '('). Stops at a '>' or the end when the
   comment never closes, and returns false then. */
static bool msgid_skip_comment(const char **s)
{
	const char *p = *s;
	unsigned int depth = 0;

	for (; *p != '\0' && *p != '>'; p++) {
		if (*p == '\\' && p[1] != '\0')
			p++;
		else if (*p == '(')
			depth++;
		else if (*p == ')' && --depth == 0) {
			*s = p + 1;
			return true;
		}
	}
	*s = p;
	return false;
}

/* Appends the content of the quoted string at *s (on its '"'), unquoted.
   Returns false when it never closes. */
static bool msgid_append_quoted(const char **s, string_t *dest)
{
	const char *p = *s + 1;

	for (; *p != '"'; p++) {
		if (*p == '\0') {
			*s = p;
			return false;
		}
		if (*p == '\\' && p[1] != '\0')
			p++;
		if (*p != '\r' && *p != '\n')
			str_append_c(dest, *p);
	}
	*s = p + 1;
	return true;
}

/* Bytes that need msgid_parse()'s full treatment inside <...>. */
static const bool msgid_special[256] = {
	[0 ... ' '] = true, ['<'] = true, ['>'] = true, ['('] = true,
	['"'] = true, ['@'] = true, [0x7f] = true,
};

/* The usual <left@right> with nothing to remove: the id is the input
   itself, no copy. */
static bool msgid_parse_plain(const char **s, const char **id_r, size_t *len_r)
{
	const unsigned char *start = (const unsigned char *)*s, *p = start, *at;

	while (!msgid_special[*p])
		p++;
	if (*p != '@' || p == start)
		return false;
	at = p++;
	while (!msgid_special[*p])
		p++;
	if (*p != '>' || p == at + 1)
		return false;
	*id_r = *s;
	*len_r = (size_t)(p - start);
	*s = (const char *)p + 1;
	return true;
}

/* Parses one msg-id after its '<', appending it to dest. Returns 1 when
   valid (*s past '>'), 0 when invalid (*s past '>', on a '<' to restart
   at, or at the end). */
static int msgid_parse(const char **s, string_t *dest)
{
	size_t start = str_len(dest), at = SIZE_MAX;

	for (;;) {
		const char *p = *s;
		switch (*p) {
		case '\0':
		case '<':
			return 0;
		case '>':
			*s = p + 1;
			return at != SIZE_MAX && at > start &&
				str_len(dest) > at + 1 ? 1 : 0;
		case ' ': case '\t': case '\r': case '\n':
			*s = p + 1;
			break;
		case '(':
			if (!msgid_skip_comment(s))
				return 0;
			break;
		case '"':
			/* an unclosed quote leaves *s at the end */
			if (!msgid_append_quoted(s, dest))
				return 0;
			break;
		case '@':
			if (at == SIZE_MAX)
				at = str_len(dest);
			/* fall through */
		default:
			str_append_c(dest, *p);
			*s = p + 1;
			break;
		}
	}
}

/* search_thread_msgid_next() without the copy in the common case: the id
   is returned in *id_r and *len_r, pointing into the input or into buf (where
   a normalised id is appended after what buf held on entry). */
static int msgid_next_span(const char **p, string_t *buf,
			   const char **id_r, size_t *len_r)
{
	const char *s = *p;
	size_t start = str_len(buf);

	if (s == NULL)
		return 0;
	for (;;) {
		while (*s != '<') {
			if (*s == '\0') {
				*p = s;
				return 0;
			}
			s++;
		}
		s++;
		if (msgid_parse_plain(&s, id_r, len_r))
			break;
		str_truncate(buf, start);
		if (msgid_parse(&s, buf) > 0) {
			*id_r = str_c(buf) + start;
			*len_r = str_len(buf) - start;
			break;
		}
		str_truncate(buf, start);
		if (*s == '\0') {
			*p = s;
			return 0;
		}
	}
	*p = s;
	return 1;
}

int search_thread_msgid_next(const char **p, string_t *dest)
{
	const char *id;
	size_t len, start = str_len(dest);

	if (msgid_next_span(p, dest, &id, &len) <= 0)
		return 0;
	if (str_len(dest) == start)
		str_append_n(dest, id, len);
	return 1;
}

/* --- link-cut tree: the root of a node's step (1) tree in O(log n) --- */

static bool lct_is_aux_root(const struct thread_node *x)
{
	const struct thread_node *p = x->lct_up;

	return p == NULL || (p->lct_kid[0] != x && p->lct_kid[1] != x);
}

static void lct_rotate(struct thread_node *x)
{
	struct thread_node *p = x->lct_up, *g = p->lct_up;
	int d = p->lct_kid[1] == x ? 1 : 0;

	if (!lct_is_aux_root(p))
		g->lct_kid[g->lct_kid[1] == p ? 1 : 0] = x;
	x->lct_up = g;
	p->lct_kid[d] = x->lct_kid[!d];
	if (x->lct_kid[!d] != NULL)
		x->lct_kid[!d]->lct_up = p;
	x->lct_kid[!d] = p;
	p->lct_up = x;
}

static void lct_splay(struct thread_node *x)
{
	while (!lct_is_aux_root(x)) {
		struct thread_node *p = x->lct_up;

		if (!lct_is_aux_root(p)) {
			bool same = (p->lct_kid[0] == x) ==
				(p->lct_up->lct_kid[0] == p);
			lct_rotate(same ? p : x);
		}
		lct_rotate(x);
	}
}

static void lct_access(struct thread_node *x)
{
	struct thread_node *last = NULL;

	for (struct thread_node *y = x; y != NULL; y = y->lct_up) {
		lct_splay(y);
		y->lct_kid[1] = last;
		last = y;
	}
	lct_splay(x);
}

static struct thread_node *lct_find_root(struct thread_node *x)
{
	struct thread_node *r = x;

	lct_access(x);
	while (r->lct_kid[0] != NULL)
		r = r->lct_kid[0];
	lct_splay(r);
	return r;
}

/* --- REFERENCES step (1) --- */

static struct thread_node *thread_node_new(struct thread_ctx *ctx)
{
	struct thread_node *node = p_new(ctx->pool, struct thread_node, 1);

	array_push(&ctx->nodes, node);
	return node;
}

/* The node of the msg-id id[0..len), created as a dummy if new. */
static struct thread_node *thread_node_get(struct thread_ctx *ctx,
					   const char *id, size_t len)
{
	struct thread_key key;
	const void *found;
	struct thread_node *node;

	thread_key_init(&key, id, len);
	if (hash_table_lookup_full(ctx->ids, &key, &found, NULL))
		return (struct thread_node *)((const char *)found -
					       offsetof(struct thread_node, id));
	/* the id's text right after the node: comparing it on later
	   lookups touches memory the node brought in already */
	node = p_malloc(ctx->pool, size_add(sizeof(*node), size_add(len, 1)));
	array_push(&ctx->nodes, node);
	node->id = key;
	node->id.str = memcpy(node + 1, id, len);
	hash_table_insert(ctx->ids, &node->id, node);
	return node;
}

/* Makes parent the parent of child unless child has one already or the
   link would close a loop (RFC 5256 §3 REFERENCES (1)(A)). */
static void thread_link(struct thread_node *parent, struct thread_node *child)
{
	if (parent == child || child->parent != NULL)
		return;
	/* child is a root here; parent lies below it only if child has
	   children at all */
	if (child->child_count > 0 && lct_find_root(parent) == child)
		return;
	child->parent = parent;
	parent->child_count++;
	lct_access(child);
	child->lct_up = parent;
}

static void thread_unlink(struct thread_node *child)
{
	child->parent->child_count--;
	child->parent = NULL;
	lct_access(child);
	child->lct_kid[0]->lct_up = NULL;
	child->lct_kid[0] = NULL;
}

/* The node of message idx: its Message-ID's, unless the id is missing,
   invalid or taken by an earlier message (then a node of its own). */
static struct thread_node *thread_msg_node(struct thread_ctx *ctx, unsigned int idx)
{
	const struct search_thread_msg *msg = &ctx->msgs[idx];
	const char *p = msg->message_id, *id;
	struct thread_node *node = NULL;
	size_t len;

	str_truncate(ctx->msgid, 0);
	if (msgid_next_span(&p, ctx->msgid, &id, &len) > 0) {
		node = thread_node_get(ctx, id, len);
		if (node->msg != NULL)
			node = NULL;
	}
	if (node == NULL)
		node = thread_node_new(ctx);
	node->msg = msg;
	node->msg_id = msg->id;
	node->key_date = msg->sent_date;
	node->key_idx = idx;
	return node;
}

/* The references list: References' ids, or else In-Reply-To's first. */
static void thread_msg_refs(struct thread_ctx *ctx, const struct search_thread_msg *msg)
{
	const char *p = msg->references, *id;
	size_t len;

	array_clear(&ctx->refs);
	str_truncate(ctx->msgid, 0);
	while (msgid_next_span(&p, ctx->msgid, &id, &len) > 0) {
		array_push(&ctx->refs, thread_node_get(ctx, id, len));
		str_truncate(ctx->msgid, 0);
	}
	p = msg->in_reply_to;
	if (ctx->refs.count == 0 && msgid_next_span(&p, ctx->msgid, &id, &len) > 0)
		array_push(&ctx->refs, thread_node_get(ctx, id, len));
}

static void thread_add_msg(struct thread_ctx *ctx, unsigned int idx)
{
	struct thread_node *node = thread_msg_node(ctx, idx), *parent = NULL;

	thread_msg_refs(ctx, node->msg);
	for (unsigned int i = 1; i < ctx->refs.count; i++)
		thread_link(ctx->refs.v[i - 1], ctx->refs.v[i]);
	/* (1)(B): the message's own last reference wins over a parent an
	   earlier (probably truncated) References gave it */
	if (ctx->refs.count > 0)
		parent = ctx->refs.v[ctx->refs.count - 1];
	if (node->parent != NULL && node->parent != parent)
		thread_unlink(node);
	if (parent != NULL)
		thread_link(parent, node);
}

/* --- REFERENCES steps (2) and (3) --- */

static void thread_add_child(struct thread_node *parent, struct thread_node *child)
{
	child->next = parent->child;
	parent->child = child;
	parent->child_count++;
}

/* A node's anchor is itself for a message or a dummy root, else its
   parent's: the nearest message above, or the topmost dummy. */
static void thread_set_anchors(struct thread_ctx *ctx)
{
	array_thread_node_t *path = &ctx->tmp;

	for (unsigned int i = 0; i < ctx->nodes.count; i++) {
		struct thread_node *n = ctx->nodes.v[i];

		/* from here on child_count counts children in the tree
		   thread_prune() builds */
		n->child_count = 0;
		array_clear(path);
		while (!n->anchored && n->msg == NULL && n->parent != NULL) {
			array_push(path, n);
			n = n->parent;
		}
		if (!n->anchored) {
			n->anchor = n;
			n->anchored = true;
		}
		for (unsigned int j = 0; j < path->count; j++) {
			path->v[j]->anchor = n->anchor;
			path->v[j]->anchored = true;
		}
	}
}

/* Step (3): dummies below a message vanish (their children move up);
   a dummy root keeps its children unless it has only one, which takes
   its place; a childless dummy goes. Every message under a dummy root
   ends up directly below it, as in Dovecot. */
static void thread_prune(struct thread_ctx *ctx)
{
	thread_set_anchors(ctx);
	for (unsigned int i = 0; i < ctx->nodes.count; i++) {
		struct thread_node *n = ctx->nodes.v[i];

		if (n->msg != NULL && n->parent != NULL)
			thread_add_child(n->parent->anchor, n);
	}
	array_clear(&ctx->roots);
	for (unsigned int i = 0; i < ctx->nodes.count; i++) {
		struct thread_node *n = ctx->nodes.v[i];

		if (n->parent != NULL)
			continue;
		if (n->msg == NULL) {
			if (n->child == NULL)
				continue;
			if (n->child->next == NULL) {
				/* the dummy must let go: sorting visits
				   every node's children */
				struct thread_node *only = n->child;
				n->child = NULL;
				n = only;
				n->promoted = true;
			}
		}
		array_push(&ctx->roots, n);
	}
}

/* --- sorting (RFC 5256 §2.2 sent date, ties by input order) --- */

static int thread_node_cmp(const void *p1, const void *p2)
{
	const struct thread_node *n1 = *(struct thread_node *const *)p1;
	const struct thread_node *n2 = *(struct thread_node *const *)p2;

	if (n1->key_date != n2->key_date)
		return n1->key_date < n2->key_date ? -1 : 1;
	if (n1->key_idx != n2->key_idx)
		return n1->key_idx < n2->key_idx ? -1 : 1;
	return 0;
}

static void thread_sort_array(array_thread_node_t *arr)
{
	if (arr->count > 1)
		qsort(arr->v, arr->count, sizeof(arr->v[0]), thread_node_cmp);
}

/* Sorts n's children; a dummy then takes its first child's key. */
static void thread_sort_children(struct thread_ctx *ctx, struct thread_node *n)
{
	array_thread_node_t *arr = &ctx->tmp;

	/* the count saves touching the child of every only child */
	if (n->child_count < 2)
		goto out;
	array_clear(arr);
	for (struct thread_node *c = n->child; c != NULL; c = c->next)
		array_push(arr, c);
	thread_sort_array(arr);
	n->child = arr->v[0];
	for (unsigned int i = 0; i + 1 < arr->count; i++)
		arr->v[i]->next = arr->v[i + 1];
	arr->v[arr->count - 1]->next = NULL;
out:
	if (n->msg == NULL && n->child != NULL) {
		n->key_date = n->child->key_date;
		n->key_idx = n->child->key_idx;
	}
}

/* Step (4): the roots, a dummy by its earliest child. */
static void thread_sort_roots(struct thread_ctx *ctx)
{
	for (unsigned int i = 0; i < ctx->roots.count; i++) {
		if (ctx->roots.v[i]->msg == NULL)
			thread_sort_children(ctx, ctx->roots.v[i]);
	}
	thread_sort_array(&ctx->roots);
}

/* Step (6): every sibling set below the roots. */
static void thread_sort_siblings(struct thread_ctx *ctx)
{
	for (unsigned int i = 0; i < ctx->nodes.count; i++)
		thread_sort_children(ctx, ctx->nodes.v[i]);
}

/* --- REFERENCES step (5): gathering threads by base subject --- */

/* (5)(B)(i): a thread's subject is its first message's. */
static const struct search_thread_msg *thread_subject_msg(const struct thread_node *n)
{
	return n->msg != NULL ? n->msg : n->child->msg;
}

/* The subject key of each root, in ctx->roots order. */
static struct thread_key *thread_subject_keys(struct thread_ctx *ctx)
{
	struct thread_key *keys = p_new(ctx->pool, struct thread_key, ctx->roots.count);

	for (unsigned int i = 0; i < ctx->roots.count; i++) {
		const char *subject = thread_subject_msg(ctx->roots.v[i])->base_subject;

		if (subject == NULL)
			subject = "";
		thread_key_init(&keys[i], subject, strlen(subject));
	}
	return keys;
}

/* (5)(B): one root per subject, preferring dummies, then non-replies. */
static void thread_subjects_fill(struct thread_ctx *ctx, struct hash_table *subjects,
				 const struct thread_key *keys)
{
	for (unsigned int i = 0; i < ctx->roots.count; i++) {
		struct thread_node *cur = ctx->roots.v[i];
		struct thread_node *old;

		if (keys[i].len == 0)
			continue;
		old = hash_table_lookup(subjects, &keys[i]);
		if (old == NULL ||
		    (old->msg != NULL &&
		     (cur->msg == NULL ||
		      (old->msg->subject_is_reply && !cur->msg->subject_is_reply))))
			hash_table_insert(subjects, &keys[i], cur);
	}
}

/* (5)(C)(v): merges root cur into the subject table's old. */
static void thread_merge(struct thread_ctx *ctx, struct hash_table *subjects,
			 const struct thread_key *key,
			 struct thread_node *old, struct thread_node *cur)
{
	struct thread_node *dummy;

	cur->gone = true;
	if (old->msg == NULL && cur->msg == NULL) {
		while (cur->child != NULL) {
			struct thread_node *c = cur->child;
			cur->child = c->next;
			thread_add_child(old, c);
		}
		cur->child_count = 0;
	} else if (old->msg == NULL ||
		   (cur->msg != NULL && cur->msg->subject_is_reply &&
		    !old->msg->subject_is_reply)) {
		thread_add_child(old, cur);
	} else {
		dummy = thread_node_new(ctx);
		thread_add_child(dummy, old);
		thread_add_child(dummy, cur);
		old->gone = true;
		hash_table_insert(subjects, key, dummy);
		array_push(&ctx->tmp, dummy);
	}
}

static void thread_gather_subjects(struct thread_ctx *ctx)
{
	struct hash_table *subjects =
		hash_table_create(ctx->pool, thread_key_hash, thread_key_cmp);
	struct thread_key *keys = thread_subject_keys(ctx);
	unsigned int i, n = 0;

	thread_subjects_fill(ctx, subjects, keys);
	array_clear(&ctx->tmp); /* the new dummies */
	for (i = 0; i < ctx->roots.count; i++) {
		struct thread_node *cur = ctx->roots.v[i], *old;

		if (cur->gone || keys[i].len == 0)
			continue;
		old = hash_table_lookup(subjects, &keys[i]);
		if (old != cur)
			thread_merge(ctx, subjects, &keys[i], old, cur);
	}
	hash_table_destroy(&subjects);
	for (i = 0; i < ctx->roots.count; i++) {
		if (!ctx->roots.v[i]->gone)
			ctx->roots.v[n++] = ctx->roots.v[i];
	}
	ctx->roots.count = n;
	for (i = 0; i < ctx->tmp.count; i++)
		array_push(&ctx->roots, ctx->tmp.v[i]);
}

/* --- THREAD=REFS: threads ordered by their latest message --- */

/* Called with ctx->roots in the order step (3) found them, which is the
   order their Message-IDs were first seen. */
static void thread_refs_order_roots(struct thread_ctx *ctx)
{
	array_thread_node_t stack;

	array_init(&stack, ctx->pool, 64);
	for (unsigned int i = 0; i < ctx->roots.count; i++) {
		struct thread_node *root = ctx->roots.v[i];
		time_t latest = root->key_date;

		array_clear(&stack);
		array_push(&stack, root);
		while (stack.count > 0) {
			struct thread_node *n = stack.v[--stack.count];
			if (n->msg != NULL && n->msg->sent_date > latest)
				latest = n->msg->sent_date;
			for (struct thread_node *c = n->child; c != NULL; c = c->next)
				array_push(&stack, c);
		}
		root->key_date = latest;
		/* ties as in Dovecot: threads whose first message is missing
		   (even if step (3) promoted its only child) before the
		   others, in the order their ids were first seen; the others
		   in input order */
		root->key_idx = root->msg == NULL || root->promoted ? i :
			ctx->roots.count + root->key_idx;
	}
	thread_sort_array(&ctx->roots);
}

/* --- output --- */

/* All output nodes are one allocation with the roots first, so that
   *roots_r is its start. */
static struct search_thread_node *thread_export(struct thread_ctx *ctx, pool_t pool)
{
	array_thread_node_t *stack = &ctx->tmp;
	struct search_thread_node *out;
	size_t total, used = ctx->roots.count;
	unsigned int i;

	if (ctx->roots.count == 0)
		return NULL;
	/* dummies are only ever roots */
	total = (size_t)ctx->count + ctx->roots.count;
	out = p_new(pool, struct search_thread_node, total);
	array_clear(stack);
	for (i = 0; i < ctx->roots.count; i++) {
		struct thread_node *n = ctx->roots.v[i];

		n->out = &out[i];
		n->out->id = n->msg_id;
		n->out->next = i + 1 < ctx->roots.count ? &out[i + 1] : NULL;
		array_push(stack, n);
	}
	while (stack->count > 0) {
		struct thread_node *n = stack->v[--stack->count];
		struct search_thread_node **tail = &n->out->children;

		for (struct thread_node *c = n->child; c != NULL; c = c->next) {
			i_assert(used < total);
			c->out = &out[used++];
			c->out->id = c->msg_id;
			*tail = c->out;
			tail = &c->out->next;
			array_push(stack, c);
		}
	}
	return out;
}

static struct search_thread_node *
thread_build_references(struct thread_ctx *ctx, pool_t pool, bool refs)
{
	ctx->ids = hash_table_create(ctx->pool, thread_key_hash, thread_key_cmp);
	for (unsigned int i = 0; i < ctx->count; i++)
		thread_add_msg(ctx, i);
	hash_table_destroy(&ctx->ids);

	thread_prune(ctx);
	if (refs) {
		thread_sort_siblings(ctx);
		thread_refs_order_roots(ctx);
	} else {
		thread_sort_roots(ctx);
		thread_gather_subjects(ctx);
		thread_sort_siblings(ctx);
		thread_sort_array(&ctx->roots);
	}
	return thread_export(ctx, pool);
}

/* --- ORDEREDSUBJECT (RFC 5256 §3) --- */

/* A message (or with count, a thread) to sort: flat records sort much
   faster than scattered tree nodes. */
struct thread_os_rec {
	time_t date;
	unsigned int group, idx, first, count;
};

static int thread_os_rec_cmp(const void *p1, const void *p2)
{
	const struct thread_os_rec *r1 = p1, *r2 = p2;

	if (r1->group != r2->group)
		return r1->group < r2->group ? -1 : 1;
	if (r1->date != r2->date)
		return r1->date < r2->date ? -1 : 1;
	if (r1->idx != r2->idx)
		return r1->idx < r2->idx ? -1 : 1;
	return 0;
}

/* Numbers the base subjects in order of first appearance. */
static unsigned int thread_os_group(struct thread_ctx *ctx, struct thread_os_rec *recs)
{
	struct hash_table *subjects =
		hash_table_create(ctx->pool, thread_key_hash, thread_key_cmp);
	struct thread_key *keys = p_new(ctx->pool, struct thread_key, ctx->count);
	unsigned int groups = 0;

	for (unsigned int i = 0; i < ctx->count; i++) {
		const struct search_thread_msg *msg = &ctx->msgs[i];
		const char *subject = msg->base_subject == NULL ? "" : msg->base_subject;
		uintptr_t group;

		thread_key_init(&keys[i], subject, strlen(subject));
		group = (uintptr_t)hash_table_lookup(subjects, &keys[i]);
		if (group == 0) {
			group = ++groups;
			hash_table_insert(subjects, &keys[i], (void *)group);
		}
		recs[i] = (struct thread_os_rec){
			.date = msg->sent_date, .group = (unsigned int)group, .idx = i,
		};
	}
	hash_table_destroy(&subjects);
	return groups;
}

/* RFC 5256 §3 ORDEREDSUBJECT: messages sorted by base subject and sent
   date; each subject's first message is the parent of all its others;
   threads ordered by their first message. */
static struct search_thread_node *
thread_build_orderedsubject(struct thread_ctx *ctx, pool_t pool)
{
	struct thread_os_rec *recs, *threads;
	struct search_thread_node *out;
	unsigned int i, t = 0, groups, used;

	if (ctx->count == 0)
		return NULL;
	recs = p_new(ctx->pool, struct thread_os_rec, ctx->count);
	groups = thread_os_group(ctx, recs);
	qsort(recs, ctx->count, sizeof(*recs), thread_os_rec_cmp);

	threads = p_new(ctx->pool, struct thread_os_rec, groups);
	for (i = 0; i < ctx->count; i++) {
		if (i > 0 && recs[i].group == recs[i - 1].group) {
			threads[t - 1].count++;
			continue;
		}
		/* group 0 for all: the threads sort by date, then index */
		threads[t++] = (struct thread_os_rec){
			.date = recs[i].date, .idx = recs[i].idx, .first = i, .count = 1,
		};
	}
	qsort(threads, groups, sizeof(*threads), thread_os_rec_cmp);

	/* the roots first, so that the result is the allocation's start */
	out = p_new(pool, struct search_thread_node, ctx->count);
	used = groups;
	for (t = 0; t < groups; t++) {
		struct search_thread_node **tail = &out[t].children;

		out[t].id = ctx->msgs[threads[t].idx].id;
		out[t].next = t + 1 < groups ? &out[t + 1] : NULL;
		for (i = 1; i < threads[t].count; i++) {
			struct search_thread_node *c = &out[used++];

			c->id = ctx->msgs[recs[threads[t].first + i].idx].id;
			*tail = c;
			tail = &c->next;
		}
	}
	return out;
}

int search_thread_build(pool_t pool, enum search_thread_algorithm alg,
			const struct search_thread_msg *msgs, unsigned int count,
			struct search_thread_node **roots_r)
{
	struct thread_ctx ctx = {
		.msgs = msgs,
		.count = count,
	};

	*roots_r = NULL;
	thread_hash_seed_init();
	if (alg != SEARCH_THREAD_ORDEREDSUBJECT &&
	    alg != SEARCH_THREAD_REFERENCES && alg != SEARCH_THREAD_REFS)
		return -1;
	ctx.pool = pool_create("search thread", 64 * 1024);
	array_init(&ctx.nodes, ctx.pool,
		   alg == SEARCH_THREAD_ORDEREDSUBJECT ? 16 : I_MAX(count, 16u));
	array_init(&ctx.roots, ctx.pool, 64);
	array_init(&ctx.refs, ctx.pool, 16);
	array_init(&ctx.tmp, ctx.pool, 64);
	ctx.msgid = str_new(ctx.pool, 128);

	if (alg == SEARCH_THREAD_ORDEREDSUBJECT)
		*roots_r = thread_build_orderedsubject(&ctx, pool);
	else
		*roots_r = thread_build_references(&ctx, pool,
						   alg == SEARCH_THREAD_REFS);
	pool_destroy(&ctx.pool);
	return 0;
}

/* RFC 5256 §4: a sibling set of two or more is written as one
   parenthesised list per sibling, a single child right after its parent.
   The stack holds, for each open '(' of a sibling, the siblings still to
   write after its ')'. */
void search_thread_write(string_t *dest, const struct search_thread_node *roots)
{
	ARRAY(const struct search_thread_node *) stack;
	const struct search_thread_node *cur = roots, *list;

	array_init(&stack, system_pool, 16);
	for (;;) {
		if (cur == NULL) {
			if (stack.count == 0)
				break;
			str_append_c(dest, ')');
			cur = stack.v[--stack.count];
			continue;
		}
		str_append_c(dest, '(');
		if (cur->id != 0)
			str_append_uint(dest, cur->id);
		if (cur->children == NULL) {
			str_append_c(dest, ')');
			cur = cur->next;
			continue;
		}
		if (cur->id != 0)
			str_append_c(dest, ' ');
		array_push(&stack, cur->next);
		for (list = cur->children; list != NULL && list->next == NULL;
		     list = list->children) {
			str_append_uint(dest, list->id);
			if (list->children != NULL)
				str_append_c(dest, ' ');
		}
		cur = list;
	}
	array_free(&stack);
}

bool search_thread_algorithm_parse(const char *name,
				   enum search_thread_algorithm *alg_r)
{
	static const struct {
		const char *name;
		enum search_thread_algorithm alg;
	} algs[] = {
		{ "ORDEREDSUBJECT", SEARCH_THREAD_ORDEREDSUBJECT },
		{ "REFERENCES", SEARCH_THREAD_REFERENCES },
		{ "REFS", SEARCH_THREAD_REFS },
	};

	for (unsigned int i = 0; i < N_ELEMENTS(algs); i++) {
		if (strcasecmp(name, algs[i].name) == 0) {
			*alg_r = algs[i].alg;
			return true;
		}
	}
	return false;
}
