/*
 * http_proxy_resp.c: the response as it comes from the upstream.  Its
 * head is read and checked, rewritten for the client (hop-by-hop and
 * proxy_hide_header fields dropped, Location through proxy_redirect),
 * then the body is relayed with back-pressure through one buffer (a slow
 * client stops the reads from the upstream), re-framed where the
 * client's HTTP version needs it, and with proxy_buffering spooled to a
 * temporary file while the client lags.  A 101 to an Upgrade request
 * turns the connection into a tunnel.
 *
 * The upstream's framing is checked as strictly as a client's: a head
 * that does not parse, Content-Length with Transfer-Encoding, a coding
 * other than chunked, or bad chunk framing is a 502 (or, once the head
 * has gone to the client, a closed connection), never passed on.
 */
#include "core.h"

#include <fcntl.h>
#include <strings.h>
#include <sys/uio.h>

#include "clock.h"
#include "conn.h"
#include "http_proxy.h"
#include "http_proxy_int.h"
#include "http_static.h"
#include "http_var.h"
#include "io.h"
#include "tls.h"
#include "log.h"
#include "upool.h"

/* how long a finished connection waits for the upstream to close it */
#define PX_DRAIN_MS	1000

static int px_start_tunnel(struct conn *, struct proxy *);

/*
 * The head moves out of px_buf, which the body reuses, so that the
 * $upstream_http_* variables can still read it when the request is
 * logged.
 */
static int
px_keep_head(struct proxy *px, const char *head, size_t len)
{
	struct http_head *h = &px->px_head;
	ptrdiff_t d;
	int i;

	if (px->px_hbuf == NULL &&
	    (px->px_hbuf = buf_get(px->px_conf->px_buffer_size)) == NULL)
		return -1;
	memcpy(px->px_hbuf->b_start, head, len);
	d = px->px_hbuf->b_start - head;
	h->hh_phrase += d;
	for (i = 0; i < h->hh_nheaders; i++) {
		h->hh_headers[i].h_name += d;
		h->hh_headers[i].h_value += d;
	}
	return 0;
}

/* read from the upstream into px_buf: IO_OK, IO_AGAIN, IO_DONE, IO_ERROR */
static int
px_read(struct proxy *px)
{
	struct buf *b = px->px_buf;
	ssize_t n;

	for (;;) {
		if (!px->px_readable)
			return IO_AGAIN;
		n = io_read(px->px_fd, px->px_ssl, b->b_last,
		    b->b_end - b->b_last);
		if (n > 0) {
			b->b_last += n;
			px->px_bytes_received += n;
			return IO_OK;
		}
		if (n == 0) {
			px->px_eof = 1;
			return IO_DONE;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN) {
			px->px_readable = 0;
			return IO_AGAIN;
		}
		return IO_ERROR;
	}
}

/* response headers the client never sees as the upstream sent them */
static int
is_hidden(const struct conf_proxy *pc, const struct http_header *h)
{
	const struct conf_proxy_name *pn;

	if (is_named(h, "connection") || is_named(h, "keep-alive") ||
	    is_named(h, "transfer-encoding") ||
	    is_named(h, "content-length") || is_named(h, "te") ||
	    is_named(h, "trailer") || is_named(h, "upgrade") ||
	    is_named(h, "proxy-connection"))
		return 1;
	for (pn = pc->px_hide; pn != NULL; pn = pn->pn_next)
		if (http_token_eq(h->h_name, h->h_namelen, pn->pn_name))
			return 1;
	/* hidden by default, as in nginx, unless proxy_pass_header */
	if (is_named(h, "date") || is_named(h, "server") ||
	    is_named(h, "x-pad") || (h->h_namelen > 8 &&
	    strncasecmp(h->h_name, "x-accel-", 8) == 0)) {
		for (pn = pc->px_pass_hdrs; pn != NULL; pn = pn->pn_next)
			if (http_token_eq(h->h_name, h->h_namelen,
			    pn->pn_name))
				return 0;
		return 1;
	}
	return 0;
}

static int
parse_length(const char *v, size_t len, int64_t *out)
{
	int64_t n = 0;
	size_t i;

	if (len == 0 || len > 18)
		return -1;
	for (i = 0; i < len; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		n = n * 10 + (v[i] - '0');
	}
	*out = n;
	return 0;
}

