/*
 * unit tests for common/shm.c: zones made, reused and made anew; the
 * bump allocator; the robust mutex when a process dies holding it; the
 * health zone's slots across a "reload" and a "binary upgrade" (a second
 * mapping of the same file); balancing over shared state.
 */
#include "../../common/shm.c"
#include "tap.h"

#include <ftw.h>
#include <sys/wait.h>

static char dir[64];
static char path[128];

static void
test_zone(void)
{
	struct shm_zone *z, *z2;
	uint64_t a, b, c;
	char *p;

	z = shm_zone_open(path, "test", 64 * 1024, 7);
	ok(z != NULL && z->z_fresh, "a new zone is fresh");
	if (z == NULL)
		return;
	ok(z->z_hdr->sh_magic == SHM_MAGIC && z->z_hdr->sh_layout == 7 &&
	    z->z_hdr->sh_size == 64 * 1024 &&
	    strcmp(z->z_hdr->sh_name, "test") == 0, "its header");
	a = shm_alloc(z, 10);
	b = shm_alloc(z, 100);
	ok(a >= sizeof(struct shm_header) && a % 64 == 0 && b == a + 64,
	    "allocations: offsets, aligned, after the header (%llu, %llu)",
	    (unsigned long long)a, (unsigned long long)b);
	p = shm_ptr(z, b);
	memcpy(p, "kept across opens", 18);
	c = shm_alloc(z, 1 << 20);
	is_int(c, 0, "an allocation larger than what is left: 0");
	ok(shm_ptr(z, 0) == NULL && shm_ptr(z, 64 * 1024) == NULL,
	    "offset 0 and past the end are no pointers");
	shm_zone_close(z);

	z = shm_zone_open(path, "test", 64 * 1024, 7);
	ok(z != NULL && !z->z_fresh, "same header: reused");
	ok(z != NULL && strcmp(shm_ptr(z, b), "kept across opens") == 0,
	    "the contents are still there");
	ok(z != NULL && shm_alloc(z, 10) == b + 128,
	    "the allocator goes on where it was");

	/* another layout: fresh, and the old mapping is left alone */
	z2 = shm_zone_open(path, "test", 64 * 1024, 8);
	ok(z2 != NULL && z2->z_fresh, "another layout version: fresh");
	ok(z2 != NULL && ((char *)shm_ptr(z2, b))[0] == '\0',
	    "fresh contents are zero");
	ok(z != NULL && strcmp(shm_ptr(z, b), "kept across opens") == 0,
	    "a process still mapping the old zone keeps it (new file)");
	shm_zone_close(z);
	shm_zone_close(z2);

	z = shm_zone_open(path, "test", 128 * 1024, 8);
	ok(z != NULL && z->z_fresh, "another size: fresh");
	shm_zone_close(z);
	/* a broken header */
	{
		int fd = open(path, O_RDWR);
		uint64_t bad = 1;

		ok(fd != -1 && pwrite(fd, &bad, sizeof(bad), 0) == sizeof(bad),
		    "magic overwritten");
		close(fd);
	}
	z = shm_zone_open(path, "test", 128 * 1024, 8);
	ok(z != NULL && z->z_fresh && z->z_hdr->sh_magic == SHM_MAGIC,
	    "a bad magic: fresh");
	shm_zone_close(z);
	ok(shm_zone_open(path, "test", 16, 8) == NULL, "too small: NULL");
}

