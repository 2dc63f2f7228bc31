/* SPDX-License-Identifier: MIT */
/*
 * The control socket (control/api.c): api_parse_request on every shape of request it must take
 * or refuse, then a real server on a struct loop in this process, driven by plain non-blocking
 * socket clients between loop turns. The timeouts (API_READ_MS, API_CALL_MS) are not waited
 * for: they would take 5 and 15 s.
 */
#define _GNU_SOURCE /* mkdtemp */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/err.h"
#include "control/api.h"
#include "control/loop.h"
#include "test.h"

TEST_DEFINE_STATE;

enum {
	IO_MS = 2000,	/* the longest a client waits for its reply */
	LATER_MS = 100, /* the delay of the "later" handler */
	IDLE_MS = 200,	/* how long an idle server is watched for spinning */
	IDLE_TURNS = 40 /* turns of 20 ms waits allowed in IDLE_MS (10 when idle) */
};

/* --- api_parse_request --- */

static struct api_req Q; /* 16 KiB: not on the stack */

/* Checks that a refusal put a reason in err, NUL-terminated within errlen. */
static void
check_reason(const char *err, size_t errlen)
{
	ASSERT_TRUE(err[0] != '\0');
	ASSERT_TRUE(memchr(err, '\0', errlen) != NULL);
}

/* api_parse_request on the NUL-terminated s, into Q. */
static int
parse(const char *s)
{
	char err[256];

	return api_parse_request(s, strlen(s), &Q, err, sizeof(err));
}

static void
test_parse_valid(void)
{
	TEST_START("parse: no args, empty args, args before cmd, surrounding white space");
	ASSERT_INT_EQ(parse("{\"cmd\":\"status\"}"), 0);
	ASSERT_TRUE(strcmp(Q.cmd, "status") == 0);
	ASSERT_INT_EQ(Q.argc, 0);
	ASSERT_INT_EQ(parse("{\"cmd\":\"peers\",\"args\":[]}"), 0);
	ASSERT_TRUE(strcmp(Q.cmd, "peers") == 0);
	ASSERT_INT_EQ(Q.argc, 0);
	ASSERT_INT_EQ(parse("{\"args\":[\"n\\u00e9t\",\"p\\n\"],\"cmd\":\"join\"}"), 0);
	ASSERT_TRUE(strcmp(Q.cmd, "join") == 0);
	ASSERT_INT_EQ(Q.argc, 2);
	ASSERT_TRUE(strcmp(Q.args[0], "n\xc3\xa9t") == 0);
	ASSERT_TRUE(strcmp(Q.args[1], "p\n") == 0);
	/* a CRLF client leaves a \r before the newline the server cuts at */
	ASSERT_INT_EQ(parse(" \t{\"cmd\":\"x\"} \r"), 0);
	ASSERT_TRUE(strcmp(Q.cmd, "x") == 0);
	TEST_DONE();

	TEST_START("parse: a reused api_req starts over (argc not carried over)");
	ASSERT_INT_EQ(parse("{\"cmd\":\"a\",\"args\":[\"1\",\"2\",\"3\"]}"), 0);
	ASSERT_INT_EQ(Q.argc, 3);
	ASSERT_INT_EQ(parse("{\"cmd\":\"b\",\"args\":[\"9\"]}"), 0);
	ASSERT_INT_EQ(Q.argc, 1);
	ASSERT_TRUE(strcmp(Q.args[0], "9") == 0);
	ASSERT_TRUE(strcmp(Q.args[1], "") == 0);
	TEST_DONE();
}

/* {"cmd":"<cmdlen x c>","args":[nargs args of arglen bytes, 'a'+i each]} padded with spaces to
 * at least pad bytes; its length in *len. */
static char *
build(size_t cmdlen, int nargs, size_t arglen, size_t pad, size_t *len)
{
	size_t cap = 64 + cmdlen + (size_t)nargs * (arglen + 4) + pad, n = 0;
	char *s = malloc(cap);

	if (s == NULL)
		abort();
	n += (size_t)snprintf(s + n, cap - n, "{\"cmd\":\"");
	memset(s + n, 'c', cmdlen);
	n += cmdlen;
	n += (size_t)snprintf(s + n, cap - n, "\",\"args\":[");
	for (int i = 0; i < nargs; i++) {
		s[n++] = i ? ',' : ' ';
		s[n++] = '"';
		memset(s + n, 'a' + i, arglen);
		n += arglen;
		s[n++] = '"';
	}
	s[n++] = ']';
	s[n++] = '}';
	while (n < pad)
		s[n++] = ' ';
	s[n] = '\0';
	*len = n;
	return s;
}

