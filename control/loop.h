/* SPDX-License-Identifier: MIT */
/*
 * buri-control's event loop: one thread, epoll for file descriptors, a min-heap of timers on
 * the monotonic clock in milliseconds. Every module of the control process registers its
 * sockets and timers here and is called back from loop_run_once(); nothing else blocks.
 *
 * Timers are embedded in their owner (struct loop_timer), so arming one never allocates; an
 * owner must cancel its timers before it is freed. Callbacks may add, change or remove any fd
 * or timer, including the one being called.
 */
#ifndef BURI_CONTROL_LOOP_H
#define BURI_CONTROL_LOOP_H

#include <stdbool.h>
#include <stdint.h>

struct loop;

/* events: EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP as epoll reports them. */
typedef void loop_fd_fn(void *arg, uint32_t events);
typedef void loop_timer_fn(void *arg);

struct loop_timer {
	uint64_t at;	   /* loop_now() ms when it fires; meaningful while armed */
	loop_timer_fn *fn; /* set by loop_timer_init */
	void *arg;
	unsigned idx; /* position in the heap + 1; 0: not armed */
};

/* NULL if epoll cannot be had. */
struct loop *loop_new(void);
/* Closes the epoll fd; registered fds are not closed (their owners close them). */
void loop_free(struct loop *l);

/* Milliseconds on CLOCK_MONOTONIC, as the timers use. */
uint64_t loop_now(const struct loop *l);

/* Registers fd for events; 0, E_NOMEM, E_EXISTS (already registered) or E_IO. */
int loop_fd_add(struct loop *l, int fd, uint32_t events, loop_fd_fn *fn, void *arg);
/* Changes the events of a registered fd; 0 or E_NOTFOUND / E_IO. */
int loop_fd_mod(struct loop *l, int fd, uint32_t events);
/* Unregisters fd (call before closing it); no callback for it runs after this returns. */
void loop_fd_del(struct loop *l, int fd);

void loop_timer_init(struct loop_timer *t, loop_timer_fn *fn, void *arg);
/* Arms (or re-arms) t to fire once at the absolute time at_ms. */
void loop_timer_at(struct loop *l, struct loop_timer *t, uint64_t at_ms);
/* Arms (or re-arms) t to fire once in_ms from now. */
void loop_timer_in(struct loop *l, struct loop_timer *t, uint64_t in_ms);
void loop_timer_cancel(struct loop *l, struct loop_timer *t);
static inline bool
loop_timer_armed(const struct loop_timer *t)
{
	return t->idx != 0;
}

/* Waits for at most max_wait_ms (or until the next timer), then runs the callbacks of the
 * ready fds and of the timers due. 0, or E_IO if epoll_wait failed other than by EINTR. */
int loop_run_once(struct loop *l, int max_wait_ms);
/* Runs until loop_stop(); returns 0, or E_IO. */
int loop_run(struct loop *l);
/* Makes loop_run return after the current turn (async-signal-safe). */
void loop_stop(struct loop *l);

#endif
