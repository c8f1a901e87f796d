/*
 * pattern_parse.c — recursive descent over the tokens of pattern_lex.c,
 * building the AST of pattern.h in the pattern's arena, plus the checks the
 * reference validator makes after parsing (duplicate qualifiers, hash values).
 *
 * The grammar's left-recursive rules become loops: a chain of ORs is one
 * node with n kids, so recursion depth grows only with nesting, which
 * STIX_PATTERN_MAX_DEPTH caps.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "stix/pattern_int.h"

struct parser {
	struct lexer lx;
	struct token tok;	/* the current token, not yet consumed */
	struct arena *a;
	const char *src;
	struct err *e;
	int depth;
	size_t n_cmp;
};

static int advance(struct parser *p)
{
	return lex_next(&p->lx, &p->tok);
}

/* "expected X at offset N, found Y". */
static int expected(struct parser *p, const char *what)
{
	const struct token *t = &p->tok;
	if (p->e == NULL)
		return ERR_INVALID;
	if (t->kind == T_IDENT || t->kind == T_IDENT_HYPHEN) {
		int n = t->len > 40 ? 40 : (int)t->len;
		err_set(p->e, ERR_INVALID, "expected %s at offset %zu, found '%.*s%s'", what, t->off, n,
			p->src + t->off, t->len > 40 ? "..." : "");
	} else {
		err_set(p->e, ERR_INVALID, "expected %s at offset %zu, found %s", what, t->off,
			tok_name(t->kind));
	}
	p->e->offset = t->off;
	return ERR_INVALID;
}

static int expect(struct parser *p, enum tok k, const char *what)
{
	if (p->tok.kind != k)
		return expected(p, what);
	return advance(p);
}

static int enter(struct parser *p)
{
	if (++p->depth > STIX_PATTERN_MAX_DEPTH)
		return pat_fail(p->e, ERR_TOO_LARGE, p->tok.off, "nesting deeper than %d",
				STIX_PATTERN_MAX_DEPTH);
	return 0;
}

static void *zalloc(struct parser *p, size_t n)
{
	void *q = arena_alloc(p->a, n);
	memset(q, 0, n);
	return q;
}

/*
 * Copies s[0..n) to d, NUL-terminated, undoing \' and \\ when `escaped`;
 * d has room for n + 1 bytes. Returns the length written.
 */
static size_t unescape(char *d, const char *s, size_t n, bool escaped)
{
	size_t j = 0;
	if (!escaped) {
		memcpy(d, s, n);
		j = n;
	} else {
		for (size_t i = 0; i < n; i++) {
			if (s[i] == '\\')
				i++;	/* the lexer made sure an escaped character follows */
			d[j++] = s[i];
		}
	}
	d[j] = '\0';
	return j;
}

/* A zeroed node with room for a text of n bytes (and a NUL) right after it. */
static void *node_text(struct parser *p, size_t size, size_t n, char **text)
{
	char *q = arena_alloc(p->a, size + n + 1);
	memset(q, 0, size);
	*text = q + size;
	return q;
}

/* Digits (with an optional sign) to long long, saturating; true if it fit. */
static bool to_ll(const char *s, size_t n, long long *out)
{
	bool neg = false;
	size_t i = 0;
	if (n > 0 && (s[0] == '-' || s[0] == '+')) {
		neg = s[0] == '-';
		i = 1;
	}
	unsigned long long v = 0, lim = neg ? (unsigned long long)LLONG_MAX + 1 : LLONG_MAX;
	for (; i < n; i++) {
		unsigned d = (unsigned)(s[i] - '0');
		if (v > (lim - d) / 10) {
			*out = neg ? LLONG_MIN : LLONG_MAX;
			return false;
		}
		v = v * 10 + d;
	}
	if (!neg)
		*out = (long long)v;
	else
		*out = v > (unsigned long long)LLONG_MAX ? LLONG_MIN : -(long long)v;
	return true;
}

