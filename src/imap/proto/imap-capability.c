/* The capability table. A capability is listed only when it fully works. */
#include "imap-capability.h"
#include "buffer.h"

#include <strings.h>

enum cap_when {
	CAP_ALWAYS,
	CAP_PREAUTH,  /* only before login */
	CAP_POSTAUTH, /* only after login */
	CAP_METADATA, /* only after login, with opts->metadata */
};

struct imap_capability_def {
	const char *name;
	enum cap_when when;
	const char *rfc;
};

static const struct imap_capability_def capabilities[] = {
	{ .name = "IMAP4rev1", .when = CAP_ALWAYS, .rfc = "RFC 3501" },
	{ .name = "IMAP4rev2", .when = CAP_ALWAYS, .rfc = "RFC 9051" },
	{ .name = "SASL-IR", .when = CAP_ALWAYS, .rfc = "RFC 4959" },
	{ .name = "ID", .when = CAP_ALWAYS, .rfc = "RFC 2971" },
	{ .name = "ENABLE", .when = CAP_ALWAYS, .rfc = "RFC 5161" },
	{ .name = "LITERAL+", .when = CAP_ALWAYS, .rfc = "RFC 7888" },
	{ .name = "IDLE", .when = CAP_ALWAYS, .rfc = "RFC 2177" },
	{ .name = "NOTIFY", .when = CAP_ALWAYS, .rfc = "RFC 5465" },
	{ .name = "UNSELECT", .when = CAP_ALWAYS, .rfc = "RFC 3691" },
	{ .name = "UIDPLUS", .when = CAP_ALWAYS, .rfc = "RFC 4315" },
	{ .name = "MULTIAPPEND", .when = CAP_ALWAYS, .rfc = "RFC 3502" },
	{ .name = "CATENATE", .when = CAP_ALWAYS, .rfc = "RFC 4469" },
	{ .name = "REPLACE", .when = CAP_ALWAYS, .rfc = "RFC 8508" },
	{ .name = "URLAUTH", .when = CAP_ALWAYS, .rfc = "RFC 4467" },
	{ .name = "URLAUTH=BINARY", .when = CAP_ALWAYS, .rfc = "RFC 5524" },
	{ .name = "URL-PARTIAL", .when = CAP_ALWAYS, .rfc = "RFC 5550" },
	{ .name = "MOVE", .when = CAP_ALWAYS, .rfc = "RFC 6851" },
	{ .name = "NAMESPACE", .when = CAP_ALWAYS, .rfc = "RFC 2342" },
	{ .name = "CHILDREN", .when = CAP_ALWAYS, .rfc = "RFC 3348" },
	{ .name = "LIST-EXTENDED", .when = CAP_ALWAYS, .rfc = "RFC 5258" },
	{ .name = "SPECIAL-USE", .when = CAP_ALWAYS, .rfc = "RFC 6154" },
	{ .name = "CREATE-SPECIAL-USE", .when = CAP_ALWAYS, .rfc = "RFC 6154 §3" },
	{ .name = "LIST-STATUS", .when = CAP_ALWAYS, .rfc = "RFC 5819" },
	{ .name = "STATUS=SIZE", .when = CAP_ALWAYS, .rfc = "RFC 8438" },
	{ .name = "SAVEDATE", .when = CAP_ALWAYS, .rfc = "RFC 8514" },
	{ .name = "OBJECTID", .when = CAP_ALWAYS, .rfc = "RFC 8474" },
	{ .name = "CONDSTORE", .when = CAP_ALWAYS, .rfc = "RFC 7162 §3.1" },
	{ .name = "QRESYNC", .when = CAP_ALWAYS, .rfc = "RFC 7162 §3.2" },
	{ .name = "ESEARCH", .when = CAP_ALWAYS, .rfc = "RFC 4731" },
	{ .name = "BINARY", .when = CAP_ALWAYS, .rfc = "RFC 3516" },
	{ .name = "SEARCHRES", .when = CAP_ALWAYS, .rfc = "RFC 5182" },
	{ .name = "WITHIN", .when = CAP_ALWAYS, .rfc = "RFC 5032" },
	{ .name = "PARTIAL", .when = CAP_ALWAYS, .rfc = "RFC 9394" },
	{ .name = "SORT", .when = CAP_ALWAYS, .rfc = "RFC 5256" },
	{ .name = "SORT=DISPLAY", .when = CAP_ALWAYS, .rfc = "RFC 5957" },
	{ .name = "ESORT", .when = CAP_ALWAYS, .rfc = "RFC 5267 §3" },
	{ .name = "CONTEXT=SEARCH", .when = CAP_ALWAYS, .rfc = "RFC 5267 §4" },
	{ .name = "CONTEXT=SORT", .when = CAP_ALWAYS, .rfc = "RFC 5267 §4" },
	{ .name = "THREAD=ORDEREDSUBJECT", .when = CAP_ALWAYS, .rfc = "RFC 5256" },
	{ .name = "THREAD=REFERENCES", .when = CAP_ALWAYS, .rfc = "RFC 5256" },
	{ .name = "THREAD=REFS", .when = CAP_ALWAYS, .rfc = "draft-ietf-morg-inthread" },
	{ .name = "I18NLEVEL=1", .when = CAP_ALWAYS, .rfc = "RFC 5255" },
	{ .name = "LOGIN-REFERRALS", .when = CAP_ALWAYS, .rfc = "RFC 2221" },
	{ .name = "UTF8=ACCEPT", .when = CAP_ALWAYS, .rfc = "RFC 6855, RFC 9755" },
	{ .name = "UNAUTHENTICATE", .when = CAP_ALWAYS, .rfc = "RFC 8437" },
	{ .name = "COMPRESS=DEFLATE", .when = CAP_POSTAUTH, .rfc = "RFC 4978" },
	{ .name = "PREVIEW", .when = CAP_ALWAYS, .rfc = "RFC 8970" },
	{ .name = "UIDONLY", .when = CAP_ALWAYS, .rfc = "RFC 9586" },
	{ .name = "INPROGRESS", .when = CAP_ALWAYS, .rfc = "RFC 9585" },
	{ .name = "METADATA", .when = CAP_METADATA, .rfc = "RFC 5464" },
	{ .name = "METADATA-SERVER", .when = CAP_METADATA, .rfc = "RFC 5464" },
};

