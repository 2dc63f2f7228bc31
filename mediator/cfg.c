/* SPDX-License-Identifier: MIT */
/*
 * Settings of buri-mediator: defaults, then configs/mediator.cfg (libconfig), then command-line
 * flags, which win. Every setting is documented in configs/mediator.cfg; a bad value is
 * reported as "file:line: key: reason" and the program exits with status 2.
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/conf.h"
#include "common/crypto.h"
#include "common/err.h"
#include "common/hex.h"
#include "common/log.h"
#include "mediator/med.h"
#include "mediator/passwd.h"

#define DEFAULT_CONFIG "/etc/buri/mediator.cfg"

/* Command-line values, applied over the file. NULL / 0: not given. */
struct flags {
	const char *config, *listen, *key, *store, *prefix, *log_level;
	long tcp_port, tls_port, workers;
	bool tcp_set, tls_set, workers_set, check;
};

static void
defaults(struct med_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->listen, sizeof(cfg->listen), "0.0.0.0");
	cfg->tcp_port = 7770;
	cfg->tls_port = 7771;
	cfg->disco_ports[0] = 7772;
	cfg->disco_ports[1] = 7773;
	cfg->n_disco_ports = 2;
	snprintf(cfg->store_backend, sizeof(cfg->store_backend), "sqlite");
	cfg->prefix = 0x64400000; /* 100.64.0.0/10, RFC 6598 shared address space */
	cfg->prefix_len = 10;
	cfg->registration_open = true;
	cfg->members_per_network = 256;
	cfg->networks_per_node = 256;
	cfg->bans_per_network = 1024;
	cfg->offline_messages = 256;
	cfg->text_max = WIRE_TEXT_MAX;
	cfg->sessions = 0; /* from the descriptor limit */
	cfg->half_open = 1024;
	cfg->half_open_per_address = 64;
	cfg->handshake_rate = 20;
	cfg->handshake_burst = 40;
	cfg->handshake_timeout = 10;
	cfg->idle_timeout = 120;
	cfg->lost_grace = 300;
	cfg->probe_rate = 20;
	cfg->output_max = 64u << 20;
	cfg->crypto_queue = 1024;
	cfg->password_iterations = PASSWD_ITER_DEFAULT;
	cfg->log_level = LOG_LVL_INFO;
	cfg->relay_udp_port = 7790;
	cfg->relay_tcp_port = 7791;
	cfg->relay_grant_s = 86400;
}

/* "a.b.c.d/len": a network address with no host bits, len 8..30. */
static int
parse_prefix(const char *s, uint32_t *prefix, unsigned int *len)
{
	char addr[32];
	const char *slash = strchr(s, '/');
	struct in_addr in;
	char *end;
	long l;

	if (slash == NULL || (size_t)(slash - s) >= sizeof(addr))
		return E_INVAL;
	memcpy(addr, s, (size_t)(slash - s));
	addr[slash - s] = '\0';
	l = strtol(slash + 1, &end, 10);
	if (inet_pton(AF_INET, addr, &in) != 1 || *end != '\0' || l < 8 || l > 30)
		return E_INVAL;
	*prefix = ntohl(in.s_addr);
	*len = (unsigned int)l;
	if ((*prefix & ~(0xffffffffu << (32 - *len))) != 0)
		return E_INVAL;
	return 0;
}

static const char *const top_keys[] = {"listen",       "tls",	 "key",	    "store", "overlay",
				       "registration", "limits", "workers", "log",   "relay"};
static const char *const listen_keys[] = {"address", "tcp_port", "tls_port", "disco_ports"};
static const char *const limit_keys[] = {"members_per_network",
					 "networks_per_node",
					 "bans_per_network",
					 "offline_messages",
					 "text_max",
					 "sessions",
					 "half_open",
					 "half_open_per_address",
					 "handshakes_per_second",
					 "handshake_burst",
					 "handshake_timeout",
					 "idle_timeout",
					 "lost_grace",
					 "probes_per_second",
					 "output_max",
					 "crypto_queue",
					 "password_iterations"};

