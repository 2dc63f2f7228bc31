/* SPDX-License-Identifier: MIT */
#include "common/msg.h"

#include <stdbool.h>
#include <string.h>

#include "common/dh.h"
#include "common/err.h"

typedef int (*msg_dec_fn)(struct buf_reader *r, struct msg *m);
typedef int (*msg_enc_fn)(struct buf_writer *w, const struct msg *m);

struct msg_desc {
	uint16_t type;
	unsigned int channels; /* MSG_CH_* bits where the type is valid */
	size_t min, max;       /* bounds of the whole body, type included */
	msg_dec_fn dec;
	msg_enc_fn enc;
};

/* Sizes of the pieces, for the bounds in the table. */
enum {
	T = 2,					 /* type */
	SIG_MIN = 2 + WIRE_SIG_MIN,		 /* length-prefixed signature */
	SIG_MAX = 2 + WIRE_SIG_MAX,		 /* */
	STR = 2,				 /* length prefix of a string or blob */
	KE_FIXED = WIRE_NONCE_LEN + WIRE_DH_LEN, /* nonce and DH value */

	/* the application messages' pieces */
	NAME_BIG = STR + MSG_NAME_MAX,	 /* largest field of each kind */
	PASS_BIG = STR + MSG_PASS_MAX,	 /* */
	NICK_BIG = STR + WIRE_NICK_MAX,	 /* */
	TEXT_BIG = STR + WIRE_TEXT_MAX,	 /* */
	KEY_MIN = STR + 1,		 /* length-prefixed public key */
	KEY_MAX = STR + WIRE_PUBKEY_MAX, /* */
	CAND = 4 + 2 + 1,		 /* address, port, kind */
	CANDS_MAX = MSG_CAND_MAX * CAND, /* a node's own candidates */

	/* fixed parts: SESSION all but nick text and ports; TUNNEL peer, SPIs, NAT, n;
	 * TEXT id, kind, from, time */
	SESSION_FIXED = 4 + STR + 4 + 2 + 4 + 1 + MSG_DISCO_KEY_LEN + 1,
	TUNNEL_FIXED = 4 + 4 + 4 + 1 + 1,
	TEXT_FIXED = 8 + 1 + 4 + 8,
	PROBE = T + 4 + MSG_DISCO_NONCE_LEN + MSG_DISCO_PAD_LEN + WIRE_MAC_LEN,
	REPLY = T + MSG_DISCO_NONCE_LEN + 4 + 2 + 2 + WIRE_MAC_LEN,
	RELAY = T + 4 + MSG_RELAY_SESSION_LEN + 4 + 1 + 4 + 2 + 2 + MSG_RELAY_TOKEN_LEN,
	BIND_FIXED = T + MSG_RELAY_SESSION_LEN + 4 + 1 + 4 + 4 + 8 + 1 + MSG_RELAY_PAD_LEN +
		     WIRE_MAC_LEN,
	BOUND = T + MSG_RELAY_SESSION_LEN + 1 + 8 + 2 + 1 + 4 + 2 + WIRE_MAC_LEN,
};

static int
dh_field(struct buf_reader *r, uint8_t out[WIRE_DH_LEN])
{
	if (buf_get_bytes(r, out, WIRE_DH_LEN) != 0)
		return r->err;
	if (dh_check_public(out) != 0)
		r->err = E_DHPUB;
	return r->err;
}

static int
sig_field(struct buf_reader *r, struct span *sig)
{
	return buf_get_blob16(r, sig, WIRE_SIG_MIN, WIRE_SIG_MAX);
}

static int
helo_dec(struct buf_reader *r, struct msg *m)
{
	struct msg_helo *h = &m->u.helo;

	if (buf_get_u8(r, &h->suite) == 0 && h->suite != WIRE_SUITE_1)
		r->err = E_SUITE;
	buf_get_bytes(r, h->kfp, sizeof(h->kfp));
	buf_get_bytes(r, h->ni, sizeof(h->ni));
	return dh_field(r, h->gi);
}

static int
helo_enc(struct buf_writer *w, const struct msg *m)
{
	const struct msg_helo *h = &m->u.helo;

	buf_put_u8(w, h->suite);
	buf_put_bytes(w, h->kfp, sizeof(h->kfp));
	buf_put_bytes(w, h->ni, sizeof(h->ni));
	return buf_put_bytes(w, h->gi, sizeof(h->gi));
}

static int
helo_ok_dec(struct buf_reader *r, struct msg *m)
{
	buf_get_bytes(r, m->u.helo_ok.nr, WIRE_NONCE_LEN);
	return dh_field(r, m->u.helo_ok.gr);
}

static int
helo_ok_enc(struct buf_writer *w, const struct msg *m)
{
	buf_put_bytes(w, m->u.helo_ok.nr, WIRE_NONCE_LEN);
	return buf_put_bytes(w, m->u.helo_ok.gr, WIRE_DH_LEN);
}

/* AUTH and AUTH OK share a layout. */
static int
auth_dec(struct buf_reader *r, struct msg *m)
{
	buf_get_u32(r, &m->u.auth.identity);
	return sig_field(r, &m->u.auth.sig);
}

static int
auth_enc(struct buf_writer *w, const struct msg *m)
{
	buf_put_u32(w, m->u.auth.identity);
	return buf_put_blob16(w, m->u.auth.sig.p, m->u.auth.sig.len);
}

