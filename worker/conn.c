/*
 * conn.c: the connection state machine.  conn_set_state() is the only
 * writer of c_state; readiness events only mark the connection readable
 * or writable and run the driver; every wait arms c_timer.
 */
#include "core.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>

#include "clock.h"
#include "conn.h"
#include "http_log.h"
#include "http_proxy.h"
#include "io.h"
#include "tls.h"
#include "upool.h"
#include "log.h"

int worker_stopping;

static struct conn *pool;
static int pool_max, pool_used;	/* slots past pool_used never touched */
static struct conn *free_list;
static struct conn *active;
static int nactive;
static uint64_t next_id = 1;

/* free buffers, one list per size: sizes come from a few directives */
#define BUF_CLASSES	8

static struct {
	size_t		 bc_size;
	struct buf	*bc_free;
} classes[BUF_CLASSES];

static void conn_run(struct conn *);

static const char *const state_names[CS_NSTATES] = {
	"read_head", "process", "send", "discard_body", "done", "idle",
	"linger", "close", "proxy_read_body", "proxy_connect", "proxy_send", "proxy_head",
	"proxy_body", "proxy_tunnel", "tls_handshake",
};

const char *
conn_state_name(int s)
{
	return s >= 0 && s < CS_NSTATES ? state_names[s] : "?";
}

static struct buf **
buf_list(size_t size)
{
	int i;

	for (i = 0; i < BUF_CLASSES; i++) {
		if (classes[i].bc_size == size)
			return &classes[i].bc_free;
		if (classes[i].bc_size == 0) {
			classes[i].bc_size = size;
			return &classes[i].bc_free;
		}
	}
	return NULL;	/* more sizes than classes: not pooled */
}

struct buf *
buf_get(size_t size)
{
	struct buf **list = buf_list(size);
	struct buf *b = list != NULL ? *list : NULL;

	if (b != NULL) {
		*list = b->b_next;
	} else {
		if ((b = malloc(sizeof(*b) + size)) == NULL)
			return NULL;
		b->b_start = (char *)(b + 1);
		b->b_end = b->b_start + size;
	}
	b->b_pos = b->b_last = b->b_start;
	b->b_next = NULL;
	return b;
}

void
buf_put(struct buf *b)
{
	struct buf **list;

	if (b == NULL)
		return;
	if ((list = buf_list(b->b_end - b->b_start)) == NULL) {
		free(b);
		return;
	}
	b->b_next = *list;
	*list = b;
}

/*
 * worker_connections slots, zeroed by calloc() and left untouched until
 * used: the kernel maps their pages only then, so a worker sized for
 * many connections costs memory for those it has had, not its capacity.
 */
int
conn_pool_init(int max)
{
	if ((pool = calloc(max, sizeof(*pool))) == NULL)
		return -1;
	pool_max = max;
	pool_used = 0;
	return 0;
}

static struct conn *
conn_slot_get(void)
{
	struct conn *c = free_list;

	if (c != NULL)
		free_list = c->c_next;
	else if (pool_used < pool_max)
		c = &pool[pool_used++];
	return c;
}

/* requests, from a free list: only a connection with a request holds one */
union req_slot {
	struct http_req	 rs_req;
	union req_slot	*rs_next;
};

static union req_slot *req_free;

static int
conn_req_get(struct conn *c)
{
	union req_slot *rs = req_free;

	if (c->c_reqp != NULL)
		return 0;
	if (rs != NULL)
		req_free = rs->rs_next;
	else if ((rs = malloc(sizeof(*rs))) == NULL)
		return -1;
	http_req_clear(&rs->rs_req);
	c->c_reqp = &rs->rs_req;
	return 0;
}

static void
conn_req_put(struct conn *c)
{
	union req_slot *rs = (union req_slot *)c->c_reqp;

	if (rs == NULL)
		return;
	rs->rs_next = req_free;
	req_free = rs;
	c->c_reqp = NULL;
}

int
conn_count(void)
{
	return nactive;
}

