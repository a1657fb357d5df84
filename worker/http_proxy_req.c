/*
 * http_proxy_req.c: the request as it goes to the upstream.  Its head is
 * built from the client's (the target by proxy_pass's URI, hop-by-hop
 * fields dropped, proxy_set_header applied); its body either streams
 * from the client's buffer as it comes or, with proxy_request_buffering,
 * is read whole first, into memory while it fits and then into an
 * unlinked temporary file, so that a slow client holds no upstream
 * connection and the request can be sent again to another peer.
 */
#include "core.h"

#include <fcntl.h>

#include "conn.h"
#include "http_proxy.h"
#include "http_proxy_int.h"
#include "http_var.h"
#include "io.h"
#include "log.h"

/* a URI byte that goes to the upstream %-encoded, as nginx escapes */
static int
is_unsafe(unsigned char ch)
{
	return ch <= 0x20 || ch >= 0x7f || ch == '#' || ch == '%' ||
	    ch == '?' || ch == '"';
}

/* what would break the request line: a URI made by variables (a decoded
 * $uri or capture may hold a space, a CR or a LF) */
static int
is_ctl(unsigned char ch)
{
	return ch <= 0x20 || ch == 0x7f;
}

static int
px_put_escaped(struct buf *b, const char *s, size_t len,
    int (*unsafe)(unsigned char))
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char ch = s[i];

		if (!unsafe(ch)) {
			if (px_put(b, s + i, 1) == -1)
				return -1;
			continue;
		}
		if (b->b_end - b->b_last < 3)
			return -1;
		*b->b_last++ = '%';
		*b->b_last++ = hex[ch >> 4];
		*b->b_last++ = hex[ch & 15];
	}
	return 0;
}

/* a target that must begin with '/': "" goes as "/", "?q" as "/?q" */
static int
px_put_rooted(struct buf *b, const char *s, size_t len,
    int (*unsafe)(unsigned char))
{
	if ((len == 0 || s[0] == '?') && px_put(b, "/", 1) == -1)
		return -1;
	return unsafe != NULL ? px_put_escaped(b, s, len, unsafe) :
	    px_put(b, s, len);
}

/*
 * The request target, by nginx's rule: with a URI in proxy_pass, the
 * part of $uri that the location matched is replaced by it; without, the
 * client's own target goes on unchanged unless the URI was changed (by a
 * rewrite or a redirect to a URI, not to a named location: then $uri
 * and the arguments go).  A rewrite with "break" makes the URI in
 * proxy_pass ignored: the whole $uri goes.
 */
static int
px_put_target(struct conn *c, struct buf *b)
{
	struct http_req *r = &c->c_req;
	const struct conf_proxy *px = &r->r_loc->lc_px;
	const struct conf_loc *l = r->r_loc;
	const char *t;
	size_t skip, len;

	/* made by proxy_pass's variables: sent as made, in place of all */
	if (c->c_proxy->px_duri != NULL)
		return px_put_rooted(b, c->c_proxy->px_duri,
		    c->c_proxy->px_durilen, is_ctl);
	if (px->px_uri == NULL && !r->r_uri_changed) {
		/* the absolute form becomes the origin form */
		t = http_target_origin(r, &len);
		return px_put_rooted(b, t, len, NULL);
	}
	if (px->px_uri != NULL && !r->r_rw_break) {
		skip = l->lc_match == LOC_EXACT ? r->r_pathlen :
		    MIN(l->lc_namelen, r->r_pathlen);
		if (px_put(b, px->px_uri, px->px_urilen) == -1 ||
		    px_put_escaped(b, r->r_path + skip, r->r_pathlen - skip,
		    is_unsafe) == -1)
			return -1;
	} else if (px_put_escaped(b, r->r_path, r->r_pathlen, is_unsafe) ==
	    -1)
		return -1;
	if (r->r_args != NULL && (px_put(b, "?", 1) == -1 ||
	    px_put(b, r->r_args, r->r_argslen) == -1))
		return -1;
	return 0;
}

