/*
 * Reading STIX: a bundle, a single object, an array of objects or NDJSON, streamed one
 * object at a time (imp/jstream). Every valid object is kept in the object store, every
 * version by `modified`; STIX 2.0 objects are upgraded to 2.1 first. Indicators whose
 * pattern is simple (stix/pattern.h) become indicator records, as do CVE vulnerabilities
 * and ATT&CK attack-patterns; other patterns stay objects only and are counted as
 * composite. An invalid object is rejected with its index and id; the rest goes on.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/crypto.h"
#include "base/timeutil.h"
#include "imp/importer_int.h"
#include "imp/jstream.h"
#include "imp/record_in.h"
#include "stix/pattern.h"

#define OBJ_BATCH 25000
#define IDENTITIES_MAX 4096

struct identity {
	char id[UUID_STR_LEN + 16];
	const char *name;
};

struct stix_run {
	struct run *run;
	struct object_input objs[OBJ_BATCH];
	size_t nobjs;
	struct arena obj_ar;	/* the JSON of objects waiting to be stored */
	struct arena id_ar;	/* identity names, for the whole import */
	struct identity *ids;
	size_t nids;
	size_t index;		/* of the current object, 0-based */
	bool queued;		/* the current object was taken for storing */
	char why[200];		/* why the current object was refused */
};

/* The cyber-observable types: they carry no created/modified. */
static bool is_sco(const char *t)
{
	static const char *const sco[] = {
		"artifact", "autonomous-system", "directory", "domain-name", "email-addr", "email-message",
		"file", "ipv4-addr", "ipv6-addr", "mac-addr", "mutex", "network-traffic", "process",
		"software", "url", "user-account", "windows-registry-key", "x509-certificate",
	};
	for (size_t i = 0; i < sizeof(sco) / sizeof(sco[0]); i++)
		if (!strcmp(t, sco[i]))
			return true;
	return false;
}

/*
 * The properties STIX 2.1 requires of the object types cairn reads most, beyond the common
 * ones. NULL-terminated lists; an object of another type is checked for the common ones only.
 */
static const char *missing_required(json_t *o, const char *type)
{
	static const struct {
		const char *type;
		const char *props[6];
	} req[] = {
		{ "indicator", { "pattern", "pattern_type", "valid_from", NULL } },
		{ "malware", { "name", "is_family", NULL } },
		{ "relationship", { "relationship_type", "source_ref", "target_ref", NULL } },
		{ "sighting", { "sighting_of_ref", NULL } },
		{ "report", { "name", "published", "object_refs", NULL } },
		{ "identity", { "name", NULL } },
		{ "vulnerability", { "name", NULL } },
		{ "attack-pattern", { "name", NULL } },
		{ "campaign", { "name", NULL } },
		{ "intrusion-set", { "name", NULL } },
		{ "threat-actor", { "name", NULL } },
		{ "tool", { "name", NULL } },
		{ "course-of-action", { "name", NULL } },
		{ "infrastructure", { "name", NULL } },
		{ "grouping", { "context", "object_refs", NULL } },
		{ "note", { "content", "object_refs", NULL } },
		{ "observed-data", { "first_observed", "last_observed", "number_observed", NULL } },
	};
	for (size_t i = 0; i < sizeof(req) / sizeof(req[0]); i++) {
		if (strcmp(type, req[i].type))
			continue;
		for (const char *const *p = req[i].props; *p; p++)
			if (json_object_get(o, *p) == NULL)
				return *p;
	}
	return NULL;
}

static bool valid_type(const char *t)
{
	size_t n = strlen(t);
	if (n < 3 || n > 250 || strstr(t, "--"))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(islower((unsigned char)t[i]) || isdigit((unsigned char)t[i]) || t[i] == '-'))
			return false;
	return true;
}

static int flush_objects(struct stix_run *sr, struct err *e)
{
	if (sr->nobjs == 0)
		return 0;
	int rc = store_objects_put(sr->run->s, sr->objs, sr->nobjs, &sr->run->r->objects_added,
				   &sr->run->r->objects_unchanged, e);
	sr->nobjs = 0;
	arena_reset(&sr->obj_ar);
	return rc;
}

static const char *identity_name(struct stix_run *sr, const char *id)
{
	for (size_t i = 0; id && i < sr->nids; i++)
		if (!strcmp(sr->ids[i].id, id))
			return sr->ids[i].name;
	return NULL;
}

