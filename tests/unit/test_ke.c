/* SPDX-License-Identifier: MIT */
/* The tunnel key exchange without I/O (control/ke.c): two sides agree on keys through the
 * wire encoding; repeats are answered from the cache; forged, mismatched and unknown-key
 * messages are refused without disturbing the exchange in progress. */
#include <string.h>

#include "common/err.h"
#include "common/frame.h"
#include "control/ke.h"
#include "test.h"

TEST_DEFINE_STATE;

static struct pubkey *ka, *kb, *kx; /* initiator, responder, a stranger */
static struct crypto *c;

/* m through the tunnel control packet encoding and back (what the other side would see);
 * t's spans point into one of a ring of buffers, so eight stay valid at once. */
static void
wire(const struct msg *m, struct tunnel_ctl *t)
{
	static uint8_t bufs[8][WIRE_TUNNEL_CTL_MAX];
	static unsigned next;
	struct tunnel_ctl in = {0x10, 0x20, *m};
	uint8_t *buf = bufs[next++ % 8];
	size_t len;

	ASSERT_INT_EQ(tunnel_ctl_encode(&in, buf, WIRE_TUNNEL_CTL_MAX, &len), 0);
	ASSERT_INT_EQ(tunnel_ctl_decode(buf, len, t), 0);
}

static void
test_agree(void)
{
	struct ke a = {0}, b = {0};
	struct tunnel_ctl t1, t2, t2b, t3;
	struct msg m1, m2, m2b, m3;
	uint8_t nr[WIRE_NONCE_LEN];

	TEST_START("KE1/KE2/KE3 through the wire: same keys both sides, repeats from the cache");
	ASSERT_INT_EQ(ke_initiate(&a, &m1), 0);
	wire(&m1, &t1);
	ASSERT_INT_EQ(ke_on_ke1(&b, kb, &t1.msg, &m2), 0);
	memcpy(nr, b.nr, sizeof(nr));
	wire(&m2, &t2);
	/* the initiator resends KE1: same KE2, no new DH */
	ASSERT_INT_EQ(ke_on_ke1(&b, kb, &t1.msg, &m2b), 0);
	wire(&m2b, &t2b);
	ASSERT_MEM_EQ(t2b.msg.u.ke.nonce, t2.msg.u.ke.nonce, WIRE_NONCE_LEN);
	ASSERT_MEM_EQ(t2b.msg.u.ke.dh, t2.msg.u.ke.dh, WIRE_DH_LEN);
	ASSERT_INT_EQ(t2b.msg.u.ke.sig.len, t2.msg.u.ke.sig.len);
	ASSERT_INT_EQ(ke_on_ke2(&a, c, ka, kb, &t2.msg, &m3), 0);
	ASSERT_INT_EQ(a.state, KE_DONE);
	ASSERT_TRUE(a.dh == NULL); /* private value gone once used */
	wire(&m3, &t3);
	ASSERT_INT_EQ(ke_on_ke3(&b, c, ka, &t3.msg), 0);
	ASSERT_INT_EQ(b.state, KE_DONE);
	ASSERT_MEM_EQ(&a.keys, &b.keys, sizeof(a.keys));
	ASSERT_TRUE(memcmp(&a.keys.i2r, &a.keys.r2i, sizeof(a.keys.i2r)) != 0);
	/* a repeated KE3 asks for a fresh dummy; a repeated KE2 gets the same KE3 again */
	ASSERT_INT_EQ(ke_on_ke3(&b, c, ka, &t3.msg), 1);
	ASSERT_INT_EQ(ke_on_ke2(&a, c, ka, kb, &t2.msg, &m3), 0);
	ASSERT_INT_EQ(m3.type, MSG_KE3);
	ASSERT_MEM_EQ(m3.u.ke.nonce, a.ni, WIRE_NONCE_LEN);
	/* a new KE1 starts over on the responder */
	ASSERT_INT_EQ(ke_initiate(&a, &m1), 0);
	wire(&m1, &t1);
	ASSERT_INT_EQ(ke_on_ke1(&b, kb, &t1.msg, &m2), 0);
	ASSERT_INT_EQ(b.state, KE_SENT_KE2);
	ASSERT_TRUE(memcmp(b.nr, nr, sizeof(nr)) != 0);
	ke_clear(&a);
	ke_clear(&b);
	TEST_DONE();
}

