/* Reads whole IMAP commands off a connection for both the pre-login and
 * the post-login engines (RFC 9051 §2.2.1, §7.1): tag, name (joined with
 * UID), arguments; sends literal continuations, tagged BAD for syntax
 * errors and BYE for errors the connection can't recover from. */
#ifndef TERN_IMAP_COMMAND_READER_H
#define TERN_IMAP_COMMAND_READER_H

#include "imap-parser.h"
#include "ostream.h"

struct imap_command_reader;

struct imap_command_input {
	const char *tag;
	const char *name; /* upper-cased, "UID FETCH" for UID commands */
	const struct imap_arg *args;
	void *command; /* what the lookup returned */
};

/* Returns the command for name (upper-cased), or NULL if unknown; sets
   the flags to parse its arguments with. */
typedef void *imap_command_lookup_t(const char *name, void *context,
				    enum imap_parser_flags *flags_r);

enum imap_reader_result {
	IMAP_READER_FATAL = -1,    /* BYE sent: close the connection */
	IMAP_READER_NEED_MORE = 0, /* wait for input */
	IMAP_READER_COMMAND = 1,   /* *cmd_r is filled */
	IMAP_READER_BAD = 2,       /* a BAD was sent; call again */
};

struct imap_command_reader *
imap_command_reader_create(struct istream *input, struct ostream *output,
			   const struct imap_parser_limits *limits);
void imap_command_reader_destroy(struct imap_command_reader **reader);
/* Call after a command has been answered: frees its arguments. */
void imap_command_reader_next(struct imap_command_reader *reader);
int imap_command_reader_read(struct imap_command_reader *reader,
			     imap_command_lookup_t *lookup, void *context,
			     struct imap_command_input *cmd_r);
/* After a command that read further arguments itself hit a parse error:
   discard the rest of the line before the next command. */
void imap_command_reader_skip_rest(struct imap_command_reader *reader);
/* Reads one raw line (AUTHENTICATE responses, IDLE's DONE). 1/0/-1 (-1:
   too long; a BAD or BYE was not sent). */
int imap_command_reader_read_line(struct imap_command_reader *reader, const char **line_r);
struct imap_parser *imap_command_reader_get_parser(struct imap_command_reader *reader);

#endif
