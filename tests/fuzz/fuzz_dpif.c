/* SPDX-License-Identifier: MIT */
/*
 * dpif_msg_check, the first thing each side of the control channel runs on a message it takes
 * out of shared memory. Byte 0 picks the direction (bit 0: to the data plane); the rest, cut
 * or zero-padded to DPIF_MSG_SIZE, is the message. Whatever it accepts must hold what the
 * reader then relies on, checked here without the code under test; the last byte of the
 * union is never part of an op, so setting it must turn an accepted message into E_INVAL;
 * and no message is acceptable in both directions.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/dpif.h"
#include "common/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool
has_keys(const struct dpif_sa *sa)
{
	static const uint8_t zero[2 * (WIRE_KE_LEN + WIRE_KA_LEN)];

	return memcmp(sa->in_ke, zero, sizeof(zero)) != 0;
}

static void
check_accepted(const struct dpif_msg *m, bool to_dp)
{
	const struct dpif_sa *sa = &m->u.sa;

	if (m->magic != DPIF_MAGIC || m->version != DPIF_VERSION || m->seq == 0)
		abort();
	if (to_dp) {
		if (m->op < DPIF_SA_ADD || m->op > DPIF_SA_ACTIVATE)
			abort();
		/* every op but FLUSH and DUMP names an SA */
		if (m->op != DPIF_FLUSH && m->op != DPIF_DUMP && sa->spi_in == 0)
			abort();
		if ((m->op == DPIF_SA_PROBE || m->op == DPIF_SA_ACTIVATE) &&
		    (sa->spi_out != 0 || sa->peer_addr != 0 || sa->ep_addr != 0 || sa->flags != 0))
			abort();
		if (m->op == DPIF_SA_ADD && (sa->spi_out == 0 || sa->peer_addr == 0))
			abort();
		if (m->op != DPIF_SA_ADD && has_keys(sa))
			abort();
		if (m->op == DPIF_SA_ENDPOINT && (sa->ep_addr == 0 || sa->ep_port == 0))
			abort();
	} else {
		if (m->op < DPIF_ACK || m->op > DPIF_EV_EXHAUST || m->dp_gen == 0)
			abort();
		if (m->op == DPIF_SA_ENTRY && has_keys(sa))
			abort();
		if (m->op == DPIF_ACK && (m->u.ack.seq == 0 || m->u.ack.status > 0))
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dpif_msg m;
	bool to_dp;
	int r;

	if (size < 1)
		return 0;
	to_dp = data[0] & 1;
	memset(&m, 0, sizeof(m));
	memcpy(&m, data + 1, MIN(size - 1, sizeof(m)));
	r = dpif_msg_check(&m, to_dp);
	if (r != 0 && r != E_INVAL && r != E_TYPE && r != E_PROTOCOL)
		abort();
	if (r != 0)
		return 0;
	check_accepted(&m, to_dp);
	if (dpif_msg_check(&m, !to_dp) != E_TYPE)
		abort();
	m.u.raw[sizeof(m.u.raw) - 1] ^= 0x80;
	if (dpif_msg_check(&m, to_dp) != E_INVAL)
		abort();
	return 0;
}
