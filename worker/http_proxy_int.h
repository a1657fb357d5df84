/*
 * http_proxy_int.h: shared by the parts of the proxy module,
 * http_proxy.c (peers, connect, retries and errors), http_proxy_req.c
 * (the request) and http_proxy_resp.c (the response); nothing outside
 * the module includes it.
 */
#ifndef PORTICO_HTTP_PROXY_INT_H
#define PORTICO_HTTP_PROXY_INT_H

#include "core.h"

#include <sys/uio.h>

#include "balance.h"
#include "conn.h"
#include "http_parse.h"
#include "io.h"

struct upconn;

/* peers an upstream may have for retries; $upstream_* keep this many */
#define PX_MAX_PEERS	1024
#define PX_HIST		8

enum px_framing {
	PXF_NONE = 0,		/* no body: HEAD, 1xx, 204, 304 */
	PXF_LENGTH,		/* Content-Length */
	PXF_CHUNKED,		/* Transfer-Encoding: chunked */
	PXF_CLOSE,		/* until the upstream closes */
};

struct proxy {
	struct conn		*px_c;
	struct upconn		*px_uc;		/* the upstream connection */
	int			 px_fd;		/* its descriptor, or -1 */
	SSL			*px_ssl;	/* and its TLS, or NULL */
	int			 px_reused;	/* it came from the idle pool */
	int			 px_reusable;	/* and may go back there */
	int			 px_sent_close;	/* "Connection: close" sent */
	int			 px_fresh;	/* no idle connection: retrying */
	int			 px_hup;	/* the upstream closed its side */
	int			 px_had_body;	/* the request has a body */
	int			 px_early;	/* answered before all was sent */
	int			 px_send_errno;	/* the write that failed then */
	/* proxy_pass with variables: what this request made of it */
	const char		*px_dhost;	/* $proxy_host, or NULL */
	size_t			 px_dhostlen;
	int			 px_dport;
	const char		*px_duri;	/* the URI to send, or NULL */
	size_t			 px_durilen;
	/* the peers tried, for the balancer and $upstream_addr */
	const struct conf_upstream *px_ups;
	int			 px_peer;	/* -1: none chosen */
	int			 px_peer_open;	/* balance_done() still owed */
	int			 px_tries;
	msec_t			 px_first;	/* the first try began */
	uint8_t			 px_tried[BALANCE_TRIED_BYTES(PX_MAX_PEERS)];
	struct {
		int		 h_peer;
		int		 h_status;
	}			 px_hist[PX_HIST];
	int			 px_nhist;
	int			 px_readable;
	int			 px_writable;
	int			 px_connected;
	const struct conf_proxy	*px_conf;
	struct buf		*px_buf;	/* request head, then response */
	struct http_head	 px_head;
	int			 px_code;	/* $upstream_status */
	int			 px_framing;
	int64_t			 px_left;	/* PXF_LENGTH: still to come */
	struct http_chunked	 px_chunk;
	int			 px_rechunk;	/* add chunk framing */
	int			 px_dechunk;	/* strip chunk framing */
	int			 px_eof;	/* the upstream closed */
	int			 px_last;	/* the final chunk is queued */
	int			 px_upgrade;	/* Upgrade went to the upstream */
	struct buf		*px_hbuf;	/* the response head, kept */
	struct buf		*px_hbig;	/* a request head too big for px_buf */
	/* $upstream_*_time, $upstream_bytes_* */
	msec_t			 px_t_start;
	msec_t			 px_t_connect;
	msec_t			 px_t_header;
	msec_t			 px_t_end;
	int64_t			 px_bytes_sent;
	int64_t			 px_bytes_received;
	/* proxy_buffering: the client's bytes in a temporary file */
	int			 px_spool_fd;
	int			 px_nospool;	/* it could not be made */
	off_t			 px_spool_r;	/* sent to the client up to */
	off_t			 px_spool_w;	/* written up to */
	/* proxy_request_buffering: the whole body before the upstream */
	int			 px_rbuffered;
	struct buf		*px_rbody;	/* in memory, while it fits */
	int			 px_rfd;	/* or in a file */
	off_t			 px_rlen;	/* its length */
	off_t			 px_rsent;	/* sent to the upstream */
	int			 px_pass_body;	/* the request body goes on */
	const char		*px_sp;		/* to the upstream next */
	size_t			 px_slen;
	/* what goes to the client next */
	char			 px_pre[24];
	struct iovec		 px_iov[4];	/* head, size, data, CRLF */
	int			 px_iovcnt;
	char			 px_target[512]; /* for the error log */
	struct proxy		*px_next;	/* free list */
};

static const char *const crlf = "\r\n";

/* the heads both ways are built with these */
static inline int
px_put(struct buf *b, const char *s, size_t len)
{
	if ((size_t)(b->b_end - b->b_last) < len)
		return -1;
	memcpy(b->b_last, s, len);
	b->b_last += len;
	return 0;
}

static inline int
is_named(const struct http_header *h, const char *name)
{
	return http_token_eq(h->h_name, h->h_namelen, name);
}

/* http_proxy.c: the peer's account, and what a failure becomes */
void	 px_peer_finish(struct conn *, struct proxy *, int failed);
void	 px_hist_status(struct proxy *, int status);
void	 px_drop_upstream(struct proxy *);
/* portico's or the client's error before the answer: 4xx or 500 */
int	 px_fail(struct conn *, int status, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* the upstream's (kind: PXN_*): the next peer, or 502/504 */
int	 px_err(struct conn *, int kind, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
int	 px_can_next(struct conn *, struct proxy *, int kind);
int	 px_next(struct conn *, struct proxy *);
int	 px_can_retry(const struct proxy *);
int	 px_retry_fresh(struct conn *, struct proxy *);
int	 px_connect(struct conn *, struct proxy *);

/* http_proxy_req.c: the request head; writes to the upstream */
int	 px_build_request(struct conn *, struct proxy *, struct buf *);
int	 px_write(struct conn *, struct proxy *, const char *, size_t,
	    size_t *done);

/* http_proxy.c: the name for the upstream's TLS (proxy_ssl_name) */
const char	*px_tls_name(struct conn *, struct proxy *, char *, size_t);

#endif
