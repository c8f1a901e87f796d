/*
 * api.h — the REST API v1 (DESIGN.md section 3): routing, authentication,
 * tiers and rate limits, the indicator endpoints, keys, usage, health and
 * metrics, on top of http/ and store/.
 *
 * One `struct api` per process holds what every worker shares (configuration,
 * key cache, rate-limit windows, usage counters, the stats cache, metrics,
 * the access log), each guarded by its own mutex. Each worker thread has a
 * `struct api_worker` with its own store connection and response cache.
 */
#ifndef CAIRN_API_API_H
#define CAIRN_API_API_H

#include "config/config.h"
#include "http/http.h"

struct api;

/* db_path is kept (not copied). Returns NULL with a reason in e. */
struct api *api_new(const struct config *cfg, const char *db_path, struct err *e);
void api_free(struct api *a);
/* The http_app that serves this API; valid while a lives. */
const struct http_app *api_http_app(struct api *a);
/* Writes buffered usage counters to the database (also done every 2 s while serving). */
int api_flush(struct api *a, struct err *e);

#endif
