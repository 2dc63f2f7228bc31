/* SPDX-License-Identifier: MIT */
/*
 * buri-dataplane's settings: defaults, the reference config, one exact message per kind of
 * mistake, flags over the file, and the EAL argument vector. No EAL is started.
 * usage: test_dp_cfg CONFIGS/DATAPLANE.CFG
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/log.h"
#include "dataplane/cfg.h"
#include "test.h"

TEST_DEFINE_STATE;

static char tmpdir[] = "/tmp/test_dp_cfg.XXXXXX";

/* Line 1 of most test texts: the one required setting. */
#define WAN "wan = { device = \"net_null0\"; };\n"

static bool
starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void
check_defaults(const struct dp_cfg *c)
{
	ASSERT_STR_EQ(c->file_prefix, "buri");
	ASSERT_INT_EQ(c->memory, DP_MEM_HUGEPAGES);
	ASSERT_INT_EQ(c->n_eal_args, 0);
	ASSERT_INT_EQ(c->main_lcore, 0);
	ASSERT_INT_EQ(c->n_workers, 1);
	ASSERT_INT_EQ(c->workers[0], 1);
	ASSERT_STR_EQ(c->wan_mirror, "buriwan0");
	ASSERT_INT_EQ(c->wan_mtu, 1500);
	ASSERT_STR_EQ(c->overlay_iface, "buri0");
	ASSERT_INT_EQ(c->tunnel_port, 7777);
	ASSERT_INT_EQ(c->idle_timeout, 30);
	ASSERT_INT_EQ(c->mbufs, 16383);
	ASSERT_INT_EQ(c->mbuf_cache, 256);
	ASSERT_INT_EQ(c->rx_desc, 1024);
	ASSERT_INT_EQ(c->tx_desc, 1024);
	ASSERT_INT_EQ(c->max_sas, 4096);
	ASSERT_TRUE(!c->busy_poll);
	ASSERT_INT_EQ(c->idle_polls, 512);
	ASSERT_INT_EQ(c->sleep_max_us, 500);
	ASSERT_INT_EQ(c->crypto, DP_CRYPTO_AUTO);
	ASSERT_TRUE(c->telemetry);
	ASSERT_INT_EQ(c->log_level, LOG_LVL_INFO);
	ASSERT_TRUE(!c->log_syslog);
}

static void
test_defaults(void)
{
	struct dp_cfg c;
	char err[CONF_ERR_MAX];

	TEST_START("defaults: only wan.device given");
	ASSERT_INT_EQ(dp_cfg_parse(&c, WAN, "t.cfg", err), 0);
	ASSERT_STR_EQ(err, "");
	ASSERT_STR_EQ(c.wan_device, "net_null0");
	check_defaults(&c);
	TEST_DONE();
}

static void
test_reference(const char *path)
{
	char *argv[] = {"buri-dataplane", "-c", (char *)path, NULL};
	struct dp_cfg c;

	TEST_START("the reference config parses and states the defaults");
	ASSERT_INT_EQ(dp_cfg_load(&c, 3, argv), 0);
	ASSERT_STR_EQ(c.config_path, path);
	ASSERT_STR_EQ(c.wan_device, "0000:01:00.0");
	check_defaults(&c);
	TEST_DONE();
}

