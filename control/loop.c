/* SPDX-License-Identifier: MIT */
/*
 * The control process's event loop (loop.h).
 *
 * File descriptors: a small table indexed by fd holds each callback, and epoll carries only
 * the fd, so a callback that removes another fd (or itself) during a turn is safe: the table
 * entry is looked up again for every ready event and a removed fd is skipped. (If a callback
 * closes an fd and a new one with the same number is registered in the same turn, the new
 * owner may see one spurious readiness report; non-blocking owners shrug that off.)
 *
 * Timers: a binary min-heap of pointers to the owners' embedded struct loop_timer; each timer
 * knows its heap position, so cancel and re-arm are O(log n) without a search.
 */
#include "control/loop.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "common/util.h"

enum { LOOP_EVENTS = 64 };

struct fd_slot {
	loop_fd_fn *fn; /* NULL: not registered */
	void *arg;
};

struct loop {
	int ep;
	volatile int stop;
	struct fd_slot *fds; /* indexed by fd */
	unsigned nfds;
	struct loop_timer **heap;
	unsigned nheap, capheap;
};

uint64_t
loop_now(const struct loop *l)
{
	struct timespec ts;

	(void)l;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct loop *
loop_new(void)
{
	struct loop *l = calloc(1, sizeof(*l));

	if (l == NULL)
		return NULL;
	l->ep = epoll_create1(EPOLL_CLOEXEC);
	if (l->ep < 0) {
		free(l);
		return NULL;
	}
	return l;
}

void
loop_free(struct loop *l)
{
	if (l == NULL)
		return;
	for (unsigned i = 0; i < l->nheap; i++)
		l->heap[i]->idx = 0;
	close(l->ep);
	free(l->fds);
	free(l->heap);
	free(l);
}

/* --- file descriptors --- */

static int
fds_grow(struct loop *l, int fd)
{
	unsigned n = l->nfds ? l->nfds : 64;
	struct fd_slot *f;

	while (n <= (unsigned)fd)
		n *= 2;
	if (n == l->nfds)
		return 0;
	f = realloc(l->fds, n * sizeof(*f));
	if (f == NULL)
		return E_NOMEM;
	memset(f + l->nfds, 0, (n - l->nfds) * sizeof(*f));
	l->fds = f;
	l->nfds = n;
	return 0;
}

int
loop_fd_add(struct loop *l, int fd, uint32_t events, loop_fd_fn *fn, void *arg)
{
	struct epoll_event ev = {.events = events, .data.fd = fd};
	int r;

	if (fd < 0 || fn == NULL)
		return E_INVAL;
	if ((r = fds_grow(l, fd)) != 0)
		return r;
	if (l->fds[fd].fn != NULL)
		return E_EXISTS;
	if (epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev) != 0)
		return E_IO;
	l->fds[fd] = (struct fd_slot){fn, arg};
	return 0;
}

int
loop_fd_mod(struct loop *l, int fd, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.fd = fd};

	if (fd < 0 || (unsigned)fd >= l->nfds || l->fds[fd].fn == NULL)
		return E_NOTFOUND;
	return epoll_ctl(l->ep, EPOLL_CTL_MOD, fd, &ev) == 0 ? 0 : E_IO;
}

void
loop_fd_del(struct loop *l, int fd)
{
	if (fd < 0 || (unsigned)fd >= l->nfds || l->fds[fd].fn == NULL)
		return;
	(void)epoll_ctl(l->ep, EPOLL_CTL_DEL, fd, NULL);
	l->fds[fd] = (struct fd_slot){NULL, NULL};
}

/* --- timers: heap[i]->idx == i + 1 --- */

static void
heap_set(struct loop *l, unsigned i, struct loop_timer *t)
{
	l->heap[i] = t;
	t->idx = i + 1;
}

static void
heap_up(struct loop *l, unsigned i)
{
	struct loop_timer *t = l->heap[i];

	while (i > 0 && l->heap[(i - 1) / 2]->at > t->at) {
		heap_set(l, i, l->heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	heap_set(l, i, t);
}

static void
heap_down(struct loop *l, unsigned i)
{
	struct loop_timer *t = l->heap[i];

	for (;;) {
		unsigned c = 2 * i + 1;

		if (c >= l->nheap)
			break;
		if (c + 1 < l->nheap && l->heap[c + 1]->at < l->heap[c]->at)
			c++;
		if (l->heap[c]->at >= t->at)
			break;
		heap_set(l, i, l->heap[c]);
		i = c;
	}
	heap_set(l, i, t);
}

void
loop_timer_init(struct loop_timer *t, loop_timer_fn *fn, void *arg)
{
	*t = (struct loop_timer){0, fn, arg, 0};
}

void
loop_timer_cancel(struct loop *l, struct loop_timer *t)
{
	struct loop_timer *last;
	unsigned i;

	if (t->idx == 0)
		return;
	i = t->idx - 1;
	t->idx = 0;
	if (--l->nheap == i)
		return;
	last = l->heap[l->nheap];
	heap_set(l, i, last);
	heap_up(l, i);
	heap_down(l, last->idx - 1);
}

void
loop_timer_at(struct loop *l, struct loop_timer *t, uint64_t at_ms)
{
	loop_timer_cancel(l, t);
	if (l->nheap == l->capheap) {
		unsigned cap = l->capheap ? 2 * l->capheap : 64;
		struct loop_timer **h = realloc(l->heap, cap * sizeof(*h));

		if (h == NULL)
			abort(); /* a few pointers: out of memory here is not recoverable */
		l->heap = h;
		l->capheap = cap;
	}
	t->at = at_ms;
	heap_set(l, l->nheap++, t);
	heap_up(l, l->nheap - 1);
}

void
loop_timer_in(struct loop *l, struct loop_timer *t, uint64_t in_ms)
{
	loop_timer_at(l, t, loop_now(l) + in_ms);
}

/* Runs every timer due at now; a callback may re-arm its own timer for now (it runs next
 * turn, not again in this one). */
static void
timers_run(struct loop *l, uint64_t now)
{
	unsigned budget = l->nheap;

	while (budget-- > 0 && l->nheap > 0 && l->heap[0]->at <= now) {
		struct loop_timer *t = l->heap[0];

		loop_timer_cancel(l, t);
		t->fn(t->arg);
	}
}

/* --- running --- */

int
loop_run_once(struct loop *l, int max_wait_ms)
{
	struct epoll_event ev[LOOP_EVENTS];
	uint64_t now = loop_now(l);
	int wait = max_wait_ms, n;

	if (l->nheap > 0) {
		uint64_t due = l->heap[0]->at;
		int until = due <= now ? 0 : (int)MIN(due - now, (uint64_t)INT32_MAX);

		if (wait < 0 || until < wait)
			wait = until;
	}
	n = epoll_wait(l->ep, ev, LOOP_EVENTS, wait);
	if (n < 0 && errno != EINTR)
		return E_IO;
	for (int i = 0; i < n; i++) {
		int fd = ev[i].data.fd;

		/* looked up again: an earlier callback of this turn may have removed it */
		if ((unsigned)fd < l->nfds && l->fds[fd].fn != NULL)
			l->fds[fd].fn(l->fds[fd].arg, ev[i].events);
	}
	timers_run(l, loop_now(l));
	return 0;
}

int
loop_run(struct loop *l)
{
	int r = 0;

	l->stop = 0;
	while (!l->stop && (r = loop_run_once(l, -1)) == 0)
		;
	return r;
}

void
loop_stop(struct loop *l)
{
	l->stop = 1;
}
