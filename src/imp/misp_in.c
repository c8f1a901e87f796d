/*
 * misp_in.c — `cairn import --format misp`: MISP events into indicator records.
 *
 * Shapes read: {"Event": {…}} (a MISP feed's event file, the /events/view answer),
 * {"response": [{"Event": …}, …]} (a restSearch answer), a bare event object, and a JSON
 * array of any of these.
 *
 * Why three tokenizers over the same bytes: MISP writes an event's Tag and Galaxy lists
 * (TLP, ATT&CK, labels) after its Attribute and Object lists, and an object's comment may
 * follow its attributes, yet every record needs them. Holding an event until its end would
 * cost memory in proportion to its size. Instead a look-ahead tokenizer (input_again() of
 * the same input) reads each event whole before the main tokenizer walks it, keeping only
 * the event's own fields; a second one does the same for each MISP object. All three read
 * forward only, so memory is constant whatever the size of the file or of one event, and an
 * event is checked to its end (JSON syntax and MISP shape) before any of its records is
 * stored: a malformed event stops the import before it imports anything of it.
 *
 * The type table is in misp_types.c; docs/misp.md describes the mapping.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/xmalloc.h"
#include "imp/importer_int.h"
#include "imp/jpull.h"
#include "imp/misp.h"
#include "imp/misp_int.h"

static int next(struct jpull *p, struct err *e)
{
	return jpull_next(p, e);
}

enum { K_TYPE = 1, K_VALUE = 2, K_TO_IDS = 4, K_DELETED = 8, K_FIRST = 16, K_LAST = 32, K_COMMENT = 64 };

struct attr {
	unsigned seen;
	const char *bad;		/* why it cannot be read, or NULL */
	char type[SMALL];
	char value[VALUE_CAP + 1];
	size_t vlen;
	char comment[IOC_CONTEXT_MAX + 1];
	char first_seen[SMALL], last_seen[SMALL];
	int to_ids;			/* -1 not given */
	bool deleted;
	struct tagset ts;
};

struct misp_run {
	struct run *run;
	struct jpull *p;		/* the main tokenizer: walks and stores */
	struct jpull *ev, *ob;		/* look ahead at each event, each MISP object */
	struct input *ev_in, *ob_in;
	struct event_meta em;
	struct object_meta om;
	struct attr a;
	/* The event's strings in the batch arena, for the records of this batch. */
	bool copied;
	uint64_t copied_batch;
	const char *c_info, *c_org, *c_link;
	const char *c_tags[IOC_MAX_TAGS];
	const char *c_tech[IOC_MAX_TECHNIQUES];
};

/* ---- records ---- */

/* The event's strings, in the arena of the batch being filled. */
static void event_copies(struct misp_run *m)
{
	struct run *run = m->run;
	if (m->copied && m->copied_batch == run->flushes)
		return;
	struct arena *ar = &run->ar;
	struct event_meta *em = &m->em;
	m->c_info = em->info[0] ? arena_strdup(ar, em->info) : NULL;
	m->c_org = em->org[0] ? arena_strdup(ar, em->org) : NULL;
	m->c_link = em->link[0] ? arena_strdup(ar, em->link) : NULL;
	for (size_t i = 0; i < em->ts.ntags; i++)
		m->c_tags[i] = arena_strdup(ar, em->ts.tags[i]);
	for (size_t i = 0; i < em->ts.ntech; i++)
		m->c_tech[i] = arena_strdup(ar, em->ts.tech[i].id);
	m->copied = true;
	m->copied_batch = run->flushes;
}

static void add_tag(struct ioc_input *in, const char *t)
{
	for (size_t i = 0; i < in->ntags; i++)
		if (!strcmp(in->tags[i], t))
			return;
	if (in->ntags < IOC_MAX_TAGS)
		in->tags[in->ntags++] = t;
}

static void add_technique(struct ioc_input *in, const char *t)
{
	for (size_t i = 0; i < in->ntechniques; i++)
		if (!strcmp(in->techniques[i], t))
			return;
	if (in->ntechniques < IOC_MAX_TECHNIQUES)
		in->techniques[in->ntechniques++] = t;
}

