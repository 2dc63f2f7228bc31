/* SPDX-License-Identifier: MIT */
/*
 * buri-dataplane's process context: ports and their roles, the workers, what the main lcore
 * publishes to them, and the counters. Prototypes are grouped by the file that defines them.
 *
 *            overlay (net_tap "buri0")                 wan (af_packet / NIC)
 *   kernel <--------------------------> worker <----------------------------> network
 *   (apps)      IPv4 frames, proxy ARP    lcores    SPI-tagged UDP, and what
 *                                           ^ |      is not tunnel data:
 *   kernel <--------------------------------+ +--->  ARP, TCP, SPI-0 control
 *   (control)   mirror (net_tap "buriwan0", the wan's MAC): the host stack's view of the wan
 *
 * Host loop: an SA whose endpoint is the wan's own address belongs to a tunnel the control
 * process carries to a relay over TCP. Its sealed packets go into the mirror (to the control
 * process's UDP socket) instead of out of the wan, and tunnel data the control process writes
 * into the mirror to our own address and tunnel port is opened as if it came from the wan.
 *
 * The main lcore is the slow path and the SA table's one writer: it applies the control
 * process's ring messages (dpif_server), reads the kernel's view of both TAPs once every
 * HK_VIEW_MS, resolves next hops, sends events and keeps the telemetry snapshot. Workers only
 * read what it publishes: SAs under RCU, the view under a sequence count, neighbours under
 * per-slot sequence counts.
 */
#ifndef BURI_DP_H
#define BURI_DP_H

#include <stdbool.h>
#include <stdint.h>

/* ours before DPDK's: see sa_table.h on container_of */
#include "dataplane/cfg.h"
#include "dataplane/crypto_batch.h"
#include "dataplane/sa_table.h"

#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>
#include <rte_seqcount.h>

struct neigh;
struct dpif_server;

enum {
	DP_BURST = 32,	     /* packets per rx burst */
	DP_TXQ_MAX = 256,    /* frames buffered per port per worker before a tx burst */
	DP_CHUNK = 64,	     /* packets per crypto chunk (CB_BURST_MAX) */
	DP_OVERHEAD = 80,    /* outer IPv4 20 + UDP 8 + SPI/ID 8 + padding <= 16 + IV 16 + MAC 12 */
	DP_FLUSH_TURNS = 64, /* loop turns between forced crypto flushes (then a quiescent state) */
	DP_LEARN_RING = 256, /* ARP sightings per worker waiting for the main lcore */
	DP_TOWAN_RING = 256, /* frames from the main lcore waiting for worker 0 */
	DP_PROBE_RING = 256, /* dummies (keepalives) the control process asked for, not sent yet */
};

/* 02:62:75:72:69:00 ("bur", "i"): the MAC the overlay's peers seem to have (proxy ARP). */
#define DP_PEER_MAC                                                                                \
	{                                                                                          \
		{                                                                                  \
			0x02, 0x62, 0x75, 0x72, 0x69, 0x00                                         \
		}                                                                                  \
	}

/* Port roles. lan is the gateway mode's third port (a later issue): a LAN behind the node,
 * routed like the overlay port; the tables are sized for it already. */
enum dp_role {
	DP_WAN,
	DP_OVERLAY,
	DP_MIRROR,
	DP_LAN,
	DP_ROLES,
};

/* What the kernel says, published by the main lcore. Host byte order; 0 = not known yet. */
struct dp_view {
	uint32_t wan_addr, wan_mask, wan_gw;
	uint32_t ovl_addr, ovl_mask;
	uint16_t ovl_mtu; /* largest inner IPv4 packet the tunnel carries */
	uint16_t mss;	  /* TCP MSS clamp: ovl_mtu - 40 */
};