/* The constant of the current token (which must be one), consumed. */
static int constant(struct parser *p, struct stix_const **out)
{
	const struct token *t = &p->tok;
	const char *raw = p->src + t->off;
	size_t skip = 0, n = 0;
	char *text;
	/* The text: between the quotes, or the number without '+'. */
	switch (t->kind) {
	case T_INT:
	case T_FLOAT:
		skip = raw[0] == '+' ? 1 : 0;
		n = t->len - skip;
		break;
	case T_STRING:
		skip = 1;
		n = t->len - 2;
		break;
	case T_BINARY:
	case T_HEX:
	case T_TIMESTAMP:
		skip = 2;
		n = t->len - 3;
		break;
	case T_BOOL:
		break;
	default:
		return expected(p, "a constant");
	}
	struct stix_const *c = node_text(p, sizeof(*c), n, &text);
	c->offset = t->off;
	c->raw_len = t->len;
	c->text = text;
	c->len = unescape(text, raw + skip, n, t->escaped);
	switch (t->kind) {
	case T_INT:
		c->kind = STIX_CONST_INT;
		c->big = !to_ll(text, n, &c->i);
		c->f = c->big ? strtod(text, NULL) : (double)c->i;
		break;
	case T_FLOAT:
		c->kind = STIX_CONST_FLOAT;
		c->f = strtod(text, NULL);
		break;
	case T_STRING:
		c->kind = STIX_CONST_STRING;
		break;
	case T_BOOL:
		c->kind = STIX_CONST_BOOL;
		c->i = raw[0] == 't';
		c->text = c->i ? "true" : "false";
		c->len = c->i ? 4 : 5;
		break;
	case T_BINARY:
		c->kind = STIX_CONST_BINARY;
		break;
	case T_TIMESTAMP:
		c->kind = STIX_CONST_TIMESTAMP;
		break;
	default:	/* T_HEX, in lower case */
		c->kind = STIX_CONST_HEX;
		for (size_t i = 0; i < n; i++)
			if (text[i] >= 'A' && text[i] <= 'F')
				text[i] = (char)(text[i] - 'A' + 'a');
		break;
	}
	*out = c;
	return advance(p);
}

static bool is_constant(enum tok k)
{
	return k >= T_INT && k <= T_TIMESTAMP;
}

/* --- object paths --- */

static int key_step(struct parser *p, struct stix_step **out)
{
	const struct token *t = &p->tok;
	size_t skip = t->kind == T_STRING ? 1 : 0;
	char *text;
	struct stix_step *st = node_text(p, sizeof(*st), t->len - 2 * skip, &text);
	st->kind = STIX_STEP_KEY;
	st->offset = t->off;
	st->quoted = skip != 0;
	st->text = text;
	st->len = unescape(text, p->src + t->off + skip, t->len - 2 * skip, t->escaped);
	*out = st;
	return advance(p);
}

static int index_step(struct parser *p, struct stix_step **out)
{
	size_t off = p->tok.off;
	int rc = advance(p);	/* '[' */
	if (rc != 0)
		return rc;
	const struct token *t = &p->tok;
	struct stix_step *st;
	char *text;
	if (t->kind == T_ASTERISK) {
		st = node_text(p, sizeof(*st), 1, &text);
		st->kind = STIX_STEP_ANY;
		st->len = unescape(text, "*", 1, false);
	} else if (t->kind == T_INT) {
		const char *raw = p->src + t->off;
		size_t skip = raw[0] == '+' ? 1 : 0;
		st = node_text(p, sizeof(*st), t->len - skip, &text);
		st->kind = STIX_STEP_INDEX;
		st->len = unescape(text, raw + skip, t->len - skip, false);
		(void)to_ll(text, st->len, &st->index);
	} else {
		return expected(p, "a list index or '*'");
	}
	st->offset = off;
	st->text = text;
	if ((rc = advance(p)) != 0)
		return rc;
	*out = st;
	return expect(p, T_RBRACK, "']'");
}

