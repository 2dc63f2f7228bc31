/* SPDX-License-Identifier: MIT */
/*
 * What nodes see of each other: the session greeting, the full sync after login (or on
 * SYNC), and deltas. A delta about a member goes only to nodes that share the network with
 * it; pending and banned rows go only to the network's owner and admins.
 */
#include <string.h>

#include "common/crypto.h"
#include "common/log.h"
#include "mediator/med.h"

bool
member_active(const struct member *mb)
{
	return mb->role == ROLE_OWNER || mb->role == ROLE_ADMIN || mb->role == ROLE_MEMBER;
}

bool
network_is_manager(const struct member *mb)
{
	return mb != NULL && (mb->role == ROLE_OWNER || mb->role == ROLE_ADMIN);
}

static bool
send_to(struct med *m, struct account *to, const struct msg *msg)
{
	if (!account_online(to))
		return false;
	return conn_send(m, to->conn, msg) == 0;
}

void
presence_net(struct med *m, const struct member *mb)
{
	const struct network *n = mb->net;
	struct msg msg = {.type = MSG_NET};

	msg.u.net.name = span_str(n->name);
	msg.u.net.role = mb->role;
	msg.u.net.flags =
		(uint8_t)((n->locked ? 1 : 0) | (n->approval ? 2 : 0) | (mb->online ? 4 : 0));
	msg.u.net.members = (uint16_t)MIN(network_count(n, false), 65535u);
	send_to(m, mb->acct, &msg);
}

void
presence_net_all(struct med *m, const struct network *n)
{
	for (unsigned int i = 0; i < n->n_members; i++)
		presence_net(m, n->members[i]);
}

static void
send_row(struct med *m, struct account *to, const struct network *n, const struct account *who,
	 uint8_t role, bool online)
{
	struct msg msg = {.type = MSG_MEMBER};

	msg.u.member.name = span_str(n->name);
	msg.u.member.identity = who->id;
	msg.u.member.nick = span_str(who->nick);
	msg.u.member.role = role;
	msg.u.member.online = online ? 1 : 0;
	msg.u.member.pubkey.p = who->der;
	msg.u.member.pubkey.len = who->der_len;
	send_to(m, to, &msg);
}

void
presence_send_member(struct med *m, struct account *to, const struct member *mb)
{
	send_row(m, to, mb->net, mb->acct, mb->role, account_online(mb->acct) && mb->online);
}

/* Who sees a row of role in n: everyone active for members, managers for the rest. */
static bool
sees(const struct member *viewer, uint8_t role)
{
	if (!member_active(viewer))
		return false;
	return role == ROLE_PENDING || role == ROLE_BANNED ? network_is_manager(viewer) : true;
}

void
presence_member(struct med *m, const struct member *mb)
{
	const struct network *n = mb->net;

	for (unsigned int i = 0; i < n->n_members; i++)
		if (sees(n->members[i], mb->role))
			presence_send_member(m, n->members[i]->acct, mb);
}

/* mb's row to the others who see it (mb itself got the whole network). */
void
presence_member_others(struct med *m, const struct member *mb)
{
	const struct network *n = mb->net;

	for (unsigned int i = 0; i < n->n_members; i++)
		if (n->members[i] != mb && sees(n->members[i], mb->role))
			presence_send_member(m, n->members[i]->acct, mb);
}

/* A new ban entry, to the managers. */
void
presence_ban(struct med *m, const struct network *n, const struct account *who)
{
	for (unsigned int i = 0; i < n->n_members; i++)
		if (network_is_manager(n->members[i]))
			send_row(m, n->members[i]->acct, n, who, ROLE_BANNED, false);
}

void
presence_member_gone(struct med *m, const struct network *n, const struct account *who,
		     uint8_t role, uint8_t reason)
{
	struct msg msg = {.type = MSG_MEMBER_GONE};

	msg.u.member_gone.name = span_str(n->name);
	msg.u.member_gone.identity = who->id;
	msg.u.member_gone.reason = reason;
	for (unsigned int i = 0; i < n->n_members; i++)
		if (n->members[i]->acct != who && sees(n->members[i], role))
			send_to(m, n->members[i]->acct, &msg);
}

/* a's presence or nickname changed: the others in every network it is active in hear it. */
void
presence_account(struct med *m, struct account *a)
{
	struct list_node *pos, *tmp;

	list_for_each_safe(pos, tmp, &a->members)
	{
		struct member *mb = container_of(pos, struct member, acct_link);

		if (member_active(mb))
			presence_member_others(m, mb);
	}
}

/* The rows of one network for a node that just learned of it or asked for a sync. */
void
presence_network_rows(struct med *m, const struct member *viewer)
{
	const struct network *n = viewer->net;

	presence_net(m, viewer);
	if (!member_active(viewer))
		return;
	for (unsigned int i = 0; i < n->n_members; i++)
		if (sees(viewer, n->members[i]->role))
			presence_send_member(m, viewer->acct, n->members[i]);
	if (!network_is_manager(viewer))
		return;
	for (unsigned int i = 0; i < n->n_bans; i++) {
		struct account *b = account_by_id(m, n->bans[i]);

		if (b != NULL)
			send_row(m, viewer->acct, n, b, ROLE_BANNED, false);
	}
}

void
presence_session(struct med *m, struct account *a)
{
	struct conn *c = a->conn;
	struct msg msg = {.type = MSG_SESSION};
	struct msg_session *s = &msg.u.session;

	if (crypto_random(c->disco_key, sizeof(c->disco_key)) != 0)
		log_err("no randomness for a discovery key");
	s->identity = a->id;
	s->nick = span_str(a->nick);
	s->addr = ntohl(c->peer.sin_addr.s_addr);
	s->port = ntohs(c->peer.sin_port);
	s->prefix = m->cfg.prefix;
	s->prefix_len = (uint8_t)m->cfg.prefix_len;
	memcpy(s->disco_key, c->disco_key, sizeof(s->disco_key));
	s->n_ports = (uint8_t)m->cfg.n_disco_ports;
	for (unsigned int i = 0; i < m->cfg.n_disco_ports; i++)
		s->disco_port[i] = (uint16_t)m->cfg.disco_ports[i];
	conn_send(m, c, &msg);
}

void
presence_sync(struct med *m, struct account *a)
{
	struct msg done = {.type = MSG_SYNC_DONE};
	struct list_node *pos, *tmp;
	unsigned int nets = 0;

	list_for_each_safe(pos, tmp, &a->members)
	{
		presence_network_rows(m, container_of(pos, struct member, acct_link));
		nets++;
	}
	done.u.sync_done.networks = (uint16_t)MIN(nets, 65535u);
	send_to(m, a, &done);
}
