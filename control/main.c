/* SPDX-License-Identifier: MIT */
/*
 * buri-control: the node daemon (docs/ARCHITECTURE.md "control/"). Settings, identity, then
 * every module on one loop: the mediator session, the tunnel port, discovery, tunnels, the
 * data plane link, buri0, and the CLI socket. SIGTERM/SIGINT: LOGOUT (bounded), then exit 0;
 * the data plane keeps forwarding whatever happens here.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "common/err.h"
#include "common/frame.h"
#include "common/keyfile.h"
#include "common/log.h"
#include "common/relay.h"
#include "control/ctl.h"
#include "control/rtnl.h"

enum {
	OVERLAY_RETRY_MS = 1000,
	DISCO_EVERY_MS = 300000,
	DISCO_BLOCKED_MS = 20000, /* UDP blocked: try again this soon, to leave the relay early */
	STOP_MS = 2500,
};

static void
on_datagram(void *arg, const uint8_t *p, size_t len, uint32_t addr, uint16_t port)
{
	struct ctl *c = arg;
	struct tunnel_ctl t;
	uint32_t spi;

	if (disco_on_datagram(c->disco, p, len, addr, port))
		return;
	if (relay_classify(p, len, &spi) == RELAY_MESSAGE)
		tunnels_on_relay_msg(c->tun, p, len, addr, port);
	else if (tunnel_ctl_decode(p, len, &t) == 0)
		tunnels_on_ctl(c->tun, &t, addr, port);
}

/* --- buri0 --- */

void
ctl_overlay(struct ctl *c)
{
	int r;

	if (c->overlay_ok || !c->have_session || c->id.addr == 0)
		return;
	r = rtnl_overlay_setup(c->cfg.overlay_iface, c->id.addr, c->prefix_len);
	if (r == 0) {
		c->overlay_ok = true;
		log_info("%s: " IP4_FMT "/%u", c->cfg.overlay_iface, IP4_ARG(c->id.addr),
			 c->prefix_len);
		return;
	}
	if (r != E_NOTFOUND)
		log_ratelimited(LOG_LVL_WARN, "%s: cannot configure it: %s", c->cfg.overlay_iface,
				strerror(errno));
	loop_timer_in(c->l, &c->overlay_t, OVERLAY_RETRY_MS);
}

static void
on_overlay_timer(void *arg)
{
	ctl_overlay(arg);
}

/* --- discovery --- */

static void
endpoints_done(void *arg, int status, const char *text)
{
	(void)arg;
	if (status != 0)
		log_warn("ENDPOINTS refused: %s %s", err_str(status), text);
}

/* The data plane hands the relay's datagrams in on the mirror with our own address as their
 * source, which the kernel drops as martian unless the mirror accepts local sources. */
static void
accept_local(const char *iface)
{
	char path[96];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/conf/%s/accept_local", iface);
	if ((f = fopen(path, "w")) == NULL || fputs("1\n", f) == EOF || fclose(f) != 0)
		log_warn("%s: cannot set accept_local (%s): the relay over TCP will not deliver",
			 iface, f == NULL ? strerror(errno) : "write failed");
}

/* UDP does not leave this network: tunnels reach relays over TCP from now on. */
static void
relay_over_tcp(struct ctl *c)
{
	struct relaytcp_params p = {c->l, (uint16_t)c->cfg.tunnel_port, c->cfg.mirror_iface,
				    on_datagram, c};

	if (c->rt != NULL)
		return;
	if ((c->rt = relaytcp_new(&p)) == NULL) {
		log_err("relay over TCP: %s", strerror(errno));
		return;
	}
	accept_local(c->cfg.mirror_iface);
	log_info("UDP is blocked here: relays over TCP");
	tunnels_relay_tcp(c->tun, c->rt);
}

