/* The MISP reader's tag and galaxy readers and its look-ahead at events and objects (misp_int.h). */
#include "imp/misp_int.h"

#include <stdio.h>
#include <string.h>

#include "imp/misp.h"
#include "imp/record_in.h"

bool misp_key_is(struct jpull *p, const char *k)
{
	size_t n;
	const char *t = jpull_text(p, &n);
	return n == strlen(k) && !memcmp(t, k, n);
}

bool misp_copy_text(struct jpull *p, char *dst, size_t cap)
{
	size_t n;
	const char *t = jpull_text(p, &n);
	if (jpull_truncated(p) || n >= cap || memchr(t, '\0', n)) {
		dst[0] = '\0';
		return false;
	}
	memcpy(dst, t, n + 1);
	return true;
}

static int next(struct jpull *p, struct err *e)
{
	return jpull_next(p, e);
}

int misp_skip(struct jpull *p, int tok, struct err *e)
{
	return tok == JP_OBJ || tok == JP_ARR ? jpull_skip(p, e) : 0;
}

int misp_shape_error(struct jpull *p, struct err *e, const char *what)
{
	e->offset = jpull_line(p);
	return err_set(e, ERR_INVALID, "line %zu: %s", jpull_line(p), what);
}

int misp_tlp_rank(const char *t)
{
	static const char *const order[] = { "clear", "green", "amber", "amber+strict", "red" };
	for (int i = 0; i < 5; i++)
		if (t && !strcmp(t, order[i]))
			return i;
	return -1;
}

/* One tag name: a TLP level, an ATT&CK technique or tactic, or a label. */
void misp_tag_classify(struct tagset *ts, const char *name, size_t n)
{
	if (n == 0 || memchr(name, '\0', n))
		return;
	char id[16];
	bool named;
	const char *tlp = n <= 20 ? ioc_tlp_canon(name) : NULL;
	if (tlp) {
		if (misp_tlp_rank(tlp) > misp_tlp_rank(ts->tlp))
			ts->tlp = tlp;	/* several levels: the most restrictive holds */
		return;
	}
	if (misp_tag_attack_id(name, n, id, &named)) {
		for (size_t i = 0; i < ts->ntech; i++)
			if (!strcmp(ts->tech[i].id, id)) {
				if (named && !ts->tech[i].value[0] && n < TECH_VALUE_MAX)
					goto name_it;
				return;
			}
		if (ts->ntech == IOC_MAX_TECHNIQUES)
			return;
		struct technique *t = &ts->tech[ts->ntech++];
		memcpy(t->id, id, sizeof(t->id));
		t->value[0] = '\0';
		if (!named)
			return;
	name_it:;
		/* The quoted cluster value: "Name - T1234". */
		const char *q = memchr(name, '"', n);
		size_t vlen = q ? n - (size_t)(q - name) - 2 : 0;
		struct technique *tt = NULL;
		for (size_t i = 0; i < ts->ntech; i++)
			if (!strcmp(ts->tech[i].id, id))
				tt = &ts->tech[i];
		if (q && tt && vlen <= TECH_VALUE_MAX) {
			memcpy(tt->value, q + 1, vlen);
			tt->value[vlen] = '\0';
		}
		return;
	}
	if (n > IOC_TAG_MAX)
		return;	/* longer than cairn keeps a tag: left out */
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)name[i] < 0x20)
			return;
	for (size_t i = 0; i < ts->ntags; i++)
		if (strlen(ts->tags[i]) == n && !memcmp(ts->tags[i], name, n))
			return;
	if (ts->ntags < IOC_MAX_TAGS) {
		memcpy(ts->tags[ts->ntags], name, n);
		ts->tags[ts->ntags++][n] = '\0';
	}
}

void misp_tagset_clear(struct tagset *ts)
{
	ts->tlp = NULL;
	ts->ntags = 0;
	ts->ntech = 0;
}

/* Tag: [{"name": …}, …] — the tokenizer is after the array's '['. */
int misp_read_tags(struct jpull *p, struct tagset *ts, struct err *e)
{
	int tok;
	while ((tok = next(p, e)) != JP_ARR_END) {
		if (tok < 0)
			return tok;
		if (tok != JP_OBJ) {
			if ((tok = misp_skip(p, tok, e)) < 0)
				return tok;
			continue;
		}
		while ((tok = next(p, e)) == JP_KEY) {
			bool is_name = misp_key_is(p, "name");
			if ((tok = next(p, e)) < 0)
				return tok;
			if (is_name && tok == JP_STR && !jpull_truncated(p)) {
				size_t n;
				const char *t = jpull_text(p, &n);
				misp_tag_classify(ts, t, n);
			} else if ((tok = misp_skip(p, tok, e)) < 0) {
				return tok;
			}
		}
		if (tok < 0)
			return tok;
	}
	return 0;
}

