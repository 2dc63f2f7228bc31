/* SPDX-License-Identifier: MIT */
/* Framing: TCP size fields, cleartext TCP frames, tunnel control packets. Byte 0 picks which. */
#include <stdlib.h>
#include <string.h>

#include "common/frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t again[2048];
	struct tunnel_ctl t;
	struct msg m;
	size_t total, len;

	if (size < 1)
		return 0;
	data++;
	size--;
	switch (data[-1] % 3) {
	case 0:
		if (size >= 4 && frame_tcp_total(data, &total) == 0 && (total < 8 || total > 65588))
			abort();
		break;
	case 1:
		if (frame_clear_decode(MSG_CH_CLEAR_C2S, data, size, &m) == 0 &&
		    (frame_clear_encode(MSG_CH_CLEAR_C2S, &m, again, sizeof(again), &len) != 0 ||
		     len != size || memcmp(again, data, size) != 0))
			abort();
		(void)frame_clear_decode(MSG_CH_CLEAR_S2C, data, size, &m);
		break;
	default:
		if (tunnel_ctl_decode(data, size, &t) == 0 &&
		    (tunnel_ctl_encode(&t, again, sizeof(again), &len) != 0 || len != size ||
		     memcmp(again, data, size) != 0))
			abort();
	}
	return 0;
}
