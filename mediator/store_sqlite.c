/* SPDX-License-Identifier: MIT */
/*
 * The SQLite backend of the store (store_ops.h).
 *
 * Durability: the journal is a write-ahead log with synchronous=FULL, so COMMIT returns only
 * after the log is fsync'd. A crash at any point loses nothing store_commit() reported done,
 * and recovery at the next open drops the frames of a transaction that never committed.
 *
 * Transactions: the first write after a commit runs BEGIN IMMEDIATE, which takes the write
 * lock at once, so a second process on the same file fails there (after busy_timeout) rather
 * than at COMMIT after we have made promises. A constraint failure (E_EXISTS, E_NOTFOUND,
 * E_INVAL) undoes only its own statement, which SQLite guarantees; any other failure may
 * have rolled back the whole transaction behind our back, so we roll it back ourselves and
 * remember it (failed), and commit reports E_STORE. Otherwise a later write would open a
 * fresh transaction and commit it without the lost ones.
 *
 * Statements are prepared once at open (the STMT_LIST table) and reset after every use, so no
 * SELECT keeps a read snapshot, and no binding keeps a pointer to the caller's memory, after
 * a call returns.
 *
 * Schema: PRAGMA user_version counts the migrations applied; migrations[v] takes a store
 * from version v to v + 1. Open applies the missing ones in one transaction, so a store is at
 * its old version or the new one, never between. A migration that has shipped is never
 * edited: add one, and bump STORE_SCHEMA_VERSION.
 */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/util.h"
#include "mediator/store.h"
#include "mediator/store_ops.h"

/* How long BEGIN IMMEDIATE waits for another writer (say, an admin's sqlite3 shell). */
enum { BUSY_TIMEOUT_MS = 5000 };

/* Version 1. Names are the protocol's. Accounts are never deleted, so nothing cascades from
 * them; a network takes its members and bans with it. AUTOINCREMENT keeps network and text
 * ids from being reused after a delete: a node acknowledges texts by id, and a stale network
 * id must never name a new network. */
static const char schema_v1[] = "CREATE TABLE accounts ("
				" id INTEGER PRIMARY KEY CHECK (id BETWEEN 0 AND 4294967295),"
				" der BLOB NOT NULL UNIQUE,"
				" nick TEXT NOT NULL,"
				" dropped INTEGER NOT NULL,"
				" created INTEGER NOT NULL);"
				"CREATE TABLE networks ("
				" id INTEGER PRIMARY KEY AUTOINCREMENT,"
				" name TEXT NOT NULL UNIQUE,"
				" passhash TEXT NOT NULL,"
				" owner INTEGER NOT NULL REFERENCES accounts (id),"
				" locked INTEGER NOT NULL,"
				" approval INTEGER NOT NULL,"
				" welcome TEXT NOT NULL,"
				" created INTEGER NOT NULL);"
				"CREATE TABLE members ("
				" net INTEGER NOT NULL REFERENCES networks (id) ON DELETE CASCADE,"
				" node INTEGER NOT NULL REFERENCES accounts (id),"
				" role INTEGER NOT NULL CHECK (role BETWEEN 1 AND 4),"
				" online INTEGER NOT NULL,"
				" PRIMARY KEY (net, node)) WITHOUT ROWID;"
				"CREATE TABLE bans ("
				" net INTEGER NOT NULL REFERENCES networks (id) ON DELETE CASCADE,"
				" node INTEGER NOT NULL REFERENCES accounts (id),"
				" PRIMARY KEY (net, node)) WITHOUT ROWID;"
				"CREATE TABLE texts ("
				" id INTEGER PRIMARY KEY AUTOINCREMENT,"
				" \"to\" INTEGER NOT NULL REFERENCES accounts (id),"
				" kind INTEGER NOT NULL,"
				" \"from\" INTEGER NOT NULL,"
				" time INTEGER NOT NULL,"
				" net TEXT NOT NULL,"
				" nick TEXT NOT NULL,"
				" text TEXT NOT NULL);"
				"CREATE INDEX texts_to ON texts (\"to\", id);";

static const char *const migrations[] = {
	schema_v1, /* 0 -> 1 */
};

_Static_assert(ARRAY_SIZE(migrations) == STORE_SCHEMA_VERSION, "one migration per schema version");

