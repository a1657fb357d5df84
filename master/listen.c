/*
 * listen.c: the master owns every listening socket.  A generation names
 * addresses; listen_open() gives each one an fd, reusing the fd already
 * open for the same address (so its accept queue survives a reload) and
 * adopting fds inherited from an old binary.
 */
#include "core.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "listen.h"
#include "log.h"

#define LISTEN_MAX	256

struct lsock {
	int			 ls_fd;
	struct sockaddr_storage	 ls_addr;
	socklen_t		 ls_addrlen;
	int			 ls_inherited;
};

static struct lsock socks[LISTEN_MAX];
static int nsocks;

static struct lsock *
listen_find(const struct sockaddr_storage *a, socklen_t al)
{
	int i;

	for (i = 0; i < nsocks; i++)
		if (socks[i].ls_addrlen == al &&
		    memcmp(&socks[i].ls_addr, a, al) == 0)
			return &socks[i];
	return NULL;
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

static int
listen_new(struct gen_listen *gl)
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
	if (gl->gl_addr.ss_family == AF_INET6) {
		on = gl->gl_ipv6only;
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
	}
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
	ls->ls_inherited = 0;
	return fd;
}

/*
 * Give every address of g an fd.  On failure the sockets opened here
 * are closed again and the previous generation's are untouched.
 */
int
listen_open(struct gen *g)
{
	struct lsock *ls;
	int i, first_new = nsocks;

	for (i = 0; i < g->g_nlistens; i++) {
		struct gen_listen *gl = &g->g_listens[i];

		if ((ls = listen_find(&gl->gl_addr, gl->gl_addrlen)) != NULL) {
			gl->gl_fd = ls->ls_fd;
			/* a new backlog takes effect on the kept socket */
			listen(ls->ls_fd, (int)gl->gl_backlog);
			continue;
		}
		if ((gl->gl_fd = listen_new(gl)) == -1) {
			while (nsocks > first_new)
				close(socks[--nsocks].ls_fd);
			return -1;
		}
	}
	return 0;
}

/* close the sockets that g does not use (removed by a reload) */
void
listen_close_unused(const struct gen *g)
{
	int i, j, used;

	for (i = 0; i < nsocks; ) {
		used = 0;
		for (j = 0; j < g->g_nlistens; j++)
			if (g->g_listens[j].gl_fd == socks[i].ls_fd)
				used = 1;
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
