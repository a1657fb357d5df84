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
	unsigned	 uc_requests;	/* served on it so far */
	/* the holder's handler; NULL while idle */
	void		(*uc_wake)(void *owner, uint32_t events);
	void		*uc_owner;
	int		 uc_idle;
	struct timer	 uc_timer;	/* keepalive_timeout, while idle */
	struct upconn	*uc_next;	/* idle list, or free list */
	struct upconn	*uc_prev;
};

/* a connected (or connecting) socket, added to epoll; NULL on error */
struct upconn	*upool_new(int fd, const void *key);
/* an idle connection to key, or NULL */
struct upconn	*upool_get(const void *key);
/* keep it for the next request to its key, up to max_idle of them */
void		 upool_put(struct upconn *, int max_idle, msec_t timeout);
/* not kept: closed when the upstream closes it, or after timeout */
void		 upool_drain(struct upconn *, msec_t timeout);
void		 upool_close(struct upconn *);
int		 upool_count(void);
/* a stopping worker closes what is idle */
void		 upool_close_idle(void);

#endif
