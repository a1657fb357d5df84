/*
 * http.c: request semantics after parsing (Host, framing, keep-alive),
 * routing to a server and location, and the responses portico makes
 * itself ("return", error pages).
 */
#include "core.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <strings.h>

#include "clock.h"
#include "conn.h"
#include "log.h"
#include "http_proxy.h"
#include "http_rewrite.h"
#include "http_var.h"
#include "tls.h"

struct status_text {
	int		 st_code;
	const char	*st_text;
};

static const struct status_text statuses[] = {
	{ 200, "OK" }, { 201, "Created" }, { 202, "Accepted" },
	{ 204, "No Content" }, { 206, "Partial Content" },
	{ 301, "Moved Permanently" }, { 302, "Moved Temporarily" },
	{ 303, "See Other" }, { 304, "Not Modified" },
	{ 307, "Temporary Redirect" }, { 308, "Permanent Redirect" },
	{ 400, "Bad Request" }, { 401, "Unauthorized" },
	{ 402, "Payment Required" }, { 403, "Forbidden" },
	{ 404, "Not Found" }, { 405, "Not Allowed" },
	{ 406, "Not Acceptable" }, { 408, "Request Time-out" },
	{ 409, "Conflict" }, { 410, "Gone" }, { 411, "Length Required" },
	{ 412, "Precondition Failed" },
	{ 413, "Request Entity Too Large" }, { 414, "Request-URI Too Large" },
	{ 415, "Unsupported Media Type" },
	{ 416, "Requested Range Not Satisfiable" },
	{ 421, "Misdirected Request" }, { 429, "Too Many Requests" },
	{ 431, "Request Header Fields Too Large" },
	{ 500, "Internal Server Error" }, { 501, "Not Implemented" },
	{ 502, "Bad Gateway" }, { 503, "Service Temporarily Unavailable" },
	{ 504, "Gateway Time-out" }, { 505, "HTTP Version Not Supported" },
	{ 507, "Insufficient Storage" },
};

static const char *
status_text(int code)
{
	size_t i;

	for (i = 0; i < nitems(statuses); i++)
		if (statuses[i].st_code == code)
			return statuses[i].st_text;
	return NULL;
}

/* 495-497: nginx's codes for TLS errors, answered as 400 */
static const char *
tls_status_detail(int code)
{
	switch (code) {
	case 495:
		return "The SSL certificate error";
	case 496:
		return "No required SSL certificate was sent";
	case 497:
		return "The plain HTTP request was sent to HTTPS port";
	}
	return NULL;
}

static int
is_redirect(int code)
{
	return code == 301 || code == 302 || code == 303 || code == 307 ||
	    code == 308;
}

/*
 * A request zeroed but for its header array, two thirds of it: only the
 * hh_nheaders first entries are ever read, and the parser sets those.
 */
void
http_req_clear(struct http_req *r)
{
	char *p = (char *)r;
	size_t a = offsetof(struct http_req, r_head.hh_headers);
	size_t b = a + sizeof(r->r_head.hh_headers);

	memset(p, 0, a);
	memset(p + b, 0, sizeof(*r) - b);
}

/*
 * The request target without the scheme and host of an absolute form
 * ("http://host/p?q" gives "/p?q", "http://host?q" gives "?q" and
 * "http://host" nothing): what $request_uri and proxy_pass pass on
 */
const char *
http_target_origin(const struct http_req *r, size_t *len)
{
	const char *t = r->r_head.hh_target;
	size_t n = r->r_head.hh_targetlen, skip;

	*len = n;
	if (n <= 7 || strncasecmp(t, "http://", 7) != 0)
		return t;
	skip = MIN(n, 7 + strcspn(t + 7, "/?"));
	*len = n - skip;
	return t + skip;
}

void
http_req_reset(struct conn *c)
{
	struct http_req *r = &c->c_req;

	http_static_reset(c);
	/* tcp_nodelay off held for this answer: on before the next write */
	if (c->c_nodelay == -1)
		c->c_nodelay = 0;
	buf_put(r->r_headbuf);
	http_req_clear(r);
	c->c_scan = 0;
	buf_put(c->c_scratch);
	c->c_scratch = NULL;
	buf_put(c->c_redirect);
	c->c_redirect = NULL;
}

/*
 * The request head moves to a buffer of its own before c_in is read
 * into again for the body, so that everything pointing into it ($request
 * in the access log, the headers a proxy sends) stays valid.  0 or -1.
 */
