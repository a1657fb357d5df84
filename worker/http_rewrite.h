/*
 * http_rewrite.h: the rewrite phase (return, rewrite, set, break run in
 * config order) and the user variables of set and map.
 */
#ifndef PORTICO_HTTP_REWRITE_H
#define PORTICO_HTTP_REWRITE_H

#include "conn.h"

/* what running a level's program decided */
enum {
	HTTP_RW_NEXT = 0,	/* go on: find the location, or content */
	HTTP_RW_RESEARCH,	/* the URI changed: find the location again */
	HTTP_RW_ANSWER,		/* r_ret_* hold the answer */
};

int	 http_rewrite_run(struct conn *, const struct conf_loc *);

/* evaluate the maps a template names, before it is rendered */
void	 http_rewrite_prepare(struct conn *, const struct var_tpl *);
const struct http_uvar *http_rewrite_uvar(struct conn *, int slot);

#endif
