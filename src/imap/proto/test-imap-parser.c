/* Unit tests for the IMAP command parser: a table of good and bad commands,
 * each parsed with all input visible and again byte by byte, followed by a
 * second command to check recovery; literals of all kinds, LITERAL_SIZE
 * stops, continuations, limits, raw lines and bounded memory on huge
 * lines. */
#include "test-common.h"
#include "imap-arg.h"
#include "imap-parser-private.h"
#include "istream.h"
#include "transport.h"

#include <strings.h>

struct test_stream {
	struct transport *t;
	struct istream *input;
	size_t size, visible;
	bool bytewise;
};

static const struct imap_parser_limits test_limits = {
	.max_line_length = 200,
	.max_literal_size = 64,
	.max_list_depth = 3,
	.max_args = 30,
};

static void test_stream_init(struct test_stream *ts, const void *data, size_t size,
			     size_t chunk, size_t max_buffer, bool bytewise)
{
	ts->t = transport_create_memory(data, size, chunk);
	ts->input = i_stream_create(ts->t, max_buffer);
	ts->size = size;
	ts->visible = 0;
	ts->bytewise = bytewise;
	if (bytewise)
		transport_memory_set_visible(ts->t, 0);
	else
		(void)i_stream_read(ts->input);
}

static void test_stream_deinit(struct test_stream *ts)
{
	i_stream_destroy(&ts->input);
	transport_destroy(&ts->t);
}

/* Makes more input visible; false when there is no more. */
static bool test_stream_more(struct test_stream *ts)
{
	if (ts->bytewise) {
		if (ts->visible >= ts->size)
			return false;
		transport_memory_set_visible(ts->t, ++ts->visible);
	}
	return i_stream_read(ts->input) > 0;
}

/* For loops that wait on the parser: running out of input there is a
   failure that must not spin forever. */
#define TEST_MORE(ts) test_stream_more_or_die(ts, __LINE__)
static void test_stream_more_or_die(struct test_stream *ts, unsigned int line)
{
	if (!test_stream_more(ts)) {
		printf("  input ended while the parser wanted more (line %u)\n", line);
		printf("FAIL (aborted)\n");
		fflush(stdout);
		exit(1);
	}
}

static void test_append_arg(string_t *out, const struct imap_arg *arg);

static void test_append_args(string_t *out, const struct imap_arg *args)
{
	for (unsigned int i = 0; args[i].type != IMAP_ARG_EOL; i++) {
		if (i > 0)
			str_append_c(out, ' ');
		test_append_arg(out, &args[i]);
	}
}

/* A compact form that tells the types apart: NIL, atom, "string",
   {n}literal / {n+} / ~{n}, (list), <n>/<n+>/<~n> for LITERAL_SIZE. */
static void test_append_arg(string_t *out, const struct imap_arg *arg)
{
	switch (arg->type) {
	case IMAP_ARG_NIL:
		str_append(out, "NIL");
		break;
	case IMAP_ARG_ATOM:
		str_append(out, arg->u.s.str);
		break;
	case IMAP_ARG_STRING:
		str_printfa(out, "\"%s\"", arg->u.s.str);
		break;
	case IMAP_ARG_LITERAL:
		str_printfa(out, "%s{%zu%s}", arg->literal8 ? "~" : "", arg->u.s.len,
			    arg->literal_sync ? "" : "+");
		for (size_t i = 0; i < arg->u.s.len; i++) {
			if (arg->u.s.str[i] == '\0')
				str_append(out, "\\0");
			else
				str_append_c(out, arg->u.s.str[i]);
		}
		break;
	case IMAP_ARG_LIST:
		str_append_c(out, '(');
		test_append_args(out, arg->u.list.args);
		str_append_c(out, ')');
		i_assert(arg->u.list.args[arg->u.list.count].type == IMAP_ARG_EOL);
		break;
	case IMAP_ARG_LITERAL_SIZE:
		str_printfa(out, "<%s%llu%s>", arg->literal8 ? "~" : "",
			    (unsigned long long)arg->u.literal_size,
			    arg->literal_sync ? "" : "+");
		break;
	case IMAP_ARG_EOL:
		i_unreached();
	}
}

static const char *const test_error_names[] = {
	[IMAP_PARSE_ERROR_NONE] = "NONE",
	[IMAP_PARSE_ERROR_BAD_SYNTAX] = "BAD_SYNTAX",
	[IMAP_PARSE_ERROR_LINE_TOO_LONG] = "LINE_TOO_LONG",
	[IMAP_PARSE_ERROR_LITERAL_TOO_BIG] = "LITERAL_TOO_BIG",
	[IMAP_PARSE_ERROR_NUL] = "NUL",
};

static const char *test_error_str(struct imap_parser *parser, const char *tag)
{
	enum imap_parse_error code;
	bool fatal;
	const char *text = imap_parser_get_error(parser, &code, &fatal);

	return t_strdup_printf("%s -> %s %s%s", tag, test_error_names[code], text,
			       fatal ? " (fatal)" : "");
}

/* Parses one command into "tag WORD | args", "tag -> CODE text" or
   "incomplete"; counts continuations in *conts. */
static const char *test_parse_one(struct imap_parser *parser, struct test_stream *ts,
				  enum imap_parser_flags flags, unsigned int *conts)
{
	const char *tag, *word;
	const struct imap_arg *args;
	string_t *out = t_str_new(128);
	int ret;

	while ((ret = imap_parser_read_tag(parser, &tag)) == 0) {
		if (!test_stream_more(ts))
			return "incomplete";
	}
	if (ret < 0)
		return test_error_str(parser, "*");
	test_assert_strcmp(imap_parser_get_tag(parser), tag);
	str_append(out, tag);
	do {
		while ((ret = imap_parser_read_word(parser, &word)) == 0) {
			if (!test_stream_more(ts))
				return "incomplete";
		}
		if (ret < 0)
			return test_error_str(parser, tag);
		str_printfa(out, " %s", word);
	} while (strcasecmp(word, "UID") == 0);

