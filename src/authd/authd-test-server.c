/* A stand-alone auth socket over one passwd-file: serves the client
 * protocol (and, if asked, the master protocol) until SIGTERM. For the
 * Postfix test while ternd has no auth process yet, and for trying an MTA
 * by hand:
 *   authd-test-server -p passwd -c /run/auth-client [-m /run/auth-master]
 *                     [-d failure-delay-ms] [-M "PLAIN LOGIN"] [-i] */
#include "authd.h"
#include "connection.h"
#include "ioloop.h"
#include "log.h"
#include "net.h"
#include "strnum.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

struct authd_test_args {
	const char *passwd_file, *client_socket, *master_socket, *mechanisms;
	unsigned int failure_delay_ms;
	bool allow_insecure;
};

static void authd_test_signal(int signo, void *context)
{
	ioloop_stop();
}

static int authd_test_parse_args(int argc, char *argv[], struct authd_test_args *args)
{
	int c;

	while ((c = getopt(argc, argv, "p:c:m:d:M:i")) != -1) {
		switch (c) {
		case 'p': args->passwd_file = optarg; break;
		case 'c': args->client_socket = optarg; break;
		case 'm': args->master_socket = optarg; break;
		case 'M': args->mechanisms = optarg; break;
		case 'i': args->allow_insecure = true; break;
		case 'd':
			if (str_to_uint(optarg, &args->failure_delay_ms) < 0)
				return -1;
			break;
		default:
			return -1;
		}
	}
	return args->passwd_file == NULL || args->client_socket == NULL ? -1 : 0;
}

/* Listens on path, connectable by anyone (the MTA's user): a test tool. */
static int authd_test_listen(const char *path)
{
	const char *error;
	int fd = net_listen_unix(path, 128, &error);

	if (fd < 0)
		i_fatal("listen(%s): %s", path, error);
	if (chmod(path, 0666) < 0)
		i_fatal("chmod(%s) failed", path);
	return fd;
}

int main(int argc, char *argv[])
{
	struct authd_test_args args = { .failure_delay_ms = 0 };
	struct auth *auth;
	const char *error;

	if (authd_test_parse_args(argc, argv, &args) < 0) {
		fprintf(stderr, "usage: %s -p passwd-file -c client-socket [-m master-socket] "
			"[-d failure-delay-ms] [-M mechanisms] [-i]\n", argv[0]);
		return 64;
	}
	log_init("auth", LOG_TARGET_STDERR, LOG_LEVEL_DEBUG);
	(void)signal(SIGPIPE, SIG_IGN);
	ioloop_init();
	char cwd[4096];
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		i_fatal("getcwd() failed");
	struct auth_options opts = {
		.passwd_file = args.passwd_file,
		.base_dir = cwd,
		.mechanisms = args.mechanisms,
		.failure_delay_ms = args.failure_delay_ms,
		.allow_insecure_plaintext = args.allow_insecure,
	};
	if (auth_create(&opts, &auth, &error) < 0)
		i_fatal("auth: %s", error);
	struct authd_settings set = { .max_line_length = 0 };
	struct authd *authd = authd_create(auth, &set);
	authd_add_client_listener(authd, authd_test_listen(args.client_socket));
	if (args.master_socket != NULL)
		authd_add_master_listener(authd, authd_test_listen(args.master_socket));
	signal_add(SIGTERM, authd_test_signal, NULL);
	signal_add(SIGINT, authd_test_signal, NULL);
	log_info(NULL, "authd_ready", "socket=%s", log_value(args.client_socket));
	ioloop_run();
	authd_destroy(&authd);
	connection_close_all("shutting down");
	auth_destroy(&auth);
	(void)unlink(args.client_socket);
	if (args.master_socket != NULL)
		(void)unlink(args.master_socket);
	ioloop_deinit();
	return 0;
}
