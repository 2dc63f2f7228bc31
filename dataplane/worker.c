/* SPDX-License-Identifier: MIT */
/*
 * The worker lcore: poll every port's queue of this worker, sort what came, hand it on.
 *
 *   overlay rx -> encap (proxy ARP, ICMP too-big, broadcast copies) -> wan tx
 *   wan rx     -> tunnel data (IPv4 to us, UDP to the tunnel port, SPI != 0) -> decap -> overlay tx
 *              -> anything else for our MAC or a group address -> mirror tx (the kernel)
 *   mirror rx  -> wan tx (the host stack's own traffic: ARP, TCP to the mediator, SPI-0 UDP)
 *              -> tunnel data to our own address (the host loop) -> decap -> overlay tx
 *
 * Host loop: for a tunnel relayed over TCP the control process is the wire. encap sends the
 * sealed packets of an SA whose endpoint is our own address into the mirror; the control
 * process writes the peer's sealed packets into the mirror (AF_PACKET on the TAP) addressed
 * to our own address and tunnel port, and they take the wan's decap path. The kernel never
 * routes a packet to its own address out of an interface, so one compare of a mirror frame's
 * IPv4 destination with the wan's address sets them apart; what else is addressed to us is
 * dropped, never sent out of the wan.
 *
 * No locks, syscalls, allocation (beyond mbufs) or logging per packet: counters only. A worker
 * reports a quiescent state (SAs it saw may be freed) only on turns that end with no sealed
 * packet still in the crypto queue, so it forces a flush every DP_FLUSH_TURNS turns under
 * load and on every idle turn.
 *
 * Idle back-off (poll.busy = false): after poll.idle_polls empty turns the worker sleeps, first
 * 1 us, doubling to poll.sleep_max_us, which bounds the wake-up latency; it goes offline on the
 * QSBR variable while asleep so the SA writer never waits for it. The TAP PMD's SIGIO cuts a
 * sleep short when the kernel sends a frame (nanosleep returns EINTR); the wan port has no such
 * signal. docs/BENCHMARKS.md has the measured latency cost.
 */
#define ALLOW_EXPERIMENTAL_API

#include "dataplane/dp.h" /* first: see sa_table.h on container_of */

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <time.h>

#include <rte_ethdev.h>
#include <rte_malloc.h>

#include "common/err.h"
#include "dataplane/inet.h"

const char *const dp_counter_name[DP_C_MAX] = {
#define DP_C_NAME(name, help) #name,
	DP_COUNTERS(DP_C_NAME)
#undef DP_C_NAME
};

