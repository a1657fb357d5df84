/*
 * http_proxy.c: proxy_pass.  The upstream half of a connection: connect,
 * send the request head and stream the request body, read and check the
 * response head, then relay the body to the client with back-pressure
 * through one buffer (a slow client stops the reads from the upstream).
 *
 * The upstream's framing is checked as strictly as a client's: a head
 * that does not parse, Content-Length with Transfer-Encoding, a coding
 * other than chunked, or bad chunk framing is a 502 (or, once the head
 * has gone to the client, a closed connection), never passed on.
 */
#include "core.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <strings.h>
#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/uio.h>

#include "clock.h"
#include "conn.h"
#include "http_proxy.h"
#include "http_static.h"
#include "http_var.h"
#include "io.h"
#include "tls.h"
#include "log.h"
#include "upool.h"
#include "ups.h"

/* peers an upstream may have for retries; $upstream_* keep this many */
#define PX_MAX_PEERS	1024
#define PX_HIST		8
/* how long a finished connection waits for the upstream to close it */
#define PX_DRAIN_MS	1000

enum px_framing {
	PXF_NONE = 0,		/* no body: HEAD, 1xx, 204, 304 */
	PXF_LENGTH,		/* Content-Length */
	PXF_CHUNKED,		/* Transfer-Encoding: chunked */
	PXF_CLOSE,		/* until the upstream closes */
};

struct proxy {
	struct conn		*px_c;
	struct upconn		*px_uc;		/* the upstream connection */
	int			 px_fd;		/* its descriptor, or -1 */
	SSL			*px_ssl;	/* and its TLS, or NULL */
	int			 px_reused;	/* it came from the idle pool */
	int			 px_reusable;	/* and may go back there */
	int			 px_sent_close;	/* "Connection: close" sent */
	int			 px_fresh;	/* no idle connection: retrying */
	int			 px_hup;	/* the upstream closed its side */
	int			 px_had_body;	/* the request has a body */
	int			 px_early;	/* answered before all was sent */
	int			 px_send_errno;	/* the write that failed then */
	/* the peers tried, for the balancer and $upstream_addr */
	const struct conf_upstream *px_ups;
	int			 px_peer;	/* -1: none chosen */
	int			 px_peer_open;	/* balance_done() still owed */
	int			 px_tries;
	msec_t			 px_first;	/* the first try began */
	uint8_t			 px_tried[BALANCE_TRIED_BYTES(PX_MAX_PEERS)];
	struct {
		int		 h_peer;
		int		 h_status;
	}			 px_hist[PX_HIST];
	int			 px_nhist;
	int			 px_readable;
	int			 px_writable;
	int			 px_connected;
	const struct conf_proxy	*px_conf;
	struct buf		*px_buf;	/* request head, then response */
	struct http_head	 px_head;
	int			 px_code;	/* $upstream_status */
	int			 px_framing;
	int64_t			 px_left;	/* PXF_LENGTH: still to come */
	struct http_chunked	 px_chunk;
	int			 px_rechunk;	/* add chunk framing */
	int			 px_dechunk;	/* strip chunk framing */
	int			 px_eof;	/* the upstream closed */
	int			 px_last;	/* the final chunk is queued */
	int			 px_upgrade;	/* Upgrade went to the upstream */
	struct buf		*px_hbuf;	/* the response head, kept */
	struct buf		*px_hbig;	/* a request head too big for px_buf */
	/* $upstream_*_time, $upstream_bytes_* */
	msec_t			 px_t_start;
	msec_t			 px_t_connect;
	msec_t			 px_t_header;
	msec_t			 px_t_end;
	int64_t			 px_bytes_sent;
	int64_t			 px_bytes_received;
	/* proxy_buffering: the client's bytes in a temporary file */
	int			 px_spool_fd;
	int			 px_nospool;	/* it could not be made */
	off_t			 px_spool_r;	/* sent to the client up to */
	off_t			 px_spool_w;	/* written up to */
	/* proxy_request_buffering: the whole body before the upstream */
	int			 px_rbuffered;
	struct buf		*px_rbody;	/* in memory, while it fits */
	int			 px_rfd;	/* or in a file */
	off_t			 px_rlen;	/* its length */
	off_t			 px_rsent;	/* sent to the upstream */
	int			 px_pass_body;	/* the request body goes on */
	const char		*px_sp;		/* to the upstream next */
	size_t			 px_slen;
	/* what goes to the client next */
	char			 px_pre[24];
	struct iovec		 px_iov[4];	/* head, size, data, CRLF */
	int			 px_iovcnt;
	char			 px_target[512]; /* for the error log */
	struct proxy		*px_next;	/* free list */
};

