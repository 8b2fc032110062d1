/* The client protocol on the auth process's client sockets (Dovecot auth
 * protocol v1.2): the handshake, then AUTH/CONT/CANCEL from login processes
 * and MTAs, each request run through auth_request_begin/continue/abort and
 * answered with CONT, OK or FAIL. Successful logins (unless "nologin") are
 * remembered for the master's REQUEST. */
#include "authd-private.h"
#include "authd-proto.h"
#include "auth-request.h"
#include "base64.h"
#include "hash.h"
#include "ioloop.h"
#include "log.h"

#include <strings.h>
#include <sys/random.h>

#define AUTHD_CLIENT_OUTPUT_LIMIT (64 * 1024)
#define AUTHD_REASON_TIMEOUT "Authentication request timed out."
#define AUTHD_REASON_TOO_MANY "Too many authentication requests."
#define AUTHD_REASON_UNKNOWN "Unknown authentication request."
#define AUTHD_REASON_APOP "Invalid APOP request."

struct authd_request {
	struct authd_client_conn *cc;
	unsigned int id;
	struct auth_request *req; /* NULL once auth freed it */
	struct timeout *to;       /* waiting for the client's CONT */
	bool nologin, waiting_client;
};

struct authd_client_conn {
	struct authd *authd; /* NULL once detached */
	struct authd_client_conn *prev, *next;
	struct connection *conn;
	unsigned int cuid;
	char cookie[AUTH_PROTO_COOKIE_HEX_LEN + 1];
	pid_t pid; /* CPID; 0 until sent */
	bool trusted; /* a login process: its TLS facts are believed */
	bool got_version;
	struct hash_table *requests; /* id + 1 -> struct authd_request */
	unsigned int request_count;
};

static void *authd_request_key(unsigned int id)
{
	return (void *)((uintptr_t)id + 1);
}

static void authd_request_free(struct authd_request *r)
{
	struct authd_client_conn *cc = r->cc;

	timeout_remove(&r->to);
	auth_request_abort(&r->req);
	hash_table_remove(cc->requests, authd_request_key(r->id));
	cc->request_count--;
	free(r);
}

static void authd_client_send(struct authd_client_conn *cc, string_t *line)
{
	if (cc->conn->closed)
		return;
	str_append_c(line, '\n');
	(void)o_stream_send(cc->conn->output, str_data(line), str_len(line));
	connection_update_io(cc->conn);
}

static void authd_client_send_fail(struct authd_client_conn *cc, unsigned int id,
				   const char *reason, const char *code, bool temporary,
				   const char *referral)
{
	string_t *str = t_str_new(128);

	str_printfa(str, "FAIL\t%u\treason=", id);
	auth_proto_escape(str, reason);
	if (code != NULL)
		str_printfa(str, "\tcode=%s", code);
	if (temporary)
		str_append(str, "\ttemp");
	if (referral != NULL) {
		str_append(str, "\treferral=");
		auth_proto_escape(str, referral);
	}
	authd_client_send(cc, str);
}

/* The FAIL code= for our failure reasons (auth-client-proto.h). */
static const char *authd_fail_code_name(enum auth_fail_code code)
{
	switch (code) {
	case AUTH_FAIL_TEMPORARY:
		return AUTH_PROTO_CODE_TEMP_FAIL;
	case AUTH_FAIL_DISABLED:
		return AUTH_PROTO_CODE_USER_DISABLED;
	case AUTH_FAIL_PLAINTEXT_INSECURE:
		return AUTH_PROTO_CODE_MECH_SSL_REQUIRED;
	case AUTH_FAIL_MECH_UNSUPPORTED:
		return AUTH_PROTO_CODE_MECH_INVALID;
	case AUTH_FAIL_MALFORMED:
		return AUTH_PROTO_CODE_MALFORMED;
	case AUTH_FAIL_ABORTED:
		return AUTH_PROTO_CODE_ABORTED;
	case AUTH_FAIL_CREDENTIALS:
		break;
	}
	/* bad credentials carry no code, as with Dovecot */
	return NULL;
}

static void authd_request_timeout(void *context)
{
	struct authd_request *r = context;

	r->to = NULL;
	authd_client_send_fail(r->cc, r->id, AUTHD_REASON_TIMEOUT, AUTH_PROTO_CODE_TEMP_FAIL,
			       true, NULL);
	authd_request_free(r);
}

