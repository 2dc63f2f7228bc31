/* SPDX-License-Identifier: MIT */
/* Seal/open of both framings: round trips, every single-bit flip, malformed structure, the
 * order of the checks (MAC before decryption), padding rules. */
#include "common/err.h"
#include "common/pkt.h"
#include "rng.h"
#include "test.h"

TEST_DEFINE_STATE;

enum { MAXP = 2000, BUF = MAXP + WIRE_SEAL_OVERHEAD_MAX };

static int
seal(struct crypto *c, int udp, const struct dirkey *k, uint32_t spi, uint32_t id,
     const uint8_t *iv, const uint8_t *p, size_t n, uint8_t *out, size_t cap, size_t *len)
{
	return udp ? pkt_seal_udp(c, k, spi, id, iv, p, n, out, cap, len)
		   : pkt_seal_tcp(c, k, id, iv, p, n, out, cap, len);
}

static int
open_(struct crypto *c, int udp, const struct dirkey *k, const uint8_t *pkt, size_t len,
      struct pkt_hdr *h, uint8_t *out, size_t cap, size_t *outlen)
{
	return udp ? pkt_open_udp(c, k, pkt, len, h, out, cap, outlen)
		   : pkt_open_tcp(c, k, pkt, len, h, out, cap, outlen);
}

static void
test_round_trips(struct crypto *c, int udp)
{
	static uint8_t payload[MAXP], sealed[BUF], opened[BUF];
	struct dirkey k;
	uint8_t iv[16];
	int bad_len = 0, bad_open = 0, bad_bytes = 0, bad_hdr = 0;

	TEST_START(udp ? "UDP: seal/open round trip for every payload size 0..2000"
		       : "TCP: seal/open round trip for every payload size 0..2000");
	for (size_t n = 0; n <= MAXP; n++) {
		uint32_t spi = (uint32_t)rng() | 1, id = (uint32_t)rng() | 1;
		struct pkt_hdr h;
		size_t len = 0, got = 0;

		rng_fill(&k, sizeof(k));
		rng_fill(iv, sizeof(iv));
		rng_fill(payload, n);
		if (seal(c, udp, &k, spi, id, iv, payload, n, sealed, sizeof(sealed), &len) != 0 ||
		    len != pkt_sealed_len(n) || (len - 36) % 16 != 0) {
			bad_len++;
			continue;
		}
		if (open_(c, udp, &k, sealed, len, &h, opened, sizeof(opened), &got) != 0) {
			bad_open++;
			continue;
		}
		bad_bytes += got != n || memcmp(opened, payload, n) != 0;
		bad_hdr += h.msgid != id || h.word0 != (udp ? spi : (uint32_t)(len - 4)) ||
			   memcmp(sealed + len - 28, iv, 16) != 0;
	}
	ASSERT_INT_EQ(bad_len, 0);
	ASSERT_INT_EQ(bad_open, 0);
	ASSERT_INT_EQ(bad_bytes, 0);
	ASSERT_INT_EQ(bad_hdr, 0);
	TEST_DONE();
}

