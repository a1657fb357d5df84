/*
 * conf_proxy.c: the proxy_* directives, their defaults and inheritance.
 * proxy_pass addresses are resolved here, at load: a name that does not
 * resolve fails "portico -t" and the reload, as in nginx.
 */
#include "core.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netdb.h>
#include <netinet/in.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "conf_int.h"
#include "http_parse.h"
#include "log.h"
#include "str.h"
#include "upstream.h"

/* the headers nginx sets unless told otherwise ("" means: not sent) */
static const char *const default_headers[][2] = {
	{ "Host", "$proxy_host" },
	{ "Connection", "close" },
};

void
conf_proxy_init(struct conf_proxy *px)
{
	memset(px, 0, sizeof(*px));
	px->px_http_version = UNSET;
	px->px_connect_timeout = px->px_send_timeout = UNSET;
	px->px_read_timeout = UNSET;
	px->px_buffer_size = UNSET;
	px->px_pass_headers = px->px_pass_body = UNSET;
	px->px_intercept_errors = UNSET;
	px->px_buffering = UNSET;
	px->px_buffers_num = px->px_buffers_size = px->px_busy_size = UNSET;
	px->px_max_temp = UNSET;
	px->px_request_buffering = UNSET;
	px->px_next = UNSET;
	px->px_next_tries = px->px_next_timeout = UNSET;
	px->px_body_buffer = UNSET;
	conf_ssl_proxy_init(px);
}

static int
px_dup(struct conf_parser *cp, char **argv)
{
	conf_error(cp, "\"%s\" directive is duplicate", argv[0]);
	return -1;
}

static int
px_bad(struct conf_parser *cp, char **argv, const char *v)
{
	conf_error(cp, "invalid value \"%s\" in \"%s\" directive", v, argv[0]);
	return -1;
}

static void
tempdir_add(struct conf_parser *cp, char *path)
{
	struct conf_tempdir *td;

	for (td = cp->cp_gen->g_tempdirs; td != NULL; td = td->td_next)
		if (strcmp(td->td_path, path) == 0)
			return;
	td = arena_alloc(cp->cp_arena, sizeof(*td));
	td->td_path = path;
	td->td_next = cp->cp_gen->g_tempdirs;
	cp->cp_gen->g_tempdirs = td;
}

/* proxy_buffers number size */
int
conf_proxy_set_buffers(struct conf_parser *cp, const struct conf_cmd *c,
    int argc, char **argv, void *conf)
{
	struct conf_proxy *px = &((struct conf_loc *)conf)->lc_px;
	long long n, size;

	if (px->px_buffers_num != UNSET)
		return px_dup(cp, argv);
	if (str_parse_int(argv[1], 1024, &n) == -1 || n < 2) {
		conf_error(cp, "there must be at least 2 \"proxy_buffers\"");
		return -1;
	}
	if (str_parse_size(argv[2], &size) == -1 || size == 0)
		return px_bad(cp, argv, argv[2]);
	px->px_buffers_num = n;
	px->px_buffers_size = size;
	return 0;
}

/*
 * The master makes each temporary directory that a proxy_pass location
 * uses (0700) and gives it to the workers' user; an existing one is
 * kept.
 */
int
conf_tempdirs_make(struct gen *g, int chown_to, uid_t uid, gid_t gid)
{
	struct conf_tempdir *td;
	int rc = 0;

	for (td = g->g_tempdirs; td != NULL; td = td->td_next) {
		if (mkdir(td->td_path, 0700) == -1 && errno != EEXIST) {
			log_msg(LOG_EMERG, errno, "mkdir() \"%s\" failed",
			    td->td_path);
			rc = -1;
			continue;
		}
		if (chown_to && chown(td->td_path, uid, gid) == -1) {
			log_msg(LOG_EMERG, errno, "chown() \"%s\" failed",
			    td->td_path);
			rc = -1;
		}
	}
	return rc;
}

static int parse_pass(struct conf_parser *, struct conf_loc *, const char *);

