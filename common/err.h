/* SPDX-License-Identifier: MIT */
/*
 * One error convention for all of buri: functions return 0 on success or a negative E_* code.
 * The same numbers, made positive, are the status codes carried on the wire (ERROR and RESULT
 * messages, docs/PROTOCOL.md "Status codes"), so a value, once assigned, never changes.
 *
 * Ranges: 1-31 generic, 32-63 cryptography and replay, 64-95 configuration and files,
 * 96-127 control channel and sessions, 128-255 reserved for the mediator's application
 * messages (networks, accounts), 256-511 for tunnels and NAT traversal.
 */
#ifndef BURI_ERR_H
#define BURI_ERR_H

#include <stdint.h>

#define ERR_LIST(X)                                                                                \
	X(E_INVAL, 1, "invalid argument")                                                          \
	X(E_NOMEM, 2, "out of memory")                                                             \
	X(E_SHORT, 3, "truncated message")                                                         \
	X(E_TRAILING, 4, "unexpected trailing bytes")                                              \
	X(E_TOOBIG, 5, "message too large")                                                        \
	X(E_RANGE, 6, "value out of range")                                                        \
	X(E_TYPE, 7, "unknown message type")                                                       \
	X(E_CHANNEL, 8, "message type not allowed on this channel")                                \
	X(E_STATE, 9, "message not valid in the current state")                                    \
	X(E_ENCODING, 10, "malformed field encoding")                                              \
	X(E_NOSPACE, 11, "output buffer too small")                                                \
	X(E_CRYPTO, 12, "cryptographic library failure")                                           \
	X(E_MAC, 32, "message authentication failed")                                              \
	X(E_PADDING, 33, "malformed padding")                                                      \
	X(E_REPLAY, 34, "replayed message ID")                                                     \
	X(E_TOOOLD, 35, "message ID too old for the replay window")                                \
	X(E_MSGID, 36, "message ID out of sequence")                                               \
	X(E_EXHAUSTED, 37, "message IDs exhausted, rekey required")                                \
	X(E_SIGNATURE, 38, "signature verification failed")                                        \
	X(E_DHPUB, 39, "invalid Diffie-Hellman public value")                                      \
	X(E_KEY, 40, "unusable or unsupported key")                                                \
	X(E_SUITE, 41, "unsupported crypto suite")                                                 \
	X(E_CONF, 64, "configuration error")                                                       \
	X(E_IO, 65, "file or I/O error")                                                           \
	X(E_PERM, 66, "unsafe file permissions")                                                   \
	X(E_SERVERKEY, 96, "server does not hold the requested key")                               \
	X(E_IDENTITY, 97, "unknown identity")                                                      \
	X(E_PROTOCOL, 98, "protocol violation")                                                    \
	X(E_RATE, 99, "too many handshakes from this address, try later")                          \
	X(E_BUSY, 100, "server busy, try later")                                                   \
	X(E_TIMEOUT, 101, "timed out")                                                             \
	X(E_REPLACED, 102, "logged in again from elsewhere")                                       \
	X(E_SHUTDOWN, 103, "server shutting down")                                                 \
	X(E_NOTALLOWED, 128, "not allowed for your role")                                          \
	X(E_NOTFOUND, 129, "no such network or member")                                            \
	X(E_PASSWORD, 130, "wrong password")                                                       \
	X(E_LOCKED, 131, "network is locked")                                                      \
	X(E_BANNED, 132, "banned from this network")                                               \
	X(E_FULL, 133, "network is full")                                                          \
	X(E_NETLIMIT, 134, "too many networks for this node")                                      \
	X(E_EXISTS, 135, "already exists")                                                         \
	X(E_TOKEN, 136, "registration needs a valid token")                                        \
	X(E_STORE, 137, "the server could not store the change")                                   \
	X(E_EXPIRED, 256, "relay grant expired")

enum err {
	E_OK = 0,
#define ERR_ENUM(name, num, str) name = -(num),
	ERR_LIST(ERR_ENUM)
#undef ERR_ENUM
};

/* A static string describing code (0 or a negative E_*); never NULL. */
const char *err_str(int code);

/* The wire status code for code: 0 for success, otherwise -code. */
static inline uint16_t
err_to_wire(int code)
{
	return code >= 0 ? 0 : (uint16_t)(-code);
}

/* True if status is a code this build knows (wire codes from a newer peer may not be). */
_Bool err_known(uint16_t status);

#endif
