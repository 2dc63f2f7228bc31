/* SPDX-License-Identifier: MIT */
/*
 * The mediator's durable store: accounts, networks, memberships, bans and stored messages.
 *
 * The protocol code keeps its working state in memory and calls this narrow interface to make
 * each change durable. Rows cross it by value (no pointers into the caller's objects), so a
 * second backend (PostgreSQL, for several mediators on one database) is one more
 * struct store_ops and touches nothing else.
 *
 * Transactions: the first write after a commit opens a transaction; store_commit() makes
 * every write since then durable at once (group commit: the event loop calls it once per
 * turn, before it sends any reply that acknowledges those writes). A change is therefore on
 * disk before anyone is told it happened. If store_commit() fails, nothing since the last
 * commit is durable and the caller must not acknowledge it (the mediator exits and reloads).
 *
 * A write that fails with E_STORE rolls back the whole open transaction, not only itself:
 * later writes fail too and the next store_commit() returns E_STORE, so the caller can never
 * acknowledge a change that is gone. E_EXISTS, E_NOTFOUND and E_INVAL undo only the one
 * write; the transaction goes on.
 *
 * All functions return 0 or a negative E_* code: E_STORE for backend failures, E_INVAL for
 * bad arguments (NULL pointers, strings over their wire limit, roles or kinds out of range, a
 * call from inside a store callback), E_NOTFOUND and E_EXISTS where stated. Every failure
 * leaves a one-line reason in store_error(); no reason ever contains key bytes. Strings are
 * NUL-terminated UTF-8. One store is used by one thread.
 */
#ifndef BURI_MED_STORE_H
#define BURI_MED_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct store;

struct store_account {
	uint32_t id;	    /* overlay address, host order; the primary key */
	const uint8_t *der; /* public key, DER SubjectPublicKeyInfo */
	size_t der_len;
	const char *nick;
	uint32_t dropped; /* stored messages dropped since the node last logged in */
	int64_t created;  /* Unix seconds */
};

struct store_network {
	uint64_t id; /* assigned by store_network_add() */
	const char *name;
	const char *passhash; /* passwd.h format; never the password */
	uint32_t owner;
	bool locked;
	bool approval;
	const char *welcome; /* "" when none */
	int64_t created;
};

struct store_member {
	uint64_t net;
	uint32_t node;
	uint8_t role; /* ROLE_* of common/msg.h: OWNER, ADMIN, MEMBER or PENDING */
	bool online;  /* the node's own go-online / go-offline switch for this network */
};

struct store_ban {
	uint64_t net;
	uint32_t node;
};

struct store_text {
	uint64_t id; /* assigned by store_text_add(), increasing */
	uint32_t to;
	uint8_t kind; /* TEXT_* of common/msg.h */
	uint32_t from;
	int64_t time;
	const char *net;  /* "" when none */
	const char *nick; /* sender's nickname at the time */
	const char *text;
};

/* Callbacks for store_load(); each returns 0 to go on or a negative E_* to stop (which
 * store_load() then returns). A NULL callback skips its rows. Rows and their strings are
 * valid only during the call, and a callback must not call back into the store. */
struct store_load_cb {
	int (*account)(void *arg, const struct store_account *a);
	int (*network)(void *arg, const struct store_network *n);
	int (*member)(void *arg, const struct store_member *m);
	int (*ban)(void *arg, const struct store_ban *b);
	int (*inbox)(void *arg, uint32_t node, uint32_t count); /* nodes with stored texts */
};

/* Opens (creating if needed, mode 0600) the store named by backend ("sqlite") and path, and
 * migrates its schema to the current version in one transaction. A store whose schema is newer
 * than STORE_SCHEMA_VERSION is refused. NULL on failure, with a one-line reason in err (which
 * may be NULL). */
struct store *store_open(const char *backend, const char *path, char *err, size_t errlen);
/* Rolls back anything uncommitted and closes (NULL is fine). */
void store_close(struct store *s);
/* Schema version of the open store (after migration: STORE_SCHEMA_VERSION). */
int store_schema_version(struct store *s);
/* Calls cb for every row: all accounts, then networks, members, bans, inbox counts, each
 * in key order. */
int store_load(struct store *s, const struct store_load_cb *cb, void *arg);

/* Writes. Each joins the open transaction (opening one if needed). E_NOTFOUND: the row to
 * change, or an account or network the row refers to, does not exist. */
int store_account_add(struct store *s, const struct store_account *a); /* E_EXISTS: id or key */
int store_account_nick(struct store *s, uint32_t id, const char *nick);
int store_account_dropped(struct store *s, uint32_t id, uint32_t dropped);
/* Sets n->id (never one used before, even by a deleted network); E_EXISTS: name taken. */
int store_network_add(struct store *s, struct store_network *n);
int store_network_update(struct store *s, const struct store_network *n); /* all but id, name */
int store_network_del(struct store *s, uint64_t id);		     /* with its members and bans */
int store_member_put(struct store *s, const struct store_member *m); /* insert or replace */
int store_member_del(struct store *s, uint64_t net, uint32_t node);
int store_ban_put(struct store *s, const struct store_ban *b); /* banning twice is fine */
int store_ban_del(struct store *s, uint64_t net, uint32_t node);
/* Sets t->id: larger than any id given before, deleted texts included. */
int store_text_add(struct store *s, struct store_text *t);
/* Deletes node's texts with id <= upto; *deleted (may be NULL) says how many. */
int store_text_ack(struct store *s, uint32_t node, uint64_t upto, uint32_t *deleted);
/* Deletes node's oldest texts until at most keep remain; *dropped (may be NULL) says how many
 * went. */
int store_text_trim(struct store *s, uint32_t node, uint32_t keep, uint32_t *dropped);
/* Calls cb for node's stored texts in id order (reads see uncommitted writes); cb returns 0
 * to go on or a negative E_* to stop, which is returned. As for store_load(), the row is valid
 * only during the call and cb must not call back into the store. */
int store_text_each(struct store *s, uint32_t node,
		    int (*cb)(void *arg, const struct store_text *t), void *arg);

/* True if writes are waiting for store_commit(). */
bool store_dirty(const struct store *s);
/* Makes every write since the last commit durable (fsync'd). On failure the transaction is
 * rolled back and E_STORE returned. */
int store_commit(struct store *s);

/* The reason for the last failure on s, "" if none yet. Valid until the next call on s. */
const char *store_error(const struct store *s);

#define STORE_SCHEMA_VERSION 1

#endif
