/*
 * tls.c: TLS in the worker.  A connection to a "listen ... ssl" address
 * begins in CS_TLS_HANDSHAKE with the default server's context; the
 * client's SNI name chooses the server whose context finishes it, as
 * nginx.  A first byte that is not a TLS handshake record means plain
 * HTTP: the request is read and answered with nginx's 497 page.
 * Client-certificate policy is checked per request, against the server
 * chosen by Host, so a session resumed under another name gets no more
 * than its certificate allows.
 */
#include "core.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "clock.h"
#include "conn.h"
#include "io.h"
#include "log.h"
#include "tls.h"

/* the first byte of a TLS record carrying a handshake message */
#define TLS_RECORD_HANDSHAKE	0x16

static int
tls_sni(SSL *ssl, int *alert, void *arg)
{
	struct conn *c = SSL_get_app_data(ssl);
	const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	const struct conf_srv *s;
	char low[256];
	size_t i, len;
	SSL_CTX *ctx;

	if (c == NULL || name == NULL)
		return SSL_TLSEXT_ERR_OK;
	len = strlen(name);
	if (len == 0 || len >= sizeof(low))
		return SSL_TLSEXT_ERR_OK;
	for (i = 0; i < len; i++)
		low[i] = tolower((unsigned char)name[i]);
	low[len] = '\0';
	s = conf_find_server(c->c_listen, low, len, NULL);
	if (s == NULL || (ctx = s->sc_ssl.ss_ctx) == NULL ||
	    ctx == SSL_get_SSL_CTX(ssl))
		return SSL_TLSEXT_ERR_OK;
	/* the new context's certificates; its policy copied by hand */
	SSL_set_SSL_CTX(ssl, ctx);
	SSL_set_verify(ssl, SSL_CTX_get_verify_mode(ctx),
	    SSL_CTX_get_verify_callback(ctx));
	SSL_set_verify_depth(ssl, SSL_CTX_get_verify_depth(ctx));
	SSL_clear_options(ssl, SSL_get_options(ssl) & ~SSL_CTX_get_options(ctx));
	SSL_set_options(ssl, SSL_CTX_get_options(ctx));
	return SSL_TLSEXT_ERR_OK;
}

int
tls_worker_init(struct gen *g)
{
	const struct conf_srv *s;

	if (g->g_http == NULL)
		return 0;
	for (s = g->g_http->hc_servers; s != NULL; s = s->sc_next)
		if (s->sc_ssl.ss_ctx != NULL)
			SSL_CTX_set_tlsext_servername_callback(s->sc_ssl.ss_ctx,
			    tls_sni);
	return 0;
}

/* the reason OpenSSL gives, then its queue cleared */
static void
tls_reason(char *dst, size_t len)
{
	unsigned long e = ERR_peek_last_error();

	if (e != 0)
		ERR_error_string_n(e, dst, len);
	else
		snprintf(dst, len, "%s", errno ? strerror(errno) :
		    "connection closed");
	ERR_clear_error();
}

