#include "imp/jpull.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/xmalloc.h"

/* What the tokenizer expects next. */
enum state {
	S_VALUE,	/* a value (or, first in an array, its end) */
	S_KEY,		/* a key (or, first in an object, its end) */
	S_COLON,	/* the ':' after a key */
	S_AFTER,	/* ',' or the end of the container, or the end of the input */
	S_DONE,		/* JP_EOF given */
	S_FAILED,
};

struct jpull {
	struct input *in;
	char rbuf[65536];
	size_t rlen, rpos;
	bool eof;
	uint64_t pos;		/* offset of the next byte */
	size_t line, col;
	uint64_t tok_off;
	size_t tok_line;

	enum state state;
	bool first;		/* just after '{' or '[' */
	bool one_value;		/* jpull_read_value_at(): stop after one value */
	bool keep;		/* store string text (off while skipping) */
	bool started;
	char stack[JPULL_MAX_DEPTH];
	int depth;

	char *text;
	size_t text_len, text_cap;
	bool truncated;
	int fail_code;
	char fail_msg[ERR_MSG_MAX];
};

struct jpull *jpull_new(struct input *in, size_t str_cap)
{
	struct jpull *p = xcalloc(1, sizeof(*p));
	p->in = in;
	p->line = 1;
	p->col = 0;
	p->keep = true;
	p->text_cap = str_cap < 16 ? 16 : str_cap;
	p->text = xmalloc(p->text_cap + 1);
	p->text[0] = '\0';
	return p;
}

void jpull_free(struct jpull *p)
{
	if (p == NULL)
		return;
	free(p->text);
	free(p);
}

const char *jpull_text(const struct jpull *p, size_t *len)
{
	if (len)
		*len = p->text_len;
	return p->text;
}

bool jpull_truncated(const struct jpull *p)
{
	return p->truncated;
}

size_t jpull_line(const struct jpull *p)
{
	return p->tok_line;
}

uint64_t jpull_offset(const struct jpull *p)
{
	return p->tok_off;
}

int jpull_depth(const struct jpull *p)
{
	return p->depth;
}

/* ---- bytes ---- */

/* Fills the buffer if it is empty: 1 with bytes, 0 at the end, -1 on a read error. */
static int fill(struct jpull *p)
{
	if (p->rpos < p->rlen)
		return 1;
	if (p->eof)
		return 0;
	long n = input_read(p->in, p->rbuf, sizeof(p->rbuf));
	if (n < 0)
		return -1;
	if (n == 0) {
		p->eof = true;
		return 0;
	}
	p->rlen = (size_t)n;
	p->rpos = 0;
	return 1;
}

/* The next byte without taking it: 0–255, -1 at the end, -2 on a read error. */
static int peek(struct jpull *p)
{
	int f = fill(p);
	if (f <= 0)
		return f == 0 ? -1 : -2;
	return (unsigned char)p->rbuf[p->rpos];
}

static int take(struct jpull *p)
{
	int c = peek(p);
	if (c >= 0) {
		p->rpos++;
		p->pos++;
		if (c == '\n') {
			p->line++;
			p->col = 0;
		} else {
			p->col++;
		}
	}
	return c;
}

static int fail(struct jpull *p, struct err *e, int code, const char *why)
{
	if (p->state != S_FAILED) {
		p->state = S_FAILED;
		p->fail_code = code;
		if (code == ERR_IO)
			snprintf(p->fail_msg, sizeof(p->fail_msg), "read error: %s", input_error(p->in));
		else
			snprintf(p->fail_msg, sizeof(p->fail_msg), "line %zu, column %zu: %s", p->line,
				 p->col + 1, why);
	}
	if (e)
		e->offset = p->line;
	return err_set(e, p->fail_code, "%s", p->fail_msg);
}

static int skip_ws(struct jpull *p)
{
	for (;;) {
		int c = peek(p);
		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			return c;
		take(p);
	}
}

/* ---- scalars ---- */

static void text_reset(struct jpull *p)
{
	p->text_len = 0;
	p->truncated = false;
	p->text[0] = '\0';
}

static void text_put(struct jpull *p, const char *s, size_t n)
{
	if (!p->keep)
		return;
	if (p->text_len + n > p->text_cap) {
		p->truncated = true;
		return;	/* whole characters only: a cut never splits one */
	}
	memcpy(p->text + p->text_len, s, n);
	p->text_len += n;
	p->text[p->text_len] = '\0';
}

