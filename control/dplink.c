/* SPDX-License-Identifier: MIT */
/* buri-control's link to its data plane (dplink.h). */
#include "control/dplink.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/crypto.h"
#include "common/dpif_client.h"
#include "common/err.h"
#include "common/log.h"

enum {
	Q_MAX = 4096,	 /* operations waiting for room in the shared ring */
	PEND_MAX = 4096, /* operations in the ring without an ACK yet (the ring holds 1024) */
	POLL_MS = 10,	 /* ring polling while attached */
	DUMP_MS = 1000,
	CHECK_MS = 1000, /* is the data plane still the one we attached to */
	ATTACH_MS = 1000,
	RECV_MAX = 512, /* messages read per poll */
};

struct qop {
	uint16_t op;
	struct dpif_sa sa; /* keys only for SA_ADD; wiped when the slot is used */
};

struct pend {
	uint64_t seq;
	uint16_t op;
	uint32_t spi;
};

struct dplink {
	struct loop *l;
	char prefix[64];
	const struct dplink_ops *ops;
	void *arg;
	struct dpif_client c;
	bool attached;
	uint64_t known_gen; /* the generation of the last data plane we attached to; 0 none */
	struct qop *q;	    /* ring of Q_MAX */
	unsigned qhead, qn;
	struct pend pend[PEND_MAX];
	unsigned phead, pn;
	bool dumping, adopting;
	uint64_t dump_seq, next_dump, next_check;
	struct loop_timer poll_t, attach_t;
	struct dplink_stats st;
};

static void on_poll(void *arg);
static void on_attach(void *arg);

static void
queue_clear(struct dplink *d)
{
	wipe(d->q, Q_MAX * sizeof(*d->q));
	d->qhead = d->qn = 0;
	d->pn = d->phead = 0;
}

static void
detach(struct dplink *d, const char *why)
{
	if (!d->attached)
		return;
	log_warn("data plane \"%s\": %s; waiting for it to come back", d->prefix, why);
	dpif_client_detach(&d->c);
	d->attached = false;
	d->dumping = false;
	queue_clear(d);
	loop_timer_cancel(d->l, &d->poll_t);
	loop_timer_in(d->l, &d->attach_t, ATTACH_MS);
	d->ops->detached(d->arg);
}

static void
on_attach(void *arg)
{
	struct dplink *d = arg;
	uint64_t gen;
	bool fresh;
	int r;

	if (crypto_random(&gen, sizeof(gen)) != 0)
		gen = loop_now(d->l);
	gen |= 1; /* 0 means "not known" to the data plane */
	r = dpif_client_attach(&d->c, d->prefix, gen);
	if (r != 0) {
		if (r == E_BUSY)
			log_ratelimited(LOG_LVL_ERR,
					"data plane \"%s\": another control process is attached",
					d->prefix);
		loop_timer_in(d->l, &d->attach_t, ATTACH_MS);
		return;
	}
	fresh = d->c.dp_gen != d->known_gen;
	d->known_gen = d->c.dp_gen;
	d->attached = true;
	d->st.attaches++;
	d->adopting = true;
	d->next_dump = 0; /* the adoption dump, at once */
	d->next_check = loop_now(d->l) + CHECK_MS;
	log_info("attached to data plane \"%s\" (pid %llu)%s", d->prefix,
		 (unsigned long long)d->c.r.hdr->dp_pid, fresh ? "" : ", the one we knew");
	d->ops->attached(d->arg, fresh);
	loop_timer_in(d->l, &d->poll_t, 0);
}

struct dplink *
dplink_new(struct loop *l, const char *prefix, const struct dplink_ops *ops, void *arg)
{
	struct dplink *d = calloc(1, sizeof(*d));

	if (d == NULL || (d->q = calloc(Q_MAX, sizeof(*d->q))) == NULL) {
		free(d);
		return NULL;
	}
	d->l = l;
	snprintf(d->prefix, sizeof(d->prefix), "%s", prefix);
	d->ops = ops;
	d->arg = arg;
	loop_timer_init(&d->poll_t, on_poll, d);
	loop_timer_init(&d->attach_t, on_attach, d);
	loop_timer_in(l, &d->attach_t, 0);
	return d;
}

void
dplink_free(struct dplink *d)
{
	if (d == NULL)
		return;
	loop_timer_cancel(d->l, &d->poll_t);
	loop_timer_cancel(d->l, &d->attach_t);
	if (d->attached)
		dpif_client_detach(&d->c);
	wipe(d->q, Q_MAX * sizeof(*d->q));
	free(d->q);
	free(d);
}

bool
dplink_attached(const struct dplink *d)
{
	return d->attached;
}

static int
enqueue(struct dplink *d, uint16_t op, const struct dpif_sa *sa)
{
	struct qop *s;

	if (!d->attached)
		return E_STATE;
	if (d->qn == Q_MAX)
		return E_NOSPACE;
	s = &d->q[(d->qhead + d->qn++) % Q_MAX];
	s->op = op;
	s->sa = *sa;
	if (loop_timer_armed(&d->poll_t) && d->poll_t.at > loop_now(d->l))
		loop_timer_in(d->l, &d->poll_t, 0); /* push it this turn, not in POLL_MS */
	return 0;
}

