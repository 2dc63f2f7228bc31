/* SPDX-License-Identifier: MIT */
/* The control socket (api.h). */
#define _GNU_SOURCE /* accept4, struct ucred */
#include "control/api.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"

struct client {
	struct api *a;
	int fd;
	uint64_t id; /* 0: still reading the request */
	char in[API_REQ_MAX + 1];
	size_t in_len;
	char *out; /* the reply, once there is one */
	size_t out_len, out_off;
	struct loop_timer timer;
};

struct api {
	struct loop *l;
	int fd;
	char path[108];
	const struct api_cmd *cmds;
	size_t ncmds;
	void *ctx;
	struct client *c[API_CLIENTS_MAX];
	uint64_t next_id;
	gid_t gid; /* the buri group, or (gid_t)-1 */
};

/* --- parsing --- */

int
api_parse_request(const char *buf, size_t len, struct api_req *out, char *err, size_t errlen)
{
	json_error_t je;
	json_t *root, *cmd, *args, *v;
	size_t i;
	int r = E_ENCODING;

	memset(out, 0, sizeof(*out));
	if (len > API_REQ_MAX) {
		snprintf(err, errlen, "request too long");
		return E_TOOBIG;
	}
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &je); /* and nothing after it */
	if (root == NULL || !json_is_object(root)) {
		snprintf(err, errlen, "malformed request: %s",
			 root == NULL ? je.text : "not an object");
		goto out;
	}
	cmd = json_object_get(root, "cmd");
	args = json_object_get(root, "args");
	if (!json_is_string(cmd) || json_string_length(cmd) == 0 ||
	    json_string_length(cmd) >= sizeof(out->cmd) || (args != NULL && !json_is_array(args))) {
		snprintf(err, errlen,
			 "malformed request: \"cmd\" (a short string) and \"args\" (an "
			 "array of strings) expected");
		goto out;
	}
	memcpy(out->cmd, json_string_value(cmd), json_string_length(cmd) + 1);
	if (args != NULL && json_array_size(args) > API_ARGS_MAX) {
		snprintf(err, errlen, "too many arguments");
		r = E_TOOBIG;
		goto out;
	}
	json_array_foreach(args, i, v)
	{
		if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v)) {
			snprintf(err, errlen, "argument %zu is not a string without NUL bytes",
				 i + 1);
			goto out;
		}
		if (json_string_length(v) >= API_ARG_MAX) {
			snprintf(err, errlen, "argument %zu is too long", i + 1);
			r = E_TOOBIG;
			goto out;
		}
		memcpy(out->args[i], json_string_value(v), json_string_length(v) + 1);
		out->argc++;
	}
	r = 0;
out:
	json_decref(root);
	return r;
}

/* --- clients --- */

static void
client_free(struct client *c)
{
	struct api *a = c->a;

	for (unsigned i = 0; i < API_CLIENTS_MAX; i++)
		if (a->c[i] == c)
			a->c[i] = NULL;
	loop_timer_cancel(a->l, &c->timer);
	loop_fd_del(a->l, c->fd);
	close(c->fd);
	free(c->out);
	free(c);
}

static void
flush(struct client *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EAGAIN) {
			(void)loop_fd_mod(c->a->l, c->fd, EPOLLOUT);
			return;
		}
		if (n <= 0)
			break;
		c->out_off += (size_t)n;
	}
	client_free(c); /* all out, or the client is gone */
}

/* Sends obj (stolen) as the reply and closes once it is out. */
static void
answer(struct client *c, json_t *obj)
{
	char *s = obj != NULL ? json_dumps(obj, JSON_COMPACT) : NULL;

	json_decref(obj);
	c->id = UINT64_MAX; /* answered: api_reply for it finds nothing */
	loop_timer_cancel(c->a->l, &c->timer);
	if (s == NULL) {
		client_free(c);
		return;
	}
	c->out_len = strlen(s) + 1;
	c->out = s;
	s[c->out_len - 1] = '\n'; /* over the NUL: json_dumps' buffer is ours */
	c->out_off = 0;
	flush(c);
}

/* Answers {"ok": false, "error": the message}. A message cut to fit may end inside a UTF-8
 * sequence, which json_pack refuses (and the client would get no reply): that tail goes. */
