/* Typed access to parsed IMAP arguments (RFC 9051 §9 atom, string,
 * astring, nstring and list). */
#include "imap-arg.h"

#include <strings.h>

bool imap_arg_get_atom(const struct imap_arg *arg, const char **str_r)
{
	if (arg->type != IMAP_ARG_ATOM && arg->type != IMAP_ARG_NIL)
		return false;
	*str_r = arg->u.s.str;
	return true;
}

bool imap_arg_get_string(const struct imap_arg *arg, const char **str_r)
{
	if (arg->type != IMAP_ARG_STRING && arg->type != IMAP_ARG_LITERAL)
		return false;
	if (arg->literal8 && memchr(arg->u.s.str, '\0', arg->u.s.len) != NULL)
		return false;
	*str_r = arg->u.s.str;
	return true;
}

bool imap_arg_get_astring(const struct imap_arg *arg, const char **str_r)
{
	return imap_arg_get_atom(arg, str_r) || imap_arg_get_string(arg, str_r);
}

bool imap_arg_get_nstring(const struct imap_arg *arg, const char **str_r)
{
	if (arg->type == IMAP_ARG_NIL) {
		*str_r = NULL;
		return true;
	}
	return imap_arg_get_string(arg, str_r);
}

bool imap_arg_get_data(const struct imap_arg *arg, const unsigned char **data_r,
		       size_t *size_r)
{
	switch (arg->type) {
	case IMAP_ARG_NIL:
	case IMAP_ARG_ATOM:
	case IMAP_ARG_STRING:
	case IMAP_ARG_LITERAL:
		*data_r = (const unsigned char *)arg->u.s.str;
		*size_r = arg->u.s.len;
		return true;
	default:
		return false;
	}
}

bool imap_arg_get_list(const struct imap_arg *arg, const struct imap_arg **list_r,
		       unsigned int *count_r)
{
	if (arg->type != IMAP_ARG_LIST)
		return false;
	*list_r = arg->u.list.args;
	*count_r = arg->u.list.count;
	return true;
}

bool imap_arg_get_literal_size(const struct imap_arg *arg, uint64_t *size_r)
{
	if (arg->type != IMAP_ARG_LITERAL_SIZE)
		return false;
	*size_r = arg->u.literal_size;
	return true;
}

bool imap_arg_is_eol(const struct imap_arg *arg)
{
	return arg->type == IMAP_ARG_EOL;
}

bool imap_arg_is_nil(const struct imap_arg *arg)
{
	return arg->type == IMAP_ARG_NIL;
}

bool imap_arg_atom_equals(const struct imap_arg *arg, const char *name)
{
	const char *str;

	return imap_arg_get_atom(arg, &str) && strcasecmp(str, name) == 0;
}

unsigned int imap_args_count(const struct imap_arg *args)
{
	unsigned int count = 0;

	while (args[count].type != IMAP_ARG_EOL)
		count++;
	return count;
}
