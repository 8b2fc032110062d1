/* The Sieve extension interface (RFC 5228 §3.2, §6): how an extension
 * registers commands, tests and tagged arguments, checks them at compile
 * time and runs them, and the run-time services an execute hook may use.
 *
 * Writing an extension
 * --------------------
 * 1. Describe each command or test with a struct sieve_command_def:
 *    identifier, flags (SIEVE_CMD_FLAG_TEST for a test, _BLOCK if it takes
 *    "{ ... }", _COMPARATOR/_MATCH_TYPE/_ADDRESS_PART for the RFC 5228
 *    §2.7 tags), the positional argument kinds (the last optional_positional
 *    of them may be left out), its own tags (struct sieve_tag_def, a
 *    NULL-name terminated table), whether it takes tests, and two hooks:
 *      validate(validator, node, &error)  compile-time checks beyond the
 *                                         signature; return -1 with *error_r
 *      execute(run, node)                 commands return 0 or -1; tests
 *                                         return 1 true, 0 false, -1 error
 *    Tags an extension adds to another extension's command (":copy" on
 *    fileinto) are struct sieve_ext_tag rows naming that command.
 * 2. Put them in a struct sieve_extension_def with the capability name the
 *    script requires, and call sieve_extension_register(&def) once at
 *    start-up (the built-in extensions are registered by the engine).
 * 3. In execute, read arguments with sieve_node_arg()/sieve_node_tag() and
 *    evaluate strings with sieve_run_string()/sieve_run_strings() (they
 *    expand variables, RFC 5229). Run nested tests with sieve_run_test() and
 *    blocks with sieve_run_block(); add actions with sieve_run_add_action();
 *    fail with sieve_run_error() (it returns -1, the value to return).
 *    Per-run state: sieve_run_ext_context()/sieve_run_set_ext_context().
 *
 * Everything about the message, mailboxes, metadata and other scripts comes
 * from the caller (struct sieve_message, struct sieve_env): an extension
 * never touches storage itself. */
#ifndef TERN_SIEVE_EXTENSION_H
#define TERN_SIEVE_EXTENSION_H

#include "sieve-interp.h"

enum sieve_arg_kind {
	SIEVE_ARG_NONE = 0,
	SIEVE_ARG_STRING,
	SIEVE_ARG_STRING_LIST, /* a single string is accepted too */
	SIEVE_ARG_NUMBER,
};

struct sieve_tag_def {
	/* without the ':' (matched case-insensitively) */
	const char *name;
	/* the argument the tag takes, or SIEVE_ARG_NONE */
	enum sieve_arg_kind value;
	/* extension the script must require to use the tag; NULL for the
	   extension that defines the command (or for an ext tag: the
	   extension that adds it) */
	const char *extension;
};

enum sieve_command_flags {
	/* takes the :comparator, match-type and address-part tags of
	   RFC 5228 §2.7 */
	SIEVE_CMD_FLAG_COMPARATOR = 0x01,
	SIEVE_CMD_FLAG_MATCH_TYPE = 0x02,
	SIEVE_CMD_FLAG_ADDRESS_PART = 0x04,
	/* is a test (else a command) */
	SIEVE_CMD_FLAG_TEST = 0x08,
	/* needs a block (if, elsif, else, foreverypart) */
	SIEVE_CMD_FLAG_BLOCK = 0x10,
	/* the block is optional */
	SIEVE_CMD_FLAG_BLOCK_OPTIONAL = 0x20,
	/* positional arguments are not checked against positional[]: the
	   validate hook does it (sieve_node_arg() still lists them) */
	SIEVE_CMD_FLAG_ANY_ARGS = 0x40,
};

enum sieve_test_args {
	SIEVE_TESTS_NONE = 0,
	SIEVE_TESTS_ONE,  /* exactly one test, not in parentheses */
	SIEVE_TESTS_LIST, /* a "( ... )" test list */
};

struct sieve_validator;
struct sieve_run;
struct sieve_extension_def;

struct sieve_command_def {
	const char *identifier;
	enum sieve_command_flags flags;
	enum sieve_arg_kind positional[SIEVE_MAX_POSITIONAL];
	/* the last this many of positional[] may be left out */
	unsigned int optional_positional;
	/* optional: what each positional argument is, for error messages
	   ("header names", "key list") */
	const char *positional_names[SIEVE_MAX_POSITIONAL];
	const struct sieve_tag_def *tags; /* NULL-name terminated, or NULL */
	enum sieve_test_args tests;
	/* command-specific checks after the generic signature check;
	   returns -1 with an error (without the line prefix) */
	int (*validate)(struct sieve_validator *validator,
			struct sieve_ast_node *node, const char **error_r);
	/* run time: commands return 0 or -1, tests 1/0/-1. NULL: does
	   nothing (a test without one is false) */
	int (*execute)(struct sieve_run *run, const struct sieve_ast_node *node);
};

