/* SPDX-License-Identifier: MIT */
/*
 * Includes. libconfig opens an @include path as written, relative to the process's working
 * directory unless an include directory is set. conf_load sets it to the directory of the
 * file being loaded, so a relative @include names a file next to the configuration whatever
 * directory the daemon runs in (systemd starts it in /). libconfig 1.5 puts that directory in
 * front of absolute include paths too, so write includes as relative paths: absolute ones
 * fail there. Messages about settings in an included file name it as the @include line
 * wrote it.
 *
 * Text given to conf_parse (tests, fuzzers) has no directory of its own, and parsing a string
 * must never read a file, so any line that starts with @include is refused before libconfig
 * sees the text.
 */
#include "common/conf.h"

#include <errno.h>
#include <fcntl.h>
#include <libconfig.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"

/* Longest key whose enclosing groups are searched for a line to report. */
enum { KEY_MAX = 256 };

struct conf {
	config_t cfg;
	char err[CONF_ERR_MAX];
	char name[]; /* the file name used in messages */
};

static struct conf *
create(const char *name)
{
	size_t len = strlen(name) + 1;
	struct conf *c;

	if ((c = calloc(1, sizeof(*c) + len)) == NULL)
		return NULL;
	memcpy(c->name, name, len);
	config_init(&c->cfg);
	return c;
}

void
conf_free(struct conf *c)
{
	if (c == NULL)
		return;
	config_destroy(&c->cfg);
	free(c);
}

const char *
conf_error(const struct conf *c)
{
	return c != NULL ? c->err : "";
}

/* Records "file:line: key: reason" as c's error. s gives the file and line (the name given at
 * load or parse, and no line, when it is NULL); key may be NULL. */
static int __attribute__((format(printf, 4, 0)))
failv(struct conf *c, const config_setting_t *s, const char *key, const char *fmt, va_list ap)
{
	const char *file = c->name;
	char line[16] = "";
	int n;

	if (s != NULL && config_setting_source_file(s) != NULL)
		file = config_setting_source_file(s);
	if (s != NULL && config_setting_source_line(s) > 0)
		snprintf(line, sizeof(line), ":%u", config_setting_source_line(s));
	if (key == NULL)
		key = "";
	n = snprintf(c->err, sizeof(c->err), "%s%s: %s%s", file, line, key,
		     key[0] != '\0' ? ": " : "");
	if (n >= 0 && (size_t)n < sizeof(c->err))
		vsnprintf(c->err + n, sizeof(c->err) - (size_t)n, fmt, ap);
	return E_CONF;
}

static int __attribute__((format(printf, 4, 5)))
fail(struct conf *c, const config_setting_t *s, const char *key, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	failv(c, s, key, fmt, ap);
	va_end(ap);
	return E_CONF;
}

/* Hands c to the caller if r is 0; otherwise copies its message to err and frees it. */
static struct conf *
finish(struct conf *c, int r, char err[CONF_ERR_MAX])
{
	if (err != NULL)
		snprintf(err, CONF_ERR_MAX, "%s", r == 0 ? "" : c->err);
	if (r == 0)
		return c;
	conf_free(c);
	return NULL;
}

static struct conf *
no_memory(const char *name, char err[CONF_ERR_MAX])
{
	if (err != NULL)
		snprintf(err, CONF_ERR_MAX, "%s: %s", name, err_str(E_NOMEM));
	return NULL;
}

/* libconfig names no file for text, nor for the top file when it reads an open stream. */
static int
read_failed(struct conf *c)
{
	const char *file = config_error_file(&c->cfg), *text = config_error_text(&c->cfg);

	snprintf(c->err, sizeof(c->err), "%s:%d: %s", file != NULL ? file : c->name,
		 config_error_line(&c->cfg), text != NULL ? text : "parse error");
	return E_CONF;
}

/* The line of the first line of text that starts with @include, 0 if none. This is a
 * superset of what libconfig's scanner takes for a directive (^[ \t]*@include[ \t]+\", where
 * only a newline starts a line): it also refuses one inside a comment or a string. */
static unsigned
include_line(const char *text)
{
	const char *p = text;
	unsigned line = 1;

	for (;;) {
		p += strspn(p, " \t");
		if (strncmp(p, "@include", strlen("@include")) == 0)
			return line;
		if ((p = strchr(p, '\n')) == NULL)
			return 0;
		p++;
		line++;
	}
}

