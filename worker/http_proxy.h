/*
 * http_proxy.h: proxy_pass, the upstream half of a connection.
 */
#ifndef PORTICO_HTTP_PROXY_H
#define PORTICO_HTTP_PROXY_H

#include "core.h"

struct conn;
struct buf;

/* the content phase of a proxy_pass location: the next state */
int	 http_proxy_start(struct conn *);

/* the steps of the CS_PROXY_* states */
int	 http_proxy_step_read_body(struct conn *);
int	 http_proxy_step_connect(struct conn *);
int	 http_proxy_step_send(struct conn *);
int	 http_proxy_step_head(struct conn *);
int	 http_proxy_step_body(struct conn *);
int	 http_proxy_step_tunnel(struct conn *);
int	 http_proxy_timeout(struct conn *);

void	 http_proxy_release(struct conn *);

/* for logs and variables: "http://addr/uri", $upstream_status */
const char *http_proxy_target(struct conn *);
int	 http_proxy_status(struct conn *);
int	 http_proxy_render_list(struct conn *, int status, struct buf *);
int	 http_proxy_header(struct conn *, const char *name, size_t nlen,
	    const char **v, size_t *vlen);

enum {
	PX_TIME_CONNECT = 0,
	PX_TIME_HEADER,
	PX_TIME_RESPONSE,
	PX_BYTES_SENT,
	PX_BYTES_RECEIVED,
};
int	 http_proxy_times(struct conn *, int which, msec_t *out);
int	 http_proxy_host(struct conn *, const char **host, size_t *len,
	    int *port);

#endif
