/* SPDX-License-Identifier: MIT */
/* The message codec: every type round-trips on its channels and only there; every truncation
 * and extension is refused; field rules; the length bounds of PROTOCOL.md section 8. */
#include "common/err.h"
#include "common/msg.h"
#include "samples.h"
#include "test.h"

TEST_DEFINE_STATE;

enum {
	C2S = MSG_CH_CLEAR_C2S,
	S2C = MSG_CH_CLEAR_S2C,
	SC2S = MSG_CH_SESSION_C2S,
	SS2C = MSG_CH_SESSION_S2C,
	TUN = MSG_CH_TUNNEL,
	DC2S = MSG_CH_DISCO_C2S,
	DS2C = MSG_CH_DISCO_S2C,
	RC2R = MSG_CH_RELAY_C2R,
	RR2C = MSG_CH_RELAY_R2C,
	ALL = C2S | S2C | SC2S | SS2C | TUN | DC2S | DS2C | RC2R | RR2C,
};

/* PROTOCOL.md section 8, copied by hand: type, channels, min and max body length. */
static const struct expect {
	uint16_t type;
	unsigned int channels;
	size_t min, max;
} table[] = {
	{MSG_HELO, C2S, 407, 407},	 {MSG_HELO_OK, S2C, 386, 386},
	{MSG_AUTH, SC2S, 264, 520},	 {MSG_REGISTER, SC2S, 267, 1514},
	{MSG_AUTH_OK, SS2C, 264, 520},	 {MSG_ERROR, C2S | S2C | SC2S | SS2C, 6, 1030},
	{MSG_RESULT, SS2C, 10, 1034},	 {MSG_PING, SC2S | SS2C, 6, 6},
	{MSG_PONG, SC2S | SS2C, 6, 6},	 {MSG_NICK, SC2S, 8, 72},
	{MSG_NET_CREATE, SC2S, 10, 202}, {MSG_NET_JOIN, SC2S, 10, 202},
	{MSG_NET_LEAVE, SC2S, 8, 72},	 {MSG_NET_DELETE, SC2S, 8, 72},
	{MSG_NET_PASS, SC2S, 10, 202},	 {MSG_NET_FLAG, SC2S, 10, 74},
	{MSG_NET_MEMBER, SC2S, 13, 77},	 {MSG_NET_TEXT, SC2S, 11, 1099},
	{MSG_IM, SC2S, 12, 1036},	 {MSG_INBOX_ACK, SC2S, 14, 14},
	{MSG_ENDPOINTS, SC2S, 8, 120},	 {MSG_SYNC, SC2S, 6, 6},
	{MSG_LOGOUT, SC2S, 6, 6},	 {MSG_SESSION, SS2C, 40, 112},
	{MSG_NET, SS2C, 8, 72},		 {MSG_NET_GONE, SS2C, 5, 69},
	{MSG_MEMBER, SS2C, 15, 942},	 {MSG_MEMBER_GONE, SS2C, 9, 73},
	{MSG_SYNC_DONE, SS2C, 4, 4},	 {MSG_TUNNEL, SS2C, 19, 937},
	{MSG_TUNNEL_DOWN, SS2C, 7, 7},	 {MSG_PEER_LOST, SS2C, 6, 6},
	{MSG_TEXT, SS2C, 29, 1181},	 {MSG_DISCO_PROBE, DC2S, 34, 34},
	{MSG_DISCO_REPLY, DS2C, 30, 30}, {MSG_KE1, TUN, 386, 386},
	{MSG_KE2, TUN, 644, 900},	 {MSG_KE3, TUN, 644, 900},
	{MSG_PROBE, TUN, 11, 11},	 {MSG_RELAY, SS2C, 47, 47},
	{MSG_RELAY_BIND, RC2R, 56, 68},	 {MSG_RELAY_BOUND, RR2C, 40, 40},
};

static const uint8_t filler[128] = "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz"
				   "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz";

static void
test_every_type_covered(void)
{
	struct msg m;
	int missing = 0;

	TEST_START("every type in msg.h has a sample and a row in this test's table");
	for (size_t i = 0; i < sample_types_n; i++) {
		bool in_table = false;

		for (size_t j = 0; j < ARRAY_SIZE(table); j++)
			in_table |= table[j].type == sample_types[i];
		if (!in_table || !sample_msg(sample_types[i], false, &m)) {
			printf("# %s (0x%04x) lacks a %s\n", msg_name(sample_types[i]),
			       sample_types[i], in_table ? "sample" : "table row");
			missing++;
		}
	}
	ASSERT_INT_EQ(missing, 0);
	ASSERT_INT_EQ(sample_types_n, ARRAY_SIZE(table));
	TEST_DONE();
}