int
http_head_detach(struct conn *c)
{
	struct http_req *r = &c->c_req;
	struct http_head *h = &r->r_head;
	const char *lo = r->r_head0, *hi = r->r_head0 + r->r_headlen;
	ptrdiff_t d;
	int i;

#define MOVE(p) do {							\
	if ((p) != NULL && (p) >= lo && (p) < hi)			\
		(p) += d;						\
} while (0)
	if (r->r_headbuf != NULL || lo == NULL)
		return 0;
	if ((r->r_headbuf = buf_get(c->c_in->b_end - c->c_in->b_start)) == NULL)
		return -1;
	memcpy(r->r_headbuf->b_start, lo, r->r_headlen);
	d = r->r_headbuf->b_start - lo;
	MOVE(h->hh_method);
	MOVE(h->hh_target);
	for (i = 0; i < h->hh_nheaders; i++) {
		MOVE(h->hh_headers[i].h_name);
		MOVE(h->hh_headers[i].h_value);
	}
	MOVE(r->r_host);
	MOVE(r->r_path);
	MOVE(r->r_args);
	r->r_head0 = r->r_headbuf->b_start;
#undef MOVE
	return 0;
}

/* append to the output buffer; -1 when it does not fit */
static int
out_add(struct buf *b, const char *s, size_t len)
{
	if ((size_t)(b->b_end - b->b_last) < len)
		return -1;
	memcpy(b->b_last, s, len);
	b->b_last += len;
	return 0;
}

/* the head's fields are written without printf: it is on every answer */
static int
out_str(struct buf *b, const char *s)
{
	return out_add(b, s, strlen(s));
}

static int
out_num(struct buf *b, uint64_t n)
{
	char d[24], *p = d + sizeof(d);

	do
		*--p = '0' + n % 10;
	while ((n /= 10) != 0);
	return out_add(b, p, d + sizeof(d) - p);
}

static int
out_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
out_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	int n = vsnprintf(b->b_last, b->b_end - b->b_last, fmt, ap);

	if (n < 0 || n >= b->b_end - b->b_last)
		return -1;
	b->b_last += n;
	return 0;
}

static int
out_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = out_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

int
http_keepalive_ok(struct conn *c)
{
	struct http_req *r = &c->c_req;
	const struct conf_loc *l = r->r_loc;

	if (!r->r_keepalive || worker_stopping)
		return 0;
	if (l != NULL && (l->lc_keepalive_timeout == 0 ||
	    c->c_requests + 1 >= (uint64_t)l->lc_keepalive_requests))
		return 0;
	return 1;
}

/* status line, Server, Date; after "100 Continue" when it is owed */
int
http_head_open(struct conn *c, int status)
{
	struct http_req *r = &c->c_req;
	const struct conf_loc *l = r->r_loc;
	const char *text;
	int tokens = l != NULL ? l->lc_server_tokens : 1;
	struct buf *b;

	/* a file served as an error page goes with the error's status */
	if (r->r_err_status != 0 && status == 200)
		status = r->r_err_status;
	text = status_text(status);
	r->r_status = status;
	r->r_keepalive = http_keepalive_ok(c);
	if (c->c_out == NULL && (c->c_out = buf_get(CONN_OUTBUF)) == NULL)
		return -1;
	b = c->c_out;
	b->b_pos = b->b_last = b->b_start;
	/* the client waits for this before it sends the body */
	if (r->r_continue && out_add(b, "HTTP/1.1 100 Continue\r\n\r\n", 25) ==
	    -1)
		return -1;
	return out_add(b, "HTTP/1.1 ", 9) == -1 || out_num(b, status) == -1 ||
	    out_add(b, " ", 1) == -1 || out_str(b, text ? text : "") == -1 ||
	    out_add(b, "\r\nServer: ", 10) == -1 ||
	    out_str(b, tokens ? PORTICO_VER : PORTICO_NAME) == -1 ||
	    out_add(b, "\r\nDate: ", 8) == -1 ||
	    out_str(b, clock_http_date()) == -1 ||
	    out_add(b, "\r\n", 2) == -1 ? -1 : 0;
}

int
http_head_printf(struct conn *c, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = out_vprintf(c->c_out, fmt, ap);
	va_end(ap);
	return rc;
}

/* the headers every response gets, and the end of the head */
int
http_head_close(struct conn *c)
{
	struct http_req *r = &c->c_req;
	const struct conf_loc *l = r->r_loc;
	struct buf *b = c->c_out;

	if (http_static_headers(c, b, r->r_status) == -1)
		return -1;
	if (r->r_keepalive) {
		if (out_add(b, "Connection: keep-alive\r\n", 24) == -1)
			return -1;
		if (l != NULL && l->lc_keepalive_header > 0 &&
		    out_printf(b, "Keep-Alive: timeout=%lld\r\n",
		    (long long)(l->lc_keepalive_header / 1000)) == -1)
			return -1;
	} else if (out_add(b, "Connection: close\r\n", 19) == -1)
		return -1;
	if (out_add(b, "\r\n", 2) == -1)
		return -1;
	r->r_headout = b->b_last - b->b_start;
	return 0;
}

