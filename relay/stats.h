/* SPDX-License-Identifier: MIT */
/*
 * buri-relay's counters, one X-macro list so the struct, the names in the log line and the
 * tests cannot disagree. The data path counts, it never logs (docs/STYLE.md rule 23); main
 * logs the totals every minute and on SIGUSR1.
 *
 * The table (table.c) counts what it decides: forwards, drops by reason, BIND outcomes. The
 * program (relay.c, udp.c, tcp.c) counts what happens after: a target that is gone, output
 * that does not fit, a failed send, TCP connections.
 */
#ifndef BURI_RELAY_STATS_H
#define BURI_RELAY_STATS_H

#include <stddef.h>
#include <stdint.h>

#define RELAY_STATS(X)                                                                             \
	X(fwd_pkts)	    /* datagrams forwarded */                                              \
	X(fwd_bytes)	    /* their bytes */                                                      \
	X(drop_invalid)	    /* shorter than 8 bytes or longer than a UDP datagram */               \
	X(drop_no_route)    /* (source endpoint, dstSPI) is no bound pair */                       \
	X(drop_rate)	    /* the session is over its byte rate */                                \
	X(drop_unreachable) /* the target TCP connection is gone */                                \
	X(drop_tcp_full)    /* the target TCP connection's output is full */                       \
	X(drop_send)	    /* the kernel refused a UDP send */                                    \
	X(msg_bad)	    /* a relay message that is no well-formed RELAY BIND */                \
	X(bind_ok)                                                                                 \
	X(bind_bad_mac) /* dropped silently */                                                     \
	X(bind_replay)	/* seq not above the side's last: dropped silently */                      \
	X(bind_expired) /* answered E_EXPIRED */                                                   \
	X(bind_rate)	/* answered E_RATE: the source address is over its BIND rate */            \
	X(bind_state)	/* answered E_STATE: identities disagree with the session's */             \
	X(bind_busy)	/* answered E_BUSY: an SPI another session routes */                       \
	X(bind_full)	/* answered E_BUSY: no room (sessions, per identity, memory) */            \
	X(sessions_new)                                                                            \
	X(sessions_expired)                                                                        \
	X(sessions_superseded)                                                                     \
	X(tcp_accepted)                                                                            \
	X(tcp_refused)	 /* over limits.tcp_connections */                                         \
	X(tcp_bad_frame) /* closed: a frame length below 8 */                                      \
	X(tcp_idle)	 /* closed: nothing received for limits.idle_timeout */

struct relay_stats {
#define RELAY_STATS_FIELD(name) uint64_t name;
	RELAY_STATS(RELAY_STATS_FIELD)
#undef RELAY_STATS_FIELD
};

/* "name value name value ..." for every counter into out[0..cap), NUL-terminated (cut short
 * if cap is too small). */
void stats_format(const struct relay_stats *s, char *out, size_t cap);

#endif
