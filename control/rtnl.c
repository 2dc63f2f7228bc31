/* SPDX-License-Identifier: MIT */
/* buri0 through rtnetlink (rtnl.h). */
#include "control/rtnl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <string.h>
#include <time.h>

#include "common/err.h"

/* MNL_SOCKET_BUFFER_SIZE is a run-time value (the page size); these messages are small. */
enum { NL_BUF = 8192 };

/* Sends the request in buf and reads its ACK: 0 or E_IO with errno set. */
static int
talk(struct mnl_socket *nl, struct nlmsghdr *nlh)
{
	char buf[NL_BUF];
	unsigned portid = mnl_socket_get_portid(nl);
	ssize_t n;

	nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = (uint32_t)time(NULL);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return E_IO;
	n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	if (n < 0 || mnl_cb_run(buf, (size_t)n, nlh->nlmsg_seq, portid, NULL, NULL) < 0)
		return E_IO;
	return 0;
}

static int
link_up(struct mnl_socket *nl, int idx)
{
	char buf[NL_BUF];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

	nlh->nlmsg_type = RTM_NEWLINK;
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = idx;
	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	return talk(nl, nlh);
}

static int
addr_add(struct mnl_socket *nl, int idx, uint32_t addr, uint8_t plen)
{
	char buf[NL_BUF];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	uint32_t a = htonl(addr);

	nlh->nlmsg_type = RTM_NEWADDR;
	nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_REPLACE;
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = plen;
	ifa->ifa_index = (unsigned)idx;
	mnl_attr_put_u32(nlh, IFA_LOCAL, a);
	mnl_attr_put_u32(nlh, IFA_ADDRESS, a);
	return talk(nl, nlh);
}

static int
route_mcast(struct mnl_socket *nl, int idx)
{
	char buf[NL_BUF];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));

	nlh->nlmsg_type = RTM_NEWROUTE;
	nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_REPLACE;
	rtm->rtm_family = AF_INET;
	rtm->rtm_dst_len = 4;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_STATIC;
	rtm->rtm_scope = RT_SCOPE_LINK;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put_u32(nlh, RTA_DST, htonl(0xe0000000u));
	mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)idx);
	return talk(nl, nlh);
}

int
rtnl_overlay_setup(const char *ifname, uint32_t addr, uint8_t prefix_len)
{
	int idx = (int)if_nametoindex(ifname), r;
	struct mnl_socket *nl;

	if (idx == 0)
		return E_NOTFOUND;
	if ((nl = mnl_socket_open(NETLINK_ROUTE)) == NULL)
		return E_IO;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		r = E_IO;
	else if ((r = link_up(nl, idx)) == 0 && (r = addr_add(nl, idx, addr, prefix_len)) == 0)
		r = route_mcast(nl, idx);
	mnl_socket_close(nl);
	return r;
}
