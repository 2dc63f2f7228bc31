/* SPDX-License-Identifier: MIT */
/* Anti-replay: a numbered table of (message ID, expected verdict) rows, then the window
 * checked against a dumb model (a set of every ID seen) on random sequences. */
#include "common/err.h"
#include "common/replay.h"
#include "test.h"

TEST_DEFINE_STATE;

enum { W = WIRE_REPLAY_WINDOW };

struct row {
	uint32_t id;
	int want;
};

/* Each row is checked, and recorded when accepted, in order. */
static const struct row rows[] = {
	/* 1 */ {0, E_MSGID},
	/* 2 */ {1, 0},
	/* 3 */ {1, E_REPLAY},
	/* 4 */ {3, 0},
	/* 5 */ {2, 0}, /* reordered */
	/* 6 */ {2, E_REPLAY},
	/* 7 */ {3, E_REPLAY},
	/* 8 */ {W, 0},	       /* top = W: ID 1 is at the far edge */
	/* 9 */ {1, E_REPLAY}, /* still inside, already seen */
	/* 10 */ {4, 0},       /* inside, unseen */
	/* 11 */ {W + 1, 0},   /* top = W + 1: ID 1 falls out */
	/* 12 */ {1, E_TOOOLD},
	/* 13 */ {2, E_REPLAY}, /* top - 2 = W - 1: the last slot inside */
	/* 14 */ {5, 0},
	/* 15 */ {2 * W + 1, 0}, /* a jump of exactly the window */
	/* 16 */ {W + 1, E_TOOOLD},
	/* 17 */ {W + 2, 0}, /* unseen, inside: its word was cleared, not left stale */
	/* 18 */ {W + 2, E_REPLAY},
	/* 19 */ {0x7fffffff, 0}, /* a huge jump clears everything */
	/* 20 */ {2 * W + 1, E_TOOOLD},
	/* 21 */ {0x7fffffff - (W - 1), 0},
	/* 22 */ {0x7fffffff - W, E_TOOOLD},
	/* 23 */ {0x7ffffffe, 0},
	/* 24 */ {0xffffffff, 0},
	/* 25 */ {0xffffffff, E_REPLAY},
	/* 26 */ {0xfffffffe, 0},
	/* 27 */ {0x7fffffff, E_TOOOLD},
	/* 28 */ {0, E_MSGID},
};

static void
test_table(void)
{
	struct replay w;

	TEST_START("replay window: numbered table of IDs and verdicts");
	replay_init(&w);
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		int got = replay_check(&w, rows[i].id);

		if (got != rows[i].want)
			printf("# row %zu: id %u\n", i + 1, rows[i].id);
		ASSERT_INT_EQ(got, rows[i].want);
		if (got == 0)
			replay_update(&w, rows[i].id);
	}
	TEST_DONE();
}

enum { MODEL_IDS = 1 << 24 };

/* Verdict of the model: the same rule, stated directly. */
static int
model_check(const uint8_t *seen, uint32_t top, uint32_t id)
{
	if (id == 0)
		return E_MSGID;
	if (id > top)
		return 0;
	if (top - id >= W)
		return E_TOOOLD;
	return seen[id] ? E_REPLAY : 0;
}

static void
test_against_model(void)
{
	static uint8_t seen[MODEL_IDS];
	uint64_t x = 88172645463325252ull;
	struct replay w;
	uint32_t top = 0, id = 1;
	long ops = 0, disagreements = 0, accepted = 0;

	TEST_START("replay window agrees with a set-of-seen-IDs model on 400000 random IDs");
	replay_init(&w);
	while (ops < 400000) {
		int got, want;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		/* Mostly near the top, sometimes near the window edge, sometimes far ahead. */
		switch (x % 8) {
		case 0: /* ahead, now and then by more than the window */
			id = top + 1 + (uint32_t)(x >> 40) % ((x >> 20) % 64 == 0 ? 3000 : 100);
			break;
		case 1:
			id = top > W + 70 ? top - W - 64 + (uint32_t)(x >> 40) % 128 : 1;
			break;
		default:
			id = top > 100 ? top - 100 + (uint32_t)(x >> 40) % 140
				       : (uint32_t)(x >> 40) % 140;
		}
		if (id >= MODEL_IDS)
			break;
		got = replay_check(&w, id);
		want = model_check(seen, top, id);
		disagreements += got != want;
		if (got == 0) {
			replay_update(&w, id);
			seen[id] = 1;
			top = id > top ? id : top;
			accepted++;
		}
		ops++;
	}
	printf("# %ld IDs, %ld accepted, top %u\n", ops, accepted, top);
	ASSERT_INT_EQ(disagreements, 0);
	ASSERT_TRUE(ops > 100000);
	TEST_DONE();
}

static void
test_stream_and_sender(void)
{
	uint32_t last = 0, counter, id = 0;

	TEST_START("TCP: exactly previous + 1, from 1");
	ASSERT_INT_EQ(replay_stream_accept(&last, 2), E_MSGID);
	ASSERT_INT_EQ(replay_stream_accept(&last, 0), E_MSGID);
	ASSERT_INT_EQ(replay_stream_accept(&last, 1), 0);
	ASSERT_INT_EQ(replay_stream_accept(&last, 1), E_MSGID);
	ASSERT_INT_EQ(replay_stream_accept(&last, 2), 0);
	ASSERT_INT_EQ(replay_stream_accept(&last, 4), E_MSGID);
	ASSERT_INT_EQ(last, 2);
	last = 0xfffffffe;
	ASSERT_INT_EQ(replay_stream_accept(&last, 0xffffffff), 0);
	ASSERT_INT_EQ(replay_stream_accept(&last, 0), E_MSGID); /* no wrap */
	TEST_DONE();

	TEST_START("sender: IDs 1, 2, ... and E_EXHAUSTED after 0xffffffff");
	counter = 0;
	ASSERT_INT_EQ(msgid_next(&counter, &id), 0);
	ASSERT_INT_EQ(id, 1);
	ASSERT_INT_EQ(msgid_next(&counter, &id), 0);
	ASSERT_INT_EQ(id, 2);
	counter = 0xfffffffe;
	ASSERT_INT_EQ(msgid_next(&counter, &id), 0);
	ASSERT_INT_EQ(id, 0xffffffff);
	ASSERT_INT_EQ(msgid_next(&counter, &id), E_EXHAUSTED);
	ASSERT_INT_EQ(id, 0xffffffff);
	TEST_DONE();
}

int
main(void)
{
	test_table();
	test_against_model();
	test_stream_and_sender();
	return test_finish();
}
