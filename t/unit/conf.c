/*
 * unit tests for common/conf.c and common/conf_dir.c: the nginx-dialect
 * reader, its error messages, defaults and inheritance.  The listen
 * directive is tested in conf_listen.c, the lookups in conf_find.c.
 */
#include "../../common/conf.c"
#include "../../common/conf_dir.c"
#include "tap.h"
#include "conf_load.h"

/* the first op of a level's rewrite program, when it is a return */
#define RET_CODE(l)	((l)->lc_rw != NULL && (l)->lc_rw->rw_op == RW_RETURN \
	? (l)->lc_rw->rw_code : UNSET)
#define RET_TEXT(l)	((l)->lc_rw != NULL && (l)->lc_rw->rw_op == RW_RETURN \
	? (l)->lc_rw->rw_text : NULL)

static void
make_dir(const char *rel)
{
	char path[PATH_MAX];

	path_in(path, sizeof(path), rel);
	if (mkdir(path, 0755) == -1 && errno != EEXIST) {
		perror(path);
		exit(2);
	}
}

/* "user A B;" stores its two words verbatim: a window on the lexer */
static void
lexes(const char *args, const char *w1, const char *w2, const char *what)
{
	char text[512];
	struct gen *g;

	snprintf(text, sizeof(text), "user %s;\n", args);
	g = load(text);
	if (g == NULL) {
		ok(0, "lexer: %s", what);
		show_errs();
		return;
	}
	is_str(g->g_main->mc_user, w1, "lexer: %s (1st word)", what);
	is_str(g->g_main->mc_group, w2, "lexer: %s (2nd word)", what);
	conf_free(g);
}

static void
test_lexer(void)
{
	static const struct {
		const char *args, *w1, *w2, *what;
	} cases[] = {
		{ "a b", "a", "b", "bare words" },
		{ "\"a b\" 'c d'", "a b", "c d", "double and single quotes" },
		{ "\"a\\\"b\" 'c\\'d'", "a\"b", "c'd", "escaped quotes" },
		{ "\"a\\\\b\" 'x\\ty\\nz'", "a\\b", "x\ty\nz",
		    "\\\\ \\t \\n in quotes" },
		{ "\"\\r\" '\\\"'", "\r", "\"", "\\r, other quote escaped" },
		{ "\"x\\qy\" 'x\\;'", "x\\qy", "x\\;",
		    "other backslashes kept in quotes" },
		{ "\"a;b{c}#d\" '}'", "a;b{c}#d", "}",
		    "; { } # inside quotes are plain" },
		{ "\"\" ''", "", "", "empty quotes make empty words" },
		{ "\"two\nlines\" x", "two\nlines", "x", "newline in quotes" },
		/* as nginx: kept, and the next character is not special */
		{ "a\\;b c\\ d", "a\\;b", "c\\ d", "backslash in bare words" },
		{ "a\\tb c\\nd", "a\tb", "c\nd", "\\t \\n in bare words" },
		{ "a\\\\b \\\"q", "a\\b", "\"q", "escaped backslash and quote" },
		{ "a#b c#", "a#b", "c#", "# inside a word is a word" },
		{ "a # comment ; }\n b", "a", "b", "# comment to end of line" },
		{ "a${b}c d", "a${b}c", "d", "${var} in a word" },
		/* as in nginx, an unclosed "${" does not eat the ";" */
		{ "a d${e", "a", "d${e", "unclosed ${ in a word" },
		{ "\tx\r\n\n  y  ", "x", "y", "white space" },
	};
	size_t i;

	for (i = 0; i < nitems(cases); i++)
		lexes(cases[i].args, cases[i].w1, cases[i].w2, cases[i].what);
}

static void
test_lexer_misc(void)
{
	struct gen *g;

	/* a brace after "$x" is a block: user takes no block */
	rejects("user $x{y}\n", 1,
	    "directive \"user\" is not terminated by \";\"");

	g = loads("# leading comment\n"
	    "daemon off;# trailing comment\n"
	    "worker_processes 2; # and another\n"
	    "#master_process off;\n", "comments everywhere");
	if (g != NULL) {
		is_int(g->g_main->mc_daemon, 0, "directive before a comment");
		is_int(g->g_main->mc_workers, 2, "directive after a comment");
		is_int(g->g_main->mc_master, 1, "commented-out directive");
	}
	conf_free(g);

	g = loads("user\n  a\n  b\n;", "a directive over several lines");
	if (g != NULL)
		is_str(g->g_main->mc_group, "b", "words on later lines");
	conf_free(g);

	g = loads("daemon off; worker_processes 3;", "two on one line");
	if (g != NULL)
		is_int(g->g_main->mc_workers, 3, "second directive on a line");
	conf_free(g);

	/* lines counted inside quotes and after backslash-newline */
	rejects("user \"a\nb\nc\";\nfoo;\n", 4, "unknown directive \"foo\"");
	rejects("user a\\\nb;\nfoo;\n", 3, "unknown directive \"foo\"");
	rejects("user \"abc\ndef", 1,
	    "unexpected end of file, expecting '\"'");
	rejects("user 'abc", 1,
	    "unexpected end of file, expecting \"'\"");
	/* the rest of the directive is not read as a new one */
	rejects("user \"a\"b;\n", 1, "unexpected \"b\"");

	/* nor is the rest of a word that is too long */
	{
		char text[6000];
		int n;

		n = snprintf(text, sizeof(text), "user ");
		memset(text + n, 'x', 5000);
		snprintf(text + n + 5000, sizeof(text) - n - 5000, ";\n");
		rejects(text, 1, "too long parameter \"xxxxxxxxxxxxxxxxxxxxxxxx"
		    "xxxxxxxx...\" started");
	}
}

