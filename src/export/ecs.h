/*
 * ecs.h — STIX → Elastic Common Schema: one STIX object in, the ECS documents
 * it stands for out. Shared by the pro export GET /api/v1/iocs/ecs,
 * `cairn export --format ecs` and `cairn sync`.
 *
 * Two profiles (docs/ecs.md has the field-by-field mapping):
 *   ECS_PROFILE_TI_CUSTOM  the documents Elastic's Custom Threat Intelligence
 *       integration (ti_custom 1.8.4) indexes, quirks and all, so its
 *       dashboards, indicator-match rules and "latest" transform keep working
 *       (../shared/conformance/elastic-ti-custom/MAPPING.md is the spec).
 *       One document per object, or a pipeline-error document where Elastic
 *       would index one.
 *   ECS_PROFILE_ECS  (the default) the same fields with the quirks fixed where
 *       ECS or STIX say otherwise: the pattern is parsed, every comparison is
 *       typed and extracted, and the pattern's OR alternatives (OR, IN, and
 *       OR between observations) become separate documents while AND-ed
 *       comparisons stay in one; domains go to threat.indicator.url.domain;
 *       event.original is the input, byte for byte; the document id covers
 *       `modified` so a new version lands next to the old one.
 *
 * Expiry (MAPPING.md §7), both profiles: valid_until, else `modified` when
 * revoked, else `modified` (or `valid_from`) + opts->expiration_us.
 *
 * Depends on base/, json/ (jansson reads, the writer escapes), stix/ (the
 * pattern parser). No global state: callable from several threads at once.
 *
 * Ownership. Every pointer in a struct ecs_doc is valid during the callback
 * only. The input is never kept.
 *
 * Limits. Input up to ECS_MAX_INPUT bytes, nested up to ECS_MAX_DEPTH; at most
 * ECS_MAX_PARTS documents per object, and no more than ECS_MAX_OUTPUT bytes of
 * repeated input over them (profile ecs: a pattern with more OR alternatives
 * than that is mapped to one document holding every value).
 */
#ifndef CAIRN_EXPORT_ECS_H
#define CAIRN_EXPORT_ECS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

#define ECS_MAX_INPUT (4 * 1024 * 1024)
#define ECS_MAX_DEPTH 64
#define ECS_MAX_PARTS 1024
#define ECS_MAX_OUTPUT (64 * 1024 * 1024)

/* The three reasons of MAPPING.md §7, exactly as Elastic writes them. */
#define ECS_REASON_VALID_UNTIL "Expiration set from valid_until field"
#define ECS_REASON_REVOKED "Expiration set from revoked field"
#define ECS_REASON_DURATION \
	"Expiration set by Elastic from the integration's parameter `IOC Expiration Duration`"

enum ecs_profile { ECS_PROFILE_ECS = 0, ECS_PROFILE_TI_CUSTOM };

struct ecs_opts {
	enum ecs_profile profile;
	int64_t expiration_us;	/* the configured ioc_expiration_duration (MAPPING.md §7); 0 = none.
				 * ti_custom without one: an indicator with neither valid_until nor
				 * revoked becomes a pipeline-error document, as in Elastic */
	const char *feed_name, *feed_reference;	/* threat.feed.name / .reference, or NULL */
	const char *tlp;	/* default TLP when the object has no marking, or NULL. A level name
				 * (clear, white, green, amber, amber+strict, red, any case, "TLP:"
				 * prefix allowed). Written to threat.indicator.marking.tlp in upper
				 * case. ti_custom: Elastic reads no marking, so only this value is
				 * written, and only when set; ecs: the object's TLP marking wins */
	int64_t now;		/* µs, or 0. When non-zero: event.ingested (both profiles), and
				 * @timestamp of an object without `created` (the agent's read time
				 * in Elastic). 0 leaves both out, so the output depends on the
				 * input alone (the exports pass 0) */
	/* --- additions to the contract --- */
	const char *expiration_text;	/* the duration as configured ("90d"), written to
					 * stix.ioc_expiration_duration; NULL: derived from
					 * expiration_us ("90d", "36h", "90m") */
	bool all_objects;	/* map every object, not only indicators: ti_custom's
				 * restrict_stix = false (the upstream test vectors use it). Default:
				 * ti_custom keeps `indicator`s of spec_version 2.1; ecs keeps
				 * `indicator`s of STIX 2.0 (no spec_version) and 2.1 */
	bool preserve_original_event;	/* ti_custom: the agent option; adds the tag first */
};

struct ecs_doc {
	const char *json; size_t len;	/* one ECS document, compact JSON, no newline */
	const char *doc_id;		/* deterministic document id: Elasticsearch's fingerprint
					 * processor (SHA-1, base64) over stix.created, stix.id,
					 * stix.pattern — profile ecs also stix.modified, and the part
					 * number when an object gives several documents. ti_custom:
					 * NULL when the object has none of the three (Elastic lets the
					 * index choose) */
	const char *stix_id;		/* the STIX object's id, or NULL when it has none */
	int64_t modified;		/* µs, 0 when absent or unreadable */
	int64_t expires_at;		/* µs when the indicator expires (MAPPING.md §7), 0 = never */
	const char *expiry_reason;	/* one of the three ECS_REASON_*, or NULL */
	/* --- additions to the contract --- */
	unsigned part, nparts;		/* this is document part (0-based) of nparts for the object */
	const char *latest_id;		/* the key of a "latest" index: the same for every version
					 * of the object, distinct per part ("<stix id>" or
					 * "<stix id>#<part>"); NULL when stix_id is */
	bool pipeline_error;		/* event.kind is pipeline_error (error.message says why) */
	bool revoked;			/* the object says revoked: true (whatever its expiry): cairn
					 * sync's latest index holds only indicators in force */
};

typedef int (*ecs_doc_cb)(void *ctx, const struct ecs_doc *d);

/* Parses STIX object text (as received: event.original must be byte-identical in profile ecs)
 * and calls cb for each document it maps to (0 for objects the profile drops, e.g. non-indicators
 * with restrict_stix semantics). Returns 0, cb's non-zero, or ERR_INVALID with e set for input
 * that is not a JSON object (ERR_TOO_LARGE beyond ECS_MAX_INPUT / ECS_MAX_DEPTH). */
int ecs_map_object(const char *json, size_t len, const struct ecs_opts *o, ecs_doc_cb cb, void *ctx,
		   struct err *e);

/* "90d", "12h", "30m", "1d12h"… → µs; -1 when invalid. MAPPING.md §7 accepts one number and
 * one unit (d, h or m, lower case); cairn also accepts a sum of such terms ("1d12h30m"), each
 * unit at most once, largest first. Zero, signs, spaces, other units and more than 100 years
 * are invalid (Elastic would fall back to 90 days; cairn refuses the setting instead). */
int64_t ecs_parse_duration(const char *s);

/* "ecs" / "ti_custom" → profile; -1 when unknown. */
int ecs_profile_from_name(const char *s);

#endif
