/*
 * unit tests for common/ssl_zone.c, with real handshakes between an
 * in-process client and servers over BIO pairs: tickets and session IDs
 * made through one mapping of a zone are resumed through another (two
 * workers, or the new master of an upgrade), in another process too;
 * key rotation and renewal; ssl_session_ticket_key files; the session
 * cache's expiry and eviction; zones with garbage in them.
 */
#include "../../common/ssl_zone.c"
#include "tap.h"

#include <ftw.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <openssl/x509.h>

static char dir[64];
static EVP_PKEY *pkey;
static X509 *cert;

/* a server of the tests: what ssl_zone_attach() would give its context */
struct srv {
	struct tls_gen	 tg;
	struct tls_ctx	 tc;
	struct conf_ssl	 ss;
	SSL_CTX		*ctx;
};

static int
make_cert(void)
{
	X509_NAME *nm;

	if ((pkey = EVP_EC_gen("P-256")) == NULL || (cert = X509_new()) ==
	    NULL)
		return -1;
	X509_set_version(cert, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
	X509_gmtime_adj(X509_getm_notBefore(cert), -60);
	X509_gmtime_adj(X509_getm_notAfter(cert), 86400);
	X509_set_pubkey(cert, pkey);
	nm = X509_get_subject_name(cert);
	X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC,
	    (const unsigned char *)"localhost", -1, -1, 0);
	X509_set_issuer_name(cert, nm);
	return X509_sign(cert, pkey, EVP_sha256()) > 0 ? 0 : -1;
}

static SSL_CTX *
server_ctx(int version)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (ctx == NULL || SSL_CTX_use_certificate(ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey(ctx, pkey) != 1)
		return NULL;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_max_proto_version(ctx, version);
	return ctx;
}

/* a server on ring kr, key files ks, cache cc */
static struct srv *
srv_new(int version, struct keyring *kr, struct keyset *ks, struct cache *cc,
    int tickets)
{
	struct srv *s = calloc(1, sizeof(*s));

	if (s == NULL || (s->ctx = server_ctx(version)) == NULL)
		return NULL;
	s->tg.tg_ring = kr;
	s->tg.tg_sets = ks;
	s->tg.tg_caches = cc != NULL ? calloc(1, sizeof(*s->tg.tg_caches)) :
	    NULL;
	if (cc != NULL) {
		s->tg.tg_caches[0] = cc;
		s->tg.tg_ncaches = 1;
	}
	s->tc.tc_gen = &s->tg;
	s->tc.tc_keys = ks;
	s->tc.tc_cache = cc;
	s->ss.ss_tickets = tickets;
	s->ss.ss_cache = cc != NULL ? SSLC_SHARED : SSLC_NONE;
	s->ss.ss_session_timeout = 300 * 1000;
	if (ctx_install(s->ctx, &s->tc, &s->ss) == -1)
		return NULL;
	return s;
}

static void
srv_free(struct srv *s)
{
	if (s == NULL)
		return;
	SSL_CTX_free(s->ctx);
	free(s->tg.tg_caches);
	free(s);
}

static int
is_want(SSL *ssl, int rc)
{
	int e = SSL_get_error(ssl, rc);

	return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE;
}

/*
 * A handshake with sctx, offering resume; then a byte from the server,
 * so that the client has taken in the tickets.  *out: the client's
 * session after it.  1: resumed, 0: a full handshake, -1: failed.
 */
static int
handshake(SSL_CTX *sctx, int version, SSL_SESSION *resume,
    SSL_SESSION **out)
{
	SSL_CTX *cctx;
	SSL *c = NULL, *s = NULL;
	BIO *bc, *bs;
	char b[8];
	int i, rc = 0, rs = 0, ret = -1;

	if (out != NULL)
		*out = NULL;
	if ((cctx = SSL_CTX_new(TLS_client_method())) == NULL)
		return -1;
	SSL_CTX_set_min_proto_version(cctx, version);
	SSL_CTX_set_max_proto_version(cctx, version);
	if ((c = SSL_new(cctx)) == NULL || (s = SSL_new(sctx)) == NULL ||
	    BIO_new_bio_pair(&bc, 0, &bs, 0) != 1)
		goto out;
	SSL_set_bio(c, bc, bc);
	SSL_set_bio(s, bs, bs);
	SSL_set_connect_state(c);
	SSL_set_accept_state(s);
	if (resume != NULL)
		SSL_set_session(c, resume);
	for (i = 0; i < 50 && (rc != 1 || rs != 1); i++) {
		if (rc != 1 && (rc = SSL_do_handshake(c)) <= 0 && !is_want(c,
		    rc))
			goto out;
		if (rs != 1 && (rs = SSL_do_handshake(s)) <= 0 && !is_want(s,
		    rs))
			goto out;
	}
	if (rc != 1 || rs != 1 || SSL_write(s, "x", 1) != 1 ||
	    SSL_read(c, b, sizeof(b)) != 1)
		goto out;
	ret = SSL_session_reused(s) && SSL_session_reused(c);
	if (out != NULL)
		*out = SSL_get1_session(c);
	/* both ways: a session of an unfinished connection is dropped */
	SSL_shutdown(c);
	SSL_shutdown(s);
	SSL_shutdown(c);
out:
	SSL_free(c);
	SSL_free(s);
	SSL_CTX_free(cctx);
	return ret;
}

