/* SPDX-License-Identifier: MIT */
/*
 * The data plane's end of the control channel (common/dpif.h): it creates the shared region,
 * applies the control process's SA operations to the SA table, answers each with an ACK, and
 * turns what the workers count on each SA into events.
 *
 * Runs on the main lcore only, and is the SA table's one writer. Nothing here blocks, logs or
 * allocates after dpif_server_new(); problems show in the counters (dpif_server_stats).
 *
 * Delivery: a request is released from its ring only once its ACK is in the other ring, so
 * no ACK is ever lost, and a control process that does not read its ACKs stops the data
 * plane from taking more of its requests. The released slot is zeroed (dpif.h: key bytes do
 * not stay in shared memory).
 */
#ifndef BURI_DPIF_SERVER_H
#define BURI_DPIF_SERVER_H

#include <stdint.h>

#include "dataplane/sa_table.h" /* first: see its note on container_of */

#include <rte_ring.h>

/* Outbound message IDs at which DPIF_EV_EXHAUST asks for a rekey: three quarters used. */
#define DPIF_SERVER_EXHAUST_AT 0xC0000000u

struct dpif_server_params {
	const char *prefix; /* the data plane's file prefix: the region is DPIF_SHM_NAME with it */
	uint64_t pid;	    /* this process, for the control process's liveness checks */
	struct sa_table *sas;	 /* borrowed; the server is its only writer */
	unsigned idle_ticks;	 /* ticks without an authenticated packet -> EV_IDLE; 0: never */
	uint32_t exhaust_at;	 /* msgid_out >= this -> EV_EXHAUST; 0: DPIF_SERVER_EXHAUST_AT */
	struct rte_ring *probes; /* SA_PROBE: inbound SPIs (uint32 elements) for the worker that
				  * sends the dummies; NULL: SA_PROBE answers E_FULL */
};

struct dpif_server;

/* Creates the region (replacing a dead data plane's) with a new generation. NULL if prefix is
 * unusable, sas is NULL, or shared memory cannot be had. */
struct dpif_server *dpif_server_new(const struct dpif_server_params *p);
/* Unmaps the region and removes its name; a control process still attached keeps a mapping
 * nobody serves. NULL is fine. */
void dpif_server_free(struct dpif_server *s);

/* Handles up to max requests from the control process; returns how many were consumed. A
 * request stays in its ring (not counted) while the ACK ring is full, and a DUMP stays until
 * all its entries and its ACK are out (it resumes where it stopped). Never blocks. */
unsigned dpif_server_poll(struct dpif_server *s, unsigned max);

/* Once per tick (a second): advances the heartbeat, frees SAs whose grace period is over,
 * and queues the events each SA's counters call for: EV_FIRST once after its first
 * authenticated packet, EV_ENDPOINT when a worker moved its endpoint, EV_IDLE once after
 * idle_ticks ticks without a packet (again after packets resume and stop), EV_EXHAUST once.
 * An event that does not fit in the ring is counted (events_dropped) and tried again next
 * tick. */
void dpif_server_tick(struct dpif_server *s);

/* Often (every few ms) between ticks: sends EV_FIRST for SAs that got their first packet, so
 * a tunnel's initiator can switch to its new SA without waiting for the tick. Scans the table
 * only after an SA_ADD and until no SA waits any more; an SA that never hears from its peer
 * keeps the scans going, which costs one pass over the table per call. */
void dpif_server_watch(struct dpif_server *s);

struct dpif_server_stats {
	uint64_t requests;	 /* valid requests consumed */
	uint64_t invalid;	 /* messages that failed dpif_msg_check, consumed */
	uint64_t acks;		 /* ACKs sent */
	uint64_t seq_gaps;	 /* requests whose seq was not the previous + 1 (nor 1) */
	uint64_t events;	 /* events sent */
	uint64_t events_dropped; /* events that found the ring full (retried next tick) */
	uint64_t resets;	 /* a new control process: seq restarted at 1 */
	uint64_t dp_gen;	 /* this data plane's generation */
};

/* A copy of the counters; any thread may ask (each counter is read atomically, the set is not
 * a snapshot). */
void dpif_server_stats(const struct dpif_server *s, struct dpif_server_stats *out);

#endif
