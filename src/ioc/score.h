/*
 * score.h — an indicator's confidence score (docs/scoring.md): a base from its
 * sources' reliability and their own scores, a bonus for further independent
 * sources and for sightings, and a decay with age in the manner of MISP's
 * decaying models:
 *
 *     score(t) = round(base × (1 − (t / lifetime)^(1 / speed)))
 *
 * t being the time since the record was last seen. The times at which the
 * score drops below each band's lower bound (70, 30, 1) are computed by the
 * same function that computes the score, so that a band read from stored
 * crossing times and a score computed at the same instant always agree.
 */
#ifndef CAIRN_IOC_SCORE_H
#define CAIRN_IOC_SCORE_H

#include <stdint.h>

#include "ioc/record.h"

#define SCORE_DEFAULT_GRADE 'C'
#define SCORE_SOURCE_BONUS 5		/* per further source */
#define SCORE_SIGHTING_BONUS 2		/* per sighting ... */
#define SCORE_SIGHTINGS_MAX_BONUS 10	/* ... up to this */
/* The band boundaries of ioc_confidence_band(). */
#define SCORE_HIGH 70
#define SCORE_MEDIUM 30
#define SCORE_LOW 1
/* A crossing time that never comes (the score does not decay). */
#define SCORE_NEVER INT64_MAX

/* The Admiralty grade's weight in percent: A 120, B 110, C 100, D 80, E 50, F 100 (cannot
 * be judged: the feed's score as it is); any other character is read as the default C. */
int score_weight(char grade);
/* 'A'..'F' for a grade letter (either case), else 0. */
char score_grade(const char *s);
/* A source's score as it counts: round(feed_score × weight / 100), at most 100. */
int score_weighted(int feed_score, char grade);

struct score_parts {
	int best;		/* the best weighted source score */
	int sources_bonus;	/* SCORE_SOURCE_BONUS per further counted source */
	int sightings_bonus;
	int base;		/* their sum, at most 100 */
};
/* The base of a record whose best weighted source scores `best`, reported by nsources
 * sources that count (a weighted score of at least 1), seen `sightings` times. */
struct score_parts score_base(int best, int64_t nsources, int64_t sightings);

/* The decay of a record: it was last seen at last_seen (µs) and its score reaches 0 at
 * decay_end (last_seen + the type's lifetime; 0 = it does not decay), at `speed`. */
struct score_decay {
	int base;
	int64_t last_seen, decay_end;
	double speed;
};
/* The last instant (µs) at which the score is still at least k: SCORE_NEVER for k <= 0 or
 * a record that does not decay (and k <= base); 0 when the score never reached k. */
int64_t score_until(const struct score_decay *d, int k);
/* The score at instant t (µs). */
int score_at(const struct score_decay *d, int64_t t);

/* A record's decay parameters, and its score at t (its STIX versions carry the score at
 * their `modified`, its REST form the score at the time of the request). */
struct score_decay score_decay_of(const struct ioc_record *r);
int ioc_score_at(const struct ioc_record *r, int64_t t);

#endif
