/*
 * regex.h: PCRE2 patterns, compiled and JIT-compiled when the config is
 * loaded; one match data per process, reused for every match.
 */
#ifndef PORTICO_REGEX_H
#define PORTICO_REGEX_H

#include "core.h"

#include "arena.h"

#define REGEX_MAX_CAPTURES	32	/* groups kept for $1..$9 and names */

struct regex {
	void		*re_code;	/* pcre2_code */
	const char	*re_src;
	int		 re_caseless;
	int		 re_ncaptures;
	struct regex	*re_next;	/* every regex of a generation */
};

/* what a successful match leaves for $1..$9 and named captures */
struct regex_captures {
	const struct regex *rc_re;
	const char	*rc_subject;
	int		 rc_n;		/* pairs in rc_ovec */
	size_t		 rc_ovec[2 * REGEX_MAX_CAPTURES];
};

struct regex	*regex_compile(struct arena *, struct regex **list,
		    const char *src, int caseless, char *err, size_t errlen);
void		 regex_free_all(struct regex *list);
int		 regex_match(const struct regex *, const char *s, size_t len,
		    struct regex_captures *);
int		 regex_capture(const struct regex_captures *, int n,
		    const char **p, size_t *len);
int		 regex_named(const struct regex_captures *, const char *name,
		    const char **p, size_t *len);

/* named groups of a pattern, for the config's variable names */
int		 regex_names(const struct regex *, const char **names, int max);

#endif
