/* GETMETADATA and SETMETADATA (RFC 5464 §4.2, §4.3): METADATA and
 * METADATA-SERVER over the storage's mailbox attributes
 * (mailbox-attribute.h). The server's entries are those of mailbox "". */
#include "imap-commands.h"
#include "imap-arg.h"
#include "imap-quote.h"
#include "imap-storage.h"
#include "hash.h"
#include "mailbox-attribute.h"
#include "ostream.h"
#include "strnum.h"

#include <strings.h>

enum metadata_depth {
	METADATA_DEPTH_0,
	METADATA_DEPTH_1,
	METADATA_DEPTH_INFINITY,
};

/* A GETMETADATA between its calls: what was found, and how far its
   METADATA response is written. */
struct metadata_get {
	const char *mailbox;
	enum metadata_depth depth;
	bool have_maxsize;
	uint32_t maxsize;
	/* RFC 5464 §4.2.1: the largest value left out for MAXSIZE */
	uint64_t longest_skipped;

	array_mail_attribute_t found;
	struct hash_table *seen; /* entry names already in found */
	unsigned int next;
	bool started;
};

static void metadata_settings(struct imap_client *client, struct mail_attribute_settings *set_r)
{
	const struct imap_settings *set = &client->set->imap;
	memset(set_r, 0, sizeof(*set_r));
	set_r->max_value_size = set->metadata_max_value_size;
	set_r->max_entries = set->metadata_max_entries;
	set_r->max_user_entries = set->metadata_max_user_entries;
	set_r->max_user_size = set->metadata_max_user_size;
	set_r->admin = set->metadata_admin;
}

/* imap.metadata = no: the commands don't exist (nor do the capabilities). */
static bool metadata_disabled(struct imap_cmd *cmd)
{
	if (cmd->client->set->imap.metadata)
		return false;
	imap_cmd_bad(cmd, "Unknown command.");
	return true;
}

/* RFC 5464 §3.2 entry = astring, checked by mail_attribute_entry_parse().
   Returns 0, or -1 with a BAD text. */
static int metadata_entry_parse(const struct imap_arg *arg, enum mail_attribute_type *type_r,
				const char **key_r, const char **error_r)
{
	const char *entry, *error;
	if (!imap_arg_get_astring(arg, &entry)) {
		*error_r = "Entry name must be an atom or a string.";
		return -1;
	}
	if (mail_attribute_entry_parse(entry, type_r, key_r, &error) < 0) {
		*error_r = error;
		return -1;
	}
	return 0;
}

/* --- GETMETADATA --- */

/* RFC 5464 §4.2: "(" option *(SP option) ")" with MAXSIZE number and
   DEPTH ("0" / "1" / "infinity"); a repeated option counts last, as in
   Dovecot. Returns 0, or -1 with a BAD text. */
static int metadata_parse_options(const struct imap_arg *args, unsigned int count,
				  struct metadata_get *ctx, const char **error_r)
{
	for (unsigned int i = 0; i < count; i += 2) {
		const char *name, *value;
		if (!imap_arg_get_atom(&args[i], &name)) {
			*error_r = "GETMETADATA options must be atoms.";
			return -1;
		}
		bool have_value = i + 1 < count && imap_arg_get_atom(&args[i + 1], &value);
		if (strcasecmp(name, "MAXSIZE") == 0) {
			if (!have_value || str_to_uint32(value, &ctx->maxsize) < 0) {
				*error_r = "Invalid value for MAXSIZE option.";
				return -1;
			}
			ctx->have_maxsize = true;
		} else if (strcasecmp(name, "DEPTH") == 0) {
			if (have_value && strcmp(value, "0") == 0)
				ctx->depth = METADATA_DEPTH_0;
			else if (have_value && strcmp(value, "1") == 0)
				ctx->depth = METADATA_DEPTH_1;
			else if (have_value && strcasecmp(value, "infinity") == 0)
				ctx->depth = METADATA_DEPTH_INFINITY;
			else {
				*error_r = "Invalid value for DEPTH option.";
				return -1;
			}
		} else {
			*error_r = "Unknown GETMETADATA option.";
			return -1;
		}
	}
	return 0;
}

