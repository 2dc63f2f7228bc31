/* SPDX-License-Identifier: MIT */
/* NAT discovery (disco.h). */
#include "control/disco.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>

#include "common/disco.h"
#include "common/err.h"
#include "common/log.h"

enum {
	SENDS = 4, /* probes per port, at 0, 250, 750, 1750 ms */
	FIRST_RTO_MS = 250,
	RUN_MS = 3000,
};

struct disco {
	struct disco_params p;
	bool running;
	uint32_t identity, server;
	uint8_t key[MSG_DISCO_KEY_LEN];
	uint8_t nonce[MSG_DISCO_NONCE_LEN];
	uint16_t ports[MSG_DISCO_PORTS_MAX];
	unsigned nports, sends;
	bool got[MSG_DISCO_PORTS_MAX];
	uint32_t addr[MSG_DISCO_PORTS_MAX];
	uint16_t port[MSG_DISCO_PORTS_MAX];
	uint64_t started;
	struct loop_timer timer;
	struct disco_result last;
};

unsigned
disco_local_cands(const char *skip_iface, uint16_t port, struct msg_cand *out, unsigned max)
{
	struct ifaddrs *ifa, *i;
	unsigned n = 0;

	if (getifaddrs(&ifa) != 0)
		return 0;
	for (i = ifa; i != NULL && n < max; i = i->ifa_next) {
		uint32_t a;

		if (i->ifa_addr == NULL || i->ifa_addr->sa_family != AF_INET ||
		    (i->ifa_flags & IFF_LOOPBACK) || !(i->ifa_flags & IFF_UP) ||
		    (skip_iface != NULL && strcmp(i->ifa_name, skip_iface) == 0))
			continue;
		a = ntohl(((const struct sockaddr_in *)(const void *)i->ifa_addr)->sin_addr.s_addr);
		if (a == 0 || (a >> 16) == 0xa9fe) /* 169.254/16: link-local */
			continue;
		out[n++] = (struct msg_cand){a, port, CAND_LOCAL};
	}
	freeifaddrs(ifa);
	return n;
}

uint8_t
disco_classify(unsigned nports, const uint32_t *addr, const uint16_t *port, unsigned n,
	       const struct msg_cand *local, unsigned nlocal, uint16_t tunnel_port)
{
	if (nports == 0)
		return NAT_UNKNOWN;
	if (n == 0)
		return NAT_UDP_BLOCKED;
	for (unsigned i = 0; i < nlocal; i++)
		if (local[i].addr == addr[0] && port[0] == tunnel_port)
			return NAT_NONE;
	if (n < 2)
		return NAT_UNKNOWN;
	for (unsigned i = 1; i < n; i++)
		if (addr[i] != addr[0] || port[i] != port[0])
			return NAT_EDM;
	return NAT_EIM;
}

static void
send_probes(struct disco *d)
{
	struct msg m = {.type = MSG_DISCO_PROBE};
	uint8_t out[DISCO_DGRAM_MAX];
	size_t len;

	m.u.disco_probe.identity = d->identity;
	memcpy(m.u.disco_probe.nonce, d->nonce, sizeof(d->nonce));
	if (disco_dgram_seal(d->p.c, d->key, MSG_CH_DISCO_C2S, &m, out, sizeof(out), &len) != 0)
		return;
	for (unsigned i = 0; i < d->nports; i++)
		if (!d->got[i])
			(void)tunport_send(d->p.tp, d->server, d->ports[i], out, len);
	d->sends++;
}

static void
finish(struct disco *d)
{
	struct disco_result *r = &d->last;
	uint32_t addr[MSG_DISCO_PORTS_MAX];
	uint16_t port[MSG_DISCO_PORTS_MAX];
	unsigned n = 0;

	loop_timer_cancel(d->p.l, &d->timer);
	d->running = false;
	memset(r, 0, sizeof(*r));
	for (unsigned i = 0; i < d->nports; i++)
		if (d->got[i]) {
			addr[n] = d->addr[i];
			port[n++] = d->port[i];
		}
	r->n = (uint8_t)disco_local_cands(d->p.overlay_iface, d->p.tunnel_port, r->cand,
					  MSG_CAND_MAX);
	r->nat = disco_classify(d->nports, addr, port, n, r->cand, r->n, d->p.tunnel_port);
	r->replies = n;
	r->ports = d->nports;
	if (n > 0) {
		r->pub_addr = addr[0];
		r->pub_port = port[0];
	}
	wipe(d->key, sizeof(d->key));
	d->p.done(d->p.arg, r);
}

static void
on_timer(void *arg)
{
	struct disco *d = arg;
	uint64_t now = loop_now(d->p.l);

	if (d->sends >= SENDS || now - d->started >= RUN_MS) {
		if (now - d->started >= RUN_MS)
			finish(d);
		else
			loop_timer_at(d->p.l, &d->timer, d->started + RUN_MS);
		return;
	}
	send_probes(d);
	loop_timer_in(d->p.l, &d->timer, (uint64_t)FIRST_RTO_MS << (d->sends - 1));
}

struct disco *
disco_new(const struct disco_params *p)
{
	struct disco *d = calloc(1, sizeof(*d));

	if (d == NULL)
		return NULL;
	d->p = *p;
	loop_timer_init(&d->timer, on_timer, d);
	return d;
}

void
disco_free(struct disco *d)
{
	if (d == NULL)
		return;
	loop_timer_cancel(d->p.l, &d->timer);
	wipe(d, sizeof(*d));
	free(d);
}

void
disco_start(struct disco *d, uint32_t identity, const uint8_t key[MSG_DISCO_KEY_LEN],
	    uint32_t server_addr, const uint16_t *ports, unsigned n)
{
	disco_stop(d);
	d->identity = identity;
	d->server = server_addr;
	memcpy(d->key, key, sizeof(d->key));
	d->nports = MIN(n, (unsigned)MSG_DISCO_PORTS_MAX);
	memcpy(d->ports, ports, d->nports * sizeof(ports[0]));
	memset(d->got, 0, sizeof(d->got));
	d->sends = 0;
	d->started = loop_now(d->p.l);
	d->running = true;
	if (crypto_random(d->nonce, sizeof(d->nonce)) != 0 || d->nports == 0) {
		finish(d);
		return;
	}
	on_timer(d);
}

void
disco_stop(struct disco *d)
{
	loop_timer_cancel(d->p.l, &d->timer);
	d->running = false;
	wipe(d->key, sizeof(d->key));
}

bool
disco_on_datagram(struct disco *d, const uint8_t *p, size_t len, uint32_t addr, uint16_t port)
{
	const struct msg_disco_reply *r;
	bool all = true;
	struct msg m;
	unsigned i;

	if (!d->running || addr != d->server)
		return false;
	for (i = 0; i < d->nports && d->ports[i] != port; i++)
		;
	if (i == d->nports)
		return false;
	if (disco_dgram_open(MSG_CH_DISCO_S2C, p, len, &m) != 0 || m.type != MSG_DISCO_REPLY)
		return false;
	r = &m.u.disco_reply;
	if (disco_dgram_check(d->p.c, d->key, p, len) != 0 ||
	    !crypto_ct_equal(r->nonce, d->nonce, sizeof(d->nonce)) || r->server_port != port)
		return true; /* ours in shape, not in content: dropped */
	d->got[i] = true;
	d->addr[i] = r->addr;
	d->port[i] = r->port;
	for (unsigned j = 0; j < d->nports; j++)
		all &= d->got[j];
	if (all)
		finish(d);
	return true;
}

void
disco_last(const struct disco *d, struct disco_result *out)
{
	*out = d->last;
}
