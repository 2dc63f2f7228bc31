/* SPDX-License-Identifier: MIT */
/*
 * Both backends live here behind one switch in cb_seal_burst/cb_open_burst (STYLE.md rule 5).
 * The framing work (checks, padding, IV, unpadding) is shared; only the crypto differs.
 *
 * intel-ipsec-mb notes (dpdk-notes.md sections 4 and 8): the manager does not check that a CBC
 * length is a multiple of 16, so we pad first; Debian's 1.3 IMB_FLUSH_BURST can return a job
 * twice after the ring wraps, so we only use the single-job API and drain with IMB_FLUSH_JOB.
 * The burst calls flush before returning, so they are synchronous; the async seal keeps jobs
 * in the manager (job->user_data points at its own slot copy of the packet).
 */
#include "dataplane/crypto_batch.h"

#include <stdlib.h>
#include <string.h>

#include <intel-ipsec-mb.h>

#include "common/crypto.h"
#include "common/err.h"
#include "common/pkt.h"
#include "dataplane/ivgen.h"

struct cb_ctx {
	enum cb_backend backend;
	IMB_MGR *mgr;	    /* ipsec-mb backend */
	struct crypto *ssl; /* OpenSSL backend */
	struct ivgen ivg;
	cb_iv_hook_fn *iv_hook;
	void *iv_arg;
	const char *desc;
	/* The async seal's packets: slot[tail % CB_INFLIGHT .. head % CB_INFLIGHT) are held. */
	uint64_t head, tail;
	struct cb_pkt slot[CB_INFLIGHT];
	/* Computed tags of an open burst, compared only once every MAC job is back. */
	uint8_t tag[CB_BURST_MAX][CRYPTO_SHA1_LEN] __attribute__((aligned(16)));
};

enum {
	PENDING = 1, /* status of a packet whose job has not come back */
};

static const char *
arch_name(IMB_ARCH arch)
{
	switch (arch) {
	case IMB_ARCH_AVX512:
		return "intel-ipsec-mb " IMB_VERSION_STR " AVX512";
	case IMB_ARCH_AVX2:
		return "intel-ipsec-mb " IMB_VERSION_STR " AVX2";
	case IMB_ARCH_AVX:
		return "intel-ipsec-mb " IMB_VERSION_STR " AVX";
	case IMB_ARCH_SSE:
		return "intel-ipsec-mb " IMB_VERSION_STR " SSE";
	default:
		return "intel-ipsec-mb " IMB_VERSION_STR " other";
	}
}

/* init_mb_mgr_auto picks the best manager the CPU supports (AVX512 with VAES where present). */
static int
imb_setup(struct cb_ctx *ctx)
{
	IMB_ARCH arch = IMB_ARCH_NONE;

	if ((ctx->mgr = alloc_mb_mgr(0)) == NULL)
		return E_NOMEM;
	init_mb_mgr_auto(ctx->mgr, &arch);
	if (imb_get_errno(ctx->mgr) != 0 || arch == IMB_ARCH_NONE || arch == IMB_ARCH_NOAESNI) {
		free_mb_mgr(ctx->mgr);
		ctx->mgr = NULL;
		return E_CRYPTO;
	}
	ctx->backend = CB_BACKEND_IPSECMB;
	ctx->desc = arch_name(arch);
	return 0;
}

static int
ssl_setup(struct cb_ctx *ctx)
{
	if ((ctx->ssl = crypto_new()) == NULL)
		return E_CRYPTO;
	ctx->backend = CB_BACKEND_OPENSSL;
	ctx->desc = "OpenSSL EVP";
	return 0;
}

struct cb_ctx *
cb_ctx_new(enum cb_backend want)
{
	struct cb_ctx *ctx;
	int r = E_CRYPTO;

	if ((ctx = aligned_alloc(64, (sizeof(*ctx) + 63) & ~(size_t)63)) == NULL)
		return NULL;
	memset(ctx, 0, sizeof(*ctx));
	if (ivgen_init(&ctx->ivg) != 0) {
		free(ctx);
		return NULL;
	}
	if (want != CB_BACKEND_OPENSSL)
		r = imb_setup(ctx);
	if (r != 0 && want != CB_BACKEND_IPSECMB)
		r = ssl_setup(ctx);
	if (r != 0) {
		cb_ctx_free(ctx);
		return NULL;
	}
	return ctx;
}

