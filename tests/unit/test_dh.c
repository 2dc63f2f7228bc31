/* SPDX-License-Identifier: MIT */
/* RFC 3526 group 14 Diffie-Hellman: the prime, public-value checks, agreement. */
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "common/dh.h"
#include "common/err.h"
#include "test.h"

TEST_DEFINE_STATE;

static void
test_prime_matches_openssl(void)
{
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)"modp_2048",
						 0),
		OSSL_PARAM_construct_end(),
	};
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "DH", NULL);
	EVP_PKEY *params_key = NULL;
	BIGNUM *p = NULL, *g = NULL;
	uint8_t got[WIRE_DH_LEN];

	TEST_START("dh_modp2048_p is OpenSSL's modp_2048 prime, generator 2");
	ASSERT_TRUE(ctx != NULL && EVP_PKEY_paramgen_init(ctx) > 0 &&
		    EVP_PKEY_CTX_set_params(ctx, params) &&
		    EVP_PKEY_paramgen(ctx, &params_key) > 0);
	ASSERT_TRUE(params_key != NULL &&
		    EVP_PKEY_get_bn_param(params_key, OSSL_PKEY_PARAM_FFC_P, &p) &&
		    EVP_PKEY_get_bn_param(params_key, OSSL_PKEY_PARAM_FFC_G, &g));
	if (p != NULL && g != NULL) {
		ASSERT_INT_EQ(BN_bn2binpad(p, got, sizeof(got)), sizeof(got));
		ASSERT_MEM_EQ(got, dh_modp2048_p, sizeof(got));
		ASSERT_TRUE(BN_is_word(g, 2));
	}
	BN_free(p);
	BN_free(g);
	EVP_PKEY_free(params_key);
	EVP_PKEY_CTX_free(ctx);
	TEST_DONE();
}

/* p + delta as a 256-byte string, for small |delta| (p ends in 0xff...ff). */
static void
near_p(int delta, uint8_t out[WIRE_DH_LEN])
{
	int carry = delta;

	memcpy(out, dh_modp2048_p, WIRE_DH_LEN);
	for (int i = WIRE_DH_LEN - 1; i >= 0 && carry != 0; i--) {
		int v = out[i] + carry;

		out[i] = (uint8_t)(v & 0xff);
		carry = v >> 8; /* arithmetic shift: -1 for a borrow */
	}
}

static void
test_public_checks(void)
{
	static const struct {
		const char *what;
		int from_p; /* 1: value is p + delta; 0: value is delta */
		int delta;
		int want;
	} rows[] = {
		{"0", 0, 0, E_DHPUB}, {"1", 0, 1, E_DHPUB},	{"2", 0, 2, 0},
		{"3", 0, 3, 0},	      {"p - 2", 1, -2, 0},	{"p - 1", 1, -1, E_DHPUB},
		{"p", 1, 0, E_DHPUB}, {"p + 1", 1, 1, E_DHPUB}, {"p - 3", 1, -3, 0},
	};
	uint8_t y[WIRE_DH_LEN];

	TEST_START("dh_check_public: accepts 2..p-2, rejects 0, 1, p-1, p and above");
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		if (rows[i].from_p) {
			near_p(rows[i].delta, y);
		} else {
			memset(y, 0, sizeof(y));
			y[WIRE_DH_LEN - 1] = (uint8_t)rows[i].delta;
		}
		if (dh_check_public(y) != rows[i].want)
			printf("# row %s\n", rows[i].what);
		ASSERT_INT_EQ(dh_check_public(y), rows[i].want);
	}
	memset(y, 0xff, sizeof(y));
	ASSERT_INT_EQ(dh_check_public(y), E_DHPUB);
	TEST_DONE();
}

static void
test_derive_rejects(void)
{
	struct dh *d = dh_generate();
	uint8_t y[WIRE_DH_LEN], k[WIRE_DH_LEN], zero[WIRE_DH_LEN] = {0};

	TEST_START("dh_derive refuses p - 1 and 1 and leaves K zeroed");
	ASSERT_TRUE(d != NULL);
	if (d != NULL) {
		near_p(-1, y);
		memset(k, 0xaa, sizeof(k));
		ASSERT_INT_EQ(dh_derive(d, y, k), E_DHPUB);
		ASSERT_MEM_EQ(k, zero, sizeof(k));
		memset(y, 0, sizeof(y));
		y[WIRE_DH_LEN - 1] = 1;
		ASSERT_INT_EQ(dh_derive(d, y, k), E_DHPUB);
	}
	dh_free(d);
	TEST_DONE();
}

/* Both sides of many exchanges agree. Runs until several secrets and public values with a
 * leading zero byte were seen (about 1 in 256 each), so the left-padding is exercised. */
static void
test_agreement(void)
{
	enum { MAX_TRIALS = 6000, WANT_ZERO_K = 3, WANT_ZERO_PUB = 3 };
	int trials = 0, zero_k = 0, zero_pub = 0, mismatches = 0, failures = 0;

	TEST_START("agreement: K_a == K_b over many exchanges, leading zero bytes kept");
	while (trials < MAX_TRIALS && (zero_k < WANT_ZERO_K || zero_pub < WANT_ZERO_PUB)) {
		struct dh *a = dh_generate(), *b = dh_generate();
		uint8_t ya[WIRE_DH_LEN], yb[WIRE_DH_LEN], ka[WIRE_DH_LEN], kb[WIRE_DH_LEN];

		trials++;
		if (a == NULL || b == NULL) {
			failures++;
			goto next;
		}
		dh_public(a, ya);
		dh_public(b, yb);
		if (dh_derive(a, yb, ka) != 0 || dh_derive(b, ya, kb) != 0) {
			failures++;
			goto next;
		}
		mismatches += memcmp(ka, kb, sizeof(ka)) != 0;
		zero_k += ka[0] == 0;
		zero_pub += (ya[0] == 0) + (yb[0] == 0);
	next:
		dh_free(a);
		dh_free(b);
	}
	printf("# %d exchanges, %d secrets and %d public values with a leading zero byte\n", trials,
	       zero_k, zero_pub);
	ASSERT_INT_EQ(failures, 0);
	ASSERT_INT_EQ(mismatches, 0);
	ASSERT_TRUE(zero_k >= WANT_ZERO_K);
	ASSERT_TRUE(zero_pub >= WANT_ZERO_PUB);
	TEST_DONE();
}

static void
test_fresh_keys(void)
{
	struct dh *a = dh_generate(), *b = dh_generate();
	uint8_t ya[WIRE_DH_LEN], yb[WIRE_DH_LEN];

	TEST_START("two key pairs have different public values, both in range");
	ASSERT_TRUE(a != NULL && b != NULL);
	if (a != NULL && b != NULL) {
		dh_public(a, ya);
		dh_public(b, yb);
		ASSERT_TRUE(memcmp(ya, yb, sizeof(ya)) != 0);
		ASSERT_INT_EQ(dh_check_public(ya), 0);
		ASSERT_INT_EQ(dh_check_public(yb), 0);
	}
	dh_free(a);
	dh_free(b);
	dh_free(NULL);
	TEST_DONE();
}

int
main(void)
{
	test_prime_matches_openssl();
	test_public_checks();
	test_derive_rejects();
	test_fresh_keys();
	test_agreement();
	return test_finish();
}