	while ((ret = imap_parser_read_args(parser, flags, &args)) == 0) {
		if (imap_parser_want_continuation(parser)) {
			test_assert(!imap_parser_want_continuation(parser));
			(*conts)++;
			continue;
		}
		if (!test_stream_more(ts))
			return "incomplete";
	}
	if (ret < 0)
		return test_error_str(parser, tag);
	str_append(out, " |");
	if (args[0].type != IMAP_ARG_EOL)
		str_append_c(out, ' ');
	test_append_args(out, args);
	return str_c(out);
}

/* skip_line() until done; false on a fatal error or missing input. */
static bool test_skip_line(struct imap_parser *parser, struct test_stream *ts)
{
	int ret;

	while ((ret = imap_parser_skip_line(parser)) == 0) {
		if (!test_stream_more(ts))
			return false;
	}
	return ret > 0;
}

#define IN(s) s, sizeof(s) - 1

struct test_case {
	const char *input;
	size_t input_len;
	const char *result;
	unsigned int conts;
	const struct imap_parser_limits *limits;
};

static const struct imap_parser_limits test_limits_args = {
	.max_line_length = 200, .max_literal_size = 10, .max_list_depth = 3, .max_args = 5,
};

static const struct test_case test_cases[] = {
	{ IN("a NOOP\r\n"), "a NOOP |", 0, NULL },
	{ IN("a NOOP\n"), "a NOOP |", 0, NULL },
	{ IN("\r\n\n\r\na noop\r\n"), "a noop |", 0, NULL },
	{ IN("a  NOOP   \r\n"), "a NOOP |", 0, NULL },
	{ IN("a1 LOGIN user pass\r\n"), "a1 LOGIN | user pass", 0, NULL },
	{ IN("a] LOGIN user pass\r\n"), "a] LOGIN | user pass", 0, NULL },
	{ IN("a LOGIN \"us\\\"er\" \"p\\\\ss\"\r\n"), "a LOGIN | \"us\"er\" \"p\\ss\"", 0, NULL },
	{ IN("a LOGIN \"\" \"\"\r\n"), "a LOGIN | \"\" \"\"", 0, NULL },
	{ IN("a SELECT nil\r\n"), "a SELECT | NIL", 0, NULL },
	{ IN("a SELECT \"F\xc3\xb6\xc3\xb6\"\r\n"), "a SELECT | \"F\xc3\xb6\xc3\xb6\"", 0, NULL },
	{ IN("a SELECT \"tab\there\"\r\n"), "a SELECT | \"tab\there\"", 0, NULL },
	{ IN("a SELECT [Gmail]/Sent\r\n"), "a SELECT | [Gmail]/Sent", 0, NULL },
	{ IN("a LIST \"\" *\r\n"), "a LIST | \"\" *", 0, NULL },
	{ IN("a LIST \"\" %/foo\r\n"), "a LIST | \"\" %/foo", 0, NULL },
	{ IN("a STORE 1:* +FLAGS.SILENT (\\Seen \\Deleted $Junk)\r\n"),
	  "a STORE | 1:* +FLAGS.SILENT (\\Seen \\Deleted $Junk)", 0, NULL },
	{ IN("a FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (From To)]<0.100>)\r\n"),
	  "a FETCH | 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (From To)]<0.100>)", 0, NULL },
	{ IN("a FETCH 1 BODY[HEADER.FIELDS (\"From\" \"X-]\\\"\")]\r\n"),
	  "a FETCH | 1 BODY[HEADER.FIELDS (\"From\" \"X-]\\\"\")]", 0, NULL },
	{ IN("a FETCH 1 (BODY[] BINARY[1.2] BODY[1.MIME])\r\n"),
	  "a FETCH | 1 (BODY[] BINARY[1.2] BODY[1.MIME])", 0, NULL },
	{ IN("a FETCH 1 BODY[x[y]z]\r\n"), "a FETCH | 1 BODY[x[y]z]", 0, NULL },
	/* '[' is an atom character: without a ']' before the line ends the
	   atom simply ends there (a mailbox name or pattern, imaptest atoms) */
	{ IN("a SELECT a[b\r\n"), "a SELECT | a[b", 0, NULL },
	{ IN("a LIST \"\" !#$&'+,-.:;<=>?@^_`|[}%*\r\n"),
	  "a LIST | \"\" !#$&'+,-.:;<=>?@^_`|[}%*", 0, NULL },
	{ IN("a X BODY[HEADER\r\n"), "a X | BODY[HEADER", 0, NULL },
	{ IN("a UID FETCH 1,3:5 (UID FLAGS)\r\n"), "a UID FETCH | 1,3:5 (UID FLAGS)", 0, NULL },
	{ IN("a SEARCH OR (FROM a) (OR (TO b) (CC c))\r\n"),
	  "a SEARCH | OR (FROM a) (OR (TO b) (CC c))", 0, NULL },
	{ IN("a X () (())\r\n"), "a X | () (())", 0, NULL },
	{ IN("a X (((a)))\r\n"), "a X | (((a)))", 0, NULL },
	{ IN("a X ~abc ~ a~b\r\n"), "a X | ~abc ~ a~b", 0, NULL },
	{ IN("a ID (\"name\" NIL)\r\n"), "a ID | (\"name\" NIL)", 0, NULL },
	{ IN("a LOGIN {4}\r\nuser {4+}\r\npass\r\n"), "a LOGIN | {4}user {4+}pass", 1, NULL },
	{ IN("a X {0}\r\n {0+}\r\n\r\n"), "a X | {0} {0+}", 1, NULL },
	{ IN("a X ~{3}\r\na\0b ~{3+}\r\nc\0d\r\n"), "a X | ~{3}a\\0b ~{3+}c\\0d", 1, NULL },
	{ IN("a X (a {3+}\r\nb\nc d)\r\n"), "a X | (a {3+}b\nc d)", 0, NULL },
	{ IN("a X {2}\r\n\r\n\r\n"), "a X | {2}\r\n", 1, NULL },
	{ IN("a X {6}\r\nabcdef {4}\r\nabcd\r\n"), "a X | {6}abcdef {4}abcd", 2,
	  &test_limits_args },
	{ IN("a X 1 2 3 4 5\r\n"), "a X | 1 2 3 4 5", 0, &test_limits_args },
	{ IN("a X (1 2 3 4)\r\n"), "a X | (1 2 3 4)", 0, &test_limits_args },

	/* bad tags: untagged */
	{ IN("* NOOP\r\n"), "* -> BAD_SYNTAX Invalid tag", 0, NULL },
	{ IN("+ NOOP\r\n"), "* -> BAD_SYNTAX Invalid tag", 0, NULL },
	{ IN("a\"b NOOP\r\n"), "* -> BAD_SYNTAX Invalid tag", 0, NULL },
	{ IN(" NOOP\r\n"), "* -> BAD_SYNTAX Missing tag", 0, NULL },
	{ IN("a\xff NOOP\r\n"), "* -> BAD_SYNTAX Invalid tag", 0, NULL },
	{ IN("a\0 NOOP\r\n"), "* -> NUL NUL byte in tag", 0, NULL },
	{ IN("\rx\r\n"), "* -> BAD_SYNTAX CR without LF", 0, NULL },
	/* bad command names */
	{ IN("a\r\n"), "a -> BAD_SYNTAX Missing command name", 0, NULL },
	{ IN("a \r\n"), "a -> BAD_SYNTAX Missing command name", 0, NULL },
	{ IN("a UID\r\n"), "a -> BAD_SYNTAX Missing command name", 0, NULL },
	{ IN("a (NOOP)\r\n"), "a -> BAD_SYNTAX Invalid characters in command name", 0, NULL },
	{ IN("a NO\"OP\r\n"), "a -> BAD_SYNTAX Invalid characters in command name", 0, NULL },
	{ IN("a NO\0OP\r\n"), "a -> NUL NUL byte in command name", 0, NULL },
	/* bad arguments */
	{ IN("a NOOP\rx\r\n"), "a -> BAD_SYNTAX CR without LF", 0, NULL },
	{ IN("a FETCH 1 (FLAGS\r\n"), "a -> BAD_SYNTAX Missing ')'", 0, NULL },
	{ IN("a FETCH 1 FLAGS)\r\n"), "a -> BAD_SYNTAX Unexpected ')'", 0, NULL },
	{ IN("a LOGIN \"user\r\n"), "a -> BAD_SYNTAX Unterminated quoted string", 0, NULL },
	{ IN("a LOGIN \"us\\ner\"\r\n"), "a -> BAD_SYNTAX Invalid escape in quoted string", 0, NULL },
	{ IN("a LOGIN \"a\"b\r\n"), "a -> BAD_SYNTAX Missing space between arguments", 0, NULL },
	{ IN("a X (a)b\r\n"), "a -> BAD_SYNTAX Missing space between arguments", 0, NULL },
	{ IN("a X abc(def)\r\n"), "a -> BAD_SYNTAX Invalid characters in atom", 0, NULL },
	{ IN("a X abc{3}\r\n"), "a -> BAD_SYNTAX Invalid characters in atom", 0, NULL },
	{ IN("a X ab\x80" "c\r\n"), "a -> BAD_SYNTAX 8-bit data in atom", 0, NULL },
	{ IN("a X ab\tc\r\n"), "a -> BAD_SYNTAX Invalid characters in atom", 0, NULL },
	{ IN("a X abc\0def\r\n"), "a -> NUL NUL byte in command", 0, NULL },
	{ IN("a X \"a\0\"\r\n"), "a -> NUL NUL byte in command", 0, NULL },
	{ IN("a X {3}\r\na\0b\r\n"), "a -> NUL NUL byte in literal", 1, NULL },
	{ IN("a X {3+}\r\na\0\nb NOOP\r\n"), "a -> NUL NUL byte in literal", 0, NULL },
	{ IN("a X BODY[{5+}\r\nhello]\r\n"), "a -> BAD_SYNTAX Literal not allowed inside []", 0, NULL },
	{ IN("a X BODY[\"a\\x\"]\r\n"), "a -> BAD_SYNTAX Invalid escape in quoted string", 0, NULL },
	{ IN("a X {abc}\r\n"), "a -> BAD_SYNTAX Invalid literal size", 0, NULL },
	{ IN("a X {}\r\n"), "a -> BAD_SYNTAX Invalid literal size", 0, NULL },
	{ IN("a X {5}x\r\n"), "a -> BAD_SYNTAX Missing CRLF after literal size", 0, NULL },
	{ IN("a X {5}\rx\r\n"), "a -> BAD_SYNTAX Missing CRLF after literal size", 0, NULL },
	{ IN("a X {5+x}\r\n"), "a -> BAD_SYNTAX Missing '}' after literal size", 0, NULL },
	{ IN("a X ~{5x}\r\n"), "a -> BAD_SYNTAX Invalid literal size", 0, NULL },
	{ IN("a X {65}\r\n"), "a -> LITERAL_TOO_BIG Literal too big", 0, NULL },
	{ IN("a X {9223372036854775807}\r\n"), "a -> LITERAL_TOO_BIG Literal too big", 0, NULL },
	{ IN("a X {9223372036854775808}\r\n"),
	  "a -> LITERAL_TOO_BIG Literal size out of range", 0, NULL },
	{ IN("a X {18446744073709551616}\r\n"),
	  "a -> LITERAL_TOO_BIG Literal size out of range", 0, NULL },
	{ IN("a X {99999999999999999999}\r\n"),
	  "a -> LITERAL_TOO_BIG Literal size out of range", 0, NULL },
	{ IN("a X {99999999999999999999+}\r\n"),
	  "a -> LITERAL_TOO_BIG Literal size out of range (fatal)", 0, NULL },
	{ IN("a X {65+}\r\n"), "a -> LITERAL_TOO_BIG Literal too big (fatal)", 0, NULL },
	{ IN("a X ~{65+}\r\n"), "a -> LITERAL_TOO_BIG Literal too big (fatal)", 0, NULL },
	{ IN("a X {6}\r\nabcdef {5}\r\n"), "a -> LITERAL_TOO_BIG Literal too big", 1,
	  &test_limits_args },
	{ IN("a X ((((a))))\r\n"), "a -> BAD_SYNTAX Too deeply nested lists", 0, NULL },
	{ IN("a X 1 2 3 4 5 6\r\n"), "a -> BAD_SYNTAX Too many arguments", 0, &test_limits_args },
	{ IN("a X (1 2 3 4 5)\r\n"), "a -> BAD_SYNTAX Too many arguments", 0, &test_limits_args },
	{ IN("a X 123456789012345678901234567890123456789012345678901234567890"
	  "123456789012345678901234567890123456789012345678901234567890"
	  "123456789012345678901234567890123456789012345678901234567890"
	  "123456789012345678901234567890123456789012345678901234567890\r\n"),
	  "a -> LINE_TOO_LONG Command line too long", 0, NULL },
	/* the rest of a bad line is skipped, non-synchronizing literals
	   included */
	{ IN("a X ) {4+}\r\nb\nNO {3+}\r\n\r\n\n\r\n"), "a -> BAD_SYNTAX Unexpected ')'", 0, NULL },
	{ IN("a X ) {4}\r\n"), "a -> BAD_SYNTAX Unexpected ')'", 0, NULL },
	{ IN("a X {12x+}\r\n"), "a -> BAD_SYNTAX Invalid literal size", 0, NULL },
};

