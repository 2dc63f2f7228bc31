/* SPDX-License-Identifier: MIT */
/*
 * Relay datagrams (docs/PROTOCOL.md 7.4): what a relay forwards and the messages nodes bind
 * with. Shared by the mediator (which makes grant tokens), buri-relay (which recomputes them,
 * checks BINDs and routes datagrams) and the control process (which binds).
 */
#ifndef BURI_RELAY_H
#define BURI_RELAY_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#include "common/crypto.h"
#include "common/macdgram.h"
#include "common/msg.h"
#include "common/util.h"

enum {
	RELAY_SECRET_LEN = 32, /* shared by the mediator and a relay */
	RELAY_MARK = 8,	       /* the two zero words in front of a relay message */
	RELAY_DGRAM_MIN = 8,   /* anything shorter is neither routable nor a message */
	RELAY_DGRAM_MAX = 65507,
	RELAY_MSG_MAX = RELAY_MARK + 80, /* larger than either relay message */
};

static_assert((int)MSG_RELAY_TOKEN_LEN == (int)MACDGRAM_KEY_LEN, "a token is a macdgram key");

enum relay_kind {
	RELAY_DATA,    /* data packet: forward by its SPI */
	RELAY_CONTROL, /* tunnel control packet: forward by its dstSPI */
	RELAY_MESSAGE, /* RELAY BIND / RELAY BOUND */
	RELAY_INVALID, /* shorter than RELAY_DGRAM_MIN or longer than RELAY_DGRAM_MAX */
};

/* What the datagram p[0..len) is; for data and control packets *dst_spi is the SPI it is
 * addressed to (never 0). Reads at most the first 8 bytes. */
enum relay_kind relay_classify(const uint8_t *p, size_t len, uint32_t *dst_spi);

/* TCP framing (PROTOCOL.md 7.4): how many bytes of the stream buffer p[0..len) make its next
 * whole frame `len (u16) | datagram` (0: more bytes are needed; E_ENCODING: a length below
 * RELAY_DGRAM_MIN, after which the stream cannot be trusted), and where the datagram is. */
int relay_tcp_frame(const uint8_t *p, size_t len, const uint8_t **dgram, size_t *dlen);

/* The token of one side of a session (PROTOCOL.md, RELAY): HMAC-SHA1(secret, "buri relay" |
 * session | expiry | side | identity | peer). */
int relay_token(struct crypto *c, const uint8_t secret[RELAY_SECRET_LEN],
		const uint8_t session[MSG_RELAY_SESSION_LEN], uint32_t expiry, uint8_t side,
		uint32_t identity, uint32_t peer, uint8_t token[MSG_RELAY_TOKEN_LEN]) WARN_UNUSED;

/* Encodes m (RELAY BIND or RELAY BOUND, mac ignored) as a relay datagram MACed with token
 * into out[0..cap) (RELAY_MSG_MAX is enough); *len is the datagram's length. */
static inline WARN_UNUSED int
relay_msg_seal(struct crypto *c, const uint8_t token[MSG_RELAY_TOKEN_LEN], unsigned channel,
	       const struct msg *m, uint8_t *out, size_t cap, size_t *len)
{
	return macdgram_seal(c, token, RELAY_MARK, channel, m, out, cap, len);
}

/* Decodes a relay datagram of channel (MSG_CH_RELAY_C2R or _R2C) into m; no MAC check. */
static inline WARN_UNUSED int
relay_msg_open(unsigned channel, const uint8_t *p, size_t len, struct msg *m)
{
	return macdgram_open(RELAY_MARK, channel, p, len, m);
}

/* 0 if the datagram p[0..len), which relay_msg_open accepted, carries token's MAC, else E_MAC.
 * Constant time. */
static inline WARN_UNUSED int
relay_msg_check(struct crypto *c, const uint8_t token[MSG_RELAY_TOKEN_LEN], const uint8_t *p,
		size_t len)
{
	return macdgram_check(c, token, RELAY_MARK, p, len);
}

#endif
