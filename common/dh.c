/* SPDX-License-Identifier: MIT */
#include "common/dh.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/dh.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <string.h>

#include "common/crypto.h"
#include "common/err.h"

/* RFC 3526 group 14: 2^2048 - 2^1984 - 1 + 2^64 * ([2^1918 pi] + 124476). The unit tests check
 * this against OpenSSL's "modp_2048" and against the formula. */
const uint8_t dh_modp2048_p[WIRE_DH_LEN] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xc9, 0x0f, 0xda, 0xa2, 0x21, 0x68, 0xc2,
	0x34, 0xc4, 0xc6, 0x62, 0x8b, 0x80, 0xdc, 0x1c, 0xd1, 0x29, 0x02, 0x4e, 0x08, 0x8a, 0x67,
	0xcc, 0x74, 0x02, 0x0b, 0xbe, 0xa6, 0x3b, 0x13, 0x9b, 0x22, 0x51, 0x4a, 0x08, 0x79, 0x8e,
	0x34, 0x04, 0xdd, 0xef, 0x95, 0x19, 0xb3, 0xcd, 0x3a, 0x43, 0x1b, 0x30, 0x2b, 0x0a, 0x6d,
	0xf2, 0x5f, 0x14, 0x37, 0x4f, 0xe1, 0x35, 0x6d, 0x6d, 0x51, 0xc2, 0x45, 0xe4, 0x85, 0xb5,
	0x76, 0x62, 0x5e, 0x7e, 0xc6, 0xf4, 0x4c, 0x42, 0xe9, 0xa6, 0x37, 0xed, 0x6b, 0x0b, 0xff,
	0x5c, 0xb6, 0xf4, 0x06, 0xb7, 0xed, 0xee, 0x38, 0x6b, 0xfb, 0x5a, 0x89, 0x9f, 0xa5, 0xae,
	0x9f, 0x24, 0x11, 0x7c, 0x4b, 0x1f, 0xe6, 0x49, 0x28, 0x66, 0x51, 0xec, 0xe4, 0x5b, 0x3d,
	0xc2, 0x00, 0x7c, 0xb8, 0xa1, 0x63, 0xbf, 0x05, 0x98, 0xda, 0x48, 0x36, 0x1c, 0x55, 0xd3,
	0x9a, 0x69, 0x16, 0x3f, 0xa8, 0xfd, 0x24, 0xcf, 0x5f, 0x83, 0x65, 0x5d, 0x23, 0xdc, 0xa3,
	0xad, 0x96, 0x1c, 0x62, 0xf3, 0x56, 0x20, 0x85, 0x52, 0xbb, 0x9e, 0xd5, 0x29, 0x07, 0x70,
	0x96, 0x96, 0x6d, 0x67, 0x0c, 0x35, 0x4e, 0x4a, 0xbc, 0x98, 0x04, 0xf1, 0x74, 0x6c, 0x08,
	0xca, 0x18, 0x21, 0x7c, 0x32, 0x90, 0x5e, 0x46, 0x2e, 0x36, 0xce, 0x3b, 0xe3, 0x9e, 0x77,
	0x2c, 0x18, 0x0e, 0x86, 0x03, 0x9b, 0x27, 0x83, 0xa2, 0xec, 0x07, 0xa2, 0x8f, 0xb5, 0xc5,
	0x5d, 0xf0, 0x6f, 0x4c, 0x52, 0xc9, 0xde, 0x2b, 0xcb, 0xf6, 0x95, 0x58, 0x17, 0x18, 0x39,
	0x95, 0x49, 0x7c, 0xea, 0x95, 0x6a, 0xe5, 0x15, 0xd2, 0x26, 0x18, 0x98, 0xfa, 0x05, 0x10,
	0x15, 0x72, 0x8e, 0x5a, 0x8a, 0xac, 0xaa, 0x68, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff,
};

static const char group_name[] = "modp_2048";

struct dh {
	EVP_PKEY *pkey;
	uint8_t pub[WIRE_DH_LEN];
};

