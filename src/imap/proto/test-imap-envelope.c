/* Unit tests for ENVELOPE: field selection, defaults for Sender and
 * Reply-To, merged address fields, groups, whitespace handling of the
 * subject and display names, and header blocks fed byte by byte. */
#include "test-common.h"
#include "imap-envelope.h"

static const char *envelope_of(const char *header)
{
	pool_t pool = pool_create("test envelope", 1024);
	string_t *str = t_str_new(256);

	imap_envelope_write(imap_envelope_parse(pool, header, strlen(header)), str);
	pool_destroy(&pool);
	return str_c(str);
}

static void test_imap_envelope_basic(void)
{
	static const struct {
		const char *header, *envelope;
	} tests[] = {
		{ "", "NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL" },
		{ "Date: Mon, 02 Mar 2026 10:15:00 +0100\r\n"
		  "Subject: Lunch tomorrow?\r\n"
		  "From: Alice Example <alice@example.org>\r\n"
		  "To: Bob Example <bob@example.com>\r\n"
		  "Message-ID: <20260302101500.1234@example.org>\r\n\r\n",
		  "\"Mon, 02 Mar 2026 10:15:00 +0100\" \"Lunch tomorrow?\" "
		  "((\"Alice Example\" NIL \"alice\" \"example.org\")) "
		  "((\"Alice Example\" NIL \"alice\" \"example.org\")) "
		  "((\"Alice Example\" NIL \"alice\" \"example.org\")) "
		  "((\"Bob Example\" NIL \"bob\" \"example.com\")) NIL NIL NIL "
		  "\"<20260302101500.1234@example.org>\"" },
		/* Sender and Reply-To given; Cc merged over two fields */
		{ "From: a@b\nSender: s@b\nReply-To: r@b\nCc: c1@b\ncc: c2@b\n"
		  "In-Reply-To: <x@y>\n\n",
		  "NIL NIL ((NIL NIL \"a\" \"b\")) ((NIL NIL \"s\" \"b\")) "
		  "((NIL NIL \"r\" \"b\")) NIL ((NIL NIL \"c1\" \"b\")(NIL NIL \"c2\" \"b\")) "
		  "NIL \"<x@y>\" NIL" },
		/* an empty Sender falls back to From */
		{ "From: a@b\nSender:\n\n",
		  "NIL NIL ((NIL NIL \"a\" \"b\")) ((NIL NIL \"a\" \"b\")) "
		  "((NIL NIL \"a\" \"b\")) NIL NIL NIL NIL NIL" },
		/* groups: start and end markers */
		{ "To: Friends: a@b, c@d;\n\n",
		  "NIL NIL NIL NIL NIL ((NIL NIL \"Friends\" NIL)(NIL NIL \"a\" \"b\")"
		  "(NIL NIL \"c\" \"d\")(NIL NIL NIL NIL)) NIL NIL NIL NIL" },
		/* whitespace in subjects and names folds to one space; the
		   date keeps its own */
		{ "Subject:   a \t b\r\n  c  \r\nFrom: \"x   y\" <x@y>\r\nDate:  d1 \r\n\r\n",
		  "\" d1 \" \"a b c\" ((\"x y\" NIL \"x\" \"y\")) ((\"x y\" NIL \"x\" \"y\")) "
		  "((\"x y\" NIL \"x\" \"y\")) NIL NIL NIL NIL NIL" },
		/* the last Subject counts */
		{ "Subject: one\nSubject: two\n\n",
		  "NIL \"two\" NIL NIL NIL NIL NIL NIL NIL NIL" },
		/* folded message id: the line break goes, the blank stays */
		{ "Message-ID:\n <a@b>\n\n", "NIL NIL NIL NIL NIL NIL NIL NIL NIL \" <a@b>\"" },
	};
	test_begin("imap_envelope basic");
	for (unsigned int i = 0; i < N_ELEMENTS(tests); i++)
		test_assert_strcmp(envelope_of(tests[i].header), tests[i].envelope);
	test_end();
}

static void test_imap_envelope_for_humans(void)
{
	static const struct {
		const char *in, *out;
	} tests[] = {
		{ "", "\"\"" },
		{ "   ", "\"\"" },
		{ " a  b ", "\"a b\"" },
		{ "a\r\n\tb", "\"a b\"" },
		{ "x\"y", "\"x\\\"y\"" },
		{ "caf\xc3\xa9", "{5}\r\ncaf\xc3\xa9" },
	};
	test_begin("imap_envelope_append_for_humans");
	for (unsigned int i = 0; i < N_ELEMENTS(tests); i++) {
		string_t *str = t_str_new(64);
		imap_envelope_append_for_humans(str, tests[i].in);
		test_assert_strcmp(str_c(str), tests[i].out);
	}
	test_end();
}

/* Field by field through the incremental header parser, one byte at a
   time: the same envelope as from the whole block. */
static void test_imap_envelope_byte_at_a_time(void)
{
	static const char header[] =
		"From: \"A B\" <a@b>,\r\n c@d\r\nSubject: s\r\n t\r\nTo: x@y\r\n\r\n";
	pool_t pool = pool_create("test envelope", 1024);
	struct imap_envelope *env = p_new(pool, struct imap_envelope, 1);
	struct mime_header_parser *parser = mime_header_parser_create(NULL);
	const struct mime_header_field *field;
	size_t used;

	test_begin("imap_envelope byte at a time");
	for (size_t i = 0; i < sizeof(header) - 1; ) {
		int ret = mime_header_parser_parse(parser, header + i, 1, &used, &field);
		i += used;
		if (ret > 0 && field == NULL)
			break;
		if (ret > 0)
			imap_envelope_add_field(pool, env, field);
	}
	string_t *str = t_str_new(256);
	imap_envelope_write(env, str);
	test_assert_strcmp(str_c(str), envelope_of(header));
	mime_header_parser_destroy(&parser);
	pool_destroy(&pool);
	test_end();
}

int main(void)
{
	static void (*const tests[])(void) = {
		test_imap_envelope_basic,
		test_imap_envelope_for_humans,
		test_imap_envelope_byte_at_a_time,
		NULL
	};
	return test_run(tests);
}
