/* SPDX-License-Identifier: MIT */
/*
 * The mediator's store (mediator/store.h) over its SQLite backend, on files in a fresh
 * temporary directory. What a store holds is checked by dumping it through store_load() into
 * one line per row and comparing that text with the expected text, which checks the order of
 * the callbacks too. Durability is checked across close and reopen, and across SIGKILL of a
 * child process that holds the store open; the file checks (user_version, journal mode,
 * tables) read the file with libsqlite3 directly.
 */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdbool.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/err.h"
#include "common/msg.h"
#include "common/util.h"
#include "mediator/store.h"
#include "test.h"

TEST_DEFINE_STATE;

enum { PATH_MAX_ = 512, DUMP_MAX = 8192, ERR_MAX = 256 };

struct dump {
	char buf[DUMP_MAX];
	size_t len;
};

static int dump_add(struct dump *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
dump_add(struct dump *d, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(d->buf + d->len, sizeof(d->buf) - d->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(d->buf) - d->len)
		return E_NOSPACE;
	d->len += (size_t)n;
	return 0;
}

static int
dump_account(void *arg, const struct store_account *a)
{
	struct dump *d = arg;
	int r;

	if ((r = dump_add(d, "account %u der ", a->id)) != 0)
		return r;
	for (size_t i = 0; i < a->der_len; i++)
		if ((r = dump_add(d, "%02x", a->der[i])) != 0)
			return r;
	return dump_add(d, " nick \"%s\" dropped %u created %lld\n", a->nick, a->dropped,
			(long long)a->created);
}

static int
dump_network(void *arg, const struct store_network *n)
{
	return dump_add(arg,
			"network %llu \"%s\" pass \"%s\" owner %u locked %d approval %d "
			"welcome \"%s\" created %lld\n",
			(unsigned long long)n->id, n->name, n->passhash, n->owner, n->locked,
			n->approval, n->welcome, (long long)n->created);
}

static int
dump_member(void *arg, const struct store_member *m)
{
	return dump_add(arg, "member %llu %u role %u online %d\n", (unsigned long long)m->net,
			m->node, m->role, m->online);
}

static int
dump_ban(void *arg, const struct store_ban *b)
{
	return dump_add(arg, "ban %llu %u\n", (unsigned long long)b->net, b->node);
}

static int
dump_inbox(void *arg, uint32_t node, uint32_t count)
{
	return dump_add(arg, "inbox %u %u\n", node, count);
}

static const struct store_load_cb dump_cb = {
	dump_account, dump_network, dump_member, dump_ban, dump_inbox,
};

static int
load_dump(struct store *s, struct dump *d)
{
	d->len = 0;
	d->buf[0] = '\0';
	return store_load(s, &dump_cb, d);
}

/* Prints text as TAP diagnostics, one "#" line per line of it. */
static void
print_lines(const char *label, const char *text)
{
	printf("# %s:\n", label);
	for (const char *p = text, *nl; *p != '\0'; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL)
			nl = p + strlen(p) - 1;
		printf("#   %.*s\n", (int)(nl - p + (*nl != '\n')), p);
	}
}

/* ASSERT_STR_EQ for dumps: several lines, longer than its message buffer. */
#define ASSERT_DUMP(got, want)                                                                     \
	do {                                                                                       \
		if (strcmp((got), (want)) != 0) {                                                  \
			test_fail(__FILE__, __LINE__, "dump differs");                             \
			print_lines("got", (got));                                                 \
			print_lines("want", (want));                                               \
		}                                                                                  \
	} while (0)

/* Files. */

/* dir/name then suffix; "" (which no test opens) if it does not fit. */
static const char *
mkpath_suffix(char out[PATH_MAX_], const char *dir, const char *name, const char *suffix)
{
	int n = snprintf(out, PATH_MAX_, "%s/%s%s", dir, name, suffix);

	if (n < 0 || n >= PATH_MAX_)
		out[0] = '\0';
	return out;
}

static const char *
mkpath(char out[PATH_MAX_], const char *dir, const char *name)
{
	return mkpath_suffix(out, dir, name, "");
}

static struct store *
open_at(const char *dir, const char *name)
{
	char path[PATH_MAX_], err[ERR_MAX];
	struct store *s;

	if ((s = store_open("sqlite", mkpath(path, dir, name), err, sizeof(err))) == NULL)
		printf("# store_open %s: %s\n", path, err);
	return s;
}

/* Runs the statement sql on the file with plain libsqlite3 and gives the first column of the
 * first row as text ("" if no row); -1 if the file cannot be opened or sql fails. */
static int
raw(const char *path, const char *sql, char *out, size_t len)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *st = NULL;
	int rc, r = -1;

	out[0] = '\0';
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != 0 ||
	    sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (out[0] == '\0' && sqlite3_column_text(st, 0) != NULL)
			snprintf(out, len, "%s", (const char *)sqlite3_column_text(st, 0));
	if (rc == SQLITE_DONE)
		r = 0;
out:
	sqlite3_finalize(st);
	sqlite3_close(db);
	return r;
}

static int
raw_exec(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	int r = -1;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) == 0 &&
	    sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK)
		r = 0;
	sqlite3_close(db);
	return r;
}

static long long
raw_int(const char *path, const char *sql)
{
	char buf[64];

	if (raw(path, sql, buf, sizeof(buf)) != 0)
		return -1;
	return atoll(buf);
}

/* Fixture: three accounts, two networks with members, a ban and three stored texts. */

