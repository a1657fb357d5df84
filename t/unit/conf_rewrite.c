/*
 * unit tests for common/conf_rewrite.c: the map lookup (conf_map_find)
 * in nginx's order, on maps read by the real config reader, and the
 * rewrite programs the directives compile to.
 */
#include "../../common/conf_rewrite.c"
#include "tap.h"

#include <stdlib.h>

static char prefix[64];

static struct gen *
load(const char *text)
{
	char path[128];
	FILE *fp;

	snprintf(path, sizeof(path), "%sportico.conf", prefix);
	if ((fp = fopen(path, "w")) == NULL)
		return NULL;
	fputs(text, fp);
	fclose(fp);
	return conf_load(prefix, path, NULL, 0);
}

static struct conf_map *
map_named(struct gen *g, const char *var)
{
	struct conf_map *m;

	if (g == NULL || g->g_http == NULL)
		return NULL;
	for (m = g->g_http->hc_maps; m != NULL; m = m->mp_next)
		if (strcmp(var_user_name(m->mp_slot), var) == 0)
			return m;
	return NULL;
}

/* the source of the value found for v, or "(default)" */
static const char *
find(const struct conf_map *m, const char *v, struct regex_captures *cap)
{
	const struct var_tpl *t;

	if (m == NULL)
		return "(no map)";
	t = conf_map_find(m, v, strlen(v), cap);
	return t != NULL ? t->vt_src : "(default)";
}

static void
test_plain(struct gen *g)
{
	struct conf_map *m = map_named(g, "plain");
	struct regex_captures cap;
	const char *p;
	size_t len;

	memset(&cap, 0, sizeof(cap));
	ok(m != NULL && !m->mp_hostnames, "map $plain read");
	is_str(find(m, "abc", &cap), "exact", "exact key");
	is_str(find(m, "ABC", &cap), "exact", "exact key, other case");
	is_str(find(m, "", &cap), "empty", "'' is the empty string");
	is_str(find(m, "abcd", &cap), "(default)", "no prefix matching");
	is_str(find(m, "*.w.com", &cap), "literal", "no wildcards without "
	    "hostnames");
	is_str(find(m, "x.w.com", &cap), "(default)", "so not a wildcard");
	is_str(find(m, "default", &cap), "backslashed",
	    "\\default is a key");
	is_str(find(m, "zz", &cap), "zz-exact", "an exact key beats a regex");
	is_str(find(m, "re12", &cap), "re-$1", "regex");
	ok(regex_capture(&cap, 1, &p, &len) && len == 2 &&
	    memcmp(p, "12", 2) == 0, "its capture $1");
	is_str(find(m, "first-second", &cap), "first",
	    "regexes in order: the first match wins");
	is_str(find(m, "CaseLess", &cap), "caseless", "~* is caseless");
	is_str(find(m, "CASE", &cap), "(default)", "~ is not");
	is_str(find(m, "case", &cap), "case", "~ matches its own case");
	ok(m != NULL && m->mp_default != NULL &&
	    strcmp(m->mp_default->vt_src, "def") == 0, "default kept");
}

static void
test_hostnames(struct gen *g)
{
	struct conf_map *m = map_named(g, "h");
	struct regex_captures cap;

	memset(&cap, 0, sizeof(cap));
	ok(m != NULL && m->mp_hostnames, "map $h read, hostnames");
	is_str(find(m, "a.com", &cap), "exact", "exact");
	is_str(find(m, "a.com.", &cap), "exact", "a trailing dot is ignored");
	is_str(find(m, "x.w.com", &cap), "head", "*.w.com");
	is_str(find(m, "w.com", &cap), "(default)", "*.w.com is not w.com");
	is_str(find(m, "y.a.w.com", &cap), "longer-head",
	    "the longest leading wildcard");
	is_str(find(m, "a.w.com", &cap), "head",
	    "*.a.w.com is not a.w.com");
	is_str(find(m, "d.com", &cap), "dot", ".d.com is d.com");
	is_str(find(m, "x.y.d.com", &cap), "dot", "and *.d.com");
	is_str(find(m, "www.t.net", &cap), "tail", "www.t.*");
	is_str(find(m, "www.t.co.uk", &cap), "tail-longer",
	    "the longest trailing wildcard");
	is_str(find(m, "www.t", &cap), "(default)", "www.t.* is not www.t");
	is_str(find(m, "head.t.org", &cap), "head-first",
	    "a leading wildcard beats a trailing one");
	is_str(find(m, "www.t.x.w.com", &cap), "head",
	    "leading before trailing, again");
	is_str(find(m, "re.test", &cap), "regex", "then the regexes");
	is_str(find(m, "", &cap), "(default)", "empty: no regex tried");
}

