/* SPDX-License-Identifier: MIT */
/*
 * Inside the store: the table of functions each backend fills once (store.h is the contract
 * the mediator sees). store.c picks a backend by name, checks every argument and dispatches,
 * so a backend is only ever called with a live impl, non-NULL pointers, strings within their
 * limits, roles and kinds in range, and never from inside one of its own callbacks.
 *
 * A backend keeps the rules of store.h itself: the transaction (first write opens it, commit
 * makes it durable, an E_STORE failure poisons it until the commit reports it), E_EXISTS and
 * E_NOTFOUND as stated there, and messages in the error buffer it was given at open. That
 * buffer belongs to the front and outlives the backend's calls; a message never holds key
 * bytes or other row contents beyond names the caller chose.
 */
#ifndef BURI_MED_STORE_OPS_H
#define BURI_MED_STORE_OPS_H

#include "mediator/store.h"

enum { STORE_ERR_MAX = 256 };

struct store_ops {
	const char *name; /* what store_open() matches the backend argument against */
	/* NULL on failure with the reason in err; later calls write their reasons there too. */
	void *(*open)(const char *path, char *err, size_t errlen);
	void (*close)(void *impl);
	int (*schema_version)(void *impl);
	int (*load)(void *impl, const struct store_load_cb *cb, void *arg);
	int (*account_add)(void *impl, const struct store_account *a);
	int (*account_nick)(void *impl, uint32_t id, const char *nick);
	int (*account_dropped)(void *impl, uint32_t id, uint32_t dropped);
	int (*network_add)(void *impl, struct store_network *n);
	int (*network_update)(void *impl, const struct store_network *n);
	int (*network_del)(void *impl, uint64_t id);
	int (*member_put)(void *impl, const struct store_member *m);
	int (*member_del)(void *impl, uint64_t net, uint32_t node);
	int (*ban_put)(void *impl, const struct store_ban *b);
	int (*ban_del)(void *impl, uint64_t net, uint32_t node);
	int (*text_add)(void *impl, struct store_text *t);
	/* deleted is never NULL here: the front passes a scratch counter. */
	int (*text_ack)(void *impl, uint32_t node, uint64_t upto, uint32_t *deleted);
	int (*text_trim)(void *impl, uint32_t node, uint32_t keep, uint32_t *dropped);
	int (*text_each)(void *impl, uint32_t node,
			 int (*cb)(void *arg, const struct store_text *t), void *arg);
	bool (*dirty)(const void *impl);
	int (*commit)(void *impl);
};

/* store_sqlite.c */
extern const struct store_ops store_sqlite_ops;

#endif
