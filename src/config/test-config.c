/* Unit tests for src/config: value types, blocks, labels, includes, dotted
 * keys, overrides, merging with the embedded default, path resolution,
 * dumps, docs/configuration.md staying in sync, and garbage input. */
#include "test-common.h"
#include "config-settings.h"
#include "strnum.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#define DOC_MARKER "<!-- generated from the settings tables: do not edit below -->"

static const char *test_cwd(void)
{
	char *cwd = getcwd(NULL, 0);
	const char *ret;

	i_assert(cwd != NULL);
	ret = t_strdup(cwd);
	free(cwd);
	return ret;
}

static struct tern_config *test_load(const char *text, const char *const *overrides)
{
	struct tern_config *config;
	const char *error;

	if (config_load_string(text, "t.conf", overrides, &config, &error) < 0) {
		printf("  unexpected error: %s\n", error);
		return NULL;
	}
	return config;
}

static const char *test_load_error(const char *text, const char *const *overrides)
{
	struct tern_config *config;
	const char *error;

	if (config_load_string(text, "t.conf", overrides, &config, &error) == 0) {
		config_free(&config);
		return "(loaded)";
	}
	return error;
}

/* The formatted value of a dotted key, as the dump would write it (paths
   absolute). */
static const char *test_get(const struct tern_config *config, const char *key)
{
	const struct tern_settings *set = config->set;
	const struct setting_def *defs = tern_setting_defs;
	const void *target = set;
	const char *dot = strchr(key, '.');

	if (dot != NULL) {
		const char *kind = t_strndup(key, (size_t)(dot - key));
		const struct config_block_def *def = config_block_find(kind);
		const char *label;
		i_assert(def != NULL);
		defs = def->defs;
		key = dot + 1;
		if (def->labelled) {
			dot = strchr(key, '.');
			label = t_strndup(key, (size_t)(dot - key));
			key = dot + 1;
			target = NULL;
			for (unsigned int i = 0; i < set->listeners.count &&
						 def == &config_block_listener; i++) {
				if (strcmp(set->listeners.v[i]->name, label) == 0)
					target = set->listeners.v[i];
			}
			if (def == &config_block_service)
				target = config_find_service(config, label);
			if (target == NULL)
				return "(no such block)";
		} else {
			target = (const char *)set + def->offset;
		}
	}
	int idx = setting_def_find(defs, key);
	i_assert(idx >= 0);
	return setting_format(&defs[idx], target, NULL);
}

static const struct listener_settings *
test_listener(const struct tern_config *config, const char *name)
{
	for (unsigned int i = 0; i < config->set->listeners.count; i++) {
		if (strcmp(config->set->listeners.v[i]->name, name) == 0)
			return config->set->listeners.v[i];
	}
	return NULL;
}

static void test_config_defaults(void)
{
	struct tern_config *config;
	const struct listener_settings *l;
	const char *error, *base;

	test_begin("config embedded default");
	test_assert(config_load(NULL, NULL, &config, &error) == 0);
	const struct tern_settings *set = config->set;
	base = t_strdup_printf("%s/var", test_cwd());
	test_assert(config->path == NULL);
	test_assert_strcmp(set->base_dir, base);
	test_assert_strcmp(set->log_target, "auto");
	test_assert_strcmp(set->log_level, "info");
	test_assert(set->shutdown_timeout_ms == 30000);
	test_assert_strcmp(set->tls.cert_file, t_strdup_printf("%s/tls/cert.pem", base));
	test_assert_strcmp(set->tls.key_file, t_strdup_printf("%s/tls/key.pem", base));
	test_assert_strcmp(set->tls.min_protocol, "TLSv1.2");
	test_assert_strcmp(set->tls.ciphers, "ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:DHE+CHACHA20");
	test_assert_strcmp(set->tls.cipher_suites, "");
	test_assert(set->tls.prefer_server_ciphers && set->tls.generate_self_signed);
	test_assert_strcmp(set->tls.groups, "");
	test_assert(set->tls.session_timeout_ms == 5 * 60000);
	test_assert_strcmp(set->tls.verify_client, "no");
	test_assert_strcmp(set->tls.cert_username_field, "commonName");
	test_assert_strcmp(set->tls.client_ca_file, "");
	test_assert(set->certificates.count == 0);
	test_assert_strcmp(set->auth.passwd_file, t_strdup_printf("%s/passwd", base));
	test_assert_strcmp(set->auth.mechanisms, "PLAIN LOGIN");
	test_assert_strcmp(set->auth.default_scheme, "SHA512-CRYPT");
	test_assert(set->auth.failure_delay_ms == 2000);
	test_assert(!set->auth.allow_insecure_plaintext);
	test_assert(set->imap.max_line_length == 64 * 1024);
	test_assert(set->imap.max_literal_size == 64 * 1024 * 1024);
	test_assert(set->imap.login_timeout_ms == 60000);
	test_assert(set->imap.idle_timeout_ms == 30 * 60000);
	test_assert(set->imap.output_buffer_limit == 256 * 1024);
	test_assert(set->imap.output_timeout_ms == 5 * 60000);

	test_assert(set->services.count == 4);
	static const char *const services[] = { "imap", "pop3", "lmtp", "managesieve" };
	for (unsigned int i = 0; i < N_ELEMENTS(services); i++) {
		const struct service_settings *s = config_find_service(config, services[i]);
		/* lmtp's deliveries wait for fsyncs: more processes */
		test_assert(s != NULL && s->client_limit == 10000 &&
			    s->process_count == (strcmp(services[i], "lmtp") == 0 ? 8 : 2));
	}
	test_assert(config_find_service(config, "smtp") == NULL);

	static const struct {
		const char *name, *protocol;
		unsigned int port;
		enum listener_tls tls;
	} listeners[] = {
		{ "imap", "imap", 1143, LISTENER_TLS_STARTTLS },
		{ "imaps", "imap", 1993, LISTENER_TLS_IMPLICIT },
		{ "pop3", "pop3", 1110, LISTENER_TLS_STARTTLS },
		{ "pop3s", "pop3", 1995, LISTENER_TLS_IMPLICIT },
		{ "lmtp", "lmtp", 2424, LISTENER_TLS_NONE },
		{ "managesieve", "managesieve", 4190, LISTENER_TLS_STARTTLS },
	};
	test_assert(set->listeners.count == N_ELEMENTS(listeners));
	for (unsigned int i = 0; i < N_ELEMENTS(listeners); i++) {
		l = set->listeners.v[i];
		test_assert_strcmp(l->name, listeners[i].name);
		test_assert_strcmp(l->protocol, listeners[i].protocol);
		test_assert_strcmp(l->address, "127.0.0.1");
		test_assert_strcmp(l->path, "");
		test_assert(l->port == listeners[i].port);
		test_assert(l->tls == listeners[i].tls);
		test_assert(l->enabled);
	}
	config_free(&config);
	test_assert(config == NULL);
	config_free(&config);
	test_end();
}

