/* libFuzzer target for the auth process's line parser (src/authd/authd-proto.c
 * over src/auth-client/auth-client-proto.c): reads the input as protocol
 * lines with a small line limit, through a transport that hands out odd
 * chunk sizes, splits and unescapes every line, runs each command parser,
 * and checks what a parser accepted: escaping every field gives it back,
 * addresses are addresses, ports are ports, required fields are there. */
#include "lib.h"
#include "auth-client-proto.h"
#include "authd-proto.h"
#include "buffer.h"
#include "istream.h"
#include "transport.h"

#include <arpa/inet.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_LINE 512

static void fuzz_check_ip(const char *ip)
{
	unsigned char addr[16];

	if (ip != NULL && inet_pton(AF_INET, ip, addr) != 1 && inet_pton(AF_INET6, ip, addr) != 1)
		__builtin_trap();
}

static void fuzz_check_roundtrip(const char *const *args, int count)
{
	for (int i = 0; i < count; i++) {
		string_t *str = t_str_new(64);
		auth_proto_escape(str, args[i]);
		if (strchr(str_c(str), '\t') != NULL || strchr(str_c(str), '\n') != NULL)
			__builtin_trap();
		char *copy = t_strdup(str_c(str));
		if (auth_proto_unescape(copy) < 0 || strcmp(copy, args[i]) != 0)
			__builtin_trap();
	}
}

static void fuzz_auth(const char *const *args, unsigned int count)
{
	struct authd_auth_cmd cmd;
	const char *error;

	if (authd_proto_parse_auth(args, count, &cmd, &error) < 0)
		return;
	if (cmd.mech[0] == '\0' || cmd.service == NULL || cmd.service[0] == '\0' ||
	    (cmd.initial_response != NULL && cmd.initial_response[0] == '\0') ||
	    cmd.local_port > 65535 || cmd.remote_port > 65535)
		__builtin_trap();
	fuzz_check_ip(cmd.local_ip);
	fuzz_check_ip(cmd.remote_ip);
}

static void fuzz_master(const char *const *args, unsigned int count)
{
	struct authd_request_cmd req;
	struct authd_user_cmd user;
	struct authd_list_cmd list;
	const char *error;

	if (authd_proto_parse_request(args, count, &req, &error) == 0 && req.client_pid <= 0)
		__builtin_trap();
	if (authd_proto_parse_user(args, count, &user, &error) == 0) {
		if (user.user == NULL)
			__builtin_trap();
		fuzz_check_ip(user.remote_ip);
		fuzz_check_ip(user.local_ip);
	}
	if (authd_proto_parse_list(args, count, &list, &error) == 0 &&
	    list.mask != NULL && list.mask[0] == '\0')
		__builtin_trap();
}

static void fuzz_line(char *line)
{
	const char *args[AUTH_PROTO_MAX_ARGS];
	const char *error, *cont_data;
	unsigned int id;
	pid_t pid;
	int count = auth_proto_split(line, args, N_ELEMENTS(args));

	if (count < 0)
		return;
	if (count < 1)
		__builtin_trap();
	fuzz_check_roundtrip(args, count);
	/* every parser sees every line: a command name decides nothing
	   about memory safety */
	fuzz_auth(args, (unsigned int)count);
	(void)authd_proto_parse_cont(args, (unsigned int)count, &id, &cont_data, &error);
	(void)authd_proto_parse_cancel(args, (unsigned int)count, &id, &error);
	(void)authd_proto_parse_version(args, (unsigned int)count, 1, &error);
	if (authd_proto_parse_cpid(args, (unsigned int)count, &pid, &error) == 0 && pid <= 0)
		__builtin_trap();
	fuzz_master(args, (unsigned int)count);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct transport *t = transport_create_memory(data, size, size % 7 + 1);
	struct istream *input = i_stream_create(t, FUZZ_MAX_LINE + 2);

	for (;;) {
		const char *error;
		char *line;
		int ret = auth_proto_next_line(input, FUZZ_MAX_LINE, &line, &error);
		if (ret > 0) {
			fuzz_line(line);
			continue;
		}
		/* a bad line ends the connection, as the server does */
		if (ret < 0 || i_stream_read(input) == -1)
			break;
	}
	i_stream_destroy(&input);
	transport_destroy(&t);
	t_pool_clear();
	return 0;
}
