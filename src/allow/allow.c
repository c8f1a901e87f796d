/*
 * The allow-list matcher: exact values, CIDR ranges, domains, substrings, regular
 * expressions (allow.h). Reading lists is in allow_parse.c.
 *
 * Every structure keeps its nodes in flat arrays indexed by uint32 and its strings in one
 * pool, so a million entries cost a few allocations, not a million. Entries that share a
 * key (the same range in two lists) share a node; the node keeps a chain of owners (list
 * and kind) so a lookup can pick the first owner whose list applies to the value's type.
 */
#include "allow/allow_int.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/xmalloc.h"

const char *allow_kind_name(enum allow_kind k)
{
	switch (k) {
	case ALLOW_EXACT: return "exact";
	case ALLOW_CIDR: return "cidr";
	case ALLOW_DOMAIN: return "domain";
	case ALLOW_SUBSTR: return "substring";
	case ALLOW_REGEX: return "regex";
	}
	return "?";
}

uint64_t allow_hash(const void *p, size_t n, uint64_t seed)
{
	/* FNV-1a with a final mix: entries are short (domains, hashes, addresses). */
	const unsigned char *s = p;
	uint64_t h = 0xcbf29ce484222325ULL ^ seed;
	for (size_t i = 0; i < n; i++) {
		h ^= s[i];
		h *= 0x100000001b3ULL;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

static void *grow(void *p, uint32_t *cap, uint32_t need, size_t elem)
{
	if (need <= *cap)
		return p;
	uint32_t c = *cap ? *cap : 16;
	while (c < need)
		c *= 2;
	p = xrealloc(p, (size_t)c * elem);
	*cap = c;
	return p;
}

static uint32_t pool_add(struct allow_set *s, const char *p, size_t n)
{
	uint32_t off = s->pool_len;
	if ((size_t)s->pool_len + n + 1 > s->pool_cap) {
		size_t c = s->pool_cap ? s->pool_cap : 4096;
		while (c < (size_t)s->pool_len + n + 1)
			c *= 2;
		s->pool = xrealloc(s->pool, c);
		s->pool_cap = c;
	}
	memcpy(s->pool + off, p, n);
	s->pool[off + n] = '\0';
	s->pool_len += (uint32_t)(n + 1);
	return off;
}

/* A new owner (list, kind, aux) at the head of chain *head, unless that list owns it already. */
static void own(struct allow_set *s, uint32_t *head, uint32_t list, enum allow_kind k, uint32_t aux)
{
	for (uint32_t o = *head; o != NONE; o = s->owners[o].next)
		if (s->owners[o].list == list && s->owners[o].kind == k)
			return;
	s->owners = grow(s->owners, &s->owners_cap, s->nowners + 1, sizeof(*s->owners));
	struct owner *ow = &s->owners[s->nowners];
	ow->list = list;
	ow->kind = (uint8_t)k;
	ow->aux = aux;
	ow->next = *head;
	*head = s->nowners++;
}

/* The first owner in the chain whose list applies to type t. */
static const struct owner *owner_for(const struct allow_set *s, uint32_t head, enum ioc_type t)
{
	for (uint32_t o = head; o != NONE; o = s->owners[o].next)
		if (s->lists[s->owners[o].list].types & (1u << t))
			return &s->owners[o];
	return NULL;
}

struct allow_set *allow_set_new(void)
{
	struct allow_set *s = xcalloc(1, sizeof(*s));
	s->refs = 1;
	/* Patricia roots: node 0 for IPv4, node 1 for IPv6, both /0 with no owner. */
	s->pnodes = xcalloc(16, sizeof(*s->pnodes));
	s->pnodes_cap = 16;
	s->npnodes = 2;
	for (int i = 0; i < 2; i++) {
		s->pnodes[i].owner = NONE;
		s->pnodes[i].child[0] = s->pnodes[i].child[1] = 0;
	}
	/* Domain trie root: node 0. */
	s->dnodes = xmalloc(16 * sizeof(*s->dnodes));
	s->dnodes_cap = 16;
	s->dnodes[0] = NONE;
	s->ndnodes = 1;
	/* Substring automaton root: node 0. */
	s->acnodes = xcalloc(16, sizeof(*s->acnodes));
	s->acnodes_cap = 16;
	s->acnodes[0].out = NONE;
	s->nacnodes = 1;
	return s;
}

struct allow_set *allow_set_ref(struct allow_set *s)
{
	if (s)
		__atomic_add_fetch(&s->refs, 1, __ATOMIC_RELAXED);
	return s;
}

void allow_set_unref(struct allow_set *s)
{
	if (s == NULL || __atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	for (uint32_t i = 0; i < s->nlists; i++)
		free(s->lists[i].name);
	free(s->lists);
	free(s->owners);
	free(s->pool);
	free(s->xslots);
	free(s->pnodes);
	free(s->hslots);
	free(s->dnodes);
	free(s->eslots);
	free(s->acnodes);
	free(s->acedges);
	free(s->subs);
	for (uint32_t i = 0; i < s->nregex; i++)
		regfree(&s->regex[i].re);
	free(s->regex);
	free(s);
}

size_t allow_set_lists(const struct allow_set *s)
{
	return s->nlists;
}

int64_t allow_set_entries(const struct allow_set *s)
{
	return s->entries;
}

void allow_set_relabel(struct allow_set *s, int64_t from, int64_t to)
{
	for (uint32_t i = 0; i < s->nlists; i++)
		if (s->lists[i].id == from)
			s->lists[i].id = to;
}

int64_t allow_set_generation(const struct allow_set *s)
{
	return s->generation;
}

void allow_set_set_generation(struct allow_set *s, int64_t gen)
{
	s->generation = gen;
}

int allow_list_index(struct allow_set *s, const char *name, int64_t id, unsigned types, uint32_t *out,
		     struct err *e)
{
	for (uint32_t i = 0; i < s->nlists; i++)
		if (!strcmp(s->lists[i].name, name) && s->lists[i].id == id) {
			s->lists[i].types |= types;
			*out = i;
			return 0;
		}
	if (s->nlists >= ALLOW_LISTS_MAX)
		return err_set(e, ERR_TOO_LARGE, "more than %d allow-lists", ALLOW_LISTS_MAX);
	s->lists = grow(s->lists, &s->lists_cap, s->nlists + 1, sizeof(*s->lists));
	s->lists[s->nlists].name = xstrdup(name);
	s->lists[s->nlists].id = id;
	s->lists[s->nlists].types = types;
	*out = s->nlists++;
	return 0;
}

/* ---- exact values: open addressing over (hash, pool offset) ---- */

static void lower_copy(char *dst, const char *src, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dst[i] = (char)tolower((unsigned char)src[i]);
}

static void exact_rehash(struct allow_set *s)
{
	uint32_t cap = s->xcap ? s->xcap * 2 : 1024;
	struct xslot *n = xcalloc(cap, sizeof(*n));
	for (uint32_t i = 0; i < s->xcap; i++) {
		if (s->xslots[i].owner == 0)
			continue;
		uint32_t j = (uint32_t)s->xslots[i].h & (cap - 1);
		while (n[j].owner)
			j = (j + 1) & (cap - 1);
		n[j] = s->xslots[i];
	}
	free(s->xslots);
	s->xslots = n;
	s->xcap = cap;
}

/* slot.owner holds owner chain + 1, so 0 marks an empty slot. */
static void exact_add(struct allow_set *s, uint32_t list, const char *v, size_t n)
{
	char low[ALLOW_ENTRY_MAX];
	lower_copy(low, v, n);
	if ((s->nx + 1) * 4 > (uint64_t)s->xcap * 3)
		exact_rehash(s);
	uint64_t h = allow_hash(low, n, 0);
	uint32_t j = (uint32_t)h & (s->xcap - 1);
	for (; s->xslots[j].owner; j = (j + 1) & (s->xcap - 1)) {
		struct xslot *x = &s->xslots[j];
		if (x->h == h && x->len == n && !memcmp(s->pool + x->off, low, n)) {
			uint32_t head = x->owner - 1;
			own(s, &head, list, ALLOW_EXACT, 0);
			s->xslots[j].owner = head + 1;
			return;
		}
	}
	uint32_t head = NONE;
	own(s, &head, list, ALLOW_EXACT, 0);
	uint32_t off = pool_add(s, low, n);
	s->xslots[j] = (struct xslot){ h, off, (uint32_t)n, head + 1 };
	s->nx++;
}

static const struct owner *exact_find(const struct allow_set *s, enum ioc_type t, const char *v, size_t n,
				      const char **entry)
{
	if (s->xcap == 0 || n > ALLOW_ENTRY_MAX)
		return NULL;
	char low[ALLOW_ENTRY_MAX];
	lower_copy(low, v, n);
	uint64_t h = allow_hash(low, n, 0);
	for (uint32_t j = (uint32_t)h & (s->xcap - 1); s->xslots[j].owner; j = (j + 1) & (s->xcap - 1)) {
		const struct xslot *x = &s->xslots[j];
		if (x->h == h && x->len == n && !memcmp(s->pool + x->off, low, n)) {
			*entry = s->pool + x->off;
			return owner_for(s, x->owner - 1, t);
		}
	}
	return NULL;
}

/* ---- CIDR: a path-compressed binary trie over 128-bit keys ---- */

static int kbit(uint64_t hi, uint64_t lo, unsigned i)
{
	return i < 64 ? (int)(hi >> (63 - i)) & 1 : (int)(lo >> (127 - i)) & 1;
}

static void mask_key(uint64_t *hi, uint64_t *lo, unsigned plen)
{
	if (plen == 0) {
		*hi = *lo = 0;
	} else if (plen < 64) {
		*hi &= ~0ULL << (64 - plen);
		*lo = 0;
	} else if (plen == 64) {
		*lo = 0;
	} else if (plen < 128) {
		*lo &= ~0ULL << (128 - plen);
	}
}

/* Length of the common prefix of two keys, at most max bits. */
static unsigned common_bits(uint64_t ahi, uint64_t alo, uint64_t bhi, uint64_t blo, unsigned max)
{
	uint64_t x = ahi ^ bhi;
	unsigned n;
	if (x)
		n = (unsigned)__builtin_clzll(x);
	else if ((x = alo ^ blo) != 0)
		n = 64 + (unsigned)__builtin_clzll(x);
	else
		n = 128;
	return n < max ? n : max;
}

static uint32_t pnode_new(struct allow_set *s, uint64_t hi, uint64_t lo, unsigned plen)
{
	s->pnodes = grow(s->pnodes, &s->pnodes_cap, s->npnodes + 1, sizeof(*s->pnodes));
	struct pnode *n = &s->pnodes[s->npnodes];
	mask_key(&hi, &lo, plen);
	n->hi = hi;
	n->lo = lo;
	n->plen = (uint8_t)plen;
	n->child[0] = n->child[1] = 0;
	n->owner = NONE;
	return s->npnodes++;
}

static uint64_t host_hash(int family, uint64_t hi, uint64_t lo)
{
	/* IPv4 keys live in the top 32 bits: mix them all down (murmur3's finaliser). */
	uint64_t h = hi ^ (lo * 0x9e3779b97f4a7c15ULL) ^ (uint64_t)family;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	return h ^ (h >> 33);
}

static void hosts_rehash(struct allow_set *s)
{
	uint32_t cap = s->hcap ? s->hcap * 2 : 1024;
	struct hslot *n = xcalloc(cap, sizeof(*n));
	for (uint32_t i = 0; i < s->hcap; i++) {
		if (s->hslots[i].owner == 0)
			continue;
		uint32_t j = (uint32_t)host_hash((int)s->hslots[i].family, s->hslots[i].hi, s->hslots[i].lo) & (cap - 1);
		while (n[j].owner)
			j = (j + 1) & (cap - 1);
		n[j] = s->hslots[i];
	}
	free(s->hslots);
	s->hslots = n;
	s->hcap = cap;
}

static void host_add(struct allow_set *s, uint32_t list, int family, uint64_t hi, uint64_t lo)
{
	if ((s->nh + 1) * 4 > (uint64_t)s->hcap * 3)
		hosts_rehash(s);
	uint32_t j = (uint32_t)host_hash(family, hi, lo) & (s->hcap - 1);
	for (; s->hslots[j].owner; j = (j + 1) & (s->hcap - 1)) {
		struct hslot *x = &s->hslots[j];
		if (x->hi == hi && x->lo == lo && x->family == (uint32_t)family) {
			uint32_t head = x->owner - 1;
			own(s, &head, list, ALLOW_CIDR, 0);
			s->hslots[j].owner = head + 1;
			return;
		}
	}
	uint32_t head = NONE;
	own(s, &head, list, ALLOW_CIDR, 0);
	s->hslots[j] = (struct hslot){ hi, lo, head + 1, (uint32_t)family };
	s->nh++;
}

static const struct owner *host_find(const struct allow_set *s, enum ioc_type t, int family, uint64_t hi, uint64_t lo)
{
	if (s->hcap == 0)
		return NULL;
	for (uint32_t j = (uint32_t)host_hash(family, hi, lo) & (s->hcap - 1); s->hslots[j].owner;
	     j = (j + 1) & (s->hcap - 1)) {
		const struct hslot *x = &s->hslots[j];
		if (x->hi == hi && x->lo == lo && x->family == (uint32_t)family)
			return owner_for(s, x->owner - 1, t);
	}
	return NULL;
}

/* family: 0 IPv4 (key in the top 32 bits, plen <= 32), 1 IPv6. */
static void cidr_add(struct allow_set *s, uint32_t list, int family, uint64_t hi, uint64_t lo, unsigned plen)
{
	mask_key(&hi, &lo, plen);
	if (plen == (family ? 128u : 32u)) {
		host_add(s, list, family, hi, lo);
		return;
	}
	uint32_t n = (uint32_t)family;
	for (;;) {
		struct pnode *cur = &s->pnodes[n];
		if (cur->plen == plen) {
			uint32_t head = cur->owner;
			own(s, &head, list, ALLOW_CIDR, 0);
			s->pnodes[n].owner = head;
			return;
		}
		int b = kbit(hi, lo, cur->plen);
		uint32_t c = cur->child[b];
		if (c == 0) {
			uint32_t leaf = pnode_new(s, hi, lo, plen);
			uint32_t head = NONE;
			own(s, &head, list, ALLOW_CIDR, 0);
			s->pnodes[leaf].owner = head;
			s->pnodes[n].child[b] = leaf;
			return;
		}
		struct pnode *cn = &s->pnodes[c];
		unsigned cp = common_bits(hi, lo, cn->hi, cn->lo, plen < cn->plen ? plen : cn->plen);
		if (cp == cn->plen) {
			n = c;
			continue;
		}
		uint64_t chi = cn->hi, clo = cn->lo;
		if (cp == plen) {
			/* The new prefix sits between n and c. */
			uint32_t m = pnode_new(s, hi, lo, plen);
			uint32_t head = NONE;
			own(s, &head, list, ALLOW_CIDR, 0);
			s->pnodes[m].owner = head;
			s->pnodes[m].child[kbit(chi, clo, plen)] = c;
			s->pnodes[n].child[b] = m;
			return;
		}
		/* They part at bit cp: a branch node there, with the new leaf and c below it. */
		uint32_t m = pnode_new(s, hi, lo, cp);
		uint32_t leaf = pnode_new(s, hi, lo, plen);
		uint32_t head = NONE;
		own(s, &head, list, ALLOW_CIDR, 0);
		s->pnodes[leaf].owner = head;
		s->pnodes[m].child[kbit(hi, lo, cp)] = leaf;
		s->pnodes[m].child[kbit(chi, clo, cp)] = c;
		s->pnodes[n].child[b] = m;
		return;
	}
}

/*
 * The most specific range holding the whole network hi/lo of length plen (plen = 32 or
 * 128 for one address) whose list applies to t.
 */
static const struct owner *cidr_find(const struct allow_set *s, enum ioc_type t, int family, uint64_t hi,
				     uint64_t lo, unsigned plen, uint32_t *node)
{
	const struct owner *best = NULL;
	uint32_t n = (uint32_t)family;
	for (;;) {
		const struct pnode *cur = &s->pnodes[n];
		const struct owner *o = cur->owner != NONE ? owner_for(s, cur->owner, t) : NULL;
		if (o) {
			best = o;
			*node = n;
		}
		if (cur->plen >= plen)
			break;
		uint32_t c = cur->child[kbit(hi, lo, cur->plen)];
		if (c == 0)
			break;
		const struct pnode *cn = &s->pnodes[c];
		if (cn->plen > plen || common_bits(hi, lo, cn->hi, cn->lo, cn->plen) < cn->plen)
			break;
		n = c;
	}
	return best;
}

static void cidr_format(int family, uint64_t hi, uint64_t lo, unsigned plen, char *out, size_t cap)
{
	char a[INET6_ADDRSTRLEN];
	if (family == 0) {
		struct in_addr v4;
		v4.s_addr = htonl((uint32_t)(hi >> 32));
		inet_ntop(AF_INET, &v4, a, sizeof(a));
		if (plen == 32)
			snprintf(out, cap, "%s", a);	/* one address: as it was listed */
		else
			snprintf(out, cap, "%s/%u", a, plen);
	} else {
		struct in6_addr v6;
		for (int i = 0; i < 8; i++) {
			v6.s6_addr[i] = (uint8_t)(hi >> (56 - 8 * i));
			v6.s6_addr[8 + i] = (uint8_t)(lo >> (56 - 8 * i));
		}
		inet_ntop(AF_INET6, &v6, a, sizeof(a));
		if (plen == 128)
			snprintf(out, cap, "%s", a);
		else
			snprintf(out, cap, "%s/%u", a, plen);
	}
}

/*
 * Parses an address or a network: "a.b.c.d", "a.b.c.d/n", an IPv6 address with optional
 * /n. Host bits are allowed (lists often carry them) and dropped. An IPv4-mapped IPv6
 * address becomes its IPv4 form. Returns 0 with family 0 (IPv4) or 1.
 */
int allow_parse_ip(const char *p, size_t n, int *family, uint64_t *hi, uint64_t *lo, unsigned *plen)
{
	char tmp[INET6_ADDRSTRLEN + 8];
	if (n == 0 || n >= sizeof(tmp))
		return -1;
	memcpy(tmp, p, n);
	tmp[n] = '\0';
	char *slash = strchr(tmp, '/');
	long bits = -1;
	if (slash) {
		*slash = '\0';
		char *end;
		if (!isdigit((unsigned char)slash[1]) || strlen(slash + 1) > 3)
			return -1;
		bits = strtol(slash + 1, &end, 10);
		if (*end)
			return -1;
	}
	struct in_addr v4;
	struct in6_addr v6;
	if (strchr(tmp, ':') == NULL) {
		if (inet_pton(AF_INET, tmp, &v4) != 1 || bits > 32)
			return -1;
		*family = 0;
		*hi = (uint64_t)ntohl(v4.s_addr) << 32;
		*lo = 0;
		*plen = bits < 0 ? 32 : (unsigned)bits;
		return 0;
	}
	if (inet_pton(AF_INET6, tmp, &v6) != 1 || bits > 128)
		return -1;
	uint64_t h = 0, l = 0;
	for (int i = 0; i < 8; i++) {
		h = h << 8 | v6.s6_addr[i];
		l = l << 8 | v6.s6_addr[8 + i];
	}
	unsigned pl = bits < 0 ? 128 : (unsigned)bits;
	if (h == 0 && (l >> 32) == 0xffff && pl >= 96) {
		/* ::ffff:a.b.c.d — an IPv4 address in IPv6 clothing. */
		*family = 0;
		*hi = (l & 0xffffffffULL) << 32;
		*lo = 0;
		*plen = pl - 96;
		return 0;
	}
	*family = 1;
	*hi = h;
	*lo = l;
	*plen = pl;
	return 0;
}

/* ---- domains: a reversed-label trie, its edges in one hash table ---- */

static void edges_rehash(struct allow_set *s)
{
	uint32_t cap = s->ecap ? s->ecap * 2 : 1024;
	struct eslot *n = xcalloc(cap, sizeof(*n));
	for (uint32_t i = 0; i < s->ecap; i++) {
		if (s->eslots[i].child == 0)
			continue;
		uint32_t j = (uint32_t)s->eslots[i].h & (cap - 1);
		while (n[j].child)
			j = (j + 1) & (cap - 1);
		n[j] = s->eslots[i];
	}
	free(s->eslots);
	s->eslots = n;
	s->ecap = cap;
}

static uint32_t edge_find(const struct allow_set *s, uint32_t parent, const char *label, size_t n, uint64_t h)
{
	if (s->ecap == 0)
		return 0;
	for (uint32_t j = (uint32_t)h & (s->ecap - 1); s->eslots[j].child; j = (j + 1) & (s->ecap - 1)) {
		const struct eslot *x = &s->eslots[j];
		if (x->h == h && x->parent == parent && x->len == n && !memcmp(s->pool + x->off, label, n))
			return x->child;
	}
	return 0;
}

/* Walks (creating) the labels of d (lower case, no trailing dot) from the right. */
static void domain_add(struct allow_set *s, uint32_t list, const char *d, size_t n)
{
	uint32_t node = 0;
	size_t end = n;
	while (end > 0) {
		size_t start = end;
		while (start > 0 && d[start - 1] != '.')
			start--;
		const char *label = d + start;
		size_t ln = end - start;
		uint64_t h = allow_hash(label, ln, node);
		uint32_t c = edge_find(s, node, label, ln, h);
		if (c == 0) {
			if ((s->nedges + 1) * 4 > (uint64_t)s->ecap * 3)
				edges_rehash(s);
			s->dnodes = grow(s->dnodes, &s->dnodes_cap, s->ndnodes + 1, sizeof(*s->dnodes));
			c = s->ndnodes++;
			s->dnodes[c] = NONE;
			uint32_t j = (uint32_t)h & (s->ecap - 1);
			while (s->eslots[j].child)
				j = (j + 1) & (s->ecap - 1);
			s->eslots[j] = (struct eslot){ h, node, c, pool_add(s, label, ln), (uint32_t)ln };
			s->nedges++;
		}
		node = c;
		end = start ? start - 1 : 0;
		if (start == 0)
			break;
	}
	uint32_t head = s->dnodes[node];
	own(s, &head, list, ALLOW_DOMAIN, 0);
	s->dnodes[node] = head;
}

/* The most specific listed domain that d (lower case) is, or is under. *at: where it starts in d. */
static const struct owner *domain_find(const struct allow_set *s, enum ioc_type t, const char *d, size_t n,
				       size_t *at)
{
	const struct owner *best = NULL;
	uint32_t node = 0;
	size_t end = n;
	if (s->nedges == 0)
		return NULL;
	while (end > 0) {
		size_t start = end;
		while (start > 0 && d[start - 1] != '.')
			start--;
		size_t ln = end - start;
		uint32_t c = edge_find(s, node, d + start, ln, allow_hash(d + start, ln, node));
		if (c == 0)
			break;
		node = c;
		if (s->dnodes[node] != NONE) {
			const struct owner *o = owner_for(s, s->dnodes[node], t);
			if (o) {
				best = o;
				*at = start;
			}
		}
		if (start == 0)
			break;
		end = start - 1;
	}
	return best;
}

/* ---- substrings: Aho–Corasick over lower-case bytes ---- */

static void acedges_rehash(struct allow_set *s)
{
	uint32_t cap = s->accap ? s->accap * 2 : 1024;
	struct acedge *n = xcalloc(cap, sizeof(*n));
	for (uint32_t i = 0; i < s->accap; i++) {
		if (s->acedges[i].child == 0)
			continue;
		uint32_t j = (s->acedges[i].node * 0x9e3779b1u ^ s->acedges[i].c) & (cap - 1);
		while (n[j].child)
			j = (j + 1) & (cap - 1);
		n[j] = s->acedges[i];
	}
	free(s->acedges);
	s->acedges = n;
	s->accap = cap;
}

static uint32_t ac_child(const struct allow_set *s, uint32_t node, unsigned char c)
{
	if (s->accap == 0)
		return 0;
	for (uint32_t j = (node * 0x9e3779b1u ^ c) & (s->accap - 1); s->acedges[j].child; j = (j + 1) & (s->accap - 1))
		if (s->acedges[j].node == node && s->acedges[j].c == c)
			return s->acedges[j].child;
	return 0;
}

static void substr_add(struct allow_set *s, uint32_t list, const char *v, size_t n)
{
	uint32_t node = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)tolower((unsigned char)v[i]);
		uint32_t ch = ac_child(s, node, c);
		if (ch == 0) {
			if ((s->nacedges + 1) * 4 > (uint64_t)s->accap * 3)
				acedges_rehash(s);
			s->acnodes = grow(s->acnodes, &s->acnodes_cap, s->nacnodes + 1, sizeof(*s->acnodes));
			ch = s->nacnodes++;
			s->acnodes[ch] = (struct acnode){ 0, NONE, 0 };
			uint32_t j = (node * 0x9e3779b1u ^ c) & (s->accap - 1);
			while (s->acedges[j].child)
				j = (j + 1) & (s->accap - 1);
			s->acedges[j] = (struct acedge){ node, ch, c };
			s->nacedges++;
		}
		node = ch;
	}
	s->subs = grow(s->subs, &s->subs_cap, s->nsubs + 1, sizeof(*s->subs));
	char low[ALLOW_SUBSTR_LEN];
	lower_copy(low, v, n);
	s->subs[s->nsubs] = pool_add(s, low, n);
	uint32_t head = s->acnodes[node].out;
	own(s, &head, list, ALLOW_SUBSTR, s->nsubs);
	s->acnodes[node].out = head;
	s->nsubs++;
	s->ac_frozen = false;
}

/* Failure links by breadth-first walk; `dict` points at the nearest proper suffix node with
 * output. The edge table has no per-node lists, so the children are first laid out by node. */
static void ac_build(struct allow_set *s)
{
	uint32_t nn = s->nacnodes;
	uint32_t *start = xcalloc((size_t)nn + 1, sizeof(*start));
	uint32_t *kids = xmalloc(((size_t)s->nacedges + 1) * sizeof(*kids));
	unsigned char *kc = xmalloc((size_t)s->nacedges + 1);
	for (uint32_t i = 0; i < s->accap; i++)
		if (s->acedges[i].child)
			start[s->acedges[i].node + 1]++;
	for (uint32_t i = 0; i < nn; i++)
		start[i + 1] += start[i];
	uint32_t *fill = xmalloc((size_t)nn * sizeof(*fill));
	memcpy(fill, start, (size_t)nn * sizeof(*fill));
	for (uint32_t i = 0; i < s->accap; i++)
		if (s->acedges[i].child) {
			uint32_t at = fill[s->acedges[i].node]++;
			kids[at] = s->acedges[i].child;
			kc[at] = s->acedges[i].c;
		}
	free(fill);
	uint32_t *queue = xmalloc((size_t)nn * sizeof(*queue));
	uint32_t qh = 0, qt = 0;
	for (uint32_t k = start[0]; k < start[1]; k++) {
		s->acnodes[kids[k]].fail = 0;
		s->acnodes[kids[k]].dict = 0;
		queue[qt++] = kids[k];
	}
	while (qh < qt) {
		uint32_t u = queue[qh++];
		for (uint32_t k = start[u]; k < start[u + 1]; k++) {
			uint32_t v = kids[k];
			unsigned char c = kc[k];
			uint32_t f = s->acnodes[u].fail, g;
			while ((g = ac_child(s, f, c)) == 0 && f != 0)
				f = s->acnodes[f].fail;
			s->acnodes[v].fail = g != v ? g : 0;
			uint32_t fv = s->acnodes[v].fail;
			s->acnodes[v].dict = s->acnodes[fv].out != NONE ? fv : s->acnodes[fv].dict;
			queue[qt++] = v;
		}
	}
	free(queue);
	free(start);
	free(kids);
	free(kc);
	s->ac_frozen = true;
}

static const struct owner *substr_find(const struct allow_set *s, enum ioc_type t, const char *v, size_t n)
{
	if (s->nsubs == 0 || !s->ac_frozen)
		return NULL;
	uint32_t node = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)tolower((unsigned char)v[i]);
		uint32_t g;
		while ((g = ac_child(s, node, c)) == 0 && node != 0)
			node = s->acnodes[node].fail;
		node = g;
		for (uint32_t m = node; m != 0; m = s->acnodes[m].dict) {
			if (s->acnodes[m].out != NONE) {
				const struct owner *o = owner_for(s, s->acnodes[m].out, t);
				if (o)
					return o;
			}
			if (s->acnodes[m].dict == m)
				break;
		}
	}
	return NULL;
}

