/*
 * unit tests for common/conf_upstream.c: the upstream {} block, its
 * peers, defaults, and every error message with its file:line, as
 * nginx 1.22 words them (checked with nginx -t on the same inputs).
 */
#include "../../common/conf.c"
#include "../../common/conf_dir.c"
#include "../../common/conf_upstream.c"
#include "tap.h"

#include <ftw.h>

static char prefix[64];
static char confdir[128];
static char confpath[192];
static char errs[1 << 16];

static struct gen *
load(const char *text)
{
	char tmp[128];
	struct gen *g;
	ssize_t n;
	int fd, saved;
	FILE *fp;

	if ((fp = fopen(confpath, "w")) == NULL) {
		perror(confpath);
		exit(2);
	}
	fputs(text, fp);
	fclose(fp);
	snprintf(tmp, sizeof(tmp), "%s/stderr", prefix);
	fflush(stdout);
	fflush(stderr);
	fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC, 0600);
	saved = dup(2);
	if (fd == -1 || saved == -1) {
		perror("capturing stderr");
		exit(2);
	}
	dup2(fd, 2);
	g = conf_load(prefix, confpath, NULL, 0);
	dup2(saved, 2);
	close(saved);
	n = pread(fd, errs, sizeof(errs) - 1, 0);
	errs[n > 0 ? n : 0] = '\0';
	close(fd);
	return g;
}

static int
nerrors(void)
{
	const char *p = errs;
	int n = 0;

	while ((p = strstr(p, "[emerg]")) != NULL) {
		n++;
		p++;
	}
	return n;
}

static void
diag_text(const char *label, const char *text)
{
	const char *p, *e;

	printf("#   %s:\n", label);
	for (p = text; *p != '\0'; p = e + (*e != '\0')) {
		if ((e = strchr(p, '\n')) == NULL)
			e = p + strlen(p);
		printf("#     %.*s\n", (int)(e - p), p);
	}
}

/* an http {} around the body, the body starting on line 3 */
static const char *
wrap(const char *body)
{
	static char buf[8192];

	snprintf(buf, sizeof(buf), "events {}\nhttp {\n%s\n}\n", body);
	return buf;
}

/* rejected with exactly one error; line 0: the message has no file:line */
static void
rejects(const char *body, int line, const char *msg)
{
	const char *text = wrap(body);
	struct gen *g = load(text);
	char want[1024];
	int good;

	if (line > 0)
		snprintf(want, sizeof(want), "[emerg] %s:%d: %s\n", confpath,
		    line, msg);
	else
		snprintf(want, sizeof(want), "[emerg] %s\n", msg);
	good = g == NULL && nerrors() == 1 && strstr(errs, want) != NULL;
	ok(good, "line %d: %s", line, msg);
	if (!good) {
		diag_text("wanted", want);
		diag_text("config", text);
		diag_text("stderr was", errs);
	}
	conf_free(g);
}

static struct gen *
loads(const char *body, const char *what)
{
	struct gen *g = load(wrap(body));

	ok(g != NULL && errs[0] == '\0', "loads: %s", what);
	if (g == NULL || errs[0] != '\0')
		diag_text("stderr was", errs);
	return g;
}

