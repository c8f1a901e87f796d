/*
 * allow_db.h — allow-lists as the database keeps them (store.h): building the matcher of
 * the enabled lists, and bringing the records in line with the lists (the suppression
 * passes). Every process (the server's workers, `cairn import`, `cairn allowlist`) builds
 * its matcher from the same rows, so they agree; the generation tells them when to rebuild.
 *
 * Errors: 0 or a negative ERR_* with the reason in e.
 */
#ifndef CAIRN_ALLOW_DB_H
#define CAIRN_ALLOW_DB_H

#include "allow/allow.h"
#include "store/store.h"

/*
 * Builds the matcher of every enabled list. *out gets a new set (one reference) labelled
 * with the generation read before the lists, so a change that lands meanwhile is noticed
 * at the next check. A stored list that no longer reads (it was checked when added) is
 * left out with a warning in the log.
 */
int allow_db_load(struct store *s, struct allow_set **out, struct err *e) CAIRN_MUST_USE;

struct allow_db_report {
	int lists;			/* lists whose pass ran */
	int64_t hidden, restored;	/* records suppressed, records published again */
};

/*
 * Runs the pass of every list marked pending (store.h): suppresses the records a new or
 * enabled list matches, re-checks those of a disabled or removed list (and deletes the
 * removed one). pre, when not NULL, is a set holding exactly list pre_id, already built
 * by the caller, used for that list's pass instead of reading it again. rep may be NULL.
 */
int allow_db_settle(struct store *s, const struct allow_set *pre, int64_t pre_id, struct allow_db_report *rep,
		    struct err *e) CAIRN_MUST_USE;

/* Builds the set of one stored list row (its body, or the built-in entries). */
int allow_db_add_row(struct allow_set *set, const struct allowlist_row *r, struct allow_list_info *info,
		     struct err *e) CAIRN_MUST_USE;

#endif