/* ---- regular expressions ---- */

static int regex_add(struct allow_set *s, uint32_t list, const char *pat, size_t n, bool icase, struct err *e)
{
	if (s->nregex >= ALLOW_REGEX_MAX)
		return err_set(e, ERR_TOO_LARGE, "more than %d regular expressions", ALLOW_REGEX_MAX);
	if (n > ALLOW_REGEX_LEN)
		return err_set(e, ERR_TOO_LARGE, "regular expression longer than %d bytes", ALLOW_REGEX_LEN);
	char tmp[ALLOW_REGEX_LEN + 1];
	memcpy(tmp, pat, n);
	tmp[n] = '\0';
	if (memchr(pat, '\0', n))
		return err_set(e, ERR_INVALID, "NUL byte in a regular expression");
	s->regex = grow(s->regex, &s->regex_cap, s->nregex + 1, sizeof(*s->regex));
	struct rx *r = &s->regex[s->nregex];
	int rc = regcomp(&r->re, tmp, REG_EXTENDED | REG_NOSUB | (icase ? REG_ICASE : 0));
	if (rc != 0) {
		char msg[128];
		regerror(rc, &r->re, msg, sizeof(msg));
		regfree(&r->re);
		return err_set(e, ERR_INVALID, "regular expression: %s", msg);
	}
	r->list = list;
	r->pattern = pool_add(s, tmp, n);
	s->nregex++;
	return 0;
}

