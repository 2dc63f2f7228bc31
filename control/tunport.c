/* SPDX-License-Identifier: MIT */
/* The tunnel port's UDP socket (tunport.h). */
#include "control/tunport.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/err.h"
#include "common/wire.h"

struct tunport {
	struct loop *l;
	int fd;
	tunport_rx_fn *fn;
	void *arg;
	struct tunport_stats st;
};

static void
on_readable(void *arg, uint32_t events)
{
	struct tunport *t = arg;
	uint8_t buf[2048];

	(void)events;
	for (unsigned i = 0; i < 64; i++) { /* a bounded batch: the loop's other work goes on */
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(t->fd, buf, sizeof(buf), MSG_DONTWAIT,
				     (struct sockaddr *)&from, &fl);

		if (n < 0)
			return;
		if (fl != sizeof(from) || from.sin_family != AF_INET)
			continue;
		t->st.rx++;
		t->fn(t->arg, buf, (size_t)n, ntohl(from.sin_addr.s_addr), ntohs(from.sin_port));
	}
}

struct tunport *
tunport_new(struct loop *l, uint16_t port, tunport_rx_fn *fn, void *arg)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	struct tunport *t = calloc(1, sizeof(*t));
	int one = 1, e;

	if (t == NULL)
		return NULL;
	*t = (struct tunport){l, -1, fn, arg, {0}};
	t->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (t->fd < 0 || setsockopt(t->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(t->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    loop_fd_add(l, t->fd, EPOLLIN, on_readable, t) != 0) {
		e = errno;
		if (t->fd >= 0)
			close(t->fd);
		free(t);
		errno = e;
		return NULL;
	}
	return t;
}

void
tunport_free(struct tunport *t)
{
	if (t == NULL)
		return;
	loop_fd_del(t->l, t->fd);
	close(t->fd);
	free(t);
}

int
tunport_send(struct tunport *t, uint32_t addr, uint16_t port, const void *p, size_t len)
{
	struct sockaddr_in to = {
		.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(addr)};

	if (sendto(t->fd, p, len, MSG_DONTWAIT, (struct sockaddr *)&to, sizeof(to)) !=
	    (ssize_t)len) {
		t->st.tx_errors++;
		return E_IO;
	}
	t->st.tx++;
	return 0;
}

void
tunport_stats(const struct tunport *t, struct tunport_stats *out)
{
	*out = t->st;
}
