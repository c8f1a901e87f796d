/*
 * fuzz_csv.c — libFuzzer target for the CSV reader (imp/csv.h), and on the
 * same bytes the line reader (imp/lines.h), both over input_from_memory().
 *
 * The first byte picks the delimiter (0 = detect, or one of the candidates),
 * the rest is the input. Every row is read, errors included, up to a bound;
 * the checks are the readers' promises: fields NUL-terminated at their length
 * and within the limits, line numbers that never go backwards, continuable
 * errors that make progress, and ERR_IO never happening on memory.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "imp/csv.h"
#include "imp/input.h"
#include "imp/lines.h"

#define MAX_CALLS 100000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_csv(const char *p, size_t n, char delim)
{
	struct input *in = input_from_memory(p, n);
	struct csv_reader *r = csv_new(in, delim);
	struct csv_row row;
	struct err e;
	size_t last_line = 0, total = 0;
	char d = csv_delimiter(r);
	if (d != ',' && d != ';' && d != '\t' && d != '|' && d != delim)
		abort();
	for (int calls = 0; calls < MAX_CALLS; calls++) {
		int rc = csv_next(r, &row, &e);
		if (rc == 0)
			break;
		if (rc == 1) {
			if (row.n < 1 || row.n > CSV_MAX_FIELDS || row.line <= last_line)
				abort();
			size_t sum = 0;
			for (size_t i = 0; i < row.n; i++) {
				if (row.len[i] > CSV_MAX_ROW || row.field[i][row.len[i]] != '\0')
					abort();
				sum += row.len[i];
			}
			if (sum > CSV_MAX_ROW)
				abort();
			total += sum;
			last_line = row.line;
		} else if (rc == ERR_INVALID || rc == ERR_TOO_LARGE) {
			if (e.offset <= last_line || e.msg[0] == '\0')
				abort();
			last_line = e.offset;
		} else {
			abort();	/* ERR_IO cannot happen on memory */
		}
	}
	/* Unescaping only shrinks. */
	if (total > n)
		abort();
	csv_free(r);
	input_close(in);
}

static void fuzz_lines(const char *p, size_t n)
{
	struct input *in = input_from_memory(p, n);
	struct line_reader *r = line_reader_new(in);
	struct err e;
	const char *line;
	size_t len, last = 0;
	for (int calls = 0; calls < MAX_CALLS; calls++) {
		int rc = line_next(r, &line, &len, &e);
		if (rc == 0)
			break;
		if (rc == 1) {
			if (len > LINE_MAX_LEN || line[len] != '\0' ||
			    memchr(line, '\n', len) != NULL)
				abort();
		} else if (rc != ERR_TOO_LARGE || e.offset != line_number(r)) {
			abort();
		}
		if (line_number(r) != last + 1)
			abort();
		last = line_number(r);
	}
	line_reader_free(r);
	input_close(in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char delims[] = { 0, ',', ';', '\t', '|' };
	if (size == 0)
		return 0;
	char delim = delims[data[0] % sizeof(delims)];
	const char *p = (const char *)data + 1;
	fuzz_csv(p, size - 1, delim);
	fuzz_lines(p, size - 1);
	return 0;
}