/* "$request_uri", "${uri}" and the like: a value that starts with '/' */
static int
is_path_var(const char *s)
{
	static const char *const names[] = { "request_uri", "uri",
	    "document_uri" };
	size_t i, n;
	int brace = s[1] == '{';

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		n = strlen(names[i]);
		if (strncmp(s + 1 + brace, names[i], n) != 0)
			continue;
		if (brace ? s[2 + n] == '}' : !isalnum((unsigned char)s[1 + n])
		    && s[1 + n] != '_')
			return 1;
	}
	return 0;
}

/*
 * "http://127.0.0.1:8080$1": an address written out just before the
 * variables is made an upstream at load, so that the URL made per request
 * finds it.  Addresses only: a name there may be the start of a longer
 * one, and is looked up among the upstream blocks per request.
 */
static int
pass_prefix(struct conf_parser *cp, struct conf_loc *l, const char *url,
    size_t len, const char *h, size_t hl)
{
	struct conf_loc sl;
	struct in6_addr a6;
	char host[64];
	const char *e;
	size_t n;

	/* "http://10.0.0.1:$port": the address alone says nothing */
	if (h[hl - 1] == ':')
		return 0;
	if (h[0] == '[') {
		e = memchr(h, ']', hl);
		n = e != NULL ? (size_t)(e - h - 1) : 0;
		h++;
	} else {
		e = memchr(h, ':', hl);
		n = e != NULL ? (size_t)(e - h) : hl;
	}
	if (n == 0 || n >= sizeof(host))
		return 0;
	memcpy(host, h, n);
	host[n] = '\0';
	if (inet_pton(h[-1] == '[' ? AF_INET6 : AF_INET, host, &a6) != 1)
		return 0;
	memset(&sl, 0, sizeof(sl));
	sl.lc_match = l->lc_match;
	if (parse_pass(cp, &sl, arena_strndup(cp->cp_arena, url, len)) == -1)
		return -1;
	l->lc_px.px_pre = arena_alloc(cp->cp_arena, sizeof(sl.lc_px));
	*l->lc_px.px_pre = sl.lc_px;
	return 0;
}

/*
 * A proxy_pass with variables.  When its host is written out (the
 * variables come after the first '/', begin with $request_uri, $uri or
 * $document_uri, or follow a unix socket's closing ':'), the host is
 * taken at load as without variables and only the URI is made per
 * request.  Otherwise the whole URL is made per request, and its host
 * must name an upstream block, the host:port of another proxy_pass, or
 * the address written just before the variables (pass_prefix): names
 * are resolved at load only.  Either way the URI made replaces the
 * request's whole URI, and without one the client's target goes as
 * without variables (nginx's rule).
 */
static int
parse_pass_vars(struct conf_parser *cp, struct conf_loc *l, const char *url,
    size_t skip)
{
	struct conf_proxy *px = &l->lc_px;
	const char *h = url + skip;
	size_t hl;
	int split;
	char err[256];

	if (str_has_prefix(h, "unix:")) {
		/* the host ends with the ':' after the socket's path */
		hl = 5 + strcspn(h + 5, ":$");
		if ((split = h[hl] == ':'))
			hl++;
	} else {
		hl = strcspn(h, "/$");
		split = hl > 0 && (h[hl] == '/' || is_path_var(h + hl));
	}
	if (split) {
		if (parse_pass(cp, l, arena_strndup(cp->cp_arena, url,
		    skip + hl)) == -1)
			return -1;
		px->px_uri_tpl = var_compile(cp->cp_arena, h + hl, err,
		    sizeof(err));
	} else {
		if (hl > 0 && h[hl] == '$' && pass_prefix(cp, l, url, skip + hl,
		    h, hl) == -1)
			return -1;
		px->px_pass_tpl = var_compile(cp->cp_arena, url, err,
		    sizeof(err));
		px->px_hostname = px->px_host = "";
		px->px_file = cp->cp_in->in_path;
		px->px_line = cp->cp_line;
	}
	if (px->px_uri_tpl == NULL && px->px_pass_tpl == NULL) {
		conf_error(cp, "%s", err);
		return -1;
	}
	return 0;
}

