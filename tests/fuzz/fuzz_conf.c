/* SPDX-License-Identifier: MIT */
/*
 * conf_parse on arbitrary text, then every getter on a few fixed keys and on the settings the
 * text itself defines (so the getters see every type without the fuzzer guessing names).
 * conf.c is compiled in (STYLE.md habit 31) because defined() walks the parsed tree through
 * struct conf, which conf.h keeps opaque; the linker then leaves libcore's conf.o out.
 * conf_parse refuses @include, so no input makes this read a file.
 */
#include "common/conf.c"

#include <limits.h>
#include <stdint.h>

/* Larger inputs only make runs slower; libconfig's grammar has nothing that needs them. */
enum { INPUT_MAX = 64 * 1024, STRS_MAX = 4, STR_CAP = 16, NAMES_MAX = 8 };

static const char fuzz_name[] = "fuzz.cfg";

/* Every failure leaves a message placed in the text, and nothing else. */
static void
check(const struct conf *c, int r)
{
	const char *e = conf_error(c);

	if (r != 0 && r != E_CONF)
		abort();
	if (r != 0 && strncmp(e, fuzz_name, strlen(fuzz_name)) != 0)
		abort();
	if (strlen(e) >= CONF_ERR_MAX)
		abort();
}

static void
getters(struct conf *c, const char *key)
{
	static const char *const modes[] = {"udp", "tcp", "both"};
	char s[STR_CAP], list[STRS_MAX][STR_CAP];
	long long v;
	size_t n;
	bool b;
	int e;

	(void)conf_has(c, key);
	check(c, conf_get_int(c, key, 1, 65535, 7, &v));
	check(c, conf_need_int(c, key, LLONG_MIN, LLONG_MAX, &v));
	check(c, conf_get_bool(c, key, false, &b));
	check(c, conf_get_str(c, key, "d", s, sizeof(s)));
	if (strlen(s) >= sizeof(s))
		abort();
	check(c, conf_need_str(c, key, s, sizeof(s)));
	check(c, conf_get_enum(c, key, modes, ARRAY_SIZE(modes), 0, &e));
	if (e < 0 || e >= (int)ARRAY_SIZE(modes))
		abort();
	check(c, conf_get_strs(c, key, &list[0][0], STR_CAP, STRS_MAX, &n));
	if (n > STRS_MAX)
		abort();
	for (size_t i = 0; i < n; i++)
		if (strnlen(list[i], STR_CAP) == STR_CAP)
			abort();
	check(c, conf_fail(c, key, "fuzz %d", 1));
}

/* The text's own settings, one level down into groups. */
static void
defined(struct conf *c)
{
	const config_setting_t *root = config_root_setting(&c->cfg), *s, *t;
	char key[2 * KEY_MAX];

	for (int i = 0; i < config_setting_length(root) && i < NAMES_MAX; i++) {
		s = config_setting_get_elem(root, (unsigned)i);
		getters(c, config_setting_name(s));
		if (!config_setting_is_group(s))
			continue;
		for (int j = 0; j < config_setting_length(s) && j < NAMES_MAX; j++) {
			t = config_setting_get_elem(s, (unsigned)j);
			snprintf(key, sizeof(key), "%s.%s", config_setting_name(s),
				 config_setting_name(t));
			getters(c, key);
		}
	}
}

static void
exercise(struct conf *c)
{
	static const char *const keys[] = {"a",	    "port", "listen.port", "listen.addr",
					   "peers", "mode", "g.h.i"};
	static const char *const known[] = {"a", "listen", "peers", "mode", "port"};

	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		getters(c, keys[i]);
	defined(c);
	check(c, conf_check_keys(c, NULL, known, ARRAY_SIZE(known)));
	check(c, conf_check_keys(c, "listen", known, ARRAY_SIZE(known)));
	check(c, conf_check_keys(c, "g.h", known, ARRAY_SIZE(known)));
}

const char *__lsan_default_options(void);
const char *__lsan_default_suppressions(void);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* libconfig before 1.7.3 leaks the string token that bison discards on a syntax error
 * (a b "s"; fixed upstream by f2e951c, "Fix memory leak when parsing invalid syntax"). Only
 * the scanner's allocations are excused: token text grows in strbuf_append, and an empty
 * string is allocated in libconfig_yylex itself. Settings are allocated by the parser, so a
 * conf we failed to free is still reported. Both names are exported by libconfig, so they
 * match even when the stack stops at the first frame inside it (no frame pointers there). */
const char *
__lsan_default_suppressions(void)
{
	return "leak:strbuf_append\nleak:libconfig_yylex\n";
}

/* Otherwise every leak check libFuzzer runs prints the suppression table. */
const char *
__lsan_default_options(void)
{
	return "print_suppressions=0";
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[CONF_ERR_MAX];
	struct conf *c;
	char *text;

	if (size > INPUT_MAX)
		return 0;
	if ((text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	c = conf_parse(text, fuzz_name, err);
	free(text);
	if (c == NULL) {
		if (strncmp(err, fuzz_name, strlen(fuzz_name)) != 0)
			abort();
		return 0;
	}
	exercise(c);
	conf_free(c);
	return 0;
}
