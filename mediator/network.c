/* SPDX-License-Identifier: MIT */
/*
 * Networks and memberships in memory, loaded from the store at start and changed by
 * requests (netreq.c). A network keeps its members (active and pending) in join order and
 * its ban list; each member is also linked into its account's list.
 */
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "mediator/med.h"
#include "mediator/store.h"

static uint64_t
name_hash(const struct med *m, const void *p, size_t len)
{
	return hmap_siphash(m->hash_key, p, len);
}

struct network *
network_by_name(struct med *m, const struct span *name)
{
	uint64_t h = name_hash(m, name->p, name->len);
	struct hmap_node *n;

	for (n = hmap_first(&m->networks, h); n != NULL; n = hmap_next(n, h)) {
		struct network *net = container_of(n, struct network, by_name);

		if (strlen(net->name) == name->len && memcmp(net->name, name->p, name->len) == 0)
			return net;
	}
	return NULL;
}

struct network *
network_by_id(struct med *m, uint64_t id)
{
	uint64_t h = hmap_mix64(id);
	struct hmap_node *n;

	for (n = hmap_first(&m->networks_by_id, h); n != NULL; n = hmap_next(n, h)) {
		struct network *net = container_of(n, struct network, by_id);

		if (net->id == id)
			return net;
	}
	return NULL;
}

/* Once the store assigned the id. */
void
network_set_id(struct med *m, struct network *n, uint64_t id)
{
	n->id = id;
	hmap_insert(&m->networks_by_id, &n->by_id, hmap_mix64(id));
}

struct member *
network_member(const struct network *n, const struct account *a)
{
	for (unsigned int i = 0; i < n->n_members; i++)
		if (n->members[i]->acct == a)
			return n->members[i];
	return NULL;
}

bool
network_banned(const struct network *n, uint32_t id)
{
	for (unsigned int i = 0; i < n->n_bans; i++)
		if (n->bans[i] == id)
			return true;
	return false;
}

unsigned int
network_count(const struct network *n, bool pending_too)
{
	unsigned int k = 0;

	for (unsigned int i = 0; i < n->n_members; i++)
		if (pending_too || member_active(n->members[i]))
			k++;
	return k;
}

static int
grow(void **arr, unsigned int *cap, unsigned int n, size_t size)
{
	unsigned int ncap;
	void *p;

	if (n < *cap)
		return 0;
	ncap = *cap == 0 ? 8 : *cap * 2;
	if ((p = realloc(*arr, (size_t)ncap * size)) == NULL)
		return E_NOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

struct network *
network_new(struct med *m, const char *name, const char *passhash, uint32_t owner)
{
	struct network *n = calloc(1, sizeof(*n));
	size_t len = strlen(name);

	if (n == NULL || len > MSG_NAME_MAX || (n->passhash = strdup(passhash)) == NULL ||
	    (n->welcome = strdup("")) == NULL) {
		network_free(n);
		return NULL;
	}
	memcpy(n->name, name, len + 1);
	n->owner = owner;
	hmap_insert(&m->networks, &n->by_name, name_hash(m, name, len));
	return n;
}

/* Unlinks n from the maps; its members must be gone already. */
void
network_unlink(struct med *m, struct network *n)
{
	hmap_remove(&m->networks, &n->by_name);
	if (n->id != 0)
		hmap_remove(&m->networks_by_id, &n->by_id);
}

void
network_free(struct network *n)
{
	if (n == NULL)
		return;
	free(n->passhash);
	free(n->welcome);
	free(n->members);
	free(n->bans);
	free(n);
}

struct member *
network_add_member(struct network *n, struct account *a, uint8_t role, bool online)
{
	struct member *mb;

	if (grow((void **)&n->members, &n->cap_members, n->n_members, sizeof(*n->members)) != 0 ||
	    (mb = calloc(1, sizeof(*mb))) == NULL)
		return NULL;
	mb->net = n;
	mb->acct = a;
	mb->role = role;
	mb->online = online;
	n->members[n->n_members++] = mb;
	list_add_tail(&a->members, &mb->acct_link);
	a->n_nets++;
	return mb;
}

void
network_remove_member(struct network *n, struct member *mb)
{
	for (unsigned int i = 0; i < n->n_members; i++) {
		if (n->members[i] != mb)
			continue;
		memmove(&n->members[i], &n->members[i + 1],
			(n->n_members - i - 1) * sizeof(*n->members));
		n->n_members--;
		break;
	}
	list_del(&mb->acct_link);
	mb->acct->n_nets--;
	free(mb);
}

int
network_add_ban(struct network *n, uint32_t id)
{
	if (grow((void **)&n->bans, &n->cap_bans, n->n_bans, sizeof(*n->bans)) != 0)
		return E_NOMEM;
	n->bans[n->n_bans++] = id;
	return 0;
}

void
network_remove_ban(struct network *n, uint32_t id)
{
	for (unsigned int i = 0; i < n->n_bans; i++) {
		if (n->bans[i] == id) {
			n->bans[i] = n->bans[--n->n_bans];
			return;
		}
	}
}

/* The network's row as the store wants it. */
void
network_row(const struct network *n, struct store_network *sn)
{
	memset(sn, 0, sizeof(*sn));
	sn->id = n->id;
	sn->name = n->name;
	sn->passhash = n->passhash;
	sn->owner = n->owner;
	sn->locked = n->locked;
	sn->approval = n->approval;
	sn->welcome = n->welcome;
	sn->created = n->created;
}

int
network_load(struct med *m, const struct store_network *sn)
{
	struct network *n = network_new(m, sn->name, sn->passhash, sn->owner);
	char *w;

	if (n == NULL || (w = strdup(sn->welcome)) == NULL)
		return E_NOMEM;
	free(n->welcome);
	n->welcome = w;
	network_set_id(m, n, sn->id);
	n->locked = sn->locked;
	n->approval = sn->approval;
	n->created = sn->created;
	return 0;
}

int
network_load_member(struct med *m, const struct store_member *sm)
{
	struct network *n = network_by_id(m, sm->net);
	struct account *a = account_by_id(m, sm->node);

	if (n == NULL || a == NULL)
		return E_NOTFOUND;
	return network_add_member(n, a, sm->role, sm->online) != NULL ? 0 : E_NOMEM;
}

int
network_load_ban(struct med *m, const struct store_ban *sb)
{
	struct network *n = network_by_id(m, sb->net);

	return n == NULL ? E_NOTFOUND : network_add_ban(n, sb->node);
}
