/* Internals shared by APPEND/REPLACE (imap-cmd-append.c) and CATENATE
 * (imap-append-catenate.c): the state of a command that saves messages
 * whose data arrives in literals read segment by segment, and the step
 * results its helpers return. */
#ifndef TERN_IMAP_APPEND_H
#define TERN_IMAP_APPEND_H

#include "imap-commands.h"

/* messages in one MULTIAPPEND; each keeps a temporary file open */
#define APPEND_MAX_MESSAGES 1000
/* parts of one CATENATE message (RFC 4469 §4) */
#define APPEND_MAX_CATENATE_PARTS 1000

enum append_step {
	APPEND_STEP_CONTINUE, /* go on with the arguments */
	APPEND_STEP_WAIT,     /* a literal is to be read (or skipped) first */
	APPEND_STEP_DONE,     /* the tagged reply was sent */
};

/* The list a message's data is in: CATENATE (RFC 4469) or UTF8
   (RFC 6855 §4) */
enum append_list {
	APPEND_LIST_NONE,
	APPEND_LIST_CATENATE,
	APPEND_LIST_UTF8,
};

struct append_ctx {
	/* REPLACE / UID REPLACE (RFC 8508): the message to replace */
	bool replace;
	const char *replace_target; /* the message number as sent */
	uint32_t replace_uid;
	bool args_ready;  /* the mailbox name literal, if any, was read */
	bool name_literal_started;
	const char *mailbox;
	ARRAY(struct mail_save *) saves; /* finished messages */
	/* the arguments of the segment being processed (for the stopped
	   literal that ends it) */
	const struct imap_arg *segment;

	/* the message being built */
	struct mail_save *save;
	struct mail_save_params params;
	enum append_list list;   /* inside this still open list */
	bool cat_url_literal;    /* the list's last part was URL {n}: its
				    value opens the next segment */
	unsigned int cat_parts;
	uint64_t msg_size;       /* bytes of the message so far (APPENDLIMIT) */
	bool check_nuls;         /* literal8 text saved as is: no NULs */

	/* the literal being read */
	uint64_t left;
	bool discarding;  /* refused literal: read and dropped */
	const char *discard_reply;
};

/* imap-cmd-append.c */
/* Fails the command with reply ("NO ...", "BAD ..."): a non-synchronizing
   literal ending the segment must still be read away (WAIT); otherwise
   the reply is sent (DONE). */
enum append_step append_fail(struct imap_cmd *cmd, struct append_ctx *ctx, const char *reply);
/* Starts the message's save on its first data (binary: RFC 3516
   literal8 content converted). Returns WAIT/DONE after a failure, else
   CONTINUE. */
enum append_step append_save_begin(struct imap_cmd *cmd, struct append_ctx *ctx, bool binary);
/* Accepts a literal of size for the message (APPENDLIMIT checked on the
   message's total): it is read into the save. Returns WAIT, or DONE. */
enum append_step append_accept_literal(struct imap_cmd *cmd, struct append_ctx *ctx,
				       const struct imap_arg *literal);

/* imap-append-catenate.c */
/* Handles the parts of an open list (RFC 4469 §4 cat-part, or UTF8's
   literal): list are its elements from this segment. Returns WAIT when
   the list goes on after a literal, CONTINUE when it closed (the message
   is complete), DONE after a failure reply. */
enum append_step append_list_parts(struct imap_cmd *cmd, struct append_ctx *ctx,
				   const struct imap_arg *list, unsigned int count);

#endif