static void reject_obj(struct stix_run *sr, const char *id, const char *why)
{
	char msg[200];
	snprintf(msg, sizeof(msg), "object %zu%s%.80s%s: %s", sr->index, id ? " (" : "", id ? id : "",
		 id ? ")" : "", why);
	/* The line is the object's index + 1, so reports read "line N" consistently. */
	reject(sr->run, sr->index + 1, msg);
	sr->run->r->read--;	/* an object is not a value read */
	snprintf(sr->why, sizeof(sr->why), "%s", why);
}

static int64_t time_field(json_t *o, const char *k, bool *bad)
{
	json_t *v = json_object_get(o, k);
	int64_t us = 0;
	if (v == NULL)
		return 0;
	if (!json_is_string(v) || time_parse_rfc3339(json_string_value(v), json_string_length(v), &us, NULL))
		*bad = true;
	return us;
}

/* An object's own time stamp, any year (STIX allows dates before 1970). */
static int64_t stix_time(json_t *o, const char *k, bool *bad)
{
	json_t *v = json_object_get(o, k);
	int64_t us = 0;
	if (v && (!json_is_string(v) ||
		  time_parse_rfc3339_any(json_string_value(v), json_string_length(v), &us, NULL)))
		*bad = true;
	return us;
}

/* Whether s is "<type>--<UUID>" (type given, or any valid type when NULL). */
static bool is_ref(const char *s, const char *type)
{
	const char *dash = s ? strstr(s, "--") : NULL;
	if (dash == NULL || dash == s)
		return false;
	if (type && ((size_t)(dash - s) != strlen(type) || strncmp(s, type, strlen(type))))
		return false;
	return uuid_valid(dash + 2, strlen(dash + 2));
}

static bool string_list(json_t *v)
{
	size_t i;
	json_t *x;
	if (!json_is_array(v))
		return false;
	json_array_foreach(v, i, x)
		if (!json_is_string(x))
			return false;
	return true;
}

/*
 * The common properties' types and forms (STIX 2.1 part 3.2), and the property-name rule
 * (part 3.1: ASCII letters, digits and '_', 3 to 250 characters; 'id' and 'x_' included),
 * for what producers get wrong most. The reason, or NULL.
 */
