/* SPDX-License-Identifier: MIT */
/*
 * buri-mediator: the process context and the objects every file shares.
 *
 * One thread runs the epoll loop and owns every object below; the worker pool (pool.h) runs
 * the public-key work of logins and the password hashing on other threads, and hands results
 * back through job completions, never by touching these objects.
 *
 * A loop turn: handle the ready descriptors (which may change memory and queue store writes
 * and outgoing messages), commit the store once (group commit), and only then write the
 * queued messages to the sockets, so nothing reaches a node before the change it reports is
 * durable (store.h).
 *
 * Ownership: struct med owns accounts, networks and tunnels (in its hash maps) and conns (in
 * its conn list). A member belongs to its network and is linked into its account's list; a
 * tunnel is linked into both accounts' lists. An account's conn pointer is borrowed and
 * cleared when the conn closes.
 */
#ifndef BURI_MED_H
#define BURI_MED_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "common/keymat.h"
#include "common/msg.h"
#include "common/relay.h"
#include "common/wire.h"
#include "mediator/hmap.h"
#include "mediator/list.h"
#include "mediator/pool.h"

struct crypto;
struct pubkey;
struct store;
struct store_account;
struct store_network;
struct store_member;
struct store_ban;
struct ssl_st;
struct ssl_ctx_st;

/* Settings, from configs/mediator.cfg and the command line (cfg.c). */
struct med_cfg {
	char config_path[256];
	char listen[64];
	unsigned int tcp_port, tls_port; /* tls_port 0: no TLS listener */
	unsigned int disco_ports[MSG_DISCO_PORTS_MAX];
	unsigned int n_disco_ports;
	char tls_cert[256], tls_key[256]; /* empty: ephemeral self-signed */
	char key_path[256];
	char store_backend[16], store_path[256];
	uint32_t prefix;
	unsigned int prefix_len;
	bool registration_open;
	char tokens[16][WIRE_TOKEN_MAX + 1];
	size_t n_tokens;
	unsigned int members_per_network, networks_per_node, bans_per_network;
	unsigned int offline_messages, text_max;
	unsigned int sessions, half_open, half_open_per_address;
	unsigned int handshake_rate, handshake_burst;		  /* per address, per second */
	unsigned int handshake_timeout, idle_timeout, lost_grace; /* seconds */
	unsigned int probe_rate;				  /* discovery probes/s per node */
	size_t output_max;					  /* bytes queued per conn */
	unsigned int workers, crypto_queue;
	unsigned int password_iterations;
	int log_level;
	bool log_syslog;
	/* the relay tunnels are granted (PROTOCOL.md 7.4); relay_addr 0: none */
	uint32_t relay_addr;
	unsigned int relay_udp_port, relay_tcp_port, relay_grant_s;
	uint8_t relay_secret[RELAY_SECRET_LEN];
};

/* What an epoll event's data.ptr points to. */
struct epoll_slot {
	void (*fn)(void *obj, uint32_t events);
	void *obj;
};

enum conn_state {
	CONN_TLS,      /* TLS handshake in progress (TLS listener only) */
	CONN_HELO,     /* waiting for HELO */
	CONN_HELO_JOB, /* DH running on the pool */
	CONN_AUTH,     /* waiting for AUTH or REGISTER */
	CONN_AUTH_JOB, /* signature check and AUTH OK signature running on the pool */
	CONN_ONLINE,   /* logged in */
	CONN_CLOSING,  /* flushing the last messages, then closed */
	CONN_DEAD,     /* closed; freed once no pool job refers to it */
};

/* Output: a chain of chunks, allocated only while bytes wait, so an idle session holds none. */
struct chunk {
	struct chunk *next;
	size_t len, off, cap;
	uint8_t data[];
};

struct login; /* session.c: handshake state, freed (wiped) once online */

struct conn {
	struct list_node link;	/* med.conns */
	struct list_node dirty; /* med.dirty while output waits */
	int fd;
	struct ssl_st *ssl; /* TLS listener connections */
	enum conn_state state;
	uint32_t ev_mask;      /* epoll events armed */
	bool paused;	       /* a pool job runs for it: input waits */
	bool write_wants_read; /* TLS: the last write needs input first */
	bool lost;	       /* closed without LOGOUT: peers get PEER LOST */
	bool half_open;	       /* counted in half_open counters */
	unsigned int jobs;     /* pool jobs that still refer to this conn */
	struct sockaddr_in peer;
	struct med *med;
	struct account *acct; /* once online */
	struct login *login;
	struct session_keys keys; /* i2r: node to mediator, r2i: mediator to node */
	uint32_t rx_last, tx_ctr; /* message IDs: last received, last sent */
	uint8_t disco_key[MSG_DISCO_KEY_LEN];
	/* input: the 4-byte size, then one frame buffer allocated per frame */
	uint8_t hdr[4];
	size_t hdr_len;
	uint8_t *frame;
	size_t frame_len, frame_got;
	/* output */
	struct chunk *out_head, *out_tail;
	size_t out_bytes;
	time_t deadline; /* handshake deadline, or frame completion deadline */
	time_t last_rx;	 /* for idle detection */
	bool ping_sent;
	struct epoll_slot slot;
};

