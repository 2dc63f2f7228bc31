/* SPDX-License-Identifier: MIT */
/* Network password hashes: known answers, round trips, salts, and every malformed stored
 * string rejected before any derivation. */
#include <stdbool.h>
#include <time.h>

#include "common/err.h"
#include "mediator/passwd.h"
#include "test.h"

TEST_DEFINE_STATE;

#define SALT0 "000102030405060708090a0b0c0d0e0f"
#define HASH0 "a69b179e3add3c1e0aaf227a0eb3aa2aa8645ab86fecf6ca00c17512697c719e"

/*
 * Expected values from the OpenSSL command line, cross-checked with Python's
 * hashlib.pbkdf2_hmac('sha256', ...):
 *   openssl kdf -keylen 32 -kdfopt digest:SHA256 -kdfopt pass:'correct horse battery staple'
 *     -kdfopt hexsalt:000102030405060708090a0b0c0d0e0f -kdfopt iter:1000 PBKDF2
 *   openssl kdf ... -kdfopt pass: -kdfopt hexsalt:f0e1d2c3b4a5968778695a4b3c2d1e0f
 *     -kdfopt iter:75000 PBKDF2
 *   openssl kdf ... -kdfopt hexpass:6275726900ff -kdfopt hexsalt:5a5a...5a (16 bytes)
 *     -kdfopt iter:4096 PBKDF2
 */
struct kat {
	const char *pass;
	size_t len;
	const char *stored;
};

static const struct kat kats[] = {
	{"correct horse battery staple", 28, "pbkdf2-sha256$1000$" SALT0 "$" HASH0},
	{"", 0,
	 "pbkdf2-sha256$75000$f0e1d2c3b4a5968778695a4b3c2d1e0f$"
	 "88a0a9e25197584e739c283d5b29eda06ebf6c32dc94799e8c0220323e7c50e6"},
	{"buri\0\xff", 6,
	 "pbkdf2-sha256$4096$5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a$"
	 "8f4b0ff30f2d81caaefb98bfbcd5a62eedf380de5a41dee961f79d934fb7cd5b"},
};

static void
test_known_answers(void)
{
	TEST_START("passwd_verify accepts PBKDF2-SHA256 values computed by openssl kdf");
	for (size_t i = 0; i < sizeof(kats) / sizeof(kats[0]); i++)
		ASSERT_INT_EQ(passwd_verify(kats[i].pass, kats[i].len, kats[i].stored), 0);
	TEST_DONE();

	TEST_START("known answers refuse near misses, and the length counts past a NUL");
	ASSERT_INT_EQ(passwd_verify("correct horse battery stapl", 27, kats[0].stored), E_PASSWORD);
	ASSERT_INT_EQ(passwd_verify("Correct horse battery staple", 28, kats[0].stored),
		      E_PASSWORD);
	ASSERT_INT_EQ(passwd_verify(" ", 1, kats[1].stored), E_PASSWORD);
	ASSERT_INT_EQ(passwd_verify("buri", 4, kats[2].stored), E_PASSWORD);
	ASSERT_INT_EQ(passwd_verify("buri\0\xfe", 6, kats[2].stored), E_PASSWORD);
	ASSERT_INT_EQ(passwd_verify("correct horse battery staple", 28,
				    "pbkdf2-sha256$1001$" SALT0 "$" HASH0),
		      E_PASSWORD);
	ASSERT_INT_EQ(passwd_verify("correct horse battery staple", 28,
				    "pbkdf2-sha256$1000$" SALT0 "$" HASH0),
		      0);
	TEST_DONE();
}

static bool
is_lower_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

static double
ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