/* Adds an entry (read into a scratch pool) to the response unless it is
   there already or too large for MAXSIZE. */
static void metadata_get_add(struct imap_cmd *cmd, struct metadata_get *ctx,
			     const struct mail_attribute *attr)
{
	const char *name = mail_attribute_entry_name(attr->type, attr->key);
	if (hash_table_lookup(ctx->seen, name) != NULL)
		return;
	name = p_strdup(cmd->pool, name);
	hash_table_insert(ctx->seen, name, (void *)name);
	if (ctx->have_maxsize && attr->size > ctx->maxsize) {
		ctx->longest_skipped = I_MAX(ctx->longest_skipped, attr->size);
		return;
	}
	struct mail_attribute *copy = array_append_space(&ctx->found);
	*copy = *attr;
	copy->key = p_strdup(cmd->pool, attr->key);
	copy->value = p_memdup(cmd->pool, attr->value, attr->size + 1);
}

/* DEPTH 1 (RFC 5464 §4.2.2): the entry and its children, not deeper. */
static bool metadata_depth_matches(enum metadata_depth depth, const char *key,
				   const char *found)
{
	if (depth != METADATA_DEPTH_1 || strcmp(found, key) == 0)
		return true;
	const char *rest = found + strlen(key) + (key[0] == '\0' ? 0 : 1);
	return strchr(rest, '/') == NULL;
}

/* Looks up one requested entry, reading into scratch (the caller clears
   it). Returns 0 or -1 (storage error set). */
static int metadata_get_entry(struct imap_cmd *cmd, struct metadata_get *ctx,
			      const struct mail_attribute_settings *set, pool_t scratch,
			      enum mail_attribute_type type, const char *key)
{
	struct mail_user *user = cmd->client->mail_user;
	if (ctx->depth == METADATA_DEPTH_0) {
		struct mail_attribute attr;
		int ret = mail_attribute_get(user, ctx->mailbox, type, key, set, scratch, &attr);
		if (ret > 0)
			metadata_get_add(cmd, ctx, &attr);
		return ret < 0 ? -1 : 0;
	}
	array_mail_attribute_t list;
	array_init(&list, scratch, 8);
	if (mail_attribute_list(user, ctx->mailbox, type, key, set, scratch, &list) < 0)
		return -1;
	for (unsigned int i = 0; i < list.count; i++) {
		if (metadata_depth_matches(ctx->depth, key, list.v[i].key))
			metadata_get_add(cmd, ctx, &list.v[i]);
	}
	return 0;
}

/* Reads every requested entry. Returns 1, 0 after a BAD or NO reply was
   sent, -1 on a storage error (the caller replies). */
static int metadata_get_collect(struct imap_cmd *cmd, struct metadata_get *ctx,
				const struct imap_arg *entries, unsigned int count)
{
	struct mail_attribute_settings set;
	metadata_settings(cmd->client, &set);
	enum mail_attribute_type *types = p_new(cmd->pool, enum mail_attribute_type, count + 1);
	const char **keys = p_new(cmd->pool, const char *, count + 1);
	/* all names are checked before anything is read */
	for (unsigned int i = 0; i < count; i++) {
		const char *error;
		if (metadata_entry_parse(&entries[i], &types[i], &keys[i], &error) < 0) {
			imap_cmd_bad(cmd, error);
			return 0;
		}
		keys[i] = p_strdup(cmd->pool, keys[i]);
	}
	if (count == 0) {
		/* nothing asked, but the mailbox must exist */
		struct mail_attribute attr;
		return mail_attribute_get(cmd->client->mail_user, ctx->mailbox,
					  MAIL_ATTRIBUTE_PRIVATE, "", &set, cmd->pool,
					  &attr) < 0 ? -1 : 1;
	}
	/* overlapping requests ("/private" and "/private/x" at DEPTH
	   infinity, or one name many times) read the same values again:
	   only what is new is kept, so memory stays at one listing plus
	   the response */
	pool_t scratch = pool_create("getmetadata scratch", 4096);
	ctx->seen = hash_table_create(cmd->pool, str_hash, str_cmp);
	int ret = 1;
	for (unsigned int i = 0; i < count && ret > 0; i++) {
		if (metadata_get_entry(cmd, ctx, &set, scratch, types[i], keys[i]) < 0)
			ret = -1;
		pool_clear(scratch);
	}
	hash_table_destroy(&ctx->seen);
	pool_destroy(&scratch);
	return ret;
}

