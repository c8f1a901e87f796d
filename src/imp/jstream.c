#include "imp/jstream.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/xmalloc.h"

enum mode { M_START, M_ARRAY, M_NDJSON, M_DONE };

struct jstream {
	struct input *in;
	char rbuf[65536];
	size_t rlen, rpos;
	bool eof;
	int pushback;		/* a byte given back, or -3 for none */
	size_t line, elem_line;
	enum mode mode;
	struct buf elem;
};

struct jstream *jstream_new(struct input *in)
{
	struct jstream *j = xcalloc(1, sizeof(*j));
	j->in = in;
	j->line = 1;
	j->pushback = -3;
	buf_init(&j->elem);
	return j;
}

void jstream_lines(struct jstream *j)
{
	j->mode = M_NDJSON;
}

void jstream_free(struct jstream *j)
{
	if (j == NULL)
		return;
	buf_cleanup(&j->elem);
	free(j);
}

size_t jstream_line(const struct jstream *j)
{
	return j->elem_line;
}

/* Next byte, or -1 at end, -2 on a read error. */
static int next_byte(struct jstream *j)
{
	if (j->pushback != -3) {
		int c = j->pushback;
		j->pushback = -3;
		return c;
	}
	if (j->rpos == j->rlen) {
		if (j->eof)
			return -1;
		long n = input_read(j->in, j->rbuf, sizeof(j->rbuf));
		if (n < 0)
			return -2;
		if (n == 0) {
			j->eof = true;
			return -1;
		}
		j->rlen = (size_t)n;
		j->rpos = 0;
	}
	int c = (unsigned char)j->rbuf[j->rpos++];
	if (c == '\n')
		j->line++;
	return c;
}

static void unread(struct jstream *j, int c)
{
	j->pushback = c;
}

static int skip_ws(struct jstream *j)
{
	int c;
	do
		c = next_byte(j);
	while (c == ' ' || c == '\t' || c == '\r' || c == '\n');
	return c;
}

static int fail(struct jstream *j, int code, struct err *e, const char *what)
{
	j->mode = M_DONE;
	if (code == ERR_IO)
		return err_set(e, ERR_IO, "read error: %s", input_error(j->in));
	return err_set(e, code, "line %zu: %s", j->line, what);
}

static int put(struct jstream *j, int c, struct err *e)
{
	if (j->elem.len >= JSTREAM_MAX_ELEMENT)
		return fail(j, ERR_TOO_LARGE, e, "a record is larger than the 4 MiB limit");
	buf_putc(&j->elem, (char)c);
	return 0;
}

/* Appends the whole value starting with byte c to j->elem. */
static int read_value(struct jstream *j, int c, struct err *e)
{
	int depth = 0;
	bool in_str = false, esc = false;
	if (c != '"' && c != '{' && c != '[') {
		/* A scalar: up to the next delimiter. One must start with something else, or the
		 * reader would hand out an empty element without moving on. */
		if (c == 0 || (c > 0 && strchr(",]}:", c)))
			return fail(j, ERR_INVALID, e, "unexpected character where a value should start");
		while (c > 0 && !strchr(",]} \t\r\n", c)) {
			if (put(j, c, e))
				return ERR_TOO_LARGE;
			c = next_byte(j);
		}
		if (c == -2)
			return fail(j, ERR_IO, e, NULL);
		unread(j, c);
		return 0;
	}
	for (;;) {
		if (c == -2)
			return fail(j, ERR_IO, e, NULL);
		if (c == -1)
			return fail(j, ERR_INVALID, e, "the JSON ends inside a value");
		if (put(j, c, e))
			return ERR_TOO_LARGE;
		if (in_str) {
			if (esc)
				esc = false;
			else if (c == '\\')
				esc = true;
			else if (c == '"') {
				in_str = false;
				if (depth == 0)
					return 0;
			}
		} else if (c == '"') {
			in_str = true;
		} else if (c == '{' || c == '[') {
			if (++depth > JSTREAM_MAX_DEPTH)
				return fail(j, ERR_TOO_LARGE, e, "JSON nested deeper than 64 levels");
		} else if (c == '}' || c == ']') {
			if (--depth == 0)
				return 0;
			if (depth < 0)
				return fail(j, ERR_INVALID, e, "unbalanced brackets");
		}
		c = next_byte(j);
	}
}