/* nginx's context: ", client: X, server: Y, request: "..."" */
void
conn_log(struct conn *c, int level, const char *fmt, ...)
{
	char msg[1024], ctx[1200];
	struct http_req *r = c->c_reqp;
	size_t n;
	va_list ap;

	if (level > log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	n = snprintf(ctx, sizeof(ctx), "%s%s, client: %s, server: %s",
	    c->c_action ? " while " : "", c->c_action ? c->c_action : "",
	    c->c_peer_text, c->c_listen->gl_text);
	if (r != NULL && r->r_head.hh_version != 0 && n < sizeof(ctx)) {
		size_t rl = r->r_head.hh_target + r->r_head.hh_targetlen +
		    9 - r->r_head.hh_method;

		n += snprintf(ctx + n, sizeof(ctx) - n, ", request: \"%.*s\"",
		    (int)MIN(rl, 512), r->r_head.hh_method);
	}
	if (c->c_proxy != NULL && n < sizeof(ctx) && http_proxy_target(c)[0])
		snprintf(ctx + n, sizeof(ctx) - n, ", upstream: \"%s\"",
		    http_proxy_target(c));
	log_msg(level, 0, "%s%s", msg, ctx);
}

static void
conn_set_state(struct conn *c, int s)
{
	DASSERT(s >= 0 && s < CS_NSTATES);
	c->c_state = s;
}

/* the location whose settings rule the connection now */
static const struct conf_loc *
conn_loc(const struct conn *c)
{
	return c->c_reqp != NULL && c->c_req.r_loc != NULL ? c->c_req.r_loc :
	    c->c_listen->gl_default->sc_loc;
}

/*
 * reset_timedout_connection: an RST frees the socket's buffers at once
 * instead of leaving them to the kernel for a FIN_WAIT that a client
 * which stopped reading will never end.
 */
static void
conn_reset(struct conn *c)
{
	struct linger lg = { 1, 0 };

	if (setsockopt(c->c_fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) == -1)
		conn_log(c, LOG_INFO, "setsockopt(SO_LINGER) failed (%d: %s)",
		    errno, strerror(errno));
}

static void
conn_on_timer(struct timer *t)
{
	struct conn *c = t->t_data;
	const char *why;
	int mid_request;

	if (c->c_state >= CS_PROXY_READ_BODY &&
	    c->c_state <= CS_PROXY_TUNNEL) {
		conn_set_state(c, http_proxy_timeout(c));
		conn_run(c);
		return;
	}
	switch (c->c_state) {
	case CS_TLS_HANDSHAKE:
		why = "client timed out";
		break;
	case CS_READ_HEAD:
		why = "client timed out while reading the request head";
		break;
	case CS_SEND:
		why = "client timed out while we were sending the response";
		break;
	case CS_DISCARD_BODY:
		why = "client timed out while sending the request body";
		break;
	case CS_IDLE:
		why = c->c_lame_duck ? "worker stopping: idle keep-alive "
		    "closed" : "keep-alive timeout";
		break;
	default:
		why = "linger timeout";
		break;
	}
	/* as nginx: a request begun, not a connection that sent nothing */
	mid_request = c->c_state == CS_SEND || c->c_state == CS_DISCARD_BODY ||
	    (c->c_state == CS_READ_HEAD && c->c_in != NULL &&
	    c->c_in->b_last > c->c_in->b_pos);
	if (c->c_state == CS_READ_HEAD || c->c_state == CS_SEND ||
	    c->c_state == CS_DISCARD_BODY || c->c_state == CS_TLS_HANDSHAKE)
		conn_log(c, LOG_INFO, "%s", why);
	else
		log_debug("conn %llu: %s", (unsigned long long)c->c_id, why);
	if (mid_request && conn_loc(c)->lc_reset_timedout)
		conn_reset(c);
	conn_set_state(c, CS_CLOSE);
	conn_run(c);
}

static void
conn_on_event(struct event *ev, uint32_t events)
{
	struct conn *c = (struct conn *)ev;

	if (c->c_fd == -1)
		return;		/* closed earlier in this batch */
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		c->c_readable = 1;
	if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		c->c_rdhup = 1;
	if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
		c->c_writable = 1;
	/* TLS: a read may wait for the socket to drain, a write for input */
	if ((events & EPOLLOUT) && io_wants_write(c->c_ssl))
		c->c_readable = 1;
	if ((events & EPOLLIN) && io_wants_read(c->c_ssl))
		c->c_writable = 1;
	conn_run(c);
}

/*
 * Every slot is taken: the connection that costs others least goes, so
 * that a flood of clients that connect and stall (an idle keep-alive,
 * a TLS handshake or a request head that does not come) cannot lock
 * out the next client.  The oldest idle keep-alive first, then the
 * oldest stalled handshake or head.  0 when one was closed.
 */
int
conn_reclaim(void)
{
	struct conn *c, *idle = NULL, *stalled = NULL;

	for (c = active; c != NULL; c = c->c_next) {
		if (c->c_state == CS_IDLE)
			idle = c;
		else if (c->c_state == CS_TLS_HANDSHAKE ||
		    (c->c_state == CS_READ_HEAD && c->c_requests == 0))
			stalled = c;
	}
	if ((c = idle != NULL ? idle : stalled) == NULL)
		return -1;
	log_warnx("%d worker_connections are not enough, closing %s "
	    "connection", nactive, c == idle ? "an idle keep-alive" :
	    "the oldest unfinished");
	conn_set_state(c, CS_CLOSE);
	conn_run(c);
	return 0;
}

void
conn_accept(struct gen *g, struct gen_listen *gl, int fd,
    struct sockaddr_storage *peer, socklen_t peerlen)
{
	struct conn *c;
	char a[INET6_ADDRSTRLEN];

	if ((c = conn_slot_get()) == NULL) {
		log_alert("%d worker_connections are not enough", nactive);
		close(fd);
		return;
	}
	memset(c, 0, sizeof(*c));
	c->c_fd = fd;
	c->c_ev.ev_fd = fd;
	c->c_ev.ev_handler = conn_on_event;
	c->c_ev.ev_data = c;
	c->c_gen = g;
	c->c_listen = gl;
	c->c_id = next_id++;
	memcpy(&c->c_peer, peer, peerlen);
	c->c_peerlen = peerlen;
	if (peer->ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)peer)->sin6_addr,
		    a, sizeof(a));
	else
		inet_ntop(AF_INET, &((struct sockaddr_in *)peer)->sin_addr, a,
		    sizeof(a));
	snprintf(c->c_peer_text, sizeof(c->c_peer_text), "%s", a);
	timer_init(&c->c_timer, conn_on_timer, c);
	/* a handshake's flights are several writes: TLS sets it at once */
	if (gl->gl_ssl)
		conn_nodelay_set(c);

	c->c_next = active;
	c->c_prev = NULL;
	if (active != NULL)
		active->c_prev = c;
	active = c;
	nactive++;

	if (conn_req_get(c) == -1) {
		log_alert("out of memory for a request");
		c->c_ev.ev_fd = -1;	/* not in epoll: nothing to delete */
		conn_set_state(c, CS_CLOSE);
	} else if (event_add(&c->c_ev, EPOLLIN | EPOLLOUT | EPOLLRDHUP |
	    EPOLLET) == -1) {
		log_alert("epoll_ctl() failed (%d: %s)", errno,
		    strerror(errno));
		conn_set_state(c, CS_CLOSE);
	} else {
		/* data usually arrives with the connection: try at once */
		c->c_readable = 1;
		c->c_writable = 1;
		conn_set_state(c, gl->gl_ssl ? CS_TLS_HANDSHAKE : CS_READ_HEAD);
		http_req_reset(c);
		c->c_req.r_start = clock_now();
		timer_set(&c->c_timer, gl->gl_ssl &&
		    gl->gl_default->sc_ssl.ss_handshake_timeout > 0 ?
		    gl->gl_default->sc_ssl.ss_handshake_timeout :
		    gl->gl_default->sc_client_header_timeout);
		/*
		 * A handshake is CPU work: run from the event loop, it takes
		 * its turn among the other connections' events instead of
		 * making all of them wait behind a burst of accepts (the
		 * new socket is writable: its first event comes at once).
		 */
		if (gl->gl_ssl)
			return;
	}
	conn_run(c);
}

