/* SPDX-License-Identifier: MIT */
/*
 * The relay over TCP, for a node whose UDP cannot leave its network (docs/PROTOCOL.md 7.4:
 * frames of `len (u16) | datagram` on the relay's TCP port).
 *
 * Tunnels then reach the relay at a local endpoint, the *proxy*: this host's wan address
 * (the mirror interface's) and port tunnel.port + 1, where a UDP socket of ours listens.
 * Whatever is sent there goes to the relay over TCP: the control process's own BINDs, key
 * exchanges and PROBEs (sent from the tunnel port like any other), and the data plane's
 * sealed datagrams of SAs whose endpoint is the proxy (the data plane's host loop hands them
 * to the kernel instead of the wan). What the relay sends back comes out of the proxy: data
 * packets into the data plane, through an AF_PACKET socket on the mirror interface, as if
 * they had come from the proxy (so the SA's endpoint stays the proxy); everything else to rx
 * as a datagram from the proxy.
 *
 * One connection, to the relay of the latest relaytcp_use; it is made again with a back-off
 * (1 s doubling to 30 s) when it breaks. Datagrams that find it down or its output full are
 * dropped, as UDP would: the callers' retransmissions and the tunnel's own recovery cover it.
 */
#ifndef BURI_CONTROL_RELAYTCP_H
#define BURI_CONTROL_RELAYTCP_H

#include <stdbool.h>
#include <stdint.h>

#include "control/loop.h"
#include "control/tunport.h"

enum {
	RELAYTCP_PORT_OFFSET = 1, /* the proxy's port: tunnel.port + 1 */
	RELAYTCP_OUT_MAX = 256 * 1024,
};

struct relaytcp_params {
	struct loop *l;
	uint16_t tunnel_port;
	const char *mirror_iface; /* the data plane's mirror of the wan (buriwan0) */
	tunport_rx_fn *rx;	  /* a control datagram or relay message from the relay */
	void *arg;
};

struct relaytcp;

/* Binds the proxy's UDP socket and opens the AF_PACKET socket. NULL with errno set. */
struct relaytcp *relaytcp_new(const struct relaytcp_params *p);
void relaytcp_free(struct relaytcp *r);

/* Use the relay at addr:port (host order); connects now if not connected to it already. */
void relaytcp_use(struct relaytcp *r, uint32_t addr, uint16_t port);

/* The proxy endpoint; false while the mirror interface has no address. */
bool relaytcp_proxy(struct relaytcp *r, uint32_t *addr, uint16_t *port);

struct relaytcp_stats {
	uint64_t out, in, injected, dropped, connects;
	bool connected;
};
void relaytcp_stats(const struct relaytcp *r, struct relaytcp_stats *out);

#endif
