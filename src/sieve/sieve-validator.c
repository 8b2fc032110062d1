/* Sieve validation: the generic signature check driven by the command
 * table, then command-specific checks (RFC 5228 §3-§5). */
#include "sieve-validator.h"
#include "sieve-commands.h"
#include "mime-address.h"
#include "mime-charset.h"

#include <strings.h>

struct sieve_validator {
	struct sieve_ast *ast;
	pool_t pool;
	/* the command before the one being validated in its block */
	const struct sieve_ast_node *prev_command;
	/* a non-require command was seen at the top level */
	bool commands_started;
};

static const char *const address_headers[] = {
	/* RFC 5228 §5.1 requires these ... */
	"from", "to", "cc", "bcc", "sender", "resent-from", "resent-to",
	/* ... and allows other headers holding addresses */
	"reply-to", "resent-cc", "resent-bcc", "resent-sender", "resent-reply-to",
	"return-path", "delivered-to", "errors-to", "envelope-to", "x-original-to",
	"disposition-notification-to", "original-recipient", "mail-followup-to",
	"mail-reply-to", "x-envelope-to", "x-delivered-to",
	NULL
};

bool sieve_ast_requires(const struct sieve_ast *ast, const char *extension)
{
	/* the list holds each known extension at most once, so this stays
	   short however many times a script repeats a require */
	for (unsigned int i = 0; i < ast->extensions.count; i++) {
		if (strcmp(ast->extensions.v[i], extension) == 0)
			return true;
	}
	return false;
}

static int validate_extension(struct sieve_validator *validator, const char *extension,
			      const char *what, const char **error_r)
{
	if (extension == NULL || sieve_ast_requires(validator->ast, extension))
		return 0;
	*error_r = t_strdup_printf("%s requires extension \"%s\" (missing require?)",
				   what, extension);
	return -1;
}

/* RFC 5228 §2.7: the :comparator, match type and address part tags.
   Returns 1 if tag was one of them, 0 if not, -1 on error. */
static int validate_match_tag(struct sieve_validator *validator, struct sieve_ast_node *node,
			      const struct sieve_ast_arg *arg, const struct sieve_ast_arg *next,
			      bool *seen, const char **error_r)
{
	static const char *const names[] = {
		"is", "contains", "matches", "all", "localpart", "domain", "comparator",
	};
	enum sieve_command_flags flags = node->def->flags;
	unsigned int i;

	for (i = 0; i < N_ELEMENTS(names); i++) {
		if (strcasecmp(arg->tag, names[i]) == 0)
			break;
	}
	unsigned int group = i < 3 ? 0 : i < 6 ? 1 : 2;
	enum sieve_command_flags need = group == 0 ? SIEVE_CMD_FLAG_MATCH_TYPE :
		group == 1 ? SIEVE_CMD_FLAG_ADDRESS_PART : SIEVE_CMD_FLAG_COMPARATOR;
	if (i == N_ELEMENTS(names) || (flags & need) == 0)
		return 0;
	if (seen[group]) {
		static const char *const what[] = { "match type", "address part", "comparator" };
		*error_r = t_strdup_printf("more than one %s given", what[group]);
		return -1;
	}
	seen[group] = true;
	if (group == 0) {
		node->match_type = (enum sieve_match_type)i;
	} else if (group == 1) {
		node->address_part = (enum sieve_address_part)(i - 3);
	} else {
		if (next == NULL || next->type != SIEVE_AST_ARG_STRING) {
			*error_r = "the :comparator tag needs a string argument";
			return -1;
		}
		if (sieve_comparator_lookup(next->strings[0], &node->comparator) == 0) {
			*error_r = t_strdup_printf("unknown comparator \"%s\"", next->strings[0]);
			return -1;
		}
		if (validate_extension(validator, sieve_comparator_extension(node->comparator),
				       t_strdup_printf("comparator \"%s\"", next->strings[0]),
				       error_r) < 0)
			return -1;
	}
	return 1;
}

static bool arg_kind_ok(enum sieve_arg_kind kind, const struct sieve_ast_arg *arg)
{
	switch (kind) {
	case SIEVE_ARG_NONE:
		return false;
	case SIEVE_ARG_STRING:
		return arg->type == SIEVE_AST_ARG_STRING;
	case SIEVE_ARG_STRING_LIST:
		return arg->type == SIEVE_AST_ARG_STRING ||
			arg->type == SIEVE_AST_ARG_STRING_LIST;
	case SIEVE_ARG_NUMBER:
		return arg->type == SIEVE_AST_ARG_NUMBER;
	}
	return false;
}

