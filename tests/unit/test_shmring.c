/* SPDX-License-Identifier: MIT */
/*
 * The shared-memory SPSC ring (common/shmring.h): FIFO order, full and empty, wrap-around;
 * release_wipe leaving no consumed bytes behind; then two processes on a MAP_SHARED mapping
 * with the producer, and then the consumer, killed with SIGKILL at random moments and
 * restarted: no message is lost or torn, the ring never wedges, and a consumer's death
 * delivers at most one message twice. Also pins the sizes of the dpif.h messages both
 * processes compile.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/dpif.h"
#include "common/err.h"
#include "common/shmring.h"
#include "test.h"

TEST_DEFINE_STATE;

enum { SLOT = 64, SIZE = 16, KILLS = 20, TOTAL = 200000 };

/* A message whose every byte follows from its index, so a torn one shows. */
static void
fill(uint8_t *m, uint64_t idx)
{
	for (size_t i = 0; i < SLOT; i++)
		m[i] = (uint8_t)(idx * 31 + i * 7 + (idx >> 8));
	memcpy(m, &idx, sizeof(idx));
}

static int
intact(const uint8_t *m, uint64_t *idx)
{
	uint8_t want[SLOT];

	memcpy(idx, m, sizeof(*idx));
	fill(want, *idx);
	return memcmp(m, want, SLOT) == 0;
}

static void
test_basic(void)
{
	static _Alignas(64) uint8_t mem[sizeof(struct shmring) + SIZE * SLOT];
	struct shmring *r = (struct shmring *)mem;
	uint8_t m[SLOT], out[SLOT];
	uint64_t idx, next = 0;
	int order_ok = 1;

	TEST_START("push/pop: FIFO, full, empty, wrap-around, bad parameters");
	ASSERT_INT_EQ(shmring_init(mem, 3, SLOT), E_INVAL);
	ASSERT_INT_EQ(shmring_init(mem, SIZE, 12), E_INVAL);
	ASSERT_INT_EQ(shmring_init(mem, SIZE, SLOT), 0);
	ASSERT_INT_EQ(shmring_check(mem, sizeof(mem), SIZE, SLOT), 0);
	ASSERT_INT_EQ(shmring_check(mem, sizeof(mem), SIZE * 2, SLOT), E_INVAL);
	ASSERT_INT_EQ(shmring_pop(r, out), E_NOTFOUND);
	for (uint64_t i = 0; i < SIZE; i++) {
		fill(m, i);
		ASSERT_INT_EQ(shmring_push(r, m), 0);
	}
	ASSERT_INT_EQ(shmring_push(r, m), E_NOSPACE);
	ASSERT_INT_EQ(shmring_count(r), SIZE);
	for (uint64_t i = SIZE; i < 10 * SIZE + 3; i++) { /* many laps */
		if (shmring_pop(r, out) != 0 || !intact(out, &idx) || idx != next++)
			order_ok = 0;
		fill(m, i);
		if (shmring_push(r, m) != 0)
			order_ok = 0;
	}
	ASSERT_TRUE(order_ok);
	r->head = r->tail + SIZE + 1; /* a corrupt producer counter */
	ASSERT_INT_EQ(shmring_pop(r, out), E_RANGE);
	TEST_DONE();
}

static void
test_release_wipe(void)
{
	static _Alignas(64) uint8_t mem[sizeof(struct shmring) + SIZE * SLOT];
	static const uint8_t zero[SLOT];
	struct shmring *r = (struct shmring *)mem;
	uint8_t m[SLOT], out[SLOT], want[SLOT];
	uint64_t idx;
	int wiped_ok = 1, kept_ok = 1, order_ok = 1;

	TEST_START("release_wipe zeroes exactly the consumed slot, over several laps");
	ASSERT_INT_EQ(shmring_init(mem, SIZE, SLOT), 0);
	fill(m, 0);
	ASSERT_INT_EQ(shmring_push(r, m), 0);
	ASSERT_INT_EQ(shmring_peek(r, out), 0);
	shmring_release(r); /* the plain release leaves the bytes: what release_wipe fixes */
	ASSERT_MEM_EQ(r->slots, m, SLOT);
	for (uint64_t i = 1; i < 3 * SIZE + 5; i += 2) { /* two messages a turn */
		size_t slot = (size_t)(i & (SIZE - 1)) * SLOT;
		size_t next = (size_t)((i + 1) & (SIZE - 1)) * SLOT;

		fill(m, i);
		if (shmring_push(r, m) != 0)
			order_ok = 0;
		fill(m, i + 1);
		if (shmring_push(r, m) != 0)
			order_ok = 0;
		if (shmring_peek(r, out) != 0 || !intact(out, &idx) || idx != i)
			order_ok = 0;
		shmring_release_wipe(r);
		if (memcmp(r->slots + slot, zero, SLOT) != 0)
			wiped_ok = 0;
		fill(want, i + 1); /* the next message, still unconsumed, is untouched */
		if (memcmp(r->slots + next, want, SLOT) != 0)
			kept_ok = 0;
		if (shmring_peek(r, out) != 0 || !intact(out, &idx) || idx != i + 1)
			order_ok = 0;
		shmring_release_wipe(r);
		if (memcmp(r->slots + next, zero, SLOT) != 0)
			wiped_ok = 0;
	}
	ASSERT_TRUE(wiped_ok);
	ASSERT_TRUE(kept_ok);
	ASSERT_TRUE(order_ok);
	ASSERT_INT_EQ(shmring_count(r), 0);
	ASSERT_INT_EQ(shmring_check(mem, sizeof(mem), SIZE, SLOT), 0);
	TEST_DONE();
}

