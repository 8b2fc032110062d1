/* The master protocol on the auth process's master sockets (Dovecot's
 * auth-master protocol v1.0), for privileged callers only: USER (userdb
 * lookup), LIST (user iteration) and REQUEST (who did a login process's
 * request really authenticate). Lookups are synchronous, like the
 * backends, and answered in order. */
#include "authd-private.h"
#include "authd-proto.h"
#include "log.h"
#include "strnum.h"

#include <fnmatch.h>

#define AUTHD_MASTER_OUTPUT_LIMIT (256 * 1024)

struct authd_master_conn {
	struct authd *authd; /* NULL once detached */
	struct authd_master_conn *prev, *next;
	struct connection *conn;
	bool got_version;
};

struct authd_master_list_ctx {
	struct authd_master_conn *mc;
	unsigned int id;
	const char *mask;
};

static void authd_master_send(struct authd_master_conn *mc, string_t *line)
{
	if (mc->conn->closed)
		return;
	str_append_c(line, '\n');
	(void)o_stream_send(mc->conn->output, str_data(line), str_len(line));
}

void authd_append_user_fields(string_t *str, const struct auth_user *user)
{
	if (user->home != NULL) {
		str_append(str, "\thome=");
		auth_proto_escape(str, user->home);
	}
	if (user->uid != AUTH_USER_NO_UID)
		str_printfa(str, "\tuid=%lu", (unsigned long)user->uid);
	if (user->gid != AUTH_USER_NO_GID)
		str_printfa(str, "\tgid=%lu", (unsigned long)user->gid);
	for (unsigned int i = 0; i < user->extra.count; i++) {
		str_append_c(str, '\t');
		auth_proto_escape(str, user->extra.v[i]);
	}
}

static void authd_master_send_user(struct authd_master_conn *mc, unsigned int id,
				   const struct auth_user *user)
{
	string_t *str = t_str_new(256);

	str_printfa(str, "USER\t%u\t", id);
	auth_proto_escape(str, user->name);
	authd_append_user_fields(str, user);
	authd_master_send(mc, str);
}

static void authd_master_send_simple(struct authd_master_conn *mc, const char *cmd,
				     unsigned int id, const char *reason)
{
	string_t *str = t_str_new(128);

	str_printfa(str, "%s\t%u", cmd, id);
	if (reason != NULL) {
		str_append(str, "\treason=");
		auth_proto_escape(str, reason);
	}
	authd_master_send(mc, str);
}

static int authd_master_cmd_user(struct authd_master_conn *mc, const char *const *args,
				 unsigned int count, const char **error_r)
{
	struct authd_user_cmd cmd;
	struct auth_user *user;
	const char *error;

	if (authd_proto_parse_user(args, count, &cmd, error_r) < 0)
		return -1;
	struct auth_db_lookup lookup = {
		.user = cmd.user,
		.service = cmd.service,
		.remote_ip = cmd.remote_ip,
		.local_ip = cmd.local_ip,
	};
	int ret = auth_userdb_lookup(mc->authd->auth, &lookup, t_pool(), &user, &error);
	if (ret > 0)
		authd_master_send_user(mc, cmd.id, user);
	else if (ret == 0)
		authd_master_send_simple(mc, "NOTFOUND", cmd.id, NULL);
	else
		authd_master_send_simple(mc, "FAIL", cmd.id, "userdb lookup failed");
	return 0;
}

static int authd_master_cmd_request(struct authd_master_conn *mc, const char *const *args,
				    unsigned int count, const char **error_r)
{
	struct authd_request_cmd cmd;
	struct auth_user *user;
	const char *error;

	if (authd_proto_parse_request(args, count, &cmd, error_r) < 0)
		return -1;
	int ret = authd_logins_take(mc->authd->logins, cmd.client_pid, cmd.cookie,
				    cmd.client_request_id, t_pool(), &user, &error);
	if (ret > 0) {
		log_debug(&mc->conn->log, "authd_login_resolved", "user=%s client_pid=%ld",
			  log_value(user->name), (long)cmd.client_pid);
		authd_master_send_user(mc, cmd.id, user);
	} else if (ret == 0) {
		authd_master_send_simple(mc, "NOTFOUND", cmd.id, NULL);
	} else {
		/* a login process named a login that isn't its own */
		log_warning(&mc->conn->log, "authd_login_mismatch", "error=%s",
			    log_value(error));
		authd_master_send_simple(mc, "FAIL", cmd.id, "login made by another process");
	}
	return 0;
}

static void authd_master_list_user(const char *user, void *context)
{
	struct authd_master_list_ctx *ctx = context;
	string_t *str;

	if (ctx->mask != NULL && fnmatch(ctx->mask, user, FNM_NOESCAPE) != 0)
		return;
	str = t_str_new(64);
	str_printfa(str, "LIST\t%u\t", ctx->id);
	auth_proto_escape(str, user);
	authd_master_send(ctx->mc, str);
}

