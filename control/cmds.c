/* SPDX-License-Identifier: MIT */
/*
 * The `buri` CLI's commands, on the control socket (api.h): each handler answers with a JSON
 * object (the CLI renders it, or prints it as is with --json). Requests to the mediator answer
 * when its RESULT comes; everything else answers at once from this process's state.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/err.h"
#include "common/log.h"
#include "control/ctl.h"

static const char *const ROLE[] = {"?", "owner", "admin", "member", "pending", "banned"};
static const char *const NAT[] = {"unknown", "none", "eim", "edm", "blocked"};
static const char *const KIND[] = {"?", "im", "chat", "welcome", "announcement", "notice"};

static const char *
role_name(uint8_t r)
{
	return r < ARRAY_SIZE(ROLE) ? ROLE[r] : "?";
}

static json_t *
addr_json(uint32_t a)
{
	char s[16];

	snprintf(s, sizeof(s), IP4_FMT, IP4_ARG(a));
	return json_string(s);
}

static json_t *
ep_json(uint32_t a, uint16_t port)
{
	char s[24];

	if (a == 0)
		return json_null();
	snprintf(s, sizeof(s), IP4_FMT ":%u", IP4_ARG(a), port);
	return json_string(s);
}

/* --- requests to the mediator --- */

struct call {
	struct ctl *c;
	uint64_t id;
	char ok_text[160]; /* the message on success when the RESULT has none */
};

static void
on_result(void *arg, int status, const char *text)
{
	struct call *k = arg;

	if (status == 0)
		(void)api_reply(k->c->api, k->id,
				json_pack("{s:s}", "message", text[0] ? text : k->ok_text));
	else if (text[0] == '\0' || strcasecmp(text, err_str(status)) == 0)
		(void)api_error(k->c->api, k->id, "%s", err_str(status));
	else
		(void)api_error(k->c->api, k->id, "%s: %s", err_str(status), text);
	free(k);
}

static void
offline(struct ctl *c, uint64_t id)
{
	struct medsess_info mi;

	medsess_info(c->ms, &mi);
	(void)api_error(c->api, id, "not connected to the mediator%s%s",
			mi.last_error[0] ? ": " : "", mi.last_error);
}

/* Sends m and answers id with its RESULT (ok_text when it says nothing). */
static void
request(struct ctl *c, uint64_t id, struct msg *m, const char *ok_text)
{
	struct call *k = calloc(1, sizeof(*k));
	int r;

	if (k == NULL) {
		(void)api_error(c->api, id, "out of memory");
		return;
	}
	*k = (struct call){c, id, ""};
	snprintf(k->ok_text, sizeof(k->ok_text), "%s", ok_text);
	if ((r = medsess_request(c->ms, m, on_result, k)) != 0) {
		free(k);
		if (r == E_STATE)
			offline(c, id);
		else
			(void)api_error(c->api, id, "%s", err_str(r));
	}
}

static struct span
sp(const char *s)
{
	return (struct span){(const uint8_t *)s, strlen(s)};
}

/* The identity of a member given as an overlay address or a nickname; false after answering
 * id with the reason. */
static bool
who(struct ctl *c, uint64_t id, const char *s, uint32_t *out)
{
	struct in_addr a;
	int r;

	if (inet_pton(AF_INET, s, &a) == 1) {
		*out = ntohl(a.s_addr);
		return true;
	}
	if ((r = netview_by_nick(&c->nv, s, out)) == 0)
		return true;
	(void)api_error(c->api, id,
			r == E_EXISTS
				? "\"%s\" is the nickname of several members: give the address"
				: "no member called \"%s\" (give a nickname or an overlay address)",
			s);
	return false;
}

/* --- networks --- */

static void
net_req(struct ctl *c, uint64_t id, uint16_t type, const char *name, const char *pass,
	const char *ok)
{
	struct msg m = {.type = type};

	m.u.net_req.name = sp(name);
	m.u.net_req.pass = sp(pass != NULL ? pass : "");
	request(c, id, &m, ok);
}

