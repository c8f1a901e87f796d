#include "imp/lines.h"

#include <stdlib.h>
#include <string.h>

#include "base/xmalloc.h"

/* Room for a longest line with its "\r\n" plus as much again to read into,
 * so a refill is never smaller than LINE_MAX_LEN - 1 bytes. */
#define BUF_CAP (2 * LINE_MAX_LEN)

/*
 * Invariants:
 *   1. buf[start, end) is input not yet returned; start <= scan <= end.
 *   2. buf[start, scan) holds no '\n' (so a search resumes at scan).
 *   3. Before a refill, end - start <= LINE_MAX_LEN + 1, so a refill always
 *      has room; a longer stretch without '\n' is a too-long line.
 *   4. skipping: the line being read was reported too long and the bytes up
 *      to and including its '\n' are still to be dropped.
 */
struct line_reader {
	struct input *in;
	size_t start, scan, end;
	size_t line;
	int eof;
	int failed;
	int skipping;
	int bom_done;
	char buf[BUF_CAP + 1];	/* + 1: a final line is NUL-terminated too */
};

struct line_reader *line_reader_new(struct input *in)
{
	struct line_reader *r = xmalloc(sizeof(*r));
	r->in = in;
	r->start = r->scan = r->end = 0;
	r->line = 0;
	r->eof = r->failed = r->skipping = r->bom_done = 0;
	return r;
}

void line_reader_free(struct line_reader *r)
{
	free(r);
}

size_t line_number(const struct line_reader *r)
{
	return r->line;
}

static int io_error(struct line_reader *r, struct err *e)
{
	r->failed = 1;
	if (e != NULL)
		e->offset = 0;
	return err_set(e, ERR_IO, "%s", input_error(r->in));
}

/* Returns 1 after reading, 0 at the end of input, or ERR_IO. */
static int fill(struct line_reader *r, struct err *e)
{
	if (r->eof)
		return 0;
	if (r->start > 0) {
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->scan -= r->start;
		r->end -= r->start;
		r->start = 0;
	}
	long n = input_read(r->in, r->buf + r->end, BUF_CAP - r->end);
	if (n < 0)
		return io_error(r, e);
	if (n == 0) {
		r->eof = 1;
		return 0;
	}
	r->end += (size_t)n;
	return 1;
}

static int too_large(struct line_reader *r, struct err *e)
{
	if (e != NULL)
		e->offset = r->line;
	return err_set(e, ERR_TOO_LARGE, "line longer than %d bytes", LINE_MAX_LEN);
}

static int skip_bom(struct line_reader *r, struct err *e)
{
	/* A pipe may deliver fewer than three bytes at a time. */
	while (r->end - r->start < 3 && !r->eof) {
		int rc = fill(r, e);
		if (rc < 0)
			return rc;
	}
	if (r->end - r->start >= 3 && memcmp(r->buf + r->start, "\xEF\xBB\xBF", 3) == 0)
		r->start += 3;
	r->scan = r->start;
	r->bom_done = 1;
	return 0;
}

static int skip_rest_of_line(struct line_reader *r, struct err *e)
{
	for (;;) {
		char *nl = memchr(r->buf + r->start, '\n', r->end - r->start);
		if (nl != NULL) {
			r->start = r->scan = (size_t)(nl - r->buf) + 1;
			break;
		}
		r->start = r->scan = r->end = 0;
		if (r->eof)
			break;
		int rc = fill(r, e);
		if (rc < 0)
			return rc;
	}
	r->skipping = 0;
	return 0;
}

/* Hands out buf[start, start + n) without a trailing '\r', and moves start
 * to next (past the line's ending). */
static int give(struct line_reader *r, size_t n, size_t next, const char **line, size_t *len,
	struct err *e)
{
	char *p = r->buf + r->start;
	r->line++;
	r->start = r->scan = next;
	if (n > 0 && p[n - 1] == '\r')
		n--;
	if (n > LINE_MAX_LEN)
		return too_large(r, e);
	p[n] = '\0';	/* over the '\r' or '\n', or the spare byte at the end */
	*line = p;
	*len = n;
	return 1;
}

int line_next(struct line_reader *r, const char **line, size_t *len, struct err *e)
{
	int rc;
	if (r->failed)
		return io_error(r, e);
	if (!r->bom_done && (rc = skip_bom(r, e)) < 0)
		return rc;
	if (r->skipping && (rc = skip_rest_of_line(r, e)) < 0)
		return rc;
	for (;;) {
		char *nl = memchr(r->buf + r->scan, '\n', r->end - r->scan);
		if (nl != NULL) {
			size_t at = (size_t)(nl - r->buf);
			return give(r, at - r->start, at + 1, line, len, e);
		}
		r->scan = r->end;
		size_t have = r->end - r->start;
		if (have > LINE_MAX_LEN + 1) {
			r->line++;
			r->skipping = 1;
			r->start = r->scan = r->end = 0;
			return too_large(r, e);
		}
		if (r->eof) {
			if (have == 0)
				return 0;
			return give(r, have, r->end, line, len, e);
		}
		if ((rc = fill(r, e)) < 0)
			return rc;
	}
}
