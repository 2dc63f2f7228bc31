/* SPDX-License-Identifier: MIT */
/*
 * Settings of buri-control: defaults, then a libconfig file (configs/node.cfg documents every
 * setting with its unit and default), then command-line flags, which win. A bad value is
 * reported as "file:line: key: reason".
 */
#ifndef BURI_CONTROL_CFG_H
#define BURI_CONTROL_CFG_H

#include <stdbool.h>
#include <stdint.h>

#include "common/conf.h"
#include "common/util.h"
#include "common/wire.h"

enum { CTL_PATH_MAX = 256, CTL_PINNED_MAX = 64 };

/* A peer's public key pinned by hand: it wins over the one the mediator sends. */
struct ctl_pinned {
	uint32_t identity; /* overlay address, host order */
	char key[CTL_PATH_MAX];
};

struct ctl_cfg {
	char config_path[CTL_PATH_MAX]; /* the file read, "" if none */
	/* mediator */
	char med_host[256];
	unsigned med_port, med_tls_port; /* tls 0: no TLS fallback */
	char med_key[CTL_PATH_MAX];	 /* PEM public key of the mediator */
	char med_fp[64];		 /* optional pin of its fingerprint, "" if none */
	bool med_fp_set;
	uint8_t med_kfp[WIRE_KFP_LEN]; /* the pin, parsed */
	char token[129];	       /* registration token */
	/* node */
	char key_path[CTL_PATH_MAX];
	char state_path[CTL_PATH_MAX];
	char nick[65];
	bool auto_login;
	/* dataplane */
	char dp_prefix[64];
	char overlay_iface[16];
	char mirror_iface[16]; /* the data plane's wan.mirror: the relay over TCP injects there */
	/* tunnel */
	unsigned tunnel_port;
	unsigned keepalive_s; /* send a dummy on an SA quiet this long outbound */
	unsigned dead_after; /* missed keepalives: no authentic packet for dead_after * keepalive */
	unsigned rekey_after_s; /* SA age that starts a rekey; 0: only when IDs run low */
	unsigned handshake_ms;	/* give up one key exchange attempt after this */
	unsigned retry_s;	/* a failed tunnel is tried again after this */
	struct ctl_pinned pinned[CTL_PINNED_MAX];
	unsigned n_pinned;
	/* control socket */
	char socket_path[CTL_PATH_MAX];
	/* log */
	int log_level;
	bool log_syslog;
	bool foreground;
};

/* Fills cfg: defaults, the file (-c FILE; without it /etc/buri/node.cfg if that exists), then
 * the flags. Returns 0 (run), 1 (--help printed, or --check passed: exit 0), or E_CONF with a
 * one-line reason already on stderr (exit 2). */
int ctl_cfg_load(struct ctl_cfg *cfg, int argc, char **argv) WARN_UNUSED;

/* Defaults, then text parsed as a file called name: 0 or E_CONF with the reason in err. */
int ctl_cfg_parse(struct ctl_cfg *cfg, const char *text, const char *name,
		  char err[CONF_ERR_MAX]) WARN_UNUSED;

#endif
