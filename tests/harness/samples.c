/* SPDX-License-Identifier: MIT */
#include "samples.h"

#include <string.h>

#include "common/err.h"

const uint16_t sample_types[] = {
#define SAMPLE_TYPE(name, code, str) name,
	MSG_LIST(SAMPLE_TYPE)
#undef SAMPLE_TYPE
};
const size_t sample_types_n = sizeof(sample_types) / sizeof(sample_types[0]);

static uint8_t pool[4096]; /* bytes that spans of sample messages point into */

/* n candidates of rotating kinds, every field non-zero. */
static void
cands(struct msg_cand *c, uint8_t n)
{
	for (uint8_t i = 0; i < n; i++)
		c[i] = (struct msg_cand){0xc0a80001 + i, (uint16_t)(40000 + i), 1 + i % 3};
}

static struct span
fill(size_t n)
{
	return (struct span){pool, n};
}

/* Requests of the mediator's application (0x02xx). */
static bool
sample_request(uint16_t type, bool big, struct msg *m)
{
	struct span name = fill(big ? MSG_NAME_MAX : 0);
	struct span text = fill(big ? WIRE_TEXT_MAX : 0);

	switch (type) {
	case MSG_NICK:
		m->u.nick = (struct msg_nick){11, fill(big ? WIRE_NICK_MAX : 0)};
		break;
	case MSG_NET_CREATE:
	case MSG_NET_JOIN:
	case MSG_NET_PASS:
		m->u.net_req = (struct msg_net_req){12, name, fill(big ? MSG_PASS_MAX : 0)};
		break;
	case MSG_NET_LEAVE:
	case MSG_NET_DELETE:
		m->u.net_req = (struct msg_net_req){13, name, {NULL, 0}};
		break;
	case MSG_NET_FLAG:
		m->u.net_flag = (struct msg_net_flag){14, name, NETFLAG_APPROVAL, 1};
		break;
	case MSG_NET_MEMBER:
		m->u.net_member = (struct msg_net_member){15, name, 0x64400002, MEMBER_BAN};
		break;
	case MSG_NET_TEXT:
		m->u.net_text = (struct msg_net_text){16, name, NETTEXT_ANNOUNCE, text};
		break;
	case MSG_IM:
		m->u.im = (struct msg_im){17, 0x64400003, text};
		break;
	case MSG_INBOX_ACK:
		m->u.inbox_ack = (struct msg_inbox_ack){18, big ? UINT64_MAX : 0};
		break;
	case MSG_ENDPOINTS:
		m->u.endpoints.tag = 19;
		m->u.endpoints.nat = NAT_EIM;
		m->u.endpoints.n = big ? MSG_CAND_MAX : 0;
		cands(m->u.endpoints.cand, m->u.endpoints.n);
		break;
	case MSG_SYNC:
	case MSG_LOGOUT:
		m->u.ping.tag = 20;
		break;
	default:
		return false;
	}
	return true;
}

static void
sample_session(bool big, struct msg_session *s)
{
	s->identity = 0x64400001;
	s->nick = fill(big ? WIRE_NICK_MAX : 0);
	s->addr = 0xcb007101;
	s->port = 51820;
	s->prefix = 0x64400000;
	s->prefix_len = 10;
	memset(s->disco_key, 0x77, MSG_DISCO_KEY_LEN);
	s->n_ports = big ? MSG_DISCO_PORTS_MAX : 0;
	for (uint8_t i = 0; i < s->n_ports; i++)
		s->disco_port[i] = (uint16_t)(3478 + i);
}

static void
sample_tunnel(bool big, struct msg_tunnel *t)
{
	t->peer = 0x64400002;
	t->my_spi = 0x1000;
	t->peer_spi = 0x2000;
	t->peer_nat = NAT_EDM;
	t->pubkey = fill(big ? WIRE_PUBKEY_MAX : 1);
	t->n = big ? MSG_CAND_MAX + 1 : 0;
	cands(t->cand, t->n);
}

/* Notifications of the mediator's application (0x03xx). */
static bool
sample_push(uint16_t type, bool big, struct msg *m)
{
	struct span name = fill(big ? MSG_NAME_MAX : 0);
	struct span nick = fill(big ? WIRE_NICK_MAX : 0);

	switch (type) {
	case MSG_SESSION:
		sample_session(big, &m->u.session);
		break;
	case MSG_NET:
		m->u.net = (struct msg_net){name, ROLE_ADMIN, 0x5, 42};
		break;
	case MSG_NET_GONE:
		m->u.net_gone = (struct msg_net_gone){name, GONE_EVICTED};
		break;
	case MSG_MEMBER:
		m->u.member = (struct msg_member){
			name, 0x64400004, nick, ROLE_MEMBER, 1, fill(big ? WIRE_PUBKEY_MAX : 1)};
		break;
	case MSG_MEMBER_GONE:
		m->u.member_gone = (struct msg_member_gone){name, 0x64400005, GONE_BANNED};
		break;
	case MSG_SYNC_DONE:
		m->u.sync_done.networks = 3;
		break;
	case MSG_TUNNEL:
		sample_tunnel(big, &m->u.tunnel);
		break;
	case MSG_TUNNEL_DOWN:
		m->u.peer = (struct msg_peer){0x64400006, DOWN_PEER_OFFLINE};
		break;
	case MSG_PEER_LOST:
		m->u.peer.peer = 0x64400007;
		break;
	case MSG_TEXT:
		m->u.text = (struct msg_text){99,
					      TEXT_ANNOUNCE,
					      0x64400008,
					      1700000000,
					      name,
					      nick,
					      fill(big ? WIRE_TEXT_MAX : 0)};
		break;
	default:
		return false;
	}
	return true;
}

