/* SPDX-License-Identifier: MIT */
/*
 * The reader's check of a dpif.h message. Each side runs it on every message it takes off a
 * ring before looking at a field: the rings live in memory the other process can scribble on,
 * so a message is untrusted input like a packet (docs/STYLE.md rule 12). Unused bytes must be
 * zero, so that a layout disagreement between two builds shows up as E_INVAL, not as a field
 * read from the wrong place.
 */
#include "common/dpif.h"

#include <stddef.h>

#include "common/err.h"

static bool
zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i] != 0)
			return false;
	return true;
}

/* The bytes of the union beyond the op's struct of n bytes. */
static bool
tail_zero(const struct dpif_msg *m, size_t n)
{
	return zero(m->u.raw + n, sizeof(m->u.raw) - n);
}

static bool
no_keys(const struct dpif_sa *sa)
{
	return zero(sa->in_ke, sizeof(*sa) - offsetof(struct dpif_sa, in_ke));
}

/* Only spi_in (and, for SA_ENDPOINT, the endpoint) may be set: DEL, PROBE, ACTIVATE and
 * ENDPOINT carry no keys and nothing the data plane would silently ignore. */
static bool
only_spi_ep(const struct dpif_sa *sa, bool ep)
{
	return sa->spi_out == 0 && sa->peer_addr == 0 &&
	       (ep || (sa->ep_addr == 0 && sa->ep_port == 0)) && sa->flags == 0 &&
	       sa->msgid_out == 0 && sa->net_mask == 0 && no_keys(sa);
}

static int
check_to_dp(const struct dpif_msg *m)
{
	const struct dpif_sa *sa = &m->u.sa;
	bool ok;

	switch (m->op) {
	case DPIF_SA_ADD:
		ok = sa->spi_in != 0 && sa->spi_out != 0 && sa->peer_addr != 0 &&
		     (sa->flags & ~DPIF_SA_FLAGS) == 0;
		break;
	case DPIF_SA_DEL:
	case DPIF_SA_PROBE:
	case DPIF_SA_ACTIVATE:
		ok = sa->spi_in != 0 && only_spi_ep(sa, false);
		break;
	case DPIF_SA_ENDPOINT:
		ok = sa->spi_in != 0 && sa->ep_addr != 0 && sa->ep_port != 0 &&
		     only_spi_ep(sa, true);
		break;
	case DPIF_FLUSH:
	case DPIF_DUMP:
		return tail_zero(m, 0) ? 0 : E_INVAL;
	default:
		return E_TYPE;
	}
	return ok && tail_zero(m, sizeof(*sa)) ? 0 : E_INVAL;
}

static int
check_to_ctl(const struct dpif_msg *m)
{
	const struct dpif_sa *sa = &m->u.sa;
	const struct dpif_event *ev = &m->u.ev;
	size_t n;
	bool ok;

	switch (m->op) {
	case DPIF_ACK:
		ok = m->u.ack.seq != 0 && m->u.ack.status <= 0 && m->u.ack.pad == 0;
		n = sizeof(m->u.ack);
		break;
	case DPIF_SA_ENTRY:
		ok = sa->spi_in != 0 && sa->spi_out != 0 && sa->peer_addr != 0 && no_keys(sa);
		n = sizeof(m->u.entry);
		break;
	case DPIF_EV_FIRST:
	case DPIF_EV_IDLE:
	case DPIF_EV_ENDPOINT:
	case DPIF_EV_EXHAUST:
		ok = ev->spi_in != 0 && ev->pad == 0;
		n = sizeof(*ev);
		break;
	default:
		return E_TYPE;
	}
	/* the data plane always knows its generation */
	return ok && m->dp_gen != 0 && tail_zero(m, n) ? 0 : E_INVAL;
}

int
dpif_msg_check(const struct dpif_msg *m, bool to_dp)
{
	if (!dpif_msg_valid(m))
		return E_PROTOCOL;
	return to_dp ? check_to_dp(m) : check_to_ctl(m);
}
