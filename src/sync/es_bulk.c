/*
 * The `_bulk` API's action lines and per-item verdicts (see es_bulk.h).
 */
#include "sync/es_bulk.h"

#include <jansson.h>
#include <string.h>

#include "json/jw.h"

void es_bulk_action(struct buf *b, enum es_op op, const char *index, const char *id, int64_t version)
{
	static const char *const names[] = { "create", "index", "delete" };
	buf_printf(b, "{\"%s\":{\"_index\":\"", names[op]);
	json_escape(b, index, strlen(index));
	buf_putc(b, '"');
	if (id) {
		buf_puts(b, ",\"_id\":\"");
		json_escape(b, id, strlen(id));
		buf_putc(b, '"');
	}
	if (op != ES_OP_CREATE) {
		/* A STIX time before 1970 is a negative µs count; versions start at 0. */
		buf_printf(b, ",\"version\":%lld,\"version_type\":\"external_gte\"",
			   (long long)(version > 0 ? version : 0));
	}
	buf_puts(b, "}}\n");
}

enum es_verdict es_bulk_judge(enum es_op op, long status, const char *error_type)
{
	if (status >= 200 && status < 300)
		return ES_DONE;
	/* A conflict is the only answer that says the document's version is already there: on
	 * create, this very document (its id is deterministic); on the latest index, this or a
	 * newer version. Any other 409 is a refusal. */
	if (status == 409 && (error_type == NULL || !strcmp(error_type, "version_conflict_engine_exception")))
		return ES_DONE;
	/* Deleting what is not there (never indexed, or expired and swept already). */
	if (status == 404 && op == ES_OP_EXPIRE)
		return ES_DONE;
	/* Busy (a full write queue: es_rejected_execution_exception; a flood-stage disk block),
	 * or the shard is unavailable for now. */
	if (status == 429 || status == 408 || status >= 500)
		return ES_RETRY;
	return ES_REFUSED;
}

int es_bulk_read(const char *body, size_t len, size_t n, es_item_cb cb, void *ctx, struct err *e)
{
	json_error_t je;
	json_t *root = json_loadb(body, len, 0, &je);
	json_t *items = root ? json_object_get(root, "items") : NULL;
	int rc = 0;
	if (!json_is_array(items)) {
		rc = err_set(e, ERR_INVALID, "the _bulk answer is not a bulk response%s%s", root ? "" : ": ",
			     root ? "" : je.text);
		goto out;
	}
	if (json_array_size(items) != n) {
		rc = err_set(e, ERR_INVALID, "the _bulk answer holds %zu items for the %zu sent",
			     json_array_size(items), n);
		goto out;
	}
	/* Read every item before calling back, so a malformed one leaves nothing half taken. */
	for (size_t i = 0; i < n; i++) {
		json_t *it = json_array_get(items, i), *res = NULL;
		const char *op;
		json_t *v;
		if (json_is_object(it) && json_object_size(it) == 1)
			json_object_foreach(it, op, v) res = v;
		if (!json_is_object(res) || !json_is_integer(json_object_get(res, "status"))) {
			rc = err_set(e, ERR_INVALID, "item %zu of the _bulk answer has no status", i);
			goto out;
		}
	}
	for (size_t i = 0; i < n; i++) {
		json_t *it = json_array_get(items, i), *res = NULL;
		const char *op;
		json_t *v;
		json_object_foreach(it, op, v) res = v;
		json_t *err = json_object_get(res, "error");
		const char *type = NULL, *reason = NULL;
		if (json_is_object(err)) {
			type = json_string_value(json_object_get(err, "type"));
			reason = json_string_value(json_object_get(err, "reason"));
		} else if (json_is_string(err)) {
			reason = json_string_value(err);
		}
		cb(ctx, i, (long)json_integer_value(json_object_get(res, "status")), type, reason);
	}
out:
	json_decref(root);
	return rc;
}

int es_index_name_valid(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > 255 || !strcmp(name, ".") || !strcmp(name, "..") || strchr("-_+", name[0]))
		return 0;
	for (const char *p = name; *p; p++)
		if ((*p >= 'A' && *p <= 'Z') || strchr("\\/*?\"<>|,#: ", *p) || (unsigned char)*p < 0x20)
			return 0;
	return 1;
}
