/*
 * The feeds inside `cairn serve`: a thread that pulls the feeds that are due (every
 * feed_check_interval seconds it looks), on its own connection, and GET /api/v1/feeds
 * (admin), every feed's definition and state.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api_int.h"
#include "base/log.h"
#include "base/timeutil.h"
#include "feeds/feeds.h"

static void *feeds_main(void *arg)
{
	struct api *a = arg;
	struct store *s;
	struct err e = { 0 };
	if (store_open(&s, a->db_path, &a->cfg, 0, &e) != 0) {
		log_error("feeds: %s", e.msg);
		return NULL;
	}
	pthread_mutex_lock(&a->lock);
	while (!a->feeds_stop) {
		a->feeds_busy = true;
		pthread_mutex_unlock(&a->lock);
		int ran = 0;
		if (feeds_run_due(s, &a->cfg, time_now_us(), &ran, &e) != 0)
			log_warn("feeds: %s", e.msg);
		if (ran)
			__atomic_add_fetch(&a->write_generation, 1, __ATOMIC_RELEASE);
		pthread_mutex_lock(&a->lock);
		a->feeds_busy = false;
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += (time_t)a->cfg.feed_check_s;
		while (!a->feeds_stop && pthread_cond_timedwait(&a->feeds_cond, &a->lock, &until) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&a->lock);
	store_close(s);
	return NULL;
}

void feeds_thread_start(struct api *a)
{
	if (a->cfg.feed_check_s <= 0)
		return;
	pthread_cond_init(&a->feeds_cond, NULL);
	feeds_set_abort(&a->feeds_stop);
	if (pthread_create(&a->feeds_thread, NULL, feeds_main, a) == 0)
		a->feeds_running = true;
	else
		log_error("cannot start the feeds thread; feeds are pulled only by `cairn feeds run`");
}

void feeds_thread_stop(struct api *a)
{
	if (!a->feeds_running)
		return;
	pthread_mutex_lock(&a->lock);
	__atomic_store_n(&a->feeds_stop, true, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&a->feeds_cond);
	pthread_mutex_unlock(&a->lock);
	/* A pull in flight sees the flag and stops within a moment (net/http_client.h abort). */
	pthread_join(a->feeds_thread, NULL);
	a->feeds_running = false;
	pthread_cond_destroy(&a->feeds_cond);
}

static void put_time_or_null(struct jw *w, const char *k, int64_t us)
{
	jw_key(w, k);
	if (us)
		jw_time(w, us);
	else
		jw_null(w);
}

static int feed_json(void *ctx, const struct feed_row *r)
{
	struct jw *w = ctx;
	struct feed_def f;
	struct err e = { 0 };
	snprintf(f.name, sizeof(f.name), "%s", r->name);
	bool ok = feed_def_parse(r->def, &f, &e) == 0;
	jw_obj(w);
	jw_kstr(w, "name", r->name);
	if (ok) {
		char grade[2] = { f.reliability, 0 };
		jw_kstr(w, "url", f.url);
		jw_kstr(w, "format", f.format);
		jw_kint(w, "interval_seconds", f.interval_s);
		jw_kstr(w, "reliability", grade);
		jw_key(w, "type");
		jw_str(w, f.type[0] ? f.type : NULL);
		jw_key(w, "confidence");
		if (f.confidence >= 0)
			jw_int(w, f.confidence);
		else
			jw_null(w);
		jw_key(w, "tags");
		jw_arr(w);
		for (int i = 0; i < f.ntags; i++)
			jw_str(w, f.tags[i]);
		jw_end(w);
		jw_kstr(w, "tlp", f.tlp[0] ? f.tlp : "clear");
		jw_kstr(w, "category", f.category);
		jw_key(w, "industries");
		jw_arr(w);
		for (int i = 0; i < f.nindustries; i++)
			jw_str(w, f.industries[i]);
		jw_end(w);
		jw_key(w, "lifetime_days");
		if (f.lifetime_days > 0)
			jw_int(w, f.lifetime_days);
		else
			jw_null(w);
		jw_kbool(w, "snapshot", f.snapshot);
	} else {
		jw_kstr(w, "definition_error", e.msg);
	}
	jw_key(w, "state");
	jw_obj(w);
	jw_kstr(w, "status", r->last_status[0] ? r->last_status : "never pulled");
	put_time_or_null(w, "last_run", r->last_run);
	put_time_or_null(w, "last_success", r->last_ok);
	put_time_or_null(w, "next_run", r->next_run);
	jw_kint(w, "failures_in_a_row", r->failures);
	jw_key(w, "last_error");
	jw_str(w, r->last_error[0] ? r->last_error : NULL);
	jw_key(w, "cursor");
	jw_str(w, r->cursor[0] ? r->cursor : NULL);
	jw_end(w);
	jw_end(w);
	return 0;
}

void h_feeds(struct call *c)
{
	if (!api_require_scope(c, SCOPE_ADMIN))
		return;
	struct buf b = BUF_INIT;
	struct jw w;
	jw_init(&w, &b);
	jw_obj(&w);
	jw_key(&w, "data");
	jw_arr(&w);
	struct err e = { 0 };
	if (store_feed_def_list(c->w->store, NULL, feed_json, &w, &e) != 0) {
		buf_cleanup(&b);
		log_error("%s: %s", c->request_id, e.msg);
		api_error(c, 500, "internal_error", NULL, "The request could not be completed.");
		return;
	}
	jw_end(&w);
	jw_end(&w);
	api_json(c, 200, &b);
}
