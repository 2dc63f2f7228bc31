/* SPDX-License-Identifier: MIT */
/*
 * Levelled logging for the daemons' control paths, to stderr or syslog. Never per packet:
 * the data path counts instead (docs/STYLE.md rule 23).
 *
 * On stderr each message is one line, written with a single write(2) so that lines from
 * different threads do not interleave:
 *
 *	2026-11-22T05:04:01.123Z buri-mediator[4242] warn: message
 *
 * (UTC, milliseconds). Control characters in the message (a peer's nickname, say) are
 * printed as '?', so nobody can forge a log line; messages longer than LOG_LINE_MAX are
 * cut short. All functions are thread-safe once log_init() has returned.
 */
#ifndef BURI_LOG_H
#define BURI_LOG_H

#include <stdbool.h>
#include <stdint.h>

#include "common/util.h"

enum log_level { LOG_LVL_ERR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

enum log_limits {
	LOG_LINE_MAX = 1024,	   /* bytes of one line, prefix and newline included */
	LOG_RL_INTERVAL_MS = 5000, /* log_ratelimited(): the window ... */
	LOG_RL_BURST = 10,	   /* ... and how many messages one call site may log in it */
};

/*
 * The logger's configuration is process-wide: the one global state buri allows itself
 * (docs/STYLE.md anti-pattern 2), because every function of a daemon may need to log and
 * threading a logger handle through all of them, down to helpers in common/, would cost
 * more than it protects. It is set once, by main() before any thread starts; until then
 * messages go to stderr at LOG_LVL_INFO under the name "buri".
 *
 * prog is the name in each line (and the syslog ident); it is copied. With use_syslog the
 * messages go to syslog (facility daemon, with the pid) instead of stderr.
 */
void log_init(const char *prog, enum log_level level, bool use_syslog);

/* "error", "warn", "info" or "debug" (exactly, lower case) into *out: 0, or E_INVAL for
 * anything else. */
int log_level_parse(const char *s, enum log_level *out) WARN_UNUSED;

/* Logs one message at lvl if lvl is enabled (at or above the configured level's urgency).
 * A trailing newline is not needed. */
void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* State of one rate-limited call site; zero-initialised except for the two limits. */
struct log_rl {
	unsigned int interval_ms;
	unsigned int burst;
	uint64_t window_start_ms; /* CLOCK_MONOTONIC, when the current window began */
	unsigned int in_window;	  /* messages logged in this window */
	unsigned int suppressed;  /* messages dropped since the last one logged */
};

#define LOG_RL_INIT(interval_ms_, burst_)                                                          \
	{                                                                                          \
		.interval_ms = (interval_ms_), .burst = (burst_)                                   \
	}

/* Logs like log_msg() unless rl has used up its burst in the current window; dropped
 * messages are counted and the next message logged ends with " (N similar messages
 * suppressed)". Messages below the configured level neither log nor use up the burst. */
void log_msg_rl(struct log_rl *rl, enum log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * At most burst messages per interval_ms per call site. Each expansion keeps its own
 * static struct log_rl: the call site is what gets limited (one noisy peer in one place
 * must not silence every other message), and a static per site needs no registration.
 * Access to it is serialised inside log.c, so call sites may be shared by threads.
 */
#define log_ratelimited_every(interval_ms, burst, lvl, ...)                                        \
	do {                                                                                       \
		static struct log_rl log_rl_site_ = LOG_RL_INIT((interval_ms), (burst));           \
		log_msg_rl(&log_rl_site_, (lvl), __VA_ARGS__);                                     \
	} while (0)

/* At most LOG_RL_BURST messages per LOG_RL_INTERVAL_MS from this call site. */
#define log_ratelimited(lvl, ...)                                                                  \
	log_ratelimited_every(LOG_RL_INTERVAL_MS, LOG_RL_BURST, (lvl), __VA_ARGS__)

#define log_err(...)   log_msg(LOG_LVL_ERR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

#endif
