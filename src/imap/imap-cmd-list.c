/* LIST with LIST-EXTENDED selection and return options (RFC 9051 §6.3.9,
 * RFC 5258), CHILDREN (RFC 3348) and SPECIAL-USE (RFC 6154) attributes,
 * RETURN (STATUS ...) (LIST-STATUS, RFC 5819), and LSUB (RFC 3501
 * §6.3.9). */
#include "imap-commands.h"
#include "imap-arg.h"
#include "imap-storage.h"

#include <strings.h>

enum list_select {
	LIST_SEL_SUBSCRIBED = 0x01,
	LIST_SEL_RECURSIVEMATCH = 0x02,
	LIST_SEL_SPECIAL_USE = 0x04,
};

enum list_return {
	LIST_RET_SUBSCRIBED = 0x01,
	LIST_RET_CHILDREN = 0x02,
	LIST_RET_SPECIAL_USE = 0x04,
	LIST_RET_STATUS = 0x08,
};

/* Wildcard match: '*' matches anything, '%' anything but the separator. */
static bool list_match(const char *pattern, const char *name)
{
	while (*pattern != '\0') {
		if (*pattern == '*' || *pattern == '%') {
			bool any = *pattern == '*';
			pattern++;
			for (const char *n = name;; n++) {
				if (list_match(pattern, n))
					return true;
				if (*n == '\0' || (!any && *n == MAILBOX_HIERARCHY_SEP))
					return false;
			}
		}
		if (*name != *pattern)
			return false;
		name++;
		pattern++;
	}
	return *name == '\0';
}

/* INBOX is case-insensitive, also as the first level of a pattern. */
static const char *list_pattern_canonical(const char *pattern)
{
	if (strncasecmp(pattern, "INBOX", 5) == 0 &&
	    (pattern[5] == '\0' || pattern[5] == MAILBOX_HIERARCHY_SEP))
		return t_strconcat("INBOX", pattern + 5, NULL);
	return pattern;
}

static void list_write_attrs(string_t *str, const struct mailbox_list_entry *e,
			     enum list_return ret, bool lsub)
{
	size_t start = str_len(str);
#define ATTR(name) do { if (str_len(str) > start) str_append_c(str, ' '); str_append(str, name); } while (0)
	if ((e->attrs & MAILBOX_ATTR_NONEXISTENT) != 0)
		ATTR(lsub ? "\\Noselect" : "\\NonExistent");
	else if ((e->attrs & MAILBOX_ATTR_NOSELECT) != 0)
		ATTR("\\Noselect");
	if ((e->attrs & MAILBOX_ATTR_NOINFERIORS) != 0)
		ATTR("\\NoInferiors");
	if (!lsub && (ret & LIST_RET_SUBSCRIBED) != 0 && (e->attrs & MAILBOX_ATTR_SUBSCRIBED) != 0)
		ATTR("\\Subscribed");
	if (!lsub && (e->attrs & MAILBOX_ATTR_NONEXISTENT) == 0) {
		if ((ret & LIST_RET_CHILDREN) != 0) {
			if ((e->attrs & MAILBOX_ATTR_HASCHILDREN) != 0)
				ATTR("\\HasChildren");
			else if ((e->attrs & MAILBOX_ATTR_NOINFERIORS) == 0)
				ATTR("\\HasNoChildren");
		}
		for (unsigned int i = 0; imap_special_use_names[i] != NULL; i++) {
			if ((e->special_use & (1u << i)) != 0)
				ATTR(imap_special_use_names[i]);
		}
	}
#undef ATTR
}

struct list_ctx {
	struct imap_cmd *cmd;
	enum list_select sel;
	enum list_return ret;
	bool lsub;
	const struct mailbox_list_entry *entries;
	unsigned int count;
	/* RETURN (STATUS (...)) items */
	enum mailbox_status_items status_items;
	/* the command's patterns, with the reference applied */
	const char *const *patterns;
	unsigned int pattern_count;
};

static bool list_match_any(const struct list_ctx *ctx, const char *name)
{
	for (unsigned int i = 0; i < ctx->pattern_count; i++) {
		if (list_match(ctx->patterns[i], name))
			return true;
	}
	return false;
}