/* What every record of the event shares; a (the attribute) may be NULL. */
static void event_fields(struct misp_run *m, struct ioc_input *in, const struct attr *a,
			 const struct object_meta *om)
{
	struct run *run = m->run;
	struct arena *ar = &run->ar;
	event_copies(m);
	if (m->c_org && !run->o->feed_given)
		in->feed = m->c_org;
	if (m->c_link)
		in->reference_url = m->c_link;
	if (a && a->comment[0])
		in->context = arena_strdup(ar, a->comment);
	else if (om && om->comment[0])
		in->context = arena_strdup(ar, om->comment);
	else
		in->context = m->c_info;
	if (a) {
		for (size_t i = 0; i < a->ts.ntags; i++)
			add_tag(in, arena_strdup(ar, a->ts.tags[i]));
		for (size_t i = 0; i < a->ts.ntech; i++)
			add_technique(in, arena_strdup(ar, a->ts.tech[i].id));
	}
	for (size_t i = 0; i < m->em.ts.ntags; i++)
		add_tag(in, m->c_tags[i]);
	for (size_t i = 0; i < m->em.ts.ntech; i++)
		add_technique(in, m->c_tech[i]);
	if (a && a->ts.tlp)
		in->tlp = a->ts.tlp;
	else if (m->em.ts.tlp)
		in->tlp = m->em.ts.tlp;
	in->first_seen = m->em.date;
}

static int attr_time(const char *s, const char *o, int64_t *out, const char *what, char *why, size_t cap)
{
	const char *t = s[0] ? s : o ? o : "";
	if (!t[0])
		return 0;
	struct err te;
	if (imp_parse_time(t, strlen(t), out, &te) == 0)
		return 0;
	snprintf(why, cap, "%s '%.40s' is not a date", what, t);
	return -1;
}

/* Turns the attribute just read into records. */
static int attribute_records(struct misp_run *m, const struct object_meta *om, size_t line, struct err *e)
{
	struct run *run = m->run;
	struct import_result *r = run->r;
	struct attr *a = &m->a;
	char why[400];
	r->attributes++;
	if (om)
		r->object_attributes++;
	if (a->bad) {
		reject(run, line, a->bad);
		return 0;
	}
	if (!(a->seen & K_TYPE) || !a->type[0]) {
		reject(run, line, "the attribute has no 'type'");
		return 0;
	}
	if (a->deleted || (om && om->deleted)) {
		r->deleted++;
		r->skipped++;
		return 0;
	}
	if (!(a->seen & K_VALUE)) {
		snprintf(why, sizeof(why), "the %s attribute has no 'value'", a->type);
		reject(run, line, why);
		return 0;
	}
	struct misp_part parts[2];
	bool meaningful;
	struct err ve = { 0 };
	int n = misp_attribute_parts(a->type, a->value, a->vlen, parts, &meaningful, &ve);
	if (n < 0) {
		reject(run, line, ve.msg);
		return 0;
	}
	if (n == 0) {
		r->unsupported++;
		r->skipped++;
		return 0;
	}
	int64_t first = 0, last = 0;
	if (attr_time(a->first_seen, om ? om->first_seen : NULL, &first, "first_seen", why, sizeof(why)) ||
	    attr_time(a->last_seen, om ? om->last_seen : NULL, &last, "last_seen", why, sizeof(why))) {
		for (int i = 0; i < n; i++)
			reject(run, line, why);
		return 0;
	}
	for (int i = 0; i < n; i++) {
		struct ioc_input *in = slot(run);
		in->type = IOC_NONE;
		int rc = imp_set_value(in, parts[i].p, parts[i].len, parts[i].type, &run->ar, &ve);
		if (rc == 0 && parts[i].any_ip && in->type != IOC_IPV4 && in->type != IOC_IPV6) {
			rc = ERR_INVALID;
			snprintf(ve.msg, sizeof(ve.msg), "'%.64s' is not an IP address", in->value);
		}
		if (rc != 0) {
			snprintf(why, sizeof(why), "%s: %s", a->type, ve.msg);
			reject(run, line, why);
			continue;
		}
		event_fields(m, in, a, om);
		if (first)
			in->first_seen = first;
		in->last_seen = last;
		if (in->last_seen && in->first_seen > in->last_seen)
			in->first_seen = in->last_seen;
		/* to_ids false: context, not for detection. Kept for lookups, in the low band, so
		 * block-lists that ask for medium or high confidence leave it out. */
		int low = ioc_score_from_band("low");
		if (meaningful && a->to_ids == 0 && (in->score < 0 || in->score > low))
			in->score = low;
		if ((rc = accept_input(run, e)) != 0)
			return rc;
	}
	return 0;
}

