/* SPDX-License-Identifier: MIT */
/*
 * Process setup, the event loop and teardown. See med.h for the shape of a loop turn.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "common/crypto.h"
#include "common/err.h"
#include "common/keyfile.h"
#include "common/log.h"
#include "common/pubkey.h"
#include "common/tlsctx.h"
#include "mediator/med.h"
#include "mediator/store.h"

enum { EPOLL_BATCH = 256, SERVER_KEY_BITS = 3072 };

int
med_watch(struct med *m, int fd, uint32_t events, struct epoll_slot *slot)
{
	struct epoll_event ev = {.events = events, .data.ptr = slot};

	return epoll_ctl(m->epfd, EPOLL_CTL_ADD, fd, &ev) == 0 ? 0 : E_IO;
}

int
med_rewatch(struct med *m, int fd, uint32_t events, struct epoll_slot *slot)
{
	struct epoll_event ev = {.events = events, .data.ptr = slot};

	return epoll_ctl(m->epfd, EPOLL_CTL_MOD, fd, &ev) == 0 ? 0 : E_IO;
}

/* Loads the server key, or creates it (mode 0600) on the first start. */
static int
load_key(struct med *m)
{
	char fp[PUBKEY_FP_STR_LEN];
	int r;

	if (access(m->cfg.key_path, F_OK) != 0) {
		log_info("creating server key %s (RSA-%d)", m->cfg.key_path, SERVER_KEY_BITS);
		if ((m->key = pubkey_generate(SERVER_KEY_BITS)) == NULL)
			return E_CRYPTO;
		if ((r = keyfile_store(m->cfg.key_path, m->key, true)) != 0) {
			log_err("%s: cannot write the server key: %s", m->cfg.key_path, err_str(r));
			return r;
		}
	} else if ((r = keyfile_load(m->cfg.key_path, true, &m->key)) != 0) {
		log_err("%s: cannot load the server key: %s", m->cfg.key_path, err_str(r));
		return r;
	}
	if ((r = pubkey_fingerprint(m->key, m->kfp)) != 0)
		return r;
	pubkey_fingerprint_str(m->kfp, fp);
	log_info("server key fingerprint %s", fp);
	printf("fingerprint %s\n", fp);
	fflush(stdout);
	return 0;
}

static int
load_account(void *arg, const struct store_account *a)
{
	return account_load(arg, a);
}

static int
load_network(void *arg, const struct store_network *n)
{
	return network_load(arg, n);
}

static int
load_member(void *arg, const struct store_member *mb)
{
	return network_load_member(arg, mb);
}

static int
load_ban(void *arg, const struct store_ban *b)
{
	return network_load_ban(arg, b);
}

static int
load_inbox(void *arg, uint32_t node, uint32_t count)
{
	struct account *a = account_by_id(arg, node);

	if (a != NULL)
		a->inbox = count;
	return 0;
}

static int
open_store(struct med *m)
{
	static const struct store_load_cb cb = {load_account, load_network, load_member, load_ban,
						load_inbox};
	char err[256];
	int r;

	m->store = store_open(m->cfg.store_backend, m->cfg.store_path, err, sizeof(err));
	if (m->store == NULL) {
		log_err("store %s: %s", m->cfg.store_path, err);
		return E_STORE;
	}
	if ((r = store_load(m->store, &cb, m)) != 0) {
		log_err("store %s: cannot load: %s", m->cfg.store_path, err_str(r));
		return r;
	}
	log_info("store %s: %zu accounts, %zu networks", m->cfg.store_path, m->accounts_by_id.n,
		 m->networks.n);
	return 0;
}

int
med_listen(struct med *m, unsigned int port, int type, int *out)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int fd, one = 1;

	if (inet_pton(AF_INET, m->cfg.listen, &sa.sin_addr) != 1) {
		log_err("listen address \"%s\" is not an IPv4 address", m->cfg.listen);
		return E_CONF;
	}
	if ((fd = socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
		return E_IO;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    (type == SOCK_STREAM && listen(fd, 4096) != 0)) {
		log_err("%s:%u: %s", m->cfg.listen, port, strerror(errno));
		close(fd);
		return E_IO;
	}
	*out = fd;
	return 0;
}

static void
on_tcp(void *obj, uint32_t events)
{
	struct med *m = obj;

	(void)events;
	conn_accept(m, m->tcp_fd, false);
}

static void
on_tls(void *obj, uint32_t events)
{
	struct med *m = obj;

	(void)events;
	conn_accept(m, m->tls_fd, true);
}

static void
on_pool(void *obj, uint32_t events)
{
	struct med *m = obj;

	(void)events;
	pool_reap(m->pool);
}

