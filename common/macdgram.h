/* SPDX-License-Identifier: MIT */
/*
 * MACed datagrams: `mark` zero bytes, then one message body whose last 12 bytes are an
 * HMAC-SHA1-96 under a 20-byte key over the rest of the body. The form of discovery
 * datagrams (disco.h: a 4-byte mark, the session's disco_key) and of relay messages
 * (relay.h: an 8-byte mark, the grant's token); the zero mark is what tells them from data
 * and tunnel control packets on a shared port.
 */
#ifndef BURI_MACDGRAM_H
#define BURI_MACDGRAM_H

#include <stddef.h>
#include <stdint.h>

#include "common/crypto.h"
#include "common/msg.h"
#include "common/util.h"

enum {
	MACDGRAM_KEY_LEN = 20,
	MACDGRAM_MARK_MAX = 8,
};

/* The 12-byte MAC of body[0..len) under key. */
int macdgram_mac(struct crypto *c, const uint8_t key[MACDGRAM_KEY_LEN], const uint8_t *body,
		 size_t len, uint8_t mac[WIRE_MAC_LEN]) WARN_UNUSED;

/* Encodes m (its mac field ignored) for channel with mark zero bytes in front and the MAC
 * under key into out[0..cap); *len is the datagram's length. */
int macdgram_seal(struct crypto *c, const uint8_t key[MACDGRAM_KEY_LEN], size_t mark,
		  unsigned channel, const struct msg *m, uint8_t *out, size_t cap,
		  size_t *len) WARN_UNUSED;

/* Decodes the datagram p[0..len) of channel into m without checking the MAC (the key depends
 * on what the message says): E_CHANNEL unless it starts with mark zero bytes, else
 * msg_decode's code. */
int macdgram_open(size_t mark, unsigned channel, const uint8_t *p, size_t len,
		  struct msg *m) WARN_UNUSED;

/* 0 if the datagram p[0..len), which macdgram_open accepted, carries key's MAC, else E_MAC.
 * Constant time. */
int macdgram_check(struct crypto *c, const uint8_t key[MACDGRAM_KEY_LEN], size_t mark,
		   const uint8_t *p, size_t len) WARN_UNUSED;

#endif
