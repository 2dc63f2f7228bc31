/* SPDX-License-Identifier: MIT */
/*
 * The relay's sessions and its forwarding decision (docs/PROTOCOL.md 7.4), without sockets:
 * the program hands every datagram to relay_table_input() with where it came from, and gets
 * back what to do with it. Tests and the fuzzer drive it the same way, on a clock they set.
 *
 *   session (8-byte id, the mediator's)
 *     side 0: identity, peer, endpoint, SPIs (1..4), last BIND seq, counters
 *     side 1: the same
 *   route index: (endpoint of side d, one SPI of side 1-d) -> side 1-d
 *
 * A datagram is forwarded only if its (source endpoint, dstSPI) is in the route index; every
 * BIND that changes a side rebuilds the routes of its session, so the index always equals
 * what the sessions say (relay_table_check() verifies it). A route key belongs to at most one
 * session: a BIND that would route an SPI another session already routes from the same
 * endpoint is refused (E_BUSY), so no session can capture another's traffic.
 *
 * An endpoint is an opaque 64-bit key: a UDP source (relay_ep_udp) or a TCP connection
 * (relay_ep_tcp). Keys of TCP connections are never reused, so a closed connection's routes
 * simply stop matching until the session idles out.
 *
 * Not thread-safe: one thread owns a table.
 */
#ifndef BURI_RELAY_TABLE_H
#define BURI_RELAY_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/msg.h"
#include "common/relay.h"
#include "common/util.h"
#include "relay/stats.h"

/* Bit 63 of an endpoint key marks a TCP connection; a UDP key uses the low 48 bits. */
#define RELAY_EP_TCP_BIT (UINT64_C(1) << 63)

/* A UDP source: address << 16 | port (host order); never 0 for a real source. */
static inline uint64_t
relay_ep_udp(uint32_t addr, uint16_t port)
{
	return (uint64_t)addr << 16 | port;
}

/* A TCP connection with a per-process id (1, 2, ... never reused). */
static inline uint64_t
relay_ep_tcp(uint64_t id)
{
	return RELAY_EP_TCP_BIT | id;
}

static inline bool
relay_ep_is_tcp(uint64_t ep)
{
	return (ep & RELAY_EP_TCP_BIT) != 0;
}

static inline uint32_t
relay_ep_addr(uint64_t ep)
{
	return (uint32_t)(ep >> 16);
}

static inline uint16_t
relay_ep_port(uint64_t ep)
{
	return (uint16_t)ep;
}

struct relay_limits {
	unsigned sessions;     /* sessions at once */
	unsigned per_identity; /* sessions in which one identity holds a side */
	unsigned bind_rate;    /* authentic BINDs per second per source address ... */
	unsigned bind_burst;   /* ... and how many may be saved up */
	uint64_t byte_rate;    /* bytes per second per session, both directions; 0: no limit */
	uint64_t byte_burst;   /* bytes saved up; at least RELAY_DGRAM_MAX */
	uint64_t idle_ms;      /* a session without a datagram or BIND for this long is forgotten */
};

/* The defaults configs/relay.cfg documents. */
void relay_limits_default(struct relay_limits *l);

/* Where a datagram came from. */
struct relay_src {
	uint64_t ep;   /* relay_ep_udp() or relay_ep_tcp() */
	uint32_t addr; /* source IPv4 address (host order): the BIND rate is per address */
	uint16_t port; /* source port; over TCP it is not reported back (RELAY BOUND says 0) */
	bool tcp;
};

enum relay_verdict {
	RELAY_DROP,    /* counted in the stats */
	RELAY_ANSWER,  /* send out->msg[0..out->len) back to the source */
	RELAY_FORWARD, /* send the datagram unchanged to out->dst */
};

struct relay_out {
	uint64_t dst; /* RELAY_FORWARD: the target endpoint */
	size_t len;   /* RELAY_ANSWER: the answer's length */
	uint8_t msg[RELAY_MSG_MAX];
};

struct relay_table;

/* A table that checks BINDs against tokens made with secret (copied, wiped on free). NULL if
 * memory or OpenSSL fails. */
struct relay_table *relay_table_new(const uint8_t secret[RELAY_SECRET_LEN],
				    const struct relay_limits *lim);
void relay_table_free(struct relay_table *t);

/* The clock every later call uses: monotonic milliseconds for idleness and rates, UNIX
 * seconds for grant expiry. The program sets it once per batch, tests whenever they like. */
void relay_table_set_time(struct relay_table *t, uint64_t mono_ms, uint64_t unix_s);

/* What to do with the datagram p[0..len) from src (see enum relay_verdict). A relay message
 * must be a RELAY BIND: it binds a side or is answered with a status; a data or control
 * packet is forwarded by (src->ep, dstSPI). Everything else is dropped and counted. */
enum relay_verdict relay_table_input(struct relay_table *t, const struct relay_src *src,
				     const uint8_t *p, size_t len, struct relay_out *out);

/* Forgets the sessions idle for limits.idle_ms and the idle BIND-rate entries. */
void relay_table_expire(struct relay_table *t);

/* Counters; the program adds its own (stats.h). */
struct relay_stats *relay_table_stats(struct relay_table *t);

struct relay_counts {
	size_t sessions, bound; /* sessions, and those with both sides bound */
	size_t routes, identities, sources;
};
void relay_table_counts(const struct relay_table *t, struct relay_counts *c);

/* The endpoint of one side of session id, 0 if the session or the side is not bound. */
uint64_t relay_table_endpoint(const struct relay_table *t, const uint8_t id[MSG_RELAY_SESSION_LEN],
			      unsigned side);

/* Walks everything and checks that the route index equals what the sessions say and that the
 * counts agree: 0, or E_STATE. For tests and the fuzzer; O(sessions). */
int relay_table_check(struct relay_table *t) WARN_UNUSED;

#endif
