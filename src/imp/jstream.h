/*
 * jstream.h — splits a large JSON input into its records without holding it
 * whole: a top-level array, newline-delimited objects (NDJSON), or a REST
 * answer {"meta":…,"data":[…]} (also "iocs" or "objects" as the array key).
 *
 * Each call hands out the text of one element, to be parsed on its own
 * (json_loadb); it is valid until the next call. After a first object that is
 * not an envelope, the input is taken as NDJSON and read line by line. An element larger than
 * JSTREAM_MAX_ELEMENT is an error that ends the stream (its end cannot be
 * found safely). Nesting deeper than JSTREAM_MAX_DEPTH is an error too.
 */
#ifndef CAIRN_IMP_JSTREAM_H
#define CAIRN_IMP_JSTREAM_H

#include <stddef.h>

#include "base/err.h"
#include "imp/input.h"

#define JSTREAM_MAX_ELEMENT (4 * 1024 * 1024)
#define JSTREAM_MAX_DEPTH 64

struct jstream;

struct jstream *jstream_new(struct input *in);	/* borrows in */
/* For NDJSON: every line is one element, handed out as it is (a broken line is the
 * parser's to reject, and the next line is read regardless). */
void jstream_lines(struct jstream *j);
/* 1 with an element, 0 at the end, ERR_INVALID / ERR_TOO_LARGE / ERR_IO (final). */
int jstream_next(struct jstream *j, const char **elem, size_t *len, struct err *e) CAIRN_MUST_USE;
/* 1-based line where the last element started. */
size_t jstream_line(const struct jstream *j);
void jstream_free(struct jstream *j);

#endif
