/*
 * conf_upstream.c: the upstream {} block and its directives, with
 * nginx's grammar, defaults and messages.  Host names of server lines
 * are resolved here, at load: every address of a name becomes a peer.
 */
#include "core.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/un.h>

#include "balance.h"
#include "conf_int.h"
#include "str.h"

#define UPS_MAX_ADDRS	64	/* addresses of one name */

/* one server line while the block is read */
struct ups_server {
	char			*us_text;
	struct sockaddr_storage	*us_addrs;
	socklen_t		*us_lens;
	int			 us_naddrs;
	int			 us_weight;
	int			 us_max_fails;
	msec_t			 us_fail_timeout;
	int			 us_max_conns;
	int			 us_backup;
	int			 us_down;
	const char		*us_file;
	int			 us_line;
	struct ups_server	*us_next;
};

struct conf_upstream *
conf_upstream_find(const struct gen *g, const char *name)
{
	struct conf_upstream *u;

	if (g == NULL || g->g_http == NULL)
		return NULL;
	for (u = g->g_http->hc_upstreams; u != NULL; u = u->u_next)
		if (strcasecmp(u->u_name, name) == 0)
			return u;
	return NULL;
}

static int
ups_addr_error(struct conf_parser *cp, const char *err, const char *text)
{
	conf_error(cp, "%s in upstream \"%s\"", err, text);
	return -1;
}

static void
ups_add_addr(struct conf_parser *cp, struct ups_server *s,
    const struct sockaddr *sa, socklen_t len)
{
	if (s->us_addrs == NULL) {
		s->us_addrs = arena_alloc(cp->cp_arena,
		    UPS_MAX_ADDRS * sizeof(*s->us_addrs));
		s->us_lens = arena_alloc(cp->cp_arena,
		    UPS_MAX_ADDRS * sizeof(*s->us_lens));
	}
	if (s->us_naddrs == UPS_MAX_ADDRS)
		return;
	memcpy(&s->us_addrs[s->us_naddrs], sa, len);
	s->us_lens[s->us_naddrs++] = len;
}

/*
 * nginx's ngx_parse_url() for a server line: "unix:/path", "[v6]:port",
 * "host:port" (the first ":" starts the port), or a host with port 80.
 */
static int
ups_parse_addr(struct conf_parser *cp, struct ups_server *s)
{
	const char *text = s->us_text, *h, *port = NULL;
	struct addrinfo hints, *res, *ai;
	char host[NI_MAXHOST], pbuf[8];
	long long pn = 80;
	size_t hl;
	int pass;

	if (strncasecmp(text, "unix:", 5) == 0) {
		struct sockaddr_un sun;
		size_t len = strlen(text + 5);

		if (len == 0)
			return ups_addr_error(cp,
			    "no path in the unix domain socket", text);
		if (len + 1 > sizeof(sun.sun_path))
			return ups_addr_error(cp,
			    "too long path in the unix domain socket", text);
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		memcpy(sun.sun_path, text + 5, len + 1);
		ups_add_addr(cp, s, (struct sockaddr *)&sun, sizeof(sun));
		return 0;
	}
	if (text[0] == '[') {
		const char *rb = strchr(text, ']');

		if (rb == NULL || (rb[1] != '\0' && rb[1] != ':'))
			return ups_addr_error(cp, "invalid host", text);
		h = text + 1;
		hl = rb - h;
		if (rb[1] == ':')
			port = rb + 2;
	} else {
		if (strchr(text, '/') != NULL)
			return ups_addr_error(cp, "invalid host", text);
		h = text;
		if ((port = strchr(text, ':')) != NULL) {
			hl = port - text;
			port++;
		} else
			hl = strlen(text);
	}
	if (port != NULL && (str_parse_int(port, 65535, &pn) == -1 || pn == 0))
		return ups_addr_error(cp, "invalid port", text);
	if (hl == 0)
		return ups_addr_error(cp, "no host", text);
	if (hl >= sizeof(host))
		return ups_addr_error(cp, "invalid host", text);
	memcpy(host, h, hl);
	host[hl] = '\0';
	snprintf(pbuf, sizeof(pbuf), "%lld", pn);

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if (text[0] == '[')
		hints.ai_flags = AI_NUMERICHOST;
	if (getaddrinfo(host, pbuf, &hints, &res) != 0)
		return ups_addr_error(cp, text[0] == '[' ? "invalid host" :
		    "host not found", text);
	/* as nginx: the IPv4 addresses of a name first, then IPv6 */
	for (pass = 0; pass < 2; pass++)
		for (ai = res; ai != NULL; ai = ai->ai_next)
			if (ai->ai_family == (pass == 0 ? AF_INET : AF_INET6))
				ups_add_addr(cp, s, ai->ai_addr,
				    ai->ai_addrlen);
	freeaddrinfo(res);
	if (s->us_naddrs == 0)
		return ups_addr_error(cp, "host not found", text);
	return 0;
}