static void
test_values(void)
{
	static const char text[] =
		"eal = { file_prefix = \"dp-2_x\"; memory = \"no-huge\";\n"
		"  args = [\"-m\", \"512\"]; };\n"
		"lcores = { main = 4; workers = [6, 5, 127]; };\n"
		"wan = { device = \"0000:aB:1f.7,txq_inline=128\"; mirror = \"m0\";\n"
		"  mtu = 9000; };\n"
		"overlay = { iface = \"o-1.x\"; };\n"
		"tunnel = { port = 1; idle_timeout = 86400; };\n"
		"pools = { mbufs = 1048575; mbuf_cache = 0; rx_desc = 64;\n"
		"  tx_desc = 16384; sas = 1; };\n"
		"poll = { busy = true; idle_polls = 1; sleep_max_us = 100000; };\n"
		"crypto = { backend = \"ipsec-mb\"; };\n"
		"telemetry = false;\n"
		"log = { level = \"debug\"; syslog = true; };\n";
	struct dp_cfg c;
	char err[CONF_ERR_MAX];

	TEST_START("every setting read, range ends accepted");
	ASSERT_INT_EQ(dp_cfg_parse(&c, text, "t.cfg", err), 0);
	ASSERT_STR_EQ(err, "");
	ASSERT_STR_EQ(c.file_prefix, "dp-2_x");
	ASSERT_INT_EQ(c.memory, DP_MEM_NOHUGE);
	ASSERT_INT_EQ(c.n_eal_args, 2);
	ASSERT_STR_EQ(c.eal_args[0], "-m");
	ASSERT_STR_EQ(c.eal_args[1], "512");
	ASSERT_INT_EQ(c.main_lcore, 4);
	ASSERT_INT_EQ(c.n_workers, 3);
	ASSERT_INT_EQ(c.workers[0], 6);
	ASSERT_INT_EQ(c.workers[1], 5);
	ASSERT_INT_EQ(c.workers[2], 127);
	ASSERT_STR_EQ(c.wan_device, "0000:aB:1f.7,txq_inline=128");
	ASSERT_STR_EQ(c.wan_mirror, "m0");
	ASSERT_INT_EQ(c.wan_mtu, 9000);
	ASSERT_STR_EQ(c.overlay_iface, "o-1.x");
	ASSERT_INT_EQ(c.tunnel_port, 1);
	ASSERT_INT_EQ(c.idle_timeout, 86400);
	ASSERT_INT_EQ(c.mbufs, 1048575);
	ASSERT_INT_EQ(c.mbuf_cache, 0);
	ASSERT_INT_EQ(c.rx_desc, 64);
	ASSERT_INT_EQ(c.tx_desc, 16384);
	ASSERT_INT_EQ(c.max_sas, 1);
	ASSERT_TRUE(c.busy_poll);
	ASSERT_INT_EQ(c.idle_polls, 1);
	ASSERT_INT_EQ(c.sleep_max_us, 100000);
	ASSERT_INT_EQ(c.crypto, DP_CRYPTO_IPSECMB);
	ASSERT_TRUE(!c.telemetry);
	ASSERT_INT_EQ(c.log_level, LOG_LVL_DEBUG);
	ASSERT_TRUE(c.log_syslog);
	TEST_DONE();
}

