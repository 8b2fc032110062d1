/* LOGIN and AUTHENTICATE (RFC 9051 §6.2.2, §6.2.3; SASL-IR: RFC 4959):
 * relays the SASL exchange to the auth service and, on success, hands the
 * connection to the post-login engine. */
#include "login-imap-private.h"
#include "base64.h"
#include "imap-arg.h"
#include "imap-quote.h"
#include "istream.h"

/* listener tls = required, before STARTTLS */
#define LOGIN_IMAP_TLS_REQUIRED \
	"NO [PRIVACYREQUIRED] TLS is required before authentication; use STARTTLS."

static void login_imap_auth_reply(const struct auth_reply *reply, void *context);

static void login_imap_auth_start(struct imap_login_client *client, const char *tag,
				  const char *mech, const char *initial_response)
{
	struct auth_request_info info;
	/* malloc, not the connection pool: a connection may log in again
	   and again (UNAUTHENTICATE), the pool would only grow */
	i_free(client->auth_tag);
	i_free(client->auth_mech);
	client->auth_tag = i_strdup(tag);
	client->auth_mech = i_strdup(mech);
	client->auth_wait_client = false;
	client->auth_is_login = false;
	login_auth_info_fill(&info, client->conn, "imap", client->auth_mech);
	connection_input_pause(client->conn);
	/* the reply comes from the loop; commands pipelined behind this one
	   wait until then */
	client->auth_req = auth_request_begin(client->ctx->auth, &info, initial_response,
					      login_imap_auth_reply, client);
}

void login_imap_cmd_login(struct imap_login_client *client, const char *tag,
			  const struct imap_arg *args)
{
	const char *user, *password;
	if (!imap_arg_get_astring(&args[0], &user) ||
	    !imap_arg_get_astring(&args[1], &password) || args[2].type != IMAP_ARG_EOL) {
		login_imap_send_tagged(client, tag, "BAD Invalid arguments: LOGIN user password");
		return;
	}
	if (login_tls_required_unmet(client->tls_mode, client->conn)) {
		login_imap_send_tagged(client, tag, LOGIN_IMAP_TLS_REQUIRED);
		return;
	}
	if (!login_imap_plaintext_allowed(client)) {
		login_imap_send_tagged(client, tag,
			"NO [PRIVACYREQUIRED] Plaintext authentication is disabled on non-secure connections; use STARTTLS.");
		return;
	}
	/* LOGIN is PLAIN with the two strings (RFC 4616 §2 message format) */
	size_t ulen = strlen(user), plen = strlen(password);
	buffer_t *msg = buffer_create(t_pool(), ulen + plen + 2);
	buffer_append_c(msg, '\0');
	buffer_append(msg, user, ulen);
	buffer_append_c(msg, '\0');
	buffer_append(msg, password, plen);
	string_t *b64 = t_str_new(base64_encoded_size(msg->used) + 1);
	base64_encode(msg->data, msg->used, b64);
	login_imap_auth_start(client, tag, "PLAIN", str_c(b64));
	client->auth_is_login = true;
}

void login_imap_cmd_authenticate(struct imap_login_client *client, const char *tag,
				 const struct imap_arg *args)
{
	const char *mech, *ir = NULL;
	if (!imap_arg_get_atom(&args[0], &mech) ||
	    (args[1].type != IMAP_ARG_EOL &&
	     (!imap_arg_get_atom(&args[1], &ir) || args[2].type != IMAP_ARG_EOL))) {
		login_imap_send_tagged(client, tag, "BAD Invalid arguments: AUTHENTICATE mechanism [initial-response]");
		return;
	}
	if (login_tls_required_unmet(client->tls_mode, client->conn)) {
		login_imap_send_tagged(client, tag, LOGIN_IMAP_TLS_REQUIRED);
		return;
	}
	string_t *upper = t_str_new(strlen(mech) + 1);
	for (const char *p = mech; *p != '\0'; p++)
		str_append_c(upper, (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p));
	login_imap_auth_start(client, tag, str_c(upper), ir);
}

