/*
 * ecs_map.c — ecs_map_object(): one STIX object to its ECS documents.
 *
 * The steps follow Elastic's ti_custom ingest pipeline in its order
 * (MAPPING.md §2), because in that profile the order shows: a step that fails
 * leaves a pipeline-error document holding what the steps before it wrote,
 * and the final passes (drop _conf, halve double backslashes, prune empty
 * values) never run on it. Profile ecs runs the same steps, fixed where
 * MAPPING.md §15 says, records problems in error.message and carries on.
 *
 * Output keys are written in alphabetical order at every level we build;
 * properties copied from the STIX object keep its order. The writer opens an
 * object only when a member is actually written, so empty objects vanish.
 */
#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/buf.h"
#include "base/crypto.h"
#include "base/xmalloc.h"
#include "export/ecs_int.h"
#include "json/jw.h"

#define ECS_VERSION "8.17.0"
#define TI_PIPELINE "logs-ti_custom.indicator-1.8.4"

/* ---- extracted values ---- */

void ecs_vals_add(struct arena *a, struct ecs_vals *v, enum ecs_field f, const char *s, size_t n, bool dedup)
{
	struct ecs_list *l = &v->f[f];
	if (dedup)
		for (size_t i = 0; i < l->n; i++)
			if (l->v[i].len == n && !memcmp(l->v[i].s, s, n))
				return;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 4;
		struct ecs_str *nv = arena_alloc(a, cap * sizeof(*nv));
		if (l->n)
			memcpy(nv, l->v, l->n * sizeof(*nv));
		l->v = nv;
		l->cap = cap;
	}
	l->v[l->n].s = arena_strndup(a, s, n);
	l->v[l->n].len = n;
	l->n++;
}

void ecs_vals_type(struct ecs_vals *v, const char *type)
{
	for (size_t i = 0; i < v->ntypes; i++)
		if (!strcmp(v->types[i], type))
			return;
	if (v->ntypes < ECS_MAX_TYPES)
		v->types[v->ntypes++] = type;
}

bool ecs_vals_empty(const struct ecs_vals *v)
{
	if (v->ntypes)
		return false;
	for (int f = 0; f < EF_COUNT; f++)
		if (v->f[f].n)
			return false;
	return true;
}

/* ---- durations and names ---- */

int64_t ecs_parse_duration(const char *s)
{
	static const struct { char unit; int64_t us; } units[3] = {
		{ 'd', USEC_PER_DAY }, { 'h', 3600 * USEC_PER_SEC }, { 'm', 60 * USEC_PER_SEC },
	};
	if (s == NULL || *s == '\0')
		return -1;
	int64_t total = 0;
	int next = 0;		/* units must come largest first, each once */
	const char *p = s;
	while (*p) {
		int64_t v = 0;
		const char *start = p;
		while (*p >= '0' && *p <= '9') {
			if (v > 1000000000)
				return -1;
			v = v * 10 + (*p++ - '0');
		}
		if (p == start)
			return -1;
		int u = next;
		while (u < 3 && units[u].unit != *p)
			u++;
		if (u == 3)
			return -1;
		p++;
		next = u + 1;
		if (v > 36500 * USEC_PER_DAY / units[u].us)
			return -1;
		total += v * units[u].us;
	}
	if (total <= 0 || total > 36500 * USEC_PER_DAY)
		return -1;
	return total;
}

int ecs_profile_from_name(const char *s)
{
	if (s && !strcmp(s, "ecs"))
		return ECS_PROFILE_ECS;
	if (s && !strcmp(s, "ti_custom"))
		return ECS_PROFILE_TI_CUSTOM;
	return -1;
}

/* A TLP level as ECS writes it (upper case), or NULL. */
static const char *tlp_upper(const char *s)
{
	static const char *const names[] = { "CLEAR", "WHITE", "GREEN", "AMBER", "AMBER+STRICT", "RED" };
	if (s == NULL)
		return NULL;
	if (!strncasecmp(s, "TLP:", 4))
		s += 4;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcasecmp(s, names[i]))
			return names[i];
	return NULL;
}

/* The TLP marking definitions of STIX 2.1 (TLP 1.0, §7.2.1.4) and of the TLP 2.0 extension,
 * least restrictive first. */
static const struct { const char *id, *tlp, *version; int rank; } tlp_marks[] = {
	{ "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9", "WHITE", "1.0", 0 },
	{ "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487", "CLEAR", "2.0", 0 },
	{ "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", "GREEN", "1.0", 1 },
	{ "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb", "GREEN", "2.0", 1 },
	{ "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82", "AMBER", "1.0", 2 },
	{ "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", "AMBER", "2.0", 2 },
	{ "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003", "AMBER+STRICT", "2.0", 3 },
	{ "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed", "RED", "1.0", 4 },
	{ "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1", "RED", "2.0", 4 },
};

/* ---- the writer ---- */

#define OW_MAX (ECS_MAX_DEPTH + 8)

struct ow {
	struct buf *b;
	bool collapse;		/* ti_custom: each "\\\\" of a string value becomes "\\" */
	bool prune;		/* leave out null, "" and containers that end up empty */
	int depth, open;	/* levels begun / levels actually written */
	const char *pend[OW_MAX];
	bool first[OW_MAX];
};

