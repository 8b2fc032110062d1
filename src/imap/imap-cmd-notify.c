/* NOTIFY (RFC 5465 §3.1): NOTIFY NONE, and NOTIFY SET [STATUS] with event
 * groups, parsed into a spec (imap-notify.h) and checked: BAD for syntax
 * errors and the rules of §5 and §6.1, NO [BADEVENT (supported events)]
 * for events Tern can't deliver, NO [NOTIFICATIONOVERFLOW] past the
 * limits. A successful NOTIFY SET is an implicit NOOP (§3.1). */
#include "imap-commands.h"
#include "imap-arg.h"
#include "imap-notify.h"
#include "imap-storage.h"

#include <strings.h>

static const struct {
	const char *name;
	unsigned int event;
} notify_event_names[] = {
	{ "MessageNew", IMAP_NOTIFY_MESSAGE_NEW },
	{ "MessageExpunge", IMAP_NOTIFY_MESSAGE_EXPUNGE },
	{ "FlagChange", IMAP_NOTIFY_FLAG_CHANGE },
	{ "AnnotationChange", IMAP_NOTIFY_ANNOTATION_CHANGE },
	{ "MailboxName", IMAP_NOTIFY_MAILBOX_NAME },
	{ "SubscriptionChange", IMAP_NOTIFY_SUBSCRIPTION_CHANGE },
	{ "MailboxMetadataChange", IMAP_NOTIFY_MAILBOX_METADATA_CHANGE },
	{ "ServerMetadataChange", IMAP_NOTIFY_SERVER_METADATA_CHANGE },
};

static const struct {
	const char *name;
	enum imap_notify_filter filter;
	bool has_names;
} notify_filter_names[] = {
	{ "inboxes", IMAP_NOTIFY_FILTER_INBOXES, false },
	{ "personal", IMAP_NOTIFY_FILTER_PERSONAL, false },
	{ "subscribed", IMAP_NOTIFY_FILTER_SUBSCRIBED, false },
	{ "subtree", IMAP_NOTIFY_FILTER_SUBTREE, true },
	{ "mailboxes", IMAP_NOTIFY_FILTER_MAILBOXES, true },
};

struct notify_parse {
	struct imap_cmd *cmd;
	struct imap_notify_spec *spec;
	/* a reply for a failure: "BAD ..." or "NO [CANNOT] ..." */
	const char *error;
	unsigned int all_events, name_count;
};

static int notify_fail(struct notify_parse *ctx, const char *error)
{
	if (ctx->error == NULL)
		ctx->error = error;
	return -1;
}

static unsigned int notify_event_from_name(const char *name)
{
	for (unsigned int i = 0; i < N_ELEMENTS(notify_event_names); i++) {
		if (strcasecmp(name, notify_event_names[i].name) == 0)
			return notify_event_names[i].event;
	}
	/* event-ext (RFC 5465 §8): an event this server doesn't know is
	   an unsupported one, NO [BADEVENT], not a syntax error */
	return IMAP_NOTIFY_EVENT_UNKNOWN;
}

/* MessageNew's "(fetch-att ...)" (RFC 5465 §5.2). For other groups than
   the selected one the list is checked and not used: the other mailboxes
   get STATUS. */
static int notify_parse_fetch_atts(struct notify_parse *ctx, const struct imap_arg *arg,
				   bool selected)
{
	struct imap_notify_spec *spec = ctx->spec;
	fetch_items_t items;
	unsigned int used;
	const char *error;
	if (arg->type != IMAP_ARG_LIST ||
	    imap_fetch_parse_items(arg, spec->pool, true, &items, &used, &error) < 0)
		return notify_fail(ctx, "BAD Invalid MessageNew fetch attributes.");
	if (!selected)
		return 0;
	/* §5.2: a notification never sets \Seen (the client SHOULD NOT ask
	   for one that would, and gets the content without it) */
	for (unsigned int i = 0; i < items.count; i++)
		items.v[i].peek = true;
	if (ctx->cmd->client->condstore) {
		/* RFC 7162 §3.2.4: unasked FETCH responses carry MODSEQ */
		bool have = false;
		for (unsigned int i = 0; i < items.count; i++)
			have = have || items.v[i].type == FETCH_MODSEQ;
		if (!have) {
			struct fetch_item *item = array_append_space(&items);
			item->type = FETCH_MODSEQ;
			item->label = "MODSEQ";
		}
	}
	spec->new_items = items;
	spec->have_new_items = true;
	return 0;
}

