/* SPDX-License-Identifier: MIT */
/*
 * The contract between buri-control and buri-dataplane: the one header both sides compile.
 *
 * Transport: a shared-memory region that the data plane creates (shm_open of DPIF_SHM_NAME
 * with its file prefix) and the control process maps, holding a header and two
 * single-producer/single-consumer rings of fixed-size messages (shmring.h): control to data
 * plane (SA operations) and data plane to control (acks and events). The control process needs
 * no DPDK, EAL or hugepages, and a kill -9 of either side at any instant never wedges a ring
 * (shmring.h says why). Decided in issue 4 over a DPDK secondary process, which must avoid
 * multi-producer rings (they wedged in 1 of 10 kills), needs hugepages, and must re-exec
 * whenever the data plane restarts (../shared/dpdk-notes.md section 2).
 *
 * Messages go by value: fixed size (DPIF_MSG_SIZE), no pointers, magic and version checked by
 * the reader, a sequence number per direction (gaps are visible), and the data plane's
 * generation, which changes at every data plane start, so the control process knows when it
 * must push every SA again. Operations are idempotent: ADD of an existing inbound SPI replaces
 * the SA (make before break: the old outbound SA stays in use until the new one is in
 * place), DEL of a missing SPI is acknowledged, FLUSH removes what older generations of the
 * control process pushed. Key bytes are wiped from a slot's copy once consumed.
 */
#ifndef BURI_DPIF_H
#define BURI_DPIF_H

#include <stdbool.h>
#include <stdint.h>

#include "common/util.h"
#include "common/wire.h"

#define DPIF_MAGIC    0x44504946u /* "DPIF" */
#define DPIF_VERSION  2
#define DPIF_SHM_NAME "/buri-%s-dpif" /* %s: the data plane's file prefix */

enum dpif_limits {
	DPIF_MSG_SIZE = 256,   /* bytes per message, both directions */
	DPIF_RING_SIZE = 1024, /* messages per ring */
	DPIF_NETS = 64,	       /* networks a node is in, as bits of net_mask */
};

enum dpif_op {
	/* control -> data plane */
	DPIF_SA_ADD = 1,      /* add or replace the SA of spi_in */
	DPIF_SA_DEL = 2,      /* remove the SA of spi_in */
	DPIF_SA_ENDPOINT = 3, /* move the peer endpoint of spi_in */
	DPIF_FLUSH = 4,	      /* remove every SA pushed with a control generation < ctl_gen */
	DPIF_DUMP = 5,	      /* send DPIF_SA_ENTRY for every SA, then an ACK */
	DPIF_SA_PROBE = 6,    /* send one dummy message (empty payload) on spi_in's SA */
	DPIF_SA_ACTIVATE =
		7, /* clear STANDBY: spi_in's SA becomes the one packets to its peer use */
	/* data plane -> control */
	DPIF_ACK = 64,	       /* seq of the request, status */
	DPIF_SA_ENTRY = 65,    /* one SA and its counters, answering DUMP (no keys) */
	DPIF_EV_FIRST = 66,    /* first authenticated packet on an SA */
	DPIF_EV_IDLE = 67,     /* no authenticated packet for the idle interval */
	DPIF_EV_ENDPOINT = 68, /* an authenticated packet came from a new address/port */
	DPIF_EV_EXHAUST = 69,  /* outbound message IDs nearly used up: rekey */
};

/* SA flags. STANDBY: the SA receives, but packets to the peer keep using the peer's current SA
 * until this one is pushed again without the flag. A rekey without loss: both sides add the new
 * SA as standby, then both push it again active, then both delete the old one; each side can
 * decrypt the new SPI before the other starts sending on it. */
enum dpif_sa_flags {
	DPIF_SA_STANDBY = 1 << 0,
	DPIF_SA_FLAGS = DPIF_SA_STANDBY, /* every flag this version knows */
};

