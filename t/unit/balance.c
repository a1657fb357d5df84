/*
 * unit tests for common/balance.c: each method's choices and its spread
 * over 10,000 picks, backups, max_conns, and passive health with a fake
 * clock.  Upstreams are built by hand, as conf_upstream.c would.
 */
#include "../../common/balance.c"
#include "tap.h"

#include <arpa/inet.h>

#define NPICKS	10000
#define MAXP	8

struct fixture {
	struct conf_upstream	 u;
	struct conf_peer	 peers[MAXP];
	struct balance_health	 hs[MAXP];
	struct balance_health	*hp[MAXP];
	struct balance_rr	 rr[MAXP];
	char			 names[MAXP][32];
	struct balance		 b;
	struct arena		*a;
};

/*
 * spec: one letter per peer, a weight digit after it, "+" after a
 * backup: "a5b1c1", "a1b1c1+" (c a backup)
 */
static void
fx_init(struct fixture *f, const char *spec, int method)
{
	int n = 0, i;

	memset(f, 0, sizeof(*f));
	f->a = arena_new();
	for (; *spec; spec++) {
		struct conf_peer *p;

		if (*spec < 'a' || *spec > 'z')
			continue;
		p = &f->peers[n];
		snprintf(f->names[n], sizeof(f->names[n]), "10.0.0.%d:80",
		    *spec - 'a' + 1);
		memcpy(p->p_name, f->names[n], strlen(f->names[n]) + 1);
		p->p_server = f->names[n];
		p->p_server_idx = *spec - 'a';
		p->p_weight = 1;
		if (spec[1] >= '0' && spec[1] <= '9')
			p->p_weight = *++spec - '0';
		if (spec[1] == '+') {
			p->p_backup = 1;
			spec++;
		}
		p->p_max_fails = 1;
		p->p_fail_timeout = 10000;
		p->p_slot = -1;
		n++;
	}
	f->u.u_name = "test";
	f->u.u_method = method;
	f->u.u_peers = f->peers;
	f->u.u_npeers = n;
	for (i = 0; i < n; i++) {
		if (!f->peers[i].p_backup) {
			f->u.u_nprimary++;
			f->u.u_total_weight += f->peers[i].p_weight;
		}
		f->hp[i] = &f->hs[i];
	}
	if (method == UPS_CHASH) {
		char err[128];

		f->u.u_ring = balance_ring_build(f->a, &f->u, err, sizeof(err));
	}
	balance_init(&f->b, &f->u, f->hp, f->rr, 12345);
}

static void
fx_free(struct fixture *f)
{
	arena_free(f->a);
}

/* pick and finish at once, n times: how often each peer was chosen */
static void
spread(struct fixture *f, int n, int *count, const char *keyfmt)
{
	char key[32];
	int i, k;

	memset(count, 0, MAXP * sizeof(int));
	for (i = 0; i < n; i++) {
		snprintf(key, sizeof(key), keyfmt ? keyfmt : "k", i);
		k = balance_pick(&f->b, NULL, key, strlen(key), NULL, 0);
		if (k < 0)
			continue;
		count[k]++;
		balance_done(&f->b, k, 0, 0);
	}
}

static int
within(int count, int n, double share, double tol)
{
	double got = (double)count / n;

	if (got >= share - tol && got <= share + tol)
		return 1;
	printf("#   share %.4f, wanted %.4f +- %.4f\n", got, share, tol);
	return 0;
}

