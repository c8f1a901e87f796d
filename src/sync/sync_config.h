/*
 * sync_config.h — `cairn sync --config FILE`: several source→output pipelines from one YAML
 * file (docs/sync.md, "Pipelines from a file"), run once or as a daemon with intervals and
 * Prometheus metrics.
 *
 * Every key is checked: an unknown key, a value of the wrong type or out of range, an
 * environment variable named for a credential that is not set, stops loading with
 * "FILE:LINE: key: reason" in e. Secrets come from environment variables whose names the
 * file gives; a secret written in the file itself is taken only when the file is readable
 * by its owner alone.
 */
#ifndef CAIRN_SYNC_SYNC_CONFIG_H
#define CAIRN_SYNC_SYNC_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "sync/sync.h"

#define SYNC_PIPELINES_MAX 64
#define SYNC_CONFIG_MAX (1024 * 1024)

struct sync_pipeline {
	const char *name;
	unsigned line;			/* where it starts in the file */
	struct sync_opts o;		/* its strings are owned by the sync_config */
	int64_t interval_s;		/* between the starts of two runs */
	char es_auth[1000];		/* "ApiKey …" when the ES output has an API key */
};

struct sync_config {
	const char *path;
	const char *state_dir;		/* top-level folder; a pipeline's default is DIR/NAME */
	char metrics_host[64];		/* "" = no metrics listener */
	int metrics_port;
	struct sync_pipeline pipe[SYNC_PIPELINES_MAX];
	int npipe;
	char **owned;			/* strings copied from the YAML document */
	size_t nowned;
};

/* Reads path into c (zeroed first). On error c holds nothing to free beyond what
 * sync_config_free releases. */
int sync_config_load(struct sync_config *c, const char *path, struct err *e) CAIRN_MUST_USE;
void sync_config_free(struct sync_config *c);

/* Runs every pipeline once (once, or dry_run), or on their intervals until SIGTERM or
 * SIGINT. Prints a summary line per run on stderr. Returns the exit code: 0, or 1 when a
 * --once run failed or the metrics port cannot be opened. */
int sync_daemon(struct sync_config *c, bool once, bool dry_run);

/* Fills es->http from an API key in $api_key_env (wins) or user with the password in
 * $password_env; value (cap bytes) holds the "ApiKey …" header value. Returns false when the
 * key is longer than fits. */
bool sync_es_credentials(struct sync_es_opts *es, const char *user, const char *password_env,
			 const char *api_key_env, char *value, size_t cap);

#endif
