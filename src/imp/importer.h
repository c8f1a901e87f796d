/*
 * importer.h — `cairn import`: plain lists, CSV with a header, and JSON
 * (arrays, NDJSON or REST answers of the record shape) into the store.
 *
 * Streaming: memory stays bounded whatever the input size (one batch of
 * IMPORT_BATCH records at a time, each batch one transaction, so a kill
 * mid-import leaves every committed batch and nothing half-written).
 * A bad value is counted as rejected with its line number and reason, and
 * the import goes on. Only an unreadable input or a storage failure stops it.
 */
#ifndef CAIRN_IMP_IMPORTER_H
#define CAIRN_IMP_IMPORTER_H

#include <stdbool.h>
#include <stdio.h>

#include "imp/record_in.h"
#include "store/store.h"

struct allow_set;

#define IMPORT_BATCH 50000
#define IMPORT_REJECTS_KEPT 100

enum import_format { IMPORT_AUTO, IMPORT_TXT, IMPORT_CSV, IMPORT_JSON, IMPORT_STIX, IMPORT_MISP };

/* CSV fields that --map can point at a column. */
enum import_field {
	F_VALUE, F_TYPE, F_CONFIDENCE, F_FIRST_SEEN, F_LAST_SEEN, F_VALID_UNTIL, F_TAGS, F_CONTEXT,
	F_REFERENCE, F_TLP, F_TECHNIQUES, F_INDUSTRIES, F_FIELD_COUNT
};

struct import_opts {
	enum import_format format;
	struct imp_defaults defaults;	/* feed, category, type, score, tags, tlp */
	bool feed_given;		/* --feed was given: it names the source even of STIX objects
					 * whose creator identity is known */
	const char *map[F_FIELD_COUNT];	/* CSV column names chosen by --map, else NULL */
	char delimiter;			/* 0 = detect */
	bool progress;			/* draw progress on stderr */
	/* STIX only. keep_spec_version: store STIX 2.0 objects as they came (a TAXII add),
	 * rather than upgraded to 2.1; either way they are validated and projected as 2.1.
	 * on_object, when set, hears of each object: why is NULL when it was stored (or was
	 * already held), else the reason it was refused. id and version may be NULL. */
	bool keep_spec_version;
	void (*on_object)(void *ctx, const char *id, const char *version, const char *why);
	void *object_ctx;
	/* The allow-lists' matcher (borrowed), or NULL: the import builds its own from the
	 * store. Values on a list are not stored (counted as suppressed); a stale matcher is
	 * rebuilt when the store's lists change during the import. */
	struct allow_set *allow;
};

struct import_reject {
	size_t line;
	char reason[160];
};

/* A value an allow-list kept out, with the list and entry (the first few of an import). */
#define IMPORT_SUPPRESSIONS_KEPT 5
struct import_suppression {
	char value[128];
	char list[64];
	char entry[128];
};

struct import_result {
	int64_t read, added, updated, rejected, skipped;
	/* STIX: objects read, versions stored, versions already held, patterns kept as objects only */
	int64_t objects, objects_added, objects_unchanged, composite;
	/* MISP: events read; attributes (those inside MISP objects among them) and objects;
	 * attributes skipped for a type cairn keeps no indicator of, or deleted; ATT&CK
	 * technique records made from the events' galaxy clusters */
	int64_t events, attributes, object_attributes, misp_objects, unsupported, deleted, galaxies;
	struct import_reject rejects[IMPORT_REJECTS_KEPT];
	size_t nrejects;
	/* Values on an allow-list: read, not stored (allow/allow.h) */
	int64_t suppressed;
	struct import_suppression suppressions[IMPORT_SUPPRESSIONS_KEPT];
	size_t nsuppressions;
	enum import_format format;	/* what was used, after detection */
};

/* Returns 0 when the input could be read to its end (rejected values or not). */
int import_run(struct store *s, const char *path, const struct import_opts *o, struct import_result *r,
	       struct err *e) CAIRN_MUST_USE;

/* The same over an input already open (tests, fuzzing): format f must not be AUTO.
 * The input is closed. */
struct input;
int import_input(struct store *s, struct input *in, enum import_format f, bool ndjson,
		 const struct import_opts *o, struct import_result *r, struct err *e) CAIRN_MUST_USE;

int import_field_from_name(const char *s);	/* -1 when unknown */
const char *import_field_name(int f);		/* the name --map takes */
const char *import_format_name(enum import_format f);

#endif
