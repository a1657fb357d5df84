/*
 * worker.c: a worker process.  Signals arrive through a signalfd in the
 * same epoll loop as the sockets, so there are no handlers to race with.
 *   QUIT: stop accepting, finish every connection, exit.
 *   TERM, INT: close everything now and exit.
 *   USR1: reopen the error log.
 */
#include "core.h"

#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>

#include "child.h"
#include "clock.h"
#include "conn.h"
#include "event.h"
#include "http_log.h"
#include "log.h"
#include "upool.h"
#include "ups.h"
#include "tls.h"
#include "worker.h"

struct listener {
	struct event		 ls_ev;
	struct gen_listen	*ls_gl;
	int			 ls_on;
};

static struct gen *gen;
static struct listener *listeners;
static int nlisteners;
static struct event sig_ev;
static struct timer shutdown_timer;
static struct timer fds_timer;	/* armed: no accepting, after EMFILE */
static int exiting;
static int accept_paused;
static int single;		/* master_process off */

static void
listeners_pause(int pause)
{
	int i;

	for (i = 0; i < nlisteners; i++) {
		struct listener *ls = &listeners[i];

		if (pause && ls->ls_on) {
			event_del(&ls->ls_ev);
			ls->ls_on = 0;
		} else if (!pause && !ls->ls_on && !worker_stopping) {
			if (event_add(&ls->ls_ev, EPOLLIN | EPOLLEXCLUSIVE) == 0)
				ls->ls_on = 1;
		}
	}
	accept_paused = pause;
}

static void
on_accept(struct event *ev, uint32_t events)
{
	struct listener *ls = ev->ev_data;
	struct sockaddr_storage peer;
	socklen_t plen;
	int fd, n, max;

	/* one at a time lets connections in progress go first (as nginx) */
	max = gen->g_main->mc_multi_accept ? 512 : 1;
	for (n = 0; n < max && !worker_stopping; n++) {
		plen = sizeof(peer);
		fd = accept4(ev->ev_fd, (struct sockaddr *)&peer, &plen,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd == -1) {
			if (errno == EAGAIN || errno == EINTR ||
			    errno == ECONNABORTED)
				return;
			/*
			 * Out of descriptors: the listener stays readable,
			 * so accepting pauses for half a second (as nginx)
			 * instead of spinning on the same error
			 */
			if (errno == EMFILE || errno == ENFILE) {
				log_crit("accept4() failed");
				listeners_pause(1);
				timer_set(&fds_timer, 500);
				return;
			}
			log_err("accept4() on %s failed", ls->ls_gl->gl_text);
			return;
		}
		/*
		 * Full: a connection that costs others least makes room
		 * (conn_reclaim); with none, the new one is refused, as
		 * nginx does, and accepting pauses until one closes.
		 */
		if (conn_count() >= gen->g_main->mc_worker_connections &&
		    conn_reclaim() == -1) {
			log_alert("%lld worker_connections are not enough",
			    (long long)gen->g_main->mc_worker_connections);
			close(fd);
			listeners_pause(1);
			return;
		}
		conn_accept(gen, ls->ls_gl, fd, &peer, plen);
	}
}

static void
close_listeners(void)
{
	int i;

	for (i = 0; i < nlisteners; i++) {
		if (listeners[i].ls_on)
			event_del(&listeners[i].ls_ev);
		listeners[i].ls_on = 0;
		/* in one process the master's code closes them at exit */
		if (!single)
			close(listeners[i].ls_ev.ev_fd);
	}
	nlisteners = 0;
}

static void
on_fds_timer(struct timer *t)
{
	if (conn_count() < gen->g_main->mc_worker_connections)
		listeners_pause(0);
}

static void
on_shutdown_timeout(struct timer *t)
{
	log_notice("worker_shutdown_timeout: closing %d connection(s)",
	    conn_count());
	conn_close_all("worker_shutdown_timeout: connection closed");
	exiting = 1;
}

