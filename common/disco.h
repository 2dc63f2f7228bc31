/* SPDX-License-Identifier: MIT */
/*
 * Discovery datagrams (docs/PROTOCOL.md 7.3, DISCO PROBE / DISCO REPLY): a zero word, then
 * the body, whose last 12 bytes are an HMAC-SHA1-96 under the session's disco_key over the
 * rest of the body. Shared by the mediator (which checks probes and builds replies) and the
 * control process (which builds probes and checks replies), so both compute the MAC alike.
 */
#ifndef BURI_DISCO_H
#define BURI_DISCO_H

#include <stddef.h>
#include <stdint.h>

#include "common/crypto.h"
#include "common/msg.h"
#include "common/util.h"

enum {
	DISCO_MARK = 4,			   /* the zero word in front of the body */
	DISCO_DGRAM_MAX = DISCO_MARK + 64, /* larger than either datagram */
};

/* The 12-byte MAC of body[0..len) under key. */
int disco_mac(struct crypto *c, const uint8_t key[MSG_DISCO_KEY_LEN], const uint8_t *body,
	      size_t len, uint8_t mac[WIRE_MAC_LEN]) WARN_UNUSED;

/* Encodes m (DISCO PROBE or DISCO REPLY, its mac field ignored) with the zero word in front
 * and the MAC under key into out (at least DISCO_DGRAM_MAX bytes); *len is the datagram's. */
int disco_dgram_seal(struct crypto *c, const uint8_t key[MSG_DISCO_KEY_LEN], unsigned channel,
		     const struct msg *m, uint8_t *out, size_t cap, size_t *len) WARN_UNUSED;

/* Decodes a datagram p[0..len) of channel (MSG_CH_DISCO_C2S: a probe, MSG_CH_DISCO_S2C: a
 * reply) into m, without checking the MAC (the key depends on who sent it): E_CHANNEL without
 * the zero word, else msg_decode's code. */
int disco_dgram_open(unsigned channel, const uint8_t *p, size_t len, struct msg *m) WARN_UNUSED;

/* 0 if the datagram p[0..len), which disco_dgram_open accepted, carries key's MAC, else E_MAC.
 * Constant time. */
int disco_dgram_check(struct crypto *c, const uint8_t key[MSG_DISCO_KEY_LEN], const uint8_t *p,
		      size_t len) WARN_UNUSED;

#endif