static struct proxy *px_free;

static void px_peer_finish(struct conn *, struct proxy *, int);
static int px_connect(struct conn *, struct proxy *);
static int px_connect_peer(struct conn *, struct proxy *);

static const char *const crlf = "\r\n";

static struct proxy *
px_get(void)
{
	struct proxy *px = px_free;

	if (px != NULL)
		px_free = px->px_next;
	else if ((px = malloc(sizeof(*px))) == NULL)
		return NULL;
	memset(px, 0, offsetof(struct proxy, px_head));
	memset(&px->px_code, 0, sizeof(*px) - offsetof(struct proxy, px_code));
	px->px_fd = -1;
	px->px_ssl = NULL;
	px->px_spool_fd = -1;
	px->px_rfd = -1;
	return px;
}

void
http_proxy_release(struct conn *c)
{
	struct proxy *px = c->c_proxy;

	if (px == NULL)
		return;
	px_peer_finish(c, px, 0);
	if (px->px_uc != NULL)
		upool_close(px->px_uc);
	px->px_uc = NULL;
	px->px_fd = -1;
	px->px_ssl = NULL;
	if (px->px_spool_fd != -1)
		close(px->px_spool_fd);
	if (px->px_rfd != -1)
		close(px->px_rfd);
	buf_put(px->px_rbody);
	px->px_rbody = NULL;
	buf_put(px->px_buf);
	buf_put(px->px_hbuf);
	buf_put(px->px_hbig);
	px->px_buf = px->px_hbuf = px->px_hbig = NULL;
	px->px_next = px_free;
	px_free = px;
	c->c_proxy = NULL;
}

/* the exchange with the chosen peer is over: the balancer is told */
static void
px_peer_finish(struct conn *c, struct proxy *px, int failed)
{
	struct balance *b;

	if (!px->px_peer_open)
		return;
	px->px_peer_open = 0;
	if ((b = ups_balance(px->px_ups)) == NULL)
		return;
	if (balance_done(b, px->px_peer, failed, clock_now()) == 1)
		conn_log(c, LOG_WARN, "upstream server temporarily disabled");
}

static void
px_hist_status(struct proxy *px, int status)
{
	if (px->px_nhist > 0)
		px->px_hist[px->px_nhist - 1].h_status = status;
}

/* the upstream connection is closed (not kept) */
static void
px_drop_upstream(struct proxy *px)
{
	if (px->px_uc != NULL)
		upool_close(px->px_uc);
	px->px_uc = NULL;
	px->px_fd = -1;
	px->px_ssl = NULL;
}

static void
px_on_wake(void *owner, uint32_t events)
{
	struct proxy *px = owner;

	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		px->px_readable = 1;
	if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
		px->px_writable = 1;
	/* the upstream's FIN came with its answer: not to be kept */
	if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		px->px_hup = 1;
	/* TLS: a read may wait for the socket to drain, a write for input */
	if ((events & EPOLLOUT) && io_wants_write(px->px_ssl))
		px->px_readable = 1;
	if ((events & EPOLLIN) && io_wants_read(px->px_ssl))
		px->px_writable = 1;
	conn_wakeup(px->px_c);
}

