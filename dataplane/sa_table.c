/* SPDX-License-Identifier: MIT */
/*
 * The SA table (sa_table.h).
 *
 * Hash mode: RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF without MULTI_WRITER_ADD. rte_hash's
 * plain mode is not safe for a lookup concurrent with an add at all (a cuckoo displacement
 * can hide a key from a reader mid-move), so "plain mode plus RCU" would protect our SA
 * objects but not the hash's own buckets; the lock-based RW_CONCURRENCY mode puts a
 * reader-writer lock in every lookup. LF gives wait-free lookups, atomic data replacement
 * (make before break) and, with one writer, needs no writer lock. Its price, that deleted key
 * slots may only be reused after a grace period, is paid by rte_hash_rcu_qsbr_add() on the
 * same QSBR variable.
 *
 * RCU scheme: the SA objects are ours, referenced from both hashes, so the hashes do not free
 * them (free_key_data_func is NULL); the writer unlinks an SA from both hashes, then enqueues
 * it on its own defer queue (rte_rcu_qsbr_dq_*), whose token is taken after the unlink. If the
 * queue is full of SAs still in their grace period the writer blocks in
 * rte_rcu_qsbr_synchronize() once and frees directly (counted in stats.syncs).
 */
/* The rte_rcu_qsbr_dq_* calls are still experimental in DPDK 22.11. */
#define ALLOW_EXPERIMENTAL_API

#include "dataplane/sa_table.h" /* first: see its note on container_of */

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>

#include "common/crypto.h"

enum { RETIRE_MAX = 64 };

struct sa_table {
	struct rte_hash *by_spi;  /* spi_in -> struct sa * (owns the SA) */
	struct rte_hash *by_peer; /* peer_addr -> the newest SA of that peer */
	struct rte_rcu_qsbr *v;
	struct rte_rcu_qsbr_dq *dq; /* unlinked SAs, as pointers */
	struct cb_ctx *cb;	    /* expands the key schedules (writer only) */
	uint32_t max_sas;
	int socket_id;
	uint32_t live, pending;
	uint64_t freed, syncs;
	uint32_t *scratch;	/* max_sas SPIs for sa_table_flush_gen */
	struct sa **ptrs;	/* max_sas SAs for sa_table_flush_gen */
	struct sa_bcast *bcast; /* published to the readers; NULL: empty */
	struct retired {
		void *p;
		uint64_t token;
	} retired[RETIRE_MAX]; /* old broadcast sets in their grace period, oldest first */
	unsigned n_retired;
	sa_table_free_hook_fn *free_hook;
	void *free_hook_arg;
};

static void
sa_destroy(struct sa_table *t, struct sa *sa)
{
	cb_keys_wipe(&sa->keys_in);
	cb_keys_wipe(&sa->keys_out);
	t->freed++;
	if (t->free_hook)
		t->free_hook(t->free_hook_arg, sa);
	else
		rte_free(sa);
}

/* rte_rcu_qsbr_free_resource_t: e holds n SA pointers (DPDK 22.11 always passes n == 1). */
static void
dq_free(void *p, void *e, unsigned int n)
{
	struct sa_table *t = p;

	for (unsigned i = 0; i < n; i++) {
		struct sa *sa;

		memcpy(&sa, (char *)e + i * sizeof(sa), sizeof(sa));
		t->pending--;
		sa_destroy(t, sa);
	}
}

/* Frees sa once every reader has passed a quiescent state; sa is already unlinked. */
static void
sa_defer(struct sa_table *t, struct sa *sa)
{
	t->pending++;
	if (rte_rcu_qsbr_dq_enqueue(t->dq, &sa) == 0)
		return;
	t->pending--;
	t->syncs++;
	rte_rcu_qsbr_synchronize(t->v, RTE_QSBR_THRID_INVALID);
	sa_destroy(t, sa);
}

