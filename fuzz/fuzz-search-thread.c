/* libFuzzer target for search-thread.c (RFC 5256 THREAD): each input line
 * is a message "message-id|in-reply-to|references|subject|date" (missing
 * fields are absent headers, the date a decimal time_t), up to 200 of
 * them. Every algorithm runs; the trees must hold each message once, keep
 * dummies to roots of two or more, sort siblings and threads, and write
 * back as the thread-list syntax. REFERENCES and REFS are checked against
 * a naive step (1) (parent pointers, loops found by walking to the root):
 * every message's parent follows from it, exactly for REFS, up to subject
 * gathering for REFERENCES. ORDEREDSUBJECT is checked for its full shape.
 * search_thread_msgid_next() also loops over every NUL-separated piece of
 * the input. */
#include "lib.h"
#include "array.h"
#include "buffer.h"
#include "hash.h"
#include "search-casemap.h"
#include "search-subject.h"
#include "search-thread.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* the naive step (1) walks to the root for every link: with 8 KiB of
   input (at most ~1600 ids) that stays a few milliseconds */
#define FUZZ_MAX_INPUT (8 * 1024)
#define FUZZ_MAX_MSGS 200

static const enum search_thread_algorithm fuzz_algs[] = {
	SEARCH_THREAD_ORDEREDSUBJECT, SEARCH_THREAD_REFERENCES, SEARCH_THREAD_REFS,
};

struct fuzz_ctx {
	pool_t pool;
	struct search_thread_msg *msgs;
	unsigned int count;
	/* per message id (1..count): its output node and that node's parent */
	const struct search_thread_node **out, **out_parent;
	/* per message index, from the naive step (1): see naive_expect() */
	int *expect, *group;
	/* per naive node: the messages of its dummy group */
	unsigned int *group_size, naive_node_count;
};

/* --- input --- */

static const char *fuzz_field(pool_t pool, const char **p, const char *end)
{
	if (*p == NULL)
		return NULL;
	const char *sep = memchr(*p, '|', (size_t)(end - *p));
	const char *value_end = sep == NULL ? end : sep;
	const char *value = p_strndup(pool, *p, (size_t)(value_end - *p));
	*p = sep == NULL ? NULL : sep + 1;
	return value;
}

static void fuzz_parse_msgs(struct fuzz_ctx *ctx, const char *input, size_t size)
{
	const char *line = input, *end = input + size;
	ctx->msgs = p_new(ctx->pool, struct search_thread_msg, FUZZ_MAX_MSGS);
	while (line < end && ctx->count < FUZZ_MAX_MSGS) {
		const char *eol = memchr(line, '\n', (size_t)(end - line));
		if (eol == NULL)
			eol = end;
		struct search_thread_msg *msg = &ctx->msgs[ctx->count];
		const char *p = line;
		msg->id = ++ctx->count;
		msg->message_id = fuzz_field(ctx->pool, &p, eol);
		msg->in_reply_to = fuzz_field(ctx->pool, &p, eol);
		msg->references = fuzz_field(ctx->pool, &p, eol);
		const char *subject = fuzz_field(ctx->pool, &p, eol);
		const char *date = fuzz_field(ctx->pool, &p, eol);
		/* as callers do: the base subject folded */
		msg->base_subject = subject == NULL ? "" :
			search_casemap(ctx->pool, search_subject_base(ctx->pool, subject,
								      &msg->subject_is_reply));
		msg->sent_date = date == NULL ? 0 : (time_t)strtoll(date, NULL, 10);
		line = eol + 1;
	}
}

/* --- search_thread_msgid_next() --- */

static void fuzz_msgids(pool_t pool, const char *str)
{
	string_t *dest = str_new(pool, 128);
	const char *p = str, *end = str + strlen(str);
	unsigned int n = 0;

	str_append(dest, "prefix");
	for (;;) {
		const char *before = p;
		size_t start = str_len(dest);
		if (search_thread_msgid_next(&p, dest) == 0)
			break;
		if (p <= before || p > end || ++n > (size_t)(end - str))
			i_panic("msgid_next did not advance within the input");
		const char *id = str_c(dest) + start;
		size_t len = str_len(dest) - start;
		if (memcmp(str_c(dest), "prefix", 6) != 0)
			i_panic("msgid_next changed what dest held");
		/* an '@' with something on each side */
		const char *at = len < 3 ? NULL : memchr(id + 1, '@', len - 2);
		if (at == NULL || memchr(id, '\r', len) != NULL || memchr(id, '\n', len) != NULL)
			i_panic("invalid msg-id returned: [%s]", id);
		/* an id without anything to normalise reads back as itself */
		const char *first_at = strchr(id, '@');
		if (strpbrk(id, " \t()\"<>") == NULL && first_at > id && first_at < id + len - 1) {
			const char *again = t_strdup_printf("<%s>", id), *q = again;
			string_t *dest2 = t_str_new(len + 1);
			if (search_thread_msgid_next(&q, dest2) != 1 || strcmp(str_c(dest2), id) != 0)
				i_panic("msg-id [%s] does not read back", id);
		}
		str_append_c(dest, ' ');
	}
}

