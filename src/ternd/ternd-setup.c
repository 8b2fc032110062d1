/* First-start setup: data directory, certificate, demo user. */
#include "ternd-setup.h"
#include "auth.h"
#include "auth-passwd-file-edit.h"
#include "auth-password.h"
#include "buffer.h"
#include "log.h"
#include "tls.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <pwd.h>
#include <unistd.h>

#define DEMO_USER "demo"

static int mkdir_parents(const char *path, mode_t mode, const char **error_r)
{
	char *copy = t_strdup(path);
	for (char *p = copy + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;
		*p = '\0';
		if (mkdir(copy, mode) < 0 && errno != EEXIST) {
			*error_r = t_strdup_printf("mkdir(%s) failed: %s", copy, strerror(errno));
			return -1;
		}
		*p = c;
		if (c == '\0')
			return 0;
	}
}

static const char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash == NULL || slash == path ? "/" : t_strndup(path, (size_t)(slash - path));
}

int ternd_setup_check_config(const struct tern_config *config, const char **error_r)
{
	const struct tern_settings *set = config->set;
	if (geteuid() == 0 && getpwnam(set->login_user) == NULL) {
		*error_r = t_strdup_printf("login_user %s does not exist: create it with "
					   "\"useradd --system --no-create-home --home-dir "
					   "/nonexistent --shell /usr/sbin/nologin %s\" or "
					   "set login_user", set->login_user, set->login_user);
		return -1;
	}
	if (mkdir_parents(set->base_dir, 0750, error_r) < 0)
		return -1;
	const struct tls_settings *tset = &set->tls;
	if (tset->generate_self_signed && access(tset->cert_file, F_OK) < 0 &&
	    access(tset->key_file, F_OK) < 0) {
		if (mkdir_parents(dir_of(tset->cert_file), 0755, error_r) < 0 ||
		    mkdir_parents(dir_of(tset->key_file), 0700, error_r) < 0)
			return -1;
		if (tls_generate_self_signed(tset->cert_file, tset->key_file, "localhost", error_r) < 0)
			return -1;
		log_info(NULL, "tls_selfsigned_created", "cert=%s key=%s",
			 log_value(tset->cert_file), log_value(tset->key_file));
	}
	struct tls_context *ctx;
	if (ternd_setup_tls_context(set, NULL, 0, &ctx, error_r) < 0)
		return -1;
	tls_context_destroy(&ctx);
	/* passdb/userdb and mechanism settings: refused here rather than by
	   an auth process that keeps failing to start (backends connect
	   only at the first lookup) */
	struct auth *auth;
	if (auth_create_from_settings(set, &auth, error_r) < 0)
		return -1;
	auth_destroy(&auth);
	return 0;
}

/* The tls_options of the settings, in temporary memory. */
static void ternd_tls_options(const struct tern_settings *set, struct tls_options *opts_r)
{
	const struct tls_settings *tset = &set->tls;
	unsigned int count = set->certificates.count;
	struct tls_certificate *certs = t_new(struct tls_certificate, count + 1);
	for (unsigned int i = 0; i < count; i++) {
		const struct tls_certificate_settings *c = set->certificates.v[i];
		certs[i] = (struct tls_certificate){
			.name = c->name, .server_names = c->server_names,
			.cert_file = c->cert_file, .key_file = c->key_file,
			.alt_cert_file = c->alt_cert_file, .alt_key_file = c->alt_key_file,
		};
	}
	*opts_r = (struct tls_options){
		.cert_file = tset->cert_file, .key_file = tset->key_file,
		.alt_cert_file = tset->alt_cert_file, .alt_key_file = tset->alt_key_file,
		.certificates = certs, .certificate_count = count,
		.min_protocol = tset->min_protocol, .ciphers = tset->ciphers,
		.cipher_suites = tset->cipher_suites, .groups = tset->groups,
		.prefer_server_ciphers = tset->prefer_server_ciphers,
		.session_timeout_secs = tset->session_timeout_ms / 1000,
		.verify_client =
			strcmp(tset->verify_client, TLS_VERIFY_CLIENT_VALUE_REQUIRED) == 0 ?
			TLS_VERIFY_CLIENT_REQUIRED :
			strcmp(tset->verify_client, TLS_VERIFY_CLIENT_VALUE_OPTIONAL) == 0 ?
			TLS_VERIFY_CLIENT_OPTIONAL : TLS_VERIFY_CLIENT_NO,
		.client_ca_file = tset->client_ca_file, .crl_file = tset->crl_file,
		.cert_username_field =
			strcmp(tset->cert_username_field, TLS_CERT_USERNAME_FIELD_EMAIL) == 0 ?
			TLS_CERT_USERNAME_EMAIL_ADDRESS :
			strcmp(tset->cert_username_field, TLS_CERT_USERNAME_FIELD_SAN_EMAIL) == 0 ?
			TLS_CERT_USERNAME_SAN_EMAIL : TLS_CERT_USERNAME_COMMON_NAME,
	};
}

