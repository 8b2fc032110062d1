/* Incremental, non-blocking parser for IMAP client commands: tag, command
 * name and arguments (RFC 9051 §2.2, §4 and §9; RFC 3501 for IMAP4rev1),
 * with synchronizing and non-synchronizing literals (RFC 7888) and
 * literal8 (RFC 3516).
 *
 * The parser only looks at data already buffered in its istream and never
 * calls i_stream_read(): the connection reads, then calls the parser, which
 * consumes what it has parsed and returns 0 when it needs more. Every
 * function can be called again after a 0 with more data buffered; feeding
 * a command byte by byte gives the same result as feeding it at once.
 *
 * A command's life:
 *   imap_parser_read_tag()     -> tag (or -1: answer "* BAD")
 *   imap_parser_read_word()    -> command name (again for "UID FETCH")
 *   imap_parser_read_args()    -> arguments up to the end of the line
 *   ... execute ...
 *   imap_parser_reset()
 * After -1 (error), answer BAD (tagged when read_tag() succeeded), call
 * imap_parser_skip_line() until it returns 1, then imap_parser_reset() -
 * unless the error is fatal, in which case the connection must be closed.
 *
 * Leniency: runs of spaces count as one separator and trailing spaces are
 * ignored; a bare LF ends a line like CRLF; empty lines before a command
 * are ignored (some clients send an extra CRLF after an APPEND literal);
 * atoms may contain '*', '%', ']' and '\' (list wildcards, sequence sets,
 * flags). Quoted strings may hold 8-bit bytes (UTF-8, RFC 9051 §4.3 and
 * RFC 6855); they are not checked to be valid UTF-8. */
#ifndef TERN_IMAP_PARSER_H
#define TERN_IMAP_PARSER_H

#include "istream.h"

/* Used when a limit is given as 0. */
#define IMAP_PARSER_DEFAULT_MAX_LINE_LENGTH 65536
#define IMAP_PARSER_DEFAULT_MAX_LITERAL_SIZE (1024 * 1024)
#define IMAP_PARSER_DEFAULT_MAX_LIST_DEPTH 64
#define IMAP_PARSER_DEFAULT_MAX_ARGS 10000
/* number64 (RFC 9051 §9): larger literal sizes are out of range. */
#define IMAP_PARSER_MAX_NUMBER64 ((uint64_t)INT64_MAX)

struct imap_parser_limits {
	/* Bytes of the command line, not counting literal contents and the
	   final CRLF. For a command with LITERAL_SIZE stops (APPEND) this
	   counts from the last stop. */
	size_t max_line_length;
	/* Sum of the sizes of the literals read into memory in one command
	   (in APPEND: between two LITERAL_SIZE stops). */
	uint64_t max_literal_size;
	/* Nesting depth of parenthesised lists: 1 allows "(a b)" but not
	   "((a))". */
	unsigned int max_list_depth;
	/* Arguments in one command (in APPEND: between two stops), each list
	   and each element of a list counting as one. */
	unsigned int max_args;
};

enum imap_arg_type {
	IMAP_ARG_NIL,
	IMAP_ARG_ATOM,
	IMAP_ARG_STRING,  /* quoted string */
	IMAP_ARG_LITERAL,
	IMAP_ARG_LIST,
	IMAP_ARG_LITERAL_SIZE,
	IMAP_ARG_EOL,
};

struct imap_arg {
	enum imap_arg_type type;
	bool literal8;     /* ~{n} (LITERAL and LITERAL_SIZE) */
	bool literal_sync; /* {n} rather than {n+} (LITERAL and LITERAL_SIZE) */
	union {
		/* ATOM, STRING, LITERAL and NIL (the text as sent): always
		   NUL-terminated; only a literal8 can contain NULs. An atom
		   with "[...]" holds the brackets' contents verbatim, quotes
		   included: BODY[HEADER.FIELDS ("From" To)]<0.100> */
		struct {
			const char *str;
			size_t len;
		} s;
		/* LIST: args[count] is an IMAP_ARG_EOL. */
		struct {
			const struct imap_arg *args;
			unsigned int count;
		} list;
		/* LITERAL_SIZE */
		uint64_t literal_size;
	} u;
};

enum imap_parser_flags {
	/* A literal at the top level of the arguments is not read: read_args()
	   stops there and returns it as the last argument, an
	   IMAP_ARG_LITERAL_SIZE (literals inside lists are still read into
	   memory). See imap_parser_read_args(). */
	IMAP_PARSE_FLAG_LITERAL_SIZE = 0x01,
	/* With LITERAL_SIZE: a literal directly inside a top-level list
	   stops too (CATENATE's "(TEXT {n} ...)", RFC 4469 §4). The stop is
	   returned as a top-level IMAP_ARG_LIST, still open, whose last
	   element is the IMAP_ARG_LITERAL_SIZE; the next read_args() after
	   the literal returns the rest of that list as its first argument
	   (a list whose elements continue the open one, closed by the
	   ')' that closes it on the wire), then what follows it. A list
	   ending in a LITERAL_SIZE is always such an open one. */
	IMAP_PARSE_FLAG_LITERAL_SIZE_IN_LIST = 0x02,
};