static void
ups_addr_text(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	switch (ss->ss_family) {
	case AF_UNIX:
		snprintf(buf, len, "unix:%s",
		    ((const struct sockaddr_un *)ss)->sun_path);
		break;
	case AF_INET6:
		inet_ntop(AF_INET6,
		    &((const struct sockaddr_in6 *)ss)->sin6_addr, a, sizeof(a));
		snprintf(buf, len, "[%s]:%u", a,
		    ntohs(((const struct sockaddr_in6 *)ss)->sin6_port));
		break;
	default:
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr,
		    a, sizeof(a));
		snprintf(buf, len, "%s:%u", a,
		    ntohs(((const struct sockaddr_in *)ss)->sin_port));
		break;
	}
}

/* a "name=value" parameter */
static const char *
param(const char *arg, const char *name)
{
	size_t n = strlen(name);

	return strncmp(arg, name, n) == 0 ? arg + n : NULL;
}

int
conf_set_ups_server(struct conf_parser *cp, const struct conf_cmd *c,
    int argc, char **argv, void *conf)
{
	struct conf_upstream *u = cp->cp_ups;
	struct ups_server *s, **sp;
	const char *v;
	long long n;
	int i, flag;

	s = arena_alloc(cp->cp_arena, sizeof(*s));
	s->us_text = arena_strdup(cp->cp_arena, argv[1]);
	s->us_weight = 1;
	s->us_max_fails = 1;
	s->us_fail_timeout = 10000;
	s->us_file = cp->cp_in->in_path;
	s->us_line = cp->cp_line;
	for (i = 2; i < argc; i++) {
		if ((v = param(argv[i], "weight=")) != NULL) {
			flag = UPS_F_WEIGHT;
			if (str_parse_int(v, INT_MAX, &n) == -1 || n == 0)
				goto invalid;
			s->us_weight = n;
		} else if ((v = param(argv[i], "max_conns=")) != NULL) {
			flag = UPS_F_MAX_CONNS;
			if (str_parse_int(v, INT_MAX, &n) == -1)
				goto invalid;
			s->us_max_conns = n;
		} else if ((v = param(argv[i], "max_fails=")) != NULL) {
			flag = UPS_F_MAX_FAILS;
			if (str_parse_int(v, INT_MAX, &n) == -1)
				goto invalid;
			s->us_max_fails = n;
		} else if ((v = param(argv[i], "fail_timeout=")) != NULL) {
			flag = UPS_F_FAIL_TIMEOUT;
			/* whole seconds, as nginx: no "ms" */
			if (strstr(v, "ms") != NULL ||
			    str_parse_time(v, &s->us_fail_timeout) == -1)
				goto invalid;
		} else if (strcmp(argv[i], "backup") == 0) {
			flag = UPS_F_BACKUP;
			s->us_backup = 1;
		} else if (strcmp(argv[i], "down") == 0) {
			flag = UPS_F_DOWN;
			s->us_down = 1;
		} else
			goto invalid;
		/* as nginx: the method known when the line is read decides */
		if (!(u->u_flags & flag)) {
			conf_error(cp, "balancing method does not support "
			    "parameter \"%s\"", argv[i]);
			return -1;
		}
	}
	if (ups_parse_addr(cp, s) == -1)
		return -1;
	for (sp = &u->u_servers; *sp != NULL; sp = &(*sp)->us_next)
		;
	*sp = s;
	u->u_nservers++;
	return 0;
invalid:
	conf_error(cp, "invalid parameter \"%s\"", argv[i]);
	return -1;
}

static void
ups_method(struct conf_parser *cp, struct conf_upstream *u, int method,
    int flags)
{
	if (u->u_method_line != 0)
		log_warnx("%s:%d: load balancing method redefined",
		    cp->cp_in->in_path, cp->cp_line);
	u->u_method_line = cp->cp_line;
	u->u_method = method;
	u->u_flags = flags;
}

/* least_conn, ip_hash */
int
conf_set_ups_method(struct conf_parser *cp, const struct conf_cmd *c,
    int argc, char **argv, void *conf)
{
	if (strcmp(argv[0], "least_conn") == 0)
		ups_method(cp, cp->cp_ups, UPS_LEAST_CONN, UPS_F_ALL);
	else
		ups_method(cp, cp->cp_ups, UPS_IP_HASH,
		    UPS_F_ALL & ~UPS_F_BACKUP);
	return 0;
}

