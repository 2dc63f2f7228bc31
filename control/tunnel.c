/* SPDX-License-Identifier: MIT */
/* Tunnels to peers (tunnel.h). */
#include "control/tunnel.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/err.h"
#include "common/log.h"
#include "common/keyfile.h"
#include "common/relay.h"
#include "control/ke.h"

enum {
	TUN_MAX = 1024,
	RTO_MIN_MS = 250, /* retransmission: 250 ms doubling to 2 s (PROTOCOL.md 11) */
	RTO_MAX_MS = 2000,
	OLD_SA_KEEP_MS = 5000, /* a replaced SA decrypts what was in flight for this long */
	TICK_MS = 500,
	LOST_PROBES = 5, /* after PEER LOST: path checks, one every LOST_PROBE_MS */
	LOST_PROBE_MS = 2000,
	PROBE_REPLIES_PER_S = 10,
	NCAND = TUNNEL_CANDS_MAX,
	RELAY_AFTER_MS = 2000,	 /* punching this long without success: KE1 via the relay too */
	UPGRADE_EVERY_MS = 5000, /* a relayed tunnel probes the direct candidates this often */
	PATH_QUIET_S = 3,	 /* a direct path silent this long while we send is checked */
	PATH_WAIT_MS = 1000,	 /* how long a path check waits for the direct path's answer */
};

struct cand {
	uint32_t addr;
	uint16_t port;
	bool answered; /* a PROBE of ours was answered from here */
};

/* One key exchange in progress (or, with active false, the last one, kept so that a repeated
 * KE3 can still be answered). */
struct xchg {
	bool active, initiator, sa_pushed;
	bool rekey; /* new SPIs chosen by the nodes (PROTOCOL.md 11, rekeying) */
	uint32_t spi_in, spi_out;
	struct ke ke;
	uint64_t started, last_sent;
	unsigned rto;
	uint32_t ep_addr; /* the address the peer's signed message came from */
	uint16_t ep_port;
	uint8_t pkt[WIRE_TUNNEL_CTL_MAX]; /* what the timer resends: KE1 or KE3 */
	size_t pkt_len;
};

struct tunnel {
	struct tunnels *ts;
	uint32_t peer;
	uint32_t med_in, med_out; /* the mediator's pair, 0 while unknown (adopted) */
	uint32_t spi_in, spi_out; /* the current SA, 0: none */
	struct pubkey *key;	  /* the peer's, NULL while unknown */
	bool key_pinned;
	struct cand cand[NCAND];
	unsigned ncand;
	uint32_t ep_addr;
	uint16_t ep_port;
	enum tun_state state;
	bool dead, adopted, lost, seen_in_dump;
	struct xchg x;
	struct loop_timer timer; /* retransmission of the exchange, retry after failure */
	uint64_t punch_started;
	uint32_t old_spi; /* replaced SA still decrypting, deleted at old_del_at */
	uint64_t old_del_at;
	uint8_t probe_nonce[MSG_PROBE_NONCE_LEN];
	uint64_t probe_sent;
	unsigned replies, lost_probes;
	uint64_t replies_sec, next_lost_probe, last_keepalive;
	int rtt_ms;
	uint64_t last_handshake;
	uint64_t rekey_not_before; /* ms: a failed rekey waits tunnel.retry before the next */
	uint64_t pkts_in, bytes_in, pkts_out, bytes_out;
	uint32_t quiet_s, idle_out_s;
	unsigned exchanges, failures;
	const char *last_error;
	/* the relay (PROTOCOL.md 11, relayed tunnels) */
	struct relaybind rb;
	uint8_t pc_nonce[MSG_PROBE_NONCE_LEN]; /* path check / upgrade probes */
	uint64_t pc_at;			       /* a downgrade check in progress since; 0: none */
	bool pc_direct, pc_relay;	       /* which paths answered it */
	uint64_t next_upgrade;
	unsigned direct_answers; /* answers from direct candidates, ever */
	uint8_t peer_nat;	 /* NAT_* the peer reported */
};

struct tunnels {
	struct tunnels_params p;
	struct dplink *dp;
	struct relaytcp *rt; /* UDP is blocked here: the relay over TCP (NULL: over UDP) */
	struct tunnel *t[TUN_MAX];
	unsigned n;
	struct loop_timer tick;
	struct tunnels_stats st;
};

static void on_timer(void *arg);
static void x_start(struct tunnel *t);
static void bind_spis(struct tunnel *t);

static uint64_t
now_ms(const struct tunnel *t)
{
	return loop_now(t->ts->p.l);
}

/* --- the table --- */

static struct tunnel *
by_peer(struct tunnels *ts, uint32_t peer)
{
	for (unsigned i = 0; i < ts->n; i++)
		if (ts->t[i]->peer == peer)
			return ts->t[i];
	return NULL;
}

/* The tunnel a control packet (dst, src) belongs to: its current pair, the mediator's, that
 * of the exchange in progress (whose peer SPI a rekey's initiator learns from KE2), or a
 * rekey proposal (our current inbound SPI and a new node-chosen one of the peer's). */
static struct tunnel *
by_pair(struct tunnels *ts, uint32_t dst, uint32_t src)
{
	for (unsigned i = 0; i < ts->n; i++) {
		struct tunnel *t = ts->t[i];
		const struct xchg *x = &t->x;

		if ((t->spi_in == dst && t->spi_out == src) ||
		    (t->med_in == dst && t->med_out == src) ||
		    (x->spi_in == dst && x->spi_in != 0 &&
		     (x->spi_out == src || (x->rekey && x->initiator && x->spi_out == 0))) ||
		    (t->spi_in == dst && (src & WIRE_SPI_NODE) && src != t->spi_out))
			return t;
	}
	return NULL;
}