/* the child locks and dies; the parent gets the lock back */
static void
test_robust(void)
{
	struct shm_zone *z = shm_zone_open(path, "lock", 64 * 1024, 1);
	uint64_t off;
	int64_t *counter;
	pid_t pid;
	int st, i, rc;

	if (z == NULL) {
		ok(0, "zone for the lock tests");
		return;
	}
	if ((pid = fork()) == 0) {
		/* its own mapping, as a new master's after exec */
		struct shm_zone *cz = shm_zone_open(path, "lock", 64 * 1024, 1);

		if (cz == NULL || shm_lock(cz) != 0)
			_exit(1);
		_exit(0);	/* dies holding it */
	}
	waitpid(pid, &st, 0);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child locked and exited");
	log_to_stderr(LOG_EMERG);	/* the recovery's warning */
	rc = shm_lock(z);
	log_to_stderr(LOG_NOTICE);
	is_int(rc, 1, "EOWNERDEAD: locked, the holder died");
	shm_unlock(z);
	is_int(shm_lock(z), 0, "consistent again: an ordinary lock");
	shm_unlock(z);

	/* killed by a signal while holding it */
	if ((pid = fork()) == 0) {
		shm_lock(z);
		for (;;)
			pause();
	}
	usleep(100000);
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	log_to_stderr(LOG_EMERG);
	rc = shm_lock(z);
	log_to_stderr(LOG_NOTICE);
	is_int(rc, 1, "a holder killed with SIGKILL: recovered");
	shm_unlock(z);

	/* mutual exclusion across processes */
	off = shm_alloc(z, sizeof(*counter));
	counter = shm_ptr(z, off);
	for (i = 0; i < 2; i++) {
		if (fork() == 0) {
			int j;

			for (j = 0; j < 100000; j++) {
				shm_lock(z);
				(*(volatile int64_t *)counter)++;
				shm_unlock(z);
			}
			_exit(0);
		}
	}
	while (wait(&st) > 0)
		;
	is_int(*counter, 200000, "two processes, 100,000 locked increments "
	    "each: none lost");
	shm_zone_close(z);
}

static void
test_health_slots(void)
{
	char hpath[160];
	struct shm_zone *z, *z2;
	struct balance_health *h;
	char peer[32];
	int s1, s2, s3, i, n, n0 = -2, full;

	snprintf(hpath, sizeof(hpath), "%s/health.zone", dir);
	z = shm_health_open(hpath, 16);
	ok(z != NULL && z->z_fresh, "health zone of 16 slots");
	if (z == NULL)
		return;
	s1 = shm_health_slot(z, "app", "127.0.0.1:80", 1);
	s2 = shm_health_slot(z, "app", "127.0.0.1:81", 1);
	s3 = shm_health_slot(z, "other", "127.0.0.1:80", 1);
	ok(s1 >= 0 && s2 >= 0 && s3 >= 0 && s1 != s2 && s1 != s3 && s2 != s3,
	    "a slot per (upstream, peer)");
	is_int(shm_health_slot(z, "app", "127.0.0.1:80", 2), s1,
	    "the same key: the same slot");
	h = shm_health_get(z, s1);
	atomic_store(&h->bh_fails, 3);
	atomic_store(&h->bh_conns, 2);
	atomic_store(&h->bh_requests, 1234);
	ok(shm_health_get(z, 16) == NULL && shm_health_get(z, -1) == NULL,
	    "no slot out of range");

	/* a binary upgrade: the new master maps the file on its own */
	z2 = shm_health_open(hpath, 16);
	ok(z2 != NULL && !z2->z_fresh, "a second open reuses the zone");
	if (z2 != NULL) {
		is_int(shm_health_slot(z2, "app", "127.0.0.1:80", 3), s1,
		    "the new mapping finds the peer's slot");
		h = shm_health_get(z2, s1);
		ok(atomic_load(&h->bh_fails) == 3 &&
		    atomic_load(&h->bh_requests) == 1234,
		    "with its state: failures and counters survive");
		atomic_fetch_add(&h->bh_requests, 1);
		is_int(atomic_load(&shm_health_get(z, s1)->bh_requests), 1235,
		    "both mappings see the same counter");
		shm_zone_close(z2);
	}
	/* full: every slot used by this generation */
	for (i = 0, full = 0; i < 20; i++) {
		snprintf(peer, sizeof(peer), "10.0.0.%d:80", i);
		n = shm_health_slot(z, "big", peer, 4);
		if (i == 3)
			n0 = n;
		if (n == -1)
			full++;
	}
	is_int(full, 20 - 16, "16 slots for generation 4, the rest: -1");
	is_int(shm_health_slot(z, "big", "10.0.0.3:80", 4), n0,
	    "a key of the generation is found when the zone is full");
	is_int(shm_health_slot(z, "app", "127.0.0.1:80", 4), -1,
	    "the slots of generation 1 were taken over when room ran out");
	n = shm_health_slot(z, "new", "10.9.9.9:80", 5);
	ok(n >= 0, "a later generation takes over the slot of a removed peer");
	h = shm_health_get(z, n);
	ok(h != NULL && atomic_load(&h->bh_fails) == 0 &&
	    atomic_load(&h->bh_requests) == 0, "with its state cleared");
	{
		char longname[300];

		memset(longname, 'x', sizeof(longname) - 1);
		longname[sizeof(longname) - 1] = '\0';
		is_int(shm_health_slot(z, longname, "1.2.3.4:80", 6), -1,
		    "a key too long: -1");
	}
	shm_zone_close(z);
	z = shm_health_open(hpath, 32);
	ok(z != NULL && z->z_fresh, "more slots: a new zone");
	shm_zone_close(z);
}

