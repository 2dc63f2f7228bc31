/* SPDX-License-Identifier: MIT */
/*
 * buri: the command line of a buri node. It sends one request to buri-control's socket
 * (control/api.h: one JSON object per line, one reply) and prints the reply as a table, or as
 * it came with --json. Exit status: 0 done, 1 the command failed (one line on stderr), 2 usage,
 * 3 buri-control cannot be reached.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

enum { EXIT_FAILED = 1, EXIT_USAGE = 2, EXIT_UNREACHABLE = 3, REPLY_MAX = 1 << 20 };

#define DEFAULT_SOCKET "/run/buri/control.sock"

struct cmd {
	const char *name;
	int min, max; /* arguments; max -1: TEXT (the rest joined) */
	const char *args, *help;
};

static const struct cmd cmds[] = {
	{"status", 0, 0, "",
	 "This node: overlay address, nickname, mediator session (state, "
	 "transport), NAT type and public endpoint, data plane."},
	{"login", 0, 0, "",
	 "Connect to the mediator and log in (buri-control does this at "
	 "start unless node.auto_login is false)."},
	{"logout", 0, 0, "",
	 "Log out: peers get TUNNEL DOWN and tear their tunnels to this node "
	 "down. buri login connects again."},
	{"set-nick", 1, 1, "NICK", "Ask the mediator for a new nickname."},
	{"create", 1, 2, "NET [PASS]",
	 "Create network NET with password PASS; you become its "
	 "owner."},
	{"join", 1, 2, "NET [PASS]",
	 "Join network NET. If it requires approval you wait as "
	 "pending until an owner or admin approves you."},
	{"leave", 1, 1, "NET",
	 "Leave network NET; tunnels to members you share no other network "
	 "with go down."},
	{"delete", 1, 1, "NET", "Delete network NET (owner only); every member leaves it."},
	{"list", 0, 1, "[NET]",
	 "Your networks and their members, with online state and tunnel "
	 "state."},
	{"peers", 0, 0, "",
	 "Your tunnels: per peer its overlay address, endpoint, path, state, "
	 "round trip, bytes and packets each way, last handshake."},
	{"go-online", 1, 1, "NET", "Be online in NET again (tunnels to its members come up)."},
	{"go-offline", 1, 1, "NET",
	 "Be offline in NET: its members drop their tunnels to you "
	 "unless you share another network."},
	{"set-pass", 1, 2, "NET [PASS]", "Change the password of NET (owner or admin)."},
	{"lock", 1, 1, "NET", "Lock NET: nobody new may join (owner or admin)."},
	{"unlock", 1, 1, "NET", "Unlock NET (owner or admin)."},
	{"approval", 2, 2, "NET on|off",
	 "New members of NET wait for approval (on) or join at "
	 "once (off) (owner or admin)."},
	{"approve", 2, 2, "NET MEMBER",
	 "Let a pending MEMBER into NET (owner or admin). MEMBER is "
	 "an overlay address or a nickname."},
	{"reject", 2, 2, "NET MEMBER", "Turn a pending MEMBER away (owner or admin)."},
	{"evict", 2, 2, "NET MEMBER",
	 "Remove MEMBER from NET; they may join again (owner or "
	 "admin)."},
	{"ban", 2, 2, "NET MEMBER", "Remove MEMBER from NET and keep them out (owner or admin)."},
	{"unban", 2, 2, "NET MEMBER", "Lift a ban (owner or admin)."},
	{"promote", 2, 2, "NET MEMBER", "Make MEMBER an admin of NET (owner only)."},
	{"demote", 2, 2, "NET MEMBER", "Make an admin a plain member again (owner only)."},
	{"welcome", 1, -1, "NET [TEXT]",
	 "Set the message new members of NET get (empty clears "
	 "it) (owner or admin)."},
	{"announce", 2, -1, "NET TEXT",
	 "Send TEXT to every member of NET, stored for those "
	 "offline (owner or admin)."},
	{"msg", 2, -1, "PEER TEXT",
	 "Send an instant message to PEER (address or nickname); "
	 "stored if PEER is offline."},
	{"chat", 2, -1, "NET TEXT", "Send TEXT to the members of NET who are online."},
	{"inbox", 0, 0, "",
	 "Messages received: instant messages, chat, welcome messages, "
	 "announcements."},
	{"keygen", 0, 1, "[--force]",
	 "Make this node a new key pair. The overlay address is "
	 "bound to the key: a new key means a new account and a new "
	 "address, so an existing key is replaced only with --force."},
};

