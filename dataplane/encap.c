/* SPDX-License-Identifier: MIT */
/*
 * Overlay to wan: frames the kernel sent into buri0 become sealed UDP datagrams to the peers.
 *
 * A burst goes through three steps. Classify: ARP gets a proxy answer, oversized packets an
 * ICMP "fragmentation needed" (DF) or a drop, broadcast and multicast one copy per peer of the
 * broadcast set, unicast the SA of its destination. Build, per run of packets on one SA: one
 * atomic reservation of message IDs, one endpoint and next-hop lookup, then each frame is
 * rewritten in place (Ethernet stripped, outer Ethernet/IPv4/UDP and the SPI/ID header
 * prepended, room for padding, IV and MAC appended), so nothing about the SA is needed once the
 * packet is in the crypto queue except its keys. Seal: the chunk goes to the async seal, whose
 * finished packets go to the wan queue (encap_drain).
 *
 * Host loop: a run on an SA whose endpoint is the wan's own address (view_host_loop, one
 * compare per run) is built exactly the same, to that address and the endpoint's port, with
 * the wan's MAC as Ethernet destination (the mirror TAP has it, so the kernel takes the frame
 * as its own) and no next hop to look up. The run's port role rides with each packet through
 * the async seal (cb_pkt.tag), and encap_drain queues the packet on that role; from the mirror
 * the kernel delivers it to the control process's socket, which carries it to the relay.
 *
 * The outer UDP checksum is 0 (allowed for IPv4 by RFC 768): the HMAC covers every byte it
 * would, and computing it in software would cost a fifth of the crypto at 1420 bytes.
 */
#define ALLOW_EXPERIMENTAL_API

#include "dataplane/dp.h" /* first: see sa_table.h on container_of */

#include <netinet/in.h>
#include <string.h>

#include "common/err.h"
#include "common/pkt.h"
#include "dataplane/inet.h"
#include "dataplane/neigh.h"

enum {
	OUTER_LEN = RTE_ETHER_HDR_LEN + 20 + 8, /* Ethernet, IPv4 without options, UDP */
	PREPEND = OUTER_LEN + WIRE_HDR_LEN,	/* then SPI and message ID */
};

struct item {
	struct rte_mbuf *m;
	struct sa *sa;
	uint16_t ilen; /* the inner IPv4 packet's length */
};

struct chunk {
	unsigned n;
	struct item it[DP_CHUNK];
};

static const struct rte_ether_addr peer_mac = DP_PEER_MAC;

static void
drop(struct dp_worker *w, struct rte_mbuf *m, enum dp_counter c)
{
	worker_count(w, c, 1);
	rte_pktmbuf_free(m);
}

/* Answers the kernel's ARP request for a peer's address with the peer MAC, in place. */
static void
arp_answer(struct dp_worker *w, struct rte_mbuf *m)
{
	uint8_t *f = rte_pktmbuf_mtod(m, uint8_t *);
	struct arp_info a;

	if (arp_parse(f + RTE_ETHER_HDR_LEN, m->data_len - RTE_ETHER_HDR_LEN, &a) != 0 ||
	    a.op != 1 || a.tpa == a.spa || a.tpa == w->view.ovl_addr ||
	    rte_pktmbuf_tailroom(m) + m->data_len < 60 || m->nb_segs != 1) {
		rte_pktmbuf_free(m); /* gratuitous ARP, replies, our own address: nothing to say */
		return;
	}
	m->data_len = m->pkt_len =
		(uint16_t)arp_build(f, 60, 2, a.sha, peer_mac.addr_bytes, a.tpa, a.sha, a.spa);
	worker_count(w, DP_C_arp_proxy, 1);
	worker_tx(w, DP_OVERLAY, m);
}

/* DF set and too big for the tunnel: ICMP type 3 code 4 back to the sender, from the address
 * it tried to reach (a local source would be a martian to the kernel). */