/* True if name has a subscribed descendant; with unmatched_only, one that
   no pattern lists itself (RFC 5258 §3.5: a parent is listed for what the
   patterns would otherwise miss). */
static bool has_subscribed_child(const struct list_ctx *ctx, const char *name,
				 bool unmatched_only)
{
	size_t len = strlen(name);
	for (unsigned int i = 0; i < ctx->count; i++) {
		const struct mailbox_list_entry *e = &ctx->entries[i];
		if ((e->attrs & MAILBOX_ATTR_SUBSCRIBED) != 0 && strncmp(e->name, name, len) == 0 &&
		    e->name[len] == MAILBOX_HIERARCHY_SEP &&
		    (!unmatched_only || !list_match_any(ctx, e->name)))
			return true;
	}
	return false;
}

/* RFC 5819 §2: the STATUS of a listed selectable mailbox right after its
   LIST line. A mailbox that can't give one (deleted meanwhile) has none. */
static void list_send_status(struct list_ctx *ctx, const char *name)
{
	struct imap_client *client = ctx->cmd->client;
	struct mailbox_status status;
	if (mailbox_get_status(client->mail_user, name, IMAP_STATUS_MAILBOX_ITEMS(ctx->status_items),
			       ctx->cmd->pool, &status) == 0)
		imap_status_send(client, name, ctx->status_items, &status);
}

static void list_send_entry(struct list_ctx *ctx, const struct mailbox_list_entry *e,
			    bool childinfo)
{
	struct imap_client *client = ctx->cmd->client;
	string_t *str = t_str_new(128);
	str_append(str, ctx->lsub ? "LSUB (" : "LIST (");
	list_write_attrs(str, e, ctx->ret, ctx->lsub);
	str_append(str, ") \"/\" ");
	imap_append_mailbox_name(client, str, e->name);
	if (childinfo)
		str_append(str, " (\"CHILDINFO\" (\"SUBSCRIBED\"))");
	imap_client_send_untagged(client, "%s", str_c(str));
	if ((ctx->ret & LIST_RET_STATUS) != 0 &&
	    (e->attrs & (MAILBOX_ATTR_NOSELECT | MAILBOX_ATTR_NONEXISTENT)) == 0)
		list_send_status(ctx, e->name);
}

/* Lists each mailbox that some pattern matches, once. */
static void list_entries(struct list_ctx *ctx)
{
	for (unsigned int i = 0; i < ctx->count; i++) {
		const struct mailbox_list_entry *e = &ctx->entries[i];
		if (!list_match_any(ctx, e->name))
			continue;
		bool subscribed = (e->attrs & MAILBOX_ATTR_SUBSCRIBED) != 0;
		bool childinfo = false;
		if ((ctx->sel & LIST_SEL_SUBSCRIBED) != 0 && !subscribed) {
			/* RFC 5258 §3.5: RECURSIVEMATCH lists parents of
			   subscribed mailboxes, marked with CHILDINFO */
			if ((ctx->sel & LIST_SEL_RECURSIVEMATCH) == 0 ||
			    !has_subscribed_child(ctx, e->name, true))
				continue;
			childinfo = true;
		} else if ((ctx->sel & LIST_SEL_SUBSCRIBED) != 0 &&
			   (ctx->sel & LIST_SEL_RECURSIVEMATCH) != 0) {
			childinfo = has_subscribed_child(ctx, e->name, false);
		}
		if ((ctx->sel & LIST_SEL_SPECIAL_USE) != 0 && e->special_use == 0)
			continue;
		if ((e->attrs & MAILBOX_ATTR_NONEXISTENT) != 0 && (ctx->sel & LIST_SEL_SUBSCRIBED) == 0)
			continue;
		list_send_entry(ctx, e, childinfo);
	}
}

/* RFC 3501 §6.3.9: LSUB with '%' lists a parent of a subscribed mailbox
   that isn't subscribed itself, as \Noselect. */
