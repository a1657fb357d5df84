/*
 * http_parse.h: the HTTP/1.1 request head parser (RFC 9112), strict and
 * zero-copy: the result points into the caller's buffer.
 */
#ifndef PORTICO_HTTP_PARSE_H
#define PORTICO_HTTP_PARSE_H

#include "core.h"

#define HTTP_MAX_HEADERS	100

struct http_header {
	const char	*h_name;
	size_t		 h_namelen;
	const char	*h_value;
	size_t		 h_valuelen;
};

struct http_head {
	const char	*hh_method;
	size_t		 hh_methodlen;
	const char	*hh_target;
	size_t		 hh_targetlen;
	int		 hh_version;	/* 10 or 11 */
	struct http_header hh_headers[HTTP_MAX_HEADERS];
	int		 hh_nheaders;
	int		 hh_status;	/* when invalid: 400, 414, 431, 505 */
	const char	*hh_reason;	/* when invalid: for the error log */
};

/*
 * Find the end of a request head in buf[0..len).  *scan keeps the
 * position between calls so bytes are looked at once.  Returns the head
 * length, -2 when more is needed, -1 for a bare LF.
 */
int	 http_head_end(const char *buf, size_t len, size_t *scan);

/* Parse a complete head (as found by http_head_end): >0, or -1. */
int	 http_parse_request(const char *buf, size_t len, struct http_head *);

/*
 * Decode %XX and normalize a request path as nginx does: merge slashes,
 * resolve "." and ".." segments.  out must hold len + 1 bytes.  Returns
 * 0, or -1 for a bad escape, an encoded NUL, or ".." above the root.
 */
int	 http_normalize_path(const char *in, size_t len, char *out,
	    size_t *outlen);

int	 http_is_tchar(int c);
int	 http_token_eq(const char *s, size_t len, const char *lit);

#endif
