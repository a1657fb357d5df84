/*
 * var.h: values with variables ("https://$host$request_uri") compiled at
 * config load into literal and variable parts; the data path only walks
 * the parts.
 */
#ifndef PORTICO_VAR_H
#define PORTICO_VAR_H

#include "core.h"

#include "arena.h"

enum var_id {
	VAR_LITERAL = -1,
	VAR_HOST = 0,
	VAR_REQUEST_URI,
	VAR_URI,
	VAR_ARGS,
	VAR_IS_ARGS,
	VAR_SCHEME,
	VAR_REMOTE_ADDR,
	VAR_REMOTE_PORT,
	VAR_SERVER_ADDR,
	VAR_SERVER_PORT,
	VAR_SERVER_NAME,
	VAR_REQUEST_METHOD,
	VAR_SERVER_PROTOCOL,
	VAR_PID,
	VAR_CONNECTION,
	VAR_CONNECTION_REQUESTS,
	VAR_NGINX_VERSION,
	VAR_REQUEST,
	VAR_STATUS,
	VAR_BODY_BYTES_SENT,
	VAR_BYTES_SENT,
	VAR_REQUEST_LENGTH,
	VAR_REQUEST_TIME,
	VAR_MSEC,
	VAR_TIME_LOCAL,
	VAR_TIME_ISO8601,
	VAR_REMOTE_USER,
	VAR_REQUEST_ID,
	VAR_PROXY_HOST,
	VAR_PROXY_PORT,
	VAR_PROXY_ADD_XFF,	/* $proxy_add_x_forwarded_for */
	VAR_UPSTREAM_ADDR,
	VAR_UPSTREAM_STATUS,
	VAR_UPSTREAM_CONNECT_TIME,
	VAR_UPSTREAM_HEADER_TIME,
	VAR_UPSTREAM_RESPONSE_TIME,
	VAR_UPSTREAM_BYTES_SENT,
	VAR_UPSTREAM_BYTES_RECEIVED,
	VAR_DOCUMENT_ROOT,
	VAR_REALPATH_ROOT,
	VAR_REQUEST_FILENAME,
	VAR_HTTPS,		/* "on" over TLS */
	VAR_SSL_PROTOCOL,	/* the rest are worker/tls.c's */
	VAR_SSL_CIPHER,
	VAR_SSL_CIPHERS,
	VAR_SSL_CURVE,
	VAR_SSL_SERVER_NAME,
	VAR_SSL_ALPN_PROTOCOL,
	VAR_SSL_SESSION_ID,
	VAR_SSL_SESSION_REUSED,
	VAR_SSL_CLIENT_VERIFY,
	VAR_SSL_CLIENT_S_DN,
	VAR_SSL_CLIENT_I_DN,
	VAR_SSL_CLIENT_SERIAL,
	VAR_SSL_CLIENT_FINGERPRINT,
	VAR_SSL_CLIENT_V_START,
	VAR_SSL_CLIENT_V_END,
	VAR_SSL_CLIENT_V_REMAIN,
	VAR_SSL_CLIENT_CERT,
	VAR_SSL_CLIENT_RAW_CERT,
	VAR_SSL_CLIENT_ESCAPED_CERT,	/* the last of tls.c's */
	VAR_HTTP_,		/* $http_<name>: vp_str holds <name> */
	VAR_COOKIE_,		/* $cookie_<name> */
	VAR_ARG_,		/* $arg_<name> */
	VAR_UPSTREAM_HTTP_,	/* $upstream_http_<name> */
	VAR_CAPTURE,		/* $1..$9: vp_len holds the number */
	VAR_NAMED,		/* a named regex group: vp_str holds it */
	VAR_USER,		/* set or map: vp_len holds the slot */
	VAR_NVARS
};

struct var_part {
	int		 vp_var;
	const char	*vp_str;	/* literal text, or header name */
	size_t		 vp_len;
};

struct var_tpl {
	const char	*vt_src;
	int		 vt_nparts;
	int		 vt_has_vars;
	struct var_part	 vt_parts[];
};

/* how a rendered value is escaped (log_format escape=) */
enum var_escape {
	VAR_ESC_NONE = 0,
	VAR_ESC_DEFAULT,	/* " \ and non-printing bytes as \xHH */
	VAR_ESC_JSON,
	VAR_ESC_CAP_ARGS,	/* only $1..$9, percent-encoded as nginx's
				 * rewrite does in arguments and redirects */
};

struct var_tpl	*var_compile(struct arena *, const char *src, char *err,
		    size_t errlen);
const char	*var_name(int id);

/* named regex groups seen so far in the config being read */
void		 var_names_reset(void);
int		 var_names_add(struct arena *, const char *name);

/*
 * User variables ("set", "map"), numbered in slots.  A name used before
 * its "set" or "map" is read gets a slot too, as in nginx; at the end
 * of the files var_user_undefined() names one never defined and where
 * it was first used (var_where() tells var.c the current place).
 */
#define VAR_MAX_USER	256
void		 var_where(const char *file, int line);
int		 var_is_builtin(const char *name);
int		 var_user_define(struct arena *, const char *name);
int		 var_user_count(void);
const char	*var_user_name(int slot);
const char	*var_user_undefined(const char **file, int *line);

#endif
