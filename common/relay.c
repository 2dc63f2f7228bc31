/* SPDX-License-Identifier: MIT */
/* Relay datagrams (relay.h). */
#include "common/relay.h"

#include "common/err.h"

enum relay_kind
relay_classify(const uint8_t *p, size_t len, uint32_t *dst_spi)
{
	uint32_t w0, w1;

	if (len < RELAY_DGRAM_MIN || len > RELAY_DGRAM_MAX)
		return RELAY_INVALID;
	w0 = load_be32(p);
	w1 = load_be32(p + 4);
	if (w0 != 0) {
		*dst_spi = w0;
		return RELAY_DATA;
	}
	if (w1 != 0) {
		*dst_spi = w1;
		return RELAY_CONTROL;
	}
	return RELAY_MESSAGE;
}

int
relay_tcp_frame(const uint8_t *p, size_t len, const uint8_t **dgram, size_t *dlen)
{
	size_t n;

	if (len < 2)
		return 0;
	n = load_be16(p);
	if (n < RELAY_DGRAM_MIN)
		return E_ENCODING;
	if (len < 2 + n)
		return 0;
	*dgram = p + 2;
	*dlen = n;
	return (int)(2 + n);
}

int
relay_token(struct crypto *c, const uint8_t secret[RELAY_SECRET_LEN],
	    const uint8_t session[MSG_RELAY_SESSION_LEN], uint32_t expiry, uint8_t side,
	    uint32_t identity, uint32_t peer, uint8_t token[MSG_RELAY_TOKEN_LEN])
{
	static const uint8_t label[10] = {'b', 'u', 'r', 'i', ' ', 'r', 'e', 'l', 'a', 'y'};
	uint8_t fields[4 + 1 + 4 + 4];
	struct span parts[] = {
		{label, sizeof(label)},
		{session, MSG_RELAY_SESSION_LEN},
		{fields, sizeof(fields)},
	};

	store_be32(fields, expiry);
	fields[4] = side;
	store_be32(fields + 5, identity);
	store_be32(fields + 9, peer);
	return crypto_hmac_sha1(c, secret, RELAY_SECRET_LEN, parts, ARRAY_SIZE(parts), token);
}