static int
ticket_name_is(SSL_SESSION *sess, const uint8_t *name)
{
	const unsigned char *t;
	size_t len;

	SSL_SESSION_get0_ticket(sess, &t, &len);
	return len > 16 && memcmp(t, name, 16) == 0;
}

static int
same_ticket(SSL_SESSION *a, SSL_SESSION *b)
{
	const unsigned char *ta, *tb;
	size_t la, lb;

	SSL_SESSION_get0_ticket(a, &ta, &la);
	SSL_SESSION_get0_ticket(b, &tb, &lb);
	return la == lb && la > 0 && memcmp(ta, tb, la) == 0;
}

static void
ring_free(struct keyring *kr)
{
	if (kr != NULL)
		shm_zone_close(kr->kr_zone);
	free(kr);
}

static void
test_tickets(void)
{
	char path[128];
	struct keyring *ka, *kb;
	struct srv *a, *b;
	SSL_SESSION *s1 = NULL, *s2 = NULL, *s3 = NULL;
	uint8_t name1[16];
	uint64_t v;
	int versions[] = { TLS1_2_VERSION, TLS1_3_VERSION }, i;

	snprintf(path, sizeof(path), "%s/portico.tls", dir);
	ka = ring_open(path, 3600);
	ok(ka != NULL && ka->kr_zone->z_fresh, "key zone made");
	/* another mapping of the file: another worker, or a new master */
	kb = ring_open(path, 3600);
	ok(kb != NULL && !kb->kr_zone->z_fresh, "and mapped again: reused");
	if (ka == NULL || kb == NULL)
		return;
	ok(memcmp(&ka->kr_copy.zk_key[0], &kb->kr_copy.zk_key[0],
	    sizeof(struct zkey)) == 0, "both see the same key");
	a = srv_new(TLS1_3_VERSION, ka, NULL, NULL, 1);
	b = srv_new(TLS1_3_VERSION, kb, NULL, NULL, 1);
	if (a == NULL || b == NULL) {
		ok(0, "servers made");
		return;
	}
	for (i = 0; i < 2; i++) {
		const char *vn = versions[i] == TLS1_2_VERSION ? "TLS 1.2" :
		    "TLS 1.3";

		is_int(handshake(a->ctx, versions[i], NULL, &s1), 0,
		    "%s: a full handshake with the first", vn);
		ok(s1 != NULL && ticket_name_is(s1,
		    ka->kr_copy.zk_key[ka->kr_copy.zk_cur].k_name),
		    "%s: a ticket under the zone's current key", vn);
		is_int(handshake(b->ctx, versions[i], s1, NULL), 1,
		    "%s: the ticket resumed by the second mapping", vn);
		is_int(handshake(a->ctx, versions[i], s1, NULL), 1,
		    "%s: and by the first", vn);
		SSL_SESSION_free(s1);
		s1 = NULL;
	}

	/* TLS 1.2 from here: a renewal is a new ticket the client sees */
	is_int(handshake(a->ctx, TLS1_2_VERSION, NULL, &s1), 0,
	    "a ticket under the first key");
	memcpy(name1, ka->kr_copy.zk_key[ka->kr_copy.zk_cur].k_name, 16);
	v = atomic_load(&ring_keys(ka)->zk_version);
	clock_skew = 3600 + 5;
	is_int(handshake(a->ctx, TLS1_2_VERSION, NULL, &s2), 0,
	    "an hour later, a full handshake");
	ok(atomic_load(&ring_keys(ka)->zk_version) == v + 1 && s2 != NULL &&
	    !ticket_name_is(s2, name1), "made the next key, and a ticket "
	    "under it");
	is_int(handshake(b->ctx, TLS1_2_VERSION, s2, &s3), 1,
	    "the other mapping takes the new key's ticket");
	ok(s3 != NULL && same_ticket(s2, s3), "without renewing it");
	SSL_SESSION_free(s3);
	is_int(handshake(b->ctx, TLS1_2_VERSION, s1, &s3), 1,
	    "the previous key still decrypts");
	ok(s3 != NULL && !same_ticket(s1, s3) && ticket_name_is(s3,
	    ring_keys(ka)->zk_key[ring_keys(ka)->zk_cur].k_name),
	    "and the ticket is renewed under the current key");
	SSL_SESSION_free(s3);
	is_int(ka->kr_copy.zk_cur, kb->kr_copy.zk_cur,
	    "one rotation, seen by both");

	/* the first key is made NKEYS periods before: gone */
	clock_skew = SSL_ZONE_NKEYS * 3600 + 10;
	is_int(handshake(b->ctx, TLS1_2_VERSION, s1, &s3), 0,
	    "a ticket of a key rotated out: a full handshake");
	SSL_SESSION_free(s3);
	is_int(handshake(a->ctx, TLS1_2_VERSION, s2, NULL), 1,
	    "the second key is still good");
	clock_skew = 0;

	/* a process of its own mapping, rotating: the parent follows */
	{
		int fd[2], st;
		uint8_t der[SSL_ZONE_SESSION_MAX];
		const unsigned char *p = der;
		ssize_t n = -1;
		pid_t pid;

		if (pipe(fd) == -1)
			return;
		if ((pid = fork()) == 0) {
			struct keyring *kc = ring_open(path, 3600);
			struct srv *c = srv_new(TLS1_3_VERSION, kc, NULL, NULL,
			    1);
			SSL_SESSION *cs = NULL;
			unsigned char *q = der;
			int len;

			clock_skew = 5 * 3600;
			if (c == NULL || handshake(c->ctx, TLS1_2_VERSION,
			    NULL, &cs) != 0 || cs == NULL)
				_exit(1);
			len = i2d_SSL_SESSION(cs, &q);
			_exit(write(fd[1], der, len) == len ? 0 : 1);
		}
		close(fd[1]);
		waitpid(pid, &st, 0);
		if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
			n = read(fd[0], der, sizeof(der));
		close(fd[0]);
		s3 = n > 0 ? d2i_SSL_SESSION(NULL, &p, n) : NULL;
		ok(s3 != NULL && atomic_load(&ring_keys(ka)->zk_version) !=
		    ka->kr_version, "a child rotated the keys and made a ticket");
		/* its key is in the future of this process's clock: fine */
		clock_skew = 5 * 3600 - 60;
		is_int(handshake(a->ctx, TLS1_2_VERSION, s3, NULL), 1,
		    "resumed in the parent, whose copy was older");
		clock_skew = 0;
	}

	/* garbage in the key zone: made anew, tickets go on */
	SSL_SESSION_free(s3);
	memset(ring_keys(ka), 0xa5, sizeof(struct zkeys));
	log_to_stderr(-1);	/* quiet */
	is_int(handshake(a->ctx, TLS1_2_VERSION, NULL, &s3), 0,
	    "a key zone full of garbage: a handshake");
	log_to_stderr(LOG_NOTICE);
	ok(keys_are_sane(ring_keys(ka)), "the ring was made anew");
	is_int(handshake(b->ctx, TLS1_2_VERSION, s3, NULL), 1,
	    "and the other mapping takes its tickets");

	SSL_SESSION_free(s1);
	SSL_SESSION_free(s2);
	SSL_SESSION_free(s3);
	srv_free(a);
	srv_free(b);
	ring_free(ka);
	ring_free(kb);

	/* a wrong header: a new zone, keys of its own */
	{
		int fd = open(path, O_RDWR);
		uint64_t bad = 1;

		ok(fd != -1 && pwrite(fd, &bad, sizeof(bad), 0) == sizeof(bad),
		    "key zone's magic overwritten");
		close(fd);
		ka = ring_open(path, 3600);
		ok(ka != NULL && ka->kr_zone->z_fresh &&
		    keys_are_sane(ring_keys(ka)), "a bad header: a new zone");
		ring_free(ka);
	}
}

