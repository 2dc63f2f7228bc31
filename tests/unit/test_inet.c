/* SPDX-License-Identifier: MIT */
/*
 * dataplane/inet.c: checksums against a naive reference (sum mod 65535, not folding), header
 * parsers on hand-written packets and every malformation, ARP frames byte by byte, MSS clamping
 * (checksum still right, odd offsets, malformed options untouched, nothing written past the
 * packet) and ICMP "fragmentation needed" with each RFC 1122 exclusion.
 */
#include "common/err.h"
#include "dataplane/inet.h"
#include "rng.h"
#include "test.h"

TEST_DEFINE_STATE;

/* The checksum the slow way: the one's-complement sum is the plain sum modulo 0xffff, where a
 * non-zero multiple of 0xffff is "negative zero" 0xffff. */
static uint16_t
naive_cksum_acc(const uint8_t *p, size_t n, uint64_t s)
{
	for (size_t i = 0; i < n; i++)
		s += (i % 2 == 0) ? (uint64_t)p[i] * 256 : p[i];
	if (s == 0)
		return 0xffff;
	s %= 0xffff;
	return (uint16_t) ~(s == 0 ? 0xffff : s);
}

static uint16_t
naive_cksum(const uint8_t *p, size_t n)
{
	return naive_cksum_acc(p, n, 0);
}

/* The TCP checksum over pseudo-header and segment of the IPv4 packet ip; 0 if it is right. */
static uint16_t
naive_tcp_cksum(const uint8_t *ip)
{
	size_t hlen = (size_t)(ip[0] & 0x0f) * 4, total = (size_t)ip[2] << 8 | ip[3];
	size_t tlen = total - hlen;
	uint64_t s = 0;

	for (int i = 12; i < 20; i += 2)
		s += (uint64_t)ip[i] * 256 + ip[i + 1];
	s += ip[9] + tlen;
	return naive_cksum_acc(ip + hlen, tlen, s);
}

static void
set16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* An IPv4 header (hlen 20) for a packet of total bytes, checksum filled in. */
static void
ip_header(uint8_t *ip, uint16_t total, uint8_t proto, uint32_t src, uint32_t dst, uint16_t frag)
{
	memset(ip, 0, 20);
	ip[0] = 0x45;
	set16(ip + 2, total);
	set16(ip + 4, 0x1234);
	set16(ip + 6, frag);
	ip[8] = 61;
	ip[9] = proto;
	set16(ip + 12, (uint16_t)(src >> 16));
	set16(ip + 14, (uint16_t)src);
	set16(ip + 16, (uint16_t)(dst >> 16));
	set16(ip + 18, (uint16_t)dst);
	set16(ip + 10, naive_cksum(ip, 20));
}

