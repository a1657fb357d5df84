/*
 * var.c: compile "$name" / "${name}" references into parts.
 */
#include "core.h"

#include <ctype.h>

#include "var.h"

static const char *const var_names[VAR_NVARS] = {
	[VAR_HOST] = "host",
	[VAR_REQUEST_URI] = "request_uri",
	[VAR_URI] = "uri",
	[VAR_ARGS] = "args",
	[VAR_IS_ARGS] = "is_args",
	[VAR_SCHEME] = "scheme",
	[VAR_REMOTE_ADDR] = "remote_addr",
	[VAR_REMOTE_PORT] = "remote_port",
	[VAR_SERVER_ADDR] = "server_addr",
	[VAR_SERVER_PORT] = "server_port",
	[VAR_SERVER_NAME] = "server_name",
	[VAR_REQUEST_METHOD] = "request_method",
	[VAR_SERVER_PROTOCOL] = "server_protocol",
	[VAR_PID] = "pid",
	[VAR_CONNECTION] = "connection",
	[VAR_CONNECTION_REQUESTS] = "connection_requests",
	[VAR_NGINX_VERSION] = "nginx_version",
	[VAR_REQUEST] = "request",
	[VAR_STATUS] = "status",
	[VAR_BODY_BYTES_SENT] = "body_bytes_sent",
	[VAR_BYTES_SENT] = "bytes_sent",
	[VAR_REQUEST_LENGTH] = "request_length",
	[VAR_REQUEST_TIME] = "request_time",
	[VAR_MSEC] = "msec",
	[VAR_TIME_LOCAL] = "time_local",
	[VAR_TIME_ISO8601] = "time_iso8601",
	[VAR_REMOTE_USER] = "remote_user",
	[VAR_REQUEST_ID] = "request_id",
	[VAR_PROXY_HOST] = "proxy_host",
	[VAR_PROXY_PORT] = "proxy_port",
	[VAR_PROXY_ADD_XFF] = "proxy_add_x_forwarded_for",
	[VAR_UPSTREAM_ADDR] = "upstream_addr",
	[VAR_UPSTREAM_STATUS] = "upstream_status",
	[VAR_UPSTREAM_CONNECT_TIME] = "upstream_connect_time",
	[VAR_UPSTREAM_HEADER_TIME] = "upstream_header_time",
	[VAR_UPSTREAM_RESPONSE_TIME] = "upstream_response_time",
	[VAR_UPSTREAM_BYTES_SENT] = "upstream_bytes_sent",
	[VAR_UPSTREAM_BYTES_RECEIVED] = "upstream_bytes_received",
	[VAR_DOCUMENT_ROOT] = "document_root",
	[VAR_REALPATH_ROOT] = "realpath_root",
	[VAR_REQUEST_FILENAME] = "request_filename",
	[VAR_HTTPS] = "https",
	[VAR_SSL_PROTOCOL] = "ssl_protocol",
	[VAR_SSL_CIPHER] = "ssl_cipher",
	[VAR_SSL_CIPHERS] = "ssl_ciphers",
	[VAR_SSL_CURVE] = "ssl_curve",
	[VAR_SSL_SERVER_NAME] = "ssl_server_name",
	[VAR_SSL_ALPN_PROTOCOL] = "ssl_alpn_protocol",
	[VAR_SSL_SESSION_ID] = "ssl_session_id",
	[VAR_SSL_SESSION_REUSED] = "ssl_session_reused",
	[VAR_SSL_CLIENT_VERIFY] = "ssl_client_verify",
	[VAR_SSL_CLIENT_S_DN] = "ssl_client_s_dn",
	[VAR_SSL_CLIENT_I_DN] = "ssl_client_i_dn",
	[VAR_SSL_CLIENT_SERIAL] = "ssl_client_serial",
	[VAR_SSL_CLIENT_FINGERPRINT] = "ssl_client_fingerprint",
	[VAR_SSL_CLIENT_V_START] = "ssl_client_v_start",
	[VAR_SSL_CLIENT_V_END] = "ssl_client_v_end",
	[VAR_SSL_CLIENT_V_REMAIN] = "ssl_client_v_remain",
	[VAR_SSL_CLIENT_CERT] = "ssl_client_cert",
	[VAR_SSL_CLIENT_RAW_CERT] = "ssl_client_raw_cert",
	[VAR_SSL_CLIENT_ESCAPED_CERT] = "ssl_client_escaped_cert",
	[VAR_HTTP_] = "http_",
	[VAR_COOKIE_] = "cookie_",
	[VAR_ARG_] = "arg_",
	[VAR_UPSTREAM_HTTP_] = "upstream_http_",
	[VAR_CAPTURE] = "1..9",
	[VAR_NAMED] = "(named capture)",
	[VAR_USER] = "(user variable)",
};

