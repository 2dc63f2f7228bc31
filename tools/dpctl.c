/* SPDX-License-Identifier: MIT */
/*
 * buri-dpctl: SA operations on a running buri-dataplane through its control channel
 * (common/dpif.h), for tests and operators until buri-control pushes SAs itself.
 *
 *   buri-dpctl -p PREFIX [-g CTL_GEN] [-t TIMEOUT_MS] [-v] COMMAND ...
 *
 * While it runs it is the data plane's control process, so it must not run next to
 * buri-control on the same data plane (common/dpif_client.h: one client at a time), and the
 * events it reads are not seen by anyone else. Killing it at any instant leaves the channel
 * usable: a request in flight is applied or not, and its ACK waits for the next client.
 *
 * Exit status: 0 success, 1 the operation failed (one line on stderr: the data plane's
 * answer, a timeout, no data plane), 2 usage error. Every argument is parsed strictly.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/crypto.h"
#include "common/dpif_client.h"
#include "common/err.h"
#include "common/hex.h"

enum {
	EXIT_FAILED = 1,
	EXIT_USAGE = 2,
	TIMEOUT_MS = 5000,    /* default for -t */
	EVENTS_NAP_MS = 10,   /* between looks at an empty ring in `events` */
	ALIVE_CHECK_MS = 500, /* between liveness checks in `events` */
	LINE_MAX_LEN = 1024,  /* a batch line */
	KEYS_HEX = 2 * (WIRE_KE_LEN + WIRE_KA_LEN),
};

struct opts {
	const char *prefix;
	uint64_t gen;
	int timeout_ms;
	unsigned line; /* batch: the line being run (for messages); 0 otherwise */
};

struct cmd;

/* A parsed command, ready to run. */
struct req {
	const struct cmd *cmd;
	struct dpif_sa sa;
	uint64_t seconds; /* events: 0 = forever */
};

struct cmd {
	const char *name;
	int min, max; /* arguments after the name */
	const char *usage;
	enum dpif_op op; /* 0: not a request (events, batch) */
	bool (*parse)(const struct opts *o, char **argv, int argc, struct req *q);
};

