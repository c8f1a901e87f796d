#include "imp/record_in.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/timeutil.h"
#include "json/jw.h"

void imp_input_init(struct ioc_input *in, const struct imp_defaults *d)
{
	memset(in, 0, sizeof(*in));
	in->score = -1;
	if (d == NULL)
		return;
	in->type = d->type;
	in->score = d->score;
	in->reliability = d->reliability;
	in->feed = d->feed;
	in->category = d->category;
	in->reference_url = d->reference_url;
	in->origin = d->origin;
	in->tlp = d->tlp;
	for (size_t i = 0; i < d->ntags && i < IOC_MAX_TAGS; i++)
		in->tags[in->ntags++] = d->tags[i];
	for (size_t i = 0; i < d->nindustries && i < IOC_MAX_INDUSTRIES; i++)
		in->industries[in->nindustries++] = d->industries[i];
	in->lifetime_days = d->lifetime_days;
}

int imp_set_value(struct ioc_input *in, const char *v, size_t len, enum ioc_type t, struct arena *ar,
		  struct err *e)
{
	char out[IOC_VALUE_MAX + 1];
	size_t n;
	enum ioc_type got;
	int rc = ioc_canon(v, len, t != IOC_NONE ? t : in->type, IOC_REFANG, &got, out, sizeof(out), &n, e);
	if (rc)
		return rc;
	in->type = got;
	in->value = arena_strndup(ar, out, n);
	return 0;
}

int imp_set_confidence(struct ioc_input *in, const char *s, struct err *e)
{
	while (*s == ' ')
		s++;
	if (*s == '\0')
		return 0;
	if (isdigit((unsigned char)*s)) {
		char *end;
		long v = strtol(s, &end, 10);
		while (*end == ' ')
			end++;
		if (*end == '%')
			end++;
		if (*end != '\0' || v < 0 || v > 100)
			return err_set(e, ERR_INVALID, "confidence '%.32s' is not 0-100 or high/medium/low", s);
		in->score = (int)v;
		return 0;
	}
	int sc = ioc_score_from_band(s);
	if (sc < 0)
		return err_set(e, ERR_INVALID, "confidence '%.32s' is not 0-100 or high/medium/low", s);
	in->score = sc;
	return 0;
}

static bool has(const char *const *v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i], s))
			return true;
	return false;
}

void imp_add_tags(struct ioc_input *in, const char *list, size_t len, struct arena *ar)
{
	size_t i = 0;
	while (i < len) {
		while (i < len && strchr(",;| \t", list[i]))
			i++;
		size_t j = i;
		while (j < len && !strchr(",;|\t", list[j]))
			j++;
		size_t k = j;
		while (k > i && list[k - 1] == ' ')
			k--;
		if (k > i && k - i <= IOC_TAG_MAX && in->ntags < IOC_MAX_TAGS && utf8_valid(list + i, k - i)) {
			char *t = arena_strndup(ar, list + i, k - i);
			bool ok = true;
			for (char *p = t; *p; p++)
				if ((unsigned char)*p < 0x20)
					ok = false;
			if (ok && !has(in->tags, in->ntags, t))
				in->tags[in->ntags++] = t;
		}
		i = j + 1;
	}
}

int imp_add_technique(struct ioc_input *in, const char *s, size_t len, struct arena *ar, struct err *e)
{
	char out[32];
	size_t n;
	enum ioc_type t;
	if (ioc_canon(s, len, IOC_MITRE, 0, &t, out, sizeof(out), &n, NULL) != 0)
		return err_set(e, ERR_INVALID, "'%.32s' is not an ATT&CK technique or tactic id",
			       len < 32 ? s : "(too long)");
	if (in->ntechniques < IOC_MAX_TECHNIQUES && !has(in->techniques, in->ntechniques, out))
		in->techniques[in->ntechniques++] = arena_strndup(ar, out, n);
	return 0;
}

int imp_add_industry(struct ioc_input *in, const char *s, size_t len, struct arena *ar, struct err *e)
{
	char slug[65];
	if (len == 0 || len > 64)
		return err_set(e, ERR_INVALID, "industry must be a slug of 1-64 characters");
	for (size_t i = 0; i < len; i++) {
		char c = (char)tolower((unsigned char)s[i]);
		if (c == ' ' || c == '_')
			c = '-';
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
			return err_set(e, ERR_INVALID, "industry '%.64s' is not a slug like 'energy'",
				       utf8_valid(s, len) ? s : "?");
		slug[i] = c;
	}
	slug[len] = '\0';
	const char *canon = ioc_industry_canon(slug);
	if (in->nindustries < IOC_MAX_INDUSTRIES && !has(in->industries, in->nindustries, canon))
		in->industries[in->nindustries++] = arena_strdup(ar, canon);
	return 0;
}

int imp_parse_time(const char *s, size_t len, int64_t *out, struct err *e)
{
	bool digits = len > 0 && len <= 12;
	for (size_t i = 0; i < len && digits; i++)
		digits = s[i] >= '0' && s[i] <= '9';
	if (digits) {
		*out = strtoll(s, NULL, 10) * USEC_PER_SEC;
		return 0;
	}
	return time_parse_rfc3339(s, len, out, e);
}

int imp_set_tlp(struct ioc_input *in, const char *s, struct err *e)
{
	const char *t = ioc_tlp_canon(s);
	if (t == NULL)
		return err_set(e, ERR_INVALID, "tlp '%.32s' is not clear, green, amber, amber+strict or red", s);
	in->tlp = t;
	return 0;
}