void
conn_nodelay_set(struct conn *c)
{
	int on = 1;

	setsockopt(c->c_fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	c->c_nodelay = 1;
}

/*
 * tcp_nodelay off: not set (or cleared) for this answer, so that the
 * kernel may merge its small segments; http_req_reset() lets it be set
 * again for the next one
 */
void
conn_nodelay_hold(struct conn *c)
{
	int off = 0;

	if (c->c_nodelay == 1)
		setsockopt(c->c_fd, IPPROTO_TCP, TCP_NODELAY, &off,
		    sizeof(off));
	c->c_nodelay = -1;
}

/* read what the socket has into c_in: IO_OK, IO_AGAIN, IO_DONE, IO_ERROR */
int
conn_read(struct conn *c)
{
	struct buf *b = c->c_in;
	ssize_t n;

	if (b->b_last == b->b_end)
		return IO_OK;
	for (;;) {
		n = io_read(c->c_fd, c->c_ssl, b->b_last, b->b_end - b->b_last);
		if (n > 0) {
			/*
			 * A short read of a plain socket took all it had: the
			 * next bytes come with an event of their own (edge-
			 * triggered), so the read that would say EAGAIN is
			 * saved.  Not when the peer's FIN is in: its event is
			 * spent, the next read must see the end.
			 */
			if (n < b->b_end - b->b_last && c->c_ssl == NULL &&
			    !c->c_rdhup)
				c->c_readable = 0;
			b->b_last += n;
			return IO_OK;
		}
		if (n == 0) {
			c->c_eof = 1;
			return IO_DONE;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN) {
			c->c_readable = 0;
			return IO_AGAIN;
		}
		return IO_ERROR;
	}
}

/*
 * nginx's limits: the request line and each header line must fit in one
 * of large_client_header_buffers; the whole head in all of them.
 * Returns 0, or the status to answer (414, 431).
 */
static int
head_lines_check(const char *p, const char *end, size_t line_max)
{
	const char *nl;
	int first = 1;

	while (p < end) {
		nl = memchr(p, '\n', end - p);
		if ((size_t)((nl != NULL ? nl + 1 : end) - p) > line_max)
			return first ? 414 : 431;
		if (nl == NULL)
			break;
		/* empty lines before the request line do not count */
		if (nl - p > 1)
			first = 0;
		p = nl + 1;
	}
	return 0;
}

/* a full buffer: a larger one, up to number x size; -1 at the limit */
static int
head_buffer_grow(struct conn *c)
{
	const struct conf_srv *s = c->c_listen->gl_default;
	struct buf *b = c->c_in, *nb;
	size_t size = b->b_end - b->b_start, max, len;

	max = (size_t)(s->sc_large_num * s->sc_large_size);
	if (size >= max)
		return -1;
	size = size < (size_t)s->sc_large_size ? (size_t)s->sc_large_size :
	    MIN(size * 2, max);
	if ((nb = buf_get(size)) == NULL)
		return -1;
	len = b->b_last - b->b_pos;
	memcpy(nb->b_start, b->b_pos, len);
	nb->b_last = nb->b_start + len;
	buf_put(b);
	c->c_in = nb;
	return 0;
}

/*
 * The connection ends after an answer: close at once, or linger
 * (lingering_close).  Closing a socket with unread input makes the
 * kernel send an RST, which can destroy the answer before the client
 * reads it: "on" lingers when the client may still be sending (a body
 * not read, or input already waiting), "always" whatever it did.
 */
static int
conn_end(struct conn *c)
{
	const struct conf_loc *l = conn_loc(c);
	int pending = 0;

	if (l->lc_lingering_close == LINGER_OFF || c->c_eof)
		return CS_CLOSE;
	if (l->lc_lingering_close == LINGER_ALWAYS ||
	    (c->c_reqp != NULL && c->c_req.r_has_body) ||
	    (c->c_in != NULL && c->c_in->b_pos < c->c_in->b_last))
		return CS_LINGER;
	/* a client that said "close" sends nothing more (RFC 9112, 9.6) */
	if (c->c_reqp != NULL && c->c_req.r_client_close)
		return CS_CLOSE;
	if (ioctl(c->c_fd, FIONREAD, &pending) == 0 && pending > 0)
		return CS_LINGER;
	return CS_CLOSE;
}

static int
step_read_head(struct conn *c)
{
	const struct conf_srv *srv = c->c_listen->gl_default;
	struct http_req *r = &c->c_req;
	int n, rc;

	c->c_action = "reading client request line";
	if (c->c_in == NULL &&
	    (c->c_in = buf_get(srv->sc_header_buffer)) == NULL) {
		conn_log(c, LOG_ALERT, "out of memory for a buffer");
		return CS_CLOSE;
	}
	for (;;) {
		n = http_head_end(c->c_in->b_pos, c->c_in->b_last -
		    c->c_in->b_pos, &c->c_scan);
		if (n > 0) {
			rc = head_lines_check(c->c_in->b_pos,
			    c->c_in->b_pos + n, srv->sc_large_size);
			if (rc != 0) {
				http_error(c, rc, rc == 414 ? "client sent "
				    "too long URI" : "client sent too long "
				    "header line");
				return CS_SEND;
			}
			r->r_headlen = n;
			return CS_PROCESS;
		}
		if (n == -1) {
			http_error(c, 400, "client sent a bare LF");
			return CS_SEND;
		}
		if (c->c_in->b_last == c->c_in->b_end) {
			if (c->c_in->b_pos > c->c_in->b_start) {
				/* move a pipelined partial head to the front */
				size_t len = c->c_in->b_last - c->c_in->b_pos;

				memmove(c->c_in->b_start, c->c_in->b_pos, len);
				c->c_in->b_pos = c->c_in->b_start;
				c->c_in->b_last = c->c_in->b_start + len;
				continue;
			}
			/* a line over the limit fails now, not at the end */
			rc = head_lines_check(c->c_in->b_pos, c->c_in->b_last,
			    srv->sc_large_size);
			if (rc == 0 && head_buffer_grow(c) == 0)
				continue;
			if (rc == 0)
				rc = 431;
			http_error(c, rc, rc == 414 ? "client sent too long "
			    "URI" : "client sent too large request header");
			return CS_SEND;
		}
		if (!c->c_readable)
			return CS_WAIT;
		rc = conn_read(c);
		if (rc == IO_AGAIN) {
			/* nothing of a next request yet: keep-alive idle */
			if (c->c_requests > 0 && c->c_in->b_pos == c->c_in->b_last)
				return CS_IDLE;
			return CS_WAIT;
		}
		if (rc == IO_DONE) {
			if (c->c_in->b_last > c->c_in->b_pos)
				conn_log(c, LOG_INFO, "client closed the "
				    "connection mid-request");
			return CS_CLOSE;
		}
		if (rc == IO_ERROR) {
			/* a reset between requests is a client going away */
			conn_log(c, c->c_in->b_last > c->c_in->b_pos ?
			    LOG_INFO : LOG_DEBUG, "read() failed (%d: %s)",
			    errno, strerror(errno));
			return CS_CLOSE;
		}
	}
}

static int
step_process(struct conn *c)
{
	c->c_action = "processing the request";
	timer_cancel(&c->c_timer);
	return http_process(c);
}

/*
 * The head and any generated body are in c_out; a file body follows,
 * from http_static_send(), which refills c_out or calls sendfile()
 * once c_out is empty.  send_timeout runs between two writes.
 */
static int
step_send(struct conn *c)
{
	struct buf *b = c->c_out;
	int progress = 0, rc;
	ssize_t n;

	c->c_action = "sending the response to client";
	for (;;) {
		if (b->b_pos == b->b_last) {
			if (!http_static_pending(c))
				break;
			if (!c->c_writable)
				goto wait;
			rc = http_static_send(c, b);
			if (rc == IO_AGAIN) {
				c->c_writable = 0;
				goto wait;
			}
			if (rc == IO_ERROR)
				return CS_CLOSE;
			progress = 1;
			continue;
		}
		if (!c->c_writable)
			goto wait;
		conn_before_write(c);
		n = io_write(c->c_fd, c->c_ssl, b->b_pos, b->b_last - b->b_pos);
		if (n > 0) {
			b->b_pos += n;
			c->c_req.r_sent += n;
			progress = 1;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN) {
			c->c_writable = 0;
			goto wait;
		}
		conn_log(c, LOG_INFO, "write() failed (%d: %s)", errno,
		    strerror(errno));
		return CS_CLOSE;
	}
	timer_cancel(&c->c_timer);
	buf_put(c->c_out);
	c->c_out = NULL;
	/* the rest of a request body is read and dropped, in sync */
	if (c->c_req.r_has_body && c->c_req.r_keepalive)
		return CS_DISCARD_BODY;
	return CS_DONE;
wait:
	if (progress || !timer_is_armed(&c->c_timer))
		timer_set(&c->c_timer, c->c_req.r_loc != NULL ?
		    c->c_req.r_loc->lc_send_timeout : 60000);
	return CS_WAIT;
}

static int
step_discard_body(struct conn *c)
{
	struct buf *b = c->c_in;
	int rc;

	c->c_action = "reading client request body";
	for (;;) {
		rc = http_body_discard(c);
		if (rc == 1) {
			timer_cancel(&c->c_timer);
			return CS_DONE;
		}
		if (rc == -1) {
			/* the answer is out: the framing is lost, close */
			conn_log(c, LOG_INFO, "%s", c->c_req.r_chunk.hc_reason);
			return conn_end(c);
		}
		if (b->b_pos == b->b_last) {
			if (http_head_detach(c) == -1) {
				conn_log(c, LOG_ALERT, "out of memory for a "
				    "buffer");
				return CS_CLOSE;
			}
			b->b_pos = b->b_last = b->b_start;
		}
		if (!c->c_readable)
			break;
		rc = conn_read(c);
		if (rc == IO_AGAIN)
			break;
		if (rc != IO_OK) {
			conn_log(c, LOG_INFO, "client closed the connection "
			    "while sending the request body");
			return CS_CLOSE;
		}
		/* client_body_timeout runs between two reads, as nginx */
		timer_set(&c->c_timer, c->c_req.r_loc->lc_client_body_timeout);
	}
	if (!timer_is_armed(&c->c_timer))
		timer_set(&c->c_timer, c->c_req.r_loc->lc_client_body_timeout);
	return CS_WAIT;
}

static int
step_done(struct conn *c)
{
	struct http_req *r = &c->c_req;

	http_log_request(c);
	http_proxy_release(c);
	c->c_requests++;
	if (!r->r_keepalive)
		return conn_end(c);
	/* the idle wait uses the location of the request just done */
	c->c_keepalive = r->r_loc != NULL ? r->r_loc->lc_keepalive_timeout :
	    75000;
	http_req_reset(c);
	c->c_action = NULL;
	/* the next request may be in the buffer already (pipelining) */
	if (c->c_in->b_pos < c->c_in->b_last) {
		c->c_req.r_start = clock_now();
		timer_set(&c->c_timer,
		    c->c_listen->gl_default->sc_client_header_timeout);
		return CS_READ_HEAD;
	}
	return CS_IDLE;
}

static int
step_idle(struct conn *c)
{
	msec_t t;

	c->c_action = NULL;
	/* an idle connection holds no buffer and no request */
	if (c->c_in != NULL) {
		buf_put(c->c_in);
		c->c_in = NULL;
	}
	conn_req_put(c);
	if (c->c_readable) {
		if (conn_req_get(c) == -1) {
			conn_log(c, LOG_ALERT, "out of memory for a request");
			return CS_CLOSE;
		}
		c->c_req.r_start = clock_now();
		timer_set(&c->c_timer,
		    c->c_listen->gl_default->sc_client_header_timeout);
		return CS_READ_HEAD;
	}
	if (!timer_is_armed(&c->c_timer)) {
		t = c->c_keepalive;
		if (worker_stopping) {
			c->c_lame_duck = 1;
			t = MIN(t, PORTICO_LAME_DUCK_MS);
		}
		timer_set(&c->c_timer, t);
	}
	return CS_WAIT;
}

/*
 * Lingering close: our side is shut (FIN after the answer); what the
 * client still sends is read and dropped until it closes too, each wait
 * bounded by lingering_timeout and the whole by lingering_time.
 */
static int
step_linger(struct conn *c)
{
	const struct conf_loc *l = conn_loc(c);
	char junk[16384];
	ssize_t n;
	msec_t left;
	int i;

	c->c_action = "closing";
	if (c->c_linger_end == 0) {
		/* TLS ends first (close_notify); the rest is dropped raw */
		tls_conn_shutdown(c);
		if (shutdown(c->c_fd, SHUT_WR) == -1)
			return CS_CLOSE;
		c->c_linger_end = clock_now() + l->lc_lingering_time;
	}
	for (i = 0;; i++) {
		/* a client sending as fast as we read must not hold us */
		if ((i & 63) == 63)
			clock_update();
		if (clock_now() >= c->c_linger_end) {
			log_debug("conn %llu: lingering_time is over",
			    (unsigned long long)c->c_id);
			return CS_CLOSE;
		}
		n = read(c->c_fd, junk, sizeof(junk));
		if (n > 0)
			continue;
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN) {
			c->c_readable = 0;
			break;
		}
		return CS_CLOSE;
	}
	left = c->c_linger_end - clock_now();
	timer_set(&c->c_timer, MIN(left, l->lc_lingering_timeout));
	return CS_WAIT;
}

