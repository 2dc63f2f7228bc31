/* SPDX-License-Identifier: MIT */
/*
 * buri-relay: forwards the sealed datagrams of tunnels whose peers cannot reach each other
 * (docs/PROTOCOL.md 7.4, docs/ARCHITECTURE.md "relay/"). Settings, then the loop until
 * SIGTERM or SIGINT (exit 0). Everything else is in librelay.
 */
#include <signal.h>
#include <stdio.h>

#include "common/crypto.h"
#include "common/hex.h"
#include "common/log.h"
#include "relay/relay.h"

/* --print-secret: the hex the mediator's configuration wants. */
static int
print_secret(const struct relay_cfg *cfg)
{
	uint8_t secret[RELAY_SECRET_LEN];
	char hex[2 * RELAY_SECRET_LEN + 1];

	if (relay_secret(cfg, secret) != 0)
		return 1;
	hex_encode(secret, sizeof(secret), hex);
	printf("%s\n", hex);
	wipe(secret, sizeof(secret));
	wipe(hex, sizeof(hex));
	return fflush(stdout) == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	static struct relay r;
	sigset_t set;
	int rc;

	if ((rc = cfg_load(&r.cfg, argc, argv)) != 0)
		return rc == 1 ? 0 : 2;
	log_init("buri-relay", (enum log_level)r.cfg.log_level, r.cfg.log_syslog);
	if (r.cfg.print_secret)
		return print_secret(&r.cfg);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if ((rc = relay_init(&r)) == 0)
		rc = relay_run(&r);
	relay_fini(&r);
	return rc == 0 ? 0 : 1;
}
