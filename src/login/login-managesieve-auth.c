/* AUTHENTICATE (RFC 5804 §2.1): relays the SASL exchange to the auth
 * service, challenges and responses as ManageSieve strings, maps failures
 * to response codes and, on success, hands the connection to the
 * post-login engine, which sends the OK. */
#include "login-managesieve-private.h"
#include "istream.h"

static void login_managesieve_auth_reply(const struct auth_client_reply *reply,
					 void *context);

void login_managesieve_cmd_authenticate(struct managesieve_login_client *client,
					const struct managesieve_arg *args, unsigned int count)
{
	const char *mech, *ir = NULL;
	/* auth-type is a string; some clients send an atom */
	if (count < 1 || count > 2 || (count == 2 && !managesieve_arg_get_string(&args[1], &ir))) {
		login_managesieve_send_bad(client,
			"Invalid arguments: AUTHENTICATE mechanism [initial-response].");
		return;
	}
	mech = args[0].str;
	if (login_tls_required_unmet(client->tls_mode, client->conn)) {
		login_managesieve_send_reply(client, "NO", "ENCRYPT-NEEDED",
			"TLS is required before authentication; use STARTTLS.");
		return;
	}
	if (args[0].size == 0 || strlen(mech) > LOGIN_MANAGESIEVE_MAX_MECH_LEN) {
		login_managesieve_send_reply(client, "NO", NULL,
					     "Unsupported authentication mechanism.");
		return;
	}
	size_t i;
	for (i = 0; mech[i] != '\0'; i++) {
		char c = mech[i];
		client->auth_mech[i] = (char)(c >= 'a' && c <= 'z' ? c - 32 : c);
	}
	client->auth_mech[i] = '\0';
	/* an empty initial response is "" here and "=" to the auth service */
	if (ir != NULL && ir[0] == '\0')
		ir = "=";
	struct auth_client_request_info info;
	login_auth_info_fill(&info, client->conn, "managesieve", client->auth_mech);
	client->auth_wait_client = false;
	connection_input_pause(client->conn);
	/* the reply comes from the loop; pipelined commands wait until then
	   (and then belong to the post-login engine) */
	client->auth_req = auth_client_request_begin(client->ctx->auth, &info, ir,
						     login_managesieve_auth_reply, client);
}

void login_managesieve_auth_client_line(struct managesieve_login_client *client,
					const struct managesieve_arg *args, unsigned int count)
{
	const char *response;
	client->auth_wait_client = false;
	if (count != 1 || !managesieve_arg_get_string(&args[0], &response)) {
		login_managesieve_auth_abort(client);
		login_managesieve_send_bad(client,
			"Invalid authentication response: expected one string.");
		return;
	}
	if (strcmp(response, "*") == 0) {
		/* RFC 5804 §2.1: the client cancelled; it counts as a failure,
		   so cancelling can't go on forever */
		login_managesieve_auth_abort(client);
		login_managesieve_send_reply(client, "NO", NULL, "Authentication aborted by client.");
		if (++client->auth_failures >= LOGIN_MANAGESIEVE_MAX_AUTH_FAILURES) {
			login_managesieve_send_reply(client, "BYE", NULL,
						     "Too many authentication failures.");
			connection_close(client->conn, "too many authentication failures");
		}
		return;
	}
	connection_input_pause(client->conn);
	auth_client_request_continue(client->auth_req, response);
}

void login_managesieve_auth_abort(struct managesieve_login_client *client)
{
	auth_client_request_abort(&client->auth_req);
	client->auth_wait_client = false;
}

/* The response code and text of a failed AUTHENTICATE; code may be NULL. */
static const char *login_managesieve_fail_text(struct managesieve_login_client *client,
					       const struct auth_client_reply *reply,
					       const char **code_r)
{
	*code_r = NULL;
	switch (reply->fail_code) {
	case AUTH_CLIENT_FAIL_TEMPORARY:
		*code_r = "TRYLATER";
		return "Temporary authentication failure, try again later.";
	case AUTH_CLIENT_FAIL_PLAINTEXT_INSECURE:
		*code_r = "ENCRYPT-NEEDED";
		return "Plaintext authentication is disabled on non-secure connections; use STARTTLS.";
	case AUTH_CLIENT_FAIL_MECH_UNSUPPORTED:
		return t_strdup_printf("Unsupported authentication mechanism %s.",
				       client->auth_mech);
	case AUTH_CLIENT_FAIL_MALFORMED:
		return "Invalid authentication response.";
	case AUTH_CLIENT_FAIL_ABORTED:
		return "Authentication aborted.";
	case AUTH_CLIENT_FAIL_DISABLED:
		return "Login disabled.";
	case AUTH_CLIENT_FAIL_CREDENTIALS:
		break;
	}
	return "Authentication failed.";
}

static void login_managesieve_auth_failed(struct managesieve_login_client *client,
					  const struct auth_client_reply *reply)
{
	const char *code, *text = login_managesieve_fail_text(client, reply, &code);
	login_managesieve_send_reply(client, "NO", code, text);
	if (++client->auth_failures >= LOGIN_MANAGESIEVE_MAX_AUTH_FAILURES) {
		login_managesieve_send_reply(client, "BYE", NULL, "Too many authentication failures.");
		connection_close(client->conn, "too many authentication failures");
	}
}

static void login_managesieve_auth_succeeded(struct managesieve_login_client *client,
					     const struct auth_client_reply *reply)
{
	struct connection *conn = client->conn;
	managesieve_parser_destroy(&client->parser);
	client->conn = NULL;
	login_handoff_connection(client->ctx, conn, "managesieve", reply, client->auth_mech, "",
				 login_tls_mode_offers_starttls(client->tls_mode));
	free(client);
}

static void login_managesieve_auth_reply(const struct auth_client_reply *reply, void *context)
{
	struct managesieve_login_client *client = context;
	struct connection *conn = client->conn;
	connection_ref(conn);
	switch (reply->status) {
	case AUTH_CLIENT_REPLY_CONTINUE: {
		/* RFC 5804 §2.1: the challenge is a string of its own line */
		string_t *str = t_str_new(strlen(reply->challenge) + 8);
		managesieve_quote_append_str(str, reply->challenge);
		str_append(str, "\r\n");
		o_stream_send(conn->output, str_data(str), str_len(str));
		client->auth_wait_client = true;
		break;
	}
	case AUTH_CLIENT_REPLY_FAIL:
		client->auth_req = NULL;
		login_managesieve_auth_failed(client, reply);
		break;
	case AUTH_CLIENT_REPLY_OK:
		client->auth_req = NULL;
		login_managesieve_auth_succeeded(client, reply);
		break;
	}
	/* go on with pipelined input (now the post-login engine's, after OK) */
	if (!conn->closed)
		connection_input_resume(conn);
	connection_unref(&conn);
}
