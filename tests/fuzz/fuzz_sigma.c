/* libFuzzer target: the Sigma export's YAML scalar writer, on any bytes. Whatever it accepts
 * must come out as one single-quoted line of valid UTF-8 that a rule may carry; free text must
 * always come out so. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "export/sigma_yaml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_line(const struct buf *b)
{
	if (b->len < 2 || b->data[0] != '\'' || b->data[b->len - 1] != '\'' ||
	    !sigma_text_ok(b->data, b->len))
		abort();
	/* Inside, every quote is doubled. */
	for (size_t i = 1; i + 1 < b->len; i++) {
		if (b->data[i] != '\'')
			continue;
		if (i + 2 >= b->len || b->data[i + 1] != '\'')
			abort();
		i++;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct buf b = BUF_INIT;
	bool ok = sigma_text_ok(s, size);
	if ((sigma_yaml_value(&b, s, size) == 0) != ok)
		abort();
	if (ok) {
		check_line(&b);
		/* No unescaped wildcard survives. */
		for (size_t i = 1; i + 1 < b.len; i++) {
			if (b.data[i] == '\\')
				i++;
			else if (b.data[i] == '*' || b.data[i] == '?')
				abort();
		}
	}
	buf_reset(&b);
	if ((sigma_yaml_string(&b, s, size) == 0) != ok)
		abort();
	if (ok)
		check_line(&b);
	buf_reset(&b);
	sigma_yaml_text(&b, s, size);
	check_line(&b);
	buf_cleanup(&b);
	return 0;
}