static int flag_value(struct jpull *p, int tok)
{
	if (tok == JP_TRUE)
		return 1;
	if (tok == JP_FALSE || tok == JP_NULL)
		return 0;
	if (tok == JP_NUM || tok == JP_STR) {
		if (misp_key_is(p, "1") || misp_key_is(p, "true") || misp_key_is(p, "True"))
			return 1;
		if (misp_key_is(p, "0") || misp_key_is(p, "false") || misp_key_is(p, "False") || misp_key_is(p, ""))
			return 0;
	}
	return -1;
}

/* An attribute object; the main tokenizer has just read its '{'. */
static int attribute(struct misp_run *m, const struct object_meta *om, struct err *e)
{
	struct jpull *p = m->p;
	struct attr *a = &m->a;
	size_t line = jpull_line(p);
	int tok;
	a->seen = 0;
	a->bad = NULL;
	a->type[0] = a->value[0] = a->comment[0] = a->first_seen[0] = a->last_seen[0] = '\0';
	a->vlen = 0;
	a->to_ids = -1;
	a->deleted = false;
	misp_tagset_clear(&a->ts);
	while ((tok = next(p, e)) == JP_KEY) {
		static const struct {
			const char *name;
			unsigned bit;
		} keys[] = { { "type", K_TYPE }, { "value", K_VALUE }, { "to_ids", K_TO_IDS },
			     { "deleted", K_DELETED }, { "first_seen", K_FIRST }, { "last_seen", K_LAST },
			     { "comment", K_COMMENT } };
		unsigned bit = 0;
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (misp_key_is(p, keys[i].name))
				bit = keys[i].bit;
		bool tags = misp_key_is(p, "Tag"), galaxies = misp_key_is(p, "Galaxy");
		if (bit && (a->seen & bit) && !a->bad)
			a->bad = "the attribute has a key twice";
		a->seen |= bit;
		if ((tok = next(p, e)) < 0)
			return tok;
		switch (bit) {
		case K_TYPE:
			if (tok != JP_STR || !misp_copy_text(p, a->type, sizeof(a->type)))
				a->bad = a->bad ? a->bad : "the attribute's 'type' is not a MISP type name";
			break;
		case K_VALUE:
			if (tok == JP_STR || tok == JP_NUM) {
				const char *t = jpull_text(p, &a->vlen);
				if (jpull_truncated(p))
					a->bad = a->bad ? a->bad : "the attribute's value is longer than 16 KiB";
				else
					memcpy(a->value, t, a->vlen + 1);
			} else if (tok != JP_NULL) {
				a->bad = a->bad ? a->bad : "the attribute's 'value' is not a string";
			} else {
				a->seen &= ~(unsigned)K_VALUE;
			}
			break;
		case K_TO_IDS:
		case K_DELETED: {
			int f = flag_value(p, tok);
			if (f < 0)
				a->bad = a->bad ? a->bad : bit == K_TO_IDS ? "the attribute's 'to_ids' is not a boolean"
								     : "the attribute's 'deleted' is not a boolean";
			else if (bit == K_TO_IDS)
				a->to_ids = f;
			else
				a->deleted = f;
			break;
		}
		case K_FIRST:
		case K_LAST:
			if (tok == JP_STR || tok == JP_NUM)
				misp_copy_text(p, bit == K_FIRST ? a->first_seen : a->last_seen, SMALL);
			break;
		case K_COMMENT:
			if (tok == JP_STR)
				misp_copy_text(p, a->comment, sizeof(a->comment));
			break;
		default:
			if ((tags || galaxies) && tok == JP_ARR) {
				if ((tok = (tags ? misp_read_tags : misp_read_galaxies)(p, &a->ts, e)) < 0)
					return tok;
				continue;
			}
			break;
		}
		if ((tok = misp_skip(p, tok, e)) < 0)
			return tok;
	}
	if (tok < 0)
		return tok;
	return attribute_records(m, om, line, e);
}

