/*
 * conf_log.c: log_format and access_log, and the access log files of a
 * generation, which the master opens and hands to the workers.
 */
#include "core.h"

#include <fcntl.h>

#include "conf_int.h"
#include "str.h"

#define COMBINED "$remote_addr - $remote_user [$time_local] \"$request\" " \
	"$status $body_bytes_sent \"$http_referer\" \"$http_user_agent\""

static struct conf_logfmt *
find_format(struct conf_parser *cp, const char *name)
{
	struct conf_logfmt *f;
	char err[256];

	for (f = cp->cp_http->hc_formats; f != NULL; f = f->lf_next)
		if (strcmp(f->lf_name, name) == 0)
			return f;
	if (strcmp(name, "combined") != 0)
		return NULL;
	/* built in, made on first use */
	f = arena_alloc(cp->cp_arena, sizeof(*f));
	f->lf_name = "combined";
	f->lf_escape = VAR_ESC_DEFAULT;
	f->lf_tpl = var_compile(cp->cp_arena, COMBINED, err, sizeof(err));
	f->lf_next = cp->cp_http->hc_formats;
	cp->cp_http->hc_formats = f;
	return f;
}

int
conf_set_log_format(struct conf_parser *cp, const struct conf_cmd *c,
    int argc, char **argv, void *conf)
{
	struct conf_logfmt *f;
	char err[256], *text;
	size_t len = 0;
	int i = 2, first, escape = VAR_ESC_DEFAULT;

	if (find_format(cp, argv[1]) != NULL) {
		conf_error(cp, "duplicate \"log_format\" name \"%s\"", argv[1]);
		return -1;
	}
	if (argc > 3 && str_has_prefix(argv[2], "escape=")) {
		const char *e = argv[2] + 7;

		if (strcmp(e, "default") == 0)
			escape = VAR_ESC_DEFAULT;
		else if (strcmp(e, "json") == 0)
			escape = VAR_ESC_JSON;
		else if (strcmp(e, "none") == 0)
			escape = VAR_ESC_NONE;
		else {
			conf_error(cp, "unknown log format escaping \"%s\"", e);
			return -1;
		}
		i = 3;
	}
	if (i >= argc) {
		conf_error(cp, "invalid number of arguments in \"log_format\" "
		    "directive");
		return -1;
	}
	/* the strings are joined as they are, as nginx does */
	first = i;
	for (; i < argc; i++)
		len += strlen(argv[i]);
	text = arena_alloc(cp->cp_arena, len + 1);
	for (i = first, len = 0; i < argc; i++) {
		size_t l = strlen(argv[i]);

		memcpy(text + len, argv[i], l);
		len += l;
	}
	text[len] = '\0';
	f = arena_alloc(cp->cp_arena, sizeof(*f));
	f->lf_name = arena_strdup(cp->cp_arena, argv[1]);
	f->lf_escape = escape;
	if ((f->lf_tpl = var_compile(cp->cp_arena, text, err, sizeof(err))) ==
	    NULL) {
		conf_error(cp, "%s", err);
		return -1;
	}
	f->lf_next = cp->cp_http->hc_formats;
	cp->cp_http->hc_formats = f;
	return 0;
}

static struct conf_logfile *
logfile(struct conf_parser *cp, const char *path)
{
	struct conf_logfile *lf;
	char *full = conf_full_path(cp, path, 0);

	for (lf = cp->cp_gen->g_logfiles; lf != NULL; lf = lf->lf_next)
		if (strcmp(lf->lf_path, full) == 0)
			return lf;
	lf = arena_alloc(cp->cp_arena, sizeof(*lf));
	lf->lf_path = full;
	lf->lf_fd = -1;
	lf->lf_next = cp->cp_gen->g_logfiles;
	cp->cp_gen->g_logfiles = lf;
	return lf;
}

static int
add_access(struct conf_parser *cp, struct conf_loc *l, const char *path,
    struct conf_logfmt *f, struct var_tpl *cond, int64_t buffer,
    msec_t flush)
{
	struct conf_access *a, **ap;

	a = arena_alloc(cp->cp_arena, sizeof(*a));
	a->al_file = logfile(cp, path);
	a->al_fmt = f;
	a->al_if = cond;
	if (buffer > a->al_file->lf_bufsize)
		a->al_file->lf_bufsize = buffer;
	if (flush > 0 && (a->al_file->lf_flush == 0 ||
	    flush < a->al_file->lf_flush))
		a->al_file->lf_flush = flush;
	for (ap = &l->lc_access; *ap != NULL; ap = &(*ap)->al_next)
		;
	*ap = a;
	l->lc_access_set = 1;
	return 0;
}

