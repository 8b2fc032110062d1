/* Internals of the Maildir driver: paths, folder name encoding, file
 * names (Maildir and Maildir++ conventions) and the driver's functions. */
#ifndef TERN_MAILDIR_PRIVATE_H
#define TERN_MAILDIR_PRIVATE_H

#include "mail-storage-private.h"

#include <sys/stat.h>

#define MAILDIR_ROOT_NAME "Maildir"
/* Maildir convention: temporary files older than this are garbage. */
#define MAILDIR_TMP_MAX_AGE_SECS (36 * 60 * 60)

struct maildir_user {
	const char *root;     /* <home>/Maildir */
	const char *hostname; /* escaped for file names */
};

static inline struct maildir_user *maildir_user_get(struct mail_user *user)
{
	return user->driver_context;
}

/* <root> for INBOX (dir ""), else <root>/<dir>. Temporary memory. */
const char *maildir_path(struct mail_user *user, const char *dir);
/* <mailbox path>/<sub> ("cur", "new", "tmp"). */
const char *maildir_subdir(struct mail_user *user, const char *dir, const char *sub);
/* The path of a message in cur/. */
const char *maildir_message_path(struct mail_user *user, const char *dir,
				 const char *filename, const char *fileinfo);

/* maildir-name.c: mailbox name <-> Maildir++ folder.
   "a/b" is ".a.b"; each level is modified UTF-7 (RFC 3501 §5.1.3) with
   '.' and '~' escaped as "~2E" and "~7E"; INBOX is "" (the root). */
const char *maildir_name_to_dir(const char *name);
/* Returns 0 and the mailbox name, -1 if dir is not a folder we can name. */
int maildir_dir_to_name(const char *dir, const char **name_r);

/* maildir-filename.c */
/* A new unique base name "<sec>.M<usec>P<pid>Q<n>.<host>". */
const char *maildir_filename_generate(struct mail_user *user);
/* Splits "base:info" (info NULL when there is no ':'). */
void maildir_filename_split(pool_t pool, const char *name, const char **base_r,
			    const char **info_r);
/* The info ("2,<letters>") showing flags, keeping letters we don't manage
   (P, lowercase keywords of other programs). */
const char *maildir_info_set_flags(pool_t pool, const char *info, uint32_t flags);
uint32_t maildir_info_get_flags(const char *info);
/* Reads ",S=<n>" or ",W=<n>" from a base name. */
bool maildir_filename_get_size(const char *base, char field, uint64_t *size_r);
/* RFC822.SIZE of a file: its size with LFs counted as CRLF. */
int maildir_file_crlf_size(int fd, uint64_t *size_r);
/* Counts LFs not preceded by CR in data (prev_cr: the byte before it). */
uint64_t maildir_count_bare_lf(const unsigned char *data, size_t size, bool prev_cr);
int64_t maildir_stat_stamp(const struct stat *st);

/* maildir-storage.c */
int64_t maildir_disk_stamp(struct mail_user *user, const char *dir);
int maildir_sync_dir(struct mail_user *user, const char *dir);

/* maildir-save.c */
struct mail_save *maildir_save_alloc(struct mail_user *user);
int maildir_save_begin(struct mail_save *save);
int maildir_save_write(struct mail_save *save, const void *data, size_t size);
int maildir_save_prepare(struct mail_save *save);
int maildir_save_commit_file(struct mail_save *save, const char *dir);
void maildir_save_revert_file(struct mail_save *save);
void maildir_save_free(struct mail_save *save);

/* maildir-sync.c */
int maildir_sync_disk(struct mail_user *user, int64_t mailbox_id,
		      enum mail_disk_sync_flags flags);
/* Indexes a file of cur/ (already in place); st is its stat. */
int maildir_sync_index_file(struct mail_user *user, struct index_change *ch,
			    const char *base, const char *info, const struct stat *st,
			    const char *path);

/* maildir-mirror.c */
int maildir_mirror_flags(struct mail_user *user, int64_t mailbox_id,
			 struct mail_mirror_state *state, uint64_t deadline_ms);

#endif