static const uint8_t key_a[] = {0x30, 0x0a, 0x01, 0x02};
static const uint8_t key_b[] = {0x30, 0x0a, 0x03, 0x04};
static const uint8_t key_c[] = {0x30, 0x0a, 0x05, 0x06};

static int
add_account(struct store *s, uint32_t id, const uint8_t *der, size_t len, const char *nick)
{
	struct store_account a = {id, der, len, nick, 0, 1000 + id};

	return store_account_add(s, &a);
}

static int
add_network(struct store *s, const char *name, uint32_t owner, uint64_t *id)
{
	struct store_network n = {0, name, "$pw$x", owner, false, false, "", 2000};
	int r;

	r = store_network_add(s, &n);
	if (id != NULL)
		*id = n.id;
	return r;
}

static int
put_member(struct store *s, uint64_t net, uint32_t node, uint8_t role)
{
	struct store_member m = {net, node, role, role != ROLE_PENDING};

	return store_member_put(s, &m);
}

static int
add_text(struct store *s, uint32_t to, const char *text, uint64_t *id)
{
	struct store_text t = {0, to, TEXT_IM, 10, 3000, "", "alice", text};
	int r;

	r = store_text_add(s, &t);
	if (id != NULL)
		*id = t.id;
	return r;
}

static int
fixture(struct store *s)
{
	struct store_ban ban = {1, 12};
	int r;

	if ((r = add_account(s, 10, key_a, sizeof(key_a), "alice")) != 0 ||
	    (r = add_account(s, 11, key_b, sizeof(key_b), "bob")) != 0 ||
	    (r = add_account(s, 12, key_c, sizeof(key_c), "carol")) != 0 ||
	    (r = add_network(s, "lan", 10, NULL)) != 0 ||
	    (r = add_network(s, "lab", 11, NULL)) != 0 ||
	    (r = put_member(s, 1, 10, ROLE_OWNER)) != 0 ||
	    (r = put_member(s, 1, 11, ROLE_MEMBER)) != 0 ||
	    (r = put_member(s, 2, 11, ROLE_OWNER)) != 0 ||
	    (r = put_member(s, 2, 10, ROLE_PENDING)) != 0 || (r = store_ban_put(s, &ban)) != 0 ||
	    (r = add_text(s, 11, "hi bob", NULL)) != 0 ||
	    (r = add_text(s, 11, "still there?", NULL)) != 0 ||
	    (r = add_text(s, 12, "hi carol", NULL)) != 0)
		printf("# fixture: %s\n", store_error(s));
	return r;
}

static const char fixture_dump[] =
	"account 10 der 300a0102 nick \"alice\" dropped 0 created 1010\n"
	"account 11 der 300a0304 nick \"bob\" dropped 0 created 1011\n"
	"account 12 der 300a0506 nick \"carol\" dropped 0 created 1012\n"
	"network 1 \"lan\" pass \"$pw$x\" owner 10 locked 0 approval 0 welcome \"\" created 2000\n"
	"network 2 \"lab\" pass \"$pw$x\" owner 11 locked 0 approval 0 welcome \"\" created 2000\n"
	"member 1 10 role 1 online 1\n"
	"member 1 11 role 3 online 1\n"
	"member 2 10 role 4 online 0\n"
	"member 2 11 role 1 online 1\n"
	"ban 1 12\n"
	"inbox 11 2\n"
	"inbox 12 1\n";

/* A store at name holding the committed fixture, open. */
static struct store *
open_fixture(const char *dir, const char *name)
{
	struct store *s;

	if ((s = open_at(dir, name)) == NULL)
		return NULL;
	if (fixture(s) != 0 || store_commit(s) != 0) {
		store_close(s);
		return NULL;
	}
	return s;
}

/* Tests. */

static void
test_open_schema(const char *dir)
{
	char path[PATH_MAX_], buf[64];
	struct store *s;
	struct stat sb;

	TEST_START("open creates schema v1: WAL, tables, index, mode 0600");
	mkpath(path, dir, "schema.db");
	s = open_at(dir, "schema.db");
	ASSERT_TRUE(s != NULL);
	ASSERT_INT_EQ(store_schema_version(s), STORE_SCHEMA_VERSION);
	ASSERT_INT_EQ(STORE_SCHEMA_VERSION, 1);
	ASSERT_TRUE(!store_dirty(s));
	ASSERT_STR_EQ(store_error(s), "");
	store_close(s);
	ASSERT_INT_EQ(raw_int(path, "PRAGMA user_version"), 1);
	ASSERT_INT_EQ(raw(path, "PRAGMA journal_mode", buf, sizeof(buf)), 0);
	ASSERT_STR_EQ(buf, "wal");
	ASSERT_INT_EQ(raw_int(path, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
				    "name IN ('accounts', 'networks', 'members', 'bans', 'texts')"),
		      5);
	ASSERT_INT_EQ(raw_int(path, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND "
				    "name = 'texts_to'"),
		      1);
	ASSERT_INT_EQ(stat(path, &sb), 0);
	ASSERT_INT_EQ(sb.st_mode & 0777, 0600);
	TEST_DONE();
}

