/*
 * conf_rewrite.c: the rewrite module's directives (return, rewrite, set,
 * break, internal), error_page, map, and the map lookup the data path
 * makes.  A level's return/rewrite/set/break become one list of ops in
 * config order, run as a small program by worker/http_rewrite.c.
 */
#include "core.h"

#include <ctype.h>

#include "conf_int.h"
#include "log.h"
#include "str.h"

static struct var_tpl *
compile(struct conf_parser *cp, const char *src)
{
	struct var_tpl *t;
	char err[256];

	if ((t = var_compile(cp->cp_arena, src, err, sizeof(err))) == NULL)
		conf_error(cp, "%s", err);
	return t;
}

static struct conf_rw *
rw_add(struct conf_parser *cp, struct conf_loc *l, int op)
{
	struct conf_rw *rw = arena_alloc(cp->cp_arena, sizeof(*rw)), **p;

	rw->rw_op = op;
	rw->rw_slot = -1;
	for (p = &l->lc_rw; *p != NULL; p = &(*p)->rw_next)
		;
	*p = rw;
	return rw;
}

static int
is_url(const char *s)
{
	return str_has_prefix(s, "http://") || str_has_prefix(s, "https://") ||
	    str_has_prefix(s, "$scheme");
}

/* "return code [text|URL]", "return URL" */
int
conf_set_return(struct conf_parser *cp, const struct conf_cmd *c, int argc,
    char **argv, void *conf)
{
	struct conf_rw *rw;
	const char *text = NULL;
	long long code;

	if (argc == 2 && is_url(argv[1])) {
		code = 302;
		text = argv[1];
	} else {
		if (str_parse_int(argv[1], 999, &code) == -1) {
			conf_error(cp, "invalid return code \"%s\"", argv[1]);
			return -1;
		}
		if (argc > 2)
			text = argv[2];
	}
	rw = rw_add(cp, conf, RW_RETURN);
	rw->rw_code = code;
	if (text != NULL && (rw->rw_text = compile(cp, text)) == NULL)
		return -1;
	return 0;
}

/* "rewrite regex replacement [last|break|redirect|permanent]" */
int
conf_set_rewrite(struct conf_parser *cp, const struct conf_cmd *c, int argc,
    char **argv, void *conf)
{
	struct conf_rw *rw;
	struct regex *re;
	char err[512], *repl, *q;
	size_t len;
	int flag = RW_FLAG_NONE;

	if (argc == 4) {
		if (strcmp(argv[3], "last") == 0)
			flag = RW_FLAG_LAST;
		else if (strcmp(argv[3], "break") == 0)
			flag = RW_FLAG_BREAK;
		else if (strcmp(argv[3], "redirect") == 0)
			flag = RW_FLAG_REDIRECT;
		else if (strcmp(argv[3], "permanent") == 0)
			flag = RW_FLAG_PERMANENT;
		else {
			conf_error(cp, "invalid parameter \"%s\"", argv[3]);
			return -1;
		}
	}
	if ((re = conf_regex(cp, argv[1], 0, err, sizeof(err))) == NULL) {
		conf_error(cp, "%s", err);
		return -1;
	}
	rw = rw_add(cp, conf, RW_REWRITE);
	rw->rw_regex = re;
	rw->rw_flag = flag;
	rw->rw_redirect = is_url(argv[2]) || flag == RW_FLAG_REDIRECT ||
	    flag == RW_FLAG_PERMANENT;
	rw->rw_code = flag == RW_FLAG_PERMANENT ? 301 : 302;
	repl = arena_strdup(cp->cp_arena, argv[2]);
	len = strlen(repl);
	/* as nginx: a last '?' drops the request's arguments */
	rw->rw_add_args = 1;
	if (len > 0 && repl[len - 1] == '?') {
		repl[len - 1] = '\0';
		rw->rw_add_args = 0;
	}
	if ((q = strchr(repl, '?')) != NULL) {
		*q = '\0';
		if ((rw->rw_args = compile(cp, q + 1)) == NULL)
			return -1;
	}
	if ((rw->rw_uri = compile(cp, repl)) == NULL)
		return -1;
	return 0;
}

