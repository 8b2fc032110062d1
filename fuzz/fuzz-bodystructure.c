/* libFuzzer target for the IMAP structure writers (src/imap/proto
 * imap-bodystructure.c, imap-envelope.c) over the MIME parser: parses the
 * input as a message whole and in pseudo-random chunks (the BODY,
 * BODYSTRUCTURE and ENVELOPE strings must be identical), then reads each
 * string back with the IMAP parser and checks it against the RFC 9051 §9
 * grammar (body, body-fields, envelope, address, extension data), with as
 * many leaves as the part tree has. The first byte picks the mode: its two
 * low bits the MIME limits (default, small, tiny, minimal), the rest seeds
 * the chunking. */
#include "imap-arg.h"
#include "imap-bodystructure.h"
#include "imap-parser.h"
#include "istream.h"
#include "transport.h"

#include <stdlib.h>
#include <strings.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct mime_parser_limits fuzz_limits[] = {
	{ .max_depth = 99 },
	{ .max_depth = 4, .max_parts = 20, .max_header_size = 512, .max_header_fields = 8 },
	{ .max_depth = 2, .max_parts = 3, .max_header_size = 64, .max_header_fields = 2 },
	{ .max_depth = 1, .max_parts = 1, .max_header_size = 1, .max_header_fields = 1 },
};

#define FUZZ_CHECK(expr)                                                      \
	do {                                                                  \
		if (!(expr))                                                  \
			i_panic("invalid structure: %s (%s:%d)", #expr,      \
				__FILE__, __LINE__);                          \
	} while (0)

static bool arg_is_number(const struct imap_arg *arg)
{
	const char *str;

	if (arg->type != IMAP_ARG_ATOM || !imap_arg_get_atom(arg, &str) || *str == '\0')
		return false;
	for (; *str != '\0'; str++) {
		if (*str < '0' || *str > '9')
			return false;
	}
	return true;
}

static bool arg_is_string(const struct imap_arg *arg)
{
	return arg->type == IMAP_ARG_STRING || arg->type == IMAP_ARG_LITERAL;
}

static bool arg_is_nstring(const struct imap_arg *arg)
{
	return imap_arg_is_nil(arg) || arg_is_string(arg);
}

/* body-fld-param: NIL or ("name" "value" ...) */
static void check_params(const struct imap_arg *arg)
{
	const struct imap_arg *list;
	unsigned int count;

	if (imap_arg_is_nil(arg))
		return;
	FUZZ_CHECK(imap_arg_get_list(arg, &list, &count));
	FUZZ_CHECK(count > 0 && count % 2 == 0);
	for (unsigned int i = 0; i < count; i++)
		FUZZ_CHECK(arg_is_string(&list[i]));
}

/* address = "(" addr-name SP addr-adl SP addr-mailbox SP addr-host ")" */
static void check_addresses(const struct imap_arg *arg)
{
	const struct imap_arg *list, *addr;
	unsigned int count, n;

	if (imap_arg_is_nil(arg))
		return;
	FUZZ_CHECK(imap_arg_get_list(arg, &list, &count) && count > 0);
	for (unsigned int i = 0; i < count; i++) {
		FUZZ_CHECK(imap_arg_get_list(&list[i], &addr, &n) && n == 4);
		for (unsigned int j = 0; j < 4; j++)
			FUZZ_CHECK(arg_is_nstring(&addr[j]));
	}
}

static void check_envelope(const struct imap_arg *args, unsigned int count)
{
	FUZZ_CHECK(count == 10);
	FUZZ_CHECK(arg_is_nstring(&args[0]) && arg_is_nstring(&args[1]));
	for (unsigned int i = 2; i < 8; i++)
		check_addresses(&args[i]);
	FUZZ_CHECK(arg_is_nstring(&args[8]) && arg_is_nstring(&args[9]));
}

/* body-fld-dsp SP body-fld-lang SP body-fld-loc */
static void check_extension_common(const struct imap_arg *args)
{
	const struct imap_arg *list;
	unsigned int count;

	if (!imap_arg_is_nil(&args[0])) {
		FUZZ_CHECK(imap_arg_get_list(&args[0], &list, &count) && count == 2);
		FUZZ_CHECK(arg_is_string(&list[0]));
		check_params(&list[1]);
	}
	if (!imap_arg_is_nil(&args[1])) {
		FUZZ_CHECK(imap_arg_get_list(&args[1], &list, &count) && count > 0);
		for (unsigned int i = 0; i < count; i++)
			FUZZ_CHECK(arg_is_string(&list[i]));
	}
	FUZZ_CHECK(arg_is_nstring(&args[2]));
}

