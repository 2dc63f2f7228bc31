/* SPDX-License-Identifier: MIT */
#include "samples.h"

#include <string.h>

#include "common/err.h"

const uint16_t sample_types[] = {
#define SAMPLE_TYPE(name, code, str) name,
	MSG_LIST(SAMPLE_TYPE)
#undef SAMPLE_TYPE
};
const size_t sample_types_n = sizeof(sample_types) / sizeof(sample_types[0]);

static uint8_t pool[4096]; /* bytes that spans of sample messages point into */

bool
sample_msg(uint16_t type, bool big, struct msg *m)
{
	size_t sig = big ? WIRE_SIG_MAX : WIRE_SIG_MIN;
	size_t text = big ? WIRE_TEXT_MAX : 0;

	memset(pool, 'x', sizeof(pool));
	memset(m, 0, sizeof(*m));
	m->type = type;
	switch (type) {
	case MSG_HELO:
		m->u.helo.suite = 1;
		memset(m->u.helo.kfp, 0x11, WIRE_KFP_LEN);
		memset(m->u.helo.ni, 0x22, WIRE_NONCE_LEN);
		memset(m->u.helo.gi, 0x5a, WIRE_DH_LEN);
		break;
	case MSG_HELO_OK:
		memset(m->u.helo_ok.nr, 0x33, WIRE_NONCE_LEN);
		memset(m->u.helo_ok.gr, 0x5b, WIRE_DH_LEN);
		break;
	case MSG_AUTH:
	case MSG_AUTH_OK:
		m->u.auth.identity = 0x64400001;
		m->u.auth.sig = (struct span){pool, sig};
		break;
	case MSG_REGISTER:
		m->u.reg.pubkey = (struct span){pool, big ? WIRE_PUBKEY_MAX : 1};
		m->u.reg.nick = (struct span){pool, big ? WIRE_NICK_MAX : 0};
		m->u.reg.token = (struct span){pool, big ? WIRE_TOKEN_MAX : 0};
		m->u.reg.sig = (struct span){pool, sig};
		break;
	case MSG_ERROR:
		m->u.error.status = err_to_wire(E_SERVERKEY);
		m->u.error.text = (struct span){pool, text};
		break;
	case MSG_RESULT:
		m->u.result.tag = 77;
		m->u.result.text = (struct span){pool, text};
		break;
	case MSG_PING:
	case MSG_PONG:
		m->u.ping.tag = 0xdeadbeef;
		break;
	case MSG_KE1:
	case MSG_KE2:
	case MSG_KE3:
		memset(m->u.ke.nonce, 0x44, WIRE_NONCE_LEN);
		memset(m->u.ke.dh, 0x66, WIRE_DH_LEN);
		if (type != MSG_KE1)
			m->u.ke.sig = (struct span){pool, sig};
		break;
	default:
		return false;
	}
	return true;
}
