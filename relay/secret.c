/* SPDX-License-Identifier: MIT */
/* The relay secret file (secret.h). */
#include "relay/secret.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/crypto.h"
#include "common/err.h"
#include "common/keyfile.h"

/* Exactly RELAY_SECRET_LEN bytes from fd; one more byte is E_KEY. */
static int
read_exact(int fd, uint8_t out[RELAY_SECRET_LEN])
{
	uint8_t buf[RELAY_SECRET_LEN + 1];
	size_t off = 0;
	int r = 0;

	while (off < sizeof(buf)) {
		ssize_t n = read(fd, buf + off, sizeof(buf) - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = E_IO;
			goto out;
		}
		if (n == 0)
			break;
		off += (size_t)n;
	}
	if (off != RELAY_SECRET_LEN) {
		r = E_KEY;
		goto out;
	}
	memcpy(out, buf, RELAY_SECRET_LEN);
out:
	wipe(buf, sizeof(buf));
	return r;
}

static int
load(const char *path, uint8_t out[RELAY_SECRET_LEN])
{
	struct stat st;
	int fd, r;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return errno == ENOENT ? E_NOTFOUND : E_IO;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		r = E_IO;
	else if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
		r = E_PERM;
	else
		r = read_exact(fd, out);
	close(fd);
	return r;
}

static int
create(const char *path, uint8_t out[RELAY_SECRET_LEN])
{
	int r;

	if ((r = crypto_random(out, RELAY_SECRET_LEN)) != 0)
		return r;
	if ((r = keyfile_write_atomic(path, out, RELAY_SECRET_LEN, 0600)) != 0)
		wipe(out, RELAY_SECRET_LEN);
	return r;
}

int
secret_load(const char *path, bool create_missing, uint8_t out[RELAY_SECRET_LEN], bool *created)
{
	int r = load(path, out);

	*created = false;
	if (r != E_NOTFOUND)
		return r;
	if (!create_missing)
		return E_IO;
	if ((r = create(path, out)) == 0)
		*created = true;
	return r;
}