/* Each text must fail with exactly this message. */
static const struct {
	const char *what, *text, *msg;
} bad[] = {
	{"out of range", WAN "wan = { mtu = 9001; };\n", NULL},
	{"out of range", "wan = {\n  device = \"net_null0\";\n  mtu = 575;\n};\n",
	 "t.cfg:3: wan.mtu: 575 is out of range [576, 9000]"},
	{"out of range (list element)", WAN "lcores = { workers = [1, 128]; };\n",
	 "t.cfg:2: lcores.workers[1]: 128 is out of range [0, 127]"},
	{"out of range", WAN "pools = { mbuf_cache = 513; };\n",
	 "t.cfg:2: pools.mbuf_cache: 513 is out of range [0, 512]"},
	{"wrong type", WAN "tunnel = { port = \"7777\"; };\n",
	 "t.cfg:2: tunnel.port: expected an integer"},
	{"wrong type", WAN "telemetry = 1;\n", "t.cfg:2: telemetry: expected a boolean"},
	{"wrong type (scalar for a group)", WAN "poll = 5;\n", "t.cfg:2: poll: expected a group"},
	{"unknown key", WAN "pools = {\n  mbuf = 4095;\n};\n",
	 "t.cfg:3: pools.mbuf: unknown setting"},
	{"unknown key", WAN "lcore = { main = 0; };\n", "t.cfg:2: lcore: unknown setting"},
	{"lan group", WAN "lan = { device = \"0000:02:00.0\"; };\n",
	 "t.cfg:2: lan: gateway mode (a LAN port role) is not supported yet"},
	{"duplicate worker", WAN "lcores = { workers = [1, 2, 1]; };\n",
	 "t.cfg:2: lcores.workers: lcore 1 is listed twice"},
	{"worker equal to main", WAN "lcores = { main = 2; workers = [1, 2]; };\n",
	 "t.cfg:2: lcores.workers: lcore 2 is also lcores.main"},
	{"main on the default worker", WAN "lcores = { main = 1; };\n",
	 "t.cfg:2: lcores.workers: lcore 1 is also lcores.main"},
	{"no worker", WAN "lcores = { workers = []; };\n",
	 "t.cfg:2: lcores.workers: at least one worker lcore is needed"},
	{"bad prefix chars", WAN "eal = { file_prefix = \"a/b\"; };\n",
	 "t.cfg:2: eal.file_prefix: \"a/b\" may only contain A-Z, a-z, 0-9, '_' and '-'"},
	{"prefix too long", WAN "eal = { file_prefix = \"123456789012345678901234567890123\"; };\n",
	 "t.cfg:2: eal.file_prefix: \"123456789012345678901234567890123\" must be 1 to 32 "
	 "characters long"},
	{"empty prefix", WAN "eal = { file_prefix = \"\"; };\n",
	 "t.cfg:2: eal.file_prefix: \"\" must be 1 to 32 characters long"},
	{"bad memory", WAN "eal = { memory = \"huge\"; };\n",
	 "t.cfg:2: eal.memory: \"huge\" is not one of \"hugepages\", \"no-huge\""},
	{"empty EAL argument", WAN "eal = { args = [\"-m\", \"\"]; };\n",
	 "t.cfg:2: eal.args: entry 1 is empty"},
	{"bad ifname", WAN "overlay = { iface = \"bu ri\"; };\n",
	 "t.cfg:2: overlay.iface: \"bu ri\" may not contain '/', ':', ',', white space or control "
	 "characters"},
	{"bad ifname", WAN "wan = { mirror = \"a,b\"; };\n", NULL},
	{"bad ifname", "wan = { device = \"net_null0\"; mirror = \"..\"; };\n",
	 "t.cfg:1: wan.mirror: \"..\" is not a valid interface name"},
	{"ifname too long", "wan = { device = \"net_null0\"; mirror = \"abcdefghijklmnop\"; };\n",
	 "t.cfg:1: wan.mirror: too long (16 bytes, at most 15)"},
	{"mirror and overlay alike", WAN "overlay = { iface = \"buriwan0\"; };\n",
	 "t.cfg:2: overlay.iface: \"buriwan0\" is also the name of the wan mirror"},
	{"missing wan.device", "tunnel = { port = 7777; };\n",
	 "t.cfg: wan.device: missing required setting"},
	{"missing wan.device (group present)", "\nwan = { mtu = 1500; };\n",
	 "t.cfg:2: wan.device: missing required setting"},
	{"empty wan.device", "wan = { device = \"\"; };\n", "t.cfg:1: wan.device: \"\" is empty"},
	{"bad PCI address", "wan = { device = \"0000:01:00.8\"; };\n",
	 "t.cfg:1: wan.device: \"0000:01:00.8\" is not a PCI address of the form dddd:bb:dd.f "
	 "(hex; device at most 1f, function at most 7)"},
	{"bad PCI address", "wan = { device = \"0000:01:20.0\"; };\n", NULL},
	{"short PCI address", "wan = { device = \"01:00.0\"; };\n", NULL},
	{"bad vdev", "wan = { device = \"net af_packet0\"; };\n",
	 "t.cfg:1: wan.device: \"net af_packet0\" may not contain white space or control "
	 "characters"},
	{"bad vdev", "wan = { device = \"eth-1\"; };\n",
	 "t.cfg:1: wan.device: \"eth-1\" is neither a PCI address (dddd:bb:dd.f) nor vdev devargs "
	 "(\"net_af_packet0,iface=eth1\")"},
	{"reserved vdev", "wan = { device = \"net_tap1,iface=x\"; };\n",
	 "t.cfg:1: wan.device: \"net_tap1,iface=x\" uses a name the data plane keeps for its own "
	 "TAPs (net_tap0, net_tap1)"},
	{"rx_desc not a power of two", WAN "pools = { rx_desc = 1000; };\n",
	 "t.cfg:2: pools.rx_desc: 1000 is not a power of two"},
	{"tx_desc not a power of two", WAN "pools = { tx_desc = 3072; };\n",
	 "t.cfg:2: pools.tx_desc: 3072 is not a power of two"},
	{"bad backend", WAN "crypto = { backend = \"ipsecmb\"; };\n",
	 "t.cfg:2: crypto.backend: \"ipsecmb\" is not one of \"auto\", \"ipsec-mb\", \"openssl\""},
	{"bad log level", WAN "log = { level = \"verbose\"; };\n",
	 "t.cfg:2: log.level: \"verbose\" is not one of error, warn, info, debug"},
	{"syntax error", WAN "poll = { busy = ; };\n", "t.cfg:2: syntax error"},
};

