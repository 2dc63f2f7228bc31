/* SPDX-License-Identifier: MIT */
/*
 * A free hook for the SA table in tests (sa_table_test_set_free_hook(t, free_hook, NULL)):
 * every SA the table frees is checked for wiped keys, filled with POISON and kept, unfreed,
 * among the last QUARANTINE freed, so that a reader that still used it would see the poison
 * instead of reused memory. quarantine_drain() frees them at the end. The includer defines
 * POISON and QUARANTINE.
 */
#ifndef BURI_TEST_QUARANTINE_H
#define BURI_TEST_QUARANTINE_H

#include <stdint.h>
#include <string.h>

#include <rte_malloc.h>

static struct sa *quarantine[QUARANTINE];
static uint64_t n_hooked, n_wiped_ok;

static void
free_hook(void *arg, struct sa *sa)
{
	static const struct cb_sa_keys zero;
	struct sa **slot = &quarantine[n_hooked % QUARANTINE];

	(void)arg;
	if (memcmp(&sa->keys_in, &zero, sizeof(zero)) == 0 &&
	    memcmp(&sa->keys_out, &zero, sizeof(zero)) == 0)
		n_wiped_ok++;
	memset(sa, POISON, sizeof(*sa));
	rte_free(*slot);
	*slot = sa;
	n_hooked++;
}

static void
quarantine_drain(void)
{
	for (unsigned i = 0; i < QUARANTINE; i++) {
		rte_free(quarantine[i]);
		quarantine[i] = NULL;
	}
}

#endif
