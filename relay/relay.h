/* SPDX-License-Identifier: MIT */
/*
 * buri-relay's process: one thread, one event loop (control/loop.c), the session table
 * (table.h) and two transports that feed it, a UDP socket (udp.c) and a TCP listener with its
 * connections (tcp.c). Both hand every datagram to relay_input(), which asks the table and
 * sends what it says to send, over whichever transport the target endpoint is on.
 */
#ifndef BURI_RELAY_RELAY_H
#define BURI_RELAY_RELAY_H

#include <stddef.h>
#include <stdint.h>

#include "control/loop.h"
#include "relay/cfg.h"
#include "relay/table.h"

struct udp;
struct tcp;

struct relay {
	struct relay_cfg cfg;
	struct loop *l;
	struct relay_table *t;
	struct relay_stats *st; /* the table's counters, which the transports add to */
	struct udp *udp;
	struct tcp *tcp; /* NULL: listen.tcp_port = 0 */
	struct loop_timer tick_t, stats_t;
	int sig_fd;
};

/* --- relay.c --- */

/* Secret, table, sockets, timers and signals (SIGTERM/SIGINT/SIGUSR1 must be blocked by the
 * caller). 0, or an E_* after logging why; relay_fini() cleans up either way. */
int relay_init(struct relay *r) WARN_UNUSED;
/* Runs until SIGTERM or SIGINT; 0, or E_IO if the loop failed. */
int relay_run(struct relay *r) WARN_UNUSED;
void relay_fini(struct relay *r);
/* Loads the secret (creating it if missing, with a log line saying so): 0 or E_* (logged). */
int relay_secret(const struct relay_cfg *cfg, uint8_t out[RELAY_SECRET_LEN]) WARN_UNUSED;
/* Sets the table's clock; each transport calls it once per batch it reads. */
void relay_clock(struct relay *r);
/* One datagram p[0..len) from src: forwarded, answered or dropped as the table says. p must
 * stay valid until udp_flush() (forwards to UDP are sent in batches). */
void relay_input(struct relay *r, const struct relay_src *src, const uint8_t *p, size_t len);
void relay_log_stats(struct relay *r, const char *why);

/* --- udp.c --- */

/* The UDP socket on addr:port, registered on r->l. NULL after logging why. */
struct udp *udp_open(struct relay *r, uint32_t addr, uint16_t port);
void udp_close(struct udp *u);
/* Queues p[0..len) for ep (a UDP endpoint key); p must stay valid until udp_flush(). */
void udp_send(struct udp *u, uint64_t ep, const uint8_t *p, size_t len);
/* Sends p[0..len) to ep at once (answers, whose buffer is the caller's stack). */
void udp_send_now(struct udp *u, uint64_t ep, const uint8_t *p, size_t len);
/* Sends what udp_send() queued; every input path calls it before reusing its buffers. */
void udp_flush(struct udp *u);

/* --- tcp.c --- */

/* The TCP listener on addr:port, registered on r->l. NULL after logging why. */
struct tcp *tcp_open(struct relay *r, uint32_t addr, uint16_t port);
/* Closes every connection and the listener. */
void tcp_close(struct tcp *t);
/* Queues p[0..len) as one frame on the connection ep names (copied); counted as a drop if
 * the connection is gone or its output is full. */
void tcp_send(struct tcp *t, uint64_t ep, const uint8_t *p, size_t len);
/* Closes the connections from which nothing came for idle_ms. */
void tcp_expire(struct tcp *t, uint64_t now_ms, uint64_t idle_ms);
size_t tcp_count(const struct tcp *t);

#endif
