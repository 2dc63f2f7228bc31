/* SPDX-License-Identifier: MIT */
#include "common/pkt.h"

#include <stdint.h>
#include <string.h>

#include "common/err.h"

static int
mac(struct crypto *c, const struct dirkey *k, const uint8_t *p, size_t n,
    uint8_t out[CRYPTO_SHA1_LEN])
{
	struct span all = {p, n};

	return crypto_hmac_sha1(c, k->ka, sizeof(k->ka), &all, 1, out);
}

/* hdr | pad(payload) encrypted | iv | mac, with word0 already decided by the framing. */
static int
seal(struct crypto *c, const struct dirkey *k, uint32_t word0, uint32_t msgid, const uint8_t *iv,
     const uint8_t *payload, size_t len, uint8_t *out, size_t cap, size_t *outlen)
{
	size_t total = pkt_sealed_len(len);
	size_t ctlen = total - WIRE_HDR_LEN - WIRE_TRAILER_LEN;
	uint8_t pad = (uint8_t)(ctlen - len), tag[CRYPTO_SHA1_LEN];
	uint8_t *ct = out + WIRE_HDR_LEN;
	int r;

	*outlen = 0;
	if (msgid == 0)
		return E_MSGID;
	if (cap < total)
		return E_NOSPACE;
	store_be32(out, word0);
	store_be32(out + 4, msgid);
	if (len > 0)
		memcpy(ct, payload, len);
	memset(ct + len, pad, pad);
	if ((r = crypto_cbc_encrypt(c, k->ke, iv, ct, ctlen, ct)) != 0)
		goto out;
	memcpy(ct + ctlen, iv, WIRE_IV_LEN);
	if ((r = mac(c, k, out, total - WIRE_MAC_LEN, tag)) != 0)
		goto out;
	memcpy(out + total - WIRE_MAC_LEN, tag, WIRE_MAC_LEN);
	*outlen = total;
out:
	wipe(tag, sizeof(tag));
	if (r != 0)
		wipe(out, total);
	return r;
}

int
pkt_seal_udp(struct crypto *c, const struct dirkey *k, uint32_t spi, uint32_t msgid,
	     const uint8_t iv[WIRE_IV_LEN], const uint8_t *payload, size_t len, uint8_t *out,
	     size_t cap, size_t *outlen)
{
	*outlen = 0;
	if (spi == WIRE_SPI_CONTROL)
		return E_INVAL;
	if (len > WIRE_UDP_MAX || pkt_sealed_len(len) > WIRE_UDP_MAX)
		return E_TOOBIG;
	return seal(c, k, spi, msgid, iv, payload, len, out, cap, outlen);
}

int
pkt_seal_tcp(struct crypto *c, const struct dirkey *k, uint32_t msgid,
	     const uint8_t iv[WIRE_IV_LEN], const uint8_t *payload, size_t len, uint8_t *out,
	     size_t cap, size_t *outlen)
{
	*outlen = 0;
	if (len > WIRE_MSG_MAX)
		return E_TOOBIG;
	return seal(c, k, (uint32_t)(pkt_sealed_len(len) - 4), msgid, iv, payload, len, out, cap,
		    outlen);
}

int
pkt_peek(const uint8_t *pkt, size_t len, struct pkt_hdr *hdr)
{
	if (len < WIRE_HDR_LEN) {
		hdr->word0 = hdr->msgid = 0;
		return E_SHORT;
	}
	hdr->word0 = load_be32(pkt);
	hdr->msgid = load_be32(pkt + 4);
	return 0;
}

/* The MAC has already been verified when this runs, so it sees authentic data and need not be
 * constant time. */
size_t
pkt_padding_len(const uint8_t *p, size_t n)
{
	uint8_t pad = p[n - 1];

	if (pad == 0 || pad > WIRE_BLOCK)
		return 0;
	for (size_t i = n - pad; i < n; i++)
		if (p[i] != pad)
			return 0;
	return pad;
}

/* Framing-independent part: MAC, then decrypt, then unpad, then the framing's payload limit
 * (E_TOOBIG above max). Structure already checked. */
static int
open_checked(struct crypto *c, const struct dirkey *k, const uint8_t *pkt, size_t len, size_t max,
	     uint8_t *payload, size_t cap, size_t *outlen)
{
	size_t ctlen = pkt_open_cap(len), pad;
	uint8_t tag[CRYPTO_SHA1_LEN];
	int r;

	if (cap < ctlen)
		return E_NOSPACE;
	if ((r = mac(c, k, pkt, len - WIRE_MAC_LEN, tag)) != 0)
		goto out;
	if (!crypto_ct_equal(tag, pkt + len - WIRE_MAC_LEN, WIRE_MAC_LEN)) {
		r = E_MAC;
		goto out;
	}
	if ((r = crypto_cbc_decrypt(c, k->ke, pkt + WIRE_HDR_LEN + ctlen, pkt + WIRE_HDR_LEN, ctlen,
				    payload)) != 0)
		goto out;
	if ((pad = pkt_padding_len(payload, ctlen)) == 0) {
		r = E_PADDING;
		goto out;
	}
	if (ctlen - pad > max) {
		r = E_TOOBIG;
		goto out;
	}
	*outlen = ctlen - pad;
	wipe(payload + *outlen, pad);
out:
	wipe(tag, sizeof(tag));
	if (r != 0 && cap >= ctlen)
		wipe(payload, ctlen);
	return r;
}

static int
check_structure(const uint8_t *pkt, size_t len, struct pkt_hdr *hdr)
{
	if (len < WIRE_SEALED_MIN)
		return E_SHORT;
	if ((len - WIRE_HDR_LEN - WIRE_TRAILER_LEN) % WIRE_BLOCK != 0)
		return E_ENCODING;
	if (pkt_peek(pkt, len, hdr) != 0)
		return E_SHORT;
	return hdr->msgid == 0 ? E_MSGID : 0;
}

int
pkt_open_udp(struct crypto *c, const struct dirkey *k, const uint8_t *pkt, size_t len,
	     struct pkt_hdr *hdr, uint8_t *payload, size_t cap, size_t *outlen)
{
	int r;

	*outlen = 0;
	memset(hdr, 0, sizeof(*hdr));
	if (len >= 4 && load_be32(pkt) == WIRE_SPI_CONTROL)
		return E_CHANNEL;
	if (len > WIRE_UDP_MAX)
		return E_TOOBIG;
	if ((r = check_structure(pkt, len, hdr)) != 0)
		return r;
	return open_checked(c, k, pkt, len, SIZE_MAX, payload, cap, outlen);
}

int
pkt_open_tcp(struct crypto *c, const struct dirkey *k, const uint8_t *pkt, size_t len,
	     struct pkt_hdr *hdr, uint8_t *payload, size_t cap, size_t *outlen)
{
	uint32_t size;
	int r;

	*outlen = 0;
	memset(hdr, 0, sizeof(*hdr));
	if (len >= 4) {
		size = load_be32(pkt);
		if (size > WIRE_TCP_SIZE_MAX)
			return E_TOOBIG;
		if (size > len - 4)
			return E_SHORT;
		if (size < len - 4)
			return E_TRAILING;
	}
	if ((r = check_structure(pkt, len, hdr)) != 0)
		return r;
	/* The largest size field leaves room for 15 bytes more than a body may have. */
	return open_checked(c, k, pkt, len, WIRE_MSG_MAX, payload, cap, outlen);
}
