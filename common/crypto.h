/* SPDX-License-Identifier: MIT */
/*
 * OpenSSL 3 primitives for suite 1, behind one small API.
 *
 * A struct crypto holds the algorithms fetched once (AES-256-CBC, HMAC, SHA-1) and reusable
 * cipher/MAC contexts, so no call below does an implicit fetch. It is not thread-safe: give
 * each thread its own. The contexts keep the last key schedule until crypto_free(), which
 * frees them zeroed.
 */
#ifndef BURI_CRYPTO_H
#define BURI_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/util.h"

enum crypto_sizes {
	CRYPTO_AES_KEY_LEN = 32, /* bytes, AES-256 */
	CRYPTO_AES_BLOCK = 16,	 /* bytes, also the CBC IV size */
	CRYPTO_SHA1_LEN = 20,	 /* bytes, SHA-1 digest and HMAC-SHA1 output */
};

struct crypto;

/* A new context, or NULL if OpenSSL cannot provide the algorithms. */
struct crypto *crypto_new(void);
/* Frees c (NULL is fine). */
void crypto_free(struct crypto *c);

/* AES-256-CBC without padding: len must be a multiple of 16 (E_INVAL otherwise). in and out
 * may be the same buffer; they must not otherwise overlap. */
int crypto_cbc_encrypt(struct crypto *c, const uint8_t key[CRYPTO_AES_KEY_LEN],
		       const uint8_t iv[CRYPTO_AES_BLOCK], const uint8_t *in, size_t len,
		       uint8_t *out) WARN_UNUSED;
int crypto_cbc_decrypt(struct crypto *c, const uint8_t key[CRYPTO_AES_KEY_LEN],
		       const uint8_t iv[CRYPTO_AES_BLOCK], const uint8_t *in, size_t len,
		       uint8_t *out) WARN_UNUSED;

/* HMAC-SHA1 with key over the concatenation of parts[0..n). */
int crypto_hmac_sha1(struct crypto *c, const uint8_t *key, size_t keylen, const struct span *parts,
		     size_t n, uint8_t out[CRYPTO_SHA1_LEN]) WARN_UNUSED;

int crypto_sha1(struct crypto *c, const uint8_t *p, size_t n,
		uint8_t out[CRYPTO_SHA1_LEN]) WARN_UNUSED;

/* n bytes from OpenSSL's CSPRNG; E_CRYPTO if it cannot deliver. */
int crypto_random(void *p, size_t n) WARN_UNUSED;

/* Compares in time that depends only on n. */
bool crypto_ct_equal(const void *a, const void *b, size_t n);

/* Zeroes p[0..n) in a way the compiler may not elide. */
void wipe(void *p, size_t n);

#endif