static int
register_dec(struct buf_reader *r, struct msg *m)
{
	struct msg_register *g = &m->u.reg;

	buf_get_blob16(r, &g->pubkey, 1, WIRE_PUBKEY_MAX);
	buf_get_str16(r, &g->nick, WIRE_NICK_MAX);
	buf_get_str16(r, &g->token, WIRE_TOKEN_MAX);
	return sig_field(r, &g->sig);
}

static int
register_enc(struct buf_writer *w, const struct msg *m)
{
	const struct msg_register *g = &m->u.reg;

	buf_put_blob16(w, g->pubkey.p, g->pubkey.len);
	buf_put_blob16(w, g->nick.p, g->nick.len);
	buf_put_blob16(w, g->token.p, g->token.len);
	return buf_put_blob16(w, g->sig.p, g->sig.len);
}

static int
error_dec(struct buf_reader *r, struct msg *m)
{
	buf_get_u16(r, &m->u.error.status);
	return buf_get_str16(r, &m->u.error.text, WIRE_TEXT_MAX);
}

static int
error_enc(struct buf_writer *w, const struct msg *m)
{
	buf_put_u16(w, m->u.error.status);
	return buf_put_blob16(w, m->u.error.text.p, m->u.error.text.len);
}

static int
result_dec(struct buf_reader *r, struct msg *m)
{
	buf_get_u32(r, &m->u.result.tag);
	buf_get_u16(r, &m->u.result.status);
	return buf_get_str16(r, &m->u.result.text, WIRE_TEXT_MAX);
}

static int
result_enc(struct buf_writer *w, const struct msg *m)
{
	buf_put_u32(w, m->u.result.tag);
	buf_put_u16(w, m->u.result.status);
	return buf_put_blob16(w, m->u.result.text.p, m->u.result.text.len);
}

/* PING, PONG, and the tag-only requests SYNC and LOGOUT. */
static int
ping_dec(struct buf_reader *r, struct msg *m)
{
	return buf_get_u32(r, &m->u.ping.tag);
}

static int
ping_enc(struct buf_writer *w, const struct msg *m)
{
	return buf_put_u32(w, m->u.ping.tag);
}

static int
ke1_dec(struct buf_reader *r, struct msg *m)
{
	m->u.ke.sig.p = NULL;
	m->u.ke.sig.len = 0;
	buf_get_bytes(r, m->u.ke.nonce, WIRE_NONCE_LEN);
	return dh_field(r, m->u.ke.dh);
}

static int
ke1_enc(struct buf_writer *w, const struct msg *m)
{
	buf_put_bytes(w, m->u.ke.nonce, WIRE_NONCE_LEN);
	return buf_put_bytes(w, m->u.ke.dh, WIRE_DH_LEN);
}

/* KE2 and KE3: KE1's fields, then a signature. */
static int
ke_signed_dec(struct buf_reader *r, struct msg *m)
{
	buf_get_bytes(r, m->u.ke.nonce, WIRE_NONCE_LEN);
	dh_field(r, m->u.ke.dh);
	return sig_field(r, &m->u.ke.sig);
}

static int
ke_signed_enc(struct buf_writer *w, const struct msg *m)
{
	ke1_enc(w, m);
	return buf_put_blob16(w, m->u.ke.sig.p, m->u.ke.sig.len);
}

static int
probe_dec(struct buf_reader *r, struct msg *m)
{
	buf_get_bytes(r, m->u.probe.nonce, MSG_PROBE_NONCE_LEN);
	if (buf_get_u8(r, &m->u.probe.reply) == 0 && m->u.probe.reply > 1)
		r->err = E_RANGE;
	return r->err;
}

static int
probe_enc(struct buf_writer *w, const struct msg *m)
{
	buf_put_bytes(w, m->u.probe.nonce, MSG_PROBE_NONCE_LEN);
	if (m->u.probe.reply > 1 && w->err == 0)
		w->err = E_RANGE;
	return buf_put_u8(w, m->u.probe.reply);
}

/*
 * Mediator application messages (PROTOCOL.md section 9). Their range checks record E_RANGE
 * only while the reader is still clean, so the first bad field is the one reported.
 */
static int
check(struct buf_reader *r, bool ok)
{
	if (r->err == 0 && !ok)
		r->err = E_RANGE;
	return r->err;
}

static int
u8_in(struct buf_reader *r, uint8_t *v, uint8_t lo, uint8_t hi)
{
	buf_get_u8(r, v);
	return check(r, *v >= lo && *v <= hi);
}

/* An identity or SPI: 0 names nothing. */
static int
id_field(struct buf_reader *r, uint32_t *v)
{
	buf_get_u32(r, v);
	return check(r, *v != 0);
}

static int
name_field(struct buf_reader *r, struct span *s)
{
	return buf_get_str16(r, s, MSG_NAME_MAX);
}

static int
nick_field(struct buf_reader *r, struct span *s)
{
	return buf_get_str16(r, s, WIRE_NICK_MAX);
}

static int
text_field(struct buf_reader *r, struct span *s)
{
	return buf_get_str16(r, s, WIRE_TEXT_MAX);
}

static int
pubkey_field(struct buf_reader *r, struct span *s)
{
	return buf_get_blob16(r, s, 1, WIRE_PUBKEY_MAX);
}

