/* Loading a configuration: the embedded default, then the file, then the
 * overrides, applied to one set of settings structs; labelled blocks merge
 * by name; at the end derived defaults are filled in, listeners validated
 * and paths made absolute. */
#include "config-private.h"

#include <errno.h>
#include <unistd.h>

#define EMBEDDED_NAME "<embedded default>"

const char *config_frame_name(const struct config_frame *frame)
{
	if (frame->def->name == NULL)
		return "top level";
	if (frame->item == NULL)
		return frame->def->name;
	return t_strdup_printf("%s %s", frame->def->name, frame->item->label);
}

static const char *config_frame_prefix(const struct config_frame *frame)
{
	if (frame->def->name == NULL)
		return "";
	if (frame->item == NULL)
		return t_strdup_printf("%s.", frame->def->name);
	return t_strdup_printf("%s.%s.", frame->def->name, frame->item->label);
}

static int config_item_create(struct config_load_ctx *ctx,
			      const struct config_block_def *def,
			      const char *label, const char *location,
			      struct config_item **item_r, const char **error_r)
{
	struct config_item *item;
	unsigned int count = 0;

	for (unsigned int i = 0; i < ctx->item_list.count; i++) {
		if (ctx->item_list.v[i]->def == def)
			count++;
	}
	if (count >= CONFIG_MAX_LISTENERS) {
		*error_r = t_strdup_printf("too many %s blocks (limit %u)",
					   def->name, CONFIG_MAX_LISTENERS);
		return -1;
	}
	item = t_new(struct config_item, 1);
	item->def = def;
	item->label = t_strdup(label);
	item->location = ctx->loading_embedded ? NULL : location;
	item->target = def->item_add(ctx->set, ctx->pool, label);
	setting_apply_defaults(def->defs, item->target, ctx->pool);
	hash_table_insert(ctx->items, t_strdup_printf("%s %s", def->name, label),
			  item);
	array_push(&ctx->item_list, item);
	*item_r = item;
	return 0;
}

static int config_item_get(struct config_load_ctx *ctx,
			   const struct config_block_def *def,
			   const char *label, const char *location,
			   struct config_item **item_r, const char **error_r)
{
	const char *error;

	if (label[0] == '\0') {
		*error_r = t_strdup_printf("block '%s' needs a name", def->name);
		return -1;
	}
	if (strlen(label) > CONFIG_MAX_LABEL_LENGTH) {
		*error_r = t_strdup_printf("%s name longer than %u characters",
					   def->name, CONFIG_MAX_LABEL_LENGTH);
		return -1;
	}
	*item_r = hash_table_lookup(ctx->items, t_strdup_printf(
		"%s %s", def->name, label));
	if (*item_r != NULL) {
		/* report problems with a default listener where the config
		   changed it, not in the embedded text */
		if ((*item_r)->location == NULL)
			(*item_r)->location = location;
		return 0;
	}
	if (def->label_check(label, &error) < 0) {
		*error_r = error;
		return -1;
	}
	return config_item_create(ctx, def, label, location, item_r, error_r);
}

int config_frame_open(struct config_load_ctx *ctx,
		      const struct config_frame *parent, const char *kind,
		      const char *label, const char *location,
		      struct config_frame *frame_r, const char **error_r)
{
	const struct config_block_def *def = config_block_find(kind);

	/* the schema has no nested blocks (yet) */
	if (parent->def != &config_block_top) {
		*error_r = t_strdup_printf("unknown block '%s' in block '%s'",
					   kind, config_frame_name(parent));
		return -1;
	}
	if (def == NULL) {
		*error_r = t_strdup_printf("unknown block '%s'", kind);
		return -1;
	}
	if (def->labelled && label == NULL) {
		*error_r = t_strdup_printf("block '%s' needs a name: %s NAME {",
					   kind, kind);
		return -1;
	}
	if (!def->labelled && label != NULL) {
		*error_r = t_strdup_printf("block '%s' takes no name", kind);
		return -1;
	}
	memset(frame_r, 0, sizeof(*frame_r));
	frame_r->def = def;
	frame_r->location = location;
	if (!def->labelled) {
		frame_r->target = (char *)ctx->set + def->offset;
		return 0;
	}
	if (config_item_get(ctx, def, label, location, &frame_r->item,
			    error_r) < 0)
		return -1;
	frame_r->target = frame_r->item->target;
	return 0;
}

/* "imap.max_line_length", "listener.imaps.port" at the top level */
static int config_set_dotted(struct config_load_ctx *ctx, const char *key,
			     const char *value, const char *location,
			     const char **error_r)
{
	const char *dot = strchr(key, '.'), *kind, *label = NULL;
	const struct config_block_def *def;
	struct config_frame frame;

	kind = t_strndup(key, (size_t)(dot - key));
	key = dot + 1;
	def = config_block_find(kind);
	if (def == NULL) {
		*error_r = t_strdup_printf("unknown setting '%s.%s'", kind, key);
		return -1;
	}
	if (def->labelled) {
		dot = strchr(key, '.');
		if (dot == NULL) {
			*error_r = t_strdup_printf("setting '%s.%s' needs a "
						   "name: %s.NAME.KEY",
						   kind, key, kind);
			return -1;
		}
		label = t_strndup(key, (size_t)(dot - key));
		key = dot + 1;
	}
	if (config_frame_open(ctx, &ctx->frames[0], kind, label, location,
			      &frame, error_r) < 0)
		return -1;
	return config_frame_set(ctx, &frame, key, value, location, error_r);
}

