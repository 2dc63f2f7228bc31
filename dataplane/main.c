/* SPDX-License-Identifier: MIT */
/* buri-dataplane: settings, EAL, setup in order, the workers, the main lcore's loop, teardown
 * in reverse. Everything else is in libdatapath. */
#define ALLOW_EXPERIMENTAL_API

#include "dataplane/dp.h" /* first: see sa_table.h on container_of */

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include "common/err.h"
#include "common/log.h"
#include "dataplane/dpif_server.h"
#include "dataplane/neigh.h"

enum { EXHAUST_AT = 0xC0000000u }; /* a quarter of the IDs left: minutes at 10 Mpps */

static struct dp *the_dp; /* for the signal handler only */

static void
on_signal(int sig)
{
	(void)sig;
	if (the_dp != NULL)
		__atomic_store_n(&the_dp->stop, 1, __ATOMIC_RELAXED);
}

static enum cb_backend
backend(const struct dp_cfg *cfg)
{
	switch (cfg->crypto) {
	case DP_CRYPTO_IPSECMB:
		return CB_BACKEND_IPSECMB;
	case DP_CRYPTO_OPENSSL:
		return CB_BACKEND_OPENSSL;
	default:
		return CB_BACKEND_AUTO;
	}
}

/* The TAP PMD signals the process with SIGIO when the kernel writes a frame. Blocked here,
 * before EAL makes its threads (they inherit the mask), and unblocked only in the workers, so
 * the signal lands in a napping worker and ends its nap at once (worker.c back_off). */
static void
sigio_to_workers(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGIO);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
}

static int
eal_start(struct dp *dp)
{
	static char buf[DP_EAL_BUF_MAX];
	static char *argv[DP_EAL_ARGV_MAX];
	int argc = dp_cfg_eal_argv(&dp->cfg, buf, sizeof(buf), argv, (int)ARRAY_SIZE(argv));

	if (argc < 0) {
		log_err("EAL arguments: %s", err_str(argc));
		return argc;
	}
	sigio_to_workers();
	if (rte_eal_init(argc, argv) < 0) {
		log_err("EAL: %s", rte_strerror(rte_errno));
		return E_IO;
	}
	return 0;
}

/* Mempool, RCU variable, SA table, neighbours, workers: what the ports and loops need. */
static int
core_setup(struct dp *dp)
{
	unsigned n = (unsigned)dp->cfg.n_workers;
	unsigned room = RTE_PKTMBUF_HEADROOM + MAX(2048u, dp->cfg.wan_mtu + 64u);
	struct sa_table_params sp = {"dp", dp->cfg.max_sas, SOCKET_ID_ANY, NULL, backend(&dp->cfg)};

	dp->n_workers = n;
	dp->tunnel_port = (uint16_t)dp->cfg.tunnel_port;
	rte_seqcount_init(&dp->view_sc);
	dp->pool = rte_pktmbuf_pool_create("dp_mbufs", dp->cfg.mbufs, dp->cfg.mbuf_cache, 0,
					   (uint16_t)room, (int)rte_socket_id());
	if (dp->pool == NULL) {
		log_err("mbuf pool of %u: %s (hugepages reserved?)", dp->cfg.mbufs,
			rte_strerror(rte_errno));
		return E_NOMEM;
	}
	dp->qsbr = rte_zmalloc("dp_qsbr", rte_rcu_qsbr_get_memsize(n), RTE_CACHE_LINE_SIZE);
	if (dp->qsbr == NULL || rte_rcu_qsbr_init(dp->qsbr, n) != 0)
		return E_NOMEM;
	sp.v = dp->qsbr;
	if ((dp->sas = sa_table_create(&sp)) == NULL || (dp->neigh = neigh_new()) == NULL)
		return E_NOMEM;
	for (unsigned i = 0; i < n; i++)
		if ((dp->w[i] = worker_new(dp, i, backend(&dp->cfg))) == NULL)
			return E_CRYPTO;
	log_info("crypto: %s", cb_ctx_describe(dp->w[0]->cb));
	return 0;
}

static int
dpif_start(struct dp *dp)
{
	struct dpif_server_params p = {
		.prefix = dp->cfg.file_prefix,
		.pid = (uint64_t)getpid(),
		.sas = dp->sas,
		.idle_ticks = dp->cfg.idle_timeout,
		.exhaust_at = EXHAUST_AT,
		.probes = dp->w[0]->probes,
	};

	if ((dp->dpif = dpif_server_new(&p)) == NULL) {
		log_err("cannot create the control channel /dev/shm" DPIF_SHM_NAME,
			dp->cfg.file_prefix);
		return E_IO;
	}
	return 0;
}

static int
launch(struct dp *dp)
{
	for (unsigned i = 0; i < dp->n_workers; i++)
		if (rte_eal_remote_launch(worker_main, dp->w[i], dp->cfg.workers[i]) != 0) {
			log_err("lcore %u: cannot launch worker %u", dp->cfg.workers[i], i);
			return E_STATE;
		}
	return 0;
}

static void
teardown(struct dp *dp)
{
	__atomic_store_n(&dp->stop, 1, __ATOMIC_RELAXED);
	rte_eal_mp_wait_lcore();
	port_close(dp);
	dpif_server_free(dp->dpif);
	for (unsigned i = 0; i < dp->n_workers; i++)
		worker_free(dp->w[i]);
	sa_table_free(dp->sas);
	neigh_free(dp->neigh);
	rte_free(dp->qsbr);
	rte_mempool_free(dp->pool);
	stats_free();
}

int
main(int argc, char **argv)
{
	struct dp *dp = calloc(1, sizeof(*dp));
	int r;

	if (dp == NULL)
		return 1;
	if ((r = dp_cfg_load(&dp->cfg, argc, argv)) != 0) {
		free(dp);
		return r == 1 ? 0 : 2;
	}
	log_init("buri-dataplane", (enum log_level)dp->cfg.log_level, dp->cfg.log_syslog);
	if ((r = eal_start(dp)) != 0) {
		free(dp);
		return 1;
	}
	the_dp = dp;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if ((r = core_setup(dp)) == 0 && (r = port_setup(dp)) == 0 && (r = dpif_start(dp)) == 0 &&
	    (r = stats_register(dp)) == 0 && (r = launch(dp)) == 0) {
		log_info("ready: wan %s (%s), overlay %s mtu %u, tunnel port %u, %u worker(s), "
			 "control channel /dev/shm" DPIF_SHM_NAME,
			 dp->cfg.wan_device, dp->cfg.wan_mirror, dp->cfg.overlay_iface,
			 dp->cfg.wan_mtu - DP_OVERHEAD, dp->cfg.tunnel_port, dp->n_workers,
			 dp->cfg.file_prefix);
		r = housekeep_run(dp);
	}
	if (r != 0)
		log_err("cannot run: %s", err_str(r));
	teardown(dp);
	rte_eal_cleanup();
	free(dp);
	return r == 0 ? 0 : 1;
}
