// SPDX-License-Identifier: MIT
/*
 * The hyp's generic page-table code (EL2 stage 1, host and guest stage 2).
 * See hyp/pgtable.h for the rules it keeps. Structure after Linux's
 * arch/arm64/kvm/hyp/pgtable.c: one walker, one visitor per operation.
 */
#include <hyp/arch.h>
#include <hyp/pgtable.h>

/* pgt_map_data.phys when the map visitor writes annotations, not leaves. */
#define PGT_NO_PHYS (~0UL)

struct pgt_walk_data {
	struct pgt_walker *walker;
	struct hyp_mm_ops *mm_ops;
	u64 addr;
	u64 end;
};

static u64 pgt_idx(u64 addr, s8 level)
{
	return (addr >> pgt_level_shift(level)) & (PGT_PTRS_PER_TABLE - 1);
}

static int walk_table(struct pgt_walk_data *data, u64 *table, s8 level);

/* Call the visitor for one entry at addr; the context lives only for this call. */
static int visit(struct pgt_walk_data *data, u64 *ptep, u64 old, s8 level, unsigned flag, u64 addr)
{
	struct pgt_visit_ctx ctx = {
	    .ptep = ptep,
	    .old = old,
	    .addr = addr,
	    .end = data->end,
	    .level = level,
	    .flags = flag,
	    .arg = data->walker->arg,
	    .mm_ops = data->mm_ops,
	};
	return data->walker->cb(&ctx);
}

static int walk_entry(struct pgt_walk_data *data, u64 *ptep, s8 level)
{
	struct pgt_walker *walker = data->walker;
	u64 old = READ_ONCE(*ptep);
	bool table = pte_is_table(old, level);
	/* The walk below moves data->addr past this entry: its post visit must not see that. */
	u64 addr = data->addr;
	int ret = 0;

	/*
	 * The visitor context is built only when a visitor runs: every store
	 * costs tens of nanoseconds under emulation, and most entries on the
	 * way down are tables nobody asked to see.
	 */
	if (table && (walker->flags & PGT_WALK_TABLE_PRE))
		ret = visit(data, ptep, old, level, PGT_WALK_TABLE_PRE, addr);
	else if (!table && (walker->flags & PGT_WALK_LEAF))
		ret = visit(data, ptep, old, level, PGT_WALK_LEAF, addr);
	if (ret)
		return ret;

	/* The visitor may have replaced the entry, e.g. split a block. */
	old = READ_ONCE(*ptep);
	if (!pte_is_table(old, level)) {
		u64 granule = pgt_granule(level);
		data->addr = ALIGN_DOWN(data->addr, granule) + granule;
		return 0;
	}

	ret = walk_table(data, data->mm_ops->phys_to_virt(pte_to_phys(old)), level + 1);
	if (ret)
		return ret;

	if (walker->flags & PGT_WALK_TABLE_POST)
		ret = visit(data, ptep, old, level, PGT_WALK_TABLE_POST, addr);
	return ret;
}

static int walk_table(struct pgt_walk_data *data, u64 *table, s8 level)
{
	u64 idx;
	int ret;

	if (WARN_ON(level >= PGT_MAX_LEVELS))
		return -EINVAL;

	for (idx = pgt_idx(data->addr, level); idx < PGT_PTRS_PER_TABLE; idx++) {
		if (data->addr >= data->end)
			break;
		ret = walk_entry(data, &table[idx], level);
		if (ret)
			return ret;
	}
	return 0;
}