static int authd_master_cmd_list(struct authd_master_conn *mc, const char *const *args,
				 unsigned int count, const char **error_r)
{
	struct authd_list_cmd cmd;
	const char *error;

	if (authd_proto_parse_list(args, count, &cmd, error_r) < 0)
		return -1;
	struct authd_master_list_ctx ctx = { .mc = mc, .id = cmd.id, .mask = cmd.mask };
	/* the user list comes from trusted backends and goes to a
	   privileged caller; it is buffered whole */
	int ret = auth_userdb_iterate(mc->authd->auth, authd_master_list_user, &ctx, &error);
	string_t *str = t_str_new(32);
	str_printfa(str, "DONE\t%u%s", cmd.id, ret < 0 ? "\tfail" : "");
	authd_master_send(mc, str);
	return 0;
}

static int authd_master_handle_line(struct authd_master_conn *mc, char *line,
				    const char **error_r)
{
	const char *args[AUTH_PROTO_MAX_ARGS];
	int ret = auth_proto_split(line, args, N_ELEMENTS(args));

	if (ret < 0) {
		*error_r = "too many fields or an escaped NUL";
		return -1;
	}
	unsigned int count = (unsigned int)ret;
	if (!mc->got_version) {
		if (authd_proto_parse_version(args, count, AUTH_PROTO_MASTER_MAJOR, error_r) < 0)
			return -1;
		mc->got_version = true;
		return 0;
	}
	if (strcmp(args[0], "USER") == 0)
		return authd_master_cmd_user(mc, args, count, error_r);
	if (strcmp(args[0], "REQUEST") == 0)
		return authd_master_cmd_request(mc, args, count, error_r);
	if (strcmp(args[0], "LIST") == 0)
		return authd_master_cmd_list(mc, args, count, error_r);
	if (strcmp(args[0], "PASS") == 0 && count >= 2) {
		/* passdb lookups would hand out password hashes: not served */
		unsigned int id;
		if (str_to_uint(args[1], &id) < 0) {
			*error_r = "PASS: invalid id";
			return -1;
		}
		authd_master_send_simple(mc, "FAIL", id, "PASS lookups are not supported");
		return 0;
	}
	if (strcmp(args[0], "CACHE-FLUSH") == 0 && count >= 2) {
		/* our extension (ternctl auth cache flush): CACHE-FLUSH <id>
		   [<user>] -> OK <id> <entries dropped> */
		unsigned int id;
		if (str_to_uint(args[1], &id) < 0) {
			*error_r = "CACHE-FLUSH: invalid id";
			return -1;
		}
		unsigned int n = auth_cache_flush(mc->authd->auth, count >= 3 ? args[2] : NULL);
		string_t *str = t_str_new(32);
		str_printfa(str, "OK\t%u\t%u", id, n);
		authd_master_send(mc, str);
		return 0;
	}
	if (strcmp(args[0], "CPID") == 0)
		return 0; /* some clients introduce themselves; not needed */
	*error_r = t_strdup_printf("unknown command %s",
				   t_strndup(args[0], I_MIN(strlen(args[0]), 32)));
	return -1;
}

static void authd_master_detach(struct authd_master_conn *mc)
{
	if (mc->authd == NULL)
		return;
	if (mc->prev != NULL)
		mc->prev->next = mc->next;
	else
		mc->authd->master_conns = mc->next;
	if (mc->next != NULL)
		mc->next->prev = mc->prev;
	mc->authd->master_conn_count--;
	mc->authd = NULL;
}

static void authd_master_input(struct connection *conn)
{
	struct authd_master_conn *mc = conn->context;
	const char *error;
	char *line;

	while (!conn->closed && mc->authd != NULL) {
		int ret = auth_proto_next_line(conn->input, mc->authd->set.max_line_length,
					       &line, &error);
		if (ret == 0)
			break;
		if (ret < 0 || authd_master_handle_line(mc, line, &error) < 0) {
			log_warning(&conn->log, "authd_protocol_error",
				    "socket=master error=%s", log_value(error));
			authd_master_detach(mc);
			connection_close(conn, error);
			return;
		}
	}
}

static void authd_master_destroy(struct connection *conn)
{
	struct authd_master_conn *mc = conn->context;

	authd_master_detach(mc);
	free(mc);
}

static const struct connection_vfuncs authd_master_vfuncs = {
	.input = authd_master_input,
	.destroy = authd_master_destroy,
};

void authd_master_conn_create(struct authd *authd, int fd, const struct net_endpoint *remote,
			      const struct net_endpoint *local)
{
	struct authd_master_conn *mc = i_zalloc(sizeof(*mc));

	mc->authd = authd;
	mc->conn = connection_create(fd, remote, local, &authd_master_vfuncs, mc,
				     authd->set.max_line_length + 2, AUTHD_MASTER_OUTPUT_LIMIT);
	connection_set_output_timeout(mc->conn, authd->set.output_timeout_ms);
	mc->next = authd->master_conns;
	if (authd->master_conns != NULL)
		authd->master_conns->prev = mc;
	authd->master_conns = mc;
	authd->master_conn_count++;
	string_t *str = t_str_new(64);
	str_printfa(str, "VERSION\t%u\t%u\nSPID\t%ld", AUTH_PROTO_MASTER_MAJOR,
		    AUTH_PROTO_MASTER_MINOR, (long)authd->pid);
	authd_master_send(mc, str);
	connection_update_io(mc->conn);
}

void authd_master_conns_destroy_all(struct authd *authd)
{
	while (authd->master_conns != NULL) {
		struct authd_master_conn *mc = authd->master_conns;
		authd_master_detach(mc);
		connection_close(mc->conn, "auth service stopping");
	}
}
