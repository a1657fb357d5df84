/*
 * event.h: the worker's epoll loop and timer heap.  Every wait in a
 * worker arms a timer.
 */
#ifndef PORTICO_EVENT_H
#define PORTICO_EVENT_H

#include "core.h"

#include <sys/epoll.h>

struct event;
typedef void (*event_fn)(struct event *, uint32_t events);

struct event {
	int		 ev_fd;
	event_fn	 ev_handler;
	void		*ev_data;
};

struct timer;
typedef void (*timer_fn)(struct timer *);

struct timer {
	msec_t		 t_when;
	int		 t_index;	/* in the heap; -1 when not armed */
	timer_fn	 t_fn;
	void		*t_data;
};

int	 event_init(int max_timers);
int	 event_add(struct event *, uint32_t events);
int	 event_del(struct event *);
int	 event_loop_once(void);

void	 timer_init(struct timer *, timer_fn, void *data);
void	 timer_set(struct timer *, msec_t after);
void	 timer_cancel(struct timer *);
int	 timer_is_armed(const struct timer *);

#endif
