/* SPDX-License-Identifier: MIT */
/* Discovery datagrams (disco.h). */
#include "common/disco.h"

#include <string.h>

#include "common/err.h"

int
disco_mac(struct crypto *c, const uint8_t key[MSG_DISCO_KEY_LEN], const uint8_t *body, size_t len,
	  uint8_t mac[WIRE_MAC_LEN])
{
	struct span part = {body, len};
	uint8_t full[CRYPTO_SHA1_LEN];
	int r;

	if ((r = crypto_hmac_sha1(c, key, MSG_DISCO_KEY_LEN, &part, 1, full)) == 0)
		memcpy(mac, full, WIRE_MAC_LEN);
	return r;
}

int
disco_dgram_seal(struct crypto *c, const uint8_t key[MSG_DISCO_KEY_LEN], unsigned channel,
		 const struct msg *m, uint8_t *out, size_t cap, size_t *len)
{
	size_t blen;
	int r;

	if (cap < DISCO_MARK)
		return E_NOSPACE;
	store_be32(out, 0);
	if ((r = msg_encode(channel, m, out + DISCO_MARK, cap - DISCO_MARK, &blen)) != 0)
		return r;
	if (blen < WIRE_MAC_LEN)
		return E_INVAL;
	if ((r = disco_mac(c, key, out + DISCO_MARK, blen - WIRE_MAC_LEN,
			   out + DISCO_MARK + blen - WIRE_MAC_LEN)) != 0)
		return r;
	*len = DISCO_MARK + blen;
	return 0;
}

int
disco_dgram_open(unsigned channel, const uint8_t *p, size_t len, struct msg *m)
{
	if (len < DISCO_MARK || load_be32(p) != 0)
		return E_CHANNEL;
	return msg_decode(channel, p + DISCO_MARK, len - DISCO_MARK, m);
}

int
disco_dgram_check(struct crypto *c, const uint8_t key[MSG_DISCO_KEY_LEN], const uint8_t *p,
		  size_t len)
{
	uint8_t mac[WIRE_MAC_LEN];

	if (len < DISCO_MARK + WIRE_MAC_LEN)
		return E_MAC;
	if (disco_mac(c, key, p + DISCO_MARK, len - DISCO_MARK - WIRE_MAC_LEN, mac) != 0)
		return E_MAC;
	return crypto_ct_equal(mac, p + len - WIRE_MAC_LEN, WIRE_MAC_LEN) ? 0 : E_MAC;
}
