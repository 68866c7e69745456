/* SPDX-License-Identifier: MIT */
/*
 * The incremental checker's driver: which rule groups to evaluate again, over
 * which windows, and how their violations splice into the kept ones. The
 * report is hs_check_snapshot()'s groups in its order:
 *
 *   page rules, one list per memory region, ordered by page: a window
 *     [a, b) that changed is widened to the segments that hold its edges
 *     (their boundaries depend only on pages outside the window, so they
 *     are boundaries before and after), evaluated again and put in place
 *     of the old violations there;
 *   EL2 stage-1 rules, ordered by range, each violation keyed by its range's
 *     VA: ranges the stage-1 update replaced, and ranges over memory whose
 *     vmemmap changed, are evaluated again, the others copied;
 *   table rules and guest rules: evaluated again whenever their inputs
 *     changed (they cost a few microseconds at most);
 *   each pool: evaluated again when its header, a page its free lists led
 *     to, or the vmemmap over its range changed.
 */
#include "inspect_check_incr.h"
#include "profile.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "host_boot.h"
#include "inspect_check_priv.h"
#include "inspect_check_state.h"
#include "write_log.h"

struct hs_check_incr {
	struct hs_machine *m;
	struct hs_write_log_reader *log;
	struct hs_chk_state *st;
	bool valid; /* the groups below hold the result for the state's snapshot */
	struct hs_check_report pages[HS_MAX_MEMBLOCK_REGIONS];
	struct hs_check_report el2;
	uint64_t *el2_key; /* per violation of el2: the VA of its range */
	size_t cap_el2_key;
	struct hs_check_report sweep; /* inspect_check_sweep.c: pins and MMIO leaves */
	struct hs_check_report tables, guests;
	struct hs_snap_cover *cover; /* PA pages any guest maps (for the guest rules) */
	size_t nr_cover;
	struct hs_chk_pool pool[2];
	struct hs_check_report pool_rep[2];
	struct hs_chk_changes ch;
	struct hs_chk_windows changed, pa; /* scratch: page-rule windows, and widened */
	struct hs_check_report next, win;
	uint64_t *next_key;
	size_t cap_next_key;
	struct hs_check_incr_stats stats;
};

int hs_check_incr_new(struct hs_machine *m, struct hs_check_incr **out, struct hs_error *err)
{
	/* It tracks pools and vmemmap pages by the bundled layouts: others check in full. */
	if (!hs_profile_of(m)->check_incremental)
		return hs_err(err, -ENOTSUP,
			      "checker: the incremental checker knows the bundled hypervisor's "
			      "layouts only (profile %s checks in full)",
			      hs_profile_of(m)->name);
	struct hs_check_incr *ci = calloc(1, sizeof(*ci));
	if (!ci)
		return hs_err(err, -ENOMEM, "checker: out of memory");
	ci->m = m;
	hs_chk_pool_init(&ci->pool[0], "hpool", HS_CHK_T_HPOOL);
	hs_chk_pool_init(&ci->pool[1], "host_s2_pool", HS_CHK_T_HOST_S2_POOL);
	hs_chk_changes_init(&ci->ch);
	int rc = hs_chk_state_new(m, &ci->st, err);
	if (!rc)
		rc = hs_write_log_open(m, &ci->log, err);
	if (rc) {
		hs_check_incr_free(ci);
		return rc;
	}
	*out = ci;
	return 0;
}

void hs_check_incr_free(struct hs_check_incr *ci)
{
	if (!ci)
		return;
	hs_write_log_close(ci->log);
	hs_chk_state_free(ci->st);
	for (unsigned i = 0; i < 2; i++)
		hs_chk_pool_free(&ci->pool[i]);
	for (unsigned i = 0; i < HS_MAX_MEMBLOCK_REGIONS; i++)
		hs_check_report_free(&ci->pages[i]);
	hs_check_report_free(&ci->el2);
	hs_check_report_free(&ci->sweep);
	hs_check_report_free(&ci->tables);
	hs_check_report_free(&ci->guests);
	for (unsigned i = 0; i < 2; i++)
		hs_check_report_free(&ci->pool_rep[i]);
	free(ci->el2_key);
	free(ci->next_key);
	free(ci->cover);
	hs_check_report_free(&ci->next);
	hs_check_report_free(&ci->win);
	hs_chk_changes_free(&ci->ch);
	free(ci->changed.w);
	free(ci->pa.w);
	free(ci);
}

