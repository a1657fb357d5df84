/*
 * keeper.c: the keeper process.  It runs the active health checks of
 * the upstreams that have a health_check: every interval each peer gets
 * a GET of the check's URI, and the verdict goes into the health zone,
 * where every worker reads it at its next choice of a peer.  Checks run
 * one after another, each bounded by min(interval, 5s); between them the
 * keeper waits for signals.  An upstream that a proxy_pass https:// goes
 * to is checked over TLS, with that location's proxy_ssl_* settings.
 */
#include "core.h"

#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>

#include "balance.h"
#include "child.h"
#include "clock.h"
#include "http_parse.h"
#include "io.h"
#include "log.h"
#include "shm.h"
#include "tls.h"
#include "upstream.h"

#define HC_TIMEOUT_MAX	5000
#define HC_READ_MAX	65536

struct hc_peer {
	const struct conf_upstream	*hp_ups;
	const struct conf_peer		*hp_peer;
	struct balance_health		*hp_h;
	msec_t				 hp_next;
};

static struct hc_peer *peers;
static int npeers;

/* wait for fd to be ready for events until deadline: 1, 0 timed out */
static int
hc_wait(int fd, short events, msec_t deadline)
{
	struct pollfd pfd = { fd, events, 0 };
	msec_t left;
	int n;

	for (;;) {
		clock_update();
		if ((left = deadline - clock_now()) <= 0)
			return 0;
		n = poll(&pfd, 1, (int)left);
		if (n > 0)
			return 1;
		if (n == -1 && errno != EINTR)
			return 1;	/* the next call says what is wrong */
	}
}

/* the TLS handshake of a check: 0, or -1 with why */
static int
hc_tls(const struct hc_peer *hp, int fd, SSL **ssl, msec_t deadline,
    char *why, size_t whylen)
{
	int want_write = 0, rc;

	if ((*ssl = tls_upstream_new(hp->hp_ups->u_ssl_ctx, fd, NULL, 0,
	    NULL)) == NULL) {
		snprintf(why, whylen, "SSL_new() failed");
		return -1;
	}
	while ((rc = tls_upstream_handshake(*ssl, &want_write, why, whylen)) ==
	    IO_AGAIN) {
		if (!hc_wait(fd, want_write ? POLLOUT : POLLIN, deadline)) {
			snprintf(why, whylen, "the TLS handshake timed out");
			return -1;
		}
	}
	return rc == IO_OK ? 0 : -1;
}

/* one check: 1 passed, 0 failed with why */
static int
hc_run(const struct hc_peer *hp, char *why, size_t whylen)
{
	const struct conf_hc *hc = hp->hp_ups->u_hc;
	struct sockaddr_storage ss = hp->hp_peer->p_addr;
	static char buf[HC_READ_MAX];
	struct http_head head;
	msec_t deadline;
	size_t have = 0, scan = 0;
	socklen_t sl = sizeof(int);
	ssize_t n;
	SSL *ssl = NULL;
	int fd, err = 0, hl = -2, len, sent;

	clock_update();
	deadline = clock_now() + MIN(hc->hc_interval, HC_TIMEOUT_MAX);
	if (hc->hc_port != 0) {
		if (ss.ss_family == AF_INET6)
			((struct sockaddr_in6 *)&ss)->sin6_port =
			    htons(hc->hc_port);
		else
			((struct sockaddr_in *)&ss)->sin_port =
			    htons(hc->hc_port);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1) {
		snprintf(why, whylen, "socket() failed (%d: %s)", errno,
		    strerror(errno));
		return 0;
	}
	if (connect(fd, (struct sockaddr *)&ss, hp->hp_peer->p_addrlen) == -1 &&
	    errno != EINPROGRESS)
		err = errno;
	else if (!hc_wait(fd, POLLOUT, deadline)) {
		snprintf(why, whylen, "connect() timed out");
		goto fail;
	} else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &sl) == -1)
		err = errno;
	if (err != 0) {
		snprintf(why, whylen, "connect() failed (%d: %s)", err,
		    strerror(err));
		goto fail;
	}
	/* an upstream proxied to over https:// is checked over TLS too */
	if (hp->hp_ups->u_ssl_ctx != NULL &&
	    hc_tls(hp, fd, &ssl, deadline, why, whylen) == -1)
		goto fail;
	len = snprintf(buf, sizeof(buf), "GET %s HTTP/1.0\r\nHost: %s\r\n"
	    "User-Agent: portico health check\r\nConnection: close\r\n\r\n",
	    hc->hc_uri, hp->hp_ups->u_name);
	for (sent = 0; sent < len; sent += n) {
		n = io_write(fd, ssl, buf + sent, len - sent);
		if (n > 0)
			continue;
		n = 0;
		if (errno == EAGAIN && hc_wait(fd, io_wants_read(ssl) ?
		    POLLIN : POLLOUT, deadline))
			continue;
		snprintf(why, whylen, "write() failed (%d: %s)", errno,
		    strerror(errno));
		goto fail;
	}
	/* the whole answer, up to HC_READ_MAX, until the peer closes */
	for (;;) {
		n = io_read(fd, ssl, buf + have, sizeof(buf) - 1 - have);
		if (n > 0) {
			have += n;
			if (have == sizeof(buf) - 1)
				break;
			continue;
		}
		if (n == 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN) {
			snprintf(why, whylen, "read() failed (%d: %s)", errno,
			    strerror(errno));
			goto fail;
		}
		if (!hc_wait(fd, io_wants_write(ssl) ? POLLOUT : POLLIN,
		    deadline)) {
			snprintf(why, whylen, "the answer timed out");
			goto fail;
		}
	}
	tls_upstream_free(ssl, 1);
	close(fd);
	hl = http_head_end(buf, have, &scan);
	if (hl <= 0 || http_parse_response(buf, hl, &head) == -1) {
		snprintf(why, whylen, "invalid answer");
		return 0;
	}
	if (!balance_check_response(hc, head.hh_code, buf + hl, have - hl)) {
		snprintf(why, whylen, "status %d%s", head.hh_code,
		    hc->hc_body != NULL ? " or a body that does not match" : "");
		return 0;
	}
	return 1;
