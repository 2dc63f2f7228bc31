/* SPDX-License-Identifier: MIT */
/*
 * Control-protocol messages: the login (HELO, HELO OK, AUTH / REGISTER, AUTH OK), session
 * messages (ERROR, RESULT, PING, PONG and, in later issues, the mediator's application
 * messages) and the peer key exchange (KE1, KE2, KE3). docs/PROTOCOL.md has every layout.
 *
 * A message body is: type (u16) then the type's fields. Where the body travels is its
 * channel; each type is valid only on the channels its descriptor lists, and a decoder is
 * always told which channel it reads, so a message out of place is an error (E_CHANNEL)
 * rather than something a state machine has to remember to refuse.
 *
 * Adding a message: an X() row below with a fresh code, a struct in the union, and one
 * descriptor row (decoder, encoder, channels, length bounds) in msg.c. Requests carry a
 * client-chosen tag (u32) as their first field; the reply is RESULT with the same tag, or a
 * typed reply whose first field is that tag. Unsolicited server messages carry no tag.
 *
 * Decoded spans borrow the input buffer and are valid as long as it is.
 */
#ifndef BURI_MSG_H
#define BURI_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/wire.h"

/* Type codes are stable wire values: 0x00xx login, 0x01xx session, 0x02xx-0x0fxx mediator
 * applications, 0x10xx tunnel control between peers. */
#define MSG_LIST(X)                                                                                \
	X(MSG_HELO, 0x0001, "HELO")                                                                \
	X(MSG_HELO_OK, 0x0002, "HELO OK")                                                          \
	X(MSG_AUTH, 0x0003, "AUTH")                                                                \
	X(MSG_REGISTER, 0x0004, "REGISTER")                                                        \
	X(MSG_AUTH_OK, 0x0005, "AUTH OK")                                                          \
	X(MSG_ERROR, 0x0006, "ERROR")                                                              \
	X(MSG_RESULT, 0x0100, "RESULT")                                                            \
	X(MSG_PING, 0x0101, "PING")                                                                \
	X(MSG_PONG, 0x0102, "PONG")                                                                \
	X(MSG_KE1, 0x1001, "KE1")                                                                  \
	X(MSG_KE2, 0x1002, "KE2")                                                                  \
	X(MSG_KE3, 0x1003, "KE3")

enum msg_type {
#define MSG_ENUM(name, code, str) name = code,
	MSG_LIST(MSG_ENUM)
#undef MSG_ENUM
};

enum msg_channel {
	MSG_CH_CLEAR_C2S = 1 << 0,   /* cleartext TCP frame, node to mediator */
	MSG_CH_CLEAR_S2C = 1 << 1,   /* cleartext TCP frame, mediator to node */
	MSG_CH_SESSION_C2S = 1 << 2, /* protected TCP frame, node to mediator */
	MSG_CH_SESSION_S2C = 1 << 3, /* protected TCP frame, mediator to node */
	MSG_CH_TUNNEL = 1 << 4,	     /* tunnel control packet between peers (UDP, SPI 0) */
};

struct msg_helo {
	uint8_t suite;
	uint8_t kfp[WIRE_KFP_LEN];
	uint8_t ni[WIRE_NONCE_LEN];
	uint8_t gi[WIRE_DH_LEN];
};

struct msg_helo_ok {
	uint8_t nr[WIRE_NONCE_LEN];
	uint8_t gr[WIRE_DH_LEN];
};

/* AUTH (identity = the node's overlay IPv4 address, host order) and AUTH OK (identity = the
 * address the mediator confirms or, after REGISTER, assigns). */
struct msg_auth {
	uint32_t identity;
	struct span sig;
};

struct msg_register {
	struct span pubkey; /* DER SubjectPublicKeyInfo */
	struct span nick;   /* UTF-8, may be empty: the mediator picks one */
	struct span token;  /* UTF-8 registration token, empty on open mediators */
	struct span sig;
};

struct msg_error {
	uint16_t status; /* E_* as a wire code (err.h) */
	struct span text;
};

struct msg_result {
	uint32_t tag;
	uint16_t status;
	struct span text;
};

struct msg_ping {
	uint32_t tag;
};

/* KE1 (sig empty), KE2 (Nr, Gr, sig) and KE3 (Ni, Gi, sig). */
struct msg_ke {
	uint8_t nonce[WIRE_NONCE_LEN];
	uint8_t dh[WIRE_DH_LEN];
	struct span sig;
};

struct msg {
	uint16_t type;
	union {
		struct msg_helo helo;
		struct msg_helo_ok helo_ok;
		struct msg_auth auth; /* AUTH and AUTH OK */
		struct msg_register reg;
		struct msg_error error;
		struct msg_result result;
		struct msg_ping ping; /* PING and PONG */
		struct msg_ke ke;     /* KE1, KE2, KE3 */
	} u;
};

/* Decode the body p[0..len) read on channel (one MSG_CH_* bit). Checks, in order: type known
 * (E_TYPE), allowed on channel (E_CHANNEL), length within the type's bounds (E_SHORT /
 * E_TOOBIG), each field (E_RANGE, E_ENCODING), nothing left over (E_TRAILING). */
int msg_decode(unsigned int channel, const uint8_t *p, size_t len, struct msg *m) WARN_UNUSED;

/* Encode m for channel into out. The result is checked with msg_decode(), so nothing this
 * returns 0 for is refused by a conforming peer. */
int msg_encode(unsigned int channel, const struct msg *m, uint8_t *out, size_t cap,
	       size_t *len) WARN_UNUSED;

/* "HELO", "KE2", ...; "unknown" for codes this build does not know. */
const char *msg_name(uint16_t type);

/* Largest body of any known type: a buffer this big holds any encodable message. */
size_t msg_max_len(void);

#endif
