/* SPDX-License-Identifier: MIT */
/* buri-mediator: settings, setup, the loop, teardown. Everything else is in libmediator. */
#include <stdio.h>
#include <stdlib.h>

#include "common/err.h"
#include "common/log.h"
#include "mediator/med.h"

int
main(int argc, char **argv)
{
	struct med *m = calloc(1, sizeof(*m));
	int r;

	if (m == NULL)
		return 1;
	if ((r = cfg_load(&m->cfg, argc, argv)) != 0) {
		free(m);
		return r == 1 ? 0 : 2;
	}
	log_init("buri-mediator", (enum log_level)m->cfg.log_level, m->cfg.log_syslog);
	if ((r = med_init(m)) == 0)
		r = med_run(m);
	else
		log_err("cannot start: %s", err_str(r));
	med_fini(m);
	free(m);
	return r == 0 ? 0 : 1;
}