static struct rte_hash *
hash_new(const char *kind, const struct sa_table_params *p)
{
	char name[RTE_HASH_NAMESIZE];
	struct rte_hash_parameters hp = {
		.name = name,
		.entries = MAX(2 * p->max_sas, 64u), /* cuckoo headroom and deferred key slots */
		.key_len = sizeof(uint32_t),
		.hash_func = rte_hash_crc,
		.hash_func_init_val = 0x62757269, /* "buri" */
		.socket_id = p->socket_id,
		.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF,
	};
	/* The hash's own defer queue (deleted key slots) must never be the first to fill: DPDK
	 * 22.11 leaks the key slot when it is full. Ours (sa_defer) gets at least one entry for
	 * every one this gets and synchronizes when full, so four times its size is enough. */
	struct rte_hash_rcu_config rc = {
		.v = p->v,
		.mode = RTE_HASH_QSBR_MODE_DQ,
		.dq_size = 4 * MAX(2 * p->max_sas, 64u),
	};
	struct rte_hash *h;

	snprintf(name, sizeof(name), "%s_%s", kind, p->name);
	h = rte_hash_create(&hp);
	if (h == NULL)
		return NULL;
	if (rte_hash_rcu_qsbr_add(h, &rc) != 0) {
		rte_hash_free(h);
		return NULL;
	}
	return h;
}

struct sa_table *
sa_table_create(const struct sa_table_params *p)
{
	char name[RTE_RCU_QSBR_DQ_NAMESIZE];
	struct rte_rcu_qsbr_dq_parameters dp = {0};
	struct sa_table *t;

	if (p == NULL || p->name == NULL || p->v == NULL || p->max_sas == 0)
		return NULL;
	t = rte_zmalloc_socket("sa_table", sizeof(*t), RTE_CACHE_LINE_SIZE, p->socket_id);
	if (t == NULL)
		return NULL;
	t->v = p->v;
	t->max_sas = p->max_sas;
	t->socket_id = p->socket_id;
	t->scratch =
		rte_malloc_socket("sa_scratch", sizeof(uint32_t) * p->max_sas, 0, p->socket_id);
	t->ptrs = rte_malloc_socket("sa_ptrs", sizeof(struct sa *) * p->max_sas, 0, p->socket_id);
	t->cb = cb_ctx_new(p->backend);
	t->by_spi = hash_new("saspi", p);
	t->by_peer = hash_new("sapeer", p);
	snprintf(name, sizeof(name), "sadq_%s", p->name);
	dp.name = name;
	dp.flags = RTE_RCU_QSBR_DQ_MT_UNSAFE; /* one writer */
	dp.size = 2 * p->max_sas;	      /* a replacement of every SA in one grace period */
	dp.esize = sizeof(struct sa *);
	dp.trigger_reclaim_limit = MAX(p->max_sas / 8, 1u);
	dp.max_reclaim_size = dp.size;
	dp.free_fn = dq_free;
	dp.p = t;
	dp.v = p->v;
	if (t->scratch != NULL && t->ptrs != NULL && t->cb != NULL && t->by_spi != NULL &&
	    t->by_peer != NULL)
		t->dq = rte_rcu_qsbr_dq_create(&dp);
	if (t->dq == NULL) {
		sa_table_free(t);
		return NULL;
	}
	return t;
}

struct sa *
sa_table_by_spi(const struct sa_table *t, uint32_t spi_in)
{
	void *data;

	if (rte_hash_lookup_data(t->by_spi, &spi_in, &data) < 0)
		return NULL;
	return data;
}

struct sa *
sa_table_by_peer(const struct sa_table *t, uint32_t peer_addr)
{
	void *data;

	if (rte_hash_lookup_data(t->by_peer, &peer_addr, &data) < 0)
		return NULL;
	return data;
}

/* After sa left by_spi: if by_peer still names it, point it at another SA of the same peer
 * (a rekey overlaps two) or remove the peer. Writer only; a linear scan, fine off the data
 * path. */
static void
peer_unlink(struct sa_table *t, struct sa *sa)
{
	struct sa *cur = sa_table_by_peer(t, sa->peer_addr), *other = NULL;
	const void *key;
	void *data;
	uint32_t it = 0;

	if (cur != sa)
		return;
	while (rte_hash_iterate(t->by_spi, &key, &data, &it) >= 0) {
		struct sa *s = data;

		if (s != sa && s->peer_addr == sa->peer_addr &&
		    (other == NULL || s->gen >= other->gen))
			other = s;
	}
	if (other == NULL || rte_hash_add_key_data(t->by_peer, &sa->peer_addr, other) != 0)
		rte_hash_del_key(t->by_peer, &sa->peer_addr);
}

