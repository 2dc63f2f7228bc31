/* SPDX-License-Identifier: MIT */
#include "common/msg.h"

#include <string.h>

#include "common/dh.h"
#include "common/err.h"

typedef int (*msg_dec_fn)(struct buf_reader *r, struct msg *m);
typedef int (*msg_enc_fn)(struct buf_writer *w, const struct msg *m);

struct msg_desc {
	uint16_t type;
	unsigned int channels; /* MSG_CH_* bits where the type is valid */
	size_t min, max;       /* bounds of the whole body, type included */
	msg_dec_fn dec;
	msg_enc_fn enc;
};

/* Sizes of the pieces, for the bounds in the table. */
enum {
	T = 2,					 /* type */
	SIG_MIN = 2 + WIRE_SIG_MIN,		 /* length-prefixed signature */
	SIG_MAX = 2 + WIRE_SIG_MAX,		 /* */
	STR = 2,				 /* length prefix of a string or blob */
	KE_FIXED = WIRE_NONCE_LEN + WIRE_DH_LEN, /* nonce and DH value */
};

static int
dh_field(struct buf_reader *r, uint8_t out[WIRE_DH_LEN])
{
	if (buf_get_bytes(r, out, WIRE_DH_LEN) != 0)
		return r->err;
	if (dh_check_public(out) != 0)
		r->err = E_DHPUB;
	return r->err;
}

static int
sig_field(struct buf_reader *r, struct span *sig)
{
	return buf_get_blob16(r, sig, WIRE_SIG_MIN, WIRE_SIG_MAX);
}

static int
helo_dec(struct buf_reader *r, struct msg *m)
{
	struct msg_helo *h = &m->u.helo;

	if (buf_get_u8(r, &h->suite) == 0 && h->suite != WIRE_SUITE_1)
		r->err = E_SUITE;
	buf_get_bytes(r, h->kfp, sizeof(h->kfp));
	buf_get_bytes(r, h->ni, sizeof(h->ni));
	return dh_field(r, h->gi);
}

static int
helo_enc(struct buf_writer *w, const struct msg *m)
{
	const struct msg_helo *h = &m->u.helo;

	buf_put_u8(w, h->suite);
	buf_put_bytes(w, h->kfp, sizeof(h->kfp));
	buf_put_bytes(w, h->ni, sizeof(h->ni));
	return buf_put_bytes(w, h->gi, sizeof(h->gi));
}

static int
helo_ok_dec(struct buf_reader *r, struct msg *m)
{
	buf_get_bytes(r, m->u.helo_ok.nr, WIRE_NONCE_LEN);
	return dh_field(r, m->u.helo_ok.gr);
}

static int
helo_ok_enc(struct buf_writer *w, const struct msg *m)
{
	buf_put_bytes(w, m->u.helo_ok.nr, WIRE_NONCE_LEN);
	return buf_put_bytes(w, m->u.helo_ok.gr, WIRE_DH_LEN);
}

/* AUTH and AUTH OK share a layout. */
static int
auth_dec(struct buf_reader *r, struct msg *m)
{
	buf_get_u32(r, &m->u.auth.identity);
	return sig_field(r, &m->u.auth.sig);
}

static int
auth_enc(struct buf_writer *w, const struct msg *m)
{
	buf_put_u32(w, m->u.auth.identity);
	return buf_put_blob16(w, m->u.auth.sig.p, m->u.auth.sig.len);
}

static int
register_dec(struct buf_reader *r, struct msg *m)
{
	struct msg_register *g = &m->u.reg;

	buf_get_blob16(r, &g->pubkey, 1, WIRE_PUBKEY_MAX);
	buf_get_str16(r, &g->nick, WIRE_NICK_MAX);
	buf_get_str16(r, &g->token, WIRE_TOKEN_MAX);
	return sig_field(r, &g->sig);
}

static int
register_enc(struct buf_writer *w, const struct msg *m)
{
	const struct msg_register *g = &m->u.reg;

	buf_put_blob16(w, g->pubkey.p, g->pubkey.len);
	buf_put_blob16(w, g->nick.p, g->nick.len);
	buf_put_blob16(w, g->token.p, g->token.len);
	return buf_put_blob16(w, g->sig.p, g->sig.len);
}

static int
error_dec(struct buf_reader *r, struct msg *m)
{
	buf_get_u16(r, &m->u.error.status);
	return buf_get_str16(r, &m->u.error.text, WIRE_TEXT_MAX);
}

static int
error_enc(struct buf_writer *w, const struct msg *m)
{
	buf_put_u16(w, m->u.error.status);
	return buf_put_blob16(w, m->u.error.text.p, m->u.error.text.len);
}

static int
result_dec(struct buf_reader *r, struct msg *m)
{
	buf_get_u32(r, &m->u.result.tag);
	buf_get_u16(r, &m->u.result.status);
	return buf_get_str16(r, &m->u.result.text, WIRE_TEXT_MAX);
}

static int
result_enc(struct buf_writer *w, const struct msg *m)
{
	buf_put_u32(w, m->u.result.tag);
	buf_put_u16(w, m->u.result.status);
	return buf_put_blob16(w, m->u.result.text.p, m->u.result.text.len);
}

/* PING and PONG. */
static int
ping_dec(struct buf_reader *r, struct msg *m)
{
	return buf_get_u32(r, &m->u.ping.tag);
}

static int
ping_enc(struct buf_writer *w, const struct msg *m)
{
	return buf_put_u32(w, m->u.ping.tag);
}

