/* SPDX-License-Identifier: MIT */
/*
 * Per-lcore batched seal/open of tunnel data packets (docs/PROTOCOL.md section 6, UDP framing),
 * byte-identical to common/pkt.c. One API, two backends chosen when the context is made, never
 * per packet: the intel-ipsec-mb job API (multi-buffer, the fast path) and OpenSSL EVP through
 * common/crypto.h (fallback and test oracle).
 *
 * Packets are processed in place in caller buffers; nothing is allocated per packet. Replay
 * checking is the caller's: peek the header, check the window, open, then advance the window.
 * A context is not thread-safe: one per lcore.
 */
#ifndef BURI_CRYPTO_BATCH_H
#define BURI_CRYPTO_BATCH_H

#include <stdint.h>

#include "common/keymat.h"
#include "common/util.h"
#include "common/wire.h"

enum cb_backend {
	CB_BACKEND_AUTO,    /* intel-ipsec-mb if it initialises, else OpenSSL */
	CB_BACKEND_IPSECMB, /* intel-ipsec-mb only */
	CB_BACKEND_OPENSSL, /* OpenSSL only */
};

enum {
	CB_BURST_MAX = 64,  /* packets per cb_*_burst() call */
	CB_AES_SCHED = 240, /* bytes: AES-256 expanded key, 15 round keys */
	CB_SHA1_STATE = 32, /* bytes: a SHA-1 state of 20, rounded for alignment */
	CB_INFLIGHT = 256,  /* packets the async seal holds, submitted and not yet dequeued */
};

/* One SA direction's keys, expanded once at SA setup (cb_keys_init), wiped by cb_keys_wipe. */
struct cb_sa_keys {
	uint8_t enc[CB_AES_SCHED] __attribute__((aligned(16)));
	uint8_t dec[CB_AES_SCHED] __attribute__((aligned(16)));
	uint8_t ipad[CB_SHA1_STATE] __attribute__((aligned(16))); /* SHA-1(Ka ^ ipad) state */
	uint8_t opad[CB_SHA1_STATE] __attribute__((aligned(16))); /* SHA-1(Ka ^ opad) state */
	struct dirkey dk; /* raw keys, for the OpenSSL backend */
};

/*
 * One packet of a burst. Seal: buf[0..len) holds W0 (SPI) | MsgID | payload, cap bytes are
 * writable, and on success len becomes the sealed length. Open: buf[0..len) holds a sealed
 * packet; on success the payload is at buf + WIRE_HDR_LEN and len becomes WIRE_HDR_LEN + its
 * length, the shape a seal takes. status is 0 or a negative E_* code; on failure len is kept
 * (except after E_CRYPTO from an ipsec-mb seal job, where it is the sealed length) and the
 * bytes after the header are unspecified (never plaintext after E_PADDING).
 */
struct cb_pkt {
	uint8_t *buf;
	uint32_t len;
	uint32_t cap;
	const struct cb_sa_keys *keys; /* borrowed for the call, or until dequeued (async) */
	int status;
	void *user;   /* the caller's, carried through unchanged (the async API returns it) */
	uint32_t tag; /* the caller's too (encap: the port role the sealed frame leaves by) */
};

struct cb_ctx;

/* Supplies the IV of the i-th packet of a burst instead of the generator; tests only. */
typedef void cb_iv_hook_fn(void *arg, unsigned i, uint8_t iv[WIRE_IV_LEN]);

/* A context for one lcore with the requested backend, or NULL. */
struct cb_ctx *cb_ctx_new(enum cb_backend want);
/* Frees and wipes ctx (NULL is fine). */
void cb_ctx_free(struct cb_ctx *ctx);
/* CB_BACKEND_IPSECMB or CB_BACKEND_OPENSSL. */
enum cb_backend cb_ctx_backend(const struct cb_ctx *ctx);
/* "intel-ipsec-mb 1.3.0 AVX512" or "OpenSSL ..."; static string. */
const char *cb_ctx_describe(const struct cb_ctx *ctx);

/* Expands k for ctx's backend (keys made by one context work with any of the same backend). */
int cb_keys_init(struct cb_ctx *ctx, const struct dirkey *k, struct cb_sa_keys *keys) WARN_UNUSED;
void cb_keys_wipe(struct cb_sa_keys *keys);

/* Seals pkts[0..n) (n <= CB_BURST_MAX, else the rest get E_INVAL) with fresh IVs. Per-packet
 * status: E_SHORT (len < 8), E_INVAL (SPI 0), E_MSGID (ID 0), E_NOSPACE, E_TOOBIG, E_CRYPTO.
 * Returns the number sealed. */
unsigned cb_seal_burst(struct cb_ctx *ctx, struct cb_pkt *pkts, unsigned n);

/* Opens pkts[0..n): structure, then every MAC in constant time, and only for the authentic
 * ones decryption and unpadding. Status as pkt_open_udp(): E_CHANNEL, E_TOOBIG, E_SHORT,
 * E_ENCODING, E_MSGID, E_MAC, E_PADDING, E_CRYPTO. Returns the number opened. */
unsigned cb_open_burst(struct cb_ctx *ctx, struct cb_pkt *pkts, unsigned n);

/*
 * Asynchronous seal, for the workers. The synchronous burst call flushes the multi-buffer
 * manager at its end, running half-empty lanes (up to 32 % at IMIX, dpdk-notes.md section 8);
 * here jobs stay in the manager across calls and lanes fill from several bursts.
 *
 * cb_seal_enqueue() takes copies of pkts[0..n) and returns how many it took (fewer when
 * CB_INFLIGHT are held: dequeue first). cb_seal_dequeue() returns finished packets in
 * submission order, at most max; with flush it first completes everything in flight. A packet
 * that fails its checks finishes at once with its status (still in order). The buffers and
 * keys of every held packet must stay valid until it is dequeued: a worker that holds packets
 * must not report a quiescent state (the SA and its keys could be freed), so it flushes first.
 */
unsigned cb_seal_enqueue(struct cb_ctx *ctx, const struct cb_pkt *pkts, unsigned n);
unsigned cb_seal_dequeue(struct cb_ctx *ctx, struct cb_pkt *out, unsigned max, int flush);
/* Packets held (enqueued, not yet dequeued). */
unsigned cb_seal_held(const struct cb_ctx *ctx);

/* Tests: take IVs from hook (NULL restores the generator). */
void cb_test_set_iv_hook(struct cb_ctx *ctx, cb_iv_hook_fn *hook, void *arg);

#endif
