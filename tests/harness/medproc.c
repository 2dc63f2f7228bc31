/* SPDX-License-Identifier: MIT */
/*
 * Runs buri-mediator for the integration tests (medproc.h).
 *
 * Readiness: with the default log settings the server logs at debug level, and the test
 * waits for its "ready" line, which comes after every listener (TCP, TLS, discovery) is open;
 * this costs no connection, so a test of the handshake rate limit starts with a full bucket.
 * When extra sets its own log group the line may never come, and a TCP connect is the probe.
 *
 * Free ports are found by binding port 0 on 127.0.0.1 and closing the sockets just before the
 * server starts. Another process may take one in between; a server that then exits at once
 * is started again with fresh ports (up to three times).
 */
#define _GNU_SOURCE
#include "medproc.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "common/keyfile.h"

enum {
	REG_MAX = 16,	 /* servers one test may have at a time */
	START_TRIES = 3, /* fresh ports when a server dies at once (port taken meanwhile) */
	POLL_STEP_US = 20000,
	LOG_MAX = 4 << 20, /* bytes of log read to look for "ready" or to dump */
};

/* Servers started and not cleaned up; pids[] mirrors their pid for the signal handler, and
 * files[] names what a signal handler removes (it may not format paths itself). */
static const char *const file_names[] = {
	"mediator.cfg",	   "mediator.key",	  "mediator.db",  "mediator.db-wal",
	"mediator.db-shm", "mediator.db-journal", "mediator.log", "stdout"};
enum { N_FILES = sizeof(file_names) / sizeof(file_names[0]) };
static struct medproc *reg[REG_MAX];
static volatile pid_t pids[REG_MAX];
static char files[REG_MAX][N_FILES][MEDPROC_PATH_MAX];

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
set_pid(struct medproc *p, pid_t pid)
{
	p->pid = pid;
	for (size_t i = 0; i < REG_MAX; i++)
		if (reg[i] == p)
			pids[i] = pid;
}

static bool
reg_add(struct medproc *p)
{
	for (size_t i = 0; i < REG_MAX; i++)
		if (reg[i] == NULL) {
			reg[i] = p;
			pids[i] = 0;
			return true;
		}
	return false;
}

static void
reg_del(struct medproc *p)
{
	for (size_t i = 0; i < REG_MAX; i++)
		if (reg[i] == p) {
			pids[i] = 0;
			files[i][0][0] = '\0';
			reg[i] = NULL;
		}
}

/* --- ports ------------------------------------------------------------------------------ */

/* A socket of type bound to a free loopback port, or -1. */
static int
bind_free(int type, uint16_t *port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl) != 0) {
		close(fd);
		return -1;
	}
	*port = ntohs(sa.sin_port);
	return fd;
}

/* Four distinct free port numbers: TCP, TLS (TCP), two discovery ports (UDP). */
static int
pick_ports(struct medproc *p)
{
	uint16_t port[4];
	int fd[4], r = 0;

	for (int i = 0; i < 4; i++) {
		fd[i] = bind_free(i < 2 ? SOCK_STREAM : SOCK_DGRAM, &port[i]);
		for (int j = 0; j < i && fd[i] >= 0; j++)
			if (port[j] == port[i]) { /* TCP and UDP numbers may meet: pick again */
				close(fd[i]);
				fd[i] = bind_free(i < 2 ? SOCK_STREAM : SOCK_DGRAM, &port[i]);
				j = -1;
			}
		if (fd[i] < 0)
			r = E_IO;
	}
	for (int i = 0; i < 4; i++)
		if (fd[i] >= 0)
			close(fd[i]);
	p->tcp_port = port[0];
	p->tls_port = port[1];
	p->disco_port[0] = port[2];
	p->disco_port[1] = port[3];
	return r;
}

/* --- files ------------------------------------------------------------------------------ */

/* True if text sets the top-level setting name ("name =" or "name :", as a whole word). */
static bool
sets(const char *text, const char *name)
{
	size_t n = strlen(name);

	for (const char *s = text; s != NULL && (s = strstr(s, name)) != NULL; s += n) {
		const char *e = s + n;

		if (s > text && (isalnum((unsigned char)s[-1]) || s[-1] == '_' || s[-1] == '.'))
			continue;
		while (*e == ' ' || *e == '\t' || *e == '\n')
			e++;
		if (*e == '=' || *e == ':')
			return true;
	}
	return false;
}