/* A tag an extension adds to a command of another extension. */
struct sieve_ext_tag {
	const char *command; /* identifier of the command or test */
	struct sieve_tag_def tag;
};

struct sieve_extension_def {
	/* capability name for require (RFC 5228 §3.2, case-sensitive) */
	const char *name;
	/* NULL-identifier terminated, or NULL */
	const struct sieve_command_def *commands;
	/* NULL-command terminated, or NULL */
	const struct sieve_ext_tag *tags;
	/* other extensions a require of this one brings in, NULL-terminated
	   (spamtestplus brings spamtest) */
	const char *const *implies;
	/* not listed by sieve_extension_names() (vnd.* test extensions) */
	bool hidden;
	/* extensions the script must require as well, NULL-terminated or
	   NULL (extracttext needs foreverypart, RFC 5703 §7) */
	const char *const *needs;
	/* a variable namespace the extension defines (RFC 5229 §3, "global"
	   of RFC 6609 §3.5), or NULL; with variables, "${ns.x}" and set
	   "ns.x" are only valid when the script requires such an extension */
	const char *variable_namespace;
	/* called when a script requires the extension; -1 refuses it */
	int (*require)(struct sieve_validator *validator, const char **error_r);
};

/* Registers an extension (the definition must stay valid for the
   process's life). Returns 0, or -1 if its name or one of its commands is
   already registered by another extension. A command and a test may share
   an identifier (looked up by position in the script). The built-in extensions are
   registered on first use of the engine. */
int sieve_extension_register(const struct sieve_extension_def *def);
/* The registered extension with this capability name, or NULL. */
const struct sieve_extension_def *sieve_extension_lookup(const char *name);
/* True if name is a registered extension. */
bool sieve_extension_is_known(const char *name);
/* The names of the registered, non-hidden extensions (for the ManageSieve
   SIEVE capability), NULL-terminated, in registration order. */
const char *const *sieve_extension_names(void);

/* --- compile time --- */

/* The tree being validated. */
struct sieve_ast *sieve_validator_get_ast(struct sieve_validator *validator);
/* Marks an extension as required by the script, as ihave does for the
   extensions it names (RFC 5463 §4). Returns 0, -1 if unknown. */
int sieve_validator_add_extension(struct sieve_validator *validator, const char *name);
/* Leaves the block of node unvalidated (and never run): the block of an
   "if ihave" naming an unknown extension. */
void sieve_validator_skip_block(struct sieve_validator *validator,
				struct sieve_ast_node *node);
/* Adds a warning for the node's line (reported by sieve_compile_diag()). */
void sieve_validator_warning(struct sieve_validator *validator,
			     const struct sieve_ast_node *node, const char *text);
/* Adds an error for the node's line besides the one a validate hook
   returns (a hook reporting several problems). */
void sieve_validator_error(struct sieve_validator *validator,
			   const struct sieve_ast_node *node, const char *text);
/* The caller's compile-time environment (sieve_compile_env_diag()), or
   NULL. */
const struct sieve_compile_env *sieve_validator_compile_env(struct sieve_validator *validator);
/* Per-compile state of an extension (lives as long as the tree). */
void *sieve_validator_ext_context(struct sieve_validator *validator,
				  const struct sieve_extension_def *ext);
void sieve_validator_set_ext_context(struct sieve_validator *validator,
				     const struct sieve_extension_def *ext, void *context);

/* --- arguments of a validated node (compile and run time) --- */

/* Positional argument idx (0-based) or NULL when left out. */
const struct sieve_ast_arg *sieve_node_arg(const struct sieve_ast_node *node,
					   unsigned int idx);
/* The tag given as ":name", or NULL if absent. */
const struct sieve_node_tag *sieve_node_tag(const struct sieve_ast_node *node,
					    const char *name);
/* The value of tag ":name" (NULL if absent or it takes no value). */
const struct sieve_ast_arg *sieve_node_tag_value(const struct sieve_ast_node *node,
						 const char *name);
static inline bool sieve_node_has_tag(const struct sieve_ast_node *node, const char *name)
{
	return sieve_node_tag(node, name) != NULL;
}
/* True if the string holds a variable reference that expands at run time
   (the script requires variables and the string contains "${"): such
   strings cannot be checked at compile time. */
bool sieve_validator_string_is_dynamic(struct sieve_validator *validator, const char *str);

/* --- run time --- */

/* The arg's first string with variables expanded (RFC 5229 §3), valid until
   the run ends. */
const char *sieve_run_string(struct sieve_run *run, const struct sieve_ast_arg *arg);
/* All of arg's strings, expanded; returns the count. */
unsigned int sieve_run_strings(struct sieve_run *run, const struct sieve_ast_arg *arg,
			       const char *const **strings_r);