/*
 * "http://host[:port][/uri]": host is an upstream's name, a host name, an
 * IPv4 or [IPv6] address.  Which one is known once the whole file is
 * read (an upstream block may come later): conf_proxy_merge() decides.
 * "https://" is the same over TLS, port 443 by default.
 */
static int
parse_pass(struct conf_parser *cp, struct conf_loc *l, const char *url)
{
	struct conf_proxy *px = &l->lc_px;
	const char *h, *e, *uri, *port = NULL;
	char pbuf[8];
	long long pn = 80, defport = 80;
	size_t hl, skip = 7;

	if (strncasecmp(url, "https://", 8) == 0) {
		px->px_ssl = 1;
		pn = defport = 443;
		skip = 8;
	} else if (strncasecmp(url, "http://", 7) != 0) {
		conf_error(cp, "invalid URL prefix in \"%s\"", url);
		return -1;
	}
	if (strchr(url, '$') != NULL)
		return parse_pass_vars(cp, l, url, skip);
	h = url + skip;
	/* "http://unix:/path/to/socket:/uri", the uri part optional */
	if (str_has_prefix(h, "unix:")) {
		const char *path = h + 5, *colon = strchr(path, ':');
		size_t pl = colon != NULL ? (size_t)(colon - path) :
		    strlen(path);

		if (pl == 0 || path[0] != '/') {
			conf_error(cp, "no path in the unix domain socket");
			return -1;
		}
		if (pl >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
			conf_error(cp, "too long path in the unix domain "
			    "socket");
			return -1;
		}
		px->px_unix = arena_strndup(cp->cp_arena, path, pl);
		px->px_hostname = arena_strndup(cp->cp_arena, h, 5 + pl);
		px->px_host = arena_strdup(cp->cp_arena, "localhost");
		px->px_hostlen = 9;
		px->px_port_given = 1;
		px->px_file = cp->cp_in->in_path;
		px->px_line = cp->cp_line;
		uri = colon != NULL ? colon + 1 : "";
		goto set_uri;
	}
	uri = h + strcspn(h, "/");
	if (*h == '[') {
		if ((e = memchr(h, ']', uri - h)) == NULL) {
			conf_error(cp, "invalid host in upstream \"%s\"", url);
			return -1;
		}
		hl = e - h + 1;
		if (e + 1 < uri && e[1] == ':')
			port = e + 2;
		else if (e + 1 != uri) {
			conf_error(cp, "invalid host in upstream \"%s\"", url);
			return -1;
		}
	} else {
		e = memchr(h, ':', uri - h);
		hl = (e != NULL ? e : uri) - h;
		if (e != NULL)
			port = e + 1;
	}
	if (hl == 0 || hl >= 256) {
		conf_error(cp, "no host in upstream \"%s\"", url + skip);
		return -1;
	}
	if (port != NULL) {
		size_t pl = uri - port;

		if (pl == 0 || pl >= sizeof(pbuf)) {
			conf_error(cp, "invalid port in upstream \"%s\"",
			    url + skip);
			return -1;
		}
		memcpy(pbuf, port, pl);
		pbuf[pl] = '\0';
		if (str_parse_int(pbuf, 65535, &pn) == -1 || pn == 0) {
			conf_error(cp, "invalid port in upstream \"%s\"",
			    url + skip);
			return -1;
		}
	}
	px->px_hostname = arena_strndup(cp->cp_arena, h, hl);
	px->px_port_given = port != NULL;
	/* $proxy_host: the port only when it is not the scheme's */
	px->px_hostlen = (pn == defport || port == NULL) ? hl :
	    (size_t)(uri - h);
	px->px_host = arena_strndup(cp->cp_arena, h, px->px_hostlen);
	px->px_port = (int)pn;
	px->px_file = cp->cp_in->in_path;
	px->px_line = cp->cp_line;
set_uri:
	if (*uri != '\0') {
		if (l->lc_match == LOC_REGEX || l->lc_match == LOC_NAMED) {
			conf_error(cp, "\"proxy_pass\" cannot have URI part in "
			    "location given by regular expression, or inside "
			    "named location");
			return -1;
		}
		px->px_uri = arena_strdup(cp->cp_arena, uri);
		px->px_urilen = strlen(uri);
	}
	return 0;
}

