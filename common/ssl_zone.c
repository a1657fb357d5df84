/*
 * ssl_zone.c: session ticket keys and session caches shared by the
 * workers, in file-backed zones (see ssl_zone.h).
 *
 * Ticket keys.  The zone holds a ring of SSL_ZONE_NKEYS keys (16-byte
 * name, 32-byte HMAC-SHA256 secret, 32-byte AES-256-CBC key, creation
 * time).  The newest encrypts; a key decrypts until NKEYS rotation
 * periods after it was made, so a ticket stays good for more than
 * (NKEYS - 1) periods after it was issued.  The period is an hour, or
 * half the longest ssl_session_timeout of the servers using the zone's
 * keys when that is longer: every ticket outlives its session.
 * Rotation is lazy: the process that is about to encrypt with a key
 * past its period makes the next one under the zone's lock.  Each
 * process keeps a copy of the ring and takes the lock only when the
 * ring's version has moved or the current key is due.
 *
 * Session caches.  A zone per cache name: a hash table of nodes (the
 * session ID, expiry, LRU links) whose serialized sessions are kept in
 * chains of fixed-size chunks, so that sessions of any size up to
 * SSL_ZONE_SESSION_MAX share the space without fragmenting it.  When
 * the nodes or chunks run out, the least recently used sessions go.
 * Every index read from the zone is bounds-checked and every walk
 * bounded; a cache found inconsistent (a bug, a process that died
 * holding the lock, a file changed behind our back) is emptied, never
 * trusted.
 */
#include "core.h"

#include <fcntl.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include "arena.h"
#include "conf.h"
#include "log.h"
#include "shm.h"
#include "ssl_zone.h"
#include "str.h"

#define KEYS_LAYOUT	1
#define KEYS_MAGIC	0x5359454b534c5450ULL	/* "PTLSKEYS" */
#define KEYS_SIZE	4096
#define CACHE_LAYOUT	1
#define CACHE_MAGIC	0x4548434153534c50ULL	/* "PLSSCACHE" */
#define ALIGN		64
#define CHUNK_SIZE	256
#define CHUNK_DATA	(CHUNK_SIZE - sizeof(uint32_t))
#define NIL		UINT32_MAX
#define PERIOD_MAX	(366 * 86400)
#define EXPIRE_PER_STORE 2	/* expired sessions dropped by a store */

/*
 * The clock of key ages and session expiry: wall seconds, the same in
 * every process and across an upgrade.  The tests move it.
 */
static int64_t clock_skew;

static int64_t
now_sec(void)
{
	return (int64_t)time(NULL) + clock_skew;
}

/* ticket keys: in the zone */

struct zkey {
	uint8_t		 k_name[16];
	uint8_t		 k_hmac[32];
	uint8_t		 k_aes[32];
	int64_t		 k_created;	/* 0: none */
};

struct zkeys {
	uint64_t	 zk_magic;
	uint32_t	 zk_nkeys;
	uint32_t	 zk_cur;	/* the one that encrypts */
	int64_t		 zk_period;	/* seconds between rotations */
	_Atomic uint64_t zk_version;	/* +1 at each change */
	struct zkey	 zk_key[SSL_ZONE_NKEYS];
};

/* a process's view of the key zone */
struct keyring {
	struct shm_zone	*kr_zone;
	uint64_t	 kr_version;	/* of kr_copy; 0: no copy yet */
	struct zkeys	 kr_copy;
};

/* the keys of ssl_session_ticket_key files: the first encrypts */
struct fkey {
	uint8_t		 fk_name[16];
	uint8_t		 fk_hmac[32];
	uint8_t		 fk_aes[32];
	int		 fk_len;	/* 16: AES-128, 32: AES-256 */
};

struct keyset {
	char		**ks_paths;	/* the server's, to share the set */
	struct fkey	*ks_keys;
	int		 ks_n;
	struct keyset	*ks_next;
};

/* session caches */

struct cnode {
	uint8_t		 n_id[SSL_MAX_SSL_SESSION_ID_LENGTH];
	uint32_t	 n_idlen;	/* 0: free */
	uint32_t	 n_hash;
	uint32_t	 n_hnext;	/* in the bucket, or the free list */
	uint32_t	 n_newer;	/* LRU */
	uint32_t	 n_older;
	uint32_t	 n_chunk;	/* the first of the session's */
	uint32_t	 n_len;		/* its bytes */
	uint32_t	 n_pad;
	int64_t		 n_expire;	/* wall seconds */
};

struct cchunk {
	uint32_t	 ch_next;
	uint8_t		 ch_data[CHUNK_DATA];
};

struct croot {
	uint64_t	 cr_magic;
	uint32_t	 cr_nnodes;	/* as many buckets and chunks */
	uint32_t	 cr_count;
	uint32_t	 cr_free_node;
	uint32_t	 cr_free_chunk;
	uint32_t	 cr_nfree_chunks;
	uint32_t	 cr_newest;
	uint32_t	 cr_oldest;
	uint32_t	 cr_pad;
	uint64_t	 cr_buckets;	/* offsets */
	uint64_t	 cr_nodes;
	uint64_t	 cr_chunks;
	uint64_t	 cr_stored;	/* counters */
	uint64_t	 cr_hits;
	uint64_t	 cr_misses;
	uint64_t	 cr_evicted;
};

/* a process's view of a cache zone; the geometry follows from the size */
struct cache {
	struct shm_zone	*c_zone;
	char		*c_name;
	int64_t		 c_size;	/* as configured */
	struct croot	 c_geom;	/* what the root must say */
	uint64_t	 c_root;
	int		 c_used;	/* by the generation being attached */
	struct cache	*c_next;
};

