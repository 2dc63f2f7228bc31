/* SPDX-License-Identifier: MIT */
/*
 * Network passwords, kept only as salted slow hashes: PBKDF2-HMAC-SHA256 (RFC 8018 section
 * 5.2) with a 16-byte random salt and a 32-byte output, stored as the NUL-terminated string
 *
 *	pbkdf2-sha256$<iterations>$<salt, 32 hex digits>$<hash, 64 hex digits>
 *
 * The iteration count travels in the string, so PASSWD_ITER_DEFAULT can rise later without
 * invalidating stored hashes. Both calls take tens of milliseconds on purpose: the mediator
 * runs them on its worker pool (mediator/pool.h), never on the event loop. Thread-safe.
 */
#ifndef BURI_MED_PASSWD_H
#define BURI_MED_PASSWD_H

#include <stddef.h>

#include "common/util.h"

#define PASSWD_HASH_MAX 128 /* bytes, with the NUL; the longest string is 121 */

/*
 * Measured on the development machine (AMD EPYC, 2 cores, OpenSSL 3.0.19): about 215 ns per
 * iteration, so 75000 iterations take 16 ms and OWASP's 2023 figure for PBKDF2-SHA256
 * (600000) takes 128 ms. The mediator we size for has 2 cores; at 600000 both together
 * check about 15 passwords a second and a burst of 100 joins waits 6 s, while at 75000 they
 * check about 115 a second (measured with two threads). The price is that an attacker
 * holding a copy of the store guesses 8 times faster than OWASP's target allows. These
 * passwords only let an already registered node (an account with its RSA key) join one
 * network, so we take that trade.
 */
#define PASSWD_ITER_DEFAULT 75000

enum passwd_limits {
	PASSWD_SALT_LEN = 16,	    /* bytes */
	PASSWD_OUT_LEN = 32,	    /* bytes, the SHA-256 size */
	PASSWD_ITER_MIN = 1000,	    /* fewer is no longer a slow hash */
	PASSWD_ITER_MAX = 10000000, /* more lets a corrupted store stall a worker for seconds */
};

/* Hashes pass[0..len) (any bytes, empty allowed: policy is the caller's) with a fresh salt
 * and the given iteration count into out. E_INVAL if iterations is outside
 * PASSWD_ITER_MIN..PASSWD_ITER_MAX, E_CRYPTO if OpenSSL fails; out is "" on failure. */
int passwd_hash(const char *pass, size_t len, unsigned int iterations,
		char out[PASSWD_HASH_MAX]) WARN_UNUSED;

/* 0 if pass[0..len) matches stored (compared in constant time), E_PASSWORD if not, E_INVAL
 * if stored is malformed (unknown scheme, iterations outside the limits or with a leading
 * zero, a salt or hash of the wrong length or not hex), E_CRYPTO if OpenSSL fails. */
int passwd_verify(const char *pass, size_t len, const char *stored) WARN_UNUSED;

#endif
