/* SPDX-License-Identifier: MIT */
/*
 * api_parse_request on arbitrary bytes (the request line of the control socket, without its
 * newline). On success cmd is a non-empty NUL-terminated string of sizeof(cmd) - 1 bytes at
 * most, argc is within 0..API_ARGS_MAX and every arg is NUL-terminated within API_ARG_MAX; on
 * failure the code is one of the two documented ones and err holds a reason.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "control/api.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_ok(const struct api_req *q)
{
	size_t n = strnlen(q->cmd, sizeof(q->cmd));

	if (n == 0 || n == sizeof(q->cmd))
		abort();
	if (q->argc < 0 || q->argc > API_ARGS_MAX)
		abort();
	for (int i = 0; i < q->argc; i++)
		if (strnlen(q->args[i], API_ARG_MAX) == API_ARG_MAX)
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct api_req q; /* 16 KiB */
	char err[256], small[6];
	int r;

	/* past API_REQ_MAX only the length is looked at; keep that cheap but covered */
	if (size > API_REQ_MAX + 16)
		size = API_REQ_MAX + 16;
	memset(err, 0x55, sizeof(err));
	r = api_parse_request((const char *)data, size, &q, err, sizeof(err));
	if (r == 0) {
		check_ok(&q);
		return 0;
	}
	if (r != E_ENCODING && r != E_TOOBIG)
		abort();
	if (err[0] == '\0' || memchr(err, '\0', sizeof(err)) == NULL)
		abort();
	if ((size > API_REQ_MAX) != (r == E_TOOBIG && strcmp(err, "request too long") == 0))
		abort();
	/* the same refusal with a short err: cut, terminated, nothing written past errlen */
	memset(small, 0x55, sizeof(small));
	if (api_parse_request((const char *)data, size, &q, small, sizeof(small) - 1) != r)
		abort();
	if (strlen(small) != sizeof(small) - 2 || small[sizeof(small) - 1] != 0x55)
		abort();
	return 0;
}
