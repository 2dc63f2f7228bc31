/* SPDX-License-Identifier: MIT */
/*
 * The node's view of its networks, kept current from the mediator's pushes (NET, NET GONE,
 * MEMBER, MEMBER GONE, TEXT): networks with our role and flags, their members with role,
 * nickname and presence, and an inbox of the last NETVIEW_TEXTS texts. A login's sync sends
 * everything again, so netview_reset() at SESSION starts the view over (the inbox stays).
 */
#ifndef BURI_CONTROL_NETVIEW_H
#define BURI_CONTROL_NETVIEW_H

#include <stdbool.h>
#include <stdint.h>

#include "common/msg.h"
#include "common/wire.h"

enum { NETVIEW_TEXTS = 256 };

struct nv_member {
	uint32_t id;
	char nick[WIRE_NICK_MAX + 1];
	uint8_t role; /* ROLE_* */
	bool online;
};

struct nv_net {
	char name[WIRE_NAME_MAX + 1];
	uint8_t role, flags; /* ours: ROLE_*, bit 0 locked, 1 approval, 2 we are online in it */
	uint16_t members;
	struct nv_member *m;
	unsigned n, cap;
};

struct nv_text {
	uint64_t id, time;
	uint8_t kind;
	uint32_t from;
	char net[WIRE_NAME_MAX + 1], nick[WIRE_NICK_MAX + 1], text[WIRE_TEXT_MAX + 1];
};

struct netview {
	struct nv_net *nets;
	unsigned n, cap;
	struct nv_text texts[NETVIEW_TEXTS]; /* a ring: the oldest is overwritten */
	unsigned ntexts, head;
	uint64_t max_text_id; /* the highest stored id seen: INBOX ACK's upto */
};

void netview_init(struct netview *nv);
void netview_free(struct netview *nv);
/* Forgets the networks (a new sync follows). */
void netview_reset(struct netview *nv);
/* Applies one push; true if it changed the view. TEXT with a stored id raises max_text_id. */
bool netview_on_msg(struct netview *nv, const struct msg *m);

const struct nv_net *netview_net(const struct netview *nv, const char *name);
/* The nickname of id in any network, or NULL. */
const char *netview_nick(const struct netview *nv, uint32_t id);
/* The member called nick: 0 and *id; E_NOTFOUND; E_EXISTS if two members share it. */
int netview_by_nick(const struct netview *nv, const char *nick, uint32_t *id);

#endif
