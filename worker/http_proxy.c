/*
 * http_proxy.c: proxy_pass.  The upstream half of a connection: choose a
 * peer, connect (with the TLS handshake for proxy_pass https://), and
 * decide what a failure becomes: the same request on a new connection,
 * the next peer as proxy_next_upstream allows, or portico's own 502/504.
 * Also the release of it all, the timeouts of the CS_PROXY_* states and
 * what the $upstream_* variables read.
 *
 * The request side (its head, its body buffered or streamed) is in
 * http_proxy_req.c, the response side (its head checked and rewritten,
 * its body relayed, the tunnel after a 101) in http_proxy_resp.c;
 * struct proxy, which the three share, in http_proxy_int.h.
 */
#include "core.h"

#include <netinet/in.h>
#include <netinet/tcp.h>

#include "clock.h"
#include "conn.h"
#include "http_proxy.h"
#include "http_proxy_int.h"
#include "str.h"
#include "http_var.h"
#include "io.h"
#include "tls.h"
#include "log.h"
#include "upool.h"
#include "ups.h"

static struct proxy *px_free;

static int px_connect_peer(struct conn *, struct proxy *);

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
void
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

void
px_hist_status(struct proxy *px, int status)
{
	if (px->px_nhist > 0)
		px->px_hist[px->px_nhist - 1].h_status = status;
}

/* the upstream connection is closed (not kept) */
void
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
int
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
int
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
int
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
int
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

/*
 * An idle keep-alive connection can have been closed by the upstream
 * just as it was taken: when it fails before a byte of the answer, the
 * request goes again on a new connection, if it can be sent again.
 */
int
px_can_retry(const struct proxy *px)
{
	return px->px_reused && px->px_bytes_received == 0 &&
	    (px->px_rbuffered || !px->px_had_body);
}

int
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
int
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

/* an upstream that a proxy_pass made of "[https://]host:port" (or unix:) */
static const struct conf_upstream *
implicit_find(const struct gen *g, int ssl, const char *h, size_t hl,
    int port)
{
	const struct conf_upstream *u;
	char name[300];

	if (port == -1)
		snprintf(name, sizeof(name), "%s%.*s", ssl ? "https://" : "",
		    (int)hl, h);
	else
		snprintf(name, sizeof(name), "%s%.*s:%d", ssl ? "https://" : "",
		    (int)hl, h, port);
	for (u = g->g_http->hc_upstreams; u != NULL; u = u->u_next)
		if (u->u_implicit && strcasecmp(u->u_name, name) == 0)
			return u;
	return NULL;
}

/*
 * The host of a URL made per request: "name", "name:port", "[v6]:port",
 * "unix:/path:".  Sets *hl to the host's length without the port, *end
 * to where the URI begins, *port (-1 for a unix socket); -1 if invalid.
 */
static int
pass_host(const char *h, int defport, size_t *hl, const char **end,
    long long *port)
{
	const char *e, *p;
	char pbuf[8];
	size_t n = strcspn(h, "/?"), pl;

	*port = defport;
	if (strncmp(h, "unix:", 5) == 0) {
		*hl = 5 + strcspn(h + 5, ":");
		*end = h + *hl + (h[*hl] == ':');
		*port = -1;
		return h[5] == '/' ? 0 : -1;
	}
	*end = h + n;
	if (n > 0 && h[0] == '[') {
		if ((e = memchr(h, ']', n)) == NULL || e == h + 1)
			return -1;
		e++;
		if (e != h + n && *e != ':')
			return -1;
	} else
		e = memchr(h, ':', n);
	if (e == NULL || e == h + n) {
		*hl = n;
		return n > 0 ? 0 : -1;
	}
	*hl = e - h;
	p = e + 1;
	pl = h + n - p;
	if (*hl == 0 || pl == 0 || pl >= sizeof(pbuf))
		return -1;
	memcpy(pbuf, p, pl);
	pbuf[pl] = '\0';
	if (str_parse_int(pbuf, 65535, port) == -1 || *port == 0)
		return -1;
	return 0;
}

/*
 * proxy_pass with variables: the URI this request sends and, when the
 * host is in a variable too, the upstream it names: an upstream block
 * (without a port), or a host:port another proxy_pass made into one.
 * Names are resolved at load only, so any other host is an error, as
 * in nginx without a resolver.  0, or the status to answer.
 */
static int
px_pass_eval(struct conn *c, struct proxy *px)
{
	const struct conf_proxy *pc = px->px_conf;
	const struct conf_upstream *u = NULL;
	const char *h, *end;
	char *s, name[256];
	size_t len, hl;
	long long port;
	int defport = pc->px_ssl ? 443 : 80;

	s = http_work_render(c, pc->px_uri_tpl != NULL ? pc->px_uri_tpl :
	    pc->px_pass_tpl, &len);
	if (s == NULL) {
		conn_log(c, LOG_ERR, "no per-request memory left for "
		    "\"proxy_pass\"");
		return 500;
	}
	if (pc->px_uri_tpl != NULL) {
		if (len > 0) {
			px->px_duri = s;
			px->px_durilen = len;
		}
		return 0;
	}
	/* the scheme is written out: the load checked it */
	h = s + (pc->px_ssl ? 8 : 7);
	if (pass_host(h, defport, &hl, &end, &port) == -1 ||
	    hl >= sizeof(name)) {
		conn_log(c, LOG_ERR, "invalid host in upstream \"%s\"", h);
		return 500;
	}
	/* $proxy_host: the port only when it is not the scheme's */
	if (port == -1) {
		px->px_dhost = "localhost";
		px->px_dhostlen = 9;
		px->px_dport = defport;
	} else {
		px->px_dhost = h;
		px->px_dhostlen = port == defport ? hl : (size_t)(end - h);
		px->px_dport = (int)port;
	}
	if (port != -1 && end == h + hl) {
		memcpy(name, h, hl);
		name[hl] = '\0';
		u = conf_upstream_find(c->c_gen, name);
	}
	if (u == NULL)
		u = implicit_find(c->c_gen, pc->px_ssl, h, hl, (int)port);
	if (u == NULL) {
		conn_log(c, LOG_ERR, "no resolver defined to resolve %.*s",
		    (int)hl, h);
		return 502;
	}
	px->px_ups = u;
	if (*end != '\0') {
		px->px_duri = end;
		px->px_durilen = len - (end - s);
	}
	return 0;
}

