/*
 * The pipelines file of `cairn sync --config` (see sync_config.h; every key is in
 * docs/sync.md).
 */
#include "sync/sync_config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yaml.h>

#include "base/timeutil.h"
#include "base/xmalloc.h"
#include "config/yaml_value.h"
#include "sync/sync_out.h"

bool sync_es_credentials(struct sync_es_opts *es, const char *user, const char *password_env,
			 const char *api_key_env, char *value, size_t cap)
{
	const char *key = getenv(api_key_env);
	if (key && *key) {
		if (strlen(key) + sizeof("ApiKey ") > cap)
			return false;
		es->http.auth = HC_AUTH_HEADER;
		es->http.key_header = "Authorization";
		snprintf(value, cap, "ApiKey %s", key);
		es->http.token = value;
	} else if (user && *user) {
		const char *password = getenv(password_env);
		es->http.auth = HC_AUTH_BASIC;
		es->http.user = user;
		es->http.password = password ? password : "";
	}
	return true;
}

/* ---- the YAML walk ---- */

struct loader {
	struct sync_config *c;
	yaml_document_t doc;
	bool private_file;		/* readable by its owner only: secrets may be in it */
	struct err *e;
};

static int fail(struct loader *l, const yaml_node_t *n, const char *key, const char *why)
{
	unsigned long line = n ? (unsigned long)n->start_mark.line + 1 : 0;
	return err_set(l->e, ERR_INVALID, "%s:%lu: %s: %s", l->c->path, line, key, why);
}

static yaml_node_t *node(struct loader *l, int id)
{
	return yaml_document_get_node(&l->doc, id);
}

static const char *scalar(const yaml_node_t *n)
{
	return config_yaml_scalar(n);
}

/* A string value, copied into the config (it outlives the YAML document). */
static int get_str(struct loader *l, yaml_node_t *n, const char *key, const char **out)
{
	const char *s = scalar(n);
	if (s == NULL)
		return fail(l, n, key, "expected a string");
	if (strlen(s) > 4000)
		return fail(l, n, key, "longer than 4000 bytes");
	struct sync_config *c = l->c;
	c->owned = xrealloc(c->owned, (c->nowned + 1) * sizeof(*c->owned));
	*out = c->owned[c->nowned++] = xstrdup(s);
	return 0;
}

static int get_int(struct loader *l, yaml_node_t *n, const char *key, int64_t lo, int64_t hi, int64_t *out)
{
	char why[96];
	return config_yaml_int(n, lo, hi, out, why, sizeof(why)) ? fail(l, n, key, why) : 0;
}

static int get_bool(struct loader *l, yaml_node_t *n, const char *key, bool *out)
{
	char why[64];
	return config_yaml_bool(n, out, why, sizeof(why)) ? fail(l, n, key, why) : 0;
}

