/* SPDX-License-Identifier: MIT */
/* The node's view of its networks (netview.h). */
#include "control/netview.h"

#include <stdlib.h>
#include <string.h>

#include "common/err.h"

static void
span_str(const struct span *s, char *out, size_t cap)
{
	size_t n = s->len < cap - 1 ? s->len : cap - 1;

	memcpy(out, s->p, n);
	out[n] = '\0';
}

static bool
span_is(const struct span *s, const char *str)
{
	return s->len == strlen(str) && memcmp(s->p, str, s->len) == 0;
}

void
netview_init(struct netview *nv)
{
	memset(nv, 0, sizeof(*nv));
}

void
netview_reset(struct netview *nv)
{
	for (unsigned i = 0; i < nv->n; i++)
		free(nv->nets[i].m);
	nv->n = 0;
}

void
netview_free(struct netview *nv)
{
	netview_reset(nv);
	free(nv->nets);
	nv->nets = NULL;
	nv->cap = 0;
}

static struct nv_net *
find(struct netview *nv, const struct span *name)
{
	for (unsigned i = 0; i < nv->n; i++)
		if (span_is(name, nv->nets[i].name))
			return &nv->nets[i];
	return NULL;
}

static struct nv_net *
get(struct netview *nv, const struct span *name)
{
	struct nv_net *n = find(nv, name);

	if (n != NULL)
		return n;
	if (nv->n == nv->cap) {
		unsigned cap = nv->cap ? 2 * nv->cap : 8;
		struct nv_net *p = realloc(nv->nets, cap * sizeof(*p));

		if (p == NULL)
			return NULL;
		nv->nets = p;
		nv->cap = cap;
	}
	n = &nv->nets[nv->n++];
	memset(n, 0, sizeof(*n));
	span_str(name, n->name, sizeof(n->name));
	return n;
}

static void
net_gone(struct netview *nv, const struct span *name)
{
	struct nv_net *n = find(nv, name);

	if (n == NULL)
		return;
	free(n->m);
	*n = nv->nets[--nv->n];
}

static struct nv_member *
member(struct nv_net *n, uint32_t id, bool add)
{
	for (unsigned i = 0; i < n->n; i++)
		if (n->m[i].id == id)
			return &n->m[i];
	if (!add)
		return NULL;
	if (n->n == n->cap) {
		unsigned cap = n->cap ? 2 * n->cap : 8;
		struct nv_member *p = realloc(n->m, cap * sizeof(*p));

		if (p == NULL)
			return NULL;
		n->m = p;
		n->cap = cap;
	}
	memset(&n->m[n->n], 0, sizeof(n->m[0]));
	n->m[n->n].id = id;
	return &n->m[n->n++];
}

static bool
on_member(struct netview *nv, const struct msg_member *mm)
{
	struct nv_net *n = get(nv, &mm->name);
	struct nv_member *m = n != NULL ? member(n, mm->identity, true) : NULL;

	if (m == NULL)
		return false;
	span_str(&mm->nick, m->nick, sizeof(m->nick));
	m->role = mm->role;
	m->online = mm->online != 0;
	return true;
}

static bool
on_member_gone(struct netview *nv, const struct msg_member_gone *g)
{
	struct nv_net *n = find(nv, &g->name);
	struct nv_member *m = n != NULL ? member(n, g->identity, false) : NULL;

	if (m == NULL)
		return false;
	*m = n->m[--n->n];
	return true;
}

static bool
on_text(struct netview *nv, const struct msg_text *t)
{
	struct nv_text *x = &nv->texts[(nv->head + nv->ntexts) % NETVIEW_TEXTS];

	if (nv->ntexts == NETVIEW_TEXTS) { /* full: the oldest goes */
		x = &nv->texts[nv->head];
		nv->head = (nv->head + 1) % NETVIEW_TEXTS;
	} else {
		nv->ntexts++;
	}
	x->id = t->id;
	x->time = t->time;
	x->kind = t->kind;
	x->from = t->from;
	span_str(&t->net, x->net, sizeof(x->net));
	span_str(&t->nick, x->nick, sizeof(x->nick));
	span_str(&t->text, x->text, sizeof(x->text));
	if (t->id > nv->max_text_id)
		nv->max_text_id = t->id;
	return true;
}

bool
netview_on_msg(struct netview *nv, const struct msg *m)
{
	struct nv_net *n;

	switch (m->type) {
	case MSG_NET:
		if ((n = get(nv, &m->u.net.name)) == NULL)
			return false;
		n->role = m->u.net.role;
		n->flags = m->u.net.flags;
		n->members = m->u.net.members;
		return true;
	case MSG_NET_GONE:
		net_gone(nv, &m->u.net_gone.name);
		return true;
	case MSG_MEMBER:
		return on_member(nv, &m->u.member);
	case MSG_MEMBER_GONE:
		return on_member_gone(nv, &m->u.member_gone);
	case MSG_TEXT:
		return on_text(nv, &m->u.text);
	default:
		return false;
	}
}

const struct nv_net *
netview_net(const struct netview *nv, const char *name)
{
	for (unsigned i = 0; i < nv->n; i++)
		if (strcmp(nv->nets[i].name, name) == 0)
			return &nv->nets[i];
	return NULL;
}

const char *
netview_nick(const struct netview *nv, uint32_t id)
{
	for (unsigned i = 0; i < nv->n; i++)
		for (unsigned j = 0; j < nv->nets[i].n; j++)
			if (nv->nets[i].m[j].id == id)
				return nv->nets[i].m[j].nick;
	return NULL;
}

int
netview_by_nick(const struct netview *nv, const char *nick, uint32_t *id)
{
	uint32_t found = 0;

	for (unsigned i = 0; i < nv->n; i++)
		for (unsigned j = 0; j < nv->nets[i].n; j++) {
			const struct nv_member *m = &nv->nets[i].m[j];

			if (strcmp(m->nick, nick) != 0)
				continue;
			if (found != 0 && found != m->id)
				return E_EXISTS;
			found = m->id;
		}
	if (found == 0)
		return E_NOTFOUND;
	*id = found;
	return 0;
}