/* how the response body is framed; -1 with *why for a 502 */
static int
px_framing(struct conn *c, struct proxy *px, const char **why)
{
	const struct http_head *h = &px->px_head;
	const struct conf_proxy *pc = px->px_conf;
	int i, cl = 0, te = 0, close = 0;
	int64_t len = -1, v;

	for (i = 0; i < h->hh_nheaders; i++) {
		const struct http_header *hd = &h->hh_headers[i];

		if (is_named(hd, "content-length")) {
			if (parse_length(hd->h_value, hd->h_valuelen, &v) ==
			    -1) {
				*why = "upstream sent invalid \"Content-Length\""
				    " header";
				return -1;
			}
			if (cl++ && v != len) {
				*why = "upstream sent duplicate header line: "
				    "\"Content-Length\"";
				return -1;
			}
			len = v;
		} else if (is_named(hd, "connection")) {
			if (memmem(hd->h_value, hd->h_valuelen, "close", 5) !=
			    NULL || memmem(hd->h_value, hd->h_valuelen,
			    "Close", 5) != NULL)
				close = 1;
		} else if (is_named(hd, "transfer-encoding")) {
			if (te++ || !http_token_eq(hd->h_value, hd->h_valuelen,
			    "chunked")) {
				*why = "upstream sent unknown "
				    "\"Transfer-Encoding\"";
				return -1;
			}
		}
	}
	if (cl && te) {
		*why = "upstream sent \"Content-Length\" and "
		    "\"Transfer-Encoding\" headers at the same time";
		return -1;
	}
	if (te && h->hh_version == 10) {
		*why = "upstream sent \"Transfer-Encoding\" in an HTTP/1.0 "
		    "response";
		return -1;
	}
	if (c->c_req.r_head_only || px->px_code == 204 || px->px_code == 304)
		px->px_framing = PXF_NONE;
	else if (te)
		px->px_framing = PXF_CHUNKED;
	else if (cl) {
		px->px_framing = len > 0 ? PXF_LENGTH : PXF_NONE;
		px->px_left = len;
	} else
		px->px_framing = PXF_CLOSE;
	/* the upstream connection may serve the next request after this */
	px->px_reusable = !px->px_early && px->px_ups->u_keepalive > 0 &&
	    pc->px_http_version == 11 &&
	    !px->px_sent_close && h->hh_version == 11 && !close &&
	    px->px_framing != PXF_CLOSE;
	return 0;
}

/*
 * A Location that starts with '/' is made absolute, as nginx does
 * (absolute_redirect, port_in_redirect, server_name_in_redirect).
 */
static int
px_put_absolute(struct conn *c, struct buf *b, const char *v, size_t len)
{
	char origin[512];
	size_t ol;

	if (len > 0 && v[0] == '/' && c->c_req.r_loc->lc_absolute_redirect) {
		ol = http_static_origin(c, origin, sizeof(origin));
		if (ol == SIZE_MAX || px_put(b, origin, ol) == -1)
			return -1;
	}
	return px_put(b, v, len);
}

/*
 * "Location" through the proxy_redirect rules: the first whose "from"
 * begins the value replaces that part.
 */
static int
px_put_location(struct conn *c, struct proxy *px, struct buf *b,
    const struct http_header *hd)
{
	const struct conf_proxy_redirect *pr, *rule;
	char *mark;

	if (px_put(b, "Location: ", 10) == -1)
		return -1;
	for (pr = px->px_conf->px_redirects; pr != NULL; pr = pr->pr_next) {
		rule = pr->pr_from != NULL ? pr : px->px_conf->px_redirect_default;
		if (rule == NULL || rule->pr_fromlen > hd->h_valuelen ||
		    strncasecmp(hd->h_value, rule->pr_from, rule->pr_fromlen) !=
		    0)
			continue;
		/* rendered, then moved behind the scheme and host if relative */
		mark = b->b_last;
		if (http_var_render(c, rule->pr_to, b, VAR_ESC_NONE, 0) == -1 ||
		    px_put(b, hd->h_value + rule->pr_fromlen, hd->h_valuelen -
		    rule->pr_fromlen) == -1)
			return -1;
		if (*mark == '/') {
			char tmp[2048];
			size_t len = b->b_last - mark;

			if (len > sizeof(tmp))
				return -1;
			memcpy(tmp, mark, len);
			b->b_last = mark;
			if (px_put_absolute(c, b, tmp, len) == -1)
				return -1;
		}
		return px_put(b, crlf, 2);
	}
	if (px_put_absolute(c, b, hd->h_value, hd->h_valuelen) == -1)
		return -1;
	return px_put(b, crlf, 2);
}