struct conf *
conf_parse(const char *text, const char *name, char err[CONF_ERR_MAX])
{
	struct conf *c;
	unsigned line;
	int r = 0;

	if (name == NULL)
		name = "<string>";
	if ((c = create(name)) == NULL)
		return no_memory(name, err);
	if ((line = include_line(text)) != 0) {
		snprintf(c->err, sizeof(c->err), "%s:%u: @include is only allowed in files", name,
			 line);
		r = E_CONF;
	} else if (!config_read_string(&c->cfg, text)) {
		r = read_failed(c);
	}
	return finish(c, r, err);
}

/* Opens c's file. Only a regular file: libconfig's scanner would block on a FIFO and, on a
 * read error (a directory), exit the process from flex's YY_FATAL_ERROR. O_NONBLOCK keeps
 * the open itself from waiting for a FIFO's writer; it means nothing for a regular file. */
static int
open_file(struct conf *c, FILE **out)
{
	struct stat st;
	int fd;

	*out = NULL;
	if ((fd = open(c->name, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0)
		return fail(c, NULL, NULL, "cannot open: %s", strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return fail(c, NULL, NULL, "not a regular file");
	}
	if ((*out = fdopen(fd, "r")) == NULL) {
		close(fd);
		return fail(c, NULL, NULL, "%s", err_str(E_NOMEM));
	}
	return 0;
}

/* Relative @include paths name files next to this one (see the top of this file). */
static int
set_include_dir(struct conf *c)
{
	char *dir;

	if ((dir = strdup(c->name)) == NULL)
		return fail(c, NULL, NULL, "%s", err_str(E_NOMEM));
	config_set_include_dir(&c->cfg, dirname(dir));
	free(dir);
	return 0;
}

/* config_read rather than config_read_file: we open the file ourselves to refuse what is not
 * a regular file and to report the OS's reason when it cannot be opened. */
struct conf *
conf_load(const char *path, char err[CONF_ERR_MAX])
{
	struct conf *c;
	FILE *f = NULL;
	int r;

	if ((c = create(path)) == NULL)
		return no_memory(path, err);
	if ((r = open_file(c, &f)) != 0)
		goto out;
	if ((r = set_include_dir(c)) != 0)
		goto out;
	if (!config_read(&c->cfg, f))
		r = read_failed(c);
out:
	if (f != NULL)
		fclose(f);
	return finish(c, r, err);
}

/* The deepest setting that exists on the way to key (key itself excluded), its path left in
 * pre; NULL if there is none. It gives a missing setting a line to report. */
static const config_setting_t *
enclosing(const struct conf *c, const char *key, char pre[KEY_MAX])
{
	const config_setting_t *s;
	char *dot;

	if ((size_t)snprintf(pre, KEY_MAX, "%s", key) >= KEY_MAX)
		return NULL;
	while ((dot = strrchr(pre, '.')) != NULL) {
		*dot = '\0';
		if ((s = config_lookup(&c->cfg, pre)) != NULL)
			return s;
	}
	return NULL;
}

/* key is absent. That is an error if it is needed, or if a setting on its way is a scalar:
 * "listen = 5" must not make listen.port quietly take its default. */
static int
absent(struct conf *c, const char *key, bool need)
{
	const config_setting_t *s;
	char pre[KEY_MAX];

	s = enclosing(c, key, pre);
	if (s != NULL && config_setting_is_scalar(s))
		return fail(c, s, pre, "expected a group");
	if (need)
		return fail(c, s, key, "missing required setting");
	return 0;
}

/* The setting at key in *s; NULL (and 0) when it is absent and that is fine. */
static int
find(struct conf *c, const char *key, bool need, const config_setting_t **s)
{
	*s = NULL;
	if (key == NULL || key[0] == '\0') {
		fail(c, NULL, NULL, "empty key");
		return E_INVAL;
	}
	if ((*s = config_lookup(&c->cfg, key)) != NULL)
		return 0;
	return absent(c, key, need);
}

bool
conf_has(const struct conf *c, const char *key)
{
	return key != NULL && key[0] != '\0' && config_lookup(&c->cfg, key) != NULL;
}

/* Plain integers and int64 (L suffix) only: a float is a typo, not a value to round. */
static int
get_int(struct conf *c, const char *key, bool need, long long min, long long max, long long *out)
{
	const config_setting_t *s;
	long long v;
	int r, type;

	if ((r = find(c, key, need, &s)) != 0 || s == NULL)
		return r;
	type = config_setting_type(s);
	if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64)
		return fail(c, s, key, "expected an integer");
	v = config_setting_get_int64(s);
	if (v < min || v > max)
		return fail(c, s, key, "%lld is out of range [%lld, %lld]", v, min, max);
	*out = v;
	return 0;
}

int
conf_get_int(struct conf *c, const char *key, long long min, long long max, long long def,
	     long long *out)
{
	*out = def;
	return get_int(c, key, false, min, max, out);
}

int
conf_need_int(struct conf *c, const char *key, long long min, long long max, long long *out)
{
	*out = 0;
	return get_int(c, key, true, min, max, out);
}

int
conf_get_bool(struct conf *c, const char *key, bool def, bool *out)
{
	const config_setting_t *s;
	int r;

	*out = def;
	if ((r = find(c, key, false, &s)) != 0 || s == NULL)
		return r;
	if (config_setting_type(s) != CONFIG_TYPE_BOOL)
		return fail(c, s, key, "expected a boolean");
	*out = config_setting_get_bool(s) != 0;
	return 0;
}

/* Copies the string at s into out[cap], cap > 0; out is untouched on error. */
static int
copy_str(struct conf *c, const config_setting_t *s, const char *key, char *out, size_t cap)
{
	const char *v;
	size_t len;

	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return fail(c, s, key, "expected a string");
	v = config_setting_get_string(s);
	len = strlen(v);
	if (len >= cap)
		return fail(c, s, key, "too long (%zu bytes, at most %zu)", len, cap - 1);
	memcpy(out, v, len + 1);
	return 0;
}

static int
get_str(struct conf *c, const char *key, bool need, const char *def, char *out, size_t cap)
{
	const config_setting_t *s;
	size_t len = strlen(def);
	int r;

	if (len >= cap) {
		fail(c, NULL, key, "the default does not fit in %zu bytes", cap);
		return E_INVAL;
	}
	memcpy(out, def, len + 1);
	if ((r = find(c, key, need, &s)) != 0 || s == NULL)
		return r;
	return copy_str(c, s, key, out, cap);
}

int
conf_get_str(struct conf *c, const char *key, const char *def, char *out, size_t cap)
{
	return get_str(c, key, false, def != NULL ? def : "", out, cap);
}

int
conf_need_str(struct conf *c, const char *key, char *out, size_t cap)
{
	return get_str(c, key, true, "", out, cap);
}

/* The allowed values, quoted as they would be written, and the one found if it was a string
 * (its first 64 bytes: enough to recognise it, short enough to leave room for the list). */
static int
bad_enum(struct conf *c, const config_setting_t *s, const char *key, const char *const *names,
	 size_t n, const char *v)
{
	char list[CONF_ERR_MAX] = "";
	size_t off = 0;

	for (size_t i = 0; i < n && off < sizeof(list); i++) {
		int w = snprintf(list + off, sizeof(list) - off, "%s\"%s\"", i > 0 ? ", " : "",
				 names[i]);

		if (w < 0)
			break;
		off += (size_t)w;
	}
	if (v == NULL)
		return fail(c, s, key, "expected a string, one of %s", list);
	return fail(c, s, key, "\"%.64s\" is not one of %s", v, list);
}

int
conf_get_enum(struct conf *c, const char *key, const char *const *names, size_t n, int def,
	      int *out)
{
	const config_setting_t *s;
	const char *v;
	int r;

	*out = def;
	if ((r = find(c, key, false, &s)) != 0 || s == NULL)
		return r;
	if (config_setting_type(s) != CONFIG_TYPE_STRING)
		return bad_enum(c, s, key, names, n, NULL);
	v = config_setting_get_string(s);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(v, names[i]) == 0) {
			*out = (int)i;
			return 0;
		}
	}
	return bad_enum(c, s, key, names, n, v);
}

