/*
 * io.h: a socket's reads and writes, plain or TLS, behind one interface
 * so that HTTP and proxy code never knows which.  Each call behaves as
 * the system call it is named after: a byte count, 0 for end of stream
 * (reads), or -1 with errno; OpenSSL's want-read and want-write become
 * EAGAIN, and a TLS failure EPROTO with the reason in io_tls_error().
 */
#ifndef PORTICO_IO_H
#define PORTICO_IO_H

#include "core.h"

#include <sys/uio.h>

typedef struct ssl_st SSL;

ssize_t	 io_read(int fd, SSL *, void *, size_t);
ssize_t	 io_write(int fd, SSL *, const void *, size_t);
ssize_t	 io_writev(int fd, SSL *, const struct iovec *, int iovcnt);
/* from a file at *off, which advances by what was sent */
ssize_t	 io_sendfile(int fd, SSL *, int in_fd, off_t *off, size_t len);

/*
 * TLS needs the other direction now and then (a write inside a read):
 * after an EAGAIN, these say whether the retry waits for the socket to
 * become writable (or readable) instead of the usual.
 */
int	 io_wants_write(SSL *);
int	 io_wants_read(SSL *);

/* bytes TLS has decrypted that no read took yet; 0 for plain */
int	 io_pending(SSL *);
/*
 * Has the TLS peer sent data, not only TLS's own messages (tickets)?
 * 1 yes (or the connection ended or failed: a read will tell), 0 no:
 * the socket is drained.  Nothing is taken from what a read gets.
 */
int	 io_tls_has_data(SSL *);

/* the reason of the last EPROTO of this worker, for the error log */
const char *io_tls_error(void);

#endif
