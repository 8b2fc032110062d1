/* libFuzzer target for the LMTP grammar (src/lmtp/lmtp-proto.c): reads
 * the input as command lines with a small line limit, parses every MAIL,
 * RCPT and BDAT argument and formats parsed paths back (which must parse
 * again to the same path), then runs the DATA decoder over the input all
 * at once and byte by byte: both runs must give the same output and stop
 * at the same place, and the output may only grow by the CRs added to
 * bare LFs. */
#include "lib.h"
#include "pool.h"
#include "buffer.h"
#include "istream.h"
#include "lmtp-proto.h"
#include "transport.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_LINE 256

static void fuzz_check_path(const struct lmtp_address *addr, bool is_mail)
{
	const char *str = lmtp_address_to_string(addr, t_pool());
	struct lmtp_address addr2;
	struct lmtp_mail_params params;
	const char *error;
	int ret = is_mail ?
		lmtp_proto_parse_mail(t_strdup_printf("FROM:<%s>", str), t_pool(), &addr2,
				      &params, &error) :
		lmtp_proto_parse_rcpt(t_strdup_printf("TO:<%s>", str), t_pool(), &addr2, &error);
	/* a quoted local part may exceed the path length once requoted */
	if (ret < 0)
		return;
	if (strcmp(lmtp_address_to_string(&addr2, t_pool()), str) != 0)
		__builtin_trap();
	const char *user, *detail;
	if (addr->localpart != NULL)
		lmtp_address_split_detail(addr->localpart, '+', t_pool(), &user, &detail);
}

static void fuzz_line(const char *line)
{
	const char *args, *error;
	struct lmtp_address addr;
	struct lmtp_mail_params params;
	uint64_t bdat_size;
	bool last;
	switch (lmtp_proto_command_parse(line, &args)) {
	case LMTP_CMD_MAIL:
		if (lmtp_proto_parse_mail(args, t_pool(), &addr, &params, &error) == 0)
			fuzz_check_path(&addr, true);
		else if (error[0] != '5')
			__builtin_trap();
		break;
	case LMTP_CMD_RCPT:
		if (lmtp_proto_parse_rcpt(args, t_pool(), &addr, &error) == 0) {
			if (addr.localpart == NULL)
				__builtin_trap();
			fuzz_check_path(&addr, false);
		}
		break;
	case LMTP_CMD_BDAT:
		(void)lmtp_proto_parse_bdat(args, &bdat_size, &last, &error);
		break;
	case LMTP_CMD_LHLO:
		(void)lmtp_proto_lhlo_name_is_valid(args);
		break;
	default:
		break;
	}
}

static void fuzz_lines(const uint8_t *data, size_t size)
{
	struct transport *t = transport_create_memory(data, size, 7);
	struct istream *input = i_stream_create(t, FUZZ_MAX_LINE + 2);
	struct line_reader *reader = lmtp_line_reader_create(input, FUZZ_MAX_LINE);
	for (;;) {
		const char *line, *error;
		int ret;
		while ((ret = line_reader_read(reader, &line, &error)) != 0) {
			if (ret > 0)
				fuzz_line(line);
		}
		if (i_stream_read(input) == -1)
			break;
	}
	line_reader_destroy(&reader);
	i_stream_destroy(&input);
	transport_destroy(&t);
}

static void fuzz_data(const uint8_t *data, size_t size)
{
	struct lmtp_data_decoder dec1 = { 0 }, dec2 = { 0 };
	buffer_t *out1 = buffer_create(t_pool(), 256), *out2 = buffer_create(t_pool(), 256);
	size_t consumed1, consumed2 = 0, n;
	int ret1 = lmtp_data_decode(&dec1, data, size, &consumed1, out1);
	int ret2 = 0;
	while (consumed2 < size && ret2 == 0) {
		ret2 = lmtp_data_decode(&dec2, data + consumed2, 1, &n, out2);
		consumed2 += n;
	}
	if (ret1 != ret2 || consumed1 != consumed2 || out1->used != out2->used ||
	    memcmp(out1->data, out2->data, out1->used) != 0)
		__builtin_trap();
	/* each consumed LF gives at most one extra CR */
	if (out1->used > 2 * consumed1)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_lines(data, size);
	fuzz_data(data, size);
	t_pool_clear();
	return 0;
}