static void test_run_case(const struct test_case *tc, bool bytewise)
{
	size_t len = tc->input_len;
	string_t *input = t_str_new(len + 16);
	const char *expected = tc->result;
	unsigned int conts = 0;

	str_append_n(input, tc->input, len);
	str_append(input, "b NOOP\r\n");

	struct test_stream ts;
	test_stream_init(&ts, str_data(input), str_len(input), 0, 1024 * 1024, bytewise);
	struct imap_parser *parser = imap_parser_create(ts.input, tc->limits != NULL ?
							tc->limits : &test_limits);

	const char *result = test_parse_one(parser, &ts, 0, &conts);
	test_assert_strcmp(result, expected);
	if (conts != tc->conts) {
		printf("  '%s': %u continuations, expected %u\n", expected, conts, tc->conts);
		test_assert(conts == tc->conts);
	}

	bool fatal = false;
	if (strstr(result, " -> ") != NULL) {
		(void)imap_parser_get_error(parser, NULL, &fatal);
		test_assert(fatal == (imap_parser_skip_line(parser) < 0));
		if (!fatal)
			test_assert(test_skip_line(parser, &ts));
	}
	if (!fatal) {
		imap_parser_reset(parser);
		result = test_parse_one(parser, &ts, 0, &conts);
		test_assert_strcmp(result, "b NOOP |");
		test_assert(i_stream_get_data_size(ts.input) == 0);
	}
	imap_parser_destroy(&parser);
	test_assert(parser == NULL);
	test_stream_deinit(&ts);
}

