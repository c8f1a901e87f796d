/*
 * xmalloc.h — allocation that cannot fail.
 *
 * Policy (written once, here): running out of memory ends the process with a
 * message, as in redis and h2o. This is safe only because every size that
 * outside input controls is capped before it is allocated (see the limits in
 * each parser's header), so no client can make the server allocate without
 * bound. Every function here returns memory the caller owns and frees with free().
 */
#ifndef CAIRN_BASE_XMALLOC_H
#define CAIRN_BASE_XMALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);	/* always NUL-terminates */
void *xmemdup(const void *p, size_t n);

#endif
