/* SPDX-License-Identifier: MIT */
#include "common/crypto.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "common/err.h"

struct crypto {
	EVP_CIPHER *aes;
	EVP_MAC *hmac;
	EVP_MD *sha1;
	EVP_CIPHER_CTX *cctx;
	EVP_MAC_CTX *mctx;
	EVP_MD_CTX *dctx;
};

struct crypto *
crypto_new(void)
{
	struct crypto *c = OPENSSL_zalloc(sizeof(*c));
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA1", 0),
		OSSL_PARAM_construct_end(),
	};

	if (c == NULL)
		return NULL;
	c->aes = EVP_CIPHER_fetch(NULL, "AES-256-CBC", NULL);
	c->hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	c->sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
	c->cctx = EVP_CIPHER_CTX_new();
	c->dctx = EVP_MD_CTX_new();
	c->mctx = c->hmac != NULL ? EVP_MAC_CTX_new(c->hmac) : NULL;
	if (c->aes == NULL || c->sha1 == NULL || c->cctx == NULL || c->dctx == NULL ||
	    c->mctx == NULL || !EVP_MAC_CTX_set_params(c->mctx, params)) {
		crypto_free(c);
		return NULL;
	}
	return c;
}

void
crypto_free(struct crypto *c)
{
	if (c == NULL)
		return;
	EVP_CIPHER_CTX_free(c->cctx);
	EVP_MAC_CTX_free(c->mctx);
	EVP_MD_CTX_free(c->dctx);
	EVP_CIPHER_free(c->aes);
	EVP_MAC_free(c->hmac);
	EVP_MD_free(c->sha1);
	OPENSSL_clear_free(c, sizeof(*c));
}

static int
cbc(struct crypto *c, int enc, const uint8_t *key, const uint8_t *iv, const uint8_t *in, size_t len,
    uint8_t *out)
{
	int n1 = 0, n2 = 0;

	if (len % CRYPTO_AES_BLOCK != 0 || len > INT32_MAX)
		return E_INVAL;
	if (!EVP_CipherInit_ex2(c->cctx, c->aes, key, iv, enc, NULL) ||
	    !EVP_CIPHER_CTX_set_padding(c->cctx, 0))
		return E_CRYPTO;
	if (len > 0 && !EVP_CipherUpdate(c->cctx, out, &n1, in, (int)len))
		return E_CRYPTO;
	if (!EVP_CipherFinal_ex(c->cctx, out + n1, &n2) || (size_t)(n1 + n2) != len)
		return E_CRYPTO;
	return 0;
}

int
crypto_cbc_encrypt(struct crypto *c, const uint8_t key[CRYPTO_AES_KEY_LEN],
		   const uint8_t iv[CRYPTO_AES_BLOCK], const uint8_t *in, size_t len, uint8_t *out)
{
	return cbc(c, 1, key, iv, in, len, out);
}

int
crypto_cbc_decrypt(struct crypto *c, const uint8_t key[CRYPTO_AES_KEY_LEN],
		   const uint8_t iv[CRYPTO_AES_BLOCK], const uint8_t *in, size_t len, uint8_t *out)
{
	return cbc(c, 0, key, iv, in, len, out);
}

int
crypto_hmac_sha1(struct crypto *c, const uint8_t *key, size_t keylen, const struct span *parts,
		 size_t n, uint8_t out[CRYPTO_SHA1_LEN])
{
	size_t outlen = 0;

	/* HMAC keys may be empty (RFC 2104); OpenSSL wants a non-NULL pointer then. */
	if (!EVP_MAC_init(c->mctx, keylen > 0 ? key : (const uint8_t *)"", keylen, NULL))
		return E_CRYPTO;
	for (size_t i = 0; i < n; i++)
		if (parts[i].len > 0 && !EVP_MAC_update(c->mctx, parts[i].p, parts[i].len))
			return E_CRYPTO;
	if (!EVP_MAC_final(c->mctx, out, &outlen, CRYPTO_SHA1_LEN) || outlen != CRYPTO_SHA1_LEN)
		return E_CRYPTO;
	return 0;
}

int
crypto_sha1(struct crypto *c, const uint8_t *p, size_t n, uint8_t out[CRYPTO_SHA1_LEN])
{
	unsigned int outlen = 0;

	if (!EVP_DigestInit_ex2(c->dctx, c->sha1, NULL) || !EVP_DigestUpdate(c->dctx, p, n) ||
	    !EVP_DigestFinal_ex(c->dctx, out, &outlen) || outlen != CRYPTO_SHA1_LEN)
		return E_CRYPTO;
	return 0;
}

int
crypto_random(void *p, size_t n)
{
	if (n > INT32_MAX)
		return E_INVAL;
	return RAND_bytes(p, (int)n) == 1 ? 0 : E_CRYPTO;
}

bool
crypto_ct_equal(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}

void
wipe(void *p, size_t n)
{
	OPENSSL_cleanse(p, n);
}