/*
 * At the start, '{' was read: scan the object's keys. If data/iocs/objects
 * holds an array, stream that array (returns 2). Otherwise the whole object
 * is one record and the input is NDJSON (returns 1 with it).
 */
static int open_object(struct jstream *j, struct err *e, const char **elem, size_t *len)
{
	j->elem_line = j->line;
	buf_reset(&j->elem);
	buf_putc(&j->elem, '{');
	for (;;) {
		int c = skip_ws(j);
		if (c == '}') {
			buf_putc(&j->elem, '}');
			j->mode = M_NDJSON;
			*elem = j->elem.data;
			*len = j->elem.len;
			return 1;
		}
		if (c == ',') {
			buf_putc(&j->elem, ',');
			continue;
		}
		if (c == -2)
			return fail(j, ERR_IO, e, NULL);
		if (c != '"')
			return fail(j, ERR_INVALID, e, "expected a key in the top-level object");
		size_t key_at = j->elem.len;
		if (read_value(j, c, e))
			return j->mode == M_DONE ? -1 : ERR_INVALID;
		char key[16] = "";
		size_t klen = j->elem.len - key_at;
		if (klen >= 2 && klen - 2 < sizeof(key))
			memcpy(key, j->elem.data + key_at + 1, klen - 2);
		c = skip_ws(j);
		if (c != ':')
			return fail(j, ERR_INVALID, e, "expected ':' after a key");
		buf_putc(&j->elem, ':');
		c = skip_ws(j);
		if (c == '[' && (!strcmp(key, "data") || !strcmp(key, "iocs") || !strcmp(key, "objects"))) {
			j->mode = M_ARRAY;
			return 2;
		}
		if (read_value(j, c, e))
			return ERR_INVALID;
	}
}

int jstream_next(struct jstream *j, const char **elem, size_t *len, struct err *e)
{
	int c = 0, rc;
	for (;;) {
		switch (j->mode) {
		case M_DONE:
			return 0;
		case M_START:
			c = skip_ws(j);
			if (c == -2)
				return fail(j, ERR_IO, e, NULL);
			if (c == -1) {
				j->mode = M_DONE;
				return 0;
			}
			if (c == '[') {
				j->mode = M_ARRAY;
				continue;
			}
			if (c == '{') {
				rc = open_object(j, e, elem, len);
				if (rc == 2)
					continue;
				if (rc < 0) {
					j->mode = M_DONE;
					return e && e->code ? e->code : ERR_INVALID;
				}
				return rc;
			}
			return fail(j, ERR_INVALID, e, "expected a JSON array or object");
		case M_NDJSON: {
			/* One line, whatever it holds; blank lines are skipped. */
			c = skip_ws(j);
			if (c == -2)
				return fail(j, ERR_IO, e, NULL);
			if (c == -1) {
				j->mode = M_DONE;
				return 0;
			}
			buf_reset(&j->elem);
			j->elem_line = c == '\n' ? j->line - 1 : j->line;
			bool too_long = false;
			while (c >= 0 && c != '\n') {
				if (j->elem.len < JSTREAM_MAX_ELEMENT)
					buf_putc(&j->elem, (char)c);
				else
					too_long = true;
				c = next_byte(j);
			}
			if (c == -2)
				return fail(j, ERR_IO, e, NULL);
			if (too_long) {
				e->offset = j->elem_line;
				return err_set(e, ERR_TOO_LARGE, "line %zu: a record is larger than the 4 MiB limit",
					       j->elem_line);
			}
			*elem = j->elem.data;
			*len = j->elem.len;
			return 1;
		}
		case M_ARRAY:
			c = skip_ws(j);
			if (c == ',')
				c = skip_ws(j);
			if (c == -2)
				return fail(j, ERR_IO, e, NULL);
			if (c == -1)
				return fail(j, ERR_INVALID, e, "the JSON ends inside the array");
			if (c == ']') {
				/* What follows (an envelope's "links", …) holds no records. */
				j->mode = M_DONE;
				return 0;
			}
			break;
		}
		buf_reset(&j->elem);
		j->elem_line = j->line;
		if (read_value(j, c, e))
			return e && e->code ? e->code : ERR_INVALID;
		*elem = j->elem.data;
		*len = j->elem.len;
		return 1;
	}
}