static const char *arg_kind_name(enum sieve_arg_kind kind)
{
	return kind == SIEVE_ARG_STRING ? "a string" :
		kind == SIEVE_ARG_STRING_LIST ? "a string list" : "a number";
}

static int validate_tag(struct sieve_validator *validator, struct sieve_ast_node *node,
			unsigned int *idx, bool *seen, const char **error_r)
{
	const struct sieve_ast_arg *arg = &node->args.v[*idx];
	const struct sieve_ast_arg *next =
		*idx + 1 < node->args.count ? &node->args.v[*idx + 1] : NULL;
	int ret, tag_idx;

	ret = validate_match_tag(validator, node, arg, next, seen, error_r);
	if (ret != 0) {
		if (ret > 0 && strcasecmp(arg->tag, "comparator") == 0)
			(*idx)++;
		return ret < 0 ? -1 : 0;
	}
	tag_idx = sieve_command_find_tag(node->def, arg->tag);
	if (tag_idx < 0 || tag_idx >= SIEVE_MAX_TAGS) {
		*error_r = t_strdup_printf("unknown tag ':%s' for '%s'", arg->tag,
					   node->def->identifier);
		return -1;
	}
	const struct sieve_tag_def *tag = &node->def->tags[tag_idx];
	if (validate_extension(validator, tag->extension,
			       t_strdup_printf("tag ':%s'", tag->name), error_r) < 0)
		return -1;
	if (node->tags[tag_idx] != NULL) {
		*error_r = t_strdup_printf("tag ':%s' given more than once", tag->name);
		return -1;
	}
	node->tags[tag_idx] = arg;
	if (tag->value != SIEVE_ARG_NONE) {
		if (next == NULL || !arg_kind_ok(tag->value, next)) {
			*error_r = t_strdup_printf("tag ':%s' needs %s argument", tag->name,
						   arg_kind_name(tag->value));
			return -1;
		}
		node->tags[tag_idx] = next;
		(*idx)++;
	}
	return 0;
}

static unsigned int def_positional_count(const struct sieve_command_def *def)
{
	unsigned int n = 0;

	while (n < SIEVE_MAX_POSITIONAL && def->positional[n] != SIEVE_ARG_NONE)
		n++;
	return n;
}

/* RFC 5228 §2.6: tagged arguments, then positional ones. */
static int validate_arguments(struct sieve_validator *validator, struct sieve_ast_node *node,
			      const char **error_r)
{
	const struct sieve_command_def *def = node->def;
	unsigned int expected = def_positional_count(def);
	bool seen[3] = { false, false, false };

	for (unsigned int i = 0; i < node->args.count; i++) {
		const struct sieve_ast_arg *arg = &node->args.v[i];

		if (arg->type == SIEVE_AST_ARG_TAG) {
			if (validate_tag(validator, node, &i, seen, error_r) < 0)
				return -1;
			continue;
		}
		if (node->positional_count >= expected) {
			*error_r = t_strdup_printf("too many arguments for '%s'",
						   def->identifier);
			return -1;
		}
		if (!arg_kind_ok(def->positional[node->positional_count], arg)) {
			*error_r = t_strdup_printf("argument %u of '%s' must be %s",
				node->positional_count + 1, def->identifier,
				arg_kind_name(def->positional[node->positional_count]));
			return -1;
		}
		node->positional[node->positional_count++] = arg;
	}
	if (node->positional_count < expected) {
		*error_r = t_strdup_printf("'%s' needs %u argument%s, got %u",
			def->identifier, expected, expected == 1 ? "" : "s",
			node->positional_count);
		return -1;
	}
	if (!sieve_comparator_supports(node->comparator, node->match_type)) {
		*error_r = t_strdup_printf("comparator \"%s\" does not support this match type",
					   sieve_comparator_name(node->comparator));
		return -1;
	}
	return 0;
}

