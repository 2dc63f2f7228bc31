/* SPDX-License-Identifier: MIT */
/*
 * The main lcore's loop: everything slow, so the workers never make a syscall.
 *
 *   every turn (HK_NAP_US apart when idle): the control process's ring (dpif_server_poll)
 *   every HK_WATCH_MS while a new SA waits for its first packet: EV_FIRST (dpif_server_watch;
 *       the initiator of a tunnel switches to its new SA on it)
 *   every HK_VIEW_MS: the kernel's view of the mirror and overlay TAPs (addresses, gateway),
 *       published to the workers; ARP sightings from the workers into the neighbour table
 *   every second, and after SA changes: an ARP request for every next hop an SA needs and the
 *       table lacks or has stale (so an unanswered one costs one broadcast a second); host-loop
 *       SAs (endpoint = the wan's own address) need none
 *   every second: dpif_server_tick (events, RCU reclaim), the kernel's ARP table for the
 *       mirror, neighbour expiry, the telemetry snapshot
 *
 * The host stack behind the mirror is the source of truth for the wan's address and gateway:
 * configure the mirror TAP as you would the NIC (ip addr, a default route, or a DHCP client;
 * its DHCP and ARP pass through the exception path like any other host traffic).
 */
#define ALLOW_EXPERIMENTAL_API

#include "dataplane/dp.h" /* first: see sa_table.h on container_of */

#include <string.h>
#include <time.h>

#include "common/clock.h"
#include "common/err.h"
#include "dataplane/dpif_server.h"
#include "dataplane/ifview.h"
#include "dataplane/inet.h"
#include "dataplane/neigh.h"

enum {
	HK_NAP_US = 1000,     /* main lcore sleep when the ring was empty */
	HK_WATCH_MS = 5,      /* EV_FIRST latency */
	HK_VIEW_MS = 100,     /* view refresh and neighbour resolution period */
	HK_TICK_MS = 1000,    /* events, reclaim, snapshot */
	HK_ARP_FRESH = 60,    /* seconds: re-resolve a next hop this old */
	HK_ARP_MAX_AGE = 300, /* seconds: forget a neighbour not seen this long */
	HK_WANT_MAX = 16,     /* distinct next hops resolved per pass */
};

void
view_publish(struct dp *dp, const struct dp_view *v)
{
	rte_seqcount_write_begin(&dp->view_sc);
	dp->view = *v;
	rte_seqcount_write_end(&dp->view_sc);
}

static void
view_refresh(struct dp *dp)
{
	struct dp_view v = {0};
	struct ifview iv;

	if (ifview_get(dp->cfg.wan_mirror, &iv) == 0) {
		v.wan_addr = iv.addr;
		v.wan_mask = iv.mask;
		if (ifview_gateway(dp->cfg.wan_mirror, &v.wan_gw) != 0)
			v.wan_gw = 0;
	}
	if (ifview_get(dp->cfg.overlay_iface, &iv) == 0) {
		v.ovl_addr = iv.addr;
		v.ovl_mask = iv.mask;
	}
	v.ovl_mtu = (uint16_t)(dp->cfg.wan_mtu - DP_OVERHEAD);
	v.mss = (uint16_t)(v.ovl_mtu - 40);
	if (memcmp(&v, &dp->view, sizeof(v)) != 0)
		view_publish(dp, &v);
}

static void
learn_drain(struct dp *dp, uint64_t now)
{
	struct dp_learn l;

	for (unsigned i = 0; i < dp->n_workers; i++)
		while (rte_ring_sc_dequeue_elem(dp->w[i]->learn, &l, sizeof(l)) == 0)
			neigh_learn(dp->neigh, l.ip, l.mac, now);
}

struct arp_arg {
	struct dp *dp;
	uint64_t now;
};

static void
kernel_arp(void *arg, uint32_t ip, const uint8_t mac[6])
{
	struct arp_arg *a = arg;

	neigh_learn(a->dp->neigh, ip, mac, a->now);
}

/* Broadcasts "who has ip" from the wan's address, through worker 0's queue. */
static void
arp_request(struct dp *dp, uint32_t ip)
{
	static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, zero[6] = {0};
	struct rte_mbuf *m;

	if (dp->view.wan_addr == 0 || (m = rte_pktmbuf_alloc(dp->pool)) == NULL)
		return;
	m->data_len = m->pkt_len =
		(uint16_t)arp_build(rte_pktmbuf_mtod(m, uint8_t *), rte_pktmbuf_tailroom(m), 1,
				    bcast, dp->mac[DP_WAN].addr_bytes, dp->view.wan_addr, zero, ip);
	if (m->data_len == 0 || rte_ring_sp_enqueue(dp->w[0]->to_wan, m) != 0)
		rte_pktmbuf_free(m);
}

struct want {
	struct dp *dp;
	uint64_t now;
	unsigned n;
	uint32_t ip[HK_WANT_MAX];
};

static int
want_one(struct sa *sa, void *arg)
{
	struct want *w = arg;
	uint32_t ep, nh;
	uint16_t port;
	uint8_t mac[6];

	sa_endpoint(sa, &ep, &port);
	/* host loop: no next hop (an ARP request for our own address would be a gratuitous ARP
	 * on the wan every second) */
	if (view_host_loop(&w->dp->view, ep))
		return 0;
	nh = view_next_hop(&w->dp->view, ep);
	if (nh == 0 || neigh_known(w->dp->neigh, nh, w->now, HK_ARP_FRESH, mac))
		return 0;
	for (unsigned i = 0; i < w->n; i++)
		if (w->ip[i] == nh)
			return 0;
	w->ip[w->n++] = nh;
	arp_request(w->dp, nh);
	return w->n == HK_WANT_MAX; /* the rest next pass */
}

static void
resolve(struct dp *dp, uint64_t now)
{
	struct want w = {.dp = dp, .now = now};

	(void)sa_table_each(dp->sas, want_one, &w);
}

static void
tick(struct dp *dp, uint64_t now)
{
	struct arp_arg a = {dp, now};

	dpif_server_tick(dp->dpif);
	if (ifview_arp(dp->cfg.wan_mirror, kernel_arp, &a) < 0)
		a.now = now; /* no /proc/net/arp: our own requests and sightings still resolve */
	resolve(dp, now);
	neigh_expire(dp->neigh, now, HK_ARP_MAX_AGE);
	stats_snapshot(dp);
}

int
housekeep_run(struct dp *dp)
{
	uint64_t next_view = 0, next_tick = 0, next_watch = 0;

	view_refresh(dp);
	while (!__atomic_load_n(&dp->stop, __ATOMIC_RELAXED)) {
		unsigned n = dpif_server_poll(dp->dpif, 64);
		uint64_t t = clock_ms(), secs = t / 1000;

		if (t >= next_watch) {
			dpif_server_watch(dp->dpif);
			next_watch = t + HK_WATCH_MS;
		}
		if (t >= next_view || n > 0) {
			view_refresh(dp);
			learn_drain(dp, secs);
			if (n > 0)
				resolve(dp,
					secs); /* new SAs: their next hops now, not at the tick */
			next_view = t + HK_VIEW_MS;
		}
		if (t >= next_tick) {
			tick(dp, secs);
			next_tick = t + HK_TICK_MS;
		}
		if (n == 0) {
			struct timespec ts = {0, HK_NAP_US * 1000};

			nanosleep(&ts, NULL);
		}
	}
	return 0;
}