static unsigned int
first_channel(unsigned int mask)
{
	return mask & -mask;
}

static void
test_round_trips_and_bounds(void)
{
	static uint8_t buf[2048], again[2048];
	int bad = 0;

	TEST_START("every type: smallest and largest encodings have the documented lengths "
		   "and round-trip byte for byte");
	for (size_t i = 0; i < ARRAY_SIZE(table); i++) {
		for (int big = 0; big <= 1; big++) {
			unsigned int ch = first_channel(table[i].channels);
			struct msg m, back;
			size_t len = 0, len2 = 0;

			sample_msg(table[i].type, big, &m);
			if (msg_encode(ch, &m, buf, sizeof(buf), &len) != 0 ||
			    len != (big ? table[i].max : table[i].min) ||
			    msg_decode(ch, buf, len, &back) != 0 || back.type != table[i].type ||
			    msg_encode(ch, &back, again, sizeof(again), &len2) != 0 ||
			    len2 != len || memcmp(buf, again, len) != 0) {
				printf("# %s big=%d len=%zu\n", msg_name(table[i].type), big, len);
				bad++;
			}
			if (len > msg_max_len())
				bad++;
		}
	}
	ASSERT_INT_EQ(bad, 0);
	TEST_DONE();
}

static void
test_channels(void)
{
	static uint8_t buf[2048];
	int bad = 0;

	TEST_START("every type is accepted on its channels and E_CHANNEL elsewhere, both ways");
	for (size_t i = 0; i < ARRAY_SIZE(table); i++) {
		struct msg m, back;
		size_t len;

		sample_msg(table[i].type, 0, &m);
		if (msg_encode(first_channel(table[i].channels), &m, buf, sizeof(buf), &len) != 0) {
			bad++;
			continue;
		}
		for (unsigned int ch = 1; ch & ALL; ch <<= 1) {
			int want = (table[i].channels & ch) ? 0 : E_CHANNEL;
			size_t l2;

			if (msg_decode(ch, buf, len, &back) != want ||
			    msg_encode(ch, &m, buf + 1024, 1024, &l2) != want) {
				printf("# %s on channel %#x\n", msg_name(table[i].type), ch);
				bad++;
			}
		}
	}
	ASSERT_INT_EQ(bad, 0);
	TEST_DONE();
}

static void
test_truncation_and_extension(void)
{
	static uint8_t buf[2048];
	long tried = 0, accepted = 0;

	TEST_START("every truncation of every valid message is refused, and so is one byte more");
	for (size_t i = 0; i < ARRAY_SIZE(table); i++) {
		for (int big = 0; big <= 1; big++) {
			unsigned int ch = first_channel(table[i].channels);
			struct msg m, back;
			size_t len;

			sample_msg(table[i].type, big, &m);
			if (msg_encode(ch, &m, buf, sizeof(buf) - 1, &len) != 0) {
				accepted++;
				continue;
			}
			for (size_t n = 0; n < len; n++, tried++)
				accepted += msg_decode(ch, buf, n, &back) == 0;
			buf[len] = 0;
			accepted += msg_decode(ch, buf, len + 1, &back) == 0;
			tried++;
		}
	}
	printf("# %ld truncated or extended messages\n", tried);
	ASSERT_INT_EQ(accepted, 0);
	TEST_DONE();
}

static void
test_unknown_types(void)
{
	static uint8_t buf[2048];
	struct msg back;

	TEST_START("unknown types are E_TYPE; a body shorter than a type is E_SHORT");
	store_be16(buf, 0x0000);
	ASSERT_INT_EQ(msg_decode(ALL, buf, 2, &back), E_TYPE);
	store_be16(buf, 0xffff);
	ASSERT_INT_EQ(msg_decode(ALL, buf, 2, &back), E_TYPE);
	ASSERT_INT_EQ(msg_decode(ALL, buf, 1, &back), E_SHORT);
	ASSERT_STR_EQ(msg_name(0xffff), "unknown");
	ASSERT_STR_EQ(msg_name(MSG_KE2), "KE2");
	TEST_DONE();
}