/* An "Attribute" array's elements (the main tokenizer is after its '['). */
static int attributes(struct misp_run *m, const struct object_meta *om, struct err *e)
{
	struct jpull *p = m->p;
	int tok;
	while ((tok = next(p, e)) != JP_ARR_END) {
		if (tok < 0)
			return tok;
		if (tok == JP_OBJ) {
			if ((tok = attribute(m, om, e)) < 0)
				return tok;
			continue;
		}
		m->run->r->attributes++;
		reject(m->run, jpull_line(p), "an attribute that is not a JSON object");
		if ((tok = misp_skip(p, tok, e)) < 0)
			return tok;
	}
	return 0;
}

/* A MISP object; the main tokenizer has just read its '{'. */
static int misp_object(struct misp_run *m, struct err *e)
{
	struct jpull *p = m->p;
	int tok;
	if ((tok = misp_scan_object(m->ob, jpull_offset(p), &m->om, e)) < 0)
		return tok;
	m->run->r->misp_objects++;
	while ((tok = next(p, e)) == JP_KEY) {
		bool attrs = misp_key_is(p, "Attribute");
		if ((tok = next(p, e)) < 0)
			return tok;
		if (attrs && tok == JP_ARR) {
			if ((tok = attributes(m, &m->om, e)) < 0)
				return tok;
			continue;
		}
		if ((tok = misp_skip(p, tok, e)) < 0)
			return tok;
	}
	return tok < 0 ? tok : 0;
}

/* The event's ATT&CK galaxy clusters: a record for each technique (its context the cluster
 * value "Name - T1234" that names it, else the event's info). */
static int galaxy_records(struct misp_run *m, struct err *e)
{
	struct run *run = m->run;
	for (size_t i = 0; i < m->em.ts.ntech; i++) {
		const struct technique *t = &m->em.ts.tech[i];
		struct ioc_input *in = slot(run);
		struct err ve = { 0 };
		in->type = IOC_NONE;
		if (imp_set_value(in, t->id, strlen(t->id), IOC_MITRE, &run->ar, &ve) != 0)
			continue;	/* cannot happen: the id was canonical when kept */
		event_fields(m, in, NULL, NULL);
		in->ntechniques = 0;
		if (t->value[0])
			in->context = arena_strdup(&run->ar, t->value);
		run->r->galaxies++;
		int rc = accept_input(run, e);
		if (rc)
			return rc;
	}
	return 0;
}

/*
 * An event object. The main tokenizer has read its '{' (at offset `at`), and, when
 * key_pending, its first key too (a bare event, told from a wrapper by that key).
 */
static int event(struct misp_run *m, uint64_t at, size_t line, bool key_pending, struct err *e)
{
	struct jpull *p = m->p;
	int tok;
	if ((tok = misp_scan_event(m->ev, at, &m->em, e)) < 0)
		return tok;
	if (!m->em.event_like) {
		e->offset = line;
		return err_set(e, ERR_INVALID,
			       "line %zu: not a MISP event (no Attribute, Object or info; a MISP file holds "
			       "{\"Event\": …}, {\"response\": […]}, bare events or a list of them)", line);
	}
	m->run->r->events++;
	m->copied = false;
	for (;;) {
		if (!key_pending) {
			tok = next(p, e);
			if (tok < 0)
				return tok;
			if (tok == JP_OBJ_END)
				break;
		}
		key_pending = false;
		enum { OTHER, ATTRIBUTE, OBJECT } k = misp_key_is(p, "Attribute") ? ATTRIBUTE
						      : misp_key_is(p, "Object") ? OBJECT : OTHER;
		if ((tok = next(p, e)) < 0)
			return tok;
		if (k == ATTRIBUTE && tok == JP_ARR) {
			if ((tok = attributes(m, NULL, e)) < 0)
				return tok;
			continue;
		}
		if (k == OBJECT && tok == JP_ARR) {
			while ((tok = next(p, e)) != JP_ARR_END) {
				if (tok < 0)
					return tok;
				if (tok == JP_OBJ) {
					if ((tok = misp_object(m, e)) < 0)
						return tok;
					continue;
				}
				m->run->r->attributes++;
				reject(m->run, jpull_line(p), "a MISP object that is not a JSON object");
				if ((tok = misp_skip(p, tok, e)) < 0)
					return tok;
			}
			continue;
		}
		if ((tok = misp_skip(p, tok, e)) < 0)
			return tok;
	}
	return galaxy_records(m, e);
}