/* what a generation's contexts share */
struct tls_gen {
	struct keyring	*tg_ring;	/* NULL: no key zone */
	struct keyset	*tg_sets;
	struct cache	**tg_caches;
	int		 tg_ncaches;
};

/* one SSL_CTX's: its ex_data */
struct tls_ctx {
	struct tls_gen	*tc_gen;
	struct keyset	*tc_keys;	/* NULL: the zone's */
	struct cache	*tc_cache;	/* NULL: sessions not stored */
};

static int ctx_index = -1;

/* the master's mappings, kept across reloads */
static struct keyring *ring;
static struct cache *caches;

static size_t
align_up(size_t n)
{
	return (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
}

/* the ticket keys */

static int
key_make(struct zkey *k, int64_t now)
{
	if (RAND_bytes(k->k_name, sizeof(k->k_name)) != 1 ||
	    RAND_bytes(k->k_hmac, sizeof(k->k_hmac)) != 1 ||
	    RAND_bytes(k->k_aes, sizeof(k->k_aes)) != 1) {
		log_warnx("RAND_bytes() failed: no new session ticket key");
		return -1;
	}
	k->k_created = now;
	return 0;
}

static int
keys_are_sane(const struct zkeys *zk)
{
	return zk->zk_magic == KEYS_MAGIC && zk->zk_nkeys == SSL_ZONE_NKEYS &&
	    zk->zk_cur < SSL_ZONE_NKEYS && zk->zk_period >= 1 &&
	    zk->zk_period <= PERIOD_MAX &&
	    zk->zk_key[zk->zk_cur].k_created != 0;
}

/* a key made in the future (a changed clock, garbage) counts as old */
static int
key_is_due(const struct zkey *k, int64_t period, int64_t now)
{
	return now >= k->k_created + period ||
	    k->k_created > now + SSL_ZONE_NKEYS * period;
}

static int
key_is_live(const struct zkey *k, int64_t period, int64_t now)
{
	return k->k_created != 0 && now < k->k_created +
	    SSL_ZONE_NKEYS * period;
}

static void
keys_init_locked(struct zkeys *zk, int64_t period, int64_t now)
{
	uint64_t v = atomic_load(&zk->zk_version);

	memset(zk->zk_key, 0, sizeof(zk->zk_key));
	zk->zk_nkeys = SSL_ZONE_NKEYS;
	zk->zk_cur = 0;
	zk->zk_period = period;
	if (key_make(&zk->zk_key[0], now) == -1)
		return;		/* not sane: tried again next time */
	zk->zk_magic = KEYS_MAGIC;
	atomic_store(&zk->zk_version, v + 1 == 0 ? 1 : v + 1);
}

static void
keys_rotate_locked(struct zkeys *zk, int64_t now)
{
	uint32_t next = (zk->zk_cur + 1) % SSL_ZONE_NKEYS;

	if (key_make(&zk->zk_key[next], now) == -1)
		return;
	zk->zk_cur = next;
	atomic_fetch_add(&zk->zk_version, 1);
}

static struct zkeys *
ring_keys(struct keyring *kr)
{
	return shm_ptr(kr->kr_zone, kr->kr_zone->z_hdr->sh_root);
}

/*
 * Refresh the process's copy of the ring; with rotate, first make a new
 * key if the current one is due.  -1 when there is no usable copy.
 */
static int
ring_sync(struct keyring *kr, int rotate)
{
	struct zkeys *zk = ring_keys(kr), *c = &kr->kr_copy;
	int64_t now = now_sec();
	int rc;

	if (kr->kr_version != 0 && atomic_load(&zk->zk_version) ==
	    kr->kr_version && (!rotate || !key_is_due(&c->zk_key[c->zk_cur],
	    c->zk_period, now)))
		return 0;
	if ((rc = shm_lock(kr->kr_zone)) == -1)
		return kr->kr_version != 0 ? 0 : -1;
	/* rc 1: a holder died, maybe halfway through a key; checked below */
	if (!keys_are_sane(zk))
		keys_init_locked(zk, zk->zk_period >= 1 && zk->zk_period <=
		    PERIOD_MAX ? zk->zk_period : SSL_ZONE_ROTATE_SEC, now);
	else if (rc == 1 || (rotate && key_is_due(&zk->zk_key[zk->zk_cur],
	    zk->zk_period, now)))
		keys_rotate_locked(zk, now);
	if (keys_are_sane(zk)) {
		memcpy(c, zk, sizeof(*c));
		kr->kr_version = atomic_load(&zk->zk_version);
	}
	shm_unlock(kr->kr_zone);
	return kr->kr_version != 0 ? 0 : -1;
}

static struct keyring *
ring_open(const char *path, int64_t period)
{
	struct keyring *kr;
	struct zkeys *zk;
	uint64_t off;
	int rc;

	if ((kr = calloc(1, sizeof(*kr))) == NULL)
		return NULL;
	if ((kr->kr_zone = shm_zone_open(path, "tls_keys", KEYS_SIZE,
	    KEYS_LAYOUT)) == NULL)
		goto fail;
	if ((rc = shm_lock(kr->kr_zone)) == -1)
		goto fail;
	if (kr->kr_zone->z_hdr->sh_root == 0) {
		if ((off = shm_alloc_locked(kr->kr_zone, sizeof(*zk))) == 0) {
			shm_unlock(kr->kr_zone);
			goto fail;
		}
		kr->kr_zone->z_hdr->sh_root = off;
	}
	zk = ring_keys(kr);
	if (zk == NULL || (char *)(zk + 1) > kr->kr_zone->z_base + KEYS_SIZE) {
		/* a root pointing anywhere: the contents are not ours */
		kr->kr_zone->z_hdr->sh_root = 0;
		shm_unlock(kr->kr_zone);
		goto fail;
	}
	if (!keys_are_sane(zk))
		keys_init_locked(zk, period, now_sec());
	else if (zk->zk_period != period) {
		zk->zk_period = period;
		atomic_fetch_add(&zk->zk_version, 1);
	}
	shm_unlock(kr->kr_zone);
	if (ring_sync(kr, 1) == -1)
		goto fail;
	return kr;
fail:
	if (kr->kr_zone != NULL)
		shm_zone_close(kr->kr_zone);
	free(kr);
	return NULL;
}

/* the period changed by a reload, and a first key made if due */
static void
ring_set_period(struct keyring *kr, int64_t period)
{
	struct zkeys *zk = ring_keys(kr);

	if (shm_lock(kr->kr_zone) != -1) {
		if (keys_are_sane(zk) && zk->zk_period != period) {
			zk->zk_period = period;
			atomic_fetch_add(&zk->zk_version, 1);
		}
		shm_unlock(kr->kr_zone);
	}
	ring_sync(kr, 1);
}

/*
 * An ssl_session_ticket_key file, as nginx's: 48 bytes (16 name, 16
 * HMAC secret, 16 AES-128 key) or 80 bytes (16, 32, 32 for AES-256).
 */
static int
keyfile_read(const char *path, struct fkey *k)
{
	uint8_t buf[81];
	ssize_t n;
	size_t got = 0;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		log_msg(LOG_EMERG, errno, "cannot open ssl_session_ticket_key "
		    "\"%s\"", path);
		return -1;
	}
	while (got < sizeof(buf) && (n = read(fd, buf + got,
	    sizeof(buf) - got)) > 0)
		got += n;
	close(fd);
	if (got != 48 && got != 80) {
		log_msg(LOG_EMERG, 0, "ssl_session_ticket_key \"%s\" must be 48 "
		    "or 80 bytes", path);
		OPENSSL_cleanse(buf, sizeof(buf));
		return -1;
	}
	k->fk_len = got == 48 ? 16 : 32;
	memcpy(k->fk_name, buf, 16);
	memcpy(k->fk_hmac, buf + 16, k->fk_len);
	memcpy(k->fk_aes, buf + 16 + k->fk_len, k->fk_len);
	OPENSSL_cleanse(buf, sizeof(buf));
	return 0;
}