/*
 * Build the whole response in c_out: status line, headers, body.
 * body may be NULL (then the standard page for status is used when
 * the status is an error or redirect).
 */
static int
respond(struct conn *c, int status, const char *ctype,
    const struct var_tpl *body_tpl, const char *location, size_t loclen)
{
	struct http_req *r = &c->c_req;
	const struct conf_loc *l = r->r_loc;
	struct buf *b, *body;
	const char *text, *title, *detail;
	int tokens = l != NULL ? l->lc_server_tokens : 1;
	size_t blen = 0;
	char page[1024];

	/* the answer to an error page carries the error's status */
	if (r->r_err_status != 0)
		status = r->r_err_status;
	/* nginx's TLS errors are 400s with a line of their own */
	if ((detail = tls_status_detail(status)) != NULL)
		status = 400;
	text = status_text(status);
	/* nginx's page says "Found" where its status line does not */
	title = status == 302 ? "Found" : text;
	if (http_head_open(c, status) == -1)
		return -1;
	b = c->c_out;
	/* the body first goes to the tail half, then moves behind the head */
	body = NULL;
	if (body_tpl != NULL) {
		static struct buf tail;

		tail.b_start = tail.b_pos = tail.b_last = b->b_start +
		    CONN_OUTBUF / 2;
		tail.b_end = b->b_end;
		body = &tail;
		if (http_var_render(c, body_tpl, body, VAR_ESC_NONE, 0) == -1)
			return -1;
		blen = body->b_last - body->b_pos;
	} else if (status >= 300 && status != 304 && text != NULL) {
		int n = snprintf(page, sizeof(page),
		    "<html>\r\n<head><title>%d %s</title></head>\r\n<body>\r\n"
		    "<center><h1>%d %s</h1></center>\r\n%s%s%s<hr><center>%s"
		    "</center>\r\n</body>\r\n</html>\r\n", status, detail ? detail :
		    title, status, title, detail ? "<center>" : "", detail ?
		    detail : "", detail ? "</center>\r\n" : "",
		    tokens ? PORTICO_VER : PORTICO_NAME);

		blen = n;
		ctype = "text/html";
	}
	if (ctype != NULL && (blen > 0 || body_tpl != NULL) &&
	    (out_add(b, "Content-Type: ", 14) == -1 || out_str(b, ctype) == -1 ||
	    out_add(b, "\r\n", 2) == -1))
		return -1;
	if (status != 204 && status != 304 &&
	    (out_add(b, "Content-Length: ", 16) == -1 || out_num(b, blen) == -1 ||
	    out_add(b, "\r\n", 2) == -1))
		return -1;
	if (location != NULL) {
		char origin[512];
		size_t ol;

		if (out_add(b, "Location: ", 10) == -1)
			return -1;
		/* as nginx: a path becomes an absolute URL (absolute_redirect) */
		if (loclen > 0 && location[0] == '/' && l != NULL &&
		    l->lc_absolute_redirect) {
			ol = http_static_origin(c, origin, sizeof(origin));
			if (ol == SIZE_MAX || out_add(b, origin, ol) == -1)
				return -1;
		}
		if (out_add(b, location, loclen) == -1 ||
		    out_add(b, "\r\n", 2) == -1)
			return -1;
	}
	if (http_head_close(c) == -1)
		return -1;
	if (r->r_head_only || status == 204 || status == 304)
		return 0;
	if (body != NULL) {
		if (b->b_last > body->b_pos)
			return -1;	/* the head ran into the body */
		memmove(b->b_last, body->b_pos, blen);
		b->b_last += blen;
	} else if (blen > 0 && out_add(b, page, blen) == -1)
		return -1;
	return 0;
}

/*
 * Drop the request body that is in c_in: 1 when the whole body has been
 * read, 0 when more is to come, -1 for bad chunked framing.
 */