/* n (u8, at most max) then n candidates. n is checked before any candidate is read, so a
 * large n never indexes past c[]. */
static int
cands_dec(struct buf_reader *r, struct msg_cand *c, uint8_t *n, uint8_t max)
{
	u8_in(r, n, 0, max);
	for (uint8_t i = 0; i < *n && r->err == 0; i++) {
		buf_get_u32(r, &c[i].addr);
		buf_get_u16(r, &c[i].port);
		check(r, c[i].port != 0);
		u8_in(r, &c[i].kind, CAND_LOCAL, CAND_REPORTED);
	}
	return r->err;
}

/* The encoder refuses n > max itself: the check by msg_decode() would come after c[] had
 * been read out of bounds. */
static int
cands_enc(struct buf_writer *w, const struct msg_cand *c, uint8_t n, uint8_t max)
{
	if (w->err == 0 && n > max)
		w->err = E_RANGE;
	buf_put_u8(w, n);
	for (uint8_t i = 0; i < n && w->err == 0; i++) {
		buf_put_u32(w, c[i].addr);
		buf_put_u16(w, c[i].port);
		buf_put_u8(w, c[i].kind);
	}
	return w->err;
}

static int
nick_dec(struct buf_reader *r, struct msg *m)
{
	buf_get_u32(r, &m->u.nick.tag);
	return nick_field(r, &m->u.nick.nick);
}

static int
nick_enc(struct buf_writer *w, const struct msg *m)
{
	buf_put_u32(w, m->u.nick.tag);
	return buf_put_blob16(w, m->u.nick.nick.p, m->u.nick.nick.len);
}

/* NET CREATE, NET JOIN, NET PASS. */
static int
net_pass_dec(struct buf_reader *r, struct msg *m)
{
	struct msg_net_req *q = &m->u.net_req;

	buf_get_u32(r, &q->tag);
	name_field(r, &q->name);
	return buf_get_str16(r, &q->pass, MSG_PASS_MAX);
}

static int
net_pass_enc(struct buf_writer *w, const struct msg *m)
{
	const struct msg_net_req *q = &m->u.net_req;

	buf_put_u32(w, q->tag);
	buf_put_blob16(w, q->name.p, q->name.len);
	return buf_put_blob16(w, q->pass.p, q->pass.len);
}

/* NET LEAVE, NET DELETE: the same struct, without the password on the wire. */
static int
net_name_dec(struct buf_reader *r, struct msg *m)
{
	buf_get_u32(r, &m->u.net_req.tag);
	return name_field(r, &m->u.net_req.name);
}

static int
net_name_enc(struct buf_writer *w, const struct msg *m)
{
	buf_put_u32(w, m->u.net_req.tag);
	return buf_put_blob16(w, m->u.net_req.name.p, m->u.net_req.name.len);
}

static int
net_flag_dec(struct buf_reader *r, struct msg *m)
{
	struct msg_net_flag *f = &m->u.net_flag;

	buf_get_u32(r, &f->tag);
	name_field(r, &f->name);
	u8_in(r, &f->flag, NETFLAG_LOCKED, NETFLAG_ONLINE);
	return u8_in(r, &f->on, 0, 1);
}

static int
net_flag_enc(struct buf_writer *w, const struct msg *m)
{
	const struct msg_net_flag *f = &m->u.net_flag;

	buf_put_u32(w, f->tag);
	buf_put_blob16(w, f->name.p, f->name.len);
	buf_put_u8(w, f->flag);
	return buf_put_u8(w, f->on);
}

static int
net_member_dec(struct buf_reader *r, struct msg *m)
{
	struct msg_net_member *q = &m->u.net_member;

	buf_get_u32(r, &q->tag);
	name_field(r, &q->name);
	id_field(r, &q->member);
	return u8_in(r, &q->op, MEMBER_APPROVE, MEMBER_DEMOTE);
}

static int
net_member_enc(struct buf_writer *w, const struct msg *m)
{
	const struct msg_net_member *q = &m->u.net_member;

	buf_put_u32(w, q->tag);
	buf_put_blob16(w, q->name.p, q->name.len);
	buf_put_u32(w, q->member);
	return buf_put_u8(w, q->op);
}

static int
net_text_dec(struct buf_reader *r, struct msg *m)
{
	struct msg_net_text *t = &m->u.net_text;

	buf_get_u32(r, &t->tag);
	name_field(r, &t->name);
	u8_in(r, &t->kind, NETTEXT_WELCOME, NETTEXT_CHAT);
	return text_field(r, &t->text);
}

static int
net_text_enc(struct buf_writer *w, const struct msg *m)
{
	const struct msg_net_text *t = &m->u.net_text;

	buf_put_u32(w, t->tag);
	buf_put_blob16(w, t->name.p, t->name.len);
	buf_put_u8(w, t->kind);
	return buf_put_blob16(w, t->text.p, t->text.len);
}

static int
im_dec(struct buf_reader *r, struct msg *m)
{
	buf_get_u32(r, &m->u.im.tag);
	id_field(r, &m->u.im.to);
	return text_field(r, &m->u.im.text);
}

static int
im_enc(struct buf_writer *w, const struct msg *m)
{
	buf_put_u32(w, m->u.im.tag);
	buf_put_u32(w, m->u.im.to);
	return buf_put_blob16(w, m->u.im.text.p, m->u.im.text.len);
}