static int
mac_init(EVP_MAC_CTX *hctx, const uint8_t *key, size_t len)
{
	OSSL_PARAM p[3];

	p[0] = OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY,
	    (void *)key, len);
	p[1] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    (char *)"SHA256", 0);
	p[2] = OSSL_PARAM_construct_end();
	return EVP_MAC_CTX_set_params(hctx, p);
}

static const EVP_CIPHER *
key_cipher(int len)
{
	return len == 16 ? EVP_aes_128_cbc() : EVP_aes_256_cbc();
}

/*
 * The key called name among those tc's generation knows; *renew: it is
 * not the one tc encrypts with now.
 */
static int
key_find(struct tls_ctx *tc, const uint8_t *name, const uint8_t **hmac,
    const uint8_t **aes, int *len, int *renew)
{
	struct tls_gen *tg = tc->tc_gen;
	struct keyset *ks;
	struct zkeys *c;
	int64_t now;
	uint32_t i;

	for (ks = tg->tg_sets; ks != NULL; ks = ks->ks_next)
		for (i = 0; i < (uint32_t)ks->ks_n; i++)
			if (memcmp(ks->ks_keys[i].fk_name, name, 16) == 0) {
				*hmac = ks->ks_keys[i].fk_hmac;
				*aes = ks->ks_keys[i].fk_aes;
				*len = ks->ks_keys[i].fk_len;
				*renew = ks != tc->tc_keys || i != 0;
				return 1;
			}
	if (tg->tg_ring == NULL || ring_sync(tg->tg_ring, 0) == -1)
		return 0;
	c = &tg->tg_ring->kr_copy;
	now = now_sec();
	for (i = 0; i < SSL_ZONE_NKEYS; i++)
		if (memcmp(c->zk_key[i].k_name, name, 16) == 0 &&
		    key_is_live(&c->zk_key[i], c->zk_period, now)) {
			*hmac = c->zk_key[i].k_hmac;
			*aes = c->zk_key[i].k_aes;
			*len = 32;
			*renew = tc->tc_keys != NULL || i != c->zk_cur ||
			    key_is_due(&c->zk_key[i], c->zk_period, now);
			return 1;
		}
	return 0;
}

/*
 * OpenSSL's ticket key callback.  Encrypting: 1, or 0 for no ticket.
 * Decrypting: 1, 2 (good, but issue a new ticket), 0 (unknown key: a
 * full handshake), -1 (error).
 */
static int
ticket_cb(SSL *s, unsigned char name[16], unsigned char *iv,
    EVP_CIPHER_CTX *cctx, EVP_MAC_CTX *hctx, int enc)
{
	struct tls_ctx *tc = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(s),
	    ctx_index);
	const uint8_t *kname, *hmac, *aes;
	struct zkeys *c;
	int len, renew;

	if (tc == NULL)
		return 0;
	if (enc) {
		if (tc->tc_keys != NULL) {
			kname = tc->tc_keys->ks_keys[0].fk_name;
			hmac = tc->tc_keys->ks_keys[0].fk_hmac;
			aes = tc->tc_keys->ks_keys[0].fk_aes;
			len = tc->tc_keys->ks_keys[0].fk_len;
		} else if (tc->tc_gen->tg_ring != NULL &&
		    ring_sync(tc->tc_gen->tg_ring, 1) == 0) {
			c = &tc->tc_gen->tg_ring->kr_copy;
			kname = c->zk_key[c->zk_cur].k_name;
			hmac = c->zk_key[c->zk_cur].k_hmac;
			aes = c->zk_key[c->zk_cur].k_aes;
			len = 32;
		} else
			return 0;
		if (RAND_bytes(iv, EVP_CIPHER_get_iv_length(
		    key_cipher(len))) != 1)
			return -1;
		memcpy(name, kname, 16);
		if (EVP_EncryptInit_ex(cctx, key_cipher(len), NULL, aes, iv) !=
		    1 || mac_init(hctx, hmac, len) != 1)
			return -1;
		return 1;
	}
	if (!key_find(tc, name, &hmac, &aes, &len, &renew))
		return 0;
	if (EVP_DecryptInit_ex(cctx, key_cipher(len), NULL, aes, iv) != 1 ||
	    mac_init(hctx, hmac, len) != 1)
		return -1;
	/*
	 * TLS 1.3 clients use a ticket once (RFC 8446, C.4): without a new
	 * one after each resumption, every other connection of theirs would
	 * be a full handshake.  OpenSSL sends one only when asked.
	 */
	return renew || SSL_version(s) >= TLS1_3_VERSION ? 2 : 1;
}