static void str_body(struct ow *w, const char *s, size_t n)
{
	if (!w->collapse) {
		json_escape(w->b, s, n);
		return;
	}
	size_t from = 0, i = 0;
	while (i + 1 < n) {
		if (s[i] == '\\' && s[i + 1] == '\\') {
			json_escape(w->b, s + from, i + 1 - from);
			i += 2;
			from = i;
		} else {
			i++;
		}
	}
	json_escape(w->b, s + from, n - from);
}

static void put_str(struct ow *w, const char *s, size_t n)
{
	buf_putc(w->b, '"');
	str_body(w, s, n);
	buf_putc(w->b, '"');
}

static void raw_key(struct buf *b, const char *k, size_t n)
{
	buf_putc(b, '"');
	json_escape(b, k, n);
	buf_append(b, "\":", 2);
}

static void sep(struct ow *w)
{
	if (!w->first[w->open])
		buf_putc(w->b, ',');
	w->first[w->open] = false;
}

/* Writes the objects begun but not yet written. */
static void flush(struct ow *w)
{
	while (w->open < w->depth) {
		sep(w);
		raw_key(w->b, w->pend[w->open + 1], strlen(w->pend[w->open + 1]));
		buf_putc(w->b, '{');
		w->open++;
		w->first[w->open] = true;
	}
}

static void key(struct ow *w, const char *k)
{
	flush(w);
	sep(w);
	raw_key(w->b, k, strlen(k));
}

static void begin(struct ow *w, const char *k)
{
	if (w->depth + 1 < OW_MAX)
		w->pend[++w->depth] = k;
}

static void end(struct ow *w)
{
	if (w->open == w->depth) {
		buf_putc(w->b, '}');
		w->open--;
	}
	w->depth--;
}

static void kstr(struct ow *w, const char *k, const char *s, size_t n)
{
	if (n == 0 && w->prune)
		return;
	key(w, k);
	put_str(w, s, n);
}

static void kcstr(struct ow *w, const char *k, const char *s)
{
	if (s)
		kstr(w, k, s, strlen(s));
}

static void put_real(struct buf *b, double d)
{
	char tmp[40];
	if (!isfinite(d)) {
		buf_puts(b, "null");
		return;
	}
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*g", prec, d);
		if (strtod(tmp, NULL) == d)
			break;
	}
	buf_puts(b, tmp);
	if (strspn(tmp, "-0123456789") == strlen(tmp))
		buf_puts(b, ".0");
}

static bool pruned(const struct ow *w, json_t *v)
{
	if (!w->prune)
		return false;
	switch (json_typeof(v)) {
	case JSON_NULL:
		return true;
	case JSON_STRING:
		return json_string_length(v) == 0;
	case JSON_ARRAY: {
		size_t i;
		json_t *x;
		json_array_foreach(v, i, x)
			if (!pruned(w, x))
				return false;
		return true;
	}
	case JSON_OBJECT: {
		const char *k;
		json_t *x;
		json_object_foreach(v, k, x)
			if (!pruned(w, x))
				return false;
		return true;
	}
	default:
		return false;
	}
}

static void put_json(struct ow *w, json_t *v)
{
	struct buf *b = w->b;
	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		const char *k;
		json_t *x;
		bool first = true;
		buf_putc(b, '{');
		json_object_foreach(v, k, x) {
			if (pruned(w, x))
				continue;
			if (!first)
				buf_putc(b, ',');
			first = false;
			raw_key(b, k, strlen(k));
			put_json(w, x);
		}
		buf_putc(b, '}');
		return;
	}
	case JSON_ARRAY: {
		size_t i;
		json_t *x;
		bool first = true;
		buf_putc(b, '[');
		json_array_foreach(v, i, x) {
			if (pruned(w, x))
				continue;
			if (!first)
				buf_putc(b, ',');
			first = false;
			put_json(w, x);
		}
		buf_putc(b, ']');
		return;
	}
	case JSON_STRING:
		put_str(w, json_string_value(v), json_string_length(v));
		return;
	case JSON_INTEGER:
		buf_put_i64(b, (long long)json_integer_value(v));
		return;
	case JSON_REAL:
		put_real(b, json_real_value(v));
		return;
	case JSON_TRUE:
		buf_puts(b, "true");
		return;
	case JSON_FALSE:
		buf_puts(b, "false");
		return;
	case JSON_NULL:
		buf_puts(b, "null");
		return;
	}
}

static void kjson(struct ow *w, const char *k, json_t *v)
{
	if (v == NULL || pruned(w, v))
		return;
	key(w, k);
	put_json(w, v);
}

/* A list field as an array (integers: ints; int32: Java's Integer, else left as text). */
enum list_kind { L_STR, L_INT, L_INT32 };

static bool int_text(const char *s, size_t n, bool int32, long long *out)
{
	size_t i = 0;
	bool neg = false;
	if (i < n && (s[i] == '+' || s[i] == '-'))
		neg = s[i++] == '-';
	if (i == n)
		return false;
	long long v = 0;
	for (; i < n; i++) {
		if (s[i] < '0' || s[i] > '9' || v > (LLONG_MAX - 9) / 10)
			return false;
		v = v * 10 + (s[i] - '0');
	}
	if (neg)
		v = -v;
	if (int32 && (v < -2147483648LL || v > 2147483647LL))
		return false;
	*out = v;
	return true;
}

