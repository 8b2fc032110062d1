/* The capability table. A capability is listed only when it fully works. */
#include "imap-capability.h"
#include "buffer.h"

enum cap_when {
	CAP_ALWAYS,
	CAP_PREAUTH,  /* only before login */
	CAP_POSTAUTH, /* only after login */
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
	{ .name = "UNSELECT", .when = CAP_ALWAYS, .rfc = "RFC 3691" },
	{ .name = "UIDPLUS", .when = CAP_ALWAYS, .rfc = "RFC 4315" },
	{ .name = "MULTIAPPEND", .when = CAP_ALWAYS, .rfc = "RFC 3502" },
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
	{ .name = "COMPRESS=DEFLATE", .when = CAP_POSTAUTH, .rfc = "RFC 4978" },
};

const char *imap_capability_string(const struct imap_capability_opts *opts)
{
	string_t *str = t_str_new(256);
	for (unsigned int i = 0; i < N_ELEMENTS(capabilities); i++) {
		const struct imap_capability_def *cap = &capabilities[i];
		if ((cap->when == CAP_PREAUTH && opts->authenticated) ||
		    (cap->when == CAP_POSTAUTH && !opts->authenticated))
			continue;
		if (str_len(str) > 0)
			str_append_c(str, ' ');
		str_append(str, cap->name);
	}
	if (opts->append_limit > 0)
		str_printfa(str, " APPENDLIMIT=%llu", (unsigned long long)opts->append_limit);
	if (opts->authenticated)
		return str_c(str);
	if (opts->starttls_available)
		str_append(str, " STARTTLS");
	if (!opts->plaintext_allowed)
		str_append(str, " LOGINDISABLED");
	if (opts->auth_mechanisms != NULL) {
		const char *p = opts->auth_mechanisms;
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
	return str_c(str);
}
