/*
 * balance.c: nginx's balancing methods over an upstream's peers.
 *
 * Availability is nginx's: a peer is skipped when it is down (in the
 * config, or by the active checks), when it has failed max_fails times
 * and the last failure is less than fail_timeout old, or when it has
 * max_conns connections.  Once fail_timeout has passed, the peer may
 * be chosen again; choosing it opens a new window (bh_checked), so one
 * request probes it: a success clears its failures, a failure shuts it
 * out for another fail_timeout.  max_fails=0 never shuts a peer out.
 *
 * Backups are tried only by round-robin and least_conn, when no primary
 * is available; the hash methods and random fall back to round-robin
 * after 20 unavailable picks, as nginx does.
 */
#include "core.h"

#include <netinet/in.h>

#include "balance.h"

#define MAX_TRIES	20	/* of the hash methods and random */

static int
is_tried(const uint8_t *tried, int i)
{
	return tried != NULL && (tried[i / 8] & (1 << (i % 8)));
}

static void
set_tried(uint8_t *tried, int i)
{
	if (tried != NULL)
		tried[i / 8] |= 1 << (i % 8);
}

void
balance_init(struct balance *b, const struct conf_upstream *u,
    struct balance_health **h, struct balance_rr *rr, uint64_t seed)
{
	int i;

	b->b_ups = u;
	b->b_health = h;
	b->b_rr = rr;
	b->b_rand = seed ? seed : 0x9e3779b97f4a7c15ULL;
	for (i = 0; i < u->u_npeers; i++) {
		rr[i].rr_current = 0;
		rr[i].rr_effective = u->u_peers[i].p_weight;
	}
}

/*
 * Taken out by active checks.  Only while the group has health_check: a
 * check of an older configuration's keeper may end after a reload that
 * dropped it, and nothing would bring the peer back.
 */
int
balance_checked_down(const struct conf_upstream *u,
    const struct balance_health *h)
{
	return u->u_hc != NULL && atomic_load(&h->bh_state) == BH_DOWN;
}

int
balance_is_available(const struct balance *b, int i, msec_t now)
{
	const struct conf_peer *p = &b->b_ups->u_peers[i];
	struct balance_health *h = b->b_health[i];

	if (p->p_down || balance_checked_down(b->b_ups, h))
		return 0;
	if (p->p_max_fails && atomic_load(&h->bh_fails) >= p->p_max_fails &&
	    now - atomic_load(&h->bh_checked) <= p->p_fail_timeout)
		return 0;
	if (p->p_max_conns && atomic_load(&h->bh_conns) >= p->p_max_conns)
		return 0;
	return 1;
}

/* the chosen one: counted, and a window opened when the last is over */
static int
chosen(struct balance *b, int i, uint8_t *tried, msec_t now)
{
	const struct conf_peer *p = &b->b_ups->u_peers[i];
	struct balance_health *h = b->b_health[i];

	if (now - atomic_load(&h->bh_checked) > p->p_fail_timeout)
		atomic_store(&h->bh_checked, now);
	atomic_fetch_add(&h->bh_conns, 1);
	atomic_fetch_add(&h->bh_requests, 1);
	set_tried(tried, i);
	return i;
}

/* one step of smooth weighted round-robin over the peers in [lo, hi) */
static int
rr_step(struct balance *b, int lo, int hi, uint8_t *tried, msec_t now,
    int conns_num, int conns_den)
{
	const struct conf_peer *peers = b->b_ups->u_peers;
	struct balance_rr *rr = b->b_rr;
	int64_t total = 0;
	int i, best = -1;

	for (i = lo; i < hi; i++) {
		if (is_tried(tried, i) || !balance_is_available(b, i, now))
			continue;
		/* least_conn's ties: only the peers with the fewest */
		if (conns_den > 0 && (int64_t)atomic_load(
		    &b->b_health[i]->bh_conns) * conns_den !=
		    (int64_t)conns_num * peers[i].p_weight)
			continue;
		rr[i].rr_current += rr[i].rr_effective;
		total += rr[i].rr_effective;
		if (rr[i].rr_effective < peers[i].p_weight)
			rr[i].rr_effective++;
		if (best == -1 || rr[i].rr_current > rr[best].rr_current)
			best = i;
	}
	if (best != -1)
		rr[best].rr_current -= total;
	return best;
}