static void
on_disco_done(void *arg, const struct disco_result *r)
{
	static const char *const nat[] = {"unknown", "none", "endpoint-independent",
					  "endpoint-dependent", "UDP blocked"};
	struct ctl *c = arg;
	struct msg m = {.type = MSG_ENDPOINTS};

	log_msg(r->nat != c->nat_seen ? LOG_LVL_INFO : LOG_LVL_DEBUG,
		"NAT: %s (%u of %u discovery ports answered; public " IP4_FMT ":%u)",
		nat[r->nat <= NAT_UDP_BLOCKED ? r->nat : 0], r->replies, r->ports,
		IP4_ARG(r->pub_addr), r->pub_port);
	c->nat_seen = r->nat;
	if (r->nat == NAT_UDP_BLOCKED) {
		relay_over_tcp(c);
		loop_timer_in(c->l, &c->disco_t, DISCO_BLOCKED_MS);
	}
	m.u.endpoints.nat = r->nat;
	m.u.endpoints.n = r->n;
	memcpy(m.u.endpoints.cand, r->cand, r->n * sizeof(r->cand[0]));
	if (medsess_request(c->ms, &m, endpoints_done, c) != 0)
		log_debug("ENDPOINTS not sent: offline");
}

/* A discovery run with the session's key and ports; again every DISCO_EVERY_MS (a NAT's
 * mapping or the node's addresses may change while the session lasts), or DISCO_BLOCKED_MS
 * while UDP is blocked (once it passes, ENDPOINTS gives the peers candidates to punch). */
static void
start_disco(struct ctl *c)
{
	struct medsess_info mi;

	medsess_info(c->ms, &mi);
	disco_start(c->disco, c->id.addr, c->disco_key, mi.server_addr, c->disco_ports,
		    c->n_disco_ports);
	loop_timer_in(c->l, &c->disco_t, DISCO_EVERY_MS);
}

static void
on_disco_timer(void *arg)
{
	struct ctl *c = arg;

	if (c->have_session)
		start_disco(c);
}

/* --- the mediator session --- */

static void
on_session(struct ctl *c, const struct msg_session *s)
{
	size_t n = MIN(s->nick.len, sizeof(c->nick) - 1);

	memcpy(c->nick, s->nick.p, n);
	c->nick[n] = '\0';
	c->prefix = s->prefix;
	c->prefix_len = s->prefix_len;
	c->have_session = true;
	netview_reset(&c->nv);
	if (s->identity != c->id.addr) {
		c->overlay_ok = false;
		if (identity_save(&c->id, c->cfg.state_path, s->identity, c->med_kfp) != 0)
			log_err("%s: cannot record the assigned address", c->cfg.state_path);
	}
	memcpy(c->disco_key, s->disco_key, sizeof(c->disco_key));
	c->n_disco_ports = MIN(s->n_ports, (uint8_t)MSG_DISCO_PORTS_MAX);
	memcpy(c->disco_ports, s->disco_port, c->n_disco_ports * sizeof(c->disco_ports[0]));
	ctl_overlay(c);
	start_disco(c);
}

static void
inbox_acked(void *arg, int status, const char *text)
{
	(void)arg;
	if (status != 0)
		log_warn("INBOX ACK refused: %s %s", err_str(status), text);
}

static void
on_msg(void *arg, const struct msg *m)
{
	struct ctl *c = arg;

	switch (m->type) {
	case MSG_SESSION:
		on_session(c, &m->u.session);
		break;
	case MSG_TUNNEL:
		tunnels_on_tunnel(c->tun, &m->u.tunnel);
		break;
	case MSG_TUNNEL_DOWN:
		tunnels_on_down(c->tun, m->u.peer.peer);
		break;
	case MSG_RELAY:
		tunnels_on_relay(c->tun, &m->u.relay, c->id.addr);
		break;
	case MSG_PEER_LOST:
		tunnels_on_lost(c->tun, m->u.peer.peer);
		break;
	case MSG_TEXT:
		(void)netview_on_msg(&c->nv, m);
		if (m->u.text.id != 0) {
			struct msg ack = {.type = MSG_INBOX_ACK};

			ack.u.inbox_ack.upto = c->nv.max_text_id;
			if (medsess_request(c->ms, &ack, inbox_acked, c) != 0)
				log_debug("INBOX ACK not sent: offline (sent again at the next "
					  "login)");
		}
		break;
	default:
		(void)netview_on_msg(&c->nv, m);
	}
}

