/* SPDX-License-Identifier: MIT */
/* Hexadecimal text <-> bytes, for tools, configs and tests. */
#ifndef BURI_HEX_H
#define BURI_HEX_H

#include <stddef.h>
#include <stdint.h>

#include "common/util.h"

/* The value of one hex digit (either case), or -1. */
int hex_digit(char c);

/* Decode s[0..slen) (an even number of hex digits, either case, nothing else) into out.
 * E_ENCODING for a bad digit or odd length, E_NOSPACE if more than cap bytes. */
int hex_decode(const char *s, size_t slen, uint8_t *out, size_t cap, size_t *outlen) WARN_UNUSED;
/* Lowercase hex of p[0..n) into out, which must hold 2n + 1 bytes; NUL-terminated. */
void hex_encode(const uint8_t *p, size_t n, char *out);

#endif