/* ---- building ---- */

int allow_add_kind(struct allow_set *s, uint32_t list, enum allow_kind k, const char *v, size_t n, bool icase,
		   struct err *e)
{
	if (s->entries >= ALLOW_ENTRIES_MAX)
		return err_set(e, ERR_TOO_LARGE, "more than %d allow-list entries", ALLOW_ENTRIES_MAX);
	if (n == 0)
		return err_set(e, ERR_INVALID, "empty entry");
	if (n > ALLOW_ENTRY_MAX)
		return err_set(e, ERR_TOO_LARGE, "entry longer than %d bytes", ALLOW_ENTRY_MAX);
	switch (k) {
	case ALLOW_EXACT:
		exact_add(s, list, v, n);
		break;
	case ALLOW_CIDR: {
		int fam;
		uint64_t hi, lo;
		unsigned plen;
		if (allow_parse_ip(v, n, &fam, &hi, &lo, &plen) != 0)
			return err_set(e, ERR_INVALID, "not an IP address or CIDR range");
		cidr_add(s, list, fam, hi, lo, plen);
		break;
	}
	case ALLOW_DOMAIN:
		domain_add(s, list, v, n);
		break;
	case ALLOW_SUBSTR:
		if (n > ALLOW_SUBSTR_LEN)
			return err_set(e, ERR_TOO_LARGE, "substring longer than %d bytes", ALLOW_SUBSTR_LEN);
		if (s->nsubs >= ALLOW_SUBSTR_MAX)
			return err_set(e, ERR_TOO_LARGE, "more than %d substring entries", ALLOW_SUBSTR_MAX);
		substr_add(s, list, v, n);
		break;
	case ALLOW_REGEX: {
		int rc = regex_add(s, list, v, n, icase, e);
		if (rc)
			return rc;
		break;
	}
	}
	s->entries++;
	return 0;
}

