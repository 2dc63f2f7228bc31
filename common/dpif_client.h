/* SPDX-License-Identifier: MIT */
/*
 * The control process's end of the channel to the data plane (common/dpif.h): SA operations
 * out, ACKs, dump entries and events in. No DPDK, no EAL, no hugepages.
 *
 * One client per data plane at a time: the rings have a single producer and a single
 * consumer, so a second process attaching to a region (buri-control and buri-dpctl, say) gets
 * E_BUSY (dpif_shm_attach's lock) rather than corrupting them. A client that dies and is restarted
 * is fine: it attaches with a new ctl_gen and counts its seq from 1 again; ACKs still queued for
 * its predecessor carry the old ctl_gen and are told apart.
 */
#ifndef BURI_DPIF_CLIENT_H
#define BURI_DPIF_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include "common/dpif.h"
#include "common/dpif_shm.h"
#include "common/util.h"

struct dpif_client {
	struct dpif_region r;
	uint64_t seq;	  /* of the last request sent */
	uint64_t ctl_gen; /* ours: FLUSH with it removes what older generations pushed */
	uint64_t dp_gen;  /* the data plane's, read at attach */
};

/* Maps the region of the data plane with file prefix prefix. 0, E_NOTFOUND (no data plane
 * has created it), E_BUSY (another control process is attached), E_INVAL (not a region of
 * this version, or a bad prefix), E_IO. */
int dpif_client_attach(struct dpif_client *c, const char *prefix, uint64_t ctl_gen) WARN_UNUSED;
/* Unmaps; c may be attached or not (zeroed). */
void dpif_client_detach(struct dpif_client *c);

/* Queues one request and stores its seq in *seq (may be NULL). sa is required for SA_ADD
 * (all of it), SA_DEL, SA_PROBE, SA_ACTIVATE (spi_in) and SA_ENDPOINT (spi_in and the endpoint) and
 * ignored otherwise; only the fields the op uses are copied, and the copy is wiped. E_INVAL if the
 * request would fail dpif_msg_check, E_NOSPACE if the ring is full. */
int dpif_client_send(struct dpif_client *c, enum dpif_op op, const struct dpif_sa *sa,
		     uint64_t *seq) WARN_UNUSED;
/* Takes the next message from the data plane into out. 0; E_NOTFOUND if there is none; the
 * dpif_msg_check code for a malformed one (consumed, out holds its bytes). */
int dpif_client_recv(struct dpif_client *c, struct dpif_msg *out) WARN_UNUSED;

/* dpif_client_send(), then waits (polling, sleeping a fraction of a millisecond between
 * looks) for the ACK of that seq carrying our ctl_gen. Every other message (events, SA_ENTRY,
 * ACKs of a dead predecessor) goes to fn (may be NULL), in order. A full request ring is
 * waited on too. Returns the ACK's status (0 or a negative E_*), E_TIMEOUT after timeout_ms (< 0:
 * none), E_STATE if the data plane restarted or exited (its region's name now names another
 * generation or nothing, its process is dead, or it refused our dp_gen): detach, attach
 * again, and push everything. */
int dpif_client_call(struct dpif_client *c, enum dpif_op op, const struct dpif_sa *sa,
		     int timeout_ms, void (*fn)(void *arg, const struct dpif_msg *m),
		     void *arg) WARN_UNUSED;

/* 0 if the region's name still names the data plane we attached to and its process lives;
 * E_STATE if the data plane exited or was replaced (attach again). Costs a shm_open and a
 * read: call it about once a second, not per message. */
int dpif_client_check(const struct dpif_client *c) WARN_UNUSED;

/* True if the data plane process named in the region is alive (kill(pid, 0)). */
bool dpif_client_alive(const struct dpif_client *c);

#endif