static void
test_rr(void)
{
	static struct conf_hc hc;
	struct fixture f;
	char seq[16];
	int i, k, c[MAXP];

	fx_init(&f, "a5b1c1", UPS_RR);
	for (i = 0; i < 14; i++) {
		k = balance_pick(&f.b, NULL, NULL, 0, NULL, 0);
		seq[i % 7] = 'a' + k;
		balance_done(&f.b, k, 0, 0);
		if (i == 6) {
			seq[7] = '\0';
			is_str(seq, "aabacaa", "smooth WRR {5,1,1}: a a b a c a a");
		}
	}
	seq[7] = '\0';
	is_str(seq, "aabacaa", "and again, the same round");
	spread(&f, NPICKS, c, NULL);
	ok(within(c[0], NPICKS, 5.0 / 7, 0.01) &&
	    within(c[1], NPICKS, 1.0 / 7, 0.01) &&
	    within(c[2], NPICKS, 1.0 / 7, 0.01),
	    "WRR 5:1:1 over %d picks: %d %d %d (within 1%%)", NPICKS, c[0],
	    c[1], c[2]);
	fx_free(&f);

	fx_init(&f, "a1b1c1", UPS_RR);
	f.peers[1].p_down = 1;
	spread(&f, 300, c, NULL);
	ok(c[0] == 150 && c[1] == 0 && c[2] == 150, "a down peer is skipped");
	atomic_store(&f.hs[2].bh_state, BH_DOWN);
	spread(&f, 100, c, NULL);
	ok(c[0] == 50 && c[2] == 50, "a checks' down state without "
	    "health_check (a reload dropped it) is not heeded");
	f.u.u_hc = &hc;
	spread(&f, 100, c, NULL);
	ok(c[0] == 100, "a peer the health checks failed is skipped");
	f.peers[0].p_down = 1;
	is_int(balance_pick(&f.b, NULL, NULL, 0, NULL, 0), -1,
	    "none available: -1");
	fx_free(&f);
}

static void
test_backup(void)
{
	struct fixture f;
	int c[MAXP];
	msec_t now = 100000;

	fx_init(&f, "a1b1c1+d1+", UPS_RR);
	is_int(f.u.u_nprimary, 2, "two primaries, two backups");
	spread(&f, 100, c, NULL);
	ok(c[0] == 50 && c[1] == 50 && c[2] == 0 && c[3] == 0,
	    "backups idle while a primary is available");
	f.peers[0].p_down = 1;
	spread(&f, 100, c, NULL);
	ok(c[1] == 100 && c[2] == 0, "one primary left: still no backup");
	/* b fails: shut out for fail_timeout */
	{
		int k = balance_pick(&f.b, NULL, NULL, 0, NULL, now);

		is_int(k, 1, "b chosen");
		is_int(balance_done(&f.b, k, 1, now), 1,
		    "its failure shuts it out (max_fails=1)");
	}
	spread(&f, 100, c, NULL);
	ok(c[1] == 0 && c[2] == 50 && c[3] == 50,
	    "no primary: the backups by round-robin");
	f.peers[0].p_down = 0;
	spread(&f, 100, c, NULL);
	ok(c[0] == 100 && c[2] == 0, "a primary back: backups idle again");
	fx_free(&f);

	fx_init(&f, "a1b1+", UPS_LEAST_CONN);
	f.peers[0].p_down = 1;
	spread(&f, 10, c, NULL);
	ok(c[1] == 10, "least_conn falls to the backup too");
	fx_free(&f);
}