static int
sa_build(struct sa_table *t, const struct dpif_sa *d, uint64_t gen, const struct sa *old,
	 struct sa **out)
{
	struct dirkey k;
	struct sa *sa;
	int r;

	sa = rte_zmalloc_socket("sa", sizeof(*sa), RTE_CACHE_LINE_SIZE, t->socket_id);
	if (sa == NULL)
		return E_NOMEM;
	sa->spi_in = d->spi_in;
	sa->spi_out = d->spi_out;
	sa->peer_addr = d->peer_addr;
	sa->flags = d->flags;
	sa->endpoint = (uint64_t)d->ep_addr << 16 | d->ep_port;
	sa->ev_endpoint = sa->endpoint; /* the control process knows the one it pushed */
	sa->gen = gen;
	sa->net_mask = d->net_mask;
	sa->msgid_out = d->msgid_out;
	replay_init(&sa->replay);

	memcpy(k.ke, d->in_ke, sizeof(k.ke));
	memcpy(k.ka, d->in_ka, sizeof(k.ka));
	r = cb_keys_init(t->cb, &k, &sa->keys_in);
	memcpy(k.ke, d->out_ke, sizeof(k.ke));
	memcpy(k.ka, d->out_ka, sizeof(k.ka));
	if (r == 0)
		r = cb_keys_init(t->cb, &k, &sa->keys_out);
	wipe(&k, sizeof(k));
	if (r != 0) {
		sa_destroy(t, sa);
		t->freed--;
		return r;
	}

	/*
	 * The same SA pushed again (a control restart): keep its state. The old SA stays in use
	 * until the new one is published, so the few packets a worker handles meanwhile are lost
	 * from the copied window and counters; the message ID skips a gap for the same reason.
	 */
	if (old != NULL && memcmp(&old->keys_in.dk, &sa->keys_in.dk, sizeof(struct dirkey)) == 0 &&
	    memcmp(&old->keys_out.dk, &sa->keys_out.dk, sizeof(struct dirkey)) == 0) {
		uint64_t m = (uint64_t)__atomic_load_n(&old->msgid_out, __ATOMIC_RELAXED) + 1024;

		if (m > UINT32_MAX)
			m = UINT32_MAX;
		if (m > sa->msgid_out)
			sa->msgid_out = (uint32_t)m;
		memcpy(&sa->replay, &old->replay, sizeof(sa->replay));
		sa->pkts_in = __atomic_load_n(&old->pkts_in, __ATOMIC_RELAXED);
		sa->bytes_in = __atomic_load_n(&old->bytes_in, __ATOMIC_RELAXED);
		sa->drops_in = __atomic_load_n(&old->drops_in, __ATOMIC_RELAXED);
		sa->pkts_out = __atomic_load_n(&old->pkts_out, __ATOMIC_RELAXED);
		sa->bytes_out = __atomic_load_n(&old->bytes_out, __ATOMIC_RELAXED);
		sa->drops_out = __atomic_load_n(&old->drops_out, __ATOMIC_RELAXED);
		sa->ev_flags = old->ev_flags;
		sa->ev_quiet = old->ev_quiet;
		sa->ev_pkts_in = old->ev_pkts_in;
		sa->ev_quiet_out = old->ev_quiet_out;
		sa->ev_pkts_out = old->ev_pkts_out;
	}
	*out = sa;
	return 0;
}

/* Frees the retired broadcast sets whose grace period is over (all of them if wait). */
static void
retired_reclaim(struct sa_table *t, bool wait)
{
	unsigned done = 0;

	if (wait && t->n_retired > 0)
		rte_rcu_qsbr_synchronize(t->v, RTE_QSBR_THRID_INVALID);
	while (done < t->n_retired &&
	       (wait || rte_rcu_qsbr_check(t->v, t->retired[done].token, false) == 1))
		rte_free(t->retired[done++].p);
	memmove(t->retired, t->retired + done, (t->n_retired - done) * sizeof(t->retired[0]));
	t->n_retired -= done;
}