/* Galaxy: [{…, "GalaxyCluster": [{"tag_name": …, "type": …, "value": …}, …]}, …]. A cluster
 * counts by its tag_name, else by misp-galaxy:<type>="<value>". */
int misp_read_galaxies(struct jpull *p, struct tagset *ts, struct err *e)
{
	int tok;
	while ((tok = next(p, e)) != JP_ARR_END) {
		if (tok < 0)
			return tok;
		if (tok != JP_OBJ) {
			if ((tok = misp_skip(p, tok, e)) < 0)
				return tok;
			continue;
		}
		while ((tok = next(p, e)) == JP_KEY) {
			bool clusters = misp_key_is(p, "GalaxyCluster");
			if ((tok = next(p, e)) < 0)
				return tok;
			if (!clusters || tok != JP_ARR) {
				if ((tok = misp_skip(p, tok, e)) < 0)
					return tok;
				continue;
			}
			while ((tok = next(p, e)) != JP_ARR_END) {
				if (tok < 0)
					return tok;
				if (tok != JP_OBJ) {
					if ((tok = misp_skip(p, tok, e)) < 0)
						return tok;
					continue;
				}
				char tag_name[META_CAP], type[SMALL], value[META_CAP];
				tag_name[0] = type[0] = value[0] = '\0';
				while ((tok = next(p, e)) == JP_KEY) {
					char *dst = misp_key_is(p, "tag_name") ? tag_name : misp_key_is(p, "type") ? type
						    : misp_key_is(p, "value") ? value : NULL;
					size_t cap = dst == type ? sizeof(type) : META_CAP;
					if ((tok = next(p, e)) < 0)
						return tok;
					if (dst && tok == JP_STR)
						misp_copy_text(p, dst, cap);
					else if ((tok = misp_skip(p, tok, e)) < 0)
						return tok;
				}
				if (tok < 0)
					return tok;
				if (tag_name[0]) {
					misp_tag_classify(ts, tag_name, strlen(tag_name));
				} else if (type[0] && value[0]) {
					char made[META_CAP + SMALL + 32];
					int n = snprintf(made, sizeof(made), "misp-galaxy:%s=\"%s\"", type, value);
					if (n > 0 && (size_t)n < sizeof(made))
						misp_tag_classify(ts, made, (size_t)n);
				}
			}
		}
		if (tok < 0)
			return tok;
	}
	return 0;
}

/* ---- looking ahead ---- */

/* Reads the event object at offset `at` whole with the look-ahead tokenizer: checks it, and
 * keeps its own fields in m->em. */