/* an error about the proxy_pass line, reported after the file was read */
static void
pass_error(struct conf_parser *cp, const struct conf_proxy *px,
    const char *fmt, const char *arg)
{
	struct conf_input in, *save = cp->cp_in;
	int line = cp->cp_line;

	memset(&in, 0, sizeof(in));
	in.in_path = px->px_file;
	cp->cp_in = &in;
	cp->cp_line = px->px_line;
	conf_error(cp, fmt, arg);
	cp->cp_in = save;
	cp->cp_line = line;
}

/*
 * An upstream made for a proxy_pass of n addresses, as nginx makes them:
 * round-robin, weight 1, max_fails=1, fail_timeout=10s.  The caller fills
 * in each peer's address and name.
 */
static struct conf_upstream *
implicit_new(struct conf_parser *cp, const struct conf_proxy *px,
    const char *name, int n)
{
	struct conf_upstream *u = arena_alloc(cp->cp_arena, sizeof(*u));
	int i;

	u->u_name = arena_strdup(cp->cp_arena, name);
	u->u_implicit = 1;
	u->u_file = px->px_file;
	u->u_line = px->px_line;
	u->u_flags = UPS_F_ALL;
	u->u_peers = arena_alloc(cp->cp_arena, n * sizeof(*u->u_peers));
	for (i = 0; i < n; i++) {
		struct conf_peer *p = &u->u_peers[i];

		p->p_server = u->u_name;
		p->p_weight = 1;
		p->p_max_fails = 1;
		p->p_fail_timeout = 10000;
		p->p_slot = -1;
		p->p_file = px->px_file;
		p->p_line = px->px_line;
	}
	u->u_npeers = u->u_nprimary = n;
	u->u_nservers = 1;
	u->u_total_weight = n;
	u->u_keepalive_timeout = 60000;
	u->u_keepalive_requests = 1000;
	return u;
}

/* the one peer of "http://unix:/path:" */
static struct conf_upstream *
unix_upstream(struct conf_parser *cp, struct conf_proxy *px, const char *name,
    struct conf_upstream **up)
{
	struct conf_upstream *u = implicit_new(cp, px, name, 1);
	struct conf_peer *p = &u->u_peers[0];
	struct sockaddr_un *sun = (struct sockaddr_un *)&p->p_addr;

	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, px->px_unix, strlen(px->px_unix) + 1);
	p->p_addrlen = sizeof(*sun);
	snprintf(p->p_name, sizeof(p->p_name), "unix:%s", px->px_unix);
	*up = u;
	return u;
}

/*
 * The upstream of a proxy_pass that names none: every address of the
 * host is a peer, weight 1, nginx's max_fails=1 fail_timeout=10s.  Two
 * locations passing to the same host and port share it.
 */
static struct conf_upstream *
implicit_upstream(struct conf_parser *cp, struct conf_proxy *px)
{
	struct conf_http *h = cp->cp_gen->g_http;
	struct conf_upstream *u, **up;
	struct addrinfo hints, *res, *ai;
	char host[256], port[8], name[300];
	size_t hl = strlen(px->px_hostname);
	int n = 0, i;

	/* a TLS one apart: its idle connections are not plain ones */
	if (px->px_unix != NULL)
		snprintf(name, sizeof(name), "%s%s", px->px_ssl ? "https://" :
		    "", px->px_hostname);
	else
		snprintf(name, sizeof(name), "%s%s:%d", px->px_ssl ?
		    "https://" : "", px->px_hostname, px->px_port);
	for (up = &h->hc_upstreams; *up != NULL; up = &(*up)->u_next)
		if ((*up)->u_implicit && strcasecmp((*up)->u_name, name) == 0)
			return *up;
	if (px->px_unix != NULL)
		return unix_upstream(cp, px, name, up);
	/* brackets around an IPv6 address go */
	if (px->px_hostname[0] == '[') {
		memcpy(host, px->px_hostname + 1, hl - 2);
		host[hl - 2] = '\0';
	} else
		memcpy(host, px->px_hostname, hl + 1);
	snprintf(port, sizeof(port), "%d", px->px_port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, port, &hints, &res) != 0) {
		pass_error(cp, px, "host not found in upstream \"%s\"",
		    px->px_host);
		return NULL;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next)
		n++;
	u = implicit_new(cp, px, name, n);
	for (ai = res, i = 0; ai != NULL; ai = ai->ai_next, i++) {
		struct conf_peer *p = &u->u_peers[i];

		memcpy(&p->p_addr, ai->ai_addr, ai->ai_addrlen);
		p->p_addrlen = ai->ai_addrlen;
		conf_proxy_addr_text(&p->p_addr, p->p_name, sizeof(p->p_name));
	}
	freeaddrinfo(res);
	*up = u;
	return u;
}

