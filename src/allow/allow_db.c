/*
 * Allow-lists from the database (allow_db.h).
 */
#include "allow/allow_db.h"

#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/xmalloc.h"

int allow_db_add_row(struct allow_set *set, const struct allowlist_row *r, struct allow_list_info *info,
		     struct err *e)
{
	if (!strcmp(r->format, "builtin"))
		return allow_set_add_builtin(set, r->name, r->id, info, e);
	return allow_set_add_list(set, r->name, r->id, r->body ? r->body : "", r->body ? r->body_len : 0, info, e);
}

static int load_row(void *ctx, const struct allowlist_row *r)
{
	struct allow_set *set = ctx;
	if (!r->enabled || r->removing)
		return 0;
	struct err e = { 0 };
	if (allow_db_add_row(set, r, NULL, &e) != 0)
		log_warn("allow-list '%s' left out: %s", r->name, e.msg);
	return 0;
}

int allow_db_load(struct store *s, struct allow_set **out, struct err *e)
{
	int64_t gen = store_allow_gen(s);
	struct allow_set *set = allow_set_new();
	int rc = store_allow_list(s, NULL, true, load_row, set, e);
	if (rc) {
		allow_set_unref(set);
		*out = NULL;
		return rc;
	}
	allow_set_freeze(set);
	allow_set_set_generation(set, gen);
	*out = set;
	return 0;
}

/* A pending list, copied out of the listing (its row is gone once the callback returns). */
struct pending {
	int64_t id, changed_at;
	int mode;
	bool enabled;
	char *name, *format;
};

struct pendings {
	struct pending *v;
	size_t n, cap;
};

static int collect(void *ctx, const struct allowlist_row *r)
{
	struct pendings *p = ctx;
	if (r->pending == 0)
		return 0;
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 8;
		p->v = xrealloc(p->v, p->cap * sizeof(*p->v));
	}
	struct pending *x = &p->v[p->n++];
	x->id = r->id;
	x->changed_at = r->changed_at;
	x->mode = r->pending;
	x->enabled = r->enabled && !r->removing;
	x->name = xstrdup(r->name);
	x->format = xstrdup(r->format);
	return 0;
}

static int64_t test_set(void *ctx, enum ioc_type t, const char *value)
{
	const struct allow_set *set = ctx;
	struct allow_hit hit;
	if (!allow_match(set, t, value, strlen(value), &hit))
		return 0;
	return hit.list_id;
}

/* Reads one list's text and builds its set. */
static int one_list(struct store *s, const char *name, struct allow_set **out, struct err *e)
{
	struct allow_set *set = allow_set_new();
	int rc = store_allow_list(s, name, true, load_row, set, e);
	if (rc) {
		allow_set_unref(set);
		return rc;
	}
	allow_set_freeze(set);
	*out = set;
	return 0;
}

int allow_db_settle(struct store *s, const struct allow_set *pre, int64_t pre_id, struct allow_db_report *rep,
		    struct err *e)
{
	struct pendings p = { 0 };
	struct allow_db_report local = { 0 };
	size_t nbuiltin;
	allow_builtin(&nbuiltin);
	int rc = store_allow_set_entries(s, ALLOW_BUILTIN_ID, (int64_t)nbuiltin, e);
	if (rc == 0)
		rc = store_allow_list(s, NULL, false, collect, &p, e);
	/* Re-checks first: records of a list going away may pass to a list being added. */
	for (int round = 0; round < 2 && rc == 0; round++) {
		for (size_t i = 0; i < p.n && rc == 0; i++) {
			struct pending *x = &p.v[i];
			int mode = x->mode;
			if (mode == ALLOW_PENDING_SUPPRESS && !x->enabled)
				mode = ALLOW_PENDING_RECHECK;
			if ((round == 0) != (mode == ALLOW_PENDING_RECHECK))
				continue;
			struct allow_set *set = NULL;
			const struct allow_set *use;
			if (mode == ALLOW_PENDING_RECHECK) {
				rc = allow_db_load(s, &set, e);	/* every list still enabled */
				use = set;
			} else if (pre && pre_id == x->id) {
				use = pre;
			} else {
				rc = one_list(s, x->name, &set, e);
				use = set;
			}
			int64_t hidden = 0, restored = 0;
			if (rc == 0)
				rc = store_allow_pass(s, x->id, mode, test_set, (void *)use, &hidden, &restored, e);
			allow_set_unref(set);
			if (rc == 0)
				rc = store_allow_done(s, x->id, x->changed_at, e);
			if (rc == 0) {
				local.lists++;
				local.hidden += hidden;
				local.restored += restored;
			}
		}
	}
	for (size_t i = 0; i < p.n; i++) {
		free(p.v[i].name);
		free(p.v[i].format);
	}
	free(p.v);
	if (rep) {
		rep->lists += local.lists;
		rep->hidden += local.hidden;
		rep->restored += local.restored;
	}
	return rc;
}