/* client headers that never go to the upstream as they are */
static int
is_hop_request(const struct http_header *h)
{
	return is_named(h, "host") || is_named(h, "connection") ||
	    is_named(h, "keep-alive") || is_named(h, "te") ||
	    is_named(h, "expect") || is_named(h, "upgrade") ||
	    is_named(h, "transfer-encoding") ||
	    is_named(h, "content-length") || is_named(h, "proxy-connection");
}

int
px_build_request(struct conn *c, struct proxy *px, struct buf *b)
{
	struct http_req *r = &c->c_req;
	const struct conf_proxy *pc = px->px_conf;
	const struct conf_proxy_header *ph;
	char num[32];
	size_t start;
	int i, n;

	/* after an error_page redirect the method is GET, as in nginx */
	if ((r->r_method != NULL ? px_put(b, r->r_method, r->r_methodlen) :
	    px_put(b, r->r_head.hh_method, r->r_head.hh_methodlen)) == -1 ||
	    px_put(b, " ", 1) == -1)
		return -1;
	start = b->b_last - b->b_start;
	if (px_put_target(c, b) == -1)
		return -1;
	n = snprintf(px->px_target, sizeof(px->px_target), "%s://%.280s%.*s",
	    pc->px_ssl ? "https" : "http",
	    px->px_ups->u_peers[px->px_peer].p_name, (int)MIN((size_t)200,
	    (size_t)(b->b_last -
	    b->b_start) - start), b->b_start + start);
	(void)n;
	if (px_put(b, pc->px_http_version == 11 ? " HTTP/1.1\r\n" :
	    " HTTP/1.0\r\n", 11) == -1)
		return -1;
	for (ph = pc->px_headers_final; ph != NULL; ph = ph->ph_next) {
		char *mark = b->b_last;

		if (px_put(b, ph->ph_name, ph->ph_namelen) == -1 ||
		    px_put(b, ": ", 2) == -1)
			return -1;
		start = b->b_last - b->b_start;
		if (http_var_render(c, ph->ph_value, b, VAR_ESC_NONE, 0) == -1)
			return -1;
		/* an empty value: the header is not sent */
		if ((size_t)(b->b_last - b->b_start) == start) {
			b->b_last = mark;
			continue;
		}
		if (http_token_eq(ph->ph_name, ph->ph_namelen, "upgrade"))
			px->px_upgrade = 1;
		if (http_token_eq(ph->ph_name, ph->ph_namelen, "connection") &&
		    memmem(b->b_start + start, b->b_last - (b->b_start + start),
		    "close", 5) != NULL)
			px->px_sent_close = 1;
		if (px_put(b, crlf, 2) == -1)
			return -1;
	}
	if (px->px_rbuffered && pc->px_pass_body) {
		n = snprintf(num, sizeof(num), "Content-Length: %lld\r\n",
		    (long long)px->px_rlen);
		if (px_put(b, num, n) == -1)
			return -1;
	} else if (r->r_has_body && pc->px_pass_body) {
		if (r->r_chunked) {
			if (px_put(b, "Transfer-Encoding: chunked\r\n", 28) ==
			    -1)
				return -1;
		} else {
			n = snprintf(num, sizeof(num),
			    "Content-Length: %lld\r\n",
			    (long long)r->r_body_left);
			if (px_put(b, num, n) == -1)
				return -1;
		}
	} else if (r->r_has_clen && pc->px_pass_body &&
	    px_put(b, "Content-Length: 0\r\n", 19) == -1)
		return -1;
	for (i = 0; pc->px_pass_headers && i < r->r_head.hh_nheaders; i++) {
		const struct http_header *h = &r->r_head.hh_headers[i];

		if (is_hop_request(h))
			continue;
		for (ph = pc->px_headers_final; ph != NULL; ph = ph->ph_next)
			if (http_token_eq(h->h_name, h->h_namelen, ph->ph_name))
				break;
		if (ph != NULL)
			continue;
		if (px_put(b, h->h_name, h->h_namelen) == -1 ||
		    px_put(b, ": ", 2) == -1 ||
		    px_put(b, h->h_value, h->h_valuelen) == -1 ||
		    px_put(b, crlf, 2) == -1)
			return -1;
	}
	return px_put(b, crlf, 2);
}