static void
test_cksum(void)
{
	/* RFC 1071 section 3: the sum is ddf2, so the checksum is 220d */
	static const uint8_t rfc1071[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
	/* a textbook IPv4 header (192.168.0.1 -> 192.168.0.199, UDP) with checksum b861 */
	static const uint8_t hdr[] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
				      0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
	static const uint8_t ones[4] = {0xff, 0xff, 0xff, 0xff}, zeros[4] = {0};
	uint8_t buf[1501];
	int bad = 0;

	TEST_START("inet_cksum: RFC 1071 example, a real header, edge sums, random vs naive");
	ASSERT_INT_EQ(inet_cksum(rfc1071, sizeof(rfc1071)), 0x220d);
	ASSERT_INT_EQ(inet_cksum(hdr, sizeof(hdr)), 0xb861);
	ASSERT_INT_EQ(inet_cksum(rfc1071, 0), 0xffff);
	ASSERT_INT_EQ(inet_cksum(zeros, 4), 0xffff);
	ASSERT_INT_EQ(inet_cksum(ones, 4), 0x0000);
	ASSERT_INT_EQ(inet_cksum(ones, 3), 0x00ff); /* ffff + ff00 = 1feff -> feff + 1 */
	ASSERT_INT_EQ(inet_fold(0x0001fffe), 0x0000);
	ASSERT_INT_EQ(inet_fold(0), 0xffff);
	for (int round = 0; round < 2000; round++) {
		size_t n = (size_t)(rng() % sizeof(buf)),
		       cut = (size_t)(rng() % (n + 1)) & ~(size_t)1;

		rng_fill(buf, n);
		if (round % 7 == 0)
			memset(buf, 0xff, n);
		if (inet_cksum(buf, n) != naive_cksum(buf, n))
			bad++;
		/* chained in two pieces, the first of even length */
		if (inet_fold(inet_sum(buf + cut, n - cut, inet_sum(buf, cut, 0))) !=
		    naive_cksum(buf, n))
			bad++;
	}
	ASSERT_INT_EQ(bad, 0);
	TEST_DONE();
}

static void
test_ipv4_parse(void)
{
	uint8_t p[80];
	struct ipv4_info in;

	TEST_START("ipv4_parse: fields, padding, flags, and every malformation");
	ip_header(p, 40, INET_PROTO_UDP, 0xc0000201, 0xc6336402, 0x4000);
	ASSERT_INT_EQ(ipv4_parse(p, 40, &in), 0);
	ASSERT_INT_EQ(in.src, 0xc0000201);
	ASSERT_INT_EQ(in.dst, 0xc6336402);
	ASSERT_INT_EQ(in.total, 40);
	ASSERT_INT_EQ(in.hlen, 20);
	ASSERT_INT_EQ(in.proto, INET_PROTO_UDP);
	ASSERT_INT_EQ(in.ttl, 61);
	ASSERT_TRUE(in.df && !in.frag && in.frag_off == 0);
	ASSERT_TRUE(ipv4_cksum_ok(p, 20));
	ASSERT_INT_EQ(ipv4_parse(p, 60, &in), 0); /* Ethernet padding after the packet */
	ASSERT_INT_EQ(ipv4_parse(p, 39, &in), E_SHORT);
	ASSERT_INT_EQ(ipv4_parse(p, 19, &in), E_SHORT);
	ASSERT_INT_EQ(ipv4_parse(p, 0, &in), E_SHORT);

	set16(p + 6, 0x2000); /* MF: the first fragment */
	ASSERT_INT_EQ(ipv4_parse(p, 40, &in), 0);
	ASSERT_TRUE(in.frag && !in.df && in.frag_off == 0);
	set16(p + 6, 0x0003); /* the last fragment, at byte 24 */
	ASSERT_INT_EQ(ipv4_parse(p, 40, &in), 0);
	ASSERT_TRUE(in.frag && in.frag_off == 24);
	ASSERT_TRUE(!ipv4_cksum_ok(p, 20)); /* the header changed under its checksum */
	ASSERT_TRUE(!ipv4_cksum_ok(p, 19));

	p[0] = 0x65;
	ASSERT_INT_EQ(ipv4_parse(p, 40, &in), E_ENCODING);
	p[0] = 0x44;
	ASSERT_INT_EQ(ipv4_parse(p, 40, &in), E_ENCODING);
	p[0] = 0x4f; /* 60-byte header */
	ASSERT_INT_EQ(ipv4_parse(p, 40, &in), E_SHORT);
	set16(p + 2, 60);
	ASSERT_INT_EQ(ipv4_parse(p, 60, &in), 0);
	ASSERT_INT_EQ(in.hlen, 60);
	set16(p + 2, 59);
	ASSERT_INT_EQ(ipv4_parse(p, 80, &in), E_ENCODING);
	p[0] = 0x45;
	set16(p + 2, 19);
	ASSERT_INT_EQ(ipv4_parse(p, 40, &in), E_ENCODING);
	TEST_DONE();
}

static void
test_addresses(void)
{
	uint8_t mac[6];
	static const uint8_t m1[6] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb};
	static const uint8_t m2[6] = {0x01, 0x00, 0x5e, 0x7f, 0xff, 0xfa};

	TEST_START("multicast and broadcast predicates, multicast MACs");
	ASSERT_TRUE(ipv4_is_mcast(0xe0000001));
	ASSERT_TRUE(ipv4_is_mcast(0xefffffff));
	ASSERT_TRUE(!ipv4_is_mcast(0xdfffffff));
	ASSERT_TRUE(!ipv4_is_mcast(0xf0000000)); /* class E is not multicast */
	ASSERT_TRUE(ipv4_is_bcast(0xffffffff, 0, 0));
	ASSERT_TRUE(ipv4_is_bcast(0xc00002ff, 0xc0000201, 0xffffff00));
	ASSERT_TRUE(!ipv4_is_bcast(0xc00002fe, 0xc0000201, 0xffffff00));
	ASSERT_TRUE(!ipv4_is_bcast(0xc00003ff, 0xc0000201, 0xffffff00));
	ASSERT_TRUE(ipv4_is_bcast(0x0a0000ff, 0x0a000001, 0xffffff00));
	ASSERT_TRUE(ipv4_is_bcast(0x0a000003, 0x0a000001, 0xfffffffc));	 /* /30 */
	ASSERT_TRUE(!ipv4_is_bcast(0x0a000001, 0x0a000000, 0xfffffffe)); /* /31: RFC 3021 */
	ASSERT_TRUE(!ipv4_is_bcast(0x0a000001, 0x0a000001, 0xffffffff)); /* /32 */
	ASSERT_TRUE(ipv4_is_bcast(0xffffffff, 0x0a000001, 0xffffffff));
	eth_mcast_mac(0xe00000fb, mac); /* 224.0.0.251 (mDNS) */
	ASSERT_MEM_EQ(mac, m1, 6);
	eth_mcast_mac(0xeffffffa, mac); /* 239.255.255.250: the top bit of the 2nd byte goes */
	ASSERT_MEM_EQ(mac, m2, 6);
	TEST_DONE();
}

