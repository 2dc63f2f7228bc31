/* SPDX-License-Identifier: MIT */
/*
 * Small helpers shared by every part of buri. Header-only, no state.
 */
#ifndef BURI_UTIL_H
#define BURI_UTIL_H

#include <stddef.h>
#include <stdint.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* An IPv4 address held in host order, for printf: log("%" ... IP4_FMT, IP4_ARG(a)). */
#define IP4_FMT "%u.%u.%u.%u"
#define IP4_ARG(a)                                                                                 \
	(unsigned)((a) >> 24 & 255), (unsigned)((a) >> 16 & 255), (unsigned)((a) >> 8 & 255),      \
		(unsigned)((a)&255)

#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

/* Pin the size of a wire or shared-memory struct at compile time. */
#define STATIC_ASSERT_SIZE(type, size)                                                             \
	_Static_assert(sizeof(type) == (size), "size of " #type " changed")

/* Round n up to a multiple of the power of two a. */
#define ALIGN_UP(n, a) (((n) + (a)-1) & ~((size_t)(a)-1))

#define WARN_UNUSED __attribute__((warn_unused_result))

static inline uint16_t
load_be16(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static inline uint32_t
load_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void
store_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void
store_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

#endif