static int
write_file(const char *path, const void *p, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	int rc = fd != -1 && write(fd, p, len) == (ssize_t)len ? 0 : -1;

	if (fd != -1)
		close(fd);
	return rc;
}

static struct keyset *
keyset_of(const char *p1, const char *p2)
{
	struct keyset *ks = calloc(1, sizeof(*ks));

	ks->ks_keys = calloc(2, sizeof(*ks->ks_keys));
	ks->ks_n = 2;
	if (keyfile_read(p1, &ks->ks_keys[0]) == -1 ||
	    keyfile_read(p2, &ks->ks_keys[1]) == -1) {
		free(ks->ks_keys);
		free(ks);
		return NULL;
	}
	return ks;
}

static void
keyset_free(struct keyset *ks)
{
	if (ks != NULL)
		free(ks->ks_keys);
	free(ks);
}

static void
test_key_files(void)
{
	char p48[128], p80[128], pbad[128];
	uint8_t k48[48], k80[80];
	struct keyset *ka, *kb, *kc;
	struct fkey fk;
	struct srv *a, *b, *c;
	SSL_SESSION *s1 = NULL, *s2 = NULL;
	int i, versions[] = { TLS1_2_VERSION, TLS1_3_VERSION };

	for (i = 0; i < 48; i++)
		k48[i] = i;
	for (i = 0; i < 80; i++)
		k80[i] = 200 - i;
	snprintf(p48, sizeof(p48), "%s/t48.key", dir);
	snprintf(p80, sizeof(p80), "%s/t80.key", dir);
	snprintf(pbad, sizeof(pbad), "%s/bad.key", dir);
	if (write_file(p48, k48, 48) == -1 || write_file(p80, k80, 80) == -1 ||
	    write_file(pbad, k80, 47) == -1) {
		ok(0, "key files written");
		return;
	}
	ok(keyfile_read(p48, &fk) == 0 && fk.fk_len == 16 &&
	    memcmp(fk.fk_name, k48, 16) == 0 && memcmp(fk.fk_aes, k48 + 32,
	    16) == 0, "a 48-byte file: name, HMAC, AES-128 key");
	ok(keyfile_read(p80, &fk) == 0 && fk.fk_len == 32 &&
	    memcmp(fk.fk_hmac, k80 + 16, 32) == 0 &&
	    memcmp(fk.fk_aes, k80 + 48, 32) == 0,
	    "an 80-byte file: name, HMAC, AES-256 key");
	log_to_stderr(-1);	/* quiet */
	is_int(keyfile_read(pbad, &fk), -1, "47 bytes: refused");
	snprintf(pbad, sizeof(pbad), "%s/none.key", dir);
	is_int(keyfile_read(pbad, &fk), -1, "no file: refused");
	log_to_stderr(LOG_NOTICE);

	/* each server reads the files itself: two workers, two masters */
	ka = keyset_of(p48, p80);
	kb = keyset_of(p48, p80);
	kc = keyset_of(p80, p48);
	a = srv_new(TLS1_3_VERSION, NULL, ka, NULL, 1);
	b = srv_new(TLS1_3_VERSION, NULL, kb, NULL, 1);
	c = srv_new(TLS1_3_VERSION, NULL, kc, NULL, 1);
	if (a == NULL || b == NULL || c == NULL) {
		ok(0, "servers with key files");
		return;
	}
	for (i = 0; i < 2; i++) {
		const char *vn = versions[i] == TLS1_2_VERSION ? "TLS 1.2" :
		    "TLS 1.3";

		is_int(handshake(a->ctx, versions[i], NULL, &s1), 0,
		    "%s: a full handshake, the 48-byte key first", vn);
		ok(s1 != NULL && ticket_name_is(s1, k48),
		    "%s: the ticket is under the first file's key", vn);
		is_int(handshake(b->ctx, versions[i], s1, NULL), 1,
		    "%s: resumed by another context of the same files", vn);
		is_int(handshake(c->ctx, versions[i], NULL, &s2), 0,
		    "%s: the 80-byte key first", vn);
		ok(s2 != NULL && ticket_name_is(s2, k80),
		    "%s: its ticket is under the 80-byte key", vn);
		is_int(handshake(a->ctx, versions[i], s2, NULL), 1,
		    "%s: the second key decrypts", vn);
		SSL_SESSION_free(s1);
		SSL_SESSION_free(s2);
		s1 = s2 = NULL;
	}
	/* a decryption with the second key asks for renewal */
	handshake(c->ctx, TLS1_2_VERSION, NULL, &s1);
	is_int(handshake(a->ctx, TLS1_2_VERSION, s1, &s2), 1,
	    "TLS 1.2: the second key's ticket resumed");
	ok(s2 != NULL && ticket_name_is(s2, k48),
	    "and renewed under the first key");
	SSL_SESSION_free(s1);
	SSL_SESSION_free(s2);
	srv_free(a);
	srv_free(b);
	srv_free(c);
	keyset_free(ka);
	keyset_free(kb);
	keyset_free(kc);
}

