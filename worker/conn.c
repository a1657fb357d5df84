/*
 * conn.c: the connection state machine.  conn_set_state() is the only
 * writer of c_state; readiness events only mark the connection readable
 * or writable and run the driver; every wait arms c_timer.
 */
#include "core.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include "clock.h"
#include "conn.h"
#include "http_log.h"
#include "log.h"

int worker_stopping;

static struct conn *pool;
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
	"linger", "close",
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

int
conn_pool_init(int max)
{
	int i;

	if ((pool = calloc(max, sizeof(*pool))) == NULL)
		return -1;
	for (i = max - 1; i >= 0; i--) {
		pool[i].c_fd = -1;
		pool[i].c_next = free_list;
		free_list = &pool[i];
	}
	return 0;
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
	struct http_req *r = &c->c_req;
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
	if (r->r_head.hh_version != 0 && n < sizeof(ctx)) {
		size_t rl = r->r_head.hh_target + r->r_head.hh_targetlen +
		    9 - r->r_head.hh_method;

		snprintf(ctx + n, sizeof(ctx) - n, ", request: \"%.*s\"",
		    (int)MIN(rl, 512), r->r_head.hh_method);
	}
	log_msg(level, 0, "%s%s", msg, ctx);
}

static void
conn_set_state(struct conn *c, int s)
{
	DASSERT(s >= 0 && s < CS_NSTATES);
	c->c_state = s;
}

static void
conn_on_timer(struct timer *t)
{
	struct conn *c = t->t_data;
	const char *why;

	switch (c->c_state) {
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
	if (c->c_state == CS_READ_HEAD || c->c_state == CS_SEND ||
	    c->c_state == CS_DISCARD_BODY)
		conn_log(c, LOG_INFO, "%s", why);
	else
		log_debug("conn %llu: %s", (unsigned long long)c->c_id, why);
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
	if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
		c->c_writable = 1;
	conn_run(c);
}

void
conn_accept(struct gen *g, struct gen_listen *gl, int fd,
    struct sockaddr_storage *peer, socklen_t peerlen)
{
	struct conn *c;
	char a[INET6_ADDRSTRLEN];
	int on = 1;

	if ((c = free_list) == NULL) {
		log_alert("%d worker_connections are not enough", nactive);
		close(fd);
		return;
	}
	free_list = c->c_next;
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
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));

	c->c_next = active;
	c->c_prev = NULL;
	if (active != NULL)
		active->c_prev = c;
	active = c;
	nactive++;

	if (event_add(&c->c_ev, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET) ==
	    -1) {
		log_alert("epoll_ctl() failed (%d: %s)", errno,
		    strerror(errno));
		conn_set_state(c, CS_CLOSE);
	} else {
		/* data usually arrives with the connection: try at once */
		c->c_readable = 1;
		c->c_writable = 1;
		conn_set_state(c, CS_READ_HEAD);
		http_req_reset(c);
		c->c_req.r_start = clock_now();
		timer_set(&c->c_timer,
		    gl->gl_default->sc_client_header_timeout);
	}
	conn_run(c);
}

/* read what the socket has into c_in: IO_OK, IO_AGAIN, IO_DONE, IO_ERROR */
static int
conn_read(struct conn *c)
{
	struct buf *b = c->c_in;
	ssize_t n;

	if (b->b_last == b->b_end)
		return IO_OK;
	for (;;) {
		n = read(c->c_fd, b->b_last, b->b_end - b->b_last);
		if (n > 0) {
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
		n = write(c->c_fd, b->b_pos, b->b_last - b->b_pos);
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
			return CS_CLOSE;
		}
		if (b->b_pos == b->b_last)
			b->b_pos = b->b_last = b->b_start;
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
	c->c_requests++;
	if (!r->r_keepalive)
		return CS_LINGER;
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
	/* an idle connection holds no buffer */
	if (c->c_in != NULL) {
		buf_put(c->c_in);
		c->c_in = NULL;
	}
	if (c->c_readable) {
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

static int
step_linger(struct conn *c)
{
	char junk[4096];
	ssize_t n;

	c->c_action = "closing";
	if (!timer_is_armed(&c->c_timer)) {
		/* FIN first; reading until the client's FIN avoids an RST */
		if (shutdown(c->c_fd, SHUT_WR) == -1)
			return CS_CLOSE;
		timer_set(&c->c_timer, CONN_LINGER_MS);
	}
	for (;;) {
		n = read(c->c_fd, junk, sizeof(junk));
		if (n > 0)
			continue;
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN) {
			c->c_readable = 0;
			return CS_WAIT;
		}
		return CS_CLOSE;
	}
}

static int
step_close(struct conn *c)
{
	/* a request answered (or cut short) before the close is logged */
	http_log_request(c);
	http_static_reset(c);
	timer_cancel(&c->c_timer);
	event_del(&c->c_ev);
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
};

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
