/* SPDX-License-Identifier: MIT */
/*
 * buri0 through rtnetlink (libmnl): up, the overlay address with its prefix (whose connected
 * route carries the overlay), and a multicast route, so that LAN discovery (mDNS, games)
 * goes into the overlay. Synchronous requests with an ACK each; they take microseconds.
 */
#ifndef BURI_CONTROL_RTNL_H
#define BURI_CONTROL_RTNL_H

#include <stdint.h>

#include "common/util.h"

/* Brings ifname up with addr/prefix_len (host order) as its only IPv4 address and the route
 * 224.0.0.0/4 through it. 0, E_NOTFOUND (no such interface yet), E_IO (netlink refused: errno
 * says why). */
int rtnl_overlay_setup(const char *ifname, uint32_t addr, uint8_t prefix_len) WARN_UNUSED;

#endif
