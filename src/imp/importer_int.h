/*
 * importer_int.h — what the importer's files share (importer.c and the STIX reader,
 * stix_in.c). Not for use outside src/imp/.
 */
#ifndef CAIRN_IMP_IMPORTER_INT_H
#define CAIRN_IMP_IMPORTER_INT_H

#include "base/arena.h"
#include "imp/importer.h"
#include "imp/input.h"

struct run {
	bool ndjson;	/* one JSON record a line (.ndjson, .jsonl) */
	struct store *s;
	const struct import_opts *o;
	struct import_result *r;
	struct arena ar;
	struct ioc_input *batch;
	size_t n;
	struct input *in;
	uint64_t flushes;	/* batches committed: the arena was reset that many times */
	int64_t last_progress;
	bool dirty_progress;
	/* allow-lists: the matcher in use (owned when own_allow), values kept out by list */
	struct allow_set *allow;
	bool own_allow;
	int64_t kept;			/* values taken into a batch (not suppressed) */
	struct allow_tally *tally;
	size_t ntally;
};

/* Counts a rejected value with its line (or object index) and reason. */
void reject(struct run *run, size_t line, const char *why);
/* The next batch slot, initialised from the defaults. */
struct ioc_input *slot(struct run *run);
/* Takes the filled slot into the batch, committing the batch when full. */
int accept_input(struct run *run, struct err *e);
/* The STIX reader: bundles, objects, arrays of objects or NDJSON. */
int import_stix_run(struct run *run, struct err *e);
/* The MISP reader (misp_in.c): events, lists of events, search answers, feed files. */
int import_misp_run(struct run *run, struct err *e);

#endif