static void test_config_values(void)
{
	static const struct {
		const char *text, *key, *value;
	} tests[] = {
		{ "log_level = debug", "log_level", "debug" },
		{ "log_level = DEBUG", "log_level", "debug" },
		{ "log_target=syslog", "log_target", "syslog" },
		{ "tls.min_protocol = tlsv1.3", "tls.min_protocol", "TLSv1.3" },
		{ "imap.max_line_length = 1M", "imap.max_line_length", "1M" },
		{ "imap.max_line_length = 2048", "imap.max_line_length", "2k" },
		{ "imap.max_line_length = 1025", "imap.max_line_length", "1025" },
		{ "imap.max_literal_size = 10 MB", "imap.max_literal_size", "10M" },
		{ "imap.max_literal_size = 0", "imap.max_literal_size", "0" },
		{ "imap.login_timeout = 90s", "imap.login_timeout", "90s" },
		{ "imap.login_timeout = 120", "imap.login_timeout", "2m" },
		{ "imap.idle_timeout = 2 hours", "imap.idle_timeout", "2h" },
		{ "imap.idle_timeout = 1s", "imap.idle_timeout", "1s" },
		{ "auth.failure_delay = 250ms", "auth.failure_delay", "250ms" },
		{ "auth.failure_delay = 0", "auth.failure_delay", "0ms" },
		{ "shutdown_timeout = 49d", "shutdown_timeout", "49d" },
		{ "tls.prefer_server_ciphers = no", "tls.prefer_server_ciphers", "no" },
		{ "auth.allow_insecure_plaintext = YES", "auth.allow_insecure_plaintext", "yes" },
		{ "service.imap.process_count = 1024", "service.imap.process_count", "1024" },
		{ "service.lmtp.client_limit = 1", "service.lmtp.client_limit", "1" },
		{ "listener.imaps.port = 65535", "listener.imaps.port", "65535" },
		{ "listener.imaps.tls = starttls", "listener.imaps.tls", "starttls" },
		{ "listener.imaps.address = ::1", "listener.imaps.address", "::1" },
		{ "listener.imaps.address = *", "listener.imaps.address", "*" },
		{ "listener.imaps.address = ::", "listener.imaps.address", "::" },
		{ "listener.imaps.address = 0.0.0.0", "listener.imaps.address", "0.0.0.0" },
		{ "listener.imaps.protocol = POP3", "listener.imaps.protocol", "pop3" },
		{ "auth.mechanisms = \"PLAIN  LOGIN \"", "auth.mechanisms", "PLAIN  LOGIN " },
		{ "tls.ciphers = \"a\\\"b\\\\c\"  # comment", "tls.ciphers", "a\"b\\c" },
		{ "tls.ciphers = \"a # b\"", "tls.ciphers", "a # b" },
		{ "tls.ciphers = a#b", "tls.ciphers", "a#b" },
		{ "tls.ciphers = a b\t# comment", "tls.ciphers", "a b" },
		{ "tls.ciphers = a \"b\"", "tls.ciphers", "a \"b\"" },
		{ "tls.cipher_suites =", "tls.cipher_suites", "" },
		{ "tls.cipher_suites = # nothing", "tls.cipher_suites", "" },
		{ "tls.cipher_suites = \"\"", "tls.cipher_suites", "" },
		{ "\t tls.ciphers   =   x y  \r", "tls.ciphers", "x y" },
		{ "tls {\n\tciphers = HIGH\n}", "tls.ciphers", "HIGH" },
		{ "tls{\nciphers=HIGH\n}#", "tls.ciphers", "HIGH" },
		{ "tls.ciphers = A\ntls.ciphers = B", "tls.ciphers", "B" },
		{ "tls {\nciphers = A\nciphers = B\n}", "tls.ciphers", "B" },
		{ "tls.ciphers = caf\xc3\xa9", "tls.ciphers", "caf\xc3\xa9" },
	};

	test_begin("config values");
	for (unsigned int i = 0; i < N_ELEMENTS(tests); i++) {
		struct tern_config *config = test_load(tests[i].text, NULL);
		test_assert(config != NULL);
		if (config == NULL)
			continue;
		test_assert_strcmp(test_get(config, tests[i].key), tests[i].value);
		config_free(&config);
	}
	test_end();
}

