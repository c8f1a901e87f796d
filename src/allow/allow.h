/*
 * allow.h — allow-lists: the values cairn never publishes (docs/allowlists.md).
 *
 * A `struct allow_set` is a compiled matcher over any number of lists. Each entry is one of
 * five kinds, each with its own structure:
 *   exact    a hash set of values (ASCII case-insensitive)
 *   cidr     a path-compressed binary (patricia) tree per address family; longest match.
 *            An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is looked up as its IPv4 address.
 *   domain   a reversed-label trie: an entry stands for the domain and all its subdomains
 *            ("google.com" holds "mail.google.com", not "evil-google.com"); a URL is
 *            checked by its host, and a host that is an IP address by the cidr trees.
 *   substr   an Aho–Corasick automaton (ASCII case-insensitive)
 *   regex    POSIX extended expressions (regcomp, REG_EXTENDED | REG_NOSUB)
 * Each list applies to a set of indicator types (a MISP list's matching_attributes); a
 * lookup reports the list and the entry that matched.
 *
 * Life cycle: allow_set_new(), allow_set_add_*() while building, then allow_set_freeze();
 * after that the set is immutable and allow_match() may be called from any number of
 * threads at once. Sets are reference-counted (allow_set_ref/unref) so a server can swap a
 * rebuilt set in while requests still hold the old one.
 *
 * Depends on base/, ioc/ (canonical forms) and jansson (the MISP warning-list format).
 * Errors: 0 or a negative ERR_* with the reason in e. Out of memory ends the process
 * (xmalloc), so every size that comes from outside is capped below (ALLOW_*_MAX).
 */
#ifndef CAIRN_ALLOW_ALLOW_H
#define CAIRN_ALLOW_ALLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "ioc/ioc.h"

/* Limits on what a list (or all lists together) may hold. */
#define ALLOW_FILE_MAX (256u * 1024 * 1024)	/* bytes of one list as given */
#define ALLOW_LISTS_MAX 1024			/* lists in one set */
#define ALLOW_ENTRIES_MAX 20000000		/* entries in one set */
#define ALLOW_ENTRY_MAX 2048			/* bytes of one entry (IOC_VALUE_MAX) */
#define ALLOW_LINE_MAX 4096			/* bytes of one line of a plain list */
#define ALLOW_SUBSTR_MAX 200000			/* substring entries in one set */
#define ALLOW_SUBSTR_LEN 256			/* bytes of one substring entry */
#define ALLOW_REGEX_MAX 256			/* regular expressions in one set */
#define ALLOW_REGEX_LEN 512			/* bytes of one regular expression */
#define ALLOW_NAME_MAX 64			/* bytes of a list name */
#define ALLOW_SKIPS_KEPT 8			/* skipped entries reported with their reason */

enum allow_kind { ALLOW_EXACT = 1, ALLOW_CIDR, ALLOW_DOMAIN, ALLOW_SUBSTR, ALLOW_REGEX };
const char *allow_kind_name(enum allow_kind k);

/* Every indicator type (the mask of a list without matching_attributes). */
#define ALLOW_ALL_TYPES (((1u << IOC_TYPE_COUNT) - 1) & ~1u)

struct allow_set;

struct allow_set *allow_set_new(void);
struct allow_set *allow_set_ref(struct allow_set *s);
/* Drops a reference; the last one frees the set. NULL does nothing. */
void allow_set_unref(struct allow_set *s);

/* What reading a list found. */
struct allow_skip {
	size_t line;			/* line (plain lists) or 1-based index in "list" (MISP) */
	char reason[160];
};
struct allow_list_info {
	char format[8];			/* "misp", "lines" or "builtin" */
	char type[16];			/* MISP's type (string, substring, hostname, cidr, regex), or "mixed" */
	char name[256];			/* MISP's "name" (a title), else "" */
	char description[512];
	int64_t version;		/* MISP's "version", else 0 */
	unsigned types;			/* the indicator types it applies to (bits of enum ioc_type) */
	int64_t entries;		/* entries taken */
	int64_t skipped;		/* entries that could not be used (blank lines and comments are not counted) */
	int64_t kinds[ALLOW_REGEX + 1];	/* entries by kind */
	struct allow_skip skips[ALLOW_SKIPS_KEPT];
	size_t nskips;
};

/*
 * Adds a list: data[0..len) in the MISP warning-list JSON format (when it starts with '{')
 * or one entry a line. name is the list's name in cairn; id is the caller's id for it
 * (allow_hit.list_id reports it). An entry that cannot be used is skipped, counted and
 * (the first ALLOW_SKIPS_KEPT) explained in info; only an unreadable list (bad JSON, no
 * "list" array, over a limit) fails, with ERR_INVALID or ERR_TOO_LARGE. info may be NULL.
 */
int allow_set_add_list(struct allow_set *s, const char *name, int64_t id, const char *data, size_t len,
		       struct allow_list_info *info, struct err *e) CAIRN_MUST_USE;
/* Adds cairn's built-in list (private, shared, loopback, link-local, multicast,
 * documentation and reserved ranges, public resolvers) under name. */
int allow_set_add_builtin(struct allow_set *s, const char *name, int64_t id, struct allow_list_info *info,
			  struct err *e) CAIRN_MUST_USE;
/* One entry of the given kind, as a list line without its prefix would be read (tests). */
int allow_set_add_entry(struct allow_set *s, const char *name, int64_t id, unsigned types,
			enum allow_kind k, const char *entry, size_t len, struct err *e) CAIRN_MUST_USE;
/* Ends building: lays out the substring automaton. Matching before it finds nothing. */
void allow_set_freeze(struct allow_set *s);

/* The built-in entries with the reason for each (docs/allowlists.md lists them). */
struct allow_builtin_entry {
	const char *entry, *reason;
};
const struct allow_builtin_entry *allow_builtin(size_t *n);

struct allow_hit {
	const char *list;		/* the list's name (valid while the set is) */
	int64_t list_id;
	enum allow_kind kind;
	char entry[ALLOW_ENTRY_MAX + 64];	/* the entry as the set holds it (canonical form) */
};

/*
 * Whether value (canonical, of type t) is on a list of the set. On a match, hit (may be
 * NULL) says which: the most specific entry for cidr and domain, else the first found in
 * the order exact, cidr, domain, substring, regex. Thread-safe on a frozen set.
 */
bool allow_match(const struct allow_set *s, enum ioc_type t, const char *value, size_t len,
		 struct allow_hit *hit);

/* Counts: lists, entries (all kinds). */
size_t allow_set_lists(const struct allow_set *s);
int64_t allow_set_entries(const struct allow_set *s);

/* Gives list `from`'s entries the id `to` (a list read before the store gave it an id). */
void allow_set_relabel(struct allow_set *s, int64_t from, int64_t to);

/* The store's generation this set was built for (set by its builder; allow_db.h). */
int64_t allow_set_generation(const struct allow_set *s);
void allow_set_set_generation(struct allow_set *s, int64_t gen);

/*
 * Translates a regular expression as MISP writes them (PCRE, "/…/flags" delimiters) to a
 * POSIX extended one: (?:…) groups become plain groups, \d classes are spelt out, lazy
 * quantifiers become greedy (the same verdict for a match test), and the i flag is
 * returned in *icase. ERR_INVALID for what POSIX cannot express (look-around,
 * back-references). out gets at most cap - 1 bytes.
 */
int allow_regex_translate(const char *in, size_t len, char *out, size_t cap, bool *icase, struct err *e);

#endif