void login_imap_auth_client_line(struct imap_login_client *client, const char *line)
{
	client->auth_wait_client = false;
	connection_input_pause(client->conn);
	if (strcmp(line, "*") == 0) {
		connection_input_resume(client->conn);
		/* RFC 9051 §6.2.2: the client cancelled */
		auth_request_abort(&client->auth_req);
		login_imap_send_tagged(client, client->auth_tag, "BAD Authentication aborted by client.");
		imap_command_reader_next(client->reader);
		return;
	}
	auth_request_continue(client->auth_req, line);
}

void login_imap_auth_abort(struct imap_login_client *client)
{
	auth_request_abort(&client->auth_req);
}

static const char *login_imap_fail_text(struct imap_login_client *client,
					const struct auth_reply *reply)
{
	switch (reply->fail_code) {
	case AUTH_FAIL_TEMPORARY:
		return "NO [UNAVAILABLE] Temporary authentication failure, try again later.";
	case AUTH_FAIL_PLAINTEXT_INSECURE:
		return "NO [PRIVACYREQUIRED] Plaintext authentication is disabled on non-secure connections.";
	case AUTH_FAIL_MECH_UNSUPPORTED:
		return t_strdup_printf("NO [CANNOT] Unsupported authentication mechanism %s.",
				       client->auth_mech);
	case AUTH_FAIL_MALFORMED:
		/* for LOGIN the "response" was built by us from its arguments */
		if (client->auth_is_login)
			break;
		return "BAD Invalid authentication response.";
	case AUTH_FAIL_ABORTED:
		return "BAD Authentication aborted.";
	case AUTH_FAIL_DISABLED:
		/* RFC 2221 §4.1: a login referral sends the client to the
		   server that has the user now */
		if (reply->referral != NULL &&
		    imap_resp_code_text_is_valid(reply->referral))
			return t_strdup_printf("NO [REFERRAL %s] Try this server instead.",
					       reply->referral);
		return "NO [AUTHORIZATIONFAILED] Login disabled.";
	case AUTH_FAIL_CREDENTIALS:
		break;
	}
	return "NO [AUTHENTICATIONFAILED] Authentication failed.";
}

static void login_imap_auth_failed(struct imap_login_client *client,
				   const struct auth_reply *reply)
{
	login_imap_send_tagged(client, client->auth_tag, login_imap_fail_text(client, reply));
	imap_command_reader_next(client->reader);
	if (++client->auth_failures >= LOGIN_IMAP_MAX_AUTH_FAILURES) {
		o_stream_send_str(client->conn->output, "* BYE Too many authentication failures.\r\n");
		connection_close(client->conn, "too many authentication failures");
	}
}

static void login_imap_auth_succeeded(struct imap_login_client *client,
				      const struct auth_reply *reply)
{
	struct connection *conn = client->conn;
	/* the tag lives in the connection pool, the reader goes with us */
	imap_command_reader_destroy(&client->reader);
	client->conn = NULL;
	login_handoff_connection(client->ctx, conn, "imap", reply, client->auth_mech,
				 client->auth_tag, login_tls_mode_offers_starttls(client->tls_mode));
	i_free(client->auth_tag);
	i_free(client->auth_mech);
	free(client);
}

static void login_imap_auth_reply(const struct auth_reply *reply, void *context)
{
	struct imap_login_client *client = context;
	struct connection *conn = client->conn;
	connection_ref(conn);
	switch (reply->status) {
	case AUTH_REPLY_CONTINUE:
		o_stream_printf(conn->output, "+ %s\r\n", reply->challenge);
		client->auth_wait_client = true;
		break;
	case AUTH_REPLY_FAIL:
		client->auth_req = NULL;
		login_imap_auth_failed(client, reply);
		break;
	case AUTH_REPLY_OK:
		client->auth_req = NULL;
		login_imap_auth_succeeded(client, reply);
		break;
	}
	/* go on with pipelined input (now the post-login engine's, after OK) */
	if (!conn->closed)
		connection_input_resume(conn);
	connection_unref(&conn);
}