int
conf_set_ups_hash(struct conf_parser *cp, const struct conf_cmd *c,
    int argc, char **argv, void *conf)
{
	struct conf_upstream *u = cp->cp_ups;
	char err[256];

	if ((u->u_hash_key = var_compile(cp->cp_arena, argv[1], err,
	    sizeof(err))) == NULL) {
		conf_error(cp, "%s", err);
		return -1;
	}
	ups_method(cp, u, UPS_HASH, UPS_F_ALL & ~UPS_F_BACKUP);
	if (argc == 3) {
		if (strcmp(argv[2], "consistent") != 0) {
			conf_error(cp, "invalid parameter \"%s\"", argv[2]);
			return -1;
		}
		u->u_method = UPS_CHASH;
	}
	return 0;
}

int
conf_set_ups_random(struct conf_parser *cp, const struct conf_cmd *c,
    int argc, char **argv, void *conf)
{
	struct conf_upstream *u = cp->cp_ups;

	ups_method(cp, u, UPS_RANDOM, UPS_F_ALL & ~UPS_F_BACKUP);
	if (argc == 1)
		return 0;
	if (strcmp(argv[1], "two") != 0) {
		conf_error(cp, "invalid parameter \"%s\"", argv[1]);
		return -1;
	}
	u->u_random_two = 1;
	/* least_conn is the only method to choose one of the two */
	if (argc == 3 && strcmp(argv[2], "least_conn") != 0) {
		conf_error(cp, "invalid parameter \"%s\"", argv[2]);
		return -1;
	}
	return 0;
}

int
conf_set_ups_keepalive(struct conf_parser *cp, const struct conf_cmd *c,
    int argc, char **argv, void *conf)
{
	struct conf_upstream *u = cp->cp_ups;
	long long n;

	if (u->u_keepalive != 0) {
		conf_error(cp, "\"%s\" directive is duplicate", argv[0]);
		return -1;
	}
	if (str_parse_int(argv[1], INT_MAX, &n) == -1 || n == 0) {
		conf_error(cp, "invalid value \"%s\" in \"%s\" directive",
		    argv[1], argv[0]);
		return -1;
	}
	u->u_keepalive = n;
	return 0;
}

/* keepalive_timeout and keepalive_requests: nginx's slot messages */
int
conf_set_ups_keepalive_opt(struct conf_parser *cp, const struct conf_cmd *c,
    int argc, char **argv, void *conf)
{
	struct conf_upstream *u = cp->cp_ups;
	long long n;

	if (strcmp(argv[0], "keepalive_timeout") == 0) {
		if (u->u_keepalive_timeout != UNSET) {
			conf_error(cp, "\"%s\" directive is duplicate",
			    argv[0]);
			return -1;
		}
		if (str_parse_time(argv[1], &u->u_keepalive_timeout) == -1) {
			u->u_keepalive_timeout = UNSET;
			conf_error(cp, "\"%s\" directive invalid value",
			    argv[0]);
			return -1;
		}
		return 0;
	}
	if (u->u_keepalive_requests != UNSET) {
		conf_error(cp, "\"%s\" directive is duplicate", argv[0]);
		return -1;
	}
	if (str_parse_int(argv[1], INT_MAX, &n) == -1) {
		conf_error(cp, "\"%s\" directive invalid number", argv[0]);
		return -1;
	}
	u->u_keepalive_requests = n;
	return 0;
}

int
conf_set_ups_zone(struct conf_parser *cp, const struct conf_cmd *c,
    int argc, char **argv, void *conf)
{
	struct conf_upstream *u = cp->cp_ups, *o;
	long long size = 0;

	if (argc == 3) {
		if (str_parse_size(argv[2], &size) == -1) {
			conf_error(cp, "invalid zone size \"%s\"", argv[2]);
			return -1;
		}
		if (size < 8 * 4096) {
			conf_error(cp, "zone \"%s\" is too small", argv[1]);
			return -1;
		}
	}
	for (o = cp->cp_http->hc_upstreams; o != NULL; o = o->u_next) {
		if (o == u || o->u_zone == NULL ||
		    strcmp(o->u_zone, argv[1]) != 0)
			continue;
		if (size != 0 && o->u_zone_size != 0 &&
		    o->u_zone_size != size) {
			conf_error(cp, "the size %lld of shared memory zone "
			    "\"%s\" conflicts with already declared size %lld",
			    size, argv[1], (long long)o->u_zone_size);
			return -1;
		}
	}
	u->u_zone = arena_strdup(cp->cp_arena, argv[1]);
	u->u_zone_size = size;
	return 0;
}

