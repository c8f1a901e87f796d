/*
 * pattern.h — the STIX 2.1 patterning language: lexer, parser, an immutable
 * AST, a canonical printer, and the two readings cairn needs from a pattern
 * (every comparison, and whether it is a plain list of indicators).
 *
 * Depends on base/ (arena, buf, err) and ioc/ (the indicator types).
 *
 * Grammar. Exactly the OASIS grammar (STIXPattern.g4 of cti-pattern-validator
 * for STIX 2.1), with the three checks the reference validator adds after
 * parsing, so that a pattern is valid here if and only if
 * stix2patterns.validator.run_validator(p, stix_version='2.1') accepts it:
 *   - the first character that is not '(' or white space must be '[' (a
 *     comment before the first '[' is rejected);
 *   - the same qualifier (WITHIN, REPEATS, START…STOP) may not appear twice
 *     directly on one [ … ] (it may on a parenthesised group);
 *   - a comparison on a path that contains the key `hashes` and ends in a
 *     known hash name (MD5, SHA-1, SHA-256, SHA-512, SSDEEP, … in any case,
 *     hyphens ignored) must have a value of that hash's form, checked on the
 *     constant as written — so `IN (…)` on such a path is always rejected,
 *     as the reference does.
 * Precedence, loosest first: FOLLOWEDBY, OR, AND between observations;
 * qualifiers bind to the [ … ] or ( … ) right before them; inside brackets OR
 * is looser than AND. Keywords are upper case (true/false lower case).
 * Strings know two escapes only: \' and \\. Negative list indexes ([-1]) are
 * valid grammar; the reference validator crashes on them instead of ruling.
 *
 * Ownership. stix_pattern_parse() copies what it needs: the caller's input is
 * never kept. Everything the AST points to lives in one arena owned by the
 * `struct stix_pattern`; nothing changes after parsing, so one parsed pattern
 * may be read from several threads at once. stix_pattern_free() releases it
 * all; every pointer obtained from it is then invalid.
 *
 * Errors. stix_pattern_parse() returns ERR_INVALID (malformed) or
 * ERR_TOO_LARGE (a limit below) with a one-line message that names the byte
 * offset — "expected ']' at offset 27, found 'OR'" — and e->offset set to it.
 *
 * Limits. Input up to STIX_PATTERN_MAX_LEN bytes, brackets and parentheses
 * nested up to STIX_PATTERN_MAX_DEPTH, at most STIX_PATTERN_MAX_TOKENS
 * tokens. The parser reads only s[0..len), needs no NUL, recurses only per
 * nesting level, and allocates O(len).
 */
#ifndef CAIRN_STIX_PATTERN_H
#define CAIRN_STIX_PATTERN_H

#include <stdbool.h>
#include <stddef.h>

#include "base/buf.h"
#include "base/err.h"
#include "ioc/ioc.h"

#define STIX_PATTERN_MAX_LEN (64 * 1024)
#define STIX_PATTERN_MAX_DEPTH 64
#define STIX_PATTERN_MAX_TOKENS 16384

/* Constants. `text` is NUL-terminated (a string may also hold NUL bytes: use len). */
enum stix_const_kind {
	STIX_CONST_INT,		/* text: the digits as written, with '-' but without '+' */
	STIX_CONST_FLOAT,	/* text: as written, without '+' */
	STIX_CONST_STRING,	/* text: the value, escapes undone */
	STIX_CONST_BOOL,	/* text: "true" or "false" */
	STIX_CONST_BINARY,	/* text: the base64 between b'…' */
	STIX_CONST_HEX,		/* text: the hex digits between h'…' */
	STIX_CONST_TIMESTAMP,	/* text: the RFC 3339 time between t'…' */
};

