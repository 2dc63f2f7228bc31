/* SPDX-License-Identifier: MIT */
/* libconfig wrapper: defaults, required settings, types, ranges, and the exact messages. */
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/conf.h"
#include "common/err.h"
#include "test.h"

TEST_DEFINE_STATE;

/* Line numbers matter: the expected messages below name them. */
static const char cfg[] = "# test configuration\n"		  /* 1 */
			  "name = \"node1\";\n"			  /* 2 */
			  "listen = {\n"			  /* 3 */
			  "  port = 70000;\n"			  /* 4 */
			  "  addr = \"0.0.0.0\";\n"		  /* 5 */
			  "  tls = true;\n"			  /* 6 */
			  "};\n"				  /* 7 */
			  "mtu = 1400;\n"			  /* 8 */
			  "big = 5000000000L;\n"		  /* 9 */
			  "ratio = 1.5;\n"			  /* 10 */
			  "mode = \"tcp\";\n"			  /* 11 */
			  "peers = [ \"a\", \"bb\", \"ccc\" ];\n" /* 12 */
			  "mixed = (\n"				  /* 13 */
			  "  \"x\",\n"				  /* 14 */
			  "  5\n"				  /* 15 */
			  ");\n"				  /* 16 */
			  "empty = [ ];\n"			  /* 17 */
			  "flag = \"yes\";\n"			  /* 18 */
			  "outer = {\n"				  /* 19 */
			  "  inner = {\n"			  /* 20 */
			  "  };\n"				  /* 21 */
			  "};\n";				  /* 22 */

/* Parse text as "t.cfg"; a test config that does not parse is a bug in this file. */
static struct conf *
parse(const char *text)
{
	char err[CONF_ERR_MAX];
	struct conf *c = conf_parse(text, "t.cfg", err);

	if (c == NULL) {
		printf("Bail out! test config does not parse: %s\n", err);
		exit(1);
	}
	return c;
}

static void
test_defaults(void)
{
	struct conf *c = parse(cfg);
	static const char *const modes[] = {"udp", "tcp"};
	char s[16], list[4][8];
	long long v = -1;
	bool b = false;
	size_t n = 99;
	int e = -1;

	TEST_START("absent settings take their defaults");
	ASSERT_INT_EQ(conf_get_int(c, "timeout", 1, 100, 30, &v), 0);
	ASSERT_INT_EQ(v, 30);
	ASSERT_INT_EQ(conf_get_int(c, "listen.backlog", 1, 100, 16, &v), 0);
	ASSERT_INT_EQ(v, 16);
	ASSERT_INT_EQ(conf_get_int(c, "tls.port", 1, 100, 7, &v), 0);
	ASSERT_INT_EQ(v, 7);
	ASSERT_INT_EQ(conf_get_bool(c, "verbose", true, &b), 0);
	ASSERT_TRUE(b);
	ASSERT_INT_EQ(conf_get_str(c, "listen.host", "localhost", s, sizeof(s)), 0);
	ASSERT_STR_EQ(s, "localhost");
	ASSERT_INT_EQ(conf_get_str(c, "listen.host", NULL, s, sizeof(s)), 0);
	ASSERT_STR_EQ(s, "");
	ASSERT_INT_EQ(conf_get_enum(c, "proto", modes, 2, 1, &e), 0);
	ASSERT_INT_EQ(e, 1);
	ASSERT_INT_EQ(conf_get_strs(c, "relays", &list[0][0], sizeof(list[0]), 4, &n), 0);
	ASSERT_INT_EQ(n, 0);
	ASSERT_INT_EQ(conf_check_keys(c, "tls", modes, 2), 0);
	ASSERT_STR_EQ(conf_error(c), "");
	ASSERT_TRUE(conf_has(c, "listen.port"));
	ASSERT_TRUE(conf_has(c, "outer.inner"));
	ASSERT_TRUE(!conf_has(c, "listen.backlog"));
	ASSERT_TRUE(!conf_has(c, ""));
	TEST_DONE();
	conf_free(c);
}

