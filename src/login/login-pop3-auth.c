/* USER/PASS (RFC 1939 §7), AUTH (RFC 5034) and APOP: relays the SASL
 * exchange to the auth service, maps failures to RFC 3206 response codes
 * and, on success, hands the connection to the post-login engine. */
#include "login-pop3-private.h"
#include "base64.h"
#include "pop3-command.h"
#include "istream.h"

#define LOGIN_POP3_PLAINTEXT_DISABLED \
	"-ERR [AUTH] Plaintext authentication is disabled on non-secure connections; use STLS."
/* listener tls = required, before STLS */
#define LOGIN_POP3_TLS_REQUIRED \
	"-ERR [AUTH] TLS is required before authentication; use STLS."

static void login_pop3_auth_reply(const struct auth_client_reply *reply, void *context);

static void login_pop3_auth_start(struct pop3_login_client *client, const char *mech,
				  const char *initial_response, bool is_pass)
{
	struct auth_client_request_info info;
	i_assert(strlen(mech) <= LOGIN_POP3_MAX_MECH_LEN);
	memcpy(client->auth_mech, mech, strlen(mech) + 1);
	client->auth_wait_client = false;
	client->auth_is_pass = is_pass;
	login_auth_info_fill(&info, client->conn, "pop3", client->auth_mech);
	connection_input_pause(client->conn);
	/* the reply comes from the loop; commands pipelined behind this one
	   wait until then (and then belong to the post-login engine) */
	client->auth_req = auth_client_request_begin(client->ctx->auth, &info, initial_response,
					      login_pop3_auth_reply, client);
}

void login_pop3_cmd_user(struct pop3_login_client *client, const char *rest)
{
	if (rest[0] == '\0') {
		login_pop3_send_bad(client, "Missing argument: USER name");
		return;
	}
	if (login_tls_required_unmet(client->tls_mode, client->conn)) {
		login_pop3_send_line(client, LOGIN_POP3_TLS_REQUIRED);
		return;
	}
	if (!login_pop3_plaintext_allowed(client)) {
		login_pop3_send_line(client, LOGIN_POP3_PLAINTEXT_DISABLED);
		return;
	}
	i_free(client->user);
	client->user = i_strdup(rest);
	login_pop3_send_line(client, "+OK Send PASS now.");
}

void login_pop3_cmd_pass(struct pop3_login_client *client, const char *rest)
{
	if (client->user == NULL) {
		login_pop3_send_bad(client, "No user name given: send USER first.");
		return;
	}
	if (rest[0] == '\0') {
		login_pop3_send_bad(client, "Missing argument: PASS password");
		return;
	}
	if (!login_pop3_plaintext_allowed(client)) {
		login_pop3_send_line(client, LOGIN_POP3_PLAINTEXT_DISABLED);
		return;
	}
	/* USER/PASS is PLAIN with the two strings (RFC 4616 §2 message) */
	size_t ulen = strlen(client->user), plen = strlen(rest);
	buffer_t *msg = buffer_create(t_pool(), ulen + plen + 2);
	buffer_append_c(msg, '\0');
	buffer_append(msg, client->user, ulen);
	buffer_append_c(msg, '\0');
	buffer_append(msg, rest, plen);
	string_t *b64 = t_str_new(base64_encoded_size(msg->used) + 1);
	base64_encode(msg->data, msg->used, b64);
	explicit_bzero(msg->data, msg->used);
	/* RFC 1939 §7: after PASS, successful or not, USER starts over */
	i_free(client->user);
	login_pop3_auth_start(client, "PLAIN", str_c(b64), true);
}

static void login_pop3_auth_list(struct pop3_login_client *client)
{
	/* AUTH without a mechanism lists them (as RFC 1734 servers did;
	   some clients probe with it) */
	const char *mechs = login_auth_mechanisms(client->ctx, client->conn);
	string_t *str = t_str_new(128);
	str_append(str, "+OK\r\n");
	for (const char *p = mechs; *p != '\0'; ) {
		size_t len = strcspn(p, " ");
		if (len > 0) {
			str_append_n(str, p, len);
			str_append(str, "\r\n");
		}
		p += len;
		p += strspn(p, " ");
	}
	str_append(str, ".\r\n");
	o_stream_send(client->conn->output, str_data(str), str_len(str));
}

void login_pop3_cmd_auth(struct pop3_login_client *client, const char *rest)
{
	const char *args[POP3_MAX_ARGS];
	unsigned int count = pop3_command_split_args(rest, t_pool(), args);
	if (login_tls_required_unmet(client->tls_mode, client->conn)) {
		login_pop3_send_line(client, LOGIN_POP3_TLS_REQUIRED);
		return;
	}
	if (count == 0) {
		login_pop3_auth_list(client);
		return;
	}
	if (count > 2) {
		login_pop3_send_bad(client, "Too many arguments: AUTH mechanism [initial-response]");
		return;
	}
	if (strlen(args[0]) > LOGIN_POP3_MAX_MECH_LEN) {
		login_pop3_send_bad(client, "Unsupported authentication mechanism.");
		return;
	}
	string_t *upper = t_str_new(strlen(args[0]) + 1);
	for (const char *p = args[0]; *p != '\0'; p++)
		str_append_c(upper, (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p));
	login_pop3_auth_start(client, str_c(upper), count == 2 ? args[1] : NULL, false);
}