struct stix_const {
	enum stix_const_kind kind;
	const char *text;
	size_t len;
	long long i;		/* INT (saturated, see big); BOOL: 0 or 1 */
	double f;		/* INT and FLOAT */
	bool big;		/* INT: does not fit in long long */
	size_t offset;		/* where the constant starts in the pattern */
	size_t raw_len;		/* its length there, quotes and prefix included */
	const struct stix_const *next;	/* the next member of an IN (…) set */
};

/* Object paths: object-type:step(.step|[n]|[*])… */
enum stix_step_kind {
	STIX_STEP_KEY,		/* a property or dictionary key: name or 'quoted name' */
	STIX_STEP_INDEX,	/* [n]: text holds the digits (with '-', without '+') */
	STIX_STEP_ANY,		/* [*] */
};

struct stix_step {
	enum stix_step_kind kind;
	bool quoted;		/* KEY: written as a string literal */
	const char *text;	/* KEY: the name, escapes undone; INDEX: the digits */
	size_t len;
	long long index;	/* INDEX (saturated) */
	size_t offset;
	const struct stix_step *next;
};

struct stix_path {
	const char *type;	/* the object type, e.g. "file" */
	size_t type_len;
	const struct stix_step *steps;	/* the first is always a KEY (the property) */
	size_t n_steps;
	size_t offset;
};

/* Comparison expressions: the inside of [ … ]. */
enum stix_op {
	STIX_OP_EQ, STIX_OP_NEQ, STIX_OP_LT, STIX_OP_LE, STIX_OP_GT, STIX_OP_GE,
	STIX_OP_IN, STIX_OP_LIKE, STIX_OP_MATCHES, STIX_OP_ISSUBSET, STIX_OP_ISSUPERSET,
	STIX_OP_EXISTS,
};

enum stix_cmp_kind {
	STIX_CMP_TEST,		/* path [NOT] op value, or [NOT] EXISTS path */
	STIX_CMP_AND,		/* kids joined by AND (two or more) */
	STIX_CMP_OR,		/* kids joined by OR (two or more) */
};

struct stix_cmp {
	enum stix_cmp_kind kind;
	size_t offset;
	const struct stix_cmp *kids;	/* AND, OR: first of n_kids, linked by next */
	size_t n_kids;
	bool negated;			/* TEST: NOT before the operator */
	enum stix_op op;		/* TEST */
	size_t op_offset;		/* TEST: where the operator (or NOT) is */
	struct stix_path path;		/* TEST */
	const struct stix_const *value;	/* TEST: the constant; IN: the first (NULL for "()");
					   EXISTS: NULL */
	size_t n_values;		/* TEST: 1, IN: the set's size, EXISTS: 0 */
	const struct stix_cmp *next;
};

/* Observation expressions and their qualifiers. */
enum stix_qual_kind { STIX_QUAL_WITHIN, STIX_QUAL_REPEATS, STIX_QUAL_START_STOP };

struct stix_qualifier {
	enum stix_qual_kind kind;
	size_t offset;
	const struct stix_const *value;	/* WITHIN: seconds (INT or FLOAT), REPEATS: INT,
					   START…STOP: the start TIMESTAMP */
	const struct stix_const *stop;	/* START…STOP: the stop TIMESTAMP */
	const struct stix_qualifier *next;
};

enum stix_obs_kind {
	STIX_OBS_COMPARISON,	/* [ cmp ] qualifiers* */
	STIX_OBS_GROUP,		/* ( kids ) qualifiers+ — a parenthesised group is kept
				   as a node only when qualifiers follow it */
	STIX_OBS_AND,		/* two or more kids */
	STIX_OBS_OR,
	STIX_OBS_FOLLOWEDBY,
};

struct stix_obs {
	enum stix_obs_kind kind;
	size_t offset;
	const struct stix_cmp *cmp;		/* COMPARISON */
	const struct stix_obs *kids;		/* GROUP: one; AND, OR, FOLLOWEDBY: n_kids */
	size_t n_kids;
	const struct stix_qualifier *quals;	/* COMPARISON, GROUP: in source order */
	size_t n_quals;
	const struct stix_obs *next;
};

