/* SPDX-License-Identifier: MIT */
#include "common/sockio.h"

#include <errno.h>
#include <sys/socket.h>

#include <openssl/err.h>

static ssize_t
plain_result(ssize_t r)
{
	if (r >= 0)
		return r;
	return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? SOCKIO_AGAIN
									 : SOCKIO_FAIL;
}

ssize_t
sockio_read(int fd, SSL *ssl, void *p, size_t n)
{
	int r;

	if (ssl == NULL)
		return plain_result(recv(fd, p, n, 0));
	ERR_clear_error();
	if ((r = SSL_read(ssl, p, (int)n)) > 0)
		return r;
	switch (SSL_get_error(ssl, r)) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		return SOCKIO_AGAIN;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	default:
		return SOCKIO_FAIL;
	}
}

ssize_t
sockio_write(int fd, SSL *ssl, const void *p, size_t n, bool *wants_read)
{
	int r;

	if (wants_read != NULL)
		*wants_read = false;
	if (ssl == NULL)
		return plain_result(send(fd, p, n, MSG_NOSIGNAL));
	ERR_clear_error();
	if ((r = SSL_write(ssl, p, (int)n)) > 0)
		return r;
	switch (SSL_get_error(ssl, r)) {
	case SSL_ERROR_WANT_READ:
		if (wants_read != NULL)
			*wants_read = true;
		return SOCKIO_AGAIN;
	case SSL_ERROR_WANT_WRITE:
		return SOCKIO_AGAIN;
	default:
		return SOCKIO_FAIL;
	}
}
