/*
 * buf.h — a growable byte buffer (always NUL-terminated after data[len]).
 *
 * A `struct buf` is caller-provided: buf_init()/buf_cleanup(). Growth goes
 * through xrealloc (see xmalloc.h for the out-of-memory policy). buf_take()
 * hands the bytes to the caller, who frees them with free(); the buffer is then
 * empty and reusable.
 */
#ifndef CAIRN_BASE_BUF_H
#define CAIRN_BASE_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "base/err.h"

struct buf {
	char *data;
	size_t len;
	size_t cap;
};

#define BUF_INIT { NULL, 0, 0 }

void buf_init(struct buf *b);
void buf_cleanup(struct buf *b);
void buf_reserve(struct buf *b, size_t extra);
void buf_append(struct buf *b, const void *p, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...) CAIRN_PRINTF(2, 3);
void buf_vprintf(struct buf *b, const char *fmt, va_list ap);
void buf_put_u64(struct buf *b, unsigned long long v);
void buf_put_i64(struct buf *b, long long v);
void buf_reset(struct buf *b);		/* len = 0, keeps the allocation */
char *buf_take(struct buf *b);		/* caller frees; never NULL */
const char *buf_cstr(struct buf *b);	/* "" when empty; valid until the next change */

#endif
