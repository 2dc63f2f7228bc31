/* SPDX-License-Identifier: MIT */
/*
 * Network requests: create, join, leave, delete, password, flags, member operations and
 * network texts. Every one is checked against the caller's role here, on the server:
 *
 *   owner   everything, including delete, promote and demote
 *   admin   password, lock, approval, approve/reject, evict, ban/unban, welcome, announce;
 *           acts only on plain members, pending nodes and bans, never on the owner or admins
 *   member  leave, chat, its own go-online switch
 *
 * Requests that need a password hash run it on the pool (a slow hash on the loop would
 * stall every session) and finish in *_done, after checking again everything that may have
 * changed meanwhile.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/crypto.h"
#include "common/err.h"
#include "common/log.h"
#include "mediator/med.h"
#include "mediator/passwd.h"
#include "mediator/store.h"

struct pwjob {
	struct pool_job job;
	struct conn *c;
	uint16_t type;
	uint32_t tag;
	struct span name; /* points into name_buf */
	char name_buf[MSG_NAME_MAX + 1];
	char pass[MSG_PASS_MAX + 1];
	size_t pass_len;
	char hash[PASSWD_HASH_MAX]; /* JOIN: the stored hash; else: the new one */
	unsigned int iterations;
	int result;
	const char *note; /* RESULT text on success */
};

/* A name or password: not empty, no control characters. */
static bool
valid_text(const struct span *s)
{
	if (s->len == 0)
		return false;
	for (size_t i = 0; i < s->len; i++)
		if (s->p[i] < 0x20 || s->p[i] == 0x7f)
			return false;
	return true;
}

static int
find_net(struct med *m, struct conn *c, const struct span *name, struct network **n,
	 struct member **me)
{
	if (!valid_text(name))
		return E_INVAL;
	if ((*n = network_by_name(m, name)) == NULL)
		return E_NOTFOUND;
	*me = network_member(*n, c->acct);
	return 0;
}

static int
need_manager(const struct member *me)
{
	return network_is_manager(me) ? 0 : E_NOTALLOWED;
}

static void
send_gone(struct med *m, struct account *a, const struct network *n, uint8_t reason)
{
	struct msg msg = {.type = MSG_NET_GONE};

	if (!account_online(a))
		return;
	msg.u.net_gone.name = span_str(n->name);
	msg.u.net_gone.reason = reason;
	conn_send(m, a->conn, &msg);
}

/* A member now has access: it learns the network, the others learn it, tunnels follow. */
static void
activate(struct med *m, struct member *mb)
{
	struct network *n = mb->net;
	struct span w = span_str(n->welcome);

	presence_network_rows(m, mb);
	presence_member_others(m, mb);
	if (w.len > 0 &&
	    inbox_store(m, mb->acct, TEXT_WELCOME, account_by_id(m, n->owner), n->name, &w) != 0)
		log_warn("cannot store a welcome message");
	broker_refresh(m, mb->acct);
}

static int
remove_member(struct med *m, struct network *n, struct member *mb, uint8_t reason)
{
	struct account *a = mb->acct;
	uint8_t role = mb->role;
	int r;

	if ((r = store_member_del(m->store, n->id, a->id)) != 0)
		return r;
	network_remove_member(n, mb);
	send_gone(m, a, n, reason);
	presence_member_gone(m, n, a, role, reason);
	broker_refresh(m, a);
	return 0;
}

static int
put_member(struct med *m, const struct member *mb)
{
	struct store_member sm = {mb->net->id, mb->acct->id, mb->role, mb->online};

	return store_member_put(m->store, &sm);
}

static int
update_net(struct med *m, const struct network *n)
{
	struct store_network sn;

	network_row(n, &sn);
	return store_network_update(m->store, &sn);
}

/* --- password jobs --- */

