/* Accessors for parsed IMAP command arguments (struct imap_arg, see
 * imap-parser.h): each checks an argument's type against a grammar rule of
 * RFC 9051 §9 (atom, string, astring, nstring, list) and hands back its
 * value. All return false, leaving the outputs untouched, on a mismatch. */
#ifndef TERN_IMAP_ARG_H
#define TERN_IMAP_ARG_H

#include "imap-parser.h"

/* An atom; NIL counts (it is an atom on the wire), giving its text. */
bool imap_arg_get_atom(const struct imap_arg *arg, const char **str_r);
/* A quoted string or a literal. False for a literal8 holding a NUL, which
   can't be a C string; see imap_arg_get_data(). */
bool imap_arg_get_string(const struct imap_arg *arg, const char **str_r);
/* astring: an atom (NIL too: "SELECT NIL" means a mailbox named NIL) or a
   string. */
bool imap_arg_get_astring(const struct imap_arg *arg, const char **str_r);
/* nstring: NIL gives *str_r = NULL, else a string. */
bool imap_arg_get_nstring(const struct imap_arg *arg, const char **str_r);
/* The bytes of an atom, NIL, string or literal (literal8 with NULs
   included). */
bool imap_arg_get_data(const struct imap_arg *arg, const unsigned char **data_r,
		       size_t *size_r);
/* A parenthesised list: *list_r is EOL-terminated after *count_r args. */
bool imap_arg_get_list(const struct imap_arg *arg, const struct imap_arg **list_r,
		       unsigned int *count_r);
/* A LITERAL_SIZE stop's size. */
bool imap_arg_get_literal_size(const struct imap_arg *arg, uint64_t *size_r);
bool imap_arg_is_eol(const struct imap_arg *arg);
bool imap_arg_is_nil(const struct imap_arg *arg);
/* An atom (or NIL) equal to name, compared case-insensitively. */
bool imap_arg_atom_equals(const struct imap_arg *arg, const char *name);
/* The number of args before the EOL. */
unsigned int imap_args_count(const struct imap_arg *args);

#endif