static void
test_parse_limits(void)
{
	char err[256], *s;
	size_t len;

	/* API_ARGS_MAX args of API_ARG_MAX - 1 bytes would not fit in API_REQ_MAX */
	TEST_START("parse: API_ARGS_MAX args, a cmd of 31 bytes");
	s = build(sizeof(Q.cmd) - 1, API_ARGS_MAX, 1000, 0, &len);
	ASSERT_INT_EQ(api_parse_request(s, len, &Q, err, sizeof(err)), 0);
	ASSERT_INT_EQ(strlen(Q.cmd), sizeof(Q.cmd) - 1);
	ASSERT_INT_EQ(Q.argc, API_ARGS_MAX);
	for (int i = 0; i < API_ARGS_MAX; i++) {
		ASSERT_INT_EQ(strlen(Q.args[i]), 1000);
		ASSERT_INT_EQ(Q.args[i][0], 'a' + i);
		ASSERT_INT_EQ(Q.args[i][999], 'a' + i);
	}
	free(s);
	TEST_DONE();

	TEST_START("parse: an arg of API_ARG_MAX - 1 bytes");
	s = build(4, 1, API_ARG_MAX - 1, 0, &len);
	ASSERT_INT_EQ(api_parse_request(s, len, &Q, err, sizeof(err)), 0);
	ASSERT_INT_EQ(Q.argc, 1);
	ASSERT_INT_EQ(strlen(Q.args[0]), API_ARG_MAX - 1);
	ASSERT_INT_EQ(Q.args[0][API_ARG_MAX - 2], 'a');
	free(s);
	TEST_DONE();

	TEST_START("parse: a request of exactly API_REQ_MAX bytes");
	s = build(4, 1, 10, API_REQ_MAX, &len);
	ASSERT_INT_EQ(len, API_REQ_MAX);
	ASSERT_INT_EQ(api_parse_request(s, len, &Q, err, sizeof(err)), 0);
	ASSERT_TRUE(strcmp(Q.cmd, "cccc") == 0);
	ASSERT_TRUE(strcmp(Q.args[0], "aaaaaaaaaa") == 0);
	free(s);
	TEST_DONE();

	TEST_START("parse: cmd of 32 bytes refused (E_ENCODING: not a short string)");
	s = build(sizeof(Q.cmd), 0, 0, 0, &len);
	ASSERT_INT_EQ(api_parse_request(s, len, &Q, err, sizeof(err)), E_ENCODING);
	check_reason(err, sizeof(err));
	free(s);
	TEST_DONE();

	TEST_START("parse: API_ARGS_MAX + 1 args refused (E_TOOBIG)");
	s = build(4, API_ARGS_MAX + 1, 1, 0, &len);
	ASSERT_INT_EQ(api_parse_request(s, len, &Q, err, sizeof(err)), E_TOOBIG);
	check_reason(err, sizeof(err));
	free(s);
	TEST_DONE();

	TEST_START("parse: an arg of API_ARG_MAX bytes refused (E_TOOBIG)");
	s = build(4, 2, API_ARG_MAX, 0, &len);
	ASSERT_INT_EQ(api_parse_request(s, len, &Q, err, sizeof(err)), E_TOOBIG);
	check_reason(err, sizeof(err));
	ASSERT_TRUE(strstr(err, "argument 1") != NULL);
	free(s);
	TEST_DONE();

	TEST_START("parse: a valid request of API_REQ_MAX + 1 bytes refused (E_TOOBIG)");
	s = build(4, 1, 10, API_REQ_MAX + 1, &len);
	ASSERT_INT_EQ(len, API_REQ_MAX + 1);
	ASSERT_INT_EQ(api_parse_request(s, len, &Q, err, sizeof(err)), E_TOOBIG);
	check_reason(err, sizeof(err));
	free(s);
	TEST_DONE();
}

#define REJECT(name, req, want)                                                                    \
	{                                                                                          \
		name, req, sizeof(req) - 1, want                                                   \
	}