void
cb_ctx_free(struct cb_ctx *ctx)
{
	if (ctx == NULL)
		return;
	if (ctx->mgr != NULL)
		free_mb_mgr(ctx->mgr);
	crypto_free(ctx->ssl);
	ivgen_free(&ctx->ivg);
	wipe(ctx, sizeof(*ctx));
	free(ctx);
}

enum cb_backend
cb_ctx_backend(const struct cb_ctx *ctx)
{
	return ctx->backend;
}

const char *
cb_ctx_describe(const struct cb_ctx *ctx)
{
	return ctx->desc;
}

void
cb_test_set_iv_hook(struct cb_ctx *ctx, cb_iv_hook_fn *hook, void *arg)
{
	ctx->iv_hook = hook;
	ctx->iv_arg = arg;
}

/* The SHA-1 state after one block of Ka ^ pad, as ipsec-mb's HMAC jobs expect it. */
static void
hmac_state(IMB_MGR *mgr, const uint8_t *ka, uint8_t pad, uint8_t state[CB_SHA1_STATE])
{
	uint8_t block[IMB_SHA1_BLOCK_SIZE] __attribute__((aligned(16)));

	memset(block, pad, sizeof(block));
	for (size_t i = 0; i < WIRE_KA_LEN; i++)
		block[i] ^= ka[i];
	IMB_SHA1_ONE_BLOCK(mgr, block, state);
	wipe(block, sizeof(block));
}

int
cb_keys_init(struct cb_ctx *ctx, const struct dirkey *k, struct cb_sa_keys *keys)
{
	memset(keys, 0, sizeof(*keys));
	keys->dk = *k;
	if (ctx->backend != CB_BACKEND_IPSECMB)
		return 0;
	IMB_AES_KEYEXP_256(ctx->mgr, k->ke, keys->enc, keys->dec);
	hmac_state(ctx->mgr, k->ka, 0x36, keys->ipad);
	hmac_state(ctx->mgr, k->ka, 0x5c, keys->opad);
	return 0;
}

void
cb_keys_wipe(struct cb_sa_keys *keys)
{
	wipe(keys, sizeof(*keys));
}

/* --- framing, shared by both backends --- */

static size_t
ct_len(const struct cb_pkt *p)
{
	return p->len - WIRE_HDR_LEN - WIRE_TRAILER_LEN;
}

/* Checks, pads and places the IV; on success p->len is already the sealed length. */
static int
seal_prep(struct cb_ctx *ctx, struct cb_pkt *p, unsigned i)
{
	size_t plen, total, ctlen;
	uint8_t pad;

	if (p->len < WIRE_HDR_LEN)
		return E_SHORT;
	if (load_be32(p->buf) == WIRE_SPI_CONTROL)
		return E_INVAL;
	if (load_be32(p->buf + 4) == 0)
		return E_MSGID;
	plen = p->len - WIRE_HDR_LEN;
	total = pkt_sealed_len(plen);
	if (total > WIRE_UDP_MAX)
		return E_TOOBIG;
	if (p->cap < total)
		return E_NOSPACE;
	ctlen = total - WIRE_HDR_LEN - WIRE_TRAILER_LEN;
	pad = (uint8_t)(ctlen - plen);
	/* one 16-byte store instead of a memset call: the bytes past the padding are the IV's,
	 * written next, and cap >= total keeps the store inside the buffer */
	{
		uint8_t block[WIRE_BLOCK];

		memset(block, pad, sizeof(block));
		memcpy(p->buf + WIRE_HDR_LEN + plen, block, sizeof(block));
	}
	if (ctx->iv_hook != NULL)
		ctx->iv_hook(ctx->iv_arg, i, p->buf + WIRE_HDR_LEN + ctlen);
	else if (ivgen_next(&ctx->ivg, p->buf + WIRE_HDR_LEN + ctlen) != 0)
		return E_CRYPTO;
	p->len = (uint32_t)total;
	return 0;
}