int
balance_rr(struct balance *b, uint8_t *tried, msec_t now)
{
	const struct conf_upstream *u = b->b_ups;
	int i;

	/* a single peer is never shut out by its failures, as nginx */
	if (u->u_npeers == 1) {
		const struct conf_peer *p = &u->u_peers[0];
		struct balance_health *h = b->b_health[0];

		if (is_tried(tried, 0) || p->p_down ||
		    balance_checked_down(u, h) ||
		    (p->p_max_conns &&
		    atomic_load(&h->bh_conns) >= p->p_max_conns))
			return -1;
		return chosen(b, 0, tried, now);
	}
	if ((i = rr_step(b, 0, u->u_nprimary, tried, now, 0, 0)) == -1 &&
	    (i = rr_step(b, u->u_nprimary, u->u_npeers, tried, now, 0, 0)) ==
	    -1)
		return -1;
	return chosen(b, i, tried, now);
}

/*
 * The fewest connections for the weight (conns / weight, compared by
 * cross-multiplying), ties broken by round-robin among the tied.
 */
static int
least_conn_in(struct balance *b, int lo, int hi, uint8_t *tried, msec_t now)
{
	const struct conf_peer *peers = b->b_ups->u_peers;
	int64_t c, bc = 0;
	int i, best = -1, many = 0;

	for (i = lo; i < hi; i++) {
		if (is_tried(tried, i) || !balance_is_available(b, i, now))
			continue;
		c = atomic_load(&b->b_health[i]->bh_conns);
		if (best == -1 || c * peers[best].p_weight <
		    bc * peers[i].p_weight) {
			best = i;
			bc = c;
			many = 0;
		} else if (c * peers[best].p_weight == bc * peers[i].p_weight)
			many = 1;
	}
	if (best == -1 || !many)
		return best;
	return rr_step(b, best, hi, tried, now, (int)bc, peers[best].p_weight);
}

int
balance_least_conn(struct balance *b, uint8_t *tried, msec_t now)
{
	const struct conf_upstream *u = b->b_ups;
	int i;

	if (u->u_npeers == 1)
		return balance_rr(b, tried, now);
	if ((i = least_conn_in(b, 0, u->u_nprimary, tried, now)) == -1 &&
	    (i = least_conn_in(b, u->u_nprimary, u->u_npeers, tried, now)) ==
	    -1)
		return -1;
	return chosen(b, i, tried, now);
}

/* the primary that w falls on, each taking weight-sized room */
static int
by_weight(const struct conf_upstream *u, uint64_t w)
{
	int i;

	w %= (uint64_t)u->u_total_weight;
	for (i = 0; i < u->u_nprimary - 1; i++) {
		if (w < (uint64_t)u->u_peers[i].p_weight)
			break;
		w -= u->u_peers[i].p_weight;
	}
	return i;
}

static int
usable(struct balance *b, int i, uint8_t *tried, msec_t now)
{
	return !is_tried(tried, i) && balance_is_available(b, i, now);
}

/*
 * nginx's ip_hash: the first three bytes of an IPv4 address (its /24),
 * the whole of an IPv6 one; on an unavailable peer the hash goes on
 * from where it was over the same bytes.
 */
int
balance_ip_hash(struct balance *b, const struct sockaddr *sa,
    uint8_t *tried, msec_t now)
{
	const struct conf_upstream *u = b->b_ups;
	const unsigned char *addr;
	static const unsigned char none[3];
	uint32_t hash = 89;
	int len, i, tries;

	if (u->u_nprimary == 1)
		return balance_rr(b, tried, now);
	if (sa != NULL && sa->sa_family == AF_INET) {
		addr = (const unsigned char *)
		    &((const struct sockaddr_in *)sa)->sin_addr;
		len = 3;
	} else if (sa != NULL && sa->sa_family == AF_INET6) {
		addr = (const unsigned char *)
		    &((const struct sockaddr_in6 *)sa)->sin6_addr;
		len = 16;
	} else {
		/* unix sockets: one pseudo address, as nginx */
		addr = none;
		len = 3;
	}
	for (tries = 0; tries <= MAX_TRIES; tries++) {
		for (i = 0; i < len; i++)
			hash = (hash * 113 + addr[i]) % 6271;
		i = by_weight(u, hash);
		if (usable(b, i, tried, now))
			return chosen(b, i, tried, now);
	}
	return balance_rr(b, tried, now);
}

