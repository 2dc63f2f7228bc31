/* SPDX-License-Identifier: MIT */
/*
 * The node's side of one relay session (docs/PROTOCOL.md 7.4): the mediator's grant, and
 * RELAY BIND until the relay answers, then again every RELAYBIND_REFRESH_MS (which also keeps
 * our NAT's mapping towards the relay open) and whenever the SPIs to bind change (a rekey).
 * No I/O: the caller sends what relaybind_due builds and hands over RELAY BOUNDs.
 *
 * The grant's token is a secret: relaybind_clear wipes it.
 */
#ifndef BURI_CONTROL_RELAYBIND_H
#define BURI_CONTROL_RELAYBIND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/crypto.h"
#include "common/msg.h"
#include "common/util.h"

enum {
	RELAYBIND_RTO_MIN_MS = 1000, /* BIND again after 1 s, doubling to 8 s, until BOUND */
	RELAYBIND_RTO_MAX_MS = 8000,
	RELAYBIND_REFRESH_MS = 30000,
};

struct relaybind {
	bool have;	 /* a grant */
	bool bound;	 /* the relay accepted our last BIND */
	bool peer_bound; /* and said the peer's side is bound too */
	struct msg_relay g;
	uint32_t self;
	uint32_t spi[MSG_RELAY_SPIS_MAX];
	uint8_t n;
	uint64_t seq;	  /* of the last BIND sent */
	uint64_t next_ms; /* when the next BIND is due (0: none) */
	unsigned rto_ms;
	uint16_t status; /* the relay's last answer: 0 or an E_* wire code */
	/* where the relay is reached: its UDP port, or the local proxy of the relay over TCP */
	uint32_t via_addr;
	uint16_t via_port;
};

/* A new grant from the mediator (RELAY) for the tunnel whose own identity is self; binds at
 * the next relaybind_due if SPIs are set. */
void relaybind_grant(struct relaybind *rb, const struct msg_relay *g, uint32_t self,
		     uint64_t now_ms);

/* The inbound SPIs to bind (n <= MSG_RELAY_SPIS_MAX, zeros skipped); a change binds at once. */
void relaybind_spis(struct relaybind *rb, const uint32_t *spi, unsigned n, uint64_t now_ms);

/* If a BIND is due at now_ms, encodes it into out[0..cap) (RELAY_MSG_MAX bytes suffice) and
 * returns 1 with *len set; 0 if none is due; a negative E_* on failure. wall_ms (the clock's
 * milliseconds since the epoch) makes seq, which must grow across restarts. */
int relaybind_due(struct relaybind *rb, struct crypto *c, uint64_t now_ms, uint64_t wall_ms,
		  uint8_t *out, size_t cap, size_t *len) WARN_UNUSED;

/* A RELAY BOUND (decoded b, raw datagram p[0..len)) from addr:port: true if it answers our
 * last BIND (session, side, seq, MAC, sender), and then it is taken into account. */
bool relaybind_on_bound(struct relaybind *rb, struct crypto *c, const struct msg_relay_bound *b,
			const uint8_t *p, size_t len, uint32_t addr, uint16_t port,
			uint64_t now_ms);

/* Reach the relay at addr:port from now on (relaytcp.h's proxy); binds again at once. */
void relaybind_via(struct relaybind *rb, uint32_t addr, uint16_t port, uint64_t now_ms);

/* Whether addr:port is where the relay of the grant is reached. */
bool relaybind_is_relay(const struct relaybind *rb, uint32_t addr, uint16_t port);

/* Forgets the grant and wipes the token. */
void relaybind_clear(struct relaybind *rb);

#endif
