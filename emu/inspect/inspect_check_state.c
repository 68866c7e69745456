/* SPDX-License-Identifier: MIT */
#include "inspect_check_state.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "hyp_state.h"
#include "inspect_check_regime.h"
#include "inspect_check_vmemmap.h"

enum { RG_S1, RG_S2, RG_GUEST0 }; /* the regimes in the snapshot's table order */

/* Every table page of every regime, by address. */
struct table_ref {
	uint64_t pa;
	uint32_t rg, t;
};

struct hs_chk_state {
	struct hs_machine *m;
	struct hs_snapshot s;
	const char *why;  /* NULL: the snapshot can be updated in place */
	uint64_t regs[6]; /* CPU 0's SCTLR/TCR/TTBR0/MAIR_EL2, VTCR/VTTBR_EL2 */
	bool mem_syms, vm_table_sym;
	uint64_t mem_pa, mem_nr_pa, vm_table_pa;
	struct hs_chk_regime *rg;
	size_t nr_rg, cap_rg;
	struct table_ref *ti;
	size_t nr_ti, cap_ti;
	struct hs_chk_vmemmap vmemmap;
	struct hs_chk_walk walk;
	struct hs_chk_windows raw;
};

#define GROW(arr, cap, need) hs_snap_grow((void **)&(arr), &(cap), (need), sizeof(*(arr)))

/* ---- changes ------------------------------------------------------------------ */

void hs_chk_changes_init(struct hs_chk_changes *ch)
{
	memset(ch, 0, sizeof(*ch));
}

void hs_chk_changes_free(struct hs_chk_changes *ch)
{
	free(ch->s2.w);
	free(ch->s1.w);
	free(ch->vm.w);
	hs_chk_changes_init(ch);
}

bool hs_chk_changes_none(const struct hs_chk_changes *ch)
{
	return !ch->s2.nr && !ch->s1.nr && !ch->vm.nr && !ch->tables && !ch->guests;
}

/* Does a GUEST annotation of the host stage 2 meet one of the windows? */
static bool guest_annot_in(const struct hs_snapshot *s, const struct hs_chk_windows *w)
{
	const struct hs_snap_pt_range *a = s->pt[HS_SNAP_HOST_S2];
	size_t n = s->nr_pt[HS_SNAP_HOST_S2];
	for (size_t k = 0; k < w->nr; k++)
		for (size_t i = hs_snap_pt_lower(a, n, w->w[k].start);
		     i < n && a[i].start < w->w[k].end; i++)
			if (a[i].kind == HS_SNAP_ANNOT && a[i].owner == HS_OWNER_GUEST)
				return true;
	return false;
}

/* ---- what is re-read every time ---------------------------------------------------- */

static void read_regs(struct hs_machine *m, uint64_t regs[6])
{
	static const enum hs_sysreg which[4] = {HS_SR_SCTLR_EL2, HS_SR_TCR_EL2, HS_SR_TTBR0_EL2,
						HS_SR_MAIR_EL2};
	for (unsigned i = 0; i < 4; i++) {
		regs[i] = 0;
		hs_cpu_sysreg(m, 0, which[i], &regs[i]);
	}
	/* The host stage 2 as hs_snapshot_take() finds it. */
	hs_host_s2_regs(m, 0, &regs[4], &regs[5]);
}

/* The memory regions as hs_snapshot_take() reads them, compared with the snapshot's. */
static bool regions_same(struct hs_chk_state *st)
{
	const struct hs_snapshot *s = &st->s;
	struct hs_memblock_region mem[HS_MAX_MEMBLOCK_REGIONS];
	uint32_t nr = 0;
	if (st->mem_syms && !hs_phys_read(st->m, st->mem_nr_pa, &nr, sizeof(nr), NULL) && nr > 0 &&
	    nr <= HS_MAX_MEMBLOCK_REGIONS &&
	    !hs_phys_read(st->m, st->mem_pa, mem, nr * sizeof(mem[0]), NULL))
		return nr == s->nr_mem && !memcmp(mem, s->mem, nr * sizeof(mem[0]));
	const struct hs_machine_opts *o = hs_machine_opts(st->m);
	return s->nr_mem == 1 && s->mem[0].base == o->ram_base && s->mem[0].size == o->ram_size;
}