static void test_config_errors(void)
{
	static const struct {
		const char *text, *error;
	} tests[] = {
		{ "imap.max_line_length = 12q",
		  "t.conf:1: invalid size '12q' for imap.max_line_length" },
		{ "# comment\n\nimap {\n  max_line_length = 12q\n}",
		  "t.conf:4: invalid size '12q' for imap.max_line_length" },
		{ "imap {\n  foo = 1\n}", "t.conf:2: unknown setting 'foo' in block 'imap'" },
		{ "imap.foo = 1", "t.conf:1: unknown setting 'foo' in block 'imap'" },
		{ "listener imaps {\nfoo = 1\n}",
		  "t.conf:2: unknown setting 'foo' in block 'listener imaps'" },
		{ "foo = 1", "t.conf:1: unknown setting 'foo'" },
		{ "bar.foo = 1", "t.conf:1: unknown setting 'bar.foo'" },
		{ "imap {\nimap.max_line_length = 1k\n}",
		  "t.conf:2: unknown setting 'imap.max_line_length' in block 'imap'" },
		{ "imap.max_line_length =", "t.conf:1: invalid size '' for imap.max_line_length" },
		{ "imap.max_line_length = 512",
		  "t.conf:1: value '512' for imap.max_line_length is below the minimum 1k" },
		{ "imap.max_literal_size = 99999999999999999999",
		  "t.conf:1: invalid size '99999999999999999999' for imap.max_literal_size" },
		{ "imap.max_literal_size = 17179869184G",
		  "t.conf:1: invalid size '17179869184G' for imap.max_literal_size" },
		{ "imap.login_timeout = 5x", "t.conf:1: invalid duration '5x' for imap.login_timeout" },
		{ "imap.login_timeout = -5s", "t.conf:1: invalid duration '-5s' for imap.login_timeout" },
		{ "imap.login_timeout = 100ms",
		  "t.conf:1: value '100ms' for imap.login_timeout is below the minimum 1s" },
		{ "imap.login_timeout = 50d",
		  "t.conf:1: value '50d' for imap.login_timeout is above the maximum 4294967295ms" },
		{ "service.imap.process_count = 0",
		  "t.conf:1: value '0' for service.imap.process_count is below the minimum 1" },
		{ "service.imap.process_count = 1025",
		  "t.conf:1: value '1025' for service.imap.process_count is above the maximum 1024" },
		{ "service.imap.process_count = -1",
		  "t.conf:1: invalid number '-1' for service.imap.process_count" },
		{ "service imap {\nprocess_count = 1x\n}",
		  "t.conf:2: invalid number '1x' for service.imap.process_count" },
		{ "service.imap.process_count = 99999999999999999999",
		  "t.conf:1: invalid number '99999999999999999999' for service.imap.process_count" },
		{ "service.smtp.process_count = 1",
		  "t.conf:1: unknown service 'smtp' (expected imap, pop3, lmtp or managesieve)" },
		{ "service smtp {\n}",
		  "t.conf:1: unknown service 'smtp' (expected imap, pop3, lmtp or managesieve)" },
		{ "listener.imaps.port = 65536",
		  "t.conf:1: value '65536' for listener.imaps.port is above the maximum 65535" },
		{ "listener.imaps.address = localhost",
		  "t.conf:1: invalid value 'localhost' for listener.imaps.address: "
		  "expected an IPv4 or IPv6 address, or *" },
		{ "listener.imaps.tls = maybe",
		  "t.conf:1: invalid value 'maybe' for listener.imaps.tls (expected none, starttls, implicit or required)" },
		{ "log_level = loud",
		  "t.conf:1: invalid value 'loud' for log_level (expected debug, info, warning or error)" },
		{ "tls.min_protocol = TLSv1.1",
		  "t.conf:1: invalid value 'TLSv1.1' for tls.min_protocol (expected TLSv1.2 or TLSv1.3)" },
		{ "tls.prefer_server_ciphers = true",
		  "t.conf:1: invalid boolean 'true' for tls.prefer_server_ciphers (expected yes or no)" },
		{ "base_dir = \"\"", "t.conf:1: invalid value '' for base_dir: must not be empty" },
		{ "tls.ciphers = \"abc", "t.conf:1: unterminated quoted string" },
		{ "tls.ciphers = \"abc\\", "t.conf:1: unterminated quoted string" },
		{ "tls.ciphers = \"a\\nb\"",
		  "t.conf:1: invalid escape in quoted string (only \\\" and \\\\ are allowed)" },
		{ "tls.ciphers = \"a\" b", "t.conf:1: unexpected text after quoted string" },
		{ "imap {", "t.conf:1: unterminated block 'imap' (missing '}')" },
		{ "imap {\n}\nlistener x {\nport = 1\n",
		  "t.conf:3: unterminated block 'listener x' (missing '}')" },
		{ "}", "t.conf:1: unexpected '}'" },
		{ "imap {\n}\n}", "t.conf:3: unexpected '}'" },
		{ "imap {\n} x", "t.conf:2: unexpected text after '}'" },
		{ "foo {\n}", "t.conf:1: unknown block 'foo'" },
		{ "imap {\n tls {\n}\n}", "t.conf:2: unknown block 'tls' in block 'imap'" },
		{ "listener {\n}", "t.conf:1: block 'listener' needs a name: listener NAME {" },
		{ "imap x {\n}", "t.conf:1: block 'imap' takes no name" },
		{ "listener a/b {\n}",
		  "t.conf:1: invalid listener name 'a/b' (letters, digits, '_' and '-' only)" },
		{ "listener.a:b.port = 1", "t.conf:1: invalid character in name 'listener.a:b.port'" },
		{ "listener..port = 1", "t.conf:1: block 'listener' needs a name" },
		{ "listener.port = 1",
		  "t.conf:1: setting 'listener.port' needs a name: listener.NAME.KEY" },
		{ "imap { max_line_length = 1k }",
		  "t.conf:1: unexpected text after '{' (put each setting on its own line)" },
		{ "imap", "t.conf:1: expected '=' or '{' after 'imap'" },
		{ "imap # comment", "t.conf:1: expected '=' or '{' after 'imap'" },
		{ "listener x y {", "t.conf:1: expected '{' after 'listener x'" },
		{ "= 1", "t.conf:1: expected a setting or a block, not '='" },
		{ "fo$o = 1", "t.conf:1: invalid character in name 'fo$o'" },
		{ "include x.conf", "t.conf:1: include is not available in t.conf (it is not a file)" },
		{ "include_try x.conf", "t.conf:1: include is not available in t.conf (it is not a file)" },
		{ "log_level = info\x01", "t.conf:1: invalid control character 0x01" },
		{ "log_level = info\n\x7f", "t.conf:2: invalid control character 0x7f" },
		{ "log_level = info\r\r\n", "t.conf:1: invalid control character 0x0d" },
		{ "listener.foo.port = 1",
		  "t.conf:1: listener 'foo': set its protocol (it is not implied by the name)" },
		{ "listener imaps2 {\nport = 1\n}",
		  "t.conf:1: listener 'imaps2': set its protocol (it is not implied by the name)" },
		{ "\nlistener imap2 {\n protocol = imap\n}",
		  "t.conf:2: listener 'imap2' needs a port or a path" },
		{ "listener imap {\nport = 0\n}", "t.conf:1: listener 'imap' needs a port or a path" },
		{ "\n\nlistener.lmtp.path = x.sock",
		  "t.conf:3: listener 'lmtp' has both port 2424 and path 'x.sock'; "
		  "set port = 0 to listen on the Unix socket only" },
	};

	test_begin("config errors");
	for (unsigned int i = 0; i < N_ELEMENTS(tests); i++)
		test_assert_strcmp(test_load_error(tests[i].text, NULL), tests[i].error);
	test_end();
}