static void lsub_implied_parents(struct list_ctx *ctx, const char *pattern)
{
	array_str_t sent;
	array_init(&sent, ctx->cmd->pool, 8);
	for (unsigned int i = 0; i < ctx->count; i++) {
		const struct mailbox_list_entry *e = &ctx->entries[i];
		if ((e->attrs & MAILBOX_ATTR_SUBSCRIBED) == 0 || list_match(pattern, e->name))
			continue;
		const char *name = e->name;
		for (const char *sep = strchr(name, MAILBOX_HIERARCHY_SEP); sep != NULL;
		     sep = strchr(sep + 1, MAILBOX_HIERARCHY_SEP)) {
			const char *parent = t_strndup(name, (size_t)(sep - name));
			if (!list_match(pattern, parent))
				continue;
			bool done = false;
			for (unsigned int j = 0; j < ctx->count && !done; j++) {
				done = strcmp(ctx->entries[j].name, parent) == 0 &&
					(ctx->entries[j].attrs & MAILBOX_ATTR_SUBSCRIBED) != 0;
			}
			for (unsigned int j = 0; j < sent.count && !done; j++)
				done = strcmp(sent.v[j], parent) == 0;
			if (done)
				continue;
			array_push(&sent, p_strdup(ctx->cmd->pool, parent));
			struct mailbox_list_entry implied = {
				.name = parent, .attrs = MAILBOX_ATTR_NOSELECT,
			};
			list_send_entry(ctx, &implied, false);
		}
	}
}

static int list_parse_options(const struct imap_arg *arg, bool selection,
			      unsigned int *opts_r, enum mailbox_status_items *status_r,
			      const char **error_r)
{
	static const struct { const char *name; unsigned int sel, ret; } opts[] = {
		{ "SUBSCRIBED", LIST_SEL_SUBSCRIBED, LIST_RET_SUBSCRIBED },
		{ "RECURSIVEMATCH", LIST_SEL_RECURSIVEMATCH, 0 },
		{ "SPECIAL-USE", LIST_SEL_SPECIAL_USE, LIST_RET_SPECIAL_USE },
		{ "REMOTE", 0, 0 },
		{ "CHILDREN", 0, LIST_RET_CHILDREN },
	};
	const struct imap_arg *list;
	unsigned int count;
	if (!imap_arg_get_list(arg, &list, &count)) {
		*error_r = "Invalid LIST options.";
		return -1;
	}
	*opts_r = 0;
	for (unsigned int i = 0; i < count; i++) {
		const char *atom;
		unsigned int j;
		if (!imap_arg_get_atom(&list[i], &atom)) {
			*error_r = "Invalid LIST option.";
			return -1;
		}
		if (!selection && strcasecmp(atom, "STATUS") == 0) {
			/* RFC 5819: STATUS (items) */
			if (i + 1 == count || imap_status_items_parse(&list[i + 1], status_r) < 0) {
				*error_r = "Invalid STATUS items in LIST RETURN.";
				return -1;
			}
			*opts_r |= LIST_RET_STATUS;
			i++;
			continue;
		}
		for (j = 0; j < N_ELEMENTS(opts); j++) {
			if (strcasecmp(atom, opts[j].name) == 0 &&
			    (selection ? opts[j].sel != 0 || strcasecmp(atom, "REMOTE") == 0 :
			     opts[j].ret != 0)) {
				*opts_r |= selection ? opts[j].sel : opts[j].ret;
				break;
			}
		}
		if (j == N_ELEMENTS(opts)) {
			*error_r = t_strdup_printf("Unsupported LIST option %s.", atom);
			return -1;
		}
	}
	/* RFC 5258 §3: RECURSIVEMATCH alone is an error */
	if (selection && *opts_r == LIST_SEL_RECURSIVEMATCH) {
		*error_r = "RECURSIVEMATCH needs another selection option.";
		return -1;
	}
	return 0;
}

/* Collects the patterns: one astring or a list of them (RFC 5258). */
static int list_get_patterns(struct imap_cmd *cmd, const struct imap_arg *arg,
			     array_str_t *patterns, const char **error_r)
{
	const struct imap_arg *list;
	unsigned int count = 1;
	if (!imap_arg_get_list(arg, &list, &count))
		list = arg;
	else if (count == 0) {
		/* RFC 5258 §6: a pattern list has at least one pattern */
		*error_r = "BAD Empty pattern list.";
		return -1;
	}
	for (unsigned int i = 0; i < count; i++) {
		const char *name;
		if (imap_mailbox_name_from_arg(cmd->client, &list[i], &name, error_r) < 0) {
			/* a pattern no mailbox name can match (not valid
			   modified UTF-7 or UTF-8) lists nothing, as Dovecot;
			   only a malformed argument is an error */
			if (strncmp(*error_r, "BAD ", 4) == 0)
				return -1;
			continue;
		}
		array_push(patterns, name);
	}
	return 0;
}