static void klist(struct ow *w, const char *k, const struct ecs_list *l, enum list_kind kind)
{
	size_t live = 0;
	for (size_t i = 0; i < l->n; i++)
		live += l->v[i].len > 0 || !w->prune;
	if (live == 0)
		return;
	key(w, k);
	buf_putc(w->b, '[');
	bool first = true, failed = false;
	for (size_t i = 0; i < l->n; i++) {
		const struct ecs_str *s = &l->v[i];
		long long iv;
		if (s->len == 0 && w->prune)
			continue;
		if (!first)
			buf_putc(w->b, ',');
		first = false;
		/* A conversion that fails stops there: later values stay text, as Elastic's foreach
		 * leaves them. */
		if (kind != L_STR && !failed && int_text(s->s, s->len, kind == L_INT32, &iv)) {
			buf_put_i64(w->b, iv);
		} else {
			failed = kind != L_STR;
			put_str(w, s->s, s->len);
		}
	}
	buf_putc(w->b, ']');
}

static void kscalar(struct ow *w, const char *k, const struct ecs_list *l)
{
	if (l->n)
		kstr(w, k, l->v[l->n - 1].s, l->v[l->n - 1].len);
}

/* ---- the mapping ---- */

/* How far the ti_custom pipeline got: a failure at stage S leaves what stages < S wrote. */
enum stage {
	ST_CREATED, ST_MODIFIED, ST_VALID_FROM, ST_MOVE, ST_CONFIDENCE, ST_TAGS, ST_EXPIRY,
	ST_EXTRACT, ST_DONE
};

#define MAX_ERRORS 8

struct map {
	const struct ecs_opts *o;
	bool ti;
	const char *raw;
	size_t rawlen;
	json_t *stix;
	struct arena a;

	enum stage stage;		/* ti_custom: ST_DONE unless a step failed */
	const char *errors[MAX_ERRORS];
	size_t nerrors;

	const char *id;
	bool have_ts, have_last, have_first, have_exp;
	int64_t ts, last, first, exp, modified;
	const char *confidence;
	struct ecs_str *tags;
	size_t ntags;
	const char *reason, *dur_text;
	const char *ti_type;		/* ti_custom's threat.indicator.type */
	const char *tlp, *tlp_version;
	json_t *refs;			/* profile ecs: threat.indicator.reference, an array */

	struct ecs_vals *alts;
	size_t nalts;
};

static void add_error(struct map *m, const char *fmt, ...) CAIRN_PRINTF(2, 3);

static void add_error(struct map *m, const char *fmt, ...)
{
	if (m->nerrors == MAX_ERRORS)
		return;
	char tmp[ERR_MSG_MAX + 128];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	m->errors[m->nerrors++] = arena_strdup(&m->a, tmp);
}

/* ti_custom: the step of Elastic's pipeline failed; the document stops here. */
static void ti_fail(struct map *m, enum stage at, const char *type, const char *tag, const char *msg)
{
	add_error(m, "Processor \"%s\" with tag \"%s\" in pipeline \"%s\" failed with message \"%s\"", type,
		  tag, TI_PIPELINE, msg);
	m->stage = at;
}

static json_t *prop(const struct map *m, const char *k)
{
	json_t *v = json_object_get(m->stix, k);
	return json_is_null(v) ? NULL : v;
}

static const char *prop_str(const struct map *m, const char *k)
{
	return json_string_value(prop(m, k));
}

/* A date property; false (and an error) when present but unreadable. */
static bool date_prop(struct map *m, const char *k, const char *tag, enum stage st, bool *have, int64_t *us)
{
	json_t *v = prop(m, k);
	*have = false;
	if (v == NULL)
		return true;
	if (json_is_string(v) && ecs_time_iso8601(json_string_value(v), json_string_length(v), us)) {
		*have = true;
		return true;
	}
	if (m->ti)
		ti_fail(m, st, "date", tag, "unable to parse date");
	else
		add_error(m, "%s: not a date", k);
	return false;
}

static bool dates(struct map *m)
{
	if (!date_prop(m, "created", "date_created", ST_CREATED, &m->have_ts, &m->ts) && m->ti)
		return false;
	bool have_mod;
	if (!date_prop(m, "modified", "date_modified", ST_MODIFIED, &have_mod, &m->last) && m->ti)
		return false;
	m->have_last = have_mod;
	m->modified = have_mod ? m->last : 0;
	if (!date_prop(m, "valid_from", "date_valid_from", ST_VALID_FROM, &m->have_first, &m->first) && m->ti)
		return false;
	return true;
}

static bool confidence(struct map *m)
{
	json_t *v = prop(m, "confidence");
	if (v == NULL)
		return true;
	if (!json_is_number(v)) {
		if (m->ti) {
			ti_fail(m, ST_CONFIDENCE, "script", "script_normalize_confidence",
				"cannot compare the confidence, which is not a number");
			return false;
		}
		add_error(m, "confidence: not a number");
		return true;
	}
	double c = json_number_value(v);
	m->confidence = c == 0 ? "None" : c >= 1 && c <= 29 ? "Low" : c >= 30 && c <= 69 ? "Medium"
		      : c >= 70 && c <= 100 ? "High" : "Not Specified";
	return true;
}

