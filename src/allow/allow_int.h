/*
 * allow_int.h — what the files of src/allow/ share. Not for use outside it.
 */
#ifndef CAIRN_ALLOW_INT_H
#define CAIRN_ALLOW_INT_H

#include <regex.h>
#include <stdint.h>

#include "allow/allow.h"

#define NONE UINT32_MAX

struct alist {
	char *name;
	int64_t id;
	unsigned types;
};

/* One list's claim on a node: chains through next. aux: the substring's index. */
struct owner {
	uint32_t list;
	uint8_t kind;
	uint32_t aux;
	uint32_t next;
};

struct xslot {			/* exact: owner = chain head + 1, 0 = empty */
	uint64_t h;
	uint32_t off, len, owner;
};

struct pnode {			/* cidr */
	uint64_t hi, lo;
	uint32_t child[2];
	uint32_t owner;
	uint8_t plen;
};

struct hslot {			/* single addresses: owner = chain head + 1, 0 = empty */
	uint64_t hi, lo;
	uint32_t owner;
	uint32_t family;
};

struct eslot {			/* domain trie edge: child 0 = empty */
	uint64_t h;
	uint32_t parent, child, off, len;
};

struct acnode {
	uint32_t fail, out, dict;
};

struct acedge {
	uint32_t node, child;
	unsigned char c;
};

struct rx {
	regex_t re;
	uint32_t list;
	uint32_t pattern;	/* pool offset */
};

struct allow_set {
	int refs;
	int64_t generation;
	int64_t entries;

	struct alist *lists;
	uint32_t nlists, lists_cap;
	struct owner *owners;
	uint32_t nowners, owners_cap;
	char *pool;
	uint32_t pool_len;
	size_t pool_cap;

	struct xslot *xslots;
	uint32_t xcap, nx;

	struct pnode *pnodes;		/* ranges */
	uint32_t npnodes, pnodes_cap;
	struct hslot *hslots;		/* single addresses (/32, /128): one probe instead of a walk */
	uint32_t hcap, nh;

	uint32_t *dnodes;	/* owner chain per trie node */
	uint32_t ndnodes, dnodes_cap;
	struct eslot *eslots;
	uint32_t ecap, nedges;

	struct acnode *acnodes;
	uint32_t nacnodes, acnodes_cap;
	struct acedge *acedges;
	uint32_t accap, nacedges;
	uint32_t *subs;		/* pool offsets of the substrings */
	uint32_t nsubs, subs_cap;
	bool ac_frozen;

	struct rx *regex;
	uint32_t nregex, regex_cap;
};

uint64_t allow_hash(const void *p, size_t n, uint64_t seed);
/* The index of list (name, id) in s, added if new; types are OR-ed in. */
int allow_list_index(struct allow_set *s, const char *name, int64_t id, unsigned types, uint32_t *out,
		     struct err *e);
/* Adds one entry, already in the form its structure keeps (domains lower case, no dots
 * around; CIDR as text). icase: regex only. */
int allow_add_kind(struct allow_set *s, uint32_t list, enum allow_kind k, const char *v, size_t n, bool icase,
		   struct err *e);
int allow_parse_ip(const char *p, size_t n, int *family, uint64_t *hi, uint64_t *lo, unsigned *plen);

#endif
