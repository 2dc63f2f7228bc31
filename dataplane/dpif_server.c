/* SPDX-License-Identifier: MIT */
/*
 * The data plane's end of the control channel (dpif_server.h).
 *
 * Everything in the shared region can be written by the control process, so nothing read
 * from it is trusted: requests are copied out of their slot and checked (dpif_msg_check)
 * before any field is used, and our own generation and counters live in struct dpif_server,
 * not in the region's header, which only gets copies of them.
 *
 * A request is consumed (its slot released and zeroed) only after its ACK is in the ACK ring.
 * We are the only producer of that ring, so the free space we see can only grow before we
 * push: checking it before applying a request means a request is never applied without its
 * ACK going out, and never applied twice.
 */
#include "dataplane/dpif_server.h" /* first: see sa_table.h on container_of */

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/crypto.h"
#include "common/dpif_shm.h"

struct dpif_server {
	struct dpif_region r;
	struct sa_table *sas;
	uint64_t dp_gen;
	unsigned idle_ticks;
	uint32_t exhaust_at;
	struct rte_ring *probes;
	uint64_t heartbeat;
	uint64_t seq_in;  /* seq of the last request consumed; 0: none yet */
	uint64_t seq_out; /* seq of the last message we sent */
	/* a DUMP at the head of the ring whose entries did not all fit: where to resume */
	bool dumping;
	uint64_t dump_seq;
	uint32_t dump_cursor;
	/* some SA may still wait for its first packet: dpif_server_watch scans (see there) */
	bool awaiting_first;
	struct dpif_server_stats st; /* written here only, read by any thread (stats) */
};

/* Counters have one writer; the stores are atomic so that the telemetry thread reads whole
 * values. */
static void
count(uint64_t *c)
{
	__atomic_store_n(c, *c + 1, __ATOMIC_RELAXED);
}

/* Free slots in the ring to the control process. A consumer that corrupts its counter sees
 * its ring full rather than us writing over unread slots. */
static uint32_t
room(const struct dpif_server *s)
{
	uint32_t n = shmring_count(s->r.to_ctl);

	return n >= DPIF_RING_SIZE ? 0 : DPIF_RING_SIZE - n;
}

static void
msg_init(const struct dpif_server *s, struct dpif_msg *m, uint16_t op, uint64_t ctl_gen)
{
	memset(m, 0, sizeof(*m));
	m->magic = DPIF_MAGIC;
	m->version = DPIF_VERSION;
	m->op = op;
	m->seq = s->seq_out + 1;
	m->dp_gen = s->dp_gen;
	m->ctl_gen = ctl_gen;
}

static int
put(struct dpif_server *s, const struct dpif_msg *m)
{
	int r = shmring_push(s->r.to_ctl, m);

	if (r == 0)
		s->seq_out++;
	return r;
}

/* The answer to req: our generation, the request's control generation (so a restarted
 * control process can tell its ACKs from its predecessor's). False if the ring is full. */
static bool
ack(struct dpif_server *s, const struct dpif_msg *req, int status)
{
	struct dpif_msg m;

	msg_init(s, &m, DPIF_ACK, req->ctl_gen);
	m.u.ack.seq = req->seq;
	m.u.ack.status = status;
	if (put(s, &m) != 0)
		return false;
	count(&s->st.acks);
	return true;
}

static void
seq_note(struct dpif_server *s, uint64_t seq)
{
	if (seq == 1) {
		if (s->seq_in != 0)
			count(&s->st.resets);
	} else if (seq != s->seq_in + 1) {
		count(&s->st.seq_gaps);
	}
	s->seq_in = seq;
}

/* Hands spi to the worker that sends dummies; it looks the SA up again (it may be gone by
 * then, and is then skipped). */
static int
probe(struct dpif_server *s, uint32_t spi)
{
	if (sa_table_by_spi(s->sas, spi) == NULL)
		return E_NOTFOUND;
	if (s->probes == NULL || rte_ring_sp_enqueue_elem(s->probes, &spi, sizeof(spi)) != 0)
		return E_FULL;
	return 0;
}