static int path(struct parser *p, struct stix_path *out)
{
	const struct token *t = &p->tok;
	if (t->kind != T_IDENT && t->kind != T_IDENT_HYPHEN)
		return expected(p, "an object type");
	out->offset = t->off;
	out->type_len = t->len;
	out->type = arena_strndup(p->a, p->src + t->off, t->len);
	int rc = advance(p);
	if (rc != 0 || (rc = expect(p, T_COLON, "':'")) != 0)
		return rc;
	if (t->kind != T_IDENT && t->kind != T_STRING)
		return expected(p, "a property name");
	struct stix_step *st, *tail;
	if ((rc = key_step(p, &st)) != 0)
		return rc;
	out->steps = tail = st;
	out->n_steps = 1;
	for (;;) {
		if (t->kind == T_DOT) {
			if ((rc = advance(p)) != 0)
				return rc;
			if (t->kind != T_IDENT && t->kind != T_STRING)
				return expected(p, "a property name after '.'");
			rc = key_step(p, &st);
		} else if (t->kind == T_LBRACK) {
			rc = index_step(p, &st);
		} else {
			return 0;
		}
		if (rc != 0)
			return rc;
		tail->next = st;
		tail = st;
		out->n_steps++;
	}
}

/* --- the reference validator's hash-value rule --- */

enum hash_form { H_HEX, H_MD6, H_SSDEEP };

#define NAME(s) s, sizeof(s) - 1
static const struct {
	const char *name;
	size_t name_len;
	enum hash_form form;
	size_t n;
} hash_names[] = {
	{ NAME("MD5"), H_HEX, 32 },	   { NAME("MD6"), H_MD6, 32 },
	{ NAME("RIPEMD160"), H_HEX, 40 }, { NAME("SHA1"), H_HEX, 40 },
	{ NAME("SHA224"), H_HEX, 56 },	   { NAME("SHA256"), H_HEX, 64 },
	{ NAME("SHA384"), H_HEX, 96 },	   { NAME("SHA512"), H_HEX, 128 },
	{ NAME("SHA3224"), H_HEX, 56 },   { NAME("SHA3256"), H_HEX, 64 },
	{ NAME("SHA3384"), H_HEX, 96 },   { NAME("SHA3512"), H_HEX, 128 },
	{ NAME("SSDEEP"), H_SSDEEP, 128 }, { NAME("WHIRLPOOL"), H_HEX, 128 },
};

/*
 * The reference normalises the last key with Python's str.upper() and drops
 * '-' and '\''. A few non-ASCII letters upper-case to ASCII (ß → SS, ı → I,
 * ſ → S, the Latin ligatures ﬀ…ﬆ); any other non-ASCII character leaves a
 * name that matches nothing. Returns the table index, or -1.
 */
static int hash_index(const char *key, size_t len)
{
	static const struct {
		const char *utf8, *upper;
		size_t utf8_len, upper_len;
	} special[] = {
		{ "\xc3\x9f", "SS", 2, 2 },	   { "\xc4\xb1", "I", 2, 1 },	       { "\xc5\xbf", "S", 2, 1 },
		{ "\xef\xac\x80", "FF", 3, 2 }, { "\xef\xac\x81", "FI", 3, 2 },  { "\xef\xac\x82", "FL", 3, 2 },
		{ "\xef\xac\x83", "FFI", 3, 3 }, { "\xef\xac\x84", "FFL", 3, 3 }, { "\xef\xac\x85", "ST", 3, 2 },
		{ "\xef\xac\x86", "ST", 3, 2 },
	};
	char name[16];
	size_t n = 0;
	if (len > 3 * sizeof(name))
		return -1;
	for (size_t i = 0; i < len;) {
		unsigned char c = (unsigned char)key[i];
		if (c < 0x80) {
			i++;
			if (c == '-' || c == '\'')
				continue;
			if (n + 1 >= sizeof(name))
				return -1;
			name[n++] = (char)(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
			continue;
		}
		size_t k = 0, nk = sizeof(special) / sizeof(special[0]);
		while (k < nk && !(len - i >= special[k].utf8_len &&
				   memcmp(key + i, special[k].utf8, special[k].utf8_len) == 0))
			k++;
		if (k == nk || n + special[k].upper_len >= sizeof(name))
			return -1;
		memcpy(name + n, special[k].upper, special[k].upper_len);
		n += special[k].upper_len;
		i += special[k].utf8_len;
	}
	for (size_t k = 0; k < sizeof(hash_names) / sizeof(hash_names[0]); k++)
		if (hash_names[k].name_len == n && memcmp(hash_names[k].name, name, n) == 0)
			return (int)k;
	return -1;
}

static bool all_hex(const char *s, size_t n)
{
	unsigned bad = 0;
	for (size_t i = 0; i < n; i++)
		bad |= !(pat_cls[(unsigned char)s[i]] & PAT_HEX);
	return bad == 0;
}

/*
 * Python's re.match of the reference's regular expressions on v: "^…$"
 * where '$' also matches before one final '\n'; MD6's expression lacks a
 * group, so it accepts any value that starts with 32 hex digits (or with
 * '\n' and four spaces, then 64).
 */
static bool hash_form_ok(int k, const char *v, size_t n)
{
	if (hash_names[k].form == H_MD6)
		return (n >= 32 && all_hex(v, 32)) ||
		       (n >= 69 && memcmp(v, "\n    ", 5) == 0 && all_hex(v + 5, 64));
	if (n > 0 && v[n - 1] == '\n')
		n--;
	if (hash_names[k].form == H_HEX)
		return n == hash_names[k].n && all_hex(v, n);
	if (n < 1 || n > 128)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = v[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      c == '/' || c == '+' || c == ':' || c == '.'))
			return false;
	}
	return true;
}

