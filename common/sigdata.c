/* SPDX-License-Identifier: MIT */
#include "common/sigdata.h"

size_t
sigdata_parts(enum sigdata_kind kind, const struct handshake_values *v,
	      struct span parts[SIGDATA_MAX_PARTS])
{
	/* The signer's own nonce and DH value lead, except in AUTH, which the seeds define with
	 * the suite in front to close a downgrade. */
	bool initiator_side = kind == SIGDATA_AUTH || kind == SIGDATA_KE3;
	const uint8_t *n1 = initiator_side ? v->ni : v->nr, *n2 = initiator_side ? v->nr : v->ni;
	const uint8_t *g1 = initiator_side ? v->gi : v->gr, *g2 = initiator_side ? v->gr : v->gi;
	size_t i = 0;

	if (kind == SIGDATA_AUTH)
		parts[i++] = (struct span){&v->suite, 1};
	parts[i++] = (struct span){n1, WIRE_NONCE_LEN};
	parts[i++] = (struct span){n2, WIRE_NONCE_LEN};
	parts[i++] = (struct span){g1, WIRE_DH_LEN};
	parts[i++] = (struct span){g2, WIRE_DH_LEN};
	return i;
}