struct dp_worker *
worker_new(struct dp *dp, unsigned idx, enum cb_backend backend)
{
	struct dp_worker *w = rte_zmalloc("dp_worker", sizeof(*w), RTE_CACHE_LINE_SIZE);
	char name[RTE_RING_NAMESIZE];

	if (w == NULL)
		return NULL;
	w->dp = dp;
	w->idx = idx;
	w->view_seq = UINT32_MAX; /* never a published sequence: read at the first turn */
	w->cb = cb_ctx_new(backend);
	snprintf(name, sizeof(name), "dp_learn%u", idx);
	w->learn = rte_ring_create_elem(name, sizeof(struct dp_learn), DP_LEARN_RING, SOCKET_ID_ANY,
					RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (idx == 0) {
		w->to_wan = rte_ring_create("dp_towan", DP_TOWAN_RING, SOCKET_ID_ANY,
					    RING_F_SP_ENQ | RING_F_SC_DEQ);
		w->probes = rte_ring_create_elem("dp_probes", sizeof(uint32_t), DP_PROBE_RING,
						 SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	}
	if (w->cb == NULL || w->learn == NULL ||
	    (idx == 0 && (w->to_wan == NULL || w->probes == NULL))) {
		worker_free(w);
		return NULL;
	}
	return w;
}

void
worker_free(struct dp_worker *w)
{
	struct rte_mbuf *m;

	if (w == NULL)
		return;
	while (w->to_wan != NULL && rte_ring_sc_dequeue(w->to_wan, (void **)&m) == 0)
		rte_pktmbuf_free(m);
	for (unsigned r = 0; r < DP_ROLES; r++)
		rte_pktmbuf_free_bulk(w->tx[r].m, w->tx[r].n);
	rte_ring_free(w->learn);
	rte_ring_free(w->to_wan);
	rte_ring_free(w->probes);
	cb_ctx_free(w->cb);
	rte_free(w);
}

void
worker_view_sync(struct dp_worker *w)
{
	uint32_t sn = rte_seqcount_read_begin(&w->dp->view_sc);
	struct dp_view v;

	if (sn == w->view_seq)
		return;
	do {
		sn = rte_seqcount_read_begin(&w->dp->view_sc);
		v = w->dp->view;
	} while (rte_seqcount_read_retry(&w->dp->view_sc, sn));
	w->view = v;
	w->view_seq = sn;
}

static void
tx_flush_one(struct dp_worker *w, enum dp_role r)
{
	struct dp_txq *q = &w->tx[r];
	uint16_t sent = rte_eth_tx_burst(w->dp->port[r], (uint16_t)w->idx, q->m, q->n);

	if (sent < q->n) {
		worker_count(w, DP_C_drop_tx, q->n - sent);
		rte_pktmbuf_free_bulk(q->m + sent, q->n - sent);
	}
	q->n = 0;
}

void
worker_tx(struct dp_worker *w, enum dp_role r, struct rte_mbuf *m)
{
	struct dp_txq *q = &w->tx[r];

	if (!w->dp->has_port[r]) {
		worker_count(w, r == DP_MIRROR ? DP_C_drop_no_mirror : DP_C_drop_tx, 1);
		rte_pktmbuf_free(m);
		return;
	}
	if (q->n == DP_TXQ_MAX)
		tx_flush_one(w, r);
	q->m[q->n++] = m;
}

void
worker_tx_flush(struct dp_worker *w)
{
	for (unsigned r = 0; r < DP_ROLES; r++)
		if (w->tx[r].n > 0)
			tx_flush_one(w, (enum dp_role)r);
}

/* A frame for the host stack. */
static void
punt(struct dp_worker *w, struct rte_mbuf *m)
{
	worker_count(w, DP_C_punt, 1);
	worker_tx(w, DP_MIRROR, m);
}

/* ARP seen on the wan: the sender's address is a neighbour the main lcore may want. */
static void
arp_snoop(struct dp_worker *w, const uint8_t *f, uint16_t len)
{
	struct arp_info a;
	struct dp_learn l = {0};

	if (arp_parse(f + RTE_ETHER_HDR_LEN, len - RTE_ETHER_HDR_LEN, &a) != 0 || a.spa == 0)
		return;
	l.ip = a.spa;
	memcpy(l.mac, a.sha, sizeof(l.mac));
	(void)rte_ring_sp_enqueue_elem(w->learn, &l, sizeof(l)); /* full: the kernel's ARP table
								    still has it */
}

/* The offset of the tunnel payload if f is tunnel data for us (IPv4 to our address, UDP to the
 * tunnel port, unfragmented, SPI != 0), else 0; *plen its length. */
static uint16_t
tunnel_payload(const struct dp_worker *w, const uint8_t *f, uint16_t len, uint16_t *plen)
{
	const uint8_t *ip = f + RTE_ETHER_HDR_LEN, *udp;
	uint16_t hlen, total, ulen;

	if (len < RTE_ETHER_HDR_LEN + 20 + 8 + 4 || (ip[0] >> 4) != 4 || ip[9] != IPPROTO_UDP ||
	    (load_be16(ip + 6) & 0x3fff) != 0)
		return 0;
	hlen = (uint16_t)((ip[0] & 0xf) * 4);
	total = load_be16(ip + 2);
	if (hlen < 20 || total > len - RTE_ETHER_HDR_LEN || total < hlen + 8 + 4)
		return 0;
	if (w->view.wan_addr != 0 && load_be32(ip + 16) != w->view.wan_addr)
		return 0;
	udp = ip + hlen;
	ulen = load_be16(udp + 4);
	if (load_be16(udp + 2) != w->dp->tunnel_port || ulen < 8 + 4 || ulen > total - hlen ||
	    load_be32(udp + 8) == WIRE_SPI_CONTROL)
		return 0;
	*plen = (uint16_t)(ulen - 8);
	return (uint16_t)(RTE_ETHER_HDR_LEN + hlen + 8);
}

void
worker_wan_frames(struct dp_worker *w, struct rte_mbuf **m, unsigned n)
{
	struct rte_mbuf *dm[DP_BURST];
	uint16_t off[DP_BURST], len[DP_BURST];
	unsigned k = 0;

	for (unsigned i = 0; i < n; i++) {
		const uint8_t *f = rte_pktmbuf_mtod(m[i], const uint8_t *);
		const struct rte_ether_hdr *eth = (const struct rte_ether_hdr *)f;
		uint16_t dl = m[i]->data_len;

		if (m[i]->nb_segs != 1 || dl < RTE_ETHER_HDR_LEN) {
			punt(w, m[i]);
			continue;
		}
		if (!rte_is_multicast_ether_addr(&eth->dst_addr) &&
		    !rte_is_same_ether_addr(&eth->dst_addr, &w->dp->mac[DP_WAN])) {
			worker_count(w, DP_C_drop_not_ours, 1);
			rte_pktmbuf_free(m[i]);
			continue;
		}
		if (eth->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) &&
		    (off[k] = tunnel_payload(w, f, dl, &len[k])) != 0) {
			dm[k++] = m[i];
			if (k == DP_BURST) { /* callers may pass more than a burst */
				decap_frames(w, dm, off, len, k);
				k = 0;
			}
			continue;
		}
		if (eth->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP))
			arp_snoop(w, f, dl);
		punt(w, m[i]);
	}
	if (k > 0)
		decap_frames(w, dm, off, len, k);
}

