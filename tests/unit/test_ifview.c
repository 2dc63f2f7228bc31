/* SPDX-License-Identifier: MIT */
/*
 * dataplane/ifview.c: lo as the kernel reports it (needs no root and changes nothing), a missing
 * interface, bad names, then the /proc/net/route and /proc/net/arp parsers on sample texts with
 * malformed lines, hex edge cases and a length that ends before the text does.
 */
#include <limits.h>
#include <net/if.h>

#include "common/err.h"
#include "dataplane/ifview.h"
#include "test.h"

TEST_DEFINE_STATE;

static const char *const bad_names[] = {"", "0123456789abcdef", "a/b", "..", ".", "a b", "a\tb"};

static unsigned
sysfs_mtu(const char *ifname)
{
	char path[128];
	unsigned mtu = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/class/net/%s/mtu", ifname);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	if (fscanf(f, "%u", &mtu) != 1)
		mtu = 0;
	fclose(f);
	return mtu;
}

static void
test_lo(void)
{
	static const uint8_t zero[6] = {0};
	struct ifview v;
	unsigned mtu = sysfs_mtu("lo");
	int r;

	TEST_START("ifview_get: lo is up, 127.0.0.1/8, its sysfs MTU, no MAC");
	ASSERT_INT_EQ(ifview_get("lo", &v), 0);
	ASSERT_INT_EQ(v.ifindex, if_nametoindex("lo"));
	ASSERT_TRUE(v.up);
	ASSERT_INT_EQ(v.addr, 0x7f000001);
	ASSERT_INT_EQ(v.mask, 0xff000000);
	ASSERT_INT_NE(mtu, 0);
	ASSERT_INT_EQ(v.mtu, mtu);
	ASSERT_MEM_EQ(v.mac, zero, 6);
	TEST_DONE();

	TEST_START("ifview_set_mtu: lo to its own MTU (a no-op), out-of-range values");
	r = ifview_set_mtu("lo", mtu);
	/* without CAP_NET_ADMIN the kernel refuses even a no-op */
	ASSERT_TRUE(r == 0 || r == E_IO);
	ASSERT_INT_EQ(ifview_set_mtu("lo", UINT_MAX), E_RANGE);
	ASSERT_INT_EQ(ifview_set_mtu("lo", (unsigned)INT_MAX + 1), E_RANGE);
	ASSERT_INT_EQ(sysfs_mtu("lo"), mtu);
	TEST_DONE();
}

static void
test_missing(void)
{
	struct ifview v;
	uint32_t gw = 7;

	TEST_START("a missing interface: E_NOTFOUND everywhere, bad names E_INVAL");
	memset(&v, 0xaa, sizeof(v));
	ASSERT_INT_EQ(ifview_get("buri-nosuch0", &v), E_NOTFOUND);
	ASSERT_INT_EQ(v.ifindex, 0);
	ASSERT_INT_EQ(v.mtu, 0);
	ASSERT_INT_EQ(ifview_set_mtu("buri-nosuch0", 1400), E_NOTFOUND);
	ASSERT_INT_EQ(ifview_gateway("buri-nosuch0", &gw), E_NOTFOUND);
	ASSERT_INT_EQ(gw, 7);
	ASSERT_INT_EQ(ifview_arp("buri-nosuch0", NULL, NULL), 0);
	/* 0 only on a kernel without IPv6, where there is nothing to disable */
	{
		int r = ifview_disable_ipv6("buri-nosuch0");

		ASSERT_TRUE(r == E_NOTFOUND || r == 0);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad_names); i++) {
		ASSERT_INT_EQ(ifview_get(bad_names[i], &v), E_INVAL);
		ASSERT_INT_EQ(ifview_set_mtu(bad_names[i], 1400), E_INVAL);
		ASSERT_INT_EQ(ifview_disable_ipv6(bad_names[i]), E_INVAL);
		ASSERT_INT_EQ(ifview_gateway(bad_names[i], &gw), E_INVAL);
		ASSERT_INT_EQ(ifview_arp(bad_names[i], NULL, NULL), E_INVAL);
	}
	ASSERT_INT_EQ(ifview_get(NULL, &v), E_INVAL);
	/* the longest legal name is merely missing */
	ASSERT_INT_EQ(ifview_get("0123456789abcde", &v), E_NOTFOUND);
	TEST_DONE();
}

