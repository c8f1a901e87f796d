/*
 * ArcSight CEF events, and the same events as RFC 5424 syslog lines. The field mapping
 * and the reasons for it are in docs/exports.md; escaping is in escape.c.
 *
 * These run once per record of exports of millions, so a record is written to raw memory
 * reserved once for its worst case (every byte of every string escaped to three), not
 * through a buffer call per piece.
 */
#include <string.h>

#include "base/timeutil.h"
#include "export/escape.h"
#include "export/export_lines.h"

/* The CEF event name per type (header field 6). */
static const char *const event_names[IOC_TYPE_COUNT] = {
	"", "Malicious IPv4 Indicator", "Malicious IPv6 Indicator", "Malicious Domain Indicator",
	"Malicious URL Indicator", "Malicious MD5 Indicator", "Malicious SHA1 Indicator",
	"Malicious SHA256 Indicator", "Malicious SHA512 Indicator", "Malicious Email Indicator",
	"Vulnerability Indicator", "ATT&CK Indicator",
};

/* Room for everything but the escaped strings: keys, labels, numbers, dates, header. */
#define FIXED_ROOM 1024

#define LIT(o, s) (memcpy(o, s, sizeof(s) - 1), (o) + sizeof(s) - 1)

static char *str(char *o, const char *s)
{
	size_t n = strlen(s);
	memcpy(o, s, n);
	return o + n;
}