static const struct cmd *
find(const char *name)
{
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(cmds[i].name, name) == 0)
			return &cmds[i];
	return NULL;
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: buri [--json] [--socket PATH] COMMAND [ARGS...]\n"
		   "       buri help [COMMAND]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %-11s %s\n", cmds[i].name, cmds[i].args);
}

static int
help(const char *name)
{
	const struct cmd *c = name != NULL ? find(name) : NULL;

	if (name == NULL) {
		usage(stdout);
		printf("\nburi help COMMAND explains one. The socket is $BURI_SOCKET, "
		       "else " DEFAULT_SOCKET ".\n");
		return 0;
	}
	if (c == NULL) {
		fprintf(stderr, "buri: no command \"%s\"\n", name);
		return EXIT_USAGE;
	}
	printf("usage: buri %s%s%s\n\n%s\n", c->name, c->args[0] ? " " : "", c->args, c->help);
	return 0;
}

/* --- the request --- */

static int
prompt_pass(const char *net, char *out, size_t cap)
{
	struct termios t, quiet;
	bool tty = tcgetattr(STDIN_FILENO, &t) == 0;
	size_t n;

	fprintf(stderr, "Password for %s: ", net);
	if (tty) {
		quiet = t;
		quiet.c_lflag &= (tcflag_t) ~(ECHO);
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	if (fgets(out, (int)cap, stdin) == NULL)
		out[0] = '\0';
	if (tty)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &t);
	fprintf(stderr, "\n");
	n = strlen(out);
	if (n > 0 && out[n - 1] == '\n')
		out[n - 1] = '\0';
	return 0;
}

/* Its last argument is a password: asked for (without echo) when left out on a terminal. */
static bool
takes_pass(const struct cmd *c)
{
	return strcmp(c->name, "create") == 0 || strcmp(c->name, "join") == 0 ||
	       strcmp(c->name, "set-pass") == 0;
}

static json_t *
build(const struct cmd *c, int argc, char **argv)
{
	static char pass[256];
	json_t *args = json_array();

	if (c->max < 0) { /* NAME, then the text as one argument */
		char text[4096] = "";
		size_t n = 0;

		json_array_append_new(args, json_string(argv[0]));
		for (int i = 1; i < argc && n < sizeof(text); i++)
			n += (size_t)snprintf(text + n, sizeof(text) - n, "%s%s", i > 1 ? " " : "",
					      argv[i]);
		if (argc > 1)
			json_array_append_new(args, json_string(text));
	} else {
		for (int i = 0; i < argc; i++)
			json_array_append_new(args, json_string(argv[i]));
		if (takes_pass(c) && argc == c->max - 1) {
			if (isatty(STDIN_FILENO))
				prompt_pass(argv[0], pass, sizeof(pass));
			else
				pass[0] = '\0';
			json_array_append_new(args, json_string(pass));
		}
	}
	return json_pack("{s:s, s:o}", "cmd", c->name, "args", args);
}

/* Sends req (stolen) and reads the reply: 0 with *reply, or EXIT_UNREACHABLE. */
static int
call(const char *path, json_t *req, json_t **reply)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char *s = json_dumps(req, JSON_COMPACT), *buf = malloc(REPLY_MAX);
	size_t len = 0;
	json_error_t je;
	int fd = -1, r = EXIT_UNREACHABLE;
	ssize_t n;

	json_decref(req);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (s == NULL || buf == NULL)
		goto out;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		fprintf(stderr, "buri: cannot connect to %s: %s (is buri-control running?)\n", path,
			strerror(errno));
		goto out;
	}
	if (send(fd, s, strlen(s), MSG_NOSIGNAL) < 0 || send(fd, "\n", 1, MSG_NOSIGNAL) < 0) {
		fprintf(stderr, "buri: %s: %s\n", path, strerror(errno));
		goto out;
	}
	while (len < REPLY_MAX - 1 && (n = recv(fd, buf + len, REPLY_MAX - 1 - len, 0)) > 0)
		len += (size_t)n;
	if ((*reply = json_loadb(buf, len, JSON_DISABLE_EOF_CHECK, &je)) == NULL ||
	    !json_is_object(*reply)) {
		fprintf(stderr, "buri: no valid reply from buri-control (%s)\n",
			len == 0 ? "it closed the connection" : je.text);
		json_decref(*reply);
		*reply = NULL;
		goto out;
	}
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	free(s);
	free(buf);
	return r;
}