static void
test_errors(void)
{
	char err[CONF_ERR_MAX], name[96];
	struct dp_cfg c;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		snprintf(name, sizeof(name), "error %zu: %s", i, bad[i].what);
		TEST_START(name);
		ASSERT_INT_EQ(dp_cfg_parse(&c, bad[i].text, "t.cfg", err), E_CONF);
		if (bad[i].msg != NULL)
			ASSERT_STR_EQ(err, bad[i].msg);
		else
			ASSERT_TRUE(starts(err, "t.cfg:") && strchr(err, '\n') == NULL);
		TEST_DONE();
	}
}

/* Runs dp_cfg_load with stdout and stderr captured into out and errout. */
static int
load(struct dp_cfg *c, char **argv, char *out, char *errout, size_t cap)
{
	int fds[2] = {STDOUT_FILENO, STDERR_FILENO}, saved[2], argc = 0, fd, r;
	char *bufs[2] = {out, errout}, path[64];
	FILE *f;

	while (argv[argc] != NULL)
		argc++;
	fflush(stdout);
	fflush(stderr);
	for (int i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/fd%d", tmpdir, i);
		saved[i] = dup(fds[i]);
		if (saved[i] < 0 || (fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0 ||
		    dup2(fd, fds[i]) < 0) {
			printf("Bail out! cannot redirect fd %d\n", fds[i]);
			exit(1);
		}
		close(fd);
	}
	r = dp_cfg_load(c, argc, argv);
	fflush(stdout);
	fflush(stderr);
	for (int i = 0; i < 2; i++) {
		dup2(saved[i], fds[i]);
		close(saved[i]);
		snprintf(path, sizeof(path), "%s/fd%d", tmpdir, i);
		bufs[i][0] = '\0';
		if ((f = fopen(path, "r")) != NULL) {
			bufs[i][fread(bufs[i], 1, cap - 1, f)] = '\0';
			fclose(f);
		}
	}
	return r;
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0) {
		printf("Bail out! cannot write %s\n", path);
		exit(1);
	}
}