void allow_set_freeze(struct allow_set *s)
{
	if (!s->ac_frozen && s->nsubs)
		ac_build(s);
	s->ac_frozen = true;
}

/* ---- matching ---- */

static void fill_hit(const struct allow_set *s, const struct owner *o, struct allow_hit *hit, const char *entry,
		     size_t n)
{
	if (hit == NULL)
		return;
	hit->list = s->lists[o->list].name;
	hit->list_id = s->lists[o->list].id;
	hit->kind = (enum allow_kind)o->kind;
	if (n >= sizeof(hit->entry))
		n = sizeof(hit->entry) - 1;
	memcpy(hit->entry, entry, n);
	hit->entry[n] = '\0';
}

static bool ip_match(const struct allow_set *s, enum ioc_type t, const char *v, size_t n, struct allow_hit *hit)
{
	int fam;
	uint64_t hi, lo;
	unsigned plen;
	uint32_t node = 0;
	bool empty = s->npnodes <= 2 && s->nh == 0 && s->pnodes[0].owner == NONE && s->pnodes[1].owner == NONE;
	if (empty || allow_parse_ip(v, n, &fam, &hi, &lo, &plen) != 0)
		return false;
	const struct owner *o = NULL;
	unsigned full = fam ? 128 : 32;
	/* A single address listed is the most specific entry there can be. */
	if (plen == full && (o = host_find(s, t, fam, hi, lo)) != NULL) {
		if (hit) {
			char buf[INET6_ADDRSTRLEN + 8];
			cidr_format(fam, hi, lo, full, buf, sizeof(buf));
			fill_hit(s, o, hit, buf, strlen(buf));
		}
		return true;
	}
	if ((o = cidr_find(s, t, fam, hi, lo, plen, &node)) == NULL)
		return false;
	if (hit) {
		char buf[INET6_ADDRSTRLEN + 8];
		const struct pnode *pn = &s->pnodes[node];
		cidr_format(fam, pn->hi, pn->lo, pn->plen, buf, sizeof(buf));
		fill_hit(s, o, hit, buf, strlen(buf));
	}
	return true;
}

