/*
 * conf_listen.c: the listen directive (its address and parameters) and,
 * at the end of the load, the grouping of every server's listens into
 * one struct gen_listen per address (conf_listen_build).
 */
#include "core.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/un.h>

#include "conf_int.h"
#include "log.h"
#include "str.h"

static int
parse_addr(struct conf_parser *cp, const char *text, struct conf_listen *li)
{
	struct addrinfo hints, *res;
	char host[256];
	const char *port, *h;
	long long pn;
	size_t hl;
	int rc;

	if (str_has_prefix(text, "unix:")) {
		conf_error(cp, "unix domain sockets in \"listen\" are not "
		    "supported yet");
		return -1;
	}
	if (text[0] == '[') {
		const char *rb = strchr(text, ']');

		if (rb == NULL) {
			conf_error(cp, "invalid IPv6 address in \"%s\" of the "
			    "\"listen\" directive", text);
			return -1;
		}
		h = text + 1;
		hl = rb - h;
		port = rb[1] == ':' ? rb + 2 : rb[1] == '\0' ? "80" : NULL;
	} else if ((port = strrchr(text, ':')) != NULL) {
		h = text;
		hl = port - text;
		port++;
	} else if (text[strspn(text, "0123456789")] == '\0') {
		/* digits alone are a port, even an invalid one */
		h = "*";
		hl = 1;
		port = text;
	} else {
		h = text;
		hl = strlen(text);
		port = "80";
	}
	if (port == NULL || str_parse_int(port, 65535, &pn) == -1 || pn == 0) {
		conf_error(cp, "invalid port in \"%s\" of the \"listen\" "
		    "directive", text);
		return -1;
	}
	if (hl >= sizeof(host)) {
		conf_error(cp, "host name too long in \"listen\"");
		return -1;
	}
	memcpy(host, h, hl);
	host[hl] = '\0';
	memset(&li->li_addr, 0, sizeof(li->li_addr));
	if (strcmp(host, "*") == 0 || host[0] == '\0') {
		struct sockaddr_in *sin = (struct sockaddr_in *)&li->li_addr;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(pn);
		sin->sin_addr.s_addr = htonl(INADDR_ANY);
		li->li_addrlen = sizeof(*sin);
	} else {
		memset(&hints, 0, sizeof(hints));
		hints.ai_family = AF_UNSPEC;
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_flags = AI_PASSIVE;
		if ((rc = getaddrinfo(host, NULL, &hints, &res)) != 0) {
			conf_error(cp, "host not found in \"%s\" of the "
			    "\"listen\" directive", text);
			return -1;
		}
		memcpy(&li->li_addr, res->ai_addr, res->ai_addrlen);
		li->li_addrlen = res->ai_addrlen;
		freeaddrinfo(res);
		if (li->li_addr.ss_family == AF_INET6)
			((struct sockaddr_in6 *)&li->li_addr)->sin6_port =
			    htons(pn);
		else
			((struct sockaddr_in *)&li->li_addr)->sin_port =
			    htons(pn);
	}
	if (li->li_addr.ss_family == AF_INET6) {
		char a[INET6_ADDRSTRLEN];

		inet_ntop(AF_INET6,
		    &((struct sockaddr_in6 *)&li->li_addr)->sin6_addr, a,
		    sizeof(a));
		snprintf(li->li_text, sizeof(li->li_text), "[%s]:%lld", a, pn);
	} else {
		char a[INET_ADDRSTRLEN];

		inet_ntop(AF_INET,
		    &((struct sockaddr_in *)&li->li_addr)->sin_addr, a,
		    sizeof(a));
		snprintf(li->li_text, sizeof(li->li_text), "%s:%lld", a, pn);
	}
	return 0;
}

static void
listen_defaults(struct conf_listen *li)
{
	li->li_backlog = 511;
	li->li_ipv6only = 1;
	li->li_opt.lo_rcvbuf = li->li_opt.lo_sndbuf = -1;
	li->li_opt.lo_fastopen = -1;
	li->li_opt.lo_keepalive = -1;
}

/* a time of so_keepalive: whole seconds (nginx has no "ms" there) */
static int
keepalive_secs(const char *p, size_t len, int *out)
{
	char t[32];
	msec_t ms;

	if (len == 0)
		return 0;
	if (len >= sizeof(t))
		return -1;
	memcpy(t, p, len);
	t[len] = '\0';
	if (str_parse_time(t, &ms) == -1 || ms % 1000 != 0 ||
	    ms / 1000 > INT_MAX)
		return -1;
	*out = ms / 1000;
	return 0;
}

