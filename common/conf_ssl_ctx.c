/*
 * conf_ssl_ctx.c: the SSL_CTXs built from the merged ssl_* and
 * proxy_ssl_* settings of conf_ssl.c, once the whole configuration has
 * been read: one server context per server with certificates, one client
 * context per proxy_pass https:// location (shared by the locations whose
 * contexts would be the same), and their freeing.
 *
 * Files named by these directives are read by the master at load, before
 * it drops privileges, so a key readable by root alone works, and a bad
 * file fails "portico -t" and a reload (which then keeps the running
 * generation).  Errors found while building carry the file:line of the
 * directive that named the file (struct conf_at), or of the server or
 * proxy_pass when the value is a default.
 */
#include "core.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "conf_int.h"
#include "log.h"

#define PASSWORDS_MAX	(64 * 1024)	/* the largest ssl_password_file */
#define STAPLE_MAX	(1024 * 1024)	/* the largest ssl_stapling_file */

/* the place of an error: the directive's, else the fallback's */
struct where {
	const char	*w_file;
	int		 w_line;
};

static struct where
where_of(const struct conf_at *at, const char *file, int line)
{
	struct where w = { file, line };

	if (at != NULL && at->at_file != NULL) {
		w.w_file = at->at_file;
		w.w_line = at->at_line;
	}
	return w;
}

/*
 * "file:line: message (SSL: error:...:reason:data ...)": OpenSSL's queue
 * is emptied into the message, as nginx words it.
 */
static void
build_error(struct gen *g, struct where w, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
build_error(struct gen *g, struct where w, const char *fmt, ...)
{
	char msg[1024], q[2048], e[256];
	const char *data;
	unsigned long err;
	size_t n = 0;
	va_list ap;
	int flags;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	q[0] = '\0';
	while ((err = ERR_get_error_all(NULL, NULL, NULL, &data, &flags)) !=
	    0) {
		if (n >= sizeof(q))
			continue;
		ERR_error_string_n(err, e, sizeof(e));
		n += snprintf(q + n, sizeof(q) - n, "%s%s%s%s",
		    n == 0 ? " (SSL: " : " ", e,
		    data != NULL && (flags & ERR_TXT_STRING) && *data ? ":" :
		    "", data != NULL && (flags & ERR_TXT_STRING) ? data : "");
	}
	if (n > 0 && n < sizeof(q) - 1) {
		q[n++] = ')';
		q[n] = '\0';
	}
	g->g_errors++;
	if (g->g_errors > CONF_MAX_ERRORS)
		return;
	log_emerg("%s:%d: %s%s", w.w_file, w.w_line, msg, q);
	if (g->g_errors == CONF_MAX_ERRORS)
		log_emerg("too many errors, not reporting the rest");
}

/* ssl_password_file: each line a passphrase, tried in turn */
struct passwords {
	char	*pw_buf;
	size_t	 pw_len;
	char	*pw_list[64];
	int	 pw_n;
};

static int
passwords_read(struct gen *g, const char *path, struct where w,
    struct passwords *pw)
{
	char *p, *e, *end;
	ssize_t r;
	int fd;

	memset(pw, 0, sizeof(*pw));
	if (path == NULL)
		return 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		build_error(g, w, "open() \"%s\" failed (%d: %s)", path, errno,
		    strerror(errno));
		return -1;
	}
	pw->pw_buf = malloc(PASSWORDS_MAX + 1);
	while (pw->pw_buf != NULL && pw->pw_len < PASSWORDS_MAX) {
		r = read(fd, pw->pw_buf + pw->pw_len, PASSWORDS_MAX -
		    pw->pw_len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		pw->pw_len += r;
	}
	close(fd);
	if (pw->pw_buf == NULL)
		return -1;
	pw->pw_buf[pw->pw_len] = '\0';
	end = pw->pw_buf + pw->pw_len;
	for (p = pw->pw_buf; p < end && pw->pw_n < (int)nitems(pw->pw_list);
	    p = e + 1) {
		if ((e = memchr(p, '\n', end - p)) == NULL)
			e = end;
		*e = '\0';
		if (e > p && e[-1] == '\r')
			e[-1] = '\0';
		if (*p != '\0')
			pw->pw_list[pw->pw_n++] = p;
	}
	if (pw->pw_n == 0) {
		build_error(g, w, "no passphrases in \"%s\"", path);
		return -1;
	}
	return 0;
}

static void
passwords_free(struct passwords *pw)
{
	if (pw->pw_buf != NULL) {
		OPENSSL_cleanse(pw->pw_buf, pw->pw_len);
		free(pw->pw_buf);
	}
	memset(pw, 0, sizeof(*pw));
}

/* one passphrase, or none: an encrypted key never prompts on a tty */
static int
password_cb(char *buf, int size, int rwflag, void *u)
{
	size_t len;

	if (u == NULL || size <= 0)
		return 0;
	len = strlen(u);
	if (len > (size_t)size)
		len = size;
	memcpy(buf, u, len);
	return (int)len;
}

static EVP_PKEY *
key_read(struct gen *g, const char *path, const struct passwords *pw,
    struct where w)
{
	EVP_PKEY *pk = NULL;
	BIO *b;
	int i, tries = pw->pw_n > 0 ? pw->pw_n : 1;

	ERR_clear_error();
	if ((b = BIO_new_file(path, "r")) == NULL) {
		build_error(g, w, "cannot load certificate key \"%s\": "
		    "BIO_new_file() failed", path);
		return NULL;
	}
	for (i = 0; i < tries && pk == NULL; i++) {
		if (i > 0 && BIO_reset(b) != 0)
			break;
		/* only the last attempt's reasons are reported */
		ERR_clear_error();
		pk = PEM_read_bio_PrivateKey(b, NULL, password_cb,
		    pw->pw_n > 0 ? pw->pw_list[i] : NULL);
	}
	BIO_free(b);
	if (pk == NULL)
		build_error(g, w, "cannot load certificate key \"%s\": "
		    "PEM_read_bio_PrivateKey() failed", path);
	return pk;
}

/* a certificate chain file and its key, into ctx */
static int
pair_load(struct gen *g, SSL_CTX *ctx, const char *cert, const char *key,
    const struct passwords *pw, struct where w)
{
	EVP_PKEY *pk;

	ERR_clear_error();
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		build_error(g, w, "cannot load certificate \"%s\"", cert);
		return -1;
	}
	if ((pk = key_read(g, key, pw, w)) == NULL)
		return -1;
	if (SSL_CTX_use_PrivateKey(ctx, pk) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		EVP_PKEY_free(pk);
		build_error(g, w, "certificate key \"%s\" does not match "
		    "certificate \"%s\"", key, cert);
		return -1;
	}
	EVP_PKEY_free(pk);
	return 0;
}

