#include "base/crypto.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void crypto_random(void *out, size_t n)
{
	if (n > 0x7fffffff || RAND_bytes(out, (int)n) != 1) {
		fprintf(stderr, "cairn: the system random generator failed\n");
		abort();
	}
}

void crypto_sha256(const void *p, size_t n, uint8_t out[32])
{
	SHA256(p, n, out);
}

void crypto_hmac_sha256(const void *key, size_t klen, const void *p, size_t n, uint8_t out[32])
{
	unsigned int len = 32;
	if (HMAC(EVP_sha256(), key, (int)klen, p, n, out, &len) == NULL) {
		fprintf(stderr, "cairn: HMAC-SHA256 failed\n");
		abort();
	}
}

void crypto_sha1(const void *p, size_t n, uint8_t out[20])
{
	SHA1(p, n, out);
}

int crypto_equal(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}

void crypto_hex(const uint8_t *p, size_t n, char *out)
{
	static const char hx[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hx[p[i] >> 4];
		out[2 * i + 1] = hx[p[i] & 15];
	}
	out[2 * n] = '\0';
}

void crypto_base62(char *out, size_t n)
{
	static const char al[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
	size_t i = 0;
	while (i < n) {
		uint8_t r[64];
		crypto_random(r, sizeof(r));
		for (size_t j = 0; j < sizeof(r) && i < n; j++)
			if (r[j] < 248)	/* 248 = 4 * 62: rejection keeps the draw uniform */
				out[i++] = al[r[j] % 62];
	}
	out[n] = '\0';
}

static void uuid_format(const uint8_t u[16], char out[UUID_STR_LEN + 1])
{
	static const char hx[] = "0123456789abcdef";
	size_t o = 0;
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hx[u[i] >> 4];
		out[o++] = hx[u[i] & 15];
	}
	out[o] = '\0';
}

void uuid_v4(char out[UUID_STR_LEN + 1])
{
	uint8_t u[16];
	crypto_random(u, sizeof(u));
	u[6] = (uint8_t)((u[6] & 0x0f) | 0x40);
	u[8] = (uint8_t)((u[8] & 0x3f) | 0x80);
	uuid_format(u, out);
}

int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int uuid_valid(const char *s, size_t len)
{
	if (len != UUID_STR_LEN)
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (hex_digit(s[i]) < 0) {
			return 0;
		}
	}
	return 1;
}

void uuid_v5(const char *ns, const void *name, size_t name_len, char out[UUID_STR_LEN + 1])
{
	uint8_t nsb[16];
	size_t k = 0;
	for (size_t i = 0; ns[i] && k < 16; i++) {
		if (ns[i] == '-')
			continue;
		nsb[k] = (uint8_t)(hex_digit(ns[i]) << 4 | hex_digit(ns[i + 1]));
		k++;
		i++;
	}
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) != 1 ||
	    EVP_DigestUpdate(ctx, nsb, 16) != 1 || EVP_DigestUpdate(ctx, name, name_len) != 1 ||
	    EVP_DigestFinal_ex(ctx, md, &mdlen) != 1) {
		fprintf(stderr, "cairn: SHA-1 failed\n");
		abort();
	}
	EVP_MD_CTX_free(ctx);
	md[6] = (uint8_t)((md[6] & 0x0f) | 0x50);
	md[8] = (uint8_t)((md[8] & 0x3f) | 0x80);
	uuid_format(md, out);
}
