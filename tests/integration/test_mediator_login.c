/* SPDX-License-Identifier: MIT */
/*
 * The mediator's login (PROTOCOL.md sections 6, 7.1, 9 and 10) against the real server over
 * loopback: registration and AUTH, every refusal ending only its own session, frames that
 * are cut, forged or replayed, a stalled client (slowloris), a HELO flood from one address,
 * the TLS fallback, persistence across kill -9, a replaced session and LOGOUT.
 *
 *   usage: test_mediator_login BURI_MEDIATOR
 *
 * Three servers run, each in its own directory under /tmp with free ports (medproc.h):
 * "main" (open registration, handshake_timeout 2 s), "token" (registration by token) and
 * "flood" (handshakes_per_second 5, burst 10). A watcher client stays logged in to main and
 * must answer PING after each refusal. Every wait is bounded; a watchdog alarm ends a hung
 * run, and every exit path kills the servers. A failed test prints the server's log.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/crypto.h"
#include "common/dh.h"
#include "common/err.h"
#include "common/msg.h"
#include "common/pubkey.h"
#include "common/util.h"
#include "medclient.h"
#include "medproc.h"
#include "test.h"

TEST_DEFINE_STATE;

enum {
	T = 5000,	  /* ms: one step (connect, login, request, close) */
	WATCHDOG_S = 120, /* the whole program, should it hang anyway */
	FLOOD_CONNS = 50,
};

#define PREFIX	    0x64400000u /* 100.64.0.0/10, the default overlay prefix */
#define PREFIX_MASK 0xffc00000u
#define UNKNOWN_ID  0x647ffff0u /* inside the prefix, never assigned in this test */

static const char main_cfg[] = "limits = {\n"
			       "  handshake_timeout = 2;\n"
			       "  handshakes_per_second = 100000;\n"
			       "  handshake_burst = 100000;\n"
			       "  half_open = 100000;\n"
			       "  half_open_per_address = 100000;\n"
			       "  password_iterations = 1000;\n"
			       "};";
static const char token_cfg[] = "registration = { mode = \"token\"; tokens = [\"sesame\"]; };";
static const char flood_cfg[] = "limits = {\n"
				"  handshakes_per_second = 5;\n"
				"  handshake_burst = 10;\n"
				"  password_iterations = 1000;\n"
				"};";

static const char *bin;
static struct pubkey *server_pair; /* one server key for all: no RSA-3072 keygen per start */
static struct medproc *med;	   /* main */
static struct medclient *watch;	   /* logged in to main throughout */
static struct pubkey *watch_key;
static uint32_t watch_id;
static struct pubkey *alice_key, *other_key;
static uint32_t alice_id;
static uint8_t alice_disco[MSG_DISCO_KEY_LEN]; /* of alice's first session */

/* --- helpers ----------------------------------------------------------------------------- */