static void
cmd_create(void *ctx, uint64_t id, int argc, const char *const *argv)
{
	net_req(ctx, id, MSG_NET_CREATE, argv[0], argc > 1 ? argv[1] : "", "network created");
}

static void
cmd_join(void *ctx, uint64_t id, int argc, const char *const *argv)
{
	net_req(ctx, id, MSG_NET_JOIN, argv[0], argc > 1 ? argv[1] : "", "joined");
}

static void
cmd_leave(void *ctx, uint64_t id, int argc, const char *const *argv)
{
	(void)argc;
	net_req(ctx, id, MSG_NET_LEAVE, argv[0], NULL, "left");
}

static void
cmd_delete(void *ctx, uint64_t id, int argc, const char *const *argv)
{
	(void)argc;
	net_req(ctx, id, MSG_NET_DELETE, argv[0], NULL, "network deleted");
}

static void
cmd_set_pass(void *ctx, uint64_t id, int argc, const char *const *argv)
{
	(void)argc;
	net_req(ctx, id, MSG_NET_PASS, argv[0], argv[1], "password changed");
}

static void
net_flag(struct ctl *c, uint64_t id, const char *name, uint8_t flag, bool on, const char *ok)
{
	struct msg m = {.type = MSG_NET_FLAG};

	m.u.net_flag.name = sp(name);
	m.u.net_flag.flag = flag;
	m.u.net_flag.on = on;
	request(c, id, &m, ok);
}

static void
cmd_go_online(void *ctx, uint64_t id, int argc, const char *const *argv)
{
	(void)argc;
	net_flag(ctx, id, argv[0], NETFLAG_ONLINE, true, "online in the network");
}

static void
cmd_go_offline(void *ctx, uint64_t id, int argc, const char *const *argv)
{
	(void)argc;
	net_flag(ctx, id, argv[0], NETFLAG_ONLINE, false, "offline in the network");
}

static void
cmd_lock(void *ctx, uint64_t id, int argc, const char *const *argv)
{
	(void)argc;
	net_flag(ctx, id, argv[0], NETFLAG_LOCKED, true, "locked: no new members");
}

static void
cmd_unlock(void *ctx, uint64_t id, int argc, const char *const *argv)
{
	(void)argc;
	net_flag(ctx, id, argv[0], NETFLAG_LOCKED, false, "unlocked");
}

static void
cmd_approval(void *ctx, uint64_t id, int argc, const char *const *argv)
{
	struct ctl *c = ctx;
	bool on = strcmp(argv[1], "on") == 0;

	(void)argc;
	if (!on && strcmp(argv[1], "off") != 0) {
		(void)api_error(c->api, id, "approval: on or off, not \"%s\"", argv[1]);
		return;
	}
	net_flag(c, id, argv[0], NETFLAG_APPROVAL, on,
		 on ? "new members wait for approval" : "new members join at once");
}

static void
member_op(struct ctl *c, uint64_t id, const char *const *argv, uint8_t op, const char *ok)
{
	struct msg m = {.type = MSG_NET_MEMBER};
	uint32_t who_id;

	if (!who(c, id, argv[1], &who_id))
		return;
	m.u.net_member.name = sp(argv[0]);
	m.u.net_member.member = who_id;
	m.u.net_member.op = op;
	request(c, id, &m, ok);
}

#define MEMBER_CMD(fn, op, ok)                                                                     \
	static void fn(void *ctx, uint64_t id, int argc, const char *const *argv)                  \
	{                                                                                          \
		(void)argc;                                                                        \
		member_op(ctx, id, argv, op, ok);                                                  \
	}