static void push_tag(struct map *m, const char *s, size_t n, size_t cap)
{
	if (m->ntags < cap) {
		m->tags[m->ntags].s = s;
		m->tags[m->ntags++].len = n;
	}
}

/* labels → tags; ti_custom puts the agent's tags first and un-escapes \" (the gsub step). */
static void tags(struct map *m)
{
	json_t *labels = prop(m, "labels");
	size_t cap = 3 + (json_is_array(labels) ? json_array_size(labels) : 0);
	m->tags = arena_alloc(&m->a, cap * sizeof(*m->tags));
	if (m->ti) {
		if (m->o->preserve_original_event)
			push_tag(m, "preserve_original_event", 23, cap);
		push_tag(m, "forwarded", 9, cap);
		push_tag(m, "ti_custom-indicator", 19, cap);
	}
	size_t i;
	json_t *l;
	json_array_foreach(labels, i, l) {
		char num[48];
		switch (json_typeof(l)) {
		case JSON_STRING:
			push_tag(m, json_string_value(l), json_string_length(l), cap);
			break;
		case JSON_INTEGER:
		case JSON_REAL:
		case JSON_TRUE:
		case JSON_FALSE:
			if (!m->ti)
				break;
			if (json_is_integer(l))
				snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(l));
			else if (json_is_real(l))
				snprintf(num, sizeof(num), "%.17g", json_real_value(l));
			else
				snprintf(num, sizeof(num), "%s", json_is_true(l) ? "true" : "false");
			push_tag(m, arena_strdup(&m->a, num), strlen(num), cap);
			break;
		default:	/* null renders as "", which is pruned; objects: not reproduced */
			break;
		}
	}
	if (!m->ti)
		return;
	for (size_t t = 0; t < m->ntags; t++) {
		const char *s = m->tags[t].s;
		size_t n = m->tags[t].len;
		if (memmem(s, n, "\\\"", 2) == NULL)
			continue;
		char *o = arena_alloc(&m->a, n + 1);
		size_t k = 0;
		for (size_t j = 0; j < n; j++) {
			if (s[j] == '\\' && j + 1 < n && s[j + 1] == '"')
				continue;
			o[k++] = s[j];
		}
		m->tags[t].s = o;
		m->tags[t].len = k;
	}
}

/* The configured duration as text, for stix.ioc_expiration_duration (and _conf). */
static void duration_text(struct map *m)
{
	const struct ecs_opts *o = m->o;
	if (o->expiration_text && *o->expiration_text) {
		m->dur_text = o->expiration_text;
	} else if (o->expiration_us > 0) {
		char tmp[32];
		int64_t us = o->expiration_us;
		if (us % USEC_PER_DAY == 0)
			snprintf(tmp, sizeof(tmp), "%lldd", (long long)(us / USEC_PER_DAY));
		else if (us % (3600 * USEC_PER_SEC) == 0)
			snprintf(tmp, sizeof(tmp), "%lldh", (long long)(us / (3600 * USEC_PER_SEC)));
		else
			snprintf(tmp, sizeof(tmp), "%lldm", (long long)(us / (60 * USEC_PER_SEC)));
		m->dur_text = arena_strdup(&m->a, tmp);
	}
}

static int64_t to_ms(int64_t us)
{
	return us - ((us % 1000) + 1000) % 1000;
}

/* MAPPING.md §7. */
static bool expiry(struct map *m)
{
	const struct ecs_opts *o = m->o;
	json_t *vu = prop(m, "valid_until");
	json_t *revoked = prop(m, "revoked");
	if (vu) {
		if (json_is_string(vu) && ecs_time_iso8601(json_string_value(vu), json_string_length(vu), &m->exp)) {
			m->exp = to_ms(m->exp);
			m->have_exp = true;
		} else if (m->ti) {
			ti_fail(m, ST_EXPIRY, "date", "date_ioc_expiration_valid_until", "unable to parse date");
			return false;
		} else {
			add_error(m, "valid_until: not a date");
		}
	} else if (json_is_true(revoked)) {
		if (m->have_last) {
			m->exp = to_ms(m->last);
			m->have_exp = true;
		} else if (m->ti) {
			ti_fail(m, ST_EXPIRY, "set", "set_ioc_expiration_revoked",
				"field [modified_at] not present as part of path [threat.indicator.modified_at]");
			return false;
		} else {
			add_error(m, "revoked, but no modified to expire it at");
		}
	} else if (o->expiration_us > 0) {
		if (m->have_last || m->have_first) {
			/* from the normalised date, in whole ms */
			m->exp = to_ms(m->have_last ? m->last : m->first) + o->expiration_us;
			m->have_exp = true;
		} else if (m->ti) {
			ti_fail(m, ST_EXPIRY, "date", "date_ioc_expiration_date",
				"field [ioc_expiration_date] not present as part of path [stix.ioc_expiration_date]");
			return false;
		} else {
			add_error(m, "neither modified nor valid_from to count the expiration from");
		}
	} else if (m->ti) {
		ti_fail(m, ST_EXPIRY, "date", "date_ioc_expiration_date",
			"field [ioc_expiration_date] not present as part of path [stix.ioc_expiration_date]");
		return false;
	}
	if (m->have_exp)
		m->reason = vu ? ECS_REASON_VALID_UNTIL : json_is_true(revoked) ? ECS_REASON_REVOKED
						       : ECS_REASON_DURATION;
	return true;
}

