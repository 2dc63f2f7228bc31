/* SPDX-License-Identifier: MIT */
/*
 * The mediator's application messages end to end (PROTOCOL.md section 9): a real
 * buri-mediator on loopback, driven by several registered test clients over TCP.
 *
 *   usage: test_mediator_net BURI_MEDIATOR
 *
 * Covered: networks (create, join, leave, delete, password, lock, approval, member
 * operations and roles), texts (welcome, announcements, chat, IM, inbox acknowledgement, the
 * offline limit, size limits), network limits, nicknames, tunnel brokering (SPIs, keys,
 * endpoint candidates, discovery probes), tunnel teardown, lost sessions, the login sync, and
 * the network state across a kill -9 of the server.
 *
 * Each scenario uses fresh nodes and network names, so scenarios do not see each other's
 * state; the server runs with small limits (LIMITS below) so that the limits show in a few
 * messages. Every wait is bounded. TAP output; the server's log is printed on failure.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/crypto.h"
#include "common/err.h"
#include "common/msg.h"
#include "common/pubkey.h"
#include "common/relay.h"
#include "common/util.h"
#include "medclient.h"
#include "medproc.h"
#include "test.h"

TEST_DEFINE_STATE;

enum {
	WAIT_MS = 3000,	 /* for something that must happen */
	QUIET_MS = 400,	 /* for something that must not happen */
	LOGIN_MS = 5000, /* a login: DH and two RSA operations on the server's pool */
	MAX_NODES = 96,
	REQ_FAILED = 1, /* a request got no RESULT; never a status (those are <= 0) */
	LOST_GRACE = 2, /* seconds, limits.lost_grace below */
	OFFLINE_MAX = 3,
	TEXT_MAX = 100,
	UNKNOWN_ID = 0x0a000001, /* outside the overlay prefix: never an account */
};

/* Small limits make each limit visible with a few nodes. Fast password hashes and generous
 * handshake rates keep the run short (every client connects from 127.0.0.1). */
/* The relay's secret in LIMITS: bytes 0, 1, ..., 31. */
#define RELAY_SECRET_HEX "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

static const char LIMITS[] = "limits = {\n"
			     "  members_per_network = 3;\n"
			     "  networks_per_node = 2;\n"
			     "  offline_messages = 3;\n"
			     "  text_max = 100;\n"
			     "  lost_grace = 2;\n"
			     "  handshakes_per_second = 1000;\n"
			     "  handshake_burst = 1000;\n"
			     "  password_iterations = 1000;\n"
			     "};\n"
			     "relay = {\n"
			     "  address = \"198.51.100.2\";\n"
			     "  udp_port = 7790;\n"
			     "  tcp_port = 0;\n"
			     "  secret = \"" RELAY_SECRET_HEX "\";\n"
			     "  grant_lifetime = 600;\n"
			     "};\n";

struct node {
	char nick[WIRE_NICK_MAX + 1];
	struct pubkey *key;
	uint8_t der[WIRE_PUBKEY_MAX];
	size_t der_len;
	uint32_t id;
	struct medclient *mc; /* NULL while logged out */
};

struct env {
	struct medproc *mp;
	struct node nodes[MAX_NODES];
	unsigned int n_nodes;
	struct crypto *crypto;
};

/* For the atexit handler: the one server this program runs and its clients. */
static struct env *the_env;

/* What a notification must match: zero fields match anything. */
struct want {
	const char *net;
	uint32_t id; /* MEMBER identity, TUNNEL / TUNNEL DOWN / PEER LOST peer, TEXT from */
	uint8_t role;
	uint8_t reason;
	uint8_t kind;
};

#define W(...) (&(struct want){__VA_ARGS__})

/* --- the server --- */

/* Every exit: the clients go, the server's log is shown if a check failed, the server is
 * stopped and its directory removed. Signals are medproc_guard()'s. */
static void
env_cleanup(void)
{
	struct env *e = the_env;

	if (e == NULL)
		return;
	the_env = NULL;
	for (unsigned int i = 0; i < e->n_nodes; i++) {
		mc_close(e->nodes[i].mc);
		pubkey_free(e->nodes[i].key);
	}
	if (e->mp != NULL && test_state.failed_total > 0) {
		printf("# mediator log (%s):\n", e->mp->log);
		medproc_dump_log(e->mp, stdout, 400);
	}
	medproc_cleanup(e->mp);
	crypto_free(e->crypto);
}

/* --- nodes --- */

static struct span
sp(const char *s)
{
	return (struct span){(const uint8_t *)s, strlen(s)};
}

static bool
span_is(const struct span *s, const char *str)
{
	return s->len == strlen(str) && memcmp(s->p, str, s->len) == 0;
}

static void
span_copy(char *out, size_t cap, const struct span *s)
{
	size_t n = MIN(s->len, cap - 1);

	memcpy(out, s->p, n);
	out[n] = '\0';
}

static int
node_login(struct env *e, struct node *n)
{
	int r;

	if (n->mc != NULL)
		return 0;
	if ((n->mc = mc_connect(NULL, e->mp->tcp_port, false, WAIT_MS)) == NULL)
		return E_IO;
	if ((r = mc_login(n->mc, e->mp->kfp, e->mp->server_key, n->key, n->id, LOGIN_MS)) != 0) {
		mc_close(n->mc);
		n->mc = NULL;
		printf("# login of %s: %s\n", n->nick, err_str(r));
	}
	return r;
}

/* A new node, registered and online. On failure the node stays (offline, id 0) and every
 * check that uses it fails, so callers need no special path. */
static struct node *
node_new(struct env *e, const char *nick)
{
	struct node *n;
	int r = E_NOMEM;

	if (e->n_nodes == MAX_NODES) {
		printf("# Bail out! more than %d nodes\n", MAX_NODES);
		exit(2);
	}
	n = &e->nodes[e->n_nodes++];
	memset(n, 0, sizeof(*n));
	snprintf(n->nick, sizeof(n->nick), "%s", nick);
	if ((n->key = pubkey_generate(2048)) == NULL ||
	    pubkey_to_der(n->key, n->der, sizeof(n->der), &n->der_len) != 0)
		goto fail;
	if ((n->mc = mc_connect(NULL, e->mp->tcp_port, false, WAIT_MS)) == NULL) {
		r = E_IO;
		goto fail;
	}
	if ((r = mc_register(n->mc, e->mp->kfp, e->mp->server_key, n->key, nick, NULL, &n->id,
			     LOGIN_MS)) != 0)
		goto fail;
	return n;
fail:
	test_fail(__FILE__, __LINE__, "cannot register a node");
	printf("# node %s: %s\n", nick, err_str(r));
	mc_close(n->mc);
	n->mc = NULL;
	return n;
}

/* The next message of type matching w, within ms; 0 and *out (may be NULL), or E_TIMEOUT. */
static bool match(const struct msg *m, void *arg);

static int
wait_for(struct node *n, uint16_t type, const struct want *w, struct msg *out, int ms)
{
	struct msg tmp;

	if (n->mc == NULL)
		return E_STATE;
	return mc_wait(n->mc, type, match, (void *)w, out != NULL ? out : &tmp, ms);
}

static bool
match(const struct msg *m, void *arg)
{
	const struct want *w = arg;
	const struct span *net = NULL;
	uint32_t id = 0;
	uint8_t role = 0, reason = 0, kind = 0;

	switch (m->type) {
	case MSG_NET:
		net = &m->u.net.name;
		role = m->u.net.role;
		break;
	case MSG_NET_GONE:
		net = &m->u.net_gone.name;
		reason = m->u.net_gone.reason;
		break;
	case MSG_MEMBER:
		net = &m->u.member.name;
		id = m->u.member.identity;
		role = m->u.member.role;
		break;
	case MSG_MEMBER_GONE:
		net = &m->u.member_gone.name;
		id = m->u.member_gone.identity;
		reason = m->u.member_gone.reason;
		break;
	case MSG_TUNNEL:
		id = m->u.tunnel.peer;
		break;
	case MSG_RELAY:
		id = m->u.relay.peer;
		break;
	case MSG_TUNNEL_DOWN:
	case MSG_PEER_LOST:
		id = m->u.peer.peer;
		reason = m->u.peer.reason;
		break;
	case MSG_TEXT:
		net = &m->u.text.net;
		id = m->u.text.from;
		kind = m->u.text.kind;
		break;
	default:
		break;
	}
	return (w->net == NULL || (net != NULL && span_is(net, w->net))) &&
	       (w->id == 0 || w->id == id) && (w->role == 0 || w->role == role) &&
	       (w->reason == 0 || w->reason == reason) && (w->kind == 0 || w->kind == kind);
}

static const char *
want_str(const struct want *w, char *buf, size_t cap)
{
	snprintf(buf, cap, "net %s id %08x role %u reason %u kind %u", w->net ? w->net : "*", w->id,
		 w->role, w->reason, w->kind);
	return buf;
}

/* Checks that n gets a message of type matching w (copied to *out, may be NULL). */
#define EXPECT(n, type, w, out) expect_at(__LINE__, (n), (type), (w), (out))
/* Checks that n gets no such message within QUIET_MS. */
#define EXPECT_NONE(n, type, w) expect_none_at(__LINE__, (n), (type), (w))

static bool
expect_at(int line, struct node *n, uint16_t type, const struct want *w, struct msg *out)
{
	char what[256], buf[160];
	int r;

	if ((r = wait_for(n, type, w, out, WAIT_MS)) == 0)
		return true;
	snprintf(what, sizeof(what), "%s did not get %s (%s): %s", n->nick, msg_name(type),
		 want_str(w, buf, sizeof(buf)), err_str(r));
	test_fail(__FILE__, line, what);
	return false;
}