/* Tabs and trailing spaces as the kernel writes them; addresses in the CPU's byte order. */
static const char route_text[] =
	"Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT"
	"                                                       \n"
	"eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0                 \n"
	"eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n"
	/* wan0 has two defaults: metric 50 wins over 100, whatever the order */
	"wan0\t00000000\t0100000a\t0003\t0\t0\t100\t00000000\t0\t0\t0\n"
	"wan0\t00000000\tfe00000a\t0003\t0\t0\t50\t00000000\t0\t0\t0\n"
	"wan0\t00000000\tfd00000a\t0003\t0\t0\t70\t00000000\t0\t0\t0\n"
	/* not defaults, or not usable: host route, no GATEWAY flag, down, no gateway, /1 */
	"tun0\t0100000A\t0200000A\t0007\t0\t0\t0\tFFFFFFFF\t0\t0\t0\n"
	"tun0\t00000000\t0200000A\t0001\t0\t0\t0\t00000000\t0\t0\t0\n"
	"tun0\t00000000\t0200000A\t0002\t0\t0\t0\t00000000\t0\t0\t0\n"
	"tun0\t00000000\t00000000\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"
	"tun0\t00000000\t0200000A\t0003\t0\t0\t0\t00000080\t0\t0\t0\n"
	/* malformed: bad hex, 9 digits, 0x prefix, sign, missing fields, bad metric */
	"bad0\t00000000\t0g0200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"
	"bad0\t00000000\t0010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"
	"bad0\t00000000\t0x0200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"
	"bad0\t00000000\t+10200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"
	"bad0\t00000000\t010200C0\t0003\t0\t0\t0\n"
	"bad0\t00000000\t010200C0\t0003\t0\t0\t-1\t00000000\t0\t0\t0\n"
	"bad0\t00000000\t010200C0\t0003\t0\t0\t99999999999\t00000000\t0\t0\t0\n"
	"\n"
	"   \n"
	/* hex edge cases: one digit, all ones, lower case, spaces not tabs, no final newline */
	"odd0 0 FFFFFFFF 3 0 0 4294967295 0";

static uint32_t
route_addr(uint32_t host)
{
	/* what the kernel prints is the network-order value read as a native integer */
	union {
		uint8_t b[4];
		uint32_t v;
	} u = {{(uint8_t)(host >> 24), (uint8_t)(host >> 16), (uint8_t)(host >> 8), (uint8_t)host}};

	return u.v;
}

static void
test_route_parse(void)
{
	const size_t n = sizeof(route_text) - 1;
	char text[sizeof(route_text) + 64];
	uint32_t gw = 0;

	TEST_START("ifview_route_parse: default routes, metrics, malformed lines, hex edges");
	/* the samples are written for a little-endian CPU; elsewhere check the encoding helper */
	if (route_addr(0xc0000201) != 0x010200c0) {
		printf("# big-endian CPU: sample texts skipped\n");
		TEST_DONE();
		return;
	}
	ASSERT_INT_EQ(ifview_route_parse(route_text, n, "eth0", &gw), 0);
	ASSERT_INT_EQ(gw, 0xc0000201);
	ASSERT_INT_EQ(ifview_route_parse(route_text, n, "wan0", &gw), 0);
	ASSERT_INT_EQ(gw, 0x0a0000fe);
	ASSERT_INT_EQ(ifview_route_parse(route_text, n, "odd0", &gw), 0);
	ASSERT_INT_EQ(gw, 0xffffffff);
	gw = 7;
	ASSERT_INT_EQ(ifview_route_parse(route_text, n, "tun0", &gw), E_NOTFOUND);
	ASSERT_INT_EQ(ifview_route_parse(route_text, n, "bad0", &gw), E_NOTFOUND);
	ASSERT_INT_EQ(ifview_route_parse(route_text, n, "eth", &gw), E_NOTFOUND);
	ASSERT_INT_EQ(ifview_route_parse(route_text, n, "eth00", &gw), E_NOTFOUND);
	ASSERT_INT_EQ(ifview_route_parse(route_text, n, "Iface", &gw), E_NOTFOUND);
	ASSERT_INT_EQ(gw, 7);
	ASSERT_INT_EQ(ifview_route_parse(route_text, 0, "eth0", &gw), E_NOTFOUND);
	TEST_DONE();

	TEST_START("ifview_route_parse: reads only len bytes, NUL is just a bad byte");
	/* a usable default route right after the end must stay unseen */
	memcpy(text, "eth9\t00000000\t0A0B0C0D\t0003\t0\t0\t0\t00000000\n", 43);
	memcpy(text + 43, "eth8\t00000000\t0A0B0C0D\t0003\t0\t0\t0\t00000000\n", 43);
	ASSERT_INT_EQ(ifview_route_parse(text, 43, "eth9", &gw), 0);
	ASSERT_INT_EQ(gw, 0x0d0c0b0a);
	ASSERT_INT_EQ(ifview_route_parse(text, 43, "eth8", &gw), E_NOTFOUND);
	/* cut inside the mask field: "0000" still parses as a mask of 0, cut earlier it does not */
	ASSERT_INT_EQ(ifview_route_parse(text + 43, 38, "eth8", &gw), 0);
	ASSERT_INT_EQ(ifview_route_parse(text + 43, 33, "eth8", &gw), E_NOTFOUND);
	text[43 + 16] = '\0';
	ASSERT_INT_EQ(ifview_route_parse(text + 43, 43, "eth8", &gw), E_NOTFOUND);
	TEST_DONE();
}