/* Structure checks of pkt_open_udp(), in its order. */
static int
open_check(const struct cb_pkt *p)
{
	if (p->len >= 4 && load_be32(p->buf) == WIRE_SPI_CONTROL)
		return E_CHANNEL;
	if (p->len > WIRE_UDP_MAX)
		return E_TOOBIG;
	if (p->len < WIRE_SEALED_MIN)
		return E_SHORT;
	if ((p->len - WIRE_HDR_LEN - WIRE_TRAILER_LEN) % WIRE_BLOCK != 0)
		return E_ENCODING;
	return load_be32(p->buf + 4) == 0 ? E_MSGID : 0;
}

/* The MAC verdict; runs only once the tag is final. */
static int
mac_check(const struct cb_pkt *p, const uint8_t tag[CRYPTO_SHA1_LEN])
{
	return crypto_ct_equal(tag, p->buf + p->len - WIRE_MAC_LEN, WIRE_MAC_LEN) ? 0 : E_MAC;
}

/* After decryption: unpad, or wipe the plaintext of a packet with bad padding. */
static int
open_finish(struct cb_pkt *p)
{
	size_t ctlen = ct_len(p), pad = pkt_padding_len(p->buf + WIRE_HDR_LEN, ctlen);

	if (pad == 0) {
		wipe(p->buf + WIRE_HDR_LEN, ctlen);
		return E_PADDING;
	}
	p->len = (uint32_t)(WIRE_HDR_LEN + ctlen - pad);
	return 0;
}

static unsigned
count_ok(const struct cb_pkt *pkts, unsigned n)
{
	unsigned ok = 0;

	for (unsigned i = 0; i < n; i++)
		ok += pkts[i].status == 0;
	return ok;
}

/* --- OpenSSL backend: one packet at a time --- */

static int
ssl_seal(struct cb_ctx *ctx, struct cb_pkt *p)
{
	uint8_t tag[CRYPTO_SHA1_LEN], *ct = p->buf + WIRE_HDR_LEN;
	size_t ctlen = ct_len(p);
	struct span all = {p->buf, p->len - WIRE_MAC_LEN};
	int r;

	if ((r = crypto_cbc_encrypt(ctx->ssl, p->keys->dk.ke, ct + ctlen, ct, ctlen, ct)) != 0)
		goto out;
	if ((r = crypto_hmac_sha1(ctx->ssl, p->keys->dk.ka, WIRE_KA_LEN, &all, 1, tag)) != 0)
		goto out;
	memcpy(p->buf + p->len - WIRE_MAC_LEN, tag, WIRE_MAC_LEN);
out:
	wipe(tag, sizeof(tag));
	return r;
}

static int
ssl_open(struct cb_ctx *ctx, struct cb_pkt *p)
{
	uint8_t tag[CRYPTO_SHA1_LEN], *ct = p->buf + WIRE_HDR_LEN;
	size_t ctlen = ct_len(p);
	struct span all = {p->buf, p->len - WIRE_MAC_LEN};
	int r;

	if ((r = crypto_hmac_sha1(ctx->ssl, p->keys->dk.ka, WIRE_KA_LEN, &all, 1, tag)) != 0)
		goto out;
	if ((r = mac_check(p, tag)) != 0)
		goto out;
	if ((r = crypto_cbc_decrypt(ctx->ssl, p->keys->dk.ke, ct + ctlen, ct, ctlen, ct)) != 0)
		goto out;
	r = open_finish(p);
out:
	wipe(tag, sizeof(tag));
	return r;
}

/* --- intel-ipsec-mb backend --- */

/* Records a returned job's outcome in its packet. */
static void
imb_done(IMB_JOB *job)
{
	struct cb_pkt *p = job->user_data;

	p->status = job->status == IMB_STATUS_COMPLETED ? 0 : E_CRYPTO;
}