static bool
expect_none_at(int line, struct node *n, uint16_t type, const struct want *w)
{
	char what[256], buf[160];
	struct msg m;

	if (n->mc == NULL || wait_for(n, type, w, &m, QUIET_MS) != 0)
		return true;
	snprintf(what, sizeof(what), "%s got an unexpected %s (%s)", n->nick, msg_name(type),
		 want_str(w, buf, sizeof(buf)));
	test_fail(__FILE__, line, what);
	return false;
}

/* How many messages of type are queued already (the socket is not read). Notifications a
 * request causes for its sender come before its RESULT, so they are queued once it is in. */
static int
queued(const struct node *n, uint16_t type)
{
	uint16_t t;
	int k = 0;

	for (size_t i = 0; n->mc != NULL && (t = mc_peek_type(n->mc, i)) != 0; i++)
		k += t == type;
	return k;
}

static void
drain(struct node *n)
{
	if (n->mc != NULL)
		mc_drain(n->mc, 50);
}

/* --- requests: each returns the RESULT status (0 or a negative E_*) or REQ_FAILED --- */

static int
request(struct node *n, struct msg *m, char *text, size_t cap)
{
	char buf[WIRE_TEXT_MAX + 1];
	int status = REQ_FAILED, r;

	if (n->mc == NULL)
		return REQ_FAILED;
	if (text == NULL) {
		text = buf;
		cap = sizeof(buf);
	}
	if ((r = mc_request(n->mc, m, &status, text, cap, WAIT_MS)) != 0) {
		printf("# %s from %s: no RESULT: %s\n", msg_name(m->type), n->nick, err_str(r));
		return REQ_FAILED;
	}
	return status;
}

static int
net_req_text(struct node *n, uint16_t type, const char *name, const char *pass, char *text,
	     size_t cap)
{
	struct msg m = {.type = type};

	m.u.net_req.name = sp(name);
	m.u.net_req.pass = sp(pass);
	return request(n, &m, text, cap);
}

static int
net_req(struct node *n, uint16_t type, const char *name, const char *pass)
{
	return net_req_text(n, type, name, pass, NULL, 0);
}

static int
create(struct node *n, const char *name, const char *pass)
{
	return net_req(n, MSG_NET_CREATE, name, pass);
}

static int
join(struct node *n, const char *name, const char *pass)
{
	return net_req(n, MSG_NET_JOIN, name, pass);
}

static int
leave(struct node *n, const char *name)
{
	return net_req(n, MSG_NET_LEAVE, name, "");
}

static int
flag(struct node *n, const char *name, uint8_t which, uint8_t on)
{
	struct msg m = {.type = MSG_NET_FLAG};

	m.u.net_flag.name = sp(name);
	m.u.net_flag.flag = which;
	m.u.net_flag.on = on;
	return request(n, &m, NULL, 0);
}

static int
member_op(struct node *n, const char *name, uint32_t who, uint8_t op)
{
	struct msg m = {.type = MSG_NET_MEMBER};

	m.u.net_member.name = sp(name);
	m.u.net_member.member = who;
	m.u.net_member.op = op;
	return request(n, &m, NULL, 0);
}

static int
net_text(struct node *n, const char *name, uint8_t kind, const char *text)
{
	struct msg m = {.type = MSG_NET_TEXT};

	m.u.net_text.name = sp(name);
	m.u.net_text.kind = kind;
	m.u.net_text.text = sp(text);
	return request(n, &m, NULL, 0);
}

static int
im(struct node *n, uint32_t to, const char *text)
{
	struct msg m = {.type = MSG_IM};

	m.u.im.to = to;
	m.u.im.text = sp(text);
	return request(n, &m, NULL, 0);
}

static int
inbox_ack(struct node *n, uint64_t upto)
{
	struct msg m = {.type = MSG_INBOX_ACK};

	m.u.inbox_ack.upto = upto;
	return request(n, &m, NULL, 0);
}

static int
nick(struct node *n, const char *s)
{
	struct msg m = {.type = MSG_NICK};

	m.u.nick.nick = sp(s);
	return request(n, &m, NULL, 0);
}

static int
endpoints(struct node *n, uint8_t nat, const struct msg_cand *c, uint8_t k)
{
	struct msg m = {.type = MSG_ENDPOINTS};

	m.u.endpoints.nat = nat;
	m.u.endpoints.n = k;
	memcpy(m.u.endpoints.cand, c, k * sizeof(*c));
	return request(n, &m, NULL, 0);
}

static int
sync_req(struct node *n)
{
	struct msg m = {.type = MSG_SYNC};

	return request(n, &m, NULL, 0);
}

/* LOGOUT, then the server closes the connection. */
static int
node_logout(struct node *n)
{
	struct msg m = {.type = MSG_LOGOUT};
	int status, err;

	if (n->mc == NULL)
		return 0;
	status = request(n, &m, NULL, 0);
	if (status == 0 && !mc_closed(n->mc, &err, WAIT_MS))
		status = E_STATE;
	mc_close(n->mc);
	n->mc = NULL;
	return status;
}

/* The connection closes without LOGOUT, as when a node's network goes away. */
static void
node_drop(struct node *n)
{
	if (n->mc == NULL)
		return;
	shutdown(mc_fd(n->mc), SHUT_RDWR);
	mc_close(n->mc);
	n->mc = NULL;
}

/* Logs out (cleanly) every node of a finished scenario. */
static void
logout_all(struct node **v, size_t k)
{
	for (size_t i = 0; i < k; i++)
		node_logout(v[i]);
}

#define LOGOUT_ALL(...)                                                                            \
	logout_all((struct node *[]){__VA_ARGS__},                                                 \
		   sizeof((struct node *[]){__VA_ARGS__}) / sizeof(struct node *))

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* --- scenarios: networks --- */

/* o owns "c1", a is a member, b not yet. */
static void
t_leave_delete(struct node *o, struct node *a, struct node *b)
{
	TEST_START("net leave and delete: owner cannot leave, only the owner deletes");
	ASSERT_INT_EQ(join(b, "c1", "pw-c1"), 0);
	ASSERT_INT_EQ(member_op(o, "c1", b->id, MEMBER_PROMOTE), 0);
	ASSERT_INT_EQ(net_req(b, MSG_NET_DELETE, "c1", ""), E_NOTALLOWED);
	ASSERT_INT_EQ(net_req(a, MSG_NET_DELETE, "c1", ""), E_NOTALLOWED);
	ASSERT_INT_EQ(leave(o, "c1"), E_NOTALLOWED);
	drain(o);
	drain(b);
	ASSERT_INT_EQ(leave(a, "c1"), 0);
	EXPECT(a, MSG_NET_GONE, W(.net = "c1", .reason = GONE_LEFT), NULL);
	EXPECT(o, MSG_MEMBER_GONE, W(.net = "c1", .id = a->id, .reason = GONE_LEFT), NULL);
	EXPECT(b, MSG_MEMBER_GONE, W(.net = "c1", .id = a->id, .reason = GONE_LEFT), NULL);
	ASSERT_INT_EQ(leave(a, "c1"), E_NOTFOUND);
	ASSERT_INT_EQ(net_req(o, MSG_NET_DELETE, "c1", ""), 0);
	EXPECT(o, MSG_NET_GONE, W(.net = "c1", .reason = GONE_DELETED), NULL);
	EXPECT(b, MSG_NET_GONE, W(.net = "c1", .reason = GONE_DELETED), NULL);
	ASSERT_INT_EQ(join(a, "c1", "pw-c1"), E_NOTFOUND);
	TEST_DONE();
}

static void
t_create_join_leave(struct env *e)
{
	struct node *o = node_new(e, "c-owner"), *a = node_new(e, "c-alice"),
		    *b = node_new(e, "c-bob");
	struct msg m;

	TEST_START("net create: password required, owner role, own member row, unique name");
	ASSERT_INT_EQ(create(o, "c1", ""), E_INVAL);
	ASSERT_INT_EQ(create(o, "c1", "pw-c1"), 0);
	ASSERT_INT_EQ(queued(o, MSG_NET), 1);
	if (EXPECT(o, MSG_NET, W(.net = "c1"), &m)) {
		ASSERT_INT_EQ(m.u.net.role, ROLE_OWNER);
		ASSERT_INT_EQ(m.u.net.flags, 4); /* online, not locked, no approval */
		ASSERT_INT_EQ(m.u.net.members, 1);
	}
	if (EXPECT(o, MSG_MEMBER, W(.net = "c1", .id = o->id), &m)) {
		ASSERT_INT_EQ(m.u.member.role, ROLE_OWNER);
		ASSERT_TRUE(span_is(&m.u.member.nick, "c-owner"));
		ASSERT_INT_EQ(m.u.member.online, 1);
		ASSERT_INT_EQ(m.u.member.pubkey.len, o->der_len);
		if (m.u.member.pubkey.len == o->der_len)
			ASSERT_MEM_EQ(m.u.member.pubkey.p, o->der, o->der_len);
	}
	ASSERT_INT_EQ(create(a, "c1", "other"), E_EXISTS);
	TEST_DONE();

	TEST_START("net join: wrong password, unknown network, rows both ways, twice");
	ASSERT_INT_EQ(join(a, "c1", "wrong"), E_PASSWORD);
	ASSERT_INT_EQ(join(a, "c-none", "pw-c1"), E_NOTFOUND);
	ASSERT_INT_EQ(join(a, "c1", "pw-c1"), 0);
	if (EXPECT(a, MSG_NET, W(.net = "c1"), &m)) {
		ASSERT_INT_EQ(m.u.net.role, ROLE_MEMBER);
		ASSERT_INT_EQ(m.u.net.members, 2);
	}
	EXPECT(a, MSG_MEMBER, W(.net = "c1", .id = o->id, .role = ROLE_OWNER), NULL);
	EXPECT(a, MSG_MEMBER, W(.net = "c1", .id = a->id, .role = ROLE_MEMBER), NULL);
	if (EXPECT(o, MSG_MEMBER, W(.net = "c1", .id = a->id), &m)) {
		ASSERT_INT_EQ(m.u.member.role, ROLE_MEMBER);
		ASSERT_TRUE(span_is(&m.u.member.nick, "c-alice"));
		ASSERT_INT_EQ(m.u.member.pubkey.len, a->der_len);
	}
	ASSERT_INT_EQ(join(a, "c1", "pw-c1"), E_EXISTS);
	TEST_DONE();
	t_leave_delete(o, a, b);
	LOGOUT_ALL(o, a, b);
}

