/* The TRANSACTION state commands (RFC 1939 §5, §7; CAPA: RFC 2449 §5) and
 * the table that dispatches them. Commands of the AUTHORIZATION state get
 * a clear -ERR saying so. QUIT enters the UPDATE state (RFC 1939 §6). */
#include "pop3-client.h"
#include "pop3-capability.h"
#include "pop3-command.h"

struct pop3_command {
	const char *name;
	void (*func)(struct pop3_client *client, const char *name, const char *rest);
};

/* Splits rest into args_r and checks the count. Returns the count, or -1
   after replying. usage is "CMD args" for the error text. */
static int pop3_args(struct pop3_client *client, const char *rest, unsigned int min,
		     unsigned int max, const char *usage, const char *args_r[POP3_MAX_ARGS])
{
	unsigned int count = pop3_command_split_args(rest, t_pool(), args_r);
	if (count < min) {
		pop3_client_send_bad(client, t_strdup_printf("Missing argument: %s", usage));
		return -1;
	}
	if (count > max) {
		pop3_client_send_bad(client, max == 0 ?
			t_strdup_printf("%s takes no arguments.", usage) :
			t_strdup_printf("Too many arguments: %s", usage));
		return -1;
	}
	return (int)count;
}

/* Finds the message numbered by arg. Returns it, or NULL after replying:
   a number that isn't one counts as a bad command, one that names no
   message (or a deleted one, RFC 1939 §5) is an ordinary error. */
static struct pop3_message *pop3_arg_message(struct pop3_client *client, const char *arg)
{
	uint32_t num;
	if (pop3_parse_number(arg, &num) < 0) {
		pop3_client_send_bad(client, t_strdup_printf("Invalid message number: %s",
							     pop3_printable(arg)));
		return NULL;
	}
	if (num == 0 || num > client->count) {
		pop3_client_send_line(client, t_strdup_printf(
			"-ERR There is no message %u (the maildrop has %u).", num, client->count));
		return NULL;
	}
	struct pop3_message *msg = &client->msgs[num - 1];
	if (msg->deleted) {
		pop3_client_send_line(client, t_strdup_printf("-ERR Message %u is deleted.", num));
		return NULL;
	}
	return msg;
}

static uint32_t pop3_msg_num(struct pop3_client *client, const struct pop3_message *msg)
{
	return (uint32_t)(msg - client->msgs) + 1;
}

static void cmd_stat(struct pop3_client *client, const char *name, const char *rest)
{
	const char *args[POP3_MAX_ARGS];
	if (pop3_args(client, rest, 0, 0, "STAT", args) < 0)
		return;
	pop3_client_send_line(client, t_strdup_printf("+OK %u %llu",
		client->count - client->deleted_count,
		(unsigned long long)(client->total_size - client->deleted_size)));
}

/* LIST and UIDL without an argument: one line per message not deleted. */
static bool pop3_list_continue(struct pop3_client *client, bool uidl)
{
	string_t *line = t_str_new(128);
	while (client->list_next < client->count) {
		if (o_stream_is_full(client->conn->output) ||
		    o_stream_is_failed(client->conn->output))
			return false;
		const struct pop3_message *msg = &client->msgs[client->list_next++];
		if (msg->deleted)
			continue;
		str_truncate(line, 0);
		if (uidl)
			str_printfa(line, "%u %s\r\n", pop3_msg_num(client, msg),
				    pop3_maildrop_uidl(client, msg));
		else
			str_printfa(line, "%u %llu\r\n", pop3_msg_num(client, msg),
				    (unsigned long long)msg->size);
		o_stream_send(client->conn->output, str_data(line), str_len(line));
	}
	pop3_client_send_line(client, ".");
	return true;
}

static bool pop3_list_sizes_continue(struct pop3_client *client)
{
	return pop3_list_continue(client, false);
}

static bool pop3_list_uidls_continue(struct pop3_client *client)
{
	return pop3_list_continue(client, true);
}

static void cmd_list(struct pop3_client *client, const char *name, const char *rest)
{
	const char *args[POP3_MAX_ARGS];
	int count = pop3_args(client, rest, 0, 1, "LIST [msg]", args);
	if (count < 0)
		return;
	if (count == 1) {
		struct pop3_message *msg = pop3_arg_message(client, args[0]);
		if (msg != NULL)
			pop3_client_send_line(client, t_strdup_printf("+OK %u %llu",
				pop3_msg_num(client, msg), (unsigned long long)msg->size));
		return;
	}
	pop3_client_send_line(client, t_strdup_printf("+OK %u messages (%llu octets)",
		client->count - client->deleted_count,
		(unsigned long long)(client->total_size - client->deleted_size)));
	client->list_next = 0;
	client->cmd_continue = pop3_list_sizes_continue;
}

static void cmd_uidl(struct pop3_client *client, const char *name, const char *rest)
{
	const char *args[POP3_MAX_ARGS];
	int count = pop3_args(client, rest, 0, 1, "UIDL [msg]", args);
	if (count < 0)
		return;
	if (count == 1) {
		struct pop3_message *msg = pop3_arg_message(client, args[0]);
		if (msg != NULL)
			pop3_client_send_line(client, t_strdup_printf("+OK %u %s",
				pop3_msg_num(client, msg), pop3_maildrop_uidl(client, msg)));
		return;
	}
	pop3_client_send_line(client, "+OK Unique-ID listing follows");
	client->list_next = 0;
	client->cmd_continue = pop3_list_uidls_continue;
}

