/*
 * http_cond.h: the pure parts of conditional and partial requests:
 * HTTP dates, entity tags, "Range: bytes=".  No I/O, no request state.
 */
#ifndef PORTICO_HTTP_COND_H
#define PORTICO_HTTP_COND_H

#include "core.h"

#include <time.h>

/* one of the three HTTP date forms (RFC 9110, 5.6.7); -1 if invalid */
time_t	 http_cond_parse_date(const char *, size_t len);

/* "Sun, 06 Nov 1994 08:49:37 GMT" into out (at least 30 bytes) */
size_t	 http_cond_format_date(time_t, char *out, size_t len);

/* nginx's entity tag of a file: "<mtime hex>-<size hex>", quoted */
size_t	 http_cond_etag(time_t mtime, int64_t size, char *out, size_t len);

/*
 * Does the If-Match / If-None-Match list match etag?  "*" matches any;
 * with weak, "W/" before a tag is ignored (If-None-Match).
 */
int	 http_cond_etag_match(const char *list, size_t len, const char *etag,
	    int weak);

struct http_range {
	int64_t		 hr_start;
	int64_t		 hr_end;	/* one past the last byte */
};

/*
 * "bytes=..." against a body of size bytes, as nginx reads it.  Returns
 * 206 with the *n (1..max) satisfiable ranges in out, 416 when none is,
 * and 200 when the header is to be ignored (not "bytes=", more than max
 * ranges, or ranges that overlap beyond the size).
 */
int	 http_cond_parse_ranges(const char *, size_t len, int64_t size,
	    struct http_range *out, int max, int *n);

/* the same for one range: [*start, *end); several are 200 */
int	 http_cond_parse_range(const char *, size_t len, int64_t size,
	    int64_t *start, int64_t *end);

#endif