/* the client's head: status, our Server and Date, the upstream's fields */
static int
px_client_head(struct conn *c, struct proxy *px)
{
	struct http_req *r = &c->c_req;
	const struct http_head *h = &px->px_head;
	const struct conf_loc *l = r->r_loc;
	struct buf *b;
	char line[128];
	int i, n, tokens = l->lc_server_tokens;

	if ((b = c->c_out) == NULL && (b = c->c_out = buf_get(CONN_OUTBUF)) ==
	    NULL)
		return -1;
	b->b_pos = b->b_last = b->b_start;
	r->r_status = px->px_code;
	r->r_keepalive = http_keepalive_ok(c);
	if ((px->px_framing == PXF_CLOSE && r->r_head.hh_version == 10) ||
	    px->px_early)
		r->r_keepalive = 0;
	n = snprintf(line, sizeof(line), "HTTP/1.1 %03d ", px->px_code);
	if (px_put(b, line, n) == -1 ||
	    px_put(b, h->hh_phrase, h->hh_phraselen) == -1 ||
	    px_put(b, crlf, 2) == -1)
		return -1;
	for (i = 0; i < h->hh_nheaders; i++)
		if (is_named(&h->hh_headers[i], "server") &&
		    !is_hidden(px->px_conf, &h->hh_headers[i]))
			break;
	if (i == h->hh_nheaders) {
		n = snprintf(line, sizeof(line), "Server: %s\r\n",
		    tokens ? PORTICO_VER : PORTICO_NAME);
		if (px_put(b, line, n) == -1)
			return -1;
	}
	for (i = 0; i < h->hh_nheaders; i++)
		if (is_named(&h->hh_headers[i], "date") &&
		    !is_hidden(px->px_conf, &h->hh_headers[i]))
			break;
	if (i == h->hh_nheaders) {
		n = snprintf(line, sizeof(line), "Date: %s\r\n",
		    clock_http_date());
		if (px_put(b, line, n) == -1)
			return -1;
	}
	for (i = 0; i < h->hh_nheaders; i++) {
		const struct http_header *hd = &h->hh_headers[i];

		if (is_hidden(px->px_conf, hd))
			continue;
		if (is_named(hd, "location")) {
			if (px_put_location(c, px, b, hd) == -1)
				return -1;
			continue;
		}
		if (px_put(b, hd->h_name, hd->h_namelen) == -1 ||
		    px_put(b, ": ", 2) == -1 ||
		    px_put(b, hd->h_value, hd->h_valuelen) == -1 ||
		    px_put(b, crlf, 2) == -1)
			return -1;
	}
	if (px->px_framing == PXF_LENGTH || (px->px_framing == PXF_NONE &&
	    px->px_left == 0 && px->px_code != 204 && px->px_code != 304 &&
	    !r->r_head_only)) {
		n = snprintf(line, sizeof(line), "Content-Length: %lld\r\n",
		    (long long)px->px_left);
		if (px_put(b, line, n) == -1)
			return -1;
	} else if (r->r_head_only) {
		/* a HEAD answer says what a GET would have */
		for (i = 0; i < h->hh_nheaders; i++) {
			const struct http_header *hd = &h->hh_headers[i];

			if (is_named(hd, "content-length") &&
			    (px_put(b, "Content-Length: ", 16) == -1 ||
			    px_put(b, hd->h_value, hd->h_valuelen) == -1 ||
			    px_put(b, crlf, 2) == -1))
				return -1;
		}
	} else if (px->px_framing == PXF_CHUNKED ||
	    px->px_framing == PXF_CLOSE) {
		if (r->r_head.hh_version == 11) {
			if (px_put(b, "Transfer-Encoding: chunked\r\n", 28) ==
			    -1)
				return -1;
			px->px_rechunk = px->px_framing == PXF_CLOSE;
		} else {
			px->px_dechunk = px->px_framing == PXF_CHUNKED;
			r->r_keepalive = 0;
		}
	}
	if (px_put(b, r->r_keepalive ? "Connection: keep-alive\r\n" :
	    "Connection: close\r\n", r->r_keepalive ? 24 : 19) == -1 ||
	    px_put(b, crlf, 2) == -1)
		return -1;
	r->r_headout = b->b_last - b->b_start;
	return 0;
}