/* Counters, per worker; telemetry sums them (X: name, help). */
#define DP_COUNTERS(X)                                                                             \
	X(ovl_rx, "frames received from the overlay port")                                         \
	X(wan_rx, "frames received from the wan port")                                             \
	X(mirror_rx, "frames the kernel sent through the wan mirror")                              \
	X(encap, "packets sealed and sent to a peer")                                              \
	X(encap_bytes, "inner bytes sealed")                                                       \
	X(decap, "packets authenticated, opened and delivered to the overlay")                     \
	X(decap_bytes, "inner bytes delivered")                                                    \
	X(punt, "wan frames handed to the kernel (not tunnel data)")                               \
	X(punt_out, "kernel frames sent out the wan port")                                         \
	X(loop_out, "sealed packets of host-loop SAs handed to the kernel (mirror)")               \
	X(loop_in, "tunnel frames to our own address the kernel sent in (host loop)")              \
	X(bcast_copies, "copies made of overlay broadcast/multicast packets")                      \
	X(arp_proxy, "ARP requests on the overlay answered for peers")                             \
	X(icmp_toobig, "ICMP fragmentation-needed sent back to the overlay")                       \
	X(mss_clamped, "TCP SYNs whose MSS was lowered")                                           \
	X(endpoint_moves, "peer endpoints moved by an authenticated packet")                       \
	X(drop_no_sa, "overlay packets for an address with no SA")                                 \
	X(drop_non_ip, "overlay frames that are neither IPv4 nor ARP")                             \
	X(drop_malformed_ovl, "overlay IPv4 packets with a bad header")                            \
	X(drop_toobig, "overlay packets above the tunnel MTU without DF")                          \
	X(drop_no_route, "packets whose next hop is not resolved yet")                             \
	X(drop_exhausted, "packets on an SA whose message IDs ran out (rekey)")                    \
	X(drop_unknown_spi, "tunnel packets for an SPI we do not have")                            \
	X(drop_replay, "tunnel packets replayed or older than the window")                         \
	X(drop_mac, "tunnel packets with a bad MAC")                                               \
	X(drop_malformed, "tunnel packets with bad structure or padding")                          \
	X(drop_inner, "opened packets that are not a valid IPv4 packet")                           \
	X(drop_spoof, "opened packets whose source is not the peer's overlay address")             \
	X(drop_not_ours, "wan frames for another MAC address")                                     \
	X(drop_no_mirror, "frames for the kernel with no mirror port")                             \
	X(drop_loop, "kernel frames to the wan's own address that are not tunnel data")            \
	X(drop_nombuf, "packets lost for want of an mbuf")                                         \
	X(drop_crypto, "packets the crypto library failed")                                        \
	X(drop_tx, "frames a full transmit queue refused")                                         \
	X(dummy_out, "dummy messages sent (keepalives, key exchange confirmations)")               \
	X(dummy_in, "authentic dummy messages received (counted, never delivered)")                \
	X(naps, "idle sleeps taken")

enum dp_counter {
#define DP_C_ENUM(name, help) DP_C_##name,
	DP_COUNTERS(DP_C_ENUM)
#undef DP_C_ENUM
		DP_C_MAX
};

extern const char *const dp_counter_name[DP_C_MAX];

struct dp_txq {
	uint16_t n;
	struct rte_mbuf *m[DP_TXQ_MAX];
};

/* One worker lcore's state: its own queue on every port, crypto context, counters. */
struct dp_worker {
	struct dp *dp;
	unsigned idx; /* 0..n_workers-1: queue id and QSBR thread id */
	struct cb_ctx *cb;
	uint32_t view_seq; /* the published view's sequence this copy was read at */
	struct dp_view view;
	uint16_t ip_id;
	unsigned idle, nap_us, turns;
	struct rte_ring *learn;	 /* to the main lcore: ARP sightings (ip, mac) */
	struct rte_ring *to_wan; /* from the main lcore: frames for the wan (worker 0 only) */
	struct rte_ring *probes; /* from the main lcore: SPIs to send a dummy on (worker 0 only) */
	struct dp_txq tx[DP_ROLES];
	uint64_t c[DP_C_MAX] __rte_cache_aligned;
} __rte_cache_aligned;

/* An ARP sighting handed from a worker to the main lcore. */
struct dp_learn {
	uint32_t ip;
	uint8_t mac[6];
	uint16_t pad;
};

