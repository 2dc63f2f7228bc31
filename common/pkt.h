/* SPDX-License-Identifier: MIT */
/*
 * Seal and open of protected messages, both framings (wire.h has the diagrams). This is the
 * reference implementation: the data plane's batched path must produce the same bytes.
 *
 * Padding (PKCS#7): the payload is followed by n bytes of value n, 1 <= n <= 16, so that the
 * ciphertext is a non-zero multiple of 16 bytes. An empty payload (the KE "dummy" message)
 * becomes one block of sixteen 0x10 bytes.
 *
 * Open checks, in this order, and stops at the first failure: structure (length, alignment,
 * size field, SPI, message ID != 0), then the MAC in constant time, and only then decrypts and
 * unpads. Replay protection is the caller's: read the header with pkt_peek(), check the
 * window, open, then advance the window (replay.h).
 */
#ifndef BURI_PKT_H
#define BURI_PKT_H

#include <stddef.h>
#include <stdint.h>

#include "common/keymat.h"
#include "common/wire.h"

struct pkt_hdr {
	uint32_t word0; /* SPI (UDP) or size (TCP) */
	uint32_t msgid;
};

/* Length of the sealed form of a len-byte payload (either framing). */
static inline size_t
pkt_sealed_len(size_t len)
{
	return WIRE_HDR_LEN + (len / WIRE_BLOCK + 1) * WIRE_BLOCK + WIRE_TRAILER_LEN;
}

/* Bytes of payload buffer pkt_open_*() needs for a sealed message of sealed_len bytes. */
static inline size_t
pkt_open_cap(size_t sealed_len)
{
	return sealed_len > WIRE_HDR_LEN + WIRE_TRAILER_LEN
		       ? sealed_len - WIRE_HDR_LEN - WIRE_TRAILER_LEN
		       : 0;
}

/* Seal payload[0..len) into out (cap bytes; pkt_sealed_len(len) needed, E_NOSPACE otherwise).
 * spi must not be 0 and msgid must not be 0 (E_INVAL, E_MSGID). iv must be fresh random bytes
 * for every message; fixed IVs are for test vectors only. payload and out must not overlap.
 * The sealed packet must fit one UDP datagram (WIRE_UDP_MAX), else E_TOOBIG. */
int pkt_seal_udp(struct crypto *c, const struct dirkey *k, uint32_t spi, uint32_t msgid,
		 const uint8_t iv[WIRE_IV_LEN], const uint8_t *payload, size_t len, uint8_t *out,
		 size_t cap, size_t *outlen) WARN_UNUSED;

/* As pkt_seal_udp with the TCP framing; the size field is computed. E_TOOBIG if len exceeds
 * WIRE_MSG_MAX. */
int pkt_seal_tcp(struct crypto *c, const struct dirkey *k, uint32_t msgid,
		 const uint8_t iv[WIRE_IV_LEN], const uint8_t *payload, size_t len, uint8_t *out,
		 size_t cap, size_t *outlen) WARN_UNUSED;

/* Open the sealed message pkt[0..len) into payload (cap >= pkt_open_cap(len)); on success
 * *hdr and *outlen describe it. Errors: E_SHORT, E_ENCODING (misaligned), E_CHANNEL (SPI 0),
 * E_MSGID (ID 0), E_MAC, E_PADDING, E_NOSPACE, and for TCP E_TRAILING / E_TOOBIG when the
 * size field disagrees with len or exceeds the maximum, or the payload exceeds WIRE_MSG_MAX;
 * UDP: E_TOOBIG above WIRE_UDP_MAX. On error payload holds nothing. */
int pkt_open_udp(struct crypto *c, const struct dirkey *k, const uint8_t *pkt, size_t len,
		 struct pkt_hdr *hdr, uint8_t *payload, size_t cap, size_t *outlen) WARN_UNUSED;
int pkt_open_tcp(struct crypto *c, const struct dirkey *k, const uint8_t *pkt, size_t len,
		 struct pkt_hdr *hdr, uint8_t *payload, size_t cap, size_t *outlen) WARN_UNUSED;

/* The length of a valid PKCS#7 padding at the end of p[0..n) (n >= 16, a multiple of 16), or 0
 * if it is malformed. Call it only on decrypted, authenticated data: it is not constant time. */
size_t pkt_padding_len(const uint8_t *p, size_t n);

/* The first two words of pkt without any check of authenticity; E_SHORT if len < 8. */
int pkt_peek(const uint8_t *pkt, size_t len, struct pkt_hdr *hdr) WARN_UNUSED;

#endif