int
http_body_discard(struct conn *c)
{
	struct http_req *r = &c->c_req;
	struct buf *b = c->c_in;
	const char *data;
	size_t have, dlen;
	ssize_t n;

	if (!r->r_has_body)
		return 1;
	if (!r->r_chunked) {
		have = b->b_last - b->b_pos;
		if ((int64_t)have > r->r_body_left)
			have = r->r_body_left;
		b->b_pos += have;
		r->r_length += have;
		r->r_body_left -= have;
		if (r->r_body_left > 0)
			return 0;
		r->r_has_body = 0;
		return 1;
	}
	while (b->b_pos < b->b_last) {
		n = http_chunked_step(&r->r_chunk, b->b_pos,
		    b->b_last - b->b_pos, &data, &dlen);
		if (n == -1)
			return -1;
		b->b_pos += n;
		r->r_length += n;
		if (http_chunked_done(&r->r_chunk)) {
			r->r_has_body = 0;
			return 1;
		}
	}
	return 0;
}

/* an error answer; the connection closes after it */
int
http_error(struct conn *c, int status, const char *reason)
{
	struct http_req *r = &c->c_req;

	if (reason != NULL)
		conn_log(c, LOG_INFO, "%s", reason);
	r->r_keepalive = 0;
	/* an error decides keep-alive: respond() must not turn it on */
	if (respond(c, status, NULL, NULL, NULL, 0) == -1) {
		if (c->c_out != NULL)
			c->c_out->b_pos = c->c_out->b_last = c->c_out->b_start;
		return -1;
	}
	return 0;
}

static int
http_fail(struct conn *c, int status, const char *reason)
{
	if (http_error(c, status, reason) == -1)
		return CS_CLOSE;
	return CS_SEND;
}

/* Host: "name[:port]"; the name is lowercased in place */
static int
parse_host(struct http_req *r, char *h, size_t len)
{
	size_t i, end = len;

	if (len == 0)
		return 0;
	if (h[0] == '[') {
		char *rb = memchr(h, ']', len);

		if (rb == NULL)
			return -1;
		end = rb - h + 1;
	} else {
		for (i = 0; i < len; i++)
			if (h[i] == ':') {
				end = i;
				break;
			}
	}
	for (i = end; i < len; i++)
		if (i == end ? h[i] != ':' : !isdigit((unsigned char)h[i]))
			return -1;
	for (i = 0; i < end; i++) {
		unsigned char ch = h[i];

		if (ch == '/' || ch == '\\' || ch < 0x21 || ch == 0x7f ||
		    (ch == '.' && i > 0 && h[i - 1] == '.'))
			return -1;
		h[i] = tolower(ch);
	}
	/* a trailing dot names the same host */
	if (end > 0 && h[end - 1] == '.')
		end--;
	r->r_host = h;
	r->r_hostlen = end;
	return 0;
}

static int
parse_content_length(const char *v, size_t len, int64_t *out)
{
	int64_t n = 0;
	size_t i;

	if (len == 0 || len > 18)
		return -1;
	for (i = 0; i < len; i++) {
		if (!isdigit((unsigned char)v[i]))
			return -1;
		n = n * 10 + (v[i] - '0');
	}
	*out = n;
	return 0;
}

/* "close", "keep-alive" in a comma list */
static void
parse_connection(struct http_req *r, const char *v, size_t len, int *close,
    int *keep)
{
	const char *p = v, *end = v + len, *s;

	while (p < end) {
		while (p < end && (*p == ' ' || *p == '\t' || *p == ','))
			p++;
		s = p;
		while (p < end && *p != ',' && *p != ' ' && *p != '\t')
			p++;
		if (http_token_eq(s, p - s, "close"))
			*close = 1;
		else if (http_token_eq(s, p - s, "keep-alive"))
			*keep = 1;
	}
}

