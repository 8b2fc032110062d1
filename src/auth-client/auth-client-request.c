/* Authentication requests over the auth client connection: AUTH, CONT and
 * CANCEL out, OK, CONT and FAIL in, with the same guarantees as the
 * in-process auth-request API (replies only from the event loop, abort
 * allowed anywhere). Requests queue while the connection is down and fail
 * temporarily when it stays down or dies under them. */
#include "auth-client-private.h"
#include "base64.h"
#include "log.h"
#include "strnum.h"

#include <unistd.h>

#define AUTH_CLIENT_REASON_UNAVAILABLE "Authentication service unavailable."
#define AUTH_CLIENT_REASON_TIMEOUT "Authentication service timed out."
#define AUTH_CLIENT_REASON_FAILED "Authentication failed."

static const struct {
	const char *name;
	enum auth_client_fail_code code;
} auth_client_fail_codes[] = {
	{ AUTH_PROTO_CODE_TEMP_FAIL, AUTH_CLIENT_FAIL_TEMPORARY },
	{ AUTH_PROTO_CODE_USER_DISABLED, AUTH_CLIENT_FAIL_DISABLED },
	{ AUTH_PROTO_CODE_MECH_SSL_REQUIRED, AUTH_CLIENT_FAIL_PLAINTEXT_INSECURE },
	{ AUTH_PROTO_CODE_MECH_INVALID, AUTH_CLIENT_FAIL_MECH_UNSUPPORTED },
	{ AUTH_PROTO_CODE_INVALID_BASE64, AUTH_CLIENT_FAIL_MALFORMED },
	{ AUTH_PROTO_CODE_MALFORMED, AUTH_CLIENT_FAIL_MALFORMED },
	{ AUTH_PROTO_CODE_ABORTED, AUTH_CLIENT_FAIL_ABORTED },
	/* wrong authzid and expired passwords are bad credentials to us */
	{ AUTH_PROTO_CODE_AUTHZ_FAIL, AUTH_CLIENT_FAIL_CREDENTIALS },
	{ AUTH_PROTO_CODE_PASS_EXPIRED, AUTH_CLIENT_FAIL_CREDENTIALS },
};

static void *auth_client_id_key(unsigned int id)
{
	/* +1: a key is never NULL */
	return (void *)((uintptr_t)id + 1);
}

static void auth_client_request_free(struct auth_client_request *req)
{
	struct auth_client *client = req->client;

	timeout_remove(&req->to);
	if (req->line != NULL) {
		explicit_bzero(req->line, strlen(req->line));
		i_free(req->line);
	}
	hash_table_remove(client->requests, auth_client_id_key(req->id));
	if (req->prev != NULL)
		req->prev->next = req->next;
	else
		client->request_list = req->next;
	if (req->next != NULL)
		req->next->prev = req->prev;
	client->request_count--;
	free(req);
}

void auth_client_requests_free_all(struct auth_client *client)
{
	while (client->request_list != NULL)
		auth_client_request_free(client->request_list);
}

static void auth_client_request_deliver(struct auth_client_request *req,
					const struct auth_client_reply *reply)
{
	req->in_callback = true;
	req->cb(reply, req->context);
	req->in_callback = false;
	if (reply->status != AUTH_CLIENT_REPLY_CONTINUE || req->aborted)
		auth_client_request_free(req);
}

static void auth_client_request_local_reply(void *context)
{
	struct auth_client_request *req = context;
	struct auth_client_reply reply = {
		.status = AUTH_CLIENT_REPLY_FAIL,
		.reason = req->fail_reason,
		.fail_code = req->fail_code,
		.temporary = req->fail_code == AUTH_CLIENT_FAIL_TEMPORARY,
	};

	req->to = NULL;
	auth_client_request_deliver(req, &reply);
}

/* Fails req from the loop: the callback never runs under the caller. */
static void auth_client_request_fail_later(struct auth_client_request *req,
					   enum auth_client_fail_code code,
					   const char *reason)
{
	timeout_remove(&req->to);
	req->state = AUTH_CLIENT_REQUEST_FINISHED;
	req->fail_code = code;
	req->fail_reason = reason;
	req->to = timeout_add_once(0, auth_client_request_local_reply, req);
}

static void auth_client_request_reply_timeout(void *context)
{
	struct auth_client_request *req = context;
	struct auth_client *client = req->client;

	req->to = NULL;
	log_warning(NULL, "auth_client_timeout", "id=%u", req->id);
	/* the auth process may still be working on it: tell it to stop */
	if (client->state == AUTH_CLIENT_STATE_READY)
		auth_client_send(client, t_strdup_printf("CANCEL\t%u\n", req->id));
	auth_client_request_fail_later(req, AUTH_CLIENT_FAIL_TEMPORARY,
				       AUTH_CLIENT_REASON_TIMEOUT);
}