static void
retire(struct sa_table *t, void *p)
{
	if (p == NULL)
		return;
	if (t->n_retired == RETIRE_MAX)
		retired_reclaim(t, false);
	if (t->n_retired == RETIRE_MAX)
		retired_reclaim(t, true);
	t->retired[t->n_retired].p = p;
	t->retired[t->n_retired].token = rte_rcu_qsbr_start(t->v);
	t->n_retired++;
}

/* Publishes a new broadcast set from by_peer (one SA per peer). Callers rebuild after unlinking
 * an SA and before deferring its free, so no set a reader can still hold names a freed SA. If
 * memory runs out the set becomes empty (broadcasts stop, counted by the workers as no-SA)
 * rather than keep naming SAs that are about to be freed. */
static void
bcast_rebuild(struct sa_table *t)
{
	const void *key;
	void *data;
	uint32_t it = 0, n = 0;
	struct sa_bcast *b;

	while (rte_hash_iterate(t->by_peer, &key, &data, &it) >= 0)
		n += ((struct sa *)data)->net_mask != 0;
	b = n == 0 ? NULL
		   : rte_malloc_socket("sa_bcast", sizeof(*b) + n * sizeof(b->sa[0]), 0,
				       t->socket_id);
	if (b != NULL) {
		it = 0;
		b->n = 0;
		while (rte_hash_iterate(t->by_peer, &key, &data, &it) >= 0 && b->n < n)
			if (((struct sa *)data)->net_mask != 0)
				b->sa[b->n++] = data;
	}
	retire(t, __atomic_exchange_n(&t->bcast, b, __ATOMIC_RELEASE));
}

const struct sa_bcast *
sa_table_bcast(const struct sa_table *t)
{
	return __atomic_load_n(&t->bcast, __ATOMIC_ACQUIRE);
}

int
sa_table_add(struct sa_table *t, const struct dpif_sa *d, uint64_t ctl_gen)
{
	struct sa *old, *sa;
	int r;

	if (d->spi_in == WIRE_SPI_CONTROL) /* 0: marks control packets */
		return E_INVAL;
	old = sa_table_by_spi(t, d->spi_in);
	if (old == NULL && t->live >= t->max_sas)
		return E_FULL;
	r = sa_build(t, d, ctl_gen, old, &sa);
	if (r != 0)
		return r;

	/* Publication: rte_hash LF stores the data pointer with release order, after every
	 * store above; a replacement is one store over the old pointer. */
	if (rte_hash_add_key_data(t->by_spi, &sa->spi_in, sa) != 0) {
		sa_destroy(t, sa); /* never published */
		t->freed--;
		return E_FULL;
	}
	/* a standby SA only receives; but one that replaces the peer's current SA must take its
	 * place there (the old one is about to be freed) */
	if ((!(sa->flags & DPIF_SA_STANDBY) ||
	     (old != NULL && sa_table_by_peer(t, sa->peer_addr) == old)) &&
	    rte_hash_add_key_data(t->by_peer, &sa->peer_addr, sa) != 0) {
		/* roll back; sa may have been seen, so it goes through the grace period */
		if (old != NULL)
			(void)rte_hash_add_key_data(t->by_spi, &sa->spi_in, old);
		else
			(void)rte_hash_del_key(t->by_spi, &sa->spi_in);
		sa_defer(t, sa);
		return E_FULL;
	}
	if (old != NULL)
		peer_unlink(t, old); /* only if old had another peer address */
	else
		t->live++;
	bcast_rebuild(t);
	if (old != NULL)
		sa_defer(t, old);
	return 0;
}

/* Out of both hashes; the caller rebuilds the broadcast set, then defers the free. */
static void
sa_unlink(struct sa_table *t, struct sa *sa)
{
	rte_hash_del_key(t->by_spi, &sa->spi_in);
	peer_unlink(t, sa);
	t->live--;
}

int
sa_table_del(struct sa_table *t, uint32_t spi_in)
{
	struct sa *sa = sa_table_by_spi(t, spi_in);

	if (sa != NULL) {
		sa_unlink(t, sa);
		bcast_rebuild(t);
		sa_defer(t, sa);
	}
	return 0;
}

