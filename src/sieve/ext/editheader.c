/* The editheader extension (RFC 5293): addheader (§4) and deleteheader
 * (§5) change the header that later tests see and that keep and fileinto
 * store; the changes reach the caller as result->header_edits. Received
 * and Auto-Submitted are never deleted (§6), and the caller may protect
 * more fields (struct sieve_env): edits to them are ignored. */
#include "sieve-run.h"
#include "mime-charset.h"

#include <strings.h>

/* without a configured limit (struct sieve_exec_limits.max_header_size) */
#define SIEVE_EDITHEADER_DEFAULT_MAX_SIZE 8192

/* RFC 5293 §6: never deleted, whatever the configuration says */
static const char *const undeletable_headers[] = { "received", "auto-submitted", NULL };

static bool name_listed(const char *const *list, const char *name)
{
	for (; list != NULL && *list != NULL; list++) {
		if (strcasecmp(*list, name) == 0)
			return true;
	}
	return false;
}

/* May a script add (or delete) fields called name? */
static bool header_editable(const struct sieve_env *env, const char *name, bool add)
{
	/* RFC 5293 §7 uses Subject as the field a script marks mail in
	   (e.g. "[SPAM]"): changing it is never forbidden */
	if (strcasecmp(name, "subject") == 0)
		return true;
	if (name_listed(env->editheader_protected, name))
		return false;
	if (add)
		return !name_listed(env->editheader_forbid_add, name);
	return !name_listed(undeletable_headers, name) &&
		!name_listed(env->editheader_forbid_delete, name);
}

static bool field_name_valid(const char *name)
{
	if (*name == '\0')
		return false;
	for (const unsigned char *p = (const unsigned char *)name; *p != '\0'; p++) {
		if (*p <= 32 || *p >= 127 || *p == ':')
			return false;
	}
	return true;
}

const char *const *sieve_header_name_list_parse(pool_t pool, const char *value)
{
	ARRAY(const char *) names;

	array_init(&names, pool, 4);
	while (value != NULL && *value != '\0') {
		size_t len = strcspn(value, " \t,");
		const char *name = p_strndup(pool, value, len);

		if (len > 0 && field_name_valid(name))
			array_push(&names, name);
		value += len;
		value += strspn(value, " \t,");
	}
	array_push(&names, NULL);
	return names.v;
}

/* The whole field (name ": " value) within max_size octets. */
static bool field_size_valid(const char *name, const char *value, unsigned int max_size)
{
	if (max_size == 0)
		max_size = SIEVE_EDITHEADER_DEFAULT_MAX_SIZE;
	return strlen(name) + 2 + strlen(value) <= max_size;
}

/* A value quoted in an error, cut to a readable length. */
static const char *str_sanitize(const char *s, size_t max)
{
	size_t len = strlen(s);

	if (len <= max)
		return s;
	while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
		max--; /* not inside a UTF-8 sequence */
	return t_strconcat(t_strndup(s, max), "...", NULL);
}

static const char *field_name_error(const char *command, const char *name)
{
	return t_strdup_printf("%s: specified field name \"%s\" is invalid", command,
			       str_sanitize(name, 80));
}

/* Line breaks in a value become folds (CRLF + whitespace), as RFC 5322
   §2.2.3 needs; *unfolded_r is the value as header tests see it. */
static const char *value_fold(pool_t pool, const char *value, const char **unfolded_r)
{
	string_t *folded = str_new(pool, strlen(value) + 8);
	string_t *unfolded = str_new(pool, strlen(value) + 1);

	for (const char *p = value; *p != '\0'; p++) {
		if (*p != '\r' && *p != '\n') {
			str_append_c(folded, *p);
			str_append_c(unfolded, *p);
			continue;
		}
		if (*p == '\r' && p[1] == '\n')
			p++;
		if (p[1] == '\0')
			break;
		str_append(folded, "\r\n");
		if (p[1] != ' ' && p[1] != '\t') {
			str_append_c(folded, ' ');
			str_append_c(unfolded, ' ');
		}
	}
	*unfolded_r = str_c(unfolded);
	return str_c(folded);
}