/* events: "(" event *(SP event) ")" / "NONE". */
static int notify_parse_events(struct notify_parse *ctx, const struct imap_arg *arg,
			       bool selected, unsigned int *events_r)
{
	const struct imap_arg *list;
	unsigned int count;
	const char *atom;
	*events_r = 0;
	if (imap_arg_get_atom(arg, &atom) && strcasecmp(atom, "NONE") == 0)
		return 0;
	if (!imap_arg_get_list(arg, &list, &count) || count == 0)
		return notify_fail(ctx, "BAD Events must be a list or NONE.");
	for (unsigned int i = 0; i < count; i++) {
		if (!imap_arg_get_atom(&list[i], &atom) || imap_arg_is_nil(&list[i]))
			return notify_fail(ctx, "BAD Invalid event name.");
		unsigned int event = notify_event_from_name(atom);
		*events_r |= event;
		if (event == IMAP_NOTIFY_MESSAGE_NEW && list[i + 1].type == IMAP_ARG_LIST) {
			if (notify_parse_fetch_atts(ctx, &list[++i], selected) < 0)
				return -1;
		}
	}
	ctx->all_events |= *events_r;
	return 0;
}

/* RFC 5465 §5 and §6.1: what the selected group may ask for. */
static int notify_check_selected(struct notify_parse *ctx, unsigned int events)
{
	const unsigned int both = IMAP_NOTIFY_MESSAGE_NEW | IMAP_NOTIFY_MESSAGE_EXPUNGE;
	if ((events & ~(IMAP_NOTIFY_MESSAGE_EVENTS | IMAP_NOTIFY_EVENT_UNKNOWN)) != 0)
		return notify_fail(ctx, "BAD Only message events are allowed for the selected mailbox.");
	if ((events & both) != 0 && (events & both) != both)
		return notify_fail(ctx, "BAD MessageNew and MessageExpunge must be given together.");
	if ((events & (IMAP_NOTIFY_FLAG_CHANGE | IMAP_NOTIFY_ANNOTATION_CHANGE)) != 0 &&
	    (events & both) != both)
		return notify_fail(ctx, "BAD FlagChange and AnnotationChange need MessageNew "
				   "and MessageExpunge.");
	return 0;
}

/* one-or-more-mailbox: a mailbox or a non-empty list of them. */
static int notify_parse_names(struct notify_parse *ctx, const struct imap_arg *arg,
			      struct imap_notify_group *group)
{
	const struct imap_arg *list = arg;
	unsigned int count = 1;
	if (arg->type == IMAP_ARG_LIST && (!imap_arg_get_list(arg, &list, &count) || count == 0))
		return notify_fail(ctx, "BAD Empty mailbox list.");
	const char **names = p_new(ctx->spec->pool, const char *, count + 1);
	for (unsigned int i = 0; i < count; i++) {
		const char *name, *error;
		if (list[i].type == IMAP_ARG_LIST)
			return notify_fail(ctx, "BAD Invalid mailbox name.");
		if (imap_mailbox_name_from_arg(ctx->cmd->client, &list[i], &name, &error) < 0)
			return notify_fail(ctx, error);
		/* a trailing separator names the same subtree */
		size_t len = strlen(name);
		if (len > 1 && name[len - 1] == MAILBOX_HIERARCHY_SEP)
			len--;
		names[i] = p_strndup(ctx->spec->pool, name, len);
	}
	group->names = names;
	group->name_count = count;
	ctx->name_count += count;
	return 0;
}

static int notify_parse_group(struct notify_parse *ctx, const struct imap_arg *arg)
{
	struct imap_notify_spec *spec = ctx->spec;
	const struct imap_arg *list;
	unsigned int count, events;
	const char *filter;
	if (!imap_arg_get_list(arg, &list, &count) || count < 2 ||
	    !imap_arg_get_atom(&list[0], &filter))
		return notify_fail(ctx, "BAD Event groups are (filter events).");
	bool selected = strcasecmp(filter, "selected") == 0;
	if (selected || strcasecmp(filter, "selected-delayed") == 0) {
		if (count != 2)
			return notify_fail(ctx, "BAD Event groups are (filter events).");
		if (spec->selected_set)
			return notify_fail(ctx, "BAD Only one selected or selected-delayed filter "
					   "is allowed.");
		if (notify_parse_events(ctx, &list[1], true, &events) < 0 ||
		    notify_check_selected(ctx, events) < 0)
			return -1;
		spec->selected_set = true;
		spec->selected_delayed = !selected;
		spec->selected_events = events;
		return 0;
	}
	unsigned int i;
	for (i = 0; i < N_ELEMENTS(notify_filter_names); i++) {
		if (strcasecmp(filter, notify_filter_names[i].name) == 0)
			break;
	}
	if (i == N_ELEMENTS(notify_filter_names))
		return notify_fail(ctx, "BAD Unknown mailbox filter.");
	struct imap_notify_group group = { .filter = notify_filter_names[i].filter };
	unsigned int want = notify_filter_names[i].has_names ? 3 : 2;
	if (count != want)
		return notify_fail(ctx, want == 3 ? "BAD subtree and mailboxes take mailbox names." :
				   "BAD Event groups are (filter events).");
	if ((want == 3 && notify_parse_names(ctx, &list[1], &group) < 0) ||
	    notify_parse_events(ctx, &list[want - 1], false, &group.events) < 0)
		return -1;
	array_push(&spec->groups, group);
	return 0;
}