static void
test_full(void)
{
	struct conf_upstream *u, *h;
	struct conf_peer *p;
	struct gen *g;
	int i, n127 = 0;

	g = loads(
	    "upstream app {\n"
	    "    server localhost:8081 weight=3 max_fails=2 fail_timeout=5s;\n"
	    "    server 127.0.0.2:8082 backup max_conns=7;\n"
	    "    server unix:/tmp/app.sock down;\n"
	    "    server [::1];\n"
	    "    keepalive 16;\n"
	    "    keepalive_timeout 30s;\n"
	    "    keepalive_requests 500;\n"
	    "    zone app 64k;\n"
	    "    health_check interval=2s fails=2 passes=3 uri=/health "
	    "port=8090 match=status=200-299,304 match=body=~^ok;\n"
	    "}\n"
	    "upstream h { hash $request_uri consistent; "
	    "server 127.0.0.1:1; server 127.0.0.1:2 weight=2; zone app; }\n"
	    "upstream d { server 10.0.0.1; }\n"
	    "server { listen 127.0.0.1:18080; keepalive_timeout 5s; }",
	    "a full upstream block");
	if (g == NULL) {
		ok(0, "no generation to look at");
		return;
	}
	u = conf_upstream_find(g, "APP");
	ok(u != NULL && strcmp(u->u_name, "app") == 0,
	    "conf_upstream_find() ignores case, as nginx");
	ok(conf_upstream_find(g, "nope") == NULL, "an unknown name: NULL");
	if (u == NULL)
		return;
	is_int(u->u_line, 3, "the upstream's line");
	is_int(u->u_method, UPS_RR, "round-robin by default");
	is_int(u->u_nservers, 4, "four server lines");
	ok(u->u_nprimary >= 3 && u->u_npeers == u->u_nprimary + 1,
	    "every address a peer, the backup last (%d of %d)",
	    u->u_nprimary, u->u_npeers);
	for (i = 0; i < u->u_nprimary; i++) {
		p = &u->u_peers[i];
		if (strcmp(p->p_server, "localhost:8081") == 0) {
			if (strcmp(p->p_name, "127.0.0.1:8081") == 0)
				n127++;
			ok(p->p_weight == 3 && p->p_max_fails == 2 &&
			    p->p_fail_timeout == 5000 && p->p_line == 4 &&
			    p->p_server_idx == 0,
			    "localhost peer %s: weight, max_fails, "
			    "fail_timeout, line", p->p_name);
		}
	}
	is_int(n127, 1, "localhost resolved to 127.0.0.1:8081");
	is_str(u->u_peers[0].p_name, "127.0.0.1:8081",
	    "IPv4 addresses of a name first");
	p = &u->u_peers[u->u_npeers - 1];
	ok(strcmp(p->p_name, "127.0.0.2:8082") == 0 && p->p_backup &&
	    p->p_max_conns == 7 && p->p_weight == 1 && p->p_max_fails == 1 &&
	    p->p_fail_timeout == 10000 && p->p_server_idx == 1,
	    "the backup and nginx's defaults");
	p = &u->u_peers[u->u_nprimary - 2];
	ok(strcmp(p->p_name, "unix:/tmp/app.sock") == 0 && p->p_down &&
	    p->p_addr.ss_family == AF_UNIX, "unix: peer, down");
	p = &u->u_peers[u->u_nprimary - 1];
	is_str(p->p_name, "[::1]:80", "IPv6 peer, port 80 by default");
	is_int(p->p_slot, -1, "no health slot until the master maps one");
	is_int(u->u_keepalive, 16, "keepalive");
	is_int(u->u_keepalive_timeout, 30000, "keepalive_timeout");
	is_int(u->u_keepalive_requests, 500, "keepalive_requests");
	ok(u->u_zone != NULL && strcmp(u->u_zone, "app") == 0 &&
	    u->u_zone_size == 65536, "zone");
	ok(u->u_hc != NULL && u->u_hc->hc_interval == 2000 &&
	    u->u_hc->hc_fails == 2 && u->u_hc->hc_passes == 3 &&
	    strcmp(u->u_hc->hc_uri, "/health") == 0 &&
	    u->u_hc->hc_port == 8090 && u->u_hc->hc_line == 12,
	    "health_check parameters");
	ok(u->u_hc != NULL && u->u_hc->hc_nranges == 2 &&
	    u->u_hc->hc_lo[0] == 200 && u->u_hc->hc_hi[0] == 299 &&
	    u->u_hc->hc_lo[1] == 304 && u->u_hc->hc_hi[1] == 304 &&
	    u->u_hc->hc_body != NULL &&
	    regex_match(u->u_hc->hc_body, "ok then", 7, NULL) == 1 &&
	    regex_match(u->u_hc->hc_body, "not ok", 6, NULL) != 1,
	    "health_check match=status= and match=body=~");

	h = conf_upstream_find(g, "h");
	ok(h != NULL && h->u_method == UPS_CHASH && h->u_hash_key != NULL &&
	    h->u_ring != NULL && h->u_ring->r_n > 400 &&
	    h->u_ring->r_n <= 480 && h->u_total_weight == 3,
	    "hash consistent: key compiled, ring of 3 x 160 points");
	ok(h != NULL && h->u_zone_size == 65536,
	    "a zone named without a size takes the size given elsewhere");
	if (h != NULL && h->u_ring != NULL) {
		int sorted = 1;

		for (i = 1; i < h->u_ring->r_n; i++)
			if (h->u_ring->r_points[i - 1].pt_hash >=
			    h->u_ring->r_points[i].pt_hash)
				sorted = 0;
		ok(sorted, "the ring is sorted, one point per hash");
	}
	u = conf_upstream_find(g, "d");
	ok(u != NULL && u->u_keepalive == 0 && u->u_keepalive_timeout ==
	    60000 && u->u_keepalive_requests == 1000 && u->u_hc == NULL &&
	    u->u_zone == NULL && u->u_npeers == 1 &&
	    strcmp(u->u_peers[0].p_name, "10.0.0.1:80") == 0,
	    "defaults: keepalive off, 60s, 1000 requests, port 80");
	ok(g->g_http->hc_upstreams != NULL &&
	    strcmp(g->g_http->hc_upstreams->u_name, "app") == 0 &&
	    g->g_http->hc_upstreams->u_next == conf_upstream_find(g, "h"),
	    "upstreams in the order of the file");
	is_int(g->g_http->hc_servers->sc_loc->lc_keepalive_timeout, 5000,
	    "keepalive_timeout in a server is still http's own");
	conf_free(g);
}

