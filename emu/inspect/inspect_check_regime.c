/* SPDX-License-Identifier: MIT */
#include "inspect_check_regime.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pt_walk.h"

#define PAGE HS_PAGE_SIZE
#define LAST_LEVEL 3
#define ENTRIES 512 /* 4 KiB granule: the only one kept this way */

#define GROW(arr, cap, need) hs_snap_grow((void **)&(arr), &(cap), (need), sizeof(*(arr)))

static int phys_read(void *ud, uint64_t pa, void *buf, size_t len)
{
	const void *p = hs_phys_ptr(ud, pa, len);
	if (!p)
		return -1;
	memcpy(buf, p, len);
	return 0;
}

/* ---- walks -------------------------------------------------------------------- */

static int observe(const struct hs_pt_visit_ctx *c, void *arg)
{
	struct hs_chk_walk *w = arg;
	uint64_t a = c->addr, b = c->addr + c->size;
	bool inside = a >= w->start && b <= w->end;
	if (c->visit == HS_PT_VISIT_TABLE_PRE) {
		/* tables above the window are the path down to it */
		if (inside) {
			if (GROW(w->t, w->cap_t, w->nr_t + 1)) {
				w->oom = true;
				return -ENOMEM;
			}
			w->t[w->nr_t].pa = c->table_pa;
			w->t[w->nr_t].ia = a;
			w->t[w->nr_t++].level = (int8_t)(c->level + 1);
		}
		return 0;
	}
	if (!inside)
		w->outside = true;
	if (c->visit == HS_PT_VISIT_MALFORMED) {
		w->malformed = true;
		return 0;
	}
	bool big = c->level < LAST_LEVEL &&
		   (c->visit == HS_PT_VISIT_LEAF || c->kind == HS_PT_K_ANNOTATION);
	if (big) {
		if (GROW(w->big, w->cap_big, w->nr_big + 1)) {
			w->oom = true;
			return -ENOMEM;
		}
		w->big[w->nr_big++] = (struct hs_chk_big){a, b, c->level};
	}
	return 0;
}

/* Walk [start, end): ranges into w->pt, tables and blocks inside it into w. */
static int walk_window(struct hs_chk_regime *rg, struct hs_machine *m, struct hs_chk_walk *w,
		       uint64_t start, uint64_t end)
{
	struct hs_phys phys = {.read = phys_read, .ud = m};
	w->start = start;
	w->end = end;
	w->nr_t = w->nr_big = 0;
	w->malformed = w->outside = w->oom = false;
	struct hs_error err = {0};
	int rc = hs_snapshot_walk_part(&phys, rg->r, rg->table, start, end, &w->pt, &w->nr_pt,
				       &w->cap_pt, observe, w, &err);
	return rc || w->oom ? -ENOMEM : 0;
}

void hs_chk_walk_free(struct hs_chk_walk *w)
{
	free(w->t);
	free(w->big);
	free(w->pt);
	free(w->sc.buf);
	memset(w, 0, sizeof(*w));
}

/* ---- table pages ---------------------------------------------------------------- */

static uint64_t entries_of(const struct hs_chk_regime *rg, const struct hs_chk_table *t)
{
	if (!t->root)
		return ENTRIES;
	uint64_t nroot = hs_pt_root_entries(rg->r);
	uint64_t first = t->ia / hs_pt_level_size(rg->r, t->level);
	return nroot - first < ENTRIES ? nroot - first : ENTRIES;
}

/* Counted by the snapshot's walker in its table's `live`: stage 2 non-zero, stage 1 valid. */
static bool live(const struct hs_chk_regime *rg, uint64_t desc)
{
	return rg->r->stage == HS_PT_S2 ? desc != 0 : desc & 1;
}

/* Copy the page and count its live entries. */
static int refresh(struct hs_chk_regime *rg, struct hs_machine *m, struct hs_chk_table *t)
{
	const uint64_t *now = hs_phys_ptr(m, t->pa, PAGE);
	if (!now)
		return -EFAULT;
	if (!t->copy && !(t->copy = malloc(PAGE)))
		return -ENOMEM;
	memcpy(t->copy, now, PAGE);
	uint64_t n = entries_of(rg, t);
	uint32_t nr = 0;
	for (uint64_t i = 0; i < n; i++)
		nr += live(rg, now[i]);
	rg->live |= nr != t->live;
	t->live = nr;
	return 0;
}

static int add_table(struct hs_chk_regime *rg, size_t at, uint64_t pa, uint64_t ia, int level,
		     bool root)
{
	if (GROW(rg->t, rg->cap_t, rg->nr_t + 1))
		return -ENOMEM;
	memmove(&rg->t[at + 1], &rg->t[at], (rg->nr_t - at) * sizeof(*rg->t));
	rg->t[at] = (struct hs_chk_table){
	    .pa = pa, .ia = ia, .level = (int8_t)level, .root = root, .live = ~0u};
	rg->nr_t++;
	return 0;
}

