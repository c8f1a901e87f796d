/*
 * pattern_int.h — what the files of the pattern module share and nobody else
 * sees: the tokens, the lexer, the pattern handle and the hash-value check.
 *
 * The lexer follows the reference grammar's lexer rule for rule: longest
 * match first, and between two matches of the same length the rule listed
 * first (so "AND" is a keyword, "ANDY" an identifier, "h'00'" a constant and
 * "h" an identifier). Tokens that the grammar lexes but no parser rule
 * accepts ('+', '-', '^', '/', a lone quote, an unknown character) can only
 * end in a syntax error, so the lexer reports them at once with a clearer
 * reason, as it does for a malformed t'…', h'…' or b'…' constant.
 */
#ifndef CAIRN_STIX_PATTERN_INT_H
#define CAIRN_STIX_PATTERN_INT_H

#include <stdbool.h>
#include <stddef.h>

#include "base/arena.h"
#include "base/err.h"
#include "stix/pattern.h"

enum tok {
	T_EOF,
	/* constants */
	T_INT, T_FLOAT, T_STRING, T_BOOL, T_BINARY, T_HEX, T_TIMESTAMP,
	/* keywords */
	T_AND, T_OR, T_NOT, T_FOLLOWEDBY, T_LIKE, T_MATCHES, T_ISSUPERSET, T_ISSUBSET,
	T_EXISTS, T_LAST, T_IN, T_START, T_STOP, T_SECONDS, T_WITHIN, T_REPEATS, T_TIMES,
	/* identifiers: [a-zA-Z_][a-zA-Z0-9_]* and, with a '-' somewhere, an object type */
	T_IDENT, T_IDENT_HYPHEN,
	/* punctuation */
	T_EQ, T_NEQ, T_LT, T_LE, T_GT, T_GE, T_COLON, T_DOT, T_COMMA,
	T_LPAREN, T_RPAREN, T_LBRACK, T_RBRACK, T_ASTERISK,
};

struct token {
	enum tok kind;
	size_t off, len;	/* the token's bytes in the input */
	bool escaped;		/* T_STRING: contains \' or \\ */
};

struct lexer {
	const char *s;
	size_t len, pos;
	size_t n_tokens;
	bool seen_lbrack;	/* a '[' token has been produced */
	struct err *e;
};

void lex_init(struct lexer *lx, const char *s, size_t len, struct err *e);
/* The next token into *t; 0, or an error code with e set. */
int lex_next(struct lexer *lx, struct token *t);
/* "']'", "'AND'", "a string", "end of pattern", … for messages. */
const char *tok_name(enum tok k);

/* Byte classes, filled before main() and read-only afterwards. */
enum {
	PAT_DIGIT = 1, PAT_ALPHA = 2, PAT_IDENT = 4, PAT_HEX = 8, PAT_B64 = 16, PAT_SPACE = 32,
	PAT_PLAIN = 64,	/* ASCII that a string holds as is: not ', \\ or a byte >= 0x80 */
};
extern unsigned char pat_cls[256];

/* Sets e (if not NULL) with the offset; returns code. */
int pat_fail(struct err *e, int code, size_t offset, const char *fmt, ...) CAIRN_PRINTF(4, 5);

struct stix_pattern {
	struct arena arena;	/* holds this struct too */
	const struct stix_obs *root;
	size_t n_cmp;
};

#endif