static void
test_methods(void)
{
	struct conf_upstream *u;
	struct gen *g;

	g = loads("upstream a { least_conn; server 127.0.0.1 backup; "
	    "server 127.0.0.2; }\n"
	    "upstream b { ip_hash; server 127.0.0.1 down; "
	    "server 127.0.0.2 weight=2; }\n"
	    "upstream c { hash $remote_addr; server 127.0.0.1; }\n"
	    "upstream d { random; server 127.0.0.1; }\n"
	    "upstream e { random two; server 127.0.0.1; }\n"
	    "upstream f { random two least_conn; server 127.0.0.1; }\n"
	    "upstream g { server 127.0.0.1:1; server 127.0.0.1:2 backup; "
	    "hash $host; }\n"
	    "upstream h { server 127.0.0.1 max_fails=0 fail_timeout=0 "
	    "max_conns=0 fail_timeout=1h30m; }",
	    "every balancing method");
	if (g == NULL)
		return;
	u = conf_upstream_find(g, "a");
	ok(u->u_method == UPS_LEAST_CONN && u->u_nprimary == 1 &&
	    u->u_npeers == 2 && u->u_peers[1].p_backup,
	    "least_conn allows backup");
	u = conf_upstream_find(g, "b");
	ok(u->u_method == UPS_IP_HASH && u->u_peers[0].p_down &&
	    u->u_total_weight == 3, "ip_hash; down peers keep their weight");
	u = conf_upstream_find(g, "c");
	ok(u->u_method == UPS_HASH && u->u_ring == NULL &&
	    u->u_hash_key->vt_has_vars, "hash without consistent: no ring");
	ok(conf_upstream_find(g, "d")->u_method == UPS_RANDOM &&
	    !conf_upstream_find(g, "d")->u_random_two, "random");
	ok(conf_upstream_find(g, "e")->u_random_two &&
	    conf_upstream_find(g, "f")->u_random_two, "random two [least_conn]");
	u = conf_upstream_find(g, "g");
	ok(u->u_method == UPS_HASH && u->u_npeers == 2,
	    "backup before hash is accepted, as nginx");
	u = conf_upstream_find(g, "h");
	ok(u->u_peers[0].p_max_fails == 0 &&
	    u->u_peers[0].p_fail_timeout == 5400000,
	    "max_fails=0; the last fail_timeout wins");
	conf_free(g);

	g = load(wrap("upstream a { server 127.0.0.1; least_conn; ip_hash; }"));
	ok(g != NULL && nerrors() == 0 && strstr(errs, "[warn] ") != NULL &&
	    strstr(errs, ":3: load balancing method redefined") != NULL &&
	    conf_upstream_find(g, "a")->u_method == UPS_IP_HASH,
	    "a second method: nginx's warning, the last one holds");
	if (g == NULL || strstr(errs, "redefined") == NULL)
		diag_text("stderr was", errs);
	conf_free(g);
}