static void
too_big(struct dp_worker *w, struct rte_mbuf *m, const uint8_t *ip, uint16_t ilen)
{
	struct rte_mbuf *r = rte_pktmbuf_alloc(w->dp->pool);
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	uint8_t *f;
	size_t len;

	if (r == NULL) {
		drop(w, m, DP_C_drop_nombuf);
		return;
	}
	f = rte_pktmbuf_mtod(r, uint8_t *);
	len = icmp_frag_needed(f + RTE_ETHER_HDR_LEN, rte_pktmbuf_tailroom(r) - RTE_ETHER_HDR_LEN,
			       ip, ilen, load_be32(ip + 16), w->view.ovl_mtu);
	if (len != 0) {
		struct rte_ether_hdr *re = (struct rte_ether_hdr *)f;

		rte_ether_addr_copy(&eth->src_addr, &re->dst_addr);
		rte_ether_addr_copy(&peer_mac, &re->src_addr);
		re->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
		r->data_len = r->pkt_len = (uint16_t)(RTE_ETHER_HDR_LEN + len);
		worker_count(w, DP_C_icmp_toobig, 1);
		worker_tx(w, DP_OVERLAY, r);
	} else {
		rte_pktmbuf_free(r);
	}
	drop(w, m, DP_C_drop_toobig);
}

/* The inner IPv4 packet of an overlay frame: its length, or 0 if the header is bad. */
static uint16_t
inner_len(const struct rte_mbuf *m, const uint8_t *ip)
{
	uint16_t avail = m->data_len - RTE_ETHER_HDR_LEN, total;

	if (m->nb_segs != 1 || m->data_len < RTE_ETHER_HDR_LEN + 20 || (ip[0] >> 4) != 4 ||
	    (ip[0] & 0xf) < 5)
		return 0;
	total = load_be16(ip + 2);
	if (total > avail || total < (ip[0] & 0xf) * 4)
		return 0;
	return total;
}

static void chunk_add(struct dp_worker *w, struct chunk *c, struct rte_mbuf *m, struct sa *sa,
		      uint16_t ilen);

/* One copy per peer of the broadcast set; the original is consumed. */
static void
replicate(struct dp_worker *w, struct chunk *c, struct rte_mbuf *m, uint16_t ilen)
{
	const struct sa_bcast *b = sa_table_bcast(w->dp->sas);

	for (uint32_t i = 0; b != NULL && i < b->n; i++) {
		struct rte_mbuf *copy = rte_pktmbuf_copy(m, w->dp->pool, 0, UINT32_MAX);

		if (copy == NULL) {
			worker_count(w, DP_C_drop_nombuf, 1);
			continue;
		}
		worker_count(w, DP_C_bcast_copies, 1);
		chunk_add(w, c, copy, b->sa[i], ilen);
	}
	if (b == NULL || b->n == 0)
		worker_count(w, DP_C_drop_no_sa, 1);
	rte_pktmbuf_free(m);
}

/* Classifies one overlay frame into the chunk (or answers, or drops it). */
static void
classify(struct dp_worker *w, struct chunk *c, struct rte_mbuf *m, struct sa **last)
{
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	uint8_t *ip = rte_pktmbuf_mtod_offset(m, uint8_t *, RTE_ETHER_HDR_LEN);
	uint16_t ilen;
	uint32_t dst;
	struct sa *sa;

	if (m->data_len < RTE_ETHER_HDR_LEN) {
		drop(w, m, DP_C_drop_malformed_ovl);
		return;
	}
	if (eth->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP)) {
		arp_answer(w, m);
		return;
	}
	if (eth->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4)) {
		drop(w, m, DP_C_drop_non_ip);
		return;
	}
	if ((ilen = inner_len(m, ip)) == 0) {
		drop(w, m, DP_C_drop_malformed_ovl);
		return;
	}
	if (ilen > w->view.ovl_mtu) {
		if (ip[6] & 0x40) /* DF */
			too_big(w, m, ip, ilen);
		else
			drop(w, m, DP_C_drop_toobig);
		return;
	}
	dst = load_be32(ip + 16);
	if (ipv4_is_mcast(dst) || ipv4_is_bcast(dst, w->view.ovl_addr, w->view.ovl_mask)) {
		replicate(w, c, m, ilen);
		return;
	}
	/* cache the last lookup: a burst is usually one flow */
	sa = *last != NULL && (*last)->peer_addr == dst ? *last : sa_table_by_peer(w->dp->sas, dst);
	if (sa == NULL) {
		drop(w, m, DP_C_drop_no_sa);
		return;
	}
	*last = sa;
	if (ip[9] == IPPROTO_TCP && tcp_mss_clamp(ip, ilen, w->view.mss) == 1)
		worker_count(w, DP_C_mss_clamped, 1);
	chunk_add(w, c, m, sa, ilen);
}