void login_pop3_cmd_apop(struct pop3_login_client *client, const char *rest)
{
	const char *args[POP3_MAX_ARGS];
	unsigned int count = pop3_command_split_args(rest, t_pool(), args);
	if (count != 2 || strlen(args[1]) != 32 ||
	    strspn(args[1], "0123456789abcdefABCDEF") != 32) {
		login_pop3_send_bad(client, "Invalid arguments: APOP name digest");
		return;
	}
	if (login_tls_required_unmet(client->tls_mode, client->conn)) {
		login_pop3_send_line(client, LOGIN_POP3_TLS_REQUIRED);
		return;
	}
	/* RFC 1939 §7: digest = MD5(timestamp + shared secret); no password
	   crosses the wire, so APOP is allowed without TLS */
	struct auth_client_request_info info;
	memcpy(client->auth_mech, "APOP", 5);
	client->auth_wait_client = false;
	client->auth_is_pass = true;
	login_auth_info_fill(&info, client->conn, "pop3", client->auth_mech);
	connection_input_pause(client->conn);
	client->auth_req = auth_client_request_begin_apop(client->ctx->auth, &info, args[0],
						   client->apop_challenge, args[1],
						   login_pop3_auth_reply, client);
}

void login_pop3_auth_client_line(struct pop3_login_client *client, const char *line)
{
	client->auth_wait_client = false;
	if (strcmp(line, "*") == 0) {
		/* RFC 5034 §4: the client cancelled; the AUTH fails at once
		   (and counts as a failure, so cancelling can't go on forever) */
		auth_client_request_abort(&client->auth_req);
		login_pop3_send_line(client, "-ERR Authentication aborted by client.");
		if (++client->auth_failures >= LOGIN_POP3_MAX_AUTH_FAILURES)
			connection_close(client->conn, "too many authentication failures");
		return;
	}
	connection_input_pause(client->conn);
	auth_client_request_continue(client->auth_req, line);
}

void login_pop3_auth_abort(struct pop3_login_client *client)
{
	auth_client_request_abort(&client->auth_req);
	client->auth_wait_client = false;
}

static const char *login_pop3_fail_text(struct pop3_login_client *client,
					const struct auth_client_reply *reply)
{
	switch (reply->fail_code) {
	case AUTH_CLIENT_FAIL_TEMPORARY:
		return "-ERR [SYS/TEMP] Temporary authentication failure, try again later.";
	case AUTH_CLIENT_FAIL_PLAINTEXT_INSECURE:
		return LOGIN_POP3_PLAINTEXT_DISABLED;
	case AUTH_CLIENT_FAIL_MECH_UNSUPPORTED:
		return t_strdup_printf("-ERR Unsupported authentication mechanism %s.",
				       pop3_printable(client->auth_mech));
	case AUTH_CLIENT_FAIL_MALFORMED:
		/* for PASS the "response" was built by us from its arguments */
		if (client->auth_is_pass)
			break;
		return t_strdup_printf("-ERR Invalid authentication response: %s",
				       reply->reason);
	case AUTH_CLIENT_FAIL_ABORTED:
		return "-ERR Authentication aborted by client.";
	case AUTH_CLIENT_FAIL_DISABLED:
		/* RFC 3206 §4: retrying won't help */
		return t_strdup_printf("-ERR [SYS/PERM] %s", reply->reason);
	case AUTH_CLIENT_FAIL_CREDENTIALS:
		break;
	}
	return "-ERR [AUTH] Authentication failed.";
}

static void login_pop3_auth_failed(struct pop3_login_client *client,
				   const struct auth_client_reply *reply)
{
	login_pop3_send_line(client, login_pop3_fail_text(client, reply));
	/* an unsolicited second -ERR would be taken as the reply to the next
	   pipelined command: the last failure just closes */
	if (++client->auth_failures >= LOGIN_POP3_MAX_AUTH_FAILURES)
		connection_close(client->conn, "too many authentication failures");
}

static void login_pop3_auth_succeeded(struct pop3_login_client *client,
				      const struct auth_client_reply *reply)
{
	struct connection *conn = client->conn;
	line_reader_destroy(&client->reader);
	i_free(client->user);
	client->conn = NULL;
	login_handoff_connection(client->ctx, conn, "pop3", reply, client->auth_mech, "",
				 login_tls_mode_offers_starttls(client->tls_mode));
	free(client);
}

static void login_pop3_auth_reply(const struct auth_client_reply *reply, void *context)
{
	struct pop3_login_client *client = context;
	struct connection *conn = client->conn;
	connection_ref(conn);
	switch (reply->status) {
	case AUTH_CLIENT_REPLY_CONTINUE:
		/* RFC 5034 §4: "+", a space and the base64 challenge */
		o_stream_printf(conn->output, "+ %s\r\n", reply->challenge);
		client->auth_wait_client = true;
		break;
	case AUTH_CLIENT_REPLY_FAIL:
		client->auth_req = NULL;
		login_pop3_auth_failed(client, reply);
		break;
	case AUTH_CLIENT_REPLY_OK:
		client->auth_req = NULL;
		login_pop3_auth_succeeded(client, reply);
		break;
	}
	/* go on with pipelined input (now the post-login engine's, after OK) */
	if (!conn->closed)
		connection_input_resume(conn);
	connection_unref(&conn);
}