/* min and max versions, and SSL_OP_NO_* for a hole ("TLSv1 TLSv1.2") */
static void
protocols_set(SSL_CTX *ctx, int mask)
{
	static const struct {
		int		 bit;
		int		 version;
		uint64_t	 op;
	} v[] = {
		{ SSLP_TLSv1, TLS1_VERSION, SSL_OP_NO_TLSv1 },
		{ SSLP_TLSv1_1, TLS1_1_VERSION, SSL_OP_NO_TLSv1_1 },
		{ SSLP_TLSv1_2, TLS1_2_VERSION, SSL_OP_NO_TLSv1_2 },
		{ SSLP_TLSv1_3, TLS1_3_VERSION, SSL_OP_NO_TLSv1_3 },
	};
	int i, lo = -1, hi = -1;

	for (i = 0; i < (int)nitems(v); i++) {
		if (!(mask & v[i].bit))
			continue;
		if (lo == -1)
			lo = i;
		hi = i;
	}
	if (lo == -1)
		return;		/* the setter refuses an empty set */
	SSL_CTX_set_min_proto_version(ctx, v[lo].version);
	SSL_CTX_set_max_proto_version(ctx, v[hi].version);
	for (i = lo; i <= hi; i++)
		if (!(mask & v[i].bit))
			SSL_CTX_set_options(ctx, v[i].op);
}

/* what every context of portico's has, server or client */
static void
common_set(SSL_CTX *ctx)
{
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION |
	    SSL_OP_NO_RENEGOTIATION);
#ifdef SSL_OP_NO_CLIENT_RENEGOTIATION
	SSL_CTX_set_options(ctx, SSL_OP_NO_CLIENT_RENEGOTIATION);
#endif
	/* the worker writes from buffers that move between retries */
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS |
	    SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
}

