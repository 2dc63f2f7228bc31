/* SPDX-License-Identifier: MIT */
/*
 * buri-control's session with the mediator (docs/PROTOCOL.md 7.1, 10), on the loop, never
 * blocking: connect over TCP, or over TLS to the TLS port when TCP cannot connect; HELO with
 * the pinned mediator key's fingerprint; AUTH (or REGISTER for a node without an identity);
 * AUTH OK checked against the pinned key; then requests with tags, answered through callbacks,
 * and pushes handed to on_msg. A lost session is retried after 1 s doubling to 30 s, +-20 %
 * jitter, reset by a successful login; while it waits, a bare TCP connect every 2 s checks
 * whether the mediator is back and ends the wait early. PINGs keep a quiet session checked.
 *
 * A signature or fingerprint failure is logged at error level as what it may be, a substituted
 * server, and retried on the same backoff (never in a tight loop).
 */
#ifndef BURI_CONTROL_MEDSESS_H
#define BURI_CONTROL_MEDSESS_H

#include <stdbool.h>
#include <stdint.h>

#include "common/crypto.h"
#include "common/msg.h"
#include "common/pubkey.h"
#include "control/loop.h"

enum medsess_state {
	MEDSESS_STOPPED,    /* logged out, or never started */
	MEDSESS_CONNECTING, /* connecting, logging in, or waiting to retry */
	MEDSESS_ONLINE,
};

struct medsess_params {
	struct loop *l;
	struct crypto *c;
	const char *host;
	uint16_t port, tls_port; /* tls_port 0: no TLS fallback */
	const struct pubkey *server_key;
	const struct pubkey *key; /* our key pair */
	uint32_t identity;	  /* 0: REGISTER with nick and token */
	const char *nick, *token;
	/* State changes; why is a one-line reason (static or valid during the call). */
	void (*on_state)(void *arg, enum medsess_state st, const char *why);
	/* A REGISTER was accepted: persist the identity (later logins use AUTH). */
	void (*on_registered)(void *arg, uint32_t identity);
	/* Every push (SESSION, NET, MEMBER, TUNNEL, TEXT, ...), in order. Spans in m are valid
	 * during the call only. */
	void (*on_msg)(void *arg, const struct msg *m);
	void *arg;
};

/* The answer to a request: status 0 or a negative E_* (the RESULT's, or E_IO when the session
 * ended first); text the RESULT's detail (NUL-terminated, "" if none). */
typedef void medsess_result_fn(void *arg, int status, const char *text);

struct medsess;

struct medsess *medsess_new(const struct medsess_params *p);
/* Ends the session without LOGOUT (the peers get PEER LOST); callbacks of pending requests
 * are not called. */
void medsess_free(struct medsess *ms);

/* Starts connecting (and keeps reconnecting until medsess_logout). */
void medsess_start(struct medsess *ms);
/* LOGOUT, then no reconnect until medsess_start (the peers get TUNNEL DOWN). fn (may be NULL)
 * gets the RESULT, or E_IO if the session ends first, or E_STATE if not online. */
void medsess_logout(struct medsess *ms, medsess_result_fn *fn, void *arg);
/* Switches to REGISTER at the next login (the account of our identity is gone). */
void medsess_set_identity(struct medsess *ms, uint32_t identity);

/* Sends req (its tag is set here) and calls fn with its answer. E_STATE when not online (fn is
 * not called), E_NOMEM, or an encoding error. */
int medsess_request(struct medsess *ms, struct msg *req, medsess_result_fn *fn,
		    void *arg) WARN_UNUSED;

struct medsess_info {
	enum medsess_state state;
	bool tls;
	uint32_t server_addr; /* IPv4 of the current or last connection, host order; 0 none */
	uint16_t server_port;
	uint64_t since; /* unix seconds: online since, or trying since */
	unsigned logins, failures;
	char last_error[160];
};
void medsess_info(const struct medsess *ms, struct medsess_info *out);

#endif
