/*
 * http_client.h — cairn's outgoing HTTP: feed pulls, the TAXII client, `cairn sync`
 * outputs. A thin layer over libcurl's easy interface that adds what every caller needs:
 * authentication modes (Basic, Bearer, an API-key header), TLS with a CA bundle and a
 * client certificate, a cap on the response size, conditional requests, transparent
 * gzip, and retries with backoff on transport errors, 429 and 5xx that honour
 * Retry-After.
 *
 * One `struct http_client` per thread (libcurl easy handles are not shared); it keeps
 * connections alive between requests to the same host.
 */
#ifndef CAIRN_NET_HTTP_CLIENT_H
#define CAIRN_NET_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"

enum hc_auth { HC_AUTH_NONE = 0, HC_AUTH_BASIC, HC_AUTH_BEARER, HC_AUTH_HEADER };

struct hc_conf {
	enum hc_auth auth;
	const char *user, *password;	/* Basic */
	const char *token;		/* Bearer, or the value of the API-key header */
	const char *key_header;		/* HC_AUTH_HEADER: its name (default X-API-Key) */
	const char *ca_file;		/* PEM bundle that replaces the system's, or NULL */
	const char *client_cert, *client_key;	/* PEM, or NULL */
	long connect_timeout_s;		/* default 10 */
	long timeout_s;			/* whole request; default 120 */
	size_t max_body;		/* response bytes (after decompression); default 256 MiB */
	int retries;			/* further attempts after the first; 0 = 3, -1 = none */
	int64_t backoff_ms;		/* first wait, doubled each time; default 500 */
	int64_t max_wait_s;		/* cap of one wait, Retry-After included; default 60 */
	const bool *abort;		/* when it turns true, a transfer or wait in progress ends
					 * (read atomically); NULL = never */
};

#define HC_MAX_HEADERS 32

struct hc_request {
	const char *method;		/* default GET (POST when a body is given) */
	const char *url;
	const char *headers[HC_MAX_HEADERS];	/* "Name: value" */
	size_t nheaders;
	const char *body;
	size_t body_len;
	const char *if_none_match;	/* an ETag from an earlier answer, or NULL */
	const char *if_modified_since;	/* a Last-Modified from an earlier answer, or NULL */
	bool no_retry;			/* one attempt only */
};

struct hc_header {
	char name[64];			/* lower case */
	char value[512];
};

struct hc_response {
	long status;			/* 0 when no answer came */
	struct buf body;
	struct hc_header headers[HC_MAX_HEADERS];
	size_t nheaders;
	int attempts;
};

struct http_client;

struct http_client *http_client_new(const struct hc_conf *conf);
void http_client_free(struct http_client *hc);

/*
 * Sends rq and fills rs (reset first). Returns 0 when an answer came (any status: the
 * caller judges it), or ERR_IO when none did after the retries (e says why), or
 * ERR_TOO_LARGE when the body passed max_body. 429 and 5xx answers are retried; the last
 * one is returned.
 */
int http_client_do(struct http_client *hc, const struct hc_request *rq, struct hc_response *rs,
		   struct err *e) CAIRN_MUST_USE;
/* The first response header named name (lower case), or NULL. */
const char *hc_header(const struct hc_response *rs, const char *name);
void hc_response_cleanup(struct hc_response *rs);

/* Resolves ref against base (RFC 3986), into out. */
void hc_resolve(const char *base, const char *ref, struct buf *out);

#endif