static int
inbox_ack_dec(struct buf_reader *r, struct msg *m)
{
	buf_get_u32(r, &m->u.inbox_ack.tag);
	return buf_get_u64(r, &m->u.inbox_ack.upto);
}

static int
inbox_ack_enc(struct buf_writer *w, const struct msg *m)
{
	buf_put_u32(w, m->u.inbox_ack.tag);
	return buf_put_u64(w, m->u.inbox_ack.upto);
}

static int
endpoints_dec(struct buf_reader *r, struct msg *m)
{
	struct msg_endpoints *e = &m->u.endpoints;

	buf_get_u32(r, &e->tag);
	u8_in(r, &e->nat, NAT_UNKNOWN, NAT_UDP_BLOCKED);
	return cands_dec(r, e->cand, &e->n, MSG_CAND_MAX);
}

static int
endpoints_enc(struct buf_writer *w, const struct msg *m)
{
	const struct msg_endpoints *e = &m->u.endpoints;

	buf_put_u32(w, e->tag);
	buf_put_u8(w, e->nat);
	return cands_enc(w, e->cand, e->n, MSG_CAND_MAX);
}

static int
session_dec(struct buf_reader *r, struct msg *m)
{
	struct msg_session *s = &m->u.session;

	id_field(r, &s->identity);
	nick_field(r, &s->nick);
	buf_get_u32(r, &s->addr);
	buf_get_u16(r, &s->port);
	buf_get_u32(r, &s->prefix);
	u8_in(r, &s->prefix_len, 1, MSG_PREFIX_LEN_MAX);
	buf_get_bytes(r, s->disco_key, MSG_DISCO_KEY_LEN);
	u8_in(r, &s->n_ports, 0, MSG_DISCO_PORTS_MAX);
	for (uint8_t i = 0; i < s->n_ports && r->err == 0; i++) {
		buf_get_u16(r, &s->disco_port[i]);
		check(r, s->disco_port[i] != 0);
	}
	return r->err;
}

static int
session_enc(struct buf_writer *w, const struct msg *m)
{
	const struct msg_session *s = &m->u.session;

	buf_put_u32(w, s->identity);
	buf_put_blob16(w, s->nick.p, s->nick.len);
	buf_put_u32(w, s->addr);
	buf_put_u16(w, s->port);
	buf_put_u32(w, s->prefix);
	buf_put_u8(w, s->prefix_len);
	buf_put_bytes(w, s->disco_key, MSG_DISCO_KEY_LEN);
	if (w->err == 0 && s->n_ports > MSG_DISCO_PORTS_MAX)
		w->err = E_RANGE; /* as in cands_enc: before disco_port[] is read */
	buf_put_u8(w, s->n_ports);
	for (uint8_t i = 0; i < s->n_ports && w->err == 0; i++)
		buf_put_u16(w, s->disco_port[i]);
	return w->err;
}

static int
net_dec(struct buf_reader *r, struct msg *m)
{
	struct msg_net *n = &m->u.net;

	name_field(r, &n->name);
	/* a receiver's own role is never BANNED: banned nodes are not told about the network */
	u8_in(r, &n->role, ROLE_OWNER, ROLE_PENDING);
	buf_get_u8(r, &n->flags);
	/* flag f is bit f - 1, so the defined bits are those below bit NETFLAG_ONLINE */
	check(r, (n->flags & ~((1u << NETFLAG_ONLINE) - 1)) == 0);
	return buf_get_u16(r, &n->members);
}

static int
net_enc(struct buf_writer *w, const struct msg *m)
{
	const struct msg_net *n = &m->u.net;

	buf_put_blob16(w, n->name.p, n->name.len);
	buf_put_u8(w, n->role);
	buf_put_u8(w, n->flags);
	return buf_put_u16(w, n->members);
}

static int
net_gone_dec(struct buf_reader *r, struct msg *m)
{
	name_field(r, &m->u.net_gone.name);
	return u8_in(r, &m->u.net_gone.reason, GONE_LEFT, GONE_UNBANNED);
}

static int
net_gone_enc(struct buf_writer *w, const struct msg *m)
{
	buf_put_blob16(w, m->u.net_gone.name.p, m->u.net_gone.name.len);
	return buf_put_u8(w, m->u.net_gone.reason);
}

static int
member_dec(struct buf_reader *r, struct msg *m)
{
	struct msg_member *b = &m->u.member;

	name_field(r, &b->name);
	id_field(r, &b->identity);
	nick_field(r, &b->nick);
	u8_in(r, &b->role, ROLE_OWNER, ROLE_BANNED);
	u8_in(r, &b->online, 0, 1);
	return pubkey_field(r, &b->pubkey);
}

static int
member_enc(struct buf_writer *w, const struct msg *m)
{
	const struct msg_member *b = &m->u.member;

	buf_put_blob16(w, b->name.p, b->name.len);
	buf_put_u32(w, b->identity);
	buf_put_blob16(w, b->nick.p, b->nick.len);
	buf_put_u8(w, b->role);
	buf_put_u8(w, b->online);
	return buf_put_blob16(w, b->pubkey.p, b->pubkey.len);
}