struct cand_set {
	uint8_t nat;
	uint8_t n;
	struct msg_cand cand[MSG_CAND_MAX];
	bool have_observed;
	struct msg_cand observed; /* from the discovery probe to the first port */
};

struct account {
	struct hmap_node by_id, by_kfp;
	uint32_t id;
	struct pubkey *key;
	uint8_t *der;
	size_t der_len;
	uint8_t kfp[WIRE_KFP_LEN];
	char nick[WIRE_NICK_MAX + 1];
	uint32_t dropped;	  /* stored texts dropped since the last delivery */
	uint32_t inbox;		  /* stored texts waiting */
	struct conn *conn;	  /* online session, or NULL */
	struct list_head members; /* struct member.acct_link */
	struct list_head tunnels; /* struct tunnel_end.link */
	unsigned int n_nets;	  /* memberships, pending ones included */
	struct cand_set cands;
	double probe_tokens;
	struct timespec probe_ts;
};

struct member {
	struct network *net;
	struct account *acct;
	struct list_node acct_link;
	uint8_t role; /* ROLE_OWNER .. ROLE_PENDING */
	bool online;  /* the node's go-online switch for this network */
};

struct network {
	struct hmap_node by_name, by_id;
	uint64_t id;
	char name[MSG_NAME_MAX + 1];
	char *passhash;
	uint32_t owner;
	bool locked, approval;
	char *welcome;
	int64_t created;
	struct member **members; /* active and pending */
	unsigned int n_members, cap_members;
	uint32_t *bans;
	unsigned int n_bans, cap_bans;
};

/* One side of a tunnel, linked into that side's account list. */
struct tunnel_end {
	struct list_node link;
	struct tunnel *t;
};

struct tunnel {
	struct hmap_node by_pair;
	struct account *a[2];
	uint32_t spi[2]; /* spi[i]: inbound SPI of a[i] */
	uint8_t relay_session[MSG_RELAY_SESSION_LEN];
	struct tunnel_end end[2];
	time_t lost_since; /* one side lost its connection; 0 otherwise */
};

struct med_stats {
	unsigned long long accepted, logins, registrations, login_failures, rate_limited, busy;
	unsigned long long frames_in, frames_out, bad_frames, probes, probes_bad;
};

/* One UDP discovery port. */
struct disco_port {
	struct epoll_slot slot;
	struct med *m;
	int fd;
	uint16_t port;
	bool first; /* the port whose observations become the node's OBSERVED candidate */
};

struct med {
	struct med_cfg cfg;
	int epfd;
	volatile int *stop;
	struct crypto *crypto;
	struct pubkey *key;
	uint8_t kfp[WIRE_KFP_LEN];
	struct store *store;
	struct pool *pool;
	struct ssl_ctx_st *tls;
	int tcp_fd, tls_fd, tick_fd;
	struct epoll_slot tcp_slot, tls_slot, tick_slot, pool_slot;
	struct disco_port disco[MSG_DISCO_PORTS_MAX];
	struct hmap accounts_by_id, accounts_by_kfp, networks, networks_by_id, tunnels;
	struct list_head conns, dirty, dead;
	unsigned int n_conns, n_half_open;
	struct ratelimit *rl;
	uint64_t hash_key[2]; /* SipHash key for names (hash flooding) */
	uint32_t next_addr;
	time_t now;
	struct med_stats stats;
	uint8_t *body;	 /* scratch: the received body; decoded spans point here */
	uint8_t *enc;	 /* scratch: a body being sent (never aliases body) */
	uint8_t *sealed; /* scratch: one sealed frame (WIRE_TCP_SIZE_MAX + 4) */
};

/* cfg.c */
int cfg_load(struct med_cfg *cfg, int argc, char **argv);

/* med.c: setup, the loop and teardown */
int med_init(struct med *m);
int med_run(struct med *m);
void med_fini(struct med *m);
int med_watch(struct med *m, int fd, uint32_t events, struct epoll_slot *slot);
int med_listen(struct med *m, unsigned int port, int type, int *out);
int med_rewatch(struct med *m, int fd, uint32_t events, struct epoll_slot *slot);

/* conn.c */
void conn_accept(struct med *m, int lfd, bool tls);
int conn_send(struct med *m, struct conn *c, const struct msg *msg);
void conn_send_error(struct med *m, struct conn *c, int code, const char *text);
void conn_close(struct med *m, struct conn *c);
void conn_flush_all(struct med *m);
void conn_tick(struct med *m);
void conn_reap(struct med *m);
void conn_established(struct med *m, struct conn *c);
void conn_finish(struct med *m, struct conn *c);
void conn_resume(struct med *m, struct conn *c);

