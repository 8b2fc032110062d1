/* The ManageSieve commands of the authenticated state (RFC 5804 §2.4-§2.15)
 * in one table, and the mapping of storage errors to response codes
 * (§1.3). Scripts are checked with the Sieve engine before they are
 * stored or activated. */
#include "managesieve-client-private.h"
#include "managesieve-capability.h"
#include "sieve-commands.h"
#include "sieve-validator.h"
#include "sieve-interp.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

struct managesieve_command {
	const char *name;
	/* argument count the command takes (min..max) */
	unsigned int min_args, max_args;
	const char *usage;
	void (*func)(struct managesieve_client *client, const struct managesieve_arg *args,
		     unsigned int count);
};

/* RFC 5804 §1.3 response codes for a storage failure, in one place */
static void managesieve_storage_error(struct managesieve_client *client)
{
	const char *text, *code = NULL;
	switch (sieve_storage_get_error(client->storage, &text)) {
	case SIEVE_STORAGE_ERROR_NONE:
	case SIEVE_STORAGE_ERROR_BAD_NAME:
		break;
	case SIEVE_STORAGE_ERROR_NOTFOUND:
		code = "NONEXISTENT";
		break;
	case SIEVE_STORAGE_ERROR_EXISTS:
		code = "ALREADYEXISTS";
		break;
	case SIEVE_STORAGE_ERROR_ACTIVE:
		code = "ACTIVE";
		break;
	case SIEVE_STORAGE_ERROR_QUOTA_SIZE:
		code = "QUOTA/MAXSIZE";
		break;
	case SIEVE_STORAGE_ERROR_QUOTA_SCRIPTS:
		code = "QUOTA/MAXSCRIPTS";
		break;
	case SIEVE_STORAGE_ERROR_QUOTA_STORAGE:
		code = "QUOTA";
		break;
	case SIEVE_STORAGE_ERROR_TEMP:
		code = "TRYLATER";
		log_error(&client->conn->log, "sieve_storage_error", "error=%s",
			  log_value(sieve_storage_get_internal_error(client->storage)));
		break;
	}
	managesieve_client_send_reply(client, "NO", code, text);
}

/* An include (RFC 6609) while checking an upload: :personal scripts from
   the user's storage, :global ones from sieve.global_dir. */
struct managesieve_include_ctx {
	struct managesieve_client *client;
	pool_t pool;
	/* PUTSCRIPT: the script being stored, as its includers will see it
	   (so a circle through it is found); NULL otherwise */
	const char *name;
	const struct managesieve_arg *script;
};

/* A :global script file, at most max bytes. 1, 0 missing, -1 error. */
static int managesieve_read_global(const char *path, uint64_t max, pool_t pool,
				   const char **data_r, size_t *size_r, const char **error_r)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		*error_r = "global script not readable";
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > max) {
		close(fd);
		*error_r = "global script not readable or too large";
		return -1;
	}
	char *data = p_malloc(pool, (size_t)st.st_size + 1);
	ssize_t n = read(fd, data, (size_t)st.st_size);
	close(fd);
	if (n != st.st_size) {
		*error_r = "global script not readable";
		return -1;
	}
	*data_r = data;
	*size_r = (size_t)n;
	return 1;
}

static int managesieve_include_load(void *context, enum sieve_include_location location,
				    const char *name, const struct sieve_ast **ast_r,
				    const char **error_r)
{
	struct managesieve_include_ctx *ictx = context;
	struct managesieve_client *client = ictx->client;
	const char *data, *dir;
	size_t size;
	int ret;

	if (!sieve_storage_name_is_valid(name))
		return 0;
	if (location == SIEVE_INCLUDE_PERSONAL && ictx->name != NULL &&
	    strcmp(name, ictx->name) == 0) {
		data = ictx->script->str;
		size = ictx->script->size;
		ret = 1;
	} else if (location == SIEVE_INCLUDE_PERSONAL) {
		ret = sieve_storage_get(client->storage, name, ictx->pool, &data, &size);
		if (ret < 0)
			*error_r = "script storage not readable";
	} else {
		if (client->set->sieve.global_dir[0] == '\0' ||
		    (dir = sieve_storage_expand(client->set->sieve.global_dir, client->user,
						client->home, error_r)) == NULL)
			return 0;
		ret = managesieve_read_global(t_strdup_printf("%s/%s.sieve", dir, name),
					      client->set->sieve.max_script_size, ictx->pool,
					      &data, &size, error_r);
	}
	if (ret <= 0)
		return ret;
	const struct sieve_parser_limits limits = {
		.lexer.max_script_size = (size_t)client->set->sieve.max_script_size,
	};
	struct sieve_ast *ast;
	if (sieve_compile(ictx->pool, data, size, &limits, &ast, error_r) < 0)
		return -1;
	ast->name = p_strdup(ictx->pool, name);
	*ast_r = ast;
	return 1;
}

