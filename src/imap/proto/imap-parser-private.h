/* Internal state of the IMAP command parser, shared by imap-parser.c (the
 * command's framing: tag, words, raw lines, errors, skipping) and
 * imap-parser-args.c (the argument grammar of RFC 9051 §9). */
#ifndef TERN_IMAP_PARSER_PRIVATE_H
#define TERN_IMAP_PARSER_PRIVATE_H

#include "array.h"
#include "buffer.h"
#include "imap-parser.h"

enum imap_parser_phase {
	IMAP_PARSER_PHASE_LINE_START, /* before the tag, maybe in empty lines */
	IMAP_PARSER_PHASE_TAG,
	IMAP_PARSER_PHASE_WORDS,      /* after the tag or a word */
	IMAP_PARSER_PHASE_WORD,       /* inside a word */
	IMAP_PARSER_PHASE_ARGS,
	IMAP_PARSER_PHASE_LITERAL_STOP,
	IMAP_PARSER_PHASE_DONE,       /* the whole line was read */
	IMAP_PARSER_PHASE_ERROR,
};

/* What the argument lexer is in the middle of. */
enum imap_parser_lex {
	IMAP_PARSER_LEX_NONE,         /* between arguments */
	IMAP_PARSER_LEX_ATOM,
	IMAP_PARSER_LEX_TILDE,        /* '~': literal8 or an atom */
	IMAP_PARSER_LEX_QUOTED,
	IMAP_PARSER_LEX_LITERAL_HDR,
	IMAP_PARSER_LEX_LITERAL_DATA,
	IMAP_PARSER_LEX_CR,           /* CR at the end of the line */
};

/* "{" number64 ["+"] "}" CRLF, also recognised while skipping a line. */
enum imap_literal_hdr_state {
	IMAP_LITERAL_HDR_NONE,
	IMAP_LITERAL_HDR_OPEN,
	IMAP_LITERAL_HDR_DIGITS,
	IMAP_LITERAL_HDR_PLUS,
	IMAP_LITERAL_HDR_CLOSED,
	IMAP_LITERAL_HDR_CR,
};

enum imap_literal_hdr_event {
	IMAP_LITERAL_HDR_EV_MORE,
	IMAP_LITERAL_HDR_EV_CLOSED, /* '}' was just read */
	IMAP_LITERAL_HDR_EV_DONE,   /* the LF after '}' was just read */
	IMAP_LITERAL_HDR_EV_ERROR,
};

struct imap_literal_hdr {
	enum imap_literal_hdr_state state;
	uint64_t size;
	bool nonsync;  /* {n+} */
	bool overflow; /* size is over IMAP_PARSER_MAX_NUMBER64 */
};

typedef ARRAY(struct imap_arg) imap_arg_array_t;

struct imap_parser {
	struct istream *input;
	struct imap_parser_limits limits;
	pool_t pool;      /* tag and words, until reset */
	pool_t args_pool; /* arguments, until reset or a LITERAL_SIZE resume */
	string_t *token;  /* the token being read (system pool) */

	enum imap_parser_phase phase;
	const char *tag;
	bool line_cr;     /* LINE_START: a CR of an empty line was read */
	bool line_ended;  /* the LF ending the line was consumed */

	/* the current segment (the command, or a stretch between two
	   LITERAL_SIZE stops) against the limits */
	size_t line_len;
	uint64_t literal_total;
	unsigned int arg_count;

	/* argument lexer */
	enum imap_parser_lex lex;
	ARRAY(imap_arg_array_t) levels; /* [0] = top level, then open lists */
	bool need_sep;        /* the previous argument must be followed by
				 SP, ')' or the end of the line */
	bool quote_escape;
	unsigned int bracket_depth;
	bool bracket_quoted;
	struct imap_literal_hdr lit;
	bool lit8;
	bool lit_stop;        /* this literal becomes a LITERAL_SIZE stop */
	uint64_t lit_remaining;
	unsigned char *lit_data;
	bool want_cont;
	const struct imap_arg *done_args;

	/* the last LITERAL_SIZE stop */
	const struct imap_arg *stop_args;
	uint64_t stop_offset; /* stream offset just after the literal header */
	uint64_t stop_size;
	bool stop_sync, stop_lit8;
	bool stop_to_memory;
	/* the stop was inside a top-level list (LITERAL_SIZE_IN_LIST): the
	   next segment continues that list */
	bool stop_in_list;

	enum imap_parse_error error;
	const char *error_text;
	bool error_fatal;
	bool error_raw; /* the error came from read_line() */

	/* skip_line() */
	bool skipping;
	uint64_t skip_remaining;
	struct imap_literal_hdr skip_hdr;

	/* read_line() */
	bool raw_active;
};

/* Sets the error and moves to the error phase; returns -1. */
int imap_parser_error(struct imap_parser *parser, enum imap_parse_error code,
		      const char *text);
/* Counts one byte against max_line_length; -1 (with the error set) once
   the limit is passed. */
int imap_parser_count_byte(struct imap_parser *parser);
/* Feeds one byte to a literal header recogniser. */
enum imap_literal_hdr_event
imap_literal_hdr_feed(struct imap_literal_hdr *hdr, unsigned char c);
/* Text for a literal header that failed at hdr's state. */
const char *imap_literal_hdr_error(const struct imap_literal_hdr *hdr);
/* ATOM-CHAR of RFC 9051 §9, plus the lenient '*', '%', ']' (and '\' for
   flags); '[' is handled by the caller. */
bool imap_parser_is_atom_char(unsigned char c);

/* imap-parser-args.c: starts reading arguments after the tag and words. */
void imap_parser_args_begin(struct imap_parser *parser);
/* Starts a new segment after a LITERAL_SIZE stop: frees the arguments and
   clears the counters. */
void imap_parser_args_new_segment(struct imap_parser *parser);
/* Parses buffered data; 1 = line done, 0 = need more, -1 = error. */
int imap_parser_args_parse(struct imap_parser *parser, enum imap_parser_flags flags,
			   const struct imap_arg **args_r);
/* Handles a read_args() call while stopped at a LITERAL_SIZE literal:
   1 = *args_r is the same stop, 0 = parsing may go on, 2 = return 0 now
   (a continuation is wanted), -1 = error. */
int imap_parser_args_resume(struct imap_parser *parser, const struct imap_arg **args_r);

#endif