static void
test_present(void)
{
	struct conf *c = parse(cfg);
	static const char *const modes[] = {"udp", "tcp"};
	char s[16];
	long long v = -1;
	bool b = false;
	int e = -1;

	TEST_START("present settings are read");
	ASSERT_INT_EQ(conf_get_int(c, "mtu", 576, 9000, 1500, &v), 0);
	ASSERT_INT_EQ(v, 1400);
	ASSERT_INT_EQ(conf_need_int(c, "mtu", 576, 9000, &v), 0);
	ASSERT_INT_EQ(v, 1400);
	ASSERT_INT_EQ(conf_get_bool(c, "listen.tls", false, &b), 0);
	ASSERT_TRUE(b);
	ASSERT_INT_EQ(conf_need_str(c, "listen.addr", s, sizeof(s)), 0);
	ASSERT_STR_EQ(s, "0.0.0.0");
	ASSERT_INT_EQ(conf_get_str(c, "name", "x", s, sizeof(s)), 0);
	ASSERT_STR_EQ(s, "node1");
	ASSERT_INT_EQ(conf_get_enum(c, "mode", modes, 2, 0, &e), 0);
	ASSERT_INT_EQ(e, 1);
	TEST_DONE();
	conf_free(c);
}

static void
test_required(void)
{
	struct conf *c = parse(cfg);
	long long v = -1;
	char s[16];

	TEST_START("required: missing inside a present group names the group's line");
	ASSERT_INT_EQ(conf_need_int(c, "listen.backlog", 1, 100, &v), E_CONF);
	ASSERT_STR_EQ(conf_error(c), "t.cfg:3: listen.backlog: missing required setting");
	ASSERT_INT_EQ(v, 0);
	ASSERT_INT_EQ(conf_need_str(c, "outer.inner.key", s, sizeof(s)), E_CONF);
	ASSERT_STR_EQ(conf_error(c), "t.cfg:20: outer.inner.key: missing required setting");
	ASSERT_INT_EQ(conf_need_str(c, "outer.other.key", s, sizeof(s)), E_CONF);
	ASSERT_STR_EQ(conf_error(c), "t.cfg:19: outer.other.key: missing required setting");
	TEST_DONE();

	TEST_START("required: missing with no enclosing group has no line");
	ASSERT_INT_EQ(conf_need_str(c, "tls.cert", s, sizeof(s)), E_CONF);
	ASSERT_STR_EQ(conf_error(c), "t.cfg: tls.cert: missing required setting");
	ASSERT_INT_EQ(conf_need_int(c, "port", 1, 65535, &v), E_CONF);
	ASSERT_STR_EQ(conf_error(c), "t.cfg: port: missing required setting");
	TEST_DONE();

	TEST_START("a scalar on the way to a key is an error, even with a default");
	ASSERT_INT_EQ(conf_get_int(c, "mtu.value", 1, 100, 5, &v), E_CONF);
	ASSERT_STR_EQ(conf_error(c), "t.cfg:8: mtu: expected a group");
	ASSERT_INT_EQ(v, 5);
	TEST_DONE();
	conf_free(c);
}

static void
test_types(void)
{
	struct conf *c = parse(cfg);
	long long v = -1;
	bool b = true;
	char s[16];

	TEST_START("wrong types are errors and leave the default");
	ASSERT_INT_EQ(conf_get_int(c, "name", 0, 10, 3, &v), E_CONF);
	ASSERT_STR_EQ(conf_error(c), "t.cfg:2: name: expected an integer");
	ASSERT_INT_EQ(v, 3);
	ASSERT_INT_EQ(conf_get_int(c, "ratio", 0, 10, 3, &v), E_CONF);
	ASSERT_STR_EQ(conf_error(c), "t.cfg:10: ratio: expected an integer");
	ASSERT_INT_EQ(conf_need_int(c, "listen", 0, 10, &v), E_CONF);
	ASSERT_STR_EQ(conf_error(c), "t.cfg:3: listen: expected an integer");
	ASSERT_INT_EQ(conf_get_bool(c, "flag", true, &b), E_CONF);
	ASSERT_STR_EQ(conf_error(c), "t.cfg:18: flag: expected a boolean");
	ASSERT_TRUE(b);
	ASSERT_INT_EQ(conf_get_bool(c, "mtu", false, &b), E_CONF);
	ASSERT_STR_EQ(conf_error(c), "t.cfg:8: mtu: expected a boolean");
	ASSERT_TRUE(!b);
	ASSERT_INT_EQ(conf_get_str(c, "mtu", "dflt", s, sizeof(s)), E_CONF);
	ASSERT_STR_EQ(conf_error(c), "t.cfg:8: mtu: expected a string");
	ASSERT_STR_EQ(s, "dflt");
	ASSERT_INT_EQ(conf_need_str(c, "peers", s, sizeof(s)), E_CONF);
	ASSERT_STR_EQ(conf_error(c), "t.cfg:12: peers: expected a string");
	TEST_DONE();
	conf_free(c);
}

