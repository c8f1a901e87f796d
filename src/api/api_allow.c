/*
 * The server's allow-lists: one matcher shared by every worker, rebuilt by the background
 * thread when the lists in the database change (another process ran `cairn allowlist`),
 * and swapped in whole: a request that holds the old one keeps it until it is done.
 * The records themselves are marked by the passes (allow/allow_db.h), so what the server
 * publishes never waits for a rebuild; the matcher serves lookups' explanations and
 * filters submissions.
 */
#include <string.h>

#include "allow/allow_db.h"
#include "api/api_int.h"
#include "base/log.h"
#include "base/timeutil.h"

struct allow_set *api_allow(struct api *a)
{
	pthread_mutex_lock(&a->allow_lock);
	struct allow_set *set = allow_set_ref(a->allow);
	pthread_mutex_unlock(&a->allow_lock);
	return set;
}

static void swap_in(struct api *a, struct allow_set *set)
{
	pthread_mutex_lock(&a->allow_lock);
	struct allow_set *old = a->allow;
	a->allow = set;
	pthread_mutex_unlock(&a->allow_lock);
	allow_set_unref(old);
}

int api_allow_reload(struct api *a, struct store *s, struct err *e)
{
	struct allow_set *set;
	int rc = allow_db_load(s, &set, e);
	if (rc == 0)
		swap_in(a, set);
	return rc;
}

static int any_pending(void *ctx, const struct allowlist_row *r)
{
	bool *p = ctx;
	*p = *p || r->pending != 0;
	return 0;
}

void allow_refresh(struct api *a, struct store *s)
{
	struct err e = { 0 };
	int64_t gen = store_allow_gen(s);
	pthread_mutex_lock(&a->allow_lock);
	int64_t have = a->allow ? allow_set_generation(a->allow) : -1;
	pthread_mutex_unlock(&a->allow_lock);
	if (gen == have)
		return;
	/* Passes left undone (a new database's built-in list, a `cairn allowlist` that was
	 * killed) are finished here; a running `cairn allowlist` may be doing the same, and
	 * the passes are idempotent. */
	bool pending = false;
	if (store_allow_list(s, NULL, false, any_pending, &pending, &e) == 0 && pending) {
		struct allow_db_report rep = { 0 };
		if (allow_db_settle(s, NULL, 0, &rep, &e) != 0)
			log_warn("allow-lists: %s", e.msg);
		else if (rep.hidden || rep.restored)
			log_info("allow-lists: %lld records suppressed, %lld published again", (long long)rep.hidden,
				 (long long)rep.restored);
	}
	if (api_allow_reload(a, s, &e) != 0)
		log_warn("allow-lists: %s", e.msg);
}

static int metric_row(void *ctx, const struct allowlist_row *r)
{
	struct buf *b = ctx;	/* one buffer per metric: a family's samples stay together */
	if (r->removing)
		return 0;
	/* Names are [A-Za-z0-9._-]: nothing to escape in a label. */
	buf_printf(&b[0], "cairn_allowlist_entries{list=\"%s\",enabled=\"%s\"} %lld\n", r->name,
		   r->enabled ? "true" : "false", (long long)r->entries);
	buf_printf(&b[1], "cairn_allowlist_suppressed_records{list=\"%s\"} %lld\n", r->name,
		   (long long)r->suppressed);
	buf_printf(&b[2], "cairn_allowlist_suppressed_total{list=\"%s\"} %lld\n", r->name,
		   (long long)r->import_hits);
	return 0;
}

void allow_metrics(struct call *c, struct buf *b)
{
	static const char *const head[3] = {
		"# HELP cairn_allowlist_entries Entries of each allow-list.\n"
		"# TYPE cairn_allowlist_entries gauge\n",
		"# HELP cairn_allowlist_suppressed_records Records an allow-list hides now.\n"
		"# TYPE cairn_allowlist_suppressed_records gauge\n",
		"# HELP cairn_allowlist_suppressed_total Values an allow-list kept out of imports and submissions.\n"
		"# TYPE cairn_allowlist_suppressed_total counter\n",
	};
	struct buf rows[3] = { BUF_INIT, BUF_INIT, BUF_INIT };
	struct err e = { 0 };
	int rc = store_allow_list(c->w->store, NULL, false, metric_row, rows, &e);
	for (int i = 0; i < 3; i++) {
		if (rc == 0) {
			buf_puts(b, head[i]);
			buf_append(b, rows[i].data ? rows[i].data : "", rows[i].len);
		}
		buf_cleanup(&rows[i]);
	}
}
