/* SPDX-License-Identifier: MIT */
/*
 * Settings of buri-relay: defaults, then configs/relay.cfg (libconfig), then command-line
 * flags. Every setting is documented in configs/relay.cfg; a bad one is reported as
 * "file:line: key: reason" and the program exits with status 2.
 */
#ifndef BURI_RELAY_CFG_H
#define BURI_RELAY_CFG_H

#include <stdbool.h>
#include <stdint.h>

#include "relay/table.h"

enum {
	CFG_PATH_MAX = 256,
};

struct relay_cfg {
	char config_path[CFG_PATH_MAX]; /* "" when running on defaults */
	char listen[64];
	uint32_t addr; /* listen address, host order */
	unsigned udp_port;
	unsigned tcp_port; /* 0: no TCP listener */
	char secret_path[CFG_PATH_MAX];
	struct relay_limits lim;
	unsigned tcp_connections;
	unsigned tcp_output_kib; /* queued output per TCP connection */
	unsigned stats_interval; /* seconds between counter log lines */
	int log_level;		 /* enum log_level */
	bool log_syslog;
	bool print_secret; /* --print-secret: print the secret's hex and exit */
};

/* Fills cfg from defaults, the file (-c, else /etc/buri/relay.cfg if present) and the flags.
 * 0: run; 1: done (--help, --check printed their output); E_*: exit with status 2, the
 * message printed on stderr. */
int cfg_load(struct relay_cfg *cfg, int argc, char **argv) WARN_UNUSED;

#endif