static void
test_ranges(void)
{
	struct conf *c = parse("lo = 1;\nhi = 65535;\nbelow = 0;\nabove = 65536;\n"
			       "neg = -1;\nmin64 = -9223372036854775808L;\n"
			       "max64 = 9223372036854775807L;\n");
	long long v = -1;

	TEST_START("range: the edges are in, one past them is out");
	ASSERT_INT_EQ(conf_need_int(c, "lo", 1, 65535, &v), 0);
	ASSERT_INT_EQ(v, 1);
	ASSERT_INT_EQ(conf_need_int(c, "hi", 1, 65535, &v), 0);
	ASSERT_INT_EQ(v, 65535);
	ASSERT_INT_EQ(conf_get_int(c, "below", 1, 65535, 9, &v), E_CONF);
	ASSERT_STR_EQ(conf_error(c), "t.cfg:3: below: 0 is out of range [1, 65535]");
	ASSERT_INT_EQ(v, 9);
	ASSERT_INT_EQ(conf_get_int(c, "above", 1, 65535, 9, &v), E_CONF);
	ASSERT_STR_EQ(conf_error(c), "t.cfg:4: above: 65536 is out of range [1, 65535]");
	ASSERT_INT_EQ(conf_need_int(c, "neg", -1, -1, &v), 0);
	ASSERT_INT_EQ(v, -1);
	ASSERT_INT_EQ(conf_need_int(c, "neg", 0, 10, &v), E_CONF);
	ASSERT_STR_EQ(conf_error(c), "t.cfg:5: neg: -1 is out of range [0, 10]");
	TEST_DONE();

	TEST_START("range: int64 extremes");
	ASSERT_INT_EQ(conf_need_int(c, "min64", LLONG_MIN, LLONG_MAX, &v), 0);
	ASSERT_TRUE(v == LLONG_MIN);
	ASSERT_INT_EQ(conf_need_int(c, "max64", LLONG_MIN, LLONG_MAX, &v), 0);
	ASSERT_TRUE(v == LLONG_MAX);
	ASSERT_INT_EQ(conf_need_int(c, "max64", 0, LLONG_MAX - 1, &v), E_CONF);
	ASSERT_STR_EQ(conf_error(c), "t.cfg:7: max64: 9223372036854775807 is out of range "
				     "[0, 9223372036854775806]");
	TEST_DONE();
	conf_free(c);

	c = parse(cfg);
	TEST_START("range: a port out of range, and an int64 (L suffix) value");
	ASSERT_INT_EQ(conf_need_int(c, "listen.port", 1, 65535, &v), E_CONF);
	ASSERT_STR_EQ(conf_error(c), "t.cfg:4: listen.port: 70000 is out of range [1, 65535]");
	ASSERT_INT_EQ(conf_need_int(c, "big", 0, LLONG_MAX, &v), 0);
	ASSERT_TRUE(v == 5000000000LL);
	ASSERT_INT_EQ(conf_need_int(c, "big", 0, 4294967295LL, &v), E_CONF);
	ASSERT_STR_EQ(conf_error(c), "t.cfg:9: big: 5000000000 is out of range [0, 4294967295]");
	TEST_DONE();
	conf_free(c);
}

