/* SPDX-License-Identifier: MIT */
/* The node's side of a relay session (relaybind.h). */
#include "control/relaybind.h"

#include <string.h>

#include "common/err.h"
#include "common/relay.h"

void
relaybind_grant(struct relaybind *rb, const struct msg_relay *g, uint32_t self, uint64_t now_ms)
{
	bool same = rb->have && memcmp(rb->g.session, g->session, sizeof(g->session)) == 0 &&
		    rb->g.side == g->side;

	wipe(&rb->g, sizeof(rb->g));
	rb->g = *g;
	rb->self = self;
	rb->have = true;
	if (!same || rb->via_addr == 0) {
		rb->via_addr = g->addr;
		rb->via_port = g->udp_port;
	}
	if (!same)
		rb->bound = rb->peer_bound = false;
	rb->status = 0; /* a refusal (E_EXPIRED above all) was about the old grant */
	rb->rto_ms = RELAYBIND_RTO_MIN_MS;
	rb->next_ms = now_ms; /* a fresh expiry: bind with it now */
}

void
relaybind_spis(struct relaybind *rb, const uint32_t *spi, unsigned n, uint64_t now_ms)
{
	uint32_t got[MSG_RELAY_SPIS_MAX];
	uint8_t k = 0;

	for (unsigned i = 0; i < n && k < MSG_RELAY_SPIS_MAX; i++) {
		bool dup = spi[i] == 0;

		for (unsigned j = 0; j < k && !dup; j++)
			dup = got[j] == spi[i];
		if (!dup)
			got[k++] = spi[i];
	}
	if (k == rb->n && memcmp(got, rb->spi, k * sizeof(got[0])) == 0)
		return;
	memcpy(rb->spi, got, k * sizeof(got[0]));
	rb->n = k;
	rb->rto_ms = RELAYBIND_RTO_MIN_MS;
	rb->next_ms = now_ms;
}

static void
schedule(struct relaybind *rb, uint64_t now_ms)
{
	if (rb->bound) {
		rb->next_ms = now_ms + RELAYBIND_REFRESH_MS;
		return;
	}
	rb->next_ms = now_ms + rb->rto_ms;
	rb->rto_ms = MIN(rb->rto_ms * 2, (unsigned)RELAYBIND_RTO_MAX_MS);
}

int
relaybind_due(struct relaybind *rb, struct crypto *c, uint64_t now_ms, uint64_t wall_ms,
	      uint8_t *out, size_t cap, size_t *len)
{
	struct msg m = {.type = MSG_RELAY_BIND};
	struct msg_relay_bind *b = &m.u.relay_bind;
	int r;

	if (!rb->have || rb->n == 0 || rb->next_ms == 0 || now_ms < rb->next_ms ||
	    rb->status == err_to_wire(E_EXPIRED))
		return 0;
	rb->seq = MAX(wall_ms, rb->seq + 1);
	memcpy(b->session, rb->g.session, sizeof(b->session));
	b->expiry = rb->g.expiry;
	b->side = rb->g.side;
	b->identity = rb->self;
	b->peer = rb->g.peer;
	b->seq = rb->seq;
	b->n = rb->n;
	memcpy(b->spi, rb->spi, sizeof(b->spi));
	schedule(rb, now_ms);
	if ((r = relay_msg_seal(c, rb->g.token, MSG_CH_RELAY_C2R, &m, out, cap, len)) != 0)
		return r;
	return 1;
}

bool
relaybind_on_bound(struct relaybind *rb, struct crypto *c, const struct msg_relay_bound *b,
		   const uint8_t *p, size_t len, uint32_t addr, uint16_t port, uint64_t now_ms)
{
	if (!rb->have || !relaybind_is_relay(rb, addr, port) || b->seq != rb->seq ||
	    b->side != rb->g.side || memcmp(b->session, rb->g.session, sizeof(b->session)) != 0 ||
	    relay_msg_check(c, rb->g.token, p, len) != 0)
		return false;
	rb->status = b->status;
	rb->bound = b->status == 0;
	rb->peer_bound = rb->bound && b->peer_bound;
	if (rb->bound)
		rb->rto_ms = RELAYBIND_RTO_MIN_MS;
	/* bound: refresh later; refused: try again at the back-off's pace (E_EXPIRED: never,
	 * until a new grant) */
	rb->next_ms = rb->bound ? now_ms + RELAYBIND_REFRESH_MS : now_ms + RELAYBIND_RTO_MAX_MS;
	return true;
}

void
relaybind_via(struct relaybind *rb, uint32_t addr, uint16_t port, uint64_t now_ms)
{
	if (rb->via_addr == addr && rb->via_port == port)
		return;
	rb->via_addr = addr;
	rb->via_port = port;
	rb->bound = rb->peer_bound = false;
	rb->rto_ms = RELAYBIND_RTO_MIN_MS;
	rb->next_ms = now_ms;
}

bool
relaybind_is_relay(const struct relaybind *rb, uint32_t addr, uint16_t port)
{
	return rb->have && addr == rb->via_addr && port == rb->via_port;
}

void
relaybind_clear(struct relaybind *rb)
{
	wipe(rb, sizeof(*rb));
}
