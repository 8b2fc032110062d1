/* Socket helpers: listening on TCP and Unix sockets, accepting, and
 * turning addresses into text. All sockets are non-blocking and
 * close-on-exec. */
#ifndef TERN_NET_H
#define TERN_NET_H

#include "lib.h"

#include <netinet/in.h>

#define NET_IP_STRLEN INET6_ADDRSTRLEN

struct net_endpoint {
	char ip[NET_IP_STRLEN]; /* "" for Unix sockets */
	unsigned int port;
	bool is_unix;
};

/* Listens on address:port ("*" = all IPv4, "::" = all IPv6). Returns the
   fd or -1 with error_r set. */
int net_listen_tcp(const char *address, unsigned int port, int backlog, const char **error_r);
/* Listens on a Unix socket, replacing a stale socket file. */
int net_listen_unix(const char *path, int backlog, const char **error_r);
/* Returns the new fd, -1 when nothing is pending (EAGAIN) or on transient
   errors (errno is set), with the peer and local endpoints. */
int net_accept(int listen_fd, struct net_endpoint *remote_r, struct net_endpoint *local_r);
bool net_ip_is_loopback(const char *ip);
int net_set_nonblock(int fd);
/* Port the fd is bound to (after listening on port 0). */
unsigned int net_get_local_port(int fd);

#endif
