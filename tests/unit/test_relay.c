/* SPDX-License-Identifier: MIT */
/* Relay datagrams (common/relay.c): what a relay routes by, grant tokens against an
 * independent HMAC (Python's hmac module), and RELAY BIND / BOUND sealed with a token. */
#include <string.h>

#include "common/err.h"
#include "common/hex.h"
#include "common/relay.h"
#include "samples.h"
#include "test.h"

TEST_DEFINE_STATE;

static void
test_classify(void)
{
	uint8_t p[64] = {0};
	uint32_t spi = 0;

	TEST_START("classify: data by its SPI, control by dstSPI, two zero words a message");
	store_be32(p, 0x80000011);
	ASSERT_INT_EQ(relay_classify(p, 40, &spi), RELAY_DATA);
	ASSERT_INT_EQ(spi, 0x80000011);
	store_be32(p, 0);
	store_be32(p + 4, 0x1234);
	ASSERT_INT_EQ(relay_classify(p, 8, &spi), RELAY_CONTROL);
	ASSERT_INT_EQ(spi, 0x1234);
	store_be32(p + 4, 0);
	spi = 7;
	ASSERT_INT_EQ(relay_classify(p, 56, &spi), RELAY_MESSAGE);
	ASSERT_INT_EQ(spi, 7); /* untouched */
	store_be32(p, 1);
	ASSERT_INT_EQ(relay_classify(p, 7, &spi), RELAY_INVALID);
	ASSERT_INT_EQ(relay_classify(p, 0, &spi), RELAY_INVALID);
	ASSERT_INT_EQ(relay_classify(p, RELAY_DGRAM_MAX + 1, &spi), RELAY_INVALID);
	TEST_DONE();
}

static void
test_token(struct crypto *c)
{
	/* python3: hmac.new(bytes(range(32)), b"buri relay" + b"\x5e" * 8 +
	 *     struct.pack(">IBII", 1800000000, 1, 0x64400001, 0x64400002), "sha1") */
	static const char want_hex[] = "8ec9e9147a8ee25a52933f191b2795a1d793c529";
	uint8_t secret[RELAY_SECRET_LEN], session[MSG_RELAY_SESSION_LEN], token[20], want[20],
		other[20];
	size_t n;

	TEST_START("token: HMAC-SHA1 over the label and fields, as PROTOCOL.md RELAY says");
	for (unsigned i = 0; i < sizeof(secret); i++)
		secret[i] = (uint8_t)i;
	memset(session, 0x5e, sizeof(session));
	ASSERT_INT_EQ(hex_decode(want_hex, strlen(want_hex), want, sizeof(want), &n), 0);
	ASSERT_INT_EQ(relay_token(c, secret, session, 1800000000, 1, 0x64400001, 0x64400002, token),
		      0);
	ASSERT_MEM_EQ(token, want, sizeof(want));
	/* each field counts: the other side, swapped identities */
	ASSERT_INT_EQ(relay_token(c, secret, session, 1800000000, 0, 0x64400001, 0x64400002, other),
		      0);
	ASSERT_TRUE(memcmp(other, token, sizeof(token)) != 0);
	ASSERT_INT_EQ(relay_token(c, secret, session, 1800000000, 1, 0x64400002, 0x64400001, other),
		      0);
	ASSERT_TRUE(memcmp(other, token, sizeof(token)) != 0);
	TEST_DONE();
}

static void
test_msgs(struct crypto *c)
{
	uint8_t token[MSG_RELAY_TOKEN_LEN], other[MSG_RELAY_TOKEN_LEN], out[RELAY_MSG_MAX];
	static const uint16_t types[] = {MSG_RELAY_BIND, MSG_RELAY_BOUND};
	static const unsigned chans[] = {MSG_CH_RELAY_C2R, MSG_CH_RELAY_R2C};
	struct msg m, got;
	size_t len;
	unsigned bad = 0;
	uint32_t spi;

	TEST_START("BIND and BOUND: sealed, opened, MAC checked; every bit flip is caught");
	memset(token, 0x42, sizeof(token));
	memset(other, 0x43, sizeof(other));
	for (unsigned t = 0; t < ARRAY_SIZE(types); t++) {
		sample_msg(types[t], t == 0, &m);
		ASSERT_INT_EQ(relay_msg_seal(c, token, chans[t], &m, out, sizeof(out), &len), 0);
		ASSERT_INT_EQ(len, t == 0 ? 8 + 68 : 8 + 40);
		ASSERT_INT_EQ(relay_classify(out, len, &spi), RELAY_MESSAGE);
		ASSERT_INT_EQ(relay_msg_open(chans[t], out, len, &got), 0);
		ASSERT_INT_EQ(got.type, types[t]);
		ASSERT_INT_EQ(relay_msg_check(c, token, out, len), 0);
		ASSERT_INT_EQ(relay_msg_check(c, other, out, len), E_MAC);
		ASSERT_INT_EQ(relay_msg_open(chans[1 - t], out, len, &got), E_CHANNEL);
		for (size_t i = 8 * 8; i < len * 8; i++) { /* past the zero mark */
			out[i / 8] ^= (uint8_t)(1u << (i % 8));
			if (relay_msg_open(chans[t], out, len, &got) == 0 &&
			    relay_msg_check(c, token, out, len) == 0)
				bad++;
			out[i / 8] ^= (uint8_t)(1u << (i % 8));
		}
		out[3] = 1; /* not the mark: a data packet to the relay */
		ASSERT_INT_EQ(relay_msg_open(chans[t], out, len, &got), E_CHANNEL);
	}
	ASSERT_INT_EQ(bad, 0);
	TEST_DONE();
}

static void
test_tcp_frame(void)
{
	uint8_t s[2 + 300 + 2 + 8 + 2] = {0};
	const uint8_t *d = NULL;
	size_t n = 0;

	TEST_START("TCP frames: whole ones only, lengths below 8 refused, one at a time");
	store_be16(s, 300);
	s[2] = 0xab;
	store_be16(s + 302, 8);
	ASSERT_INT_EQ(relay_tcp_frame(s, 0, &d, &n), 0);
	ASSERT_INT_EQ(relay_tcp_frame(s, 1, &d, &n), 0);
	ASSERT_INT_EQ(relay_tcp_frame(s, 301, &d, &n), 0);
	ASSERT_INT_EQ(relay_tcp_frame(s, sizeof(s), &d, &n), 302);
	ASSERT_TRUE(d == s + 2);
	ASSERT_INT_EQ(n, 300);
	ASSERT_INT_EQ(relay_tcp_frame(s + 302, sizeof(s) - 302, &d, &n), 10);
	ASSERT_INT_EQ(n, 8);
	ASSERT_INT_EQ(relay_tcp_frame(s + 312, 1, &d, &n), 0);
	store_be16(s + 312, 7);
	ASSERT_INT_EQ(relay_tcp_frame(s + 312, 2, &d, &n), E_ENCODING);
	store_be16(s, 0xffff);
	ASSERT_INT_EQ(relay_tcp_frame(s, sizeof(s), &d, &n), 0);
	TEST_DONE();
}

int
main(void)
{
	struct crypto *c = crypto_new();

	if (c == NULL)
		return 1;
	test_classify();
	test_tcp_frame();
	test_token(c);
	test_msgs(c);
	crypto_free(c);
	return test_finish();
}