static void auth_client_request_queue_timeout(void *context)
{
	struct auth_client_request *req = context;

	req->to = NULL;
	auth_client_request_fail_later(req, AUTH_CLIENT_FAIL_TEMPORARY,
				       AUTH_CLIENT_REASON_UNAVAILABLE);
}

/* Sends line for req and waits for the server's reply. */
static void auth_client_request_send(struct auth_client_request *req, const char *line)
{
	struct auth_client *client = req->client;

	timeout_remove(&req->to);
	req->state = AUTH_CLIENT_REQUEST_SENT;
	auth_client_send(client, line);
	req->to = timeout_add_once(client->set.request_timeout_ms,
				   auth_client_request_reply_timeout, req);
}

void auth_client_requests_send_queued(struct auth_client *client)
{
	for (struct auth_client_request *req = client->request_list; req != NULL;
	     req = req->next) {
		if (req->state != AUTH_CLIENT_REQUEST_QUEUED)
			continue;
		auth_client_request_send(req, req->line);
		explicit_bzero(req->line, strlen(req->line));
		i_free(req->line);
	}
}

void auth_client_requests_connection_lost(struct auth_client *client, bool can_reconnect)
{
	for (struct auth_client_request *req = client->request_list; req != NULL;
	     req = req->next) {
		switch (req->state) {
		case AUTH_CLIENT_REQUEST_QUEUED:
			if (can_reconnect)
				break;
			/* fall through */
		case AUTH_CLIENT_REQUEST_SENT:
		case AUTH_CLIENT_REQUEST_WAIT_CLIENT:
			auth_client_request_fail_later(req, AUTH_CLIENT_FAIL_TEMPORARY,
						       AUTH_CLIENT_REASON_UNAVAILABLE);
			break;
		case AUTH_CLIENT_REQUEST_FINISHED:
			break;
		}
	}
}

static unsigned int auth_client_next_id(struct auth_client *client)
{
	/* ids stay unique for the client's life (until 2^32 wraps, and
	   then skip those still in use), so a late reply for a request
	   that was cancelled or lost never reaches another one */
	do {
		client->next_id++;
	} while (client->next_id == 0 ||
		 hash_table_lookup(client->requests, auth_client_id_key(client->next_id)) != NULL);
	return client->next_id;
}

static struct auth_client_request *
auth_client_request_new(struct auth_client *client, auth_client_reply_callback_t *cb,
			void *context)
{
	struct auth_client_request *req = i_zalloc(sizeof(*req));

	req->client = client;
	req->cb = cb;
	req->context = context;
	req->id = auth_client_next_id(client);
	hash_table_insert(client->requests, auth_client_id_key(req->id), req);
	req->next = client->request_list;
	if (client->request_list != NULL)
		client->request_list->prev = req;
	client->request_list = req;
	client->request_count++;
	return req;
}

static void auth_client_append_param(string_t *str, const char *key, const char *value)
{
	if (value == NULL || value[0] == '\0')
		return;
	str_printfa(str, "\t%s=", key);
	auth_proto_escape(str, value);
}

static const char *auth_client_auth_line(unsigned int id,
					 const struct auth_client_request_info *info,
					 const char *mech, const char *initial_response)
{
	string_t *str = t_str_new(256 + (initial_response == NULL ? 0 :
					   strlen(initial_response)));

	str_printfa(str, "AUTH\t%u\t", id);
	auth_proto_escape(str, mech);
	str_append(str, "\tservice=");
	auth_proto_escape(str, info->protocol == NULL ? "" : info->protocol);
	auth_client_append_param(str, "session", info->session_id);
	auth_client_append_param(str, "lip", info->local_ip);
	auth_client_append_param(str, "rip", info->remote_ip);
	if (info->local_port != 0)
		str_printfa(str, "\tlport=%u", info->local_port);
	if (info->remote_port != 0)
		str_printfa(str, "\trport=%u", info->remote_port);
	if (info->secured)
		str_append(str, "\tsecured");
	if (info->nologin)
		str_append(str, "\tnologin");
	if (info->cert_username != NULL) {
		str_append(str, "\tvalid-client-cert");
		auth_client_append_param(str, "cert_username", info->cert_username);
	}
	if (info->channel_binding_size > 0) {
		str_append(str, "\tcbind=");
		base64_encode(info->channel_binding, info->channel_binding_size, str);
	}
	if (initial_response != NULL) {
		/* "=" is an empty initial response (RFC 4959); on the wire
		   that is an empty resp= */
		str_append(str, "\tresp=");
		if (strcmp(initial_response, "=") != 0)
			auth_proto_escape(str, initial_response);
	}
	str_append_c(str, '\n');
	return str_c(str);
}

