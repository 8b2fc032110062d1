/* The sending side of the indexer's socket and the datagram format
 * (indexer-notify.h). */
#include "indexer-notify.h"
#include "strnum.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int notify_fd = -1;

static bool append_field(char *buf, size_t size, size_t *pos, const char *value)
{
	size_t len = strlen(value);
	if (*pos + len + 1 > size)
		return false;
	memcpy(buf + *pos, value, len + 1); /* with its NUL */
	*pos += len + 1;
	return true;
}

size_t indexer_request_encode(const struct indexer_request *req, char *buf, size_t size)
{
	char num[32];
	size_t pos = 0;
	if (req->uid_count == 0 || req->uid_count > INDEXER_NOTIFY_MAX_UIDS)
		return 0;
	if (!append_field(buf, size, &pos, "1") || !append_field(buf, size, &pos, req->user) ||
	    !append_field(buf, size, &pos, req->home))
		return 0;
	snprintf(num, sizeof(num), "%lu", (unsigned long)req->uid);
	if (!append_field(buf, size, &pos, num))
		return 0;
	snprintf(num, sizeof(num), "%lu", (unsigned long)req->gid);
	if (!append_field(buf, size, &pos, num) || !append_field(buf, size, &pos, req->mailbox))
		return 0;
	for (unsigned int i = 0; i < req->uid_count; i++) {
		int n = snprintf(num, sizeof(num), i == 0 ? "%u" : " %u", req->uids[i]);
		if (pos + (size_t)n + 1 > size)
			return 0;
		memcpy(buf + pos, num, (size_t)n);
		pos += (size_t)n;
	}
	buf[pos++] = '\0';
	return pos;
}

int indexer_request_decode(const char *data, size_t size, size_t *_pos, uint32_t *uids_buf,
			   struct indexer_request *req_r)
{
	const char *fields[7];
	size_t pos = *_pos;
	if (size == 0 || data[size - 1] != '\0')
		return -1;
	for (unsigned int i = 0; i < N_ELEMENTS(fields); i++) {
		if (pos >= size)
			return -1;
		fields[i] = data + pos;
		pos += strlen(fields[i]) + 1;
	}
	*_pos = pos;
	unsigned int uid, gid;
	if (strcmp(fields[0], "1") != 0 || fields[1][0] == '\0' ||
	    fields[2][0] != '/' || fields[5][0] == '\0' ||
	    str_to_uint(fields[3], &uid) < 0 || str_to_uint(fields[4], &gid) < 0)
		return -1;
	*req_r = (struct indexer_request){
		.user = fields[1], .home = fields[2], .mailbox = fields[5],
		.uid = (uid_t)uid, .gid = (gid_t)gid, .uids = uids_buf,
	};
	const char *p = fields[6];
	while (*p != '\0') {
		char *end;
		if (*p < '0' || *p > '9' || req_r->uid_count >= INDEXER_NOTIFY_MAX_UIDS)
			return -1;
		errno = 0;
		unsigned long v = strtoul(p, &end, 10);
		if (errno != 0 || v == 0 || v > UINT32_MAX || (*end != ' ' && *end != '\0'))
			return -1;
		uids_buf[req_r->uid_count++] = (uint32_t)v;
		p = *end == ' ' ? end + 1 : end;
	}
	return req_r->uid_count > 0 ? 0 : -1;
}

enum indexer_notify_result indexer_notify_send(const char *base_dir, const void *data,
					       size_t len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int n = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", base_dir, INDEXER_SOCKET_NAME);
	if (len == 0 || len > INDEXER_DATAGRAM_MAX || n < 0 || (size_t)n >= sizeof(sa.sun_path))
		return INDEXER_NOTIFY_UNAVAILABLE;
	if (notify_fd < 0) {
		notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (notify_fd < 0)
			return INDEXER_NOTIFY_UNAVAILABLE;
	}
	if (sendto(notify_fd, data, len, MSG_DONTWAIT, (struct sockaddr *)&sa, sizeof(sa)) ==
	    (ssize_t)len)
		return INDEXER_NOTIFY_SENT;
	return errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS ?
		INDEXER_NOTIFY_BUSY : INDEXER_NOTIFY_UNAVAILABLE;
}

void indexer_notify_deinit(void)
{
	if (notify_fd >= 0)
		close(notify_fd);
	notify_fd = -1;
}