/* "SET" [status-indicator] SP event-groups; args start after SET. */
static int notify_parse_set(struct notify_parse *ctx, const struct imap_arg *args)
{
	const char *atom;
	if (imap_arg_get_atom(args, &atom) && strcasecmp(atom, "STATUS") == 0) {
		ctx->spec->send_status = true;
		args++;
	}
	if (args->type == IMAP_ARG_EOL)
		return notify_fail(ctx, "BAD NOTIFY SET needs at least one event group.");
	unsigned int groups = 0;
	for (; args->type != IMAP_ARG_EOL; args++, groups++) {
		if (groups == IMAP_NOTIFY_MAX_GROUPS)
			return notify_fail(ctx, "NO [NOTIFICATIONOVERFLOW] Too many event groups.");
		if (notify_parse_group(ctx, args) < 0)
			return -1;
	}
	return 0;
}

/* NO [BADEVENT (...)] lists the events the server supports (§3.1). */
static const char *notify_badevent_reply(unsigned int supported)
{
	string_t *str = t_str_new(128);
	str_append(str, "NO [BADEVENT (");
	for (unsigned int i = 0, n = 0; i < N_ELEMENTS(notify_event_names); i++) {
		if ((notify_event_names[i].event & supported) == 0)
			continue;
		if (n++ > 0)
			str_append_c(str, ' ');
		str_append(str, notify_event_names[i].name);
	}
	str_append(str, ")] Unsupported NOTIFY event.");
	return str_c(str);
}

static bool notify_set(struct imap_cmd *cmd, const struct imap_arg *args)
{
	struct imap_client *client = cmd->client;
	pool_t pool = pool_create("notify spec", 1024);
	struct imap_notify_spec *spec = p_new(pool, struct imap_notify_spec, 1);
	spec->pool = pool;
	array_init(&spec->groups, pool, 4);
	struct notify_parse ctx = { .cmd = cmd, .spec = spec };
	const char *reply = NULL;
	if (notify_parse_set(&ctx, args) < 0)
		reply = ctx.error;
	else if ((ctx.all_events & ~imap_notify_supported_events(client)) != 0)
		reply = notify_badevent_reply(imap_notify_supported_events(client));
	else if (ctx.name_count > IMAP_NOTIFY_MAX_NAMES)
		reply = "NO [NOTIFICATIONOVERFLOW] Too many mailbox names.";
	if (reply != NULL) {
		/* a failed NOTIFY leaves the one before in place */
		pool_destroy(&pool);
		imap_cmd_fail(cmd, reply);
		return true;
	}
	if (imap_notify_set(client, spec) < 0) {
		imap_cmd_storage_error(cmd);
		return true;
	}
	if (spec->send_status)
		imap_notify_send_status(client);
	/* §3.1: "a successful NOTIFY SET command implies an implicit NOOP" */
	imap_client_sync(client, IMAP_SYNC_FULL);
	imap_cmd_finish(cmd, "OK NOTIFY completed.");
	return true;
}

bool imap_cmd_notify(struct imap_cmd *cmd)
{
	const char *atom;
	if (!imap_arg_get_atom(&cmd->args[0], &atom)) {
		imap_cmd_bad(cmd, "NOTIFY takes SET or NONE.");
		return true;
	}
	if (strcasecmp(atom, "SET") == 0)
		return notify_set(cmd, &cmd->args[1]);
	if (strcasecmp(atom, "NONE") != 0 || cmd->args[1].type != IMAP_ARG_EOL) {
		imap_cmd_bad(cmd, "NOTIFY takes SET or NONE.");
		return true;
	}
	imap_notify_none(cmd->client);
	imap_cmd_finish(cmd, "OK NOTIFY completed.");
	return true;
}