/* The outer headers every packet of a run shares; per packet only the lengths, the IPv4 ID
 * and the checksum differ, and the checksum follows from sum (the header's sum with those
 * fields zero) by one addition. */
struct outer {
	uint8_t b[OUTER_LEN];
	uint32_t sum;
	enum dp_role role; /* the port the run leaves by: DP_WAN, or DP_MIRROR (host loop) */
};

static void
outer_init(struct outer *o, const struct dp_worker *w, const struct rte_ether_addr *nh, uint32_t ep,
	   uint16_t port, enum dp_role role)
{
	uint8_t *ip = o->b + RTE_ETHER_HDR_LEN, *udp = ip + 20;

	memset(o->b, 0, sizeof(o->b));
	o->role = role;
	memcpy(o->b, nh->addr_bytes, RTE_ETHER_ADDR_LEN);
	memcpy(o->b + RTE_ETHER_ADDR_LEN, w->dp->mac[DP_WAN].addr_bytes, RTE_ETHER_ADDR_LEN);
	store_be16(o->b + 12, RTE_ETHER_TYPE_IPV4);
	ip[0] = 0x45;
	ip[8] = 64; /* TTL; fragment offset and flags 0: DF clear, so a smaller path MTU
		     * fragments rather than drops */
	ip[9] = IPPROTO_UDP;
	store_be32(ip + 12, w->view.wan_addr);
	store_be32(ip + 16, ep);
	store_be16(udp, w->dp->tunnel_port);
	store_be16(udp + 2, port);
	o->sum = inet_sum(ip, 20, 0);
}

/* Rewrites the frame of it in place into its sealed shape (one bounds check for the whole
 * rewrite: the mbuf is one segment) and describes it for the seal. */
static int
frame_build(struct dp_worker *w, const struct item *it, const struct outer *o, uint32_t id,
	    struct cb_pkt *p)
{
	struct rte_mbuf *m = it->m;
	uint16_t sealed = (uint16_t)pkt_sealed_len(it->ilen);
	uint16_t inner = m->data_off + RTE_ETHER_HDR_LEN, ipid = w->ip_id++;
	uint8_t *f, *ip;

	if (inner < PREPEND || inner - WIRE_HDR_LEN + sealed > m->buf_len)
		return E_NOSPACE;
	m->data_off = inner - PREPEND;
	m->data_len = (uint16_t)(OUTER_LEN + sealed);
	m->pkt_len = m->data_len;
	f = rte_pktmbuf_mtod(m, uint8_t *);
	memcpy(f, o->b, OUTER_LEN);
	ip = f + RTE_ETHER_HDR_LEN;
	store_be16(ip + 2, (uint16_t)(20 + 8 + sealed));
	store_be16(ip + 4, ipid);
	store_be16(ip + 10, inet_fold(o->sum + 20 + 8 + sealed + ipid));
	store_be16(ip + 20 + 4, (uint16_t)(8 + sealed));
	store_be32(f + OUTER_LEN, it->sa->spi_out);
	store_be32(f + OUTER_LEN + 4, id);
	*p = (struct cb_pkt){
		f + OUTER_LEN, (uint32_t)(WIRE_HDR_LEN + it->ilen), sealed, &it->sa->keys_out, 0, m,
		o->role};
	return 0;
}

