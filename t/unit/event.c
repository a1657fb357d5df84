/*
 * unit tests for worker/event.c: the timer heap (set, re-set, cancel,
 * firing in deadline order through event_loop_once) and fd events.
 * Deadlines are 0-50 ms so that the test runs in well under a second.
 */
#include "../../worker/event.c"
#include "tap.h"

#include <time.h>

#define NTIMERS	1000

struct rec {
	struct timer	 r_timer;
	int		 r_id;
	int		 r_cancelled;
	int		 r_fired;
	int		 r_early;	/* fired before its deadline */
	int		 r_armed_in_cb;
};

static struct rec recs[NTIMERS];
static msec_t fired_when[NTIMERS];
static int nfired;

/* the heap invariant, and every timer knowing its own index */
static int
heap_valid(void)
{
	int i;

	for (i = 0; i < heap_n; i++) {
		if (heap[i]->t_index != i)
			return 0;
		if (i > 0 && heap[(i - 1) / 2]->t_when > heap[i]->t_when)
			return 0;
	}
	return 1;
}

static msec_t
real_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (msec_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
on_fire(struct timer *t)
{
	struct rec *r = t->t_data;

	r->r_fired++;
	r->r_early |= clock_now() < t->t_when;
	r->r_armed_in_cb |= timer_is_armed(t);
	if (nfired < NTIMERS)
		fired_when[nfired] = t->t_when;
	nfired++;
}

/* run the loop until want timers fired or limit ms passed; turns taken */
static int
run_until(int want, msec_t limit)
{
	msec_t end = real_ms() + limit;
	int turns = 0;

	while (nfired < want && real_ms() < end) {
		if (event_loop_once() == -1)
			break;
		turns++;
	}
	return turns;
}

static void
test_heap_order(void)
{
	int order[NTIMERS], i, j, tmp, valid, sorted, turns;
	int once, never, early, armed;
	const char *env = getenv("PORTICO_TEST_SEED");
	unsigned seed = env ? (unsigned)strtoul(env, NULL, 10) :
	    (unsigned)time(NULL);
	msec_t start;

	printf("# random seed %u (PORTICO_TEST_SEED repeats it)\n", seed);
	srandom(seed);
	for (i = 0; i < NTIMERS; i++) {
		recs[i].r_id = i;
		timer_init(&recs[i].r_timer, on_fire, &recs[i]);
	}
	ok(!timer_is_armed(&recs[0].r_timer), "a new timer is not armed");
	timer_cancel(&recs[0].r_timer);
	is_int(heap_n, 0, "cancelling an unarmed timer is a no-op");

	clock_update();
	for (i = 0, valid = 1; i < NTIMERS; i++) {
		timer_set(&recs[i].r_timer, random() % 51);
		valid &= heap_valid();
	}
	is_int(heap_n, NTIMERS, "1000 timers armed (heap grew from 16)");
	ok(valid, "heap valid after every timer_set");
	ok(timer_is_armed(&recs[7].r_timer), "an armed timer says so");

	/* re-setting an armed timer moves it, it is not added twice */
	for (i = 0, valid = 1; i < 100; i++) {
		timer_set(&recs[random() % NTIMERS].r_timer, random() % 51);
		valid &= heap_valid();
	}
	is_int(heap_n, NTIMERS, "re-set timers are not duplicated");
	ok(valid, "heap valid after re-setting");

	/* cancel a random half */
	for (i = 0; i < NTIMERS; i++)
		order[i] = i;
	for (i = NTIMERS - 1; i > 0; i--) {
		j = random() % (i + 1);
		tmp = order[i];
		order[i] = order[j];
		order[j] = tmp;
	}
	for (i = 0, valid = 1; i < NTIMERS / 2; i++) {
		timer_cancel(&recs[order[i]].r_timer);
		recs[order[i]].r_cancelled = 1;
		valid &= heap_valid() && !timer_is_armed(&recs[order[i]].r_timer);
	}
	is_int(heap_n, NTIMERS / 2, "half cancelled");
	ok(valid, "heap valid after every cancel");
	timer_cancel(&recs[order[0]].r_timer);
	is_int(heap_n, NTIMERS / 2, "cancelling twice is a no-op");

	start = real_ms();
	turns = run_until(NTIMERS / 2, 5000);
	is_int(nfired, NTIMERS / 2, "every armed timer fired");
	ok(real_ms() - start < 1000, "within the deadlines (%lld ms)",
	    (long long)(real_ms() - start));
	ok(turns <= 200, "the loop waited instead of spinning (%d turns)",
	    turns);
	for (i = 1, sorted = 1; i < nfired && i < NTIMERS; i++)
		if (fired_when[i - 1] > fired_when[i])
			sorted = 0;
	ok(sorted, "timers fired in deadline order");
	for (i = 0, once = 1, never = 1, early = 0, armed = 0; i < NTIMERS;
	    i++) {
		if (recs[i].r_cancelled)
			never &= recs[i].r_fired == 0;
		else
			once &= recs[i].r_fired == 1;
		early |= recs[i].r_early;
		armed |= recs[i].r_armed_in_cb;
	}
	ok(once, "each armed timer fired exactly once");
	ok(never, "no cancelled timer fired");
	ok(!early, "no timer fired before its deadline");
	ok(!armed, "a timer is disarmed before its handler runs");
	is_int(heap_n, 0, "heap empty");
}

/* handlers that re-arm, cancel and add timers while timers run */
static struct timer t_periodic, t_victim, t_killer, t_spawner, t_spawned;
static int periodic_runs, victim_runs, spawned_runs;

static void
periodic(struct timer *t)
{
	if (++periodic_runs < 4)
		timer_set(t, 5);
}

static void
victim(struct timer *t)
{
	victim_runs++;
}

static void
killer(struct timer *t)
{
	timer_cancel(&t_victim);
}

static void
spawned(struct timer *t)
{
	spawned_runs++;
}

static void
spawner(struct timer *t)
{
	timer_set(&t_spawned, 3);
}

static void
test_handlers(void)
{
	msec_t start;
	int turns;

	clock_update();
	timer_init(&t_periodic, periodic, NULL);
	timer_init(&t_victim, victim, NULL);
	timer_init(&t_killer, killer, NULL);
	timer_init(&t_spawner, spawner, NULL);
	timer_init(&t_spawned, spawned, NULL);
	timer_set(&t_periodic, 1);
	timer_set(&t_killer, 2);
	timer_set(&t_victim, 30);
	timer_set(&t_spawner, 4);
	for (turns = 0, start = real_ms(); heap_n > 0 &&
	    real_ms() - start < 2000; turns++)
		event_loop_once();
	is_int(periodic_runs, 4, "a handler re-arming its own timer");
	is_int(victim_runs, 0, "a handler cancelling another timer");
	is_int(spawned_runs, 1, "a handler arming a new timer");
	is_int(heap_n, 0, "all done");

	/* one turn waits for the nearest timer, then runs it */
	nfired = 0;
	timer_init(&recs[0].r_timer, on_fire, &recs[0]);
	recs[0].r_fired = 0;
	clock_update();
	start = real_ms();
	timer_set(&recs[0].r_timer, 30);
	event_loop_once();
	ok(recs[0].r_fired == 1 && real_ms() - start >= 29,
	    "one turn sleeps until the timer and runs it (%lld ms)",
	    (long long)(real_ms() - start));

	/* a deadline already passed runs on the next turn, without waiting */
	timer_set(&recs[0].r_timer, 0);
	start = real_ms();
	event_loop_once();
	ok(recs[0].r_fired == 2 && real_ms() - start < 20,
	    "a due timer runs at once");
}

static int pipe_reads;
static uint32_t pipe_events;

static void
on_readable(struct event *ev, uint32_t events)
{
	char buf[16];

	pipe_reads++;
	pipe_events = events;
	if (read(ev->ev_fd, buf, sizeof(buf)) == -1)
		pipe_events = 0;
}

static void
test_fd_events(void)
{
	struct event ev;
	struct timer guard;
	int fds[2];

	if (pipe(fds) == -1) {
		ok(0, "pipe");
		return;
	}
	ev.ev_fd = fds[0];
	ev.ev_handler = on_readable;
	ev.ev_data = NULL;
	timer_init(&guard, on_fire, &recs[1]);
	is_int(event_add(&ev, EPOLLIN), 0, "event_add");
	if (write(fds[1], "x", 1) != 1)
		ok(0, "write");
	timer_set(&guard, 1000);	/* bounds the wait if it fails */
	event_loop_once();
	ok(pipe_reads == 1 && (pipe_events & EPOLLIN),
	    "readable fd: handler called with EPOLLIN");
	ok(timer_is_armed(&guard), "before the timer");
	is_int(event_del(&ev), 0, "event_del");
	if (write(fds[1], "y", 1) != 1)
		ok(0, "write");
	timer_set(&guard, 10);
	event_loop_once();
	is_int(pipe_reads, 1, "no handler call after event_del");
	timer_cancel(&guard);
	close(fds[0]);
	close(fds[1]);
}

int
main(void)
{
	if (event_init(16) == -1) {
		ok(0, "event_init");
		return tap_done();
	}
	is_int(heap_cap, 16, "event_init: heap of 16 to start");
	test_heap_order();
	test_handlers();
	test_fd_events();
	return tap_done();
}