/* A mirror frame with the wan's own address where an IPv4 destination would be: the offset
 * of its tunnel payload (host loop), 0 to drop it (to our own address, not tunnel data), or
 * UINT16_MAX if it is not IPv4 to us after all (for the wan). */
static uint16_t
loop_payload(const struct dp_worker *w, const struct rte_mbuf *m, uint16_t *plen)
{
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
	const struct rte_ether_hdr *eth = (const struct rte_ether_hdr *)f;

	if (w->view.wan_addr == 0 || eth->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4))
		return UINT16_MAX;
	if (m->nb_segs != 1)
		return 0;
	return tunnel_payload(w, f, m->data_len, plen);
}

void
worker_mirror_frames(struct dp_worker *w, struct rte_mbuf **m, unsigned n)
{
	struct rte_mbuf *dm[DP_BURST];
	uint16_t off[DP_BURST], len[DP_BURST];
	unsigned k = 0, out = 0;

	for (unsigned i = 0; i < n; i++) {
		const uint8_t *f = rte_pktmbuf_mtod(m[i], const uint8_t *);
		uint16_t o = UINT16_MAX;

		/* the only test the host stack's own traffic pays: its destination is never our
		 * own address (the kernel does not route that out of an interface) */
		if (unlikely(m[i]->data_len >= RTE_ETHER_HDR_LEN + 20 &&
			     load_be32(f + RTE_ETHER_HDR_LEN + 16) == w->view.wan_addr))
			o = loop_payload(w, m[i], &len[k]);
		if (likely(o == UINT16_MAX)) {
			worker_tx(w, DP_WAN, m[i]);
			out++;
		} else if (o == 0) {
			worker_count(w, DP_C_drop_loop, 1);
			rte_pktmbuf_free(m[i]);
		} else {
			worker_count(w, DP_C_loop_in, 1);
			off[k] = o;
			dm[k++] = m[i];
			if (k == DP_BURST) {
				decap_frames(w, dm, off, len, k);
				k = 0;
			}
		}
	}
	worker_count(w, DP_C_punt_out, out);
	if (k > 0)
		decap_frames(w, dm, off, len, k);
}

