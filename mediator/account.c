/* SPDX-License-Identifier: MIT */
/*
 * Accounts: a node's public key, its overlay address (its identity, bound to the key for the
 * life of the account) and its nickname. Addresses come from the configured prefix, never its
 * network or broadcast address.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/pubkey.h"
#include "mediator/med.h"
#include "mediator/store.h"

static uint64_t
kfp_hash(const uint8_t kfp[WIRE_KFP_LEN])
{
	uint64_t h;

	memcpy(&h, kfp, sizeof(h)); /* already a SHA-1 output: uniform */
	return h;
}

struct account *
account_by_id(struct med *m, uint32_t id)
{
	uint64_t h = hmap_mix64(id);
	struct hmap_node *n;

	for (n = hmap_first(&m->accounts_by_id, h); n != NULL; n = hmap_next(n, h)) {
		struct account *a = container_of(n, struct account, by_id);

		if (a->id == id)
			return a;
	}
	return NULL;
}

struct account *
account_by_kfp(struct med *m, const uint8_t kfp[WIRE_KFP_LEN])
{
	uint64_t h = kfp_hash(kfp);
	struct hmap_node *n;

	for (n = hmap_first(&m->accounts_by_kfp, h); n != NULL; n = hmap_next(n, h)) {
		struct account *a = container_of(n, struct account, by_kfp);

		if (memcmp(a->kfp, kfp, WIRE_KFP_LEN) == 0)
			return a;
	}
	return NULL;
}

bool
account_online(const struct account *a)
{
	return a->conn != NULL && a->conn->state == CONN_ONLINE;
}

static void
set_nick(struct account *a, const uint8_t *p, size_t len)
{
	len = MIN(len, WIRE_NICK_MAX);
	memcpy(a->nick, p, len);
	a->nick[len] = '\0';
}

/* Takes ownership of key. */
static struct account *
account_new(struct med *m, uint32_t id, struct pubkey *key, const uint8_t *der, size_t der_len)
{
	struct account *a = calloc(1, sizeof(*a));

	if (a == NULL || (a->der = malloc(der_len)) == NULL ||
	    pubkey_fingerprint(key, a->kfp) != 0) {
		if (a != NULL)
			free(a->der);
		free(a);
		pubkey_free(key);
		return NULL;
	}
	a->id = id;
	a->key = key;
	memcpy(a->der, der, der_len);
	a->der_len = der_len;
	list_init(&a->members);
	list_init(&a->tunnels);
	hmap_insert(&m->accounts_by_id, &a->by_id, hmap_mix64(id));
	hmap_insert(&m->accounts_by_kfp, &a->by_kfp, kfp_hash(a->kfp));
	return a;
}

int
account_load(struct med *m, const struct store_account *sa)
{
	struct pubkey *key = pubkey_from_der(sa->der, sa->der_len);
	struct account *a;

	if (key == NULL)
		return E_KEY;
	if ((a = account_new(m, sa->id, key, sa->der, sa->der_len)) == NULL)
		return E_NOMEM;
	set_nick(a, (const uint8_t *)sa->nick, strlen(sa->nick));
	a->dropped = sa->dropped;
	return 0;
}

/* The next free address of the prefix, or 0 when it is full. */
static uint32_t
next_address(struct med *m)
{
	uint32_t hosts = (1u << (32 - m->cfg.prefix_len)) - 2;

	for (uint32_t i = 0; i < hosts; i++) {
		uint32_t h = 1 + (m->next_addr + i) % hosts;
		uint32_t id = m->cfg.prefix | h;

		if (account_by_id(m, id) == NULL) {
			m->next_addr = h;
			return id;
		}
	}
	return 0;
}

static void
default_nick(struct account *a)
{
	snprintf(a->nick, sizeof(a->nick), "node-%u-%u-%u", (a->id >> 16) & 255, (a->id >> 8) & 255,
		 a->id & 255);
}

/* Takes ownership of key (freed on failure). */
int
account_create(struct med *m, struct pubkey *key, const struct span *nick, struct account **out)
{
	uint8_t der[WIRE_PUBKEY_MAX];
	struct store_account sa = {0};
	struct account *a;
	uint32_t id;
	size_t len;
	int r;

	*out = NULL;
	if ((r = pubkey_to_der(key, der, sizeof(der), &len)) != 0 || (id = next_address(m)) == 0) {
		pubkey_free(key);
		return r != 0 ? r : E_FULL;
	}
	if ((a = account_new(m, id, key, der, len)) == NULL)
		return E_NOMEM;
	if (nick->len > 0)
		set_nick(a, nick->p, nick->len);
	else
		default_nick(a);
	sa.id = id;
	sa.der = der;
	sa.der_len = len;
	sa.nick = a->nick;
	sa.created = m->now;
	if ((r = store_account_add(m->store, &sa)) != 0) {
		hmap_remove(&m->accounts_by_id, &a->by_id);
		hmap_remove(&m->accounts_by_kfp, &a->by_kfp);
		account_free(a);
		return r;
	}
	*out = a;
	return 0;
}

int
account_set_nick(struct med *m, struct account *a, const struct span *nick)
{
	char old[sizeof(a->nick)];
	int r;

	if (nick->len == 0)
		return E_INVAL;
	memcpy(old, a->nick, sizeof(old));
	set_nick(a, nick->p, nick->len);
	if ((r = store_account_nick(m->store, a->id, a->nick)) != 0)
		memcpy(a->nick, old, sizeof(old));
	return r;
}

void
account_free(struct account *a)
{
	if (a == NULL)
		return;
	pubkey_free(a->key);
	free(a->der);
	free(a);
}
