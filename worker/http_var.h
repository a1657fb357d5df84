/*
 * http_var.h: the values of variables for one request.
 */
#ifndef PORTICO_HTTP_VAR_H
#define PORTICO_HTTP_VAR_H

#include "conn.h"
#include "var.h"

/*
 * Append the template's value to b, each variable escaped as asked; a
 * variable without a value is "-" when dash is set (as in access logs)
 * and empty otherwise.  -1 when b is full.
 */
int	 http_var_render(struct conn *, const struct var_tpl *, struct buf *b,
	    int escape, int dash);

/* the same without evaluating the maps first (http_rewrite_prepare) */
int	 http_var_render_raw(struct conn *, const struct var_tpl *,
	    struct buf *b, int escape, int dash);

/* is the template's value empty or "0" (access_log if=) */
int	 http_var_is_false(struct conn *, const struct var_tpl *);

#endif
