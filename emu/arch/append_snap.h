/* SPDX-License-Identifier: MIT */
/*
 * Checkpoints of an append-mostly list (the trace's hypercalls, the CLI's
 * records) that share what earlier checkpoints hold. Record checkpoints at
 * every host operation, so copying a whole list per checkpoint made a long
 * session quadratic in time and memory (3,000 hypercalls under record: 7-17 s
 * instead of 0.2 s). A snapshot owns copies of the entries from its own_from
 * on and takes the older ones from the snapshot made before it, which holds
 * them as they still are: entries only change while their call is in flight,
 * and the list's owner says so (hs_append_dirty) before it changes one.
 *
 * Indexes are absolute: entry i of the list is the i-th ever appended, the
 * list keeping [first, first + n) (a bound drops the oldest).
 */
#ifndef HS_APPEND_SNAP_H
#define HS_APPEND_SNAP_H

#include <stdbool.h>
#include <stddef.h>

struct hs_append_snap;

/* How entries are copied and freed; NULL copy/free: plain bytes. */
struct hs_append_ops {
	size_t size;
	bool (*copy)(void *to, const void *from); /* false: out of memory (to is freeable) */
	void (*free)(void *e);
};

/* The owner's side: the last snapshot taken or restored, and what is unchanged since. */
struct hs_append_track {
	const struct hs_append_ops *ops;
	struct hs_append_snap *last;
	size_t clean_to; /* entries below it are as last holds them */
};

/* Entry idx is about to change (or the list from idx on). */
static inline void hs_append_dirty(struct hs_append_track *tr, size_t idx)
{
	if (idx < tr->clean_to)
		tr->clean_to = idx;
}

/* The list no longer follows the last snapshot (cleared, replaced). */
void hs_append_forget(struct hs_append_track *tr);

/* A snapshot of v[0 .. n) = entries [first, first + n); NULL when out of memory. */
struct hs_append_snap *hs_append_take(struct hs_append_track *tr, const void *v, size_t first,
				      size_t n);

/*
 * The entries of s as a new array (malloc'd; n may be 0), with its first and
 * count; the track follows s from here on. NULL when out of memory.
 */
void *hs_append_restore(struct hs_append_track *tr, struct hs_append_snap *s, size_t *first,
			size_t *n);

/* A checkpoint lets go of its snapshot. */
void hs_append_put(struct hs_append_snap *s);

#endif