static void
test_open_refused(const char *dir)
{
	char path[PATH_MAX_], err[ERR_MAX];

	TEST_START("unknown backend, missing arguments: NULL with a reason");
	mkpath(path, dir, "refused.db");
	ASSERT_TRUE(store_open("postgres", path, err, sizeof(err)) == NULL);
	ASSERT_TRUE(strstr(err, "unknown backend \"postgres\"") != NULL);
	ASSERT_TRUE(strstr(err, "sqlite") != NULL);
	ASSERT_TRUE(access(path, F_OK) != 0);
	ASSERT_TRUE(store_open(NULL, path, err, sizeof(err)) == NULL);
	ASSERT_TRUE(err[0] != '\0');
	ASSERT_TRUE(store_open("sqlite", NULL, NULL, 0) == NULL);
	mkpath(path, dir, "no/such/dir.db");
	ASSERT_TRUE(store_open("sqlite", path, err, sizeof(err)) == NULL);
	ASSERT_TRUE(strstr(err, "No such file") != NULL);
	store_close(NULL);
	TEST_DONE();
}

static const char changed_dump[] =
	"account 10 der 300a0102 nick \"alice\" dropped 0 created 1010\n"
	"account 11 der 300a0304 nick \"bobby\" dropped 0 created 1011\n"
	"account 12 der 300a0506 nick \"carol\" dropped 3 created 1012\n"
	"network 1 \"lan\" pass \"$pw$new\" owner 11 locked 1 approval 1 welcome \"hello\" "
	"created 2001\n"
	"network 2 \"lab\" pass \"$pw$x\" owner 11 locked 0 approval 0 welcome \"\" created 2000\n"
	"member 1 10 role 1 online 1\n"
	"member 1 11 role 2 online 0\n"
	"member 2 11 role 1 online 1\n"
	"ban 1 12\n"
	"ban 2 10\n"
	"inbox 11 2\n"
	"inbox 12 1\n";

static int
change_fixture(struct store *s)
{
	struct store_network n = {1, "ignored", "$pw$new", 11, true, true, "hello", 2001};
	struct store_member m = {1, 11, ROLE_ADMIN, false};
	struct store_ban b = {2, 10};
	int r;

	if ((r = store_account_nick(s, 11, "bobby")) != 0 ||
	    (r = store_account_dropped(s, 12, 3)) != 0 || (r = store_network_update(s, &n)) != 0 ||
	    (r = store_member_put(s, &m)) != 0 || (r = store_member_del(s, 2, 10)) != 0 ||
	    (r = store_ban_put(s, &b)) != 0)
		printf("# change: %s\n", store_error(s));
	return r;
}

static void
test_roundtrip(const char *dir)
{
	struct dump d;
	struct store *s;

	TEST_START("every write, committed, is what store_load sees after reopening");
	s = open_fixture(dir, "roundtrip.db");
	ASSERT_TRUE(s != NULL);
	store_close(s);
	s = open_at(dir, "roundtrip.db");
	ASSERT_INT_EQ(load_dump(s, &d), 0);
	ASSERT_DUMP(d.buf, fixture_dump);
	ASSERT_INT_EQ(change_fixture(s), 0);
	ASSERT_INT_EQ(store_commit(s), 0);
	store_close(s);
	s = open_at(dir, "roundtrip.db");
	ASSERT_INT_EQ(load_dump(s, &d), 0);
	ASSERT_DUMP(d.buf, changed_dump);
	store_close(s);
	TEST_DONE();
}

static void
test_rollback(const char *dir)
{
	struct dump d;
	struct store *s;

	TEST_START("writes not committed vanish at close");
	s = open_fixture(dir, "rollback.db");
	ASSERT_INT_EQ(change_fixture(s), 0);
	ASSERT_INT_EQ(add_account(s, 13, (const uint8_t *)"\x30\x01", 2, "dave"), 0);
	ASSERT_INT_EQ(add_text(s, 13, "lost", NULL), 0);
	ASSERT_INT_EQ(store_network_del(s, 2), 0);
	ASSERT_INT_EQ(load_dump(s, &d), 0); /* reads see the open transaction */
	ASSERT_TRUE(strstr(d.buf, "account 13") != NULL);
	ASSERT_TRUE(store_dirty(s));
	store_close(s);
	s = open_at(dir, "rollback.db");
	ASSERT_INT_EQ(load_dump(s, &d), 0);
	ASSERT_DUMP(d.buf, fixture_dump);
	store_close(s);
	TEST_DONE();
}

static void
test_exists(const char *dir)
{
	struct dump d;
	struct store *s;

	TEST_START("E_EXISTS: account id, public key, network name; the transaction goes on");
	s = open_at(dir, "exists.db");
	ASSERT_INT_EQ(add_account(s, 10, key_a, sizeof(key_a), "alice"), 0);
	ASSERT_INT_EQ(add_account(s, 10, key_b, sizeof(key_b), "again"), E_EXISTS);
	ASSERT_TRUE(strstr(store_error(s), "account add") != NULL);
	ASSERT_INT_EQ(add_account(s, 11, key_a, sizeof(key_a), "same key"), E_EXISTS);
	ASSERT_TRUE(strstr(store_error(s), "accounts.der") != NULL);
	ASSERT_INT_EQ(add_network(s, "lan", 10, NULL), 0);
	ASSERT_INT_EQ(add_network(s, "lan", 10, NULL), E_EXISTS);
	ASSERT_TRUE(store_dirty(s));
	ASSERT_INT_EQ(store_commit(s), 0);
	store_close(s);
	s = open_at(dir, "exists.db");
	ASSERT_INT_EQ(load_dump(s, &d), 0);
	ASSERT_DUMP(d.buf,
		    "account 10 der 300a0102 nick \"alice\" dropped 0 created 1010\n"
		    "network 1 \"lan\" pass \"$pw$x\" owner 10 locked 0 approval 0 welcome \"\" "
		    "created 2000\n");
	store_close(s);
	TEST_DONE();
}