static int validate_addheader(struct sieve_validator *validator,
			      struct sieve_ast_node *node, const char **error_r)
{
	const struct sieve_compile_env *cenv = sieve_validator_compile_env(validator);
	const char *name = node->positional[0]->strings[0];
	const char *value = node->positional[1]->strings[0];
	bool name_dynamic = sieve_validator_string_is_dynamic(validator, name);

	if (!name_dynamic && !field_name_valid(name)) {
		*error_r = field_name_error("addheader", name);
		return -1;
	}
	if (sieve_validator_string_is_dynamic(validator, value))
		return 0;
	if (!charset_utf8_is_valid(value, strlen(value))) {
		*error_r = t_strdup_printf("addheader: specified value \"%s\" is invalid "
					   "(not UTF-8)", str_sanitize(value, 80));
		return -1;
	}
	if (!name_dynamic &&
	    !field_size_valid(name, value, cenv == NULL ? 0 : cenv->max_header_size)) {
		*error_r = t_strdup_printf("addheader: the %s field is longer than the limit "
			"of %u octets", str_sanitize(name, 80),
			cenv == NULL || cenv->max_header_size == 0 ?
			SIEVE_EDITHEADER_DEFAULT_MAX_SIZE : cenv->max_header_size);
		return -1;
	}
	return 0;
}

static int validate_deleteheader(struct sieve_validator *validator,
				 struct sieve_ast_node *node, const char **error_r)
{
	const char *name = node->positional[0]->strings[0];

	if (node->positional[0]->type != SIEVE_AST_ARG_STRING) {
		*error_r = "deleteheader: the field name must be a string";
		return -1;
	}
	if (!sieve_validator_string_is_dynamic(validator, name) && !field_name_valid(name)) {
		*error_r = field_name_error("deleteheader", name);
		return -1;
	}
	if (sieve_node_has_tag(node, "last") && !sieve_node_has_tag(node, "index")) {
		*error_r = "deleteheader: :last needs :index";
		return -1;
	}
	if (sieve_node_tag_value(node, "index") != NULL &&
	    sieve_node_tag_value(node, "index")->number == 0) {
		*error_r = "deleteheader: :index must be at least 1";
		return -1;
	}
	return 0;
}

static int edit_check_limit(struct sieve_run *run, const struct sieve_ast_node *node)
{
	if (run->result->header_edits.count >= run->limits.max_header_edits)
		return sieve_run_error(run, node, "too many header changes (limit %u)",
				       run->limits.max_header_edits);
	return 0;
}

static int exec_addheader(struct sieve_run *run, const struct sieve_ast_node *node)
{
	const char *name = sieve_run_string(run, node->positional[0]);
	const char *value = sieve_run_string(run, node->positional[1]);
	struct sieve_header_overlay *ov;
	struct sieve_header_edit edit = {
		.type = SIEVE_HEADER_EDIT_ADD, .last = sieve_node_has_tag(node, "last"),
	};

	if (!field_name_valid(name))
		return sieve_run_error(run, node, "%s", field_name_error("addheader", name));
	if (!charset_utf8_is_valid(value, strlen(value)))
		return sieve_run_error(run, node, "addheader: specified value \"%s\" is "
				       "invalid (not UTF-8)", str_sanitize(value, 80));
	if (!field_size_valid(name, value, run->limits.max_header_size))
		return sieve_run_error(run, node, "addheader: the %s field is longer than "
				       "the limit of %u octets", name, run->limits.max_header_size);
	if (!header_editable(run->env, name, true))
		return 0;
	if (edit_check_limit(run, node) < 0 ||
	    (ov = sieve_run_header_overlay(run, node, name)) == NULL)
		return -1;
	const char *unfolded;
	edit.name = p_strdup(run->pool, name);
	edit.value = value_fold(run->pool, value, &unfolded);
	array_push(&ov->values, unfolded);
	if (!edit.last) {
		memmove(&ov->values.v[1], &ov->values.v[0],
			sizeof(ov->values.v[0]) * (ov->values.count - 1));
		ov->values.v[0] = unfolded;
	}
	array_push(&run->result->header_edits, edit);
	run->size_delta += (int64_t)(strlen(name) + 2 + strlen(value) + 2);
	return 0;
}