static void authd_request_ok(struct authd_request *r, const struct auth_reply *reply)
{
	struct authd_client_conn *cc = r->cc;
	string_t *str = t_str_new(128);

	str_printfa(str, "OK\t%u\tuser=", r->id);
	auth_proto_escape(str, reply->user);
	authd_client_send(cc, str);
	if (!r->nologin && cc->authd != NULL) {
		const struct auth_user *user = reply->userdb != NULL ? reply->userdb :
			auth_user_new(t_pool(), reply->user);
		authd_logins_add(cc->authd->logins, cc->pid, cc->cookie, r->id, user);
	}
}

static void authd_request_reply(const struct auth_reply *reply, void *context)
{
	struct authd_request *r = context;
	struct authd_client_conn *cc = r->cc;
	string_t *str;

	switch (reply->status) {
	case AUTH_REPLY_CONTINUE:
		str = t_str_new(64 + strlen(reply->challenge));
		str_printfa(str, "CONT\t%u\t", r->id);
		auth_proto_escape(str, reply->challenge);
		authd_client_send(cc, str);
		r->waiting_client = true;
		r->to = timeout_add_once(cc->authd->set.request_timeout_ms,
					 authd_request_timeout, r);
		return;
	case AUTH_REPLY_OK:
		authd_request_ok(r, reply);
		break;
	case AUTH_REPLY_FAIL:
		authd_client_send_fail(cc, r->id, reply->reason,
				       authd_fail_code_name(reply->fail_code),
				       reply->temporary, reply->referral);
		break;
	}
	/* auth frees its request when we return */
	r->req = NULL;
	authd_request_free(r);
}

/* Splits an APOP message, "challenge NUL user NUL digest", in place.
   Returns 0, or -1 if it isn't three non-empty parts. */
static int authd_apop_split(buffer_t *buf, const char *parts_r[3])
{
	size_t pos = 0, used = buf->used;

	buffer_append_c(buf, '\0');
	for (unsigned int i = 0; i < 3; i++) {
		if (pos > used)
			return -1;
		const char *part = (const char *)buf->data + pos;
		size_t len = strlen(part);
		if (len == 0 || pos + len > used)
			return -1;
		parts_r[i] = part;
		pos += len + 1;
	}
	return pos == used + 1 ? 0 : -1;
}

/* Runs APOP (RFC 1939 §7), which our login processes send as the private
   mechanism APOP. */
static void authd_request_apop(struct authd_request *r, const struct auth_request_info *info,
			       const char *resp)
{
	struct authd_client_conn *cc = r->cc;
	buffer_t *buf = buffer_create(t_pool(), 128);
	const char *parts[3];

	if (resp == NULL || strcmp(resp, "=") == 0 ||
	    base64_decode(resp, strlen(resp), buf) < 0 || authd_apop_split(buf, parts) < 0) {
		authd_client_send_fail(cc, r->id, AUTHD_REASON_APOP, AUTH_PROTO_CODE_MALFORMED,
				       false, NULL);
		authd_request_free(r);
		return;
	}
	r->req = auth_request_begin_apop(cc->authd->auth, info, parts[1], parts[0], parts[2],
					 authd_request_reply, r);
}

static void authd_auth_info_fill(struct auth_request_info *info,
				 const struct authd_auth_cmd *cmd, bool trusted)
{
	memset(info, 0, sizeof(*info));
	info->mech = cmd->mech;
	info->protocol = cmd->service;
	info->session_id = cmd->session_id;
	info->remote_ip = cmd->remote_ip;
	info->local_ip = cmd->local_ip;
	info->remote_port = cmd->remote_port;
	info->local_port = cmd->local_port;
	/* Postfix sends "secured" only for TLS; a loopback client is as
	   safe for a plaintext password as the login processes count it */
	info->secured = cmd->secured ||
		(cmd->remote_ip != NULL && net_ip_is_loopback(cmd->remote_ip));
	if (trusted) {
		info->cert_username = cmd->valid_client_cert ? cmd->cert_username : NULL;
		info->channel_binding = cmd->channel_binding;
		info->channel_binding_size = cmd->channel_binding_size;
	}
}

