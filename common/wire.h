/* SPDX-License-Identifier: MIT */
/*
 * Protocol constants of buri, crypto suite 1. docs/PROTOCOL.md is the normative text; every
 * number here appears there. All integers on the wire are big-endian.
 *
 * Protected UDP packet (tunnel data, and the KE "dummy" message):
 *
 *   0               4               8                        8+C      8+C+16   8+C+28
 *   +---------------+---------------+------------------------+--------+--------+
 *   |   SPI (!= 0)  |  message ID   | AES-256-CBC ciphertext |   IV   |  MAC   |
 *   +---------------+---------------+------------------------+--------+--------+
 *                                     C = 16 * k, k >= 1       16 B     12 B
 *   MAC = first 12 bytes of HMAC-SHA1(Ka, bytes [0, 8+C+16))
 *
 * Protected TCP frame (mediator session after HELO / HELO OK):
 *
 *   +---------------+---------------+------------------------+--------+--------+
 *   |  size         |  message ID   | AES-256-CBC ciphertext |   IV   |  MAC   |
 *   +---------------+---------------+------------------------+--------+--------+
 *   size = number of bytes after the size field = 4 + C + 28; message ID >= 1
 *
 * Cleartext TCP frame (HELO, HELO OK, ERROR before keys exist):
 *
 *   +---------------+---------------+----------------------------+
 *   |  size         |  0x00000000   |  message body (type, ...)  |
 *   +---------------+---------------+----------------------------+
 *
 * Tunnel control packet on the tunnel UDP port (KE1, KE2, KE3, and later probes):
 *
 *   +---------------+---------------+---------------+-------+--------------------+
 *   |  0x00000000   |   dst SPI     |   src SPI     | type  |  fields of type    |
 *   +---------------+---------------+---------------+-------+--------------------+
 *   SPI 0 never names a security association, so byte 0..3 tells control from data.
 */
#ifndef BURI_WIRE_H
#define BURI_WIRE_H

enum wire_sizes {
	WIRE_SUITE_1 = 1,      /* the only crypto suite: MODP-2048, AES-256-CBC, HMAC-SHA1-96 */
	WIRE_NONCE_LEN = 128,  /* bytes: a 1024-bit nonce */
	WIRE_DH_LEN = 256,     /* bytes: a MODP-2048 public value or shared secret */
	WIRE_KFP_LEN = 20,     /* bytes: SHA-1 key fingerprint */
	WIRE_SIG_MIN = 256,    /* bytes: RSA-2048 signature */
	WIRE_SIG_MAX = 512,    /* bytes: RSA-4096 signature */
	WIRE_PUBKEY_MAX = 800, /* bytes: DER SubjectPublicKeyInfo (RSA-4096 is 550) */
	WIRE_KE_LEN = 32,      /* bytes: AES-256 key Ke */
	WIRE_KA_LEN = 20,      /* bytes: HMAC-SHA1 key Ka */
	WIRE_DIRKEY_LEN = 52,  /* bytes of KEYMAT per direction: Ke then Ka */
	WIRE_KEYMAT_LEN = 104, /* bytes of KEYMAT per session: two directions */
	WIRE_BLOCK = 16,       /* bytes: AES block */
	WIRE_IV_LEN = 16,      /* bytes */
	WIRE_MAC_LEN = 12,     /* bytes: HMAC-SHA1-96 */
	WIRE_HDR_LEN = 8,      /* bytes: SPI or size, then message ID */
	WIRE_TRAILER_LEN = 28, /* bytes: IV then MAC */
	WIRE_SEAL_OVERHEAD_MAX = 8 + 16 + 28, /* bytes added to a payload, padding included */
	WIRE_SEALED_MIN = 8 + 16 + 28,	      /* bytes: an empty payload still has one block */
	WIRE_MSG_MAX = 65536,		      /* bytes: largest message body on the session */
	WIRE_CLEAR_MAX = 2048,		      /* bytes: largest cleartext frame body */
	WIRE_UDP_MAX = 65507,		      /* bytes: largest UDP payload over IPv4 */
	WIRE_TCP_SIZE_MAX = 4 + WIRE_MSG_MAX + 16 + 28, /* largest value of a size field */
	WIRE_TUNNEL_CTL_HDR = 14,			/* bytes: marker, dst SPI, src SPI, type */
	WIRE_TUNNEL_CTL_MAX = 1200, /* bytes: a tunnel control packet, below IPv6 min MTU */
	WIRE_REPLAY_WINDOW = 1984,  /* message IDs: UDP anti-replay window width */
	WIRE_NICK_MAX = 64,	    /* bytes of UTF-8 */
	WIRE_NAME_MAX = 64,	    /* bytes of UTF-8: a network name */
	WIRE_PASS_MAX = 128,	    /* bytes of UTF-8: a network password */
	WIRE_TOKEN_MAX = 128,	    /* bytes of UTF-8: registration token */
	WIRE_TEXT_MAX = 1024,	    /* bytes of UTF-8: error and status texts */
};

#define WIRE_SPI_CONTROL 0u /* SPI field value that marks a tunnel control packet */
/* SPIs the mediator assigns are 1..WIRE_SPI_MEDIATOR_MAX; a node chooses those of its rekeyed
 * SAs with the top bit set (WIRE_SPI_NODE), so the two never collide. */
#define WIRE_SPI_MEDIATOR_MAX 0x7fffffffu
#define WIRE_SPI_NODE	      0x80000000u

#endif
