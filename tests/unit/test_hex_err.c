/* SPDX-License-Identifier: MIT */
/* Small helpers: hex text and the error-code scheme. */
#include "common/err.h"
#include "common/hex.h"
#include "test.h"

TEST_DEFINE_STATE;

static void
test_hex(void)
{
	uint8_t out[8];
	char text[17];
	size_t len;

	TEST_START("hex_decode: either case; odd length, bad digit and overflow refused");
	ASSERT_INT_EQ(hex_decode("00fFa5", 6, out, sizeof(out), &len), 0);
	ASSERT_INT_EQ(len, 3);
	ASSERT_MEM_EQ(out, "\x00\xff\xa5", 3);
	ASSERT_INT_EQ(hex_decode("", 0, out, sizeof(out), &len), 0);
	ASSERT_INT_EQ(len, 0);
	ASSERT_INT_EQ(hex_decode("abc", 3, out, sizeof(out), &len), E_ENCODING);
	ASSERT_INT_EQ(hex_decode("0g", 2, out, sizeof(out), &len), E_ENCODING);
	ASSERT_INT_EQ(hex_decode(" 0", 2, out, sizeof(out), &len), E_ENCODING);
	ASSERT_INT_EQ(hex_decode("0x12", 4, out, sizeof(out), &len), E_ENCODING);
	ASSERT_INT_EQ(hex_decode("000000000000000000", 18, out, sizeof(out), &len), E_NOSPACE);
	ASSERT_INT_EQ(len, 0);
	TEST_DONE();

	TEST_START("hex_encode: lowercase, NUL-terminated");
	hex_encode((const uint8_t *)"\x01\xab\xff", 3, text);
	ASSERT_STR_EQ(text, "01abff");
	hex_encode(NULL, 0, text);
	ASSERT_STR_EQ(text, "");
	TEST_DONE();
}

static void
test_err(void)
{
	static const int codes[] = {
#define ERR_CODE(name, num, str) name,
		ERR_LIST(ERR_CODE)
#undef ERR_CODE
	};

	TEST_START("every code has its own string and a wire value equal to -code");
	for (size_t i = 0; i < ARRAY_SIZE(codes); i++) {
		ASSERT_TRUE(codes[i] < 0);
		ASSERT_TRUE(strcmp(err_str(codes[i]), "unknown error") != 0);
		ASSERT_INT_EQ(err_to_wire(codes[i]), -codes[i]);
		ASSERT_TRUE(err_known(err_to_wire(codes[i])));
		for (size_t j = 0; j < i; j++)
			ASSERT_TRUE(codes[i] != codes[j]);
	}
	ASSERT_STR_EQ(err_str(0), "success");
	ASSERT_STR_EQ(err_str(-9999), "unknown error");
	ASSERT_INT_EQ(err_to_wire(0), 0);
	ASSERT_TRUE(!err_known(9999));
	TEST_DONE();

	TEST_START("wire codes stay where PROTOCOL.md put them");
	ASSERT_INT_EQ(err_to_wire(E_MAC), 32);
	ASSERT_INT_EQ(err_to_wire(E_SERVERKEY), 96);
	ASSERT_INT_EQ(err_to_wire(E_CONF), 64);
	TEST_DONE();
}

int
main(void)
{
	test_hex();
	test_err();
	return test_finish();
}