static void
graceful_stop(void)
{
	if (worker_stopping)
		return;
	log_notice("gracefully shutting down");
	close_listeners();
	conn_shutdown_begin();
	if (gen->g_main->mc_shutdown_timeout > 0)
		timer_set(&shutdown_timer, gen->g_main->mc_shutdown_timeout);
}

static void
on_signal(struct event *ev, uint32_t events)
{
	struct signalfd_siginfo si;

	while (read(ev->ev_fd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGQUIT:
			graceful_stop();
			break;
		case SIGTERM:
		case SIGINT:
			log_notice("exiting");
			worker_stopping = 1;
			close_listeners();
			conn_close_all("worker exiting: connection closed");
			exiting = 1;
			break;
		case SIGHUP:
		case SIGUSR2:
			if (single)
				log_warnx("signal %d ignored: with master_process "
				    "off, reload and binary upgrade need a "
				    "restart", (int)si.ssi_signo);
			break;
		case SIGUSR1:
			if (log_reopen() == -1)
				log_alert("reopen of \"%s\" failed (%d: %s)",
				    log_path(), errno, strerror(errno));
			http_log_reopen(gen);
			break;
		}
	}
}

static int
worker_init(struct gen *g, int slot)
{
	sigset_t set;
	int i, k, fd, n = 0;

	gen = g;
	clock_update();
	/* a timer per client connection, and per upstream one */
	if (event_init(2 * (int)g->g_main->mc_worker_connections + 16) == -1 ||
	    conn_pool_init((int)g->g_main->mc_worker_connections) == -1 ||
	    ups_init(g) == -1 || tls_worker_init(g) == -1)
		return -1;
	timer_init(&shutdown_timer, on_shutdown_timeout, NULL);
	timer_init(&fds_timer, on_fds_timer, NULL);

	sigemptyset(&set);
	sigaddset(&set, SIGQUIT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGWINCH);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	sig_ev.ev_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	sig_ev.ev_handler = on_signal;
	if (sig_ev.ev_fd == -1 || event_add(&sig_ev, EPOLLIN) == -1) {
		log_alert("signalfd() failed (%d: %s)", errno, strerror(errno));
		return -1;
	}

	listeners = calloc(g->g_nlistens + 1, sizeof(*listeners));
	for (i = 0; i < g->g_nlistens; i++) {
		struct listener *ls = &listeners[n];
		struct gen_listen *gl = &g->g_listens[i];

		fd = gl->gl_fd;
		/* reuseport: this worker's own socket; the others' are not ours */
		if (gl->gl_nfds > 0) {
			fd = gl->gl_fds[slot % gl->gl_nfds];
			for (k = 0; k < gl->gl_nfds && !single; k++)
				if (gl->gl_fds[k] != fd)
					close(gl->gl_fds[k]);
		}
		if (fd == -1)
			continue;
		ls->ls_ev.ev_fd = fd;
		ls->ls_ev.ev_handler = on_accept;
		ls->ls_ev.ev_data = ls;
		ls->ls_gl = &g->g_listens[i];
		n++;
	}
	nlisteners = n;
	listeners_pause(0);
	return 0;
}

static void
worker_loop(void)
{
	for (;;) {
		if (event_loop_once() == -1)
			break;
		upool_reap();
		if (accept_paused && !worker_stopping &&
		    !timer_is_armed(&fds_timer) &&
		    conn_count() < gen->g_main->mc_worker_connections)
			listeners_pause(0);
		if (exiting || (worker_stopping && conn_count() == 0))
			break;
	}
	http_log_flush_all(gen);
	if (!single)
		log_notice("exit");
}

void
worker_main(struct gen *g, int slot)
{
	/* nothing to flush; and exit-time hooks may need the missing fds */
	if (worker_init(g, slot) == -1)
		_exit(2);
	worker_loop();
	exit(0);
}

int
worker_run_single(struct gen *g)
{
	single = 1;
	if (worker_init(g, 0) == -1)
		return -1;
	worker_loop();
	return 0;
}