static void test_imap_parser_table(void)
{
	test_begin("imap parser: command table, all input visible");
	for (unsigned int i = 0; i < N_ELEMENTS(test_cases); i++)
		test_run_case(&test_cases[i], false);
	test_end();

	test_begin("imap parser: command table, byte by byte");
	for (unsigned int i = 0; i < N_ELEMENTS(test_cases); i++)
		test_run_case(&test_cases[i], true);
	test_end();
}

/* The flags test_parse_stops() reads arguments with. */
static enum imap_parser_flags test_stop_flags = IMAP_PARSE_FLAG_LITERAL_SIZE;

/* read_args() with LITERAL_SIZE until the line is done; literals get
   consumed by the "caller" in byte-sized or whole steps. */
static const char *test_parse_stops(const char *input, size_t input_len, bool bytewise,
				    bool to_memory, unsigned int *conts)
{
	struct test_stream ts;
	string_t *out = t_str_new(128);
	const struct imap_arg *args;
	const char *tag, *word;
	int ret;

	test_stream_init(&ts, input, input_len, 0, 4096, bytewise);
	struct imap_parser *parser = imap_parser_create(ts.input, &test_limits);
	while ((ret = imap_parser_read_tag(parser, &tag)) == 0)
		TEST_MORE(&ts);
	while ((ret = imap_parser_read_word(parser, &word)) == 0)
		TEST_MORE(&ts);
	str_printfa(out, "%s %s", tag, word);
	for (unsigned int stops = 0;; stops++) {
		while ((ret = imap_parser_read_args(parser, test_stop_flags, &args)) == 0) {
			if (imap_parser_want_continuation(parser))
				(*conts)++;
			else if (!test_stream_more(&ts))
				break;
		}
		if (ret < 0) {
			/* before the format's arguments: their order of
			   evaluation is unspecified */
			bool fatal;
			const char *error = imap_parser_get_error(parser, NULL, &fatal);
			str_printfa(out, " -> %s%s", error, fatal ? " (fatal)" : "");
			break;
		}
		str_append(out, " |");
		if (!imap_arg_is_eol(&args[0]))
			str_append_c(out, ' ');
		test_append_args(out, args);
		unsigned int count = imap_args_count(args);
		uint64_t size;
		const struct imap_arg *last = count == 0 ? NULL : &args[count - 1];
		if (last != NULL && last->type == IMAP_ARG_LIST && last->u.list.count > 0)
			last = &last->u.list.args[last->u.list.count - 1];
		if (last == NULL || !imap_arg_get_literal_size(last, &size))
			break;
		/* calling again without consuming returns the same stop */
		const struct imap_arg *args2;
		if (size > 0) {
			test_assert(imap_parser_read_args(parser, 0, &args2) == 1 &&
				    args2 == args);
		}
		if (to_memory && stops == 0) {
			imap_parser_literal_to_memory(parser);
			continue;
		}
		str_append_c(out, '[');
		while (size > 0) {
			size_t avail = i_stream_get_data_size(ts.input);
			if (avail == 0) {
				TEST_MORE(&ts);
				continue;
			}
			size_t n = (size_t)I_MIN(avail, size);
			str_append_n(out, i_stream_get_data(ts.input, &avail), n);
			i_stream_skip(ts.input, n);
			size -= n;
		}
		str_append_c(out, ']');
	}
	imap_parser_destroy(&parser);
	test_stream_deinit(&ts);
	return str_c(out);
}

