/* SPDX-License-Identifier: MIT */
#include "common/buf.h"

#include <string.h>

#include "common/err.h"

void
buf_reader_init(struct buf_reader *r, const uint8_t *p, size_t len)
{
	r->p = p;
	r->len = p == NULL ? 0 : len;
	r->off = 0;
	r->err = 0;
}

/* Reserve n bytes for reading; NULL (and the error recorded) if they are not there. */
static const uint8_t *
take(struct buf_reader *r, size_t n)
{
	const uint8_t *p;

	if (r->err != 0)
		return NULL;
	if (r->len - r->off < n) {
		r->err = E_SHORT;
		return NULL;
	}
	p = r->p + r->off;
	r->off += n;
	return p;
}

int
buf_get_u8(struct buf_reader *r, uint8_t *v)
{
	const uint8_t *p = take(r, 1);

	*v = p != NULL ? p[0] : 0;
	return r->err;
}

int
buf_get_u16(struct buf_reader *r, uint16_t *v)
{
	const uint8_t *p = take(r, 2);

	*v = p != NULL ? load_be16(p) : 0;
	return r->err;
}

int
buf_get_u32(struct buf_reader *r, uint32_t *v)
{
	const uint8_t *p = take(r, 4);

	*v = p != NULL ? load_be32(p) : 0;
	return r->err;
}

int
buf_get_u64(struct buf_reader *r, uint64_t *v)
{
	const uint8_t *p = take(r, 8);

	*v = p != NULL ? (uint64_t)load_be32(p) << 32 | load_be32(p + 4) : 0;
	return r->err;
}

int
buf_get_bytes(struct buf_reader *r, void *out, size_t n)
{
	const uint8_t *p = take(r, n);

	if (p != NULL)
		memcpy(out, p, n);
	else if (n > 0)
		memset(out, 0, n);
	return r->err;
}

int
buf_get_span(struct buf_reader *r, size_t n, struct span *s)
{
	s->p = take(r, n);
	s->len = s->p != NULL ? n : 0;
	return r->err;
}

int
buf_get_blob16(struct buf_reader *r, struct span *s, size_t min, size_t max)
{
	uint16_t n;

	s->p = NULL;
	s->len = 0;
	if (buf_get_u16(r, &n) != 0)
		return r->err;
	if (n < min || n > max) {
		r->err = E_RANGE;
		return r->err;
	}
	return buf_get_span(r, n, s);
}

int
buf_get_str16(struct buf_reader *r, struct span *s, size_t max)
{
	if (buf_get_blob16(r, s, 0, max) != 0)
		return r->err;
	if (!utf8_valid(s->p, s->len)) {
		s->p = NULL;
		s->len = 0;
		r->err = E_ENCODING;
	}
	return r->err;
}

size_t
buf_left(const struct buf_reader *r)
{
	return r->len - r->off;
}

int
buf_end(const struct buf_reader *r)
{
	if (r->err != 0)
		return r->err;
	return r->off == r->len ? 0 : E_TRAILING;
}

void
buf_writer_init(struct buf_writer *w, uint8_t *p, size_t cap)
{
	w->p = p;
	w->cap = p == NULL ? 0 : cap;
	w->off = 0;
	w->err = 0;
}

static uint8_t *
reserve(struct buf_writer *w, size_t n)
{
	uint8_t *p;

	if (w->err != 0)
		return NULL;
	if (w->cap - w->off < n) {
		w->err = E_NOSPACE;
		return NULL;
	}
	p = w->p + w->off;
	w->off += n;
	return p;
}

int
buf_put_u8(struct buf_writer *w, uint8_t v)
{
	uint8_t *p = reserve(w, 1);

	if (p != NULL)
		p[0] = v;
	return w->err;
}

int
buf_put_u16(struct buf_writer *w, uint16_t v)
{
	uint8_t *p = reserve(w, 2);

	if (p != NULL)
		store_be16(p, v);
	return w->err;
}

int
buf_put_u32(struct buf_writer *w, uint32_t v)
{
	uint8_t *p = reserve(w, 4);

	if (p != NULL)
		store_be32(p, v);
	return w->err;
}

int
buf_put_u64(struct buf_writer *w, uint64_t v)
{
	uint8_t *p = reserve(w, 8);

	if (p != NULL) {
		store_be32(p, (uint32_t)(v >> 32));
		store_be32(p + 4, (uint32_t)v);
	}
	return w->err;
}

int
buf_put_bytes(struct buf_writer *w, const void *src, size_t n)
{
	uint8_t *p = reserve(w, n);

	if (p != NULL && n > 0)
		memcpy(p, src, n);
	return w->err;
}

int
buf_put_blob16(struct buf_writer *w, const void *src, size_t n)
{
	if (w->err == 0 && n > UINT16_MAX)
		w->err = E_RANGE;
	buf_put_u16(w, (uint16_t)n);
	return buf_put_bytes(w, src, n);
}

size_t
buf_written(const struct buf_writer *w)
{
	return w->off;
}
