/* SPDX-License-Identifier: MIT */
/*
 * IPv4, ARP, TCP and ICMP helpers for the data plane's slow and fast paths, on flat buffers so
 * that they run (and are fuzzed) without DPDK. Buffers are in network byte order; every address
 * passed in or returned is a host-order uint32_t (192.0.2.1 is 0xc0000201). Parsers check every
 * length before reading and return 0 or a negative E_* (common/err.h).
 *
 * Ethernet frame as arp_build() writes it (RFC 826), 60 bytes with padding:
 *
 *   0      6      12   14    16    18 19 20   22     28     32     38     42        60
 *   +------+------+----+-----+-----+--+--+----+------+------+------+------+- - - - -+
 *   | dst  | src  |type|htype|ptype|hl|pl| op | sha  | spa  | tha  | tpa  | zero pad|
 *   +------+------+----+-----+-----+--+--+----+------+------+------+------+- - - - -+
 *               0x0806   1   0x0800 6  4  1|2
 */
#ifndef BURI_INET_H
#define BURI_INET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/util.h"

enum inet_limits {
	INET_ETH_ALEN = 6,	  /* bytes in a MAC address */
	INET_ETH_HLEN = 14,	  /* dst, src, EtherType */
	INET_ETH_MIN_FRAME = 60,  /* bytes, without the FCS (IEEE 802.3 minimum 64 with it) */
	INET_ETH_P_IPV4 = 0x0800, /* EtherType */
	INET_ETH_P_ARP = 0x0806,  /* EtherType */
	INET_ARP_LEN = 28,	  /* ARP for IPv4 over Ethernet, bytes */
	INET_ARP_REQUEST = 1,	  /* ARP op */
	INET_ARP_REPLY = 2,	  /* ARP op */
	INET_IPV4_HLEN_MIN = 20,  /* bytes, IHL 5 */
	INET_IPV4_HLEN_MAX = 60,  /* bytes, IHL 15 */
	INET_PROTO_ICMP = 1,	  /* IPv4 protocol number */
	INET_PROTO_TCP = 6,	  /* IPv4 protocol number */
	INET_PROTO_UDP = 17,	  /* IPv4 protocol number */
	INET_TCP_HLEN_MIN = 20,	  /* bytes, data offset 5 */
	INET_ICMP_HLEN = 8,	  /* type, code, checksum, rest-of-header word */
	INET_ICMP_QUOTE = 8,	  /* payload bytes of the original quoted after its IP header */
	INET_ICMP_TTL = 64,	  /* TTL of the ICMP errors we originate */
	INET_FRAG_NEEDED_MAX = 20 + 8 + 60 + 8, /* longest icmp_frag_needed() result, bytes */
};

/*
 * One's-complement sum of p as big-endian 16-bit words (RFC 1071), added to acc; an odd last
 * byte counts as its word's high byte. Chain pieces by passing the result as acc; every piece
 * but the last must have an even length. The result may carry above 16 bits: inet_fold() it.
 */
uint32_t inet_sum(const void *p, size_t len, uint32_t acc);
/* The checksum for the sum acc: carries folded in, complemented, ready for store_be16(). */
uint16_t inet_fold(uint32_t acc);
/* The Internet checksum of p: inet_fold(inet_sum(p, len, 0)). Over data that carries a correct
 * checksum it is 0. */
uint16_t inet_cksum(const void *p, size_t len);

struct ipv4_info {
	uint32_t src, dst; /* host order */
	uint16_t total;	   /* total length from the header, bytes: hlen <= total <= len */
	uint16_t hlen;	   /* header length with options, bytes */
	uint8_t proto, ttl;
	bool df;	   /* don't fragment */
	bool frag;	   /* a fragment: MF set or a non-zero offset */
	uint16_t frag_off; /* fragment offset in bytes (0 for the first fragment) */
};

/*
 * Parses the IPv4 header at ip (len bytes available; len may exceed the total length, as with
 * Ethernet padding). E_SHORT if the header or the total length runs past len, E_ENCODING for a
 * version other than 4, IHL < 5 or a total length below the header length. The header
 * checksum is not checked: see ipv4_cksum_ok().
 */
