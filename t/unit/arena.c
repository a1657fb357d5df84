/* unit tests for common/arena.c: growing and fixed bump arenas */
#include "../../common/arena.c"
#include "tap.h"

#include <sys/wait.h>

#define ALIGNED(p)	(((uintptr_t)(p) & (ARENA_ALIGN - 1)) == 0)

static int
all_zero(const void *p, size_t n)
{
	const unsigned char *c = p;

	while (n-- > 0)
		if (*c++ != 0)
			return 0;
	return 1;
}

static void
test_growing(void)
{
	struct arena *a = arena_new();
	unsigned char *ptrs[200];
	size_t sizes[200], i, j;
	int aligned = 1, zeroed = 1, intact = 1;
	size_t used, prev;
	char *big, *after;

	is_int(arena_used(a), 0, "new arena uses nothing");
	/* many small allocations across several chunks */
	for (i = 0; i < nitems(ptrs); i++) {
		sizes[i] = 1 + (i * 37) % 1500;
		ptrs[i] = arena_alloc(a, sizes[i]);
		if (ptrs[i] == NULL)
			break;
		aligned &= ALIGNED(ptrs[i]);
		zeroed &= all_zero(ptrs[i], sizes[i]);
		memset(ptrs[i], (int)(i & 0xff), sizes[i]);
	}
	is_int(i, nitems(ptrs), "200 allocations");
	ok(aligned, "every allocation 16-byte aligned");
	ok(zeroed, "every allocation zeroed");
	/* nothing overlaps: each block still holds its own pattern */
	for (i = 0; i < nitems(ptrs); i++)
		for (j = 0; j < sizes[i]; j++)
			if (ptrs[i][j] != (i & 0xff))
				intact = 0;
	ok(intact, "allocations do not overlap");
	used = arena_used(a);
	ok(used >= 150000, "arena_used counts every chunk (%zu)", used);

	/* larger than a chunk: a chunk of its own */
	prev = used;
	big = arena_alloc(a, 3 * ARENA_CHUNK + 5);
	ok(big != NULL && ALIGNED(big) && all_zero(big, 3 * ARENA_CHUNK + 5),
	    "allocation over the chunk size: aligned and zeroed");
	if (big != NULL)
		memset(big, 0xee, 3 * ARENA_CHUNK + 5);	/* ASan: all of it */
	ok(arena_used(a) >= prev + 3 * ARENA_CHUNK + 5,
	    "arena_used grows by the big chunk");
	after = arena_alloc(a, 10);
	ok(after != NULL && ALIGNED(after) && all_zero(after, 10) &&
	    (after >= big + 3 * ARENA_CHUNK + 5 || after + 10 <= big),
	    "small allocation after a big one");
	big = arena_alloc(a, ARENA_CHUNK);
	ok(big != NULL && ALIGNED(big), "exactly the chunk size");
	if (big != NULL)
		memset(big, 1, ARENA_CHUNK);

	/* zero bytes: still a distinct, aligned pointer */
	ptrs[0] = arena_alloc(a, 0);
	ptrs[1] = arena_alloc(a, 0);
	ok(ptrs[0] != NULL && ptrs[1] != NULL && ptrs[0] != ptrs[1] &&
	    ALIGNED(ptrs[0]) && ALIGNED(ptrs[1]), "zero-byte allocations");
	arena_free(a);
	arena_free(NULL);
	ok(1, "arena_free(NULL) is a no-op");
}

static void
test_strings(void)
{
	struct arena *a = arena_new();
	static const char src[] = "hello\0world";
	char *s;

	s = arena_strdup(a, "portico");
	ok(s != NULL && strcmp(s, "portico") == 0 && ALIGNED(s), "strdup");
	s = arena_strdup(a, "");
	ok(s != NULL && s[0] == '\0', "strdup of \"\"");
	s = arena_strndup(a, "hello world", 5);
	ok(s != NULL && strcmp(s, "hello") == 0, "strndup cuts at n");
	s = arena_strndup(a, src, sizeof(src) - 1);
	ok(s != NULL && memcmp(s, src, sizeof(src)) == 0,
	    "strndup copies n bytes, NULs included, and terminates");
	s = arena_strndup(a, "abc", 0);
	ok(s != NULL && s[0] == '\0', "strndup of 0 bytes");
	arena_free(a);
}

