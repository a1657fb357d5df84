/*
 * http_var.c: variables.  Each is computed from the request when a
 * template that names it is rendered; nothing is parsed again.
 */
#include "core.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <strings.h>
#include <sys/random.h>

#include "clock.h"
#include "http_proxy.h"
#include "http_rewrite.h"
#include "http_var.h"
#include "tls.h"
#include "regex.h"

static size_t
sockaddr_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	return ntohs(((const struct sockaddr_in *)ss)->sin_port);
}

/* $http_x_real_ip is the header X-Real-IP: '_' for '-', any case */
static int
header_value(const struct http_head *h, const char *name, size_t nlen,
    const char **v, size_t *vlen)
{
	size_t i;
	int j;

	for (j = 0; j < h->hh_nheaders; j++) {
		const struct http_header *hd = &h->hh_headers[j];

		if (hd->h_namelen != nlen)
			continue;
		for (i = 0; i < nlen; i++) {
			int a = hd->h_name[i] | 0x20, b = name[i] | 0x20;

			if (name[i] == '_' && hd->h_name[i] == '-')
				continue;
			if (a != b)
				break;
		}
		if (i == nlen) {
			*v = hd->h_value;
			*vlen = hd->h_valuelen;
			return 1;
		}
	}
	return 0;
}

/* name=value pairs separated by sep ("; " for cookies, "&" for args) */
static int
pair_value(const char *s, size_t len, char sep, const char *name,
    size_t nlen, const char **v, size_t *vlen)
{
	const char *p = s, *end = s + len, *e, *eq;

	while (p < end) {
		while (p < end && (*p == ' ' || *p == sep))
			p++;
		e = memchr(p, sep, end - p);
		if (e == NULL)
			e = end;
		eq = memchr(p, '=', e - p);
		if (eq != NULL && (size_t)(eq - p) == nlen &&
		    strncasecmp(p, name, nlen) == 0) {
			*v = eq + 1;
			*vlen = e - eq - 1;
			return 1;
		}
		p = e;
	}
	return 0;
}

/* 32 hex digits, per request, from a per-process random state */
static void
request_id(struct conn *c, char *out)
{
	static uint64_t s[2];
	static const char hex[] = "0123456789abcdef";
	uint64_t x = 0;
	int i;

	if (s[0] == 0 && s[1] == 0 &&
	    getrandom(s, sizeof(s), 0) != sizeof(s)) {
		s[0] = (uint64_t)getpid() << 32 ^ (uint64_t)clock_wall_ms();
		s[1] = c->c_id * 0x9e3779b97f4a7c15ULL;
	}
	for (i = 0; i < 32; i++) {
		if (i % 16 == 0) {
			/* xorshift128+ */
			uint64_t a = s[0], b = s[1];

			s[0] = b;
			a ^= a << 23;
			s[1] = a ^ b ^ (a >> 17) ^ (b >> 26);
			x = s[1] + b;
		}
		out[i] = hex[x & 15];
		x >>= 4;
	}
}

