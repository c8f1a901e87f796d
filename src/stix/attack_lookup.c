/*
 * Lookups in the ATT&CK table (attack.h); the table itself, attack.c, is generated.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "stix/attack.h"

static bool digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return n > 0;
}

/* T1234 → 1234000, T1234.567 → 1234567; 0 when id is not of that shape. */
static uint32_t technique_code(const char *id, size_t len)
{
	if ((len != 5 && len != 9) || (id[0] != 'T' && id[0] != 't') || !digits(id + 1, 4))
		return 0;
	if (len == 9 && (id[5] != '.' || !digits(id + 6, 3)))
		return 0;
	uint32_t code = (uint32_t)strtoul(id + 1, NULL, 10) * 1000;
	if (len == 9)
		code += (uint32_t)strtoul(id + 6, NULL, 10);
	return code;
}

static const struct attack_technique *technique_find(uint32_t code)
{
	size_t lo = 0, hi = attack_ntechniques;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (attack_techniques[mid].code == code)
			return &attack_techniques[mid];
		if (attack_techniques[mid].code < code)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const struct attack_technique *attack_technique_find(const char *id, size_t len)
{
	uint32_t code = technique_code(id, len);
	return code ? technique_find(code) : NULL;
}

unsigned attack_technique(const char *id, size_t len)
{
	const struct attack_technique *t = attack_technique_find(id, len);
	return t ? t->tactics : 0;
}

int attack_tactic(const char *id, size_t len)
{
	for (int i = 0; i < ATTACK_TACTIC_COUNT; i++)
		if (strlen(attack_tactics[i].id) == len && !strncasecmp(attack_tactics[i].id, id, len))
			return i;
	return -1;
}
