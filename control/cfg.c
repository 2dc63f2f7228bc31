/* SPDX-License-Identifier: MIT */
/* Settings of buri-control (cfg.h); configs/node.cfg documents every one. */
#include "control/cfg.h"

#include <arpa/inet.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "common/names.h"
#include "common/pubkey.h"

#define PROG	       "buri-control"
#define DEFAULT_CONFIG "/etc/buri/node.cfg"

static void
defaults(struct ctl_cfg *c)
{
	memset(c, 0, sizeof(*c));
	c->med_port = 7770;
	c->med_tls_port = 7771;
	snprintf(c->med_key, sizeof(c->med_key), "/etc/buri/mediator.pub");
	snprintf(c->key_path, sizeof(c->key_path), "/var/lib/buri/node.key");
	snprintf(c->state_path, sizeof(c->state_path), "/var/lib/buri/node.state");
	c->auto_login = true;
	snprintf(c->dp_prefix, sizeof(c->dp_prefix), "buri");
	snprintf(c->overlay_iface, sizeof(c->overlay_iface), "buri0");
	snprintf(c->mirror_iface, sizeof(c->mirror_iface), "buriwan0");
	c->tunnel_port = 7777;
	c->keepalive_s = 15;
	c->dead_after = 3;
	c->rekey_after_s = 3600;
	c->handshake_ms = 10000;
	c->retry_s = 30;
	snprintf(c->socket_path, sizeof(c->socket_path), "/run/buri/control.sock");
	c->log_level = LOG_LVL_INFO;
}

static const char *const top_keys[] = {"mediator", "node",    "dataplane", "tunnel",
				       "peers",	   "control", "log"};

static int
check_keys(struct conf *c)
{
	static const char *const med[] = {"host", "port",	 "tls_port",
					  "key",  "fingerprint", "token"};
	static const char *const node[] = {"key", "state", "nick", "auto_login"};
	static const char *const dp[] = {"prefix", "overlay_iface", "mirror_iface"};
	static const char *const tun[] = {"port",	 "keepalive",	      "dead_after",
					  "rekey_after", "handshake_timeout", "retry"};
	static const char *const ctl[] = {"socket"};
	static const char *const log[] = {"level", "syslog"};
	int r;

	if ((r = conf_check_keys(c, NULL, top_keys, ARRAY_SIZE(top_keys))) != 0 ||
	    (r = conf_check_keys(c, "mediator", med, ARRAY_SIZE(med))) != 0 ||
	    (r = conf_check_keys(c, "node", node, ARRAY_SIZE(node))) != 0 ||
	    (r = conf_check_keys(c, "dataplane", dp, ARRAY_SIZE(dp))) != 0 ||
	    (r = conf_check_keys(c, "tunnel", tun, ARRAY_SIZE(tun))) != 0 ||
	    (r = conf_check_keys(c, "control", ctl, ARRAY_SIZE(ctl))) != 0 ||
	    (r = conf_check_keys(c, "log", log, ARRAY_SIZE(log))) != 0)
		return r;
	return 0;
}

/* A string setting whose default is what out holds now (copied: conf_get_str's default and
 * output must not overlap). */
static int
get_str_keep(struct conf *c, const char *key, char *out, size_t cap)
{
	char def[CTL_PATH_MAX];

	snprintf(def, sizeof(def), "%s", out);
	return conf_get_str(c, key, def, out, cap);
}

/* A string that must be a non-empty path. */
static int
get_path(struct conf *c, const char *key, char *out, size_t cap)
{
	int r;

	if ((r = get_str_keep(c, key, out, cap)) != 0)
		return r;
	return out[0] == '\0' ? conf_fail(c, key, "may not be empty") : 0;
}

static int
read_mediator(struct conf *c, struct ctl_cfg *cfg)
{
	int r;

	if ((r = conf_need_str(c, "mediator.host", cfg->med_host, sizeof(cfg->med_host))) != 0 ||
	    (r = conf_get_uint(c, "mediator.port", 1, 65535, &cfg->med_port)) != 0 ||
	    (r = conf_get_uint(c, "mediator.tls_port", 0, 65535, &cfg->med_tls_port)) != 0 ||
	    (r = get_path(c, "mediator.key", cfg->med_key, sizeof(cfg->med_key))) != 0 ||
	    (r = conf_get_str(c, "mediator.fingerprint", "", cfg->med_fp, sizeof(cfg->med_fp))) !=
		    0 ||
	    (r = conf_get_str(c, "mediator.token", "", cfg->token, sizeof(cfg->token))) != 0)
		return r;
	if (cfg->med_host[0] == '\0')
		return conf_fail(c, "mediator.host", "may not be empty");
	if (cfg->med_fp[0] != '\0') {
		if (pubkey_fingerprint_parse(cfg->med_fp, cfg->med_kfp) != 0)
			return conf_fail(c, "mediator.fingerprint",
					 "\"%s\" is not 20 colon-separated hex pairs or 40 hex "
					 "digits",
					 cfg->med_fp);
		cfg->med_fp_set = true;
	}
	return 0;
}

