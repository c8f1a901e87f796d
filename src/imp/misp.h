/*
 * misp.h — how MISP attributes and tags become cairn's indicator records (the reader is
 * misp_in.c, behind `cairn import --format misp`; docs/misp.md has the tables).
 *
 * Pure functions over a pointer and a length; nothing is allocated, and the parts handed
 * out point into the caller's value.
 */
#ifndef CAIRN_IMP_MISP_H
#define CAIRN_IMP_MISP_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"
#include "ioc/ioc.h"

/* One value an attribute yields: a part of its value and the type it must have.
 * any_ip: an IPv4 or IPv6 address (type then IOC_NONE). */
struct misp_part {
	enum ioc_type type;
	bool any_ip;
	const char *p;
	size_t len;
};

/*
 * The values cairn keeps from an attribute of MISP type `type` and value v[0..len):
 * returns 0 when cairn keeps no indicator of that type (text, filename, regkey, port, …),
 * 1 or 2 with out[] filled (a composite type such as "domain|ip" gives both halves,
 * "ip-dst|port" and "filename|sha256" the one that is an indicator), or ERR_INVALID with
 * the reason when a composite value lacks its '|'. Composite values are split at their
 * last '|' (a file name may hold one, a hash or a port cannot). *to_ids_meaningful is set
 * to whether MISP's own default for the type is to_ids (false for vulnerability, whose
 * to_ids flag says nothing about the value).
 */
int misp_attribute_parts(const char *type, const char *v, size_t len, struct misp_part out[2],
			 bool *to_ids_meaningful, struct err *e) CAIRN_MUST_USE;

/*
 * The ATT&CK id a tag names, if it is one of the forms MISP and cairn write:
 *   misp-galaxy:mitre-attack-pattern="Name - T1059.001"   (any misp-galaxy:mitre-… galaxy)
 *   misp-galaxy:mitre-attack-pattern="T1059.001"           (cairn, when it knows no name)
 *   mitre-attack:tactic="TA0001" or ="Name - TA0001"       (cairn's form for tactics)
 * Returns true with the canonical id in id (16 bytes) and, when the quoted value has the
 * "Name - ID" form of a MISP galaxy cluster, *named set; false for any other tag (a group
 * or software galaxy such as mitre-intrusion-set="APT28 - G0007" included).
 */
bool misp_tag_attack_id(const char *tag, size_t len, char id[16], bool *named);

#endif
