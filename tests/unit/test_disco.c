/* SPDX-License-Identifier: MIT */
/* NAT classification from discovery replies (control/disco.c), and the discovery datagrams'
 * seal/open/check shared with the mediator (common/disco.c). */
#include <string.h>

#include "common/disco.h"
#include "common/err.h"
#include "control/disco.h"
#include "test.h"

TEST_DEFINE_STATE;

static void
test_classify(void)
{
	const struct msg_cand local[2] = {{0x0a000002, 7777, CAND_LOCAL},
					  {0xc0a80105, 7777, CAND_LOCAL}};
	const uint32_t pub[3] = {0xcb007101, 0xcb007101, 0xcb007101};
	const uint16_t same[3] = {7777, 7777, 7777}, moved[3] = {40001, 40002, 40001};
	const uint32_t mine[2] = {0xc0a80105, 0xc0a80105};

	TEST_START("classification: none, EIM, EDM, blocked, unknown");
	ASSERT_INT_EQ(disco_classify(2, mine, same, 2, local, 2, 7777), NAT_NONE);
	ASSERT_INT_EQ(disco_classify(2, pub, same, 2, local, 2, 7777), NAT_EIM);
	ASSERT_INT_EQ(disco_classify(2, pub, moved, 2, local, 2, 7777), NAT_EDM);
	ASSERT_INT_EQ(disco_classify(3, pub, moved + 1, 2, local, 2, 7777), NAT_EDM);
	ASSERT_INT_EQ(disco_classify(2, pub, same, 0, local, 2, 7777), NAT_UDP_BLOCKED);
	ASSERT_INT_EQ(disco_classify(1, pub, same, 1, local, 2, 7777), NAT_UNKNOWN);
	ASSERT_INT_EQ(disco_classify(0, pub, same, 0, local, 2, 7777), NAT_UNKNOWN);
	/* our own address but another port: a NAT on the host itself, not "none" */
	ASSERT_INT_EQ(disco_classify(2, mine, moved, 2, local, 2, 7777), NAT_EDM);
	TEST_DONE();
}

static void
test_dgram(void)
{
	uint8_t key[MSG_DISCO_KEY_LEN], other[MSG_DISCO_KEY_LEN], out[DISCO_DGRAM_MAX];
	struct msg m = {.type = MSG_DISCO_REPLY}, got;
	struct crypto *c = crypto_new();
	size_t len;

	TEST_START("discovery datagrams: seal, open, MAC checked, every bit flip refused");
	memset(key, 7, sizeof(key));
	memset(other, 8, sizeof(other));
	memset(m.u.disco_reply.nonce, 0x5a, sizeof(m.u.disco_reply.nonce));
	m.u.disco_reply.addr = 0xcb007101;
	m.u.disco_reply.port = 40001;
	m.u.disco_reply.server_port = 7772;
	ASSERT_INT_EQ(disco_dgram_seal(c, key, MSG_CH_DISCO_S2C, &m, out, sizeof(out), &len), 0);
	ASSERT_INT_EQ(len, 34);
	ASSERT_INT_EQ(disco_dgram_open(MSG_CH_DISCO_S2C, out, len, &got), 0);
	ASSERT_INT_EQ(got.u.disco_reply.port, 40001);
	ASSERT_INT_EQ(disco_dgram_check(c, key, out, len), 0);
	ASSERT_INT_EQ(disco_dgram_check(c, other, out, len), E_MAC);
	ASSERT_INT_EQ(disco_dgram_open(MSG_CH_DISCO_C2S, out, len, &got) == 0, 0);
	for (size_t i = DISCO_MARK * 8; i < len * 8; i++) {
		out[i / 8] ^= (uint8_t)(1u << (i % 8));
		ASSERT_TRUE(disco_dgram_open(MSG_CH_DISCO_S2C, out, len, &got) != 0 ||
			    disco_dgram_check(c, key, out, len) == E_MAC);
		out[i / 8] ^= (uint8_t)(1u << (i % 8));
	}
	out[0] = 1;
	ASSERT_INT_EQ(disco_dgram_open(MSG_CH_DISCO_S2C, out, len, &got), E_CHANNEL);
	crypto_free(c);
	TEST_DONE();
}

static void
test_local(void)
{
	struct msg_cand c[MSG_CAND_MAX];
	unsigned n = disco_local_cands(NULL, 7777, c, MSG_CAND_MAX);

	TEST_START("local candidates: never loopback, port as given");
	for (unsigned i = 0; i < n; i++) {
		ASSERT_TRUE((c[i].addr >> 24) != 127);
		ASSERT_INT_EQ(c[i].port, 7777);
		ASSERT_INT_EQ(c[i].kind, CAND_LOCAL);
	}
	TEST_DONE();
}

int
main(void)
{
	test_classify();
	test_dgram();
	test_local();
	return test_finish();
}
