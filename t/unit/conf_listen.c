/*
 * unit tests for common/conf_listen.c: the listen directive, its
 * addresses and options, and the grouping of servers by address.
 */
#include "../../common/conf.c"
#include "../../common/conf_dir.c"
#include "../../common/conf_listen.c"
#include "tap.h"
#include "conf_load.h"

#include <arpa/inet.h>
#include <netinet/in.h>

static void
check_listen(const char *arg, const char *text, int family, int port,
    int def, int backlog)
{
	char conf[256];
	const struct conf_listen *li;
	struct gen *g;
	int got_port;

	snprintf(conf, sizeof(conf), "http { server { listen %s; } }", arg);
	g = load(conf);
	if (g == NULL) {
		ok(0, "listen %s", arg);
		show_errs();
		return;
	}
	li = nth_server(g, 0)->sc_listens;
	got_port = li->li_addr.ss_family == AF_INET6 ?
	    ntohs(((struct sockaddr_in6 *)&li->li_addr)->sin6_port) :
	    ntohs(((struct sockaddr_in *)&li->li_addr)->sin_port);
	ok(strcmp(li->li_text, text) == 0 && li->li_addr.ss_family == family &&
	    got_port == port && li->li_default == def &&
	    li->li_backlog == backlog && li->li_next == NULL &&
	    li->li_addrlen == (family == AF_INET6 ?
	    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in)),
	    "listen %s -> %s", arg, text);
	if (strcmp(li->li_text, text) != 0)
		printf("#   got %s\n", li->li_text);
	conf_free(g);
}

static void
test_listen(void)
{
	const struct conf_listen *li;
	struct gen *g;

	check_listen("8080", "0.0.0.0:8080", AF_INET, 8080, 0, 511);
	check_listen("*:8080", "0.0.0.0:8080", AF_INET, 8080, 0, 511);
	check_listen("127.0.0.1:8080", "127.0.0.1:8080", AF_INET, 8080, 0,
	    511);
	check_listen("127.0.0.1", "127.0.0.1:80", AF_INET, 80, 0, 511);
	check_listen("[::1]:8080", "[::1]:8080", AF_INET6, 8080, 0, 511);
	check_listen("[::]", "[::]:80", AF_INET6, 80, 0, 511);
	check_listen("8080 default_server backlog=64", "0.0.0.0:8080",
	    AF_INET, 8080, 1, 64);
	check_listen("127.0.0.1:1 default", "127.0.0.1:1", AF_INET, 1, 1,
	    511);
	check_listen("65535", "0.0.0.0:65535", AF_INET, 65535, 0, 511);

	/* a host name: its first address (/etc/hosts decides which) */
	g = load("http { server { listen localhost:8080; } }");
	li = g ? nth_server(g, 0)->sc_listens : NULL;
	ok(li != NULL && (strcmp(li->li_text, "127.0.0.1:8080") == 0 ||
	    strcmp(li->li_text, "[::1]:8080") == 0), "listen localhost:8080");
	conf_free(g);

	g = loads("http { server { listen [::]:8080 ipv6only=off; "
	    "listen 8081; listen 8082 ipv6only=on; } }",
	    "several listens in one server");
	if (g == NULL)
		return;
	li = nth_server(g, 0)->sc_listens;
	ok(li->li_ipv6only == 0 && li->li_next->li_ipv6only == 1 &&
	    strcmp(li->li_next->li_next->li_text, "0.0.0.0:8082") == 0,
	    "ipv6only= and listen order");
	is_int(g->g_nlistens, 3, "three addresses");
	conf_free(g);
}

static void
test_listen_groups(void)
{
	struct gen_listen *gl;
	struct gen *g;

	g = loads("http {\n"
	    "  server { listen 127.0.0.1:8001; server_name s1; }\n"
	    "  server {\n"
	    "    listen 127.0.0.1:8001 default_server backlog=64;\n"
	    "    listen 127.0.0.1:8002;\n"
	    "    server_name s2;\n"
	    "  }\n"
	    "  server { listen 127.0.0.1:8002; server_name s3; }\n"
	    "  server { listen 8003; server_name s4; }\n"
	    "}\n", "servers sharing addresses");
	if (g == NULL)
		return;
	is_int(g->g_nlistens, 3, "one gen_listen per address");
	gl = listen_by_text(g, "127.0.0.1:8001");
	ok(gl != NULL && gl->gl_nservers == 2 &&
	    gl->gl_servers[0] == nth_server(g, 0) &&
	    gl->gl_servers[1] == nth_server(g, 1),
	    "two servers on 127.0.0.1:8001, in file order");
	ok(gl != NULL && gl->gl_default == nth_server(g, 1),
	    "default_server chosen over the first");
	ok(gl != NULL && gl->gl_backlog == 64,
	    "backlog of the default_server listen");
	gl = listen_by_text(g, "127.0.0.1:8002");
	ok(gl != NULL && gl->gl_nservers == 2 &&
	    gl->gl_default == nth_server(g, 1),
	    "without default_server the first server is the default");
	gl = listen_by_text(g, "0.0.0.0:8003");
	ok(gl != NULL && gl->gl_nservers == 1 &&
	    gl->gl_default == nth_server(g, 3), "a server alone");
	ok(g->g_listens[0].gl_fd == -1 && g->g_listens[2].gl_fd == -1,
	    "no fds yet");
	conf_free(g);
}