/* keep a piece of the request body: memory first, then the file */
static int
px_body_keep(struct conn *c, struct proxy *px, const char *p, size_t len)
{
	const struct conf_proxy *pc = px->px_conf;
	struct buf *m = px->px_rbody;
	ssize_t n;

	if (px->px_rfd == -1) {
		if (m == NULL && (m = px->px_rbody =
		    buf_get(pc->px_body_buffer)) == NULL)
			return -1;
		if ((size_t)(m->b_end - m->b_last) >= len) {
			memcpy(m->b_last, p, len);
			m->b_last += len;
			px->px_rlen += len;
			return 0;
		}
		/* too large for memory: all of it goes to a file */
		px->px_rfd = open(pc->px_body_temp, O_TMPFILE | O_RDWR |
		    O_CLOEXEC, 0600);
		if (px->px_rfd == -1) {
			conn_log(c, LOG_CRIT, "open() \"%s\" for a temporary "
			    "file failed (%d: %s)", pc->px_body_temp, errno,
			    strerror(errno));
			return -1;
		}
		if (m->b_last > m->b_start && pwrite(px->px_rfd, m->b_start,
		    m->b_last - m->b_start, 0) != m->b_last - m->b_start)
			goto fail;
		buf_put(m);
		px->px_rbody = NULL;
	}
	while (len > 0) {
		n = pwrite(px->px_rfd, p, len, px->px_rlen);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		p += n;
		len -= n;
		px->px_rlen += n;
	}
	return 0;
fail:
	conn_log(c, LOG_CRIT, "pwrite() to a temporary file failed (%d: %s)",
	    errno, strerror(errno));
	return -1;
}

/* read the whole request body, decoded, before connecting */
int
http_proxy_step_read_body(struct conn *c)
{
	struct proxy *px = c->c_proxy;
	struct http_req *r = &c->c_req;
	struct buf *in = c->c_in;
	int64_t max = r->r_loc->lc_client_max_body_size;
	const char *d;
	size_t have, dlen;
	ssize_t n;
	int rc;

	while (r->r_has_body) {
		if (in->b_pos == in->b_last) {
			if (http_head_detach(c) == -1)
				return px_fail(c, 500, "out of memory for a "
				    "buffer");
			in->b_pos = in->b_last = in->b_start;
			if (!c->c_readable)
				goto wait;
			rc = conn_read(c);
			if (rc == IO_AGAIN)
				goto wait;
			if (rc != IO_OK) {
				conn_log(c, LOG_INFO, "client prematurely "
				    "closed connection");
				return CS_CLOSE;
			}
			timer_set(&c->c_timer,
			    r->r_loc->lc_client_body_timeout);
		}
		if (!r->r_chunked) {
			have = MIN((size_t)(in->b_last - in->b_pos),
			    (size_t)r->r_body_left);
			if (px_body_keep(c, px, in->b_pos, have) == -1)
				return px_fail(c, 500, "the request body "
				    "could not be kept");
			in->b_pos += have;
			r->r_length += have;
			if ((r->r_body_left -= have) == 0)
				r->r_has_body = 0;
			continue;
		}
		n = http_chunked_step(&r->r_chunk, in->b_pos, in->b_last -
		    in->b_pos, &d, &dlen);
		if (n == -1)
			return px_fail(c, 400, "%s", r->r_chunk.hc_reason);
		in->b_pos += n;
		r->r_length += n;
		if (max > 0 && px->px_rlen + (off_t)dlen > max) {
			char why[128];

			snprintf(why, sizeof(why), "client intended to send "
			    "too large chunked body: %lld+%zu bytes",
			    (long long)px->px_rlen, dlen);
			return px_fail(c, 413, "%s", why);
		}
		if (dlen > 0 && px_body_keep(c, px, d, dlen) == -1)
			return px_fail(c, 500, "the request body could not be "
			    "kept");
		if (http_chunked_done(&r->r_chunk))
			r->r_has_body = 0;
	}
	return px_connect(c, px);
wait:
	if (!timer_is_armed(&c->c_timer))
		timer_set(&c->c_timer, r->r_loc->lc_client_body_timeout);
	return CS_WAIT;
}

