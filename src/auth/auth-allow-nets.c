/* Matching an IP address against allow_nets: IPv4 and IPv6 networks, with
 * IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) treated as IPv4. */
#include "auth-allow-nets.h"
#include "pool.h"
#include "strnum.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

struct auth_ip {
	int family;
	unsigned char addr[16];
};

static int auth_ip_parse(const char *str, struct auth_ip *ip_r)
{
	static const unsigned char v4_mapped[12] = {
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
	};

	memset(ip_r, 0, sizeof(*ip_r));
	if (inet_pton(AF_INET, str, ip_r->addr) == 1) {
		ip_r->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, str, ip_r->addr) != 1)
		return -1;
	ip_r->family = AF_INET6;
	if (memcmp(ip_r->addr, v4_mapped, sizeof(v4_mapped)) == 0) {
		memmove(ip_r->addr, ip_r->addr + 12, 4);
		memset(ip_r->addr + 4, 0, 12);
		ip_r->family = AF_INET;
	}
	return 0;
}

static bool auth_ip_in_net(const struct auth_ip *ip, const struct auth_ip *net,
			   unsigned int bits)
{
	unsigned int i;

	if (ip->family != net->family)
		return false;
	for (i = 0; i + 8 <= bits; i += 8) {
		if (ip->addr[i / 8] != net->addr[i / 8])
			return false;
	}
	if (i == bits)
		return true;
	unsigned char mask = (unsigned char)(0xff << (8 - (bits - i)));
	return (ip->addr[i / 8] & mask) == (net->addr[i / 8] & mask);
}

/* Parses "ip" or "ip/bits". */
static int auth_net_parse(const char *str, struct auth_ip *net_r, unsigned int *bits_r)
{
	const char *slash = strchr(str, '/');
	const char *ip = slash == NULL ? str : t_strndup(str, (size_t)(slash - str));

	if (auth_ip_parse(ip, net_r) < 0)
		return -1;
	unsigned int max_bits = net_r->family == AF_INET ? 32 : 128;
	if (slash == NULL) {
		*bits_r = max_bits;
		return 0;
	}
	if (str_to_uint(slash + 1, bits_r) < 0)
		return -1;
	/* an IPv4-mapped IPv6 network was converted to IPv4 */
	if (net_r->family == AF_INET && strchr(ip, ':') != NULL) {
		if (*bits_r < 96)
			return -1;
		*bits_r -= 96;
	}
	return *bits_r <= max_bits ? 0 : -1;
}

int auth_allow_nets_match(const char *nets, const char *remote_ip,
			  const char **error_r)
{
	struct auth_ip ip, net;
	unsigned int bits;
	bool have_ip = remote_ip != NULL && remote_ip[0] != '\0';
	int ret = 0;

	if (have_ip && auth_ip_parse(remote_ip, &ip) < 0) {
		*error_r = t_strdup_printf("invalid remote IP '%s'", remote_ip);
		return -1;
	}
	const char *p = nets;
	while (*p != '\0') {
		const char *end = strchr(p, ',');
		const char *item = end == NULL ? p : t_strndup(p, (size_t)(end - p));
		p = end == NULL ? p + strlen(p) : end + 1;
		if (item[0] == '\0')
			continue;
		if (strcmp(item, "local") == 0) {
			if (!have_ip)
				ret = 1;
			continue;
		}
		if (auth_net_parse(item, &net, &bits) < 0) {
			*error_r = t_strdup_printf("invalid network '%s' in allow_nets", item);
			return -1;
		}
		if (have_ip && auth_ip_in_net(&ip, &net, bits))
			ret = 1;
	}
	return ret;
}