/* --- the output tree --- */

static void fuzz_key(const struct fuzz_ctx *ctx, const struct search_thread_node *n,
		     time_t *date_r, unsigned int *idx_r)
{
	/* a dummy sorts by its earliest child */
	if (n->id == 0)
		n = n->children;
	*date_r = ctx->msgs[n->id - 1].sent_date;
	*idx_r = n->id - 1;
}

static bool fuzz_key_less(const struct fuzz_ctx *ctx, const struct search_thread_node *a,
			  const struct search_thread_node *b)
{
	time_t da, db;
	unsigned int ia, ib;
	fuzz_key(ctx, a, &da, &ia);
	fuzz_key(ctx, b, &db, &ib);
	return da != db ? da < db : ia < ib;
}

/* Every message once, dummies only as roots with two or more message
   children, siblings in (date, input order). Fills out and out_parent. */
static void fuzz_check_tree(struct fuzz_ctx *ctx, const struct search_thread_node *roots)
{
	ARRAY(const struct search_thread_node *) stack;
	unsigned int seen = 0;

	memset(ctx->out, 0, sizeof(ctx->out[0]) * (ctx->count + 1));
	array_init(&stack, ctx->pool, 64);
	for (const struct search_thread_node *r = roots; r != NULL; r = r->next) {
		if (r->id == 0 && (r->children == NULL || r->children->next == NULL))
			i_panic("dummy root with fewer than two children");
		array_push(&stack, r);
	}
	while (stack.count > 0) {
		const struct search_thread_node *n = stack.v[--stack.count];
		for (const struct search_thread_node *c = n->children; c != NULL; c = c->next) {
			if (c->id == 0)
				i_panic("dummy below a root");
			if (c->next != NULL && !fuzz_key_less(ctx, c, c->next))
				i_panic("siblings %u, %u out of order", c->id, c->next->id);
			ctx->out_parent[c->id] = n;
			array_push(&stack, c);
		}
		if (n->id == 0)
			continue;
		if (n->id > ctx->count || ctx->out[n->id] != NULL)
			i_panic("message %u unknown or twice in the result", n->id);
		ctx->out[n->id] = n;
		seen++;
	}
	if (seen != ctx->count)
		i_panic("%u of %u messages in the result", seen, ctx->count);
	for (const struct search_thread_node *r = roots; r != NULL; r = r->next) {
		if (r->id != 0)
			ctx->out_parent[r->id] = NULL;
	}
}

static bool fuzz_read_number(const char **s, uint32_t id)
{
	char *end;
	if (**s < '1' || **s > '9' || strtoul(*s, &end, 10) != id)
		return false;
	*s = end;
	return true;
}

/* The thread-list syntax of RFC 5256 §4 for the thread at n, matched
   against what search_thread_write() wrote at *s. */
static bool fuzz_read_thread(const char **s, const struct search_thread_node *n)
{
	if (*(*s)++ != '(')
		return false;
	if (n->id != 0) {
		if (!fuzz_read_number(s, n->id))
			return false;
		/* only children follow on the same level */
		for (; n->children != NULL && n->children->next == NULL; n = n->children) {
			if (*(*s)++ != ' ' || !fuzz_read_number(s, n->children->id))
				return false;
		}
		if (n->children != NULL && *(*s)++ != ' ')
			return false;
	}
	for (const struct search_thread_node *c = n->children; c != NULL; c = c->next) {
		if (!fuzz_read_thread(s, c))
			return false;
	}
	return *(*s)++ == ')';
}

static void fuzz_check_written(pool_t pool, const struct search_thread_node *roots)
{
	string_t *str = str_new(pool, 256);
	search_thread_write(str, roots);
	const char *s = str_c(str);
	if (strspn(s, "0123456789() ") != str_len(str))
		i_panic("thread-list with stray characters: %s", s);
	for (const struct search_thread_node *r = roots; r != NULL; r = r->next) {
		if (!fuzz_read_thread(&s, r))
			i_panic("thread-list does not match the tree: %s", str_c(str));
	}
	if (*s != '\0')
		i_panic("thread-list has more than the tree: %s", str_c(str));
}

