/* SPDX-License-Identifier: MIT */
/* Known answers for the suite-1 primitives: AES-256-CBC from NIST SP 800-38A (F.2.5, F.2.6)
 * and HMAC-SHA1 from RFC 2202, all seven cases, plus the 96-bit truncation of case 5. */
#include "common/crypto.h"
#include "common/err.h"
#include "common/hex.h"
#include "test.h"

TEST_DEFINE_STATE;

static size_t
unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;

	if (hex_decode(s, strlen(s), out, cap, &n) != 0) {
		printf("# bad hex in test table: %s\n", s);
		exit(1);
	}
	return n;
}

static void
test_aes_cbc(struct crypto *c)
{
	static const char key[] =
		"603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4";
	static const char iv[] = "000102030405060708090a0b0c0d0e0f";
	static const char pt[] = "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
				 "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710";
	static const char ct[] = "f58c4c04d6e5f1ba779eabfb5f7bfbd69cfc4e967edb808d679f777bc6702c7d"
				 "39f23369a9d9bacfa530e26304231461b2eb05e2c39be9fcda6c19078c6a9d1b";
	uint8_t k[32], v[16], p[64], want[64], got[64];

	unhex(key, k, sizeof(k));
	unhex(iv, v, sizeof(v));
	unhex(pt, p, sizeof(p));
	unhex(ct, want, sizeof(want));

	TEST_START("AES-256-CBC encrypt, NIST SP 800-38A F.2.5");
	ASSERT_INT_EQ(crypto_cbc_encrypt(c, k, v, p, sizeof(p), got), 0);
	ASSERT_MEM_EQ(got, want, sizeof(want));
	TEST_DONE();

	TEST_START("AES-256-CBC decrypt, NIST SP 800-38A F.2.6");
	ASSERT_INT_EQ(crypto_cbc_decrypt(c, k, v, want, sizeof(want), got), 0);
	ASSERT_MEM_EQ(got, p, sizeof(p));
	TEST_DONE();

	TEST_START("AES-256-CBC in place gives the same bytes");
	memcpy(got, p, sizeof(p));
	ASSERT_INT_EQ(crypto_cbc_encrypt(c, k, v, got, sizeof(got), got), 0);
	ASSERT_MEM_EQ(got, want, sizeof(want));
	TEST_DONE();

	TEST_START("AES-256-CBC refuses a length that is not a block multiple");
	ASSERT_INT_EQ(crypto_cbc_encrypt(c, k, v, p, 20, got), E_INVAL);
	ASSERT_INT_EQ(crypto_cbc_decrypt(c, k, v, p, 15, got), E_INVAL);
	TEST_DONE();
}

struct hmac_case {
	const char *key_hex;
	const char *data; /* text, or hex if it starts with "hex:" */
	const char *digest_hex;
};

static void
test_hmac_sha1(struct crypto *c)
{
	static const struct hmac_case cases[] = {
		{"0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "Hi There",
		 "b617318655057264e28bc0b6fb378c8ef146be00"},
		{"4a656665", "what do ya want for nothing?",
		 "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"},
		{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		 "hex:dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
		 "dddddddddddddddddddddddddddd",
		 "125d7342b9ac11cd91a39af48aa17b4f63f175d3"},
		{"0102030405060708090a0b0c0d0e0f10111213141516171819",
		 "hex:cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd"
		 "cdcdcdcdcdcdcdcdcdcdcdcdcdcd",
		 "4c9007f4026250c6bc8414f9bf50c86c2d7235da"},
		{"0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c", "Test With Truncation",
		 "4c1a03424b55e07fe7f27be1d58bb9324a9a5a04"},
		{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		 "Test Using Larger Than Block-Size Key - Hash Key First",
		 "aa4ae5e15272d00e95705637ce8a3b55ed402112"},
		{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		 "Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data",
		 "e8e99d0f45237d786d6bbaa7965c7808bbff1a91"},
	};

	TEST_START("HMAC-SHA1, RFC 2202 test cases 1-7");
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		uint8_t key[80], data[80], want[20], got[20];
		size_t klen = unhex(cases[i].key_hex, key, sizeof(key)), dlen;
		struct span part;

		if (strncmp(cases[i].data, "hex:", 4) == 0) {
			dlen = unhex(cases[i].data + 4, data, sizeof(data));
		} else {
			dlen = strlen(cases[i].data);
			memcpy(data, cases[i].data, dlen);
		}
		unhex(cases[i].digest_hex, want, sizeof(want));
		part = (struct span){data, dlen};
		ASSERT_INT_EQ(crypto_hmac_sha1(c, key, klen, &part, 1, got), 0);
		if (memcmp(got, want, sizeof(want)) != 0)
			printf("# RFC 2202 case %zu\n", i + 1);
		ASSERT_MEM_EQ(got, want, sizeof(want));
	}
	TEST_DONE();

	TEST_START("HMAC-SHA1 over parts equals HMAC over their concatenation (RFC 2202 case 2)");
	{
		uint8_t want[20], got[20];
		struct span parts[] = {
			{(const uint8_t *)"what do ya", 10},
			{(const uint8_t *)"", 0},
			{(const uint8_t *)" want for nothing?", 18},
		};

		unhex("effcdf6ae5eb2fa2d27416d5f184df9c259a7c79", want, sizeof(want));
		ASSERT_INT_EQ(crypto_hmac_sha1(c, (const uint8_t *)"Jefe", 4, parts, 3, got), 0);
		ASSERT_MEM_EQ(got, want, sizeof(want));
	}
	TEST_DONE();
}

static void
test_helpers(struct crypto *c)
{
	uint8_t a[64], b[64], digest[20], want[20];

	TEST_START("SHA-1 of \"abc\" (FIPS 180-2 appendix A)");
	unhex("a9993e364706816aba3e25717850c26c9cd0d89d", want, sizeof(want));
	ASSERT_INT_EQ(crypto_sha1(c, (const uint8_t *)"abc", 3, digest), 0);
	ASSERT_MEM_EQ(digest, want, sizeof(want));
	TEST_DONE();

	TEST_START("crypto_ct_equal: equal, and differing in the first or last byte");
	memset(a, 0x5a, sizeof(a));
	memcpy(b, a, sizeof(b));
	ASSERT_TRUE(crypto_ct_equal(a, b, sizeof(a)));
	b[0] ^= 1;
	ASSERT_TRUE(!crypto_ct_equal(a, b, sizeof(a)));
	b[0] ^= 1;
	b[63] ^= 0x80;
	ASSERT_TRUE(!crypto_ct_equal(a, b, sizeof(a)));
	TEST_DONE();

	TEST_START("crypto_random: fills, and two draws differ");
	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	ASSERT_INT_EQ(crypto_random(a, sizeof(a)), 0);
	ASSERT_INT_EQ(crypto_random(b, sizeof(b)), 0);
	ASSERT_TRUE(memcmp(a, b, sizeof(a)) != 0);
	TEST_DONE();

	TEST_START("wipe zeroes");
	wipe(a, sizeof(a));
	memset(b, 0, sizeof(b));
	ASSERT_MEM_EQ(a, b, sizeof(a));
	TEST_DONE();
}

int
main(void)
{
	struct crypto *c = crypto_new();

	TEST_START("crypto_new fetches AES-256-CBC, HMAC and SHA-1");
	ASSERT_TRUE(c != NULL);
	TEST_DONE();
	if (c == NULL)
		return test_finish();
	test_aes_cbc(c);
	test_hmac_sha1(c);
	test_helpers(c);
	crypto_free(c);
	return test_finish();
}
