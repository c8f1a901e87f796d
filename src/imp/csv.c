#include "imp/csv.h"

#include <stdlib.h>
#include <string.h>

#include "base/xmalloc.h"

/* A longest row with its "\r\n" and as much again to read into. */
#define RAW_CAP (2 * CSV_MAX_ROW)
/* Unescaping never lengthens a field; each field adds its NUL. */
#define OUT_CAP (CSV_MAX_ROW + CSV_MAX_FIELDS)

/*
 * The reader parses one row at a time from a raw buffer into an output
 * buffer of unescaped, NUL-terminated fields. The parse is incremental: when
 * it runs out of bytes it refills and carries on in the same state, so a row
 * is scanned once however the input trickles in.
 *
 * States (of the byte at pos, within the current row):
 *   FIELD_START  at the start of a field; '"' -> QUOTED, delimiter -> an empty
 *                field, line end -> the row ends, else -> UNQUOTED;
 *   UNQUOTED     delimiter -> FIELD_START, line end -> the row ends,
 *                '"' -> ERR_INVALID;
 *   QUOTED       '"' -> QUOTE_SEEN, anything else (newlines too) is data;
 *   QUOTE_SEEN   '"' -> a literal quote and QUOTED, delimiter ->
 *                FIELD_START, line end -> the row ends, else -> ERR_INVALID.
 *
 * Invariants:
 *   1. raw[start, end) is unconsumed input; the current row begins at start
 *      and has been parsed up to pos (start <= pos <= end).
 *   2. pos - start <= CSV_MAX_ROW (a row growing past it is ERR_TOO_LARGE),
 *      so before a refill end - start <= CSV_MAX_ROW + 1 and the refill has
 *      room; the unescaped row then fits in out.
 *   3. line is the physical line of pos; row_line that of start.
 *   4. After a row error, pos and line are rewound to the row's start and
 *      skipping is set: the next csv_next() first drops the bytes through the
 *      first '\n' after start (refilling and discarding as needed).
 */
enum state { FIELD_START, UNQUOTED, QUOTED, QUOTE_SEEN };

struct csv_reader {
	struct input *in;
	char delim;
	int eof;
	int failed;
	int skipping;
	enum state state;
	size_t start, pos, end;
	size_t line, row_line;
	size_t n;			/* fields finished in the current row */
	size_t out_len;
	size_t field_start;		/* offset in out of the field being built */
	size_t off[CSV_MAX_FIELDS];
	size_t len[CSV_MAX_FIELDS];
	char raw[RAW_CAP];
	char out[OUT_CAP];
};

static int io_error(struct csv_reader *r, struct err *e)
{
	r->failed = 1;
	if (e != NULL)
		e->offset = 0;
	return err_set(e, ERR_IO, "%s", input_error(r->in));
}

/* Returns 1 after reading, 0 at the end of input, or ERR_IO (also recorded
 * in r->failed, for the callers that cannot report it yet). */
static int fill(struct csv_reader *r, struct err *e)
{
	if (r->failed)
		return io_error(r, e);
	if (r->eof)
		return 0;
	if (r->start > 0) {
		memmove(r->raw, r->raw + r->start, r->end - r->start);
		r->pos -= r->start;
		r->end -= r->start;
		r->start = 0;
	}
	long got = input_read(r->in, r->raw + r->end, RAW_CAP - r->end);
	if (got < 0)
		return io_error(r, e);
	if (got == 0) {
		r->eof = 1;
		return 0;
	}
	r->end += (size_t)got;
	return 1;
}

static void skip_bom(struct csv_reader *r)
{
	/* A pipe may deliver fewer than three bytes at a time. */
	while (r->end - r->start < 3 && fill(r, NULL) > 0)
		;
	if (r->end - r->start >= 3 && memcmp(r->raw + r->start, "\xEF\xBB\xBF", 3) == 0)
		r->start += 3;
	r->pos = r->start;
}

/* The most frequent candidate outside quotes on the first non-blank line;
 * reads ahead but consumes nothing. */
static char detect(struct csv_reader *r)
{
	static const char cand[] = { ',', ';', '\t', '|' };
	size_t count[sizeof(cand)] = { 0 };
	size_t i = 0;			/* relative to start, which fill() may move */
	int quoted = 0, content = 0;
	for (;;) {
		if (r->start + i == r->end) {
			if (i >= CSV_MAX_ROW || fill(r, NULL) <= 0)
				break;
			continue;
		}
		char c = r->raw[r->start + i++];
		if (c == '"') {
			quoted = !quoted;	/* "" toggles twice: still right */
			content = 1;
		} else if (!quoted && c == '\n') {
			if (content)
				break;
		} else if (c != '\r') {
			content = 1;
			for (size_t k = 0; !quoted && k < sizeof(cand); k++)
				count[k] += c == cand[k];
		}
	}
	size_t best = 0;
	for (size_t k = 1; k < sizeof(cand); k++)
		if (count[k] > count[best])
			best = k;
	return count[best] > 0 ? cand[best] : ',';
}

struct csv_reader *csv_new(struct input *in, char delim)
{
	struct csv_reader *r = xmalloc(sizeof(*r));
	r->in = in;
	r->eof = r->failed = r->skipping = 0;
	r->start = r->pos = r->end = 0;
	r->line = r->row_line = 1;
	r->state = FIELD_START;
	r->n = r->out_len = r->field_start = 0;
	skip_bom(r);
	if (delim == 0 || delim == '"' || delim == '\r' || delim == '\n')
		delim = detect(r);
	r->delim = delim;
	return r;
}

void csv_free(struct csv_reader *r)
{
	free(r);
}

char csv_delimiter(const struct csv_reader *r)
{
	return r->delim;
}

