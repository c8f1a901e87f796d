/*
 * record.h — the indicator record of DESIGN.md section 2, as the store hands
 * it out (struct ioc_record) and as importers hand it in (struct ioc_input).
 *
 * Both are views: every pointer is borrowed. A record read from the store is
 * valid only inside the callback that receives it; an input's strings must
 * live until the store call that takes it returns. The list-valued fields of
 * a record (tags, techniques, industries, sources) are JSON array text, kept
 * that way in storage so that serving them is copying.
 */
#ifndef CAIRN_IOC_RECORD_H
#define CAIRN_IOC_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ioc/ioc.h"

/* Caps on what one indicator may carry; importers truncate beyond these. */
#define IOC_MAX_TAGS 64
#define IOC_MAX_TECHNIQUES 64
#define IOC_MAX_INDUSTRIES 16
#define IOC_MAX_SOURCES 64
#define IOC_TAG_MAX 64
#define IOC_CONTEXT_MAX 1024
#define IOC_FEED_MAX 128
#define IOC_URL_FIELD_MAX 1024

struct ioc_record {
	int64_t rid;
	char id[UUID_STR_LEN + 1];
	enum ioc_type type;
	const char *value;
	int score;		/* the score now: base_score decayed to the time of the read */
	int base_score;		/* the score at last_seen (docs/scoring.md) */
	int64_t decay_end;	/* µs at which the score reaches 0; 0 = it does not decay */
	double decay_speed;
	int64_t high_until, medium_until, low_until;	/* the score's band crossings (ioc/score.h) */
	int64_t first_seen, last_seen, valid_until;	/* µs; valid_until 0 = never */
	int64_t created_at, updated_at;
	bool revoked;
	const char *feed, *category, *reference_url, *origin;	/* the first reporter */
	const char *context, *tlp;
	const char *tags, *techniques, *industries, *sources;	/* JSON arrays */
	int64_t nsources, occurrences, sightings;
	int64_t modified;	/* the current STIX version's `modified` (µs, whole ms) */
	int64_t suppressed;	/* the id of the allow-list that hides it, 0 = none (allow/allow_db.h) */
};

struct ioc_input {
	enum ioc_type type;
	const char *value;		/* canonical (ioc_canon) */
	int score;			/* 0–100, or -1: the feed gave none */
	char reliability;		/* the feed's Admiralty grade 'A'..'F'; 0 = 'C' */
	int64_t first_seen, last_seen;	/* 0 = now */
	int64_t valid_until;		/* 0 = last_seen + the lifetime */
	int lifetime_days;		/* > 0: the source's lifetime in place of the type's */
	const char *feed, *category, *reference_url, *origin;
	const char *context;		/* NULL = none */
	const char *tlp;		/* NULL = keep / "clear" */
	bool revoked;			/* the source revoked it; a record once revoked stays so */
	const char *tags[IOC_MAX_TAGS];
	size_t ntags;
	const char *techniques[IOC_MAX_TECHNIQUES];
	size_t ntechniques;
	const char *industries[IOC_MAX_INDUSTRIES];
	size_t nindustries;
};

/* "high" (70–100), "medium" (30–69), "low" (1–29), "none" (0): the STIX 2.1 scale. */
const char *ioc_confidence_band(int score);
/* A level word to a representative score: high 85, medium 50, low 15, none 0; -1 if unknown. */
int ioc_score_from_band(const char *s);
/* The canonical TLP name of s (clear, green, amber, amber+strict, red; "white" and a
 * "TLP:" prefix accepted), or NULL when s is not a TLP level. */
const char *ioc_tlp_canon(const char *s);

/* The CISA sector slug for a slug or a common alias ("finance" → "financial-services");
 * an unknown slug is returned as it is. */
const char *ioc_industry_canon(const char *slug);

#endif