static void markings(struct map *m)
{
	int best = -1;
	size_t i;
	json_t *ref;
	if (!m->ti) {
		json_array_foreach(prop(m, "object_marking_refs"), i, ref) {
			const char *s = json_string_value(ref);
			for (size_t k = 0; s && k < sizeof(tlp_marks) / sizeof(tlp_marks[0]); k++)
				if (!strcmp(s, tlp_marks[k].id) && tlp_marks[k].rank > best) {
					best = tlp_marks[k].rank;
					m->tlp = tlp_marks[k].tlp;
					m->tlp_version = tlp_marks[k].version;
				}
		}
	}
	if (m->tlp == NULL)
		m->tlp = tlp_upper(m->o->tlp);
}

static void extract(struct map *m)
{
	const char *pattern = prop_str(m, "pattern");
	size_t plen = pattern ? json_string_length(prop(m, "pattern")) : 0;
	if (m->ti) {
		m->nalts = 1;
		m->alts = arena_alloc(&m->a, sizeof(struct ecs_vals));
		memset(m->alts, 0, sizeof(struct ecs_vals));
		m->ti_type = pattern ? ecs_ti_type(pattern, plen) : NULL;
		if (m->ti_type)
			ecs_ti_extract(&m->a, pattern, plen, m->ti_type, m->alts);
		if (m->alts->error) {
			ti_fail(m, ST_EXTRACT, "date", "date_x509", m->alts->error);
			return;
		}
		const struct ecs_list *as = &m->alts->f[EF_AS_NUMBER];
		for (size_t i = 0; i < as->n; i++) {
			long long v;
			if (!int_text(as->v[i].s, as->v[i].len, true, &v)) {
				ti_fail(m, ST_EXTRACT, "convert", "foreach_threat_indicator_as_number_cf4eaae5",
					"unable to convert to integer");
				return;
			}
		}
		return;
	}
	const char *ptype = prop_str(m, "pattern_type");
	if (pattern && (ptype == NULL || !strcmp(ptype, "stix"))) {
		const char *why = NULL;
		/* Each document repeats the object (event.original, stix.*): bound what one object
		 * can make us write. */
		size_t max_parts = ECS_MAX_OUTPUT / (m->rawlen ? m->rawlen : 1);
		max_parts = max_parts < 1 ? 1 : max_parts > ECS_MAX_PARTS ? ECS_MAX_PARTS : max_parts;
		m->nalts = ecs_std_extract(&m->a, pattern, plen, max_parts, &m->alts, &why);
		if (why)
			add_error(m, "pattern: %s", why);
	} else {
		m->nalts = 1;
		m->alts = arena_alloc(&m->a, sizeof(struct ecs_vals));
		memset(m->alts, 0, sizeof(struct ecs_vals));
	}
	size_t i;
	json_t *r;
	json_array_foreach(prop(m, "external_references"), i, r) {
		json_t *url = json_object_get(r, "url");
		if (json_is_string(url) && json_string_length(url)) {
			if (m->refs == NULL)
				m->refs = json_array();
			json_array_append(m->refs, url);
		}
	}
}

/* ---- document ids: Elasticsearch's fingerprint processor ---- */

static void fp_bytes(struct buf *b, const void *p, size_t n)
{
	buf_putc(b, '\0');
	buf_append(b, p, n);
}

static int fp_cmp(const void *x, const void *y)
{
	return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* Each value after a zero byte: strings as UTF-8, numbers as Java's little-endian Integer,
 * Long or Double, booleans as 1 or 2; lists element by element; maps by key order, each key
 * then its value. */
static void fp_value(struct buf *b, json_t *v)
{
	unsigned char le[8];
	switch (json_typeof(v)) {
	case JSON_STRING:
		fp_bytes(b, json_string_value(v), json_string_length(v));
		return;
	case JSON_INTEGER: {
		long long x = json_integer_value(v);
		size_t n = x >= INT32_MIN && x <= INT32_MAX ? 4 : 8;
		for (size_t i = 0; i < n; i++)
			le[i] = (unsigned char)((unsigned long long)x >> (8 * i));
		fp_bytes(b, le, n);
		return;
	}
	case JSON_REAL: {
		double d = json_real_value(v);
		uint64_t bits;
		memcpy(&bits, &d, 8);
		for (size_t i = 0; i < 8; i++)
			le[i] = (unsigned char)(bits >> (8 * i));
		fp_bytes(b, le, 8);
		return;
	}
	case JSON_TRUE:
	case JSON_FALSE:
		le[0] = json_is_true(v) ? 1 : 2;
		fp_bytes(b, le, 1);
		return;
	case JSON_NULL:
		fp_bytes(b, NULL, 0);
		return;
	case JSON_ARRAY: {
		size_t i;
		json_t *x;
		json_array_foreach(v, i, x)
			fp_value(b, x);
		return;
	}
	case JSON_OBJECT: {
		size_t n = json_object_size(v), k = 0;
		const char **keys = xmalloc((n ? n : 1) * sizeof(*keys));
		const char *key_;
		json_t *x;
		json_object_foreach(v, key_, x)
			keys[k++] = key_;
		qsort(keys, n, sizeof(*keys), fp_cmp);
		for (k = 0; k < n; k++) {
			fp_bytes(b, keys[k], strlen(keys[k]));
			fp_value(b, json_object_get(v, keys[k]));
		}
		free(keys);
		return;
	}
	}
}

static void base64(const unsigned char *p, size_t n, char *out)
{
	static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) |
			     (i + 2 < n ? p[i + 2] : 0);
		out[o++] = t[v >> 18 & 63];
		out[o++] = t[v >> 12 & 63];
		out[o++] = i + 1 < n ? t[v >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? t[v & 63] : '=';
	}
	out[o] = '\0';
}