static int
check_keys(struct conf *c)
{
	static const char *const tls_keys[] = {"cert", "key"};
	static const char *const store_keys[] = {"backend", "path"};
	static const char *const overlay_keys[] = {"prefix"};
	static const char *const reg_keys[] = {"mode", "tokens"};
	static const char *const log_keys[] = {"level", "syslog"};
	static const char *const relay_keys[] = {"address", "udp_port", "tcp_port", "secret",
						 "grant_lifetime"};
	int r;

	if ((r = conf_check_keys(c, NULL, top_keys, ARRAY_SIZE(top_keys))) != 0 ||
	    (r = conf_check_keys(c, "listen", listen_keys, ARRAY_SIZE(listen_keys))) != 0 ||
	    (r = conf_check_keys(c, "tls", tls_keys, ARRAY_SIZE(tls_keys))) != 0 ||
	    (r = conf_check_keys(c, "store", store_keys, ARRAY_SIZE(store_keys))) != 0 ||
	    (r = conf_check_keys(c, "overlay", overlay_keys, ARRAY_SIZE(overlay_keys))) != 0 ||
	    (r = conf_check_keys(c, "registration", reg_keys, ARRAY_SIZE(reg_keys))) != 0 ||
	    (r = conf_check_keys(c, "limits", limit_keys, ARRAY_SIZE(limit_keys))) != 0 ||
	    (r = conf_check_keys(c, "log", log_keys, ARRAY_SIZE(log_keys))) != 0 ||
	    (r = conf_check_keys(c, "relay", relay_keys, ARRAY_SIZE(relay_keys))) != 0)
		return r;
	return 0;
}

static int
read_listen(struct conf *c, struct med_cfg *cfg)
{
	long long ports[MSG_DISCO_PORTS_MAX];
	size_t n;
	int r;

	if ((r = conf_get_str(c, "listen.address", cfg->listen, cfg->listen,
			      sizeof(cfg->listen))) != 0 ||
	    (r = conf_get_uint(c, "listen.tcp_port", 1, 65535, &cfg->tcp_port)) != 0 ||
	    (r = conf_get_uint(c, "listen.tls_port", 0, 65535, &cfg->tls_port)) != 0)
		return r;
	if (!conf_has(c, "listen.disco_ports"))
		return 0;
	if ((r = conf_get_ints(c, "listen.disco_ports", 1, 65535, ports, ARRAY_SIZE(ports), &n)) !=
	    0)
		return r;
	if (n == 0)
		return conf_fail(c, "listen.disco_ports", "at least one port is needed");
	for (size_t i = 0; i < n; i++)
		cfg->disco_ports[i] = (unsigned int)ports[i];
	cfg->n_disco_ports = (unsigned int)n;
	return 0;
}

static int
read_store(struct conf *c, struct med_cfg *cfg, const struct flags *f)
{
	int r;

	if ((r = conf_get_str(c, "tls.cert", "", cfg->tls_cert, sizeof(cfg->tls_cert))) != 0 ||
	    (r = conf_get_str(c, "tls.key", "", cfg->tls_key, sizeof(cfg->tls_key))) != 0 ||
	    (r = conf_get_str(c, "store.backend", "sqlite", cfg->store_backend,
			      sizeof(cfg->store_backend))) != 0)
		return r;
	if (strcmp(cfg->store_backend, "sqlite") != 0)
		return conf_fail(c, "store.backend", "unknown backend \"%s\" (known: sqlite)",
				 cfg->store_backend);
	if ((cfg->tls_cert[0] == '\0') != (cfg->tls_key[0] == '\0'))
		return conf_fail(c, cfg->tls_cert[0] == '\0' ? "tls.cert" : "tls.key",
				 "tls.cert and tls.key go together");
	if (f->key == NULL &&
	    (r = conf_need_str(c, "key", cfg->key_path, sizeof(cfg->key_path))) != 0)
		return r;
	if (f->store == NULL &&
	    (r = conf_need_str(c, "store.path", cfg->store_path, sizeof(cfg->store_path))) != 0)
		return r;
	return 0;
}