int
tls_step_handshake(struct conn *c)
{
	const struct conf_srv *s = c->c_listen->gl_default;
	unsigned char first;
	char why[256];
	ssize_t n;
	int rc, err;

	c->c_action = "SSL handshaking";
	if (c->c_ssl == NULL) {
		if (!c->c_readable)
			return CS_WAIT;
		n = recv(c->c_fd, &first, 1, MSG_PEEK);
		if (n == -1 && errno == EINTR)
			return CS_TLS_HANDSHAKE;
		if (n == -1 && errno == EAGAIN) {
			c->c_readable = 0;
			return CS_WAIT;
		}
		if (n <= 0) {
			log_debug("conn %llu: closed before the handshake",
			    (unsigned long long)c->c_id);
			return CS_CLOSE;
		}
		/* a handshake record, or an SSLv2-style hello (high bit) */
		if (first != TLS_RECORD_HANDSHAKE && !(first & 0x80)) {
			/* plain HTTP: read it, answer 497 (http.c) */
			c->c_tls_plain = 1;
			c->c_action = NULL;
			return CS_READ_HEAD;
		}
		if ((c->c_ssl = SSL_new(s->sc_ssl.ss_ctx)) == NULL ||
		    SSL_set_fd(c->c_ssl, c->c_fd) != 1) {
			tls_reason(why, sizeof(why));
			conn_log(c, LOG_ALERT, "SSL_new() failed (%s)", why);
			return CS_CLOSE;
		}
		SSL_set_app_data(c->c_ssl, c);
		SSL_set_accept_state(c->c_ssl);
	}
	errno = 0;
	ERR_clear_error();
	rc = SSL_do_handshake(c->c_ssl);
	if (rc == 1) {
		c->c_action = NULL;
		timer_cancel(&c->c_timer);
		timer_set(&c->c_timer, s->sc_client_header_timeout);
		return CS_READ_HEAD;
	}
	err = SSL_get_error(c->c_ssl, rc);
	if (err == SSL_ERROR_WANT_READ) {
		c->c_readable = 0;
		return CS_WAIT;
	}
	if (err == SSL_ERROR_WANT_WRITE) {
		c->c_writable = 0;
		return CS_WAIT;
	}
	tls_reason(why, sizeof(why));
	c->c_tls_failed = 1;
	conn_log(c, LOG_INFO, "SSL_do_handshake() failed (SSL: %s)", why);
	return CS_CLOSE;
}

void
tls_conn_shutdown(struct conn *c)
{
	if (c->c_ssl == NULL || c->c_tls_failed)
		return;
	if (SSL_is_init_finished(c->c_ssl) && SSL_shutdown(c->c_ssl) < 0)
		ERR_clear_error();
	/* said once: the close after the linger only frees */
	c->c_tls_failed = 1;
}

void
tls_conn_close(struct conn *c)
{
	if (c->c_ssl == NULL)
		return;
	/* close_notify once, without waiting for the client's */
	if (!c->c_tls_failed && SSL_is_init_finished(c->c_ssl)) {
		SSL_set_quiet_shutdown(c->c_ssl, 0);
		if (SSL_shutdown(c->c_ssl) < 0)
			ERR_clear_error();
	}
	SSL_free(c->c_ssl);
	c->c_ssl = NULL;
	ERR_clear_error();
}

/* verification errors optional_no_ca lets through: an unknown issuer */
static int
tls_untrusted_issuer(long rc)
{
	return rc == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT ||
	    rc == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN ||
	    rc == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT ||
	    rc == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
	    rc == X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE;
}

int
tls_verify_check(struct conn *c)
{
	const struct conf_srv *s = c->c_req.r_srv;
	long rc;

	if (c->c_ssl == NULL || s == NULL || s->sc_ssl.ss_verify == SSLV_OFF)
		return 0;
	/*
	 * The certificate was checked by the server the handshake chose
	 * (SNI), or by the one that made a resumed session: a request for
	 * a server that verifies clients must come over its own, or its
	 * CAs were never asked (nginx answers the first case 421 too).
	 */
	if (SSL_get_SSL_CTX(c->c_ssl) != s->sc_ssl.ss_ctx) {
		conn_log(c, LOG_INFO, "client attempted to request the server "
		    "name different from the one that was negotiated");
		return 421;
	}
	if (SSL_session_reused(c->c_ssl)) {
		const SSL_SESSION *sess = SSL_get0_session(c->c_ssl);
		const unsigned char *id = NULL;
		unsigned int idlen = 0;

		if (sess != NULL)
			id = SSL_SESSION_get0_id_context(sess, &idlen);
		if (id == NULL || idlen != s->sc_ssl.ss_sidlen ||
		    memcmp(id, s->sc_ssl.ss_sid, idlen) != 0) {
			conn_log(c, LOG_INFO, "client resumed a session of "
			    "another server");
			return 421;
		}
	}
	rc = SSL_get_verify_result(c->c_ssl);
	if (rc != X509_V_OK && SSL_get0_peer_certificate(c->c_ssl) != NULL &&
	    (s->sc_ssl.ss_verify != SSLV_OPTIONAL_NO_CA ||
	    !tls_untrusted_issuer(rc))) {
		conn_log(c, LOG_INFO, "client SSL certificate verify error: "
		    "(%ld:%s)", rc, X509_verify_cert_error_string(rc));
		return 495;
	}
	if (s->sc_ssl.ss_verify == SSLV_ON &&
	    SSL_get0_peer_certificate(c->c_ssl) == NULL) {
		conn_log(c, LOG_INFO, "client sent no required SSL "
		    "certificate");
		return 496;
	}
	return 0;
}

