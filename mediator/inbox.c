/* SPDX-License-Identifier: MIT */
/*
 * Texts: instant and offline messages, welcome messages and announcements are stored for
 * their receiver and pushed at once if it is online; they stay stored until the node
 * acknowledges them (INBOX ACK), so a message is never lost between the push and a dropped
 * connection. Each node keeps at most limits.offline_messages; beyond that the oldest go and
 * the node gets a notice saying how many. Chat is for online members only and not stored.
 */
#include <stdio.h>

#include "common/err.h"
#include "common/log.h"
#include "mediator/med.h"
#include "mediator/store.h"

void
inbox_push(struct med *m, struct account *to, uint64_t id, uint8_t kind, const struct account *from,
	   const char *net, const struct span *text, int64_t t)
{
	struct msg msg = {.type = MSG_TEXT};
	struct msg_text *x = &msg.u.text;

	if (!account_online(to))
		return;
	x->id = id;
	x->kind = kind;
	x->from = from != NULL ? from->id : 0;
	x->time = (uint64_t)t;
	x->net = span_str(net);
	x->nick = span_str(from != NULL ? from->nick : "");
	x->text = *text;
	conn_send(m, to->conn, &msg);
}

static int
trim(struct med *m, struct account *to)
{
	uint32_t dropped = 0;
	int r;

	if (to->inbox <= m->cfg.offline_messages)
		return 0;
	if ((r = store_text_trim(m->store, to->id, m->cfg.offline_messages, &dropped)) != 0)
		return r;
	to->inbox -= MIN(dropped, to->inbox);
	to->dropped += dropped;
	return store_account_dropped(m->store, to->id, to->dropped);
}

int
inbox_store(struct med *m, struct account *to, uint8_t kind, const struct account *from,
	    const char *net, const struct span *text)
{
	char buf[WIRE_TEXT_MAX + 1];
	struct store_text st = {0};
	int r;

	if (m->cfg.offline_messages == 0) {
		inbox_push(m, to, 0, kind, from, net, text, m->now);
		return 0;
	}
	memcpy(buf, text->p, text->len);
	buf[text->len] = '\0';
	st.to = to->id;
	st.kind = kind;
	st.from = from != NULL ? from->id : 0;
	st.time = m->now;
	st.net = net;
	st.nick = from != NULL ? from->nick : "";
	st.text = buf;
	if ((r = store_text_add(m->store, &st)) != 0)
		return r;
	to->inbox++;
	inbox_push(m, to, st.id, kind, from, net, text, m->now);
	return trim(m, to);
}

struct deliver {
	struct med *m;
	struct account *a;
};

static int
deliver_one(void *arg, const struct store_text *t)
{
	struct deliver *d = arg;
	const struct account *from = t->from != 0 ? account_by_id(d->m, t->from) : NULL;
	struct msg msg = {.type = MSG_TEXT};
	struct msg_text *x = &msg.u.text;

	if (!account_online(d->a))
		return E_STATE;
	x->id = t->id;
	x->kind = t->kind;
	x->from = t->from;
	x->time = (uint64_t)t->time;
	x->net = span_str(t->net);
	x->nick = span_str(t->nick[0] != '\0' || from == NULL ? t->nick : from->nick);
	x->text = span_str(t->text);
	return conn_send(d->m, d->a->conn, &msg);
}

/* At login: the notice about dropped messages, then every stored text. */
void
inbox_deliver(struct med *m, struct account *a)
{
	struct deliver d = {m, a};
	char note[128];
	struct span s;

	if (a->dropped > 0) {
		snprintf(note, sizeof(note),
			 "%u stored messages were dropped: at most %u are kept for you", a->dropped,
			 m->cfg.offline_messages);
		s = span_str(note);
		inbox_push(m, a, 0, TEXT_NOTICE, NULL, "", &s, m->now);
		a->dropped = 0;
		if (store_account_dropped(m->store, a->id, 0) != 0)
			log_warn("cannot reset the dropped-message count of a node");
	}
	if (a->inbox > 0 && store_text_each(m->store, a->id, deliver_one, &d) != 0 &&
	    account_online(a))
		log_warn("cannot read stored messages: %s", store_error(m->store));
}

int
inbox_ack(struct med *m, struct account *a, uint64_t upto)
{
	uint32_t n = 0;
	int r;

	if ((r = store_text_ack(m->store, a->id, upto, &n)) != 0)
		return r;
	a->inbox -= MIN(n, a->inbox);
	return 0;
}
