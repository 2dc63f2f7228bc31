/* SPDX-License-Identifier: MIT */
/*
 * KEYMAT expansion of suite 1 and the split of KEYMAT into directional keys.
 *
 *   KEYMAT = T1 | T2 | T3 | ...
 *   T1 = HMAC-SHA1(K, Ni | Nr | 0x01)
 *   Tn = HMAC-SHA1(K, Tn-1 | Ni | Nr | n)     n as one byte, so at most 255 blocks
 *
 * A session (mediator login or peer tunnel) takes 104 bytes: the first 52 key the direction
 * initiator -> responder (client -> mediator), the next 52 the reverse; each 52 are Ke (32)
 * then Ka (20). The first 52 bytes are therefore exactly the seeds' Ke and Ka.
 */
#ifndef BURI_KEYMAT_H
#define BURI_KEYMAT_H

#include <stddef.h>
#include <stdint.h>

#include "common/crypto.h"
#include "common/wire.h"

enum { KEYMAT_MAX = 255 * CRYPTO_SHA1_LEN };

/* Keys for one direction of a session. Wipe with wipe() when done. */
struct dirkey {
	uint8_t ke[WIRE_KE_LEN];
	uint8_t ka[WIRE_KA_LEN];
};

struct session_keys {
	struct dirkey i2r; /* initiator (client, lower-SPI peer) to responder */
	struct dirkey r2i;
};

/* Writes n bytes of KEYMAT (n <= KEYMAT_MAX, else E_INVAL) to out. Lengths of K, Ni, Nr are
 * whatever the caller gives; suite 1 uses 256, 128 and 128. */
int keymat_expand(struct crypto *c, const uint8_t *k, size_t klen, const uint8_t *ni, size_t nilen,
		  const uint8_t *nr, size_t nrlen, uint8_t *out, size_t n) WARN_UNUSED;

/* The two directional keys of a suite-1 session from the DH secret K and both nonces. */
int keymat_session(struct crypto *c, const uint8_t k[WIRE_DH_LEN], const uint8_t ni[WIRE_NONCE_LEN],
		   const uint8_t nr[WIRE_NONCE_LEN], struct session_keys *out) WARN_UNUSED;

#endif
