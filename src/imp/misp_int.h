/*
 * misp_int.h — what the MISP reader's files share (misp_in.c walks the events and stores the
 * records; misp_meta.c reads tags and galaxies and looks ahead at each event and MISP
 * object). Not for use outside src/imp/.
 */
#ifndef CAIRN_IMP_MISP_INT_H
#define CAIRN_IMP_MISP_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "imp/jpull.h"
#include "ioc/record.h"

#define VALUE_CAP (16 * 1024)	/* an attribute value longer than this is rejected */
#define META_CAP 4096		/* strings the look-ahead keeps whole */
#define TECH_VALUE_MAX 128	/* a galaxy cluster value ("Name - T1234") kept as context */
#define SMALL 64

struct technique {
	char id[16];
	char value[TECH_VALUE_MAX + 1];	/* "Name - T1234" when the tag named it, else "" */
};

/* What the tags of an event or an attribute say. */
struct tagset {
	const char *tlp;
	size_t ntags;
	char tags[IOC_MAX_TAGS][IOC_TAG_MAX + 1];
	size_t ntech;
	struct technique tech[IOC_MAX_TECHNIQUES];
};

struct event_meta {
	bool event_like;	/* has Attribute, Object or info */
	char info[IOC_CONTEXT_MAX + 1];
	int64_t date;
	char org[IOC_FEED_MAX + 1];
	char link[IOC_URL_FIELD_MAX + 1];	/* the first top-level link attribute */
	struct tagset ts;
};

struct object_meta {
	char comment[IOC_CONTEXT_MAX + 1];
	char first_seen[SMALL], last_seen[SMALL];
	bool deleted;
};

/* The tokenizer's last key or string is k. */
bool misp_key_is(struct jpull *p, const char *k);
/* Copies the last string or number into dst; false (dst "") when it does not fit. */
bool misp_copy_text(struct jpull *p, char *dst, size_t cap);
/* Skips the value whose first token was tok (a container's rest; nothing for a scalar). */
int misp_skip(struct jpull *p, int tok, struct err *e);
/* ERR_INVALID with "line N: what", N the line of the tokenizer's last token. */
int misp_shape_error(struct jpull *p, struct err *e, const char *what);
/* 0 clear … 4 red; -1 for NULL or anything else. */
int misp_tlp_rank(const char *t);

void misp_tagset_clear(struct tagset *ts);
/* One tag name into ts: a TLP level, an ATT&CK technique or tactic, or a label. */
void misp_tag_classify(struct tagset *ts, const char *name, size_t n);
/* After the '[' of a Tag list ([{"name": …}, …]) or a Galaxy list: reads it to its end. */
int misp_read_tags(struct jpull *p, struct tagset *ts, struct err *e);
int misp_read_galaxies(struct jpull *p, struct tagset *ts, struct err *e);

/* With the look-ahead tokenizer p: reads the event object at offset `at` whole, checking its
 * JSON and its MISP shape, and keeps its own fields in em. */
int misp_scan_event(struct jpull *p, uint64_t at, struct event_meta *em, struct err *e);
/* The same for a MISP object. */
int misp_scan_object(struct jpull *p, uint64_t at, struct object_meta *om, struct err *e);

#endif
