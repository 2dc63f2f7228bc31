/* SPDX-License-Identifier: MIT */
#include "common/hex.h"

#include "common/err.h"

int
hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
hex_decode(const char *s, size_t slen, uint8_t *out, size_t cap, size_t *outlen)
{
	*outlen = 0;
	if (slen % 2 != 0)
		return E_ENCODING;
	if (slen / 2 > cap)
		return E_NOSPACE;
	for (size_t i = 0; i < slen; i += 2) {
		int hi = hex_digit(s[i]), lo = hex_digit(s[i + 1]);

		if (hi < 0 || lo < 0)
			return E_ENCODING;
		out[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	*outlen = slen / 2;
	return 0;
}

void
hex_encode(const uint8_t *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}