static void
test_strings(void)
{
	struct conf *c = parse(cfg);
	char s[6], tiny[5];

	TEST_START("strings: exactly fitting is fine, one byte short is an error");
	ASSERT_INT_EQ(conf_need_str(c, "name", s, sizeof(s)), 0);
	ASSERT_STR_EQ(s, "node1");
	strcpy(tiny, "old");
	ASSERT_INT_EQ(conf_get_str(c, "name", "dflt", tiny, sizeof(tiny)), E_CONF);
	ASSERT_STR_EQ(conf_error(c), "t.cfg:2: name: too long (5 bytes, at most 4)");
	ASSERT_STR_EQ(tiny, "dflt");
	TEST_DONE();

	TEST_START("strings: a default that does not fit is E_INVAL");
	ASSERT_INT_EQ(conf_get_str(c, "absent", "toolong", tiny, sizeof(tiny)), E_INVAL);
	ASSERT_STR_EQ(conf_error(c), "t.cfg: absent: the default does not fit in 5 bytes");
	TEST_DONE();
	conf_free(c);
}

static void
test_enum(void)
{
	static const char *const modes[] = {"udp", "quic"};
	struct conf *c = parse(cfg);
	int e = -1;

	TEST_START("enum: a value not in the list names the allowed ones");
	ASSERT_INT_EQ(conf_get_enum(c, "mode", modes, 2, 0, &e), E_CONF);
	ASSERT_STR_EQ(conf_error(c), "t.cfg:11: mode: \"tcp\" is not one of \"udp\", \"quic\"");
	ASSERT_INT_EQ(e, 0);
	ASSERT_INT_EQ(conf_get_enum(c, "mtu", modes, 2, 1, &e), E_CONF);
	ASSERT_STR_EQ(conf_error(c), "t.cfg:8: mtu: expected a string, one of \"udp\", \"quic\"");
	ASSERT_INT_EQ(e, 1);
	TEST_DONE();
	conf_free(c);
}

static void
test_strs(void)
{
	struct conf *c = parse(cfg);
	char list[4][4];
	size_t n = 99;

	TEST_START("strs: arrays and lists of strings");
	ASSERT_INT_EQ(conf_get_strs(c, "peers", &list[0][0], sizeof(list[0]), 4, &n), 0);
	ASSERT_INT_EQ(n, 3);
	ASSERT_STR_EQ(list[0], "a");
	ASSERT_STR_EQ(list[1], "bb");
	ASSERT_STR_EQ(list[2], "ccc");
	ASSERT_INT_EQ(conf_get_strs(c, "peers", &list[0][0], sizeof(list[0]), 3, &n), 0);
	ASSERT_INT_EQ(n, 3);
	ASSERT_INT_EQ(conf_get_strs(c, "empty", &list[0][0], sizeof(list[0]), 4, &n), 0);
	ASSERT_INT_EQ(n, 0);
	TEST_DONE();

	TEST_START("strs: too many, too long, not a string, not a list");
	ASSERT_INT_EQ(conf_get_strs(c, "peers", &list[0][0], sizeof(list[0]), 2, &n), E_CONF);
	ASSERT_STR_EQ(conf_error(c), "t.cfg:12: peers: too many entries (3, at most 2)");
	ASSERT_INT_EQ(n, 0);
	ASSERT_INT_EQ(conf_get_strs(c, "peers", &list[0][0], 3, 4, &n), E_CONF);
	ASSERT_STR_EQ(conf_error(c), "t.cfg:12: peers[2]: too long (3 bytes, at most 2)");
	ASSERT_INT_EQ(n, 0);
	ASSERT_INT_EQ(conf_get_strs(c, "mixed", &list[0][0], sizeof(list[0]), 4, &n), E_CONF);
	ASSERT_STR_EQ(conf_error(c), "t.cfg:15: mixed[1]: expected a string");
	ASSERT_INT_EQ(conf_get_strs(c, "name", &list[0][0], sizeof(list[0]), 4, &n), E_CONF);
	ASSERT_STR_EQ(conf_error(c), "t.cfg:2: name: expected a list of strings");
	ASSERT_INT_EQ(conf_get_strs(c, "listen", &list[0][0], sizeof(list[0]), 4, &n), E_CONF);
	ASSERT_STR_EQ(conf_error(c), "t.cfg:3: listen: expected a list of strings");
	TEST_DONE();
	conf_free(c);
}

