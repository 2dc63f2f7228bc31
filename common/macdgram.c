/* SPDX-License-Identifier: MIT */
/* MACed datagrams (macdgram.h). */
#include "common/macdgram.h"

#include <string.h>

#include "common/err.h"

static const uint8_t zeros[MACDGRAM_MARK_MAX];

int
macdgram_mac(struct crypto *c, const uint8_t key[MACDGRAM_KEY_LEN], const uint8_t *body, size_t len,
	     uint8_t mac[WIRE_MAC_LEN])
{
	struct span part = {body, len};
	uint8_t full[CRYPTO_SHA1_LEN];
	int r;

	if ((r = crypto_hmac_sha1(c, key, MACDGRAM_KEY_LEN, &part, 1, full)) == 0)
		memcpy(mac, full, WIRE_MAC_LEN);
	return r;
}

int
macdgram_seal(struct crypto *c, const uint8_t key[MACDGRAM_KEY_LEN], size_t mark, unsigned channel,
	      const struct msg *m, uint8_t *out, size_t cap, size_t *len)
{
	size_t blen;
	int r;

	if (mark > MACDGRAM_MARK_MAX)
		return E_INVAL;
	if (cap < mark)
		return E_NOSPACE;
	memset(out, 0, mark);
	if ((r = msg_encode(channel, m, out + mark, cap - mark, &blen)) != 0)
		return r;
	if (blen < WIRE_MAC_LEN)
		return E_INVAL;
	if ((r = macdgram_mac(c, key, out + mark, blen - WIRE_MAC_LEN,
			      out + mark + blen - WIRE_MAC_LEN)) != 0)
		return r;
	*len = mark + blen;
	return 0;
}

int
macdgram_open(size_t mark, unsigned channel, const uint8_t *p, size_t len, struct msg *m)
{
	if (mark > MACDGRAM_MARK_MAX || len < mark || memcmp(p, zeros, mark) != 0)
		return E_CHANNEL;
	return msg_decode(channel, p + mark, len - mark, m);
}

int
macdgram_check(struct crypto *c, const uint8_t key[MACDGRAM_KEY_LEN], size_t mark, const uint8_t *p,
	       size_t len)
{
	uint8_t mac[WIRE_MAC_LEN];

	if (len < mark + WIRE_MAC_LEN)
		return E_MAC;
	if (macdgram_mac(c, key, p + mark, len - mark - WIRE_MAC_LEN, mac) != 0)
		return E_MAC;
	return crypto_ct_equal(mac, p + len - WIRE_MAC_LEN, WIRE_MAC_LEN) ? 0 : E_MAC;
}