fail:
	tls_upstream_free(ssl, 0);
	close(fd);
	return 0;
}

/* the verdict goes into the zone; a change of state is logged */
static void
hc_record(const struct hc_peer *hp, int passed, const char *why)
{
	if (!balance_check_done(hp->hp_h, hp->hp_ups->u_hc, passed,
	    clock_now()))
		return;
	if (passed)
		log_notice("health check of %s in upstream \"%s\" passed: "
		    "the server is up", hp->hp_peer->p_name, hp->hp_ups->u_name);
	else
		log_warnx("health check of %s in upstream \"%s\" failed: %s: "
		    "the server is down", hp->hp_peer->p_name,
		    hp->hp_ups->u_name, why);
}

static void
hc_setup(struct gen *g)
{
	struct conf_upstream *u;
	struct balance_health *h;
	int i, n = 0;

	if (g->g_http == NULL)
		return;
	for (u = g->g_http->hc_upstreams; u != NULL; u = u->u_next)
		if (u->u_hc != NULL)
			n += u->u_npeers;
	if (n == 0)
		return;
	if (g->g_health == NULL) {
		log_warnx("no health zone: the health checks do not run");
		return;
	}
	if ((peers = calloc(n, sizeof(*peers))) == NULL)
		return;
	clock_update();
	for (u = g->g_http->hc_upstreams; u != NULL; u = u->u_next) {
		if (u->u_hc == NULL)
			continue;
		for (i = 0; i < u->u_npeers; i++) {
			if (u->u_peers[i].p_slot == -1 || (h =
			    shm_health_get(g->g_health, u->u_peers[i].p_slot)) ==
			    NULL)
				continue;
			peers[npeers].hp_ups = u;
			peers[npeers].hp_peer = &u->u_peers[i];
			peers[npeers].hp_h = h;
			/* the first round at once, so a dead peer is known */
			peers[npeers++].hp_next = clock_now();
		}
	}
}

/* run what is due; returns when the next check is due (or -1: none) */
static msec_t
hc_round(void)
{
	char why[256];
	msec_t next = -1, now;
	int i;

	for (i = 0; i < npeers; i++) {
		struct hc_peer *hp = &peers[i];

		clock_update();
		now = clock_now();
		if (hp->hp_next <= now) {
			hc_record(hp, hc_run(hp, why, sizeof(why)), why);
			clock_update();
			hp->hp_next = clock_now() + hp->hp_ups->u_hc->hc_interval;
		}
		if (next == -1 || hp->hp_next < next)
			next = hp->hp_next;
	}
	return next;
}

void
keeper_main(struct gen *g)
{
	struct timespec ts;
	sigset_t set;
	msec_t next, wait;
	int sig;

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
	hc_setup(g);
	for (;;) {
		next = hc_round();
		if (next == -1) {
			sig = 0;
			if (sigwait(&set, &sig) != 0)
				continue;
		} else {
			clock_update();
			wait = MAX(next - clock_now(), 1);
			ts.tv_sec = wait / 1000;
			ts.tv_nsec = (wait % 1000) * 1000000;
			if ((sig = sigtimedwait(&set, NULL, &ts)) == -1)
				continue;
		}
		if (sig == SIGQUIT || sig == SIGTERM || sig == SIGINT)
			break;
		if (sig == SIGUSR1 && log_reopen() == -1)
			log_alert("reopen of \"%s\" failed (%d: %s)", log_path(),
			    errno, strerror(errno));
	}
	exit(0);
}