int
conf_set_set(struct conf_parser *cp, const struct conf_cmd *c, int argc,
    char **argv, void *conf)
{
	struct conf_rw *rw;
	const char *name = argv[1] + 1;

	if (argv[1][0] != '$' || *name == '\0') {
		conf_error(cp, "invalid variable name \"%s\"", argv[1]);
		return -1;
	}
	rw = rw_add(cp, conf, RW_SET);
	if (strcmp(name, "args") == 0)
		rw->rw_set_args = 1;
	else if (var_is_builtin(name)) {
		conf_error(cp, "the duplicate \"%s\" variable", name);
		return -1;
	} else if ((rw->rw_slot = var_user_define(cp->cp_arena, name)) ==
	    -1) {
		conf_error(cp, "too many variables (at most %d)", VAR_MAX_USER);
		return -1;
	}
	if ((rw->rw_text = compile(cp, argv[2])) == NULL)
		return -1;
	return 0;
}

int
conf_set_break(struct conf_parser *cp, const struct conf_cmd *c, int argc,
    char **argv, void *conf)
{
	rw_add(cp, conf, RW_BREAK);
	return 0;
}

/*
 * "if (condition) { ... }": the block is a conf_loc of its own (its
 * directives, inherited from around it, apply when the condition
 * holds); its rewrite directives run in line, at the place of the if.
 */
int
conf_set_if(struct conf_parser *cp, const struct conf_cmd *c, int argc,
    char **argv, void *conf)
{
	struct conf_loc *parent = conf, *l, **lp;
	struct conf_rw *rw;
	char *a[4], err[512];
	int n = 0, i, rc;
	size_t len;

	/* "($a", "=", "b)", or "(", "$a", ")": the words without ( ) */
	for (i = 1; i < argc; i++) {
		char *w = arena_strdup(cp->cp_arena, argv[i]);

		if (i == 1 && w[0] == '(')
			w++;
		len = strlen(w);
		if (i == argc - 1 && len > 0 && w[len - 1] == ')')
			w[--len] = '\0';
		if (len == 0 && (i == 1 || i == argc - 1))
			continue;
		if (n == 3)
			goto invalid;
		a[n++] = w;
	}
	if (argv[1][0] != '(' || argv[argc - 1][strlen(argv[argc - 1]) - 1] !=
	    ')' || n == 0)
		goto invalid;
	if (a[0][0] == '-' || (a[0][0] == '!' && a[0][1] == '-')) {
		conf_error(cp, "the file tests of \"if\" (%s) are not "
		    "supported yet", a[0]);
		return conf_skip_block(cp);
	}
	if (a[0][0] != '$' || n == 2)
		goto invalid;
	rw = rw_add(cp, parent, RW_IF);
	if ((rw->rw_lhs = compile(cp, a[0])) == NULL)
		return conf_skip_block(cp);
	if (n == 1) {
		rw->rw_cond = RW_IF_VAR;
	} else if (strcmp(a[1], "=") == 0 || strcmp(a[1], "!=") == 0) {
		rw->rw_cond = RW_IF_EQ;
		rw->rw_negate = a[1][0] == '!';
		if ((rw->rw_text = compile(cp, a[2])) == NULL)
			return conf_skip_block(cp);
	} else if (strcmp(a[1], "~") == 0 || strcmp(a[1], "~*") == 0 ||
	    strcmp(a[1], "!~") == 0 || strcmp(a[1], "!~*") == 0) {
		rw->rw_cond = RW_IF_REGEX;
		rw->rw_negate = a[1][0] == '!';
		if ((rw->rw_regex = conf_regex(cp, a[2], a[1][strlen(a[1]) -
		    1] == '*', err, sizeof(err))) == NULL) {
			conf_error(cp, "%s", err);
			return conf_skip_block(cp);
		}
	} else {
		conf_error(cp, "unexpected \"%s\" in condition", a[1]);
		return conf_skip_block(cp);
	}
	l = conf_loc_new(cp->cp_arena);
	l->lc_if = 1;
	l->lc_name = parent->lc_name;
	l->lc_namelen = parent->lc_namelen;
	l->lc_match = parent->lc_match;
	l->lc_parent = parent;
	l->lc_file = cp->cp_in->in_path;
	l->lc_line = cp->cp_line;
	for (lp = &parent->lc_ifs; *lp != NULL; lp = &(*lp)->lc_next)
		;
	*lp = l;
	rw->rw_if = l;
	cp->cp_loc = l;
	rc = conf_parse_block(cp, CTX_IF);
	cp->cp_loc = parent;
	return rc;
invalid:
	conf_error(cp, "invalid condition \"%s\"", argv[1]);
	return conf_skip_block(cp);
}