/* Elements are named key[i] in messages. */
int
conf_get_ints(struct conf *c, const char *key, long long min, long long max, long long *out,
	      size_t maxn, size_t *n)
{
	const config_setting_t *s, *e;
	char elem[KEY_MAX + 24];
	size_t len;
	long long v;
	int r;

	*n = 0;
	if ((r = find(c, key, false, &s)) != 0 || s == NULL)
		return r;
	if (!config_setting_is_array(s) && !config_setting_is_list(s))
		return fail(c, s, key, "expected a list of integers");
	if ((len = (size_t)config_setting_length(s)) > maxn)
		return fail(c, s, key, "too many entries (%zu, at most %zu)", len, maxn);
	for (size_t i = 0; i < len; i++) {
		e = config_setting_get_elem(s, (unsigned)i);
		snprintf(elem, sizeof(elem), "%s[%zu]", key, i);
		if (config_setting_type(e) != CONFIG_TYPE_INT &&
		    config_setting_type(e) != CONFIG_TYPE_INT64)
			return fail(c, e, elem, "expected an integer");
		v = config_setting_get_int64(e);
		if (v < min || v > max)
			return fail(c, e, elem, "%lld is out of range [%lld, %lld]", v, min, max);
		out[i] = v;
	}
	*n = len;
	return 0;
}