void hs_check_incr_reset(struct hs_check_incr *ci)
{
	ci->valid = false;
}

void hs_check_incr_stats(const struct hs_check_incr *ci, struct hs_check_incr_stats *st)
{
	*st = ci->stats;
}

const struct hs_snapshot *hs_check_incr_snapshot(const struct hs_check_incr *ci)
{
	return hs_chk_state_snapshot(ci->st);
}

/* ---- reports as lists -------------------------------------------------------- */

static void clear(struct hs_check_report *r)
{
	r->nr = r->total = r->waived = 0;
	r->pages_checked = r->tables_checked = r->free_blocks_checked = 0;
	r->swenc = &hs_hypscope_swenc; /* hs_check_incr_new() takes the bundled profile only */
	r->waivers = NULL;
}

/*
 * Append violations v[first, first + n) (the group's own lists are never
 * truncated: see assemble()). v is NULL for an empty group, so the element is
 * only addressed when there is one (NULL + 0 is undefined in C).
 */
static int append(struct hs_check_report *to, const struct hs_violation *v, size_t first, size_t n)
{
	if (!n)
		return 0;
	if (hs_snap_grow((void **)&to->v, &to->cap, to->nr + n, sizeof(*to->v)))
		return -ENOMEM;
	memcpy(&to->v[to->nr], &v[first], n * sizeof(*v));
	to->nr += n;
	to->total += n;
	return 0;
}

static int set_keys(uint64_t **keys, size_t *cap, size_t from, size_t to, uint64_t key)
{
	if (hs_snap_grow((void **)keys, cap, to, sizeof(**keys)))
		return -ENOMEM;
	for (size_t i = from; i < to; i++)
		(*keys)[i] = key;
	return 0;
}

static void swap(struct hs_check_report *a, struct hs_check_report *b)
{
	struct hs_check_report t = *a;
	*a = *b;
	*b = t;
}

/* ---- page rules ---------------------------------------------------------------- */

/* [start, end) of the host stage-2 range or gap holding pa. */
static void s2_piece(const struct hs_snapshot *s, uint64_t pa, uint64_t *start, uint64_t *end)
{
	const struct hs_snap_pt_range *a = s->pt[HS_SNAP_HOST_S2];
	size_t lo = hs_snap_pt_lower(a, s->nr_pt[HS_SNAP_HOST_S2], pa);
	bool in = lo < s->nr_pt[HS_SNAP_HOST_S2] && a[lo].start <= pa;
	*start = in ? a[lo].start : lo ? a[lo - 1].end : 0;
	*end = lo < s->nr_pt[HS_SNAP_HOST_S2] ? (in ? a[lo].end : a[lo].start) : UINT64_MAX;
}

/* [start, end) of the vmemmap run or gap holding pa. */
static void vm_piece(const struct hs_snapshot *s, uint64_t pa, uint64_t *start, uint64_t *end)
{
	size_t lo = hs_snap_vm_lower(s, pa);
	bool in = lo < s->nr_vm && s->vm[lo].start <= pa;
	*start = in ? s->vm[lo].start : lo ? s->vm[lo - 1].end : 0;
	*end = lo < s->nr_vm ? (in ? s->vm[lo].end : s->vm[lo].start) : UINT64_MAX;
}

/* The segment (as hs_chk_pages() cuts them) holding the page at pa, within [base, end). */
static void segment(const struct hs_snapshot *s, uint64_t pa, uint64_t base, uint64_t end,
		    uint64_t *a, uint64_t *b)
{
	uint64_t s0, s1, v0, v1;
	s2_piece(s, pa, &s0, &s1);
	vm_piece(s, pa, &v0, &v1);
	*a = base;
	if (s0 > *a)
		*a = s0;
	if (v0 > *a)
		*a = v0;
	*b = end;
	if (s1 < *b)
		*b = s1;
	if (v1 < *b)
		*b = v1;
}

/* First violation of r at or after page pa (r is ordered by page). */
static size_t first_at(const struct hs_check_report *r, size_t from, uint64_t pa)
{
	while (from < r->nr && r->v[from].pa < pa)
		from++;
	return from;
}

