/*
 * shm.c: file-backed shared zones and the health zone in them.
 */
#include "core.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "conf.h"
#include "log.h"
#include "shm.h"

#define SHM_ALIGN	64

static void
boot_id(char *buf, size_t len)
{
	ssize_t n;
	int fd;

	memset(buf, 0, len);
	if ((fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY |
	    O_CLOEXEC)) == -1)
		return;
	n = read(fd, buf, len - 1);
	close(fd);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\0'))
		buf[--n] = '\0';
}

/*
 * The header of the file at fd fits this zone: same magic, layout,
 * header size (a libc whose mutex differs in size gets a new zone), size
 * and boot (a mutex left locked by a process of a past boot cannot be
 * recovered).
 */
static int
is_reusable(int fd, size_t size, uint32_t layout, const char *boot)
{
	struct shm_header h;
	struct stat st;

	if (fstat(fd, &st) == -1 || (size_t)st.st_size != size)
		return 0;
	if (pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h))
		return 0;
	return h.sh_magic == SHM_MAGIC && h.sh_layout == layout &&
	    h.sh_hdr_size == sizeof(h) && h.sh_size == size &&
	    memcmp(h.sh_boot, boot, sizeof(h.sh_boot)) == 0;
}

static int
mutex_init(pthread_mutex_t *m)
{
	pthread_mutexattr_t a;
	int rc;

	pthread_mutexattr_init(&a);
	pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
	rc = pthread_mutex_init(m, &a);
	pthread_mutexattr_destroy(&a);
	return rc;
}

static void *
map_fd(int fd, size_t size, const char *path)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	if (p == MAP_FAILED) {
		log_warn("mmap() \"%s\" failed", path);
		return NULL;
	}
	return p;
}

/* a clean zone in a new file, then renamed over path */
static void *
make_fresh(const char *path, const char *name, size_t size, uint32_t layout,
    const char *boot)
{
	char tmp[PATH_MAX];
	struct shm_header *h;
	int fd;

	snprintf(tmp, sizeof(tmp), "%s.%d", path, (int)getpid());
	if ((fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) ==
	    -1) {
		log_warn("open() \"%s\" failed", tmp);
		return NULL;
	}
	if (ftruncate(fd, size) == -1) {
		log_warn("ftruncate() \"%s\" failed", tmp);
		goto fail;
	}
	if ((h = map_fd(fd, size, tmp)) == NULL)
		goto fail;
	h->sh_layout = layout;
	h->sh_hdr_size = sizeof(*h);
	h->sh_size = size;
	memcpy(h->sh_boot, boot, sizeof(h->sh_boot));
	snprintf(h->sh_name, sizeof(h->sh_name), "%s", name);
	h->sh_next = (sizeof(*h) + SHM_ALIGN - 1) & ~(uint64_t)(SHM_ALIGN - 1);
	if (mutex_init(&h->sh_mutex) != 0) {
		log_warnx("pthread_mutex_init() for zone \"%s\" failed", name);
		munmap(h, size);
		goto fail;
	}
	/* the magic last: a half-made file is never reused */
	atomic_thread_fence(memory_order_release);
	h->sh_magic = SHM_MAGIC;
	if (rename(tmp, path) == -1) {
		log_warn("rename() \"%s\" to \"%s\" failed", tmp, path);
		munmap(h, size);
		goto fail;
	}
	close(fd);
	return h;
fail:
	close(fd);
	unlink(tmp);
	return NULL;
}

/*
 * Map the zone at path, reusing its contents when the header matches;
 * z_fresh says which.  Opens of the same path by several processes (a
 * master and the new one of a binary upgrade) are serialized with
 * flock() on the file.
 */
struct shm_zone *
shm_zone_open(const char *path, const char *name, size_t size,
    uint32_t layout)
{
	struct shm_zone *z;
	char boot[40];
	void *base = NULL;
	int fd, fresh = 0;

	if (size < sizeof(struct shm_header) + SHM_ALIGN) {
		errno = EINVAL;
		return NULL;
	}
	boot_id(boot, sizeof(boot));
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1) {
		log_warn("open() \"%s\" failed", path);
		return NULL;
	}
	if (flock(fd, LOCK_EX) == -1) {
		log_warn("flock() \"%s\" failed", path);
		close(fd);
		return NULL;
	}
	if (is_reusable(fd, size, layout, boot))
		base = map_fd(fd, size, path);
	else {
		base = make_fresh(path, name, size, layout, boot);
		fresh = 1;
	}
	/*
	 * Unlocked by hand: the mapping holds the open file, so close()
	 * alone would keep the flock for as long as the zone is mapped.
	 */
	flock(fd, LOCK_UN);
	close(fd);
	if (base == NULL)
		return NULL;
	if ((z = calloc(1, sizeof(*z))) == NULL ||
	    (z->z_path = strdup(path)) == NULL) {
		free(z);
		munmap(base, size);
		return NULL;
	}
	z->z_base = base;
	z->z_size = size;
	z->z_hdr = base;
	z->z_fresh = fresh;
	return z;
}

