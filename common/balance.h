/*
 * balance.h: choosing a peer of an upstream.  The functions are pure
 * over the peers of the config (struct conf_peer) and per-peer state
 * the caller passes in: shared state (struct balance_health, which the
 * health zone holds for every worker, see shm.h) and the worker's own
 * smooth round-robin weights (struct balance_rr).  The clock is an
 * argument, so tests can run them with a fake one.
 *
 * Use, per request:
 *	uint8_t tried[BALANCE_TRIED_BYTES(u->u_npeers)] = { 0 };
 *	i = balance_pick(&b, client, key, keylen, tried, now);
 *	(-1: no peer is available, a 502)
 *	... connect and exchange with u->u_peers[i] ...
 *	balance_done(&b, i, failed, now);
 *	(and, per proxy_next_upstream, balance_pick() again with tried)
 */
#ifndef PORTICO_BALANCE_H
#define PORTICO_BALANCE_H

#include "core.h"

#include <stdatomic.h>
#include <sys/socket.h>

#include "arena.h"
#include "upstream.h"

/* bh_state, written by the keeper's active checks */
enum {
	BH_UP = 0,
	BH_DOWN,		/* failed health_check: not chosen */
};

/* what the workers share about a peer; all atomics, no pointers */
struct balance_health {
	_Atomic int	 bh_state;
	_Atomic int	 bh_fails;	/* passive: failures counted */
	_Atomic msec_t	 bh_accessed;	/* the last failure */
	_Atomic msec_t	 bh_checked;	/* start of the fail_timeout window */
	_Atomic int	 bh_conns;	/* active connections */
	_Atomic int64_t	 bh_requests;
	_Atomic int64_t	 bh_responses;
	_Atomic int64_t	 bh_bytes_in;
	_Atomic int64_t	 bh_bytes_out;
	_Atomic msec_t	 bh_last_check;	/* the last active check */
	_Atomic int	 bh_check_fails;	/* consecutive, active */
	_Atomic int	 bh_check_passes;
};

/* a worker's own: nginx's current_weight and effective_weight */
struct balance_rr {
	int64_t		 rr_current;
	int64_t		 rr_effective;
};

struct balance {
	const struct conf_upstream *b_ups;
	struct balance_health	**b_health;	/* u_npeers of them */
	struct balance_rr	*b_rr;		/* u_npeers of them */
	uint64_t		 b_rand;	/* random, random two */
};

#define BALANCE_TRIED_BYTES(n)	(((n) + 7) / 8)

/* hash ... consistent: at most this many points on a ring */
#define BALANCE_RING_MAX	(1 << 22)

void	 balance_init(struct balance *, const struct conf_upstream *,
	    struct balance_health **, struct balance_rr *, uint64_t seed);
int	 balance_pick(struct balance *, const struct sockaddr *client,
	    const char *key, size_t keylen, uint8_t *tried, msec_t now);
int	 balance_done(struct balance *, int peer, int failed, msec_t now);
int	 balance_checked_down(const struct conf_upstream *,
	    const struct balance_health *);
int	 balance_is_available(const struct balance *, int peer, msec_t now);

/* the methods one by one (balance_pick() chooses by u_method) */
int	 balance_rr(struct balance *, uint8_t *tried, msec_t now);
int	 balance_least_conn(struct balance *, uint8_t *tried, msec_t now);
int	 balance_ip_hash(struct balance *, const struct sockaddr *,
	    uint8_t *tried, msec_t now);
int	 balance_hash(struct balance *, const char *key, size_t len,
	    uint8_t *tried, msec_t now);
int	 balance_chash(struct balance *, const char *key, size_t len,
	    uint8_t *tried, msec_t now);
int	 balance_random(struct balance *, int two, uint8_t *tried,
	    msec_t now);

/* the keeper's active checks (health_check) */
int	 balance_check_is_due(const struct balance_health *,
	    const struct conf_hc *, msec_t now);
int	 balance_check_response(const struct conf_hc *, int status,
	    const char *body, size_t len);
int	 balance_check_done(struct balance_health *, const struct conf_hc *,
	    int passed, msec_t now);

struct ups_ring *balance_ring_build(struct arena *,
	    const struct conf_upstream *, char *err, size_t errlen);
uint32_t balance_crc32(const void *, size_t);

#endif
