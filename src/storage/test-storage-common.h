/* Helpers shared by the storage tests: temporary mail homes, saving test
 * messages, reading files, and a check that the index and the Maildir
 * agree (every row has its file under its exact name, every file a row,
 * cached counts and UID map match the rows). */
#ifndef TERN_TEST_STORAGE_COMMON_H
#define TERN_TEST_STORAGE_COMMON_H

#include "mail-storage.h"

/* A fresh directory under /tmp (temporary memory). */
const char *test_storage_mkdtemp(const char *prefix);
void test_storage_rm_rf(const char *path);
struct mail_user *test_storage_user(const char *home, bool special_folders);
/* Saves content; returns the UID or 0 on failure. */
uint32_t test_storage_save(struct mail_user *user, const char *mailbox, const char *content,
			   uint32_t flags, const char *const *keywords);
/* Files in a directory (not starting with '.'). */
unsigned int test_storage_count_files(const char *path);
/* Whole file content (temporary memory), NULL if it can't be read. */
const char *test_storage_read_file(const char *path);
/* The Maildir path of a mailbox's subdirectory ("cur", "new", "tmp"). */
const char *test_storage_subdir(struct mail_user *user, const char *mailbox, const char *sub);
/* Returns NULL if index and Maildir agree, else what differs. */
const char *test_storage_check(struct mail_user *user, const char *mailbox);
/* Reads a message's content through the storage API (temporary memory). */
const char *test_storage_read_message(struct mailbox *box, uint32_t uid);

#endif
