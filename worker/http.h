/*
 * http.h: per-request state and the HTTP steps of a connection.
 */
#ifndef PORTICO_HTTP_H
#define PORTICO_HTTP_H

#include "core.h"

#include "conf.h"
#include "http_parse.h"
#include "http_static.h"

struct conn;
struct buf;

/* internal redirects (error_page, try_files, rewrite) per request */
#define HTTP_MAX_REDIRECTS	10
#define HTTP_REDIRECT_BUF	4096	/* longest URI of a redirect */
/* per request: URIs of redirects and rewrites, variables (c_redirect) */
#define HTTP_WORK_BUF		16384

/* a user variable's value in one request ("set", "map") */
struct http_uvar {
	const char		*uv_val;
	size_t			 uv_len;
	int			 uv_state;	/* HTTP_UV_* */
};

#define HTTP_UV_UNSET	0
#define HTTP_UV_SET	1
#define HTTP_UV_BUSY	2	/* a map being evaluated: a cycle */

struct http_req {
	struct http_head	 r_head;
	size_t			 r_headlen;
	const char		*r_host;	/* lowercase, no port */
	size_t			 r_hostlen;
	const char		*r_path;
	size_t			 r_pathlen;
	const char		*r_args;	/* after '?', or NULL */
	size_t			 r_argslen;
	int64_t			 r_body_left;	/* Content-Length still unread */
	int			 r_has_body;	/* a body still to read */
	int			 r_chunked;
	int			 r_has_clen;	/* Content-Length was sent */
	struct http_chunked	 r_chunk;
	int			 r_expect;	/* Expect: 100-continue */
	int			 r_continue;	/* send 100 Continue first */
	int			 r_keepalive;
	int			 r_client_close; /* the client said no keep-alive */
	int			 r_head_only;	/* HEAD */
	int			 r_status;
	int64_t			 r_sent;	/* bytes written to the client */
	int64_t			 r_headout;	/* of them, the response head */
	int64_t			 r_length;	/* request: head and body read */
	int			 r_logged;
	int			 r_redirects;	/* internal redirects so far */
	int			 r_body_checked; /* body_precheck() ran */
	const char		*r_head0;	/* where the head began in c_in */
	struct buf		*r_headbuf;	/* the head, once moved */
	int			 r_internal;	/* redirected or rewritten */
	int			 r_rw_break;	/* rewritten, then "break" */
	int			 r_uri_changed;	/* by a rewrite or a redirect */
	int			 r_err_status;	/* error_page: the status sent */
	int			 r_error_page;	/* an error page is served */
	const char		*r_method;	/* GET after error_page */
	size_t			 r_methodlen;
	struct http_uvar	*r_uvars;	/* by slot, in c_redirect */
	/* the answer the rewrite phase chose (return, rewrite redirect) */
	int			 r_ret_code;	/* 0: none */
	const struct var_tpl	*r_ret_text;
	const char		*r_ret_loc;	/* a rewrite's redirect URL */
	size_t			 r_ret_loclen;
	char			 r_id[33];	/* $request_id, made on use */
	struct regex_captures	 r_cap;		/* of the last regex match */
	struct conf_srv		*r_srv;
	struct conf_loc		*r_loc;
	msec_t			 r_start;
	struct http_file	 r_file;	/* static files */
};

int	 http_process(struct conn *);
int	 http_body_discard(struct conn *);
int	 http_error(struct conn *, int status, const char *reason);
void	 http_req_clear(struct http_req *);
const char *http_target_origin(const struct http_req *, size_t *len);
void	 http_req_reset(struct conn *);
int	 http_special(struct conn *, int status);
int	 http_keepalive_ok(struct conn *);
int	 http_head_detach(struct conn *);
int	 http_internal_redirect(struct conn *, const char *uri, size_t len);
int	 http_named_redirect(struct conn *, struct conf_loc *named);

/*
 * A response head in c_out, for handlers that write their own headers:
 * http_head_open() writes the status line, Server and Date, the handler
 * adds its headers, http_head_close() adds the common ones (add_header,
 * expires, Connection) and the empty line.  -1 when c_out is full.
 */
int	 http_head_open(struct conn *, int status);
int	 http_head_printf(struct conn *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
int	 http_head_close(struct conn *);
/* the per-request memory (c_redirect): NULL when it is full */
void	*http_work_alloc(struct conn *, size_t);
int	 http_work_begin(struct conn *, struct buf *tail);
int	 http_work_put(struct buf *tail, const char *, size_t);
char	*http_work_end(struct conn *, struct buf *tail, size_t *len);
char	*http_work_render(struct conn *, const struct var_tpl *, size_t *len);

#endif