static bool domain_match(const struct allow_set *s, enum ioc_type t, const char *d, size_t n, struct allow_hit *hit)
{
	char low[ALLOW_ENTRY_MAX];
	size_t at = 0;
	if (n == 0 || n > sizeof(low))
		return false;
	lower_copy(low, d, n);
	while (n && low[n - 1] == '.')	/* a trailing dot names the same domain */
		n--;
	const struct owner *o = domain_find(s, t, low, n, &at);
	if (o == NULL)
		return false;
	fill_hit(s, o, hit, low + at, n - at);
	return true;
}

/* The host of a URL: after the scheme and any user info, before the port, path, query or fragment. */
static bool url_host(const char *v, size_t n, const char **host, size_t *hn)
{
	const char *p = memmem(v, n, "://", 3);
	const char *end = v + n;
	if (p == NULL)
		return false;
	p += 3;
	const char *h = p;
	while (p < end && *p != '/' && *p != '?' && *p != '#')
		p++;
	const char *at = NULL;
	for (const char *q = h; q < p; q++)
		if (*q == '@')
			at = q;
	if (at)
		h = at + 1;
	const char *he = p;
	if (h < he && *h == '[') {
		const char *rb = memchr(h, ']', (size_t)(he - h));
		if (rb == NULL)
			return false;
		*host = h + 1;
		*hn = (size_t)(rb - h - 1);
		return *hn > 0;
	}
	for (const char *q = he; q > h; q--)
		if (q[-1] == ':') {
			he = q - 1;
			break;
		}
	*host = h;
	*hn = (size_t)(he - h);
	return *hn > 0;
}