int ipv4_parse(const uint8_t *ip, size_t len, struct ipv4_info *out) WARN_UNUSED;
/* True if the hlen-byte header at ip (hlen >= 20, all readable) has a correct checksum. */
bool ipv4_cksum_ok(const uint8_t *ip, size_t hlen);

/* Multicast (224.0.0.0/4). Inline: the workers ask for every overlay packet. */
static inline bool
ipv4_is_mcast(uint32_t a)
{
	return (a >> 28) == 0xe;
}

/* The limited broadcast 255.255.255.255, or the directed broadcast of ifaddr/mask unless the
 * mask is /31 or /32, which have none (RFC 3021). */
static inline bool
ipv4_is_bcast(uint32_t a, uint32_t ifaddr, uint32_t mask)
{
	if (a == 0xffffffff)
		return true;
	if (mask == 0xffffffff || mask == 0xfffffffe)
		return false;
	return a == (ifaddr | ~mask);
}
/* The Ethernet address of an IPv4 multicast group: 01:00:5e and its low 23 bits (RFC 1112). */
void eth_mcast_mac(uint32_t group, uint8_t mac[INET_ETH_ALEN]);

struct arp_info {
	uint16_t op; /* INET_ARP_REQUEST or INET_ARP_REPLY */
	uint8_t sha[INET_ETH_ALEN];
	uint32_t spa; /* host order */
	uint8_t tha[INET_ETH_ALEN];
	uint32_t tpa; /* host order */
};

/*
 * Parses an ARP packet (what follows the Ethernet header; trailing padding is allowed).
 * E_SHORT below 28 bytes; E_ENCODING unless it is Ethernet/IPv4 (htype 1, ptype 0x0800,
 * hlen 6, plen 4) with op request or reply.
 */
int arp_parse(const uint8_t *arp, size_t len, struct arp_info *a) WARN_UNUSED;
/*
 * Writes a whole Ethernet frame carrying one ARP packet: destination eth_dst, source sha,
 * zero-padded to the 60-byte minimum. Returns 60, or 0 (nothing written) if cap < 60.
 */
size_t arp_build(uint8_t *frame, size_t cap, uint16_t op, const uint8_t eth_dst[INET_ETH_ALEN],
		 const uint8_t sha[INET_ETH_ALEN], uint32_t spa, const uint8_t tha[INET_ETH_ALEN],
		 uint32_t tpa);

/*
 * Lowers the TCP MSS option of a SYN or SYN-ACK to mss, in place, in the IPv4 packet at ip
 * (len bytes available). Returns 1 if it changed the packet, 0 if it does not apply (not TCP,
 * a fragment, no SYN, no MSS option, MSS already <= mss, or malformed options, which are
 * left alone for the receiver to judge), or E_SHORT/E_ENCODING if the IP or TCP header is
 * malformed. Never touches bytes outside the IP total length.
 *
 * Every MSS option (kind 2, length 4) is lowered, since receivers disagree about which of
 * several counts. The TCP checksum is updated incrementally (RFC 1624 eqn. 3), which keeps the
 * segment's one's-complement sum unchanged: a correct checksum stays correct and a wrong one
 * stays wrong by the same amount, so corruption is never hidden. A segment whose checksum is
 * still to be completed by an offload engine (the field holds only the pseudo-header sum) must
 * not come here: the engine would then undo the adjustment.
 */
int tcp_mss_clamp(uint8_t *ip, size_t len, uint16_t mss) WARN_UNUSED;

/*
 * Writes an IPv4 packet (no Ethernet header) with an ICMP "fragmentation needed and DF set"
 * (type 3 code 4) carrying next-hop MTU mtu (RFC 1191), from src to the source of the orig_len-
 * byte packet orig, TTL 64, quoting orig's IP header and the first 8 bytes of its payload (fewer
 * if it has fewer). Both checksums are valid. Returns the length written, or 0 (nothing
 * written) when RFC 1122 3.2.2 forbids an error (orig is an ICMP error, a non-first fragment,
 * from 0.0.0.0, a broadcast, multicast or class E source, or to a multicast or limited
 * broadcast destination), when orig does not parse, or when cap is too small.
 */
size_t icmp_frag_needed(uint8_t *out, size_t cap, const uint8_t *orig, size_t orig_len,
			uint32_t src, uint16_t mtu);

#endif
