/*
 * upool.c: connections to upstreams, and the idle keep-alive ones among
 * them, per worker.  Each connection is one object that stays in epoll
 * from connect() to close(): whoever holds it (a request, or the idle
 * list) is told of its events without another epoll_ctl().  An idle
 * connection is watched: the upstream closing it, or sending anything
 * unasked, takes it out at once, and keepalive_timeout closes it.
 * Objects come from a free list, which grows only when more connections
 * are open at once than ever before.  One closed goes back to it only
 * after the batch of events it was closed in (upool_reap()): an event of
 * the batch for its old descriptor must find it closed, not reused.
 */
#include "core.h"

#include "conn.h"
#include "log.h"
#include "tls.h"
#include "upool.h"

static struct upconn *idle;		/* most recently used first */
static struct upconn *free_list;
static struct upconn *closed;		/* in this batch of events */
static int nidle;

static void
on_event(struct event *ev, uint32_t events)
{
	struct upconn *uc = (struct upconn *)ev;

	if (uc->uc_fd == -1)
		return;		/* closed earlier in this batch */
	if (uc->uc_wake != NULL) {
		uc->uc_wake(uc->uc_owner, events);
		return;
	}
	/* idle: anything at all means it cannot be used again */
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		upool_close(uc);
}

static void
on_timer(struct timer *t)
{
	upool_close(t->t_data);
}

static void
unlink_idle(struct upconn *uc)
{
	if (uc->uc_prev != NULL)
		uc->uc_prev->uc_next = uc->uc_next;
	else
		idle = uc->uc_next;
	if (uc->uc_next != NULL)
		uc->uc_next->uc_prev = uc->uc_prev;
	uc->uc_next = uc->uc_prev = NULL;
	uc->uc_idle = 0;
	timer_cancel(&uc->uc_timer);
	nidle--;
}

struct upconn *
upool_new(int fd, const void *key, const void *tls)
{
	struct upconn *uc;

	if ((uc = free_list) != NULL)
		free_list = uc->uc_next;
	else if ((uc = malloc(sizeof(*uc))) == NULL)
		return NULL;
	memset(uc, 0, sizeof(*uc));
	uc->uc_fd = fd;
	uc->uc_key = key;
	uc->uc_tls = tls;
	uc->uc_ev.ev_fd = fd;
	uc->uc_ev.ev_handler = on_event;
	uc->uc_ev.ev_data = uc;
	timer_init(&uc->uc_timer, on_timer, uc);
	if (event_add(&uc->uc_ev, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET) ==
	    -1) {
		uc->uc_next = free_list;
		free_list = uc;
		return NULL;
	}
	return uc;
}

struct upconn *
upool_get(const void *key, const void *tls)
{
	struct upconn *uc;

	for (uc = idle; uc != NULL; uc = uc->uc_next)
		if (uc->uc_key == key && uc->uc_tls == tls) {
			unlink_idle(uc);
			return uc;
		}
	return NULL;
}

void
upool_put(struct upconn *uc, int max_idle, msec_t timeout)
{
	struct upconn *p, *oldest = NULL;
	int n = 0;

	uc->uc_wake = NULL;
	uc->uc_owner = NULL;
	/* at most max_idle per upstream: the least recently used goes */
	for (p = idle; p != NULL; p = p->uc_next)
		if (p->uc_key == uc->uc_key) {
			n++;
			oldest = p;
		}
	if (n >= max_idle && oldest != NULL)
		upool_close(oldest);
	uc->uc_prev = NULL;
	uc->uc_next = idle;
	if (idle != NULL)
		idle->uc_prev = uc;
	idle = uc;
	uc->uc_idle = 1;
	nidle++;
	timer_set(&uc->uc_timer, timeout);
}

/*
 * A connection whose answer is complete but that is not kept: the
 * upstream closes it next (Connection: close), so it waits for that FIN,
 * at most timeout, before it is closed.  Closing second leaves TIME_WAIT
 * with the upstream, not on this side's ephemeral ports, which a busy
 * proxy would otherwise run out of.
 */
void
upool_drain(struct upconn *uc, msec_t timeout)
{
	/* TLS says goodbye first: close_notify, then the wait for FIN */
	if (uc->uc_ssl != NULL) {
		tls_upstream_free(uc->uc_ssl, 1);
		uc->uc_ssl = NULL;
	}
	uc->uc_wake = NULL;
	uc->uc_owner = NULL;
	uc->uc_key = NULL;		/* never taken again */
	uc->uc_prev = NULL;
	uc->uc_next = idle;
	if (idle != NULL)
		idle->uc_prev = uc;
	idle = uc;
	uc->uc_idle = 1;
	nidle++;
	timer_set(&uc->uc_timer, timeout);
}

void
upool_close(struct upconn *uc)
{
	if (uc->uc_idle)
		unlink_idle(uc);
	tls_upstream_free(uc->uc_ssl, 0);
	uc->uc_ssl = NULL;
	/* close() takes it out of epoll: the descriptor is ours alone */
	if (uc->uc_fd != -1)
		close(uc->uc_fd);
	uc->uc_fd = -1;
	uc->uc_wake = NULL;
	uc->uc_next = closed;
	closed = uc;
}

/* after a batch of events: the objects closed in it may be used again */
void
upool_reap(void)
{
	struct upconn *uc;

	while ((uc = closed) != NULL) {
		closed = uc->uc_next;
		uc->uc_next = free_list;
		free_list = uc;
	}
}

int
upool_count(void)
{
	return nidle;
}

void
upool_close_idle(void)
{
	while (idle != NULL)
		upool_close(idle);
}
