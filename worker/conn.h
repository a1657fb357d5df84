/*
 * conn.h: a client connection: one explicit state machine driven by
 * readiness and timers.
 */
#ifndef PORTICO_CONN_H
#define PORTICO_CONN_H

#include "core.h"

#include <sys/socket.h>

#include "conf.h"
#include "event.h"
#include "http.h"

#define CONN_INBUF	8192
#define CONN_OUTBUF	16384

enum conn_state {
	CS_WAIT = -1,		/* not a state: the step waits for an event */
	CS_READ_HEAD = 0,	/* read and parse a request head */
	CS_PROCESS,		/* route and build the response */
	CS_SEND,		/* write the response */
	CS_DISCARD_BODY,	/* read and drop a request body */
	CS_DONE,		/* request finished: keep alive or close */
	CS_IDLE,		/* keep-alive: waiting for the next request */
	CS_LINGER,		/* closing: our side shut, draining input */
	CS_CLOSE,		/* release everything */
	CS_PROXY_READ_BODY,	/* proxy_pass: reading the request body */
	CS_PROXY_CONNECT,	/* connecting to the upstream */
	CS_PROXY_SEND,		/* sending the request and its body */
	CS_PROXY_HEAD,		/* reading the response head */
	CS_PROXY_BODY,		/* relaying the response */
	CS_PROXY_TUNNEL,	/* after 101: bytes both ways */
	CS_TLS_HANDSHAKE,	/* listen ... ssl: before the first request */
	CS_NSTATES,
};

struct buf {
	char		*b_start;
	char		*b_pos;
	char		*b_last;
	char		*b_end;
	struct buf	*b_next;	/* free list */
};

struct proxy;
typedef struct ssl_st SSL;

struct conn {
	struct event		 c_ev;		/* first: events find us */
	int			 c_fd;
	int			 c_state;
	struct gen		*c_gen;
	struct gen_listen	*c_listen;
	struct sockaddr_storage	 c_peer;
	socklen_t		 c_peerlen;
	char			 c_peer_text[64];
	uint64_t		 c_id;
	unsigned		 c_requests;
	int			 c_readable;
	int			 c_writable;
	int			 c_eof;
	int			 c_rdhup;	/* the peer's FIN has been seen */
	int			 c_lame_duck;	/* worker stopping, was idle */
	int			 c_wrote;	/* the client has been written to */
	int			 c_nodelay;	/* TCP_NODELAY: 1 set, 0 not yet,
						   -1 held off (tcp_nodelay off) */
	SSL			*c_ssl;		/* TLS, or NULL: plain */
	int			 c_tls_plain;	/* plain HTTP to a TLS port */
	int			 c_tls_failed;	/* no close_notify */
	msec_t			 c_keepalive;	/* of the last request's location */
	msec_t			 c_linger_end;	/* lingering_time runs out */
	struct buf		*c_in;
	struct buf		*c_out;
	struct buf		*c_scratch;	/* per request: decoded URI */
	struct buf		*c_redirect;	/* per request: redirect URI */
	size_t			 c_scan;	/* head-end search position */
	struct timer		 c_timer;
	const char		*c_action;	/* "reading client request" */
	struct http_req		*c_reqp;	/* use c_req, below */
	struct proxy		*c_proxy;	/* proxy_pass: upstream half */
	struct conn		*c_next;	/* active list or free list */
	struct conn		*c_prev;
};

/*
 * The request in progress, as a member: c->c_req.r_loc, &c->c_req.  It
 * lives apart from the connection, which holds one only while it has a
 * request (reading, answering, lingering): an idle keep-alive
 * connection costs the few hundred bytes of struct conn, not the 4 kB of
 * a parsed request.  c_reqp is NULL while idle.
 */
#define c_req	c_reqp[0]

int	 conn_pool_init(int max);
void	 conn_accept(struct gen *, struct gen_listen *, int fd,
	    struct sockaddr_storage *, socklen_t);
int	 conn_count(void);
/* all slots taken: close the connection that costs others least; 0/-1 */
int	 conn_reclaim(void);
void	 conn_shutdown_begin(void);
void	 conn_close_all(const char *reason);
void	 conn_log(struct conn *, int level, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
const char *conn_state_name(int);
void	 conn_wakeup(struct conn *);
int	 conn_read(struct conn *);
void	 conn_nodelay_set(struct conn *);
void	 conn_nodelay_hold(struct conn *);

/*
 * Before every write to the client.  TCP_NODELAY is set before the
 * second write, not at accept: Nagle's algorithm holds a segment back
 * only while data sent earlier is unacknowledged, which a connection's
 * first write never has.  One answer in one write, then a close, costs
 * one setsockopt() less.
 */
static inline void
conn_before_write(struct conn *c)
{
	if (c->c_nodelay == 0 && c->c_wrote)
		conn_nodelay_set(c);
	c->c_wrote = 1;
}

struct buf *buf_get(size_t size);
void	 buf_put(struct buf *);

extern int worker_stopping;

#endif
