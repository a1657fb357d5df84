/*
 * conf_dir.c: the directive table, the setters it names, and nginx's
 * defaults and inheritance (conf_finish).  The listen directive is read
 * in conf_listen.c, the lookups into the finished tree are in
 * conf_find.c.
 */
#include "core.h"

#include <ctype.h>
#include <grp.h>
#include <pwd.h>

#include "conf_int.h"
#include "log.h"
#include "str.h"

#define OFF_MAIN(f)	CONF_MAIN, offsetof(struct conf_main, f)
#define OFF_SRV(f)	CONF_SRV, offsetof(struct conf_srv, f)
#define OFF_LOC(f)	CONF_LOC, offsetof(struct conf_loc, f)

struct conf_main *
conf_main_new(struct arena *a)
{
	struct conf_main *m = arena_alloc(a, sizeof(*m));

	m->mc_daemon = m->mc_master = m->mc_multi_accept = UNSET;
	m->mc_workers = m->mc_rlimit_nofile = m->mc_worker_connections = UNSET;
	m->mc_shutdown_timeout = UNSET;
	return m;
}

struct conf_srv *
conf_srv_new(struct arena *a)
{
	struct conf_srv *s = arena_alloc(a, sizeof(*s));

	s->sc_client_header_timeout = UNSET;
	s->sc_header_buffer = s->sc_large_num = s->sc_large_size = UNSET;
	conf_ssl_init(&s->sc_ssl);
	return s;
}

struct conf_loc *
conf_loc_new(struct arena *a)
{
	struct conf_loc *l = arena_alloc(a, sizeof(*l));

	l->lc_rewrite_log = l->lc_recursive_error_pages = UNSET;
	l->lc_keepalive_timeout = l->lc_keepalive_header = UNSET;
	l->lc_keepalive_requests = l->lc_send_timeout = UNSET;
	l->lc_server_tokens = UNSET;
	l->lc_client_max_body_size = l->lc_client_body_timeout = UNSET;
	conf_proxy_init(&l->lc_px);
	l->lc_lingering_close = l->lc_reset_timedout = UNSET;
	l->lc_lingering_time = l->lc_lingering_timeout = UNSET;
	l->lc_autoindex = l->lc_sendfile = l->lc_tcp_nopush = UNSET;
	l->lc_tcp_nodelay = l->lc_etag = l->lc_if_modified_since = UNSET;
	l->lc_absolute_redirect = l->lc_port_in_redirect = UNSET;
	l->lc_server_name_in_redirect = l->lc_expires = UNSET;
	return l;
}

static int
dup_error(struct conf_parser *cp, char **argv)
{
	conf_error(cp, "\"%s\" directive is duplicate", argv[0]);
	return -1;
}

static int
bad_value(struct conf_parser *cp, char **argv, const char *v)
{
	conf_error(cp, "invalid value \"%s\" in \"%s\" directive", v, argv[0]);
	return -1;
}

/* generic setters: the field is at c_offset in the directive's conf */

static int
set_flag(struct conf_parser *cp, const struct conf_cmd *c, int argc,
    char **argv, void *conf)
{
	int *p = (int *)((char *)conf + c->c_offset);

	if (*p != UNSET)
		return dup_error(cp, argv);
	if (strcasecmp(argv[1], "on") == 0)
		*p = 1;
	else if (strcasecmp(argv[1], "off") == 0)
		*p = 0;
	else {
		conf_error(cp, "invalid value \"%s\" in \"%s\" directive, it "
		    "must be \"on\" or \"off\"", argv[1], argv[0]);
		return -1;
	}
	return 0;
}

static int
set_num(struct conf_parser *cp, const struct conf_cmd *c, int argc,
    char **argv, void *conf)
{
	int64_t *p = (int64_t *)((char *)conf + c->c_offset);
	long long v;

	if (*p != UNSET)
		return dup_error(cp, argv);
	if (str_parse_int(argv[1], INT_MAX, &v) == -1)
		return bad_value(cp, argv, argv[1]);
	*p = v;
	return 0;
}

static int
set_size(struct conf_parser *cp, const struct conf_cmd *c, int argc,
    char **argv, void *conf)
{
	int64_t *p = (int64_t *)((char *)conf + c->c_offset);
	long long v;

	if (*p != UNSET)
		return dup_error(cp, argv);
	if (str_parse_size(argv[1], &v) == -1)
		return bad_value(cp, argv, argv[1]);
	*p = v;
	return 0;
}

static int
set_large_buffers(struct conf_parser *cp, const struct conf_cmd *c, int argc,
    char **argv, void *conf)
{
	struct conf_srv *s = conf;
	long long n, size;

	if (s->sc_large_num != UNSET)
		return dup_error(cp, argv);
	if (str_parse_int(argv[1], 64, &n) == -1 || n == 0)
		return bad_value(cp, argv, argv[1]);
	if (str_parse_size(argv[2], &size) == -1 || size < 64 ||
	    size > 1024 * 1024)
		return bad_value(cp, argv, argv[2]);
	s->sc_large_num = n;
	s->sc_large_size = size;
	return 0;
}

static int
set_msec(struct conf_parser *cp, const struct conf_cmd *c, int argc,
    char **argv, void *conf)
{
	msec_t *p = (msec_t *)((char *)conf + c->c_offset);

	if (*p != UNSET)
		return dup_error(cp, argv);
	if (str_parse_time(argv[1], p) == -1) {
		*p = UNSET;
		return bad_value(cp, argv, argv[1]);
	}
	return 0;
}

static int
set_str(struct conf_parser *cp, const struct conf_cmd *c, int argc,
    char **argv, void *conf)
{
	char **p = (char **)((char *)conf + c->c_offset);

	if (*p != NULL)
		return dup_error(cp, argv);
	*p = arena_strdup(cp->cp_arena, argv[1]);
	return 0;
}

