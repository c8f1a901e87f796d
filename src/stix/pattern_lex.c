/*
 * pattern_lex.c — the tokens of a STIX 2.1 pattern (see pattern_int.h for
 * how this follows the reference lexer).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "stix/pattern_int.h"

/* Character classes, one table so the hot loops do one load per byte. */
enum {
	C_DIGIT = PAT_DIGIT, C_ALPHA = PAT_ALPHA, C_IDENT = PAT_IDENT, C_HEX = PAT_HEX,
	C_B64 = PAT_B64, C_SPACE = PAT_SPACE, C_PLAIN = PAT_PLAIN,
};

unsigned char pat_cls[256];
#define cls pat_cls

static void cls_init(void)
{
	for (int c = 0; c < 256; c++) {
		unsigned char f = 0;
		if (c >= '0' && c <= '9')
			f |= C_DIGIT | C_IDENT | C_HEX | C_B64;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
			f |= C_ALPHA | C_IDENT | C_B64;
		if ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))
			f |= C_HEX;
		if (c == '_')
			f |= C_ALPHA | C_IDENT;
		if (c == '+' || c == '/')
			f |= C_B64;
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f')
			f |= C_SPACE;
		if (c < 0x80 && c != '\'' && c != '\\')
			f |= C_PLAIN;
		cls[c] = f;
	}
}

/* Runs before main(): the table is read-only afterwards, so threads may lex at once. */
__attribute__((constructor)) static void lex_table_init(void)
{
	cls_init();
}

#define IS(c, f) (cls[(unsigned char)(c)] & (f))

int pat_fail(struct err *e, int code, size_t offset, const char *fmt, ...)
{
	if (e != NULL) {
		char msg[ERR_MSG_MAX];
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
		err_set(e, code, "%s at offset %zu", msg, offset);
		e->offset = offset;
	}
	return code;
}

void lex_init(struct lexer *lx, const char *s, size_t len, struct err *e)
{
	lx->s = s;
	lx->len = len;
	lx->pos = 0;
	lx->n_tokens = 0;
	lx->seen_lbrack = false;
	lx->e = e;
}

const char *tok_name(enum tok k)
{
	switch (k) {
	case T_EOF: return "end of pattern";
	case T_INT: return "an integer";
	case T_FLOAT: return "a float";
	case T_STRING: return "a string";
	case T_BOOL: return "a boolean";
	case T_BINARY: return "a binary constant";
	case T_HEX: return "a hex constant";
	case T_TIMESTAMP: return "a timestamp";
	case T_AND: return "'AND'";
	case T_OR: return "'OR'";
	case T_NOT: return "'NOT'";
	case T_FOLLOWEDBY: return "'FOLLOWEDBY'";
	case T_LIKE: return "'LIKE'";
	case T_MATCHES: return "'MATCHES'";
	case T_ISSUPERSET: return "'ISSUPERSET'";
	case T_ISSUBSET: return "'ISSUBSET'";
	case T_EXISTS: return "'EXISTS'";
	case T_LAST: return "'LAST'";
	case T_IN: return "'IN'";
	case T_START: return "'START'";
	case T_STOP: return "'STOP'";
	case T_SECONDS: return "'SECONDS'";
	case T_WITHIN: return "'WITHIN'";
	case T_REPEATS: return "'REPEATS'";
	case T_TIMES: return "'TIMES'";
	case T_IDENT: return "a name";
	case T_IDENT_HYPHEN: return "a name with '-'";
	case T_EQ: return "'='";
	case T_NEQ: return "'!='";
	case T_LT: return "'<'";
	case T_LE: return "'<='";
	case T_GT: return "'>'";
	case T_GE: return "'>='";
	case T_COLON: return "':'";
	case T_DOT: return "'.'";
	case T_COMMA: return "','";
	case T_LPAREN: return "'('";
	case T_RPAREN: return "')'";
	case T_LBRACK: return "'['";
	case T_RBRACK: return "']'";
	case T_ASTERISK: return "'*'";
	}
	return "?";
}

/*
 * Length of the grammar's white-space character at s[i], or 0: ASCII
 * space, \t \r \n \v \f, and (UTF-8) U+0085, U+00A0, U+1680, U+2000–U+200A,
 * U+2028, U+2029, U+202F, U+205F, U+3000.
 */
