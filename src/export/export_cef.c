/*
 * ArcSight CEF events, and the same events as RFC 5424 syslog lines. The field mapping
 * and the reasons for it are in docs/exports.md; escaping is in escape.c.
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

/* CEF severity (0–10) from the confidence band: SOC Defenders' table. */
static char cef_severity(int score)
{
	return score >= 70 ? '9' : score >= 30 ? '6' : score >= 1 ? '3' : '0';
}

static bool is_cidr(const char *v)
{
	return strchr(v, '/') != NULL;
}

/* " key=value", the value escaped; nothing for an empty value. */
static void ext(struct buf *b, const char *key, const char *v)
{
	if (v == NULL || *v == '\0')
		return;
	buf_putc(b, ' ');
	buf_puts(b, key);
	buf_putc(b, '=');
	esc_cef_ext(b, v);
}

/* A labelled custom field: " cs1Label=confidence cs1=high". */
static void custom(struct buf *b, const char *key, const char *label, const char *v)
{
	if (v == NULL || *v == '\0')
		return;
	buf_putc(b, ' ');
	buf_puts(b, key);
	buf_puts(b, "Label=");
	buf_puts(b, label);
	ext(b, key, v);
}

static void custom_ms(struct buf *b, const char *key, const char *label, int64_t us)
{
	buf_putc(b, ' ');
	buf_puts(b, key);
	buf_puts(b, "Label=");
	buf_puts(b, label);
	buf_putc(b, ' ');
	buf_puts(b, key);
	buf_putc(b, '=');
	buf_put_i64(b, us / 1000);
}

/* The value's field: the CEF dictionary key that fits the type (docs/exports.md). */
static void value_field(struct buf *b, const struct ioc_record *r)
{
	const char *key = NULL, *label = NULL;
	switch (r->type) {
	case IOC_IPV4:
		if (is_cidr(r->value))
			key = "cs5", label = "ipv4Network";	/* dst holds one address */
		else
			key = "dst";
		break;
	case IOC_IPV6:
		if (is_cidr(r->value))
			key = "cs5", label = "ipv6Network";
		else	/* dst is IPv4 only; the standard's field for a destination IPv6 */
			key = "c6a3", label = "Destination IPv6 Address";
		break;
	case IOC_DOMAIN: key = "dhost"; break;
	case IOC_URL: key = "request"; break;
	case IOC_MD5: case IOC_SHA1: case IOC_SHA256: case IOC_SHA512: key = "fileHash"; break;
	case IOC_EMAIL: key = "suser"; break;
	case IOC_CVE: key = "cs5", label = "cve"; break;
	default: key = "cs5", label = "mitreAttack"; break;
	}
	if (label)
		custom(b, key, label, r->value);
	else
		ext(b, key, r->value);
}

void cef_record(struct buf *b, const struct ioc_record *r)
{
	buf_puts(b, "CEF:0|cairn|cairn|" CAIRN_VERSION "|");
	esc_cef_header(b, ioc_type_name(r->type));
	buf_putc(b, '|');
	esc_cef_header(b, event_names[r->type < IOC_TYPE_COUNT ? r->type : 0]);
	buf_putc(b, '|');
	buf_putc(b, cef_severity(r->score));
	buf_putc(b, '|');
	size_t start = b->len;
	value_field(b, r);
	ext(b, "externalId", r->id);
	custom(b, "cs1", "confidence", ioc_confidence_band(r->score));
	buf_puts(b, " cn1Label=score cn1=");
	buf_put_i64(b, r->score);
	custom(b, "cs2", "feed", r->feed);
	ext(b, "cat", r->category);
	if (r->tags && r->tags[0] == '[' && r->tags[1] != ']') {
		/* Tags joined with commas, each escaped. */
		struct buf one = BUF_INIT;
		size_t pos = 0;
		buf_puts(b, " cs3Label=tags cs3=");
		for (int i = 0; json_strings_next(r->tags, &pos, &one); i++) {
			if (i)
				buf_putc(b, ',');
			esc_cef_ext(b, buf_cstr(&one));
			buf_reset(&one);
		}
		buf_cleanup(&one);
	}
	custom(b, "cs4", "tlp", r->tlp);
	custom(b, "cs6", "reference", r->reference_url);
	custom_ms(b, "deviceCustomDate1", "firstSeen", r->first_seen);
	custom_ms(b, "deviceCustomDate2", "lastSeen", r->last_seen);
	if (r->valid_until > 0)
		custom_ms(b, "flexDate1", "validUntil", r->valid_until);
	if (r->revoked)
		custom(b, "flexString1", "status", "revoked");
	buf_puts(b, " rt=");
	buf_put_i64(b, r->updated_at / 1000);
	ext(b, "msg", r->context);
	/* Every field above starts with a space; the extension itself does not. */
	if (b->len > start) {
		memmove(b->data + start, b->data + start + 1, b->len - start - 1);
		b->len--;
		b->data[b->len] = '\0';
	}
	buf_putc(b, '\n');
}

/* RFC 5424 severity from the confidence band. */
static int syslog_severity(int score)
{
	return score >= 70 ? 4 : score >= 30 ? 5 : score >= 1 ? 6 : 7;	/* warning … debug */
}

static void sd(struct buf *b, const char *name, const char *v)
{
	if (v == NULL || *v == '\0')
		return;
	buf_putc(b, ' ');
	buf_puts(b, name);
	buf_puts(b, "=\"");
	esc_sd_param(b, v);
	buf_putc(b, '"');
}

static void sd_time(struct buf *b, const char *name, int64_t us)
{
	char t[40];
	time_format_to(t, us, TIME_MSEC);
	sd(b, name, t);
}

void syslog_record(struct buf *b, const struct ioc_record *r)
{
	/* facility user (1): PRI = 8 + severity */
	char t[40];
	buf_putc(b, '<');
	buf_put_i64(b, 8 + syslog_severity(r->score));
	buf_puts(b, ">1 ");
	time_format_to(t, r->updated_at, TIME_USEC);
	buf_puts(b, t);
	buf_puts(b, " - cairn - ");
	buf_puts(b, ioc_type_name(r->type));
	buf_puts(b, " [ioc@32473");
	sd(b, "id", r->id);
	sd(b, "type", ioc_type_name(r->type));
	sd(b, "value", r->value);
	sd(b, "confidence", ioc_confidence_band(r->score));
	buf_puts(b, " score=\"");
	buf_put_i64(b, r->score);
	buf_putc(b, '"');
	sd(b, "feed", r->feed);
	sd(b, "category", r->category);
	sd(b, "tlp", r->tlp);
	sd_time(b, "first_seen", r->first_seen);
	sd_time(b, "last_seen", r->last_seen);
	if (r->valid_until > 0)
		sd_time(b, "valid_until", r->valid_until);
	if (r->revoked)
		sd(b, "status", "revoked");
	buf_puts(b, "] ");
	cef_record(b, r);	/* the message, with its newline ending the line */
}