static void
pw_run(struct pool_job *job, struct crypto *cr)
{
	struct pwjob *p = container_of(job, struct pwjob, job);

	(void)cr;
	if (p->type == MSG_NET_JOIN)
		p->result = passwd_verify(p->pass, p->pass_len, p->hash);
	else
		p->result = passwd_hash(p->pass, p->pass_len, p->iterations, p->hash);
	wipe(p->pass, sizeof(p->pass));
}

static int create_finish(struct med *m, struct conn *c, struct pwjob *p);
static int join_finish(struct med *m, struct conn *c, struct pwjob *p);
static int pass_finish(struct med *m, struct conn *c, struct pwjob *p);

static void
pw_done(struct pool_job *job)
{
	struct pwjob *p = container_of(job, struct pwjob, job);
	struct conn *c = p->c;
	struct med *m = c->med;
	int r;

	c->jobs--;
	if (c->state == CONN_ONLINE && c->acct != NULL) {
		if ((r = p->result) == 0 && p->type == MSG_NET_CREATE)
			r = create_finish(m, c, p);
		else if (r == 0 && p->type == MSG_NET_JOIN)
			r = join_finish(m, c, p);
		else if (r == 0)
			r = pass_finish(m, c, p);
		request_result(m, c, p->tag, r, r == 0 && p->note != NULL ? p->note : "");
		conn_resume(m, c);
	}
	wipe(p, sizeof(*p));
	free(p);
}

static int
pw_submit(struct med *m, struct conn *c, const struct msg_net_req *q, uint16_t type,
	  const char *stored)
{
	struct pwjob *p = calloc(1, sizeof(*p));
	int r;

	if (p == NULL)
		return E_NOMEM;
	p->c = c;
	p->type = type;
	p->tag = q->tag;
	memcpy(p->name_buf, q->name.p, q->name.len);
	p->name.p = (const uint8_t *)p->name_buf;
	p->name.len = q->name.len;
	memcpy(p->pass, q->pass.p, q->pass.len);
	p->pass_len = q->pass.len;
	p->iterations = m->cfg.password_iterations;
	if (stored != NULL)
		snprintf(p->hash, sizeof(p->hash), "%s", stored);
	p->result = E_SHUTDOWN; /* until run() says otherwise: done() may come without run() */
	p->job.run = pw_run;
	p->job.done = pw_done;
	if ((r = pool_submit(m->pool, &p->job)) != 0) {
		free(p);
		return r;
	}
	c->jobs++;
	c->paused = true;
	return REQ_PENDING;
}

/* --- create --- */

static int
create_check(struct med *m, struct conn *c, const struct span *name)
{
	if (!valid_text(name))
		return E_INVAL;
	if (network_by_name(m, name) != NULL)
		return E_EXISTS;
	if (c->acct->n_nets >= m->cfg.networks_per_node)
		return E_NETLIMIT;
	return 0;
}

static int
net_create(struct med *m, struct conn *c, const struct msg *msg)
{
	const struct msg_net_req *q = &msg->u.net_req;
	int r;

	if ((r = create_check(m, c, &q->name)) != 0)
		return r;
	if (!valid_text(&q->pass))
		return E_INVAL;
	return pw_submit(m, c, q, MSG_NET_CREATE, NULL);
}

static int
create_finish(struct med *m, struct conn *c, struct pwjob *p)
{
	struct store_network sn;
	struct network *n;
	struct member *mb;
	int r;

	if ((r = create_check(m, c, &p->name)) != 0)
		return r;
	if ((n = network_new(m, p->name_buf, p->hash, c->acct->id)) == NULL)
		return E_NOMEM;
	n->created = m->now;
	network_row(n, &sn);
	if ((r = store_network_add(m->store, &sn)) != 0) {
		network_unlink(m, n);
		network_free(n);
		return r;
	}
	network_set_id(m, n, sn.id);
	if ((mb = network_add_member(n, c->acct, ROLE_OWNER, true)) == NULL)
		return E_NOMEM;
	if ((r = put_member(m, mb)) != 0)
		return r;
	presence_network_rows(m, mb);
	return 0;
}

