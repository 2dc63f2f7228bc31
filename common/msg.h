/* SPDX-License-Identifier: MIT */
/*
 * Control-protocol messages: the login (HELO, HELO OK, AUTH / REGISTER, AUTH OK), session
 * messages (ERROR, RESULT, PING, PONG and, in later issues, the mediator's application
 * messages) and the peer key exchange (KE1, KE2, KE3). docs/PROTOCOL.md has every layout.
 *
 * A message body is: type (u16) then the type's fields. Where the body travels is its
 * channel; each type is valid only on the channels its descriptor lists, and a decoder is
 * always told which channel it reads, so a message out of place is an error (E_CHANNEL)
 * rather than something a state machine has to remember to refuse.
 *
 * Adding a message: an X() row below with a fresh code, a struct in the union, and one
 * descriptor row (decoder, encoder, channels, length bounds) in msg.c. Requests carry a
 * client-chosen tag (u32) as their first field; the reply is RESULT with the same tag, or a
 * typed reply whose first field is that tag. Unsolicited server messages carry no tag.
 *
 * Decoded spans borrow the input buffer and are valid as long as it is.
 */
#ifndef BURI_MSG_H
#define BURI_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/wire.h"

/* Type codes are stable wire values: 0x00xx login, 0x01xx session, 0x02xx-0x0fxx mediator
 * applications (0x04xx discovery, 0x05xx relay), 0x10xx tunnel control between peers. */
#define MSG_LIST(X)                                                                                \
	X(MSG_HELO, 0x0001, "HELO")                                                                \
	X(MSG_HELO_OK, 0x0002, "HELO OK")                                                          \
	X(MSG_AUTH, 0x0003, "AUTH")                                                                \
	X(MSG_REGISTER, 0x0004, "REGISTER")                                                        \
	X(MSG_AUTH_OK, 0x0005, "AUTH OK")                                                          \
	X(MSG_ERROR, 0x0006, "ERROR")                                                              \
	X(MSG_RESULT, 0x0100, "RESULT")                                                            \
	X(MSG_PING, 0x0101, "PING")                                                                \
	X(MSG_PONG, 0x0102, "PONG")                                                                \
	X(MSG_NICK, 0x0200, "NICK")                                                                \
	X(MSG_NET_CREATE, 0x0201, "NET CREATE")                                                    \
	X(MSG_NET_JOIN, 0x0202, "NET JOIN")                                                        \
	X(MSG_NET_LEAVE, 0x0203, "NET LEAVE")                                                      \
	X(MSG_NET_DELETE, 0x0204, "NET DELETE")                                                    \
	X(MSG_NET_PASS, 0x0205, "NET PASS")                                                        \
	X(MSG_NET_FLAG, 0x0206, "NET FLAG")                                                        \
	X(MSG_NET_MEMBER, 0x0207, "NET MEMBER")                                                    \
	X(MSG_NET_TEXT, 0x0208, "NET TEXT")                                                        \
	X(MSG_IM, 0x0209, "IM")                                                                    \
	X(MSG_INBOX_ACK, 0x020a, "INBOX ACK")                                                      \
	X(MSG_ENDPOINTS, 0x020b, "ENDPOINTS")                                                      \
	X(MSG_SYNC, 0x020c, "SYNC")                                                                \
	X(MSG_LOGOUT, 0x020d, "LOGOUT")                                                            \
	X(MSG_SESSION, 0x0300, "SESSION")                                                          \
	X(MSG_NET, 0x0301, "NET")                                                                  \
	X(MSG_NET_GONE, 0x0302, "NET GONE")                                                        \
	X(MSG_MEMBER, 0x0303, "MEMBER")                                                            \
	X(MSG_MEMBER_GONE, 0x0304, "MEMBER GONE")                                                  \
	X(MSG_SYNC_DONE, 0x0305, "SYNC DONE")                                                      \
	X(MSG_TUNNEL, 0x0306, "TUNNEL")                                                            \
	X(MSG_TUNNEL_DOWN, 0x0307, "TUNNEL DOWN")                                                  \
	X(MSG_PEER_LOST, 0x0308, "PEER LOST")                                                      \
	X(MSG_TEXT, 0x0309, "TEXT")                                                                \
	X(MSG_RELAY, 0x030a, "RELAY")                                                              \
	X(MSG_DISCO_PROBE, 0x0400, "DISCO PROBE")                                                  \
	X(MSG_DISCO_REPLY, 0x0401, "DISCO REPLY")                                                  \
	X(MSG_RELAY_BIND, 0x0500, "RELAY BIND")                                                    \
	X(MSG_RELAY_BOUND, 0x0501, "RELAY BOUND")                                                  \
	X(MSG_KE1, 0x1001, "KE1")                                                                  \
	X(MSG_KE2, 0x1002, "KE2")                                                                  \
	X(MSG_KE3, 0x1003, "KE3")                                                                  \
	X(MSG_PROBE, 0x1004, "PROBE")