static void
t_password(struct env *e)
{
	struct node *o = node_new(e, "p-owner"), *a = node_new(e, "p-admin"),
		    *m = node_new(e, "p-member");

	TEST_START("net pass: owner and admin change it, member may not; old refused, new works");
	ASSERT_INT_EQ(create(o, "p1", "first"), 0);
	ASSERT_INT_EQ(join(a, "p1", "first"), 0);
	ASSERT_INT_EQ(join(m, "p1", "first"), 0);
	ASSERT_INT_EQ(member_op(o, "p1", a->id, MEMBER_PROMOTE), 0);
	ASSERT_INT_EQ(net_req(m, MSG_NET_PASS, "p1", "mine"), E_NOTALLOWED);
	ASSERT_INT_EQ(net_req(o, MSG_NET_PASS, "p1", ""), E_INVAL);
	ASSERT_INT_EQ(net_req(o, MSG_NET_PASS, "p1", "second"), 0);
	ASSERT_INT_EQ(leave(m, "p1"), 0);
	ASSERT_INT_EQ(join(m, "p1", "first"), E_PASSWORD);
	ASSERT_INT_EQ(join(m, "p1", "mine"), E_PASSWORD);
	ASSERT_INT_EQ(join(m, "p1", "second"), 0);
	ASSERT_INT_EQ(net_req(a, MSG_NET_PASS, "p1", "third"), 0);
	ASSERT_INT_EQ(leave(m, "p1"), 0);
	ASSERT_INT_EQ(join(m, "p1", "second"), E_PASSWORD);
	ASSERT_INT_EQ(join(m, "p1", "third"), 0);
	TEST_DONE();
	LOGOUT_ALL(o, a, m);
}

static void
t_lock(struct env *e)
{
	struct node *o = node_new(e, "l-owner"), *m = node_new(e, "l-member"),
		    *j = node_new(e, "l-joiner");
	struct msg msg;

	TEST_START("net flag locked: members cannot lock, a locked network refuses joins");
	ASSERT_INT_EQ(create(o, "l1", "pw"), 0);
	ASSERT_INT_EQ(join(m, "l1", "pw"), 0);
	ASSERT_INT_EQ(flag(m, "l1", NETFLAG_LOCKED, 1), E_NOTALLOWED);
	drain(o);
	drain(m);
	ASSERT_INT_EQ(flag(o, "l1", NETFLAG_LOCKED, 1), 0);
	if (EXPECT(o, MSG_NET, W(.net = "l1"), &msg))
		ASSERT_INT_EQ(msg.u.net.flags, 1 | 4);
	if (EXPECT(m, MSG_NET, W(.net = "l1"), &msg))
		ASSERT_INT_EQ(msg.u.net.flags, 1 | 4);
	ASSERT_INT_EQ(join(j, "l1", "pw"), E_LOCKED);
	ASSERT_INT_EQ(flag(m, "l1", NETFLAG_LOCKED, 0), E_NOTALLOWED);
	ASSERT_INT_EQ(flag(o, "l1", NETFLAG_LOCKED, 0), 0);
	if (EXPECT(m, MSG_NET, W(.net = "l1"), &msg))
		ASSERT_INT_EQ(msg.u.net.flags, 4);
	ASSERT_INT_EQ(join(j, "l1", "pw"), 0);
	TEST_DONE();
	LOGOUT_ALL(o, m, j);
}

static void
t_approval(struct env *e)
{
	struct node *o = node_new(e, "a-owner"), *m = node_new(e, "a-member"),
		    *j1 = node_new(e, "a-joiner1"), *j2 = node_new(e, "a-joiner2");
	char text[128] = "";
	struct msg msg;

	TEST_START("approval: the joiner waits as pending, sees nothing, gets no tunnel");
	ASSERT_INT_EQ(create(o, "a1", "pw"), 0);
	ASSERT_INT_EQ(join(m, "a1", "pw"), 0);
	ASSERT_INT_EQ(flag(m, "a1", NETFLAG_APPROVAL, 1), E_NOTALLOWED);
	drain(o);
	ASSERT_INT_EQ(flag(o, "a1", NETFLAG_APPROVAL, 1), 0);
	if (EXPECT(o, MSG_NET, W(.net = "a1", .role = ROLE_OWNER), &msg))
		ASSERT_INT_EQ(msg.u.net.flags, 2 | 4);
	drain(o);
	drain(m);
	drain(j1);
	ASSERT_INT_EQ(net_req_text(j1, MSG_NET_JOIN, "a1", "pw", text, sizeof(text)), 0);
	ASSERT_STR_EQ(text, "awaiting approval");
	if (EXPECT(j1, MSG_NET, W(.net = "a1"), &msg)) {
		ASSERT_INT_EQ(msg.u.net.role, ROLE_PENDING);
		ASSERT_INT_EQ(msg.u.net.members, 2); /* pending ones excluded */
	}
	EXPECT_NONE(j1, MSG_MEMBER, W(.net = "a1"));
	EXPECT_NONE(j1, MSG_TUNNEL, W(0));
	EXPECT(o, MSG_MEMBER, W(.net = "a1", .id = j1->id, .role = ROLE_PENDING), NULL);
	EXPECT_NONE(m, MSG_MEMBER, W(.net = "a1", .id = j1->id));
	EXPECT_NONE(o, MSG_TUNNEL, W(.id = j1->id));
	TEST_DONE();

	TEST_START("approval: members cannot approve; approved joiner gets rows and tunnels");
	ASSERT_INT_EQ(member_op(m, "a1", j1->id, MEMBER_APPROVE), E_NOTALLOWED);
	ASSERT_INT_EQ(member_op(o, "a1", j1->id, MEMBER_APPROVE), 0);
	EXPECT(j1, MSG_NET, W(.net = "a1", .role = ROLE_MEMBER), NULL);
	EXPECT(j1, MSG_MEMBER, W(.net = "a1", .id = o->id, .role = ROLE_OWNER), NULL);
	EXPECT(j1, MSG_MEMBER, W(.net = "a1", .id = m->id, .role = ROLE_MEMBER), NULL);
	EXPECT(j1, MSG_MEMBER, W(.net = "a1", .id = j1->id, .role = ROLE_MEMBER), NULL);
	EXPECT(j1, MSG_TUNNEL, W(.id = o->id), NULL);
	EXPECT(j1, MSG_TUNNEL, W(.id = m->id), NULL);
	EXPECT(o, MSG_TUNNEL, W(.id = j1->id), NULL);
	EXPECT(m, MSG_TUNNEL, W(.id = j1->id), NULL);
	EXPECT(m, MSG_MEMBER, W(.net = "a1", .id = j1->id, .role = ROLE_MEMBER), NULL);
	ASSERT_INT_EQ(member_op(o, "a1", j1->id, MEMBER_APPROVE), E_NOTFOUND);
	TEST_DONE();

	TEST_START("approval: an admin sees pending joiners and rejects them");
	ASSERT_INT_EQ(member_op(o, "a1", m->id, MEMBER_PROMOTE), 0);
	ASSERT_INT_EQ(leave(j1, "a1"), 0);
	drain(m);
	drain(o);
	ASSERT_INT_EQ(join(j2, "a1", "pw"), 0);
	EXPECT(j2, MSG_NET, W(.net = "a1", .role = ROLE_PENDING), NULL);
	EXPECT(m, MSG_MEMBER, W(.net = "a1", .id = j2->id, .role = ROLE_PENDING), NULL);
	ASSERT_INT_EQ(member_op(m, "a1", j2->id, MEMBER_REJECT), 0);
	EXPECT(j2, MSG_NET_GONE, W(.net = "a1", .reason = GONE_REJECTED), NULL);
	EXPECT(o, MSG_MEMBER_GONE, W(.net = "a1", .id = j2->id, .reason = GONE_REJECTED), NULL);
	ASSERT_INT_EQ(leave(j2, "a1"), E_NOTFOUND);
	TEST_DONE();
	LOGOUT_ALL(o, m, j1, j2);
}

