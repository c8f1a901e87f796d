/*
 * pattern_util.c — reading a parsed pattern: the canonical printer, the
 * tree dump, the list of comparisons, and the simple/composite rule that
 * decides which patterns become indicator records.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "stix/pattern_int.h"

const char *stix_op_name(enum stix_op op)
{
	switch (op) {
	case STIX_OP_EQ: return "=";
	case STIX_OP_NEQ: return "!=";
	case STIX_OP_LT: return "<";
	case STIX_OP_LE: return "<=";
	case STIX_OP_GT: return ">";
	case STIX_OP_GE: return ">=";
	case STIX_OP_IN: return "IN";
	case STIX_OP_LIKE: return "LIKE";
	case STIX_OP_MATCHES: return "MATCHES";
	case STIX_OP_ISSUBSET: return "ISSUBSET";
	case STIX_OP_ISSUPERSET: return "ISSUPERSET";
	case STIX_OP_EXISTS: return "EXISTS";
	}
	return "?";
}

/* --- printing --- */

static void put_quoted(struct buf *b, const char *s, size_t n)
{
	buf_putc(b, '\'');
	size_t from = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\'' || s[i] == '\\') {
			buf_append(b, s + from, i - from);
			buf_putc(b, '\\');
			from = i;
		}
	}
	buf_append(b, s + from, n - from);
	buf_putc(b, '\'');
}

