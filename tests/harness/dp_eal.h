/* SPDX-License-Identifier: MIT */
/*
 * EAL for the dp suite: one process, no hugepages, no shared files, a private runtime
 * directory and file prefix, quiet logs (../shared/dpdk-notes.md section 6).
 *
 *   struct dp_eal e;
 *   if (dp_eal_start(&e, "test_sa", "0,1") != 0) return 1;   (prints "Bail out!")
 *   ...
 *   dp_eal_stop(&e);
 */
#ifndef BURI_TEST_DP_EAL_H
#define BURI_TEST_DP_EAL_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>

struct dp_eal {
	char rundir[64];
};

static int
dp_eal_start(struct dp_eal *e, const char *name, const char *lcores)
{
	char prefix[64];
	char *argv[] = {(char *)name,
			"--no-huge",
			"--no-shconf",
			"--no-pci",
			"-m",
			"256",
			prefix,
			"-l",
			(char *)lcores,
			"--log-level=*:error",
			"--no-telemetry",
			NULL};

	snprintf(e->rundir, sizeof(e->rundir), "/tmp/%s_XXXXXX", name);
	if (mkdtemp(e->rundir) == NULL || setenv("RUNTIME_DIRECTORY", e->rundir, 1) != 0) {
		printf("Bail out! no runtime directory\n");
		return -1;
	}
	snprintf(prefix, sizeof(prefix), "--file-prefix=%s_%d", name, (int)getpid());
	if (rte_eal_init((int)(sizeof(argv) / sizeof(argv[0])) - 1, argv) < 0) {
		printf("Bail out! rte_eal_init: %s\n", rte_strerror(rte_errno));
		return -1;
	}
	return 0;
}

static void
dp_eal_stop(struct dp_eal *e)
{
	char cmd[128];

	rte_eal_cleanup();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", e->rundir);
	if (system(cmd) != 0)
		printf("# could not remove %s\n", e->rundir);
}

#endif
