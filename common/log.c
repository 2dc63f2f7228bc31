/* SPDX-License-Identifier: MIT */
#include "common/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"

/* See log_init() in the header for why this is global. Written only by log_init(), before
 * other threads exist; rl_lock guards every struct log_rl. */
static struct {
	char prog[64];
	enum log_level level;
	bool use_syslog;
	pthread_mutex_t rl_lock;
} logger = {"buri", LOG_LVL_INFO, false, PTHREAD_MUTEX_INITIALIZER};

static const struct {
	const char *name;
	int syslog_prio;
} levels[] = {
	[LOG_LVL_ERR] = {"error", LOG_ERR},
	[LOG_LVL_WARN] = {"warn", LOG_WARNING},
	[LOG_LVL_INFO] = {"info", LOG_INFO},
	[LOG_LVL_DEBUG] = {"debug", LOG_DEBUG},
};

/* One output line being built. len stays at most sizeof(buf) - 2, leaving room for the
 * newline and the NUL. */
struct line {
	char buf[LOG_LINE_MAX];
	size_t len;
};

void
log_init(const char *prog, enum log_level level, bool use_syslog)
{
	if (logger.use_syslog)
		closelog();
	snprintf(logger.prog, sizeof(logger.prog), "%s", prog != NULL ? prog : "buri");
	logger.level = level;
	logger.use_syslog = use_syslog;
	/* LOG_NDELAY connects now, before the daemon chroots or drops privileges. syslog keeps
	 * the ident pointer, which is why prog lives in logger. */
	if (use_syslog)
		openlog(logger.prog, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

int
log_level_parse(const char *s, enum log_level *out)
{
	for (size_t i = 0; i < ARRAY_SIZE(levels); i++) {
		if (strcmp(s, levels[i].name) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return E_INVAL;
}

static bool
enabled(enum log_level lvl)
{
	return lvl <= logger.level;
}

__attribute__((format(printf, 2, 0))) static void
line_vadd(struct line *l, const char *fmt, va_list ap)
{
	size_t room = sizeof(l->buf) - 1 - l->len; /* for vsnprintf: text and its NUL */
	int n = vsnprintf(l->buf + l->len, room, fmt, ap);

	if (n > 0)
		l->len += MIN((size_t)n, room - 1);
}

__attribute__((format(printf, 2, 3))) static void
line_add(struct line *l, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	line_vadd(l, fmt, ap);
	va_end(ap);
}

/* "2026-11-22T05:04:01.123Z prog[pid] level: " */
static void
add_prefix(struct line *l, enum log_level lvl)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	l->len += strftime(l->buf + l->len, sizeof(l->buf) - 1 - l->len, "%Y-%m-%dT%H:%M:%S", &tm);
	line_add(l, ".%03ldZ %s[%ld] %s: ", ts.tv_nsec / 1000000, logger.prog, (long)getpid(),
		 levels[lvl].name);
}

/* Drops trailing newlines, then replaces control characters with '?': messages carry
 * strings from the network, and a newline or an escape sequence in one must not forge a
 * line or drive the terminal. */
static void
clean(struct line *l, size_t from)
{
	while (l->len > from && l->buf[l->len - 1] == '\n')
		l->len--;
	for (size_t i = from; i < l->len; i++)
		if ((unsigned char)l->buf[i] < 0x20 || l->buf[i] == 0x7f)
			l->buf[i] = '?';
}

static void
write_stderr(const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(STDERR_FILENO, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return; /* nowhere left to report it */
		p += w;
		n -= (size_t)w;
	}
}

__attribute__((format(printf, 3, 0))) static void
vlog(enum log_level lvl, unsigned int suppressed, const char *fmt, va_list ap)
{
	struct line l = {.len = 0};
	size_t msg;

	if ((unsigned int)lvl >= ARRAY_SIZE(levels))
		lvl = LOG_LVL_DEBUG;
	if (!logger.use_syslog)
		add_prefix(&l, lvl);
	msg = l.len;
	line_vadd(&l, fmt, ap);
	clean(&l, msg);
	if (suppressed > 0)
		line_add(&l, " (%u similar messages suppressed)", suppressed);
	if (logger.use_syslog) {
		l.buf[l.len] = '\0';
		syslog(levels[lvl].syslog_prio, "%s", l.buf);
		return;
	}
	l.buf[l.len++] = '\n';
	write_stderr(l.buf, l.len);
}

void
log_msg(enum log_level lvl, const char *fmt, ...)
{
	va_list ap;

	if (!enabled(lvl))
		return;
	va_start(ap, fmt);
	vlog(lvl, 0, fmt, ap);
	va_end(ap);
}

static uint64_t
monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* True if rl allows one more message now; then *suppressed is how many it dropped since
 * the last one it allowed. A site's first window starts at 0 (boot), which only matters
 * in the first interval after boot and errs on the side of logging. */
static bool
rl_allow(struct log_rl *rl, unsigned int *suppressed)
{
	uint64_t now = monotonic_ms();
	bool ok;

	pthread_mutex_lock(&logger.rl_lock);
	if (now - rl->window_start_ms >= rl->interval_ms) {
		rl->window_start_ms = now;
		rl->in_window = 0;
	}
	if ((ok = rl->in_window < rl->burst)) {
		rl->in_window++;
		*suppressed = rl->suppressed;
		rl->suppressed = 0;
	} else {
		rl->suppressed++;
	}
	pthread_mutex_unlock(&logger.rl_lock);
	return ok;
}

void
log_msg_rl(struct log_rl *rl, enum log_level lvl, const char *fmt, ...)
{
	unsigned int suppressed = 0;
	va_list ap;

	if (!enabled(lvl) || !rl_allow(rl, &suppressed))
		return;
	va_start(ap, fmt);
	vlog(lvl, suppressed, fmt, ap);
	va_end(ap);
}