/* session.c */
int session_frame(struct med *m, struct conn *c, const uint8_t *f, size_t len);
void session_closed(struct med *m, struct conn *c);
bool session_busy(const struct conn *c);

/* request.c: requests of an online node. A handler returns a status for RESULT, or
 * REQ_PENDING when it finishes later (a pool job) and sends RESULT itself. */
#define REQ_PENDING 1
typedef int (*req_fn)(struct med *m, struct conn *c, const struct msg *msg);
int request_dispatch(struct med *m, struct conn *c, const struct msg *msg);
void request_result(struct med *m, struct conn *c, uint32_t tag, int status, const char *text);

/* account.c */
int account_load(struct med *m, const struct store_account *a);
struct account *account_by_id(struct med *m, uint32_t id);
struct account *account_by_kfp(struct med *m, const uint8_t kfp[WIRE_KFP_LEN]);
int account_create(struct med *m, struct pubkey *key, const struct span *nick,
		   struct account **out);
int account_set_nick(struct med *m, struct account *a, const struct span *nick);
bool account_online(const struct account *a);
void account_free(struct account *a);

/* network.c */
struct network *network_by_name(struct med *m, const struct span *name);
struct network *network_by_id(struct med *m, uint64_t id);
void network_set_id(struct med *m, struct network *n, uint64_t id);
struct network *network_new(struct med *m, const char *name, const char *passhash, uint32_t owner);
void network_unlink(struct med *m, struct network *n);
struct member *network_add_member(struct network *n, struct account *a, uint8_t role, bool online);
void network_remove_member(struct network *n, struct member *mb);
int network_add_ban(struct network *n, uint32_t id);
void network_remove_ban(struct network *n, uint32_t id);
void network_row(const struct network *n, struct store_network *sn);
struct member *network_member(const struct network *n, const struct account *a);
bool network_banned(const struct network *n, uint32_t id);
unsigned int network_count(const struct network *n, bool pending_too);
int network_load(struct med *m, const struct store_network *sn);
int network_load_member(struct med *m, const struct store_member *sm);
int network_load_ban(struct med *m, const struct store_ban *sb);
void network_free(struct network *n);

bool network_is_manager(const struct member *mb);
bool member_active(const struct member *mb);

/* netreq.c */
req_fn netreq_handler(uint16_t type);

/* presence.c: what nodes see of each other */
void presence_member_others(struct med *m, const struct member *mb);
void presence_ban(struct med *m, const struct network *n, const struct account *who);
void presence_session(struct med *m, struct account *a);
void presence_sync(struct med *m, struct account *a);
void presence_network_rows(struct med *m, const struct member *viewer);
void presence_member(struct med *m, const struct member *mb);
void presence_member_gone(struct med *m, const struct network *n, const struct account *who,
			  uint8_t role, uint8_t reason);
void presence_net(struct med *m, const struct member *mb);
void presence_net_all(struct med *m, const struct network *n);
void presence_account(struct med *m, struct account *a);
void presence_send_member(struct med *m, struct account *to, const struct member *mb);

/* broker.c: tunnels */
void broker_refresh(struct med *m, struct account *a);
void broker_online(struct med *m, struct account *a);
void broker_lost(struct med *m, struct account *a);
void broker_logout(struct med *m, struct account *a);
void broker_endpoints(struct med *m, struct account *a);
void broker_tick(struct med *m);
bool broker_shares(const struct account *a, const struct account *b, bool *member_only);

/* inbox.c: texts */
int inbox_store(struct med *m, struct account *to, uint8_t kind, const struct account *from,
		const char *net, const struct span *text);
void inbox_deliver(struct med *m, struct account *a);
int inbox_ack(struct med *m, struct account *a, uint64_t upto);
void inbox_push(struct med *m, struct account *to, uint64_t id, uint8_t kind,
		const struct account *from, const char *net, const struct span *text, int64_t t);

/* disco.c */
int disco_open(struct med *m);
void disco_close(struct med *m);

/* ratelimit.c: per-address handshake buckets and half-open counts */
struct ratelimit *ratelimit_new(unsigned int rate, unsigned int burst);
void ratelimit_free(struct ratelimit *r);
bool ratelimit_take(struct ratelimit *r, uint32_t addr, time_t now);
unsigned int *ratelimit_half_open(struct ratelimit *r, uint32_t addr);
void ratelimit_expire(struct ratelimit *r, time_t now);

/* Helpers for messages with text fields. */
static inline struct span
span_str(const char *s)
{
	struct span sp = {(const uint8_t *)s, s != NULL ? strlen(s) : 0};
	return sp;
}

#endif
