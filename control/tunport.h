/* SPDX-License-Identifier: MIT */
/*
 * The control process's UDP socket on the tunnel port. It is bound to the same port as the
 * data packets (0.0.0.0:tunnel.port): the host stack reaches the wire through the data plane's
 * exception path (the buriwan0 mirror), so key exchanges, NAT probes and discovery share the
 * tunnel's NAT mapping. The data plane keeps every data packet (non-zero SPI) for itself; what
 * reaches this socket is SPI-0 traffic: tunnel control packets and discovery replies.
 */
#ifndef BURI_CONTROL_TUNPORT_H
#define BURI_CONTROL_TUNPORT_H

#include <stddef.h>
#include <stdint.h>

#include "control/loop.h"

/* One datagram; addr and port host order. */
typedef void tunport_rx_fn(void *arg, const uint8_t *p, size_t len, uint32_t addr, uint16_t port);

struct tunport;

/* Binds 0.0.0.0:port (SO_REUSEADDR; never SO_REUSEPORT: a second buri-control must fail
 * loudly, not share the port) and calls fn for every datagram. NULL with errno set. */
struct tunport *tunport_new(struct loop *l, uint16_t port, tunport_rx_fn *fn, void *arg);
void tunport_free(struct tunport *t);

/* Sends one datagram; 0, or E_IO (the send failed: no route yet, buffer full; the callers'
 * retransmissions cover it). Host order. */
int tunport_send(struct tunport *t, uint32_t addr, uint16_t port, const void *p, size_t len);

struct tunport_stats {
	uint64_t rx, tx, tx_errors;
};
void tunport_stats(const struct tunport *t, struct tunport_stats *out);

#endif
