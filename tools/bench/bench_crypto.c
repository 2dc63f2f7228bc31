/* SPDX-License-Identifier: MIT */
/*
 * buri-bench-crypto: one-core seal/open throughput of the batched data-plane crypto, bursts of
 * 32, against the raw intel-ipsec-mb ceiling (cipher+hash jobs on precomputed keys, no padding,
 * IV or header work, jobs kept in flight across bursts) and the OpenSSL backend, in one run.
 * Median of 5 repetitions per point. Sizes are payload bytes; Gbit/s counts payload only.
 * IMIX is the simple 7:4:1 mix of 64, 594 and 1518 bytes (mean 361.8 B).
 *
 * Open needs a sealed packet each time and opens in place, so ours and OpenSSL restore the
 * sealed bytes with a memcpy per packet inside the timed loop (its cost is printed alone); the
 * ceiling decrypts out of place and needs no restore.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <x86intrin.h>

#include "common/crypto.h"
#include "common/pkt.h"
#include "dataplane/crypto_batch.h"
#include "tools/bench/ceiling.h"

enum {
	BURST = 32,
	NBURSTS = 3, /* 96 packets: a whole number of IMIX cycles of 12 */
	NPKT = BURST * NBURSTS,
	REPS = 5,
	MAXP = 1518,
	BUFSZ = 1600,
};

static const size_t imix[12] = {64, 594, 64, 64, 594, 64, 1518, 64, 594, 64, 594, 64};

struct bench {
	struct cb_ctx *ctx;
	struct cb_sa_keys keys;
	struct ceiling *ceil; /* the ceiling's rows only */
	size_t size[NPKT];
	uint8_t *buf[NPKT], *sealed[NPKT];
	uint32_t sealed_len[NPKT];
	struct cb_pkt pkts[BURST];
};

typedef void bench_fn(struct bench *b, unsigned burst);

static double tsc_hz;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void
measure_tsc(void)
{
	double t0 = now(), t1;
	uint64_t c0 = __rdtsc(), c1;

	do
		t1 = now();
	while (t1 - t0 < 0.2);
	c1 = __rdtsc();
	tsc_hz = (double)(c1 - c0) / (t1 - t0);
}

static void
set_pkts(struct bench *b, unsigned burst, int sealed)
{
	for (unsigned i = 0; i < BURST; i++) {
		unsigned j = burst * BURST + i;

		if (sealed)
			memcpy(b->buf[j], b->sealed[j], b->sealed_len[j]);
		b->pkts[i] = (struct cb_pkt){
			b->buf[j], sealed ? b->sealed_len[j] : (uint32_t)(8 + b->size[j]),
			BUFSZ,	   &b->keys,
			0,	   NULL,
			0};
	}
}

static void
ours_seal(struct bench *b, unsigned burst)
{
	set_pkts(b, burst, 0);
	if (cb_seal_burst(b->ctx, b->pkts, BURST) != BURST)
		abort();
}

static void
ours_open(struct bench *b, unsigned burst)
{
	set_pkts(b, burst, 1);
	if (cb_open_burst(b->ctx, b->pkts, BURST) != BURST)
		abort();
}

static void
restore_only(struct bench *b, unsigned burst)
{
	set_pkts(b, burst, 1);
}

static void
raw_seal(struct bench *b, unsigned burst)
{
	ceiling_seal(b->ceil, burst * BURST, BURST);
}

static void
raw_open(struct bench *b, unsigned burst)
{
	ceiling_open(b->ceil, burst * BURST, BURST);
}

static void
raw_flush(struct bench *b)
{
	ceiling_flush(b->ceil);
}

/* The ceiling as a synchronous burst API would see it: flushed after every burst. */
static void
raw_seal_flushed(struct bench *b, unsigned burst)
{
	raw_seal(b, burst);
	raw_flush(b);
}

static void
raw_open_flushed(struct bench *b, unsigned burst)
{
	raw_open(b, burst);
	raw_flush(b);
}

static size_t
payload_bytes(const struct bench *b)
{
	size_t n = 0;

	for (unsigned j = 0; j < NPKT; j++)
		n += b->size[j];
	return n;
}

/* Packets per second of one repetition of about 0.2 s. */
static double
run_once(struct bench *b, bench_fn *fn)
{
	uint64_t t0, limit = (uint64_t)(tsc_hz * 0.2), pkts = 0;

	t0 = __rdtsc();
	do {
		for (unsigned k = 0; k < NBURSTS; k++)
			fn(b, k);
		pkts += NPKT;
	} while (__rdtsc() - t0 < limit);
	if (b->ceil != NULL)
		raw_flush(b);
	return (double)pkts * tsc_hz / (double)(__rdtsc() - t0);
}

static int
cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double
median_pps(struct bench *b, bench_fn *fn)
{
	double v[REPS];

	for (int r = 0; r < REPS; r++)
		v[r] = run_once(b, fn);
	qsort(v, REPS, sizeof(v[0]), cmpd);
	return v[REPS / 2];
}

