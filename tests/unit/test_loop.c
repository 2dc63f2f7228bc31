/* SPDX-License-Identifier: MIT */
/* The control process's event loop: timers against a model under random arming, re-arming
 * and cancelling; fd callbacks; an fd removed by another fd's callback in the same turn. */
#include <stdbool.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "common/err.h"
#include "control/loop.h"
#include "test.h"

TEST_DEFINE_STATE;

enum { NT = 200 };

static struct loop *L;
static struct loop_timer tm[NT];
static uint64_t want_at[NT]; /* 0: not armed in the model */
static uint64_t fired_at[NT], order_bad, late, early;
static unsigned nfired;
static uint64_t last_due;

static void
on_timer(void *arg)
{
	unsigned i = (unsigned)(uintptr_t)arg;
	uint64_t now = loop_now(L);

	if (want_at[i] == 0 || tm[i].idx != 0) {
		order_bad++; /* fired while cancelled, or still armed in its own callback */
		return;
	}
	early += now < want_at[i];
	late += now > want_at[i] + 200;
	order_bad += want_at[i] < last_due;
	last_due = want_at[i];
	want_at[i] = 0;
	fired_at[i] = now;
	nfired++;
}

static void
test_timers(void)
{
	uint64_t s = 0x9e3779b97f4a7c15ull, t0;
	unsigned armed = 0;

	TEST_START("timers fire once, in order, never early, never when cancelled");
	L = loop_new();
	ASSERT_TRUE(L != NULL);
	t0 = loop_now(L);
	for (unsigned i = 0; i < NT; i++)
		loop_timer_init(&tm[i], on_timer, (void *)(uintptr_t)i);
	for (unsigned k = 0; k < 3000; k++) {
		unsigned i;

		s ^= s << 13, s ^= s >> 7, s ^= s << 17;
		i = (unsigned)(s % NT);
		if (s % 5 == 0) {
			loop_timer_cancel(L, &tm[i]);
			want_at[i] = 0;
		} else {
			want_at[i] = t0 + 20 + (s >> 20) % 300;
			loop_timer_at(L, &tm[i], want_at[i]);
		}
		ASSERT_TRUE(loop_timer_armed(&tm[i]) == (want_at[i] != 0));
	}
	for (unsigned i = 0; i < NT; i++)
		armed += want_at[i] != 0;
	while (nfired < armed && loop_now(L) < t0 + 3000)
		ASSERT_INT_EQ(loop_run_once(L, 100), 0);
	ASSERT_INT_EQ(nfired, armed);
	ASSERT_INT_EQ(order_bad, 0);
	ASSERT_INT_EQ(early, 0);
	ASSERT_TRUE(late < 5); /* a loaded machine may delay a few */
	for (unsigned i = 0; i < NT; i++)
		ASSERT_TRUE(!loop_timer_armed(&tm[i]));
	TEST_DONE();
}

static int pfd[2][2];
static unsigned reads[2];

static void
on_fd(void *arg, uint32_t ev)
{
	unsigned i = (unsigned)(uintptr_t)arg;
	char c;

	if (ev & EPOLLIN) {
		ASSERT_INT_EQ(read(pfd[i][0], &c, 1), 1);
		reads[i]++;
		loop_fd_del(L, pfd[1 - i][0]); /* the other one must not run this turn */
	}
}

static struct loop_timer rearm;
static unsigned rearms;

static void
on_rearm(void *arg)
{
	(void)arg;
	if (++rearms < 5)
		loop_timer_in(L, &rearm, 0);
}

static void
test_fds(void)
{
	TEST_START("fd callbacks; an fd removed during the turn is skipped; EXISTS; re-arm in "
		   "callback");
	for (unsigned i = 0; i < 2; i++) {
		ASSERT_INT_EQ(pipe(pfd[i]), 0);
		ASSERT_INT_EQ(loop_fd_add(L, pfd[i][0], EPOLLIN, on_fd, (void *)(uintptr_t)i), 0);
		ASSERT_INT_EQ(write(pfd[i][1], "x", 1), 1);
	}
	ASSERT_INT_EQ(loop_fd_add(L, pfd[0][0], EPOLLIN, on_fd, NULL), E_EXISTS);
	ASSERT_INT_EQ(loop_run_once(L, 100), 0);
	ASSERT_INT_EQ(reads[0] + reads[1], 1);
	ASSERT_INT_EQ(loop_fd_mod(L, pfd[0][0], EPOLLIN) == 0 ||
			      loop_fd_mod(L, pfd[1][0], EPOLLIN) == 0,
		      1);
	loop_timer_init(&rearm, on_rearm, NULL);
	loop_timer_in(L, &rearm, 0);
	for (unsigned k = 0; k < 10; k++)
		ASSERT_INT_EQ(loop_run_once(L, 10), 0);
	ASSERT_INT_EQ(rearms, 5);
	for (unsigned i = 0; i < 2; i++) {
		loop_fd_del(L, pfd[i][0]);
		close(pfd[i][0]);
		close(pfd[i][1]);
	}
	loop_free(L);
	TEST_DONE();
}

int
main(void)
{
	test_timers();
	test_fds();
	return test_finish();
}