static const struct {
	const char *name;
	const char *req;
	size_t len;
	int want;
} rejects[] = {
	REJECT("not JSON", "status", E_ENCODING),
	REJECT("empty", "", E_ENCODING),
	REJECT("white space only", "  ", E_ENCODING),
	REJECT("truncated object", "{\"cmd\":\"status\"", E_ENCODING),
	REJECT("single quotes", "{'cmd':'status'}", E_ENCODING),
	REJECT("invalid UTF-8 in cmd", "{\"cmd\":\"\xff\"}", E_ENCODING),
	REJECT("JSON array", "[\"status\"]", E_ENCODING),
	REJECT("JSON string", "\"status\"", E_ENCODING),
	REJECT("JSON number", "42", E_ENCODING),
	REJECT("JSON null", "null", E_ENCODING),
	REJECT("missing cmd", "{\"args\":[\"a\"]}", E_ENCODING),
	REJECT("cmd a number", "{\"cmd\":7}", E_ENCODING),
	REJECT("cmd null", "{\"cmd\":null}", E_ENCODING),
	REJECT("cmd an array", "{\"cmd\":[\"status\"]}", E_ENCODING),
	REJECT("cmd empty", "{\"cmd\":\"\"}", E_ENCODING),
	REJECT("cmd twice", "{\"cmd\":\"a\",\"cmd\":\"b\"}", E_ENCODING),
	REJECT("args a string", "{\"cmd\":\"x\",\"args\":\"a\"}", E_ENCODING),
	REJECT("args an object", "{\"cmd\":\"x\",\"args\":{}}", E_ENCODING),
	REJECT("args null", "{\"cmd\":\"x\",\"args\":null}", E_ENCODING),
	REJECT("arg a number", "{\"cmd\":\"x\",\"args\":[1]}", E_ENCODING),
	REJECT("second arg null", "{\"cmd\":\"x\",\"args\":[\"a\",null]}", E_ENCODING),
	REJECT("arg an array", "{\"cmd\":\"x\",\"args\":[[\"a\"]]}", E_ENCODING),
	REJECT("escaped NUL in cmd", "{\"cmd\":\"a\\u0000b\"}", E_ENCODING),
	REJECT("escaped NUL in arg", "{\"cmd\":\"x\",\"args\":[\"a\\u0000b\"]}", E_ENCODING),
	REJECT("raw NUL in cmd", "{\"cmd\":\"a\000b\"}", E_ENCODING),
	REJECT("raw NUL between tokens", "{\"cmd\":\000\"x\"}", E_ENCODING),
	/* A request is the whole line: bytes after the object are refused (STYLE.md 12). */
	REJECT("NUL after the object", "{\"cmd\":\"x\"}\000", E_ENCODING),
	REJECT("NUL and an object after it", "{\"cmd\":\"x\"}\000{\"cmd\":\"y\"}", E_ENCODING),
	REJECT("trailing garbage", "{\"cmd\":\"x\"} junk", E_ENCODING),
	REJECT("a second object", "{\"cmd\":\"x\"}{\"cmd\":\"y\"}", E_ENCODING),
	REJECT("a stray bracket", "{\"cmd\":\"x\"}]", E_ENCODING),
};

static void
test_parse_rejects(void)
{
	char err[256], name[128];

	for (size_t i = 0; i < ARRAY_SIZE(rejects); i++) {
		snprintf(name, sizeof(name), "parse refuses: %s", rejects[i].name);
		TEST_START(name);
		memset(err, 'Z', sizeof(err));
		ASSERT_INT_EQ(
			api_parse_request(rejects[i].req, rejects[i].len, &Q, err, sizeof(err)),
			rejects[i].want);
		check_reason(err, sizeof(err));
		TEST_DONE();
	}
}

static void
test_parse_errlen(void)
{
	char err[16], *s;
	size_t len;

	TEST_START("parse: a small errlen gets a cut, NUL-terminated reason and no more");
	memset(err, 'Z', sizeof(err));
	ASSERT_INT_EQ(api_parse_request("[]", 2, &Q, err, 8), E_ENCODING);
	ASSERT_INT_EQ(strlen(err), 7);
	ASSERT_INT_EQ(err[8], 'Z');
	memset(err, 'Z', sizeof(err));
	ASSERT_INT_EQ(api_parse_request("{\"cmd\":1}", 9, &Q, err, 1), E_ENCODING);
	ASSERT_INT_EQ(err[0], '\0');
	ASSERT_INT_EQ(err[1], 'Z');
	memset(err, 'Z', sizeof(err));
	s = build(4, API_ARGS_MAX + 1, 1, 0, &len);
	ASSERT_INT_EQ(api_parse_request(s, len, &Q, err, 5), E_TOOBIG);
	ASSERT_INT_EQ(strlen(err), 4);
	ASSERT_INT_EQ(err[5], 'Z');
	free(s);
	s = build(4, 0, 0, API_REQ_MAX + 1, &len);
	memset(err, 'Z', sizeof(err));
	ASSERT_INT_EQ(api_parse_request(s, len, &Q, err, 3), E_TOOBIG);
	ASSERT_INT_EQ(strlen(err), 2);
	ASSERT_INT_EQ(err[3], 'Z');
	free(s);
	TEST_DONE();
}

/* --- the socket --- */

static struct loop *L;
static struct api *A, *B; /* the handlers' ctx is &A or &B: the server that calls them */
static char dir[] = "/tmp/buri-api.XXXXXX";
static char path[128];

static struct {
	unsigned calls, bad_ctx;
	uint64_t held[4];
	unsigned nheld;
	struct loop_timer later;
	uint64_t later_id;
	uint64_t later_at;
	int later_r;
} F;

static void
h_echo(void *ctx, uint64_t id, int argc, const char *const *argv)
{
	json_t *args = json_array();

	F.bad_ctx += ctx != &A && ctx != &B;
	F.calls++;
	for (int i = 0; i < argc; i++)
		json_array_append_new(args, json_string(argv[i]));
	if (api_reply(*(struct api **)ctx, id,
		      json_pack("{s:i, s:o}", "argc", argc, "args", args)) != 0)
		F.bad_ctx++;
}

