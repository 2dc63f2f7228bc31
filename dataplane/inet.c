/* SPDX-License-Identifier: MIT */
#include "dataplane/inet.h"

#include <string.h>

#include "common/err.h"

enum {
	IP_OFF_TOTAL = 2,
	IP_OFF_FRAG = 6,
	IP_OFF_TTL = 8,
	IP_OFF_PROTO = 9,
	IP_OFF_CKSUM = 10,
	IP_OFF_SRC = 12,
	IP_OFF_DST = 16,
	IP_FLAG_DF = 0x4000,
	IP_FLAG_MF = 0x2000,
	IP_FRAG_MASK = 0x1fff, /* offset in 8-byte units */
	TCP_OFF_DOFF = 12,
	TCP_OFF_FLAGS = 13,
	TCP_OFF_CKSUM = 16,
	TCP_FLAG_SYN = 0x02,
	TCP_OPT_EOL = 0,
	TCP_OPT_NOP = 1,
	TCP_OPT_MSS = 2,
	TCP_OPT_MSS_LEN = 4,
	TCP_MSS_MAX_OPTS = 10, /* 40 option bytes hold at most ten 4-byte MSS options */
	ICMP_DEST_UNREACH = 3,
	ICMP_FRAG_NEEDED = 4,
	ICMP_IP_TOS = 0xc0, /* precedence "internetwork control", as Linux sends its errors */
};

uint32_t
inet_sum(const void *p, size_t len, uint32_t acc)
{
	const uint8_t *b = p;
	uint64_t s = acc;
	size_t i;

	/* 64 bits cannot overflow from 16-bit words before len reaches 2^49 bytes */
	for (i = 0; i + 1 < len; i += 2)
		s += load_be16(b + i);
	if (i < len)
		s += (uint32_t)b[i] << 8;
	while (s >> 32)
		s = (s & 0xffffffff) + (s >> 32);
	return (uint32_t)s;
}

uint16_t
inet_fold(uint32_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)~acc;
}

uint16_t
inet_cksum(const void *p, size_t len)
{
	return inet_fold(inet_sum(p, len, 0));
}

int
ipv4_parse(const uint8_t *ip, size_t len, struct ipv4_info *out)
{
	uint16_t frag;

	if (len < INET_IPV4_HLEN_MIN)
		return E_SHORT;
	if ((ip[0] >> 4) != 4 || (ip[0] & 0x0f) < 5)
		return E_ENCODING;
	out->hlen = (uint16_t)((ip[0] & 0x0f) * 4);
	out->total = load_be16(ip + IP_OFF_TOTAL);
	if (out->hlen > len)
		return E_SHORT;
	if (out->total < out->hlen)
		return E_ENCODING;
	if (out->total > len)
		return E_SHORT;
	frag = load_be16(ip + IP_OFF_FRAG);
	out->df = (frag & IP_FLAG_DF) != 0;
	out->frag_off = (uint16_t)((frag & IP_FRAG_MASK) * 8);
	out->frag = (frag & IP_FLAG_MF) != 0 || out->frag_off != 0;
	out->ttl = ip[IP_OFF_TTL];
	out->proto = ip[IP_OFF_PROTO];
	out->src = load_be32(ip + IP_OFF_SRC);
	out->dst = load_be32(ip + IP_OFF_DST);
	return 0;
}

bool
ipv4_cksum_ok(const uint8_t *ip, size_t hlen)
{
	return hlen >= INET_IPV4_HLEN_MIN && inet_cksum(ip, hlen) == 0;
}

void
eth_mcast_mac(uint32_t group, uint8_t mac[INET_ETH_ALEN])
{
	mac[0] = 0x01;
	mac[1] = 0x00;
	mac[2] = 0x5e;
	mac[3] = (uint8_t)((group >> 16) & 0x7f);
	mac[4] = (uint8_t)(group >> 8);
	mac[5] = (uint8_t)group;
}