int config_frame_set(struct config_load_ctx *ctx,
		     const struct config_frame *frame, const char *key,
		     const char *value, const char *location,
		     const char **error_r)
{
	const char *dotted_key;
	int idx;

	if (frame->def == &config_block_top && strchr(key, '.') != NULL)
		return config_set_dotted(ctx, key, value, location, error_r);
	idx = setting_def_find(frame->def->defs, key);
	if (idx < 0) {
		if (frame->def == &config_block_top)
			*error_r = t_strdup_printf("unknown setting '%s'", key);
		else
			*error_r = t_strdup_printf("unknown setting '%s' in "
						   "block '%s'", key,
						   config_frame_name(frame));
		return -1;
	}
	dotted_key = t_strdup_printf("%s%s", config_frame_prefix(frame), key);
	if (setting_parse(&frame->def->defs[idx], frame->target, ctx->pool,
			  dotted_key, value, error_r) < 0)
		return -1;
	if (frame->item != NULL) {
		i_assert(idx < 32);
		frame->item->set_mask |= 1U << idx;
	}
	return 0;
}

static bool config_item_is_set(const struct config_item *item, const char *key)
{
	int idx = setting_def_find(item->def->defs, key);

	i_assert(idx >= 0);
	return (item->set_mask & (1U << idx)) != 0;
}

static int config_finish_listener(const struct config_item *item,
				  const char **error_r)
{
	struct listener_settings *listener = item->target;
	const char *location = item->location != NULL ? item->location :
		EMBEDDED_NAME;

	if (!config_item_is_set(item, "protocol")) {
		listener->protocol =
			config_listener_protocol_from_name(listener->name);
		if (listener->protocol == NULL) {
			*error_r = t_strdup_printf(
				"%s: listener '%s': set its protocol (it is "
				"not implied by the name)", location,
				listener->name);
			return -1;
		}
	}
	if (!config_item_is_set(item, "tls")) {
		listener->tls = config_listener_tls_default(listener->name,
							    listener->protocol);
	}
	if (!listener->enabled)
		return 0;
	if (listener->port == 0 && listener->path[0] == '\0') {
		*error_r = t_strdup_printf("%s: listener '%s' needs a port or "
					   "a path", location,
					   listener->name);
		return -1;
	}
	if (listener->port != 0 && listener->path[0] != '\0') {
		*error_r = t_strdup_printf("%s: listener '%s' has both port %u "
					   "and path '%s'; set port = 0 to "
					   "listen on the Unix socket only",
					   location, listener->name,
					   listener->port, listener->path);
		return -1;
	}
	return 0;
}

/* Drops empty and "." components; ".." is kept, since symlinks make
   removing it a change of meaning. */
static const char *config_path_clean(const char *path)
{
	string_t *str = t_str_new(strlen(path) + 1);
	const char *p = path, *end;
	size_t len;

	if (*p == '/')
		str_append_c(str, '/');
	for (; *p != '\0'; p = *end == '\0' ? end : end + 1) {
		end = strchrnul(p, '/');
		len = (size_t)(end - p);
		if (len == 0 || (len == 1 && *p == '.'))
			continue;
		if (str_len(str) > 0 && str_c(str)[str_len(str) - 1] != '/')
			str_append_c(str, '/');
		str_append_n(str, p, len);
	}
	if (str_len(str) == 0)
		return ".";
	return str_c(str);
}

static void config_resolve_paths(const struct setting_def *defs, void *target,
				 const char *base_dir, pool_t pool)
{
	for (unsigned int i = 0; defs[i].key != NULL; i++) {
		const char **field =
			(const char **)(void *)((char *)target + defs[i].offset);

		if (defs[i].type != SETTING_TYPE_PATH || (*field)[0] == '\0' ||
		    *field == base_dir)
			continue;
		if ((*field)[0] == '/') {
			*field = p_strdup(pool, config_path_clean(*field));
		} else {
			*field = p_strdup(pool, config_path_clean(t_strdup_printf(
				"%s/%s", base_dir, *field)));
		}
	}
}

static int config_resolve_base_dir(struct config_load_ctx *ctx,
				   const char **error_r)
{
	struct tern_settings *set = ctx->set;
	const char *base_dir = set->base_dir;
	char *cwd;

	if (base_dir[0] == '\0') {
		*error_r = "base_dir must not be empty";
		return -1;
	}
	if (base_dir[0] != '/') {
		cwd = getcwd(NULL, 0);
		if (cwd != NULL) {
			base_dir = t_strdup_printf("%s/%s", cwd, base_dir);
			free(cwd);
		} else if (!ctx->relative_base_dir_ok) {
			*error_r = t_strdup_printf("cannot resolve base_dir: "
						   "getcwd() failed: %s",
						   strerror(errno));
			return -1;
		}
	}
	set->base_dir = p_strdup(ctx->pool, config_path_clean(base_dir));

	for (unsigned int i = 0; config_blocks[i] != NULL; i++) {
		const struct config_block_def *def = config_blocks[i];
		if (!def->labelled) {
			config_resolve_paths(def->defs,
					     (char *)set + def->offset,
					     set->base_dir, ctx->pool);
		}
	}
	for (unsigned int i = 0; i < ctx->item_list.count; i++) {
		const struct config_item *item = ctx->item_list.v[i];
		config_resolve_paths(item->def->defs, item->target,
				     set->base_dir, ctx->pool);
	}
	return 0;
}

