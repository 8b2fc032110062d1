/* Capability lines of RFC 5804 §1.7: IMPLEMENTATION, SASL, SIEVE, NOTIFY,
 * MAXREDIRECTS, STARTTLS, OWNER, VERSION and UNAUTHENTICATE (§2.14.1). */
#include "managesieve-capability.h"
#include "managesieve-parser.h"

static void capability_line(string_t *dest, const char *name, const char *value)
{
	managesieve_quote_append_str(dest, name);
	if (value != NULL) {
		str_append_c(dest, ' ');
		managesieve_quote_append_str(dest, value);
	}
	str_append(dest, "\r\n");
}

void managesieve_capability_append(string_t *dest, const struct managesieve_capability_opts *opts)
{
	capability_line(dest, "IMPLEMENTATION", "Tern");
	if (opts->sasl_mechs != NULL)
		capability_line(dest, "SASL", opts->sasl_mechs);
	capability_line(dest, "SIEVE", opts->sieve_extensions);
	if (opts->notify_methods != NULL && opts->notify_methods[0] != '\0')
		capability_line(dest, "NOTIFY", opts->notify_methods);
	if (opts->max_redirects > 0)
		capability_line(dest, "MAXREDIRECTS",
				t_strdup_printf("%u", opts->max_redirects));
	if (opts->starttls)
		capability_line(dest, "STARTTLS", NULL);
	if (opts->owner != NULL)
		capability_line(dest, "OWNER", opts->owner);
	capability_line(dest, "VERSION", "1.0");
	if (opts->unauthenticate)
		capability_line(dest, "UNAUTHENTICATE", NULL);
}

const char *managesieve_capability_sieve_list(const char *const *extensions,
					      const char **notify_r)
{
	string_t *str = t_str_new(256);
	*notify_r = NULL;
	for (unsigned int i = 0; extensions[i] != NULL; i++) {
		/* RFC 5804 §1.7: with enotify, NOTIFY lists the methods;
		   the only one here is mailto (RFC 5436) */
		if (strcmp(extensions[i], "enotify") == 0)
			*notify_r = "mailto";
		if (str_len(str) > 0)
			str_append_c(str, ' ');
		str_append(str, extensions[i]);
	}
	return str_c(str);
}
