#include "ioc/score.h"

#include <math.h>

int score_weight(char grade)
{
	switch (grade) {
	case 'A':
		return 120;
	case 'B':
		return 110;
	case 'D':
		return 80;
	case 'E':
		return 50;
	default:	/* C, F (cannot be judged) and unknown: the feed's own score */
		return 100;
	}
}

char score_grade(const char *s)
{
	if (s == NULL || s[0] == '\0' || s[1] != '\0')
		return 0;
	char g = (char)(s[0] & ~0x20);
	return g >= 'A' && g <= 'F' ? g : 0;
}

int score_weighted(int feed_score, char grade)
{
	if (feed_score <= 0)
		return 0;
	if (feed_score > 100)
		feed_score = 100;
	int w = (feed_score * score_weight(grade) + 50) / 100;
	return w > 100 ? 100 : w;
}

struct score_parts score_base(int best, int64_t nsources, int64_t sightings)
{
	struct score_parts p = { 0 };
	p.best = best < 0 ? 0 : best > 100 ? 100 : best;
	int64_t more = nsources > 1 ? nsources - 1 : 0;
	if (more > 100 / SCORE_SOURCE_BONUS)
		more = 100 / SCORE_SOURCE_BONUS;
	p.sources_bonus = (int)more * SCORE_SOURCE_BONUS;
	int64_t sb = sightings > 0 ? sightings * SCORE_SIGHTING_BONUS : 0;
	p.sightings_bonus = sb > SCORE_SIGHTINGS_MAX_BONUS ? SCORE_SIGHTINGS_MAX_BONUS : (int)sb;
	int b = p.best + p.sources_bonus + p.sightings_bonus;
	p.base = b > 100 ? 100 : b;
	return p;
}

/*
 * round(base × (1 − x^(1/speed))) >= k  ⇔  base × (1 − x^(1/speed)) >= k − ½
 *                                         ⇔  x <= (1 − (k − ½) / base)^speed,  x = t / lifetime
 */
int64_t score_until(const struct score_decay *d, int k)
{
	if (k <= 0)
		return SCORE_NEVER;
	if (k > d->base)
		return 0;
	if (d->decay_end <= d->last_seen)
		return SCORE_NEVER;
	double speed = d->speed > 0 ? d->speed : 1.0;
	double life = (double)(d->decay_end - d->last_seen);
	double x = pow(1.0 - ((double)k - 0.5) / (double)d->base, speed);
	return d->last_seen + (int64_t)floor(life * x);
}

int score_at(const struct score_decay *d, int64_t t)
{
	if (d->base <= 0)
		return 0;
	if (t <= d->last_seen || d->decay_end <= d->last_seen)
		return d->base;
	if (t >= d->decay_end)
		return 0;
	double speed = d->speed > 0 ? d->speed : 1.0;
	double x = (double)(t - d->last_seen) / (double)(d->decay_end - d->last_seen);
	int k = (int)lround((double)d->base * (1.0 - pow(x, 1.0 / speed)));
	/* The crossing times are the definition: settle rounding at the boundaries by them. */
	while (k < d->base && t <= score_until(d, k + 1))
		k++;
	while (k > 0 && t > score_until(d, k))
		k--;
	return k;
}

struct score_decay score_decay_of(const struct ioc_record *r)
{
	struct score_decay d = { r->base_score, r->last_seen, r->decay_end, r->decay_speed };
	return d;
}

int ioc_score_at(const struct ioc_record *r, int64_t t)
{
	struct score_decay d = score_decay_of(r);
	return score_at(&d, t);
}