static unsigned int check_body(const struct imap_arg *args, unsigned int count, bool extended);

static unsigned int check_body_arg(const struct imap_arg *arg, bool extended)
{
	const struct imap_arg *list;
	unsigned int count;

	FUZZ_CHECK(imap_arg_get_list(arg, &list, &count));
	return check_body(list, count, extended);
}

static unsigned int check_multipart(const struct imap_arg *args, unsigned int count,
				    bool extended)
{
	unsigned int i = 0, leaves = 0;

	for (; i < count && args[i].type == IMAP_ARG_LIST; i++)
		leaves += check_body_arg(&args[i], extended);
	FUZZ_CHECK(i > 0 && i < count && arg_is_string(&args[i]));
	FUZZ_CHECK(count == i + (extended ? 5 : 1));
	if (extended) {
		check_params(&args[i + 1]);
		check_extension_common(&args[i + 2]);
	}
	return leaves;
}

static unsigned int check_leaf(const struct imap_arg *args, unsigned int count, bool extended)
{
	const struct imap_arg *env;
	unsigned int n = 7, env_count, leaves = 1;
	const char *type, *subtype;

	FUZZ_CHECK(count >= 7);
	FUZZ_CHECK(imap_arg_get_string(&args[0], &type) && imap_arg_get_string(&args[1], &subtype));
	check_params(&args[2]);
	FUZZ_CHECK(arg_is_nstring(&args[3]) && arg_is_nstring(&args[4]));
	FUZZ_CHECK(arg_is_string(&args[5]) && arg_is_number(&args[6]));
	if (strcasecmp(type, "text") == 0) {
		FUZZ_CHECK(count > 7 && arg_is_number(&args[7]));
		n = 8;
	} else if (strcasecmp(type, "message") == 0 && count > 7 &&
		   args[7].type == IMAP_ARG_LIST) {
		FUZZ_CHECK(strcasecmp(subtype, "rfc822") == 0 || strcasecmp(subtype, "global") == 0);
		FUZZ_CHECK(count > 9 && imap_arg_get_list(&args[7], &env, &env_count));
		check_envelope(env, env_count);
		leaves = check_body_arg(&args[8], extended);
		FUZZ_CHECK(arg_is_number(&args[9]));
		n = 10;
	}
	FUZZ_CHECK(count == n + (extended ? 4 : 0));
	if (extended) {
		FUZZ_CHECK(arg_is_nstring(&args[n]));
		check_extension_common(&args[n + 1]);
	}
	return leaves;
}

static unsigned int check_body(const struct imap_arg *args, unsigned int count, bool extended)
{
	FUZZ_CHECK(count > 0);
	if (args[0].type == IMAP_ARG_LIST)
		return check_multipart(args, count, extended);
	return check_leaf(args, count, extended);
}

/* Leaves of the structure as written: multiparts without parts get one
   placeholder, a message part's leaves are its message's. */
static unsigned int count_leaves(const struct mime_part *part)
{
	unsigned int n = 0;

	if (part->is_multipart) {
		for (const struct mime_part *child = part->children; child != NULL;
		     child = child->next)
			n += count_leaves(child);
		return n == 0 ? 1 : n;
	}
	if (imap_bodystructure_is_message(part))
		return count_leaves(part->children);
	return 1;
}

/* The text with a space between adjacent bodies ")(" - body-type-mpart
   has none (RFC 9051 §9), the command parser wants one - outside quoted
   strings and literals. */
static string_t *fuzz_space_bodies(const string_t *text)
{
	const unsigned char *p = str_data(text), *end = p + str_len(text);
	string_t *out = t_str_new(str_len(text) + 64);

	while (p < end) {
		if (*p == '"') {
			const unsigned char *q = p + 1;
			while (q < end && *q != '"')
				q += *q == '\\' ? 2 : 1;
			q = q < end ? q + 1 : end;
			str_append_n(out, p, (size_t)(q - p));
			p = q;
		} else if (*p == '{') {
			char *num_end;
			unsigned long long n = strtoull((const char *)p + 1, &num_end, 10);
			const unsigned char *q = (const unsigned char *)num_end + 3; /* "}\r\n" */
			FUZZ_CHECK(q <= end && n <= (unsigned long long)(end - q));
			str_append_n(out, p, (size_t)(q + n - p));
			p = q + n;
		} else {
			str_append_c(out, (char)*p);
			if (*p == ')' && p + 1 < end && p[1] == '(')
				str_append_c(out, ' ');
			p++;
		}
	}
	return out;
}