/* a memory BIO's text into tmp */
static int
tls_bio_out(BIO *bio, char *tmp, size_t tmplen, const char **v, size_t *len)
{
	char *p;
	long n;

	if (bio == NULL)
		return 0;
	n = BIO_get_mem_data(bio, &p);
	if (n < 0 || (size_t)n >= tmplen) {
		BIO_free(bio);
		return 0;
	}
	memcpy(tmp, p, n);
	tmp[n] = '\0';
	BIO_free(bio);
	*v = tmp;
	*len = n;
	return 1;
}

static int
tls_name(X509_NAME *nm, char *tmp, size_t tmplen, const char **v,
    size_t *len)
{
	BIO *bio = BIO_new(BIO_s_mem());

	if (bio == NULL || X509_NAME_print_ex(bio, nm, 0, XN_FLAG_RFC2253) < 0) {
		BIO_free(bio);
		return 0;
	}
	return tls_bio_out(bio, tmp, tmplen, v, len);
}

static int
tls_time(const ASN1_TIME *t, char *tmp, size_t tmplen, const char **v,
    size_t *len)
{
	BIO *bio = BIO_new(BIO_s_mem());

	if (bio == NULL || ASN1_TIME_print(bio, t) != 1) {
		BIO_free(bio);
		return 0;
	}
	return tls_bio_out(bio, tmp, tmplen, v, len);
}

/* the PEM of the certificate; lines after the first indented by a tab
   ($ssl_client_cert), or escaped for a header ($ssl_client_escaped_cert) */
static int
tls_pem(X509 *x, int how, char *tmp, size_t tmplen, const char **v,
    size_t *len)
{
	static const char hex[] = "0123456789ABCDEF";
	BIO *bio = BIO_new(BIO_s_mem());
	char *p;
	size_t o = 0;
	long n, i;

	if (bio == NULL || PEM_write_bio_X509(bio, x) != 1) {
		BIO_free(bio);
		return 0;
	}
	if (how == VAR_SSL_CLIENT_RAW_CERT)
		return tls_bio_out(bio, tmp, tmplen, v, len);
	n = BIO_get_mem_data(bio, &p);
	for (i = 0; i < n && o + 4 < tmplen; i++) {
		unsigned char ch = p[i];

		if (how == VAR_SSL_CLIENT_CERT) {
			/* the final newline is not continued */
			tmp[o++] = ch;
			if (ch == '\n' && i + 1 < n)
				tmp[o++] = '\t';
		} else if (isalnum(ch) || ch == '-' || ch == '.' ||
		    ch == '_' || ch == '~') {
			tmp[o++] = ch;
		} else {
			tmp[o++] = '%';
			tmp[o++] = hex[ch >> 4];
			tmp[o++] = hex[ch & 15];
		}
	}
	BIO_free(bio);
	if (i < n)
		return 0;
	if (how == VAR_SSL_CLIENT_CERT && o > 0 && tmp[o - 1] == '\n')
		o--;
	*v = tmp;
	*len = o;
	return 1;
}

