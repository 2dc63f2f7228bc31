/* SPDX-License-Identifier: MIT */
/*
 * A real buri-mediator for integration tests: a fresh directory under /tmp holding its config,
 * server key, store and log; free loopback ports (TCP, TLS, two UDP discovery ports); the
 * process started, waited for, stopped, killed and restarted. Only the PID started here is
 * ever signalled, and only while it has not been reaped.
 *
 *   struct medproc *p = medproc_start(argv[1], "limits = { handshake_timeout = 2; };", NULL,
 *                                     10000);
 *   c = mc_connect(NULL, p->tcp_port, false, 2000);
 *   mc_login(c, p->kfp, p->server_key, ...);
 *   ...
 *   medproc_cleanup(p);
 *
 * medproc_guard() makes every exit path (return from main, exit(), SIGINT, SIGTERM, SIGALRM,
 * crashes) kill the servers started; the servers also die with the test process
 * (PR_SET_PDEATHSIG).
 */
#ifndef BURI_TEST_MEDPROC_H
#define BURI_TEST_MEDPROC_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "common/pubkey.h"
#include "common/wire.h"

enum { MEDPROC_PATH_MAX = 256 };

struct medproc {
	pid_t pid;   /* the running server, 0 when none */
	int wstatus; /* waitpid() status of the last server that ended */
	char bin[MEDPROC_PATH_MAX];
	char dir[64]; /* /tmp/buri-med.XXXXXX */
	char cfg[MEDPROC_PATH_MAX], key[MEDPROC_PATH_MAX], store[MEDPROC_PATH_MAX],
		log[MEDPROC_PATH_MAX], out[MEDPROC_PATH_MAX]; /* out: the server's stdout */
	uint16_t tcp_port, tls_port, disco_port[2];
	struct pubkey *server_key; /* public half, loaded from the key file */
	uint8_t kfp[WIRE_KFP_LEN];
	char fp_str[PUBKEY_FP_STR_LEN];
	bool ready_by_log; /* wait for the "ready" log line (default log settings), else connect */
};

/* Starts bin -c DIR/mediator.cfg and waits (up to timeout_ms) until its TCP port accepts.
 * The config has listen (127.0.0.1, the ports), key and store, then extra, verbatim: whole
 * top-level settings or groups such as "limits = { ... }; registration = { ... };" (NULL for
 * none). For each of the groups limits, log and workers that extra does not set, a test
 * default is written (limits: rates and half-open caps high enough that a test's own logins
 * never hit them, password_iterations at its minimum; log: debug; workers: 2). key (a key
 * pair) becomes the server key file (mode 0600); NULL lets the mediator create one. NULL on
 * failure, with the reason and the server's log on stderr. */
struct medproc *medproc_start(const char *bin, const char *extra, const struct pubkey *key,
			      int timeout_ms);
/* Starts the server again with the same directory, config and ports (a running one is
 * killed first) and reloads its key; 0, or E_TIMEOUT / E_IO if it does not come up. */
int medproc_restart(struct medproc *p, int timeout_ms);
/* SIGKILL and reap. 0, or E_STATE if the server was not running. */
int medproc_kill9(struct medproc *p);
/* SIGTERM and wait up to timeout_ms, then SIGKILL (E_TIMEOUT). 0 if it exited by itself
 * with status 0, E_IO for another status. */
int medproc_stop(struct medproc *p, int timeout_ms);
/* True while the server runs (reaps it if it ended). */
bool medproc_running(struct medproc *p);
/* Kills the server if it runs, removes the directory, frees p (NULL is fine). */
void medproc_cleanup(struct medproc *p);
/* CPU time (user + system, seconds) the running server has used so far, from
 * /proc/PID/stat; -1 if unknown. For checks that a server does not spin. */
double medproc_cpu_seconds(const struct medproc *p);
/* The last max_lines lines of the server's log (stderr), each prefixed "# " (TAP). */
void medproc_dump_log(const struct medproc *p, FILE *out, size_t max_lines);

/* atexit: every server still registered is killed and its directory removed; on SIGINT,
 * SIGTERM, SIGHUP, SIGALRM, SIGSEGV, SIGBUS, SIGABRT: killed (async-signal-safe), then the
 * signal takes its default course. Call once, early in main. */
void medproc_guard(void);

#endif