static int
apply(struct dpif_server *s, const struct dpif_msg *m)
{
	const struct dpif_sa *d = &m->u.sa;
	struct sa *sa;
	int r;

	switch (m->op) {
	case DPIF_SA_ADD:
		s->awaiting_first = true;
		return sa_table_add(s->sas, d, m->ctl_gen);
	case DPIF_SA_DEL:
		return sa_table_del(s->sas, d->spi_in);
	case DPIF_SA_ENDPOINT:
		if ((r = sa_table_set_endpoint(s->sas, d->spi_in, d->ep_addr, d->ep_port)) != 0)
			return r;
		/* the control process knows this endpoint: no EV_ENDPOINT for it */
		if ((sa = sa_table_by_spi(s->sas, d->spi_in)) != NULL)
			sa->ev_endpoint = (uint64_t)d->ep_addr << 16 | d->ep_port;
		return 0;
	case DPIF_FLUSH:
		(void)sa_table_flush_gen(s->sas, m->ctl_gen);
		return 0;
	case DPIF_SA_PROBE:
		return probe(s, d->spi_in);
	case DPIF_SA_ACTIVATE:
		return sa_table_activate(s->sas, d->spi_in);
	default:
		return E_TYPE; /* dpif_msg_check let through an op we do not apply */
	}
}

/* One SA_ENTRY for sa: what the control process pushed, where the workers moved it and what
 * they counted, never the keys. */
static int
entry(struct dpif_server *s, const struct dpif_msg *req, const struct sa *sa)
{
	struct dpif_sa_entry *e;
	struct dpif_msg m;

	msg_init(s, &m, DPIF_SA_ENTRY, req->ctl_gen);
	e = &m.u.entry;
	e->sa.spi_in = sa->spi_in;
	e->sa.spi_out = sa->spi_out;
	e->sa.peer_addr = sa->peer_addr;
	sa_endpoint(sa, &e->sa.ep_addr, &e->sa.ep_port);
	e->sa.flags = sa->flags;
	e->sa.msgid_out = __atomic_load_n(&sa->msgid_out, __ATOMIC_RELAXED);
	e->sa.net_mask = sa->net_mask;
	e->pkts_in = __atomic_load_n(&sa->pkts_in, __ATOMIC_RELAXED);
	e->bytes_in = __atomic_load_n(&sa->bytes_in, __ATOMIC_RELAXED);
	e->pkts_out = __atomic_load_n(&sa->pkts_out, __ATOMIC_RELAXED);
	e->bytes_out = __atomic_load_n(&sa->bytes_out, __ATOMIC_RELAXED);
	e->drops_in = __atomic_load_n(&sa->drops_in, __ATOMIC_RELAXED);
	e->drops_out = __atomic_load_n(&sa->drops_out, __ATOMIC_RELAXED);
	e->quiet_s = sa->ev_quiet;
	e->idle_out_s = sa->ev_quiet_out;
	return put(s, &m);
}

/* Sends the entries of a DUMP from where the last call stopped, then its ACK; false while
 * they do not all fit. Nothing else changes the table between the calls (requests are taken
 * in order, and this one is still at the head), so each SA goes out exactly once. */
static bool
dump(struct dpif_server *s, const struct dpif_msg *req)
{
	struct sa *sa;

	if (!s->dumping || s->dump_seq != req->seq) {
		s->dumping = true;
		s->dump_seq = req->seq;
		s->dump_cursor = 0;
	}
	for (;;) {
		uint32_t cur = s->dump_cursor;

		if (room(s) == 0)
			return false;
		if ((sa = sa_table_iter(s->sas, &cur)) == NULL)
			break;
		if (entry(s, req, sa) != 0)
			return false;
		s->dump_cursor = cur;
	}
	if (!ack(s, req, 0))
		return false;
	s->dumping = false;
	return true;
}

/* Answers the request m (copied out of the head slot); false if it must stay in the ring
 * because its answer does not fit yet. */