static int
tls_hex(const unsigned char *p, size_t n, int upper, char *tmp,
    size_t tmplen, const char **v, size_t *len)
{
	const char *hex = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	size_t i;

	if (n * 2 >= tmplen)
		return 0;
	for (i = 0; i < n; i++) {
		tmp[2 * i] = hex[p[i] >> 4];
		tmp[2 * i + 1] = hex[p[i] & 15];
	}
	*v = tmp;
	*len = n * 2;
	return 1;
}

static int
tls_client_var(SSL *ssl, int var, char *tmp, size_t tmplen, const char **v,
    size_t *len)
{
	X509 *x = SSL_get0_peer_certificate(ssl);
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen;
	ASN1_INTEGER *serial;
	BIGNUM *bn;
	char *h;
	int n, days, secs;
	long rc;

	if (var == VAR_SSL_CLIENT_VERIFY) {
		if (x == NULL) {
			*v = "NONE";
			*len = 4;
			return 1;
		}
		rc = SSL_get_verify_result(ssl);
		if (rc == X509_V_OK) {
			*v = "SUCCESS";
			*len = 7;
			return 1;
		}
		n = snprintf(tmp, tmplen, "FAILED:%s",
		    X509_verify_cert_error_string(rc));
		*v = tmp;
		*len = MIN((size_t)n, tmplen - 1);
		return 1;
	}
	if (x == NULL) {
		*v = "";
		*len = 0;
		return 1;
	}
	switch (var) {
	case VAR_SSL_CLIENT_S_DN:
		return tls_name(X509_get_subject_name(x), tmp, tmplen, v, len);
	case VAR_SSL_CLIENT_I_DN:
		return tls_name(X509_get_issuer_name(x), tmp, tmplen, v, len);
	case VAR_SSL_CLIENT_SERIAL:
		serial = X509_get_serialNumber(x);
		if ((bn = ASN1_INTEGER_to_BN(serial, NULL)) == NULL)
			return 0;
		h = BN_bn2hex(bn);
		BN_free(bn);
		if (h == NULL)
			return 0;
		n = snprintf(tmp, tmplen, "%s", h);
		OPENSSL_free(h);
		*v = tmp;
		*len = MIN((size_t)n, tmplen - 1);
		return 1;
	case VAR_SSL_CLIENT_FINGERPRINT:
		if (X509_digest(x, EVP_sha1(), md, &mdlen) != 1)
			return 0;
		return tls_hex(md, mdlen, 0, tmp, tmplen, v, len);
	case VAR_SSL_CLIENT_V_START:
		return tls_time(X509_get0_notBefore(x), tmp, tmplen, v, len);
	case VAR_SSL_CLIENT_V_END:
		return tls_time(X509_get0_notAfter(x), tmp, tmplen, v, len);
	case VAR_SSL_CLIENT_V_REMAIN:
		if (ASN1_TIME_diff(&days, &secs, NULL,
		    X509_get0_notAfter(x)) != 1)
			return 0;
		n = snprintf(tmp, tmplen, "%d", days < 0 ? 0 : days);
		*v = tmp;
		*len = n;
		return 1;
	default:
		return tls_pem(x, var, tmp, tmplen, v, len);
	}
}