static void say(const struct opts *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
say(const struct opts *o, const char *fmt, ...)
{
	va_list ap;

	fputs("buri-dpctl: ", stderr);
	if (o != NULL && o->line != 0)
		fprintf(stderr, "line %u: ", o->line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* --- strict argument parsers: false (after saying why) on anything but the whole form --- */

/* Decimal, or hex after 0x; no sign, no spaces, nothing after the digits. */
static bool
num(const struct opts *o, const char *what, const char *s, uint64_t min, uint64_t max,
    uint64_t *out)
{
	bool hex = s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
	const char *d = hex ? s + 2 : s;
	unsigned long long v;
	size_t n;
	char *end;

	/* digits only: strtoull alone would take spaces, signs and a second 0x */
	n = strspn(d, hex ? "0123456789abcdefABCDEF" : "0123456789");
	errno = 0;
	if (n == 0 || d[n] != '\0' || (v = strtoull(d, &end, hex ? 16 : 10), *end != '\0') ||
	    errno != 0 || v < min || v > max) {
		say(o,
		    "%s: need a number from %" PRIu64 " to %" PRIu64
		    " (decimal or 0x-hex), got '%s'",
		    what, min, max, s);
		return false;
	}
	*out = v;
	return true;
}

static bool
spi(const struct opts *o, const char *what, const char *s, uint32_t *out)
{
	uint64_t v;

	if (!num(o, what, s, 1, UINT32_MAX, &v))
		return false;
	*out = (uint32_t)v;
	return true;
}

/* A dotted-quad IPv4 address other than 0.0.0.0, in host order. */
static bool
addr(const struct opts *o, const char *what, const char *s, uint32_t *out)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1 || a.s_addr == 0) {
		say(o, "%s: need an IPv4 address a.b.c.d, got '%s'", what, s);
		return false;
	}
	*out = ntohl(a.s_addr);
	return true;
}

static bool
endpoint(const struct opts *o, const char *what, const char *s, uint32_t *a, uint16_t *port)
{
	const char *colon = strrchr(s, ':');
	char host[INET_ADDRSTRLEN];
	uint64_t p;

	if (colon == NULL || (size_t)(colon - s) >= sizeof(host)) {
		say(o, "%s: need ADDR:PORT, got '%s'", what, s);
		return false;
	}
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	if (!addr(o, what, host, a) || !num(o, what, colon + 1, 1, UINT16_MAX, &p))
		return false;
	*port = (uint16_t)p;
	return true;
}

/* KEYS_HEX digits: Ke then Ka, the layout of struct dirkey (common/keymat.h). */
static bool
keys(const struct opts *o, const char *what, const char *s, uint8_t *ke, uint8_t *ka)
{
	uint8_t k[WIRE_KE_LEN + WIRE_KA_LEN];
	size_t len;

	if (strlen(s) != KEYS_HEX || hex_decode(s, KEYS_HEX, k, sizeof(k), &len) != 0) {
		say(o, "%s: need %d hex digits (Ke %d bytes, then Ka %d bytes)", what, KEYS_HEX,
		    WIRE_KE_LEN, WIRE_KA_LEN);
		return false;
	}
	memcpy(ke, k, WIRE_KE_LEN);
	memcpy(ka, k + WIRE_KE_LEN, WIRE_KA_LEN);
	wipe(k, sizeof(k));
	return true;
}

static bool
standby(const struct opts *o, const char *arg, uint16_t *flags)
{
	if (strcmp(arg, "standby") != 0) {
		say(o, "add: the word after NET_MASK can only be 'standby', not '%s'", arg);
		return false;
	}
	*flags |= DPIF_SA_STANDBY;
	return true;
}

static bool
parse_add(const struct opts *o, char **argv, int argc, struct req *q)
{
	struct dpif_sa *sa = &q->sa;

	sa->net_mask = 1;
	return spi(o, "SPI_IN", argv[0], &sa->spi_in) && spi(o, "SPI_OUT", argv[1], &sa->spi_out) &&
	       addr(o, "PEER_ADDR", argv[2], &sa->peer_addr) &&
	       endpoint(o, "EP_ADDR:PORT", argv[3], &sa->ep_addr, &sa->ep_port) &&
	       keys(o, "KEYS_IN_HEX", argv[4], sa->in_ke, sa->in_ka) &&
	       keys(o, "KEYS_OUT_HEX", argv[5], sa->out_ke, sa->out_ka) &&
	       (argc < 7 || num(o, "NET_MASK", argv[6], 0, UINT64_MAX, &sa->net_mask)) &&
	       (argc < 8 || standby(o, argv[7], &sa->flags));
}

/* del, probe, activate: the SPI only. */
static bool
parse_del(const struct opts *o, char **argv, int argc, struct req *q)
{
	(void)argc;
	return spi(o, "SPI_IN", argv[0], &q->sa.spi_in);
}

static bool
parse_endpoint(const struct opts *o, char **argv, int argc, struct req *q)
{
	(void)argc;
	return spi(o, "SPI_IN", argv[0], &q->sa.spi_in) &&
	       endpoint(o, "ADDR:PORT", argv[1], &q->sa.ep_addr, &q->sa.ep_port);
}

static bool
parse_events(const struct opts *o, char **argv, int argc, struct req *q)
{
	return argc == 0 || num(o, "SECONDS", argv[0], 1, 100000000, &q->seconds);
}

static const struct cmd cmds[] = {
	{"add", 6, 8,
	 "add SPI_IN SPI_OUT PEER_ADDR EP_ADDR:PORT KEYS_IN_HEX KEYS_OUT_HEX [NET_MASK [standby]]",
	 DPIF_SA_ADD, parse_add},
	{"del", 1, 1, "del SPI_IN", DPIF_SA_DEL, parse_del},
	{"probe", 1, 1, "probe SPI_IN   (send one dummy message on the SA)", DPIF_SA_PROBE,
	 parse_del},
	{"activate", 1, 1, "activate SPI_IN   (a standby SA becomes the peer's for sending)",
	 DPIF_SA_ACTIVATE, parse_del},
	{"endpoint", 2, 2, "endpoint SPI_IN ADDR:PORT", DPIF_SA_ENDPOINT, parse_endpoint},
	{"flush", 0, 0, "flush", DPIF_FLUSH, NULL},
	{"dump", 0, 0, "dump", DPIF_DUMP, NULL},
	{"events", 0, 1, "events [SECONDS]", 0, parse_events},
	{"batch", 0, 0, "batch", 0, NULL},
};

static void
usage(void)
{
	fprintf(stderr,
		"usage: buri-dpctl -p PREFIX [-g CTL_GEN] [-t TIMEOUT_MS] [-v] COMMAND ...\n"
		"commands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(cmds); i++)
		fprintf(stderr, "  %s\n", cmds[i].usage);
	fprintf(stderr,
		"keys: %d hex digits each, Ke (%d bytes) then Ka (%d bytes)\n"
		"batch: the commands above from stdin, one per line; stops at the first "
		"failure\n",
		KEYS_HEX, WIRE_KE_LEN, WIRE_KA_LEN);
}

/* argv[0] is the command's name. EXIT_USAGE after saying why, or 0 with q filled. */
static int
parse(const struct opts *o, char **argv, int argc, struct req *q)
{
	memset(q, 0, sizeof(*q));
	for (size_t i = 0; i < ARRAY_SIZE(cmds); i++) {
		const struct cmd *c = &cmds[i];

		if (strcmp(argv[0], c->name) != 0)
			continue;
		if (argc - 1 < c->min || argc - 1 > c->max) {
			say(o, "usage: %s", c->usage);
			return EXIT_USAGE;
		}
		q->cmd = c;
		if (c->parse != NULL && !c->parse(o, argv + 1, argc - 1, q)) {
			wipe(&q->sa, sizeof(q->sa));
			return EXIT_USAGE;
		}
		return 0;
	}
	say(o, "unknown command '%s'", argv[0]);
	return EXIT_USAGE;
}

/* --- running --- */

static void
fmt_addr(uint32_t a, char out[INET_ADDRSTRLEN])
{
	snprintf(out, INET_ADDRSTRLEN, "%u.%u.%u.%u", a >> 24, a >> 16 & 0xff, a >> 8 & 0xff,
		 a & 0xff);
}

/* dpif_client_call's fn for DUMP: the entries answering our request. */
static void
print_entry(void *arg, const struct dpif_msg *m)
{
	const struct dpif_client *c = arg;
	const struct dpif_sa_entry *e = &m->u.entry;
	const struct dpif_sa *sa = &e->sa;
	char peer[INET_ADDRSTRLEN], ep[INET_ADDRSTRLEN];

	if (m->op != DPIF_SA_ENTRY || m->ctl_gen != c->ctl_gen)
		return;
	fmt_addr(sa->peer_addr, peer);
	fmt_addr(sa->ep_addr, ep);
	printf("sa spi_in=0x%08" PRIx32 " spi_out=0x%08" PRIx32
	       " peer=%s ep=%s:%u msgid_out=%" PRIu32 " nets=0x%" PRIx64 "%s"
	       " pkts_in=%" PRIu64 " bytes_in=%" PRIu64 " pkts_out=%" PRIu64 " bytes_out=%" PRIu64
	       " quiet_s=%" PRIu32 " idle_out_s=%" PRIu32 "\n",
	       sa->spi_in, sa->spi_out, peer, ep, sa->ep_port, sa->msgid_out, sa->net_mask,
	       sa->flags & DPIF_SA_STANDBY ? " standby" : "", e->pkts_in, e->bytes_in, e->pkts_out,
	       e->bytes_out, e->quiet_s, e->idle_out_s);
}

static const char *
event_name(uint16_t op)
{
	switch (op) {
	case DPIF_EV_FIRST:
		return "first";
	case DPIF_EV_IDLE:
		return "idle";
	case DPIF_EV_ENDPOINT:
		return "endpoint";
	case DPIF_EV_EXHAUST:
		return "exhaust";
	default:
		return NULL;
	}
}

static void
print_event(const struct dpif_msg *m)
{
	const struct dpif_event *ev = &m->u.ev;
	const char *name = event_name(m->op);
	char ep[INET_ADDRSTRLEN];

	if (name == NULL)
		return;
	fmt_addr(ev->ep_addr, ep);
	printf("event %s spi_in=0x%08" PRIx32 " ep=%s:%u pkts_in=%" PRIu64 " pkts_out=%" PRIu64
	       " bytes_in=%" PRIu64 " bytes_out=%" PRIu64 " msgid_out=%" PRIu32 "\n",
	       name, ev->spi_in, ep, ev->ep_port, ev->pkts_in, ev->pkts_out, ev->bytes_in,
	       ev->bytes_out, ev->msgid_out);
	fflush(stdout);
}

/* Prints events until seconds pass (0: until killed or the data plane exits). Reading only
 * consumes from the ring, so a kill at any instant costs at most one event shown twice to the
 * next reader. */
static int
run_events(struct dpif_client *c, const struct opts *o, uint64_t seconds)
{
	uint64_t start = clock_ms(), next_check = start + ALIVE_CHECK_MS, t;
	struct timespec nap = {0, EVENTS_NAP_MS * 1000000L};
	struct dpif_msg m;

	for (;;) {
		int r = dpif_client_recv(c, &m);

		if (r == 0) {
			print_event(&m);
			continue;
		}
		t = clock_ms();
		if (seconds != 0 && t - start >= seconds * 1000)
			return 0;
		if (t >= next_check) {
			if (!dpif_client_alive(c)) {
				say(o, "events: the data plane exited");
				return EXIT_FAILED;
			}
			next_check = t + ALIVE_CHECK_MS;
		}
		if (r == E_NOTFOUND)
			nanosleep(&nap, NULL);
	}
}

static int run_batch(struct dpif_client *c, struct opts *o);

static int
run(struct dpif_client *c, struct opts *o, const struct req *q)
{
	int r;

	if (q->cmd->op == 0)
		return strcmp(q->cmd->name, "events") == 0 ? run_events(c, o, q->seconds)
							   : run_batch(c, o);
	r = dpif_client_call(c, q->cmd->op, &q->sa, o->timeout_ms,
			     q->cmd->op == DPIF_DUMP ? print_entry : NULL, c);
	if (q->cmd->op == DPIF_DUMP)
		fflush(stdout);
	if (r == 0)
		return 0;
	if (r == E_TIMEOUT)
		say(o, "%s: no answer from the data plane within %d ms", q->cmd->name,
		    o->timeout_ms);
	else if (r == E_STATE)
		say(o, "%s: the data plane restarted or exited", q->cmd->name);
	else if (r == E_NOTFOUND)
		say(o, "%s: no SA with SPI_IN 0x%08" PRIx32, q->cmd->name, q->sa.spi_in);
	else
		say(o, "%s: %s", q->cmd->name, err_str(r));
	return EXIT_FAILED;
}

/* Splits line into at most max words; returns how many, or -1 if there are more. */
static int
split(char *line, char **words, int max)
{
	char *save = NULL, *w;
	int n = 0;

	for (w = strtok_r(line, " \t\r\n", &save); w != NULL;
	     w = strtok_r(NULL, " \t\r\n", &save)) {
		if (n == max)
			return -1;
		words[n++] = w;
	}
	return n;
}

static int
run_batch(struct dpif_client *c, struct opts *o)
{
	char line[LINE_MAX_LEN], *words[9];
	struct req q;
	int n, r = 0;

	for (o->line = 1; r == 0 && fgets(line, sizeof(line), stdin) != NULL; o->line++) {
		if (strchr(line, '\n') == NULL && !feof(stdin)) {
			say(o, "line longer than %d bytes", LINE_MAX_LEN - 2);
			r = EXIT_USAGE;
		} else if ((n = split(line, words, (int)ARRAY_SIZE(words))) < 0) {
			say(o, "too many words");
			r = EXIT_USAGE;
		} else if (n > 0 && words[0][0] != '#') {
			if ((r = parse(o, words, n, &q)) == 0 && q.cmd->op == 0 &&
			    strcmp(q.cmd->name, "batch") == 0) {
				say(o, "batch: not inside a batch");
				r = EXIT_USAGE;
			} else if (r == 0) {
				r = run(c, o, &q);
			}
			wipe(&q, sizeof(q));
		}
		wipe(line, sizeof(line));
	}
	if (r == 0 && ferror(stdin)) {
		say(o, "batch: cannot read stdin");
		r = EXIT_FAILED;
	}
	o->line = 0;
	return r;
}

static int
attach(struct dpif_client *c, const struct opts *o)
{
	int r = dpif_client_attach(c, o->prefix, o->gen);

	if (r == E_NOTFOUND) {
		say(o, "no data plane with file prefix '%s' (no /dev/shm" DPIF_SHM_NAME ")",
		    o->prefix, o->prefix);
		return EXIT_FAILED;
	}
	if (r == E_BUSY) {
		say(o,
		    "another control process (buri-control or buri-dpctl) is attached to the "
		    "data plane '%s'; one at a time",
		    o->prefix);
		return EXIT_FAILED;
	}
	if (r != 0) {
		say(o, "cannot attach to the data plane '%s': %s", o->prefix, err_str(r));
		return EXIT_FAILED;
	}
	if (!dpif_client_alive(c)) {
		say(o, "the data plane of '%s' is not running (process %" PRIu64 " is gone)",
		    o->prefix, c->r.hdr->dp_pid);
		dpif_client_detach(c);
		return EXIT_FAILED;
	}
	return 0;
}

static uint64_t
fresh_gen(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int
main(int argc, char **argv)
{
	struct opts o = {.timeout_ms = TIMEOUT_MS};
	struct dpif_client c;
	bool verbose = false, have_gen = false;
	uint64_t v;
	struct req q;
	int ch, r;

	while ((ch = getopt(argc, argv, "+p:g:t:vh")) != -1) {
		switch (ch) {
		case 'p':
			o.prefix = optarg;
			break;
		case 'g':
			if (!num(NULL, "-g", optarg, 1, UINT64_MAX, &o.gen))
				return EXIT_USAGE;
			have_gen = true;
			break;
		case 't':
			if (!num(NULL, "-t", optarg, 1, INT32_MAX, &v))
				return EXIT_USAGE;
			o.timeout_ms = (int)v;
			break;
		case 'v':
			verbose = true;
			break;
		default:
			usage();
			return ch == 'h' ? 0 : EXIT_USAGE;
		}
	}
	if (o.prefix == NULL || optind >= argc) {
		usage();
		return EXIT_USAGE;
	}
	if ((r = parse(&o, argv + optind, argc - optind, &q)) != 0)
		return r;
	if (!have_gen)
		o.gen = fresh_gen();
	if (verbose)
		fprintf(stderr, "buri-dpctl: control generation %" PRIu64 "\n", o.gen);
	if ((r = attach(&c, &o)) == 0) {
		r = run(&c, &o, &q);
		dpif_client_detach(&c);
	}
	wipe(&q, sizeof(q));
	return r;
}