#define VAR_MAX_NAMES	256

static const char *names[VAR_MAX_NAMES];
static int nnames;

struct user_var {
	const char	*uv_name;
	int		 uv_defined;
	const char	*uv_file;	/* of the first use */
	int		 uv_line;
};

static struct user_var users[VAR_MAX_USER];
static int nusers;
static const char *where_file;
static int where_line;

void
var_names_reset(void)
{
	nnames = 0;
	nusers = 0;
	where_file = NULL;
	where_line = 0;
}

void
var_where(const char *file, int line)
{
	where_file = file;
	where_line = line;
}

static int
user_find(const char *name, size_t len)
{
	int i;

	for (i = 0; i < nusers; i++)
		if (strlen(users[i].uv_name) == len &&
		    memcmp(users[i].uv_name, name, len) == 0)
			return i;
	return -1;
}

/* a slot for name, defined or not yet; -1 when the table is full */
static int
user_slot(struct arena *a, const char *name, size_t len)
{
	int i = user_find(name, len);

	if (i >= 0)
		return i;
	if (nusers == VAR_MAX_USER)
		return -1;
	users[nusers].uv_name = arena_strndup(a, name, len);
	users[nusers].uv_defined = 0;
	users[nusers].uv_file = where_file != NULL ? arena_strdup(a,
	    where_file) : NULL;
	users[nusers].uv_line = where_line;
	return nusers++;
}

int
var_user_define(struct arena *a, const char *name)
{
	int i = user_slot(a, name, strlen(name));

	if (i >= 0)
		users[i].uv_defined = 1;
	return i;
}

int
var_user_count(void)
{
	return nusers;
}

const char *
var_user_name(int slot)
{
	return slot >= 0 && slot < nusers ? users[slot].uv_name : "?";
}

/* a named group of a regex read later is the same variable, as in nginx */
static int
is_capture_name(const char *name)
{
	int i;

	for (i = 0; i < nnames; i++)
		if (strcmp(names[i], name) == 0)
			return 1;
	return 0;
}

const char *
var_user_undefined(const char **file, int *line)
{
	int i;

	for (i = 0; i < nusers; i++)
		if (!users[i].uv_defined && !is_capture_name(users[i].uv_name)) {
			*file = users[i].uv_file;
			*line = users[i].uv_line;
			return users[i].uv_name;
		}
	return NULL;
}

/* a named group of a regex becomes a variable, as in nginx */
int
var_names_add(struct arena *a, const char *name)
{
	int i;

	for (i = 0; i < nnames; i++)
		if (strcmp(names[i], name) == 0)
			return 0;
	if (nnames == VAR_MAX_NAMES)
		return -1;
	names[nnames++] = arena_strdup(a, name);
	return 0;
}

const char *
var_name(int id)
{
	if (id < 0 || id >= VAR_NVARS)
		return "?";
	return var_names[id];
}

static int
var_lookup(const char *name, size_t len)
{
	int i;

	/* "query_string" is another name for "args", "document_uri" for
	 * "uri" */
	if (len == 12 && memcmp(name, "query_string", 12) == 0)
		return VAR_ARGS;
	if (len == 12 && memcmp(name, "document_uri", 12) == 0)
		return VAR_URI;
	if (user_find(name, len) >= 0)
		return VAR_USER;
	if (len > 5 && memcmp(name, "http_", 5) == 0)
		return VAR_HTTP_;
	if (len > 7 && memcmp(name, "cookie_", 7) == 0)
		return VAR_COOKIE_;
	if (len > 4 && memcmp(name, "arg_", 4) == 0)
		return VAR_ARG_;
	if (len > 14 && memcmp(name, "upstream_http_", 14) == 0)
		return VAR_UPSTREAM_HTTP_;
	if (len == 1 && name[0] >= '1' && name[0] <= '9')
		return VAR_CAPTURE;
	for (i = 0; i < VAR_HTTP_; i++)
		if (strlen(var_names[i]) == len &&
		    memcmp(var_names[i], name, len) == 0)
			return i;
	for (i = 0; i < nnames; i++)
		if (strlen(names[i]) == len && memcmp(names[i], name, len) == 0)
			return VAR_NAMED;
	/* unknown here: maybe a "set" or "map" further on */
	return VAR_USER;
}