static void test_config_limits(void)
{
	string_t *text = t_str_new(CONFIG_MAX_LINE_LENGTH + 64);

	test_begin("config limits");
	/* a line of exactly the limit is fine, one more byte is not */
	str_append(text, "tls.ciphers = ");
	while (str_len(text) < CONFIG_MAX_LINE_LENGTH)
		str_append_c(text, 'x');
	str_append(text, "\r\n");
	struct tern_config *config = test_load(str_c(text), NULL);
	test_assert(config != NULL);
	test_assert(config != NULL && strlen(config->set->tls.ciphers) ==
		    CONFIG_MAX_LINE_LENGTH - strlen("tls.ciphers = "));
	config_free(&config);
	str_truncate(text, str_len(text) - 2);
	str_append(text, "x\n");
	test_assert_strcmp(test_load_error(str_c(text), NULL),
			   "t.conf:1: line too long (limit 64k)");

	/* file size */
	str_truncate(text, 0);
	while (str_len(text) <= CONFIG_MAX_FILE_SIZE)
		str_append(text, "# padding padding padding padding padding\n");
	test_assert_strcmp(test_load_error(str_c(text), NULL),
			   "t.conf: file too large (limit 1M)");

	/* nested blocks stop at the schema, long before the depth limit */
	test_assert_strcmp(test_load_error("imap {\nimap {\n}\n}", NULL),
			   "t.conf:2: unknown block 'imap' in block 'imap'");

	/* listener names and counts */
	str_truncate(text, 0);
	str_append(text, "listener.");
	for (unsigned int i = 0; i <= CONFIG_MAX_LABEL_LENGTH; i++)
		str_append_c(text, 'a');
	str_append(text, ".port = 1");
	test_assert_strcmp(test_load_error(str_c(text), NULL),
			   "t.conf:1: listener name longer than 64 characters");
	str_truncate(text, 0);
	for (unsigned int i = 0; i < CONFIG_MAX_LISTENERS; i++)
		str_printfa(text, "listener.l%u.protocol = imap\n", i);
	test_assert_strcmp(test_load_error(str_c(text), NULL),
			   "t.conf:1019: too many listener blocks (limit 1024)");
	test_end();
}

static void test_config_blocks(void)
{
	static const char text[] =
		"# a comment\n"
		"base_dir = /srv/tern\n"
		"log_level = warning   # trailing comment\n"
		"tls {\n"
		"  cert_file = /etc/ssl/tern.pem\n"
		"}\n"
		"listener imaps {\n"
		"  port = 10993\n"
		"}\n"
		"listener imap {\n"
		"  enabled = no\n"
		"}\n"
		"listener lmtp-unix {\n"
		"  protocol = lmtp\n"
		"  path = lmtp.sock\n"
		"}\n"
		"listener imaps {    # the same label again merges\n"
		"  address = ::\n"
		"}\n"
		"service imap {\n"
		"  process_count = 8\n"
		"}\n"
		"imap.max_line_length = 1M\n";
	const struct listener_settings *l;

	test_begin("config blocks and merging");
	struct tern_config *config = test_load(text, NULL);
	test_assert(config != NULL);
	if (config == NULL) {
		test_end();
		return;
	}
	const struct tern_settings *set = config->set;
	test_assert_strcmp(set->base_dir, "/srv/tern");
	test_assert_strcmp(set->log_level, "warning");
	test_assert_strcmp(set->tls.cert_file, "/etc/ssl/tern.pem");
	test_assert_strcmp(set->tls.key_file, "/srv/tern/tls/key.pem");
	test_assert_strcmp(set->auth.passwd_file, "/srv/tern/passwd");
	test_assert(set->imap.max_line_length == 1024 * 1024);
	test_assert(set->listeners.count == 7);

	l = test_listener(config, "imaps");
	test_assert(l != NULL && l->port == 10993 && strcmp(l->address, "::") == 0 &&
		    l->tls == LISTENER_TLS_IMPLICIT && strcmp(l->protocol, "imap") == 0 &&
		    l->enabled);
	l = test_listener(config, "imap");
	test_assert(l != NULL && !l->enabled && l->port == 1143);
	l = set->listeners.v[6];
	test_assert_strcmp(l->name, "lmtp-unix");
	test_assert_strcmp(l->protocol, "lmtp");
	test_assert_strcmp(l->path, "/srv/tern/lmtp.sock");
	test_assert(l->port == 0 && l->tls == LISTENER_TLS_NONE && l->enabled);

	test_assert(config_find_service(config, "imap")->process_count == 8);
	test_assert(config_find_service(config, "imap")->client_limit == 10000);
	test_assert(config_find_service(config, "pop3")->process_count == 2);

	/* non-default dump: only what the config changed, paths under
	   base_dir relative to it */
	string_t *dump = t_str_new(256);
	config_dump(config, true, dump);
	test_assert_strcmp(str_c(dump),
		"base_dir = /srv/tern\n"
		"log_level = warning\n"
		"\n"
		"tls {\n"
		"  cert_file = /etc/ssl/tern.pem\n"
		"}\n"
		"\n"
		"imap {\n"
		"  max_line_length = 1M\n"
		"}\n"
		"\n"
		"service imap {\n"
		"  process_count = 8\n"
		"}\n"
		"\n"
		"listener imap {\n"
		"  enabled = no\n"
		"}\n"
		"\n"
		"listener imaps {\n"
		"  address = ::\n"
		"  port = 10993\n"
		"}\n"
		"\n"
		"listener lmtp-unix {\n"
		"  protocol = lmtp\n"
		"  path = lmtp.sock\n"
		"}\n");
	config_free(&config);

	/* the embedded default has nothing that differs from itself */
	const char *error;
	test_assert(config_load(NULL, NULL, &config, &error) == 0);
	str_truncate(dump, 0);
	config_dump(config, true, dump);
	test_assert_strcmp(str_c(dump), "");
	config_free(&config);
	test_end();
}

static void test_config_derived(void)
{
	static const struct {
		const char *text, *name, *protocol;
		enum listener_tls tls;
	} tests[] = {
		{ "listener lmtps {\nport = 1\n}", "lmtps", "lmtp", LISTENER_TLS_IMPLICIT },
		{ "listener managesieves {\nport = 1\n}", "managesieves", "managesieve",
		  LISTENER_TLS_IMPLICIT },
		{ "listener x {\nprotocol = managesieve\nport = 2\n}", "x", "managesieve",
		  LISTENER_TLS_STARTTLS },
		{ "listener x {\nprotocol = lmtp\nport = 2\n}", "x", "lmtp", LISTENER_TLS_NONE },
		{ "listener x {\nprotocol = imap\nport = 3\ntls = none\n}", "x", "imap",
		  LISTENER_TLS_NONE },
		{ "listener imaps {\nprotocol = pop3\n}", "imaps", "pop3", LISTENER_TLS_IMPLICIT },
		{ "listener imap {\ntls = implicit\n}", "imap", "imap", LISTENER_TLS_IMPLICIT },
		{ "listener lmtp {\nport = 0\npath = /run/lmtp\n}", "lmtp", "lmtp",
		  LISTENER_TLS_NONE },
		{ "listener.x.protocol = pop3\nlistener.x.enabled = no", "x", "pop3",
		  LISTENER_TLS_STARTTLS },
	};

	test_begin("config derived listener defaults");
	for (unsigned int i = 0; i < N_ELEMENTS(tests); i++) {
		struct tern_config *config = test_load(tests[i].text, NULL);
		const struct listener_settings *l =
			config == NULL ? NULL : test_listener(config, tests[i].name);
		test_assert(l != NULL);
		if (l != NULL) {
			test_assert_strcmp(l->protocol, tests[i].protocol);
			test_assert(l->tls == tests[i].tls);
		}
		config_free(&config);
	}
	test_end();
}