static size_t space_len(const unsigned char *s, size_t i, size_t len)
{
	unsigned char c = s[i];
	if (IS(c, C_SPACE))
		return 1;
	if (c < 0xC2 || c > 0xE3)
		return 0;
	size_t left = len - i;
	if (c == 0xC2)
		return left >= 2 && (s[i + 1] == 0x85 || s[i + 1] == 0xA0) ? 2 : 0;
	if (left < 3)
		return 0;
	unsigned char c1 = s[i + 1], c2 = s[i + 2];
	if (c == 0xE1)
		return c1 == 0x9A && c2 == 0x80 ? 3 : 0;
	if (c == 0xE2) {
		if (c1 == 0x80 && ((c2 >= 0x80 && c2 <= 0x8A) || c2 == 0xA8 || c2 == 0xA9 || c2 == 0xAF))
			return 3;
		return c1 == 0x81 && c2 == 0x9F ? 3 : 0;
	}
	if (c == 0xE3)
		return c1 == 0x80 && c2 == 0x80 ? 3 : 0;
	return 0;
}

/* Length of the valid UTF-8 sequence at s[i] (1–4), or 0 if it is not one. */
static size_t utf8_len(const unsigned char *s, size_t i, size_t len)
{
	unsigned char c = s[i];
	size_t left = len - i;
	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		return left >= 2 && (s[i + 1] & 0xC0) == 0x80 ? 2 : 0;
	if (c >= 0xE0 && c <= 0xEF) {
		if (left < 3 || (s[i + 1] & 0xC0) != 0x80 || (s[i + 2] & 0xC0) != 0x80)
			return 0;
		if (c == 0xE0 && s[i + 1] < 0xA0)
			return 0;	/* overlong */
		if (c == 0xED && s[i + 1] >= 0xA0)
			return 0;	/* surrogate */
		return 3;
	}
	if (c >= 0xF0 && c <= 0xF4) {
		if (left < 4 || (s[i + 1] & 0xC0) != 0x80 || (s[i + 2] & 0xC0) != 0x80 ||
		    (s[i + 3] & 0xC0) != 0x80)
			return 0;
		if (c == 0xF0 && s[i + 1] < 0x90)
			return 0;	/* overlong */
		if (c == 0xF4 && s[i + 1] >= 0x90)
			return 0;	/* above U+10FFFF */
		return 4;
	}
	return 0;
}

/* Skips white space and comments. */
static int skip_space(struct lexer *lx)
{
	const unsigned char *s = (const unsigned char *)lx->s;
	size_t i = lx->pos, len = lx->len;
	for (;;) {
		if (i >= len)
			break;
		size_t n = space_len(s, i, len);
		if (n > 0) {
			i += n;
			continue;
		}
		if (s[i] != '/' || i + 1 >= len || (s[i + 1] != '*' && s[i + 1] != '/'))
			break;
		/*
		 * The reference validator insists that the first character other
		 * than '(' and white space be '[', so a comment may only follow it.
		 */
		if (!lx->seen_lbrack)
			return pat_fail(lx->e, ERR_INVALID, i, "expected '[' before a comment");
		if (s[i + 1] == '/') {
			i += 2;
			while (i < len && s[i] != '\n' && s[i] != '\r')
				i++;
			continue;
		}
		size_t start = i;
		i += 2;
		for (;;) {
			if (i + 1 >= len)
				return pat_fail(lx->e, ERR_INVALID, start, "unterminated comment");
			if (s[i] == '*' && s[i + 1] == '/')
				break;
			i++;
		}
		i += 2;
	}
	lx->pos = i;
	return 0;
}

/* A string constant from the quote at i. */
static int lex_string(struct lexer *lx, size_t i, struct token *t)
{
	const unsigned char *s = (const unsigned char *)lx->s;
	size_t len = lx->len, start = i;
	bool escaped = false;
	i++;
	for (;;) {
		while (i < len && IS(s[i], C_PLAIN))
			i++;
		if (i >= len)
			return pat_fail(lx->e, ERR_INVALID, start, "unterminated string");
		unsigned char c = s[i];
		if (c == '\'')
			break;
		if (c == '\\') {
			if (i + 1 >= len)
				return pat_fail(lx->e, ERR_INVALID, start, "unterminated string");
			if (s[i + 1] != '\'' && s[i + 1] != '\\')
				return pat_fail(lx->e, ERR_INVALID, i,
						"invalid escape in string (only \\' and \\\\ are allowed)");
			escaped = true;
			i += 2;
			continue;
		}
		size_t n = utf8_len(s, i, len);	/* c >= 0x80 */
		if (n == 0)
			return pat_fail(lx->e, ERR_INVALID, i, "invalid UTF-8 in string");
		i += n;
	}
	t->kind = T_STRING;
	t->off = start;
	t->len = i + 1 - start;
	t->escaped = escaped;
	return 0;
}

static bool two_digits(const unsigned char *p, int lo, int hi)
{
	if (!IS(p[0], C_DIGIT) || !IS(p[1], C_DIGIT))
		return false;
	int v = (p[0] - '0') * 10 + (p[1] - '0');
	return v >= lo && v <= hi;
}

