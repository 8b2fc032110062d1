/* Streaming, lenient base64 (RFC 2045 §6.8) and quoted-printable
 * (RFC 2045 §6.7) decoders. */
#include "mime-decode.h"
#include "base64.h"

#include <strings.h>

/* Whitespace held back in quoted-printable in case the line ends after it;
   a longer run is let through (it cannot matter for real text). */
#define QP_MAX_PENDING_WS 1024

enum qp_state {
	QP_TEXT,
	QP_WS,     /* whitespace pending: dropped if the line ends */
	QP_CR,     /* CR (after pending whitespace): a line end if LF follows */
	QP_EQ,     /* '=' */
	QP_EQ_HEX, /* '=' and one hex digit */
	QP_EQ_WS,  /* '=' and whitespace: a soft line break if the line ends */
	QP_EQ_CR,  /* '=', whitespace and CR */
};

struct mime_decoder {
	enum mime_encoding encoding;
	bool had_errors;

	uint32_t b64_bits;
	unsigned int b64_count;
	bool b64_done;

	enum qp_state qp_state;
	unsigned char qp_hex;
	unsigned int qp_ws_len;
	unsigned char qp_ws[QP_MAX_PENDING_WS];
};

static const struct {
	const char *name;
	enum mime_encoding encoding;
} mime_encodings[] = {
	{ "7bit", MIME_ENCODING_7BIT },
	{ "8bit", MIME_ENCODING_8BIT },
	{ "binary", MIME_ENCODING_BINARY },
	{ "base64", MIME_ENCODING_BASE64 },
	{ "quoted-printable", MIME_ENCODING_QUOTED_PRINTABLE },
};

enum mime_encoding mime_encoding_from_name(const char *name)
{
	if (name == NULL)
		return MIME_ENCODING_7BIT;
	for (unsigned int i = 0; i < N_ELEMENTS(mime_encodings); i++) {
		if (strcasecmp(name, mime_encodings[i].name) == 0)
			return mime_encodings[i].encoding;
	}
	return MIME_ENCODING_UNKNOWN;
}

const char *mime_encoding_name(enum mime_encoding encoding)
{
	for (unsigned int i = 0; i < N_ELEMENTS(mime_encodings); i++) {
		if (mime_encodings[i].encoding == encoding)
			return mime_encodings[i].name;
	}
	return "unknown";
}

bool mime_encoding_is_identity(enum mime_encoding encoding)
{
	return encoding == MIME_ENCODING_7BIT || encoding == MIME_ENCODING_8BIT ||
		encoding == MIME_ENCODING_BINARY;
}

static void decoder_init(struct mime_decoder *decoder, enum mime_encoding encoding)
{
	decoder->encoding = encoding;
	mime_decoder_reset(decoder);
}

struct mime_decoder *mime_decoder_create(enum mime_encoding encoding)
{
	struct mime_decoder *decoder = i_new(struct mime_decoder, 1);

	decoder_init(decoder, encoding);
	return decoder;
}

void mime_decoder_destroy(struct mime_decoder **_decoder)
{
	if (*_decoder == NULL)
		return;
	i_free(*_decoder);
}

void mime_decoder_reset(struct mime_decoder *decoder)
{
	decoder->had_errors = false;
	decoder->b64_bits = 0;
	decoder->b64_count = 0;
	decoder->b64_done = false;
	decoder->qp_state = QP_TEXT;
	decoder->qp_ws_len = 0;
}

bool mime_decoder_had_errors(const struct mime_decoder *decoder)
{
	return decoder->had_errors;
}

/* ---- base64 ---- */

static bool is_b64_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

/* Emits the bytes of an incomplete quantum (2 or 3 characters). */
static void b64_flush_partial(struct mime_decoder *decoder, buffer_t *dest)
{
	if (decoder->b64_count == 2)
		buffer_append_c(dest, (unsigned char)(decoder->b64_bits >> 4));
	else if (decoder->b64_count == 3) {
		buffer_append_c(dest, (unsigned char)(decoder->b64_bits >> 10));
		buffer_append_c(dest, (unsigned char)(decoder->b64_bits >> 2));
	} else if (decoder->b64_count == 1) {
		/* 6 bits make no byte */
		decoder->had_errors = true;
	}
	decoder->b64_count = 0;
	decoder->b64_bits = 0;
}