static void
t_evict_ban(struct env *e)
{
	struct node *o = node_new(e, "e-owner"), *a = node_new(e, "e-admin"),
		    *m = node_new(e, "e-member"), *x = node_new(e, "e-stranger");

	TEST_START("evict and ban: who may act on whom");
	ASSERT_INT_EQ(create(o, "e1", "pw"), 0);
	ASSERT_INT_EQ(join(a, "e1", "pw"), 0);
	ASSERT_INT_EQ(join(m, "e1", "pw"), 0);
	ASSERT_INT_EQ(member_op(o, "e1", a->id, MEMBER_PROMOTE), 0);
	ASSERT_INT_EQ(member_op(m, "e1", a->id, MEMBER_EVICT), E_NOTALLOWED);
	ASSERT_INT_EQ(member_op(m, "e1", x->id, MEMBER_BAN), E_NOTALLOWED);
	ASSERT_INT_EQ(member_op(a, "e1", o->id, MEMBER_EVICT), E_NOTALLOWED);
	ASSERT_INT_EQ(member_op(a, "e1", o->id, MEMBER_BAN), E_NOTALLOWED);
	ASSERT_INT_EQ(member_op(o, "e1", m->id, MEMBER_PROMOTE), 0);
	ASSERT_INT_EQ(member_op(a, "e1", m->id, MEMBER_EVICT), E_NOTALLOWED);
	ASSERT_INT_EQ(member_op(a, "e1", m->id, MEMBER_BAN), E_NOTALLOWED);
	ASSERT_INT_EQ(member_op(o, "e1", m->id, MEMBER_DEMOTE), 0);
	ASSERT_INT_EQ(member_op(a, "e1", x->id, MEMBER_EVICT), E_NOTFOUND);
	ASSERT_INT_EQ(member_op(a, "e1", UNKNOWN_ID, MEMBER_EVICT), E_NOTFOUND);
	TEST_DONE();

	TEST_START("evict: the evicted node may rejoin with the password");
	drain(o);
	ASSERT_INT_EQ(member_op(a, "e1", m->id, MEMBER_EVICT), 0);
	EXPECT(m, MSG_NET_GONE, W(.net = "e1", .reason = GONE_EVICTED), NULL);
	EXPECT(o, MSG_MEMBER_GONE, W(.net = "e1", .id = m->id, .reason = GONE_EVICTED), NULL);
	ASSERT_INT_EQ(join(m, "e1", "pw"), 0);
	TEST_DONE();

	TEST_START("ban: banned node cannot rejoin, managers see the ban; unban lets it back");
	drain(o);
	drain(a);
	ASSERT_INT_EQ(member_op(a, "e1", m->id, MEMBER_BAN), 0);
	EXPECT(m, MSG_NET_GONE, W(.net = "e1", .reason = GONE_BANNED), NULL);
	EXPECT(o, MSG_MEMBER_GONE, W(.net = "e1", .id = m->id, .reason = GONE_BANNED), NULL);
	EXPECT(o, MSG_MEMBER, W(.net = "e1", .id = m->id, .role = ROLE_BANNED), NULL);
	EXPECT(a, MSG_MEMBER, W(.net = "e1", .id = m->id, .role = ROLE_BANNED), NULL);
	ASSERT_INT_EQ(join(m, "e1", "pw"), E_BANNED);
	ASSERT_INT_EQ(member_op(a, "e1", x->id, MEMBER_UNBAN), E_NOTFOUND);
	ASSERT_INT_EQ(member_op(a, "e1", m->id, MEMBER_UNBAN), 0);
	EXPECT(o, MSG_MEMBER_GONE, W(.net = "e1", .id = m->id, .reason = GONE_UNBANNED), NULL);
	ASSERT_INT_EQ(join(m, "e1", "pw"), 0);
	TEST_DONE();
	LOGOUT_ALL(o, a, m, x);
}

static void
t_promote(struct env *e)
{
	struct node *o = node_new(e, "r-owner"), *a = node_new(e, "r-admin"),
		    *m = node_new(e, "r-member");

	TEST_START("promote and demote: owner only; rights follow the role");
	ASSERT_INT_EQ(create(o, "r1", "pw"), 0);
	ASSERT_INT_EQ(join(a, "r1", "pw"), 0);
	ASSERT_INT_EQ(join(m, "r1", "pw"), 0);
	ASSERT_INT_EQ(member_op(o, "r1", a->id, MEMBER_PROMOTE), 0);
	ASSERT_INT_EQ(member_op(a, "r1", m->id, MEMBER_PROMOTE), E_NOTALLOWED);
	ASSERT_INT_EQ(member_op(a, "r1", a->id, MEMBER_DEMOTE), E_NOTALLOWED);
	ASSERT_INT_EQ(flag(m, "r1", NETFLAG_LOCKED, 1), E_NOTALLOWED);
	drain(o);
	drain(a);
	drain(m);
	ASSERT_INT_EQ(member_op(o, "r1", m->id, MEMBER_PROMOTE), 0);
	EXPECT(m, MSG_NET, W(.net = "r1", .role = ROLE_ADMIN), NULL);
	EXPECT(o, MSG_MEMBER, W(.net = "r1", .id = m->id, .role = ROLE_ADMIN), NULL);
	EXPECT(a, MSG_MEMBER, W(.net = "r1", .id = m->id, .role = ROLE_ADMIN), NULL);
	ASSERT_INT_EQ(flag(m, "r1", NETFLAG_LOCKED, 1), 0);
	ASSERT_INT_EQ(flag(m, "r1", NETFLAG_LOCKED, 0), 0);
	drain(m);
	drain(o);
	ASSERT_INT_EQ(member_op(o, "r1", m->id, MEMBER_DEMOTE), 0);
	EXPECT(m, MSG_NET, W(.net = "r1", .role = ROLE_MEMBER), NULL);
	EXPECT(o, MSG_MEMBER, W(.net = "r1", .id = m->id, .role = ROLE_MEMBER), NULL);
	ASSERT_INT_EQ(flag(m, "r1", NETFLAG_LOCKED, 1), E_NOTALLOWED);
	TEST_DONE();
	LOGOUT_ALL(o, a, m);
}

static void
t_limits(struct env *e)
{
	struct node *o = node_new(e, "f-owner"), *a = node_new(e, "f-a"), *b = node_new(e, "f-b"),
		    *c = node_new(e, "f-c");

	TEST_START("limits: members_per_network and networks_per_node");
	ASSERT_INT_EQ(create(o, "f1", "pw"), 0);
	ASSERT_INT_EQ(join(a, "f1", "pw"), 0);
	ASSERT_INT_EQ(join(b, "f1", "pw"), 0);
	ASSERT_INT_EQ(join(c, "f1", "pw"), E_FULL);
	ASSERT_INT_EQ(create(c, "f2", "pw"), 0);
	ASSERT_INT_EQ(create(c, "f3", "pw"), 0);
	ASSERT_INT_EQ(create(c, "f4", "pw"), E_NETLIMIT);
	ASSERT_INT_EQ(create(a, "f5", "pw"), 0);
	ASSERT_INT_EQ(join(c, "f5", "pw"), E_NETLIMIT);
	ASSERT_INT_EQ(leave(b, "f1"), 0);
	ASSERT_INT_EQ(join(c, "f1", "pw"), E_NETLIMIT);
	TEST_DONE();
	LOGOUT_ALL(o, a, b, c);
}

static void
t_nick(struct env *e)
{
	struct node *o = node_new(e, "k-owner"), *a = node_new(e, "k-alice");
	struct msg m;

	TEST_START("nick: the other members get a MEMBER row with the new nickname");
	ASSERT_INT_EQ(create(o, "k1", "pw"), 0);
	ASSERT_INT_EQ(join(a, "k1", "pw"), 0);
	drain(o);
	ASSERT_INT_EQ(nick(a, "k-alice-renamed"), 0);
	if (EXPECT(o, MSG_MEMBER, W(.net = "k1", .id = a->id), &m))
		ASSERT_TRUE(span_is(&m.u.member.nick, "k-alice-renamed"));
	TEST_DONE();
	LOGOUT_ALL(o, a);
}

/* --- scenarios: texts --- */

static void
t_welcome(struct env *e)
{
	struct node *o = node_new(e, "w-owner"), *a = node_new(e, "w-admin"),
		    *j = node_new(e, "w-joiner"), *o2 = node_new(e, "w-owner2"),
		    *j2 = node_new(e, "w-joiner2");
	struct msg m;

	TEST_START("welcome: set by an admin, delivered to a new member on joining");
	ASSERT_INT_EQ(create(o, "w1", "pw"), 0);
	ASSERT_INT_EQ(join(a, "w1", "pw"), 0);
	ASSERT_INT_EQ(member_op(o, "w1", a->id, MEMBER_PROMOTE), 0);
	ASSERT_INT_EQ(net_text(a, "w1", NETTEXT_WELCOME, "hello from w1"), 0);
	ASSERT_INT_EQ(join(j, "w1", "pw"), 0);
	if (EXPECT(j, MSG_TEXT, W(.kind = TEXT_WELCOME), &m)) {
		ASSERT_TRUE(span_is(&m.u.text.text, "hello from w1"));
		ASSERT_TRUE(span_is(&m.u.text.net, "w1"));
		ASSERT_INT_NE(m.u.text.id, 0);
	}
	ASSERT_INT_EQ(net_text(j, "w1", NETTEXT_WELCOME, "mine"), E_NOTALLOWED);
	TEST_DONE();

	TEST_START("welcome: approved while offline, delivered at the next login");
	ASSERT_INT_EQ(create(o2, "w2", "pw"), 0);
	ASSERT_INT_EQ(flag(o2, "w2", NETFLAG_APPROVAL, 1), 0);
	ASSERT_INT_EQ(net_text(o2, "w2", NETTEXT_WELCOME, "welcome to w2"), 0);
	ASSERT_INT_EQ(join(j2, "w2", "pw"), 0);
	EXPECT_NONE(j2, MSG_TEXT, W(.kind = TEXT_WELCOME));
	ASSERT_INT_EQ(node_logout(j2), 0);
	ASSERT_INT_EQ(member_op(o2, "w2", j2->id, MEMBER_APPROVE), 0);
	ASSERT_INT_EQ(node_login(e, j2), 0);
	EXPECT(j2, MSG_NET, W(.net = "w2", .role = ROLE_MEMBER), NULL);
	if (EXPECT(j2, MSG_TEXT, W(.kind = TEXT_WELCOME), &m)) {
		ASSERT_TRUE(span_is(&m.u.text.text, "welcome to w2"));
		ASSERT_TRUE(span_is(&m.u.text.net, "w2"));
	}
	TEST_DONE();
	LOGOUT_ALL(o, a, j, o2, j2);
}