static void
test_defaults(void)
{
	char want[PATH_MAX + 64];
	struct conf_main *m;
	struct conf_loc *l;
	struct conf_srv *s;
	struct gen *g;

	g = loads("", "an empty file");
	if (g == NULL)
		return;
	m = g->g_main;
	is_int(m->mc_daemon, 1, "default daemon on");
	is_int(m->mc_master, 1, "default master_process on");
	is_int(m->mc_workers, 1, "default worker_processes 1");
	is_int(m->mc_worker_connections, 512, "default worker_connections");
	is_int(m->mc_multi_accept, 0, "default multi_accept off");
	is_int(m->mc_rlimit_nofile, 0, "default worker_rlimit_nofile");
	is_int(m->mc_shutdown_timeout, 0, "default worker_shutdown_timeout");
	is_str(m->mc_user, "nobody", "default user");
	snprintf(want, sizeof(want), "%s/logs/portico.pid", prefix);
	is_str(m->mc_pid, want, "default pid under the prefix");
	snprintf(want, sizeof(want), "%s/logs/error.log", prefix);
	is_int(m->mc_nerror_logs, 1, "one error log by default");
	is_str(m->mc_error_log[0], want, "default error_log under the prefix");
	is_int(m->mc_error_level[0], LOG_ERR, "default error_log level");
	snprintf(want, sizeof(want), "%s/", prefix);
	is_str(g->g_prefix, want, "prefix gets a trailing slash");
	snprintf(want, sizeof(want), "%s/", confdir);
	is_str(g->g_conf_dir, want, "conf dir");
	ok(g->g_http == NULL && g->g_nlistens == 0, "no http, no listens");
	ok(g->g_files != NULL && strcmp(g->g_files->cf_path, confpath) == 0 &&
	    g->g_files->cf_next == NULL, "g_files holds the main file");
	conf_free(g);

	g = loads("http { server { } }", "http with an empty server");
	if (g == NULL)
		return;
	s = nth_server(g, 0);
	l = s->sc_loc;
	is_int(l->lc_keepalive_timeout, 75000, "default keepalive_timeout");
	is_int(l->lc_keepalive_header, 0, "default keepalive header time");
	is_int(l->lc_keepalive_requests, 1000, "default keepalive_requests");
	is_int(l->lc_send_timeout, 60000, "default send_timeout");
	is_int(s->sc_client_header_timeout, 60000,
	    "default client_header_timeout");
	is_int(l->lc_server_tokens, 1, "default server_tokens on");
	is_str(l->lc_default_type, "text/plain", "default default_type");
	ok(l->lc_types == NULL, "no types by default");
	is_int(RET_CODE(l), UNSET, "no return by default");
	is_int(g->g_nlistens, 1, "one listen");
	is_str(g->g_listens[0].gl_text, "0.0.0.0:8000",
	    "default listen *:8000 when not root");
	is_int(g->g_listens[0].gl_backlog, 511, "default backlog 511");
	is_int(g->g_listens[0].gl_fd, -1, "gl_fd left for the master");
	conf_free(g);

	g = load_with("http { server { } }", NULL, 1);
	ok(g != NULL && strcmp(g->g_listens[0].gl_text, "0.0.0.0:80") == 0,
	    "default listen *:80 as root");
	conf_free(g);
}

static void
test_main_directives(void)
{
	char want[PATH_MAX + 64];
	struct conf_main *m;
	struct gen *g;

	g = loads("daemon off;\n"
	    "master_process OFF;\n"
	    "worker_processes 4;\n"
	    "worker_rlimit_nofile 8192;\n"
	    "worker_shutdown_timeout 1m30s;\n"
	    "pid /run/p.pid;\n"
	    "user www staff;\n"
	    "error_log logs/e.log info;\n"
	    "error_log /var/log/p.log;\n"
	    "error_log stderr debug;\n"
	    "events {\n"
	    "    worker_connections 1024;\n"
	    "    multi_accept on;\n"
	    "    use epoll;\n"
	    "}\n", "every main and events directive");
	if (g == NULL)
		return;
	m = g->g_main;
	is_int(m->mc_daemon, 0, "daemon off");
	is_int(m->mc_master, 0, "master_process OFF (any case)");
	is_int(m->mc_workers, 4, "worker_processes 4");
	is_int(m->mc_rlimit_nofile, 8192, "worker_rlimit_nofile");
	is_int(m->mc_shutdown_timeout, 90000, "worker_shutdown_timeout 1m30s");
	is_str(m->mc_pid, "/run/p.pid", "absolute pid kept");
	is_str(m->mc_user, "www", "user");
	is_str(m->mc_group, "staff", "group");
	snprintf(want, sizeof(want), "%s/logs/e.log", prefix);
	is_int(m->mc_nerror_logs, 3, "three error logs");
	is_str(m->mc_error_log[0], want, "relative error_log under the prefix");
	is_int(m->mc_error_level[0], LOG_INFO, "error_log level");
	is_str(m->mc_error_log[1], "/var/log/p.log", "absolute error_log");
	is_int(m->mc_error_level[1], LOG_ERR, "error_log level defaults to error");
	is_str(m->mc_error_log[2], "stderr", "error_log stderr");
	is_int(m->mc_error_level[2], LOG_DEBUG, "error_log stderr debug");
	is_int(m->mc_worker_connections, 1024, "worker_connections");
	is_int(m->mc_multi_accept, 1, "multi_accept on");
	conf_free(g);

	/* a root master checks the user and group it will switch to */
	g = load_with("user no_such_user_x;\n", NULL, 1);
	ok(g == NULL, "unknown user rejected as root");
	like(errs, err_line(confpath, 1, "getpwnam(\"no_such_user_x\") "
	    "failed"), "unknown user message");
	conf_free(g);
	g = load_with("user root no_such_group_x;\n", NULL, 1);
	like(errs, err_line(confpath, 1, "getgrnam(\"no_such_group_x\") "
	    "failed"), "unknown group message");
	conf_free(g);
	g = load_with("user no_such_user_x;\n", NULL, 0);
	ok(g != NULL, "not checked when not root");
	conf_free(g);

	g = loads("worker_processes auto;", "worker_processes auto");
	if (g != NULL)
		is_int(g->g_main->mc_workers, 0, "worker_processes auto is 0");
	conf_free(g);
}

