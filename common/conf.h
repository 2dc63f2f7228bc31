/* SPDX-License-Identifier: MIT */
/*
 * libconfig files with typed getters. Every error message names the place and the setting,
 * "file:line: key: reason" (the line is left out only when there is none to name, e.g. a
 * required setting whose group is missing too), and is what a program prints before exiting
 * with status 2.
 *
 * Keys are libconfig paths, dot-separated ("listen.port"). A getter with a default leaves
 * *out = def when the setting is absent; a "need" getter fails instead. Present but of the wrong
 * type, or outside [min, max], is always an error, and so is a scalar where a group is needed on
 * the way to the key ("listen = 5" when asking for listen.port): a typo must never silently
 * become the default. The message of the last failure stays until the next failure.
 *
 * Includes: a file may @include files named relative to its own directory; text given to
 * conf_parse() may not include anything (it is refused), so parsing text never reads a file.
 *
 * libconfig 1.5 (Debian 12) stores integers without an L suffix in 32 bits and silently wraps
 * larger ones; write values beyond +-2^31 with the suffix (5000000000L).
 */
#ifndef BURI_CONF_H
#define BURI_CONF_H

#include <stdbool.h>
#include <stddef.h>

#include "common/util.h"

enum { CONF_ERR_MAX = 512 };

struct conf;

/* Parse the file at path. NULL on failure, with the reason ("file:line: reason") in err, which
 * may be NULL. */
struct conf *conf_load(const char *path, char err[CONF_ERR_MAX]);
/* Parse text; name (NULL: "<string>") stands in for the file name in messages. */
struct conf *conf_parse(const char *text, const char *name, char err[CONF_ERR_MAX]);
void conf_free(struct conf *c);

/* The message of the last failed call on c, "" if none. */
const char *conf_error(const struct conf *c);

bool conf_has(const struct conf *c, const char *key);

int conf_get_int(struct conf *c, const char *key, long long min, long long max, long long def,
		 long long *out) WARN_UNUSED;
int conf_need_int(struct conf *c, const char *key, long long min, long long max,
		  long long *out) WARN_UNUSED;
/* An unsigned setting in [min, max] (0 <= min); *v holds the default and gets the value. */
int conf_get_uint(struct conf *c, const char *key, long long min, long long max,
		  unsigned *v) WARN_UNUSED;
int conf_get_bool(struct conf *c, const char *key, bool def, bool *out) WARN_UNUSED;
/* Copies the string (and its NUL) into out; a value that does not fit in cap is an error,
 * never truncated. def may be NULL for "empty". */
int conf_get_str(struct conf *c, const char *key, const char *def, char *out,
		 size_t cap) WARN_UNUSED;
int conf_need_str(struct conf *c, const char *key, char *out, size_t cap) WARN_UNUSED;
/* A string that must be one of names[0..n); *out is its index. */
int conf_get_enum(struct conf *c, const char *key, const char *const *names, size_t n, int def,
		  int *out) WARN_UNUSED;
/* Each element of the array or list at key must be a string; fills out[0..*n), at most max
 * entries of cap bytes each (laid out consecutively). Absent: *n = 0. */
int conf_get_strs(struct conf *c, const char *key, char *out, size_t cap, size_t max,
		  size_t *n) WARN_UNUSED;

/* Each element of the array or list at key must be an integer in [min, max]; fills
 * out[0..*n), at most maxn entries. Absent: *n = 0. */
int conf_get_ints(struct conf *c, const char *key, long long min, long long max, long long *out,
		  size_t maxn, size_t *n) WARN_UNUSED;

/* E_CONF for the first setting directly inside group (NULL or "" for the root) whose name
 * is not in known[0..n): "file:line: group.name: unknown setting". */
int conf_check_keys(struct conf *c, const char *group, const char *const *known,
		    size_t n) WARN_UNUSED;

/* For a caller's own validation: records "file:line: key: <reason>" as c's error and returns
 * E_CONF. */
int conf_fail(struct conf *c, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