/* Commands that exist only with a capability; removing the capability
   turns them into unknown commands. */
static const struct {
	const char *command;
	const char *capability;
} command_capabilities[] = {
	{ "COMPRESS", "COMPRESS" },
	{ "ENABLE", "ENABLE" },
	{ "ID", "ID" },
	{ "IDLE", "IDLE" },
	{ "NAMESPACE", "NAMESPACE" },
	{ "UNSELECT", "UNSELECT" },
	{ "MOVE", "MOVE" },
	{ "UID MOVE", "MOVE" },
	{ "UID EXPUNGE", "UIDPLUS" },
	{ "SORT", "SORT" },
	{ "UID SORT", "SORT" },
	{ "THREAD", "THREAD" },
	{ "UID THREAD", "THREAD" },
	{ "CANCELUPDATE", "CONTEXT" },
	{ "GETMETADATA", "METADATA" },
	{ "SETMETADATA", "METADATA" },
	{ "NOTIFY", "NOTIFY" },
	{ "GENURLAUTH", "URLAUTH" },
	{ "RESETKEY", "URLAUTH" },
	{ "URLFETCH", "URLAUTH" },
	{ "REPLACE", "REPLACE" },
	{ "UID REPLACE", "REPLACE" },
	{ "UNAUTHENTICATE", "UNAUTHENTICATE" },
};

/* Walks the space-separated list; true when an entry equals name, or
   is name's part before '=' ("THREAD" for "THREAD=REFS"), or, with
   prefix_only, when name is an entry's part before '=' ("THREAD"
   against a list holding "THREAD=REFS"). */
static bool list_matches(const char *list, const char *name, bool prefix_only)
{
	size_t name_len = strlen(name);
	const char *name_eq = strchr(name, '=');
	size_t name_base = name_eq == NULL ? name_len : (size_t)(name_eq - name);

	for (const char *p = list; p != NULL && *p != '\0';) {
		while (*p == ' ')
			p++;
		size_t len = strcspn(p, " ");
		if (len == 0)
			break;
		if (!prefix_only) {
			if ((len == name_len || len == name_base) &&
			    strncasecmp(p, name, len) == 0)
				return true;
		} else if (len > name_len && p[name_len] == '=' &&
			   strncasecmp(p, name, name_len) == 0) {
			return true;
		}
		p += len;
	}
	return false;
}

/* Capabilities that mean nothing without another one: removing the
   second removes the first too. */
