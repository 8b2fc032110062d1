/* The copy extension (RFC 3894): ":copy" on fileinto and redirect keeps
 * the implicit keep; the commands read the tag themselves. */
#include "sieve-commands.h"

static const struct sieve_ext_tag copy_tags[] = {
	{ .command = "fileinto", .tag = { .name = "copy" } },
	{ .command = "redirect", .tag = { .name = "copy" } },
	{ .command = NULL },
};

const struct sieve_extension_def sieve_ext_copy = {
	.name = "copy", .tags = copy_tags,
};