const char *
http_proxy_target(struct conn *c)
{
	return c->c_proxy != NULL ? c->c_proxy->px_target : NULL;
}

int
http_proxy_status(struct conn *c)
{
	return c->c_proxy != NULL ? c->c_proxy->px_code : 0;
}

/*
 * $upstream_addr and $upstream_status: one entry per peer tried, joined
 * by ", " as nginx writes them.  0, or -1 when b is full; 1 when there is
 * nothing to say.
 */
int
http_proxy_render_list(struct conn *c, int status, struct buf *b)
{
	const struct proxy *px = c->c_proxy;
	char num[16];
	const char *v;
	size_t len;
	int i;

	if (px == NULL || px->px_nhist == 0)
		return 1;
	for (i = 0; i < px->px_nhist; i++) {
		if (i > 0) {
			if (b->b_end - b->b_last < 2)
				return -1;
			memcpy(b->b_last, ", ", 2);
			b->b_last += 2;
		}
		if (status) {
			len = snprintf(num, sizeof(num), "%d",
			    px->px_hist[i].h_status ? px->px_hist[i].h_status :
			    502);
			v = num;
		} else {
			v = px->px_ups->u_peers[px->px_hist[i].h_peer].p_name;
			len = strlen(v);
		}
		if ((size_t)(b->b_end - b->b_last) < len)
			return -1;
		memcpy(b->b_last, v, len);
		b->b_last += len;
	}
	return 0;
}

/* the answer is portico's own page for status; the upstream is let go */
static int
px_final(struct conn *c, int status)
{
	struct proxy *px = c->c_proxy;

	if (px != NULL && px->px_code == 0)
		px->px_code = status;
	/*
	 * After a client's error the connection ends, and after a 500 or 501,
	 * as in nginx; after the upstream's it can go on (what is left of a
	 * body is read and dropped first)
	 */
	if (status <= 501)
		c->c_req.r_keepalive = 0;
	if (px != NULL) {
		px_peer_finish(c, px, 0);
		px_drop_upstream(px);
	}
	return http_special(c, status);
}

