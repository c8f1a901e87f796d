/*
 * feeds.h — feeds cairn pulls on a schedule (`cairn feeds`, and `cairn serve` runs the
 * schedule). A feed is a URL, a format, an interval and the defaults its values get
 * (type, confidence, tags, TLP, category), with an Admiralty reliability grade (A–F).
 *
 * A pull is an HTTP GET (conditional: If-None-Match / If-Modified-Since from the last
 * answer; gzip transfer encoding and gzip files both read; the answer capped in size;
 * timeouts and retries with backoff from net/http_client), imported like `cairn import`
 * of that format; or, for a TAXII collection, a poll from the saved cursor
 * (net/taxii_client), page by page, the cursor saved after each imported page. A pull
 * that fails keeps every indicator the feed gave before, records the error, and is tried
 * again after a backoff (the interval, at most; 1, 2, 4 … minutes before that).
 */
#ifndef CAIRN_FEEDS_FEEDS_H
#define CAIRN_FEEDS_FEEDS_H

#include <stdbool.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "config/config.h"
#include "imp/importer.h"
#include "store/store.h"

#define FEED_NAME_MAX 64
#define FEED_URL_MAX 1024
#define FEED_TAGS_MAX 8

struct feed_def {
	char name[FEED_NAME_MAX];
	char url[FEED_URL_MAX];
	char format[8];			/* txt, csv, json, stix, taxii */
	int64_t interval_s;		/* between pulls; default 3600 */
	char type[24];			/* the type every value must have, or "" to detect */
	int confidence;			/* 0-100, or -1 for the configured default */
	char reliability;		/* Admiralty grade, 'A' (completely reliable) to 'F' */
	char tags[FEED_TAGS_MAX][64];
	int ntags;
	char tlp[16];			/* clear, green, amber, amber+strict, red; "" = clear */
	char category[64];
	char industries[4][64];		/* CISA sector slugs every value gets */
	int nindustries;
	int lifetime_days;		/* > 0: the feed's values expire this long after last seen,
					 * in place of their type's lifetime */
	bool snapshot;			/* each pull is the whole list (recorded; see docs/feeds.md) */
	char collection[128];		/* TAXII: collection id or alias when url is a discovery or
					 * API root URL */
	char auth[8];			/* "", basic, bearer, header */
	char user[128];			/* basic */
	char secret_env[64];		/* the environment variable holding the password or token */
	int64_t max_bytes;		/* answer size cap; default 512 MiB */
	bool from_config;		/* defined in the configuration's `feeds:` section */
	char map[F_FIELD_COUNT][64];	/* CSV: the column each field is read from (--map) */
};

/* Defaults, then validation: name, URL scheme, format, grade, TLP, type. */
void feed_def_init(struct feed_def *f);
int feed_def_check(struct feed_def *f, struct err *e) CAIRN_MUST_USE;
int feed_def_parse(const char *json, struct feed_def *f, struct err *e) CAIRN_MUST_USE;
void feed_def_json(const struct feed_def *f, struct buf *out);
/* "90", "15m", "1h", "2d" → seconds; -1 when invalid. */
int64_t feed_interval_parse(const char *s);

struct feed_result {
	long http_status;
	bool not_modified;
	int64_t read, added, updated, rejected, objects, pages;
	bool snapshot;			/* a snapshot feed's pull: `ended` is meaningful */
	int64_t ended;			/* source entries the pull ended (values it no longer lists) */
	char status[64];		/* "ok", "not modified", "failed" */
	char error[512];
};

/* Pulls feed `name` now, imports what it gives and saves its state. Returns 0 when the
 * pull was attempted (r->status tells how it went), an error when the feed is unknown or
 * the store failed. */
int feed_run(struct store *s, const struct config *cfg, const char *name, int64_t now,
	     struct feed_result *r, struct err *e) CAIRN_MUST_USE;

/*
 * Makes the stored feeds agree with the configuration's `feeds:` section (when the file has
 * one): each feed it defines is added or its definition replaced (its pull state kept), and
 * a feed that came from the configuration but is no longer in it is removed (its indicators
 * stay). Feeds added with `cairn feeds add` are left alone; a configured feed may not take the
 * name of one. *changed gets how many feeds were added, replaced or removed.
 */
int feeds_from_config(struct store *s, const struct config *cfg, int *changed, struct err *e) CAIRN_MUST_USE;

/* A flag that, once true, aborts pulls in flight (a stopping server sets it). */
void feeds_set_abort(const bool *flag);

/* Runs every feed whose next_run has come; *ran gets how many. */
int feeds_run_due(struct store *s, const struct config *cfg, int64_t now, int *ran, struct err *e);

#endif