static void
test_check_keys(void)
{
	static const char *const root[] = {"name",  "listen", "big",  "ratio", "mode", "peers",
					   "mixed", "empty",  "flag", "outer", "mtu"};
	static const char *const listen_keys[] = {"port", "addr", "tls"};
	struct conf *c = parse(cfg);

	TEST_START("check_keys: all known");
	ASSERT_INT_EQ(conf_check_keys(c, NULL, root, 11), 0);
	ASSERT_INT_EQ(conf_check_keys(c, "", root, 11), 0);
	ASSERT_INT_EQ(conf_check_keys(c, "listen", listen_keys, 3), 0);
	ASSERT_INT_EQ(conf_check_keys(c, "absent", listen_keys, 3), 0);
	ASSERT_INT_EQ(conf_check_keys(c, "outer.inner", NULL, 0), 0);
	TEST_DONE();

	TEST_START("check_keys: unknown at the root and in a group");
	ASSERT_INT_EQ(conf_check_keys(c, NULL, root, 10), E_CONF);
	ASSERT_STR_EQ(conf_error(c), "t.cfg:8: mtu: unknown setting");
	ASSERT_INT_EQ(conf_check_keys(c, "listen", listen_keys, 2), E_CONF);
	ASSERT_STR_EQ(conf_error(c), "t.cfg:6: listen.tls: unknown setting");
	ASSERT_INT_EQ(conf_check_keys(c, "outer", NULL, 0), E_CONF);
	ASSERT_STR_EQ(conf_error(c), "t.cfg:20: outer.inner: unknown setting");
	TEST_DONE();

	TEST_START("check_keys: a group that is not a group");
	ASSERT_INT_EQ(conf_check_keys(c, "mtu", listen_keys, 3), E_CONF);
	ASSERT_STR_EQ(conf_error(c), "t.cfg:8: mtu: expected a group");
	ASSERT_INT_EQ(conf_check_keys(c, "peers", listen_keys, 3), E_CONF);
	ASSERT_STR_EQ(conf_error(c), "t.cfg:12: peers: expected a group");
	TEST_DONE();
	conf_free(c);
}

static void
test_parse_errors(void)
{
	char err[CONF_ERR_MAX];
	struct conf *c;

	TEST_START("syntax errors name the line");
	ASSERT_TRUE(conf_parse("a = 1;\nb = ;\n", "t.cfg", err) == NULL);
	ASSERT_STR_EQ(err, "t.cfg:2: syntax error");
	ASSERT_TRUE(conf_parse("a = 1;\n\na = 2;\n", "t.cfg", err) == NULL);
	ASSERT_STR_EQ(err, "t.cfg:3: duplicate setting name");
	ASSERT_TRUE(conf_parse("a = [1, \"x\"];\n", "t.cfg", err) == NULL);
	ASSERT_STR_EQ(err, "t.cfg:1: mismatched element type in array");
	TEST_DONE();

	TEST_START("@include is refused in text, even in a comment");
	ASSERT_TRUE(conf_parse("a = 1;\n  @include \"/etc/passwd\"\n", "t.cfg", err) == NULL);
	ASSERT_STR_EQ(err, "t.cfg:2: @include is only allowed in files");
	ASSERT_TRUE(conf_parse("/*\n@include \"x\"\n*/\n", "t.cfg", err) == NULL);
	ASSERT_STR_EQ(err, "t.cfg:2: @include is only allowed in files");
	TEST_DONE();

	TEST_START("empty text parses; err is cleared on success");
	strcpy(err, "stale");
	c = conf_parse("", "t.cfg", err);
	ASSERT_TRUE(c != NULL);
	ASSERT_STR_EQ(err, "");
	conf_free(c);
	conf_free(NULL);
	TEST_DONE();
}

static void
test_conf_fail(void)
{
	struct conf *c = parse(cfg);
	long long v;

	TEST_START("conf_fail: the caller's reason at the setting's place");
	ASSERT_INT_EQ(conf_fail(c, "listen.addr", "%s is not a local address", "0.0.0.0"), E_CONF);
	ASSERT_STR_EQ(conf_error(c), "t.cfg:5: listen.addr: 0.0.0.0 is not a local address");
	ASSERT_INT_EQ(conf_fail(c, "listen.cert", "needed when tls = %s", "true"), E_CONF);
	ASSERT_STR_EQ(conf_error(c), "t.cfg:3: listen.cert: needed when tls = true");
	ASSERT_INT_EQ(conf_fail(c, NULL, "no peers and no relays"), E_CONF);
	ASSERT_STR_EQ(conf_error(c), "t.cfg: no peers and no relays");
	TEST_DONE();

	TEST_START("conf_error keeps the last failure across later successes");
	ASSERT_INT_EQ(conf_need_int(c, "mtu", 0, 9000, &v), 0);
	ASSERT_STR_EQ(conf_error(c), "t.cfg: no peers and no relays");
	ASSERT_INT_EQ(conf_need_int(c, "", 0, 9000, &v), E_INVAL);
	ASSERT_STR_EQ(conf_error(c), "t.cfg: empty key");
	TEST_DONE();
	conf_free(c);
}