/* ssl_conf_command lines, applied last so that they override the rest */
static int
commands_apply(struct gen *g, SSL_CTX *ctx, const struct conf_ssl_cmd *m,
    unsigned flags, struct where w)
{
	SSL_CONF_CTX *cc;
	int rc = 0;

	if (m == NULL)
		return 0;
	if ((cc = SSL_CONF_CTX_new()) == NULL) {
		build_error(g, w, "SSL_CONF_CTX_new() failed");
		return -1;
	}
	SSL_CONF_CTX_set_flags(cc, SSL_CONF_FLAG_FILE | flags |
	    SSL_CONF_FLAG_CERTIFICATE | SSL_CONF_FLAG_SHOW_ERRORS);
	SSL_CONF_CTX_set_ssl_ctx(cc, ctx);
	for (; m != NULL; m = m->sm_next) {
		struct where mw = { m->sm_file, m->sm_line };

		ERR_clear_error();
		if (SSL_CONF_cmd(cc, m->sm_name, m->sm_value) <= 0) {
			build_error(g, mw, "SSL_CONF_cmd(\"%s\", \"%s\") "
			    "failed", m->sm_name, m->sm_value);
			rc = -1;
		}
	}
	ERR_clear_error();
	if (rc == 0 && SSL_CONF_CTX_finish(cc) != 1) {
		build_error(g, w, "SSL_CONF_CTX_finish() failed");
		rc = -1;
	}
	SSL_CONF_CTX_free(cc);
	return rc;
}

static int
crl_load(struct gen *g, SSL_CTX *ctx, const char *path, struct where w)
{
	X509_STORE *st = SSL_CTX_get_cert_store(ctx);
	X509_LOOKUP *lk;

	ERR_clear_error();
	if ((lk = X509_STORE_add_lookup(st, X509_LOOKUP_file())) == NULL ||
	    X509_load_crl_file(lk, path, X509_FILETYPE_PEM) <= 0) {
		build_error(g, w, "X509_LOOKUP_load_file(\"%s\") failed", path);
		return -1;
	}
	X509_STORE_set_flags(st, X509_V_FLAG_CRL_CHECK |
	    X509_V_FLAG_CRL_CHECK_ALL);
	return 0;
}

static int
verify_locations(struct gen *g, SSL_CTX *ctx, const char *path,
    struct where w)
{
	ERR_clear_error();
	if (SSL_CTX_load_verify_locations(ctx, path, NULL) != 1) {
		build_error(g, w, "SSL_CTX_load_verify_locations(\"%s\") failed",
		    path);
		return -1;
	}
	return 0;
}

/*
 * Client certificates never fail the handshake, as in nginx: the error
 * stays in SSL_get_verify_result(), and the worker answers the request
 * with 400 (nginx's 495 "The SSL certificate error" or 496 "No required
 * SSL certificate was sent") when ssl_verify_client asks for it, or
 * tells the application through $ssl_client_verify.
 */
static int
verify_cb(int ok, X509_STORE_CTX *xs)
{
	return 1;
}

/* ssl_verify_client, ssl_client_certificate, ssl_trusted_certificate */
static int
verify_set(struct gen *g, SSL_CTX *ctx, const struct conf_srv *s)
{
	const struct conf_ssl *c = &s->sc_ssl;
	struct where w;
	STACK_OF(X509_NAME) *names;
	int rc = 0;

	if (c->ss_verify != SSLV_OFF) {
		w = where_of(&c->ss_at[SSLA_VERIFY], s->sc_file, s->sc_line);
		if (c->ss_client_cert == NULL &&
		    c->ss_verify != SSLV_OPTIONAL_NO_CA) {
			build_error(g, w, "no ssl_client_certificate for "
			    "ssl_verify_client");
			return -1;
		}
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, verify_cb);
		SSL_CTX_set_verify_depth(ctx, (int)c->ss_verify_depth);
	}
	if (c->ss_verify != SSLV_OFF && c->ss_client_cert != NULL) {
		w = where_of(&c->ss_at[SSLA_CLIENT_CERT], s->sc_file,
		    s->sc_line);
		if (verify_locations(g, ctx, c->ss_client_cert, w) == -1)
			return -1;
		ERR_clear_error();
		/* only these CAs are named to the client */
		if ((names = SSL_load_client_CA_file(c->ss_client_cert)) ==
		    NULL) {
			build_error(g, w, "SSL_load_client_CA_file(\"%s\") "
			    "failed", c->ss_client_cert);
			return -1;
		}
		SSL_CTX_set_client_CA_list(ctx, names);
	}
	if (c->ss_trusted != NULL)
		rc |= verify_locations(g, ctx, c->ss_trusted,
		    where_of(&c->ss_at[SSLA_TRUSTED], s->sc_file, s->sc_line));
	if (c->ss_crl != NULL)
		rc |= crl_load(g, ctx, c->ss_crl, where_of(&c->ss_at[SSLA_CRL],
		    s->sc_file, s->sc_line));
	return rc;
}