static void
test_cache_sessions(void)
{
	char path[128];
	struct cache *ca, *cb;
	struct srv *a, *b;
	SSL_SESSION *s1 = NULL, *s2 = NULL;
	unsigned int idlen;
	int versions[] = { TLS1_2_VERSION, TLS1_3_VERSION }, i;

	snprintf(path, sizeof(path), "%s/portico.tls.SSL", dir);
	ca = cache_open(path, "SSL", 1024 * 1024);
	cb = cache_open(path, "SSL", 1024 * 1024);
	ok(ca != NULL && ca->c_zone->z_fresh && cb != NULL &&
	    !cb->c_zone->z_fresh, "a cache zone, mapped twice");
	if (ca == NULL || cb == NULL)
		return;
	ok(ca->c_geom.cr_nnodes > 3000, "1 MB: room for %u sessions",
	    ca->c_geom.cr_nnodes);
	/* tickets off: session IDs (TLS 1.3: stateful tickets) */
	a = srv_new(TLS1_3_VERSION, NULL, NULL, ca, 0);
	b = srv_new(TLS1_3_VERSION, NULL, NULL, cb, 0);
	if (a == NULL || b == NULL) {
		ok(0, "servers with the cache");
		return;
	}
	for (i = 0; i < 2; i++) {
		const char *vn = versions[i] == TLS1_2_VERSION ? "TLS 1.2" :
		    "TLS 1.3";
		uint32_t n0 = cache_root(ca)->cr_count;

		is_int(handshake(a->ctx, versions[i], NULL, &s1), 0,
		    "%s: a full handshake with the first", vn);
		ok(s1 != NULL && SSL_SESSION_get_id(s1, &idlen) != NULL &&
		    idlen > 0, "%s: a session ID", vn);
		/* TLS 1.3 sends two tickets, each a session */
		ok(cache_root(cb)->cr_count == n0 + 1 + i * 1,
		    "%s: stored, seen through the other mapping (%u)", vn,
		    cache_root(cb)->cr_count - n0);
		is_int(handshake(b->ctx, versions[i], s1, NULL), 1,
		    "%s: resumed by the second", vn);
		SSL_SESSION_free(s1);
		s1 = NULL;
	}

	/* expiry: after the session's timeout, not found */
	handshake(a->ctx, TLS1_2_VERSION, NULL, &s1);
	clock_skew = 290;
	is_int(handshake(b->ctx, TLS1_2_VERSION, s1, NULL), 1,
	    "just before its timeout: resumed");
	clock_skew = 301;
	is_int(handshake(b->ctx, TLS1_2_VERSION, s1, &s2), 0,
	    "after it: a full handshake");
	clock_skew = 0;
	SSL_SESSION_free(s1);

	/* a session another process stored */
	{
		int fd[2], st;
		uint8_t der[SSL_ZONE_SESSION_MAX];
		const unsigned char *p = der;
		ssize_t n = -1;
		pid_t pid;

		if (pipe(fd) == -1)
			return;
		if ((pid = fork()) == 0) {
			struct cache *cc = cache_open(path, "SSL", 1024 * 1024);
			struct srv *c = srv_new(TLS1_2_VERSION, NULL, NULL, cc,
			    0);
			SSL_SESSION *cs = NULL;
			unsigned char *q = der;
			int len;

			if (c == NULL || handshake(c->ctx, TLS1_2_VERSION,
			    NULL, &cs) != 0 || cs == NULL)
				_exit(1);
			len = i2d_SSL_SESSION(cs, &q);
			_exit(write(fd[1], der, len) == len ? 0 : 1);
		}
		close(fd[1]);
		waitpid(pid, &st, 0);
		if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
			n = read(fd[0], der, sizeof(der));
		close(fd[0]);
		s1 = n > 0 ? d2i_SSL_SESSION(NULL, &p, n) : NULL;
		ok(s1 != NULL, "a child process made a session");
		is_int(handshake(a->ctx, TLS1_2_VERSION, s1, NULL), 1,
		    "resumed in the parent");
		SSL_SESSION_free(s1);
	}

	/* a session that came to nothing is removed */
	{
		const unsigned char *id = SSL_SESSION_get_id(s2, &idlen);
		uint8_t buf[SSL_ZONE_SESSION_MAX];
		uint32_t len;

		ok(cache_lookup(ca, id, idlen, buf, &len),
		    "the new session is there");
		SSL_CTX_remove_session(b->ctx, s2);
		ok(!cache_lookup(ca, id, idlen, buf, &len),
		    "SSL_CTX_remove_session(): gone from the zone");
	}
	SSL_SESSION_free(s2);
	srv_free(a);
	srv_free(b);
	cache_close(ca);
	cache_close(cb);
}