static int
ke1_dec(struct buf_reader *r, struct msg *m)
{
	m->u.ke.sig.p = NULL;
	m->u.ke.sig.len = 0;
	buf_get_bytes(r, m->u.ke.nonce, WIRE_NONCE_LEN);
	return dh_field(r, m->u.ke.dh);
}

static int
ke1_enc(struct buf_writer *w, const struct msg *m)
{
	buf_put_bytes(w, m->u.ke.nonce, WIRE_NONCE_LEN);
	return buf_put_bytes(w, m->u.ke.dh, WIRE_DH_LEN);
}

/* KE2 and KE3: KE1's fields, then a signature. */
static int
ke_signed_dec(struct buf_reader *r, struct msg *m)
{
	buf_get_bytes(r, m->u.ke.nonce, WIRE_NONCE_LEN);
	dh_field(r, m->u.ke.dh);
	return sig_field(r, &m->u.ke.sig);
}

static int
ke_signed_enc(struct buf_writer *w, const struct msg *m)
{
	ke1_enc(w, m);
	return buf_put_blob16(w, m->u.ke.sig.p, m->u.ke.sig.len);
}

enum {
	CLEAR = MSG_CH_CLEAR_C2S | MSG_CH_CLEAR_S2C,
	SESSION = MSG_CH_SESSION_C2S | MSG_CH_SESSION_S2C,
};

static const struct msg_desc descs[] = {
	{MSG_HELO, MSG_CH_CLEAR_C2S, T + 1 + WIRE_KFP_LEN + KE_FIXED,
	 T + 1 + WIRE_KFP_LEN + KE_FIXED, helo_dec, helo_enc},
	{MSG_HELO_OK, MSG_CH_CLEAR_S2C, T + KE_FIXED, T + KE_FIXED, helo_ok_dec, helo_ok_enc},
	{MSG_AUTH, MSG_CH_SESSION_C2S, T + 4 + SIG_MIN, T + 4 + SIG_MAX, auth_dec, auth_enc},
	{MSG_REGISTER, MSG_CH_SESSION_C2S, T + STR + 1 + STR + STR + SIG_MIN,
	 T + STR + WIRE_PUBKEY_MAX + STR + WIRE_NICK_MAX + STR + WIRE_TOKEN_MAX + SIG_MAX,
	 register_dec, register_enc},
	{MSG_AUTH_OK, MSG_CH_SESSION_S2C, T + 4 + SIG_MIN, T + 4 + SIG_MAX, auth_dec, auth_enc},
	{MSG_ERROR, CLEAR | SESSION, T + 2 + STR, T + 2 + STR + WIRE_TEXT_MAX, error_dec,
	 error_enc},
	{MSG_RESULT, MSG_CH_SESSION_S2C, T + 4 + 2 + STR, T + 4 + 2 + STR + WIRE_TEXT_MAX,
	 result_dec, result_enc},
	{MSG_PING, SESSION, T + 4, T + 4, ping_dec, ping_enc},
	{MSG_PONG, SESSION, T + 4, T + 4, ping_dec, ping_enc},
	{MSG_KE1, MSG_CH_TUNNEL, T + KE_FIXED, T + KE_FIXED, ke1_dec, ke1_enc},
	{MSG_KE2, MSG_CH_TUNNEL, T + KE_FIXED + SIG_MIN, T + KE_FIXED + SIG_MAX, ke_signed_dec,
	 ke_signed_enc},
	{MSG_KE3, MSG_CH_TUNNEL, T + KE_FIXED + SIG_MIN, T + KE_FIXED + SIG_MAX, ke_signed_dec,
	 ke_signed_enc},
};

static const struct msg_desc *
find(uint16_t type)
{
	for (size_t i = 0; i < ARRAY_SIZE(descs); i++)
		if (descs[i].type == type)
			return &descs[i];
	return NULL;
}

int
msg_decode(unsigned int channel, const uint8_t *p, size_t len, struct msg *m)
{
	const struct msg_desc *d;
	struct buf_reader r;
	int err;

	memset(m, 0, sizeof(*m));
	if (len < T)
		return E_SHORT;
	m->type = load_be16(p);
	if ((d = find(m->type)) == NULL)
		return E_TYPE;
	if ((d->channels & channel) == 0)
		return E_CHANNEL;
	if (len < d->min)
		return E_SHORT;
	if (len > d->max)
		return E_TOOBIG;
	buf_reader_init(&r, p + T, len - T);
	d->dec(&r, m);
	if ((err = buf_end(&r)) != 0) {
		uint16_t type = m->type;

		memset(m, 0, sizeof(*m));
		m->type = type;
	}
	return err;
}

int
msg_encode(unsigned int channel, const struct msg *m, uint8_t *out, size_t cap, size_t *len)
{
	const struct msg_desc *d = find(m->type);
	struct buf_writer w;
	struct msg check;
	int r;

	*len = 0;
	if (d == NULL)
		return E_TYPE;
	if ((d->channels & channel) == 0)
		return E_CHANNEL;
	buf_writer_init(&w, out, cap);
	buf_put_u16(&w, m->type);
	if ((r = d->enc(&w, m)) != 0)
		return r;
	if ((r = msg_decode(channel, out, buf_written(&w), &check)) != 0)
		return r;
	*len = buf_written(&w);
	return 0;
}

const char *
msg_name(uint16_t type)
{
	switch (type) {
#define MSG_NAME(name, code, str)                                                                  \
	case code:                                                                                 \
		return str;
		MSG_LIST(MSG_NAME)
#undef MSG_NAME
	}
	return "unknown";
}

size_t
msg_max_len(void)
{
	size_t max = 0;

	for (size_t i = 0; i < ARRAY_SIZE(descs); i++)
		max = MAX(max, descs[i].max);
	return max;
}
