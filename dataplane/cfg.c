/* SPDX-License-Identifier: MIT */
/*
 * Settings of buri-dataplane: defaults, then configs/dataplane.cfg (libconfig), then
 * command-line flags, which win. Each value is checked where it is read, so a bad one in the
 * file is reported with its line; the few that flags can set are checked again after them,
 * by the same functions.
 */
#include "dataplane/cfg.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "common/names.h"

#define PROG		"buri-dataplane"
#define DEFAULT_CONFIG	"/etc/buri/dataplane.cfg"
#define DEFAULT_PREFIX	"buri"
#define DEFAULT_MIRROR	"buriwan0"
#define DEFAULT_OVERLAY "buri0"
#define OVERLAY_VDEV	"net_tap0" /* port.c finds the overlay port by these names */
#define MIRROR_VDEV	"net_tap1"

enum {
	LCORE_MAX = 127,     /* RTE_MAX_LCORE - 1 in Debian's DPDK 22.11 build */
	DEV_NAME_MAX = 63,   /* RTE_DEV_NAME_MAX_LEN - 1: the part of a vdev before its ',' */
	LCORE_LIST_MAX = 80, /* "-l" value: DP_WORKERS_MAX + 1 numbers of up to 3 digits */
};

/* Command-line values, applied over the file. NULL / false: not given. */
struct flags {
	const char *config, *prefix, *wan, *log_level;
	bool busy_poll, check;
};

static void
defaults(struct dp_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->file_prefix, sizeof(cfg->file_prefix), DEFAULT_PREFIX);
	cfg->memory = DP_MEM_HUGEPAGES;
	cfg->main_lcore = 0;
	cfg->workers[0] = 1;
	cfg->n_workers = 1;
	snprintf(cfg->wan_mirror, sizeof(cfg->wan_mirror), DEFAULT_MIRROR);
	cfg->wan_mtu = 1500;
	snprintf(cfg->overlay_iface, sizeof(cfg->overlay_iface), DEFAULT_OVERLAY);
	cfg->tunnel_port = 7777;
	cfg->idle_timeout = 30;
	cfg->mbufs = 16383; /* 2^n - 1: the mempool's ring then wastes no slot */
	cfg->mbuf_cache = 256;
	cfg->rx_desc = 1024;
	cfg->tx_desc = 1024;
	cfg->max_sas = 4096;
	cfg->busy_poll = false;
	cfg->idle_polls = 512;
	cfg->sleep_max_us = 500;
	cfg->crypto = DP_CRYPTO_AUTO;
	cfg->telemetry = true;
	cfg->log_level = LOG_LVL_INFO;
	cfg->log_syslog = false;
}

/* The validators return NULL for a good value, else the reason, to follow the quoted value
 * (common/names.h has the two the control process shares). */

static bool
hex_digit(char ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
}

/* s[0..n) is a full PCI address, domain:bus:device.function: "dddd:bb:dd.f" in hex, the
 * device at most 1f and the function at most 7. */
static bool
pci_addr(const char *s, size_t n)
{
	static const char form[] = "xxxx:xx:xx.x";

	if (n != sizeof(form) - 1)
		return false;
	for (size_t i = 0; i < n; i++)
		if (form[i] == 'x' ? !hex_digit(s[i]) : s[i] != form[i])
			return false;
	return s[8] <= '1' && s[11] <= '7';
}

/* A PCI address, optionally with ",devargs" (handed to -a as they are). */
static bool
is_pci(const char *dev)
{
	return pci_addr(dev, strcspn(dev, ","));
}

/* A PCI address, or vdev devargs: a driver-instance name ("net_af_packet0"), then
 * ",key=value" pairs. A ':' in the name part can only mean a PCI address, so a mistyped one
 * is reported as such rather than handed to the EAL as a vdev. */