static unsigned
rx(struct dp_worker *w, enum dp_role r, struct rte_mbuf **m)
{
	if (!w->dp->has_port[r])
		return 0;
	return rte_eth_rx_burst(w->dp->port[r], (uint16_t)w->idx, m, DP_BURST);
}

unsigned
worker_poll(struct dp_worker *w)
{
	struct rte_mbuf *m[DP_BURST];
	unsigned n, total = 0;

	worker_view_sync(w);
	if ((n = rx(w, DP_OVERLAY, m)) > 0) {
		worker_count(w, DP_C_ovl_rx, n);
		encap_frames(w, m, n);
		total += n;
	}
	if ((n = rx(w, DP_WAN, m)) > 0) {
		worker_count(w, DP_C_wan_rx, n);
		worker_wan_frames(w, m, n);
		total += n;
	}
	if ((n = rx(w, DP_MIRROR, m)) > 0) {
		worker_count(w, DP_C_mirror_rx, n);
		worker_mirror_frames(w, m, n);
		total += n;
	}
	if (w->to_wan != NULL &&
	    (n = rte_ring_sc_dequeue_burst(w->to_wan, (void **)m, DP_BURST, NULL)) > 0) {
		for (unsigned i = 0; i < n; i++)
			worker_tx(w, DP_WAN, m[i]);
		total += n;
	}
	if (w->probes != NULL && rte_ring_count(w->probes) > 0) {
		uint32_t spi[DP_BURST];

		n = rte_ring_sc_dequeue_burst_elem(w->probes, spi, sizeof(spi[0]), DP_BURST, NULL);
		encap_dummies(w, spi, n);
		total += n;
	}
	if (total == 0 || ++w->turns % DP_FLUSH_TURNS == 0)
		encap_drain(w, true);
	worker_tx_flush(w);
	if (cb_seal_held(w->cb) == 0)
		rte_rcu_qsbr_quiescent(w->dp->qsbr, w->idx);
	return total;
}

/* An idle turn: pause for the first idle_polls, then sleep, doubling up to sleep_max_us. */
static void
back_off(struct dp_worker *w)
{
	const struct dp_cfg *cfg = &w->dp->cfg;
	struct timespec ts;

	if (cfg->busy_poll || ++w->idle < cfg->idle_polls) {
		rte_pause();
		return;
	}
	w->nap_us = w->nap_us == 0 ? 1 : MIN(w->nap_us * 2, cfg->sleep_max_us);
	ts.tv_sec = w->nap_us / 1000000;
	ts.tv_nsec = (long)(w->nap_us % 1000000) * 1000;
	worker_count(w, DP_C_naps, 1);
	rte_rcu_qsbr_thread_offline(w->dp->qsbr, w->idx);
	nanosleep(&ts, NULL); /* EINTR (the TAP PMD's SIGIO) just ends the nap early */
	rte_rcu_qsbr_thread_online(w->dp->qsbr, w->idx);
}

int
worker_main(void *arg)
{
	struct dp_worker *w = arg;

	sigset_t io;

	/* naps of a few microseconds need a timer slack below the default 50 us */
	prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
	/* main.c blocks SIGIO everywhere else: the TAP PMD's signal wakes a worker */
	sigemptyset(&io);
	sigaddset(&io, SIGIO);
	pthread_sigmask(SIG_UNBLOCK, &io, NULL);
	rte_rcu_qsbr_thread_register(w->dp->qsbr, w->idx);
	rte_rcu_qsbr_thread_online(w->dp->qsbr, w->idx);
	while (!__atomic_load_n(&w->dp->stop, __ATOMIC_RELAXED)) {
		if (worker_poll(w) > 0) {
			w->idle = 0;
			w->nap_us = 0;
		} else {
			back_off(w);
		}
	}
	encap_drain(w, true);
	worker_tx_flush(w);
	rte_rcu_qsbr_thread_offline(w->dp->qsbr, w->idx);
	rte_rcu_qsbr_thread_unregister(w->dp->qsbr, w->idx);
	return 0;
}
