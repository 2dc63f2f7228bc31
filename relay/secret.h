/* SPDX-License-Identifier: MIT */
/*
 * The relay secret (PROTOCOL.md 7.4): 32 random bytes in a file of their own, shared with the
 * mediator, which needs them as 64 hex digits in its configuration. The file is created mode
 * 0600 on first use (atomically: keyfile_write_atomic) and refused if group or others may
 * read it, as OpenSSH does with keys.
 */
#ifndef BURI_RELAY_SECRET_H
#define BURI_RELAY_SECRET_H

#include <stdbool.h>

#include "common/relay.h"
#include "common/util.h"

/* Reads the secret at path into out. A missing file is created when create_missing is set
 * (*created then says so), else it is E_IO. E_IO (unreadable, or not a regular file), E_PERM
 * (group or others may access it), E_KEY (not exactly RELAY_SECRET_LEN bytes), E_CRYPTO. */
int secret_load(const char *path, bool create_missing, uint8_t out[RELAY_SECRET_LEN],
		bool *created) WARN_UNUSED;

#endif