static int
read_overlay(struct conf *c, struct med_cfg *cfg)
{
	static const char *const modes[] = {"token", "open"};
	char prefix[64];
	int r, mode;

	if ((r = conf_get_str(c, "overlay.prefix", "100.64.0.0/10", prefix, sizeof(prefix))) != 0)
		return r;
	if (parse_prefix(prefix, &cfg->prefix, &cfg->prefix_len) != 0)
		return conf_fail(c, "overlay.prefix",
				 "\"%s\" is not a network address with a length of 8 to 30 bits",
				 prefix);
	if ((r = conf_get_enum(c, "registration.mode", modes, 2, 1, &mode)) != 0 ||
	    (r = conf_get_strs(c, "registration.tokens", cfg->tokens[0], sizeof(cfg->tokens[0]),
			       ARRAY_SIZE(cfg->tokens), &cfg->n_tokens)) != 0)
		return r;
	cfg->registration_open = mode == 1;
	if (!cfg->registration_open && cfg->n_tokens == 0)
		return conf_fail(c, "registration.tokens",
				 "mode \"token\" needs at least one token");
	for (size_t i = 0; i < cfg->n_tokens; i++)
		if (cfg->tokens[i][0] == '\0')
			return conf_fail(c, "registration.tokens", "tokens may not be empty");
	return 0;
}

static int
read_limits(struct conf *c, struct med_cfg *cfg)
{
	struct {
		const char *key;
		unsigned int *v;
		long long min, max;
	} t[] = {
		{"limits.members_per_network", &cfg->members_per_network, 2, 65535},
		{"limits.networks_per_node", &cfg->networks_per_node, 1, 65535},
		{"limits.bans_per_network", &cfg->bans_per_network, 0, 1000000},
		{"limits.offline_messages", &cfg->offline_messages, 0, 100000},
		{"limits.text_max", &cfg->text_max, 1, WIRE_TEXT_MAX},
		{"limits.sessions", &cfg->sessions, 0, 10000000},
		{"limits.half_open", &cfg->half_open, 1, 1000000},
		{"limits.half_open_per_address", &cfg->half_open_per_address, 1, 1000000},
		{"limits.handshakes_per_second", &cfg->handshake_rate, 1, 1000000},
		{"limits.handshake_burst", &cfg->handshake_burst, 1, 1000000},
		{"limits.handshake_timeout", &cfg->handshake_timeout, 1, 3600},
		{"limits.idle_timeout", &cfg->idle_timeout, 5, 86400},
		{"limits.lost_grace", &cfg->lost_grace, 0, 86400},
		{"limits.probes_per_second", &cfg->probe_rate, 1, 10000},
		{"limits.crypto_queue", &cfg->crypto_queue, 1, 1000000},
		{"limits.password_iterations", &cfg->password_iterations, 1000, 10000000},
		{"workers", &cfg->workers, 0, 256},
	};
	long long out_max;
	int r;

	for (size_t i = 0; i < ARRAY_SIZE(t); i++)
		if ((r = conf_get_uint(c, t[i].key, t[i].min, t[i].max, t[i].v)) != 0)
			return r;
	if ((r = conf_get_int(c, "limits.output_max", 65536, 1LL << 32, (long long)cfg->output_max,
			      &out_max)) != 0)
		return r;
	cfg->output_max = (size_t)out_max;
	return 0;
}

static int
read_log(struct conf *c, struct med_cfg *cfg)
{
	char level[16];
	enum log_level l;
	int r;

	if ((r = conf_get_str(c, "log.level", "info", level, sizeof(level))) != 0 ||
	    (r = conf_get_bool(c, "log.syslog", false, &cfg->log_syslog)) != 0)
		return r;
	if (log_level_parse(level, &l) != 0)
		return conf_fail(c, "log.level", "\"%s\" is not one of error, warn, info, debug",
				 level);
	cfg->log_level = (int)l;
	return 0;
}

/* The relay whose sessions tunnels are granted: its public address and ports, and the secret
 * it shares with us (64 hex digits, as `buri-relay --print-secret` shows it). */