/* Every statement used after open: name, what error messages call it, SQL. */
#define STMT_LIST(X)                                                                               \
	X(ST_BEGIN, "begin", "BEGIN IMMEDIATE")                                                    \
	X(ST_COMMIT, "commit", "COMMIT")                                                           \
	X(ST_ROLLBACK, "rollback", "ROLLBACK")                                                     \
	X(ST_ACCOUNT_ADD, "account add",                                                           \
	  "INSERT INTO accounts (id, der, nick, dropped, created) VALUES (?1, ?2, ?3, ?4, ?5)")    \
	X(ST_ACCOUNT_NICK, "account nick", "UPDATE accounts SET nick = ?2 WHERE id = ?1")          \
	X(ST_ACCOUNT_DROPPED, "account dropped", "UPDATE accounts SET dropped = ?2 WHERE id = ?1") \
	X(ST_NETWORK_ADD, "network add",                                                           \
	  "INSERT INTO networks (name, passhash, owner, locked, approval, welcome, created)"       \
	  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")                                                  \
	X(ST_NETWORK_UPDATE, "network update",                                                     \
	  "UPDATE networks SET passhash = ?2, owner = ?3, locked = ?4, approval = ?5,"             \
	  " welcome = ?6, created = ?7 WHERE id = ?1")                                             \
	X(ST_NETWORK_DEL, "network delete", "DELETE FROM networks WHERE id = ?1")                  \
	X(ST_MEMBER_PUT, "member put",                                                             \
	  "INSERT INTO members (net, node, role, online) VALUES (?1, ?2, ?3, ?4)"                  \
	  " ON CONFLICT (net, node) DO UPDATE SET role = excluded.role, online = excluded.online") \
	X(ST_MEMBER_DEL, "member delete", "DELETE FROM members WHERE net = ?1 AND node = ?2")      \
	X(ST_BAN_PUT, "ban put",                                                                   \
	  "INSERT INTO bans (net, node) VALUES (?1, ?2) ON CONFLICT (net, node) DO NOTHING")       \
	X(ST_BAN_DEL, "ban delete", "DELETE FROM bans WHERE net = ?1 AND node = ?2")               \
	X(ST_TEXT_ADD, "text add",                                                                 \
	  "INSERT INTO texts (\"to\", kind, \"from\", time, net, nick, text)"                      \
	  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")                                                  \
	X(ST_TEXT_ACK, "text ack", "DELETE FROM texts WHERE \"to\" = ?1 AND id <= ?2")             \
	X(ST_TEXT_TRIM, "text trim",                                                               \
	  "DELETE FROM texts WHERE \"to\" = ?1 AND id IN (SELECT id FROM texts"                    \
	  " WHERE \"to\" = ?1 ORDER BY id DESC LIMIT -1 OFFSET ?2)")                               \
	X(ST_TEXT_EACH, "text each",                                                               \
	  "SELECT id, kind, \"from\", time, net, nick, text FROM texts"                            \
	  " WHERE \"to\" = ?1 ORDER BY id")                                                        \
	X(ST_LOAD_ACCOUNTS, "load accounts",                                                       \
	  "SELECT id, der, nick, dropped, created FROM accounts ORDER BY id")                      \
	X(ST_LOAD_NETWORKS, "load networks",                                                       \
	  "SELECT id, name, passhash, owner, locked, approval, welcome, created FROM networks"     \
	  " ORDER BY id")                                                                          \
	X(ST_LOAD_MEMBERS, "load members",                                                         \
	  "SELECT net, node, role, online FROM members ORDER BY net, node")                        \
	X(ST_LOAD_BANS, "load bans", "SELECT net, node FROM bans ORDER BY net, node")              \
	X(ST_LOAD_INBOX, "load inbox",                                                             \
	  "SELECT \"to\", count(*) FROM texts GROUP BY \"to\" ORDER BY \"to\"")

enum stmt {
#define STMT_ENUM(id, name, sql) id,
	STMT_LIST(STMT_ENUM)
#undef STMT_ENUM
		ST_COUNT
};

static const struct {
	const char *name;
	const char *sql;
} stmts[] = {
#define STMT_ROW(id, name, sql) [id] = {name, sql},
	STMT_LIST(STMT_ROW)
#undef STMT_ROW
};

struct sq {
	sqlite3 *db;
	sqlite3_stmt *st[ST_COUNT];
	char *err; /* the front's buffer (store_ops.h) */
	size_t errlen;
	int version;
	bool txn;    /* BEGIN IMMEDIATE has run; writes wait for COMMIT */
	bool failed; /* the transaction was lost to an error; the next commit says so */
};

static int fail(struct sq *q, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Records the reason for a failure in the front's buffer and returns code. */
static int
fail(struct sq *q, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(q->err, q->errlen, fmt, ap);
	va_end(ap);
	return code;
}

/* The operating system's reason behind an I/O failure ("File too large"), NULL if there is
 * none. Only for I/O failures: otherwise the last errno SQLite kept may be stale. */
static const char *
os_error(struct sq *q, int rc)
{
	int e = sqlite3_system_errno(q->db);

	switch (rc & 0xff) {
	case SQLITE_IOERR:
	case SQLITE_CANTOPEN:
		return e != 0 ? strerror(e) : NULL;
	default:
		return NULL;
	}
}

/* Maps a failed sqlite3 call to an E_* code and records why. Constraint failures are the
 * caller's to handle; everything else is the store's. */
static int
db_error(struct sq *q, const char *what, int rc)
{
	const char *os;
	int code;

	switch (rc) {
	case SQLITE_CONSTRAINT_PRIMARYKEY:
	case SQLITE_CONSTRAINT_UNIQUE:
		code = E_EXISTS;
		break;
	case SQLITE_CONSTRAINT_FOREIGNKEY:
		code = E_NOTFOUND;
		break;
	default:
		code = (rc & 0xff) == SQLITE_CONSTRAINT ? E_INVAL : E_STORE;
		break;
	}
	os = os_error(q, rc);
	return fail(q, code, "store: %s: %s (sqlite code %d%s%s)", what, sqlite3_errmsg(q->db), rc,
		    os != NULL ? ", " : "", os != NULL ? os : "");
}

/* Readies st for its next use and lets go of the caller's memory it was bound to. */
static void
reset(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

/* After a failure that is not a constraint's: SQLite may already have rolled the transaction
 * back (SQLITE_FULL, SQLITE_IOERR, SQLITE_NOMEM may); make sure, and remember that writes
 * were lost. The message of the first failure is kept. */
static void
abort_txn(struct sq *q)
{
	if (!q->txn)
		return;
	if (!sqlite3_get_autocommit(q->db)) {
		sqlite3_step(q->st[ST_ROLLBACK]);
		sqlite3_reset(q->st[ST_ROLLBACK]);
	}
	q->txn = false;
	q->failed = true;
}

static int
begin(struct sq *q)
{
	int rc;

	if (q->failed)
		return fail(q, E_STORE,
			    "store: an earlier write failed and was rolled back; "
			    "store_commit() must report it first");
	if (q->txn)
		return 0;
	rc = sqlite3_step(q->st[ST_BEGIN]);
	sqlite3_reset(q->st[ST_BEGIN]);
	if (rc != SQLITE_DONE)
		return db_error(q, stmts[ST_BEGIN].name, rc);
	q->txn = true;
	return 0;
}

/* Runs the write id, whose parameters the caller has bound; brc is the OR of the bind
 * results (SQLITE_OK is 0, so it is 0 exactly when all succeeded). *changes (may be NULL)
 * gets the number of rows changed. */
static int
write_stmt(struct sq *q, enum stmt id, int brc, int *changes)
{
	sqlite3_stmt *st = q->st[id];
	int rc, r;

	if ((r = begin(q)) != 0)
		goto out;
	if (brc != SQLITE_OK) {
		r = fail(q, E_STORE, "store: %s: binding parameters: %s", stmts[id].name,
			 sqlite3_errmsg(q->db));
		goto out;
	}
	if ((rc = sqlite3_step(st)) != SQLITE_DONE) {
		r = db_error(q, stmts[id].name, rc);
		goto out;
	}
	if (changes != NULL)
		*changes = sqlite3_changes(q->db);
out:
	reset(st);
	if (r == E_STORE)
		abort_txn(q);
	return r;
}

/* A write that must change exactly one row: none is E_NOTFOUND. */
static int
write_one(struct sq *q, enum stmt id, int brc)
{
	int n = 0, r;

	if ((r = write_stmt(q, id, brc, &n)) != 0)
		return r;
	if (n == 0)
		return fail(q, E_NOTFOUND, "store: %s: no such row", stmts[id].name);
	return 0;
}

/* Text bound without a copy: the caller's string outlives the statement's use of it, since
 * write_stmt() clears the bindings before returning. */
static int
bind_str(sqlite3_stmt *st, int i, const char *s)
{
	return sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
}

/* SQLite integers are signed; an id beyond INT64_MAX cannot name a row, and as an upper
 * bound it means "all". */
static sqlite3_int64
u64(uint64_t v)
{
	return v > INT64_MAX ? INT64_MAX : (sqlite3_int64)v;
}

/* Reading a row: the getters remember the first bad column, so a row function reads every
 * field and checks once. The database is ours, but a value out of range means it was
 * damaged or edited by hand, and must not reach the mediator as something else. */
struct row {
	struct sq *q;
	sqlite3_stmt *st;
	enum stmt id;
	int r;
};

static int
bad_column(struct row *rw, int col, const char *why)
{
	const char *name = sqlite3_column_name(rw->st, col);

	if (rw->r == 0)
		rw->r = fail(rw->q, E_STORE, "store: %s: column %s %s", stmts[rw->id].name,
			     name != NULL ? name : "?", why);
	return rw->r;
}

static uint64_t
get_uint(struct row *rw, int col, uint64_t max)
{
	sqlite3_int64 v;

	if (sqlite3_column_type(rw->st, col) != SQLITE_INTEGER) {
		bad_column(rw, col, "is not an integer");
		return 0;
	}
	v = sqlite3_column_int64(rw->st, col);
	if (v < 0 || (uint64_t)v > max) {
		bad_column(rw, col, "is out of range");
		return 0;
	}
	return (uint64_t)v;
}

static int64_t
get_i64(struct row *rw, int col)
{
	if (sqlite3_column_type(rw->st, col) != SQLITE_INTEGER) {
		bad_column(rw, col, "is not an integer");
		return 0;
	}
	return sqlite3_column_int64(rw->st, col);
}

static const char *
get_text(struct row *rw, int col)
{
	const unsigned char *p;

	if (sqlite3_column_type(rw->st, col) != SQLITE_TEXT) {
		bad_column(rw, col, "is not text");
		return "";
	}
	if ((p = sqlite3_column_text(rw->st, col)) == NULL) {
		bad_column(rw, col, "could not be read (out of memory)");
		return "";
	}
	return (const char *)p;
}

static const uint8_t *
get_blob(struct row *rw, int col, size_t *len)
{
	const void *p;

	*len = 0;
	if (sqlite3_column_type(rw->st, col) != SQLITE_BLOB) {
		bad_column(rw, col, "is not a blob");
		return NULL;
	}
	if ((p = sqlite3_column_blob(rw->st, col)) == NULL) {
		bad_column(rw, col, "is empty or could not be read");
		return NULL;
	}
	*len = (size_t)sqlite3_column_bytes(rw->st, col);
	return p;
}

typedef int (*row_fn)(struct row *rw, void *ctx);

/* Steps the SELECT id, whose parameters the caller has bound, calling fn for each row until
 * it returns non-zero. */
static int
each_row(struct sq *q, enum stmt id, row_fn fn, void *ctx)
{
	struct row rw = {q, q->st[id], id, 0};
	bool db_failed = false;
	int rc, r = 0;

	while ((rc = sqlite3_step(rw.st)) == SQLITE_ROW)
		if ((r = fn(&rw, ctx)) != 0)
			break;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		r = db_error(q, stmts[id].name, rc);
		db_failed = true;
	}
	reset(rw.st);
	if (db_failed)
		abort_txn(q);
	return r;
}

struct load_ctx {
	const struct store_load_cb *cb;
	void *arg;
};

static int
account_row(struct row *rw, void *ctx)
{
	const struct load_ctx *l = ctx;
	struct store_account a;

	a.id = (uint32_t)get_uint(rw, 0, UINT32_MAX);
	a.der = get_blob(rw, 1, &a.der_len);
	a.nick = get_text(rw, 2);
	a.dropped = (uint32_t)get_uint(rw, 3, UINT32_MAX);
	a.created = get_i64(rw, 4);
	return rw->r != 0 ? rw->r : l->cb->account(l->arg, &a);
}

static int
network_row(struct row *rw, void *ctx)
{
	const struct load_ctx *l = ctx;
	struct store_network n;

	n.id = get_uint(rw, 0, INT64_MAX);
	n.name = get_text(rw, 1);
	n.passhash = get_text(rw, 2);
	n.owner = (uint32_t)get_uint(rw, 3, UINT32_MAX);
	n.locked = get_uint(rw, 4, 1) != 0;
	n.approval = get_uint(rw, 5, 1) != 0;
	n.welcome = get_text(rw, 6);
	n.created = get_i64(rw, 7);
	return rw->r != 0 ? rw->r : l->cb->network(l->arg, &n);
}

static int
member_row(struct row *rw, void *ctx)
{
	const struct load_ctx *l = ctx;
	struct store_member m;

	m.net = get_uint(rw, 0, INT64_MAX);
	m.node = (uint32_t)get_uint(rw, 1, UINT32_MAX);
	m.role = (uint8_t)get_uint(rw, 2, UINT8_MAX);
	m.online = get_uint(rw, 3, 1) != 0;
	return rw->r != 0 ? rw->r : l->cb->member(l->arg, &m);
}

static int
ban_row(struct row *rw, void *ctx)
{
	const struct load_ctx *l = ctx;
	struct store_ban b;

	b.net = get_uint(rw, 0, INT64_MAX);
	b.node = (uint32_t)get_uint(rw, 1, UINT32_MAX);
	return rw->r != 0 ? rw->r : l->cb->ban(l->arg, &b);
}

static int
inbox_row(struct row *rw, void *ctx)
{
	const struct load_ctx *l = ctx;
	uint32_t node, count;

	node = (uint32_t)get_uint(rw, 0, UINT32_MAX);
	count = (uint32_t)get_uint(rw, 1, UINT32_MAX);
	return rw->r != 0 ? rw->r : l->cb->inbox(l->arg, node, count);
}

static int
sq_load(void *impl, const struct store_load_cb *cb, void *arg)
{
	const struct {
		enum stmt id;
		row_fn fn;
		bool wanted;
	} steps[] = {
		{ST_LOAD_ACCOUNTS, account_row, cb->account != NULL},
		{ST_LOAD_NETWORKS, network_row, cb->network != NULL},
		{ST_LOAD_MEMBERS, member_row, cb->member != NULL},
		{ST_LOAD_BANS, ban_row, cb->ban != NULL},
		{ST_LOAD_INBOX, inbox_row, cb->inbox != NULL},
	};
	struct load_ctx l = {cb, arg};
	int r;

	for (size_t i = 0; i < ARRAY_SIZE(steps); i++)
		if (steps[i].wanted && (r = each_row(impl, steps[i].id, steps[i].fn, &l)) != 0)
			return r;
	return 0;
}

static int
sq_account_add(void *impl, const struct store_account *a)
{
	struct sq *q = impl;
	sqlite3_stmt *st = q->st[ST_ACCOUNT_ADD];
	int brc;

	brc = sqlite3_bind_int64(st, 1, a->id) |
	      sqlite3_bind_blob(st, 2, a->der, (int)a->der_len, SQLITE_STATIC) |
	      bind_str(st, 3, a->nick) | sqlite3_bind_int64(st, 4, a->dropped) |
	      sqlite3_bind_int64(st, 5, a->created);
	return write_stmt(q, ST_ACCOUNT_ADD, brc, NULL);
}

static int
sq_account_nick(void *impl, uint32_t id, const char *nick)
{
	struct sq *q = impl;
	sqlite3_stmt *st = q->st[ST_ACCOUNT_NICK];

	return write_one(q, ST_ACCOUNT_NICK, sqlite3_bind_int64(st, 1, id) | bind_str(st, 2, nick));
}

static int
sq_account_dropped(void *impl, uint32_t id, uint32_t dropped)
{
	struct sq *q = impl;
	sqlite3_stmt *st = q->st[ST_ACCOUNT_DROPPED];

	return write_one(q, ST_ACCOUNT_DROPPED,
			 sqlite3_bind_int64(st, 1, id) | sqlite3_bind_int64(st, 2, dropped));
}

/* Parameters ?2.. of ST_NETWORK_ADD (name first) and ST_NETWORK_UPDATE (id first) are the
 * same fields in the same order. */
static int
bind_network(sqlite3_stmt *st, const struct store_network *n)
{
	return bind_str(st, 2, n->passhash) | sqlite3_bind_int64(st, 3, n->owner) |
	       sqlite3_bind_int(st, 4, n->locked) | sqlite3_bind_int(st, 5, n->approval) |
	       bind_str(st, 6, n->welcome) | sqlite3_bind_int64(st, 7, n->created);
}

static int
sq_network_add(void *impl, struct store_network *n)
{
	struct sq *q = impl;
	sqlite3_stmt *st = q->st[ST_NETWORK_ADD];
	int r;

	if ((r = write_stmt(q, ST_NETWORK_ADD, bind_str(st, 1, n->name) | bind_network(st, n),
			    NULL)) != 0)
		return r;
	n->id = (uint64_t)sqlite3_last_insert_rowid(q->db);
	return 0;
}

static int
sq_network_update(void *impl, const struct store_network *n)
{
	struct sq *q = impl;
	sqlite3_stmt *st = q->st[ST_NETWORK_UPDATE];

	return write_one(q, ST_NETWORK_UPDATE,
			 sqlite3_bind_int64(st, 1, u64(n->id)) | bind_network(st, n));
}

static int
sq_network_del(void *impl, uint64_t id)
{
	struct sq *q = impl;

	return write_one(q, ST_NETWORK_DEL, sqlite3_bind_int64(q->st[ST_NETWORK_DEL], 1, u64(id)));
}

static int
sq_member_put(void *impl, const struct store_member *m)
{
	struct sq *q = impl;
	sqlite3_stmt *st = q->st[ST_MEMBER_PUT];

	return write_stmt(
		q, ST_MEMBER_PUT,
		sqlite3_bind_int64(st, 1, u64(m->net)) | sqlite3_bind_int64(st, 2, m->node) |
			sqlite3_bind_int(st, 3, m->role) | sqlite3_bind_int(st, 4, m->online),
		NULL);
}

/* Deletes the row (net, node) with the two-parameter statement id. */
static int
del_pair(struct sq *q, enum stmt id, uint64_t net, uint32_t node)
{
	sqlite3_stmt *st = q->st[id];

	return write_one(q, id,
			 sqlite3_bind_int64(st, 1, u64(net)) | sqlite3_bind_int64(st, 2, node));
}

static int
sq_member_del(void *impl, uint64_t net, uint32_t node)
{
	return del_pair(impl, ST_MEMBER_DEL, net, node);
}

static int
sq_ban_put(void *impl, const struct store_ban *b)
{
	struct sq *q = impl;
	sqlite3_stmt *st = q->st[ST_BAN_PUT];

	return write_stmt(
		q, ST_BAN_PUT,
		sqlite3_bind_int64(st, 1, u64(b->net)) | sqlite3_bind_int64(st, 2, b->node), NULL);
}

static int
sq_ban_del(void *impl, uint64_t net, uint32_t node)
{
	return del_pair(impl, ST_BAN_DEL, net, node);
}

static int
sq_text_add(void *impl, struct store_text *t)
{
	struct sq *q = impl;
	sqlite3_stmt *st = q->st[ST_TEXT_ADD];
	int brc, r;

	brc = sqlite3_bind_int64(st, 1, t->to) | sqlite3_bind_int(st, 2, t->kind) |
	      sqlite3_bind_int64(st, 3, t->from) | sqlite3_bind_int64(st, 4, t->time) |
	      bind_str(st, 5, t->net) | bind_str(st, 6, t->nick) | bind_str(st, 7, t->text);
	if ((r = write_stmt(q, ST_TEXT_ADD, brc, NULL)) != 0)
		return r;
	t->id = (uint64_t)sqlite3_last_insert_rowid(q->db);
	return 0;
}

/* Runs the delete id with (node, arg) and reports how many rows went. */
static int
text_delete(struct sq *q, enum stmt id, uint32_t node, sqlite3_int64 arg, uint32_t *count)
{
	sqlite3_stmt *st = q->st[id];
	int n = 0, r;

	r = write_stmt(q, id, sqlite3_bind_int64(st, 1, node) | sqlite3_bind_int64(st, 2, arg), &n);
	*count = r == 0 ? (uint32_t)n : 0;
	return r;
}

static int
sq_text_ack(void *impl, uint32_t node, uint64_t upto, uint32_t *deleted)
{
	return text_delete(impl, ST_TEXT_ACK, node, u64(upto), deleted);
}

static int
sq_text_trim(void *impl, uint32_t node, uint32_t keep, uint32_t *dropped)
{
	return text_delete(impl, ST_TEXT_TRIM, node, keep, dropped);
}

struct each_ctx {
	uint32_t node;
	int (*cb)(void *arg, const struct store_text *t);
	void *arg;
};

static int
text_row(struct row *rw, void *ctx)
{
	const struct each_ctx *e = ctx;
	struct store_text t;

	t.id = get_uint(rw, 0, INT64_MAX);
	t.to = e->node;
	t.kind = (uint8_t)get_uint(rw, 1, UINT8_MAX);
	t.from = (uint32_t)get_uint(rw, 2, UINT32_MAX);
	t.time = get_i64(rw, 3);
	t.net = get_text(rw, 4);
	t.nick = get_text(rw, 5);
	t.text = get_text(rw, 6);
	return rw->r != 0 ? rw->r : e->cb(e->arg, &t);
}

static int
sq_text_each(void *impl, uint32_t node, int (*cb)(void *arg, const struct store_text *t), void *arg)
{
	struct sq *q = impl;
	struct each_ctx e = {node, cb, arg};
	int rc;

	if ((rc = sqlite3_bind_int64(q->st[ST_TEXT_EACH], 1, node)) != SQLITE_OK) {
		reset(q->st[ST_TEXT_EACH]);
		return db_error(q, stmts[ST_TEXT_EACH].name, rc);
	}
	return each_row(q, ST_TEXT_EACH, text_row, &e);
}

static bool
sq_dirty(const void *impl)
{
	const struct sq *q = impl;

	return q->txn || q->failed;
}

static int
sq_commit(void *impl)
{
	struct sq *q = impl;
	int rc, r = 0;

	if (q->failed) {
		q->failed = false;
		return fail(q, E_STORE,
			    "store: commit: an earlier write failed; nothing since the "
			    "last commit was stored");
	}
	if (!q->txn)
		return 0;
	rc = sqlite3_step(q->st[ST_COMMIT]);
	if (rc != SQLITE_DONE)
		r = db_error(q, stmts[ST_COMMIT].name, rc);
	sqlite3_reset(q->st[ST_COMMIT]);
	if (r != 0) {
		abort_txn(q);
		q->failed = false; /* reported now */
		return E_STORE;
	}
	q->txn = false;
	return 0;
}

static int
sq_schema_version(void *impl)
{
	const struct sq *q = impl;

	return q->version;
}

/* Opening. */

static int
exec(struct sq *q, const char *what, const char *sql)
{
	if (sqlite3_exec(q->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return fail(q, E_STORE, "store: %s: %s", what, sqlite3_errmsg(q->db));
	return 0;
}

/* Runs a PRAGMA (or any one-row query) and gives its first column as an integer or, when
 * text is not NULL, as text (cut to len). */
static int
query_one(struct sq *q, const char *sql, int *num, char *text, size_t len)
{
	sqlite3_stmt *st = NULL;
	int rc, r = 0;

	if ((rc = sqlite3_prepare_v2(q->db, sql, -1, &st, NULL)) != SQLITE_OK ||
	    (rc = sqlite3_step(st)) != SQLITE_ROW) {
		r = fail(q, E_STORE, "store: %s: %s", sql, sqlite3_errmsg(q->db));
		goto out;
	}
	if (num != NULL)
		*num = sqlite3_column_int(st, 0);
	if (text != NULL) {
		const unsigned char *p = sqlite3_column_text(st, 0);

		snprintf(text, len, "%s", p != NULL ? (const char *)p : "");
	}
out:
	sqlite3_finalize(st);
	return r;
}

/* SQLite creates a missing file with mode 0666 less the umask; the store holds password
 * hashes, so create it 0600 first. SQLite gives the -wal and -shm files the same mode. */
static int
create_file(struct sq *q, const char *path)
{
	int fd;

	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0)
		return fail(q, E_STORE, "store %s: %s", path, strerror(errno));
	close(fd);
	return 0;
}

static int
open_db(struct sq *q, const char *path)
{
	int rc;

	rc = sqlite3_open_v2(path, &q->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK)
		return fail(q, E_STORE, "store %s: %s", path,
			    q->db != NULL ? sqlite3_errmsg(q->db) : sqlite3_errstr(rc));
	sqlite3_extended_result_codes(q->db, 1);
	sqlite3_busy_timeout(q->db, BUSY_TIMEOUT_MS);
	return exec(q, "settings", "PRAGMA synchronous = FULL");
}

/* The settings durability rests on, each read back: a build of SQLite without foreign keys,
 * or a file system without the shared memory WAL needs, would otherwise quietly give less.
 * This comes after migrate(), so a store that is refused there is left as it was. */
static int
configure(struct sq *q, const char *path)
{
	char mode[16];
	int fk, sync, r;

	if ((r = query_one(q, "PRAGMA journal_mode = WAL", NULL, mode, sizeof(mode))) != 0 ||
	    (r = exec(q, "settings", "PRAGMA foreign_keys = ON")) != 0 ||
	    (r = query_one(q, "PRAGMA synchronous", &sync, NULL, 0)) != 0 ||
	    (r = query_one(q, "PRAGMA foreign_keys", &fk, NULL, 0)) != 0)
		return r;
	if (strcmp(mode, "wal") != 0 || sync != 2 || fk != 1)
		return fail(q, E_STORE,
			    "store %s: SQLite refused a setting (journal_mode %s, synchronous %d, "
			    "foreign_keys %d; want wal, 2, 1)",
			    path, mode, sync, fk);
	return 0;
}

static int
apply_migrations(struct sq *q, int from)
{
	char what[48], sql[48];
	int r;

	for (int v = from; v < STORE_SCHEMA_VERSION; v++) {
		snprintf(what, sizeof(what), "migration to schema version %d", v + 1);
		if ((r = exec(q, what, migrations[v])) != 0)
			return r;
	}
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", STORE_SCHEMA_VERSION);
	return exec(q, "setting the schema version", sql);
}

/* A migration runs with foreign keys off, as SQLite's procedure for rebuilding a table needs
 * (they cannot be switched inside a transaction), so check them before committing. */
static int
check_foreign_keys(struct sq *q)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = sqlite3_prepare_v2(q->db, "PRAGMA foreign_key_check", -1, &st, NULL)) ==
	    SQLITE_OK)
		rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return fail(q, E_STORE, "store: migration left rows that break foreign keys");
	if (rc != SQLITE_DONE)
		return fail(q, E_STORE, "store: foreign_key_check: %s", sqlite3_errmsg(q->db));
	return 0;
}