/* the kept body to the upstream: 1 all sent, 0 wait, -1 error */
static int
px_send_kept(struct conn *c, struct proxy *px)
{
	size_t done;
	ssize_t n;
	int rc;

	while (px->px_rsent < px->px_rlen) {
		if (px->px_rbody != NULL) {
			rc = px_write(c, px, px->px_rbody->b_start +
			    px->px_rsent, px->px_rlen - px->px_rsent, &done);
			px->px_rsent += done;
			if (rc != 1)
				return rc;
			continue;
		}
		if (!px->px_writable)
			return 0;
		n = io_sendfile(px->px_fd, px->px_ssl, px->px_rfd,
		    &px->px_rsent, px->px_rlen - px->px_rsent);
		if (n > 0) {
			px->px_bytes_sent += n;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN) {
			px->px_writable = 0;
			return 0;
		}
		return -1;
	}
	return 1;
}

/* write from p; 1 when all of it went, 0 to wait, -1 on error */
int
px_write(struct conn *c, struct proxy *px, const char *p, size_t len,
    size_t *done)
{
	ssize_t n;

	*done = 0;
	while (*done < len) {
		if (!px->px_writable)
			return 0;
		n = io_write(px->px_fd, px->px_ssl, p + *done, len - *done);
		if (n > 0) {
			*done += n;
			px->px_bytes_sent += n;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN) {
			px->px_writable = 0;
			return 0;
		}
		return -1;
	}
	return 1;
}

/*
 * Send the head that px_buf holds, then the body as it comes from the
 * client, written from the client's buffer before that is read into
 * again: a fixed length is counted down, a chunked body is checked by
 * the decoder and its framing passed on as it was.
 */