static const char *common_invalid(json_t *o, const char *type)
{
	const char *k;
	json_t *v;
	json_object_foreach(o, k, v) {
		size_t n = strlen(k);
		if (n > 250 || (n < 3 && strcmp(k, "id")) ||
		    strspn(k, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != n)
			return "a property name is not 3-250 letters, digits or '_'";
	}
	if ((v = json_object_get(o, "created_by_ref")) && !is_ref(json_string_value(v), "identity"))
		return "'created_by_ref' is not an identity id";
	if ((v = json_object_get(o, "revoked")) && !json_is_boolean(v))
		return "'revoked' is not a boolean";
	if ((v = json_object_get(o, "labels")) && !string_list(v))
		return "'labels' is not a list of strings";
	if ((v = json_object_get(o, "confidence")) &&
	    (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 100))
		return "'confidence' is not an integer from 0 to 100";
	if ((v = json_object_get(o, "lang")) && !json_is_string(v))
		return "'lang' is not a string";
	if ((v = json_object_get(o, "object_marking_refs"))) {
		size_t i;
		json_t *x;
		if (!json_is_array(v))
			return "'object_marking_refs' is not a list";
		json_array_foreach(v, i, x)
			if (!is_ref(json_string_value(x), "marking-definition"))
				return "'object_marking_refs' holds something other than marking-definition ids";
	}
	if ((v = json_object_get(o, "external_references"))) {
		size_t i;
		json_t *x;
		if (!json_is_array(v))
			return "'external_references' is not a list";
		json_array_foreach(v, i, x)
			if (!json_is_object(x) || !json_is_string(json_object_get(x, "source_name")))
				return "an external reference has no 'source_name'";
	}
	if ((v = json_object_get(o, "name")) && !json_is_string(v))
		return "'name' is not a string";
	if (!strcmp(type, "malware") && (v = json_object_get(o, "is_family")) && !json_is_boolean(v))
		return "'is_family' is not a boolean";
	if (!strcmp(type, "indicator")) {
		bool bad = false;
		int64_t from = stix_time(o, "valid_from", &bad), until = stix_time(o, "valid_until", &bad);
		if (bad)
			return "'valid_from' or 'valid_until' is not an RFC 3339 timestamp";
		if (json_object_get(o, "valid_until") && json_object_get(o, "valid_from") && until <= from)
			return "'valid_until' is not after 'valid_from'";
	}
	return NULL;
}

/* The ATT&CK ids an object cites (external references), into in. */
static void techniques_of(json_t *o, struct ioc_input *in, struct arena *ar)
{
	size_t i;
	json_t *ref;
	json_array_foreach(json_object_get(o, "external_references"), i, ref) {
		const char *src = json_string_value(json_object_get(ref, "source_name"));
		const char *xid = json_string_value(json_object_get(ref, "external_id"));
		/* An id that is not ATT&CK's is simply not a technique here. */
		if (src && xid && !strcmp(src, "mitre-attack") && imp_add_technique(in, xid, strlen(xid), ar, NULL))
			continue;
	}
}

static const char *first_url(json_t *o)
{
	size_t i;
	json_t *ref;
	json_array_foreach(json_object_get(o, "external_references"), i, ref) {
		const char *src = json_string_value(json_object_get(ref, "source_name"));
		const char *url = json_string_value(json_object_get(ref, "url"));
		if (url && !(src && !strcmp(src, "mitre-attack")) && strlen(url) <= IOC_URL_FIELD_MAX)
			return url;
	}
	return NULL;
}

/* What every record projected from object o shares. */
static void common_fields(struct stix_run *sr, json_t *o, struct ioc_input *in)
{
	struct arena *ar = &sr->run->ar;
	json_t *c = json_object_get(o, "confidence");
	if (json_is_integer(c) && json_integer_value(c) >= 0 && json_integer_value(c) <= 100)
		in->score = (int)json_integer_value(c);
	const char *who = identity_name(sr, json_string_value(json_object_get(o, "created_by_ref")));
	if (who && !sr->run->o->feed_given)
		in->feed = arena_strdup(ar, who);
	const char *desc = json_string_value(json_object_get(o, "description"));
	if (desc == NULL)
		desc = json_string_value(json_object_get(o, "name"));
	if (desc && strlen(desc) <= IOC_CONTEXT_MAX)
		in->context = arena_strdup(ar, desc);
	const char *url = first_url(o);
	if (url)
		in->reference_url = arena_strdup(ar, url);
	size_t i;
	json_t *l;
	json_array_foreach(json_object_get(o, "labels"), i, l)
		if (json_is_string(l))
			imp_add_tags(in, json_string_value(l), json_string_length(l), ar);
	techniques_of(o, in, ar);
	in->revoked = json_is_true(json_object_get(o, "revoked"));
}

struct pat_ctx {
	struct stix_run *sr;
	json_t *o;
	struct err *e;
	int rc;
};

static int pattern_ioc(const struct stix_simple_ioc *x, void *ctx)
{
	struct pat_ctx *pc = ctx;
	struct run *run = pc->sr->run;
	struct ioc_input *in = slot(run);
	struct err ve = { 0 };
	int rc = imp_set_value(in, x->value, x->len, x->type, &run->ar, &ve);
	if (rc != 0 && x->type == IOC_DOMAIN) {
		/* Producers often put an address under domain-name:value: take it as the IP it is. */
		rc = imp_set_value(in, x->value, x->len, IOC_NONE, &run->ar, NULL);
		if (rc == 0 && in->type != IOC_IPV4 && in->type != IOC_IPV6)
			rc = ERR_INVALID;
	}
	if (rc != 0) {
		reject_obj(pc->sr, json_string_value(json_object_get(pc->o, "id")), ve.msg);
		run->r->read++;	/* it was a value */
		return 0;
	}
	common_fields(pc->sr, pc->o, in);
	bool bad = false;
	in->first_seen = time_field(pc->o, "valid_from", &bad);
	in->valid_until = time_field(pc->o, "valid_until", &bad);
	if (in->valid_until && in->first_seen && in->valid_until <= in->first_seen)
		in->valid_until = in->first_seen + 1000;
	pc->rc = accept_input(run, pc->e);
	return pc->rc;
}

/* Records for a vulnerability (its CVE) or an attack-pattern (its ATT&CK id). */
static int project_named(struct stix_run *sr, json_t *o, const char *source, enum ioc_type t,
			 struct err *e)
{
	size_t i;
	json_t *ref;
	json_array_foreach(json_object_get(o, "external_references"), i, ref) {
		const char *src = json_string_value(json_object_get(ref, "source_name"));
		const char *xid = json_string_value(json_object_get(ref, "external_id"));
		if (!src || !xid || strcmp(src, source))
			continue;
		struct ioc_input *in = slot(sr->run);
		if (imp_set_value(in, xid, strlen(xid), t, &sr->run->ar, NULL) != 0)
			continue;
		common_fields(sr, o, in);
		in->techniques[0] = NULL;
		in->ntechniques = 0;
		return accept_input(sr->run, e);
	}
	return 0;
}

static int one_object_21(struct stix_run *sr, json_t *o, json_t *sv, const char *as_sent, struct err *e);

static int one_object(struct stix_run *sr, json_t *o, struct err *e)
{
	struct run *run = sr->run;
	const char *type = json_string_value(json_object_get(o, "type"));
	const char *id = json_string_value(json_object_get(o, "id"));
	run->r->objects++;
	if (!json_is_object(o))
		return reject_obj(sr, NULL, "not a JSON object"), 0;
	if (type == NULL || !valid_type(type))
		return reject_obj(sr, id, "'type' is missing or not a STIX type name"), 0;
	if (!strcmp(type, "bundle"))
		return reject_obj(sr, id, "a bundle inside the objects"), 0;
	size_t tl = strlen(type);
	if (id == NULL || strncmp(id, type, tl) || strncmp(id + tl, "--", 2) ||
	    !uuid_valid(id + tl + 2, strlen(id + tl + 2)))
		return reject_obj(sr, id, "'id' is not <type>--<UUID>"), 0;
	/* STIX 2.0 objects have no spec_version: upgrade them to 2.1 as they are read. */
	json_t *sv = json_object_get(o, "spec_version");
	char *as_sent = NULL;	/* a 2.0 object kept as it came */
	if (sv == NULL && run->o->keep_spec_version)
		as_sent = json_dumps(o, JSON_COMPACT);
	int rc = one_object_21(sr, o, sv, as_sent, e);
	free(as_sent);
	return rc;
}

static int one_object_21(struct stix_run *sr, json_t *o, json_t *sv, const char *as_sent, struct err *e)
{
	struct run *run = sr->run;
	const char *type = json_string_value(json_object_get(o, "type"));
	const char *id = json_string_value(json_object_get(o, "id"));
	if (sv == NULL) {
		json_object_set_new(o, "spec_version", json_string("2.1"));
		if (!strcmp(type, "malware") && !json_object_get(o, "is_family"))
			json_object_set_new(o, "is_family", json_false());	/* required from 2.1 on */
		if (!strcmp(type, "indicator")) {
			if (!json_object_get(o, "pattern_type"))
				json_object_set_new(o, "pattern_type", json_string("stix"));
			json_t *labels = json_object_get(o, "labels");
			if (json_is_array(labels) && !json_object_get(o, "indicator_types")) {
				/* 2.0's required indicator labels are 2.1's indicator_types. */
				json_object_set(o, "indicator_types", labels);
				json_object_del(o, "labels");
			}
		}
	} else if (!json_is_string(sv) || strcmp(json_string_value(sv), "2.1")) {
		return reject_obj(sr, id, "'spec_version' is not 2.1"), 0;
	}
	bool bad = false, has_created = json_object_get(o, "created") != NULL;
	bool has_modified = json_object_get(o, "modified") != NULL;
	int64_t created = stix_time(o, "created", &bad);
	int64_t modified = stix_time(o, "modified", &bad);
	if (bad)
		return reject_obj(sr, id, "'created' or 'modified' is not an RFC 3339 timestamp"), 0;
	if (!is_sco(type)) {
		if (!has_created)
			return reject_obj(sr, id, "'created' is required"), 0;
		if (!has_modified && strcmp(type, "marking-definition"))
			return reject_obj(sr, id, "'modified' is required"), 0;
		if (has_modified && modified < created)
			return reject_obj(sr, id, "'modified' is before 'created'"), 0;
	}
	const char *broken = common_invalid(o, type);
	if (broken)
		return reject_obj(sr, id, broken), 0;
	const char *missing = missing_required(o, type);
	if (missing) {
		char why[96];
		snprintf(why, sizeof(why), "%s %s needs '%s'", strchr("aeiou", type[0]) ? "an" : "a", type, missing);
		return reject_obj(sr, id, why), 0;
	}
	if (!strcmp(type, "identity") && sr->nids < IDENTITIES_MAX) {
		const char *name = json_string_value(json_object_get(o, "name"));
		if (name && strlen(name) <= IOC_FEED_MAX) {
			snprintf(sr->ids[sr->nids].id, sizeof(sr->ids[0].id), "%s", id);
			sr->ids[sr->nids++].name = arena_strdup(&sr->id_ar, name);
		}
	}
	/* The projection first: a pattern that does not parse makes the object invalid. */
	int rc = 0;
	int64_t suppressed0 = run->r->suppressed, kept0 = run->kept;
	if (!strcmp(type, "indicator")) {
		const char *pt = json_string_value(json_object_get(o, "pattern_type"));
		const char *pat = json_string_value(json_object_get(o, "pattern"));
		if (pat == NULL)
			return reject_obj(sr, id, "an indicator needs a 'pattern'"), 0;
		if (pt == NULL || !strcmp(pt, "stix")) {
			struct stix_pattern *p;
			struct err pe = { 0 };
			if (stix_pattern_parse(pat, strlen(pat), &p, &pe) != 0) {
				char why[200];
				snprintf(why, sizeof(why), "pattern: %.180s", pe.msg);
				return reject_obj(sr, id, why), 0;
			}
			struct pat_ctx pc = { sr, o, e, 0 };
			if (stix_pattern_simple(p, pattern_ioc, &pc, NULL) == STIX_COMPOSITE)
				run->r->composite++;
			rc = pc.rc;
			stix_pattern_free(p);
		} else {
			run->r->composite++;	/* sigma, yara, …: kept as an object */
		}
	} else if (!strcmp(type, "vulnerability")) {
		rc = project_named(sr, o, "cve", IOC_CVE, e);
	} else if (!strcmp(type, "attack-pattern")) {
		rc = project_named(sr, o, "mitre-attack", IOC_MITRE, e);
	}
	if (rc)
		return rc;
	/* Every value it names is on an allow-list: the object is not kept either. */
	if (run->r->suppressed > suppressed0 && run->kept == kept0) {
		snprintf(sr->why, sizeof(sr->why), "every value it names is on an allow-list");
		return 0;
	}

	char *json = as_sent ? strdup(as_sent) : json_dumps(o, JSON_COMPACT);
	if (json == NULL)
		return reject_obj(sr, id, "cannot be serialised"), 0;
	struct object_input *oi = &sr->objs[sr->nobjs++];
	size_t jl = strlen(json);
	oi->json = arena_strndup(&sr->obj_ar, json, jl);
	oi->json_len = jl;
	free(json);
	oi->stix_id = arena_strdup(&sr->obj_ar, id);
	oi->type = arena_strdup(&sr->obj_ar, type);
	oi->spec_version = as_sent ? "2.0" : "2.1";
	oi->modified = has_modified ? modified : created;
	oi->versioned = has_modified || has_created;
	oi->revoked = json_is_true(json_object_get(o, "revoked"));
	sr->queued = true;
	if (sr->nobjs == OBJ_BATCH)
		return flush_objects(sr, e);
	return 0;
}

int import_stix_run(struct run *run, struct err *e)
{
	struct stix_run *sr = calloc(1, sizeof(*sr));
	if (sr == NULL)
		return err_set(e, ERR_INTERNAL, "out of memory");
	sr->run = run;
	sr->ids = calloc(IDENTITIES_MAX, sizeof(*sr->ids));
	arena_init(&sr->obj_ar);
	arena_init(&sr->id_ar);
	struct jstream *js = jstream_new(run->in);
	if (run->ndjson)
		jstream_lines(js);
	const char *elem;
	size_t len;
	int rc;
	for (;;) {
		rc = jstream_next(js, &elem, &len, e);
		if (rc == ERR_TOO_LARGE && run->ndjson) {
			reject(run, e->offset, "object larger than 4 MiB");
			run->r->read--;
			sr->index++;
			continue;
		}
		if (rc != 1)
			break;
		json_error_t je;
		json_t *o = json_loadb(elem, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
		sr->queued = false;
		sr->why[0] = '\0';
		rc = 0;
		if (o == NULL) {
			char why[200];
			snprintf(why, sizeof(why), "not valid JSON: %s", je.text);
			run->r->objects++;
			reject_obj(sr, NULL, why);
		} else {
			rc = one_object(sr, o, e);
		}
		if (rc == 0 && run->o->on_object) {
			json_t *v = json_object_get(o, "modified");
			if (v == NULL)
				v = json_object_get(o, "created");
			run->o->on_object(run->o->object_ctx, json_string_value(json_object_get(o, "id")),
					  json_string_value(v), sr->queued ? NULL : sr->why);
		}
		json_decref(o);
		if (rc)
			break;
		sr->index++;
	}
	if (rc == 0)
		rc = flush_objects(sr, e);
	jstream_free(js);
	arena_cleanup(&sr->obj_ar);
	arena_cleanup(&sr->id_ar);
	free(sr->ids);
	free(sr);
	return rc < 0 ? rc : 0;
}