static void begin_row(struct csv_reader *r)
{
	r->state = FIELD_START;
	r->pos = r->start;
	r->row_line = r->line;
	r->n = 0;
	r->out_len = 0;
	r->field_start = 0;
}

/* Called on a bad row, before reporting it: rewinds to the row's start and
 * arranges to resume at the line after the row's first. */
static void drop_row(struct csv_reader *r, struct err *e)
{
	r->skipping = 1;
	r->pos = r->start;
	r->line = r->row_line;
	if (e != NULL)
		e->offset = r->row_line;
}

/* The length of the line ending at pos, outside quotes: "\n", "\r\n", or a
 * '\r' that is the last byte of input; 0 for a '\r' that is data. */
static size_t eol_at(const struct csv_reader *r)
{
	if (r->raw[r->pos] == '\n')
		return 1;
	if (r->pos + 1 == r->end)
		return 1;	/* only reached at the end of input */
	return r->raw[r->pos + 1] == '\n' ? 2 : 0;
}

static int skip_line(struct csv_reader *r, struct err *e)
{
	for (;;) {
		char *nl = memchr(r->raw + r->start, '\n', r->end - r->start);
		if (nl != NULL) {
			r->start = r->pos = (size_t)(nl - r->raw) + 1;
			r->line++;
			break;
		}
		r->start = r->pos = r->end = 0;
		int rc = fill(r, e);
		if (rc < 0)
			return rc;
		if (rc == 0)
			break;
	}
	r->skipping = 0;
	return 0;
}

static int end_field(struct csv_reader *r, struct err *e)
{
	if (r->n == CSV_MAX_FIELDS) {
		drop_row(r, e);
		return err_set(e, ERR_TOO_LARGE, "more than %d fields", CSV_MAX_FIELDS);
	}
	r->out[r->out_len++] = '\0';
	r->off[r->n] = r->field_start;
	r->len[r->n] = r->out_len - 1 - r->field_start;
	r->n++;
	r->field_start = r->out_len;
	return 0;
}

/* Ends the row whose line ending (0, 1 or 2 bytes) is at pos. */
static int give_row(struct csv_reader *r, size_t eol, struct csv_row *row, struct err *e)
{
	int rc = end_field(r, e);
	if (rc < 0)
		return rc;
	r->pos += eol;
	if (eol > 0 && r->raw[r->pos - 1] == '\n')
		r->line++;
	r->start = r->pos;
	row->n = r->n;
	for (size_t i = 0; i < r->n; i++) {
		row->field[i] = r->out + r->off[i];
		row->len[i] = r->len[i];
	}
	row->line = r->row_line;
	return 1;
}

/* Consumes the byte c at pos, which is not a row's line ending; see the
 * states above. */
static int step(struct csv_reader *r, char c, struct err *e)
{
	switch (r->state) {
	case FIELD_START:
		if (c == '"') {
			r->state = QUOTED;
		} else if (c == r->delim) {
			return end_field(r, e);
		} else {
			r->out[r->out_len++] = c;
			r->state = UNQUOTED;
		}
		break;
	case UNQUOTED:
		if (c == r->delim) {
			r->state = FIELD_START;
			return end_field(r, e);
		} else if (c == '"') {
			drop_row(r, e);
			return err_set(e, ERR_INVALID, "quote inside an unquoted field");
		} else {
			r->out[r->out_len++] = c;
		}
		break;
	case QUOTED:
		if (c == '"') {
			r->state = QUOTE_SEEN;
		} else {
			r->out[r->out_len++] = c;
			r->line += c == '\n';
		}
		break;
	case QUOTE_SEEN:
		if (c == '"') {
			r->out[r->out_len++] = '"';
			r->state = QUOTED;
		} else if (c == r->delim) {
			r->state = FIELD_START;
			return end_field(r, e);
		} else {
			drop_row(r, e);
			return err_set(e, ERR_INVALID, "text after a closing quote");
		}
		break;
	}
	return 0;
}

int csv_next(struct csv_reader *r, struct csv_row *row, struct err *e)
{
	int rc;
	if (r->failed)
		return io_error(r, e);
	if (r->skipping && (rc = skip_line(r, e)) < 0)
		return rc;
	begin_row(r);
	for (;;) {
		/* Need a byte, and for a '\r' outside quotes the one after it. */
		if (r->pos == r->end || (r->pos + 1 == r->end && r->raw[r->pos] == '\r' &&
				r->state != QUOTED && !r->eof)) {
			if ((rc = fill(r, e)) < 0)
				return rc;
			if (rc > 0)
				continue;
			if (r->pos < r->end)
				continue;	/* a final '\r': now known to be last */
			if (r->state == QUOTED) {
				drop_row(r, e);
				return err_set(e, ERR_INVALID,
					"quoted field not terminated at end of input");
			}
			if (r->state == FIELD_START && r->n == 0 && r->pos == r->start)
				return 0;
			return give_row(r, 0, row, e);
		}
		char c = r->raw[r->pos];
		if (r->state != QUOTED && (c == '\n' || c == '\r')) {
			size_t eol = eol_at(r);
			if (eol > 0 && r->state == FIELD_START && r->n == 0 && r->pos == r->start) {
				/* A blank line is not a row. */
				r->pos += eol;
				r->line += r->raw[r->pos - 1] == '\n';
				r->start = r->pos;
				begin_row(r);
				continue;
			}
			if (eol > 0)
				return give_row(r, eol, row, e);
		}
		if (r->pos - r->start >= CSV_MAX_ROW) {
			drop_row(r, e);
			return err_set(e, ERR_TOO_LARGE, "row longer than %d bytes", CSV_MAX_ROW);
		}
		if ((rc = step(r, c, e)) < 0)
			return rc;
		r->pos++;
	}
}