/* so_keepalive=on|off|[idle][:[intvl][:[cnt]]], read as nginx does */
static int
listen_keepalive(struct conf_parser *cp, const char *v, struct listen_opts *o)
{
	const char *p = v, *end = v + strlen(v), *colon;
	long long n;

	if (strcmp(v, "on") == 0 || strcmp(v, "off") == 0) {
		o->lo_keepalive = strcmp(v, "on") == 0;
		return 0;
	}
	colon = memchr(p, ':', end - p);
	if (colon == NULL)
		colon = end;
	if (keepalive_secs(p, colon - p, &o->lo_keepidle) == -1)
		goto bad;
	p = colon < end ? colon + 1 : end;
	colon = memchr(p, ':', end - p);
	if (colon == NULL)
		colon = end;
	if (keepalive_secs(p, colon - p, &o->lo_keepintvl) == -1)
		goto bad;
	p = colon < end ? colon + 1 : end;
	if (p < end) {
		if (str_parse_int(p, INT_MAX, &n) == -1)
			goto bad;
		o->lo_keepcnt = n;
	}
	if (o->lo_keepidle == 0 && o->lo_keepintvl == 0 && o->lo_keepcnt == 0)
		goto bad;
	o->lo_keepalive = 1;
	return 0;
bad:
	conf_error(cp, "invalid so_keepalive value: \"%s\"", v);
	return -1;
}

/* rcvbuf=, sndbuf=: nginx's message names the whole parameter */
static int
listen_size(struct conf_parser *cp, const char *name, const char *arg,
    int *out)
{
	long long n;

	if (str_parse_size(strchr(arg, '=') + 1, &n) == -1 || n < 0 ||
	    n > INT_MAX) {
		conf_error(cp, "invalid %s \"%s\"", name, arg);
		return -1;
	}
	*out = n;
	return 0;
}

/* one parameter of "listen"; the socket options set li_opt_set */
static int
listen_param(struct conf_parser *cp, struct conf_listen *li, const char *a)
{
	struct listen_opts *o = &li->li_opt;
	long long v;

	if (strcmp(a, "default_server") == 0 || strcmp(a, "default") == 0) {
		li->li_default = 1;
		return 0;
	}
	/* of the address, not a socket option: any listen may say it */
	if (strcmp(a, "ssl") == 0) {
		li->li_ssl = 1;
		return 0;
	}
	li->li_opt_set = 1;
	if (str_has_prefix(a, "backlog=")) {
		if (str_parse_int(a + 8, INT_MAX, &v) == -1 || v == 0) {
			conf_error(cp, "invalid backlog \"%s\"", a);
			return -1;
		}
		li->li_backlog = v;
	} else if (strcmp(a, "ipv6only=on") == 0)
		li->li_ipv6only = 1;
	else if (strcmp(a, "ipv6only=off") == 0)
		li->li_ipv6only = 0;
	else if (strcmp(a, "reuseport") == 0)
		o->lo_reuseport = 1;
	else if (strcmp(a, "bind") == 0)
		;	/* every address has a socket of its own anyway */
	else if (strcmp(a, "deferred") == 0)
		o->lo_deferred = 1;
	else if (str_has_prefix(a, "rcvbuf="))
		return listen_size(cp, "rcvbuf", a, &o->lo_rcvbuf);
	else if (str_has_prefix(a, "sndbuf="))
		return listen_size(cp, "sndbuf", a, &o->lo_sndbuf);
	else if (str_has_prefix(a, "fastopen=")) {
		if (str_parse_int(a + 9, INT_MAX, &v) == -1) {
			conf_error(cp, "invalid fastopen \"%s\"", a);
			return -1;
		}
		o->lo_fastopen = v;
	} else if (str_has_prefix(a, "so_keepalive="))
		return listen_keepalive(cp, a + 13, o);
	else if (strcmp(a, "http2") == 0 || strcmp(a, "proxy_protocol") == 0) {
		conf_error(cp, "the \"%s\" parameter of \"listen\" is not "
		    "supported yet", a);
		return -1;
	} else {
		conf_error(cp, "invalid parameter \"%s\"", a);
		return -1;
	}
	return 0;
}