static bool cmd_list_full(struct imap_cmd *cmd, bool lsub)
{
	struct list_ctx ctx = { .cmd = cmd, .lsub = lsub };
	const struct imap_arg *args = cmd->args;
	const char *error;
	unsigned int opts;
	bool extended = false;
	if (!lsub && args[0].type == IMAP_ARG_LIST) {
		extended = true;
		if (list_parse_options(&args[0], true, &opts, NULL, &error) < 0) {
			imap_cmd_bad(cmd, error);
			return true;
		}
		ctx.sel = opts;
		args++;
	}
	if (lsub)
		ctx.sel = LIST_SEL_SUBSCRIBED;
	const char *ref;
	if (!imap_arg_get_astring(&args[0], &ref) || args[1].type == IMAP_ARG_EOL) {
		imap_cmd_bad(cmd, "LIST needs a reference and a pattern.");
		return true;
	}
	array_str_t patterns;
	array_init(&patterns, cmd->pool, 4);
	if (list_get_patterns(cmd, &args[1], &patterns, &error) < 0) {
		imap_cmd_bad(cmd, error + (strncmp(error, "BAD ", 4) == 0 ? 4 : 0));
		return true;
	}
	if (args[1].type == IMAP_ARG_LIST)
		extended = true;
	args += 2;
	if (!lsub && imap_arg_atom_equals(&args[0], "RETURN")) {
		extended = true;
		if (list_parse_options(&args[1], false, &opts, &ctx.status_items, &error) < 0) {
			imap_cmd_bad(cmd, error);
			return true;
		}
		ctx.ret = opts;
		if ((ctx.status_items & STATUS_HIGHESTMODSEQ) != 0)
			imap_client_enable_condstore(cmd->client);
		args += 2;
	}
	if (args[0].type != IMAP_ARG_EOL) {
		imap_cmd_bad(cmd, "Unexpected arguments after LIST patterns.");
		return true;
	}
	if ((ctx.sel & LIST_SEL_SUBSCRIBED) != 0)
		ctx.ret |= LIST_RET_SUBSCRIBED;
	/* RFC 5258 §4: an extended LIST (selection options, a pattern list
	   or RETURN) reports children only when RETURN (CHILDREN) asks; a
	   basic one always does (RFC 3348), as Dovecot */
	if (!extended)
		ctx.ret |= LIST_RET_CHILDREN;
	if (patterns.count == 1 && patterns.v[0][0] == '\0' && !lsub) {
		/* RFC 9051 §6.3.9: the hierarchy delimiter and root */
		imap_client_send_untagged(cmd->client, "LIST (\\Noselect) \"/\" \"\"");
		imap_cmd_finish(cmd, "OK List completed.");
		return true;
	}
	if (mail_user_list_mailboxes(cmd->client->mail_user, cmd->pool, &ctx.entries, &ctx.count) < 0) {
		imap_cmd_storage_error(cmd);
		return true;
	}
	for (unsigned int i = 0; i < patterns.count; i++) {
		/* the reference is a prefix of the pattern (RFC 9051 §6.3.9) */
		const char *pattern = patterns.v[i][0] == MAILBOX_HIERARCHY_SEP || ref[0] == '\0' ?
			patterns.v[i] : t_strconcat(ref, patterns.v[i], NULL);
		patterns.v[i] = list_pattern_canonical(pattern);
	}
	ctx.patterns = patterns.v;
	ctx.pattern_count = patterns.count;
	list_entries(&ctx);
	if (lsub && patterns.count > 0)
		lsub_implied_parents(&ctx, patterns.v[0]);
	imap_cmd_finish(cmd, "OK %s completed.", lsub ? "Lsub" : "List");
	return true;
}

bool imap_cmd_list(struct imap_cmd *cmd)
{
	return cmd_list_full(cmd, false);
}

bool imap_cmd_lsub(struct imap_cmd *cmd)
{
	return cmd_list_full(cmd, true);
}
