/* SPDX-License-Identifier: MIT */
/*
 * Framing that is not cryptography: where a TCP frame ends, cleartext TCP frames (HELO,
 * HELO OK, ERROR before keys exist) and tunnel control packets (SPI 0). wire.h draws them.
 */
#ifndef BURI_FRAME_H
#define BURI_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/msg.h"

/* From the first 4 bytes of a TCP frame, its total length (size field + 4). E_TOOBIG above
 * the largest protected frame, E_SHORT if the size cannot even hold a message ID. A stream
 * reader calls this before buffering the rest, so a peer cannot make it reserve more. */
int frame_tcp_total(const uint8_t hdr[4], size_t *total) WARN_UNUSED;

/* True if the whole frame f[0..len) (len >= 8) is cleartext, i.e. its message ID is 0. */
bool frame_tcp_is_clear(const uint8_t *f, size_t len);

/* size | 0 | body of m, for MSG_CH_CLEAR_* channels. */
int frame_clear_encode(unsigned int channel, const struct msg *m, uint8_t *out, size_t cap,
		       size_t *len) WARN_UNUSED;
/* Decode a whole cleartext frame. E_MSGID if it is not cleartext; E_SHORT / E_TRAILING if
 * its size field disagrees with len; E_TOOBIG past WIRE_CLEAR_MAX; then msg_decode(). */
int frame_clear_decode(unsigned int channel, const uint8_t *f, size_t len,
		       struct msg *m) WARN_UNUSED;

struct tunnel_ctl {
	uint32_t dst_spi; /* the receiver's inbound SPI: names the tunnel at the receiver */
	uint32_t src_spi; /* the sender's inbound SPI */
	struct msg msg;
};

/* True if a UDP payload on the tunnel port is a control packet (SPI field 0). */
bool frame_udp_is_control(const uint8_t *p, size_t len);
int tunnel_ctl_encode(const struct tunnel_ctl *t, uint8_t *out, size_t cap,
		      size_t *len) WARN_UNUSED;
/* E_CHANNEL if p is not a control packet; E_TOOBIG past WIRE_TUNNEL_CTL_MAX; E_INVAL if
 * either SPI is 0; then msg_decode() on MSG_CH_TUNNEL. */
int tunnel_ctl_decode(const uint8_t *p, size_t len, struct tunnel_ctl *t) WARN_UNUSED;

#endif