/* Ends a test; a failure prints the log of the server it talked to. */
static void
done(const struct medproc *p)
{
	if (test_state.failed_here && p != NULL)
		medproc_dump_log(p, stdout, 120);
	TEST_DONE();
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct pubkey *
new_key(void)
{
	struct pubkey *k = pubkey_generate(2048);

	if (k == NULL) {
		printf("Bail out! cannot generate an RSA key\n");
		exit(1);
	}
	return k;
}

static struct medclient *
conn(const struct medproc *p, bool tls)
{
	return mc_connect(NULL, tls ? p->tls_port : p->tcp_port, tls, T);
}

/* A client of p registered with key k (identity in *id), or NULL; r gets the result. */
static struct medclient *
registered(const struct medproc *p, bool tls, const struct pubkey *k, const char *nick,
	   const char *token, uint32_t *id, int *r)
{
	struct medclient *c = conn(p, tls);

	*r = E_IO;
	if (c != NULL && (*r = mc_register(c, p->kfp, p->server_key, k, nick, token, id, T)) != 0) {
		printf("# register: %s\n", err_str(*r));
		mc_close(c);
		return NULL;
	}
	return c;
}

/* A client of p logged in as id with key k, or NULL; r gets the result. */
static struct medclient *
logged_in(const struct medproc *p, bool tls, const struct pubkey *k, uint32_t id, int *r)
{
	struct medclient *c = conn(p, tls);

	*r = E_IO;
	if (c != NULL && (*r = mc_login(c, p->kfp, p->server_key, k, id, T)) != 0) {
		mc_close(c);
		return NULL;
	}
	return c;
}

/* How the server ended c's session: its ERROR code (negative), 0 for a close without
 * ERROR, 1 if the connection is still open after T. */
static int
ending(struct medclient *c)
{
	int err;

	if (c == NULL)
		return 2;
	return mc_closed(c, &err, T) ? err : 1;
}

/* For the diagnostics: what ending() returned. */
static const char *
ending_str(int r)
{
	if (r < 0)
		return err_str(r);
	return r == 0 ? "a close without ERROR" : "nothing (still open)";
}

/* The encoded body of m for the session channel. */
static size_t
body_of(const struct msg *m, uint8_t *out, size_t cap)
{
	size_t len = 0;

	if (msg_encode(MSG_CH_SESSION_C2S, m, out, cap, &len) != 0)
		return 0;
	return len;
}

/* A PING sealed by c with message ID msgid into f; its length, 0 on failure. */
static size_t
sealed_ping(struct medclient *c, uint32_t msgid, uint8_t *f, size_t cap)
{
	struct msg ping = {.type = MSG_PING};
	uint8_t body[16];
	size_t blen = body_of(&ping, body, sizeof(body)), len = 0;

	if (blen == 0 || mc_seal_raw(c, msgid, body, blen, f, cap, &len) != 0)
		return 0;
	return len;
}

static void
make_helo(struct msg *m, const uint8_t kfp[WIRE_KFP_LEN])
{
	static struct dh *dh;

	if (dh == NULL && (dh = dh_generate()) == NULL)
		exit(1);
	memset(m, 0, sizeof(*m));
	m->type = MSG_HELO;
	m->u.helo.suite = WIRE_SUITE_1;
	memcpy(m->u.helo.kfp, kfp, WIRE_KFP_LEN);
	if (crypto_random(m->u.helo.ni, sizeof(m->u.helo.ni)) != 0)
		exit(1);
	dh_public(dh, m->u.helo.gi);
}

/* The watcher still gets PONG. */
#define ASSERT_WATCH_OK() ASSERT_INT_EQ(mc_ping(watch, T), 0)

static bool
span_is(const struct span *s, const char *str)
{
	return s->len == strlen(str) && memcmp(s->p, str, s->len) == 0;
}

static uint16_t
local_port(const struct medclient *c)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);

	if (getsockname(mc_fd(c), (struct sockaddr *)&sa, &sl) != 0)
		return 0;
	return ntohs(sa.sin_port);
}

/* --- registration and login --------------------------------------------------------------- */

static void
check_session(struct medclient *c, uint32_t id, const char *nick)
{
	const struct msg_session *s = mc_session(c);
	struct msg m;

	ASSERT_INT_EQ(mc_peek_type(c, 0), MSG_SESSION); /* the first message after AUTH OK */
	ASSERT_TRUE(s != NULL);
	if (s == NULL)
		return;
	ASSERT_INT_EQ(s->identity, id);
	if (nick != NULL)
		ASSERT_TRUE(span_is(&s->nick, nick));
	ASSERT_INT_EQ(s->addr, INADDR_LOOPBACK);
	ASSERT_INT_EQ(s->port, local_port(c));
	ASSERT_INT_EQ(s->prefix, PREFIX);
	ASSERT_INT_EQ(s->prefix_len, 10);
	ASSERT_INT_EQ(s->n_ports, 2);
	ASSERT_INT_EQ(s->disco_port[0], med->disco_port[0]);
	ASSERT_INT_EQ(s->disco_port[1], med->disco_port[1]);
	ASSERT_INT_EQ(mc_wait(c, MSG_SESSION, NULL, NULL, &m, T), 0);
	ASSERT_INT_EQ(mc_wait(c, MSG_SYNC_DONE, NULL, NULL, &m, T), 0);
	ASSERT_INT_EQ(m.u.sync_done.networks, 0);
}

static void
test_register(void)
{
	struct medclient *c;
	int r;

	TEST_START("register: address in 100.64.0.0/10, wished nick, SESSION, SYNC DONE");
	watch_key = new_key();
	alice_key = new_key();
	other_key = new_key();
	watch = registered(med, false, watch_key, "watcher", NULL, &watch_id, &r);
	ASSERT_INT_EQ(r, 0);
	c = registered(med, false, alice_key, "alice", NULL, &alice_id, &r);
	ASSERT_INT_EQ(r, 0);
	printf("# alice is %u.%u.%u.%u\n", alice_id >> 24, (alice_id >> 16) & 255,
	       (alice_id >> 8) & 255, alice_id & 255);
	ASSERT_INT_EQ(alice_id & PREFIX_MASK, PREFIX);
	ASSERT_TRUE((alice_id & ~PREFIX_MASK) != 0 && (alice_id & ~PREFIX_MASK) != ~PREFIX_MASK);
	ASSERT_INT_NE(alice_id, watch_id);
	if (c != NULL && mc_session(c) != NULL)
		memcpy(alice_disco, mc_session(c)->disco_key, sizeof(alice_disco));
	if (c != NULL)
		check_session(c, alice_id, "alice");
	if (watch != NULL)
		mc_drain(watch, 50);
	mc_close(c);
	done(med);
}