/* The warnings as one text for the WARNINGS response code (RFC 5804
   §1.3), or NULL. */
static const char *managesieve_warnings_text(const sieve_diag_array_t *diags)
{
	string_t *str = t_str_new(128);
	for (unsigned int i = 0; i < diags->count; i++) {
		if (!diags->v[i].warning)
			continue;
		if (str_len(str) > 0)
			str_append(str, "\r\n");
		str_append(str, diags->v[i].text);
	}
	return str_len(str) == 0 ? NULL : str_c(str);
}

/* Compiles a script, its constant includes resolved (a missing one is a
   warning: it may be uploaded next). Returns 0 with *warnings_r (NULL if
   none), or -1 after answering NO with the engine's "line N: text". */
static int managesieve_check_script(struct managesieve_client *client, const char *name,
				    const struct managesieve_arg *script,
				    const char **warnings_r)
{
	struct sieve_parser_limits limits = {
		.lexer.max_script_size = (size_t)client->set->sieve.max_script_size,
	};
	pool_t pool = pool_create("managesieve check", 4096);
	struct managesieve_include_ctx ictx = {
		.client = client, .pool = pool, .name = name, .script = script,
	};
	const struct sieve_compile_env cenv = {
		.context = &ictx,
		.include_load = managesieve_include_load,
		.missing_include_is_warning = true,
		.max_header_size = (unsigned int)client->set->sieve.editheader_max_header_size,
	};
	sieve_diag_array_t diags;
	struct sieve_ast *ast;

	array_init(&diags, pool, 4);
	int ret = sieve_compile_env_diag(pool, script->str, script->size, &limits, 1, &cenv,
					 &ast, &diags);
	*warnings_r = NULL;
	if (ret < 0) {
		const char *error = "script compilation failed";
		for (unsigned int i = 0; i < diags.count; i++) {
			if (!diags.v[i].warning) {
				error = diags.v[i].text;
				break;
			}
		}
		managesieve_client_send_reply(client, "NO", NULL, error);
	} else {
		*warnings_r = managesieve_warnings_text(&diags);
	}
	pool_destroy(&pool);
	return ret < 0 ? -1 : 0;
}

static const char *managesieve_printable(const char *name)
{
	return log_value(name);
}

static void cmd_capability(struct managesieve_client *client,
			   const struct managesieve_arg *args, unsigned int count)
{
	const char *notify;
	struct managesieve_capability_opts opts = {
		.sieve_extensions = managesieve_capability_sieve_list(sieve_extension_names(),
								      &notify),
		.max_redirects = client->set->sieve.max_redirects,
		.unauthenticate = true,
		.owner = client->user,
	};
	opts.notify_methods = notify;
	string_t *str = t_str_new(512);
	managesieve_capability_append(str, &opts);
	o_stream_send(client->conn->output, str_data(str), str_len(str));
	managesieve_client_send_reply(client, "OK", NULL, "Capability completed.");
}

static void cmd_havespace(struct managesieve_client *client,
			  const struct managesieve_arg *args, unsigned int count)
{
	uint64_t size;
	if (!managesieve_arg_get_number(&args[1], &size)) {
		managesieve_client_send_bad(client, "Invalid arguments: HAVESPACE name size.");
		return;
	}
	if (sieve_storage_havespace(client->storage, args[0].str, size) <= 0) {
		managesieve_storage_error(client);
		return;
	}
	managesieve_client_send_reply(client, "OK", NULL, "Putscript would succeed.");
}

static void cmd_putscript(struct managesieve_client *client,
			  const struct managesieve_arg *args, unsigned int count)
{
	const char *name = args[0].str;
	/* RFC 5804 §2.6: quota and name first, so a client learns the
	   cheapest reason first */
	if (sieve_storage_havespace(client->storage, name, args[1].size) <= 0) {
		managesieve_storage_error(client);
		return;
	}
	const char *warnings;
	if (managesieve_check_script(client, name, &args[1], &warnings) < 0)
		return;
	if (sieve_storage_put(client->storage, name, args[1].str, args[1].size) < 0) {
		managesieve_storage_error(client);
		return;
	}
	log_info(&client->conn->log, "putscript", "script=%s size=%zu",
		 managesieve_printable(name), args[1].size);
	/* RFC 5804 §2.6: OK (WARNINGS) with the compiler's warnings */
	managesieve_client_send_reply(client, "OK", warnings == NULL ? NULL : "WARNINGS",
				      warnings == NULL ? "PUTSCRIPT completed." : warnings);
}

