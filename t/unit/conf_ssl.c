/*
 * unit tests for common/conf_ssl.c and common/conf_ssl_ctx.c: the ssl_*
 * and proxy_ssl_* directives, their defaults and inheritance, listen ...
 * ssl, proxy_pass https://, the errors with their file:line, and what the
 * SSL_CTXs built at load are set to.  The certificates are made here,
 * with OpenSSL.
 */
#include "../../common/conf.c"
#include "../../common/conf_dir.c"
#include "../../common/conf_ssl.c"
#include "../../common/conf_ssl_ctx.c"
#include "tap.h"

#include <ftw.h>
#include <openssl/x509.h>

static char prefix[64];
static char confdir[128];
static char confpath[192];
static char errs[1 << 16];

static void
put_file(const char *rel, const void *data, size_t len)
{
	char path[PATH_MAX];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", confdir, rel);
	if ((fp = fopen(path, "w")) == NULL) {
		perror(path);
		exit(2);
	}
	fwrite(data, 1, len, fp);
	fclose(fp);
}

/* a self-signed certificate for key, as PEM, in confdir/rel */
static void
write_cert(const char *rel, EVP_PKEY *key, const char *cn)
{
	char path[PATH_MAX];
	X509 *x = X509_new();
	X509_NAME *n;
	FILE *fp;

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, key);
	n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, n);
	if (X509_sign(x, key, EVP_sha256()) == 0) {
		fprintf(stderr, "X509_sign failed\n");
		exit(2);
	}
	snprintf(path, sizeof(path), "%s/%s", confdir, rel);
	fp = fopen(path, "w");
	PEM_write_X509(fp, x);
	fclose(fp);
	X509_free(x);
}

static void
write_key(const char *rel, EVP_PKEY *key, const char *pass)
{
	char path[PATH_MAX];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", confdir, rel);
	fp = fopen(path, "w");
	PEM_write_PrivateKey(fp, key, pass ? EVP_aes_128_cbc() : NULL,
	    (unsigned char *)pass, pass ? (int)strlen(pass) : 0, NULL, NULL);
	fclose(fp);
}

static void
make_files(void)
{
	EVP_PKEY *rsa = EVP_RSA_gen(2048), *ec = EVP_EC_gen("P-256"),
	    *other = EVP_EC_gen("P-256");
	unsigned char k[80];

	if (rsa == NULL || ec == NULL || other == NULL) {
		fprintf(stderr, "key generation failed\n");
		exit(2);
	}
	write_cert("rsa.crt", rsa, "localhost");
	write_key("rsa.key", rsa, NULL);
	write_cert("ec.crt", ec, "localhost");
	write_key("ec.key", ec, NULL);
	write_key("ec-enc.key", ec, "s3cret");
	write_key("other.key", other, NULL);
	put_file("pw", "wrong\r\n\ns3cret\n", 15);
	put_file("badpw", "wrong\n", 6);
	memset(k, 7, sizeof(k));
	put_file("t48", k, 48);
	put_file("t80", k, 80);
	put_file("t50", k, 50);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(ec);
	EVP_PKEY_free(other);
}

static struct gen *
load(const char *text)
{
	char tmp[128];
	struct gen *g;
	ssize_t n;
	int fd, saved;

	put_file("portico.conf", text, strlen(text));
	snprintf(tmp, sizeof(tmp), "%s/stderr", prefix);
	fflush(stdout);
	fflush(stderr);
	fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC, 0600);
	saved = dup(2);
	dup2(fd, 2);
	g = conf_load(prefix, confpath, NULL, 0);
	dup2(saved, 2);
	close(saved);
	n = pread(fd, errs, sizeof(errs) - 1, 0);
	errs[n > 0 ? n : 0] = '\0';
	close(fd);
	return g;
}

static void
show_errs(void)
{
	const char *p, *e;

	printf("#   stderr was:\n");
	for (p = errs; *p != '\0'; p = e + (*e != '\0')) {
		if ((e = strchr(p, '\n')) == NULL)
			e = p + strlen(p);
		printf("#     %.*s\n", (int)(e - p), p);
	}
}