static void
test_round_trip(void)
{
	char a[PASSWD_HASH_MAX], b[PASSWD_HASH_MAX], want_prefix[32];
	struct timespec t0;
	size_t n;

	TEST_START("hash at the default cost, in the documented format, verifies");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ASSERT_INT_EQ(passwd_hash("hunter2", 7, PASSWD_ITER_DEFAULT, a), 0);
	printf("# passwd_hash at %u iterations: %.1f ms\n", PASSWD_ITER_DEFAULT, ms_since(&t0));
	snprintf(want_prefix, sizeof(want_prefix), "pbkdf2-sha256$%u$", PASSWD_ITER_DEFAULT);
	n = strlen(want_prefix);
	ASSERT_INT_EQ(strncmp(a, want_prefix, n), 0);
	ASSERT_INT_EQ(strlen(a), n + 32 + 1 + 64);
	ASSERT_TRUE(is_lower_hex(a + n, 32) && a[n + 32] == '$' && is_lower_hex(a + n + 33, 64));
	ASSERT_INT_EQ(passwd_verify("hunter2", 7, a), 0);
	ASSERT_INT_EQ(passwd_verify("hunter3", 7, a), E_PASSWORD);
	ASSERT_INT_EQ(passwd_verify("hunter", 6, a), E_PASSWORD);
	TEST_DONE();

	TEST_START("the same password hashes differently each time (fresh salt)");
	ASSERT_INT_EQ(passwd_hash("hunter2", 7, 1000, a), 0);
	ASSERT_INT_EQ(passwd_hash("hunter2", 7, 1000, b), 0);
	ASSERT_TRUE(strcmp(a, b) != 0);
	ASSERT_TRUE(memcmp(a, b, 19 + 32) != 0); /* the salts differ, not only the hashes */
	ASSERT_INT_EQ(passwd_verify("hunter2", 7, a), 0);
	ASSERT_INT_EQ(passwd_verify("hunter2", 7, b), 0);
	TEST_DONE();

	TEST_START("an empty password is hashed (policy is not this layer's)");
	ASSERT_INT_EQ(passwd_hash("", 0, 1000, a), 0);
	ASSERT_INT_EQ(passwd_verify("", 0, a), 0);
	ASSERT_INT_EQ(passwd_verify(NULL, 0, a), 0);
	ASSERT_INT_EQ(passwd_verify("x", 1, a), E_PASSWORD);
	TEST_DONE();

	TEST_START("passwd_hash refuses iteration counts outside 1000..10000000");
	memcpy(a, "junk", 5);
	ASSERT_INT_EQ(passwd_hash("x", 1, 999, a), E_INVAL);
	ASSERT_STR_EQ(a, "");
	ASSERT_INT_EQ(passwd_hash("x", 1, 0, a), E_INVAL);
	ASSERT_INT_EQ(passwd_hash("x", 1, 10000001, a), E_INVAL);
	TEST_DONE();
}

static void
test_malformed(void)
{
	static const char *const bad[] = {
		"",
		"pbkdf2-sha256",
		"pbkdf2-sha256$",
		"pbkdf2-sha1$1000$" SALT0 "$" HASH0,
		"PBKDF2-SHA256$1000$" SALT0 "$" HASH0,
		" pbkdf2-sha256$1000$" SALT0 "$" HASH0,
		"pbkdf2-sha256$$" SALT0 "$" HASH0,
		"pbkdf2-sha256$999$" SALT0 "$" HASH0,
		"pbkdf2-sha256$10000001$" SALT0 "$" HASH0,
		"pbkdf2-sha256$99999999$" SALT0 "$" HASH0,
		"pbkdf2-sha256$100000000$" SALT0 "$" HASH0,
		"pbkdf2-sha256$4294968296$" SALT0 "$" HASH0, /* 2^32 + 1000: no wrap-around */
		"pbkdf2-sha256$01000$" SALT0 "$" HASH0,
		"pbkdf2-sha256$+1000$" SALT0 "$" HASH0,
		"pbkdf2-sha256$-1000$" SALT0 "$" HASH0,
		"pbkdf2-sha256$ 1000$" SALT0 "$" HASH0,
		"pbkdf2-sha256$1000x$" SALT0 "$" HASH0,
		"pbkdf2-sha256$1000" SALT0 "$" HASH0,
		"pbkdf2-sha256$1000$" SALT0 HASH0,
		"pbkdf2-sha256$1000$" SALT0 "$$" HASH0,
		"pbkdf2-sha256$1000$$" SALT0 "$" HASH0,
		"pbkdf2-sha256$1000$0102030405060708090a0b0c0d0e0f$" HASH0,
		"pbkdf2-sha256$1000$" SALT0 "00$" HASH0,
		"pbkdf2-sha256$1000$g00102030405060708090a0b0c0d0e0$" HASH0,
		"pbkdf2-sha256$1000$" SALT0 "$" HASH0 "00",
		"pbkdf2-sha256$1000$" SALT0
		"$a69b179e3add3c1e0aaf227a0eb3aa2aa8645ab86fecf6ca00c17512697c71",
		"pbkdf2-sha256$1000$" SALT0
		"$a69b179e3add3c1e0aaf227a0eb3aa2aa8645ab86fecf6ca00c17512697c719z",
		"pbkdf2-sha256$1000$" SALT0 "$" HASH0 "$",
		"pbkdf2-sha256$1000$" SALT0 "$" HASH0 "\n",
		"pbkdf2-sha256$1000$" SALT0 "$" HASH0 " ",
	};
	char longer[PASSWD_HASH_MAX + 16];
	char name[64];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(name, sizeof(name), "malformed stored string %zu is E_INVAL", i + 1);
		TEST_START(name);
		ASSERT_INT_EQ(passwd_verify("correct horse battery staple", 28, bad[i]), E_INVAL);
		if (test_state.failed_here)
			printf("# the string: \"%s\"\n", bad[i]);
		TEST_DONE();
	}

	TEST_START("a stored string without a NUL within PASSWD_HASH_MAX is E_INVAL");
	memset(longer, 'a', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	memcpy(longer, "pbkdf2-sha256$1000$", 19);
	ASSERT_INT_EQ(passwd_verify("x", 1, longer), E_INVAL);
	TEST_DONE();
}

int
main(void)
{
	test_known_answers();
	test_round_trip();
	test_malformed();
	return test_finish();
}
