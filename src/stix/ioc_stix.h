/*
 * ioc_stix.h — the STIX 2.1 object that stands for an indicator record:
 * an `indicator` with a STIX pattern for observable types, a `vulnerability`
 * for CVEs, an `attack-pattern` for ATT&CK techniques (tactics: the custom
 * `x-mitre-tactic`). The object store keeps this JSON, so REST and TAXII
 * serve the same object.
 *
 * Depends on base/, json/, ioc/. Appends to a caller's buffer; no other state.
 */
#ifndef CAIRN_STIX_IOC_STIX_H
#define CAIRN_STIX_IOC_STIX_H

#include <stdint.h>

#include "base/buf.h"
#include "ioc/record.h"

/* cairn's own identity, the created_by_ref of every object it makes. */
#define CAIRN_IDENTITY_ID "identity--0d7c1e52-8b1f-5f4e-a6c2-6e0a9f3b7d15"

/* "indicator", "vulnerability", "attack-pattern" or "x-mitre-tactic". */
const char *ioc_stix_type(enum ioc_type t, const char *value);
/* "indicator--<record uuid>" etc. into out (at least 64 bytes). */
void ioc_stix_id(const struct ioc_record *r, char *out, size_t cap);
/* The STIX pattern of an observable type, e.g. [ipv4-addr:value = '1.2.3.4']. */
void ioc_stix_pattern(struct buf *b, enum ioc_type t, const char *value);
/* The marking-definition id of a TLP 2.0 level name, or NULL. */
const char *ioc_stix_tlp_marking(const char *tlp);
/*
 * Appends the object's JSON. `modified` is the version's timestamp (µs,
 * serialised with millisecond precision).
 */
void ioc_stix_object(struct buf *b, const struct ioc_record *r, int64_t modified);

#endif