static struct auth_client_request *
auth_client_request_start(struct auth_client *client,
			  const struct auth_client_request_info *info, const char *mech,
			  const char *initial_response,
			  auth_client_reply_callback_t *cb, void *context)
{
	struct auth_client_request *req = auth_client_request_new(client, cb, context);

	if (client->request_count > client->set.max_requests) {
		auth_client_request_fail_later(req, AUTH_CLIENT_FAIL_TEMPORARY,
					       AUTH_CLIENT_REASON_UNAVAILABLE);
		return req;
	}
	const char *line = auth_client_auth_line(req->id, info, mech, initial_response);
	if (strlen(line) > AUTH_PROTO_MAX_LINE_LENGTH) {
		/* the auth process would drop the whole connection (and every
		   other client's login on it) for an over-long line */
		auth_client_request_fail_later(req, AUTH_CLIENT_FAIL_MALFORMED,
					       "Authentication response too long.");
	} else if (client->state == AUTH_CLIENT_STATE_READY) {
		auth_client_request_send(req, line);
	} else if (client->socket_path != NULL ||
		   client->state == AUTH_CLIENT_STATE_HANDSHAKE) {
		req->state = AUTH_CLIENT_REQUEST_QUEUED;
		req->line = i_strdup(line);
		req->to = timeout_add_once(client->set.queue_timeout_ms,
					   auth_client_request_queue_timeout, req);
	} else {
		auth_client_request_fail_later(req, AUTH_CLIENT_FAIL_TEMPORARY,
					       AUTH_CLIENT_REASON_UNAVAILABLE);
	}
	/* the line may hold a password */
	explicit_bzero((void *)line, strlen(line));
	return req;
}

struct auth_client_request *
auth_client_request_begin(struct auth_client *client,
			  const struct auth_client_request_info *info,
			  const char *initial_response,
			  auth_client_reply_callback_t *cb, void *context)
{
	return auth_client_request_start(client, info, info->mech == NULL ? "" : info->mech,
					 initial_response, cb, context);
}

struct auth_client_request *
auth_client_request_begin_apop(struct auth_client *client,
			       const struct auth_client_request_info *info,
			       const char *user, const char *challenge, const char *digest,
			       auth_client_reply_callback_t *cb, void *context)
{
	/* the APOP "mechanism": challenge NUL user NUL digest */
	buffer_t *msg = buffer_create(t_pool(), 128);
	buffer_append(msg, challenge, strlen(challenge));
	buffer_append_c(msg, '\0');
	buffer_append(msg, user, strlen(user));
	buffer_append_c(msg, '\0');
	buffer_append(msg, digest, strlen(digest));
	string_t *b64 = t_str_new(base64_encoded_size(msg->used) + 1);
	base64_encode(msg->data, msg->used, b64);
	return auth_client_request_start(client, info, "APOP", str_c(b64), cb, context);
}

void auth_client_request_continue(struct auth_client_request *req, const char *response)
{
	struct auth_client *client = req->client;

	/* the connection died while the client was typing: the FAIL is
	   already on its way */
	if (req->state == AUTH_CLIENT_REQUEST_FINISHED)
		return;
	i_assert(req->state == AUTH_CLIENT_REQUEST_WAIT_CLIENT);
	if (client->state != AUTH_CLIENT_STATE_READY) {
		auth_client_request_fail_later(req, AUTH_CLIENT_FAIL_TEMPORARY,
					       AUTH_CLIENT_REASON_UNAVAILABLE);
		return;
	}
	string_t *str = t_str_new(strlen(response) + 32);
	str_printfa(str, "CONT\t%u\t", req->id);
	auth_proto_escape(str, response);
	str_append_c(str, '\n');
	if (str_len(str) > AUTH_PROTO_MAX_LINE_LENGTH) {
		/* as in auth_client_request_start(); the server forgets it */
		auth_client_send(client, t_strdup_printf("CANCEL\t%u\n", req->id));
		auth_client_request_fail_later(req, AUTH_CLIENT_FAIL_MALFORMED,
					       "Authentication response too long.");
	} else {
		auth_client_request_send(req, str_c(str));
	}
	explicit_bzero(str->data, str->used);
}