static void
test_notfound(const char *dir)
{
	struct store_network n = {99, "x", "", 10, false, false, "", 0};
	struct store_ban ban = {1, 12};
	struct dump d;
	struct store *s;

	TEST_START("E_NOTFOUND: missing rows and references; banning twice is fine");
	s = open_fixture(dir, "notfound.db");
	ASSERT_INT_EQ(add_network(s, "orphan", 99, NULL), E_NOTFOUND);
	ASSERT_INT_EQ(put_member(s, 99, 10, ROLE_MEMBER), E_NOTFOUND);
	ASSERT_INT_EQ(put_member(s, 1, 99, ROLE_MEMBER), E_NOTFOUND);
	ASSERT_INT_EQ(store_account_nick(s, 99, "x"), E_NOTFOUND);
	ASSERT_INT_EQ(store_account_dropped(s, 99, 1), E_NOTFOUND);
	ASSERT_INT_EQ(store_network_update(s, &n), E_NOTFOUND);
	ASSERT_INT_EQ(store_network_del(s, 99), E_NOTFOUND);
	ASSERT_INT_EQ(store_network_del(s, UINT64_MAX), E_NOTFOUND);
	ASSERT_INT_EQ(store_member_del(s, 1, 12), E_NOTFOUND);
	ASSERT_INT_EQ(store_ban_del(s, 1, 11), E_NOTFOUND);
	ASSERT_INT_EQ(add_text(s, 99, "to nobody", NULL), E_NOTFOUND);
	ASSERT_INT_EQ(store_ban_put(s, &ban), 0);
	ASSERT_INT_EQ(store_commit(s), 0);
	ASSERT_INT_EQ(load_dump(s, &d), 0);
	ASSERT_DUMP(d.buf, fixture_dump);
	store_close(s);
	TEST_DONE();
}

static void
test_network_del(const char *dir)
{
	struct store_ban ban = {2, 12};
	struct dump d;
	struct store *s;
	uint64_t id = 0;

	TEST_START("network_del takes its members and bans; ids are not reused");
	s = open_fixture(dir, "netdel.db");
	ASSERT_INT_EQ(store_ban_put(s, &ban), 0);
	ASSERT_INT_EQ(store_network_del(s, 1), 0);
	ASSERT_INT_EQ(store_commit(s), 0);
	store_close(s);
	s = open_at(dir, "netdel.db");
	ASSERT_INT_EQ(add_network(s, "lan", 10, &id), 0);
	ASSERT_INT_EQ(id, 3);
	ASSERT_INT_EQ(store_commit(s), 0);
	ASSERT_INT_EQ(load_dump(s, &d), 0);
	ASSERT_DUMP(d.buf, "account 10 der 300a0102 nick \"alice\" dropped 0 created 1010\n"
			   "account 11 der 300a0304 nick \"bob\" dropped 0 created 1011\n"
			   "account 12 der 300a0506 nick \"carol\" dropped 0 created 1012\n"
			   "network 2 \"lab\" pass \"$pw$x\" owner 11 locked 0 approval 0 "
			   "welcome \"\" created 2000\n"
			   "network 3 \"lan\" pass \"$pw$x\" owner 10 locked 0 approval 0 "
			   "welcome \"\" created 2000\n"
			   "member 2 10 role 4 online 0\n"
			   "member 2 11 role 1 online 1\n"
			   "ban 2 12\n"
			   "inbox 11 2\n"
			   "inbox 12 1\n");
	store_close(s);
	TEST_DONE();
}

static void
test_text_ids(const char *dir)
{
	uint64_t a = 0, b = 0, c = 0, e = 0;
	uint32_t n = 0;
	struct store *s;

	TEST_START("text ids increase, across deletes and reopening");
	s = open_fixture(dir, "textids.db");
	ASSERT_INT_EQ(add_text(s, 10, "one", &a), 0);
	ASSERT_INT_EQ(add_text(s, 11, "two", &b), 0);
	ASSERT_TRUE(a > 3 && b > a);
	ASSERT_INT_EQ(store_text_ack(s, 10, UINT64_MAX, &n), 0);
	ASSERT_INT_EQ(n, 1);
	ASSERT_INT_EQ(store_text_ack(s, 11, UINT64_MAX, &n), 0);
	ASSERT_INT_EQ(n, 3);
	ASSERT_INT_EQ(add_text(s, 10, "three", &c), 0);
	ASSERT_TRUE(c > b);
	ASSERT_INT_EQ(store_text_ack(s, 10, c, NULL), 0);
	ASSERT_INT_EQ(store_commit(s), 0);
	store_close(s);
	s = open_at(dir, "textids.db");
	ASSERT_INT_EQ(add_text(s, 10, "four", &e), 0);
	ASSERT_TRUE(e > c);
	store_close(s);
	TEST_DONE();
}

struct seen {
	uint64_t id[16];
	char text[16][16];
	size_t n;
	int stop_at; /* return E_RANGE from the call with this index; -1: never */
	struct store *s;
	int inner; /* what a call back into the store returned */
};

static int
see_text(void *arg, const struct store_text *t)
{
	struct seen *v = arg;

	if (v->n >= ARRAY_SIZE(v->id))
		return E_NOSPACE;
	v->id[v->n] = t->id;
	snprintf(v->text[v->n], sizeof(v->text[0]), "%s", t->text);
	if (v->s != NULL)
		v->inner = add_text(v->s, t->to, "nested", NULL);
	if ((int)v->n++ == v->stop_at)
		return E_RANGE;
	return 0;
}

