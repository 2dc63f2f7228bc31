/* SPDX-License-Identifier: MIT */
/*
 * Message-ID bookkeeping against replay.
 *
 * UDP: a sliding window in the manner of RFC 6479: a ring of 64-bit words, whole words
 * cleared as the top advances, so the cost per packet is constant. IDs within
 * WIRE_REPLAY_WINDOW (1984) of the highest ID seen are accepted once each, in any order;
 * older ones are refused as too old. ID 0 is never valid.
 *
 * TCP: the stream is ordered, so each frame must carry exactly the previous ID plus one,
 * starting at 1.
 *
 * Senders: IDs start at 1 and never wrap; after 0xffffffff the session must be rekeyed.
 */
#ifndef BURI_REPLAY_H
#define BURI_REPLAY_H

#include <stdint.h>

#include "common/util.h"
#include "common/wire.h"

enum { REPLAY_WORDS = 32 }; /* 2048 bits, (32 - 1) * 64 = WIRE_REPLAY_WINDOW usable */

_Static_assert((REPLAY_WORDS - 1) * 64 == WIRE_REPLAY_WINDOW, "window width");

struct replay {
	uint32_t top; /* highest ID accepted so far, 0 before the first */
	uint64_t map[REPLAY_WORDS];
};

void replay_init(struct replay *w);
/* 0 if id may be accepted; E_MSGID for 0, E_REPLAY if seen, E_TOOOLD if below the window.
 * Does not change w: call it before authenticating the packet. */
int replay_check(const struct replay *w, uint32_t id) WARN_UNUSED;
/* Records id as seen. Call only after the packet's MAC verified and replay_check() said 0. */
void replay_update(struct replay *w, uint32_t id);

/* TCP receive side: 0 and *last = id if id == *last + 1, else E_MSGID. */
int replay_stream_accept(uint32_t *last, uint32_t id) WARN_UNUSED;

/* Send side: the next ID in *id and the counter advanced, or E_EXHAUSTED once all 2^32 - 1
 * IDs are used. Start *counter at 0. */
int msgid_next(uint32_t *counter, uint32_t *id) WARN_UNUSED;

#endif