MEMBER_CMD(cmd_approve, MEMBER_APPROVE, "approved")
MEMBER_CMD(cmd_reject, MEMBER_REJECT, "rejected")
MEMBER_CMD(cmd_evict, MEMBER_EVICT, "evicted")
MEMBER_CMD(cmd_ban, MEMBER_BAN, "banned")
MEMBER_CMD(cmd_unban, MEMBER_UNBAN, "unbanned")
MEMBER_CMD(cmd_promote, MEMBER_PROMOTE, "promoted to admin")
MEMBER_CMD(cmd_demote, MEMBER_DEMOTE, "demoted to member")

/* The words of argv from first on, joined with spaces, into out. */
static void
join_words(int argc, const char *const *argv, int first, char *out, size_t cap)
{
	size_t n = 0;

	out[0] = '\0';
	for (int i = first; i < argc && n < cap; i++)
		n += (size_t)snprintf(out + n, cap - n, "%s%s", i > first ? " " : "", argv[i]);
}

static void
net_text(struct ctl *c, uint64_t id, int argc, const char *const *argv, uint8_t kind,
	 const char *ok)
{
	struct msg m = {.type = MSG_NET_TEXT};
	char text[WIRE_TEXT_MAX + 1];

	join_words(argc, argv, 1, text, sizeof(text));
	m.u.net_text.name = sp(argv[0]);
	m.u.net_text.kind = kind;
	m.u.net_text.text = sp(text);
	request(c, id, &m, ok);
}

static void
cmd_welcome(void *ctx, uint64_t id, int argc, const char *const *argv)
{
	net_text(ctx, id, argc, argv, NETTEXT_WELCOME, "welcome message set");
}

static void
cmd_announce(void *ctx, uint64_t id, int argc, const char *const *argv)
{
	net_text(ctx, id, argc, argv, NETTEXT_ANNOUNCE, "announced");
}

static void
cmd_chat(void *ctx, uint64_t id, int argc, const char *const *argv)
{
	net_text(ctx, id, argc, argv, NETTEXT_CHAT, "sent");
}

static void
cmd_msg(void *ctx, uint64_t id, int argc, const char *const *argv)
{
	struct ctl *c = ctx;
	struct msg m = {.type = MSG_IM};
	char text[WIRE_TEXT_MAX + 1];
	uint32_t to;

	if (!who(c, id, argv[0], &to))
		return;
	join_words(argc, argv, 1, text, sizeof(text));
	m.u.im.to = to;
	m.u.im.text = sp(text);
	request(c, id, &m, "sent");
}

static void
cmd_set_nick(void *ctx, uint64_t id, int argc, const char *const *argv)
{
	struct msg m = {.type = MSG_NICK};

	(void)argc;
	m.u.nick.nick = sp(argv[0]);
	request(ctx, id, &m, "nickname changed");
}

/* --- session --- */

static void
cmd_login(void *ctx, uint64_t id, int argc, const char *const *argv)
{
	struct ctl *c = ctx;

	(void)argc;
	(void)argv;
	medsess_start(c->ms);
	(void)api_reply(
		c->api, id,
		json_pack("{s:s}", "message", "logging in (buri status shows when online)"));
}

static void
logout_done(void *arg, int status, const char *text)
{
	struct call *k = arg;

	(void)text;
	(void)api_reply(k->c->api, k->id,
			json_pack("{s:s}", "message",
				  status == 0 ? "logged out" : "logged out (was not online)"));
	free(k);
}

static void
cmd_logout(void *ctx, uint64_t id, int argc, const char *const *argv)
{
	struct ctl *c = ctx;
	struct call *k = calloc(1, sizeof(*k));

	(void)argc;
	(void)argv;
	if (k == NULL) {
		(void)api_error(c->api, id, "out of memory");
		return;
	}
	*k = (struct call){c, id, ""};
	medsess_logout(c->ms, logout_done, k);
}