static void
write_defaults(FILE *f, const char *extra)
{
	if (!sets(extra, "limits"))
		fprintf(f,
			"limits = {\n  handshakes_per_second = 100000;\n"
			"  handshake_burst = 100000;\n  half_open = 100000;\n"
			"  half_open_per_address = 100000;\n  password_iterations = 1000;\n};\n");
	if (!sets(extra, "log"))
		fprintf(f, "log = { level = \"debug\"; };\n");
	if (!sets(extra, "workers"))
		fprintf(f, "workers = 2;\n");
}

static int
write_cfg(const struct medproc *p, const char *extra)
{
	FILE *f = fopen(p->cfg, "w");

	if (f == NULL)
		return E_IO;
	fprintf(f,
		"# written by tests/harness/medproc.c\n"
		"listen = {\n  address = \"127.0.0.1\";\n  tcp_port = %u;\n  tls_port = %u;\n"
		"  disco_ports = [%u, %u];\n};\n"
		"key = \"%s\";\nstore = { path = \"%s\"; };\n",
		p->tcp_port, p->tls_port, p->disco_port[0], p->disco_port[1], p->key, p->store);
	write_defaults(f, extra != NULL ? extra : "");
	if (extra != NULL)
		fprintf(f, "%s\n", extra);
	return fclose(f) == 0 ? 0 : E_IO;
}

/* The file's contents from offset on, NUL-terminated (at most LOG_MAX bytes), or NULL. */
static char *
slurp(const char *path, off_t from)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *buf = NULL;
	ssize_t n;
	size_t len = 0;

	if (fd < 0)
		return NULL;
	if (lseek(fd, from, SEEK_SET) == from && (buf = malloc(LOG_MAX + 1)) != NULL) {
		while (len < LOG_MAX && (n = read(fd, buf + len, LOG_MAX - len)) > 0)
			len += (size_t)n;
		buf[len] = '\0';
	}
	close(fd);
	return buf;
}

static off_t
file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_size : 0;
}