/* Reading user_version inside the transaction keeps two mediators started at once from
 * both migrating. On a file that is not a database this is the first read, and fails. */
static int
migrate(struct sq *q, const char *path)
{
	int v = 0, r;

	if ((r = exec(q, "begin migration", "BEGIN IMMEDIATE")) != 0)
		return r;
	if ((r = query_one(q, "PRAGMA user_version", &v, NULL, 0)) != 0) {
		r = fail(q, r, "store %s: %s", path, sqlite3_errmsg(q->db));
		goto out;
	}
	if (v < 0) {
		r = fail(q, E_STORE, "store %s: schema version %d is not one buri writes", path, v);
		goto out;
	}
	if (v > STORE_SCHEMA_VERSION) {
		r = fail(q, E_STORE,
			 "store %s: schema version %d is newer than this mediator's (%d); "
			 "refusing to open it: run the newer buri-mediator or restore a backup",
			 path, v, STORE_SCHEMA_VERSION);
		goto out;
	}
	if (v < STORE_SCHEMA_VERSION &&
	    ((r = apply_migrations(q, v)) != 0 || (r = check_foreign_keys(q)) != 0))
		goto out;
	r = exec(q, "commit migration", "COMMIT");
out:
	if (r != 0 && !sqlite3_get_autocommit(q->db))
		sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
	if (r == 0)
		q->version = STORE_SCHEMA_VERSION;
	return r;
}