/* Elements are named key[i] in messages; libconfig would write key.[i]. */
int
conf_get_strs(struct conf *c, const char *key, char *out, size_t cap, size_t max, size_t *n)
{
	const config_setting_t *s;
	char elem[KEY_MAX + 24];
	size_t len;
	int r;

	*n = 0;
	if (cap == 0) {
		fail(c, NULL, key, "no room for strings");
		return E_INVAL;
	}
	if ((r = find(c, key, false, &s)) != 0 || s == NULL)
		return r;
	if (!config_setting_is_array(s) && !config_setting_is_list(s))
		return fail(c, s, key, "expected a list of strings");
	if ((len = (size_t)config_setting_length(s)) > max)
		return fail(c, s, key, "too many entries (%zu, at most %zu)", len, max);
	for (size_t i = 0; i < len; i++) {
		snprintf(elem, sizeof(elem), "%s[%zu]", key, i);
		if ((r = copy_str(c, config_setting_get_elem(s, (unsigned)i), elem, out + i * cap,
				  cap)) != 0)
			return r;
	}
	*n = len;
	return 0;
}

static bool
known_name(const char *name, const char *const *known, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(name, known[i]) == 0)
			return true;
	return false;
}

static int
unknown(struct conf *c, const config_setting_t *s, const char *group)
{
	char key[2 * KEY_MAX];

	if (group == NULL)
		snprintf(key, sizeof(key), "%s", config_setting_name(s));
	else
		snprintf(key, sizeof(key), "%s.%s", group, config_setting_name(s));
	return fail(c, s, key, "unknown setting");
}

int
conf_check_keys(struct conf *c, const char *group, const char *const *known, size_t n)
{
	const config_setting_t *g = config_root_setting(&c->cfg), *s;
	bool root = group == NULL || group[0] == '\0';
	int r;

	if (!root) {
		if ((r = find(c, group, false, &g)) != 0 || g == NULL)
			return r;
		if (!config_setting_is_group(g))
			return fail(c, g, group, "expected a group");
	}
	for (int i = 0; i < config_setting_length(g); i++) {
		s = config_setting_get_elem(g, (unsigned)i);
		if (!known_name(config_setting_name(s), known, n))
			return unknown(c, s, root ? NULL : group);
	}
	return 0;
}

/* An absent key is placed like a missing required one: at its nearest enclosing group. */
int
conf_fail(struct conf *c, const char *key, const char *fmt, ...)
{
	const config_setting_t *s = NULL;
	char pre[KEY_MAX];
	va_list ap;

	if (key != NULL && key[0] != '\0' && (s = config_lookup(&c->cfg, key)) == NULL)
		s = enclosing(c, key, pre);
	va_start(ap, fmt);
	failv(c, s, key, fmt, ap);
	va_end(ap);
	return E_CONF;
}

int
conf_get_uint(struct conf *c, const char *key, long long min, long long max, unsigned *v)
{
	long long x;
	int r;

	if ((r = conf_get_int(c, key, min, max, *v, &x)) == 0)
		*v = (unsigned)x;
	return r;
}
