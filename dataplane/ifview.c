/* SPDX-License-Identifier: MIT */
#include "dataplane/ifview.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <net/route.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/err.h"
#include "common/hex.h"

enum {
	ROUTE_FIELDS = 8,   /* Iface Destination Gateway Flags RefCnt Use Metric Mask [MTU ...] */
	ARP_FIELDS = 6,	    /* IP-address HW-type Flags HW-address Mask Device */
	ARP_COMPLETE = 0x2, /* ATF_COM */
};

struct tok {
	const char *p;
	size_t n;
};

static int
name_check(const char *ifname)
{
	size_t n;

	if (ifname == NULL || (n = strnlen(ifname, IFNAMSIZ)) == 0 || n >= IFNAMSIZ)
		return E_INVAL;
	if (strcmp(ifname, ".") == 0 || strcmp(ifname, "..") == 0)
		return E_INVAL;
	for (size_t i = 0; i < n; i++)
		if (ifname[i] == '/' || ifname[i] == ' ' ||
		    (ifname[i] >= '\t' && ifname[i] <= '\r'))
			return E_INVAL;
	return 0;
}

static int
os_err(int e)
{
	switch (e) {
	case ENODEV:
	case ENXIO:
	case ENOENT:
		return E_NOTFOUND;
	case EINVAL:
	case ERANGE:
		return E_RANGE;
	default:
		return E_IO;
	}
}

static int
req_init(struct ifreq *ifr, const char *ifname)
{
	int r;

	if ((r = name_check(ifname)) != 0)
		return r;
	memset(ifr, 0, sizeof(*ifr));
	memcpy(ifr->ifr_name, ifname, strlen(ifname));
	return 0;
}

static int
req(int fd, unsigned long what, struct ifreq *ifr)
{
	return ioctl(fd, what, ifr) == 0 ? 0 : os_err(errno);
}

static uint32_t
sin_addr_of(const struct sockaddr *sa)
{
	struct sockaddr_in sin;

	memcpy(&sin, sa, sizeof(sin));
	return ntohl(sin.sin_addr.s_addr);
}

/* The primary IPv4 address and mask; EADDRNOTAVAIL just means there is none. */
static int
get_addr(int fd, struct ifreq *ifr, struct ifview *v)
{
	int r;

	if (ioctl(fd, SIOCGIFADDR, ifr) != 0)
		return errno == EADDRNOTAVAIL ? 0 : os_err(errno);
	v->addr = sin_addr_of(&ifr->ifr_addr);
	if ((r = req(fd, SIOCGIFNETMASK, ifr)) != 0) {
		v->addr = 0;
		return r;
	}
	v->mask = sin_addr_of(&ifr->ifr_netmask);
	return 0;
}