int
tls_var(struct conn *c, int var, char *tmp, size_t tmplen, const char **v,
    size_t *len)
{
	SSL *ssl = c->c_ssl;
	const unsigned char *p;
	unsigned int plen;
	const char *s = NULL;
	int n, i;

	*v = tmp;
	if (ssl == NULL)
		return 0;
	switch (var) {
	case VAR_SSL_PROTOCOL:
		s = SSL_get_version(ssl);
		break;
	case VAR_SSL_CIPHER:
		s = SSL_get_cipher_name(ssl);
		break;
	case VAR_SSL_CIPHERS: {
		STACK_OF(SSL_CIPHER) *sk = SSL_get_client_ciphers(ssl);
		size_t o = 0;

		for (i = 0; sk != NULL && i < sk_SSL_CIPHER_num(sk); i++) {
			n = snprintf(tmp + o, tmplen - o, "%s%s", i ? ":" : "",
			    SSL_CIPHER_get_name(sk_SSL_CIPHER_value(sk, i)));
			if (n < 0 || (size_t)n >= tmplen - o)
				break;
			o += n;
		}
		*len = o;
		return 1;
	}
	case VAR_SSL_CURVE:
		n = SSL_get_negotiated_group(ssl);
		if (n == 0)
			return 0;
		s = SSL_group_to_name(ssl, n);
		break;
	case VAR_SSL_SERVER_NAME:
		s = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
		break;
	case VAR_SSL_ALPN_PROTOCOL:
		SSL_get0_alpn_selected(ssl, &p, &plen);
		*v = (const char *)p;
		*len = plen;
		return 1;
	case VAR_SSL_SESSION_ID: {
		const SSL_SESSION *sess = SSL_get0_session(ssl);

		if (sess == NULL)
			return 0;
		p = SSL_SESSION_get_id(sess, &plen);
		return tls_hex(p, plen, 0, tmp, tmplen, v, len);
	}
	case VAR_SSL_SESSION_REUSED:
		s = SSL_session_reused(ssl) ? "r" : ".";
		break;
	default:
		return tls_client_var(ssl, var, tmp, tmplen, v, len);
	}
	if (s == NULL)
		return 0;
	*v = s;
	*len = strlen(s);
	return 1;
}

/*
 * The last session of each upstream peer, per worker, for
 * proxy_ssl_session_reuse: a small table indexed by the peer, the
 * context and the name, so that a session is only offered again under
 * the settings (verification, CAs, client certificate) and the name it
 * was made with: OpenSSL checks nothing of a resumed session again.  A
 * collision only costs a full handshake.
 */
#define TLS_UPS_SESSIONS	256
#define TLS_UPS_NAME		256

static struct {
	const void	*us_key;
	const SSL_CTX	*us_ctx;
	char		 us_name[TLS_UPS_NAME];
	SSL_SESSION	*us_sess;
} ups_sessions[TLS_UPS_SESSIONS];

static unsigned
tls_ups_slot(const void *key, const SSL_CTX *ctx, const char *name)
{
	uint64_t h = (uintptr_t)key * 0x9e3779b97f4a7c15ULL ^ (uintptr_t)ctx;

	for (; name != NULL && *name != '\0'; name++)
		h = (h ^ (unsigned char)*name) * 0x100000001b3ULL;
	return (unsigned)((h ^ h >> 29) % TLS_UPS_SESSIONS);
}

static int
tls_ups_match(unsigned i, const void *key, const SSL_CTX *ctx,
    const char *name)
{
	return ups_sessions[i].us_key == key && ups_sessions[i].us_ctx == ctx &&
	    strcmp(ups_sessions[i].us_name, name != NULL ? name : "") == 0;
}

void
tls_upstream_keep(const void *key, const char *name, SSL *ssl)
{
	const SSL_CTX *ctx = ssl != NULL ? SSL_get_SSL_CTX(ssl) : NULL;
	unsigned i = tls_ups_slot(key, ctx, name);
	SSL_SESSION *sess;

	/* a resumed connection's session too: TLS 1.3 tickets are used once */
	if (key == NULL || ssl == NULL || (name != NULL &&
	    strlen(name) >= TLS_UPS_NAME) ||
	    (sess = SSL_get1_session(ssl)) == NULL)
		return;
	if (!SSL_SESSION_is_resumable(sess)) {
		SSL_SESSION_free(sess);
		return;
	}
	if (ups_sessions[i].us_sess != NULL)
		SSL_SESSION_free(ups_sessions[i].us_sess);
	ups_sessions[i].us_key = key;
	ups_sessions[i].us_ctx = ctx;
	snprintf(ups_sessions[i].us_name, TLS_UPS_NAME, "%s",
	    name != NULL ? name : "");
	ups_sessions[i].us_sess = sess;
}