static void cmd_checkscript(struct managesieve_client *client,
			    const struct managesieve_arg *args, unsigned int count)
{
	const char *warnings;
	if (managesieve_check_script(client, NULL, &args[0], &warnings) < 0)
		return;
	managesieve_client_send_reply(client, "OK", warnings == NULL ? NULL : "WARNINGS",
				      warnings == NULL ? "Script is valid." : warnings);
}

static void cmd_listscripts(struct managesieve_client *client,
			    const struct managesieve_arg *args, unsigned int count)
{
	const struct sieve_storage_script *scripts;
	unsigned int n;
	if (sieve_storage_list(client->storage, t_pool(), &scripts, &n) < 0) {
		managesieve_storage_error(client);
		return;
	}
	string_t *str = t_str_new(256);
	for (unsigned int i = 0; i < n; i++) {
		managesieve_quote_append_str(str, scripts[i].name);
		if (scripts[i].active)
			str_append(str, " ACTIVE");
		str_append(str, "\r\n");
	}
	o_stream_send(client->conn->output, str_data(str), str_len(str));
	managesieve_client_send_reply(client, "OK", NULL, "Listscripts completed.");
}

static void cmd_setactive(struct managesieve_client *client,
			  const struct managesieve_arg *args, unsigned int count)
{
	const char *name = args[0].str, *data;
	size_t size;
	if (name[0] == '\0') {
		/* RFC 5804 §2.8: "" deactivates */
		if (sieve_storage_deactivate(client->storage) < 0)
			managesieve_storage_error(client);
		else
			managesieve_client_send_reply(client, "OK", NULL, "Script deactivated.");
		return;
	}
	/* a script stored some other way (ternctl, a file copied in) must
	   compile before delivery runs it */
	int ret = sieve_storage_get(client->storage, name, t_pool(), &data, &size);
	if (ret <= 0) {
		managesieve_storage_error(client);
		return;
	}
	struct managesieve_arg script = {
		.type = MANAGESIEVE_ARG_STRING, .str = data, .size = size,
	};
	const char *warnings;
	if (managesieve_check_script(client, name, &script, &warnings) < 0)
		return;
	if (sieve_storage_activate(client->storage, name) < 0) {
		managesieve_storage_error(client);
		return;
	}
	log_info(&client->conn->log, "setactive", "script=%s", managesieve_printable(name));
	managesieve_client_send_reply(client, "OK", NULL, "Setactive completed.");
}

static void cmd_getscript(struct managesieve_client *client,
			  const struct managesieve_arg *args, unsigned int count)
{
	const char *data;
	size_t size;
	if (sieve_storage_get(client->storage, args[0].str, t_pool(), &data, &size) <= 0) {
		managesieve_storage_error(client);
		return;
	}
	/* RFC 5804 §2.9: always a literal, so line endings survive */
	o_stream_printf(client->conn->output, "{%zu}\r\n", size);
	o_stream_send(client->conn->output, data, size);
	o_stream_send(client->conn->output, "\r\n", 2);
	managesieve_client_send_reply(client, "OK", NULL, "Getscript completed.");
}

static void cmd_deletescript(struct managesieve_client *client,
			     const struct managesieve_arg *args, unsigned int count)
{
	if (sieve_storage_delete(client->storage, args[0].str) < 0) {
		managesieve_storage_error(client);
		return;
	}
	log_info(&client->conn->log, "deletescript", "script=%s",
		 managesieve_printable(args[0].str));
	managesieve_client_send_reply(client, "OK", NULL, "Deletescript completed.");
}

static void cmd_renamescript(struct managesieve_client *client,
			     const struct managesieve_arg *args, unsigned int count)
{
	if (sieve_storage_rename(client->storage, args[0].str, args[1].str) < 0) {
		managesieve_storage_error(client);
		return;
	}
	managesieve_client_send_reply(client, "OK", NULL, "Renamescript completed.");
}

static void cmd_noop(struct managesieve_client *client,
		     const struct managesieve_arg *args, unsigned int count)
{
	if (count == 0) {
		managesieve_client_send_reply(client, "OK", NULL, "NOOP completed.");
		return;
	}
	/* RFC 5804 §2.15: the string comes back in a TAG response code */
	string_t *code = t_str_new(64);
	str_append(code, "TAG ");
	managesieve_quote_append(code, args[0].str, args[0].size);
	managesieve_client_send_reply(client, "OK", str_c(code), "Done");
}

static void cmd_logout(struct managesieve_client *client,
		       const struct managesieve_arg *args, unsigned int count)
{
	managesieve_client_send_reply(client, "OK", NULL, "Logout completed.");
	connection_close(client->conn, "logged out");
}

