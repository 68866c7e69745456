// SPDX-License-Identifier: MIT
#include "append_snap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct hs_append_snap {
	unsigned refs; /* checkpoints, later snapshots (prev), a track (last) */
	const struct hs_append_ops *ops;
	struct hs_append_snap *prev; /* holds the entries [first, own_from) */
	size_t first, n;
	size_t own_from; /* absolute index of own[0]; own ends at first + n */
	unsigned char *own;
};

static void free_range(const struct hs_append_ops *ops, unsigned char *v, size_t n)
{
	for (size_t i = 0; ops->free && i < n; i++)
		ops->free(v + i * ops->size);
	free(v);
}

/* n entries from src into a new array (calloc'd, so a failed copy frees cleanly). */
static bool copy_range(const struct hs_append_ops *ops, unsigned char *to,
		       const unsigned char *from, size_t n)
{
	if (!ops->copy) {
		if (n)
			memcpy(to, from, n * ops->size);
		return true;
	}
	for (size_t i = 0; i < n; i++)
		if (!ops->copy(to + i * ops->size, from + i * ops->size))
			return false;
	return true;
}

void hs_append_put(struct hs_append_snap *s)
{
	while (s && !--s->refs) {
		struct hs_append_snap *prev = s->prev;
		free_range(s->ops, s->own, s->first + s->n - s->own_from);
		free(s);
		s = prev;
	}
}

void hs_append_forget(struct hs_append_track *tr)
{
	hs_append_put(tr->last);
	tr->last = NULL;
	tr->clean_to = 0;
}

struct hs_append_snap *hs_append_take(struct hs_append_track *tr, const void *v, size_t first,
				      size_t n)
{
	const struct hs_append_ops *ops = tr->ops;
	size_t end = first + n;
	size_t from = tr->last && tr->clean_to > first ? tr->clean_to : first;
	if (from > end)
		from = end;
	struct hs_append_snap *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->own = calloc(end - from ? end - from : 1, ops->size);
	if (!s->own ||
	    !copy_range(ops, s->own, (const unsigned char *)v + (from - first) * ops->size,
			end - from)) {
		if (s->own)
			free_range(ops, s->own, end - from);
		free(s);
		return NULL;
	}
	s->refs = 2; /* the caller's and the track's */
	s->ops = ops;
	s->first = first;
	s->n = n;
	s->own_from = from;
	if (from > first) {
		s->prev = tr->last;
		s->prev->refs++;
	}
	hs_append_put(tr->last);
	tr->last = s;
	tr->clean_to = end;
	return s;
}

void *hs_append_restore(struct hs_append_track *tr, struct hs_append_snap *s, size_t *first,
			size_t *n)
{
	const struct hs_append_ops *ops = s->ops;
	unsigned char *v = calloc(s->n ? s->n : 1, ops->size);
	if (!v)
		return NULL;
	size_t hi = s->first + s->n;
	for (const struct hs_append_snap *x = s; x && hi > s->first; x = x->prev) {
		size_t lo = x->own_from > s->first ? x->own_from : s->first;
		if (lo >= hi)
			continue;
		if (!copy_range(ops, v + (lo - s->first) * ops->size,
				x->own + (lo - x->own_from) * ops->size, hi - lo)) {
			free_range(ops, v, s->n);
			return NULL;
		}
		hi = lo;
	}
	s->refs++;
	hs_append_forget(tr);
	tr->last = s;
	tr->clean_to = s->first + s->n;
	*first = s->first;
	*n = s->n;
	return v;
}