/* A key that lexes back as a plain name (not a keyword or a boolean). */
static bool key_plain(const char *s, size_t n)
{
	static const char *const reserved[] = {
		"AND", "OR", "NOT", "FOLLOWEDBY", "LIKE", "MATCHES", "ISSUPERSET", "ISSUBSET", "EXISTS",
		"LAST", "IN", "START", "STOP", "SECONDS", "WITHIN", "REPEATS", "TIMES", "true", "false",
	};
	if (n == 0 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_'))
		return false;
	for (size_t i = 1; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
			return false;
	}
	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (strlen(reserved[i]) == n && memcmp(reserved[i], s, n) == 0)
			return false;
	return true;
}

static void put_key(struct buf *b, const struct stix_step *st)
{
	if (key_plain(st->text, st->len))
		buf_append(b, st->text, st->len);
	else
		put_quoted(b, st->text, st->len);
}

/* The steps after the colon. */
static void put_steps(struct buf *b, const struct stix_path *path)
{
	for (const struct stix_step *st = path->steps; st != NULL; st = st->next) {
		switch (st->kind) {
		case STIX_STEP_KEY:
			if (st != path->steps)
				buf_putc(b, '.');
			put_key(b, st);
			break;
		case STIX_STEP_INDEX:
		case STIX_STEP_ANY:
			buf_putc(b, '[');
			buf_append(b, st->text, st->len);
			buf_putc(b, ']');
			break;
		}
	}
}

void stix_path_print(struct buf *b, const struct stix_path *path)
{
	buf_append(b, path->type, path->type_len);
	buf_putc(b, ':');
	put_steps(b, path);
}

void stix_const_print(struct buf *b, const struct stix_const *c)
{
	switch (c->kind) {
	case STIX_CONST_INT:
	case STIX_CONST_FLOAT:
	case STIX_CONST_BOOL:
		buf_append(b, c->text, c->len);
		return;
	case STIX_CONST_STRING:
		put_quoted(b, c->text, c->len);
		return;
	case STIX_CONST_BINARY:
	case STIX_CONST_HEX:
	case STIX_CONST_TIMESTAMP:
		buf_putc(b, c->kind == STIX_CONST_BINARY ? 'b' : c->kind == STIX_CONST_HEX ? 'h' : 't');
		buf_putc(b, '\'');
		buf_append(b, c->text, c->len);
		buf_putc(b, '\'');
		return;
	}
}

void stix_cmp_print(struct buf *b, const struct stix_cmp *c)
{
	if (c->kind != STIX_CMP_TEST)
		return;
	if (c->op == STIX_OP_EXISTS) {
		buf_puts(b, c->negated ? "NOT EXISTS " : "EXISTS ");
		stix_path_print(b, &c->path);
		return;
	}
	stix_path_print(b, &c->path);
	buf_puts(b, c->negated ? " NOT " : " ");
	buf_puts(b, stix_op_name(c->op));
	buf_putc(b, ' ');
	if (c->op != STIX_OP_IN) {
		stix_const_print(b, c->value);
		return;
	}
	buf_putc(b, '(');
	for (const struct stix_const *v = c->value; v != NULL; v = v->next) {
		stix_const_print(b, v);
		if (v->next != NULL)
			buf_puts(b, ", ");
	}
	buf_putc(b, ')');
}

/* Binding strength: a kid weaker than its parent needs parentheses. */
static int cmp_prec(const struct stix_cmp *c)
{
	return c->kind == STIX_CMP_OR ? 1 : c->kind == STIX_CMP_AND ? 2 : 3;
}

static void print_cmp(struct buf *b, const struct stix_cmp *c, int parent)
{
	if (c->kind == STIX_CMP_TEST) {
		stix_cmp_print(b, c);
		return;
	}
	int prec = cmp_prec(c);
	if (prec < parent)
		buf_putc(b, '(');
	for (const struct stix_cmp *k = c->kids; k != NULL; k = k->next) {
		print_cmp(b, k, prec);
		if (k->next != NULL)
			buf_puts(b, c->kind == STIX_CMP_AND ? " AND " : " OR ");
	}
	if (prec < parent)
		buf_putc(b, ')');
}

static void print_qual(struct buf *b, const struct stix_qualifier *q)
{
	switch (q->kind) {
	case STIX_QUAL_WITHIN:
		buf_puts(b, "WITHIN ");
		stix_const_print(b, q->value);
		buf_puts(b, " SECONDS");
		break;
	case STIX_QUAL_REPEATS:
		buf_puts(b, "REPEATS ");
		stix_const_print(b, q->value);
		buf_puts(b, " TIMES");
		break;
	case STIX_QUAL_START_STOP:
		buf_puts(b, "START ");
		stix_const_print(b, q->value);
		buf_puts(b, " STOP ");
		stix_const_print(b, q->stop);
		break;
	}
}

static int obs_prec(const struct stix_obs *o)
{
	switch (o->kind) {
	case STIX_OBS_FOLLOWEDBY: return 1;
	case STIX_OBS_OR: return 2;
	case STIX_OBS_AND: return 3;
	default: return 4;
	}
}

static const char *obs_op(enum stix_obs_kind k)
{
	return k == STIX_OBS_AND ? "AND" : k == STIX_OBS_OR ? "OR" : "FOLLOWEDBY";
}

static void print_obs(struct buf *b, const struct stix_obs *o, int parent)
{
	switch (o->kind) {
	case STIX_OBS_COMPARISON:
		buf_putc(b, '[');
		print_cmp(b, o->cmp, 0);
		buf_putc(b, ']');
		break;
	case STIX_OBS_GROUP:
		buf_putc(b, '(');
		print_obs(b, o->kids, 0);
		buf_putc(b, ')');
		break;
	default: {
		int prec = obs_prec(o);
		if (prec < parent)
			buf_putc(b, '(');
		for (const struct stix_obs *k = o->kids; k != NULL; k = k->next) {
			print_obs(b, k, prec);
			if (k->next != NULL) {
				buf_putc(b, ' ');
				buf_puts(b, obs_op(o->kind));
				buf_putc(b, ' ');
			}
		}
		if (prec < parent)
			buf_putc(b, ')');
		return;
	}
	}
	for (const struct stix_qualifier *q = o->quals; q != NULL; q = q->next) {
		buf_putc(b, ' ');
		print_qual(b, q);
	}
}

void stix_pattern_print(struct buf *b, const struct stix_pattern *p)
{
	print_obs(b, p->root, 0);
}

/* --- the tree, for humans --- */

static void indent(struct buf *b, int depth)
{
	for (int i = 0; i < depth; i++)
		buf_puts(b, "  ");
}

static void dump_cmp(struct buf *b, const struct stix_cmp *c, int depth)
{
	indent(b, depth);
	if (c->kind == STIX_CMP_TEST) {
		buf_puts(b, "comparison ");
		stix_cmp_print(b, c);
		buf_printf(b, "  @%zu\n", c->offset);
		return;
	}
	buf_printf(b, "%s of %zu comparisons  @%zu\n", c->kind == STIX_CMP_AND ? "AND" : "OR", c->n_kids,
		   c->offset);
	for (const struct stix_cmp *k = c->kids; k != NULL; k = k->next)
		dump_cmp(b, k, depth + 1);
}

static void dump_obs(struct buf *b, const struct stix_obs *o, int depth)
{
	indent(b, depth);
	switch (o->kind) {
	case STIX_OBS_COMPARISON:
		buf_printf(b, "observation [ ]  @%zu\n", o->offset);
		dump_cmp(b, o->cmp, depth + 1);
		break;
	case STIX_OBS_GROUP:
		buf_printf(b, "group ( )  @%zu\n", o->offset);
		dump_obs(b, o->kids, depth + 1);
		break;
	default:
		buf_printf(b, "%s of %zu observations  @%zu\n", obs_op(o->kind), o->n_kids, o->offset);
		for (const struct stix_obs *k = o->kids; k != NULL; k = k->next)
			dump_obs(b, k, depth + 1);
		return;
	}
	for (const struct stix_qualifier *q = o->quals; q != NULL; q = q->next) {
		indent(b, depth + 1);
		buf_puts(b, "qualifier ");
		print_qual(b, q);
		buf_printf(b, "  @%zu\n", q->offset);
	}
}

void stix_pattern_dump(struct buf *b, const struct stix_pattern *p)
{
	dump_obs(b, p->root, 0);
}

/* --- every comparison --- */

struct walk {
	int (*fn)(const struct stix_observable *o, void *ctx);
	void *ctx;
	struct buf path;
};

static int walk_cmp(struct walk *w, const struct stix_cmp *c)
{
	if (c->kind != STIX_CMP_TEST) {
		for (const struct stix_cmp *k = c->kids; k != NULL; k = k->next) {
			int rc = walk_cmp(w, k);
			if (rc != 0)
				return rc;
		}
		return 0;
	}
	buf_reset(&w->path);
	put_steps(&w->path, &c->path);
	struct stix_observable o = {
		.object_type = c->path.type,
		.path = buf_cstr(&w->path),
		.op = c->op,
		.negated = c->negated,
		.value = c->value,
		.cmp = c,
	};
	return w->fn(&o, w->ctx);
}

static int walk_obs(struct walk *w, const struct stix_obs *o)
{
	if (o->kind == STIX_OBS_COMPARISON)
		return walk_cmp(w, o->cmp);
	for (const struct stix_obs *k = o->kids; k != NULL; k = k->next) {
		int rc = walk_obs(w, k);
		if (rc != 0)
			return rc;
	}
	return 0;
}

int stix_pattern_observables(const struct stix_pattern *p,
			     int (*fn)(const struct stix_observable *o, void *ctx), void *ctx)
{
	struct walk w = { fn, ctx, BUF_INIT };
	int rc = walk_obs(&w, p->root);
	buf_cleanup(&w.path);
	return rc;
}

/* --- simple or composite --- */

static bool eq(const char *s, size_t n, const char *lit)
{
	return strlen(lit) == n && memcmp(s, lit, n) == 0;
}

/* The cairn type a path names, or IOC_NONE. */
static enum ioc_type path_type(const struct stix_path *path)
{
	static const struct {
		const char *object;
		enum ioc_type type;
	} values[] = {
		{ "ipv4-addr", IOC_IPV4 }, { "ipv6-addr", IOC_IPV6 }, { "domain-name", IOC_DOMAIN },
		{ "url", IOC_URL },	   { "email-addr", IOC_EMAIL },
	};
	const struct stix_step *first = path->steps, *second = first->next;
	if (path->n_steps == 1 && eq(first->text, first->len, "value")) {
		for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++)
			if (eq(path->type, path->type_len, values[i].object))
				return values[i].type;
		return IOC_NONE;
	}
	if (path->n_steps != 2 || !eq(path->type, path->type_len, "file") ||
	    !eq(first->text, first->len, "hashes") || second->kind != STIX_STEP_KEY)
		return IOC_NONE;
	/* MD5, 'SHA-1', SHA1, sha_256, …: case and '-'/'_' do not matter. */
	char name[8];
	size_t n = 0;
	for (size_t i = 0; i < second->len; i++) {
		char c = second->text[i];
		if (c == '-' || c == '_')
			continue;
		if (n == sizeof(name))
			return IOC_NONE;
		name[n++] = (char)(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
	}
	if (eq(name, n, "MD5"))
		return IOC_MD5;
	if (eq(name, n, "SHA1"))
		return IOC_SHA1;
	if (eq(name, n, "SHA256"))
		return IOC_SHA256;
	if (eq(name, n, "SHA512"))
		return IOC_SHA512;
	return IOC_NONE;
}

static int composite(struct err *why, size_t offset, const char *fmt, ...) CAIRN_PRINTF(3, 4);

static int composite(struct err *why, size_t offset, const char *fmt, ...)
{
	if (why != NULL) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(why->msg, sizeof(why->msg), fmt, ap);
		va_end(ap);
		why->code = STIX_COMPOSITE;
		why->offset = offset;
	}
	return STIX_COMPOSITE;
}

