/* Command parsing for the auth process's client and master protocols. */
#include "authd-proto.h"
#include "base64.h"
#include "auth-client-proto.h"
#include "net.h"
#include "strnum.h"

#include <arpa/inet.h>

/* An address that goes into %r/%l templates and allow_nets checks must
   be an address; anything else is treated as unknown. */
static const char *authd_proto_ip(const char *value)
{
	unsigned char addr[sizeof(struct in6_addr)];

	if (value[0] == '\0' || strlen(value) >= NET_IP_STRLEN)
		return NULL;
	if (inet_pton(AF_INET, value, addr) == 1 || inet_pton(AF_INET6, value, addr) == 1)
		return value;
	return NULL;
}

static unsigned int authd_proto_port(const char *value)
{
	unsigned int port;

	if (str_to_uint(value, &port) < 0 || port > 65535)
		return 0;
	return port;
}

static int authd_proto_parse_id(const char *const *args, unsigned int count,
				unsigned int min_count, unsigned int *id_r,
				const char **error_r)
{
	if (count < min_count) {
		*error_r = t_strdup_printf("%s: missing parameters", args[0]);
		return -1;
	}
	if (str_to_uint(args[1], id_r) < 0) {
		*error_r = t_strdup_printf("%s: invalid id", args[0]);
		return -1;
	}
	return 0;
}

static bool authd_proto_flag(const char *arg, const char *name)
{
	/* newer Dovecot clients may give a flag a value (secured=tls) */
	return strcmp(arg, name) == 0 || auth_proto_arg_value(arg, name) != NULL;
}

static void authd_proto_auth_param(struct authd_auth_cmd *cmd, const char *arg)
{
	const char *value;

	if ((value = auth_proto_arg_value(arg, "service")) != NULL)
		cmd->service = value;
	else if ((value = auth_proto_arg_value(arg, "session")) != NULL)
		cmd->session_id = value[0] == '\0' ? NULL : value;
	else if ((value = auth_proto_arg_value(arg, "lip")) != NULL)
		cmd->local_ip = authd_proto_ip(value);
	else if ((value = auth_proto_arg_value(arg, "rip")) != NULL)
		cmd->remote_ip = authd_proto_ip(value);
	else if ((value = auth_proto_arg_value(arg, "lport")) != NULL)
		cmd->local_port = authd_proto_port(value);
	else if ((value = auth_proto_arg_value(arg, "rport")) != NULL)
		cmd->remote_port = authd_proto_port(value);
	else if ((value = auth_proto_arg_value(arg, "resp")) != NULL)
		cmd->initial_response = value[0] == '\0' ? "=" : value;
	else if ((value = auth_proto_arg_value(arg, "cert_username")) != NULL)
		cmd->cert_username = value[0] == '\0' ? NULL : value;
	else if ((value = auth_proto_arg_value(arg, "cbind")) != NULL) {
		buffer_t *buf = buffer_create(t_pool(), 64);
		if (strlen(value) <= 1024 && base64_decode(value, strlen(value), buf) == 0 &&
		    buf->used > 0) {
			cmd->channel_binding = buf->data;
			cmd->channel_binding_size = buf->used;
		}
	} else if (authd_proto_flag(arg, "secured"))
		cmd->secured = true;
	else if (authd_proto_flag(arg, "valid-client-cert"))
		cmd->valid_client_cert = true;
	else if (authd_proto_flag(arg, "no-penalty"))
		cmd->no_penalty = true;
	else if (authd_proto_flag(arg, "nologin"))
		cmd->nologin = true;
	/* anything else: an optional parameter we don't use */
}