static struct gen *
loads(const char *text, const char *what)
{
	struct gen *g = load(text);

	ok(g != NULL && strstr(errs, "[emerg]") == NULL, "loads: %s", what);
	if (g == NULL || strstr(errs, "[emerg]") != NULL)
		show_errs();
	return g;
}

static int
count_emerg(void)
{
	const char *p = errs;
	int n = 0;

	while ((p = strstr(p, "[emerg]")) != NULL) {
		n++;
		p++;
	}
	return n;
}

/* rejected with exactly one error, at line, that starts with msg */
static void
rejects(const char *text, int line, const char *msg)
{
	struct gen *g = load(text);
	char want[1024];
	int good;

	snprintf(want, sizeof(want), "[emerg] %s:%d: %s", confpath, line, msg);
	good = g == NULL && count_emerg() == 1 && strstr(errs, want) != NULL;
	ok(good, "line %d: %s", line, msg);
	if (!good) {
		printf("#   wanted: %s\n", want);
		show_errs();
	}
	conf_free(g);
}

static struct conf_srv *
nth_server(struct gen *g, int n)
{
	struct conf_srv *s = g != NULL && g->g_http ? g->g_http->hc_servers :
	    NULL;

	while (s != NULL && n-- > 0)
		s = s->sc_next;
	return s;
}

static struct conf_loc *
child(struct conf_loc *l, const char *name)
{
	for (l = l != NULL ? l->lc_children : NULL; l != NULL; l = l->lc_next)
		if (strcmp(l->lc_name, name) == 0)
			return l;
	return NULL;
}

#define CERT	"ssl_certificate rsa.crt; ssl_certificate_key rsa.key;"
#define HEAD	"events {}\nhttp {\n"

static void
test_defaults(void)
{
	struct gen *g = loads(HEAD "server { listen 127.0.0.1:8443 ssl; "
	    CERT " }\nserver { listen 127.0.0.1:8080; }\n}\n", "defaults");
	struct conf_srv *s = nth_server(g, 0), *plain = nth_server(g, 1);
	struct conf_ssl *c = s ? &s->sc_ssl : NULL;
	struct conf_proxy *px = s ? &s->sc_loc->lc_px : NULL;

	if (c == NULL) {
		ok(0, "a server");
		return;
	}
	is_int(c->ss_protocols, SSLP_TLSv1_2 | SSLP_TLSv1_3, "TLSv1.2 TLSv1.3");
	is_str(c->ss_ciphers, "HIGH:!aNULL:!MD5", "ciphers");
	is_str(c->ss_ecdh_curve, "auto", "ecdh curve auto");
	is_int(c->ss_prefer_server, 0, "prefer_server_ciphers off");
	is_int(c->ss_tickets, 1, "tickets on");
	is_int(c->ss_cache, SSLC_NONE, "session cache none");
	is_int(c->ss_session_timeout, 300000, "session timeout 5m");
	is_int(c->ss_verify, SSLV_OFF, "verify off");
	is_int(c->ss_verify_depth, 1, "verify depth 1");
	is_int(c->ss_stapling, 0, "stapling off");
	is_int(c->ss_stapling_verify, 0, "stapling verify off");
	is_int(c->ss_handshake_timeout, 60000,
	    "handshake timeout: client_header_timeout");
	ok(c->ss_certs != NULL && c->ss_certs->sk_next == NULL &&
	    strstr(c->ss_certs->sk_key, "/conf/rsa.key") != NULL,
	    "one pair, the key relative to the config's folder");
	ok(c->ss_ctx != NULL, "a context");
	if (c->ss_ctx != NULL) {
		SSL_CTX *x = c->ss_ctx;

		is_int(SSL_CTX_get_min_proto_version(x), TLS1_2_VERSION,
		    "min version 1.2");
		is_int(SSL_CTX_get_max_proto_version(x), TLS1_3_VERSION,
		    "max version 1.3");
		ok(SSL_CTX_get_options(x) & SSL_OP_NO_COMPRESSION,
		    "no compression");
		ok(SSL_CTX_get_options(x) & SSL_OP_NO_RENEGOTIATION,
		    "no renegotiation");
		ok(!(SSL_CTX_get_options(x) & SSL_OP_NO_TICKET), "tickets");
		ok(SSL_CTX_get_mode(x) & SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER,
		    "moving write buffers");
		ok(SSL_CTX_get_mode(x) & SSL_MODE_RELEASE_BUFFERS,
		    "buffers released");
		is_int(SSL_CTX_get_timeout(x), 300, "session timeout 300s");
		is_int(SSL_CTX_get_session_cache_mode(x),
		    SSL_SESS_CACHE_SERVER, "none: a server cache...");
		is_int(SSL_CTX_sess_get_cache_size(x), 1, "...of one");
		is_int(SSL_CTX_get_verify_mode(x), SSL_VERIFY_NONE,
		    "no client certificates");
		ok(SSL_CTX_get_app_data(x) == s, "app data: the server");
	}
	ok(plain != NULL && plain->sc_ssl.ss_ctx == NULL,
	    "no context without a certificate");
	ok(g->g_nlistens == 2 && g->g_listens[0].gl_ssl &&
	    !g->g_listens[1].gl_ssl, "gl_ssl of the listen ... ssl address");
	is_int(px->px_ssl_server_name, 0, "proxy_ssl_server_name off");
	ok(px->px_ssl_name == NULL, "proxy_ssl_name: $proxy_host");
	is_int(px->px_ssl_verify, 0, "proxy_ssl_verify off");
	is_int(px->px_ssl_verify_depth, 1, "proxy_ssl_verify_depth 1");
	is_int(px->px_ssl_protocols, SSLP_TLSv1_2 | SSLP_TLSv1_3,
	    "proxy_ssl_protocols");
	is_str(px->px_ssl_ciphers, "DEFAULT", "proxy_ssl_ciphers");
	is_int(px->px_ssl_session_reuse, 1, "proxy_ssl_session_reuse on");
	conf_free(g);
}

