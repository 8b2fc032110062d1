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

static int envelope_match_part(struct sieve_run *run, const struct sieve_ast_node *node,
			       struct sieve_match *match, enum sieve_envelope_part part)
{
	const char *value, *error, *at, *local, *domain, *str;
	int ret = run->msg->v->get_envelope(run->msg->context, part, &value, &error);

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
	at = strrchr(value, '@');
	local = at == NULL ? value : p_strndup(run->pool, value, (size_t)(at - value));
	domain = at == NULL ? "" : at + 1;
	str = sieve_address_part_get(run, node, local, domain);
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
