/* SPDX-License-Identifier: MIT */
/*
 * NAT discovery (docs/PROTOCOL.md 7.3): DISCO PROBEs from the tunnel port to every discovery
 * port of the mediator, so the mapping the mediator reports is the one the tunnels use. From
 * the replies and the node's own addresses it classifies the NAT:
 *   a reply showing one of our own addresses and the tunnel port   -> none (public address)
 *   two or more ports, the same mapping for all                    -> endpoint-independent
 *   two or more ports, different mappings                          -> endpoint-dependent
 *   no reply at all                                                -> UDP blocked
 *   one port only                                                  -> unknown (mapping seen)
 * Filtering cannot be told with one server address; it is not reported. The candidates are the
 * node's IPv4 interface addresses with the tunnel port (kind local); the mediator adds the
 * mapping it observed itself.
 */
#ifndef BURI_CONTROL_DISCO_H
#define BURI_CONTROL_DISCO_H

#include <stdbool.h>
#include <stdint.h>

#include "common/crypto.h"
#include "common/msg.h"
#include "control/loop.h"
#include "control/tunport.h"

struct disco_result {
	uint8_t nat;	   /* NAT_* */
	uint32_t pub_addr; /* the mapping the first reply showed; 0: none */
	uint16_t pub_port;
	unsigned replies, ports;
	uint8_t n; /* candidates */
	struct msg_cand cand[MSG_CAND_MAX];
};

struct disco_params {
	struct loop *l;
	struct tunport *tp;
	struct crypto *c;
	uint16_t tunnel_port;
	const char *overlay_iface; /* never a candidate */
	void (*done)(void *arg, const struct disco_result *r);
	void *arg;
};

struct disco;

struct disco *disco_new(const struct disco_params *p);
void disco_free(struct disco *d);

/* A run: probes to server_addr at each of ports[0..n) (host order) with the session's
 * identity and key; done() is called once when every port answered or after about 3 s. A
 * run in progress is replaced. */
void disco_start(struct disco *d, uint32_t identity, const uint8_t key[MSG_DISCO_KEY_LEN],
		 uint32_t server_addr, const uint16_t *ports, unsigned n);
/* Stops a run (session lost); the last result stays. */
void disco_stop(struct disco *d);
/* True if p[0..len) from addr:port was a discovery reply of this run (taken, checked). */
bool disco_on_datagram(struct disco *d, const uint8_t *p, size_t len, uint32_t addr, uint16_t port);
/* The last completed run's result (nat NAT_UNKNOWN and no replies before the first). */
void disco_last(const struct disco *d, struct disco_result *out);

/* Our IPv4 interface addresses as local candidates with port, except loopback, link-local and
 * skip_iface; returns how many (at most max). */
unsigned disco_local_cands(const char *skip_iface, uint16_t port, struct msg_cand *out,
			   unsigned max);

/* The classification above, from the replies' mappings (addr[i], port[i], i < n) of nports
 * probed ports and our local candidates. */
uint8_t disco_classify(unsigned nports, const uint32_t *addr, const uint16_t *port, unsigned n,
		       const struct msg_cand *local, unsigned nlocal, uint16_t tunnel_port);

#endif