static int
check_headers(struct conn *c)
{
	struct http_req *r = &c->c_req;
	struct http_head *h = &r->r_head;
	const struct http_header *host = NULL, *te = NULL;
	int i, has_cl = 0, has_te = 0, conn_close = 0, conn_keep = 0;

	for (i = 0; i < h->hh_nheaders; i++) {
		const struct http_header *hd = &h->hh_headers[i];

		if (http_token_eq(hd->h_name, hd->h_namelen, "host")) {
			if (host != NULL)
				return http_fail(c, 400, "client sent "
				    "duplicate host header");
			host = hd;
		} else if (http_token_eq(hd->h_name, hd->h_namelen,
		    "content-length")) {
			if (has_cl++)
				return http_fail(c, 400, "client sent "
				    "duplicate Content-Length header");
			r->r_has_clen = 1;
			if (parse_content_length(hd->h_value, hd->h_valuelen,
			    &r->r_body_left) == -1)
				return http_fail(c, 400, "client sent invalid "
				    "\"Content-Length\" header");
		} else if (http_token_eq(hd->h_name, hd->h_namelen,
		    "transfer-encoding")) {
			has_te++;
			te = hd;
		} else if (http_token_eq(hd->h_name, hd->h_namelen,
		    "expect")) {
			r->r_expect = http_token_eq(hd->h_value, hd->h_valuelen,
			    "100-continue");
		} else if (http_token_eq(hd->h_name, hd->h_namelen,
		    "connection")) {
			parse_connection(r, hd->h_value, hd->h_valuelen,
			    &conn_close, &conn_keep);
		}
	}
	if (has_te && has_cl)
		return http_fail(c, 400, "client sent \"Content-Length\" and "
		    "\"Transfer-Encoding\" headers at the same time");
	if (has_te) {
		if (h->hh_version == 10)
			return http_fail(c, 400, "client sent "
			    "\"Transfer-Encoding\" in an HTTP/1.0 request");
		/* as nginx: "chunked" alone; any other coding is 501 */
		if (has_te > 1 || !http_token_eq(te->h_value, te->h_valuelen,
		    "chunked"))
			return http_fail(c, 501, "client sent unknown "
			    "\"Transfer-Encoding\"");
		r->r_chunked = 1;
		r->r_has_body = 1;
	}
	if (r->r_body_left > 0)
		r->r_has_body = 1;
	if (host == NULL && h->hh_version == 11 && r->r_hostlen == 0)
		return http_fail(c, 400, "client sent HTTP/1.1 request "
		    "without \"Host\" header");
	if (host != NULL && r->r_hostlen == 0 &&
	    parse_host(r, (char *)host->h_value, host->h_valuelen) == -1)
		return http_fail(c, 400, "client sent invalid host header");
	r->r_keepalive = h->hh_version == 11 ? !conn_close :
	    (conn_keep && !conn_close);
	r->r_client_close = !r->r_keepalive;
	return 0;
}

/*
 * $uri is the decoded, normalized path ($request_uri stays as sent).  The
 * common case, a path with no '%', no "//" and no "/.", is used in place.
 */
static int
normalize_path(struct conn *c)
{
	struct http_req *r = &c->c_req;
	const char *p = r->r_path;
	size_t len = r->r_pathlen, i, outlen;

	for (i = 0; i < len; i++)
		if (p[i] == '%' || (p[i] == '/' && i + 1 < len &&
		    (p[i + 1] == '/' || p[i + 1] == '.')))
			break;
	if (i == len)
		return 0;
	/* as large as the head buffer: the path is part of the head */
	if (c->c_scratch == NULL && (c->c_scratch =
	    buf_get(c->c_in->b_end - c->c_in->b_start)) == NULL)
		return -1;
	if (len + 1 > (size_t)(c->c_scratch->b_end - c->c_scratch->b_start))
		return -1;
	if (http_normalize_path(p, len, c->c_scratch->b_start, &outlen) == -1)
		return -1;
	r->r_path = c->c_scratch->b_start;
	r->r_pathlen = outlen;
	return 0;
}

/* origin-form "/path?args", absolute-form "http://host/path", "*" */
static int
parse_target(struct conn *c)
{
	struct http_req *r = &c->c_req;
	char *t = (char *)r->r_head.hh_target;
	size_t len = r->r_head.hh_targetlen;
	char *q;

	/* a fragment is never sent (RFC 9112, 3.2) */
	if (memchr(t, '#', len) != NULL)
		return -1;
	if (len > 7 && strncasecmp(t, "http://", 7) == 0) {
		size_t hl = strcspn(t + 7, "/?");

		if (hl > len - 7)
			hl = len - 7;
		if (hl == 0 || parse_host(r, t + 7, hl) == -1)
			return -1;
		if (hl == len - 7 || t[7 + hl] == '?') {
			/* "http://host" and "http://host?q": the path is "/" */
			r->r_path = "/";
			r->r_pathlen = 1;
			if (hl < len - 7) {
				r->r_args = t + 7 + hl + 1;
				r->r_argslen = len - 7 - hl - 1;
			}
			return 0;
		}
		len -= 7 + hl;
		t += 7 + hl;
	} else if (len == 1 && t[0] == '*') {
		r->r_path = "*";
		r->r_pathlen = 1;
		return 0;
	} else if (t[0] != '/')
		return -1;
	q = memchr(t, '?', len);
	r->r_path = t;
	r->r_pathlen = q ? (size_t)(q - t) : len;
	if (q != NULL) {
		r->r_args = q + 1;
		r->r_argslen = len - (q + 1 - t);
	}
	return normalize_path(c);
}