/* the session caches */

static struct croot *
cache_root(struct cache *c)
{
	return shm_ptr(c->c_zone, c->c_root);
}

static struct cnode *
cache_nodes(struct cache *c)
{
	return (struct cnode *)(c->c_zone->z_base + c->c_geom.cr_nodes);
}

static struct cchunk *
cache_chunks(struct cache *c)
{
	return (struct cchunk *)(c->c_zone->z_base + c->c_geom.cr_chunks);
}

static uint32_t *
cache_buckets(struct cache *c)
{
	return (uint32_t *)(c->c_zone->z_base + c->c_geom.cr_buckets);
}

static size_t
cache_file_size(int64_t size)
{
	if (size < SSL_ZONE_CACHE_MIN)
		size = SSL_ZONE_CACHE_MIN;
	return ((size_t)size + 4095) & ~(size_t)4095;
}

/* where everything goes in a zone of size bytes */
static void
cache_geometry(struct croot *g, size_t size)
{
	size_t base = align_up(sizeof(struct shm_header));
	size_t first = align_up(base + sizeof(struct croot));
	size_t per = sizeof(uint32_t) + sizeof(struct cnode) + CHUNK_SIZE;
	size_t n = (size - first - 3 * ALIGN) / per;

	memset(g, 0, sizeof(*g));
	g->cr_magic = CACHE_MAGIC;
	g->cr_nnodes = n;
	g->cr_buckets = first;
	g->cr_nodes = align_up(first + n * sizeof(uint32_t));
	g->cr_chunks = align_up(g->cr_nodes + n * sizeof(struct cnode));
}

static void
cache_reset_locked(struct cache *c)
{
	struct croot *r = cache_root(c);
	struct cnode *nodes = cache_nodes(c);
	struct cchunk *chunks = cache_chunks(c);
	uint32_t *buckets = cache_buckets(c), i, n = c->c_geom.cr_nnodes;

	*r = c->c_geom;
	r->cr_magic = 0;
	for (i = 0; i < n; i++) {
		buckets[i] = NIL;
		memset(&nodes[i], 0, sizeof(nodes[i]));
		nodes[i].n_hnext = i + 1 < n ? i + 1 : NIL;
		chunks[i].ch_next = i + 1 < n ? i + 1 : NIL;
	}
	r->cr_free_node = n > 0 ? 0 : NIL;
	r->cr_free_chunk = n > 0 ? 0 : NIL;
	r->cr_nfree_chunks = n;
	r->cr_newest = r->cr_oldest = NIL;
	r->cr_count = 0;
	atomic_thread_fence(memory_order_release);
	r->cr_magic = CACHE_MAGIC;
}

static void
cache_corrupt_locked(struct cache *c)
{
	log_warnx("ssl_session_cache \"%s\" was inconsistent: emptied",
	    c->c_name);
	cache_reset_locked(c);
}

static int
is_index(const struct cache *c, uint32_t i)
{
	return i < c->c_geom.cr_nnodes;
}

static int
is_index_or_nil(const struct cache *c, uint32_t i)
{
	return i == NIL || is_index(c, i);
}

/* the root agrees with the geometry: else the zone is emptied */
static void
cache_check_locked(struct cache *c)
{
	struct croot *r = cache_root(c);
	const struct croot *g = &c->c_geom;

	if (r->cr_magic != CACHE_MAGIC || r->cr_nnodes != g->cr_nnodes ||
	    r->cr_buckets != g->cr_buckets || r->cr_nodes != g->cr_nodes ||
	    r->cr_chunks != g->cr_chunks || r->cr_count > g->cr_nnodes ||
	    r->cr_nfree_chunks > g->cr_nnodes ||
	    !is_index_or_nil(c, r->cr_free_node) ||
	    !is_index_or_nil(c, r->cr_free_chunk) ||
	    !is_index_or_nil(c, r->cr_newest) ||
	    !is_index_or_nil(c, r->cr_oldest))
		cache_reset_locked(c);
}

/* 0 locked and checked, -1 not locked */
static int
cache_lock(struct cache *c)
{
	int rc = shm_lock(c->c_zone);

	if (rc == -1)
		return -1;
	if (rc == 1)
		/* its holder died in the middle of a change */
		cache_reset_locked(c);
	else
		cache_check_locked(c);
	return 0;
}

static uint32_t
id_hash(const uint8_t *id, size_t len)
{
	uint32_t h = 2166136261U;

	while (len-- > 0)
		h = (h ^ *id++) * 16777619U;
	return h;
}

