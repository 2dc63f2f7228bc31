/* SPDX-License-Identifier: MIT */
/*
 * The control process's end of the dpif channel (dpif_client.h).
 *
 * A data plane that restarts unlinks its region and creates a new one under the same name,
 * so a client mapped to the old one would wait forever on rings nobody serves. While it
 * waits, dpif_client_call therefore looks at the name every CHECK_MS: another generation
 * there, no region, or a dead process all mean the same to the caller (attach again).
 */
#include "common/dpif_client.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/crypto.h"
#include "common/err.h"

enum {
	NAP_US = 200,	/* between looks at an empty ring */
	CHECK_MS = 100, /* between looks at the region's name and the data plane's process */
};

int
dpif_client_attach(struct dpif_client *c, const char *prefix, uint64_t ctl_gen)
{
	int r;

	memset(c, 0, sizeof(*c));
	if ((r = dpif_shm_attach(prefix, &c->r)) != 0)
		return r;
	c->ctl_gen = ctl_gen;
	c->dp_gen = __atomic_load_n(&c->r.hdr->dp_gen, __ATOMIC_RELAXED);
	if (c->dp_gen == 0) { /* dpif_shm_create never makes one: not a data plane's region */
		dpif_client_detach(c);
		return E_INVAL;
	}
	return 0;
}

void
dpif_client_detach(struct dpif_client *c)
{
	dpif_shm_detach(&c->r);
	memset(c, 0, sizeof(*c));
}

/* The fields of sa that op uses (dpif_msg_check refuses the others set). */
static int
copy_sa(enum dpif_op op, const struct dpif_sa *sa, struct dpif_sa *out)
{
	switch (op) {
	case DPIF_SA_ADD:
	case DPIF_SA_DEL:
	case DPIF_SA_PROBE:
	case DPIF_SA_ACTIVATE:
	case DPIF_SA_ENDPOINT:
		if (sa == NULL)
			return E_INVAL;
		break;
	default:
		return 0;
	}
	if (op == DPIF_SA_ADD) {
		*out = *sa;
		return 0;
	}
	out->spi_in = sa->spi_in;
	if (op == DPIF_SA_ENDPOINT) {
		out->ep_addr = sa->ep_addr;
		out->ep_port = sa->ep_port;
	}
	return 0;
}

int
dpif_client_send(struct dpif_client *c, enum dpif_op op, const struct dpif_sa *sa, uint64_t *seq)
{
	struct dpif_msg m;
	int r;

	memset(&m, 0, sizeof(m));
	m.magic = DPIF_MAGIC;
	m.version = DPIF_VERSION;
	m.op = (uint16_t)op;
	m.seq = c->seq + 1;
	m.dp_gen = c->dp_gen;
	m.ctl_gen = c->ctl_gen;
	if ((r = copy_sa(op, sa, &m.u.sa)) == 0 && dpif_msg_check(&m, true) != 0)
		r = E_INVAL;
	if (r == 0 && (r = shmring_push(c->r.to_dp, &m)) == 0) {
		c->seq = m.seq;
		if (seq != NULL)
			*seq = m.seq;
	}
	wipe(&m, sizeof(m));
	return r;
}

int
dpif_client_recv(struct dpif_client *c, struct dpif_msg *out)
{
	int r;

	if ((r = shmring_pop(c->r.to_ctl, out)) != 0)
		return r;
	return dpif_msg_check(out, false);
}

bool
dpif_client_alive(const struct dpif_client *c)
{
	uint64_t pid;

	if (c->r.hdr == NULL)
		return false;
	pid = __atomic_load_n(&c->r.hdr->dp_pid, __ATOMIC_RELAXED);
	/* 0 and "negative" pids would name process groups */
	if (pid == 0 || pid > (uint64_t)INT32_MAX)
		return false;
	return kill((pid_t)pid, 0) == 0 || errno == EPERM;
}

/* 0 if the region's name still names our data plane's region and its process lives, else
 * E_STATE: the name names another region or none, or the process died (killed, so it could
 * not remove the name). Either way the caller's next step is to attach again. */
int
dpif_client_check(const struct dpif_client *c)
{
	struct dpif_shm h;
	ssize_t n;
	int fd;

	if ((fd = shm_open(c->r.name, O_RDONLY, 0)) < 0)
		return errno == ENOENT ? E_STATE : 0; /* else cannot tell: keep waiting */
	n = pread(fd, &h, sizeof(h), 0);
	close(fd);
	/* another region, possibly still being laid out (magic not yet set) */
	if (n != (ssize_t)sizeof(h) || h.magic != DPIF_MAGIC || h.dp_gen != c->dp_gen)
		return E_STATE;
	return dpif_client_alive(c) ? 0 : E_STATE;
}

static void
nap(void)
{
	struct timespec ts = {0, NAP_US * 1000};

	nanosleep(&ts, NULL);
}

int
dpif_client_call(struct dpif_client *c, enum dpif_op op, const struct dpif_sa *sa, int timeout_ms,
		 void (*fn)(void *arg, const struct dpif_msg *m), void *arg)
{
	uint64_t seq = 0, start = clock_ms(), next_check = start + CHECK_MS, t;
	struct dpif_msg m;
	bool sent = false;
	int r, got;

	for (;;) {
		if (!sent) {
			if ((r = dpif_client_send(c, op, sa, &seq)) == 0)
				sent = true;
			else if (r != E_NOSPACE)
				return r;
		}
		if ((got = dpif_client_recv(c, &m)) == 0) {
			if (m.dp_gen != c->dp_gen)
				return E_STATE;
			if (sent && m.op == DPIF_ACK && m.u.ack.seq == seq &&
			    m.ctl_gen == c->ctl_gen)
				return m.u.ack.status;
			if (fn != NULL)
				fn(arg, &m);
			continue;
		}
		/* empty, or a malformed message dropped: time to look at the clock */
		t = clock_ms();
		if (timeout_ms >= 0 && t - start >= (uint64_t)timeout_ms)
			return E_TIMEOUT;
		if (t >= next_check) {
			if ((r = dpif_client_check(c)) != 0)
				return r;
			next_check = t + CHECK_MS;
		}
		if (got == E_NOTFOUND || got == E_RANGE)
			nap();
	}
}