/* the proxy_next_upstream flag of an answer's status, or 0 */
static int
px_status_next(int code)
{
	switch (code) {
	case 500: return PXN_HTTP_500;
	case 502: return PXN_HTTP_502;
	case 503: return PXN_HTTP_503;
	case 504: return PXN_HTTP_504;
	case 403: return PXN_HTTP_403;
	case 404: return PXN_HTTP_404;
	case 429: return PXN_HTTP_429;
	}
	return 0;
}

int
http_proxy_step_head(struct conn *c)
{
	struct proxy *px = c->c_proxy;
	struct buf *b = px->px_buf;
	const char *why = NULL;
	size_t scan = 0;
	int n, rc;

	for (;;) {
		n = http_head_end(b->b_pos, b->b_last - b->b_pos, &scan);
		if (n == -1)
			return px_err(c, PXN_INVALID_HEADER, "upstream sent a bare LF");
		if (n > 0)
			break;
		if (b->b_last - b->b_pos >= px->px_conf->px_buffer_size)
			return px_err(c, PXN_INVALID_HEADER, "upstream sent too big header");
		rc = px_read(px);
		if (rc == IO_AGAIN)
			return CS_WAIT;
		if (rc != IO_OK && px_can_retry(px))
			return px_retry_fresh(c, px);
		if (rc != IO_OK && px->px_send_errno != 0) {
			c->c_action = "sending request to upstream";
			return px_err(c, PXN_ERROR, "write() failed (%d: %s)",
			    px->px_send_errno, strerror(px->px_send_errno));
		}
		if (rc == IO_DONE)
			return px_err(c, PXN_ERROR, "upstream prematurely closed "
			    "connection");
		if (rc == IO_ERROR)
			return px_err(c, PXN_ERROR, "recv() failed (%d: %s)", errno,
			    strerror(errno));
		scan = 0;
	}
	if (n > px->px_conf->px_buffer_size)
		return px_err(c, PXN_INVALID_HEADER, "upstream sent too big header");
	if (http_parse_response(b->b_pos, n, &px->px_head) == -1)
		return px_err(c, PXN_INVALID_HEADER, "%s", px->px_head.hh_reason);
	px->px_code = px->px_head.hh_code;
	px->px_t_header = clock_now();
	if (px_keep_head(px, b->b_pos, n) == -1)
		return px_fail(c, 500, "out of memory for a buffer");
	if (px->px_code == 101) {
		if (!px->px_upgrade)
			return px_err(c, PXN_INVALID_HEADER, "upstream sent 101 to a request "
			    "without \"Upgrade\"");
		b->b_pos += n;
		return px_start_tunnel(c, px);
	}
	if (px->px_code >= 100 && px->px_code < 200) {
		/* an interim answer: the real one follows */
		b->b_pos += n;
		return CS_PROXY_HEAD;
	}
	if (px_framing(c, px, &why) == -1)
		return px_err(c, PXN_INVALID_HEADER, "%s", why);
	b->b_pos += n;
	px_hist_status(px, px->px_code);
	if ((rc = px_status_next(px->px_code)) != 0 && px_can_next(c, px, rc)) {
		/* 403 and 404 say nothing of the peer's health */
		px_peer_finish(c, px, px->px_code != 403 && px->px_code != 404);
		return px_next(c, px);
	}
	if (px->px_conf->px_intercept_errors && px->px_code >= 300) {
		int code = px->px_code;

		px_drop_upstream(px);
		return http_special(c, code);
	}
	if (px_client_head(c, px) == -1)
		return px_err(c, PXN_INVALID_HEADER, "upstream sent too big header for the "
		    "client buffer");
	timer_cancel(&c->c_timer);
	c->c_action = "reading upstream";
	return CS_PROXY_BODY;
}

