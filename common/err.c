/* SPDX-License-Identifier: MIT */
#include "common/err.h"

#include <stddef.h>

struct err_entry {
	int code;
	const char *str;
};

static const struct err_entry table[] = {{E_OK, "success"},
#define ERR_ROW(name, num, str) {name, str},
					 ERR_LIST(ERR_ROW)
#undef ERR_ROW
};

const char *
err_str(int code)
{
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (table[i].code == code)
			return table[i].str;
	return "unknown error";
}

_Bool
err_known(uint16_t status)
{
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (table[i].code == -(int)status)
			return 1;
	return 0;
}