static int
read_relay(struct conf *c, struct med_cfg *cfg)
{
	char addr[64], hex[2 * RELAY_SECRET_LEN + 1];
	struct in_addr in;
	size_t n;
	int r;

	if (!conf_has(c, "relay"))
		return 0;
	if ((r = conf_need_str(c, "relay.address", addr, sizeof(addr))) != 0 ||
	    (r = conf_get_uint(c, "relay.udp_port", 1, 65535, &cfg->relay_udp_port)) != 0 ||
	    (r = conf_get_uint(c, "relay.tcp_port", 0, 65535, &cfg->relay_tcp_port)) != 0 ||
	    (r = conf_get_uint(c, "relay.grant_lifetime", 60, 30 * 86400, &cfg->relay_grant_s)) !=
		    0 ||
	    (r = conf_need_str(c, "relay.secret", hex, sizeof(hex))) != 0)
		return r;
	if (inet_pton(AF_INET, addr, &in) != 1 || in.s_addr == 0)
		return conf_fail(c, "relay.address", "\"%s\" is not an IPv4 address", addr);
	cfg->relay_addr = ntohl(in.s_addr);
	r = hex_decode(hex, strlen(hex), cfg->relay_secret, sizeof(cfg->relay_secret), &n);
	wipe(hex, sizeof(hex));
	if (r != 0 || n != RELAY_SECRET_LEN)
		return conf_fail(c, "relay.secret",
				 "must be %d hex digits (buri-relay --print-secret)",
				 2 * RELAY_SECRET_LEN);
	return 0;
}

static int
read_file(struct med_cfg *cfg, const char *path, const struct flags *f)
{
	char err[CONF_ERR_MAX];
	struct conf *c;
	int r;

	if ((c = conf_load(path, err)) == NULL) {
		fprintf(stderr, "buri-mediator: %s\n", err);
		return E_CONF;
	}
	if ((r = check_keys(c)) != 0 || (r = read_listen(c, cfg)) != 0 ||
	    (r = read_store(c, cfg, f)) != 0 || (r = read_overlay(c, cfg)) != 0 ||
	    (r = read_limits(c, cfg)) != 0 || (r = read_log(c, cfg)) != 0 ||
	    (r = read_relay(c, cfg)) != 0)
		fprintf(stderr, "buri-mediator: %s\n", conf_error(c));
	conf_free(c);
	return r;
}

static void
usage(FILE *out)
{
	fprintf(out, "usage: buri-mediator [-c FILE] [options]\n"
		     "  -c, --config FILE      settings (default " DEFAULT_CONFIG " if it exists)\n"
		     "  -l, --listen ADDR      IPv4 address to listen on\n"
		     "  -p, --tcp-port PORT    TCP port\n"
		     "  -t, --tls-port PORT    TLS fallback port (0: none)\n"
		     "  -k, --key FILE         server key (created if missing)\n"
		     "  -s, --store FILE       SQLite store\n"
		     "  -P, --prefix A.B.C.D/N overlay prefix\n"
		     "  -w, --workers N        crypto worker threads (0: one per CPU)\n"
		     "  -v, --log-level LEVEL  error, warn, info or debug\n"
		     "  -h, --help\n"
		     "Command-line options override the file; configs/mediator.cfg documents every "
		     "setting.\n");
}

static int
parse_port(const char *s, long min, long *out)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v < min || v > 65535)
		return E_RANGE;
	*out = v;
	return 0;
}

