/* SPDX-License-Identifier: MIT */
/* The relay over TCP (relaytcp.h). */
#include "control/relaytcp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "common/relay.h"
#include "common/util.h"

enum {
	FRAME_HDR = 2,
	IN_MAX = FRAME_HDR + 65535,
	BACKOFF_MIN_MS = 1000,
	BACKOFF_MAX_MS = 30000,
	IPUDP_HDR = 20 + 8,
};

struct relaytcp {
	struct relaytcp_params p;
	struct tunport *proxy; /* the UDP socket on tunnel.port + 1 */
	int pkt_fd;	       /* AF_PACKET on the mirror: data packets into the data plane */
	int fd;		       /* the TCP connection, -1: none */
	bool connected;
	uint32_t addr; /* the relay's */
	uint16_t port;
	unsigned backoff_ms;
	struct loop_timer retry;
	uint8_t *out; /* frames waiting for the socket: out[out_off..out_len) */
	size_t out_off, out_len;
	uint8_t *in;
	size_t in_len;
	struct relaytcp_stats st;
};

/* The IPv4 header checksum of h[0..n). */
static uint16_t
ip_checksum(const uint8_t *h, size_t n)
{
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		sum += load_be16(h + i);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* --- the mirror's address and MAC, read when needed (it may be configured after us) --- */

static bool
mirror(struct relaytcp *r, uint32_t *addr, uint8_t mac[6], int *ifindex)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	bool ok = false;

	if (fd < 0)
		return false;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", r->p.mirror_iface);
	if (ioctl(fd, SIOCGIFADDR, &ifr) == 0) {
		*addr = ntohl(((struct sockaddr_in *)&ifr.ifr_addr)->sin_addr.s_addr);
		ok = mac == NULL;
		if (mac != NULL && ioctl(fd, SIOCGIFHWADDR, &ifr) == 0 &&
		    ioctl(fd, SIOCGIFINDEX, &ifr) == 0) {
			memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
			*ifindex = ifr.ifr_ifindex;
			ok = true;
		}
	}
	close(fd);
	return ok;
}

bool
relaytcp_proxy(struct relaytcp *r, uint32_t *addr, uint16_t *port)
{
	*port = (uint16_t)(r->p.tunnel_port + RELAYTCP_PORT_OFFSET);
	return mirror(r, addr, NULL, NULL) && *addr != 0;
}

/* A data packet from the relay into the data plane: IPv4/UDP from the proxy to our tunnel
 * port, on the mirror (the data plane takes frames to our own address as arriving tunnel
 * data). */
static void
inject(struct relaytcp *r, const uint8_t *p, size_t len)
{
	static uint8_t pkt[IPUDP_HDR + 65535];
	struct sockaddr_ll to = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP)};
	uint8_t mac[6];
	uint32_t self;
	int ifindex;

	if (len > 65535 - IPUDP_HDR || !mirror(r, &self, mac, &ifindex)) {
		r->st.dropped++;
		return;
	}
	memset(pkt, 0, IPUDP_HDR);
	pkt[0] = 0x45;
	store_be16(pkt + 2, (uint16_t)(IPUDP_HDR + len));
	pkt[8] = 64;
	pkt[9] = IPPROTO_UDP;
	store_be32(pkt + 12, self);
	store_be32(pkt + 16, self);
	store_be16(pkt + 10, ip_checksum(pkt, 20));
	store_be16(pkt + 20, (uint16_t)(r->p.tunnel_port + RELAYTCP_PORT_OFFSET));
	store_be16(pkt + 22, r->p.tunnel_port);
	store_be16(pkt + 24, (uint16_t)(8 + len));
	memcpy(pkt + IPUDP_HDR, p, len);
	to.sll_ifindex = ifindex;
	to.sll_halen = 6;
	memcpy(to.sll_addr, mac, 6);
	if (sendto(r->pkt_fd, pkt, IPUDP_HDR + len, 0, (struct sockaddr *)&to, sizeof(to)) < 0)
		r->st.dropped++;
	else
		r->st.injected++;
}

/* --- the connection --- */

static void
close_conn(struct relaytcp *r)
{
	if (r->fd >= 0) {
		loop_fd_del(r->p.l, r->fd);
		close(r->fd);
	}
	r->fd = -1;
	r->connected = false;
	r->out_off = r->out_len = r->in_len = 0;
}

/* The connection broke (or never came up): again after the back-off. */
static void
drop_conn(struct relaytcp *r, const char *why)
{
	if (r->connected)
		log_warn("relay " IP4_FMT ":%u over TCP: %s", IP4_ARG(r->addr), r->port, why);
	close_conn(r);
	loop_timer_in(r->p.l, &r->retry, r->backoff_ms);
	r->backoff_ms = MIN(r->backoff_ms * 2, (unsigned)BACKOFF_MAX_MS);
}

static void
flush_out(struct relaytcp *r)
{
	while (r->out_off < r->out_len) {
		ssize_t n = send(r->fd, r->out + r->out_off, r->out_len - r->out_off,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				drop_conn(r, strerror(errno));
			break;
		}
		r->out_off += (size_t)n;
	}
	if (r->fd < 0)
		return;
	if (r->out_off == r->out_len)
		r->out_off = r->out_len = 0;
	(void)loop_fd_mod(r->p.l, r->fd, EPOLLIN | (r->out_len > 0 ? EPOLLOUT : 0));
}