/* "127.0.0.1:80", "[::1]:80" */
void
conf_proxy_addr_text(const struct sockaddr_storage *ss, char *out,
    size_t len)
{
	char a[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)ss;

		inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a));
		snprintf(out, len, "[%s]:%d", a, ntohs(s6->sin6_port));
	} else {
		const struct sockaddr_in *s4 = (const void *)ss;

		inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a));
		snprintf(out, len, "%s:%d", a, ntohs(s4->sin_port));
	}
}

void
conf_upstreams_index(struct conf_parser *cp)
{
	struct conf_upstream *u;
	int i = 0;

	for (u = cp->cp_gen->g_http->hc_upstreams; u != NULL; u = u->u_next)
		u->u_index = i++;
}

/* proxy_pass names an upstream block, or a host made into one */
static void
resolve_pass(struct conf_parser *cp, struct conf_proxy *px)
{
	struct conf_upstream *u = NULL;

	if (!px->px_port_given &&
	    (u = conf_upstream_find(cp->cp_gen, px->px_hostname)) != NULL)
		u->u_named = 1;
	if (u == NULL)
		u = implicit_upstream(cp, px);
	px->px_ups = u;
}

int
conf_proxy_set_pass(struct conf_parser *cp, const struct conf_cmd *c,
    int argc, char **argv, void *conf)
{
	struct conf_loc *l = conf;

	if (l->lc_px.px_pass)
		return px_dup(cp, argv);
	if (l->lc_name == NULL) {
		conf_error(cp, "\"proxy_pass\" directive is not allowed here");
		return -1;
	}
	if (parse_pass(cp, l, argv[1]) == -1)
		return -1;
	l->lc_px.px_pass = 1;
	return 0;
}

int
conf_proxy_set_header(struct conf_parser *cp, const struct conf_cmd *c,
    int argc, char **argv, void *conf)
{
	struct conf_proxy *px = &((struct conf_loc *)conf)->lc_px;
	struct conf_proxy_header *ph, **pp;
	char err[256];
	size_t i;

	for (i = 0; argv[1][i]; i++)
		if (!http_is_tchar(argv[1][i]))
			return px_bad(cp, argv, argv[1]);
	ph = arena_alloc(cp->cp_arena, sizeof(*ph));
	ph->ph_name = arena_strdup(cp->cp_arena, argv[1]);
	ph->ph_namelen = strlen(argv[1]);
	if ((ph->ph_value = var_compile(cp->cp_arena, argv[2], err,
	    sizeof(err))) == NULL) {
		conf_error(cp, "%s", err);
		return -1;
	}
	for (pp = &px->px_headers; *pp != NULL; pp = &(*pp)->ph_next)
		;
	*pp = ph;
	px->px_headers_set = 1;
	return 0;
}

int
conf_proxy_set_hide(struct conf_parser *cp, const struct conf_cmd *c,
    int argc, char **argv, void *conf)
{
	struct conf_proxy *px = &((struct conf_loc *)conf)->lc_px;
	int pass = strcmp(argv[0], "proxy_pass_header") == 0;
	struct conf_proxy_name *pn;

	pn = arena_alloc(cp->cp_arena, sizeof(*pn));
	pn->pn_name = arena_strdup(cp->cp_arena, argv[1]);
	pn->pn_len = strlen(argv[1]);
	if (pass) {
		pn->pn_next = px->px_pass_hdrs;
		px->px_pass_hdrs = pn;
		px->px_pass_hdrs_set = 1;
	} else {
		pn->pn_next = px->px_hide;
		px->px_hide = pn;
		px->px_hide_set = 1;
	}
	return 0;
}

