/*
 * ups.c: the balancers of a worker, one per upstream of the generation,
 * made by shm_health_balancer(): the health of each peer (fails,
 * connections, counters, the keeper's verdict) lives in the health zone
 * that the master maps before the fork, so every worker sees the same;
 * the smooth round-robin weights are the worker's own, as in nginx.
 */
#include "core.h"

#include <sys/random.h>

#include "arena.h"
#include "log.h"
#include "shm.h"
#include "ups.h"

static struct balance **rts;
static int nrts;
static struct arena *ups_arena;	/* the balancers' memory, for the life
					   of the worker */

int
ups_init(struct gen *g)
{
	struct conf_upstream *u;
	uint64_t seed;
	int n = 0;

	if (g->g_http == NULL)
		return 0;
	for (u = g->g_http->hc_upstreams; u != NULL; u = u->u_next)
		n++;
	if (n == 0)
		return 0;
	if ((rts = calloc(n, sizeof(*rts))) == NULL ||
	    (ups_arena = arena_new()) == NULL)
		return -1;
	nrts = n;
	if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
		seed = (uint64_t)getpid() * 0x9e3779b97f4a7c15ULL;
	for (u = g->g_http->hc_upstreams; u != NULL; u = u->u_next)
		if ((rts[u->u_index] = shm_health_balancer(g->g_health, u, ups_arena,
		    seed + u->u_index)) == NULL)
			return -1;
	return 0;
}

struct balance *
ups_balance(const struct conf_upstream *u)
{
	if (u->u_index < 0 || u->u_index >= nrts)
		return NULL;
	return rts[u->u_index];
}