static int
set_path(struct conf_parser *cp, const struct conf_cmd *c, int argc,
    char **argv, void *conf)
{
	char **p = (char **)((char *)conf + c->c_offset);

	if (*p != NULL)
		return dup_error(cp, argv);
	*p = conf_full_path(cp, argv[1], 0);
	return 0;
}

/* main context */

static int
set_workers(struct conf_parser *cp, const struct conf_cmd *c, int argc,
    char **argv, void *conf)
{
	struct conf_main *m = conf;
	long long v;

	if (m->mc_workers != UNSET)
		return dup_error(cp, argv);
	if (strcmp(argv[1], "auto") == 0) {
		m->mc_workers = 0;
		return 0;
	}
	if (str_parse_int(argv[1], 1024, &v) == -1 || v == 0)
		return bad_value(cp, argv, argv[1]);
	m->mc_workers = v;
	return 0;
}

static int
set_user(struct conf_parser *cp, const struct conf_cmd *c, int argc,
    char **argv, void *conf)
{
	struct conf_main *m = conf;

	if (m->mc_user != NULL)
		return dup_error(cp, argv);
	/* as nginx: checked only where it will be used, by a root master */
	if (cp->cp_is_root && getpwnam(argv[1]) == NULL) {
		conf_error(cp, "getpwnam(\"%s\") failed", argv[1]);
		return -1;
	}
	if (cp->cp_is_root && argc > 2 && getgrnam(argv[2]) == NULL) {
		conf_error(cp, "getgrnam(\"%s\") failed", argv[2]);
		return -1;
	}
	m->mc_user = arena_strdup(cp->cp_arena, argv[1]);
	if (argc > 2)
		m->mc_group = arena_strdup(cp->cp_arena, argv[2]);
	return 0;
}

/* several error_log lines log to each, as in nginx */
static int
set_error_log(struct conf_parser *cp, const struct conf_cmd *c, int argc,
    char **argv, void *conf)
{
	struct conf_main *m = conf;
	int level = LOG_ERR;

	if (m->mc_nerror_logs == LOG_MAX_TARGETS) {
		conf_error(cp, "too many \"error_log\" directives (at most %d)",
		    LOG_MAX_TARGETS);
		return -1;
	}
	if (argc > 2 && (level = log_level_parse(argv[2])) == -1) {
		conf_error(cp, "invalid log level \"%s\"", argv[2]);
		return -1;
	}
	m->mc_error_log[m->mc_nerror_logs] = conf_full_path(cp, argv[1], 0);
	m->mc_error_level[m->mc_nerror_logs++] = level;
	return 0;
}

static int
set_include(struct conf_parser *cp, const struct conf_cmd *c, int argc,
    char **argv, void *conf)
{
	int ctx = CTX_MAIN;

	/* the context of the directive that holds the include */
	if (cp->cp_ups != NULL)
		ctx = CTX_UPSTREAM;
	else if (cp->cp_types != NULL)
		ctx = CTX_TYPES;
	else if (cp->cp_map != NULL)
		ctx = CTX_MAP;
	else if (cp->cp_loc != NULL && cp->cp_loc->lc_if)
		ctx = CTX_IF;
	else if (cp->cp_loc != NULL && cp->cp_loc->lc_name != NULL)
		ctx = CTX_LOCATION;
	else if (cp->cp_srv != NULL && cp->cp_http != NULL &&
	    cp->cp_srv != cp->cp_http->hc_srv)
		ctx = CTX_SERVER;
	else if (cp->cp_http != NULL && cp->cp_srv != NULL)
		ctx = CTX_HTTP;
	else if (cp->cp_main->mc_events_seen == 2)
		ctx = CTX_EVENTS;
	return conf_include(cp, argv[1], ctx);
}

static int
set_events(struct conf_parser *cp, const struct conf_cmd *c, int argc,
    char **argv, void *conf)
{
	struct conf_main *m = conf;
	int rc;

	if (m->mc_events_seen) {
		dup_error(cp, argv);
		return conf_skip_block(cp);
	}
	m->mc_events_seen = 2;		/* inside */
	rc = conf_parse_block(cp, CTX_EVENTS);
	m->mc_events_seen = 1;
	return rc;
}

static int
set_use(struct conf_parser *cp, const struct conf_cmd *c, int argc,
    char **argv, void *conf)
{
	if (strcmp(argv[1], "epoll") != 0) {
		conf_error(cp, "invalid event type \"%s\"", argv[1]);
		return -1;
	}
	return 0;
}

static int
set_http(struct conf_parser *cp, const struct conf_cmd *c, int argc,
    char **argv, void *conf)
{
	struct conf_http *h;
	int rc;

	if (cp->cp_gen->g_http != NULL) {
		dup_error(cp, argv);
		return conf_skip_block(cp);
	}
	h = arena_alloc(cp->cp_arena, sizeof(*h));
	h->hc_srv = conf_srv_new(cp->cp_arena);
	h->hc_loc = conf_loc_new(cp->cp_arena);
	cp->cp_gen->g_http = cp->cp_http = h;
	cp->cp_srv = h->hc_srv;
	cp->cp_loc = h->hc_loc;
	rc = conf_parse_block(cp, CTX_HTTP);
	cp->cp_srv = NULL;
	cp->cp_loc = NULL;
	cp->cp_http = NULL;
	return rc;
}

