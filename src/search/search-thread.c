/* THREAD=ORDEREDSUBJECT and THREAD=REFERENCES (RFC 5256 §3), THREAD=REFS
 * (draft-ietf-morg-inthread-01) and the thread-list writer (RFC 5256 §4).
 * Step (1) of REFERENCES checks for loops with a link-cut tree, so hostile
 * References chains cost O(log n) per link instead of a walk to the root;
 * everything after it walks the tree with explicit stacks. */
#include "search-thread.h"
#include "array.h"
#include "hash.h"

#include <strings.h>

struct thread_node {
	/* the tree of REFERENCES step (1) */
	struct thread_node *parent;
	unsigned int child_count;
	/* link-cut tree mirroring the step (1) tree: lct_up is the splay
	   parent or the path-parent */
	struct thread_node *lct_up, *lct_kid[2];
	/* the tree from step (3) on: first child, next sibling */
	struct thread_node *child, *next;
	/* step (3): where this node's message descendants attach */
	struct thread_node *anchor;
	/* NULL for a dummy */
	const struct search_thread_msg *msg;
	/* sort key (RFC 5256 §2.2 sent date, then input order); a dummy
	   takes its earliest child's */
	time_t key_date;
	unsigned int key_idx;
	/* merged below another root in step (5) */
	bool gone;
	struct search_thread_node *out;
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

/* Parses one msg-id after its '<'. Returns 1 when valid (*s past '>'),
   0 when invalid (*s past '>', on a '<' to restart at, or at the end). */
static int msgid_parse(const char **s, string_t *dest)
{
	size_t start = str_len(dest), at = 0;

	for (;;) {
		const char *p = *s;
		switch (*p) {
		case '\0':
		case '<':
			return 0;
		case '>':
			*s = p + 1;
			return at > start && str_len(dest) > at + 1 ? 1 : 0;
		case ' ': case '\t': case '\r': case '\n':
			*s = p + 1;
			break;
		case '(':
			if (!msgid_skip_comment(s))
				return 0;
			break;
		case '"':
			if (!msgid_append_quoted(s, dest)) {
				*s = p + strlen(p);
				return 0;
			}
			break;
		case '@':
			if (at == 0)
				at = str_len(dest);
			/* fall through */
		default:
			str_append_c(dest, *p);
			*s = p + 1;
			break;
		}
	}
}

int search_thread_msgid_next(const char **p, string_t *dest)
{
	const char *s = *p;
	size_t start = str_len(dest);

	if (s == NULL)
		return 0;
	for (;;) {
		s = strchr(s, '<');
		if (s == NULL) {
			*p += strlen(*p);
			str_truncate(dest, start);
			return 0;
		}
		str_truncate(dest, start);
		s++;
		if (msgid_parse(&s, dest) > 0) {
			*p = s;
			return 1;
		}
		if (*s == '\0') {
			*p = s;
			str_truncate(dest, start);
			return 0;
		}
	}
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

/* The node of the msg-id in ctx->msgid, created as a dummy if new. */
static struct thread_node *thread_node_get(struct thread_ctx *ctx)
{
	const char *id = str_c(ctx->msgid);
	struct thread_node *node = hash_table_lookup(ctx->ids, id);

	if (node == NULL) {
		node = thread_node_new(ctx);
		hash_table_insert(ctx->ids, p_strdup(ctx->pool, id), node);
	}
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
	const char *p = msg->message_id;
	struct thread_node *node = NULL;

	str_truncate(ctx->msgid, 0);
	if (search_thread_msgid_next(&p, ctx->msgid) > 0) {
		node = thread_node_get(ctx);
		if (node->msg != NULL)
			node = NULL;
	}
	if (node == NULL)
		node = thread_node_new(ctx);
	node->msg = msg;
	node->key_date = msg->sent_date;
	node->key_idx = idx;
	return node;
}

/* The references list: References' ids, or else In-Reply-To's first. */
static void thread_msg_refs(struct thread_ctx *ctx, const struct search_thread_msg *msg)
{
	const char *p = msg->references;

	array_clear(&ctx->refs);
	str_truncate(ctx->msgid, 0);
	while (search_thread_msgid_next(&p, ctx->msgid) > 0) {
		array_push(&ctx->refs, thread_node_get(ctx));
		str_truncate(ctx->msgid, 0);
	}
	p = msg->in_reply_to;
	if (ctx->refs.count == 0 && search_thread_msgid_next(&p, ctx->msgid) > 0)
		array_push(&ctx->refs, thread_node_get(ctx));
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
}

/* A node's anchor is itself for a message or a dummy root, else its
   parent's: the nearest message above, or the topmost dummy. */
static void thread_set_anchors(struct thread_ctx *ctx)
{
	array_thread_node_t *path = &ctx->tmp;

	for (unsigned int i = 0; i < ctx->nodes.count; i++) {
		struct thread_node *n = ctx->nodes.v[i];

		array_clear(path);
		while (n->anchor == NULL && n->msg == NULL && n->parent != NULL) {
			array_push(path, n);
			n = n->parent;
		}
		if (n->anchor == NULL)
			n->anchor = n;
		for (unsigned int j = 0; j < path->count; j++)
			path->v[j]->anchor = n->anchor;
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
				n = n->child;
				n->next = NULL;
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

	if (n->child == NULL || n->child->next == NULL)
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

/* Step (6) (and step (4) before (5)): every sibling set, roots last. */
static void thread_sort_all(struct thread_ctx *ctx)
{
	for (unsigned int i = 0; i < ctx->nodes.count; i++)
		thread_sort_children(ctx, ctx->nodes.v[i]);
	thread_sort_array(&ctx->roots);
}

/* --- REFERENCES step (5): gathering threads by base subject --- */

/* (5)(B)(i): a thread's subject is its first message's. */
static const struct search_thread_msg *thread_subject_msg(const struct thread_node *n)
{
	return n->msg != NULL ? n->msg : n->child->msg;
}

static const char *thread_subject(const struct thread_node *n)
{
	const char *subject = thread_subject_msg(n)->base_subject;

	return subject == NULL ? "" : subject;
}

/* (5)(B): one root per subject, preferring dummies, then non-replies. */
static void thread_subjects_fill(struct thread_ctx *ctx, struct hash_table *subjects)
{
	for (unsigned int i = 0; i < ctx->roots.count; i++) {
		struct thread_node *cur = ctx->roots.v[i];
		const char *subject = thread_subject(cur);
		struct thread_node *old;

		if (*subject == '\0')
			continue;
		old = hash_table_lookup(subjects, subject);
		if (old == NULL ||
		    (old->msg != NULL &&
		     (cur->msg == NULL ||
		      (old->msg->subject_is_reply && !cur->msg->subject_is_reply))))
			hash_table_insert(subjects, subject, cur);
	}
}

/* (5)(C)(v): merges root cur into the subject table's old. */
static void thread_merge(struct thread_ctx *ctx, struct hash_table *subjects,
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
	} else if (old->msg == NULL ||
		   (cur->msg != NULL && cur->msg->subject_is_reply &&
		    !old->msg->subject_is_reply)) {
		thread_add_child(old, cur);
	} else {
		dummy = thread_node_new(ctx);
		thread_add_child(dummy, old);
		thread_add_child(dummy, cur);
		old->gone = true;
		hash_table_insert(subjects, thread_subject(cur), dummy);
		array_push(&ctx->tmp, dummy);
	}
}

static void thread_gather_subjects(struct thread_ctx *ctx)
{
	struct hash_table *subjects =
		hash_table_create(ctx->pool, str_hash, str_cmp);
	unsigned int i, n = 0;

	thread_subjects_fill(ctx, subjects);
	array_clear(&ctx->tmp); /* the new dummies */
	for (i = 0; i < ctx->roots.count; i++) {
		struct thread_node *cur = ctx->roots.v[i], *old;
		const char *subject = thread_subject(cur);

		if (cur->gone || *subject == '\0')
			continue;
		old = hash_table_lookup(subjects, subject);
		if (old != cur)
			thread_merge(ctx, subjects, old, cur);
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
	}
	thread_sort_array(&ctx->roots);
}

/* --- output --- */

static struct search_thread_node *
thread_out_node(pool_t pool, struct thread_node *n)
{
	n->out = p_new(pool, struct search_thread_node, 1);
	n->out->id = n->msg == NULL ? 0 : n->msg->id;
	return n->out;
}

static struct search_thread_node *thread_export(struct thread_ctx *ctx, pool_t pool)
{
	struct search_thread_node *first = NULL, **tail = &first;
	array_thread_node_t *stack = &ctx->tmp;

	array_clear(stack);
	for (unsigned int i = 0; i < ctx->roots.count; i++) {
		*tail = thread_out_node(pool, ctx->roots.v[i]);
		tail = &(*tail)->next;
		array_push(stack, ctx->roots.v[i]);
	}
	while (stack->count > 0) {
		struct thread_node *n = stack->v[--stack->count];

		tail = &n->out->children;
		for (struct thread_node *c = n->child; c != NULL; c = c->next) {
			*tail = thread_out_node(pool, c);
			tail = &(*tail)->next;
			array_push(stack, c);
		}
	}
	return first;
}

static struct search_thread_node *
thread_build_references(struct thread_ctx *ctx, pool_t pool, bool refs)
{
	ctx->ids = hash_table_create(ctx->pool, str_hash, str_cmp);
	for (unsigned int i = 0; i < ctx->count; i++)
		thread_add_msg(ctx, i);
	hash_table_destroy(&ctx->ids);

	thread_prune(ctx);
	thread_sort_all(ctx);
	if (refs) {
		thread_refs_order_roots(ctx);
	} else {
		thread_gather_subjects(ctx);
		thread_sort_all(ctx);
	}
	return thread_export(ctx, pool);
}

/* --- ORDEREDSUBJECT (RFC 5256 §3) --- */

/* Messages grouped by base subject, each group by sent date; the first of
   a group is the parent of all the others; groups by their first. */
static struct search_thread_node *
thread_build_orderedsubject(struct thread_ctx *ctx, pool_t pool)
{
	struct hash_table *subjects =
		hash_table_create(ctx->pool, str_hash, str_cmp);
	unsigned int i;

	array_clear(&ctx->roots);
	for (i = 0; i < ctx->count; i++) {
		const struct search_thread_msg *msg = &ctx->msgs[i];
		const char *subject = msg->base_subject == NULL ? "" : msg->base_subject;
		struct thread_node *n = thread_node_new(ctx), *root;

		n->msg = msg;
		n->key_date = msg->sent_date;
		n->key_idx = i;
		root = hash_table_lookup(subjects, subject);
		if (root == NULL) {
			hash_table_insert(subjects, subject, n);
			array_push(&ctx->roots, n);
		} else {
			thread_add_child(root, n);
		}
	}
	hash_table_destroy(&subjects);

	/* the earliest message of each group becomes its parent */
	for (i = 0; i < ctx->roots.count; i++) {
		struct thread_node *root = ctx->roots.v[i], *first = root;

		for (struct thread_node *c = root->child; c != NULL; c = c->next) {
			if (thread_node_cmp(&c, &first) < 0)
				first = c;
		}
		if (first == root)
			continue;
		/* swap places: first takes root's children, root becomes one */
		struct thread_node **pp = &root->child;
		while (*pp != first)
			pp = &(*pp)->next;
		*pp = first->next;
		first->child = root->child;
		first->next = NULL;
		root->child = NULL;
		thread_add_child(first, root);
		ctx->roots.v[i] = first;
	}
	thread_sort_all(ctx);
	return thread_export(ctx, pool);
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
	if (alg != SEARCH_THREAD_ORDEREDSUBJECT &&
	    alg != SEARCH_THREAD_REFERENCES && alg != SEARCH_THREAD_REFS)
		return -1;
	ctx.pool = pool_create("search thread", 64 * 1024);
	array_init(&ctx.nodes, ctx.pool, count < 16 ? 16 : count * 2);
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