/* The ids of node's texts, in the order text_each gives them. */
static int
texts_of(struct store *s, uint32_t node, struct seen *v)
{
	memset(v, 0, sizeof(*v));
	v->stop_at = -1;
	return store_text_each(s, node, see_text, v);
}

static void
test_ack_trim(const char *dir)
{
	uint64_t id[5] = {0};
	struct seen v;
	uint32_t n = 99;
	struct store *s;

	TEST_START("text_ack and text_trim delete the right texts and count them");
	s = open_fixture(dir, "acktrim.db");
	for (size_t i = 0; i < ARRAY_SIZE(id); i++)
		ASSERT_INT_EQ(add_text(s, 10, "t", &id[i]), 0);
	ASSERT_INT_EQ(store_text_ack(s, 10, id[1], &n), 0);
	ASSERT_INT_EQ(n, 2);
	ASSERT_INT_EQ(store_text_ack(s, 10, id[1], &n), 0);
	ASSERT_INT_EQ(n, 0);
	ASSERT_INT_EQ(store_text_trim(s, 10, 2, &n), 0); /* id[2..4] left: id[2] goes */
	ASSERT_INT_EQ(n, 1);
	ASSERT_INT_EQ(texts_of(s, 10, &v), 0);
	ASSERT_INT_EQ(v.n, 2);
	ASSERT_INT_EQ(v.id[0], id[3]);
	ASSERT_INT_EQ(v.id[1], id[4]);
	ASSERT_INT_EQ(store_text_trim(s, 10, 5, &n), 0);
	ASSERT_INT_EQ(n, 0);
	ASSERT_INT_EQ(store_text_trim(s, 11, 0, &n), 0);
	ASSERT_INT_EQ(n, 2);
	ASSERT_INT_EQ(store_text_trim(s, 12, 0, NULL), 0);
	ASSERT_INT_EQ(store_text_ack(s, 10, UINT64_MAX, &n), 0);
	ASSERT_INT_EQ(n, 2);
	ASSERT_INT_EQ(store_text_ack(s, 99, UINT64_MAX, &n), 0); /* nobody: nothing to do */
	ASSERT_INT_EQ(n, 0);
	ASSERT_INT_EQ(texts_of(s, 10, &v), 0);
	ASSERT_INT_EQ(v.n, 0);
	store_close(s);
	TEST_DONE();
}

static void
test_text_each(const char *dir)
{
	struct store_text t = {0, 12, TEXT_ANNOUNCE, 11, 4242, "lan", "bob", "news"};
	uint64_t first = 0;
	struct seen v;
	struct store *s;

	TEST_START("text_each: id order, every field, uncommitted rows, early stop");
	s = open_fixture(dir, "each.db");
	ASSERT_INT_EQ(add_text(s, 12, "second", &first), 0);
	ASSERT_INT_EQ(store_text_add(s, &t), 0);
	ASSERT_INT_EQ(texts_of(s, 12, &v), 0);
	ASSERT_INT_EQ(v.n, 3);
	ASSERT_STR_EQ(v.text[0], "hi carol");
	ASSERT_STR_EQ(v.text[1], "second");
	ASSERT_STR_EQ(v.text[2], "news");
	ASSERT_TRUE(v.id[0] < v.id[1] && v.id[1] < v.id[2]);
	ASSERT_INT_EQ(v.id[1], first);
	ASSERT_INT_EQ(v.id[2], t.id);
	v.n = 0;
	v.stop_at = 1;
	ASSERT_INT_EQ(store_text_each(s, 12, see_text, &v), E_RANGE);
	ASSERT_INT_EQ(v.n, 2);
	ASSERT_INT_EQ(texts_of(s, 11, &v), 0);
	ASSERT_INT_EQ(v.n, 2);
	ASSERT_STR_EQ(v.text[0], "hi bob");
	ASSERT_STR_EQ(v.text[1], "still there?");
	ASSERT_INT_EQ(texts_of(s, 13, &v), 0);
	ASSERT_INT_EQ(v.n, 0);
	store_close(s);
	TEST_DONE();
}

static int
check_announce(void *arg, const struct store_text *t)
{
	int *ok = arg;

	*ok = t->to == 12 && t->kind == TEXT_ANNOUNCE && t->from == 11 && t->time == 4242 &&
	      strcmp(t->net, "lan") == 0 && strcmp(t->nick, "bob") == 0 &&
	      strcmp(t->text, "news") == 0;
	return 0;
}

static void
test_text_fields(const char *dir)
{
	struct store_text t = {0, 12, TEXT_ANNOUNCE, 11, 4242, "lan", "bob", "news"};
	struct store *s;
	int ok = 0;

	TEST_START("text_each gives back every field of a text, after reopening");
	s = open_fixture(dir, "fields.db");
	ASSERT_INT_EQ(store_text_trim(s, 12, 0, NULL), 0);
	ASSERT_INT_EQ(store_text_add(s, &t), 0);
	ASSERT_INT_EQ(store_commit(s), 0);
	store_close(s);
	s = open_at(dir, "fields.db");
	ASSERT_INT_EQ(store_text_each(s, 12, check_announce, &ok), 0);
	ASSERT_TRUE(ok);
	store_close(s);
	TEST_DONE();
}

