/* The state of one Sieve run (struct sieve_run) and the services the
 * built-in extensions share: variables, match values, the parsed message
 * and its MIME parts, editheader's header overlay. Internal to src/sieve;
 * outside extensions use sieve-extension.h. */
#ifndef TERN_SIEVE_RUN_H
#define TERN_SIEVE_RUN_H

#include "sieve-commands.h"

struct hash_table;
struct mime_part;

struct sieve_run_ext_context {
	const struct sieve_extension_def *ext;
	void *context;
};

/* One variable scope (RFC 5229 §3): a script's own, or the global one of
   RFC 6609 §3.4. */
struct sieve_var {
	const char *name, *value;
};
typedef ARRAY(struct sieve_var) sieve_var_array_t;

struct sieve_var_scope {
	/* names compare case-insensitively (RFC 5229 §3) */
	sieve_var_array_t vars;
	/* names this script declared global (RFC 6609 §3.4); not created
	   until the first global command */
	sieve_var_array_t globals;
};

/* editheader's view of one header name (RFC 5293): the values after the
   edits so far, top to bottom. */
struct sieve_header_overlay {
	const char *name;
	ARRAY(const char *) values;
};

/* One MIME part of the parsed message (RFC 5703, RFC 5173). */
struct sieve_msg_part {
	const struct mime_part *part;
	/* index of the parent in the part list, -1 for the root */
	int parent;
	/* header fields: names and unfolded values, in order */
	ARRAY(const char *) names;
	ARRAY(const char *) values;
	/* lazily decoded body text (UTF-8) and raw body */
	const char *text;
	const unsigned char *raw;
	size_t raw_size;
};

struct sieve_parsed_message {
	const unsigned char *data;
	size_t size;
	ARRAY(struct sieve_msg_part) parts;
};

struct sieve_run {
	const struct sieve_ast *ast; /* the script running now */
	const char *script_name;
	const struct sieve_message *msg;
	const struct sieve_env *env;
	pool_t pool, tmp_pool;
	struct sieve_exec_limits limits;
	struct sieve_result *result;
	unsigned int action_count, redirect_count;
	bool implicit_keep, stopped, returned;
	/* the script requires variables */
	bool variables;
	/* foreverypart being left by break (RFC 5703 §3.2) */
	const struct sieve_ast_node *breaking;
	const char *error;
	bool error_final;

	uint64_t cpu_start_us;
	unsigned int steps;

	ARRAY(struct sieve_run_ext_context) ext_contexts;

	/* variables: the running script's scope, the global one */
	struct sieve_var_scope *scope, *global_scope;
	/* RFC 5229 §3.2 match variables ${0}..${9}; not set while off (the
	   body test) */
	bool match_values_off;
	const char *match_values[SIEVE_MATCH_MAX_CAPTURES];
	unsigned int match_count;

	/* parsed on first need from msg->v->get_data */
	struct sieve_parsed_message *parsed;
	/* foreverypart's current part index + 1 (0: none), and how many
	   foreverypart loops are running (includes counted) */
	unsigned int current_part, loop_depth;
	ARRAY(struct sieve_header_overlay) overlays;
	/* how much editheader changed the message's size (size test) */
	int64_t size_delta;
};

/* Runs ast's top level with run's result (include). 0 or -1. */
int sieve_run_script(struct sieve_run *run, const struct sieve_ast *ast);
/* Counts a step; -1 with an error past the CPU time limit. */
int sieve_run_check_cpu(struct sieve_run *run, const struct sieve_ast_node *node);
/* The CPU time the run may still use (0: none), and CPU time spent for it
   elsewhere (a child process) to count in. */
uint64_t sieve_run_cpu_left_us(struct sieve_run *run);
void sieve_run_charge_cpu(struct sieve_run *run, uint64_t us);
bool sieve_run_requires(const struct sieve_run *run, const char *extension);

/* An expanded string never grows past this (1 MiB). */
#define SIEVE_VARIABLE_EXPAND_MAX (1024 * 1024)
/* Longest variable name (RFC 5229 leaves it open), and the highest match
   variable a script may name (${0}..${32}; more than the 9 RFC 5229 §3.2
   requires) */
#define SIEVE_VARIABLE_NAME_MAX 64
#define SIEVE_MATCH_VARIABLE_MAX 32
/* ext/variables.c, compile time: name is one a script may assign (set,
   extracttext): an identifier, not too long, a known namespace. 0 or -1. */
int sieve_variables_validate_assignment(struct sieve_validator *validator, const char *name,
					const char **error_r);
/* ext/variables.c, compile time: the variable references in str name
   known namespaces and match variables in range. 0 or -1. */
int sieve_variables_validate_string(struct sieve_validator *validator, const char *str,
				    const char **error_r);