void auth_client_request_abort(struct auth_client_request **_req)
{
	struct auth_client_request *req = *_req;

	if (req == NULL)
		return;
	*_req = NULL;
	if ((req->state == AUTH_CLIENT_REQUEST_SENT ||
	     req->state == AUTH_CLIENT_REQUEST_WAIT_CLIENT) &&
	    req->client->state == AUTH_CLIENT_STATE_READY && !req->aborted)
		auth_client_send(req->client, t_strdup_printf("CANCEL\t%u\n", req->id));
	if (req->in_callback) {
		/* freed when the callback returns */
		req->aborted = true;
		req->state = AUTH_CLIENT_REQUEST_FINISHED;
		return;
	}
	auth_client_request_free(req);
}

static enum auth_client_fail_code auth_client_fail_code_parse(const char *name)
{
	for (unsigned int i = 0; i < N_ELEMENTS(auth_client_fail_codes); i++) {
		if (strcmp(auth_client_fail_codes[i].name, name) == 0)
			return auth_client_fail_codes[i].code;
	}
	return AUTH_CLIENT_FAIL_CREDENTIALS;
}

static void auth_client_reply_parse_fail(struct auth_client_reply *reply,
					 const char *const *args, unsigned int count)
{
	const char *value;

	reply->reason = AUTH_CLIENT_REASON_FAILED;
	for (unsigned int i = 2; i < count; i++) {
		if ((value = auth_proto_arg_value(args[i], "reason")) != NULL)
			reply->reason = value;
		else if ((value = auth_proto_arg_value(args[i], "code")) != NULL)
			reply->fail_code = auth_client_fail_code_parse(value);
		else if ((value = auth_proto_arg_value(args[i], "referral")) != NULL)
			reply->referral = value[0] == '\0' ? NULL : value;
		else if ((value = auth_proto_arg_value(args[i], "user")) != NULL)
			reply->user = value;
		else if (strcmp(args[i], "temp") == 0)
			reply->temporary = true;
	}
	/* an older server (or Dovecot) may send only "temp" */
	if (reply->temporary)
		reply->fail_code = AUTH_CLIENT_FAIL_TEMPORARY;
	else if (reply->fail_code == AUTH_CLIENT_FAIL_TEMPORARY)
		reply->temporary = true;
	if (reply->fail_code != AUTH_CLIENT_FAIL_DISABLED)
		reply->referral = NULL;
}

/* Fills reply from an OK/CONT/FAIL line. Returns 0, or -1 if malformed. */
static int auth_client_reply_parse(struct auth_client *client,
				   struct auth_client_request *req, const char *const *args,
				   unsigned int count, struct auth_client_reply *reply,
				   struct auth_client_login *login)
{
	if (strcmp(args[0], "CONT") == 0) {
		if (count < 3)
			return -1;
		reply->status = AUTH_CLIENT_REPLY_CONTINUE;
		reply->challenge = args[2];
	} else if (strcmp(args[0], "OK") == 0) {
		reply->status = AUTH_CLIENT_REPLY_OK;
		for (unsigned int i = 2; i < count && reply->user == NULL; i++)
			reply->user = auth_proto_arg_value(args[i], "user");
		if (reply->user == NULL || reply->user[0] == '\0')
			return -1;
		*login = (struct auth_client_login){
			.client_pid = getpid(),
			.server_pid = client->server_pid,
			.connection_uid = client->cuid,
			.request_id = req->id,
			.cookie = client->cookie,
		};
		reply->login = login;
	} else {
		reply->status = AUTH_CLIENT_REPLY_FAIL;
		auth_client_reply_parse_fail(reply, args, count);
	}
	return 0;
}

void auth_client_request_handle_reply(struct auth_client *client, const char *const *args,
				      unsigned int count)
{
	struct auth_client_reply reply = { .status = AUTH_CLIENT_REPLY_FAIL };
	struct auth_client_login login;
	unsigned int id;

	if (strcmp(args[0], "OK") != 0 && strcmp(args[0], "CONT") != 0 &&
	    strcmp(args[0], "FAIL") != 0)
		return; /* an extension we don't know */
	if (count < 2 || str_to_uint(args[1], &id) < 0) {
		auth_client_disconnect_later(client, "invalid reply from the auth process");
		return;
	}
	struct auth_client_request *req =
		hash_table_lookup(client->requests, auth_client_id_key(id));
	/* replies to cancelled requests or ones already failed locally */
	if (req == NULL || req->state != AUTH_CLIENT_REQUEST_SENT)
		return;
	if (auth_client_reply_parse(client, req, args, count, &reply, &login) < 0) {
		auth_client_disconnect_later(client, "invalid reply from the auth process");
		return;
	}
	timeout_remove(&req->to);
	if (reply.status == AUTH_CLIENT_REPLY_CONTINUE)
		req->state = AUTH_CLIENT_REQUEST_WAIT_CLIENT;
	else
		req->state = AUTH_CLIENT_REQUEST_FINISHED;
	auth_client_request_deliver(req, &reply);
}