static int
read_node(struct conf *c, struct ctl_cfg *cfg)
{
	int r;

	if ((r = get_path(c, "node.key", cfg->key_path, sizeof(cfg->key_path))) != 0 ||
	    (r = get_path(c, "node.state", cfg->state_path, sizeof(cfg->state_path))) != 0 ||
	    (r = conf_get_str(c, "node.nick", "", cfg->nick, sizeof(cfg->nick))) != 0 ||
	    (r = conf_get_bool(c, "node.auto_login", cfg->auto_login, &cfg->auto_login)) != 0)
		return r;
	return 0;
}

static int
get_name(struct conf *c, const char *key, char *out, size_t cap,
	 const char *(*problem)(const char *))
{
	const char *why;
	int r;

	if ((r = get_str_keep(c, key, out, cap)) != 0)
		return r;
	if ((why = problem(out)) != NULL)
		return conf_fail(c, key, "\"%s\" %s", out, why);
	return 0;
}

static int
read_tunnel(struct conf *c, struct ctl_cfg *cfg)
{
	unsigned hs = cfg->handshake_ms / 1000;
	int r;

	if ((r = get_name(c, "dataplane.prefix", cfg->dp_prefix, sizeof(cfg->dp_prefix),
			  names_prefix_problem)) != 0 ||
	    (r = get_name(c, "dataplane.overlay_iface", cfg->overlay_iface,
			  sizeof(cfg->overlay_iface), names_ifname_problem)) != 0 ||
	    (r = get_name(c, "dataplane.mirror_iface", cfg->mirror_iface, sizeof(cfg->mirror_iface),
			  names_ifname_problem)) != 0 ||
	    (r = conf_get_uint(c, "tunnel.port", 1, 65535, &cfg->tunnel_port)) != 0 ||
	    (r = conf_get_uint(c, "tunnel.keepalive", 1, 3600, &cfg->keepalive_s)) != 0 ||
	    (r = conf_get_uint(c, "tunnel.dead_after", 2, 100, &cfg->dead_after)) != 0 ||
	    (r = conf_get_uint(c, "tunnel.rekey_after", 0, 30 * 86400, &cfg->rekey_after_s)) != 0 ||
	    (r = conf_get_uint(c, "tunnel.handshake_timeout", 2, 120, &hs)) != 0 ||
	    (r = conf_get_uint(c, "tunnel.retry", 1, 3600, &cfg->retry_s)) != 0)
		return r;
	if (cfg->rekey_after_s != 0 && cfg->rekey_after_s < 30)
		return conf_fail(c, "tunnel.rekey_after", "must be 0 (off) or at least 30 seconds");
	cfg->handshake_ms = hs * 1000;
	return 0;
}

/* peers = ( { identity = "100.64.0.9"; key = "bob.pub"; }, ... ) */
static int
read_peers(struct conf *c, struct ctl_cfg *cfg)
{
	char key[64], addr[32];
	struct in_addr a;
	int r;

	for (unsigned i = 0;; i++) {
		struct ctl_pinned *p = &cfg->pinned[cfg->n_pinned];

		snprintf(key, sizeof(key), "peers.[%u]", i);
		if (!conf_has(c, key))
			return 0;
		if (cfg->n_pinned == CTL_PINNED_MAX)
			return conf_fail(c, "peers", "at most %d pinned peer keys", CTL_PINNED_MAX);
		snprintf(key, sizeof(key), "peers.[%u].identity", i);
		if ((r = conf_need_str(c, key, addr, sizeof(addr))) != 0)
			return r;
		if (inet_pton(AF_INET, addr, &a) != 1 || a.s_addr == 0)
			return conf_fail(c, key, "\"%s\" is not an overlay IPv4 address", addr);
		p->identity = ntohl(a.s_addr);
		snprintf(key, sizeof(key), "peers.[%u].key", i);
		if ((r = conf_need_str(c, key, p->key, sizeof(p->key))) != 0)
			return r;
		cfg->n_pinned++;
	}
}

