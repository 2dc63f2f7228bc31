/* SPDX-License-Identifier: MIT */
/*
 * RSA identities of nodes and mediators. Suite 1 signs with RSASSA-PKCS1-v1_5 over SHA-1, as
 * the seeds specify. Key sizes from 2048 to 4096 bits are accepted; 2048 and 3072 are
 * generated. A public key travels as DER SubjectPublicKeyInfo.
 *
 * Fingerprint (ServerKfp): SHA-1 over that DER encoding. Displayed OpenSSH-style as 20
 * lowercase hex pairs joined by ':', which is what
 *   openssl pkey -pubin -in key.pub -outform DER | openssl dgst -sha1 -c
 * prints.
 */
#ifndef BURI_PUBKEY_H
#define BURI_PUBKEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/util.h"
#include "common/wire.h"

enum pubkey_limits {
	PUBKEY_BITS_MIN = 2048,
	PUBKEY_BITS_MAX = 4096,
	PUBKEY_FP_STR_LEN = WIRE_KFP_LEN * 3, /* "aa:bb:...:tt" plus NUL */
	PUBKEY_PEM_MAX = 8192,		      /* bytes: generous for a 4096-bit private key */
};

struct pubkey; /* an RSA public key, or a key pair */

/* A new key pair of 2048, 3072 or 4096 bits, or NULL. */
struct pubkey *pubkey_generate(unsigned int bits);
/* Frees k; private parts are wiped by OpenSSL. NULL is fine. */
void pubkey_free(struct pubkey *k);
bool pubkey_has_private(const struct pubkey *k);
unsigned int pubkey_bits(const struct pubkey *k);
/* Signature length in bytes (the modulus size). */
size_t pubkey_sig_len(const struct pubkey *k);

/* Parse a DER SubjectPublicKeyInfo: RSA only, PUBKEY_BITS_MIN..MAX bits, canonical DER (the
 * input must be exactly what pubkey_to_der() would write), no trailing bytes. NULL for
 * anything else. */
struct pubkey *pubkey_from_der(const uint8_t *der, size_t len);
/* Public half as DER SubjectPublicKeyInfo into out; E_NOSPACE if cap is too small. */
int pubkey_to_der(const struct pubkey *k, uint8_t *out, size_t cap, size_t *len) WARN_UNUSED;

/* Parse PEM ("PRIVATE KEY", "RSA PRIVATE KEY" or "PUBLIC KEY"); encrypted keys are refused,
 * never prompted for. want_private demands a key pair. NULL on any error. */
struct pubkey *pubkey_from_pem(const char *pem, size_t len, bool want_private);
/* PEM text (NUL-terminated) of the private key (PKCS#8, unencrypted) or of the public key. */
int pubkey_to_pem(const struct pubkey *k, bool private_part, char *out, size_t cap,
		  size_t *len) WARN_UNUSED;

/* Signature over the concatenation of parts[0..n). E_KEY without a private key. */
int pubkey_sign(const struct pubkey *k, const struct span *parts, size_t n, uint8_t *sig,
		size_t cap, size_t *siglen) WARN_UNUSED;
/* 0 if sig is k's signature over the concatenation of parts, else E_SIGNATURE. */
int pubkey_verify(const struct pubkey *k, const struct span *parts, size_t n, const uint8_t *sig,
		  size_t siglen) WARN_UNUSED;

int pubkey_fingerprint(const struct pubkey *k, uint8_t fp[WIRE_KFP_LEN]) WARN_UNUSED;
void pubkey_fingerprint_str(const uint8_t fp[WIRE_KFP_LEN], char out[PUBKEY_FP_STR_LEN]);
/* Accepts the ':'-separated form or 40 plain hex digits, any case; E_ENCODING otherwise. */
int pubkey_fingerprint_parse(const char *s, uint8_t fp[WIRE_KFP_LEN]) WARN_UNUSED;

#endif