static void
t_texts_offline(struct env *e)
{
	struct node *o = node_new(e, "t-owner"), *b1 = node_new(e, "t-member1"),
		    *b2 = node_new(e, "t-member2");
	uint64_t ids[2] = {0, 0};
	struct msg m;

	TEST_START("announce and IM to offline nodes: delivered at the next login");
	ASSERT_INT_EQ(create(o, "t1", "pw"), 0);
	ASSERT_INT_EQ(join(b1, "t1", "pw"), 0);
	ASSERT_INT_EQ(join(b2, "t1", "pw"), 0);
	ASSERT_INT_EQ(net_text(b1, "t1", NETTEXT_ANNOUNCE, "not mine to say"), E_NOTALLOWED);
	ASSERT_INT_EQ(node_logout(b2), 0);
	ASSERT_INT_EQ(im(b1, b2->id, "direct to offline"), 0);
	ASSERT_INT_EQ(node_logout(b1), 0);
	ASSERT_INT_EQ(net_text(o, "t1", NETTEXT_ANNOUNCE, "news for t1"), 0);
	ASSERT_INT_EQ(node_login(e, b1), 0);
	if (EXPECT(b1, MSG_TEXT, W(.kind = TEXT_ANNOUNCE, .net = "t1"), &m)) {
		ASSERT_TRUE(span_is(&m.u.text.text, "news for t1"));
		ASSERT_INT_EQ(m.u.text.from, o->id);
		ASSERT_TRUE(span_is(&m.u.text.nick, "t-owner"));
		ASSERT_INT_NE(m.u.text.id, 0);
		ASSERT_TRUE(llabs((long long)m.u.text.time - (long long)time(NULL)) <= 5);
	}
	ASSERT_INT_EQ(node_login(e, b2), 0);
	if (EXPECT(b2, MSG_TEXT, W(.kind = TEXT_ANNOUNCE, .net = "t1"), &m)) {
		ASSERT_TRUE(span_is(&m.u.text.text, "news for t1"));
		ids[0] = m.u.text.id;
	}
	if (EXPECT(b2, MSG_TEXT, W(.kind = TEXT_IM, .id = b1->id), &m)) {
		ASSERT_TRUE(span_is(&m.u.text.text, "direct to offline"));
		ASSERT_TRUE(span_is(&m.u.text.nick, "t-member1"));
		ASSERT_INT_EQ(m.u.text.net.len, 0);
		ids[1] = m.u.text.id;
	}
	ASSERT_INT_NE(ids[0], ids[1]);
	TEST_DONE();

	TEST_START("inbox ack: unacknowledged texts come back, acknowledged ones do not");
	ASSERT_INT_EQ(node_logout(b2), 0);
	ASSERT_INT_EQ(node_login(e, b2), 0);
	if (EXPECT(b2, MSG_TEXT, W(.kind = TEXT_ANNOUNCE), &m))
		ASSERT_INT_EQ(m.u.text.id, ids[0]);
	if (EXPECT(b2, MSG_TEXT, W(.kind = TEXT_IM), &m))
		ASSERT_INT_EQ(m.u.text.id, ids[1]);
	ASSERT_INT_EQ(inbox_ack(b2, MAX(ids[0], ids[1])), 0);
	ASSERT_INT_EQ(node_logout(b2), 0);
	ASSERT_INT_EQ(node_login(e, b2), 0);
	EXPECT(b2, MSG_SYNC_DONE, W(0), NULL);
	EXPECT_NONE(b2, MSG_TEXT, W(0));
	TEST_DONE();
	LOGOUT_ALL(o, b1, b2);
}

static void
t_texts_online(struct env *e)
{
	struct node *o = node_new(e, "u-owner"), *b1 = node_new(e, "u-online"),
		    *b2 = node_new(e, "u-offline");
	struct msg m;

	TEST_START("online: announce, chat and IM arrive at once; chat is not stored");
	ASSERT_INT_EQ(create(o, "u1", "pw"), 0);
	ASSERT_INT_EQ(join(b1, "u1", "pw"), 0);
	ASSERT_INT_EQ(join(b2, "u1", "pw"), 0);
	ASSERT_INT_EQ(node_logout(b2), 0);
	ASSERT_INT_EQ(net_text(o, "u1", NETTEXT_ANNOUNCE, "live news"), 0);
	if (EXPECT(b1, MSG_TEXT, W(.kind = TEXT_ANNOUNCE, .net = "u1"), &m)) {
		ASSERT_TRUE(span_is(&m.u.text.text, "live news"));
		ASSERT_INT_EQ(m.u.text.from, o->id);
		ASSERT_INT_NE(m.u.text.id, 0);
	}
	ASSERT_INT_EQ(net_text(b1, "u1", NETTEXT_CHAT, "chat line"), 0);
	if (EXPECT(o, MSG_TEXT, W(.kind = TEXT_CHAT, .net = "u1"), &m)) {
		ASSERT_TRUE(span_is(&m.u.text.text, "chat line"));
		ASSERT_INT_EQ(m.u.text.from, b1->id);
		ASSERT_INT_EQ(m.u.text.id, 0);
		ASSERT_TRUE(span_is(&m.u.text.nick, "u-online"));
	}
	ASSERT_INT_EQ(im(b1, o->id, "direct to online"), 0);
	if (EXPECT(o, MSG_TEXT, W(.kind = TEXT_IM, .id = b1->id), &m)) {
		ASSERT_TRUE(span_is(&m.u.text.text, "direct to online"));
		ASSERT_TRUE(span_is(&m.u.text.nick, "u-online"));
		ASSERT_INT_EQ(m.u.text.net.len, 0);
		ASSERT_INT_NE(m.u.text.id, 0);
	}
	ASSERT_INT_EQ(node_login(e, b2), 0);
	EXPECT(b2, MSG_TEXT, W(.kind = TEXT_ANNOUNCE, .net = "u1"), NULL);
	EXPECT_NONE(b2, MSG_TEXT, W(.kind = TEXT_CHAT));
	TEST_DONE();
	LOGOUT_ALL(o, b1, b2);
}

static void
t_texts_limits(struct env *e)
{
	struct node *o = node_new(e, "v-owner"), *b = node_new(e, "v-member"),
		    *s = node_new(e, "v-stranger");
	char big[TEXT_MAX + 2];
	struct msg m;

	TEST_START("texts: strangers cannot write, and text_max holds");
	ASSERT_INT_EQ(create(o, "v1", "pw"), 0);
	ASSERT_INT_EQ(join(b, "v1", "pw"), 0);
	ASSERT_INT_EQ(im(s, o->id, "hello stranger"), E_NOTALLOWED);
	ASSERT_INT_EQ(im(o, s->id, "hello stranger"), E_NOTALLOWED);
	ASSERT_INT_EQ(im(o, UNKNOWN_ID, "nobody"), E_NOTFOUND);
	memset(big, 'x', sizeof(big));
	big[TEXT_MAX + 1] = '\0';
	ASSERT_INT_EQ(im(o, b->id, big), E_TOOBIG);
	ASSERT_INT_EQ(net_text(o, "v1", NETTEXT_CHAT, big), E_TOOBIG);
	ASSERT_INT_EQ(net_text(o, "v1", NETTEXT_ANNOUNCE, big), E_TOOBIG);
	ASSERT_INT_EQ(net_text(o, "v1", NETTEXT_WELCOME, big), E_TOOBIG);
	big[TEXT_MAX] = '\0';
	ASSERT_INT_EQ(node_logout(b), 0);
	ASSERT_INT_EQ(im(o, b->id, big), 0);
	ASSERT_INT_EQ(node_login(e, b), 0);
	if (EXPECT(b, MSG_TEXT, W(.kind = TEXT_IM, .id = o->id), &m))
		ASSERT_INT_EQ(m.u.text.text.len, TEXT_MAX);
	TEST_DONE();
	LOGOUT_ALL(o, b, s);
}

static void
t_offline_limit(struct env *e)
{
	struct node *s = node_new(e, "o-sender"), *r = node_new(e, "o-receiver");
	bool seen[5] = {false};
	char text[16];
	struct msg m;
	int k = 0;

	TEST_START("offline limit: the newest 3 are kept, a notice counts the dropped ones");
	ASSERT_INT_EQ(create(s, "o1", "pw"), 0);
	ASSERT_INT_EQ(join(r, "o1", "pw"), 0);
	ASSERT_INT_EQ(node_logout(r), 0);
	for (int i = 0; i < 5; i++) {
		snprintf(text, sizeof(text), "offline %d", i);
		ASSERT_INT_EQ(im(s, r->id, text), 0);
	}
	ASSERT_INT_EQ(node_login(e, r), 0);
	if (EXPECT(r, MSG_TEXT, W(.kind = TEXT_NOTICE), &m)) {
		char note[WIRE_TEXT_MAX + 1];

		span_copy(note, sizeof(note), &m.u.text.text);
		printf("# notice: %s\n", note);
		ASSERT_TRUE(strstr(note, "2") != NULL);
		ASSERT_INT_EQ(m.u.text.from, 0);
	}
	while (wait_for(r, MSG_TEXT, W(.kind = TEXT_IM), &m, QUIET_MS) == 0) {
		k++;
		for (int i = 0; i < 5; i++) {
			snprintf(text, sizeof(text), "offline %d", i);
			if (span_is(&m.u.text.text, text))
				seen[i] = true;
		}
	}
	ASSERT_INT_EQ(k, OFFLINE_MAX);
	ASSERT_TRUE(!seen[0] && !seen[1] && seen[2] && seen[3] && seen[4]);
	TEST_DONE();
	LOGOUT_ALL(s, r);
}