/* queue what px_buf holds for the client: 1 queued, 0 none, -1 invalid */
static int
px_take(struct conn *c, struct proxy *px)
{
	struct buf *b = px->px_buf;
	size_t have = b->b_last - b->b_pos, dlen;
	const char *start = b->b_pos, *data;
	ssize_t n;
	int k = px->px_iovcnt, k0 = k;

	switch (px->px_framing) {
	case PXF_LENGTH:
		if (have == 0)
			return 0;
		have = MIN(have, (size_t)px->px_left);
		px->px_iov[k].iov_base = b->b_pos;
		px->px_iov[k++].iov_len = have;
		b->b_pos += have;
		px->px_left -= have;
		break;
	case PXF_CHUNKED:
		if (px->px_dechunk) {
			while (b->b_pos < b->b_last && k == k0 &&
			    !http_chunked_done(&px->px_chunk)) {
				n = http_chunked_step(&px->px_chunk, b->b_pos,
				    b->b_last - b->b_pos, &data, &dlen);
				if (n == -1)
					return -1;
				b->b_pos += n;
				if (dlen > 0) {
					px->px_iov[k].iov_base = (char *)data;
					px->px_iov[k++].iov_len = dlen;
				}
			}
			break;
		}
		/* checked by the decoder, passed on as it came */
		while (b->b_pos < b->b_last &&
		    !http_chunked_done(&px->px_chunk)) {
			n = http_chunked_step(&px->px_chunk, b->b_pos,
			    b->b_last - b->b_pos, &data, &dlen);
			if (n == -1)
				return -1;
			b->b_pos += n;
		}
		if (b->b_pos > start) {
			px->px_iov[k].iov_base = (char *)start;
			px->px_iov[k++].iov_len = b->b_pos - start;
		}
		break;
	case PXF_CLOSE:
		if (have == 0 && !px->px_eof)
			return 0;
		if (have == 0) {
			if (px->px_rechunk && !px->px_last) {
				px->px_last = 1;
				px->px_iov[k].iov_base = (char *)"0\r\n\r\n";
				px->px_iov[k++].iov_len = 5;
			}
			break;
		}
		if (px->px_rechunk) {
			int m = snprintf(px->px_pre, sizeof(px->px_pre),
			    "%zx\r\n", have);

			px->px_iov[k].iov_base = px->px_pre;
			px->px_iov[k++].iov_len = m;
		}
		px->px_iov[k].iov_base = b->b_pos;
		px->px_iov[k++].iov_len = have;
		if (px->px_rechunk) {
			px->px_iov[k].iov_base = (char *)crlf;
			px->px_iov[k++].iov_len = 2;
		}
		b->b_pos += have;
		break;
	}
	px->px_iovcnt = k;
	return k > k0;
}

static int
px_body_done(struct proxy *px)
{
	switch (px->px_framing) {
	case PXF_NONE:
		return 1;
	case PXF_LENGTH:
		return px->px_left == 0;
	case PXF_CHUNKED:
		return http_chunked_done(&px->px_chunk);
	default:
		return px->px_eof && px->px_buf->b_pos == px->px_buf->b_last &&
		    (!px->px_rechunk || px->px_last);
	}
}

/* drop n written bytes from the front of the queued iovecs */
static void
px_iov_advance(struct proxy *px, size_t n)
{
	int i = 0, k;

	while (i < px->px_iovcnt && n >= px->px_iov[i].iov_len)
		n -= px->px_iov[i++].iov_len;
	for (k = 0; i + k < px->px_iovcnt; k++)
		px->px_iov[k] = px->px_iov[i + k];
	px->px_iovcnt = k;
	if (k > 0) {
		px->px_iov[0].iov_base = (char *)px->px_iov[0].iov_base + n;
		px->px_iov[0].iov_len -= n;
	}
}

/* write the queued iovecs to the client: 1 all gone, 0 wait, -1 error */
static int
px_flush(struct conn *c, struct proxy *px)
{
	struct iovec *iov = px->px_iov;
	ssize_t n;

	while (px->px_iovcnt > 0) {
		if (!c->c_writable)
			return 0;
		conn_before_write(c);
		n = io_writev(c->c_fd, c->c_ssl, iov, px->px_iovcnt);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				c->c_writable = 0;
				return 0;
			}
			return -1;
		}
		c->c_req.r_sent += n;
		px_iov_advance(px, n);
	}
	return 1;
}

