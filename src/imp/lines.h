/*
 * lines.h — a line reader over a struct input, for line-oriented importers
 * (plain indicator lists, JSON lines).
 *
 * Depends on base/ and imp/input.h. Lines end with "\n" or "\r\n", which are
 * not part of the returned line; a final line without a newline is returned
 * too (a lone "\r" left at the very end of input is dropped with it, as the
 * remains of a CRLF file cut short). A UTF-8 byte order mark at the start of
 * input is skipped. Empty lines are returned (len 0); bytes are not
 * validated, so a line may contain NUL bytes — use len, not strlen().
 *
 * Ownership: the reader borrows in, which must outlive it; line_reader_free()
 * does not close it. A returned line points into the reader's buffer, is
 * NUL-terminated at len, and stays valid until the next line_next() or
 * line_reader_free().
 *
 * Errors: line_next() returns 1 with a line, 0 at the end of input, or
 *   ERR_TOO_LARGE  the line is longer than LINE_MAX_LEN bytes: e->offset is
 *                  its line number, the line is skipped and the next call
 *                  continues with the following line;
 *   ERR_IO         the input failed (e->msg from input_error()); not
 *                  continuable, every later call returns ERR_IO again.
 *
 * Limits: memory is one fixed buffer of about 2 * LINE_MAX_LEN, whatever the
 * size of the input or of its lines.
 */
#ifndef CAIRN_IMP_LINES_H
#define CAIRN_IMP_LINES_H

#include <stddef.h>

#include "base/err.h"
#include "imp/input.h"

#define LINE_MAX_LEN (64 * 1024)

struct line_reader;

/* Borrows in (not closed by line_reader_free()). Never NULL. */
struct line_reader *line_reader_new(struct input *in) CAIRN_MUST_USE;

int line_next(struct line_reader *r, const char **line, size_t *len, struct err *e) CAIRN_MUST_USE;

/* The 1-based number of the line last returned (or last skipped as too
 * long); 0 before the first. */
size_t line_number(const struct line_reader *r);

void line_reader_free(struct line_reader *r);

#endif
