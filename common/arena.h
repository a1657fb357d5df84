/*
 * arena.h: bump allocators.  A growing arena (config generations) takes
 * chunks from malloc and frees them all at once; a fixed arena (one per
 * connection) lives in a caller's buffer and returns NULL when full.
 */
#ifndef PORTICO_ARENA_H
#define PORTICO_ARENA_H

#include "core.h"

struct arena_chunk;

struct arena {
	struct arena_chunk	*a_chunks;
	char			*a_pos;
	char			*a_end;
	char			*a_start;	/* fixed arenas: for reset */
	int			 a_fixed;
};

struct arena	*arena_new(void);
void		 arena_free(struct arena *);
void		 arena_init_fixed(struct arena *, void *buf, size_t len);
void		 arena_reset(struct arena *);
void		*arena_alloc(struct arena *, size_t);	/* zeroed */
char		*arena_strdup(struct arena *, const char *);
char		*arena_strndup(struct arena *, const char *, size_t);
size_t		 arena_used(const struct arena *);

#endif
