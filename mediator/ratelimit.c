/* SPDX-License-Identifier: MIT */
/*
 * Per-address handshake limits: a token bucket of handshakes (limits.handshakes_per_second,
 * burst limits.handshake_burst) and the count of half-open sessions, keyed by IPv4 address.
 * A flood of HELOs from one address is refused cheaply, before any public-key work, while
 * other addresses are served. Idle entries are dropped once a second so the table stays small.
 */
#include <stdlib.h>

#include "common/err.h"
#include "mediator/med.h"

struct rl_entry {
	struct hmap_node node;
	uint32_t addr;
	double tokens;
	time_t last;
	unsigned int half_open;
};

struct ratelimit {
	struct hmap map;
	uint64_t key[2];
	double rate, burst;
	size_t max_entries;
};

struct ratelimit *
ratelimit_new(unsigned int rate, unsigned int burst)
{
	struct ratelimit *r = calloc(1, sizeof(*r));

	if (r == NULL || hmap_init(&r->map) != 0) {
		free(r);
		return NULL;
	}
	r->rate = rate;
	r->burst = burst;
	r->max_entries = 1u << 20;
	arc4random_buf(r->key, sizeof(r->key));
	return r;
}

static void
free_entry(struct hmap_node *n, void *arg)
{
	(void)arg;
	free(container_of(n, struct rl_entry, node));
}

void
ratelimit_free(struct ratelimit *r)
{
	if (r == NULL)
		return;
	hmap_each(&r->map, free_entry, NULL);
	hmap_fini(&r->map);
	free(r);
}

static struct rl_entry *
lookup(struct ratelimit *r, uint32_t addr, bool create, time_t now)
{
	uint64_t h = hmap_siphash(r->key, &addr, sizeof(addr));
	struct hmap_node *n;
	struct rl_entry *e;

	for (n = hmap_first(&r->map, h); n != NULL; n = hmap_next(n, h))
		if (container_of(n, struct rl_entry, node)->addr == addr)
			return container_of(n, struct rl_entry, node);
	if (!create || r->map.n >= r->max_entries || (e = calloc(1, sizeof(*e))) == NULL)
		return NULL;
	e->addr = addr;
	e->tokens = r->burst;
	e->last = now;
	hmap_insert(&r->map, &e->node, h);
	return e;
}

bool
ratelimit_take(struct ratelimit *r, uint32_t addr, time_t now)
{
	struct rl_entry *e = lookup(r, addr, true, now);

	if (e == NULL)
		return false;
	e->tokens = MIN(r->burst, e->tokens + (double)(now - e->last) * r->rate);
	e->last = now;
	if (e->tokens < 1.0)
		return false;
	e->tokens -= 1.0;
	return true;
}

unsigned int *
ratelimit_half_open(struct ratelimit *r, uint32_t addr)
{
	struct rl_entry *e = lookup(r, addr, true, time(NULL));

	return e != NULL ? &e->half_open : NULL;
}

struct expire_arg {
	struct ratelimit *r;
	time_t now;
};

static void
expire_one(struct hmap_node *n, void *arg)
{
	struct expire_arg *x = arg;
	struct rl_entry *e = container_of(n, struct rl_entry, node);

	if (e->half_open == 0 && (double)(x->now - e->last) * x->r->rate >= x->r->burst) {
		hmap_remove(&x->r->map, n);
		free(e);
	}
}

void
ratelimit_expire(struct ratelimit *r, time_t now)
{
	struct expire_arg x = {r, now};

	hmap_each(&r->map, expire_one, &x);
}