static void
test_suite(void)
{
	static uint8_t buf[2048];
	struct msg m, back;
	size_t len;

	TEST_START("HELO: suite other than 1 is E_SUITE");
	sample_msg(MSG_HELO, 0, &m);
	ASSERT_INT_EQ(msg_encode(C2S, &m, buf, sizeof(buf), &len), 0);
	buf[2] = 2;
	ASSERT_INT_EQ(msg_decode(C2S, buf, len, &back), E_SUITE);
	m.u.helo.suite = 0;
	ASSERT_INT_EQ(msg_encode(C2S, &m, buf, sizeof(buf), &len), E_SUITE);
	TEST_DONE();
}

static void
test_dh_values(void)
{
	static uint8_t buf[2048];
	struct msg m, back;
	size_t len;

	TEST_START("DH values 0, 1 and p - 1 are E_DHPUB in HELO OK and KE1");
	sample_msg(MSG_HELO_OK, 0, &m);
	memset(m.u.helo_ok.gr, 0, WIRE_DH_LEN);
	m.u.helo_ok.gr[WIRE_DH_LEN - 1] = 1;
	ASSERT_INT_EQ(msg_encode(S2C, &m, buf, sizeof(buf), &len), E_DHPUB);
	sample_msg(MSG_KE1, 0, &m);
	ASSERT_INT_EQ(msg_encode(TUN, &m, buf, sizeof(buf), &len), 0);
	memset(buf + 2 + WIRE_NONCE_LEN, 0, WIRE_DH_LEN);
	ASSERT_INT_EQ(msg_decode(TUN, buf, len, &back), E_DHPUB);
	TEST_DONE();
}

static void
test_signature_lengths(void)
{
	static uint8_t buf[2048];
	struct msg m, back;
	size_t len;

	TEST_START("signatures shorter than 256 or longer than 512 bytes are E_RANGE");
	sample_msg(MSG_KE2, 0, &m);
	m.u.ke.sig.len = WIRE_SIG_MIN - 1;
	ASSERT_INT_EQ(msg_encode(TUN, &m, buf, sizeof(buf), &len), E_SHORT);
	sample_msg(MSG_AUTH, 1, &m);
	m.u.auth.sig.len = WIRE_SIG_MAX + 1;
	ASSERT_INT_EQ(msg_encode(SC2S, &m, buf, sizeof(buf), &len), E_TOOBIG);
	/* a length prefix that lies inside an otherwise well-sized body */
	sample_msg(MSG_AUTH, 0, &m);
	ASSERT_INT_EQ(msg_encode(SC2S, &m, buf, sizeof(buf), &len), 0);
	store_be16(buf + 6, 255);
	ASSERT_INT_EQ(msg_decode(SC2S, buf, len, &back), E_RANGE);
	store_be16(buf + 6, 257);
	ASSERT_INT_EQ(msg_decode(SC2S, buf, len, &back), E_SHORT);
	TEST_DONE();
}

static void
test_texts(void)
{
	static uint8_t buf[2048];
	struct msg m, back;
	size_t len;

	TEST_START("texts: invalid UTF-8 or NUL is E_ENCODING, too long is refused");
	sample_msg(MSG_REGISTER, 0, &m);
	m.u.reg.nick = (struct span){(const uint8_t *)"n\xc3", 2};
	ASSERT_INT_EQ(msg_encode(SC2S, &m, buf, sizeof(buf), &len), E_ENCODING);
	m.u.reg.nick = (struct span){(const uint8_t *)"a\0b", 3};
	ASSERT_INT_EQ(msg_encode(SC2S, &m, buf, sizeof(buf), &len), E_ENCODING);
	m.u.reg.nick = (struct span){(const uint8_t *)"R\xc3\xa9mi", 5};
	ASSERT_INT_EQ(msg_encode(SC2S, &m, buf, sizeof(buf), &len), 0);
	ASSERT_INT_EQ(msg_decode(SC2S, buf, len, &back), 0);
	ASSERT_INT_EQ(back.u.reg.nick.len, 5);
	ASSERT_MEM_EQ(back.u.reg.nick.p, "R\xc3\xa9mi", 5);
	m.u.reg.nick = (struct span){filler, WIRE_NICK_MAX + 1};
	ASSERT_INT_NE(msg_encode(SC2S, &m, buf, sizeof(buf), &len), 0);
	m.u.reg.nick = (struct span){filler, 3};
	m.u.reg.pubkey = (struct span){filler, 0};
	ASSERT_INT_EQ(msg_encode(SC2S, &m, buf, sizeof(buf), &len), E_RANGE);
	TEST_DONE();
}