static int
step_close(struct conn *c)
{
	/* a request answered (or cut short) before the close is logged */
	if (c->c_reqp != NULL) {
		http_log_request(c);
		http_proxy_release(c);
		http_req_reset(c);
		conn_req_put(c);
	}
	timer_cancel(&c->c_timer);
	tls_conn_close(c);
	/* close() takes the descriptor out of epoll: it is ours alone */
	close(c->c_fd);
	c->c_fd = -1;
	buf_put(c->c_in);
	buf_put(c->c_out);
	buf_put(c->c_scratch);
	buf_put(c->c_redirect);
	c->c_in = c->c_out = c->c_scratch = c->c_redirect = NULL;
	if (c->c_prev != NULL)
		c->c_prev->c_next = c->c_next;
	else
		active = c->c_next;
	if (c->c_next != NULL)
		c->c_next->c_prev = c->c_prev;
	nactive--;
	c->c_next = free_list;
	free_list = c;
	return CS_WAIT;
}

typedef int (*conn_step)(struct conn *);

static const conn_step steps[CS_NSTATES] = {
	[CS_READ_HEAD] = step_read_head,
	[CS_PROCESS] = step_process,
	[CS_SEND] = step_send,
	[CS_DISCARD_BODY] = step_discard_body,
	[CS_DONE] = step_done,
	[CS_IDLE] = step_idle,
	[CS_LINGER] = step_linger,
	[CS_CLOSE] = step_close,
	[CS_PROXY_READ_BODY] = http_proxy_step_read_body,
	[CS_PROXY_CONNECT] = http_proxy_step_connect,
	[CS_PROXY_SEND] = http_proxy_step_send,
	[CS_PROXY_HEAD] = http_proxy_step_head,
	[CS_PROXY_BODY] = http_proxy_step_body,
	[CS_PROXY_TUNNEL] = http_proxy_step_tunnel,
	[CS_TLS_HANDSHAKE] = tls_step_handshake,
};