/* proxy_redirect default | off | from to */
int
conf_proxy_set_redirect(struct conf_parser *cp, const struct conf_cmd *c,
    int argc, char **argv, void *conf)
{
	struct conf_proxy *px = &((struct conf_loc *)conf)->lc_px;
	struct conf_proxy_redirect *pr, **pp;
	char err[256];

	if (argc == 2) {
		if (strcmp(argv[1], "off") != 0 &&
		    strcmp(argv[1], "default") != 0)
			return px_bad(cp, argv, argv[1]);
		if (px->px_redirect_set) {
			conf_error(cp, "\"proxy_redirect %s\" must be the only "
			    "one on its level", argv[1]);
			return -1;
		}
		px->px_redirect_set = 1;
		if (strcmp(argv[1], "off") == 0) {
			px->px_redirect_set = 2;	/* off */
			return 0;
		}
	}
	if (px->px_redirect_set == 2) {
		conf_error(cp, "\"proxy_redirect off\" must be the only one "
		    "on its level");
		return -1;
	}
	px->px_redirect_set = 1;
	pr = arena_alloc(cp->cp_arena, sizeof(*pr));
	if (argc == 3) {
		if (argv[1][0] == '~') {
			conf_error(cp, "regular expressions in "
			    "\"proxy_redirect\" are not supported yet");
			return -1;
		}
		pr->pr_from = arena_strdup(cp->cp_arena, argv[1]);
		pr->pr_fromlen = strlen(argv[1]);
		if ((pr->pr_to = var_compile(cp->cp_arena, argv[2], err,
		    sizeof(err))) == NULL) {
			conf_error(cp, "%s", err);
			return -1;
		}
	}
	for (pp = &px->px_redirects; *pp != NULL; pp = &(*pp)->pr_next)
		;
	*pp = pr;
	return 0;
}

/*
 * proxy_ignore_headers: the fields nginx may act on.  portico acts on
 * none of them (it has no cache and no X-Accel-* processing yet), so
 * the names are checked and the line changes nothing.
 */
int
conf_proxy_set_ignore(struct conf_parser *cp, const struct conf_cmd *c,
    int argc, char **argv, void *conf)
{
	static const char *const names[] = {
		"X-Accel-Redirect", "X-Accel-Expires", "X-Accel-Limit-Rate",
		"X-Accel-Buffering", "X-Accel-Charset", "Expires",
		"Cache-Control", "Set-Cookie", "Vary",
	};
	size_t j;
	int i;

	for (i = 1; i < argc; i++) {
		for (j = 0; j < nitems(names); j++)
			if (strcasecmp(argv[i], names[j]) == 0)
				break;
		if (j == nitems(names))
			return px_bad(cp, argv, argv[i]);
	}
	return 0;
}

/* proxy_next_upstream error timeout ... | off */
int
conf_proxy_set_next(struct conf_parser *cp, const struct conf_cmd *c,
    int argc, char **argv, void *conf)
{
	static const struct {
		const char	*name;
		int		 flag;
	} names[] = {
		{ "error", PXN_ERROR }, { "timeout", PXN_TIMEOUT },
		{ "invalid_header", PXN_INVALID_HEADER },
		{ "http_500", PXN_HTTP_500 }, { "http_502", PXN_HTTP_502 },
		{ "http_503", PXN_HTTP_503 }, { "http_504", PXN_HTTP_504 },
		{ "http_403", PXN_HTTP_403 }, { "http_404", PXN_HTTP_404 },
		{ "http_429", PXN_HTTP_429 },
		{ "non_idempotent", PXN_NON_IDEMPOTENT },
	};
	struct conf_proxy *px = &((struct conf_loc *)conf)->lc_px;
	size_t j;
	int i, mask = 0;

	if (px->px_next != UNSET)
		return px_dup(cp, argv);
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "off") == 0) {
			if (argc > 2)
				return px_bad(cp, argv, argv[i]);
			px->px_next = 0;
			return 0;
		}
		for (j = 0; j < nitems(names); j++)
			if (strcmp(argv[i], names[j].name) == 0)
				break;
		if (j == nitems(names))
			return px_bad(cp, argv, argv[i]);
		mask |= names[j].flag;
	}
	px->px_next = mask;
	return 0;
}