static void
test_auth(void)
{
	struct medclient *c;
	int r;

	TEST_START("AUTH with the registered identity; a fresh disco_key per session");
	c = logged_in(med, false, alice_key, alice_id, &r);
	ASSERT_INT_EQ(r, 0);
	if (c != NULL && mc_session(c) != NULL)
		ASSERT_TRUE(memcmp(mc_session(c)->disco_key, alice_disco, sizeof(alice_disco)) !=
			    0);
	if (c != NULL)
		check_session(c, alice_id, "alice");
	if (c != NULL)
		ASSERT_INT_EQ(mc_ping(c, T), 0);
	mc_close(c);
	done(med);
}

static void
test_forged_auth_ok(void)
{
	struct medclient *c = conn(med, false);

	TEST_START("the client refuses AUTH OK not signed by the pinned server key");
	ASSERT_TRUE(c != NULL);
	if (c != NULL)
		ASSERT_INT_EQ(mc_login(c, med->kfp, other_key, alice_key, alice_id, T),
			      E_SIGNATURE);
	mc_close(c);
	done(med);
}

static void
test_reregister(void)
{
	struct medclient *c;
	uint32_t id = 0;
	int r;

	TEST_START("REGISTER again with the same key: the same address");
	c = registered(med, false, alice_key, "ignored", NULL, &id, &r);
	ASSERT_INT_EQ(r, 0);
	ASSERT_INT_EQ(id, alice_id);
	if (c != NULL)
		check_session(c, alice_id, "alice");
	mc_close(c);
	done(med);
}

static void
test_default_nick(void)
{
	struct pubkey *k = new_key();
	const struct msg_session *s;
	struct medclient *c;
	uint32_t id;
	int r;

	TEST_START("REGISTER with an empty nick: the server picks one");
	c = registered(med, false, k, "", NULL, &id, &r);
	ASSERT_INT_EQ(r, 0);
	s = c != NULL ? mc_session(c) : NULL;
	ASSERT_TRUE(s != NULL);
	if (s != NULL) {
		printf("# default nick \"%.*s\"\n", (int)s->nick.len, (const char *)s->nick.p);
		ASSERT_TRUE(s->nick.len > 0);
		check_session(c, id, NULL);
	}
	mc_close(c);
	pubkey_free(k);
	done(med);
}

/* --- refusals of the login ------------------------------------------------------------------ */

static void
test_bad_kfp(void)
{
	uint8_t kfp[WIRE_KFP_LEN];
	struct medclient *c = conn(med, false);
	uint32_t id;

	TEST_START("HELO with a wrong ServerKfp: E_SERVERKEY");
	memcpy(kfp, med->kfp, sizeof(kfp));
	kfp[0] ^= 1;
	ASSERT_TRUE(c != NULL);
	if (c != NULL) {
		ASSERT_INT_EQ(mc_register(c, kfp, med->server_key, other_key, "x", NULL, &id, T),
			      E_SERVERKEY);
		ASSERT_INT_EQ(ending(c), E_SERVERKEY);
	}
	mc_close(c);
	ASSERT_WATCH_OK();
	done(med);
}

static void
test_unknown_identity(void)
{
	struct medclient *c = conn(med, false);

	TEST_START("AUTH with an unknown identity: E_IDENTITY");
	ASSERT_TRUE(c != NULL);
	if (c != NULL) {
		ASSERT_INT_EQ(mc_login(c, med->kfp, med->server_key, alice_key, UNKNOWN_ID, T),
			      E_IDENTITY);
		ASSERT_INT_EQ(ending(c), E_IDENTITY);
	}
	mc_close(c);
	ASSERT_WATCH_OK();
	done(med);
}

static void
test_wrong_key(void)
{
	struct medclient *c = conn(med, false);

	TEST_START("AUTH signed with another key: E_SIGNATURE");
	ASSERT_TRUE(c != NULL);
	if (c != NULL) {
		ASSERT_INT_EQ(mc_login(c, med->kfp, med->server_key, other_key, alice_id, T),
			      E_SIGNATURE);
		ASSERT_INT_EQ(ending(c), E_SIGNATURE);
	}
	mc_close(c);
	ASSERT_WATCH_OK();
	done(med);
}