int misp_scan_event(struct jpull *p, uint64_t at, struct event_meta *em, struct err *e)
{
	em->event_like = false;
	em->info[0] = em->org[0] = em->link[0] = '\0';
	em->date = 0;
	misp_tagset_clear(&em->ts);
	int tok;
	if ((tok = jpull_read_value_at(p, at, e)) < 0 || (tok = next(p, e)) < 0)
		return tok;
	if (tok != JP_OBJ)
		return err_set(e, ERR_INTERNAL, "the look-ahead is not at an event");
	while ((tok = next(p, e)) == JP_KEY) {
		enum { OTHER, INFO, DATE, ORGC, TAG, GALAXY, ATTRIBUTE, OBJECT } k =
			misp_key_is(p, "info") ? INFO : misp_key_is(p, "date") ? DATE : misp_key_is(p, "Orgc") ? ORGC
			: misp_key_is(p, "Tag") ? TAG : misp_key_is(p, "Galaxy") ? GALAXY
			: misp_key_is(p, "Attribute") ? ATTRIBUTE : misp_key_is(p, "Object") ? OBJECT : OTHER;
		if ((tok = next(p, e)) < 0)
			return tok;
		if (k == INFO || k == ATTRIBUTE || k == OBJECT)
			em->event_like = true;
		if (tok == JP_NULL)
			continue;
		switch (k) {
		case INFO:
			if (tok == JP_STR)
				misp_copy_text(p, em->info, sizeof(em->info));
			break;
		case DATE:
			if (tok == JP_STR) {
				size_t n;
				const char *t = jpull_text(p, &n);
				struct err te;
				if (imp_parse_time(t, n, &em->date, &te) != 0)
					em->date = 0;	/* a bad event date loses nothing else */
			}
			break;
		case ORGC:
			if (tok != JP_OBJ)
				break;
			while ((tok = next(p, e)) == JP_KEY) {
				bool name = misp_key_is(p, "name");
				if ((tok = next(p, e)) < 0)
					return tok;
				if (name && tok == JP_STR)
					misp_copy_text(p, em->org, sizeof(em->org));
				else if ((tok = misp_skip(p, tok, e)) < 0)
					return tok;
			}
			if (tok < 0)
				return tok;
			continue;
		case TAG:
		case GALAXY:
			if (tok != JP_ARR)
				return misp_shape_error(p, e, k == TAG ? "the event's 'Tag' is not an array"
								  : "the event's 'Galaxy' is not an array");
			if ((tok = (k == TAG ? misp_read_tags : misp_read_galaxies)(p, &em->ts, e)) < 0)
				return tok;
			continue;
		case ATTRIBUTE:
			if (tok != JP_ARR)
				return misp_shape_error(p, e, "the event's 'Attribute' is not an array");
			/* Only the first link attribute matters here: the event's reference. */
			while ((tok = next(p, e)) != JP_ARR_END) {
				if (tok < 0)
					return tok;
				if (tok != JP_OBJ) {
					if ((tok = misp_skip(p, tok, e)) < 0)
						return tok;
					continue;
				}
				char type[SMALL] = "", value[IOC_URL_FIELD_MAX + 1] = "";
				while ((tok = next(p, e)) == JP_KEY) {
					char *dst = misp_key_is(p, "type") ? type : misp_key_is(p, "value") ? value : NULL;
					if ((tok = next(p, e)) < 0)
						return tok;
					if (dst && tok == JP_STR && !em->link[0])
						misp_copy_text(p, dst, dst == type ? sizeof(type) : sizeof(value));
					else if ((tok = misp_skip(p, tok, e)) < 0)
						return tok;
				}
				if (tok < 0)
					return tok;
				if (!em->link[0] && !strcmp(type, "link") &&
				    (!strncmp(value, "https://", 8) || !strncmp(value, "http://", 7)))
					memcpy(em->link, value, strlen(value) + 1);
			}
			continue;
		case OBJECT:
			if (tok != JP_ARR)
				return misp_shape_error(p, e, "the event's 'Object' is not an array");
			while ((tok = next(p, e)) != JP_ARR_END) {
				if (tok < 0)
					return tok;
				if (tok != JP_OBJ) {
					if ((tok = misp_skip(p, tok, e)) < 0)
						return tok;
					continue;
				}
				while ((tok = next(p, e)) == JP_KEY) {
					bool attrs = misp_key_is(p, "Attribute");
					if ((tok = next(p, e)) < 0)
						return tok;
					if (attrs && tok != JP_ARR && tok != JP_NULL)
						return misp_shape_error(p, e, "a MISP object's 'Attribute' is not an array");
					if ((tok = misp_skip(p, tok, e)) < 0)
						return tok;
				}
				if (tok < 0)
					return tok;
			}
			continue;
		default:
			break;
		}
		if ((tok = misp_skip(p, tok, e)) < 0)
			return tok;
	}
	return tok < 0 ? tok : 0;
}

/* The same for a MISP object: its comment, first/last seen and deleted flag. */
int misp_scan_object(struct jpull *p, uint64_t at, struct object_meta *om, struct err *e)
{
	memset(om, 0, sizeof(*om));
	int tok;
	if ((tok = jpull_read_value_at(p, at, e)) < 0 || (tok = next(p, e)) < 0)
		return tok;
	while ((tok = next(p, e)) == JP_KEY) {
		char *dst = misp_key_is(p, "comment") ? om->comment : misp_key_is(p, "first_seen") ? om->first_seen
			    : misp_key_is(p, "last_seen") ? om->last_seen : NULL;
		size_t cap = dst == om->comment ? sizeof(om->comment) : SMALL;
		bool deleted = misp_key_is(p, "deleted");
		if ((tok = next(p, e)) < 0)
			return tok;
		if (dst && (tok == JP_STR || tok == JP_NUM))
			misp_copy_text(p, dst, cap);
		else if (deleted)
			om->deleted = tok == JP_TRUE || (tok == JP_STR && (misp_key_is(p, "1") || misp_key_is(p, "true")));
		else if ((tok = misp_skip(p, tok, e)) < 0)
			return tok;
	}
	return tok < 0 ? tok : 0;
}

