/*
 * crypto.h — hashing, randomness and identifiers, on OpenSSL.
 *
 * Randomness comes from RAND_bytes; a failure there ends the process (there
 * is no safe fallback for key material). UUIDs are written as 36 lower-case
 * characters plus NUL.
 */
#ifndef CAIRN_BASE_CRYPTO_H
#define CAIRN_BASE_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define UUID_STR_LEN 36

void crypto_random(void *out, size_t n);
void crypto_sha256(const void *p, size_t n, uint8_t out[32]);
void crypto_hmac_sha256(const void *key, size_t klen, const void *p, size_t n, uint8_t out[32]);
void crypto_sha1(const void *p, size_t n, uint8_t out[20]);
/* Constant-time comparison; returns 1 when equal. */
int crypto_equal(const void *a, const void *b, size_t n);
void crypto_hex(const uint8_t *p, size_t n, char *out);	/* out: 2n+1 bytes */
/* The value of one hex digit (either case), or -1. */
int hex_digit(char c);
/* n random characters of [0-9A-Za-z], without modulo bias; out gets n+1 bytes. */
void crypto_base62(char *out, size_t n);

void uuid_v4(char out[UUID_STR_LEN + 1]);
/* RFC 4122 name-based UUID (SHA-1) of name under namespace ns (a UUID string). */
void uuid_v5(const char *ns, const void *name, size_t name_len, char out[UUID_STR_LEN + 1]);
/* 1 when s (of length len) is a UUID in canonical 8-4-4-4-12 hex form (either case). */
int uuid_valid(const char *s, size_t len);

#endif