/* the value of one part: 1 with *v, *len set (tmp may hold it), 0 none */
static int
var_get(struct conn *c, const struct var_part *vp, char *tmp, size_t tmplen,
    const char **v, size_t *len)
{
	struct http_req *r = &c->c_req;
	msec_t ms;
	const char *ph;
	size_t phl;
	int n = -1, port;

	*v = tmp;
	switch (vp->vp_var) {
	case VAR_LITERAL:
		*v = vp->vp_str;
		*len = vp->vp_len;
		return 1;
	case VAR_HOST:
		if (r->r_hostlen > 0) {
			*v = r->r_host;
			*len = r->r_hostlen;
			return 1;
		}
		if (r->r_srv != NULL && r->r_srv->sc_nnames > 0) {
			*v = r->r_srv->sc_names[0];
			*len = strlen(*v);
			return 1;
		}
		*len = 0;
		return 1;
	case VAR_REQUEST_URI:
		/* as nginx: an absolute form without its scheme and host */
		if ((*v = http_target_origin(r, len)), *len == 0) {
			*v = "/";
			*len = 1;
		}
		return r->r_head.hh_version != 0;
	case VAR_URI:
		*v = r->r_path;
		*len = r->r_pathlen;
		return r->r_path != NULL;
	case VAR_ARGS:
		*v = r->r_args;
		*len = r->r_argslen;
		return r->r_args != NULL;
	case VAR_IS_ARGS:
		*v = "?";
		*len = r->r_args != NULL;
		return 1;
	case VAR_SCHEME:
		*v = c->c_ssl != NULL ? "https" : "http";
		*len = strlen(*v);
		return 1;
	case VAR_HTTPS:
		*v = "on";
		*len = c->c_ssl != NULL ? 2 : 0;
		return 1;
	case VAR_REMOTE_ADDR:
		*v = c->c_peer_text;
		*len = strlen(*v);
		return 1;
	case VAR_REMOTE_PORT:
		n = snprintf(tmp, tmplen, "%zu", sockaddr_port(&c->c_peer));
		break;
	case VAR_SERVER_ADDR: {
		const char *t = c->c_listen->gl_text, *colon = strrchr(t, ':');

		*v = t;
		*len = colon - t;
		return 1;
	}
	case VAR_SERVER_PORT:
		n = snprintf(tmp, tmplen, "%zu",
		    sockaddr_port(&c->c_listen->gl_addr));
		break;
	case VAR_SERVER_NAME:
		if (r->r_srv == NULL || r->r_srv->sc_nnames == 0) {
			*len = 0;
			return 1;
		}
		*v = r->r_srv->sc_names[0];
		*len = strlen(*v);
		return 1;
	case VAR_REQUEST_METHOD:
		if (r->r_method != NULL) {
			*v = r->r_method;
			*len = r->r_methodlen;
			return 1;
		}
		*v = r->r_head.hh_method;
		*len = r->r_head.hh_methodlen;
		return r->r_head.hh_version != 0;
	case VAR_SERVER_PROTOCOL:
		if (r->r_head.hh_version == 0)
			return 0;
		*v = r->r_head.hh_version == 10 ? "HTTP/1.0" : "HTTP/1.1";
		*len = 8;
		return 1;
	case VAR_REQUEST:
		/* the request line as sent, without the CRLF */
		if (r->r_head.hh_version == 0)
			return 0;
		*v = r->r_head.hh_method;
		*len = r->r_head.hh_target + r->r_head.hh_targetlen + 9 -
		    r->r_head.hh_method;
		return 1;
	case VAR_PID:
		n = snprintf(tmp, tmplen, "%d", (int)getpid());
		break;
	case VAR_CONNECTION:
		n = snprintf(tmp, tmplen, "%llu", (unsigned long long)c->c_id);
		break;
	case VAR_CONNECTION_REQUESTS:
		n = snprintf(tmp, tmplen, "%u", c->c_requests + 1);
		break;
	case VAR_NGINX_VERSION:
		*v = PORTICO_VERSION;
		*len = strlen(PORTICO_VERSION);
		return 1;
	case VAR_STATUS:
		n = snprintf(tmp, tmplen, "%03d", r->r_status);
		break;
	case VAR_BODY_BYTES_SENT:
		n = snprintf(tmp, tmplen, "%lld", (long long)(r->r_sent >
		    r->r_headout ? r->r_sent - r->r_headout : 0));
		break;
	case VAR_BYTES_SENT:
		n = snprintf(tmp, tmplen, "%lld", (long long)r->r_sent);
		break;
	case VAR_REQUEST_LENGTH:
		n = snprintf(tmp, tmplen, "%lld", (long long)r->r_length);
		break;
	case VAR_REQUEST_TIME:
		ms = clock_now() - r->r_start;
		n = snprintf(tmp, tmplen, "%lld.%03lld", (long long)(ms / 1000),
		    (long long)(ms % 1000));
		break;
	case VAR_MSEC:
		ms = clock_wall_ms();
		n = snprintf(tmp, tmplen, "%lld.%03lld", (long long)(ms / 1000),
		    (long long)(ms % 1000));
		break;
	case VAR_TIME_LOCAL:
		*v = clock_time_local();
		*len = strlen(*v);
		return 1;
	case VAR_TIME_ISO8601:
		*v = clock_iso8601();
		*len = strlen(*v);
		return 1;
	case VAR_REMOTE_USER:
		return 0;	/* no authentication yet */
	case VAR_REQUEST_ID:
		if (!r->r_id[0])
			request_id(c, r->r_id);
		*v = r->r_id;
		*len = 32;
		return 1;
	case VAR_PROXY_HOST:
		return http_proxy_host(c, v, len, &port);
	case VAR_PROXY_PORT:
		if (!http_proxy_host(c, &ph, &phl, &port))
			return 0;
		n = snprintf(tmp, tmplen, "%d", port);
		break;
	case VAR_PROXY_ADD_XFF:
		/* rendered by http_var_render(): it may be long */
		return 0;
	case VAR_UPSTREAM_ADDR:
	case VAR_UPSTREAM_STATUS:
		/* rendered by http_var_render(): lists */
		return 0;
	case VAR_UPSTREAM_CONNECT_TIME:
	case VAR_UPSTREAM_HEADER_TIME:
	case VAR_UPSTREAM_RESPONSE_TIME:
		if (!http_proxy_times(c, vp->vp_var - VAR_UPSTREAM_CONNECT_TIME +
		    PX_TIME_CONNECT, &ms))
			return 0;
		n = snprintf(tmp, tmplen, "%lld.%03lld", (long long)(ms / 1000),
		    (long long)(ms % 1000));
		break;
	case VAR_UPSTREAM_BYTES_SENT:
	case VAR_UPSTREAM_BYTES_RECEIVED:
		if (!http_proxy_times(c, vp->vp_var == VAR_UPSTREAM_BYTES_SENT ?
		    PX_BYTES_SENT : PX_BYTES_RECEIVED, &ms))
			return 0;
		n = snprintf(tmp, tmplen, "%lld", (long long)ms);
		break;
	case VAR_UPSTREAM_HTTP_:
		return http_proxy_header(c, vp->vp_str, vp->vp_len, v, len);
	case VAR_DOCUMENT_ROOT:
	case VAR_REALPATH_ROOT:
	case VAR_REQUEST_FILENAME:
		return http_static_var(c, vp->vp_var, v, len);
	case VAR_HTTP_:
		return header_value(&r->r_head, vp->vp_str, vp->vp_len, v, len);
	case VAR_COOKIE_: {
		const char *cv;
		size_t cl;

		if (!header_value(&r->r_head, "cookie", 6, &cv, &cl))
			return 0;
		return pair_value(cv, cl, ';', vp->vp_str, vp->vp_len, v, len);
	}
	case VAR_ARG_:
		if (r->r_args == NULL)
			return 0;
		return pair_value(r->r_args, r->r_argslen, '&', vp->vp_str,
		    vp->vp_len, v, len);
	case VAR_CAPTURE:
		return regex_capture(&r->r_cap, (int)vp->vp_len, v, len);
	case VAR_NAMED:
		return regex_named(&r->r_cap, vp->vp_str, v, len);
	case VAR_USER: {
		const struct http_uvar *u = http_rewrite_uvar(c,
		    (int)vp->vp_len);

		/* never set: a named capture of the same name, as in nginx */
		if (u == NULL || u->uv_state != HTTP_UV_SET)
			return regex_named(&r->r_cap, vp->vp_str, v, len);
		*v = u->uv_val;
		*len = u->uv_len;
		return 1;
	}
	}
	if (n < 0 || (size_t)n >= tmplen)
		return 0;
	*len = n;
	return 1;
}