enum msg_type {
#define MSG_ENUM(name, code, str) name = code,
	MSG_LIST(MSG_ENUM)
#undef MSG_ENUM
};

enum msg_channel {
	MSG_CH_CLEAR_C2S = 1 << 0,   /* cleartext TCP frame, node to mediator */
	MSG_CH_CLEAR_S2C = 1 << 1,   /* cleartext TCP frame, mediator to node */
	MSG_CH_SESSION_C2S = 1 << 2, /* protected TCP frame, node to mediator */
	MSG_CH_SESSION_S2C = 1 << 3, /* protected TCP frame, mediator to node */
	MSG_CH_TUNNEL = 1 << 4,	     /* tunnel control packet between peers (UDP, SPI 0) */
	MSG_CH_DISCO_C2S = 1 << 5,   /* UDP datagram, node to the mediator's discovery ports */
	MSG_CH_DISCO_S2C = 1 << 6,   /* UDP datagram, discovery reply */
	MSG_CH_RELAY_C2R = 1 << 7,   /* relay message, node to relay (UDP or TCP frame) */
	MSG_CH_RELAY_R2C = 1 << 8,   /* relay message, relay to node */
};

/* Application limits on the wire (the mediator's configuration may set lower ones). */
enum msg_limits {
	MSG_NAME_MAX = 64,	 /* bytes of UTF-8: network name (1..64) */
	MSG_PASS_MAX = 128,	 /* bytes of UTF-8: network password (1..128) */
	MSG_CAND_MAX = 16,	 /* endpoint candidates per node */
	MSG_DISCO_PORTS_MAX = 4, /* discovery ports announced in SESSION */
	MSG_DISCO_KEY_LEN = 20,	 /* bytes: HMAC-SHA1 key for discovery probes */
	MSG_DISCO_NONCE_LEN = 8,
	MSG_PROBE_NONCE_LEN = 8,   /* PROBE: matches an answer to its question */
	MSG_RELAY_SESSION_LEN = 8, /* relay session id */
	MSG_RELAY_TOKEN_LEN = 20,  /* HMAC-SHA1 of the relay secret: the key of RELAY BIND/BOUND */
	MSG_RELAY_SPIS_MAX = 4,	   /* SPIs bound by one RELAY BIND */
	MSG_RELAY_PAD_LEN = 8,	   /* zero bytes that make a BIND larger than its answer */
	MSG_DISCO_PAD_LEN = 8,	   /* zero bytes that make a probe larger than its reply */
	MSG_PREFIX_LEN_MAX = 30,   /* bits: the smallest overlay prefix still holds 2 nodes */
};

/* Roles of a node in a network (NET, MEMBER). */
enum msg_role {
	ROLE_OWNER = 1,
	ROLE_ADMIN = 2,
	ROLE_MEMBER = 3,
	ROLE_PENDING = 4, /* asked to join a network in approval mode; no access yet */
	ROLE_BANNED = 5,  /* listed only to owners and admins */
};

/* NET FLAG: which switch. NET flags: bit (1 << (flag - 1)). */
enum msg_netflag {
	NETFLAG_LOCKED = 1,   /* no new joins */
	NETFLAG_APPROVAL = 2, /* joiners wait as pending until approved */
	NETFLAG_ONLINE = 3,   /* the caller's own presence in the network (go-online/offline) */
};

