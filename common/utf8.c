/* SPDX-License-Identifier: MIT */
/*
 * UTF-8 well-formedness per RFC 3629 / Unicode table 3-7. Strings from the wire end up in
 * terminals and logs, so anything that is not plain, shortest-form UTF-8 is refused rather
 * than repaired.
 */
#include "common/buf.h"

/* Length of the sequence that starts with lead byte c and the allowed range of its second
 * byte (which is where overlongs, surrogates and values above U+10FFFF are excluded). */
static size_t
seq_shape(uint8_t c, uint8_t *lo, uint8_t *hi)
{
	*lo = 0x80;
	*hi = 0xbf;
	if (c >= 0xc2 && c <= 0xdf)
		return 2;
	if (c >= 0xe0 && c <= 0xef) {
		if (c == 0xe0)
			*lo = 0xa0;
		else if (c == 0xed)
			*hi = 0x9f;
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if (c == 0xf0)
			*lo = 0x90;
		else if (c == 0xf4)
			*hi = 0x8f;
		return 4;
	}
	return 0;
}

_Bool
utf8_valid(const uint8_t *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		uint8_t c = p[i], lo, hi;
		size_t len;

		if (c == 0)
			return 0;
		if (c < 0x80) {
			i++;
			continue;
		}
		len = seq_shape(c, &lo, &hi);
		if (len == 0 || n - i < len)
			return 0;
		if (p[i + 1] < lo || p[i + 1] > hi)
			return 0;
		for (size_t k = 2; k < len; k++)
			if ((p[i + k] & 0xc0) != 0x80)
				return 0;
		i += len;
	}
	return 1;
}
