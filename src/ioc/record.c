#include "ioc/record.h"

#include <string.h>
#include <strings.h>

const char *ioc_confidence_band(int score)
{
	if (score >= 70)
		return "high";
	if (score >= 30)
		return "medium";
	if (score >= 1)
		return "low";
	return "none";
}

int ioc_score_from_band(const char *s)
{
	if (!strcasecmp(s, "high"))
		return 85;
	if (!strcasecmp(s, "medium"))
		return 50;
	if (!strcasecmp(s, "low"))
		return 15;
	if (!strcasecmp(s, "none"))
		return 0;
	return -1;
}

const char *ioc_tlp_canon(const char *s)
{
	static const char *const names[] = { "clear", "green", "amber", "amber+strict", "red" };
	if (!strncasecmp(s, "tlp:", 4))
		s += 4;
	if (!strcasecmp(s, "white"))
		return "clear";
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcasecmp(s, names[i]))
			return names[i];
	return NULL;
}