static const struct {
	const char *name, *requires;
} capability_requires[] = {
	{ "QRESYNC", "CONDSTORE" },  /* RFC 7162 §3.2.3 */
	{ "ESORT", "SORT" },
	{ "CONTEXT=SORT", "SORT" },
	{ "SORT=DISPLAY", "SORT" },
	{ "CONTEXT=SEARCH", "ESEARCH" }, /* RFC 5267 §4 */
	{ "URL-PARTIAL", "URLAUTH" },
};

bool imap_capability_is_removed(const char *remove, const char *name)
{
	if (remove == NULL || *remove == '\0')
		return false;
	if (list_matches(remove, name, false))
		return true;
	for (unsigned int i = 0; i < N_ELEMENTS(capability_requires); i++) {
		if (strcasecmp(capability_requires[i].name, name) == 0 &&
		    list_matches(remove, capability_requires[i].requires, false))
			return true;
	}
	return false;
}

/* Whether every advertised capability named cap or "cap=..." is gone. */
static bool capability_family_removed(const char *remove, const char *cap)
{
	if (imap_capability_is_removed(remove, cap))
		return true;
	size_t cap_len = strlen(cap);
	bool any = false;
	for (unsigned int i = 0; i < N_ELEMENTS(capabilities); i++) {
		const char *name = capabilities[i].name;
		if (strncasecmp(name, cap, cap_len) != 0 || name[cap_len] != '=')
			continue;
		any = true;
		if (!imap_capability_is_removed(remove, name))
			return false;
	}
	return any;
}

bool imap_capability_allows_command(const char *remove, const char *command)
{
	if (remove == NULL || *remove == '\0')
		return true;
	for (unsigned int i = 0; i < N_ELEMENTS(command_capabilities); i++) {
		if (strcasecmp(command_capabilities[i].command, command) == 0)
			return !capability_family_removed(remove,
				command_capabilities[i].capability);
	}
	return true;
}

static void append_mechanisms(string_t *str, const char *mechanisms)
{
	const char *p = mechanisms;
	while (*p != '\0') {
		while (*p == ' ')
			p++;
		size_t len = strcspn(p, " ");
		if (len > 0) {
			str_append(str, " AUTH=");
			str_append_n(str, p, len);
		}
		p += len;
	}
}

static void append_cap(string_t *str, const struct imap_capability_opts *opts,
		       const char *name)
{
	if (imap_capability_is_removed(opts->remove, name))
		return;
	if (str_len(str) > 0)
		str_append_c(str, ' ');
	str_append(str, name);
}

const char *imap_capability_string(const struct imap_capability_opts *opts)
{
	string_t *str = t_str_new(256);
	for (unsigned int i = 0; i < N_ELEMENTS(capabilities); i++) {
		const struct imap_capability_def *cap = &capabilities[i];
		if ((cap->when == CAP_PREAUTH && opts->authenticated) ||
		    (cap->when == CAP_POSTAUTH && !opts->authenticated) ||
		    (cap->when == CAP_METADATA && (!opts->authenticated || !opts->metadata)))
			continue;
		/* RFC 9051 §6.1.1: IMAP4rev1 stays, whatever the list says,
		   so every client finds a version it speaks */
		if (strcmp(cap->name, "IMAP4rev1") == 0) {
			str_append(str, cap->name);
			continue;
		}
		append_cap(str, opts, cap->name);
	}
	if (opts->append_limit > 0)
		append_cap(str, opts, t_strdup_printf("APPENDLIMIT=%llu",
			(unsigned long long)opts->append_limit));
	if (opts->message_limit > 0)
		append_cap(str, opts, t_strdup_printf("MESSAGELIMIT=%u", opts->message_limit));
	if (opts->save_limit > 0)
		append_cap(str, opts, t_strdup_printf("SAVELIMIT=%u", opts->save_limit));
	if (!opts->authenticated) {
		/* the security ones are not the operator's to hide: a client
		   must know STARTTLS exists and LOGIN won't work */
		if (opts->starttls_available)
			str_append(str, " STARTTLS");
		if (!opts->plaintext_allowed)
			str_append(str, " LOGINDISABLED");
		if (opts->auth_mechanisms != NULL)
			append_mechanisms(str, opts->auth_mechanisms);
	}
	for (const char *p = opts->add; p != NULL && *p != '\0';) {
		while (*p == ' ')
			p++;
		size_t len = strcspn(p, " ");
		if (len > 0)
			append_cap(str, opts, t_strndup(p, len));
		p += len;
	}
	return str_c(str);
}