static void
test_params(void)
{
	struct gen *g;
	char want[PATH_MAX + 128];

	g = load_with("worker_processes 2;\n", "daemon off; pid p.pid;", 0);
	ok(g != NULL && errs[0] == '\0', "-g parameters load");
	if (g != NULL) {
		is_int(g->g_main->mc_daemon, 0, "-g daemon off");
		is_int(g->g_main->mc_workers, 2, "file read as well");
	}
	conf_free(g);

	/* -g comes first, so the file's copy is the duplicate */
	g = load_with("worker_processes 2;\ndaemon on;\n", "daemon off;", 0);
	ok(g == NULL, "directive in -g and in the file rejected");
	like(errs, err_line(confpath, 2, "\"daemon\" directive is duplicate"),
	    "the file's directive is the duplicate: -g is read first");

	g = load_with("daemon on;\nfoo;\n", "bogus 1;", 0);
	ok(g == NULL, "error in -g rejected");
	like(errs, err_line("command line", 1,
	    "unknown directive \"bogus\""), "-g error names \"command line\"");
	like(errs, err_line(confpath, 2, "unknown directive \"foo\""),
	    "the file is still read after a -g error");
	is_int(nerrors(), 2, "both errors reported");

	g = load_with("", "daemon off", 0);
	ok(g == NULL, "unterminated -g rejected");
	like(errs, "command line:1: unexpected end of file, expecting "
	    "\";\" or \"}\"", "unterminated -g message");

	/* a main file that cannot be opened has no FILE:LINE */
	snprintf(want, sizeof(want), "portico: [emerg] open() \"%s/nope.conf\""
	    " failed (2: No such file or directory)\n", prefix);
	g = load_path("nope.conf", NULL, 0);
	ok(g == NULL, "missing main file rejected");
	is_str(errs, want, "missing main file: relative to the prefix");
}

static void
test_inheritance(void)
{
	struct conf_srv *s, *s2;
	struct conf_loc *a, *b, *bc, *bcd;
	struct gen *g;

	g = loads("http {\n"
	    "    keepalive_timeout 1h30m;\n"
	    "    send_timeout 500ms;\n"
	    "    client_header_timeout 5s;\n"
	    "    default_type text/html;\n"
	    "    server {\n"
	    "        keepalive_requests 7;\n"
	    "        return 403;\n"
	    "        location /a { }\n"
	    "        location /b {\n"
	    "            keepalive_timeout 10 20;\n"
	    "            server_tokens off;\n"
	    "            return 204 \"b\";\n"
	    "            location /b/c {\n"
	    "                default_type a/b;\n"
	    "                location /b/c/d { }\n"
	    "            }\n"
	    "        }\n"
	    "    }\n"
	    "    server {\n"
	    "        client_header_timeout 1;\n"
	    "        keepalive_timeout 0;\n"
	    "    }\n"
	    "}\n", "inheritance config");
	if (g == NULL)
		return;
	s = nth_server(g, 0);
	s2 = nth_server(g, 1);
	a = child_loc(s->sc_loc, "/a");
	b = child_loc(s->sc_loc, "/b");
	bc = child_loc(b, "/b/c");
	bcd = child_loc(bc, "/b/c/d");
	if (a == NULL || b == NULL || bc == NULL || bcd == NULL) {
		ok(0, "location tree built");
		conf_free(g);
		return;
	}
	is_int(g->g_http->hc_loc->lc_keepalive_timeout, 5400000,
	    "keepalive_timeout 1h30m in http");
	is_int(s->sc_loc->lc_keepalive_timeout, 5400000,
	    "http keepalive_timeout seen in server");
	is_int(a->lc_keepalive_timeout, 5400000,
	    "http keepalive_timeout seen in a location");
	is_int(b->lc_keepalive_timeout, 10000, "location overrides");
	is_int(b->lc_keepalive_header, 20000, "keepalive header time");
	is_int(bc->lc_keepalive_timeout, 10000, "nested location inherits");
	is_int(bcd->lc_keepalive_timeout, 10000, "two levels down");
	is_int(s2->sc_loc->lc_keepalive_timeout, 0, "0 is a value, not unset");
	is_int(a->lc_send_timeout, 500, "send_timeout 500ms inherited");
	is_int(a->lc_keepalive_requests, 7, "server value in location");
	is_int(s2->sc_loc->lc_keepalive_requests, 1000,
	    "server value not seen in a sibling server");
	is_int(s->sc_client_header_timeout, 5000,
	    "client_header_timeout from http");
	is_int(s2->sc_client_header_timeout, 1000,
	    "client_header_timeout in server");
	is_int(b->lc_server_tokens, 0, "server_tokens off");
	is_int(bcd->lc_server_tokens, 0, "server_tokens off inherited");
	is_int(a->lc_server_tokens, 1, "sibling keeps the default");
	is_str(a->lc_default_type, "text/html", "default_type from http");
	is_str(bcd->lc_default_type, "a/b", "default_type from parent");
	is_int(RET_CODE(s->sc_loc), 403, "server-level return");
	is_int(RET_CODE(a), UNSET, "server return not inherited");
	is_int(RET_CODE(b), 204, "location return");
	is_int(RET_CODE(bc), UNSET, "location return not inherited");
	ok(RET_TEXT(bc) == NULL, "nor its text");
	ok(RET_TEXT(b) != NULL &&
	    strcmp(RET_TEXT(b)->vt_src, "b") == 0, "return text kept");
	conf_free(g);
}

