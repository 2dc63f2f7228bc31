/* SPDX-License-Identifier: MIT */
/*
 * Wan to overlay: sealed tunnel datagrams become frames the kernel receives on buri0.
 *
 * Order of checks, each drop counted: SPI -> SA (unknown: drop); message ID against the replay
 * window (a cheap early drop, the window is not touched); the burst's MACs in constant time,
 * then decryption and unpadding of the authentic ones only (crypto_batch); the window again
 * (two copies of one packet in one burst) and only now its update; the inner packet must be
 * IPv4 from the peer's own overlay address (a peer cannot speak for another); then, and only
 * for an authentic packet, a new outer source moves the peer's endpoint (NAT rebinding,
 * roaming). The replay window belongs to the one worker that receives the SA's packets.
 */
#define ALLOW_EXPERIMENTAL_API

#include "dataplane/dp.h" /* first: see sa_table.h on container_of */

#include <rte_ip.h>
#include <rte_udp.h>

#include "common/err.h"
#include "common/pkt.h"
#include "common/replay.h"
#include "dataplane/inet.h"

static void
drop(struct dp_worker *w, struct rte_mbuf *m, enum dp_counter c)
{
	worker_count(w, c, 1);
	rte_pktmbuf_free(m);
}

static enum dp_counter
open_drop_reason(int status)
{
	return status == E_MAC ? DP_C_drop_mac : DP_C_drop_malformed;
}

/* The inner packet's length if it is IPv4 from src, else 0 (the reason in *why). */
static uint16_t
inner_ok(const uint8_t *ip, uint32_t plen, uint32_t src, enum dp_counter *why)
{
	uint16_t total;

	*why = DP_C_drop_inner;
	if (plen < 20 || (ip[0] >> 4) != 4 || (ip[0] & 0xf) < 5)
		return 0;
	total = load_be16(ip + 2);
	if (total > plen || total < (ip[0] & 0xf) * 4)
		return 0;
	*why = DP_C_drop_spoof;
	return load_be32(ip + 12) == src ? total : 0;
}

/* A new outer source for an authentic packet moves the peer there. */
static void
endpoint_follow(struct dp_worker *w, struct sa *sa, const struct rte_mbuf *m, uint16_t off)
{
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
	uint64_t ep = (uint64_t)load_be32(f + RTE_ETHER_HDR_LEN + 12) << 16 |
		      load_be16(f + off - 8); /* IPv4 source, UDP source port */

	if (ep != __atomic_load_n(&sa->endpoint, __ATOMIC_RELAXED)) {
		__atomic_store_n(&sa->endpoint, ep, __ATOMIC_RELAXED);
		worker_count(w, DP_C_endpoint_moves, 1);
	}
}

/* Reshapes m from outer frame to an overlay frame holding the inner packet, and sends it. */
static void
deliver(struct dp_worker *w, struct rte_mbuf *m, uint16_t off, uint16_t total)
{
	static const struct rte_ether_addr peer_mac = DP_PEER_MAC;
	struct rte_ether_hdr *eth;
	uint8_t *ip;
	uint32_t dst;

	rte_pktmbuf_adj(m, off + WIRE_HDR_LEN - RTE_ETHER_HDR_LEN);
	rte_pktmbuf_trim(m, m->data_len - RTE_ETHER_HDR_LEN - total);
	eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	ip = (uint8_t *)(eth + 1);
	dst = load_be32(ip + 16);
	if (ipv4_is_mcast(dst))
		eth_mcast_mac(dst, eth->dst_addr.addr_bytes);
	else if (ipv4_is_bcast(dst, w->view.ovl_addr, w->view.ovl_mask))
		memset(eth->dst_addr.addr_bytes, 0xff, RTE_ETHER_ADDR_LEN);
	else
		rte_ether_addr_copy(&w->dp->mac[DP_OVERLAY], &eth->dst_addr);
	rte_ether_addr_copy(&peer_mac, &eth->src_addr);
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	if (ip[9] == IPPROTO_TCP && tcp_mss_clamp(ip, total, w->view.mss) == 1)
		worker_count(w, DP_C_mss_clamped, 1);
	worker_tx(w, DP_OVERLAY, m);
}

