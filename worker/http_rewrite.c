/*
 * http_rewrite.c: the rewrite phase.  A level's return, rewrite, set and
 * break directives run in config order as a small program (the server's
 * before the location is looked up, the location's after).  User
 * variables of set and map live in the request's memory (c_redirect):
 * a map is evaluated when a template naming it is about to be rendered,
 * and its value is kept for the request unless the map is volatile.
 */
#include "core.h"

#include "http_rewrite.h"
#include "http_var.h"
#include "log.h"

static struct http_uvar *
uvars(struct conn *c)
{
	struct http_req *r = &c->c_req;
	int n = c->c_gen->g_nuvars;

	if (r->r_uvars == NULL && n > 0)
		r->r_uvars = http_work_alloc(c, n * sizeof(*r->r_uvars));
	return r->r_uvars;
}

const struct http_uvar *
http_rewrite_uvar(struct conn *c, int slot)
{
	struct http_uvar *u = c->c_req.r_uvars;

	if (u == NULL || slot < 0 || slot >= c->c_gen->g_nuvars)
		return NULL;
	return &u[slot];
}

static void
map_eval(struct conn *c, struct http_uvar *u, const struct conf_map *m)
{
	struct http_req *r = &c->c_req;
	const struct var_tpl *v;
	const char *src;
	size_t len;

	u->uv_state = HTTP_UV_BUSY;
	if ((src = http_work_render(c, m->mp_src, &len)) == NULL)
		goto fail;
	if ((v = conf_map_find(m, src, len, &r->r_cap)) == NULL)
		v = m->mp_default;
	if (v == NULL) {
		u->uv_val = "";
		u->uv_len = 0;
	} else if ((u->uv_val = http_work_render(c, v, &u->uv_len)) == NULL)
		goto fail;
	u->uv_state = HTTP_UV_SET;
	return;
fail:
	conn_log(c, LOG_ERR, "no per-request memory left for the map of "
	    "\"$%s\"", c->c_gen->g_uvar_names[m->mp_slot]);
	u->uv_state = HTTP_UV_UNSET;
}

void
http_rewrite_prepare(struct conn *c, const struct var_tpl *t)
{
	struct conf_map *m;
	struct http_uvar *u;
	int i, slot;

	for (i = 0; i < t->vt_nparts; i++) {
		if (t->vt_parts[i].vp_var != VAR_USER)
			continue;
		slot = (int)t->vt_parts[i].vp_len;
		if (slot >= c->c_gen->g_nuvars ||
		    (m = c->c_gen->g_uvar_map[slot]) == NULL)
			continue;
		if ((u = uvars(c)) == NULL)
			return;
		u += slot;
		if (u->uv_state == HTTP_UV_BUSY) {
			conn_log(c, LOG_ERR, "cycle while evaluating variable "
			    "\"%s\"", c->c_gen->g_uvar_names[slot]);
			continue;
		}
		if (u->uv_state == HTTP_UV_UNSET || m->mp_volatile)
			map_eval(c, u, m);
	}
}