/* Reads "(text)" back with the IMAP parser: the list's args, or NULL. */
static const struct imap_arg *fuzz_parse_back(const string_t *text, struct imap_parser **parser_r,
					      struct istream **input_r, struct transport **t_r,
					      unsigned int *count_r)
{
	static const struct imap_parser_limits limits = {
		.max_line_length = 64 * 1024 * 1024,
		.max_literal_size = 64 * 1024 * 1024,
		.max_list_depth = 1024,
		.max_args = 10 * 1000 * 1000,
	};
	string_t *line = t_str_new(str_len(text) + 16);
	const struct imap_arg *args, *list;
	const char *tag, *word;
	int ret;

	str_append(line, "t X (");
	text = fuzz_space_bodies(text);
	str_append_n(line, str_data(text), str_len(text));
	str_append(line, ")\r\n");
	*t_r = transport_create_memory(str_data(line), str_len(line), 0);
	*input_r = i_stream_create(*t_r, str_len(line) + 16);
	*parser_r = imap_parser_create(*input_r, &limits);
	(void)i_stream_read(*input_r);
	if (imap_parser_read_tag(*parser_r, &tag) != 1 ||
	    imap_parser_read_word(*parser_r, &word) != 1)
		i_panic("parse back: no command");
	while ((ret = imap_parser_read_args(*parser_r, 0, &args)) == 0) {
		if (!imap_parser_want_continuation(*parser_r) && i_stream_read(*input_r) <= 0)
			i_panic("parse back: stuck");
	}
	if (ret < 0)
		i_panic("parse back failed: %s", imap_parser_get_error(*parser_r, NULL, NULL));
	FUZZ_CHECK(imap_args_count(args) == 1 && imap_arg_get_list(&args[0], &list, count_r));
	return list;
}

static void fuzz_check_text(const struct imap_structure *s, const string_t *text,
			    int kind)
{
	struct imap_parser *parser;
	struct istream *input;
	struct transport *t;
	unsigned int count;
	const struct imap_arg *args = fuzz_parse_back(text, &parser, &input, &t, &count);

	if (kind == 0)
		check_envelope(args, count);
	else if (check_body(args, count, kind == 2) != count_leaves(s->root))
		i_panic("leaf count differs from the part tree");
	imap_parser_destroy(&parser);
	i_stream_destroy(&input);
	transport_destroy(&t);
}

static void fuzz_write(const struct imap_structure *s, string_t *dest[3])
{
	for (int i = 0; i < 3; i++)
		dest[i] = t_str_new(1024);
	imap_envelope_write(imap_structure_get_envelope(s, s->root), dest[0]);
	imap_bodystructure_write(s, s->root, false, dest[1]);
	imap_bodystructure_write(s, s->root, true, dest[2]);
}

static struct imap_structure *fuzz_parse_chunked(pool_t pool, const unsigned char *msg,
						 size_t size,
						 const struct mime_parser_limits *limits,
						 uint32_t seed)
{
	struct imap_structure_parser *parser =
		imap_structure_parser_create(pool, limits, false);
	struct imap_structure *s;

	for (size_t pos = 0; pos < size; ) {
		seed = seed * 1103515245 + 12345;
		size_t n = I_MIN(size - pos, (size_t)((seed >> 16) % 97) + 1);
		imap_structure_parser_feed(parser, msg + pos, n);
		pos += n;
	}
	s = imap_structure_parser_finish(parser);
	imap_structure_parser_destroy(&parser);
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	unsigned int mode = data[0];
	const unsigned char *msg = data + 1;
	size_t msg_size = size - 1;
	const struct mime_parser_limits *limits = &fuzz_limits[mode & 3];
	pool_t pool = pool_create("fuzz bodystructure", 16384);
	string_t *whole[3], *chunked[3];

	struct imap_structure *s = imap_structure_parse(pool, msg, msg_size, limits);
	struct imap_structure *s2 = fuzz_parse_chunked(pool, msg, msg_size, limits, mode >> 2);
	fuzz_write(s, whole);
	fuzz_write(s2, chunked);
	for (int i = 0; i < 3; i++) {
		if (str_len(whole[i]) != str_len(chunked[i]) ||
		    memcmp(str_data(whole[i]), str_data(chunked[i]), str_len(whole[i])) != 0)
			i_panic("chunking changed the structure");
		fuzz_check_text(s, whole[i], i);
	}
	pool_destroy(&pool);
	t_pool_clear();
	return 0;
}
