/* SPDX-License-Identifier: MIT */
/* The batched data-plane path against the reference common/pkt.c, for both backends: seal
 * byte for byte, open, every single-bit flip rejected before decryption, truncations, bad
 * padding under a good MAC; and the IV generator. */
#include "common/err.h"
#include "common/pkt.h"
#include "dataplane/crypto_batch.h"
#include "dataplane/ivgen.h"
#include "rng.h"
#include "test.h"

TEST_DEFINE_STATE;

enum { MAXP = 1500, BUF = MAXP + WIRE_SEAL_OVERHEAD_MAX + 16, NIV = 1000000 };

/* One burst's worth of packets with the inputs kept for the reference. */
struct tcase {
	struct dirkey k;
	struct cb_sa_keys keys;
	uint32_t spi, id;
	uint8_t iv[16];
	size_t n;
	uint8_t payload[MAXP];
	uint8_t buf[BUF], ref[BUF];
	size_t reflen;
};

static struct tcase tc[CB_BURST_MAX];
static struct cb_pkt pkts[CB_BURST_MAX];

static void
iv_hook(void *arg, unsigned i, uint8_t iv[WIRE_IV_LEN])
{
	struct tcase *t = arg;

	memcpy(iv, t[i].iv, WIRE_IV_LEN);
}

/* Random case t of size n, its reference sealing, and pkts[i] set up for a seal. */
static int
make_case(struct crypto *c, struct cb_ctx *ctx, unsigned i, size_t n)
{
	struct tcase *t = &tc[i];

	rng_fill(&t->k, sizeof(t->k));
	rng_fill(t->iv, sizeof(t->iv));
	rng_fill(t->payload, n);
	t->spi = (uint32_t)rng() | 1;
	t->id = (uint32_t)rng() | 1;
	t->n = n;
	if (cb_keys_init(ctx, &t->k, &t->keys) != 0 ||
	    pkt_seal_udp(c, &t->k, t->spi, t->id, t->iv, t->payload, n, t->ref, sizeof(t->ref),
			 &t->reflen) != 0)
		return -1;
	store_be32(t->buf, t->spi);
	store_be32(t->buf + 4, t->id);
	memcpy(t->buf + 8, t->payload, n);
	pkts[i] = (struct cb_pkt){t->buf, (uint32_t)(8 + n), BUF, &t->keys, 99, NULL, 0};
	return 0;
}

/* pkts[i] set up to open the reference sealing of case i. */
static void
load_sealed(unsigned i)
{
	memcpy(tc[i].buf, tc[i].ref, tc[i].reflen);
	pkts[i] = (struct cb_pkt){tc[i].buf, (uint32_t)tc[i].reflen, BUF, &tc[i].keys, 99, NULL, 0};
}

static size_t
rand_size(void)
{
	return (size_t)(rng() % (MAXP + 1));
}

/* Seals m packets of the given sizes (size SIZE_MAX: random) and counts mismatches. */
static int
seal_compare(struct crypto *c, struct cb_ctx *ctx, unsigned m, size_t size)
{
	int bad = 0;

	for (unsigned i = 0; i < m; i++)
		if (make_case(c, ctx, i, size == SIZE_MAX ? rand_size() : size) != 0)
			return -1;
	if (cb_seal_burst(ctx, pkts, m) != m)
		return -1;
	for (unsigned i = 0; i < m; i++)
		bad += pkts[i].status != 0 || pkts[i].len != tc[i].reflen ||
		       memcmp(tc[i].buf, tc[i].ref, tc[i].reflen) != 0;
	return bad;
}

/* Opens the reference sealings of m cases and counts wrong results. */
static int
open_compare(struct cb_ctx *ctx, unsigned m)
{
	int bad = 0;

	for (unsigned i = 0; i < m; i++)
		load_sealed(i);
	if (cb_open_burst(ctx, pkts, m) != m)
		bad++;
	for (unsigned i = 0; i < m; i++)
		bad += pkts[i].status != 0 || pkts[i].len != 8 + tc[i].n ||
		       memcmp(tc[i].buf + 8, tc[i].payload, tc[i].n) != 0;
	return bad;
}