static void
test_arp(void)
{
	static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	static const uint8_t sha[6] = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55};
	static const uint8_t tha[6] = {0};
	static const uint8_t want[60] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x11, 0x22, 0x33, 0x44,
		0x55, 0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01,
		0x02, 0x11, 0x22, 0x33, 0x44, 0x55, 0xc0, 0x00, 0x02, 0x0a, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x00, 0xc0, 0x00, 0x02, 0x01, /* zero padding to 60 follows
								       */
	};
	uint8_t f[64], bad[60];
	struct arp_info a;

	TEST_START("arp_build/arp_parse: exact bytes, round trip, malformed fields");
	memset(f, 0xaa, sizeof(f));
	ASSERT_INT_EQ(arp_build(f, 59, 1, bcast, sha, 0xc000020a, tha, 0xc0000201), 0);
	ASSERT_INT_EQ(f[0], 0xaa);
	ASSERT_INT_EQ(arp_build(f, sizeof(f), 1, bcast, sha, 0xc000020a, tha, 0xc0000201), 60);
	ASSERT_MEM_EQ(f, want, 60);
	ASSERT_INT_EQ(f[60], 0xaa);
	ASSERT_INT_EQ(arp_parse(f + 14, 46, &a), 0);
	ASSERT_INT_EQ(a.op, INET_ARP_REQUEST);
	ASSERT_MEM_EQ(a.sha, sha, 6);
	ASSERT_MEM_EQ(a.tha, tha, 6);
	ASSERT_INT_EQ(a.spa, 0xc000020a);
	ASSERT_INT_EQ(a.tpa, 0xc0000201);
	ASSERT_INT_EQ(arp_parse(f + 14, 28, &a), 0);
	ASSERT_INT_EQ(arp_parse(f + 14, 27, &a), E_SHORT);
	ASSERT_INT_EQ(arp_build(f, 60, 2, sha, sha, 1, bcast, 2), 60);
	ASSERT_INT_EQ(arp_parse(f + 14, 46, &a), 0);
	ASSERT_INT_EQ(a.op, INET_ARP_REPLY);
	ASSERT_MEM_EQ(a.tha, bcast, 6);
	/* each identifying byte in turn: htype (2), ptype (2), hlen, plen, op (2) */
	for (int i = 14; i < 22; i++) {
		memcpy(bad, want, 60);
		bad[i] ^= (i == 21) ? 0x02 : 0x01; /* op 1 -> 3 */
		ASSERT_INT_EQ(arp_parse(bad + 14, 46, &a) * 100 + i, E_ENCODING * 100 + i);
	}
	memcpy(bad, want, 60);
	bad[21] = 0; /* op 0 */
	ASSERT_INT_EQ(arp_parse(bad + 14, 46, &a), E_ENCODING);
	TEST_DONE();
}