int
sa_table_activate(struct sa_table *t, uint32_t spi_in)
{
	struct sa *sa = sa_table_by_spi(t, spi_in);

	if (sa == NULL)
		return E_NOTFOUND;
	if (!(sa->flags & DPIF_SA_STANDBY) && sa_table_by_peer(t, sa->peer_addr) == sa)
		return 0;
	if (rte_hash_add_key_data(t->by_peer, &sa->peer_addr, sa) != 0)
		return E_FULL;
	sa->flags &= (uint16_t)~DPIF_SA_STANDBY; /* the writer's field: workers never read it */
	bcast_rebuild(t);
	return 0;
}

int
sa_table_set_endpoint(struct sa_table *t, uint32_t spi_in, uint32_t addr, uint16_t port)
{
	struct sa *sa = sa_table_by_spi(t, spi_in);

	if (sa == NULL)
		return E_NOTFOUND;
	__atomic_store_n(&sa->endpoint, (uint64_t)addr << 16 | port, __ATOMIC_RELAXED);
	return 0;
}

unsigned
sa_table_flush_gen(struct sa_table *t, uint64_t gen)
{
	const void *key;
	void *data;
	uint32_t it = 0, n = 0;

	/* collect first: deleting while rte_hash_iterate walks the buckets may skip entries */
	while (rte_hash_iterate(t->by_spi, &key, &data, &it) >= 0 && n < t->max_sas) {
		const struct sa *sa = data;

		if (sa->gen < gen)
			t->scratch[n++] = sa->spi_in;
	}
	/* unlink all, publish one new broadcast set, then start the grace periods */
	for (uint32_t i = 0; i < n; i++) {
		struct sa *sa = sa_table_by_spi(t, t->scratch[i]);

		if (sa != NULL)
			sa_unlink(t, sa);
		t->ptrs[i] = sa;
	}
	bcast_rebuild(t);
	for (uint32_t i = 0; i < n; i++)
		if (t->ptrs[i] != NULL)
			sa_defer(t, t->ptrs[i]);
	return n;
}

struct sa *
sa_table_iter(struct sa_table *t, uint32_t *cursor)
{
	const void *key;
	void *data;

	return rte_hash_iterate(t->by_spi, &key, &data, cursor) >= 0 ? data : NULL;
}

int
sa_table_each(struct sa_table *t, int (*fn)(struct sa *sa, void *arg), void *arg)
{
	const void *key;
	void *data;
	uint32_t it = 0;
	int r;

	while (rte_hash_iterate(t->by_spi, &key, &data, &it) >= 0)
		if ((r = fn(data, arg)) != 0)
			return r;
	return 0;
}

unsigned
sa_table_reclaim(struct sa_table *t)
{
	unsigned freed = 0, pending = 0, avail = 0;

	if (t->dq != NULL)
		rte_rcu_qsbr_dq_reclaim(t->dq, UINT32_MAX, &freed, &pending, &avail);
	retired_reclaim(t, false);
	return freed;
}

void
sa_table_stats(const struct sa_table *t, struct sa_table_stats *s)
{
	s->live = t->live;
	s->pending = t->pending;
	s->freed = t->freed;
	s->syncs = t->syncs;
}

void
sa_table_test_set_free_hook(struct sa_table *t, sa_table_free_hook_fn *fn, void *arg)
{
	t->free_hook = fn;
	t->free_hook_arg = arg;
}

void
sa_table_free(struct sa_table *t)
{
	const void *key;
	void *data;
	uint32_t it;

	if (t == NULL)
		return;
	/* unlink everything (the hooks and counters see every SA go through sa_destroy) */
	while (t->by_spi != NULL && t->dq != NULL) {
		it = 0;
		if (rte_hash_iterate(t->by_spi, &key, &data, &it) < 0)
			break;
		sa_unlink(t, data);
		bcast_rebuild(t);
		sa_defer(t, data);
	}
	/* every reader must be polling or offline here, else this waits forever */
	rte_rcu_qsbr_synchronize(t->v, RTE_QSBR_THRID_INVALID);
	if (t->dq != NULL) {
		sa_table_reclaim(t);
		rte_rcu_qsbr_dq_delete(t->dq);
	}
	retired_reclaim(t, true);
	rte_hash_free(t->by_spi);
	rte_hash_free(t->by_peer);
	cb_ctx_free(t->cb);
	rte_free(t->scratch);
	rte_free(t->ptrs);
	rte_free(t);
}
