/* SPDX-License-Identifier: MIT */
/* Framing: TCP frame length from the size field, cleartext frames, tunnel control packets. */
#include "common/err.h"
#include "common/frame.h"
#include "test.h"

TEST_DEFINE_STATE;

static void
test_tcp_total(void)
{
	uint8_t hdr[4];
	size_t total;

	TEST_START("frame_tcp_total: size 4..65584 accepted, outside refused before buffering");
	ASSERT_INT_EQ(WIRE_TCP_SIZE_MAX, 65584); /* the number PROTOCOL.md gives */
	store_be32(hdr, 3);
	ASSERT_INT_EQ(frame_tcp_total(hdr, &total), E_SHORT);
	store_be32(hdr, 4);
	ASSERT_INT_EQ(frame_tcp_total(hdr, &total), 0);
	ASSERT_INT_EQ(total, 8);
	store_be32(hdr, WIRE_TCP_SIZE_MAX);
	ASSERT_INT_EQ(frame_tcp_total(hdr, &total), 0);
	ASSERT_INT_EQ(total, 65588);
	store_be32(hdr, WIRE_TCP_SIZE_MAX + 1);
	ASSERT_INT_EQ(frame_tcp_total(hdr, &total), E_TOOBIG);
	store_be32(hdr, 0xffffffff);
	ASSERT_INT_EQ(frame_tcp_total(hdr, &total), E_TOOBIG);
	ASSERT_INT_EQ(total, 0);
	TEST_DONE();
}

static void
helo(struct msg *m)
{
	memset(m, 0, sizeof(*m));
	m->type = MSG_HELO;
	m->u.helo.suite = 1;
	memset(m->u.helo.gi, 0x42, WIRE_DH_LEN);
}

static void
test_clear(void)
{
	uint8_t f[2100];
	struct msg m, back;
	size_t len;

	TEST_START("cleartext frame: size | 0 | body, and back");
	helo(&m);
	ASSERT_INT_EQ(frame_clear_encode(MSG_CH_CLEAR_C2S, &m, f, sizeof(f), &len), 0);
	ASSERT_INT_EQ(len, 8 + 407);
	ASSERT_INT_EQ(load_be32(f), 4 + 407);
	ASSERT_INT_EQ(load_be32(f + 4), 0);
	ASSERT_TRUE(frame_tcp_is_clear(f, len));
	ASSERT_INT_EQ(frame_clear_decode(MSG_CH_CLEAR_C2S, f, len, &back), 0);
	ASSERT_INT_EQ(back.type, MSG_HELO);
	ASSERT_MEM_EQ(back.u.helo.gi, m.u.helo.gi, WIRE_DH_LEN);
	TEST_DONE();

	TEST_START("cleartext frame: wrong direction, non-zero ID, size mismatch are refused");
	ASSERT_INT_EQ(frame_clear_decode(MSG_CH_CLEAR_S2C, f, len, &back), E_CHANNEL);
	ASSERT_INT_EQ(frame_clear_decode(MSG_CH_SESSION_C2S, f, len, &back), E_CHANNEL);
	ASSERT_INT_EQ(frame_clear_decode(MSG_CH_CLEAR_C2S, f, len - 1, &back), E_SHORT);
	ASSERT_INT_EQ(frame_clear_decode(MSG_CH_CLEAR_C2S, f, 7, &back), E_SHORT);
	f[len] = 0;
	ASSERT_INT_EQ(frame_clear_decode(MSG_CH_CLEAR_C2S, f, len + 1, &back), E_TRAILING);
	store_be32(f + 4, 1);
	ASSERT_TRUE(!frame_tcp_is_clear(f, len));
	ASSERT_INT_EQ(frame_clear_decode(MSG_CH_CLEAR_C2S, f, len, &back), E_MSGID);
	ASSERT_INT_EQ(frame_clear_encode(MSG_CH_SESSION_C2S, &m, f, sizeof(f), &len), E_CHANNEL);
	TEST_DONE();

	TEST_START("cleartext frame: a body over 2048 bytes is E_TOOBIG");
	memset(f, 0, sizeof(f));
	store_be32(f, 4 + 2049);
	ASSERT_INT_EQ(frame_clear_decode(MSG_CH_CLEAR_C2S, f, 8 + 2049, &back), E_TOOBIG);
	TEST_DONE();
}

static void
test_tunnel_ctl(void)
{
	uint8_t p[1300];
	struct tunnel_ctl t, back;
	size_t len;

	memset(&t, 0, sizeof(t));
	t.dst_spi = 0x11223344;
	t.src_spi = 0x55667788;
	t.msg.type = MSG_KE1;
	memset(t.msg.u.ke.nonce, 0xa5, WIRE_NONCE_LEN);
	memset(t.msg.u.ke.dh, 0x37, WIRE_DH_LEN);

	TEST_START("tunnel control packet: 0 | dst | src | body, 398 bytes for KE1, and back");
	ASSERT_INT_EQ(tunnel_ctl_encode(&t, p, sizeof(p), &len), 0);
	ASSERT_INT_EQ(len, 12 + 386);
	ASSERT_INT_EQ(load_be32(p), 0);
	ASSERT_INT_EQ(load_be32(p + 4), 0x11223344);
	ASSERT_INT_EQ(load_be32(p + 8), 0x55667788);
	ASSERT_INT_EQ(load_be16(p + 12), MSG_KE1);
	ASSERT_TRUE(frame_udp_is_control(p, len));
	ASSERT_INT_EQ(tunnel_ctl_decode(p, len, &back), 0);
	ASSERT_INT_EQ(back.dst_spi, t.dst_spi);
	ASSERT_INT_EQ(back.src_spi, t.src_spi);
	ASSERT_MEM_EQ(back.msg.u.ke.nonce, t.msg.u.ke.nonce, WIRE_NONCE_LEN);
	TEST_DONE();

	TEST_START("tunnel control packet: SPI 0 in a header field, data packets, session types");
	store_be32(p + 4, 0);
	ASSERT_INT_EQ(tunnel_ctl_decode(p, len, &back), E_INVAL);
	store_be32(p + 4, 1);
	store_be32(p, 9); /* a data packet */
	ASSERT_TRUE(!frame_udp_is_control(p, len));
	ASSERT_INT_EQ(tunnel_ctl_decode(p, len, &back), E_CHANNEL);
	store_be32(p, 0);
	store_be16(p + 12, MSG_PING);
	ASSERT_INT_EQ(tunnel_ctl_decode(p, len, &back), E_CHANNEL);
	ASSERT_INT_EQ(tunnel_ctl_decode(p, 13, &back), E_SHORT);
	ASSERT_INT_EQ(tunnel_ctl_decode(p, WIRE_TUNNEL_CTL_MAX + 1, &back), E_TOOBIG);
	t.src_spi = 0;
	ASSERT_INT_EQ(tunnel_ctl_encode(&t, p, sizeof(p), &len), E_INVAL);
	TEST_DONE();

	TEST_START("tunnel control packet: every truncation is refused");
	t.src_spi = 2;
	ASSERT_INT_EQ(tunnel_ctl_encode(&t, p, sizeof(p), &len), 0);
	for (size_t n = 0; n < len; n++)
		ASSERT_INT_NE(tunnel_ctl_decode(p, n, &back), 0);
	TEST_DONE();
}

int
main(void)
{
	test_tcp_total();
	test_clear();
	test_tunnel_ctl();
	return test_finish();
}