static const char *qual_word(enum stix_qual_kind k)
{
	return k == STIX_QUAL_WITHIN ? "WITHIN" : k == STIX_QUAL_REPEATS ? "REPEATS" : "START/STOP";
}

static int simple_cmp(const struct stix_cmp *c, struct err *why)
{
	if (c->kind == STIX_CMP_AND)
		return composite(why, c->offset, "AND inside an observation");
	if (c->kind == STIX_CMP_OR) {
		for (const struct stix_cmp *k = c->kids; k != NULL; k = k->next) {
			int rc = simple_cmp(k, why);
			if (rc != 0)
				return rc;
		}
		return 0;
	}
	if (c->negated)
		return composite(why, c->op_offset, "negated comparison (NOT %s)", stix_op_name(c->op));
	if (c->op != STIX_OP_EQ)
		return composite(why, c->op_offset, "operator %s", stix_op_name(c->op));
	if (path_type(&c->path) == IOC_NONE) {
		struct buf b = BUF_INIT;
		stix_path_print(&b, &c->path);
		int n = b.len > 80 ? 80 : (int)b.len;
		composite(why, c->path.offset, "unsupported path %.*s%s", n, buf_cstr(&b),
			  b.len > 80 ? "..." : "");
		buf_cleanup(&b);
		return STIX_COMPOSITE;
	}
	if (c->value->kind != STIX_CONST_STRING)
		return composite(why, c->value->offset, "value is not a string");
	return 0;
}

