/* SPDX-License-Identifier: MIT */
/* Intrusive doubly linked lists (the shape of the Linux kernel's list.h). Header-only. */
#ifndef BURI_MED_LIST_H
#define BURI_MED_LIST_H

#include <stdbool.h>
#include <stddef.h>

#include "common/util.h"

struct list_node {
	struct list_node *prev, *next;
};

/* A head is a node that links to itself when the list is empty. */
#define list_head list_node

static inline void
list_init(struct list_head *h)
{
	h->prev = h->next = h;
}

static inline bool
list_empty(const struct list_head *h)
{
	return h->next == h;
}

/* A node that is in no list has NULL links (after list_node_init or list_del). */
static inline void
list_node_init(struct list_node *n)
{
	n->prev = n->next = NULL;
}

static inline bool
list_linked(const struct list_node *n)
{
	return n->next != NULL;
}

static inline void
list_add_tail(struct list_head *h, struct list_node *n)
{
	n->prev = h->prev;
	n->next = h;
	h->prev->next = n;
	h->prev = n;
}

static inline void
list_del(struct list_node *n)
{
	if (n->next == NULL)
		return;
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->prev = n->next = NULL;
}

/* Iterate with a saved next pointer, so the body may unlink the current node. */
#define list_for_each_safe(pos, tmp, head)                                                         \
	for ((pos) = (head)->next, (tmp) = (pos)->next; (pos) != (head);                           \
	     (pos) = (tmp), (tmp) = (pos)->next)

#endif