static void
test_return(void)
{
	struct var_tpl *t;
	struct conf_loc *l;
	struct gen *g;

	g = loads("http { server {\n"
	    "    location /a { return 200 \"${host}x $http_x_y\"; }\n"
	    "    location /b { return https://$host$request_uri; }\n"
	    "    location /c { return 301 /moved; }\n"
	    "    location /d { return 444; }\n"
	    "} }\n", "return forms");
	if (g == NULL)
		return;
	l = child_loc(nth_server(g, 0)->sc_loc, "/a");
	t = RET_TEXT(l);
	ok(t != NULL && t->vt_nparts == 3 && t->vt_has_vars &&
	    t->vt_parts[0].vp_var == VAR_HOST &&
	    t->vt_parts[1].vp_var == VAR_LITERAL &&
	    strcmp(t->vt_parts[1].vp_str, "x ") == 0 &&
	    t->vt_parts[2].vp_var == VAR_HTTP_ &&
	    strcmp(t->vt_parts[2].vp_str, "x_y") == 0,
	    "return text compiled with ${host} from a quoted word");
	l = child_loc(nth_server(g, 0)->sc_loc, "/b");
	ok(RET_CODE(l) == 302 && RET_TEXT(l) != NULL &&
	    RET_TEXT(l)->vt_nparts == 3, "bare URL is a 302");
	l = child_loc(nth_server(g, 0)->sc_loc, "/c");
	ok(RET_CODE(l) == 301 && RET_TEXT(l) != NULL &&
	    !RET_TEXT(l)->vt_has_vars, "code and URL");
	l = child_loc(nth_server(g, 0)->sc_loc, "/d");
	ok(RET_CODE(l) == 444 && RET_TEXT(l) == NULL,
	    "code alone");
	conf_free(g);
}

