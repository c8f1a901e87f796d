/*
 * jpull.h — a strict, streaming JSON tokenizer (a pull parser) over a struct input.
 *
 * For readers that walk one large JSON document (a MISP event of thousands of attributes)
 * without holding it: each call hands out the next token, and only the text of the last
 * string or number is kept, up to a cap. The grammar is RFC 8259's, exactly: no trailing
 * commas, no comments, no single quotes, no control characters or invalid UTF-8 in
 * strings, no lone surrogates in \u escapes, one top-level value and nothing after it but
 * white space (a UTF-8 byte order mark before it is allowed).
 *
 * A reader that must know what comes later in the document (MISP puts an event's tags
 * after its attributes) opens a second tokenizer over input_again() of the same input, and
 * sends it ahead with jpull_read_value_at() to the offset of the value it wants to look
 * into. Both read forward only, so memory stays constant and no input is held.
 *
 * Errors: a negative ERR_* code, with "line L, column C: reason" in e. They are final:
 * every later call returns the same code. ERR_TOO_LARGE when nesting exceeds
 * JPULL_MAX_DEPTH. Depends on base/ and imp/input.h. Not thread-safe per tokenizer.
 */
#ifndef CAIRN_IMP_JPULL_H
#define CAIRN_IMP_JPULL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "imp/input.h"

#define JPULL_MAX_DEPTH 64

enum jpull_tok {
	JP_EOF = 0,	/* after the value (or, from jpull_read_value_at, after that one value) */
	JP_OBJ, JP_OBJ_END, JP_ARR, JP_ARR_END,
	JP_KEY, JP_STR, JP_NUM, JP_TRUE, JP_FALSE, JP_NULL,
};

struct jpull;

/* A tokenizer over in (borrowed: it must outlive the tokenizer). Strings are kept up to
 * str_cap bytes (at least 16); longer ones are read and checked whole but cut. */
struct jpull *jpull_new(struct input *in, size_t str_cap);
void jpull_free(struct jpull *p);

/* The next token (enum jpull_tok, >= 0), or a negative ERR_* code. */
int jpull_next(struct jpull *p, struct err *e) CAIRN_MUST_USE;

/* After JP_OBJ or JP_ARR: reads to the matching end, checking but keeping nothing, so the
 * next token is what follows the container. After any other token it does nothing. */
int jpull_skip(struct jpull *p, struct err *e) CAIRN_MUST_USE;

/* The decoded text of the last JP_KEY or JP_STR, or the text of the last JP_NUM;
 * NUL-terminated, *len bytes (a \u0000 escape gives a NUL inside: check len). */
const char *jpull_text(const struct jpull *p, size_t *len);
/* Whether the last string was longer than str_cap (its text is then the first str_cap bytes). */
bool jpull_truncated(const struct jpull *p);
/* Where the last token began: its line (1-based) and its byte offset in the input. */
size_t jpull_line(const struct jpull *p);
uint64_t jpull_offset(const struct jpull *p);
/* Containers open around the position after the last token. */
int jpull_depth(const struct jpull *p);

/*
 * Discards the input up to byte offset `offset` (which must not be behind what this
 * tokenizer has read: ERR_INTERNAL) and starts reading one JSON value there: jpull_next()
 * then gives that value's tokens and JP_EOF after it, without reading further.
 */
int jpull_read_value_at(struct jpull *p, uint64_t offset, struct err *e) CAIRN_MUST_USE;

#endif
