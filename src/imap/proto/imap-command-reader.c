/* Command reading state machine over the incremental parser. */
#include "imap-command-reader.h"
#include "buffer.h"
#include "istream.h"

#include <ctype.h>

enum reader_state {
	READER_STATE_TAG,
	READER_STATE_NAME,
	READER_STATE_UID_NAME,
	READER_STATE_ARGS,
	READER_STATE_SKIP, /* discarding the rest of a bad line */
};

struct imap_command_reader {
	struct istream *input;
	struct ostream *output;
	struct imap_parser *parser;
	enum reader_state state;
	const char *tag; /* parser memory, valid until next() */
	char name[64];
	void *command;
	enum imap_parser_flags flags;
	bool skip_pending;
};

struct imap_command_reader *
imap_command_reader_create(struct istream *input, struct ostream *output,
			   const struct imap_parser_limits *limits)
{
	struct imap_command_reader *r = i_zalloc(sizeof(*r));
	r->input = input;
	r->output = output;
	r->parser = imap_parser_create(input, limits);
	return r;
}

void imap_command_reader_destroy(struct imap_command_reader **_r)
{
	struct imap_command_reader *r = *_r;
	if (r == NULL)
		return;
	*_r = NULL;
	imap_parser_destroy(&r->parser);
	free(r);
}

struct imap_parser *imap_command_reader_get_parser(struct imap_command_reader *r)
{
	return r->parser;
}

void imap_command_reader_skip_rest(struct imap_command_reader *r)
{
	r->skip_pending = true;
}

void imap_command_reader_next(struct imap_command_reader *r)
{
	if (r->skip_pending) {
		/* keep the parser's position: SKIP discards the rest */
		r->skip_pending = false;
		r->state = READER_STATE_SKIP;
		r->tag = NULL;
		r->command = NULL;
		r->name[0] = '\0';
		return;
	}
	imap_parser_reset(r->parser);
	r->state = READER_STATE_TAG;
	r->tag = NULL;
	r->command = NULL;
	r->name[0] = '\0';
}

static void send_bad(struct imap_command_reader *r, const char *text)
{
	o_stream_printf(r->output, "%s BAD %s\r\n", r->tag == NULL ? "*" : r->tag, text);
}

/* Reports a parser error. Returns FATAL or BAD. */
static int reader_parse_error(struct imap_command_reader *r, const char *context)
{
	enum imap_parse_error code;
	bool fatal;
	const char *error = imap_parser_get_error(r->parser, &code, &fatal);
	if (fatal) {
		o_stream_printf(r->output, "* BYE %s%s\r\n",
				code == IMAP_PARSE_ERROR_LITERAL_TOO_BIG ? "[TOOBIG] " : "", error);
		return IMAP_READER_FATAL;
	}
	const char *prefix = "";
	if (code == IMAP_PARSE_ERROR_LINE_TOO_LONG || code == IMAP_PARSE_ERROR_LITERAL_TOO_BIG)
		prefix = "[TOOBIG] ";
	send_bad(r, t_strdup_printf("%s%s%s", prefix, context, error));
	r->state = READER_STATE_SKIP;
	return IMAP_READER_BAD;
}

static void str_upper(char *s)
{
	for (; *s != '\0'; s++)
		*s = (char)toupper((unsigned char)*s);
}

static int reader_read_name(struct imap_command_reader *r, bool uid)
{
	const char *word;
	int ret = imap_parser_read_word(r->parser, &word);
	if (ret <= 0)
		return ret < 0 ? reader_parse_error(r, "") : IMAP_READER_NEED_MORE;
	size_t len = strlen(word);
	size_t used = strlen(r->name);
	if (used + len + 2 > sizeof(r->name)) {
		send_bad(r, "Unknown command");
		r->state = READER_STATE_SKIP;
		return IMAP_READER_BAD;
	}
	if (uid)
		r->name[used++] = ' ';
	memcpy(r->name + used, word, len + 1);
	str_upper(r->name);
	return 1;
}

int imap_command_reader_read(struct imap_command_reader *r, imap_command_lookup_t *lookup,
			     void *context, struct imap_command_input *cmd_r)
{
	int ret;
	switch (r->state) {
	case READER_STATE_SKIP:
		if (imap_parser_skip_line(r->parser) <= 0)
			return IMAP_READER_NEED_MORE;
		imap_command_reader_next(r);
		/* fall through */
	case READER_STATE_TAG:
		/* the parser itself skips empty lines between commands */
		ret = imap_parser_read_tag(r->parser, &r->tag);
		if (ret == 0)
			return IMAP_READER_NEED_MORE;
		if (ret < 0) {
			r->tag = NULL;
			return reader_parse_error(r, "Invalid tag: ");
		}
		r->state = READER_STATE_NAME;
		/* fall through */
	case READER_STATE_NAME:
		if ((ret = reader_read_name(r, false)) != 1)
			return ret;
		r->state = strcmp(r->name, "UID") == 0 ? READER_STATE_UID_NAME : READER_STATE_ARGS;
		if (r->state == READER_STATE_ARGS)
			goto lookup;
		/* fall through */
	case READER_STATE_UID_NAME:
		if ((ret = reader_read_name(r, true)) != 1)
			return ret;
		r->state = READER_STATE_ARGS;
	lookup:
		r->command = lookup(r->name, context, &r->flags);
		if (r->command == NULL) {
			send_bad(r, "Unknown command.");
			r->state = READER_STATE_SKIP;
			return IMAP_READER_BAD;
		}
		/* fall through */
	case READER_STATE_ARGS:
		break;
	}
	const struct imap_arg *args;
	while ((ret = imap_parser_read_args(r->parser, r->flags, &args)) == 0) {
		if (!imap_parser_want_continuation(r->parser))
			return IMAP_READER_NEED_MORE;
		o_stream_send_str(r->output, "+ OK\r\n");
		/* the literal may already be buffered (sent too early, or
		   pipelined by a client that counted on the "+"): parse on */
		if (i_stream_get_data_size(r->input) == 0)
			return IMAP_READER_NEED_MORE;
	}
	if (ret < 0)
		return reader_parse_error(r, "Error in IMAP command: ");
	cmd_r->tag = r->tag;
	cmd_r->name = r->name;
	cmd_r->args = args;
	cmd_r->command = r->command;
	return IMAP_READER_COMMAND;
}

int imap_command_reader_read_line(struct imap_command_reader *r, const char **line_r)
{
	return imap_parser_read_line(r->parser, line_r);
}