/* An object that is an event or holds one; the main tokenizer has just read its '{'. */
static int element(struct misp_run *m, bool top, struct err *e)
{
	struct jpull *p = m->p;
	uint64_t at = jpull_offset(p);
	size_t line = jpull_line(p);
	int tok = next(p, e);
	if (tok < 0)
		return tok;
	if (tok == JP_OBJ_END) {
		e->offset = line;
		return err_set(e, ERR_INVALID, "line %zu: an empty object is not a MISP event", line);
	}
	bool wrapper = misp_key_is(p, "Event"), response = top && misp_key_is(p, "response");
	if (!wrapper && !response)
		return event(m, at, line, true, e);
	for (;;) {
		if ((tok = next(p, e)) < 0)
			return tok;
		if (wrapper && tok == JP_OBJ) {
			if ((tok = event(m, jpull_offset(p), jpull_line(p), false, e)) < 0)
				return tok;
		} else if (response && (tok == JP_ARR || tok == JP_OBJ)) {
			if (tok == JP_OBJ) {
				if ((tok = element(m, false, e)) < 0)
					return tok;
			} else {
				while ((tok = next(p, e)) != JP_ARR_END) {
					if (tok < 0)
						return tok;
					if (tok != JP_OBJ)
						return misp_shape_error(p, e, "'response' holds something that is not an event");
					if ((tok = element(m, false, e)) < 0)
						return tok;
				}
			}
		} else if (wrapper || response) {
			return misp_shape_error(p, e, wrapper ? "'Event' is not an object" : "'response' is not a list of events");
		} else if ((tok = misp_skip(p, tok, e)) < 0) {
			return tok;	/* what else the wrapper holds */
		}
		wrapper = response = false;
		tok = next(p, e);
		if (tok < 0)
			return tok;
		if (tok == JP_OBJ_END)
			return 0;
		wrapper = misp_key_is(p, "Event");
		response = top && misp_key_is(p, "response");
	}
}

int import_misp_run(struct run *run, struct err *e)
{
	struct misp_run *m = xcalloc(1, sizeof(*m));
	int rc = 0, tok;
	m->run = run;
	if (run->o->defaults.type != IOC_NONE) {
		rc = err_set(e, ERR_INVALID, "--type does not apply to MISP events: each attribute has its type");
		goto out;
	}
	if ((rc = input_keep(run->in, e)) != 0)
		goto out;
	m->ev_in = input_again(run->in, e);
	m->ob_in = m->ev_in ? input_again(run->in, e) : NULL;
	if (m->ob_in == NULL) {
		rc = ERR_IO;
		goto out;
	}
	m->p = jpull_new(run->in, VALUE_CAP);
	m->ev = jpull_new(m->ev_in, META_CAP);
	m->ob = jpull_new(m->ob_in, META_CAP);
	tok = next(m->p, e);
	if (tok == JP_OBJ) {
		tok = element(m, true, e);
	} else if (tok == JP_ARR) {
		while ((tok = next(m->p, e)) != JP_ARR_END) {
			if (tok < 0)
				break;
			if (tok != JP_OBJ) {
				tok = misp_shape_error(m->p, e, "a list of MISP events holds something that is not an object");
				break;
			}
			if ((tok = element(m, false, e)) < 0)
				break;
		}
	} else if (tok >= 0) {
		tok = misp_shape_error(m->p, e, "a MISP file is a JSON object ({\"Event\": …}, {\"response\": […]} or"
					   " an event) or a list of them");
	}
	if (tok >= 0)
		tok = next(m->p, e);	/* nothing after the value */
	rc = tok < 0 ? tok : 0;
out:
	jpull_free(m->p);
	jpull_free(m->ev);
	jpull_free(m->ob);
	input_close(m->ev_in);
	input_close(m->ob_in);
	free(m);
	return rc;
}