static int
member_gone_dec(struct buf_reader *r, struct msg *m)
{
	struct msg_member_gone *g = &m->u.member_gone;

	name_field(r, &g->name);
	id_field(r, &g->identity);
	return u8_in(r, &g->reason, GONE_LEFT, GONE_UNBANNED);
}

static int
member_gone_enc(struct buf_writer *w, const struct msg *m)
{
	const struct msg_member_gone *g = &m->u.member_gone;

	buf_put_blob16(w, g->name.p, g->name.len);
	buf_put_u32(w, g->identity);
	return buf_put_u8(w, g->reason);
}

static int
sync_done_dec(struct buf_reader *r, struct msg *m)
{
	return buf_get_u16(r, &m->u.sync_done.networks);
}

static int
sync_done_enc(struct buf_writer *w, const struct msg *m)
{
	return buf_put_u16(w, m->u.sync_done.networks);
}

static int
tunnel_dec(struct buf_reader *r, struct msg *m)
{
	struct msg_tunnel *t = &m->u.tunnel;

	id_field(r, &t->peer);
	id_field(r, &t->my_spi);
	id_field(r, &t->peer_spi);
	/* equal SPIs leave the key exchange without an initiator (section 11) */
	check(r, t->peer_spi != t->my_spi);
	u8_in(r, &t->peer_nat, NAT_UNKNOWN, NAT_UDP_BLOCKED);
	pubkey_field(r, &t->pubkey);
	return cands_dec(r, t->cand, &t->n, MSG_CAND_MAX + 1);
}

static int
tunnel_enc(struct buf_writer *w, const struct msg *m)
{
	const struct msg_tunnel *t = &m->u.tunnel;

	buf_put_u32(w, t->peer);
	buf_put_u32(w, t->my_spi);
	buf_put_u32(w, t->peer_spi);
	buf_put_u8(w, t->peer_nat);
	buf_put_blob16(w, t->pubkey.p, t->pubkey.len);
	return cands_enc(w, t->cand, t->n, MSG_CAND_MAX + 1);
}

static int
tunnel_down_dec(struct buf_reader *r, struct msg *m)
{
	id_field(r, &m->u.peer.peer);
	return u8_in(r, &m->u.peer.reason, DOWN_NO_SHARED_NETWORK, DOWN_PEER_OFFLINE);
}

static int
tunnel_down_enc(struct buf_writer *w, const struct msg *m)
{
	buf_put_u32(w, m->u.peer.peer);
	return buf_put_u8(w, m->u.peer.reason);
}

/* PEER LOST: TUNNEL DOWN's struct, without a reason on the wire (it decodes as 0). */
static int
peer_lost_dec(struct buf_reader *r, struct msg *m)
{
	return id_field(r, &m->u.peer.peer);
}

static int
peer_lost_enc(struct buf_writer *w, const struct msg *m)
{
	return buf_put_u32(w, m->u.peer.peer);
}

static int
text_dec(struct buf_reader *r, struct msg *m)
{
	struct msg_text *t = &m->u.text;

	buf_get_u64(r, &t->id);
	u8_in(r, &t->kind, TEXT_IM, TEXT_NOTICE);
	buf_get_u32(r, &t->from);
	buf_get_u64(r, &t->time);
	name_field(r, &t->net);
	nick_field(r, &t->nick);
	return text_field(r, &t->text);
}

static int
text_enc(struct buf_writer *w, const struct msg *m)
{
	const struct msg_text *t = &m->u.text;

	buf_put_u64(w, t->id);
	buf_put_u8(w, t->kind);
	buf_put_u32(w, t->from);
	buf_put_u64(w, t->time);
	buf_put_blob16(w, t->net.p, t->net.len);
	buf_put_blob16(w, t->nick.p, t->nick.len);
	return buf_put_blob16(w, t->text.p, t->text.len);
}

/* The padding is fixed at zero so that it carries nothing and the mac covers known bytes. */
static int
disco_probe_dec(struct buf_reader *r, struct msg *m)
{
	static const uint8_t zero[MSG_DISCO_PAD_LEN];
	struct msg_disco_probe *p = &m->u.disco_probe;
	uint8_t pad[MSG_DISCO_PAD_LEN];

	id_field(r, &p->identity);
	buf_get_bytes(r, p->nonce, MSG_DISCO_NONCE_LEN);
	buf_get_bytes(r, pad, sizeof(pad));
	check(r, memcmp(pad, zero, sizeof(pad)) == 0);
	return buf_get_bytes(r, p->mac, WIRE_MAC_LEN);
}

static int
disco_probe_enc(struct buf_writer *w, const struct msg *m)
{
	static const uint8_t zero[MSG_DISCO_PAD_LEN];
	const struct msg_disco_probe *p = &m->u.disco_probe;

	buf_put_u32(w, p->identity);
	buf_put_bytes(w, p->nonce, MSG_DISCO_NONCE_LEN);
	buf_put_bytes(w, zero, sizeof(zero));
	return buf_put_bytes(w, p->mac, WIRE_MAC_LEN);
}

static int
disco_reply_dec(struct buf_reader *r, struct msg *m)
{
	struct msg_disco_reply *p = &m->u.disco_reply;

	buf_get_bytes(r, p->nonce, MSG_DISCO_NONCE_LEN);
	buf_get_u32(r, &p->addr);
	buf_get_u16(r, &p->port);
	buf_get_u16(r, &p->server_port);
	return buf_get_bytes(r, p->mac, WIRE_MAC_LEN);
}