static void test_config_paths(void)
{
	const char *cwd = test_cwd();
	struct tern_config *config;

	test_begin("config path resolution");
	config = test_load("base_dir = ./a/./b//\n"
			   "tls.cert_file = ../x.pem\n"
			   "tls.key_file = /etc//tern/./key.pem\n"
			   "auth.passwd_file = ./users/passwd\n"
			   "listener.lmtp.port = 0\n"
			   "listener.lmtp.path = sock/lmtp\n", NULL);
	test_assert(config != NULL);
	if (config != NULL) {
		const char *base = t_strdup_printf("%s/a/b", cwd);
		test_assert_strcmp(config->set->base_dir, base);
		test_assert_strcmp(config->set->tls.cert_file,
				   t_strdup_printf("%s/../x.pem", base));
		test_assert_strcmp(config->set->tls.key_file, "/etc/tern/key.pem");
		test_assert_strcmp(config->set->auth.passwd_file,
				   t_strdup_printf("%s/users/passwd", base));
		test_assert_strcmp(test_listener(config, "lmtp")->path,
				   t_strdup_printf("%s/sock/lmtp", base));
		test_assert_strcmp(test_listener(config, "imap")->path, "");
	}
	config_free(&config);

	config = test_load("base_dir = /\nauth.passwd_file = passwd", NULL);
	test_assert(config != NULL);
	if (config != NULL) {
		test_assert_strcmp(config->set->base_dir, "/");
		test_assert_strcmp(config->set->auth.passwd_file, "/passwd");
		string_t *dump = t_str_new(128);
		config_dump(config, true, dump);
		test_assert_strcmp(str_c(dump), "base_dir = /\n");
	}
	config_free(&config);
	test_end();
}

static void test_config_no_cwd(void)
{
	char tmpl[] = "/tmp/test-config-cwd.XXXXXX";
	const char *cwd = test_cwd(), *error;
	struct tern_config *config;

	test_begin("config without a current directory");
	if (mkdtemp(tmpl) == NULL || chdir(tmpl) < 0 || rmdir(tmpl) < 0)
		i_fatal("cannot set up a removed cwd: %s", strerror(errno));
	test_assert(config_load(NULL, NULL, &config, &error) < 0);
	test_assert_strcmp(error, "cannot resolve base_dir: getcwd() failed: "
			   "No such file or directory");
	/* an absolute base_dir needs no cwd, and neither does dumping */
	config = test_load("base_dir = /srv/tern\nlog_level = error", NULL);
	test_assert(config != NULL);
	if (config != NULL) {
		string_t *dump = t_str_new(128);
		config_dump(config, true, dump);
		test_assert_strcmp(str_c(dump), "base_dir = /srv/tern\nlog_level = error\n");
	}
	config_free(&config);
	if (chdir(cwd) < 0)
		i_fatal("chdir(%s) failed: %s", cwd, strerror(errno));
	test_end();
}

static void test_config_overrides(void)
{
	static const char *const overrides[] = {
		"imap.max_line_length=2M",
		" listener.imaps.enabled =  no ",
		"log_level=debug",
		"auth.mechanisms=\"PLAIN # x\"",
		"listener.extra.protocol=pop3",
		"listener.extra.port=11000",
		NULL
	};
	static const struct {
		const char *override, *error;
	} errors[] = {
		{ "imap.foo=1", "override 'imap.foo=1': unknown setting 'foo' in block 'imap'" },
		{ "nonsense", "override 'nonsense': expected KEY=VALUE" },
		{ "imap.max_line_length=12q",
		  "override 'imap.max_line_length=12q': invalid size '12q' for imap.max_line_length" },
		{ "listener.foo.port=1",
		  "override 'listener.foo.port=1': listener 'foo': set its protocol "
		  "(it is not implied by the name)" },
		{ "log_level=\"info", "override 'log_level=\"info': unterminated quoted string" },
		{ "log_level=info\n", "override: invalid control character 0x0a" },
		{ "=1", "override '=1': unknown setting ''" },
	};
	struct tern_config *config;

	test_begin("config overrides");
	config = test_load("imap.max_line_length = 1M\nlog_level = error\n", overrides);
	test_assert(config != NULL);
	if (config != NULL) {
		test_assert(config->set->imap.max_line_length == 2 * 1024 * 1024);
		test_assert(!test_listener(config, "imaps")->enabled);
		test_assert_strcmp(config->set->log_level, "debug");
		test_assert_strcmp(config->set->auth.mechanisms, "PLAIN # x");
		test_assert(test_listener(config, "extra")->port == 11000);
		test_assert(test_listener(config, "extra")->tls == LISTENER_TLS_STARTTLS);
	}
	config_free(&config);

	for (unsigned int i = 0; i < N_ELEMENTS(errors); i++) {
		const char *const list[] = { errors[i].override, NULL };
		test_assert_strcmp(test_load_error("", list), errors[i].error);
	}
	test_end();
}

/* dump -> load -> dump gives the same text, for the full and the
   non-default dump; and both dumps describe the same settings */
static void test_round_trip(const struct tern_config *config)
{
	for (int non_default = 0; non_default <= 1; non_default++) {
		string_t *dump1 = t_str_new(1024), *dump2 = t_str_new(1024);
		string_t *full1 = t_str_new(1024), *full2 = t_str_new(1024);
		struct tern_config *config2;

		config_dump(config, non_default != 0, dump1);
		config2 = test_load(str_c(dump1), NULL);
		test_assert(config2 != NULL);
		if (config2 == NULL)
			continue;
		config_dump(config2, non_default != 0, dump2);
		test_assert_strcmp(str_c(dump2), str_c(dump1));
		config_dump(config, false, full1);
		config_dump(config2, false, full2);
		test_assert_strcmp(str_c(full2), str_c(full1));
		config_free(&config2);
	}
}

