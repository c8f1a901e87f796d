/*
 * fuzz_taxii.c — libFuzzer target for what the TAXII server reads from the wire
 * (api/taxii_wire.h): Accept and Content-Type headers, URL-safe base64 (next tokens),
 * TAXII time stamps and resource paths.
 *
 * Beyond not crashing, each parser is held to what it promises: a decoded token encodes
 * back to bytes that decode to the same value; a time stamp that parses formats to one
 * that parses to the same instant; path segments are non-empty and hold no '/'.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/taxii_wire.h"
#include "base/timeutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 4096)
		return 0;
	const char *s = (const char *)data;
	(void)taxii_accept_ok(s, size);
	(void)taxii_content_type_ok(s, size);

	uint8_t dec[4096], dec2[4096];
	long n = taxii_b64url_decode(s, size, dec, sizeof(dec));
	if (n >= 0) {
		struct buf b = BUF_INIT;
		taxii_b64url(&b, dec, (size_t)n);
		long m = taxii_b64url_decode(b.data ? b.data : "", b.len, dec2, sizeof(dec2));
		if (m != n || memcmp(dec, dec2, (size_t)n) != 0)
			abort();
		buf_cleanup(&b);
	}

	char *z = malloc(size + 1);
	memcpy(z, data, size);
	z[size] = '\0';
	int64_t us, again;
	if (strlen(z) == size && taxii_time_parse(z, &us)) {
		char t[40];
		time_format_to(t, us, TIME_USEC);
		if (!taxii_time_parse(t, &again) || again != us)
			abort();
	}
	char *seg[8];
	size_t ns;
	if (strlen(z) == size && taxii_split_path(z, seg, 8, &ns)) {
		if (ns > 8)
			abort();
		for (size_t i = 0; i < ns; i++)
			if (seg[i][0] == '\0' || strchr(seg[i], '/'))
				abort();
	}
	free(z);
	return 0;
}