static void
deliver(struct relaytcp *r, const uint8_t *d, size_t n)
{
	uint32_t spi, self;
	uint16_t port;

	r->st.in++;
	if (relay_classify(d, n, &spi) == RELAY_DATA)
		inject(r, d, n);
	else if (relaytcp_proxy(r, &self, &port))
		r->p.rx(r->p.arg, d, n, self, port);
}

static void
read_in(struct relaytcp *r)
{
	for (;;) {
		ssize_t n = recv(r->fd, r->in + r->in_len, IN_MAX - r->in_len, MSG_DONTWAIT);
		size_t off = 0;
		const uint8_t *d;
		size_t dlen;
		int k;

		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
			drop_conn(r, n == 0 ? "closed by the relay" : strerror(errno));
			return;
		}
		if (n < 0)
			return;
		r->in_len += (size_t)n;
		while ((k = relay_tcp_frame(r->in + off, r->in_len - off, &d, &dlen)) > 0) {
			deliver(r, d, dlen);
			off += (size_t)k;
		}
		if (k < 0) {
			drop_conn(r, "bad frame");
			return;
		}
		memmove(r->in, r->in + off, r->in_len - off);
		r->in_len -= off;
	}
}

static void
on_conn(void *arg, uint32_t events)
{
	struct relaytcp *r = arg;

	if (!r->connected) {
		int err = 0;
		socklen_t l = sizeof(err);

		if (getsockopt(r->fd, SOL_SOCKET, SO_ERROR, &err, &l) != 0 || err != 0) {
			drop_conn(r, strerror(err != 0 ? err : errno));
			return;
		}
		r->connected = true;
		r->backoff_ms = BACKOFF_MIN_MS;
		r->st.connects++;
		log_info("relay " IP4_FMT ":%u: connected over TCP", IP4_ARG(r->addr), r->port);
	}
	if (events & (EPOLLHUP | EPOLLERR)) {
		drop_conn(r, "connection lost");
		return;
	}
	if (events & EPOLLIN)
		read_in(r);
	if (r->fd >= 0)
		flush_out(r);
}

static void
connect_now(struct relaytcp *r)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	int one = 1;

	if (r->addr == 0 || r->fd >= 0)
		return;
	r->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (r->fd < 0) {
		drop_conn(r, strerror(errno));
		return;
	}
	(void)setsockopt(r->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	sa.sin_addr.s_addr = htonl(r->addr);
	sa.sin_port = htons(r->port);
	if ((connect(r->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 && errno != EINPROGRESS) ||
	    loop_fd_add(r->p.l, r->fd, EPOLLIN | EPOLLOUT, on_conn, r) != 0) {
		close(r->fd);
		r->fd = -1;
		drop_conn(r, strerror(errno));
	}
}

static void
on_retry(void *arg)
{
	connect_now(arg);
}

/* A datagram for the relay, from the proxy socket: framed onto the connection. */
static void
on_proxy(void *arg, const uint8_t *p, size_t len, uint32_t addr, uint16_t port)
{
	struct relaytcp *r = arg;

	(void)addr;
	(void)port;
	if (!r->connected || len < RELAY_DGRAM_MIN || len > 65535 ||
	    r->out_len + FRAME_HDR + len > RELAYTCP_OUT_MAX) {
		r->st.dropped++;
		return;
	}
	store_be16(r->out + r->out_len, (uint16_t)len);
	memcpy(r->out + r->out_len + FRAME_HDR, p, len);
	r->out_len += FRAME_HDR + len;
	r->st.out++;
	flush_out(r);
}

void
relaytcp_use(struct relaytcp *r, uint32_t addr, uint16_t port)
{
	if (r->addr == addr && r->port == port && (r->fd >= 0 || loop_timer_armed(&r->retry)))
		return;
	close_conn(r);
	loop_timer_cancel(r->p.l, &r->retry);
	r->addr = addr;
	r->port = port;
	r->backoff_ms = BACKOFF_MIN_MS;
	connect_now(r);
}

struct relaytcp *
relaytcp_new(const struct relaytcp_params *p)
{
	struct relaytcp *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->p = *p;
	r->fd = -1;
	r->backoff_ms = BACKOFF_MIN_MS;
	loop_timer_init(&r->retry, on_retry, r);
	r->out = malloc(RELAYTCP_OUT_MAX);
	r->in = malloc(IN_MAX);
	r->pkt_fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_IP));
	if (r->out == NULL || r->in == NULL || r->pkt_fd < 0 ||
	    (r->proxy = tunport_new(p->l, (uint16_t)(p->tunnel_port + RELAYTCP_PORT_OFFSET),
				    on_proxy, r)) == NULL) {
		int e = errno;

		relaytcp_free(r);
		errno = e;
		return NULL;
	}
	return r;
}

void
relaytcp_free(struct relaytcp *r)
{
	if (r == NULL)
		return;
	if (r->fd >= 0) {
		loop_fd_del(r->p.l, r->fd);
		close(r->fd);
	}
	loop_timer_cancel(r->p.l, &r->retry);
	if (r->pkt_fd >= 0)
		close(r->pkt_fd);
	tunport_free(r->proxy);
	free(r->out);
	free(r->in);
	free(r);
}

void
relaytcp_stats(const struct relaytcp *r, struct relaytcp_stats *out)
{
	*out = r->st;
	out->connected = r->connected;
}
