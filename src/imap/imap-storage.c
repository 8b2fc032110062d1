/* Mailbox names, storage errors and flags for the IMAP engine. */
#include "imap-storage.h"
#include "imap-arg.h"
#include "imap-quote.h"
#include "mutf7.h"

#include <strings.h>

int imap_mailbox_name_from_arg(struct imap_client *client, const struct imap_arg *arg,
			       const char **name_r, const char **error_r)
{
	const char *name;
	if (!imap_arg_get_astring(arg, &name)) {
		*error_r = "BAD Invalid mailbox name argument.";
		return -1;
	}
	if (!imap_client_utf8_names(client)) {
		string_t *utf8 = t_str_new(strlen(name) + 16);
		if (mutf7_decode(name, strlen(name), utf8) < 0) {
			/* RFC 9051 §5.1: a rev1 client's name is modified
			   UTF-7; tolerate UTF-8 sent by mistake (8-bit bytes
			   can't be modified UTF-7), refuse anything else */
			bool eight_bit = false;
			for (const char *c = name; *c != '\0'; c++)
				eight_bit = eight_bit || (unsigned char)*c >= 0x80;
			if (!eight_bit || !utf8_is_valid_printable(name)) {
				*error_r = "NO [CANNOT] Mailbox name is not valid modified UTF-7.";
				return -1;
			}
		} else {
			name = str_c(utf8);
		}
	} else if (!utf8_is_valid_printable(name)) {
		*error_r = "NO [CANNOT] Mailbox name is not valid UTF-8.";
		return -1;
	}
	*name_r = mailbox_name_canonical(name);
	return 0;
}

void imap_append_mailbox_name(struct imap_client *client, string_t *dest, const char *name)
{
	if (imap_client_utf8_names(client)) {
		/* RFC 9051 §4.3, RFC 9755 §3: UTF-8 goes in a quoted string
		   (names are printable UTF-8, never CR or LF) */
		bool eight_bit = false;
		for (const char *c = name; *c != '\0' && !eight_bit; c++)
			eight_bit = (unsigned char)*c >= 0x80;
		if (eight_bit)
			imap_append_quoted(dest, name);
		else
			imap_append_astring(dest, name);
		return;
	}
	string_t *utf7 = t_str_new(strlen(name) + 16);
	if (mutf7_encode(name, strlen(name), utf7) < 0)
		imap_append_astring(dest, name);
	else
		imap_append_astring(dest, str_c(utf7));
}

const char *imap_storage_error_reply(struct imap_client *client)
{
	const char *text;
	enum mail_error error = mail_user_get_error(client->mail_user, &text);
	const char *code;
	switch (error) {
	case MAIL_ERROR_NONE:
	case MAIL_ERROR_TEMP: code = "[SERVERBUG] "; break;
	case MAIL_ERROR_NOTFOUND: code = "[NONEXISTENT] "; break;
	case MAIL_ERROR_EXISTS: code = "[ALREADYEXISTS] "; break;
	case MAIL_ERROR_PARAMS: code = "[CANNOT] "; break;
	case MAIL_ERROR_PERM: code = "[NOPERM] "; break;
	case MAIL_ERROR_INUSE: code = "[INUSE] "; break;
	case MAIL_ERROR_OVERQUOTA: code = "[OVERQUOTA] "; break;
	case MAIL_ERROR_LIMIT: code = "[LIMIT] "; break;
	case MAIL_ERROR_CANNOT: code = "[CANNOT] "; break;
	case MAIL_ERROR_EXPUNGED: code = "[EXPUNGEISSUED] "; break;
	case MAIL_ERROR_CORRUPT: code = "[CORRUPTION] "; break;
	default: code = "";
	}
	return t_strdup_printf("NO %s%s", code, text == NULL || text[0] == '\0' ?
			       "Internal error." : text);
}

static const struct {
	const char *name;
	uint32_t flag;
} system_flags[] = {
	{ "\\Answered", MAIL_ANSWERED },
	{ "\\Flagged", MAIL_FLAGGED },
	{ "\\Deleted", MAIL_DELETED },
	{ "\\Seen", MAIL_SEEN },
	{ "\\Draft", MAIL_DRAFT },
};

static bool keyword_is_valid(const char *kw)
{
	/* flag-keyword = atom (RFC 9051 §9); our parser already checked the
	   atom characters, but a keyword can't start with '\' */
	return kw[0] != '\0' && kw[0] != '\\' && strlen(kw) <= 128;
}