/* is name (without '$') a variable of portico's own, or a capture */
int
var_is_builtin(const char *name)
{
	size_t len = strlen(name);

	return user_find(name, len) < 0 && var_lookup(name, len) != VAR_USER;
}

static int
is_name_char(int c)
{
	return isalnum(c) || c == '_';
}

struct var_tpl *
var_compile(struct arena *a, const char *src, char *err, size_t errlen)
{
	struct var_tpl *t;
	const char *p, *lit, *name;
	size_t nlen;
	int n = 0, id;

	/* at most one part per '$' plus one literal between each */
	for (p = src; *p; p++)
		if (*p == '$')
			n++;
	t = arena_alloc(a, sizeof(*t) + (2 * n + 1) * sizeof(struct var_part));
	if (t == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	t->vt_src = arena_strdup(a, src);
	n = 0;
	for (p = lit = src; *p; ) {
		if (*p != '$') {
			p++;
			continue;
		}
		if (p > lit) {
			t->vt_parts[n].vp_var = VAR_LITERAL;
			t->vt_parts[n].vp_str = lit;
			t->vt_parts[n++].vp_len = p - lit;
		}
		p++;
		if (*p == '{') {
			name = ++p;
			while (is_name_char((unsigned char)*p))
				p++;
			if (*p != '}') {
				snprintf(err, errlen, "the closing bracket in "
				    "\"%.*s\" variable is missing",
				    (int)(p - name), name);
				return NULL;
			}
			nlen = p++ - name;
		} else if (*p >= '1' && *p <= '9') {
			/* as nginx: "$1x" is capture 1, then "x" */
			name = p++;
			nlen = 1;
		} else {
			name = p;
			while (is_name_char((unsigned char)*p))
				p++;
			nlen = p - name;
		}
		if (nlen == 0) {
			snprintf(err, errlen, "invalid variable name in \"%s\"",
			    src);
			return NULL;
		}
		id = var_lookup(name, nlen);
		t->vt_parts[n].vp_var = id;
		if (id == VAR_HTTP_ || id == VAR_COOKIE_ || id == VAR_ARG_ ||
		    id == VAR_UPSTREAM_HTTP_) {
			size_t pl = strlen(var_names[id]);

			t->vt_parts[n].vp_str = arena_strndup(a, name + pl,
			    nlen - pl);
			t->vt_parts[n].vp_len = nlen - pl;
		} else if (id == VAR_CAPTURE) {
			t->vt_parts[n].vp_len = name[0] - '0';
		} else if (id == VAR_NAMED) {
			t->vt_parts[n].vp_str = arena_strndup(a, name, nlen);
			t->vt_parts[n].vp_len = nlen;
		} else if (id == VAR_USER) {
			int slot = user_slot(a, name, nlen);

			if (slot == -1) {
				snprintf(err, errlen, "too many variables (at "
				    "most %d)", VAR_MAX_USER);
				return NULL;
			}
			t->vt_parts[n].vp_str = users[slot].uv_name;
			t->vt_parts[n].vp_len = slot;
		}
		n++;
		t->vt_has_vars = 1;
		lit = p;
	}
	if (p > lit) {
		t->vt_parts[n].vp_var = VAR_LITERAL;
		t->vt_parts[n].vp_str = lit;
		t->vt_parts[n++].vp_len = p - lit;
	}
	/* literal parts point into the caller's string: copy them */
	for (id = 0; id < n; id++)
		if (t->vt_parts[id].vp_var == VAR_LITERAL)
			t->vt_parts[id].vp_str = arena_strndup(a,
			    t->vt_parts[id].vp_str, t->vt_parts[id].vp_len);
	t->vt_nparts = n;
	return t;
}
