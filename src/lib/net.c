/* TCP and Unix socket helpers. */
#include "net.h"
#include "pool.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

int net_set_nonblock(int fd)
{
	int flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
		return -1;
	return 0;
}

static int parse_address(const char *address, unsigned int port,
			 struct sockaddr_storage *ss, socklen_t *len_r)
{
	memset(ss, 0, sizeof(*ss));
	if (strcmp(address, "*") == 0)
		address = "0.0.0.0";
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, address, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		*len_r = sizeof(*sin);
		return 0;
	}
	const char *a = address;
	char buf[NET_IP_STRLEN];
	size_t len = strlen(a);
	if (len > 2 && a[0] == '[' && a[len - 1] == ']' && len - 2 < sizeof(buf)) {
		memcpy(buf, a + 1, len - 2);
		buf[len - 2] = '\0';
		a = buf;
	}
	if (inet_pton(AF_INET6, a, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		*len_r = sizeof(*sin6);
		return 0;
	}
	return -1;
}

int net_listen_tcp(const char *address, unsigned int port, int backlog, const char **error_r)
{
	struct sockaddr_storage ss;
	socklen_t len;
	if (parse_address(address, port, &ss, &len) < 0) {
		*error_r = t_strdup_printf("invalid IP address '%s'", address);
		return -1;
	}
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*error_r = t_strdup_printf("socket() failed: %s", strerror(errno));
		return -1;
	}
	int one = 1;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, backlog) < 0) {
		*error_r = t_strdup_printf("listen(%s:%u) failed: %s", address, port, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int net_listen_unix(const char *path, int backlog, const char **error_r)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sun.sun_path)) {
		*error_r = t_strdup_printf("Unix socket path too long: %s", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*error_r = t_strdup_printf("socket() failed: %s", strerror(errno));
		return -1;
	}
	struct stat st;
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		(void)unlink(path);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || listen(fd, backlog) < 0) {
		*error_r = t_strdup_printf("listen(%s) failed: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static void endpoint_from_sockaddr(const struct sockaddr_storage *ss, struct net_endpoint *ep)
{
	memset(ep, 0, sizeof(*ep));
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
		inet_ntop(AF_INET, &sin->sin_addr, ep->ip, sizeof(ep->ip));
		ep->port = ntohs(sin->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr))
			inet_ntop(AF_INET, &sin6->sin6_addr.s6_addr[12], ep->ip, sizeof(ep->ip));
		else
			inet_ntop(AF_INET6, &sin6->sin6_addr, ep->ip, sizeof(ep->ip));
		ep->port = ntohs(sin6->sin6_port);
	} else {
		ep->is_unix = true;
	}
}

int net_accept(int listen_fd, struct net_endpoint *remote_r, struct net_endpoint *local_r)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int fd = accept4(listen_fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return -1;
	endpoint_from_sockaddr(&ss, remote_r);
	len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
		endpoint_from_sockaddr(&ss, local_r);
	else
		memset(local_r, 0, sizeof(*local_r));
	if (!remote_r->is_unix) {
		int one = 1;
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	return fd;
}

bool net_ip_is_loopback(const char *ip)
{
	return strncmp(ip, "127.", 4) == 0 || strcmp(ip, "::1") == 0;
}

unsigned int net_get_local_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	struct net_endpoint ep;
	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return 0;
	endpoint_from_sockaddr(&ss, &ep);
	return ep.port;
}