static void b64_decode(struct mime_decoder *decoder, const unsigned char *data,
		       size_t size, buffer_t *dest)
{
	for (size_t i = 0; i < size; i++) {
		unsigned char c = data[i];
		int v;

		if (decoder->b64_done) {
			if (c != '=' && !is_b64_space(c))
				decoder->had_errors = true;
			continue;
		}
		if ((v = base64_char_value(c)) >= 0) {
			decoder->b64_bits = decoder->b64_bits << 6 | (uint32_t)v;
			if (++decoder->b64_count == 4) {
				unsigned char *out = buffer_append_space(dest, 3);
				out[0] = (unsigned char)(decoder->b64_bits >> 16);
				out[1] = (unsigned char)(decoder->b64_bits >> 8);
				out[2] = (unsigned char)decoder->b64_bits;
				decoder->b64_count = 0;
				decoder->b64_bits = 0;
			}
		} else if (c == '=') {
			if (decoder->b64_count < 2)
				decoder->had_errors = true;
			b64_flush_partial(decoder, dest);
			decoder->b64_done = true;
		} else if (!is_b64_space(c)) {
			decoder->had_errors = true;
		}
	}
}

/* ---- quoted-printable ---- */

static unsigned int qp_hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	/* lowercase is not RFC 2045 but harmless to accept */
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return 16;
}

