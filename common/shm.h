/*
 * shm.h: named shared zones, each an mmap(MAP_SHARED) of a file, so that
 * the state in them survives a reload (the master keeps the mapping) and
 * a binary upgrade (the new master maps the same file).
 *
 * A zone begins with a header: magic, layout version, size, a
 * generation counter and the boot it was made in.  Opening a zone whose
 * file has a matching header reuses its contents; otherwise the zone is
 * made anew, in a new file renamed over the old one, so that processes
 * still mapping the old one are not hurt.  Contents hold offsets from
 * the zone's start, never pointers.  One robust process-shared mutex
 * per zone guards its structures; counters are C11 atomics.
 */
#ifndef PORTICO_SHM_H
#define PORTICO_SHM_H

#include "core.h"

#include <pthread.h>
#include <stdatomic.h>

#include "balance.h"

#define SHM_MAGIC	0x454e4f5a4f435250ULL	/* "PRCOZONE" */
#define SHM_NAME_MAX	32

struct shm_header {
	uint64_t		 sh_magic;
	uint32_t		 sh_layout;	/* of the contents: the caller's */
	uint32_t		 sh_hdr_size;	/* sizeof(struct shm_header) */
	uint64_t		 sh_size;
	_Atomic uint64_t	 sh_generation;	/* +1 at each attach */
	char			 sh_boot[40];	/* kernel boot_id */
	char			 sh_name[SHM_NAME_MAX];
	pthread_mutex_t		 sh_mutex;
	uint64_t		 sh_next;	/* bump allocator, locked */
	uint64_t		 sh_root;	/* the contents' root, or 0 */
};

struct shm_zone {
	char			*z_path;
	char			*z_base;
	size_t			 z_size;
	int			 z_fresh;	/* made anew by this open */
	struct shm_header	*z_hdr;
};

struct shm_zone	*shm_zone_open(const char *path, const char *name, size_t size,
		    uint32_t layout);
void		 shm_zone_close(struct shm_zone *);
int		 shm_lock(struct shm_zone *);
void		 shm_unlock(struct shm_zone *);
uint64_t	 shm_alloc_locked(struct shm_zone *, size_t);
uint64_t	 shm_alloc(struct shm_zone *, size_t);
void		*shm_ptr(const struct shm_zone *, uint64_t off);

/*
 * The health zone: one slot of struct balance_health per peer, found by
 * the key (upstream name, peer address), so that a peer keeps its state
 * across reloads and upgrades as long as both stay the same.
 */
#define SHM_HEALTH_LAYOUT	1
#define SHM_HEALTH_FILE		"portico.health"	/* beside the pid file */
#define SHM_HEALTH_KEY_MAX	192

struct shm_health_slot {
	char			 hs_key[SHM_HEALTH_KEY_MAX];
	uint32_t		 hs_keylen;	/* 0: a free slot */
	uint32_t		 hs_pad;
	uint64_t		 hs_gen;	/* the last attach that used it */
	struct balance_health	 hs_h;
};

struct shm_health {
	uint32_t		 hh_nslots;
	uint32_t		 hh_used;
	uint64_t		 hh_slots;	/* offset of the slot array */
};

struct gen;

size_t		 shm_health_size(int nslots);
struct shm_zone	*shm_health_open(const char *path, int nslots);
int		 shm_health_slot(struct shm_zone *, const char *upstream,
		    const char *peer, uint64_t gen);
struct balance_health *shm_health_get(struct shm_zone *, int slot);
int		 shm_health_attach(struct shm_zone *, struct gen *);
struct balance	*shm_health_balancer(struct shm_zone *,
		    const struct conf_upstream *, struct arena *,
		    uint64_t seed);

#endif
