/* SPDX-License-Identifier: MIT */
/*
 * Tunnels to peers: hole punching, the key exchange on the tunnel port, SAs into the data
 * plane, keepalives and liveness, endpoint tracking, re-establishment (docs/PROTOCOL.md 11,
 * docs/ARCHITECTURE.md "control/").
 *
 * A tunnel is named by its peer's identity. The mediator gives it an SPI pair and candidate
 * endpoints (TUNNEL); the tunnel keeps its current SA's SPI pair, which stays the same across
 * mediator outages and restarts (a TUNNEL for a peer whose SA works changes nothing but the
 * candidates). Every exchange, first or again, follows one rule: either side may send KE1; if
 * both did, the exchange of the side with the lower inbound SPI goes on.
 *
 * Keys exist in this process only between the end of an exchange and the SA_ADD that hands
 * them to the data plane; they are wiped right after. Keepalives (dummy messages) are sent by
 * the data plane on request (SA_PROBE), since it owns the message-ID counter.
 */
#ifndef BURI_CONTROL_TUNNEL_H
#define BURI_CONTROL_TUNNEL_H

#include <stdbool.h>
#include <stdint.h>

#include "common/crypto.h"
#include "common/frame.h"
#include "common/msg.h"
#include "common/pubkey.h"
#include "control/cfg.h"
#include "control/dplink.h"
#include "control/loop.h"
#include "control/relaybind.h"
#include "control/relaytcp.h"
#include "control/tunport.h"

enum tun_state {
	TUN_PUNCH,  /* probing candidates; key exchange in progress or awaited */
	TUN_UP,	    /* an SA in the data plane carries traffic */
	TUN_FAILED, /* the last attempt gave up; tried again after tunnel.retry */
};

enum { TUNNEL_CANDS_MAX = MSG_CAND_MAX + 2 }; /* the mediator's list plus the endpoint used */

struct tunnel_cand {
	uint32_t addr;
	uint16_t port;
	bool answered; /* a PROBE was answered from there */
};

/* What `buri peers` shows of a tunnel. */
struct tunnel_info {
	uint32_t peer;
	enum tun_state state;
	bool dead;    /* UP, but nothing authentic for dead_after keepalives */
	bool adopted; /* found in the data plane at attach, keys unknown here */
	uint32_t spi_in, spi_out;
	uint32_t ep_addr; /* 0: none yet */
	uint16_t ep_port;
	int rtt_ms;		 /* -1: not measured */
	uint64_t last_handshake; /* unix seconds, 0: never (adopted) */
	uint64_t pkts_in, bytes_in, pkts_out, bytes_out;
	uint32_t quiet_s;
	unsigned exchanges, failures;
	const char *last_error; /* static text, "" if none */
	bool relayed;		/* the endpoint is the relay */
	bool relay_granted, relay_bound;
	uint16_t relay_status;	 /* the relay's last refusal (E_* wire code), 0 if none */
	unsigned direct_answers; /* PROBE answers from direct candidates, ever */
	unsigned ncand;		 /* direct candidates tried */
	struct tunnel_cand cand[TUNNEL_CANDS_MAX];
	uint8_t peer_nat; /* NAT_* the peer reported */
};

struct tunnels_params {
	struct loop *l;
	struct tunport *tp;
	struct crypto *c;
	const struct pubkey *self; /* our key pair: signs KE2/KE3 */
	const struct ctl_cfg *cfg;
};

struct tunnels;

struct tunnels *tunnels_new(const struct tunnels_params *p);
/* Cancels everything; SAs stay in the data plane (a restarted control process adopts them). */
void tunnels_free(struct tunnels *ts);
/* The data plane link (created after tunnels_new, with tunnels_dplink_ops and ts as arg). */
void tunnels_set_dplink(struct tunnels *ts, struct dplink *d);
extern const struct dplink_ops tunnels_dplink_ops;

/* Mediator pushes. */
void tunnels_on_tunnel(struct tunnels *ts, const struct msg_tunnel *m);
void tunnels_on_down(struct tunnels *ts, uint32_t peer);
void tunnels_on_lost(struct tunnels *ts, uint32_t peer);
/* A relay grant for the tunnel to g->peer; self is our identity. */
void tunnels_on_relay(struct tunnels *ts, const struct msg_relay *g, uint32_t self);

/* UDP does not leave this network (discovery got no answer): reach relays over TCP through
 * rt from now on (rt outlives ts). */
void tunnels_relay_tcp(struct tunnels *ts, struct relaytcp *rt);

/* A relay message (relay_classify: RELAY_MESSAGE) that arrived on the tunnel port. */
void tunnels_on_relay_msg(struct tunnels *ts, const uint8_t *p, size_t len, uint32_t addr,
			  uint16_t port);

/* A control packet that arrived on the tunnel port from addr:port (host order). */
void tunnels_on_ctl(struct tunnels *ts, const struct tunnel_ctl *t, uint32_t addr, uint16_t port);

/* Calls fn for every tunnel. */
void tunnels_each(struct tunnels *ts, void (*fn)(void *arg, const struct tunnel_info *ti),
		  void *arg);
/* The tunnel of peer, or false. */
bool tunnels_get(struct tunnels *ts, uint32_t peer, struct tunnel_info *out);

struct tunnels_stats {
	uint64_t ctl_in, ctl_dropped, exchanges, failures, keepalives, deaths;
};
void tunnels_stats(const struct tunnels *ts, struct tunnels_stats *out);

#endif
