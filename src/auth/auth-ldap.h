/* The LDAP side of the ldap passdb/userdb: one lazily opened libldap
 * connection with timeouts, StartTLS and reconnection with back-off
 * (auth-ldap.c), and the escaping that keeps a login name from
 * changing a filter (RFC 4515 §3) or a DN (RFC 4514 §2.4). */
#ifndef TERN_AUTH_LDAP_H
#define TERN_AUTH_LDAP_H

#include "pool.h"

#include <ldap.h>

struct auth_ldap_conn_settings {
	const char *name;          /* the passdb/userdb block, for logs */
	const char *uris;          /* space-separated ldap://, ldaps://, ldapi:// */
	const char *bind_dn;       /* NULL: no bind after connecting (user-bind
				      connections); "": anonymous bind */
	const char *bind_password;
	bool starttls;
	unsigned int timeout_ms;   /* connect and each operation */
};

struct auth_ldap_conn;

/* Checks that uris is a non-empty list of LDAP URIs. Returns 0 or -1. */
int auth_ldap_uris_check(const char *uris, const char **error_r);

/* Doesn't connect: the first operation does. The strings in set must stay
   valid for the connection's lifetime. */
struct auth_ldap_conn *auth_ldap_conn_create(const struct auth_ldap_conn_settings *set);
/* Accepts NULL; *conn becomes NULL. */
void auth_ldap_conn_destroy(struct auth_ldap_conn **conn);

/* Searches (connecting and binding first if needed). A connection that
   turns out to be dead is reopened once at once; a server that can't be
   reached is not tried again before the back-off passes (the call fails
   at once meanwhile). sizelimit 0 is the server's limit. Returns 1 with
   *res_r (free with ldap_msgfree()) and *ld_r (the handle to read it
   with, valid until the next call on conn), or -1. A missing base
   (noSuchObject) is an empty result; a result cut by sizelimit is
   returned with *truncated_r set. */
int auth_ldap_conn_search(struct auth_ldap_conn *conn, const char *base, int scope,
			  const char *filter, char **attrs, int sizelimit,
			  LDAP **ld_r, LDAPMessage **res_r, bool *truncated_r,
			  const char **error_r);
/* Simple bind as dn with password on conn, which from then on has that
   identity: use a connection reserved for user binds. password must not be
   empty (RFC 4513 §5.1.2: that is an unauthenticated bind, which succeeds).
   Returns 1 bound, 0 invalid credentials, -1 error. */
int auth_ldap_conn_bind(struct auth_ldap_conn *conn, const char *dn,
			const char *password, const char **error_r);

/* RFC 4515 §3: value with '*', '(', ')', '\' (and any byte < 0x20 or
   >= 0x7f) as \XX. Temporary memory. */
const char *auth_ldap_escape_filter(const char *value);
/* RFC 4514 §2.4: value as an attribute value inside a DN: '"', '+', ',',
   ';', '<', '>', '\', '=', a leading '#' or space, a trailing space and
   control bytes as \XX. Temporary memory. */
const char *auth_ldap_escape_dn(const char *value);

#endif