/* access_log path [format [buffer=size] [flush=time] [if=cond]] | off */
int
conf_set_access_log(struct conf_parser *cp, const struct conf_cmd *c,
    int argc, char **argv, void *conf)
{
	struct conf_loc *l = conf;
	struct conf_logfmt *f;
	struct var_tpl *cond = NULL;
	long long buffer = 0;
	msec_t flush = 0;
	char err[256];
	int i;

	if (strcmp(argv[1], "off") == 0) {
		if (argc > 2) {
			conf_error(cp, "invalid parameter \"%s\"", argv[2]);
			return -1;
		}
		l->lc_access = NULL;
		l->lc_access_set = 1;
		return 0;
	}
	if (str_has_prefix(argv[1], "syslog:")) {
		conf_error(cp, "syslog access logs are not supported yet");
		return -1;
	}
	f = find_format(cp, argc > 2 ? argv[2] : "combined");
	if (f == NULL) {
		conf_error(cp, "unknown log format \"%s\"", argv[2]);
		return -1;
	}
	for (i = 3; i < argc; i++) {
		if (str_has_prefix(argv[i], "buffer=")) {
			if (str_parse_size(argv[i] + 7, &buffer) == -1 ||
			    buffer < 1 || buffer > 1024 * 1024) {
				conf_error(cp, "invalid buffer size \"%s\"",
				    argv[i] + 7);
				return -1;
			}
		} else if (str_has_prefix(argv[i], "flush=")) {
			if (str_parse_time(argv[i] + 6, &flush) == -1 ||
			    flush == 0) {
				conf_error(cp, "invalid flush time \"%s\"",
				    argv[i] + 6);
				return -1;
			}
		} else if (str_has_prefix(argv[i], "if=")) {
			cond = var_compile(cp->cp_arena, argv[i] + 3, err,
			    sizeof(err));
			if (cond == NULL) {
				conf_error(cp, "%s", err);
				return -1;
			}
		} else {
			conf_error(cp, "invalid parameter \"%s\"", argv[i]);
			return -1;
		}
	}
	/* as nginx: flush= alone buffers 64k */
	if (flush > 0 && buffer == 0)
		buffer = 64 * 1024;
	return add_access(cp, l, argv[1], f, cond, buffer, flush);
}

/* nginx's default: access_log logs/access.log combined, at http level */
void
conf_log_defaults(struct conf_parser *cp)
{
	struct conf_loc *l;

	/* after the http block: the parser no longer points at it */
	cp->cp_http = cp->cp_gen->g_http;
	l = cp->cp_http->hc_loc;
	if (!l->lc_access_set)
		add_access(cp, l, "logs/access.log", find_format(cp,
		    "combined"), NULL, 0, 0);
}

int
conf_logs_open(struct gen *g)
{
	struct conf_logfile *lf;

	for (lf = g->g_logfiles; lf != NULL; lf = lf->lf_next) {
		lf->lf_fd = open(lf->lf_path, O_WRONLY | O_APPEND | O_CREAT |
		    O_CLOEXEC, 0644);
		if (lf->lf_fd == -1) {
			log_emerg("open() \"%s\" failed (%d: %s)", lf->lf_path,
			    errno, strerror(errno));
			conf_logs_close(g);
			return -1;
		}
	}
	return 0;
}

void
conf_logs_close(struct gen *g)
{
	struct conf_logfile *lf;

	for (lf = g->g_logfiles; lf != NULL; lf = lf->lf_next)
		if (lf->lf_fd != -1) {
			close(lf->lf_fd);
			lf->lf_fd = -1;
		}
}

/* after a rename by logrotate: the same fd numbers, new files */
int
conf_logs_reopen(struct gen *g)
{
	struct conf_logfile *lf;
	int fd, rc = 0;

	for (lf = g->g_logfiles; lf != NULL; lf = lf->lf_next) {
		if (lf->lf_fd == -1)
			continue;
		fd = open(lf->lf_path, O_WRONLY | O_APPEND | O_CREAT |
		    O_CLOEXEC, 0644);
		if (fd == -1) {
			log_alert("reopen of \"%s\" failed (%d: %s)",
			    lf->lf_path, errno, strerror(errno));
			rc = -1;
			continue;
		}
		dup3(fd, lf->lf_fd, O_CLOEXEC);
		close(fd);
	}
	return rc;
}

int
conf_logs_chown(struct gen *g, uid_t uid, gid_t gid)
{
	struct conf_logfile *lf;
	int rc = 0;

	for (lf = g->g_logfiles; lf != NULL; lf = lf->lf_next)
		if (lf->lf_fd != -1 && fchown(lf->lf_fd, uid, gid) == -1)
			rc = -1;
	return rc;
}
