/*
 * sync.h — `cairn sync`: STIX 2.1 from a source, mapped to ECS (export/ecs.h), delivered
 * to an output, at least once.
 *
 * Sources: a TAXII 2.1 collection (net/taxii_client: every client line of TAXII.md), a
 * cairn server's REST API (its STIX export, from a high-water mark; sync.c "cairn's REST
 * API"), or STIX files — a bundle per file, or NDJSON of objects — or a folder of them.
 * Outputs: NDJSON to a file or stdout; Elasticsearch or OpenSearch (`_bulk`: a raw stream and
 * a "latest" index kept in step, sync_out_es.c); Splunk's HTTP Event Collector
 * (sync_out_splunk.c); Microsoft Sentinel's STIX upload API (STIX objects as they came, no ECS).
 *
 * Delivery: documents are written and made durable (flushed and fsync'ed) before the
 * source's cursor is saved, atomically (write, fsync, rename), in the state folder. A kill
 * at any moment therefore loses nothing: the next run starts from the last saved cursor
 * and writes again what followed it; document ids are deterministic, so a consumer that
 * indexes by id absorbs the repeats. Objects that cannot be mapped go to
 * dead-letter.ndjson in the state folder, with the reason.
 */
#ifndef CAIRN_SYNC_SYNC_H
#define CAIRN_SYNC_SYNC_H

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "export/ecs.h"
#include "net/http_client.h"

/* The Elasticsearch / OpenSearch output (docs/sync.md). */
struct sync_es_opts {
	const char *index;		/* raw documents: a data stream or an index; NULL = default */
	const char *latest_index;	/* one document per indicator; NULL = default, "" = none */
	struct hc_conf http;		/* authentication and TLS towards the cluster */
	int batch_docs;			/* documents per _bulk request; 0 = 500 */
	size_t batch_bytes;		/* bytes per _bulk request (about); 0 = 5 MiB */
};

/* The Splunk HEC output (DST splunk+http(s)://HOST:PORT; docs/sync.md). */
struct sync_splunk {
	const char *token;		/* the HEC token (from the environment, never argv) */
	const char *index, *sourcetype, *source, *host;	/* NULL = the token's defaults */
	bool ack;			/* indexer acknowledgement: a channel, and poll the acks */
	int batch_events;		/* events per POST; 0 = 500 */
	int64_t ack_timeout_s;		/* how long to wait for the acks of a flush; 0 = 300 */
	struct hc_conf http;		/* TLS (a CA bundle) for the HEC endpoint */
};

struct sync_opts {
	const char *from;		/* a TAXII collection URL (…/collections/ID/), a cairn base URL,
					 * or a file or folder */
	const char *to;			/* a file path, or "-" for stdout */
	struct ecs_opts ecs;
	const char *state_dir;		/* cursor and dead letters; NULL = no state (full read) */
	struct hc_conf http;		/* TAXII: authentication, TLS */
	int64_t page_limit;		/* TAXII objects per page; 0 = 1000 */
	int max_pages;			/* TAXII pages per run; 0 = 10,000 */
	bool dry_run;			/* print the documents to stdout; save nothing */
	const bool *stop;		/* when it turns true (read atomically), the run ends before
					 * its next page or file, and transfers in flight end, without
					 * moving the cursor; NULL = never */
	struct {
		const char *tenant, *client_id, *client_secret;	/* the Entra ID application */
		const char *source_system;	/* "sourcesystem" of every upload; default cairn */
		const char *login_url, *api_url;	/* defaults: Azure's public cloud */
	} sentinel;
	struct sync_es_opts es;		/* --to elasticsearch+http(s)://… */
	struct sync_splunk splunk;	/* when `to` is splunk+http(s)://… */
};

struct sync_stats {
	int64_t fetched;		/* STIX objects read from the source */
	int64_t written;		/* ECS documents delivered */
	int64_t expired;		/* of those, already expired when written */
	int64_t failed;			/* objects that could not be mapped or delivered (dead letters) */
	int64_t skipped;		/* objects the output does not take (their type) */
	int64_t pages;
	char cursor[64];		/* the source's cursor after the run */
};

int sync_run_once(const struct sync_opts *o, struct sync_stats *st, struct err *e) CAIRN_MUST_USE;

#endif