static void
test_bit_flips(struct crypto *c, int udp)
{
	static const size_t sizes[] = {0, 1, 15, 16, 17, 31, 100, 1400};
	static uint8_t payload[MAXP], sealed[BUF], opened[BUF];
	struct dirkey k;
	uint8_t iv[16];
	int accepted = 0, flips = 0, leaked = 0;

	TEST_START(udp ? "UDP: every single-bit flip of a sealed packet is rejected"
		       : "TCP: every single-bit flip of a sealed frame is rejected");
	rng_fill(&k, sizeof(k));
	for (size_t s = 0; s < ARRAY_SIZE(sizes); s++) {
		size_t len, got;
		struct pkt_hdr h;

		rng_fill(iv, sizeof(iv));
		rng_fill(payload, sizes[s]);
		if (seal(c, udp, &k, 0x01020304, 7, iv, payload, sizes[s], sealed, sizeof(sealed),
			 &len) != 0) {
			accepted = -1;
			break;
		}
		for (size_t bit = 0; bit < len * 8; bit++) {
			sealed[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			got = 12345;
			if (open_(c, udp, &k, sealed, len, &h, opened, sizeof(opened), &got) == 0)
				accepted++;
			leaked += got != 0;
			sealed[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			flips++;
		}
	}
	printf("# %d flips tried\n", flips);
	ASSERT_INT_EQ(accepted, 0);
	ASSERT_INT_EQ(leaked, 0);
	TEST_DONE();
}

/* A UDP packet whose MAC is right but whose plaintext block ends in bad padding. */
static size_t
forge_bad_padding(struct crypto *c, const struct dirkey *k, const uint8_t block[16],
		  uint8_t out[52])
{
	uint8_t iv[16], tag[20];
	struct span all = {out, 40};

	memset(iv, 0x42, sizeof(iv));
	store_be32(out, 0xabcdef01);
	store_be32(out + 4, 9);
	if (crypto_cbc_encrypt(c, k->ke, iv, block, 16, out + 8) != 0)
		return 0;
	memcpy(out + 24, iv, 16);
	if (crypto_hmac_sha1(c, k->ka, sizeof(k->ka), &all, 1, tag) != 0)
		return 0;
	memcpy(out + 40, tag, 12);
	return 52;
}

static void
test_padding_and_order(struct crypto *c)
{
	static const uint8_t pads[][16] = {
		{[15] = 0x00},			/* pad byte 0 */
		{[15] = 0x11},			/* pad byte 17 > block */
		{[13] = 3, [14] = 2, [15] = 3}, /* inconsistent bytes */
		{[0] = 0x0f, [15] = 0x10},	/* 16 claimed, first byte differs */
	};
	static const uint8_t good[16] = {'h', 'e', 'l', 'l', 'o', 11, 11, 11,
					 11,  11,  11,	11,  11,  11, 11, 11};
	uint8_t pkt[52], out[64];
	struct dirkey k;
	struct pkt_hdr h;
	size_t got;

	rng_fill(&k, sizeof(k));
	TEST_START("malformed padding under a valid MAC is E_PADDING");
	for (size_t i = 0; i < ARRAY_SIZE(pads); i++) {
		ASSERT_INT_EQ(forge_bad_padding(c, &k, pads[i], pkt), 52);
		ASSERT_INT_EQ(pkt_open_udp(c, &k, pkt, 52, &h, out, sizeof(out), &got), E_PADDING);
	}
	TEST_DONE();

	TEST_START("the same packets with a broken MAC are E_MAC: the MAC is checked first");
	for (size_t i = 0; i < ARRAY_SIZE(pads); i++) {
		ASSERT_INT_EQ(forge_bad_padding(c, &k, pads[i], pkt), 52);
		pkt[51] ^= 1;
		ASSERT_INT_EQ(pkt_open_udp(c, &k, pkt, 52, &h, out, sizeof(out), &got), E_MAC);
	}
	TEST_DONE();

	TEST_START("a hand-built packet with correct padding opens (forgery helper is sound)");
	ASSERT_INT_EQ(forge_bad_padding(c, &k, good, pkt), 52);
	ASSERT_INT_EQ(pkt_open_udp(c, &k, pkt, 52, &h, out, sizeof(out), &got), 0);
	ASSERT_INT_EQ(got, 5);
	ASSERT_MEM_EQ(out, "hello", 5);
	TEST_DONE();
}

static void
test_seal_refusals(struct crypto *c, const struct dirkey *kp)
{
	const struct dirkey k = *kp;
	uint8_t pkt[128], out[128] = {0}, iv[16] = {0};
	size_t len;

	TEST_START("seal refuses SPI 0, message ID 0 and a short buffer");
	ASSERT_INT_EQ(pkt_seal_udp(c, &k, 0, 1, iv, out, 4, pkt, sizeof(pkt), &len), E_INVAL);
	ASSERT_INT_EQ(pkt_seal_udp(c, &k, 5, 0, iv, out, 4, pkt, sizeof(pkt), &len), E_MSGID);
	ASSERT_INT_EQ(pkt_seal_tcp(c, &k, 0, iv, out, 4, pkt, sizeof(pkt), &len), E_MSGID);
	ASSERT_INT_EQ(pkt_seal_udp(c, &k, 5, 1, iv, out, 16, pkt, 67, &len), E_NOSPACE);
	ASSERT_INT_EQ(len, 0);
	ASSERT_INT_EQ(pkt_seal_tcp(c, &k, 1, iv, out, WIRE_MSG_MAX + 1, pkt, sizeof(pkt), &len),
		      E_TOOBIG);
	TEST_DONE();
}

static void
test_dummy(struct crypto *c, const struct dirkey *kp)
{
	const struct dirkey k = *kp;
	uint8_t pkt[128], out[128] = {0}, iv[16] = {0};
	struct pkt_hdr h;
	size_t len, got;

	TEST_START("the dummy message: empty payload, 52 bytes, opens to nothing");
	ASSERT_INT_EQ(pkt_seal_udp(c, &k, 5, 1, iv, NULL, 0, pkt, sizeof(pkt), &len), 0);
	ASSERT_INT_EQ(len, WIRE_SEALED_MIN);
	got = 99;
	ASSERT_INT_EQ(pkt_open_udp(c, &k, pkt, len, &h, out, sizeof(out), &got), 0);
	ASSERT_INT_EQ(got, 0);
	TEST_DONE();
}

static void
test_open_refusals(struct crypto *c, const struct dirkey *kp, const struct dirkey *other)
{
	const struct dirkey k = *kp;
	uint8_t pkt[128], out[128] = {0}, iv[16] = {0};
	struct pkt_hdr h;
	size_t len, got;

	TEST_START("open: short, misaligned, SPI 0, ID 0, wrong key, small buffer");
	ASSERT_INT_EQ(pkt_seal_udp(c, &k, 5, 1, iv, out, 20, pkt, sizeof(pkt), &len), 0);
	for (size_t n = 0; n < WIRE_SEALED_MIN; n++) {
		int r = pkt_open_udp(c, &k, pkt, n, &h, out, sizeof(out), &got);

		if (r != E_SHORT)
			printf("# length %zu\n", n);
		ASSERT_INT_EQ(r, E_SHORT);
	}
	ASSERT_INT_EQ(pkt_open_udp(c, &k, pkt, len - 1, &h, out, sizeof(out), &got), E_ENCODING);
	ASSERT_INT_EQ(pkt_open_udp(c, other, pkt, len, &h, out, sizeof(out), &got), E_MAC);
	ASSERT_INT_EQ(pkt_open_udp(c, &k, pkt, len, &h, out, pkt_open_cap(len) - 1, &got),
		      E_NOSPACE);
	store_be32(pkt + 4, 0);
	ASSERT_INT_EQ(pkt_open_udp(c, &k, pkt, len, &h, out, sizeof(out), &got), E_MSGID);
	store_be32(pkt, 0);
	ASSERT_INT_EQ(pkt_open_udp(c, &k, pkt, len, &h, out, sizeof(out), &got), E_CHANNEL);
	TEST_DONE();
}

static void
test_tcp_size_field(struct crypto *c, const struct dirkey *kp)
{
	const struct dirkey k = *kp;
	uint8_t pkt[128], out[128] = {0}, iv[16] = {0};
	struct pkt_hdr h;
	size_t len, got;

	TEST_START("open-tcp: size field must match the frame and the maximum");
	ASSERT_INT_EQ(pkt_seal_tcp(c, &k, 1, iv, out, 20, pkt, sizeof(pkt), &len), 0);
	ASSERT_INT_EQ(load_be32(pkt), len - 4);
	ASSERT_INT_EQ(pkt_open_tcp(c, &k, pkt, len, &h, out, sizeof(out), &got), 0);
	ASSERT_INT_EQ(pkt_open_tcp(c, &k, pkt, len - 16, &h, out, sizeof(out), &got), E_SHORT);
	store_be32(pkt, (uint32_t)(len - 4 - 16));
	ASSERT_INT_EQ(pkt_open_tcp(c, &k, pkt, len, &h, out, sizeof(out), &got), E_TRAILING);
	store_be32(pkt, WIRE_TCP_SIZE_MAX + 1);
	ASSERT_INT_EQ(pkt_open_tcp(c, &k, pkt, len, &h, out, sizeof(out), &got), E_TOOBIG);
	TEST_DONE();

	/* The framings differ only in how word 0 is read, so under one key a TCP frame is a
	 * UDP packet whose SPI equals its size. Sessions never share keys (PROTOCOL.md 6). */
}

static void
test_framings(struct crypto *c, const struct dirkey *kp, const struct dirkey *other)
{
	const struct dirkey k = *kp;
	uint8_t pkt[128], out[128] = {0}, iv[16] = {0};
	struct pkt_hdr h;
	size_t len, got;

	TEST_START(
		"framings: a UDP packet fails the TCP size check; a TCP frame reads as SPI=size");
	ASSERT_INT_EQ(pkt_seal_udp(c, &k, 5, 1, iv, out, 20, pkt, sizeof(pkt), &len), 0);
	ASSERT_INT_EQ(pkt_open_tcp(c, &k, pkt, len, &h, out, sizeof(out), &got), E_TRAILING);
	ASSERT_INT_EQ(pkt_seal_tcp(c, &k, 1, iv, out, 20, pkt, sizeof(pkt), &len), 0);
	ASSERT_INT_EQ(pkt_open_udp(c, &k, pkt, len, &h, out, sizeof(out), &got), 0);
	ASSERT_INT_EQ(h.word0, len - 4);
	ASSERT_INT_EQ(pkt_open_udp(c, other, pkt, len, &h, out, sizeof(out), &got), E_MAC);
	TEST_DONE();
}

static void
test_udp_limit(struct crypto *c, const struct dirkey *kp)
{
	const struct dirkey k = *kp;
	uint8_t iv[16] = {0};
	struct pkt_hdr h;
	size_t len, got;

	TEST_START("a UDP packet must fit one datagram: 65455-byte payload seals, 65456 does not");
	{
		static uint8_t big[65456], dgram[WIRE_UDP_MAX + 64], back[65536];

		ASSERT_INT_EQ(pkt_seal_udp(c, &k, 5, 1, iv, big, 65455, dgram, sizeof(dgram), &len),
			      0);
		ASSERT_INT_EQ(len, 65492); /* 36 + 16k: the largest that fits 65507 */
		ASSERT_INT_EQ(pkt_open_udp(c, &k, dgram, len, &h, back, sizeof(back), &got), 0);
		ASSERT_INT_EQ(got, 65455);
		ASSERT_INT_EQ(pkt_seal_udp(c, &k, 5, 1, iv, big, 65456, dgram, sizeof(dgram), &len),
			      E_TOOBIG);
		ASSERT_INT_EQ(
			pkt_open_udp(c, &k, dgram, WIRE_UDP_MAX + 16, &h, back, sizeof(back), &got),
			E_TOOBIG);
	}
	TEST_DONE();
}

static void
test_tcp_body_limit(struct crypto *c, const struct dirkey *kp)
{
	const struct dirkey k = *kp;
	uint8_t iv[16] = {0};
	struct pkt_hdr h;
	size_t got;

	TEST_START("TCP: an authentic frame whose payload exceeds 65536 bytes is E_TOOBIG");
	{
		static uint8_t body[WIRE_MSG_MAX + 16], frame[WIRE_TCP_SIZE_MAX + 4];
		uint8_t tag[20];
		struct span all = {frame, 8 + sizeof(body) + 16};

		/* 65552 bytes of ciphertext whose padding is one byte: a 65551-byte payload */
		memset(body, 0x01, sizeof(body));
		store_be32(frame, WIRE_TCP_SIZE_MAX);
		store_be32(frame + 4, 1);
		ASSERT_INT_EQ(crypto_cbc_encrypt(c, k.ke, iv, body, sizeof(body), frame + 8), 0);
		memcpy(frame + 8 + sizeof(body), iv, 16);
		ASSERT_INT_EQ(crypto_hmac_sha1(c, k.ka, sizeof(k.ka), &all, 1, tag), 0);
		memcpy(frame + all.len, tag, 12);
		got = 7;
		ASSERT_INT_EQ(
			pkt_open_tcp(c, &k, frame, sizeof(frame), &h, body, sizeof(body), &got),
			E_TOOBIG);
		ASSERT_INT_EQ(got, 0);
	}
	TEST_DONE();
}

static void
test_largest_tcp(struct crypto *c, const struct dirkey *kp)
{
	const struct dirkey k = *kp;
	uint8_t iv[16] = {0};
	struct pkt_hdr h;
	size_t len, got;

	TEST_START("largest TCP payload (WIRE_MSG_MAX) seals to WIRE_TCP_SIZE_MAX + 4");
	{
		static uint8_t big[WIRE_MSG_MAX], frame[WIRE_TCP_SIZE_MAX + 4],
			back[WIRE_MSG_MAX + 16];

		rng_fill(big, sizeof(big));
		ASSERT_INT_EQ(
			pkt_seal_tcp(c, &k, 1, iv, big, sizeof(big), frame, sizeof(frame), &len),
			0);
		ASSERT_INT_EQ(len, WIRE_TCP_SIZE_MAX + 4);
		ASSERT_INT_EQ(pkt_open_tcp(c, &k, frame, len, &h, back, sizeof(back), &got), 0);
		ASSERT_INT_EQ(got, sizeof(big));
		ASSERT_MEM_EQ(back, big, sizeof(big));
	}
	TEST_DONE();
}

static void
test_structure(struct crypto *c)
{
	struct dirkey k, other;

	rng_fill(&k, sizeof(k));
	rng_fill(&other, sizeof(other));
	test_seal_refusals(c, &k);
	test_dummy(c, &k);
	test_open_refusals(c, &k, &other);
	test_tcp_size_field(c, &k);
	test_framings(c, &k, &other);
	test_udp_limit(c, &k);
	test_tcp_body_limit(c, &k);
	test_largest_tcp(c, &k);
}

int
main(void)
{
	struct crypto *c = crypto_new();

	if (c == NULL) {
		printf("Bail out! crypto_new failed\n");
		return 1;
	}
	test_round_trips(c, 1);
	test_round_trips(c, 0);
	test_bit_flips(c, 1);
	test_bit_flips(c, 0);
	test_padding_and_order(c);
	test_structure(c);
	crypto_free(c);
	return test_finish();
}
