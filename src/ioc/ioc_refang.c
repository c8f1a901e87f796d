/*
 * ioc_refang.c — undoing the defanging that analysts apply so that an
 * indicator pasted into a report, a chat or a ticket is not a live link.
 *
 * Every replacement is no longer than what it replaces, so the output never
 * outgrows the input and a cut output is a prefix of the whole one.
 */
#include "ioc/ioc.h"

#include <string.h>

#include "ioc/ioc_impl.h"

struct fang {
	const char *from;	/* matched without regard to case */
	const char *to;
};

/* Longer forms first where one starts like another ("[://]" before "[:]"). */
static const struct fang fangs[] = {
	{ "[://]", "://" },
	{ "[:]", ":" },
	{ "[.]", "." },
	{ "(.)", "." },
	{ "{.}", "." },
	{ "\\.", "." },
	{ "[dot]", "." },
	{ "(dot)", "." },
	{ "{dot}", "." },
	{ " dot ", "." },
	{ "[@]", "@" },
	{ "[at]", "@" },
	{ "(at)", "@" },
	{ "{at}", "@" },
};

static bool match(const char *p, size_t len, const char *pat)
{
	size_t n = strlen(pat);

	if (len < n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (ioc_lower(p[i]) != pat[i])
			return false;
	return true;
}

size_t ioc_refang(const char *in, size_t len, char *out, size_t cap)
{
	size_t i = 0, o = 0;

	if (cap == 0)
		return 0;
	while (i < len && o + 1 < cap) {
		const char *to = NULL;
		size_t used = 0;
		char ch = in[i];

		/* Every defanged form starts with one of these: the common case is a plain copy. */
		if (ch != '[' && ch != '(' && ch != '{' && ch != '\\' && ch != ' ' && ch != 'h' && ch != 'H') {
			out[o++] = in[i++];
			continue;
		}

		/* Only at the start of a word: "hxxp" inside a path may be meant literally. */
		if ((i == 0 || !(ioc_is_alpha(in[i - 1]) || ioc_is_digit(in[i - 1]))) &&
		    match(in + i, len - i, "hxxp")) {
			to = "http";
			used = 4;
		}
		for (size_t k = 0; to == NULL && k < sizeof(fangs) / sizeof(fangs[0]); k++) {
			if (match(in + i, len - i, fangs[k].from)) {
				to = fangs[k].to;
				used = strlen(fangs[k].from);
			}
		}
		if (to == NULL) {
			out[o++] = in[i++];
			continue;
		}
		for (size_t k = 0; to[k] != '\0' && o + 1 < cap; k++)
			out[o++] = to[k];
		i += used;
	}
	out[o] = '\0';
	return o;
}
