/* SPDX-License-Identifier: MIT */
/*
 * One translation regime (the EL2 stage 1, the host stage 2, a guest's stage
 * 2) as the incremental checker keeps it: its table pages, each with a copy
 * of what it held and its number of live entries (the snapshot's `live`),
 * its block-level entries, and the snapshot range array it keeps right.
 *
 * A written table page is compared with its copy; the entries that differ
 * are walked again, window by window, with the snapshot's own walker, and
 * the ranges spliced in: a range cut by a window's edge keeps its outside
 * pieces, whose level and blockness come from the block index (a range only
 * records "some entry is a block" and the level of its first entry).
 *
 * What it cannot do exactly it refuses with a reason (malformed entries, a
 * table reached twice, a walk leaving the window): the caller then takes a
 * fresh snapshot. Only the 4 KiB granule is kept this way.
 */
#ifndef HS_INSPECT_CHECK_REGIME_H
#define HS_INSPECT_CHECK_REGIME_H

#include "inspect_check_ranges.h"
#include "inspect_snapshot.h"

/* One table page, and what it held when last read. */
struct hs_chk_table {
	uint64_t pa, ia; /* the page; the first input address it translates */
	int8_t level;	 /* level of its entries */
	bool root;
	uint32_t live;	/* as the snapshot's walker counts them */
	uint64_t *copy; /* its 512 descriptors */
};

/* An entry above the last level that yields a range (a block, a block-level annotation). */
struct hs_chk_big {
	uint64_t start, end;
	int level;
};

/* Scratch for walks, shared by the regimes of one state. */
struct hs_chk_walk {
	uint64_t start, end; /* the window */
	struct {
		uint64_t pa, ia;
		int8_t level;
	} * t; /* tables found inside it */
	size_t nr_t, cap_t;
	struct hs_chk_big *big;
	size_t nr_big, cap_big;
	bool malformed, outside, oom;
	struct hs_snap_pt_range *pt; /* the ranges read */
	size_t nr_pt, cap_pt;
	struct hs_chk_scratch sc;
};

struct hs_chk_regime {
	enum hs_snap_table table;
	uint16_t guest;		      /* GUEST_S2: index in the snapshot's guests */
	const struct hs_pt_regime *r; /* the snapshot's */
	struct hs_snap_pt_range **pt; /* the snapshot's range array */
	size_t *nr_pt, *cap_pt;
	struct hs_chk_table *t; /* roots first, then by (ia, level): the walk's order */
	size_t nr_t, cap_t;
	struct hs_chk_big *big; /* sorted, disjoint */
	size_t nr_big, cap_big;
	struct hs_chk_windows dirty; /* entries that changed, to walk again */
	bool moved;		     /* tables came or went */
	bool live;		     /* a live count changed */
};

/* Index the regime from one walk of all of it. Return NULL, or why it cannot be kept. */
const char *hs_chk_regime_index(struct hs_chk_regime *rg, struct hs_machine *m,
				struct hs_chk_walk *w);
/* Its table page t was written: note the entries that changed (copy and live follow). */
int hs_chk_regime_written(struct hs_chk_regime *rg, struct hs_machine *m, size_t t);
/*
 * Walk the noted entries again and splice the result in. raw (may be NULL):
 * the windows walked; hulls (may be NULL): where ranges were replaced.
 * Return NULL, or why the regime cannot be kept.
 */
const char *hs_chk_regime_update(struct hs_chk_regime *rg, struct hs_machine *m,
				 struct hs_chk_walk *w, struct hs_chk_windows *raw,
				 struct hs_chk_windows *hulls);
void hs_chk_regime_free(struct hs_chk_regime *rg);
void hs_chk_walk_free(struct hs_chk_walk *w);

/*
 * Call fn on every run [i, j) of words where a and b differ (b: a copy of
 * what a held). Equal 64-byte blocks are skipped whole: a hypercall changes
 * a few words of a page. Returns fn's first non-zero return, or 0.
 */
int hs_chk_diff_words(const uint64_t *a, const uint64_t *b, uint64_t n,
		      int (*fn)(void *arg, uint64_t i, uint64_t j), void *arg);

#endif