/* --- scenarios: tunnels --- */

/* A DISCO PROBE (PROTOCOL.md 7.3, section 9) from fd to port; mac_ok false spoils its MAC. */
static int
send_probe(struct env *e, int fd, uint16_t port, uint32_t id, const uint8_t key[20],
	   const uint8_t nonce[8], bool mac_ok)
{
	uint8_t d[4 + 34] = {0}, full[CRYPTO_SHA1_LEN], *b = d + 4;
	struct span part = {b, 22};
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(port)};

	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	store_be16(b, MSG_DISCO_PROBE);
	store_be32(b + 2, id);
	memcpy(b + 6, nonce, 8);
	if (crypto_hmac_sha1(e->crypto, key, MSG_DISCO_KEY_LEN, &part, 1, full) != 0)
		return E_CRYPTO;
	memcpy(b + 22, full, WIRE_MAC_LEN);
	if (!mac_ok)
		b[22] ^= 1;
	if (sendto(fd, d, sizeof(d), 0, (struct sockaddr *)&to, sizeof(to)) != (ssize_t)sizeof(d))
		return E_IO;
	return 0;
}

/* A datagram on fd within ms, or -1. */
static ssize_t
recv_within(int fd, uint8_t *buf, size_t cap, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};

	if (poll(&p, 1, ms) != 1)
		return -1;
	return recv(fd, buf, cap, 0);
}

/* Probes the first discovery port from a fresh UDP socket and checks the reply. The socket's
 * port in *port; the socket stays open in *fdp so that the mapping stays meaningful. */
static void
check_disco(struct env *e, struct node *n, int *fdp, uint16_t *port)
{
	const struct msg_session *s = n->mc != NULL ? mc_session(n->mc) : NULL;
	struct sockaddr_in me = {.sin_family = AF_INET};
	socklen_t ml = sizeof(me);
	uint8_t nonce[8] = {1, 2, 3, 4, 5, 6, 7, 8}, buf[256], full[CRYPTO_SHA1_LEN];
	struct msg m;
	ssize_t len;
	int fd;

	*fdp = -1;
	*port = 0;
	ASSERT_TRUE(s != NULL && s->n_ports >= 1);
	if (s == NULL || s->n_ports < 1)
		return;
	me.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	ASSERT_TRUE(fd >= 0 && bind(fd, (struct sockaddr *)&me, sizeof(me)) == 0 &&
		    getsockname(fd, (struct sockaddr *)&me, &ml) == 0);
	*fdp = fd;
	*port = ntohs(me.sin_port);
	ASSERT_INT_EQ(send_probe(e, fd, s->disco_port[0], n->id, s->disco_key, nonce, true), 0);
	len = recv_within(fd, buf, sizeof(buf), WAIT_MS);
	ASSERT_INT_EQ(len, 4 + 30);
	if (len != 4 + 30)
		return;
	ASSERT_INT_EQ(load_be32(buf), 0);
	ASSERT_INT_EQ(msg_decode(MSG_CH_DISCO_S2C, buf + 4, 30, &m), 0);
	ASSERT_INT_EQ(m.type, MSG_DISCO_REPLY);
	ASSERT_MEM_EQ(m.u.disco_reply.nonce, nonce, 8);
	ASSERT_INT_EQ(m.u.disco_reply.addr, INADDR_LOOPBACK);
	ASSERT_INT_EQ(m.u.disco_reply.port, *port);
	ASSERT_INT_EQ(m.u.disco_reply.server_port, s->disco_port[0]);
	ASSERT_INT_EQ(crypto_hmac_sha1(e->crypto, s->disco_key, MSG_DISCO_KEY_LEN,
				       &(struct span){buf + 4, 18}, 1, full),
		      0);
	ASSERT_MEM_EQ(buf + 4 + 18, full, WIRE_MAC_LEN);

	nonce[0] = 9;
	ASSERT_INT_EQ(send_probe(e, fd, s->disco_port[0], n->id, s->disco_key, nonce, false), 0);
	ASSERT_INT_EQ(recv_within(fd, buf, sizeof(buf), QUIET_MS), -1);
}

static bool
cand_eq(const struct msg_cand *a, const struct msg_cand *b)
{
	return a->addr == b->addr && a->port == b->port && a->kind == b->kind;
}

/* Both TUNNELs of a pair: SPIs crossed, non-zero and different, peer and key right. */
static void
check_pair(struct node *p, struct node *q, const struct msg *tp, const struct msg *tq)
{
	const struct msg_tunnel *a = &tp->u.tunnel, *b = &tq->u.tunnel;

	ASSERT_INT_EQ(a->peer, q->id);
	ASSERT_INT_EQ(b->peer, p->id);
	ASSERT_INT_EQ(a->my_spi, b->peer_spi);
	ASSERT_INT_EQ(a->peer_spi, b->my_spi);
	ASSERT_INT_NE(a->my_spi, 0);
	ASSERT_INT_NE(a->peer_spi, 0);
	ASSERT_INT_NE(a->my_spi, a->peer_spi);
	/* the top bit is the nodes' (rekeyed SAs), never the mediator's */
	ASSERT_INT_EQ(a->my_spi & WIRE_SPI_NODE, 0);
	ASSERT_INT_EQ(a->peer_spi & WIRE_SPI_NODE, 0);
	ASSERT_INT_EQ(a->pubkey.len, q->der_len);
	if (a->pubkey.len == q->der_len)
		ASSERT_MEM_EQ(a->pubkey.p, q->der, q->der_len);
	ASSERT_INT_EQ(b->pubkey.len, p->der_len);
	if (b->pubkey.len == p->der_len)
		ASSERT_MEM_EQ(b->pubkey.p, p->der, p->der_len);
}

/* The grant of n for its tunnel to peer: the relay of LIMITS, and a token that relay_token
 * makes from the relay's secret and the grant's fields. */
static bool
relay_grant(struct node *n, const struct node *peer, struct msg_relay *out)
{
	uint8_t secret[RELAY_SECRET_LEN], token[MSG_RELAY_TOKEN_LEN];
	struct crypto *c = crypto_new();
	struct msg m;
	bool ok;

	for (unsigned i = 0; i < sizeof(secret); i++)
		secret[i] = (uint8_t)i;
	ok = c != NULL && EXPECT(n, MSG_RELAY, W(.id = peer->id), &m);
	if (ok) {
		*out = m.u.relay;
		ok = relay_token(c, secret, out->session, out->expiry, out->side, n->id, peer->id,
				 token) == 0 &&
		     memcmp(token, out->token, sizeof(token)) == 0;
	}
	crypto_free(c);
	return ok;
}

static void
check_relay(struct node *p, struct node *q)
{
	struct msg_relay gp, gq;
	time_t now = time(NULL);

	ASSERT_TRUE(relay_grant(p, q, &gp));
	ASSERT_TRUE(relay_grant(q, p, &gq));
	ASSERT_MEM_EQ(gp.session, gq.session, sizeof(gp.session));
	ASSERT_INT_EQ(gp.side + gq.side, 1);
	ASSERT_INT_EQ(gp.addr, 0xc6336402);
	ASSERT_INT_EQ(gp.udp_port, 7790);
	ASSERT_INT_EQ(gp.tcp_port, 0);
	ASSERT_TRUE(gp.expiry >= now + 590 && gp.expiry <= now + 610);
	ASSERT_TRUE(memcmp(gp.token, gq.token, sizeof(gp.token)) != 0);
}