static void
test_settings(void)
{
	struct gen *g = loads(HEAD
	    "ssl_protocols TLSv1 TLSv1.3;\n"
	    "ssl_certificate_key rsa.key;\n"
	    "ssl_certificate_key ec.key;\n"
	    "ssl_session_cache builtin:100 shared:SSL:1m;\n"
	    "client_header_timeout 7s;\n"
	    "server { listen 127.0.0.1:8443 ssl;\n"
	    "  ssl_certificate rsa.crt; ssl_certificate ec.crt;\n"
	    "  ssl_session_tickets off; ssl_session_timeout 1h;\n"
	    "  ssl_prefer_server_ciphers on; ssl_ecdh_curve X25519:P-256;\n"
	    "  ssl_ciphers ECDHE+AESGCM; ssl_verify_client optional_no_ca;\n"
	    "  ssl_verify_depth 3; ssl_session_ticket_key t80;\n"
	    "  ssl_session_ticket_key t48;\n"
	    "  ssl_conf_command Options -SessionTicket;\n"
	    "  ssl_conf_command Ciphersuites TLS_AES_128_GCM_SHA256;\n"
	    "}\n"
	    "server { listen 127.0.0.1:8444 ssl;\n"
	    "  ssl_certificate ec.crt; ssl_certificate_key ec-enc.key;\n"
	    "  ssl_password_file pw; ssl_protocols TLSv1.2;\n"
	    "  ssl_handshake_timeout 3s; ssl_session_cache off;\n"
	    "}\n"
	    "server { listen 127.0.0.1:8445 ssl; ssl_certificate rsa.crt;\n"
	    "  ssl_session_cache builtin; }\n"
	    "}\n", "settings and inheritance");
	struct conf_srv *s = nth_server(g, 0), *t = nth_server(g, 1),
	    *u = nth_server(g, 2);
	struct conf_ssl *c, *d, *e;
	const struct conf_ssl_cmd *m;

	if (s == NULL || t == NULL || u == NULL) {
		ok(0, "three servers");
		return;
	}
	c = &s->sc_ssl;
	d = &t->sc_ssl;
	e = &u->sc_ssl;
	ok(c->ss_certs != NULL && c->ss_certs->sk_next != NULL &&
	    strstr(c->ss_certs->sk_key, "rsa.key") &&
	    strstr(c->ss_certs->sk_next->sk_key, "ec.key"),
	    "two pairs: the http keys with the server's certificates, in order");
	is_int(c->ss_protocols, SSLP_TLSv1 | SSLP_TLSv1_3, "protocols inherited");
	is_int(d->ss_protocols, SSLP_TLSv1_2, "protocols replaced");
	is_int(c->ss_cache, SSLC_SHARED, "shared cache inherited");
	is_str(c->ss_cache_name, "SSL", "its name");
	is_int(c->ss_cache_size, 1024 * 1024, "its size");
	is_int(c->ss_cache_builtin, 100, "and builtin:100");
	is_int(d->ss_cache, SSLC_OFF, "cache off");
	is_int(e->ss_cache, SSLC_BUILTIN, "builtin alone");
	is_int(e->ss_cache_builtin, 20480, "builtin: 20480 sessions");
	is_int(c->ss_handshake_timeout, 7000,
	    "handshake timeout: the inherited client_header_timeout");
	is_int(d->ss_handshake_timeout, 3000, "ssl_handshake_timeout 3s");
	is_int(c->ss_nticket_keys, 2, "two ticket keys");
	ok(c->ss_nticket_keys == 2 && c->ss_ticket_data[0].tk_len == 80 &&
	    c->ss_ticket_data[1].tk_len == 48 &&
	    c->ss_ticket_data[0].tk_key[79] == 7 &&
	    strstr(c->ss_ticket_keys[0], "/t80") != NULL,
	    "their bytes, in order");
	m = c->ss_commands;
	ok(m != NULL && strcmp(m->sm_name, "Options") == 0 && m->sm_line == 15 &&
	    m->sm_next != NULL && m->sm_next->sm_next == NULL,
	    "two conf commands, with their lines");
	is_int(c->ss_verify, SSLV_OPTIONAL_NO_CA, "optional_no_ca");
	ok(c->ss_ctx != NULL && d->ss_ctx != NULL && e->ss_ctx != NULL,
	    "three contexts");
	ok(e->ss_certs != NULL && e->ss_certs->sk_next == NULL &&
	    strstr(e->ss_certs->sk_key, "/rsa.key") != NULL,
	    "one certificate takes the first inherited key");
	if (c->ss_ctx != NULL) {
		SSL_CTX *x = c->ss_ctx;

		is_int(SSL_CTX_get_min_proto_version(x), TLS1_VERSION,
		    "min version 1.0");
		ok(SSL_CTX_get_options(x) & SSL_OP_NO_TLSv1_1 &&
		    SSL_CTX_get_options(x) & SSL_OP_NO_TLSv1_2 &&
		    !(SSL_CTX_get_options(x) & SSL_OP_NO_TLSv1_3),
		    "the hole between them is closed");
		ok(SSL_CTX_get_options(x) & SSL_OP_NO_TICKET, "tickets off");
		ok(SSL_CTX_get_options(x) & SSL_OP_CIPHER_SERVER_PREFERENCE,
		    "server preference");
		is_int(SSL_CTX_get_timeout(x), 3600, "session timeout 1h");
		is_int(SSL_CTX_get_session_cache_mode(x),
		    SSL_SESS_CACHE_SERVER, "builtin and shared");
		is_int(SSL_CTX_sess_get_cache_size(x), 100, "builtin size");
		is_int(SSL_CTX_get_verify_mode(x), SSL_VERIFY_PEER,
		    "optional_no_ca: asked, not required");
		is_int(SSL_CTX_get_verify_depth(x), 3, "verify depth");
	}
	if (d->ss_ctx != NULL) {
		is_int(SSL_CTX_get_session_cache_mode(d->ss_ctx),
		    SSL_SESS_CACHE_OFF, "cache off");
		is_int(SSL_CTX_get_max_proto_version(d->ss_ctx),
		    TLS1_2_VERSION, "max version 1.2");
	}
	conf_free(g);
}