static void test_imap_parser_literal_size(void)
{
	static const struct {
		const char *input;
		size_t input_len;
		const char *result;
		bool to_memory;
		unsigned int conts;
	} tests[] = {
		{ IN("a APPEND INBOX (\\Seen) {5}\r\nhello\r\n"),
		  "a APPEND | INBOX (\\Seen) <5>[hello] |", false, 0 },
		{ IN("a APPEND INBOX (\\Seen) \"date\" ~{5+}\r\nhe\0lo\r\n"),
		  "a APPEND | INBOX (\\Seen) \"date\" <~5+>[he", false, 0 },
		{ IN("a APPEND INBOX {3+}\r\nabc (\\Seen) {4}\r\nd\nfg ~{0}\r\n\r\n"),
		  "a APPEND | INBOX <3+>[abc] | (\\Seen) <4>[d\nfg] | <~0>[] |", false, 0 },
		{ IN("a APPEND INBOX {3}\r\nabc)\r\n"),
		  "a APPEND | INBOX <3>[abc] -> Unexpected ')'", false, 0 },
		{ IN("a APPEND INBOX {3}\r\nabcx\r\n"),
		  "a APPEND | INBOX <3>[abc] -> Missing space between arguments", false, 0 },
		{ IN("a APPEND INBOX CATENATE (TEXT {3+}\r\nabc URL \"/x\")\r\n"),
		  "a APPEND | INBOX CATENATE (TEXT {3+}abc URL \"/x\")", false, 0 },
		{ IN("a APPEND {5}\r\nINBOX {3}\r\nabc\r\n"),
		  "a APPEND | <5> | {5}INBOX <3>[abc] |", true, 1 },
		{ IN("a APPEND {5+}\r\nINBOX {3+}\r\nabc\r\n"),
		  "a APPEND | <5+> | {5+}INBOX <3+>[abc] |", true, 0 },
		{ IN("a APPEND {65}\r\nINBOX {3}\r\nabc\r\n"),
		  "a APPEND | <65> -> Literal too big", true, 0 },
		{ IN("a APPEND {65+}\r\nINBOX {3}\r\nabc\r\n"),
		  "a APPEND | <65+> -> Literal too big (fatal)", true, 0 },
		{ IN("a APPEND INBOX {99999999999999999999}\r\n"),
		  "a APPEND -> Literal size out of range", false, 0 },
	};
	test_begin("imap parser: LITERAL_SIZE stops");
	for (unsigned int i = 0; i < N_ELEMENTS(tests); i++) {
		for (int bytewise = 0; bytewise < 2; bytewise++) {
			unsigned int conts = 0;
			const char *result = test_parse_stops(tests[i].input, tests[i].input_len,
							      bytewise != 0, tests[i].to_memory,
							      &conts);
			/* the NUL in the literal8 ends the C string */
			if (i == 1)
				result = t_strndup(result, strlen(tests[i].result));
			test_assert_strcmp(result, tests[i].result);
			test_assert(conts == tests[i].conts);
		}
	}
	test_end();
}

/* LITERAL_SIZE_IN_LIST: CATENATE's TEXT literals stop inside the list,
   which goes on in the next segment (RFC 4469 §4). */
static void test_imap_parser_literal_size_in_list(void)
{
	static const struct {
		const char *input;
		size_t input_len;
		const char *result;
		bool to_memory;
		unsigned int conts;
	} tests[] = {
		{ IN("a APPEND INBOX CATENATE (TEXT {3+}\r\nabc URL \"/x\")\r\n"),
		  "a APPEND | INBOX CATENATE (TEXT <3+>)[abc] | (URL \"/x\")", false, 0 },
		{ IN("a APPEND INBOX (\\Seen) CATENATE (URL \"/a\" TEXT ~{2}\r\nxy TEXT {1}\r\nz)"
		     " CATENATE (TEXT {1+}\r\nq) {2}\r\nrs\r\n"),
		  "a APPEND | INBOX (\\Seen) CATENATE (URL \"/a\" TEXT <~2>)[xy] | (TEXT <1>)[z] |"
		  " () CATENATE (TEXT <1+>)[q] | () <2>[rs] |", false, 0 },
		{ IN("a APPEND INBOX CATENATE (URL {2}\r\n/x TEXT {1}\r\nz)\r\n"),
		  "a APPEND | INBOX CATENATE (URL <2>) | ({2}/x TEXT <1>)[z] | ()", true, 1 },
		{ IN("a APPEND INBOX CATENATE ((TEXT {1}\r\nz))\r\n"),
		  "a APPEND | INBOX CATENATE ((TEXT {1}z))", false, 1 },
		{ IN("a APPEND INBOX CATENATE (TEXT {1}\r\nz\r\n"),
		  "a APPEND | INBOX CATENATE (TEXT <1>)[z] -> Missing ')'", false, 0 },
		{ IN("a APPEND INBOX CATENATE (TEXT {1}\r\nz)x\r\n"),
		  "a APPEND | INBOX CATENATE (TEXT <1>)[z] -> Missing space between arguments",
		  false, 0 },
	};
	test_begin("imap parser: LITERAL_SIZE_IN_LIST stops");
	test_stop_flags = IMAP_PARSE_FLAG_LITERAL_SIZE | IMAP_PARSE_FLAG_LITERAL_SIZE_IN_LIST;
	for (unsigned int i = 0; i < N_ELEMENTS(tests); i++) {
		for (int bytewise = 0; bytewise < 2; bytewise++) {
			unsigned int conts = 0;
			const char *result = test_parse_stops(tests[i].input, tests[i].input_len,
							      bytewise != 0, tests[i].to_memory,
							      &conts);
			test_assert_strcmp(result, tests[i].result);
			test_assert(conts == tests[i].conts);
		}
	}
	test_stop_flags = IMAP_PARSE_FLAG_LITERAL_SIZE;
	test_end();
}