/*
 * s[0..n) for a one-line message: control characters as '?', cut at a
 * character boundary with "..." when it does not fit.
 */
static void excerpt(char *out, size_t cap, const char *s, size_t n)
{
	size_t m = n;
	if (m > cap - 1) {
		m = cap - 4;
		while (m > 0 && ((unsigned char)s[m] & 0xC0) == 0x80)
			m--;
	}
	for (size_t i = 0; i < m; i++)
		out[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	if (m < n)
		memcpy(out + m, "...", 4);
	else
		out[m] = '\0';
}

static int check_hash(struct parser *p, const struct stix_cmp *c)
{
	const struct stix_step *last = NULL;
	bool hashes = false;
	if (c->op == STIX_OP_EXISTS)
		return 0;
	for (const struct stix_step *st = c->path.steps; st != NULL; st = st->next) {
		if (st->kind == STIX_STEP_KEY && st->len == 6 && memcmp(st->text, "hashes", 6) == 0)
			hashes = true;
		last = st;
	}
	/* After an index the reference crashes rather than rule; [*] it skips. */
	if (!hashes || last->kind != STIX_STEP_KEY)
		return 0;
	int k = hash_index(last->text, last->len);
	if (k < 0)
		return 0;
	char key[48];
	excerpt(key, sizeof(key), last->text, last->len);
	if (c->op == STIX_OP_IN)
		return pat_fail(p->e, ERR_INVALID, c->op_offset,
				"a set is not a valid %s hash (the reference validator checks "
				"the set as one value)", key);
	/*
	 * The constant as written, without its quotes (the reference's
	 * getText()): the string's own text unless it has escapes, as it
	 * nearly always does not.
	 */
	const struct stix_const *v = c->value;
	const char *buf = v->text;
	size_t n = v->len;
	if (v->kind != STIX_CONST_STRING || v->len + 2 != v->raw_len) {
		char *copy = arena_alloc(p->a, v->raw_len + 1);
		n = 0;
		for (size_t i = 0; i < v->raw_len; i++)
			if (p->src[v->offset + i] != '\'')
				copy[n++] = p->src[v->offset + i];
		buf = copy;
	}
	if (hash_form_ok(k, buf, n))
		return 0;
	char show[80];
	excerpt(show, sizeof(show), buf, n);
	return pat_fail(p->e, ERR_INVALID, v->offset, "'%s' is not a valid %s hash", show, key);
}

/* --- comparison expressions --- */

static int cmp_or(struct parser *p, struct stix_cmp **out);

static int operator(struct parser *p, struct stix_cmp *c)
{
	const struct token *t = &p->tok;
	int rc;
	c->op_offset = t->off;
	if (t->kind == T_NOT) {
		c->negated = true;
		if ((rc = advance(p)) != 0)
			return rc;
	}
	enum tok op = t->kind;
	switch (op) {
	case T_EQ: c->op = STIX_OP_EQ; break;
	case T_NEQ: c->op = STIX_OP_NEQ; break;
	case T_LT: c->op = STIX_OP_LT; break;
	case T_LE: c->op = STIX_OP_LE; break;
	case T_GT: c->op = STIX_OP_GT; break;
	case T_GE: c->op = STIX_OP_GE; break;
	case T_IN: c->op = STIX_OP_IN; break;
	case T_LIKE: c->op = STIX_OP_LIKE; break;
	case T_MATCHES: c->op = STIX_OP_MATCHES; break;
	case T_ISSUBSET: c->op = STIX_OP_ISSUBSET; break;
	case T_ISSUPERSET: c->op = STIX_OP_ISSUPERSET; break;
	default:
		return expected(p, c->negated ? "a comparison operator after NOT"
					      : "a comparison operator");
	}
	if ((rc = advance(p)) != 0)
		return rc;
	struct stix_const *v;
	switch (c->op) {
	case STIX_OP_EQ:
	case STIX_OP_NEQ:
		if (!is_constant(t->kind))
			return expected(p, "a constant");
		break;
	case STIX_OP_LT:
	case STIX_OP_LE:
	case STIX_OP_GT:
	case STIX_OP_GE:
		if (!is_constant(t->kind) || t->kind == T_BOOL)
			return expected(p, "a constant other than a boolean");
		break;
	case STIX_OP_IN: {
		if ((rc = expect(p, T_LPAREN, "'(' after IN")) != 0)
			return rc;
		if (t->kind == T_RPAREN)
			return advance(p);
		struct stix_const *tail = NULL;
		for (;;) {
			if (!is_constant(t->kind))
				return expected(p, "a constant");
			if ((rc = constant(p, &v)) != 0)
				return rc;
			if (tail == NULL)
				c->value = v;
			else
				tail->next = v;
			tail = v;
			c->n_values++;
			if (t->kind != T_COMMA)
				break;
			if ((rc = advance(p)) != 0)
				return rc;
		}
		return expect(p, T_RPAREN, "',' or ')'");
	}
	default:	/* LIKE, MATCHES, ISSUBSET, ISSUPERSET */
		if (t->kind != T_STRING)
			return expected(p, "a string");
		break;
	}
	if ((rc = constant(p, &v)) != 0)
		return rc;
	c->value = v;
	c->n_values = 1;
	return 0;
}

static int cmp_primary(struct parser *p, struct stix_cmp **out)
{
	const struct token *t = &p->tok;
	int rc;
	if (t->kind == T_LPAREN) {
		if ((rc = enter(p)) != 0 || (rc = advance(p)) != 0 || (rc = cmp_or(p, out)) != 0)
			return rc;
		p->depth--;
		return expect(p, T_RPAREN, "')'");
	}
	struct stix_cmp *c = zalloc(p, sizeof(*c));
	c->kind = STIX_CMP_TEST;
	c->offset = t->off;
	if (t->kind == T_NOT || t->kind == T_EXISTS) {
		c->op_offset = t->off;
		c->op = STIX_OP_EXISTS;
		if (t->kind == T_NOT) {
			c->negated = true;
			if ((rc = advance(p)) != 0 || (rc = expect(p, T_EXISTS, "'EXISTS' after NOT")) != 0)
				return rc;
		} else if ((rc = advance(p)) != 0) {
			return rc;
		}
		if ((rc = path(p, &c->path)) != 0)
			return rc;
	} else if (t->kind == T_IDENT || t->kind == T_IDENT_HYPHEN) {
		if ((rc = path(p, &c->path)) != 0 || (rc = operator(p, c)) != 0)
			return rc;
	} else {
		return expected(p, "an object path, EXISTS or '('");
	}
	if ((rc = check_hash(p, c)) != 0)
		return rc;
	p->n_cmp++;
	*out = c;
	return 0;
}

/* level 0: OR, 1: AND, 2: a primary. */
static int cmp_level(struct parser *p, int level, struct stix_cmp **out)
{
	static const enum tok ops[2] = { T_OR, T_AND };
	static const enum stix_cmp_kind kinds[2] = { STIX_CMP_OR, STIX_CMP_AND };
	if (level == 2)
		return cmp_primary(p, out);
	struct stix_cmp *first, *k;
	int rc = cmp_level(p, level + 1, &first);
	if (rc != 0)
		return rc;
	if (p->tok.kind != ops[level]) {
		*out = first;
		return 0;
	}
	struct stix_cmp *node = zalloc(p, sizeof(*node)), *tail = first;
	node->kind = kinds[level];
	node->offset = first->offset;
	node->kids = first;
	node->n_kids = 1;
	while (p->tok.kind == ops[level]) {
		if ((rc = advance(p)) != 0 || (rc = cmp_level(p, level + 1, &k)) != 0)
			return rc;
		tail->next = k;
		tail = k;
		node->n_kids++;
	}
	*out = node;
	return 0;
}

static int cmp_or(struct parser *p, struct stix_cmp **out)
{
	return cmp_level(p, 0, out);
}

/* --- observation expressions --- */

static int obs_level(struct parser *p, int level, struct stix_obs **out);

static const char *qual_name(enum stix_qual_kind k)
{
	return k == STIX_QUAL_WITHIN ? "WITHIN" : k == STIX_QUAL_REPEATS ? "REPEATS" : "START/STOP";
}

/*
 * Qualifiers after [ … ] or ( … ). The reference rejects a qualifier kind
 * repeated directly on [ … ] but not on a parenthesised group: check_dups.
 */
static int qualifiers(struct parser *p, struct stix_obs *o, bool check_dups)
{
	const struct token *t = &p->tok;
	struct stix_qualifier *tail = NULL;
	unsigned seen = 0;
	int rc;
	for (;;) {
		struct stix_qualifier *q;
		if (t->kind != T_WITHIN && t->kind != T_REPEATS && t->kind != T_START)
			return 0;
		q = zalloc(p, sizeof(*q));
		q->offset = t->off;
		q->kind = t->kind == T_WITHIN ? STIX_QUAL_WITHIN
			: t->kind == T_REPEATS ? STIX_QUAL_REPEATS : STIX_QUAL_START_STOP;
		if (check_dups && (seen & (1u << q->kind)))
			return pat_fail(p->e, ERR_INVALID, q->offset, "duplicate %s qualifier",
					qual_name(q->kind));
		seen |= 1u << q->kind;
		if ((rc = advance(p)) != 0)
			return rc;
		struct stix_const *v;
		bool neg = t->kind != T_EOF && p->src[t->off] == '-';
		switch (q->kind) {
		case STIX_QUAL_WITHIN:
			if ((t->kind != T_INT && t->kind != T_FLOAT) || neg)
				return expected(p, "a number of seconds (not negative)");
			if ((rc = constant(p, &v)) != 0 || (rc = expect(p, T_SECONDS, "'SECONDS'")) != 0)
				return rc;
			q->value = v;
			break;
		case STIX_QUAL_REPEATS:
			if (t->kind != T_INT || neg)
				return expected(p, "a whole number (not negative)");
			if ((rc = constant(p, &v)) != 0 || (rc = expect(p, T_TIMES, "'TIMES'")) != 0)
				return rc;
			q->value = v;
			break;
		case STIX_QUAL_START_STOP:
			if (t->kind != T_TIMESTAMP)
				return expected(p, "a timestamp t'...' after START");
			if ((rc = constant(p, &v)) != 0 || (rc = expect(p, T_STOP, "'STOP'")) != 0)
				return rc;
			q->value = v;
			if (t->kind != T_TIMESTAMP)
				return expected(p, "a timestamp t'...' after STOP");
			if ((rc = constant(p, &v)) != 0)
				return rc;
			q->stop = v;
			break;
		}
		if (tail == NULL)
			o->quals = q;
		else
			tail->next = q;
		tail = q;
		o->n_quals++;
	}
}

static int obs_atom(struct parser *p, struct stix_obs **out)
{
	const struct token *t = &p->tok;
	size_t off = t->off;
	struct stix_obs *o;
	int rc;
	if (t->kind == T_LBRACK) {
		o = zalloc(p, sizeof(*o));
		o->kind = STIX_OBS_COMPARISON;
		o->offset = off;
		struct stix_cmp *c;
		if ((rc = enter(p)) != 0 || (rc = advance(p)) != 0 || (rc = cmp_or(p, &c)) != 0)
			return rc;
		o->cmp = c;
		p->depth--;
		if ((rc = expect(p, T_RBRACK, "']'")) != 0 ||
		    (rc = qualifiers(p, o, true)) != 0)
			return rc;
	} else if (t->kind == T_LPAREN) {
		struct stix_obs *inner;
		if ((rc = enter(p)) != 0 || (rc = advance(p)) != 0 || (rc = obs_level(p, 0, &inner)) != 0)
			return rc;
		p->depth--;
		if ((rc = expect(p, T_RPAREN, "')'")) != 0)
			return rc;
		o = inner;
		if (t->kind == T_WITHIN || t->kind == T_REPEATS || t->kind == T_START) {
			o = zalloc(p, sizeof(*o));
			o->kind = STIX_OBS_GROUP;
			o->offset = off;
			o->kids = inner;
			o->n_kids = 1;
			if ((rc = qualifiers(p, o, false)) != 0)
				return rc;
		}
	} else {
		return expected(p, "'[' or '('");
	}
	*out = o;
	return 0;
}

/* level 0: FOLLOWEDBY, 1: OR, 2: AND, 3: [ … ] or ( … ) with qualifiers. */
static int obs_level(struct parser *p, int level, struct stix_obs **out)
{
	static const enum tok ops[3] = { T_FOLLOWEDBY, T_OR, T_AND };
	static const enum stix_obs_kind kinds[3] = { STIX_OBS_FOLLOWEDBY, STIX_OBS_OR, STIX_OBS_AND };
	if (level == 3)
		return obs_atom(p, out);
	struct stix_obs *first, *k;
	int rc = obs_level(p, level + 1, &first);
	if (rc != 0)
		return rc;
	if (p->tok.kind != ops[level]) {
		*out = first;
		return 0;
	}
	struct stix_obs *node = zalloc(p, sizeof(*node)), *tail = first;
	node->kind = kinds[level];
	node->offset = first->offset;
	node->kids = first;
	node->n_kids = 1;
	while (p->tok.kind == ops[level]) {
		if ((rc = advance(p)) != 0 || (rc = obs_level(p, level + 1, &k)) != 0)
			return rc;
		tail->next = k;
		tail = k;
		node->n_kids++;
	}
	*out = node;
	return 0;
}

int stix_pattern_parse(const char *s, size_t len, struct stix_pattern **out, struct err *e)
{
	struct arena a;
	struct parser p;
	struct stix_obs *root;
	int rc;

	*out = NULL;
	if (len > STIX_PATTERN_MAX_LEN)
		return pat_fail(e, ERR_TOO_LARGE, STIX_PATTERN_MAX_LEN, "pattern longer than %d bytes",
				STIX_PATTERN_MAX_LEN);
	arena_init(&a);
	struct stix_pattern *pat = arena_alloc(&a, sizeof(*pat));
	memset(&p, 0, sizeof(p));
	p.a = &a;
	p.src = s;
	p.e = e;
	lex_init(&p.lx, s, len, e);
	if ((rc = advance(&p)) != 0 || (rc = obs_level(&p, 0, &root)) != 0)
		goto out;
	if (p.tok.kind != T_EOF) {
		rc = expected(&p, "AND, OR, FOLLOWEDBY, a qualifier or the end of the pattern");
		goto out;
	}
	pat->root = root;
	pat->n_cmp = p.n_cmp;
	pat->arena = a;	/* last: the arena's head moves with every allocation */
	*out = pat;
	return 0;
out:
	arena_cleanup(&a);
	return rc;
}

void stix_pattern_free(struct stix_pattern *p)
{
	if (p == NULL)
		return;
	struct arena a = p->arena;	/* p lives in the arena it names */
	arena_cleanup(&a);
}

const struct stix_obs *stix_pattern_root(const struct stix_pattern *p)
{
	return p->root;
}

size_t stix_pattern_comparisons(const struct stix_pattern *p)
{
	return p->n_cmp;
}