void hs_chk_regime_free(struct hs_chk_regime *rg)
{
	for (size_t i = 0; i < rg->nr_t; i++)
		free(rg->t[i].copy);
	free(rg->t);
	free(rg->big);
	free(rg->dirty.w);
	memset(rg, 0, sizeof(*rg));
}

const char *hs_chk_regime_index(struct hs_chk_regime *rg, struct hs_machine *m,
				struct hs_chk_walk *w)
{
	const struct hs_pt_regime *r = rg->r;
	if (r->granule_shift != HS_PAGE_SHIFT)
		return "a regime with a granule other than 4 KiB";
	if (walk_window(rg, m, w, 0, hs_pt_ia_end(r)))
		return "out of memory";
	if (w->malformed)
		return "malformed table entries";
	uint64_t root_span = ENTRIES * hs_pt_level_size(r, r->start_level);
	for (unsigned i = 0; i < r->nr_concat; i++)
		if (add_table(rg, rg->nr_t, r->root_pa + (uint64_t)i * PAGE, i * root_span,
			      r->start_level, true))
			return "out of memory";
	for (size_t i = 0; i < w->nr_t; i++)
		if (add_table(rg, rg->nr_t, w->t[i].pa, w->t[i].ia, w->t[i].level, false))
			return "out of memory";
	if (GROW(rg->big, rg->cap_big, w->nr_big))
		return "out of memory";
	if (w->nr_big)
		memcpy(rg->big, w->big, w->nr_big * sizeof(*rg->big));
	rg->nr_big = w->nr_big;
	for (size_t i = 0; i < rg->nr_t; i++)
		if (refresh(rg, m, &rg->t[i]))
			return "a table page outside RAM";
	return NULL;
}

/* ---- written pages ---------------------------------------------------------------- */

/* Are the 8 words at a and b equal? (a loop the compiler turns into vector code) */
static bool block_equal(const uint64_t *a, const uint64_t *b)
{
	uint64_t x = 0;
	for (unsigned k = 0; k < 8; k++)
		x |= a[k] ^ b[k];
	return !x;
}

int hs_chk_diff_words(const uint64_t *a, const uint64_t *b, uint64_t n,
		      int (*fn)(void *arg, uint64_t i, uint64_t j), void *arg)
{
	uint64_t i = 0;
	while (i < n) {
		if (!(i & 7) && i + 8 <= n && block_equal(a + i, b + i)) {
			i += 8;
			continue;
		}
		if (a[i] == b[i]) {
			i++;
			continue;
		}
		uint64_t j = i + 1;
		while (j < n && a[j] != b[j])
			j++;
		int rc = fn(arg, i, j);
		if (rc)
			return rc;
		i = j;
	}
	return 0;
}

struct table_diff {
	struct hs_chk_regime *rg;
	struct hs_chk_table *t;
	const uint64_t *now;
};

static int table_run(void *arg, uint64_t i, uint64_t j)
{
	struct table_diff *d = arg;
	struct hs_chk_table *t = d->t;
	uint64_t esz = hs_pt_level_size(d->rg->r, t->level);
	uint32_t was = t->live;
	for (uint64_t k = i; k < j; k++) {
		t->live = t->live - live(d->rg, t->copy[k]) + live(d->rg, d->now[k]);
		t->copy[k] = d->now[k];
	}
	d->rg->live |= t->live != was;
	return hs_chk_windows_add(&d->rg->dirty, t->ia + i * esz, t->ia + j * esz);
}

int hs_chk_regime_written(struct hs_chk_regime *rg, struct hs_machine *m, size_t t)
{
	struct table_diff d = {.rg = rg, .t = &rg->t[t], .now = hs_phys_ptr(m, rg->t[t].pa, PAGE)};
	if (!d.now)
		return -EFAULT;
	return hs_chk_diff_words(d.now, d.t->copy, entries_of(rg, d.t), table_run, &d);
}

/* ---- update ------------------------------------------------------------------------ */

static size_t big_lower(const struct hs_chk_regime *rg, uint64_t a)
{
	return hs_snap_lower(rg->big, rg->nr_big, sizeof(*rg->big),
			     offsetof(struct hs_chk_big, end), a);
}

/* Does a block-level entry lie in [a, b)? */
static bool big_any(const struct hs_chk_regime *rg, uint64_t a, uint64_t b)
{
	size_t i = big_lower(rg, a);
	return i < rg->nr_big && rg->big[i].start < b;
}

/* Level of the entry starting at a (outside the window being replaced). */
static int level_at(const struct hs_chk_regime *rg, uint64_t a)
{
	size_t i = big_lower(rg, a);
	if (i < rg->nr_big && rg->big[i].start <= a)
		return rg->big[i].level;
	return LAST_LEVEL;
}