static void
cmd_keygen(void *ctx, uint64_t id, int argc, const char *const *argv)
{
	struct ctl *c = ctx;
	bool force = argc > 0 && strcmp(argv[0], "--force") == 0;
	char fp[PUBKEY_FP_STR_LEN];
	int r;

	if (argc > 0 && !force) {
		(void)api_error(c->api, id, "keygen: the only option is --force");
		return;
	}
	if ((r = identity_keygen(&c->id, c->cfg.key_path, c->cfg.state_path, force)) != 0) {
		(void)api_error(c->api, id,
				r == E_EXISTS ? "this node has a key, and its overlay address is "
						"bound to it; buri keygen --force makes a new one "
						"(a new account, a new address)"
					      : "keygen: %s",
				err_str(r));
		return;
	}
	pubkey_fingerprint_str(c->id.fp, fp);
	log_warn("new node key (buri keygen --force): registering as a new node");
	medsess_set_identity(c->ms, 0);
	(void)api_reply(
		c->api, id,
		json_pack("{s:s, s:s, s:s}", "fingerprint", fp, "path", c->cfg.key_path, "message",
			  "new key; log out and in again (buri logout; buri login) to register "
			  "it: this node gets a new overlay address"));
}

/* --- views --- */

static const char *
state_name(enum medsess_state s)
{
	return s == MEDSESS_ONLINE	 ? "online"
	       : s == MEDSESS_CONNECTING ? "connecting"
					 : "logged-out";
}

static void
cmd_status(void *ctx, uint64_t id, int argc, const char *const *argv)
{
	struct ctl *c = ctx;
	struct medsess_info mi;
	struct disco_result dr;
	struct dplink_stats ds;
	char fp[PUBKEY_FP_STR_LEN], ov[24];
	json_t *o;

	(void)argc;
	(void)argv;
	medsess_info(c->ms, &mi);
	disco_last(c->disco, &dr);
	dplink_stats(c->dp, &ds);
	pubkey_fingerprint_str(c->id.fp, fp);
	snprintf(ov, sizeof(ov), IP4_FMT "/%u", IP4_ARG(c->id.addr), c->prefix_len);
	o = json_pack("{s:o, s:s, s:s, s:{s:s, s:i, s:s, s:I, s:s, s:i}, s:{s:s, s:o}, "
		      "s:{s:s, s:s}, s:{s:b, s:s, s:I}, s:s}",
		      "identity", c->id.addr ? addr_json(c->id.addr) : json_null(), "nick", c->nick,
		      "state", state_name(mi.state), "mediator", "host", c->cfg.med_host, "port",
		      (int)mi.server_port, "transport", mi.tls ? "tls" : "tcp", "since",
		      (json_int_t)mi.since, "last_error", mi.last_error, "logins", (int)mi.logins,
		      "nat", "type", NAT[dr.nat <= NAT_UDP_BLOCKED ? dr.nat : 0], "public",
		      ep_json(dr.pub_addr, dr.pub_port), "overlay", "iface", c->cfg.overlay_iface,
		      "addr", c->id.addr ? ov : "", "dataplane", "attached", dplink_attached(c->dp),
		      "prefix", c->cfg.dp_prefix, "pid", (json_int_t)ds.dp_pid, "fingerprint", fp);
	(void)api_reply(c->api, id, o);
}

static const char *
tun_state(const struct tunnel_info *t)
{
	if (t->state == TUN_UP)
		return t->dead ? "dead" : "up";
	return t->state == TUN_PUNCH ? "connecting" : "failed";
}

static const char *
path(const struct tunnel_info *t)
{
	if (t->state != TUN_UP)
		return "none";
	return t->relayed ? "relayed" : "direct";
}

static const char *
nat_name(uint8_t nat)
{
	return NAT[nat <= NAT_UDP_BLOCKED ? nat : 0];
}

