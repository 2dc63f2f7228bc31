/* SPDX-License-Identifier: MIT */
/* The peer key exchange of one tunnel (ke.h). */
#include "control/ke.h"

#include <string.h>

#include "common/err.h"
#include "common/sigdata.h"

static void
values(const struct ke *ke, struct handshake_values *v)
{
	*v = (struct handshake_values){0, ke->ni, ke->nr, ke->gi, ke->gr};
}

static int
sign(struct ke *ke, enum sigdata_kind kind, const struct pubkey *self)
{
	struct span parts[SIGDATA_MAX_PARTS];
	struct handshake_values v;
	size_t n;

	values(ke, &v);
	n = sigdata_parts(kind, &v, parts);
	return pubkey_sign(self, parts, n, ke->sig, sizeof(ke->sig), &ke->siglen);
}

static int
verify(const struct ke *ke, enum sigdata_kind kind, const struct pubkey *peer, struct span sig)
{
	struct span parts[SIGDATA_MAX_PARTS];
	struct handshake_values v;
	size_t n;

	values(ke, &v);
	n = sigdata_parts(kind, &v, parts);
	return pubkey_verify(peer, parts, n, sig.p, sig.len);
}

/* out: a KE message of type with our nonce, DH value and (KE2, KE3) signature. */
static void
build(const struct ke *ke, uint16_t type, struct msg *out)
{
	const uint8_t *n = ke->initiator ? ke->ni : ke->nr, *g = ke->initiator ? ke->gi : ke->gr;

	memset(out, 0, sizeof(*out));
	out->type = type;
	memcpy(out->u.ke.nonce, n, WIRE_NONCE_LEN);
	memcpy(out->u.ke.dh, g, WIRE_DH_LEN);
	if (type != MSG_KE1)
		out->u.ke.sig = (struct span){ke->sig, ke->siglen};
}

/* Fresh DH and nonce into (nonce, g). */
static int
fresh(struct ke *ke, uint8_t *nonce, uint8_t *g)
{
	dh_free(ke->dh);
	if ((ke->dh = dh_generate()) == NULL || crypto_random(nonce, WIRE_NONCE_LEN) != 0)
		return E_CRYPTO;
	dh_public(ke->dh, g);
	return 0;
}

/* K from the peer's value, then the session keys; the DH private value is gone afterwards. */
static int
derive(struct ke *ke, struct crypto *c, const uint8_t *peer_g)
{
	uint8_t k[WIRE_DH_LEN];
	int r;

	if ((r = dh_derive(ke->dh, peer_g, k)) == 0)
		r = keymat_session(c, k, ke->ni, ke->nr, &ke->keys);
	wipe(k, sizeof(k));
	if (r == 0) {
		dh_free(ke->dh);
		ke->dh = NULL;
	}
	return r;
}

int
ke_initiate(struct ke *ke, struct msg *out)
{
	int r;

	ke_clear(ke);
	ke->initiator = true;
	if ((r = fresh(ke, ke->ni, ke->gi)) != 0) {
		ke_clear(ke);
		return r;
	}
	ke->state = KE_SENT_KE1;
	build(ke, MSG_KE1, out);
	return 0;
}

int
ke_on_ke1(struct ke *ke, const struct pubkey *self, const struct msg *m, struct msg *out)
{
	const struct msg_ke *k = &m->u.ke;
	int r;

	if (m->type != MSG_KE1)
		return E_TYPE;
	if (!ke->initiator && ke->state >= KE_SENT_KE2 &&
	    memcmp(ke->ni, k->nonce, WIRE_NONCE_LEN) == 0 &&
	    memcmp(ke->gi, k->dh, WIRE_DH_LEN) == 0) {
		build(ke, MSG_KE2, out); /* a repeat: the initiator lost our KE2 */
		return 0;
	}
	if ((r = dh_check_public(k->dh)) != 0)
		return r;
	ke_clear(ke);
	memcpy(ke->ni, k->nonce, WIRE_NONCE_LEN);
	memcpy(ke->gi, k->dh, WIRE_DH_LEN);
	if ((r = fresh(ke, ke->nr, ke->gr)) != 0 || (r = sign(ke, SIGDATA_KE2, self)) != 0) {
		ke_clear(ke);
		return r;
	}
	ke->state = KE_SENT_KE2;
	build(ke, MSG_KE2, out);
	return 0;
}

int
ke_on_ke2(struct ke *ke, struct crypto *c, const struct pubkey *self, const struct pubkey *peer,
	  const struct msg *m, struct msg *out)
{
	const struct msg_ke *k = &m->u.ke;
	int r;

	if (m->type != MSG_KE2 || !ke->initiator)
		return E_STATE;
	if (ke->state == KE_DONE && memcmp(ke->nr, k->nonce, WIRE_NONCE_LEN) == 0 &&
	    memcmp(ke->gr, k->dh, WIRE_DH_LEN) == 0) {
		build(ke, MSG_KE3, out); /* the responder did not get our KE3 */
		return 0;
	}
	if (ke->state != KE_SENT_KE1)
		return E_STATE;
	if ((r = dh_check_public(k->dh)) != 0)
		return r;
	memcpy(ke->nr, k->nonce, WIRE_NONCE_LEN);
	memcpy(ke->gr, k->dh, WIRE_DH_LEN);
	if ((r = verify(ke, SIGDATA_KE2, peer, k->sig)) != 0 ||
	    (r = sign(ke, SIGDATA_KE3, self)) != 0 || (r = derive(ke, c, ke->gr)) != 0) {
		/* unchanged: a forged KE2 must not stop the real one from being accepted */
		memset(ke->nr, 0, WIRE_NONCE_LEN);
		memset(ke->gr, 0, WIRE_DH_LEN);
		wipe(&ke->keys, sizeof(ke->keys));
		ke->siglen = 0;
		return r;
	}
	ke->state = KE_DONE;
	build(ke, MSG_KE3, out);
	return 0;
}

int
ke_on_ke3(struct ke *ke, struct crypto *c, const struct pubkey *peer, const struct msg *m)
{
	const struct msg_ke *k = &m->u.ke;
	int r;

	if (m->type != MSG_KE3 || ke->initiator || ke->state < KE_SENT_KE2 ||
	    memcmp(ke->ni, k->nonce, WIRE_NONCE_LEN) != 0 ||
	    memcmp(ke->gi, k->dh, WIRE_DH_LEN) != 0)
		return E_STATE;
	if ((r = verify(ke, SIGDATA_KE3, peer, k->sig)) != 0)
		return r;
	if (ke->state == KE_DONE)
		return 1;
	if ((r = derive(ke, c, ke->gi)) != 0)
		return r;
	ke->state = KE_DONE;
	return 0;
}

void
ke_clear(struct ke *ke)
{
	dh_free(ke->dh);
	wipe(ke, sizeof(*ke));
}