static int
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	int r = 0;

	if (f == NULL)
		return -1;
	if (fputs(text, f) == EOF)
		r = -1;
	if (fclose(f) != 0)
		r = -1;
	return r;
}

static void
test_load(void)
{
	char dir[] = "/tmp/test_conf.XXXXXX", path[64], inc[64], bad[64], want[256];
	char err[CONF_ERR_MAX];
	struct conf *c;
	long long v;

	if (mkdtemp(dir) == NULL) {
		printf("Bail out! mkdtemp failed\n");
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/main.cfg", dir);
	snprintf(inc, sizeof(inc), "%s/inc.cfg", dir);
	snprintf(bad, sizeof(bad), "%s/bad.cfg", dir);

	TEST_START("load: messages name the real path; includes are next to the file");
	ASSERT_INT_EQ(write_file(path, "a = 1;\n@include \"inc.cfg\"\nb = 2;\n"), 0);
	ASSERT_INT_EQ(write_file(inc, "\nport = 99999;\n"), 0);
	c = conf_load(path, err);
	ASSERT_TRUE(c != NULL);
	ASSERT_STR_EQ(err, "");
	if (c != NULL) {
		ASSERT_INT_EQ(conf_need_int(c, "b", 5, 10, &v), E_CONF);
		snprintf(want, sizeof(want), "%s:3: b: 2 is out of range [5, 10]", path);
		ASSERT_STR_EQ(conf_error(c), want);
		ASSERT_INT_EQ(conf_need_int(c, "port", 1, 65535, &v), E_CONF);
		ASSERT_STR_EQ(conf_error(c), "inc.cfg:2: port: 99999 is out of range [1, 65535]");
		ASSERT_INT_EQ(conf_need_int(c, "missing", 1, 2, &v), E_CONF);
		snprintf(want, sizeof(want), "%s: missing: missing required setting", path);
		ASSERT_STR_EQ(conf_error(c), want);
	}
	conf_free(c);
	TEST_DONE();

	TEST_START("load: syntax error and missing include name the path and line");
	ASSERT_INT_EQ(write_file(bad, "a = 1;\n\nb = = 2;\n"), 0);
	ASSERT_TRUE(conf_load(bad, err) == NULL);
	snprintf(want, sizeof(want), "%s:3: syntax error", bad);
	ASSERT_STR_EQ(err, want);
	ASSERT_INT_EQ(write_file(bad, "a = 1;\n@include \"nope.cfg\"\n"), 0);
	ASSERT_TRUE(conf_load(bad, err) == NULL);
	snprintf(want, sizeof(want), "%s:2: cannot open include file", bad);
	ASSERT_STR_EQ(err, want);
	TEST_DONE();

	TEST_START("load: a missing file or a directory is a clear error");
	unlink(bad);
	ASSERT_TRUE(conf_load(bad, err) == NULL);
	snprintf(want, sizeof(want), "%s: cannot open: No such file or directory", bad);
	ASSERT_STR_EQ(err, want);
	ASSERT_TRUE(conf_load(dir, err) == NULL);
	snprintf(want, sizeof(want), "%s: not a regular file", dir);
	ASSERT_STR_EQ(err, want);
	TEST_DONE();

	unlink(path);
	unlink(inc);
	rmdir(dir);
}

int
main(void)
{
	test_defaults();
	test_present();
	test_required();
	test_types();
	test_ranges();
	test_strings();
	test_enum();
	test_strs();
	test_check_keys();
	test_parse_errors();
	test_conf_fail();
	test_load();
	return test_finish();
}
