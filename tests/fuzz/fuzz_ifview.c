/* SPDX-License-Identifier: MIT */
/*
 * The /proc/net/route and /proc/net/arp parsers of dataplane/ifview.c on random text. Byte 0
 * picks the parser (bit 0) and the interface name (the rest); the text that follows is copied
 * to a heap block of its exact size with no NUL after it, so ASan sees any read past len.
 */
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "dataplane/ifview.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const names[] = {"eth0", "wan0", "lo", "a", "0123456789abcde"};

struct count {
	int n;
};

static void
count(void *arg, uint32_t ip, const uint8_t mac[6])
{
	struct count *c = arg;

	(void)ip;
	(void)mac;
	c->n++;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *ifname;
	struct count c = {0};
	uint32_t gw = 0;
	char *text;
	int r;

	if (size < 1)
		return 0;
	ifname = names[(data[0] >> 1) % (sizeof(names) / sizeof(names[0]))];
	if ((text = malloc(size - 1 ? size - 1 : 1)) == NULL)
		return 0;
	memcpy(text, data + 1, size - 1);
	if (data[0] & 1) {
		r = ifview_arp_parse(text, size - 1, ifname, count, &c);
		/* "0.0.0.0 0x1 0x2 00:00:00:00:00:00 * a" is the shortest entry: 37 bytes */
		if (r != c.n || r < 0 || (size_t)r * 37 > size)
			abort();
	} else {
		r = ifview_route_parse(text, size - 1, ifname, &gw);
		if ((r != 0 && r != E_NOTFOUND) || (r == 0 && gw == 0))
			abort();
	}
	free(text);
	return 0;
}
