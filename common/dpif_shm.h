/* SPDX-License-Identifier: MIT */
/*
 * The shared region of dpif.h: created by the data plane, attached by the control process.
 * POSIX shared memory (/dev/shm), named after the data plane's file prefix, mode 0600.
 */
#ifndef BURI_DPIF_SHM_H
#define BURI_DPIF_SHM_H

#include <stddef.h>

#include "common/dpif.h"
#include "common/shmring.h"

struct dpif_region {
	struct dpif_shm *hdr;
	struct shmring *to_dp;	/* control -> data plane */
	struct shmring *to_ctl; /* data plane -> control */
	size_t len;
	char name[64];
	int lock_fd; /* control side: holds the exclusive lock on the region (-1 or 0: none) */
};

/* Bytes of the region. */
size_t dpif_shm_bytes(void);
/* Data plane: creates (or re-creates, so a restarted data plane starts clean) the region of
 * prefix, with a new generation and the caller's pid. 0 or E_IO / E_INVAL. */
int dpif_shm_create(const char *prefix, uint64_t pid, struct dpif_region *out) WARN_UNUSED;
/* Control: maps the region of prefix, takes the control side's exclusive lock on it, and
 * checks its layout. The rings have one producer and one consumer, so only one control
 * process may be attached: a second gets E_BUSY. The lock is a flock() on the region, which
 * the kernel drops when its holder dies, however it dies, so a kill -9 never leaves it held.
 * Holding it, the attacher repairs the ring counters it owns (to_dp's head, to_ctl's tail)
 * should a predecessor have left them inconsistent. E_NOTFOUND if there is no region (no data
 * plane yet), E_INVAL if it is not a complete region of this version. */
int dpif_shm_attach(const char *prefix, struct dpif_region *out) WARN_UNUSED;
/* Unmaps (either side; the region stays). */
void dpif_shm_detach(struct dpif_region *r);
/* Data plane at exit: removes the name (mappings stay valid until detached). */
void dpif_shm_unlink(const struct dpif_region *r);

#endif