static void
test_passive(void)
{
	struct fixture f;
	uint8_t tried[1];
	int c[MAXP], i, k, saw_a;
	msec_t t;

	fx_init(&f, "a1b1", UPS_RR);
	f.peers[0].p_max_fails = 2;
	f.peers[0].p_fail_timeout = 10000;
	/* a fails twice at t=1000 */
	for (i = 0; i < 2; i++) {
		memset(tried, 0, sizeof(tried));
		tried[0] = 2;		/* b tried: a is the choice */
		k = balance_pick(&f.b, NULL, NULL, 0, tried, 1000);
		is_int(k, 0, "a chosen when b is tried");
		is_int(balance_done(&f.b, k, 1, 1000), i == 1,
		    "failure %d of a: %s", i + 1, i ? "shut out" : "not yet");
	}
	for (t = 1000, saw_a = 0; t <= 11000; t += 100) {
		k = balance_pick(&f.b, NULL, NULL, 0, NULL, t);
		saw_a |= k == 0;
		balance_done(&f.b, k, 0, t);
	}
	ok(!saw_a, "a is not chosen until fail_timeout has passed (fake clock)");
	ok(!balance_is_available(&f.b, 0, 11000),
	    "still out at exactly fail_timeout");
	ok(balance_is_available(&f.b, 0, 11001), "available after it");
	/* one request probes it: it is not chosen again meanwhile */
	for (i = 0, k = -1; i < 4 && k != 0; i++)
		if ((k = balance_pick(&f.b, NULL, NULL, 0, NULL, 11001)) != 0)
			balance_done(&f.b, k, 0, 11001);
	is_int(k, 0, "the probe goes to a");
	for (i = 0, saw_a = 0; i < 20; i++) {
		int j = balance_pick(&f.b, NULL, NULL, 0, NULL, 11002);

		saw_a |= j == 0;
		balance_done(&f.b, j, 0, 11002);
	}
	ok(!saw_a, "no other request goes to a while it is probed");
	balance_done(&f.b, 0, 0, 11050);
	is_int(atomic_load(&f.hs[0].bh_fails), 0,
	    "the probe succeeds: failures forgotten");
	spread(&f, 100, c, NULL);
	ok(c[0] > 30, "a takes its share again (%d of 100)", c[0]);

	/* a failed probe shuts it out for another fail_timeout */
	atomic_store(&f.hs[0].bh_fails, 2);
	atomic_store(&f.hs[0].bh_checked, 20000);
	atomic_store(&f.hs[0].bh_accessed, 20000);
	ok(!balance_is_available(&f.b, 0, 25000), "out again at 25s");
	for (i = 0, k = -1; i < 4 && k != 0; i++)
		if ((k = balance_pick(&f.b, NULL, NULL, 0, NULL, 30001)) != 0)
			balance_done(&f.b, k, 0, 30001);
	is_int(k, 0, "probed at 30.001s");
	balance_done(&f.b, 0, 1, 30002);
	ok(!balance_is_available(&f.b, 0, 40002) &&
	    balance_is_available(&f.b, 0, 40003),
	    "the failed probe: out until 40.002s");
	ok(f.rr[0].rr_effective < f.peers[0].p_weight ||
	    f.peers[0].p_weight / f.peers[0].p_max_fails == 0,
	    "a failure lowers the effective weight");
	fx_free(&f);

	/* max_fails=0: never shut out */
	fx_init(&f, "a1b1", UPS_RR);
	f.peers[0].p_max_fails = 0;
	for (i = 0; i < 10; i++)
		balance_done(&f.b, 0, 1, 500);
	ok(balance_is_available(&f.b, 0, 600), "max_fails=0 never shuts out");
	fx_free(&f);

	/* a single peer: failures do not shut it out, as nginx */
	fx_init(&f, "a1", UPS_RR);
	balance_done(&f.b, 0, 1, 500);
	is_int(balance_pick(&f.b, NULL, NULL, 0, NULL, 600), 0,
	    "a group of one is chosen despite its failure");
	fx_free(&f);
}

static void
test_max_conns(void)
{
	struct fixture f;
	int k, i, c[MAXP] = { 0 };

	fx_init(&f, "a1b1", UPS_RR);
	f.peers[0].p_max_conns = 1;
	/* hold every connection open */
	for (i = 0; i < 10; i++)
		if ((k = balance_pick(&f.b, NULL, NULL, 0, NULL, 0)) >= 0)
			c[k]++;
	ok(c[0] == 1 && c[1] == 9, "max_conns=1: a gets one connection");
	is_int(atomic_load(&f.hs[1].bh_conns), 9, "connections counted");
	ok(!balance_is_available(&f.b, 0, 0), "a full at max_conns");
	balance_done(&f.b, 0, 0, 0);
	ok(balance_is_available(&f.b, 0, 0),
	    "a available again after its connection ends");
	fx_free(&f);
}