static void
test_borrowed_spans(void)
{
	static uint8_t buf[2048];
	struct msg m, back;
	size_t len;

	TEST_START("decoded spans borrow the input; a failed decode leaves nothing behind");
	sample_msg(MSG_RESULT, 0, &m);
	m.u.result.text = (struct span){(const uint8_t *)"ok", 2};
	m.u.result.status = 0;
	ASSERT_INT_EQ(msg_encode(SS2C, &m, buf, sizeof(buf), &len), 0);
	ASSERT_INT_EQ(msg_decode(SS2C, buf, len, &back), 0);
	ASSERT_TRUE(back.u.result.text.p == buf + 10);
	ASSERT_INT_EQ(back.u.result.tag, 77);
	buf[len - 1] = 0xff; /* text becomes invalid UTF-8 */
	ASSERT_INT_EQ(msg_decode(SS2C, buf, len, &back), E_ENCODING);
	ASSERT_TRUE(back.u.result.text.p == NULL && back.u.result.tag == 0);
	TEST_DONE();
}

static void
test_no_space(void)
{
	static uint8_t buf[2048];
	struct msg m;
	size_t len;

	TEST_START("encode into a buffer one byte short is E_NOSPACE");
	sample_msg(MSG_KE1, 0, &m);
	ASSERT_INT_EQ(msg_encode(TUN, &m, buf, 385, &len), E_NOSPACE);
	ASSERT_INT_EQ(len, 0);
	TEST_DONE();
}

/* A sample of type, encoded, with n bytes at off set to val, must decode to want. Offsets are
 * those of PROTOCOL.md section 9 for the sample's field lengths (small: every text empty,
 * big: every variable field full). */