static void
report(const char *size, const char *what, double pps, double bytes_per_pkt, double ceiling)
{
	printf("%-6s %-23s %8.3f %8.2f %9.0f", size, what, pps / 1e6, pps * bytes_per_pkt * 8 / 1e9,
	       tsc_hz / pps);
	if (ceiling > 0)
		printf("   %5.2f", pps / ceiling);
	printf("\n");
}

/* Buffers with header and payload, and their sealed forms under b->keys. */
static void
prepare(struct bench *b, struct crypto *c, const struct dirkey *k)
{
	for (unsigned j = 0; j < NPKT; j++) {
		uint8_t iv[16];
		size_t len;

		memset(b->buf[j], 0xa5, BUFSZ);
		store_be32(b->buf[j], 0x1001);
		store_be32(b->buf[j] + 4, j + 1);
		if (crypto_random(iv, sizeof(iv)) != 0 ||
		    pkt_seal_udp(c, k, 0x1001, j + 1, iv, b->buf[j] + 8, b->size[j], b->sealed[j],
				 BUFSZ, &len) != 0)
			abort();
		b->sealed_len[j] = (uint32_t)len;
	}
}

static void
bench_size(struct bench *ours, struct bench *ssl, struct bench *raw, const char *label)
{
	double avg = (double)payload_bytes(ours) / NPKT;
	double cs, co, p;

	cs = median_pps(raw, raw_seal);
	co = median_pps(raw, raw_open);
	report(label, "seal ceiling ipsec-mb", cs, avg, 0);
	report(label, "seal ceiling, flush/bur", median_pps(raw, raw_seal_flushed), avg, cs);
	report(label, "seal ours ipsec-mb", median_pps(ours, ours_seal), avg, cs);
	report(label, "seal ours openssl", median_pps(ssl, ours_seal), avg, cs);
	report(label, "open ceiling ipsec-mb", co, avg, 0);
	report(label, "open ceiling, flush/bur", median_pps(raw, raw_open_flushed), avg, co);
	report(label, "open ours ipsec-mb", median_pps(ours, ours_open), avg, co);
	report(label, "open ours openssl", median_pps(ssl, ours_open), avg, co);
	p = median_pps(ours, restore_only);
	printf("%-6s %-23s %8.3f  (memcpy restore alone, inside both 'open ours' rows: %.0f "
	       "cyc/pkt)\n",
	       label, "restore only", p / 1e6, tsc_hz / p);
}

static void
set_sizes(struct bench *b, size_t fixed)
{
	for (unsigned j = 0; j < NPKT; j++)
		b->size[j] = fixed != 0 ? fixed : imix[j % 12];
}

static void
bench_init(struct bench *b, struct cb_ctx *ctx, const struct dirkey *k)
{
	memset(b, 0, sizeof(*b));
	b->ctx = ctx;
	for (unsigned j = 0; j < NPKT; j++) {
		b->buf[j] = aligned_alloc(64, BUFSZ);
		b->sealed[j] = aligned_alloc(64, BUFSZ);
		if (b->buf[j] == NULL || b->sealed[j] == NULL)
			abort();
	}
	if (cb_keys_init(ctx, k, &b->keys) != 0)
		abort();
}

int
main(void)
{
	static struct bench ours, ssl, raw;
	static const size_t sizes[] = {64, 512, 1420, 0};
	struct cb_ctx *cimb = cb_ctx_new(CB_BACKEND_IPSECMB),
		      *cssl = cb_ctx_new(CB_BACKEND_OPENSSL);
	struct crypto *c = crypto_new();
	struct dirkey k;

	if (cimb == NULL || cssl == NULL || c == NULL || crypto_random(&k, sizeof(k)) != 0) {
		fprintf(stderr, "buri-bench-crypto: cannot set up the backends\n");
		return 1;
	}
	measure_tsc();
	bench_init(&ours, cimb, &k);
	bench_init(&ssl, cssl, &k);
	bench_init(&raw, cimb, &k);
	if ((raw.ceil = ceiling_new(&k, NPKT, MAXP)) == NULL)
		return 1;
	printf("# backend: %s; TSC %.3f GHz (measured against CLOCK_MONOTONIC); bursts of %d; "
	       "median of %d x 0.2 s\n",
	       cb_ctx_describe(cimb), tsc_hz / 1e9, BURST, REPS);
	printf("%-6s %-23s %8s %8s %9s   %5s\n", "size", "what", "Mpps", "Gbit/s", "cyc/pkt",
	       "/ceil");
	for (size_t s = 0; s < ARRAY_SIZE(sizes); s++) {
		char label[16];

		snprintf(label, sizeof(label), sizes[s] ? "%zu" : "IMIX", sizes[s]);
		set_sizes(&ours, sizes[s]);
		set_sizes(&ssl, sizes[s]);
		set_sizes(&raw, sizes[s]);
		prepare(&ours, c, &k);
		prepare(&ssl, c, &k);
		if (ceiling_prepare(raw.ceil, raw.size) != 0)
			abort();
		bench_size(&ours, &ssl, &raw, label);
	}
	ceiling_free(raw.ceil);
	cb_ctx_free(cimb);
	cb_ctx_free(cssl);
	crypto_free(c);
	return 0;
}
