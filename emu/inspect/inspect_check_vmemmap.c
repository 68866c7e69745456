/* SPDX-License-Identifier: MIT */
#include "inspect_check_vmemmap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "inspect_check_regime.h"

#define PAGE HS_PAGE_SIZE
#define PAGE_MASK (~(PAGE - 1))
#define ENTRIES (PAGE / HS_HYP_PAGE_SIZE)

static uint64_t entry_va(const struct hs_snapshot *s, uint64_t pa)
{
	return s->vmemmap_base + (pa >> HS_PAGE_SHIFT) * HS_HYP_PAGE_SIZE;
}

static void drop_copies(struct hs_chk_vmemmap *v)
{
	for (unsigned i = 0; i < (1u << HS_CHK_VCOPY_BITS); i++) {
		free(v->copy[i].copy);
		v->copy[i].copy = NULL;
	}
}

void hs_chk_vmemmap_free(struct hs_chk_vmemmap *v)
{
	drop_copies(v);
	free(v->back);
	free(v->todo.w);
	free(v->runs);
	free(v->sc.buf);
	memset(v, 0, sizeof(*v));
}

int hs_chk_vmemmap_index(struct hs_chk_vmemmap *v, const struct hs_snapshot *s)
{
	const struct hs_snap_pt_range *r = s->pt[HS_SNAP_HYP_S1];
	v->nr_back = 0;
	drop_copies(v); /* a page may now back other entries */
	for (unsigned g = 0; g < s->nr_mem; g++) {
		uint64_t va0 = entry_va(s, s->mem[g].base) & PAGE_MASK;
		uint64_t va1 =
		    (entry_va(s, s->mem[g].base + s->mem[g].size) + PAGE - 1) & PAGE_MASK;
		for (size_t i = 0; i < s->nr_pt[HS_SNAP_HYP_S1]; i++) {
			if (r[i].kind != HS_SNAP_LEAF || r[i].end <= va0 || r[i].start >= va1)
				continue;
			uint64_t a = r[i].start > va0 ? r[i].start : va0;
			uint64_t b = r[i].end < va1 ? r[i].end : va1;
			if (hs_snap_grow((void **)&v->back, &v->cap_back, v->nr_back + 1,
					 sizeof(*v->back)))
				return -ENOMEM;
			uint64_t pa = r[i].oa + (a - r[i].start);
			v->back[v->nr_back++] = (struct hs_chk_backing){pa, pa + (b - a), a};
		}
	}
	return 0;
}

int hs_chk_vmemmap_remapped(struct hs_chk_vmemmap *v, const struct hs_snapshot *s, uint64_t va,
			    uint64_t va_end)
{
	for (unsigned g = 0; g < s->nr_mem; g++) {
		uint64_t base = s->mem[g].base, end = base + s->mem[g].size;
		uint64_t va0 = entry_va(s, base), va1 = entry_va(s, end);
		uint64_t a = va > va0 ? va : va0, b = va_end < va1 ? va_end : va1;
		if (a >= b)
			continue;
		uint64_t p0 = (a - s->vmemmap_base) / HS_HYP_PAGE_SIZE;
		uint64_t p1 = (b - s->vmemmap_base + HS_HYP_PAGE_SIZE - 1) / HS_HYP_PAGE_SIZE;
		if (hs_chk_windows_add(&v->todo, p0 << HS_PAGE_SHIFT, p1 << HS_PAGE_SHIFT))
			return -ENOMEM;
	}
	return 0;
}

struct written {
	struct hs_chk_vmemmap *v;
	const struct hs_snapshot *s;
	uint64_t pa;
	const uint64_t *now;
	uint64_t *copy; /* kept up to date run by run */
};

/* Entries [i, j) of the written page changed: through every VA the page backs. */
static int entries_changed(void *arg, uint64_t i, uint64_t j)
{
	struct written *w = arg;
	if (w->copy)
		memcpy(w->copy + i, w->now + i, (j - i) * sizeof(*w->copy));
	for (size_t k = 0; k < w->v->nr_back; k++) {
		const struct hs_chk_backing *b = &w->v->back[k];
		if (w->pa < b->pa || w->pa >= b->end)
			continue;
		uint64_t va = b->va + (w->pa - b->pa);
		if (hs_chk_vmemmap_remapped(w->v, w->s, va + i * HS_HYP_PAGE_SIZE,
					    va + j * HS_HYP_PAGE_SIZE))
			return -ENOMEM;
	}
	return 0;
}