/* NET MEMBER: what to do to a member. */
enum msg_member_op {
	MEMBER_APPROVE = 1,
	MEMBER_REJECT = 2,
	MEMBER_EVICT = 3,
	MEMBER_BAN = 4,
	MEMBER_UNBAN = 5,
	MEMBER_PROMOTE = 6, /* to admin; owner only */
	MEMBER_DEMOTE = 7,  /* to member; owner only */
};

/* NET TEXT kinds. */
enum msg_nettext {
	NETTEXT_WELCOME = 1,  /* set (empty clears) the welcome message */
	NETTEXT_ANNOUNCE = 2, /* to every member, stored for offline ones */
	NETTEXT_CHAT = 3,     /* to online members only */
};

/* Why a node or a member left a network (NET GONE, MEMBER GONE). */
enum msg_gone {
	GONE_LEFT = 1,
	GONE_DELETED = 2,
	GONE_EVICTED = 3,
	GONE_BANNED = 4,
	GONE_REJECTED = 5,
	GONE_UNBANNED = 6, /* a ban entry was removed (owners and admins only) */
};

/* TUNNEL DOWN reasons. */
enum msg_down {
	DOWN_NO_SHARED_NETWORK = 1,
	DOWN_PEER_OFFLINE = 2, /* the peer logged out or went offline on purpose */
};

/* TEXT kinds. */
enum msg_text_kind {
	TEXT_IM = 1,
	TEXT_CHAT = 2,
	TEXT_WELCOME = 3,
	TEXT_ANNOUNCE = 4,
	TEXT_NOTICE = 5, /* from the mediator itself, e.g. dropped offline messages */
};

/* NAT behaviour a node reports (ENDPOINTS) and the mediator relays (TUNNEL). */
enum msg_nat {
	NAT_UNKNOWN = 0,
	NAT_NONE = 1,	     /* public address on an interface */
	NAT_EIM = 2,	     /* endpoint-independent mapping */
	NAT_EDM = 3,	     /* endpoint-dependent mapping (symmetric) */
	NAT_UDP_BLOCKED = 4, /* no UDP reaches the mediator */
};

/* Kind of an endpoint candidate. */
enum msg_cand_kind {
	CAND_LOCAL = 1, /* an address of one of the node's own interfaces */
	CAND_OBSERVED =
		2, /* public address:port the mediator saw the node's discovery probe from */
	CAND_REPORTED = 3, /* public address:port the node learned itself (e.g. port prediction) */
};

struct msg_cand {
	uint32_t addr; /* IPv4, host order */
	uint16_t port;
	uint8_t kind; /* CAND_* */
};

struct msg_helo {
	uint8_t suite;
	uint8_t kfp[WIRE_KFP_LEN];
	uint8_t ni[WIRE_NONCE_LEN];
	uint8_t gi[WIRE_DH_LEN];
};

struct msg_helo_ok {
	uint8_t nr[WIRE_NONCE_LEN];
	uint8_t gr[WIRE_DH_LEN];
};

/* AUTH (identity = the node's overlay IPv4 address, host order) and AUTH OK (identity = the
 * address the mediator confirms or, after REGISTER, assigns). */
struct msg_auth {
	uint32_t identity;
	struct span sig;
};

struct msg_register {
	struct span pubkey; /* DER SubjectPublicKeyInfo */
	struct span nick;   /* UTF-8, may be empty: the mediator picks one */
	struct span token;  /* UTF-8 registration token, empty on open mediators */
	struct span sig;
};

struct msg_error {
	uint16_t status; /* E_* as a wire code (err.h) */
	struct span text;
};

struct msg_result {
	uint32_t tag;
	uint16_t status;
	struct span text;
};

struct msg_ping {
	uint32_t tag;
};

/* Requests (node to mediator) carry a tag; names are network names. */
struct msg_nick {
	uint32_t tag;
	struct span nick;
};

/* NET CREATE, NET JOIN (name, pass); NET LEAVE, NET DELETE (name); NET PASS (name, pass). */
struct msg_net_req {
	uint32_t tag;
	struct span name;
	struct span pass; /* empty for LEAVE and DELETE (not on the wire) */
};

