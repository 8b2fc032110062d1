/* Settings tables: one table of typed setting definitions per config block,
 * with the helpers that parse a value into a settings struct and format it
 * back. The tables are the single source of the defaults, the validation
 * and docs/configuration.md. */
#ifndef TERN_CONFIG_SETTINGS_H
#define TERN_CONFIG_SETTINGS_H

#include "config.h"

enum setting_type {
	SETTING_TYPE_STRING,   /* const char * */
	SETTING_TYPE_PATH,     /* const char *, resolved against base_dir */
	SETTING_TYPE_BOOL,     /* bool, "yes" or "no" */
	SETTING_TYPE_UINT,     /* unsigned int within min..max */
	SETTING_TYPE_SIZE,     /* uint64_t bytes, "64k", "10M" */
	SETTING_TYPE_DURATION, /* unsigned int milliseconds, "30s", "5m" */
	SETTING_TYPE_ENUM,     /* const char *, one of values (static) */
	/* enum stored as an int: the index of the value in values, for C
	   enums whose members follow the same order */
	SETTING_TYPE_ENUM_INDEX,
};

struct setting_def {
	const char *key;
	enum setting_type type;
	size_t offset; /* of the field in the block's struct */
	/* NULL: derived when the config is loaded (the description says how) */
	const char *default_value;
	const char *const *values; /* enums: NULL-terminated */
	/* uint, size, duration (in ms): bounds; max 0 means the type's own */
	uint64_t min, max;
	/* optional extra validation of the raw value */
	int (*check)(const char *value, const char **error_r);
	const char *description;
};

/* A kind of block: the top level, tls { }, listener NAME { } ... */
struct config_block_def {
	const char *name; /* NULL for the top level */
	const struct setting_def *defs; /* ends with a NULL key */
	const char *description;
	/* unlabelled blocks: where the struct is in struct tern_settings */
	size_t offset;
	/* labelled (repeatable) blocks */
	bool labelled;
	size_t struct_size;
	/* returns 0 or -1 with *error_r set if label is not allowed */
	int (*label_check)(const char *label, const char **error_r);
	/* allocates a zeroed struct named label and appends it to set */
	void *(*item_add)(struct tern_settings *set, pool_t pool,
			  const char *label);
};

extern const struct setting_def tern_setting_defs[];
extern const struct setting_def tls_setting_defs[];
extern const struct setting_def auth_setting_defs[];
extern const struct setting_def imap_setting_defs[];
extern const struct setting_def mail_setting_defs[];
extern const struct setting_def service_setting_defs[];
extern const struct setting_def listener_setting_defs[];
extern const struct setting_def certificate_setting_defs[];
extern const struct setting_def auth_db_setting_defs[];

/* The top level first, then every block kind; NULL-terminated. */
extern const struct config_block_def *const config_blocks[];
extern const struct config_block_def config_block_top;
extern const struct config_block_def config_block_service;
extern const struct config_block_def config_block_listener;
extern const struct config_block_def config_block_certificate;
extern const struct config_block_def config_block_passdb;
extern const struct config_block_def config_block_userdb;
/* config-settings-delivery.c */
extern const struct config_block_def config_block_lmtp;
extern const struct config_block_def config_block_sieve;
extern const struct config_block_def config_block_submission;
extern const struct config_block_def config_block_quota;
extern const struct config_block_def config_block_indexer;
extern const struct config_block_def config_block_managesieve;
extern const struct config_block_def config_block_imapsieve;
extern const struct config_block_def config_block_imapsieve_mailbox;

/* A setting check shared by the tables: the value is not "". */
int config_check_not_empty(const char *value, const char **error_r);

/* The embedded default, in config syntax. */
extern const char config_embedded_default[];

/* Returns the block kind named name (not the top level), or NULL. */
const struct config_block_def *config_block_find(const char *name);
/* Returns the index of key in defs, or -1. */
int setting_def_find(const struct setting_def *defs, const char *key);

/* Parses value into the field of target described by def; strings are
   copied into pool. Returns 0, or -1 with *error_r ("invalid size '12q'
   for " + dotted_key ...) in temporary memory. */
int setting_parse(const struct setting_def *def, void *target, pool_t pool,
		  const char *dotted_key, const char *value,
		  const char **error_r);
/* Sets every setting of defs that has a default_value. */
void setting_apply_defaults(const struct setting_def *defs, void *target,
			    pool_t pool);
/* Formats the field as it would be written in a config file (unquoted).
   Paths under base_dir (when not NULL) are given relative to it. Returns
   temporary memory. */
const char *setting_format(const struct setting_def *def, const void *target,
			   const char *base_dir);
/* Human description of the type for docs, e.g. "size (at least 1k)". */
const char *setting_type_describe(const struct setting_def *def);

/* The protocol a listener named label serves by default: the label itself
   or the label without a trailing 's' (imaps -> imap), if that is a
   protocol; NULL otherwise. Returns a static string. */
const char *config_listener_protocol_from_name(const char *label);
/* The default tls of a listener: implicit when the label is the protocol
   plus 's', none for lmtp, starttls otherwise. */
enum listener_tls config_listener_tls_default(const char *label,
					      const char *protocol);

#endif
