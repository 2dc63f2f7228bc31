/* SPDX-License-Identifier: MIT */
/* The fixed key of fuzz_pkt_open, shared with buri-mkcorpus so that its seeds authenticate. */
#ifndef BURI_FUZZ_KEY_H
#define BURI_FUZZ_KEY_H

#include "common/keymat.h"

static const struct dirkey fuzz_key = {
	.ke = "0123456789abcdef0123456789abcdef",
	.ka = "fuzzing-hmac-key-20b",
};

#endif
