/*
 * config.h — cairn's configuration: defaults, and the YAML file that
 * overrides them (`--config FILE`, documented in docs/configuration.md).
 *
 * Every key is optional. An unknown key, a value of the wrong type or out of
 * range stops loading with "FILE:LINE: key: reason" in e. The struct is plain
 * data, filled by config_defaults() and then config_load(); it owns no memory.
 */
#ifndef CAIRN_CONFIG_CONFIG_H
#define CAIRN_CONFIG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "ioc/ioc.h"

enum tier_id { TIER_FREE = 0, TIER_PRO, TIER_ADMIN, TIER_COUNT };

/* Scopes, as bits. */
enum scope {
	SCOPE_READ_IOCS = 1u << 0,
	SCOPE_READ_STIX = 1u << 1,
	SCOPE_READ_SIGMA = 1u << 2,
	SCOPE_READ_MISP = 1u << 3,
	SCOPE_READ_CEF = 1u << 4,
	SCOPE_READ_OPENIOC = 1u << 5,
	SCOPE_READ_TAXII = 1u << 6,
	SCOPE_WRITE_IOCS = 1u << 7,
	SCOPE_ADMIN = 1u << 8,
};
#define SCOPE_COUNT 9

struct tier_conf {
	int64_t per_minute;	/* requests in any rolling minute */
	int64_t per_day;	/* requests in any rolling day */
	int64_t max_results;	/* records per request; larger `limit` is clamped */
	int64_t lookback_days;	/* `since` is clamped to now - lookback */
	bool pro_endpoints;	/* stats, exports, TAXII */
	bool all_formats;	/* csv and txt on the list; else json only */
	unsigned scopes;	/* what a new key of this tier gets by default */
};

#define CONFIG_STR_MAX 256
#define CONFIG_FEEDS_MAX 64
#define CONFIG_COLLECTIONS_MAX 32

/* A TAXII collection: a view of the object store. */
struct collection_conf {
	char id[40];			/* a UUIDv4 (Sentinel refuses other ids) */
	char alias[64];			/* the short name; URLs take either */
	char title[128];
	char description[CONFIG_STR_MAX];
	bool everything;		/* every object (no `types`): the `all` collection */
	unsigned types;			/* else: the records of these indicator types */
	int read_tier, write_tier;	/* the lowest tiers that read and write it */
};

/* A feed defined in the configuration (`feeds:`), as `cairn feeds add` would define it. */
struct feed_conf {
	char name[64];
	char url[1024];
	char format[8];
	int64_t interval_s;		/* 0 = the default */
	char type[24];
	int confidence;			/* -1 = none */
	char reliability;		/* 0 = C */
	char tags[8][64];
	int ntags;
	char tlp[16];
	char category[64];
	char industries[4][64];
	int nindustries;
	int lifetime_days;
	bool snapshot;
	char collection[128];
	char auth[8];
	char user[128];
	char secret_env[64];
	int64_t max_bytes;		/* 0 = the default */
	char map[12][96];		/* CSV: "FIELD=COLUMN", as --map takes them */
	int nmap;
	unsigned long line;		/* where it is defined, for errors */
};

struct taxii_conf {
	char title[128];
	char description[CONFIG_STR_MAX];
	int64_t max_content_length;	/* bytes of a POST body */
	int64_t default_page;		/* objects per page when no limit is given */
	int64_t max_page;		/* limit is clamped to this (and the tier's max_results) */
	int64_t next_ttl_s;		/* how long a `next` token stays valid */
	int64_t status_ttl_s;		/* how long a status resource is kept */
	bool empty_objects;		/* "objects": [] on empty pages, for old consumers */
	bool include_custom;		/* also ATT&CK tactics, as x-mitre-tactic objects */
	struct collection_conf coll[CONFIG_COLLECTIONS_MAX];
	int ncoll;
};

struct config {
	char listen[CONFIG_STR_MAX];	/* HOST:PORT */
	int threads;			/* 0 = one per core */
	char base_url[CONFIG_STR_MAX];	/* public URL for links; "" = from the Host header */
	char access_log[CONFIG_STR_MAX];	/* path, "-" for stdout, "" for none */

	size_t max_header_bytes;
	size_t max_body_bytes;
	int max_connections;
	int request_timeout_s;		/* a request must arrive whole within this */
	int idle_timeout_s;		/* HTTP/2 connections idle longer are closed */
	int write_timeout_s;		/* a response unread by the client this long is cut */
	int64_t max_lookup_values;	/* values in one POST /api/v1/lookup */
	int64_t stats_refresh_s;

	struct tier_conf tier[TIER_COUNT];
	int64_t lifetime_days[IOC_TYPE_COUNT];	/* 0 = never expires */
	double decay_speed[IOC_TYPE_COUNT];	/* the score's decay (docs/scoring.md), 0.1-10 */
	int64_t grace_days[IOC_TYPE_COUNT];	/* a record every source of which ended expires
						 * this long after (docs/feeds.md) */
	int default_score;		/* score of an indicator a feed gives none for */
	struct taxii_conf taxii;
	int64_t feed_check_s;		/* `cairn serve` looks for feeds due this often; 0 = never */
	struct feed_conf feeds[CONFIG_FEEDS_MAX];	/* the `feeds:` section */
	int nfeeds;
	bool feeds_given;		/* the file has a `feeds:` section (even an empty one) */
};

void config_defaults(struct config *c);
/* Reads path over the values already in c. Files over 1 MiB are refused. */
int config_load(struct config *c, const char *path, struct err *e) CAIRN_MUST_USE;
/* The same from memory; name is used in error messages in place of the file name. */
int config_load_buffer(struct config *c, const char *name, const char *p, size_t len,
		       struct err *e) CAIRN_MUST_USE;

const char *tier_name(enum tier_id t);
int tier_from_name(const char *s);	/* -1 when unknown */
const char *scope_name(unsigned bit);	/* the single scope bit's name */
unsigned scope_from_name(const char *s);	/* 0 when unknown */
/* "read:iocs read:stix" style, space-separated, into out. */
void scopes_format(unsigned scopes, char *out, size_t cap);

#endif