int authd_proto_parse_auth(const char *const *args, unsigned int count,
			   struct authd_auth_cmd *cmd_r, const char **error_r)
{
	memset(cmd_r, 0, sizeof(*cmd_r));
	if (authd_proto_parse_id(args, count, 4, &cmd_r->id, error_r) < 0)
		return -1;
	cmd_r->mech = args[2];
	if (cmd_r->mech[0] == '\0') {
		*error_r = "AUTH: empty mechanism";
		return -1;
	}
	for (unsigned int i = 3; i < count; i++)
		authd_proto_auth_param(cmd_r, args[i]);
	if (cmd_r->service == NULL || cmd_r->service[0] == '\0') {
		*error_r = "AUTH: no service";
		return -1;
	}
	return 0;
}

int authd_proto_parse_cont(const char *const *args, unsigned int count,
			   unsigned int *id_r, const char **data_r, const char **error_r)
{
	if (authd_proto_parse_id(args, count, 3, id_r, error_r) < 0)
		return -1;
	*data_r = args[2];
	return 0;
}

int authd_proto_parse_cancel(const char *const *args, unsigned int count,
			     unsigned int *id_r, const char **error_r)
{
	return authd_proto_parse_id(args, count, 2, id_r, error_r);
}

int authd_proto_parse_version(const char *const *args, unsigned int count,
			      unsigned int major, const char **error_r)
{
	unsigned int num;

	if (strcmp(args[0], "VERSION") != 0 || count < 3 || str_to_uint(args[1], &num) < 0) {
		*error_r = "handshake did not start with VERSION";
		return -1;
	}
	if (num != major) {
		*error_r = t_strdup_printf("unsupported protocol major version %u", num);
		return -1;
	}
	return 0;
}

int authd_proto_parse_cpid(const char *const *args, unsigned int count,
			   pid_t *pid_r, const char **error_r)
{
	unsigned int pid;

	if (count < 2 || str_to_uint(args[1], &pid) < 0 || pid == 0 || pid > INT32_MAX) {
		*error_r = "CPID: invalid pid";
		return -1;
	}
	*pid_r = (pid_t)pid;
	return 0;
}

int authd_proto_parse_request(const char *const *args, unsigned int count,
			      struct authd_request_cmd *cmd_r, const char **error_r)
{
	unsigned int pid;

	memset(cmd_r, 0, sizeof(*cmd_r));
	if (authd_proto_parse_id(args, count, 5, &cmd_r->id, error_r) < 0)
		return -1;
	if (str_to_uint(args[2], &pid) < 0 || pid == 0 || pid > INT32_MAX ||
	    str_to_uint(args[3], &cmd_r->client_request_id) < 0) {
		*error_r = "REQUEST: invalid pid or request id";
		return -1;
	}
	cmd_r->client_pid = (pid_t)pid;
	cmd_r->cookie = args[4];
	return 0;
}

int authd_proto_parse_user(const char *const *args, unsigned int count,
			   struct authd_user_cmd *cmd_r, const char **error_r)
{
	const char *value;

	memset(cmd_r, 0, sizeof(*cmd_r));
	if (authd_proto_parse_id(args, count, 3, &cmd_r->id, error_r) < 0)
		return -1;
	cmd_r->user = args[2];
	for (unsigned int i = 3; i < count; i++) {
		if ((value = auth_proto_arg_value(args[i], "service")) != NULL)
			cmd_r->service = value[0] == '\0' ? NULL : value;
		else if ((value = auth_proto_arg_value(args[i], "rip")) != NULL)
			cmd_r->remote_ip = authd_proto_ip(value);
		else if ((value = auth_proto_arg_value(args[i], "lip")) != NULL)
			cmd_r->local_ip = authd_proto_ip(value);
	}
	return 0;
}

int authd_proto_parse_list(const char *const *args, unsigned int count,
			   struct authd_list_cmd *cmd_r, const char **error_r)
{
	const char *value;

	memset(cmd_r, 0, sizeof(*cmd_r));
	if (authd_proto_parse_id(args, count, 2, &cmd_r->id, error_r) < 0)
		return -1;
	for (unsigned int i = 2; i < count; i++) {
		if ((value = auth_proto_arg_value(args[i], "user")) != NULL)
			cmd_r->mask = value[0] == '\0' ? NULL : value;
	}
	return 0;
}
