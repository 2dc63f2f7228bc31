/* SPDX-License-Identifier: MIT */
/*
 * The dpif region: a data plane creates it, a control process in another process attaches and
 * they exchange messages both ways; attaching before a data plane exists, to a foreign or
 * half-made region, is refused; a restarted data plane makes a new generation.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/dpif_shm.h"
#include "common/err.h"
#include "test.h"

TEST_DEFINE_STATE;

static char prefix[64];

static struct dpif_msg
msg(uint16_t op, uint64_t seq)
{
	struct dpif_msg m;

	memset(&m, 0, sizeof(m));
	m.magic = DPIF_MAGIC;
	m.version = DPIF_VERSION;
	m.op = op;
	m.seq = seq;
	return m;
}

/* Child, the control process: pushes 100 SA_ADDs, waits for 100 ACKs. Exit 0 if all good. */
static int
control(void)
{
	struct dpif_region r;
	struct dpif_msg m;
	uint64_t acked = 0;

	if (dpif_shm_attach(prefix, &r) != 0)
		return 1;
	for (uint64_t s = 1; s <= 100; s++) {
		m = msg(DPIF_SA_ADD, s);
		m.u.sa.spi_in = (uint32_t)s;
		while (shmring_push(r.to_dp, &m) == E_NOSPACE)
			;
	}
	for (int spins = 0; acked < 100 && spins < 100000000; spins++)
		if (shmring_pop(r.to_ctl, &m) == 0 && dpif_msg_valid(&m) && m.op == DPIF_ACK &&
		    m.u.ack.seq == acked + 1)
			acked++;
	dpif_shm_detach(&r);
	return acked == 100 ? 0 : 2;
}

static void
test_exchange(void)
{
	struct dpif_region dp, again;
	struct dpif_msg m;
	uint64_t seen = 0, gen;
	int status = -1, bad = 0;
	pid_t pid;

	TEST_START("a data plane and a control process exchange SA operations and acks");
	ASSERT_INT_EQ(dpif_shm_attach(prefix, &again), E_NOTFOUND);
	ASSERT_INT_EQ(dpif_shm_create(prefix, (uint64_t)getpid(), &dp), 0);
	ASSERT_TRUE(dp.hdr->dp_gen != 0);
	gen = dp.hdr->dp_gen;
	if ((pid = fork()) == 0)
		_exit(control());
	for (int spins = 0; seen < 100 && spins < 100000000; spins++) {
		if (shmring_pop(dp.to_dp, &m) != 0)
			continue;
		if (!dpif_msg_valid(&m) || m.op != DPIF_SA_ADD || m.seq != seen + 1 ||
		    m.u.sa.spi_in != m.seq)
			bad++;
		seen++;
		m = msg(DPIF_ACK, seen);
		m.u.ack.seq = seen;
		while (shmring_push(dp.to_ctl, &m) == E_NOSPACE)
			;
	}
	waitpid(pid, &status, 0);
	ASSERT_INT_EQ(seen, 100);
	ASSERT_INT_EQ(bad, 0);
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	dpif_shm_detach(&dp);
	ASSERT_INT_EQ(dpif_shm_create(prefix, (uint64_t)getpid(), &dp), 0);
	ASSERT_TRUE(dp.hdr->dp_gen != gen); /* a restarted data plane: a new generation */
	ASSERT_INT_EQ(shmring_count(dp.to_dp), 0);
	dpif_shm_unlink(&dp);
	dpif_shm_detach(&dp);
	ASSERT_INT_EQ(dpif_shm_attach(prefix, &again), E_NOTFOUND);
	TEST_DONE();
}

static void
test_refusals(void)
{
	char name[80];
	struct dpif_region r;
	int fd;

	TEST_START("attach refuses bad prefixes, short and half-made regions");
	ASSERT_INT_EQ(dpif_shm_attach("a/b", &r), E_INVAL);
	ASSERT_INT_EQ(dpif_shm_attach("", &r), E_INVAL);
	snprintf(name, sizeof(name), DPIF_SHM_NAME, prefix);
	fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
	ASSERT_TRUE(fd >= 0);
	ASSERT_INT_EQ(dpif_shm_attach(prefix, &r), E_INVAL); /* empty: too short */
	ASSERT_INT_EQ(ftruncate(fd, (off_t)dpif_shm_bytes()), 0);
	ASSERT_INT_EQ(dpif_shm_attach(prefix, &r), E_INVAL); /* all zero: no magic */
	close(fd);
	shm_unlink(name);
	TEST_DONE();
}

/* A child attaches and reports, through its exit status, what attach said. */
static int
attach_in_child(int hold_ms)
{
	int status = -1;
	pid_t pid = fork();

	if (pid == 0) {
		struct dpif_region r;
		int e = dpif_shm_attach(prefix, &r);

		if (e == 0 && hold_ms > 0)
			usleep((useconds_t)hold_ms * 1000);
		_exit(e == 0 ? 0 : e == E_BUSY ? 3 : 4);
	}
	if (hold_ms > 0)
		return pid;
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void
test_one_control(void)
{
	struct dpif_region dp, ctl;
	struct dpif_msg m;
	int holder, status;

	TEST_START("one control process at a time; kill -9 frees the lock; counters repaired");
	ASSERT_INT_EQ(dpif_shm_create(prefix, (uint64_t)getpid(), &dp), 0);
	ASSERT_INT_EQ(dpif_shm_attach(prefix, &ctl), 0);
	ASSERT_INT_EQ(attach_in_child(0), 3); /* E_BUSY while we hold it */
	dpif_shm_detach(&ctl);
	ASSERT_INT_EQ(attach_in_child(0), 0);
	holder = attach_in_child(10000); /* holds it, then is killed */
	usleep(200 * 1000);
	ASSERT_INT_EQ(dpif_shm_attach(prefix, &ctl), E_BUSY);
	kill(holder, SIGKILL);
	waitpid(holder, &status, 0);
	ASSERT_INT_EQ(dpif_shm_attach(prefix, &ctl), 0);
	/* a predecessor (two consumers, say) released more than was produced, or its producer
	 * counter fell behind the consumer: both repaired by the next attacher */
	m = msg(DPIF_SA_ADD, 1);
	ASSERT_INT_EQ(shmring_push(ctl.to_dp, &m), 0);
	ASSERT_INT_EQ(shmring_pop(dp.to_dp, &m), 0);
	__atomic_store_n(&ctl.to_ctl->tail, ctl.to_ctl->head + 1, __ATOMIC_RELEASE);
	__atomic_store_n(&ctl.to_dp->head, 0, __ATOMIC_RELEASE);
	dpif_shm_detach(&ctl);
	if (dpif_shm_attach(prefix, &ctl) != 0) {
		ASSERT_TRUE(0);
		return;
	}
	ASSERT_TRUE(ctl.to_ctl->tail == ctl.to_ctl->head);
	ASSERT_TRUE(ctl.to_dp->head == ctl.to_dp->tail);
	ASSERT_INT_EQ(shmring_count(ctl.to_ctl), 0);
	dpif_shm_detach(&ctl);
	dpif_shm_unlink(&dp);
	dpif_shm_detach(&dp);
	TEST_DONE();
}

int
main(void)
{
	snprintf(prefix, sizeof(prefix), "test-%d", (int)getpid());
	test_exchange();
	test_refusals();
	test_one_control();
	return test_finish();
}
