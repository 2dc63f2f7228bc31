/* SPDX-License-Identifier: MIT */
/*
 * The discovery service: UDP ports that tell a node the address and port its probe came
 * from, so it can see whether its NAT maps per destination (PROTOCOL.md, DISCO PROBE).
 *
 * A probe is authenticated by an HMAC under the key its node got in SESSION, so the service
 * answers only logged-in nodes and cannot be used to reflect traffic at a third party; the
 * reply is smaller than the probe (no amplification), and each node's probes are rate-limited.
 * Bad datagrams are counted, never answered.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/crypto.h"
#include "common/disco.h"
#include "common/err.h"
#include "common/log.h"
#include "mediator/med.h"

enum {
	DISCO_BATCH = 64, /* datagrams per event */
	DISCO_BUF = 256,  /* larger than any valid datagram */
};

/* Token bucket per node: probe_rate per second, burst twice that. */
static bool
probe_allowed(struct med *m, struct account *a)
{
	struct timespec now;
	double dt, cap = 2.0 * m->cfg.probe_rate;

	clock_gettime(CLOCK_MONOTONIC, &now);
	dt = (double)(now.tv_sec - a->probe_ts.tv_sec) +
	     (double)(now.tv_nsec - a->probe_ts.tv_nsec) / 1e9;
	if (a->probe_ts.tv_sec == 0)
		dt = cap;
	a->probe_ts = now;
	a->probe_tokens = MIN(cap, a->probe_tokens + dt * m->cfg.probe_rate);
	if (a->probe_tokens < 1.0)
		return false;
	a->probe_tokens -= 1.0;
	return true;
}

/* The account a valid probe speaks for, or NULL. */
static struct account *
check_probe(struct med *m, const uint8_t *p, size_t len, struct msg *msg)
{
	struct account *a;

	if (disco_dgram_open(MSG_CH_DISCO_C2S, p, len, msg) != 0 || msg->type != MSG_DISCO_PROBE)
		return NULL;
	if ((a = account_by_id(m, msg->u.disco_probe.identity)) == NULL || !account_online(a))
		return NULL;
	if (disco_dgram_check(m->crypto, a->conn->disco_key, p, len) != 0)
		return NULL;
	return probe_allowed(m, a) ? a : NULL;
}

static void
reply(struct med *m, struct disco_port *dp, struct account *a, const struct msg *probe,
      const struct sockaddr_in *from)
{
	struct msg msg = {.type = MSG_DISCO_REPLY};
	struct msg_disco_reply *r = &msg.u.disco_reply;
	uint8_t out[DISCO_BUF];
	size_t len;

	memcpy(r->nonce, probe->u.disco_probe.nonce, sizeof(r->nonce));
	r->addr = ntohl(from->sin_addr.s_addr);
	r->port = ntohs(from->sin_port);
	r->server_port = dp->port;
	if (disco_dgram_seal(m->crypto, a->conn->disco_key, MSG_CH_DISCO_S2C, &msg, out,
			     sizeof(out), &len) != 0)
		return;
	if (sendto(dp->fd, out, len, 0, (const struct sockaddr *)from, sizeof(*from)) < 0)
		log_ratelimited(LOG_LVL_WARN, "discovery reply: %s", strerror(errno));
	if (dp->first) {
		a->cands.observed = (struct msg_cand){r->addr, r->port, CAND_OBSERVED};
		a->cands.have_observed = true;
	}
}

static void
on_disco(void *obj, uint32_t events)
{
	struct disco_port *dp = obj;
	struct med *m = dp->m;
	uint8_t buf[DISCO_BUF];

	(void)events;
	for (int i = 0; i < DISCO_BATCH; i++) {
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(dp->fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
		struct account *a;
		struct msg msg;

		if (n < 0)
			return;
		m->stats.probes++;
		if ((a = check_probe(m, buf, (size_t)n, &msg)) == NULL) {
			m->stats.probes_bad++;
			continue;
		}
		reply(m, dp, a, &msg, &from);
	}
}

int
disco_open(struct med *m)
{
	int r;

	for (unsigned int i = 0; i < m->cfg.n_disco_ports; i++) {
		struct disco_port *dp = &m->disco[i];

		dp->m = m;
		dp->port = (uint16_t)m->cfg.disco_ports[i];
		dp->first = i == 0;
		dp->slot = (struct epoll_slot){on_disco, dp};
		if ((r = med_listen(m, dp->port, SOCK_DGRAM, &dp->fd)) != 0 ||
		    (r = med_watch(m, dp->fd, EPOLLIN, &dp->slot)) != 0)
			return r;
		log_info("discovery on %s:%u (udp)", m->cfg.listen, dp->port);
	}
	return 0;
}

void
disco_close(struct med *m)
{
	for (size_t i = 0; i < ARRAY_SIZE(m->disco); i++) {
		if (m->disco[i].fd >= 0)
			close(m->disco[i].fd);
		m->disco[i].fd = -1;
	}
}