static int
prepare(struct sq *q)
{
	for (int i = 0; i < ST_COUNT; i++)
		if (sqlite3_prepare_v3(q->db, stmts[i].sql, -1, SQLITE_PREPARE_PERSISTENT,
				       &q->st[i], NULL) != SQLITE_OK)
			return fail(q, E_STORE, "store: preparing %s: %s", stmts[i].name,
				    sqlite3_errmsg(q->db));
	return 0;
}

static void
sq_close(void *impl)
{
	struct sq *q = impl;

	if (q == NULL)
		return;
	if (q->db != NULL && !sqlite3_get_autocommit(q->db))
		sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(q->st[i]);
	/* Every statement is finalized, so this cannot be SQLITE_BUSY; it checkpoints the WAL
	 * into the database and removes it. */
	sqlite3_close(q->db);
	free(q);
}

static void *
sq_open(const char *path, char *err, size_t errlen)
{
	struct sq *q;
	int r;

	if ((q = calloc(1, sizeof(*q))) == NULL) {
		snprintf(err, errlen, "store %s: %s", path, err_str(E_NOMEM));
		return NULL;
	}
	q->err = err;
	q->errlen = errlen;
	if ((r = create_file(q, path)) != 0 || (r = open_db(q, path)) != 0 ||
	    (r = migrate(q, path)) != 0 || (r = configure(q, path)) != 0 || (r = prepare(q)) != 0) {
		sq_close(q);
		return NULL;
	}
	return q;
}

const struct store_ops store_sqlite_ops = {
	.name = "sqlite",
	.open = sq_open,
	.close = sq_close,
	.schema_version = sq_schema_version,
	.load = sq_load,
	.account_add = sq_account_add,
	.account_nick = sq_account_nick,
	.account_dropped = sq_account_dropped,
	.network_add = sq_network_add,
	.network_update = sq_network_update,
	.network_del = sq_network_del,
	.member_put = sq_member_put,
	.member_del = sq_member_del,
	.ban_put = sq_ban_put,
	.ban_del = sq_ban_del,
	.text_add = sq_text_add,
	.text_ack = sq_text_ack,
	.text_trim = sq_text_trim,
	.text_each = sq_text_each,
	.dirty = sq_dirty,
	.commit = sq_commit,
};
