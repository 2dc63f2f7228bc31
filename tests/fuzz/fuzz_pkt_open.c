/* SPDX-License-Identifier: MIT */
/* pkt_open_udp / pkt_open_tcp under a fixed key. Byte 0: bit 0 picks the framing; bit 1 makes
 * the harness compute a valid MAC over the rest before opening, so the fuzzer reaches the
 * decryption and unpadding that a forged MAC would otherwise never get past. */
#include <stdlib.h>
#include <string.h>

#include "common/pkt.h"
#include "fuzz_key.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct crypto *crypto;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t pkt[70000], out[70000];
	struct pkt_hdr h;
	size_t len, got = 0;
	int udp, r;

	if (crypto == NULL && (crypto = crypto_new()) == NULL)
		abort();
	if (size < 1 || size - 1 > sizeof(pkt) - WIRE_MAC_LEN)
		return 0;
	udp = data[0] & 1;
	len = size - 1;
	memcpy(pkt, data + 1, len);
	if ((data[0] & 2) != 0) {
		uint8_t tag[20];
		struct span all = {pkt, len};

		if (crypto_hmac_sha1(crypto, fuzz_key.ka, sizeof(fuzz_key.ka), &all, 1, tag) != 0)
			abort();
		memcpy(pkt + len, tag, WIRE_MAC_LEN);
		len += WIRE_MAC_LEN;
	}
	r = udp ? pkt_open_udp(crypto, &fuzz_key, pkt, len, &h, out, sizeof(out), &got)
		: pkt_open_tcp(crypto, &fuzz_key, pkt, len, &h, out, sizeof(out), &got);
	if (r == 0 && got > pkt_open_cap(len) - 1)
		abort();
	if (r != 0 && got != 0)
		abort();
	return 0;
}