static void test_config_dump(void)
{
	static const char *const texts[] = {
		"",
		"base_dir = data\nlog_target = stderr\nshutdown_timeout = 90s\n",
		"tls.ciphers = \"a\\\"b\\\\c # d\"\ntls.cipher_suites = \" lead\"\n"
		"auth.mechanisms = \"trail \"\nauth.default_scheme = x#y\n",
		"listener lmtp-unix {\nprotocol = lmtp\npath = /run/tern/lmtp\n}\n"
		"listener lmtp {\nenabled = no\n}\nlistener imaps {\ntls = starttls\n}\n"
		"listener x {\nprotocol = imap\nport = 1\ntls = implicit\n}\n"
		"listener pop3s {\nprotocol = imap\n}\n",
		"service managesieve {\nprocess_count = 1\nclient_limit = 5\n}\n"
		"imap.idle_timeout = 1s\nimap.max_literal_size = 1000\n"
		"imap.output_buffer_limit = 1G\n",
		"base_dir = /x\ntls.cert_file = /x/c.pem\ntls.key_file = /y/k.pem\n"
		"listener.lmtp.port = 0\nlistener.lmtp.path = /x/s/lmtp\n",
	};

	test_begin("config dump round trip");
	for (unsigned int i = 0; i < N_ELEMENTS(texts); i++) {
		struct tern_config *config = test_load(texts[i], NULL);
		test_assert(config != NULL);
		if (config != NULL)
			test_round_trip(config);
		config_free(&config);
	}

	/* a full dump lists everything, quoting where needed */
	struct tern_config *config = test_load(texts[2], NULL);
	string_t *dump = t_str_new(1024);
	config_dump(config, false, dump);
	test_assert(strstr(str_c(dump), "\n  ciphers = \"a\\\"b\\\\c # d\"\n") != NULL);
	test_assert(strstr(str_c(dump), "\n  cipher_suites = \" lead\"\n") != NULL);
	test_assert(strstr(str_c(dump), "\n  mechanisms = \"trail \"\n") != NULL);
	test_assert(strstr(str_c(dump), "\n  default_scheme = \"x#y\"\n") != NULL);
	test_assert(strstr(str_c(dump), "\nlistener managesieve {\n  protocol = managesieve\n"
				       "  address = 127.0.0.1\n  port = 4190\n  path = \"\"\n"
				       "  tls = starttls\n  enabled = yes\n}\n") != NULL);
	test_assert(strstr(str_c(dump), "\nservice lmtp {\n  process_count = 8\n"
				       "  client_limit = 10000\n  max_user_connections = 0\n"
				       "  max_userip_connections = 10\n  mail_idle_timeout = 1m\n}\n")
		    != NULL);
	test_assert(strncmp(str_c(dump), "base_dir = /", 12) == 0);
	config_free(&config);

	/* dumps append */
	config = test_load("log_level = error", NULL);
	str_truncate(dump, 0);
	str_append(dump, "# head\n");
	config_dump(config, true, dump);
	test_assert_strcmp(str_c(dump), "# head\nlog_level = error\n");
	config_free(&config);
	test_end();
}

/* certificate NAME { } blocks (SNI) and the client certificate settings */
static void test_config_certificates(void)
{
	static const char text[] =
		"base_dir = /b\n"
		"tls {\n verify_client = OPTIONAL\n client_ca_file = ca.pem\n"
		" cert_username_field = subjectAltName-email\n groups = X25519:P-256\n}\n"
		"certificate com {\n server_names = mail.example.com *.example.org\n"
		" cert_file = com.crt\n key_file = /k/com.key\n}\n"
		"certificate.rsa-2.cert_file = rsa.crt\n"
		"listener.imap.tls = required\n";

	test_begin("config certificates");
	struct tern_config *config = test_load(text, NULL);
	test_assert(config != NULL);
	if (config == NULL) {
		test_end();
		return;
	}
	const struct tern_settings *set = config->set;
	test_assert_strcmp(set->tls.verify_client, "optional");
	test_assert_strcmp(set->tls.client_ca_file, "/b/ca.pem");
	test_assert_strcmp(set->tls.cert_username_field, "subjectAltName-email");
	test_assert_strcmp(set->tls.groups, "X25519:P-256");
	test_assert(set->certificates.count == 2);
	const struct tls_certificate_settings *cert = set->certificates.v[0];
	test_assert_strcmp(cert->name, "com");
	test_assert_strcmp(cert->server_names, "mail.example.com *.example.org");
	test_assert_strcmp(cert->cert_file, "/b/com.crt");
	test_assert_strcmp(cert->key_file, "/k/com.key");
	test_assert_strcmp(cert->alt_cert_file, "");
	test_assert_strcmp(set->certificates.v[1]->name, "rsa-2");
	test_assert_strcmp(set->certificates.v[1]->cert_file, "/b/rsa.crt");
	test_assert(set->listeners.v[0]->tls == LISTENER_TLS_REQUIRED);
	test_round_trip(config);
	string_t *dump = t_str_new(1024);
	config_dump(config, true, dump);
	test_assert(strstr(str_c(dump), "\ncertificate com {\n  server_names = "
			   "mail.example.com *.example.org\n  cert_file = com.crt\n"
			   "  key_file = /k/com.key\n}\n") != NULL);
	config_free(&config);

	test_assert_strcmp(test_load_error("certificate a/b {\n}", NULL),
			   "t.conf:1: invalid certificate name 'a/b' (letters, digits, '_' "
			   "and '-' only)");
	test_assert_strcmp(test_load_error("certificate.a.server_names = a;b", NULL),
			   "t.conf:1: invalid value 'a;b' for certificate.a.server_names: "
			   "server names are DNS names or *.domain, separated by spaces");
	test_assert_strcmp(test_load_error("tls.verify_client = maybe", NULL),
			   "t.conf:1: invalid value 'maybe' for tls.verify_client "
			   "(expected no, optional or required)");
	test_assert_strcmp(test_load_error("tls.groups = X25519 P-256", NULL),
			   "t.conf:1: invalid value 'X25519 P-256' for tls.groups: "
			   "names separated by colons, without spaces");
	test_end();
}

/* ---- files and includes ---- */

static const char *test_dir;

static void test_write(const char *name, const char *content)
{
	const char *path = t_strdup_printf("%s/%s", test_dir, name);
	FILE *f = fopen(path, "w");

	i_assert(f != NULL);
	fputs(content, f);
	i_assert(fclose(f) == 0);
}

static const char *test_load_file_error(const char *name)
{
	struct tern_config *config;
	const char *error;

	if (config_load(t_strdup_printf("%s/%s", test_dir, name), NULL,
			&config, &error) == 0) {
		config_free(&config);
		return "(loaded)";
	}
	return error;
}

