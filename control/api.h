/* SPDX-License-Identifier: MIT */
/*
 * The control socket the `buri` CLI talks to: a UNIX stream socket (mode 0660, group `buri`
 * if that group exists), one request per connection, one reply, then close.
 *
 *   request: {"cmd": "join", "args": ["net", "pass"]}\n      (at most API_REQ_MAX bytes)
 *   reply:   {"ok": true, ...}\n   or   {"ok": false, "error": "one-line reason"}\n
 *
 * Handlers may answer at once or later (a mediator round trip): each call has an id, and
 * api_reply/api_error for an id whose call is gone (timed out, never mind the client) do
 * nothing. A call unanswered after API_CALL_MS is answered "timed out".
 */
#ifndef BURI_CONTROL_API_H
#define BURI_CONTROL_API_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/util.h"
#include "control/loop.h"

enum {
	API_REQ_MAX = 16384, /* bytes of one request */
	API_ARGS_MAX = 8,
	API_ARG_MAX = 2048, /* bytes of one argument */
	API_CLIENTS_MAX = 64,
	API_READ_MS = 5000,
	API_CALL_MS = 15000,
};

typedef void api_handler_fn(void *ctx, uint64_t id, int argc, const char *const *argv);

struct api_cmd {
	const char *name;
	int min_args, max_args;
	api_handler_fn *fn;
};

/* A parsed request: cmd and args point into the caller's buffer (NUL-terminated there). */
struct api_req {
	char cmd[32];
	int argc;
	char args[API_ARGS_MAX][API_ARG_MAX];
};

/* Parses one request line buf[0..len): 0, or E_ENCODING (not a JSON object of that shape),
 * E_TOOBIG (too long, too many or too long args), with a reason in err. */
int api_parse_request(const char *buf, size_t len, struct api_req *out, char *err,
		      size_t errlen) WARN_UNUSED;

struct api;

/* Listens on path. NULL with errno: EADDRINUSE when a live server already listens there. */
struct api *api_new(struct loop *l, const char *path, const struct api_cmd *cmds, size_t ncmds,
		    void *ctx);
void api_free(struct api *a);

/* The reply of call id: obj (stolen) with "ok": true added. E_NOTFOUND if the call is gone. */
int api_reply(struct api *a, uint64_t id, json_t *obj);
int api_error(struct api *a, uint64_t id, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
