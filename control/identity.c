/* SPDX-License-Identifier: MIT */
/* The node's identity (identity.h). */
#include "control/identity.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/conf.h"
#include "common/err.h"
#include "common/hex.h"
#include "common/keyfile.h"

/* mkdir -p with mode for the last level (parents 0755); 0 if it exists already. */
static int
make_dir(const char *path, mode_t mode)
{
	char copy[4096];
	const char *parent;

	if (access(path, F_OK) == 0)
		return 0;
	if ((size_t)snprintf(copy, sizeof(copy), "%s", path) >= sizeof(copy))
		return E_INVAL;
	parent = dirname(copy);
	if (strcmp(parent, path) != 0 && strcmp(parent, "/") != 0 && strcmp(parent, ".") != 0 &&
	    make_dir(parent, 0755) != 0)
		return E_IO;
	return mkdir(path, mode) == 0 || errno == EEXIST ? 0 : E_IO;
}

static int
new_key(struct identity *id, const char *key_path)
{
	char dir[4096];
	int r;

	snprintf(dir, sizeof(dir), "%s", key_path);
	if ((r = make_dir(dirname(dir), 0700)) != 0)
		return r;
	if ((id->key = pubkey_generate(2048)) == NULL)
		return E_CRYPTO;
	id->created = true;
	return keyfile_store(key_path, id->key, true);
}

static int
read_state(struct identity *id, const char *path, const uint8_t med_fp[WIRE_KFP_LEN], char *err,
	   size_t errlen)
{
	char e[CONF_ERR_MAX], addr[32] = "", fp[64] = "";
	uint8_t got[WIRE_KFP_LEN];
	struct conf *c;
	struct in_addr a;
	size_t n;
	int r;

	if (access(path, F_OK) != 0)
		return 0;
	if ((c = conf_load(path, e)) == NULL) {
		snprintf(err, errlen, "%s", e);
		return E_CONF;
	}
	if ((r = conf_get_str(c, "identity", "", addr, sizeof(addr))) != 0 ||
	    (r = conf_get_str(c, "mediator", "", fp, sizeof(fp))) != 0)
		snprintf(err, errlen, "%s", conf_error(c));
	conf_free(c);
	if (r != 0)
		return r;
	if (inet_pton(AF_INET, addr, &a) != 1 ||
	    hex_decode(fp, strlen(fp), got, sizeof(got), &n) != 0 || n != WIRE_KFP_LEN) {
		snprintf(err, errlen, "%s: identity or mediator malformed", path);
		return E_CONF;
	}
	memcpy(id->med_fp, got, sizeof(got));
	/* an address from another mediator means nothing to this one */
	if (memcmp(got, med_fp, WIRE_KFP_LEN) == 0)
		id->addr = ntohl(a.s_addr);
	return 0;
}

int
identity_load(struct identity *id, const char *key_path, const char *state_path,
	      const uint8_t med_fp[WIRE_KFP_LEN], char *err, size_t errlen)
{
	int r;

	memset(id, 0, sizeof(*id));
	err[0] = '\0';
	if (access(key_path, F_OK) == 0)
		r = keyfile_load(key_path, true, &id->key);
	else
		r = new_key(id, key_path);
	if (r != 0) {
		snprintf(err, errlen, "%s: %s%s", key_path, err_str(r),
			 r == E_PERM ? " (chmod 600 it: others must not read a private key)" : "");
		identity_free(id);
		return r;
	}
	if ((r = pubkey_fingerprint(id->key, id->fp)) != 0 ||
	    (!id->created && (r = read_state(id, state_path, med_fp, err, errlen)) != 0)) {
		identity_free(id);
		return r;
	}
	return 0;
}

int
identity_save(struct identity *id, const char *state_path, uint32_t addr,
	      const uint8_t med_fp[WIRE_KFP_LEN])
{
	char text[256], fp[2 * WIRE_KFP_LEN + 1];
	int n;

	hex_encode(med_fp, WIRE_KFP_LEN, fp);
	n = snprintf(text, sizeof(text),
		     "# written by buri-control: the overlay address the mediator assigned to "
		     "this node's key\nidentity = \"" IP4_FMT "\";\nmediator = \"%s\";\n",
		     IP4_ARG(addr), fp);
	id->addr = addr;
	memcpy(id->med_fp, med_fp, WIRE_KFP_LEN);
	return keyfile_write_atomic(state_path, text, (size_t)n, 0600);
}

int
identity_keygen(struct identity *id, const char *key_path, const char *state_path, bool force)
{
	char old[4096];
	struct pubkey *k;
	int r;

	if (access(key_path, F_OK) == 0 && !force)
		return E_EXISTS;
	if ((k = pubkey_generate(2048)) == NULL)
		return E_CRYPTO;
	if ((size_t)snprintf(old, sizeof(old), "%s.old", key_path) < sizeof(old) &&
	    access(key_path, F_OK) == 0 && rename(key_path, old) != 0) {
		pubkey_free(k);
		return E_IO;
	}
	if ((r = keyfile_store(key_path, k, true)) != 0) {
		pubkey_free(k);
		return r;
	}
	(void)unlink(state_path);
	pubkey_free(id->key);
	id->key = k;
	id->addr = 0;
	id->created = true;
	return pubkey_fingerprint(k, id->fp);
}

void
identity_free(struct identity *id)
{
	pubkey_free(id->key);
	id->key = NULL;
}
