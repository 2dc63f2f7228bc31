/* SPDX-License-Identifier: MIT */
/* Valid sample messages of every type, for tests and fuzz seeds. One builder, so that a new
 * message type is covered everywhere once it has a sample here. */
#ifndef BURI_SAMPLES_H
#define BURI_SAMPLES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/msg.h"

/* Every type of msg.h's MSG_LIST, in order. */
extern const uint16_t sample_types[];
extern const size_t sample_types_n;

/* A valid message of type in *m: big picks the largest variable fields, else the smallest.
 * Spans point into static storage that the next call rewrites. Returns false for a type that
 * has no sample yet (a new type: add it here). */
bool sample_msg(uint16_t type, bool big, struct msg *m);

#endif