static int
set_server(struct conf_parser *cp, const struct conf_cmd *c, int argc,
    char **argv, void *conf)
{
	struct conf_http *h = cp->cp_http;
	struct conf_srv *s, **sp;
	int rc;

	s = conf_srv_new(cp->cp_arena);
	s->sc_loc = conf_loc_new(cp->cp_arena);
	s->sc_loc->lc_parent = h->hc_loc;
	s->sc_file = cp->cp_in->in_path;
	s->sc_line = cp->cp_line;
	for (sp = &h->hc_servers; *sp != NULL; sp = &(*sp)->sc_next)
		;
	*sp = s;
	cp->cp_srv = s;
	cp->cp_loc = s->sc_loc;
	rc = conf_parse_block(cp, CTX_SERVER);
	cp->cp_srv = h->hc_srv;
	cp->cp_loc = h->hc_loc;
	return rc;
}

/* compile a pattern of this generation; its named groups become
 * variables */
struct regex *
conf_regex(struct conf_parser *cp, const char *src, int caseless, char *err,
    size_t errlen)
{
	const char *names[64];
	struct regex *re;
	int i, n;

	re = regex_compile(cp->cp_arena, &cp->cp_gen->g_regexes, src,
	    caseless, err, errlen);
	if (re == NULL)
		return NULL;
	n = regex_names(re, names, nitems(names));
	for (i = 0; i < n; i++)
		var_names_add(cp->cp_arena, names[i]);
	return re;
}

static int
set_location(struct conf_parser *cp, const struct conf_cmd *c, int argc,
    char **argv, void *conf)
{
	struct conf_loc *parent = cp->cp_loc, *l, **lp;
	struct regex *re = NULL;
	const char *name;
	int match = LOC_PREFIX, rc, caseless = 0;
	char err[512];

	if (argc == 3) {
		if (strcmp(argv[1], "=") == 0)
			match = LOC_EXACT;
		else if (strcmp(argv[1], "^~") == 0)
			match = LOC_NOREGEX;
		else if (strcmp(argv[1], "~") == 0)
			match = LOC_REGEX;
		else if (strcmp(argv[1], "~*") == 0) {
			match = LOC_REGEX;
			caseless = 1;
		} else {
			conf_error(cp, "invalid location modifier \"%s\"",
			    argv[1]);
			return conf_skip_block(cp);
		}
		name = argv[2];
	} else {
		name = argv[1];
		if (name[0] == '=' && name[1] != '\0') {
			match = LOC_EXACT;
			name++;
		} else if (name[0] == '^' && name[1] == '~' && name[2] != '\0') {
			match = LOC_NOREGEX;
			name += 2;
		} else if (name[0] == '~' && name[1] == '*') {
			match = LOC_REGEX;
			caseless = 1;
			name += 2;
		} else if (name[0] == '~') {
			match = LOC_REGEX;
			name++;
		} else if (name[0] == '@')
			match = LOC_NAMED;
	}
	if (parent->lc_name != NULL) {
		if (parent->lc_match == LOC_EXACT) {
			conf_error(cp, "location \"%s\" cannot be inside the "
			    "exact location \"%s\"", name, parent->lc_name);
			return conf_skip_block(cp);
		}
		if (parent->lc_match == LOC_NAMED) {
			conf_error(cp, "location \"%s\" cannot be inside the "
			    "named location \"%s\"", name, parent->lc_name);
			return conf_skip_block(cp);
		}
		if (match == LOC_NAMED) {
			conf_error(cp, "named location \"%s\" can be on the "
			    "server level only", name);
			return conf_skip_block(cp);
		}
		if (match != LOC_REGEX && (parent->lc_match == LOC_REGEX ||
		    !str_has_prefix(name, parent->lc_name))) {
			conf_error(cp, "location \"%s\" is outside location "
			    "\"%s\"", name, parent->lc_name);
			return conf_skip_block(cp);
		}
	}
	if (match == LOC_REGEX) {
		if ((re = conf_regex(cp, name, caseless, err, sizeof(err))) ==
		    NULL) {
			conf_error(cp, "%s", err);
			return conf_skip_block(cp);
		}
	}
	for (lp = &parent->lc_children; *lp != NULL; lp = &(*lp)->lc_next) {
		int exact_a = (*lp)->lc_match == LOC_EXACT;

		if (match == LOC_REGEX || (*lp)->lc_match == LOC_REGEX)
			continue;
		if (strcmp((*lp)->lc_name, name) == 0 &&
		    exact_a == (match == LOC_EXACT)) {
			conf_error(cp, "duplicate location \"%s\"", name);
			return conf_skip_block(cp);
		}
	}
	l = conf_loc_new(cp->cp_arena);
	l->lc_name = arena_strdup(cp->cp_arena, name);
	l->lc_namelen = strlen(name);
	l->lc_match = match;
	l->lc_regex = re;
	l->lc_parent = parent;
	l->lc_file = cp->cp_in->in_path;
	l->lc_line = cp->cp_line;
	*lp = l;
	cp->cp_loc = l;
	rc = conf_parse_block(cp, CTX_LOCATION);
	cp->cp_loc = parent;
	return rc;
}