static void
test_errors(void)
{
	static const struct {
		const char *text;
		int line;
		const char *msg;
	} cases[] = {
		{ "foo;\n", 1, "unknown directive \"foo\"" },
		{ "daemon off;\n\nfoo bar {\n}\n", 3,
		    "unknown directive \"foo\"" },
		{ "\n\nlisten 80;\n", 3,
		    "\"listen\" directive is not allowed here" },
		{ "worker_connections 10;", 1,
		    "\"worker_connections\" directive is not allowed here" },
		{ "http {\n  location / { }\n}\n", 2,
		    "\"location\" directive is not allowed here" },
		{ "http {\n  server {\n    daemon off;\n  }\n}\n", 3,
		    "\"daemon\" directive is not allowed here" },
		{ "daemon;\n", 1,
		    "invalid number of arguments in \"daemon\" directive" },
		{ "\ndaemon on off;\n", 2,
		    "invalid number of arguments in \"daemon\" directive" },
		{ "http {\n  server {\n    location { }\n  }\n}\n", 3,
		    "invalid number of arguments in \"location\" directive" },
		{ "daemon off;\n}\n", 2, "unexpected \"}\"" },
		{ "http {\n  server {\n    listen 80 }\n}\n", 3,
		    "unexpected \"}\"" },
		{ ";\n", 1, "unexpected \";\"" },
		{ "events {\n  worker_connections 1;\n", 3,
		    "unexpected end of file, expecting \"}\"" },
		{ "http {\n", 2, "unexpected end of file, expecting \"}\"" },
		{ "daemon\n  off", 2,
		    "unexpected end of file, expecting \";\" or \"}\"" },
		{ "http {\n  server;\n}\n", 2,
		    "directive \"server\" has no opening \"{\"" },
		{ "events;\n", 1, "directive \"events\" has no opening \"{\"" },
		{ "\ndaemon off {\n  foo;\n}\n", 2,
		    "directive \"daemon\" is not terminated by \";\"" },
		{ "daemon on;\ndaemon off;\n", 2,
		    "\"daemon\" directive is duplicate" },
		{ "http { }\nhttp { }\n", 2, "\"http\" directive is duplicate" },
		{ "events { }\nevents { }\n", 2,
		    "\"events\" directive is duplicate" },
		{ "pid a;\npid b;\n", 2, "\"pid\" directive is duplicate" },
		{ "error_log a;\nerror_log b;\nerror_log c;\nerror_log d;\n"
		    "error_log e;\n", 5, "too many \"error_log\" directives "
		    "(at most 4)" },
		{ "http {\nkeepalive_timeout 1;\nkeepalive_timeout 2;\n}\n", 3,
		    "\"keepalive_timeout\" directive is duplicate" },
		{ "http { server {\nrewrite ^ /x bogus;\n} }\n", 2,
		    "invalid parameter \"bogus\"" },
		{ "http { server {\nset foo 1;\n} }\n", 2,
		    "invalid variable name \"foo\"" },
		{ "http { server {\nset $uri 1;\n} }\n", 2,
		    "the duplicate \"uri\" variable" },
		{ "http { server {\nerror_page 200 /x;\n} }\n", 2,
		    "value \"200\" must be between 300 and 599" },
		{ "http { server {\nerror_page 404 =x /x;\n} }\n", 2,
		    "invalid value \"=x\"" },
		{ "http {\nmap $uri $m {\na 1;\na 2;\n}\n}\n", 4,
		    "conflicting parameter \"a\"" },
		{ "http {\nmap $uri $m {\ndefault 1;\ndefault 2;\n}\n}\n", 4,
		    "duplicate default map parameter" },
		{ "http {\nmap $uri $m {\na 1 2;\n}\n}\n", 3,
		    "invalid number of the map parameters" },
		{ "http {\nmap $uri $m {\nhostnames;\nw.*.com 1;\n}\n}\n", 4,
		    "invalid hostname or wildcard \"w.*.com\"" },
		{ "http {\nserver {\nreturn 200 $nope;\n}\n}\n", 3,
		    "unknown \"nope\" variable" },
		{ "http { server {\nif $a { }\n} }\n", 2,
		    "invalid condition \"$a\"" },
		{ "http { server {\nif (a) { }\n} }\n", 2,
		    "invalid condition \"(a)\"" },
		{ "http { server {\nif ($a = b c) { }\n} }\n", 2,
		    "invalid condition \"($a\"" },
		{ "http { server {\nif ($a < b) { }\n} }\n", 2,
		    "unexpected \"<\" in condition" },
		{ "http { server {\nif (-f $uri) { }\n} }\n", 2,
		    "the file tests of \"if\" (-f) are not supported yet" },
		{ "http { server {\nif ($a) {\nif ($b) { }\n}\n} }\n", 3,
		    "\"if\" directive is not allowed here" },
		{ "http { server {\nif ($a) {\nlisten 80;\n}\n} }\n", 3,
		    "\"listen\" directive is not allowed here" },
		{ "daemon yes;\n", 1, "invalid value \"yes\" in \"daemon\" "
		    "directive, it must be \"on\" or \"off\"" },
		{ "worker_processes many;\n", 1,
		    "invalid value \"many\" in \"worker_processes\" directive" },
		{ "worker_processes 0;\n", 1,
		    "invalid value \"0\" in \"worker_processes\" directive" },
		{ "events {\n worker_connections 1k;\n}\n", 2, "invalid value "
		    "\"1k\" in \"worker_connections\" directive" },
		{ "http { keepalive_requests -1; }\n", 1, "invalid value "
		    "\"-1\" in \"keepalive_requests\" directive" },
		{ "http { send_timeout 10q; }\n", 1,
		    "invalid value \"10q\" in \"send_timeout\" directive" },
		{ "http { keepalive_timeout 1s1m; }\n", 1, "invalid value "
		    "\"1s1m\" in \"keepalive_timeout\" directive" },
		{ "worker_shutdown_timeout ms;\n", 1, "invalid value \"ms\" "
		    "in \"worker_shutdown_timeout\" directive" },
		{ "error_log x.log loud;\n", 1, "invalid log level \"loud\"" },
		{ "events { use kqueue; }\n", 1, "invalid event type \"kqueue\"" },
		{ "http { server {\n listen 127.0.0.1:http;\n} }\n", 2,
		    "invalid port in \"127.0.0.1:http\" of the \"listen\" "
		    "directive" },
		{ "http { server { listen 0; } }\n", 1,
		    "invalid port in \"0\" of the \"listen\" directive" },
		{ "http { server { listen 127.0.0.1:70000; } }\n", 1,
		    "invalid port in \"127.0.0.1:70000\" of the \"listen\" "
		    "directive" },
		{ "http { server { listen 127.0.0.1:; } }\n", 1,
		    "invalid port in \"127.0.0.1:\" of the \"listen\" "
		    "directive" },
		{ "http { server { listen [::1]x; } }\n", 1,
		    "invalid port in \"[::1]x\" of the \"listen\" directive" },
		{ "http { server { listen [::1; } }\n", 1,
		    "invalid IPv6 address in \"[::1\" of the \"listen\" "
		    "directive" },
		/* nginx: a number alone is a port, and 65536 is not one */
		{ "http { server { listen 65536; } }\n", 1,
		    "invalid port in \"65536\" of the \"listen\" directive" },
		/* as nginx: the default server of a TLS address needs one */
		{ "http { server { listen 8001 ssl; } }\n", 1, "no "
		    "\"ssl_certificate\" is defined for the \"listen ... ssl\" "
		    "directive" },
		{ "http { server { listen 8001 http2; } }\n", 1, "the \"http2\" "
		    "parameter of \"listen\" is not supported yet" },
		{ "http { server { listen 8001 fast; } }\n", 1,
		    "invalid parameter \"fast\"" },
		{ "http { server { listen 8001 backlog=0; } }\n", 1,
		    "invalid backlog \"backlog=0\"" },
		{ "http { server { listen unix:/tmp/s; } }\n", 1,
		    "unix domain sockets in \"listen\" are not supported yet" },
		{ "http { server {\nlisten 8001;\nlisten *:8001;\n} }\n", 3,
		    "duplicate listen 0.0.0.0:8001" },
		{ "http {\n"
		    "  server { listen 127.0.0.1:8001 default_server; }\n"
		    "  server { listen 127.0.0.1:8002; }\n"
		    "  server {\n"
		    "    listen 127.0.0.1:8002;\n"
		    "    listen 127.0.0.1:8001 default;\n"
		    "  }\n"
		    "}\n", 6,
		    "a duplicate default server for 127.0.0.1:8001" },
		{ "http { server {\n location /x { }\n location /x { }\n} }\n",
		    3, "duplicate location \"/x\"" },
		{ "http { server {\nlocation /x { }\nlocation ^~ /x { }\n} }\n",
		    3, "duplicate location \"/x\"" },
		{ "http { server {\nlocation =/x { }\nlocation = /x { }\n} }\n",
		    3, "duplicate location \"/x\"" },
		{ "http { server {\n  location /a {\n    location /b { }\n"
		    "  }\n} }\n", 3, "location \"/b\" is outside location "
		    "\"/a\"" },
		{ "http { server {\n  location = /a {\n    location /a/b { }\n"
		    "  }\n} }\n", 3, "location \"/a/b\" cannot be inside the "
		    "exact location \"/a\"" },
		{ "http { server {\n  location /a {\n    location @n { }\n"
		    "  }\n} }\n", 3, "named location \"@n\" can be on the "
		    "server level only" },
		{ "http { server {\n  location @n {\n    location /a { }\n"
		    "  }\n} }\n", 3, "location \"/a\" cannot be inside the "
		    "named location \"@n\"" },
		{ "http { server { location ~ \"a(\" { } } }\n", 1,
		    "pcre2_compile() failed: missing closing parenthesis in "
		    "\"a(\" at \"\"" },
		{ "http { server { location /a { location ~ x {\n"
		    "location /b { } } } } }\n", 2,
		    "location \"/b\" is outside location \"x\"" },
		{ "http { server { location ! /x { } } }\n", 1,
		    "invalid location modifier \"!\"" },
		{ "http { server { server_name ~^w[; } }\n", 1,
		    "pcre2_compile() failed: missing terminating ] for "
		    "character class in \"^w[\" at \"\"" },
		{ "http { server { server_name w*w.a.com; } }\n", 1,
		    "invalid server name or wildcard \"w*w.a.com\"" },
		{ "http { server {\n  return 200 \"x $foo\";\n} }\n", 2,
		    "unknown \"foo\" variable" },
		{ "http { server { return 302 \"${host\"; } }\n", 1,
		    "the closing bracket in \"host\" variable is missing" },
		{ "http { server { return abc; } }\n", 1,
		    "invalid return code \"abc\"" },
		{ "http {\n  types {\n    text/html {\n    }\n  }\n}\n", 3,
		    "unexpected \"{\"" },
		{ "http { types { text/html; } }\n", 1,
		    "invalid number of arguments in types" },
	};
	size_t i;

	for (i = 0; i < nitems(cases); i++)
		rejects(cases[i].text, cases[i].line, cases[i].msg);
}