static void
test_seal_open(struct crypto *c, struct cb_ctx *ctx, const char *name)
{
	int bad_seal = 0, bad_open = 0, bad_burst = 0;
	char title[128];

	snprintf(title, sizeof(title), "%s: seal == pkt_seal_udp and open restores, 0..%d", name,
		 MAXP);
	TEST_START(title);
	cb_test_set_iv_hook(ctx, iv_hook, tc);
	for (size_t n = 0; n <= MAXP; n++) {
		bad_seal += seal_compare(c, ctx, 1, n) != 0;
		bad_open += open_compare(ctx, 1) != 0;
	}
	ASSERT_INT_EQ(bad_seal, 0);
	ASSERT_INT_EQ(bad_open, 0);
	TEST_DONE();

	snprintf(title, sizeof(title), "%s: bursts of 1..64 mixed sizes and keys", name);
	TEST_START(title);
	for (int rep = 0; rep < 4; rep++)
		for (unsigned m = 1; m <= CB_BURST_MAX; m++)
			bad_burst +=
				seal_compare(c, ctx, m, SIZE_MAX) != 0 || open_compare(ctx, m) != 0;
	ASSERT_INT_EQ(bad_burst, 0);
	TEST_DONE();
	cb_test_set_iv_hook(ctx, NULL, NULL);
}

/* Every bit of a sealed packet flipped, 64 flips per burst: all E_MAC, buffer untouched (so
 * nothing was decrypted in place). */
static void
test_bit_flips(struct crypto *c, struct cb_ctx *ctx, const char *name)
{
	static const size_t sizes[] = {0, 1, 15, 16, 17, 100, 1400};
	int flips = 0, wrong = 0, touched = 0;
	char title[128];

	snprintf(title, sizeof(title), "%s: every single-bit flip rejected with E_MAC", name);
	TEST_START(title);
	for (size_t s = 0; s < ARRAY_SIZE(sizes); s++) {
		if (make_case(c, ctx, 0, sizes[s]) != 0)
			wrong = -1;
		for (size_t bit = 0; bit < tc[0].reflen * 8; bit += CB_BURST_MAX) {
			unsigned m = 0;

			for (; m < CB_BURST_MAX && bit + m < tc[0].reflen * 8; m++) {
				size_t b = bit + m;

				tc[m].keys = tc[0].keys;
				tc[m].reflen = tc[0].reflen;
				memcpy(tc[m].ref, tc[0].ref, tc[0].reflen);
				tc[m].ref[b / 8] ^= (uint8_t)(1u << (b % 8));
				load_sealed(m);
			}
			cb_open_burst(ctx, pkts, m);
			for (unsigned i = 0; i < m; i++) {
				wrong += pkts[i].status != E_MAC;
				touched += memcmp(tc[i].buf, tc[i].ref, tc[i].reflen) != 0;
				flips++;
			}
		}
	}
	printf("# %d flips tried\n", flips);
	ASSERT_INT_EQ(wrong, 0);
	ASSERT_INT_EQ(touched, 0);
	TEST_DONE();
}

/* Every truncation gets the same verdict as pkt_open_udp(), never success. */
static void
test_truncations(struct crypto *c, struct cb_ctx *ctx, const char *name)
{
	static uint8_t out[BUF];
	int wrong = 0, tried = 0;
	char title[128];

	snprintf(title, sizeof(title), "%s: truncations rejected as the reference does", name);
	TEST_START(title);
	if (make_case(c, ctx, 0, 100) != 0)
		wrong = -1;
	for (size_t len = 0; len < tc[0].reflen; len++) {
		struct pkt_hdr h;
		size_t got;
		int want = pkt_open_udp(c, &tc[0].k, tc[0].ref, len, &h, out, sizeof(out), &got);

		load_sealed(0);
		pkts[0].len = (uint32_t)len;
		cb_open_burst(ctx, pkts, 1);
		wrong += pkts[0].status != want || want == 0;
		tried++;
	}
	printf("# %d truncations\n", tried);
	ASSERT_INT_EQ(wrong, 0);
	TEST_DONE();
}

/* A packet with a good MAC over a block whose padding is malformed; len 52. The plaintext
 * must be wiped after E_PADDING. */
