/* SPDX-License-Identifier: MIT */
/*
 * A fixed pool of worker threads for the mediator's expensive public-key work (DH, RSA sign
 * and verify, password hashing), so the single-threaded event loop never stalls on it.
 *
 * The loop thread submits jobs; a worker runs job->run() with its own struct crypto; the
 * finished job goes on a completion list and the pool's eventfd becomes readable; the loop
 * then calls pool_reap(), which calls job->done() on the loop thread. The queue is bounded:
 * when max_queued jobs wait or run, pool_submit() says E_BUSY and the caller refuses the
 * request (anti-pattern 12: no unbounded queue fed by the network).
 *
 * Threads: pool_new, pool_free, pool_submit, pool_pending and pool_reap are for one thread
 * only, the loop thread; they are not safe to call from run() or from any other thread.
 * done() may call pool_submit() (to chain a second step), never pool_free().
 */
#ifndef BURI_MED_POOL_H
#define BURI_MED_POOL_H

#include "common/util.h"

struct crypto; /* common/crypto.h: per-thread OpenSSL context */
struct pool;

struct pool_job {
	/* Runs on a worker thread with that thread's own struct crypto. Must not touch the
	 * event loop's state. */
	void (*run)(struct pool_job *job, struct crypto *c);
	/* Runs on the loop thread, from pool_reap() after run() finished, or from pool_free()
	 * whether or not run() ran. done() cannot tell which by itself: an owner that cares
	 * sets its result to "not run" (e.g. E_SHUTDOWN) before pool_submit(). done() may free
	 * the job. */
	void (*done)(struct pool_job *job);
	struct pool_job *next; /* the pool's */
};

/* A pool of threads workers (each with its own struct crypto) that accepts at most
 * max_queued jobs waiting or running at once. NULL on failure, or if either is 0. */
struct pool *pool_new(unsigned int threads, unsigned int max_queued);
/* Stops and joins the threads (a run() in progress finishes first), then calls done() for
 * every job still held, finished ones first in completion order, then those never started,
 * which are not run. Frees p (NULL is fine). */
void pool_free(struct pool *p);
/* An eventfd (non-blocking, close-on-exec), readable while finished jobs wait for
 * pool_reap(). Borrowed: valid until pool_free(). */
int pool_fd(const struct pool *p);
/* Queues job. 0, or E_BUSY when max_queued jobs are already waiting or running (jobs
 * finished but not yet reaped do not count). The caller keeps ownership of job, which must
 * stay valid and untouched until its done() is called. */
int pool_submit(struct pool *p, struct pool_job *job) WARN_UNUSED;
/* Jobs submitted whose done() has not been called yet. */
unsigned int pool_pending(const struct pool *p);
/* Calls done() for every finished job, in completion order, and drains pool_fd(). Returns
 * how many. Jobs that finish while it runs are left for the next call (pool_fd() is
 * readable again). */
unsigned int pool_reap(struct pool *p);

#endif