/*
 * Before portico answers a request itself: what of the body is here is
 * checked now (bad framing is a 400), and a client that waits for
 * "100 Continue" gets it in front of the answer.  Proxying does not come
 * here: the body goes to the upstream.  0, or the next state.
 */
static int
body_precheck(struct conn *c)
{
	struct http_req *r = &c->c_req;
	int rc;

	if (!r->r_has_body || r->r_body_checked)
		return 0;
	r->r_body_checked = 1;
	if ((rc = http_body_discard(c)) == -1)
		return http_fail(c, 400, r->r_chunk.hc_reason);
	/* only a body that will be read is asked for (not before a 413) */
	if (rc == 0 && r->r_expect && r->r_head.hh_version == 11 &&
	    r->r_keepalive)
		r->r_continue = 1;
	return 0;
}

/* the per-request memory: URIs of redirects and rewrites, variables */
void *
http_work_alloc(struct conn *c, size_t size)
{
	struct buf *b;
	size_t pad;
	char *p;

	if (c->c_redirect == NULL &&
	    (c->c_redirect = buf_get(HTTP_WORK_BUF)) == NULL)
		return NULL;
	b = c->c_redirect;
	pad = (8 - ((uintptr_t)b->b_last & 7)) & 7;
	if ((size_t)(b->b_end - b->b_last) < pad + size)
		return NULL;
	p = b->b_last + pad;
	b->b_last = p + size;
	memset(p, 0, size);
	return p;
}

/* tail: the free rest of the memory, to append to, then http_work_end() */
int
http_work_begin(struct conn *c, struct buf *tail)
{
	if (c->c_redirect == NULL &&
	    (c->c_redirect = buf_get(HTTP_WORK_BUF)) == NULL)
		return -1;
	tail->b_start = tail->b_pos = tail->b_last = c->c_redirect->b_last;
	tail->b_end = c->c_redirect->b_end;
	tail->b_next = NULL;
	return 0;
}

int
http_work_put(struct buf *tail, const char *s, size_t len)
{
	return out_add(tail, s, len);
}

/* keep what was appended, NUL-terminated; NULL when it did not fit */
char *
http_work_end(struct conn *c, struct buf *tail, size_t *len)
{
	if (tail->b_last >= tail->b_end)
		return NULL;
	*tail->b_last = '\0';
	*len = tail->b_last - tail->b_start;
	c->c_redirect->b_last = tail->b_last + 1;
	return tail->b_start;
}

char *
http_work_render(struct conn *c, const struct var_tpl *t, size_t *len)
{
	struct buf tail;

	http_rewrite_prepare(c, t);
	if (http_work_begin(c, &tail) == -1 ||
	    http_var_render_raw(c, t, &tail, VAR_ESC_NONE, 0) == -1)
		return NULL;
	return http_work_end(c, &tail, len);
}

static int
plain_page(struct conn *c, int status)
{
	struct http_req *r = &c->c_req;
	int rc;

	r->r_err_status = 0;
	/* as nginx: after these the connection is not kept alive */
	if (status == 400 || status == 413 || status == 414 || status == 500 ||
	    status == 501)
		r->r_keepalive = 0;
	if ((rc = body_precheck(c)) != 0)
		return rc;
	if (respond(c, status, NULL, NULL, NULL, 0) == -1)
		return http_fail(c, 500, "the response does not fit the "
		    "output buffer");
	return CS_SEND;
}

/*
 * error_page: the target answers instead, with the error's status
 * unless "=" says otherwise.  A URI is served as a GET (a HEAD stays a
 * HEAD), a named location keeps the method, a URL is a redirect.
 */
static int
error_page(struct conn *c, const struct conf_errpage *ep, int status)
{
	struct http_req *r = &c->c_req;
	struct conf_loc *named;
	char *target;
	size_t len;
	int code;

	r->r_err_status = ep->ep_overwrite >= 0 ? ep->ep_overwrite : status;
	if ((target = http_work_render(c, ep->ep_target, &len)) == NULL) {
		conn_log(c, LOG_ERR, "no per-request memory left for "
		    "error_page \"%s\"", ep->ep_target->vt_src);
		return plain_page(c, 500);
	}
	if (ep->ep_url) {
		code = ep->ep_overwrite;
		if (!is_redirect(code))
			code = 302;
		r->r_err_status = 0;
		if (respond(c, code, NULL, NULL, target, len) == -1)
			return plain_page(c, 500);
		return CS_SEND;
	}
	if (ep->ep_named) {
		if ((named = conf_find_named(r->r_srv->sc_loc, target)) ==
		    NULL) {
			conn_log(c, LOG_ERR, "could not find named location "
			    "\"%s\"", target);
			return plain_page(c, 500);
		}
		return http_named_redirect(c, named);
	}
	if (!r->r_head_only) {
		r->r_method = "GET";
		r->r_methodlen = 3;
	}
	return http_internal_redirect(c, target, len);
}

