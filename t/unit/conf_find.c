/*
 * unit tests for common/conf_find.c: the server, location and MIME type
 * lookups into a loaded tree.
 */
#include "../../common/conf.c"
#include "../../common/conf_dir.c"
#include "../../common/conf_find.c"
#include "tap.h"
#include "conf_load.h"

static const char *
srv_name(const struct conf_srv *s)
{
	if (s == NULL)
		return "(no server)";
	return s->sc_nnames > 0 ? s->sc_names[0] : "(unnamed)";
}

static void
test_find_server(void)
{
	static const struct {
		const char *port, *host, *server;
	} cases[] = {
		{ "8001", "a.com", "_" },
		{ "8001", "exact.com", "exact.com" },
		{ "8001", "www.upper.com", "exact.com" },
		{ "8001", "foo.a.com", "*.a.com" },
		{ "8001", "x.a.com", "*.a.com" },
		{ "8001", "q.x.a.com", "*.x.a.com" },
		{ "8001", "c.com", ".c.com" },
		{ "8001", "m.c.com", "m.c.com" },
		{ "8001", "n.m.c.com", ".c.com" },
		{ "8001", "xc.com", "_" },
		{ "8001", "www.d.org", "www.d.*" },
		{ "8001", "www.d", "www.*" },
		{ "8001", "www.dd.org", "www.*" },
		{ "8001", "www.a.com", "*.a.com" },
		{ "8001", "www.q.c.com", ".c.com" },
		{ "8001", "", "" },
		{ "8001", "unknown.org", "_" },
		{ "8002", "unknown.org", "second" },
		{ "8002", "exact.com", "exact.com" },
	};
	struct gen_listen *gl;
	struct conf_srv *s;
	char text[64];
	struct gen *g;
	size_t i;

	g = loads("http {\n"
	    "  server { listen 127.0.0.1:8001; listen 127.0.0.1:8002;\n"
	    "           server_name _; }\n"
	    "  server { listen 127.0.0.1:8001; listen 127.0.0.1:8002;\n"
	    "           server_name exact.com WWW.Upper.COM; }\n"
	    "  server { listen 127.0.0.1:8001; server_name www.*; }\n"
	    "  server { listen 127.0.0.1:8001; server_name *.a.com; }\n"
	    "  server { listen 127.0.0.1:8001; server_name *.x.a.com; }\n"
	    "  server { listen 127.0.0.1:8001; server_name .c.com; }\n"
	    "  server { listen 127.0.0.1:8001; server_name m.c.com; }\n"
	    "  server { listen 127.0.0.1:8001; server_name www.d.*; }\n"
	    "  server { listen 127.0.0.1:8001; server_name \"\"; }\n"
	    "  server { listen 127.0.0.1:8002 default_server;\n"
	    "           server_name second; }\n"
	    "}\n", "server_name forms");
	if (g == NULL)
		return;
	for (i = 0; i < nitems(cases); i++) {
		snprintf(text, sizeof(text), "127.0.0.1:%s", cases[i].port);
		gl = listen_by_text(g, text);
		s = gl ? conf_find_server(gl, cases[i].host,
		    strlen(cases[i].host), NULL) : NULL;
		is_str(srv_name(s), cases[i].server, "host \"%s\" on %s",
		    cases[i].host, cases[i].port);
	}
	gl = listen_by_text(g, "127.0.0.1:8001");
	s = conf_find_server(gl, "exact.comxyz", 9, NULL);
	is_str(srv_name(s), "exact.com", "host length is respected");
	conf_free(g);
}

