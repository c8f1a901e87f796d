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
/* export_stix, and *next_rid: when f->limit records were exported (more may match), the
 * cursor (ioc_filter.before_rid) of the next page; else 0. The next page may be empty. */
int export_stix_page(struct store *s, const struct ioc_filter *f, const struct stix_export_opts *o,
		     const struct export_sink *sink, int64_t *count, int64_t *skipped, int64_t *next_rid,
		     struct err *e) CAIRN_MUST_USE;

/* ---- Sigma rules (export_sigma.c; docs/sigma.md) ---- */

/*
 * Rule ids are UUIDv5 of this namespace and "<type>:<canonical value>" (prefixed with
 * "<profile>:" when a profile maps the type to another log source than the default), so a
 * rule has the same id in every export and on every server. The namespace is
 * uuid5(NAMESPACE_URL, "urn:cairn:sigma"). Never change it: ids are public.
 */
#define SIGMA_ID_NAMESPACE "53b10137-7311-5fa0-a504-1496a347997b"

/* Families of log sources. */
enum sigma_profile {
	SIGMA_PROFILE_SYSMON = 0,	/* Windows/Sysmon: network_connection, dns_query, … (default) */
	SIGMA_PROFILE_NETWORK,		/* network devices: firewall, dns, proxy */
	SIGMA_PROFILE_COUNT
};

/* "sysmon" or "network" to a profile, -1 when unknown; and back. */
int sigma_profile_from_name(const char *s);
const char *sigma_profile_name(enum sigma_profile p);

struct sigma_export_opts {
	enum sigma_profile profile;
	bool group_by_type;	/* one rule per indicator type, its values as a list */
	bool tlp_tags;		/* a tlp.<level> tag for every TLP level; by default only tlp.clear
				 * is a tag (the one SigmaHQ's validators accept), other levels are
				 * named in the description */
	const char *base_url;	/* this server's public URL, for each rule's reference to its
				 * indicator ("http://host:port", no trailing slash) */
};

struct sigma_export_stats {
	int64_t rules;		/* documents written */
	int64_t records;	/* indicators those rules detect */
	int64_t skipped;	/* indicators left out: ATT&CK tactics, SHA-512 (no log source
				 * records it), IPv6 ranges, values a rule cannot carry */
};

/*
 * Sigma rules for the records f selects (f->limit at most; 0 = all), newest first, as
 * multi-document YAML: one rule per indicator, or with o->group_by_type one per type. An
 * empty selection writes nothing. Deterministic: the same store and options give the same
 * bytes. Returns 0, ERR_IO when the sink refused, or a store error.
 */
int export_sigma(struct store *s, const struct ioc_filter *f, const struct sigma_export_opts *o,
		 const struct export_sink *sink, struct sigma_export_stats *st, struct err *e) CAIRN_MUST_USE;

struct misp_export_opts {
	const char *tlp;	/* override every attribute's TLP (canonical name), or NULL */
	bool ip_src;		/* IPs as ip-src (SOC Defenders' map) instead of ip-dst */
};

/*
 * One MISP event ({"Event":{…}}, for MISP's /events/add) of the records f selects
 * (f->limit at most; 0 = all), newest first: an Attribute per record of an observable type
 * (ip-dst, domain, url, md5/sha1/sha256/sha512, email-src, vulnerability), ATT&CK records
 * as the event's galaxy tags, TLP as tlp:* tags. The event uuid is a UUIDv5 of the
 * selection (f without its time window and paging, and o); attribute uuids derive from it
 * and the record ids. docs/misp.md has the layout. *count gets the records exported.
 */
int export_misp(struct store *s, const struct ioc_filter *f, const struct misp_export_opts *o,
		const struct export_sink *sink, int64_t *count, struct err *e) CAIRN_MUST_USE;

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

/* ---- Splunk ES threat-intelligence CSV (export_splunk.c; docs/exports.md) ---- */

/* Which of ES's threat collections a file feeds: ip_intel (ip, and domain), file_intel,
 * http_intel, email_intel. */
enum splunk_kind { SPLUNK_KIND_IP, SPLUNK_KIND_DOMAIN, SPLUNK_KIND_FILE, SPLUNK_KIND_URL, SPLUNK_KIND_EMAIL,
		   SPLUNK_KIND_COUNT };
/* "ip", "domain", "file", "url", "email" → kind; -1 when unknown. */
int splunk_kind_from_name(const char *s);
/* The indicator types of a kind, as a mask of 1u << enum ioc_type. */
unsigned splunk_kind_types(enum splunk_kind k);

/*
 * One CSV (RFC 4180, CRLF) of the records f selects that are of the kind (f->types, when set,
 * narrows it further), newest first, f->limit at most (0 = all): a header, then one row per
 * record — description, the value (in the column ES reads: ip, domain, file_hash, url,
 * src_user), weight, then cairn's threat_key, confidence, first_seen, last_seen, tlp,
 * cairn_id. *count gets the rows written; *next_rid (when next_rid is not NULL), the cursor
 * rid of the next page when f->limit stopped the walk and more records follow, else 0.
 */
int export_splunk(struct store *s, const struct ioc_filter *f, enum splunk_kind kind, const struct export_sink *sink,
		  int64_t *count, int64_t *next_rid, struct err *e) CAIRN_MUST_USE;

#endif