static void
test_tried(void)
{
	struct fixture f;
	uint8_t tried[1] = { 0 };
	int k1, k2, k3;

	fx_init(&f, "a1b1", UPS_RR);
	k1 = balance_pick(&f.b, NULL, NULL, 0, tried, 0);
	k2 = balance_pick(&f.b, NULL, NULL, 0, tried, 0);
	k3 = balance_pick(&f.b, NULL, NULL, 0, tried, 0);
	ok(k1 != k2 && k1 >= 0 && k2 >= 0 && k3 == -1,
	    "a retry skips the peers tried; all tried: -1");
	fx_free(&f);
}

static void
test_least_conn(void)
{
	struct fixture f;
	int q[8], head = 0, n = 0, c[MAXP] = { 0 }, i, k;
	char seq[8];

	/* all idle: ties, broken by round-robin */
	fx_init(&f, "a5b1c1", UPS_LEAST_CONN);
	for (i = 0; i < 7; i++) {
		k = balance_pick(&f.b, NULL, NULL, 0, NULL, 0);
		seq[i] = 'a' + k;
		balance_done(&f.b, k, 0, 0);
	}
	seq[7] = '\0';
	is_str(seq, "aabacaa", "least_conn, every peer idle: the WRR order");
	fx_free(&f);

	fx_init(&f, "a1b1c1", UPS_LEAST_CONN);
	atomic_store(&f.hs[0].bh_conns, 3);
	atomic_store(&f.hs[1].bh_conns, 1);
	atomic_store(&f.hs[2].bh_conns, 2);
	is_int(balance_pick(&f.b, NULL, NULL, 0, NULL, 0), 1,
	    "the fewest connections");
	fx_free(&f);

	/* weights 3:1, eight requests in flight, FIFO */
	fx_init(&f, "a3b1", UPS_LEAST_CONN);
	for (i = 0; i < NPICKS; i++) {
		if (n == 8) {
			balance_done(&f.b, q[head], 0, 0);
			head = (head + 1) % 8;
			n--;
		}
		k = balance_pick(&f.b, NULL, NULL, 0, NULL, 0);
		c[k]++;
		q[(head + n++) % 8] = k;
	}
	ok(within(c[0], NPICKS, 0.75, 0.02) && within(c[1], NPICKS, 0.25, 0.02),
	    "least_conn 3:1 with 8 in flight: %d %d (within 2%%)", c[0], c[1]);
	fx_free(&f);
}

static struct sockaddr_in
v4(const char *s)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	inet_pton(AF_INET, s, &sin.sin_addr);
	return sin;
}