/*
 * A TCP SYN from 10.0.0.2:40000 to 198.51.100.7:443 with the given options (padded with EOL to
 * a multiple of 4) and payload bytes, correct checksums. Returns the total length.
 */
static size_t
syn(uint8_t *ip, const uint8_t *opts, size_t olen, size_t payload, uint8_t flags)
{
	size_t doff = 20 + ((olen + 3) & ~(size_t)3), total = 20 + doff + payload;
	uint8_t *tcp = ip + 20;

	memset(tcp, 0, doff + payload);
	ip_header(ip, (uint16_t)total, INET_PROTO_TCP, 0x0a000002, 0xc6336407, 0x4000);
	set16(tcp, 40000);
	set16(tcp + 2, 443);
	set16(tcp + 4, 0x1234);
	tcp[12] = (uint8_t)(doff / 4) << 4;
	tcp[13] = flags;
	set16(tcp + 14, 64240);
	if (olen > 0)
		memcpy(tcp + 20, opts, olen);
	for (size_t i = 0; i < payload; i++)
		tcp[doff + i] = (uint8_t)(i * 7 + 1);
	set16(tcp + 16, naive_tcp_cksum(ip));
	return total;
}

static void
test_mss_clamp(void)
{
	/* what Linux sends: MSS, SACK-permitted, timestamps, NOP, window scale */
	static const uint8_t linux_opts[] = {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 1, 2,
					     3, 4, 0,	 0,    0, 0, 1, 3,  3, 7};
	static const uint8_t odd[] = {1, 2, 4, 0x23, 0x28}; /* NOP, MSS 9000 at an odd offset */
	static const uint8_t two[] = {2, 4, 0x05, 0xb4, 1, 2, 4, 0x21, 0x00}; /* 1460, 8448 */
	static const uint8_t after_eol[] = {0, 2, 4, 0x05, 0xb4};
	static const uint8_t zero_len[] = {2, 4, 0x05, 0xb4, 30, 0};
	static const uint8_t overrun[] = {2, 4, 0x05, 0xb4, 30, 9, 0, 0};
	static const uint8_t cut_kind[] = {1, 1, 1, 2, 4, 0x05, 0xb4, 30};
	static const uint8_t mss3[] = {2, 3, 0x05, 1, 2, 4, 0x05, 0xb4};
	uint8_t p[128], copy[128];
	size_t n;

	TEST_START("tcp_mss_clamp: lowered with a valid checksum, odd offsets, several MSS");
	memset(p, 0xee, sizeof(p));
	n = syn(p, linux_opts, sizeof(linux_opts), 0, 0x02);
	ASSERT_INT_EQ(naive_tcp_cksum(p), 0);
	ASSERT_INT_EQ(tcp_mss_clamp(p, n, 1380), 1);
	ASSERT_INT_EQ(p[40 + 2] << 8 | p[40 + 3], 1380);
	ASSERT_INT_EQ(naive_tcp_cksum(p), 0);
	ASSERT_TRUE(ipv4_cksum_ok(p, 20));
	ASSERT_INT_EQ(p[n], 0xee);
	ASSERT_INT_EQ(tcp_mss_clamp(p, n, 1380), 0); /* already there */
	ASSERT_INT_EQ(tcp_mss_clamp(p, n, 1400), 0); /* never raised */
	ASSERT_INT_EQ(p[40 + 2] << 8 | p[40 + 3], 1380);

	n = syn(p, odd, sizeof(odd), 5, 0x12); /* SYN-ACK with data */
	ASSERT_INT_EQ(tcp_mss_clamp(p, n, 1400), 1);
	ASSERT_INT_EQ(p[40 + 3] << 8 | p[40 + 4], 1400);
	ASSERT_INT_EQ(naive_tcp_cksum(p), 0);

	n = syn(p, two, sizeof(two), 1, 0x02);
	ASSERT_INT_EQ(tcp_mss_clamp(p, n, 1200), 1);
	ASSERT_INT_EQ(p[42] << 8 | p[43], 1200);
	ASSERT_INT_EQ(p[47] << 8 | p[48], 1200);
	ASSERT_INT_EQ(naive_tcp_cksum(p), 0);
	n = syn(p, two, sizeof(two), 1, 0x02);
	ASSERT_INT_EQ(tcp_mss_clamp(p, n, 1460), 1); /* only the second was too big */
	ASSERT_INT_EQ(p[42] << 8 | p[43], 1460);
	ASSERT_INT_EQ(p[47] << 8 | p[48], 1460);
	ASSERT_INT_EQ(naive_tcp_cksum(p), 0);

	/* the payload is odd-length and the sum changes carry: try many clamp values */
	for (unsigned m = 500; m < 9000; m += 37) {
		n = syn(p, odd, sizeof(odd), 3, 0x02);
		if (tcp_mss_clamp(p, n, (uint16_t)m) != 1 || naive_tcp_cksum(p) != 0) {
			ASSERT_INT_EQ(m, 0);
			break;
		}
	}
	TEST_DONE();

	TEST_START("tcp_mss_clamp: a wrong checksum stays wrong by the same amount");
	n = syn(p, linux_opts, sizeof(linux_opts), 0, 0x02);
	p[36] ^= 0x5a; /* checksum off by 5a00 */
	{
		uint16_t before = naive_tcp_cksum(p);

		ASSERT_INT_NE(before, 0);
		ASSERT_INT_EQ(tcp_mss_clamp(p, n, 536), 1);
		ASSERT_INT_EQ(naive_tcp_cksum(p), before);
	}
	n = syn(p, linux_opts, sizeof(linux_opts), 0, 0x02);
	p[36] = p[37] = 0; /* "not computed" */
	{
		uint16_t before = naive_tcp_cksum(p);

		ASSERT_INT_EQ(tcp_mss_clamp(p, n, 536), 1);
		ASSERT_INT_EQ(naive_tcp_cksum(p), before);
	}
	TEST_DONE();

	TEST_START("tcp_mss_clamp: not applicable, malformed options left alone");
	n = syn(p, linux_opts, sizeof(linux_opts), 0, 0x10); /* ACK, no SYN */
	ASSERT_INT_EQ(tcp_mss_clamp(p, n, 536), 0);
	n = syn(p, linux_opts, sizeof(linux_opts), 0, 0x02);
	p[6] = 0x20; /* MF: a first fragment */
	ASSERT_INT_EQ(tcp_mss_clamp(p, n, 536), 0);
	n = syn(p, linux_opts, sizeof(linux_opts), 0, 0x02);
	p[9] = INET_PROTO_UDP;
	ASSERT_INT_EQ(tcp_mss_clamp(p, n, 536), 0);
	n = syn(p, NULL, 0, 0, 0x02);
	ASSERT_INT_EQ(tcp_mss_clamp(p, n, 536), 0);
	{
		const uint8_t *cases[] = {after_eol, zero_len, overrun, cut_kind, mss3};
		size_t lens[] = {sizeof(after_eol), sizeof(zero_len), sizeof(overrun),
				 sizeof(cut_kind), sizeof(mss3)};

		for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
			n = syn(p, cases[i], lens[i], 0, 0x02);
			memcpy(copy, p, n);
			if (i < 4)
				ASSERT_INT_EQ(tcp_mss_clamp(p, n, 536), 0);
			else /* a 3-byte "MSS" is skipped, the real one after it counts */
				ASSERT_INT_EQ(tcp_mss_clamp(p, n, 536), 1);
			if (i < 4)
				ASSERT_MEM_EQ(p, copy, n);
		}
	}
	TEST_DONE();

	TEST_START("tcp_mss_clamp: malformed IP and TCP headers, nothing past the packet");
	n = syn(p, linux_opts, sizeof(linux_opts), 0, 0x02);
	ASSERT_INT_EQ(tcp_mss_clamp(p, n - 1, 536), E_SHORT);
	p[0] = 0x35;
	ASSERT_INT_EQ(tcp_mss_clamp(p, n, 536), E_ENCODING);
	n = syn(p, linux_opts, sizeof(linux_opts), 0, 0x02);
	p[32] = 0x40; /* data offset 4 */
	ASSERT_INT_EQ(tcp_mss_clamp(p, n, 536), E_ENCODING);
	p[32] = 0xf0; /* data offset 60, past the segment */
	ASSERT_INT_EQ(tcp_mss_clamp(p, n, 536), E_SHORT);
	n = syn(p, linux_opts, sizeof(linux_opts), 0, 0x02);
	set16(p + 2, 39); /* a 19-byte TCP header */
	ASSERT_INT_EQ(tcp_mss_clamp(p, n, 536), E_SHORT);
	/* the data offset ends inside the MSS option: nothing may change, inside or after */
	memset(p, 0xee, sizeof(p));
	n = syn(p, odd, sizeof(odd), 0, 0x02);
	p[32] = 0x60;
	set16(p + 2, 44);
	memcpy(copy, p, sizeof(p));
	ASSERT_INT_EQ(tcp_mss_clamp(p, 44, 536), 0);
	ASSERT_MEM_EQ(p, copy, sizeof(p));
	TEST_DONE();
}