void
shm_zone_close(struct shm_zone *z)
{
	if (z == NULL)
		return;
	munmap(z->z_base, z->z_size);
	free(z->z_path);
	free(z);
}

/*
 * 0: locked.  1: locked, but its last holder died holding it; the
 * mutex is consistent again and the caller should check what it
 * guards.  -1: error.
 */
int
shm_lock(struct shm_zone *z)
{
	int rc = pthread_mutex_lock(&z->z_hdr->sh_mutex);

	if (rc == 0)
		return 0;
	if (rc == EOWNERDEAD) {
		log_warnx("zone \"%s\": a process died holding its lock; "
		    "recovered", z->z_hdr->sh_name);
		pthread_mutex_consistent(&z->z_hdr->sh_mutex);
		return 1;
	}
	if (rc == ENOTRECOVERABLE) {
		/* a holder's recovery was cut short: start the lock over */
		log_warnx("zone \"%s\": its lock was not recoverable; reset",
		    z->z_hdr->sh_name);
		if (mutex_init(&z->z_hdr->sh_mutex) == 0 &&
		    pthread_mutex_lock(&z->z_hdr->sh_mutex) == 0)
			return 1;
	}
	errno = rc;
	return -1;
}

void
shm_unlock(struct shm_zone *z)
{
	pthread_mutex_unlock(&z->z_hdr->sh_mutex);
}

/* an offset of size zeroed bytes, aligned; 0 when the zone is full */
uint64_t
shm_alloc_locked(struct shm_zone *z, size_t size)
{
	struct shm_header *h = z->z_hdr;
	uint64_t off = h->sh_next;

	size = (size + SHM_ALIGN - 1) & ~(size_t)(SHM_ALIGN - 1);
	if (size == 0 || off > z->z_size || size > z->z_size - off)
		return 0;
	h->sh_next = off + size;
	memset(z->z_base + off, 0, size);
	return off;
}

uint64_t
shm_alloc(struct shm_zone *z, size_t size)
{
	uint64_t off;

	if (shm_lock(z) == -1)
		return 0;
	off = shm_alloc_locked(z, size);
	shm_unlock(z);
	return off;
}

void *
shm_ptr(const struct shm_zone *z, uint64_t off)
{
	if (off == 0 || off >= z->z_size)
		return NULL;
	return z->z_base + off;
}

/* the health zone */

size_t
shm_health_size(int nslots)
{
	size_t s = sizeof(struct shm_header) + 2 * SHM_ALIGN +
	    sizeof(struct shm_health) + (size_t)nslots *
	    sizeof(struct shm_health_slot);

	/* whole pages */
	return (s + 4095) & ~(size_t)4095;
}

struct shm_zone *
shm_health_open(const char *path, int nslots)
{
	struct shm_zone *z;
	struct shm_health *hh;
	uint64_t off;

	if (nslots <= 0) {
		errno = EINVAL;
		return NULL;
	}
	z = shm_zone_open(path, "health", shm_health_size(nslots),
	    SHM_HEALTH_LAYOUT);
	if (z == NULL)
		return NULL;
	if (shm_lock(z) == -1) {
		shm_zone_close(z);
		return NULL;
	}
	if (z->z_hdr->sh_root == 0) {
		off = shm_alloc_locked(z, sizeof(*hh));
		hh = shm_ptr(z, off);
		hh->hh_nslots = nslots;
		hh->hh_slots = shm_alloc_locked(z,
		    (size_t)nslots * sizeof(struct shm_health_slot));
		if (hh->hh_slots == 0) {
			shm_unlock(z);
			shm_zone_close(z);
			errno = ENOSPC;
			return NULL;
		}
		z->z_hdr->sh_root = off;
	}
	shm_unlock(z);
	return z;
}

static struct shm_health *
health_root(struct shm_zone *z)
{
	return shm_ptr(z, z->z_hdr->sh_root);
}

static uint32_t
key_hash(const char *k, size_t len)
{
	uint32_t h = 2166136261U;

	while (len-- > 0)
		h = (h ^ (unsigned char)*k++) * 16777619U;
	return h;
}

/*
 * The slot of (upstream, peer), claimed for generation gen: the one
 * with that key, else a free one, else the one least recently claimed
 * by another generation (removed peers).  Open addressing; slots are
 * never emptied, so a probe ends at the first free one.  -1 when every
 * slot belongs to gen already, or the key is too long.
 */
