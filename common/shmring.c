/* SPDX-License-Identifier: MIT */
#include "common/shmring.h"

#include <string.h>

#include "common/err.h"

size_t
shmring_bytes(uint32_t size, uint32_t slot_size)
{
	return sizeof(struct shmring) + (size_t)size * slot_size;
}

int
shmring_init(void *mem, uint32_t size, uint32_t slot_size)
{
	struct shmring *r = mem;

	if (size < 2 || (size & (size - 1)) != 0 || slot_size == 0 || slot_size % 8 != 0)
		return E_INVAL;
	memset(r, 0, sizeof(*r));
	r->size = size;
	r->slot_size = slot_size;
	/* the magic last: a peer that sees it sees a complete header */
	__atomic_store_n(&r->magic, SHMRING_MAGIC, __ATOMIC_RELEASE);
	return 0;
}

int
shmring_check(const void *mem, size_t len, uint32_t size, uint32_t slot_size)
{
	const struct shmring *r = mem;
	uint64_t head, tail;

	if (len < sizeof(*r) || __atomic_load_n(&r->magic, __ATOMIC_ACQUIRE) != SHMRING_MAGIC ||
	    r->size != size || r->slot_size != slot_size || len < shmring_bytes(size, slot_size))
		return E_INVAL;
	head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
	tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
	return head - tail <= size ? 0 : E_RANGE;
}

int
shmring_push(struct shmring *r, const void *msg)
{
	uint64_t head = __atomic_load_n(&r->head, __ATOMIC_RELAXED); /* ours alone */
	uint64_t tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);

	if (head - tail >= r->size)
		return E_NOSPACE;
	memcpy(r->slots + (size_t)(head & (r->size - 1)) * r->slot_size, msg, r->slot_size);
	__atomic_store_n(&r->head, head + 1, __ATOMIC_RELEASE);
	return 0;
}

int
shmring_peek(const struct shmring *r, void *out)
{
	uint64_t tail = __atomic_load_n(&r->tail, __ATOMIC_RELAXED); /* ours alone */
	uint64_t head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);

	if (head == tail)
		return E_NOTFOUND;
	if (head - tail > r->size)
		return E_RANGE; /* the producer's counter is corrupt: read nothing */
	memcpy(out, r->slots + (size_t)(tail & (r->size - 1)) * r->slot_size, r->slot_size);
	return 0;
}

void
shmring_release(struct shmring *r)
{
	uint64_t tail = __atomic_load_n(&r->tail, __ATOMIC_RELAXED);

	__atomic_store_n(&r->tail, tail + 1, __ATOMIC_RELEASE);
}

void
shmring_release_wipe(struct shmring *r)
{
	uint64_t tail = __atomic_load_n(&r->tail, __ATOMIC_RELAXED);

	/* The slot is the consumer's until the store below hands it back, so the producer never
	 * sees a half-zeroed slot; the release order keeps the zeroing before the hand-back, and
	 * since others reach the slot through r the stores are not dead ones a compiler may drop.
	 */
	memset(r->slots + (size_t)(tail & (r->size - 1)) * r->slot_size, 0, r->slot_size);
	__atomic_store_n(&r->tail, tail + 1, __ATOMIC_RELEASE);
}

int
shmring_pop(struct shmring *r, void *out)
{
	int e;

	if ((e = shmring_peek(r, out)) == 0)
		shmring_release(r);
	return e;
}

uint32_t
shmring_count(const struct shmring *r)
{
	uint64_t head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
	uint64_t tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);

	return (uint32_t)(head - tail);
}