static const struct patch {
	uint16_t type;
	bool big;
	size_t off, n;
	uint8_t val;
	int want;
} patches[] = {
	/* identities and SPIs are never 0 */
	{MSG_NET_MEMBER, 0, 8, 4, 0, E_RANGE},
	{MSG_IM, 0, 6, 4, 0, E_RANGE},
	{MSG_SESSION, 0, 2, 4, 0, E_RANGE},
	{MSG_MEMBER, 0, 4, 4, 0, E_RANGE},
	{MSG_MEMBER_GONE, 0, 4, 4, 0, E_RANGE},
	{MSG_TUNNEL, 0, 2, 4, 0, E_RANGE},
	{MSG_TUNNEL, 0, 6, 4, 0, E_RANGE},
	{MSG_TUNNEL, 0, 10, 4, 0, E_RANGE},
	{MSG_TUNNEL_DOWN, 0, 2, 4, 0, E_RANGE},
	{MSG_PEER_LOST, 0, 2, 4, 0, E_RANGE},
	{MSG_DISCO_PROBE, 0, 2, 4, 0, E_RANGE},
	/* TUNNEL: peer_spi (0x2000) made equal to my_spi (0x1000) */
	{MSG_TUNNEL, 0, 12, 1, 0x10, E_RANGE},
	/* enumerations: one past each end refused, the ends accepted */
	{MSG_NET_FLAG, 0, 8, 1, 0, E_RANGE},
	{MSG_NET_FLAG, 0, 8, 1, 3, 0},
	{MSG_NET_FLAG, 0, 8, 1, 4, E_RANGE},
	{MSG_NET_FLAG, 0, 9, 1, 2, E_RANGE},
	{MSG_NET_MEMBER, 0, 12, 1, 0, E_RANGE},
	{MSG_NET_MEMBER, 0, 12, 1, 7, 0},
	{MSG_NET_MEMBER, 0, 12, 1, 8, E_RANGE},
	{MSG_NET_TEXT, 0, 8, 1, 0, E_RANGE},
	{MSG_NET_TEXT, 0, 8, 1, 4, E_RANGE},
	{MSG_ENDPOINTS, 0, 6, 1, 4, 0},
	{MSG_ENDPOINTS, 0, 6, 1, 5, E_RANGE},
	{MSG_SESSION, 1, 82, 1, 0, E_RANGE},
	{MSG_SESSION, 1, 82, 1, 30, 0},
	{MSG_SESSION, 1, 82, 1, 31, E_RANGE},
	{MSG_NET, 0, 4, 1, 0, E_RANGE},
	{MSG_NET, 0, 4, 1, 5, E_RANGE},
	{MSG_NET, 0, 5, 1, 0x07, 0},
	{MSG_NET, 0, 5, 1, 0x08, E_RANGE},
	{MSG_NET, 0, 5, 1, 0x80, E_RANGE},
	{MSG_NET_GONE, 0, 4, 1, 0, E_RANGE},
	{MSG_NET_GONE, 0, 4, 1, 7, E_RANGE},
	{MSG_MEMBER, 0, 10, 1, 0, E_RANGE},
	{MSG_MEMBER, 0, 10, 1, 5, 0},
	{MSG_MEMBER, 0, 10, 1, 6, E_RANGE},
	{MSG_MEMBER, 0, 11, 1, 2, E_RANGE},
	{MSG_MEMBER_GONE, 0, 8, 1, 7, E_RANGE},
	{MSG_TUNNEL, 0, 14, 1, 5, E_RANGE},
	{MSG_TUNNEL_DOWN, 0, 6, 1, 0, E_RANGE},
	{MSG_TUNNEL_DOWN, 0, 6, 1, 3, E_RANGE},
	{MSG_TEXT, 0, 10, 1, 0, E_RANGE},
	{MSG_TEXT, 0, 10, 1, 6, E_RANGE},
	/* counts beyond the maximum, in a body whose length is within bounds */
	{MSG_ENDPOINTS, 1, 7, 1, MSG_CAND_MAX + 1, E_RANGE},
	{MSG_TUNNEL, 1, 817, 1, MSG_CAND_MAX + 2, E_RANGE},
	{MSG_SESSION, 1, 103, 1, MSG_DISCO_PORTS_MAX + 1, E_RANGE},
	/* candidates and ports: port 0 and unknown kinds refused */
	{MSG_ENDPOINTS, 1, 12, 2, 0, E_RANGE},
	{MSG_ENDPOINTS, 1, 14, 1, 0, E_RANGE},
	{MSG_ENDPOINTS, 1, 14 + 15 * 7, 1, 4, E_RANGE},
	{MSG_TUNNEL, 1, 818 + 16 * 7 + 4, 2, 0, E_RANGE},
	{MSG_SESSION, 1, 110, 2, 0, E_RANGE},
	/* the probe's padding is all zero; the mac is not the decoder's business */
	{MSG_DISCO_PROBE, 0, 14, 1, 0x80, E_RANGE},
	{MSG_DISCO_PROBE, 0, 21, 1, 0x01, E_RANGE},
	{MSG_DISCO_PROBE, 0, 22, 12, 0, 0},
	/* relay grant: peer, side, relay address and UDP port; no TCP port is fine */
	{MSG_RELAY, 0, 2, 4, 0, E_RANGE},
	{MSG_RELAY, 0, 18, 1, 0, 0},
	{MSG_RELAY, 0, 18, 1, 2, E_RANGE},
	{MSG_RELAY, 0, 19, 4, 0, E_RANGE},
	{MSG_RELAY, 0, 23, 2, 0, E_RANGE},
	{MSG_RELAY, 0, 25, 2, 0, 0},
	/* relay bind: side, identities (distinct), seq, SPI count and SPIs, zero padding */
	{MSG_RELAY_BIND, 0, 14, 1, 2, E_RANGE},
	{MSG_RELAY_BIND, 0, 15, 4, 0, E_RANGE},
	{MSG_RELAY_BIND, 0, 19, 4, 0, E_RANGE},
	{MSG_RELAY_BIND, 0, 22, 1, 0x01, E_RANGE},
	{MSG_RELAY_BIND, 0, 23, 8, 0, E_RANGE},
	{MSG_RELAY_BIND, 0, 31, 1, 0, E_RANGE},
	{MSG_RELAY_BIND, 1, 31, 1, MSG_RELAY_SPIS_MAX + 1, E_RANGE},
	{MSG_RELAY_BIND, 1, 44, 4, 0, E_RANGE},
	{MSG_RELAY_BIND, 0, 36, 1, 0x01, E_RANGE},
	{MSG_RELAY_BIND, 0, 43, 1, 0x80, E_RANGE},
	{MSG_RELAY_BIND, 0, 44, 12, 0, 0},
	/* relay bound: side and peer_bound are flags; any status decodes */
	{MSG_RELAY_BOUND, 0, 10, 1, 2, E_RANGE},
	{MSG_RELAY_BOUND, 0, 19, 2, 0xff, 0},
	{MSG_RELAY_BOUND, 0, 21, 1, 2, E_RANGE},
};