static int
set_server_name(struct conf_parser *cp, const struct conf_cmd *c, int argc,
    char **argv, void *conf)
{
	struct conf_srv *s = conf;
	char **names;
	int i, j;

	names = arena_alloc(cp->cp_arena, (s->sc_nnames + argc - 1) *
	    sizeof(char *));
	if (s->sc_nnames)
		memcpy(names, s->sc_names, s->sc_nnames * sizeof(char *));
	for (i = 1; i < argc; i++) {
		char *n = arena_strdup(cp->cp_arena, argv[i]);

		if (n[0] == '~') {
			struct regex **rl, *re;
			char err[512];

			/* hosts are lowercased: as nginx, match caselessly */
			if ((re = conf_regex(cp, argv[i] + 1, 1, err,
			    sizeof(err))) == NULL) {
				conf_error(cp, "%s", err);
				return -1;
			}
			rl = arena_alloc(cp->cp_arena, (s->sc_nregexes + 1) *
			    sizeof(*rl));
			if (s->sc_nregexes)
				memcpy(rl, s->sc_regexes, s->sc_nregexes *
				    sizeof(*rl));
			rl[s->sc_nregexes++] = re;
			s->sc_regexes = rl;
			continue;
		}
		if (strchr(n, '*') != NULL && !str_has_prefix(n, "*.") &&
		    !(strlen(n) > 2 && strcmp(n + strlen(n) - 2, ".*") == 0)) {
			conf_error(cp, "invalid server name or wildcard \"%s\"",
			    n);
			return -1;
		}
		for (j = 0; n[j]; j++)
			n[j] = tolower((unsigned char)n[j]);
		names[s->sc_nnames++] = n;
	}
	s->sc_names = names;
	return 0;
}

static int
set_keepalive_timeout(struct conf_parser *cp, const struct conf_cmd *c,
    int argc, char **argv, void *conf)
{
	struct conf_loc *l = conf;

	if (l->lc_keepalive_timeout != UNSET)
		return dup_error(cp, argv);
	if (str_parse_time(argv[1], &l->lc_keepalive_timeout) == -1) {
		l->lc_keepalive_timeout = UNSET;
		return bad_value(cp, argv, argv[1]);
	}
	if (argc > 2 && str_parse_time(argv[2], &l->lc_keepalive_header) == -1)
		return bad_value(cp, argv, argv[2]);
	return 0;
}

static int
set_lingering_close(struct conf_parser *cp, const struct conf_cmd *c,
    int argc, char **argv, void *conf)
{
	struct conf_loc *l = conf;

	if (l->lc_lingering_close != UNSET)
		return dup_error(cp, argv);
	if (strcmp(argv[1], "off") == 0)
		l->lc_lingering_close = LINGER_OFF;
	else if (strcmp(argv[1], "on") == 0)
		l->lc_lingering_close = LINGER_ON;
	else if (strcmp(argv[1], "always") == 0)
		l->lc_lingering_close = LINGER_ALWAYS;
	else {
		conf_error(cp, "invalid value \"%s\" in \"%s\" directive, it "
		    "must be \"off\", \"on\" or \"always\"", argv[1], argv[0]);
		return -1;
	}
	return 0;
}

static int
set_types(struct conf_parser *cp, const struct conf_cmd *c, int argc,
    char **argv, void *conf)
{
	struct conf_loc *l = conf;
	int rc;

	if (l->lc_types == NULL)
		l->lc_types = arena_alloc(cp->cp_arena, sizeof(*l->lc_types));
	cp->cp_types = l->lc_types;
	rc = conf_parse_block(cp, CTX_TYPES);
	cp->cp_types = NULL;
	return rc;
}

int
conf_types_add(struct conf_parser *cp, int argc, char **argv)
{
	struct conf_types *t = cp->cp_types;
	struct conf_type *nl;
	int i, j;

	if (argc < 2) {
		conf_error(cp, "invalid number of arguments in types");
		return -1;
	}
	for (i = 1; i < argc; i++) {
		char *ext = arena_strdup(cp->cp_arena, argv[i]);

		for (j = 0; ext[j]; j++)
			ext[j] = tolower((unsigned char)ext[j]);
		if (t->ty_n == t->ty_cap) {
			t->ty_cap = t->ty_cap ? t->ty_cap * 2 : 64;
			nl = arena_alloc(cp->cp_arena,
			    t->ty_cap * sizeof(*nl));
			if (t->ty_n)
				memcpy(nl, t->ty_list, t->ty_n * sizeof(*nl));
			t->ty_list = nl;
		}
		t->ty_list[t->ty_n].t_ext = ext;
		t->ty_list[t->ty_n++].t_type = arena_strdup(cp->cp_arena,
		    argv[0]);
	}
	return 0;
}

#define SRV_LOC	(CTX_HTTP | CTX_SERVER | CTX_LOCATION)
#define RW_CTX	(CTX_SERVER | CTX_LOCATION | CTX_IF)
#define SRV	(CTX_HTTP | CTX_SERVER)

