/*
 * csv.h — a streaming RFC 4180 CSV reader over a struct input.
 *
 * Depends on base/ and imp/input.h. Reads one row at a time in bounded
 * memory. The format accepted:
 *   - rows end with "\n" or "\r\n"; a final row without a newline counts;
 *     a "\r" not followed by "\n" inside an unquoted field is data;
 *   - a field is either unquoted (no '"' at all) or wholly quoted, with '""'
 *     standing for '"'; quoted fields may hold delimiters and newlines, so a
 *     row may span several physical lines;
 *   - blank lines (nothing before the newline) are skipped, not rows; a line
 *     holding only "" or a delimiter is a row;
 *   - a UTF-8 byte order mark at the start of input is skipped;
 *   - no trimming: spaces are data, and a space before an opening quote makes
 *     the field unquoted (and then its '"' an error).
 *
 * Delimiter: csv_new(in, 0) detects it from the first non-blank line — the
 * most frequent of ',', ';', '\t', '|' outside quotes, ties going to the one
 * earlier in that list, ',' when none occurs. Detection reads ahead (up to
 * CSV_MAX_ROW bytes) before the first csv_next(); a read error there is
 * reported by the first csv_next().
 *
 * Ownership: the reader borrows in, which must outlive it; csv_free() does not
 * close it. A row's fields point into the reader, are NUL-terminated at their
 * len (a field may still contain NUL bytes) and unescaped, and stay valid
 * until the next csv_next() or csv_free().
 *
 * Errors: csv_next() returns 1 with a row, 0 at the end of input, or
 *   ERR_INVALID    a malformed row (a '"' inside an unquoted field, text after
 *                  a closing quote, a quoted field unterminated at the end of
 *                  input);
 *   ERR_TOO_LARGE  a row longer than CSV_MAX_ROW bytes or with more than
 *                  CSV_MAX_FIELDS fields;
 *                  for both, e->offset is the line number where the row
 *                  started and e->msg a one-line reason; the reader then
 *                  resumes at the physical line after the row's first line
 *                  (so a stray quote costs one line, not the rest of the
 *                  file — at the price that, when a multi-line row is bad,
 *                  its continuation lines are read again as rows);
 *   ERR_IO         the input failed (e->msg from input_error()); not
 *                  continuable, every later call returns ERR_IO again.
 *
 * Limits: CSV_MAX_ROW raw bytes per row (not counting its line ending),
 * CSV_MAX_FIELDS fields; memory is fixed at about 3 * CSV_MAX_ROW per reader.
 */
#ifndef CAIRN_IMP_CSV_H
#define CAIRN_IMP_CSV_H

#include <stddef.h>

#include "base/err.h"
#include "imp/input.h"

#define CSV_MAX_ROW (64 * 1024)
#define CSV_MAX_FIELDS 256

struct csv_row {
	size_t n;				/* fields, >= 1 */
	const char *field[CSV_MAX_FIELDS];	/* NUL-terminated, unescaped */
	size_t len[CSV_MAX_FIELDS];
	size_t line;				/* 1-based physical line where the row starts */
};

struct csv_reader;

/* Borrows in (not closed by csv_free()). delim 0 detects it (see above); so
 * does '"', '\r' or '\n', which cannot be delimiters. Never NULL. */
struct csv_reader *csv_new(struct input *in, char delim) CAIRN_MUST_USE;

int csv_next(struct csv_reader *r, struct csv_row *row, struct err *e) CAIRN_MUST_USE;

/* The delimiter in use (given or detected). */
char csv_delimiter(const struct csv_reader *r);

void csv_free(struct csv_reader *r);

#endif
