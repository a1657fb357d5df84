/*
 * admin.c: "portico -a command": commands that read the shared zones of
 * a running portico.  The zones are files beside the pid file, mapped
 * read-only here: reading them takes no lock and changes nothing.
 *
 *   health	the upstream peers of the configuration, with the state
 *		the workers and the keeper share
 */
#include "core.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "admin.h"
#include "balance.h"
#include "clock.h"
#include "log.h"
#include "shm.h"
#include "upstream.h"

struct ro_zone {
	const char	*rz_base;
	size_t		 rz_size;
};

static const void *
ro_ptr(const struct ro_zone *z, uint64_t off, size_t len)
{
	if (off == 0 || off > z->rz_size || len > z->rz_size - off)
		return NULL;
	return z->rz_base + off;
}

static int
ro_open(const char *path, struct ro_zone *z)
{
	const struct shm_header *h;
	struct stat st;
	void *p;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		fprintf(stderr, "portico: cannot open \"%s\": %s (is portico "
		    "running with upstreams?)\n", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || (size_t)st.st_size < sizeof(*h)) {
		fprintf(stderr, "portico: \"%s\" is not a zone\n", path);
		close(fd);
		return -1;
	}
	p = mmap(NULL, st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		fprintf(stderr, "portico: mmap() \"%s\": %s\n", path,
		    strerror(errno));
		return -1;
	}
	h = p;
	if (h->sh_magic != SHM_MAGIC || h->sh_layout != SHM_HEALTH_LAYOUT ||
	    h->sh_size != (uint64_t)st.st_size) {
		fprintf(stderr, "portico: \"%s\" is not a health zone of this "
		    "version\n", path);
		munmap(p, st.st_size);
		return -1;
	}
	z->rz_base = p;
	z->rz_size = st.st_size;
	return 0;
}

/* the slot of (upstream, peer), as shm_health_slot() files it */
static const struct balance_health *
ro_find(const struct ro_zone *z, const char *ups, const char *peer)
{
	const struct shm_header *hdr = (const void *)z->rz_base;
	const struct shm_health *hh;
	const struct shm_health_slot *slots;
	char key[SHM_HEALTH_KEY_MAX];
	size_t ul = strlen(ups), pl = strlen(peer), kl = ul + 1 + pl;
	uint32_t i;

	if (kl > sizeof(key) ||
	    (hh = ro_ptr(z, hdr->sh_root, sizeof(*hh))) == NULL ||
	    (slots = ro_ptr(z, hh->hh_slots, (size_t)hh->hh_nslots *
	    sizeof(*slots))) == NULL)
		return NULL;
	memcpy(key, ups, ul);
	key[ul] = '\0';
	memcpy(key + ul + 1, peer, pl);
	for (i = 0; i < hh->hh_nslots; i++)
		if (slots[i].hs_keylen == kl &&
		    memcmp(slots[i].hs_key, key, kl) == 0)
			return &slots[i].hs_h;
	return NULL;
}

static const char *
peer_state(const struct conf_upstream *u, const struct conf_peer *p,
    const struct balance_health *h, msec_t now)
{
	if (p->p_down)
		return "disabled";
	if (balance_checked_down(u, h))
		return "down";
	if (p->p_max_fails && atomic_load(&h->bh_fails) >= p->p_max_fails &&
	    now - atomic_load(&h->bh_checked) <= p->p_fail_timeout)
		return "failed";
	return p->p_backup ? "backup" : "up";
}

static int
admin_health(struct gen *g)
{
	struct conf_upstream *u;
	const struct balance_health *h;
	struct ro_zone z;
	char path[PATH_MAX], ago[32], *slash;
	msec_t now, last;
	int i;

	if (g->g_http == NULL || g->g_http->hc_upstreams == NULL) {
		fprintf(stderr, "portico: the configuration has no upstreams\n");
		return 1;
	}
	snprintf(path, sizeof(path), "%s", g->g_main->mc_pid);
	if ((slash = strrchr(path, '/')) != NULL)
		slash[1] = '\0';
	else
		path[0] = '\0';
	snprintf(path + strlen(path), sizeof(path) - strlen(path), "%s",
	    SHM_HEALTH_FILE);
	if (ro_open(path, &z) == -1)
		return 1;
	clock_update();
	now = clock_now();
	printf("%-20s %-28s %-8s %5s %5s %10s %10s %s\n", "UPSTREAM", "PEER",
	    "STATE", "FAILS", "CONNS", "REQUESTS", "RESPONSES", "CHECKED");
	for (u = g->g_http->hc_upstreams; u != NULL; u = u->u_next) {
		for (i = 0; i < u->u_npeers; i++) {
			const struct conf_peer *p = &u->u_peers[i];

			if ((h = ro_find(&z, u->u_name, p->p_name)) == NULL) {
				printf("%-20s %-28s %-8s\n", u->u_name,
				    p->p_name, "unknown");
				continue;
			}
			last = atomic_load(&h->bh_last_check);
			if (u->u_hc == NULL || last == 0)
				snprintf(ago, sizeof(ago), "-");
			else
				snprintf(ago, sizeof(ago), "%.1fs ago",
				    (double)(now - last) / 1000);
			printf("%-20s %-28s %-8s %5d %5d %10lld %10lld %s\n",
			    u->u_name, p->p_name, peer_state(u, p, h, now),
			    atomic_load(&h->bh_fails), atomic_load(&h->bh_conns),
			    (long long)atomic_load(&h->bh_requests),
			    (long long)atomic_load(&h->bh_responses), ago);
		}
	}
	munmap((void *)z.rz_base, z.rz_size);
	return 0;
}

int
admin_run(struct gen *g, const char *cmd)
{
	if (strcmp(cmd, "health") == 0)
		return admin_health(g);
	fprintf(stderr, "portico: unknown admin command \"%s\" (known: "
	    "health)\n", cmd);
	return 1;
}