/* several errors in one file: all of them, in order, at the right lines */
static void
test_many_errors(void)
{
	static const struct {
		int line;
		const char *msg;
	} want[] = {
		{ 1, "invalid value \"maybe\" in \"daemon\" directive, it must "
		    "be \"on\" or \"off\"" },
		{ 2, "unknown directive \"foo\"" },
		{ 4, "invalid number of arguments in \"server_tokens\" "
		    "directive" },
		{ 6, "invalid port in \"127.0.0.1:99999\" of the \"listen\" "
		    "directive" },
		{ 8, "invalid value \"abc\" in \"keepalive_timeout\" "
		    "directive" },
		{ 13, "\"listen\" directive is not allowed here" },
		{ 15, "invalid value \"0\" in \"worker_processes\" directive" },
	};
	char text[8192];
	const char *p;
	struct gen *g;
	size_t i;
	int n, in_order = 1;

	g = load("daemon maybe;\n"			/* 1 */
	    "foo;\n"					/* 2 */
	    "http {\n"					/* 3 */
	    "    server_tokens on off;\n"		/* 4 */
	    "    server {\n"				/* 5 */
	    "        listen 127.0.0.1:99999;\n"		/* 6 */
	    "        location /a {\n"			/* 7 */
	    "            keepalive_timeout\n"		/* 8 */
	    "                abc;\n"			/* 9 */
	    "        }\n"				/* 10 */
	    "        listen 8001;\n"			/* 11 */
	    "    }\n"					/* 12 */
	    "    listen 8002;\n"			/* 13 */
	    "}\n"					/* 14 */
	    "worker_processes 0;\n");			/* 15 */
	ok(g == NULL, "a file with seven errors is rejected");
	is_int(nerrors(), (int)nitems(want), "all seven errors reported");
	for (i = 0, p = errs; i < nitems(want); i++) {
		const char *e = err_line(confpath, want[i].line, want[i].msg);
		const char *at = strstr(errs, e);

		like(errs, e, "error %zu at line %d", i + 1, want[i].line);
		if (at == NULL || at < p)
			in_order = 0;
		else
			p = at;
	}
	ok(in_order, "errors reported in file order");
	conf_free(g);

	/* more than CONF_MAX_ERRORS: the first 50, then a note */
	for (i = 0, n = 0; i < 60; i++)
		n += snprintf(text + n, sizeof(text) - n, "bad%zu;\n", i + 1);
	g = load(text);
	ok(g == NULL, "60 errors rejected");
	is_int(nerrors(), 51, "50 errors and one note shown");
	like(errs, err_line(confpath, 50, "unknown directive \"bad50\""),
	    "the 50th error shown");
	ok(strstr(errs, "bad51") == NULL, "the 51st not shown");
	like(errs, "portico: [emerg] too many errors, not reporting the "
	    "rest\n", "the note");
	conf_free(g);

	/* one unclosed block is one error, not one per enclosing block */
	g = load("http {\n  server {\n    location / {\n");
	is_int(nerrors(), 1, "unclosed nested blocks: one error");
	like(errs, err_line(confpath, 4,
	    "unexpected end of file, expecting \"}\""), "at the last line");
	conf_free(g);

	/* an error in a block does not end the block */
	g = load("http {\n  foo;\n  server { listen 8001; }\n  bar;\n}\n"
	    "baz;\n");
	is_int(nerrors(), 3, "reading goes on in and after a block");
	like(errs, err_line(confpath, 4, "unknown directive \"bar\""),
	    "error after a good block inside http");
	conf_free(g);
}