static void test_imap_parser_skip_stop(void)
{
	static const char *const inputs[] = {
		/* non-synchronizing: the data follows and must be skipped */
		"a APPEND INBOX {7+}\r\nb NO\nP x {4+}\r\n\r\n\r\n\r\nb NOOP\r\n",
		/* synchronizing: no continuation, so nothing follows */
		"a APPEND INBOX {7}\r\nb NOOP\r\n",
	};
	const struct imap_arg *args;
	const char *tag, *word;
	unsigned int conts = 0;

	test_begin("imap parser: skip_line after a LITERAL_SIZE stop");
	for (unsigned int i = 0; i < N_ELEMENTS(inputs); i++) {
		for (int bytewise = 0; bytewise < 2; bytewise++) {
			struct test_stream ts;
			test_stream_init(&ts, inputs[i], strlen(inputs[i]), 0, 4096,
					 bytewise != 0);
			struct imap_parser *parser = imap_parser_create(ts.input, &test_limits);
			while (imap_parser_read_tag(parser, &tag) == 0)
				TEST_MORE(&ts);
			while (imap_parser_read_word(parser, &word) == 0)
				TEST_MORE(&ts);
			while (imap_parser_read_args(parser, IMAP_PARSE_FLAG_LITERAL_SIZE,
						     &args) == 0)
				TEST_MORE(&ts);
			test_assert(args[1].type == IMAP_ARG_LITERAL_SIZE);
			if (bytewise != 0 && i == 0) {
				/* partly consumed by the caller */
				while (i_stream_get_data_size(ts.input) < 2)
					TEST_MORE(&ts);
				i_stream_skip(ts.input, 2);
			}
			test_assert(test_skip_line(parser, &ts));
			imap_parser_reset(parser);
			test_assert_strcmp(test_parse_one(parser, &ts, 0, &conts), "b NOOP |");
			imap_parser_destroy(&parser);
			test_stream_deinit(&ts);
		}
	}
	test_end();

	test_begin("imap parser: skip_line after a refused literal_to_memory()");
	for (int bytewise = 0; bytewise < 2; bytewise++) {
		const char *input = "a APPEND {65}\r\nb NOOP\r\n";
		struct test_stream ts;
		int ret;

		test_stream_init(&ts, input, strlen(input), 0, 4096, bytewise != 0);
		struct imap_parser *parser = imap_parser_create(ts.input, &test_limits);
		while (imap_parser_read_tag(parser, &tag) == 0)
			TEST_MORE(&ts);
		while (imap_parser_read_word(parser, &word) == 0)
			TEST_MORE(&ts);
		while (imap_parser_read_args(parser, IMAP_PARSE_FLAG_LITERAL_SIZE, &args) == 0)
			TEST_MORE(&ts);
		imap_parser_literal_to_memory(parser);
		ret = imap_parser_read_args(parser, IMAP_PARSE_FLAG_LITERAL_SIZE, &args);
		test_assert(ret == -1);
		test_assert(test_skip_line(parser, &ts));
		imap_parser_reset(parser);
		test_assert_strcmp(test_parse_one(parser, &ts, 0, &conts), "b NOOP |");
		imap_parser_destroy(&parser);
		test_stream_deinit(&ts);
	}
	test_end();
}

static void test_imap_parser_continuation_refused(void)
{
	const char *input = "a LOGIN {5}\r\nb NOOP\r\nc LOGIN {5}\r\nd NOOP\r\n";
	const struct imap_arg *args;
	const char *tag, *word;
	unsigned int conts = 0;
	struct test_stream ts;

	test_begin("imap parser: refused continuation");
	test_stream_init(&ts, input, strlen(input), 0, 4096, false);
	struct imap_parser *parser = imap_parser_create(ts.input, &test_limits);
	test_assert(imap_parser_read_tag(parser, &tag) == 1);
	test_assert(imap_parser_read_word(parser, &word) == 1);
	test_assert(imap_parser_read_args(parser, 0, &args) == 0);
	test_assert(imap_parser_want_continuation(parser));
	test_assert(!imap_parser_want_continuation(parser));
	/* refuse by resetting */
	imap_parser_reset(parser);
	test_assert_strcmp(test_parse_one(parser, &ts, 0, &conts), "b NOOP |");
	imap_parser_reset(parser);
	test_assert(imap_parser_read_tag(parser, &tag) == 1);
	test_assert(imap_parser_read_word(parser, &word) == 1);
	test_assert(imap_parser_read_args(parser, 0, &args) == 0);
	test_assert(imap_parser_want_continuation(parser));
	/* refuse with skip_line */
	test_assert(imap_parser_skip_line(parser) == 1);
	imap_parser_reset(parser);
	test_assert_strcmp(test_parse_one(parser, &ts, 0, &conts), "d NOOP |");
	imap_parser_destroy(&parser);
	test_stream_deinit(&ts);
	test_end();
}