static int authd_client_cmd_auth(struct authd_client_conn *cc, const char *const *args,
				 unsigned int count, const char **error_r)
{
	struct authd_auth_cmd cmd;
	struct auth_request_info info;

	if (cc->pid == 0) {
		*error_r = "AUTH before CPID";
		return -1;
	}
	if (authd_proto_parse_auth(args, count, &cmd, error_r) < 0)
		return -1;
	if (hash_table_lookup(cc->requests, authd_request_key(cmd.id)) != NULL) {
		*error_r = "AUTH with the id of a running request";
		return -1;
	}
	if (cc->request_count >= cc->authd->set.max_requests_per_connection) {
		log_warning(&cc->conn->log, "authd_request_limit", "limit=%u",
			    cc->authd->set.max_requests_per_connection);
		authd_client_send_fail(cc, cmd.id, AUTHD_REASON_TOO_MANY,
				       AUTH_PROTO_CODE_TEMP_FAIL, true, NULL);
		return 0;
	}
	struct authd_request *r = i_zalloc(sizeof(*r));
	r->cc = cc;
	r->id = cmd.id;
	r->nologin = cmd.nologin;
	hash_table_insert(cc->requests, authd_request_key(r->id), r);
	cc->request_count++;
	authd_auth_info_fill(&info, &cmd, cc->trusted);
	if (strcasecmp(cmd.mech, "APOP") == 0) {
		authd_request_apop(r, &info, cmd.initial_response);
		return 0;
	}
	r->req = auth_request_begin(cc->authd->auth, &info, cmd.initial_response,
				    authd_request_reply, r);
	return 0;
}

static int authd_client_cmd_cont(struct authd_client_conn *cc, const char *const *args,
				 unsigned int count, const char **error_r)
{
	unsigned int id;
	const char *data;

	if (authd_proto_parse_cont(args, count, &id, &data, error_r) < 0)
		return -1;
	struct authd_request *r = hash_table_lookup(cc->requests, authd_request_key(id));
	if (r == NULL) {
		/* timed out or failed just before the client answered */
		authd_client_send_fail(cc, id, AUTHD_REASON_UNKNOWN, NULL, false, NULL);
		return 0;
	}
	if (!r->waiting_client) {
		*error_r = "CONT while the reply is pending";
		return -1;
	}
	r->waiting_client = false;
	timeout_remove(&r->to);
	auth_request_continue(r->req, data);
	return 0;
}

static int authd_client_cmd_cancel(struct authd_client_conn *cc, const char *const *args,
				   unsigned int count, const char **error_r)
{
	unsigned int id;

	if (authd_proto_parse_cancel(args, count, &id, error_r) < 0)
		return -1;
	struct authd_request *r = hash_table_lookup(cc->requests, authd_request_key(id));
	if (r != NULL)
		authd_request_free(r);
	return 0;
}

/* Returns 0, or -1 for a protocol error (*error_r set). */
static int authd_client_handle_line(struct authd_client_conn *cc, char *line,
				    const char **error_r)
{
	const char *args[AUTH_PROTO_MAX_ARGS];
	int ret = auth_proto_split(line, args, N_ELEMENTS(args));

	if (ret < 0) {
		*error_r = "too many fields or an escaped NUL";
		return -1;
	}
	unsigned int count = (unsigned int)ret;
	if (!cc->got_version) {
		if (authd_proto_parse_version(args, count, AUTH_PROTO_CLIENT_MAJOR, error_r) < 0)
			return -1;
		cc->got_version = true;
		return 0;
	}
	if (strcmp(args[0], "AUTH") == 0)
		return authd_client_cmd_auth(cc, args, count, error_r);
	if (strcmp(args[0], "CONT") == 0)
		return authd_client_cmd_cont(cc, args, count, error_r);
	if (strcmp(args[0], "CANCEL") == 0)
		return authd_client_cmd_cancel(cc, args, count, error_r);
	if (strcmp(args[0], "CPID") == 0) {
		if (cc->pid != 0) {
			*error_r = "CPID sent twice";
			return -1;
		}
		return authd_proto_parse_cpid(args, count, &cc->pid, error_r);
	}
	*error_r = t_strdup_printf("unknown command %s",
				   t_strndup(args[0], I_MIN(strlen(args[0]), 32)));
	return -1;
}

