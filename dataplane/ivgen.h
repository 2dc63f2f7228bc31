/* SPDX-License-Identifier: MIT */
/*
 * Per-lcore CBC IV generator: an AES-128-CTR keystream under a key drawn from crypto_random().
 * A RAND_bytes() call per IV costs ~1900 cycles (dpdk-notes.md section 8), more than the crypto
 * of a 64-byte packet; the keystream costs a few cycles per IV and is just as unpredictable to
 * anyone without the key. The key is replaced every IVGEN_REKEY IVs, long before a 128-bit
 * counter could wrap, so no IV repeats under one key. Not thread-safe: one per lcore.
 */
#ifndef BURI_IVGEN_H
#define BURI_IVGEN_H

#include <stdint.h>
#include <string.h>

#include "common/err.h"
#include "common/util.h"
#include "common/wire.h"

enum {
	IVGEN_BATCH = 64, /* IVs produced per keystream call */
};

#define IVGEN_REKEY (UINT64_C(1) << 32) /* IVs per key */

struct ivgen {
	void *cipher;  /* EVP_CIPHER_CTX, kept opaque so callers need no OpenSSL headers */
	uint64_t used; /* IVs taken under the current key */
	unsigned pos;  /* next unused IV in buf */
	uint8_t buf[IVGEN_BATCH * WIRE_IV_LEN];
};

/* Keys g from crypto_random(); E_CRYPTO or E_NOMEM on failure (g then needs no ivgen_free). */
int ivgen_init(struct ivgen *g) WARN_UNUSED;
/* Frees and wipes g; a zeroed or failed g is fine. */
void ivgen_free(struct ivgen *g);
/* Refills g's batch (and rekeys when due); ivgen_next's slow path. */
int ivgen_refill(struct ivgen *g) WARN_UNUSED;

/* The next IV; E_CRYPTO only if a rekey or refill fails. Inline: one per sealed packet. */
static inline int WARN_UNUSED
ivgen_next(struct ivgen *g, uint8_t iv[WIRE_IV_LEN])
{
	if (__builtin_expect(g->pos == IVGEN_BATCH, 0) && ivgen_refill(g) != 0)
		return E_CRYPTO;
	memcpy(iv, g->buf + g->pos * WIRE_IV_LEN, WIRE_IV_LEN);
	g->pos++;
	g->used++;
	return 0;
}

#endif
