/*
 * test_score.c — the scoring formula of docs/scoring.md, with its worked examples:
 * reliability weights, the sources and sightings bonuses, the decay, and the band
 * crossing times, which must agree with the score computed at every instant.
 */
#include "ioc/score.h"

#include "base/timeutil.h"
#include "check.h"

#define DAY USEC_PER_DAY

static void test_weights(void)
{
	CHECK_INT(score_weight('A'), 120);
	CHECK_INT(score_weight('B'), 110);
	CHECK_INT(score_weight('C'), 100);
	CHECK_INT(score_weight('D'), 80);
	CHECK_INT(score_weight('E'), 50);
	CHECK_INT(score_weight('F'), 100);
	CHECK_INT(score_weight(0), 100);	/* no grade: the default C */
	CHECK_INT(score_weighted(60, 'B'), 66);
	CHECK_INT(score_weighted(80, 'D'), 64);
	CHECK_INT(score_weighted(80, 'A'), 96);
	CHECK_INT(score_weighted(90, 'A'), 100);	/* 108, capped */
	CHECK_INT(score_weighted(50, 'C'), 50);
	CHECK_INT(score_weighted(50, 'E'), 25);
	CHECK_INT(score_weighted(45, 'E'), 23);		/* 22.5 rounds up */
	CHECK_INT(score_weighted(0, 'A'), 0);
	CHECK_INT(score_grade("b"), 'B');
	CHECK_INT(score_grade("F"), 'F');
	CHECK_INT(score_grade("G"), 0);
	CHECK_INT(score_grade("AB"), 0);
	CHECK_INT(score_grade(""), 0);
}

static void test_base(void)
{
	/* Worked example 1: B/60 → 66 and D/80 → 64; best 66 + 5 for the second source. */
	struct score_parts p = score_base(66, 2, 0);
	CHECK_INT(p.best, 66);
	CHECK_INT(p.sources_bonus, 5);
	CHECK_INT(p.sightings_bonus, 0);
	CHECK_INT(p.base, 71);
	/* Worked example 3: sightings add 2 each, up to 10. */
	p = score_base(50, 1, 3);
	CHECK_INT(p.sources_bonus, 0);
	CHECK_INT(p.sightings_bonus, 6);
	CHECK_INT(p.base, 56);
	CHECK_INT(score_base(50, 1, 7).sightings_bonus, 10);
	CHECK_INT(score_base(50, 1, 7).base, 60);
	CHECK_INT(score_base(98, 3, 0).base, 100);	/* 108, capped */
	CHECK_INT(score_base(40, 64, 0).base, 100);	/* the bonus is capped too */
	CHECK_INT(score_base(0, 0, 0).base, 0);
}

/* score_at(t) >= k exactly when t <= score_until(k), at and around every crossing. */
static void check_agrees(const struct score_decay *d)
{
	int bad = 0;
	for (int k = 1; k <= d->base; k++) {
		int64_t u = score_until(d, k);
		if (u == SCORE_NEVER || u == 0)
			continue;
		for (int64_t t = u - 2; t <= u + 2; t++)
			if ((score_at(d, t) >= k) != (t <= u))
				bad++;
	}
	CHECK_INT(bad, 0);
}

static void test_decay(void)
{
	const int64_t T0 = 1700000000LL * USEC_PER_SEC;
	/* Worked example 1, continued: an ipv4 (lifetime 30 days, speed 1). */
	struct score_decay d = { 71, T0, T0 + 30 * DAY, 1.0 };
	CHECK_INT(score_at(&d, T0 - DAY), 71);
	CHECK_INT(score_at(&d, T0), 71);
	CHECK_INT(score_at(&d, T0 + 1), 71);
	CHECK_INT(score_at(&d, T0 + DAY), 69);		/* 71 × (1 − 1/30) = 68.63 */
	CHECK_INT(score_at(&d, T0 + 10 * DAY), 47);	/* 71 × (1 − 10/30) = 47.33 */
	CHECK_INT(score_at(&d, T0 + 30 * DAY), 0);
	CHECK_INT(score_at(&d, T0 + 31 * DAY), 0);
	CHECK_INT(score_until(&d, 70) - T0, 54760563380);	/* 30 days × (1 − 69.5/71) */
	CHECK_INT(score_until(&d, 30) - T0, 1515042253521);	/* 30 days × (1 − 29.5/71) */
	CHECK_INT(score_until(&d, 1) - T0, 2573746478873);	/* 30 days × (1 − 0.5/71) */
	CHECK_INT(score_until(&d, 72), 0);
	CHECK_INT(score_until(&d, 0), SCORE_NEVER);
	CHECK_STR(ioc_confidence_band(score_at(&d, score_until(&d, 70))), "high");
	CHECK_STR(ioc_confidence_band(score_at(&d, score_until(&d, 70) + 1)), "medium");
	check_agrees(&d);

	/* Worked example 2: a sha256 from one grade-A feed at 80 (96), lifetime 365, speed 0.5. */
	d = (struct score_decay){ 96, T0, T0 + 365 * DAY, 0.5 };
	CHECK_INT(score_at(&d, T0 + 180 * DAY), 73);	/* 96 × (1 − (180/365)²) = 72.65 */
	CHECK_INT(score_at(&d, T0 + 300 * DAY), 31);	/* 96 × (1 − (300/365)²) = 31.15 */
	CHECK(score_until(&d, 70) > T0 + 191 * DAY && score_until(&d, 70) < T0 + 192 * DAY);
	check_agrees(&d);

	/* A fast decay (speed 3) and a base that is not a round number. */
	d = (struct score_decay){ 37, T0, T0 + 7 * DAY, 3.0 };
	CHECK_INT(score_at(&d, T0 + DAY), 18);	/* 37 × (1 − (1/7)^⅓) = 17.66 */
	check_agrees(&d);

	/* No lifetime: no decay, every band it reached held for ever. */
	d = (struct score_decay){ 85, T0, 0, 1.0 };
	CHECK_INT(score_at(&d, T0 + 3650 * DAY), 85);
	CHECK_INT(score_until(&d, 70), SCORE_NEVER);
	CHECK_INT(score_until(&d, 86), 0);

	/* A record: its base, decay and last_seen give the score at any time. */
	struct ioc_record r = { 0 };
	r.base_score = 71;
	r.last_seen = T0;
	r.decay_end = T0 + 30 * DAY;
	r.decay_speed = 1.0;
	CHECK_INT(ioc_score_at(&r, T0 + DAY), 69);
}

int main(void)
{
	test_weights();
	test_base();
	test_decay();
	return check_summary("test_score");
}
