/* SPDX-License-Identifier: MIT */
/* Bounds-checked reader/writer and the UTF-8 check. */
#include "common/buf.h"
#include "common/err.h"
#include "test.h"

TEST_DEFINE_STATE;

static void
test_reader_fields(void)
{
	static const uint8_t in[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06,
				     0x07, 0x00, 0x02, 'h',  'i'};
	struct buf_reader r;
	struct span s;
	uint8_t u8;
	uint16_t u16;
	uint32_t u32;

	TEST_START("reader: integers are big-endian, spans borrow the input");
	buf_reader_init(&r, in, sizeof(in));
	ASSERT_INT_EQ(buf_get_u8(&r, &u8), 0);
	ASSERT_INT_EQ(u8, 0x01);
	ASSERT_INT_EQ(buf_get_u16(&r, &u16), 0);
	ASSERT_INT_EQ(u16, 0x0203);
	ASSERT_INT_EQ(buf_get_u32(&r, &u32), 0);
	ASSERT_INT_EQ(u32, 0x04050607);
	ASSERT_INT_EQ(buf_get_str16(&r, &s, 16), 0);
	ASSERT_INT_EQ(s.len, 2);
	ASSERT_TRUE(s.p == in + 9);
	ASSERT_INT_EQ(buf_end(&r), 0);
	TEST_DONE();
}

static void
test_reader_truncation(void)
{
	static const uint8_t in[] = {0xaa, 0xbb, 0xcc};
	struct buf_reader r;
	uint32_t u32 = 99;
	uint8_t u8 = 99;

	TEST_START("reader: short read fails, is sticky and zeroes outputs");
	buf_reader_init(&r, in, sizeof(in));
	ASSERT_INT_EQ(buf_get_u32(&r, &u32), E_SHORT);
	ASSERT_INT_EQ(u32, 0);
	/* the three bytes are still there, but the reader has failed for good */
	ASSERT_INT_EQ(buf_get_u8(&r, &u8), E_SHORT);
	ASSERT_INT_EQ(u8, 0);
	ASSERT_INT_EQ(buf_end(&r), E_SHORT);
	TEST_DONE();

	TEST_START("reader: unread bytes are E_TRAILING");
	buf_reader_init(&r, in, sizeof(in));
	ASSERT_INT_EQ(buf_get_u8(&r, &u8), 0);
	ASSERT_INT_EQ(buf_left(&r), 2);
	ASSERT_INT_EQ(buf_end(&r), E_TRAILING);
	TEST_DONE();
}

static void
test_blob_bounds(void)
{
	static const uint8_t three[] = {0x00, 0x03, 'a', 'b', 'c'};
	static const uint8_t lies[] = {0xff, 0xff, 'a'};
	struct buf_reader r;
	struct span s;

	TEST_START("blob16: length outside [min, max] is E_RANGE");
	buf_reader_init(&r, three, sizeof(three));
	ASSERT_INT_EQ(buf_get_blob16(&r, &s, 4, 10), E_RANGE);
	buf_reader_init(&r, three, sizeof(three));
	ASSERT_INT_EQ(buf_get_blob16(&r, &s, 0, 2), E_RANGE);
	buf_reader_init(&r, three, sizeof(three));
	ASSERT_INT_EQ(buf_get_blob16(&r, &s, 3, 3), 0);
	ASSERT_INT_EQ(s.len, 3);
	TEST_DONE();

	TEST_START("blob16: a length beyond the input is E_SHORT, never an over-read");
	buf_reader_init(&r, lies, sizeof(lies));
	ASSERT_INT_EQ(buf_get_blob16(&r, &s, 0, 65535), E_SHORT);
	ASSERT_TRUE(s.p == NULL && s.len == 0);
	TEST_DONE();
}

static void
test_writer(void)
{
	static const uint8_t want[] = {0x12, 0x34, 0x56, 0x78, 0x9a, 0x00, 0x02, 'o', 'k'};
	uint8_t out[sizeof(want)], small[4];
	struct buf_writer w;

	TEST_START("writer: fields in order, big-endian");
	buf_writer_init(&w, out, sizeof(out));
	buf_put_u16(&w, 0x1234);
	buf_put_u16(&w, 0x5678);
	buf_put_u8(&w, 0x9a);
	ASSERT_INT_EQ(buf_put_blob16(&w, "ok", 2), 0);
	ASSERT_INT_EQ(buf_written(&w), sizeof(want));
	ASSERT_MEM_EQ(out, want, sizeof(want));
	TEST_DONE();

	TEST_START("writer: overflow is E_NOSPACE, sticky, nothing past cap");
	memset(small, 0xee, sizeof(small));
	buf_writer_init(&w, small, 3);
	ASSERT_INT_EQ(buf_put_u32(&w, 0x01020304), E_NOSPACE);
	ASSERT_INT_EQ(buf_put_u8(&w, 1), E_NOSPACE);
	ASSERT_INT_EQ(buf_written(&w), 0);
	ASSERT_INT_EQ(small[3], 0xee);
	TEST_DONE();
}

