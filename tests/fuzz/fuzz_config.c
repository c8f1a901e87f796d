/* libFuzzer target: the YAML configuration reader, on any bytes. */
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config c;
	struct err e;
	config_defaults(&c);
	(void)config_load_buffer(&c, "fuzz.yml", (const char *)data, size, &e);
	return 0;
}