static void
test_ip_hash(void)
{
	struct fixture f;
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	char ip[32];
	int c[MAXP] = { 0 }, i, k, first, stable = 1, same24 = 1, k6, back;

	fx_init(&f, "a1b1c1", UPS_IP_HASH);
	sin = v4("192.0.2.10");
	first = balance_pick(&f.b, (struct sockaddr *)&sin, NULL, 0, NULL, 0);
	balance_done(&f.b, first, 0, 0);
	for (i = 0; i < 1000; i++) {
		k = balance_pick(&f.b, (struct sockaddr *)&sin, NULL, 0, NULL,
		    0);
		stable &= k == first;
		balance_done(&f.b, k, 0, 0);
	}
	ok(stable, "one client: always the same peer (%c)", 'a' + first);
	for (i = 0; i < 256; i++) {
		snprintf(ip, sizeof(ip), "192.0.2.%d", i);
		sin = v4(ip);
		k = balance_pick(&f.b, (struct sockaddr *)&sin, NULL, 0, NULL,
		    0);
		same24 &= k == first;
		balance_done(&f.b, k, 0, 0);
	}
	ok(same24, "the whole /24 goes to the same peer");
	for (i = 0; i < NPICKS; i++) {
		snprintf(ip, sizeof(ip), "%d.%d.%d.7", 1 + i / 65536 % 200,
		    i / 256 % 256, i % 256);
		sin = v4(ip);
		k = balance_pick(&f.b, (struct sockaddr *)&sin, NULL, 0, NULL,
		    0);
		c[k]++;
		balance_done(&f.b, k, 0, 0);
	}
	ok(within(c[0], NPICKS, 1.0 / 3, 0.05) &&
	    within(c[1], NPICKS, 1.0 / 3, 0.05) &&
	    within(c[2], NPICKS, 1.0 / 3, 0.05),
	    "%d networks over 1:1:1: %d %d %d (within 5%%)", NPICKS, c[0],
	    c[1], c[2]);
	/* the peer down: rehashed elsewhere, and back when it is up */
	sin = v4("192.0.2.10");
	f.peers[first].p_down = 1;
	k = balance_pick(&f.b, (struct sockaddr *)&sin, NULL, 0, NULL, 0);
	balance_done(&f.b, k, 0, 0);
	ok(k >= 0 && k != first, "its peer down: rehashed to %c", 'a' + k);
	back = balance_pick(&f.b, (struct sockaddr *)&sin, NULL, 0, NULL, 0);
	balance_done(&f.b, back, 0, 0);
	is_int(back, k, "the rehash is stable too");
	f.peers[first].p_down = 0;
	back = balance_pick(&f.b, (struct sockaddr *)&sin, NULL, 0, NULL, 0);
	balance_done(&f.b, back, 0, 0);
	is_int(back, first, "the peer up again: the client returns to it");
	/* IPv6: every byte counts */
	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	inet_pton(AF_INET6, "2001:db8::1", &sin6.sin6_addr);
	k6 = balance_pick(&f.b, (struct sockaddr *)&sin6, NULL, 0, NULL, 0);
	balance_done(&f.b, k6, 0, 0);
	for (i = 2, stable = 0; i < 40; i++) {
		snprintf(ip, sizeof(ip), "2001:db8::%x", i);
		inet_pton(AF_INET6, ip, &sin6.sin6_addr);
		k = balance_pick(&f.b, (struct sockaddr *)&sin6, NULL, 0, NULL,
		    0);
		stable |= k != k6;
		balance_done(&f.b, k, 0, 0);
	}
	ok(stable, "IPv6: the last bytes change the peer");
	fx_free(&f);
}

static void
test_hash(void)
{
	struct fixture f;
	int c[MAXP], k1, k2, i, k, diff = 0;

	is_int(balance_crc32("123456789", 9), 0xcbf43926,
	    "crc32 is IEEE's (check value)");
	fx_init(&f, "a1b1c1", UPS_HASH);
	k1 = balance_pick(&f.b, NULL, "/some/uri", 9, NULL, 0);
	balance_done(&f.b, k1, 0, 0);
	k2 = balance_pick(&f.b, NULL, "/some/uri", 9, NULL, 0);
	balance_done(&f.b, k2, 0, 0);
	ok(k1 == k2 && k1 >= 0, "one key: one peer");
	spread(&f, NPICKS, c, "/k/%d");
	ok(within(c[0], NPICKS, 1.0 / 3, 0.03) &&
	    within(c[1], NPICKS, 1.0 / 3, 0.03) &&
	    within(c[2], NPICKS, 1.0 / 3, 0.03),
	    "hash 1:1:1 over %d keys: %d %d %d (within 3%%)", NPICKS, c[0],
	    c[1], c[2]);
	/* its peer failed: the key is rehashed, never to the failed one */
	f.peers[k1].p_down = 1;
	k = balance_pick(&f.b, NULL, "/some/uri", 9, NULL, 0);
	balance_done(&f.b, k, 0, 0);
	ok(k >= 0 && k != k1, "the key's peer down: another");
	f.peers[k1].p_down = 0;
	fx_free(&f);

	fx_init(&f, "a2b1", UPS_HASH);
	spread(&f, NPICKS, c, "key%d");
	ok(within(c[0], NPICKS, 2.0 / 3, 0.03), "hash 2:1: %d %d (within 3%%)",
	    c[0], c[1]);
	fx_free(&f);

	/* nginx's plain hash moves most keys when a peer goes */
	{
		struct fixture g;
		int map[NPICKS];
		char key[32];

		fx_init(&f, "a1b1c1d1", UPS_HASH);
		fx_init(&g, "a1b1c1", UPS_HASH);
		for (i = 0; i < NPICKS; i++) {
			snprintf(key, sizeof(key), "/k/%d", i);
			map[i] = balance_pick(&f.b, NULL, key, strlen(key),
			    NULL, 0);
			balance_done(&f.b, map[i], 0, 0);
			k = balance_pick(&g.b, NULL, key, strlen(key), NULL, 0);
			balance_done(&g.b, k, 0, 0);
			diff += k != map[i];
		}
		ok(diff > NPICKS / 2, "plain hash: removing 1 of 4 moves %d%% "
		    "of keys", diff * 100 / NPICKS);
		fx_free(&f);
		fx_free(&g);
	}
}

