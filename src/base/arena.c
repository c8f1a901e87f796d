#include "base/arena.h"

#include <stdlib.h>
#include <string.h>

#include "base/xmalloc.h"

#define CHUNK_SIZE (64 * 1024)

struct arena_chunk {
	struct arena_chunk *next;
	size_t used, cap;
	_Alignas(8) char data[];
};

void arena_init(struct arena *a)
{
	a->head = NULL;
}

void *arena_alloc(struct arena *a, size_t n)
{
	n = (n + 7) & ~(size_t)7;
	struct arena_chunk *c = a->head;
	if (c == NULL || c->cap - c->used < n) {
		size_t cap = n > CHUNK_SIZE ? n : CHUNK_SIZE;
		c = xmalloc(sizeof(*c) + cap);
		c->used = 0;
		c->cap = cap;
		c->next = a->head;
		a->head = c;
	}
	void *p = c->data + c->used;
	c->used += n;
	return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

void arena_reset(struct arena *a)
{
	struct arena_chunk *c = a->head;
	if (c == NULL)
		return;
	/* Keep the oldest chunk (the last in the list), free the rest. */
	while (c->next) {
		struct arena_chunk *n = c->next;
		free(c);
		c = n;
	}
	c->used = 0;
	a->head = c;
}

void arena_cleanup(struct arena *a)
{
	while (a->head) {
		struct arena_chunk *n = a->head->next;
		free(a->head);
		a->head = n;
	}
}