/* Why the tunnel is relayed or has no path, in one line ("" when direct). */
static void
why(const struct ctl *c, const struct tunnel_info *t, char *out, size_t cap)
{
	struct disco_result dr;

	disco_last(c->disco, &dr);
	out[0] = '\0';
	if (t->state == TUN_UP && !t->relayed)
		return;
	if (t->relayed && t->direct_answers > 0)
		snprintf(out, cap, "the direct path stopped answering; trying it again every 5 s");
	else if (t->relayed || t->state != TUN_UP)
		snprintf(out, cap,
			 "no answer from any of %u direct candidates (our NAT: %s, the peer's: "
			 "%s)%s",
			 t->ncand, nat_name(dr.nat), nat_name(t->peer_nat),
			 !t->relay_granted    ? "; no relay offered by the mediator"
			 : t->relay_status    ? "; the relay refused us"
			 : !t->relay_bound    ? "; the relay has not answered yet"
			 : t->state != TUN_UP ? "; trying via the relay"
					      : "; trying direct every 5 s");
}

static void
peer_one(void *arg, const struct tunnel_info *t)
{
	json_t *list = ((json_t **)arg)[0];
	struct ctl *c = ((struct ctl **)arg)[1];
	const char *nick = netview_nick(&c->nv, t->peer);
	char spi_in[12], spi_out[12], reason[160];
	json_t *cands = json_array();

	snprintf(spi_in, sizeof(spi_in), "%08x", t->spi_in);
	snprintf(spi_out, sizeof(spi_out), "%08x", t->spi_out);
	why(c, t, reason, sizeof(reason));
	for (unsigned i = 0; i < t->ncand; i++)
		json_array_append_new(cands, json_pack("{s:o, s:b}", "endpoint",
						       ep_json(t->cand[i].addr, t->cand[i].port),
						       "answered", t->cand[i].answered));
	json_array_append_new(
		list,
		json_pack("{s:o, s:s, s:o, s:s, s:s, s:o, s:I, s:I, s:I, s:I, s:o, s:i, s:s, s:s, "
			  "s:s, s:s, s:s, s:{s:b, s:b, s:s}, s:o}",
			  "identity", addr_json(t->peer), "nick", nick != NULL ? nick : "",
			  "endpoint", ep_json(t->ep_addr, t->ep_port), "path", path(t), "state",
			  tun_state(t), "rtt_ms",
			  t->rtt_ms >= 0 ? json_integer(t->rtt_ms) : json_null(), "rx_packets",
			  (json_int_t)t->pkts_in, "rx_bytes", (json_int_t)t->bytes_in, "tx_packets",
			  (json_int_t)t->pkts_out, "tx_bytes", (json_int_t)t->bytes_out,
			  "last_handshake",
			  t->last_handshake ? json_integer((json_int_t)t->last_handshake)
					    : json_null(),
			  "quiet_s", (int)t->quiet_s, "spi_in", spi_in, "spi_out", spi_out,
			  "last_error", t->last_error, "why", reason, "peer_nat",
			  nat_name(t->peer_nat), "relay", "offered", t->relay_granted, "bound",
			  t->relay_bound, "status",
			  t->relay_status ? err_str(-(int)t->relay_status) : "", "candidates",
			  cands));
}

static void
cmd_peers(void *ctx, uint64_t id, int argc, const char *const *argv)
{
	struct ctl *c = ctx;
	json_t *list = json_array();
	void *arg[2] = {list, c};

	(void)argc;
	(void)argv;
	tunnels_each(c->tun, peer_one, arg);
	(void)api_reply(c->api, id, json_pack("{s:o}", "peers", list));
}

static const char *
member_tunnel(struct ctl *c, uint32_t id)
{
	struct tunnel_info t;

	if (id == c->id.addr)
		return "self";
	if (!tunnels_get(c->tun, id, &t))
		return "none";
	return tun_state(&t);
}