static void test_imap_parser_read_line(void)
{
	const char *input = "a IDLE\r\nDONE\r\nlong line here\nx\0y\r\nabc\r\n"
		"c NOOP\r\n";
	size_t input_len = sizeof("a IDLE\r\nDONE\r\nlong line here\nx\0y\r\nabc\r\n"
				  "c NOOP\r\n") - 1;
	const struct imap_arg *args;
	const char *tag, *word, *line;
	unsigned int conts = 0;

	test_begin("imap parser: raw lines");
	for (int bytewise = 0; bytewise < 2; bytewise++) {
		static const struct imap_parser_limits limits = { .max_line_length = 10 };
		struct test_stream ts;
		int ret;

		test_stream_init(&ts, input, input_len, 0, 4096, bytewise != 0);
		struct imap_parser *parser = imap_parser_create(ts.input, &limits);
		test_assert_strcmp(test_parse_one(parser, &ts, 0, &conts), "a IDLE |");
		test_assert(imap_parser_read_args(parser, 0, &args) == 1);
		while ((ret = imap_parser_read_line(parser, &line)) == 0)
			TEST_MORE(&ts);
		test_assert(ret == 1);
		test_assert_strcmp(line, "DONE");
		imap_parser_reset(parser);
		while ((ret = imap_parser_read_line(parser, &line)) == 0)
			TEST_MORE(&ts);
		test_assert(ret == -1);
		test_assert_strcmp(imap_parser_get_error(parser, NULL, NULL), "Line too long");
		test_assert(test_skip_line(parser, &ts));
		imap_parser_reset(parser);
		while ((ret = imap_parser_read_line(parser, &line)) == 0)
			TEST_MORE(&ts);
		test_assert(ret == -1);
		enum imap_parse_error code;
		(void)imap_parser_get_error(parser, &code, NULL);
		test_assert(code == IMAP_PARSE_ERROR_NUL);
		test_assert(test_skip_line(parser, &ts));
		imap_parser_reset(parser);
		while ((ret = imap_parser_read_line(parser, &line)) == 0)
			TEST_MORE(&ts);
		test_assert_strcmp(line, "abc");
		imap_parser_reset(parser);
		while ((ret = imap_parser_read_tag(parser, &tag)) == 0)
			TEST_MORE(&ts);
		test_assert_strcmp(tag, "c");
		while ((ret = imap_parser_read_word(parser, &word)) == 0)
			TEST_MORE(&ts);
		test_assert_strcmp(word, "NOOP");
		imap_parser_destroy(&parser);
		test_stream_deinit(&ts);
	}
	test_end();
}

/* A line far over the limit is refused as soon as the limit is passed and
   skipped with bounded memory: the stream buffer is small, so nothing can
   hold the line. */
static void test_imap_parser_huge_line(void)
{
	static const char *const prefixes[] = {
		"a APPEND ", "a APPEND \"", "a FETCH 1 BODY[", "a APPEND {", "",
	};
	static const struct imap_parser_limits limits = {
		.max_line_length = 65536, .max_literal_size = 1024,
	};
	const size_t huge = 10 * 1024 * 1024;
	const char *suffix = " {4+}\r\nx\ny\r\nb NOOP\r\n";
	unsigned int conts = 0;

	test_begin("imap parser: 10 MB line");
	for (unsigned int i = 0; i < N_ELEMENTS(prefixes); i++) {
		size_t plen = strlen(prefixes[i]), slen = strlen(suffix);
		char *input = i_malloc(plen + huge + slen);
		memcpy(input, prefixes[i], plen);
		memset(input + plen, i == 3 ? '9' : 'x', huge);
		memcpy(input + plen + huge, suffix, slen);

		struct test_stream ts;
		test_stream_init(&ts, input, plen + huge + slen, 4096, 8192, false);
		struct imap_parser *parser = imap_parser_create(ts.input, &limits);
		const char *result = test_parse_one(parser, &ts, 0, &conts);
		test_assert_strcmp(result, i == 4 ? "* -> LINE_TOO_LONG Command line too long" :
				   "a -> LINE_TOO_LONG Command line too long");
		/* found right at the limit, not at the LF */
		test_assert(i_stream_get_offset(ts.input) <= limits.max_line_length + 1);
		test_assert(test_skip_line(parser, &ts));
		test_assert(pool_get_allocated(parser->pool) <= 4096);
		test_assert(pool_get_allocated(parser->args_pool) <= 4096);
		test_assert(parser->token->alloc <= 2 * limits.max_line_length + 64);
		imap_parser_reset(parser);
		test_assert(parser->token->alloc <= 1024);
		test_assert_strcmp(test_parse_one(parser, &ts, 0, &conts), "b NOOP |");
		imap_parser_destroy(&parser);
		test_stream_deinit(&ts);
		free(input);
	}
	test_end();
}

/* max_line_length counts the command without literal data and CRLF. */
static void test_imap_parser_line_limit(void)
{
	static const struct imap_parser_limits limits = { .max_line_length = 20 };
	static const struct {
		const char *input, *result;
	} tests[] = {
		/* exactly 20 bytes */
		{ "a X 0123456789abcdef\r\nb NOOP\r\n", "a X | 0123456789abcdef" },
		{ "a X 0123456789abcdefg\r\nb NOOP\r\n",
		  "a -> LINE_TOO_LONG Command line too long" },
		/* literal contents don't count, their headers do */
		{ "a X {3}\r\nxyz 0123456789ab\r\nb NOOP\r\n", "a X | {3}xyz 0123456789ab" },
		{ "a X {3}\r\nxyz 0123456789abc\r\nb NOOP\r\n",
		  "a -> LINE_TOO_LONG Command line too long" },
		{ "012345678901234567 X\r\nb NOOP\r\n", "012345678901234567 X |" },
		{ "0123456789012345678 X\r\nb NOOP\r\n",
		  "0123456789012345678 -> LINE_TOO_LONG Command line too long" },
		{ "01234567890123456789 X\r\nb NOOP\r\n",
		  "* -> LINE_TOO_LONG Command line too long" },
	};
	unsigned int conts = 0;

	test_begin("imap parser: line length limit");
	for (unsigned int i = 0; i < N_ELEMENTS(tests); i++) {
		for (int bytewise = 0; bytewise < 2; bytewise++) {
			struct test_stream ts;
			test_stream_init(&ts, tests[i].input, strlen(tests[i].input), 0, 4096,
					 bytewise != 0);
			struct imap_parser *parser = imap_parser_create(ts.input, &limits);
			test_assert_strcmp(test_parse_one(parser, &ts, 0, &conts),
					   tests[i].result);
			test_assert(test_skip_line(parser, &ts));
			imap_parser_reset(parser);
			test_assert_strcmp(test_parse_one(parser, &ts, 0, &conts), "b NOOP |");
			imap_parser_destroy(&parser);
			test_stream_deinit(&ts);
		}
	}
	test_end();
}

