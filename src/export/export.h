/*
 * export.h — indicator exports that the REST API serves and `cairn export` writes, from
 * the same code, so that both give the same bytes for the same filters.
 *
 * Exports stream: records are read a page at a time and handed to a sink, so memory
 * stays constant whatever the number of records. Output is deterministic: no time of
 * export appears in it, and ids are derived from the content, so exporting the same
 * data twice gives the same bytes.
 */
#ifndef CAIRN_EXPORT_EXPORT_H
#define CAIRN_EXPORT_EXPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "store/store.h"

/* Where exported bytes go. write returns 0, or non-zero to stop (then returned as ERR_IO). */
struct export_sink {
	int (*write)(void *ctx, const char *p, size_t n);
	void *ctx;
};

struct stix_export_opts {
	bool objects_only;	/* a bare JSON array instead of a bundle (SOC Defenders' format=objects) */
	bool identity;		/* include cairn's identity object, referenced by every object */
	bool markings;		/* include the TLP 2.0 marking definitions the objects reference */
	const char *tlp;	/* override every object's TLP (canonical name), or NULL */
	bool custom;		/* also ATT&CK tactics, as MITRE's custom x-mitre-tactic objects;
				 * off by default, so that strict STIX consumers accept every bundle */
};

/*
 * A STIX 2.1 bundle of the records f selects (f->limit records at most; 0 = all), newest
 * first: indicators with STIX patterns, vulnerabilities for CVEs, attack-patterns for
 * ATT&CK techniques, as the object store keeps them. The bundle id is a UUIDv5 of the
 * exported object versions, written last (key order does not matter in JSON).
 * *count gets the number of records exported; *skipped those left out (tactics without
 * o->custom).
 */
int export_stix(struct store *s, const struct ioc_filter *f, const struct stix_export_opts *o,
		const struct export_sink *sink, int64_t *count, int64_t *skipped, struct err *e) CAIRN_MUST_USE;

/*
 * ECS NDJSON (docs/ecs.md) of the records f selects, newest first, like export_stix: each
 * record's STIX object mapped through ecs_map_object() with o (profile, expiry, feed, TLP),
 * one document a line. tlp_override, when set, replaces every record's TLP before the object
 * is made (as export_stix's tlp does). Records with no indicator (CVEs, ATT&CK) map to
 * nothing: *count gets the records exported, *skipped those left out, *docs the lines.
 */
struct ecs_opts;
int export_ecs(struct store *s, const struct ioc_filter *f, const struct ecs_opts *o, const char *tlp_override,
	       const struct export_sink *sink, int64_t *count, int64_t *skipped, int64_t *docs,
	       struct err *e) CAIRN_MUST_USE;

#endif