/* --- ORDEREDSUBJECT --- */

static void fuzz_check_orderedsubject(struct fuzz_ctx *ctx, const struct search_thread_node *roots)
{
	struct hash_table *subjects = hash_table_create(ctx->pool, str_hash, str_cmp);
	for (const struct search_thread_node *r = roots; r != NULL; r = r->next) {
		if (r->id == 0)
			i_panic("ORDEREDSUBJECT: a dummy");
		const char *subject = ctx->msgs[r->id - 1].base_subject;
		if (hash_table_lookup(subjects, subject) != NULL)
			i_panic("ORDEREDSUBJECT: two threads of one subject");
		hash_table_insert(subjects, subject, (void *)r);
		if (r->next != NULL && !fuzz_key_less(ctx, r, r->next))
			i_panic("ORDEREDSUBJECT: threads out of order");
		if (r->children != NULL && !fuzz_key_less(ctx, r, r->children))
			i_panic("ORDEREDSUBJECT: a reply before its thread's first message");
		for (const struct search_thread_node *c = r->children; c != NULL; c = c->next) {
			if (c->children != NULL ||
			    strcmp(ctx->msgs[c->id - 1].base_subject, subject) != 0)
				i_panic("ORDEREDSUBJECT: deep, or another subject in a thread");
		}
	}
	hash_table_destroy(&subjects);
}

/* --- REFERENCES and REFS against a naive step (1) --- */

struct naive_node {
	int parent; /* -1: a root */
	int msg;    /* message index, -1: a dummy */
	/* a node without children closes no loop: saves walking a long
	   References chain for each new link */
	unsigned int child_count;
};

struct naive {
	pool_t pool;
	ARRAY(struct naive_node) nodes;
	struct hash_table *ids;
	string_t *buf;
	ARRAY(int) refs;
};

static int naive_new(struct naive *nv)
{
	struct naive_node *node = array_append_space(&nv->nodes);
	node->parent = node->msg = -1;
	return (int)nv->nodes.count - 1;
}

static int naive_get(struct naive *nv, const char *id)
{
	void *found = hash_table_lookup(nv->ids, id);
	if (found != NULL)
		return (int)(uintptr_t)found - 1;
	int n = naive_new(nv);
	hash_table_insert(nv->ids, p_strdup(nv->pool, id), (void *)(uintptr_t)(n + 1));
	return n;
}

/* RFC 5256 §3 REFERENCES (1)(A): no parent yet and no loop */
static void naive_link(struct naive *nv, int parent, int child)
{
	if (parent == child || nv->nodes.v[child].parent != -1)
		return;
	for (int a = parent; nv->nodes.v[child].child_count > 0 && a != -1;
	     a = nv->nodes.v[a].parent) {
		if (a == child)
			return;
	}
	nv->nodes.v[child].parent = parent;
	nv->nodes.v[parent].child_count++;
}

static int naive_add_msg(struct naive *nv, const struct search_thread_msg *msg, int idx)
{
	const char *p = msg->message_id;
	int n = -1, parent = -1;

	str_truncate(nv->buf, 0);
	if (p != NULL && search_thread_msgid_next(&p, nv->buf) > 0) {
		n = naive_get(nv, str_c(nv->buf));
		if (nv->nodes.v[n].msg != -1)
			n = -1; /* the id is taken: a node of its own */
	}
	if (n == -1)
		n = naive_new(nv);
	nv->nodes.v[n].msg = idx;

	array_clear(&nv->refs);
	p = msg->references;
	while (p != NULL) {
		str_truncate(nv->buf, 0);
		if (search_thread_msgid_next(&p, nv->buf) == 0)
			break;
		array_push(&nv->refs, naive_get(nv, str_c(nv->buf)));
	}
	p = msg->in_reply_to;
	str_truncate(nv->buf, 0);
	if (nv->refs.count == 0 && p != NULL && search_thread_msgid_next(&p, nv->buf) > 0)
		array_push(&nv->refs, naive_get(nv, str_c(nv->buf)));
	for (unsigned int i = 1; i < nv->refs.count; i++)
		naive_link(nv, nv->refs.v[i - 1], nv->refs.v[i]);
	/* (1)(B) */
	if (nv->refs.count > 0)
		parent = nv->refs.v[nv->refs.count - 1];
	int old = nv->nodes.v[n].parent;
	if (old != -1 && old != parent) {
		nv->nodes.v[old].child_count--;
		nv->nodes.v[n].parent = -1;
	}
	if (parent != -1)
		naive_link(nv, parent, n);
	return n;
}