static void
test_second_helo(void)
{
	struct medclient *c = conn(med, false);
	struct msg helo;

	TEST_START("a second HELO after HELO OK: E_STATE");
	ASSERT_TRUE(c != NULL);
	if (c != NULL) {
		ASSERT_INT_EQ(mc_helo(c, med->kfp, T), 0);
		make_helo(&helo, med->kfp);
		ASSERT_INT_EQ(mc_send_clear(c, &helo), 0);
		ASSERT_INT_EQ(ending(c), E_STATE);
	}
	mc_close(c);
	ASSERT_WATCH_OK();
	done(med);
}

static void
test_sealed_before_helo(void)
{
	struct medclient *c = conn(med, false);
	uint8_t f[128];
	size_t len;

	TEST_START("a protected frame before HELO: E_STATE");
	ASSERT_TRUE(c != NULL);
	if (c != NULL) {
		len = sealed_ping(c, 1, f, sizeof(f)); /* all-zero keys: well formed, unkeyed */
		ASSERT_TRUE(len > 0);
		ASSERT_INT_EQ(mc_write_raw(c, f, len), 0);
		ASSERT_INT_EQ(ending(c), E_STATE);
	}
	mc_close(c);
	ASSERT_WATCH_OK();
	done(med);
}

static void
test_request_before_auth(void)
{
	struct medclient *c = conn(med, false);
	struct msg nick = {.type = MSG_NICK};

	TEST_START("a request in place of AUTH (after HELO OK): E_STATE");
	ASSERT_TRUE(c != NULL);
	if (c != NULL) {
		ASSERT_INT_EQ(mc_helo(c, med->kfp, T), 0);
		nick.u.nick.tag = 1;
		nick.u.nick.nick = (struct span){(const uint8_t *)"early", 5};
		ASSERT_INT_EQ(mc_send(c, &nick), 0);
		ASSERT_INT_EQ(ending(c), E_STATE);
	}
	mc_close(c);
	ASSERT_WATCH_OK();
	done(med);
}

static void
test_clear_request_before_helo(void)
{
	struct medclient *c = conn(med, false);
	struct msg ping = {.type = MSG_PING};
	uint8_t f[64];
	size_t blen;
	int r;

	TEST_START("a request in a cleartext frame before HELO: E_CHANNEL or E_STATE");
	ASSERT_TRUE(c != NULL);
	if (c != NULL) {
		blen = body_of(&ping, f + 8, sizeof(f) - 8);
		store_be32(f, (uint32_t)(4 + blen));
		store_be32(f + 4, 0);
		ASSERT_INT_EQ(mc_write_raw(c, f, 8 + blen), 0);
		r = ending(c);
		printf("# ended with %s\n", ending_str(r));
		ASSERT_TRUE(r == E_CHANNEL || r == E_STATE);
	}
	mc_close(c);
	ASSERT_WATCH_OK();
	done(med);
}

/* --- bad frames on a session --------------------------------------------------------------- */

/* A fresh session of alice, or NULL. */
static struct medclient *
alice(void)
{
	int r;
	struct medclient *c = logged_in(med, false, alice_key, alice_id, &r);

	ASSERT_INT_EQ(r, 0);
	if (c != NULL)
		mc_drain(c, 20);
	return c;
}

static void
test_replayed_msgid(void)
{
	struct medclient *c = alice();
	uint8_t f[128];
	size_t len;

	TEST_START("a replayed message ID after login: E_MSGID");
	if (c != NULL) {
		ASSERT_INT_EQ(mc_ping(c, T), 0);
		len = sealed_ping(c, mc_next_msgid(c) - 1, f, sizeof(f));
		ASSERT_INT_EQ(mc_write_raw(c, f, len), 0);
		ASSERT_INT_EQ(ending(c), E_MSGID);
	}
	mc_close(c);
	ASSERT_WATCH_OK();
	done(med);
}

static void
test_skipped_msgid(void)
{
	struct medclient *c = alice();
	uint8_t f[128];
	size_t len;

	TEST_START("a message ID out of order after login: E_MSGID");
	if (c != NULL) {
		len = sealed_ping(c, mc_next_msgid(c) + 1, f, sizeof(f));
		ASSERT_INT_EQ(mc_write_raw(c, f, len), 0);
		ASSERT_INT_EQ(ending(c), E_MSGID);
	}
	mc_close(c);
	ASSERT_WATCH_OK();
	done(med);
}

static void
test_bad_mac(void)
{
	struct medclient *c = alice();
	uint8_t f[128];
	size_t len;

	TEST_START("a flipped MAC byte: E_MAC");
	if (c != NULL) {
		len = sealed_ping(c, mc_next_msgid(c), f, sizeof(f));
		f[len - 1] ^= 0x40;
		ASSERT_INT_EQ(mc_write_raw(c, f, len), 0);
		ASSERT_INT_EQ(ending(c), E_MAC);
	}
	mc_close(c);
	ASSERT_WATCH_OK();
	done(med);
}