/* --- join --- */

static int
join_check(struct med *m, struct conn *c, const struct span *name, struct network **out)
{
	struct member *me;
	struct network *n;
	int r;

	if ((r = find_net(m, c, name, &n, &me)) != 0)
		return r;
	if (me != NULL)
		return E_EXISTS;
	if (network_banned(n, c->acct->id))
		return E_BANNED;
	if (n->locked)
		return E_LOCKED;
	if (network_count(n, true) >= m->cfg.members_per_network)
		return E_FULL;
	if (c->acct->n_nets >= m->cfg.networks_per_node)
		return E_NETLIMIT;
	*out = n;
	return 0;
}

static int
net_join(struct med *m, struct conn *c, const struct msg *msg)
{
	const struct msg_net_req *q = &msg->u.net_req;
	struct network *n;
	int r;

	if ((r = join_check(m, c, &q->name, &n)) != 0)
		return r;
	return pw_submit(m, c, q, MSG_NET_JOIN, n->passhash);
}

static int
join_finish(struct med *m, struct conn *c, struct pwjob *p)
{
	struct network *n;
	struct member *mb;
	int r;

	if ((r = join_check(m, c, &p->name, &n)) != 0)
		return r;
	if (strcmp(n->passhash, p->hash) != 0)
		return E_PASSWORD; /* changed while we checked the old one */
	mb = network_add_member(n, c->acct, n->approval ? ROLE_PENDING : ROLE_MEMBER, true);
	if (mb == NULL)
		return E_NOMEM;
	if ((r = put_member(m, mb)) != 0)
		return r;
	if (mb->role == ROLE_PENDING) {
		p->note = "awaiting approval";
		presence_net(m, mb);
		presence_member(m, mb);
	} else {
		activate(m, mb);
	}
	return 0;
}

/* --- leave, delete --- */

static int
net_leave(struct med *m, struct conn *c, const struct msg *msg)
{
	struct network *n;
	struct member *me;
	int r;

	if ((r = find_net(m, c, &msg->u.net_req.name, &n, &me)) != 0)
		return r;
	if (me == NULL)
		return E_NOTFOUND;
	if (me->role == ROLE_OWNER)
		return E_NOTALLOWED; /* the owner deletes the network instead */
	return remove_member(m, n, me, GONE_LEFT);
}

static int
net_delete(struct med *m, struct conn *c, const struct msg *msg)
{
	struct account *former[32]; /* refreshed in batches: tunnels go after the memberships */
	struct network *n;
	struct member *me;
	int r;

	if ((r = find_net(m, c, &msg->u.net_req.name, &n, &me)) != 0)
		return r;
	if (me == NULL || me->role != ROLE_OWNER)
		return E_NOTALLOWED;
	if ((r = store_network_del(m->store, n->id)) != 0)
		return r;
	while (n->n_members > 0) {
		unsigned int k = 0;

		while (n->n_members > 0 && k < ARRAY_SIZE(former)) {
			struct member *mb = n->members[n->n_members - 1];

			former[k++] = mb->acct;
			send_gone(m, mb->acct, n, GONE_DELETED);
			network_remove_member(n, mb);
		}
		for (unsigned int i = 0; i < k; i++)
			broker_refresh(m, former[i]);
	}
	network_unlink(m, n);
	network_free(n);
	return 0;
}

/* --- password, flags --- */

static int
net_pass(struct med *m, struct conn *c, const struct msg *msg)
{
	const struct msg_net_req *q = &msg->u.net_req;
	struct network *n;
	struct member *me;
	int r;

	if ((r = find_net(m, c, &q->name, &n, &me)) != 0 || (r = need_manager(me)) != 0)
		return r;
	if (!valid_text(&q->pass))
		return E_INVAL;
	return pw_submit(m, c, q, MSG_NET_PASS, NULL);
}