/* Evaluates a test node: 1 true, 0 false, -1 error. */
int sieve_run_test(struct sieve_run *run, const struct sieve_ast_node *test);
/* Runs the block of node. 0 or -1. Stops early after stop/return/break. */
int sieve_run_block(struct sieve_run *run, const struct sieve_ast_node *node);
/* Ends the run as if "stop" were executed (RFC 5228 §3.3). */
void sieve_run_stop(struct sieve_run *run);
bool sieve_run_is_stopped(const struct sieve_run *run);
/* For test harnesses running many cases in one run: clears stop/return/
   break (sieve_run_resume() is the same as sieve_run_clear_stop()), the
   last error, or the result (actions, edits, duplicate marks, implicit keep
   re-armed, counters, imap4flags' internal variable re-read). */
void sieve_run_clear_stop(struct sieve_run *run);
void sieve_run_resume(struct sieve_run *run);
void sieve_run_clear_error(struct sieve_run *run);
void sieve_run_reset_result(struct sieve_run *run);
/* Would the implicit keep happen if the run ended now? */
bool sieve_run_implicit_keep(const struct sieve_run *run);
/* Re-applies limits (0 fields = defaults) mid-run, e.g. after a harness
   changed its configuration. */
void sieve_run_set_limits(struct sieve_run *run, const struct sieve_exec_limits *limits);
/* Records a runtime error for node's line and returns -1. */
int sieve_run_error(struct sieve_run *run, const struct sieve_ast_node *node,
		    const char *fmt, ...) ATTR_PRINTF(3, 4);
/* Records a problem that does not end the run (result->warnings). */
void sieve_run_warning(struct sieve_run *run, const struct sieve_ast_node *node,
		       const char *fmt, ...) ATTR_PRINTF(3, 4);
/* The last runtime error ("line N: text") or NULL. */
const char *sieve_run_get_error(const struct sieve_run *run);

/* Adds an action (copied, strings included) with the duplicate,
   conflict and limit rules of RFC 5228 §2.10; cancels the implicit keep
   unless action->copy or the type keeps it (vacation, notify). 0 or -1. */
int sieve_run_add_action(struct sieve_run *run, const struct sieve_ast_node *node,
			 const struct sieve_action *action);
/* Cancels the implicit keep as discard does. */
void sieve_run_cancel_implicit_keep(struct sieve_run *run);
struct sieve_result *sieve_run_get_result(struct sieve_run *run);
/* The result's actions so far have been carried out (a caller that
   executes a result in steps, as a test harness running scripts one after
   another on one result): an action added later that conflicts with one of
   them is resolved gracefully instead of failing the run - a reject after
   a delivery stays, a second reject or vacation is dropped (a reject after
   a sent vacation or reject becomes a discard). */
void sieve_run_mark_executed(struct sieve_run *run);

/* The message under test, and replacing it (for test harnesses: later
   tests read the new message; parsed-message caches are dropped). */
const struct sieve_message *sieve_run_get_message(struct sieve_run *run);
void sieve_run_set_message(struct sieve_run *run, const struct sieve_message *msg);
/* The caller's callbacks, never NULL (an empty env when none given). */
const struct sieve_env *sieve_run_get_env(struct sieve_run *run);
/* Header values as tests see them: RFC 2047 not decoded, editheader's
   changes applied, or the current MIME part's (RFC 5703) when node has
   :mime. Returns 0 or -1 (error recorded). */
int sieve_run_get_headers(struct sieve_run *run, const struct sieve_ast_node *node,
			  const char *name, const char *const **values_r);
/* The whole message's bytes (empty if the caller gave none). 0 or -1. */
int sieve_run_get_data(struct sieve_run *run, const struct sieve_ast_node *node,
		       const unsigned char **data_r, size_t *size_r);

/* Memory living until the run ends. */
pool_t sieve_run_pool(struct sieve_run *run);
void *sieve_run_ext_context(struct sieve_run *run, const struct sieve_extension_def *ext);
void sieve_run_set_ext_context(struct sieve_run *run, const struct sieve_extension_def *ext,
			       void *context);

/* Variables (RFC 5229): NULL if unset. Names are case-insensitive. */
const char *sieve_run_var_get(struct sieve_run *run, const char *name);
/* Returns 0, -1 at the variable count limit (error recorded for node). */
int sieve_run_var_set(struct sieve_run *run, const struct sieve_ast_node *node,
		      const char *name, const char *value);

/* Matching values against the key list of a test with the RFC 5228 §2.7
   tags (comparator, match type, relational :count/:value, regex): */
struct sieve_match;
/* keys: the key-list argument (usually the last positional). */
struct sieve_match *sieve_run_match_begin(struct sieve_run *run,
					  const struct sieve_ast_node *node,
					  const struct sieve_ast_arg *keys);
/* Feeds one value; returns 1 if it matched (the test may stop there), 0 if
   not, -1 on error. With :count values are only counted. */
int sieve_run_match_value(struct sieve_match *match, const char *value);
/* Ends matching: 1 matched, 0 not, -1 error. Frees match. */
int sieve_run_match_end(struct sieve_match **match);

#endif