enum imap_parse_error {
	IMAP_PARSE_ERROR_NONE,
	IMAP_PARSE_ERROR_BAD_SYNTAX,
	IMAP_PARSE_ERROR_LINE_TOO_LONG,
	IMAP_PARSE_ERROR_LITERAL_TOO_BIG,
	/* a NUL byte anywhere but in a literal8 */
	IMAP_PARSE_ERROR_NUL,
};

/* The parser does not own input. A limit of 0 means its default. */
struct imap_parser *imap_parser_create(struct istream *input,
				       const struct imap_parser_limits *limits);
void imap_parser_destroy(struct imap_parser **parser);
/* Starts a new command: frees the previous command's tag and args and
   forgets any error. Memory kept between commands stays small. */
void imap_parser_reset(struct imap_parser *parser);
/* Switches to another stream between commands. */
void imap_parser_set_stream(struct imap_parser *parser, struct istream *input);

/* Reads the tag. 1 = *tag_r set (valid until reset), 0 = need more,
   -1 = error; the tag is then unknown and the answer is "* BAD". A tag
   followed by the end of the line is returned; read_word() then fails with
   a tagged error. */
int imap_parser_read_tag(struct imap_parser *parser, const char **tag_r);
/* The tag once read_tag() returned 1, else NULL. */
const char *imap_parser_get_tag(const struct imap_parser *parser);
/* Reads the next word (the command name; for "UID FETCH" call it twice),
   returned as sent, valid until reset; callers compare it
   case-insensitively. 1/0/-1 like read_tag(); it fails when the line ends
   before a word. */
int imap_parser_read_word(struct imap_parser *parser, const char **word_r);

/* Reads the remaining arguments up to the end of the line.
   1 = *args_r is an array terminated by IMAP_ARG_EOL, valid until reset;
   0 = need more input (check imap_parser_want_continuation()); -1 = error.

   With IMAP_PARSE_FLAG_LITERAL_SIZE, reaching a top-level literal returns
   1 with that literal as the last argument (IMAP_ARG_LITERAL_SIZE, with its
   size, literal8 and literal_sync) followed by EOL, leaving the literal's
   bytes unread in the stream. No continuation is signalled for it: for a
   synchronizing one the caller sends "+ ..." itself if it accepts it. Then
   either
   - the caller consumes exactly literal_size bytes from the stream and calls
     read_args() again (with or without the flag): that call returns the
     arguments that follow the literal, up to the next stop or the end of
     the line. It frees the arrays returned before, and the line length,
     argument and literal limits start again from zero;
   - or it calls imap_parser_literal_to_memory() (see there);
   - or it gives up with skip_line().
   Calling read_args() again without consuming anything returns the same
   stop again. */
int imap_parser_read_args(struct imap_parser *parser, enum imap_parser_flags flags,
			  const struct imap_arg **args_r);
/* Right after read_args() returned a LITERAL_SIZE stop, before any of the
   literal's bytes were consumed: the parser reads that literal into memory
   itself (e.g. an APPEND mailbox name sent as a literal). The next
   read_args() returns it as the first argument, an IMAP_ARG_LITERAL,
   subject to max_literal_size, and signals a continuation for a
   synchronizing one like any other literal read into memory. */
void imap_parser_literal_to_memory(struct imap_parser *parser);

/* True, once, when the header of a synchronizing literal that the parser
   reads into memory has just been read; read_args() returns 0 right after
   it. The caller sends "+ OK" (or, to refuse, answers the command and
   calls imap_parser_reset() - no skip_line() needed, the client sends
   nothing more of that line before the continuation). */
bool imap_parser_want_continuation(struct imap_parser *parser);

/* After -1: the error text (for the BAD reply), its code, and fatal_r =
   the input can't be resynchronized and the connection must be closed
   (a non-synchronizing literal that is too big: its data follows). Any of
   code_r and fatal_r may be NULL. NULL when there is no error. */
const char *imap_parser_get_error(struct imap_parser *parser,
				  enum imap_parse_error *code_r, bool *fatal_r);

/* Discards the rest of the current line, through its LF, without
   buffering it. Unread bytes of a literal whose data is already being
   sent (a non-synchronizing one, or one that got its continuation) are
   discarded first, and so are the bytes of non-synchronizing literals
   announced later in the line, so the next line really is a new command.
   Right after the header of a synchronizing literal - a want_continuation
   one, or a LITERAL_SIZE stop of which nothing was consumed - it assumes
   no continuation was sent: the line has ended and it returns 1 at once.
   Returns 1 when done (then call imap_parser_reset()), 0 = need more,
   -1 after a fatal error. */
int imap_parser_skip_line(struct imap_parser *parser);

/* Reads one raw line without its CRLF, for IDLE's "DONE" and AUTHENTICATE
   responses: call it between commands (after reset, or after read_args()
   returned the whole line). 1 = *line_r set, valid until the next call of
   any parser function; 0 = need more; -1 = error (the line is longer than
   max_line_length, or holds a NUL: skip_line() and reset as usual). */
int imap_parser_read_line(struct imap_parser *parser, const char **line_r);

#endif
