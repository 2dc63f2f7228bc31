/* SPDX-License-Identifier: MIT */
/*
 * What each signature of suite 1 covers (docs/PROTOCOL.md "Signatures"). The signer of a
 * handshake always puts its own values first:
 *
 *   AUTH, REGISTER  (node)        CryptoSuite(1) | Ni | Nr | Gi | Gr     769 bytes
 *   AUTH OK         (mediator)    Nr | Ni | Gr | Gi                      768 bytes
 *   KE2             (responder)   Nr | Ni | Gr | Gi                      768 bytes
 *   KE3             (initiator)   Ni | Nr | Gi | Gr                      768 bytes
 *
 * Ni/Gi are the client's or initiator's nonce and DH value, Nr/Gr the mediator's or
 * responder's. The signature is RSASSA-PKCS1-v1_5 with SHA-1 over those bytes.
 */
#ifndef BURI_SIGDATA_H
#define BURI_SIGDATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/wire.h"

enum sigdata_kind {
	SIGDATA_AUTH, /* also REGISTER */
	SIGDATA_AUTH_OK,
	SIGDATA_KE2,
	SIGDATA_KE3,
};

enum { SIGDATA_MAX_PARTS = 5 };

struct handshake_values {
	uint8_t suite;
	const uint8_t *ni, *nr; /* WIRE_NONCE_LEN bytes each */
	const uint8_t *gi, *gr; /* WIRE_DH_LEN bytes each */
};

/* Fills parts (borrowing v's buffers) with the signed byte string of kind; returns how many
 * parts were used. */
size_t sigdata_parts(enum sigdata_kind kind, const struct handshake_values *v,
		     struct span parts[SIGDATA_MAX_PARTS]);

#endif