int
conf_proxy_set_version(struct conf_parser *cp, const struct conf_cmd *c,
    int argc, char **argv, void *conf)
{
	struct conf_proxy *px = &((struct conf_loc *)conf)->lc_px;

	if (px->px_http_version != UNSET)
		return px_dup(cp, argv);
	if (strcmp(argv[1], "1.0") == 0)
		px->px_http_version = 10;
	else if (strcmp(argv[1], "1.1") == 0)
		px->px_http_version = 11;
	else
		return px_bad(cp, argv, argv[1]);
	return 0;
}

/* the default header list, compiled once per generation */
static struct conf_proxy_header *
defaults(struct conf_parser *cp)
{
	struct conf_proxy_header *head = NULL, **pp = &head, *ph;
	char err[256];
	size_t i;

	for (i = 0; i < nitems(default_headers); i++) {
		ph = arena_alloc(cp->cp_arena, sizeof(*ph));
		ph->ph_name = default_headers[i][0];
		ph->ph_namelen = strlen(ph->ph_name);
		ph->ph_value = var_compile(cp->cp_arena, default_headers[i][1],
		    err, sizeof(err));
		*pp = ph;
		pp = &ph->ph_next;
	}
	return head;
}

/*
 * A level's proxy_set_header lines replace the inherited ones; nginx's
 * defaults (Host, Connection) stay unless that level names them.
 */
void
conf_proxy_merge(struct conf_parser *cp, struct conf_loc *l,
    const struct conf_loc *parent)
{
	struct conf_proxy *px = &l->lc_px;
	const struct conf_proxy *pp = parent != NULL ? &parent->lc_px : NULL;
	struct conf_proxy_header *d, *h, *next, **tail;

#define PX_INHERIT(f, def) do {						\
	if (px->f == UNSET)						\
		px->f = pp != NULL ? pp->f : (def);			\
} while (0)
	PX_INHERIT(px_http_version, 10);
	PX_INHERIT(px_connect_timeout, 60000);
	PX_INHERIT(px_send_timeout, 60000);
	PX_INHERIT(px_read_timeout, 60000);
	PX_INHERIT(px_buffer_size, 4096);
	PX_INHERIT(px_pass_headers, 1);
	PX_INHERIT(px_pass_body, 1);
	PX_INHERIT(px_intercept_errors, 0);
	PX_INHERIT(px_next, PXN_ERROR | PXN_TIMEOUT);
	PX_INHERIT(px_next_tries, 0);
	PX_INHERIT(px_next_timeout, 0);
	PX_INHERIT(px_buffering, 1);
	PX_INHERIT(px_buffers_num, 8);
	PX_INHERIT(px_buffers_size, 4096);
	PX_INHERIT(px_max_temp, 1024LL * 1024 * 1024);
	PX_INHERIT(px_request_buffering, 1);
	PX_INHERIT(px_body_buffer, 16384);
	if (px->px_busy_size == UNSET)
		px->px_busy_size = pp != NULL && pp->px_busy_size != UNSET ?
		    pp->px_busy_size : 2 * MAX(px->px_buffer_size,
		    px->px_buffers_size);
