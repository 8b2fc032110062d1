/* Serialisation of the login hand-off record as one escaped line. */
#include "ipc-handoff.h"
#include "base64.h"
#include "strnum.h"

static void append_escaped(string_t *dest, const char *value)
{
	for (const char *p = value; *p != '\0'; p++) {
		switch (*p) {
		case '\t': str_append(dest, "\\t"); break;
		case '\n': str_append(dest, "\\n"); break;
		case '\\': str_append(dest, "\\\\"); break;
		default: str_append_c(dest, *p);
		}
	}
}

/* fields after the first (which starts at serialize_start) get a tab */
static size_t serialize_start;

static void append_field(string_t *dest, const char *key, const char *value)
{
	if (str_len(dest) > serialize_start)
		str_append_c(dest, '\t');
	str_append(dest, key);
	str_append_c(dest, '=');
	append_escaped(dest, value == NULL ? "" : value);
}

void login_handoff_serialize(const struct login_handoff *h, string_t *dest)
{
	serialize_start = str_len(dest);
	append_field(dest, "protocol", h->protocol);
	append_field(dest, "user", h->user);
	append_field(dest, "home", h->home);
	if (h->uid != (uid_t)-1)
		append_field(dest, "uid", t_strdup_printf("%u", (unsigned int)h->uid));
	if (h->gid != (gid_t)-1)
		append_field(dest, "gid", t_strdup_printf("%u", (unsigned int)h->gid));
	append_field(dest, "session", h->session_id);
	append_field(dest, "rip", h->remote.ip);
	append_field(dest, "rport", t_strdup_printf("%u", h->remote.port));
	append_field(dest, "lip", h->local.ip);
	append_field(dest, "lport", t_strdup_printf("%u", h->local.port));
	if (h->tls)
		append_field(dest, "tls", h->tls_info == NULL ? "" : h->tls_info);
	if (h->secured)
		append_field(dest, "secured", "");
	if (h->starttls)
		append_field(dest, "starttls", "");
	append_field(dest, "mech", h->mech);
	append_field(dest, "tag", h->tag);
	if (h->login_pid != 0)
		append_field(dest, "login_pid", t_strdup_printf("%u", h->login_pid));
	if (h->auth_ref != NULL && h->auth_ref[0] != '\0')
		append_field(dest, "auth_ref", h->auth_ref);
	if (array_is_created(&h->userdb_extra)) {
		for (unsigned int i = 0; i < h->userdb_extra.count; i++)
			append_field(dest, "userdb", h->userdb_extra.v[i]);
	}
	if (h->input_size > 0) {
		string_t *b64 = t_str_new(base64_encoded_size(h->input_size) + 1);
		base64_encode(h->input, h->input_size, b64);
		append_field(dest, "input", str_c(b64));
	}
}

static const char *unescape(pool_t pool, const char *value)
{
	string_t *str = str_new(pool, strlen(value) + 1);
	for (const char *p = value; *p != '\0'; p++) {
		if (*p != '\\' || p[1] == '\0') {
			str_append_c(str, *p);
			continue;
		}
		p++;
		str_append_c(str, *p == 't' ? '\t' : *p == 'n' ? '\n' : *p);
	}
	return str_c(str);
}

static int parse_field(const char *key, const char *value, pool_t pool,
		       struct login_handoff *h)
{
	unsigned int n;
	if (strcmp(key, "protocol") == 0) h->protocol = value;
	else if (strcmp(key, "user") == 0) h->user = value;
	else if (strcmp(key, "home") == 0) h->home = value;
	else if (strcmp(key, "session") == 0) h->session_id = value;
	else if (strcmp(key, "mech") == 0) h->mech = value;
	else if (strcmp(key, "tag") == 0) h->tag = value;
	else if (strcmp(key, "auth_ref") == 0) h->auth_ref = value;
	else if (strcmp(key, "login_pid") == 0) {
		if (str_to_uint(value, &n) < 0)
			return -1;
		h->login_pid = n;
	}
	else if (strcmp(key, "secured") == 0) h->secured = true;
	else if (strcmp(key, "starttls") == 0) h->starttls = true;
	else if (strcmp(key, "tls") == 0) { h->tls = true; h->tls_info = value; }
	else if (strcmp(key, "rip") == 0 || strcmp(key, "lip") == 0) {
		struct net_endpoint *ep = key[0] == 'r' ? &h->remote : &h->local;
		if (strlen(value) >= sizeof(ep->ip))
			return -1;
		strcpy(ep->ip, value);
	} else if (strcmp(key, "rport") == 0 || strcmp(key, "lport") == 0) {
		if (str_to_uint(value, &n) < 0 || n > 65535)
			return -1;
		(key[0] == 'r' ? &h->remote : &h->local)->port = n;
	} else if (strcmp(key, "uid") == 0 || strcmp(key, "gid") == 0) {
		if (str_to_uint(value, &n) < 0)
			return -1;
		if (key[0] == 'u') h->uid = (uid_t)n; else h->gid = (gid_t)n;
	} else if (strcmp(key, "userdb") == 0) {
		array_push(&h->userdb_extra, value);
	} else if (strcmp(key, "input") == 0) {
		buffer_t *buf = buffer_create(pool, strlen(value));
		if (base64_decode(value, strlen(value), buf) < 0)
			return -1;
		h->input = buf->data;
		h->input_size = buf->used;
	}
	/* unknown keys are ignored: newer senders may add fields */
	return 0;
}

int login_handoff_parse(const char *line, pool_t pool, struct login_handoff *h_r,
			const char **error_r)
{
	memset(h_r, 0, sizeof(*h_r));
	h_r->uid = (uid_t)-1;
	h_r->gid = (gid_t)-1;
	h_r->home = h_r->mech = h_r->tag = h_r->auth_ref = "";
	array_init(&h_r->userdb_extra, pool, 4);
	const char *p = line;
	while (*p != '\0') {
		const char *end = strchr(p, '\t');
		size_t len = end == NULL ? strlen(p) : (size_t)(end - p);
		const char *field = t_strndup(p, len);
		const char *eq = strchr(field, '=');
		if (eq == NULL) {
			*error_r = t_strdup_printf("field without '=': %s", field);
			return -1;
		}
		const char *key = t_strndup(field, (size_t)(eq - field));
		if (parse_field(key, unescape(pool, eq + 1), pool, h_r) < 0) {
			*error_r = t_strdup_printf("invalid value for %s", key);
			return -1;
		}
		p = end == NULL ? p + len : end + 1;
	}
	if (h_r->protocol == NULL || h_r->user == NULL || h_r->session_id == NULL) {
		*error_r = "protocol, user and session are required";
		return -1;
	}
	return 0;
}
