/* SPDX-License-Identifier: MIT */
/*
 * Ephemeral Diffie-Hellman over RFC 3526 group 14 (2048-bit MODP, g = 2), OpenSSL 3 EVP only.
 * Public values and the shared secret K travel as 256-byte big-endian strings, left-padded
 * with zeros, so a secret with leading zero bytes keeps them.
 */
#ifndef BURI_DH_H
#define BURI_DH_H

#include <stdint.h>

#include "common/util.h"
#include "common/wire.h"

/* The group's prime p, big-endian (RFC 3526 section 3). */
extern const uint8_t dh_modp2048_p[WIRE_DH_LEN];

struct dh;

/* A fresh key pair from OpenSSL's CSPRNG, or NULL. */
struct dh *dh_generate(void);
/* Frees and wipes d (NULL is fine). */
void dh_free(struct dh *d);
/* d's public value g^x mod p. */
void dh_public(const struct dh *d, uint8_t out[WIRE_DH_LEN]);
/* 0 if 2 <= y <= p - 2, else E_DHPUB. With a safe prime this is the whole check that is
 * needed: it excludes the subgroups of order 1 and 2 (RFC 6989 section 2.1). */
int dh_check_public(const uint8_t y[WIRE_DH_LEN]) WARN_UNUSED;
/* K = y^x mod p as 256 bytes. E_DHPUB if y fails dh_check_public(). */
int dh_derive(const struct dh *d, const uint8_t y[WIRE_DH_LEN], uint8_t k[WIRE_DH_LEN]) WARN_UNUSED;

#endif