/* the upstream has sent everything: its connection goes now */
static void
px_upstream_done(struct proxy *px)
{
	struct upconn *uc = px->px_uc;
	char name[256];

	if (uc == NULL)
		return;
	px->px_t_end = clock_now();
	if (px->px_ssl != NULL && px->px_conf->px_ssl_session_reuse)
		tls_upstream_keep(uc->uc_key, px_tls_name(px->px_c, px, name,
		    sizeof(name)), px->px_ssl);
	/* nothing may be left over: it would be the next answer's start */
	if (px->px_reusable && !px->px_hup &&
	    px->px_buf->b_pos == px->px_buf->b_last &&
	    io_pending(px->px_ssl) == 0 &&
	    ++uc->uc_requests < (unsigned)px->px_ups->u_keepalive_requests) {
		px->px_uc = NULL;
		px->px_fd = -1;
		px->px_ssl = NULL;
		upool_put(uc, (int)px->px_ups->u_keepalive,
		    px->px_ups->u_keepalive_timeout);
		return;
	}
	/* its FIN is on the way: let the upstream close first */
	if (!px->px_hup && px->px_framing != PXF_CLOSE) {
		px->px_uc = NULL;
		px->px_fd = -1;
		px->px_ssl = NULL;
		upool_drain(uc, PX_DRAIN_MS);
		return;
	}
	px_drop_upstream(px);
}

static int
px_spooled(const struct proxy *px)
{
	return px->px_spool_r < px->px_spool_w;
}

/*
 * proxy_buffering: while the client is slower than the upstream, what
 * is queued for it goes to an unlinked file under proxy_temp_path, up
 * to proxy_max_temp_file_size, and the upstream is read on; the client
 * is then served from the file.  So a slow client holds no upstream
 * connection and no more memory than one buffer.
 */
static int
px_can_spool(struct conn *c, struct proxy *px)
{
	const struct conf_proxy *pc = px->px_conf;

	if (!pc->px_buffering || pc->px_max_temp == 0 || px->px_nospool ||
	    px->px_spool_w >= pc->px_max_temp)
		return 0;
	if (px->px_spool_fd != -1)
		return 1;
	px->px_spool_fd = open(pc->px_temp_path, O_TMPFILE | O_RDWR |
	    O_CLOEXEC, 0600);
	if (px->px_spool_fd == -1) {
		conn_log(c, LOG_CRIT, "open() \"%s\" for a temporary file "
		    "failed (%d: %s)", pc->px_temp_path, errno,
		    strerror(errno));
		px->px_nospool = 1;
		return 0;
	}
	return 1;
}

static int
px_spool_write(struct conn *c, struct proxy *px)
{
	ssize_t n;

	while (px->px_iovcnt > 0) {
		n = pwritev(px->px_spool_fd, px->px_iov, px->px_iovcnt,
		    px->px_spool_w);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			conn_log(c, LOG_CRIT, "pwritev() to a temporary file "
			    "failed (%d: %s)", errno, strerror(errno));
			return -1;
		}
		px->px_spool_w += n;
		px_iov_advance(px, n);
	}
	return 0;
}

/* from the file to the client: 1 all sent, 0 wait, -1 error */
static int
px_spool_send(struct conn *c, struct proxy *px)
{
	ssize_t n;

	while (px_spooled(px)) {
		if (!c->c_writable)
			return 0;
		conn_before_write(c);
		n = io_sendfile(c->c_fd, c->c_ssl, px->px_spool_fd,
		    &px->px_spool_r, px->px_spool_w - px->px_spool_r);
		if (n > 0) {
			c->c_req.r_sent += n;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN) {
			c->c_writable = 0;
			return 0;
		}
		return -1;
	}
	/*
	 * Drained.  The file is not written from its start again: sendfile()
	 * leaves the socket holding the file's pages, not copies, so bytes
	 * still on their way would change under the client.
	 */
	return 1;
}

