/*
 * arena.c: bump allocation, 16-byte aligned.
 */
#include "core.h"

#include "arena.h"
#include "log.h"

#define ARENA_CHUNK	(64 * 1024)
#define ARENA_ALIGN	16

struct arena_chunk {
	struct arena_chunk	*ac_next;
	size_t			 ac_size;
	char			 ac_data[];
};

struct arena *
arena_new(void)
{
	struct arena *a;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		return NULL;
	return a;
}

void
arena_free(struct arena *a)
{
	struct arena_chunk *c, *next;

	if (a == NULL)
		return;
	DASSERT(!a->a_fixed);
	for (c = a->a_chunks; c != NULL; c = next) {
		next = c->ac_next;
		free(c);
	}
	free(a);
}

void
arena_init_fixed(struct arena *a, void *buf, size_t len)
{
	memset(a, 0, sizeof(*a));
	a->a_fixed = 1;
	a->a_start = a->a_pos = buf;
	a->a_end = (char *)buf + len;
}

void
arena_reset(struct arena *a)
{
	DASSERT(a->a_fixed);
	a->a_pos = a->a_start;
}

static int
arena_grow(struct arena *a, size_t need)
{
	struct arena_chunk *c;
	size_t size;

	if (need > SIZE_MAX - sizeof(*c) - ARENA_ALIGN)
		return -1;
	size = need + ARENA_ALIGN > ARENA_CHUNK ? need + ARENA_ALIGN :
	    ARENA_CHUNK;
	if ((c = malloc(sizeof(*c) + size)) == NULL)
		return -1;
	c->ac_size = size;
	c->ac_next = a->a_chunks;
	a->a_chunks = c;
	a->a_pos = c->ac_data;
	a->a_end = c->ac_data + size;
	return 0;
}

void *
arena_alloc(struct arena *a, size_t len)
{
	uintptr_t p;
	void *r;

	if (len == 0)
		len = 1;
	p = ((uintptr_t)a->a_pos + ARENA_ALIGN - 1) & ~(uintptr_t)(ARENA_ALIGN - 1);
	/* compared as room left, so that a huge len cannot wrap around */
	if (a->a_pos == NULL || p > (uintptr_t)a->a_end ||
	    len > (uintptr_t)a->a_end - p) {
		if (a->a_fixed || arena_grow(a, len) == -1)
			return NULL;
		p = ((uintptr_t)a->a_pos + ARENA_ALIGN - 1) &
		    ~(uintptr_t)(ARENA_ALIGN - 1);
	}
	r = (void *)p;
	a->a_pos = (char *)p + len;
	memset(r, 0, len);
	return r;
}

char *
arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *d;

	if ((d = arena_alloc(a, n + 1)) == NULL)
		return NULL;
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

char *
arena_strdup(struct arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

size_t
arena_used(const struct arena *a)
{
	const struct arena_chunk *c;
	size_t n = 0;

	if (a->a_fixed)
		return a->a_pos - a->a_start;
	for (c = a->a_chunks; c != NULL; c = c->ac_next)
		n += c->ac_size;
	return n;
}