static void
test_dirty(const char *dir)
{
	struct dump d;
	struct store *s;

	TEST_START("store_dirty: from the first write to the commit");
	s = open_at(dir, "dirty.db");
	ASSERT_TRUE(!store_dirty(s));
	ASSERT_INT_EQ(store_commit(s), 0); /* nothing to commit */
	ASSERT_INT_EQ(add_account(s, 10, key_a, sizeof(key_a), "alice"), 0);
	ASSERT_TRUE(store_dirty(s));
	ASSERT_INT_EQ(store_account_nick(s, 10, "al"), 0);
	ASSERT_TRUE(store_dirty(s));
	ASSERT_INT_EQ(store_commit(s), 0);
	ASSERT_TRUE(!store_dirty(s));
	ASSERT_INT_EQ(load_dump(s, &d), 0);
	ASSERT_INT_EQ(texts_of(s, 10, &(struct seen){0}), 0);
	ASSERT_TRUE(!store_dirty(s)); /* reads are not writes */
	ASSERT_INT_EQ(store_account_dropped(s, 10, 1), 0);
	ASSERT_TRUE(store_dirty(s));
	ASSERT_INT_EQ(store_commit(s), 0);
	ASSERT_TRUE(!store_dirty(s));
	ASSERT_TRUE(!store_dirty(NULL));
	store_close(s);
	TEST_DONE();
}

struct nest {
	struct store *s;
	int r;
};

static int
nested_write(void *arg, const struct store_account *a)
{
	struct nest *n = arg;

	n->r = store_account_nick(n->s, a->id, "x");
	return 0;
}

static void
test_args(const char *dir)
{
	struct store_text t = {0, 10, 0, 0, 0, "", "", ""};
	struct store_account a = {20, key_a, 0, "x", 0, 0};
	struct store_load_cb cb = {.account = nested_write};
	char longname[MSG_NAME_MAX + 2];
	struct nest n = {NULL, 0};
	struct seen v = {.stop_at = -1};
	struct store *s;

	TEST_START("bad arguments and calls from callbacks: E_INVAL with a reason");
	s = open_fixture(dir, "args.db");
	ASSERT_INT_EQ(store_account_add(s, &a), E_INVAL);
	ASSERT_TRUE(strstr(store_error(s), "store_account_add: public key") != NULL);
	a.der = NULL;
	a.der_len = 4;
	ASSERT_INT_EQ(store_account_add(s, &a), E_INVAL);
	a.der = key_a;
	a.der_len = WIRE_PUBKEY_MAX + 1;
	ASSERT_INT_EQ(store_account_add(s, &a), E_INVAL);
	ASSERT_INT_EQ(store_account_add(s, NULL), E_INVAL);
	ASSERT_INT_EQ(store_account_nick(s, 10, NULL), E_INVAL);
	ASSERT_INT_EQ(put_member(s, 1, 11, 0), E_INVAL);
	ASSERT_INT_EQ(put_member(s, 1, 11, ROLE_BANNED), E_INVAL);
	ASSERT_TRUE(strstr(store_error(s), "role 5") != NULL);
	ASSERT_INT_EQ(store_text_add(s, &t), E_INVAL);
	t.kind = TEXT_NOTICE + 1;
	ASSERT_INT_EQ(store_text_add(s, &t), E_INVAL);
	ASSERT_INT_EQ(add_network(s, "", 10, NULL), E_INVAL);
	ASSERT_TRUE(strstr(store_error(s), "name is empty") != NULL);
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	ASSERT_INT_EQ(add_network(s, longname, 10, NULL), E_INVAL);
	ASSERT_TRUE(strstr(store_error(s), "longer than 64 bytes") != NULL);
	longname[MSG_NAME_MAX] = '\0';
	ASSERT_INT_EQ(add_network(s, longname, 10, NULL), 0);
	ASSERT_INT_EQ(store_load(s, NULL, NULL), E_INVAL);
	ASSERT_INT_EQ(store_text_each(s, 10, NULL, NULL), E_INVAL);
	ASSERT_INT_EQ(store_account_nick(NULL, 10, "x"), E_INVAL);
	ASSERT_INT_EQ(store_commit(NULL), E_INVAL);
	ASSERT_INT_EQ(store_commit(s), 0);
	n.s = s;
	ASSERT_INT_EQ(store_load(s, &cb, &n), 0);
	ASSERT_INT_EQ(n.r, E_INVAL);
	ASSERT_TRUE(strstr(store_error(s), "inside a store callback") != NULL);
	v.s = s;
	ASSERT_INT_EQ(store_text_each(s, 11, see_text, &v), 0);
	ASSERT_INT_EQ(v.inner, E_INVAL);
	ASSERT_TRUE(!store_dirty(s));
	ASSERT_INT_EQ(store_account_nick(s, 10, "after"), 0); /* usable again */
	store_close(s);
	TEST_DONE();
}

/* Migrations. */

