/* SPDX-License-Identifier: MIT */
/*
 * The node's identity: its RSA key pair (created on first start, RSA-2048, mode 0600, in a
 * 0700 directory) and the state file beside it, which remembers the overlay address the
 * mediator assigned at registration (and the fingerprint of the mediator that assigned it).
 * The address is bound to the key: a new key means a new account.
 */
#ifndef BURI_CONTROL_IDENTITY_H
#define BURI_CONTROL_IDENTITY_H

#include <stdbool.h>
#include <stdint.h>

#include "common/pubkey.h"
#include "common/util.h"
#include "common/wire.h"

struct identity {
	struct pubkey *key;	      /* the key pair; owned */
	uint32_t addr;		      /* assigned overlay address, 0 before registration */
	uint8_t fp[WIRE_KFP_LEN];     /* our key's fingerprint */
	uint8_t med_fp[WIRE_KFP_LEN]; /* the mediator the address belongs to (zero: none) */
	bool created;		      /* the key was made now */
};

/* Loads the key (creating it if key_path does not exist) and the state (none yet is fine).
 * An address registered with another mediator than med_fp is forgotten (logged by the
 * caller: created/addr tell). E_PERM for a key file others may read, E_KEY, E_IO, E_CONF for
 * a state file that does not parse (the reason in err). */
int identity_load(struct identity *id, const char *key_path, const char *state_path,
		  const uint8_t med_fp[WIRE_KFP_LEN], char *err, size_t errlen) WARN_UNUSED;
/* Records addr (assigned by the mediator med_fp) in the state file, atomically. */
int identity_save(struct identity *id, const char *state_path, uint32_t addr,
		  const uint8_t med_fp[WIRE_KFP_LEN]) WARN_UNUSED;
/* A new key pair replacing the old (which is kept as key_path.old); the address is dropped
 * from the state file. E_EXISTS if a key exists and !force. */
int identity_keygen(struct identity *id, const char *key_path, const char *state_path,
		    bool force) WARN_UNUSED;
void identity_free(struct identity *id);

#endif