/* "200-399", "200,204,300-399" */
static int
hc_parse_status(struct conf_hc *hc, const char *v)
{
	long long lo, hi;
	char num[16];
	const char *p = v, *e, *dash;
	size_t len;

	hc->hc_nranges = 0;
	while (*p != '\0') {
		if ((e = strchr(p, ',')) == NULL)
			e = p + strlen(p);
		if (hc->hc_nranges == UPS_HC_MAX_RANGES || e == p)
			return -1;
		dash = memchr(p, '-', e - p);
		len = (dash ? dash : e) - p;
		if (len == 0 || len >= sizeof(num))
			return -1;
		memcpy(num, p, len);
		num[len] = '\0';
		if (str_parse_int(num, 599, &lo) == -1 || lo < 100)
			return -1;
		hi = lo;
		if (dash != NULL) {
			len = e - dash - 1;
			if (len == 0 || len >= sizeof(num))
				return -1;
			memcpy(num, dash + 1, len);
			num[len] = '\0';
			if (str_parse_int(num, 599, &hi) == -1 || hi < lo)
				return -1;
		}
		hc->hc_lo[hc->hc_nranges] = lo;
		hc->hc_hi[hc->hc_nranges++] = hi;
		p = *e ? e + 1 : e;
	}
	return hc->hc_nranges > 0 ? 0 : -1;
}

/*
 * portico's own: health_check [interval=time] [fails=N] [passes=N]
 * [uri=uri] [port=N] [match=status=LIST] [match=body=~REGEX]
 */
int
conf_set_ups_health_check(struct conf_parser *cp, const struct conf_cmd *c,
    int argc, char **argv, void *conf)
{
	struct conf_upstream *u = cp->cp_ups;
	struct conf_hc *hc;
	const char *v;
	long long n;
	char err[512];
	int i, seen_status = 0;

	if (u->u_hc != NULL) {
		conf_error(cp, "\"%s\" directive is duplicate", argv[0]);
		return -1;
	}
	hc = arena_alloc(cp->cp_arena, sizeof(*hc));
	hc->hc_interval = 5000;
	hc->hc_fails = 1;
	hc->hc_passes = 1;
	hc->hc_uri = "/";
	hc->hc_nranges = 1;
	hc->hc_lo[0] = 200;
	hc->hc_hi[0] = 399;
	hc->hc_file = cp->cp_in->in_path;
	hc->hc_line = cp->cp_line;
	for (i = 1; i < argc; i++) {
		if ((v = param(argv[i], "interval=")) != NULL) {
			if (str_parse_time(v, &hc->hc_interval) == -1 ||
			    hc->hc_interval == 0)
				goto invalid;
		} else if ((v = param(argv[i], "fails=")) != NULL) {
			if (str_parse_int(v, INT_MAX, &n) == -1 || n == 0)
				goto invalid;
			hc->hc_fails = n;
		} else if ((v = param(argv[i], "passes=")) != NULL) {
			if (str_parse_int(v, INT_MAX, &n) == -1 || n == 0)
				goto invalid;
			hc->hc_passes = n;
		} else if ((v = param(argv[i], "uri=")) != NULL) {
			if (v[0] != '/')
				goto invalid;
			hc->hc_uri = arena_strdup(cp->cp_arena, v);
		} else if ((v = param(argv[i], "port=")) != NULL) {
			if (str_parse_int(v, 65535, &n) == -1 || n == 0)
				goto invalid;
			hc->hc_port = n;
		} else if ((v = param(argv[i], "match=status=")) != NULL) {
			if (seen_status++ || hc_parse_status(hc, v) == -1)
				goto invalid;
		} else if ((v = param(argv[i], "match=body=~")) != NULL) {
			if (hc->hc_body != NULL || *v == '\0')
				goto invalid;
			hc->hc_body = regex_compile(cp->cp_arena,
			    &cp->cp_gen->g_regexes, v, 0, err, sizeof(err));
			if (hc->hc_body == NULL) {
				conf_error(cp, "%s", err);
				return -1;
			}
			hc->hc_body_src = arena_strdup(cp->cp_arena, v);
		} else
			goto invalid;
	}
	u->u_hc = hc;
	return 0;
invalid:
	conf_error(cp, "invalid parameter \"%s\"", argv[i]);
	return -1;
}

