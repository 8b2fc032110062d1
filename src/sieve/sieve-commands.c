/* Signatures of the RFC 5228 base commands and tests and of the simple
 * extensions built in so far: fileinto (RFC 5228 §4.1), envelope
 * (§5.4), copy (RFC 3894), reject and ereject (RFC 5429),
 * encoded-character (§2.4.2.4) and i;ascii-numeric (RFC 4790 §9.1). */
#include "sieve-commands.h"

#include <strings.h>

static const struct sieve_tag_def copy_tags[] = {
	{ .name = "copy", .extension = "copy" }, /* RFC 3894 §3 */
	{ .name = NULL },
};

static const struct sieve_tag_def size_tags[] = {
	{ .name = "over" },
	{ .name = "under" },
	{ .name = NULL },
};

#define MATCH_FLAGS (SIEVE_CMD_FLAG_TEST | SIEVE_CMD_FLAG_COMPARATOR | \
		     SIEVE_CMD_FLAG_MATCH_TYPE)
#define SL SIEVE_ARG_STRING_LIST

static const struct sieve_command_def commands[] = {
	{ .identifier = "require", .id = SIEVE_CMD_REQUIRE, .positional = { SL },
	  .validate = sieve_validate_require },
	{ .identifier = "if", .id = SIEVE_CMD_IF, .flags = SIEVE_CMD_FLAG_BLOCK,
	  .tests = SIEVE_TESTS_ONE },
	{ .identifier = "elsif", .id = SIEVE_CMD_ELSIF, .flags = SIEVE_CMD_FLAG_BLOCK,
	  .tests = SIEVE_TESTS_ONE, .validate = sieve_validate_elsif },
	{ .identifier = "else", .id = SIEVE_CMD_ELSE, .flags = SIEVE_CMD_FLAG_BLOCK,
	  .validate = sieve_validate_elsif },
	{ .identifier = "stop", .id = SIEVE_CMD_STOP },
	{ .identifier = "keep", .id = SIEVE_CMD_KEEP },
	{ .identifier = "discard", .id = SIEVE_CMD_DISCARD },
	{ .identifier = "redirect", .id = SIEVE_CMD_REDIRECT,
	  .positional = { SIEVE_ARG_STRING }, .tags = copy_tags,
	  .validate = sieve_validate_redirect },
	{ .identifier = "fileinto", .id = SIEVE_CMD_FILEINTO, .extension = "fileinto",
	  .positional = { SIEVE_ARG_STRING }, .tags = copy_tags,
	  .validate = sieve_validate_fileinto },
	{ .identifier = "reject", .id = SIEVE_CMD_REJECT, .extension = "reject",
	  .positional = { SIEVE_ARG_STRING } },
	{ .identifier = "ereject", .id = SIEVE_CMD_EREJECT, .extension = "ereject",
	  .positional = { SIEVE_ARG_STRING } },

	{ .identifier = "address", .id = SIEVE_TEST_ADDRESS,
	  .flags = MATCH_FLAGS | SIEVE_CMD_FLAG_ADDRESS_PART,
	  .positional = { SL, SL }, .validate = sieve_validate_address },
	{ .identifier = "envelope", .id = SIEVE_TEST_ENVELOPE, .extension = "envelope",
	  .flags = MATCH_FLAGS | SIEVE_CMD_FLAG_ADDRESS_PART,
	  .positional = { SL, SL }, .validate = sieve_validate_envelope },
	{ .identifier = "header", .id = SIEVE_TEST_HEADER, .flags = MATCH_FLAGS,
	  .positional = { SL, SL }, .validate = sieve_validate_header },
	{ .identifier = "exists", .id = SIEVE_TEST_EXISTS, .flags = SIEVE_CMD_FLAG_TEST,
	  .positional = { SL }, .validate = sieve_validate_header },
	{ .identifier = "size", .id = SIEVE_TEST_SIZE, .flags = SIEVE_CMD_FLAG_TEST,
	  .positional = { SIEVE_ARG_NUMBER }, .tags = size_tags,
	  .validate = sieve_validate_size },
	{ .identifier = "allof", .id = SIEVE_TEST_ALLOF, .flags = SIEVE_CMD_FLAG_TEST,
	  .tests = SIEVE_TESTS_LIST },
	{ .identifier = "anyof", .id = SIEVE_TEST_ANYOF, .flags = SIEVE_CMD_FLAG_TEST,
	  .tests = SIEVE_TESTS_LIST },
	{ .identifier = "not", .id = SIEVE_TEST_NOT, .flags = SIEVE_CMD_FLAG_TEST,
	  .tests = SIEVE_TESTS_ONE },
	{ .identifier = "true", .id = SIEVE_TEST_TRUE, .flags = SIEVE_CMD_FLAG_TEST },
	{ .identifier = "false", .id = SIEVE_TEST_FALSE, .flags = SIEVE_CMD_FLAG_TEST },
};

static const char *const extensions[] = {
	"fileinto", "envelope", "copy", "reject", "ereject", "encoded-character",
	"comparator-i;octet", "comparator-i;ascii-casemap",
	"comparator-i;ascii-numeric",
	NULL
};

const struct sieve_command_def *sieve_command_lookup(const char *identifier)
{
	for (unsigned int i = 0; i < N_ELEMENTS(commands); i++) {
		if (strcasecmp(commands[i].identifier, identifier) == 0)
			return &commands[i];
	}
	return NULL;
}

bool sieve_extension_is_known(const char *name)
{
	/* RFC 5228 §3.2: capability strings are case-sensitive */
	for (unsigned int i = 0; extensions[i] != NULL; i++) {
		if (strcmp(extensions[i], name) == 0)
			return true;
	}
	return false;
}

const char *const *sieve_extension_names(void)
{
	return extensions;
}

int sieve_command_find_tag(const struct sieve_command_def *def, const char *name)
{
	if (def->tags == NULL)
		return -1;
	for (int i = 0; def->tags[i].name != NULL; i++) {
		if (strcasecmp(def->tags[i].name, name) == 0)
			return i;
	}
	return -1;
}
