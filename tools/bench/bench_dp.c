/* SPDX-License-Identifier: MIT */
/*
 * buri-bench-dp: one worker's encap and decap throughput, no kernel in the loop, against the
 * one-core crypto ceiling measured in the same run.
 *
 * The worker is the data plane's own (dataplane/worker.c, worker_poll: rx burst of 32,
 * classify, SA lookup, message IDs, headers, async batched seal or burst open, tx), fed by an
 * in-process net_ring port and draining into a net_null port (which frees the mbufs). A
 * generator on the same lcore keeps the ring full between worker turns; only the worker's turns
 * are timed (rdtsc around worker_poll), so the figures are those of a worker lcore whose
 * traffic arrives from elsewhere, as on a NIC. Decap input is sealed by the generator with
 * fresh message IDs (the replay window would refuse repeats).
 *
 * Sizes are the inner IPv4 packet's length (what the overlay carries); Gbit/s counts those
 * bytes. IMIX is 7 x 64, 4 x 576, 1 x 1420 (mean 348 B). Median of REPS runs of RUN_S seconds
 * of worker time each.
 *
 *   buri-bench-dp [EAL arguments]      (default: --no-huge -m 512 --no-shconf --no-pci -l 0)
 *
 * For profiling one point: BURI_BENCH_SIZE=64|512|1420|imix, BURI_BENCH_DIR=encap|decap, and
 * BURI_BENCH_NOCEIL=1 to leave the ceiling out (its column then reads 0).
 */
#define ALLOW_EXPERIMENTAL_API

#include "dataplane/dp.h" /* first: see sa_table.h on container_of */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <x86intrin.h>

#include <rte_bus_vdev.h>
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>

#include "common/crypto.h"
#include "common/pkt.h"
#include "dataplane/inet.h"
#include "dataplane/neigh.h"
#include "tools/bench/ceiling.h"

enum {
	RING = 1024,
	DEPTH = 2 * DP_BURST, /* packets waiting for the worker: like a NIC ring that the
				 worker keeps up with, the data is in cache when it arrives */
	REPS = 5,
	NPAT = 12, /* sizes cycle through a pattern of 12 (IMIX) */
	NCEIL = 96,
	SPI_IN = 0x100,
	SPI_OUT = 0x200,
	PORT = 7777,
};

#define RUN_S 0.5

static const size_t imix[NPAT] = {64, 576, 64, 64, 576, 64, 1420, 64, 576, 64, 576, 64};

static const uint32_t WAN_ADDR = 0x0acb0001, PEER_EP = 0x0acb0002;  /* 10.203.0.1, .2 */
static const uint32_t OVL_ADDR = 0x64400001, PEER_OVL = 0x64400002; /* 100.64.0.1, .2 */

struct rig {
	struct dp dp;
	struct dp_worker *w;
	struct rte_ring *gen;
	uint16_t ring_port, null_port;
	struct dirkey kin;
	struct cb_ctx *gen_cb;
	struct cb_sa_keys gen_keys; /* the SA's inbound keys, for sealing decap input */
	uint32_t next_id;
	size_t size[NPAT];
	unsigned pat;
	uint8_t frame[NPAT][1600]; /* overlay frames (encap input) */
};

static double tsc_hz;

static void
measure_tsc(void)
{
	struct timespec a, b;
	uint64_t c0, c1;

	clock_gettime(CLOCK_MONOTONIC, &a);
	c0 = __rdtsc();
	do
		clock_gettime(CLOCK_MONOTONIC, &b);
	while ((double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) * 1e-9 < 0.2);
	c1 = __rdtsc();
	tsc_hz = (double)(c1 - c0) /
		 ((double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) * 1e-9);
}

static void
die(const char *what)
{
	fprintf(stderr, "buri-bench-dp: %s\n", what);
	exit(1);
}

/* An inner IPv4/UDP packet of len bytes from src to dst at p. */
static void
inner_packet(uint8_t *p, size_t len, uint32_t src, uint32_t dst)
{
	memset(p, 0, len);
	p[0] = 0x45;
	store_be16(p + 2, (uint16_t)len);
	p[8] = 64;
	p[9] = 17;
	store_be32(p + 12, src);
	store_be32(p + 16, dst);
	store_be16(p + 10, inet_cksum(p, 20));
	store_be16(p + 20, 5000);
	store_be16(p + 22, 5001);
	store_be16(p + 24, (uint16_t)(len - 20));
}

