/* SPDX-License-Identifier: MIT */
/*
 * dataplane/inet.c on random bytes. Byte 0 picks the function: 0 ipv4_parse, 1 arp_parse (and
 * arp_build must give the same bytes back), 2 tcp_mss_clamp (bytes 1-2 the MSS), 3
 * icmp_frag_needed (byte 1 the output capacity). Inputs and outputs are copied to heap blocks
 * of their exact size, so ASan sees any access past either end.
 */
#include <stdlib.h>
#include <string.h>

#include "dataplane/inet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
ipv4(const uint8_t *p, size_t n)
{
	struct ipv4_info in;

	if (ipv4_parse(p, n, &in) != 0)
		return;
	if (in.hlen < 20 || in.hlen > 60 || in.hlen > in.total || in.total > n)
		abort();
	(void)ipv4_cksum_ok(p, in.hlen);
}

static void
arp(const uint8_t *p, size_t n)
{
	static const uint8_t dst[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	uint8_t frame[INET_ETH_MIN_FRAME];
	struct arp_info a;

	if (arp_parse(p, n, &a) != 0)
		return;
	if (arp_build(frame, sizeof(frame), a.op, dst, a.sha, a.spa, a.tha, a.tpa) !=
		    sizeof(frame) ||
	    memcmp(frame + INET_ETH_HLEN, p, INET_ARP_LEN) != 0)
		abort();
}

/* The one's-complement sum of pseudo-header and segment, with 0 and 0xffff the same. */
static uint16_t
tcp_sum(const uint8_t *ip, const struct ipv4_info *in)
{
	uint8_t pseudo[12] = {0};
	uint16_t c;

	memcpy(pseudo, ip + 12, 8);
	pseudo[9] = INET_PROTO_TCP;
	pseudo[10] = (uint8_t)((in->total - in->hlen) >> 8);
	pseudo[11] = (uint8_t)(in->total - in->hlen);
	c = inet_fold(inet_sum(ip + in->hlen, in->total - in->hlen, inet_sum(pseudo, 12, 0)));
	return c == 0xffff ? 0 : c;
}

static void
mss(const uint8_t *p, size_t n, uint16_t mss_val)
{
	uint8_t *ip = malloc(n ? n : 1), *orig = malloc(n ? n : 1);
	struct ipv4_info in;
	int r;

	memcpy(ip, p, n);
	memcpy(orig, p, n);
	r = tcp_mss_clamp(ip, n, mss_val);
	if (r < 0 || r == 0) {
		if (memcmp(ip, orig, n) != 0)
			abort();
	} else if (r != 1 || ipv4_parse(orig, n, &in) != 0 ||
		   memcmp(ip + in.total, orig + in.total, n - in.total) != 0 ||
		   memcmp(ip, orig, (size_t)in.hlen + 16) != 0 ||
		   tcp_sum(ip, &in) != tcp_sum(orig, &in)) {
		abort();
	}
	free(ip);
	free(orig);
}

static void
frag_needed(const uint8_t *p, size_t n, size_t cap)
{
	uint8_t *out = malloc(cap ? cap : 1);
	struct ipv4_info o, in;
	size_t len = icmp_frag_needed(out, cap, p, n, 0x0a000001, 1400);

	if (len > 0 &&
	    (len > cap || ipv4_parse(out, len, &in) != 0 || in.total != len || in.hlen != 20 ||
	     !ipv4_cksum_ok(out, 20) || inet_cksum(out + 20, len - 20) != 0 ||
	     ipv4_parse(p, n, &o) != 0 || in.dst != o.src || memcmp(out + 28, p, len - 28) != 0))
		abort();
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy;
	size_t skip;

	if (size < 3)
		return 0;
	skip = (data[0] % 4 == 2 || data[0] % 4 == 3) ? 3 : 1;
	size -= skip;
	if ((copy = malloc(size ? size : 1)) == NULL)
		return 0;
	memcpy(copy, data + skip, size);
	switch (data[0] % 4) {
	case 0:
		ipv4(copy, size);
		break;
	case 1:
		arp(copy, size);
		break;
	case 2:
		mss(copy, size, (uint16_t)(data[1] << 8 | data[2]));
		break;
	default:
		frag_needed(copy, size, (size_t)data[1] << 8 | data[2]);
	}
	free(copy);
	return 0;
}