static int hex4(struct jpull *p, unsigned *out)
{
	unsigned v = 0;
	for (int i = 0; i < 4; i++) {
		int c = take(p);
		int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
			: c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
		if (d < 0)
			return -1;
		v = v * 16 + (unsigned)d;
	}
	*out = v;
	return 0;
}

static void put_utf8(struct jpull *p, unsigned cp)
{
	char b[4];
	size_t n;
	if (cp < 0x80) {
		b[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (char)(0xc0 | (cp >> 6));
		b[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (char)(0xe0 | (cp >> 12));
		b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		b[0] = (char)(0xf0 | (cp >> 18));
		b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	text_put(p, b, n);
}

/* The opening '"' is taken. */
static int read_string(struct jpull *p, struct err *e)
{
	text_reset(p);
	for (;;) {
		int c = take(p);
		if (c == -2)
			return fail(p, e, ERR_IO, NULL);
		if (c == -1)
			return fail(p, e, ERR_INVALID, "the input ends inside a string");
		if (c == '"')
			return 0;
		if (c < 0x20)
			return fail(p, e, ERR_INVALID, "a control character inside a string (it must be escaped)");
		if (c == '\\') {
			int x = take(p);
			char ch;
			switch (x) {
			case '"': ch = '"'; break;
			case '\\': ch = '\\'; break;
			case '/': ch = '/'; break;
			case 'b': ch = '\b'; break;
			case 'f': ch = '\f'; break;
			case 'n': ch = '\n'; break;
			case 'r': ch = '\r'; break;
			case 't': ch = '\t'; break;
			case 'u': {
				unsigned cp, lo;
				if (hex4(p, &cp) != 0)
					return fail(p, e, ERR_INVALID, "\\u must be followed by 4 hex digits");
				if (cp >= 0xdc00 && cp <= 0xdfff)
					return fail(p, e, ERR_INVALID, "a lone low surrogate in a \\u escape");
				if (cp >= 0xd800 && cp <= 0xdbff) {
					if (take(p) != '\\' || take(p) != 'u' || hex4(p, &lo) != 0 || lo < 0xdc00 ||
					    lo > 0xdfff)
						return fail(p, e, ERR_INVALID, "a high surrogate in a \\u escape without its low half");
					cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				}
				put_utf8(p, cp);
				continue;
			}
			default:
				return fail(p, e, ERR_INVALID, "an invalid escape in a string");
			}
			text_put(p, &ch, 1);
			continue;
		}
		if (c < 0x80) {
			char ch = (char)c;
			text_put(p, &ch, 1);
			continue;
		}
		/* A multi-byte UTF-8 sequence: no overlong forms, no surrogates, at most U+10FFFF. */
		int need;
		int lo = 0x80, hi = 0xbf;
		if (c >= 0xc2 && c <= 0xdf)
			need = 1;
		else if (c == 0xe0)
			need = 2, lo = 0xa0;
		else if ((c >= 0xe1 && c <= 0xec) || c == 0xee || c == 0xef)
			need = 2;
		else if (c == 0xed)
			need = 2, hi = 0x9f;
		else if (c == 0xf0)
			need = 3, lo = 0x90;
		else if (c >= 0xf1 && c <= 0xf3)
			need = 3;
		else if (c == 0xf4)
			need = 3, hi = 0x8f;
		else
			return fail(p, e, ERR_INVALID, "invalid UTF-8 in a string");
		char seq[4];
		seq[0] = (char)c;
		for (int i = 1; i <= need; i++) {
			int b = take(p);
			if (b == -2)
				return fail(p, e, ERR_IO, NULL);
			if (b < lo || b > hi)
				return fail(p, e, ERR_INVALID, "invalid UTF-8 in a string");
			seq[i] = (char)b;
			lo = 0x80, hi = 0xbf;
		}
		text_put(p, seq, (size_t)need + 1);
	}
}

static bool digit(int c)
{
	return c >= '0' && c <= '9';
}

/* A number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?, followed by a delimiter. */
static int read_number(struct jpull *p, struct err *e)
{
	text_reset(p);
	int c = peek(p);
	char ch;
#define TAKE() (ch = (char)take(p), text_put(p, &ch, 1))
	if (c == '-') {
		TAKE();
		c = peek(p);
	}
	if (c == '0') {
		TAKE();
		c = peek(p);
		if (digit(c))
			return fail(p, e, ERR_INVALID, "a number with a leading zero");
	} else if (digit(c)) {
		while (digit(peek(p)))
			TAKE();
		c = peek(p);
	} else {
		return fail(p, e, ERR_INVALID, "a '-' not followed by a digit");
	}
	if (c == '.') {
		TAKE();
		if (!digit(peek(p)))
			return fail(p, e, ERR_INVALID, "a '.' in a number not followed by a digit");
		while (digit(peek(p)))
			TAKE();
		c = peek(p);
	}
	if (c == 'e' || c == 'E') {
		TAKE();
		c = peek(p);
		if (c == '+' || c == '-') {
			TAKE();
			c = peek(p);
		}
		if (!digit(c))
			return fail(p, e, ERR_INVALID, "an exponent without digits");
		while (digit(peek(p)))
			TAKE();
		c = peek(p);
	}
#undef TAKE
	if (c == -2)
		return fail(p, e, ERR_IO, NULL);
	if (c >= 0 && !strchr(" \t\r\n,]}", c))
		return fail(p, e, ERR_INVALID, "unexpected character after a number");
	return 0;
}

static int read_literal(struct jpull *p, const char *word, struct err *e)
{
	for (const char *w = word; *w; w++)
		if (take(p) != *w)
			return fail(p, e, ERR_INVALID, "not a JSON value (expected a string, number, object, "
						       "array, true, false or null)");
	int c = peek(p);
	if (c == -2)
		return fail(p, e, ERR_IO, NULL);
	if (c >= 0 && !strchr(" \t\r\n,]}", c))
		return fail(p, e, ERR_INVALID, "unexpected character after a literal");
	return 0;
}

/* ---- tokens ---- */

static int value(struct jpull *p, int c, struct err *e)
{
	int rc;
	switch (c) {
	case '{':
	case '[':
		if (p->depth >= JPULL_MAX_DEPTH)
			return fail(p, e, ERR_TOO_LARGE, "JSON nested deeper than 64 levels");
		take(p);
		p->stack[p->depth++] = (char)c;
		p->state = c == '{' ? S_KEY : S_VALUE;
		p->first = true;
		return c == '{' ? JP_OBJ : JP_ARR;
	case '"':
		take(p);
		if ((rc = read_string(p, e)) != 0)
			return rc;
		p->state = S_AFTER;
		return JP_STR;
	case 't':
	case 'f':
	case 'n':
		if ((rc = read_literal(p, c == 't' ? "true" : c == 'f' ? "false" : "null", e)) != 0)
			return rc;
		p->state = S_AFTER;
		return c == 't' ? JP_TRUE : c == 'f' ? JP_FALSE : JP_NULL;
	default:
		if (c == '-' || digit(c)) {
			if ((rc = read_number(p, e)) != 0)
				return rc;
			p->state = S_AFTER;
			return JP_NUM;
		}
		return fail(p, e, ERR_INVALID, c == -1 ? "the input ends where a value should be"
					      : "not a JSON value (expected a string, number, object, array, "
						"true, false or null)");
	}
}

static int close_container(struct jpull *p, int c)
{
	take(p);
	p->depth--;
	p->state = S_AFTER;
	p->first = false;
	return c == '}' ? JP_OBJ_END : JP_ARR_END;
}

int jpull_next(struct jpull *p, struct err *e)
{
	if (p->state == S_FAILED)
		return err_set(e, p->fail_code, "%s", p->fail_msg);
	if (p->state == S_DONE)
		return JP_EOF;
	if (!p->started) {
		p->started = true;
		/* A byte order mark is not JSON, but editors write one. */
		if (peek(p) == 0xef) {
			take(p);
			if (take(p) != 0xbb || take(p) != 0xbf)
				return fail(p, e, ERR_INVALID, "invalid UTF-8 at the start of the input");
		}
	}
	for (;;) {
		if (p->state == S_AFTER && p->depth == 0) {
			if (p->one_value) {
				p->state = S_DONE;
				return JP_EOF;
			}
			int c = skip_ws(p);
			if (c == -2)
				return fail(p, e, ERR_IO, NULL);
			if (c != -1)
				return fail(p, e, ERR_INVALID, "more data after the end of the JSON value");
			p->state = S_DONE;
			return JP_EOF;
		}
		int c = skip_ws(p);
		if (c == -2)
			return fail(p, e, ERR_IO, NULL);
		p->tok_off = p->pos;
		p->tok_line = p->line;
		char top = p->depth ? p->stack[p->depth - 1] : 0;
		switch (p->state) {
		case S_VALUE:
			if (c == ']' && top == '[') {
				if (!p->first)
					return fail(p, e, ERR_INVALID, "']' after ',' in an array (a trailing comma is not JSON)");
				return close_container(p, c);
			}
			if (c == -1 && p->depth == 0 && !p->one_value)
				return fail(p, e, ERR_INVALID, "the input is empty");
			p->first = false;
			return value(p, c, e);
		case S_KEY:
			if (c == '}') {
				if (!p->first)
					return fail(p, e, ERR_INVALID, "'}' after ',' in an object (a trailing comma is not JSON)");
				return close_container(p, c);
			}
			if (c != '"')
				return fail(p, e, c == -1 ? ERR_INVALID : ERR_INVALID,
					    c == -1 ? "the input ends inside an object" : "expected a key (a string in double quotes)");
			take(p);
			{
				int rc = read_string(p, e);
				if (rc)
					return rc;
			}
			p->state = S_COLON;
			p->first = false;
			return JP_KEY;
		case S_COLON:
			if (c != ':')
				return fail(p, e, ERR_INVALID, "expected ':' after a key");
			take(p);
			p->state = S_VALUE;
			continue;
		case S_AFTER:
			if (c == ',') {
				take(p);
				p->state = top == '{' ? S_KEY : S_VALUE;
				p->first = false;
				continue;
			}
			if ((c == '}' && top == '{') || (c == ']' && top == '['))
				return close_container(p, c);
			if (c == -1)
				return fail(p, e, ERR_INVALID, top == '{' ? "the input ends inside an object"
									  : "the input ends inside an array");
			return fail(p, e, ERR_INVALID, top == '{' ? "expected ',' or '}' after a value in an object"
								  : "expected ',' or ']' after a value in an array");
		default:
			return fail(p, e, ERR_INTERNAL, "tokenizer state");
		}
	}
}

int jpull_skip(struct jpull *p, struct err *e)
{
	int tok_depth = p->depth;
	if (p->state == S_FAILED)
		return err_set(e, p->fail_code, "%s", p->fail_msg);
	/* Only right after an opening token is the tokenizer inside a container it just entered. */
	if (!(p->first && (p->state == S_KEY || p->state == S_VALUE) && tok_depth > 0))
		return 0;
	bool keep = p->keep;
	p->keep = false;
	int rc = 0;
	while (p->depth >= tok_depth) {
		rc = jpull_next(p, e);
		if (rc < 0)
			break;
		if (rc == JP_EOF) {
			rc = fail(p, e, ERR_INTERNAL, "the input ended inside a skipped container");
			break;
		}
		rc = 0;
	}
	p->keep = keep;
	text_reset(p);
	return rc < 0 ? rc : 0;
}

int jpull_read_value_at(struct jpull *p, uint64_t offset, struct err *e)
{
	if (p->state == S_FAILED)
		return err_set(e, p->fail_code, "%s", p->fail_msg);
	if (offset < p->pos)
		return err_set(e, ERR_INTERNAL, "jpull_read_value_at: offset %llu is behind %llu",
			       (unsigned long long)offset, (unsigned long long)p->pos);
	p->started = true;	/* a byte order mark is only the input's first bytes */
	while (p->pos < offset) {
		/* Whole buffered blocks at a time, counting lines for the messages. */
		int f = fill(p);
		if (f < 0)
			return fail(p, e, ERR_IO, NULL);
		if (f == 0)
			return fail(p, e, ERR_INVALID, "the input ended before the value looked ahead at");
		size_t n = p->rlen - p->rpos;
		if ((uint64_t)n > offset - p->pos)
			n = (size_t)(offset - p->pos);
		const char *b = p->rbuf + p->rpos;
		for (size_t i = 0; i < n; i++)
			if (b[i] == '\n') {
				p->line++;
				p->col = 0;
			} else {
				p->col++;
			}
		p->rpos += n;
		p->pos += n;
	}
	p->state = S_VALUE;
	p->depth = 0;
	p->first = false;
	p->one_value = true;
	text_reset(p);
	return 0;
}