static void
test_oversize(void)
{
	struct medclient *c = alice();
	uint8_t f[8];
	int r;

	TEST_START("a size field of 65585 (over 65584): connection closed at once");
	if (c != NULL) {
		store_be32(f, WIRE_TCP_SIZE_MAX + 1);
		store_be32(f + 4, mc_next_msgid(c));
		ASSERT_INT_EQ(mc_write_raw(c, f, sizeof(f)), 0);
		r = ending(c);
		printf("# ended with %s\n", ending_str(r));
		ASSERT_TRUE(r <= 0);
	}
	mc_close(c);
	ASSERT_WATCH_OK();
	done(med);
}

static void
test_truncated(void)
{
	struct medclient *c = alice(), *d = conn(med, false);
	uint8_t f[512];
	struct msg helo;
	size_t len;

	TEST_START("truncated frames, then close (online and before HELO): server survives");
	if (c != NULL) {
		len = sealed_ping(c, mc_next_msgid(c), f, sizeof(f));
		ASSERT_INT_EQ(mc_write_raw(c, f, len / 2), 0);
	}
	mc_close(c);
	ASSERT_TRUE(d != NULL);
	if (d != NULL) {
		make_helo(&helo, med->kfp);
		ASSERT_INT_EQ(mc_send_clear(d, &helo), 0); /* whole, then half of another */
		ASSERT_INT_EQ(mc_write_raw(d, "\x00\x00\x01\x9b\x00\x00\x00\x00\x00", 9), 0);
	}
	mc_close(d);
	ASSERT_WATCH_OK();
	c = alice(); /* the server closed the old session: a new one works */
	if (c != NULL)
		ASSERT_INT_EQ(mc_ping(c, T), 0);
	mc_close(c);
	done(med);
}

static void
garbage_one(const void *p, size_t len, bool login, int want)
{
	struct medclient *c = login ? alice() : conn(med, false);
	int r;

	ASSERT_TRUE(c != NULL);
	if (c == NULL)
		return;
	ASSERT_INT_EQ(mc_write_raw(c, p, len), 0);
	r = ending(c);
	printf("# %zu bytes of garbage%s: ended with %s\n", len, login ? " after login" : "",
	       ending_str(r));
	if (want != 0)
		ASSERT_INT_EQ(r, want);
	else
		ASSERT_TRUE(r <= 0);
	mc_close(c);
	ASSERT_WATCH_OK();
}

