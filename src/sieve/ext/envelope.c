/* The envelope test (RFC 5228 §5.4): the SMTP envelope's "from" and "to"
 * (and "auth", "orig_to" when the caller knows them) matched with the
 * address parts of §2.7.4 and RFC 5233. */
#include "sieve-run.h"

#include <strings.h>

static const char *const envelope_parts[] = {
	[SIEVE_ENVELOPE_FROM] = "from", [SIEVE_ENVELOPE_TO] = "to",
	[SIEVE_ENVELOPE_AUTH] = "auth", [SIEVE_ENVELOPE_ORIG_TO] = "orig_to",
};

static int envelope_part_lookup(const char *name, enum sieve_envelope_part *part_r)
{
	for (unsigned int i = 0; i < N_ELEMENTS(envelope_parts); i++) {
		if (strcasecmp(envelope_parts[i], name) == 0) {
			*part_r = (enum sieve_envelope_part)i;
			return 1;
		}
	}
	return 0;
}

static int validate_envelope(struct sieve_validator *validator,
			     struct sieve_ast_node *node, const char **error_r)
{
	const struct sieve_ast_arg *arg = node->positional[0];
	enum sieve_envelope_part part;

	for (unsigned int i = 0; i < arg->string_count; i++) {
		if (!sieve_validator_string_is_dynamic(validator, arg->strings[i]) &&
		    envelope_part_lookup(arg->strings[i], &part) == 0) {
			*error_r = t_strdup_printf("unknown envelope part \"%s\"",
						   arg->strings[i]);
			return -1;
		}
	}
	return 0;
}

static bool path_atext(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		c >= 0x80 || (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/* A domain (RFC 5321 §4.1.2; '_' accepted, as MTAs pass it) or an
   address literal; returns its end or NULL. */
static const char *path_domain(const char *p)
{
	if (*p == '[') {
		const char *end = strchr(p, ']');
		return end == NULL || end == p + 1 ? NULL : end + 1;
	}
	for (;;) {
		const char *start = p;

		while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		       (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' ||
		       (unsigned char)*p >= 0x80)
			p++;
		if (p == start)
			return NULL;
		if (*p != '.')
			return p;
		p++;
	}
}

int sieve_envelope_path_parse(pool_t pool, const char *path, const char **local_r,
			      const char **domain_r)
{
	size_t len = strlen(path);
	const char *p, *end, *start;
	string_t *local = t_str_new(64);

	/* RFC 5321 §4.1.2 Path = "<" [ A-d-l ":" ] Mailbox ">" (the brackets
	   may be gone already) */
	if (path[0] == '<') {
		if (len < 2 || path[len - 1] != '>')
			return -1;
		path = t_strndup(path + 1, len - 2);
	}
	if (strpbrk(path, "<>") != NULL)
		return -1;
	p = path;
	/* the source route is parsed and ignored (RFC 5321 §4.1.2) */
	if (*p == '@') {
		for (;;) {
			if (*p != '@' || (p = path_domain(p + 1)) == NULL)
				return -1;
			if (*p == ':')
				break;
			if (*p != ',')
				return -1;
			p++;
		}
		p++;
	}
	if (*p == '"') {
		for (p++; *p != '"'; p++) {
			if (*p == '\0')
				return -1;
			if (*p == '\\' && p[1] != '\0')
				p++;
			str_append_c(local, *p);
		}
		p++;
	} else {
		/* dots anywhere: mailers (and Japanese mobile carriers) send
		   "a..b" and ".a" */
		for (start = p; path_atext((unsigned char)*p) || *p == '.'; p++) ;
		str_append_n(local, start, (size_t)(p - start));
	}
	if (str_len(local) == 0)
		return -1;
	if (*p == '\0') {
		/* a local part alone: "<MAILER-DAEMON>", "<postmaster>" */
		*local_r = sieve_address_local_quote(pool, str_c(local));
		*domain_r = NULL;
		return 0;
	}
	if (*p != '@' || (end = path_domain(p + 1)) == NULL || *end != '\0')
		return -1;
	*local_r = sieve_address_local_quote(pool, str_c(local));
	*domain_r = p_strdup(pool, p + 1);
	return 0;
}

static int envelope_match_part(struct sieve_run *run, const struct sieve_ast_node *node,
			       struct sieve_match *match, enum sieve_envelope_part part)
{
	const char *value, *error, *local, *domain, *str;
	int ret = run->msg->v->get_envelope(run->msg->context, part, &value, &error);
	const char *at;

	if (ret < 0)
		return sieve_run_error(run, node, "failed to read the envelope: %s", error);
	if (ret == 0)
		return 0;
	/* RFC 5228 §5.4: the null reverse-path is "" for every address
	   part */
	if (value[0] == '\0')
		return node->address_part == SIEVE_ADDRESS_ALL ||
			node->address_part == SIEVE_ADDRESS_LOCALPART ||
			node->address_part == SIEVE_ADDRESS_DOMAIN ?
			sieve_run_match_value(match, "") : 0;
	if (part == SIEVE_ENVELOPE_AUTH) {
		/* AUTH= (RFC 4954 §5) is an identity, not necessarily a path */
		at = strrchr(value, '@');
		local = at == NULL ? value : p_strndup(run->pool, value, (size_t)(at - value));
		domain = at == NULL ? NULL : at + 1;
	} else if (sieve_envelope_path_parse(run->pool, value, &local, &domain) < 0) {
		/* a path that does not parse matches nothing */
		return 0;
	}
	if (domain == NULL) {
		/* only :all and :localpart see a path without a domain */
		if (node->address_part != SIEVE_ADDRESS_ALL &&
		    node->address_part != SIEVE_ADDRESS_LOCALPART)
			return 0;
		domain = "";
	}
	str = node->address_part == SIEVE_ADDRESS_ALL && *domain == '\0' ? local :
		sieve_address_part_get(run, node, local, domain);
	return str == NULL ? 0 : sieve_run_match_value(match, str);
}

static int test_envelope(struct sieve_run *run, const struct sieve_ast_node *node)
{
	struct sieve_match *match = sieve_run_match_begin(run, node, node->positional[1]);
	const char *const *parts;
	unsigned int count = sieve_run_strings(run, node->positional[0], &parts);
	enum sieve_envelope_part part;
	int ret = 0;

	for (unsigned int i = 0; i < count && ret == 0; i++) {
		if (envelope_part_lookup(parts[i], &part) == 0)
			return sieve_run_error(run, node, "unknown envelope part \"%s\"",
					       parts[i]);
		ret = envelope_match_part(run, node, match, part);
	}
	if (ret < 0)
		return -1;
	return sieve_run_match_end(&match);
}

static const struct sieve_command_def envelope_commands[] = {
	{ .identifier = "envelope",
	  .flags = SIEVE_CMD_FLAG_TEST | SIEVE_CMD_FLAG_COMPARATOR |
		SIEVE_CMD_FLAG_MATCH_TYPE | SIEVE_CMD_FLAG_ADDRESS_PART,
	  .positional = { SIEVE_ARG_STRING_LIST, SIEVE_ARG_STRING_LIST },
	  .validate = validate_envelope, .execute = test_envelope },
	{ .identifier = NULL },
};

const struct sieve_extension_def sieve_ext_envelope = {
	.name = "envelope", .commands = envelope_commands,
};