/*
 * Length of t'YYYY-MM-DDTHH:MM:SS[.f+]Z' at s[i] (i at the 't'), or 0. The
 * grammar checks the ranges of each field but not the calendar (it accepts
 * Feb 30) and allows a leap second (:60).
 */
static size_t timestamp_len(const unsigned char *s, size_t i, size_t len)
{
	/* t ' YYYY - MM - DD T HH : MM : SS Z ' is 23 bytes at least. */
	if (len - i < 23)
		return 0;
	const unsigned char *p = s + i + 2;
	if (!IS(p[0], C_DIGIT) || !IS(p[1], C_DIGIT) || !IS(p[2], C_DIGIT) || !IS(p[3], C_DIGIT) ||
	    p[4] != '-' || !two_digits(p + 5, 1, 12) || p[7] != '-' || !two_digits(p + 8, 1, 31) ||
	    p[10] != 'T' || !two_digits(p + 11, 0, 23) || p[13] != ':' || !two_digits(p + 14, 0, 59) ||
	    p[16] != ':' || !two_digits(p + 17, 0, 60))
		return 0;
	size_t j = i + 2 + 19;
	if (j < len && s[j] == '.') {
		size_t k = j + 1;
		while (k < len && IS(s[k], C_DIGIT))
			k++;
		if (k == j + 1)
			return 0;
		j = k;
	}
	if (j + 1 >= len || s[j] != 'Z' || s[j + 1] != '\'')
		return 0;
	return j + 2 - i;
}

/* Length of h'(hex hex)*' at s[i], or 0. */
static size_t hex_len(const unsigned char *s, size_t i, size_t len)
{
	size_t j = i + 2;
	while (j < len && IS(s[j], C_HEX))
		j++;
	if (j >= len || s[j] != '\'' || (j - i - 2) % 2 != 0)
		return 0;
	return j + 1 - i;
}

/* Length of b'base64' at s[i] (at least one group, '=' padding exact), or 0. */
static size_t binary_len(const unsigned char *s, size_t i, size_t len)
{
	size_t j = i + 2;
	while (j < len && IS(s[j], C_B64))
		j++;
	size_t n = j - i - 2, pad = 0;
	while (j < len && s[j] == '=' && pad < 2) {
		j++;
		pad++;
	}
	if (j >= len || s[j] != '\'')
		return 0;
	bool ok = (pad == 0 && n > 0 && n % 4 == 0) || (pad == 1 && n % 4 == 3) ||
		  (pad == 2 && n % 4 == 2);
	return ok ? j + 1 - i : 0;
}

/* Keywords are case-sensitive; "true"/"false" are constants. */
static enum tok keyword(const char *p, size_t n)
{
#define KW(word, tok)                                                   \
	if (n == sizeof(word) - 1 && memcmp(p, word, sizeof(word) - 1) == 0) \
		return tok
	switch (p[0]) {
	case 'A': KW("AND", T_AND); break;
	case 'E': KW("EXISTS", T_EXISTS); break;
	case 'F': KW("FOLLOWEDBY", T_FOLLOWEDBY); break;
	case 'I':
		KW("IN", T_IN);
		KW("ISSUBSET", T_ISSUBSET);
		KW("ISSUPERSET", T_ISSUPERSET);
		break;
	case 'L':
		KW("LIKE", T_LIKE);
		KW("LAST", T_LAST);
		break;
	case 'M': KW("MATCHES", T_MATCHES); break;
	case 'N': KW("NOT", T_NOT); break;
	case 'O': KW("OR", T_OR); break;
	case 'R': KW("REPEATS", T_REPEATS); break;
	case 'S':
		KW("START", T_START);
		KW("STOP", T_STOP);
		KW("SECONDS", T_SECONDS);
		break;
	case 'T': KW("TIMES", T_TIMES); break;
	case 'W': KW("WITHIN", T_WITHIN); break;
	case 't': KW("true", T_BOOL); break;
	case 'f': KW("false", T_BOOL); break;
	default: break;
	}
#undef KW
	return T_IDENT;
}

/*
 * A number from s[i] (a sign, a digit or a '.' followed by a digit). Longest
 * match: [+-]?[0-9]*.[0-9]+ is a float; otherwise an integer, which is "0"
 * alone or starts with 1–9 (so "007" is three tokens, as in the grammar).
 */
