/* SPDX-License-Identifier: MIT */
#include "common/replay.h"

#include <string.h>

#include "common/err.h"

enum { WORD_BITS = 64 };

static inline uint32_t
word_of(uint32_t id)
{
	return (id / WORD_BITS) % REPLAY_WORDS;
}

static inline uint64_t
bit_of(uint32_t id)
{
	return (uint64_t)1 << (id % WORD_BITS);
}

void
replay_init(struct replay *w)
{
	memset(w, 0, sizeof(*w));
}

int
replay_check(const struct replay *w, uint32_t id)
{
	if (id == 0)
		return E_MSGID;
	if (id > w->top)
		return 0;
	if (w->top - id >= WIRE_REPLAY_WINDOW)
		return E_TOOOLD;
	return (w->map[word_of(id)] & bit_of(id)) != 0 ? E_REPLAY : 0;
}

void
replay_update(struct replay *w, uint32_t id)
{
	if (id > w->top) {
		/* Clear the words the top moves over; after a jump of a whole ring, all of them. */
		uint32_t from = w->top / WORD_BITS, to = id / WORD_BITS;
		uint32_t steps = MIN(to - from, (uint32_t)REPLAY_WORDS);

		for (uint32_t i = 1; i <= steps; i++)
			w->map[(from + i) % REPLAY_WORDS] = 0;
		w->top = id;
	}
	w->map[word_of(id)] |= bit_of(id);
}

int
replay_stream_accept(uint32_t *last, uint32_t id)
{
	if (*last == UINT32_MAX || id != *last + 1)
		return E_MSGID;
	*last = id;
	return 0;
}

int
msgid_next(uint32_t *counter, uint32_t *id)
{
	if (*counter == UINT32_MAX)
		return E_EXHAUSTED;
	*id = ++*counter;
	return 0;
}