static void
test_flags(void)
{
	char path[96], nowan[96], out[512], errout[512], want[160];
	struct dp_cfg c;

	snprintf(path, sizeof(path), "%s/dp.cfg", tmpdir);
	write_file(path, "eal = { file_prefix = \"filepfx\"; };\n"
			 "wan = { device = \"net_null0\"; };\n"
			 "poll = { busy = false; };\n"
			 "log = { level = \"warn\"; };\n");
	snprintf(nowan, sizeof(nowan), "%s/nowan.cfg", tmpdir);
	write_file(nowan, "tunnel = { port = 9999; };\n");

	TEST_START("flags override the file");
	{
		char *argv[] = {"buri-dataplane", "-c",		 path,
				"--prefix",	  "flagpfx",	 "--wan",
				"0000:02:00.1",	  "--busy-poll", "--log-level",
				"debug",	  NULL};

		ASSERT_INT_EQ(load(&c, argv, out, errout, sizeof(out)), 0);
		ASSERT_STR_EQ(out, "");
		ASSERT_STR_EQ(errout, "");
		ASSERT_STR_EQ(c.config_path, path);
		ASSERT_STR_EQ(c.file_prefix, "flagpfx");
		ASSERT_STR_EQ(c.wan_device, "0000:02:00.1");
		ASSERT_TRUE(c.busy_poll);
		ASSERT_INT_EQ(c.log_level, LOG_LVL_DEBUG);
	}
	TEST_DONE();

	TEST_START("without flags the file's values stand");
	{
		char *argv[] = {"buri-dataplane", "--config", path, NULL};

		ASSERT_INT_EQ(load(&c, argv, out, errout, sizeof(out)), 0);
		ASSERT_STR_EQ(c.file_prefix, "filepfx");
		ASSERT_STR_EQ(c.wan_device, "net_null0");
		ASSERT_TRUE(!c.busy_poll);
		ASSERT_INT_EQ(c.log_level, LOG_LVL_WARN);
	}
	TEST_DONE();

	TEST_START("--wan stands in for a missing wan.device");
	{
		char *argv[] = {"buri-dataplane", "-c", nowan, "--wan", "net_ring0", NULL};
		char *argv2[] = {"buri-dataplane", "-c", nowan, NULL};

		ASSERT_INT_EQ(load(&c, argv, out, errout, sizeof(out)), 0);
		ASSERT_STR_EQ(c.wan_device, "net_ring0");
		ASSERT_INT_EQ(c.tunnel_port, 9999);
		ASSERT_INT_EQ(load(&c, argv2, out, errout, sizeof(out)), E_CONF);
		snprintf(want, sizeof(want),
			 "buri-dataplane: %s: wan.device: missing required setting\n", nowan);
		ASSERT_STR_EQ(errout, want);
	}
	TEST_DONE();

	TEST_START("--check prints ok FILE and returns 1; --help returns 1");
	{
		char *argv[] = {"buri-dataplane", "-c", path, "--check", NULL};
		char *argv2[] = {"buri-dataplane", "--help", NULL};

		ASSERT_INT_EQ(load(&c, argv, out, errout, sizeof(out)), 1);
		snprintf(want, sizeof(want), "ok %s\n", path);
		ASSERT_STR_EQ(out, want);
		ASSERT_STR_EQ(errout, "");
		ASSERT_INT_EQ(load(&c, argv2, out, errout, sizeof(out)), 1);
		ASSERT_TRUE(starts(out, "usage: buri-dataplane "));
		ASSERT_TRUE(strstr(out, "--wan DEVARGS") != NULL);
	}
	TEST_DONE();

	TEST_START("bad flag values and files: E_CONF, one line on stderr");
	{
		char *a1[] = {"buri-dataplane", "-c", path, "--prefix", "a.b", NULL};
		char *a2[] = {"buri-dataplane", "-c", path, "--wan", "0000:1:00.0", NULL};
		char *a3[] = {"buri-dataplane", "-c", path, "--log-level", "loud", NULL};
		char *a4[] = {"buri-dataplane", "-c",	     "/nonexistent/dp.cfg",
			      "--wan",		"net_null0", NULL};
		char *a5[] = {"buri-dataplane", "-c", path, "stray", NULL};
		char *a6[] = {"buri-dataplane", "--bogus", NULL};

		ASSERT_INT_EQ(load(&c, a1, out, errout, sizeof(out)), E_CONF);
		ASSERT_STR_EQ(errout, "buri-dataplane: --prefix: \"a.b\" may only contain A-Z, "
				      "a-z, 0-9, '_' and '-'\n");
		ASSERT_INT_EQ(load(&c, a2, out, errout, sizeof(out)), E_CONF);
		ASSERT_TRUE(starts(errout, "buri-dataplane: --wan: \"0000:1:00.0\" is not a PCI "));
		ASSERT_INT_EQ(load(&c, a3, out, errout, sizeof(out)), E_CONF);
		ASSERT_STR_EQ(errout, "buri-dataplane: --log-level: \"loud\" is not one of error, "
				      "warn, info, debug\n");
		ASSERT_INT_EQ(load(&c, a4, out, errout, sizeof(out)), E_CONF);
		ASSERT_STR_EQ(errout, "buri-dataplane: /nonexistent/dp.cfg: cannot open: No such "
				      "file or directory\n");
		ASSERT_INT_EQ(load(&c, a5, out, errout, sizeof(out)), E_CONF);
		ASSERT_STR_EQ(errout, "buri-dataplane: unexpected argument \"stray\"\n");
		ASSERT_INT_EQ(load(&c, a6, out, errout, sizeof(out)), E_CONF);
		ASSERT_TRUE(strstr(errout, "usage: buri-dataplane") != NULL);
	}
	TEST_DONE();

	/* Only meaningful where no default file is installed. */
	if (access("/etc/buri/dataplane.cfg", F_OK) != 0) {
		TEST_START("no file: --wan is enough, nothing is an error");
		{
			char *a1[] = {"buri-dataplane", "--wan", "net_null0", NULL};
			char *a2[] = {"buri-dataplane", NULL};

			ASSERT_INT_EQ(load(&c, a1, out, errout, sizeof(out)), 0);
			ASSERT_STR_EQ(c.config_path, "");
			check_defaults(&c);
			ASSERT_INT_EQ(load(&c, a2, out, errout, sizeof(out)), E_CONF);
			ASSERT_TRUE(strstr(errout, "no wan device") != NULL);
		}
		TEST_DONE();
	}
}