static void
t_tunnel(struct env *e)
{
	struct node *p = node_new(e, "tb-p"), *q = node_new(e, "tb-q"), *t = node_new(e, "tb-t");
	const struct msg_cand c1[2] = {{0x0a000005, 4000, CAND_LOCAL},
				       {0xc6336407, 5000, CAND_REPORTED}};
	const struct msg_cand c2[2] = {{0x0a000006, 4001, CAND_LOCAL},
				       {0xc6336408, 5001, CAND_REPORTED}};
	struct msg tp, tq, m;
	struct msg_cand observed = {INADDR_LOOPBACK, 0, CAND_OBSERVED};
	uint32_t spi_p = 0, spi_q = 0;
	int fd;

	TEST_START("discovery: probe answered with the observed address, bad MAC ignored");
	ASSERT_INT_EQ(endpoints(p, NAT_EIM, c1, 2), 0);
	check_disco(e, p, &fd, &observed.port);
	TEST_DONE();

	TEST_START("tunnel: both sides get the SPI pair, the peer's key and candidates");
	ASSERT_INT_EQ(create(p, "tb1", "pw"), 0);
	drain(p);
	ASSERT_INT_EQ(join(q, "tb1", "pw"), 0);
	if (EXPECT(p, MSG_TUNNEL, W(.id = q->id), &tp) &&
	    EXPECT(q, MSG_TUNNEL, W(.id = p->id), &tq)) {
		check_pair(p, q, &tp, &tq);
		spi_p = tp.u.tunnel.my_spi;
		spi_q = tq.u.tunnel.my_spi;
		ASSERT_INT_EQ(tq.u.tunnel.peer_nat, NAT_EIM);
		ASSERT_INT_EQ(tq.u.tunnel.n, 3);
		ASSERT_TRUE(cand_eq(&tq.u.tunnel.cand[0], &c1[0]));
		ASSERT_TRUE(cand_eq(&tq.u.tunnel.cand[1], &c1[1]));
		ASSERT_TRUE(cand_eq(&tq.u.tunnel.cand[2], &observed));
		ASSERT_INT_EQ(tp.u.tunnel.n, 0);
	}
	TEST_DONE();

	TEST_START(
		"tunnel: both sides get a relay grant for one session, tokens the relay can make");
	check_relay(p, q);
	TEST_DONE();

	TEST_START("tunnel: new endpoints reach the peer with the same SPIs");
	drain(p);
	ASSERT_INT_EQ(endpoints(p, NAT_EDM, c2, 2), 0);
	if (EXPECT(q, MSG_TUNNEL, W(.id = p->id), &m)) {
		ASSERT_INT_EQ(m.u.tunnel.my_spi, spi_q);
		ASSERT_INT_EQ(m.u.tunnel.peer_spi, spi_p);
		ASSERT_INT_EQ(m.u.tunnel.peer_nat, NAT_EDM);
		ASSERT_INT_EQ(m.u.tunnel.n, 3);
		ASSERT_TRUE(cand_eq(&m.u.tunnel.cand[0], &c2[0]));
		ASSERT_TRUE(cand_eq(&m.u.tunnel.cand[1], &c2[1]));
		ASSERT_TRUE(cand_eq(&m.u.tunnel.cand[2], &observed));
	}
	EXPECT_NONE(p, MSG_TUNNEL, W(.id = q->id));
	TEST_DONE();

	TEST_START("tunnel: a node in no shared network gets none");
	ASSERT_INT_EQ(create(t, "tb2", "pw"), 0);
	EXPECT_NONE(t, MSG_TUNNEL, W(0));
	EXPECT_NONE(p, MSG_TUNNEL, W(.id = t->id));
	EXPECT_NONE(q, MSG_TUNNEL, W(.id = t->id));
	TEST_DONE();
	if (fd >= 0)
		close(fd);
	LOGOUT_ALL(p, q, t);
}

/* q joins p's network "name" and both get a TUNNEL for each other; drains both first. */
static bool
pair_up(struct node *p, struct node *q, const char *name)
{
	drain(p);
	drain(q);
	if (join(q, name, "pw") != 0)
		return false;
	return EXPECT(p, MSG_TUNNEL, W(.id = q->id), NULL) &&
	       EXPECT(q, MSG_TUNNEL, W(.id = p->id), NULL);
}

static void
expect_down(struct node *p, struct node *q, uint8_t reason)
{
	EXPECT(p, MSG_TUNNEL_DOWN, W(.id = q->id, .reason = reason), NULL);
	EXPECT(q, MSG_TUNNEL_DOWN, W(.id = p->id, .reason = reason), NULL);
}

static void
t_teardown(struct env *e)
{
	struct node *p = node_new(e, "td-p"), *q = node_new(e, "td-q");

	TEST_START("tunnel down on leave, evict, ban, delete: no shared network");
	ASSERT_INT_EQ(create(p, "td1", "pw"), 0);
	ASSERT_TRUE(pair_up(p, q, "td1"));
	ASSERT_INT_EQ(leave(q, "td1"), 0);
	expect_down(p, q, DOWN_NO_SHARED_NETWORK);
	ASSERT_TRUE(pair_up(p, q, "td1"));
	ASSERT_INT_EQ(member_op(p, "td1", q->id, MEMBER_EVICT), 0);
	expect_down(p, q, DOWN_NO_SHARED_NETWORK);
	ASSERT_TRUE(pair_up(p, q, "td1"));
	ASSERT_INT_EQ(member_op(p, "td1", q->id, MEMBER_BAN), 0);
	expect_down(p, q, DOWN_NO_SHARED_NETWORK);
	ASSERT_INT_EQ(member_op(p, "td1", q->id, MEMBER_UNBAN), 0);
	ASSERT_TRUE(pair_up(p, q, "td1"));
	ASSERT_INT_EQ(net_req(p, MSG_NET_DELETE, "td1", ""), 0);
	expect_down(p, q, DOWN_NO_SHARED_NETWORK);
	TEST_DONE();

	TEST_START("tunnel down on going offline in the network, back on going online");
	ASSERT_INT_EQ(create(p, "td2", "pw"), 0);
	ASSERT_TRUE(pair_up(p, q, "td2"));
	ASSERT_INT_EQ(flag(q, "td2", NETFLAG_ONLINE, 0), 0);
	expect_down(p, q, DOWN_PEER_OFFLINE);
	EXPECT(p, MSG_MEMBER, W(.net = "td2", .id = q->id), NULL);
	drain(p);
	ASSERT_INT_EQ(flag(q, "td2", NETFLAG_ONLINE, 1), 0);
	EXPECT(p, MSG_TUNNEL, W(.id = q->id), NULL);
	EXPECT(q, MSG_TUNNEL, W(.id = p->id), NULL);
	TEST_DONE();

	TEST_START("tunnel down on LOGOUT: peer offline, no PEER LOST");
	drain(p);
	ASSERT_INT_EQ(node_logout(q), 0);
	EXPECT(p, MSG_TUNNEL_DOWN, W(.id = q->id, .reason = DOWN_PEER_OFFLINE), NULL);
	EXPECT_NONE(p, MSG_PEER_LOST, W(.id = q->id));
	TEST_DONE();
	LOGOUT_ALL(p, q);
}

static void
t_peer_lost(struct env *e)
{
	struct node *p = node_new(e, "pl-p"), *q = node_new(e, "pl-q");
	struct msg tp, tq, m;
	double t0, dt;

	TEST_START("peer lost: a dropped session gives PEER LOST, its return the same SPIs");
	ASSERT_INT_EQ(create(p, "pl1", "pw"), 0);
	drain(p);
	ASSERT_INT_EQ(join(q, "pl1", "pw"), 0);
	if (!EXPECT(p, MSG_TUNNEL, W(.id = q->id), &tp) ||
	    !EXPECT(q, MSG_TUNNEL, W(.id = p->id), &tq)) {
		TEST_DONE();
		LOGOUT_ALL(p, q);
		return;
	}
	check_pair(p, q, &tp, &tq);
	drain(p);
	node_drop(q);
	EXPECT(p, MSG_PEER_LOST, W(.id = q->id), NULL);
	EXPECT_NONE(p, MSG_TUNNEL_DOWN, W(.id = q->id));
	ASSERT_INT_EQ(node_login(e, q), 0);
	if (EXPECT(p, MSG_TUNNEL, W(.id = q->id), &m)) {
		ASSERT_INT_EQ(m.u.tunnel.my_spi, tp.u.tunnel.my_spi);
		ASSERT_INT_EQ(m.u.tunnel.peer_spi, tp.u.tunnel.peer_spi);
	}
	if (EXPECT(q, MSG_TUNNEL, W(.id = p->id), &m)) {
		ASSERT_INT_EQ(m.u.tunnel.my_spi, tq.u.tunnel.my_spi);
		ASSERT_INT_EQ(m.u.tunnel.peer_spi, tq.u.tunnel.peer_spi);
	}
	TEST_DONE();

	TEST_START("peer lost: the tunnel goes down once lost_grace has passed");
	drain(p);
	node_drop(q);
	t0 = now_s();
	EXPECT(p, MSG_PEER_LOST, W(.id = q->id), NULL);
	if (wait_for(p, MSG_TUNNEL_DOWN, W(.id = q->id), &m, (LOST_GRACE + 4) * 1000) == 0) {
		dt = now_s() - t0;
		printf("# TUNNEL DOWN %.2f s after the drop (lost_grace %d s)\n", dt, LOST_GRACE);
		ASSERT_TRUE(dt >= LOST_GRACE - 0.5 && dt <= LOST_GRACE + 2.5);
	} else {
		test_fail(__FILE__, __LINE__, "no TUNNEL DOWN after lost_grace");
	}
	TEST_DONE();
	LOGOUT_ALL(p, q);
}

/* --- scenarios: sync and persistence --- */

/* The rows of a full sync of s in *q, as the sync and SYNC request send them. */
static void
check_sync_rows(struct node *s, struct node *m, struct node *p1, struct node *b)
{
	struct msg msg;

	if (EXPECT(s, MSG_NET, W(.net = "s1"), &msg)) {
		ASSERT_INT_EQ(msg.u.net.role, ROLE_OWNER);
		ASSERT_INT_EQ(msg.u.net.flags, 2 | 4);
		ASSERT_INT_EQ(msg.u.net.members, 2);
	}
	EXPECT(s, MSG_MEMBER, W(.net = "s1", .id = s->id, .role = ROLE_OWNER), NULL);
	if (EXPECT(s, MSG_MEMBER, W(.net = "s1", .id = m->id, .role = ROLE_MEMBER), &msg))
		ASSERT_INT_EQ(msg.u.member.online, 1);
	EXPECT(s, MSG_MEMBER, W(.net = "s1", .id = p1->id, .role = ROLE_PENDING), NULL);
	EXPECT(s, MSG_MEMBER, W(.net = "s1", .id = b->id, .role = ROLE_BANNED), NULL);
	EXPECT(s, MSG_NET, W(.net = "s2", .role = ROLE_PENDING), NULL);
	if (EXPECT(s, MSG_SYNC_DONE, W(0), &msg))
		ASSERT_INT_EQ(msg.u.sync_done.networks, 2);
	EXPECT_NONE(s, MSG_MEMBER, W(.net = "s2"));
}

