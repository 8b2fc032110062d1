/* Shared pre-login helpers: TLS start, security checks, hand-off. */
#include "login-common.h"
#include "istream.h"
#include "tls-binding.h"

void login_start_tls(struct login_context *ctx, struct connection *conn)
{
	i_stream_clear(conn->input);
	connection_set_transport(conn, tls_transport_create(ctx->tls, conn->transport));
	tls_transport_set_log(conn->transport, &conn->log);
}

bool login_connection_is_tls(const struct connection *conn)
{
	return tls_transport_is_tls(conn->transport);
}

bool login_connection_is_secured(const struct connection *conn)
{
	return login_connection_is_tls(conn) || connection_is_local(conn);
}

bool login_tls_mode_offers_starttls(enum listener_tls mode)
{
	return mode == LISTENER_TLS_STARTTLS || mode == LISTENER_TLS_REQUIRED;
}

bool login_tls_required_unmet(enum listener_tls mode, const struct connection *conn)
{
	return mode == LISTENER_TLS_REQUIRED && !login_connection_is_tls(conn);
}

void login_auth_info_fill(struct auth_client_request_info *info, struct connection *conn,
			  const char *protocol, const char *mech)
{
	memset(info, 0, sizeof(*info));
	info->mech = mech;
	info->protocol = protocol;
	info->session_id = conn->session_id;
	info->remote_ip = conn->remote.ip;
	info->local_ip = conn->local.ip;
	info->remote_port = conn->remote.port;
	info->local_port = conn->local.port;
	info->secured = login_connection_is_secured(conn);
	unsigned char *cb = p_malloc(t_pool(), TLS_EXPORTER_SIZE);
	if (tls_transport_get_exporter(conn->transport, cb) > 0) {
		info->channel_binding = cb;
		info->channel_binding_size = TLS_EXPORTER_SIZE;
	}
	info->cert_username = tls_transport_get_peer_cert_username(conn->transport);
}

const char *login_auth_mechanisms(struct login_context *ctx, struct connection *conn)
{
	/* a greeting on an implicit-TLS port goes out before the handshake:
	   -PLUS only when TLS 1.3 is certain, EXTERNAL only once a
	   certificate verified (a CAPABILITY after the handshake tells) */
	bool cbind = tls_transport_channel_binding_expected(conn->transport);
	bool cert = tls_transport_get_peer_cert_username(conn->transport) != NULL;
	const char *all = auth_client_get_mechanisms(ctx->auth,
						     login_connection_is_secured(conn));
	string_t *str = t_str_new(strlen(all) + 1);

	for (const char *p = all; *p != '\0';) {
		size_t len = strcspn(p, " ");
		const char *mech = t_strndup(p, len);
		bool plus = len > 5 && strcmp(mech + len - 5, "-PLUS") == 0;
		if ((cbind || !plus) && (cert || strcmp(mech, "EXTERNAL") != 0)) {
			if (str_len(str) > 0)
				str_append_c(str, ' ');
			str_append(str, mech);
		}
		p += len;
		while (*p == ' ')
			p++;
	}
	return str_c(str);
}

void login_handoff_fill(struct login_handoff *h, struct connection *conn,
			const char *protocol, const struct auth_client_reply *reply,
			const char *mech, const char *tag, bool starttls)
{
	memset(h, 0, sizeof(*h));
	h->protocol = protocol;
	h->user = reply->user;
	h->home = "";
	h->uid = (uid_t)-1;
	h->gid = (gid_t)-1;
	array_init(&h->userdb_extra, t_pool(), 4);
	/* the userdb fields come from the auth process, through the master:
	   this process only names the login it authenticated */
	if (reply->login != NULL) {
		h->auth_ref = t_strdup_printf("%ld:%u:%u:%s", (long)reply->login->server_pid,
					      reply->login->connection_uid,
					      reply->login->request_id, reply->login->cookie);
	}
	h->session_id = conn->session_id;
	h->remote = conn->remote;
	h->local = conn->local;
	h->tls = login_connection_is_tls(conn);
	h->tls_info = tls_transport_get_info(conn->transport);
	h->secured = login_connection_is_secured(conn);
	h->starttls = starttls;
	h->mech = mech;
	h->tag = tag;
	h->input = i_stream_get_data(conn->input, &h->input_size);
}

void login_handoff_connection(struct login_context *ctx, struct connection *conn,
			      const char *protocol, const struct auth_client_reply *reply,
			      const char *mech, const char *tag, bool starttls)
{
	struct login_handoff h;
	login_handoff_fill(&h, conn, protocol, reply, mech, tag, starttls);
	conn->context = NULL;
	conn->v = NULL;
	ctx->handoff(conn, &h);
	i_assert(conn->v != NULL);
}
