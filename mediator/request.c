/* SPDX-License-Identifier: MIT */
/*
 * Requests of an online node: the dispatch, RESULT, and the requests that are not about one
 * network (nickname, instant messages, inbox, endpoints, sync, logout). A type that is not a
 * request of a node (a notification, a login message) ends the session with E_STATE.
 */
#include "common/err.h"
#include "common/log.h"
#include "mediator/med.h"

void
request_result(struct med *m, struct conn *c, uint32_t tag, int status, const char *text)
{
	struct msg msg = {.type = MSG_RESULT};

	if (c->state != CONN_ONLINE)
		return;
	msg.u.result.tag = tag;
	msg.u.result.status = err_to_wire(status);
	msg.u.result.text = span_str(status == 0 || text[0] != '\0' ? text : err_str(status));
	conn_send(m, c, &msg);
}

static int
req_nick(struct med *m, struct conn *c, const struct msg *msg)
{
	int r;

	if ((r = account_set_nick(m, c->acct, &msg->u.nick.nick)) != 0)
		return r;
	presence_account(m, c->acct);
	return 0;
}

/* Messages go only between nodes that share a network: strangers cannot write to anyone. */
static int
req_im(struct med *m, struct conn *c, const struct msg *msg)
{
	const struct msg_im *q = &msg->u.im;
	struct account *to = account_by_id(m, q->to);
	bool member_only;

	if (to == NULL)
		return E_NOTFOUND;
	if (to == c->acct || q->text.len == 0)
		return E_INVAL;
	if (q->text.len > m->cfg.text_max)
		return E_TOOBIG;
	broker_shares(c->acct, to, &member_only);
	if (!member_only)
		return E_NOTALLOWED;
	return inbox_store(m, to, TEXT_IM, c->acct, "", &q->text);
}

static int
req_ack(struct med *m, struct conn *c, const struct msg *msg)
{
	return inbox_ack(m, c->acct, msg->u.inbox_ack.upto);
}

static int
req_endpoints(struct med *m, struct conn *c, const struct msg *msg)
{
	const struct msg_endpoints *q = &msg->u.endpoints;
	struct cand_set *cs = &c->acct->cands;

	cs->nat = q->nat;
	cs->n = q->n;
	for (unsigned int i = 0; i < q->n; i++)
		cs->cand[i] = q->cand[i];
	broker_endpoints(m, c->acct);
	return 0;
}

static int
req_sync(struct med *m, struct conn *c, const struct msg *msg)
{
	(void)msg;
	presence_sync(m, c->acct);
	return 0;
}

/* Going offline on purpose: peers tear their tunnels down at once (no PEER LOST). */
static int
req_logout(struct med *m, struct conn *c, const struct msg *msg)
{
	request_result(m, c, msg->u.ping.tag, 0, "");
	c->lost = false;
	conn_finish(m, c);
	session_closed(m, c);
	return REQ_PENDING;
}

static req_fn
handler(uint16_t type)
{
	switch (type) {
	case MSG_NICK:
		return req_nick;
	case MSG_IM:
		return req_im;
	case MSG_INBOX_ACK:
		return req_ack;
	case MSG_ENDPOINTS:
		return req_endpoints;
	case MSG_SYNC:
		return req_sync;
	case MSG_LOGOUT:
		return req_logout;
	default:
		return netreq_handler(type);
	}
}

/* Every request type's first field is its tag, at the same place in each struct. */
static uint32_t
tag_of(const struct msg *msg)
{
	switch (msg->type) {
	case MSG_NICK:
		return msg->u.nick.tag;
	case MSG_NET_CREATE:
	case MSG_NET_JOIN:
	case MSG_NET_LEAVE:
	case MSG_NET_DELETE:
	case MSG_NET_PASS:
		return msg->u.net_req.tag;
	case MSG_NET_FLAG:
		return msg->u.net_flag.tag;
	case MSG_NET_MEMBER:
		return msg->u.net_member.tag;
	case MSG_NET_TEXT:
		return msg->u.net_text.tag;
	case MSG_IM:
		return msg->u.im.tag;
	case MSG_INBOX_ACK:
		return msg->u.inbox_ack.tag;
	case MSG_ENDPOINTS:
		return msg->u.endpoints.tag;
	default:
		return msg->u.ping.tag;
	}
}

int
request_dispatch(struct med *m, struct conn *c, const struct msg *msg)
{
	req_fn fn = handler(msg->type);
	int r;

	if (fn == NULL)
		return E_STATE;
	r = fn(m, c, msg);
	if (r == REQ_PENDING)
		return 0;
	if (r == E_BUSY)
		m->stats.busy++;
	request_result(m, c, tag_of(msg), r, "");
	return 0;
}
