/* SPDX-License-Identifier: MIT */
/* A relay's TCP byte stream, split into frames as relay_tcp_frame says, and each datagram
 * classified: every frame lies inside the input, lengths add up, nothing is read past it. */
#include <stdlib.h>

#include "common/err.h"
#include "common/relay.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0;
	int k;

	for (;;) {
		const uint8_t *d = NULL;
		size_t n = 0;
		uint32_t spi;

		k = relay_tcp_frame(data + off, size - off, &d, &n);
		if (k <= 0)
			break;
		if (d != data + off + 2 || n + 2 != (size_t)k || n < RELAY_DGRAM_MIN ||
		    off + (size_t)k > size)
			abort();
		(void)relay_classify(d, n, &spi);
		off += (size_t)k;
	}
	if (k != 0 && k != E_ENCODING)
		abort();
	return 0;
}