static void
test_errors(void)
{
	rejects(HEAD "server { listen 127.0.0.1:8443 ssl; }\n}\n", 3,
	    "no \"ssl_certificate\" is defined for the \"listen ... ssl\" "
	    "directive");
	/* as nginx: only the default server of the address is checked */
	conf_free(loads(HEAD "server { listen 127.0.0.1:8443 ssl; " CERT " }\n"
	    "server { listen 127.0.0.1:8443; server_name b; }\n}\n",
	    "a second server of a TLS address without certificate"));
	rejects(HEAD "server {\n listen 127.0.0.1:8443;\n}\n"
	    "server {\n listen 127.0.0.1:8443 ssl;\n server_name b;\n}\n}\n",
	    3, "no \"ssl_certificate\" is defined for the \"listen ... ssl\"");
	rejects(HEAD "server {\n ssl_certificate rsa.crt;\n}\n}\n", 4,
	    "no \"ssl_certificate_key\" is defined for certificate \"");
	rejects(HEAD "ssl_certificate rsa.crt;\nserver { }\nserver { }\n}\n",
	    3, "no \"ssl_certificate_key\" is defined");
	rejects(HEAD "server {\n ssl_certificate nope.crt;\n"
	    " ssl_certificate_key rsa.key;\n}\n}\n", 4,
	    "cannot load certificate \"");
	rejects(HEAD "server {\n ssl_certificate rsa.crt;\n"
	    " ssl_certificate_key other.key;\n}\n}\n", 4,
	    "certificate key \"");
	rejects(HEAD "server {\n ssl_certificate ec.crt;\n"
	    " ssl_certificate_key other.key;\n}\n}\n", 4,
	    "certificate key \"");
	rejects(HEAD "server {\n ssl_certificate ec.crt;\n"
	    " ssl_certificate_key ec-enc.key;\n}\n}\n", 4,
	    "cannot load certificate key \"");
	rejects(HEAD "server {\n ssl_certificate ec.crt;\n"
	    " ssl_certificate_key ec-enc.key;\n ssl_password_file badpw;\n"
	    "}\n}\n", 4, "cannot load certificate key \"");
	rejects(HEAD "ssl_password_file nope;\nserver {\n"
	    " ssl_certificate ec.crt;\n ssl_certificate_key ec-enc.key;\n"
	    "}\n}\n", 3, "open() \"");
	rejects(HEAD "server { ssl_protocols TLSv1.2 TLSv9; }\n}\n", 3,
	    "invalid value \"TLSv9\" in \"ssl_protocols\" directive");
	rejects(HEAD "server { ssl_protocols SSLv3; }\n}\n", 3,
	    "\"ssl_protocols\" enables no protocol that OpenSSL 3 supports");
	rejects(HEAD "ssl_protocols TLSv1.2;\nssl_protocols TLSv1.3;\n}\n", 4,
	    "\"ssl_protocols\" directive is duplicate");
	rejects(HEAD "ssl_verify_client maybe;\n}\n", 3,
	    "invalid value \"maybe\" in \"ssl_verify_client\" directive");
	rejects(HEAD "ssl_session_cache shared:SSL;\n}\n", 3,
	    "invalid session cache \"shared:SSL\"");
	rejects(HEAD "ssl_session_cache builtin:x;\n}\n", 3,
	    "invalid session cache \"builtin:x\"");
	rejects(HEAD "ssl_session_cache shared:SSL:1k;\n}\n", 3,
	    "session cache \"shared:SSL:1k\" is too small");
	rejects(HEAD "server {\n" CERT "\nssl_session_cache shared:A:1m;\n}\n"
	    "server {\n" CERT "\nssl_session_cache shared:A:2m;\n}\n}\n", 9,
	    "the size 2097152 of shared memory zone \"A\" conflicts with "
	    "already declared size 1048576");
	{
		char msg[300];

		snprintf(msg, sizeof(msg), "\"%s/t50\" must be 48 or 80 bytes",
		    confdir);
		rejects(HEAD "ssl_session_ticket_key t50;\n}\n", 3, msg);
	}
	rejects(HEAD "ssl_session_ticket_key nope;\n}\n", 3, "open() \"");
	rejects(HEAD "ssl_ciphers FOO;\nserver {\n" CERT "\n}\n}\n", 3,
	    "SSL_CTX_set_cipher_list(\"FOO\") failed (SSL: ");
	rejects(HEAD "server {\n" CERT "\nssl_ecdh_curve nope;\n}\n}\n", 5,
	    "SSL_CTX_set1_groups_list(\"nope\") failed");
	rejects(HEAD "server {\n" CERT "\nssl_dhparam rsa.key;\n}\n}\n", 5,
	    "cannot read DH parameters from \"");
	rejects(HEAD "server {\n" CERT "\nssl_conf_command Options -SessionTicket;\n"
	    "ssl_conf_command Nope x;\n}\n}\n", 6,
	    "SSL_CONF_cmd(\"Nope\", \"x\") failed (SSL: ");
	rejects(HEAD "server {\n" CERT "\nssl_verify_client on;\n}\n}\n", 5,
	    "no ssl_client_certificate for ssl_verify_client");
	rejects(HEAD "server {\n" CERT "\nssl_verify_client on;\n"
	    "ssl_client_certificate nope.crt;\n}\n}\n", 6,
	    "SSL_CTX_load_verify_locations(\"");
	rejects(HEAD "server {\n" CERT "\nssl_crl rsa.key;\n}\n}\n", 5,
	    "X509_LOOKUP_load_file(\"");
	rejects(HEAD "server {\n" CERT "\nssl_stapling on;\n"
	    "ssl_stapling_file t50;\n}\n}\n", 6,
	    "cannot read the OCSP response in \"");
	rejects(HEAD "server {\nssl_certificate $ssl_server_name.crt;\n}\n}\n",
	    4, "variables in \"ssl_certificate\" are not supported");
	rejects(HEAD "ssl_stapling maybe;\n}\n", 3,
	    "invalid value \"maybe\" in \"ssl_stapling\" directive, it must "
	    "be \"on\" or \"off\"");
	rejects(HEAD "server { location / { ssl_ciphers X; } }\n}\n", 3,
	    "\"ssl_ciphers\" directive is not allowed here");
	/* an error in an inherited value is reported once, at its line */
	{
		struct gen *g = load(HEAD "ssl_ciphers FOO;\nserver {\n" CERT
		    "\n}\nserver {\n" CERT "\n}\n}\n");

		ok(g == NULL && count_emerg() == 2,
		    "each server's context reports the inherited error");
		conf_free(g);
	}
	/* the stapling file alone is not enough to staple: a warning */
	{
		struct gen *g = loads(HEAD "server {\n" CERT
		    "\nssl_stapling on;\n}\n}\n", "ssl_stapling without a file");

		ok(strstr(errs, ":5: \"ssl_stapling\" ignored") != NULL,
		    "warned at its line");
		conf_free(g);
	}
}