static void
test_migrate_v0(const char *dir)
{
	char path[PATH_MAX_], buf[64];
	struct store *s;
	int fd;

	TEST_START("migration from version 0: an empty file, and a database at user_version 0");
	mkpath(path, dir, "empty.db");
	ASSERT_TRUE((fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600)) >= 0);
	close(fd);
	s = open_at(dir, "empty.db");
	ASSERT_TRUE(s != NULL);
	ASSERT_INT_EQ(store_schema_version(s), 1);
	ASSERT_INT_EQ(fixture(s), 0);
	ASSERT_INT_EQ(store_commit(s), 0);
	store_close(s);

	mkpath(path, dir, "old.db");
	ASSERT_INT_EQ(raw_exec(path, "CREATE TABLE notes (x); INSERT INTO notes VALUES ('kept')"),
		      0);
	ASSERT_INT_EQ(raw_int(path, "PRAGMA user_version"), 0);
	s = open_at(dir, "old.db");
	ASSERT_TRUE(s != NULL);
	ASSERT_INT_EQ(store_schema_version(s), 1);
	ASSERT_INT_EQ(fixture(s), 0);
	ASSERT_INT_EQ(store_commit(s), 0);
	store_close(s);
	ASSERT_INT_EQ(raw_int(path, "PRAGMA user_version"), 1);
	ASSERT_INT_EQ(raw(path, "SELECT x FROM notes", buf, sizeof(buf)), 0);
	ASSERT_STR_EQ(buf, "kept");
	TEST_DONE();
}

static void
test_migrate_atomic(const char *dir)
{
	char path[PATH_MAX_], err[ERR_MAX];

	TEST_START("a migration that fails leaves the file at its old version, unchanged");
	mkpath(path, dir, "clash.db");
	ASSERT_INT_EQ(raw_exec(path, "CREATE TABLE texts (x)"), 0);
	ASSERT_TRUE(store_open("sqlite", path, err, sizeof(err)) == NULL);
	ASSERT_TRUE(strstr(err, "migration to schema version 1") != NULL);
	ASSERT_TRUE(strstr(err, "texts already exists") != NULL);
	ASSERT_INT_EQ(raw_int(path, "PRAGMA user_version"), 0);
	ASSERT_INT_EQ(raw_int(path, "SELECT count(*) FROM sqlite_master"), 1);
	TEST_DONE();
}

static void
test_newer_refused(const char *dir)
{
	char path[PATH_MAX_], err[ERR_MAX], buf[64];

	TEST_START("a store at a newer schema version is refused, and left alone");
	mkpath(path, dir, "newer.db");
	ASSERT_INT_EQ(raw_exec(path, "PRAGMA user_version = 2"), 0);
	ASSERT_TRUE(store_open("sqlite", path, err, sizeof(err)) == NULL);
	printf("# %s\n", err);
	ASSERT_TRUE(strstr(err, "schema version 2 is newer than this mediator's (1)") != NULL);
	ASSERT_INT_EQ(raw_int(path, "PRAGMA user_version"), 2);
	ASSERT_INT_EQ(raw(path, "PRAGMA journal_mode", buf, sizeof(buf)), 0);
	ASSERT_STR_EQ(buf, "delete");
	TEST_DONE();
}

static void
test_not_a_database(const char *dir)
{
	char path[PATH_MAX_], err[ERR_MAX], junk[4096];
	int fd;

	TEST_START("a file that is not a database is refused with a reason");
	mkpath(path, dir, "junk.db");
	memset(junk, 'j', sizeof(junk));
	ASSERT_TRUE((fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600)) >= 0);
	ASSERT_INT_EQ(write(fd, junk, sizeof(junk)), sizeof(junk));
	close(fd);
	ASSERT_TRUE(store_open("sqlite", path, err, sizeof(err)) == NULL);
	ASSERT_TRUE(strstr(err, "not a database") != NULL);
	TEST_DONE();
}

/* Crashes. A child opens the store itself (an SQLite connection must not cross fork()), does
 * its part, reports on the pipe and waits to be killed. */

enum { BIG_TEXT = 60000 };

/* More than SQLite's page cache holds, so pages of the open transaction spill into the WAL
 * before any commit, and recovery has to skip them. */
static int
add_big_texts(struct store *s, uint32_t to, int count)
{
	char *big;
	int r = 0;

	if ((big = malloc(BIG_TEXT + 1)) == NULL)
		return E_NOMEM;
	memset(big, 'b', BIG_TEXT);
	big[BIG_TEXT] = '\0';
	for (int i = 0; i < count && r == 0; i++)
		r = add_text(s, to, big, NULL);
	free(big);
	return r;
}

static int
child_committed(struct store *s)
{
	int r;

	if ((r = add_account(s, 20, (const uint8_t *)"\x30\x20", 2, "kept")) != 0 ||
	    (r = add_network(s, "crash", 20, NULL)) != 0 ||
	    (r = add_text(s, 20, "kept", NULL)) != 0)
		return r;
	return store_commit(s);
}

static int
child_uncommitted(struct store *s)
{
	int r;

	if ((r = add_account(s, 21, (const uint8_t *)"\x30\x21", 2, "lost")) != 0 ||
	    (r = add_text(s, 20, "lost", NULL)) != 0 ||
	    (r = store_account_nick(s, 20, "lost")) != 0)
		return r;
	return add_big_texts(s, 21, 100);
}

static void __attribute__((noreturn))
child_run(const char *dir, const char *name, int (*work)(struct store *), int fd)
{
	struct store *s = open_at(dir, name);
	char ok = 'n';

	if (s != NULL && work(s) == 0)
		ok = 'y';
	if (write(fd, &ok, 1) != 1)
		_exit(1);
	for (;;)
		pause();
}

/* Runs work in a child and SIGKILLs it once it has reported; what it reported. *wal gets
 * the size of the store's WAL file at the moment of the kill. */