static int
read_misc(struct conf *c, struct ctl_cfg *cfg)
{
	static const char *const levels[] = {"error", "warn", "info", "debug"};
	int r, lvl;

	if ((r = get_path(c, "control.socket", cfg->socket_path, sizeof(cfg->socket_path))) != 0 ||
	    (r = conf_get_enum(c, "log.level", levels, ARRAY_SIZE(levels), cfg->log_level, &lvl)) !=
		    0 ||
	    (r = conf_get_bool(c, "log.syslog", cfg->log_syslog, &cfg->log_syslog)) != 0)
		return r;
	cfg->log_level = lvl;
	return 0;
}

static int
read_conf(struct conf *c, struct ctl_cfg *cfg)
{
	int r;

	if ((r = check_keys(c)) != 0 || (r = read_mediator(c, cfg)) != 0 ||
	    (r = read_node(c, cfg)) != 0 || (r = read_tunnel(c, cfg)) != 0 ||
	    (r = read_peers(c, cfg)) != 0 || (r = read_misc(c, cfg)) != 0)
		return r;
	return 0;
}

int
ctl_cfg_parse(struct ctl_cfg *cfg, const char *text, const char *name, char err[CONF_ERR_MAX])
{
	struct conf *c;
	int r;

	defaults(cfg);
	if ((c = conf_parse(text, name, err)) == NULL)
		return E_CONF;
	if ((r = read_conf(c, cfg)) != 0)
		snprintf(err, CONF_ERR_MAX, "%s", conf_error(c));
	else
		err[0] = '\0';
	conf_free(c);
	return r;
}

static void
usage(FILE *out)
{
	fprintf(out, "usage: " PROG " [-c FILE] [options]\n"
		     "  -c, --config FILE      settings (default " DEFAULT_CONFIG " if it exists)\n"
		     "      --check            check the settings, print \"ok FILE\" and exit\n"
		     "      --log-level LEVEL  error, warn, info or debug\n"
		     "      --syslog           log to syslog instead of stderr\n"
		     "  -h, --help\n"
		     "configs/node.cfg documents every setting.\n");
}

enum { OPT_CHECK = 256, OPT_LOG, OPT_SYSLOG };

int
ctl_cfg_load(struct ctl_cfg *cfg, int argc, char **argv)
{
	static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
					     {"check", no_argument, NULL, OPT_CHECK},
					     {"log-level", required_argument, NULL, OPT_LOG},
					     {"syslog", no_argument, NULL, OPT_SYSLOG},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	const char *path = NULL, *level = NULL;
	char err[CONF_ERR_MAX];
	bool check = false, sys = false;
	struct conf *c;
	int o, r;

	defaults(cfg);
	optind = 1;
	while ((o = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		if (o == 'c')
			path = optarg;
		else if (o == OPT_CHECK)
			check = true;
		else if (o == OPT_LOG)
			level = optarg;
		else if (o == OPT_SYSLOG)
			sys = true;
		else {
			usage(o == 'h' ? stdout : stderr);
			return o == 'h' ? 1 : E_CONF;
		}
	}
	if (optind != argc) {
		fprintf(stderr, PROG ": unexpected argument \"%s\"\n", argv[optind]);
		return E_CONF;
	}
	if (path == NULL && access(DEFAULT_CONFIG, F_OK) == 0)
		path = DEFAULT_CONFIG;
	if (path == NULL) {
		fprintf(stderr, PROG ": no settings: give -c FILE (configs/node.cfg is the "
				     "reference)\n");
		return E_CONF;
	}
	snprintf(cfg->config_path, sizeof(cfg->config_path), "%s", path);
	if ((c = conf_load(path, err)) == NULL) {
		fprintf(stderr, PROG ": %s\n", err);
		return E_CONF;
	}
	r = read_conf(c, cfg);
	if (r != 0)
		fprintf(stderr, PROG ": %s\n", conf_error(c));
	conf_free(c);
	if (r != 0)
		return r;
	if (level != NULL) {
		enum log_level l;

		if (log_level_parse(level, &l) != 0) {
			fprintf(stderr,
				PROG ": --log-level: \"%s\" is not one of error, warn, info, "
				     "debug\n",
				level);
			return E_CONF;
		}
		cfg->log_level = (int)l;
	}
	cfg->log_syslog |= sys;
	if (!check)
		return 0;
	printf("ok %s\n", path);
	return 1;
}
