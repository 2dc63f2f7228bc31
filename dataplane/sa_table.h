/* SPDX-License-Identifier: MIT */
/*
 * The data plane's SA table: SPI -> SA (decap) and peer overlay address -> SA (encap).
 *
 * One writer (the main lcore, applying common/dpif.h operations), any number of readers (the
 * worker lcores). Readers never lock and never allocate: sa_table_by_spi()/sa_table_by_peer()
 * return a pointer that stays valid until the reader's next rte_rcu_qsbr_quiescent() on the
 * table's QSBR variable, which every worker reports once per loop turn. The writer publishes a
 * fully built SA with one atomic store (make before break), unlinks an old one, and frees it
 * (keys wiped) only after every registered reader has passed a quiescent state.
 *
 * Hot vs cold (docs/STYLE.md rule 24): struct sa is cache-aligned and size-pinned. Line 0 is
 * read-mostly (SPIs, peer, endpoint, and the cold fields: generation, net_mask, flags, which
 * are few enough to share the line instead of living in a second allocation); line 1 is
 * written by encap (message ID, out counters); lines 2-6 by decap (in counters and the replay
 * window, of which a packet touches one word). Then the two key schedules.
 */
#ifndef BURI_SA_TABLE_H
#define BURI_SA_TABLE_H

#include <stddef.h>
#include <stdint.h>

/* common/util.h before any DPDK header: it defines container_of unguarded, rte_common.h
 * only #ifndef container_of. */
#include "common/dpif.h"
#include "common/err.h"
#include "common/replay.h"
#include "common/util.h"
#include "dataplane/crypto_batch.h"

#include <rte_common.h>
#include <rte_rcu_qsbr.h>

struct sa {
	/* line 0: read by every packet, written only by the writer */
	uint32_t spi_in;
	uint32_t spi_out;
	uint32_t peer_addr;
	uint16_t flags; /* cold */
	uint16_t pad0;
	uint64_t endpoint; /* ep_addr << 16 | ep_port, one atomic word: see sa_endpoint() */
	uint64_t gen;	   /* cold: control generation that pushed it (sa_table_flush_gen) */
	uint64_t net_mask; /* cold */
	/* cold, the writer's alone: what it last reported to the control process (events) */
	uint32_t ev_flags;    /* SA_EV_* already sent */
	uint32_t ev_quiet;    /* writer ticks without a new authenticated packet */
	uint64_t ev_pkts_in;  /* pkts_in at the last tick */
	uint64_t ev_endpoint; /* the endpoint last reported */
	/* line 1: the encap side's (atomic updates: more than one lcore may encap) */
	uint32_t msgid_out __rte_cache_aligned; /* last outbound message ID used */
	uint32_t ev_quiet_out; /* the writer's: ticks without a packet out (written once a tick:
				* sharing the line with the counters costs nothing) */
	uint64_t pkts_out, bytes_out, drops_out;
	uint64_t ev_pkts_out; /* the writer's: pkts_out at the last tick */
	/* lines 2-6: the decap side's; the replay window belongs to the lcore that receives the
	 * SA's packets (RSS on the outer 5-tuple keeps one endpoint on one queue) */
	uint64_t pkts_in __rte_cache_aligned;
	uint64_t bytes_in, drops_in;
	struct replay replay;
	/* key schedules, expanded once by the writer, read-only afterwards */
	struct cb_sa_keys keys_in __rte_cache_aligned;
	struct cb_sa_keys keys_out __rte_cache_aligned;
} __rte_cache_aligned;

enum sa_ev_flags {
	SA_EV_FIRST = 1 << 0,	/* DPIF_EV_FIRST sent */
	SA_EV_IDLE = 1 << 1,	/* DPIF_EV_IDLE sent (cleared by the next packet) */
	SA_EV_EXHAUST = 1 << 2, /* DPIF_EV_EXHAUST sent */
};

/* 7 lines of state (2-3 touched per packet) + 2 x 10 lines of keys. */
STATIC_ASSERT_SIZE(struct sa, 1728);
_Static_assert(offsetof(struct sa, ev_endpoint) + 8 == 64, "line 0 full");
_Static_assert(offsetof(struct sa, msgid_out) == 64, "encap line");
_Static_assert(offsetof(struct sa, pkts_in) == 128, "decap lines");
_Static_assert(offsetof(struct sa, keys_in) == 448, "keys after 7 lines");

static inline void
sa_endpoint(const struct sa *sa, uint32_t *addr, uint16_t *port)
{
	uint64_t e = __atomic_load_n(&sa->endpoint, __ATOMIC_RELAXED);

	*addr = (uint32_t)(e >> 16);
	*port = (uint16_t)e;
}

/* The next outbound message ID, or E_EXHAUSTED (common/replay.h msgid_next(), but atomic). */
static inline int
sa_msgid_next(struct sa *sa, uint32_t *id)
{
	uint32_t cur = __atomic_load_n(&sa->msgid_out, __ATOMIC_RELAXED);

	do {
		if (unlikely(cur == UINT32_MAX))
			return E_EXHAUSTED;
	} while (!__atomic_compare_exchange_n(&sa->msgid_out, &cur, cur + 1, 1, __ATOMIC_RELAXED,
					      __ATOMIC_RELAXED));
	*id = cur + 1;
	return 0;
}

