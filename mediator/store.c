/* SPDX-License-Identifier: MIT */
/*
 * The backend-independent half of the store: choose a backend, check arguments, dispatch.
 * Every check that does not need the database lives here, once, so each backend can assume
 * well-formed calls (store_ops.h) and a second backend cannot forget one.
 *
 * String limits are the wire's: nothing the mediator stores arrived in a larger field, so a
 * longer string is a caller bug, and refusing it keeps a runaway length out of the database.
 */
#include "mediator/store.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/msg.h"
#include "common/util.h"
#include "common/wire.h"
#include "mediator/store_ops.h"

/* Longest string of any kind: no field on the wire is larger than a whole message. */
enum { STR_MAX = WIRE_MSG_MAX };

struct store {
	const struct store_ops *ops;
	void *impl;
	bool in_callback; /* inside store_load() or store_text_each(): see usable() */
	char err[STORE_ERR_MAX];
};

static const struct store_ops *const backends[] = {
	&store_sqlite_ops,
};

static int __attribute__((format(printf, 3, 4)))
invalid(struct store *s, const char *fn, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(s->err, sizeof(s->err), "%s: ", fn);
	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < sizeof(s->err))
		vsnprintf(s->err + n, sizeof(s->err) - (size_t)n, fmt, ap);
	va_end(ap);
	return E_INVAL;
}

/* A callback that wrote to the store would change the rows a backend is stepping through
 * (and, for SQLite, reset the very statement that is running), so it is refused. */
static int
usable(struct store *s, const char *fn)
{
	if (s == NULL)
		return E_INVAL;
	if (s->in_callback)
		return invalid(s, fn, "called from inside a store callback");
	return 0;
}

static int
check_str(struct store *s, const char *fn, const char *field, const char *str, size_t min,
	  size_t max)
{
	size_t len;

	if (str == NULL)
		return invalid(s, fn, "%s is NULL", field);
	len = strnlen(str, max + 1);
	if (len > max)
		return invalid(s, fn, "%s is longer than %zu bytes", field, max);
	if (len < min)
		return invalid(s, fn, "%s is empty", field);
	return 0;
}

static const struct store_ops *
find_backend(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(backends); i++)
		if (strcmp(backends[i]->name, name) == 0)
			return backends[i];
	return NULL;
}

/* Names the backends there are, so the message stays true when one is added. */
static void
unknown_backend(const char *name, char *err, size_t errlen)
{
	int n = snprintf(err, errlen, "store: unknown backend \"%s\" (this build has:", name);

	for (size_t i = 0; i < ARRAY_SIZE(backends) && n >= 0 && (size_t)n < errlen; i++)
		n += snprintf(err + n, errlen - (size_t)n, " %s", backends[i]->name);
	if (n >= 0 && (size_t)n < errlen)
		snprintf(err + n, errlen - (size_t)n, ")");
}

struct store *
store_open(const char *backend, const char *path, char *err, size_t errlen)
{
	char scratch[STORE_ERR_MAX];
	struct store *s = NULL, *ret = NULL;

	if (err == NULL || errlen == 0) {
		err = scratch;
		errlen = sizeof(scratch);
	}
	err[0] = '\0';
	if (backend == NULL || path == NULL) {
		snprintf(err, errlen, "store: no backend or no path given");
		return NULL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		snprintf(err, errlen, "store %s: %s", path, err_str(E_NOMEM));
		return NULL;
	}
	if ((s->ops = find_backend(backend)) == NULL) {
		unknown_backend(backend, err, errlen);
		goto out;
	}
	if ((s->impl = s->ops->open(path, s->err, sizeof(s->err))) == NULL) {
		snprintf(err, errlen, "%s", s->err);
		goto out;
	}
	s->err[0] = '\0';
	ret = s;
	s = NULL;
out:
	free(s);
	return ret;
}

void
store_close(struct store *s)
{
	if (s == NULL)
		return;
	s->ops->close(s->impl);
	free(s);
}

const char *
store_error(const struct store *s)
{
	return s != NULL ? s->err : "no store";
}

int
store_schema_version(struct store *s)
{
	if (s == NULL)
		return E_INVAL;
	return s->ops->schema_version(s->impl);
}

int
store_load(struct store *s, const struct store_load_cb *cb, void *arg)
{
	int r;

	if ((r = usable(s, __func__)) != 0)
		return r;
	if (cb == NULL)
		return invalid(s, __func__, "no callbacks");
	s->in_callback = true;
	r = s->ops->load(s->impl, cb, arg);
	s->in_callback = false;
	return r;
}

int
store_account_add(struct store *s, const struct store_account *a)
{
	int r;

	if ((r = usable(s, __func__)) != 0)
		return r;
	if (a == NULL)
		return invalid(s, __func__, "no account");
	if (a->der == NULL || a->der_len == 0 || a->der_len > WIRE_PUBKEY_MAX)
		return invalid(s, __func__, "public key missing or longer than %d bytes",
			       WIRE_PUBKEY_MAX);
	if ((r = check_str(s, __func__, "nick", a->nick, 0, WIRE_NICK_MAX)) != 0)
		return r;
	return s->ops->account_add(s->impl, a);
}