static void
test_find_location(void)
{
	static const struct {
		const char *uri, *loc;
	} cases[] = {
		{ "/api/health", "=/api/health" },
		{ "/api/healthz", "/api/" },
		{ "/api/users", "/api/" },
		{ "/api", "/ap" },
		{ "/index.html", "/" },
		{ "/", "=/" },
		{ "/api/v1/users/7", "/api/v1/users/" },
		{ "/api/v1/x", "=/api/v1/x" },
		{ "/api/v1/xy", "/api/v1/" },
		{ "/api/v1/", "/api/v1/" },
		{ "/static/a.css", "^~/static/" },
		{ "/apx", "/ap" },
		{ "@fallback", "(server)" },
		{ "", "(server)" },
	};
	struct conf_loc *sl, *l;
	struct gen *g;
	size_t i;

	g = loads("http {\n"
	    "  server {\n"
	    "    location / { }\n"
	    "    location /api/ { }\n"
	    "    location = /api/health { }\n"
	    "    location /api/v1/ {\n"
	    "      location /api/v1/users/ { }\n"
	    "      location =/api/v1/x { }\n"
	    "    }\n"
	    "    location ^~ /static/ { }\n"
	    "    location = / { }\n"
	    "    location @fallback { }\n"
	    "    location /ap { }\n"
	    "  }\n"
	    "  server {\n"
	    "    location /only/ { }\n"
	    "  }\n"
	    "}\n", "location forms");
	if (g == NULL)
		return;
	sl = nth_server(g, 0)->sc_loc;
	for (i = 0; i < nitems(cases); i++) {
		l = conf_find_location(sl, cases[i].uri, strlen(cases[i].uri), NULL);
		is_str(loc_label(l), cases[i].loc, "uri \"%s\"", cases[i].uri);
	}
	l = conf_find_location(sl, "/api/healthXYZ", 11, NULL);
	is_str(loc_label(l), "=/api/health", "uri length is respected");
	l = conf_find_location(nth_server(g, 1)->sc_loc, "/x", 2, NULL);
	ok(l == nth_server(g, 1)->sc_loc,
	    "no match: the server's own conf");
	l = child_loc(sl, "@fallback");
	ok(l != NULL && l->lc_match == LOC_NAMED && l->lc_line == 12 &&
	    strcmp(l->lc_file, confpath) == 0,
	    "named location kept, with its file and line");
	conf_free(g);
}

static void
test_types(void)
{
	struct conf_loc *hl, *t, *u;
	struct gen *g;

	g = loads("http {\n"
	    "  types {\n"
	    "    text/html html HTM;\n"
	    "    text/plain txt;\n"
	    "    application/x-a html;\n"
	    "  }\n"
	    "  types { image/gif gif; }\n"
	    "  server {\n"
	    "    location /t { types { image/png png; } }\n"
	    "    location /u { }\n"
	    "  }\n"
	    "}\n", "types blocks");
	if (g == NULL)
		return;
	hl = g->g_http->hc_loc;
	t = child_loc(nth_server(g, 0)->sc_loc, "/t");
	u = child_loc(nth_server(g, 0)->sc_loc, "/u");
	is_str(conf_mime_type(hl, "html", 4), "application/x-a",
	    "the later entry wins");
	is_str(conf_mime_type(hl, "HtMl", 4), "application/x-a",
	    "lookup is case-insensitive");
	is_str(conf_mime_type(hl, "htm", 3), "text/html",
	    "extension lowercased at load");
	is_str(conf_mime_type(hl, "txt.gz", 3), "text/plain",
	    "length is respected");
	is_str(conf_mime_type(hl, "tx", 2), NULL, "no prefix match");
	is_str(conf_mime_type(hl, "gif", 3), "image/gif",
	    "a second types block adds to the map");
	is_str(conf_mime_type(u, "html", 4), "application/x-a",
	    "location inherits the http map");
	is_str(conf_mime_type(t, "png", 3), "image/png", "location's own map");
	is_str(conf_mime_type(t, "html", 4), NULL,
	    "a location's map replaces the inherited one");
	conf_free(g);
}

int
main(void)
{
	prefix_setup();

	test_find_server();
	test_find_location();
	test_types();

	prefix_cleanup();
	return tap_done();
}