static bool el2_va_pa(const struct hs_snapshot *s, uint64_t va, uint64_t *pa)
{
	const struct hs_snap_pt_range *r = hs_snap_pt_find(s, HS_SNAP_HYP_S1, va);
	if (!r || r->kind != HS_SNAP_LEAF)
		return false;
	*pa = r->oa + (va - r->start);
	return true;
}

/*
 * The VM table and every VM's header, read as hs_snapshot_take() reads them
 * (through the EL2 stage 1 now in the snapshot), compared with the snapshot's
 * guests: equal means the guests' regimes and error messages are still right.
 */
static bool guests_same(struct hs_chk_state *st)
{
	const struct hs_snapshot *s = &st->s;
	struct hs_machine *m = st->m;
	uint64_t table_va = 0, table_pa;
	bool have = st->vm_table_sym &&
		    !hs_phys_read(m, st->vm_table_pa, &table_va, sizeof(table_va), NULL);
	if (have != s->have_guests)
		return false;
	if (!have || !table_va)
		return !s->nr_guests;
	uint64_t slots[HS_MAX_VMS];
	if (!el2_va_pa(s, table_va, &table_pa) ||
	    hs_phys_read(m, table_pa, slots, sizeof(slots), NULL))
		return s->nr_guests == 1 && s->guests[0].slot == ~0u &&
		       s->guests[0].vm_va == table_va;
	size_t k = 0;
	for (unsigned i = 0; i < HS_MAX_VMS; i++) {
		if (!slots[i])
			continue;
		if (k == s->nr_guests)
			return false;
		const struct hs_snap_guest *g = &s->guests[k++];
		if (g->slot != i || g->vm_va != slots[i])
			return false;
		uint64_t pa = 0;
		struct hs_vm_layout abi;
		bool mapped =
		    el2_va_pa(s, slots[i], &pa) && !hs_phys_read(m, pa, &abi, sizeof(abi), NULL);
		if (!mapped)
			return !g->ok && !g->vm_pa;
		if (pa != g->vm_pa || memcmp(&abi, &g->abi, sizeof(abi)))
			return false;
	}
	return k == s->nr_guests;
}

/* ---- table pages ------------------------------------------------------------------ */

static int cmp_ref(const void *a, const void *b)
{
	const struct table_ref *x = a, *y = b;
	return x->pa < y->pa ? -1 : x->pa > y->pa;
}

/*
 * The snapshot's table list from the regimes' tables (their order is the
 * walks') and, when tables came or went (index), the address index.
 */
static int rebuild_tables(struct hs_chk_state *st, bool index)
{
	struct hs_snapshot *s = &st->s;
	size_t n = 0, k = 0;
	for (size_t i = 0; i < st->nr_rg; i++)
		n += st->rg[i].nr_t;
	if (GROW(s->tables, s->cap_tables, n) || GROW(st->ti, st->cap_ti, n))
		return -ENOMEM;
	for (size_t i = 0; i < st->nr_rg; i++) {
		const struct hs_chk_regime *rg = &st->rg[i];
		for (size_t j = 0; j < rg->nr_t; j++, k++) {
			const struct hs_chk_table *t = &rg->t[j];
			s->tables[k] = (struct hs_snap_table_page){.pa = t->pa,
								   .live = t->live,
								   .level = t->level,
								   .table = (uint8_t)rg->table,
								   .guest = rg->guest};
			if (index)
				st->ti[k] = (struct table_ref){t->pa, (uint32_t)i, (uint32_t)j};
		}
	}
	s->nr_tables = n;
	if (index) {
		st->nr_ti = n;
		qsort(st->ti, n, sizeof(*st->ti), cmp_ref);
	}
	return 0;
}

/* Rebuilt from the regimes, the table list must be the one the snapshot's walker made. */
static bool tables_agree(struct hs_chk_state *st)
{
	struct hs_snapshot *s = &st->s;
	size_t n = s->nr_tables;
	struct hs_snap_table_page *seen = malloc((n ? n : 1) * sizeof(*seen));
	if (!seen)
		return false;
	if (n)
		memcpy(seen, s->tables, n * sizeof(*seen));
	bool same = !rebuild_tables(st, true) && s->nr_tables == n;
	for (size_t k = 0; same && k < n; k++)
		same = seen[k].pa == s->tables[k].pa && seen[k].live == s->tables[k].live &&
		       seen[k].level == s->tables[k].level && seen[k].table == s->tables[k].table &&
		       seen[k].guest == s->tables[k].guest;
	if (!same) {
		if (n)
			memcpy(s->tables, seen, n * sizeof(*seen));
		s->nr_tables = n;
	}
	free(seen);
	return same;
}