/* An SA: one tunnel to one peer, both directions. Addresses and ports host order. */
struct dpif_sa {
	uint32_t spi_in;    /* our inbound SPI: names the SA */
	uint32_t spi_out;   /* the peer's inbound SPI */
	uint32_t peer_addr; /* the peer's overlay address (its identity) */
	uint32_t ep_addr;   /* the peer's current endpoint (underlay) */
	uint16_t ep_port;
	uint16_t flags;	    /* enum dpif_sa_flags */
	uint32_t msgid_out; /* the last outbound message ID used (0 for a new SA) */
	uint64_t net_mask;  /* networks shared with the peer (broadcast replication) */
	uint8_t in_ke[WIRE_KE_LEN], in_ka[WIRE_KA_LEN];	  /* keys of packets from the peer */
	uint8_t out_ke[WIRE_KE_LEN], out_ka[WIRE_KA_LEN]; /* keys of packets to the peer */
};
STATIC_ASSERT_SIZE(struct dpif_sa, 136);

/* A DUMP answer: the SA without its keys, and what the workers counted on it. The quiet times
 * count the data plane's one-second ticks since the SA's last authenticated packet in (or
 * packet out, dummies included), or since it was added if there was none. */
struct dpif_sa_entry {
	struct dpif_sa sa; /* keys zero */
	uint64_t pkts_in, bytes_in, pkts_out, bytes_out, drops_in, drops_out;
	uint32_t quiet_s;    /* seconds without an authenticated packet in */
	uint32_t idle_out_s; /* seconds without a packet out */
};
STATIC_ASSERT_SIZE(struct dpif_sa_entry, 192);

struct dpif_ack {
	uint64_t seq;	/* the request's sequence number */
	int32_t status; /* 0 or a negative E_* */
	uint32_t pad;
};

struct dpif_event {
	uint32_t spi_in;
	uint32_t ep_addr; /* DPIF_EV_ENDPOINT: the new endpoint */
	uint16_t ep_port;
	uint16_t pad;
	uint32_t msgid_out; /* DPIF_EV_EXHAUST: the last ID used */
	uint64_t pkts_in, pkts_out, bytes_in, bytes_out;
};

struct dpif_msg {
	uint32_t magic;	  /* DPIF_MAGIC */
	uint16_t version; /* DPIF_VERSION */
	uint16_t op;	  /* enum dpif_op */
	uint64_t seq;	  /* per direction, from 1, increasing by one */
	uint64_t dp_gen;  /* the data plane's generation (0 from control before it knows one) */
	uint64_t ctl_gen; /* the control process's generation (FLUSH removes older ones) */
	union {
		struct dpif_sa sa; /* SA_ADD, SA_DEL, SA_PROBE, SA_ACTIVATE (spi_in), SA_ENDPOINT */
		struct dpif_sa_entry entry; /* SA_ENTRY */
		struct dpif_ack ack;
		struct dpif_event ev;
		uint8_t raw[DPIF_MSG_SIZE - 32];
	} u;
};
STATIC_ASSERT_SIZE(struct dpif_msg, DPIF_MSG_SIZE);

/* The shared region: this header, then the control-to-data-plane ring, then the other. */
struct dpif_shm {
	uint32_t magic; /* DPIF_MAGIC once the data plane finished laying it out */
	uint32_t version;
	uint64_t dp_gen;	 /* changes at every data plane start */
	uint64_t dp_pid;	 /* the data plane's process, for liveness checks */
	uint64_t dp_heartbeat;	 /* advanced by the data plane's main loop */
	uint64_t ring_offset[2]; /* from the start of the region: [0] ctl->dp, [1] dp->ctl */
	uint8_t pad[16];
};
STATIC_ASSERT_SIZE(struct dpif_shm, 64);

/* (common/dpif.c) The reader's full check of m, a message to the data plane if to_dp, else
 * to the control process: magic and version (E_PROTOCOL), seq != 0 (E_PROTOCOL), an op of that
 * direction (E_TYPE), then the op's fields (E_INVAL): the SPIs it names are not 0, keys travel
 * only in SA_ADD, and every byte the op does not define is zero. 0 if m may be acted on. */
int dpif_msg_check(const struct dpif_msg *m, bool to_dp) WARN_UNUSED;

/* True if m is a well-formed message of this version (the reader's first check). */
static inline int
dpif_msg_valid(const struct dpif_msg *m)
{
	return m->magic == DPIF_MAGIC && m->version == DPIF_VERSION && m->seq != 0;
}

#endif
