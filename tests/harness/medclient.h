/* SPDX-License-Identifier: MIT */
/*
 * A blocking test client of the mediator protocol, built on common/ only, for integration
 * tests and tools. It speaks PROTOCOL.md exactly (it is a second implementation of the node
 * side of the login), and it can also misbehave on purpose (raw frames, bad MACs, replays).
 *
 * Messages the mediator pushes while the client waits for something else are queued; the
 * mc_wait* functions look in the queue first. Spans in a returned struct msg point into the
 * client and stay valid until the next call on it.
 *
 * Every function with a timeout returns E_TIMEOUT when it passes. Functions return 0 or a
 * negative E_*; a RESULT with a non-zero status is reported through *status, not as an error.
 */
#ifndef BURI_TEST_MEDCLIENT_H
#define BURI_TEST_MEDCLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/msg.h"
#include "common/wire.h"

struct pubkey;
struct medclient;

/* Connects to 127.0.0.1:port (or host), plain TCP or TLS; no login yet. NULL on failure. */
struct medclient *mc_connect(const char *host, uint16_t port, bool tls, int timeout_ms);
void mc_close(struct medclient *mc);
int mc_fd(const struct medclient *mc);

/* HELO with server fingerprint kfp, HELO OK, then REGISTER (key, nick, token; nick and token
 * may be NULL for empty) or AUTH (identity) and AUTH OK, whose signature is verified with
 * server_key (the public key of the mediator). On success *identity holds the node's address
 * and the session is online. A refusal by the server (ERROR) returns its code as a negative
 * E_* value (e.g. E_SERVERKEY, E_IDENTITY, E_SIGNATURE, E_TOKEN). */
int mc_register(struct medclient *mc, const uint8_t kfp[WIRE_KFP_LEN],
		const struct pubkey *server_key, const struct pubkey *key, const char *nick,
		const char *token, uint32_t *identity, int timeout_ms);
int mc_login(struct medclient *mc, const uint8_t kfp[WIRE_KFP_LEN], const struct pubkey *server_key,
	     const struct pubkey *key, uint32_t identity, int timeout_ms);

/* Sends one message, sealed (online) or as a cleartext frame (before keys). */
int mc_send(struct medclient *mc, const struct msg *msg);
/* Sends the request msg (its tag is set by the client) and waits for its RESULT; *status is
 * the RESULT's status as a negative E_* (0 for success), text (may be NULL) its detail. Pushes
 * that arrive meanwhile are queued. */
int mc_request(struct medclient *mc, struct msg *msg, int *status, char *text, size_t textcap,
	       int timeout_ms);
/* The next message of type (queued or arriving within timeout_ms); 0 and *out, or
 * E_TIMEOUT. If match is not NULL, only a message for which match(msg, arg) is true counts. */
int mc_wait(struct medclient *mc, uint16_t type, bool (*match)(const struct msg *m, void *arg),
	    void *arg, struct msg *out, int timeout_ms);
/* Whether a message of type is queued or arrives within timeout_ms (not removed). */
bool mc_has(struct medclient *mc, uint16_t type, int timeout_ms);
/* Drops every queued message. */
void mc_drain(struct medclient *mc, int quiet_ms);
/* True once the server closed the connection (after reading what was sent before); the
 * ERROR it sent last, if any, in *err_status (negative E_*, 0 if none). Waits up to
 * timeout_ms. */
bool mc_closed(struct medclient *mc, int *err_status, int timeout_ms);

/* Raw access for bad-input tests. */
int mc_write_raw(struct medclient *mc, const void *p, size_t len);
/* Seals body[0..len) with the given message ID (the next one is mc_next_msgid()). */
int mc_seal_raw(struct medclient *mc, uint32_t msgid, const uint8_t *body, size_t len, uint8_t *out,
		size_t cap, size_t *outlen);
uint32_t mc_next_msgid(const struct medclient *mc);
/* The 20-byte discovery key from SESSION and the SESSION message itself (after login). */
const struct msg_session *mc_session(const struct medclient *mc);

/* Additions (existing declarations above are unchanged). */

/* HELO with fingerprint kfp and HELO OK only: afterwards the session keys exist, mc_send
 * seals, and the server waits for AUTH or REGISTER. A refusal returns the ERROR's code. For
 * tests that misbehave after the key agreement (a request in place of AUTH, a second HELO). */
int mc_helo(struct medclient *mc, const uint8_t kfp[WIRE_KFP_LEN], int timeout_ms);
/* Sends msg as a cleartext frame whatever the state (bad-input tests). */
int mc_send_clear(struct medclient *mc, const struct msg *msg);
/* PING with a fresh tag and its PONG; 0 or E_TIMEOUT, or how the session ended. */
int mc_ping(struct medclient *mc, int timeout_ms);
/* Type of the i-th queued message (0 if fewer are queued), without reading the socket. */
uint16_t mc_peek_type(const struct medclient *mc, size_t i);

/* Notes on the functions above:
 * - mc_wait, mc_request and mc_ping return, when the connection ends before the awaited
 *   message, the code of the server's last ERROR (negative E_*), the code of a check the
 *   server's frame failed here (E_MAC, E_MSGID, E_STATE for a frame out of state, ...), or
 *   E_IO if it just closed.
 * - mc_seal_raw uses the keys of the session (all zero before HELO OK), so it can also make
 *   a well-formed protected frame before HELO; when msgid >= mc_next_msgid() the client's
 *   counter moves on to msgid, so that later mc_send calls never reuse it.
 * - mc_login / mc_register return once SESSION has arrived too; it stays queued.
 * - The socket is blocking (send and receive time-outs bound every call); reads wait with
 *   poll() first. mc_connect sets SIGPIPE to SIG_IGN for the process. */

#endif
