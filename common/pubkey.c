/* SPDX-License-Identifier: MIT */
#include "common/pubkey.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#include "common/crypto.h"
#include "common/err.h"
#include "common/hex.h"

struct pubkey {
	EVP_PKEY *pkey;
	bool has_private;
};

static struct pubkey *
wrap(EVP_PKEY *pkey, bool has_private)
{
	struct pubkey *k;

	if (pkey == NULL)
		return NULL;
	if (!EVP_PKEY_is_a(pkey, "RSA") || EVP_PKEY_get_bits(pkey) < PUBKEY_BITS_MIN ||
	    EVP_PKEY_get_bits(pkey) > PUBKEY_BITS_MAX || (k = calloc(1, sizeof(*k))) == NULL) {
		EVP_PKEY_free(pkey);
		return NULL;
	}
	k->pkey = pkey;
	k->has_private = has_private;
	return k;
}

struct pubkey *
pubkey_generate(unsigned int bits)
{
	if (bits != 2048 && bits != 3072 && bits != 4096)
		return NULL;
	return wrap(EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits), true);
}

void
pubkey_free(struct pubkey *k)
{
	if (k == NULL)
		return;
	EVP_PKEY_free(k->pkey);
	free(k);
}

bool
pubkey_has_private(const struct pubkey *k)
{
	return k->has_private;
}

unsigned int
pubkey_bits(const struct pubkey *k)
{
	return (unsigned int)EVP_PKEY_get_bits(k->pkey);
}

size_t
pubkey_sig_len(const struct pubkey *k)
{
	return (size_t)EVP_PKEY_get_size(k->pkey);
}

/* True if der is the one DER encoding of pkey. BER leniencies (long-form lengths, padded
 * integers) would give one key several wire forms, and the mediator binds identities to the
 * bytes it stores. */
static bool
canonical(EVP_PKEY *pkey, const uint8_t *der, size_t len)
{
	uint8_t again[WIRE_PUBKEY_MAX];
	uint8_t *p = again;

	return i2d_PUBKEY(pkey, NULL) == (int)len && i2d_PUBKEY(pkey, &p) == (int)len &&
	       memcmp(again, der, len) == 0;
}

struct pubkey *
pubkey_from_der(const uint8_t *der, size_t len)
{
	const uint8_t *p = der;
	EVP_PKEY *pkey;

	if (len == 0 || len > WIRE_PUBKEY_MAX)
		return NULL;
	pkey = d2i_PUBKEY_ex(NULL, &p, (long)len, NULL, NULL);
	if (pkey != NULL && (p != der + len || !canonical(pkey, der, len))) {
		EVP_PKEY_free(pkey);
		return NULL;
	}
	return wrap(pkey, false);
}

int
pubkey_to_der(const struct pubkey *k, uint8_t *out, size_t cap, size_t *len)
{
	int n = i2d_PUBKEY(k->pkey, NULL);
	uint8_t *p = out;

	*len = 0;
	if (n <= 0)
		return E_CRYPTO;
	if ((size_t)n > cap)
		return E_NOSPACE;
	if (i2d_PUBKEY(k->pkey, &p) != n)
		return E_CRYPTO;
	*len = (size_t)n;
	return 0;
}

