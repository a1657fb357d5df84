/*
 * upool.h: connections to upstreams and the idle keep-alive pool.
 */
#ifndef PORTICO_UPOOL_H
#define PORTICO_UPOOL_H

#include "core.h"

#include "event.h"

struct upconn {
	struct event	 uc_ev;		/* first: events find us */
	int		 uc_fd;
	struct ssl_st	*uc_ssl;	/* TLS to the upstream, or NULL */
	const void	*uc_key;	/* which upstream peer */
	const void	*uc_tls;	/* over which TLS context; NULL: plain */
	unsigned	 uc_requests;	/* served on it so far */
	/* the holder's handler; NULL while idle */
	void		(*uc_wake)(void *owner, uint32_t events);
	void		*uc_owner;
	int		 uc_idle;
	struct timer	 uc_timer;	/* keepalive_timeout, while idle */
	struct upconn	*uc_next;	/* idle list, or free list */
	struct upconn	*uc_prev;
};

/*
 * A connected (or connecting) socket, added to epoll; NULL on error.
 * tls is the SSL_CTX it speaks TLS with (NULL: plain), so that a peer
 * reached both ways never gets the wrong kind of connection.
 */
struct upconn	*upool_new(int fd, const void *key, const void *tls);
/* an idle connection to key, over tls, or NULL */
struct upconn	*upool_get(const void *key, const void *tls);
/* keep it for the next request to its key, up to max_idle of them */
void		 upool_put(struct upconn *, int max_idle, msec_t timeout);
/* not kept: closed when the upstream closes it, or after timeout */
void		 upool_drain(struct upconn *, msec_t timeout);
void		 upool_close(struct upconn *);
void		 upool_reap(void);
int		 upool_count(void);
/* a stopping worker closes what is idle */
void		 upool_close_idle(void);

#endif