/* argv[0..n) equals want[0..n) and argv[n] is NULL. */
static void
check_argv(char **argv, int n, const char *const *want, int nwant)
{
	ASSERT_INT_EQ(n, nwant);
	for (int i = 0; i < n && i < nwant; i++)
		ASSERT_STR_EQ(argv[i], want[i]);
	if (n >= 0)
		ASSERT_TRUE(argv[n] == NULL);
}

static size_t
bytes_needed(const char *const *v, int n)
{
	size_t sum = 0;

	for (int i = 0; i < n; i++)
		sum += strlen(v[i]) + 1;
	return sum;
}

static void
test_eal_vdev(void)
{
	static const char text[] = "eal = { file_prefix = \"t1\"; memory = \"no-huge\";\n"
				   "  args = [\"-m\", \"512\"]; };\n"
				   "lcores = { main = 2; workers = [3, 5]; };\n"
				   "wan = { device = \"net_af_packet0,iface=eth1\"; };\n"
				   "overlay = { iface = \"ovl0\"; };\n"
				   "telemetry = false;\n";
	static const char *const want[] = {"buri-dataplane",
					   "-l",
					   "2,3,5",
					   "--main-lcore=2",
					   "--file-prefix=t1",
					   "--no-huge",
					   "--no-shconf",
					   "--iova-mode=va",
					   "--vdev=net_af_packet0,iface=eth1",
					   "--no-pci",
					   "--vdev=net_tap0,iface=ovl0",
					   "--no-telemetry",
					   "-m",
					   "512"};
	char buf[1024], err[CONF_ERR_MAX], *argv[32];
	struct dp_cfg c;

	TEST_START("EAL argv: vdev wan, no-huge, no telemetry, extra args");
	ASSERT_INT_EQ(dp_cfg_parse(&c, text, "t.cfg", err), 0);
	check_argv(argv, dp_cfg_eal_argv(&c, buf, sizeof(buf), argv, 32), want,
		   (int)ARRAY_SIZE(want));
	TEST_DONE();
}