/* Evaluate the page rules again over the windows (PA, sorted) within region g. */
static int pages_update(struct hs_check_incr *ci, const struct hs_snapshot *s, unsigned g,
			const struct hs_chk_windows *w)
{
	uint64_t base = s->mem[g].base, end = base + s->mem[g].size;
	ci->pa.nr = 0;
	for (size_t i = 0; i < w->nr; i++) {
		uint64_t a = w->w[i].start > base ? w->w[i].start : base;
		uint64_t b = w->w[i].end < end ? w->w[i].end : end;
		if (a >= b)
			continue;
		uint64_t x, y;
		if (a > base)
			segment(s, a - HS_PAGE_SIZE, base, end, &a, &y);
		if (b < end)
			segment(s, b, base, end, &x, &b);
		if (hs_chk_windows_add(&ci->pa, a, b))
			return -ENOMEM;
	}
	if (!ci->pa.nr)
		return 0;
	hs_chk_windows_normalise(&ci->pa);
	struct hs_check_report *old = &ci->pages[g];
	clear(&ci->next);
	size_t k = 0;
	for (size_t i = 0; i < ci->pa.nr; i++) {
		size_t from = k;
		k = first_at(old, k, ci->pa.w[i].start);
		if (append(&ci->next, old->v, from, k - from))
			return -ENOMEM;
		k = first_at(old, k, ci->pa.w[i].end);
		clear(&ci->win);
		hs_chk_pages(s, ci->pa.w[i].start, ci->pa.w[i].end, &ci->win);
		if (ci->win.total != ci->win.nr || append(&ci->next, ci->win.v, 0, ci->win.nr))
			return -ENOMEM;
	}
	if (append(&ci->next, old->v, k, old->nr - k))
		return -ENOMEM;
	swap(old, &ci->next);
	return 0;
}

/* ---- EL2 stage-1 rules ------------------------------------------------------------ */

/*
 * Ranges whose start lies in a window of ch->s1 were replaced (the windows
 * hold every replaced range, old and new); ranges mapping memory whose
 * vmemmap changed read new entries. Both are evaluated again.
 */
static int el2_update(struct hs_check_incr *ci, const struct hs_snapshot *s)
{
	const struct hs_snap_pt_range *v = s->pt[HS_SNAP_HYP_S1];
	struct hs_check_report *old = &ci->el2;
	clear(&ci->next);
	size_t k = 0;
	for (size_t i = 0; i < s->nr_pt[HS_SNAP_HYP_S1]; i++) {
		const struct hs_snap_pt_range *r = &v[i];
		while (k < old->nr && ci->el2_key[k] < r->start)
			k++; /* a range that is gone */
		size_t from = k;
		while (k < old->nr && ci->el2_key[k] == r->start)
			k++;
		bool again = hs_chk_windows_meet(&ci->ch.s1, r->start, r->start + 1) ||
			     (r->kind == HS_SNAP_LEAF &&
			      hs_chk_windows_meet(&ci->ch.vm, r->oa, r->oa + (r->end - r->start)));
		size_t before = ci->next.nr;
		if (again) {
			clear(&ci->win);
			hs_chk_el2_range(s, i, &ci->win);
			if (ci->win.total != ci->win.nr ||
			    append(&ci->next, ci->win.v, 0, ci->win.nr))
				return -ENOMEM;
		} else if (append(&ci->next, old->v, from, k - from)) {
			return -ENOMEM;
		}
		if (set_keys(&ci->next_key, &ci->cap_next_key, before, ci->next.nr, r->start))
			return -ENOMEM;
	}
	swap(old, &ci->next);
	uint64_t *t = ci->el2_key;
	size_t c = ci->cap_el2_key;
	ci->el2_key = ci->next_key;
	ci->cap_el2_key = ci->cap_next_key;
	ci->next_key = t;
	ci->cap_next_key = c;
	return 0;
}

static int el2_all(struct hs_check_incr *ci, const struct hs_snapshot *s)
{
	clear(&ci->el2);
	for (size_t i = 0; i < s->nr_pt[HS_SNAP_HYP_S1]; i++) {
		size_t before = ci->el2.nr;
		hs_chk_el2_range(s, i, &ci->el2);
		if (set_keys(&ci->el2_key, &ci->cap_el2_key, before, ci->el2.nr,
			     s->pt[HS_SNAP_HYP_S1][i].start))
			return -ENOMEM;
	}
	return 0;
}

/* ---- table rules ------------------------------------------------------------------ */

