/* SPDX-License-Identifier: MIT */
#include "dataplane/ivgen.h"

#include <string.h>

#include <openssl/evp.h>

#include "common/crypto.h"
#include "common/err.h"

static const uint8_t zeros[IVGEN_BATCH * WIRE_IV_LEN];

/* A fresh random key with the counter at zero; the old key schedule is overwritten. */
static int
rekey(struct ivgen *g)
{
	uint8_t key[16], ctr[16] = {0};
	int r = E_CRYPTO;

	if (crypto_random(key, sizeof(key)) != 0)
		goto out;
	if (EVP_EncryptInit_ex(g->cipher, EVP_aes_128_ctr(), NULL, key, ctr) != 1)
		goto out;
	g->used = 0;
	g->pos = IVGEN_BATCH;
	r = 0;
out:
	wipe(key, sizeof(key));
	return r;
}

int
ivgen_init(struct ivgen *g)
{
	int r;

	memset(g, 0, sizeof(*g));
	if ((g->cipher = EVP_CIPHER_CTX_new()) == NULL)
		return E_NOMEM;
	if ((r = rekey(g)) != 0)
		ivgen_free(g);
	return r;
}

void
ivgen_free(struct ivgen *g)
{
	EVP_CIPHER_CTX_free(g->cipher);
	wipe(g, sizeof(*g));
}

/* Keystream for the next IVGEN_BATCH IVs: CTR over zeros is the keystream itself. */
int
ivgen_refill(struct ivgen *g)
{
	int outl = 0;

	if (g->used + IVGEN_BATCH > IVGEN_REKEY && rekey(g) != 0)
		return E_CRYPTO;
	if (EVP_EncryptUpdate(g->cipher, g->buf, &outl, zeros, sizeof(zeros)) != 1 ||
	    outl != (int)sizeof(zeros))
		return E_CRYPTO;
	g->pos = 0;
	return 0;
}