int
arp_parse(const uint8_t *arp, size_t len, struct arp_info *a)
{
	if (len < INET_ARP_LEN)
		return E_SHORT;
	if (load_be16(arp) != 1 || load_be16(arp + 2) != INET_ETH_P_IPV4 ||
	    arp[4] != INET_ETH_ALEN || arp[5] != 4)
		return E_ENCODING;
	a->op = load_be16(arp + 6);
	if (a->op != INET_ARP_REQUEST && a->op != INET_ARP_REPLY)
		return E_ENCODING;
	memcpy(a->sha, arp + 8, INET_ETH_ALEN);
	a->spa = load_be32(arp + 14);
	memcpy(a->tha, arp + 18, INET_ETH_ALEN);
	a->tpa = load_be32(arp + 24);
	return 0;
}

size_t
arp_build(uint8_t *frame, size_t cap, uint16_t op, const uint8_t eth_dst[INET_ETH_ALEN],
	  const uint8_t sha[INET_ETH_ALEN], uint32_t spa, const uint8_t tha[INET_ETH_ALEN],
	  uint32_t tpa)
{
	uint8_t *arp = frame + INET_ETH_HLEN;

	if (cap < INET_ETH_MIN_FRAME)
		return 0;
	memset(frame, 0, INET_ETH_MIN_FRAME);
	memcpy(frame, eth_dst, INET_ETH_ALEN);
	memcpy(frame + 6, sha, INET_ETH_ALEN);
	store_be16(frame + 12, INET_ETH_P_ARP);
	store_be16(arp, 1);
	store_be16(arp + 2, INET_ETH_P_IPV4);
	arp[4] = INET_ETH_ALEN;
	arp[5] = 4;
	store_be16(arp + 6, op);
	memcpy(arp + 8, sha, INET_ETH_ALEN);
	store_be32(arp + 14, spa);
	memcpy(arp + 18, tha, INET_ETH_ALEN);
	store_be32(arp + 24, tpa);
	return INET_ETH_MIN_FRAME;
}

/*
 * Offsets (from the TCP header) of the MSS options in the option area [20, doff) of tcp, or -1
 * if the option list is malformed: an entry other than EOL or NOP needs a length of at least 2
 * that stays inside the area. The list is read to the end before anything is changed, so a
 * malformed list is never half-rewritten.
 */
static int
mss_options(const uint8_t *tcp, size_t doff, size_t at[TCP_MSS_MAX_OPTS])
{
	size_t i = INET_TCP_HLEN_MIN;
	int n = 0;

	while (i < doff && tcp[i] != TCP_OPT_EOL) {
		size_t olen;

		if (tcp[i] == TCP_OPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= doff || (olen = tcp[i + 1]) < 2 || olen > doff - i)
			return -1;
		if (tcp[i] == TCP_OPT_MSS && olen == TCP_OPT_MSS_LEN)
			at[n++] = i;
		i += olen;
	}
	return n;
}

/*
 * RFC 1624 eqn. 3, HC' = ~(~HC + ~m + m'), for a 16-bit field changed from m to m'. A field at
 * an odd offset straddles two checksum words; the one's-complement sum is byte-order
 * independent (RFC 1071 2(B)), so swapping both values puts them back in word alignment.
 */
static void
cksum_adjust(uint8_t *cksum, size_t field_off, uint16_t old, uint16_t new)
{
	uint32_t s;

	if (field_off & 1) {
		old = (uint16_t)(old << 8 | old >> 8);
		new = (uint16_t)(new << 8 | new >> 8);
	}
	s = (uint16_t)~load_be16(cksum);
	s += (uint16_t)~old;
	s += new;
	store_be16(cksum, inet_fold(s));
}