static void
h_fail(void *ctx, uint64_t id, int argc, const char *const *argv)
{
	F.bad_ctx += ctx != &A || argc != 1;
	F.calls++;
	if (api_error(*(struct api **)ctx, id, "bad %s", argv[0]) != 0)
		F.bad_ctx++;
}

static void
on_later(void *arg)
{
	(void)arg;
	F.later_at = loop_now(L);
	F.later_r = api_reply(A, F.later_id, json_pack("{s:b}", "late", 1));
}

static void
h_later(void *ctx, uint64_t id, int argc, const char *const *argv)
{
	(void)argc, (void)argv;
	F.bad_ctx += ctx != &A;
	F.calls++;
	F.later_id = id;
	F.later_r = 1;
	loop_timer_in(L, &F.later, LATER_MS);
}

static void
h_hold(void *ctx, uint64_t id, int argc, const char *const *argv)
{
	(void)argc, (void)argv;
	F.bad_ctx += ctx != &A;
	F.calls++;
	if (F.nheld < ARRAY_SIZE(F.held))
		F.held[F.nheld++] = id;
}

static const struct api_cmd cmds[] = {
	{"echo", 0, 3, h_echo},
	{"fail", 1, 1, h_fail},
	{"later", 0, 0, h_later},
	{"hold", 0, 0, h_hold},
};

/* A connected, non-blocking client of p; -1 when connect fails (errno set). */
static int
client(const char *p)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), e;

	if (fd < 0)
		return -1;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", p);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    fcntl(fd, F_SETFL, O_NONBLOCK) != 0) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* Sends all n bytes, turning the loop while the socket is full; 0 or -1. */
static int
csend(int fd, const void *buf, size_t n)
{
	uint64_t end = loop_now(L) + IO_MS;
	size_t off = 0;

	while (off < n && loop_now(L) < end) {
		ssize_t k = send(fd, (const char *)buf + off, n - off, MSG_NOSIGNAL);

		if (k > 0)
			off += (size_t)k;
		else if (k < 0 && errno != EAGAIN)
			return -1;
		else
			(void)loop_run_once(L, 10);
	}
	return off == n ? 0 : -1;
}

/* Reads until the server closes, turning the loop; the bytes read (NUL-terminated in buf), or
 * -1 if the server neither answered nor closed within IO_MS. */
static ssize_t
cread(int fd, char *buf, size_t cap)
{
	uint64_t end = loop_now(L) + IO_MS;
	size_t len = 0;
	ssize_t k;

	while (len < cap - 1 && loop_now(L) < end) {
		k = recv(fd, buf + len, cap - 1 - len, 0);
		if (k > 0)
			len += (size_t)k;
		else if (k == 0 || errno != EAGAIN)
			break;
		else
			(void)loop_run_once(L, 10);
	}
	buf[len] = '\0';
	return loop_now(L) < end ? (ssize_t)len : -1;
}

/* The reply as a JSON object when it is exactly one line; NULL (reported) otherwise. */
static json_t *
reply_of(const char *buf, ssize_t n)
{
	json_error_t je;
	json_t *o;

	ASSERT_TRUE(n > 0);
	if (n <= 0)
		return NULL;
	ASSERT_INT_EQ(buf[n - 1], '\n');
	ASSERT_TRUE(memchr(buf, '\n', (size_t)n - 1) == NULL);
	o = json_loadb(buf, (size_t)n, 0, &je);
	ASSERT_TRUE(json_is_object(o));
	if (!json_is_object(o)) {
		printf("# reply: %s\n", buf);
		json_decref(o);
		return NULL;
	}
	return o;
}

/* One request (req sent as is) to p; the reply object, or NULL. */
static json_t *
call_at(const char *p, const char *req, size_t len)
{
	static char buf[4096];
	int fd = client(p);
	ssize_t n;

	ASSERT_TRUE(fd >= 0);
	if (fd < 0)
		return NULL;
	ASSERT_INT_EQ(csend(fd, req, len), 0);
	n = cread(fd, buf, sizeof(buf));
	close(fd);
	return reply_of(buf, n);
}

static json_t *
call(const char *req)
{
	return call_at(path, req, strlen(req));
}

/* ok is a JSON boolean equal to want. */
static bool
ok_is(const json_t *o, bool want)
{
	const json_t *ok = json_object_get(o, "ok");

	return json_is_boolean(ok) && json_is_true(ok) == want;
}

/* ok is false and error contains what. */
static bool
error_has(const json_t *o, const char *what)
{
	const char *e = json_string_value(json_object_get(o, "error"));

	if (!ok_is(o, false) || e == NULL || strstr(e, what) == NULL) {
		printf("# error \"%s\" does not contain \"%s\"\n", e ? e : "(none)", what);
		return false;
	}
	return true;
}