struct dp {
	struct dp_cfg cfg;
	bool has_port[DP_ROLES];
	uint16_t port[DP_ROLES];
	struct rte_ether_addr mac[DP_ROLES];
	struct rte_mempool *pool;
	struct rte_rcu_qsbr *qsbr;
	struct sa_table *sas;
	struct neigh *neigh;
	struct dpif_server *dpif;
	rte_seqcount_t view_sc; /* written by the main lcore only */
	struct dp_view view;
	struct dp_worker *w[DP_WORKERS_MAX];
	unsigned n_workers;
	uint16_t tunnel_port;
	volatile int stop;
};

/* worker.c: the lcore loop and its pieces (tests and the benchmark drive the pieces). */
int worker_main(void *arg);
struct dp_worker *worker_new(struct dp *dp, unsigned idx, enum cb_backend backend);
void worker_free(struct dp_worker *w);
/* One loop turn: every port's rx burst, processing, tx; returns frames received. */
unsigned worker_poll(struct dp_worker *w);
/* Re-reads the published view if it changed. */
void worker_view_sync(struct dp_worker *w);
/* Sorts wan frames: tunnel data to decap, the rest to the kernel (mirror) or the floor; takes
 * ownership of every mbuf. */
void worker_wan_frames(struct dp_worker *w, struct rte_mbuf **m, unsigned n);
/* Sorts mirror frames: host-loop tunnel data (to our own address and tunnel port) to decap,
 * anything else to our own address to the floor, the rest to the wan; takes ownership of
 * every mbuf. */
void worker_mirror_frames(struct dp_worker *w, struct rte_mbuf **m, unsigned n);
void worker_tx(struct dp_worker *w, enum dp_role role, struct rte_mbuf *m);
void worker_tx_flush(struct dp_worker *w);
static inline void
worker_count(struct dp_worker *w, enum dp_counter c, uint64_t n)
{
	w->c[c] += n;
}

/* encap.c: overlay frames out to the peers (takes ownership of every mbuf). */
void encap_frames(struct dp_worker *w, struct rte_mbuf **m, unsigned n);
/* Moves sealed packets to the wan queue (the mirror queue for host-loop SAs); flush completes
 * everything in flight. */
void encap_drain(struct dp_worker *w, bool flush);
/* Seals and queues one dummy message (empty payload) on each SA named by spi[0..n) that still
 * exists: the message IDs, endpoint and next hop of its ordinary packets. */
void encap_dummies(struct dp_worker *w, const uint32_t *spi, unsigned n);

/* decap.c: tunnel data from the wan in to the overlay (takes ownership of every mbuf; the
 * classifier already checked the outer headers and found SPI != 0). off[i] is the offset of
 * the tunnel payload (the SPI) in m[i], len[i] its length. */
void decap_frames(struct dp_worker *w, struct rte_mbuf **m, const uint16_t *off,
		  const uint16_t *len, unsigned n);

/* housekeep.c: the published view (main lcore writes, workers read). */
void view_publish(struct dp *dp, const struct dp_view *v);
/* Whether an SA with endpoint address ep is a host-loop SA: its peer is reached through the
 * control process (a relay over TCP), so its sealed packets go to the kernel behind the mirror
 * instead of the wan, and it needs no next hop. */
static inline bool
view_host_loop(const struct dp_view *v, uint32_t ep)
{
	return ep == v->wan_addr && ep != 0;
}

/* The next hop on the wan for an endpoint: itself if on-link, else the gateway (0: none). */
static inline uint32_t
view_next_hop(const struct dp_view *v, uint32_t ep)
{
	if (v->wan_mask != 0 && ((ep ^ v->wan_addr) & v->wan_mask) == 0)
		return ep;
	return v->wan_gw;
}

/* port.c */
int port_setup(struct dp *dp);
void port_close(struct dp *dp);

/* housekeep.c: the main lcore's loop */
int housekeep_run(struct dp *dp);

/* stats.c: telemetry */
int stats_register(struct dp *dp);
void stats_snapshot(struct dp *dp);
void stats_free(void);

#endif
