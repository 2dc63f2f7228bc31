/* SPDX-License-Identifier: MIT */
#include "mediator/passwd.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "common/crypto.h"
#include "common/err.h"
#include "common/hex.h"

static const char prefix[] = "pbkdf2-sha256$";

enum {
	PREFIX_LEN = sizeof(prefix) - 1,
	ITER_DIGITS_MAX = 8, /* PASSWD_ITER_MAX has 8 */
	SALT_HEX = 2 * PASSWD_SALT_LEN,
	OUT_HEX = 2 * PASSWD_OUT_LEN,
};

_Static_assert(PREFIX_LEN + ITER_DIGITS_MAX + 1 + SALT_HEX + 1 + OUT_HEX < PASSWD_HASH_MAX,
	       "PASSWD_HASH_MAX too small for the longest stored string");

/* The KDF is fetched on every call: a fetch costs microseconds, the derivation itself is
 * meant to cost milliseconds, and a per-call fetch keeps this file free of shared state. */
static int
derive(const char *pass, size_t len, const uint8_t salt[PASSWD_SALT_LEN], unsigned int iter,
       uint8_t out[PASSWD_OUT_LEN])
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "PBKDF2", NULL);
	EVP_KDF_CTX *ctx = kdf != NULL ? EVP_KDF_CTX_new(kdf) : NULL;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD,
						  (void *)(len > 0 ? pass : ""), len),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt,
						  PASSWD_SALT_LEN),
		OSSL_PARAM_construct_uint(OSSL_KDF_PARAM_ITER, &iter),
		OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0),
		OSSL_PARAM_construct_end(),
	};
	int r = E_CRYPTO;

	if (ctx != NULL && EVP_KDF_derive(ctx, out, PASSWD_OUT_LEN, params) == 1)
		r = 0;
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	return r;
}

static bool
iter_ok(unsigned long n)
{
	return n >= PASSWD_ITER_MIN && n <= PASSWD_ITER_MAX;
}

int
passwd_hash(const char *pass, size_t len, unsigned int iterations, char out[PASSWD_HASH_MAX])
{
	uint8_t salt[PASSWD_SALT_LEN], dk[PASSWD_OUT_LEN];
	char salt_hex[SALT_HEX + 1], dk_hex[OUT_HEX + 1];
	int r;

	out[0] = '\0';
	if (!iter_ok(iterations))
		return E_INVAL;
	if ((r = crypto_random(salt, sizeof(salt))) != 0)
		goto out;
	if ((r = derive(pass, len, salt, iterations, dk)) != 0)
		goto out;
	hex_encode(salt, sizeof(salt), salt_hex);
	hex_encode(dk, sizeof(dk), dk_hex);
	snprintf(out, PASSWD_HASH_MAX, "%s%u$%s$%s", prefix, iterations, salt_hex, dk_hex);
out:
	wipe(dk, sizeof(dk));
	wipe(dk_hex, sizeof(dk_hex));
	return r;
}

/* Decimal, 1 to 8 digits, no sign and no leading zero, within the limits, then '$'.
 * Advances *s past the '$'. */
static int
parse_iter(const char **s, unsigned int *iter)
{
	const char *p = *s;
	unsigned long n = 0;
	size_t digits = 0;

	if (*p == '0')
		return E_INVAL;
	for (; *p >= '0' && *p <= '9' && digits < ITER_DIGITS_MAX; p++, digits++)
		n = n * 10 + (unsigned long)(*p - '0');
	if (digits == 0 || *p != '$' || !iter_ok(n))
		return E_INVAL;
	*iter = (unsigned int)n;
	*s = p + 1;
	return 0;
}

/* Validates stored completely before anything is derived from it. */
static int
parse(const char *stored, unsigned int *iter, uint8_t salt[PASSWD_SALT_LEN],
      uint8_t dk[PASSWD_OUT_LEN])
{
	const char *p = stored;
	size_t n;

	if (strnlen(stored, PASSWD_HASH_MAX) >= PASSWD_HASH_MAX ||
	    strncmp(p, prefix, PREFIX_LEN) != 0)
		return E_INVAL;
	p += PREFIX_LEN;
	if (parse_iter(&p, iter) != 0)
		return E_INVAL;
	if (strlen(p) != SALT_HEX + 1 + OUT_HEX || p[SALT_HEX] != '$')
		return E_INVAL;
	if (hex_decode(p, SALT_HEX, salt, PASSWD_SALT_LEN, &n) != 0 ||
	    hex_decode(p + SALT_HEX + 1, OUT_HEX, dk, PASSWD_OUT_LEN, &n) != 0)
		return E_INVAL;
	return 0;
}

int
passwd_verify(const char *pass, size_t len, const char *stored)
{
	uint8_t salt[PASSWD_SALT_LEN], want[PASSWD_OUT_LEN], got[PASSWD_OUT_LEN];
	unsigned int iter = 0;
	int r;

	if ((r = parse(stored, &iter, salt, want)) != 0)
		goto out;
	if ((r = derive(pass, len, salt, iter, got)) != 0)
		goto out;
	r = crypto_ct_equal(got, want, sizeof(got)) ? 0 : E_PASSWORD;
out:
	wipe(got, sizeof(got));
	wipe(want, sizeof(want));
	return r;
}