/* an error of portico's or the client's before the answer: 4xx or 500 */
static int
px_fail(struct conn *c, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
px_fail(struct conn *c, int status, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	conn_log(c, LOG_ERR, "%s", msg);
	return px_final(c, status);
}

static int
is_tried(const struct proxy *px, int i)
{
	return px->px_tried[i / 8] & (1 << (i % 8));
}

/* may the request go to another peer after a failure of this kind? */
static int
px_can_next(struct conn *c, struct proxy *px, int kind)
{
	const struct conf_proxy *pc = px->px_conf;
	const struct http_head *h = &c->c_req.r_head;
	struct balance *b = ups_balance(px->px_ups);
	msec_t now = clock_now();
	int i;

	if (!(pc->px_next & kind) || b == NULL)
		return 0;
	/* a body that went on as it came cannot be sent again */
	if (px->px_had_body && !px->px_rbuffered)
		return 0;
	if (!(pc->px_next & PXN_NON_IDEMPOTENT) &&
	    (http_token_eq(h->hh_method, h->hh_methodlen, "POST") ||
	    http_token_eq(h->hh_method, h->hh_methodlen, "LOCK") ||
	    http_token_eq(h->hh_method, h->hh_methodlen, "PATCH")))
		return 0;
	if (pc->px_next_tries > 0 && px->px_tries >= pc->px_next_tries)
		return 0;
	if (pc->px_next_timeout > 0 && now - px->px_first >=
	    pc->px_next_timeout)
		return 0;
	for (i = 0; i < px->px_ups->u_npeers; i++)
		if (!is_tried(px, i) && balance_is_available(b, i, now))
			return 1;
	return 0;
}

/* the request starts over on another peer */
static int
px_next(struct conn *c, struct proxy *px)
{
	px_drop_upstream(px);
	px->px_reused = px->px_connected = px->px_fresh = px->px_hup = 0;
	px->px_rsent = 0;
	px->px_bytes_sent = px->px_bytes_received = 0;
	px->px_upgrade = px->px_sent_close = 0;
	px->px_readable = px->px_writable = 0;
	px->px_t_connect = px->px_t_header = -1;
	px->px_code = 0;
	px->px_buf->b_pos = px->px_buf->b_last = px->px_buf->b_start;
	return px_connect(c, px);
}

/*
 * The upstream failed (kind: PXN_ERROR, PXN_TIMEOUT, PXN_INVALID_HEADER):
 * logged, counted against the peer, then the request goes to the next
 * peer as proxy_next_upstream allows, or the answer is 502 (504 for a
 * timeout).
 */
static int
px_err(struct conn *c, int kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
px_err(struct conn *c, int kind, const char *fmt, ...)
{
	struct proxy *px = c->c_proxy;
	int status = kind == PXN_TIMEOUT ? 504 : 502;
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	conn_log(c, LOG_ERR, "%s", msg);
	px_hist_status(px, status);
	px_peer_finish(c, px, 1);
	if (px_can_next(c, px, kind))
		return px_next(c, px);
	return px_final(c, status);
}

static int
px_put(struct buf *b, const char *s, size_t len)
{
	if ((size_t)(b->b_end - b->b_last) < len)
		return -1;
	memcpy(b->b_last, s, len);
	b->b_last += len;
	return 0;
}

/* a URI byte that goes to the upstream %-encoded, as nginx escapes */
static int
is_unsafe(unsigned char ch)
{
	return ch <= 0x20 || ch >= 0x7f || ch == '#' || ch == '%' ||
	    ch == '?' || ch == '"';
}

static int
px_put_escaped(struct buf *b, const char *s, size_t len)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char ch = s[i];

		if (!is_unsafe(ch)) {
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

/*
 * The request target, by nginx's rule: with a URI in proxy_pass, the
 * part of $uri that the location matched is replaced by it; without, the
 * client's own target goes on unchanged unless the URI was changed here.
 */
static int
px_put_target(struct conn *c, struct buf *b)
{
	struct http_req *r = &c->c_req;
	const struct conf_proxy *px = &r->r_loc->lc_px;
	const struct conf_loc *l = r->r_loc;
	const char *t = r->r_head.hh_target;
	size_t skip;

	if (px->px_uri == NULL && r->r_redirects == 0) {
		/* the absolute form becomes the origin form */
		if (t[0] != '/' && t[0] != '*') {
			size_t off = 7 + strcspn(t + 7, "/?");

			if (off >= r->r_head.hh_targetlen)
				return px_put(b, "/", 1);
			if (t[off] == '?' && px_put(b, "/", 1) == -1)
				return -1;
			return px_put(b, t + off, r->r_head.hh_targetlen - off);
		}
		return px_put(b, t, r->r_head.hh_targetlen);
	}
	if (px->px_uri != NULL) {
		skip = l->lc_match == LOC_EXACT ? r->r_pathlen :
		    MIN(l->lc_namelen, r->r_pathlen);
		if (px_put(b, px->px_uri, px->px_urilen) == -1 ||
		    px_put_escaped(b, r->r_path + skip, r->r_pathlen - skip) ==
		    -1)
			return -1;
	} else if (px_put_escaped(b, r->r_path, r->r_pathlen) == -1)
		return -1;
	if (r->r_args != NULL && (px_put(b, "?", 1) == -1 ||
	    px_put(b, r->r_args, r->r_argslen) == -1))
		return -1;
	return 0;
}

static int
is_named(const struct http_header *h, const char *name)
{
	return http_token_eq(h->h_name, h->h_namelen, name);
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

static int px_start_tunnel(struct conn *, struct proxy *);
static int px_write(struct conn *, struct proxy *, const char *, size_t,
    size_t *);

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

/* $upstream_http_<name>: '_' for '-', any case */
int
http_proxy_header(struct conn *c, const char *name, size_t nlen,
    const char **v, size_t *vlen)
{
	const struct proxy *px = c->c_proxy;
	int i;
	size_t j;

	if (px == NULL || px->px_t_header == -1)
		return 0;
	for (i = 0; i < px->px_head.hh_nheaders; i++) {
		const struct http_header *h = &px->px_head.hh_headers[i];

		if (h->h_namelen != nlen)
			continue;
		for (j = 0; j < nlen; j++)
			if ((name[j] == '_' ? '-' : name[j] | 0x20) !=
			    (h->h_name[j] | 0x20))
				break;
		if (j == nlen) {
			*v = h->h_value;
			*vlen = h->h_valuelen;
			return 1;
		}
	}
	return 0;
}

/* $upstream_connect_time and the others: -1 when not reached */
int
http_proxy_times(struct conn *c, int which, msec_t *out)
{
	const struct proxy *px = c->c_proxy;
	msec_t t;

	if (px == NULL)
		return 0;
	switch (which) {
	case PX_TIME_CONNECT:
		t = px->px_t_connect;
		break;
	case PX_TIME_HEADER:
		t = px->px_t_header;
		break;
	case PX_TIME_RESPONSE:
		t = px->px_t_end != -1 ? px->px_t_end : clock_now();
		break;
	case PX_BYTES_SENT:
		*out = px->px_bytes_sent;
		return 1;
	default:
		*out = px->px_bytes_received;
		return 1;
	}
	if (t == -1)
		return 0;
	*out = t - px->px_t_start;
	return 1;
}

static int
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
	n = snprintf(px->px_target, sizeof(px->px_target), "http://%.280s%.*s",
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

/*
 * An idle keep-alive connection can have been closed by the upstream
 * just as it was taken: when it fails before a byte of the answer, the
 * request goes again on a new connection, if it can be sent again.
 */
static int
px_can_retry(const struct proxy *px)
{
	return px->px_reused && px->px_bytes_received == 0 &&
	    (px->px_rbuffered || !px->px_had_body);
}

static int
px_retry_fresh(struct conn *c, struct proxy *px)
{
	log_debug("conn %llu: a kept upstream connection failed, retrying on "
	    "a new one", (unsigned long long)c->c_id);
	px_drop_upstream(px);
	px->px_reused = px->px_connected = px->px_hup = 0;
	px->px_fresh = 1;
	px->px_rsent = 0;
	px->px_bytes_sent = 0;
	px->px_upgrade = px->px_sent_close = 0;
	px->px_buf->b_pos = px->px_buf->b_last = px->px_buf->b_start;
	/* the same peer: only its kept connection was stale */
	return px_connect_peer(c, px);
}

/* the balancer's choice for this request; -1 when no peer is left */
static int
px_pick(struct conn *c, struct proxy *px)
{
	const struct conf_upstream *u = px->px_ups;
	struct balance *b = ups_balance(u);
	char kb[512];
	struct buf key = { kb, kb, kb, kb + sizeof(kb), NULL };

	if (b == NULL)
		return -1;
	if (u->u_hash_key != NULL &&
	    http_var_render(c, u->u_hash_key, &key, VAR_ESC_NONE, 0) == -1)
		key.b_last = kb;	/* too long: hashed as empty */
	return balance_pick(b, (const struct sockaddr *)&c->c_peer, kb,
	    key.b_last - kb, px->px_tried, clock_now());
}

/* choose a peer, build the request and start connecting: the next state */
static int
px_connect(struct conn *c, struct proxy *px)
{
	int i;

	if (px->px_tries == 0)
		px->px_first = clock_now();
	if ((i = px_pick(c, px)) == -1) {
		/* after failed tries the last failure is the answer */
		if (px->px_nhist > 0 && px->px_hist[px->px_nhist - 1].h_status)
			return px_final(c, px->px_hist[px->px_nhist -
			    1].h_status);
		c->c_action = "connecting to upstream";
		conn_log(c, LOG_ERR, "no live upstreams");
		return px_final(c, 502);
	}
	px->px_peer = i;
	px->px_peer_open = 1;
	px->px_tries++;
	if (px->px_nhist < PX_HIST) {
		px->px_hist[px->px_nhist].h_peer = i;
		px->px_hist[px->px_nhist++].h_status = 0;
	}
	return px_connect_peer(c, px);
}

/* build the request and connect to the chosen peer: the next state */
static int
px_connect_peer(struct conn *c, struct proxy *px)
{
	struct http_req *r = &c->c_req;
	const struct conf_proxy *pc = px->px_conf;
	const struct conf_upstream *u = px->px_ups;
	const struct conf_peer *peer = &u->u_peers[px->px_peer];
	struct buf *hb;
	int fd, on = 1;

	/*
	 * The head goes in px_buf, which the answer reuses; a head larger
	 * than that (the client's may be up to large_client_header_buffers)
	 * gets a buffer of its own.
	 */
	hb = px->px_buf;
	hb->b_pos = hb->b_last = hb->b_start;
	if (px_build_request(c, px, hb) == -1) {
		const struct conf_srv *s = c->c_listen->gl_default;
		size_t size = (size_t)(s->sc_large_num * s->sc_large_size) +
		    8192;

		if (px->px_hbig == NULL && (px->px_hbig = buf_get(size)) ==
		    NULL)
			return px_fail(c, 500, "out of memory for a buffer");
		hb = px->px_hbig;
		hb->b_pos = hb->b_last = hb->b_start;
		if (px_build_request(c, px, hb) == -1)
			return px_fail(c, 500, "the request to the upstream "
			    "does not fit %zu bytes", size);
	}
	px->px_sp = hb->b_start;
	px->px_slen = hb->b_last - hb->b_start;
	px->px_t_start = clock_now();

	/* an idle keep-alive connection first: no connect at all */
	if (u->u_keepalive > 0 && !px->px_fresh &&
	    (px->px_uc = upool_get(peer, pc->px_ssl ? pc->px_ssl_ctx :
	    NULL)) != NULL) {
		px->px_uc->uc_wake = px_on_wake;
		px->px_uc->uc_owner = px;
		px->px_fd = px->px_uc->uc_fd;
		px->px_ssl = px->px_uc->uc_ssl;
		px->px_reused = 1;
		px->px_connected = 1;
		px->px_writable = 1;
		px->px_readable = 0;
		px->px_t_connect = px->px_t_start;
		c->c_action = "sending request to upstream";
		timer_cancel(&c->c_timer);
		return CS_PROXY_SEND;
	}
	fd = socket(peer->p_addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1)
		return px_err(c, PXN_ERROR, "socket() failed (%d: %s)", errno,
		    strerror(errno));
	/* the head goes in one write; a body after it must not wait */
	if (r->r_has_body || px->px_rbuffered)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	c->c_action = "connecting to upstream";
	if (connect(fd, (const struct sockaddr *)&peer->p_addr,
	    peer->p_addrlen) ==
	    -1 && errno != EINPROGRESS) {
		close(fd);
		return px_err(c, PXN_ERROR, "connect() failed (%d: %s)", errno,
		    strerror(errno));
	}
	if ((px->px_uc = upool_new(fd, peer, pc->px_ssl ? pc->px_ssl_ctx :
	    NULL)) == NULL) {
		close(fd);
		return px_err(c, PXN_ERROR, "epoll_ctl() failed (%d: %s)", errno,
		    strerror(errno));
	}
	px->px_uc->uc_wake = px_on_wake;
	px->px_uc->uc_owner = px;
	px->px_fd = fd;
	timer_cancel(&c->c_timer);
	timer_set(&c->c_timer, pc->px_connect_timeout);
	return CS_PROXY_CONNECT;
}

int
http_proxy_start(struct conn *c)
{
	struct http_req *r = &c->c_req;
	const struct conf_proxy *pc = &r->r_loc->lc_px;
	struct proxy *px;
	size_t size;

	if ((px = px_get()) == NULL)
		return http_special(c, 500);
	c->c_proxy = px;
	px->px_c = c;
	px->px_conf = pc;
	px->px_pass_body = pc->px_pass_body;
	px->px_had_body = r->r_has_body;
	px->px_ups = pc->px_ups;
	px->px_peer = -1;
	px->px_t_start = clock_now();
	px->px_t_connect = px->px_t_header = px->px_t_end = -1;
	/* the response in memory: at most proxy_buffers, as in nginx */
	size = MAX((size_t)pc->px_buffer_size, (size_t)(pc->px_buffers_num *
	    pc->px_buffers_size));
	if ((px->px_buf = buf_get(size)) == NULL)
		return px_fail(c, 500, "out of memory for a buffer");
	/* the client waits for this before it sends the body */
	if (r->r_has_body && r->r_expect && r->r_head.hh_version == 11 &&
	    c->c_in->b_pos == c->c_in->b_last) {
		ssize_t n = io_write(c->c_fd, c->c_ssl,
		    "HTTP/1.1 100 Continue\r\n\r\n", 25);

		(void)n;	/* a client that misses it sends anyway */
	}
	/*
	 * proxy_request_buffering (and any chunked body to an HTTP/1.0
	 * upstream): the whole body is read first, so a slow client holds
	 * no upstream connection and the upstream gets a Content-Length
	 */
	if (r->r_has_body && pc->px_pass_body && (pc->px_request_buffering ||
	    (r->r_chunked && pc->px_http_version == 10))) {
		px->px_rbuffered = 1;
		c->c_action = "reading client request body";
		timer_set(&c->c_timer, r->r_loc->lc_client_body_timeout);
		return CS_PROXY_READ_BODY;
	}
	return px_connect(c, px);
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

/* the name proxy_ssl_name gives ($proxy_host), without a port */
static const char *
px_tls_name(struct conn *c, struct proxy *px, char *dst, size_t size)
{
	const struct conf_proxy *pc = px->px_conf;
	const char *n = pc->px_host, *colon;
	size_t len = pc->px_hostlen;

	if (pc->px_ssl_name != NULL &&
	    (n = http_work_render(c, pc->px_ssl_name, &len)) == NULL)
		return NULL;
	if (len > 0 && n[0] == '[') {
		/* "[::1]:443": the address inside the brackets */
		if ((colon = memchr(n, ']', len)) != NULL)
			len = colon - n - 1;
		n++;
	} else if ((colon = memchr(n, ':', len)) != NULL &&
	    memchr(colon + 1, ':', len - (colon + 1 - n)) == NULL)
		len = colon - n;
	if (len >= size)
		return NULL;
	memcpy(dst, n, len);
	dst[len] = '\0';
	return dst;
}

/* proxy_pass https://: the handshake, bounded by proxy_connect_timeout */
static int
px_tls_handshake(struct conn *c, struct proxy *px)
{
	const struct conf_proxy *pc = px->px_conf;
	char name[256], err[512];
	socklen_t sl = sizeof(int);
	int soerr = 0, want_write = 0, rc;

	if (px->px_ssl == NULL) {
		/* a refused connect is told as such, not as a TLS error */
		if (getsockopt(px->px_fd, SOL_SOCKET, SO_ERROR, &soerr,
		    &sl) == 0 && soerr != 0)
			return px_err(c, PXN_ERROR, "connect() failed (%d: %s)",
			    soerr, strerror(soerr));
		if (!px->px_writable)
			return CS_WAIT;
		if (px_tls_name(c, px, name, sizeof(name)) == NULL)
			return px_fail(c, 500, "proxy_ssl_name is too long");
		px->px_ssl = tls_upstream_new(pc->px_ssl_ctx, px->px_fd, name,
		    pc->px_ssl_server_name, pc->px_ssl_session_reuse ?
		    px->px_uc->uc_key : NULL);
		if (px->px_ssl == NULL)
			return px_fail(c, 500, "no TLS for the upstream");
		px->px_uc->uc_ssl = px->px_ssl;
		c->c_action = "SSL handshaking to upstream";
	}
	rc = tls_upstream_handshake(px->px_ssl, &want_write, err, sizeof(err));
	if (rc == IO_AGAIN) {
		if (want_write)
			px->px_writable = 0;
		else
			px->px_readable = 0;
		return CS_WAIT;
	}
	if (rc == IO_ERROR)
		return px_err(c, PXN_ERROR, "%s", err);
	px->px_t_connect = clock_now();
	timer_cancel(&c->c_timer);
	c->c_action = "sending request to upstream";
	return CS_PROXY_SEND;
}

int
http_proxy_step_connect(struct conn *c)
{
	struct proxy *px = c->c_proxy;

	if (!px->px_writable && !px->px_readable)
		return CS_WAIT;
	if (px->px_conf->px_ssl)
		return px_tls_handshake(c, px);
	/* a failed connect shows as the error of the first write */
	px->px_t_connect = clock_now();
	timer_cancel(&c->c_timer);
	c->c_action = "sending request to upstream";
	return CS_PROXY_SEND;
}

/* write from p; 1 when all of it went, 0 to wait, -1 on error */
static int
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
	struct buf *b = px->px_buf, *in = c->c_in;
	const char *data, *d;
	size_t done, have;
	ssize_t n;
	int rc;

	for (;;) {
		/*
		 * The upstream answers before it has the whole request (a 413
		 * to an upload, say): the answer is read and relayed, the rest
		 * of the body is not sent, and the connection is not kept
		 */
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
	 * A kept connection's edges may have come before it was taken (the
	 * upstream's FIN as the last answer ended): read once, not wait
	 */
	if (px->px_reused)
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

	if (uc == NULL)
		return;
	px->px_t_end = clock_now();
	/* nothing may be left over: it would be the next answer's start */
	if (px->px_ssl != NULL && px->px_conf->px_ssl_session_reuse)
		tls_upstream_keep(uc->uc_key, px->px_ssl);
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

/* a timer of a proxy state ran out */
int
http_proxy_timeout(struct conn *c)
{
	switch (c->c_state) {
	case CS_PROXY_READ_BODY:
		c->c_req.r_keepalive = 0;
		conn_log(c, LOG_INFO, "client timed out");
		return CS_CLOSE;
	case CS_PROXY_CONNECT:
		return px_err(c, PXN_TIMEOUT, "upstream timed out (110: Connection "
		    "timed out)");
	case CS_PROXY_SEND:
		if (c->c_proxy->px_slen > 0 || (c->c_proxy->px_rbuffered &&
		    c->c_proxy->px_rsent < c->c_proxy->px_rlen))
			return px_err(c, PXN_TIMEOUT, "upstream timed out (110: "
			    "Connection timed out)");
		c->c_action = "reading client request body";
		conn_log(c, LOG_INFO, "client timed out");
		return CS_CLOSE;
	case CS_PROXY_HEAD:
		return px_err(c, PXN_TIMEOUT, "upstream timed out (110: Connection "
		    "timed out)");
	case CS_PROXY_TUNNEL:
		conn_log(c, LOG_INFO, "upgraded connection idle for "
		    "proxy_read_timeout: closed");
		return CS_CLOSE;
	default:
		if (c->c_proxy->px_iovcnt > 0) {
			c->c_action = "sending to client";
			conn_log(c, LOG_INFO, "client timed out");
		} else
			conn_log(c, LOG_ERR, "upstream timed out (110: "
			    "Connection timed out)");
		return CS_CLOSE;
	}
}