/* What the naive tree says about message i's place in the result:
   below message *parent_r (>= 0), alone at the top (-1), or below the
   dummy made of top node *group_r with others (-2). */
static int naive_expect(const struct naive *nv, int node, int *group_r)
{
	int a = nv->nodes.v[node].parent, top = -1;
	while (a != -1 && nv->nodes.v[a].msg == -1) {
		top = a;
		a = nv->nodes.v[a].parent;
	}
	*group_r = top;
	if (a != -1)
		return nv->nodes.v[a].msg;
	return top == -1 ? -1 : -2;
}

static const char *fuzz_thread_subject(const struct fuzz_ctx *ctx,
				       const struct search_thread_node *root)
{
	return ctx->msgs[(root->id == 0 ? root->children->id : root->id) - 1].base_subject;
}

/* REFERENCES step (5) put root message i below parent: into a thread of
   its subject, below its root or below a message that was a root until a
   new dummy took both in. */
static bool fuzz_gathered(const struct fuzz_ctx *ctx, unsigned int i,
			  const struct search_thread_node *parent)
{
	const struct search_thread_node *root = parent;
	if (parent->id != 0 && ctx->out_parent[parent->id] != NULL) {
		root = ctx->out_parent[parent->id];
		if (root->id != 0)
			return false;
	}
	const char *subject = ctx->msgs[i].base_subject;
	return subject[0] != '\0' && strcmp(fuzz_thread_subject(ctx, root), subject) == 0;
}

/* Step (1) the naive way, then each message's expected place. */
static void naive_build(struct fuzz_ctx *ctx)
{
	struct naive nv = { .pool = ctx->pool };
	int *msg_node = p_new(ctx->pool, int, ctx->count);
	int *group = p_new(ctx->pool, int, ctx->count), *expect = p_new(ctx->pool, int, ctx->count);
	unsigned int *group_size;

	array_init(&nv.nodes, ctx->pool, 64);
	array_init(&nv.refs, ctx->pool, 16);
	nv.ids = hash_table_create(ctx->pool, str_hash, str_cmp);
	nv.buf = str_new(ctx->pool, 128);
	for (unsigned int i = 0; i < ctx->count; i++)
		msg_node[i] = naive_add_msg(&nv, &ctx->msgs[i], (int)i);
	group_size = p_new(ctx->pool, unsigned int, nv.nodes.count);
	for (unsigned int i = 0; i < ctx->count; i++) {
		expect[i] = naive_expect(&nv, msg_node[i], &group[i]);
		if (expect[i] == -2)
			group_size[group[i]]++;
	}
	/* a dummy root with one message left takes its place (step (3)) */
	for (unsigned int i = 0; i < ctx->count; i++) {
		if (expect[i] == -2 && group_size[group[i]] == 1)
			expect[i] = -1;
	}
	hash_table_destroy(&nv.ids);
	ctx->expect = expect;
	ctx->group = group;
	ctx->group_size = group_size;
	ctx->naive_node_count = nv.nodes.count;
}

static void fuzz_check_references(struct fuzz_ctx *ctx, const struct search_thread_node *roots,
				  bool refs)
{
	const int *expect = ctx->expect, *group = ctx->group;
	const struct search_thread_node **dummy_of =
		p_new(ctx->pool, const struct search_thread_node *, ctx->naive_node_count);
	for (unsigned int i = 0; i < ctx->count; i++) {
		const struct search_thread_node *parent = ctx->out_parent[i + 1];
		bool ok;
		if (expect[i] >= 0) {
			ok = parent != NULL && parent->id == (uint32_t)expect[i] + 1;
		} else if (expect[i] == -1) {
			ok = parent == NULL || (!refs && fuzz_gathered(ctx, i, parent));
		} else {
			ok = parent != NULL && parent->id == 0 &&
				(dummy_of[group[i]] == NULL || dummy_of[group[i]] == parent);
			dummy_of[group[i]] = parent;
		}
		if (!ok)
			i_panic("%s: message %u in the wrong place (expected %d)",
				refs ? "REFS" : "REFERENCES", i + 1, expect[i] + 1);
	}
	/* REFS has no step (5): a dummy holds exactly its group */
	for (const struct search_thread_node *r = roots; refs && r != NULL; r = r->next) {
		unsigned int n = 0;
		for (const struct search_thread_node *c = r->children; r->id == 0 && c != NULL;
		     c = c->next)
			n++;
		if (r->id == 0 && n != ctx->group_size[group[r->children->id - 1]])
			i_panic("REFS: dummy with children of other threads");
	}
}

