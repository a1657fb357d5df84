/*
 * conf_find.c: the lookups the data path makes into the finished tree:
 * the server for a Host, the location for a URI, a named location, the
 * MIME type of an extension.
 */
#include "core.h"

#include "conf.h"

static int
name_matches(const char *pat, const char *host, size_t len, int *rank,
    size_t *plen)
{
	size_t pl = strlen(pat);

	if (pl == len && memcmp(pat, host, len) == 0) {
		*rank = 0;
		*plen = pl;
		return 1;
	}
	if (pat[0] == '*' && pat[1] == '.') {
		/* "*.a.com": any name ending in ".a.com" */
		if (len > pl - 1 && memcmp(host + len - (pl - 1), pat + 1,
		    pl - 1) == 0) {
			*rank = 1;
			*plen = pl;
			return 1;
		}
	} else if (pat[0] == '.') {
		/* ".a.com": "a.com" and any name ending in ".a.com" */
		if ((len == pl - 1 && memcmp(host, pat + 1, len) == 0) ||
		    (len > pl && memcmp(host + len - pl, pat, pl) == 0)) {
			*rank = 1;
			*plen = pl;
			return 1;
		}
	} else if (pl > 2 && pat[pl - 1] == '*' && pat[pl - 2] == '.') {
		/* "www.a.*": any name starting with "www.a." */
		if (len > pl - 1 && memcmp(host, pat, pl - 1) == 0) {
			*rank = 2;
			*plen = pl;
			return 1;
		}
	}
	return 0;
}

/*
 * host is lowercase, without the port.  nginx's order: exact name,
 * longest leading wildcard, longest trailing wildcard, the first
 * matching regex, then the default server.
 */
struct conf_srv *
conf_find_server(const struct gen_listen *gl, const char *host, size_t len,
    struct regex_captures *cap)
{
	struct conf_srv *best = NULL;
	int i, j, rank, best_rank = 99;
	size_t plen, best_len = 0;

	/* no Host (HTTP/1.0): the empty name */
	if (host == NULL) {
		host = "";
		len = 0;
	}
	for (i = 0; i < gl->gl_nservers; i++) {
		struct conf_srv *s = gl->gl_servers[i];

		for (j = 0; j < s->sc_nnames; j++) {
			if (!name_matches(s->sc_names[j], host, len, &rank,
			    &plen))
				continue;
			if (rank == 0)
				return s;
			if (rank < best_rank ||
			    (rank == best_rank && plen > best_len)) {
				best = s;
				best_rank = rank;
				best_len = plen;
			}
		}
	}
	if (best != NULL)
		return best;
	for (i = 0; i < gl->gl_nservers; i++) {
		struct conf_srv *s = gl->gl_servers[i];

		for (j = 0; j < s->sc_nregexes; j++)
			if (regex_match(s->sc_regexes[j], host, len, cap) == 1)
				return s;
	}
	return gl->gl_default;
}

enum {
	FIND_NONE,	/* nothing matched at this level */
	FIND_PREFIX,	/* a prefix matched: regexes may still win */
	FIND_FINAL,	/* exact, ^~ or a regex: the search ends */
};

/*
 * nginx's order at one level: the exact or longest prefix among the
 * static locations; from a prefix, the same search among its nested
 * locations; then, unless that prefix is ^~, this level's regexes in
 * the order of the config, the first match winning.
 */
static int
find_in(struct conf_loc *parent, const char *uri, size_t len,
    struct conf_loc **out, struct regex_captures *cap)
{
	struct conf_loc *here = NULL, *l;
	int rc = FIND_NONE, noregex = 0;

	for (l = parent->lc_children; l != NULL; l = l->lc_next) {
		if (l->lc_match == LOC_NAMED || l->lc_match == LOC_REGEX)
			continue;
		if (l->lc_match == LOC_EXACT) {
			if (l->lc_namelen == len &&
			    memcmp(l->lc_name, uri, len) == 0) {
				*out = l;
				return FIND_FINAL;
			}
			continue;
		}
		if (l->lc_namelen <= len &&
		    memcmp(l->lc_name, uri, l->lc_namelen) == 0 &&
		    (here == NULL || l->lc_namelen > here->lc_namelen))
			here = l;
	}
	if (here != NULL) {
		*out = here;
		noregex = here->lc_match == LOC_NOREGEX;
		rc = find_in(here, uri, len, out, cap);
		if (rc == FIND_FINAL)
			return rc;
		rc = FIND_PREFIX;
	}
	/* ^~ skips this level's regexes only, as in nginx */
	if (noregex)
		return rc;
	for (l = parent->lc_children; l != NULL; l = l->lc_next) {
		if (l->lc_match != LOC_REGEX ||
		    regex_match(l->lc_regex, uri, len, cap) != 1)
			continue;
		*out = l;
		/* a regex location's own nested locations come next */
		find_in(l, uri, len, out, cap);
		return FIND_FINAL;
	}
	return rc;
}

struct conf_loc *
conf_find_location(struct conf_loc *srvloc, const char *uri, size_t len,
    struct regex_captures *cap)
{
	struct conf_loc *best = srvloc;

	find_in(srvloc, uri, len, &best, cap);
	return best;
}

struct conf_loc *
conf_find_named(struct conf_loc *srvloc, const char *name)
{
	struct conf_loc *l;

	for (l = srvloc->lc_children; l != NULL; l = l->lc_next)
		if (l->lc_match == LOC_NAMED && strcmp(l->lc_name, name) == 0)
			return l;
	return NULL;
}

const char *
conf_mime_type(const struct conf_loc *l, const char *ext, size_t len)
{
	const struct conf_types *t = l->lc_types;
	int i;

	if (t == NULL)
		return NULL;
	for (i = t->ty_n - 1; i >= 0; i--)
		if (strlen(t->ty_list[i].t_ext) == len &&
		    strncasecmp(t->ty_list[i].t_ext, ext, len) == 0)
			return t->ty_list[i].t_type;
	return NULL;
}
