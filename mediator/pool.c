/* SPDX-License-Identifier: MIT */
#include "mediator/pool.h"

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "common/crypto.h"
#include "common/err.h"

struct worker {
	struct pool *pool;
	struct crypto *crypto; /* this thread's only; freed by pool_free() after the join */
	pthread_t tid;
	bool started;
};

/* A FIFO of jobs linked through pool_job.next. */
struct jobq {
	struct pool_job *head;
	struct pool_job *tail;
};

/*
 * Locking: everything in the first group is under lock. The eventfd's counter is nonzero
 * exactly when finished is not empty: workers write it when they make the list non-empty
 * and pool_reap() drains it when it takes the list, both under lock, so a completion can
 * never be taken without its wakeup being consumed or the other way round.
 */
struct pool {
	pthread_mutex_t lock;
	pthread_cond_t wake;  /* todo gained a job, or stopping was set */
	struct jobq todo;     /* submitted, not started */
	struct jobq finished; /* run() returned, done() not called yet */
	unsigned int busy;    /* jobs in todo or in a worker's hands */
	bool stopping;

	unsigned int pending; /* loop thread only: submitted, done() not called */

	unsigned int max_queued;
	unsigned int nworkers;
	int efd;
	struct worker workers[];
};

static void
jobq_push(struct jobq *q, struct pool_job *job)
{
	job->next = NULL;
	if (q->tail != NULL)
		q->tail->next = job;
	else
		q->head = job;
	q->tail = job;
}

static struct pool_job *
jobq_pop(struct jobq *q)
{
	struct pool_job *job = q->head;

	if (job != NULL && (q->head = job->next) == NULL)
		q->tail = NULL;
	return job;
}

/* Empties q and returns its former contents as a NULL-terminated list. */
static struct pool_job *
jobq_take_all(struct jobq *q)
{
	struct pool_job *list = q->head;

	q->head = q->tail = NULL;
	return list;
}

/* The next job to run, or NULL once the pool is stopping (queued jobs are then left). */
static struct pool_job *
take(struct pool *p)
{
	struct pool_job *job = NULL;

	pthread_mutex_lock(&p->lock);
	while (!p->stopping && p->todo.head == NULL)
		pthread_cond_wait(&p->wake, &p->lock);
	if (!p->stopping)
		job = jobq_pop(&p->todo);
	pthread_mutex_unlock(&p->lock);
	return job;
}

static void
finish(struct pool *p, struct pool_job *job)
{
	pthread_mutex_lock(&p->lock);
	/* One write per batch: only the completion that makes the list non-empty wakes the
	 * loop; later ones ride along until pool_reap() takes the list. The write cannot fail:
	 * the counter is at most 1. */
	if (p->finished.head == NULL)
		(void)eventfd_write(p->efd, 1);
	jobq_push(&p->finished, job);
	p->busy--;
	pthread_mutex_unlock(&p->lock);
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct pool_job *job;

	while ((job = take(w->pool)) != NULL) {
		job->run(job, w->crypto);
		finish(w->pool, job);
	}
	return NULL;
}

/* Workers start with every signal blocked, so that signals reach the loop thread (which
 * may read them from a signalfd) whatever the caller's mask is when the pool is made. */
static int
start_workers(struct pool *p)
{
	sigset_t all, old;
	int r = 0;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (unsigned int i = 0; i < p->nworkers; i++) {
		struct worker *w = &p->workers[i];

		if (pthread_create(&w->tid, NULL, worker_main, w) != 0) {
			r = E_NOMEM;
			break;
		}
		w->started = true;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return r;
}

/* Each worker's struct crypto is made here, before any thread starts, so that a failure
 * needs no start-up handshake; from then on only its own thread touches it. */
static int
make_workers(struct pool *p)
{
	for (unsigned int i = 0; i < p->nworkers; i++) {
		p->workers[i].pool = p;
		if ((p->workers[i].crypto = crypto_new()) == NULL)
			return E_CRYPTO;
	}
	return start_workers(p);
}

struct pool *
pool_new(unsigned int threads, unsigned int max_queued)
{
	struct pool *p;

	if (threads == 0 || max_queued == 0)
		return NULL;
	if ((p = calloc(1, sizeof(*p) + threads * sizeof(p->workers[0]))) == NULL)
		return NULL;
	p->max_queued = max_queued;
	p->nworkers = threads;
	if (pthread_mutex_init(&p->lock, NULL) != 0) {
		free(p);
		return NULL;
	}
	if (pthread_cond_init(&p->wake, NULL) != 0) {
		pthread_mutex_destroy(&p->lock);
		free(p);
		return NULL;
	}
	if ((p->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0 || make_workers(p) != 0) {
		pool_free(p);
		return NULL;
	}
	return p;
}

static void
stop_workers(struct pool *p)
{
	pthread_mutex_lock(&p->lock);
	p->stopping = true;
	pthread_cond_broadcast(&p->wake);
	pthread_mutex_unlock(&p->lock);
	for (unsigned int i = 0; i < p->nworkers; i++)
		if (p->workers[i].started)
			pthread_join(p->workers[i].tid, NULL);
}

static unsigned int
call_done(struct pool *p, struct pool_job *list)
{
	unsigned int n = 0;

	while (list != NULL) {
		struct pool_job *job = list;

		list = job->next; /* done() may free the job */
		p->pending--;
		job->done(job);
		n++;
	}
	return n;
}

void
pool_free(struct pool *p)
{
	if (p == NULL)
		return;
	stop_workers(p);
	/* No thread is left, so the lists need no lock. */
	call_done(p, jobq_take_all(&p->finished));
	call_done(p, jobq_take_all(&p->todo));
	for (unsigned int i = 0; i < p->nworkers; i++)
		crypto_free(p->workers[i].crypto);
	if (p->efd >= 0)
		close(p->efd);
	pthread_cond_destroy(&p->wake);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

int
pool_fd(const struct pool *p)
{
	return p->efd;
}

int
pool_submit(struct pool *p, struct pool_job *job)
{
	pthread_mutex_lock(&p->lock);
	if (p->busy >= p->max_queued) {
		pthread_mutex_unlock(&p->lock);
		return E_BUSY;
	}
	jobq_push(&p->todo, job);
	p->busy++;
	pthread_cond_signal(&p->wake);
	pthread_mutex_unlock(&p->lock);
	p->pending++;
	return 0;
}

unsigned int
pool_pending(const struct pool *p)
{
	return p->pending;
}

unsigned int
pool_reap(struct pool *p)
{
	struct pool_job *list;
	eventfd_t v;

	pthread_mutex_lock(&p->lock);
	(void)eventfd_read(p->efd, &v); /* fails with EAGAIN when nothing finished: fine */
	list = jobq_take_all(&p->finished);
	pthread_mutex_unlock(&p->lock);
	return call_done(p, list);
}
