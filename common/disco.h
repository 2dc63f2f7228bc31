/* SPDX-License-Identifier: MIT */
/*
 * Discovery datagrams (docs/PROTOCOL.md 7.3, DISCO PROBE / DISCO REPLY): a zero word, then
 * the body, whose last 12 bytes are an HMAC-SHA1-96 under the session's disco_key over the
 * rest of the body (macdgram.h). Shared by the mediator (which checks probes and builds replies)
 * and the control process (which builds probes and checks replies), so both compute the MAC alike.
 */
#ifndef BURI_DISCO_H
#define BURI_DISCO_H

#include <stddef.h>
#include <stdint.h>

#include <assert.h>

#include "common/crypto.h"
#include "common/macdgram.h"
#include "common/msg.h"
#include "common/util.h"

enum {
	DISCO_MARK = 4,			   /* the zero word in front of the body */
	DISCO_DGRAM_MAX = DISCO_MARK + 64, /* larger than either datagram */
};

static_assert((int)MSG_DISCO_KEY_LEN == (int)MACDGRAM_KEY_LEN, "disco_key is a macdgram key");

/* Encodes m (DISCO PROBE or DISCO REPLY, its mac field ignored) with the zero word in front
 * and the MAC under key into out (at least DISCO_DGRAM_MAX bytes); *len is the datagram's. */
static inline WARN_UNUSED int
disco_dgram_seal(struct crypto *c, const uint8_t key[MSG_DISCO_KEY_LEN], unsigned channel,
		 const struct msg *m, uint8_t *out, size_t cap, size_t *len)
{
	return macdgram_seal(c, key, DISCO_MARK, channel, m, out, cap, len);
}

/* Decodes a datagram p[0..len) of channel (MSG_CH_DISCO_C2S: a probe, MSG_CH_DISCO_S2C: a
 * reply) into m, without checking the MAC (the key depends on who sent it): E_CHANNEL without
 * the zero word, else msg_decode's code. */
static inline WARN_UNUSED int
disco_dgram_open(unsigned channel, const uint8_t *p, size_t len, struct msg *m)
{
	return macdgram_open(DISCO_MARK, channel, p, len, m);
}

/* 0 if the datagram p[0..len), which disco_dgram_open accepted, carries key's MAC, else E_MAC.
 * Constant time. */
static inline WARN_UNUSED int
disco_dgram_check(struct crypto *c, const uint8_t key[MSG_DISCO_KEY_LEN], const uint8_t *p,
		  size_t len)
{
	return macdgram_check(c, key, DISCO_MARK, p, len);
}

#endif