static const char *
device_problem(const char *s)
{
	size_t n = strcspn(s, ",");

	if (s[0] == '\0')
		return "is empty";
	for (const char *p = s; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return "may not contain white space or control characters";
	if (memchr(s, ':', n) != NULL)
		return pci_addr(s, n) ? NULL
				      : "is not a PCI address of the form dddd:bb:dd.f (hex; "
					"device at most 1f, function at most 7)";
	if (n == 0 || n > DEV_NAME_MAX)
		return "needs a device name of 1 to 63 characters before the first ','";
	if (strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") != n)
		return "is neither a PCI address (dddd:bb:dd.f) nor vdev devargs "
		       "(\"net_af_packet0,iface=eth1\")";
	if ((n == strlen(OVERLAY_VDEV) && strncmp(s, OVERLAY_VDEV, n) == 0) ||
	    (n == strlen(MIRROR_VDEV) && strncmp(s, MIRROR_VDEV, n) == 0))
		return "uses a name the data plane keeps for its own TAPs "
		       "(" OVERLAY_VDEV ", " MIRROR_VDEV ")";
	return NULL;
}

static const char *const top_keys[] = {"eal",	"lcores", "wan",    "overlay",	 "tunnel",
				       "pools", "poll",	  "crypto", "telemetry", "log"};

static int
check_keys(struct conf *c)
{
	static const char *const eal_keys[] = {"file_prefix", "memory", "args"};
	static const char *const lcore_keys[] = {"main", "workers"};
	static const char *const wan_keys[] = {"device", "mirror", "mtu"};
	static const char *const overlay_keys[] = {"iface"};
	static const char *const tunnel_keys[] = {"port", "idle_timeout"};
	static const char *const pool_keys[] = {"mbufs", "mbuf_cache", "rx_desc", "tx_desc", "sas"};
	static const char *const poll_keys[] = {"busy", "idle_polls", "sleep_max_us"};
	static const char *const crypto_keys[] = {"backend"};
	static const char *const log_keys[] = {"level", "syslog"};
	int r;

	/* Reserved by the design for gateway mode; "unknown setting" would suggest a typo. */
	if (conf_has(c, "lan"))
		return conf_fail(c, "lan", "gateway mode (a LAN port role) is not supported yet");
	if ((r = conf_check_keys(c, NULL, top_keys, ARRAY_SIZE(top_keys))) != 0 ||
	    (r = conf_check_keys(c, "eal", eal_keys, ARRAY_SIZE(eal_keys))) != 0 ||
	    (r = conf_check_keys(c, "lcores", lcore_keys, ARRAY_SIZE(lcore_keys))) != 0 ||
	    (r = conf_check_keys(c, "wan", wan_keys, ARRAY_SIZE(wan_keys))) != 0 ||
	    (r = conf_check_keys(c, "overlay", overlay_keys, ARRAY_SIZE(overlay_keys))) != 0 ||
	    (r = conf_check_keys(c, "tunnel", tunnel_keys, ARRAY_SIZE(tunnel_keys))) != 0 ||
	    (r = conf_check_keys(c, "pools", pool_keys, ARRAY_SIZE(pool_keys))) != 0 ||
	    (r = conf_check_keys(c, "poll", poll_keys, ARRAY_SIZE(poll_keys))) != 0 ||
	    (r = conf_check_keys(c, "crypto", crypto_keys, ARRAY_SIZE(crypto_keys))) != 0 ||
	    (r = conf_check_keys(c, "log", log_keys, ARRAY_SIZE(log_keys))) != 0)
		return r;
	return 0;
}

/* A string setting checked by problem(). */
static int
get_checked(struct conf *c, const char *key, const char *def, char *out, size_t cap,
	    const char *(*problem)(const char *))
{
	const char *why;
	int r;

	if ((r = conf_get_str(c, key, def, out, cap)) != 0)
		return r;
	if ((why = problem(out)) != NULL)
		return conf_fail(c, key, "\"%s\" %s", out, why);
	return 0;
}

static int
read_eal(struct conf *c, struct dp_cfg *cfg)
{
	static const char *const memories[] = {"hugepages", "no-huge"};
	int r, mem;

	if ((r = get_checked(c, "eal.file_prefix", DEFAULT_PREFIX, cfg->file_prefix,
			     sizeof(cfg->file_prefix), names_prefix_problem)) != 0 ||
	    (r = conf_get_enum(c, "eal.memory", memories, ARRAY_SIZE(memories), DP_MEM_HUGEPAGES,
			       &mem)) != 0 ||
	    (r = conf_get_strs(c, "eal.args", cfg->eal_args[0], sizeof(cfg->eal_args[0]),
			       DP_EAL_ARGS_MAX, &cfg->n_eal_args)) != 0)
		return r;
	cfg->memory = (enum dp_memory)mem;
	for (size_t i = 0; i < cfg->n_eal_args; i++)
		if (cfg->eal_args[i][0] == '\0')
			return conf_fail(c, "eal.args", "entry %zu is empty", i);
	return 0;
}

static int
read_lcores(struct conf *c, struct dp_cfg *cfg)
{
	long long w[DP_WORKERS_MAX];
	size_t n;
	int r;

	if ((r = conf_get_uint(c, "lcores.main", 0, LCORE_MAX, &cfg->main_lcore)) != 0)
		return r;
	if (conf_has(c, "lcores.workers")) {
		if ((r = conf_get_ints(c, "lcores.workers", 0, LCORE_MAX, w, ARRAY_SIZE(w), &n)) !=
		    0)
			return r;
		if (n == 0)
			return conf_fail(c, "lcores.workers",
					 "at least one worker lcore is needed");
		for (size_t i = 0; i < n; i++)
			cfg->workers[i] = (unsigned)w[i];
		cfg->n_workers = n;
	}
	for (size_t i = 0; i < cfg->n_workers; i++) {
		if (cfg->workers[i] == cfg->main_lcore)
			return conf_fail(c, "lcores.workers", "lcore %u is also lcores.main",
					 cfg->main_lcore);
		for (size_t j = 0; j < i; j++)
			if (cfg->workers[j] == cfg->workers[i])
				return conf_fail(c, "lcores.workers", "lcore %u is listed twice",
						 cfg->workers[i]);
	}
	return 0;
}

/* wan.device is required unless --wan gives it (need). */
static int
read_ports(struct conf *c, struct dp_cfg *cfg, bool need_wan)
{
	const char *why;
	int r;

	if (need_wan || conf_has(c, "wan.device")) {
		if ((r = conf_need_str(c, "wan.device", cfg->wan_device,
				       sizeof(cfg->wan_device))) != 0)
			return r;
		if ((why = device_problem(cfg->wan_device)) != NULL)
			return conf_fail(c, "wan.device", "\"%s\" %s", cfg->wan_device, why);
	}
	if ((r = get_checked(c, "wan.mirror", DEFAULT_MIRROR, cfg->wan_mirror,
			     sizeof(cfg->wan_mirror), names_ifname_problem)) != 0 ||
	    (r = conf_get_uint(c, "wan.mtu", 576, 9000, &cfg->wan_mtu)) != 0 ||
	    (r = get_checked(c, "overlay.iface", DEFAULT_OVERLAY, cfg->overlay_iface,
			     sizeof(cfg->overlay_iface), names_ifname_problem)) != 0)
		return r;
	if (strcmp(cfg->wan_mirror, cfg->overlay_iface) == 0)
		return conf_fail(c, conf_has(c, "overlay.iface") ? "overlay.iface" : "wan.mirror",
				 "\"%s\" is also the name of the %s", cfg->overlay_iface,
				 conf_has(c, "overlay.iface") ? "wan mirror" : "overlay interface");
	return 0;
}

static int
read_sizes(struct conf *c, struct dp_cfg *cfg)
{
	/* The ranges keep every combination legal for rte_pktmbuf_pool_create (a cache of at
	 * most 512 and at most mbufs / 1.5) and for the drivers' descriptor rings. */
	const struct {
		const char *key;
		unsigned *v;
		long long min, max;
	} t[] = {
		{"tunnel.port", &cfg->tunnel_port, 1, 65535},
		{"tunnel.idle_timeout", &cfg->idle_timeout, 1, 86400},
		{"pools.mbufs", &cfg->mbufs, 1023, 1048575},
		{"pools.mbuf_cache", &cfg->mbuf_cache, 0, 512},
		{"pools.rx_desc", &cfg->rx_desc, 64, 16384},
		{"pools.tx_desc", &cfg->tx_desc, 64, 16384},
		{"pools.sas", &cfg->max_sas, 1, 1048576},
		{"poll.idle_polls", &cfg->idle_polls, 1, 1000000},
		{"poll.sleep_max_us", &cfg->sleep_max_us, 1, 100000},
	};
	int r;

	for (size_t i = 0; i < ARRAY_SIZE(t); i++)
		if ((r = conf_get_uint(c, t[i].key, t[i].min, t[i].max, t[i].v)) != 0)
			return r;
	if ((cfg->rx_desc & (cfg->rx_desc - 1)) != 0)
		return conf_fail(c, "pools.rx_desc", "%u is not a power of two", cfg->rx_desc);
	if ((cfg->tx_desc & (cfg->tx_desc - 1)) != 0)
		return conf_fail(c, "pools.tx_desc", "%u is not a power of two", cfg->tx_desc);
	return 0;
}

static int
read_misc(struct conf *c, struct dp_cfg *cfg)
{
	static const char *const backends[] = {"auto", "ipsec-mb", "openssl"};
	char level[16];
	enum log_level l;
	int r, b;

	if ((r = conf_get_bool(c, "poll.busy", false, &cfg->busy_poll)) != 0 ||
	    (r = conf_get_enum(c, "crypto.backend", backends, ARRAY_SIZE(backends), DP_CRYPTO_AUTO,
			       &b)) != 0 ||
	    (r = conf_get_bool(c, "telemetry", true, &cfg->telemetry)) != 0 ||
	    (r = conf_get_str(c, "log.level", "info", level, sizeof(level))) != 0 ||
	    (r = conf_get_bool(c, "log.syslog", false, &cfg->log_syslog)) != 0)
		return r;
	cfg->crypto = (enum dp_backend_name)b;
	if (log_level_parse(level, &l) != 0)
		return conf_fail(c, "log.level", "\"%s\" is not one of error, warn, info, debug",
				 level);
	cfg->log_level = (int)l;
	return 0;
}

static int
read_conf(struct conf *c, struct dp_cfg *cfg, bool need_wan)
{
	int r;

	if ((r = check_keys(c)) != 0 || (r = read_eal(c, cfg)) != 0 ||
	    (r = read_lcores(c, cfg)) != 0 || (r = read_ports(c, cfg, need_wan)) != 0 ||
	    (r = read_sizes(c, cfg)) != 0 || (r = read_misc(c, cfg)) != 0)
		return r;
	return 0;
}

int
dp_cfg_parse(struct dp_cfg *cfg, const char *text, const char *name, char err[CONF_ERR_MAX])
{
	struct conf *c;
	int r;

	defaults(cfg);
	if ((c = conf_parse(text, name, err)) == NULL)
		return E_CONF;
	if ((r = read_conf(c, cfg, true)) != 0)
		snprintf(err, CONF_ERR_MAX, "%s", conf_error(c));
	else
		err[0] = '\0';
	conf_free(c);
	return r;
}

static int
read_file(struct dp_cfg *cfg, const char *path, bool need_wan)
{
	char err[CONF_ERR_MAX];
	struct conf *c;
	int r;

	if ((c = conf_load(path, err)) == NULL) {
		fprintf(stderr, PROG ": %s\n", err);
		return E_CONF;
	}
	if ((r = read_conf(c, cfg, need_wan)) != 0)
		fprintf(stderr, PROG ": %s\n", conf_error(c));
	conf_free(c);
	return r;
}

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: " PROG " [-c FILE] [options]\n"
		"  -c, --config FILE      settings (default " DEFAULT_CONFIG " if it exists)\n"
		"      --check            check the settings, print \"ok FILE\" and exit\n"
		"      --prefix NAME      EAL file prefix (eal.file_prefix)\n"
		"      --wan DEVARGS      wan port: PCI address or vdev devargs (wan.device)\n"
		"      --busy-poll        workers never nap (poll.busy = true)\n"
		"      --log-level LEVEL  error, warn, info or debug\n"
		"  -h, --help\n"
		"Command-line options override the file; configs/dataplane.cfg documents every "
		"setting.\n");
}