static void
on_tick(void *obj, uint32_t events)
{
	struct med *m = obj;
	uint64_t n;

	(void)events;
	if (read(m->tick_fd, &n, sizeof(n)) < 0 && errno != EAGAIN)
		log_warn("tick timer: %s", strerror(errno));
	conn_tick(m);
	broker_tick(m);
	ratelimit_expire(m->rl, m->now);
}

static int
open_listeners(struct med *m)
{
	char err[256];
	int r;

	if ((r = med_listen(m, m->cfg.tcp_port, SOCK_STREAM, &m->tcp_fd)) != 0)
		return r;
	m->tcp_slot = (struct epoll_slot){on_tcp, m};
	if ((r = med_watch(m, m->tcp_fd, EPOLLIN, &m->tcp_slot)) != 0)
		return r;
	log_info("listening on %s:%u (tcp)", m->cfg.listen, m->cfg.tcp_port);
	if (m->cfg.tls_port == 0)
		return 0;
	m->tls = tlsctx_server(m->cfg.tls_cert[0] ? m->cfg.tls_cert : NULL,
			       m->cfg.tls_key[0] ? m->cfg.tls_key : NULL, err, sizeof(err));
	if (m->tls == NULL) {
		log_err("tls: %s", err);
		return E_CONF;
	}
	if ((r = med_listen(m, m->cfg.tls_port, SOCK_STREAM, &m->tls_fd)) != 0)
		return r;
	m->tls_slot = (struct epoll_slot){on_tls, m};
	log_info("listening on %s:%u (tls)", m->cfg.listen, m->cfg.tls_port);
	return med_watch(m, m->tls_fd, EPOLLIN, &m->tls_slot);
}

static int
open_timers(struct med *m)
{
	struct itimerspec its = {.it_interval = {1, 0}, .it_value = {1, 0}};

	m->tick_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (m->tick_fd < 0 || timerfd_settime(m->tick_fd, 0, &its, NULL) != 0)
		return E_IO;
	m->tick_slot = (struct epoll_slot){on_tick, m};
	m->pool_slot = (struct epoll_slot){on_pool, m};
	if (med_watch(m, m->tick_fd, EPOLLIN, &m->tick_slot) != 0 ||
	    med_watch(m, pool_fd(m->pool), EPOLLIN, &m->pool_slot) != 0)
		return E_IO;
	return 0;
}

/* 10,000 sessions need more descriptors than the usual soft limit of 1024. */
static void
raise_fd_limit(struct med *m)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	if (m->cfg.sessions == 0)
		m->cfg.sessions = (unsigned int)MIN(rl.rlim_cur - 64, 1000000);
	else if (rl.rlim_cur < (rlim_t)m->cfg.sessions + 64)
		log_warn("descriptor limit %llu is below limits.sessions (%u)",
			 (unsigned long long)rl.rlim_cur, m->cfg.sessions);
}

static int
init_maps(struct med *m)
{
	int r;

	if ((r = hmap_init(&m->accounts_by_id)) != 0 || (r = hmap_init(&m->accounts_by_kfp)) != 0 ||
	    (r = hmap_init(&m->networks)) != 0 || (r = hmap_init(&m->networks_by_id)) != 0 ||
	    (r = hmap_init(&m->tunnels)) != 0)
		return r;
	list_init(&m->conns);
	list_init(&m->dirty);
	list_init(&m->dead);
	return crypto_random(m->hash_key, sizeof(m->hash_key));
}