static int
put(struct buf *b, const char *s, size_t len)
{
	if ((size_t)(b->b_end - b->b_last) < len)
		return -1;
	memcpy(b->b_last, s, len);
	b->b_last += len;
	return 0;
}

/*
 * What nginx's rewrite percent-encodes in a capture put into arguments
 * or a redirect (measured on nginx 1.22): controls, space, non-ASCII and
 * " # % & + ; < > ? \\ ^ ` { | } DEL.
 */
static int
is_arg_unsafe(unsigned char ch)
{
	return ch <= 0x20 || ch >= 0x7f || strchr("\"#%&+;<>?\\^`{|}", ch) !=
	    NULL;
}

static int
put_escaped(struct buf *b, const char *s, size_t len, int escape)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i;

	if (escape == VAR_ESC_NONE)
		return put(b, s, len);
	if (escape == VAR_ESC_CAP_ARGS) {
		for (i = 0; i < len; i++) {
			unsigned char ch = s[i];
			char e[3] = { '%', hex[ch >> 4], hex[ch & 15] };

			if (is_arg_unsafe(ch) ? put(b, e, 3) == -1 :
			    put(b, (char *)&ch, 1) == -1)
				return -1;
		}
		return 0;
	}
	for (i = 0; i < len; i++) {
		unsigned char ch = s[i];
		char e[8];
		size_t n = 0;

		if (escape == VAR_ESC_JSON) {
			if (ch == '"' || ch == '\\') {
				e[n++] = '\\';
				e[n++] = ch;
			} else if (ch < 0x20) {
				memcpy(e, "\\u00", 4);
				n = 4;
				e[n++] = hex[ch >> 4];
				e[n++] = hex[ch & 15];
			} else
				e[n++] = ch;
		} else {
			if (ch == '"' || ch == '\\' || ch < 0x20 || ch >= 0x7f) {
				e[n++] = '\\';
				e[n++] = 'x';
				e[n++] = hex[ch >> 4];
				e[n++] = hex[ch & 15];
			} else
				e[n++] = ch;
		}
		if (put(b, e, n) == -1)
			return -1;
	}
	return 0;
}