static void test_config_includes(void)
{
	struct tern_config *config = NULL;
	const char *error, *path;

	test_begin("config includes");
	test_assert(mkdir(t_strdup_printf("%s/conf.d", test_dir), 0700) == 0);
	test_write("main.conf",
		   "include conf.d/*.conf\n"
		   "include_try missing.conf\n"
		   "include_try conf.d/none-*.conf\n"
		   "imap {\n"
		   "  include \"imap.inc\"  # inside the block\n"
		   "  login_timeout = 2m\n"
		   "}\n");
	test_write("conf.d/10-a.conf", "log_level = debug\n");
	test_write("conf.d/20-b.conf", "log_level = error\nlistener.imaps.port = 2993\n");
	test_write("imap.inc", "max_line_length = 8k\n");
	path = t_strdup_printf("%s/main.conf", test_dir);
	test_assert(config_load(path, NULL, &config, &error) == 0);
	if (config != NULL) {
		test_assert_strcmp(config->path, path);
		test_assert_strcmp(config->set->log_level, "error");
		test_assert(test_listener(config, "imaps")->port == 2993);
		test_assert(config->set->imap.max_line_length == 8192);
		test_assert(config->set->imap.login_timeout_ms == 120000);
	}
	config_free(&config);

	/* a string config named by a path can include */
	test_assert(config_load_string("imap {\ninclude imap.inc\n}", path, NULL,
				       &config, &error) == 0);
	test_assert(config != NULL && config->set->imap.max_line_length == 8192);
	config_free(&config);
	test_end();
}

static void test_config_include_errors(void)
{
	const char *d = test_dir;

	test_begin("config include errors");
	test_write("nomatch.conf", "\ninclude nothing-*.conf\n");
	test_assert_strcmp(test_load_file_error("nomatch.conf"),
			   t_strdup_printf("%s/nomatch.conf:2: include 'nothing-*.conf': "
					   "no such file", d));
	test_write("bad.conf", "log_level = info\nfoo = 1\n");
	test_write("inc-bad.conf", "include bad.conf\n");
	test_assert_strcmp(test_load_file_error("inc-bad.conf"),
			   t_strdup_printf("%s/bad.conf:2: unknown setting 'foo'", d));
	test_write("self.conf", "include self.conf\n");
	test_assert_strcmp(test_load_file_error("self.conf"),
			   t_strdup_printf("%s/self.conf:1: include loop: %s/self.conf "
					   "is already being read", d, d));
	test_write("loop-a.conf", "include loop-b.conf\n");
	test_write("loop-b.conf", "\ninclude loop-a.conf\n");
	test_assert_strcmp(test_load_file_error("loop-a.conf"),
			   t_strdup_printf("%s/loop-b.conf:2: include loop: %s/loop-a.conf "
					   "is already being read", d, d));
	test_write("open.inc", "imap {\n");
	test_write("inc-open.conf", "include open.inc\n");
	test_assert_strcmp(test_load_file_error("inc-open.conf"),
			   t_strdup_printf("%s/open.inc:1: unterminated block 'imap' "
					   "(missing '}')", d));
	test_write("close.inc", "}\n");
	test_write("inc-close.conf", "imap {\ninclude close.inc\n}\n");
	test_assert_strcmp(test_load_file_error("inc-close.conf"),
			   t_strdup_printf("%s/close.inc:1: unexpected '}'", d));
	test_write("inc-dir.conf", "include_try conf.d\n");
	test_assert_strcmp(test_load_file_error("inc-dir.conf"),
			   t_strdup_printf("%s/inc-dir.conf:1: cannot read %s/conf.d: "
					   "not a regular file", d, d));
	test_write("inc-empty.conf", "include \"\"\n");
	test_assert_strcmp(test_load_file_error("inc-empty.conf"),
			   t_strdup_printf("%s/inc-empty.conf:1: include needs a file name", d));
	test_assert_strcmp(test_load_file_error("none.conf"),
			   t_strdup_printf("cannot read %s/none.conf: No such file or "
					   "directory", d));

	/* a FIFO is refused without blocking on open() */
	test_assert(mkfifo(t_strdup_printf("%s/fifo.conf", d), 0600) == 0);
	test_assert_strcmp(test_load_file_error("fifo.conf"),
			   t_strdup_printf("cannot read %s/fifo.conf: not a regular file", d));

	/* a file over the size limit */
	string_t *big = t_str_new(CONFIG_MAX_FILE_SIZE + 64);
	while (str_len(big) <= CONFIG_MAX_FILE_SIZE)
		str_append(big, "# padding padding padding padding padding padding\n");
	test_write("big.conf", str_c(big));
	test_write("inc-big.conf", "\n\ninclude big.conf\n");
	test_assert_strcmp(test_load_file_error("inc-big.conf"),
			   t_strdup_printf("%s/inc-big.conf:3: cannot read %s/big.conf: "
					   "file too large (limit 1M)", d, d));
	test_end();
}

static void test_config_include_depth(void)
{
	test_begin("config include depth");
	/* depth-N.conf includes depth-(N+1).conf: 16 nested includes work,
	   the 17th is refused */
	for (unsigned int i = 0; i <= CONFIG_MAX_INCLUDE_DEPTH + 1; i++) {
		test_write(t_strdup_printf("depth-%u.conf", i),
			   t_strdup_printf("include depth-%u.conf\n", i + 1));
	}
	test_write(t_strdup_printf("depth-%u.conf", CONFIG_MAX_INCLUDE_DEPTH),
		   "log_level = debug\n");
	test_assert_strcmp(test_load_file_error("depth-0.conf"), "(loaded)");
	test_write(t_strdup_printf("depth-%u.conf", CONFIG_MAX_INCLUDE_DEPTH),
		   t_strdup_printf("include depth-%u.conf\n", CONFIG_MAX_INCLUDE_DEPTH + 1));
	test_assert_strcmp(test_load_file_error("depth-0.conf"),
			   t_strdup_printf("%s/depth-%u.conf:1: includes nested more than "
					   "16 deep", test_dir, CONFIG_MAX_INCLUDE_DEPTH));

	/* fan-out: the number of files read is bounded too */
	test_write("fan-0.conf", "log_level = debug\n");
	for (unsigned int i = 1; i <= 3; i++) {
		string_t *text = t_str_new(256);
		for (unsigned int j = 0; j < 20; j++)
			str_printfa(text, "include fan-%u.conf\n", i - 1);
		test_write(t_strdup_printf("fan-%u.conf", i), str_c(text));
	}
	test_assert_strcmp(test_load_file_error("fan-2.conf"), "(loaded)");
	const char *error = test_load_file_error("fan-3.conf");
	test_assert(strstr(error, ": more than 1024 files included") != NULL);
	test_end();
}

