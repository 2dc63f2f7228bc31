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
	ALL = C2S | S2C | SC2S | SS2C | TUN,
};

/* PROTOCOL.md section 8, copied by hand: type, channels, min and max body length. */
static const struct expect {
	uint16_t type;
	unsigned int channels;
	size_t min, max;
} table[] = {
	{MSG_HELO, C2S, 407, 407},     {MSG_HELO_OK, S2C, 386, 386},
	{MSG_AUTH, SC2S, 264, 520},    {MSG_REGISTER, SC2S, 267, 1514},
	{MSG_AUTH_OK, SS2C, 264, 520}, {MSG_ERROR, C2S | S2C | SC2S | SS2C, 6, 1030},
	{MSG_RESULT, SS2C, 10, 1034},  {MSG_PING, SC2S | SS2C, 6, 6},
	{MSG_PONG, SC2S | SS2C, 6, 6}, {MSG_KE1, TUN, 386, 386},
	{MSG_KE2, TUN, 644, 900},      {MSG_KE3, TUN, 644, 900},
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
