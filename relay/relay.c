/* SPDX-License-Identifier: MIT */
/*
 * buri-relay's process (relay.h): setup in order, teardown in reverse, the one-second tick
 * (idle sessions and connections), the counters' log line, signals through a signalfd so the
 * handler does no work (docs/STYLE.md anti-pattern 17).
 */
#include "relay/relay.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "common/crypto.h"
#include "common/err.h"
#include "common/log.h"
#include "relay/secret.h"

enum {
	TICK_MS = 1000,
};

void
relay_clock(struct relay *r)
{
	relay_table_set_time(r->t, loop_now(r->l), (uint64_t)time(NULL));
}

static void
deliver(struct relay *r, uint64_t ep, const uint8_t *p, size_t len, bool now)
{
	if (relay_ep_is_tcp(ep)) {
		if (r->tcp != NULL)
			tcp_send(r->tcp, ep, p, len);
		else
			r->st->drop_unreachable++;
	} else if (now) {
		udp_send_now(r->udp, ep, p, len);
	} else {
		udp_send(r->udp, ep, p, len);
	}
}

void
relay_input(struct relay *r, const struct relay_src *src, const uint8_t *p, size_t len)
{
	struct relay_out out;

	switch (relay_table_input(r->t, src, p, len, &out)) {
	case RELAY_FORWARD:
		deliver(r, out.dst, p, len, false);
		break;
	case RELAY_ANSWER:
		deliver(r, src->ep, out.msg, out.len, true);
		break;
	case RELAY_DROP:
	default:
		break;
	}
}

void
relay_log_stats(struct relay *r, const char *why)
{
	char line[LOG_LINE_MAX];
	struct relay_counts c;

	relay_table_counts(r->t, &c);
	stats_format(r->st, line, sizeof(line));
	log_info("stats (%s): sessions %zu bound %zu routes %zu tcp %zu; %s", why, c.sessions,
		 c.bound, c.routes, r->tcp != NULL ? tcp_count(r->tcp) : 0, line);
}

int
relay_secret(const struct relay_cfg *cfg, uint8_t out[RELAY_SECRET_LEN])
{
	bool created;
	int r = secret_load(cfg->secret_path, true, out, &created);

	if (r == E_PERM)
		log_err("secret %s: group or others may access it (chmod 600 it)",
			cfg->secret_path);
	else if (r == E_KEY)
		log_err("secret %s: not %d bytes (remove it to have a new one made, then give the "
			"mediator the new one)",
			cfg->secret_path, RELAY_SECRET_LEN);
	else if (r != 0)
		log_err("secret %s: %s (%s)", cfg->secret_path, err_str(r), strerror(errno));
	else if (created)
		log_info("secret %s created (%d random bytes, mode 0600); the mediator needs it: "
			 "buri-relay%s%s --print-secret",
			 cfg->secret_path, RELAY_SECRET_LEN, cfg->config_path[0] ? " -c " : "",
			 cfg->config_path);
	return r;
}

static void
on_tick(void *arg)
{
	struct relay *r = arg;

	relay_clock(r);
	relay_table_expire(r->t);
	if (r->tcp != NULL)
		tcp_expire(r->tcp, loop_now(r->l), r->cfg.lim.idle_ms);
	loop_timer_in(r->l, &r->tick_t, TICK_MS);
}

static void
on_stats(void *arg)
{
	struct relay *r = arg;

	relay_log_stats(r, "periodic");
	loop_timer_in(r->l, &r->stats_t, (uint64_t)r->cfg.stats_interval * 1000);
}

static void
on_signal(void *arg, uint32_t events)
{
	struct relay *r = arg;
	struct signalfd_siginfo si;

	(void)events;
	while (read(r->sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGUSR1) {
			relay_log_stats(r, "SIGUSR1");
		} else if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
			log_info("signal %u: stopping", si.ssi_signo);
			loop_stop(r->l);
		}
	}
}

static int
signals(struct relay *r)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	if ((r->sig_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) < 0 ||
	    loop_fd_add(r->l, r->sig_fd, EPOLLIN, on_signal, r) != 0) {
		log_err("signalfd: %s", strerror(errno));
		return E_IO;
	}
	return 0;
}

static int
transports(struct relay *r)
{
	const struct relay_cfg *c = &r->cfg;

	if ((r->udp = udp_open(r, c->addr, (uint16_t)c->udp_port)) == NULL)
		return E_IO;
	if (c->tcp_port != 0 && (r->tcp = tcp_open(r, c->addr, (uint16_t)c->tcp_port)) == NULL)
		return E_IO;
	log_info("relaying on udp %s:%u, tcp port %u (0: none), secret %s, idle timeout %u s, "
		 "%u sessions at most",
		 c->listen, c->udp_port, c->tcp_port, c->secret_path,
		 (unsigned)(c->lim.idle_ms / 1000), c->lim.sessions);
	return 0;
}

int
relay_init(struct relay *r)
{
	uint8_t secret[RELAY_SECRET_LEN];
	int rc;

	r->sig_fd = -1;
	if ((r->l = loop_new()) == NULL) {
		log_err("epoll: %s", strerror(errno));
		return E_IO;
	}
	if ((rc = relay_secret(&r->cfg, secret)) != 0)
		return rc;
	r->t = relay_table_new(secret, &r->cfg.lim);
	wipe(secret, sizeof(secret));
	if (r->t == NULL) {
		log_err("cannot set up the session table: %s", err_str(E_NOMEM));
		return E_NOMEM;
	}
	r->st = relay_table_stats(r->t);
	relay_clock(r);
	if ((rc = transports(r)) != 0 || (rc = signals(r)) != 0)
		return rc;
	loop_timer_init(&r->tick_t, on_tick, r);
	loop_timer_init(&r->stats_t, on_stats, r);
	loop_timer_in(r->l, &r->tick_t, TICK_MS);
	loop_timer_in(r->l, &r->stats_t, (uint64_t)r->cfg.stats_interval * 1000);
	return 0;
}

int
relay_run(struct relay *r)
{
	int rc = loop_run(r->l);

	if (rc != 0)
		log_err("event loop: %s", err_str(rc));
	relay_log_stats(r, "exit");
	return rc;
}

void
relay_fini(struct relay *r)
{
	if (r->l != NULL) {
		loop_timer_cancel(r->l, &r->tick_t);
		loop_timer_cancel(r->l, &r->stats_t);
	}
	if (r->sig_fd >= 0) {
		loop_fd_del(r->l, r->sig_fd);
		close(r->sig_fd);
		r->sig_fd = -1;
	}
	tcp_close(r->tcp);
	r->tcp = NULL;
	udp_close(r->udp);
	r->udp = NULL;
	relay_table_free(r->t);
	r->t = NULL;
	loop_free(r->l);
	r->l = NULL;
}