/* the DER of ssl_stapling_file, sent to each client asking for it */
static int
staple_cb(SSL *ssl, void *arg)
{
	const struct conf_ssl *c = arg;
	unsigned char *p;

	if (c == NULL || c->ss_staple == NULL)
		return SSL_TLSEXT_ERR_NOACK;
	/* OpenSSL frees it with the connection */
	if ((p = OPENSSL_malloc(c->ss_staple_len)) == NULL)
		return SSL_TLSEXT_ERR_NOACK;
	memcpy(p, c->ss_staple, c->ss_staple_len);
	if (SSL_set_tlsext_status_ocsp_resp(ssl, p, c->ss_staple_len) != 1) {
		OPENSSL_free(p);
		return SSL_TLSEXT_ERR_NOACK;
	}
	return SSL_TLSEXT_ERR_OK;
}

/* the issuer of x among the chain or the trusted store */
static X509 *
issuer_find(X509 *x, STACK_OF(X509) *chain, X509_STORE *st)
{
	X509_STORE_CTX *xs;
	X509 *is = NULL;
	int i;

	for (i = 0; chain != NULL && i < sk_X509_num(chain); i++)
		if (X509_check_issued(sk_X509_value(chain, i), x) ==
		    X509_V_OK) {
			is = sk_X509_value(chain, i);
			X509_up_ref(is);
			return is;
		}
	if ((xs = X509_STORE_CTX_new()) == NULL)
		return NULL;
	if (X509_STORE_CTX_init(xs, st, x, chain) == 1 &&
	    X509_STORE_CTX_get1_issuer(&is, xs, x) != 1)
		is = NULL;
	X509_STORE_CTX_free(xs);
	return is;
}

/* ssl_stapling_verify: signed for the first certificate, by its issuer */
static int
staple_verify(struct gen *g, SSL_CTX *ctx, OCSP_RESPONSE *rsp,
    const char *path, struct where w)
{
	STACK_OF(X509) *chain = NULL;
	OCSP_BASICRESP *basic;
	OCSP_CERTID *id = NULL;
	X509 *x, *is = NULL;
	int rc = -1, status;

	ERR_clear_error();
	SSL_CTX_set_current_cert(ctx, SSL_CERT_SET_FIRST);
	x = SSL_CTX_get0_certificate(ctx);
	SSL_CTX_get0_chain_certs(ctx, &chain);
	if ((basic = OCSP_response_get1_basic(rsp)) == NULL) {
		build_error(g, w, "OCSP_response_get1_basic(\"%s\") failed",
		    path);
		return -1;
	}
	if (OCSP_basic_verify(basic, chain, SSL_CTX_get_cert_store(ctx),
	    OCSP_TRUSTOTHER) != 1) {
		build_error(g, w, "OCSP_basic_verify(\"%s\") failed", path);
		goto done;
	}
	if (x == NULL || (is = issuer_find(x, chain,
	    SSL_CTX_get_cert_store(ctx))) == NULL) {
		build_error(g, w, "no issuer certificate to verify the OCSP "
		    "response \"%s\" with", path);
		goto done;
	}
	if ((id = OCSP_cert_to_id(NULL, x, is)) == NULL ||
	    OCSP_resp_find_status(basic, id, &status, NULL, NULL, NULL,
	    NULL) != 1) {
		build_error(g, w, "the OCSP response \"%s\" is not for the "
		    "certificate", path);
		goto done;
	}
	rc = 0;
done:
	OCSP_CERTID_free(id);
	X509_free(is);
	OCSP_BASICRESP_free(basic);
	return rc;
}