/* The table rules read the vmemmap of table pages only: did one of those change? */
static bool vmemmap_of_a_table(const struct hs_snapshot *s, const struct hs_chk_windows *vm)
{
	for (size_t i = 0; vm->nr && i < s->nr_tables; i++)
		if (hs_chk_windows_meet(vm, s->tables[i].pa, s->tables[i].pa + HS_PAGE_SIZE))
			return true;
	return false;
}

/* ---- guest rules ------------------------------------------------------------------ */

/* Evaluate the guest rules, and note which pages guests map. */
static int guests_all(struct hs_check_incr *ci, const struct hs_snapshot *s)
{
	clear(&ci->guests);
	hs_chk_guests(s, &ci->guests);
	free(ci->cover);
	return hs_snap_guest_cover(s, ~0u, &ci->cover, &ci->nr_cover);
}

static bool cover_meets(const struct hs_check_incr *ci, const struct hs_chk_windows *w)
{
	for (size_t k = 0; k < w->nr; k++) {
		size_t i = hs_snap_lower(ci->cover, ci->nr_cover, sizeof(*ci->cover),
					 offsetof(struct hs_snap_cover, end), w->w[k].start);
		if (i < ci->nr_cover && ci->cover[i].start < w->w[k].end)
			return true;
	}
	return false;
}

/*
 * The guest rules read the guest stage 2s, the VM table, the host stage 2
 * and the vmemmap under guest mappings, every GUEST annotation, the share
 * counts and the EL2 leaves over guest mappings. A change anywhere else
 * (a page no guest maps, whose share count is and was 0, and no GUEST
 * annotation) leaves their result as it was.
 */
static bool guests_affected(const struct hs_check_incr *ci, const struct hs_chk_changes *ch)
{
	return ch->guests || ch->shares || ch->guest_annots || (ch->s1.nr && ci->nr_cover) ||
	       cover_meets(ci, &ch->s2) || cover_meets(ci, &ch->vm);
}

/* ---- pools ------------------------------------------------------------------------ */

/* Forget the written pages' contents; did anything the pool's rules read change? */
static bool pool_dirty(struct hs_check_incr *ci, struct hs_chk_pool *p, const uint64_t *pages,
		       size_t nr)
{
	bool dirty = !hs_chk_pool_same(ci->m, p);
	if (!p->npages)
		return dirty;
	for (size_t i = 0; i < nr; i++) {
		if (pages[i] < p->rs || pages[i] >= p->re)
			continue;
		hs_chk_pool_forget(p, pages[i]);
		dirty |= hs_chk_pool_read(p, pages[i]);
	}
	return dirty || hs_chk_windows_meet(&ci->ch.vm, p->rs, p->re);
}

/* ---- the whole report ------------------------------------------------------------ */

/* The groups, concatenated in hs_check_snapshot()'s order. */
static int assemble(struct hs_check_incr *ci, struct hs_check_report *rep)
{
	const struct hs_snapshot *s = hs_chk_state_snapshot(ci->st);
	const struct hs_check_report *g[HS_MAX_MEMBLOCK_REGIONS + 7];
	size_t ng = 0, total = 0;
	for (unsigned i = 0; i < s->nr_mem; i++)
		g[ng++] = &ci->pages[i];
	g[ng++] = &ci->el2;
	g[ng++] = &ci->sweep;
	g[ng++] = &ci->tables;
	g[ng++] = &ci->guests;
	g[ng++] = &ci->pool_rep[0];
	g[ng++] = &ci->pool_rep[1];
	bool exact = true;
	for (size_t i = 0; i < ng; i++) {
		total += g[i]->total;
		exact &= g[i]->nr == g[i]->total;
	}
	if (!exact || total > HS_CHECK_MAX_STORED)
		/* past the storage limit the full check decides what is kept: let it */
		return hs_check_snapshot(ci->m, s, rep);
	clear(rep);
	for (size_t i = 0; i < ng; i++)
		if (append(rep, g[i]->v, 0, g[i]->nr))
			return hs_check_snapshot(ci->m, s, rep);
	for (unsigned i = 0; i < s->nr_mem; i++)
		rep->pages_checked += s->mem[i].size >> HS_PAGE_SHIFT;
	rep->tables_checked = ci->tables.tables_checked;
	rep->free_blocks_checked =
	    ci->pool_rep[0].free_blocks_checked + ci->pool_rep[1].free_blocks_checked;
	return (int)rep->total;
}