const struct conf_cmd conf_cmds[] = {
	{ "daemon", CTX_MAIN, 0, 1, 1, set_flag, OFF_MAIN(mc_daemon) },
	{ "master_process", CTX_MAIN, 0, 1, 1, set_flag, OFF_MAIN(mc_master) },
	{ "worker_processes", CTX_MAIN, 0, 1, 1, set_workers, CONF_MAIN, 0 },
	{ "worker_rlimit_nofile", CTX_MAIN, 0, 1, 1, set_num,
	    OFF_MAIN(mc_rlimit_nofile) },
	{ "worker_shutdown_timeout", CTX_MAIN, 0, 1, 1, set_msec,
	    OFF_MAIN(mc_shutdown_timeout) },
	{ "pid", CTX_MAIN, 0, 1, 1, set_path, OFF_MAIN(mc_pid) },
	{ "user", CTX_MAIN, 0, 1, 2, set_user, CONF_MAIN, 0 },
	{ "error_log", CTX_MAIN, 0, 1, 2, set_error_log, CONF_MAIN, 0 },
	{ "include", CTX_ANY | CTX_MAP | CTX_IF, 0, 1, 1, set_include,
	    CONF_NONE, 0 },
	{ "events", CTX_MAIN, 1, 0, 0, set_events, CONF_MAIN, 0 },
	{ "worker_connections", CTX_EVENTS, 0, 1, 1, set_num,
	    OFF_MAIN(mc_worker_connections) },
	{ "multi_accept", CTX_EVENTS, 0, 1, 1, set_flag,
	    OFF_MAIN(mc_multi_accept) },
	{ "use", CTX_EVENTS, 0, 1, 1, set_use, CONF_NONE, 0 },
	{ "http", CTX_MAIN, 1, 0, 0, set_http, CONF_NONE, 0 },
	{ "server", CTX_HTTP, 1, 0, 0, set_server, CONF_NONE, 0 },
	{ "listen", CTX_SERVER, 0, 1, ARGS_ANY, conf_set_listen, CONF_SRV, 0 },
	{ "server_name", CTX_SERVER, 0, 1, ARGS_ANY, set_server_name,
	    CONF_SRV, 0 },
	{ "location", CTX_SERVER | CTX_LOCATION, 1, 1, 2, set_location,
	    CONF_NONE, 0 },
	{ "return", RW_CTX, 0, 1, 2, conf_set_return, CONF_LOC, 0 },
	/* rewrite module, map, error_page */
	{ "rewrite", RW_CTX, 0, 2, 3, conf_set_rewrite, CONF_LOC, 0 },
	{ "set", RW_CTX, 0, 2, 2, conf_set_set, CONF_LOC, 0 },
	{ "break", RW_CTX, 0, 0, 0, conf_set_break, CONF_LOC, 0 },
	{ "if", CTX_SERVER | CTX_LOCATION, 1, 1, ARGS_ANY, conf_set_if,
	    CONF_LOC, 0 },
	{ "rewrite_log", SRV_LOC | CTX_IF, 0, 1, 1, set_flag,
	    OFF_LOC(lc_rewrite_log) },
	{ "map", CTX_HTTP, 1, 2, 2, conf_set_map, CONF_NONE, 0 },
	{ "error_page", SRV_LOC | CTX_IF, 0, 2, ARGS_ANY, conf_set_error_page,
	    CONF_LOC, 0 },
	{ "recursive_error_pages", SRV_LOC, 0, 1, 1, set_flag,
	    OFF_LOC(lc_recursive_error_pages) },
	{ "internal", CTX_LOCATION, 0, 0, 0, conf_set_internal, CONF_LOC, 0 },
	{ "types", SRV_LOC, 1, 0, 0, set_types, CONF_LOC, 0 },
	{ "default_type", SRV_LOC, 0, 1, 1, set_str,
	    OFF_LOC(lc_default_type) },
	/* static files */
	{ "root", SRV_LOC, 0, 1, 1, conf_set_root, CONF_LOC, 0 },
	{ "alias", CTX_LOCATION, 0, 1, 1, conf_set_root, CONF_LOC, 0 },
	{ "index", SRV_LOC, 0, 1, ARGS_ANY, conf_set_index, CONF_LOC, 0 },
	{ "autoindex", SRV_LOC, 0, 1, 1, conf_set_autoindex, CONF_LOC, 0 },
	{ "try_files", CTX_SERVER | CTX_LOCATION, 0, 2, ARGS_ANY,
	    conf_set_try_files, CONF_LOC, 0 },
	{ "sendfile", SRV_LOC, 0, 1, 1, set_flag, OFF_LOC(lc_sendfile) },
	{ "tcp_nopush", SRV_LOC, 0, 1, 1, set_flag, OFF_LOC(lc_tcp_nopush) },
	{ "tcp_nodelay", SRV_LOC, 0, 1, 1, set_flag, OFF_LOC(lc_tcp_nodelay) },
	{ "etag", SRV_LOC, 0, 1, 1, set_flag, OFF_LOC(lc_etag) },
	{ "if_modified_since", SRV_LOC, 0, 1, 1, conf_set_ims, CONF_LOC, 0 },
	{ "expires", SRV_LOC, 0, 1, 2, conf_set_expires, CONF_LOC, 0 },
	{ "add_header", SRV_LOC, 0, 2, 3, conf_set_add_header, CONF_LOC, 0 },
	{ "absolute_redirect", SRV_LOC, 0, 1, 1, set_flag,
	    OFF_LOC(lc_absolute_redirect) },
	{ "port_in_redirect", SRV_LOC, 0, 1, 1, set_flag,
	    OFF_LOC(lc_port_in_redirect) },
	{ "server_name_in_redirect", SRV_LOC, 0, 1, 1, set_flag,
	    OFF_LOC(lc_server_name_in_redirect) },
	{ "keepalive_timeout", SRV_LOC, 0, 1, 2, set_keepalive_timeout,
	    CONF_LOC, 0 },
	{ "keepalive_requests", SRV_LOC, 0, 1, 1, set_num,
	    OFF_LOC(lc_keepalive_requests) },
	{ "send_timeout", SRV_LOC, 0, 1, 1, set_msec,
	    OFF_LOC(lc_send_timeout) },
	{ "server_tokens", SRV_LOC, 0, 1, 1, set_flag,
	    OFF_LOC(lc_server_tokens) },
	{ "client_header_timeout", CTX_HTTP | CTX_SERVER, 0, 1, 1, set_msec,
	    OFF_SRV(sc_client_header_timeout) },
	{ "client_header_buffer_size", CTX_HTTP | CTX_SERVER, 0, 1, 1,
	    set_size, OFF_SRV(sc_header_buffer) },
	{ "large_client_header_buffers", CTX_HTTP | CTX_SERVER, 0, 2, 2,
	    set_large_buffers, CONF_SRV, 0 },
	{ "client_max_body_size", SRV_LOC, 0, 1, 1, set_size,
	    OFF_LOC(lc_client_max_body_size) },
	{ "client_body_timeout", SRV_LOC, 0, 1, 1, set_msec,
	    OFF_LOC(lc_client_body_timeout) },
	{ "lingering_close", SRV_LOC, 0, 1, 1, set_lingering_close,
	    CONF_LOC, 0 },
	{ "lingering_time", SRV_LOC, 0, 1, 1, set_msec,
	    OFF_LOC(lc_lingering_time) },
	{ "lingering_timeout", SRV_LOC, 0, 1, 1, set_msec,
	    OFF_LOC(lc_lingering_timeout) },
	{ "reset_timedout_connection", SRV_LOC, 0, 1, 1, set_flag,
	    OFF_LOC(lc_reset_timedout) },
	{ "log_format", CTX_HTTP, 0, 2, ARGS_ANY, conf_set_log_format,
	    CONF_NONE, 0 },
	{ "access_log", SRV_LOC, 0, 1, 6, conf_set_access_log, CONF_LOC, 0 },
	/* proxying (conf_proxy.c) */
	{ "proxy_pass", CTX_LOCATION, 0, 1, 1, conf_proxy_set_pass,
	    CONF_LOC, 0 },
	{ "proxy_set_header", SRV_LOC, 0, 2, 2, conf_proxy_set_header,
	    CONF_LOC, 0 },
	{ "proxy_hide_header", SRV_LOC, 0, 1, 1, conf_proxy_set_hide,
	    CONF_LOC, 0 },
	{ "proxy_pass_header", SRV_LOC, 0, 1, 1, conf_proxy_set_hide,
	    CONF_LOC, 0 },
	{ "proxy_http_version", SRV_LOC, 0, 1, 1, conf_proxy_set_version,
	    CONF_LOC, 0 },
	{ "proxy_redirect", SRV_LOC, 0, 1, 2, conf_proxy_set_redirect,
	    CONF_LOC, 0 },
	{ "proxy_buffering", SRV_LOC, 0, 1, 1, set_flag,
	    OFF_LOC(lc_px.px_buffering) },
	{ "proxy_buffers", SRV_LOC, 0, 2, 2, conf_proxy_set_buffers,
	    CONF_LOC, 0 },
	{ "proxy_busy_buffers_size", SRV_LOC, 0, 1, 1, set_size,
	    OFF_LOC(lc_px.px_busy_size) },
	{ "proxy_max_temp_file_size", SRV_LOC, 0, 1, 1, set_size,
	    OFF_LOC(lc_px.px_max_temp) },
	{ "proxy_temp_path", SRV_LOC, 0, 1, 1, set_path,
	    OFF_LOC(lc_px.px_temp_path) },
	{ "proxy_next_upstream", SRV_LOC, 0, 1, ARGS_ANY, conf_proxy_set_next,
	    CONF_LOC, 0 },
	{ "proxy_ignore_headers", SRV_LOC, 0, 1, ARGS_ANY,
	    conf_proxy_set_ignore, CONF_LOC, 0 },
	{ "proxy_next_upstream_tries", SRV_LOC, 0, 1, 1, set_num,
	    OFF_LOC(lc_px.px_next_tries) },
	{ "proxy_next_upstream_timeout", SRV_LOC, 0, 1, 1, set_msec,
	    OFF_LOC(lc_px.px_next_timeout) },
	{ "proxy_request_buffering", SRV_LOC, 0, 1, 1, set_flag,
	    OFF_LOC(lc_px.px_request_buffering) },
	{ "client_body_buffer_size", SRV_LOC, 0, 1, 1, set_size,
	    OFF_LOC(lc_px.px_body_buffer) },
	{ "client_body_temp_path", SRV_LOC, 0, 1, 1, set_path,
	    OFF_LOC(lc_px.px_body_temp) },
	{ "proxy_connect_timeout", SRV_LOC, 0, 1, 1, set_msec,
	    OFF_LOC(lc_px.px_connect_timeout) },
	{ "proxy_send_timeout", SRV_LOC, 0, 1, 1, set_msec,
	    OFF_LOC(lc_px.px_send_timeout) },
	{ "proxy_read_timeout", SRV_LOC, 0, 1, 1, set_msec,
	    OFF_LOC(lc_px.px_read_timeout) },
	{ "proxy_buffer_size", SRV_LOC, 0, 1, 1, set_size,
	    OFF_LOC(lc_px.px_buffer_size) },
	{ "proxy_pass_request_headers", SRV_LOC, 0, 1, 1, set_flag,
	    OFF_LOC(lc_px.px_pass_headers) },
	{ "proxy_pass_request_body", SRV_LOC, 0, 1, 1, set_flag,
	    OFF_LOC(lc_px.px_pass_body) },
	{ "proxy_intercept_errors", SRV_LOC, 0, 1, 1, set_flag,
	    OFF_LOC(lc_px.px_intercept_errors) },

	/* TLS (conf_ssl.c): ssl_* in http and server, proxy_ssl_* anywhere */
	{ "ssl_certificate", SRV, 0, 1, 1, conf_ssl_set_cert, CONF_SRV, 0 },
	{ "ssl_certificate_key", SRV, 0, 1, 1, conf_ssl_set_cert, CONF_SRV, 0 },
	{ "ssl_password_file", SRV, 0, 1, 1, conf_ssl_set,
	    OFF_SRV(sc_ssl.ss_password_file) },
	{ "ssl_protocols", SRV, 0, 1, ARGS_ANY, conf_ssl_set_protocols,
	    OFF_SRV(sc_ssl.ss_protocols) },
	{ "ssl_ciphers", SRV, 0, 1, 1, conf_ssl_set,
	    OFF_SRV(sc_ssl.ss_ciphers) },
	{ "ssl_conf_command", SRV, 0, 2, 2, conf_ssl_set_command,
	    OFF_SRV(sc_ssl.ss_commands) },
	{ "ssl_prefer_server_ciphers", SRV, 0, 1, 1, conf_ssl_set,
	    OFF_SRV(sc_ssl.ss_prefer_server) },
	{ "ssl_ecdh_curve", SRV, 0, 1, 1, conf_ssl_set,
	    OFF_SRV(sc_ssl.ss_ecdh_curve) },
	{ "ssl_dhparam", SRV, 0, 1, 1, conf_ssl_set,
	    OFF_SRV(sc_ssl.ss_dhparam) },
	{ "ssl_session_tickets", SRV, 0, 1, 1, conf_ssl_set,
	    OFF_SRV(sc_ssl.ss_tickets) },
	{ "ssl_session_ticket_key", SRV, 0, 1, 1, conf_ssl_set_ticket_key,
	    CONF_SRV, 0 },
	{ "ssl_session_cache", SRV, 0, 1, 2, conf_ssl_set_cache, CONF_SRV, 0 },
	{ "ssl_session_timeout", SRV, 0, 1, 1, conf_ssl_set,
	    OFF_SRV(sc_ssl.ss_session_timeout) },
	{ "ssl_verify_client", SRV, 0, 1, 1, conf_ssl_set_verify, CONF_SRV, 0 },
	{ "ssl_client_certificate", SRV, 0, 1, 1, conf_ssl_set,
	    OFF_SRV(sc_ssl.ss_client_cert) },
	{ "ssl_trusted_certificate", SRV, 0, 1, 1, conf_ssl_set,
	    OFF_SRV(sc_ssl.ss_trusted) },
	{ "ssl_verify_depth", SRV, 0, 1, 1, conf_ssl_set,
	    OFF_SRV(sc_ssl.ss_verify_depth) },
	{ "ssl_crl", SRV, 0, 1, 1, conf_ssl_set, OFF_SRV(sc_ssl.ss_crl) },
	{ "ssl_stapling", SRV, 0, 1, 1, conf_ssl_set,
	    OFF_SRV(sc_ssl.ss_stapling) },
	{ "ssl_stapling_file", SRV, 0, 1, 1, conf_ssl_set,
	    OFF_SRV(sc_ssl.ss_stapling_file) },
	{ "ssl_stapling_verify", SRV, 0, 1, 1, conf_ssl_set,
	    OFF_SRV(sc_ssl.ss_stapling_verify) },
	{ "ssl_handshake_timeout", SRV, 0, 1, 1, conf_ssl_set,
	    OFF_SRV(sc_ssl.ss_handshake_timeout) },
	{ "proxy_ssl_server_name", SRV_LOC, 0, 1, 1, conf_ssl_set,
	    OFF_LOC(lc_px.px_ssl_server_name) },
	{ "proxy_ssl_name", SRV_LOC, 0, 1, 1, conf_ssl_set_name, CONF_LOC, 0 },
	{ "proxy_ssl_verify", SRV_LOC, 0, 1, 1, conf_ssl_set,
	    OFF_LOC(lc_px.px_ssl_verify) },
	{ "proxy_ssl_verify_depth", SRV_LOC, 0, 1, 1, conf_ssl_set,
	    OFF_LOC(lc_px.px_ssl_verify_depth) },
	{ "proxy_ssl_trusted_certificate", SRV_LOC, 0, 1, 1, conf_ssl_set,
	    OFF_LOC(lc_px.px_ssl_trusted) },
	{ "proxy_ssl_crl", SRV_LOC, 0, 1, 1, conf_ssl_set,
	    OFF_LOC(lc_px.px_ssl_crl) },
	{ "proxy_ssl_protocols", SRV_LOC, 0, 1, ARGS_ANY,
	    conf_ssl_set_protocols, OFF_LOC(lc_px.px_ssl_protocols) },
	{ "proxy_ssl_ciphers", SRV_LOC, 0, 1, 1, conf_ssl_set,
	    OFF_LOC(lc_px.px_ssl_ciphers) },
	{ "proxy_ssl_certificate", SRV_LOC, 0, 1, 1, conf_ssl_set,
	    OFF_LOC(lc_px.px_ssl_cert) },
	{ "proxy_ssl_certificate_key", SRV_LOC, 0, 1, 1, conf_ssl_set,
	    OFF_LOC(lc_px.px_ssl_key) },
	{ "proxy_ssl_password_file", SRV_LOC, 0, 1, 1, conf_ssl_set,
	    OFF_LOC(lc_px.px_ssl_password_file) },
	{ "proxy_ssl_conf_command", SRV_LOC, 0, 2, 2, conf_ssl_set_command,
	    OFF_LOC(lc_px.px_ssl_commands) },
	{ "proxy_ssl_session_reuse", SRV_LOC, 0, 1, 1, conf_ssl_set,
	    OFF_LOC(lc_px.px_ssl_session_reuse) },

	/* upstream {} */
	{ "upstream", CTX_HTTP, 1, 1, 1, conf_set_upstream, CONF_NONE, 0 },
	{ "server", CTX_UPSTREAM, 0, 1, ARGS_ANY, conf_set_ups_server,
	    CONF_NONE, 0 },
	{ "least_conn", CTX_UPSTREAM, 0, 0, 0, conf_set_ups_method,
	    CONF_NONE, 0 },
	{ "ip_hash", CTX_UPSTREAM, 0, 0, 0, conf_set_ups_method, CONF_NONE, 0 },
	{ "hash", CTX_UPSTREAM, 0, 1, 2, conf_set_ups_hash, CONF_NONE, 0 },
	{ "random", CTX_UPSTREAM, 0, 0, 2, conf_set_ups_random, CONF_NONE, 0 },
	{ "keepalive", CTX_UPSTREAM, 0, 1, 1, conf_set_ups_keepalive,
	    CONF_NONE, 0 },
	{ "keepalive_timeout", CTX_UPSTREAM, 0, 1, 1,
	    conf_set_ups_keepalive_opt, CONF_NONE, 0 },
	{ "keepalive_requests", CTX_UPSTREAM, 0, 1, 1,
	    conf_set_ups_keepalive_opt, CONF_NONE, 0 },
	{ "zone", CTX_UPSTREAM, 0, 1, 2, conf_set_ups_zone, CONF_NONE, 0 },
	{ "health_check", CTX_UPSTREAM, 0, 0, ARGS_ANY,
	    conf_set_ups_health_check, CONF_NONE, 0 },
	{ NULL, 0, 0, 0, 0, NULL, 0, 0 },
};