static int
stapling_set(struct gen *g, SSL_CTX *ctx, struct conf_srv *s)
{
	struct conf_ssl *c = &s->sc_ssl;
	struct where w = where_of(&c->ss_at[SSLA_STAPLING_FILE], s->sc_file,
	    s->sc_line);
	OCSP_RESPONSE *rsp;
	const unsigned char *p;
	unsigned char *buf;
	struct stat st;
	ssize_t r;
	size_t got = 0;
	int fd, rc = 0;

	if (!c->ss_stapling)
		return 0;
	if (c->ss_stapling_file == NULL) {
		/* portico does not ask responders itself */
		w = where_of(&c->ss_at[SSLA_STAPLING], s->sc_file, s->sc_line);
		log_warnx("%s:%d: \"ssl_stapling\" ignored, no "
		    "\"ssl_stapling_file\" is given", w.w_file, w.w_line);
		return 0;
	}
	if ((fd = open(c->ss_stapling_file, O_RDONLY | O_CLOEXEC)) == -1) {
		build_error(g, w, "open() \"%s\" failed (%d: %s)",
		    c->ss_stapling_file, errno, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || st.st_size > STAPLE_MAX) {
		build_error(g, w, "\"%s\" is too large", c->ss_stapling_file);
		close(fd);
		return -1;
	}
	buf = arena_alloc(g->g_arena, st.st_size + 1);
	while (got < (size_t)st.st_size) {
		r = read(fd, buf + got, st.st_size - got);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += r;
	}
	close(fd);
	ERR_clear_error();
	p = buf;
	if ((rsp = d2i_OCSP_RESPONSE(NULL, &p, got)) == NULL) {
		build_error(g, w, "cannot read the OCSP response in \"%s\"",
		    c->ss_stapling_file);
		return -1;
	}
	if (c->ss_stapling_verify)
		rc = staple_verify(g, ctx, rsp, c->ss_stapling_file, w);
	OCSP_RESPONSE_free(rsp);
	if (rc == -1)
		return -1;
	c->ss_staple = buf;
	c->ss_staple_len = got;
	SSL_CTX_set_tlsext_status_cb(ctx, staple_cb);
	SSL_CTX_set_tlsext_status_arg(ctx, c);
	return 0;
}

/*
 * ALPN: HTTP/1.1 (or 1.0) when the client offers it; a client offering
 * only others (h2) is refused with no_application_protocol, as nginx
 * does, and one offering none never gets here.
 */
static int
alpn_cb(SSL *ssl, const unsigned char **out, unsigned char *outlen,
    const unsigned char *in, unsigned int inlen, void *arg)
{
	static const char *const ours[] = { "http/1.1", "http/1.0" };
	unsigned int i, len;
	size_t k;

	for (k = 0; k < nitems(ours); k++) {
		for (i = 0; i < inlen; i += 1 + len) {
			len = in[i];
			if (i + 1 + len > inlen)
				break;
			if (len == strlen(ours[k]) &&
			    memcmp(in + i + 1, ours[k], len) == 0) {
				*out = in + i + 1;
				*outlen = len;
				return SSL_TLSEXT_ERR_OK;
			}
		}
	}
	return SSL_TLSEXT_ERR_ALERT_FATAL;
}

/*
 * The session id context, stable across reloads and workers so that the
 * shared cache and the tickets serve them all.  Servers that ask for no
 * client certificate share one, so a session goes across their names;
 * one that does has its own (a hash of its settings), so that a session
 * made elsewhere, with another CA or none, does not resume there, and
 * the worker refuses a request whose session says otherwise (421).
 */
static void
sid_set(SSL_CTX *ctx, struct conf_srv *s)
{
	struct conf_ssl *c = &s->sc_ssl;
	const struct conf_ssl_cert *k;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *m;
	int i;

	/* no client certificates: sessions go across server names freely */
	if (c->ss_verify == SSLV_OFF) {
		mdlen = sizeof(SSL_SID_SHARED) - 1;
		memcpy(md, SSL_SID_SHARED, mdlen);
	} else {
		if ((m = EVP_MD_CTX_new()) == NULL)
			return;
		EVP_DigestInit_ex(m, EVP_sha256(), NULL);
		for (k = c->ss_certs; k != NULL; k = k->sk_next)
			EVP_DigestUpdate(m, k->sk_cert, strlen(k->sk_cert) + 1);
		for (i = 0; i < s->sc_nnames; i++)
			EVP_DigestUpdate(m, s->sc_names[i],
			    strlen(s->sc_names[i]) + 1);
		if (c->ss_client_cert != NULL)
			EVP_DigestUpdate(m, c->ss_client_cert,
			    strlen(c->ss_client_cert) + 1);
		EVP_DigestUpdate(m, &c->ss_verify, sizeof(c->ss_verify));
		EVP_DigestFinal_ex(m, md, &mdlen);
		EVP_MD_CTX_free(m);
	}
	c->ss_sidlen = MIN(mdlen, sizeof(c->ss_sid));
	memcpy(c->ss_sid, md, c->ss_sidlen);
	SSL_CTX_set_session_id_context(ctx, c->ss_sid, c->ss_sidlen);
}

/*
 * ssl_session_cache and ssl_session_tickets.  The shared cache's
 * callbacks and the ticket keys are installed later, by ssl_zone.c.
 */
static void
sessions_set(SSL_CTX *ctx, const struct conf_ssl *c)
{
	long mode = SSL_SESS_CACHE_SERVER;

	if (!c->ss_tickets)
		SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	SSL_CTX_set_timeout(ctx, (long)MAX(c->ss_session_timeout / 1000, 1));
	switch (c->ss_cache) {
	case SSLC_OFF:
		SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
		return;
	case SSLC_NONE:
		/*
		 * As nginx: a server cache of one, so that clients are not
		 * told outright that nothing is cached (some fail on it).
		 */
		SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
		SSL_CTX_sess_set_cache_size(ctx, 1);
		return;
	}
	if (c->ss_cache_builtin == 0)
		mode |= SSL_SESS_CACHE_NO_INTERNAL;
	SSL_CTX_set_session_cache_mode(ctx, mode);
	if (c->ss_cache_builtin > 0)
		SSL_CTX_sess_set_cache_size(ctx, c->ss_cache_builtin);
}

static int
dhparam_set(struct gen *g, SSL_CTX *ctx, const char *path, struct where w)
{
	EVP_PKEY *dh = NULL;
	BIO *b;

	ERR_clear_error();
	if ((b = BIO_new_file(path, "r")) != NULL) {
		dh = PEM_read_bio_Parameters(b, NULL);
		BIO_free(b);
	}
	if (dh == NULL || !EVP_PKEY_is_a(dh, "DH")) {
		EVP_PKEY_free(dh);
		build_error(g, w, "cannot read DH parameters from \"%s\"", path);
		return -1;
	}
	if (SSL_CTX_set0_tmp_dh_pkey(ctx, dh) != 1) {
		EVP_PKEY_free(dh);
		build_error(g, w, "SSL_CTX_set0_tmp_dh_pkey(\"%s\") failed",
		    path);
		return -1;
	}
	return 0;
}

/* a server's context; a failed one is kept in ss_ctx, for freeing */
static int
server_build(struct gen *g, struct conf_srv *s)
{
	struct conf_ssl *c = &s->sc_ssl;
	const struct conf_ssl_cert *k;
	struct passwords pw;
	struct where w;
	SSL_CTX *ctx;
	int rc = 0;

	ERR_clear_error();
	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		build_error(g, where_of(NULL, s->sc_file, s->sc_line),
		    "SSL_CTX_new() failed");
		return -1;
	}
	c->ss_ctx = ctx;
	SSL_CTX_set_app_data(ctx, s);
	common_set(ctx);
	protocols_set(ctx, c->ss_protocols);
	if (passwords_read(g, c->ss_password_file,
	    where_of(&c->ss_at[SSLA_PASSWORD], s->sc_file, s->sc_line),
	    &pw) == -1)
		return -1;
	for (k = c->ss_certs; k != NULL; k = k->sk_next) {
		w = where_of(NULL, k->sk_file, k->sk_line);
		if (pair_load(g, ctx, k->sk_cert, k->sk_key, &pw, w) == -1)
			rc = -1;
	}
	passwords_free(&pw);
	ERR_clear_error();
	if (SSL_CTX_set_cipher_list(ctx, c->ss_ciphers) != 1) {
		build_error(g, where_of(&c->ss_at[SSLA_CIPHERS], s->sc_file,
		    s->sc_line), "SSL_CTX_set_cipher_list(\"%s\") failed",
		    c->ss_ciphers);
		rc = -1;
	}
	if (c->ss_prefer_server)
		SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
	ERR_clear_error();
	if (strcmp(c->ss_ecdh_curve, "auto") != 0 &&
	    SSL_CTX_set1_groups_list(ctx, c->ss_ecdh_curve) != 1) {
		build_error(g, where_of(&c->ss_at[SSLA_ECDH_CURVE], s->sc_file,
		    s->sc_line), "SSL_CTX_set1_groups_list(\"%s\") failed",
		    c->ss_ecdh_curve);
		rc = -1;
	}
	if (c->ss_dhparam != NULL && dhparam_set(g, ctx, c->ss_dhparam,
	    where_of(&c->ss_at[SSLA_DHPARAM], s->sc_file, s->sc_line)) == -1)
		rc = -1;
	if (verify_set(g, ctx, s) == -1)
		rc = -1;
	/* after the certificates and the trusted ones: it may check them */
	if (rc == 0 && stapling_set(g, ctx, s) == -1)
		rc = -1;
	sessions_set(ctx, c);
	sid_set(ctx, s);
	SSL_CTX_set_alpn_select_cb(ctx, alpn_cb, NULL);
	if (commands_apply(g, ctx, c->ss_commands, SSL_CONF_FLAG_SERVER,
	    where_of(NULL, s->sc_file, s->sc_line)) == -1)
		rc = -1;
	return rc;
}

