/* POP3 command lines split into a keyword and arguments (RFC 1939 §3:
 * case-insensitive keywords of three or four characters, arguments
 * separated by spaces; RFC 2449 §4), message numbers, and client text made
 * safe to quote back in a reply. */
#ifndef TERN_POP3_COMMAND_H
#define TERN_POP3_COMMAND_H

#include "pool.h"

/* Most arguments any command takes (TOP msg n). */
#define POP3_MAX_ARGS 2

struct pop3_command_line {
	char name[5]; /* upper case */
	/* everything after the space that ends the keyword ("" if none):
	   PASS takes it whole, spaces included (RFC 1939 §7) */
	const char *rest;
};

/* Returns 1, or -1 when the line doesn't start with a keyword (empty, more
   than four characters, not letters and digits). */
int pop3_command_parse(const char *line, struct pop3_command_line *cmd_r);
/* Splits rest at runs of spaces into args_r (room for POP3_MAX_ARGS).
   Returns the number of arguments, POP3_MAX_ARGS + 1 if there are more. */
unsigned int pop3_command_split_args(const char *rest, pool_t pool,
				     const char *args_r[POP3_MAX_ARGS]);
/* A message number or line count: decimal digits only, no sign, at most
   2^32-1. Returns 0 or -1. */
int pop3_parse_number(const char *str, uint32_t *num_r);
/* str if it is short printable ASCII, else a placeholder: for quoting
   client input in -ERR texts without echoing control bytes or megabytes. */
const char *pop3_printable(const char *str);

#endif