int
conf_set_internal(struct conf_parser *cp, const struct conf_cmd *c, int argc,
    char **argv, void *conf)
{
	struct conf_loc *l = conf;

	if (l->lc_internal) {
		conf_error(cp, "\"internal\" directive is duplicate");
		return -1;
	}
	l->lc_internal = 1;
	return 0;
}

/* "error_page code ... [=[response]] uri|@named|URL" */
int
conf_set_error_page(struct conf_parser *cp, const struct conf_cmd *c,
    int argc, char **argv, void *conf)
{
	struct conf_loc *l = conf;
	struct conf_errpage *ep, **ep_tail;
	struct var_tpl *target;
	const char *t = argv[argc - 1];
	long long code, overwrite = -1;
	int i, ncodes = argc - 2;

	if (argv[argc - 2][0] == '=') {
		if (argc == 3) {
			conf_error(cp, "invalid value \"%s\"", argv[argc - 2]);
			return -1;
		}
		overwrite = 0;
		if (argv[argc - 2][1] != '\0' && (str_parse_int(argv[argc - 2]
		    + 1, 999, &overwrite) == -1)) {
			conf_error(cp, "invalid value \"%s\"", argv[argc - 2]);
			return -1;
		}
		ncodes--;
	}
	if ((target = compile(cp, t)) == NULL)
		return -1;
	for (ep_tail = &l->lc_error_pages; *ep_tail != NULL;
	    ep_tail = &(*ep_tail)->ep_next)
		;
	for (i = 1; i <= ncodes; i++) {
		if (str_parse_int(argv[i], 999, &code) == -1 || code == 499) {
			conf_error(cp, "invalid value \"%s\"", argv[i]);
			return -1;
		}
		if (code < 300 || code > 599) {
			conf_error(cp, "value \"%s\" must be between 300 and "
			    "599", argv[i]);
			return -1;
		}
		ep = arena_alloc(cp->cp_arena, sizeof(*ep));
		ep->ep_code = code;
		ep->ep_overwrite = overwrite;
		/* as nginx: a too large header answered by a page is a 400 */
		if (overwrite == -1 && code == 494)
			ep->ep_overwrite = 400;
		ep->ep_target = target;
		ep->ep_named = t[0] == '@';
		ep->ep_url = t[0] != '/' && t[0] != '@';
		*ep_tail = ep;
		ep_tail = &ep->ep_next;
	}
	return 0;
}

/* inherited: rewrite_log, recursive_error_pages, the *_redirect flags, a
 * level's error pages, internal */
void
conf_rewrite_merge(struct conf_loc *l, const struct conf_loc *p)
{
	if (l->lc_rewrite_log == UNSET)
		l->lc_rewrite_log = p != NULL ? p->lc_rewrite_log : 0;
	if (l->lc_recursive_error_pages == UNSET)
		l->lc_recursive_error_pages = p != NULL ?
		    p->lc_recursive_error_pages : 0;
	if (l->lc_error_pages == NULL && p != NULL)
		l->lc_error_pages = p->lc_error_pages;
	/* as nginx: the locations nested in an internal one are too */
	if (p != NULL && p->lc_internal)
		l->lc_internal = 1;
}

/* map */

static int
key_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t i, n = MIN(alen, blen);
	int d;

	for (i = 0; i < n; i++) {
		d = tolower((unsigned char)a[i]) - (unsigned char)b[i];
		if (d != 0)
			return d;
	}
	return alen < blen ? -1 : alen > blen;
}

static int
mk_sort(const void *a, const void *b)
{
	const struct conf_map_key *x = a, *y = b;

	return key_cmp(x->mk_key, x->mk_len, y->mk_key, y->mk_len);
}

/* append to one of the map's arrays, doubling it in the arena */
static void *
grow(struct conf_parser *cp, void *arr, int n, int *cap, size_t size)
{
	void *na;

	if (n < *cap)
		return arr;
	*cap = *cap ? *cap * 2 : 16;
	na = arena_alloc(cp->cp_arena, *cap * size);
	if (n > 0)
		memcpy(na, arr, n * size);
	return na;
}