static void
test_fixed(void)
{
	_Alignas(16) char buf[256 + 16];
	struct arena a;
	char *p, *q, *first;
	int n;

	memset(buf, 0xaa, sizeof(buf));
	arena_init_fixed(&a, buf, 256);
	is_int(arena_used(&a), 0, "fixed arena starts empty");
	first = arena_alloc(&a, 10);
	ok(first == buf && all_zero(first, 10), "first allocation at the start, "
	    "zeroed over old bytes");
	is_int(arena_used(&a), 10, "arena_used: exact bytes");
	p = arena_alloc(&a, 1);
	ok(p == buf + 16, "next allocation aligned to 16");
	is_int(arena_used(&a), 17, "arena_used counts the padding");

	for (n = 0; (q = arena_alloc(&a, 16)) != NULL; n++)
		memset(q, 0x55, 16);
	is_int(n, 14, "fills up to the end, no further");
	ok(arena_used(&a) <= 256, "never past the end");
	ok(arena_alloc(&a, 1) == NULL, "full: NULL");
	ok(arena_strdup(&a, "x") == NULL, "full: strdup NULL");
	ok((unsigned char)buf[256] == 0xaa, "byte after the buffer untouched");

	/* the remaining space is exactly usable */
	arena_reset(&a);
	is_int(arena_used(&a), 0, "reset: empty");
	p = arena_alloc(&a, 256);
	ok(p == buf && all_zero(p, 256), "reset: whole buffer again, zeroed");
	ok(arena_alloc(&a, 1) == NULL, "and full again");
	arena_reset(&a);
	ok(arena_alloc(&a, 257) == NULL, "one byte too many: NULL");
	is_int(arena_used(&a), 0, "a failed allocation takes nothing");

	/* a buffer that is not aligned */
	arena_init_fixed(&a, buf + 3, 64);
	p = arena_alloc(&a, 8);
	ok(p == buf + 16, "unaligned buffer: first allocation aligned up");
	ok(arena_alloc(&a, 32) == buf + 32, "then aligned again");
	ok(arena_alloc(&a, 4) == NULL, "one byte past buf+3+64: NULL");
	ok(arena_alloc(&a, 3) == buf + 64, "up to buf+3+64 exactly");
}

/*
 * A length near SIZE_MAX must fail like any other that does not fit; it
 * must not wrap the end-of-arena check.  Run in a child: if it wraps,
 * memset() runs off the buffer.
 */
static void
huge_fails(int fixed, size_t len, const char *what)
{
	pid_t pid;
	int st;

	fflush(stdout);
	if ((pid = fork()) == 0) {
		_Alignas(16) static char buf[256];
		struct arena fa, *a = &fa;

		if (fixed)
			arena_init_fixed(a, buf, sizeof(buf));
		else
			a = arena_new();
		_exit(arena_alloc(a, len) == NULL ? 0 : 3);
	}
	waitpid(pid, &st, 0);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s: NULL", what);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		printf("#   child %s %d\n", WIFSIGNALED(st) ? "killed by signal" :
		    "exited with", WIFSIGNALED(st) ? WTERMSIG(st) :
		    WEXITSTATUS(st));
}

int
main(void)
{
	test_growing();
	test_strings();
	test_fixed();
	huge_fails(1, SIZE_MAX, "fixed arena, SIZE_MAX bytes");
	huge_fails(1, SIZE_MAX - 64, "fixed arena, SIZE_MAX - 64 bytes");
	huge_fails(0, SIZE_MAX - 8, "growing arena, SIZE_MAX - 8 bytes");
	return tap_done();
}