int
ifview_get(const char *ifname, struct ifview *v)
{
	struct ifreq ifr;
	int fd, r;

	memset(v, 0, sizeof(*v));
	if ((r = req_init(&ifr, ifname)) != 0)
		return r;
	if ((fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return E_IO;
	if ((r = req(fd, SIOCGIFINDEX, &ifr)) != 0)
		goto out;
	v->ifindex = ifr.ifr_ifindex;
	if ((r = req(fd, SIOCGIFFLAGS, &ifr)) != 0)
		goto out;
	v->up = (ifr.ifr_flags & IFF_UP) != 0;
	if ((r = req(fd, SIOCGIFMTU, &ifr)) != 0)
		goto out;
	v->mtu = (unsigned)ifr.ifr_mtu;
	if ((r = req(fd, SIOCGIFHWADDR, &ifr)) != 0)
		goto out;
	if (ifr.ifr_hwaddr.sa_family == ARPHRD_ETHER)
		memcpy(v->mac, ifr.ifr_hwaddr.sa_data, sizeof(v->mac));
	r = get_addr(fd, &ifr, v);
out:
	close(fd);
	if (r != 0)
		memset(v, 0, sizeof(*v));
	return r;
}

int
ifview_set_mtu(const char *ifname, unsigned mtu)
{
	struct ifreq ifr;
	int fd, r;

	if ((r = req_init(&ifr, ifname)) != 0)
		return r;
	if (mtu > INT_MAX)
		return E_RANGE;
	ifr.ifr_mtu = (int)mtu;
	if ((fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return E_IO;
	r = req(fd, SIOCSIFMTU, &ifr);
	close(fd);
	return r;
}

int
ifview_disable_ipv6(const char *ifname)
{
	char path[96];
	int fd, r;

	if ((r = name_check(ifname)) != 0)
		return r;
	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", ifname);
	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) < 0) {
		if (errno != ENOENT)
			return E_IO;
		/* without IPv6 in the kernel there is nothing to disable */
		return access("/proc/sys/net/ipv6/conf", F_OK) != 0 ? 0 : E_NOTFOUND;
	}
	r = write(fd, "1\n", 2) == 2 ? 0 : E_IO;
	if (close(fd) != 0 && r == 0)
		r = E_IO;
	return r;
}

/*
 * Reads up to cap bytes of path into buf. If the file is longer, the last, cut line is dropped
 * so that the parsers never see a truncated field as a complete one.
 */
static int
read_proc(const char *path, char *buf, size_t cap, size_t *len)
{
	size_t n = 0;
	ssize_t got = 0;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return E_IO;
	while (n < cap && ((got = read(fd, buf + n, cap - n)) > 0 || (got < 0 && errno == EINTR)))
		if (got > 0)
			n += (size_t)got;
	close(fd);
	if (got < 0)
		return E_IO;
	if (n == cap)
		while (n > 0 && buf[n - 1] != '\n')
			n--;
	*len = n;
	return 0;
}

/* Splits [p, end) at spaces and tabs into at most max fields; returns how many it found. */
static size_t
split(const char *p, const char *end, struct tok *f, size_t max)
{
	size_t n = 0;

	while (n < max) {
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (p == end)
			break;
		f[n].p = p;
		while (p < end && *p != ' ' && *p != '\t')
			p++;
		f[n].n = (size_t)(p - f[n].p);
		n++;
	}
	return n;
}

static bool
tok_eq(const struct tok *t, const char *s)
{
	return t->n == strlen(s) && memcmp(t->p, s, t->n) == 0;
}

/* 1 to 8 hex digits, nothing else. */
static bool
parse_hex32(const char *p, size_t n, uint32_t *v)
{
	*v = 0;
	if (n == 0 || n > 8)
		return false;
	for (size_t i = 0; i < n; i++) {
		int d = hex_digit(p[i]);

		if (d < 0)
			return false;
		*v = *v << 4 | (uint32_t)d;
	}
	return true;
}

/* 1 to 10 decimal digits, at most UINT32_MAX. */
static bool
parse_dec32(const struct tok *t, uint32_t *v)
{
	uint64_t x = 0;

	if (t->n == 0 || t->n > 10)
		return false;
	for (size_t i = 0; i < t->n; i++) {
		if (t->p[i] < '0' || t->p[i] > '9')
			return false;
		x = x * 10 + (uint64_t)(t->p[i] - '0');
	}
	if (x > UINT32_MAX)
		return false;
	*v = (uint32_t)x;
	return true;
}

/*
 * An address field of /proc/net/route: the kernel prints the raw network-order __be32 as a
 * native integer, so the digits are the address's bytes in memory order of this CPU.
 */
static bool
parse_route_addr(const struct tok *t, uint32_t *host)
{
	uint32_t raw;

	if (!parse_hex32(t->p, t->n, &raw))
		return false;
	*host = ntohl(raw);
	return true;
}

/* The route on line f if it is a default route through ifname: its gateway and metric. */
static bool
default_route(const struct tok *f, const char *ifname, uint32_t *gw, uint32_t *metric)
{
	uint32_t dst, mask, flags;

	if (!tok_eq(&f[0], ifname) || !parse_route_addr(&f[1], &dst) ||
	    !parse_route_addr(&f[2], gw) || !parse_hex32(f[3].p, f[3].n, &flags) ||
	    !parse_dec32(&f[6], metric) || !parse_route_addr(&f[7], &mask))
		return false;
	return dst == 0 && mask == 0 && *gw != 0 &&
	       (flags & (RTF_UP | RTF_GATEWAY)) == (RTF_UP | RTF_GATEWAY);
}

int
ifview_route_parse(const char *text, size_t len, const char *ifname, uint32_t *gw)
{
	const char *p = text, *end = text + len;
	uint32_t best = UINT32_MAX;
	bool found = false;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl != NULL ? nl : end;
		struct tok f[ROUTE_FIELDS];
		uint32_t g, metric;

		if (split(p, eol, f, ROUTE_FIELDS) == ROUTE_FIELDS &&
		    default_route(f, ifname, &g, &metric) && (!found || metric < best)) {
			*gw = g;
			best = metric;
			found = true;
		}
		p = nl != NULL ? nl + 1 : end;
	}
	return found ? 0 : E_NOTFOUND;
}

/* What ifview_gateway/ifview_arp ask of a /proc table: the parser to run on its text. */
struct proc_job {
	const char *ifname;
	uint32_t *gw;
	ifview_arp_fn *fn;
	void *arg;
};

/* Reads the /proc table at path (bounded) and runs the job's parser on it. */
static int
proc_table(const char *path, const struct proc_job *j)
{
	char *buf;
	size_t len;
	int r;

	if ((r = name_check(j->ifname)) != 0)
		return r;
	if ((buf = malloc(IFVIEW_PROC_MAX)) == NULL)
		return E_NOMEM;
	if ((r = read_proc(path, buf, IFVIEW_PROC_MAX, &len)) == 0)
		r = j->gw != NULL ? ifview_route_parse(buf, len, j->ifname, j->gw)
				  : ifview_arp_parse(buf, len, j->ifname, j->fn, j->arg);
	free(buf);
	return r;
}

int
ifview_gateway(const char *ifname, uint32_t *gw)
{
	struct proc_job j = {ifname, gw, NULL, NULL};

	return proc_table("/proc/net/route", &j);
}

/* A dotted quad: four decimal numbers 0-255 of 1 to 3 digits. */
static bool
parse_quad(const struct tok *t, uint32_t *ip)
{
	size_t i = 0;

	*ip = 0;
	for (int part = 0; part < 4; part++) {
		unsigned v = 0, digits = 0;

		if (part > 0 && (i >= t->n || t->p[i++] != '.'))
			return false;
		while (i < t->n && t->p[i] >= '0' && t->p[i] <= '9' && digits < 3) {
			v = v * 10 + (unsigned)(t->p[i++] - '0');
			digits++;
		}
		if (digits == 0 || v > 255)
			return false;
		*ip = *ip << 8 | v;
	}
	return i == t->n;
}

/* Six colon-separated pairs of hex digits. */
static bool
parse_mac(const struct tok *t, uint8_t mac[6])
{
	uint32_t b;

	if (t->n != 17)
		return false;
	for (size_t i = 0; i < 6; i++) {
		if ((i > 0 && t->p[3 * i - 1] != ':') || !parse_hex32(t->p + 3 * i, 2, &b))
			return false;
		mac[i] = (uint8_t)b;
	}
	return true;
}

/* "0x" and 1 to 8 hex digits, as the kernel prints ARP types and flags. */
static bool
parse_0x(const struct tok *t, uint32_t *v)
{
	return t->n > 2 && t->p[0] == '0' && (t->p[1] == 'x' || t->p[1] == 'X') &&
	       parse_hex32(t->p + 2, t->n - 2, v);
}

static bool
arp_entry(const struct tok *f, const char *ifname, uint32_t *ip, uint8_t mac[6])
{
	uint32_t type, flags;

	return tok_eq(&f[5], ifname) && parse_quad(&f[0], ip) && parse_0x(&f[1], &type) &&
	       type == ARPHRD_ETHER && parse_0x(&f[2], &flags) && (flags & ARP_COMPLETE) &&
	       parse_mac(&f[3], mac);
}

int
ifview_arp_parse(const char *text, size_t len, const char *ifname, ifview_arp_fn *fn, void *arg)
{
	const char *p = text, *end = text + len;
	int n = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl != NULL ? nl : end;
		struct tok f[ARP_FIELDS];
		uint8_t mac[6];
		uint32_t ip;

		if (split(p, eol, f, ARP_FIELDS) == ARP_FIELDS && arp_entry(f, ifname, &ip, mac)) {
			fn(arg, ip, mac);
			n++;
		}
		p = nl != NULL ? nl + 1 : end;
	}
	return n;
}

int
ifview_arp(const char *ifname, ifview_arp_fn *fn, void *arg)
{
	struct proc_job j = {ifname, NULL, fn, arg};

	return proc_table("/proc/net/arp", &j);
}