enum { OPT_CHECK = 256, OPT_PREFIX, OPT_WAN, OPT_BUSY, OPT_LOG };

/* 1: help printed; 0: parsed; E_CONF: bad usage (message printed). */
static int
parse_flags(int argc, char **argv, struct flags *f)
{
	static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
					     {"check", no_argument, NULL, OPT_CHECK},
					     {"prefix", required_argument, NULL, OPT_PREFIX},
					     {"wan", required_argument, NULL, OPT_WAN},
					     {"busy-poll", no_argument, NULL, OPT_BUSY},
					     {"log-level", required_argument, NULL, OPT_LOG},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	int o;

	memset(f, 0, sizeof(*f));
	optind = 1;
	while ((o = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (o) {
		case 'c':
			f->config = optarg;
			break;
		case OPT_CHECK:
			f->check = true;
			break;
		case OPT_PREFIX:
			f->prefix = optarg;
			break;
		case OPT_WAN:
			f->wan = optarg;
			break;
		case OPT_BUSY:
			f->busy_poll = true;
			break;
		case OPT_LOG:
			f->log_level = optarg;
			break;
		case 'h':
			usage(stdout);
			return 1;
		default:
			usage(stderr);
			return E_CONF;
		}
	}
	if (optind != argc) {
		fprintf(stderr, PROG ": unexpected argument \"%s\"\n", argv[optind]);
		return E_CONF;
	}
	return 0;
}

/* Copies a flag's value into out[cap] if problem() finds nothing wrong with it. */
static int
apply_str(const char *flag, const char *v, char *out, size_t cap,
	  const char *(*problem)(const char *))
{
	const char *why = problem(v);

	if (why == NULL && strlen(v) >= cap)
		why = "is too long";
	if (why != NULL) {
		fprintf(stderr, PROG ": %s: \"%s\" %s\n", flag, v, why);
		return E_CONF;
	}
	memcpy(out, v, strlen(v) + 1);
	return 0;
}

static int
apply_flags(struct dp_cfg *cfg, const struct flags *f)
{
	enum log_level l;

	if (f->prefix != NULL && apply_str("--prefix", f->prefix, cfg->file_prefix,
					   sizeof(cfg->file_prefix), names_prefix_problem) != 0)
		return E_CONF;
	if (f->wan != NULL && apply_str("--wan", f->wan, cfg->wan_device, sizeof(cfg->wan_device),
					device_problem) != 0)
		return E_CONF;
	if (f->busy_poll)
		cfg->busy_poll = true;
	if (f->log_level != NULL) {
		if (log_level_parse(f->log_level, &l) != 0) {
			fprintf(stderr,
				PROG
				": --log-level: \"%s\" is not one of error, warn, info, debug\n",
				f->log_level);
			return E_CONF;
		}
		cfg->log_level = (int)l;
	}
	if (cfg->wan_device[0] == '\0') {
		fprintf(stderr, PROG ": no wan device: give -c FILE with wan.device, or --wan\n");
		return E_CONF;
	}
	return 0;
}

int
dp_cfg_load(struct dp_cfg *cfg, int argc, char **argv)
{
	struct flags f;
	const char *path;
	int r;

	defaults(cfg);
	if ((r = parse_flags(argc, argv, &f)) != 0)
		return r;
	path = f.config;
	if (path == NULL && access(DEFAULT_CONFIG, F_OK) == 0)
		path = DEFAULT_CONFIG;
	if (path != NULL) {
		if (strlen(path) >= sizeof(cfg->config_path)) {
			fprintf(stderr, PROG ": %s: path too long\n", path);
			return E_CONF;
		}
		snprintf(cfg->config_path, sizeof(cfg->config_path), "%s", path);
		if ((r = read_file(cfg, path, f.wan == NULL)) != 0)
			return r;
	}
	if ((r = apply_flags(cfg, &f)) != 0 || !f.check)
		return r;
	printf("ok %s\n", path != NULL ? path : "(no file)");
	return 1;
}

/* Appends strings to an argument vector in caller memory; the first overflow sticks. */
struct argv_out {
	char *buf;
	size_t cap, used;
	char **argv;
	int max, n;
	bool full;
};

static void __attribute__((format(printf, 2, 3))) add(struct argv_out *o, const char *fmt, ...)
{
	size_t room = o->cap - o->used;
	va_list ap;
	int w;

	/* One pointer slot stays free for the terminating NULL. */
	if (o->full || o->n + 1 >= o->max) {
		o->full = true;
		return;
	}
	va_start(ap, fmt);
	w = vsnprintf(o->buf + o->used, room, fmt, ap);
	va_end(ap);
	if (w < 0 || (size_t)w >= room) {
		o->full = true;
		return;
	}
	o->argv[o->n++] = o->buf + o->used;
	o->used += (size_t)w + 1;
}

/* "main,worker,...": the main lcore is one of the -l set too. */
static void
lcore_list(const struct dp_cfg *cfg, char out[LCORE_LIST_MAX])
{
	size_t off = (size_t)snprintf(out, LCORE_LIST_MAX, "%u", cfg->main_lcore);

	for (size_t i = 0; i < cfg->n_workers && off < LCORE_LIST_MAX; i++)
		off += (size_t)snprintf(out + off, LCORE_LIST_MAX - off, ",%u", cfg->workers[i]);
}

int
dp_cfg_eal_argv(const struct dp_cfg *cfg, char *buf, size_t cap, char **argv, int max)
{
	struct argv_out o = {buf, cap, 0, argv, max, 0, false};
	char lcores[LCORE_LIST_MAX];

	lcore_list(cfg, lcores);
	add(&o, PROG);
	add(&o, "-l");
	add(&o, "%s", lcores);
	add(&o, "--main-lcore=%u", cfg->main_lcore);
	add(&o, "--file-prefix=%s", cfg->file_prefix);
	if (cfg->memory == DP_MEM_NOHUGE) {
		add(&o, "--no-huge");
		add(&o, "--no-shconf");
	} else {
		add(&o, "--in-memory");
	}
	add(&o, "--iova-mode=va");
	if (is_pci(cfg->wan_device)) {
		add(&o, "-a");
		add(&o, "%s", cfg->wan_device);
	} else {
		add(&o, "--vdev=%s", cfg->wan_device);
		add(&o, "--no-pci");
	}
	add(&o, "--vdev=" OVERLAY_VDEV ",iface=%s", cfg->overlay_iface);
	if (!cfg->telemetry)
		add(&o, "--no-telemetry");
	for (size_t i = 0; i < cfg->n_eal_args; i++)
		add(&o, "%s", cfg->eal_args[i]);
	if (o.full)
		return E_NOSPACE;
	argv[o.n] = NULL;
	return o.n;
}