/* After the open: replay, inner checks, counters, endpoint, delivery. */
static void
finish(struct dp_worker *w, struct sa *sa, struct cb_pkt *p, uint16_t off)
{
	struct rte_mbuf *m = p->user;
	uint32_t id = load_be32(p->buf + 4);
	enum dp_counter why;
	uint16_t total;

	if (p->status != 0) {
		drop(w, m, open_drop_reason(p->status));
		return;
	}
	if (replay_check(&sa->replay, id) != 0) {
		drop(w, m, DP_C_drop_replay);
		return;
	}
	replay_update(&sa->replay, id);
	if (p->len ==
	    WIRE_HDR_LEN) { /* a dummy: proof of life, keys and path; nothing to deliver */
		__atomic_store_n(&sa->pkts_in, sa->pkts_in + 1, __ATOMIC_RELAXED);
		worker_count(w, DP_C_dummy_in, 1);
		endpoint_follow(w, sa, m, off);
		rte_pktmbuf_free(m);
		return;
	}
	if ((total = inner_ok(p->buf + WIRE_HDR_LEN, p->len - WIRE_HDR_LEN, sa->peer_addr, &why)) ==
	    0) {
		drop(w, m, why);
		return;
	}
	/* one lcore receives an SA's packets: plain increments, atomic stores for readers */
	__atomic_store_n(&sa->pkts_in, sa->pkts_in + 1, __ATOMIC_RELAXED);
	__atomic_store_n(&sa->bytes_in, sa->bytes_in + total, __ATOMIC_RELAXED);
	worker_count(w, DP_C_decap, 1);
	worker_count(w, DP_C_decap_bytes, total);
	endpoint_follow(w, sa, m, off);
	deliver(w, m, off, total);
}

/* At most DP_CHUNK frames: early drops, then one open burst, then each result. */
static void
decap_chunk(struct dp_worker *w, struct rte_mbuf **m, const uint16_t *off, const uint16_t *len,
	    unsigned n)
{
	struct cb_pkt p[DP_CHUNK];
	struct sa *sas[DP_CHUNK], *sa = NULL;
	uint16_t offs[DP_CHUNK];
	unsigned k = 0;

	for (unsigned i = 0; i < n; i++) {
		uint8_t *buf = rte_pktmbuf_mtod_offset(m[i], uint8_t *, off[i]);
		uint32_t spi = load_be32(buf);

		if (sa == NULL || sa->spi_in != spi)
			sa = sa_table_by_spi(w->dp->sas, spi);
		if (sa == NULL) {
			drop(w, m[i], DP_C_drop_unknown_spi);
			continue;
		}
		if (len[i] >= WIRE_HDR_LEN && replay_check(&sa->replay, load_be32(buf + 4)) != 0) {
			drop(w, m[i],
			     load_be32(buf + 4) == 0 ? DP_C_drop_malformed : DP_C_drop_replay);
			continue;
		}
		p[k] = (struct cb_pkt){buf, len[i], len[i], &sa->keys_in, 0, m[i], 0};
		sas[k] = sa;
		offs[k++] = off[i];
	}
	cb_open_burst(w->cb, p, k);
	for (unsigned i = 0; i < k; i++)
		finish(w, sas[i], &p[i], offs[i]);
}

void
decap_frames(struct dp_worker *w, struct rte_mbuf **m, const uint16_t *off, const uint16_t *len,
	     unsigned n)
{
	for (unsigned i = 0; i < n; i += DP_CHUNK)
		decap_chunk(w, m + i, off + i, len + i, MIN(n - i, (unsigned)DP_CHUNK));
}
