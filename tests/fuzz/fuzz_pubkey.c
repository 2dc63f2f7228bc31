/* SPDX-License-Identifier: MIT */
/* Public keys from the wire (DER SubjectPublicKeyInfo) and from files (PEM), and fingerprint
 * strings from configs. Byte 0 picks which. */
#include <stdlib.h>
#include <string.h>

#include "common/pubkey.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char text[PUBKEY_PEM_MAX + 1];
	uint8_t fp[WIRE_KFP_LEN], der[WIRE_PUBKEY_MAX];
	struct pubkey *k = NULL;
	size_t len;

	if (size < 1 || size - 1 > PUBKEY_PEM_MAX)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	switch (data[0] % 4) {
	case 0:
		k = pubkey_from_der(data + 1, size - 1);
		/* an accepted key re-encodes to exactly the input */
		if (k != NULL && (pubkey_to_der(k, der, sizeof(der), &len) != 0 ||
				  len != size - 1 || memcmp(der, data + 1, len) != 0))
			abort();
		break;
	case 1:
		k = pubkey_from_pem(text, size - 1, false);
		break;
	case 2:
		k = pubkey_from_pem(text, size - 1, true);
		break;
	default:
		(void)!pubkey_fingerprint_parse(text, fp);
	}
	if (k != NULL && pubkey_fingerprint(k, fp) != 0)
		abort();
	pubkey_free(k);
	return 0;
}