static int str_field(json_t *o, const char *name, const char **out, size_t max, struct err *e)
{
	json_t *v = json_object_get(o, name);
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return err_set(e, ERR_INVALID, "'%s' must be a string", name);
	if (json_string_length(v) > max)
		return err_set(e, ERR_INVALID, "'%s' is longer than %zu characters", name, max);
	*out = json_string_value(v);
	return 0;
}

static int time_field(json_t *o, const char *name, int64_t *out, struct err *e)
{
	json_t *v = json_object_get(o, name);
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return err_set(e, ERR_INVALID, "'%s' must be an RFC 3339 time", name);
	struct err te;
	if (imp_parse_time(json_string_value(v), json_string_length(v), out, &te) != 0)
		return err_set(e, ERR_INVALID, "'%s': %s", name, te.msg);
	return 0;
}

int imp_input_from_json(json_t *o, const struct imp_defaults *d, struct arena *ar,
			struct ioc_input *in, struct err *e)
{
	const char *s = NULL;
	imp_input_init(in, d);
	if (!json_is_object(o))
		return err_set(e, ERR_INVALID, "expected an object with a 'value'");
	json_t *tv = json_object_get(o, "type");
	enum ioc_type forced = IOC_NONE;
	if (tv && !json_is_null(tv)) {
		if (!json_is_string(tv) ||
		    (forced = ioc_type_from_name(json_string_value(tv), json_string_length(tv))) == IOC_NONE)
			return err_set(e, ERR_INVALID, "'type' is not one of cairn's indicator types");
	}
	json_t *vv = json_object_get(o, "value");
	if (vv == NULL)
		vv = json_object_get(o, "ioc");
	if (!json_is_string(vv))
		return err_set(e, ERR_INVALID, "'value' is required and must be a string");
	if (imp_set_value(in, json_string_value(vv), json_string_length(vv), forced, ar, e))
		return ERR_INVALID;
	json_t *sc = json_object_get(o, "score");
	if (sc && !json_is_null(sc)) {
		if (!json_is_integer(sc) || json_integer_value(sc) < 0 || json_integer_value(sc) > 100)
			return err_set(e, ERR_INVALID, "'score' must be an integer from 0 to 100");
		in->score = (int)json_integer_value(sc);
	}
	json_t *cf = json_object_get(o, "confidence");
	if (cf && !json_is_null(cf) && !(sc && !json_is_null(sc))) {
		if (json_is_integer(cf)) {
			if (json_integer_value(cf) < 0 || json_integer_value(cf) > 100)
				return err_set(e, ERR_INVALID, "'confidence' must be 0-100 or high/medium/low");
			in->score = (int)json_integer_value(cf);
		} else if (!json_is_string(cf) || imp_set_confidence(in, json_string_value(cf), e)) {
			return err_set(e, ERR_INVALID, "'confidence' must be 0-100 or high/medium/low");
		}
	}
	if (str_field(o, "context", &in->context, IOC_CONTEXT_MAX, e) ||
	    str_field(o, "description", &in->context, IOC_CONTEXT_MAX, e))
		return ERR_INVALID;
	if (str_field(o, "tlp", &s, 32, e))
		return ERR_INVALID;
	if (s && imp_set_tlp(in, s, e))
		return ERR_INVALID;
	if (time_field(o, "first_seen", &in->first_seen, e) || time_field(o, "last_seen", &in->last_seen, e) ||
	    time_field(o, "valid_until", &in->valid_until, e))
		return ERR_INVALID;
	json_t *arr;
	size_t i;
	json_t *x;
	if ((arr = json_object_get(o, "tags")) && !json_is_null(arr)) {
		if (!json_is_array(arr))
			return err_set(e, ERR_INVALID, "'tags' must be an array of strings");
		json_array_foreach(arr, i, x) {
			if (!json_is_string(x))
				return err_set(e, ERR_INVALID, "'tags' must be an array of strings");
			if (json_string_length(x) > IOC_TAG_MAX)
				return err_set(e, ERR_INVALID, "a tag is longer than %d characters", IOC_TAG_MAX);
			imp_add_tags(in, json_string_value(x), json_string_length(x), ar);
		}
	}
	if ((arr = json_object_get(o, "mitre_techniques")) && !json_is_null(arr)) {
		if (!json_is_array(arr))
			return err_set(e, ERR_INVALID, "'mitre_techniques' must be an array");
		json_array_foreach(arr, i, x) {
			const char *id = json_string_value(x);
			if (json_is_object(x))	/* the article form {id, name} */
				id = json_string_value(json_object_get(x, "id"));
			if (id == NULL || imp_add_technique(in, id, strlen(id), ar, e))
				return err_set(e, ERR_INVALID, "'mitre_techniques' holds a value that is not an"
							       " ATT&CK id");
		}
	}
	if ((arr = json_object_get(o, "industries")) && !json_is_null(arr)) {
		if (!json_is_array(arr))
			return err_set(e, ERR_INVALID, "'industries' must be an array of slugs");
		json_array_foreach(arr, i, x) {
			if (!json_is_string(x) || imp_add_industry(in, json_string_value(x), json_string_length(x), ar, e))
				return err_set(e, ERR_INVALID, "'industries' must be an array of slugs");
		}
	}
	json_t *src = json_object_get(o, "source");
	if (src && json_is_object(src)) {
		if (str_field(src, "feed_name", &in->feed, IOC_FEED_MAX, e) ||
		    str_field(src, "category", &in->category, IOC_FEED_MAX, e) ||
		    str_field(src, "reference_url", &in->reference_url, IOC_URL_FIELD_MAX, e) ||
		    str_field(src, "origin", &in->origin, 32, e))
			return ERR_INVALID;
	} else if (src && !json_is_null(src)) {
		return err_set(e, ERR_INVALID, "'source' must be an object");
	}
	return 0;
}
