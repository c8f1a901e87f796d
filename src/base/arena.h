/*
 * arena.h — a bump allocator for things that die together (a request, an
 * import batch). arena_reset() frees everything at once but keeps the first
 * chunk; arena_cleanup() frees all. Allocation cannot fail (xmalloc policy).
 */
#ifndef CAIRN_BASE_ARENA_H
#define CAIRN_BASE_ARENA_H

#include <stddef.h>

struct arena_chunk;

struct arena {
	struct arena_chunk *head;
};

void arena_init(struct arena *a);
void *arena_alloc(struct arena *a, size_t n);	/* 8-byte aligned */
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_strdup(struct arena *a, const char *s);
void arena_reset(struct arena *a);
void arena_cleanup(struct arena *a);

#endif