static void
test_proxy(void)
{
	struct gen *g = loads(HEAD
	    "proxy_ssl_protocols TLSv1.3;\n"
	    "server { listen 127.0.0.1:8080;\n"
	    "  proxy_ssl_verify on; proxy_ssl_trusted_certificate rsa.crt;\n"
	    "  location /a { proxy_pass https://127.0.0.1; }\n"
	    "  location /b { proxy_pass https://127.0.0.1:8443/x/; }\n"
	    "  location /c { proxy_pass http://127.0.0.1:443; }\n"
	    "  location /d { proxy_pass https://127.0.0.1:443;\n"
	    "    proxy_ssl_certificate ec.crt;\n"
	    "    proxy_ssl_certificate_key ec-enc.key;\n"
	    "    proxy_ssl_password_file pw; proxy_ssl_session_reuse off;\n"
	    "    proxy_ssl_server_name on; proxy_ssl_name $host.internal;\n"
	    "    proxy_ssl_conf_command MinProtocol TLSv1.3; }\n"
	    "}\n}\n", "proxy_pass https://");
	struct conf_srv *s = nth_server(g, 0);
	struct conf_loc *a, *b, *c, *d;

	if (s == NULL) {
		ok(0, "a server");
		return;
	}
	a = child(s->sc_loc, "/a");
	b = child(s->sc_loc, "/b");
	c = child(s->sc_loc, "/c");
	d = child(s->sc_loc, "/d");
	if (a == NULL || b == NULL || c == NULL || d == NULL) {
		ok(0, "four locations");
		conf_free(g);
		return;
	}
	ok(a->lc_px.px_ssl && a->lc_px.px_port == 443,
	    "https://: TLS, port 443");
	is_str(a->lc_px.px_host, "127.0.0.1", "$proxy_host without :443");
	is_str(b->lc_px.px_host, "127.0.0.1:8443", "$proxy_host with :8443");
	ok(b->lc_px.px_redirect_default != NULL &&
	    strcmp(b->lc_px.px_redirect_default->pr_from,
	    "https://127.0.0.1:8443/x/") == 0,
	    "the default proxy_redirect is the https:// URL");
	ok(!c->lc_px.px_ssl && c->lc_px.px_ssl_ctx == NULL,
	    "http:// to port 443: plain");
	ok(a->lc_px.px_ups != NULL && d->lc_px.px_ups == a->lc_px.px_ups &&
	    c->lc_px.px_ups != a->lc_px.px_ups,
	    "http:// and https:// to the same address: two upstreams");
	is_str(a->lc_px.px_ups ? a->lc_px.px_ups->u_name : NULL,
	    "https://127.0.0.1:443", "named with the scheme");
	is_int(a->lc_px.px_ssl_protocols, SSLP_TLSv1_3,
	    "protocols from http");
	is_int(a->lc_px.px_ssl_verify, 1, "verify from the server");
	ok(a->lc_px.px_ssl_ctx != NULL && a->lc_px.px_ssl_ctx ==
	    b->lc_px.px_ssl_ctx, "the same settings share a context");
	ok(d->lc_px.px_ssl_ctx != NULL &&
	    d->lc_px.px_ssl_ctx != a->lc_px.px_ssl_ctx,
	    "other settings: a context of their own");
	if (a->lc_px.px_ssl_ctx != NULL) {
		SSL_CTX *x = a->lc_px.px_ssl_ctx;

		is_int(SSL_CTX_get_verify_mode(x), SSL_VERIFY_PEER,
		    "verify peer");
		is_int(SSL_CTX_get_min_proto_version(x), TLS1_3_VERSION,
		    "TLS 1.3 only");
		ok(SSL_CTX_get_session_cache_mode(x) & SSL_SESS_CACHE_CLIENT,
		    "client sessions kept");
	}
	if (d->lc_px.px_ssl_ctx != NULL) {
		SSL_CTX *x = d->lc_px.px_ssl_ctx;

		ok(SSL_CTX_get0_certificate(x) != NULL,
		    "a client certificate");
		is_int(SSL_CTX_get_session_cache_mode(x), SSL_SESS_CACHE_OFF,
		    "session reuse off");
		ok(d->lc_px.px_ssl_server_name && d->lc_px.px_ssl_name &&
		    d->lc_px.px_ssl_name->vt_has_vars, "proxy_ssl_name compiled");
	}
	conf_free(g);

	rejects(HEAD "server {\n location / {\n"
	    "  proxy_pass https://127.0.0.1;\n"
	    "  proxy_ssl_certificate rsa.crt;\n }\n}\n}\n", 6,
	    "no \"proxy_ssl_certificate_key\" is defined for certificate \"");
	rejects(HEAD "proxy_ssl_verify on;\nserver {\n location / {\n"
	    "  proxy_pass https://127.0.0.1;\n }\n}\n}\n", 3,
	    "no proxy_ssl_trusted_certificate for proxy_ssl_verify");
	rejects(HEAD "server {\n location / {\n"
	    "  proxy_pass https://127.0.0.1;\n"
	    "  proxy_ssl_ciphers FOO;\n }\n}\n}\n", 6,
	    "SSL_CTX_set_cipher_list(\"FOO\") failed");
	rejects(HEAD "server {\n proxy_ssl_trusted_certificate nope;\n"
	    " location / {\n  proxy_pass https://127.0.0.1;\n }\n}\n}\n", 4,
	    "SSL_CTX_load_verify_locations(\"");
	rejects(HEAD "server {\n location / {\n"
	    "  proxy_pass https://127.0.0.1;\n"
	    "  proxy_ssl_conf_command Nope x;\n }\n}\n}\n", 6,
	    "SSL_CONF_cmd(\"Nope\", \"x\") failed");
	rejects(HEAD "server {\n location / {\n"
	    "  proxy_pass https://127.0.0.1;\n"
	    "  proxy_ssl_certificate ec.crt;\n"
	    "  proxy_ssl_certificate_key ec-enc.key;\n }\n}\n}\n", 6,
	    "cannot load certificate key \"");
	/* no https location: nothing is read */
	conf_free(loads(HEAD "server {\n location / {\n"
	    "  proxy_ssl_certificate nope.crt;\n }\n}\n}\n",
	    "proxy_ssl_* without proxy_pass https://"));
	rejects(HEAD "server {\n location / {\n"
	    "  proxy_pass https://;\n }\n}\n}\n", 5,
	    "no host in upstream \"\"");
}