/* Builds it[0..k), all on one SA, into p; returns how many went into p. */
static unsigned
run_build(struct dp_worker *w, const struct item *it, unsigned k, struct cb_pkt *p)
{
	struct sa *sa = it[0].sa;
	struct rte_ether_addr nh;
	struct outer o;
	uint32_t ep, id = 0, got, np = 0;
	uint64_t bytes = 0;
	uint16_t port;

	sa_endpoint(sa, &ep, &port);
	if (unlikely(view_host_loop(&w->view, ep))) {
		outer_init(&o, w, &w->dp->mac[DP_WAN], ep, port, DP_MIRROR);
	} else if (neigh_lookup(w->dp->neigh, view_next_hop(&w->view, ep), nh.addr_bytes)) {
		outer_init(&o, w, &nh, ep, port, DP_WAN);
	} else {
		for (unsigned i = 0; i < k; i++)
			drop(w, it[i].m, DP_C_drop_no_route);
		return 0;
	}
	got = sa_msgid_reserve(sa, k, &id);
	for (unsigned i = 0; i < k; i++) {
		if (i >= got) {
			drop(w, it[i].m, DP_C_drop_exhausted);
		} else if (frame_build(w, &it[i], &o, id + i, &p[np]) != 0) {
			drop(w, it[i].m, DP_C_drop_nombuf);
		} else {
			bytes += it[i].ilen;
			np++;
		}
	}
	__atomic_fetch_add(&sa->pkts_out, np, __ATOMIC_RELAXED);
	__atomic_fetch_add(&sa->bytes_out, bytes, __ATOMIC_RELAXED);
	worker_count(w, DP_C_encap_bytes, bytes);
	return np;
}

/* Builds the chunk run by run and hands it to the async seal. */
static void
chunk_seal(struct dp_worker *w, struct chunk *c)
{
	struct cb_pkt p[DP_CHUNK];
	unsigned np = 0, sent = 0;

	for (unsigned i = 0, j; i < c->n; i = j) {
		for (j = i + 1; j < c->n && c->it[j].sa == c->it[i].sa; j++)
			;
		np += run_build(w, &c->it[i], j - i, &p[np]);
	}
	c->n = 0;
	while (sent < np) {
		sent += cb_seal_enqueue(w->cb, p + sent, np - sent);
		if (sent < np)
			encap_drain(w, true);
	}
}

static void
chunk_add(struct dp_worker *w, struct chunk *c, struct rte_mbuf *m, struct sa *sa, uint16_t ilen)
{
	c->it[c->n++] = (struct item){m, sa, ilen};
	if (c->n == DP_CHUNK)
		chunk_seal(w, c);
}

void
encap_frames(struct dp_worker *w, struct rte_mbuf **m, unsigned n)
{
	struct chunk c;
	struct sa *last = NULL;

	c.n = 0;
	for (unsigned i = 0; i < n; i++)
		classify(w, &c, m[i], &last);
	if (c.n > 0)
		chunk_seal(w, &c);
	encap_drain(w, false);
}

void
encap_dummies(struct dp_worker *w, const uint32_t *spi, unsigned n)
{
	struct chunk c;

	c.n = 0;
	for (unsigned i = 0; i < n; i++) {
		struct sa *sa = sa_table_by_spi(w->dp->sas, spi[i]);
		struct rte_mbuf *m;

		if (sa == NULL) /* deleted since it was asked for */
			continue;
		if ((m = rte_pktmbuf_alloc(w->dp->pool)) == NULL) {
			worker_count(w, DP_C_drop_nombuf, 1);
			continue;
		}
		/* an overlay frame with no inner packet: frame_build puts the SPI and ID where the
		 * inner packet would start */
		m->data_len = m->pkt_len = RTE_ETHER_HDR_LEN;
		worker_count(w, DP_C_dummy_out, 1);
		chunk_add(w, &c, m, sa, 0);
	}
	if (c.n > 0)
		chunk_seal(w, &c);
	encap_drain(w, false);
}

void
encap_drain(struct dp_worker *w, bool flush)
{
	struct cb_pkt done[DP_CHUNK];
	unsigned n;

	while ((n = cb_seal_dequeue(w->cb, done, DP_CHUNK, flush)) > 0) {
		flush = false; /* one flush completes everything */
		for (unsigned i = 0; i < n; i++) {
			struct rte_mbuf *m = done[i].user;

			if (done[i].status != 0) {
				drop(w, m, DP_C_drop_crypto);
				continue;
			}
			worker_count(w, DP_C_encap, 1);
			if (unlikely(done[i].tag == DP_MIRROR))
				worker_count(w, DP_C_loop_out, 1);
			worker_tx(w, (enum dp_role)done[i].tag, m);
		}
	}
}