static bool
handle(struct dpif_server *s, const struct dpif_msg *m)
{
	bool gen_ok;

	if (dpif_msg_check(m, true) != 0) {
		/* without a seq the sender could not match an ACK: just drop it */
		if (m->seq != 0 && !ack(s, m, E_INVAL))
			return false;
		count(&s->st.invalid);
		if (m->seq != 0)
			seq_note(s, m->seq);
		return true;
	}
	/* a dp_gen that is not ours: meant for a data plane that has since restarted */
	gen_ok = m->dp_gen == 0 || m->dp_gen == s->dp_gen;
	if (gen_ok && m->op == DPIF_DUMP) {
		if (!dump(s, m))
			return false;
	} else {
		if (room(s) == 0)
			return false;
		(void)ack(s, m, gen_ok ? apply(s, m) : E_STATE); /* fits: room only grows */
	}
	count(&s->st.requests);
	seq_note(s, m->seq);
	return true;
}

unsigned
dpif_server_poll(struct dpif_server *s, unsigned max)
{
	struct dpif_msg m;
	unsigned n = 0;

	while (n < max && shmring_peek(s->r.to_dp, &m) == 0) {
		bool done = handle(s, &m);

		if (done)
			shmring_release_wipe(s->r.to_dp);
		wipe(&m, sizeof(m));
		if (!done)
			break;
		n++;
	}
	return n;
}

static bool
event(struct dpif_server *s, uint16_t op, const struct sa *sa, uint64_t ep)
{
	struct dpif_msg m;

	msg_init(s, &m, op, 0); /* an answer to no request */
	m.u.ev.spi_in = sa->spi_in;
	m.u.ev.ep_addr = (uint32_t)(ep >> 16);
	m.u.ev.ep_port = (uint16_t)ep;
	m.u.ev.msgid_out = __atomic_load_n(&sa->msgid_out, __ATOMIC_RELAXED);
	m.u.ev.pkts_in = __atomic_load_n(&sa->pkts_in, __ATOMIC_RELAXED);
	m.u.ev.pkts_out = __atomic_load_n(&sa->pkts_out, __ATOMIC_RELAXED);
	m.u.ev.bytes_in = __atomic_load_n(&sa->bytes_in, __ATOMIC_RELAXED);
	m.u.ev.bytes_out = __atomic_load_n(&sa->bytes_out, __ATOMIC_RELAXED);
	if (put(s, &m) != 0) {
		count(&s->st.events_dropped);
		return false;
	}
	count(&s->st.events);
	return true;
}

/* EV_FIRST once an SA has its first packet. The flag is the writer's (we are it); the counter
 * is the workers', read once. Returns 1 while the SA still waits, for dpif_server_watch. */
static int
sa_first(struct sa *sa, struct dpif_server *s)
{
	uint64_t ep;

	if (sa->ev_flags & SA_EV_FIRST)
		return 0;
	if (__atomic_load_n(&sa->pkts_in, __ATOMIC_RELAXED) == 0)
		return 1;
	ep = __atomic_load_n(&sa->endpoint, __ATOMIC_RELAXED);
	if (!event(s, DPIF_EV_FIRST, sa, ep))
		return 1;
	sa->ev_flags |= SA_EV_FIRST;
	if (ep != sa->ev_endpoint && event(s, DPIF_EV_ENDPOINT, sa, ep))
		sa->ev_endpoint = ep;
	return 0;
}

/* sa_table_each callback for the tick. The ev_* fields are the writer's; the counters and the
 * endpoint are the workers', read once each. A flag is set only once its event is out. */
