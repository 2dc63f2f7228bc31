/* SPDX-License-Identifier: MIT */
/* The mediator's worker pool: every job runs once and is reaped once on the loop thread, the
 * bound holds, the eventfd signals completions, and pool_free() hands back unstarted jobs. */
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>
#include <unistd.h>

#include "common/crypto.h"
#include "common/err.h"
#include "mediator/pool.h"
#include "test.h"

TEST_DEFINE_STATE;

enum { MANY = 2000 };

struct job {
	struct pool_job pj; /* first, so the callbacks can cast back */
	unsigned int id;
	unsigned int sleep_ms; /* run() sleeps this long, to hold a worker */
	atomic_bool ran;
	pthread_t run_tid;
	struct crypto *run_crypto;
	int sha_ok;
	unsigned int done_calls;
	bool done_on_loop;
	struct pool *resubmit; /* done() submits chained_job here once */
};

static pthread_t loop_tid;
static atomic_uint runs, started;
static unsigned int dones;
static unsigned int done_order[MANY];
static struct job chained_job;

static void
nap(unsigned int ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static void
job_run(struct pool_job *pj, struct crypto *c)
{
	struct job *j = (struct job *)pj;
	uint8_t d[CRYPTO_SHA1_LEN];

	atomic_fetch_add(&started, 1);
	if (j->sleep_ms > 0)
		nap(j->sleep_ms);
	j->run_tid = pthread_self();
	j->run_crypto = c;
	/* The worker's context must work, not merely be non-NULL. */
	j->sha_ok = c != NULL && crypto_sha1(c, (const uint8_t *)"abc", 3, d) == 0 && d[0] == 0xa9;
	atomic_store(&j->ran, true);
	atomic_fetch_add(&runs, 1);
}

static void
job_done(struct pool_job *pj)
{
	struct job *j = (struct job *)pj;

	j->done_calls++;
	j->done_on_loop = pthread_equal(pthread_self(), loop_tid);
	if (dones < MANY)
		done_order[dones] = j->id;
	dones++;
	if (j->resubmit != NULL && pool_submit(j->resubmit, &chained_job.pj) != 0)
		printf("# chained submit failed\n");
}

static void
job_init(struct job *j, unsigned int id, unsigned int sleep_ms)
{
	memset(j, 0, sizeof(*j));
	j->pj.run = job_run;
	j->pj.done = job_done;
	j->id = id;
	j->sleep_ms = sleep_ms;
}

static void
reset_counters(void)
{
	atomic_store(&runs, 0);
	atomic_store(&started, 0);
	dones = 0;
}

static bool
readable(int fd, int timeout_ms)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};

	return poll(&pfd, 1, timeout_ms) == 1 && (pfd.revents & POLLIN) != 0;
}

/* Spins (briefly sleeping) until *v reaches want; false after about 10 s. */
static bool
wait_count(atomic_uint *v, unsigned int want)
{
	for (int i = 0; i < 10000; i++) {
		if (atomic_load(v) >= want)
			return true;
		nap(1);
	}
	return false;
}

static void
test_bad_args(void)
{
	TEST_START("pool_new refuses 0 threads or 0 queue slots; pool_free(NULL) is fine");
	ASSERT_TRUE(pool_new(0, 8) == NULL);
	ASSERT_TRUE(pool_new(2, 0) == NULL);
	pool_free(NULL);
	TEST_DONE();
}

/* Each worker thread has one struct crypto and no other thread uses it. */
static bool
crypto_per_thread(const struct job *jobs, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		for (unsigned int k = i + 1; k < n; k++)
			if ((jobs[i].run_crypto == jobs[k].run_crypto) !=
			    pthread_equal(jobs[i].run_tid, jobs[k].run_tid))
				return false;
	return true;
}

static void
check_many(const struct job *jobs, unsigned int n)
{
	unsigned int bad_done = 0, bad_run = 0;

	for (unsigned int i = 0; i < n; i++) {
		if (jobs[i].done_calls != 1 || !jobs[i].done_on_loop)
			bad_done++;
		if (!atomic_load(&jobs[i].ran) || !jobs[i].sha_ok ||
		    pthread_equal(jobs[i].run_tid, loop_tid))
			bad_run++;
	}
	ASSERT_INT_EQ(bad_done, 0);
	ASSERT_INT_EQ(bad_run, 0);
	ASSERT_TRUE(crypto_per_thread(jobs, n));
}

static void
test_many(void)
{
	static struct job jobs[MANY];
	struct pool *p = pool_new(4, 64);
	unsigned int next = 0, busy = 0, reaped = 0, loops = 0;

	reset_counters();
	TEST_START("2000 jobs through 4 threads and 64 slots: each run once, done once on loop");
	ASSERT_TRUE(p != NULL);
	if (p == NULL)
		goto out;
	for (unsigned int i = 0; i < MANY; i++)
		job_init(&jobs[i], i, 0);
	while (reaped < MANY && loops++ < 100000) {
		int r = 0;

		while (next < MANY && (r = pool_submit(p, &jobs[next].pj)) == 0)
			next++;
		if (r == E_BUSY)
			busy++;
		else if (r != 0)
			ASSERT_INT_EQ(r, 0);
		if (!readable(pool_fd(p), 5000))
			break;
		reaped += pool_reap(p);
	}
	ASSERT_INT_EQ(reaped, MANY);
	ASSERT_INT_EQ(atomic_load(&runs), MANY);
	ASSERT_INT_EQ(dones, MANY);
	ASSERT_INT_EQ(pool_pending(p), 0);
	ASSERT_TRUE(busy > 0); /* 2000 submits into 64 slots must hit the bound */
	check_many(jobs, MANY);
	ASSERT_TRUE(!readable(pool_fd(p), 0));
out:
	pool_free(p);
	TEST_DONE();
}