static void
test_eal_pci(void)
{
	static const char *const want[] = {"buri-dataplane",
					   "-l",
					   "0,1",
					   "--main-lcore=0",
					   "--file-prefix=buri",
					   "--in-memory",
					   "--iova-mode=va",
					   "-a",
					   "0000:01:00.0",
					   "--vdev=net_tap0,iface=buri0"};
	const int nwant = (int)ARRAY_SIZE(want);
	char buf[512], err[CONF_ERR_MAX], *argv[32];
	size_t need = bytes_needed(want, nwant);
	struct dp_cfg c;

	TEST_START("EAL argv: PCI wan, defaults");
	ASSERT_INT_EQ(dp_cfg_parse(&c, "wan = { device = \"0000:01:00.0\"; };", "t.cfg", err), 0);
	check_argv(argv, dp_cfg_eal_argv(&c, buf, sizeof(buf), argv, 32), want, nwant);
	TEST_DONE();

	TEST_START("EAL argv: exact fit works, one byte or slot less is E_NOSPACE");
	check_argv(argv, dp_cfg_eal_argv(&c, buf, need, argv, nwant + 1), want, nwant);
	ASSERT_INT_EQ(dp_cfg_eal_argv(&c, buf, need - 1, argv, 32), E_NOSPACE);
	ASSERT_INT_EQ(dp_cfg_eal_argv(&c, buf, sizeof(buf), argv, nwant), E_NOSPACE);
	ASSERT_INT_EQ(dp_cfg_eal_argv(&c, buf, 16, argv, 32), E_NOSPACE);
	ASSERT_INT_EQ(dp_cfg_eal_argv(&c, buf, 0, argv, 32), E_NOSPACE);
	ASSERT_INT_EQ(dp_cfg_eal_argv(&c, buf, sizeof(buf), argv, 0), E_NOSPACE);
	TEST_DONE();
}

/* The largest configuration fits in DP_EAL_BUF_MAX bytes and DP_EAL_ARGV_MAX pointers. */
static void
test_eal_max(void)
{
	char buf[DP_EAL_BUF_MAX], *argv[DP_EAL_ARGV_MAX];
	char err[CONF_ERR_MAX];
	struct dp_cfg c;
	int n;

	TEST_START("EAL argv: 16 workers, longest wan device, 32 full-length extra args");
	ASSERT_INT_EQ(dp_cfg_parse(&c, WAN, "t.cfg", err), 0);
	memset(c.wan_device, 'y', sizeof(c.wan_device) - 1);
	memcpy(c.wan_device, "net_null0,", 10);
	c.wan_device[sizeof(c.wan_device) - 1] = '\0';
	c.telemetry = false;
	c.memory = DP_MEM_NOHUGE;
	c.n_workers = DP_WORKERS_MAX;
	for (size_t i = 0; i < DP_WORKERS_MAX; i++)
		c.workers[i] = 112 + (unsigned)i;
	c.n_eal_args = DP_EAL_ARGS_MAX;
	for (size_t i = 0; i < DP_EAL_ARGS_MAX; i++) {
		memset(c.eal_args[i], 'x', DP_EAL_ARG_LEN - 1);
		c.eal_args[i][DP_EAL_ARG_LEN - 1] = '\0';
	}
	n = dp_cfg_eal_argv(&c, buf, sizeof(buf), argv, (int)ARRAY_SIZE(argv));
	ASSERT_INT_EQ(n, 12 + DP_EAL_ARGS_MAX);
	ASSERT_TRUE(n + 1 <= DP_EAL_ARGV_MAX);
	if (n > 2)
		ASSERT_STR_EQ(argv[2], "0,112,113,114,115,116,117,118,119,120,121,122,123,124,125,"
				       "126,127");
	TEST_DONE();
}

static void
cleanup(void)
{
	static const char *const files[] = {"fd0", "fd1", "dp.cfg", "nowan.cfg"};
	char path[64];

	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		snprintf(path, sizeof(path), "%s/%s", tmpdir, files[i]);
		unlink(path);
	}
	if (rmdir(tmpdir) != 0)
		printf("# could not remove %s\n", tmpdir);
}

int
main(int argc, char **argv)
{
	if (argc != 2) {
		printf("Bail out! usage: test_dp_cfg CONFIGS/DATAPLANE.CFG\n");
		return 1;
	}
	if (mkdtemp(tmpdir) == NULL) {
		printf("Bail out! mkdtemp failed\n");
		return 1;
	}
	test_defaults();
	test_reference(argv[1]);
	test_values();
	test_errors();
	test_flags();
	test_eal_vdev();
	test_eal_pci();
	test_eal_max();
	cleanup();
	return test_finish();
}