#undef PX_INHERIT
	if (px->px_temp_path == NULL) {
		if (pp != NULL)
			px->px_temp_path = pp->px_temp_path;
		else
			px->px_temp_path = conf_full_path(cp, "proxy_temp", 0);
	}
	if (px->px_body_temp == NULL) {
		if (pp != NULL)
			px->px_body_temp = pp->px_body_temp;
		else
			px->px_body_temp = conf_full_path(cp, "client_body_temp",
			    0);
	}
	/* only a directory that a proxy_pass location uses is made */
	if (px->px_pass) {
		tempdir_add(cp, px->px_temp_path);
		tempdir_add(cp, px->px_body_temp);
	}
	/* nginx's checks, so that a configuration it refuses fails here too */
	if (px->px_busy_size < MAX(px->px_buffer_size, px->px_buffers_size)) {
		conf_error(cp, "\"proxy_busy_buffers_size\" must be equal to or "
		    "greater than the maximum of the value of "
		    "\"proxy_buffer_size\" and one of the \"proxy_buffers\"");
	} else if (px->px_busy_size > (px->px_buffers_num - 1) *
	    px->px_buffers_size) {
		conf_error(cp, "\"proxy_busy_buffers_size\" must be less than "
		    "the size of all \"proxy_buffers\" minus one buffer");
	}
	/* as nginx: with variables, "default" has no URL to stand for */
	if (px->px_redirect_set == 1 && (px->px_pass_tpl != NULL ||
	    px->px_uri_tpl != NULL)) {
		const struct conf_proxy_redirect *rd;

		for (rd = px->px_redirects; rd != NULL; rd = rd->pr_next)
			if (rd->pr_from == NULL) {
				pass_error(cp, px, "\"proxy_redirect default\" "
				    "cannot be used with \"proxy_pass\" "
				    "directive with variables%s", "");
				break;
			}
	}
	if (!px->px_redirect_set && pp != NULL) {
		px->px_redirects = pp->px_redirects;
		px->px_redirect_set = pp->px_redirect_set;
	} else if (!px->px_redirect_set) {
		/* "default" unless told otherwise */
		px->px_redirects = arena_alloc(cp->cp_arena,
		    sizeof(*px->px_redirects));
		px->px_redirect_set = 1;
	}
	if (px->px_redirect_set == 2)
		px->px_redirects = NULL;
	/*
	 * "default" stands for "proxy_redirect <proxy_pass URL> <location>":
	 * it is made here, where both are known
	 */
	conf_ssl_proxy_merge(cp, l, pp);
	if (px->px_pass && px->px_pass_tpl == NULL)
		resolve_pass(cp, px);
	if (px->px_pre != NULL)
		resolve_pass(cp, px->px_pre);
	/* as nginx: no "default" for a proxy_pass with variables */
	if (px->px_pass && l->lc_match != LOC_REGEX &&
	    l->lc_match != LOC_NAMED && px->px_pass_tpl == NULL &&
	    px->px_uri_tpl == NULL) {
		struct conf_proxy_redirect *rd;
		char err[256], *from;
		size_t n;

		rd = arena_alloc(cp->cp_arena, sizeof(*rd));
		n = 8 + px->px_hostlen + (px->px_uri ? px->px_urilen : 1) + 1;
		from = arena_alloc(cp->cp_arena, n);
		snprintf(from, n, "%s://%s%s", px->px_ssl ? "https" : "http",
		    px->px_host, px->px_uri ? px->px_uri : "/");
		rd->pr_from = from;
		rd->pr_fromlen = strlen(from);
		rd->pr_to = var_compile(cp->cp_arena, px->px_uri ? l->lc_name :
		    "/", err, sizeof(err));
		if (rd->pr_to == NULL)
			conf_error(cp, "%s", err);
		px->px_redirect_default = rd;
	}
	if (!px->px_hide_set && pp != NULL)
		px->px_hide = pp->px_hide;
	if (!px->px_pass_hdrs_set && pp != NULL)
		px->px_pass_hdrs = pp->px_pass_hdrs;
	if (px->px_headers_set) {
		/* the defaults that this level does not set come last */
		for (tail = &px->px_headers; *tail != NULL;
		    tail = &(*tail)->ph_next)
			;
		for (d = defaults(cp); d != NULL; d = next) {
			next = d->ph_next;
			for (h = px->px_headers; h != NULL; h = h->ph_next)
				if (strcasecmp(h->ph_name, d->ph_name) == 0)
					break;
			if (h == NULL) {
				d->ph_next = NULL;
				*tail = d;
				tail = &d->ph_next;
			}
		}
		*tail = NULL;
		px->px_headers_final = px->px_headers;
	} else if (pp != NULL && pp->px_headers_final != NULL)
		px->px_headers_final = pp->px_headers_final;
	else
		px->px_headers_final = defaults(cp);
}