static bool looks_ip(const char *h, size_t n)
{
	if (memchr(h, ':', n))
		return true;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)h[i]) && h[i] != '.')
			return false;
	return true;
}

bool allow_match(const struct allow_set *s, enum ioc_type t, const char *v, size_t n, struct allow_hit *hit)
{
	if (s == NULL || t <= IOC_NONE || t >= IOC_TYPE_COUNT || n == 0)
		return false;
	const char *entry = NULL;
	const struct owner *o = exact_find(s, t, v, n, &entry);
	if (o) {
		fill_hit(s, o, hit, entry, strlen(entry));
		return true;
	}
	switch (t) {
	case IOC_IPV4:
	case IOC_IPV6:
		if (ip_match(s, t, v, n, hit))
			return true;
		break;
	case IOC_DOMAIN:
		if (domain_match(s, t, v, n, hit))
			return true;
		break;
	case IOC_URL: {
		const char *h;
		size_t hn;
		if (url_host(v, n, &h, &hn)) {
			if (looks_ip(h, hn) ? ip_match(s, t, h, hn, hit) : domain_match(s, t, h, hn, hit))
				return true;
		}
		break;
	}
	default:
		break;
	}
	if ((o = substr_find(s, t, v, n)) != NULL) {
		const char *sub = s->pool + s->subs[o->aux];
		fill_hit(s, o, hit, sub, strlen(sub));
		return true;
	}
	if (s->nregex) {
		char tmp[ALLOW_ENTRY_MAX + 1];
		if (n > ALLOW_ENTRY_MAX)
			return false;
		memcpy(tmp, v, n);
		tmp[n] = '\0';
		for (uint32_t i = 0; i < s->nregex; i++) {
			const struct rx *r = &s->regex[i];
			if (!(s->lists[r->list].types & (1u << t)))
				continue;
			if (regexec(&r->re, tmp, 0, NULL, 0) == 0) {
				struct owner ow = { r->list, ALLOW_REGEX, 0, NONE };
				const char *pat = s->pool + r->pattern;
				fill_hit(s, &ow, hit, pat, strlen(pat));
				return true;
			}
		}
	}
	return false;
}