/* Loop turns (each waiting up to 20 ms) in IDLE_MS: about 10 when nothing is ready. */
static unsigned
idle_turns(void)
{
	uint64_t end = loop_now(L) + IDLE_MS;
	unsigned n = 0;

	while (loop_now(L) < end) {
		(void)loop_run_once(L, 20);
		n++;
	}
	return n;
}

static void
test_setup(void)
{
	struct stat st;
	mode_t old;

	TEST_START("api_new makes the parent directory and a socket of mode 0660");
	L = loop_new();
	ASSERT_TRUE(L != NULL);
	ASSERT_TRUE(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/run/control.sock", dir);
	loop_timer_init(&F.later, on_later, NULL);
	old = umask(0); /* so 0660 comes from api_new, not from the umask */
	A = api_new(L, path, cmds, ARRAY_SIZE(cmds), &A);
	umask(old);
	ASSERT_TRUE(A != NULL);
	ASSERT_INT_EQ(stat(path, &st), 0);
	ASSERT_TRUE(S_ISSOCK(st.st_mode));
	ASSERT_INT_EQ(st.st_mode & 07777, 0660);
	if (getgrnam("buri") != NULL)
		ASSERT_INT_EQ(st.st_gid, getgrnam("buri")->gr_gid);
	TEST_DONE();
}

static void
test_calls(void)
{
	json_t *o;

	TEST_START("a registered command answered at once: ok true and the handler's fields");
	o = call("{\"cmd\":\"echo\",\"args\":[\"a\",\"b c\"]}\n");
	ASSERT_TRUE(ok_is(o, true));
	ASSERT_INT_EQ(json_integer_value(json_object_get(o, "argc")), 2);
	ASSERT_STR_EQ(json_string_value(json_array_get(json_object_get(o, "args"), 0)), "a");
	ASSERT_STR_EQ(json_string_value(json_array_get(json_object_get(o, "args"), 1)), "b c");
	ASSERT_TRUE(json_object_get(o, "error") == NULL);
	ASSERT_INT_EQ(F.calls, 1);
	ASSERT_INT_EQ(F.bad_ctx, 0);
	json_decref(o);
	TEST_DONE();

	TEST_START("api_error from the handler: ok false and its message");
	o = call("{\"cmd\":\"fail\",\"args\":[\"thing\"]}\n");
	ASSERT_TRUE(error_has(o, "bad thing"));
	ASSERT_INT_EQ(F.calls, 2);
	json_decref(o);
	TEST_DONE();

	TEST_START("an unknown command: ok false with an error, no handler runs");
	o = call("{\"cmd\":\"frobnicate\"}\n");
	ASSERT_TRUE(error_has(o, "unknown command \"frobnicate\""));
	ASSERT_INT_EQ(F.calls, 2);
	json_decref(o);
	TEST_DONE();

	TEST_START("too many and too few args: ok false, no handler runs");
	o = call("{\"cmd\":\"echo\",\"args\":[\"1\",\"2\",\"3\",\"4\"]}\n");
	ASSERT_TRUE(error_has(o, "wrong number of arguments"));
	json_decref(o);
	o = call("{\"cmd\":\"fail\"}\n");
	ASSERT_TRUE(error_has(o, "wrong number of arguments"));
	json_decref(o);
	o = call("{\"cmd\":\"later\",\"args\":[\"x\"]}\n");
	ASSERT_TRUE(error_has(o, "wrong number of arguments"));
	json_decref(o);
	ASSERT_INT_EQ(F.calls, 2);
	TEST_DONE();

	TEST_START("a malformed request line: ok false with the parser's reason");
	o = call("echo\n");
	ASSERT_TRUE(error_has(o, "malformed request"));
	json_decref(o);
	o = call("{\"cmd\":\"echo\",\"args\":[1]}\n");
	ASSERT_TRUE(error_has(o, "argument 1 is not a string"));
	json_decref(o);
	o = call("{\"cmd\":\"echo\"} trailing\n");
	ASSERT_TRUE(error_has(o, "malformed request"));
	json_decref(o);
	ASSERT_INT_EQ(F.calls, 2);
	TEST_DONE();
}

static void
test_later(void)
{
	uint64_t t0;
	json_t *o;

	TEST_START("a handler that answers after a loop timer");
	t0 = loop_now(L);
	F.later_at = 0;
	o = call("{\"cmd\":\"later\"}\n");
	ASSERT_TRUE(ok_is(o, true));
	ASSERT_TRUE(json_is_true(json_object_get(o, "late")));
	ASSERT_INT_EQ(F.later_r, 0);
	ASSERT_TRUE(F.later_at >= t0 + LATER_MS);
	ASSERT_INT_EQ(api_reply(A, F.later_id, json_object()), E_NOTFOUND); /* answered */
	ASSERT_INT_EQ(api_error(A, F.later_id, "again"), E_NOTFOUND);
	json_decref(o);
	TEST_DONE();
}

/* Sends a "hold" request on a new client and turns the loop until the handler has it. */
static int
hold(void)
{
	static const char req[] = "{\"cmd\":\"hold\"}\n";
	uint64_t end = loop_now(L) + IO_MS;
	unsigned before = F.nheld;
	int fd = client(path);

	ASSERT_TRUE(fd >= 0);
	if (fd < 0)
		return -1;
	ASSERT_INT_EQ(csend(fd, req, sizeof(req) - 1), 0);
	while (F.nheld == before && loop_now(L) < end)
		(void)loop_run_once(L, 10);
	ASSERT_INT_EQ(F.nheld, before + 1);
	return fd;
}

static void
test_out_of_order(void)
{
	char buf[256];
	int fd[2];
	json_t *o;

	TEST_START("two calls held, answered in reverse order: each reply reaches its caller");
	F.nheld = 0;
	fd[0] = hold();
	fd[1] = hold();
	ASSERT_INT_NE(F.held[0], F.held[1]);
	ASSERT_INT_EQ(api_reply(A, F.held[1], json_pack("{s:i}", "n", 2)), 0);
	ASSERT_INT_EQ(api_error(A, F.held[0], "first"), 0);
	o = reply_of(buf, cread(fd[1], buf, sizeof(buf)));
	ASSERT_TRUE(ok_is(o, true));
	ASSERT_INT_EQ(json_integer_value(json_object_get(o, "n")), 2);
	json_decref(o);
	o = reply_of(buf, cread(fd[0], buf, sizeof(buf)));
	ASSERT_TRUE(error_has(o, "first"));
	json_decref(o);
	close(fd[0]);
	close(fd[1]);
	TEST_DONE();
}

/*
 * Regression: a client that hangs up (or half-closes) while its call is held. api.c used to
 * keep the call with the fd still in epoll; epoll reports EPOLLHUP whatever the mask (and
 * EPOLLIN stays ready at EOF), so the loop spun at 100 % CPU until the reply or API_CALL_MS.
 */
static void
test_client_gone(void)
{
	char buf[256];
	unsigned n;
	json_t *o;
	int fd;

	TEST_START("client gone while its call is held: no busy loop, api_reply E_NOTFOUND");
	F.nheld = 0;
	fd = hold();
	close(fd);
	n = idle_turns();
	if (n >= IDLE_TURNS)
		printf("# %u loop turns in %d ms: the loop spins\n", n, IDLE_MS);
	ASSERT_TRUE(n < IDLE_TURNS);
	ASSERT_INT_EQ(api_reply(A, F.held[0], json_pack("{s:b}", "x", 1)), E_NOTFOUND);
	ASSERT_INT_EQ(api_error(A, F.held[0], "gone"), E_NOTFOUND);
	TEST_DONE();

	TEST_START("client half-closed while its call is held: no busy loop, reply delivered");
	F.nheld = 0;
	fd = hold();
	ASSERT_INT_EQ(shutdown(fd, SHUT_WR), 0);
	n = idle_turns();
	if (n >= IDLE_TURNS)
		printf("# %u loop turns in %d ms: the loop spins\n", n, IDLE_MS);
	ASSERT_TRUE(n < IDLE_TURNS);
	ASSERT_INT_EQ(api_reply(A, F.held[0], json_pack("{s:i}", "half", 1)), 0);
	o = reply_of(buf, cread(fd, buf, sizeof(buf)));
	ASSERT_TRUE(ok_is(o, true));
	ASSERT_INT_EQ(json_integer_value(json_object_get(o, "half")), 1);
	json_decref(o);
	close(fd);
	TEST_DONE();
}

/* Regression: ids are never 0, but clients still reading their request had id 0, so
 * api_reply(a, 0, ...) (a caller's unset id) answered whichever of them came first. */
static void
test_id_zero(void)
{
	char c;
	int fd;

	TEST_START("api_reply for id 0 finds nothing, even with a client still reading");
	fd = client(path);
	ASSERT_TRUE(fd >= 0);
	(void)loop_run_once(L, 50); /* accepted: now reading */
	ASSERT_INT_EQ(api_reply(A, 0, json_object()), E_NOTFOUND);
	ASSERT_INT_EQ(api_error(A, 0, "nobody"), E_NOTFOUND);
	(void)loop_run_once(L, 20);
	ASSERT_INT_EQ(recv(fd, &c, 1, 0), -1); /* nothing sent, not closed */
	ASSERT_INT_EQ(errno, EAGAIN);
	close(fd);
	TEST_DONE();
}

static void
test_framing(void)
{
	static const char a[] = "{\"cmd\":\"echo\",", b[] = "\"args\":[\"split\"]}\n";
	char buf[512], *s;
	size_t len;
	json_t *o;
	int fd;

	TEST_START("a request sent in two pieces is read whole");
	fd = client(path);
	ASSERT_TRUE(fd >= 0);
	ASSERT_INT_EQ(csend(fd, a, sizeof(a) - 1), 0);
	(void)idle_turns();
	ASSERT_INT_EQ(csend(fd, b, sizeof(b) - 1), 0);
	o = reply_of(buf, cread(fd, buf, sizeof(buf)));
	ASSERT_TRUE(ok_is(o, true));
	ASSERT_STR_EQ(json_string_value(json_array_get(json_object_get(o, "args"), 0)), "split");
	json_decref(o);
	close(fd);
	TEST_DONE();

	TEST_START("a request line of exactly API_REQ_MAX bytes is taken");
	s = malloc(API_REQ_MAX + 2);
	ASSERT_TRUE(s != NULL);
	len = (size_t)snprintf(s, API_REQ_MAX + 2, "{\"cmd\":\"echo\",\"args\":[\"max\"]}");
	memset(s + len, ' ', API_REQ_MAX - len);
	s[API_REQ_MAX] = '\n';
	o = call_at(path, s, API_REQ_MAX + 1);
	ASSERT_TRUE(ok_is(o, true));
	ASSERT_STR_EQ(json_string_value(json_array_get(json_object_get(o, "args"), 0)), "max");
	json_decref(o);
	TEST_DONE();

	TEST_START("API_REQ_MAX + 1 bytes without a newline: \"request too long\"");
	memset(s, 'a', API_REQ_MAX + 1);
	o = call_at(path, s, API_REQ_MAX + 1);
	ASSERT_TRUE(error_has(o, "request too long"));
	json_decref(o);
	free(s);
	TEST_DONE();
}

/* Regression: api_error cut a long message at 511 bytes, possibly inside a UTF-8 sequence;
 * json_pack then refused the string and the client got no reply at all. */
static void
test_long_error(void)
{
	char req[2048], arg[1300];
	const char *e;
	size_t n = 0;
	json_t *o;

	TEST_START("an api_error message cut inside a UTF-8 sequence still gives a reply");
	arg[n++] = 'x';
	for (int i = 0; i < 600; i++) {
		arg[n++] = '\xc3';
		arg[n++] = '\xa9';
	}
	arg[n] = '\0';
	/* "bad " and 2-byte characters: the 511th byte starts one, which goes */
	snprintf(req, sizeof(req), "{\"cmd\":\"fail\",\"args\":[\"%s\"]}\n", arg + 1);
	o = call(req);
	ASSERT_TRUE(error_has(o, "bad \xc3\xa9\xc3\xa9"));
	e = json_string_value(json_object_get(o, "error"));
	ASSERT_INT_EQ(e != NULL ? strlen(e) : 0, 510);
	json_decref(o);
	/* "bad x" and 2-byte characters: the cut falls between two, nothing more goes */
	snprintf(req, sizeof(req), "{\"cmd\":\"fail\",\"args\":[\"%s\"]}\n", arg);
	o = call(req);
	ASSERT_TRUE(error_has(o, "bad x\xc3\xa9"));
	e = json_string_value(json_object_get(o, "error"));
	ASSERT_INT_EQ(e != NULL ? strlen(e) : 0, 511);
	json_decref(o);
	TEST_DONE();
}

static void
test_busy(void)
{
	char buf[256];
	int fd[API_CLIENTS_MAX], extra;
	json_t *o;

	TEST_START("API_CLIENTS_MAX clients connected: the next one is told \"busy\"");
	for (int i = 0; i < API_CLIENTS_MAX; i++) {
		fd[i] = client(path);
		ASSERT_TRUE(fd[i] >= 0);
		(void)loop_run_once(L, 0);
	}
	(void)loop_run_once(L, 20);
	extra = client(path);
	ASSERT_TRUE(extra >= 0);
	o = reply_of(buf, cread(extra, buf, sizeof(buf)));
	ASSERT_TRUE(error_has(o, "busy"));
	json_decref(o);
	close(extra);
	for (int i = 0; i < API_CLIENTS_MAX; i++)
		close(fd[i]);
	(void)idle_turns();
	o = call("{\"cmd\":\"echo\"}\n"); /* their slots are free again */
	ASSERT_TRUE(ok_is(o, true));
	json_decref(o);
	TEST_DONE();
}

/* In a child as nobody: one request to path; 0 if the answer was "permission denied". */
static int
as_nobody(void)
{
	static const char req[] = "{\"cmd\":\"echo\"}\n";
	struct timeval tv = {.tv_sec = IO_MS / 1000};
	char buf[256];
	size_t len = 0;
	ssize_t n;
	int fd;

	if (setgid(65534) != 0 || setuid(65534) != 0 || (fd = client(path)) < 0)
		return 2;
	if (fcntl(fd, F_SETFL, 0) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0)
		return 3;
	(void)!send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL); /* EPIPE if refused already */
	while (len < sizeof(buf) - 1 && (n = recv(fd, buf + len, sizeof(buf) - 1 - len, 0)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	return strstr(buf, "\"ok\":false") != NULL && strstr(buf, "permission denied") != NULL ? 0
											       : 4;
}

/* Without a group buri the socket is root's alone: a peer let in by a changed mode is refused. */
static void
test_denied(void)
{
	unsigned calls = F.calls;
	uint64_t end;
	int st = -1;
	pid_t pid;

	if (getgrnam("buri") != NULL)
		return; /* then any peer the mode lets in is allowed */
	TEST_START("not root, the mode changed under the server: \"permission denied\"");
	ASSERT_INT_EQ(chmod(dir, 0711), 0);
	ASSERT_INT_EQ(chmod(path, 0666), 0);
	fflush(stdout);
	pid = fork();
	ASSERT_TRUE(pid >= 0);
	if (pid == 0)
		_exit(as_nobody());
	end = loop_now(L) + 2 * IO_MS;
	while (pid > 0 && waitpid(pid, &st, WNOHANG) == 0 && loop_now(L) < end)
		(void)loop_run_once(L, 10);
	ASSERT_TRUE(WIFEXITED(st));
	ASSERT_INT_EQ(WEXITSTATUS(st), 0);
	ASSERT_INT_EQ(F.calls, calls);
	ASSERT_INT_EQ(chmod(path, 0660), 0);
	ASSERT_INT_EQ(chmod(dir, 0700), 0);
	TEST_DONE();
}

static void
test_paths(void)
{
	char stale[100], longp[200];
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct api *b;
	struct stat st;
	json_t *o;
	int s;

	TEST_START("a second api_new on a live path: NULL, EADDRINUSE, the first keeps working");
	errno = 0;
	b = api_new(L, path, cmds, ARRAY_SIZE(cmds), &A);
	ASSERT_TRUE(b == NULL);
	ASSERT_INT_EQ(errno, EADDRINUSE);
	api_free(b);
	ASSERT_INT_EQ(stat(path, &st), 0);
	o = call("{\"cmd\":\"echo\"}\n");
	ASSERT_TRUE(ok_is(o, true));
	json_decref(o);
	TEST_DONE();

	TEST_START("a stale socket file (no server) is replaced; api_free removes it");
	snprintf(stale, sizeof(stale), "%s/stale.sock", dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", stale);
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	ASSERT_TRUE(s >= 0);
	ASSERT_INT_EQ(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(s);
	ASSERT_INT_EQ(stat(stale, &st), 0);
	ASSERT_TRUE(client(stale) < 0 && errno == ECONNREFUSED);
	B = api_new(L, stale, cmds, ARRAY_SIZE(cmds), &B);
	ASSERT_TRUE(B != NULL);
	o = call_at(stale, "{\"cmd\":\"echo\"}\n", 15);
	ASSERT_TRUE(ok_is(o, true));
	json_decref(o);
	api_free(B);
	ASSERT_TRUE(stat(stale, &st) != 0 && errno == ENOENT);
	TEST_DONE();

	TEST_START("a path too long for sun_path: NULL, ENAMETOOLONG");
	memset(longp, 'p', sizeof(longp) - 1);
	longp[0] = '/';
	longp[sizeof(longp) - 1] = '\0';
	errno = 0;
	ASSERT_TRUE(api_new(L, longp, cmds, ARRAY_SIZE(cmds), &A) == NULL);
	ASSERT_INT_EQ(errno, ENAMETOOLONG);
	TEST_DONE();
}

static void
test_teardown(void)
{
	char sub[160];
	struct stat st;
	int fd;

	TEST_START("api_free closes the socket and removes its file");
	ASSERT_INT_EQ(F.bad_ctx, 0); /* every handler saw its own server as ctx */
	fd = client(path);	     /* a client still connected at api_free */
	ASSERT_TRUE(fd >= 0);
	(void)loop_run_once(L, 20);
	api_free(A);
	api_free(NULL);
	ASSERT_TRUE(stat(path, &st) != 0 && errno == ENOENT);
	ASSERT_TRUE(client(path) < 0);
	ASSERT_INT_EQ(recv(fd, sub, 1, MSG_DONTWAIT), 0); /* the server closed it */
	close(fd);
	loop_free(L);
	snprintf(sub, sizeof(sub), "%s/run", dir);
	ASSERT_INT_EQ(rmdir(sub), 0);
	ASSERT_INT_EQ(rmdir(dir), 0);
	TEST_DONE();
}

int
main(void)
{
	test_parse_valid();
	test_parse_limits();
	test_parse_rejects();
	test_parse_errlen();
	if (getuid() != 0) {
		/* only root may connect unless a group buri exists, and only root can chown to it
		 */
		printf("# not root: the socket tests are skipped\n");
		return test_finish();
	}
	test_setup();
	if (A == NULL)
		return test_finish();
	test_calls();
	test_later();
	test_out_of_order();
	test_client_gone();
	test_id_zero();
	test_framing();
	test_long_error();
	test_busy();
	test_denied();
	test_paths();
	test_teardown();
	return test_finish();
}