static int
pass_finish(struct med *m, struct conn *c, struct pwjob *p)
{
	struct network *n;
	struct member *me;
	char *h;
	int r;

	if ((r = find_net(m, c, &p->name, &n, &me)) != 0 || (r = need_manager(me)) != 0)
		return r;
	if ((h = strdup(p->hash)) == NULL)
		return E_NOMEM;
	free(n->passhash);
	n->passhash = h;
	return update_net(m, n);
}

static int
set_online(struct med *m, struct member *me, bool on)
{
	int r;

	if (!member_active(me))
		return E_NOTALLOWED;
	me->online = on;
	if ((r = put_member(m, me)) != 0)
		return r;
	presence_net(m, me);
	presence_member(m, me);
	broker_refresh(m, me->acct);
	return 0;
}

static int
net_flag(struct med *m, struct conn *c, const struct msg *msg)
{
	const struct msg_net_flag *q = &msg->u.net_flag;
	struct network *n;
	struct member *me;
	int r;

	if ((r = find_net(m, c, &q->name, &n, &me)) != 0)
		return r;
	if (me == NULL)
		return E_NOTFOUND;
	if (q->flag == NETFLAG_ONLINE)
		return set_online(m, me, q->on != 0);
	if ((r = need_manager(me)) != 0)
		return r;
	if (q->flag == NETFLAG_LOCKED)
		n->locked = q->on != 0;
	else
		n->approval = q->on != 0;
	if ((r = update_net(m, n)) != 0)
		return r;
	presence_net_all(m, n);
	return 0;
}

/* --- member operations --- */

/* Whether the caller me may evict or ban target: not itself, never the owner, and an admin
 * never another admin. */
static int
outranks(const struct member *me, const struct member *target)
{
	if (target == NULL)
		return 0;
	if (target == me || target->role == ROLE_OWNER)
		return E_NOTALLOWED;
	if (target->role == ROLE_ADMIN && me->role != ROLE_OWNER)
		return E_NOTALLOWED;
	return 0;
}

static int
op_approve(struct med *m, struct network *n, struct member *t, bool yes)
{
	int r;

	if (t == NULL || t->role != ROLE_PENDING)
		return E_NOTFOUND;
	if (!yes)
		return remove_member(m, n, t, GONE_REJECTED);
	t->role = ROLE_MEMBER;
	if ((r = put_member(m, t)) != 0)
		return r;
	presence_net_all(m, n);
	activate(m, t);
	return 0;
}

static int
op_ban(struct med *m, struct network *n, struct member *me, struct account *ta, struct member *t)
{
	struct store_ban sb = {n->id, ta->id};
	int r;

	if (network_banned(n, ta->id))
		return E_EXISTS;
	if ((r = outranks(me, t)) != 0)
		return r;
	if (n->n_bans >= m->cfg.bans_per_network)
		return E_FULL;
	if ((r = store_ban_put(m->store, &sb)) != 0 || (r = network_add_ban(n, ta->id)) != 0)
		return r;
	if (t != NULL && (r = remove_member(m, n, t, GONE_BANNED)) != 0)
		return r;
	presence_ban(m, n, ta);
	return 0;
}

static int
op_unban(struct med *m, struct network *n, struct account *ta)
{
	int r;

	if (!network_banned(n, ta->id))
		return E_NOTFOUND;
	if ((r = store_ban_del(m->store, n->id, ta->id)) != 0)
		return r;
	network_remove_ban(n, ta->id);
	presence_member_gone(m, n, ta, ROLE_BANNED, GONE_UNBANNED);
	return 0;
}

static int
op_rank(struct med *m, struct member *me, struct member *t, bool promote)
{
	int r;

	if (me->role != ROLE_OWNER)
		return E_NOTALLOWED;
	if (t == NULL || t->role != (promote ? ROLE_MEMBER : ROLE_ADMIN))
		return E_NOTFOUND;
	t->role = promote ? ROLE_ADMIN : ROLE_MEMBER;
	if ((r = put_member(m, t)) != 0)
		return r;
	presence_member(m, t);
	presence_network_rows(m, t);
	return 0;
}

