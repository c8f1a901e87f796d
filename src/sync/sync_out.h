/*
 * sync_out.h — where `cairn sync` delivers documents (not for use outside src/sync/).
 *
 * An output takes documents one by one (doc), then delivers what it took (flush). flush
 * returns 0 only when the destination acknowledged every document taken since the last
 * flush, or when the output gave up on some of them through sync_dead_letter() (they are
 * counted as failed, never dropped silently); only then does the source's cursor move. So
 * an output may batch in doc and send in flush, or send as it goes and confirm in flush.
 */
#ifndef CAIRN_SYNC_SYNC_OUT_H
#define CAIRN_SYNC_SYNC_OUT_H

#include "sync/sync.h"

struct sync_run;

struct sync_output {
	int (*doc)(struct sync_output *out, const struct ecs_doc *d, struct err *e);
	/* An output that takes STIX itself (Sentinel) sets this instead of doc: each source
	 * object's exact text, no ECS mapping. Returns 1 when it left the object out (a type
	 * the destination does not take), 0 when taken. */
	int (*object)(struct sync_output *out, const char *json, size_t len, struct err *e);
	int (*flush)(struct sync_output *out, struct err *e);
	void (*close)(struct sync_output *out);
	struct sync_run *run;		/* set by sync.c before the first doc */
};

/* Records a document the destination refused for good, with the reason (dead-letter file,
 * failed count). */
int sync_dead_letter(struct sync_run *run, const char *text, size_t len, const char *why, struct err *e);

/* NDJSON to a file (appended) or stdout ("-", and every --dry-run). */
int sync_output_file(const struct sync_opts *o, struct sync_output **out, struct err *e);
/* Microsoft Sentinel's STIX objects upload API ("sentinel://WORKSPACE_ID"). */
int sync_output_sentinel(const struct sync_opts *o, struct sync_output **out, struct err *e);

/* `_bulk` to Elasticsearch or OpenSearch: --to elasticsearch+http(s)://HOST:PORT (or
 * opensearch+…), the raw stream and the latest index (sync_out_es.c). */
bool sync_output_is_es(const char *to);
int sync_output_es(const struct sync_opts *o, struct sync_output **out, struct err *e);

/* Splunk's HTTP Event Collector, o->to = splunk+http(s)://HOST:PORT (sync_out_splunk.c); with
 * --dry-run the HEC events it would send, on stdout. */
int sync_output_splunk(const struct sync_opts *o, struct sync_output **out, struct err *e);

#endif
