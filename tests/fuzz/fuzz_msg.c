/* SPDX-License-Identifier: MIT */
/* Message bodies on every channel. Byte 0 picks the channel; the rest is the body. Whatever
 * decodes must encode back to the same bytes. */
#include <stdlib.h>
#include <string.h>

#include "common/msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t again[4096];
	struct msg m;
	unsigned int channel;
	size_t len;

	if (size < 1)
		return 0;
	channel = 1u << (data[0] % 9); /* the nine MSG_CH_* bits */
	if (msg_decode(channel, data + 1, size - 1, &m) != 0)
		return 0;
	if (msg_encode(channel, &m, again, sizeof(again), &len) != 0 || len != size - 1 ||
	    memcmp(again, data + 1, len) != 0)
		abort();
	return 0;
}