static int simple_obs(const struct stix_obs *o, struct err *why)
{
	switch (o->kind) {
	case STIX_OBS_COMPARISON:
		if (o->quals != NULL)
			return composite(why, o->quals->offset, "qualifier %s", qual_word(o->quals->kind));
		return simple_cmp(o->cmp, why);
	case STIX_OBS_GROUP:
		return composite(why, o->quals->offset, "qualifier %s", qual_word(o->quals->kind));
	case STIX_OBS_AND:
	case STIX_OBS_FOLLOWEDBY:
		return composite(why, o->kids->next->offset, "%s between observations", obs_op(o->kind));
	case STIX_OBS_OR:
		for (const struct stix_obs *k = o->kids; k != NULL; k = k->next) {
			int rc = simple_obs(k, why);
			if (rc != 0)
				return rc;
		}
		return 0;
	}
	return 0;
}

struct emit {
	int (*fn)(const struct stix_simple_ioc *r, void *ctx);
	void *ctx;
};

static int emit_cmp(const struct emit *em, const struct stix_cmp *c)
{
	if (c->kind == STIX_CMP_TEST) {
		struct stix_simple_ioc r = { path_type(&c->path), c->value->text, c->value->len, c->offset };
		return em->fn(&r, em->ctx);
	}
	for (const struct stix_cmp *k = c->kids; k != NULL; k = k->next) {
		int rc = emit_cmp(em, k);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int emit_obs(const struct emit *em, const struct stix_obs *o)
{
	if (o->kind == STIX_OBS_COMPARISON)
		return emit_cmp(em, o->cmp);
	for (const struct stix_obs *k = o->kids; k != NULL; k = k->next) {
		int rc = emit_obs(em, k);
		if (rc != 0)
			return rc;
	}
	return 0;
}

int stix_pattern_simple(const struct stix_pattern *p,
			int (*fn)(const struct stix_simple_ioc *r, void *ctx), void *ctx,
			struct err *why)
{
	int rc = simple_obs(p->root, why);
	if (rc != 0 || fn == NULL)
		return rc;
	struct emit em = { fn, ctx };
	return emit_obs(&em, p->root);
}