/* Refuses to decrypt: a daemon must never stop to prompt on a terminal. */
static int
no_password(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

struct pubkey *
pubkey_from_pem(const char *pem, size_t len, bool want_private)
{
	BIO *bio;
	EVP_PKEY *pkey;

	if (len == 0 || len > PUBKEY_PEM_MAX || (bio = BIO_new_mem_buf(pem, (int)len)) == NULL)
		return NULL;
	if (want_private)
		pkey = PEM_read_bio_PrivateKey_ex(bio, NULL, no_password, NULL, NULL, NULL);
	else
		pkey = PEM_read_bio_PUBKEY_ex(bio, NULL, no_password, NULL, NULL, NULL);
	BIO_free(bio);
	return wrap(pkey, want_private);
}

int
pubkey_to_pem(const struct pubkey *k, bool private_part, char *out, size_t cap, size_t *len)
{
	BIO *bio = BIO_new(BIO_s_secmem());
	char *data = NULL;
	long n;
	int r = E_CRYPTO;

	*len = 0;
	if (bio == NULL || (private_part && !k->has_private))
		goto out;
	if (private_part ? !PEM_write_bio_PrivateKey(bio, k->pkey, NULL, NULL, 0, NULL, NULL)
			 : !PEM_write_bio_PUBKEY(bio, k->pkey))
		goto out;
	n = BIO_get_mem_data(bio, &data);
	if (n <= 0)
		goto out;
	if ((size_t)n + 1 > cap) {
		r = E_NOSPACE;
		goto out;
	}
	memcpy(out, data, (size_t)n);
	out[n] = '\0';
	*len = (size_t)n;
	r = 0;
out:
	BIO_free(bio); /* secure-heap BIO: cleared on free */
	return r;
}

int
pubkey_sign(const struct pubkey *k, const struct span *parts, size_t n, uint8_t *sig, size_t cap,
	    size_t *siglen)
{
	EVP_MD_CTX *md = NULL;
	size_t len = cap;
	int r = E_CRYPTO;

	*siglen = 0;
	if (!k->has_private)
		return E_KEY;
	if (cap < pubkey_sig_len(k))
		return E_NOSPACE;
	if ((md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit_ex(md, NULL, "SHA1", NULL, NULL, k->pkey, NULL) <= 0)
		goto out;
	for (size_t i = 0; i < n; i++)
		if (EVP_DigestSignUpdate(md, parts[i].p, parts[i].len) <= 0)
			goto out;
	if (EVP_DigestSignFinal(md, sig, &len) <= 0)
		goto out;
	*siglen = len;
	r = 0;
out:
	EVP_MD_CTX_free(md);
	return r;
}

int
pubkey_verify(const struct pubkey *k, const struct span *parts, size_t n, const uint8_t *sig,
	      size_t siglen)
{
	EVP_MD_CTX *md = NULL;
	int r = E_SIGNATURE;

	if (siglen != pubkey_sig_len(k))
		return E_SIGNATURE;
	if ((md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestVerifyInit_ex(md, NULL, "SHA1", NULL, NULL, k->pkey, NULL) <= 0) {
		r = E_CRYPTO;
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		if (EVP_DigestVerifyUpdate(md, parts[i].p, parts[i].len) <= 0)
			goto out;
	if (EVP_DigestVerifyFinal(md, sig, siglen) == 1)
		r = 0;
out:
	EVP_MD_CTX_free(md);
	return r;
}

int
pubkey_fingerprint(const struct pubkey *k, uint8_t fp[WIRE_KFP_LEN])
{
	uint8_t der[WIRE_PUBKEY_MAX];
	size_t len;
	int r;

	if ((r = pubkey_to_der(k, der, sizeof(der), &len)) != 0)
		return r;
	if (!EVP_Q_digest(NULL, "SHA1", NULL, der, len, fp, NULL))
		return E_CRYPTO;
	return 0;
}

void
pubkey_fingerprint_str(const uint8_t fp[WIRE_KFP_LEN], char out[PUBKEY_FP_STR_LEN])
{
	char pair[3];

	for (size_t i = 0; i < WIRE_KFP_LEN; i++) {
		hex_encode(fp + i, 1, pair);
		out[3 * i] = pair[0];
		out[3 * i + 1] = pair[1];
		out[3 * i + 2] = i + 1 < WIRE_KFP_LEN ? ':' : '\0';
	}
}

int
pubkey_fingerprint_parse(const char *s, uint8_t fp[WIRE_KFP_LEN])
{
	char plain[2 * WIRE_KFP_LEN];
	size_t n = 0, len = strlen(s), got;
	bool colons = len == PUBKEY_FP_STR_LEN - 1;

	if (!colons && len != sizeof(plain))
		return E_ENCODING;
	for (size_t i = 0; i < len; i++) {
		if (colons && i % 3 == 2) {
			if (s[i] != ':')
				return E_ENCODING;
			continue;
		}
		plain[n++] = s[i];
	}
	if (hex_decode(plain, n, fp, WIRE_KFP_LEN, &got) != 0 || got != WIRE_KFP_LEN)
		return E_ENCODING;
	return 0;
}