int
http_proxy_step_body(struct conn *c)
{
	struct proxy *px = c->c_proxy;
	struct buf *out = c->c_out, *b = px->px_buf;
	int rc, blocked;

	/* the head first, with the first piece of the body behind it */
	if (out != NULL && out->b_pos < out->b_last && px->px_iovcnt == 0) {
		px->px_iov[0].iov_base = out->b_pos;
		px->px_iov[0].iov_len = out->b_last - out->b_pos;
		px->px_iovcnt = 1;
		out->b_pos = out->b_last;
		/* bad framing here is still a 502: nothing has gone yet */
		if (px->px_framing != PXF_NONE && px_take(c, px) == -1) {
			px->px_iovcnt = 0;
			return px_err(c, PXN_INVALID_HEADER, "upstream sent "
			    "invalid chunked response");
		}
	}
	for (;;) {
		blocked = 0;
		if (px_spooled(px) && (rc = px_spool_send(c, px)) != 1) {
			if (rc == -1)
				goto client_error;
			blocked = 1;
		}
		if (!blocked && px->px_iovcnt > 0 &&
		    (rc = px_flush(c, px)) != 1) {
			if (rc == -1)
				goto client_error;
			blocked = 1;
		}
		if (blocked && px->px_uc != NULL && px_can_spool(c, px)) {
			if (px_spool_write(c, px) == -1)
				return CS_CLOSE;
		} else if (blocked) {
			/* back-pressure: the upstream waits for the client */
			if (!timer_is_armed(&c->c_timer))
				timer_set(&c->c_timer,
				    c->c_req.r_loc->lc_send_timeout);
			return CS_WAIT;
		}
		timer_cancel(&c->c_timer);
		if (px_body_done(px) && px->px_iovcnt == 0) {
			px_upstream_done(px);
			if (!px_spooled(px))
				break;
			continue;
		}
		if ((rc = px_take(c, px)) == -1)
			goto invalid;
		if (rc == 1)
			continue;
		/* px_buf is drained: read more from the upstream */
		b->b_pos = b->b_last = b->b_start;
		rc = px_read(px);
		if (rc == IO_AGAIN) {
			timer_set(&c->c_timer, px->px_conf->px_read_timeout);
			return CS_WAIT;
		}
		if (rc == IO_ERROR) {
			conn_log(c, LOG_ERR, "recv() failed (%d: %s)", errno,
			    strerror(errno));
			return CS_CLOSE;
		}
		if (rc == IO_DONE && px->px_framing != PXF_CLOSE) {
			conn_log(c, LOG_ERR, "upstream prematurely closed "
			    "connection");
			return CS_CLOSE;
		}
	}
	/* done: the client's connection may stay */
	buf_put(c->c_out);
	c->c_out = NULL;
	if (c->c_req.r_has_body)
		return c->c_req.r_keepalive ? CS_DISCARD_BODY : CS_DONE;
	return CS_DONE;
client_error:
	c->c_action = "sending to client";
	conn_log(c, LOG_INFO, "writev() failed (%d: %s)", errno,
	    strerror(errno));
	return CS_CLOSE;
invalid:
	conn_log(c, LOG_ERR, "upstream sent invalid chunked response");
	return CS_CLOSE;
}

/* write the head in c_out: 1 gone, 0 wait, -1 error */
static int
px_flush_out(struct conn *c)
{
	struct buf *out = c->c_out;
	ssize_t n;

	while (out != NULL && out->b_pos < out->b_last) {
		if (!c->c_writable)
			return 0;
		conn_before_write(c);
		n = io_write(c->c_fd, c->c_ssl, out->b_pos,
		    out->b_last - out->b_pos);
		if (n > 0) {
			out->b_pos += n;
			c->c_req.r_sent += n;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN) {
			c->c_writable = 0;
			return 0;
		}
		return -1;
	}
	return 1;
}

/*
 * 101 Switching Protocols to an Upgrade request (WebSocket): the client
 * gets the upstream's head with its Upgrade field and "Connection:
 * upgrade", then bytes flow both ways until one side closes;
 * proxy_read_timeout is the idle timeout.
 */