/* RFC 5464 §5 value = nstring / literal8: only a literal8 (RFC 3516
   §4.1) carries NULs. */
static void metadata_append_value(string_t *dest, const unsigned char *value, size_t size)
{
	if (memchr(value, '\0', size) != NULL) {
		str_printfa(dest, "~{%zu}\r\n", size);
		str_append_n(dest, value, size);
	} else {
		imap_append_string(dest, value, size);
	}
}

/* Writes the METADATA response (RFC 5464 §4.4.1), pausing whenever the
   output buffer is full. Returns true when it is all written. */
static bool metadata_get_write(struct imap_cmd *cmd, struct metadata_get *ctx)
{
	struct imap_client *client = cmd->client;
	struct ostream *output = client->conn->output;
	if (!ctx->started) {
		string_t *str = t_str_new(128);
		str_append(str, "* METADATA ");
		imap_append_mailbox_name(client, str, ctx->mailbox);
		str_append(str, " (");
		o_stream_send(output, str_c(str), str_len(str));
		ctx->started = true;
	}
	while (ctx->next < ctx->found.count) {
		if (o_stream_is_full(output))
			return false;
		const struct mail_attribute *attr = &ctx->found.v[ctx->next];
		string_t *str = t_str_new(attr->size + 64);
		if (ctx->next > 0)
			str_append_c(str, ' ');
		imap_append_astring(str, mail_attribute_entry_name(attr->type, attr->key));
		str_append_c(str, ' ');
		metadata_append_value(str, attr->value, attr->size);
		o_stream_send(output, str_c(str), str_len(str));
		ctx->next++;
	}
	o_stream_send(output, ")\r\n", 3);
	return true;
}

static void metadata_get_finish(struct imap_cmd *cmd, struct metadata_get *ctx)
{
	if (ctx->longest_skipped > 0) {
		imap_cmd_finish(cmd, "OK [METADATA LONGENTRIES %llu] Getmetadata completed.",
				(unsigned long long)ctx->longest_skipped);
	} else {
		imap_cmd_finish(cmd, "OK Getmetadata completed.");
	}
}

/* Parses "[options] mailbox entries" into a new context. Returns it, or
   NULL after a BAD/NO reply. */
static struct metadata_get *metadata_get_parse(struct imap_cmd *cmd)
{
	const struct imap_arg *args = cmd->args, *list;
	struct metadata_get *ctx = p_new(cmd->pool, struct metadata_get, 1);
	unsigned int count;
	const char *error;
	/* a mailbox is never a list, so a list first holds the options */
	if (imap_arg_get_list(&args[0], &list, &count)) {
		if (metadata_parse_options(list, count, ctx, &error) < 0) {
			imap_cmd_bad(cmd, error);
			return NULL;
		}
		args++;
	}
	if (args[0].type == IMAP_ARG_EOL || args[1].type == IMAP_ARG_EOL ||
	    args[2].type != IMAP_ARG_EOL) {
		imap_cmd_bad(cmd, "GETMETADATA takes options, a mailbox and entries.");
		return NULL;
	}
	if (imap_mailbox_name_from_arg(cmd->client, &args[0], &ctx->mailbox, &error) < 0) {
		imap_cmd_fail(cmd, error);
		return NULL;
	}
	ctx->mailbox = p_strdup(cmd->pool, ctx->mailbox);
	array_init(&ctx->found, cmd->pool, 8);
	const struct imap_arg *entries = &args[1];
	if (!imap_arg_get_list(&args[1], &entries, &count))
		count = 1;
	int ret = metadata_get_collect(cmd, ctx, entries, count);
	if (ret < 0)
		imap_cmd_storage_error(cmd);
	return ret > 0 ? ctx : NULL;
}

