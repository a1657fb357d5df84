/*
 * tls.h: TLS on client connections (the handshake step, the server
 * chosen by SNI, the $ssl_* variables) and on upstream connections.
 */
#ifndef PORTICO_TLS_H
#define PORTICO_TLS_H

#include "core.h"

#include "conf.h"

struct conn;
typedef struct ssl_st SSL;

/* the worker's callbacks on the generation's contexts; 0 or -1 */
int	 tls_worker_init(struct gen *);
/* CS_TLS_HANDSHAKE */
int	 tls_step_handshake(struct conn *);
/* the client's TLS ends: close_notify when it can, then freed */
void	 tls_conn_close(struct conn *);
/* close_notify only, before a lingering close; freed by tls_conn_close */
void	 tls_conn_shutdown(struct conn *);
/* 0, or the status the request gets: 495, 496 (ssl_verify_client),
   421 (its server is not the one the handshake or session was for) */
int	 tls_verify_check(struct conn *);
/* $ssl_*: 1 with *v, *len set (tmp may hold it), 0 for none */
int	 tls_var(struct conn *, int var, char *tmp, size_t tmplen,
	    const char **v, size_t *len);

/*
 * Upstream TLS: a client SSL on fd for the name (checked against the
 * certificate when the context verifies; sent as SNI when sni is set),
 * resuming the last session kept for key.  NULL on error (logged).
 */
SSL	*tls_upstream_new(SSL_CTX *, int fd, const char *name, int sni,
	    const void *key);
/* the connection's session is kept for the next connection to key
   over the same context with the same name */
void	 tls_upstream_keep(const void *key, const char *name, SSL *);
/* IO_OK done, IO_AGAIN (*want_write says which way), IO_ERROR */
int	 tls_upstream_handshake(SSL *, int *want_write, char *err,
	    size_t errlen);
void	 tls_upstream_free(SSL *, int clean);

#endif