static void cmd_unauthenticate(struct managesieve_client *client,
			       const struct managesieve_arg *args, unsigned int count)
{
	if (managesieve_unauthenticated_callback == NULL) {
		managesieve_client_send_reply(client, "NO", NULL, "UNAUTHENTICATE is not available.");
		return;
	}
	managesieve_client_send_reply(client, "OK", NULL, "Unauthenticate completed.");
	client->unauthenticated = true;
}

static void cmd_not_now(struct managesieve_client *client,
			const struct managesieve_arg *args, unsigned int count)
{
	managesieve_client_send_bad(client, "Already authenticated.");
}

/* Argument i of every command but NOOP's and HAVESPACE's second is a
   string; the table says how many. */
static const struct managesieve_command managesieve_commands[] = {
	{ "AUTHENTICATE", 0, 8, NULL, cmd_not_now },
	{ "CAPABILITY", 0, 0, "CAPABILITY", cmd_capability },
	{ "CHECKSCRIPT", 1, 1, "CHECKSCRIPT script", cmd_checkscript },
	{ "DELETESCRIPT", 1, 1, "DELETESCRIPT name", cmd_deletescript },
	{ "GETSCRIPT", 1, 1, "GETSCRIPT name", cmd_getscript },
	{ "HAVESPACE", 2, 2, "HAVESPACE name size", cmd_havespace },
	{ "LISTSCRIPTS", 0, 0, "LISTSCRIPTS", cmd_listscripts },
	{ "LOGOUT", 0, 0, "LOGOUT", cmd_logout },
	{ "NOOP", 0, 1, "NOOP [tag]", cmd_noop },
	{ "PUTSCRIPT", 2, 2, "PUTSCRIPT name script", cmd_putscript },
	{ "RENAMESCRIPT", 2, 2, "RENAMESCRIPT old-name new-name", cmd_renamescript },
	{ "SETACTIVE", 1, 1, "SETACTIVE name", cmd_setactive },
	{ "STARTTLS", 0, 8, NULL, cmd_not_now },
	{ "UNAUTHENTICATE", 0, 0, "UNAUTHENTICATE", cmd_unauthenticate },
};

static bool managesieve_args_valid(const struct managesieve_command *cmd,
				   const struct managesieve_arg *args, unsigned int count)
{
	if (count < cmd->min_args || count > cmd->max_args)
		return false;
	if (cmd->usage == NULL)
		return true;
	for (unsigned int i = 0; i < count; i++) {
		bool number = strcmp(cmd->name, "HAVESPACE") == 0 && i == 1;
		if (!number && args[i].type != MANAGESIEVE_ARG_STRING)
			return false;
	}
	return true;
}

void managesieve_client_command(struct managesieve_client *client,
				const struct managesieve_arg *args, unsigned int count)
{
	if (count == 0) {
		managesieve_client_send_bad(client, "Empty command line.");
		return;
	}
	if (args[0].type != MANAGESIEVE_ARG_ATOM) {
		managesieve_client_send_bad(client, "Expected a command name.");
		return;
	}
	char *name = t_strdup(args[0].str);
	for (char *p = name; *p != '\0'; p++) {
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 32);
	}
	for (unsigned int i = 0; i < N_ELEMENTS(managesieve_commands); i++) {
		const struct managesieve_command *cmd = &managesieve_commands[i];
		if (strcmp(cmd->name, name) != 0)
			continue;
		if (!managesieve_args_valid(cmd, args + 1, count - 1)) {
			managesieve_client_send_bad(client, t_strdup_printf(
				"Invalid arguments: %s.", cmd->usage));
			return;
		}
		cmd->func(client, args + 1, count - 1);
		return;
	}
	managesieve_client_send_bad(client, "Unknown command.");
}

void managesieve_client_parse_error(struct managesieve_client *client)
{
	enum managesieve_parse_error code;
	const char *command;
	const char *error = managesieve_parser_get_error(client->parser, &code, &command);
	if (code == MANAGESIEVE_PARSE_ERROR_LITERAL_TOO_LARGE &&
	    (strcmp(command, "PUTSCRIPT") == 0 || strcmp(command, "CHECKSCRIPT") == 0)) {
		/* RFC 5804 §2.6: the script was read (and dropped) whole */
		managesieve_client_send_reply(client, "NO", "QUOTA/MAXSIZE", t_strdup_printf(
			"Script is too large (max %llu bytes).",
			(unsigned long long)client->set->sieve.max_script_size));
		return;
	}
	managesieve_client_send_bad(client, t_strdup_printf("%s.", error));
}