struct msg_net_flag {
	uint32_t tag;
	struct span name;
	uint8_t flag; /* NETFLAG_* */
	uint8_t on;   /* 0 or 1 */
};

struct msg_net_member {
	uint32_t tag;
	struct span name;
	uint32_t member; /* identity */
	uint8_t op;	 /* MEMBER_* */
};

struct msg_net_text {
	uint32_t tag;
	struct span name;
	uint8_t kind; /* NETTEXT_* */
	struct span text;
};

struct msg_im {
	uint32_t tag;
	uint32_t to;
	struct span text;
};

struct msg_inbox_ack {
	uint32_t tag;
	uint64_t upto; /* every stored TEXT with an id <= upto is delivered */
};

struct msg_endpoints {
	uint32_t tag;
	uint8_t nat; /* NAT_* */
	uint8_t n;
	struct msg_cand cand[MSG_CAND_MAX];
};

/* SYNC and LOGOUT carry only a tag: struct msg_ping. */

/* Notifications (mediator to node) carry no tag. */
struct msg_session {
	uint32_t identity;
	struct span nick;
	uint32_t addr; /* the node's address and port as the mediator sees its connection */
	uint16_t port;
	uint32_t prefix;    /* overlay prefix, host order */
	uint8_t prefix_len; /* 1..30 */
	uint8_t disco_key[MSG_DISCO_KEY_LEN];
	uint8_t n_ports;
	uint16_t disco_port[MSG_DISCO_PORTS_MAX];
};

struct msg_net {
	struct span name;
	uint8_t role;	  /* ROLE_* of the receiver */
	uint8_t flags;	  /* bit 0 locked, bit 1 approval, bit 2 the receiver is online in it */
	uint16_t members; /* members, pending ones excluded */
};

struct msg_net_gone {
	struct span name;
	uint8_t reason; /* GONE_* */
};

struct msg_member {
	struct span name; /* network */
	uint32_t identity;
	struct span nick;
	uint8_t role;	    /* ROLE_* */
	uint8_t online;	    /* logged in and online in this network */
	struct span pubkey; /* DER SubjectPublicKeyInfo */
};

struct msg_member_gone {
	struct span name;
	uint32_t identity;
	uint8_t reason; /* GONE_* */
};

struct msg_sync_done {
	uint16_t networks;
};

struct msg_tunnel {
	uint32_t peer;	   /* the peer's identity = overlay address */
	uint32_t my_spi;   /* the receiver's inbound SPI */
	uint32_t peer_spi; /* the peer's inbound SPI */
	uint8_t peer_nat;  /* NAT_* the peer reported */
	struct span pubkey;
	uint8_t n;
	struct msg_cand cand[MSG_CAND_MAX + 1]; /* the peer's reports, plus the observed one */
};

/* TUNNEL DOWN and PEER LOST. */
struct msg_peer {
	uint32_t peer;
	uint8_t reason; /* DOWN_* (TUNNEL DOWN only) */
};

struct msg_text {
	uint64_t id;	  /* stored message id, to acknowledge with INBOX ACK; 0 if not stored */
	uint8_t kind;	  /* TEXT_* */
	uint32_t from;	  /* sender identity, 0 for the mediator */
	uint64_t time;	  /* seconds since the Unix epoch, when the mediator accepted it */
	struct span net;  /* network, empty for IM and NOTICE */
	struct span nick; /* sender's nickname then */
	struct span text;
};

struct msg_disco_probe {
	uint32_t identity;
	uint8_t nonce[MSG_DISCO_NONCE_LEN];
	uint8_t mac[WIRE_MAC_LEN];
};

struct msg_disco_reply {
	uint8_t nonce[MSG_DISCO_NONCE_LEN];
	uint32_t addr; /* source address and port of the probe, as the mediator saw them */
	uint16_t port;
	uint16_t server_port; /* the discovery port the probe reached */
	uint8_t mac[WIRE_MAC_LEN];
};