static void
fake_id(uint8_t *id, int i)
{
	memset(id, 0, 32);
	memcpy(id, &i, sizeof(i));
}

/* the cache without TLS: eviction, sizes, garbage */
static void
test_cache_store(void)
{
	char path[128];
	struct cache *c, *c2;
	uint8_t id[32], data[SSL_ZONE_SESSION_MAX + 1], buf[SSL_ZONE_SESSION_MAX];
	uint32_t len, n, i;
	int64_t far = now_sec() + 3600;
	int found, j;

	snprintf(path, sizeof(path), "%s/portico.tls.small", dir);
	c = cache_open(path, "small", 1);
	ok(c != NULL && c->c_zone->z_size == SSL_ZONE_CACHE_MIN,
	    "a cache smaller than the minimum gets the minimum");
	if (c == NULL)
		return;
	n = c->c_geom.cr_nnodes;
	ok(n >= 150 && n <= 200, "64 KB: %u sessions", n);
	for (i = 0; i < sizeof(data); i++)
		data[i] = i * 7;
	for (i = 0; i < n + 10; i++) {
		fake_id(id, i);
		data[0] = i;
		cache_store(c, id, 32, data, 200, far);
	}
	is_int(cache_root(c)->cr_count, n, "full: every node used");
	fake_id(id, 0);
	ok(!cache_lookup(c, id, 32, buf, &len), "the oldest were evicted");
	fake_id(id, 9);
	ok(!cache_lookup(c, id, 32, buf, &len), "all ten of them");
	fake_id(id, 10);
	found = cache_lookup(c, id, 32, buf, &len);
	ok(found && len == 200 && buf[0] == 10 && memcmp(buf + 1, data + 1,
	    199) == 0, "the next one is there, whole");
	/* 10 was used just now: a store evicts 11, not it */
	fake_id(id, 1000);
	cache_store(c, id, 32, data, 200, far);
	fake_id(id, 11);
	ok(!cache_lookup(c, id, 32, buf, &len), "least recently used: out");
	fake_id(id, 10);
	ok(cache_lookup(c, id, 32, buf, &len), "recently used: kept");

	/* large sessions take several chunks, and evict several */
	fake_id(id, 2000);
	data[0] = 0x42;
	cache_store(c, id, 32, data, SSL_ZONE_SESSION_MAX, far);
	ok(cache_lookup(c, id, 32, buf, &len) && len ==
	    SSL_ZONE_SESSION_MAX && memcmp(buf, data, len) == 0,
	    "a session of %d bytes", SSL_ZONE_SESSION_MAX);
	is_int(cache_root(c)->cr_count, n - 17 + 1,
	    "it took the room of 17 small ones");
	fake_id(id, 2001);
	cache_store(c, id, 32, data, SSL_ZONE_SESSION_MAX + 1, far);
	ok(!cache_lookup(c, id, 32, buf, &len), "a larger one: not stored");
	/* the same ID again: replaced */
	fake_id(id, 2000);
	data[0] = 0x43;
	cache_store(c, id, 32, data, 100, far);
	ok(cache_lookup(c, id, 32, buf, &len) && len == 100 && buf[0] == 0x43,
	    "the same ID stored again: replaced");
	/* expired */
	fake_id(id, 3000);
	cache_store(c, id, 32, data, 100, now_sec() + 10);
	ok(cache_lookup(c, id, 32, buf, &len), "stored for 10 s");
	clock_skew = 10;
	ok(!cache_lookup(c, id, 32, buf, &len), "10 s later: expired");
	clock_skew = 0;
	cache_remove(c, id, 32);
	fake_id(id, 10);
	cache_remove(c, id, 32);
	ok(!cache_lookup(c, id, 32, buf, &len), "removed");

	/* the state survives another mapping: a reload or an upgrade */
	c2 = cache_open(path, "small", 1);
	fake_id(id, 1000);
	ok(c2 != NULL && !c2->c_zone->z_fresh && cache_lookup(c2, id, 32, buf,
	    &len), "mapped again: the sessions are still there");
	if (c2 != NULL)
		cache_close(c2);

	/* garbage: random bytes anywhere in the contents, then work */
	log_to_stderr(-1);	/* quiet */
	srandom(5);
	for (j = 0; j < 200; j++) {
		size_t at = align_up(sizeof(struct shm_header)) + random() %
		    (c->c_zone->z_size - align_up(sizeof(struct shm_header)) -
		    8);
		int k;

		for (k = 0; k < 1 + j % 8; k++)
			c->c_zone->z_base[at + k] = random();
		if (j % 50 == 0)
			/* sometimes a lot at once */
			for (k = 0; k < 4096 && at + k < c->c_zone->z_size;
			    k++)
				c->c_zone->z_base[at + k] = random();
		for (k = 0; k < 20; k++) {
			fake_id(id, random() % (n * 2));
			switch (random() % 3) {
			case 0:
				cache_store(c, id, 32, data, 1 + random() %
				    SSL_ZONE_SESSION_MAX, far);
				break;
			case 1:
				cache_lookup(c, id, 32, buf, &len);
				break;
			case 2:
				cache_remove(c, id, 32);
				break;
			}
		}
	}
	log_to_stderr(LOG_NOTICE);
	ok(cache_root(c)->cr_count <= n && cache_root(c)->cr_magic ==
	    CACHE_MAGIC, "200 rounds of garbage in the zone: still a cache");
	fake_id(id, 77777);
	cache_store(c, id, 32, data, 300, far);
	ok(cache_lookup(c, id, 32, buf, &len) && len == 300 &&
	    memcmp(buf, data, 300) == 0, "and it stores and finds again");

	/* a process that dies holding the lock: the cache is emptied */
	if (fork() == 0) {
		shm_lock(c->c_zone);
		_exit(0);
	}
	wait(NULL);
	log_to_stderr(-1);	/* quiet */
	ok(!cache_lookup(c, id, 32, buf, &len), "a holder died: emptied");
	log_to_stderr(LOG_NOTICE);
	cache_store(c, id, 32, data, 300, far);
	ok(cache_lookup(c, id, 32, buf, &len), "and usable");
	cache_close(c);

	/* a wrong header: a new zone */
	{
		int fd = open(path, O_RDWR);
		uint64_t bad = 1;

		ok(fd != -1 && pwrite(fd, &bad, sizeof(bad), 0) == sizeof(bad),
		    "cache zone's magic overwritten");
		close(fd);
		c = cache_open(path, "small", 1);
		ok(c != NULL && c->c_zone->z_fresh && cache_root(c)->cr_count ==
		    0, "a bad header: a new, empty cache");
		if (c != NULL)
			cache_close(c);
	}
}

