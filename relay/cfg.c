/* SPDX-License-Identifier: MIT */
/* Settings of buri-relay (cfg.h); configs/relay.cfg documents every one. */
#include "relay/cfg.h"

#include <arpa/inet.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/conf.h"
#include "common/err.h"
#include "common/log.h"

#define PROG	       "buri-relay"
#define DEFAULT_CONFIG "/etc/buri/relay.cfg"

/* Command-line values, applied over the file. NULL: not given. */
struct flags {
	const char *config, *log_level;
	bool check;
};

static void
defaults(struct relay_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->listen, sizeof(cfg->listen), "0.0.0.0");
	cfg->udp_port = 7790;
	cfg->tcp_port = 7791;
	snprintf(cfg->secret_path, sizeof(cfg->secret_path), "/var/lib/buri-relay/relay.secret");
	relay_limits_default(&cfg->lim);
	cfg->tcp_connections = 4096;
	cfg->tcp_output_kib = 256;
	cfg->stats_interval = 60;
	cfg->log_level = LOG_LVL_INFO;
}

static int
check_keys(struct conf *c)
{
	static const char *const top[] = {"listen", "secret", "limits", "log"};
	static const char *const listen[] = {"address", "udp_port", "tcp_port"};
	static const char *const limits[] = {
		"sessions",	"sessions_per_identity", "binds_per_second",
		"bind_burst",	"session_mbit",		 "session_burst_kib",
		"idle_timeout", "tcp_connections",	 "tcp_output_kib"};
	static const char *const log[] = {"level", "syslog", "stats_interval"};
	int r;

	if ((r = conf_check_keys(c, NULL, top, ARRAY_SIZE(top))) != 0 ||
	    (r = conf_check_keys(c, "listen", listen, ARRAY_SIZE(listen))) != 0 ||
	    (r = conf_check_keys(c, "limits", limits, ARRAY_SIZE(limits))) != 0 ||
	    (r = conf_check_keys(c, "log", log, ARRAY_SIZE(log))) != 0)
		return r;
	return 0;
}

static int
read_listen(struct conf *c, struct relay_cfg *cfg)
{
	struct in_addr in;
	int r;

	if ((r = conf_get_str(c, "listen.address", cfg->listen, cfg->listen,
			      sizeof(cfg->listen))) != 0 ||
	    (r = conf_get_uint(c, "listen.udp_port", 1, 65535, &cfg->udp_port)) != 0 ||
	    (r = conf_get_uint(c, "listen.tcp_port", 0, 65535, &cfg->tcp_port)) != 0 ||
	    (r = conf_get_str(c, "secret", cfg->secret_path, cfg->secret_path,
			      sizeof(cfg->secret_path))) != 0)
		return r;
	if (inet_pton(AF_INET, cfg->listen, &in) != 1)
		return conf_fail(c, "listen.address", "\"%s\" is not an IPv4 address", cfg->listen);
	cfg->addr = ntohl(in.s_addr);
	if (cfg->secret_path[0] == '\0')
		return conf_fail(c, "secret", "may not be empty");
	return 0;
}

static int
read_limits(struct conf *c, struct relay_cfg *cfg)
{
	unsigned mbit = (unsigned)(cfg->lim.byte_rate * 8 / 1000000);
	unsigned burst_kib = (unsigned)(cfg->lim.byte_burst / 1024);
	unsigned idle_s = (unsigned)(cfg->lim.idle_ms / 1000);
	struct {
		const char *key;
		unsigned *v;
		long long min, max;
	} t[] = {
		{"limits.sessions", &cfg->lim.sessions, 1, 10000000},
		{"limits.sessions_per_identity", &cfg->lim.per_identity, 1, 10000000},
		{"limits.binds_per_second", &cfg->lim.bind_rate, 1, 1000000},
		{"limits.bind_burst", &cfg->lim.bind_burst, 1, 1000000},
		{"limits.session_mbit", &mbit, 0, 100000},
		/* at least 64 KiB: a burst smaller than one datagram would refuse it forever */
		{"limits.session_burst_kib", &burst_kib, 64, 1 << 20},
		{"limits.idle_timeout", &idle_s, 10, 86400},
		{"limits.tcp_connections", &cfg->tcp_connections, 1, 1000000},
		{"limits.tcp_output_kib", &cfg->tcp_output_kib, 64, 1 << 20},
	};
	int r;

	for (size_t i = 0; i < ARRAY_SIZE(t); i++)
		if ((r = conf_get_uint(c, t[i].key, t[i].min, t[i].max, t[i].v)) != 0)
			return r;
	cfg->lim.byte_rate = (uint64_t)mbit * 1000000 / 8;
	cfg->lim.byte_burst = (uint64_t)burst_kib * 1024;
	cfg->lim.idle_ms = (uint64_t)idle_s * 1000;
	return 0;
}