static int validate_structure(struct sieve_ast_node *node, const char **error_r)
{
	const struct sieve_command_def *def = node->def;

	switch (def->tests) {
	case SIEVE_TESTS_NONE:
		if (node->tests.count > 0) {
			*error_r = t_strdup_printf("'%s' takes no test", def->identifier);
			return -1;
		}
		break;
	case SIEVE_TESTS_ONE:
		if (node->tests.count != 1 || node->test_list) {
			*error_r = t_strdup_printf("'%s' needs exactly one test", def->identifier);
			return -1;
		}
		break;
	case SIEVE_TESTS_LIST:
		if (!node->test_list) {
			*error_r = t_strdup_printf("'%s' needs a test list in parentheses",
						   def->identifier);
			return -1;
		}
		break;
	}
	if ((def->flags & SIEVE_CMD_FLAG_BLOCK) != 0 && !node->has_block) {
		*error_r = t_strdup_printf("'%s' needs a block", def->identifier);
		return -1;
	}
	if ((def->flags & SIEVE_CMD_FLAG_BLOCK) == 0 && node->has_block) {
		*error_r = t_strdup_printf("'%s' takes no block", def->identifier);
		return -1;
	}
	return 0;
}

static int validate_node(struct sieve_validator *validator, struct sieve_ast_node *node,
			 bool is_test, const char **error_r);

static int validate_children(struct sieve_validator *validator, struct sieve_ast_node *node,
			     const char **error_r)
{
	for (unsigned int i = 0; i < node->tests.count; i++) {
		if (validate_node(validator, node->tests.v[i], true, error_r) < 0)
			return -1;
	}
	for (unsigned int i = 0; i < node->block.count; i++) {
		validator->prev_command = i == 0 ? NULL : node->block.v[i - 1];
		if (validate_node(validator, node->block.v[i], false, error_r) < 0)
			return -1;
	}
	return 0;
}

static int validate_node(struct sieve_validator *validator, struct sieve_ast_node *node,
			 bool is_test, const char **error_r)
{
	const struct sieve_command_def *def = sieve_command_lookup(node->identifier);
	const char *error = NULL;

	if (def == NULL) {
		error = t_strdup_printf("unknown %s '%s'", is_test ? "test" : "command",
					node->identifier);
	} else if (((def->flags & SIEVE_CMD_FLAG_TEST) != 0) != is_test) {
		error = t_strdup_printf("'%s' is a %s, not a %s", def->identifier,
					is_test ? "command" : "test",
					is_test ? "test" : "command");
	} else {
		node->def = def;
		if (validate_extension(validator, def->extension,
				       t_strdup_printf("'%s'", def->identifier), &error) < 0 ||
		    validate_arguments(validator, node, &error) < 0 ||
		    validate_structure(node, &error) < 0 ||
		    (def->validate != NULL && def->validate(validator, node, &error) < 0))
			node->def = NULL;
	}
	if (error != NULL) {
		*error_r = p_strdup_printf(validator->pool, "line %u: %s", node->line, error);
		return -1;
	}
	if (!is_test && node->parent == validator->ast->root &&
	    def->id != SIEVE_CMD_REQUIRE)
		validator->commands_started = true;
	return validate_children(validator, node, error_r);
}

/* RFC 5228 §3.2: require only at the top, before any other command, and
   only of extensions this build has. */
int sieve_validate_require(struct sieve_validator *validator,
			   struct sieve_ast_node *node, const char **error_r)
{
	const struct sieve_ast_arg *arg = node->positional[0];

	if (node->parent != validator->ast->root || validator->commands_started) {
		*error_r = "require must come before any other command";
		return -1;
	}
	for (unsigned int i = 0; i < arg->string_count; i++) {
		if (!sieve_extension_is_known(arg->strings[i])) {
			*error_r = t_strdup_printf("unsupported extension \"%s\"",
						   arg->strings[i]);
			return -1;
		}
		if (!sieve_ast_requires(validator->ast, arg->strings[i]))
			array_push(&validator->ast->extensions, arg->strings[i]);
	}
	return 0;
}

/* RFC 5228 §3.1: elsif and else only right after if or elsif. */
int sieve_validate_elsif(struct sieve_validator *validator,
			 struct sieve_ast_node *node, const char **error_r)
{
	const struct sieve_ast_node *prev = validator->prev_command;

	if (prev == NULL || prev->def == NULL ||
	    (prev->def->id != SIEVE_CMD_IF && prev->def->id != SIEVE_CMD_ELSIF)) {
		*error_r = t_strdup_printf("'%s' must follow 'if' or 'elsif'",
					   node->def->identifier);
		return -1;
	}
	return 0;
}