int
http_var_render(struct conn *c, const struct var_tpl *t, struct buf *b,
    int escape, int dash)
{
	http_rewrite_prepare(c, t);
	return http_var_render_raw(c, t, b, escape, dash);
}

int
http_var_render_raw(struct conn *c, const struct var_tpl *t, struct buf *b,
    int escape, int dash)
{
	char tmp[64];
	const char *v;
	size_t len;
	int i;

	for (i = 0; i < t->vt_nparts; i++) {
		const struct var_part *vp = &t->vt_parts[i];

		if (vp->vp_var == VAR_LITERAL) {
			if (put(b, vp->vp_str, vp->vp_len) == -1)
				return -1;
			continue;
		}
		if (vp->vp_var == VAR_UPSTREAM_ADDR ||
		    vp->vp_var == VAR_UPSTREAM_STATUS) {
			int rc = http_proxy_render_list(c,
			    vp->vp_var == VAR_UPSTREAM_STATUS, b);

			if (rc == -1)
				return -1;
			if (rc == 1 && dash && put(b, "-", 1) == -1)
				return -1;
			continue;
		}
		if (vp->vp_var == VAR_PROXY_ADD_XFF) {
			/* the client's X-Forwarded-For lines, then its address */
			const struct http_head *hh = &c->c_req.r_head;
			int j;

			for (j = 0; j < hh->hh_nheaders; j++) {
				const struct http_header *hd = &hh->hh_headers[j];

				if (!http_token_eq(hd->h_name, hd->h_namelen,
				    "x-forwarded-for"))
					continue;
				if (put_escaped(b, hd->h_value, hd->h_valuelen,
				    escape) == -1 || put(b, ", ", 2) == -1)
					return -1;
			}
			if (put(b, c->c_peer_text, strlen(c->c_peer_text)) == -1)
				return -1;
			continue;
		}
		if (vp->vp_var >= VAR_SSL_PROTOCOL &&
		    vp->vp_var <= VAR_SSL_CLIENT_ESCAPED_CERT) {
			/* a certificate's PEM is longer than tmp */
			char big[8192];

			if (!tls_var(c, vp->vp_var, big, sizeof(big), &v,
			    &len)) {
				if (dash && put(b, "-", 1) == -1)
					return -1;
				continue;
			}
			if (put_escaped(b, v, len, escape == VAR_ESC_CAP_ARGS ?
			    VAR_ESC_NONE : escape) == -1)
				return -1;
			continue;
		}
		if (!var_get(c, vp, tmp, sizeof(tmp), &v, &len)) {
			if (dash && put(b, "-", 1) == -1)
				return -1;
			continue;
		}
		if (put_escaped(b, v, len, escape != VAR_ESC_CAP_ARGS ||
		    vp->vp_var == VAR_CAPTURE ? escape : VAR_ESC_NONE) == -1)
			return -1;
	}
	return 0;
}

int
http_var_is_false(struct conn *c, const struct var_tpl *t)
{
	char space[256];
	struct buf b;

	b.b_start = b.b_pos = b.b_last = space;
	b.b_end = space + sizeof(space);
	if (http_var_render(c, t, &b, VAR_ESC_NONE, 0) == -1)
		return 0;
	return b.b_last == b.b_start ||
	    (b.b_last - b.b_start == 1 && space[0] == '0');
}
