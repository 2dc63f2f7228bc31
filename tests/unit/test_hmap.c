/* SPDX-License-Identifier: MIT */
/* The mediator's hash map against a dumb model (an array), and SipHash-2-4 against the
 * reference vectors of Aumasson and Bernstein's paper (key 00..0f, messages 00, 00 01, ...). */
#include <stdbool.h>
#include <stdlib.h>

#include "mediator/hmap.h"
#include "test.h"

TEST_DEFINE_STATE;

struct item {
	struct hmap_node node;
	uint32_t key;
	bool in;
};

static struct item *
find(struct hmap *h, uint32_t key)
{
	uint64_t hash = hmap_mix64(key);

	for (struct hmap_node *n = hmap_first(h, hash); n != NULL; n = hmap_next(n, hash))
		if (((struct item *)n)->key == key)
			return (struct item *)n;
	return NULL;
}

static void
count(struct hmap_node *n, void *arg)
{
	(void)n;
	(*(size_t *)arg)++;
}

/* Random inserts and removes of 5000 keys through several growths; every lookup agrees with
 * the model. */
static void
test_model(void)
{
	enum { N = 5000 };
	static struct item items[N];
	struct hmap h;
	size_t in = 0, seen = 0;
	bool ok = true;

	TEST_START("hmap agrees with a model through growth and removal");
	ASSERT_INT_EQ(hmap_init(&h), 0);
	srand(7);
	for (int i = 0; i < N; i++)
		items[i].key = (uint32_t)i * 2654435761u; /* odd multiplier: distinct keys */
	for (int step = 0; step < 40000; step++) {
		struct item *it = &items[rand() % N];

		if (it->in) {
			hmap_remove(&h, &it->node);
			in--;
		} else {
			hmap_insert(&h, &it->node, hmap_mix64(it->key));
			in++;
		}
		it->in = !it->in;
	}
	for (int i = 0; i < N; i++)
		if ((find(&h, items[i].key) != NULL) != items[i].in)
			ok = false;
	hmap_each(&h, count, &seen);
	ASSERT_TRUE(ok);
	ASSERT_INT_EQ(h.n, in);
	ASSERT_INT_EQ(seen, in);
	ASSERT_TRUE(h.nb >= h.n);
	hmap_fini(&h);
	TEST_DONE();
}

static void
test_siphash(void)
{
	const uint64_t k[2] = {0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL};
	uint8_t msg[16];

	TEST_START("SipHash-2-4 reference vectors");
	for (int i = 0; i < 16; i++)
		msg[i] = (uint8_t)i;
	/* vectors[0], [8] and [15] of the reference implementation, read little-endian */
	ASSERT_TRUE(hmap_siphash(k, msg, 0) == 0x726fdb47dd0e0e31ULL);
	ASSERT_TRUE(hmap_siphash(k, msg, 8) == 0x93f5f5799a932462ULL);
	ASSERT_TRUE(hmap_siphash(k, msg, 15) == 0xa129ca6149be45e5ULL);
	TEST_DONE();
}

int
main(void)
{
	test_model();
	test_siphash();
	return test_finish();
}