/* A huge APPEND streamed through LITERAL_SIZE never enters parser memory. */
static void test_imap_parser_huge_literal(void)
{
	const size_t huge = 10 * 1024 * 1024;
	const char *prefix = "a APPEND INBOX {10485760+}\r\n";
	size_t plen = strlen(prefix);
	char *input = i_malloc(plen + huge + 2);
	const struct imap_arg *args;
	const char *tag, *word;
	uint64_t size;

	test_begin("imap parser: 10 MB streamed literal");
	memcpy(input, prefix, plen);
	memset(input + plen, 'x', huge);
	memcpy(input + plen + huge, "\r\n", 2);
	struct test_stream ts;
	test_stream_init(&ts, input, plen + huge + 2, 4096, 8192, false);
	struct imap_parser *parser = imap_parser_create(ts.input, &test_limits);
	test_assert(imap_parser_read_tag(parser, &tag) == 1);
	test_assert(imap_parser_read_word(parser, &word) == 1);
	test_assert(imap_parser_read_args(parser, IMAP_PARSE_FLAG_LITERAL_SIZE, &args) == 1);
	test_assert(imap_arg_get_literal_size(&args[1], &size) && size == huge);
	test_assert(!args[1].literal_sync && !args[1].literal8);
	test_assert(!imap_parser_want_continuation(parser));
	while (size > 0) {
		size_t avail = i_stream_get_data_size(ts.input);
		if (avail == 0) {
			TEST_MORE(&ts);
			continue;
		}
		avail = (size_t)I_MIN(avail, size);
		i_stream_skip(ts.input, avail);
		size -= avail;
	}
	int ret;
	while ((ret = imap_parser_read_args(parser, IMAP_PARSE_FLAG_LITERAL_SIZE, &args)) == 0)
		TEST_MORE(&ts);
	test_assert(ret == 1 && imap_arg_is_eol(&args[0]));
	test_assert(pool_get_allocated(parser->args_pool) <= 4096);
	imap_parser_destroy(&parser);
	test_stream_deinit(&ts);
	free(input);
	test_end();
}

static void test_imap_arg_accessors(void)
{
	const char *input = "a X atom NIL \"str\" {3+}\r\nlit ~{2+}\r\n\0z (a b) {1+}\r\nx\r\n";
	size_t input_len = sizeof("a X atom NIL \"str\" {3+}\r\nlit ~{2+}\r\n\0z (a b) {1+}\r\nx\r\n") - 1;
	const struct imap_arg *args, *list;
	const char *tag, *word, *str;
	const unsigned char *data;
	unsigned int count;
	size_t size;

	test_begin("imap arg accessors");
	struct test_stream ts;
	test_stream_init(&ts, input, input_len, 0, 4096, false);
	struct imap_parser *parser = imap_parser_create(ts.input, &test_limits);
	test_assert(imap_parser_read_tag(parser, &tag) == 1);
	test_assert(imap_parser_read_word(parser, &word) == 1);
	test_assert(imap_parser_read_args(parser, 0, &args) == 1);
	test_assert(imap_args_count(args) == 7);

	test_assert(imap_arg_get_atom(&args[0], &str) && strcmp(str, "atom") == 0);
	test_assert(imap_arg_get_astring(&args[0], &str));
	test_assert(!imap_arg_get_string(&args[0], &str));
	test_assert(!imap_arg_get_nstring(&args[0], &str));
	test_assert(imap_arg_atom_equals(&args[0], "ATOM"));

	test_assert(imap_arg_is_nil(&args[1]));
	test_assert(imap_arg_get_nstring(&args[1], &str) && str == NULL);
	test_assert(imap_arg_get_astring(&args[1], &str) && strcmp(str, "NIL") == 0);
	test_assert(!imap_arg_get_string(&args[1], &str));

	test_assert(imap_arg_get_string(&args[2], &str) && strcmp(str, "str") == 0);
	test_assert(imap_arg_get_nstring(&args[2], &str) && strcmp(str, "str") == 0);
	test_assert(!imap_arg_get_atom(&args[2], &str));
	test_assert(!imap_arg_atom_equals(&args[2], "str"));

	test_assert(imap_arg_get_astring(&args[3], &str) && strcmp(str, "lit") == 0);
	test_assert(!imap_arg_get_string(&args[4], &str));
	test_assert(imap_arg_get_data(&args[4], &data, &size) && size == 2 &&
		    data[0] == '\0' && data[1] == 'z');

	test_assert(imap_arg_get_list(&args[5], &list, &count) && count == 2);
	test_assert(imap_arg_is_eol(&list[2]));
	test_assert(!imap_arg_get_list(&args[0], &list, &count));
	test_assert(!imap_arg_get_data(&args[5], &data, &size));
	test_assert(imap_arg_get_string(&args[6], &str) && strcmp(str, "x") == 0);
	test_assert(imap_arg_is_eol(&args[7]));
	imap_parser_destroy(&parser);
	test_stream_deinit(&ts);
	test_end();
}

int main(void)
{
	static void (*const tests[])(void) = {
		test_imap_parser_table,
		test_imap_parser_literal_size,
		test_imap_parser_literal_size_in_list,
		test_imap_parser_skip_stop,
		test_imap_parser_continuation_refused,
		test_imap_parser_read_line,
		test_imap_parser_line_limit,
		test_imap_parser_huge_line,
		test_imap_parser_huge_literal,
		test_imap_arg_accessors,
		NULL
	};
	return test_run(tests);
}