/*
 * A response made by portico for status (an error, a redirect without a
 * URL, 404 when nothing serves the URI): the location's error_page for
 * it, or the standard page.  Returns the next state.
 */
int
http_special(struct conn *c, int status)
{
	struct http_req *r = &c->c_req;
	const struct conf_loc *l = r->r_loc;
	const struct conf_errpage *ep;

	if (l != NULL && l->lc_error_pages != NULL && !r->r_error_page &&
	    r->r_redirects <= HTTP_MAX_REDIRECTS) {
		/* recursive_error_pages off: an error of the page is plain */
		if (!l->lc_recursive_error_pages)
			r->r_error_page = 1;
		for (ep = l->lc_error_pages; ep != NULL; ep = ep->ep_next)
			if (ep->ep_code == status)
				return error_page(c, ep, status);
	}
	return plain_page(c, status);
}

/* the answer the rewrite phase chose: return, or a rewrite's redirect */
static int
http_answer(struct conn *c)
{
	struct http_req *r = &c->c_req;
	const struct conf_loc *l = r->r_loc;
	const struct var_tpl *text = r->r_ret_text;
	const char *loc = r->r_ret_loc;
	size_t len = r->r_ret_loclen;
	int code = r->r_ret_code, rc;

	if ((rc = body_precheck(c)) != 0)
		return rc;
	/* an error page may run the rewrite phase again */
	r->r_ret_code = 0;
	r->r_ret_text = NULL;
	r->r_ret_loc = NULL;
	if (code == 444) {
		conn_log(c, LOG_INFO, "closing the connection (return 444)");
		return CS_CLOSE;
	}
	if (loc == NULL && is_redirect(code) && text != NULL &&
	    (loc = http_work_render(c, text, &len)) == NULL)
		return http_fail(c, 500, "no per-request memory left for "
		    "the redirect");
	if (loc != NULL)
		rc = respond(c, code, NULL, NULL, loc, len);
	else if (text == NULL)
		return http_special(c, code);
	else
		rc = respond(c, code, l->lc_default_type, text, NULL, 0);
	if (rc == -1)
		return http_fail(c, 500, "the response does not fit the "
		    "output buffer");
	return CS_SEND;
}

/*
 * The phases of a location, as nginx orders them: rewrite (return,
 * rewrite, set, break in config order; a rewrite with "last", or one
 * without a flag, looks the location up again), try_files, then content
 * (proxying or static files).  Runs again after an internal redirect.
 */
static int
http_run_location(struct conn *c)
{
	struct http_req *r = &c->c_req;
	const struct conf_loc *l;
	const char *path;
	int rc;

	/* the server's rewrite phase may have chosen the answer */
	if (r->r_ret_code != 0)
		return http_answer(c);
	for (;;) {
		/* an internal location is for redirects and rewrites only */
		if (r->r_loc->lc_internal && !r->r_internal)
			return http_special(c, 404);
		path = r->r_path;
		rc = http_rewrite_run(c, r->r_loc);
		if (rc == HTTP_RW_ANSWER)
			return http_answer(c);
		if (rc == HTTP_RW_NEXT) {
			/* a rewrite with "break": proxy_pass sends it whole */
			if (r->r_path != path)
				r->r_rw_break = 1;
			break;
		}
		if (++r->r_redirects > HTTP_MAX_REDIRECTS) {
			conn_log(c, LOG_ERR, "rewrite or internal redirection "
			    "cycle while processing \"%.*s\"",
			    (int)MIN(r->r_pathlen, 256), r->r_path);
			return http_special(c, 500);
		}
		r->r_loc = conf_find_location(r->r_srv->sc_loc, r->r_path,
		    r->r_pathlen, &r->r_cap);
	}
	l = r->r_loc;
	/* try_files phase: a file found becomes $uri, in this location */
	if (l->lc_try != NULL && (rc = http_static_try_files(c)) != -1)
		return rc;
	/* content phase */
	if (l->lc_px.px_pass)
		return http_proxy_start(c);
	return http_static_handler(c);
}

/* the server's rewrite phase, then the location for the URI */
static void
http_find_location(struct conn *c)
{
	struct http_req *r = &c->c_req;
	const char *path = r->r_path;
	int rc;

	r->r_loc = r->r_srv->sc_loc;
	if ((rc = http_rewrite_run(c, r->r_srv->sc_loc)) == HTTP_RW_ANSWER)
		return;
	/* the server's "break" too makes proxy_pass send the URI whole */
	if (rc == HTTP_RW_NEXT && r->r_path != path)
		r->r_rw_break = 1;
	r->r_loc = conf_find_location(r->r_srv->sc_loc, r->r_path,
	    r->r_pathlen, &r->r_cap);
}