/* Reserves up to k consecutive outbound message IDs for a run of packets on one SA: returns
 * how many (0 once the IDs are used up) and the first in *first. One atomic operation per run
 * instead of one per packet. */
static inline uint32_t
sa_msgid_reserve(struct sa *sa, uint32_t k, uint32_t *first)
{
	uint32_t cur = __atomic_load_n(&sa->msgid_out, __ATOMIC_RELAXED), got;

	do {
		got = MIN(k, UINT32_MAX - cur);
		if (got == 0)
			return 0;
	} while (!__atomic_compare_exchange_n(&sa->msgid_out, &cur, cur + got, 1, __ATOMIC_RELAXED,
					      __ATOMIC_RELAXED));
	*first = cur + 1;
	return got;
}

struct sa_table;

struct sa_table_params {
	const char *name;	 /* unique among this process's hashes and defer queues */
	uint32_t max_sas;	 /* live SAs */
	int socket_id;		 /* SOCKET_ID_ANY is fine */
	struct rte_rcu_qsbr *v;	 /* the workers' QSBR variable; the caller owns it */
	enum cb_backend backend; /* for the key schedules (the table owns a cb_ctx) */
};

/* A table, or NULL (bad parameters, no memory, or the name already in use). */
struct sa_table *sa_table_create(const struct sa_table_params *p);
/* Waits for the readers, then frees every SA (keys wiped) and the table. NULL is fine. */
void sa_table_free(struct sa_table *t);

/* --- the writer (one thread) --- */

/* Adds d under the control generation ctl_gen, or replaces the SA with d->spi_in: the new SA
 * is built and published before the old one is unlinked; the old one is freed after a grace
 * period. A DPIF_SA_STANDBY SA is found by its SPI only (it receives) and becomes the peer's
 * SA for sending when pushed again without the flag. A replacement with the same inbound and
 * outbound keys keeps the replay window and the counters and never moves the message ID backwards.
 * 0, E_INVAL (SPI 0), E_NOMEM, E_FULL. */
int sa_table_add(struct sa_table *t, const struct dpif_sa *d, uint64_t ctl_gen) WARN_UNUSED;
/* Removes the SA of spi_in; 0 also when there is none. */
int sa_table_del(struct sa_table *t, uint32_t spi_in);
/* Makes spi_in's SA the one packets to its peer use (clears DPIF_SA_STANDBY; the SA it
 * replaces there keeps receiving until deleted): 0, or E_NOTFOUND, E_FULL. Idempotent. */
int sa_table_activate(struct sa_table *t, uint32_t spi_in) WARN_UNUSED;
/* Moves the peer's endpoint (one atomic store); 0 or E_NOTFOUND. */
int sa_table_set_endpoint(struct sa_table *t, uint32_t spi_in, uint32_t addr, uint16_t port);
/* Removes every SA added with a generation < gen; returns how many. */
unsigned sa_table_flush_gen(struct sa_table *t, uint64_t gen);
/* Calls fn for each SA (writer only; stops at and returns the first nonzero). fn may change
 * the cold fields the writer owns (ev_*) but must not add or delete SAs. */
int sa_table_each(struct sa_table *t, int (*fn)(struct sa *sa, void *arg), void *arg);
/* The SA after *cursor (start at 0), or NULL at the end; writer only. Resumable across calls
 * that change the table (an SA added or deleted meanwhile may be skipped or seen twice). */
struct sa *sa_table_iter(struct sa_table *t, uint32_t *cursor);
/* Frees the unlinked SAs whose grace period is over; returns how many. The writer calls it
 * from its loop; add/del also reclaim as the queue fills. */
unsigned sa_table_reclaim(struct sa_table *t);

struct sa_table_stats {
	uint32_t live;	  /* SAs in the table */
	uint32_t pending; /* unlinked, waiting for the grace period */
	uint64_t freed;	  /* since creation */
	uint64_t syncs;	  /* times the writer had to block in rte_rcu_qsbr_synchronize */
};
void sa_table_stats(const struct sa_table *t, struct sa_table_stats *s);

/* --- the readers (worker lcores, registered and online on the QSBR variable) --- */

struct sa *sa_table_by_spi(const struct sa_table *t, uint32_t spi_in);
struct sa *sa_table_by_peer(const struct sa_table *t, uint32_t peer_addr);

/* The broadcast set: the newest SA of every peer that shares a network with us (net_mask != 0),
 * once per peer. Valid, like the SAs it names, until the reader's next quiescent state. */
struct sa_bcast {
	uint32_t n;
	struct sa *sa[];
};
const struct sa_bcast *sa_table_bcast(const struct sa_table *t);

/* Tests: called with each SA instead of its rte_free (keys already wiped); NULL restores. */
typedef void sa_table_free_hook_fn(void *arg, struct sa *sa);
void sa_table_test_set_free_hook(struct sa_table *t, sa_table_free_hook_fn *fn, void *arg);

#endif
