/* SPDX-License-Identifier: MIT */
/* buri-relay's counters as one line of text (stats.h). */
#include "relay/stats.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/util.h"

static const struct {
	const char *name;
	size_t off;
} fields[] = {
#define RELAY_STATS_ROW(name) {#name, offsetof(struct relay_stats, name)},
	RELAY_STATS(RELAY_STATS_ROW)
#undef RELAY_STATS_ROW
};

void
stats_format(const struct relay_stats *s, char *out, size_t cap)
{
	size_t off = 0;
	uint64_t v;
	int n;

	if (cap == 0)
		return;
	out[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(fields) && off < cap; i++) {
		memcpy(&v, (const char *)s + fields[i].off, sizeof(v));
		n = snprintf(out + off, cap - off, "%s%s %" PRIu64, i > 0 ? " " : "",
			     fields[i].name, v);
		if (n < 0)
			break;
		off += (size_t)n;
	}
}
