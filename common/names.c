/* SPDX-License-Identifier: MIT */
#include "common/names.h"

#include <string.h>

const char *
names_prefix_problem(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > NAMES_PREFIX_MAX)
		return "must be 1 to 32 characters long";
	if (strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") != n)
		return "may only contain A-Z, a-z, 0-9, '_' and '-'";
	return NULL;
}

/* What Linux's dev_valid_name() takes, less ',': the name also goes into EAL devargs, where
 * a comma would start the next key. Control characters are refused too: the name ends up in
 * logs. */
const char *
names_ifname_problem(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > NAMES_IFNAME_MAX)
		return "must be 1 to 15 bytes long (a Linux interface name)";
	if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return "is not a valid interface name";
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch <= ' ' || ch == 0x7f || ch == '/' || ch == ':' || ch == ',')
			return "may not contain '/', ':', ',', white space or control characters";
	}
	return NULL;
}