static void __attribute__((format(printf, 2, 0)))
answer_error(struct client *c, const char *fmt, va_list ap)
{
	char msg[512];
	size_t n = sizeof(msg) - 1, i = n;
	unsigned char b;

	if (vsnprintf(msg, sizeof(msg), fmt, ap) >= (int)sizeof(msg)) {
		while (i > 0 && ((unsigned char)msg[i - 1] & 0xc0) == 0x80)
			i--;
		b = i > 0 ? (unsigned char)msg[i - 1] : 0; /* the last lead byte */
		if (b >= 0xc0 && n - (i - 1) < (b >= 0xf0 ? 4u : b >= 0xe0 ? 3u : 2u))
			msg[i - 1] = '\0';
	}
	answer(c, json_pack("{s:b, s:s}", "ok", 0, "error", msg));
}

static void __attribute__((format(printf, 2, 3)))
fail_client(struct client *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	answer_error(c, fmt, ap);
	va_end(ap);
}

/* Clients still reading (id 0) or answered (UINT64_MAX) have no call to find. */
static struct client *
by_id(struct api *a, uint64_t id)
{
	if (id == 0 || id == UINT64_MAX)
		return NULL;
	for (unsigned i = 0; i < API_CLIENTS_MAX; i++)
		if (a->c[i] != NULL && a->c[i]->id == id)
			return a->c[i];
	return NULL;
}

static void
dispatch(struct client *c, const struct api_req *q)
{
	struct api *a = c->a;
	const char *argv[API_ARGS_MAX];

	for (size_t i = 0; i < a->ncmds; i++) {
		const struct api_cmd *k = &a->cmds[i];

		if (strcmp(k->name, q->cmd) != 0)
			continue;
		if (q->argc < k->min_args || q->argc > k->max_args) {
			fail_client(c, "%s: wrong number of arguments (buri help %s)", k->name,
				    k->name);
			return;
		}
		for (int j = 0; j < q->argc; j++)
			argv[j] = q->args[j];
		c->id = ++a->next_id;
		loop_timer_in(a->l, &c->timer, API_CALL_MS);
		/* EPOLLIN off while the call is out: at EOF it would be ready every turn */
		(void)loop_fd_mod(a->l, c->fd, 0);
		k->fn(a->ctx, c->id, q->argc, argv); /* may answer (and free c) at once */
		return;
	}
	fail_client(c, "unknown command \"%s\" (buri help lists them)", q->cmd);
}

static void
on_client_timer(void *arg)
{
	struct client *c = arg;

	fail_client(c, c->id == 0 ? "no request received" : "timed out");
}

static void
on_client(void *arg, uint32_t events)
{
	struct client *c = arg;
	char err[256], *nl;
	struct api_req *q;
	ssize_t n;

	if (c->out != NULL) {
		flush(c);
		return;
	}
	if (c->id != 0) { /* waiting for the handler, EPOLLIN off: a hang-up ends the call */
		if (events & (EPOLLHUP | EPOLLERR))
			client_free(c);
		return;
	}
	n = recv(c->fd, c->in + c->in_len, API_REQ_MAX + 1 - c->in_len, MSG_DONTWAIT);
	if (n < 0 && errno == EAGAIN)
		return;
	if (n <= 0) {
		client_free(c);
		return;
	}
	c->in_len += (size_t)n;
	if ((nl = memchr(c->in, '\n', c->in_len)) == NULL) {
		if (c->in_len > API_REQ_MAX)
			fail_client(c, "request too long");
		return;
	}
	if ((q = malloc(sizeof(*q))) == NULL) {
		fail_client(c, "out of memory");
		return;
	}
	if (api_parse_request(c->in, (size_t)(nl - c->in), q, err, sizeof(err)) != 0)
		fail_client(c, "%s", err);
	else
		dispatch(c, q);
	free(q);
}

/* Root, or (when the group exists) whoever the socket's mode let in: a member of `buri`.
 * Without the group the socket is root's alone; a non-root peer then means the mode was
 * changed under us, and it is refused anyway. */