static void
test_chash(void)
{
	struct fixture f, g;
	static int map[NPICKS];
	char key[32];
	int c[MAXP] = { 0 }, i, k, moved = 0, wrong = 0, k1;

	fx_init(&f, "a1b1c1d1", UPS_CHASH);
	ok(f.u.u_ring != NULL && f.u.u_ring->r_n > 600 &&
	    f.u.u_ring->r_n <= 640, "ring: 4 x 160 points (%d)",
	    f.u.u_ring ? f.u.u_ring->r_n : 0);
	for (i = 0; i < NPICKS; i++) {
		snprintf(key, sizeof(key), "/obj/%d", i);
		map[i] = balance_pick(&f.b, NULL, key, strlen(key), NULL, 0);
		c[map[i]]++;
		balance_done(&f.b, map[i], 0, 0);
	}
	ok(c[0] > 1500 && c[1] > 1500 && c[2] > 1500 && c[3] > 1500,
	    "4 peers over %d keys: %d %d %d %d (each over 15%%)", NPICKS, c[0],
	    c[1], c[2], c[3]);
	/* the same servers less d (the names decide the points) */
	fx_init(&g, "a1b1c1", UPS_CHASH);
	for (i = 0; i < NPICKS; i++) {
		snprintf(key, sizeof(key), "/obj/%d", i);
		k = balance_pick(&g.b, NULL, key, strlen(key), NULL, 0);
		balance_done(&g.b, k, 0, 0);
		if (k != map[i]) {
			moved++;
			wrong += map[i] != 3;
		}
	}
	ok(moved * 100 < 35 * NPICKS, "removing 1 of 4 peers remaps %.1f%% "
	    "of %d keys (under 35%%)", moved * 100.0 / NPICKS, NPICKS);
	is_int(wrong, 0, "only the keys of the removed peer move");
	fx_free(&g);

	/* a failed peer: its keys go elsewhere, the others stay */
	snprintf(key, sizeof(key), "/obj/%d", 1);
	f.peers[map[1]].p_down = 1;
	k1 = balance_pick(&f.b, NULL, key, strlen(key), NULL, 0);
	balance_done(&f.b, k1, 0, 0);
	ok(k1 >= 0 && k1 != map[1], "a key of a down peer goes to another");
	for (i = 0, wrong = 0; i < 2000; i++) {
		if (map[i] == map[1])
			continue;
		snprintf(key, sizeof(key), "/obj/%d", i);
		k = balance_pick(&f.b, NULL, key, strlen(key), NULL, 0);
		balance_done(&f.b, k, 0, 0);
		wrong += k != map[i];
	}
	is_int(wrong, 0, "the other keys stay where they were");
	fx_free(&f);

	/* weights: 2:1:1 */
	fx_init(&f, "a2b1c1", UPS_CHASH);
	spread(&f, NPICKS, c, "/w/%d");
	ok(within(c[0], NPICKS, 0.5, 0.1), "chash 2:1:1: %d %d %d (a within "
	    "10%% of 1/2)", c[0], c[1], c[2]);
	fx_free(&f);
}