/* node i out of its bucket, the LRU and its chunks; -1: inconsistent */
static int
node_drop_locked(struct cache *c, uint32_t i)
{
	struct croot *r = cache_root(c);
	struct cnode *nodes = cache_nodes(c), *n = &nodes[i];
	struct cchunk *chunks = cache_chunks(c);
	uint32_t *slot, steps, ch, next, need;

	slot = &cache_buckets(c)[n->n_hash % c->c_geom.cr_nnodes];
	for (steps = 0; *slot != i; slot = &nodes[*slot].n_hnext)
		if (!is_index(c, *slot) || ++steps > c->c_geom.cr_nnodes)
			return -1;
	*slot = n->n_hnext;
	if (!is_index_or_nil(c, n->n_newer) || !is_index_or_nil(c, n->n_older))
		return -1;
	if (n->n_newer != NIL)
		nodes[n->n_newer].n_older = n->n_older;
	else
		r->cr_newest = n->n_older;
	if (n->n_older != NIL)
		nodes[n->n_older].n_newer = n->n_newer;
	else
		r->cr_oldest = n->n_newer;
	need = (n->n_len + CHUNK_DATA - 1) / CHUNK_DATA;
	for (ch = n->n_chunk, steps = 0; steps < need; steps++, ch = next) {
		if (!is_index(c, ch))
			return -1;
		next = chunks[ch].ch_next;
		chunks[ch].ch_next = r->cr_free_chunk;
		r->cr_free_chunk = ch;
		r->cr_nfree_chunks++;
	}
	memset(n, 0, sizeof(*n));
	n->n_hnext = r->cr_free_node;
	r->cr_free_node = i;
	r->cr_count--;
	return 0;
}

/* the node of id, NIL if none; -1 in *bad when the walk went wrong */
static uint32_t
node_find_locked(struct cache *c, const uint8_t *id, uint32_t idlen,
    uint32_t h, int *bad)
{
	struct cnode *nodes = cache_nodes(c);
	uint32_t i, steps = 0;

	*bad = 0;
	for (i = cache_buckets(c)[h % c->c_geom.cr_nnodes]; i != NIL;
	    i = nodes[i].n_hnext) {
		if (!is_index(c, i) || ++steps > c->c_geom.cr_nnodes) {
			*bad = 1;
			return NIL;
		}
		if (nodes[i].n_idlen == idlen && memcmp(nodes[i].n_id, id,
		    idlen) == 0)
			return i;
	}
	return NIL;
}

/* the node to the newest end of the LRU */
static void
node_touch_locked(struct cache *c, uint32_t i)
{
	struct croot *r = cache_root(c);
	struct cnode *nodes = cache_nodes(c), *n = &nodes[i];

	if (r->cr_newest == i)
		return;
	/* unlink (its neighbours were checked by the caller's walk) */
	if (n->n_newer != NIL)
		nodes[n->n_newer].n_older = n->n_older;
	if (n->n_older != NIL)
		nodes[n->n_older].n_newer = n->n_newer;
	else
		r->cr_oldest = n->n_newer;
	n->n_older = r->cr_newest;
	n->n_newer = NIL;
	if (r->cr_newest != NIL)
		nodes[r->cr_newest].n_newer = i;
	r->cr_newest = i;
	if (r->cr_oldest == NIL)
		r->cr_oldest = i;
}

static int
cache_store_locked(struct cache *c, const uint8_t *id, uint32_t idlen,
    const uint8_t *data, uint32_t len, int64_t expire)
{
	struct croot *r = cache_root(c);
	struct cnode *nodes = cache_nodes(c), *n;
	struct cchunk *chunks = cache_chunks(c);
	uint32_t h = id_hash(id, idlen), i, need, ch, *link, k, take;
	int64_t now = now_sec();
	int bad;

	need = (len + CHUNK_DATA - 1) / CHUNK_DATA;
	if (need > c->c_geom.cr_nnodes)
		return 0;
	if ((i = node_find_locked(c, id, idlen, h, &bad)) != NIL &&
	    node_drop_locked(c, i) == -1)
		return -1;
	if (bad)
		return -1;
	for (k = 0; k < EXPIRE_PER_STORE && r->cr_oldest != NIL &&
	    nodes[r->cr_oldest].n_expire <= now; k++)
		if (node_drop_locked(c, r->cr_oldest) == -1)
			return -1;
	for (k = 0; r->cr_free_node == NIL || r->cr_nfree_chunks < need;
	    k++) {
		if (r->cr_oldest == NIL || k > c->c_geom.cr_nnodes)
			return -1;	/* nothing to evict, yet no room */
		if (node_drop_locked(c, r->cr_oldest) == -1)
			return -1;
		r->cr_evicted++;
	}
	i = r->cr_free_node;
	n = &nodes[i];
	if (!is_index_or_nil(c, n->n_hnext))
		return -1;
	r->cr_free_node = n->n_hnext;
	memcpy(n->n_id, id, idlen);
	n->n_idlen = idlen;
	n->n_hash = h;
	n->n_len = len;
	n->n_expire = expire;
	link = &n->n_chunk;
	for (k = 0; k < need; k++) {
		ch = r->cr_free_chunk;
		if (!is_index(c, ch))
			return -1;
		r->cr_free_chunk = chunks[ch].ch_next;
		r->cr_nfree_chunks--;
		take = MIN(len - k * CHUNK_DATA, CHUNK_DATA);
		memcpy(chunks[ch].ch_data, data + k * CHUNK_DATA, take);
		*link = ch;
		link = &chunks[ch].ch_next;
	}
	*link = NIL;
	n->n_hnext = cache_buckets(c)[h % c->c_geom.cr_nnodes];
	cache_buckets(c)[h % c->c_geom.cr_nnodes] = i;
	n->n_newer = NIL;
	n->n_older = r->cr_newest;
	if (r->cr_newest != NIL)
		nodes[r->cr_newest].n_newer = i;
	r->cr_newest = i;
	if (r->cr_oldest == NIL)
		r->cr_oldest = i;
	r->cr_count++;
	r->cr_stored++;
	return 0;
}

