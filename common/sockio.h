/* SPDX-License-Identifier: MIT */
/*
 * Reads and writes on a non-blocking stream socket, plain or through TLS, with one result
 * convention for both, so callers need not know which they hold.
 */
#ifndef BURI_SOCKIO_H
#define BURI_SOCKIO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <openssl/ssl.h>

enum {
	SOCKIO_AGAIN = -1, /* would block: wait for the socket */
	SOCKIO_FAIL = -2,  /* the connection failed */
};

/* Reads up to n bytes from ssl (if not NULL) or fd: the count (> 0), 0 at the end of the
 * stream, SOCKIO_AGAIN or SOCKIO_FAIL. */
ssize_t sockio_read(int fd, SSL *ssl, void *p, size_t n);
/* Writes up to n bytes: the count (> 0), SOCKIO_AGAIN or SOCKIO_FAIL. Never raises SIGPIPE on a
 * plain socket. *wants_read (may be NULL) is set when TLS must read before it can write again:
 * then wait for input, not for output. */
ssize_t sockio_write(int fd, SSL *ssl, const void *p, size_t n, bool *wants_read);

#endif