static int splice_big(struct hs_chk_regime *rg, const struct hs_chk_walk *w)
{
	size_t i = big_lower(rg, w->start), j;
	for (j = i; j < rg->nr_big && rg->big[j].start < w->end; j++)
		;
	size_t n = rg->nr_big - (j - i) + w->nr_big;
	if (GROW(rg->big, rg->cap_big, n))
		return -ENOMEM;
	if (rg->nr_big > j)
		memmove(&rg->big[i + w->nr_big], &rg->big[j], (rg->nr_big - j) * sizeof(*rg->big));
	if (w->nr_big)
		memcpy(&rg->big[i], w->big, w->nr_big * sizeof(*rg->big));
	rg->nr_big = n;
	return 0;
}

/* The piece [at, end) of a range outside the window (the block index is right there). */
static int cut_range(void *ctx, const void *r, uint64_t at, uint64_t end, void *out)
{
	const struct hs_chk_regime *rg = ctx;
	const struct hs_snap_pt_range *x = r;
	if (x->kind == HS_SNAP_BAD)
		return 1; /* one malformed entry: it cannot straddle a window */
	struct hs_snap_pt_range p = hs_snap_pt_clip(x, at, end);
	if (at != x->start)
		p.level = (int8_t)level_at(rg, at);
	p.block = big_any(rg, at, end);
	memcpy(out, &p, sizeof(p));
	return 0;
}

static bool merge_range(void *l, const void *r)
{
	struct hs_snap_pt_range *a = l;
	const struct hs_snap_pt_range *b = r;
	if (!hs_snap_pt_mergeable(a, b))
		return false;
	a->end = b->end;
	a->block |= b->block;
	return true;
}

/* Tables whose whole span lies in the window go; those the walk found there come. */
static const char *splice_tables(struct hs_chk_regime *rg, struct hs_machine *m,
				 const struct hs_chk_walk *w)
{
	size_t k = 0;
	for (size_t i = 0; i < rg->nr_t; i++) {
		struct hs_chk_table *t = &rg->t[i];
		uint64_t span = ENTRIES * hs_pt_level_size(rg->r, t->level);
		if (!t->root && t->ia >= w->start && t->ia + span <= w->end) {
			free(t->copy);
			rg->moved = true;
			continue;
		}
		rg->t[k++] = *t;
	}
	rg->nr_t = k;
	for (size_t i = 0; i < w->nr_t; i++) {
		size_t at = 0;
		for (size_t x = 0; x < rg->nr_t; x++) {
			const struct hs_chk_table *t = &rg->t[x];
			if (t->pa == w->t[i].pa)
				return "a table page is reached twice";
			if (t->root || t->ia < w->t[i].ia ||
			    (t->ia == w->t[i].ia && t->level < w->t[i].level))
				at = x + 1;
		}
		if (add_table(rg, at, w->t[i].pa, w->t[i].ia, w->t[i].level, false))
			return "out of memory";
		if (refresh(rg, m, &rg->t[at]))
			return "a table page outside RAM";
		rg->moved = true;
	}
	return NULL;
}

const char *hs_chk_regime_update(struct hs_chk_regime *rg, struct hs_machine *m,
				 struct hs_chk_walk *w, struct hs_chk_windows *raw,
				 struct hs_chk_windows *hulls)
{
	const struct hs_chk_array ranges = {
	    .v = (void **)rg->pt, .nr = rg->nr_pt, .cap = rg->cap_pt, .size = sizeof(**rg->pt)};
	const struct hs_chk_splice_ops ops = {.cut = cut_range, .merge = merge_range, .ctx = rg};
	hs_chk_windows_normalise(&rg->dirty);
	for (size_t i = 0; i < rg->dirty.nr; i++) {
		uint64_t ws = rg->dirty.w[i].start, we = rg->dirty.w[i].end;
		if (walk_window(rg, m, w, ws, we))
			return "out of memory";
		if (w->malformed)
			return "malformed table entries";
		if (w->outside)
			return "an entry reaches past the entries that changed";
		const char *why = splice_tables(rg, m, w);
		if (why)
			return why;
		/* pieces cut at the edges read the block index outside the window: still right */
		struct hs_chk_window hull;
		int rc = hs_chk_splice(&ranges, ws, we, w->pt, w->nr_pt, &ops, &w->sc, &hull);
		if (rc)
			return rc < 0 ? "out of memory" : "a malformed entry straddles a change";
		if (splice_big(rg, w))
			return "out of memory";
		if ((raw && hs_chk_windows_add(raw, ws, we)) ||
		    (hulls && hs_chk_windows_add(hulls, hull.start, hull.end)))
			return "out of memory";
	}
	rg->dirty.nr = 0;
	return NULL;
}
