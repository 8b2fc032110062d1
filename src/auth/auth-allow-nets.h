/* The allow_nets passdb extra field (as in Dovecot): a comma-separated list
 * of IP addresses and CIDR networks, plus "local" for connections without
 * an IP address (Unix sockets), that a user may log in from. */
#ifndef TERN_AUTH_ALLOW_NETS_H
#define TERN_AUTH_ALLOW_NETS_H

#include "lib.h"

/* remote_ip is NULL or "" for local connections. Returns 1 if it is in
   nets, 0 if not, -1 if nets is malformed (*error_r says where). */
int auth_allow_nets_match(const char *nets, const char *remote_ip,
			  const char **error_r);

#endif
