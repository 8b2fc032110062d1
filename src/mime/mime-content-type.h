/* Content-Type (RFC 2045 §5) and Content-Disposition (RFC 2183) values:
 * type/subtype, parameters as quoted strings or tokens with RFC 2231
 * continuations and charsets, and the defaults of RFC 2045 §5.2 and
 * RFC 2046 §5.1.5 for a missing or invalid header. Also the small
 * Content-* values: Content-Transfer-Encoding (RFC 2045 §6),
 * Content-Language (RFC 3282). */
#ifndef TERN_MIME_CONTENT_TYPE_H
#define TERN_MIME_CONTENT_TYPE_H

#include "buffer.h"

/* At most this many parameters are kept per header. */
#define MIME_PARAMS_MAX 128

struct mime_param {
	/* as written, without RFC 2231 "*N" / "*" suffixes when they were
	   understood (continuations whose indexes have gaps keep "name*N") */
	const char *name;
	/* the value: quoted-string unescaped; RFC 2231 continuations joined
	   and extended values percent-decoded and converted to UTF-8. Plain
	   values are kept as bytes (8-bit, RFC 2047 words and all), with NULs
	   replaced by U+FFFD. */
	const char *value;
	/* RFC 2231 extended values: charset and language (possibly "");
	   NULL for plain values */
	const char *charset, *language;
	/* the value in RFC 2231 "charset'language'%XX" form (7-bit) when the
	   parameter was extended, else the same as value */
	const char *raw_value;
	bool extended;
};

struct mime_content_type {
	/* as written (compare with mime_content_type_is()); the default
	   type when the header was missing or invalid */
	const char *type, *subtype;
	const struct mime_param *params;
	unsigned int params_count;
	/* no valid header: type/subtype/params are the context's default */
	bool defaulted;
	/* there was a header but it was not valid */
	bool invalid;
};

struct mime_content_disposition {
	/* "inline", "attachment", ... as written; NULL if none or invalid */
	const char *type;
	const struct mime_param *params;
	unsigned int params_count;
};

/* Parses a Content-Type value. On a missing (data == NULL) or invalid
   value, the default of the context is returned: message/rfc822 when
   in_digest (a part of multipart/digest), else text/plain; charset=us-ascii.
   Strings are allocated from pool. Returns 0 if valid, -1 if defaulted. */
int mime_content_type_parse(pool_t pool, const void *data, size_t size,
			    bool in_digest, struct mime_content_type *ct_r);
/* Parses a Content-Disposition value. Returns 0, or -1 if it was invalid
   (type NULL, no params). */
int mime_content_disposition_parse(pool_t pool, const void *data, size_t size,
				   struct mime_content_disposition *cd_r);
/* Parses a ";"-separated parameter list (data starting at the first ';'
   or whitespace before it), merging RFC 2231 continuations. Returns 0, or
   -1 if something was skipped as broken. */
int mime_params_parse(pool_t pool, const void *data, size_t size,
		      const struct mime_param **params_r, unsigned int *count_r);

/* True if the type is type/subtype, compared case-insensitively; a NULL
   subtype matches any. */
bool mime_content_type_is(const struct mime_content_type *ct, const char *type,
			  const char *subtype);
/* The value of parameter name (case-insensitive), or NULL. */
const char *mime_param_get(const struct mime_param *params, unsigned int count,
			   const char *name);

/* Content-Transfer-Encoding: the single token, or NULL if the value is
   not one (callers then use 7bit). Allocated from pool. */
const char *mime_content_transfer_encoding_parse(pool_t pool, const void *data,
						 size_t size);
/* Content-Language: the comma-separated tags, NULL-terminated, or NULL
   if there were none (at most 64 are kept). */
const char *const *mime_content_language_parse(pool_t pool, const void *data,
					       size_t size);

#endif