int
conf_set_listen(struct conf_parser *cp, const struct conf_cmd *c, int argc,
    char **argv, void *conf)
{
	struct conf_srv *s = conf;
	struct conf_listen *li, **lp;
	int i;

	li = arena_alloc(cp->cp_arena, sizeof(*li));
	listen_defaults(li);
	li->li_file = cp->cp_in->in_path;
	li->li_line = cp->cp_line;
	if (parse_addr(cp, argv[1], li) == -1)
		return -1;
	for (i = 2; i < argc; i++)
		if (listen_param(cp, li, argv[i]) == -1)
			return -1;
	for (lp = &s->sc_listens; *lp != NULL; lp = &(*lp)->li_next) {
		if ((*lp)->li_addrlen == li->li_addrlen &&
		    memcmp(&(*lp)->li_addr, &li->li_addr, li->li_addrlen) == 0) {
			conf_error(cp, "duplicate listen %s", li->li_text);
			return -1;
		}
	}
	*lp = li;
	return 0;
}

static int
same_addr(const struct sockaddr_storage *a, socklen_t al,
    const struct sockaddr_storage *b, socklen_t bl)
{
	return al == bl && memcmp(a, b, al) == 0;
}

int
conf_listen_build(struct conf_parser *cp)
{
	struct gen *g = cp->cp_gen;
	struct conf_srv *s;
	struct conf_listen *li;
	struct gen_listen *gl;
	int total = 0, i, n = 0;

	for (s = g->g_http->hc_servers; s != NULL; s = s->sc_next) {
		if (s->sc_listens == NULL) {
			li = arena_alloc(cp->cp_arena, sizeof(*li));
			listen_defaults(li);
			parse_addr(cp, cp->cp_is_root ? "*:80" : "*:8000", li);
			s->sc_listens = li;
		}
		for (li = s->sc_listens; li != NULL; li = li->li_next)
			total++;
	}
	g->g_listens = arena_alloc(cp->cp_arena, (total + 1) * sizeof(*gl));
	for (s = g->g_http->hc_servers; s != NULL; s = s->sc_next) {
		for (li = s->sc_listens; li != NULL; li = li->li_next) {
			for (i = 0; i < n; i++)
				if (same_addr(&g->g_listens[i].gl_addr,
				    g->g_listens[i].gl_addrlen, &li->li_addr,
				    li->li_addrlen))
					break;
			gl = &g->g_listens[i];
			if (i == n) {
				n++;
				memcpy(&gl->gl_addr, &li->li_addr,
				    li->li_addrlen);
				gl->gl_addrlen = li->li_addrlen;
				memcpy(gl->gl_text, li->li_text,
				    sizeof(gl->gl_text));
				gl->gl_backlog = li->li_backlog;
				gl->gl_ipv6only = li->li_ipv6only;
				gl->gl_opt = li->li_opt;
				gl->gl_fd = -1;
				gl->gl_servers = arena_alloc(cp->cp_arena,
				    total * sizeof(struct conf_srv *));
			}
			gl->gl_servers[gl->gl_nservers++] = s;
			/* as nginx: one "ssl" makes the whole address TLS */
			gl->gl_ssl |= li->li_ssl;
			if (!li->li_opt_set)
				continue;
			/* the socket's options: one listen gives them */
			if (gl->gl_opt_set) {
				cp->cp_in->in_path = li->li_file;
				cp->cp_line = li->li_line;
				conf_error(cp, "duplicate listen options for %s",
				    li->li_text);
				return -1;
			}
			gl->gl_opt_set = 1;
			gl->gl_backlog = li->li_backlog;
			gl->gl_ipv6only = li->li_ipv6only;
			gl->gl_opt = li->li_opt;
		}
	}
	/* the server saying default_server, else the first one */
	for (i = 0; i < n; i++) {
		int j;

		gl = &g->g_listens[i];
		gl->gl_default = gl->gl_servers[0];
		for (j = 0, s = NULL; j < gl->gl_nservers; j++) {
			for (li = gl->gl_servers[j]->sc_listens; li != NULL;
			    li = li->li_next) {
				if (!li->li_default || !same_addr(&li->li_addr,
				    li->li_addrlen, &gl->gl_addr,
				    gl->gl_addrlen))
					continue;
				if (s != NULL) {
					cp->cp_in->in_path = li->li_file;
					cp->cp_line = li->li_line;
					conf_error(cp, "a duplicate default "
					    "server for %s", li->li_text);
					return -1;
				}
				s = gl->gl_servers[j];
				gl->gl_default = s;
			}
		}
	}
	g->g_nlistens = n;
	return 0;
}