/* A sink: tx frees, rx never returns anything. */
static uint16_t
null_port(const char *name, struct rte_mempool *pool)
{
	struct rte_eth_conf conf = {0};
	uint16_t port = 0;

	if (rte_vdev_init(name, "no-rx=1") != 0 || rte_eth_dev_get_port_by_name(name, &port) != 0 ||
	    rte_eth_dev_configure(port, 1, 1, &conf) != 0 ||
	    rte_eth_rx_queue_setup(port, 0, 1024, 0, NULL, pool) != 0 ||
	    rte_eth_tx_queue_setup(port, 0, 1024, 0, NULL) != 0 || rte_eth_dev_start(port) != 0)
		die("net_null port");
	return port;
}

static void
rig_init(struct rig *r)
{
	struct dp *dp = &r->dp;
	struct sa_table_params sp = {"bench", 16, SOCKET_ID_ANY, NULL, CB_BACKEND_IPSECMB};
	struct dp_view v = {WAN_ADDR, 0xffffff00, 0, OVL_ADDR, 0xffc00000, 1420, 1380};
	struct dpif_sa d = {SPI_IN, SPI_OUT, PEER_OVL, PEER_EP, PORT, 0, 0, 1, {0}, {0}, {0}, {0}};
	static const uint8_t peer_mac[6] = {0x02, 0, 0, 0, 0, 2};
	struct dirkey kout;

	dp->cfg.busy_poll = true;
	dp->n_workers = 1;
	dp->tunnel_port = PORT;
	rte_seqcount_init(&dp->view_sc);
	dp->pool = rte_pktmbuf_pool_create("bench", 16383, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	dp->qsbr = rte_zmalloc("qsbr", rte_rcu_qsbr_get_memsize(1), RTE_CACHE_LINE_SIZE);
	if (dp->pool == NULL || dp->qsbr == NULL || rte_rcu_qsbr_init(dp->qsbr, 1) != 0)
		die("pool or RCU");
	sp.v = dp->qsbr;
	if ((dp->sas = sa_table_create(&sp)) == NULL || (dp->neigh = neigh_new()) == NULL)
		die("SA table");
	if (crypto_random(&r->kin, sizeof(r->kin)) != 0 || crypto_random(&kout, sizeof(kout)) != 0)
		die("random");
	memcpy(d.in_ke, r->kin.ke, sizeof(d.in_ke));
	memcpy(d.in_ka, r->kin.ka, sizeof(d.in_ka));
	memcpy(d.out_ke, kout.ke, sizeof(d.out_ke));
	memcpy(d.out_ka, kout.ka, sizeof(d.out_ka));
	if (sa_table_add(dp->sas, &d, 1) != 0)
		die("SA add");
	neigh_learn(dp->neigh, PEER_EP, peer_mac, 0);
	view_publish(dp, &v);
	dp->mac[DP_WAN] = (struct rte_ether_addr){{0x02, 0, 0, 0, 0, 1}};
	dp->mac[DP_OVERLAY] = (struct rte_ether_addr){{0x02, 0, 0, 0, 1, 1}};
	if ((r->w = worker_new(dp, 0, CB_BACKEND_IPSECMB)) == NULL)
		die("worker");
	dp->w[0] = r->w;
	rte_rcu_qsbr_thread_register(dp->qsbr, 0);
	rte_rcu_qsbr_thread_online(dp->qsbr, 0);
	r->gen = rte_ring_create("gen", RING, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (r->gen == NULL)
		die("ring");
	r->ring_port = (uint16_t)rte_eth_from_rings("genport", &r->gen, 1, &r->gen, 1, 0);
	{
		struct rte_eth_conf conf = {0};

		if (rte_eth_dev_configure(r->ring_port, 1, 1, &conf) != 0 ||
		    rte_eth_rx_queue_setup(r->ring_port, 0, RING, 0, NULL, dp->pool) != 0 ||
		    rte_eth_tx_queue_setup(r->ring_port, 0, RING, 0, NULL) != 0 ||
		    rte_eth_dev_start(r->ring_port) != 0)
			die("ring port");
	}
	r->null_port = null_port("net_null0", dp->pool);
	if ((r->gen_cb = cb_ctx_new(CB_BACKEND_IPSECMB)) == NULL ||
	    cb_keys_init(r->gen_cb, &r->kin, &r->gen_keys) != 0)
		die("generator crypto");
	r->next_id = 1;
	wipe(&kout, sizeof(kout));
}

/* Encap input: overlay frames (Ethernet to the overlay port's MAC, inner IPv4 to the peer). */
static void
set_sizes(struct rig *r, size_t fixed)
{
	for (unsigned k = 0; k < NPAT; k++) {
		r->size[k] = fixed ? fixed : imix[k];
		memcpy(r->frame[k], r->dp.mac[DP_OVERLAY].addr_bytes, 6);
		memcpy(r->frame[k] + 6, "\x02\x00\x00\x00\x01\x02", 6);
		store_be16(r->frame[k] + 12, RTE_ETHER_TYPE_IPV4);
		inner_packet(r->frame[k] + 14, r->size[k], OVL_ADDR, PEER_OVL);
	}
}

/* Encap and decap switch which port is the worker's rx and which its tx. */
static void
set_roles(struct rig *r, int decap)
{
	struct dp *dp = &r->dp;

	dp->has_port[DP_WAN] = dp->has_port[DP_OVERLAY] = true;
	dp->port[decap ? DP_WAN : DP_OVERLAY] = r->ring_port;
	dp->port[decap ? DP_OVERLAY : DP_WAN] = r->null_port;
}

/* One sealed tunnel frame from the peer in m, as a NIC would deliver it. */
static struct cb_pkt
decap_frame(struct rig *r, struct rte_mbuf *m, size_t ilen)
{
	uint8_t *f = rte_pktmbuf_mtod(m, uint8_t *), *ip = f + 14, *udp = ip + 20;
	size_t sealed = pkt_sealed_len(ilen);

	memcpy(f, r->dp.mac[DP_WAN].addr_bytes, 6);
	memcpy(f + 6, "\x02\x00\x00\x00\x00\x02", 6);
	store_be16(f + 12, RTE_ETHER_TYPE_IPV4);
	memset(ip, 0, 28);
	ip[0] = 0x45;
	store_be16(ip + 2, (uint16_t)(28 + sealed));
	ip[8] = 64;
	ip[9] = 17;
	store_be32(ip + 12, PEER_EP);
	store_be32(ip + 16, WAN_ADDR);
	store_be16(ip + 10, inet_cksum(ip, 20));
	store_be16(udp, PORT);
	store_be16(udp + 2, PORT);
	store_be16(udp + 4, (uint16_t)(8 + sealed));
	store_be32(udp + 8, SPI_IN);
	store_be32(udp + 12, r->next_id++);
	inner_packet(udp + 16, ilen, PEER_OVL, OVL_ADDR);
	m->data_len = m->pkt_len = (uint16_t)(42 + sealed);
	return (struct cb_pkt){udp + 8, (uint32_t)(8 + ilen), (uint32_t)sealed, &r->gen_keys, 0, m,
			       0};
}

/* Tops the worker's input ring up to DEPTH packets (not timed). */
static void
refill(struct rig *r, int decap)
{
	struct rte_mbuf *m[DP_BURST];
	struct cb_pkt p[DP_BURST];

	while (rte_ring_count(r->gen) < DEPTH) {
		if (rte_pktmbuf_alloc_bulk(r->dp.pool, m, DP_BURST) != 0)
			die("mbufs ran out");
		for (unsigned i = 0; i < DP_BURST; i++, r->pat = (r->pat + 1) % NPAT) {
			if (decap) {
				p[i] = decap_frame(r, m[i], r->size[r->pat]);
				continue;
			}
			memcpy(rte_pktmbuf_mtod(m[i], uint8_t *), r->frame[r->pat],
			       14 + r->size[r->pat]);
			m[i]->data_len = m[i]->pkt_len = (uint16_t)(14 + r->size[r->pat]);
		}
		if (decap && cb_seal_burst(r->gen_cb, p, DP_BURST) != DP_BURST)
			die("generator seal");
		rte_ring_sp_enqueue_bulk(r->gen, (void **)m, DP_BURST, NULL);
	}
}

/* Packets per second of worker time, one run; *with_gen: per second of worker and generator
 * time together (for encap the generator does what a NIC's or pcap's rx does: an mbuf and a
 * copy per packet). */
static double
run_once(struct rig *r, int decap, double *with_gen)
{
	enum dp_counter c = decap ? DP_C_decap : DP_C_encap;
	uint64_t busy = 0, limit = (uint64_t)(tsc_hz * RUN_S), before = r->w->c[c];
	uint64_t start = __rdtsc();
	double n;

	while (busy < limit) {
		uint64_t t0;

		refill(r, decap);
		t0 = __rdtsc();
		worker_poll(r->w);
		busy += __rdtsc() - t0;
	}
	n = (double)(r->w->c[c] - before);
	*with_gen = n * tsc_hz / (double)(__rdtsc() - start);
	return n * tsc_hz / (double)busy;
}

static int
cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double
median(double *v)
{
	qsort(v, REPS, sizeof(v[0]), cmpd);
	return v[REPS / 2];
}

static double
ours(struct rig *r, int decap, double *with_gen)
{
	double v[REPS], g[REPS];

	set_roles(r, decap);
	for (int i = 0; i < REPS; i++)
		v[i] = run_once(r, decap, &g[i]);
	*with_gen = median(g);
	return median(v);
}

static double
ceiling_pps(struct ceiling *ce, int open)
{
	double v[REPS];

	if (getenv("BURI_BENCH_NOCEIL") != NULL)
		return 0;
	for (int i = 0; i < REPS; i++) {
		uint64_t t0 = __rdtsc(), n = 0, limit = (uint64_t)(tsc_hz * RUN_S);

		while (__rdtsc() - t0 < limit) {
			for (unsigned b = 0; b < NCEIL; b += DP_BURST)
				(open ? ceiling_open : ceiling_seal)(ce, b, DP_BURST);
			n += NCEIL;
		}
		ceiling_flush(ce);
		v[i] = (double)n * tsc_hz / (double)(__rdtsc() - t0);
	}
	return median(v);
}

static void
report(const char *label, const char *dir, double pps, double gen, double avg, double ceil)
{
	printf("%-5s %-6s %8.3f %8.2f %8.0f %10.3f %6.2f", label, dir, pps / 1e6,
	       pps * avg * 8 / 1e9, tsc_hz / pps, ceil / 1e6, pps / ceil);
	if (gen > 0)
		printf(" %9.3f", gen / 1e6);
	printf("\n");
	fflush(stdout);
}

static void
bench_size(struct rig *r, struct ceiling *ce, size_t fixed, const char *dir)
{
	size_t csz[NCEIL];
	double avg = 0, gen;
	char label[16];

	set_sizes(r, fixed);
	for (unsigned k = 0; k < NPAT; k++)
		avg += (double)r->size[k] / NPAT;
	for (unsigned j = 0; j < NCEIL; j++)
		csz[j] = r->size[j % NPAT];
	if (ceiling_prepare(ce, csz) != 0)
		die("ceiling");
	snprintf(label, sizeof(label), fixed ? "%zu" : "IMIX", fixed);
	if (dir == NULL || strcmp(dir, "encap") == 0) {
		double pps = ours(r, 0, &gen);

		report(label, "encap", pps, gen, avg, ceiling_pps(ce, 0));
	}
	if (dir == NULL || strcmp(dir, "decap") == 0) {
		double pps = ours(r, 1, &gen);

		/* decap's generator seals every packet: no rx stands in for that */
		report(label, "decap", pps, 0, avg, ceiling_pps(ce, 1));
	}
}

int
main(int argc, char **argv)
{
	static char *def[] = {"buri-bench-dp",	     "--no-huge",     "-m", "512",
			      "--no-shconf",	     "--no-pci",      "-l", "0",
			      "--log-level=*:error", "--no-telemetry"};
	static struct rig r;
	static const size_t sizes[] = {64, 512, 1420, 0};
	struct ceiling *ce;

	if (argc > 1 ? rte_eal_init(argc, argv) < 0 : rte_eal_init((int)ARRAY_SIZE(def), def) < 0)
		die("EAL init");
	measure_tsc();
	rig_init(&r);
	if ((ce = ceiling_new(&r.kin, NCEIL, 1420)) == NULL)
		die("ceiling");
	printf("# worker: %s; TSC %.3f GHz; rx net_ring, tx net_null; bursts of %d; median of %d "
	       "x %.1f s of worker time\n",
	       cb_ctx_describe(r.w->cb), tsc_hz / 1e9, DP_BURST, REPS, RUN_S);
	printf("# ceiling: intel-ipsec-mb jobs alone, in flight across bursts, same sizes\n");
	printf("# w/gen: Mpps counting the generator's time too (an mbuf and a copy per packet, as "
	       "a "
	       "NIC or pcap rx costs)\n");
	printf("%-5s %-6s %8s %8s %8s %10s %6s %9s\n", "size", "dir", "Mpps", "Gbit/s", "cyc/pkt",
	       "ceil Mpps", "/ceil", "w/gen");
	for (size_t s = 0; s < ARRAY_SIZE(sizes); s++) {
		const char *only = getenv("BURI_BENCH_SIZE");

		if (only == NULL ||
		    (sizes[s] == 0 ? strcmp(only, "imix") == 0 : (size_t)atoi(only) == sizes[s]))
			bench_size(&r, ce, sizes[s], getenv("BURI_BENCH_DIR"));
	}
	ceiling_free(ce);
	return 0;
}