/* fields: sorted property names. Returns false when none is present. */
static bool fingerprint(const struct map *m, const char *const *fields, size_t n, long part, char out[32])
{
	struct buf b = BUF_INIT;
	bool any = false;
	for (size_t i = 0; i < n; i++) {
		json_t *v = prop(m, fields[i]);
		if (v) {
			fp_value(&b, v);
			any = true;
		}
	}
	if (!any && !m->ti) {		/* no id at all: the text is what identifies it */
		fp_bytes(&b, m->raw, m->rawlen);
		any = true;
	}
	if (part >= 0) {
		char tmp[24];
		int k = snprintf(tmp, sizeof(tmp), "%ld", part);
		fp_bytes(&b, tmp, (size_t)k);
	}
	uint8_t md[20];
	crypto_sha1(b.data ? b.data : "", b.len, md);
	base64(md, 20, out);
	buf_cleanup(&b);
	return any;
}

/* ---- writing a document ---- */

static const char *const rdn_names[7] = { "common_name", "country", "distinguished_name", "locality",
					  "organization", "organizational_unit", "state_or_province" };

static void x509_name(struct ow *w, const char *k, const struct ecs_vals *v, int base)
{
	begin(w, k);
	for (int i = 0; i < 7; i++)
		klist(w, rdn_names[i], &v->f[base + i], L_STR);
	end(w);
}

static void time_key(struct ow *w, const char *k, int64_t us)
{
	char tmp[40];
	key(w, k);
	buf_putc(w->b, '"');
	buf_append(w->b, tmp, ecs_time_format(tmp, us));
	buf_putc(w->b, '"');
}

static void indicator(struct ow *w, const struct map *m, const struct ecs_vals *v)
{
	const struct ecs_list *f = v->f;
	bool ti = m->ti, moved = !ti || m->stage > ST_MOVE;
	begin(w, "indicator");
	begin(w, "as");
	klist(w, "number", &f[EF_AS_NUMBER], ti ? L_INT32 : L_INT);
	begin(w, "organization");
	klist(w, "name", &f[EF_AS_ORG], L_STR);
	end(w);
	end(w);
	if (m->confidence && (!ti || m->stage > ST_CONFIDENCE))
		kcstr(w, "confidence", m->confidence);
	if (moved)
		kjson(w, "description", prop(m, "description"));
	begin(w, "email");
	klist(w, "address", &f[EF_EMAIL], L_STR);
	end(w);
	begin(w, "file");
	klist(w, "directory", &f[EF_FILE_DIR], L_STR);
	begin(w, "hash");
	static const char *const hashes[7] = { "md5", "sha1", "sha256", "sha384", "sha512", "ssdeep", "tlsh" };
	for (int i = 0; i < 7; i++)
		klist(w, hashes[i], &f[EF_MD5 + i], L_STR);
	end(w);
	klist(w, "name", &f[EF_FILE_NAME], L_STR);
	klist(w, "size", &f[EF_FILE_SIZE], L_INT);
	end(w);
	if (m->have_first && (!ti || m->stage > ST_VALID_FROM))
		time_key(w, "first_seen", m->first);
	if (!ti && m->id)
		kstr(w, "id", m->id, strlen(m->id));	/* ECS: an array; one value is one too */
	klist(w, "ip", &f[EF_IP], L_STR);
	if (m->have_last && (!ti || m->stage > ST_MODIFIED))
		time_key(w, "last_seen", m->last);
	begin(w, "marking");
	kcstr(w, "tlp", m->tlp);
	kcstr(w, "tlp_version", m->tlp_version);
	end(w);
	if (m->have_last && (!ti || m->stage > ST_MODIFIED))
		time_key(w, "modified_at", m->last);
	if (moved)
		kjson(w, "name", prop(m, "name"));
	klist(w, "port", &f[EF_PORT], L_INT);
	if (m->refs)
		kjson(w, "reference", m->refs);
	begin(w, "registry");
	begin(w, "data");
	klist(w, "strings", &f[EF_REG_DATA], L_STR);
	klist(w, "type", &f[EF_REG_DATA_TYPE], L_STR);
	end(w);
	klist(w, "hive", &f[EF_REG_HIVE], L_STR);
	klist(w, "key", &f[EF_REG_KEY], L_STR);
	klist(w, "path", &f[EF_REG_PATH], L_STR);
	klist(w, "value", &f[EF_REG_VALUE], L_STR);
	end(w);
	if (ti) {
		if (m->stage > ST_EXPIRY)
			kcstr(w, "type", m->ti_type);
	} else if (v->ntypes == 1) {
		kcstr(w, "type", v->types[0]);
	} else if (v->ntypes > 1) {
		key(w, "type");
		buf_putc(w->b, '[');
		for (size_t i = 0; i < v->ntypes; i++) {
			if (i)
				buf_putc(w->b, ',');
			put_str(w, v->types[i], strlen(v->types[i]));
		}
		buf_putc(w->b, ']');
	}
	begin(w, "url");
	klist(w, "domain", &f[EF_URL_DOMAIN], L_STR);
	klist(w, "original", &f[EF_URL_ORIGINAL], L_STR);
	end(w);
	begin(w, "x509");
	x509_name(w, "issuer", v, EF_X_ISS);
	kscalar(w, "not_after", &f[EF_X_NOT_AFTER]);
	kscalar(w, "not_before", &f[EF_X_NOT_BEFORE]);
	klist(w, "public_key_algorithm", &f[EF_X_PKALG], L_STR);
	klist(w, "serial_number", &f[EF_X_SERIAL], L_STR);
	klist(w, "signature_algorithm", &f[EF_X_SIGALG], L_STR);
	x509_name(w, "subject", v, EF_X_SUB);
	klist(w, "version_number", &f[EF_X_VERSION], L_STR);
	end(w);
	end(w);
}