static void test_rm_rf(const char *path)
{
	const char *cmd = t_strdup_printf("rm -rf '%s'", path);

	if (system(cmd) != 0)
		printf("  could not remove %s\n", path);
}

static void test_config_files(void)
{
	char tmpl[] = "/tmp/test-config.XXXXXX";

	if (mkdtemp(tmpl) == NULL)
		i_fatal("mkdtemp() failed: %s", strerror(errno));
	test_dir = tmpl;
	test_config_includes();
	test_config_include_errors();
	test_config_include_depth();
	test_rm_rf(tmpl);
	test_dir = NULL;
}

/* ---- garbage ---- */

static uint32_t test_rand_state = 12345;

static uint32_t test_rand(void)
{
	/* xorshift: the same sequence on every run and platform */
	test_rand_state ^= test_rand_state << 13;
	test_rand_state ^= test_rand_state >> 17;
	test_rand_state ^= test_rand_state << 5;
	return test_rand_state;
}

static void test_garbage_load(const char *text)
{
	struct tern_config *config;
	const char *error;

	if (config_load_string(text, "g.conf", NULL, &config, &error) < 0) {
		test_assert(strncmp(error, "g.conf", 6) == 0 ||
			    strncmp(error, "<embedded", 9) == 0);
		return;
	}
	test_round_trip(config);
	config_free(&config);
}

static void test_config_garbage(void)
{
	static const char *const tokens[] = {
		"imap", "tls", "auth", "listener", "service", "imaps", "pop3",
		"lmtp", "x", "{", "}", "=", " ", "\t", "\n", "\"", "\\", "#", ".",
		"max_line_length", "port", "protocol", "path", "enabled", "no",
		"1k", "12q", "5m", "include", "include_try", "base_dir", "\r",
		"\xff", "::", "*", "65536", "tls = implicit", "address",
	};
	static const char valid[] =
		"base_dir = /srv/t\nimap {\n  max_line_length = 1M # c\n}\n"
		"listener x {\n  protocol = \"imap\"\n  port = 7\n}\n"
		"listener.lmtp.enabled = no\n";
	char buf[600];

	test_begin("config garbage");
	/* random bytes */
	for (unsigned int i = 0; i < 3000; i++) {
		size_t len = test_rand() % 300;
		for (size_t j = 0; j < len; j++)
			buf[j] = (char)(test_rand() % 255 + 1);
		buf[len] = '\0';
		test_garbage_load(buf);
		t_pool_clear();
	}
	/* random sequences of meaningful tokens reach deeper */
	for (unsigned int i = 0; i < 5000; i++) {
		string_t *text = t_str_new(512);
		unsigned int n = test_rand() % 40;
		for (unsigned int j = 0; j < n; j++)
			str_append(text, tokens[test_rand() % N_ELEMENTS(tokens)]);
		test_garbage_load(str_c(text));
		t_pool_clear();
	}
	/* every prefix of a valid config, and every single-byte change */
	for (size_t len = 0; len <= strlen(valid); len++) {
		test_garbage_load(t_strndup(valid, len));
		for (unsigned int c = 1; c < 256; c += 37) {
			memcpy(buf, valid, sizeof(valid));
			if (len < strlen(valid))
				buf[len] = (char)c;
			test_garbage_load(buf);
		}
		t_pool_clear();
	}
	test_end();
}

/* ---- docs/configuration.md ---- */

static const char *test_doc_path(void)
{
	const char *dir = getenv("TERN_SOURCE_DIR");

	if (dir == NULL)
		dir = TERN_SOURCE_DIR_DEFAULT;
	return t_strdup_printf("%s/docs/configuration.md", dir);
}

/* Returns the file's content up to and including the marker line, or NULL
   with *error_r set. */
static const char *test_doc_read(const char *path, const char **rest_r,
				 const char **error_r)
{
	string_t *content = t_str_new(65536);
	char buf[4096];
	const char *marker;
	size_t n;
	FILE *f = fopen(path, "r");

	if (f == NULL) {
		*error_r = t_strdup_printf("cannot open %s: %s", path, strerror(errno));
		return NULL;
	}
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		str_append_n(content, buf, n);
	fclose(f);
	marker = strstr(str_c(content), DOC_MARKER "\n");
	if (marker == NULL) {
		*error_r = t_strdup_printf("%s has no marker line %s", path, DOC_MARKER);
		return NULL;
	}
	*rest_r = marker + strlen(DOC_MARKER) + 1;
	return t_strndup(str_c(content), (size_t)(*rest_r - str_c(content)));
}

static const char *test_doc_generated(void)
{
	string_t *doc = t_str_new(16384);

	str_append_c(doc, '\n');
	config_doc_markdown(doc);
	return str_c(doc);
}

static void test_config_doc(void)
{
	const char *rest, *error, *path = test_doc_path();

	test_begin("config docs/configuration.md is up to date");
	if (test_doc_read(path, &rest, &error) == NULL) {
		bool doc_readable = false;
		printf("  %s\n", error);
		test_assert(doc_readable);
	} else if (strcmp(rest, test_doc_generated()) != 0) {
		printf("  %s is stale: run test-config --write-doc %s\n", path, path);
		test_assert_strcmp(rest, test_doc_generated());
	}
	test_end();
}

static int test_doc_write(const char *path)
{
	const char *rest, *error, *head = test_doc_read(path, &rest, &error);
	const char *tmp_path = t_strdup_printf("%s.tmp", path);
	FILE *f;

	if (head == NULL) {
		fprintf(stderr, "%s\n", error);
		return 1;
	}
	f = fopen(tmp_path, "w");
	if (f == NULL || fputs(head, f) < 0 || fputs(test_doc_generated(), f) < 0 ||
	    fclose(f) != 0 || rename(tmp_path, path) < 0) {
		fprintf(stderr, "cannot write %s: %s\n", path, strerror(errno));
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static void (*const tests[])(void) = {
		test_config_defaults,
		test_config_values,
		test_config_errors,
		test_config_limits,
		test_config_blocks,
		test_config_derived,
		test_config_paths,
		test_config_no_cwd,
		test_config_overrides,
		test_config_dump,
		test_config_certificates,
		test_config_files,
		test_config_garbage,
		test_config_doc,
		NULL
	};

	if (argc == 3 && strcmp(argv[1], "--write-doc") == 0)
		return test_doc_write(argv[2]);
	return test_run(tests);
}