static void
on_state(void *arg, enum medsess_state st, const char *why)
{
	struct ctl *c = arg;

	if (st != MEDSESS_ONLINE) {
		c->have_session = false;
		disco_stop(c->disco);
		loop_timer_cancel(c->l, &c->disco_t);
		wipe(c->disco_key, sizeof(c->disco_key));
	}
	if (st == MEDSESS_STOPPED)
		log_info("mediator session stopped: %s", why);
}

static void
on_registered(void *arg, uint32_t identity)
{
	struct ctl *c = arg;

	log_info("registered: this node is " IP4_FMT, IP4_ARG(identity));
	if (identity_save(&c->id, c->cfg.state_path, identity, c->med_kfp) != 0)
		log_err("%s: cannot record the assigned address; the next start registers again",
			c->cfg.state_path);
}

/* --- setup --- */

static int
load_mediator_key(struct ctl *c)
{
	char fp[PUBKEY_FP_STR_LEN];
	int r;

	if ((r = keyfile_load(c->cfg.med_key, false, &c->med_key)) != 0 ||
	    (r = pubkey_fingerprint(c->med_key, c->med_kfp)) != 0) {
		log_err("mediator.key %s: %s (the mediator's public key, PEM: see "
			"configs/node.cfg)",
			c->cfg.med_key, err_str(r));
		return r;
	}
	pubkey_fingerprint_str(c->med_kfp, fp);
	if (c->cfg.med_fp_set && memcmp(c->cfg.med_kfp, c->med_kfp, WIRE_KFP_LEN) != 0) {
		log_err("mediator.key %s has fingerprint %s, not the pinned mediator.fingerprint "
			"%s: refusing to talk to it",
			c->cfg.med_key, fp, c->cfg.med_fp);
		return E_KEY;
	}
	log_info("mediator %s:%u, key %s", c->cfg.med_host, c->cfg.med_port, fp);
	return 0;
}

static int
setup(struct ctl *c)
{
	char err[CONF_ERR_MAX];
	struct tunnels_params tp;
	struct disco_params dp;
	struct medsess_params mp;
	int r;

	if ((c->l = loop_new()) == NULL || (c->c = crypto_new()) == NULL)
		return E_NOMEM;
	if ((r = load_mediator_key(c)) != 0)
		return r;
	if ((r = identity_load(&c->id, c->cfg.key_path, c->cfg.state_path, c->med_kfp, err,
			       sizeof(err))) != 0) {
		log_err("identity: %s", err);
		return r;
	}
	log_info("node key %s%s; %s", c->cfg.key_path, c->id.created ? " (created)" : "",
		 c->id.addr ? "registered" : "not registered yet");
	netview_init(&c->nv);
	loop_timer_init(&c->overlay_t, on_overlay_timer, c);
	loop_timer_init(&c->disco_t, on_disco_timer, c);
	if ((c->tp = tunport_new(c->l, (uint16_t)c->cfg.tunnel_port, on_datagram, c)) == NULL) {
		log_err("UDP port %u: %s (another buri-control on this node?)", c->cfg.tunnel_port,
			strerror(errno));
		return E_IO;
	}
	tp = (struct tunnels_params){c->l, c->tp, c->c, c->id.key, &c->cfg};
	if ((c->tun = tunnels_new(&tp)) == NULL ||
	    (c->dp = dplink_new(c->l, c->cfg.dp_prefix, &tunnels_dplink_ops, c->tun)) == NULL)
		return E_NOMEM;
	tunnels_set_dplink(c->tun, c->dp);
	dp = (struct disco_params){
		c->l,	       c->tp, c->c, (uint16_t)c->cfg.tunnel_port, c->cfg.overlay_iface,
		on_disco_done, c};
	if ((c->disco = disco_new(&dp)) == NULL)
		return E_NOMEM;
	mp = (struct medsess_params){
		.l = c->l,
		.c = c->c,
		.host = c->cfg.med_host,
		.port = (uint16_t)c->cfg.med_port,
		.tls_port = (uint16_t)c->cfg.med_tls_port,
		.server_key = c->med_key,
		.key = c->id.key,
		.identity = c->id.addr,
		.nick = c->cfg.nick,
		.token = c->cfg.token,
		.on_state = on_state,
		.on_registered = on_registered,
		.on_msg = on_msg,
		.arg = c,
	};
	if ((c->ms = medsess_new(&mp)) == NULL)
		return E_NOMEM;
	if ((c->api = api_new(c->l, c->cfg.socket_path, ctl_cmds, ctl_ncmds, c)) == NULL) {
		log_err("control socket %s: %s", c->cfg.socket_path,
			errno == EADDRINUSE ? "another buri-control is running" : strerror(errno));
		return E_IO;
	}
	if (c->cfg.auto_login)
		medsess_start(c->ms);
	return 0;
}

