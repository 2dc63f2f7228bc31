/* SPDX-License-Identifier: MIT */
/*
 * Checks of the names the data plane and the control process share in their configs: the
 * data plane's file prefix (it names the dpif region and DPDK's runtime files) and Linux
 * interface names. Each returns NULL for a good value, else the reason, written to follow the
 * quoted value ("\"x y\" may only contain ...").
 */
#ifndef BURI_NAMES_H
#define BURI_NAMES_H

enum {
	NAMES_PREFIX_MAX = 32, /* it names files in /dev/shm and /var/run/dpdk */
	NAMES_IFNAME_MAX = 15, /* IFNAMSIZ - 1 */
};

const char *names_prefix_problem(const char *s);
const char *names_ifname_problem(const char *s);

#endif