/* The order of what a login sends (PROTOCOL.md 9, "Sync"), from the types queued once the
 * first TUNNEL is in: SESSION, NET each followed by its MEMBER rows, SYNC DONE, TUNNELs. */
static void
check_sync_order(struct node *n, int nets, int members)
{
	int state = 0, k_net = 0, k_member = 0, k_tunnel = 0;
	uint16_t t;

	ASSERT_TRUE(n->mc != NULL && mc_has(n->mc, MSG_TUNNEL, WAIT_MS));
	if (n->mc == NULL)
		return;
	for (size_t i = 0; (t = mc_peek_type(n->mc, i)) != 0; i++) {
		if (state == 0 && t == MSG_SESSION)
			state = 1;
		else if (state == 1 && t == MSG_NET)
			k_net++;
		else if (state == 1 && t == MSG_MEMBER && k_net > 0)
			k_member++;
		else if (state == 1 && t == MSG_SYNC_DONE)
			state = 2;
		else if (state == 2 && t == MSG_TUNNEL)
			k_tunnel++;
		else if (state == 2 && t == MSG_TEXT)
			state = 3;
		else if (state != 3 || t != MSG_TEXT) {
			printf("# message %zu of the sync: %s out of order; the sync was:\n", i,
			       msg_name(t));
			for (i = 0; (t = mc_peek_type(n->mc, i)) != 0; i++)
				printf("#   %zu %s\n", i, msg_name(t));
			test_fail(__FILE__, __LINE__, "sync order");
			return;
		}
	}
	ASSERT_INT_EQ(k_net, nets);
	ASSERT_INT_EQ(k_member, members);
	ASSERT_INT_EQ(k_tunnel, 1);
}

static void
t_sync(struct env *e)
{
	struct node *s = node_new(e, "s-self"), *m = node_new(e, "s-member"),
		    *p1 = node_new(e, "s-pending"), *b = node_new(e, "s-banned"),
		    *o2 = node_new(e, "s-owner2");
	struct msg msg;

	ASSERT_INT_EQ(create(s, "s1", "pw"), 0);
	ASSERT_INT_EQ(join(m, "s1", "pw"), 0);
	ASSERT_INT_EQ(flag(s, "s1", NETFLAG_APPROVAL, 1), 0);
	ASSERT_INT_EQ(join(p1, "s1", "pw"), 0);
	ASSERT_INT_EQ(member_op(s, "s1", b->id, MEMBER_BAN), 0);
	ASSERT_INT_EQ(create(o2, "s2", "pw"), 0);
	ASSERT_INT_EQ(flag(o2, "s2", NETFLAG_APPROVAL, 1), 0);
	ASSERT_INT_EQ(join(s, "s2", "pw"), 0);

	TEST_START("login sync: SESSION, NET and MEMBER rows, SYNC DONE, TUNNELs");
	ASSERT_INT_EQ(node_logout(s), 0);
	ASSERT_INT_EQ(node_login(e, s), 0);
	check_sync_order(s, 2, 4);
	if (EXPECT(s, MSG_SESSION, W(0), &msg)) {
		ASSERT_INT_EQ(msg.u.session.identity, s->id);
		ASSERT_TRUE(span_is(&msg.u.session.nick, "s-self"));
	}
	check_sync_rows(s, m, p1, b);
	EXPECT(s, MSG_TUNNEL, W(.id = m->id), NULL);
	EXPECT_NONE(s, MSG_TUNNEL, W(.id = p1->id));
	TEST_DONE();

	TEST_START("SYNC: the same rows, then RESULT");
	drain(s);
	ASSERT_INT_EQ(sync_req(s), 0);
	ASSERT_INT_EQ(queued(s, MSG_NET), 2);
	ASSERT_INT_EQ(queued(s, MSG_MEMBER), 4);
	ASSERT_INT_EQ(queued(s, MSG_SYNC_DONE), 1);
	check_sync_rows(s, m, p1, b);
	EXPECT_NONE(s, MSG_TUNNEL, W(0));
	TEST_DONE();
	LOGOUT_ALL(s, m, p1, b, o2);
}

/* After the restart: o owns the locked "x1", a is its admin, x a member with an IM waiting,
 * b banned, y a newcomer; the welcome is set. */
static void
restart_check(struct env *e, struct node *o, struct node *a, struct node *x, struct node *b,
	      struct node *y)
{
	struct msg m;

	ASSERT_INT_EQ(node_login(e, o), 0);
	if (EXPECT(o, MSG_NET, W(.net = "x1"), &m)) {
		ASSERT_INT_EQ(m.u.net.role, ROLE_OWNER);
		ASSERT_INT_EQ(m.u.net.flags, 1 | 4);
		ASSERT_INT_EQ(m.u.net.members, 3);
	}
	EXPECT(o, MSG_MEMBER, W(.net = "x1", .id = o->id, .role = ROLE_OWNER), NULL);
	EXPECT(o, MSG_MEMBER, W(.net = "x1", .id = a->id, .role = ROLE_ADMIN), NULL);
	EXPECT(o, MSG_MEMBER, W(.net = "x1", .id = x->id, .role = ROLE_MEMBER), NULL);
	EXPECT(o, MSG_MEMBER, W(.net = "x1", .id = b->id, .role = ROLE_BANNED), NULL);
	if (EXPECT(o, MSG_SYNC_DONE, W(0), &m))
		ASSERT_INT_EQ(m.u.sync_done.networks, 1);
	ASSERT_INT_EQ(node_login(e, a), 0);
	EXPECT(a, MSG_NET, W(.net = "x1", .role = ROLE_ADMIN), NULL);
	ASSERT_INT_EQ(node_login(e, x), 0);
	if (EXPECT(x, MSG_TEXT, W(.kind = TEXT_IM, .id = a->id), &m))
		ASSERT_TRUE(span_is(&m.u.text.text, "stored across restart"));
	ASSERT_INT_EQ(node_login(e, b), 0);
	ASSERT_INT_EQ(join(b, "x1", "pw"), E_BANNED);
	ASSERT_INT_EQ(node_login(e, y), 0);
	ASSERT_INT_EQ(join(y, "x1", "pw"), E_LOCKED);
	ASSERT_INT_EQ(leave(x, "x1"), 0);
	ASSERT_INT_EQ(flag(o, "x1", NETFLAG_LOCKED, 0), 0);
	ASSERT_INT_EQ(join(y, "x1", "pw"), 0);
	if (EXPECT(y, MSG_TEXT, W(.kind = TEXT_WELCOME), &m))
		ASSERT_TRUE(span_is(&m.u.text.text, "persisted welcome"));
}

static void
t_restart(struct env *e)
{
	struct node *o = node_new(e, "x-owner"), *a = node_new(e, "x-admin"),
		    *x = node_new(e, "x-member"), *b = node_new(e, "x-banned"),
		    *y = node_new(e, "x-late");
	struct node *all[] = {o, a, x, b, y};
	int r;

	TEST_START("restart: network state survives kill -9");
	ASSERT_INT_EQ(create(o, "x1", "pw"), 0);
	ASSERT_INT_EQ(join(a, "x1", "pw"), 0);
	ASSERT_INT_EQ(join(x, "x1", "pw"), 0);
	ASSERT_INT_EQ(member_op(o, "x1", a->id, MEMBER_PROMOTE), 0);
	ASSERT_INT_EQ(member_op(o, "x1", b->id, MEMBER_BAN), 0);
	ASSERT_INT_EQ(net_text(a, "x1", NETTEXT_WELCOME, "persisted welcome"), 0);
	ASSERT_INT_EQ(node_logout(x), 0);
	ASSERT_INT_EQ(im(a, x->id, "stored across restart"), 0);
	ASSERT_INT_EQ(flag(o, "x1", NETFLAG_LOCKED, 1), 0);
	ASSERT_INT_EQ(medproc_kill9(e->mp), 0); /* with the sessions still open */
	for (size_t i = 0; i < ARRAY_SIZE(all); i++) {
		mc_close(all[i]->mc);
		all[i]->mc = NULL;
	}
	if ((r = medproc_restart(e->mp, 10000)) != 0) {
		test_fail(__FILE__, __LINE__, "the mediator does not start again");
		printf("# restart: %s\n", err_str(r));
		TEST_DONE();
		return;
	}
	restart_check(e, o, a, x, b, y);
	TEST_DONE();
	LOGOUT_ALL(o, a, x, b, y);
}

int
main(int argc, char **argv)
{
	static struct env env;
	double t0 = now_s();

	if (argc != 2) {
		fprintf(stderr, "usage: %s BURI_MEDIATOR\n", argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if ((env.crypto = crypto_new()) == NULL) {
		printf("Bail out! no crypto\n");
		return 1;
	}
	medproc_guard();
	the_env = &env;
	atexit(env_cleanup);
	signal(SIGPIPE, SIG_IGN);
	alarm(120); /* a hung run still stops its server (medproc_guard) */
	if ((env.mp = medproc_start(argv[1], LIMITS, NULL, 10000)) == NULL) {
		printf("Bail out! cannot start %s\n", argv[1]);
		return 1;
	}
	t_create_join_leave(&env);
	t_password(&env);
	t_lock(&env);
	t_approval(&env);
	t_evict_ban(&env);
	t_promote(&env);
	t_limits(&env);
	t_nick(&env);
	t_welcome(&env);
	t_texts_offline(&env);
	t_texts_online(&env);
	t_texts_limits(&env);
	t_offline_limit(&env);
	t_tunnel(&env);
	t_teardown(&env);
	t_peer_lost(&env);
	t_sync(&env);
	t_restart(&env);
	printf("# %.1f s, %u nodes\n", now_s() - t0, env.n_nodes);
	return test_finish();
}