static void cmd_retr(struct pop3_client *client, const char *name, const char *rest)
{
	const char *args[POP3_MAX_ARGS];
	if (pop3_args(client, rest, 1, 1, "RETR msg", args) < 0)
		return;
	struct pop3_message *msg = pop3_arg_message(client, args[0]);
	if (msg != NULL)
		pop3_retr_start(client, msg, POP3_ENCODER_ALL_LINES);
}

static void cmd_top(struct pop3_client *client, const char *name, const char *rest)
{
	const char *args[POP3_MAX_ARGS];
	uint32_t lines;
	if (pop3_args(client, rest, 2, 2, "TOP msg lines", args) < 0)
		return;
	if (pop3_parse_number(args[1], &lines) < 0) {
		pop3_client_send_bad(client, t_strdup_printf(
			"Invalid number of lines: %s (TOP msg lines)", pop3_printable(args[1])));
		return;
	}
	struct pop3_message *msg = pop3_arg_message(client, args[0]);
	if (msg != NULL)
		pop3_retr_start(client, msg, lines);
}

static void cmd_dele(struct pop3_client *client, const char *name, const char *rest)
{
	const char *args[POP3_MAX_ARGS];
	if (pop3_args(client, rest, 1, 1, "DELE msg", args) < 0)
		return;
	struct pop3_message *msg = pop3_arg_message(client, args[0]);
	if (msg == NULL)
		return;
	/* RFC 1939 §5: only marked; removed in the UPDATE state */
	msg->deleted = true;
	client->deleted_count++;
	client->deleted_size += msg->size;
	pop3_client_send_line(client, t_strdup_printf("+OK Message %u deleted.",
						      pop3_msg_num(client, msg)));
}

static void cmd_rset(struct pop3_client *client, const char *name, const char *rest)
{
	const char *args[POP3_MAX_ARGS];
	if (pop3_args(client, rest, 0, 0, "RSET", args) < 0)
		return;
	for (uint32_t i = 0; i < client->count; i++)
		client->msgs[i].deleted = false;
	client->deleted_count = 0;
	client->deleted_size = 0;
	pop3_client_send_line(client, t_strdup_printf("+OK Maildrop has %u messages (%llu octets).",
		client->count, (unsigned long long)client->total_size));
}

static void cmd_noop(struct pop3_client *client, const char *name, const char *rest)
{
	const char *args[POP3_MAX_ARGS];
	if (pop3_args(client, rest, 0, 0, "NOOP", args) >= 0)
		pop3_client_send_line(client, "+OK");
}

static void cmd_quit(struct pop3_client *client, const char *name, const char *rest)
{
	const char *args[POP3_MAX_ARGS];
	if (pop3_args(client, rest, 0, 0, "QUIT", args) < 0)
		return;
	/* RFC 1939 §6: the UPDATE state */
	client->quit = true;
	if (pop3_maildrop_update(client) < 0) {
		pop3_client_send_line(client, "-ERR [SYS/TEMP] Some deleted messages were not removed.");
		return;
	}
	if (client->deleted_count == 0)
		pop3_client_send_line(client, "+OK Logging out.");
	else
		pop3_client_send_line(client, t_strdup_printf("+OK Logging out, %u messages deleted.",
							      client->deleted_count));
}

static void cmd_capa(struct pop3_client *client, const char *name, const char *rest)
{
	const char *args[POP3_MAX_ARGS];
	if (pop3_args(client, rest, 0, 0, "CAPA", args) < 0)
		return;
	struct pop3_capability_opts opts = {
		.authenticated = true,
		.login_delay_secs = client->set->pop3.login_delay_ms / 1000,
	};
	string_t *str = t_str_new(256);
	str_append(str, "+OK Capability list follows\r\n");
	pop3_capability_append(str, &opts);
	str_append(str, ".\r\n");
	o_stream_send(client->conn->output, str_data(str), str_len(str));
}

static void cmd_authorization_only(struct pop3_client *client, const char *name,
				   const char *rest)
{
	pop3_client_send_bad(client, t_strdup_printf(
		"Already logged in: %s is valid only in the AUTHORIZATION state.", name));
}

static const struct pop3_command pop3_commands[] = {
	{ "APOP", cmd_authorization_only },
	{ "AUTH", cmd_authorization_only },
	{ "CAPA", cmd_capa },
	{ "DELE", cmd_dele },
	{ "LIST", cmd_list },
	{ "NOOP", cmd_noop },
	{ "PASS", cmd_authorization_only },
	{ "QUIT", cmd_quit },
	{ "RETR", cmd_retr },
	{ "RSET", cmd_rset },
	{ "STAT", cmd_stat },
	{ "STLS", cmd_authorization_only },
	{ "TOP", cmd_top },
	{ "UIDL", cmd_uidl },
	{ "USER", cmd_authorization_only },
	{ "UTF8", cmd_authorization_only },
};

void pop3_client_command(struct pop3_client *client, const char *line)
{
	struct pop3_command_line cmd;
	if (line[0] == '\0') {
		pop3_client_send_bad(client, "Empty command line.");
		return;
	}
	if (pop3_command_parse(line, &cmd) < 0) {
		pop3_client_send_bad(client, t_strdup_printf("Unknown command: %s",
			pop3_printable(t_strndup(line, strcspn(line, " ")))));
		return;
	}
	for (unsigned int i = 0; i < N_ELEMENTS(pop3_commands); i++) {
		if (strcmp(pop3_commands[i].name, cmd.name) == 0) {
			pop3_commands[i].func(client, cmd.name, cmd.rest);
			return;
		}
	}
	pop3_client_send_bad(client, t_strdup_printf("Unknown command: %s", cmd.name));
}