/* The STIX properties under stix.*, minus what the pipeline moved, plus the expiry. */
static void stix_obj(struct ow *w, const struct map *m)
{
	bool ti = m->ti, moved = !ti || m->stage > ST_MOVE, labels_gone = !ti || m->stage > ST_TAGS;
	bool expired = !ti || m->stage > ST_EXPIRY;
	const char *k;
	json_t *v;
	begin(w, "stix");
	json_object_foreach(m->stix, k, v) {
		if ((moved && (!strcmp(k, "name") || !strcmp(k, "description"))) ||
		    (labels_gone && !strcmp(k, "labels")) || (ti && !strcmp(k, "_patterns")))
			continue;
		if (expired && ((m->have_exp && (!strcmp(k, "ioc_expiration_date") ||
						 !strcmp(k, "ioc_expiration_reason"))) ||
				(m->dur_text && !strcmp(k, "ioc_expiration_duration"))))
			continue;
		kjson(w, k, v);
	}
	if (expired) {
		if (m->have_exp)
			time_key(w, "ioc_expiration_date", m->exp);
		kcstr(w, "ioc_expiration_duration", m->dur_text);
		kcstr(w, "ioc_expiration_reason", m->reason);
	}
	end(w);
}

static void write_doc(struct map *m, const struct ecs_vals *v, struct buf *out)
{
	const struct ecs_opts *o = m->o;
	bool ti = m->ti, failed = m->nerrors > 0 && (ti ? m->stage < ST_DONE : true);
	struct ow w = { .b = out, .first = { true } };
	w.collapse = ti && m->stage == ST_DONE;
	w.prune = !ti || m->stage == ST_DONE;
	buf_putc(out, '{');
	if (m->have_ts && (!ti || m->stage > ST_CREATED))
		time_key(&w, "@timestamp", m->ts);
	else if (o->now)
		time_key(&w, "@timestamp", o->now);
	if (ti && m->stage < ST_DONE) {
		begin(&w, "_conf");
		kcstr(&w, "feed_name", o->feed_name);
		kcstr(&w, "feed_reference", o->feed_reference);
		if (m->stage <= ST_EXPIRY && m->dur_text)
			kcstr(&w, "ioc_expiration_duration", m->dur_text);
		key(&w, "restrict_stix");
		buf_puts(out, o->all_objects ? "false" : "true");
		end(&w);
	}
	if (!ti) {
		begin(&w, "cairn");
		klist(&w, "ip_networks", &v->f[EF_NETWORKS], L_STR);
		end(&w);
	}
	begin(&w, "ecs");
	kcstr(&w, "version", ECS_VERSION);
	end(&w);
	if (m->nerrors) {
		begin(&w, "error");
		key(&w, "message");
		buf_putc(out, '[');
		for (size_t i = 0; i < m->nerrors; i++) {
			if (i)
				buf_putc(out, ',');
			put_str(&w, m->errors[i], strlen(m->errors[i]));
		}
		buf_putc(out, ']');
		end(&w);
	}
	begin(&w, "event");
	key(&w, "category");
	buf_puts(out, "[\"threat\"]");
	if (o->now) {
		char tmp[40];
		key(&w, "ingested");
		buf_putc(out, '"');
		buf_append(out, tmp, ecs_time_format_sec(tmp, o->now));
		buf_putc(out, '"');
	}
	kcstr(&w, "kind", failed ? "pipeline_error" : "enrichment");
	kstr(&w, "original", m->raw, m->rawlen);
	key(&w, "type");
	buf_puts(out, "[\"indicator\"]");
	end(&w);
	begin(&w, "related");
	klist(&w, "hash", &v->f[EF_REL_HASH], L_STR);
	klist(&w, "hosts", &v->f[EF_REL_HOSTS], L_STR);
	klist(&w, "ip", &v->f[EF_REL_IP], L_STR);
	end(&w);
	stix_obj(&w, m);
	/* tags: the agent's and the labels (ti_custom after its step), and on failure the marker */
	size_t n = ti && m->stage <= ST_TAGS ? (o->preserve_original_event ? 3 : 2) : m->ntags;
	bool marker = ti && m->stage < ST_DONE;
	for (size_t i = 0; marker && i < n; i++)
		if (m->tags[i].len == 23 && !memcmp(m->tags[i].s, "preserve_original_event", 23))
			marker = false;
	size_t live = marker;
	for (size_t i = 0; i < n; i++)
		live += m->tags[i].len > 0 || !w.prune;
	if (live) {
		key(&w, "tags");
		buf_putc(out, '[');
		bool first = true;
		for (size_t i = 0; i < n; i++) {
			if (m->tags[i].len == 0 && w.prune)
				continue;
			if (!first)
				buf_putc(out, ',');
			first = false;
			put_str(&w, m->tags[i].s, m->tags[i].len);
		}
		if (marker)
			buf_puts(out, first ? "\"preserve_original_event\"" : ",\"preserve_original_event\"");
		buf_putc(out, ']');
	}
	begin(&w, "threat");
	begin(&w, "feed");
	kcstr(&w, "name", o->feed_name);
	kcstr(&w, "reference", o->feed_reference);
	end(&w);
	indicator(&w, m, v);
	end(&w);
	buf_putc(out, '}');
}