/* defaults and inheritance */

#define INHERIT(c, p, f, def) do {					\
	if ((c)->f == UNSET)						\
		(c)->f = (p) != NULL ? (p)->f : (def);			\
} while (0)

#define INHERIT_PTR(c, p, f, def) do {					\
	if ((c)->f == NULL)						\
		(c)->f = (p) != NULL ? (p)->f : (def);			\
} while (0)

static void
merge_loc(struct conf_parser *cp, struct conf_loc *l, const struct conf_loc *p)
{
	struct conf_loc *ch;

	INHERIT(l, p, lc_keepalive_timeout, 75000);
	INHERIT(l, p, lc_keepalive_header, 0);
	INHERIT(l, p, lc_keepalive_requests, 1000);
	INHERIT(l, p, lc_send_timeout, 60000);
	INHERIT(l, p, lc_server_tokens, 1);
	INHERIT_PTR(l, p, lc_default_type, "text/plain");
	INHERIT_PTR(l, p, lc_types, NULL);
	/* access_log lines of a context replace the inherited ones */
	if (!l->lc_access_set && p != NULL) {
		l->lc_access = p->lc_access;
		l->lc_access_set = p->lc_access_set;
	}
	INHERIT(l, p, lc_client_max_body_size, 1024 * 1024);
	INHERIT(l, p, lc_client_body_timeout, 60000);
	INHERIT(l, p, lc_lingering_close, LINGER_ON);
	INHERIT(l, p, lc_lingering_time, 30000);
	INHERIT(l, p, lc_lingering_timeout, 5000);
	INHERIT(l, p, lc_reset_timedout, 0);
	conf_rewrite_merge(l, p);
	if (l->lc_keepalive_header == UNSET)
		l->lc_keepalive_header = 0;
	conf_proxy_merge(cp, l, p);
	conf_static_merge(l, p);
	for (ch = l->lc_children; ch != NULL; ch = ch->lc_next)
		merge_loc(cp, ch, l);
	for (ch = l->lc_ifs; ch != NULL; ch = ch->lc_next)
		merge_loc(cp, ch, l);
}

