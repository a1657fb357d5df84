/*
 * conf_proxy.c: the proxy_* directives, their defaults and inheritance.
 * proxy_pass addresses are resolved here, at load: a name that does not
 * resolve fails "portico -t" and the reload, as in nginx.
 */
#include "core.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "conf_int.h"
#include "http_parse.h"
#include "log.h"
#include "str.h"

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
	px->px_body_buffer = UNSET;
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

int
conf_proxy_set_temp_path(struct conf_parser *cp, const struct conf_cmd *c,
    int argc, char **argv, void *conf)
{
	struct conf_proxy *px = &((struct conf_loc *)conf)->lc_px;

	if (px->px_temp_path != NULL)
		return px_dup(cp, argv);
	if ((px->px_temp_path = conf_full_path(cp, argv[1], 0)) == NULL)
		return -1;
	return 0;
}

int
conf_proxy_set_body_temp(struct conf_parser *cp, const struct conf_cmd *c,
    int argc, char **argv, void *conf)
{
	struct conf_proxy *px = &((struct conf_loc *)conf)->lc_px;

	if (px->px_body_temp != NULL)
		return px_dup(cp, argv);
	if ((px->px_body_temp = conf_full_path(cp, argv[1], 0)) == NULL)
		return -1;
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

/* "http://host[:port][/uri]": host is a name, an IPv4 or [IPv6] address */
static int
parse_pass(struct conf_parser *cp, struct conf_loc *l, const char *url)
{
	struct conf_proxy *px = &l->lc_px;
	struct addrinfo hints, *res;
	const char *h, *e, *uri, *port = NULL;
	char host[256], pbuf[8];
	long long pn = 80;
	size_t hl;
	int rc;

	if (strncasecmp(url, "https://", 8) == 0) {
		conf_error(cp, "https protocol requires SSL support");
		return -1;
	}
	if (strncasecmp(url, "http://", 7) != 0) {
		conf_error(cp, "invalid URL prefix in \"%s\"", url);
		return -1;
	}
	if (strchr(url, '$') != NULL) {
		conf_error(cp, "variables in \"proxy_pass\" are not supported "
		    "yet");
		return -1;
	}
	h = url + 7;
	if (str_has_prefix(h, "unix:")) {
		conf_error(cp, "unix domain sockets in \"proxy_pass\" are not "
		    "supported yet");
		return -1;
	}
	uri = h + strcspn(h, "/");
	if (*h == '[') {
		if ((e = memchr(h, ']', uri - h)) == NULL) {
			conf_error(cp, "invalid host in upstream \"%s\"", url);
			return -1;
		}
		hl = e - h - 1;
		memcpy(host, h + 1, MIN(hl, sizeof(host) - 1));
		if (e + 1 < uri && e[1] == ':')
			port = e + 2;
		else if (e + 1 != uri) {
			conf_error(cp, "invalid host in upstream \"%s\"", url);
			return -1;
		}
	} else {
		e = memchr(h, ':', uri - h);
		hl = (e != NULL ? e : uri) - h;
		memcpy(host, h, MIN(hl, sizeof(host) - 1));
		if (e != NULL)
			port = e + 1;
	}
	if (hl == 0 || hl >= sizeof(host)) {
		conf_error(cp, "no host in upstream \"%s\"", url + 7);
		return -1;
	}
	host[hl] = '\0';
	if (port != NULL) {
		size_t pl = uri - port;

		if (pl == 0 || pl >= sizeof(pbuf)) {
			conf_error(cp, "invalid port in upstream \"%s\"",
			    url + 7);
			return -1;
		}
		memcpy(pbuf, port, pl);
		pbuf[pl] = '\0';
		if (str_parse_int(pbuf, 65535, &pn) == -1 || pn == 0) {
			conf_error(cp, "invalid port in upstream \"%s\"",
			    url + 7);
			return -1;
		}
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(pbuf, sizeof(pbuf), "%lld", pn);
	if ((rc = getaddrinfo(host, pbuf, &hints, &res)) != 0) {
		conf_error(cp, "host not found in upstream \"%.*s\"",
		    (int)(uri - h), h);
		return -1;
	}
	memcpy(&px->px_addr, res->ai_addr, res->ai_addrlen);
	px->px_addrlen = res->ai_addrlen;
	freeaddrinfo(res);
	/* $proxy_host: the port only when it is not the default */
	px->px_host = arena_alloc(cp->cp_arena, (uri - h) + 1);
	memcpy(px->px_host, h, uri - h);
	px->px_hostlen = uri - h;
	if (pn == 80 && port != NULL)
		px->px_hostlen = port - 1 - h;
	px->px_host[px->px_hostlen] = '\0';
	px->px_port = (int)pn;
	snprintf(px->px_addr_text, sizeof(px->px_addr_text), "%s%s%s:%lld",
	    strchr(host, ':') ? "[" : "", host, strchr(host, ':') ? "]" : "",
	    pn);
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
	if (px->px_pass && l->lc_match != LOC_REGEX &&
	    l->lc_match != LOC_NAMED) {
		struct conf_proxy_redirect *rd;
		char err[256], *from;
		size_t n;

		rd = arena_alloc(cp->cp_arena, sizeof(*rd));
		n = 7 + px->px_hostlen + (px->px_uri ? px->px_urilen : 1) + 1;
		from = arena_alloc(cp->cp_arena, n);
		snprintf(from, n, "http://%s%s", px->px_host,
		    px->px_uri ? px->px_uri : "/");
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