int ternd_setup_tls_context(const struct tern_settings *set, const unsigned char *files,
			    size_t files_size, struct tls_context **ctx_r, const char **error_r)
{
	struct tls_options opts;
	ternd_tls_options(set, &opts);
	opts.files = files;
	opts.files_size = files_size;
	return tls_context_create(&opts, ctx_r, error_r);
}

int ternd_setup_tls_files(const struct tern_config *config, string_t *dest,
			  const char **error_r)
{
	struct tls_options opts;
	ternd_tls_options(config->set, &opts);
	size_t start = dest->used;
	if (tls_files_read(&opts, dest, error_r) < 0)
		return -1;
	/* what the workers will load must load: the files may have changed
	   since the configuration was checked */
	struct tls_context *ctx;
	if (ternd_setup_tls_context(config->set, dest->data + start, dest->used - start,
				    &ctx, error_r) < 0)
		return -1;
	tls_context_destroy(&ctx);
	return 0;
}

static const char *random_password(void)
{
	static const char chars[] = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
	unsigned char raw[16];
	if (RAND_bytes(raw, sizeof(raw)) != 1)
		i_fatal("RAND_bytes() failed");
	char *pw = t_malloc(sizeof(raw) + 1);
	for (unsigned int i = 0; i < sizeof(raw); i++)
		pw[i] = chars[raw[i] % (sizeof(chars) - 1)];
	pw[sizeof(raw)] = '\0';
	return pw;
}

static int demo_password_read(const char *path, const char **password_r)
{
	char buf[128];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	*password_r = t_strdup(buf);
	return 1;
}

static int demo_password_write(const char *path, const char *password, const char **error_r)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	const char *line = t_strdup_printf("%s\n", password);
	if (fd < 0 || write(fd, line, strlen(line)) != (ssize_t)strlen(line) || fsync(fd) < 0) {
		*error_r = t_strdup_printf("writing %s failed: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static void demo_print(const struct tern_settings *set, const char *password)
{
	string_t *str = t_str_new(1024);
	str_printfa(str, "\nTern " TERN_VERSION " is starting. Data is kept under %s\n\n", set->base_dir);
	for (unsigned int i = 0; i < set->listeners.count; i++) {
		const struct listener_settings *l = set->listeners.v[i];
		if (!l->enabled)
			continue;
		str_printfa(str, "  %-12s %-12s %s:%u%s\n", l->name, l->protocol, l->address, l->port,
			    l->tls == LISTENER_TLS_IMPLICIT ? " (TLS)" :
			    l->tls == LISTENER_TLS_STARTTLS ? " (STARTTLS)" :
			    l->tls == LISTENER_TLS_REQUIRED ? " (STARTTLS required)" : "");
	}
	if (password != NULL) {
		str_printfa(str, "\n  demo user:   %s\n  password:    %s\n", DEMO_USER, password);
		for (unsigned int i = 0; i < set->listeners.count; i++) {
			const struct listener_settings *l = set->listeners.v[i];
			if (l->enabled && strcmp(l->protocol, "imap") == 0 && l->tls != LISTENER_TLS_IMPLICIT) {
				str_printfa(str, "\n  try:  curl -v 'imap://%s:%u/' --user %s:%s\n",
					    l->address, l->port, DEMO_USER, password);
				break;
			}
		}
	}
	str_append(str, "  add a user:  ternctl user add NAME PASSWORD\n\n");
	fputs(str_c(str), stdout);
	fflush(stdout);
}

int ternd_setup_demo(const struct tern_config *config, const char **error_r)
{
	const struct tern_settings *set = config->set;
	const char *pw_path = t_strdup_printf("%s/demo-password", set->base_dir);
	const char *password = NULL;
	const char *const *users;
	unsigned int count;
	if (passwd_file_edit_list(set->auth.passwd_file, t_pool(), &users, &count, error_r) < 0)
		return -1;
	bool exists = false;
	for (unsigned int i = 0; i < count; i++)
		exists = exists || strcmp(users[i], DEMO_USER) == 0;
	if (!exists) {
		const char *hash;
		password = random_password();
		if (password_generate(password, set->auth.default_scheme, t_pool(), &hash, error_r) < 0 ||
		    passwd_file_edit_add(set->auth.passwd_file, DEMO_USER, hash, NULL, error_r) < 0 ||
		    demo_password_write(pw_path, password, error_r) < 0)
			return -1;
	} else if (demo_password_read(pw_path, &password) == 0) {
		password = "(changed; see ternctl user passwd demo)";
	}
	demo_print(set, password);
	return 0;
}

void ternd_log_setup(const char *service, const char *target_setting, bool foreground)
{
	enum log_target target = strcmp(target_setting, "stderr") == 0 ? LOG_TARGET_STDERR :
		strcmp(target_setting, "syslog") == 0 ? LOG_TARGET_SYSLOG :
		foreground ? LOG_TARGET_STDERR : LOG_TARGET_SYSLOG;
	enum log_level level = log_get_level();
	log_init(service, target, level);
}
