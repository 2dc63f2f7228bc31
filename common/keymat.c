/* SPDX-License-Identifier: MIT */
#include "common/keymat.h"

#include <string.h>

#include "common/err.h"

int
keymat_expand(struct crypto *c, const uint8_t *k, size_t klen, const uint8_t *ni, size_t nilen,
	      const uint8_t *nr, size_t nrlen, uint8_t *out, size_t n)
{
	uint8_t t[CRYPTO_SHA1_LEN];
	uint8_t counter;
	size_t done = 0;
	int r = 0;

	if (n > KEYMAT_MAX)
		return E_INVAL;
	for (counter = 1; done < n; counter++) {
		/* T1 has no previous block: its first part is empty. */
		struct span parts[] = {
			{t, counter == 1 ? 0 : sizeof(t)},
			{ni, nilen},
			{nr, nrlen},
			{&counter, 1},
		};
		size_t take = MIN(n - done, sizeof(t));

		if ((r = crypto_hmac_sha1(c, k, klen, parts, ARRAY_SIZE(parts), t)) != 0)
			goto out;
		memcpy(out + done, t, take);
		done += take;
	}
out:
	wipe(t, sizeof(t));
	if (r != 0)
		wipe(out, n);
	return r;
}

int
keymat_session(struct crypto *c, const uint8_t k[WIRE_DH_LEN], const uint8_t ni[WIRE_NONCE_LEN],
	       const uint8_t nr[WIRE_NONCE_LEN], struct session_keys *out)
{
	uint8_t km[WIRE_KEYMAT_LEN];
	int r;

	if ((r = keymat_expand(c, k, WIRE_DH_LEN, ni, WIRE_NONCE_LEN, nr, WIRE_NONCE_LEN, km,
			       sizeof(km))) != 0)
		goto out;
	memcpy(out->i2r.ke, km, WIRE_KE_LEN);
	memcpy(out->i2r.ka, km + WIRE_KE_LEN, WIRE_KA_LEN);
	memcpy(out->r2i.ke, km + WIRE_DIRKEY_LEN, WIRE_KE_LEN);
	memcpy(out->r2i.ka, km + WIRE_DIRKEY_LEN + WIRE_KE_LEN, WIRE_KA_LEN);
out:
	wipe(km, sizeof(km));
	return r;
}
