/*
 * io.c: plain and TLS socket I/O with system-call conventions (io.h).
 *
 * TLS writes run with SSL_MODE_ENABLE_PARTIAL_WRITE and
 * SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER (set on every context): a write
 * that got EAGAIN is retried by the callers with the same bytes first,
 * which is all OpenSSL asks then.
 */
#include "core.h"

#include <sys/sendfile.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "io.h"

/* a TLS record's worth: what a gathered or file write copies at once */
#define IO_TLS_CHUNK	16384

static char tls_error[256];

const char *
io_tls_error(void)
{
	return tls_error[0] ? tls_error : "TLS error";
}

/* after an SSL_* call that returned n <= 0: -1 with errno, or 0 (EOF) */
static ssize_t
io_tls_fail(SSL *ssl, int n)
{
	unsigned long e;
	int err = SSL_get_error(ssl, n);

	switch (err) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		errno = EAGAIN;
		return -1;
	case SSL_ERROR_ZERO_RETURN:
		return 0;		/* close_notify */
	case SSL_ERROR_SYSCALL:
		ERR_clear_error();
		if (errno == 0 || errno == EAGAIN) {
			/* OpenSSL 3 reports a FIN without close_notify so */
			errno = ECONNRESET;
		}
		snprintf(tls_error, sizeof(tls_error), "%s", strerror(errno));
		return -1;
	default:
		e = ERR_peek_last_error();
		if (e != 0)
			ERR_error_string_n(e, tls_error, sizeof(tls_error));
		else
			snprintf(tls_error, sizeof(tls_error), "SSL error %d",
			    err);
		/* an unexpected EOF is a closed connection, not an attack */
		if (ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
			ERR_clear_error();
			return 0;
		}
		ERR_clear_error();
		errno = EPROTO;
		return -1;
	}
}

ssize_t
io_read(int fd, SSL *ssl, void *p, size_t len)
{
	int n;

	if (ssl == NULL)
		return read(fd, p, len);
	if (len == 0)
		return 0;
	errno = 0;
	/* an error left by another connection must not be taken for ours */
	ERR_clear_error();
	n = SSL_read(ssl, p, (int)MIN(len, INT_MAX));
	return n > 0 ? n : io_tls_fail(ssl, n);
}

ssize_t
io_write(int fd, SSL *ssl, const void *p, size_t len)
{
	int n;

	if (ssl == NULL)
		return write(fd, p, len);
	if (len == 0)
		return 0;
	errno = 0;
	ERR_clear_error();
	/*
	 * One record per call: OpenSSL may write several at once for a
	 * large buffer (multiblock), and then insists on a retry at least
	 * as long, which a caller falling back to a smaller piece (a file
	 * through io_sendfile) would not give.
	 */
	n = SSL_write(ssl, p, (int)MIN(len, IO_TLS_CHUNK));
	return n > 0 ? n : io_tls_fail(ssl, n);
}

/*
 * TLS has no gathered write: small pieces are copied into one record
 * (a head and a small body go out together, as with writev()), a large
 * first piece goes as it is.
 */
ssize_t
io_writev(int fd, SSL *ssl, const struct iovec *iov, int iovcnt)
{
	char tmp[IO_TLS_CHUNK];
	size_t len = 0, k;
	int i;

	if (ssl == NULL)
		return writev(fd, iov, iovcnt);
	for (i = 0; i < iovcnt && iov[i].iov_len == 0; i++)
		;
	if (i == iovcnt)
		return 0;
	if (iov[i].iov_len >= sizeof(tmp))
		return io_write(fd, ssl, iov[i].iov_base, iov[i].iov_len);
	for (; i < iovcnt && len < sizeof(tmp); i++) {
		k = MIN(iov[i].iov_len, sizeof(tmp) - len);
		memcpy(tmp + len, iov[i].iov_base, k);
		len += k;
	}
	return io_write(fd, ssl, tmp, len);
}

ssize_t
io_sendfile(int fd, SSL *ssl, int in_fd, off_t *off, size_t len)
{
	char tmp[IO_TLS_CHUNK];
	ssize_t n, w;

	if (ssl == NULL)
		return sendfile(fd, in_fd, off, len);
	/* a retry after EAGAIN reads the same bytes again: what SSL wants */
	n = pread(in_fd, tmp, MIN(len, sizeof(tmp)), *off);
	if (n <= 0)
		return n;
	w = io_write(fd, ssl, tmp, n);
	if (w > 0)
		*off += w;
	return w;
}

int
io_wants_write(SSL *ssl)
{
	return ssl != NULL && SSL_want_write(ssl);
}

int
io_wants_read(SSL *ssl)
{
	return ssl != NULL && SSL_want_read(ssl);
}

int
io_pending(SSL *ssl)
{
	return ssl != NULL ? SSL_pending(ssl) : 0;
}

int
io_tls_has_data(SSL *ssl)
{
	char c;
	int n, e;

	ERR_clear_error();
	if ((n = SSL_peek(ssl, &c, 1)) > 0)
		return 1;
	e = SSL_get_error(ssl, n);
	ERR_clear_error();
	return e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE;
}