static char *num(char *o, int64_t v)
{
	char t[24];
	size_t i = sizeof(t);
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	do {
		t[--i] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*o++ = '-';
	memcpy(o, t + i, sizeof(t) - i);
	return o + (sizeof(t) - i);
}

static size_t len0(const char *s)
{
	return s ? strlen(s) : 0;
}

/* CEF severity (0–10) from the confidence band: SOC Defenders' table. */
static char cef_severity(int score)
{
	return score >= 70 ? '9' : score >= 30 ? '6' : score >= 1 ? '3' : '0';
}

/*
 * " key=value", the value escaped; nothing for an empty value. Every field starts with
 * its separating space; *first drops it for the extension's first field.
 */
static char *ext(char *o, bool *first, const char *key, size_t klen, const char *v)
{
	if (v == NULL || *v == '\0')
		return o;
	if (!*first)
		*o++ = ' ';
	*first = false;
	memcpy(o, key, klen);
	o += klen;
	*o++ = '=';
	return esc_cef_ext_to(o, v);
}

#define EXT(o, first, key, v) ext(o, first, key, sizeof(key) - 1, v)
/* A labelled custom field: " cs1Label=confidence cs1=high". */
#define CUSTOM(o, first, key, label, v)                                                   \
	((v) && *(v) ? EXT(EXT(o, first, key "Label", label), first, key, v) : (o))

static char *custom_ms(char *o, const char *label_field, const char *field, int64_t us)
{
	o = str(o, label_field);
	*o++ = ' ';
	o = str(o, field);
	*o++ = '=';
	return num(o, us / 1000);
}

/* The value's field: the CEF dictionary key that fits the type (docs/exports.md). */
static char *value_field(char *o, bool *first, const struct ioc_record *r)
{
	bool cidr = strchr(r->value, '/') != NULL;
	switch (r->type) {
	case IOC_IPV4:
		/* dst holds one address; a block goes to a labelled custom string */
		return cidr ? CUSTOM(o, first, "cs5", "ipv4Network", r->value) : EXT(o, first, "dst", r->value);
	case IOC_IPV6:
		/* dst is IPv4 only; c6a3 is the standard's field for a destination IPv6 */
		return cidr ? CUSTOM(o, first, "cs5", "ipv6Network", r->value)
			    : CUSTOM(o, first, "c6a3", "Destination IPv6 Address", r->value);
	case IOC_DOMAIN: return EXT(o, first, "dhost", r->value);
	case IOC_URL: return EXT(o, first, "request", r->value);
	case IOC_MD5: case IOC_SHA1: case IOC_SHA256: case IOC_SHA512:
		return EXT(o, first, "fileHash", r->value);
	case IOC_EMAIL: return EXT(o, first, "suser", r->value);
	case IOC_CVE: return CUSTOM(o, first, "cs5", "cve", r->value);
	default: return CUSTOM(o, first, "cs5", "mitreAttack", r->value);
	}
}

/* Bytes the escaped strings of r can take at most. */
static size_t strings_room(const struct ioc_record *r)
{
	return 3 * (len0(r->value) + len0(r->id) + len0(r->feed) + len0(r->category) + len0(r->tags) +
		    len0(r->tlp) + len0(r->reference_url) + len0(r->context));
}

/* Writes the CEF event of r (with its newline) at o, which has room for it. */
static char *cef_to(char *o, struct line_writer *w, const struct ioc_record *r)
{
	enum ioc_type t = r->type < IOC_TYPE_COUNT ? r->type : IOC_NONE;
	bool first = true;
	o = LIT(o, "CEF:0|cairn|cairn|" CAIRN_VERSION "|");
	o = esc_cef_header_to(o, ioc_type_name(t));
	*o++ = '|';
	o = esc_cef_header_to(o, event_names[t]);
	*o++ = '|';
	*o++ = cef_severity(r->score);
	*o++ = '|';
	o = value_field(o, &first, r);
	o = EXT(o, &first, "externalId", r->id);
	o = CUSTOM(o, &first, "cs1", "confidence", ioc_confidence_band(r->score));
	o = LIT(o, " cn1Label=score cn1=");
	o = num(o, r->score);
	o = CUSTOM(o, &first, "cs2", "feed", r->feed);
	o = EXT(o, &first, "cat", r->category);
	if (r->tags && r->tags[0] == '[' && r->tags[1] != ']') {
		/* Tags joined with commas, each escaped. */
		size_t pos = 0;
		o = LIT(o, " cs3Label=tags cs3=");
		for (int i = 0; json_strings_next(r->tags, &pos, &w->scratch); i++) {
			if (i)
				*o++ = ',';
			o = esc_cef_ext_to(o, buf_cstr(&w->scratch));
			buf_reset(&w->scratch);
		}
	}
	o = CUSTOM(o, &first, "cs4", "tlp", r->tlp);
	o = CUSTOM(o, &first, "cs6", "reference", r->reference_url);
	o = custom_ms(o, " deviceCustomDate1Label=firstSeen", "deviceCustomDate1", r->first_seen);
	o = custom_ms(o, " deviceCustomDate2Label=lastSeen", "deviceCustomDate2", r->last_seen);
	if (r->valid_until > 0)
		o = custom_ms(o, " flexDate1Label=validUntil", "flexDate1", r->valid_until);
	if (r->revoked)
		o = LIT(o, " flexString1Label=status flexString1=revoked");
	o = LIT(o, " rt=");
	o = num(o, r->updated_at / 1000);
	o = EXT(o, &first, "msg", r->context);
	*o++ = '\n';
	return o;
}

void cef_record(struct line_writer *w, struct buf *b, const struct ioc_record *r)
{
	buf_reserve(b, FIXED_ROOM + strings_room(r));
	char *end = cef_to(b->data + b->len, w, r);
	b->len = (size_t)(end - b->data);
	b->data[b->len] = '\0';
}

/* RFC 5424 severity from the confidence band: warning, notice, informational, debug. */
static int syslog_severity(int score)
{
	return score >= 70 ? 4 : score >= 30 ? 5 : score >= 1 ? 6 : 7;
}

/* ` name="value"`, the value escaped; nothing for an empty value. */
static char *sd(char *o, const char *name, const char *v)
{
	if (v == NULL || *v == '\0')
		return o;
	*o++ = ' ';
	o = str(o, name);
	*o++ = '=';
	*o++ = '"';
	o = esc_sd_param_to(o, v);
	*o++ = '"';
	return o;
}

static char *sd_time(char *o, const char *name, int64_t us)
{
	*o++ = ' ';
	o = str(o, name);
	*o++ = '=';
	*o++ = '"';
	o += time_format_to(o, us, TIME_MSEC);
	*o++ = '"';
	return o;
}

void syslog_record(struct line_writer *w, struct buf *b, const struct ioc_record *r)
{
	/* The structured data repeats some strings of the CEF message: twice the room. */
	buf_reserve(b, 2 * (FIXED_ROOM + strings_room(r)));
	char *o = b->data + b->len;
	/* facility user (1): PRI = 8 + severity */
	o = LIT(o, "<");
	o = num(o, 8 + syslog_severity(r->score));
	o = LIT(o, ">1 ");
	o += time_format_to(o, r->updated_at, TIME_USEC);
	o = LIT(o, " - cairn - ");
	o = str(o, ioc_type_name(r->type));
	o = LIT(o, " [ioc@32473");
	o = sd(o, "id", r->id);
	o = sd(o, "type", ioc_type_name(r->type));
	o = sd(o, "value", r->value);
	o = sd(o, "confidence", ioc_confidence_band(r->score));
	o = LIT(o, " score=\"");
	o = num(o, r->score);
	*o++ = '"';
	o = sd(o, "feed", r->feed);
	o = sd(o, "category", r->category);
	o = sd(o, "tlp", r->tlp);
	o = sd_time(o, "first_seen", r->first_seen);
	o = sd_time(o, "last_seen", r->last_seen);
	if (r->valid_until > 0)
		o = sd_time(o, "valid_until", r->valid_until);
	if (r->revoked)
		o = LIT(o, " status=\"revoked\"");
	o = LIT(o, "] ");
	o = cef_to(o, w, r);	/* the message, with its newline ending the line */
	b->len = (size_t)(o - b->data);
	b->data[b->len] = '\0';
}