int hs_chk_vmemmap_written(struct hs_chk_vmemmap *v, struct hs_machine *m,
			   const struct hs_snapshot *s, uint64_t pa)
{
	bool backs = false;
	for (size_t k = 0; k < v->nr_back && !backs; k++)
		backs = pa >= v->back[k].pa && pa < v->back[k].end;
	const uint64_t *now = hs_phys_ptr(m, pa, PAGE);
	if (!backs || !now)
		return 0;
	unsigned slot =
	    (unsigned)(((pa >> HS_PAGE_SHIFT) * 0x9E3779B97F4A7C15ULL) >> (64 - HS_CHK_VCOPY_BITS));
	uint64_t **copy = &v->copy[slot].copy;
	struct written w = {v, s, pa, now, NULL};
	if (*copy && v->copy[slot].pa == pa) {
		w.copy = *copy;
		return hs_chk_diff_words(now, *copy, ENTRIES, entries_changed, &w);
	}
	/* not kept (or another page's slot): read all of it, keep it from now on */
	int rc = entries_changed(&w, 0, ENTRIES);
	if (rc)
		return rc;
	if (!*copy && !(*copy = malloc(PAGE)))
		return -ENOMEM;
	v->copy[slot].pa = pa;
	memcpy(*copy, now, PAGE);
	return 0;
}

/* ---- update -------------------------------------------------------------------- */

/*
 * Where the runs just read (v->runs over [ws, we)) differ from the snapshot's;
 * *shares: some of those pages count guest shares, before or after.
 */
static int changes(const struct hs_chk_vmemmap *v, const struct hs_snapshot *s, uint64_t ws,
		   uint64_t we, struct hs_chk_windows *out, bool *shares)
{
	const struct hs_snap_vm_range *a = s->vm;
	size_t na = s->nr_vm, i = hs_snap_vm_lower(s, ws), k = 0;
	uint64_t pos = ws;
	while (pos < we) {
		while (i < na && a[i].end <= pos)
			i++;
		while (k < v->nr_runs && v->runs[k].end <= pos)
			k++;
		const struct hs_snap_vm_range *x = i < na && a[i].start <= pos ? &a[i] : NULL;
		const struct hs_snap_vm_range *y =
		    k < v->nr_runs && v->runs[k].start <= pos ? &v->runs[k] : NULL;
		uint64_t end = we;
		if (x && x->end < end)
			end = x->end;
		if (!x && i < na && a[i].start < end)
			end = a[i].start;
		if (y && y->end < end)
			end = y->end;
		if (!y && k < v->nr_runs && v->runs[k].start < end)
			end = v->runs[k].start;
		bool same = (!x && !y) || (x && y && x->val == y->val && x->backed == y->backed);
		if (!same && hs_chk_windows_add(out, pos, end))
			return -ENOMEM;
		if (!same && ((x && HS_VM_SHARES(x->val)) || (y && HS_VM_SHARES(y->val))))
			*shares = true;
		pos = end;
	}
	return 0;
}

/* Runs are per-page values: any piece of one is exact. */
static int cut_run(void *ctx, const void *r, uint64_t at, uint64_t end, void *out)
{
	struct hs_snap_vm_range p;
	(void)ctx;
	memcpy(&p, r, sizeof(p));
	p.start = at;
	p.end = end;
	memcpy(out, &p, sizeof(p));
	return 0;
}

static bool merge_run(void *l, const void *r)
{
	struct hs_snap_vm_range *a = l;
	const struct hs_snap_vm_range *b = r;
	if (a->end != b->start || a->val != b->val || a->backed != b->backed)
		return false;
	a->end = b->end;
	return true;
}

int hs_chk_vmemmap_update(struct hs_chk_vmemmap *v, struct hs_machine *m, struct hs_snapshot *s,
			  struct hs_chk_windows *changed, bool *shares)
{
	const struct hs_chk_array runs = {
	    .v = (void **)&s->vm, .nr = &s->nr_vm, .cap = &s->cap_vm, .size = sizeof(*s->vm)};
	const struct hs_chk_splice_ops ops = {.cut = cut_run, .merge = merge_run};
	hs_chk_windows_normalise(&v->todo);
	for (size_t w = 0; w < v->todo.nr; w++) {
		for (unsigned g = 0; g < s->nr_mem; g++) {
			uint64_t base = s->mem[g].base, end = base + s->mem[g].size;
			uint64_t a = v->todo.w[w].start > base ? v->todo.w[w].start : base;
			uint64_t b = v->todo.w[w].end < end ? v->todo.w[w].end : end;
			if (a >= b)
				continue;
			size_t before = changed->nr;
			if (hs_snapshot_read_vmemmap_part(m, s, a, b - a, &v->runs, &v->nr_runs,
							  &v->cap_runs) ||
			    changes(v, s, a, b, changed, shares))
				return -ENOMEM;
			if (changed->nr != before &&
			    hs_chk_splice(&runs, a, b, v->runs, v->nr_runs, &ops, &v->sc, NULL))
				return -ENOMEM;
		}
	}
	v->todo.nr = 0;
	hs_chk_windows_normalise(changed);
	return 0;
}
