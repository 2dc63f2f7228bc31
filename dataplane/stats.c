/* SPDX-License-Identifier: MIT */
/*
 * DPDK telemetry commands (read them with dpdk-telemetry.py -f <file prefix>, or any
 * SOCK_SEQPACKET client of the runtime directory's dpdk_telemetry.v2):
 *
 *   /buri/stats          the workers' counters summed (dp.h DP_COUNTERS), SA table and
 *                        control-channel figures, the view (addresses the kernel gave us)
 *   /buri/ports          per port role: packets, bytes, errors, misses
 *   /buri/sa/list        the inbound SPIs of the SAs
 *   /buri/sa/info,<spi>  one SA: peer, endpoint, message ID, networks, counters (no keys)
 *
 * Telemetry callbacks run on DPDK's telemetry thread, which is not an RCU reader of the SA
 * table, so SAs are read from a snapshot the main lcore copies once a second (stats_snapshot)
 * under a mutex; worker counters are single 64-bit words, read as they are. The callbacks
 * cannot take an argument, hence the one file-scope pointer.
 */
#define ALLOW_EXPERIMENTAL_API

#include "dataplane/dp.h" /* first: see sa_table.h on container_of */

#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_telemetry.h>

#include "common/err.h"
#include "dataplane/dpif_server.h"

struct sa_snap {
	uint32_t spi_in, spi_out, peer_addr, ep_addr, msgid_out;
	uint16_t ep_port;
	uint64_t net_mask, pkts_in, bytes_in, drops_in, pkts_out, bytes_out, drops_out;
};

static struct {
	struct dp *dp;
	pthread_mutex_t lock;
	struct sa_snap *sa; /* cfg.max_sas entries */
	uint32_t n;
} snap = {.lock = PTHREAD_MUTEX_INITIALIZER};

static const char *const role_name[DP_ROLES] = {"wan", "overlay", "mirror", "lan"};

static void
add_addr(struct rte_tel_data *d, const char *name, uint32_t a)
{
	char s[INET_ADDRSTRLEN];
	uint32_t be = htonl(a);

	inet_ntop(AF_INET, &be, s, sizeof(s));
	rte_tel_data_add_dict_string(d, name, s);
}

static int
cmd_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct dp *dp = snap.dp;
	struct sa_table_stats ts;
	struct dpif_server_stats ds;
	uint64_t sum[DP_C_MAX] = {0};

	(void)cmd;
	(void)params;
	for (unsigned i = 0; i < dp->n_workers; i++)
		for (unsigned c = 0; c < DP_C_MAX; c++)
			sum[c] += __atomic_load_n(&dp->w[i]->c[c], __ATOMIC_RELAXED);
	rte_tel_data_start_dict(d);
	for (unsigned c = 0; c < DP_C_MAX; c++)
		rte_tel_data_add_dict_u64(d, dp_counter_name[c], sum[c]);
	pthread_mutex_lock(&snap.lock); /* the main lcore owns the table; it fills these too */
	rte_tel_data_add_dict_u64(d, "sa_live", snap.n);
	pthread_mutex_unlock(&snap.lock);
	sa_table_stats(dp->sas, &ts);
	rte_tel_data_add_dict_u64(d, "sa_pending_free", ts.pending);
	dpif_server_stats(dp->dpif, &ds);
	rte_tel_data_add_dict_u64(d, "ctl_requests", ds.requests);
	rte_tel_data_add_dict_u64(d, "ctl_invalid", ds.invalid);
	rte_tel_data_add_dict_u64(d, "ctl_events", ds.events);
	rte_tel_data_add_dict_u64(d, "ctl_events_dropped", ds.events_dropped);
	rte_tel_data_add_dict_u64(d, "dp_gen", ds.dp_gen);
	add_addr(d, "wan_addr", dp->view.wan_addr);
	add_addr(d, "wan_gw", dp->view.wan_gw);
	add_addr(d, "overlay_addr", dp->view.ovl_addr);
	rte_tel_data_add_dict_u64(d, "overlay_mtu", dp->view.ovl_mtu);
	return 0;
}

static int
cmd_ports(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct dp *dp = snap.dp;

	(void)cmd;
	(void)params;
	rte_tel_data_start_dict(d);
	for (unsigned r = 0; r < DP_ROLES; r++) {
		struct rte_tel_data *p;
		struct rte_eth_stats st;

		if (!dp->has_port[r] || rte_eth_stats_get(dp->port[r], &st) != 0 ||
		    (p = rte_tel_data_alloc()) == NULL)
			continue;
		rte_tel_data_start_dict(p);
		rte_tel_data_add_dict_u64(p, "port_id", dp->port[r]);
		rte_tel_data_add_dict_u64(p, "ipackets", st.ipackets);
		rte_tel_data_add_dict_u64(p, "opackets", st.opackets);
		rte_tel_data_add_dict_u64(p, "ibytes", st.ibytes);
		rte_tel_data_add_dict_u64(p, "obytes", st.obytes);
		rte_tel_data_add_dict_u64(p, "imissed", st.imissed);
		rte_tel_data_add_dict_u64(p, "ierrors", st.ierrors);
		rte_tel_data_add_dict_u64(p, "oerrors", st.oerrors);
		rte_tel_data_add_dict_u64(p, "rx_nombuf", st.rx_nombuf);
		rte_tel_data_add_dict_container(d, role_name[r], p, 0);
	}
	return 0;
}