/* the client side of proxy_pass https:// */
static int
client_build(struct gen *g, struct conf_proxy *px)
{
	struct where w, at = where_of(NULL, px->px_file, px->px_line);
	struct passwords pw;
	SSL_CTX *ctx;
	int rc = 0;

	if (px->px_ssl_cert != NULL && px->px_ssl_key == NULL) {
		build_error(g, where_of(&px->px_ssl_at[SSLA_CERT], at.w_file,
		    at.w_line), "no \"proxy_ssl_certificate_key\" is defined "
		    "for certificate \"%s\"", px->px_ssl_cert);
		return -1;
	}
	if (px->px_ssl_verify && px->px_ssl_trusted == NULL) {
		build_error(g, where_of(&px->px_ssl_at[SSLA_VERIFY], at.w_file,
		    at.w_line), "no proxy_ssl_trusted_certificate for "
		    "proxy_ssl_verify");
		return -1;
	}
	ERR_clear_error();
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		build_error(g, at, "SSL_CTX_new() failed");
		return -1;
	}
	px->px_ssl_ctx = ctx;
	common_set(ctx);
	protocols_set(ctx, px->px_ssl_protocols);
	ERR_clear_error();
	if (SSL_CTX_set_cipher_list(ctx, px->px_ssl_ciphers) != 1) {
		build_error(g, where_of(&px->px_ssl_at[SSLA_CIPHERS], at.w_file,
		    at.w_line), "SSL_CTX_set_cipher_list(\"%s\") failed",
		    px->px_ssl_ciphers);
		rc = -1;
	}
	/* the name is checked per connection, against proxy_ssl_name */
	SSL_CTX_set_verify(ctx, px->px_ssl_verify ? SSL_VERIFY_PEER :
	    SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_verify_depth(ctx, (int)px->px_ssl_verify_depth);
	if (px->px_ssl_trusted != NULL && verify_locations(g, ctx,
	    px->px_ssl_trusted, where_of(&px->px_ssl_at[SSLA_TRUSTED],
	    at.w_file, at.w_line)) == -1)
		rc = -1;
	if (px->px_ssl_crl != NULL && crl_load(g, ctx, px->px_ssl_crl,
	    where_of(&px->px_ssl_at[SSLA_CRL], at.w_file, at.w_line)) == -1)
		rc = -1;
	if (px->px_ssl_cert != NULL) {
		w = where_of(&px->px_ssl_at[SSLA_CERT], at.w_file, at.w_line);
		if (passwords_read(g, px->px_ssl_password_file,
		    where_of(&px->px_ssl_at[SSLA_PASSWORD], at.w_file,
		    at.w_line), &pw) == -1)
			return -1;
		if (pair_load(g, ctx, px->px_ssl_cert, px->px_ssl_key, &pw,
		    w) == -1)
			rc = -1;
		passwords_free(&pw);
	}
	/* the worker keeps the sessions, per upstream peer */
	SSL_CTX_set_session_cache_mode(ctx, px->px_ssl_session_reuse ?
	    SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE :
	    SSL_SESS_CACHE_OFF);
	if (commands_apply(g, ctx, px->px_ssl_commands, SSL_CONF_FLAG_CLIENT,
	    at) == -1)
		rc = -1;
	return rc;
}

