/* SPDX-License-Identifier: MIT */
/*
 * A single-producer, single-consumer ring of fixed-size messages in memory that two processes
 * share (a shm_open/memfd mapping). It is the transport of the control/data-plane contract
 * (dpif.h): the control process, which needs no DPDK, EAL or hugepages, is the producer of one
 * ring and the consumer of the other.
 *
 * Why not an rte_ring: ../shared/dpdk-notes.md section 2 measured that a kill -9 in the
 * middle of a multi-producer/consumer operation wedges an rte_ring for good, and that a DPDK
 * secondary must re-exec whenever the primary restarts. Here every piece of ring state lives
 * in the shared memory and is advanced by exactly one side, with one release store, after the
 * slot is complete:
 *
 *   - a producer killed while copying a message has not published it; the next producer
 *     (the restarted process) reads `head` from the mapping and overwrites the half slot;
 *   - a consumer that peeks, acts, then releases (shmring_peek, shmring_release) and is
 *     killed before the release has not released the slot; the next consumer reads it
 *     again (at-least-once: operations on the ring must be idempotent, as dpif.h's are).
 *
 * So a kill -9 at any instant loses at most the message being written, delivers at most one
 * message twice, and never wedges the ring. Messages carry their own magic and sequence
 * numbers (dpif.h) for the rest.
 *
 *   0           64          128         192
 *   +-----------+-----------+-----------+---------------------------------+
 *   | magic ... |  head     |  tail     | slots[size] of slot_size bytes  |
 *   +-----------+-----------+-----------+---------------------------------+
 *     constant    producer    consumer     (each field on its own cache line)
 */
#ifndef BURI_SHMRING_H
#define BURI_SHMRING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/util.h"

#define SHMRING_MAGIC 0x62757269676e6972ULL /* "buriring" */

struct shmring {
	uint64_t magic;
	uint32_t size;	    /* slots, a power of two */
	uint32_t slot_size; /* bytes, a multiple of 8 */
	uint8_t pad0[48];
	_Alignas(64) uint64_t head; /* messages published by the producer, ever */
	uint8_t pad1[56];
	_Alignas(64) uint64_t tail; /* messages released by the consumer, ever */
	uint8_t pad2[56];
	_Alignas(64) uint8_t slots[];
};

/* Bytes of shared memory a ring of size slots of slot_size bytes needs. */
size_t shmring_bytes(uint32_t size, uint32_t slot_size);
/* Lays a new, empty ring over mem (shmring_bytes() long, zeroed or not). E_INVAL unless size
 * is a power of two >= 2 and slot_size a non-zero multiple of 8. */
int shmring_init(void *mem, uint32_t size, uint32_t slot_size) WARN_UNUSED;
/* Checks that mem[0..len) holds a ring made by shmring_init with these parameters (a peer
 * attaching to it): E_INVAL if not, E_RANGE if head and tail are inconsistent. */
int shmring_check(const void *mem, size_t len, uint32_t size, uint32_t slot_size) WARN_UNUSED;

/* Producer: copies slot_size bytes of msg into the ring; E_NOSPACE when it is full. */
int shmring_push(struct shmring *r, const void *msg) WARN_UNUSED;
/* Consumer: copies the oldest message into out (slot_size bytes) without releasing it;
 * E_NOTFOUND when the ring is empty, E_RANGE if the producer's counter is impossible. A
 * consumer that acts on a message before shmring_release() never loses one to its own death:
 * the next consumer gets it again. */
int shmring_peek(const struct shmring *r, void *out) WARN_UNUSED;
/* Consumer: releases the message the last shmring_peek() returned. */
void shmring_release(struct shmring *r);
/* Consumer: shmring_release(), but zeroes the slot first, so that what the message carried
 * (key bytes) does not stay in the shared memory once consumed. */
void shmring_release_wipe(struct shmring *r);
/* shmring_peek() then, on success, shmring_release(). */
int shmring_pop(struct shmring *r, void *out) WARN_UNUSED;
/* Messages waiting (either side may ask; the answer may be stale by one). */
uint32_t shmring_count(const struct shmring *r);

#endif