static int
disco_reply_enc(struct buf_writer *w, const struct msg *m)
{
	const struct msg_disco_reply *p = &m->u.disco_reply;

	buf_put_bytes(w, p->nonce, MSG_DISCO_NONCE_LEN);
	buf_put_u32(w, p->addr);
	buf_put_u16(w, p->port);
	buf_put_u16(w, p->server_port);
	return buf_put_bytes(w, p->mac, WIRE_MAC_LEN);
}

static int
relay_dec(struct buf_reader *r, struct msg *m)
{
	struct msg_relay *g = &m->u.relay;

	id_field(r, &g->peer);
	buf_get_bytes(r, g->session, MSG_RELAY_SESSION_LEN);
	buf_get_u32(r, &g->expiry);
	u8_in(r, &g->side, 0, 1);
	buf_get_u32(r, &g->addr);
	check(r, g->addr != 0);
	buf_get_u16(r, &g->udp_port);
	check(r, g->udp_port != 0);
	buf_get_u16(r, &g->tcp_port);
	return buf_get_bytes(r, g->token, MSG_RELAY_TOKEN_LEN);
}

static int
relay_enc(struct buf_writer *w, const struct msg *m)
{
	const struct msg_relay *g = &m->u.relay;

	buf_put_u32(w, g->peer);
	buf_put_bytes(w, g->session, MSG_RELAY_SESSION_LEN);
	buf_put_u32(w, g->expiry);
	buf_put_u8(w, g->side);
	buf_put_u32(w, g->addr);
	buf_put_u16(w, g->udp_port);
	buf_put_u16(w, g->tcp_port);
	return buf_put_bytes(w, g->token, MSG_RELAY_TOKEN_LEN);
}

/* As DISCO PROBE's, the zero bytes make a BIND larger than its answer. */
static int
relay_bind_dec(struct buf_reader *r, struct msg *m)
{
	static const uint8_t zero[MSG_RELAY_PAD_LEN];
	struct msg_relay_bind *b = &m->u.relay_bind;
	uint8_t pad[MSG_RELAY_PAD_LEN];

	buf_get_bytes(r, b->session, MSG_RELAY_SESSION_LEN);
	buf_get_u32(r, &b->expiry);
	u8_in(r, &b->side, 0, 1);
	id_field(r, &b->identity);
	id_field(r, &b->peer);
	check(r, b->peer != b->identity);
	buf_get_u64(r, &b->seq);
	check(r, b->seq != 0);
	u8_in(r, &b->n, 1, MSG_RELAY_SPIS_MAX);
	for (unsigned i = 0; r->err == 0 && i < b->n; i++) {
		buf_get_u32(r, &b->spi[i]);
		check(r, b->spi[i] != 0);
	}
	buf_get_bytes(r, pad, sizeof(pad));
	check(r, memcmp(pad, zero, sizeof(pad)) == 0);
	return buf_get_bytes(r, b->mac, WIRE_MAC_LEN);
}

static int
relay_bind_enc(struct buf_writer *w, const struct msg *m)
{
	static const uint8_t zero[MSG_RELAY_PAD_LEN];
	const struct msg_relay_bind *b = &m->u.relay_bind;

	buf_put_bytes(w, b->session, MSG_RELAY_SESSION_LEN);
	buf_put_u32(w, b->expiry);
	buf_put_u8(w, b->side);
	buf_put_u32(w, b->identity);
	buf_put_u32(w, b->peer);
	buf_put_u64(w, b->seq);
	buf_put_u8(w, b->n);
	if (w->err == 0 && b->n > MSG_RELAY_SPIS_MAX)
		w->err = E_RANGE; /* before spi[] is read */
	for (unsigned i = 0; w->err == 0 && i < b->n; i++)
		buf_put_u32(w, b->spi[i]);
	buf_put_bytes(w, zero, sizeof(zero));
	return buf_put_bytes(w, b->mac, WIRE_MAC_LEN);
}

static int
relay_bound_dec(struct buf_reader *r, struct msg *m)
{
	struct msg_relay_bound *b = &m->u.relay_bound;

	buf_get_bytes(r, b->session, MSG_RELAY_SESSION_LEN);
	u8_in(r, &b->side, 0, 1);
	buf_get_u64(r, &b->seq);
	buf_get_u16(r, &b->status);
	u8_in(r, &b->peer_bound, 0, 1);
	buf_get_u32(r, &b->addr);
	buf_get_u16(r, &b->port);
	return buf_get_bytes(r, b->mac, WIRE_MAC_LEN);
}

static int
relay_bound_enc(struct buf_writer *w, const struct msg *m)
{
	const struct msg_relay_bound *b = &m->u.relay_bound;

	buf_put_bytes(w, b->session, MSG_RELAY_SESSION_LEN);
	buf_put_u8(w, b->side);
	buf_put_u64(w, b->seq);
	buf_put_u16(w, b->status);
	buf_put_u8(w, b->peer_bound);
	buf_put_u32(w, b->addr);
	buf_put_u16(w, b->port);
	return buf_put_bytes(w, b->mac, WIRE_MAC_LEN);
}

