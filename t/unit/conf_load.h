/*
 * conf_load.h: what the unit tests of the config reader share: a
 * temporary prefix, conf_load() with stderr captured, and ways into the
 * loaded tree.  #included after the .c files under test.
 *
 * Every config is written to PREFIX/conf/portico.conf in a mkdtemp()
 * prefix; what conf_load() prints on fd 2 is captured into errs[].
 */
#ifndef PORTICO_T_CONF_LOAD_H
#define PORTICO_T_CONF_LOAD_H

#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>

#include "tap.h"

static char prefix[64];			/* mkdtemp(), no trailing slash */
static char confdir[128];		/* prefix/conf */
static char confpath[192];		/* prefix/conf/portico.conf */
static char errs[1 << 16];		/* stderr of the last load */

/* each program uses some of these helpers, none uses all */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"

static void
path_in(char *buf, size_t len, const char *rel)
{
	snprintf(buf, len, "%s/%s", confdir, rel);
}

/* write text to confdir/rel */
static void
put_file(const char *rel, const char *text)
{
	char path[PATH_MAX];
	FILE *fp;

	path_in(path, sizeof(path), rel);
	if ((fp = fopen(path, "w")) == NULL) {
		perror(path);
		exit(2);
	}
	fputs(text, fp);
	fclose(fp);
}

/* conf_load() the file at path, with fd 2 captured into errs[] */
static struct gen *
load_path(const char *path, const char *params, int is_root)
{
	char tmp[128];
	struct gen *g;
	ssize_t n;
	int fd, saved;

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
	g = conf_load(prefix, path, params, is_root);
	dup2(saved, 2);
	close(saved);
	n = pread(fd, errs, sizeof(errs) - 1, 0);
	errs[n > 0 ? n : 0] = '\0';
	close(fd);
	return g;
}

static struct gen *
load_with(const char *text, const char *params, int is_root)
{
	put_file("portico.conf", text);
	return load_path(confpath, params, is_root);
}

static struct gen *
load(const char *text)
{
	return load_with(text, NULL, 0);
}

static int
count_in_errs(const char *needle)
{
	const char *p = errs;
	int n = 0;

	while ((p = strstr(p, needle)) != NULL) {
		n++;
		p += strlen(needle);
	}
	return n;
}

static int
nerrors(void)
{
	return count_in_errs("[emerg]");
}

/* the start-up form of one config error */
static const char *
err_line(const char *file, int line, const char *msg)
{
	static char buf[4][1024];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "portico: [emerg] %s:%d: %s\n",
	    file, line, msg);
	return buf[i];
}

/* text as TAP comment lines */
static void
diag_text(const char *label, const char *text)
{
	const char *p, *e;

	printf("#   %s:\n", label);
	for (p = text; *p != '\0'; p = e + (*e != '\0')) {
		if ((e = strchr(p, '\n')) == NULL)
			e = p + strlen(p);
		printf("#     %.*s%s\n", (int)MIN(e - p, 160), p,
		    e - p > 160 ? "..." : "");
	}
}

static void
show_errs(void)
{
	diag_text("stderr was", errs);
}

/* text is rejected with exactly one error: msg at confpath:line */
static void
rejects(const char *text, int line, const char *msg)
{
	struct gen *g = load(text);
	const char *want = err_line(confpath, line, msg);
	int good = g == NULL && nerrors() == 1 && strstr(errs, want) != NULL;

	ok(good, "line %d: %s", line, msg);
	if (!good) {
		diag_text("wanted exactly", want);
		diag_text("config", text);
		show_errs();
	}
	conf_free(g);
}

/* text loads without any error */
static struct gen *
loads(const char *text, const char *what)
{
	struct gen *g = load(text);

	ok(g != NULL && errs[0] == '\0', "loads: %s", what);
	if (g == NULL || errs[0] != '\0')
		show_errs();
	return g;
}

static struct conf_srv *
nth_server(struct gen *g, int n)
{
	struct conf_srv *s;

	if (g == NULL || g->g_http == NULL)
		return NULL;
	for (s = g->g_http->hc_servers; s != NULL && n > 0; s = s->sc_next)
		n--;
	return s;
}

/* "=/x", "^~/x", "@x", "/x", or "(server)" for a server's own conf */
static const char *
loc_label(const struct conf_loc *l)
{
	static char buf[256];

	if (l == NULL)
		return "(null)";
	if (l->lc_name == NULL)
		return "(server)";
	snprintf(buf, sizeof(buf), "%s%s",
	    l->lc_match == LOC_EXACT ? "=" :
	    l->lc_match == LOC_NOREGEX ? "^~" : "", l->lc_name);
	return buf;
}

static struct conf_loc *
child_loc(struct conf_loc *parent, const char *name)
{
	struct conf_loc *l;

	for (l = parent ? parent->lc_children : NULL; l != NULL;
	    l = l->lc_next)
		if (strcmp(l->lc_name, name) == 0)
			return l;
	return NULL;
}

static struct gen_listen *
listen_by_text(struct gen *g, const char *text)
{
	int i;

	for (i = 0; g != NULL && i < g->g_nlistens; i++)
		if (strcmp(g->g_listens[i].gl_text, text) == 0)
			return &g->g_listens[i];
	return NULL;
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	return remove(path);
}

/* a fresh prefix with its conf/ directory; errors go to stderr */
static void
prefix_setup(void)
{
	snprintf(prefix, sizeof(prefix), "/tmp/portico-conf-XXXXXX");
	if (mkdtemp(prefix) == NULL) {
		perror("mkdtemp");
		exit(2);
	}
	snprintf(confdir, sizeof(confdir), "%s/conf", prefix);
	snprintf(confpath, sizeof(confpath), "%s/portico.conf", confdir);
	mkdir(confdir, 0755);
	log_to_stderr(LOG_NOTICE);
	log_also_stderr(1);
}

static void
prefix_cleanup(void)
{
	nftw(prefix, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

#pragma GCC diagnostic pop

#endif