/* ext/variables.c: name refers to the global scope in this script. */
void sieve_variables_declare_global(struct sieve_run *run, const char *name);
/* ext/variables.c: applies node's :lower ... :length modifiers in
   RFC 5229 §4.1 precedence order. */
const char *sieve_variables_apply_modifiers(struct sieve_run *run,
					    const struct sieve_ast_node *node,
					    const char *value);
/* ext/variables.c: expands "${...}" references (RFC 5229 §3). */
const char *sieve_variables_expand(struct sieve_run *run, const char *str);
/* RFC 5232 §4: hasflag keys are flag lists too: "b A" is the keys "b" and
   "A" (not for :count). */
void sieve_match_split_keys(struct sieve_match *match);
/* Stores the match values of a successful :matches or :regex. */
void sieve_run_set_match_values(struct sieve_run *run, const char *value,
				const struct sieve_match_capture *cap);
/* ext/regex.c: draft-ietf-sieve-regex :regex of value against key with
   node's comparator, groups into cap. 1/0/-1 (bad pattern: error). */
int sieve_regex_match(struct sieve_run *run, const struct sieve_ast_node *node,
		      const char *value, const char *key, struct sieve_match_capture *cap);
/* ext/imap4flags.c: flags for keep/fileinto (RFC 5232 §5: :flags, else
   the internal variable); for the implicit keep. NULL for none. */
const char *const *sieve_imap4flags_for_action(struct sieve_run *run,
					       const struct sieve_ast_node *node);
const char *const *sieve_imap4flags_implicit(struct sieve_run *run);

/* ext/mime.c: header test with :mime and :type/:subtype/:contenttype/
   :param (RFC 5703 §4.2): matches the chosen part of value. 1/0/-1 */
int sieve_mime_match_header(struct sieve_run *run, const struct sieve_ast_node *node,
			    struct sieve_match *match, const char *name, const char *value);

/* ext/mailbox.c: flag is a special-use attribute as RFC 6154 §6 writes
   them ("\\" atom), RFC 8579 §4-§5 */
bool sieve_specialuse_flag_valid(const char *flag);
/* ext/date.c: the :index/:last tags of RFC 5260 §6 are consistent (an
   index of at least 1, :last only with :index). 0 or -1. */
int sieve_index_validate(const struct sieve_ast_node *node, const char **error_r);

/* ext/environment.c: RFC 5183 item name, 1 with *value_r or 0 */
int sieve_environment_get(struct sieve_run *run, const char *name, const char **value_r);

/* sieve-message.c */
/* The parsed message (parts, headers); NULL after an error. */
struct sieve_parsed_message *sieve_run_parse_message(struct sieve_run *run,
						     const struct sieve_ast_node *node);
/* Values of header name in part (unfolded, raw), NULL-terminated. */
const char *const *sieve_msg_part_headers(struct sieve_run *run, struct sieve_msg_part *part,
					  const char *name);
/* The decoded text of a leaf part (transfer encoding undone, charset
   converted to UTF-8). */
const char *sieve_msg_part_text(struct sieve_run *run, struct sieve_msg_part *part);
/* The text of HTML markup: tags dropped (a space instead), script and
   style content skipped, the common entities decoded. */
const char *sieve_html_to_text(pool_t pool, const char *html);
/* sieve_msg_part_text(), with text/html and application/xhtml+xml turned
   into their text (RFC 5173 §5.3 :text, RFC 5703 §7 extracttext). */
const char *sieve_msg_part_plain_text(struct sieve_run *run, struct sieve_msg_part *part);
/* The overlay for name, created from the message's values. NULL on error. */
struct sieve_header_overlay *sieve_run_header_overlay(struct sieve_run *run,
						      const struct sieve_ast_node *node,
						      const char *name);
/* RFC 5228 §5.7 value preparation: trim, RFC 2047 decode. */
const char *sieve_header_value_prepare(pool_t pool, const char *value);
/* Feeds the addresses of one header value to match (address test, RFC
   5228 §5.1, with node's address part). 1 matched, 0 not, -1 error. */
int sieve_match_address_header(struct sieve_run *run, const struct sieve_ast_node *node,
			       struct sieve_match *match, const char *value);
/* A local part as written in an address: as it is when atext and dots
   (dots anywhere, as mailers send them), else as a quoted string (RFC 5322
   §3.4.1): "S[r]us" -> "\"S[r]us\"". */
const char *sieve_address_local_quote(pool_t pool, const char *local);
/* The address part of node (RFC 5228 §2.7.4, RFC 5233) of an address;
   NULL when the part does not exist (no detail). */
const char *sieve_address_part_get(struct sieve_run *run, const struct sieve_ast_node *node,
				   const char *localpart, const char *domain);

#endif