/* ---- rebuild --------------------------------------------------------------------- */

int hs_chk_state_new(struct hs_machine *m, struct hs_chk_state **out, struct hs_error *err)
{
	struct hs_chk_state *st = calloc(1, sizeof(*st));
	if (!st)
		return hs_err(err, -ENOMEM, "checker: out of memory");
	st->m = m;
	hs_snapshot_init(&st->s);
	st->why = "no snapshot taken yet";
	*out = st;
	return 0;
}

static void drop_regimes(struct hs_chk_state *st)
{
	for (size_t i = 0; i < st->nr_rg; i++)
		hs_chk_regime_free(&st->rg[i]);
	st->nr_rg = 0;
}

void hs_chk_state_free(struct hs_chk_state *st)
{
	if (!st)
		return;
	drop_regimes(st);
	free(st->rg);
	free(st->ti);
	hs_chk_vmemmap_free(&st->vmemmap);
	hs_chk_walk_free(&st->walk);
	free(st->raw.w);
	hs_snapshot_free(&st->s);
	free(st);
}

static bool add_regime(struct hs_chk_state *st, enum hs_snap_table table, uint16_t guest,
		       const struct hs_pt_regime *r, struct hs_snap_pt_range **pt, size_t *nr,
		       size_t *cap)
{
	if (GROW(st->rg, st->cap_rg, st->nr_rg + 1))
		return false;
	st->rg[st->nr_rg++] = (struct hs_chk_regime){
	    .table = table, .guest = guest, .r = r, .pt = pt, .nr_pt = nr, .cap_pt = cap};
	return true;
}

/* Index the snapshot just taken; the reason it cannot be updated in place, or NULL. */
static const char *index_all(struct hs_chk_state *st)
{
	struct hs_snapshot *s = &st->s;
	if (!s->have_s1 || !s->have_s2 || !s->have_vm)
		return "the machine is not booted to a protected host";
	for (unsigned g = 1; g < s->nr_mem; g++)
		if (s->mem[g].base < s->mem[g - 1].base + s->mem[g - 1].size)
			return "memory regions out of order";
	bool ok = add_regime(st, HS_SNAP_HYP_S1, 0, &s->s1, &s->pt[HS_SNAP_HYP_S1],
			     &s->nr_pt[HS_SNAP_HYP_S1], &s->cap_pt[HS_SNAP_HYP_S1]) &&
		  add_regime(st, HS_SNAP_HOST_S2, 0, &s->s2, &s->pt[HS_SNAP_HOST_S2],
			     &s->nr_pt[HS_SNAP_HOST_S2], &s->cap_pt[HS_SNAP_HOST_S2]);
	for (size_t i = 0; ok && i < s->nr_guests; i++) {
		struct hs_snap_guest *g = &s->guests[i];
		if (g->ok)
			ok = add_regime(st, HS_SNAP_GUEST_S2, (uint16_t)i, &g->r, &g->pt, &g->nr_pt,
					&g->cap_pt);
	}
	if (!ok)
		return "out of memory";
	for (size_t i = 0; i < st->nr_rg; i++) {
		const char *why = hs_chk_regime_index(&st->rg[i], st->m, &st->walk);
		if (why)
			return why;
	}
	if (!tables_agree(st))
		return "the table index disagrees with the snapshot";
	if (hs_chk_vmemmap_index(&st->vmemmap, s))
		return "out of memory";
	/* symbol lookups cost more than the reads: once per snapshot */
	st->mem_syms = !hs_sym_pa(st->m, "hyp_memory", &st->mem_pa, NULL) &&
		       !hs_sym_pa(st->m, "hyp_memblock_nr", &st->mem_nr_pa, NULL);
	st->vm_table_sym = !hs_sym_pa(st->m, "hyp_vm_table", &st->vm_table_pa, NULL);
	return NULL;
}

int hs_chk_state_rebuild(struct hs_chk_state *st, struct hs_error *err)
{
	drop_regimes(st);
	st->nr_ti = 0;
	read_regs(st->m, st->regs);
	int rc = hs_snapshot_take(st->m, HS_SNAP_F_TABLES, &st->s, err);
	if (rc) {
		st->why = "no snapshot";
		return rc;
	}
	st->why = index_all(st);
	return 0;
}