static void
cache_store(struct cache *c, const uint8_t *id, uint32_t idlen,
    const uint8_t *data, uint32_t len, int64_t expire)
{
	if (idlen == 0 || idlen > SSL_MAX_SSL_SESSION_ID_LENGTH ||
	    len == 0 || len > SSL_ZONE_SESSION_MAX || cache_lock(c) == -1)
		return;
	if (cache_store_locked(c, id, idlen, data, len, expire) == -1)
		cache_corrupt_locked(c);
	shm_unlock(c->c_zone);
}

/* 1: the session's bytes in buf (SSL_ZONE_SESSION_MAX), *len; 0: none */
static int
cache_lookup(struct cache *c, const uint8_t *id, uint32_t idlen,
    uint8_t *buf, uint32_t *len)
{
	struct croot *r;
	struct cnode *nodes = cache_nodes(c), *n;
	struct cchunk *chunks = cache_chunks(c);
	uint32_t h = id_hash(id, idlen), i, k, need, ch, take;
	int bad, found = 0;

	if (idlen == 0 || idlen > SSL_MAX_SSL_SESSION_ID_LENGTH ||
	    cache_lock(c) == -1)
		return 0;
	r = cache_root(c);
	i = node_find_locked(c, id, idlen, h, &bad);
	if (bad)
		goto corrupt;
	if (i == NIL)
		goto out;
	n = &nodes[i];
	if (n->n_expire <= now_sec()) {
		if (node_drop_locked(c, i) == -1)
			goto corrupt;
		goto out;
	}
	if (n->n_len == 0 || n->n_len > SSL_ZONE_SESSION_MAX ||
	    !is_index_or_nil(c, n->n_newer) || !is_index_or_nil(c, n->n_older))
		goto corrupt;
	need = (n->n_len + CHUNK_DATA - 1) / CHUNK_DATA;
	for (k = 0, ch = n->n_chunk; k < need; k++, ch = chunks[ch].ch_next) {
		if (!is_index(c, ch))
			goto corrupt;
		take = MIN(n->n_len - k * CHUNK_DATA, CHUNK_DATA);
		memcpy(buf + k * CHUNK_DATA, chunks[ch].ch_data, take);
	}
	*len = n->n_len;
	node_touch_locked(c, i);
	found = 1;
	goto out;
corrupt:
	cache_corrupt_locked(c);
	r = cache_root(c);
out:
	if (found)
		r->cr_hits++;
	else
		r->cr_misses++;
	shm_unlock(c->c_zone);
	return found;
}

static void
cache_remove(struct cache *c, const uint8_t *id, uint32_t idlen)
{
	uint32_t i;
	int bad;

	if (idlen == 0 || idlen > SSL_MAX_SSL_SESSION_ID_LENGTH ||
	    cache_lock(c) == -1)
		return;
	i = node_find_locked(c, id, idlen, id_hash(id, idlen), &bad);
	if (bad || (i != NIL && node_drop_locked(c, i) == -1))
		cache_corrupt_locked(c);
	shm_unlock(c->c_zone);
}

static struct cache *
cache_open(const char *path, const char *name, int64_t size)
{
	struct cache *c;
	char zname[SHM_NAME_MAX];
	uint64_t off;

	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->c_name = strdup(name)) == NULL)
		goto fail;
	c->c_size = size;
	snprintf(zname, sizeof(zname), "ssl:%s", name);
	if ((c->c_zone = shm_zone_open(path, zname, cache_file_size(size),
	    CACHE_LAYOUT)) == NULL)
		goto fail;
	cache_geometry(&c->c_geom, c->c_zone->z_size);
	if (c->c_geom.cr_nnodes < 16) {
		errno = ENOSPC;
		goto fail;
	}
	if (shm_lock(c->c_zone) == -1)
		goto fail;
	off = align_up(sizeof(struct shm_header));
	c->c_root = off;
	if (c->c_zone->z_hdr->sh_root != off) {
		/* the layout is fixed: whatever else is there is not ours */
		c->c_zone->z_hdr->sh_root = off;
		c->c_zone->z_hdr->sh_next = c->c_zone->z_size;
		cache_reset_locked(c);
	} else
		cache_check_locked(c);
	shm_unlock(c->c_zone);
	return c;
fail:
	if (c != NULL) {
		if (c->c_zone != NULL)
			shm_zone_close(c->c_zone);
		free(c->c_name);
	}
	free(c);
	return NULL;
}

static void
cache_close(struct cache *c)
{
	shm_zone_close(c->c_zone);
	free(c->c_name);
	free(c);
}

/* OpenSSL's session cache callbacks */

static int
sess_new_cb(SSL *s, SSL_SESSION *sess)
{
	struct tls_ctx *tc = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(s),
	    ctx_index);
	uint8_t buf[SSL_ZONE_SESSION_MAX], *p = buf;
	const unsigned char *id;
	unsigned int idlen;
	int len;

	if (tc == NULL || tc->tc_cache == NULL)
		return 0;
	/* TLS 1.3 stateless tickets: nobody looks up their dummy IDs */
	if (SSL_version(s) == TLS1_3_VERSION &&
	    (SSL_get_options(s) & SSL_OP_NO_TICKET) == 0)
		return 0;
	id = SSL_SESSION_get_id(sess, &idlen);
	len = i2d_SSL_SESSION(sess, NULL);
	if (idlen == 0 || len <= 0 || len > SSL_ZONE_SESSION_MAX)
		return 0;
	if (i2d_SSL_SESSION(sess, &p) != len)
		return 0;
	cache_store(tc->tc_cache, id, idlen, buf, len,
	    (int64_t)SSL_SESSION_get_time(sess) +
	    SSL_SESSION_get_timeout(sess));
	OPENSSL_cleanse(buf, len);
	return 0;	/* no reference kept */
}