static void
teardown(struct ctl *c)
{
	api_free(c->api);
	medsess_free(c->ms);
	disco_free(c->disco);
	tunnels_free(c->tun);
	dplink_free(c->dp);
	tunport_free(c->tp);
	relaytcp_free(c->rt);
	netview_free(&c->nv);
	identity_free(&c->id);
	pubkey_free(c->med_key);
	if (c->l != NULL) {
		loop_timer_cancel(c->l, &c->overlay_t);
		loop_timer_cancel(c->l, &c->disco_t);
	}
	crypto_free(c->c);
	loop_free(c->l);
}

/* --- signals --- */

struct sigctx {
	struct ctl *c;
	int fd;
	bool stopping;
	struct loop_timer t;
};

static void
stop_now(void *arg)
{
	struct sigctx *s = arg;

	loop_stop(s->c->l);
}

static void
logged_out(void *arg, int status, const char *text)
{
	struct sigctx *s = arg;

	(void)status;
	(void)text;
	loop_timer_in(s->c->l, &s->t, 0);
}

static void
on_signal(void *arg, uint32_t events)
{
	struct sigctx *s = arg;
	struct signalfd_siginfo si;

	(void)events;
	while (read(s->fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP)
			continue;
		if (s->stopping) {
			loop_stop(s->c->l); /* a second signal: now */
			continue;
		}
		s->stopping = true;
		log_info("signal %u: logging out and stopping (the data plane keeps forwarding)",
			 si.ssi_signo);
		loop_timer_in(s->c->l, &s->t, STOP_MS);
		medsess_logout(s->c->ms, logged_out, s);
	}
}

int
main(int argc, char **argv)
{
	static struct ctl c;
	struct sigctx s = {&c, -1, false, {0}};
	sigset_t set;
	int r;

	if ((r = ctl_cfg_load(&c.cfg, argc, argv)) != 0)
		return r == 1 ? 0 : 2;
	log_init("buri-control", (enum log_level)c.cfg.log_level, c.cfg.log_syslog);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if ((r = setup(&c)) != 0) {
		teardown(&c);
		return 1;
	}
	loop_timer_init(&s.t, stop_now, &s);
	if ((s.fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) < 0 ||
	    loop_fd_add(c.l, s.fd, 0x001 /* EPOLLIN */, on_signal, &s) != 0) {
		log_err("signalfd: %s", strerror(errno));
		teardown(&c);
		return 1;
	}
	log_info("ready: control socket %s, tunnel port %u, data plane \"%s\"", c.cfg.socket_path,
		 c.cfg.tunnel_port, c.cfg.dp_prefix);
	r = loop_run(c.l);
	loop_timer_cancel(c.l, &s.t);
	loop_fd_del(c.l, s.fd);
	close(s.fd);
	teardown(&c);
	log_info("stopped");
	return r == 0 ? 0 : 1;
}