/* A fresh inbound SPI for a rekey: top bit set, used by none of our SAs. */
static uint32_t
new_spi(const struct tunnels *ts)
{
	for (;;) {
		uint32_t spi;
		bool used = false;

		if (crypto_random(&spi, sizeof(spi)) != 0)
			return 0;
		spi |= WIRE_SPI_NODE;
		for (unsigned i = 0; i < ts->n && !used; i++)
			used = ts->t[i]->spi_in == spi || ts->t[i]->old_spi == spi ||
			       ts->t[i]->x.spi_in == spi;
		if (!used)
			return spi;
	}
}

/* Whether our side's exchange goes on when both sides sent KE1: the lower inbound SPI wins,
 * compared on the pair both sides know (the current SA's, else the exchange's). */
static bool
ours_wins(const struct tunnel *t)
{
	return t->spi_in != 0 ? t->spi_in < t->spi_out : t->x.spi_in < t->x.spi_out;
}

static struct tunnel *
by_spi(struct tunnels *ts, uint32_t spi_in)
{
	for (unsigned i = 0; i < ts->n; i++)
		if (ts->t[i]->spi_in == spi_in)
			return ts->t[i];
	return NULL;
}

static struct tunnel *
tunnel_new(struct tunnels *ts, uint32_t peer)
{
	struct tunnel *t;

	if (ts->n == TUN_MAX || (t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->ts = ts;
	t->peer = peer;
	t->rtt_ms = -1;
	t->last_error = "";
	loop_timer_init(&t->timer, on_timer, t);
	ts->t[ts->n++] = t;
	return t;
}

static void
tunnel_free(struct tunnel *t)
{
	struct tunnels *ts = t->ts;

	for (unsigned i = 0; i < ts->n; i++)
		if (ts->t[i] == t) {
			ts->t[i] = ts->t[--ts->n];
			break;
		}
	loop_timer_cancel(ts->p.l, &t->timer);
	ke_clear(&t->x.ke);
	relaybind_clear(&t->rb);
	pubkey_free(t->key);
	free(t);
}

/* Direct candidates only: the relay is used on its own terms. */
static void
cand_add(struct tunnel *t, uint32_t addr, uint16_t port)
{
	if (addr == 0 || port == 0 || relaybind_is_relay(&t->rb, addr, port))
		return;
	for (unsigned i = 0; i < t->ncand; i++)
		if (t->cand[i].addr == addr && t->cand[i].port == port)
			return;
	if (t->ncand < NCAND)
		t->cand[t->ncand++] = (struct cand){addr, port, false};
}

/* An answer to one of our PROBEs came from addr:port: a direct path works there. */
static void
direct_answer(struct tunnel *t, uint32_t addr, uint16_t port)
{
	t->direct_answers++;
	for (unsigned i = 0; i < t->ncand; i++)
		if (t->cand[i].addr == addr && t->cand[i].port == port)
			t->cand[i].answered = true;
}

/* --- sending on the tunnel port --- */

static int
encode(uint32_t dst, uint32_t src, const struct msg *m, uint8_t *out, size_t *len)
{
	struct tunnel_ctl c = {dst, src, *m};

	return tunnel_ctl_encode(&c, out, WIRE_TUNNEL_CTL_MAX, len);
}

static void
send_to(struct tunnel *t, uint32_t addr, uint16_t port, const uint8_t *p, size_t len)
{
	(void)tunport_send(t->ts->p.tp, addr, port, p, len);
}

static void
send_all(struct tunnel *t, const uint8_t *p, size_t len)
{
	for (unsigned i = 0; i < t->ncand; i++)
		send_to(t, t->cand[i].addr, t->cand[i].port, p, len);
}

/* PROBE on the pair (dst, src); reply asks the peer to answer it (RTT, path check). */
static void
probe(struct tunnel *t, uint32_t dst, uint32_t src, bool reply, const uint8_t *nonce, uint32_t addr,
      uint16_t port)
{
	uint8_t pkt[WIRE_TUNNEL_CTL_MAX];
	struct msg m = {.type = MSG_PROBE};
	size_t len;

	memcpy(m.u.probe.nonce, nonce, MSG_PROBE_NONCE_LEN);
	m.u.probe.reply = reply;
	if (encode(dst, src, &m, pkt, &len) != 0)
		return;
	if (addr != 0)
		send_to(t, addr, port, pkt, len);
	else
		send_all(t, pkt, len);
}

/* Our pair for probing: the exchange's, the current SA's, or the mediator's. */
static void
pair(const struct tunnel *t, uint32_t *in, uint32_t *out)
{
	if (t->x.active) {
		*in = t->x.spi_in;
		*out = t->x.spi_out;
	} else if (t->spi_in != 0) {
		*in = t->spi_in;
		*out = t->spi_out;
	} else {
		*in = t->med_in;
		*out = t->med_out;
	}
}

/* A path check with a fresh nonce: to addr, or to every candidate (addr 0). */
static void
probe_check(struct tunnel *t, uint32_t addr, uint16_t port)
{
	uint32_t in, out;

	pair(t, &in, &out);
	if (in == 0 || crypto_random(t->probe_nonce, sizeof(t->probe_nonce)) != 0)
		return;
	t->probe_sent = now_ms(t);
	probe(t, out, in, true, t->probe_nonce, addr, port);
}

/* --- SAs --- */

static void
push_sa(struct tunnel *t, bool standby)
{
	const struct session_keys *k = &t->x.ke.keys;
	const struct dirkey *in = t->x.initiator ? &k->r2i : &k->i2r,
			    *out = t->x.initiator ? &k->i2r : &k->r2i;
	struct dpif_sa sa = {
		.spi_in = t->x.spi_in,
		.spi_out = t->x.spi_out,
		.peer_addr = t->peer,
		.ep_addr = t->x.ep_addr,
		.ep_port = t->x.ep_port,
		.flags = standby ? DPIF_SA_STANDBY : 0,
		.net_mask = 1, /* one broadcast domain: every peer shares a network with us */
	};
	int r;

	memcpy(sa.in_ke, in->ke, sizeof(sa.in_ke));
	memcpy(sa.in_ka, in->ka, sizeof(sa.in_ka));
	memcpy(sa.out_ke, out->ke, sizeof(sa.out_ke));
	memcpy(sa.out_ka, out->ka, sizeof(sa.out_ka));
	r = t->ts->dp != NULL ? dplink_sa_add(t->ts->dp, &sa) : E_STATE;
	wipe(&sa, sizeof(sa));
	wipe(&t->x.ke.keys, sizeof(t->x.ke.keys)); /* the data plane has them now */
	if (r != 0)
		log_warn("peer " IP4_FMT ": SA not handed to the data plane: %s", IP4_ARG(t->peer),
			 err_str(r));
	t->x.sa_pushed = r == 0;
}

static void
dp_del(struct tunnels *ts, uint32_t spi)
{
	if (spi != 0 && ts->dp != NULL)
		(void)dplink_sa_del(ts->dp, spi);
}

/* --- exchanges --- */

static void
x_clear(struct tunnel *t)
{
	ke_clear(&t->x.ke);
	memset(&t->x, 0, sizeof(t->x));
}

static void
arm(struct tunnel *t, uint64_t in_ms)
{
	loop_timer_in(t->ts->p.l, &t->timer, in_ms);
}

static void
x_fail(struct tunnel *t, const char *why)
{
	t->last_error = why;
	t->failures++;
	t->ts->st.failures++;
	if (t->x.sa_pushed && t->x.spi_in != t->spi_in)
		dp_del(t->ts, t->x.spi_in); /* the standby SA of an exchange that did not finish */
	if (t->x.rekey)
		t->rekey_not_before = now_ms(t) + (uint64_t)t->ts->p.cfg->retry_s * 1000;
	x_clear(t);
	if (t->state == TUN_UP && !t->dead) {
		arm(t, (uint64_t)t->ts->p.cfg->retry_s * 1000);
		return; /* the working SA stays */
	}
	log_info("peer " IP4_FMT ": no tunnel yet (%s); trying again in %u s", IP4_ARG(t->peer),
		 why, t->ts->p.cfg->retry_s);
	t->state = t->state == TUN_UP ? TUN_UP : TUN_FAILED;
	arm(t, (uint64_t)t->ts->p.cfg->retry_s * 1000);
}

/* The exchange is over and its SA carries traffic. */
static void
x_complete(struct tunnel *t)
{
	uint64_t now = now_ms(t);

	if (t->spi_in != 0 && t->spi_in != t->x.spi_in) {
		dp_del(t->ts, t->old_spi); /* a third generation: the oldest goes at once */
		t->old_spi = t->spi_in;
		t->old_del_at = now + OLD_SA_KEEP_MS;
	}
	t->spi_in = t->x.spi_in;
	t->spi_out = t->x.spi_out;
	t->ep_addr = t->x.ep_addr;
	t->ep_port = t->x.ep_port;
	cand_add(t, t->ep_addr, t->ep_port);
	t->state = TUN_UP;
	t->dead = t->adopted = false;
	t->last_handshake = (uint64_t)time(NULL);
	t->last_error = "";
	t->exchanges++;
	t->ts->st.exchanges++;
	t->x.active = false;
	bind_spis(t);
	wipe(&t->x.ke.keys, sizeof(t->x.ke.keys));
	loop_timer_cancel(t->ts->p.l, &t->timer);
	log_info("peer " IP4_FMT ": %s, spi in %08x out %08x, endpoint " IP4_FMT ":%u%s",
		 IP4_ARG(t->peer), t->x.rekey ? "new keys" : "tunnel up", t->spi_in, t->spi_out,
		 IP4_ARG(t->ep_addr), t->ep_port, t->x.initiator ? " (we initiated)" : "");
}

/* We send KE1. rekey: from a new inbound SPI of ours to the peer's current one, so both SAs
 * coexist until the new one carries traffic; else on the current SA's pair if there is one
 * (the peer knows it), or on the mediator's. */
static void
x_begin(struct tunnel *t, bool rekey)
{
	struct msg m;
	uint32_t in = t->spi_in ? t->spi_in : t->med_in, out = t->spi_in ? t->spi_out : t->med_out;

	x_clear(t);
	if (rekey && (t->spi_in == 0 || (in = new_spi(t->ts)) == 0)) {
		x_fail(t, "cannot choose an SPI for the rekey");
		return;
	}
	if (t->key == NULL || in == 0) {
		x_fail(t, t->key == NULL ? "the peer's public key is not known yet"
					 : "no SPIs from the mediator yet");
		return;
	}
	if (ke_initiate(&t->x.ke, &m) != 0 || encode(out, in, &m, t->x.pkt, &t->x.pkt_len) != 0) {
		x_fail(t, "cannot start a key exchange (crypto)");
		return;
	}
	t->x.active = t->x.initiator = true;
	t->x.rekey = rekey;
	t->x.spi_in = in;
	t->x.spi_out = rekey ? 0 : out; /* a rekey learns the peer's new SPI from KE2 */
	t->x.started = t->x.last_sent = now_ms(t);
	t->x.rto = RTO_MIN_MS;
	if (t->state != TUN_UP)
		t->state = TUN_PUNCH;
	if (t->ep_addr != 0)
		cand_add(t, t->ep_addr, t->ep_port);
	bind_spis(t);
	if (!rekey)
		probe_check(t, 0, 0);
	send_all(t, t->x.pkt, t->x.pkt_len);
	arm(t, t->x.rto);
}

static void
x_start(struct tunnel *t)
{
	x_begin(t, false);
}

/* A TUNNEL (or a retry): punch, and start the exchange if it is ours to start. */
static void
punch(struct tunnel *t)
{
	t->punch_started = now_ms(t);
	if (t->med_in < t->med_out || t->spi_in != 0) {
		x_start(t);
		return;
	}
	/* the peer initiates; our probes open our NAT for its KE1 */
	x_clear(t);
	if (t->state != TUN_UP)
		t->state = TUN_PUNCH;
	probe_check(t, 0, 0);
	t->x.rto = RTO_MIN_MS;
	arm(t, t->x.rto);
}

static void
on_timer(void *arg)
{
	struct tunnel *t = arg;
	uint64_t now = now_ms(t), hs = t->ts->p.cfg->handshake_ms;
	uint64_t since = t->x.active ? t->x.started : t->punch_started;

	if (t->state == TUN_FAILED || (!t->x.active && t->state == TUN_UP)) {
		if (t->state == TUN_FAILED || t->dead)
			punch(t);
		return;
	}
	if (now - since >= hs) {
		x_fail(t, t->x.active ? "the peer did not complete the key exchange"
				      : "no key exchange from the peer (NAT or offline?)");
		return;
	}
	if (t->x.active && t->x.initiator && t->x.ke.state == KE_SENT_KE1) {
		send_all(t, t->x.pkt, t->x.pkt_len);
		if (t->rb.have && (t->ts->rt != NULL || now - t->punch_started >= RELAY_AFTER_MS))
			send_to(t, t->rb.via_addr, t->rb.via_port, t->x.pkt, t->x.pkt_len);
		t->x.last_sent = now;
	} else if (t->x.active && t->x.initiator && t->x.ke.state == KE_DONE) {
		send_to(t, t->x.ep_addr, t->x.ep_port, t->x.pkt, t->x.pkt_len);
	}
	if (!(t->x.active && t->x.ke.state == KE_DONE))
		probe_check(t, 0, 0); /* keep our NAT open towards every candidate */
	t->x.rto = t->x.rto ? MIN(t->x.rto * 2, (unsigned)RTO_MAX_MS) : RTO_MIN_MS;
	/* the first KE1 to the relay goes when punching has had its time, not a doubling later */
	if (t->rb.have && now - t->punch_started < RELAY_AFTER_MS)
		arm(t, MIN(t->x.rto, RELAY_AFTER_MS - (now - t->punch_started)));
	else
		arm(t, t->x.rto);
}

/* --- the relay: binding, and moving between the relay and a direct path --- */

static bool
relayed(const struct tunnel *t)
{
	return t->state == TUN_UP && relaybind_is_relay(&t->rb, t->ep_addr, t->ep_port);
}

/* Our inbound SPIs at the relay: the current SA's, an exchange's, the replaced one still
 * decrypting, or the mediator's before any SA. */
static void
bind_spis(struct tunnel *t)
{
	uint32_t spi[] = {t->spi_in, t->x.active ? t->x.spi_in : 0, t->old_spi,
			  t->spi_in == 0 ? t->med_in : 0};

	if (t->rb.have)
		relaybind_spis(&t->rb, spi, ARRAY_SIZE(spi), now_ms(t));
}

static void
move_to(struct tunnel *t, uint32_t addr, uint16_t port, const char *why)
{
	if (t->ts->dp == NULL || dplink_sa_endpoint(t->ts->dp, t->spi_in, addr, port) != 0)
		return;
	log_info("peer " IP4_FMT ": %s, now via " IP4_FMT ":%u", IP4_ARG(t->peer), why,
		 IP4_ARG(addr), port);
	t->ep_addr = addr;
	t->ep_port = port;
}

/* Probes with the path-check nonce on the current pair: to the relay, or to every direct
 * candidate (relay false). */
static void
path_probe(struct tunnel *t, bool relay)
{
	if (t->spi_in == 0)
		return;
	if (relay)
		probe(t, t->spi_out, t->spi_in, true, t->pc_nonce, t->rb.via_addr, t->rb.via_port);
	else
		probe(t, t->spi_out, t->spi_in, true, t->pc_nonce, 0, 0);
}

/* An answer to a path probe from addr:port. A relayed tunnel moves to the first direct
 * candidate that answers (the peer's data plane follows our first packet from there); a
 * direct one under check notes which path answered. */
static void
path_answer(struct tunnel *t, uint32_t addr, uint16_t port)
{
	bool from_relay = relaybind_is_relay(&t->rb, addr, port);

	if (!from_relay)
		direct_answer(t, addr, port);
	if (t->pc_at != 0) {
		t->pc_direct |= !from_relay;
		t->pc_relay |= from_relay;
		return;
	}
	if (relayed(t) && !from_relay)
		move_to(t, addr, port, "direct path open");
}

/* Once per tick for an UP tunnel with a grant: upgrade probes while relayed; a check of a
 * direct path that went quiet while we send, and the move to the relay if only it answers. */
static void
relay_tick(struct tunnel *t, uint64_t now)
{
	if (t->state != TUN_UP || t->spi_in == 0 || !t->rb.have)
		return;
	if (relayed(t)) { /* the direct candidates need no binding at the relay */
		if (now >= t->next_upgrade &&
		    crypto_random(t->pc_nonce, sizeof(t->pc_nonce)) == 0) {
			t->next_upgrade = now + UPGRADE_EVERY_MS;
			path_probe(t, false);
		}
		return;
	}
	if (!t->rb.bound)
		return; /* a direct path is left only for a relay that takes us */
	if (t->pc_at != 0) {
		if (now - t->pc_at < PATH_WAIT_MS)
			return;
		if (!t->pc_direct && t->pc_relay)
			move_to(t, t->rb.via_addr, t->rb.via_port, "direct path silent");
		t->pc_at = 0;
		t->next_upgrade = now + UPGRADE_EVERY_MS;
		return;
	}
	if (t->quiet_s >= PATH_QUIET_S && t->idle_out_s < t->quiet_s &&
	    crypto_random(t->pc_nonce, sizeof(t->pc_nonce)) == 0) {
		t->pc_at = now;
		t->pc_direct = t->pc_relay = false;
		probe(t, t->spi_out, t->spi_in, true, t->pc_nonce, t->ep_addr, t->ep_port);
		path_probe(t, true);
	}
}

static void
relay_send_bind(struct tunnel *t, uint64_t now)
{
	uint8_t out[RELAY_MSG_MAX];
	struct timespec ts;
	size_t len;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (relaybind_due(&t->rb, t->ts->p.c, now,
			  (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000, out,
			  sizeof(out), &len) == 1)
		send_to(t, t->rb.via_addr, t->rb.via_port, out, len);
}

/* Over TCP, the relay is reached through the local proxy (relaytcp.h). */
static void
relay_over_tcp(struct tunnel *t)
{
	uint32_t addr;
	uint16_t port;

	if (t->ts->rt == NULL || !t->rb.have || t->rb.g.tcp_port == 0 ||
	    !relaytcp_proxy(t->ts->rt, &addr, &port))
		return;
	relaytcp_use(t->ts->rt, t->rb.g.addr, t->rb.g.tcp_port);
	relaybind_via(&t->rb, addr, port, now_ms(t));
}

void
tunnels_on_relay(struct tunnels *ts, const struct msg_relay *g, uint32_t self)
{
	struct tunnel *t = by_peer(ts, g->peer);

	if (t == NULL)
		return;
	relaybind_grant(&t->rb, g, self, now_ms(t));
	relay_over_tcp(t);
	bind_spis(t);
	relay_send_bind(t, now_ms(t));
}

void
tunnels_relay_tcp(struct tunnels *ts, struct relaytcp *rt)
{
	ts->rt = rt;
	for (unsigned i = 0; i < ts->n; i++)
		relay_over_tcp(ts->t[i]);
}

void
tunnels_on_relay_msg(struct tunnels *ts, const uint8_t *p, size_t len, uint32_t addr, uint16_t port)
{
	struct msg m;

	if (relay_msg_open(MSG_CH_RELAY_R2C, p, len, &m) != 0 || m.type != MSG_RELAY_BOUND)
		return;
	for (unsigned i = 0; i < ts->n; i++) {
		struct tunnel *t = ts->t[i];
		bool was = t->rb.bound;

		if (!relaybind_on_bound(&t->rb, ts->p.c, &m.u.relay_bound, p, len, addr, port,
					now_ms(t)))
			continue;
		if (t->rb.bound != was || t->rb.status != 0)
			log_info("peer " IP4_FMT ": relay " IP4_FMT ":%u %s%s", IP4_ARG(t->peer),
				 IP4_ARG(addr), port,
				 t->rb.bound ? "bound" : err_str(-(int)t->rb.status),
				 t->rb.peer_bound ? " (the peer too)" : "");
		return;
	}
}

/* --- control packets --- */

static void
on_probe(struct tunnel *t, const struct tunnel_ctl *c, uint32_t addr, uint16_t port)
{
	const struct msg_probe *p = &c->msg.u.probe;
	uint64_t now = now_ms(t), sec = now / 1000;

	if (p->reply) {
		if (sec != t->replies_sec) {
			t->replies_sec = sec;
			t->replies = 0;
		}
		if (t->replies++ < PROBE_REPLIES_PER_S)
			probe(t, c->src_spi, c->dst_spi, false, p->nonce, addr, port);
	} else if (crypto_ct_equal(p->nonce, t->pc_nonce, sizeof(t->pc_nonce))) {
		path_answer(t, addr, port);
	} else if (t->probe_sent != 0 &&
		   crypto_ct_equal(p->nonce, t->probe_nonce, sizeof(t->probe_nonce))) {
		t->rtt_ms = (int)(now - t->probe_sent);
		t->probe_sent = 0;
		t->lost = false;
		t->lost_probes = 0;
		if (!relaybind_is_relay(&t->rb, addr, port))
			direct_answer(t, addr, port);
	}
	/* the peer can reach us from there: our KE1 can go there at once */
	if (t->x.active && t->x.initiator && t->x.ke.state == KE_SENT_KE1) {
		cand_add(t, addr, port);
		send_to(t, addr, port, t->x.pkt, t->x.pkt_len);
	}
}

static void
on_ke1(struct tunnel *t, const struct tunnel_ctl *c, uint32_t addr, uint16_t port)
{
	uint8_t pkt[WIRE_TUNNEL_CTL_MAX], nr[16];
	bool rekey = c->dst_spi == t->spi_in && c->src_spi != t->spi_out;
	uint32_t in = c->dst_spi;
	struct msg out;
	size_t len;

	if (t->key == NULL) {
		t->last_error = "KE1 before the peer's public key is known";
		return;
	}
	if (t->x.active && t->x.initiator) {
		if (ours_wins(t))
			return; /* both started: ours goes on, the peer answers it */
		x_fail(t, "the peer's key exchange won over ours");
	}
	if (rekey) { /* the same proposal again keeps the SPI we chose for it */
		bool again =
			t->x.active && !t->x.initiator && t->x.rekey && t->x.spi_out == c->src_spi;

		in = again ? t->x.spi_in : new_spi(t->ts);
		if (in == 0)
			return;
	}
	memcpy(nr, t->x.ke.nr, sizeof(nr));
	if (ke_on_ke1(&t->x.ke, t->ts->p.self, &c->msg, &out) != 0) {
		t->last_error = "bad KE1";
		return;
	}
	if (encode(c->src_spi, in, &out, pkt, &len) == 0)
		send_to(t, addr, port, pkt, len);
	if (t->x.ke.state == KE_DONE)
		return; /* a late repeat of the exchange that made the current SA */
	if (!t->x.active || t->x.initiator || memcmp(nr, t->x.ke.nr, sizeof(nr)) != 0) {
		t->x.started = now_ms(t); /* a new exchange, not a repeat */
		t->x.rto = RTO_MIN_MS;
		arm(t, t->x.rto);
	}
	t->x.active = true;
	t->x.initiator = false;
	t->x.rekey = rekey;
	t->x.spi_in = in;
	t->x.spi_out = c->src_spi;
	if (t->state != TUN_UP)
		t->state = TUN_PUNCH;
	cand_add(t, addr, port);
	bind_spis(t);
}

static void
on_ke2(struct tunnel *t, const struct tunnel_ctl *c, uint32_t addr, uint16_t port)
{
	bool first = t->x.ke.state == KE_SENT_KE1;
	struct msg out;
	int r;

	if (!t->x.active || !t->x.initiator || c->dst_spi != t->x.spi_in ||
	    (c->src_spi != t->x.spi_out && !(t->x.rekey && t->x.spi_out == 0)))
		return;
	if (t->x.rekey && !(c->src_spi & WIRE_SPI_NODE))
		return; /* a rekey's SPIs are node-chosen */
	r = ke_on_ke2(&t->x.ke, t->ts->p.c, t->ts->p.self, t->key, &c->msg, &out);
	if (r != 0) {
		log_ratelimited(LOG_LVL_WARN, "peer " IP4_FMT ": KE2 refused: %s", IP4_ARG(t->peer),
				err_str(r));
		t->last_error = r == E_SIGNATURE ? "KE2 signature does not match the peer's key"
						 : "bad KE2";
		return;
	}
	if (encode(c->src_spi, c->dst_spi, &out, t->x.pkt, &t->x.pkt_len) != 0)
		return;
	if (first) {
		t->x.spi_out = c->src_spi;
		t->rtt_ms = (int)(now_ms(t) - t->x.last_sent);
		t->x.ep_addr = addr;
		t->x.ep_port = port;
		push_sa(t, true); /* receives the responder's dummy; activated when it comes */
		t->x.rto = RTO_MIN_MS;
		arm(t, t->x.rto);
	}
	send_to(t, addr, port, t->x.pkt, t->x.pkt_len);
}

static void
on_ke3(struct tunnel *t, const struct tunnel_ctl *c, uint32_t addr, uint16_t port)
{
	int r;

	if (t->x.initiator || c->dst_spi != t->x.spi_in || c->src_spi != t->x.spi_out ||
	    t->x.ke.state < KE_SENT_KE2)
		return;
	r = ke_on_ke3(&t->x.ke, t->ts->p.c, t->key, &c->msg);
	if (r == 1) { /* a repeat: the initiator did not get our dummy */
		if (t->ts->dp != NULL)
			(void)dplink_sa_probe(t->ts->dp, t->x.spi_in);
		return;
	}
	if (r != 0) {
		t->last_error = r == E_SIGNATURE ? "KE3 signature does not match the peer's key"
						 : "bad KE3";
		return;
	}
	t->x.ep_addr = addr;
	t->x.ep_port = port;
	push_sa(t, false);
	if (t->ts->dp != NULL)
		(void)dplink_sa_probe(t->ts->dp, t->x.spi_in); /* the dummy: MsgID 1 */
	if (t->x.sa_pushed)
		x_complete(t);
	else
		x_fail(t, "the data plane is not there");
}

void
tunnels_on_ctl(struct tunnels *ts, const struct tunnel_ctl *c, uint32_t addr, uint16_t port)
{
	struct tunnel *t = by_pair(ts, c->dst_spi, c->src_spi);

	ts->st.ctl_in++;
	if (t == NULL) {
		ts->st.ctl_dropped++;
		return;
	}
	switch (c->msg.type) {
	case MSG_PROBE:
		on_probe(t, c, addr, port);
		break;
	case MSG_KE1:
		on_ke1(t, c, addr, port);
		break;
	case MSG_KE2:
		on_ke2(t, c, addr, port);
		break;
	case MSG_KE3:
		on_ke3(t, c, addr, port);
		break;
	default:
		ts->st.ctl_dropped++;
	}
}

/* --- mediator pushes --- */

static void
set_key(struct tunnel *t, const struct span *der)
{
	const struct ctl_cfg *cfg = t->ts->p.cfg;

	if (t->key_pinned)
		return;
	for (unsigned i = 0; i < cfg->n_pinned; i++)
		if (cfg->pinned[i].identity == t->peer) {
			pubkey_free(t->key);
			if (keyfile_load(cfg->pinned[i].key, false, &t->key) != 0)
				t->key = NULL;
			t->key_pinned = t->key != NULL;
			if (t->key == NULL)
				log_err("peer " IP4_FMT ": pinned key %s cannot be read",
					IP4_ARG(t->peer), cfg->pinned[i].key);
			return;
		}
	if (der->len > 0) {
		struct pubkey *k = pubkey_from_der(der->p, der->len);

		if (k != NULL) {
			pubkey_free(t->key);
			t->key = k;
		}
	}
}

void
tunnels_on_tunnel(struct tunnels *ts, const struct msg_tunnel *m)
{
	struct tunnel *t = by_peer(ts, m->peer);
	bool fresh = t == NULL;

	if (t == NULL && (t = tunnel_new(ts, m->peer)) == NULL) {
		log_ratelimited(LOG_LVL_ERR, "too many tunnels (%d): ignoring one", TUN_MAX);
		return;
	}
	set_key(t, &m->pubkey);
	t->med_in = m->my_spi;
	t->med_out = m->peer_spi;
	t->peer_nat = m->peer_nat;
	t->lost = false;
	for (uint8_t i = 0; i < m->n; i++)
		cand_add(t, m->cand[i].addr, m->cand[i].port);
	/* a working SA survives the mediator: same peer, whatever SPIs it says now */
	if (!fresh && (t->state == TUN_UP || t->x.active))
		return;
	punch(t);
}

void
tunnels_on_down(struct tunnels *ts, uint32_t peer)
{
	struct tunnel *t = by_peer(ts, peer);

	if (t == NULL)
		return;
	log_info("peer " IP4_FMT ": tunnel down (mediator)", IP4_ARG(peer));
	dp_del(t->ts, t->spi_in);
	dp_del(t->ts, t->old_spi);
	if (t->x.sa_pushed && t->x.spi_in != t->spi_in)
		dp_del(t->ts, t->x.spi_in);
	tunnel_free(t);
}

void
tunnels_on_lost(struct tunnels *ts, uint32_t peer)
{
	struct tunnel *t = by_peer(ts, peer);

	if (t == NULL || t->state != TUN_UP)
		return;
	t->lost = true;
	t->lost_probes = LOST_PROBES;
	t->next_lost_probe = 0; /* at the next tick */
}

/* --- the data plane --- */

static void
dp_attached(void *arg, bool new_dp)
{
	struct tunnels *ts = arg;

	for (unsigned i = 0; i < ts->n; i++)
		ts->t[i]->seen_in_dump = false;
	(void)new_dp; /* the adoption dump tells which SAs exist */
}

static void
adopt(struct tunnels *ts, const struct dpif_sa_entry *e)
{
	struct tunnel *t = by_peer(ts, e->sa.peer_addr);

	if (t != NULL && t->spi_in == e->sa.spi_in) {
		t->seen_in_dump = true;
		return;
	}
	if (t != NULL && t->x.active && t->x.spi_in == e->sa.spi_in)
		return; /* an exchange of ours in progress */
	if ((e->sa.flags & DPIF_SA_STANDBY) || (t != NULL && t->spi_in != 0)) {
		/* an unfinished exchange or a second SA of one peer: no keys here to finish it */
		dp_del(ts, e->sa.spi_in);
		return;
	}
	if (t == NULL && (t = tunnel_new(ts, e->sa.peer_addr)) == NULL)
		return;
	t->spi_in = e->sa.spi_in;
	t->spi_out = e->sa.spi_out;
	t->ep_addr = e->sa.ep_addr;
	t->ep_port = e->sa.ep_port;
	cand_add(t, t->ep_addr, t->ep_port);
	t->state = TUN_UP;
	t->adopted = t->seen_in_dump = true;
	loop_timer_cancel(ts->p.l, &t->timer);
	log_info("peer " IP4_FMT ": adopted the data plane's SA %08x", IP4_ARG(t->peer), t->spi_in);
}

/* Keepalive and liveness from one dump entry of the tunnel's current SA. */
static void
watch(struct tunnel *t, const struct dpif_sa_entry *e)
{
	const struct ctl_cfg *cfg = t->ts->p.cfg;
	uint64_t now = now_ms(t);

	t->pkts_in = e->pkts_in;
	t->bytes_in = e->bytes_in;
	t->pkts_out = e->pkts_out;
	t->bytes_out = e->bytes_out;
	t->quiet_s = e->quiet_s;
	t->idle_out_s = e->idle_out_s;
	t->ep_addr = e->sa.ep_addr;
	t->ep_port = e->sa.ep_port;
	if (t->state != TUN_UP)
		return;
	if (e->idle_out_s >= cfg->keepalive_s &&
	    now - t->last_keepalive >= cfg->keepalive_s * 500u && t->ts->dp != NULL &&
	    dplink_sa_probe(t->ts->dp, t->spi_in) == 0) {
		t->last_keepalive = now;
		t->ts->st.keepalives++;
	}
	if (e->quiet_s < cfg->keepalive_s * cfg->dead_after) {
		if (t->dead)
			log_info("peer " IP4_FMT ": alive again", IP4_ARG(t->peer));
		t->dead = false;
		if (e->quiet_s < LOST_PROBE_MS / 1000)
			t->lost = false;
		return;
	}
	if (t->dead)
		return;
	t->dead = true;
	t->ts->st.deaths++;
	log_warn("peer " IP4_FMT ": nothing authentic for %u s: dead; setting the tunnel up again",
		 IP4_ARG(t->peer), e->quiet_s);
	if (!t->x.active)
		punch(t);
}

static void
dp_entry(void *arg, const struct dpif_sa_entry *e, bool adopting)
{
	struct tunnels *ts = arg;
	struct tunnel *t;

	if (adopting) {
		adopt(ts, e);
		return;
	}
	if ((t = by_spi(ts, e->sa.spi_in)) != NULL) {
		watch(t, e);
		return;
	}
	for (unsigned i = 0; i < ts->n; i++) {
		t = ts->t[i];
		if (t->x.active && t->x.initiator && t->x.sa_pushed &&
		    t->x.spi_in == e->sa.spi_in) {
			if (e->pkts_in > 0) { /* the dummy came, its event did not (yet) */
				(void)dplink_sa_activate(ts->dp, e->sa.spi_in);
				x_complete(t);
			}
			return;
		}
		if (t->old_spi == e->sa.spi_in || (t->x.active && t->x.spi_in == e->sa.spi_in))
			return;
	}
	dp_del(ts, e->sa.spi_in); /* no tunnel claims it (it went down while we were detached) */
}

static void
dp_dump_done(void *arg, bool adopting)
{
	struct tunnels *ts = arg;

	if (!adopting)
		return;
	/* SAs we had that the data plane does not: it restarted; set them up again */
	for (unsigned i = 0; i < ts->n; i++) {
		struct tunnel *t = ts->t[i];

		if (t->state == TUN_UP && !t->seen_in_dump) {
			log_info("peer " IP4_FMT ": the data plane lost its SA; new key exchange",
				 IP4_ARG(t->peer));
			t->state = TUN_PUNCH;
			x_start(t);
		}
	}
}

static void
dp_event(void *arg, uint16_t op, const struct dpif_event *ev)
{
	struct tunnels *ts = arg;
	struct tunnel *t;

	for (unsigned i = 0; i < ts->n; i++) {
		t = ts->t[i];
		if (op == DPIF_EV_FIRST && t->x.active && t->x.initiator && t->x.sa_pushed &&
		    t->x.spi_in == ev->spi_in) {
			(void)dplink_sa_activate(ts->dp, ev->spi_in);
			x_complete(t);
			return;
		}
	}
	if ((t = by_spi(ts, ev->spi_in)) == NULL)
		return;
	if (op == DPIF_EV_ENDPOINT && (ev->ep_addr != t->ep_addr || ev->ep_port != t->ep_port)) {
		log_info("peer " IP4_FMT ": endpoint moved to " IP4_FMT ":%u", IP4_ARG(t->peer),
			 IP4_ARG(ev->ep_addr), ev->ep_port);
		t->ep_addr = ev->ep_addr;
		t->ep_port = ev->ep_port;
		cand_add(t, t->ep_addr, t->ep_port);
	} else if (op == DPIF_EV_EXHAUST && !t->x.active) {
		log_info("peer " IP4_FMT ": message IDs running out: new keys", IP4_ARG(t->peer));
		x_begin(t, true);
	}
}

static void
dp_failed(void *arg, uint16_t op, uint32_t spi, int status)
{
	(void)arg;
	log_ratelimited(LOG_LVL_WARN, "data plane refused operation %u on SA %08x: %s", op, spi,
			err_str(status));
}

static void
dp_detached(void *arg)
{
	struct tunnels *ts = arg;

	for (unsigned i = 0; i < ts->n; i++)
		ts->t[i]->seen_in_dump = false;
}

const struct dplink_ops tunnels_dplink_ops = {
	.attached = dp_attached,
	.entry = dp_entry,
	.dump_done = dp_dump_done,
	.event = dp_event,
	.failed = dp_failed,
	.detached = dp_detached,
};

/* --- the tick: old SAs, checks after PEER LOST, SA age --- */

static void
tick_one(struct tunnel *t, uint64_t now)
{
	if (t->old_spi != 0 && now >= t->old_del_at) {
		dp_del(t->ts, t->old_spi);
		t->old_spi = 0;
		bind_spis(t);
	}
	relay_send_bind(t, now);
	relay_tick(t, now);
	if (t->lost && t->lost_probes > 0 && now >= t->next_lost_probe) {
		t->lost_probes--;
		t->next_lost_probe = now + LOST_PROBE_MS;
		probe_check(t, t->ep_addr, t->ep_port);
	} else if (t->lost && t->lost_probes == 0 &&
		   t->quiet_s * 1000u >= LOST_PROBES * LOST_PROBE_MS && !t->x.active && !t->dead) {
		t->lost = false; /* no answer, nothing authentic: treat it as dead now */
		t->dead = true;
		t->ts->st.deaths++;
		punch(t);
	}
	if (t->state == TUN_UP && !t->x.active && t->ts->p.cfg->rekey_after_s != 0 &&
	    t->last_handshake != 0 &&
	    (uint64_t)time(NULL) - t->last_handshake >= t->ts->p.cfg->rekey_after_s &&
	    t->spi_in < t->spi_out && now >= t->rekey_not_before)
		x_begin(t, true); /* fresh keys; the side with the lower SPI asks */
}

static void
on_tick(void *arg)
{
	struct tunnels *ts = arg;
	uint64_t now = loop_now(ts->p.l);

	for (unsigned i = 0; i < ts->n; i++)
		tick_one(ts->t[i], now);
	loop_timer_in(ts->p.l, &ts->tick, TICK_MS);
}

/* --- the rest --- */

struct tunnels *
tunnels_new(const struct tunnels_params *p)
{
	struct tunnels *ts = calloc(1, sizeof(*ts));

	if (ts == NULL)
		return NULL;
	ts->p = *p;
	loop_timer_init(&ts->tick, on_tick, ts);
	loop_timer_in(p->l, &ts->tick, TICK_MS);
	return ts;
}

void
tunnels_free(struct tunnels *ts)
{
	if (ts == NULL)
		return;
	while (ts->n > 0)
		tunnel_free(ts->t[ts->n - 1]);
	loop_timer_cancel(ts->p.l, &ts->tick);
	free(ts);
}

void
tunnels_set_dplink(struct tunnels *ts, struct dplink *d)
{
	ts->dp = d;
}

static void
info(const struct tunnel *t, struct tunnel_info *o)
{
	*o = (struct tunnel_info){
		.peer = t->peer,
		.state = t->state,
		.dead = t->dead,
		.adopted = t->adopted,
		.spi_in = t->spi_in,
		.spi_out = t->spi_out,
		.ep_addr = t->ep_addr,
		.ep_port = t->ep_port,
		.rtt_ms = t->rtt_ms,
		.last_handshake = t->last_handshake,
		.pkts_in = t->pkts_in,
		.bytes_in = t->bytes_in,
		.pkts_out = t->pkts_out,
		.bytes_out = t->bytes_out,
		.quiet_s = t->quiet_s,
		.exchanges = t->exchanges,
		.failures = t->failures,
		.last_error = t->last_error,
		.relayed = relayed(t),
		.relay_granted = t->rb.have,
		.relay_bound = t->rb.bound,
		.relay_status = t->rb.status,
		.direct_answers = t->direct_answers,
		.ncand = t->ncand,
		.peer_nat = t->peer_nat,
	};
	for (unsigned i = 0; i < t->ncand; i++)
		o->cand[i] =
			(struct tunnel_cand){t->cand[i].addr, t->cand[i].port, t->cand[i].answered};
}

void
tunnels_each(struct tunnels *ts, void (*fn)(void *arg, const struct tunnel_info *ti), void *arg)
{
	struct tunnel_info ti;

	for (unsigned i = 0; i < ts->n; i++) {
		info(ts->t[i], &ti);
		fn(arg, &ti);
	}
}

bool
tunnels_get(struct tunnels *ts, uint32_t peer, struct tunnel_info *out)
{
	struct tunnel *t = by_peer(ts, peer);

	if (t != NULL)
		info(t, out);
	return t != NULL;
}

void
tunnels_stats(const struct tunnels *ts, struct tunnels_stats *out)
{
	*out = ts->st;
}