/* Child: pushes messages TOTAL times from wherever the ring's head is; never returns. */
static void
producer(struct shmring *r)
{
	uint8_t m[SLOT];

	for (;;) {
		uint64_t idx = __atomic_load_n(&r->head, __ATOMIC_RELAXED);

		if (idx >= TOTAL)
			_exit(0);
		fill(m, idx);
		while (shmring_push(r, m) == E_NOSPACE)
			;
	}
}

static void
sleep_us(long us)
{
	struct timespec ts = {0, us * 1000};

	nanosleep(&ts, NULL);
}

static void
test_producer_killed(void)
{
	size_t len = shmring_bytes(SIZE, SLOT);
	struct shmring *r =
		mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	uint64_t next = 0, idx;
	uint8_t out[SLOT];
	int kills = 0, torn = 0, order = 0;
	pid_t pid;

	TEST_START("producer killed -9 20 times mid-stream: nothing torn, lost or doubled");
	ASSERT_TRUE(r != MAP_FAILED);
	ASSERT_INT_EQ(shmring_init(r, SIZE, SLOT), 0);
	srand(11);
	while (next < TOTAL) {
		if ((pid = fork()) == 0)
			producer(r);
		for (int spins = rand() % 4000; next < TOTAL; spins--) {
			if (shmring_pop(r, out) == 0) {
				torn += !intact(out, &idx);
				order += idx != next;
				next = idx + 1;
			}
			if (spins <= 0 && kills < KILLS)
				break;
		}
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		kills++;
		sleep_us(rand() % 200);
	}
	ASSERT_INT_EQ(torn, 0);
	ASSERT_INT_EQ(order, 0);
	ASSERT_TRUE(kills >= KILLS);
	ASSERT_INT_EQ(next, TOTAL);
	munmap(r, len);
	TEST_DONE();
}

/* Shared with the consumer children: the last index each fully handled. */
struct seen {
	uint64_t last; /* index of the last message popped, +1 (0: none) */
	uint64_t torn;
	uint64_t repeats; /* messages seen again after a consumer died */
	uint64_t gaps;
};

static void
consumer(struct shmring *r, struct seen *s)
{
	uint8_t out[SLOT];
	uint64_t idx;

	for (;;) {
		if (shmring_peek(r, out) != 0)
			continue;
		if (!intact(out, &idx))
			s->torn++;
		else if (idx + 1 == s->last)
			s->repeats++; /* the predecessor died between copy and record */
		else if (idx != s->last)
			s->gaps++;
		s->last = idx + 1; /* acted on it: only now release it */
		shmring_release(r);
		if (s->last == TOTAL)
			_exit(0);
	}
}

static void
test_consumer_killed(void)
{
	size_t len = shmring_bytes(SIZE, SLOT) + sizeof(struct seen);
	uint8_t *mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct shmring *r = (struct shmring *)mem;
	struct seen *s = (struct seen *)(mem + shmring_bytes(SIZE, SLOT));
	uint8_t m[SLOT];
	int kills = 0, status = 0;
	uint64_t i = 0;
	pid_t pid = -1;

	TEST_START("consumer (peek, act, release) killed -9 20 times: no loss, <= 1 repeat each");
	ASSERT_TRUE(mem != MAP_FAILED);
	ASSERT_INT_EQ(shmring_init(r, SIZE, SLOT), 0);
	srand(12);
	while (i < TOTAL) {
		if (pid < 0 && (pid = fork()) == 0)
			consumer(r, s);
		fill(m, i);
		if (shmring_push(r, m) == 0)
			i++;
		if (kills < KILLS && rand() % 5000 == 0) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			kills++;
			pid = -1;
		}
	}
	if (pid < 0 && (pid = fork()) == 0)
		consumer(r, s);
	waitpid(pid, &status, 0);
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_INT_EQ(s->torn, 0);
	ASSERT_INT_EQ(s->gaps, 0);
	ASSERT_TRUE(s->repeats <= (uint64_t)kills);
	ASSERT_INT_EQ(s->last, TOTAL);
	ASSERT_TRUE(kills >= 1);
	munmap(mem, len);
	TEST_DONE();
}

static void
test_dpif_abi(void)
{
	TEST_START("dpif.h: message sizes and offsets both processes rely on");
	ASSERT_INT_EQ(sizeof(struct dpif_msg), 256);
	ASSERT_INT_EQ(offsetof(struct dpif_msg, u), 32);
	ASSERT_INT_EQ(sizeof(struct dpif_sa), 136);
	ASSERT_INT_EQ(offsetof(struct dpif_sa, net_mask), 24);
	ASSERT_INT_EQ(offsetof(struct dpif_sa, in_ke), 32);
	ASSERT_INT_EQ(offsetof(struct dpif_sa, out_ka), 116);
	ASSERT_INT_EQ(sizeof(struct dpif_shm), 64);
	ASSERT_INT_EQ(DPIF_MSG_SIZE % 8, 0);
	TEST_DONE();
}

int
main(void)
{
	test_basic();
	test_release_wipe();
	test_producer_killed();
	test_consumer_killed();
	test_dpif_abi();
	return test_finish();
}
