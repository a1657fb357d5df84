/*
 * hammer: a keep-alive HTTP/1.1 load client for the tests, with exact
 * accounting of every failure.  Each connection sends one request, reads
 * the whole response, then sends the next; a response carrying
 * "Connection: close" ends the connection cleanly and a new one is made.
 * Anything else that ends a connection before its response is complete
 * is a failure, counted by kind.
 *
 *   hammer -p PORT [-c CONNS] [-d SECONDS] [-s STOPFILE] [-u PATH]
 *          [-H HOST] [-o OUTFILE] [-n]
 *
 * -n sends "Connection: close": a new connection for every request,
 * which exercises the listen queue rather than keep-alive.
 * -t MS waits a random 0..MS ms before each next request on a kept-alive
 * connection, as real clients do; a close that arrives while no request
 * is outstanding is then a clean close (counted as closed_idle), which a
 * client handles by reconnecting.  A close after the request was sent is
 * a failure.
 *
 * It stops when STOPFILE exists or after SECONDS (default 60), and
 * writes "key value" lines to OUTFILE (or stdout): requests, ok, non2xx,
 * err_connect, err_read, err_write, err_timeout, and "body N TEXT" per
 * distinct response body.  A progress line "requests N" is rewritten in
 * OUTFILE.progress every 100 ms.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS	1024
#define BUFSZ		16384
#define MAX_BODIES	32
#define TIMEOUT_MS	10000

struct hconn {
	int	 fd;
	int	 connecting;
	size_t	 sent;
	size_t	 have;
	long	 started;	/* ms, of the current request */
	long	 send_at;	/* ms; 0: the request is sent or sending */
	char	 buf[BUFSZ];
};

static struct hconn conns[MAX_CONNS];
static struct sockaddr_in addr;
static char req[1024];
static size_t reqlen;
static int epfd;
static long n_req, n_ok, n_non2xx, e_connect, e_read, e_write, e_timeout;
static long n_closed_idle;
static int think_ms;
static char *bodies[MAX_BODIES];
static long body_count[MAX_BODIES];
static int nbodies;

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

static void
record_body(const char *b, size_t len)
{
	int i;

	if (len > 200)
		len = 200;
	for (i = 0; i < nbodies; i++)
		if (strlen(bodies[i]) == len && memcmp(bodies[i], b, len) == 0) {
			body_count[i]++;
			return;
		}
	if (nbodies == MAX_BODIES)
		return;
	bodies[nbodies] = strndup(b, len);
	body_count[nbodies++] = 1;
}

static void
hconn_open(struct hconn *c)
{
	struct epoll_event ee;
	int on = 1;

	c->have = c->sent = 0;
	c->send_at = 0;
	c->started = now_ms();
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (c->fd == -1) {
		e_connect++;
		return;
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	c->connecting = 1;
	if (connect(c->fd, (struct sockaddr *)&addr, sizeof(addr)) == -1 &&
	    errno != EINPROGRESS) {
		e_connect++;
		close(c->fd);
		c->fd = -1;
		return;
	}
	memset(&ee, 0, sizeof(ee));
	ee.events = EPOLLIN | EPOLLOUT | EPOLLET;
	ee.data.ptr = c;
	epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ee);
}

static void
hconn_close(struct hconn *c)
{
	if (c->fd != -1) {
		epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
	}
	c->fd = -1;
}

static void
hconn_fail(struct hconn *c, long *counter)
{
	(*counter)++;
	hconn_close(c);
}

static int
hconn_write(struct hconn *c)
{
	ssize_t n;

	while (c->sent < reqlen) {
		n = write(c->fd, req + c->sent, reqlen - c->sent);
		if (n > 0) {
			c->sent += n;
			continue;
		}
		if (n == -1 && errno == EAGAIN)
			return 0;
		if (c->connecting)
			hconn_fail(c, &e_connect);
		else
			hconn_fail(c, &e_write);
		return -1;
	}
	c->connecting = 0;
	return 0;
}

/* 1: a whole response is in buf (and was consumed), 0: need more */
static int
hconn_response(struct hconn *c, int *close_after)
{
	char *end, *p;
	long clen = 0;
	int status;
	size_t head;

	c->buf[c->have < BUFSZ ? c->have : BUFSZ - 1] = '\0';
	if ((end = strstr(c->buf, "\r\n\r\n")) == NULL)
		return 0;
	head = end + 4 - c->buf;
	if (sscanf(c->buf, "HTTP/1.%*d %d", &status) != 1)
		return -1;
	for (p = c->buf; p < end; p++) {
		if (*p != '\n')
			continue;
		if (strncasecmp(p + 1, "Content-Length:", 15) == 0)
			clen = atol(p + 16);
		if (strncasecmp(p + 1, "Connection: close", 17) == 0)
			*close_after = 1;
	}
	if (c->have < head + clen)
		return 0;
	n_req++;
	if (status >= 200 && status < 300)
		n_ok++;
	else
		n_non2xx++;
	record_body(c->buf + head, clen);
	memmove(c->buf, c->buf + head + clen, c->have - head - clen);
	c->have -= head + clen;
	return 1;
}