bool imap_cmd_getmetadata(struct imap_cmd *cmd)
{
	struct metadata_get *ctx = cmd->context;
	if (ctx == NULL) {
		if (metadata_disabled(cmd) || (ctx = metadata_get_parse(cmd)) == NULL)
			return true;
		cmd->context = ctx;
		if (ctx->found.count == 0) {
			metadata_get_finish(cmd, ctx);
			return true;
		}
	}
	if (!metadata_get_write(cmd, ctx))
		return false;
	metadata_get_finish(cmd, ctx);
	return true;
}

/* --- SETMETADATA --- */

/* Replies for a failed change: RFC 5464 §4.3's response codes for the
   value size (from mail_attribute_set()) and the entry limits (from the
   commit), the storage's codes for the rest. */
static void metadata_set_error(struct imap_cmd *cmd, bool committing)
{
	struct imap_client *client = cmd->client;
	const char *text;
	enum mail_error error = mail_user_get_error(client->mail_user, &text);
	if (error == MAIL_ERROR_LIMIT && !committing) {
		imap_cmd_finish(cmd, "NO [METADATA MAXSIZE %llu] %s",
				(unsigned long long)client->set->imap.metadata_max_value_size, text);
	} else if (error == MAIL_ERROR_LIMIT) {
		imap_cmd_finish(cmd, "NO [METADATA TOOMANY] %s", text);
	} else {
		imap_cmd_storage_error(cmd);
	}
}

/* Checks the "(entry value ...)" list: returns 0, or -1 with a BAD text. */
static int metadata_set_check(const struct imap_arg *list, unsigned int count,
			      const char **error_r)
{
	if (count % 2 != 0) {
		*error_r = "Entry value missing.";
		return -1;
	}
	for (unsigned int i = 0; i < count; i += 2) {
		enum mail_attribute_type type;
		const char *key;
		if (metadata_entry_parse(&list[i], &type, &key, error_r) < 0)
			return -1;
		/* value = nstring / literal8; an atom is taken as a string,
		   as Dovecot does */
		enum imap_arg_type vtype = list[i + 1].type;
		if (vtype != IMAP_ARG_NIL && vtype != IMAP_ARG_STRING &&
		    vtype != IMAP_ARG_LITERAL && vtype != IMAP_ARG_ATOM) {
			*error_r = "Entry value must be a string, a literal or NIL.";
			return -1;
		}
	}
	return 0;
}

bool imap_cmd_setmetadata(struct imap_cmd *cmd)
{
	struct imap_client *client = cmd->client;
	const struct imap_arg *list;
	unsigned int count;
	const char *name, *error;
	if (metadata_disabled(cmd))
		return true;
	if (cmd->args[0].type == IMAP_ARG_EOL ||
	    !imap_arg_get_list(&cmd->args[1], &list, &count) ||
	    cmd->args[2].type != IMAP_ARG_EOL) {
		imap_cmd_bad(cmd, "SETMETADATA takes a mailbox and a list of entries and values.");
		return true;
	}
	if (metadata_set_check(list, count, &error) < 0) {
		imap_cmd_bad(cmd, error);
		return true;
	}
	if (imap_mailbox_name_from_arg(client, &cmd->args[0], &name, &error) < 0) {
		imap_cmd_fail(cmd, error);
		return true;
	}
	struct mail_attribute_settings set;
	metadata_settings(client, &set);
	struct mail_attribute_transaction *t =
		mail_attribute_transaction_begin(client->mail_user, name, &set);
	for (unsigned int i = 0; i < count; i += 2) {
		enum mail_attribute_type type;
		const char *key;
		const unsigned char *value = NULL;
		size_t size = 0;
		(void)metadata_entry_parse(&list[i], &type, &key, &error);
		int ret;
		if (imap_arg_is_nil(&list[i + 1]))
			ret = mail_attribute_unset(t, type, key);
		else if (imap_arg_get_data(&list[i + 1], &value, &size))
			ret = mail_attribute_set(t, type, key, value, size);
		else
			i_unreached();
		if (ret < 0) {
			mail_attribute_transaction_rollback(&t);
			metadata_set_error(cmd, false);
			return true;
		}
	}
	if (mail_attribute_transaction_commit(&t) < 0)
		metadata_set_error(cmd, true);
	else
		imap_cmd_finish(cmd, "OK Setmetadata completed.");
	return true;
}