static bool qp_is_special(unsigned char c)
{
	return c == '=' || c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void qp_flush_ws(struct mime_decoder *decoder, buffer_t *dest)
{
	buffer_append(dest, decoder->qp_ws, decoder->qp_ws_len);
	decoder->qp_ws_len = 0;
}

static void qp_push_ws(struct mime_decoder *decoder, unsigned char c, buffer_t *dest)
{
	if (decoder->qp_ws_len == QP_MAX_PENDING_WS)
		qp_flush_ws(decoder, dest);
	decoder->qp_ws[decoder->qp_ws_len++] = c;
}

/* A malformed escape: its bytes stay as text. */
static void qp_invalid(struct mime_decoder *decoder, buffer_t *dest, bool cr)
{
	buffer_append_c(dest, '=');
	if (decoder->qp_state == QP_EQ_HEX)
		buffer_append_c(dest, decoder->qp_hex);
	qp_flush_ws(decoder, dest);
	if (cr)
		buffer_append_c(dest, '\r');
	decoder->had_errors = true;
	decoder->qp_state = QP_TEXT;
}

/* Handles c in the current state. Returns false if c must be handled
   again in the (new) state. */
static bool qp_byte(struct mime_decoder *decoder, unsigned char c, buffer_t *dest)
{
	bool ws = c == ' ' || c == '\t';

	switch (decoder->qp_state) {
	case QP_TEXT:
		if (c == '=')
			decoder->qp_state = QP_EQ;
		else if (ws) {
			decoder->qp_state = QP_WS;
			qp_push_ws(decoder, c, dest);
		} else if (c == '\r')
			decoder->qp_state = QP_CR;
		else
			buffer_append_c(dest, c);
		return true;
	case QP_WS:
		if (ws)
			qp_push_ws(decoder, c, dest);
		else if (c == '\r')
			decoder->qp_state = QP_CR;
		else if (c == '\n') {
			/* rule 3: trailing whitespace was added in transport */
			decoder->qp_ws_len = 0;
			buffer_append_c(dest, '\n');
			decoder->qp_state = QP_TEXT;
		} else {
			qp_flush_ws(decoder, dest);
			decoder->qp_state = QP_TEXT;
			return false;
		}
		return true;
	case QP_CR:
		if (c == '\n') {
			decoder->qp_ws_len = 0;
			buffer_append(dest, "\r\n", 2);
			decoder->qp_state = QP_TEXT;
			return true;
		}
		/* a lone CR is not allowed in quoted-printable: keep it */
		qp_flush_ws(decoder, dest);
		buffer_append_c(dest, '\r');
		decoder->had_errors = true;
		decoder->qp_state = QP_TEXT;
		return false;
	case QP_EQ:
		if (qp_hex_value(c) < 16) {
			decoder->qp_hex = c;
			decoder->qp_state = QP_EQ_HEX;
		} else if (ws) {
			decoder->qp_state = QP_EQ_WS;
			decoder->qp_ws[decoder->qp_ws_len++] = c;
		} else if (c == '\r')
			decoder->qp_state = QP_EQ_CR;
		else if (c == '\n')
			decoder->qp_state = QP_TEXT; /* soft line break */
		else {
			qp_invalid(decoder, dest, false);
			return false;
		}
		return true;
	case QP_EQ_HEX:
		if (qp_hex_value(c) < 16) {
			buffer_append_c(dest, (unsigned char)(qp_hex_value(decoder->qp_hex) * 16 +
							      qp_hex_value(c)));
			decoder->qp_state = QP_TEXT;
			return true;
		}
		qp_invalid(decoder, dest, false);
		return false;
	case QP_EQ_WS:
		if (ws && decoder->qp_ws_len < QP_MAX_PENDING_WS)
			decoder->qp_ws[decoder->qp_ws_len++] = c;
		else if (c == '\r')
			decoder->qp_state = QP_EQ_CR;
		else if (c == '\n') {
			decoder->qp_ws_len = 0;
			decoder->qp_state = QP_TEXT;
		} else {
			qp_invalid(decoder, dest, false);
			return false;
		}
		return true;
	case QP_EQ_CR:
		if (c == '\n') {
			decoder->qp_ws_len = 0;
			decoder->qp_state = QP_TEXT;
			return true;
		}
		qp_invalid(decoder, dest, true);
		return false;
	}
	i_unreached();
}

static void qp_decode(struct mime_decoder *decoder, const unsigned char *data,
		      size_t size, buffer_t *dest)
{
	size_t i = 0;

	while (i < size) {
		if (decoder->qp_state == QP_TEXT && !qp_is_special(data[i])) {
			size_t start = i;
			while (i < size && !qp_is_special(data[i]))
				i++;
			buffer_append(dest, data + start, i - start);
			continue;
		}
		if (qp_byte(decoder, data[i], dest))
			i++;
	}
}

static void qp_finish(struct mime_decoder *decoder, buffer_t *dest)
{
	switch (decoder->qp_state) {
	case QP_TEXT:
	case QP_EQ:    /* a final soft line break */
	case QP_EQ_WS:
	case QP_EQ_CR:
		break;
	case QP_WS:
		/* the end of input ends the line */
		break;
	case QP_CR:
		qp_flush_ws(decoder, dest);
		buffer_append_c(dest, '\r');
		decoder->had_errors = true;
		break;
	case QP_EQ_HEX:
		qp_invalid(decoder, dest, false);
		break;
	}
	decoder->qp_ws_len = 0;
	decoder->qp_state = QP_TEXT;
}

void mime_decoder_decode(struct mime_decoder *decoder, const void *data, size_t size,
			 buffer_t *dest)
{
	switch (decoder->encoding) {
	case MIME_ENCODING_BASE64:
		b64_decode(decoder, data, size, dest);
		break;
	case MIME_ENCODING_QUOTED_PRINTABLE:
		qp_decode(decoder, data, size, dest);
		break;
	default:
		buffer_append(dest, data, size);
		break;
	}
}

int mime_decoder_finish(struct mime_decoder *decoder, buffer_t *dest)
{
	if (decoder->encoding == MIME_ENCODING_BASE64) {
		if (!decoder->b64_done && decoder->b64_count > 0) {
			/* RFC 2045 §6.8 requires the padding */
			decoder->had_errors = true;
			b64_flush_partial(decoder, dest);
		}
	} else if (decoder->encoding == MIME_ENCODING_QUOTED_PRINTABLE) {
		qp_finish(decoder, dest);
	}
	return decoder->had_errors ? -1 : 0;
}

int mime_decode(enum mime_encoding encoding, const void *data, size_t size,
		buffer_t *dest)
{
	struct mime_decoder decoder;

	decoder_init(&decoder, encoding);
	mime_decoder_decode(&decoder, data, size, dest);
	return mime_decoder_finish(&decoder, dest);
}