static void
test_include(void)
{
	char path[PATH_MAX], want[PATH_MAX + 128];
	struct conf_file *f;
	struct conf_srv *s;
	struct conf_loc *l;
	struct gen *g;
	int i;

	make_dir("names");
	make_dir("names/dir.conf");		/* a directory: skipped */
	put_file("names/b.conf", "server_name b;\n");
	put_file("names/a.conf", "server_name a;\n");
	put_file("names/c.conf", "server_name c1 c2;\n");
	put_file("names/z.txt", "bogus;\n");
	put_file("loc.inc", "return 204;\n");

	g = loads("http {\n"
	    "    server {\n"
	    "        include names/*.conf;\n"
	    "        include names/*.none;\n"
	    "        location /x {\n"
	    "            include loc.inc;\n"
	    "        }\n"
	    "    }\n"
	    "}\n", "glob include, relative to the config's directory");
	if (g == NULL)
		return;
	s = nth_server(g, 0);
	ok(s->sc_nnames == 4 && strcmp(s->sc_names[0], "a") == 0 &&
	    strcmp(s->sc_names[1], "b") == 0 &&
	    strcmp(s->sc_names[2], "c1") == 0 &&
	    strcmp(s->sc_names[3], "c2") == 0,
	    "glob matches read in sorted order, in server context");
	l = child_loc(s->sc_loc, "/x");
	ok(l != NULL && RET_CODE(l) == 204,
	    "include in a location: location context");
	for (f = g->g_files, i = 0; f != NULL; f = f->cf_next, i++) {
		static const char *const order[] = {
			"portico.conf", "names/a.conf", "names/b.conf",
			"names/c.conf", "loc.inc",
		};

		path_in(path, sizeof(path), i < 5 ? order[i] : "?");
		if (strcmp(f->cf_path, path) != 0)
			break;
	}
	ok(f == NULL && i == 5, "g_files lists every file in reading order");
	conf_free(g);

	/* absolute path; included in main and http context */
	path_in(path, sizeof(path), "main.inc");
	put_file("main.inc", "worker_processes 3;\n");
	put_file("http.inc", "keepalive_timeout 5;\n");
	snprintf(want, sizeof(want), "include %s;\nhttp {\n"
	    "include http.inc;\n}\n", path);
	g = loads(want, "absolute include, main and http contexts");
	ok(g != NULL && g->g_main->mc_workers == 3 &&
	    g->g_http->hc_loc->lc_keepalive_timeout == 5000,
	    "included directives belong to the including context");
	conf_free(g);

	/* portico.conf(5): "a pattern that matches nothing is not an error" */
	g = loads("include nodir/*.conf;\n", "glob in a missing directory");
	conf_free(g);

	/* a missing plain file is an error at the include's line */
	path_in(path, sizeof(path), "missing.conf");
	snprintf(want, sizeof(want), "open() \"%s\" failed (2: No such file "
	    "or directory)", path);
	rejects("daemon off;\n\ninclude missing.conf;\n", 3, want);

	/* errors in an included file name that file and its lines */
	put_file("bad.inc", "\n\nlisten 8001;\n");
	path_in(path, sizeof(path), "bad.inc");
	g = load("http {\n  include bad.inc;\n  foo;\n}\n");
	ok(g == NULL, "error in an included file rejected");
	like(errs, err_line(path, 3,
	    "\"listen\" directive is not allowed here"),
	    "error names the included file and its line");
	like(errs, err_line(confpath, 3, "unknown directive \"foo\""),
	    "line numbers of the including file are kept");
	is_int(nerrors(), 2, "both errors");
	conf_free(g);

	/* a file that includes itself */
	put_file("loop.inc", "include loop.inc;\n");
	path_in(path, sizeof(path), "loop.inc");
	g = load("include loop.inc;\n");
	ok(g == NULL, "include loop rejected");
	is_int(nerrors(), 1, "include loop: one error");
	like(errs, err_line(path, 1, "includes nested too deeply (a loop?)"),
	    "include loop message");
	conf_free(g);

	/* types { include file; }: allowed by portico.conf(5) */
	put_file("x.types", "text/x-foo foo;\n");
	g = loads("http { types { text/html html; include x.types; } }",
	    "include inside types");
	ok(g != NULL && g->g_http->hc_loc->lc_types != NULL &&
	    conf_mime_type(g->g_http->hc_loc, "foo", 3) != NULL &&
	    strcmp(conf_mime_type(g->g_http->hc_loc, "foo", 3),
	    "text/x-foo") == 0, "include inside types reads the file");
	ok(g == NULL || conf_mime_type(g->g_http->hc_loc, "x.types", 7) ==
	    NULL, "include inside types is not a type named \"include\"");
	conf_free(g);
}