int pgt_walk(struct hyp_pgtable *pgt, u64 addr, u64 size, struct pgt_walker *walker)
{
	struct pgt_walk_data data = {
	    .walker = walker,
	    .mm_ops = pgt->mm_ops,
	};
	u64 limit = 1UL << pgt->ia_bits;
	unsigned root_shift = pgt_level_shift(pgt->start_level) + 9;
	u64 idx;
	int ret;

	if (size > limit || addr > limit - size)
		return -ERANGE;
	data.addr = ALIGN_DOWN(addr, HS_PAGE_SIZE);
	data.end = ALIGN(addr + size, HS_PAGE_SIZE);

	/* Concatenated roots: each root page covers one start-level table's span. */
	while (data.addr < data.end) {
		idx = root_shift >= 64 ? 0 : data.addr >> root_shift;
		if (WARN_ON(idx >= pgt->nr_root_pages))
			return -ERANGE;
		ret = walk_table(&data, pgt->pgd + idx * PGT_PTRS_PER_TABLE, pgt->start_level);
		if (ret)
			return ret;
	}
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Descriptors and policy                                                    */
/* ------------------------------------------------------------------------ */

u64 prot_to_pte(u8 stage, unsigned prot)
{
	bool device = prot & HS_PROT_DEVICE;
	u64 attr = PTE_ATTR_AF | PTE_ATTR_SH_IS | ((u64)pgt_prot_state(prot) << HS_PTE_STATE_SHIFT);

	if (prot & ~(PGT_PROT_ACCESS | PGT_PROT_STATE_MASK))
		return 0;
	/* Device memory is never executable (speculative fetches have side effects). */
	if (device && (prot & HS_PROT_X))
		return 0;

	switch (stage) {
	case HS_PGT_S1_EL2:
		/* EL2 has no "no access" encoding, and W^X is absolute for the hyp. */
		if (!(prot & HS_PROT_R))
			return 0;
		if ((prot & HS_PROT_W) && (prot & HS_PROT_X))
			return 0;
		attr |= (u64)(device ? PGT_MAIR_IDX_DEVICE : PGT_MAIR_IDX_NORMAL)
			<< PTE_ATTR_S1_ATTRIDX_SHIFT;
		attr |= (prot & HS_PROT_W) ? PTE_ATTR_S1_AP_RW : PTE_ATTR_S1_AP_RO;
		break;
	case HS_PGT_S2:
		attr |= device ? PTE_ATTR_S2_MEMATTR_DEVICE : PTE_ATTR_S2_MEMATTR_NORMAL;
		if (prot & HS_PROT_R)
			attr |= PTE_ATTR_S2_R;
		if (prot & HS_PROT_W)
			attr |= PTE_ATTR_S2_W;
		break;
	default:
		return 0;
	}
	if (!(prot & HS_PROT_X))
		attr |= PTE_ATTR_XN;
	return attr;
}

unsigned pte_to_prot(u8 stage, u64 pte)
{
	unsigned prot = PGT_PROT_STATE(pte_state(pte));

	if (!pte_valid(pte))
		return 0;
	if (!(pte & PTE_ATTR_XN))
		prot |= HS_PROT_X;

	switch (stage) {
	case HS_PGT_S1_EL2:
		prot |= HS_PROT_R;
		if ((pte & PTE_ATTR_S1_AP) == PTE_ATTR_S1_AP_RW)
			prot |= HS_PROT_W;
		if (((pte & PTE_ATTR_S1_ATTRIDX) >> PTE_ATTR_S1_ATTRIDX_SHIFT) ==
		    PGT_MAIR_IDX_DEVICE)
			prot |= HS_PROT_DEVICE;
		break;
	case HS_PGT_S2:
		if (pte & PTE_ATTR_S2_R)
			prot |= HS_PROT_R;
		if (pte & PTE_ATTR_S2_W)
			prot |= HS_PROT_W;
		if ((pte & PTE_ATTR_S2_MEMATTR) == PTE_ATTR_S2_MEMATTR_DEVICE)
			prot |= HS_PROT_DEVICE;
		break;
	default:
		return 0;
	}
	return prot;
}

/* Does @pte hold a reference on its table page? (see pgtable.h) */
static bool pte_counted(const struct hyp_pgtable *pgt, u64 pte)
{
	return pgt->stage == HS_PGT_S2 ? pte != 0 : pte_valid(pte);
}

static u64 make_leaf(u64 phys, u64 attr, s8 level)
{
	return phys | attr | PTE_VALID | (level == PGT_MAX_LEVELS - 1 ? PTE_TYPE : 0);
}

static u64 make_table(u64 phys)
{
	return phys | PTE_VALID | PTE_TYPE;
}

/* Does the walk cover all of the current entry's range? */
static bool ctx_covers_entry(const struct pgt_visit_ctx *ctx)
{
	u64 granule = pgt_granule(ctx->level);

	return IS_ALIGNED(ctx->addr, granule) && ctx->end - ctx->addr >= granule;
}

/* Invalidate every TLB (and walk-cache) entry translating @addr. */
static void pgt_tlb_flush_addr(const struct hyp_pgtable *pgt, u64 addr)
{
#ifndef HS_DEFECT_TLBI_BEFORE_DSB /* injected defect (tests/test_tlb_defects.c) */
	dsb(ishst);
#endif
	if (pgt->stage == HS_PGT_S1_EL2) {
		tlbi_vae2is(addr);
		dsb(ish);
	} else {
		/* IPA-based invalidation misses combined S1+S2 entries: drop those too. */
		tlbi_ipas2e1is(addr);
		dsb(ish);
		tlbi_vmalle1is();
		dsb(ish);
	}
	isb();
}

/* The "break" of break-before-make: zero the entry, then flush it out of the TLBs. */
static void pgt_break_pte(const struct pgt_visit_ctx *ctx, const struct hyp_pgtable *pgt)
{
	WRITE_ONCE(*ctx->ptep, 0);
	pgt_tlb_flush_addr(pgt, ALIGN_DOWN(ctx->addr, pgt_granule(ctx->level)));
}

/* Publish a table entry only once the table's contents are visible to walkers. */
static void pgt_set_table(u64 *ptep, u64 pte)
{
	dsb(ishst);
	WRITE_ONCE(*ptep, pte);
}

/*
 * Replace the valid block in ctx->old by a table of next-level leaves with
 * the same output and attributes, break-before-make. The walker then
 * descends into the new table, so the caller's operation continues at the
 * finer level.
 */
static int pgt_split_block(const struct pgt_visit_ctx *ctx, const struct hyp_pgtable *pgt)
{
	struct hyp_mm_ops *mm_ops = ctx->mm_ops;
	s8 child_level = ctx->level + 1;
	u64 granule = pgt_granule(child_level);
	u64 phys = pte_to_phys(ctx->old);
	u64 attr = ctx->old & PTE_LEAF_ATTRS;
	u64 *childp;
	u64 i;

	if (WARN_ON(ctx->level >= PGT_MAX_LEVELS - 1 || !pte_valid(ctx->old)))
		return -EINVAL;

	childp = mm_ops->zalloc_page(mm_ops->arg);
	if (!childp)
		return -ENOMEM;
	for (i = 0; i < PGT_PTRS_PER_TABLE; i++) {
		childp[i] = make_leaf(phys + i * granule, attr, child_level);
		mm_ops->get_page(childp);
	}

	/* valid -> valid: the parent's refcount does not change. */
#ifndef HS_DEFECT_REMAP_NO_BBM /* injected defect (tests/test_tlb_defects.c) */
	pgt_break_pte(ctx, pgt);
#else
	(void)pgt;
#endif
	pgt_set_table(ctx->ptep, make_table(mm_ops->virt_to_phys(childp)));
	return 0;
}

static bool pgt_addr_args_ok(u64 addr, u64 size)
{
	return IS_ALIGNED(addr, HS_PAGE_SIZE) && IS_ALIGNED(size, HS_PAGE_SIZE);
}

/* ------------------------------------------------------------------------ */
/* Map and set_owner                                                         */
/* ------------------------------------------------------------------------ */

struct pgt_map_data {
	const struct hyp_pgtable *pgt;
	u64 start; /* IA the walk started at: phys advances with it */
	u64 phys;  /* PGT_NO_PHYS: write @annotation instead of leaves */
	u64 attr;
	u64 annotation;
	bool force_pte; /* annotations live in page-level entries only */
};

static u64 map_phys(const struct pgt_visit_ctx *ctx, const struct pgt_map_data *data)
{
	return data->phys + (ctx->addr - data->start);
}

static bool map_leaf_allowed(const struct pgt_visit_ctx *ctx, const struct pgt_map_data *data)
{
	s8 level = ctx->level;

	if (level < PGT_MAX_LEVELS - 1 && (data->force_pte || level < 1))
		return false;
	if (!ctx_covers_entry(ctx))
		return false;
	if (data->phys != PGT_NO_PHYS && !IS_ALIGNED(map_phys(ctx, data), pgt_granule(level)))
		return false;
	return true;
}

static int map_write_leaf(const struct pgt_visit_ctx *ctx, const struct pgt_map_data *data)
{
	const struct hyp_pgtable *pgt = data->pgt;
	struct hyp_mm_ops *mm_ops = ctx->mm_ops;
	u64 old = ctx->old;
	u64 new;
	bool was_counted, now_counted;

	if (data->phys == PGT_NO_PHYS)
		new = data->annotation;
	else
		new = make_leaf(map_phys(ctx, data), data->attr, ctx->level);

	if (old == new)
		return 0;
	/* The MMU ignores the SW bits: the one in-place update of a live leaf. */
	if (pte_valid(old) && pte_valid(new) && !((old ^ new) & ~PTE_ATTR_SW)) {
		WRITE_ONCE(*ctx->ptep, new);
		return 0;
	}

	if (pte_valid(old))
		pgt_break_pte(ctx, pgt);

	was_counted = pte_counted(pgt, old);
	now_counted = pte_counted(pgt, new);
	WRITE_ONCE(*ctx->ptep, new);
	if (was_counted && !now_counted)
		mm_ops->put_page(ctx->ptep);
	else if (!was_counted && now_counted)
		mm_ops->get_page(ctx->ptep);
	return 0;
}

static int map_walker(const struct pgt_visit_ctx *ctx)
{
	const struct pgt_map_data *data = ctx->arg;
	struct hyp_mm_ops *mm_ops = ctx->mm_ops;
	u64 *childp;

	if (map_leaf_allowed(ctx, data))
		return map_write_leaf(ctx, data);

	/* A finer level is needed: the entry must become a table. */
	if (pte_valid(ctx->old))
		return pgt_split_block(ctx, data->pgt);
	/* Annotations only ever live at page level. */
	if (WARN_ON(ctx->old))
		return -EINVAL;

	childp = mm_ops->zalloc_page(mm_ops->arg);
	if (!childp)
		return -ENOMEM;
	pgt_set_table(ctx->ptep, make_table(mm_ops->virt_to_phys(childp)));
	mm_ops->get_page(ctx->ptep);
	return 0;
}

int pgt_map(struct hyp_pgtable *pgt, u64 addr, u64 size, u64 phys, unsigned prot)
{
	struct pgt_map_data data = {
	    .pgt = pgt,
	    .start = addr,
	    .phys = phys,
	    .attr = prot_to_pte(pgt->stage, prot),
	};
	struct pgt_walker walker = {
	    .cb = map_walker,
	    .arg = &data,
	    .flags = PGT_WALK_LEAF,
	};
	int ret;

	if (!data.attr || !pgt_addr_args_ok(addr, size) || !IS_ALIGNED(phys, HS_PAGE_SIZE))
		return -EINVAL;
	/* The output range must fit the 48-bit output address field. */
	if (phys > PTE_OA_MASK || size > PTE_OA_MASK + HS_PAGE_SIZE - phys)
		return -EINVAL;

	ret = pgt_walk(pgt, addr, size, &walker);
	/* Make the new entries visible to this CPU's next translations. */
	dsb(ishst);
	isb();
	return ret;
}

int pgt_set_owner(struct hyp_pgtable *pgt, u64 addr, u64 size, u64 annotation)
{
	struct pgt_map_data data = {
	    .pgt = pgt,
	    .start = addr,
	    .phys = PGT_NO_PHYS,
	    .annotation = annotation,
	    .force_pte = true,
	};
	struct pgt_walker walker = {
	    .cb = map_walker,
	    .arg = &data,
	    .flags = PGT_WALK_LEAF,
	};

	if (pgt->stage != HS_PGT_S2 || pte_valid(annotation) || !pgt_addr_args_ok(addr, size))
		return -EINVAL;
	/* Owner "host" is the empty entry: unmapping also frees the tables. */
	if (!annotation)
		return pgt_unmap(pgt, addr, size);
	return pgt_walk(pgt, addr, size, &walker);
}

/* ------------------------------------------------------------------------ */
/* Unmap                                                                     */
/* ------------------------------------------------------------------------ */

static int unmap_walker(const struct pgt_visit_ctx *ctx)
{
	const struct hyp_pgtable *pgt = ctx->arg;
	struct hyp_mm_ops *mm_ops = ctx->mm_ops;
	u64 *childp;

	if (ctx->flags == PGT_WALK_TABLE_POST) {
		/* Only the table's own reference left: nothing in it any more. */
		childp = mm_ops->phys_to_virt(pte_to_phys(ctx->old));
		if (mm_ops->page_count(childp) != 1)
			return 0;
#ifdef HS_DEFECT_FREE_TABLE_NO_TLBI /* injected defect (tests/test_tlb_defects.c) */
		WRITE_ONCE(*ctx->ptep, 0);
#else
		pgt_break_pte(ctx, pgt);
#endif
		mm_ops->put_page(ctx->ptep);
		mm_ops->put_page(childp);
		return 0;
	}

	if (!pte_counted(pgt, ctx->old))
		return 0;
	if (!pte_valid(ctx->old)) {
		/* An annotation: never in a TLB, just clear it. */
		WRITE_ONCE(*ctx->ptep, 0);
		mm_ops->put_page(ctx->ptep);
		return 0;
	}
	if (!ctx_covers_entry(ctx))
		return pgt_split_block(ctx, pgt);

#ifdef HS_DEFECT_UNMAP_NO_TLBI /* injected defect (tests/test_tlb_defects.c) */
	WRITE_ONCE(*ctx->ptep, 0);
#else
	pgt_break_pte(ctx, pgt);
#endif
	mm_ops->put_page(ctx->ptep);
	return 0;
}

int pgt_unmap(struct hyp_pgtable *pgt, u64 addr, u64 size)
{
	struct pgt_walker walker = {
	    .cb = unmap_walker,
	    .arg = pgt,
	    .flags = PGT_WALK_LEAF | PGT_WALK_TABLE_POST,
	};

	if (!pgt_addr_args_ok(addr, size))
		return -EINVAL;
	return pgt_walk(pgt, addr, size, &walker);
}

/* ------------------------------------------------------------------------ */
/* Lookups and in-place updates                                              */
/* ------------------------------------------------------------------------ */

struct pgt_leaf_data {
	u64 pte;
	s8 level;
};

static int get_leaf_walker(const struct pgt_visit_ctx *ctx)
{
	struct pgt_leaf_data *data = ctx->arg;

	data->pte = ctx->old;
	data->level = ctx->level;
	return 0;
}

int pgt_get_leaf(struct hyp_pgtable *pgt, u64 addr, u64 *pte, s8 *level)
{
	struct pgt_leaf_data data = {0};
	struct pgt_walker walker = {
	    .cb = get_leaf_walker,
	    .arg = &data,
	    .flags = PGT_WALK_LEAF,
	};
	int ret;

	ret = pgt_walk(pgt, ALIGN_DOWN(addr, HS_PAGE_SIZE), HS_PAGE_SIZE, &walker);
	if (ret)
		return ret;
	if (pte)
		*pte = data.pte;
	if (level)
		*level = data.level;
	return 0;
}

struct pgt_state_data {
	const struct hyp_pgtable *pgt;
	u64 state_bits;
};

static int set_state_walker(const struct pgt_visit_ctx *ctx)
{
	const struct pgt_state_data *data = ctx->arg;
	u64 new;

	if (!pte_valid(ctx->old))
		return 0;
	/* Pages outside the range keep their state: split a straddling block. */
	if (!ctx_covers_entry(ctx))
		return pgt_split_block(ctx, data->pgt);

	new = (ctx->old & ~HS_PTE_STATE_MASK) | data->state_bits;
	if (new != ctx->old)
		WRITE_ONCE(*ctx->ptep, new);
	return 0;
}

int pgt_set_state(struct hyp_pgtable *pgt, u64 addr, u64 size, unsigned state)
{
	struct pgt_state_data data = {
	    .pgt = pgt,
	    .state_bits = (u64)state << HS_PTE_STATE_SHIFT,
	};
	struct pgt_walker walker = {
	    .cb = set_state_walker,
	    .arg = &data,
	    .flags = PGT_WALK_LEAF,
	};

	if (data.state_bits & ~HS_PTE_STATE_MASK || !pgt_addr_args_ok(addr, size))
		return -EINVAL;
	return pgt_walk(pgt, addr, size, &walker);
}

/* ------------------------------------------------------------------------ */
/* Stage-2 guest helpers: permission and access-flag updates in place        */
/* ------------------------------------------------------------------------ */

struct pgt_attr_data {
	const struct hyp_pgtable *pgt;
	u64 set;
	u64 clr;
	bool flush;	    /* permissions reduced: stale TLB entries must go */
	unsigned nr_leaves; /* valid leaves seen */
};

/*
 * Permission and access-flag changes are the updates the architecture lets
 * us make on a live entry without break-before-make. Whole leaves are
 * updated, like Linux's stage2_update_leaf_attrs().
 */
static int attr_walker(const struct pgt_visit_ctx *ctx)
{
	struct pgt_attr_data *data = ctx->arg;
	u64 new;

	if (!pte_valid(ctx->old))
		return 0;
	data->nr_leaves++;
	new = (ctx->old & ~data->clr) | data->set;
	if (new == ctx->old)
		return 0;
	WRITE_ONCE(*ctx->ptep, new);
	if (data->flush)
		pgt_tlb_flush_addr(data->pgt, ALIGN_DOWN(ctx->addr, pgt_granule(ctx->level)));
	return 0;
}

static int pgt_s2_update_attrs(struct hyp_pgtable *pgt, u64 addr, u64 size,
			       struct pgt_attr_data *data)
{
	struct pgt_walker walker = {
	    .cb = attr_walker,
	    .arg = data,
	    .flags = PGT_WALK_LEAF,
	};

	if (pgt->stage != HS_PGT_S2)
		return -EINVAL;
	data->pgt = pgt;
	return pgt_walk(pgt, addr, size, &walker);
}

int pgt_s2_wrprotect(struct hyp_pgtable *pgt, u64 addr, u64 size)
{
	struct pgt_attr_data data = {
	    .clr = PTE_ATTR_S2_W,
	    .flush = true,
	};

	return pgt_s2_update_attrs(pgt, addr, size, &data);
}

int pgt_s2_mkyoung(struct hyp_pgtable *pgt, u64 addr)
{
	struct pgt_attr_data data = {
	    .set = PTE_ATTR_AF,
	};
	int ret;

	ret = pgt_s2_update_attrs(pgt, ALIGN_DOWN(addr, HS_PAGE_SIZE), HS_PAGE_SIZE, &data);
	if (ret)
		return ret;
	return data.nr_leaves ? 0 : -ENOENT;
}

int pgt_s2_relax_perms(struct hyp_pgtable *pgt, u64 addr, unsigned prot)
{
	struct pgt_attr_data data = {
	    .flush = true,
	};
	u64 pte;
	int ret;

	if (pgt->stage != HS_PGT_S2 || prot & ~(HS_PROT_R | HS_PROT_W | HS_PROT_X))
		return -EINVAL;
	ret = pgt_get_leaf(pgt, addr, &pte, NULL);
	if (ret)
		return ret;
	if (!pte_valid(pte))
		return -ENOENT;
	if ((prot & HS_PROT_X) && (pte_to_prot(HS_PGT_S2, pte) & HS_PROT_DEVICE))
		return -EINVAL;

	if (prot & HS_PROT_R)
		data.set |= PTE_ATTR_S2_R;
	if (prot & HS_PROT_W)
		data.set |= PTE_ATTR_S2_W;
	if (prot & HS_PROT_X)
		data.clr |= PTE_ATTR_XN;
	return pgt_s2_update_attrs(pgt, ALIGN_DOWN(addr, HS_PAGE_SIZE), HS_PAGE_SIZE, &data);
}

struct pgt_young_data {
	bool mkold;
	bool young;
};

static int test_clear_young_walker(const struct pgt_visit_ctx *ctx)
{
	struct pgt_young_data *data = ctx->arg;

	if (!pte_valid(ctx->old) || !(ctx->old & PTE_ATTR_AF))
		return 0;
	data->young = true;
	if (data->mkold)
		WRITE_ONCE(*ctx->ptep, ctx->old & ~PTE_ATTR_AF);
	return 0;
}

int pgt_s2_test_clear_young(struct hyp_pgtable *pgt, u64 addr, u64 size, bool mkold, bool *young)
{
	struct pgt_young_data data = {
	    .mkold = mkold,
	};
	struct pgt_walker walker = {
	    .cb = test_clear_young_walker,
	    .arg = &data,
	    .flags = PGT_WALK_LEAF,
	};
	int ret;

	if (pgt->stage != HS_PGT_S2)
		return -EINVAL;
	ret = pgt_walk(pgt, addr, size, &walker);
	if (young)
		*young = data.young;
	return ret;
}

/* ------------------------------------------------------------------------ */
/* Host stage-2 fault helper                                                 */
/* ------------------------------------------------------------------------ */

int pgt_find_largest_block(struct hyp_pgtable *pgt, u64 addr, u64 range_start, u64 range_end,
			   u64 *out_start, u64 *out_size)
{
	u64 pte, granule, start;
	s8 level;
	int ret;

	if (addr < range_start || addr >= range_end)
		return -EINVAL;
	ret = pgt_get_leaf(pgt, addr, &pte, &level);
	if (ret)
		return ret;
	if (pte_valid(pte))
		return -EAGAIN;
	if (pte)
		return -EPERM;

	/*
	 * The walk stopped at an empty entry at @level: nothing is mapped or
	 * annotated anywhere in its range, so any block at @level or below
	 * around @addr is free. Take the largest that stays inside the region.
	 */
	for (; level < PGT_MAX_LEVELS; level++) {
		if (level < 1) /* no level-0 blocks with a 4K granule */
			continue;
		granule = pgt_granule(level);
		start = ALIGN_DOWN(addr, granule);
		if (start >= range_start && range_end - start >= granule) {
			*out_start = start;
			*out_size = granule;
			return 0;
		}
	}
	return -EINVAL;
}

/* ------------------------------------------------------------------------ */
/* Setup and teardown                                                        */
/* ------------------------------------------------------------------------ */

/* VTCR_EL2.PS / TCR_EL2.PS encoding of a physical address size. */
static u64 pa_bits_to_ps(unsigned pa_bits)
{
	switch (pa_bits) {
	case 32:
		return 0;
	case 36:
		return 1;
	case 40:
		return 2;
	case 42:
		return 3;
	case 44:
		return 4;
	case 48:
		return 5;
	default:
		return 6; /* 52 */
	}
}

#define TCR_T0SZ(bits) ((u64)(64 - (bits)) & 0x3f)
#define TCR_IRGN0_WBWA (1UL << 8)
#define TCR_ORGN0_WBWA (1UL << 10)
#define TCR_SH0_INNER (3UL << 12)
#define TCR_TG0_4K (0UL << 14)
#define TCR_PS_SHIFT 16
#define VTCR_SL0_SHIFT 6
#define VTCR_EL2_RES1 BIT(31)
#define TCR_EL2_RES1 (BIT(31) | BIT(23))

u64 pgt_vtcr(u32 ipa_bits, s8 start_level)
{
	/* SL0 with a 4K granule: 0 = level 2, 1 = level 1, 2 = level 0. */
	return VTCR_EL2_RES1 | TCR_T0SZ(ipa_bits) | ((u64)(2 - start_level) << VTCR_SL0_SHIFT) |
	       TCR_IRGN0_WBWA | TCR_ORGN0_WBWA | TCR_SH0_INNER | TCR_TG0_4K |
	       (pa_bits_to_ps(HS_PA_BITS) << TCR_PS_SHIFT);
}

u64 pgt_tcr_el2(u32 va_bits)
{
	return TCR_EL2_RES1 | TCR_T0SZ(va_bits) | TCR_IRGN0_WBWA | TCR_ORGN0_WBWA | TCR_SH0_INNER |
	       TCR_TG0_4K | (pa_bits_to_ps(HS_PA_BITS) << TCR_PS_SHIFT);
}

int pgt_init_s1(struct hyp_pgtable *pgt, u32 va_bits, struct hyp_mm_ops *mm_ops)
{
	u64 *pgd;

	if (va_bits < 25 || va_bits > 48)
		return -EINVAL;
	pgd = mm_ops->zalloc_page(mm_ops->arg);
	if (!pgd)
		return -ENOMEM;

	pgt->ia_bits = va_bits;
	pgt->start_level = PGT_MAX_LEVELS - DIV_ROUND_UP(va_bits - HS_PAGE_SHIFT, 9);
	pgt->stage = HS_PGT_S1_EL2;
	pgt->nr_root_pages = 1;
	pgt->pgd = pgd;
	pgt->pgd_pa = mm_ops->virt_to_phys(pgd);
	pgt->mm_ops = mm_ops;
	return 0;
}

s8 pgt_s2_default_start_level(u32 ipa_bits)
{
	/* Concatenating up to 16 = 2^4 roots saves a level where it can. */
	s8 levels = DIV_ROUND_UP(ipa_bits - 4 - HS_PAGE_SHIFT, 9);

	return min(PGT_MAX_LEVELS - levels, 2);
}

int pgt_init_s2(struct hyp_pgtable *pgt, u32 ipa_bits, s8 start_level, struct hyp_mm_ops *mm_ops)
{
	unsigned table_bits, nr_roots;
	u64 *pgd;
	u64 pgd_pa;

	if (ipa_bits < 25 || ipa_bits > 48 || start_level < 0 || start_level > 2)
		return -EINVAL;
	/* The start level must resolve at least one bit, at most 9 + 4 (16 roots). */
	if (ipa_bits <= pgt_level_shift(start_level))
		return -EINVAL;
	table_bits = pgt_level_shift(start_level) + 9;
	nr_roots = ipa_bits > table_bits ? 1u << (ipa_bits - table_bits) : 1;
	if (nr_roots > 16)
		return -EINVAL;

	if (nr_roots == 1)
		pgd = mm_ops->zalloc_page(mm_ops->arg);
	else
		pgd = mm_ops->zalloc_pages_exact(nr_roots * HS_PAGE_SIZE, mm_ops->arg);
	if (!pgd)
		return -ENOMEM;
	pgd_pa = mm_ops->virt_to_phys(pgd);

	pgt->ia_bits = ipa_bits;
	pgt->start_level = start_level;
	pgt->stage = HS_PGT_S2;
	pgt->nr_root_pages = nr_roots;
	pgt->pgd = pgd;
	pgt->pgd_pa = pgd_pa;
	pgt->mm_ops = mm_ops;

	/* VTTBR requires concatenated roots aligned to their total size. */
	if (WARN_ON(!IS_ALIGNED(pgd_pa, nr_roots * HS_PAGE_SIZE))) {
		pgt_destroy(pgt);
		return -EINVAL;
	}
	return 0;
}

static int destroy_walker(const struct pgt_visit_ctx *ctx)
{
	const struct hyp_pgtable *pgt = ctx->arg;
	struct hyp_mm_ops *mm_ops = ctx->mm_ops;

	if (!pte_counted(pgt, ctx->old))
		return 0;
	mm_ops->put_page(ctx->ptep);
	/* Children were visited first: this drops the table's last reference. */
	if (pte_is_table(ctx->old, ctx->level))
		mm_ops->put_page(mm_ops->phys_to_virt(pte_to_phys(ctx->old)));
	return 0;
}

void pgt_destroy(struct hyp_pgtable *pgt)
{
	struct pgt_walker walker = {
	    .cb = destroy_walker,
	    .arg = pgt,
	    .flags = PGT_WALK_LEAF | PGT_WALK_TABLE_POST,
	};
	unsigned i;

	if (!pgt->pgd)
		return;
	WARN_ON(pgt_walk(pgt, 0, 1UL << pgt->ia_bits, &walker));
	for (i = 0; i < pgt->nr_root_pages; i++)
		pgt->mm_ops->put_page(pgt->pgd + i * PGT_PTRS_PER_TABLE);
	pgt->pgd = NULL;
	pgt->pgd_pa = 0;
}