static SSL_SESSION *
sess_get_cb(SSL *s, const unsigned char *id, int idlen, int *copy)
{
	struct tls_ctx *tc = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(s),
	    ctx_index);
	uint8_t buf[SSL_ZONE_SESSION_MAX];
	const unsigned char *p = buf;
	SSL_SESSION *sess = NULL;
	uint32_t len;
	int i, found = 0;

	*copy = 0;
	if (tc == NULL || idlen <= 0)
		return NULL;
	/* its own cache first: a session of another server is rarer */
	if (tc->tc_cache != NULL)
		found = cache_lookup(tc->tc_cache, id, idlen, buf, &len);
	for (i = 0; !found && i < tc->tc_gen->tg_ncaches; i++)
		if (tc->tc_gen->tg_caches[i] != tc->tc_cache)
			found = cache_lookup(tc->tc_gen->tg_caches[i], id,
			    idlen, buf, &len);
	if (found) {
		sess = d2i_SSL_SESSION(NULL, &p, len);
		OPENSSL_cleanse(buf, len);
	}
	return sess;
}

static void
sess_remove_cb(SSL_CTX *ctx, SSL_SESSION *sess)
{
	struct tls_ctx *tc = SSL_CTX_get_ex_data(ctx, ctx_index);
	const unsigned char *id;
	unsigned int idlen;
	int i;

	if (tc == NULL)
		return;
	id = SSL_SESSION_get_id(sess, &idlen);
	for (i = 0; i < tc->tc_gen->tg_ncaches; i++)
		cache_remove(tc->tc_gen->tg_caches[i], id, idlen);
}

/* a server's SSL_CTX: its state, callbacks, modes */
static int
ctx_install(SSL_CTX *ctx, struct tls_ctx *tc, const struct conf_ssl *ss)
{
	long mode;

	if (ctx_index == -1 && (ctx_index = SSL_CTX_get_ex_new_index(0,
	    (void *)"portico tls", NULL, NULL, NULL)) == -1)
		return -1;
	/* the session id context is conf_ssl_ctx.c's (sid_set) */
	if (SSL_CTX_set_ex_data(ctx, ctx_index, tc) != 1)
		return -1;
	if (ss->ss_session_timeout > 0)
		SSL_CTX_set_timeout(ctx, (long)((ss->ss_session_timeout + 999) /
		    1000));
	if (!ss->ss_tickets)
		SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	if (tc->tc_keys != NULL || tc->tc_gen->tg_ring != NULL)
		SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, ticket_cb);
	if (ss->ss_cache == SSLC_OFF)
		mode = SSL_SESS_CACHE_OFF;
	else if (ss->ss_cache_builtin > 0)
		/* "builtin": OpenSSL's own, per worker (conf_ssl.c sized it) */
		mode = SSL_SESS_CACHE_SERVER;
	else
		/* "none", or a shared cache alone: never OpenSSL's own */
		mode = SSL_SESS_CACHE_SERVER | SSL_SESS_CACHE_NO_INTERNAL |
		    SSL_SESS_CACHE_NO_AUTO_CLEAR;
	SSL_CTX_set_session_cache_mode(ctx, mode);
	if (tc->tc_cache != NULL) {
		SSL_CTX_sess_set_new_cb(ctx, sess_new_cb);
		SSL_CTX_sess_set_get_cb(ctx, sess_get_cb);
		SSL_CTX_sess_set_remove_cb(ctx, sess_remove_cb);
	}
	return 0;
}

/* attaching a generation, in the master */

static void
zone_path(char *buf, size_t len, const struct gen *g, const char *file,
    const char *name)
{
	char *slash, *p;
	const char *s;
	size_t n;

	snprintf(buf, len, "%s", g->g_main->mc_pid);
	if ((slash = strrchr(buf, '/')) != NULL)
		slash[1] = '\0';
	else
		buf[0] = '\0';
	str_lcpy(buf + strlen(buf), file, len - strlen(buf));
	if (name == NULL)
		return;
	/* the cache's name, with what is not a plain file name escaped */
	n = strlen(buf);
	p = buf + n;
	for (s = name; *s != '\0' && n + 4 < len; s++) {
		if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || *s == '-' || *s == '_') {
			*p++ = *s;
			n++;
		} else {
			snprintf(p, 4, "%%%02X", (unsigned char)*s);
			p += 3;
			n += 3;
		}
	}
	*p = '\0';
}

/* the sets of the servers' key files, each read once */
static struct keyset *
keyset_get(struct gen *g, struct tls_gen *tg, const struct conf_ssl *ss)
{
	struct keyset *ks;
	int i;

	for (ks = tg->tg_sets; ks != NULL; ks = ks->ks_next)
		if (ks->ks_paths == ss->ss_ticket_keys)
			return ks;
	if ((ks = arena_alloc(g->g_arena, sizeof(*ks))) == NULL ||
	    (ks->ks_keys = arena_alloc(g->g_arena, ss->ss_nticket_keys *
	    sizeof(*ks->ks_keys))) == NULL)
		return NULL;
	ks->ks_paths = ss->ss_ticket_keys;
	ks->ks_n = ss->ss_nticket_keys;
	for (i = 0; i < ks->ks_n; i++)
		if (keyfile_read(ss->ss_ticket_keys[i], &ks->ks_keys[i]) == -1)
			return NULL;
	ks->ks_next = tg->tg_sets;
	tg->tg_sets = ks;
	return ks;
}

