/*
 * event.c: one epoll instance and a binary min-heap of timers.
 */
#include "core.h"

#include "clock.h"
#include "event.h"
#include "log.h"

#define EVENT_BATCH	128

static int epfd = -1;
static struct timer **heap;
static int heap_n, heap_cap;

int
event_init(int max_timers)
{
	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		log_alert("epoll_create1() failed (%d: %s)", errno,
		    strerror(errno));
		return -1;
	}
	heap_cap = max_timers > 16 ? max_timers : 16;
	if ((heap = calloc(heap_cap, sizeof(*heap))) == NULL)
		return -1;
	return 0;
}

int
event_add(struct event *ev, uint32_t events)
{
	struct epoll_event ee;

	memset(&ee, 0, sizeof(ee));
	ee.events = events;
	ee.data.ptr = ev;
	return epoll_ctl(epfd, EPOLL_CTL_ADD, ev->ev_fd, &ee);
}

int
event_del(struct event *ev)
{
	return epoll_ctl(epfd, EPOLL_CTL_DEL, ev->ev_fd, NULL);
}

static void
heap_swap(int a, int b)
{
	struct timer *t = heap[a];

	heap[a] = heap[b];
	heap[b] = t;
	heap[a]->t_index = a;
	heap[b]->t_index = b;
}

static void
heap_up(int i)
{
	while (i > 0 && heap[(i - 1) / 2]->t_when > heap[i]->t_when) {
		heap_swap(i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void
heap_down(int i)
{
	int l, r, m;

	for (;;) {
		l = 2 * i + 1;
		r = l + 1;
		m = i;
		if (l < heap_n && heap[l]->t_when < heap[m]->t_when)
			m = l;
		if (r < heap_n && heap[r]->t_when < heap[m]->t_when)
			m = r;
		if (m == i)
			return;
		heap_swap(i, m);
		i = m;
	}
}

void
timer_init(struct timer *t, timer_fn fn, void *data)
{
	t->t_index = -1;
	t->t_fn = fn;
	t->t_data = data;
	t->t_when = 0;
}

int
timer_is_armed(const struct timer *t)
{
	return t->t_index >= 0;
}

void
timer_cancel(struct timer *t)
{
	int i = t->t_index;

	if (i < 0)
		return;
	t->t_index = -1;
	heap_n--;
	if (i == heap_n)
		return;
	heap[i] = heap[heap_n];
	heap[i]->t_index = i;
	heap_down(i);
	heap_up(i);
}

void
timer_set(struct timer *t, msec_t after)
{
	timer_cancel(t);
	if (heap_n == heap_cap) {
		struct timer **nh = realloc(heap, 2 * heap_cap * sizeof(*nh));

		if (nh == NULL)
			fatalx("out of memory for timers");
		heap = nh;
		heap_cap *= 2;
	}
	t->t_when = clock_now() + after;
	t->t_index = heap_n;
	heap[heap_n++] = t;
	heap_up(t->t_index);
}

static void
timers_run(void)
{
	struct timer *t;

	while (heap_n > 0 && heap[0]->t_when <= clock_now()) {
		t = heap[0];
		timer_cancel(t);
		t->t_fn(t);
	}
}

/* wait for events or the next timer, and dispatch; -1 on a fatal error */
int
event_loop_once(void)
{
	struct epoll_event evs[EVENT_BATCH];
	struct event *ev;
	int n, i, timeout = -1;

	if (heap_n > 0) {
		msec_t d = heap[0]->t_when - clock_now();

		timeout = d < 0 ? 0 : d > INT_MAX ? INT_MAX : (int)d;
	}
	n = epoll_wait(epfd, evs, EVENT_BATCH, timeout);
	clock_update();
	if (n == -1) {
		if (errno == EINTR)
			return 0;
		log_alert("epoll_wait() failed (%d: %s)", errno,
		    strerror(errno));
		return -1;
	}
	for (i = 0; i < n; i++) {
		ev = evs[i].data.ptr;
		ev->ev_handler(ev, evs[i].events);
	}
	timers_run();
	return 0;
}