static void
test_garbage(void)
{
	static const char http[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	uint8_t g[64];

	TEST_START("garbage bytes: the session ends, the server survives");
	garbage_one(http, sizeof(http) - 1, false, 0);
	if (crypto_random(g, sizeof(g)) != 0)
		exit(1);
	store_be32(g, sizeof(g) - 4); /* a whole frame of random bytes */
	g[4] |= 0x80;		      /* non-zero message ID: "protected" */
	garbage_one(g, sizeof(g), false, E_STATE);
	garbage_one(g, sizeof(g), true, 0); /* MsgID is random: E_MSGID, else E_MAC */
	store_be32(g, 0);		    /* size 0: shorter than a message ID */
	garbage_one(g, 4, false, 0);
	done(med);
}

/* --- stalls ------------------------------------------------------------------------------- */

/* Clients that stall: half a HELO, half a PING on a session, and two inside the TLS
 * handshake (nothing at all; the first bytes of a ClientHello). */
struct stall {
	struct medclient *pre, *on, *tls_quiet, *tls_half;
	int64_t t0;
	double cpu0, cpu; /* server CPU seconds at t0, and used until the TLS stalls ended */
};

static bool
stall_start(struct stall *st)
{
	static const uint8_t hello_start[] = {0x16, 0x03, 0x01, 0x00, 0xc8, 0x01, 0x00};
	uint8_t f[512];
	size_t len;

	st->pre = conn(med, false);
	st->on = alice();
	st->tls_quiet = mc_connect(NULL, med->tls_port, false, T); /* TCP only */
	st->tls_half = mc_connect(NULL, med->tls_port, false, T);
	st->t0 = now_ms();
	st->cpu0 = medproc_cpu_seconds(med);
	if (st->pre == NULL || st->on == NULL || st->tls_quiet == NULL || st->tls_half == NULL)
		return false;
	store_be32(f, 4 + 407); /* a HELO's size, then 200 of its 411 bytes */
	memset(f + 4, 0, 200);
	len = sealed_ping(st->on, mc_next_msgid(st->on), f + 256, sizeof(f) - 256);
	return mc_write_raw(st->pre, f, 204) == 0 && mc_write_raw(st->on, f + 256, len / 2) == 0 &&
	       mc_write_raw(st->tls_half, hello_start, sizeof(hello_start)) == 0;
}

static void
stall_end(struct stall *st)
{
	mc_close(st->pre);
	mc_close(st->on);
	mc_close(st->tls_quiet);
	mc_close(st->tls_half);
}

static void
test_slowloris(struct stall *st)
{
	struct medclient *c;
	int64_t ms;
	uint32_t id;
	int r;

	TEST_START("slowloris: half a frame, stalled, is dropped after handshake_timeout (2 s)");
	ASSERT_TRUE(stall_start(st));
	if (st->pre == NULL || st->on == NULL) {
		done(med);
		return;
	}
	ASSERT_TRUE(!mc_closed(st->pre, &r, 1000));		       /* not before the timeout */
	c = registered(med, false, other_key, "other", NULL, &id, &r); /* others are served */
	ASSERT_INT_EQ(r, 0);
	if (c != NULL)
		ASSERT_INT_EQ(mc_ping(c, T), 0);
	mc_close(c);
	ASSERT_WATCH_OK();
	ASSERT_INT_EQ(ending(st->pre), E_TIMEOUT);
	ASSERT_INT_EQ(ending(st->on), E_TIMEOUT);
	ms = now_ms() - st->t0;
	printf("# both dropped %lld ms after they stalled\n", (long long)ms);
	ASSERT_TRUE(ms >= 1500 && ms <= 5500);
	ASSERT_WATCH_OK();
	done(med);
}

/* How long after t0 the server closed c (waiting up to limit_ms after t0); -1 if it did not. */
static int64_t
closed_after(struct medclient *c, int64_t t0, int64_t limit_ms)
{
	int err;

	if (c == NULL || !mc_closed(c, &err, (int)MAX(0, t0 + limit_ms - now_ms())))
		return -1;
	return now_ms() - t0;
}

static void
test_slowloris_tls(struct stall *st, int64_t *quiet, int64_t *half)
{
	TEST_START("slowloris inside the TLS handshake: dropped (within handshake_timeout + 9 s at "
		   "worst)");
	*quiet = closed_after(st->tls_quiet, st->t0, 11000);
	*half = closed_after(st->tls_half, st->t0, 11000);
	st->cpu = medproc_cpu_seconds(med) - st->cpu0;
	printf("# TLS stalls dropped after %lld ms (no bytes), %lld ms (part of a ClientHello)\n",
	       (long long)*quiet, (long long)*half);
	ASSERT_TRUE(*quiet >= 0 && *half >= 0);
	ASSERT_WATCH_OK();
	done(med);
}

/* Regression checks: a conn that timed out in CONN_TLS used to get a cleartext ERROR queued
 * that could not be written before the handshake; it then sat in CONN_CLOSING for the 5 s
 * grace while flush() spun on EPOLLOUT (SSL_write wanting to read) at 100% CPU. */
static void
test_slowloris_tls_cpu(const struct stall *st)
{
	TEST_START("slowloris inside the TLS handshake: the server does not spin meanwhile");
	printf("# server CPU time over the %lld ms of the stalls: %.2f s\n",
	       (long long)(now_ms() - st->t0), st->cpu);
	ASSERT_TRUE(st->cpu0 >= 0 && st->cpu < 1.0);
	done(med);
}

static void
test_slowloris_tls_prompt(int64_t quiet, int64_t half)
{
	TEST_START("slowloris inside the TLS handshake: dropped within handshake_timeout + 2 s");
	ASSERT_TRUE(quiet >= 0 && quiet <= 4500);
	ASSERT_TRUE(half >= 0 && half <= 4500);
	done(med);
}

/* --- TLS ---------------------------------------------------------------------------------- */

static void
test_tls(void)
{
	struct pubkey *k = new_key();
	struct msg nick = {.type = MSG_NICK};
	struct medclient *c;
	char text[128];
	uint32_t id = 0;
	int r, status;

	TEST_START("TLS fallback: register, log in, a request");
	c = registered(med, true, k, "tls-node", NULL, &id, &r);
	ASSERT_INT_EQ(r, 0);
	if (c != NULL)
		check_session(c, id, "tls-node");
	mc_close(c);
	c = logged_in(med, true, k, id, &r);
	ASSERT_INT_EQ(r, 0);
	if (c != NULL) {
		nick.u.nick.nick = (struct span){(const uint8_t *)"tls-renamed", 11};
		ASSERT_INT_EQ(mc_request(c, &nick, &status, text, sizeof(text), T), 0);
		ASSERT_INT_EQ(status, 0);
		ASSERT_INT_EQ(mc_ping(c, T), 0);
	}
	mc_close(c);
	pubkey_free(k);
	done(med);
}

/* --- registration by token ----------------------------------------------------------------- */

static void
test_token(void)
{
	static const char *const bad[] = {"wrong", "", "sesame2", "SESAME"};
	struct medproc *p = medproc_start(bin, token_cfg, server_pair, 10000);
	struct pubkey *k = new_key();
	struct medclient *w = NULL, *c;
	uint32_t id = 0, id2;
	int r;

	TEST_START("token registration: a bad token E_TOKEN, the right one succeeds");
	ASSERT_TRUE(p != NULL);
	if (p == NULL)
		goto out;
	w = registered(p, false, watch_key, "w", "sesame", &id, &r);
	ASSERT_INT_EQ(r, 0);
	ASSERT_INT_EQ(id & PREFIX_MASK, PREFIX);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		c = conn(p, false);
		ASSERT_TRUE(c != NULL);
		if (c == NULL)
			continue;
		ASSERT_INT_EQ(mc_register(c, p->kfp, p->server_key, k, "t", bad[i], &id2, T),
			      E_TOKEN);
		ASSERT_INT_EQ(ending(c), E_TOKEN);
		mc_close(c);
		ASSERT_INT_EQ(w != NULL ? mc_ping(w, T) : E_IO, 0);
	}
	c = registered(p, false, k, "t", "sesame", &id2, &r);
	ASSERT_INT_EQ(r, 0);
	mc_close(c);
	ASSERT_INT_EQ(w != NULL ? mc_ping(w, T) : E_IO, 0);
out:
	mc_close(w);
	if (p != NULL)
		done(p);
	else
		TEST_DONE();
	medproc_cleanup(p);
	pubkey_free(k);
}