int
http_proxy_step_send(struct conn *c)
{
	struct proxy *px = c->c_proxy;
	struct http_req *r = &c->c_req;
	struct buf *b = px->px_buf, *in = c->c_in, *nb;
	const char *data, *d;
	size_t done, have;
	ssize_t n;
	int rc;

	for (;;) {
		/*
		 * The upstream answers before it has the whole request (a 413
		 * to an upload, say): the answer is read and relayed, the rest
		 * of the body is not sent, and the connection is not kept.
		 * Over TLS a readable socket may hold only TLS's own messages
		 * (session tickets): those are not an answer.
		 */
		if (px->px_connected && px->px_readable && px->px_ssl != NULL &&
		    !io_tls_has_data(px->px_ssl))
			px->px_readable = 0;
		if (px->px_connected && px->px_readable &&
		    (px->px_slen > 0 || r->r_has_body ||
		    px->px_rsent < px->px_rlen)) {
			px->px_early = 1;
			r->r_keepalive = 0;
			break;
		}
		if (px->px_slen > 0) {
			rc = px_write(c, px, px->px_sp, px->px_slen, &done);
			px->px_sp += done;
			px->px_slen -= done;
			if (rc == -1 && px->px_connected && (errno == EPIPE ||
			    errno == ECONNRESET) && !px_can_retry(px)) {
				px->px_early = 1;
				px->px_send_errno = errno;
				r->r_keepalive = 0;
				break;
			}
			if (rc == -1 && !px->px_connected) {
				c->c_action = "connecting to upstream";
				return px_err(c, PXN_ERROR, "connect() failed (%d: "
				    "%s)", errno, strerror(errno));
			}
			if (rc == -1 && px_can_retry(px))
				return px_retry_fresh(c, px);
			if (rc == -1)
				return px_err(c, PXN_ERROR, "write() failed (%d: "
				    "%s)", errno, strerror(errno));
			px->px_connected = 1;
			if (rc == 0)
				goto wait_upstream;
		}
		if (px->px_rbuffered) {
			rc = px_send_kept(c, px);
			if (rc == -1 && (errno == EPIPE || errno == ECONNRESET) &&
			    !px_can_retry(px)) {
				px->px_early = 1;
				px->px_send_errno = errno;
				r->r_keepalive = 0;
				break;
			}
			if (rc == -1 && px_can_retry(px))
				return px_retry_fresh(c, px);
			if (rc == -1)
				return px_err(c, PXN_ERROR, "write() failed (%d: "
				    "%s)", errno, strerror(errno));
			if (rc == 0)
				goto wait_upstream;
			break;
		}
		if (!r->r_has_body)
			break;
		/* the next piece of the body, from what the client sent */
		if (in->b_pos == in->b_last) {
			if (http_head_detach(c) == -1)
				return px_fail(c, 500, "out of memory for a "
				    "buffer");
			in->b_pos = in->b_last = in->b_start;
			/*
			 * The head's buffer (client_header_buffer_size, 1k)
			 * would stream the body in pieces as small: it goes
			 * through one of client_body_buffer_size instead.
			 */
			if (in->b_end - in->b_start < px->px_conf->px_body_buffer &&
			    (nb = buf_get(px->px_conf->px_body_buffer)) != NULL) {
				buf_put(c->c_in);
				c->c_in = in = nb;
			}
			if (!c->c_readable)
				goto wait_client;
			rc = conn_read(c);
			if (rc == IO_AGAIN)
				goto wait_client;
			if (rc != IO_OK) {
				conn_log(c, LOG_INFO, "client prematurely "
				    "closed connection");
				return CS_CLOSE;
			}
			timer_cancel(&c->c_timer);
		}
		data = in->b_pos;
		if (!r->r_chunked) {
			have = MIN((size_t)(in->b_last - in->b_pos),
			    (size_t)r->r_body_left);
			in->b_pos += have;
			r->r_body_left -= have;
			if (r->r_body_left == 0)
				r->r_has_body = 0;
		} else {
			while (in->b_pos < in->b_last &&
			    !http_chunked_done(&r->r_chunk)) {
				n = http_chunked_step(&r->r_chunk, in->b_pos,
				    in->b_last - in->b_pos, &d, &have);
				if (n == -1)
					return px_fail(c, 400, "%s",
					    r->r_chunk.hc_reason);
				in->b_pos += n;
			}
			if (http_chunked_done(&r->r_chunk))
				r->r_has_body = 0;
		}
		r->r_length += in->b_pos - data;
		/* with proxy_pass_request_body off it is read and dropped */
		if (px->px_pass_body) {
			px->px_sp = data;
			px->px_slen = in->b_pos - data;
		}
	}
	c->c_action = "reading response header from upstream";
	timer_cancel(&c->c_timer);
	timer_set(&c->c_timer, px->px_conf->px_read_timeout);
	b->b_pos = b->b_last = b->b_start;
	/*
	 * A kept connection waits for its edge like a new one: every
	 * arrival on the socket (the answer, a FIN, a reset) makes one, and
	 * while it was idle any of them closed it.  Over TLS, OpenSSL may
	 * hold what came with the last answer (a close_notify) where no edge
	 * tells of it: read once at once.  Without TLS that read would find
	 * nothing (EAGAIN) nearly always: 0.45 syscalls per request.
	 */
	if (px->px_reused && px->px_ssl != NULL)
		px->px_readable = 1;
	return CS_PROXY_HEAD;
wait_upstream:
	if (!timer_is_armed(&c->c_timer))
		timer_set(&c->c_timer, px->px_conf->px_send_timeout);
	return CS_WAIT;
wait_client:
	if (!timer_is_armed(&c->c_timer))
		timer_set(&c->c_timer, r->r_loc->lc_client_body_timeout);
	return CS_WAIT;
}
