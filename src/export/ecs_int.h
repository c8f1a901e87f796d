/*
 * ecs_int.h — what the files of the STIX → ECS mapping share. Not for use
 * outside src/export/.
 *
 * The mapping reads a STIX object into a `struct ecs_vals` per output
 * document (the values extracted from the pattern, field by field), then
 * export_ecs.c writes the document. ecs_ti.c extracts the way Elastic's
 * ti_custom pipeline does (prefix typing, a text split at AND/OR, one
 * grok-like reader per type); ecs_std.c extracts from the parsed pattern.
 * Everything a mapping allocates lives in one arena, freed per object.
 */
#ifndef CAIRN_EXPORT_ECS_INT_H
#define CAIRN_EXPORT_ECS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/timeutil.h"
#include "export/ecs.h"

/* Output fields filled from patterns. Integer fields hold decimal text. */
enum ecs_field {
	EF_AS_NUMBER, EF_AS_ORG,
	EF_EMAIL,
	EF_MD5, EF_SHA1, EF_SHA256, EF_SHA384, EF_SHA512, EF_SSDEEP, EF_TLSH,
	EF_FILE_DIR, EF_FILE_NAME, EF_FILE_SIZE,
	EF_IP, EF_PORT,
	EF_REG_DATA, EF_REG_DATA_TYPE, EF_REG_HIVE, EF_REG_KEY, EF_REG_PATH, EF_REG_VALUE,
	EF_URL_DOMAIN, EF_URL_ORIGINAL,
	/* x509: the issuer's and the subject's RDN fields are ISS + rdn, SUB + rdn */
	EF_X_ISS, EF_X_ISS_LAST = EF_X_ISS + 6,
	EF_X_NOT_AFTER, EF_X_NOT_BEFORE, EF_X_PKALG, EF_X_SERIAL, EF_X_SIGALG,
	EF_X_SUB, EF_X_SUB_LAST = EF_X_SUB + 6,
	EF_X_VERSION,
	EF_REL_HASH, EF_REL_HOSTS, EF_REL_IP,
	EF_NETWORKS,		/* profile ecs: CIDR networks (no ECS field holds one) */
	EF_COUNT
};

/* The RDN parts of an x509 name, in output (alphabetical) order; ISS + RDN_DN is the whole name. */
enum { RDN_CN, RDN_C, RDN_DN, RDN_L, RDN_O, RDN_OU, RDN_ST };

struct ecs_str {
	const char *s;
	size_t len;
};

struct ecs_list {
	struct ecs_str *v;
	size_t n, cap;
};

#define ECS_MAX_TYPES 16

struct ecs_vals {
	struct ecs_list f[EF_COUNT];
	const char *types[ECS_MAX_TYPES];	/* threat.indicator.type, distinct, in order */
	size_t ntypes;
	const char *error;		/* ti_custom: the extraction failed (ASN range, x509 date) */
};

/* Appends s[0..n) to field f (copied into a). dedup: skip a value already there. */
void ecs_vals_add(struct arena *a, struct ecs_vals *v, enum ecs_field f, const char *s, size_t n, bool dedup);
void ecs_vals_type(struct ecs_vals *v, const char *type);
bool ecs_vals_empty(const struct ecs_vals *v);

/* ti_custom (MAPPING.md §8–10): the type from the pattern's prefix (NULL: none) and the values
 * of every piece of the AND/OR split. */
const char *ecs_ti_type(const char *pattern, size_t len);
void ecs_ti_extract(struct arena *a, const char *pattern, size_t len, const char *type, struct ecs_vals *v);

/* Profile ecs: the pattern's alternatives, each a struct ecs_vals. Returns how many (at least
 * one, at most max_parts: beyond, one set with every value), with *out in a; *error gets a
 * message when the pattern does not parse (one empty set). */
size_t ecs_std_extract(struct arena *a, const char *pattern, size_t len, size_t max_parts,
		       struct ecs_vals **out, const char **error);

/* Dates (ecs_time.c). Output buffers: at least 32 bytes. */
bool ecs_time_iso8601(const char *s, size_t n, int64_t *us);
bool ecs_time_x509(const char *s, size_t n, int64_t *us);
size_t ecs_time_format(char *out, int64_t us);		/* 2024-11-09T23:59:59.000Z */
size_t ecs_time_format_sec(char *out, int64_t us);	/* 2024-11-09T23:59:59Z */

/* Shared readers. */
bool ecs_ipv4(const char *s, size_t n);		/* grok's IPV4: four 1–3 digit parts ≤ 255 */
bool ecs_ipv6(const char *s, size_t n);
/* Splits a distinguished name into v's fields from base (EF_X_ISS or EF_X_SUB): ti_custom's kv
 * reading (unescaped commas, keys trimmed, values as they are) or, strict, RFC 4514's (keys any
 * case, values trimmed and unescaped). */
void ecs_rdn_split(struct arena *a, struct ecs_vals *v, int base, const char *dn, size_t n, bool strict);

/* ---- the document writer (ecs_json.c) ---- */

#define OW_MAX (ECS_MAX_DEPTH + 8)

struct ow {
	struct buf *b;
	bool collapse;		/* ti_custom: each "\\\\" of a string value becomes "\\" */
	bool prune;		/* leave out null, "" and containers that end up empty */
	int depth, open;	/* levels begun / levels actually written */
	const char *pend[OW_MAX];
	bool first[OW_MAX];
};

/* A list field's values: text, integers, or Java Integers (32 bits; past one that does not
 * convert, the rest stay text, as Elastic's foreach leaves them). */
enum list_kind { L_STR, L_INT, L_INT32 };

void ow_str(struct ow *w, const char *s, size_t n);	/* a string value (halved if w->collapse) */
void ow_key(struct ow *w, const char *k);		/* writes pending objects, then "k": */
void ow_begin(struct ow *w, const char *k);		/* an object, written only if a member is */
void ow_end(struct ow *w);
void ow_kstr(struct ow *w, const char *k, const char *s, size_t n);
void ow_kcstr(struct ow *w, const char *k, const char *s);	/* NULL: nothing */
void ow_json(struct ow *w, json_t *v);
bool ow_pruned(const struct ow *w, json_t *v);
void ow_kjson(struct ow *w, const char *k, json_t *v);		/* NULL or pruned: nothing */
void ow_klist(struct ow *w, const char *k, const struct ecs_list *l, enum list_kind kind);
void ow_kscalar(struct ow *w, const char *k, const struct ecs_list *l);	/* the last value */
bool ecs_int_text(const char *s, size_t n, bool int32, long long *out);

/* Elasticsearch's fingerprint processor: each value after a zero byte (ecs_json.c). */
void ecs_fp_bytes(struct buf *b, const void *p, size_t n);
void ecs_fp_value(struct buf *b, json_t *v);
void ecs_base64(const unsigned char *p, size_t n, char *out);	/* out: 4 * ceil(n / 3) + 1 */

#endif