/* REFERENCES: threads by their first message; after step (5) no two
   share a non-empty subject. REFS: threads by their latest message. */
static void fuzz_check_roots(struct fuzz_ctx *ctx, const struct search_thread_node *roots,
			     bool refs)
{
	struct hash_table *subjects = hash_table_create(ctx->pool, str_hash, str_cmp);
	time_t prev_latest = 0;

	for (const struct search_thread_node *r = roots; r != NULL; r = r->next) {
		if (refs) {
			time_t latest = ctx->msgs[(r->id == 0 ? r->children->id : r->id) - 1].sent_date;
			ARRAY(const struct search_thread_node *) stack;
			array_init(&stack, ctx->pool, 16);
			array_push(&stack, r);
			while (stack.count > 0) {
				const struct search_thread_node *n = stack.v[--stack.count];
				if (n->id != 0 && ctx->msgs[n->id - 1].sent_date > latest)
					latest = ctx->msgs[n->id - 1].sent_date;
				for (const struct search_thread_node *c = n->children; c != NULL;
				     c = c->next)
					array_push(&stack, c);
			}
			if (r != roots && latest < prev_latest)
				i_panic("REFS: threads out of order");
			prev_latest = latest;
			continue;
		}
		if (r->next != NULL && !fuzz_key_less(ctx, r, r->next))
			i_panic("REFERENCES: threads out of order");
		const char *subject = fuzz_thread_subject(ctx, r);
		if (subject[0] == '\0')
			continue;
		if (hash_table_lookup(subjects, subject) != NULL)
			i_panic("REFERENCES: two threads with subject [%s]", subject);
		hash_table_insert(subjects, subject, (void *)r);
	}
	hash_table_destroy(&subjects);
}

static void fuzz_thread(struct fuzz_ctx *ctx, enum search_thread_algorithm alg)
{
	struct search_thread_node *roots;

	if (search_thread_build(ctx->pool, alg, ctx->msgs, ctx->count, &roots) != 0)
		i_panic("search_thread_build failed");
	if ((roots == NULL) != (ctx->count == 0))
		i_panic("no threads for messages, or threads for none");
	fuzz_check_tree(ctx, roots);
	fuzz_check_written(ctx->pool, roots);
	if (alg == SEARCH_THREAD_ORDEREDSUBJECT) {
		fuzz_check_orderedsubject(ctx, roots);
		return;
	}
	fuzz_check_references(ctx, roots, alg == SEARCH_THREAD_REFS);
	fuzz_check_roots(ctx, roots, alg == SEARCH_THREAD_REFS);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_ctx ctx = { .count = 0 };
	struct search_thread_node *roots;
	enum search_thread_algorithm alg;

	if (size > FUZZ_MAX_INPUT)
		size = FUZZ_MAX_INPUT;
	ctx.pool = pool_create("fuzz search thread", 65536);
	const char *input = p_strndup(ctx.pool, data, size);
	for (size_t pos = 0; pos <= size; pos += strlen(input + pos) + 1)
		fuzz_msgids(ctx.pool, input + pos);

	fuzz_parse_msgs(&ctx, input, size);
	ctx.out = p_new(ctx.pool, const struct search_thread_node *, ctx.count + 1);
	ctx.out_parent = p_new(ctx.pool, const struct search_thread_node *, ctx.count + 1);
	naive_build(&ctx);
	for (unsigned int i = 0; i < N_ELEMENTS(fuzz_algs); i++)
		fuzz_thread(&ctx, fuzz_algs[i]);
	if (search_thread_build(ctx.pool, (enum search_thread_algorithm)99, ctx.msgs,
				ctx.count, &roots) != -1 || roots != NULL)
		i_panic("unknown algorithm accepted");
	if (search_thread_algorithm_parse(t_strndup(data, I_MIN(size, 16)), &alg) &&
	    alg != SEARCH_THREAD_ORDEREDSUBJECT && alg != SEARCH_THREAD_REFERENCES &&
	    alg != SEARCH_THREAD_REFS)
		i_panic("algorithm_parse gave an unknown algorithm");

	pool_destroy(&ctx.pool);
	t_pool_clear();
	return 0;
}
