/* The registry of Sieve extensions and their commands, tests and tags
 * (RFC 5228 §3.2), with the base language of RFC 5228 as the one
 * extension without a name. Internal to src/sieve: extensions use
 * sieve-extension.h. */
#ifndef TERN_SIEVE_COMMANDS_H
#define TERN_SIEVE_COMMANDS_H

#include "sieve-extension.h"

/* Registers the built-in extensions once (idempotent). */
void sieve_extensions_init(void);
/* Finds a command (or with is_test a test) by identifier
   (case-insensitive) and the extension defining it (NULL for the base
   language); a definition of the other kind if that is all there is. */
const struct sieve_command_def *sieve_command_lookup(const char *identifier, bool is_test,
	const struct sieve_extension_def **ext_r);
/* Finds tag name for node's command: its own tags first, then the ones
   extensions add. *ext_name_r is the extension the script must require
   (NULL for none). NULL if unknown. */
const struct sieve_tag_def *sieve_command_find_tag(const struct sieve_ast_node *node,
						   const char *name,
						   const char **ext_name_r);

/* The base language's control commands, which the validator and the
   interpreter treat specially. */
extern const struct sieve_command_def sieve_base_commands[];
#define SIEVE_DEF_REQUIRE (&sieve_base_commands[0])
#define SIEVE_DEF_IF (&sieve_base_commands[1])
#define SIEVE_DEF_ELSIF (&sieve_base_commands[2])
#define SIEVE_DEF_ELSE (&sieve_base_commands[3])

/* validate hooks of the base language (sieve-validator.c) */
int sieve_validate_require(struct sieve_validator *validator,
			   struct sieve_ast_node *node, const char **error_r);
int sieve_validate_elsif(struct sieve_validator *validator,
			 struct sieve_ast_node *node, const char **error_r);
/* RFC 5322 §3.6.8 field names (sieve-base.c) */
int sieve_validate_header_names(const struct sieve_ast_arg *arg, const char **error_r);
/* RFC 5228 §2.4.2.4 on a command and its children
   (ext/encoded-character.c); -1 with "line N: text" */
int sieve_encoded_character_decode(pool_t pool, struct sieve_ast_node *node,
				   const char **error_r);

/* ext/mime.c: checks the RFC 5703 tags on header/address/exists */
int sieve_mime_validate_node(struct sieve_validator *validator,
			     struct sieve_ast_node *node, const char **error_r);
/* ext/regex.c: checks constant :regex keys at compile time */
int sieve_regex_validate_keys(struct sieve_validator *validator,
			      const struct sieve_ast_node *node,
			      const struct sieve_ast_arg *keys, const char **error_r);

/* Built-in extensions (one file each in ext/). */
extern const struct sieve_extension_def sieve_ext_fileinto, sieve_ext_envelope,
	sieve_ext_copy, sieve_ext_reject, sieve_ext_ereject,
	sieve_ext_encoded_character, sieve_ext_comparator_octet,
	sieve_ext_comparator_casemap, sieve_ext_comparator_numeric,
	sieve_ext_variables, sieve_ext_imap4flags, sieve_ext_relational,
	sieve_ext_subaddress, sieve_ext_body, sieve_ext_regex, sieve_ext_date,
	sieve_ext_index, sieve_ext_environment, sieve_ext_ihave,
	sieve_ext_mailbox, sieve_ext_mboxmetadata, sieve_ext_servermetadata,
	sieve_ext_spamtest, sieve_ext_spamtestplus, sieve_ext_virustest,
	sieve_ext_editheader, sieve_ext_duplicate, sieve_ext_vacation,
	sieve_ext_vacation_seconds, sieve_ext_include, sieve_ext_enotify,
	sieve_ext_mime, sieve_ext_foreverypart, sieve_ext_extracttext,
	sieve_ext_special_use, sieve_ext_imapsieve;

#endif