static json_t *
net_json(struct ctl *c, const struct nv_net *n)
{
	json_t *members = json_array();

	for (unsigned i = 0; i < n->n; i++) {
		const struct nv_member *m = &n->m[i];

		json_array_append_new(members, json_pack("{s:o, s:s, s:s, s:b, s:s}", "identity",
							 addr_json(m->id), "nick", m->nick, "role",
							 role_name(m->role), "online", m->online,
							 "tunnel", member_tunnel(c, m->id)));
	}
	return json_pack("{s:s, s:s, s:b, s:b, s:b, s:i, s:o}", "name", n->name, "role",
			 role_name(n->role), "locked", (n->flags & 1) != 0, "approval",
			 (n->flags & 2) != 0, "online", (n->flags & 4) != 0, "count", n->members,
			 "members", members);
}

static void
cmd_list(void *ctx, uint64_t id, int argc, const char *const *argv)
{
	struct ctl *c = ctx;
	json_t *nets = json_array();

	for (unsigned i = 0; i < c->nv.n; i++)
		if (argc == 0 || strcmp(c->nv.nets[i].name, argv[0]) == 0)
			json_array_append_new(nets, net_json(c, &c->nv.nets[i]));
	if (argc > 0 && json_array_size(nets) == 0) {
		json_decref(nets);
		(void)api_error(c->api, id, "not a member of \"%s\"", argv[0]);
		return;
	}
	(void)api_reply(c->api, id, json_pack("{s:o}", "networks", nets));
}

static void
cmd_inbox(void *ctx, uint64_t id, int argc, const char *const *argv)
{
	struct ctl *c = ctx;
	json_t *list = json_array();

	(void)argc;
	(void)argv;
	for (unsigned i = 0; i < c->nv.ntexts; i++) {
		const struct nv_text *t = &c->nv.texts[(c->nv.head + i) % NETVIEW_TEXTS];

		json_array_append_new(
			list,
			json_pack("{s:I, s:s, s:o, s:s, s:s, s:I, s:s}", "id", (json_int_t)t->id,
				  "kind", t->kind < ARRAY_SIZE(KIND) ? KIND[t->kind] : "?", "from",
				  t->from ? addr_json(t->from) : json_null(), "nick", t->nick,
				  "net", t->net, "time", (json_int_t)t->time, "text", t->text));
	}
	(void)api_reply(c->api, id, json_pack("{s:o}", "messages", list));
}

const struct api_cmd ctl_cmds[] = {
	{"status", 0, 0, cmd_status},
	{"login", 0, 0, cmd_login},
	{"logout", 0, 0, cmd_logout},
	{"set-nick", 1, 1, cmd_set_nick},
	{"create", 1, 2, cmd_create},
	{"join", 1, 2, cmd_join},
	{"leave", 1, 1, cmd_leave},
	{"delete", 1, 1, cmd_delete},
	{"list", 0, 1, cmd_list},
	{"peers", 0, 0, cmd_peers},
	{"go-online", 1, 1, cmd_go_online},
	{"go-offline", 1, 1, cmd_go_offline},
	{"set-pass", 2, 2, cmd_set_pass},
	{"lock", 1, 1, cmd_lock},
	{"unlock", 1, 1, cmd_unlock},
	{"approval", 2, 2, cmd_approval},
	{"approve", 2, 2, cmd_approve},
	{"reject", 2, 2, cmd_reject},
	{"evict", 2, 2, cmd_evict},
	{"ban", 2, 2, cmd_ban},
	{"unban", 2, 2, cmd_unban},
	{"promote", 2, 2, cmd_promote},
	{"demote", 2, 2, cmd_demote},
	{"welcome", 1, API_ARGS_MAX, cmd_welcome},
	{"announce", 2, API_ARGS_MAX, cmd_announce},
	{"msg", 2, API_ARGS_MAX, cmd_msg},
	{"chat", 2, API_ARGS_MAX, cmd_chat},
	{"inbox", 0, 0, cmd_inbox},
	{"keygen", 0, 1, cmd_keygen},
};
const size_t ctl_ncmds = ARRAY_SIZE(ctl_cmds);