static void
test_alpn(void)
{
	static const unsigned char both[] = "\x02h2\x08http/1.1";
	static const unsigned char h10[] = "\x08http/1.0";
	static const unsigned char h2[] = "\x02h2";
	static const unsigned char bad[] = "\x09http/1.1";
	const unsigned char *out = NULL;
	unsigned char outlen = 0;

	ok(alpn_cb(NULL, &out, &outlen, both, sizeof(both) - 1, NULL) ==
	    SSL_TLSEXT_ERR_OK && outlen == 8 && memcmp(out, "http/1.1", 8) == 0,
	    "ALPN: http/1.1 chosen over h2");
	ok(alpn_cb(NULL, &out, &outlen, h10, sizeof(h10) - 1, NULL) ==
	    SSL_TLSEXT_ERR_OK && outlen == 8 && memcmp(out, "http/1.0", 8) == 0,
	    "ALPN: http/1.0");
	is_int(alpn_cb(NULL, &out, &outlen, h2, sizeof(h2) - 1, NULL),
	    SSL_TLSEXT_ERR_ALERT_FATAL, "ALPN: h2 alone, refused");
	is_int(alpn_cb(NULL, &out, &outlen, bad, sizeof(bad) - 1, NULL),
	    SSL_TLSEXT_ERR_ALERT_FATAL, "ALPN: a length past the end");
	is_int(alpn_cb(NULL, &out, &outlen, bad, 0, NULL),
	    SSL_TLSEXT_ERR_ALERT_FATAL, "ALPN: an empty list");
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	return remove(path);
}

int
main(void)
{
	snprintf(prefix, sizeof(prefix), "/tmp/portico-confssl-XXXXXX");
	if (mkdtemp(prefix) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	snprintf(confdir, sizeof(confdir), "%s/conf", prefix);
	snprintf(confpath, sizeof(confpath), "%s/portico.conf", confdir);
	mkdir(confdir, 0755);
	log_to_stderr(LOG_NOTICE);
	log_also_stderr(1);
	make_files();

	test_defaults();
	test_settings();
	test_errors();
	test_proxy();
	test_alpn();

	nftw(prefix, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return tap_done();
}