/* RELAY: a grant for one side of a relay session (PROTOCOL.md 7.4). */
struct msg_relay {
	uint32_t peer;
	uint8_t session[MSG_RELAY_SESSION_LEN];
	uint32_t expiry; /* UNIX time, seconds */
	uint8_t side;	 /* 0..1 */
	uint32_t addr;	 /* the relay's */
	uint16_t udp_port;
	uint16_t tcp_port; /* 0: none */
	uint8_t token[MSG_RELAY_TOKEN_LEN];
};

struct msg_relay_bind {
	uint8_t session[MSG_RELAY_SESSION_LEN];
	uint32_t expiry;
	uint8_t side;
	uint32_t identity, peer;
	uint64_t seq;
	uint8_t n; /* 1..MSG_RELAY_SPIS_MAX */
	uint32_t spi[MSG_RELAY_SPIS_MAX];
	uint8_t mac[WIRE_MAC_LEN];
};

struct msg_relay_bound {
	uint8_t session[MSG_RELAY_SESSION_LEN];
	uint8_t side;
	uint64_t seq;
	uint16_t status; /* 0 or an E_* wire code */
	uint8_t peer_bound;
	uint32_t addr; /* the BIND's source, as the relay saw it (0 over TCP) */
	uint16_t port;
	uint8_t mac[WIRE_MAC_LEN];
};

/* KE1 (sig empty), KE2 (Nr, Gr, sig) and KE3 (Ni, Gi, sig). */
struct msg_ke {
	uint8_t nonce[WIRE_NONCE_LEN];
	uint8_t dh[WIRE_DH_LEN];
	struct span sig;
};

/* PROBE: hole punching and path checks on the tunnel port. */
struct msg_probe {
	uint8_t nonce[MSG_PROBE_NONCE_LEN];
	uint8_t reply; /* 1: answer me (with reply 0 and this nonce) */
};

struct msg {
	uint16_t type;
	union {
		struct msg_helo helo;
		struct msg_helo_ok helo_ok;
		struct msg_auth auth; /* AUTH and AUTH OK */
		struct msg_register reg;
		struct msg_error error;
		struct msg_result result;
		struct msg_ping ping; /* PING, PONG, SYNC, LOGOUT */
		struct msg_ke ke;     /* KE1, KE2, KE3 */
		struct msg_probe probe;
		struct msg_nick nick;
		struct msg_net_req net_req; /* NET CREATE, JOIN, LEAVE, DELETE, PASS */
		struct msg_net_flag net_flag;
		struct msg_net_member net_member;
		struct msg_net_text net_text;
		struct msg_im im;
		struct msg_inbox_ack inbox_ack;
		struct msg_endpoints endpoints;
		struct msg_session session;
		struct msg_net net;
		struct msg_net_gone net_gone;
		struct msg_member member;
		struct msg_member_gone member_gone;
		struct msg_sync_done sync_done;
		struct msg_tunnel tunnel;
		struct msg_peer peer; /* TUNNEL DOWN, PEER LOST */
		struct msg_text text;
		struct msg_disco_probe disco_probe;
		struct msg_disco_reply disco_reply;
		struct msg_relay relay;
		struct msg_relay_bind relay_bind;
		struct msg_relay_bound relay_bound;
	} u;
};

/* Decode the body p[0..len) read on channel (one MSG_CH_* bit). Checks, in order: type known
 * (E_TYPE), allowed on channel (E_CHANNEL), length within the type's bounds (E_SHORT /
 * E_TOOBIG), each field (E_RANGE, E_ENCODING), nothing left over (E_TRAILING). */
int msg_decode(unsigned int channel, const uint8_t *p, size_t len, struct msg *m) WARN_UNUSED;

/* Encode m for channel into out. The result is checked with msg_decode(), so nothing this
 * returns 0 for is refused by a conforming peer. */
int msg_encode(unsigned int channel, const struct msg *m, uint8_t *out, size_t cap,
	       size_t *len) WARN_UNUSED;

/* Puts tag into the tag field of a request (and of PING, which PONG echoes); false for a type
 * that has none. */
bool msg_set_tag(struct msg *m, uint32_t tag);

/* "HELO", "KE2", ...; "unknown" for codes this build does not know. */
const char *msg_name(uint16_t type);

/* Largest body of any known type: a buffer this big holds any encodable message. */
size_t msg_max_len(void);

#endif