/* RFC 5228 §4.2: the address must be a valid RFC 5322 addr-spec. */
int sieve_validate_redirect(struct sieve_validator *validator,
			    struct sieve_ast_node *node, const char **error_r)
{
	const char *address = node->positional[0]->strings[0];
	struct mime_address_list list = { NULL, NULL, 0 };

	mime_address_parse(validator->pool, address, strlen(address), 2, 0, &list);
	if (list.count != 1 || list.head->invalid || list.head->domain == NULL ||
	    list.head->mailbox[0] == '\0' || list.head->domain[0] == '\0' ||
	    list.head->name != NULL || list.head->route != NULL ||
	    strchr(address, '<') != NULL) {
		*error_r = t_strdup_printf("invalid redirect address \"%s\"", address);
		return -1;
	}
	return 0;
}

int sieve_validate_fileinto(struct sieve_validator *validator,
			    struct sieve_ast_node *node, const char **error_r)
{
	const char *mailbox = node->positional[0]->strings[0];

	if (mailbox[0] == '\0' || !charset_utf8_is_valid(mailbox, strlen(mailbox))) {
		*error_r = "invalid mailbox name for fileinto (empty or not UTF-8)";
		return -1;
	}
	return 0;
}

/* RFC 5322 §3.6.8: field-name = 1*ftext (printable ASCII but ':'). */
static int validate_header_names(const struct sieve_ast_arg *arg, const char **error_r)
{
	for (unsigned int i = 0; i < arg->string_count; i++) {
		const unsigned char *p = (const unsigned char *)arg->strings[i];

		if (*p == '\0')
			goto invalid;
		for (; *p != '\0'; p++) {
			if (*p <= 32 || *p >= 127 || *p == ':')
				goto invalid;
		}
		continue;
	invalid:
		*error_r = t_strdup_printf("invalid header name \"%s\"", arg->strings[i]);
		return -1;
	}
	return 0;
}

int sieve_validate_header(struct sieve_validator *validator,
			  struct sieve_ast_node *node, const char **error_r)
{
	return validate_header_names(node->positional[0], error_r);
}

/* RFC 5228 §5.1: the address test only works on headers with addresses. */
int sieve_validate_address(struct sieve_validator *validator,
			   struct sieve_ast_node *node, const char **error_r)
{
	const struct sieve_ast_arg *arg = node->positional[0];

	if (validate_header_names(arg, error_r) < 0)
		return -1;
	for (unsigned int i = 0; i < arg->string_count; i++) {
		unsigned int j;

		for (j = 0; address_headers[j] != NULL; j++) {
			if (strcasecmp(address_headers[j], arg->strings[i]) == 0)
				break;
		}
		if (address_headers[j] == NULL) {
			*error_r = t_strdup_printf("header \"%s\" holds no addresses "
						   "(not allowed in the address test)",
						   arg->strings[i]);
			return -1;
		}
	}
	return 0;
}

/* RFC 5228 §5.4: "from" and "to" are the envelope parts we know. */
int sieve_validate_envelope(struct sieve_validator *validator,
			    struct sieve_ast_node *node, const char **error_r)
{
	const struct sieve_ast_arg *arg = node->positional[0];

	for (unsigned int i = 0; i < arg->string_count; i++) {
		if (strcasecmp(arg->strings[i], "from") != 0 &&
		    strcasecmp(arg->strings[i], "to") != 0) {
			*error_r = t_strdup_printf("unknown envelope part \"%s\"",
						   arg->strings[i]);
			return -1;
		}
	}
	return 0;
}

/* RFC 5228 §5.9: exactly one of :over and :under. */
int sieve_validate_size(struct sieve_validator *validator,
			struct sieve_ast_node *node, const char **error_r)
{
	if ((node->tags[0] == NULL) == (node->tags[1] == NULL)) {
		*error_r = "size needs exactly one of :over and :under";
		return -1;
	}
	return 0;
}