static const char arp_text[] =
	"IP address       HW type     Flags       HW address            Mask     Device\n"
	"192.0.2.1        0x1         0x2         02:fc:00:00:00:05     *        eth0\n"
	"192.0.2.7        0x1         0x0         00:00:00:00:00:00     *        eth0\n"
	"192.0.2.9        0x1         0x6         AA:bb:CC:dd:EE:ff     *        eth0\n"
	"10.9.0.1         0x1         0x2         02:00:00:00:00:01     *        wan0\n"
	"192.0.2.10       0x1         0xc         00:00:00:00:00:00     *        eth0\n"
	"192.0.2.11       0x301       0x2         02:00:00:00:00:02     *        eth0\n"
	/* malformed: short or long quads, 256, flags without 0x, short MAC, bad separator */
	"192.0.2          0x1         0x2         02:00:00:00:00:03     *        eth0\n"
	"192.0.2.1.5      0x1         0x2         02:00:00:00:00:03     *        eth0\n"
	"192.0.256.1      0x1         0x2         02:00:00:00:00:03     *        eth0\n"
	"1920.0.2.1       0x1         0x2         02:00:00:00:00:03     *        eth0\n"
	"192.0.2.12       0x1         2           02:00:00:00:00:03     *        eth0\n"
	"192.0.2.13       0x1         0x          02:00:00:00:00:03     *        eth0\n"
	"192.0.2.14       0x1         0x2         02:00:00:00:00:3      *        eth0\n"
	"192.0.2.15       0x1         0x2         02-00-00-00-00-03     *        eth0\n"
	"192.0.2.16       0x1         0x2         02:00:00:00:00:0g     *        eth0\n"
	"192.0.2.17       0x1         0x2         02:00:00:00:00:03\n"
	/* edges: 0.0.0.0 and 255.255.255.255 parse; upper-case 0X; no final newline */
	"255.255.255.255  0x1         0X2         02:00:00:00:00:04     *        eth0";

struct seen {
	int n;
	uint32_t ip[8];
	uint8_t mac[8][6];
};

static void
collect(void *arg, uint32_t ip, const uint8_t mac[6])
{
	struct seen *s = arg;

	if (s->n < 8) {
		s->ip[s->n] = ip;
		memcpy(s->mac[s->n], mac, 6);
	}
	s->n++;
}

static void
test_arp_parse(void)
{
	static const uint8_t m1[6] = {0x02, 0xfc, 0, 0, 0, 5};
	static const uint8_t m2[6] = {0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};
	static const uint8_t m3[6] = {0x02, 0, 0, 0, 0, 4};
	const size_t n = sizeof(arp_text) - 1;
	struct seen s = {0};

	TEST_START("ifview_arp_parse: complete Ethernet entries on one interface only");
	ASSERT_INT_EQ(ifview_arp_parse(arp_text, n, "eth0", collect, &s), 3);
	ASSERT_INT_EQ(s.n, 3);
	ASSERT_INT_EQ(s.ip[0], 0xc0000201);
	ASSERT_MEM_EQ(s.mac[0], m1, 6);
	ASSERT_INT_EQ(s.ip[1], 0xc0000209);
	ASSERT_MEM_EQ(s.mac[1], m2, 6);
	ASSERT_INT_EQ(s.ip[2], 0xffffffff);
	ASSERT_MEM_EQ(s.mac[2], m3, 6);
	memset(&s, 0, sizeof(s));
	ASSERT_INT_EQ(ifview_arp_parse(arp_text, n, "wan0", collect, &s), 1);
	ASSERT_INT_EQ(s.ip[0], 0x0a090001);
	memset(&s, 0, sizeof(s));
	ASSERT_INT_EQ(ifview_arp_parse(arp_text, n, "eth", collect, &s), 0);
	ASSERT_INT_EQ(ifview_arp_parse(arp_text, n, "Device", collect, &s), 0);
	ASSERT_INT_EQ(ifview_arp_parse(arp_text, 0, "eth0", collect, &s), 0);
	/* the first two lines only, the second cut inside its device name */
	ASSERT_INT_EQ(ifview_arp_parse(arp_text, 79 + 76, "eth0", collect, &s), 1);
	ASSERT_INT_EQ(ifview_arp_parse(arp_text, 79 + 75, "eth0", collect, &s), 0);
	ASSERT_INT_EQ(s.n, 1);
	TEST_DONE();
}

static void
test_live_proc(void)
{
	struct seen s = {0};
	uint32_t gw;

	TEST_START("ifview_gateway/ifview_arp on this machine: lo has neither");
	ASSERT_INT_EQ(ifview_gateway("lo", &gw), E_NOTFOUND);
	ASSERT_INT_EQ(ifview_arp("lo", collect, &s), 0);
	ASSERT_INT_EQ(s.n, 0);
	TEST_DONE();
}

int
main(void)
{
	test_lo();
	test_missing();
	test_route_parse();
	test_arp_parse();
	test_live_proc();
	return test_finish();
}
