/* SPDX-License-Identifier: MIT */
/*
 * buri-control's link to its data plane (common/dpif.h), asynchronous on the loop: SA
 * operations are queued and pushed into the shared ring without waiting for their ACKs (a
 * refused one is reported through ops->failed); ACKs, events and dump entries are read every
 * few milliseconds. The link attaches when the data plane appears, DUMPs once a second (the
 * counters feed liveness, keepalives and `buri peers`), and notices when the data plane exits
 * or is replaced by a new one (a new generation: its SAs are gone).
 *
 * Keys are copied into the queue only as long as an SA_ADD waits there, and wiped when it
 * leaves it; the shared ring wipes its own copy once the data plane consumed it.
 */
#ifndef BURI_CONTROL_DPLINK_H
#define BURI_CONTROL_DPLINK_H

#include <stdbool.h>
#include <stdint.h>

#include "common/dpif.h"
#include "control/loop.h"

struct dplink_ops {
	/* Attached. new_dp: a data plane this process has not seen before (first attach
	 * included), or a restarted one; either way only the SAs its first dump lists exist. */
	void (*attached)(void *arg, bool new_dp);
	/* A dump entry: adopt is true for the dump right after attaching (SAs a predecessor of
	 * this process may have pushed), false for the periodic ones. */
	void (*entry)(void *arg, const struct dpif_sa_entry *e, bool adopt);
	/* The end of a dump (every entry of it was reported). */
	void (*dump_done)(void *arg, bool adopt);
	/* DPIF_EV_FIRST, _IDLE, _ENDPOINT, _EXHAUST. */
	void (*event)(void *arg, uint16_t op, const struct dpif_event *ev);
	/* The data plane refused op on spi (status: negative E_*). */
	void (*failed)(void *arg, uint16_t op, uint32_t spi, int status);
	/* The data plane exited or was replaced; every queued operation was dropped. */
	void (*detached)(void *arg);
};

struct dplink;

/* Starts trying to attach to the data plane of file prefix at once and then every second.
 * NULL on allocation failure. */
struct dplink *dplink_new(struct loop *l, const char *prefix, const struct dplink_ops *ops,
			  void *arg);
void dplink_free(struct dplink *d);

bool dplink_attached(const struct dplink *d);

/* Queue one operation. 0; E_STATE when not attached (the data plane will be told everything
 * anew by the caller after ops->attached); E_NOSPACE when the local queue is full. */
int dplink_sa_add(struct dplink *d, const struct dpif_sa *sa);
int dplink_sa_del(struct dplink *d, uint32_t spi_in);
int dplink_sa_probe(struct dplink *d, uint32_t spi_in);
int dplink_sa_activate(struct dplink *d, uint32_t spi_in);
int dplink_sa_endpoint(struct dplink *d, uint32_t spi_in, uint32_t addr, uint16_t port);

struct dplink_stats {
	uint64_t dp_gen, dp_pid;
	uint64_t sent, refused, attaches;
	unsigned queued;
};
void dplink_stats(const struct dplink *d, struct dplink_stats *out);

#endif