static int
sa_events(struct sa *sa, void *arg)
{
	struct dpif_server *s = arg;
	uint64_t pkts, ep;

	(void)sa_first(sa, s);
	pkts = __atomic_load_n(&sa->pkts_in, __ATOMIC_RELAXED);
	ep = __atomic_load_n(&sa->endpoint, __ATOMIC_RELAXED);
	if (ep != sa->ev_endpoint && event(s, DPIF_EV_ENDPOINT, sa, ep))
		sa->ev_endpoint = ep;
	if (pkts != sa->ev_pkts_in) {
		sa->ev_pkts_in = pkts;
		sa->ev_quiet = 0;
		sa->ev_flags &= ~(uint32_t)SA_EV_IDLE;
	} else if (sa->ev_quiet < UINT32_MAX) {
		sa->ev_quiet++;
	}
	pkts = __atomic_load_n(&sa->pkts_out, __ATOMIC_RELAXED);
	if (pkts != sa->ev_pkts_out) {
		sa->ev_pkts_out = pkts;
		sa->ev_quiet_out = 0;
	} else if (sa->ev_quiet_out < UINT32_MAX) {
		sa->ev_quiet_out++;
	}
	if (s->idle_ticks != 0 && !(sa->ev_flags & SA_EV_IDLE) && sa->ev_quiet >= s->idle_ticks &&
	    event(s, DPIF_EV_IDLE, sa, ep))
		sa->ev_flags |= SA_EV_IDLE;
	if (!(sa->ev_flags & SA_EV_EXHAUST) &&
	    __atomic_load_n(&sa->msgid_out, __ATOMIC_RELAXED) >= s->exhaust_at &&
	    event(s, DPIF_EV_EXHAUST, sa, ep))
		sa->ev_flags |= SA_EV_EXHAUST;
	return 0;
}

void
dpif_server_tick(struct dpif_server *s)
{
	__atomic_store_n(&s->r.hdr->dp_heartbeat, ++s->heartbeat, __ATOMIC_RELEASE);
	sa_table_reclaim(s->sas);
	(void)sa_table_each(s->sas, sa_events, s);
}

struct watch {
	struct dpif_server *s;
	unsigned waiting;
};

static int
watch_one(struct sa *sa, void *arg)
{
	struct watch *w = arg;

	w->waiting += (unsigned)sa_first(sa, w->s);
	return 0;
}

void
dpif_server_watch(struct dpif_server *s)
{
	struct watch w = {s, 0};

	if (!s->awaiting_first)
		return;
	(void)sa_table_each(s->sas, watch_one, &w);
	s->awaiting_first = w.waiting > 0;
}

struct dpif_server *
dpif_server_new(const struct dpif_server_params *p)
{
	struct dpif_server *s;

	if (p == NULL || p->sas == NULL || (s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	if (dpif_shm_create(p->prefix, p->pid, &s->r) != 0) {
		free(s);
		return NULL;
	}
	s->sas = p->sas;
	s->dp_gen = s->r.hdr->dp_gen;
	s->st.dp_gen = s->dp_gen;
	s->idle_ticks = p->idle_ticks;
	s->exhaust_at = p->exhaust_at != 0 ? p->exhaust_at : DPIF_SERVER_EXHAUST_AT;
	s->probes = p->probes;
	return s;
}

void
dpif_server_free(struct dpif_server *s)
{
	if (s == NULL)
		return;
	dpif_shm_unlink(&s->r);
	dpif_shm_detach(&s->r);
	free(s);
}

void
dpif_server_stats(const struct dpif_server *s, struct dpif_server_stats *out)
{
	out->requests = __atomic_load_n(&s->st.requests, __ATOMIC_RELAXED);
	out->invalid = __atomic_load_n(&s->st.invalid, __ATOMIC_RELAXED);
	out->acks = __atomic_load_n(&s->st.acks, __ATOMIC_RELAXED);
	out->seq_gaps = __atomic_load_n(&s->st.seq_gaps, __ATOMIC_RELAXED);
	out->events = __atomic_load_n(&s->st.events, __ATOMIC_RELAXED);
	out->events_dropped = __atomic_load_n(&s->st.events_dropped, __ATOMIC_RELAXED);
	out->resets = __atomic_load_n(&s->st.resets, __ATOMIC_RELAXED);
	out->dp_gen = s->dp_gen;
}
