/* SPDX-License-Identifier: MIT */
/* buri-control's settings: the reference file parses to the documented defaults, and every
 * kind of mistake is reported with its file, line and key. */
#include <stdio.h>
#include <string.h>

#include "common/err.h"
#include "control/cfg.h"
#include "test.h"

TEST_DEFINE_STATE;

static char *
slurp(const char *path)
{
	static char buf[64 * 1024];
	FILE *f = fopen(path, "r");
	size_t n;

	if (f == NULL)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

static void
test_reference(const char *path)
{
	char err[CONF_ERR_MAX];
	struct ctl_cfg c;
	const char *text = slurp(path);

	TEST_START("configs/node.cfg parses to the defaults it documents");
	ASSERT_TRUE(text != NULL);
	ASSERT_INT_EQ(ctl_cfg_parse(&c, text, "node.cfg", err), 0);
	ASSERT_STR_EQ(err, "");
	ASSERT_TRUE(strcmp(c.med_host, "mediator.example.org") == 0);
	ASSERT_INT_EQ(c.med_port, 7770);
	ASSERT_INT_EQ(c.med_tls_port, 7771);
	ASSERT_INT_EQ(c.tunnel_port, 7777);
	ASSERT_INT_EQ(c.keepalive_s, 15);
	ASSERT_INT_EQ(c.dead_after, 3);
	ASSERT_INT_EQ(c.rekey_after_s, 3600);
	ASSERT_INT_EQ(c.handshake_ms, 10000);
	ASSERT_STR_EQ(c.dp_prefix, "buri");
	ASSERT_STR_EQ(c.overlay_iface, "buri0");
	ASSERT_TRUE(strcmp(c.socket_path, "/run/buri/control.sock") == 0);
	ASSERT_INT_EQ(c.n_pinned, 0);
	ASSERT_TRUE(!c.med_fp_set);
	ASSERT_TRUE(c.auto_login);
	TEST_DONE();
}

static void
test_values(void)
{
	char err[CONF_ERR_MAX];
	struct ctl_cfg c;

	static const char *text = "mediator = { host = \"10.0.0.1\"; fingerprint = "
				  "\"45b88e143ddaed0bac3815eaa978d5936409f8ab\"; };\n"
				  "peers = ( { identity = \"100.64.0.9\"; key = \"b.pub\"; },\n"
				  "          { identity = \"100.64.0.10\"; key = \"c.pub\"; } );\n"
				  "tunnel = { rekey_after = 0; handshake_timeout = 4; };\n";

	TEST_START("pinned peers, a fingerprint pin, flags");
	ASSERT_INT_EQ(ctl_cfg_parse(&c, text, "t", err), 0);
	ASSERT_STR_EQ(err, "");
	ASSERT_TRUE(c.med_fp_set);
	ASSERT_INT_EQ(c.med_kfp[0], 0x45);
	ASSERT_INT_EQ(c.n_pinned, 2);
	ASSERT_INT_EQ(c.pinned[0].identity, 0x64400009u);
	ASSERT_TRUE(strcmp(c.pinned[1].key, "c.pub") == 0);
	ASSERT_INT_EQ(c.rekey_after_s, 0);
	ASSERT_INT_EQ(c.handshake_ms, 4000);
	TEST_DONE();
}

static void
bad(const char *text, const char *want)
{
	char err[CONF_ERR_MAX];
	struct ctl_cfg c;

	ASSERT_INT_EQ(ctl_cfg_parse(&c, text, "t", err), E_CONF);
	if (strstr(err, want) == NULL)
		test_fail(__FILE__, __LINE__, err);
}

static void
test_errors(void)
{
	TEST_START("mistakes: file:line: key: reason");
	bad("node = { nick = \"x\"; };", "mediator.host");
	bad("mediator = { host = \"\"; };", "mediator.host: may not be empty");
	bad("mediator = { host = \"m\"; prot = 1; };", "t:1: mediator.prot: unknown setting");
	bad("mediator = { host = \"m\"; };\nmediator2 = 1;", "t:2: mediator2: unknown setting");
	bad("mediator = { host = \"m\"; fingerprint = \"zz\"; };", "mediator.fingerprint");
	bad("mediator = { host = \"m\"; port = 0; };", "mediator.port");
	bad("mediator = { host = \"m\"; };\ntunnel = { rekey_after = 10; };",
	    "t:2: tunnel.rekey_after");
	bad("mediator = { host = \"m\"; };\ndataplane = { prefix = \"a/b\"; };",
	    "dataplane.prefix");
	bad("mediator = { host = \"m\"; };\ndataplane = { overlay_iface = \"a b\"; };",
	    "dataplane.overlay_iface");
	bad("mediator = { host = \"m\"; };\npeers = ( { identity = \"x\"; key = \"k\"; } );",
	    "peers.[0].identity");
	bad("mediator = { host = \"m\"; };\npeers = ( { identity = \"100.64.0.2\"; } );",
	    "peers.[0].key");
	bad("mediator = { host = \"m\"; };\nnode = { key = \"\"; };", "node.key: may not be empty");
	bad("mediator = { host = \"m\"; };\nlog = { level = \"loud\"; };", "log.level");
	TEST_DONE();
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		printf("Bail out! usage: test_ctl_cfg configs/node.cfg\n");
		return 1;
	}
	test_reference(argv[1]);
	test_values();
	test_errors();
	return test_finish();
}