/* the peers of the block: the primaries, then the backups */
static int
ups_build(struct conf_parser *cp, struct conf_upstream *u)
{
	struct ups_server *s;
	struct conf_peer *p;
	int n = 0, pass, i, idx;

	for (s = u->u_servers; s != NULL; s = s->us_next)
		n += s->us_naddrs;
	u->u_peers = arena_alloc(cp->cp_arena, n * sizeof(*u->u_peers));
	for (pass = 0; pass < 2; pass++) {
		for (s = u->u_servers, idx = 0; s != NULL;
		    s = s->us_next, idx++) {
			if (s->us_backup != pass)
				continue;
			for (i = 0; i < s->us_naddrs; i++) {
				p = &u->u_peers[u->u_npeers++];
				memcpy(&p->p_addr, &s->us_addrs[i],
				    s->us_lens[i]);
				p->p_addrlen = s->us_lens[i];
				ups_addr_text(&p->p_addr, p->p_name,
				    sizeof(p->p_name));
				p->p_server = s->us_text;
				p->p_server_idx = idx;
				p->p_weight = s->us_weight;
				p->p_max_fails = s->us_max_fails;
				p->p_fail_timeout = s->us_fail_timeout;
				p->p_max_conns = s->us_max_conns;
				p->p_backup = s->us_backup;
				p->p_down = s->us_down;
				p->p_slot = -1;
				p->p_file = s->us_file;
				p->p_line = s->us_line;
				if (!pass) {
					u->u_nprimary++;
					u->u_total_weight += p->p_weight;
				}
			}
		}
	}
	if (u->u_nprimary == 0) {
		cp->cp_line = u->u_line;
		conf_error(cp, "no servers in upstream \"%s\"", u->u_name);
		return -1;
	}
	if (u->u_method == UPS_CHASH) {
		char err[128];

		if ((u->u_ring = balance_ring_build(cp->cp_arena, u, err,
		    sizeof(err))) == NULL) {
			cp->cp_line = u->u_line;
			conf_error(cp, "%s in upstream \"%s\"", err, u->u_name);
			return -1;
		}
	}
	return 0;
}

int
conf_set_upstream(struct conf_parser *cp, const struct conf_cmd *c,
    int argc, char **argv, void *conf)
{
	struct conf_http *h = cp->cp_http;
	struct conf_upstream *u, **up;
	int errors = cp->cp_gen->g_errors, rc;

	for (up = &h->hc_upstreams; *up != NULL; up = &(*up)->u_next) {
		if (strcasecmp((*up)->u_name, argv[1]) == 0) {
			conf_error(cp, "duplicate upstream \"%s\"", argv[1]);
			return conf_skip_block(cp);
		}
	}
	u = arena_alloc(cp->cp_arena, sizeof(*u));
	u->u_name = arena_strdup(cp->cp_arena, argv[1]);
	u->u_file = cp->cp_in->in_path;
	u->u_line = cp->cp_line;
	u->u_flags = UPS_F_ALL;
	u->u_keepalive_timeout = UNSET;
	u->u_keepalive_requests = UNSET;
	*up = u;
	cp->cp_ups = u;
	rc = conf_parse_block(cp, CTX_UPSTREAM);
	cp->cp_ups = NULL;
	if (rc == -1 || cp->cp_gen->g_errors != errors)
		return -1;
	if (u->u_servers == NULL) {
		/* at the closing "}", as nginx */
		conf_error(cp, "no servers are inside upstream");
		return -1;
	}
	if (u->u_keepalive_timeout == UNSET)
		u->u_keepalive_timeout = 60000;
	if (u->u_keepalive_requests == UNSET)
		u->u_keepalive_requests = 1000;
	return ups_build(cp, u);
}

/* after the whole file: zones named without a size need one elsewhere */
int
conf_upstream_finish(struct conf_parser *cp)
{
	struct conf_upstream *u, *o;

	for (u = cp->cp_gen->g_http->hc_upstreams; u != NULL; u = u->u_next) {
		if (u->u_zone == NULL || u->u_zone_size != 0)
			continue;
		for (o = cp->cp_gen->g_http->hc_upstreams; o != NULL;
		    o = o->u_next)
			if (o->u_zone != NULL && o->u_zone_size != 0 &&
			    strcmp(o->u_zone, u->u_zone) == 0)
				break;
		if (o == NULL) {
			conf_error(cp, "zero size shared memory zone \"%s\"",
			    u->u_zone);
			return -1;
		}
		u->u_zone_size = o->u_zone_size;
	}
	return 0;
}