int
dplink_sa_add(struct dplink *d, const struct dpif_sa *sa)
{
	return enqueue(d, DPIF_SA_ADD, sa);
}

static int
by_spi(struct dplink *d, uint16_t op, uint32_t spi, uint32_t addr, uint16_t port)
{
	struct dpif_sa sa = {.spi_in = spi, .ep_addr = addr, .ep_port = port};

	return enqueue(d, op, &sa);
}

int
dplink_sa_del(struct dplink *d, uint32_t spi_in)
{
	return by_spi(d, DPIF_SA_DEL, spi_in, 0, 0);
}

int
dplink_sa_probe(struct dplink *d, uint32_t spi_in)
{
	return by_spi(d, DPIF_SA_PROBE, spi_in, 0, 0);
}

int
dplink_sa_activate(struct dplink *d, uint32_t spi_in)
{
	return by_spi(d, DPIF_SA_ACTIVATE, spi_in, 0, 0);
}

int
dplink_sa_endpoint(struct dplink *d, uint32_t spi_in, uint32_t addr, uint16_t port)
{
	return by_spi(d, DPIF_SA_ENDPOINT, spi_in, addr, port);
}

static void
pend_add(struct dplink *d, uint64_t seq, uint16_t op, uint32_t spi)
{
	if (d->pn == PEND_MAX) { /* cannot happen with a 1024-slot ring; forget the oldest */
		d->phead = (d->phead + 1) % PEND_MAX;
		d->pn--;
	}
	d->pend[(d->phead + d->pn++) % PEND_MAX] = (struct pend){seq, op, spi};
}

/* Moves queued operations into the ring while it has room. */
static void
flush(struct dplink *d)
{
	while (d->qn > 0) {
		struct qop *s = &d->q[d->qhead];
		uint64_t seq;
		int r = dpif_client_send(&d->c, (enum dpif_op)s->op, &s->sa, &seq);

		if (r == E_NOSPACE)
			return;
		if (r == 0) {
			pend_add(d, seq, s->op, s->sa.spi_in);
			d->st.sent++;
		} else {
			d->st.refused++;
			d->ops->failed(d->arg, s->op, s->sa.spi_in, r);
		}
		wipe(s, sizeof(*s));
		d->qhead = (d->qhead + 1) % Q_MAX;
		d->qn--;
	}
}

/* The ACK of seq: requests are answered in order, so everything before it is settled too. */
static void
on_ack(struct dplink *d, const struct dpif_ack *a)
{
	while (d->pn > 0) {
		struct pend p = d->pend[d->phead];

		if (p.seq > a->seq)
			break;
		d->phead = (d->phead + 1) % PEND_MAX;
		d->pn--;
		if (p.seq == a->seq && a->status != 0) {
			d->st.refused++;
			d->ops->failed(d->arg, p.op, p.spi, a->status);
		}
	}
	if (d->dumping && a->seq == d->dump_seq) {
		bool adopt = d->adopting;

		d->dumping = false;
		d->adopting = false;
		d->ops->dump_done(d->arg, adopt);
	}
}

/* false: the data plane was replaced (the caller detaches). */
static bool
receive(struct dplink *d)
{
	struct dpif_msg m;
	int r;

	for (unsigned i = 0; i < RECV_MAX && (r = dpif_client_recv(&d->c, &m)) != E_NOTFOUND; i++) {
		if (r != 0)
			continue; /* malformed: consumed, ignored */
		if (m.dp_gen != d->c.dp_gen)
			return false;
		switch (m.op) {
		case DPIF_ACK:
			if (m.ctl_gen == d->c.ctl_gen)
				on_ack(d, &m.u.ack);
			break;
		case DPIF_SA_ENTRY:
			if (d->dumping && m.ctl_gen == d->c.ctl_gen)
				d->ops->entry(d->arg, &m.u.entry, d->adopting);
			break;
		default:
			d->ops->event(d->arg, m.op, &m.u.ev);
			break;
		}
	}
	return true;
}

static void
on_poll(void *arg)
{
	struct dplink *d = arg;
	uint64_t now = loop_now(d->l), seq;

	flush(d);
	if (!receive(d)) {
		detach(d, "replaced by a new data plane");
		return;
	}
	if (!d->dumping && now >= d->next_dump &&
	    dpif_client_send(&d->c, DPIF_DUMP, NULL, &seq) == 0) {
		d->dumping = true;
		d->dump_seq = seq;
		pend_add(d, seq, DPIF_DUMP, 0);
		d->next_dump = now + DUMP_MS;
	}
	if (now >= d->next_check) {
		d->next_check = now + CHECK_MS;
		if (dpif_client_check(&d->c) != 0) {
			detach(d, "gone");
			return;
		}
	}
	loop_timer_in(d->l, &d->poll_t, POLL_MS);
}

void
dplink_stats(const struct dplink *d, struct dplink_stats *out)
{
	*out = d->st;
	out->queued = d->qn;
	out->dp_gen = d->attached ? d->c.dp_gen : 0;
	out->dp_pid = d->attached ? d->c.r.hdr->dp_pid : 0;
}