static char
crash_child(const char *dir, const char *name, int (*work)(struct store *), off_t *wal)
{
	char path[PATH_MAX_];
	int fds[2], status = 0;
	struct stat sb;
	char got = '?';
	pid_t pid;

	if (pipe(fds) != 0)
		return '?';
	fflush(stdout);
	if ((pid = fork()) == 0) {
		close(fds[0]);
		child_run(dir, name, work, fds[1]);
	}
	close(fds[1]);
	if (pid > 0 && read(fds[0], &got, 1) != 1)
		got = '?';
	close(fds[0]);
	*wal = stat(mkpath_suffix(path, dir, name, "-wal"), &sb) == 0 ? sb.st_size : -1;
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
			got = '?';
	}
	return got;
}

static void
test_crash(const char *dir)
{
	off_t wal = 0;
	struct seen v;
	struct dump d;
	struct store *s;

	TEST_START("SIGKILL after store_commit keeps the rows; SIGKILL before loses them");
	s = open_fixture(dir, "crash.db");
	store_close(s);
	ASSERT_INT_EQ(crash_child(dir, "crash.db", child_committed, &wal), 'y');
	ASSERT_INT_EQ(crash_child(dir, "crash.db", child_uncommitted, &wal), 'y');
	ASSERT_TRUE(wal > 2 * 1024 * 1024); /* uncommitted pages did reach the WAL */
	s = open_at(dir, "crash.db");
	ASSERT_TRUE(s != NULL);
	ASSERT_INT_EQ(load_dump(s, &d), 0);
	ASSERT_TRUE(strstr(d.buf, "account 20 der 3020 nick \"kept\"") != NULL);
	ASSERT_TRUE(strstr(d.buf, "\"crash\" pass") != NULL);
	ASSERT_TRUE(strstr(d.buf, "inbox 20 1\n") != NULL);
	ASSERT_TRUE(strstr(d.buf, "account 21") == NULL);
	ASSERT_TRUE(strstr(d.buf, "inbox 21") == NULL);
	ASSERT_INT_EQ(texts_of(s, 20, &v), 0);
	ASSERT_INT_EQ(v.n, 1);
	ASSERT_STR_EQ(v.text[0], "kept");
	ASSERT_INT_EQ(add_account(s, 21, (const uint8_t *)"\x30\x21", 2, "again"), 0);
	ASSERT_INT_EQ(store_commit(s), 0); /* no lock left behind */
	store_close(s);
	TEST_DONE();
}

/* In a child whose files may not grow past FSIZE_LIMIT: a commit bigger than that fails.
 * Returns the number of the first check that failed, 0 if all held. */
enum { FSIZE_LIMIT = 128 * 1024 };

static int
commit_fails(const char *dir)
{
	struct rlimit rl = {FSIZE_LIMIT, FSIZE_LIMIT};
	struct store *s;
	int r, step = 0;

	if ((s = open_at(dir, "full.db")) == NULL)
		return 1;
	signal(SIGXFSZ, SIG_IGN);
	if (setrlimit(RLIMIT_FSIZE, &rl) != 0 || store_account_nick(s, 10, "lost") != 0 ||
	    add_big_texts(s, 10, 4) != 0)
		step = 2;
	else if ((r = store_commit(s)) != E_STORE)
		step = 3;
	else if (printf("# %s\n", store_error(s)) < 0 || store_dirty(s))
		step = 4;
	else if (store_account_nick(s, 11, "kept") != 0 || store_commit(s) != 0)
		step = 5;
	fflush(stdout);
	store_close(s);
	return step;
}

static void
test_commit_failure(const char *dir)
{
	int status = -1;
	struct dump d;
	struct store *s;
	pid_t pid;

	TEST_START("a failed COMMIT (file size limit) rolls back, says E_STORE, store goes on");
	s = open_fixture(dir, "full.db");
	store_close(s);
	fflush(stdout);
	if ((pid = fork()) == 0)
		_exit(commit_fails(dir));
	ASSERT_TRUE(pid > 0 && waitpid(pid, &status, 0) == pid);
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_INT_EQ(WEXITSTATUS(status), 0);
	s = open_at(dir, "full.db");
	ASSERT_INT_EQ(load_dump(s, &d), 0);
	ASSERT_TRUE(strstr(d.buf, "nick \"lost\"") == NULL);
	ASSERT_TRUE(strstr(d.buf, "account 11 der 300a0304 nick \"kept\"") != NULL);
	ASSERT_TRUE(strstr(d.buf, "inbox 10") == NULL);
	store_close(s);
	TEST_DONE();
}

/* Removes dir and the files in it (no subdirectories are made). */
static void
remove_dir(const char *dir)
{
	char path[PATH_MAX_];
	struct dirent *e;
	DIR *d;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			unlink(mkpath(path, dir, e->d_name));
	closedir(d);
	rmdir(dir);
}

int
main(void)
{
	const char *tmp = getenv("TMPDIR");
	char dir[PATH_MAX_];

	mkpath(dir, tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp", "buri-test-store.XXXXXX");
	if (dir[0] == '\0' || mkdtemp(dir) == NULL) {
		printf("Bail out! mkdtemp: cannot make a temporary directory\n");
		return 1;
	}
	test_open_schema(dir);
	test_open_refused(dir);
	test_roundtrip(dir);
	test_rollback(dir);
	test_exists(dir);
	test_notfound(dir);
	test_network_del(dir);
	test_text_ids(dir);
	test_ack_trim(dir);
	test_text_each(dir);
	test_text_fields(dir);
	test_dirty(dir);
	test_args(dir);
	test_migrate_v0(dir);
	test_migrate_atomic(dir);
	test_newer_refused(dir);
	test_not_a_database(dir);
	test_crash(dir);
	test_commit_failure(dir);
	remove_dir(dir);
	return test_finish();
}