static int full(struct hs_check_incr *ci, struct hs_check_report *rep, const char *why)
{
	ci->valid = false;
	ci->stats.full++;
	ci->stats.last_full = true;
	ci->stats.last_why = why;
	struct hs_error err = {0};
	int rc = hs_chk_state_rebuild(ci->st, &err);
	if (rc) {
		clear(rep);
		hs_chk_report(rep, "check-error", 0, 0, 0, "%s", err.msg);
		return rc;
	}
	const struct hs_snapshot *s = hs_chk_state_snapshot(ci->st);
	clear(rep);
	if ((rc = hs_chk_booted(s, rep)))
		return rc;
	for (unsigned g = 0; g < s->nr_mem; g++) {
		clear(&ci->pages[g]);
		hs_chk_pages(s, s->mem[g].base, s->mem[g].base + s->mem[g].size, &ci->pages[g]);
	}
	if (el2_all(ci, s))
		return hs_check_snapshot(ci->m, s, rep);
	clear(&ci->sweep);
	hs_chk_sweep(s, &ci->sweep);
	clear(&ci->tables);
	hs_chk_tables(s, &ci->tables);
	if (guests_all(ci, s))
		return hs_check_snapshot(ci->m, s, rep);
	for (unsigned i = 0; i < 2; i++) {
		/* whatever the log missed may have changed the pages: start from nothing */
		hs_chk_pool_free(&ci->pool[i]);
		clear(&ci->pool_rep[i]);
		hs_chk_pool_run(ci->m, s, &ci->pool[i], &ci->pool_rep[i]);
	}
	/* before the boot is done the host model writes memory itself: no baseline yet */
	ci->valid = !hs_chk_state_why(ci->st) && hs_machine_booted(ci->m);
	return assemble(ci, rep);
}

int hs_check_incr(struct hs_check_incr *ci, struct hs_check_report *rep)
{
	struct hs_write_log_pages wp;
	hs_write_log_take(ci->log, &wp);
	ci->stats.checks++;
	ci->stats.pages += wp.nr;
	if (!ci->valid)
		return full(ci, rep,
			    !hs_machine_booted(ci->m)  ? "the boot is not done"
			    : hs_chk_state_why(ci->st) ? hs_chk_state_why(ci->st)
						       : "first check");
	if (wp.lost)
		return full(ci, rep, wp.lost);
	if (hs_chk_state_update(ci->st, wp.pa, wp.nr, &ci->ch))
		return full(ci, rep, hs_chk_state_why(ci->st));
	const struct hs_snapshot *s = hs_chk_state_snapshot(ci->st);
	for (unsigned i = 0; i < 2; i++) {
		if (!pool_dirty(ci, &ci->pool[i], wp.pa, wp.nr))
			continue;
		clear(&ci->pool_rep[i]);
		hs_chk_pool_run(ci->m, s, &ci->pool[i], &ci->pool_rep[i]);
	}
	const struct hs_chk_changes *ch = &ci->ch;
	if (!hs_chk_changes_none(ch)) {
		/* the page rules read the host stage 2 and the vmemmap */
		struct hs_chk_windows *w = &ci->changed;
		int rc = 0;
		w->nr = 0;
		for (size_t i = 0; i < ch->s2.nr; i++)
			rc |= hs_chk_windows_add(w, ch->s2.w[i].start, ch->s2.w[i].end);
		for (size_t i = 0; i < ch->vm.nr; i++)
			rc |= hs_chk_windows_add(w, ch->vm.w[i].start, ch->vm.w[i].end);
		hs_chk_windows_normalise(w);
		for (unsigned g = 0; !rc && g < s->nr_mem; g++)
			rc = pages_update(ci, s, g, w);
		if (rc || ((ch->s1.nr || ch->vm.nr) && el2_update(ci, s)))
			return full(ci, rep, "out of memory");
		if (ch->s1.nr || ch->s2.nr || ch->vm.nr) {
			clear(&ci->sweep);
			hs_chk_sweep(s, &ci->sweep);
		}
		if (ch->tables || ch->guests || vmemmap_of_a_table(s, &ch->vm)) {
			clear(&ci->tables);
			hs_chk_tables(s, &ci->tables);
		}
		if (guests_affected(ci, ch) && guests_all(ci, s))
			return full(ci, rep, "out of memory");
	}
	ci->stats.last_full = false;
	return assemble(ci, rep);
}