int
tcp_mss_clamp(uint8_t *ip, size_t len, uint16_t mss)
{
	size_t at[TCP_MSS_MAX_OPTS], tlen, doff;
	struct ipv4_info info;
	uint8_t *tcp;
	int n, r, changed = 0;

	if ((r = ipv4_parse(ip, len, &info)) != 0)
		return r;
	if (info.proto != INET_PROTO_TCP || info.frag)
		return 0;
	tcp = ip + info.hlen;
	tlen = (size_t)info.total - info.hlen;
	if (tlen < INET_TCP_HLEN_MIN)
		return E_SHORT;
	doff = (size_t)(tcp[TCP_OFF_DOFF] >> 4) * 4;
	if (doff < INET_TCP_HLEN_MIN)
		return E_ENCODING;
	if (doff > tlen)
		return E_SHORT;
	if (!(tcp[TCP_OFF_FLAGS] & TCP_FLAG_SYN) || (n = mss_options(tcp, doff, at)) <= 0)
		return 0;
	for (int k = 0; k < n; k++) {
		uint16_t old = load_be16(tcp + at[k] + 2);

		if (old <= mss)
			continue;
		store_be16(tcp + at[k] + 2, mss);
		cksum_adjust(tcp + TCP_OFF_CKSUM, at[k] + 2, old, mss);
		changed = 1;
	}
	return changed;
}

/* RFC 1122 3.2.2: no ICMP error about an ICMP error, a non-first fragment, or a datagram that
 * does not name a single host as its source, or that went to many hosts. */
static bool
may_send_error(const uint8_t *orig, const struct ipv4_info *o)
{
	if (o->frag_off != 0)
		return false;
	if (o->src == 0 || o->src >= 0xe0000000)
		return false;
	if (o->dst == 0xffffffff || ipv4_is_mcast(o->dst))
		return false;
	if (o->proto == INET_PROTO_ICMP) {
		/* a first fragment too short to show its type is treated as an error message */
		if (o->total <= o->hlen)
			return false;
		switch (orig[o->hlen]) {
		case 3:
		case 4:
		case 5:
		case 11:
		case 12:
			return false;
		}
	}
	return true;
}

size_t
icmp_frag_needed(uint8_t *out, size_t cap, const uint8_t *orig, size_t orig_len, uint32_t src,
		 uint16_t mtu)
{
	struct ipv4_info o;
	uint8_t *icmp = out + INET_IPV4_HLEN_MIN;
	size_t quote, total;

	if (ipv4_parse(orig, orig_len, &o) != 0 || !may_send_error(orig, &o))
		return 0;
	quote = o.hlen + MIN((size_t)(o.total - o.hlen), (size_t)INET_ICMP_QUOTE);
	total = INET_IPV4_HLEN_MIN + INET_ICMP_HLEN + quote;
	if (cap < total)
		return 0;
	memset(out, 0, INET_IPV4_HLEN_MIN + INET_ICMP_HLEN);
	out[0] = 0x45;
	out[1] = ICMP_IP_TOS;
	store_be16(out + IP_OFF_TOTAL, (uint16_t)total);
	/* DF with ID 0, as RFC 6864 allows for atomic datagrams */
	store_be16(out + IP_OFF_FRAG, IP_FLAG_DF);
	out[IP_OFF_TTL] = INET_ICMP_TTL;
	out[IP_OFF_PROTO] = INET_PROTO_ICMP;
	store_be32(out + IP_OFF_SRC, src);
	store_be32(out + IP_OFF_DST, o.src);
	store_be16(out + IP_OFF_CKSUM, inet_cksum(out, INET_IPV4_HLEN_MIN));
	icmp[0] = ICMP_DEST_UNREACH;
	icmp[1] = ICMP_FRAG_NEEDED;
	store_be16(icmp + 6, mtu);
	memcpy(icmp + INET_ICMP_HLEN, orig, quote);
	store_be16(icmp + 2, inet_cksum(icmp, INET_ICMP_HLEN + quote));
	return total;
}