/* Submits the job the caller filled and collects whatever the manager hands back. The
 * unchecked submit: every length and pointer was checked by seal_prep/open_check already, and
 * the manager's own checks cost tens of cycles a packet, a tenth of a 64-byte seal. */
static void
imb_submit(IMB_MGR *mgr)
{
	IMB_JOB *job = IMB_SUBMIT_JOB_NOCHECK(mgr);

	while (job != NULL) {
		imb_done(job);
		job = IMB_GET_COMPLETED_JOB(mgr);
	}
}

/* IMB_FLUSH_JOB, not IMB_FLUSH_BURST: see the note at the top. */
static void
imb_flush(IMB_MGR *mgr)
{
	IMB_JOB *job;

	while ((job = IMB_FLUSH_JOB(mgr)) != NULL) {
		imb_done(job);
		while ((job = IMB_GET_COMPLETED_JOB(mgr)) != NULL)
			imb_done(job);
	}
}

/* Fields every job of ours shares: in place, cipher on [8, 8+C), IV right after it. */
static void
imb_job_base(IMB_JOB *job, struct cb_pkt *p)
{
	size_t ctlen = ct_len(p);

	job->src = p->buf;
	job->dst = p->buf + WIRE_HDR_LEN;
	job->key_len_in_bytes = IMB_KEY_256_BYTES;
	job->cipher_start_src_offset_in_bytes = WIRE_HDR_LEN;
	job->msg_len_to_cipher_in_bytes = ctlen;
	job->iv = p->buf + WIRE_HDR_LEN + ctlen;
	job->iv_len_in_bytes = WIRE_IV_LEN;
	job->hash_start_src_offset_in_bytes = 0;
	job->msg_len_to_hash_in_bytes = p->len - WIRE_MAC_LEN;
	job->auth_tag_output_len_in_bytes = WIRE_MAC_LEN;
	job->u.HMAC._hashed_auth_key_xor_ipad = p->keys->ipad;
	job->u.HMAC._hashed_auth_key_xor_opad = p->keys->opad;
	job->user_data = p;
	p->status = PENDING;
}

/* Encrypt, then MAC over header | C | IV straight into the trailer, in one job. */
static void
imb_seal_one(struct cb_ctx *ctx, struct cb_pkt *p)
{
	IMB_JOB *job = IMB_GET_NEXT_JOB(ctx->mgr);

	imb_job_base(job, p);
	job->enc_keys = p->keys->enc;
	job->dec_keys = p->keys->dec;
	job->cipher_mode = IMB_CIPHER_CBC;
	job->cipher_direction = IMB_DIR_ENCRYPT;
	job->hash_alg = IMB_AUTH_HMAC_SHA_1;
	job->chain_order = IMB_ORDER_CIPHER_HASH;
	job->auth_tag_output = p->buf + p->len - WIRE_MAC_LEN;
	imb_submit(ctx->mgr);
}

/* Pass 1 of open: MAC only (null cipher), the tag into ctx->tag[i]. */
static void
imb_mac_one(struct cb_ctx *ctx, struct cb_pkt *p, unsigned i)
{
	IMB_JOB *job = IMB_GET_NEXT_JOB(ctx->mgr);

	imb_job_base(job, p);
	job->msg_len_to_cipher_in_bytes = 0;
	job->cipher_mode = IMB_CIPHER_NULL;
	job->cipher_direction = IMB_DIR_DECRYPT;
	job->hash_alg = IMB_AUTH_HMAC_SHA_1;
	job->chain_order = IMB_ORDER_HASH_CIPHER;
	job->auth_tag_output = ctx->tag[i];
	imb_submit(ctx->mgr);
}

/* Pass 2 of open: decrypt only, for a packet whose MAC was good. */
static void
imb_decrypt_one(struct cb_ctx *ctx, struct cb_pkt *p)
{
	IMB_JOB *job = IMB_GET_NEXT_JOB(ctx->mgr);

	imb_job_base(job, p);
	job->enc_keys = p->keys->enc;
	job->dec_keys = p->keys->dec;
	job->cipher_mode = IMB_CIPHER_CBC;
	job->cipher_direction = IMB_DIR_DECRYPT;
	job->hash_alg = IMB_AUTH_NULL;
	job->chain_order = IMB_ORDER_HASH_CIPHER;
	imb_submit(ctx->mgr);
}