/* $proxy_host and $proxy_port of the request: 0 when it has none */
int
http_proxy_host(struct conn *c, const char **host, size_t *len, int *port)
{
	const struct conf_proxy *pc;

	if (c->c_reqp == NULL || c->c_req.r_loc == NULL ||
	    !c->c_req.r_loc->lc_px.px_pass)
		return 0;
	pc = &c->c_req.r_loc->lc_px;
	if (pc->px_pass_tpl != NULL) {
		if (c->c_proxy == NULL || c->c_proxy->px_dhost == NULL)
			return 0;
		*host = c->c_proxy->px_dhost;
		*len = c->c_proxy->px_dhostlen;
		*port = c->c_proxy->px_dport;
		return 1;
	}
	*host = pc->px_host;
	*len = pc->px_hostlen;
	*port = pc->px_port;
	return 1;
}

int
http_proxy_start(struct conn *c)
{
	struct http_req *r = &c->c_req;
	const struct conf_proxy *pc = &r->r_loc->lc_px;
	struct proxy *px;
	struct proxy *old = c->c_proxy;
	struct buf *rbody = NULL;
	off_t rlen = 0;
	size_t size;
	int rc, rfd = -1, kept = 0;

	/*
	 * An error_page after a proxied answer brought the request here:
	 * that proxy goes, but a body it read whole goes on to this one
	 * (r_has_body is 0 then: nothing is read or awaited again)
	 */
	if (old != NULL && old->px_rbuffered && !r->r_has_body) {
		kept = 1;
		rbody = old->px_rbody;
		rfd = old->px_rfd;
		rlen = old->px_rlen;
		old->px_rbody = NULL;
		old->px_rfd = -1;
	}
	http_proxy_release(c);
	if ((px = px_get()) == NULL) {
		buf_put(rbody);
		if (rfd != -1)
			close(rfd);
		return http_special(c, 500);
	}
	c->c_proxy = px;
	if (kept) {
		px->px_rbuffered = 1;
		px->px_rbody = rbody;
		px->px_rfd = rfd;
		px->px_rlen = rlen;
	}
	px->px_c = c;
	px->px_conf = pc;
	px->px_pass_body = pc->px_pass_body;
	px->px_had_body = r->r_has_body || kept;
	px->px_ups = pc->px_ups;
	px->px_peer = -1;
	px->px_t_start = clock_now();
	px->px_t_connect = px->px_t_header = px->px_t_end = -1;
	/* as nginx: tcp_nodelay off holds for proxied answers and tunnels */
	if (!r->r_loc->lc_tcp_nodelay)
		conn_nodelay_hold(c);
	if ((pc->px_pass_tpl != NULL || pc->px_uri_tpl != NULL) &&
	    (rc = px_pass_eval(c, px)) != 0)
		return px_final(c, rc);
	/* the response in memory: at most proxy_buffers, as in nginx */
	size = MAX((size_t)pc->px_buffer_size, (size_t)(pc->px_buffers_num *
	    pc->px_buffers_size));
	if ((px->px_buf = buf_get(size)) == NULL)
		return px_fail(c, 500, "out of memory for a buffer");
	/* the client waits for this before it sends the body */
	if (r->r_has_body && r->r_expect && r->r_head.hh_version == 11 &&
	    c->c_in->b_pos == c->c_in->b_last) {
		ssize_t n;

		conn_before_write(c);
		n = io_write(c->c_fd, c->c_ssl,
		    "HTTP/1.1 100 Continue\r\n\r\n", 25);

		/*
		 * So small a write goes whole into an empty socket buffer;
		 * a part of it (or, over TLS, a record left to retry) would
		 * be glued to the answer's head: the connection ends, as
		 * nginx ends it then.
		 */
		if (n != 25) {
			conn_log(c, LOG_INFO, "could not send \"100 Continue\" "
			    "(%d: %s)", n == -1 ? errno : 0, n == -1 ?
			    strerror(errno) : "short write");
			c->c_tls_failed = 1;
			return CS_CLOSE;
		}
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

/* the name proxy_ssl_name gives ($proxy_host), without a port */
const char *
px_tls_name(struct conn *c, struct proxy *px, char *dst, size_t size)
{
	const struct conf_proxy *pc = px->px_conf;
	const char *n = pc->px_host, *colon;
	size_t len = pc->px_hostlen;
	int port;

	http_proxy_host(c, &n, &len, &port);
	if (pc->px_ssl_name != NULL &&
	    (n = http_work_render(c, pc->px_ssl_name, &len)) == NULL)
		return NULL;
	if (len > 0 && n[0] == '[') {
		/* "[::1]:443": the address inside the brackets */
		if ((colon = memchr(n, ']', len)) != NULL)
			len = colon - n - 1;
		else
			len--;
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