int imap_flags_parse(const struct imap_arg *args, unsigned int count, pool_t pool,
		     uint32_t *flags_r, const char *const **keywords_r, const char **error_r)
{
	ARRAY(const char *) keywords;
	array_init(&keywords, pool, 4);
	*flags_r = 0;
	for (unsigned int i = 0; i < count; i++) {
		const char *atom;
		/* NIL is an atom here: the keyword "NIL" (as Dovecot, imaptest nil) */
		if (!imap_arg_get_atom(&args[i], &atom)) {
			*error_r = "Flags must be atoms.";
			return -1;
		}
		unsigned int j;
		for (j = 0; j < N_ELEMENTS(system_flags); j++) {
			if (strcasecmp(atom, system_flags[j].name) == 0) {
				*flags_r |= system_flags[j].flag;
				break;
			}
		}
		if (j < N_ELEMENTS(system_flags))
			continue;
		if (atom[0] == '\\') {
			*error_r = t_strdup_printf("Invalid system flag %s.", atom);
			return -1;
		}
		if (!keyword_is_valid(atom)) {
			*error_r = t_strdup_printf("Invalid keyword %s.", atom);
			return -1;
		}
		bool dup = false;
		for (unsigned int k = 0; k < keywords.count; k++)
			dup = dup || strcasecmp(keywords.v[k], atom) == 0;
		if (!dup)
			array_push(&keywords, p_strdup(pool, atom));
	}
	array_push(&keywords, NULL);
	*keywords_r = keywords.v;
	return 0;
}

void imap_flags_write(string_t *dest, uint32_t flags, const char *const *keywords, bool recent)
{
	size_t start = str_len(dest);
	str_append_c(dest, '(');
	for (unsigned int i = 0; i < N_ELEMENTS(system_flags); i++) {
		if ((flags & system_flags[i].flag) != 0) {
			if (str_len(dest) > start + 1)
				str_append_c(dest, ' ');
			str_append(dest, system_flags[i].name);
		}
	}
	if (recent) {
		if (str_len(dest) > start + 1)
			str_append_c(dest, ' ');
		str_append(dest, "\\Recent");
	}
	for (unsigned int i = 0; keywords != NULL && keywords[i] != NULL; i++) {
		if (str_len(dest) > start + 1)
			str_append_c(dest, ' ');
		str_append(dest, keywords[i]);
	}
	str_append_c(dest, ')');
}

void imap_client_send_flags(struct imap_client *client, bool permanent)
{
	const struct mailbox_status *status = mailbox_get_view_status(client->box);
	string_t *str = t_str_new(128);
	str_append(str, "FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft");
	for (unsigned int i = 0; i < status->keywords.count; i++) {
		str_append_c(str, ' ');
		str_append(str, status->keywords.v[i]);
	}
	str_append_c(str, ')');
	imap_client_send_untagged(client, "%s", str_c(str));
	client->announced_keyword_count = status->keywords.count;
	if (!permanent)
		return;
	str_truncate(str, 0);
	if (mailbox_is_readonly(client->box)) {
		str_append(str, "OK [PERMANENTFLAGS ()] Read-only mailbox.");
	} else {
		str_append(str, "OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft");
		for (unsigned int i = 0; i < status->keywords.count; i++) {
			str_append_c(str, ' ');
			str_append(str, status->keywords.v[i]);
		}
		str_append(str, " \\*)] Flags permitted.");
	}
	imap_client_send_untagged(client, "%s", str_c(str));
}

const char *const imap_special_use_names[] = {
	"\\All", "\\Archive", "\\Drafts", "\\Flagged", "\\Junk", "\\Sent", "\\Trash",
	"\\Important", NULL,
};

int imap_special_use_parse(const struct imap_arg *list, unsigned int count,
			   enum mailbox_special_use *use_r, const char **error_r)
{
	*use_r = MAILBOX_SPECIAL_NONE;
	for (unsigned int i = 0; i < count; i++) {
		const char *atom;
		unsigned int bit;
		if (!imap_arg_get_atom(&list[i], &atom) || atom[0] != '\\') {
			*error_r = "Invalid special-use attribute.";
			return -1;
		}
		for (bit = 0; imap_special_use_names[bit] != NULL; bit++) {
			if (strcasecmp(atom, imap_special_use_names[bit]) == 0)
				break;
		}
		/* \All and \Flagged name virtual mailboxes: their messages
		   are those of other mailboxes, which a real one can't show */
		if (imap_special_use_names[bit] == NULL ||
		    (1u << bit) == MAILBOX_SPECIAL_ALL || (1u << bit) == MAILBOX_SPECIAL_FLAGGED) {
			*error_r = t_strdup_printf("NO [USEATTR] %s can't be used for this mailbox.",
						   atom);
			return 0;
		}
		*use_r |= (enum mailbox_special_use)(1u << bit);
	}
	return 1;
}

bool imap_objectid_is_valid(const char *id)
{
	size_t len = 0;
	for (; id[len] != '\0'; len++) {
		char c = id[len];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return false;
	}
	return len > 0 && len <= 255;
}

void imap_mailboxid_append(string_t *str, const struct mailbox_status *status)
{
	str_printfa(str, "F%08x%llx", status->uidvalidity, (unsigned long long)status->mailbox_id);
}