/* ssl_zone_attach() over a generation, as the master calls it */
static void
test_attach(void)
{
	struct gen g;
	struct conf_main mc;
	struct conf_http hc;
	struct conf_srv s1, s2, s3;
	char pid[128], kpath[128], cpath[160];
	char *keys[1];
	SSL_SESSION *sess = NULL;
	SSL_CTX *c1, *c2;
	struct keyring *kr;
	struct cache *cc;
	struct stat st;
	int rc;

	memset(&g, 0, sizeof(g));
	memset(&mc, 0, sizeof(mc));
	memset(&hc, 0, sizeof(hc));
	memset(&s1, 0, sizeof(s1));
	memset(&s2, 0, sizeof(s2));
	memset(&s3, 0, sizeof(s3));
	snprintf(pid, sizeof(pid), "%s/logs/portico.pid", dir);
	snprintf(kpath, sizeof(kpath), "%s/t48.key", dir);
	snprintf(cpath, sizeof(cpath), "%s/logs", dir);
	mkdir(cpath, 0700);
	mc.mc_pid = pid;
	g.g_main = &mc;
	g.g_http = &hc;
	g.g_arena = arena_new();
	hc.hc_servers = &s1;
	s1.sc_next = &s2;
	s2.sc_next = &s3;
	s1.sc_file = s2.sc_file = s3.sc_file = "t.conf";
	/* two servers on the zone's keys and one cache; one on a file */
	s1.sc_ssl.ss_ctx = server_ctx(TLS1_3_VERSION);
	s1.sc_ssl.ss_tickets = 0;
	s1.sc_ssl.ss_cache = SSLC_SHARED;
	s1.sc_ssl.ss_cache_name = "a:b/c";
	s1.sc_ssl.ss_cache_size = 1024 * 1024;
	s1.sc_ssl.ss_session_timeout = 300000;
	s2.sc_ssl = s1.sc_ssl;
	s2.sc_ssl.ss_ctx = server_ctx(TLS1_3_VERSION);
	s2.sc_ssl.ss_tickets = 1;
	s2.sc_ssl.ss_session_timeout = 4 * 3600 * 1000;
	s3.sc_ssl = s2.sc_ssl;
	s3.sc_ssl.ss_ctx = server_ctx(TLS1_3_VERSION);
	keys[0] = kpath;
	s3.sc_ssl.ss_ticket_keys = keys;
	s3.sc_ssl.ss_nticket_keys = 1;
	rc = ssl_zone_attach(&g);
	is_int(rc, 0, "ssl_zone_attach()");
	snprintf(cpath, sizeof(cpath), "%s/logs/portico.tls", dir);
	ok(stat(cpath, &st) == 0 && g.g_tls != NULL && g.g_tls == ring->kr_zone,
	    "the key zone beside the pid file, in g_tls");
	snprintf(cpath, sizeof(cpath), "%s/logs/portico.tls.a%%3Ab%%2Fc", dir);
	ok(stat(cpath, &st) == 0, "the cache's, its name escaped");
	is_int(ring_keys(ring)->zk_period, 2 * 3600,
	    "a 4 h session timeout: keys rotated every 2 h");
	ok(caches != NULL && caches->c_next == NULL, "one cache for both");
	if (rc != 0 || caches == NULL)
		return;
	is_int(handshake(s1.sc_ssl.ss_ctx, TLS1_2_VERSION, NULL, &sess), 0,
	    "the first server: a session ID");
	is_int(handshake(s2.sc_ssl.ss_ctx, TLS1_2_VERSION, sess, NULL), 1,
	    "resumed by the second, through the cache");
	SSL_SESSION_free(sess);
	is_int(handshake(s2.sc_ssl.ss_ctx, TLS1_2_VERSION, NULL, &sess), 0,
	    "the second server: a ticket");
	ok(sess != NULL && ticket_name_is(sess,
	    ring_keys(ring)->zk_key[ring_keys(ring)->zk_cur].k_name),
	    "under the zone's key");
	is_int(handshake(s3.sc_ssl.ss_ctx, TLS1_2_VERSION, sess, NULL), 1,
	    "the server with a key file takes it too");
	SSL_SESSION_free(sess);

	/* attached again, a reload: the same mappings */
	kr = ring;
	cc = caches;
	ok(ssl_zone_attach(&g) == 0 && ring == kr && caches == cc &&
	    cc->c_next == NULL, "attached again: the same mappings");

	/* a bad key file fails the attach: the master keeps the old */
	{
		struct gen g2 = g;
		char bad[128];

		snprintf(bad, sizeof(bad), "%s/none.key", dir);
		keys[0] = bad;
		g2.g_arena = arena_new();
		c1 = s1.sc_ssl.ss_ctx;
		c2 = s2.sc_ssl.ss_ctx;
		s1.sc_ssl.ss_ctx = s2.sc_ssl.ss_ctx = NULL;
		log_to_stderr(-1);	/* quiet */
		is_int(ssl_zone_attach(&g2), -1, "a missing key file: -1");
		log_to_stderr(LOG_NOTICE);
		arena_free(g2.g_arena);
	}
	SSL_CTX_free(c1);
	SSL_CTX_free(c2);
	SSL_CTX_free(s3.sc_ssl.ss_ctx);
	arena_free(g.g_arena);
}

static int
rm_entry(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	return remove(p);
}

int
main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/portico-sslzone-XXXXXX");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	log_to_stderr(LOG_NOTICE);
	alarm(120);
	if (make_cert() == -1) {
		ok(0, "a self-signed certificate");
		return tap_done();
	}
	test_tickets();
	test_key_files();
	test_cache_sessions();
	test_cache_store();
	test_attach();

	EVP_PKEY_free(pkey);
	X509_free(cert);
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return tap_done();
}