static int
net_member(struct med *m, struct conn *c, const struct msg *msg)
{
	const struct msg_net_member *q = &msg->u.net_member;
	struct account *ta;
	struct network *n;
	struct member *me, *t;
	int r;

	if ((r = find_net(m, c, &q->name, &n, &me)) != 0 || (r = need_manager(me)) != 0)
		return r;
	if ((ta = account_by_id(m, q->member)) == NULL)
		return E_NOTFOUND;
	t = network_member(n, ta);
	switch (q->op) {
	case MEMBER_APPROVE:
		return op_approve(m, n, t, true);
	case MEMBER_REJECT:
		return op_approve(m, n, t, false);
	case MEMBER_EVICT:
		if (t == NULL || !member_active(t))
			return E_NOTFOUND;
		if ((r = outranks(me, t)) != 0)
			return r;
		return remove_member(m, n, t, GONE_EVICTED);
	case MEMBER_BAN:
		return op_ban(m, n, me, ta, t);
	case MEMBER_UNBAN:
		return op_unban(m, n, ta);
	case MEMBER_PROMOTE:
		return op_rank(m, me, t, true);
	default:
		return op_rank(m, me, t, false);
	}
}

/* --- texts --- */

static int
set_welcome(struct med *m, struct network *n, const struct span *text)
{
	char *w = malloc(text->len + 1);

	if (w == NULL)
		return E_NOMEM;
	memcpy(w, text->p, text->len);
	w[text->len] = '\0';
	free(n->welcome);
	n->welcome = w;
	return update_net(m, n);
}

static int
announce(struct med *m, struct network *n, struct account *from, const struct span *text)
{
	int r;

	for (unsigned int i = 0; i < n->n_members; i++) {
		struct member *y = n->members[i];

		if (y->acct != from && member_active(y) &&
		    (r = inbox_store(m, y->acct, TEXT_ANNOUNCE, from, n->name, text)) != 0)
			return r;
	}
	return 0;
}

static void
chat(struct med *m, struct network *n, struct account *from, const struct span *text)
{
	for (unsigned int i = 0; i < n->n_members; i++) {
		struct member *y = n->members[i];

		if (y->acct != from && member_active(y) && y->online)
			inbox_push(m, y->acct, 0, TEXT_CHAT, from, n->name, text, m->now);
	}
}

static int
net_text(struct med *m, struct conn *c, const struct msg *msg)
{
	const struct msg_net_text *q = &msg->u.net_text;
	struct network *n;
	struct member *me;
	int r;

	if ((r = find_net(m, c, &q->name, &n, &me)) != 0)
		return r;
	if (q->text.len > m->cfg.text_max)
		return E_TOOBIG;
	if (q->kind == NETTEXT_CHAT) {
		if (me == NULL || !member_active(me))
			return E_NOTALLOWED;
		if (q->text.len == 0)
			return E_INVAL;
		chat(m, n, c->acct, &q->text);
		return 0;
	}
	if ((r = need_manager(me)) != 0)
		return r;
	if (q->kind == NETTEXT_WELCOME)
		return set_welcome(m, n, &q->text);
	if (q->text.len == 0)
		return E_INVAL;
	return announce(m, n, c->acct, &q->text);
}

/* The handler of a network request type, or NULL. */
req_fn
netreq_handler(uint16_t type)
{
	switch (type) {
	case MSG_NET_CREATE:
		return net_create;
	case MSG_NET_JOIN:
		return net_join;
	case MSG_NET_LEAVE:
		return net_leave;
	case MSG_NET_DELETE:
		return net_delete;
	case MSG_NET_PASS:
		return net_pass;
	case MSG_NET_FLAG:
		return net_flag;
	case MSG_NET_MEMBER:
		return net_member;
	case MSG_NET_TEXT:
		return net_text;
	default:
		return NULL;
	}
}