/* listen options: parsed into li_opt, given to the address once */
static void
test_listen_options(void)
{
	const struct listen_opts *o;
	struct gen_listen *gl;
	struct gen *g;

	g = loads("http {\n"
	    "  server { listen 127.0.0.1:8001; }\n"
	    "  server { listen 127.0.0.1:8001 rcvbuf=64k sndbuf=1m deferred\n"
	    "      reuseport fastopen=8 so_keepalive=2m:30s:4 backlog=9; }\n"
	    "  server { listen 127.0.0.1:8002 so_keepalive=off; }\n"
	    "  server { listen 127.0.0.1:8003 so_keepalive=:10s:; }\n"
	    "  server { listen 127.0.0.1:8004; }\n"
	    "  server { listen 127.0.0.1:8005 so_keepalive=1m; }\n"
	    "  server { listen 127.0.0.1:8006 so_keepalive=5:6 sndbuf=0; }\n"
	    "}\n", "listen options");
	if (g == NULL)
		return;
	gl = listen_by_text(g, "127.0.0.1:8001");
	o = gl != NULL ? &gl->gl_opt : NULL;
	ok(o != NULL && o->lo_rcvbuf == 65536 && o->lo_sndbuf == 1048576 &&
	    o->lo_deferred == 1 && o->lo_reuseport == 1 &&
	    o->lo_fastopen == 8 && o->lo_keepalive == 1 &&
	    o->lo_keepidle == 120 && o->lo_keepintvl == 30 &&
	    o->lo_keepcnt == 4 && gl->gl_backlog == 9,
	    "the options of the second server's listen go to the address");
	ok(gl != NULL && gl->gl_default == nth_server(g, 0),
	    "options do not make a default server");
	gl = listen_by_text(g, "127.0.0.1:8002");
	ok(gl != NULL && gl->gl_opt.lo_keepalive == 0, "so_keepalive=off");
	gl = listen_by_text(g, "127.0.0.1:8003");
	ok(gl != NULL && gl->gl_opt.lo_keepalive == 1 &&
	    gl->gl_opt.lo_keepidle == 0 && gl->gl_opt.lo_keepintvl == 10 &&
	    gl->gl_opt.lo_keepcnt == 0, "so_keepalive=:10s: sets one part");
	gl = listen_by_text(g, "127.0.0.1:8004");
	ok(gl != NULL && gl->gl_opt.lo_keepalive == -1 &&
	    gl->gl_opt.lo_fastopen == -1 && gl->gl_opt.lo_rcvbuf == -1 &&
	    !gl->gl_opt.lo_reuseport && !gl->gl_opt.lo_deferred &&
	    gl->gl_backlog == 511 && gl->gl_fds == NULL,
	    "without options: the system's values");
	gl = listen_by_text(g, "127.0.0.1:8005");
	ok(gl != NULL && gl->gl_opt.lo_keepidle == 60 &&
	    gl->gl_opt.lo_keepintvl == 0, "so_keepalive=1m: the idle time alone");
	gl = listen_by_text(g, "127.0.0.1:8006");
	ok(gl != NULL && gl->gl_opt.lo_keepidle == 5 &&
	    gl->gl_opt.lo_keepintvl == 6 && gl->gl_opt.lo_keepcnt == 0 &&
	    gl->gl_opt.lo_sndbuf == 0, "so_keepalive=5:6, sndbuf=0 (as nginx)");
	conf_free(g);

	rejects("http {\n server { listen 1.2.3.4:80 backlog=5; }\n"
	    " server { listen 1.2.3.4:80 reuseport; }\n}\n", 3,
	    "duplicate listen options for 1.2.3.4:80");
	rejects("http {\n server { listen 80 rcvbuf=1x; }\n}\n", 2,
	    "invalid rcvbuf \"rcvbuf=1x\"");
	rejects("http {\n server { listen 80 so_keepalive=1:2:3:4; }\n}\n",
	    2, "invalid so_keepalive value: \"1:2:3:4\"");
	rejects("http {\n server { listen 80 so_keepalive=500ms; }\n}\n", 2,
	    "invalid so_keepalive value: \"500ms\"");
	rejects("http {\n server { listen 80 so_keepalive=0s::; }\n}\n", 2,
	    "invalid so_keepalive value: \"0s::\"");
}

int
main(void)
{
	prefix_setup();

	test_listen();
	test_listen_groups();
	test_listen_options();

	prefix_cleanup();
	return tap_done();
}
