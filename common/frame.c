/* SPDX-License-Identifier: MIT */
#include "common/frame.h"

#include <string.h>

#include "common/err.h"

enum {
	SIZE_LEN = 4,
	MSGID_LEN = 4,
	CLEAR_HDR = SIZE_LEN + MSGID_LEN,
	SPIS = 12, /* tunnel control: marker, dst SPI, src SPI; the message body follows */
};

int
frame_tcp_total(const uint8_t hdr[4], size_t *total)
{
	uint32_t size = load_be32(hdr);

	*total = 0;
	if (size > WIRE_TCP_SIZE_MAX)
		return E_TOOBIG;
	if (size < MSGID_LEN)
		return E_SHORT;
	*total = (size_t)size + SIZE_LEN;
	return 0;
}

bool
frame_tcp_is_clear(const uint8_t *f, size_t len)
{
	return len >= CLEAR_HDR && load_be32(f + SIZE_LEN) == 0;
}

int
frame_clear_encode(unsigned int channel, const struct msg *m, uint8_t *out, size_t cap, size_t *len)
{
	size_t body;
	int r;

	*len = 0;
	if ((channel & (MSG_CH_CLEAR_C2S | MSG_CH_CLEAR_S2C)) == 0)
		return E_CHANNEL;
	if (cap < CLEAR_HDR)
		return E_NOSPACE;
	if ((r = msg_encode(channel, m, out + CLEAR_HDR,
			    MIN(cap, CLEAR_HDR + WIRE_CLEAR_MAX) - CLEAR_HDR, &body)) != 0)
		return r;
	store_be32(out, (uint32_t)(MSGID_LEN + body));
	store_be32(out + SIZE_LEN, 0);
	*len = CLEAR_HDR + body;
	return 0;
}

int
frame_clear_decode(unsigned int channel, const uint8_t *f, size_t len, struct msg *m)
{
	uint32_t size;

	memset(m, 0, sizeof(*m));
	if (len < CLEAR_HDR)
		return E_SHORT;
	if ((channel & (MSG_CH_CLEAR_C2S | MSG_CH_CLEAR_S2C)) == 0)
		return E_CHANNEL;
	size = load_be32(f);
	if (size > len - SIZE_LEN)
		return E_SHORT;
	if (size < len - SIZE_LEN)
		return E_TRAILING;
	if (load_be32(f + SIZE_LEN) != 0)
		return E_MSGID;
	if (len - CLEAR_HDR > WIRE_CLEAR_MAX)
		return E_TOOBIG;
	return msg_decode(channel, f + CLEAR_HDR, len - CLEAR_HDR, m);
}

bool
frame_udp_is_control(const uint8_t *p, size_t len)
{
	return len >= 4 && load_be32(p) == WIRE_SPI_CONTROL;
}

int
tunnel_ctl_encode(const struct tunnel_ctl *t, uint8_t *out, size_t cap, size_t *len)
{
	size_t body;
	int r;

	*len = 0;
	if (t->dst_spi == 0 || t->src_spi == 0)
		return E_INVAL;
	if (cap < SPIS)
		return E_NOSPACE;
	if ((r = msg_encode(MSG_CH_TUNNEL, &t->msg, out + SPIS,
			    MIN(cap, WIRE_TUNNEL_CTL_MAX) - SPIS, &body)) != 0)
		return r;
	store_be32(out, WIRE_SPI_CONTROL);
	store_be32(out + 4, t->dst_spi);
	store_be32(out + 8, t->src_spi);
	*len = SPIS + body;
	return 0;
}

int
tunnel_ctl_decode(const uint8_t *p, size_t len, struct tunnel_ctl *t)
{
	memset(t, 0, sizeof(*t));
	if (!frame_udp_is_control(p, len))
		return E_CHANNEL;
	if (len < WIRE_TUNNEL_CTL_HDR)
		return E_SHORT;
	if (len > WIRE_TUNNEL_CTL_MAX)
		return E_TOOBIG;
	t->dst_spi = load_be32(p + 4);
	t->src_spi = load_be32(p + 8);
	if (t->dst_spi == 0 || t->src_spi == 0)
		return E_INVAL;
	return msg_decode(MSG_CH_TUNNEL, p + SPIS, len - SPIS, &t->msg);
}