enum {
	CLEAR = MSG_CH_CLEAR_C2S | MSG_CH_CLEAR_S2C,
	SESSION = MSG_CH_SESSION_C2S | MSG_CH_SESSION_S2C,
	REQ = MSG_CH_SESSION_C2S,  /* a node's request to the mediator */
	PUSH = MSG_CH_SESSION_S2C, /* the mediator's notification */
};

/* One row per type; the bounds are PROTOCOL.md section 8's. A table, so the size budget of
 * functions does not apply. */
static const struct msg_desc descs[] = {
	{MSG_HELO, MSG_CH_CLEAR_C2S, T + 1 + WIRE_KFP_LEN + KE_FIXED,
	 T + 1 + WIRE_KFP_LEN + KE_FIXED, helo_dec, helo_enc},
	{MSG_HELO_OK, MSG_CH_CLEAR_S2C, T + KE_FIXED, T + KE_FIXED, helo_ok_dec, helo_ok_enc},
	{MSG_AUTH, MSG_CH_SESSION_C2S, T + 4 + SIG_MIN, T + 4 + SIG_MAX, auth_dec, auth_enc},
	{MSG_REGISTER, MSG_CH_SESSION_C2S, T + STR + 1 + STR + STR + SIG_MIN,
	 T + STR + WIRE_PUBKEY_MAX + STR + WIRE_NICK_MAX + STR + WIRE_TOKEN_MAX + SIG_MAX,
	 register_dec, register_enc},
	{MSG_AUTH_OK, MSG_CH_SESSION_S2C, T + 4 + SIG_MIN, T + 4 + SIG_MAX, auth_dec, auth_enc},
	{MSG_ERROR, CLEAR | SESSION, T + 2 + STR, T + 2 + STR + WIRE_TEXT_MAX, error_dec,
	 error_enc},
	{MSG_RESULT, MSG_CH_SESSION_S2C, T + 4 + 2 + STR, T + 4 + 2 + STR + WIRE_TEXT_MAX,
	 result_dec, result_enc},
	{MSG_PING, SESSION, T + 4, T + 4, ping_dec, ping_enc},
	{MSG_PONG, SESSION, T + 4, T + 4, ping_dec, ping_enc},
	{MSG_NICK, REQ, T + 4 + STR, T + 4 + NICK_BIG, nick_dec, nick_enc},
	{MSG_NET_CREATE, REQ, T + 4 + STR + STR, T + 4 + NAME_BIG + PASS_BIG, net_pass_dec,
	 net_pass_enc},
	{MSG_NET_JOIN, REQ, T + 4 + STR + STR, T + 4 + NAME_BIG + PASS_BIG, net_pass_dec,
	 net_pass_enc},
	{MSG_NET_LEAVE, REQ, T + 4 + STR, T + 4 + NAME_BIG, net_name_dec, net_name_enc},
	{MSG_NET_DELETE, REQ, T + 4 + STR, T + 4 + NAME_BIG, net_name_dec, net_name_enc},
	{MSG_NET_PASS, REQ, T + 4 + STR + STR, T + 4 + NAME_BIG + PASS_BIG, net_pass_dec,
	 net_pass_enc},
	{MSG_NET_FLAG, REQ, T + 4 + STR + 2, T + 4 + NAME_BIG + 2, net_flag_dec, net_flag_enc},
	{MSG_NET_MEMBER, REQ, T + 4 + STR + 5, T + 4 + NAME_BIG + 5, net_member_dec,
	 net_member_enc},
	{MSG_NET_TEXT, REQ, T + 4 + STR + 1 + STR, T + 4 + NAME_BIG + 1 + TEXT_BIG, net_text_dec,
	 net_text_enc},
	{MSG_IM, REQ, T + 8 + STR, T + 8 + TEXT_BIG, im_dec, im_enc},
	{MSG_INBOX_ACK, REQ, T + 12, T + 12, inbox_ack_dec, inbox_ack_enc},
	{MSG_ENDPOINTS, REQ, T + 6, T + 6 + CANDS_MAX, endpoints_dec, endpoints_enc},
	{MSG_SYNC, REQ, T + 4, T + 4, ping_dec, ping_enc},
	{MSG_LOGOUT, REQ, T + 4, T + 4, ping_dec, ping_enc},
	{MSG_SESSION, PUSH, T + SESSION_FIXED,
	 T + SESSION_FIXED + WIRE_NICK_MAX + 2 * MSG_DISCO_PORTS_MAX, session_dec, session_enc},
	{MSG_NET, PUSH, T + STR + 4, T + NAME_BIG + 4, net_dec, net_enc},
	{MSG_NET_GONE, PUSH, T + STR + 1, T + NAME_BIG + 1, net_gone_dec, net_gone_enc},
	{MSG_MEMBER, PUSH, T + STR + 4 + STR + 2 + KEY_MIN,
	 T + NAME_BIG + 4 + NICK_BIG + 2 + KEY_MAX, member_dec, member_enc},
	{MSG_MEMBER_GONE, PUSH, T + STR + 5, T + NAME_BIG + 5, member_gone_dec, member_gone_enc},
	{MSG_SYNC_DONE, PUSH, T + 2, T + 2, sync_done_dec, sync_done_enc},
	{MSG_TUNNEL, PUSH, T + TUNNEL_FIXED + KEY_MIN,
	 T + TUNNEL_FIXED + KEY_MAX + CANDS_MAX + CAND, tunnel_dec, tunnel_enc},
	{MSG_TUNNEL_DOWN, PUSH, T + 5, T + 5, tunnel_down_dec, tunnel_down_enc},
	{MSG_PEER_LOST, PUSH, T + 4, T + 4, peer_lost_dec, peer_lost_enc},
	{MSG_TEXT, PUSH, T + TEXT_FIXED + 3 * STR, T + TEXT_FIXED + NAME_BIG + NICK_BIG + TEXT_BIG,
	 text_dec, text_enc},
	{MSG_DISCO_PROBE, MSG_CH_DISCO_C2S, PROBE, PROBE, disco_probe_dec, disco_probe_enc},
	{MSG_DISCO_REPLY, MSG_CH_DISCO_S2C, REPLY, REPLY, disco_reply_dec, disco_reply_enc},
	{MSG_RELAY, PUSH, RELAY, RELAY, relay_dec, relay_enc},
	{MSG_RELAY_BIND, MSG_CH_RELAY_C2R, BIND_FIXED + 4, BIND_FIXED + 4 * MSG_RELAY_SPIS_MAX,
	 relay_bind_dec, relay_bind_enc},
	{MSG_RELAY_BOUND, MSG_CH_RELAY_R2C, BOUND, BOUND, relay_bound_dec, relay_bound_enc},
	{MSG_KE1, MSG_CH_TUNNEL, T + KE_FIXED, T + KE_FIXED, ke1_dec, ke1_enc},
	{MSG_KE2, MSG_CH_TUNNEL, T + KE_FIXED + SIG_MIN, T + KE_FIXED + SIG_MAX, ke_signed_dec,
	 ke_signed_enc},
	{MSG_KE3, MSG_CH_TUNNEL, T + KE_FIXED + SIG_MIN, T + KE_FIXED + SIG_MAX, ke_signed_dec,
	 ke_signed_enc},
	{MSG_PROBE, MSG_CH_TUNNEL, T + MSG_PROBE_NONCE_LEN + 1, T + MSG_PROBE_NONCE_LEN + 1,
	 probe_dec, probe_enc},
};