static int
px_start_tunnel(struct conn *c, struct proxy *px)
{
	const struct http_head *h = &px->px_head;
	struct buf *b;
	char line[128];
	int i, n;

	if ((b = c->c_out) == NULL && (b = c->c_out = buf_get(CONN_OUTBUF)) ==
	    NULL)
		return px_fail(c, 500, "out of memory for a buffer");
	b->b_pos = b->b_last = b->b_start;
	c->c_req.r_status = 101;
	c->c_req.r_keepalive = 0;
	n = snprintf(line, sizeof(line), "HTTP/1.1 101 Switching Protocols\r\n"
	    "Server: %s\r\nDate: %s\r\n", c->c_req.r_loc->lc_server_tokens ?
	    PORTICO_VER : PORTICO_NAME, clock_http_date());
	if (px_put(b, line, n) == -1)
		return px_err(c, PXN_INVALID_HEADER, "upstream sent too big header");
	for (i = 0; i < h->hh_nheaders; i++) {
		const struct http_header *hd = &h->hh_headers[i];

		if (!is_named(hd, "upgrade") && is_hidden(px->px_conf, hd))
			continue;
		if (px_put(b, hd->h_name, hd->h_namelen) == -1 ||
		    px_put(b, ": ", 2) == -1 ||
		    px_put(b, hd->h_value, hd->h_valuelen) == -1 ||
		    px_put(b, crlf, 2) == -1)
			return px_err(c, PXN_INVALID_HEADER, "upstream sent too big header");
	}
	if (px_put(b, "Connection: upgrade\r\n\r\n", 23) == -1)
		return px_err(c, PXN_INVALID_HEADER, "upstream sent too big header");
	c->c_req.r_headout = b->b_last - b->b_start;
	if (http_head_detach(c) == -1)
		return px_fail(c, 500, "out of memory for a buffer");
	c->c_action = "proxying upgraded connection";
	timer_cancel(&c->c_timer);
	timer_set(&c->c_timer, px->px_conf->px_read_timeout);
	return CS_PROXY_TUNNEL;
}

int
http_proxy_step_tunnel(struct conn *c)
{
	struct proxy *px = c->c_proxy;
	struct buf *up = px->px_buf, *in = c->c_in;
	size_t done;
	ssize_t n;
	int rc, moved, any = 0;

	if ((rc = px_flush_out(c)) != 1) {
		if (rc == -1)
			return CS_CLOSE;
		return CS_WAIT;
	}
	do {
		moved = 0;
		/* upstream to client */
		if (up->b_pos < up->b_last) {
			if (c->c_writable) {
				conn_before_write(c);
				n = io_write(c->c_fd, c->c_ssl, up->b_pos,
				    up->b_last - up->b_pos);
				if (n > 0) {
					up->b_pos += n;
					c->c_req.r_sent += n;
					moved = 1;
				} else if (n == -1 && errno == EAGAIN)
					c->c_writable = 0;
				else if (!(n == -1 && errno == EINTR))
					return CS_CLOSE;
			}
		} else if (!px->px_eof) {
			up->b_pos = up->b_last = up->b_start;
			rc = px_read(px);
			if (rc == IO_OK)
				moved = 1;
			else if (rc == IO_ERROR)
				return CS_CLOSE;
		}
		/* client to upstream */
		if (in->b_pos < in->b_last) {
			rc = px_write(c, px, in->b_pos, in->b_last - in->b_pos,
			    &done);
			in->b_pos += done;
			if (rc == -1)
				return CS_CLOSE;
			if (done > 0)
				moved = 1;
		} else if (!c->c_eof && c->c_readable) {
			in->b_pos = in->b_last = in->b_start;
			rc = conn_read(c);
			if (rc == IO_OK)
				moved = 1;
			else if (rc == IO_ERROR)
				return CS_CLOSE;
		}
		any |= moved;
	} while (moved);
	/* one side closed and what it sent has gone on: the tunnel ends */
	if ((px->px_eof && up->b_pos == up->b_last) ||
	    (c->c_eof && in->b_pos == in->b_last)) {
		log_debug("conn %llu: upgraded connection closed",
		    (unsigned long long)c->c_id);
		return CS_CLOSE;
	}
	if (any || !timer_is_armed(&c->c_timer))
		timer_set(&c->c_timer, px->px_conf->px_read_timeout);
	return CS_WAIT;
}
