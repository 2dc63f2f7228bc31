/* SPDX-License-Identifier: MIT */
#include "common/keyfile.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/crypto.h"
#include "common/err.h"

static int
read_all(int fd, char *buf, size_t cap, size_t *len)
{
	size_t off = 0;

	for (;;) {
		ssize_t n = read(fd, buf + off, cap - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return E_IO;
		if (n == 0)
			break;
		off += (size_t)n;
		if (off == cap)
			return E_KEY; /* larger than any key we accept */
	}
	*len = off;
	return 0;
}

int
keyfile_load(const char *path, bool want_private, struct pubkey **out)
{
	char pem[PUBKEY_PEM_MAX];
	struct stat st;
	size_t len = 0;
	int fd, r;

	*out = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return E_IO;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		r = E_IO;
		goto out;
	}
	if (want_private && (st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		r = E_PERM;
		goto out;
	}
	if ((r = read_all(fd, pem, sizeof(pem), &len)) != 0)
		goto out;
	if ((*out = pubkey_from_pem(pem, len, want_private)) == NULL)
		r = E_KEY;
out:
	wipe(pem, sizeof(pem));
	close(fd);
	return r;
}

static int
write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;

	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return E_IO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Make a rename in path's directory durable. */
static int
sync_parent(const char *path)
{
	char copy[4096];
	int fd, r = 0;

	if ((size_t)snprintf(copy, sizeof(copy), "%s", path) >= sizeof(copy))
		return E_INVAL;
	if ((fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return E_IO;
	if (fsync(fd) != 0)
		r = E_IO;
	close(fd);
	return r;
}

int
keyfile_write_atomic(const char *path, const void *p, size_t len, mode_t mode)
{
	char tmp[4096];
	bool created = false;
	int fd = -1, r;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= sizeof(tmp))
		return E_INVAL;
	/* O_EXCL: never write through a file or link someone else placed there. */
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode)) < 0)
		return E_IO;
	created = true;
	/* The umask may have narrowed the mode; a public key must still be readable. */
	if (fchmod(fd, mode) != 0 || (r = write_all(fd, p, len)) != 0 || fsync(fd) != 0) {
		r = E_IO;
		goto out;
	}
	r = close(fd) != 0 || rename(tmp, path) != 0 ? E_IO : 0;
	fd = -1;
	if (r == 0) {
		created = false;
		r = sync_parent(path);
	}
out:
	if (fd >= 0)
		close(fd);
	if (created)
		unlink(tmp);
	return r;
}

int
keyfile_store(const char *path, const struct pubkey *k, bool private_part)
{
	char pem[PUBKEY_PEM_MAX];
	size_t len;
	int r;

	if ((r = pubkey_to_pem(k, private_part, pem, sizeof(pem), &len)) == 0)
		r = keyfile_write_atomic(path, pem, len, private_part ? 0600 : 0644);
	wipe(pem, sizeof(pem));
	return r;
}
