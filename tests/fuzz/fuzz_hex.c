/* SPDX-License-Identifier: MIT */
/* hex_decode and utf8_valid; whatever decodes must encode back to the lowercased input. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/hex.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[4096];
	static char back[8193];
	size_t len;

	(void)utf8_valid(data, size);
	if (size > 8192 || hex_decode((const char *)data, size, out, sizeof(out), &len) != 0)
		return 0;
	hex_encode(out, len, back);
	for (size_t i = 0; i < size; i++)
		if (back[i] != tolower(data[i]))
			abort();
	return 0;
}