/*
 * Serve the request again for another URI ("/path[?args]"), as error_page
 * and try_files do: the server's rewrite phase runs again, the location
 * is looked up anew and its phases run.  The URI is copied; it is used
 * as given, not decoded again.  Returns the next state.
 */
int
http_internal_redirect(struct conn *c, const char *uri, size_t len)
{
	struct http_req *r = &c->c_req;
	const char *q;
	char *p;

	if (++r->r_redirects > HTTP_MAX_REDIRECTS) {
		conn_log(c, LOG_ERR, "rewrite or internal redirection cycle "
		    "while internally redirecting to \"%.*s\"", (int)MIN(len,
		    256), uri);
		return http_special(c, 500);
	}
	if (len == 0 || uri[0] != '/' || len >= HTTP_REDIRECT_BUF) {
		conn_log(c, LOG_ERR, "invalid internal redirect to \"%.*s\"",
		    (int)MIN(len, 256), uri);
		return http_special(c, 500);
	}
	/* new memory: uri may be in the request's memory already */
	if ((p = http_work_alloc(c, len + 1)) == NULL) {
		conn_log(c, LOG_ERR, "no per-request memory left for an "
		    "internal redirect");
		return http_special(c, 500);
	}
	memcpy(p, uri, len);
	q = memchr(p, '?', len);
	r->r_path = p;
	r->r_pathlen = q != NULL ? (size_t)(q - p) : len;
	r->r_args = q != NULL ? q + 1 : NULL;
	r->r_argslen = q != NULL ? len - (q + 1 - p) : 0;
	r->r_internal = 1;
	r->r_uri_changed = 1;
	r->r_rw_break = 0;
	http_find_location(c);
	return http_run_location(c);
}

/* the same to a named location ("@name"): the URI is kept */
int
http_named_redirect(struct conn *c, struct conf_loc *named)
{
	struct http_req *r = &c->c_req;

	if (++r->r_redirects > HTTP_MAX_REDIRECTS) {
		conn_log(c, LOG_ERR, "rewrite or internal redirection cycle "
		    "while redirect to named location \"%s\"",
		    named->lc_name);
		return http_special(c, 500);
	}
	r->r_internal = 1;
	r->r_loc = named;
	return http_run_location(c);
}

int
http_process(struct conn *c)
{
	struct http_req *r = &c->c_req;
	struct buf *in = c->c_in;
	int rc;

	r->r_head0 = in->b_pos;
	if (http_parse_request(in->b_pos, r->r_headlen, &r->r_head) == -1) {
		return http_fail(c, r->r_head.hh_status, r->r_head.hh_reason);
	}
	in->b_pos += r->r_headlen;
	r->r_length = r->r_headlen;
	r->r_head_only = http_token_eq(r->r_head.hh_method,
	    r->r_head.hh_methodlen, "HEAD");
	if (parse_target(c) == -1)
		return http_fail(c, 400, "client sent invalid request target");
	if ((rc = check_headers(c)) != 0)
		return rc;

	r->r_srv = conf_find_server(c->c_listen, r->r_host, r->r_hostlen,
	    &r->r_cap);
	/* the TLS errors of nginx, answered before any phase runs */
	c->c_action = "reading client request headers";
	if (c->c_tls_plain) {
		conn_log(c, LOG_INFO, "client sent plain HTTP request to HTTPS "
		    "port");
		rc = 497;
	} else
		rc = tls_verify_check(c);
	if (rc != 0) {
		r->r_loc = r->r_srv->sc_loc;
		r->r_keepalive = 0;
		c->c_action = NULL;
		return http_special(c, rc);
	}
	/* the server's rewrite phase runs before any location is chosen */
	http_find_location(c);
	c->c_action = NULL;
	if (r->r_body_left > r->r_loc->lc_client_max_body_size &&
	    r->r_loc->lc_client_max_body_size > 0) {
		char why[128];

		snprintf(why, sizeof(why), "client intended to send too large "
		    "body: %lld bytes", (long long)r->r_body_left);
		conn_log(c, LOG_INFO, "%s", why);
		/* an error_page may answer it; the connection closes after */
		r->r_keepalive = 0;
		r->r_ret_code = 0;
		return http_special(c, 413);
	}
	return http_run_location(c);
}