static void
rm_dir(const char *dir)
{
	char path[MEDPROC_PATH_MAX + 64];
	struct dirent *e;
	DIR *d = opendir(dir);

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

/* --- the process ------------------------------------------------------------------------ */

static void __attribute__((noreturn)) child(const struct medproc *p, pid_t parent)
{
	int lfd = open(p->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	int ofd = open(p->out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int nfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	sigset_t none;

	/* The server must not outlive the test, even if the test is killed with SIGKILL. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent || lfd < 0 || ofd < 0 || nfd < 0)
		_exit(127);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (dup2(nfd, 0) < 0 || dup2(ofd, 1) < 0 || dup2(lfd, 2) < 0)
		_exit(127);
	execl(p->bin, p->bin, "-c", p->cfg, (char *)NULL);
	dprintf(2, "medproc: exec %s: %s\n", p->bin, strerror(errno));
	_exit(127);
}

static int
spawn(struct medproc *p)
{
	pid_t parent = getpid(), pid;

	fflush(NULL); /* nothing buffered may be written twice */
	if ((pid = fork()) < 0)
		return E_IO;
	if (pid == 0)
		child(p, parent);
	set_pid(p, pid);
	return 0;
}

bool
medproc_running(struct medproc *p)
{
	int st;

	if (p == NULL || p->pid <= 0)
		return false;
	if (waitpid(p->pid, &st, WNOHANG) == 0)
		return true;
	p->wstatus = st;
	set_pid(p, 0);
	return false;
}

static bool
tcp_accepts(uint16_t port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok;

	if (fd < 0)
		return false;
	ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

static bool
log_says_ready(const struct medproc *p, off_t from)
{
	char *log = slurp(p->log, from);
	bool ready = log != NULL && strstr(log, ": ready\n") != NULL;

	free(log);
	return ready;
}

/* 0 once the server serves, E_IO if it ended, E_TIMEOUT. */
static int
wait_ready(struct medproc *p, off_t log_from, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;

	while (now_ms() < deadline) {
		if (!medproc_running(p))
			return E_IO;
		if (p->ready_by_log ? log_says_ready(p, log_from) : tcp_accepts(p->tcp_port))
			return 0;
		usleep(POLL_STEP_US);
	}
	return E_TIMEOUT;
}

/* The public half of the key pair in the server's key file. */
static int
public_key(const char *path, struct pubkey **out)
{
	uint8_t der[WIRE_PUBKEY_MAX];
	struct pubkey *pair = NULL;
	size_t len;
	int r;

	*out = NULL;
	if ((r = keyfile_load(path, true, &pair)) == 0 &&
	    (r = pubkey_to_der(pair, der, sizeof(der), &len)) == 0 &&
	    (*out = pubkey_from_der(der, len)) == NULL)
		r = E_KEY;
	pubkey_free(pair);
	return r;
}

/* The server's public key from its key file, and the fingerprint it printed agreeing. */
static int
load_key(struct medproc *p)
{
	char *out = slurp(p->out, 0);
	int r;

	pubkey_free(p->server_key);
	if ((r = public_key(p->key, &p->server_key)) == 0 &&
	    (r = pubkey_fingerprint(p->server_key, p->kfp)) == 0) {
		pubkey_fingerprint_str(p->kfp, p->fp_str);
		if (out == NULL || strstr(out, p->fp_str) == NULL) {
			fprintf(stderr, "# medproc: the server did not print fingerprint %s\n",
				p->fp_str);
			r = E_KEY;
		}
	}
	free(out);
	return r;
}

static int
run(struct medproc *p, int timeout_ms)
{
	off_t from = file_size(p->log);
	int r;

	if ((r = spawn(p)) != 0)
		return r;
	if ((r = wait_ready(p, from, timeout_ms)) != 0) {
		fprintf(stderr, "# medproc: %s did not come up: %s\n", p->bin, err_str(r));
		return r;
	}
	return load_key(p);
}

/* The names the signal handler removes for p. */
static void
set_files(const struct medproc *p)
{
	for (size_t i = 0; i < REG_MAX; i++)
		if (reg[i] == p)
			for (size_t j = 0; j < N_FILES; j++)
				snprintf(files[i][j], MEDPROC_PATH_MAX, "%s/%s", p->dir,
					 file_names[j]);
}

static int
set_paths(struct medproc *p, const char *bin)
{
	int n = 0;

	snprintf(p->dir, sizeof(p->dir), "/tmp/buri-med.XXXXXX");
	if (mkdtemp(p->dir) == NULL)
		return E_IO;
	n |= snprintf(p->bin, sizeof(p->bin), "%s", bin) >= (int)sizeof(p->bin);
	n |= snprintf(p->cfg, sizeof(p->cfg), "%s/mediator.cfg", p->dir) >= (int)sizeof(p->cfg);
	n |= snprintf(p->key, sizeof(p->key), "%s/mediator.key", p->dir) >= (int)sizeof(p->key);
	n |= snprintf(p->store, sizeof(p->store), "%s/mediator.db", p->dir) >=
	     (int)sizeof(p->store);
	n |= snprintf(p->log, sizeof(p->log), "%s/mediator.log", p->dir) >= (int)sizeof(p->log);
	n |= snprintf(p->out, sizeof(p->out), "%s/stdout", p->dir) >= (int)sizeof(p->out);
	set_files(p);
	return n != 0 ? E_NOSPACE : 0;
}

/* A run with fresh ports; retried when the server ends at once (a port was taken). */
static int
first_run(struct medproc *p, const char *extra, int timeout_ms)
{
	int r = E_IO;

	p->ready_by_log = extra == NULL || !sets(extra, "log");
	for (int i = 0; i < START_TRIES && r == E_IO; i++)
		if ((r = pick_ports(p)) == 0 && (r = write_cfg(p, extra)) == 0)
			r = run(p, timeout_ms);
	return r;
}

struct medproc *
medproc_start(const char *bin, const char *extra, const struct pubkey *key, int timeout_ms)
{
	struct medproc *p = calloc(1, sizeof(*p));
	int r;

	if (p == NULL)
		return NULL;
	if (!reg_add(p)) {
		free(p);
		return NULL;
	}
	if ((r = set_paths(p, bin)) != 0 ||
	    (key != NULL && (r = keyfile_store(p->key, key, true)) != 0) ||
	    (r = first_run(p, extra, timeout_ms)) != 0) {
		fprintf(stderr, "# medproc: cannot start %s: %s\n", bin, err_str(r));
		medproc_dump_log(p, stderr, 50);
		medproc_cleanup(p);
		return NULL;
	}
	return p;
}

int
medproc_kill9(struct medproc *p)
{
	int st;

	if (!medproc_running(p))
		return E_STATE;
	kill(p->pid, SIGKILL);
	while (waitpid(p->pid, &st, 0) < 0 && errno == EINTR)
		;
	p->wstatus = st;
	set_pid(p, 0);
	return 0;
}

int
medproc_stop(struct medproc *p, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;

	if (!medproc_running(p))
		return E_STATE;
	kill(p->pid, SIGTERM);
	while (medproc_running(p))
		if (now_ms() >= deadline) {
			medproc_kill9(p);
			return E_TIMEOUT;
		} else {
			usleep(POLL_STEP_US / 2);
		}
	return WIFEXITED(p->wstatus) && WEXITSTATUS(p->wstatus) == 0 ? 0 : E_IO;
}

int
medproc_restart(struct medproc *p, int timeout_ms)
{
	if (medproc_running(p))
		medproc_kill9(p);
	return run(p, timeout_ms);
}

void
medproc_cleanup(struct medproc *p)
{
	if (p == NULL)
		return;
	if (medproc_running(p))
		medproc_kill9(p);
	reg_del(p);
	if (p->dir[0] != '\0')
		rm_dir(p->dir);
	pubkey_free(p->server_key);
	free(p);
}

double
medproc_cpu_seconds(const struct medproc *p)
{
	char path[64], buf[1024], *s;
	unsigned long long utime, stime;
	ssize_t n;
	int fd;

	if (p->pid <= 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)p->pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* after "pid (comm) ": state is field 3, utime 14, stime 15 */
	if ((s = strrchr(buf, ')')) == NULL ||
	    sscanf(s + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime,
		   &stime) != 2)
		return -1;
	return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

void
medproc_dump_log(const struct medproc *p, FILE *out, size_t max_lines)
{
	char *log = slurp(p->log, 0), *s, *nl;
	size_t lines = 0;

	if (log == NULL) {
		fprintf(out, "# (no log at %s)\n", p->log);
		return;
	}
	for (s = log; *s != '\0'; s++)
		lines += *s == '\n';
	fprintf(out, "# --- %s (%zu lines%s) ---\n", p->log, lines,
		lines > max_lines ? ", the last ones" : "");
	for (s = log; lines > max_lines && (nl = strchr(s, '\n')) != NULL; lines--)
		s = nl + 1;
	for (; *s != '\0'; s = nl + 1) {
		if ((nl = strchr(s, '\n')) == NULL) {
			fprintf(out, "# %s\n", s);
			break;
		}
		fprintf(out, "# %.*s\n", (int)(nl - s), s);
	}
	fprintf(out, "# --- end of log ---\n");
	fflush(out);
	free(log);
}

/* --- every exit path --------------------------------------------------------------------- */

static void
cleanup_all(void)
{
	for (size_t i = 0; i < REG_MAX; i++)
		if (reg[i] != NULL)
			medproc_cleanup(reg[i]);
}

/* Async-signal-safe: kill, waitpid, unlink and rmdir only. */
static void
on_signal(int sig)
{
	for (size_t i = 0; i < REG_MAX; i++) {
		if (pids[i] > 0) {
			kill(pids[i], SIGKILL);
			waitpid(pids[i], NULL, 0);
		}
		for (size_t j = 0; j < N_FILES && files[i][0][0] != '\0'; j++)
			unlink(files[i][j]);
		if (reg[i] != NULL)
			rmdir(reg[i]->dir);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

void
medproc_guard(void)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGALRM, SIGSEGV, SIGBUS, SIGABRT};
	struct sigaction sa = {.sa_handler = on_signal};

	atexit(cleanup_all);
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESETHAND;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
}