static void
imb_open(struct cb_ctx *ctx, struct cb_pkt *pkts, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (pkts[i].status == PENDING)
			imb_mac_one(ctx, &pkts[i], i);
	imb_flush(ctx->mgr);
	for (unsigned i = 0; i < n; i++) {
		if (pkts[i].status != 0)
			continue;
		if ((pkts[i].status = mac_check(&pkts[i], ctx->tag[i])) == 0)
			imb_decrypt_one(ctx, &pkts[i]);
	}
	imb_flush(ctx->mgr);
	for (unsigned i = 0; i < n; i++)
		if (pkts[i].status == 0)
			pkts[i].status = open_finish(&pkts[i]);
	wipe(ctx->tag, n * sizeof(ctx->tag[0]));
}

/* --- the API: framing, then one switch on the backend --- */

/* One packet: prep, then a job (ipsec-mb) or the whole seal (OpenSSL). */
static void
seal_one(struct cb_ctx *ctx, struct cb_pkt *p, unsigned i)
{
	uint32_t len = p->len;

	if ((p->status = seal_prep(ctx, p, i)) != 0)
		return;
	if (ctx->backend == CB_BACKEND_IPSECMB)
		imb_seal_one(ctx, p);
	else if ((p->status = ssl_seal(ctx, p)) != 0)
		p->len = len;
}

unsigned
cb_seal_burst(struct cb_ctx *ctx, struct cb_pkt *pkts, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		if (i >= CB_BURST_MAX)
			pkts[i].status = E_INVAL;
		else
			seal_one(ctx, &pkts[i], i);
	}
	if (ctx->backend == CB_BACKEND_IPSECMB)
		imb_flush(ctx->mgr);
	return count_ok(pkts, n);
}

unsigned
cb_seal_enqueue(struct cb_ctx *ctx, const struct cb_pkt *pkts, unsigned n)
{
	unsigned room = CB_INFLIGHT - (unsigned)(ctx->head - ctx->tail);

	n = MIN(n, room);
	for (unsigned i = 0; i < n; i++) {
		struct cb_pkt *p = &ctx->slot[ctx->head % CB_INFLIGHT];

		*p = pkts[i];
		seal_one(ctx, p, (unsigned)(ctx->head % CB_BURST_MAX));
		ctx->head++;
	}
	return n;
}

unsigned
cb_seal_dequeue(struct cb_ctx *ctx, struct cb_pkt *out, unsigned max, int flush)
{
	unsigned n = 0;

	if (flush && ctx->backend == CB_BACKEND_IPSECMB && ctx->head != ctx->tail)
		imb_flush(ctx->mgr);
	while (n < max && ctx->tail != ctx->head) {
		const struct cb_pkt *p = &ctx->slot[ctx->tail % CB_INFLIGHT];

		if (p->status == PENDING)
			break; /* in order: the manager returns jobs in submission order */
		out[n++] = *p;
		ctx->tail++;
	}
	return n;
}

unsigned
cb_seal_held(const struct cb_ctx *ctx)
{
	return (unsigned)(ctx->head - ctx->tail);
}

unsigned
cb_open_burst(struct cb_ctx *ctx, struct cb_pkt *pkts, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		pkts[i].status = i < CB_BURST_MAX ? open_check(&pkts[i]) : E_INVAL;
		if (pkts[i].status == 0)
			pkts[i].status = PENDING;
	}
	if (ctx->backend == CB_BACKEND_IPSECMB) {
		imb_open(ctx, pkts, n);
	} else {
		for (unsigned i = 0; i < n; i++)
			if (pkts[i].status == PENDING)
				pkts[i].status = ssl_open(ctx, &pkts[i]);
	}
	return count_ok(pkts, n);
}