/* lingering_* and reset_timedout_connection: nginx's defaults, inherited */
static void
test_lingering(void)
{
	struct conf_loc *l, *x;
	struct gen *g;

	g = loads("http {\n"
	    "  server { listen 8001; }\n"
	    "  server { listen 8002; lingering_close always;\n"
	    "      lingering_time 10s; reset_timedout_connection on;\n"
	    "      location /x { lingering_close off; lingering_timeout 2s; }\n"
	    "  }\n"
	    "}\n", "lingering directives");
	if (g == NULL)
		return;
	l = nth_server(g, 0)->sc_loc;
	ok(l->lc_lingering_close == LINGER_ON && l->lc_lingering_time == 30000 &&
	    l->lc_lingering_timeout == 5000 && l->lc_reset_timedout == 0,
	    "defaults: on, 30s, 5s, reset off");
	l = nth_server(g, 1)->sc_loc;
	x = child_loc(l, "/x");
	ok(l->lc_lingering_close == LINGER_ALWAYS &&
	    l->lc_lingering_time == 10000 && l->lc_reset_timedout == 1,
	    "set in a server");
	ok(x != NULL && x->lc_lingering_close == LINGER_OFF &&
	    x->lc_lingering_time == 10000 && x->lc_lingering_timeout == 2000 &&
	    x->lc_reset_timedout == 1, "inherited by its location");
	conf_free(g);
	rejects("http {\n lingering_close sometimes;\n}\n", 2,
	    "invalid value \"sometimes\" in \"lingering_close\" directive, "
	    "it must be \"off\", \"on\" or \"always\"");
}

/* the shipped configuration and mime.types load as they are */
static void
test_shipped_conf(void)
{
	char path[PATH_MAX];
	struct conf_loc *sl;
	struct gen *g;

	if (realpath("conf/portico.conf", path) == NULL) {
		ok(1, "# skip conf/portico.conf not found from %s",
		    getcwd(path, sizeof(path)) ? path : "?");
		return;
	}
	g = load_path(path, NULL, 0);
	ok(g != NULL, "conf/portico.conf loads");
	if (g == NULL) {
		show_errs();
		return;
	}
	sl = nth_server(g, 0)->sc_loc;
	is_str(conf_mime_type(sl, "html", 4), "text/html",
	    "mime.types included");
	is_str(loc_label(conf_find_location(sl, "/health", 7, NULL)), "=/health",
	    "location = /health");
	conf_free(g);
}

static void
test_too_many_args(void)
{
	char text[1024];
	struct gen *g;
	int i, n;

	/* nginx allows any number of names; so must a config it loads */
	n = snprintf(text, sizeof(text), "http { server { server_name");
	for (i = 0; i < 20; i++)
		n += snprintf(text + n, sizeof(text) - n, " n%d.com", i);
	snprintf(text + n, sizeof(text) - n, "; } }\n");
	g = load(text);
	ok(g != NULL && nth_server(g, 0)->sc_nnames == 20,
	    "server_name with 20 names");
	if (g == NULL)
		show_errs();
	conf_free(g);
}

static void
test_print_directives(void)
{
	const struct conf_cmd *c;
	char *out = NULL, buf[128];
	size_t len = 0;
	FILE *fp;
	int n = 0, lines = 0, well_formed = 1;
	const char *p, *e;

	fp = open_memstream(&out, &len);
	conf_print_directives(fp);
	fclose(fp);
	for (c = conf_cmds; c->c_name != NULL; c++)
		if (conf_cmd_find(c->c_name) == c)
			n++;
	for (p = out; *p; p = e + 1) {
		const char *tab = strchr(p, '\t');

		if ((e = strchr(p, '\n')) == NULL)
			break;
		lines++;
		if (tab == NULL || tab > e || tab == p || tab + 1 == e ||
		    memchr(tab + 1, '\t', e - tab - 1) != NULL)
			well_formed = 0;
	}
	is_int(lines, n, "one line per directive name");
	like(out, "\nserver\thttp,upstream\n",
	    "a name of two directives: one line, both contexts");
	ok(well_formed, "every line is name<TAB>contexts");
	like(out, "daemon\tmain\n", "daemon line");
	like(out, "\ninclude\tmain,events,http,server,location,types,upstream,map,if\n",
	    "include line lists every context");
	like(out, "\nworker_connections\tevents\n", "events directive");
	like(out, "\nlocation\tserver,location\n", "location line");
	like(out, "\nkeepalive_timeout\thttp,server,location,upstream\n",
	    "keepalive_timeout line");
	is_str(conf_ctx_names(CTX_HTTP | CTX_TYPES, buf, sizeof(buf)),
	    "http,types", "conf_ctx_names");
	free(out);
}

int
main(void)
{
	prefix_setup();

	test_lexer();
	test_lexer_misc();
	test_defaults();
	test_main_directives();
	test_params();
	test_inheritance();
	test_return();
	test_errors();
	test_many_errors();
	test_include();
	test_lingering();
	test_shipped_conf();
	test_too_many_args();
	test_print_directives();

	prefix_cleanup();
	return tap_done();
}