/* --- HELO flood ----------------------------------------------------------------------------- */

struct flood {
	int admitted, rate, busy, other;
};

static void
flood_classify(struct medclient *c, struct flood *f)
{
	int err = 0;

	if (c == NULL)
		f->other++;
	else if (mc_has(c, MSG_HELO_OK, T))
		f->admitted++;
	else if (!mc_closed(c, &err, T))
		f->other++;
	else if (err == E_RATE)
		f->rate++;
	else if (err == E_BUSY)
		f->busy++;
	else
		f->other++;
}

static void
flood(struct medproc *p, struct flood *f)
{
	struct medclient *c[FLOOD_CONNS];
	struct msg helo;

	make_helo(&helo, p->kfp);
	/* a refused connection may be closed before its HELO is sent: the result is moot */
	for (int i = 0; i < FLOOD_CONNS; i++)
		if ((c[i] = conn(p, false)) != NULL)
			mc_send_clear(c[i], &helo);
	for (int i = 0; i < FLOOD_CONNS; i++) {
		flood_classify(c[i], f);
		mc_close(c[i]);
	}
	printf("# %d connections: %d admitted, %d E_RATE, %d E_BUSY, %d other\n", FLOOD_CONNS,
	       f->admitted, f->rate, f->busy, f->other);
}

static void
test_flood(void)
{
	struct medproc *p = medproc_start(bin, flood_cfg, server_pair, 10000);
	struct medclient *w = NULL, *c;
	struct flood f = {0};
	uint32_t id = 0;
	int r;

	TEST_START("HELO flood from one address: most refused with E_RATE, later logins work");
	ASSERT_TRUE(p != NULL);
	if (p == NULL)
		goto out;
	w = registered(p, false, watch_key, "w", NULL, &id, &r);
	ASSERT_INT_EQ(r, 0);
	flood(p, &f);
	ASSERT_TRUE(f.rate + f.busy >= FLOOD_CONNS * 6 / 10);
	ASSERT_TRUE(f.admitted >= 1 && f.admitted <= 20);
	ASSERT_INT_EQ(w != NULL ? mc_ping(w, T) : E_IO, 0);
	usleep(2200 * 1000); /* 5 tokens a second refill the bucket */
	c = registered(p, false, other_key, "after", NULL, &id, &r);
	ASSERT_INT_EQ(r, 0);
	if (c != NULL)
		ASSERT_INT_EQ(mc_ping(c, T), 0);
	mc_close(c);
	ASSERT_INT_EQ(w != NULL ? mc_ping(w, T) : E_IO, 0);
out:
	mc_close(w);
	if (p != NULL)
		done(p);
	else
		TEST_DONE();
	medproc_cleanup(p);
}

/* --- restart, replaced session, LOGOUT, SIGTERM ------------------------------------------- */