static int
read_log(struct conf *c, struct relay_cfg *cfg)
{
	char level[16];
	enum log_level l;
	int r;

	if ((r = conf_get_str(c, "log.level", "info", level, sizeof(level))) != 0 ||
	    (r = conf_get_bool(c, "log.syslog", false, &cfg->log_syslog)) != 0 ||
	    (r = conf_get_uint(c, "log.stats_interval", 1, 86400, &cfg->stats_interval)) != 0)
		return r;
	if (log_level_parse(level, &l) != 0)
		return conf_fail(c, "log.level", "\"%s\" is not one of error, warn, info, debug",
				 level);
	cfg->log_level = (int)l;
	return 0;
}

static int
read_file(struct relay_cfg *cfg, const char *path)
{
	char err[CONF_ERR_MAX];
	struct conf *c;
	int r;

	if ((c = conf_load(path, err)) == NULL) {
		fprintf(stderr, PROG ": %s\n", err);
		return E_CONF;
	}
	if ((r = check_keys(c)) != 0 || (r = read_listen(c, cfg)) != 0 ||
	    (r = read_limits(c, cfg)) != 0 || (r = read_log(c, cfg)) != 0)
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
		"  -n, --check            check the settings and exit\n"
		"  -s, --print-secret     print the relay secret in hex (creating it if it is\n"
		"                         missing) for the mediator's configuration, and exit\n"
		"  -v, --log-level LEVEL  error, warn, info or debug\n"
		"  -h, --help\n"
		"configs/relay.cfg documents every setting. Signals: TERM/INT stop, USR1 logs "
		"the counters.\n");
}

/* 1: help printed; 0: parsed; E_INVAL: bad usage (message printed). */
static int
parse_flags(int argc, char **argv, struct flags *f, struct relay_cfg *cfg)
{
	static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
					     {"check", no_argument, NULL, 'n'},
					     {"print-secret", no_argument, NULL, 's'},
					     {"log-level", required_argument, NULL, 'v'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	int o;

	memset(f, 0, sizeof(*f));
	optind = 1;
	while ((o = getopt_long(argc, argv, "c:nsv:h", opts, NULL)) != -1) {
		switch (o) {
		case 'c':
			f->config = optarg;
			break;
		case 'n':
			f->check = true;
			break;
		case 's':
			cfg->print_secret = true;
			break;
		case 'v':
			f->log_level = optarg;
			break;
		case 'h':
			usage(stdout);
			return 1;
		default:
			usage(stderr);
			return E_INVAL;
		}
	}
	if (optind != argc) {
		fprintf(stderr, PROG ": unexpected argument \"%s\"\n", argv[optind]);
		return E_INVAL;
	}
	return 0;
}

static int
apply_flags(struct relay_cfg *cfg, const struct flags *f)
{
	enum log_level l;

	if (f->log_level != NULL) {
		if (log_level_parse(f->log_level, &l) != 0) {
			fprintf(stderr,
				PROG ": --log-level: \"%s\" is not one of error, warn, info, "
				     "debug\n",
				f->log_level);
			return E_INVAL;
		}
		cfg->log_level = (int)l;
	}
	return 0;
}

int
cfg_load(struct relay_cfg *cfg, int argc, char **argv)
{
	struct flags f;
	const char *path;
	int r;

	defaults(cfg);
	if ((r = parse_flags(argc, argv, &f, cfg)) != 0)
		return r;
	path = f.config;
	if (path == NULL && access(DEFAULT_CONFIG, F_OK) == 0)
		path = DEFAULT_CONFIG;
	if (path != NULL) {
		snprintf(cfg->config_path, sizeof(cfg->config_path), "%s", path);
		if ((r = read_file(cfg, path)) != 0)
			return r;
	}
	if ((r = apply_flags(cfg, &f)) != 0 || !f.check)
		return r;
	printf("%s: OK: udp %s:%u, tcp %u, secret %s, sessions %u, idle %u s, %u Mbit/s per "
	       "session\n",
	       path != NULL ? path : "(no file)", cfg->listen, cfg->udp_port, cfg->tcp_port,
	       cfg->secret_path, cfg->lim.sessions, (unsigned)(cfg->lim.idle_ms / 1000),
	       (unsigned)(cfg->lim.byte_rate * 8 / 1000000));
	return 1;
}