/* Is occurrence i (0-based, of count) a candidate under :index/:last? */
static bool index_selects(const struct sieve_ast_node *node, unsigned int i,
			  unsigned int count)
{
	const struct sieve_ast_arg *index = sieve_node_tag_value(node, "index");

	if (index == NULL)
		return true;
	if (index->number > count)
		return false;
	return sieve_node_has_tag(node, "last") ? i == count - index->number :
		i == index->number - 1;
}

static int exec_deleteheader(struct sieve_run *run, const struct sieve_ast_node *node)
{
	const char *name = sieve_run_string(run, node->positional[0]);
	const struct sieve_ast_arg *patterns = sieve_node_arg(node, 1);
	struct sieve_header_overlay *ov;
	ARRAY(unsigned int) occurrences;
	int ret;

	if (!field_name_valid(name))
		return sieve_run_error(run, node, "%s", field_name_error("deleteheader", name));
	if (!header_editable(run->env, name, false))
		return 0;
	if (edit_check_limit(run, node) < 0 ||
	    (ov = sieve_run_header_overlay(run, node, name)) == NULL)
		return -1;
	array_init(&occurrences, run->pool, 4);
	unsigned int count = ov->values.count;
	for (unsigned int i = 0, orig = 0; orig < count; orig++) {
		bool del = index_selects(node, orig, count);

		if (del && patterns != NULL) {
			struct sieve_match *match = sieve_run_match_begin(run, node, patterns);

			ret = sieve_run_match_value(match,
				sieve_header_value_prepare(run->tmp_pool, ov->values.v[i]));
			if (ret < 0)
				return -1;
			del = sieve_run_match_end(&match) > 0 || ret > 0;
		}
		if (!del) {
			i++;
			continue;
		}
		array_push(&occurrences, orig + 1);
		run->size_delta -= (int64_t)(strlen(name) + 2 + strlen(ov->values.v[i]) + 2);
		array_delete(&ov->values, i, 1);
	}
	if (occurrences.count > 0) {
		struct sieve_header_edit edit = {
			.type = SIEVE_HEADER_EDIT_DELETE, .name = p_strdup(run->pool, name),
			.occurrences = occurrences.v, .occurrence_count = occurrences.count,
		};
		array_push(&run->result->header_edits, edit);
	}
	return 0;
}

static const struct sieve_tag_def addheader_tags[] = {
	{ .name = "last" },
	{ .name = NULL },
};

static const struct sieve_tag_def deleteheader_tags[] = {
	{ .name = "index", .value = SIEVE_ARG_NUMBER },
	{ .name = "last" },
	{ .name = NULL },
};

static const struct sieve_command_def editheader_commands[] = {
	{ .identifier = "addheader", .positional = { SIEVE_ARG_STRING, SIEVE_ARG_STRING },
	  .tags = addheader_tags, .validate = validate_addheader, .execute = exec_addheader },
	{ .identifier = "deleteheader",
	  .flags = SIEVE_CMD_FLAG_COMPARATOR | SIEVE_CMD_FLAG_MATCH_TYPE,
	  .positional = { SIEVE_ARG_STRING_LIST, SIEVE_ARG_STRING_LIST },
	  .optional_positional = 1, .tags = deleteheader_tags,
	  .validate = validate_deleteheader, .execute = exec_deleteheader },
	{ .identifier = NULL },
};

const struct sieve_extension_def sieve_ext_editheader = {
	.name = "editheader", .commands = editheader_commands,
};