static int
key_add(struct conf_parser *cp, struct conf_map_key **arr, int *n, int *cap,
    const char *key, size_t len, struct var_tpl *value, const char *orig)
{
	struct conf_map_key *k;
	char *lc;
	size_t i;
	int j;

	lc = arena_strndup(cp->cp_arena, key, len);
	for (i = 0; i < len; i++)
		lc[i] = tolower((unsigned char)lc[i]);
	for (j = 0; j < *n; j++)
		if ((*arr)[j].mk_len == len && memcmp((*arr)[j].mk_key, lc,
		    len) == 0) {
			conf_error(cp, "conflicting parameter \"%s\"", orig);
			return -1;
		}
	*arr = grow(cp, *arr, *n, cap, sizeof(**arr));
	k = &(*arr)[(*n)++];
	k->mk_key = lc;
	k->mk_len = len;
	k->mk_value = value;
	return 0;
}

/* an entry of a map block: "key value;", "default v;", "hostnames;" */
int
conf_map_entry(struct conf_parser *cp, int argc, char **argv)
{
	struct conf_map *m = cp->cp_map;
	struct var_tpl *v;
	const char *key = argv[0];
	size_t len;

	if (argc == 1 && strcmp(key, "hostnames") == 0) {
		m->mp_hostnames = 1;
		return 0;
	}
	if (argc == 1 && strcmp(key, "volatile") == 0) {
		m->mp_volatile = 1;
		return 0;
	}
	if (argc != 2) {
		conf_error(cp, "invalid number of the map parameters");
		return -1;
	}
	if ((v = compile(cp, argv[1])) == NULL)
		return -1;
	if (strcmp(key, "default") == 0) {
		if (m->mp_default != NULL) {
			conf_error(cp, "duplicate default map parameter");
			return -1;
		}
		m->mp_default = v;
		return 0;
	}
	if (key[0] == '~') {
		struct regex *re;
		int caseless = key[1] == '*';
		char err[512];

		if ((re = conf_regex(cp, key + 1 + caseless, caseless, err,
		    sizeof(err))) == NULL) {
			conf_error(cp, "%s", err);
			return -1;
		}
		m->mp_re = grow(cp, m->mp_re, m->mp_nre, &m->mp_rcap,
		    sizeof(*m->mp_re));
		m->mp_re[m->mp_nre].mr_regex = re;
		m->mp_re[m->mp_nre++].mr_value = v;
		return 0;
	}
	/* "\default", "\~x": the key as written after the backslash */
	if (key[0] == '\\')
		key++;
	len = strlen(key);
	if (m->mp_hostnames && (strchr(key, '*') != NULL || key[0] == '.')) {
		if (str_has_prefix(key, "*.") && len > 2 &&
		    strchr(key + 1, '*') == NULL)
			return key_add(cp, &m->mp_head, &m->mp_nhead,
			    &m->mp_hcap, key + 1, len - 1, v, argv[0]);
		if (key[0] == '.' && len > 1 && strchr(key, '*') == NULL) {
			/* ".a.com" is "a.com" and "*.a.com" */
			if (key_add(cp, &m->mp_head, &m->mp_nhead, &m->mp_hcap,
			    key, len, v, argv[0]) == -1)
				return -1;
			return key_add(cp, &m->mp_exact, &m->mp_nexact,
			    &m->mp_cap, key + 1, len - 1, v, argv[0]);
		}
		if (len > 2 && key[len - 1] == '*' && key[len - 2] == '.' &&
		    strchr(key, '*') == key + len - 1)
			return key_add(cp, &m->mp_tail, &m->mp_ntail,
			    &m->mp_tcap, key, len - 1, v, argv[0]);
		conf_error(cp, "invalid hostname or wildcard \"%s\"", argv[0]);
		return -1;
	}
	return key_add(cp, &m->mp_exact, &m->mp_nexact, &m->mp_cap, key, len,
	    v, argv[0]);
}