static int
cmd_sa_list(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	(void)params;
	rte_tel_data_start_array(d, RTE_TEL_U64_VAL);
	pthread_mutex_lock(&snap.lock);
	for (uint32_t i = 0; i < snap.n && i < RTE_TEL_MAX_ARRAY_ENTRIES; i++)
		rte_tel_data_add_array_u64(d, snap.sa[i].spi_in);
	pthread_mutex_unlock(&snap.lock);
	return 0;
}

static void
sa_info(struct rte_tel_data *d, const struct sa_snap *s)
{
	char ep[32];
	uint32_t be = htonl(s->ep_addr);

	rte_tel_data_add_dict_u64(d, "spi_in", s->spi_in);
	rte_tel_data_add_dict_u64(d, "spi_out", s->spi_out);
	add_addr(d, "peer", s->peer_addr);
	inet_ntop(AF_INET, &be, ep, sizeof(ep));
	snprintf(ep + strlen(ep), sizeof(ep) - strlen(ep), ":%u", s->ep_port);
	rte_tel_data_add_dict_string(d, "endpoint", ep);
	rte_tel_data_add_dict_u64(d, "msgid_out", s->msgid_out);
	rte_tel_data_add_dict_u64(d, "net_mask", s->net_mask);
	rte_tel_data_add_dict_u64(d, "pkts_in", s->pkts_in);
	rte_tel_data_add_dict_u64(d, "bytes_in", s->bytes_in);
	rte_tel_data_add_dict_u64(d, "drops_in", s->drops_in);
	rte_tel_data_add_dict_u64(d, "pkts_out", s->pkts_out);
	rte_tel_data_add_dict_u64(d, "bytes_out", s->bytes_out);
	rte_tel_data_add_dict_u64(d, "drops_out", s->drops_out);
}

static int
cmd_sa_info(const char *cmd, const char *params, struct rte_tel_data *d)
{
	char *end;
	unsigned long spi;
	int r = -EINVAL;

	(void)cmd;
	if (params == NULL || *params == '\0')
		return -EINVAL;
	spi = strtoul(params, &end, 0);
	if (*end != '\0' || spi == 0 || spi > UINT32_MAX)
		return -EINVAL;
	rte_tel_data_start_dict(d);
	pthread_mutex_lock(&snap.lock);
	for (uint32_t i = 0; i < snap.n; i++)
		if (snap.sa[i].spi_in == spi) {
			sa_info(d, &snap.sa[i]);
			r = 0;
			break;
		}
	pthread_mutex_unlock(&snap.lock);
	return r;
}

static int
snap_one(struct sa *sa, void *arg)
{
	struct sa_snap *s = &snap.sa[snap.n];

	(void)arg;
	if (snap.n >= snap.dp->cfg.max_sas)
		return 1;
	s->spi_in = sa->spi_in;
	s->spi_out = sa->spi_out;
	s->peer_addr = sa->peer_addr;
	sa_endpoint(sa, &s->ep_addr, &s->ep_port);
	s->msgid_out = __atomic_load_n(&sa->msgid_out, __ATOMIC_RELAXED);
	s->net_mask = sa->net_mask;
	s->pkts_in = __atomic_load_n(&sa->pkts_in, __ATOMIC_RELAXED);
	s->bytes_in = __atomic_load_n(&sa->bytes_in, __ATOMIC_RELAXED);
	s->drops_in = __atomic_load_n(&sa->drops_in, __ATOMIC_RELAXED);
	s->pkts_out = __atomic_load_n(&sa->pkts_out, __ATOMIC_RELAXED);
	s->bytes_out = __atomic_load_n(&sa->bytes_out, __ATOMIC_RELAXED);
	s->drops_out = __atomic_load_n(&sa->drops_out, __ATOMIC_RELAXED);
	snap.n++;
	return 0;
}

void
stats_snapshot(struct dp *dp)
{
	if (snap.sa == NULL)
		return;
	pthread_mutex_lock(&snap.lock);
	snap.n = 0;
	(void)sa_table_each(dp->sas, snap_one, NULL);
	pthread_mutex_unlock(&snap.lock);
}

int
stats_register(struct dp *dp)
{
	snap.dp = dp;
	snap.sa = calloc(dp->cfg.max_sas, sizeof(*snap.sa));
	if (snap.sa == NULL)
		return E_NOMEM;
	if (!dp->cfg.telemetry)
		return 0;
	rte_telemetry_register_cmd("/buri/stats", cmd_stats,
				   "buri data plane counters, SA and control-channel figures");
	rte_telemetry_register_cmd("/buri/ports", cmd_ports, "per port role: rte_eth_stats");
	rte_telemetry_register_cmd("/buri/sa/list", cmd_sa_list, "inbound SPIs of the SAs");
	rte_telemetry_register_cmd("/buri/sa/info", cmd_sa_info,
				   "one SA without keys. Parameters: inbound SPI");
	return 0;
}

void
stats_free(void)
{
	pthread_mutex_lock(&snap.lock);
	free(snap.sa);
	snap.sa = NULL;
	snap.n = 0;
	pthread_mutex_unlock(&snap.lock);
}