/* --- rendering --- */

static const char *
str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "";
}

static long long
num(const json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

static void
ago(long long t, char *out, size_t cap)
{
	long long d = (long long)time(NULL) - t;

	if (t <= 0)
		snprintf(out, cap, "never");
	else if (d < 120)
		snprintf(out, cap, "%llds ago", d);
	else if (d < 7200)
		snprintf(out, cap, "%lldm ago", d / 60);
	else
		snprintf(out, cap, "%lldh ago", d / 3600);
}

static void
bytes(long long b, char *out, size_t cap)
{
	if (b < 10 * 1024)
		snprintf(out, cap, "%lld B", b);
	else if (b < 10 * 1024 * 1024)
		snprintf(out, cap, "%.1f KiB", b / 1024.0);
	else
		snprintf(out, cap, "%.1f MiB", b / 1048576.0);
}

static void
show_status(const json_t *r)
{
	const json_t *m = json_object_get(r, "mediator"), *nat = json_object_get(r, "nat"),
		     *ov = json_object_get(r, "overlay"), *dp = json_object_get(r, "dataplane");
	char since[32];

	ago(num(m, "since"), since, sizeof(since));
	printf("%-12s %s\n", "address",
	       json_is_string(json_object_get(r, "identity")) ? str(r, "identity")
							      : "(not registered yet)");
	printf("%-12s %s\n", "nickname", str(r, "nick"));
	printf("%-12s %s (%s %s:%lld over %s, since %s)\n", "status", str(r, "state"),
	       strcmp(str(r, "state"), "online") == 0 ? "mediator" : "trying", str(m, "host"),
	       num(m, "port"), str(m, "transport"), since);
	if (str(m, "last_error")[0] != '\0')
		printf("%-12s %s\n", "last error", str(m, "last_error"));
	printf("%-12s %s, public %s\n", "NAT", str(nat, "type"),
	       json_is_string(json_object_get(nat, "public")) ? str(nat, "public") : "unknown");
	printf("%-12s %s %s\n", "overlay", str(ov, "iface"), str(ov, "addr"));
	printf("%-12s %s (prefix %s)\n", "data plane",
	       json_is_true(json_object_get(dp, "attached")) ? "attached" : "not attached",
	       str(dp, "prefix"));
	printf("%-12s %s\n", "key", str(r, "fingerprint"));
}

static void
show_list(const json_t *r)
{
	const json_t *nets = json_object_get(r, "networks"), *n;
	size_t i, j;

	if (json_array_size(nets) == 0)
		printf("no networks (buri create NET, buri join NET)\n");
	json_array_foreach(nets, i, n)
	{
		const json_t *m;

		printf("%s [%s]  %s%s%s%s\n",
		       json_is_true(json_object_get(n, "online")) ? "*" : " ", str(n, "name"),
		       str(n, "role"), json_is_true(json_object_get(n, "locked")) ? ", locked" : "",
		       json_is_true(json_object_get(n, "approval")) ? ", approval" : "",
		       json_is_true(json_object_get(n, "online")) ? "" : ", offline");
		json_array_foreach(json_object_get(n, "members"), j, m)
		{
			printf("     %s %-15s %-20s %-8s %s\n",
			       json_is_true(json_object_get(m, "online")) ? "*" : " ",
			       str(m, "identity"), str(m, "nick"), str(m, "role"),
			       str(m, "tunnel"));
		}
	}
}

static void
show_peers(const json_t *r)
{
	const json_t *peers = json_object_get(r, "peers"), *p;
	size_t i;

	if (json_array_size(peers) == 0) {
		printf("no peers\n");
		return;
	}
	printf("%-15s %-16s %-21s %-7s %-10s %6s %10s %10s %8s %8s  %s\n", "ADDRESS", "NICK",
	       "ENDPOINT", "PATH", "STATE", "RTT", "RX", "TX", "RX PKTS", "TX PKTS", "HANDSHAKE");
	json_array_foreach(peers, i, p)
	{
		char rtt[32] = "-", rx[32], tx[32], hs[32];

		if (json_is_integer(json_object_get(p, "rtt_ms")))
			snprintf(rtt, sizeof(rtt), "%lldms", num(p, "rtt_ms"));
		bytes(num(p, "rx_bytes"), rx, sizeof(rx));
		bytes(num(p, "tx_bytes"), tx, sizeof(tx));
		ago(num(p, "last_handshake"), hs, sizeof(hs));
		printf("%-15s %-16s %-21s %-7s %-10s %6s %10s %10s %8lld %8lld  %s\n",
		       str(p, "identity"), str(p, "nick"),
		       json_is_string(json_object_get(p, "endpoint")) ? str(p, "endpoint") : "-",
		       str(p, "path"), str(p, "state"), rtt, rx, tx, num(p, "rx_packets"),
		       num(p, "tx_packets"), hs);
		if (str(p, "why")[0] != '\0') {
			const json_t *cs = json_object_get(p, "candidates"), *cd;
			size_t k;

			printf("%-15s   %s: %s\n", "", str(p, "path"), str(p, "why"));
			json_array_foreach(cs, k, cd)
				printf("%-15s   candidate %s: %s\n", "", str(cd, "endpoint"),
				       json_is_true(json_object_get(cd, "answered")) ? "answered"
										     : "no answer");
		}
		if (str(p, "last_error")[0] != '\0' && strcmp(str(p, "state"), "up") != 0)
			printf("%-15s   last error: %s\n", "", str(p, "last_error"));
	}
}

static void
show_inbox(const json_t *r)
{
	const json_t *list = json_object_get(r, "messages"), *m;
	size_t i;

	if (json_array_size(list) == 0)
		printf("no messages\n");
	json_array_foreach(list, i, m)
	{
		char when[32];
		time_t t = (time_t)num(m, "time");

		strftime(when, sizeof(when), "%Y-%m-%d %H:%M", localtime(&t));
		printf("%s %-12s %s%s%s%s: %s\n", when, str(m, "kind"), str(m, "nick"),
		       str(m, "net")[0] ? " [" : "", str(m, "net"), str(m, "net")[0] ? "]" : "",
		       str(m, "text"));
	}
}

static void
show(const char *cmd, const json_t *r)
{
	if (strcmp(cmd, "status") == 0)
		show_status(r);
	else if (strcmp(cmd, "list") == 0)
		show_list(r);
	else if (strcmp(cmd, "peers") == 0)
		show_peers(r);
	else if (strcmp(cmd, "inbox") == 0)
		show_inbox(r);
	else if (strcmp(cmd, "keygen") == 0)
		printf("%s\nkey %s\nfingerprint %s\n", str(r, "message"), str(r, "path"),
		       str(r, "fingerprint"));
	else if (str(r, "message")[0] != '\0')
		printf("%s\n", str(r, "message"));
}

int
main(int argc, char **argv)
{
	const char *sock = getenv("BURI_SOCKET");
	const struct cmd *c;
	bool as_json = false;
	json_t *reply = NULL;
	int i = 1, r, nargs;

	if (sock == NULL || sock[0] == '\0')
		sock = DEFAULT_SOCKET;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--json") == 0)
			as_json = true;
		else if (strcmp(argv[i], "--socket") == 0 && i + 1 < argc)
			sock = argv[++i];
		else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return help(NULL);
		else {
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (i == argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[i], "help") == 0)
		return help(i + 1 < argc ? argv[i + 1] : NULL);
	if ((c = find(argv[i])) == NULL) {
		fprintf(stderr, "buri: no command \"%s\" (buri help lists them)\n", argv[i]);
		return EXIT_USAGE;
	}
	nargs = argc - i - 1;
	if (nargs == 1 && strcmp(argv[i + 1], "--help") == 0)
		return help(c->name);
	if (nargs < c->min || (c->max >= 0 && nargs > c->max)) {
		fprintf(stderr, "usage: buri %s %s\n", c->name, c->args);
		return EXIT_USAGE;
	}
	if ((r = call(sock, build(c, nargs, argv + i + 1), &reply)) != 0)
		return r;
	if (!json_is_true(json_object_get(reply, "ok"))) {
		const char *e = str(reply, "error");

		if (as_json)
			json_dumpf(reply, stdout, JSON_COMPACT), printf("\n");
		fprintf(stderr, "buri: %s\n", e[0] ? e : "failed");
		json_decref(reply);
		return EXIT_FAILED;
	}
	if (as_json) {
		json_dumpf(reply, stdout, JSON_COMPACT);
		printf("\n");
	} else {
		show(c->name, reply);
	}
	json_decref(reply);
	return 0;
}
