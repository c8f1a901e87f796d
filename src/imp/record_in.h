/*
 * record_in.h — turning outside text into a struct ioc_input: one value,
 * confidence, tags, techniques, industries, times, TLP, and whole JSON
 * objects of the REST record shape. Shared by `cairn import` and the API's
 * POST /api/v1/iocs, so both accept and reject the same things.
 *
 * Strings placed in the input are copied into the caller's arena, so the
 * input stays valid until the arena is reset. Every function returns 0 or
 * ERR_INVALID with a one-line reason naming the field.
 */
#ifndef CAIRN_IMP_RECORD_IN_H
#define CAIRN_IMP_RECORD_IN_H

#include <jansson.h>

#include "base/arena.h"
#include "ioc/record.h"

struct imp_defaults {
	enum ioc_type type;		/* forced type, IOC_NONE = detect */
	int score;			/* -1 = none */
	char reliability;		/* the feed's Admiralty grade, 0 = C */
	const char *feed, *category, *reference_url, *origin, *tlp;
	const char *tags[16];
	size_t ntags;
	const char *industries[8];	/* canonical slugs */
	size_t nindustries;
	int lifetime_days;		/* > 0: in place of the type's lifetime */
};

/* Starts an input from the defaults (no value yet). */
void imp_input_init(struct ioc_input *in, const struct imp_defaults *d);
/* Canonicalises v (refanging it) as the input's value; type forced by t or in->type. */
int imp_set_value(struct ioc_input *in, const char *v, size_t len, enum ioc_type t, struct arena *ar,
		  struct err *e) CAIRN_MUST_USE;
/* 0–100, or high/medium/low/none. */
int imp_set_confidence(struct ioc_input *in, const char *s, struct err *e) CAIRN_MUST_USE;
/* Splits a list on , ; | or white space and adds each (trimmed, ≤ IOC_TAG_MAX). */
void imp_add_tags(struct ioc_input *in, const char *list, size_t len, struct arena *ar);
int imp_add_technique(struct ioc_input *in, const char *s, size_t len, struct arena *ar,
		      struct err *e) CAIRN_MUST_USE;
int imp_add_industry(struct ioc_input *in, const char *s, size_t len, struct arena *ar,
		     struct err *e) CAIRN_MUST_USE;
/* RFC 3339, a bare date, or Unix seconds. */
int imp_parse_time(const char *s, size_t len, int64_t *out, struct err *e) CAIRN_MUST_USE;
int imp_set_tlp(struct ioc_input *in, const char *s, struct err *e) CAIRN_MUST_USE;
/* A JSON object of the REST record shape (value required; type, confidence or
 * score, tags, mitre_techniques, industries, context, tlp, first_seen,
 * last_seen, valid_until, source{feed_name, category, reference_url}). */
int imp_input_from_json(json_t *o, const struct imp_defaults *d, struct arena *ar,
			struct ioc_input *out, struct err *e) CAIRN_MUST_USE;

#endif
