/*
 * ups.c: the balancers of a worker, one per upstream of the generation.
 * The health of each peer (fails, connections, counters, the keeper's
 * verdict) lives in the health zone that the master maps before the
 * fork, so every worker sees the same; a peer without a slot there
 * (no zone, or a full one) keeps it in the worker's own memory.  The
 * smooth round-robin weights are the worker's own, as in nginx.
 */
#include "core.h"

#include <sys/random.h>

#include "log.h"
#include "shm.h"
#include "ups.h"

struct ups_rt {
	struct balance		 ur_b;
};

static struct ups_rt *rts;
static int nrts;

int
ups_init(struct gen *g)
{
	struct conf_upstream *u;
	struct balance_health **h, *local;
	struct balance_rr *rr;
	uint64_t seed;
	int i, n = 0;

	if (g->g_http == NULL)
		return 0;
	for (u = g->g_http->hc_upstreams; u != NULL; u = u->u_next)
		n++;
	if (n == 0)
		return 0;
	if ((rts = calloc(n, sizeof(*rts))) == NULL)
		return -1;
	nrts = n;
	if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
		seed = (uint64_t)getpid() * 0x9e3779b97f4a7c15ULL;
	for (u = g->g_http->hc_upstreams; u != NULL; u = u->u_next) {
		h = calloc(u->u_npeers, sizeof(*h));
		rr = calloc(u->u_npeers, sizeof(*rr));
		local = calloc(u->u_npeers, sizeof(*local));
		if (h == NULL || rr == NULL || local == NULL)
			return -1;
		for (i = 0; i < u->u_npeers; i++) {
			h[i] = NULL;
			if (g->g_health != NULL && u->u_peers[i].p_slot != -1)
				h[i] = shm_health_get(g->g_health,
				    u->u_peers[i].p_slot);
			if (h[i] == NULL)
				h[i] = &local[i];
		}
		balance_init(&rts[u->u_index].ur_b, u, h, rr, seed + u->u_index);
	}
	return 0;
}

struct balance *
ups_balance(const struct conf_upstream *u)
{
	if (u->u_index < 0 || u->u_index >= nrts)
		return NULL;
	return &rts[u->u_index].ur_b;
}