static void
test_program(struct gen *g)
{
	struct conf_srv *s = g != NULL ? g->g_http->hc_servers : NULL;
	const struct conf_rw *rw;
	int n = 0;

	ok(s != NULL && s->sc_loc->lc_rw != NULL, "server program read");
	if (s == NULL)
		return;
	rw = s->sc_loc->lc_rw;
	ok(rw->rw_op == RW_SET && rw->rw_slot >= 0, "1: set");
	rw = rw->rw_next;
	ok(rw != NULL && rw->rw_op == RW_REWRITE && rw->rw_flag ==
	    RW_FLAG_LAST && !rw->rw_redirect && rw->rw_add_args &&
	    rw->rw_args != NULL && strcmp(rw->rw_uri->vt_src, "/b/$1") == 0 &&
	    strcmp(rw->rw_args->vt_src, "x=1") == 0,
	    "2: rewrite last, args split at '?'");
	rw = rw != NULL ? rw->rw_next : NULL;
	ok(rw != NULL && rw->rw_op == RW_REWRITE && !rw->rw_add_args &&
	    rw->rw_args == NULL && rw->rw_flag == RW_FLAG_BREAK,
	    "3: a trailing '?' drops the args");
	rw = rw != NULL ? rw->rw_next : NULL;
	ok(rw != NULL && rw->rw_redirect && rw->rw_code == 302,
	    "4: an http:// replacement is a 302");
	rw = rw != NULL ? rw->rw_next : NULL;
	ok(rw != NULL && rw->rw_redirect && rw->rw_code == 301,
	    "5: permanent is a 301");
	rw = rw != NULL ? rw->rw_next : NULL;
	ok(rw != NULL && rw->rw_op == RW_BREAK, "6: break");
	rw = rw != NULL ? rw->rw_next : NULL;
	ok(rw != NULL && rw->rw_op == RW_RETURN && rw->rw_code == 200,
	    "7: return");
	rw = rw != NULL ? rw->rw_next : NULL;
	ok(rw != NULL && rw->rw_op == RW_SET && rw->rw_set_args,
	    "8: set $args");
	for (rw = s->sc_loc->lc_rw; rw != NULL; rw = rw->rw_next)
		n++;
	is_int(n, 8, "eight ops in config order");
}

int
main(void)
{
	struct gen *g;

	log_open("/dev/null", LOG_DEBUG);
	snprintf(prefix, sizeof(prefix), "/tmp/portico-unit-XXXXXX");
	if (mkdtemp(prefix) == NULL)
		return 1;
	prefix[strlen(prefix) + 1] = '\0';
	prefix[strlen(prefix)] = '/';
	g = load("events {}\n"
	    "http {\n"
	    "map $uri $plain {\n"
	    "  default def;\n"
	    "  abc exact;\n"
	    "  '' empty;\n"
	    "  *.w.com literal;\n"
	    "  \\default backslashed;\n"
	    "  ~^re(\\d+)$ re-$1;\n"
	    "  ~^first first;\n"
	    "  ~second second;\n"
	    "  ~*^caseless caseless;\n"
	    "  ~^case$ case;\n"
	    "  ~^zz$ zz-regex;\n"
	    "  zz zz-exact;\n"
	    "}\n"
	    "map $host $h {\n"
	    "  hostnames;\n"
	    "  default def;\n"
	    "  a.com exact;\n"
	    "  ~^re\\.test$ regex;\n"
	    "  *.w.com head;\n"
	    "  *.a.w.com longer-head;\n"
	    "  .d.com dot;\n"
	    "  www.t.* tail;\n"
	    "  www.t.co.* tail-longer;\n"
	    "  head.t.* tail-second;\n"
	    "  *.t.org head-first;\n"
	    "}\n"
	    "server {\n"
	    "  set $v 1;\n"
	    "  rewrite ^/a/(.*)$ /b/$1?x=1 last;\n"
	    "  rewrite ^/c$ /d? break;\n"
	    "  rewrite ^/e$ http://x/;\n"
	    "  rewrite ^/f$ /g permanent;\n"
	    "  break;\n"
	    "  return 200 $v$plain$h;\n"
	    "  set $args a=1;\n"
	    "}\n"
	    "}\n");
	ok(g != NULL, "config with maps and a program loads");
	test_plain(g);
	test_hostnames(g);
	test_program(g);
	conf_free(g);
	{
		char cmd[128];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", prefix);
		if (system(cmd) != 0)
			ok(0, "temporary prefix removed");
	}
	return tap_done();
}