static void
check_icmp(const uint8_t *out, size_t n, const uint8_t *orig, size_t quote, uint32_t dst)
{
	ASSERT_INT_EQ(n, 28 + quote);
	ASSERT_INT_EQ(out[0], 0x45);
	ASSERT_INT_EQ(out[2] << 8 | out[3], n);
	ASSERT_INT_EQ(out[8], 64);
	ASSERT_INT_EQ(out[9], INET_PROTO_ICMP);
	ASSERT_INT_EQ(naive_cksum(out, 20), 0);
	ASSERT_INT_EQ((uint32_t)out[12] << 24 | out[13] << 16 | out[14] << 8 | out[15], 0x0a000001);
	ASSERT_INT_EQ((uint32_t)out[16] << 24 | out[17] << 16 | out[18] << 8 | out[19], dst);
	ASSERT_INT_EQ(out[20], 3);
	ASSERT_INT_EQ(out[21], 4);
	ASSERT_INT_EQ(out[24] << 8 | out[25], 0); /* unused half of the word */
	ASSERT_INT_EQ(out[26] << 8 | out[27], 1400);
	ASSERT_INT_EQ(naive_cksum(out + 20, n - 20), 0);
	ASSERT_MEM_EQ(out + 28, orig, quote);
}

static void
test_frag_needed(void)
{
	uint8_t orig[200], out[128], big[200];
	struct ipv4_info in;
	size_t n;

	TEST_START("icmp_frag_needed: the packet, its checksums and its quote");
	for (int i = 0; i < 200; i++)
		orig[i] = (uint8_t)(0x80 + i);
	ip_header(orig, 200, INET_PROTO_TCP, 0x0a000063, 0x08080808, 0x4000);
	memset(out, 0xee, sizeof(out));
	n = icmp_frag_needed(out, sizeof(out), orig, 200, 0x0a000001, 1400);
	check_icmp(out, n, orig, 28, 0x0a000063);
	ASSERT_INT_EQ(out[n], 0xee);
	ASSERT_INT_EQ(ipv4_parse(out, n, &in), 0);
	ASSERT_INT_EQ(in.dst, 0x0a000063);
	ASSERT_INT_EQ(icmp_frag_needed(out, 55, orig, 200, 0x0a000001, 1400), 0);
	ASSERT_INT_EQ(icmp_frag_needed(out, 56, orig, 200, 0x0a000001, 1400), 56);
	/* IP options are quoted whole */
	ip_header(orig, 200, INET_PROTO_UDP, 0x0a000063, 0x08080808, 0x4000);
	orig[0] = 0x47;
	set16(orig + 10, 0);
	set16(orig + 10, naive_cksum(orig, 28));
	n = icmp_frag_needed(big, sizeof(big), orig, 200, 0x0a000001, 1400);
	check_icmp(big, n, orig, 36, 0x0a000063);
	/* a short original is quoted as far as it goes, not past its total length */
	ip_header(orig, 23, INET_PROTO_UDP, 0x0a000063, 0x08080808, 0x4000);
	n = icmp_frag_needed(out, sizeof(out), orig, 60, 0x0a000001, 1400);
	check_icmp(out, n, orig, 23, 0x0a000063);
	/* ICMP that is not an error: an echo request */
	ip_header(orig, 84, INET_PROTO_ICMP, 0x0a000063, 0x08080808, 0x4000);
	orig[20] = 8;
	n = icmp_frag_needed(out, sizeof(out), orig, 84, 0x0a000001, 1400);
	check_icmp(out, n, orig, 28, 0x0a000063);
	/* the first fragment */
	ip_header(orig, 100, INET_PROTO_UDP, 0x0a000063, 0x08080808, 0x2000);
	ASSERT_INT_EQ(icmp_frag_needed(out, sizeof(out), orig, 100, 0x0a000001, 1400), 56);
	TEST_DONE();

	TEST_START("icmp_frag_needed: none where RFC 1122 forbids one or the input is bad");
	{
		static const uint8_t errors[] = {3, 4, 5, 11, 12};
		static const uint32_t srcs[] = {0, 0xffffffff, 0xe0000001, 0xefffffff, 0xf0000001};

		for (size_t i = 0; i < ARRAY_SIZE(errors); i++) {
			ip_header(orig, 56, INET_PROTO_ICMP, 0x0a000063, 0x0a000001, 0);
			orig[20] = errors[i];
			ASSERT_INT_EQ(icmp_frag_needed(out, sizeof(out), orig, 56, 1, 1400), 0);
		}
		ip_header(orig, 20, INET_PROTO_ICMP, 0x0a000063, 0x0a000001, 0); /* no type */
		ASSERT_INT_EQ(icmp_frag_needed(out, sizeof(out), orig, 20, 1, 1400), 0);
		for (size_t i = 0; i < ARRAY_SIZE(srcs); i++) {
			ip_header(orig, 100, INET_PROTO_UDP, srcs[i], 0x0a000001, 0x4000);
			ASSERT_INT_EQ(icmp_frag_needed(out, sizeof(out), orig, 100, 1, 1400), 0);
		}
		ip_header(orig, 100, INET_PROTO_UDP, 0x0a000063, 0xe00000fb, 0x4000);
		ASSERT_INT_EQ(icmp_frag_needed(out, sizeof(out), orig, 100, 1, 1400), 0);
		ip_header(orig, 100, INET_PROTO_UDP, 0x0a000063, 0xffffffff, 0x4000);
		ASSERT_INT_EQ(icmp_frag_needed(out, sizeof(out), orig, 100, 1, 1400), 0);
		ip_header(orig, 100, INET_PROTO_UDP, 0x0a000063, 0x0a000001, 0x0001); /* offset 8 */
		ASSERT_INT_EQ(icmp_frag_needed(out, sizeof(out), orig, 100, 1, 1400), 0);
		ip_header(orig, 100, INET_PROTO_UDP, 0x0a000063, 0x0a000001, 0x4000);
		ASSERT_INT_EQ(icmp_frag_needed(out, sizeof(out), orig, 99, 1, 1400), 0);
		orig[0] = 0x44;
		ASSERT_INT_EQ(icmp_frag_needed(out, sizeof(out), orig, 100, 1, 1400), 0);
	}
	TEST_DONE();
}

int
main(void)
{
	test_cksum();
	test_ipv4_parse();
	test_addresses();
	test_arp();
	test_mss_clamp();
	test_frag_needed();
	return test_finish();
}