static void
test_restart(void)
{
	struct pubkey *k = new_key();
	struct msg nick = {.type = MSG_NICK};
	uint8_t kfp[WIRE_KFP_LEN];
	struct medclient *c;
	uint32_t id = 0;
	int r, status;

	TEST_START("kill -9 and restart: the identity and a NICK set before survive");
	c = registered(med, false, k, "before", NULL, &id, &r);
	ASSERT_INT_EQ(r, 0);
	if (c != NULL) {
		nick.u.nick.nick = (struct span){(const uint8_t *)"after-nick", 10};
		ASSERT_INT_EQ(mc_request(c, &nick, &status, NULL, 0, T), 0);
		ASSERT_INT_EQ(status, 0);
	}
	memcpy(kfp, med->kfp, sizeof(kfp));
	ASSERT_INT_EQ(medproc_kill9(med), 0);
	ASSERT_INT_EQ(ending(c), 0); /* killed: closed without ERROR */
	mc_close(c);
	ASSERT_INT_EQ(medproc_restart(med, 10000), 0);
	ASSERT_MEM_EQ(med->kfp, kfp, sizeof(kfp));
	c = logged_in(med, false, k, id, &r);
	ASSERT_INT_EQ(r, 0);
	if (c != NULL)
		check_session(c, id, "after-nick");
	mc_close(c);
	mc_close(watch);
	watch = logged_in(med, false, watch_key, watch_id, &r);
	ASSERT_INT_EQ(r, 0);
	pubkey_free(k);
	done(med);
}

static void
test_replaced(void)
{
	struct medclient *a = alice(), *b;

	TEST_START("a second login of the same identity: the first gets E_REPLACED");
	b = alice();
	ASSERT_TRUE(a != NULL && b != NULL);
	if (a != NULL)
		ASSERT_INT_EQ(ending(a), E_REPLACED);
	if (b != NULL)
		ASSERT_INT_EQ(mc_ping(b, T), 0);
	mc_close(a);
	mc_close(b);
	ASSERT_WATCH_OK();
	done(med);
}

static void
test_logout(void)
{
	struct medclient *c = alice();
	struct msg logout = {.type = MSG_LOGOUT};
	int status = -1;

	TEST_START("LOGOUT: RESULT, then the server closes");
	if (c != NULL) {
		ASSERT_INT_EQ(mc_request(c, &logout, &status, NULL, 0, T), 0);
		ASSERT_INT_EQ(status, 0);
		ASSERT_INT_EQ(ending(c), 0);
	}
	mc_close(c);
	ASSERT_WATCH_OK();
	done(med);
}

static void
test_sigterm(void)
{
	TEST_START("SIGTERM: sessions get E_SHUTDOWN, the server exits with status 0");
	ASSERT_INT_EQ(medproc_stop(med, T), 0);
	ASSERT_INT_EQ(ending(watch), E_SHUTDOWN);
	done(med);
}

static void
test_stalls(void)
{
	struct stall st = {0};
	int64_t quiet, half;

	test_slowloris(&st);
	test_slowloris_tls(&st, &quiet, &half);
	test_slowloris_tls_prompt(quiet, half);
	test_slowloris_tls_cpu(&st);
	stall_end(&st);
}

int
main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s BURI_MEDIATOR\n", argv[0]);
		return 2;
	}
	bin = argv[1];
	medproc_guard();
	alarm(WATCHDOG_S);
	if ((server_pair = pubkey_generate(3072)) == NULL ||
	    (med = medproc_start(bin, main_cfg, server_pair, 10000)) == NULL) {
		printf("Bail out! cannot start %s\n", bin);
		return 1;
	}
	printf("# main server pid %d, tcp %u, tls %u, key %s\n", (int)med->pid, med->tcp_port,
	       med->tls_port, med->fp_str);
	test_register();
	if (watch == NULL) {
		printf("Bail out! no watcher session\n");
		return 1;
	}
	test_auth();
	test_forged_auth_ok();
	test_reregister();
	test_default_nick();
	test_bad_kfp();
	test_unknown_identity();
	test_wrong_key();
	test_second_helo();
	test_sealed_before_helo();
	test_request_before_auth();
	test_clear_request_before_helo();
	test_replayed_msgid();
	test_skipped_msgid();
	test_bad_mac();
	test_oversize();
	test_truncated();
	test_garbage();
	test_stalls();
	test_tls();
	test_token();
	test_flood();
	test_restart();
	test_replaced();
	test_logout();
	test_sigterm();
	mc_close(watch);
	medproc_cleanup(med);
	pubkey_free(watch_key);
	pubkey_free(alice_key);
	pubkey_free(other_key);
	pubkey_free(server_pair);
	return test_finish();
}
