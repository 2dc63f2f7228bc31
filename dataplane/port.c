/* SPDX-License-Identifier: MIT */
/*
 * Ports by role. EAL probed the wan device and the overlay TAP from the command line
 * (cfg.c's dp_cfg_eal_argv); the wan mirror is probed here, once the wan MAC is known, so the
 * host stack behind it answers ARP and sends from the same MAC as the data packets: one
 * address, one port, one NAT mapping for the control process's sockets and for the tunnel.
 *
 * Every port gets one rx and one tx queue per worker (queue id = worker index). MTUs: the wan
 * and its mirror get wan.mtu; the overlay gets wan.mtu - DP_OVERHEAD, the largest inner packet
 * whose sealed form still fits.
 */
#define ALLOW_EXPERIMENTAL_API

#include "dataplane/dp.h" /* first: see sa_table.h on container_of */

#include <stdio.h>
#include <string.h>

#include <rte_bus.h>
#include <rte_dev.h>
#include <rte_ethdev.h>

#include "common/err.h"
#include "common/log.h"
#include "dataplane/ifview.h"

#define OVERLAY_VDEV "net_tap0" /* the name cfg.c gives the overlay TAP */
#define MIRROR_VDEV  "net_tap1"

static const char *const role_name[DP_ROLES] = {"wan", "overlay", "mirror", "lan"};

/* The port EAL made of devargs ("name,key=value..." or a PCI address). */
static int
port_find(const char *devargs, uint16_t *port)
{
	char name[RTE_ETH_NAME_MAX_LEN];
	size_t n = strcspn(devargs, ",");

	if (n == 0 || n >= sizeof(name))
		return E_INVAL;
	memcpy(name, devargs, n);
	name[n] = '\0';
	return rte_eth_dev_get_port_by_name(name, port) == 0 ? 0 : E_NOTFOUND;
}

static int
port_configure(struct dp *dp, enum dp_role r, unsigned mtu)
{
	uint16_t port = dp->port[r], nq = (uint16_t)dp->n_workers;
	uint16_t nrx = (uint16_t)dp->cfg.rx_desc, ntx = (uint16_t)dp->cfg.tx_desc;
	struct rte_eth_conf conf = {.rxmode = {.mtu = mtu}};
	struct rte_eth_dev_info info;
	int rc;

	if (rte_eth_dev_info_get(port, &info) != 0)
		return E_IO;
	if (info.max_rx_queues < nq || info.max_tx_queues < nq) {
		log_err("%s port: %u worker(s) need as many queues, the device has %u rx / %u tx "
			"(net_af_packet: add qpairs=%u to its devargs)",
			role_name[r], nq, info.max_rx_queues, info.max_tx_queues, nq);
		return E_RANGE;
	}
	if ((rc = rte_eth_dev_configure(port, nq, nq, &conf)) != 0 ||
	    (rc = rte_eth_dev_adjust_nb_rx_tx_desc(port, &nrx, &ntx)) != 0)
		goto fail;
	for (uint16_t q = 0; q < nq; q++)
		if ((rc = rte_eth_rx_queue_setup(port, q, nrx, rte_eth_dev_socket_id(port), NULL,
						 dp->pool)) != 0 ||
		    (rc = rte_eth_tx_queue_setup(port, q, ntx, rte_eth_dev_socket_id(port),
						 NULL)) != 0)
			goto fail;
	if ((rc = rte_eth_dev_start(port)) != 0)
		goto fail;
	rte_eth_macaddr_get(port, &dp->mac[r]);
	return 0;
fail:
	log_err("%s port: setup failed: %s", role_name[r], rte_strerror(-rc));
	return E_IO;
}

static int
mirror_probe(struct dp *dp)
{
	char devargs[128];
	const uint8_t *a = dp->mac[DP_WAN].addr_bytes;

	snprintf(devargs, sizeof(devargs),
		 MIRROR_VDEV ",iface=%s,mac=%02x:%02x:%02x:%02x:%02x:%02x", dp->cfg.wan_mirror,
		 a[0], a[1], a[2], a[3], a[4], a[5]);
	if (rte_dev_probe(devargs) != 0 || port_find(MIRROR_VDEV, &dp->port[DP_MIRROR]) != 0) {
		log_err("wan mirror: cannot create TAP %s", dp->cfg.wan_mirror);
		return E_IO;
	}
	dp->has_port[DP_MIRROR] = true;
	return 0;
}

int
port_setup(struct dp *dp)
{
	unsigned ovl_mtu = dp->cfg.wan_mtu - DP_OVERHEAD;
	int r;

	if (port_find(dp->cfg.wan_device, &dp->port[DP_WAN]) != 0) {
		log_err("wan port: no DPDK port for '%s' (is the device bound, or the vdev valid?)",
			dp->cfg.wan_device);
		return E_NOTFOUND;
	}
	dp->has_port[DP_WAN] = true;
	if (port_find(OVERLAY_VDEV, &dp->port[DP_OVERLAY]) != 0) {
		log_err("overlay port: no TAP %s", dp->cfg.overlay_iface);
		return E_NOTFOUND;
	}
	dp->has_port[DP_OVERLAY] = true;
	if ((r = port_configure(dp, DP_WAN, dp->cfg.wan_mtu)) != 0)
		return r;
	/* allmulticast for the host stack's groups; a promiscuous wan would only add drops */
	(void)rte_eth_allmulticast_enable(dp->port[DP_WAN]);
	if ((r = mirror_probe(dp)) != 0 ||
	    (r = port_configure(dp, DP_MIRROR, dp->cfg.wan_mtu)) != 0)
		return r;
	if ((r = port_configure(dp, DP_OVERLAY, ovl_mtu)) != 0)
		return r;
	/* frames to the peer MAC must reach us */
	(void)rte_eth_promiscuous_enable(dp->port[DP_OVERLAY]);
	/* IPv6 is not carried (yet): keep the kernel from sending ND/MLD into either TAP */
	if (ifview_disable_ipv6(dp->cfg.overlay_iface) != 0 ||
	    ifview_disable_ipv6(dp->cfg.wan_mirror) != 0)
		log_warn("cannot turn IPv6 off on the TAPs: their IPv6 frames will be counted and "
			 "dropped");
	if (ifview_set_mtu(dp->cfg.overlay_iface, ovl_mtu) != 0 ||
	    ifview_set_mtu(dp->cfg.wan_mirror, dp->cfg.wan_mtu) != 0)
		log_warn("cannot set the TAPs' MTUs (%u overlay, %u mirror)", ovl_mtu,
			 dp->cfg.wan_mtu);
	return 0;
}

void
port_close(struct dp *dp)
{
	for (unsigned r = 0; r < DP_ROLES; r++) {
		if (!dp->has_port[r])
			continue;
		(void)rte_eth_dev_stop(dp->port[r]);
		(void)rte_eth_dev_close(dp->port[r]);
		dp->has_port[r] = false;
	}
}