/* "map $src $dst { ... }" */
int
conf_set_map(struct conf_parser *cp, const struct conf_cmd *c, int argc,
    char **argv, void *conf)
{
	struct conf_http *h = cp->cp_http;
	struct conf_map *m, **mp;
	const char *name = argv[2] + 1;
	int rc;

	m = arena_alloc(cp->cp_arena, sizeof(*m));
	m->mp_file = cp->cp_in->in_path;
	m->mp_line = cp->cp_line;
	if ((m->mp_src = compile(cp, argv[1])) == NULL)
		return conf_skip_block(cp);
	if (argv[2][0] != '$' || *name == '\0') {
		conf_error(cp, "invalid variable name \"%s\"", argv[2]);
		return conf_skip_block(cp);
	}
	if (var_is_builtin(name)) {
		conf_error(cp, "the duplicate \"%s\" variable", name);
		return conf_skip_block(cp);
	}
	for (mp = &h->hc_maps; *mp != NULL; mp = &(*mp)->mp_next) {
		if (strcmp(var_user_name((*mp)->mp_slot), name) == 0) {
			conf_error(cp, "the duplicate \"%s\" variable", name);
			return conf_skip_block(cp);
		}
	}
	if ((m->mp_slot = var_user_define(cp->cp_arena, name)) == -1) {
		conf_error(cp, "too many variables (at most %d)", VAR_MAX_USER);
		return conf_skip_block(cp);
	}
	*mp = m;
	cp->cp_map = m;
	rc = conf_parse_block(cp, CTX_MAP);
	cp->cp_map = NULL;
	if (m->mp_nexact > 1)
		qsort(m->mp_exact, m->mp_nexact, sizeof(*m->mp_exact), mk_sort);
	return rc;
}

/*
 * After the files: every variable used is defined (by set, map, or as a
 * named capture), and the generation learns its user variables.
 */
void
conf_vars_check(struct conf_parser *cp)
{
	struct gen *g = cp->cp_gen;
	struct conf_input in = { NULL, NULL, NULL, 0 };
	struct conf_map *m;
	const char *name, *file;
	int line, i;

	if ((name = var_user_undefined(&file, &line)) != NULL) {
		in.in_path = file != NULL ? file : g->g_conf_path;
		cp->cp_in = &in;
		cp->cp_line = line;
		conf_error(cp, "unknown \"%s\" variable", name);
		cp->cp_in = NULL;
		return;
	}
	g->g_nuvars = var_user_count();
	g->g_uvar_map = arena_alloc(cp->cp_arena, (g->g_nuvars + 1) *
	    sizeof(*g->g_uvar_map));
	/* var.c's table is the last config read, maybe not this one */
	g->g_uvar_names = arena_alloc(cp->cp_arena, (g->g_nuvars + 1) *
	    sizeof(*g->g_uvar_names));
	for (i = 0; i < g->g_nuvars; i++)
		g->g_uvar_names[i] = arena_strdup(cp->cp_arena,
		    var_user_name(i));
	if (g->g_http == NULL)
		return;
	for (m = g->g_http->hc_maps; m != NULL; m = m->mp_next)
		g->g_uvar_map[m->mp_slot] = m;
}

/* the longest key that v ends with (head) or starts with (tail) */
static const struct conf_map_key *
wild_find(const struct conf_map_key *k, int n, const char *v, size_t len,
    int tail)
{
	const struct conf_map_key *best = NULL;
	int i;

	for (i = 0; i < n; i++) {
		const char *at = tail ? v : v + len - k[i].mk_len;

		if (k[i].mk_len >= len || (best != NULL &&
		    k[i].mk_len <= best->mk_len))
			continue;
		if (key_cmp(at, k[i].mk_len, k[i].mk_key, k[i].mk_len) == 0)
			best = &k[i];
	}
	return best;
}

/*
 * nginx's order: the exact key (not case-sensitive), the longest leading
 * wildcard, the longest trailing wildcard, then the regexes in the order
 * of the block (captures in cap); NULL: the default applies.
 */
const struct var_tpl *
conf_map_find(const struct conf_map *m, const char *v, size_t len,
    struct regex_captures *cap)
{
	const struct conf_map_key *k;
	int lo = 0, hi = m->mp_nexact - 1, mid, d, i;

	if (m->mp_hostnames && len > 0 && v[len - 1] == '.')
		len--;
	while (lo <= hi) {
		mid = (lo + hi) / 2;
		k = &m->mp_exact[mid];
		d = key_cmp(v, len, k->mk_key, k->mk_len);
		if (d == 0)
			return k->mk_value;
		if (d < 0)
			hi = mid - 1;
		else
			lo = mid + 1;
	}
	if ((k = wild_find(m->mp_head, m->mp_nhead, v, len, 0)) != NULL)
		return k->mk_value;
	if ((k = wild_find(m->mp_tail, m->mp_ntail, v, len, 1)) != NULL)
		return k->mk_value;
	if (len == 0)
		return NULL;
	for (i = 0; i < m->mp_nre; i++)
		if (regex_match(m->mp_re[i].mr_regex, v, len, cap) == 1)
			return m->mp_re[i].mr_value;
	return NULL;
}