struct stix_pattern;

/*
 * Parses s[0..len). On success returns 0 and *out, which the caller frees
 * with stix_pattern_free(); on failure returns ERR_INVALID or ERR_TOO_LARGE,
 * sets *out to NULL and explains in e (see the top of this file).
 */
int stix_pattern_parse(const char *s, size_t len, struct stix_pattern **out, struct err *e)
	CAIRN_MUST_USE;
void stix_pattern_free(struct stix_pattern *p);	/* NULL does nothing */

const struct stix_obs *stix_pattern_root(const struct stix_pattern *p);
size_t stix_pattern_comparisons(const struct stix_pattern *p);	/* number of TEST nodes */

/*
 * Appends the canonical one-line form: single spaces around operators, '='
 * for '==', '!=' for '<>', no '+' signs, no comments, no redundant
 * parentheses, keys unquoted where the grammar allows it, lower-case hex.
 * It parses back to a pattern that prints identically. (A string constant
 * that holds a line break keeps it: the grammar has no escape for one.)
 */
void stix_pattern_print(struct buf *b, const struct stix_pattern *p);
/* Appends an indented tree, one node a line, with byte offsets. */
void stix_pattern_dump(struct buf *b, const struct stix_pattern *p);
/* Appends one comparison (TEST) or one path in canonical form. */
void stix_cmp_print(struct buf *b, const struct stix_cmp *c);
void stix_path_print(struct buf *b, const struct stix_path *path);
/* Appends a constant as it is written in a pattern. */
void stix_const_print(struct buf *b, const struct stix_const *c);
/* "=", "!=", …, "IN", "LIKE", …, "EXISTS". */
const char *stix_op_name(enum stix_op op);

/*
 * One comparison, as stix_pattern_observables() reports it. `path` is the
 * property path after the colon in canonical form (e.g. "hashes.'SHA-256'");
 * it is valid during the callback only.
 */
struct stix_observable {
	const char *object_type;
	const char *path;
	enum stix_op op;
	bool negated;
	const struct stix_const *value;	/* NULL for EXISTS; the first member for IN */
	const struct stix_cmp *cmp;	/* the TEST node itself */
};

/*
 * Calls fn once per comparison, in source order. A non-zero return from fn
 * stops the walk and is returned; otherwise returns 0.
 */
int stix_pattern_observables(const struct stix_pattern *p,
			     int (*fn)(const struct stix_observable *o, void *ctx), void *ctx);

/* One indicator record of a simple pattern. */
struct stix_simple_ioc {
	enum ioc_type type;
	const char *value;	/* the string constant, escapes undone (not canonicalised) */
	size_t len;
	size_t offset;		/* of the comparison */
};

#define STIX_COMPOSITE 1

/*
 * Decides whether the pattern becomes indicator records. It is "simple" when
 * it is [ … ] or several joined only by OR, without qualifiers, and every
 * comparison inside is `=` (not negated) between a supported path and a
 * string, joined only by OR. Supported paths: ipv4-addr:value, ipv6-addr:value,
 * domain-name:value, url:value, email-addr:value, and file:hashes.NAME with
 * NAME MD5, SHA-1, SHA-256 or SHA-512 in any case, with or without '-' or '_'
 * ('SHA-256', SHA256, sha256, …).
 *
 * Simple: calls fn once per comparison in source order and returns 0 (or the
 * first non-zero value fn returns). Composite: does not call fn, returns
 * STIX_COMPOSITE and puts a short reason in why->msg ("AND between
 * observations", "operator MATCHES", "unsupported path process:name", …)
 * with why->offset where it applies. why and fn may be NULL (to classify only).
 */
int stix_pattern_simple(const struct stix_pattern *p,
			int (*fn)(const struct stix_simple_ioc *r, void *ctx), void *ctx,
			struct err *why);

#endif