/* a generation's peers attached, "reloaded", balanced over shared state */
static void
test_attach(void)
{
	char cpath[160], hpath[160];
	struct conf_upstream *u;
	struct shm_zone *z;
	struct gen *g1, *g2;
	struct balance_health *hp[4];
	struct balance_rr rr[4];
	struct balance b;
	FILE *fp;
	int i, same = 1, st;
	pid_t pid;

	snprintf(cpath, sizeof(cpath), "%s/portico.conf", dir);
	snprintf(hpath, sizeof(hpath), "%s/attach.zone", dir);
	fp = fopen(cpath, "w");
	fputs("events {}\nhttp {\n"
	    "upstream a { server 127.0.0.1:1; server 127.0.0.1:2; }\n"
	    "upstream b { server 127.0.0.1:1; }\n}\n", fp);
	fclose(fp);
	g1 = conf_load(dir, cpath, NULL, 0);
	g2 = conf_load(dir, cpath, NULL, 0);
	z = shm_health_open(hpath, 64);
	ok(g1 != NULL && g2 != NULL && z != NULL, "two generations, a zone");
	if (g1 == NULL || g2 == NULL || z == NULL)
		return;
	is_int(shm_health_attach(z, g1), 0, "every peer has a slot");
	u = conf_upstream_find(g1, "a");
	ok(u->u_peers[0].p_slot >= 0 && u->u_peers[1].p_slot >= 0 &&
	    u->u_peers[0].p_slot != u->u_peers[1].p_slot &&
	    conf_upstream_find(g1, "b")->u_peers[0].p_slot !=
	    u->u_peers[0].p_slot, "one slot per upstream and address");
	shm_health_attach(z, g2);
	for (i = 0; i < 2; i++)
		same &= conf_upstream_find(g2, "a")->u_peers[i].p_slot ==
		    u->u_peers[i].p_slot;
	ok(same, "the reloaded generation gets the same slots");
	is_int(z->z_hdr->sh_generation, 2, "two attaches counted");

	for (i = 0; i < u->u_npeers; i++)
		hp[i] = shm_health_get(z, u->u_peers[i].p_slot);
	balance_init(&b, u, hp, rr, 1);
	if ((pid = fork()) == 0) {
		/* a worker: its connection counts for the others */
		int k = balance_pick(&b, NULL, NULL, 0, NULL, 0);

		balance_done(&b, k, 1, 0);	/* and its failure */
		_exit(k);
	}
	waitpid(pid, &st, 0);
	i = WEXITSTATUS(st);
	ok(i == 0 || i == 1, "the child chose a peer");
	is_int(atomic_load(&hp[i]->bh_fails), 1,
	    "its failure is seen by the parent");
	ok(!balance_is_available(&b, i, 1),
	    "so the parent's balancer skips that peer");
	is_int(balance_pick(&b, NULL, NULL, 0, NULL, 1), !i,
	    "and chooses the other");
	/* the worker's helper */
	{
		struct arena *a = arena_new();
		struct balance *wb = shm_health_balancer(z, u, a, 7);
		struct balance *lb = shm_health_balancer(NULL, u, a, 7);

		ok(wb != NULL && wb->b_health[0] == hp[0] &&
		    wb->b_health[1] == hp[1] && wb->b_rr[0].rr_effective == 1,
		    "shm_health_balancer(): the peers' shared slots");
		ok(lb != NULL && lb->b_health[0] != hp[0] &&
		    atomic_load(&lb->b_health[i]->bh_fails) == 0 &&
		    balance_pick(lb, NULL, NULL, 0, NULL, 1) >= 0,
		    "without a zone: state of its own, and it balances");
		arena_free(a);
	}
	shm_zone_close(z);
	conf_free(g1);
	conf_free(g2);
}

static int
rm_entry(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	return remove(p);
}

int
main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/portico-shm-XXXXXX");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 2;
	}
	snprintf(path, sizeof(path), "%s/test.zone", dir);
	log_to_stderr(LOG_NOTICE);
	/* a lock that is not robust would hang the tests: fail them instead */
	alarm(60);

	test_zone();
	test_robust();
	test_health_slots();
	test_attach();

	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return tap_done();
}