/* 110 bytes: over the 108 of sun_path */
#define LONG_PATH "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" \
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static void
test_errors(void)
{
	static const struct {
		const char *body;
		int line;
		const char *msg;
	} cases[] = {
	{ "upstream a { server 127.0.0.1:1; }\nupstream A { server 127.0.0.1:2; }",
	  4, "duplicate upstream \"A\"" },
	{ "upstream a {\n}", 4, "no servers are inside upstream" },
	{ "upstream a {\n server 127.0.0.1:1 backup;\n}", 3,
	  "no servers in upstream \"a\"" },
	{ "upstream a { least_conn;\n server 127.0.0.1:1 backup; }", 3,
	  "no servers in upstream \"a\"" },
	{ "upstream a { hash $uri;\n server 127.0.0.1:1 backup; }", 4,
	  "balancing method does not support parameter \"backup\"" },
	{ "upstream a { ip_hash; server 127.0.0.1:1 backup; }", 3,
	  "balancing method does not support parameter \"backup\"" },
	{ "upstream a { random two; server 127.0.0.1:1 backup; }", 3,
	  "balancing method does not support parameter \"backup\"" },
	{ "upstream a { server nosuch.invalid; }", 3,
	  "host not found in upstream \"nosuch.invalid\"" },
	{ "upstream a { server 127.0.0.1:99999; }", 3,
	  "invalid port in upstream \"127.0.0.1:99999\"" },
	{ "upstream a { server 127.0.0.1:0; }", 3,
	  "invalid port in upstream \"127.0.0.1:0\"" },
	{ "upstream a { server 127.0.0.1:; }", 3,
	  "invalid port in upstream \"127.0.0.1:\"" },
	{ "upstream a { server 127.0.0.1:80:80; }", 3,
	  "invalid port in upstream \"127.0.0.1:80:80\"" },
	{ "upstream a { server ::1; }", 3, "invalid port in upstream \"::1\"" },
	{ "upstream a { server [::1]:; }", 3,
	  "invalid port in upstream \"[::1]:\"" },
	{ "upstream a { server unix:; }", 3,
	  "no path in the unix domain socket in upstream \"unix:\"" },
	{ "upstream a { server unix:/tmp/" LONG_PATH "; }", 3,
	  "too long path in the unix domain socket in upstream \"unix:/tmp/"
	  LONG_PATH "\"" },
	{ "upstream a { server http://127.0.0.1; }", 3,
	  "invalid host in upstream \"http://127.0.0.1\"" },
	{ "upstream a { server 127.0.0.1/x; }", 3,
	  "invalid host in upstream \"127.0.0.1/x\"" },
	{ "upstream a { server [::1; }", 3, "invalid host in upstream \"[::1\"" },
	{ "upstream a { server [::1]x; }", 3,
	  "invalid host in upstream \"[::1]x\"" },
	{ "upstream a { server \"\"; }", 3, "no host in upstream \"\"" },
	{ "upstream a { server :80; }", 3, "no host in upstream \":80\"" },
	{ "upstream a { server 127.0.0.1 weight=0; }", 3,
	  "invalid parameter \"weight=0\"" },
	{ "upstream a { server 127.0.0.1 weight=x; }", 3,
	  "invalid parameter \"weight=x\"" },
	{ "upstream a { server 127.0.0.1 max_fails=-1; }", 3,
	  "invalid parameter \"max_fails=-1\"" },
	{ "upstream a { server 127.0.0.1 max_conns=x; }", 3,
	  "invalid parameter \"max_conns=x\"" },
	{ "upstream a { server 127.0.0.1 fail_timeout=abc; }", 3,
	  "invalid parameter \"fail_timeout=abc\"" },
	{ "upstream a { server 127.0.0.1 fail_timeout=500ms; }", 3,
	  "invalid parameter \"fail_timeout=500ms\"" },
	{ "upstream a { server 127.0.0.1 foo; }", 3,
	  "invalid parameter \"foo\"" },
	{ "upstream a { server 127.0.0.1 resolve; }", 3,
	  "invalid parameter \"resolve\"" },
	{ "upstream a { server 127.0.0.1; hash; }", 3,
	  "invalid number of arguments in \"hash\" directive" },
	{ "upstream a { server 127.0.0.1; hash $x consistent extra; }", 3,
	  "invalid number of arguments in \"hash\" directive" },
	{ "upstream a { server 127.0.0.1; hash $uri foo; }", 3,
	  "invalid parameter \"foo\"" },
	{ "upstream a { server 127.0.0.1; hash $nosuch; }", 3,
	  "unknown \"nosuch\" variable" },
	{ "upstream a { server 127.0.0.1; random three; }", 3,
	  "invalid parameter \"three\"" },
	{ "upstream a { server 127.0.0.1; random two foo; }", 3,
	  "invalid parameter \"foo\"" },
	{ "upstream a { server 127.0.0.1; least_conn x; }", 3,
	  "invalid number of arguments in \"least_conn\" directive" },
	{ "upstream a { server 127.0.0.1; ip_hash x; }", 3,
	  "invalid number of arguments in \"ip_hash\" directive" },
	{ "upstream a { server 127.0.0.1; keepalive 0; }", 3,
	  "invalid value \"0\" in \"keepalive\" directive" },
	{ "upstream a { server 127.0.0.1; keepalive 2; keepalive 3; }", 3,
	  "\"keepalive\" directive is duplicate" },
	{ "upstream a { server 127.0.0.1; keepalive_timeout 5x; }", 3,
	  "\"keepalive_timeout\" directive invalid value" },
	{ "upstream a { server 127.0.0.1; keepalive_timeout 1s;\n"
	  "keepalive_timeout 2s; }", 4,
	  "\"keepalive_timeout\" directive is duplicate" },
	{ "upstream a { server 127.0.0.1; keepalive_requests -1; }", 3,
	  "\"keepalive_requests\" directive invalid number" },
	{ "upstream a { server 127.0.0.1; keepalive_requests 1;\n"
	  "keepalive_requests 2; }", 4,
	  "\"keepalive_requests\" directive is duplicate" },
	{ "upstream a { server 127.0.0.1; keepalive_timeout 1s 2s; }", 3,
	  "invalid number of arguments in \"keepalive_timeout\" directive" },
	{ "upstream a { server 127.0.0.1; zone z; }", 0,
	  "zero size shared memory zone \"z\"" },
	{ "upstream a { server 127.0.0.1; zone z 1k; }", 3,
	  "zone \"z\" is too small" },
	{ "upstream a { server 127.0.0.1; zone z 10x; }", 3,
	  "invalid zone size \"10x\"" },
	{ "upstream a { server 127.0.0.1; zone; }", 3,
	  "invalid number of arguments in \"zone\" directive" },
	{ "upstream a { server 127.0.0.1; zone z 64k; }\n"
	  "upstream b { server 127.0.0.1; zone z 128k; }", 4,
	  "the size 131072 of shared memory zone \"z\" conflicts with "
	  "already declared size 65536" },
	{ "upstream a { server 127.0.0.1; listen 80; }", 3,
	  "\"listen\" directive is not allowed here" },
	{ "upstream a { server 127.0.0.1; foo; }", 3,
	  "unknown directive \"foo\"" },
	{ "upstream a { server 127.0.0.1 { } }", 3,
	  "directive \"server\" is not terminated by \";\"" },
	{ "upstream a b { server 127.0.0.1; }", 3,
	  "invalid number of arguments in \"upstream\" directive" },
	{ "upstream a;", 3, "directive \"upstream\" has no opening \"{\"" },
	{ "server { upstream a { server 127.0.0.1; } }", 3,
	  "\"upstream\" directive is not allowed here" },
	{ "server 127.0.0.1;", 3, "directive \"server\" has no opening \"{\"" },
	{ "server { location / { least_conn; } }", 3,
	  "\"least_conn\" directive is not allowed here" },
	{ "upstream a { server 127.0.0.1; upstream b { } }", 3,
	  "\"upstream\" directive is not allowed here" },
	/* portico's health_check */
	{ "upstream a { server 127.0.0.1; health_check interval=0; }", 3,
	  "invalid parameter \"interval=0\"" },
	{ "upstream a { server 127.0.0.1; health_check fails=0; }", 3,
	  "invalid parameter \"fails=0\"" },
	{ "upstream a { server 127.0.0.1; health_check passes=x; }", 3,
	  "invalid parameter \"passes=x\"" },
	{ "upstream a { server 127.0.0.1; health_check uri=x; }", 3,
	  "invalid parameter \"uri=x\"" },
	{ "upstream a { server 127.0.0.1; health_check port=70000; }", 3,
	  "invalid parameter \"port=70000\"" },
	{ "upstream a { server 127.0.0.1; health_check match=status=99; }", 3,
	  "invalid parameter \"match=status=99\"" },
	{ "upstream a { server 127.0.0.1; health_check match=status=300-200; }",
	  3, "invalid parameter \"match=status=300-200\"" },
	{ "upstream a { server 127.0.0.1; health_check match=status=200 "
	  "match=status=204; }", 3, "invalid parameter \"match=status=204\"" },
	{ "upstream a { server 127.0.0.1; health_check match=foo; }", 3,
	  "invalid parameter \"match=foo\"" },
	{ "upstream a { server 127.0.0.1; health_check mandatory; }", 3,
	  "invalid parameter \"mandatory\"" },
	{ "upstream a { server 127.0.0.1; health_check;\nhealth_check; }", 4,
	  "\"health_check\" directive is duplicate" },
	};
	size_t i;

	for (i = 0; i < nitems(cases); i++)
		rejects(cases[i].body, cases[i].line, cases[i].msg);

	/* a regex error names the pattern, at the line */
	{
		struct gen *g = load(wrap("upstream a { server 127.0.0.1; "
		    "health_check match=body=~(; }"));
		char want[256];

		snprintf(want, sizeof(want), "%s:3: ", confpath);
		ok(g == NULL && nerrors() == 1 && strstr(errs, want) != NULL,
		    "a bad body regex is an error at its line");
		conf_free(g);
	}
	/* every error of the file is reported */
	{
		struct gen *g = load(wrap(
		    "upstream a { server 127.0.0.1 weight=0; }\n"
		    "upstream b { server nosuch.invalid; keepalive 0; }"));

		ok(g == NULL && nerrors() == 3, "three errors, three lines");
		conf_free(g);
	}
}

/* an include inside upstream {} reads upstream directives */
static void
test_include(void)
{
	char path[256];
	struct gen *g;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/servers.conf", confdir);
	fp = fopen(path, "w");
	fputs("server 127.0.0.1:81;\nserver 127.0.0.1:82 weight=2;\n", fp);
	fclose(fp);
	g = loads("upstream a { include servers.conf; keepalive 4; }",
	    "include in upstream");
	ok(g != NULL && conf_upstream_find(g, "a")->u_npeers == 2 &&
	    conf_upstream_find(g, "a")->u_peers[1].p_weight == 2,
	    "the included servers are the upstream's");
	conf_free(g);
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	return remove(path);
}

int
main(void)
{
	snprintf(prefix, sizeof(prefix), "/tmp/portico-ups-XXXXXX");
	if (mkdtemp(prefix) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	snprintf(confdir, sizeof(confdir), "%s/conf", prefix);
	snprintf(confpath, sizeof(confpath), "%s/portico.conf", confdir);
	mkdir(confdir, 0755);
	log_to_stderr(LOG_NOTICE);
	log_also_stderr(1);

	test_full();
	test_methods();
	test_errors();
	test_include();

	nftw(prefix, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return tap_done();
}