static void
test_app_fields(void)
{
	static uint8_t buf[2048];
	int bad = 0;

	TEST_START("application messages: identities, enumerations, counts, SPIs, probe padding");
	for (size_t i = 0; i < ARRAY_SIZE(patches); i++) {
		const struct patch *t = &patches[i];
		unsigned int ch = 0;
		struct msg m, back;
		size_t len = 0;
		int got;

		for (size_t j = 0; j < ARRAY_SIZE(table); j++)
			ch = table[j].type == t->type ? first_channel(table[j].channels) : ch;
		sample_msg(t->type, t->big, &m);
		if (msg_encode(ch, &m, buf, sizeof(buf), &len) != 0 || t->off + t->n > len) {
			printf("# patch %zu: %s does not encode to %zu bytes\n", i,
			       msg_name(t->type), t->off + t->n);
			bad++;
			continue;
		}
		memset(buf + t->off, t->val, t->n);
		if ((got = msg_decode(ch, buf, len, &back)) != t->want) {
			printf("# patch %zu: %s got %d want %d\n", i, msg_name(t->type), got,
			       t->want);
			bad++;
		}
	}
	ASSERT_INT_EQ(bad, 0);
	TEST_DONE();
}

static void
test_app_encode(void)
{
	static uint8_t buf[2048];
	struct msg m, back;
	size_t len;

	TEST_START("application messages: counts beyond their arrays are refused before reading");
	sample_msg(MSG_ENDPOINTS, 1, &m);
	m.u.endpoints.n = MSG_CAND_MAX + 1;
	ASSERT_INT_EQ(msg_encode(SC2S, &m, buf, sizeof(buf), &len), E_RANGE);
	sample_msg(MSG_TUNNEL, 1, &m);
	m.u.tunnel.n = MSG_CAND_MAX + 2;
	ASSERT_INT_EQ(msg_encode(SS2C, &m, buf, sizeof(buf), &len), E_RANGE);
	sample_msg(MSG_SESSION, 1, &m);
	m.u.session.n_ports = MSG_DISCO_PORTS_MAX + 1;
	ASSERT_INT_EQ(msg_encode(SS2C, &m, buf, sizeof(buf), &len), E_RANGE);
	sample_msg(MSG_RELAY_BIND, 1, &m);
	m.u.relay_bind.n = MSG_RELAY_SPIS_MAX + 1;
	ASSERT_INT_EQ(msg_encode(RC2R, &m, buf, sizeof(buf), &len), E_RANGE);
	TEST_DONE();

	TEST_START("application messages: shared structs carry only their type's fields");
	sample_msg(MSG_TUNNEL_DOWN, 0, &m);
	m.type = MSG_PEER_LOST;
	ASSERT_INT_EQ(msg_encode(SS2C, &m, buf, sizeof(buf), &len), 0);
	ASSERT_INT_EQ(len, 6);
	ASSERT_INT_EQ(msg_decode(SS2C, buf, len, &back), 0);
	ASSERT_INT_EQ(back.u.peer.reason, 0);
	sample_msg(MSG_NET_JOIN, 1, &m);
	m.type = MSG_NET_LEAVE;
	ASSERT_INT_EQ(msg_encode(SC2S, &m, buf, sizeof(buf), &len), 0);
	ASSERT_INT_EQ(len, 72);
	ASSERT_INT_EQ(msg_decode(SC2S, buf, len, &back), 0);
	ASSERT_TRUE(back.u.net_req.pass.p == NULL && back.u.net_req.pass.len == 0);
	sample_msg(MSG_INBOX_ACK, 1, &m);
	ASSERT_INT_EQ(msg_encode(SC2S, &m, buf, sizeof(buf), &len), 0);
	ASSERT_INT_EQ(msg_decode(SC2S, buf, len, &back), 0);
	ASSERT_TRUE(back.u.inbox_ack.upto == UINT64_MAX);
	TEST_DONE();
}

static void
test_field_rules(void)
{
	test_unknown_types();
	test_suite();
	test_dh_values();
	test_signature_lengths();
	test_texts();
	test_borrowed_spans();
	test_no_space();
	test_app_fields();
	test_app_encode();
}

int
main(void)
{
	test_every_type_covered();
	test_round_trips_and_bounds();
	test_channels();
	test_truncation_and_extension();
	test_field_rules();
	return test_finish();
}