int
med_init(struct med *m)
{
	unsigned int workers = m->cfg.workers;
	int r;

	m->tcp_fd = m->tls_fd = m->tick_fd = -1;
	for (size_t i = 0; i < ARRAY_SIZE(m->disco); i++)
		m->disco[i].fd = -1;
	m->now = time(NULL);
	raise_fd_limit(m);
	if (workers == 0)
		workers = (unsigned int)MAX(1, sysconf(_SC_NPROCESSORS_ONLN));
	if ((r = init_maps(m)) != 0)
		return r;
	if ((m->crypto = crypto_new()) == NULL || (m->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
	    (m->body = malloc(WIRE_MSG_MAX + WIRE_BLOCK)) == NULL ||
	    (m->enc = malloc(WIRE_MSG_MAX)) == NULL ||
	    (m->sealed = malloc(WIRE_TCP_SIZE_MAX + 4)) == NULL)
		return E_NOMEM;
	if ((m->rl = ratelimit_new(m->cfg.handshake_rate, m->cfg.handshake_burst)) == NULL ||
	    (m->pool = pool_new(workers, m->cfg.crypto_queue)) == NULL)
		return E_NOMEM;
	if ((r = load_key(m)) != 0 || (r = open_store(m)) != 0 || (r = open_listeners(m)) != 0 ||
	    (r = disco_open(m)) != 0 || (r = open_timers(m)) != 0)
		return r;
	log_info("overlay prefix %u.%u.%u.%u/%u, %u crypto workers, registration %s",
		 m->cfg.prefix >> 24, (m->cfg.prefix >> 16) & 255, (m->cfg.prefix >> 8) & 255,
		 m->cfg.prefix & 255, m->cfg.prefix_len, workers,
		 m->cfg.registration_open ? "open" : "by token");
	return 0;
}

/* Group commit, then the writes it allows. A failed commit means the changes of this turn
 * are not durable: nothing acknowledging them may leave, so the process ends here and a
 * restart reloads the last durable state. */
static int
end_turn(struct med *m)
{
	int r;

	if (store_dirty(m->store) && (r = store_commit(m->store)) != 0) {
		log_err("store commit failed (%s); exiting without acknowledging it",
			store_error(m->store));
		return r;
	}
	conn_flush_all(m);
	conn_reap(m);
	return 0;
}

static int
open_signals(struct med *m, struct epoll_slot *slot, int *fd)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	signal(SIGPIPE, SIG_IGN);
	if (sigprocmask(SIG_BLOCK, &set, NULL) != 0 ||
	    (*fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) < 0)
		return E_IO;
	return med_watch(m, *fd, EPOLLIN, slot);
}

int
med_run(struct med *m)
{
	struct epoll_event ev[EPOLL_BATCH];
	struct epoll_slot sig_slot = {NULL, NULL};
	int sfd = -1, r;

	if ((r = open_signals(m, &sig_slot, &sfd)) != 0)
		return r;
	log_info("ready");
	for (;;) {
		int n = epoll_wait(m->epfd, ev, EPOLL_BATCH, 1000);

		if (n < 0 && errno != EINTR) {
			r = E_IO;
			break;
		}
		m->now = time(NULL);
		for (int i = 0; i < n; i++) {
			struct epoll_slot *s = ev[i].data.ptr;

			if (s == &sig_slot)
				goto out;
			s->fn(s->obj, ev[i].events);
		}
		if ((r = end_turn(m)) != 0)
			break;
	}
out:
	log_info("shutting down");
	close(sfd);
	return r;
}

/* Tells every node the server is going away (best effort: one flush, no waiting), then
 * closes. Their peers hear of it as a lost connection: the nodes will be back. */
static void
close_all(struct med *m)
{
	struct list_node *pos, *tmp;

	list_for_each_safe(pos, tmp, &m->conns)
	{
		struct conn *c = container_of(pos, struct conn, link);

		c->lost = c->state == CONN_ONLINE;
		conn_send_error(m, c, E_SHUTDOWN, "");
	}
	if (m->store != NULL && store_dirty(m->store) && store_commit(m->store) != 0)
		return;
	conn_flush_all(m);
	list_for_each_safe(pos, tmp, &m->conns) conn_close(m, container_of(pos, struct conn, link));
}

static void
free_tunnel(struct hmap_node *n, void *arg)
{
	(void)arg;
	free(container_of(n, struct tunnel, by_pair));
}

static void
free_network(struct hmap_node *n, void *arg)
{
	struct network *net = container_of(n, struct network, by_name);

	(void)arg;
	while (net->n_members > 0)
		network_remove_member(net, net->members[net->n_members - 1]);
	network_free(net);
}

static void
free_account(struct hmap_node *n, void *arg)
{
	(void)arg;
	account_free(container_of(n, struct account, by_id));
}

/* The in-memory state; the store holds everything that matters. */
static void
free_state(struct med *m)
{
	hmap_each(&m->tunnels, free_tunnel, NULL);
	hmap_each(&m->networks, free_network, NULL);
	hmap_each(&m->accounts_by_id, free_account, NULL);
	hmap_fini(&m->tunnels);
	hmap_fini(&m->networks);
	hmap_fini(&m->networks_by_id);
	hmap_fini(&m->accounts_by_kfp);
	hmap_fini(&m->accounts_by_id);
}

void
med_fini(struct med *m)
{
	if (m->epfd > 0)
		close_all(m);
	if (m->pool != NULL)
		pool_free(m->pool);
	conn_reap(m);
	store_close(m->store);
	disco_close(m);
	free_state(m);
	ratelimit_free(m->rl);
	pubkey_free(m->key);
	crypto_free(m->crypto);
	free(m->body);
	free(m->enc);
	free(m->sealed);
	if (m->tls != NULL)
		SSL_CTX_free(m->tls);
}
