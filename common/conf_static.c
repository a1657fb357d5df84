/*
 * conf_static.c: the directives of static file serving (root, alias,
 * index, try_files, expires, add_header, if_modified_since), their
 * defaults and nginx's inheritance of them.  The on/off ones use the
 * generic set_flag of conf_dir.c.
 */
#include "core.h"

#include <strings.h>

#include "conf_int.h"
#include "str.h"

static struct var_tpl *
tpl(struct conf_parser *cp, const char *src)
{
	struct var_tpl *t;
	char err[256];

	if ((t = var_compile(cp->cp_arena, src, err, sizeof(err))) == NULL)
		conf_error(cp, "%s", err);
	return t;
}

/* root path; alias path */
int
conf_set_root(struct conf_parser *cp, const struct conf_cmd *c, int argc,
    char **argv, void *conf)
{
	struct conf_loc *l = conf;
	int alias = strcmp(argv[0], "alias") == 0;
	char *path;
	size_t len;

	if (l->lc_root != NULL) {
		if ((l->lc_alias != 0) == alias)
			conf_error(cp, "\"%s\" directive is duplicate", argv[0]);
		else
			conf_error(cp, "\"%s\" directive is duplicate, \"%s\" "
			    "directive was specified earlier", argv[0],
			    l->lc_alias ? "alias" : "root");
		return -1;
	}
	if (alias && l->lc_match == LOC_NAMED) {
		conf_error(cp, "the \"alias\" directive cannot be used inside "
		    "the named location");
		return -1;
	}
	path = arena_strdup(cp->cp_arena, argv[1]);
	len = strlen(path);
	/* as nginx: root drops a trailing slash, alias keeps it */
	if (!alias && len > 1 && path[len - 1] == '/')
		path[len - 1] = '\0';
	if ((l->lc_root = tpl(cp, path)) == NULL)
		return -1;
	if (alias)
		l->lc_alias = l->lc_match == LOC_REGEX ? SIZE_MAX :
		    l->lc_namelen;
	return 0;
}

int
conf_set_index(struct conf_parser *cp, const struct conf_cmd *c, int argc,
    char **argv, void *conf)
{
	struct conf_loc *l = conf;
	struct var_tpl **list;
	int i;

	list = arena_alloc(cp->cp_arena, (l->lc_nindex + argc - 1) *
	    sizeof(*list));
	if (l->lc_nindex)
		memcpy(list, l->lc_index, l->lc_nindex * sizeof(*list));
	for (i = 1; i < argc; i++) {
		if (argv[i][0] == '\0') {
			conf_error(cp, "index \"\" in \"index\" directive is "
			    "invalid");
			return -1;
		}
		if (argv[i][0] == '/' && i != argc - 1) {
			conf_error(cp, "only the last index in \"index\" "
			    "directive should be absolute");
			return -1;
		}
		if ((list[l->lc_nindex + i - 1] = tpl(cp, argv[i])) == NULL)
			return -1;
	}
	l->lc_index = list;
	l->lc_nindex += argc - 1;
	return 0;
}

int
conf_set_autoindex(struct conf_parser *cp, const struct conf_cmd *c,
    int argc, char **argv, void *conf)
{
	struct conf_loc *l = conf;

	if (l->lc_autoindex != UNSET) {
		conf_error(cp, "\"%s\" directive is duplicate", argv[0]);
		return -1;
	}
	if (strcasecmp(argv[1], "off") == 0) {
		l->lc_autoindex = 0;
		return 0;
	}
	if (strcasecmp(argv[1], "on") == 0)
		conf_error(cp, "\"autoindex on\" is not supported yet");
	else
		conf_error(cp, "invalid value \"%s\" in \"%s\" directive, it "
		    "must be \"on\" or \"off\"", argv[1], argv[0]);
	return -1;
}

int
conf_set_ims(struct conf_parser *cp, const struct conf_cmd *c, int argc,
    char **argv, void *conf)
{
	struct conf_loc *l = conf;

	if (l->lc_if_modified_since != UNSET) {
		conf_error(cp, "\"%s\" directive is duplicate", argv[0]);
		return -1;
	}
	if (strcmp(argv[1], "off") == 0)
		l->lc_if_modified_since = IMS_OFF;
	else if (strcmp(argv[1], "exact") == 0)
		l->lc_if_modified_since = IMS_EXACT;
	else if (strcmp(argv[1], "before") == 0)
		l->lc_if_modified_since = IMS_BEFORE;
	else {
		conf_error(cp, "invalid value \"%s\" in \"%s\" directive, it "
		    "must be \"off\", \"exact\" or \"before\"", argv[1],
		    argv[0]);
		return -1;
	}
	return 0;
}

