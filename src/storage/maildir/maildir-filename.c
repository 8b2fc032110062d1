/* Maildir file names: unique base names
 * "<sec>.M<usec>P<pid>Q<n>.<host>,S=<size>,W=<crlf size>" and the info
 * suffix ":2,<flags>" that mirrors IMAP system flags for other Maildir
 * tools (D=\Draft F=\Flagged R=\Answered S=\Seen T=\Deleted, letters in
 * ASCII order; P and lowercase letters of other programs are kept). */
#include "maildir-private.h"
#include "strnum.h"

#include <errno.h>
#include <sys/time.h>
#include <unistd.h>

static const struct {
	char letter;
	uint32_t flag;
} maildir_flag_letters[] = {
	{ 'D', MAIL_DRAFT },
	{ 'F', MAIL_FLAGGED },
	{ 'R', MAIL_ANSWERED },
	{ 'S', MAIL_SEEN },
	{ 'T', MAIL_DELETED },
};

/* The microseconds are zero-padded so that names sort in delivery order
   for tools (and people) that list them. */
const char *maildir_filename_generate(struct mail_user *user)
{
	static unsigned int counter = 0;
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return t_strdup_printf("%lld.M%06ldP%ldQ%u.%s", (long long)tv.tv_sec, (long)tv.tv_usec,
			       (long)getpid(), ++counter, maildir_user_get(user)->hostname);
}

void maildir_filename_split(pool_t pool, const char *name, const char **base_r,
			    const char **info_r)
{
	const char *colon = strchr(name, ':');
	if (colon == NULL) {
		*base_r = p_strdup(pool, name);
		*info_r = NULL;
	} else {
		*base_r = p_strndup(pool, name, (size_t)(colon - name));
		*info_r = p_strdup(pool, colon + 1);
	}
}

static uint32_t maildir_letter_flag(char c)
{
	for (unsigned int i = 0; i < N_ELEMENTS(maildir_flag_letters); i++) {
		if (maildir_flag_letters[i].letter == c)
			return maildir_flag_letters[i].flag;
	}
	return 0;
}

uint32_t maildir_info_get_flags(const char *info)
{
	if (info == NULL || strncmp(info, "2,", 2) != 0)
		return 0;
	uint32_t flags = 0;
	for (const char *p = info + 2; *p != '\0'; p++)
		flags |= maildir_letter_flag(*p);
	return flags;
}

const char *maildir_info_set_flags(pool_t pool, const char *info, uint32_t flags)
{
	bool letters[128] = { false };
	if (info != NULL && strncmp(info, "2,", 2) == 0) {
		for (const char *p = info + 2; *p != '\0'; p++) {
			unsigned char c = (unsigned char)*p;
			if (c < 128 && maildir_letter_flag((char)c) == 0 && c > 0x20)
				letters[c] = true;
		}
	}
	for (unsigned int i = 0; i < N_ELEMENTS(maildir_flag_letters); i++) {
		if ((flags & maildir_flag_letters[i].flag) != 0)
			letters[(unsigned char)maildir_flag_letters[i].letter] = true;
	}
	char buf[2 + 128 + 1] = "2,";
	size_t n = 2;
	for (unsigned int c = 0; c < 128; c++) {
		if (letters[c])
			buf[n++] = (char)c;
	}
	buf[n] = '\0';
	return p_strdup(pool, buf);
}

bool maildir_filename_get_size(const char *base, char field, uint64_t *size_r)
{
	char key[4] = { ',', field, '=', '\0' };
	const char *p = strstr(base, key);
	if (p == NULL)
		return false;
	const char *end;
	return str_parse_uint64(p + 3, size_r, &end) == 0 && (*end == ',' || *end == '\0');
}

uint64_t maildir_count_bare_lf(const unsigned char *data, size_t size, bool prev_cr)
{
	uint64_t count = 0;
	const unsigned char *p = data, *end = data + size;
	while (p < end) {
		const unsigned char *lf = memchr(p, '\n', (size_t)(end - p));
		if (lf == NULL)
			break;
		bool cr = lf == data ? prev_cr : lf[-1] == '\r';
		if (!cr)
			count++;
		p = lf + 1;
	}
	return count;
}

int maildir_file_crlf_size(int fd, uint64_t *size_r)
{
	unsigned char buf[65536];
	uint64_t size = 0, bare = 0;
	bool prev_cr = false;
	for (;;) {
		ssize_t ret = read(fd, buf, sizeof(buf));
		if (ret < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (ret == 0)
			break;
		bare += maildir_count_bare_lf(buf, (size_t)ret, prev_cr);
		prev_cr = buf[ret - 1] == '\r';
		size += (uint64_t)ret;
	}
	*size_r = size + bare;
	return 0;
}

int64_t maildir_stat_stamp(const struct stat *st)
{
	return (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}