/* 1: help printed; 0: parsed; E_INVAL: bad usage (message printed). */
static int
parse_flags(int argc, char **argv, struct flags *f)
{
	static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
					     {"listen", required_argument, NULL, 'l'},
					     {"tcp-port", required_argument, NULL, 'p'},
					     {"tls-port", required_argument, NULL, 't'},
					     {"key", required_argument, NULL, 'k'},
					     {"store", required_argument, NULL, 's'},
					     {"prefix", required_argument, NULL, 'P'},
					     {"workers", required_argument, NULL, 'w'},
					     {"log-level", required_argument, NULL, 'v'},
					     {"help", no_argument, NULL, 'h'},
					     {"check", no_argument, NULL, 'n'},
					     {NULL, 0, NULL, 0}};
	int o;

	memset(f, 0, sizeof(*f));
	optind = 1;
	while ((o = getopt_long(argc, argv, "c:l:p:t:k:s:P:w:v:hn", opts, NULL)) != -1) {
		switch (o) {
		case 'c':
			f->config = optarg;
			break;
		case 'l':
			f->listen = optarg;
			break;
		case 'k':
			f->key = optarg;
			break;
		case 's':
			f->store = optarg;
			break;
		case 'P':
			f->prefix = optarg;
			break;
		case 'v':
			f->log_level = optarg;
			break;
		case 'p':
			f->tcp_set = true;
			if (parse_port(optarg, 1, &f->tcp_port) != 0)
				goto bad;
			break;
		case 't':
			f->tls_set = true;
			if (parse_port(optarg, 0, &f->tls_port) != 0)
				goto bad;
			break;
		case 'w':
			f->workers_set = true;
			if (parse_port(optarg, 0, &f->workers) != 0 || f->workers > 256)
				goto bad;
			break;
		case 'n':
			f->check = true;
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
		fprintf(stderr, "buri-mediator: unexpected argument \"%s\"\n", argv[optind]);
		return E_INVAL;
	}
	return 0;
bad:
	fprintf(stderr, "buri-mediator: -%c: \"%s\" is out of range\n", o, optarg);
	return E_INVAL;
}

static int
apply_flags(struct med_cfg *cfg, const struct flags *f)
{
	enum log_level l;

	if (f->listen != NULL)
		snprintf(cfg->listen, sizeof(cfg->listen), "%s", f->listen);
	if (f->key != NULL)
		snprintf(cfg->key_path, sizeof(cfg->key_path), "%s", f->key);
	if (f->store != NULL)
		snprintf(cfg->store_path, sizeof(cfg->store_path), "%s", f->store);
	if (f->tcp_set)
		cfg->tcp_port = (unsigned int)f->tcp_port;
	if (f->tls_set)
		cfg->tls_port = (unsigned int)f->tls_port;
	if (f->workers_set)
		cfg->workers = (unsigned int)f->workers;
	if (f->prefix != NULL && parse_prefix(f->prefix, &cfg->prefix, &cfg->prefix_len) != 0) {
		fprintf(stderr, "buri-mediator: --prefix: \"%s\" is not A.B.C.D/N (N 8..30)\n",
			f->prefix);
		return E_INVAL;
	}
	if (f->log_level != NULL) {
		if (log_level_parse(f->log_level, &l) != 0) {
			fprintf(stderr,
				"buri-mediator: --log-level: \"%s\" is not one of error, "
				"warn, info, debug\n",
				f->log_level);
			return E_INVAL;
		}
		cfg->log_level = (int)l;
	}
	if (cfg->key_path[0] == '\0' || cfg->store_path[0] == '\0') {
		fprintf(stderr, "buri-mediator: no %s: give -c FILE or --%s\n",
			cfg->key_path[0] == '\0' ? "server key path" : "store path",
			cfg->key_path[0] == '\0' ? "key" : "store");
		return E_INVAL;
	}
	return 0;
}

/* 0: run; 1: done (help, check); E_*: exit with status 2 (message printed). */
int
cfg_load(struct med_cfg *cfg, int argc, char **argv)
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
		snprintf(cfg->config_path, sizeof(cfg->config_path), "%s", path);
		if ((r = read_file(cfg, path, &f)) != 0)
			return r;
	}
	if ((r = apply_flags(cfg, &f)) != 0 || !f.check)
		return r;
	printf("%s: OK: tcp %s:%u, tls %u, key %s, store %s, prefix %u.%u.%u.%u/%u",
	       path != NULL ? path : "(no file)", cfg->listen, cfg->tcp_port, cfg->tls_port,
	       cfg->key_path, cfg->store_path, cfg->prefix >> 24, (cfg->prefix >> 16) & 255,
	       (cfg->prefix >> 8) & 255, cfg->prefix & 255, cfg->prefix_len);
	if (cfg->relay_addr != 0)
		printf(", relay %u.%u.%u.%u udp %u tcp %u", cfg->relay_addr >> 24,
		       (cfg->relay_addr >> 16) & 255, (cfg->relay_addr >> 8) & 255,
		       cfg->relay_addr & 255, cfg->relay_udp_port, cfg->relay_tcp_port);
	printf("\n");
	return 1;
}
