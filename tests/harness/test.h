/* SPDX-License-Identifier: MIT */
/*
 * A tiny TAP producer for the C tests (meson runs them with protocol 'tap').
 *
 *   TEST_START("seal/open round trip");
 *   ASSERT_INT_EQ(r, 0);
 *   ASSERT_MEM_EQ(got, want, n);
 *   TEST_DONE();
 *   ...
 *   return test_finish();
 *
 * A failed assertion prints where and what (hex dumps for memory) as TAP diagnostics, marks
 * the current test failed and continues with the next statement, so one run shows every
 * failure. Tests are run in sequence; the state below is per test program.
 */
#ifndef BURI_TEST_H
#define BURI_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct test_state {
	const char *name;
	int number;
	int failed_here;
	int failed_total;
};

extern struct test_state test_state;

#define TEST_DEFINE_STATE struct test_state test_state

static inline void
test_start(const char *name)
{
	test_state.name = name;
	test_state.failed_here = 0;
}

static inline void
test_done(void)
{
	test_state.number++;
	printf("%s %d - %s\n", test_state.failed_here ? "not ok" : "ok", test_state.number,
	       test_state.name);
	fflush(stdout);
	if (test_state.failed_here)
		test_state.failed_total++;
}

static inline int
test_finish(void)
{
	printf("1..%d\n", test_state.number);
	return test_state.failed_total == 0 ? 0 : 1;
}

static inline void
test_fail(const char *file, int line, const char *what)
{
	printf("# %s:%d: %s: %s\n", file, line, test_state.name, what);
	test_state.failed_here = 1;
}

static inline void
test_hexdump(const char *label, const void *p, size_t n)
{
	const unsigned char *b = p;

	printf("# %s (%zu bytes):", label, n);
	for (size_t i = 0; i < n; i++)
		printf("%s%02x", i % 32 == 0 ? "\n#   " : "", b[i]);
	printf("\n");
}

#define TEST_START(name) test_start(name)
#define TEST_DONE()	 test_done()

#define ASSERT_TRUE(x)                                                                             \
	do {                                                                                       \
		if (!(x))                                                                          \
			test_fail(__FILE__, __LINE__, "expected true: " #x);                       \
	} while (0)

#define ASSERT_INT_EQ(a, b)                                                                        \
	do {                                                                                       \
		long long a_ = (long long)(a), b_ = (long long)(b);                                \
		if (a_ != b_) {                                                                    \
			char msg_[256];                                                            \
			snprintf(msg_, sizeof(msg_), "%s == %s: got %lld, want %lld", #a, #b, a_,  \
				 b_);                                                              \
			test_fail(__FILE__, __LINE__, msg_);                                       \
		}                                                                                  \
	} while (0)

#define ASSERT_INT_NE(a, b)                                                                        \
	do {                                                                                       \
		long long a_ = (long long)(a), b_ = (long long)(b);                                \
		if (a_ == b_) {                                                                    \
			char msg_[256];                                                            \
			snprintf(msg_, sizeof(msg_), "%s != %s: both %lld", #a, #b, a_);           \
			test_fail(__FILE__, __LINE__, msg_);                                       \
		}                                                                                  \
	} while (0)

#define ASSERT_STR_EQ(a, b)                                                                        \
	do {                                                                                       \
		const char *a_ = (a), *b_ = (b);                                                   \
		if (a_ == NULL || b_ == NULL || strcmp(a_, b_) != 0) {                             \
			char msg_[1024];                                                           \
			snprintf(msg_, sizeof(msg_), "%s == %s: got \"%s\", want \"%s\"", #a, #b,  \
				 a_ ? a_ : "(null)", b_ ? b_ : "(null)");                          \
			test_fail(__FILE__, __LINE__, msg_);                                       \
		}                                                                                  \
	} while (0)

#define ASSERT_MEM_EQ(a, b, n)                                                                     \
	do {                                                                                       \
		size_t n_ = (n);                                                                   \
		if (memcmp((a), (b), n_) != 0) {                                                   \
			test_fail(__FILE__, __LINE__, "memory differs: " #a " vs " #b);            \
			test_hexdump("got", (a), n_);                                              \
			test_hexdump("want", (b), n_);                                             \
		}                                                                                  \
	} while (0)

#endif