static void lex_number(struct lexer *lx, size_t i, struct token *t)
{
	const unsigned char *s = (const unsigned char *)lx->s;
	size_t len = lx->len, start = i;
	if (s[i] == '+' || s[i] == '-')
		i++;
	size_t d = i;
	while (i < len && IS(s[i], C_DIGIT))
		i++;
	if (i + 1 < len && s[i] == '.' && IS(s[i + 1], C_DIGIT)) {
		i += 2;
		while (i < len && IS(s[i], C_DIGIT))
			i++;
		t->kind = T_FLOAT;
	} else {
		if (s[d] == '0')
			i = d + 1;
		t->kind = T_INT;
	}
	t->off = start;
	t->len = i - start;
}

static int unexpected(struct lexer *lx, size_t i)
{
	unsigned char c = (unsigned char)lx->s[i];
	if (c > 0x20 && c < 0x7F)
		return pat_fail(lx->e, ERR_INVALID, i, "unexpected character '%c'", c);
	if (c >= 0x80 && utf8_len((const unsigned char *)lx->s, i, lx->len) == 0)
		return pat_fail(lx->e, ERR_INVALID, i, "invalid UTF-8");
	return pat_fail(lx->e, ERR_INVALID, i, "unexpected character (byte 0x%02x)", c);
}

int lex_next(struct lexer *lx, struct token *t)
{
	int rc = skip_space(lx);
	if (rc != 0)
		return rc;
	const unsigned char *s = (const unsigned char *)lx->s;
	size_t i = lx->pos, len = lx->len;
	t->escaped = false;
	if (i >= len) {
		t->kind = T_EOF;
		t->off = len;
		t->len = 0;
		return 0;
	}
	if (++lx->n_tokens > STIX_PATTERN_MAX_TOKENS)
		return pat_fail(lx->e, ERR_TOO_LARGE, i, "more than %d tokens", STIX_PATTERN_MAX_TOKENS);
	t->off = i;
	t->len = 1;
	unsigned char c = s[i];
	unsigned char next = i + 1 < len ? s[i + 1] : 0;
	switch (c) {
	case '[':
		t->kind = T_LBRACK;
		lx->seen_lbrack = true;
		break;
	case ']': t->kind = T_RBRACK; break;
	case '(': t->kind = T_LPAREN; break;
	case ')': t->kind = T_RPAREN; break;
	case ',': t->kind = T_COMMA; break;
	case ':': t->kind = T_COLON; break;
	case '*': t->kind = T_ASTERISK; break;
	case '=':
		t->kind = T_EQ;
		t->len = next == '=' ? 2 : 1;
		break;
	case '!':
		if (next != '=')
			return unexpected(lx, i);
		t->kind = T_NEQ;
		t->len = 2;
		break;
	case '<':
		t->kind = next == '=' ? T_LE : next == '>' ? T_NEQ : T_LT;
		t->len = next == '=' || next == '>' ? 2 : 1;
		break;
	case '>':
		t->kind = next == '=' ? T_GE : T_GT;
		t->len = next == '=' ? 2 : 1;
		break;
	case '\'':
		rc = lex_string(lx, i, t);
		if (rc != 0)
			return rc;
		break;
	case '.':
		if (IS(next, C_DIGIT))
			lex_number(lx, i, t);
		else
			t->kind = T_DOT;
		break;
	case '+':
	case '-':
		if (IS(next, C_DIGIT) || (next == '.' && i + 2 < len && IS(s[i + 2], C_DIGIT)))
			lex_number(lx, i, t);
		else
			return unexpected(lx, i);
		break;
	default:
		if (IS(c, C_DIGIT)) {
			lex_number(lx, i, t);
			break;
		}
		if (!IS(c, C_ALPHA))
			return unexpected(lx, i);
		if (next == '\'' && (c == 't' || c == 'h' || c == 'b')) {
			/*
			 * A lone t, h or b before a quote can only be the start of a
			 * constant: as a name followed by a string it fits no rule.
			 */
			size_t n = c == 't' ? timestamp_len(s, i, len)
				 : c == 'h' ? hex_len(s, i, len) : binary_len(s, i, len);
			if (n == 0)
				return pat_fail(lx->e, ERR_INVALID, i, "invalid %s constant",
						c == 't' ? "timestamp" : c == 'h' ? "hex" : "binary (base64)");
			t->kind = c == 't' ? T_TIMESTAMP : c == 'h' ? T_HEX : T_BINARY;
			t->len = n;
			break;
		}
		size_t j = i + 1;
		bool hyphen = false;
		for (; j < len; j++) {
			if (IS(s[j], C_IDENT))
				continue;
			if (s[j] != '-')
				break;
			hyphen = true;
		}
		t->len = j - i;
		t->kind = hyphen ? T_IDENT_HYPHEN : keyword((const char *)s + i, j - i);
		break;
	}
	lx->pos = i + t->len;
	return 0;
}