static void
test_random(void)
{
	struct fixture f;
	int c[MAXP], i, k;

	fx_init(&f, "a5b1c1", UPS_RANDOM);
	spread(&f, NPICKS, c, NULL);
	ok(within(c[0], NPICKS, 5.0 / 7, 0.02) &&
	    within(c[1], NPICKS, 1.0 / 7, 0.02) &&
	    within(c[2], NPICKS, 1.0 / 7, 0.02),
	    "random 5:1:1: %d %d %d (within 2%%)", c[0], c[1], c[2]);
	f.peers[0].p_down = 1;
	spread(&f, 1000, c, NULL);
	ok(c[0] == 0 && c[1] + c[2] == 1000, "random skips a down peer");
	fx_free(&f);

	fx_init(&f, "a1b1c1", UPS_RANDOM);
	f.u.u_random_two = 1;
	spread(&f, NPICKS, c, NULL);
	ok(within(c[0], NPICKS, 1.0 / 3, 0.03) &&
	    within(c[1], NPICKS, 1.0 / 3, 0.03),
	    "random two, all idle: %d %d %d (within 3%%)", c[0], c[1], c[2]);
	atomic_store(&f.hs[0].bh_conns, 10);
	for (i = 0, c[0] = 0; i < 1000; i++) {
		k = balance_pick(&f.b, NULL, NULL, 0, NULL, 0);
		c[0] += k == 0;
		balance_done(&f.b, k, 0, 0);
	}
	is_int(c[0], 0, "random two: the busy peer loses every pair");
	fx_free(&f);
}

static void
test_checks(void)
{
	struct balance_health h;
	struct conf_hc hc;
	struct regex *list = NULL;
	struct arena *a = arena_new();
	char err[256];
	int changed[8], i;
	static const int seq[] = { 0, 0, 0, 1, 1, 0, 1, 1 };

	memset(&h, 0, sizeof(h));
	memset(&hc, 0, sizeof(hc));
	hc.hc_interval = 5000;
	hc.hc_fails = 2;
	hc.hc_passes = 2;
	hc.hc_nranges = 2;
	hc.hc_lo[0] = 200;
	hc.hc_hi[0] = 299;
	hc.hc_lo[1] = 304;
	hc.hc_hi[1] = 304;
	ok(balance_check_is_due(&h, &hc, 100), "never checked: due");
	ok(balance_check_response(&hc, 204, "", 0) &&
	    balance_check_response(&hc, 304, NULL, 0) &&
	    !balance_check_response(&hc, 302, "", 0) &&
	    !balance_check_response(&hc, 500, "", 0),
	    "status in the ranges passes, others fail");
	hc.hc_body = regex_compile(a, &list, "^ok", 0, err, sizeof(err));
	ok(hc.hc_body != NULL && balance_check_response(&hc, 200, "ok\n", 3) &&
	    !balance_check_response(&hc, 200, "not ok", 6) &&
	    !balance_check_response(&hc, 500, "ok", 2),
	    "and the body must match");
	/* fail fail fail pass pass fail pass pass; fails=2 passes=2 */
	for (i = 0; i < 8; i++)
		changed[i] = balance_check_done(&h, &hc, seq[i], 1000 * (i + 1));
	ok(!changed[0] && changed[1] && !changed[2] && !changed[3] &&
	    changed[4] && !changed[5] && !changed[6] && !changed[7],
	    "down after 2 failures in a row, up after 2 passes in a row");
	is_int(atomic_load(&h.bh_state), BH_UP, "up at the end");
	ok(!balance_check_is_due(&h, &hc, 12999) &&
	    balance_check_is_due(&h, &hc, 13000), "next check: interval later");
	atomic_store(&h.bh_fails, 5);
	balance_check_done(&h, &hc, 0, 20000);
	balance_check_done(&h, &hc, 0, 21000);
	is_int(atomic_load(&h.bh_state), BH_DOWN, "down again");
	balance_check_done(&h, &hc, 1, 22000);
	balance_check_done(&h, &hc, 1, 23000);
	is_int(atomic_load(&h.bh_fails), 0,
	    "back up: the passive failures are forgotten");
	regex_free_all(list);
	arena_free(a);
}

int
main(void)
{
	test_rr();
	test_backup();
	test_passive();
	test_max_conns();
	test_tried();
	test_least_conn();
	test_ip_hash();
	test_hash();
	test_chash();
	test_random();
	test_checks();
	return tap_done();
}