/* Discovery datagrams (0x04xx): fixed sizes, so big changes nothing. */
static bool
sample_disco(uint16_t type, struct msg *m)
{
	switch (type) {
	case MSG_DISCO_PROBE:
		m->u.disco_probe.identity = 0x64400001;
		memset(m->u.disco_probe.nonce, 0x88, MSG_DISCO_NONCE_LEN);
		memset(m->u.disco_probe.mac, 0x99, WIRE_MAC_LEN);
		break;
	case MSG_DISCO_REPLY:
		memset(m->u.disco_reply.nonce, 0x88, MSG_DISCO_NONCE_LEN);
		m->u.disco_reply.addr = 0xcb007101;
		m->u.disco_reply.port = 40001;
		m->u.disco_reply.server_port = 3478;
		memset(m->u.disco_reply.mac, 0xaa, WIRE_MAC_LEN);
		break;
	default:
		return false;
	}
	return true;
}

/* Relay grant and relay datagrams (0x030a, 0x05xx); big: the most SPIs in a BIND. */
static bool
sample_relay(uint16_t type, bool big, struct msg *m)
{
	switch (type) {
	case MSG_RELAY:
		m->u.relay = (struct msg_relay){.peer = 0x64400002,
						.expiry = 1800000000,
						.side = 1,
						.addr = 0xc6336402,
						.udp_port = 7790,
						.tcp_port = 7791};
		memset(m->u.relay.session, 0x5e, MSG_RELAY_SESSION_LEN);
		memset(m->u.relay.token, 0x70, MSG_RELAY_TOKEN_LEN);
		break;
	case MSG_RELAY_BIND:
		m->u.relay_bind = (struct msg_relay_bind){.expiry = 1800000000,
							  .identity = 0x64400001,
							  .peer = 0x64400002,
							  .seq = 1765000000000,
							  .n = big ? MSG_RELAY_SPIS_MAX : 1};
		memset(m->u.relay_bind.session, 0x5e, MSG_RELAY_SESSION_LEN);
		for (unsigned i = 0; i < MSG_RELAY_SPIS_MAX; i++)
			m->u.relay_bind.spi[i] = 0x80000011 + i;
		memset(m->u.relay_bind.mac, 0x99, WIRE_MAC_LEN);
		break;
	case MSG_RELAY_BOUND:
		m->u.relay_bound = (struct msg_relay_bound){.side = 1,
							    .seq = 1765000000000,
							    .peer_bound = 1,
							    .addr = 0xcb007101,
							    .port = 7777};
		memset(m->u.relay_bound.session, 0x5e, MSG_RELAY_SESSION_LEN);
		memset(m->u.relay_bound.mac, 0xaa, WIRE_MAC_LEN);
		break;
	default:
		return false;
	}
	return true;
}

bool
sample_msg(uint16_t type, bool big, struct msg *m)
{
	size_t sig = big ? WIRE_SIG_MAX : WIRE_SIG_MIN;
	size_t text = big ? WIRE_TEXT_MAX : 0;

	memset(pool, 'x', sizeof(pool));
	memset(m, 0, sizeof(*m));
	m->type = type;
	switch (type) {
	case MSG_HELO:
		m->u.helo.suite = 1;
		memset(m->u.helo.kfp, 0x11, WIRE_KFP_LEN);
		memset(m->u.helo.ni, 0x22, WIRE_NONCE_LEN);
		memset(m->u.helo.gi, 0x5a, WIRE_DH_LEN);
		break;
	case MSG_HELO_OK:
		memset(m->u.helo_ok.nr, 0x33, WIRE_NONCE_LEN);
		memset(m->u.helo_ok.gr, 0x5b, WIRE_DH_LEN);
		break;
	case MSG_AUTH:
	case MSG_AUTH_OK:
		m->u.auth.identity = 0x64400001;
		m->u.auth.sig = (struct span){pool, sig};
		break;
	case MSG_REGISTER:
		m->u.reg.pubkey = (struct span){pool, big ? WIRE_PUBKEY_MAX : 1};
		m->u.reg.nick = (struct span){pool, big ? WIRE_NICK_MAX : 0};
		m->u.reg.token = (struct span){pool, big ? WIRE_TOKEN_MAX : 0};
		m->u.reg.sig = (struct span){pool, sig};
		break;
	case MSG_ERROR:
		m->u.error.status = err_to_wire(E_SERVERKEY);
		m->u.error.text = (struct span){pool, text};
		break;
	case MSG_RESULT:
		m->u.result.tag = 77;
		m->u.result.text = (struct span){pool, text};
		break;
	case MSG_PING:
	case MSG_PONG:
		m->u.ping.tag = 0xdeadbeef;
		break;
	case MSG_PROBE:
		memset(m->u.probe.nonce, 0x71, MSG_PROBE_NONCE_LEN);
		m->u.probe.reply = 1;
		break;
	case MSG_KE1:
	case MSG_KE2:
	case MSG_KE3:
		memset(m->u.ke.nonce, 0x44, WIRE_NONCE_LEN);
		memset(m->u.ke.dh, 0x66, WIRE_DH_LEN);
		if (type != MSG_KE1)
			m->u.ke.sig = (struct span){pool, sig};
		break;
	default:
		return sample_request(type, big, m) || sample_push(type, big, m) ||
		       sample_disco(type, m) || sample_relay(type, big, m);
	}
	return true;
}