int
store_account_nick(struct store *s, uint32_t id, const char *nick)
{
	int r;

	if ((r = usable(s, __func__)) != 0)
		return r;
	if ((r = check_str(s, __func__, "nick", nick, 0, WIRE_NICK_MAX)) != 0)
		return r;
	return s->ops->account_nick(s->impl, id, nick);
}

int
store_account_dropped(struct store *s, uint32_t id, uint32_t dropped)
{
	int r;

	if ((r = usable(s, __func__)) != 0)
		return r;
	return s->ops->account_dropped(s->impl, id, dropped);
}

/* The fields store_network_update() writes; the name is checked only when it is added. */
static int
check_network(struct store *s, const char *fn, const struct store_network *n)
{
	int r;

	if (n == NULL)
		return invalid(s, fn, "no network");
	if ((r = check_str(s, fn, "password hash", n->passhash, 0, STR_MAX)) != 0)
		return r;
	return check_str(s, fn, "welcome", n->welcome, 0, STR_MAX);
}

int
store_network_add(struct store *s, struct store_network *n)
{
	int r;

	if ((r = usable(s, __func__)) != 0)
		return r;
	if ((r = check_network(s, __func__, n)) != 0)
		return r;
	if ((r = check_str(s, __func__, "name", n->name, 1, MSG_NAME_MAX)) != 0)
		return r;
	return s->ops->network_add(s->impl, n);
}

int
store_network_update(struct store *s, const struct store_network *n)
{
	int r;

	if ((r = usable(s, __func__)) != 0)
		return r;
	if ((r = check_network(s, __func__, n)) != 0)
		return r;
	return s->ops->network_update(s->impl, n);
}

int
store_network_del(struct store *s, uint64_t id)
{
	int r;

	if ((r = usable(s, __func__)) != 0)
		return r;
	return s->ops->network_del(s->impl, id);
}

int
store_member_put(struct store *s, const struct store_member *m)
{
	int r;

	if ((r = usable(s, __func__)) != 0)
		return r;
	if (m == NULL)
		return invalid(s, __func__, "no member");
	if (m->role < ROLE_OWNER || m->role > ROLE_PENDING)
		return invalid(s, __func__, "role %u is not a member's", m->role);
	return s->ops->member_put(s->impl, m);
}

int
store_member_del(struct store *s, uint64_t net, uint32_t node)
{
	int r;

	if ((r = usable(s, __func__)) != 0)
		return r;
	return s->ops->member_del(s->impl, net, node);
}

int
store_ban_put(struct store *s, const struct store_ban *b)
{
	int r;

	if ((r = usable(s, __func__)) != 0)
		return r;
	if (b == NULL)
		return invalid(s, __func__, "no ban");
	return s->ops->ban_put(s->impl, b);
}

int
store_ban_del(struct store *s, uint64_t net, uint32_t node)
{
	int r;

	if ((r = usable(s, __func__)) != 0)
		return r;
	return s->ops->ban_del(s->impl, net, node);
}

int
store_text_add(struct store *s, struct store_text *t)
{
	int r;

	if ((r = usable(s, __func__)) != 0)
		return r;
	if (t == NULL)
		return invalid(s, __func__, "no text");
	if (t->kind < TEXT_IM || t->kind > TEXT_NOTICE)
		return invalid(s, __func__, "unknown kind %u", t->kind);
	if ((r = check_str(s, __func__, "network", t->net, 0, MSG_NAME_MAX)) != 0 ||
	    (r = check_str(s, __func__, "nick", t->nick, 0, WIRE_NICK_MAX)) != 0 ||
	    (r = check_str(s, __func__, "text", t->text, 0, STR_MAX)) != 0)
		return r;
	return s->ops->text_add(s->impl, t);
}

int
store_text_ack(struct store *s, uint32_t node, uint64_t upto, uint32_t *deleted)
{
	uint32_t n = 0;
	int r;

	if ((r = usable(s, __func__)) != 0)
		return r;
	r = s->ops->text_ack(s->impl, node, upto, &n);
	if (deleted != NULL)
		*deleted = n;
	return r;
}

int
store_text_trim(struct store *s, uint32_t node, uint32_t keep, uint32_t *dropped)
{
	uint32_t n = 0;
	int r;

	if ((r = usable(s, __func__)) != 0)
		return r;
	r = s->ops->text_trim(s->impl, node, keep, &n);
	if (dropped != NULL)
		*dropped = n;
	return r;
}

int
store_text_each(struct store *s, uint32_t node, int (*cb)(void *arg, const struct store_text *t),
		void *arg)
{
	int r;

	if ((r = usable(s, __func__)) != 0)
		return r;
	if (cb == NULL)
		return invalid(s, __func__, "no callback");
	s->in_callback = true;
	r = s->ops->text_each(s->impl, node, cb, arg);
	s->in_callback = false;
	return r;
}

bool
store_dirty(const struct store *s)
{
	return s != NULL && s->ops->dirty(s->impl);
}

int
store_commit(struct store *s)
{
	int r;

	if ((r = usable(s, __func__)) != 0)
		return r;
	return s->ops->commit(s->impl);
}