static int json_depth(json_t *v, int d)
{
	int max = d;
	size_t i;
	const char *k;
	json_t *x;
	if (d > ECS_MAX_DEPTH)
		return d;
	if (json_is_array(v)) {
		json_array_foreach(v, i, x) {
			int dd = json_depth(x, d + 1);
			if (dd > max)
				max = dd;
		}
	} else if (json_is_object(v)) {
		json_object_foreach(v, k, x) {
			int dd = json_depth(x, d + 1);
			if (dd > max)
				max = dd;
		}
	}
	return max;
}

static bool kept(const struct map *m)
{
	if (m->o->all_objects)
		return true;
	const char *type = prop_str(m, "type");
	json_t *sv = json_object_get(m->stix, "spec_version");
	const char *spec = json_string_value(sv);
	if (type == NULL || strcmp(type, "indicator"))
		return false;
	if (m->ti)
		return spec && !strcmp(spec, "2.1");
	return sv == NULL || (spec && (!strcmp(spec, "2.1") || !strcmp(spec, "2.0")));
}

int ecs_map_object(const char *json, size_t len, const struct ecs_opts *o, ecs_doc_cb cb, void *ctx,
		   struct err *e)
{
	if (len > ECS_MAX_INPUT)
		return err_set(e, ERR_TOO_LARGE, "the object is larger than %d bytes", ECS_MAX_INPUT);
	json_error_t je;
	json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
	if (root == NULL)
		return err_set(e, ERR_INVALID, "not JSON: %s (at byte %d)", je.text, je.position);
	if (!json_is_object(root)) {
		json_decref(root);
		return err_set(e, ERR_INVALID, "not a JSON object");
	}
	if (json_depth(root, 1) > ECS_MAX_DEPTH) {
		json_decref(root);
		return err_set(e, ERR_TOO_LARGE, "the object is nested deeper than %d levels", ECS_MAX_DEPTH);
	}

	struct map m = { .o = o, .ti = o->profile == ECS_PROFILE_TI_CUSTOM, .raw = json, .rawlen = len,
			 .stix = root, .stage = ST_DONE };
	arena_init(&m.a);
	int rc = 0;
	if (!kept(&m))
		goto out;
	m.id = prop_str(&m, "id");
	duration_text(&m);
	/* Each step runs only if the ones before it did (ti_custom); ecs carries on. */
	if (dates(&m) && confidence(&m)) {
		tags(&m);
		if (expiry(&m))
			extract(&m);
	}
	if (m.tags == NULL)
		tags(&m);
	if (m.alts == NULL) {
		m.nalts = 1;
		m.alts = arena_alloc(&m.a, sizeof(struct ecs_vals));
		memset(m.alts, 0, sizeof(struct ecs_vals));
	}
	markings(&m);

	static const char *const ti_fields[3] = { "created", "id", "pattern" };
	static const char *const ecs_fields[4] = { "created", "id", "modified", "pattern" };
	struct buf out = BUF_INIT;
	for (size_t i = 0; i < m.nalts && rc == 0; i++) {
		char id[32], latest[300];
		bool has_id = m.ti ? fingerprint(&m, ti_fields, 3, -1, id)
				   : fingerprint(&m, ecs_fields, 4, m.nalts > 1 ? (long)i : -1, id);
		buf_reset(&out);
		write_doc(&m, &m.alts[i], &out);
		if (m.id && m.nalts > 1)
			snprintf(latest, sizeof(latest), "%.250s#%zu", m.id, i);
		else if (m.id)
			snprintf(latest, sizeof(latest), "%.250s", m.id);
		struct ecs_doc d = {
			.json = out.data, .len = out.len, .doc_id = has_id ? id : NULL, .stix_id = m.id,
			.modified = m.modified, .expires_at = m.have_exp ? m.exp : 0,
			.expiry_reason = m.have_exp ? m.reason : NULL, .part = (unsigned)i,
			.nparts = (unsigned)m.nalts, .latest_id = m.id ? latest : NULL,
			.pipeline_error = m.nerrors > 0 && (!m.ti || m.stage < ST_DONE),
		};
		rc = cb(ctx, &d);
	}
	buf_cleanup(&out);
out:
	json_decref(m.refs);
	json_decref(root);
	arena_cleanup(&m.a);
	return rc;
}
