/*
 * listen.c: the master owns every listening socket.  A generation names
 * addresses; listen_open() gives each one an fd, reusing the fd already
 * open for the same address (so its accept queue survives a reload) and
 * adopting fds inherited from an old binary.  A "reuseport" address has
 * one socket per worker slot (SO_REUSEPORT: the kernel spreads the
 * connections over them); each is kept by address and slot.
 */
#include "core.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "listen.h"
#include "log.h"

#define LISTEN_MAX	256

struct lsock {
	int			 ls_fd;
	struct sockaddr_storage	 ls_addr;
	socklen_t		 ls_addrlen;
	int			 ls_slot;	/* reuseport: the worker; else -1 */
	int			 ls_inherited;
};

static struct lsock socks[LISTEN_MAX];
static int nsocks;

static struct lsock *
listen_find(const struct sockaddr_storage *a, socklen_t al, int slot)
{
	int i;

	for (i = 0; i < nsocks; i++)
		if (socks[i].ls_addrlen == al && socks[i].ls_slot == slot &&
		    memcmp(&socks[i].ls_addr, a, al) == 0)
			return &socks[i];
	return NULL;
}

/*
 * An inherited reuseport socket takes the first slot not yet taken for
 * its address: any one-to-one mapping of sockets to workers will do.
 */
static int
listen_inherited_slot(int fd, const struct sockaddr_storage *a, socklen_t al)
{
	socklen_t len = sizeof(int);
	int on = 0, slot = 0;

	if (getsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, &len) == -1 || !on)
		return -1;
	while (listen_find(a, al, slot) != NULL)
		slot++;
	return slot;
}

/* PORTICO="3;4;": sockets from the binary we replace */
int
listen_adopt_env(void)
{
	const char *env = getenv(PORTICO_ENV_FDS);
	char *end;
	long fd;

	if (env == NULL)
		return 0;
	while (*env) {
		fd = strtol(env, &end, 10);
		if (end == env || (*end != ';' && *end != '\0') || fd < 0 ||
		    fd > INT_MAX) {
			log_emerg("invalid socket number \"%s\" in " PORTICO_ENV_FDS
			    " environment variable, ignoring the rest", env);
			break;
		}
		env = *end ? end + 1 : end;
		if (nsocks == LISTEN_MAX)
			break;
		socks[nsocks].ls_addrlen = sizeof(socks[nsocks].ls_addr);
		if (getsockname(fd, (struct sockaddr *)&socks[nsocks].ls_addr,
		    &socks[nsocks].ls_addrlen) == -1) {
			log_crit("getsockname() of the inherited socket #%ld "
			    "failed", fd);
			continue;
		}
		socks[nsocks].ls_fd = fd;
		socks[nsocks].ls_slot = listen_inherited_slot(fd,
		    &socks[nsocks].ls_addr, socks[nsocks].ls_addrlen);
		socks[nsocks].ls_inherited = 1;
		fcntl(fd, F_SETFD, FD_CLOEXEC);
		nsocks++;
	}
	if (nsocks > 0)
		log_notice("using inherited sockets from \"%s\"",
		    getenv(PORTICO_ENV_FDS));
	/* PORTICO stays in environ: an upgrade from here replaces it */
	return nsocks;
}

static void
listen_setopt(const struct gen_listen *gl, int fd, int level, int name,
    const char *oname, int v)
{
	if (setsockopt(fd, level, name, &v, sizeof(v)) == -1)
		log_alert("setsockopt(%s, %d) %s failed, ignored (%d: %s)",
		    oname, v, gl->gl_text, errno, strerror(errno));
}