int
conf_finish(struct conf_parser *cp)
{
	struct gen *g = cp->cp_gen;
	struct conf_main *m = g->g_main;
	struct conf_http *h = g->g_http;
	struct conf_srv *s;

	if (m->mc_daemon == UNSET)
		m->mc_daemon = 1;
	if (m->mc_master == UNSET)
		m->mc_master = 1;
	if (m->mc_workers == UNSET)
		m->mc_workers = 1;
	if (m->mc_rlimit_nofile == UNSET)
		m->mc_rlimit_nofile = 0;
	if (m->mc_shutdown_timeout == UNSET)
		m->mc_shutdown_timeout = 0;
	if (m->mc_pid == NULL)
		m->mc_pid = conf_full_path(cp, "logs/portico.pid", 0);
	if (m->mc_nerror_logs == 0) {
		m->mc_error_log[0] = conf_full_path(cp, "logs/error.log", 0);
		m->mc_error_level[0] = LOG_ERR;
		m->mc_nerror_logs = 1;
	}
	if (m->mc_user == NULL)
		m->mc_user = "nobody";
	if (m->mc_worker_connections == UNSET)
		m->mc_worker_connections = 512;
	if (m->mc_multi_accept == UNSET)
		m->mc_multi_accept = 0;
	cp->cp_in = NULL;
	if (h == NULL)
		return 0;
	if (h->hc_srv->sc_client_header_timeout == UNSET)
		h->hc_srv->sc_client_header_timeout = 60000;
	conf_log_defaults(cp);
	if (conf_upstream_finish(cp) == -1)
		return -1;
	conf_static_defaults(cp, h->hc_loc);
	merge_loc(cp, h->hc_loc, NULL);
	if (h->hc_srv->sc_header_buffer == UNSET)
		h->hc_srv->sc_header_buffer = 1024;
	if (h->hc_srv->sc_large_num == UNSET) {
		h->hc_srv->sc_large_num = 4;
		h->hc_srv->sc_large_size = 8192;
	}
	conf_ssl_merge(cp, h->hc_srv, NULL);
	for (s = h->hc_servers; s != NULL; s = s->sc_next) {
		INHERIT(s, h->hc_srv, sc_client_header_timeout, 60000);
		INHERIT(s, h->hc_srv, sc_header_buffer, 1024);
		INHERIT(s, h->hc_srv, sc_large_num, 4);
		INHERIT(s, h->hc_srv, sc_large_size, 8192);
		conf_ssl_merge(cp, s, h->hc_srv);
		merge_loc(cp, s->sc_loc, h->hc_loc);
	}
	/* the implicit upstreams of proxy_pass are made by now */
	conf_upstreams_index(cp);
	{
		/* errors from here on carry the file of the listen */
		struct conf_input in = { NULL, NULL, NULL, 0 };

		in.in_path = g->g_conf_path;
		cp->cp_in = &in;
		if (conf_listen_build(cp) == -1) {
			cp->cp_in = NULL;
			return -1;
		}
		cp->cp_in = NULL;
	}
	return 0;
}