int
shm_health_slot(struct shm_zone *z, const char *upstream, const char *peer,
    uint64_t gen)
{
	struct shm_health *hh = health_root(z);
	struct shm_health_slot *slots, *s;
	char key[SHM_HEALTH_KEY_MAX];
	size_t ul = strlen(upstream), pl = strlen(peer), kl = ul + 1 + pl;
	uint32_t i, at, n, oldest = UINT32_MAX;
	int found = -1;

	if (hh == NULL || kl > sizeof(key))
		return -1;
	memcpy(key, upstream, ul);
	key[ul] = '\0';
	memcpy(key + ul + 1, peer, pl);
	slots = shm_ptr(z, hh->hh_slots);
	n = hh->hh_nslots;
	if (shm_lock(z) == -1)
		return -1;
	at = key_hash(key, kl) % n;
	for (i = 0; i < n; i++) {
		s = &slots[(at + i) % n];
		if (s->hs_keylen == 0) {
			found = (at + i) % n;
			memcpy(s->hs_key, key, kl);
			s->hs_keylen = kl;
			hh->hh_used++;
			break;
		}
		if (s->hs_keylen == kl && memcmp(s->hs_key, key, kl) == 0) {
			found = (at + i) % n;
			break;
		}
		if (s->hs_gen < gen && (oldest == UINT32_MAX ||
		    s->hs_gen < slots[oldest].hs_gen))
			oldest = (at + i) % n;
	}
	if (found == -1 && oldest != UINT32_MAX) {
		/* taken over: the old peer's state is not this one's */
		s = &slots[oldest];
		memset(&s->hs_h, 0, sizeof(s->hs_h));
		memcpy(s->hs_key, key, kl);
		s->hs_keylen = kl;
		found = oldest;
	}
	if (found != -1)
		slots[found].hs_gen = gen;
	shm_unlock(z);
	return found;
}

struct balance_health *
shm_health_get(struct shm_zone *z, int slot)
{
	struct shm_health *hh = health_root(z);
	struct shm_health_slot *slots;

	if (hh == NULL || slot < 0 || (uint32_t)slot >= hh->hh_nslots)
		return NULL;
	slots = shm_ptr(z, hh->hh_slots);
	return &slots[slot].hs_h;
}

/*
 * In the master, before forking the generation's children: give every
 * peer of g its slot (p_slot).  Returns the number of peers left
 * without one (the zone is too small), or -1 on error.
 */
int
shm_health_attach(struct shm_zone *z, struct gen *g)
{
	struct conf_upstream *u;
	uint64_t gen;
	int i, missing = 0;

	if (g->g_http == NULL)
		return 0;
	gen = atomic_fetch_add(&z->z_hdr->sh_generation, 1) + 1;
	for (u = g->g_http->hc_upstreams; u != NULL; u = u->u_next) {
		for (i = 0; i < u->u_npeers; i++) {
			struct balance_health *h;

			u->u_peers[i].p_slot = shm_health_slot(z, u->u_name,
			    u->u_peers[i].p_name, gen);
			if (u->u_peers[i].p_slot == -1) {
				missing++;
				continue;
			}
			/*
			 * Without health_check nothing would bring back a
			 * peer that the checks of an earlier configuration
			 * took out
			 */
			h = shm_health_get(z, u->u_peers[i].p_slot);
			if (u->u_hc == NULL && h != NULL) {
				atomic_store(&h->bh_state, BH_UP);
				atomic_store(&h->bh_check_fails, 0);
			}
		}
	}
	return missing;
}

/*
 * A worker's balancer for u, made once per generation after the fork:
 * the peers' slots in zone z, or (no zone, no slot) state of the
 * worker's own.  NULL when the arena is full.
 */
struct balance *
shm_health_balancer(struct shm_zone *z, const struct conf_upstream *u,
    struct arena *a, uint64_t seed)
{
	struct balance *b = arena_alloc(a, sizeof(*b));
	struct balance_health **hp, *own;
	struct balance_rr *rr;
	int i, n = u->u_npeers;

	hp = arena_alloc(a, n * sizeof(*hp));
	rr = arena_alloc(a, n * sizeof(*rr));
	if (b == NULL || hp == NULL || rr == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		hp[i] = z != NULL ? shm_health_get(z, u->u_peers[i].p_slot) :
		    NULL;
		if (hp[i] == NULL) {
			if ((own = arena_alloc(a, sizeof(*own))) == NULL)
				return NULL;
			hp[i] = own;
		}
	}
	balance_init(b, u, hp, rr, seed);
	return b;
}
