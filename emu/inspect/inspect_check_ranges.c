/* SPDX-License-Identifier: MIT */
#include "inspect_check_ranges.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "inspect_snapshot.h"

int hs_chk_windows_add(struct hs_chk_windows *w, uint64_t start, uint64_t end)
{
	if (start >= end)
		return 0;
	if (hs_snap_grow((void **)&w->w, &w->cap, w->nr + 1, sizeof(*w->w)))
		return -ENOMEM;
	w->w[w->nr++] = (struct hs_chk_window){start, end};
	return 0;
}

static int cmp_window(const void *a, const void *b)
{
	const struct hs_chk_window *x = a, *y = b;
	return x->start < y->start ? -1 : x->start > y->start;
}

void hs_chk_windows_normalise(struct hs_chk_windows *w)
{
	if (w->nr < 2)
		return;
	qsort(w->w, w->nr, sizeof(*w->w), cmp_window);
	size_t k = 0;
	for (size_t i = 1; i < w->nr; i++) {
		if (w->w[i].start <= w->w[k].end) {
			if (w->w[i].end > w->w[k].end)
				w->w[k].end = w->w[i].end;
		} else {
			w->w[++k] = w->w[i];
		}
	}
	w->nr = k + 1;
}

bool hs_chk_windows_meet(const struct hs_chk_windows *w, uint64_t a, uint64_t b)
{
	size_t i =
	    hs_snap_lower(w->w, w->nr, sizeof(*w->w), offsetof(struct hs_chk_window, end), a);
	return i < w->nr && w->w[i].start < b;
}

/* ---- splice --------------------------------------------------------------------- */

struct span {
	uint64_t start, end;
};

static struct span span_of(const void *r)
{
	struct span s;
	memcpy(&s, r, sizeof(s));
	return s;
}

/* Append r to the scratch list, merged into the last one when they merge. */
static int push(struct hs_chk_scratch *sc, size_t size, const struct hs_chk_splice_ops *ops,
		const void *r)
{
	if (sc->nr && ops->merge(sc->buf + (sc->nr - 1) * size, r))
		return 0;
	if (hs_snap_grow((void **)&sc->buf, &sc->cap, (sc->nr + 1) * size, 1))
		return -ENOMEM;
	memcpy(sc->buf + sc->nr++ * size, r, size);
	return 0;
}

int hs_chk_splice(const struct hs_chk_array *a, uint64_t ws, uint64_t we, const void *nw, size_t nn,
		  const struct hs_chk_splice_ops *ops, struct hs_chk_scratch *sc,
		  struct hs_chk_window *hull)
{
	size_t size = a->size, n = *a->nr;
	unsigned char *v = *a->v, piece[64];
	if (size > sizeof(piece))
		return -EINVAL;
#define AT(k) (v + (k)*size)
	/* [i, j): the ranges meeting the window; p, q: with one neighbour each side */
	size_t i = hs_snap_lower(v, n, size, offsetof(struct span, end), ws), j = i;
	while (j < n && span_of(AT(j)).start < we)
		j++;
	size_t p = i ? i - 1 : i, q = j < n ? j + 1 : j;
	int rc = 0;
	sc->nr = 0;
	if (p < i)
		rc |= push(sc, size, ops, AT(p));
	if (i < j && span_of(AT(i)).start < ws) {
		if (ops->cut(ops->ctx, AT(i), span_of(AT(i)).start, ws, piece))
			return 1;
		rc |= push(sc, size, ops, piece);
	}
	for (size_t k = 0; k < nn; k++)
		rc |= push(sc, size, ops, (const unsigned char *)nw + k * size);
	if (j > i && span_of(AT(j - 1)).end > we) {
		if (ops->cut(ops->ctx, AT(j - 1), we, span_of(AT(j - 1)).end, piece))
			return 1;
		rc |= push(sc, size, ops, piece);
	}
	if (j < q)
		rc |= push(sc, size, ops, AT(j));
	if (rc)
		return -ENOMEM;
	if (hull) {
		hull->start = UINT64_MAX;
		hull->end = 0;
		if (p < q) {
			hull->start = span_of(AT(p)).start;
			hull->end = span_of(AT(q - 1)).end;
		}
		if (sc->nr) {
			struct span f = span_of(sc->buf),
				    l = span_of(sc->buf + (sc->nr - 1) * size);
			hull->start = f.start < hull->start ? f.start : hull->start;
			hull->end = l.end > hull->end ? l.end : hull->end;
		}
	}
	size_t total = n - (q - p) + sc->nr;
	if (hs_snap_grow(a->v, a->cap, total, size))
		return -ENOMEM;
	v = *a->v;
	if (n > q)
		memmove(AT(p + sc->nr), AT(q), (n - q) * size);
	if (sc->nr)
		memcpy(AT(p), sc->buf, sc->nr * size);
	*a->nr = total;
#undef AT
	return 0;
}