/* expires [modified] time | epoch | max | off */
int
conf_set_expires(struct conf_parser *cp, const struct conf_cmd *c,
    int argc, char **argv, void *conf)
{
	struct conf_loc *l = conf;
	const char *v = argv[1];
	int modified = 0, neg = 0;
	msec_t t;

	if (l->lc_expires != UNSET) {
		conf_error(cp, "\"%s\" directive is duplicate", argv[0]);
		return -1;
	}
	if (argc == 3) {
		if (strcmp(argv[1], "modified") != 0) {
			conf_error(cp, "invalid value \"%s\" in \"%s\" "
			    "directive", argv[1], argv[0]);
			return -1;
		}
		modified = 1;
		v = argv[2];
	}
	l->lc_expires_time = 0;
	if (!modified && strcmp(v, "epoch") == 0) {
		l->lc_expires = EXPIRES_EPOCH;
		return 0;
	}
	if (!modified && strcmp(v, "max") == 0) {
		l->lc_expires = EXPIRES_MAX;
		return 0;
	}
	if (!modified && strcmp(v, "off") == 0) {
		l->lc_expires = EXPIRES_OFF;
		return 0;
	}
	if (v[0] == '@') {
		conf_error(cp, "\"expires @time\" is not supported yet");
		return -1;
	}
	if (v[0] == '-') {
		neg = 1;
		v++;
	} else if (v[0] == '+')
		v++;
	if (str_parse_time(v, &t) == -1) {
		conf_error(cp, "invalid value \"%s\" in \"%s\" directive",
		    argv[argc - 1], argv[0]);
		return -1;
	}
	l->lc_expires = modified ? EXPIRES_MODIFIED : EXPIRES_TIME;
	l->lc_expires_time = neg ? -t : t;
	return 0;
}

/* add_header name value [always] */
int
conf_set_add_header(struct conf_parser *cp, const struct conf_cmd *c,
    int argc, char **argv, void *conf)
{
	struct conf_loc *l = conf;
	struct conf_header *h, **hp;

	if (argc == 4 && strcmp(argv[3], "always") != 0) {
		conf_error(cp, "invalid parameter \"%s\"", argv[3]);
		return -1;
	}
	h = arena_alloc(cp->cp_arena, sizeof(*h));
	h->hd_name = arena_strdup(cp->cp_arena, argv[1]);
	if ((h->hd_value = tpl(cp, argv[2])) == NULL)
		return -1;
	h->hd_always = argc == 4;
	for (hp = &l->lc_headers; *hp != NULL; hp = &(*hp)->hd_next)
		;
	*hp = h;
	l->lc_headers_set = 1;
	return 0;
}

/* try_files file ... uri | =code */
int
conf_set_try_files(struct conf_parser *cp, const struct conf_cmd *c,
    int argc, char **argv, void *conf)
{
	struct conf_loc *l = conf;
	struct conf_try *t;
	const char *last = argv[argc - 1];
	long long code;
	int i;

	if (l->lc_try != NULL) {
		conf_error(cp, "\"%s\" directive is duplicate", argv[0]);
		return -1;
	}
	t = arena_alloc(cp->cp_arena, sizeof(*t));
	t->tf_nfiles = argc - 2;
	t->tf_files = arena_alloc(cp->cp_arena, t->tf_nfiles *
	    sizeof(*t->tf_files));
	t->tf_dirs = arena_alloc(cp->cp_arena, t->tf_nfiles * sizeof(int));
	for (i = 0; i < t->tf_nfiles; i++) {
		char *a = arena_strdup(cp->cp_arena, argv[i + 1]);
		size_t len = strlen(a);

		/* as nginx: the slash only says "a directory" */
		if (len > 0 && a[len - 1] == '/') {
			t->tf_dirs[i] = 1;
			a[len - 1] = '\0';
		}
		if ((t->tf_files[i] = tpl(cp, a)) == NULL)
			return -1;
	}
	if (last[0] == '=') {
		if (str_parse_int(last + 1, 999, &code) == -1) {
			conf_error(cp, "invalid code \"%s\"", last);
			return -1;
		}
		t->tf_code = code;
	} else if ((t->tf_uri = tpl(cp, last)) == NULL)
		return -1;
	l->lc_try = t;
	return 0;
}

/* before the http level is merged: the defaults that need the parser */
void
conf_static_defaults(struct conf_parser *cp, struct conf_loc *http)
{
	if (http->lc_root == NULL)
		http->lc_root = tpl(cp, "html");
	if (http->lc_nindex == 0) {
		http->lc_index = arena_alloc(cp->cp_arena,
		    sizeof(*http->lc_index));
		http->lc_index[0] = tpl(cp, "index.html");
		http->lc_nindex = 1;
	}
}

#define INHERIT(c, p, f, def) do {					\
	if ((c)->f == UNSET)						\
		(c)->f = (p) != NULL ? (p)->f : (def);			\
} while (0)

void
conf_static_merge(struct conf_loc *l, const struct conf_loc *p)
{
	if (l->lc_root == NULL && p != NULL) {
		l->lc_root = p->lc_root;
		l->lc_alias = p->lc_alias;
	}
	if (l->lc_nindex == 0 && p != NULL) {
		l->lc_index = p->lc_index;
		l->lc_nindex = p->lc_nindex;
	}
	INHERIT(l, p, lc_autoindex, 0);
	INHERIT(l, p, lc_sendfile, 0);
	INHERIT(l, p, lc_tcp_nopush, 0);
	INHERIT(l, p, lc_tcp_nodelay, 1);
	INHERIT(l, p, lc_etag, 1);
	INHERIT(l, p, lc_if_modified_since, IMS_EXACT);
	INHERIT(l, p, lc_absolute_redirect, 1);
	INHERIT(l, p, lc_port_in_redirect, 1);
	INHERIT(l, p, lc_server_name_in_redirect, 0);
	if (l->lc_expires == UNSET) {
		l->lc_expires = p != NULL ? p->lc_expires : EXPIRES_OFF;
		l->lc_expires_time = p != NULL ? p->lc_expires_time : 0;
	}
	if (!l->lc_headers_set && p != NULL) {
		l->lc_headers = p->lc_headers;
		l->lc_headers_set = p->lc_headers_set;
	}
}
