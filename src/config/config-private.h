/* Internal interfaces of src/config: the state of one load, shared by the
 * loader (config.c), the text parser (config-parser.c) and the dump. */
#ifndef TERN_CONFIG_PRIVATE_H
#define TERN_CONFIG_PRIVATE_H

#include "config-settings.h"
#include "hash.h"

#include <sys/stat.h>

/* One labelled block (listener imaps, service pop3), however many times
   and in whichever files it is named. */
struct config_item {
	const struct config_block_def *def;
	void *target;
	const char *label;
	/* "FILE:LINE" where it was first named, or NULL when only the
	   embedded default has named it so far */
	const char *location;
	/* bit i: defs[i] was set explicitly; settings without a
	   default_value are derived at the end only when not set */
	uint32_t set_mask;
};

/* The block a statement applies to. */
struct config_frame {
	const struct config_block_def *def;
	void *target;
	struct config_item *item; /* NULL for unlabelled blocks */
	const char *location;     /* where the block was opened */
};

struct config_file_id {
	dev_t dev;
	ino_t ino;
};

/* Everything in it that is not in pool is temporary memory valid for the
   duration of the load. */
struct config_load_ctx {
	pool_t pool;
	struct tern_settings *set;

	struct hash_table *items; /* "kind label" -> struct config_item */
	ARRAY(struct config_item *) item_list;

	/* frames[0] is the top level */
	struct config_frame frames[CONFIG_MAX_BLOCK_DEPTH + 1];
	unsigned int depth;

	/* files being read, outermost first, for include loop detection */
	ARRAY(struct config_file_id) open_files;
	unsigned int file_count;
	size_t total_size;
	bool loading_embedded;
	/* base_dir stays relative when the current directory is unknown */
	bool relative_base_dir_ok;
};

/* config.c */
/* Opens block kind (with label or NULL) inside parent. */
int config_frame_open(struct config_load_ctx *ctx,
		      const struct config_frame *parent, const char *kind,
		      const char *label, const char *location,
		      struct config_frame *frame_r, const char **error_r);
/* Sets key (a dotted key at the top level) to value. location is used for
   listeners that a dotted key creates. Errors carry no location. */
int config_frame_set(struct config_load_ctx *ctx,
		     const struct config_frame *frame, const char *key,
		     const char *value, const char *location,
		     const char **error_r);
/* "imap", "listener imaps" */
const char *config_frame_name(const struct config_frame *frame);

/* Loads the embedded default alone. Unlike config_load() it cannot fail:
   when the current directory is gone, base_dir stays relative. */
struct tern_config *config_load_embedded(void);

/* config-parser.c */
/* Parses config text. name is used in messages; includes are resolved
   against dir, and refused when dir is NULL. Errors are "NAME:LINE: ...".
   */
int config_parse_buffer(struct config_load_ctx *ctx, const char *name,
			const char *dir, const unsigned char *data, size_t size,
			const char **error_r);
/* Reads and parses the file at path. */
int config_parse_file(struct config_load_ctx *ctx, const char *path,
		      const char **error_r);
/* Applies one "dotted.key=value" override. */
int config_parse_override(struct config_load_ctx *ctx, const char *override,
			  const char **error_r);
/* Returns the directory part of path ("." when there is none). */
const char *config_path_dirname(const char *path);

/* config-dump.c */
/* Appends value as a config-file value, quoted when needed. */
void config_append_value(string_t *dest, const char *value);

#endif
