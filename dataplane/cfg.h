/* SPDX-License-Identifier: MIT */
/*
 * Settings of buri-dataplane: defaults, then a libconfig file (configs/dataplane.cfg documents
 * every setting with its unit and default), then command-line flags, which win. A bad value
 * is reported as "file:line: key: reason". No DPDK here: the settings are read, and the EAL
 * argument vector is built, before the EAL exists, and the unit tests need no EAL either.
 */
#ifndef BURI_DP_CFG_H
#define BURI_DP_CFG_H

#include <stdbool.h>
#include <stddef.h>

#include "common/conf.h"
#include "common/util.h"

enum dp_memory { DP_MEM_HUGEPAGES, DP_MEM_NOHUGE };
/* The order of enum cb_backend (main.c maps one to the other). */
enum dp_backend_name { DP_CRYPTO_AUTO, DP_CRYPTO_IPSECMB, DP_CRYPTO_OPENSSL };
enum { DP_WORKERS_MAX = 16, DP_EAL_ARGS_MAX = 32, DP_EAL_ARG_LEN = 256 };
/* Room for dp_cfg_eal_argv that is always enough: the generated arguments take at most 12
 * pointers and under 600 bytes (the wan device's 255 among them), eal.args the rest. */
enum {
	DP_EAL_ARGV_MAX = DP_EAL_ARGS_MAX + 16,
	DP_EAL_BUF_MAX = DP_EAL_ARGS_MAX * DP_EAL_ARG_LEN + 1024,
};

struct dp_cfg {
	char config_path[256]; /* the file read, "" if none */
	/* eal */
	char file_prefix[64]; /* eal.file_prefix: [A-Za-z0-9_-]{1,32} */
	enum dp_memory memory;
	char eal_args[DP_EAL_ARGS_MAX][DP_EAL_ARG_LEN]; /* eal.args, appended as given */
	size_t n_eal_args;
	/* lcores */
	unsigned main_lcore;
	unsigned workers[DP_WORKERS_MAX]; /* distinct, none equal to main_lcore */
	size_t n_workers;		  /* 1..DP_WORKERS_MAX */
	/* ports */
	char wan_device[256]; /* PCI address "dddd:bb:dd.f[,devargs]" or vdev devargs */
	char wan_mirror[16];  /* Linux ifname of the kernel TAP mirroring the wan port */
	unsigned wan_mtu;     /* bytes, 576..9000 */
	char overlay_iface[16];
	/* tunnel */
	unsigned tunnel_port;
	unsigned idle_timeout; /* seconds without an authenticated packet before EV_IDLE */
	/* sizes */
	unsigned mbufs;
	unsigned mbuf_cache;
	unsigned rx_desc, tx_desc; /* powers of two */
	unsigned max_sas;
	/* polling */
	bool busy_poll;
	unsigned idle_polls;   /* empty polls before a worker starts to nap */
	unsigned sleep_max_us; /* longest nap */
	/* misc */
	enum dp_backend_name crypto;
	bool telemetry;
	int log_level; /* enum log_level */
	bool log_syslog;
};

/*
 * Fills cfg: defaults, then the file (-c/--config FILE; without it /etc/buri/dataplane.cfg if
 * that exists: a missing default file is fine, a missing named file is an error), then the
 * other flags. Returns 0 (run), 1 (--help printed, or --check passed and printed
 * "ok <file>": the caller exits 0), or E_CONF with the reason already printed to stderr as one
 * line (the caller exits 2). Uses getopt_long, so it may permute argv.
 */
int dp_cfg_load(struct dp_cfg *cfg, int argc, char **argv) WARN_UNUSED;

/* Defaults, then text parsed as a config file named name (in messages): 0, or E_CONF with
 * "name:line: key: reason" in err. As without flags, wan.device is required. */
int dp_cfg_parse(struct dp_cfg *cfg, const char *text, const char *name,
		 char err[CONF_ERR_MAX]) WARN_UNUSED;

/*
 * The EAL argument vector for cfg, argv[0] = "buri-dataplane": the lcores (-l and
 * --main-lcore), --file-prefix, the memory mode (--in-memory, or --no-huge and --no-shconf),
 * --iova-mode=va, the wan device (-a for a PCI address; --vdev and --no-pci for a vdev), the
 * overlay TAP as "--vdev=net_tap0,iface=<overlay_iface>", --no-telemetry when telemetry is
 * off, then eal.args. The strings are written to buf (cap bytes), the pointers to argv, which
 * is NULL-terminated: max must exceed the count. Returns the count (argc), or E_NOSPACE when
 * buf or argv is too small. cfg is assumed valid (as dp_cfg_load and dp_cfg_parse leave it).
 */
int dp_cfg_eal_argv(const struct dp_cfg *cfg, char *buf, size_t cap, char **argv,
		    int max) WARN_UNUSED;

#endif
