/* SPDX-License-Identifier: MIT */
/* Per-address BIND rate (srclimit.h). */
#include "relay/srclimit.h"

#include <stdlib.h>

#include "common/crypto.h"
#include "mediator/hmap.h"
#include "relay/bucket.h"

struct src {
	struct hmap_node node;
	uint32_t addr;
	struct bucket b;
};

struct srclimit {
	struct hmap map;
	uint64_t key[2]; /* SipHash key: addresses are the sender's choice */
	unsigned rate, burst;
	size_t max;
};

struct srclimit *
srclimit_new(unsigned rate, unsigned burst, size_t max_entries)
{
	struct srclimit *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	if (hmap_init(&s->map) != 0 || crypto_random(s->key, sizeof(s->key)) != 0) {
		hmap_fini(&s->map);
		free(s);
		return NULL;
	}
	s->rate = rate;
	s->burst = burst;
	s->max = max_entries;
	return s;
}

static void
free_one(struct hmap_node *n, void *arg)
{
	(void)arg;
	free(container_of(n, struct src, node));
}

void
srclimit_free(struct srclimit *s)
{
	if (s == NULL)
		return;
	hmap_each(&s->map, free_one, NULL);
	hmap_fini(&s->map);
	free(s);
}

static struct src *
find(const struct srclimit *s, uint32_t addr, uint64_t h)
{
	struct hmap_node *n;

	for (n = hmap_first(&s->map, h); n != NULL; n = hmap_next(n, h))
		if (container_of(n, struct src, node)->addr == addr)
			return container_of(n, struct src, node);
	return NULL;
}

bool
srclimit_take(struct srclimit *s, uint32_t addr, uint64_t now_ms)
{
	uint64_t h = hmap_siphash(s->key, &addr, sizeof(addr));
	struct src *e = find(s, addr, h);

	if (e == NULL) {
		if (s->map.n >= s->max || (e = calloc(1, sizeof(*e))) == NULL)
			return false;
		e->addr = addr;
		bucket_init(&e->b, s->burst, now_ms);
		hmap_insert(&s->map, &e->node, h);
	}
	return bucket_take(&e->b, s->rate, s->burst, 1, now_ms);
}

struct expire_arg {
	struct srclimit *s;
	uint64_t now_ms;
};

static void
expire_one(struct hmap_node *n, void *arg)
{
	struct expire_arg *x = arg;
	struct src *e = container_of(n, struct src, node);

	if (bucket_idle(&e->b, x->s->rate, x->s->burst, x->now_ms)) {
		hmap_remove(&x->s->map, n);
		free(e);
	}
}

void
srclimit_expire(struct srclimit *s, uint64_t now_ms)
{
	struct expire_arg x = {s, now_ms};

	hmap_each(&s->map, expire_one, &x);
}

size_t
srclimit_count(const struct srclimit *s)
{
	return s->map.n;
}