/* The value of the environment variable a *_env key names; it must be set. */
static int get_env(struct loader *l, yaml_node_t *n, const char *key, const char **name, const char **value)
{
	const char *s = scalar(n);
	if (s == NULL || *s == '\0' || strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") != strlen(s))
		return fail(l, n, key, "expected the name of an environment variable");
	const char *v = getenv(s);
	if (v == NULL || *v == '\0') {
		char why[160];
		snprintf(why, sizeof(why), "the environment variable %.100s is not set", s);
		return fail(l, n, key, why);
	}
	if (name && get_str(l, n, key, name))
		return ERR_INVALID;
	if (value)
		*value = v;
	return 0;
}

/* A secret written in the file: only from a file no one else can read. */
static int get_secret(struct loader *l, yaml_node_t *n, const char *key, const char *env_key, const char **out)
{
	if (!l->private_file) {
		char why[200];
		snprintf(why, sizeof(why), "a secret in the file needs the file readable by its owner only"
			 " (chmod 600); or name an environment variable with %s", env_key);
		return fail(l, n, key, why);
	}
	return get_str(l, n, key, out);
}

/* "30s", "5m", "1h30m", "1d": seconds, 1 s to 7 days. */
static int get_interval(struct loader *l, yaml_node_t *n, const char *key, int64_t *out)
{
	const char *s = scalar(n);
	const char *units = "dhms";
	const int64_t mult[] = { 86400, 3600, 60, 1 };
	int64_t total = 0;
	size_t next_unit = 0;
	if (s == NULL || *s == '\0')
		return fail(l, n, key, "expected a duration like 30s, 5m, 1h or 1d");
	while (*s) {
		if (*s < '0' || *s > '9')
			return fail(l, n, key, "expected a duration like 30s, 5m, 1h or 1d");
		int64_t v = 0;
		while (*s >= '0' && *s <= '9' && v < 1000000000)
			v = v * 10 + (*s++ - '0');
		const char *u = *s ? strchr(units + next_unit, *s) : NULL;
		if (u == NULL)
			return fail(l, n, key, "expected a duration like 30s, 5m, 1h or 1d");
		next_unit = (size_t)(u - units) + 1;
		total += v * mult[u - units];
		s++;
		if (total > 7 * 86400)
			break;
	}
	if (total < 1 || total > 7 * 86400)
		return fail(l, n, key, "must be between 1s and 7d");
	*out = total;
	return 0;
}

#define FOR_PAIRS(l, map, kn, vn, ks)                                                              \
	for (yaml_node_pair_t *pr_ = (map)->data.mapping.pairs.start; pr_ < (map)->data.mapping.pairs.top; pr_++) \
		for (yaml_node_t *kn = node(l, pr_->key), *vn = node(l, pr_->value); kn; kn = NULL)    \
			for (const char *ks = scalar(kn) ? scalar(kn) : "?"; ks; ks = NULL)

/* ---- a pipeline's source ---- */

static int load_source(struct loader *l, yaml_node_t *map, const char *at, struct sync_pipeline *p)
{
	char key[256];
	struct sync_opts *o = &p->o;
	if (map->type != YAML_MAPPING_NODE)
		return fail(l, map, at, "expected a mapping (url or path, and credentials)");
	const char *user = NULL, *password = NULL, *token = NULL, *key_header = NULL;
	yaml_node_t *where = map;
	FOR_PAIRS(l, map, k, v, ks) {
		snprintf(key, sizeof(key), "%.100s.%.100s", at, ks);
		int64_t n;
		int rc = 0;
		if (!strcmp(ks, "url") || !strcmp(ks, "path")) {
			if (o->from)
				return fail(l, k, key, "give one of url and path");
			rc = get_str(l, v, key, &o->from);
			if (rc == 0 && !strcmp(ks, "url") && strncmp(o->from, "http://", 7) && strncmp(o->from, "https://", 8))
				rc = fail(l, v, key, "expected an http:// or https:// URL");
			if (rc == 0 && !strcmp(ks, "path") && (!strncmp(o->from, "http://", 7) || !strncmp(o->from, "https://", 8)))
				rc = fail(l, v, key, "a URL: give it as url");
		} else if (!strcmp(ks, "user"))
			rc = get_str(l, v, key, &user);
		else if (!strcmp(ks, "user_env"))
			rc = get_env(l, v, key, NULL, &user);
		else if (!strcmp(ks, "password_env"))
			rc = get_env(l, v, key, NULL, &password);
		else if (!strcmp(ks, "token_env"))
			rc = get_env(l, v, key, NULL, &token);
		else if (!strcmp(ks, "password"))
			rc = get_secret(l, v, key, "password_env", &password);
		else if (!strcmp(ks, "token"))
			rc = get_secret(l, v, key, "token_env", &token);
		else if (!strcmp(ks, "api_key_header"))
			rc = get_str(l, v, key, &key_header);
		else if (!strcmp(ks, "ca_file"))
			rc = get_str(l, v, key, &o->http.ca_file);
		else if (!strcmp(ks, "cert"))
			rc = get_str(l, v, key, &o->http.client_cert);
		else if (!strcmp(ks, "key"))
			rc = get_str(l, v, key, &o->http.client_key);
		else if (!strcmp(ks, "limit")) {
			rc = get_int(l, v, key, 1, 100000, &n);
			o->page_limit = n;
		} else if (!strcmp(ks, "max_pages")) {
			rc = get_int(l, v, key, 1, 1000000, &n);
			o->max_pages = (int)n;
		} else
			rc = fail(l, k, key, "unknown key");
		if (rc)
			return rc;
		where = k;
	}
	if (o->from == NULL)
		return fail(l, map, at, "needs url (TAXII collection) or path (STIX files)");
	if (user && token)
		return fail(l, where, at, "give user and password, or a token, not both");
	if (user) {
		o->http.auth = HC_AUTH_BASIC;
		o->http.user = user;
		o->http.password = password ? password : "";
	} else if (password) {
		return fail(l, where, at, "a password needs user (or user_env)");
	} else if (token) {
		o->http.auth = key_header ? HC_AUTH_HEADER : HC_AUTH_BEARER;
		o->http.token = token;
		o->http.key_header = key_header;
	}
	if (o->http.auth != HC_AUTH_NONE && strncmp(o->from, "http", 4))
		return fail(l, where, at, "credentials are for a url source");
	return 0;
}

/* ---- a pipeline's output ---- */

enum out_kind { OUT_FILE, OUT_ES, OUT_SPLUNK, OUT_SENTINEL };

static int load_output(struct loader *l, yaml_node_t *map, const char *at, struct sync_pipeline *p)
{
	char key[256];
	struct sync_opts *o = &p->o;
	if (map->type != YAML_MAPPING_NODE)
		return fail(l, map, at, "expected a mapping (to, and the output's options)");
	/* `to` first: it decides which options apply. */
	FOR_PAIRS(l, map, k, v, ks) {
		if (strcmp(ks, "to"))
			continue;
		snprintf(key, sizeof(key), "%.100s.to", at);
		if (get_str(l, v, key, &o->to))
			return ERR_INVALID;
		if (o->to[0] == '\0')
			return fail(l, v, key, "expected a file, -, elasticsearch+http(s)://, splunk+http(s):// or sentinel://");
		(void)k;
	}
	if (o->to == NULL)
		return fail(l, map, at, "needs to (a file, -, elasticsearch+https://HOST:PORT, splunk+https://HOST:PORT or sentinel://WORKSPACE_ID)");
	enum out_kind kind = !strncmp(o->to, "splunk+", 7) ? OUT_SPLUNK
			     : !strncmp(o->to, "sentinel://", 11) ? OUT_SENTINEL
			     : sync_output_is_es(o->to) ? OUT_ES : OUT_FILE;
	const char *es_user = NULL, *es_password_env = "CAIRN_SYNC_ES_PASSWORD", *es_api_key_env = "CAIRN_SYNC_ES_API_KEY";
	const char *splunk_token_env = "CAIRN_SYNC_SPLUNK_TOKEN", *sentinel_secret_env = "CAIRN_SYNC_SENTINEL_SECRET";
	FOR_PAIRS(l, map, k, v, ks) {
		snprintf(key, sizeof(key), "%.100s.%.100s", at, ks);
		int64_t n;
		int rc = 0;
		if (!strcmp(ks, "to"))
			continue;
		enum out_kind want = !strncmp(ks, "es_", 3) ? OUT_ES : !strncmp(ks, "splunk_", 7) ? OUT_SPLUNK
				     : !strncmp(ks, "sentinel_", 9) ? OUT_SENTINEL : OUT_FILE;
		if (want == OUT_FILE)
			return fail(l, k, key, "unknown key");
		if (want != kind)
			return fail(l, k, key, want == OUT_ES ? "applies to an elasticsearch+http(s):// output"
				    : want == OUT_SPLUNK ? "applies to a splunk+http(s):// output"
				    : "applies to a sentinel:// output");
		if (!strcmp(ks, "es_index"))
			rc = get_str(l, v, key, &o->es.index);
		else if (!strcmp(ks, "es_latest_index"))
			rc = get_str(l, v, key, &o->es.latest_index);
		else if (!strcmp(ks, "es_no_latest")) {
			bool b;
			rc = get_bool(l, v, key, &b);
			if (rc == 0 && b)
				o->es.latest_index = "";
		} else if (!strcmp(ks, "es_user"))
			rc = get_str(l, v, key, &es_user);
		else if (!strcmp(ks, "es_password_env"))
			rc = get_env(l, v, key, &es_password_env, NULL);
		else if (!strcmp(ks, "es_api_key_env"))
			rc = get_env(l, v, key, &es_api_key_env, NULL);
		else if (!strcmp(ks, "es_ca_file"))
			rc = get_str(l, v, key, &o->es.http.ca_file);
		else if (!strcmp(ks, "es_cert"))
			rc = get_str(l, v, key, &o->es.http.client_cert);
		else if (!strcmp(ks, "es_key"))
			rc = get_str(l, v, key, &o->es.http.client_key);
		else if (!strcmp(ks, "es_batch")) {
			rc = get_int(l, v, key, 1, 10000, &n);
			o->es.batch_docs = (int)n;
		} else if (!strcmp(ks, "es_batch_mb")) {
			rc = get_int(l, v, key, 1, 100, &n);
			o->es.batch_bytes = (size_t)n << 20;
		} else if (!strcmp(ks, "splunk_index"))
			rc = get_str(l, v, key, &o->splunk.index);
		else if (!strcmp(ks, "splunk_sourcetype"))
			rc = get_str(l, v, key, &o->splunk.sourcetype);
		else if (!strcmp(ks, "splunk_source"))
			rc = get_str(l, v, key, &o->splunk.source);
		else if (!strcmp(ks, "splunk_host"))
			rc = get_str(l, v, key, &o->splunk.host);
		else if (!strcmp(ks, "splunk_token_env"))
			rc = get_env(l, v, key, &splunk_token_env, NULL);
		else if (!strcmp(ks, "splunk_ack"))
			rc = get_bool(l, v, key, &o->splunk.ack);
		else if (!strcmp(ks, "splunk_ack_timeout"))
			rc = get_int(l, v, key, 1, 86400, &o->splunk.ack_timeout_s);
		else if (!strcmp(ks, "splunk_batch")) {
			rc = get_int(l, v, key, 1, 100000, &n);
			o->splunk.batch_events = (int)n;
		} else if (!strcmp(ks, "splunk_ca_file"))
			rc = get_str(l, v, key, &o->splunk.http.ca_file);
		else if (!strcmp(ks, "sentinel_tenant"))
			rc = get_str(l, v, key, &o->sentinel.tenant);
		else if (!strcmp(ks, "sentinel_client_id"))
			rc = get_str(l, v, key, &o->sentinel.client_id);
		else if (!strcmp(ks, "sentinel_secret_env"))
			rc = get_env(l, v, key, &sentinel_secret_env, NULL);
		else if (!strcmp(ks, "sentinel_source_system"))
			rc = get_str(l, v, key, &o->sentinel.source_system);
		else if (!strcmp(ks, "sentinel_login_url"))
			rc = get_str(l, v, key, &o->sentinel.login_url);
		else if (!strcmp(ks, "sentinel_api_url"))
			rc = get_str(l, v, key, &o->sentinel.api_url);
		else
			rc = fail(l, k, key, "unknown key");
		if (rc)
			return rc;
	}
	if (kind == OUT_ES && !sync_es_credentials(&o->es, es_user, es_password_env, es_api_key_env,
						   p->es_auth, sizeof(p->es_auth)))
		return fail(l, map, at, "the Elasticsearch API key is longer than an API key can be");
	o->splunk.token = getenv(splunk_token_env);
	o->sentinel.client_secret = getenv(sentinel_secret_env);
	return 0;
}

/* ---- a pipeline ---- */

static int load_pipeline(struct loader *l, yaml_node_t *map, int idx, struct sync_pipeline *p)
{
	char at[64], key[256];
	snprintf(at, sizeof(at), "pipelines[%d]", idx);
	if (map->type != YAML_MAPPING_NODE)
		return fail(l, map, at, "expected a mapping (name, source, output, …)");
	struct sync_opts *o = &p->o;
	p->line = (unsigned)map->start_mark.line + 1;
	p->interval_s = 300;
	o->ecs.profile = ECS_PROFILE_ECS;
	o->ecs.expiration_us = 90 * USEC_PER_DAY;
	o->ecs.expiration_text = "90d";
	o->sentinel.source_system = "cairn";
	o->sentinel.login_url = "https://login.microsoftonline.com";
	o->sentinel.api_url = "https://api.ti.sentinel.azure.com";
	yaml_node_t *src = NULL, *out = NULL;
	FOR_PAIRS(l, map, k, v, ks) {
		snprintf(key, sizeof(key), "%.100s.%.100s", at, ks);
		int rc = 0;
		if (!strcmp(ks, "name")) {
			rc = get_str(l, v, key, &p->name);
			if (rc == 0 && (p->name[0] == '\0' || strlen(p->name) > 64 ||
					strspn(p->name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") != strlen(p->name) ||
					p->name[0] == '.'))
				rc = fail(l, v, key, "expected letters, digits, '-', '_' and '.' (at most 64; not starting with '.')");
		} else if (!strcmp(ks, "source"))
			src = v;
		else if (!strcmp(ks, "output"))
			out = v;
		else if (!strcmp(ks, "interval"))
			rc = get_interval(l, v, key, &p->interval_s);
		else if (!strcmp(ks, "state"))
			rc = get_str(l, v, key, &o->state_dir);
		else if (!strcmp(ks, "profile")) {
			int pr = scalar(v) ? ecs_profile_from_name(scalar(v)) : -1;
			if (pr < 0)
				rc = fail(l, v, key, "expected ecs or ti_custom");
			else
				o->ecs.profile = (enum ecs_profile)pr;
		} else if (!strcmp(ks, "expiration_duration")) {
			rc = get_str(l, v, key, &o->ecs.expiration_text);
			if (rc == 0 && (o->ecs.expiration_us = ecs_parse_duration(o->ecs.expiration_text)) < 0)
				rc = fail(l, v, key, "expected a duration like 90d, 12h or 30m");
		} else if (!strcmp(ks, "feed_name"))
			rc = get_str(l, v, key, &o->ecs.feed_name);
		else if (!strcmp(ks, "feed_reference"))
			rc = get_str(l, v, key, &o->ecs.feed_reference);
		else if (!strcmp(ks, "tlp"))
			rc = get_str(l, v, key, &o->ecs.tlp);
		else if (!strcmp(ks, "all_objects"))
			rc = get_bool(l, v, key, &o->ecs.all_objects);
		else
			rc = fail(l, k, key, "unknown key");
		if (rc)
			return rc;
	}
	if (p->name == NULL)
		return fail(l, map, at, "needs a name");
	/* Messages name the pipeline from here on. */
	snprintf(at, sizeof(at), "pipelines[%d] (%s)", idx, p->name);
	if (src == NULL)
		return fail(l, map, at, "needs a source");
	if (out == NULL)
		return fail(l, map, at, "needs an output");
	snprintf(key, sizeof(key), "pipelines[%d].source", idx);
	if (load_source(l, src, key, p))
		return ERR_INVALID;
	snprintf(key, sizeof(key), "pipelines[%d].output", idx);
	if (load_output(l, out, key, p))
		return ERR_INVALID;
	if (o->state_dir == NULL) {
		if (l->c->state_dir == NULL)
			return fail(l, map, at, "needs state, or state_dir at the top of the file");
		char path[4200];
		snprintf(path, sizeof(path), "%s/%s", l->c->state_dir, p->name);
		struct sync_config *c = l->c;
		c->owned = xrealloc(c->owned, (c->nowned + 1) * sizeof(*c->owned));
		o->state_dir = c->owned[c->nowned++] = xstrdup(path);
	}
	return 0;
}

static int load_metrics_listen(struct loader *l, yaml_node_t *v)
{
	const char *s = scalar(v);
	const char *colon = s ? strrchr(s, ':') : NULL;
	char host[64];
	struct in_addr a;
	if (colon == NULL || (size_t)(colon - s) >= sizeof(host))
		return fail(l, v, "metrics_listen", "expected HOST:PORT, like 127.0.0.1:9464");
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	char *end;
	long port = strtol(colon + 1, &end, 10);
	if (inet_pton(AF_INET, host, &a) != 1)
		return fail(l, v, "metrics_listen", "expected an IPv4 address, like 127.0.0.1:9464");
	if (end == colon + 1 || *end || port < 1 || port > 65535)
		return fail(l, v, "metrics_listen", "expected a port between 1 and 65535");
	snprintf(l->c->metrics_host, sizeof(l->c->metrics_host), "%s", host);
	l->c->metrics_port = (int)port;
	return 0;
}

static int load_root(struct loader *l)
{
	yaml_node_t *root = yaml_document_get_root_node(&l->doc);
	if (root == NULL || root->type != YAML_MAPPING_NODE)
		return fail(l, root, "(top)", "expected a mapping with pipelines");
	yaml_node_t *pipes = NULL;
	/* state_dir first: the pipelines' default state folders hang from it. */
	FOR_PAIRS(l, root, k, v, ks) {
		int rc = 0;
		if (!strcmp(ks, "state_dir"))
			rc = get_str(l, v, "state_dir", &l->c->state_dir);
		else if (!strcmp(ks, "metrics_listen"))
			rc = load_metrics_listen(l, v);
		else if (!strcmp(ks, "pipelines"))
			pipes = v;
		else
			rc = fail(l, k, ks, "unknown key");
		if (rc)
			return rc;
	}
	if (pipes == NULL || pipes->type != YAML_SEQUENCE_NODE || pipes->data.sequence.items.start == pipes->data.sequence.items.top)
		return fail(l, pipes ? pipes : root, "pipelines", "expected a list of one or more pipelines");
	int i = 0;
	for (yaml_node_item_t *it = pipes->data.sequence.items.start; it < pipes->data.sequence.items.top; it++, i++) {
		yaml_node_t *pn = node(l, *it);
		if (i == SYNC_PIPELINES_MAX)
			return fail(l, pn, "pipelines", "more than 64 pipelines");
		struct sync_pipeline *p = &l->c->pipe[i];
		if (load_pipeline(l, pn, i, p))
			return ERR_INVALID;
		for (int j = 0; j < i; j++) {
			char key[96];
			snprintf(key, sizeof(key), "pipelines[%d].name", i);
			if (!strcmp(l->c->pipe[j].name, p->name))
				return fail(l, pn, key, "another pipeline has this name");
			if (!strcmp(l->c->pipe[j].o.state_dir, p->o.state_dir))
				return fail(l, pn, key, "another pipeline has the same state folder");
		}
		l->c->npipe = i + 1;
	}
	return 0;
}

int sync_config_load(struct sync_config *c, const char *path, struct err *e)
{
	memset(c, 0, sizeof(*c));
	c->path = path;
	struct loader l = { .c = c, .e = e };
	FILE *f = fopen(path, "rb");
	if (f == NULL)
		return err_set(e, ERR_IO, "cannot open %s: %s", path, strerror(errno));
	struct stat sb;
	l.private_file = fstat(fileno(f), &sb) == 0 && (sb.st_mode & 077) == 0;
	char *data = xmalloc(SYNC_CONFIG_MAX + 1);
	size_t n = fread(data, 1, SYNC_CONFIG_MAX + 1, f);
	bool bad = ferror(f);
	fclose(f);
	if (bad || n > SYNC_CONFIG_MAX) {
		free(data);
		return bad ? err_set(e, ERR_IO, "cannot read %s", path)
			   : err_set(e, ERR_TOO_LARGE, "%s: larger than 1 MiB", path);
	}
	yaml_parser_t parser;
	if (!yaml_parser_initialize(&parser)) {
		free(data);
		return err_set(e, ERR_INTERNAL, "cannot initialise the YAML parser");
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)data, n);
	int rc;
	if (!yaml_parser_load(&parser, &l.doc)) {
		rc = err_set(e, ERR_INVALID, "%s:%lu: %s", path, (unsigned long)parser.problem_mark.line + 1,
			     parser.problem ? parser.problem : "not YAML");
	} else {
		rc = load_root(&l);
		yaml_document_delete(&l.doc);
	}
	yaml_parser_delete(&parser);
	free(data);
	return rc;
}

void sync_config_free(struct sync_config *c)
{
	for (size_t i = 0; i < c->nowned; i++)
		free(c->owned[i]);
	free(c->owned);
	c->owned = NULL;
	c->nowned = 0;
}
