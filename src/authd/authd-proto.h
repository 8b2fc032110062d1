/* Parsing the commands clients send to the auth process, after
 * auth_proto_split(): AUTH, CONT and CANCEL on client sockets; USER,
 * REQUEST and LIST on master sockets. No I/O, so the fuzzer drives it
 * directly. args[0] is the command name. Unknown optional parameters are
 * ignored, as Dovecot's protocol requires. */
#ifndef TERN_AUTHD_PROTO_H
#define TERN_AUTHD_PROTO_H

#include "lib.h"

/* AUTH <id> <mech> service=<s> [params] */
struct authd_auth_cmd {
	unsigned int id;
	const char *mech;
	const char *service;
	const char *session_id;           /* NULL if none */
	const char *local_ip, *remote_ip; /* valid IP addresses or NULL */
	unsigned int local_port, remote_port; /* 0 if none */
	bool secured, valid_client_cert, no_penalty, nologin;
	/* our extensions, believed from login processes only: the verified
	   client certificate's user name, and the TLS channel binding
	   (tls-exporter, RFC 9266), base64 on the wire */
	const char *cert_username;
	const unsigned char *channel_binding;
	size_t channel_binding_size;
	/* base64, "=" for an empty one, NULL for none (auth-request.h's
	   convention) */
	const char *initial_response;
};

/* REQUEST <id> <client-pid> <client-request-id> <cookie> */
struct authd_request_cmd {
	unsigned int id;
	pid_t client_pid;
	unsigned int client_request_id;
	const char *cookie;
};

/* USER <id> <user> [service=] [rip=] [lip=] */
struct authd_user_cmd {
	unsigned int id;
	const char *user;
	const char *service, *remote_ip, *local_ip; /* NULL if none */
};

/* LIST <id> [user=<mask>] */
struct authd_list_cmd {
	unsigned int id;
	const char *mask; /* NULL: every user */
};

/* All return 0, or -1 with *error_r (for the log; the caller
   disconnects). Strings point into args. */
int authd_proto_parse_auth(const char *const *args, unsigned int count,
			   struct authd_auth_cmd *cmd_r, const char **error_r);
/* CONT <id> <base64> */
int authd_proto_parse_cont(const char *const *args, unsigned int count,
			   unsigned int *id_r, const char **data_r, const char **error_r);
/* CANCEL <id> */
int authd_proto_parse_cancel(const char *const *args, unsigned int count,
			     unsigned int *id_r, const char **error_r);
/* VERSION <major> <minor>: the major version must be major. */
int authd_proto_parse_version(const char *const *args, unsigned int count,
			      unsigned int major, const char **error_r);
/* CPID <pid> */
int authd_proto_parse_cpid(const char *const *args, unsigned int count,
			   pid_t *pid_r, const char **error_r);
int authd_proto_parse_request(const char *const *args, unsigned int count,
			      struct authd_request_cmd *cmd_r, const char **error_r);
int authd_proto_parse_user(const char *const *args, unsigned int count,
			   struct authd_user_cmd *cmd_r, const char **error_r);
int authd_proto_parse_list(const char *const *args, unsigned int count,
			   struct authd_list_cmd *cmd_r, const char **error_r);

#endif