static int hex_value(int c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
		c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Decodes the body of one "${hex:...}" or "${unicode:...}" (p just after
   the ':'); returns 1 and the position after '}' if well-formed, 0 if not
   (then the text stays as it is), -1 on a forbidden value. */
static int encoded_decode_one(const char *p, bool unicode, string_t *dest,
			      const char **end_r, const char **error_r)
{
	size_t start_len = str_len(dest);
	bool any = false;

	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (*p == '}')
			break;
		uint32_t value = 0;
		unsigned int digits = 0;
		while (hex_value(*p) >= 0) {
			if (value > 0x10ffff)
				goto bad_value;
			value = value * 16 + (uint32_t)hex_value(*p++);
			digits++;
		}
		if (digits == 0 || (!unicode && digits != 2) ||
		    (*p != '}' && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n'))
			goto malformed;
		if (unicode && (value > 0x10ffff || (value >= 0xd800 && value <= 0xdfff)))
			goto bad_value;
		if (value == 0)
			goto bad_value;
		if (unicode)
			str_append_utf8(dest, value);
		else
			str_append_c(dest, (char)value);
		any = true;
	}
	/* RFC 5228 §2.4.2.4: at least one hex pair or code point */
	if (!any)
		goto malformed;
	*end_r = p + 1;
	return 1;
malformed:
	str_truncate(dest, start_len);
	return 0;
bad_value:
	*error_r = "invalid character value in encoded-character string";
	return -1;
}

/* RFC 5228 §2.4.2.4 */
static int encoded_decode_string(pool_t pool, const char **strp, const char **error_r)
{
	const char *s = *strp, *p;
	string_t *dest;

	if (strstr(s, "${") == NULL)
		return 0;
	dest = str_new(pool, strlen(s) + 1);
	while ((p = strstr(s, "${")) != NULL) {
		const char *q = p + 2, *end;
		bool unicode;
		int ret = 0;

		str_append_n(dest, s, (size_t)(p - s));
		while (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n')
			q++;
		if ((unicode = strncasecmp(q, "unicode:", 8) == 0) ||
		    strncasecmp(q, "hex:", 4) == 0)
			ret = encoded_decode_one(q + (unicode ? 8 : 4), unicode, dest, &end, error_r);
		if (ret < 0)
			return -1;
		if (ret == 0) {
			str_append_n(dest, p, 2);
			s = p + 2;
		} else {
			s = end;
		}
	}
	str_append(dest, s);
	*strp = str_c(dest);
	return 0;
}

static int encoded_decode_node(pool_t pool, struct sieve_ast_node *node, const char **error_r)
{
	for (unsigned int i = 0; i < node->args.count; i++) {
		struct sieve_ast_arg *arg = &node->args.v[i];

		for (unsigned int j = 0; j < arg->string_count; j++) {
			if (encoded_decode_string(pool, &arg->strings[j], error_r) < 0) {
				*error_r = p_strdup_printf(pool, "line %u: %s", arg->line,
							   *error_r);
				return -1;
			}
		}
	}
	for (unsigned int i = 0; i < node->tests.count; i++) {
		if (encoded_decode_node(pool, node->tests.v[i], error_r) < 0)
			return -1;
	}
	for (unsigned int i = 0; i < node->block.count; i++) {
		if (encoded_decode_node(pool, node->block.v[i], error_r) < 0)
			return -1;
	}
	return 0;
}

int sieve_validate(struct sieve_ast *ast, const char **error_r)
{
	struct sieve_validator validator = { .ast = ast, .pool = ast->pool };
	struct sieve_ast_node *root = ast->root;
	unsigned int i;

	/* the requires first: encoded-character changes the strings the
	   other commands are checked with */
	for (i = 0; i < root->block.count; i++) {
		if (strcasecmp(root->block.v[i]->identifier, "require") != 0)
			break;
		validator.prev_command = i == 0 ? NULL : root->block.v[i - 1];
		if (validate_node(&validator, root->block.v[i], false, error_r) < 0)
			return -1;
	}
	if (sieve_ast_requires(ast, "encoded-character")) {
		for (unsigned int j = i; j < root->block.count; j++) {
			if (encoded_decode_node(ast->pool, root->block.v[j], error_r) < 0)
				return -1;
		}
	}
	for (; i < root->block.count; i++) {
		validator.prev_command = i == 0 ? NULL : root->block.v[i - 1];
		if (validate_node(&validator, root->block.v[i], false, error_r) < 0)
			return -1;
	}
	return 0;
}

int sieve_compile(pool_t pool, const void *data, size_t size,
		  const struct sieve_parser_limits *limits,
		  struct sieve_ast **ast_r, const char **error_r)
{
	struct sieve_ast *ast;

	if (sieve_parse(pool, data, size, limits, &ast, error_r) < 0 ||
	    sieve_validate(ast, error_r) < 0)
		return -1;
	*ast_r = ast;
	return 0;
}
