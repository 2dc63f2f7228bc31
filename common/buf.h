/* SPDX-License-Identifier: MIT */
/*
 * Bounds-checked reader and writer over caller-owned memory.
 *
 * Both are sticky: the first failure (E_SHORT, E_RANGE, E_ENCODING, E_NOSPACE) is recorded,
 * every later call is a no-op that leaves its outputs zeroed, and each call returns the
 * recorded state. A decoder can therefore read all fields and check once at the end, or stop
 * at the first non-zero return. Nothing here allocates; spans returned by the reader borrow
 * the reader's memory and live as long as it does.
 */
#ifndef BURI_BUF_H
#define BURI_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "common/util.h"

/* A borrowed byte range. */
struct span {
	const uint8_t *p;
	size_t len;
};

struct buf_reader {
	const uint8_t *p;
	size_t len;
	size_t off;
	int err;
};

struct buf_writer {
	uint8_t *p;
	size_t cap;
	size_t off;
	int err;
};

void buf_reader_init(struct buf_reader *r, const uint8_t *p, size_t len);
int buf_get_u8(struct buf_reader *r, uint8_t *v);
int buf_get_u16(struct buf_reader *r, uint16_t *v);
int buf_get_u32(struct buf_reader *r, uint32_t *v);
int buf_get_u64(struct buf_reader *r, uint64_t *v);
/* Copy exactly n bytes into out. */
int buf_get_bytes(struct buf_reader *r, void *out, size_t n);
/* Borrow exactly n bytes. */
int buf_get_span(struct buf_reader *r, size_t n, struct span *s);
/* A 16-bit length, then that many bytes, borrowed; E_RANGE unless min <= length <= max. */
int buf_get_blob16(struct buf_reader *r, struct span *s, size_t min, size_t max);
/* As buf_get_blob16 with min 0, and the bytes must be valid UTF-8 without NUL (E_ENCODING). */
int buf_get_str16(struct buf_reader *r, struct span *s, size_t max);
size_t buf_left(const struct buf_reader *r);
/* The sticky error, or E_TRAILING if unread bytes remain: call after the last field. */
int buf_end(const struct buf_reader *r) WARN_UNUSED;

void buf_writer_init(struct buf_writer *w, uint8_t *p, size_t cap);
int buf_put_u8(struct buf_writer *w, uint8_t v);
int buf_put_u16(struct buf_writer *w, uint16_t v);
int buf_put_u32(struct buf_writer *w, uint32_t v);
int buf_put_u64(struct buf_writer *w, uint64_t v);
int buf_put_bytes(struct buf_writer *w, const void *p, size_t n);
/* 16-bit length then the bytes; E_RANGE if n > 65535. */
int buf_put_blob16(struct buf_writer *w, const void *p, size_t n);
/* The bytes written so far. */
size_t buf_written(const struct buf_writer *w);

/* True if p[0..n) is well-formed UTF-8 (no overlongs, surrogates or code points > U+10FFFF)
 * and contains no NUL. */
_Bool utf8_valid(const uint8_t *p, size_t n);

#endif
