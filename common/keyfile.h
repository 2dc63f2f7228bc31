/* SPDX-License-Identifier: MIT */
/*
 * RSA keys in PEM files. Private key files are created mode 0600 (written to a temporary file
 * in the same directory, synced, then renamed, so a crash never leaves half a key) and are
 * refused on load when group or others may read them, as OpenSSH does.
 */
#ifndef BURI_KEYFILE_H
#define BURI_KEYFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/pubkey.h"

/* Load a key pair (want_private) or a public key from path into *out (owned by the caller).
 * E_IO if unreadable, E_PERM if a private key file is group/other accessible, E_KEY if the
 * contents are not an acceptable key. */
int keyfile_load(const char *path, bool want_private, struct pubkey **out) WARN_UNUSED;
/* Write k's private key (mode 0600) or public key (mode 0644) to path, replacing any file
 * there atomically. */
int keyfile_store(const char *path, const struct pubkey *k, bool private_part) WARN_UNUSED;
/* Replace the file at path with p[0..len) and the given mode, atomically and durably (a
 * temporary file in the same directory, fsync, rename, fsync of the directory). */
int keyfile_write_atomic(const char *path, const void *p, size_t len, mode_t mode) WARN_UNUSED;

#endif
