/*
 * http.h — cairn's HTTP server, on the h2o library (libh2o-evloop).
 *
 * One event loop per worker thread, each with its own SO_REUSEPORT listener,
 * so the kernel spreads connections and no lock sits on the request path.
 * The application sees plain structs: a request (method, path, query, the
 * headers it asks for, the whole body) and a response it fills (status,
 * headers, body). No h2o type crosses this header.
 *
 * Limits (struct http_conf): header bytes per request, body bytes, open
 * connections per process (accepting pauses at the limit), a request
 * timeout that also closes idle keep-alive connections and slow senders, and
 * a write timeout for clients that stop reading their response.
 * Shutdown: when *stop becomes non-zero, listeners close, keep-alive
 * connections are told to close, requests in flight finish, and
 * http_serve() returns once every connection is gone (or after 10 s).
 */
#ifndef CAIRN_HTTP_HTTP_H
#define CAIRN_HTTP_HTTP_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"

struct http_conf {
	char host[128];
	int port;
	int threads;
	size_t max_header_bytes;
	size_t max_body_bytes;
	int max_connections;
	int request_timeout_s;
	int idle_timeout_s;	/* HTTP/2 connections idle this long are closed */
	int write_timeout_s;	/* a response the client does not read for this long is cut */
};

struct http_req {
	const char *method;
	size_t method_len;
	const char *path;	/* raw, before '?' */
	size_t path_len;
	const char *query;	/* raw, after '?'; "" when none */
	size_t query_len;
	const char *body;	/* NULL when none */
	size_t body_len;
	const char *host;	/* the Host header (or :authority) */
	size_t host_len;
	const char *peer;	/* client address as text */
	int64_t start_us;	/* monotonic */
	size_t header_bytes;	/* names and values, all headers */
	void *impl;
};

/* The value of the first header named name (lower case), or NULL. */
const char *http_req_header(const struct http_req *r, const char *name, size_t *len);

/* A reference-counted body that can be sent by many responses without copying. */
struct http_shared;
struct http_shared *http_shared_new(const void *p, size_t n);
void http_shared_ref(struct http_shared *s);
void http_shared_unref(struct http_shared *s);
const char *http_shared_data(const struct http_shared *s);
size_t http_shared_len(const struct http_shared *s);

#define HTTP_MAX_RESP_HEADERS 16

struct http_resp {
	int status;
	const char *content_type;	/* static string */
	struct buf body;		/* sent unless `shared` is set */
	struct http_shared *shared;	/* one reference is given to the response */
	int nheaders;
	struct {
		const char *name;	/* static string */
		char value[160];
	} headers[HTTP_MAX_RESP_HEADERS];
};

void http_resp_header(struct http_resp *r, const char *name, const char *fmt, ...)
	CAIRN_PRINTF(3, 4);
const char *http_status_reason(int status);

struct http_app {
	void *ctx;
	/* Called on each worker thread before it serves; returns that thread's context. */
	void *(*thread_init)(void *ctx, int thread_no, struct err *e);
	void (*thread_fini)(void *tctx);
	/* Fills resp; resp->body is initialised and empty, status 200. */
	void (*handle)(void *tctx, struct http_req *req, struct http_resp *resp);
	/* Called about every 100 ms on each worker, for periodic work. */
	void (*tick)(void *tctx);
};

/* Serves until *stop is set. Returns 0, or an error (bind failure, …) in e.
 * Logs one line "listening on http://HOST:PORT" when every listener is ready. */
int http_serve(const struct http_conf *conf, const struct http_app *app, volatile sig_atomic_t *stop,
	       struct err *e) CAIRN_MUST_USE;

#endif