/* "rewritten data: ..." lines of rewrite_log are notices, as in nginx */
static void
rw_log(struct conn *c, const struct conf_loc *l, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
rw_log(struct conn *c, const struct conf_loc *l, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!l->lc_rewrite_log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	conn_log(c, LOG_NOTICE, "%s", msg);
}

/*
 * As nginx: when the request's path was percent-encoded (or had a '+'),
 * captures put into arguments or a redirect are encoded again.
 */
static int
cap_escape(struct conn *c)
{
	const struct http_head *h = &c->c_req.r_head;
	const char *q = memchr(h->hh_target, '?', h->hh_targetlen);
	size_t n = q != NULL ? (size_t)(q - h->hh_target) : h->hh_targetlen;

	return memchr(h->hh_target, '%', n) != NULL ||
	    memchr(h->hh_target, '+', n) != NULL ? VAR_ESC_CAP_ARGS :
	    VAR_ESC_NONE;
}

static int
hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch |= 0x20;
	return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/*
 * nginx decodes a redirect's path before it is sent, up to the first '?'
 * (a decoded one too), except what must stay encoded (controls, space,
 * " # % and non-ASCII).  In place; returns the new length.
 */
static size_t
unescape_redirect(char *s, size_t len)
{
	size_t i = 0, o = 0;
	int hi, lo, ch;

	while (i < len) {
		if (s[i] == '?')
			break;
		if (s[i] == '%' && i + 2 < len && (hi = hexval(
		    (unsigned char)s[i + 1])) >= 0 && (lo = hexval(
		    (unsigned char)s[i + 2])) >= 0) {
			ch = hi << 4 | lo;
			if (ch == '?') {
				s[o++] = '?';
				i += 3;
				break;
			}
			if (ch > '%' && ch < 0x7f) {
				s[o++] = ch;
				i += 3;
				continue;
			}
		}
		s[o++] = s[i++];
	}
	memmove(s + o, s + i, len - i);
	return o + len - i;
}

/* the redirect a rewrite makes: replacement, then the request's args */
static int
rw_redirect(struct conn *c, const struct conf_loc *l, const struct conf_rw *rw)
{
	struct http_req *r = &c->c_req;
	int esc = cap_escape(c);
	struct buf t;
	char *loc;
	size_t len;

	http_rewrite_prepare(c, rw->rw_uri);
	if (rw->rw_args != NULL)
		http_rewrite_prepare(c, rw->rw_args);
	if (http_work_begin(c, &t) == -1 ||
	    http_var_render_raw(c, rw->rw_uri, &t, esc, 0) == -1)
		return -1;
	if (rw->rw_args != NULL && (http_work_put(&t, "?", 1) == -1 ||
	    http_var_render_raw(c, rw->rw_args, &t, esc, 0) == -1))
		return -1;
	t.b_last = t.b_start + unescape_redirect(t.b_start,
	    t.b_last - t.b_start);
	if (rw->rw_add_args && r->r_args != NULL && r->r_argslen > 0 &&
	    (http_work_put(&t, rw->rw_args != NULL ? "&" : "?", 1) == -1 ||
	    http_work_put(&t, r->r_args, r->r_argslen) == -1))
		return -1;
	if ((loc = http_work_end(c, &t, &len)) == NULL)
		return -1;
	rw_log(c, l, "rewritten redirect: \"%.*s\"", (int)MIN(len, 512), loc);
	r->r_ret_code = rw->rw_code;
	r->r_ret_text = NULL;
	r->r_ret_loc = loc;
	r->r_ret_loclen = len;
	return 0;
}

/* an internal rewrite: $uri and $args change */
static int
rw_internal(struct conn *c, const struct conf_loc *l, const struct conf_rw *rw)
{
	struct http_req *r = &c->c_req;
	const char *uri, *args = NULL;
	size_t ulen, alen = 0;
	struct buf t;

	if ((uri = http_work_render(c, rw->rw_uri, &ulen)) == NULL)
		return -1;
	if (rw->rw_args != NULL) {
		http_rewrite_prepare(c, rw->rw_args);
		if (http_work_begin(c, &t) == -1 ||
		    http_var_render_raw(c, rw->rw_args, &t, cap_escape(c), 0)
		    == -1)
			return -1;
		if (rw->rw_add_args && r->r_args != NULL && r->r_argslen > 0 &&
		    (http_work_put(&t, "&", 1) == -1 ||
		    http_work_put(&t, r->r_args, r->r_argslen) == -1))
			return -1;
		if ((args = http_work_end(c, &t, &alen)) == NULL)
			return -1;
	} else if (rw->rw_add_args) {
		args = r->r_args;
		alen = r->r_argslen;
	}
	if (ulen == 0) {
		conn_log(c, LOG_ERR, "the rewritten URI has a zero length");
		return -2;
	}
	rw_log(c, l, "rewritten data: \"%.*s\", args: \"%.*s\"",
	    (int)MIN(ulen, 512), uri, (int)MIN(alen, 256), args ? args : "");
	r->r_path = uri;
	r->r_pathlen = ulen;
	r->r_args = alen > 0 ? args : NULL;
	r->r_argslen = alen;
	r->r_internal = 1;
	r->r_uri_changed = 1;
	return 0;
}

static int
rw_set(struct conn *c, const struct conf_rw *rw)
{
	struct http_req *r = &c->c_req;
	struct http_uvar *u;
	const char *v;
	size_t len;

	if ((v = http_work_render(c, rw->rw_text, &len)) == NULL)
		return -1;
	if (rw->rw_set_args) {
		r->r_args = len > 0 ? v : NULL;
		r->r_argslen = len;
		return 0;
	}
	if ((u = uvars(c)) == NULL)
		return -1;
	u[rw->rw_slot].uv_val = v;
	u[rw->rw_slot].uv_len = len;
	u[rw->rw_slot].uv_state = HTTP_UV_SET;
	return 0;
}

static int
fail(struct conn *c)
{
	struct http_req *r = &c->c_req;

	r->r_ret_code = 500;
	r->r_ret_text = NULL;
	r->r_ret_loc = NULL;
	return HTTP_RW_ANSWER;
}

/* the condition of an if: 1 true, 0 false, -1 out of memory */
static int
if_true(struct conn *c, const struct conf_rw *rw)
{
	const char *v, *w;
	size_t vlen, wlen;
	int rc;

	if (rw->rw_cond == RW_IF_VAR)
		return !http_var_is_false(c, rw->rw_lhs);
	if ((v = http_work_render(c, rw->rw_lhs, &vlen)) == NULL)
		return -1;
	if (rw->rw_cond == RW_IF_EQ) {
		if ((w = http_work_render(c, rw->rw_text, &wlen)) == NULL)
			return -1;
		rc = vlen == wlen && memcmp(v, w, vlen) == 0;
	} else if ((rc = regex_match(rw->rw_regex, v, vlen,
	    &c->c_req.r_cap)) == -1)
		return -1;
	return rw->rw_negate ? !rc : rc;
}

#define RW_STOP	(-1)	/* break: the whole program ends */

/*
 * The ops of l.  A rewrite without a flag goes on with the next op;
 * "last" ends the program and the location is looked up again; "break"
 * (the flag or the directive) ends it in this location.  The ops of a
 * true if run in line, and its block becomes the request's config.
 */
static int
run(struct conn *c, const struct conf_loc *l, int *changed)
{
	struct http_req *r = &c->c_req;
	const struct conf_rw *rw;
	int rc;

	for (rw = l->lc_rw; rw != NULL; rw = rw->rw_next) {
		switch (rw->rw_op) {
		case RW_RETURN:
			r->r_ret_code = rw->rw_code;
			r->r_ret_text = rw->rw_text;
			r->r_ret_loc = NULL;
			return HTTP_RW_ANSWER;
		case RW_BREAK:
			return RW_STOP;
		case RW_SET:
			if (rw_set(c, rw) == -1) {
				conn_log(c, LOG_ERR, "no per-request memory "
				    "left for \"set\"");
				return fail(c);
			}
			continue;
		case RW_IF:
			if ((rc = if_true(c, rw)) == -1) {
				conn_log(c, LOG_ERR, "no per-request memory "
				    "left for \"if\"");
				return fail(c);
			}
			if (rc == 0)
				continue;
			r->r_loc = rw->rw_if;
			if ((rc = run(c, rw->rw_if, changed)) != HTTP_RW_NEXT)
				return rc;
			continue;
		case RW_REWRITE:
			break;
		}
		rc = regex_match(rw->rw_regex, r->r_path, r->r_pathlen,
		    &r->r_cap);
		if (rc == -1) {
			conn_log(c, LOG_ERR, "regex \"%s\" failed on \"%.*s\"",
			    rw->rw_regex->re_src, (int)MIN(r->r_pathlen, 512),
			    r->r_path);
			return fail(c);
		}
		if (rc == 0) {
			rw_log(c, l, "\"%s\" does not match \"%.*s\"",
			    rw->rw_regex->re_src, (int)MIN(r->r_pathlen, 512),
			    r->r_path);
			continue;
		}
		rw_log(c, l, "\"%s\" matches \"%.*s\"", rw->rw_regex->re_src,
		    (int)MIN(r->r_pathlen, 512), r->r_path);
		if (rw->rw_redirect) {
			if (rw_redirect(c, l, rw) == -1) {
				conn_log(c, LOG_ERR, "no per-request memory "
				    "left for a rewrite");
				return fail(c);
			}
			return HTTP_RW_ANSWER;
		}
		if ((rc = rw_internal(c, l, rw)) < 0) {
			if (rc == -1)
				conn_log(c, LOG_ERR, "no per-request memory "
				    "left for a rewrite");
			return fail(c);
		}
		if (rw->rw_flag == RW_FLAG_LAST)
			return HTTP_RW_RESEARCH;
		if (rw->rw_flag == RW_FLAG_BREAK)
			return RW_STOP;
		*changed = 1;
	}
	return HTTP_RW_NEXT;
}

/* run a level's program (the server's, or a location's) */
int
http_rewrite_run(struct conn *c, const struct conf_loc *l)
{
	int changed = 0, rc;

	rc = run(c, l, &changed);
	if (rc == RW_STOP)
		return HTTP_RW_NEXT;
	if (rc == HTTP_RW_NEXT && changed)
		return HTTP_RW_RESEARCH;
	return rc;
}