static void
forge(struct crypto *c, struct tcase *t, const uint8_t block[16])
{
	struct span all = {t->ref, 40};
	uint8_t tag[20];

	store_be32(t->ref, 0xabcdef01);
	store_be32(t->ref + 4, 9);
	if (crypto_cbc_encrypt(c, t->k.ke, t->iv, block, 16, t->ref + 8) != 0 ||
	    crypto_hmac_sha1(c, t->k.ka, sizeof(t->k.ka), &all, 1, tag) != 0)
		memset(t->ref, 0, 52);
	memcpy(t->ref + 24, t->iv, 16);
	/* The MAC covers the IV, so it is computed again now that the IV is in place. */
	if (crypto_hmac_sha1(c, t->k.ka, sizeof(t->k.ka), &all, 1, tag) == 0)
		memcpy(t->ref + 40, tag, 12);
	t->reflen = 52;
}

static void
test_bad_padding(struct crypto *c, struct cb_ctx *ctx, const char *name)
{
	static const uint8_t last[] = {0, 17, 0xff, 2, 16}, zero[16];
	int wrong = 0, leaked = 0;
	char title[128];

	snprintf(title, sizeof(title), "%s: bad padding under a valid MAC is E_PADDING", name);
	TEST_START(title);
	for (unsigned i = 0; i < ARRAY_SIZE(last); i++) {
		uint8_t block[16];

		if (make_case(c, ctx, i, 0) != 0)
			wrong = -1;
		/* 2: ...x 02 with x != 2; 16: fifteen 0x10 and a 0x11 in front. */
		memset(block, 0x10, sizeof(block));
		block[0] = 0x11;
		block[15] = last[i];
		forge(c, &tc[i], block);
		load_sealed(i);
	}
	cb_open_burst(ctx, pkts, ARRAY_SIZE(last));
	for (unsigned i = 0; i < ARRAY_SIZE(last); i++) {
		wrong += pkts[i].status != E_PADDING;
		leaked += memcmp(tc[i].buf + 8, zero, sizeof(zero)) != 0;
	}
	ASSERT_INT_EQ(wrong, 0);
	ASSERT_INT_EQ(leaked, 0);
	TEST_DONE();
}

/* One round of the async seal: 64 cases (one with message ID 0) enqueued in random chunks,
 * dequeued as they finish; returns mismatches (order, user and tag, bytes, status). */
static int
async_round(struct crypto *c, struct cb_ctx *ctx, unsigned *held_max)
{
	struct cb_pkt out[CB_BURST_MAX];
	unsigned bad_i = (unsigned)(rng() % CB_BURST_MAX), sent = 0, got = 0;
	int bad = 0;

	for (unsigned i = 0; i < CB_BURST_MAX; i++) {
		if (make_case(c, ctx, i, rand_size()) != 0)
			return -1;
		pkts[i].user = &tc[i];
		pkts[i].tag = 0x7a900000u + i;
	}
	store_be32(tc[bad_i].buf + 4, 0);
	while (got < CB_BURST_MAX) {
		unsigned want = 1 + (unsigned)(rng() % 17), n;
		unsigned chunk = MIN(want, CB_BURST_MAX - sent); /* MIN evaluates twice */

		sent += cb_seal_enqueue(ctx, pkts + sent, chunk);
		*held_max = MAX(*held_max, cb_seal_held(ctx));
		n = cb_seal_dequeue(ctx, out, CB_BURST_MAX, sent == CB_BURST_MAX);
		for (unsigned j = 0; j < n; j++, got++) {
			const struct tcase *t = &tc[got];

			bad += out[j].user != t || out[j].tag != 0x7a900000u + got;
			if (got == bad_i)
				bad += out[j].status != E_MSGID;
			else
				bad += out[j].status != 0 || out[j].len != t->reflen ||
				       memcmp(t->buf, t->ref, t->reflen) != 0;
		}
	}
	return bad + (int)cb_seal_held(ctx);
}

static void
test_async(struct crypto *c, struct cb_ctx *ctx, const char *name)
{
	unsigned held_max = 0;
	int bad = 0;
	char title[128];

	snprintf(title, sizeof(title), "%s: async seal, in order, == pkt_seal_udp", name);
	TEST_START(title);
	cb_test_set_iv_hook(ctx, iv_hook, tc);
	ASSERT_INT_EQ(cb_seal_held(ctx) % CB_BURST_MAX, 0); /* the hook's index is head % 64 */
	for (int rep = 0; rep < 50; rep++)
		bad += async_round(c, ctx, &held_max) != 0;
	ASSERT_INT_EQ(bad, 0);
	printf("# most packets held at once: %u\n", held_max);
	/* jobs really stay in the manager across calls (OpenSSL finishes each at once) */
	if (cb_ctx_backend(ctx) == CB_BACKEND_IPSECMB)
		ASSERT_TRUE(held_max > 1);
	cb_test_set_iv_hook(ctx, NULL, NULL);
	TEST_DONE();
}