static struct cache *
cache_get(struct gen *g, const struct conf_ssl *ss)
{
	struct cache *c;
	char path[PATH_MAX];

	for (c = caches; c != NULL; c = c->c_next)
		if (strcmp(c->c_name, ss->ss_cache_name) == 0 &&
		    (c->c_used || c->c_size == ss->ss_cache_size))
			break;
	if (c != NULL) {
		if (c->c_size != ss->ss_cache_size)
			log_warnx("ssl_session_cache \"%s\" is given two sizes; "
			    "using the first", c->c_name);
		c->c_used = 1;
		return c;
	}
	zone_path(path, sizeof(path), g, SSL_ZONE_CACHE_FILE,
	    ss->ss_cache_name);
	if ((c = cache_open(path, ss->ss_cache_name,
	    ss->ss_cache_size)) == NULL) {
		log_warn("ssl_session_cache \"%s\" is not shared: cannot map "
		    "\"%s\"", ss->ss_cache_name, path);
		return NULL;
	}
	log_debug("ssl_session_cache \"%s\": %u sessions in \"%s\"%s",
	    c->c_name, c->c_geom.cr_nnodes, path, c->c_zone->z_fresh ?
	    ", new" : "");
	c->c_used = 1;
	c->c_next = caches;
	caches = c;
	return c;
}

/* the caches the new generation does not use: its children map their own */
static void
caches_prune(void)
{
	struct cache **cp = &caches, *c;

	while ((c = *cp) != NULL) {
		if (!c->c_used) {
			*cp = c->c_next;
			cache_close(c);
		} else {
			c->c_used = 0;
			cp = &c->c_next;
		}
	}
}

static int
gen_caches(struct gen *g, struct tls_gen *tg)
{
	struct cache *c;
	int n = 0;

	for (c = caches; c != NULL; c = c->c_next)
		n += c->c_used;
	if (n == 0)
		return 0;
	if ((tg->tg_caches = arena_alloc(g->g_arena, n *
	    sizeof(*tg->tg_caches))) == NULL)
		return -1;
	for (c = caches; c != NULL; c = c->c_next)
		if (c->c_used)
			tg->tg_caches[tg->tg_ncaches++] = c;
	return 0;
}

/*
 * The rotation period: an hour, or half the longest session timeout of
 * the servers encrypting with the zone's keys, so that every ticket
 * stays good for its session's lifetime.
 */
static int64_t
gen_period(const struct gen *g, int *uses_zone)
{
	const struct conf_srv *sc;
	int64_t p = SSL_ZONE_ROTATE_SEC, t;

	*uses_zone = 0;
	for (sc = g->g_http->hc_servers; sc != NULL; sc = sc->sc_next) {
		if (sc->sc_ssl.ss_ctx == NULL || sc->sc_ssl.ss_nticket_keys > 0)
			continue;
		*uses_zone = 1;
		t = (sc->sc_ssl.ss_session_timeout / 1000 + 1) / 2;
		if (sc->sc_ssl.ss_tickets && t > p)
			p = MIN(t, PERIOD_MAX);
	}
	return p;
}

int
ssl_zone_attach(struct gen *g)
{
	struct conf_srv *sc;
	struct conf_ssl *ss;
	struct tls_gen *tg;
	struct tls_ctx *tc;
	struct cache *c;
	char path[PATH_MAX];
	int64_t period;
	int uses_zone, n = 0;

	g->g_tls = NULL;
	if (g->g_http == NULL)
		return 0;
	for (sc = g->g_http->hc_servers; sc != NULL; sc = sc->sc_next)
		n += sc->sc_ssl.ss_ctx != NULL;
	if (n == 0)
		return 0;
	if ((tg = arena_alloc(g->g_arena, sizeof(*tg))) == NULL)
		return -1;
	period = gen_period(g, &uses_zone);
	if (uses_zone && ring == NULL) {
		zone_path(path, sizeof(path), g, SSL_ZONE_KEYS_FILE, NULL);
		if ((ring = ring_open(path, period)) == NULL)
			log_warn("session ticket keys are not shared: cannot "
			    "map \"%s\"", path);
	} else if (uses_zone)
		ring_set_period(ring, period);
	tg->tg_ring = uses_zone ? ring : NULL;
	for (c = caches; c != NULL; c = c->c_next)
		c->c_used = 0;
	for (sc = g->g_http->hc_servers; sc != NULL; sc = sc->sc_next) {
		ss = &sc->sc_ssl;
		if (ss->ss_ctx == NULL)
			continue;
		if (ss->ss_nticket_keys > 0 && keyset_get(g, tg, ss) == NULL)
			return -1;
		if (ss->ss_cache == SSLC_SHARED)
			cache_get(g, ss);
	}
	if (gen_caches(g, tg) == -1)
		return -1;
	for (sc = g->g_http->hc_servers; sc != NULL; sc = sc->sc_next) {
		ss = &sc->sc_ssl;
		if (ss->ss_ctx == NULL)
			continue;
		if ((tc = arena_alloc(g->g_arena, sizeof(*tc))) == NULL)
			return -1;
		tc->tc_gen = tg;
		if (ss->ss_nticket_keys > 0)
			tc->tc_keys = keyset_get(g, tg, ss);
		if (ss->ss_cache == SSLC_SHARED)
			for (n = 0; n < tg->tg_ncaches; n++)
				if (strcmp(tg->tg_caches[n]->c_name,
				    ss->ss_cache_name) == 0)
					tc->tc_cache = tg->tg_caches[n];
		if (ctx_install(ss->ss_ctx, tc, ss) == -1) {
			log_msg(LOG_EMERG, 0, "%s:%d: cannot set up the TLS "
			    "sessions of the server", sc->sc_file, sc->sc_line);
			return -1;
		}
	}
	caches_prune();
	g->g_tls = tg->tg_ring != NULL ? tg->tg_ring->kr_zone : NULL;
	return 0;
}