static void
test_u64(void)
{
	static const uint8_t want[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
				       0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe};
	uint8_t out[sizeof(want)], small[7];
	struct buf_reader r;
	struct buf_writer w;
	uint64_t v = 99;

	TEST_START("u64: big-endian both ways, the high half included");
	buf_writer_init(&w, out, sizeof(out));
	buf_put_u64(&w, 0x0102030405060708ull);
	ASSERT_INT_EQ(buf_put_u64(&w, UINT64_MAX - 1), 0);
	ASSERT_MEM_EQ(out, want, sizeof(want));
	buf_reader_init(&r, want, sizeof(want));
	ASSERT_INT_EQ(buf_get_u64(&r, &v), 0);
	ASSERT_TRUE(v == 0x0102030405060708ull);
	ASSERT_INT_EQ(buf_get_u64(&r, &v), 0);
	ASSERT_TRUE(v == UINT64_MAX - 1);
	ASSERT_INT_EQ(buf_end(&r), 0);
	TEST_DONE();

	TEST_START("u64: seven bytes are E_SHORT / E_NOSPACE, sticky, output zeroed");
	buf_reader_init(&r, want, 7);
	ASSERT_INT_EQ(buf_get_u64(&r, &v), E_SHORT);
	ASSERT_TRUE(v == 0);
	ASSERT_INT_EQ(buf_end(&r), E_SHORT);
	memset(small, 0xee, sizeof(small));
	buf_writer_init(&w, small, sizeof(small));
	ASSERT_INT_EQ(buf_put_u64(&w, 1), E_NOSPACE);
	ASSERT_INT_EQ(buf_put_u8(&w, 1), E_NOSPACE);
	ASSERT_INT_EQ(buf_written(&w), 0);
	ASSERT_INT_EQ(small[0], 0xee);
	TEST_DONE();
}

struct utf8_case {
	const char *bytes;
	size_t len;
	int valid;
};

static void
test_utf8(void)
{
	static const struct utf8_case cases[] = {
		{"", 0, 1},
		{"plain ascii", 11, 1},
		{"\xc3\xa9t\xc3\xa9", 5, 1}, /* été */
		{"\xe2\x82\xac", 3, 1},	     /* euro sign */
		{"\xf0\x9f\x8e\xae", 4, 1},  /* U+1F3AE */
		{"\xf4\x8f\xbf\xbf", 4, 1},  /* U+10FFFF, the last code point */
		{"a\0b", 3, 0},		     /* NUL */
		{"\xc0\xaf", 2, 0},	     /* overlong '/' */
		{"\xe0\x80\xaf", 3, 0},	     /* overlong, 3 bytes */
		{"\xed\xa0\x80", 3, 0},	     /* surrogate U+D800 */
		{"\xf4\x90\x80\x80", 4, 0},  /* U+110000 */
		{"\xf5\x80\x80\x80", 4, 0},  /* invalid lead */
		{"\x80", 1, 0},		     /* lone continuation */
		{"\xc3", 1, 0},		     /* truncated */
		{"\xe2\x82", 2, 0},	     /* truncated */
		{"\xe2\x28\xa1", 3, 0},	     /* bad continuation */
		{"\xff", 1, 0},
	};

	TEST_START("utf8_valid: table of well-formed and ill-formed strings");
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		int got = utf8_valid((const uint8_t *)cases[i].bytes, cases[i].len);

		if (got != cases[i].valid) {
			printf("# case %zu: got %d want %d\n", i, got, cases[i].valid);
			ASSERT_INT_EQ(got, cases[i].valid);
		}
	}
	TEST_DONE();
}

int
main(void)
{
	test_reader_fields();
	test_reader_truncation();
	test_blob_bounds();
	test_writer();
	test_u64();
	test_utf8();
	return test_finish();
}