/* Header rules of both directions, in a burst mixed with good packets. */
static void
test_structure(struct crypto *c, struct cb_ctx *ctx, const char *name)
{
	char title[128];

	snprintf(title, sizeof(title), "%s: SPI 0, message ID 0, no room", name);
	TEST_START(title);
	for (unsigned i = 0; i < 4; i++)
		if (make_case(c, ctx, i, 40) != 0)
			ASSERT_TRUE(0);
	store_be32(tc[1].buf, 0);
	store_be32(tc[2].buf + 4, 0);
	pkts[3].cap = (uint32_t)pkt_sealed_len(40) - 1;
	ASSERT_INT_EQ(cb_seal_burst(ctx, pkts, 4), 1);
	ASSERT_INT_EQ(pkts[0].status, 0);
	ASSERT_INT_EQ(pkts[1].status, E_INVAL);
	ASSERT_INT_EQ(pkts[2].status, E_MSGID);
	ASSERT_INT_EQ(pkts[3].status, E_NOSPACE);
	for (unsigned i = 0; i < 3; i++)
		load_sealed(i);
	store_be32(tc[1].buf, 0);
	store_be32(tc[2].buf + 4, 0);
	ASSERT_INT_EQ(cb_open_burst(ctx, pkts, 3), 1);
	ASSERT_INT_EQ(pkts[1].status, E_CHANNEL);
	ASSERT_INT_EQ(pkts[2].status, E_MSGID);
	TEST_DONE();
}

static int
cmp16(const void *a, const void *b)
{
	return memcmp(a, b, 16);
}

static void
test_ivgen(void)
{
	static uint8_t ivs[NIV][16], other[1000][16];
	struct ivgen g1, g2;
	int dup = 0, same = 0;

	TEST_START("ivgen: no repeat in 1e6 IVs, two generators differ");
	ASSERT_INT_EQ(ivgen_init(&g1), 0);
	ASSERT_INT_EQ(ivgen_init(&g2), 0);
	for (size_t i = 0; i < NIV; i++)
		dup += ivgen_next(&g1, ivs[i]) != 0;
	for (size_t i = 0; i < ARRAY_SIZE(other); i++)
		dup += ivgen_next(&g2, other[i]) != 0;
	for (size_t i = 0; i < ARRAY_SIZE(other); i++)
		same += memcmp(other[i], ivs[i], 16) == 0;
	qsort(ivs, NIV, 16, cmp16);
	for (size_t i = 1; i < NIV; i++)
		dup += memcmp(ivs[i - 1], ivs[i], 16) == 0;
	ASSERT_INT_EQ(dup, 0);
	ASSERT_INT_EQ(same, 0);
	ivgen_free(&g1);
	ivgen_free(&g2);
	TEST_DONE();
}

static void
run_backend(struct crypto *c, enum cb_backend b)
{
	struct cb_ctx *ctx = cb_ctx_new(b);
	const char *name = b == CB_BACKEND_IPSECMB ? "ipsec-mb" : "openssl";

	TEST_START(name);
	ASSERT_TRUE(ctx != NULL);
	if (ctx != NULL) {
		printf("# backend: %s\n", cb_ctx_describe(ctx));
		ASSERT_INT_EQ(cb_ctx_backend(ctx), b);
	}
	TEST_DONE();
	if (ctx == NULL)
		return;
	test_seal_open(c, ctx, name);
	test_bit_flips(c, ctx, name);
	test_truncations(c, ctx, name);
	test_bad_padding(c, ctx, name);
	test_structure(c, ctx, name);
	test_async(c, ctx, name);
	for (unsigned i = 0; i < CB_BURST_MAX; i++)
		cb_keys_wipe(&tc[i].keys);
	cb_ctx_free(ctx);
}

int
main(void)
{
	struct crypto *c = crypto_new();

	rng_state = 0x243f6a8885a308d3ull; /* the seed this test always used */
	if (c == NULL)
		return 1;
	run_backend(c, CB_BACKEND_IPSECMB);
	run_backend(c, CB_BACKEND_OPENSSL);
	test_ivgen();
	crypto_free(c);
	return test_finish();
}