static int
str_same(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* two locations whose client contexts would be the same */
static int
px_same(const struct conf_proxy *a, const struct conf_proxy *b)
{
	return a->px_ssl_verify == b->px_ssl_verify &&
	    a->px_ssl_verify_depth == b->px_ssl_verify_depth &&
	    a->px_ssl_protocols == b->px_ssl_protocols &&
	    a->px_ssl_session_reuse == b->px_ssl_session_reuse &&
	    a->px_ssl_commands == b->px_ssl_commands &&
	    str_same(a->px_ssl_trusted, b->px_ssl_trusted) &&
	    str_same(a->px_ssl_crl, b->px_ssl_crl) &&
	    str_same(a->px_ssl_ciphers, b->px_ssl_ciphers) &&
	    str_same(a->px_ssl_cert, b->px_ssl_cert) &&
	    str_same(a->px_ssl_key, b->px_ssl_key) &&
	    str_same(a->px_ssl_password_file, b->px_ssl_password_file);
}

struct px_built {
	const struct conf_proxy	*pb_px;
	SSL_CTX			*pb_ctx;	/* NULL: it failed */
	struct px_built		*pb_next;
};

/*
 * each proxy_pass https:// location of a tree; *tpl: the context of the
 * first one with variables, *plain set by one with variables over http://
 */
static void
locs_build(struct gen *g, struct conf_loc *l, struct px_built **built,
    SSL_CTX **tpl, int *plain)
{
	struct conf_proxy *px = &l->lc_px;
	struct px_built *b;
	struct conf_loc *ch;

	if (px->px_pass && px->px_ssl && px->px_ssl_ctx == NULL) {
		for (b = *built; b != NULL; b = b->pb_next)
			if (px_same(b->pb_px, px))
				break;
		if (b != NULL) {
			/* one reference per location, for conf_ssl_free() */
			if (b->pb_ctx != NULL && SSL_CTX_up_ref(b->pb_ctx))
				px->px_ssl_ctx = b->pb_ctx;
		} else {
			int rc = client_build(g, px);

			if ((b = calloc(1, sizeof(*b))) != NULL) {
				b->pb_px = px;
				b->pb_ctx = rc == 0 ? px->px_ssl_ctx : NULL;
				b->pb_next = *built;
				*built = b;
			}
		}
	}
	/* the keeper's health checks of an upstream go the same way */
	if (px->px_pass && px->px_ssl && px->px_ups != NULL &&
	    px->px_ups->u_ssl_ctx == NULL)
		px->px_ups->u_ssl_ctx = px->px_ssl_ctx;
	if (px->px_pass && px->px_pass_tpl != NULL) {
		if (!px->px_ssl)
			*plain = 1;
		else if (*tpl == NULL)
			*tpl = px->px_ssl_ctx;
	}
	for (ch = l->lc_children; ch != NULL; ch = ch->lc_next)
		locs_build(g, ch, built, tpl, plain);
	for (ch = l->lc_ifs; ch != NULL; ch = ch->lc_next)
		locs_build(g, ch, built, tpl, plain);
}

/* shared:name:size given twice with two sizes */
static void
caches_check(struct gen *g)
{
	struct conf_srv *s, *t;

	for (s = g->g_http->hc_servers; s != NULL; s = s->sc_next) {
		const struct conf_ssl *c = &s->sc_ssl;

		if (c->ss_ctx == NULL || c->ss_cache != SSLC_SHARED)
			continue;
		for (t = g->g_http->hc_servers; t != s; t = t->sc_next) {
			const struct conf_ssl *d = &t->sc_ssl;

			if (d->ss_ctx == NULL || d->ss_cache != SSLC_SHARED ||
			    strcmp(d->ss_cache_name, c->ss_cache_name) != 0)
				continue;
			if (d->ss_cache_size != c->ss_cache_size)
				build_error(g, where_of(&c->ss_at[SSLA_CACHE],
				    s->sc_file, s->sc_line), "the size %lld of "
				    "shared memory zone \"%s\" conflicts with "
				    "already declared size %lld",
				    (long long)c->ss_cache_size,
				    c->ss_cache_name,
				    (long long)d->ss_cache_size);
			break;
		}
	}
}

int
conf_ssl_build(struct gen *g)
{
	struct px_built *built = NULL, *b;
	struct conf_srv *s;
	struct conf_upstream *u;
	SSL_CTX *tpl = NULL;
	int errors = g->g_errors, i, plain = 0;

	if (g->g_http == NULL)
		return 0;
	/* as nginx: the default server of a "listen ... ssl" address */
	for (i = 0; i < g->g_nlistens; i++) {
		s = g->g_listens[i].gl_default;
		if (g->g_listens[i].gl_ssl && s->sc_ssl.ss_certs == NULL)
			build_error(g, where_of(NULL, s->sc_file, s->sc_line),
			    "no \"ssl_certificate\" is defined for the "
			    "\"listen ... ssl\" directive");
	}
	for (s = g->g_http->hc_servers; s != NULL; s = s->sc_next)
		if (s->sc_ssl.ss_certs != NULL)
			server_build(g, s);
	caches_check(g);
	for (s = g->g_http->hc_servers; s != NULL; s = s->sc_next)
		locs_build(g, s->sc_loc, &built, &tpl, &plain);
	/*
	 * An upstream block that only proxy_pass https://$name can reach is
	 * checked over TLS too, with the first such location's context;
	 * not when an http://$name could reach it as well
	 */
	for (u = g->g_http->hc_upstreams; tpl != NULL && !plain && u != NULL;
	    u = u->u_next)
		if (!u->u_implicit && !u->u_named && u->u_ssl_ctx == NULL)
			u->u_ssl_ctx = tpl;
	while ((b = built) != NULL) {
		built = b->pb_next;
		free(b);
	}
	ERR_clear_error();
	if (g->g_errors > errors) {
		conf_ssl_free(g);
		return -1;
	}
	return 0;
}

static void
locs_free(struct conf_loc *l)
{
	struct conf_loc *ch;

	SSL_CTX_free(l->lc_px.px_ssl_ctx);
	l->lc_px.px_ssl_ctx = NULL;
	for (ch = l->lc_children; ch != NULL; ch = ch->lc_next)
		locs_free(ch);
	for (ch = l->lc_ifs; ch != NULL; ch = ch->lc_next)
		locs_free(ch);
}

void
conf_ssl_free(struct gen *g)
{
	struct conf_srv *s;

	if (g == NULL || g->g_http == NULL)
		return;
	for (s = g->g_http->hc_servers; s != NULL; s = s->sc_next) {
		SSL_CTX_free(s->sc_ssl.ss_ctx);
		s->sc_ssl.ss_ctx = NULL;
		locs_free(s->sc_loc);
	}
}
