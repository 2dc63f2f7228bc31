/* SPDX-License-Identifier: MIT */
/* The crypto ceiling (ceiling.h). */
#include "tools/bench/ceiling.h"

#include <stdlib.h>
#include <string.h>

#include <intel-ipsec-mb.h>

#include "common/crypto.h"
#include "common/pkt.h"
#include "dataplane/crypto_batch.h"

struct ceiling {
	IMB_MGR *mgr;
	struct cb_sa_keys keys;
	unsigned n;
	size_t bufsz;
	size_t *size;
	uint8_t **buf, **sealed, **scratch;
	uint8_t (*tag)[20];
};

struct ceiling *
ceiling_new(const struct dirkey *k, unsigned n, size_t max)
{
	struct ceiling *c = calloc(1, sizeof(*c));
	struct cb_ctx *ctx = cb_ctx_new(CB_BACKEND_IPSECMB);
	int ok;

	if (c == NULL || ctx == NULL) {
		free(c);
		cb_ctx_free(ctx);
		return NULL;
	}
	c->n = n;
	c->bufsz = (pkt_sealed_len(max) + 63) & ~(size_t)63;
	c->size = calloc(n, sizeof(*c->size));
	c->buf = calloc(n, sizeof(*c->buf));
	c->sealed = calloc(n, sizeof(*c->sealed));
	c->scratch = calloc(n, sizeof(*c->scratch));
	c->tag = calloc(n, sizeof(*c->tag));
	ok = c->size && c->buf && c->sealed && c->scratch && c->tag &&
	     cb_keys_init(ctx, k, &c->keys) == 0 && (c->mgr = alloc_mb_mgr(0)) != NULL;
	for (unsigned j = 0; ok && j < n; j++)
		ok = (c->buf[j] = aligned_alloc(64, c->bufsz)) != NULL &&
		     (c->sealed[j] = aligned_alloc(64, c->bufsz)) != NULL &&
		     (c->scratch[j] = aligned_alloc(64, c->bufsz)) != NULL;
	cb_ctx_free(ctx);
	if (!ok) {
		ceiling_free(c);
		return NULL;
	}
	init_mb_mgr_auto(c->mgr, NULL);
	return c;
}

void
ceiling_free(struct ceiling *c)
{
	if (c == NULL)
		return;
	for (unsigned j = 0; j < c->n; j++) {
		if (c->buf)
			free(c->buf[j]);
		if (c->sealed)
			free(c->sealed[j]);
		if (c->scratch)
			free(c->scratch[j]);
	}
	if (c->mgr)
		free_mb_mgr(c->mgr);
	cb_keys_wipe(&c->keys);
	free(c->size);
	free(c->buf);
	free(c->sealed);
	free(c->scratch);
	free(c->tag);
	free(c);
}

int
ceiling_prepare(struct ceiling *c, const size_t *sizes)
{
	struct crypto *cr = crypto_new();
	int r = cr == NULL ? -1 : 0;

	for (unsigned j = 0; r == 0 && j < c->n; j++) {
		uint8_t iv[16];
		size_t len;

		c->size[j] = sizes[j];
		memset(c->buf[j], 0xa5, c->bufsz);
		store_be32(c->buf[j], 0x1001);
		store_be32(c->buf[j] + 4, j + 1);
		if (crypto_random(iv, sizeof(iv)) != 0 ||
		    pkt_seal_udp(cr, &c->keys.dk, 0x1001, j + 1, iv, c->buf[j] + 8, sizes[j],
				 c->sealed[j], c->bufsz, &len) != 0)
			r = -1;
	}
	crypto_free(cr);
	return r;
}

/* One job: the packet already padded, IV and header in place. */
static void
job(struct ceiling *c, unsigned j, int enc)
{
	IMB_JOB *jb = IMB_GET_NEXT_JOB(c->mgr);
	size_t ct = (c->size[j] / 16 + 1) * 16;
	uint8_t *src = enc ? c->buf[j] : c->sealed[j];

	jb->src = src;
	jb->dst = enc ? src + 8 : c->scratch[j];
	jb->enc_keys = c->keys.enc;
	jb->dec_keys = c->keys.dec;
	jb->key_len_in_bytes = IMB_KEY_256_BYTES;
	jb->cipher_start_src_offset_in_bytes = 8;
	jb->msg_len_to_cipher_in_bytes = ct;
	jb->iv = src + 8 + ct;
	jb->iv_len_in_bytes = 16;
	jb->hash_start_src_offset_in_bytes = 0;
	jb->msg_len_to_hash_in_bytes = 8 + ct + 16;
	jb->auth_tag_output = c->tag[j];
	jb->auth_tag_output_len_in_bytes = 12;
	jb->u.HMAC._hashed_auth_key_xor_ipad = c->keys.ipad;
	jb->u.HMAC._hashed_auth_key_xor_opad = c->keys.opad;
	jb->cipher_mode = IMB_CIPHER_CBC;
	jb->cipher_direction = enc ? IMB_DIR_ENCRYPT : IMB_DIR_DECRYPT;
	jb->hash_alg = IMB_AUTH_HMAC_SHA_1;
	jb->chain_order = enc ? IMB_ORDER_CIPHER_HASH : IMB_ORDER_HASH_CIPHER;
	jb = IMB_SUBMIT_JOB_NOCHECK(c->mgr);
	while (jb != NULL)
		jb = IMB_GET_COMPLETED_JOB(c->mgr);
}

void
ceiling_seal(struct ceiling *c, unsigned first, unsigned count)
{
	for (unsigned i = 0; i < count; i++)
		job(c, first + i, 1);
}

void
ceiling_open(struct ceiling *c, unsigned first, unsigned count)
{
	for (unsigned i = 0; i < count; i++)
		job(c, first + i, 0);
}

void
ceiling_flush(struct ceiling *c)
{
	while (IMB_FLUSH_JOB(c->mgr) != NULL)
		while (IMB_GET_COMPLETED_JOB(c->mgr) != NULL)
			;
}
