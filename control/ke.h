/* SPDX-License-Identifier: MIT */
/*
 * The peer key exchange of one tunnel, KE1/KE2/KE3 (docs/PROTOCOL.md 11), without I/O: it
 * builds the messages to send and checks the ones received; the caller (tunnel.c) moves them,
 * retransmits, and decides what the keys are for. Each side runs one struct ke per exchange.
 *
 *   initiator                                   responder
 *   ke_initiate()          -> KE1 ------------> ke_on_ke1()    -> KE2 (cached: a repeated
 *                                                                 KE1 gets the same KE2)
 *   ke_on_ke2()  (keys)    -> KE3 ------------> ke_on_ke3()    (keys)
 *
 * Keys come out as struct session_keys (i2r: initiator to responder). The DH private value is
 * freed as soon as the secret is derived; ke_clear() wipes everything else. Signatures are
 * checked against the peer key the caller gives (the mediator's or a pinned one).
 */
#ifndef BURI_CONTROL_KE_H
#define BURI_CONTROL_KE_H

#include <stdbool.h>
#include <stdint.h>

#include "common/crypto.h"
#include "common/dh.h"
#include "common/keymat.h"
#include "common/msg.h"
#include "common/pubkey.h"
#include "common/wire.h"

enum ke_state {
	KE_NONE,     /* zeroed */
	KE_SENT_KE1, /* initiator: waiting for KE2 */
	KE_SENT_KE2, /* responder: waiting for KE3 */
	KE_DONE,     /* keys derived (initiator: KE3 built; responder: KE3 verified) */
};

struct ke {
	enum ke_state state;
	bool initiator;
	struct dh *dh; /* ours, until the secret is derived */
	uint8_t ni[WIRE_NONCE_LEN], gi[WIRE_DH_LEN];
	uint8_t nr[WIRE_NONCE_LEN], gr[WIRE_DH_LEN];
	uint8_t sig[WIRE_SIG_MAX]; /* ours, in the KE2 or KE3 we built (for resending) */
	size_t siglen;
	struct session_keys keys; /* valid in KE_DONE */
};

/* Starts an exchange as initiator: fresh DH and Ni; *out is the KE1 to send. E_CRYPTO. */
int ke_initiate(struct ke *ke, struct msg *out) WARN_UNUSED;

/*
 * Responder, on KE1 m. A KE1 with the Ni and Gi of the exchange in progress gets the KE2
 * already built (no second DH); any other starts a new exchange (the old one is dropped).
 * *out is the KE2 to send; its sig points into ke. E_DHPUB for a bad Gi, E_CRYPTO.
 */
int ke_on_ke1(struct ke *ke, const struct pubkey *self, const struct msg *m,
	      struct msg *out) WARN_UNUSED;

/*
 * Initiator, on KE2 m in KE_SENT_KE1: verifies its signature with peer, derives the keys and
 * builds KE3 (*out; its sig points into ke) -> KE_DONE. A repeat of the KE2 already accepted
 * (KE_DONE, same Nr and Gr) rebuilds the same KE3 and returns 0 (the responder lost it).
 * E_STATE (not waiting for KE2, or a different KE2 after one was accepted), E_SIGNATURE,
 * E_DHPUB, E_CRYPTO; ke is unchanged on any error.
 */
int ke_on_ke2(struct ke *ke, struct crypto *c, const struct pubkey *self, const struct pubkey *peer,
	      const struct msg *m, struct msg *out) WARN_UNUSED;

/*
 * Responder, on KE3 m in KE_SENT_KE2: Ni and Gi must be this exchange's (E_STATE if not), the
 * signature peer's (E_SIGNATURE); derives the keys -> KE_DONE. In KE_DONE a repeat of the same
 * KE3 returns 1 (answer it with a fresh dummy), anything else E_STATE.
 */
int ke_on_ke3(struct ke *ke, struct crypto *c, const struct pubkey *peer,
	      const struct msg *m) WARN_UNUSED;

/* Wipes and frees everything; ke is KE_NONE afterwards. */
void ke_clear(struct ke *ke);

#endif