static void
test_busy_and_fd(void)
{
	struct job hold, q[3];
	struct pool *p = pool_new(1, 3);
	uint64_t efd_count = 0;
	unsigned int n = 0;

	reset_counters();
	TEST_START("E_BUSY at max_queued (waiting + running); eventfd readable once per batch");
	ASSERT_TRUE(p != NULL);
	if (p == NULL)
		goto out;
	ASSERT_TRUE(!readable(pool_fd(p), 0));
	ASSERT_INT_EQ(pool_reap(p), 0);
	job_init(&hold, 100, 300);
	ASSERT_INT_EQ(pool_submit(p, &hold.pj), 0);
	ASSERT_TRUE(wait_count(&started, 1));
	for (unsigned int i = 0; i < 2; i++) {
		job_init(&q[i], 101 + i, 0);
		ASSERT_INT_EQ(pool_submit(p, &q[i].pj), 0);
	}
	job_init(&q[2], 103, 0);
	ASSERT_INT_EQ(pool_submit(p, &q[2].pj), E_BUSY);
	ASSERT_INT_EQ(pool_pending(p), 3);
	ASSERT_TRUE(!readable(pool_fd(p), 0));
	/* All three finish before the loop looks: one batch, so one eventfd write. Reading the
	 * counter here takes the wakeup away from pool_reap(), which must still find the jobs. */
	ASSERT_TRUE(wait_count(&runs, 3));
	ASSERT_TRUE(readable(pool_fd(p), 5000));
	ASSERT_INT_EQ(read(pool_fd(p), &efd_count, sizeof(efd_count)), sizeof(efd_count));
	ASSERT_INT_EQ(efd_count, 1);
	for (int k = 0; k < 500 && n < 3; k++) {
		n += pool_reap(p);
		if (n < 3)
			nap(10);
	}
	ASSERT_INT_EQ(n, 3);
	ASSERT_INT_EQ(done_order[0], 100);
	ASSERT_INT_EQ(done_order[1], 101);
	ASSERT_INT_EQ(done_order[2], 102);
	ASSERT_TRUE(!readable(pool_fd(p), 0));
	ASSERT_INT_EQ(pool_pending(p), 0);
	ASSERT_INT_EQ(pool_submit(p, &q[2].pj), 0);
	ASSERT_TRUE(readable(pool_fd(p), 5000));
	ASSERT_INT_EQ(pool_reap(p), 1);
	ASSERT_INT_EQ(q[2].done_calls, 1);
out:
	pool_free(p);
	TEST_DONE();
}

static void
test_chain(void)
{
	struct job first;
	struct pool *p = pool_new(2, 4);
	unsigned int n = 0;

	reset_counters();
	TEST_START("done() may submit a follow-up job");
	ASSERT_TRUE(p != NULL);
	if (p == NULL)
		goto out;
	job_init(&first, 1, 0);
	job_init(&chained_job, 2, 0);
	first.resubmit = p;
	ASSERT_INT_EQ(pool_submit(p, &first.pj), 0);
	for (int i = 0; i < 10 && n < 2; i++)
		if (readable(pool_fd(p), 1000))
			n += pool_reap(p);
	ASSERT_INT_EQ(n, 2);
	ASSERT_INT_EQ(chained_job.done_calls, 1);
	ASSERT_TRUE(atomic_load(&chained_job.ran));
	ASSERT_INT_EQ(pool_pending(p), 0);
out:
	pool_free(p);
	TEST_DONE();
}

static void
test_free_with_jobs(void)
{
	struct job j[7];
	struct pool *p = pool_new(1, 8);
	unsigned int i;

	reset_counters();
	TEST_START("pool_free: finished jobs, the running one, and unstarted ones all get done()");
	ASSERT_TRUE(p != NULL);
	if (p == NULL)
		goto out;
	for (i = 0; i < 7; i++)
		job_init(&j[i], i, i == 2 ? 300 : 0);
	/* 0 and 1 finish and are never reaped. */
	ASSERT_INT_EQ(pool_submit(p, &j[0].pj), 0);
	ASSERT_INT_EQ(pool_submit(p, &j[1].pj), 0);
	ASSERT_TRUE(wait_count(&runs, 2));
	/* 2 holds the only worker while pool_free() stops the pool; 3..6 never start. */
	for (i = 2; i < 7; i++)
		ASSERT_INT_EQ(pool_submit(p, &j[i].pj), 0);
	ASSERT_TRUE(wait_count(&started, 3));
	ASSERT_INT_EQ(pool_pending(p), 7);
	pool_free(p);
	ASSERT_INT_EQ(dones, 7);
	for (i = 0; i < 7; i++) {
		ASSERT_INT_EQ(done_order[i], i);
		ASSERT_INT_EQ(j[i].done_calls, 1);
		ASSERT_TRUE(j[i].done_on_loop);
		ASSERT_INT_EQ(atomic_load(&j[i].ran), i < 3);
	}
out:
	TEST_DONE();
}

int
main(void)
{
	loop_tid = pthread_self();
	test_bad_args();
	test_many();
	test_busy_and_fd();
	test_chain();
	test_free_with_jobs();
	return test_finish();
}