static int config_finish(struct config_load_ctx *ctx, const char **error_r)
{
	for (unsigned int i = 0; i < ctx->item_list.count; i++) {
		const struct config_item *item = ctx->item_list.v[i];
		if (item->def == &config_block_listener &&
		    config_finish_listener(item, error_r) < 0)
			return -1;
	}
	return config_resolve_base_dir(ctx, error_r);
}

static struct tern_config *config_create(struct config_load_ctx *ctx,
					 const char *path)
{
	pool_t pool = pool_create("config", 16 * 1024);
	struct tern_config *config = p_new(pool, struct tern_config, 1);
	struct tern_settings *set = p_new(pool, struct tern_settings, 1);
	const char *error;

	config->pool = pool;
	config->path = p_strdup(pool, path);
	config->set = set;
	array_init(&set->listeners, pool, 8);
	array_init(&set->services, pool, 4);
	array_init(&set->passdbs, pool, 2);
	array_init(&set->userdbs, pool, 2);
	for (unsigned int i = 0; config_blocks[i] != NULL; i++) {
		const struct config_block_def *def = config_blocks[i];
		if (!def->labelled) {
			setting_apply_defaults(def->defs,
					       (char *)set + def->offset, pool);
		}
	}

	memset(ctx, 0, sizeof(*ctx));
	ctx->pool = pool;
	ctx->set = set;
	ctx->items = hash_table_create(system_pool, str_hash, str_cmp);
	array_init(&ctx->item_list, t_pool(), 16);
	array_init(&ctx->open_files, t_pool(), CONFIG_MAX_INCLUDE_DEPTH + 1);
	ctx->frames[0].def = &config_block_top;
	ctx->frames[0].target = set;
	ctx->frames[0].location = EMBEDDED_NAME;

	ctx->loading_embedded = true;
	if (config_parse_buffer(ctx, EMBEDDED_NAME, NULL,
				(const unsigned char *)config_embedded_default,
				strlen(config_embedded_default), &error) < 0)
		i_panic("embedded default config is broken: %s", error);
	ctx->loading_embedded = false;
	return config;
}

/* text == NULL: read path (unless it is NULL too) */
static int config_load_full(const char *path, const char *text,
			    const char *name, const char *const *overrides,
			    struct tern_config **config_r, const char **error_r)
{
	struct config_load_ctx ctx;
	struct tern_config *config = config_create(&ctx, path);
	int ret = 0;

	if (text != NULL) {
		ret = config_parse_buffer(&ctx, name,
			strchr(name, '/') == NULL ? NULL :
			config_path_dirname(name),
			(const unsigned char *)text, strlen(text), error_r);
	} else if (path != NULL) {
		ret = config_parse_file(&ctx, path, error_r);
	}
	for (unsigned int i = 0; ret == 0 && overrides != NULL &&
				 overrides[i] != NULL; i++)
		ret = config_parse_override(&ctx, overrides[i], error_r);
	if (ret == 0)
		ret = config_finish(&ctx, error_r);

	hash_table_destroy(&ctx.items);
	if (ret < 0) {
		config_free(&config);
		return -1;
	}
	*config_r = config;
	return 0;
}

struct tern_config *config_load_embedded(void)
{
	struct config_load_ctx ctx;
	struct tern_config *config = config_create(&ctx, NULL);
	const char *error;

	ctx.relative_base_dir_ok = true;
	if (config_finish(&ctx, &error) < 0)
		i_panic("embedded default config is broken: %s", error);
	hash_table_destroy(&ctx.items);
	return config;
}

int config_load(const char *path, const char *const *overrides,
		struct tern_config **config_r, const char **error_r)
{
	return config_load_full(path, NULL, NULL, overrides, config_r, error_r);
}

int config_load_string(const char *text, const char *name,
		       const char *const *overrides,
		       struct tern_config **config_r, const char **error_r)
{
	return config_load_full(NULL, text, name, overrides, config_r, error_r);
}

void config_free(struct tern_config **_config)
{
	struct tern_config *config = *_config;
	pool_t pool;

	if (config == NULL)
		return;
	*_config = NULL;
	pool = config->pool;
	pool_destroy(&pool);
}

const struct service_settings *
config_find_service(const struct tern_config *config, const char *name)
{
	for (unsigned int i = 0; i < config->set->services.count; i++) {
		if (strcmp(config->set->services.v[i]->name, name) == 0)
			return config->set->services.v[i];
	}
	return NULL;
}