static int
export_public(struct dh *d)
{
	BIGNUM *y = NULL;
	int r = E_CRYPTO;

	if (EVP_PKEY_get_bn_param(d->pkey, OSSL_PKEY_PARAM_PUB_KEY, &y) &&
	    BN_bn2binpad(y, d->pub, sizeof(d->pub)) == (int)sizeof(d->pub))
		r = 0;
	BN_free(y);
	return r;
}

struct dh *
dh_generate(void)
{
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)group_name, 0),
		OSSL_PARAM_construct_end(),
	};
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "DH", NULL);
	struct dh *d = OPENSSL_zalloc(sizeof(*d));

	if (ctx == NULL || d == NULL || EVP_PKEY_keygen_init(ctx) <= 0 ||
	    !EVP_PKEY_CTX_set_params(ctx, params) || EVP_PKEY_generate(ctx, &d->pkey) <= 0 ||
	    export_public(d) != 0) {
		dh_free(d);
		d = NULL;
	}
	EVP_PKEY_CTX_free(ctx);
	return d;
}

void
dh_free(struct dh *d)
{
	if (d == NULL)
		return;
	EVP_PKEY_free(d->pkey);
	OPENSSL_clear_free(d, sizeof(*d));
}

void
dh_public(const struct dh *d, uint8_t out[WIRE_DH_LEN])
{
	memcpy(out, d->pub, WIRE_DH_LEN);
}

int
dh_check_public(const uint8_t y[WIRE_DH_LEN])
{
	uint8_t two[WIRE_DH_LEN] = {0}, pm2[WIRE_DH_LEN];

	/* p is odd and its last byte is 0xff, so p - 2 only changes the last byte. */
	two[WIRE_DH_LEN - 1] = 2;
	memcpy(pm2, dh_modp2048_p, sizeof(pm2));
	pm2[WIRE_DH_LEN - 1] -= 2;
	/* Equal-length big-endian strings compare like the numbers they encode; y is public. */
	if (memcmp(y, two, WIRE_DH_LEN) < 0 || memcmp(y, pm2, WIRE_DH_LEN) > 0)
		return E_DHPUB;
	return 0;
}

/* An EVP_PKEY holding only the peer's public value in our group. */
static EVP_PKEY *
peer_key(const uint8_t y[WIRE_DH_LEN])
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	BIGNUM *bn = BN_bin2bn(y, WIRE_DH_LEN, NULL);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "DH", NULL);
	OSSL_PARAM *params = NULL;
	EVP_PKEY *peer = NULL;

	if (bld == NULL || bn == NULL || ctx == NULL ||
	    !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group_name, 0) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PUB_KEY, bn) ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL || EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &peer, EVP_PKEY_PUBLIC_KEY, params) <= 0)
		peer = NULL;
	OSSL_PARAM_free(params);
	EVP_PKEY_CTX_free(ctx);
	BN_free(bn);
	OSSL_PARAM_BLD_free(bld);
	return peer;
}

int
dh_derive(const struct dh *d, const uint8_t y[WIRE_DH_LEN], uint8_t k[WIRE_DH_LEN])
{
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *peer = NULL;
	size_t klen = WIRE_DH_LEN;
	int r;

	if ((r = dh_check_public(y)) != 0)
		goto out;
	r = E_CRYPTO;
	if ((peer = peer_key(y)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_pkey(NULL, d->pkey, NULL)) == NULL ||
	    EVP_PKEY_derive_init(ctx) <= 0 || EVP_PKEY_CTX_set_dh_pad(ctx, 1) <= 0 ||
	    /* Validation by OpenSSL would add a full modular exponentiation per login for no
	     * gain over dh_check_public() with a safe prime. */
	    EVP_PKEY_derive_set_peer_ex(ctx, peer, 0) <= 0 || EVP_PKEY_derive(ctx, k, &klen) <= 0 ||
	    klen != WIRE_DH_LEN)
		goto out;
	r = 0;
out:
	if (r != 0)
		wipe(k, WIRE_DH_LEN);
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(peer);
	return r;
}