static void
hconn_read(struct hconn *c)
{
	int close_after = 0, rc;
	ssize_t n;

	for (;;) {
		if (c->have == BUFSZ - 1) {
			hconn_fail(c, &e_read);
			return;
		}
		n = read(c->fd, c->buf + c->have, BUFSZ - 1 - c->have);
		if (n > 0) {
			c->have += n;
			rc = hconn_response(c, &close_after);
			if (rc == -1) {
				hconn_fail(c, &e_read);
				return;
			}
			if (rc == 1) {
				if (close_after) {
					hconn_close(c);
					return;
				}
				c->sent = 0;
				c->started = now_ms();
				if (think_ms > 0) {
					c->send_at = now_ms() + 1 +
					    random() % think_ms;
					continue;
				}
				if (hconn_write(c) == -1)
					return;
			}
			continue;
		}
		if (n == -1 && errno == EAGAIN)
			return;
		if (c->send_at != 0) {
			/* closed while we had nothing outstanding */
			n_closed_idle++;
			hconn_close(c);
			return;
		}
		/* EOF or reset before the response was complete */
		if (c->connecting)
			hconn_fail(c, &e_connect);
		else
			hconn_fail(c, &e_read);
		return;
	}
}

int
main(int argc, char **argv)
{
	struct epoll_event evs[256];
	const char *stopfile = NULL, *outfile = NULL, *path = "/";
	const char *host = "localhost";
	char progress[4096];
	long deadline, last_progress = 0;
	int port = 0, nconns = 16, secs = 60, opt, i, n, close_each = 0;
	struct stat st;
	FILE *out;

	while ((opt = getopt(argc, argv, "p:c:d:s:u:H:o:nt:")) != -1) {
		switch (opt) {
		case 'p': port = atoi(optarg); break;
		case 'c': nconns = atoi(optarg); break;
		case 'd': secs = atoi(optarg); break;
		case 's': stopfile = optarg; break;
		case 'u': path = optarg; break;
		case 'H': host = optarg; break;
		case 'o': outfile = optarg; break;
		case 'n': close_each = 1; break;
		case 't': think_ms = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: hammer -p PORT [-c CONNS] "
			    "[-d SECONDS] [-s STOPFILE] [-u PATH] [-H HOST] "
			    "[-o OUTFILE] [-n] [-t MS]\n");
			return 2;
		}
	}
	if (port <= 0 || nconns <= 0 || nconns > MAX_CONNS)
		return 2;
	addr.sin_family = AF_INET;
	addr.sin_port = htons(port);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	reqlen = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s\r\n"
	    "User-Agent: hammer\r\n%s\r\n", path, host,
	    close_each ? "Connection: close\r\n" : "");
	if (outfile)
		snprintf(progress, sizeof(progress), "%s.progress", outfile);
	epfd = epoll_create1(0);
	for (i = 0; i < nconns; i++) {
		conns[i].fd = -1;
		hconn_open(&conns[i]);
	}
	deadline = now_ms() + secs * 1000L;
	while (now_ms() < deadline) {
		if (stopfile && stat(stopfile, &st) == 0)
			break;
		n = epoll_wait(epfd, evs, 256, think_ms > 0 ? 1 : 50);
		for (i = 0; i < n; i++) {
			struct hconn *c = evs[i].data.ptr;

			if (c->fd == -1)
				continue;
			if (c->send_at == 0 && c->sent < reqlen &&
			    (evs[i].events & EPOLLOUT) &&
			    hconn_write(c) == -1)
				continue;
			if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
				hconn_read(c);
		}
		for (i = 0; i < nconns; i++) {
			struct hconn *c = &conns[i];

			if (c->fd == -1)
				hconn_open(c);
			else if (c->send_at != 0) {
				if (now_ms() >= c->send_at) {
					c->send_at = 0;
					c->started = now_ms();
					hconn_write(c);
				}
			} else if (now_ms() - c->started > TIMEOUT_MS)
				hconn_fail(c, &e_timeout);
		}
		if (outfile && now_ms() - last_progress >= 100) {
			FILE *pf = fopen(progress, "w");

			if (pf) {
				fprintf(pf, "requests %ld\n", n_req);
				fclose(pf);
			}
			last_progress = now_ms();
		}
	}
	out = outfile ? fopen(outfile, "w") : stdout;
	if (out == NULL)
		return 1;
	fprintf(out, "requests %ld\nok %ld\nnon2xx %ld\nerr_connect %ld\n"
	    "err_read %ld\nerr_write %ld\nerr_timeout %ld\nclosed_idle %ld\n",
	    n_req, n_ok, n_non2xx, e_connect, e_read, e_write, e_timeout,
	    n_closed_idle);
	for (i = 0; i < nbodies; i++) {
		char *b = bodies[i], *nl;

		while ((nl = strchr(b, '\n')) != NULL)
			*nl = ' ';
		fprintf(out, "body %ld %s\n", body_count[i], bodies[i]);
	}
	if (out != stdout)
		fclose(out);
	return 0;
}
