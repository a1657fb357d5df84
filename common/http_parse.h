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
	int		 hh_code;	/* a response's status code */
	const char	*hh_phrase;	/* and its reason phrase */
	size_t		 hh_phraselen;
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

/* The same for an upstream's response head; invalid: hh_status 502. */
int	 http_parse_response(const char *buf, size_t len, struct http_head *);

/*
 * Decode %XX and normalize a request path as nginx does: merge slashes,
 * resolve "." and ".." segments.  out must hold len + 1 bytes.  Returns
 * 0, or -1 for a bad escape, an encoded NUL, or ".." above the root.
 */
int	 http_normalize_path(const char *in, size_t len, char *out,
	    size_t *outlen);

/*
 * A chunked body (RFC 9112, 7.1), decoded as it arrives.  Strict: hex
 * sizes of at most 15 digits, CRLF everywhere (a bare LF is invalid),
 * extensions and trailer fields of visible characters only, trailers
 * bounded by HTTP_MAX_TRAILER bytes.
 */
#define HTTP_MAX_TRAILER	8192

struct http_chunked {
	int		 hc_state;
	int		 hc_digits;
	int		 hc_ext;	/* a ';' was seen on the size line */
	int64_t		 hc_size;	/* data left in this chunk */
	size_t		 hc_trailer;	/* trailer bytes so far */
	const char	*hc_reason;	/* when invalid */
};

/*
 * Consume framing and data from p[0..len).  Returns the bytes consumed
 * (0 when len is 0) and sets *data, *dlen to a run of body data inside
 * them (dlen 0 when none), or -1 when invalid.  Call again with the
 * rest; http_chunked_done() says when the body, trailers included, has
 * ended.
 */
ssize_t	 http_chunked_step(struct http_chunked *, const char *p, size_t len,
	    const char **data, size_t *dlen);
int	 http_chunked_done(const struct http_chunked *);

int	 http_is_tchar(int c);
int	 http_token_eq(const char *s, size_t len, const char *lit);

#endif
