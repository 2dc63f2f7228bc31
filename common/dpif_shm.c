/* SPDX-License-Identifier: MIT */
#include "common/dpif_shm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/crypto.h"
#include "common/err.h"

/* The rings start on cache lines after the header. */
static size_t
ring_off(int i)
{
	return 64 + (size_t)i * shmring_bytes(DPIF_RING_SIZE, DPIF_MSG_SIZE);
}

size_t
dpif_shm_bytes(void)
{
	return ring_off(2);
}

static int
shm_name(const char *prefix, char *out, size_t cap)
{
	if (prefix == NULL || prefix[0] == '\0' || strchr(prefix, '/') != NULL)
		return E_INVAL;
	return (size_t)snprintf(out, cap, DPIF_SHM_NAME, prefix) < cap ? 0 : E_INVAL;
}

static int
map(int fd, struct dpif_region *r)
{
	void *p = mmap(NULL, dpif_shm_bytes(), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	close(fd);
	if (p == MAP_FAILED)
		return E_IO;
	r->hdr = p;
	r->len = dpif_shm_bytes();
	r->to_dp = (struct shmring *)((uint8_t *)p + ring_off(0));
	r->to_ctl = (struct shmring *)((uint8_t *)p + ring_off(1));
	return 0;
}

int
dpif_shm_create(const char *prefix, uint64_t pid, struct dpif_region *out)
{
	struct dpif_region r = {.lock_fd = -1};
	uint64_t gen;
	int fd, e;

	memset(out, 0, sizeof(*out));
	if ((e = shm_name(prefix, r.name, sizeof(r.name))) != 0 ||
	    (e = crypto_random(&gen, 8)) != 0)
		return e;
	shm_unlink(r.name); /* a stale region of a dead data plane */
	if ((fd = shm_open(r.name, O_RDWR | O_CREAT | O_EXCL, 0600)) < 0)
		return E_IO;
	if (ftruncate(fd, (off_t)dpif_shm_bytes()) != 0) {
		close(fd);
		shm_unlink(r.name);
		return E_IO;
	}
	if ((e = map(fd, &r)) != 0 ||
	    (e = shmring_init(r.to_dp, DPIF_RING_SIZE, DPIF_MSG_SIZE)) != 0 ||
	    (e = shmring_init(r.to_ctl, DPIF_RING_SIZE, DPIF_MSG_SIZE)) != 0) {
		shm_unlink(r.name);
		return e;
	}
	r.hdr->version = DPIF_VERSION;
	r.hdr->dp_gen = gen | 1; /* never 0: 0 means "unknown" in messages */
	r.hdr->dp_pid = pid;
	r.hdr->ring_offset[0] = ring_off(0);
	r.hdr->ring_offset[1] = ring_off(1);
	/* the magic last: a control process that sees it sees a complete region */
	__atomic_store_n(&r.hdr->magic, DPIF_MAGIC, __ATOMIC_RELEASE);
	*out = r;
	return 0;
}

static int
header_check(const struct dpif_region *r)
{
	const struct dpif_shm *h = r->hdr;

	if (__atomic_load_n(&h->magic, __ATOMIC_ACQUIRE) != DPIF_MAGIC ||
	    h->version != DPIF_VERSION || h->ring_offset[0] != ring_off(0) ||
	    h->ring_offset[1] != ring_off(1))
		return E_INVAL;
	return 0;
}

static int
rings_check(const struct dpif_region *r)
{
	if (shmring_check(r->to_dp, shmring_bytes(DPIF_RING_SIZE, DPIF_MSG_SIZE), DPIF_RING_SIZE,
			  DPIF_MSG_SIZE) != 0 ||
	    shmring_check(r->to_ctl, shmring_bytes(DPIF_RING_SIZE, DPIF_MSG_SIZE), DPIF_RING_SIZE,
			  DPIF_MSG_SIZE) != 0)
		return E_INVAL;
	return 0;
}

/* The counters the control side owns, put back in range (it holds the lock: no other
 * control process can be using them). A consumer that released more than was produced, or a
 * producer behind its consumer, would otherwise wedge the ring for every later attacher. */
static void
repair(const struct dpif_region *r)
{
	uint64_t head = __atomic_load_n(&r->to_ctl->head, __ATOMIC_ACQUIRE);
	uint64_t tail = __atomic_load_n(&r->to_dp->tail, __ATOMIC_ACQUIRE);

	if (__atomic_load_n(&r->to_ctl->tail, __ATOMIC_RELAXED) > head)
		__atomic_store_n(&r->to_ctl->tail, head, __ATOMIC_RELEASE);
	if (__atomic_load_n(&r->to_dp->head, __ATOMIC_RELAXED) < tail)
		__atomic_store_n(&r->to_dp->head, tail, __ATOMIC_RELEASE);
}

int
dpif_shm_attach(const char *prefix, struct dpif_region *out)
{
	struct dpif_region r = {0};
	struct stat st;
	int fd, lock, e;

	memset(out, 0, sizeof(*out));
	out->lock_fd = -1;
	if ((e = shm_name(prefix, r.name, sizeof(r.name))) != 0)
		return e;
	if ((fd = shm_open(r.name, O_RDWR, 0)) < 0)
		return errno == ENOENT ? E_NOTFOUND : E_IO;
	if (fstat(fd, &st) != 0 || (size_t)st.st_size < dpif_shm_bytes()) {
		close(fd);
		return E_INVAL;
	}
	if ((lock = dup(fd)) < 0 || flock(lock, LOCK_EX | LOCK_NB) != 0) {
		e = lock >= 0 && errno == EWOULDBLOCK ? E_BUSY : E_IO;
		if (lock >= 0)
			close(lock);
		close(fd);
		return e;
	}
	r.lock_fd = lock;
	if ((e = map(fd, &r)) != 0) {
		close(lock);
		return e;
	}
	if ((e = header_check(&r)) == 0) {
		repair(&r);
		e = rings_check(&r);
	}
	if (e != 0) {
		dpif_shm_detach(&r);
		return e;
	}
	*out = r;
	return 0;
}

void
dpif_shm_detach(struct dpif_region *r)
{
	if (r->hdr != NULL)
		munmap(r->hdr, r->len);
	r->hdr = NULL;
	r->to_dp = r->to_ctl = NULL;
	if (r->lock_fd > 0)
		close(r->lock_fd); /* the lock goes with the last descriptor */
	r->lock_fd = -1;
}

void
dpif_shm_unlink(const struct dpif_region *r)
{
	if (r->name[0] != '\0')
		shm_unlink(r->name);
}