/* ---- update ------------------------------------------------------------------------ */

/* The first table reference at pa or above (pa > 0: RAM never starts at 0). */
static size_t first_ref(const struct hs_chk_state *st, uint64_t pa)
{
	return hs_snap_lower(st->ti, st->nr_ti, sizeof(*st->ti), offsetof(struct table_ref, pa),
			     pa - 1);
}

/* A written page: the table entries and vmemmap entries it may have changed. */
static int classify(struct hs_chk_state *st, uint64_t pa)
{
	for (size_t k = first_ref(st, pa); k < st->nr_ti && st->ti[k].pa == pa; k++)
		if (hs_chk_regime_written(&st->rg[st->ti[k].rg], st->m, st->ti[k].t))
			return -ENOMEM;
	return hs_chk_vmemmap_written(&st->vmemmap, st->m, &st->s, pa);
}

static int fail(struct hs_chk_state *st, const char *why)
{
	st->why = why;
	return 1;
}

int hs_chk_state_update(struct hs_chk_state *st, const uint64_t *pages, size_t nr,
			struct hs_chk_changes *ch)
{
	ch->s2.nr = ch->s1.nr = ch->vm.nr = 0;
	ch->tables = ch->guests = ch->shares = ch->guest_annots = false;
	if (st->why)
		return 1;
	uint64_t regs[6];
	read_regs(st->m, regs);
	if (memcmp(regs, st->regs, sizeof(regs)))
		return fail(st, "CPU 0's translation registers changed");
	if (!regions_same(st))
		return fail(st, "the memory regions changed");
	for (size_t i = 0; i < st->nr_rg; i++)
		st->rg[i].moved = st->rg[i].live = false;
	for (size_t i = 0; i < nr; i++)
		if (classify(st, pages[i]))
			return fail(st, "out of memory");
	/* the EL2 stage 1 first: the vmemmap and the VM table are read through it */
	const char *why;
	st->raw.nr = 0;
	if ((why = hs_chk_regime_update(&st->rg[RG_S1], st->m, &st->walk, &st->raw, &ch->s1)))
		return fail(st, why);
	if (st->raw.nr) {
		if (hs_chk_vmemmap_index(&st->vmemmap, &st->s))
			return fail(st, "out of memory");
		for (size_t i = 0; i < st->raw.nr; i++)
			if (hs_chk_vmemmap_remapped(&st->vmemmap, &st->s, st->raw.w[i].start,
						    st->raw.w[i].end))
				return fail(st, "out of memory");
	}
	if (!guests_same(st))
		return fail(st, "the VM table or a VM's header changed");
	/* GUEST annotations the host stage-2 changes touch, before and after */
	ch->guest_annots = guest_annot_in(&st->s, &st->rg[RG_S2].dirty);
	if ((why = hs_chk_regime_update(&st->rg[RG_S2], st->m, &st->walk, &ch->s2, NULL)))
		return fail(st, why);
	ch->guest_annots |= guest_annot_in(&st->s, &ch->s2);
	bool moved = false, live = false;
	for (size_t i = 0; i < st->nr_rg; i++) {
		struct hs_chk_regime *rg = &st->rg[i];
		if (i >= RG_GUEST0) {
			ch->guests |= rg->dirty.nr != 0;
			if ((why = hs_chk_regime_update(rg, st->m, &st->walk, NULL, NULL)))
				return fail(st, why);
		}
		moved |= rg->moved;
		live |= rg->live;
	}
	if ((moved || live) && rebuild_tables(st, moved))
		return fail(st, "out of memory");
	ch->tables = moved || live;
	if (hs_chk_vmemmap_update(&st->vmemmap, st->m, &st->s, &ch->vm, &ch->shares))
		return fail(st, "out of memory");
	hs_chk_windows_normalise(&ch->s1);
	hs_chk_windows_normalise(&ch->s2);
	st->s.icount = hs_machine_icount(st->m);
	return 0;
}

const char *hs_chk_state_why(const struct hs_chk_state *st)
{
	return st->why;
}

const struct hs_snapshot *hs_chk_state_snapshot(const struct hs_chk_state *st)
{
	return &st->s;
}