/* crc32 (IEEE 802.3, as zlib and nginx's ngx_crc32) */
static uint32_t crc_table[256];

static void
crc_init_table(void)
{
	uint32_t c;
	int i, k;

	for (i = 0; i < 256; i++) {
		c = i;
		for (k = 0; k < 8; k++)
			c = c & 1 ? 0xedb88320U ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
}

static uint32_t
crc_update(uint32_t crc, const void *data, size_t len)
{
	const unsigned char *p = data;

	if (crc_table[1] == 0)
		crc_init_table();
	while (len-- > 0)
		crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return crc;
}

uint32_t
balance_crc32(const void *data, size_t len)
{
	return crc_update(0xffffffffU, data, len) ^ 0xffffffffU;
}

/*
 * nginx's hash (compatible with Cache::Memcached):
 * ((crc32([REHASH] KEY) >> 16) & 0x7fff) + PREV_HASH, the rehash count
 * omitted the first time.
 */
int
balance_hash(struct balance *b, const char *key, size_t len, uint8_t *tried,
    msec_t now)
{
	const struct conf_upstream *u = b->b_ups;
	uint64_t hash = 0;
	uint32_t crc;
	char num[24];
	int tries, i, n;

	if (u->u_nprimary < 2 || len == 0)
		return balance_rr(b, tried, now);
	for (tries = 0; tries <= MAX_TRIES; tries++) {
		crc = 0xffffffffU;
		if (tries > 0) {
			n = snprintf(num, sizeof(num), "%d", tries);
			crc = crc_update(crc, num, n);
		}
		crc = crc_update(crc, key, len) ^ 0xffffffffU;
		hash += (crc >> 16) & 0x7fff;
		i = by_weight(u, hash);
		if (usable(b, i, tried, now))
			return chosen(b, i, tried, now);
	}
	return balance_rr(b, tried, now);
}

static int
point_cmp(const void *a, const void *b)
{
	const struct ups_point *x = a, *y = b;

	return x->pt_hash < y->pt_hash ? -1 : x->pt_hash > y->pt_hash;
}

/*
 * Ketama-style ring, as nginx's "consistent": 160 points per unit of
 * weight for each server line, point j the crc32 of "host\0port" and
 * the previous point's 4 bytes.
 */
struct ups_ring *
balance_ring_build(struct arena *a, const struct conf_upstream *u, char *err,
    size_t errlen)
{
	struct ups_ring *r;
	const struct conf_peer *p;
	const char *s, *host, *port;
	size_t hl, pl, j, len;
	uint32_t base, hash, prev;
	unsigned char pb[4];
	int64_t total = 0;
	int i, k, last = -1;

	for (i = 0; i < u->u_nprimary; i++)
		if (u->u_peers[i].p_server_idx != last) {
			total += (int64_t)u->u_peers[i].p_weight * 160;
			last = u->u_peers[i].p_server_idx;
		}
	if (total > BALANCE_RING_MAX) {
		snprintf(err, errlen, "weights too large for \"hash ... "
		    "consistent\" (%lld points, at most %d)", (long long)total,
		    BALANCE_RING_MAX);
		return NULL;
	}
	r = arena_alloc(a, sizeof(*r));
	r->r_points = arena_alloc(a, total * sizeof(*r->r_points));
	last = -1;
	for (i = 0; i < u->u_nprimary; i++) {
		p = &u->u_peers[i];
		if (p->p_server_idx == last)
			continue;
		last = p->p_server_idx;
		s = p->p_server;
		len = strlen(s);
		host = s;
		hl = len;
		port = "";
		pl = 0;
		if (strncasecmp(s, "unix:", 5) == 0) {
			host = s + 5;
			hl = len - 5;
		} else {
			for (j = 0; j < len; j++) {
				char c = s[len - j - 1];

				if (c == ':') {
					hl = len - j - 1;
					port = s + len - j;
					pl = j;
					break;
				}
				if (c < '0' || c > '9')
					break;
			}
		}
		base = crc_update(0xffffffffU, host, hl);
		base = crc_update(base, "", 1);
		base = crc_update(base, port, pl);
		prev = 0;
		for (k = 0; k < p->p_weight * 160; k++) {
			/* nginx hashes the previous point as it lies in memory */
			memcpy(pb, &prev, 4);
			hash = crc_update(base, pb, 4) ^ 0xffffffffU;
			r->r_points[r->r_n].pt_hash = hash;
			r->r_points[r->r_n++].pt_server = p->p_server_idx;
			prev = hash;
		}
	}
	qsort(r->r_points, r->r_n, sizeof(*r->r_points), point_cmp);
	/* one point per hash */
	for (i = 0, k = 1; k < r->r_n; k++)
		if (r->r_points[i].pt_hash != r->r_points[k].pt_hash)
			r->r_points[++i] = r->r_points[k];
	if (r->r_n > 0)
		r->r_n = i + 1;
	return r;
}

/* the first point at or after hash, or r_n */
static int
ring_find(const struct ups_ring *r, uint32_t hash)
{
	int lo = 0, hi = r->r_n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (r->r_points[mid].pt_hash < hash)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int
balance_chash(struct balance *b, const char *key, size_t len, uint8_t *tried,
    msec_t now)
{
	const struct conf_upstream *u = b->b_ups;
	const struct ups_ring *r = u->u_ring;
	const struct conf_peer *peers = u->u_peers;
	struct balance_rr *rr = b->b_rr;
	int64_t total;
	int tries, i, best, server;
	unsigned at;

	if (u->u_nprimary < 2 || len == 0 || r == NULL || r->r_n == 0)
		return balance_rr(b, tried, now);
	at = ring_find(r, balance_crc32(key, len));
	for (tries = 0; tries <= MAX_TRIES; tries++, at++) {
		server = r->r_points[at % r->r_n].pt_server;
		/* the addresses of that server line, by round-robin */
		best = -1;
		total = 0;
		for (i = 0; i < u->u_nprimary; i++) {
			if (peers[i].p_server_idx != server ||
			    !usable(b, i, tried, now))
				continue;
			rr[i].rr_current += rr[i].rr_effective;
			total += rr[i].rr_effective;
			if (rr[i].rr_effective < peers[i].p_weight)
				rr[i].rr_effective++;
			if (best == -1 || rr[i].rr_current > rr[best].rr_current)
				best = i;
		}
		if (best != -1) {
			rr[best].rr_current -= total;
			return chosen(b, best, tried, now);
		}
	}
	return balance_rr(b, tried, now);
}

/* xorshift64*: the caller seeds it, so tests are repeatable */
static uint64_t
next_rand(struct balance *b)
{
	uint64_t x = b->b_rand;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	b->b_rand = x;
	return (x * 0x2545f4914f6cdd1dULL) >> 11;
}

/*
 * random: a primary by weight; random two: two different ones, and the
 * one with fewer connections for its weight (least_conn, nginx's only
 * choice for two).
 */
int
balance_random(struct balance *b, int two, uint8_t *tried, msec_t now)
{
	const struct conf_upstream *u = b->b_ups;
	const struct conf_peer *peers = u->u_peers;
	int tries, i, first = -1;
	int64_t c1, c2;

	if (u->u_nprimary == 1)
		return balance_rr(b, tried, now);
	for (tries = 0; tries <= MAX_TRIES; tries++) {
		i = by_weight(u, next_rand(b));
		if (!usable(b, i, tried, now) || i == first)
			continue;
		if (!two)
			return chosen(b, i, tried, now);
		if (first == -1) {
			first = i;
			continue;
		}
		c1 = atomic_load(&b->b_health[first]->bh_conns);
		c2 = atomic_load(&b->b_health[i]->bh_conns);
		if (c2 * peers[first].p_weight > c1 * peers[i].p_weight)
			i = first;
		return chosen(b, i, tried, now);
	}
	/* only one available was found: it is the choice */
	if (first != -1)
		return chosen(b, first, tried, now);
	return balance_rr(b, tried, now);
}

int
balance_pick(struct balance *b, const struct sockaddr *client,
    const char *key, size_t keylen, uint8_t *tried, msec_t now)
{
	switch (b->b_ups->u_method) {
	case UPS_LEAST_CONN:
		return balance_least_conn(b, tried, now);
	case UPS_IP_HASH:
		return balance_ip_hash(b, client, tried, now);
	case UPS_HASH:
		return balance_hash(b, key, keylen, tried, now);
	case UPS_CHASH:
		return balance_chash(b, key, keylen, tried, now);
	case UPS_RANDOM:
		return balance_random(b, b->b_ups->u_random_two, tried, now);
	}
	return balance_rr(b, tried, now);
}

/*
 * The exchange with peer i is over.  A failure counts against the peer
 * and lowers its effective weight, which then climbs back by one per
 * round-robin pass.  Returns 1 when this failure shuts the peer out
 * (nginx logs "upstream server temporarily disabled"), else 0.
 */
int
balance_done(struct balance *b, int i, int failed, msec_t now)
{
	const struct conf_peer *p = &b->b_ups->u_peers[i];
	struct balance_health *h = b->b_health[i];
	struct balance_rr *rr = &b->b_rr[i];
	int fails;

	if (atomic_fetch_sub(&h->bh_conns, 1) <= 0)
		atomic_store(&h->bh_conns, 0);
	if (!failed) {
		atomic_fetch_add(&h->bh_responses, 1);
		if (atomic_load(&h->bh_accessed) < atomic_load(&h->bh_checked))
			atomic_store(&h->bh_fails, 0);
		return 0;
	}
	fails = atomic_fetch_add(&h->bh_fails, 1) + 1;
	atomic_store(&h->bh_accessed, now);
	atomic_store(&h->bh_checked, now);
	if (p->p_max_fails == 0)
		return 0;
	rr->rr_effective -= p->p_weight / p->p_max_fails;
	if (rr->rr_effective < 0)
		rr->rr_effective = 0;
	return fails == p->p_max_fails;
}

/* active checks: one every hc_interval per peer */
int
balance_check_is_due(const struct balance_health *h, const struct conf_hc *hc,
    msec_t now)
{
	msec_t last = atomic_load(&h->bh_last_check);

	return last == 0 || now - last >= hc->hc_interval;
}

/* a check's answer passes: its status in a range, its body matching */
int
balance_check_response(const struct conf_hc *hc, int status,
    const char *body, size_t len)
{
	int i;

	for (i = 0; i < hc->hc_nranges; i++)
		if (status >= hc->hc_lo[i] && status <= hc->hc_hi[i])
			break;
	if (i == hc->hc_nranges)
		return 0;
	if (hc->hc_body != NULL &&
	    regex_match(hc->hc_body, body ? body : "", body ? len : 0,
	    NULL) != 1)
		return 0;
	return 1;
}

/*
 * A check ended.  hc_fails failures in a row take the peer out
 * (BH_DOWN), hc_passes passes in a row put it back, its passive
 * failures forgotten.  Returns 1 when the state changed (worth a log
 * line), else 0.
 */
int
balance_check_done(struct balance_health *h, const struct conf_hc *hc,
    int passed, msec_t now)
{
	atomic_store(&h->bh_last_check, now);
	if (passed) {
		atomic_store(&h->bh_check_fails, 0);
		if (atomic_fetch_add(&h->bh_check_passes, 1) + 1 >=
		    hc->hc_passes && atomic_load(&h->bh_state) == BH_DOWN) {
			atomic_store(&h->bh_fails, 0);
			atomic_store(&h->bh_state, BH_UP);
			return 1;
		}
		return 0;
	}
	atomic_store(&h->bh_check_passes, 0);
	if (atomic_fetch_add(&h->bh_check_fails, 1) + 1 >= hc->hc_fails &&
	    atomic_load(&h->bh_state) == BH_UP) {
		atomic_store(&h->bh_state, BH_DOWN);
		return 1;
	}
	return 0;
}