/* Forgets the connection's requests (no replies) and leaves the authd. */
static void authd_client_conn_detach(struct authd_client_conn *cc)
{
	struct hash_iter iter;
	const void *key;
	void *value;

	if (cc->authd == NULL)
		return;
	hash_table_iter_init(cc->requests, &iter);
	while (hash_table_iter_next(&iter, &key, &value))
		authd_request_free(value);
	if (cc->prev != NULL)
		cc->prev->next = cc->next;
	else
		cc->authd->client_conns = cc->next;
	if (cc->next != NULL)
		cc->next->prev = cc->prev;
	cc->authd->client_conn_count--;
	cc->authd = NULL;
}

static void authd_client_protocol_error(struct authd_client_conn *cc, const char *error)
{
	log_warning(&cc->conn->log, "authd_protocol_error", "socket=client pid=%ld error=%s",
		    (long)cc->pid, log_value(error));
	authd_client_conn_detach(cc);
	connection_close(cc->conn, error);
}

static void authd_client_input(struct connection *conn)
{
	struct authd_client_conn *cc = conn->context;
	const char *error;
	char *line;

	while (!conn->closed && cc->authd != NULL) {
		int ret = auth_proto_next_line(conn->input, cc->authd->set.max_line_length,
					       &line, &error);
		if (ret == 0)
			break;
		if (ret < 0 || authd_client_handle_line(cc, line, &error) < 0) {
			authd_client_protocol_error(cc, error);
			return;
		}
	}
}

static void authd_client_destroy(struct connection *conn)
{
	struct authd_client_conn *cc = conn->context;

	log_debug(&conn->log, "authd_client_disconnected", "pid=%ld reason=%s",
		  (long)cc->pid, log_value(conn->close_reason == NULL ? "" : conn->close_reason));
	authd_client_conn_detach(cc);
	hash_table_destroy(&cc->requests);
	free(cc);
}

static const struct connection_vfuncs authd_client_vfuncs = {
	.input = authd_client_input,
	.destroy = authd_client_destroy,
};

static void authd_client_send_handshake(struct authd_client_conn *cc)
{
	struct authd *authd = cc->authd;
	string_t *str = t_str_new(256);

	str_printfa(str, "VERSION\t%u\t%u\n", AUTH_PROTO_CLIENT_MAJOR, AUTH_PROTO_CLIENT_MINOR);
	str_append(str, authd->mech_lines);
	str_printfa(str, "SPID\t%ld\nCUID\t%u\nCOOKIE\t%s\nDONE", (long)authd->pid,
		    cc->cuid, cc->cookie);
	authd_client_send(cc, str);
}

void authd_client_conn_create(struct authd *authd, int fd, const struct net_endpoint *remote,
			      const struct net_endpoint *local, bool trusted)
{
	struct authd_client_conn *cc = i_zalloc(sizeof(*cc));
	cc->trusted = trusted;
	unsigned char cookie[AUTH_PROTO_COOKIE_HEX_LEN / 2];

	/* the cookie is what ties a login process's hand-off to this
	   connection: it must be unguessable */
	if (getrandom(cookie, sizeof(cookie), 0) != (ssize_t)sizeof(cookie))
		i_fatal("getrandom() failed");
	auth_proto_cookie_hex(cookie, cc->cookie);
	cc->authd = authd;
	cc->cuid = ++authd->next_cuid;
	cc->requests = hash_table_create(system_pool, direct_hash, direct_cmp);
	cc->conn = connection_create(fd, remote, local, &authd_client_vfuncs, cc,
				     authd->set.max_line_length + 2, AUTHD_CLIENT_OUTPUT_LIMIT);
	connection_set_output_timeout(cc->conn, authd->set.output_timeout_ms);
	cc->next = authd->client_conns;
	if (authd->client_conns != NULL)
		authd->client_conns->prev = cc;
	authd->client_conns = cc;
	authd->client_conn_count++;
	authd_client_send_handshake(cc);
	log_debug(&cc->conn->log, "authd_client_connected", "cuid=%u", cc->cuid);
}

void authd_client_conns_destroy_all(struct authd *authd)
{
	while (authd->client_conns != NULL) {
		struct authd_client_conn *cc = authd->client_conns;
		authd_client_conn_detach(cc);
		connection_close(cc->conn, "auth service stopping");
	}
}