#define SETOPT(gl, fd, level, name, v) \
	listen_setopt(gl, fd, level, name, #name, v)

/* the options that may change on a socket kept by a reload */
static void
listen_configure(const struct gen_listen *gl, int fd)
{
	const struct listen_opts *o = &gl->gl_opt;
	int defer = 0;

	if (o->lo_rcvbuf != -1)
		SETOPT(gl, fd, SOL_SOCKET, SO_RCVBUF, o->lo_rcvbuf);
	if (o->lo_sndbuf != -1)
		SETOPT(gl, fd, SOL_SOCKET, SO_SNDBUF, o->lo_sndbuf);
	if (o->lo_keepalive != -1)
		SETOPT(gl, fd, SOL_SOCKET, SO_KEEPALIVE, o->lo_keepalive);
	if (o->lo_keepidle > 0)
		SETOPT(gl, fd, IPPROTO_TCP, TCP_KEEPIDLE, o->lo_keepidle);
	if (o->lo_keepintvl > 0)
		SETOPT(gl, fd, IPPROTO_TCP, TCP_KEEPINTVL, o->lo_keepintvl);
	if (o->lo_keepcnt > 0)
		SETOPT(gl, fd, IPPROTO_TCP, TCP_KEEPCNT, o->lo_keepcnt);
	if (o->lo_fastopen != -1)
		SETOPT(gl, fd, IPPROTO_TCP, TCP_FASTOPEN, o->lo_fastopen);
	/* as nginx: wait for data up to client_header_timeout */
	if (o->lo_deferred) {
		defer = (int)(gl->gl_default->sc_client_header_timeout / 1000);
		defer = defer > 0 ? defer : 1;
	}
	SETOPT(gl, fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, defer);
}

static int
listen_new(struct gen_listen *gl, int slot)
{
	struct lsock *ls;
	int fd, on = 1;

	if (nsocks == LISTEN_MAX) {
		log_emerg("too many listening sockets");
		return -1;
	}
	fd = socket(gl->gl_addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1) {
		log_emerg("socket() %s failed (%d: %s)", gl->gl_text, errno,
		    strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (slot >= 0 && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on,
	    sizeof(on)) == -1) {
		log_emerg("setsockopt(SO_REUSEPORT) %s failed (%d: %s)",
		    gl->gl_text, errno, strerror(errno));
		close(fd);
		return -1;
	}
	if (gl->gl_addr.ss_family == AF_INET6) {
		on = gl->gl_ipv6only;
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
	}
	/* buffer sizes before listen(): the window scale is chosen then */
	listen_configure(gl, fd);
	if (bind(fd, (struct sockaddr *)&gl->gl_addr, gl->gl_addrlen) == -1) {
		log_emerg("bind() to %s failed (%d: %s)", gl->gl_text, errno,
		    strerror(errno));
		close(fd);
		return -1;
	}
	if (listen(fd, (int)gl->gl_backlog) == -1) {
		log_emerg("listen() to %s failed (%d: %s)", gl->gl_text,
		    errno, strerror(errno));
		close(fd);
		return -1;
	}
	ls = &socks[nsocks++];
	ls->ls_fd = fd;
	memcpy(&ls->ls_addr, &gl->gl_addr, gl->gl_addrlen);
	ls->ls_addrlen = gl->gl_addrlen;
	ls->ls_slot = slot;
	ls->ls_inherited = 0;
	return fd;
}

/* the socket of gl for a slot (-1: the one shared by all workers) */
static int
listen_get(struct gen_listen *gl, int slot)
{
	struct lsock *ls;

	if ((ls = listen_find(&gl->gl_addr, gl->gl_addrlen, slot)) != NULL) {
		/* a new backlog takes effect on the kept socket */
		listen(ls->ls_fd, (int)gl->gl_backlog);
		listen_configure(gl, ls->ls_fd);
		return ls->ls_fd;
	}
	return listen_new(gl, slot);
}

/*
 * Give every address of g an fd, and a reuseport one an fd for each of
 * the nworkers workers.  On failure the sockets opened here are closed
 * again and the previous generation's are untouched.
 */
int
listen_open(struct gen *g, int nworkers)
{
	int i, k, first_new = nsocks;

	for (i = 0; i < g->g_nlistens; i++) {
		struct gen_listen *gl = &g->g_listens[i];

		if (!gl->gl_opt.lo_reuseport) {
			if ((gl->gl_fd = listen_get(gl, -1)) == -1)
				goto fail;
			continue;
		}
		gl->gl_fds = arena_alloc(g->g_arena, nworkers * sizeof(int));
		gl->gl_nfds = nworkers;
		for (k = 0; k < nworkers; k++)
			if ((gl->gl_fds[k] = listen_get(gl, k)) == -1)
				goto fail;
		gl->gl_fd = gl->gl_fds[0];
	}
	return 0;
fail:
	while (nsocks > first_new)
		close(socks[--nsocks].ls_fd);
	return -1;
}

/* close the sockets that g does not use (removed by a reload) */
void
listen_close_unused(const struct gen *g)
{
	const struct gen_listen *gl;
	int i, j, k, used;

	for (i = 0; i < nsocks; ) {
		used = 0;
		for (j = 0; j < g->g_nlistens; j++) {
			gl = &g->g_listens[j];
			if (gl->gl_fd == socks[i].ls_fd)
				used = 1;
			for (k = 0; k < gl->gl_nfds; k++)
				if (gl->gl_fds[k] == socks[i].ls_fd)
					used = 1;
		}
		if (used) {
			i++;
			continue;
		}
		close(socks[i].ls_fd);
		socks[i] = socks[--nsocks];
	}
}

void
listen_close_all(void)
{
	while (nsocks > 0)
		close(socks[--nsocks].ls_fd);
}

int
listen_env(char *buf, size_t len)
{
	size_t n = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < nsocks; i++) {
		n += snprintf(buf + n, n < len ? len - n : 0, "%d;",
		    socks[i].ls_fd);
		if (n >= len)
			return -1;
	}
	return 0;
}

/* the exec'd binary must inherit the sockets */
void
listen_set_cloexec(int on)
{
	int i;

	for (i = 0; i < nsocks; i++)
		fcntl(socks[i].ls_fd, F_SETFD, on ? FD_CLOEXEC : 0);
}