static const struct msg_desc *
find(uint16_t type)
{
	for (size_t i = 0; i < ARRAY_SIZE(descs); i++)
		if (descs[i].type == type)
			return &descs[i];
	return NULL;
}

int
msg_decode(unsigned int channel, const uint8_t *p, size_t len, struct msg *m)
{
	const struct msg_desc *d;
	struct buf_reader r;
	int err;

	memset(m, 0, sizeof(*m));
	if (len < T)
		return E_SHORT;
	m->type = load_be16(p);
	if ((d = find(m->type)) == NULL)
		return E_TYPE;
	if ((d->channels & channel) == 0)
		return E_CHANNEL;
	if (len < d->min)
		return E_SHORT;
	if (len > d->max)
		return E_TOOBIG;
	buf_reader_init(&r, p + T, len - T);
	d->dec(&r, m);
	if ((err = buf_end(&r)) != 0) {
		uint16_t type = m->type;

		memset(m, 0, sizeof(*m));
		m->type = type;
	}
	return err;
}

int
msg_encode(unsigned int channel, const struct msg *m, uint8_t *out, size_t cap, size_t *len)
{
	const struct msg_desc *d = find(m->type);
	struct buf_writer w;
	struct msg check;
	int r;

	*len = 0;
	if (d == NULL)
		return E_TYPE;
	if ((d->channels & channel) == 0)
		return E_CHANNEL;
	buf_writer_init(&w, out, cap);
	buf_put_u16(&w, m->type);
	if ((r = d->enc(&w, m)) != 0)
		return r;
	if ((r = msg_decode(channel, out, buf_written(&w), &check)) != 0)
		return r;
	*len = buf_written(&w);
	return 0;
}

const char *
msg_name(uint16_t type)
{
	switch (type) {
#define MSG_NAME(name, code, str)                                                                  \
	case code:                                                                                 \
		return str;
		MSG_LIST(MSG_NAME)
#undef MSG_NAME
	}
	return "unknown";
}

size_t
msg_max_len(void)
{
	size_t max = 0;

	for (size_t i = 0; i < ARRAY_SIZE(descs); i++)
		max = MAX(max, descs[i].max);
	return max;
}

bool
msg_set_tag(struct msg *m, uint32_t tag)
{
	switch (m->type) {
	case MSG_NICK:
		m->u.nick.tag = tag;
		return true;
	case MSG_NET_CREATE:
	case MSG_NET_JOIN:
	case MSG_NET_LEAVE:
	case MSG_NET_DELETE:
	case MSG_NET_PASS:
		m->u.net_req.tag = tag;
		return true;
	case MSG_NET_FLAG:
		m->u.net_flag.tag = tag;
		return true;
	case MSG_NET_MEMBER:
		m->u.net_member.tag = tag;
		return true;
	case MSG_NET_TEXT:
		m->u.net_text.tag = tag;
		return true;
	case MSG_IM:
		m->u.im.tag = tag;
		return true;
	case MSG_INBOX_ACK:
		m->u.inbox_ack.tag = tag;
		return true;
	case MSG_ENDPOINTS:
		m->u.endpoints.tag = tag;
		return true;
	case MSG_PING:
	case MSG_SYNC:
	case MSG_LOGOUT:
		m->u.ping.tag = tag;
		return true;
	default:
		return false;
	}
}