static void
test_refuse(void)
{
	struct ke a = {0}, b = {0}, x = {0};
	struct tunnel_ctl t1, t2, t3, tx;
	struct msg m1, m2, m3, mx, bad;
	uint8_t sig[WIRE_SIG_MAX];

	TEST_START("forged KE2 and KE3, a stranger's key, wrong Ni, bad DH values are refused");
	ASSERT_INT_EQ(ke_initiate(&a, &m1), 0);
	wire(&m1, &t1);
	ASSERT_INT_EQ(ke_on_ke1(&b, kb, &t1.msg, &m2), 0);
	wire(&m2, &t2);
	/* a KE2 signed by a stranger (x answering the same KE1) */
	ASSERT_INT_EQ(ke_on_ke1(&x, kx, &t1.msg, &mx), 0);
	wire(&mx, &tx);
	ASSERT_INT_EQ(ke_on_ke2(&a, c, ka, kb, &tx.msg, &m3), E_SIGNATURE);
	ASSERT_INT_EQ(a.state, KE_SENT_KE1);
	/* a flipped signature bit */
	bad = t2.msg;
	memcpy(sig, bad.u.ke.sig.p, bad.u.ke.sig.len);
	sig[7] ^= 0x10;
	bad.u.ke.sig.p = sig;
	ASSERT_INT_EQ(ke_on_ke2(&a, c, ka, kb, &bad, &m3), E_SIGNATURE);
	/* a DH value of 1 */
	bad = t2.msg;
	memset(bad.u.ke.dh, 0, WIRE_DH_LEN);
	bad.u.ke.dh[WIRE_DH_LEN - 1] = 1;
	ASSERT_INT_EQ(ke_on_ke2(&a, c, ka, kb, &bad, &m3), E_DHPUB);
	ASSERT_INT_EQ(ke_on_ke1(&x, kx, &bad, &mx) == 0, 0); /* KE1 type check */
	/* the real KE2 still works after all that */
	ASSERT_INT_EQ(ke_on_ke2(&a, c, ka, kb, &t2.msg, &m3), 0);
	wire(&m3, &t3);
	/* KE3 checked against the wrong key; KE3 with another Ni */
	ASSERT_INT_EQ(ke_on_ke3(&b, c, kx, &t3.msg), E_SIGNATURE);
	bad = t3.msg;
	bad.u.ke.nonce[0] ^= 1;
	ASSERT_INT_EQ(ke_on_ke3(&b, c, ka, &bad), E_STATE);
	ASSERT_INT_EQ(b.state, KE_SENT_KE2);
	ASSERT_INT_EQ(ke_on_ke3(&b, c, ka, &t3.msg), 0);
	ASSERT_MEM_EQ(&a.keys, &b.keys, sizeof(a.keys));
	/* a KE2 after KE_DONE that is not the accepted one */
	ASSERT_INT_EQ(ke_on_ke2(&a, c, ka, kx, &tx.msg, &m3), E_STATE);
	/* a responder never takes a KE2, an initiator never a KE3 */
	ASSERT_INT_EQ(ke_on_ke2(&b, c, kb, ka, &t2.msg, &m3), E_STATE);
	ASSERT_INT_EQ(ke_on_ke3(&a, c, kb, &t3.msg), E_STATE);
	ke_clear(&a);
	ke_clear(&b);
	ke_clear(&x);
	TEST_DONE();
}

int
main(void)
{
	c = crypto_new();
	ka = pubkey_generate(2048);
	kb = pubkey_generate(2048);
	kx = pubkey_generate(2048);
	if (c == NULL || ka == NULL || kb == NULL || kx == NULL) {
		printf("Bail out! no crypto or keys\n");
		return 1;
	}
	test_agree();
	test_refuse();
	pubkey_free(ka);
	pubkey_free(kb);
	pubkey_free(kx);
	crypto_free(c);
	return test_finish();
}
