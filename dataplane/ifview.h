/* SPDX-License-Identifier: MIT */
/*
 * What the kernel says about a network interface: index, state, IPv4 address, MTU, MAC, the
 * default gateway through it and its complete ARP entries. The data plane polls its mirror TAP
 * and the overlay TAP this way about once a second, never per packet: every call here makes
 * system calls. The text parsers are separate so that they can be tested and fuzzed on samples.
 *
 * Errors: E_INVAL for a bad interface name (empty, IFNAMSIZ or longer, "." or "..", or with
 * '/' or white space), E_NOTFOUND for no such interface, E_RANGE for a value the kernel refuses,
 * E_IO for any other failure of the operating system (including missing privileges).
 */
#ifndef BURI_IFVIEW_H
#define BURI_IFVIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/util.h"

enum {
	IFVIEW_PROC_MAX = 64 * 1024, /* bytes of /proc/net/{route,arp} examined */
};

struct ifview {
	int ifindex;
	bool up;	/* administratively up (IFF_UP), whatever the carrier */
	uint32_t addr;	/* primary IPv4 address, host order; 0 if none */
	uint32_t mask;	/* its netmask, host order; 0 if no address */
	unsigned mtu;	/* bytes */
	uint8_t mac[6]; /* all zero for interfaces without one (lo, tun) */
};

/* Fills v from ioctls on an AF_INET datagram socket. An interface without an IPv4 address is
 * not an error: addr and mask are then 0. */
int ifview_get(const char *ifname, struct ifview *v) WARN_UNUSED;
/* Sets the MTU (needs CAP_NET_ADMIN); E_RANGE if the device refuses the value. */
int ifview_set_mtu(const char *ifname, unsigned mtu) WARN_UNUSED;
/* Writes 1 to /proc/sys/net/ipv6/conf/<ifname>/disable_ipv6, so that the kernel sends no router
 * solicitations or DAD probes on it. 0 as well if the kernel has no IPv6 at all. */
int ifview_disable_ipv6(const char *ifname) WARN_UNUSED;

/*
 * From the text of /proc/net/route (len bytes, need not end in NUL), the gateway (host order) of
 * the default route (destination 0, mask 0, flags UP and GATEWAY) through ifname; if there are
 * several, the one with the lowest metric. E_NOTFOUND if there is none. Lines that do not parse
 * are skipped; at most len bytes are read.
 */
int ifview_route_parse(const char *text, size_t len, const char *ifname, uint32_t *gw) WARN_UNUSED;
/* ifview_route_parse() on the first IFVIEW_PROC_MAX bytes of /proc/net/route. The kernel lists
 * the main table in address order, so a default route comes first. */
int ifview_gateway(const char *ifname, uint32_t *gw) WARN_UNUSED;

/* Called once per ARP entry; ip in host order. */
typedef void ifview_arp_fn(void *arg, uint32_t ip, const uint8_t mac[6]);

/*
 * Calls fn for every complete (flags & 0x2) Ethernet entry on ifname in the text of
 * /proc/net/arp (len bytes, need not end in NUL) and returns how many; lines that do not parse
 * are skipped.
 */
int ifview_arp_parse(const char *text, size_t len, const char *ifname, ifview_arp_fn *fn,
		     void *arg);
/* ifview_arp_parse() on the first IFVIEW_PROC_MAX bytes of /proc/net/arp; E_IO if unreadable. */
int ifview_arp(const char *ifname, ifview_arp_fn *fn, void *arg) WARN_UNUSED;

#endif