void
conn_wakeup(struct conn *c)
{
	conn_run(c);
}

static void
conn_run(struct conn *c)
{
	int next;

	while ((next = steps[c->c_state](c)) != CS_WAIT) {
		if (next != c->c_state && (next == CS_LINGER ||
		    next == CS_CLOSE || next == CS_IDLE || next == CS_PROCESS))
			timer_cancel(&c->c_timer);
		conn_set_state(c, next);
	}
}

/*
 * The worker stops: idle keep-alive connections get a short grace for a
 * request that may be on the wire; everything else finishes its request
 * and is answered with "Connection: close".
 */
void
conn_shutdown_begin(void)
{
	struct conn *c, *next;

	worker_stopping = 1;
	upool_close_idle();
	for (c = active; c != NULL; c = next) {
		next = c->c_next;
		if (c->c_state == CS_IDLE) {
			timer_cancel(&c->c_timer);
			conn_run(c);
		}
	}
}

void
conn_close_all(const char *reason)
{
	struct conn *c, *next;

	for (c = active; c != NULL; c = next) {
		next = c->c_next;
		if (c->c_state != CS_IDLE && c->c_state != CS_LINGER)
			conn_log(c, LOG_INFO, "%s", reason);
		conn_set_state(c, CS_CLOSE);
		conn_run(c);
	}
}