static bool
allowed(const struct api *a, int fd)
{
	struct ucred cr;
	socklen_t len = sizeof(cr);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) != 0)
		return false;
	return cr.uid == 0 || a->gid != (gid_t)-1;
}

static void
on_accept(void *arg, uint32_t events)
{
	struct api *a = arg;
	struct client *c;
	unsigned slot;
	int fd;

	(void)events;
	while ((fd = accept4(a->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		for (slot = 0; slot < API_CLIENTS_MAX && a->c[slot] != NULL; slot++)
			;
		if (slot == API_CLIENTS_MAX || !allowed(a, fd) ||
		    (c = calloc(1, sizeof(*c))) == NULL) {
			static const char busy[] = "{\"ok\":false,\"error\":\"busy\"}\n";
			static const char denied[] =
				"{\"ok\":false,\"error\":\"permission denied\"}\n";

			if (slot == API_CLIENTS_MAX)
				(void)!send(fd, busy, sizeof(busy) - 1,
					    MSG_NOSIGNAL | MSG_DONTWAIT);
			else
				(void)!send(fd, denied, sizeof(denied) - 1,
					    MSG_NOSIGNAL | MSG_DONTWAIT);
			close(fd);
			continue;
		}
		c->a = a;
		c->fd = fd;
		loop_timer_init(&c->timer, on_client_timer, c);
		if (loop_fd_add(a->l, fd, EPOLLIN, on_client, c) != 0) {
			close(fd);
			free(c);
			continue;
		}
		a->c[slot] = c;
		loop_timer_in(a->l, &c->timer, API_READ_MS);
	}
}

/* --- the interface --- */

static int
make_parent(const char *path)
{
	char copy[sizeof(((struct sockaddr_un *)0)->sun_path)];
	const char *dir;

	snprintf(copy, sizeof(copy), "%s", path);
	dir = dirname(copy);
	return mkdir(dir, 0755) == 0 || errno == EEXIST ? 0 : -1;
}

/* Whether a server answers at path (a live buri-control). */
static bool
alive(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool live;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	live = fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	if (fd >= 0)
		close(fd);
	return live;
}

struct api *
api_new(struct loop *l, const char *path, const struct api_cmd *cmds, size_t ncmds, void *ctx)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct group *g = getgrnam("buri");
	struct api *a;
	int e;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	if (alive(path)) {
		errno = EADDRINUSE;
		return NULL;
	}
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return NULL;
	*a = (struct api){.l = l, .fd = -1, .cmds = cmds, .ncmds = ncmds, .ctx = ctx};
	a->gid = g != NULL ? g->gr_gid : (gid_t)-1;
	snprintf(a->path, sizeof(a->path), "%s", path);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	(void)unlink(path); /* a stale socket of a dead buri-control */
	if (make_parent(path) != 0 ||
	    (a->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0 ||
	    bind(a->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || chmod(path, 0660) != 0 ||
	    (a->gid != (gid_t)-1 && chown(path, 0, a->gid) != 0) || listen(a->fd, 64) != 0 ||
	    loop_fd_add(l, a->fd, EPOLLIN, on_accept, a) != 0) {
		e = errno;
		api_free(a);
		errno = e;
		return NULL;
	}
	return a;
}

void
api_free(struct api *a)
{
	if (a == NULL)
		return;
	for (unsigned i = 0; i < API_CLIENTS_MAX; i++)
		if (a->c[i] != NULL)
			client_free(a->c[i]);
	if (a->fd >= 0) {
		loop_fd_del(a->l, a->fd);
		close(a->fd);
		(void)unlink(a->path);
	}
	free(a);
}

int
api_reply(struct api *a, uint64_t id, json_t *obj)
{
	struct client *c = by_id(a, id);

	if (c == NULL || obj == NULL) {
		json_decref(obj);
		return E_NOTFOUND;
	}
	json_object_set_new(obj, "ok", json_true());
	answer(c, obj);
	return 0;
}

int
api_error(struct api *a, uint64_t id, const char *fmt, ...)
{
	struct client *c = by_id(a, id);
	va_list ap;

	if (c == NULL)
		return E_NOTFOUND;
	va_start(ap, fmt);
	answer_error(c, fmt, ap);
	va_end(ap);
	return 0;
}
