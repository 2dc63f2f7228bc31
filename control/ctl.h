/* SPDX-License-Identifier: MIT */
/*
 * buri-control's context: every module of the daemon, wired by main.c, reached by the
 * command handlers (cmds.c). One loop thread owns all of it.
 */
#ifndef BURI_CONTROL_CTL_H
#define BURI_CONTROL_CTL_H

#include "common/crypto.h"
#include "common/pubkey.h"
#include "control/api.h"
#include "control/cfg.h"
#include "control/disco.h"
#include "control/dplink.h"
#include "control/identity.h"
#include "control/loop.h"
#include "control/medsess.h"
#include "control/netview.h"
#include "control/tunnel.h"
#include "control/tunport.h"

struct ctl {
	struct ctl_cfg cfg;
	struct loop *l;
	struct crypto *c;
	struct pubkey *med_key;
	uint8_t med_kfp[WIRE_KFP_LEN];
	struct identity id;
	struct tunport *tp;
	struct relaytcp *rt; /* the relay over TCP, made when discovery finds UDP blocked */
	struct tunnels *tun;
	struct dplink *dp;
	struct disco *disco;
	struct medsess *ms;
	struct netview nv;
	struct api *api;
	/* from SESSION */
	bool have_session;
	uint32_t prefix;
	uint8_t prefix_len;
	char nick[WIRE_NICK_MAX + 1];
	uint8_t disco_key[MSG_DISCO_KEY_LEN];
	uint16_t disco_ports[MSG_DISCO_PORTS_MAX];
	uint8_t n_disco_ports;
	bool overlay_ok;  /* buri0 configured for the current address */
	uint8_t nat_seen; /* the last discovery's NAT_* (logged when it changes) */
	struct loop_timer overlay_t;
	struct loop_timer disco_t; /* discovery again every DISCO_EVERY_MS */
};

/* The CLI's commands (cmds.c). */
extern const struct api_cmd ctl_cmds[];
extern const size_t ctl_ncmds;

/* Configures buri0 for our address if it is not yet (main.c); retried by a timer. */
void ctl_overlay(struct ctl *c);

#endif