SSL *
tls_upstream_new(SSL_CTX *ctx, int fd, const char *name, int sni,
    const void *key)
{
	unsigned char addr[16];
	unsigned i = tls_ups_slot(key, ctx, name);
	char why[256];
	int is_ip;
	SSL *ssl;

	if ((ssl = SSL_new(ctx)) == NULL || SSL_set_fd(ssl, fd) != 1) {
		tls_reason(why, sizeof(why));
		log_alert("SSL_new() failed (%s)", why);
		SSL_free(ssl);
		return NULL;
	}
	SSL_set_connect_state(ssl);
	is_ip = name != NULL && (inet_pton(AF_INET, name, addr) == 1 ||
	    inet_pton(AF_INET6, name, addr) == 1);
	/* RFC 6066: SNI is a host name, never an address */
	if (sni && name != NULL && name[0] != '\0' && !is_ip)
		SSL_set_tlsext_host_name(ssl, name);
	if ((SSL_CTX_get_verify_mode(ctx) & SSL_VERIFY_PEER) && name != NULL) {
		X509_VERIFY_PARAM *vp = SSL_get0_param(ssl);

		if (is_ip)
			X509_VERIFY_PARAM_set1_ip_asc(vp, name);
		else
			X509_VERIFY_PARAM_set1_host(vp, name, 0);
	}
	if (key != NULL && tls_ups_match(i, key, ctx, name) &&
	    ups_sessions[i].us_sess != NULL)
		SSL_set_session(ssl, ups_sessions[i].us_sess);
	return ssl;
}

int
tls_upstream_handshake(SSL *ssl, int *want_write, char *err, size_t errlen)
{
	long vr;
	int rc, e;

	errno = 0;
	ERR_clear_error();
	rc = SSL_do_handshake(ssl);
	if (rc == 1)
		return IO_OK;
	e = SSL_get_error(ssl, rc);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		*want_write = e == SSL_ERROR_WANT_WRITE;
		return IO_AGAIN;
	}
	vr = SSL_get_verify_result(ssl);
	if (vr == X509_V_ERR_HOSTNAME_MISMATCH ||
	    vr == X509_V_ERR_IP_ADDRESS_MISMATCH) {
		X509_VERIFY_PARAM *vp = SSL_get0_param(ssl);
		char *ip = X509_VERIFY_PARAM_get1_ip_asc(vp);
		const char *host = X509_VERIFY_PARAM_get0_host(vp, 0);

		/* nginx's words for it */
		snprintf(err, errlen, "upstream SSL certificate does not match "
		    "\"%s\"", ip != NULL ? ip : host != NULL ? host : "");
		OPENSSL_free(ip);
		ERR_clear_error();
	} else if (vr != X509_V_OK) {
		snprintf(err, errlen, "upstream SSL certificate verify error: "
		    "(%ld:%s)", vr, X509_verify_cert_error_string(vr));
		ERR_clear_error();
	} else {
		char why[256];

		tls_reason(why, sizeof(why));
		snprintf(err, errlen, "SSL_do_handshake() failed (SSL: %s)",
		    why);
	}
	return IO_ERROR;
}

void
tls_upstream_free(SSL *ssl, int clean)
{
	if (ssl == NULL)
		return;
	/*
	 * Without close_notify sent, OpenSSL takes the session for a bad
	 * one and makes it unresumable: one that ends without it (the
	 * upstream closed first) is marked as shut down, quietly.
	 */
	if (!clean)
		SSL_set_quiet_shutdown(ssl, 1);
	if (SSL_is_init_finished(ssl) && SSL_shutdown(ssl) < 0)
		ERR_clear_error();
	SSL_free(ssl);
	ERR_clear_error();
}
