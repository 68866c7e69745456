/* SPDX-License-Identifier: MIT */
/*
 * One page-table library for the EL2 stage-1, the host stage-2 and the
 * guest stage-2 tables (4 KiB granule, levels 0..3, blocks at levels 1/2).
 *
 * Shaped like Linux's arch/arm64/kvm/hyp/pgtable.c: one walker calls a
 * visitor on each entry of a range, every operation is a private data
 * struct + a static *_walker visitor + a public wrapper, and page allocation
 * and address conversion are injected through struct hyp_mm_ops, so the same
 * code runs at EL2 and in the host unit tests.
 *
 * Rules the library keeps:
 *  - break-before-make: a valid leaf's output address, memory type or size is
 *    never changed in place; it is zeroed, its TLB entries invalidated, then
 *    rewritten. In-place updates are limited to the software bits and, for
 *    the stage-2 guest helpers, to the permission and access flag bits, which
 *    the architecture allows to change without BBM.
 *  - a table page's refcount is 1 + the number of valid entries in it (for
 *    stage 2: non-zero entries, annotations included); a table is freed when
 *    that drops back to 1. Root pages count the same way but are only freed
 *    by pgt_destroy().
 *  - stage-2 TLB invalidation by IPA applies to the VMID in VTTBR_EL2: the
 *    caller must have the table's VMID loaded when it changes a live table.
 */
#ifndef HYP_PGTABLE_H
#define HYP_PGTABLE_H

#include <hyp/types.h>
#include <hypscope/abi.h>

/* Translation regimes served by the library. */
#define HS_PGT_S1_EL2 1
#define HS_PGT_S2 2

#define PGT_MAX_LEVELS 4
#define PGT_PTRS_PER_TABLE 512

/* MAIR_EL2: Attr0 = Normal Inner/Outer WB RW-allocate, Attr1 = Device-nGnRE. */
#define PGT_MAIR_IDX_NORMAL 0
#define PGT_MAIR_IDX_DEVICE 1
#define HS_MAIR_EL2_VALUE 0x04ffUL

/* Descriptor fields (see pkvm-reference.md, "Page-table format"). */
#define PTE_VALID BIT(0)
#define PTE_TYPE BIT(1) /* table (levels 0-2) / page (level 3) */
#define PTE_OA_MASK GENMASK(47, 12)
#define PTE_ATTR_S1_ATTRIDX_SHIFT 2
#define PTE_ATTR_S1_ATTRIDX GENMASK(4, 2)
#define PTE_ATTR_S1_AP GENMASK(7, 6)
#define PTE_ATTR_S1_AP_RW (1UL << 6) /* EL2: AP[2:1] = 01 */
#define PTE_ATTR_S1_AP_RO (3UL << 6) /* EL2: AP[2:1] = 11 */
#define PTE_ATTR_S2_MEMATTR GENMASK(5, 2)
#define PTE_ATTR_S2_MEMATTR_NORMAL (0xfUL << 2) /* Outer/Inner WB */
#define PTE_ATTR_S2_MEMATTR_DEVICE (0x1UL << 2) /* Device-nGnRE */
#define PTE_ATTR_S2_R BIT(6)
#define PTE_ATTR_S2_W BIT(7)
#define PTE_ATTR_SH GENMASK(9, 8)
#define PTE_ATTR_SH_IS (3UL << 8)
#define PTE_ATTR_AF BIT(10)
#define PTE_ATTR_XN BIT(54)
#define PTE_ATTR_SW GENMASK(58, 55)
/* Everything but type, valid and output address: what a block split copies. */
#define PTE_LEAF_ATTRS (GENMASK(11, 2) | GENMASK(63, 50))

/*
 * Page state in the SW bits of valid leaves travels through the prot word:
 * prot = HS_PROT_* | PGT_PROT_STATE(HS_PAGE_*).
 */
#define PGT_PROT_STATE_SHIFT 8
#define PGT_PROT_STATE(s) ((unsigned)(s) << PGT_PROT_STATE_SHIFT)
#define PGT_PROT_STATE_MASK (0x3u << PGT_PROT_STATE_SHIFT)
#define PGT_PROT_ACCESS (HS_PROT_R | HS_PROT_W | HS_PROT_X | HS_PROT_DEVICE)

static inline unsigned pgt_prot_state(unsigned prot)
{
	return (prot & PGT_PROT_STATE_MASK) >> PGT_PROT_STATE_SHIFT;
}

static inline unsigned pte_state(u64 pte)
{
	return (unsigned)((pte & HS_PTE_STATE_MASK) >> HS_PTE_STATE_SHIFT);
}

static inline bool pte_valid(u64 pte)
{
	return pte & PTE_VALID;
}

static inline bool pte_is_table(u64 pte, s8 level)
{
	return level < PGT_MAX_LEVELS - 1 &&
	       (pte & (PTE_VALID | PTE_TYPE)) == (PTE_VALID | PTE_TYPE);
}

static inline u64 pte_to_phys(u64 pte)
{
	return pte & PTE_OA_MASK;
}

/* log2 of the size mapped by one entry at @level: 39, 30, 21, 12. */
static inline unsigned pgt_level_shift(s8 level)
{
	return HS_PAGE_SHIFT + (unsigned)(PGT_MAX_LEVELS - 1 - level) * 9;
}

static inline u64 pgt_granule(s8 level)
{
	return 1UL << pgt_level_shift(level);
}

/* Injected allocation and address conversion (Linux's kvm_pgtable_mm_ops). */
struct hyp_mm_ops {
	void *(*zalloc_page)(void *arg);
	/* Zeroed, size-aligned, each page refcounted on its own (concatenated roots). */
	void *(*zalloc_pages_exact)(size_t size, void *arg);
	void (*get_page)(void *addr);
	void (*put_page)(void *addr);
	int (*page_count)(void *addr);
	void *(*phys_to_virt)(u64 phys);
	u64 (*virt_to_phys)(void *addr);
	void *arg;
};

struct hyp_pgtable {
	u32 ia_bits;
	s8 start_level;
	u8 stage; /* HS_PGT_S1_EL2 or HS_PGT_S2 */
	u8 nr_root_pages;
	u64 *pgd;
	u64 pgd_pa;
	struct hyp_mm_ops *mm_ops;
};

/* Which entries a walker visits. */
#define PGT_WALK_LEAF BIT(0)	   /* leaves and invalid entries */
#define PGT_WALK_TABLE_PRE BIT(1)  /* table entries, before their children */
#define PGT_WALK_TABLE_POST BIT(2) /* table entries, after their children */

/* What a visitor sees; only ever extended, so visitors need not change. */
struct pgt_visit_ctx {
	u64 *ptep; /* the entry (HYP VA) */
	u64 old;   /* its value when the visit started */
	u64 addr;  /* walk position, inside this entry's range */
	u64 end;   /* end of the walk (exclusive) */
	s8 level;
	unsigned flags; /* the visit: one PGT_WALK_* bit */
	void *arg;	/* walker->arg */
	struct hyp_mm_ops *mm_ops;
};

typedef int (*pgt_visitor_fn)(const struct pgt_visit_ctx *ctx);

struct pgt_walker {
	pgt_visitor_fn cb;
	void *arg;
	unsigned flags; /* PGT_WALK_* */
};

/**
 * pgt_walk() - visit every entry covering [@addr, @addr + @size).
 * Entries are visited in address order; after a LEAF or TABLE_PRE visit the
 * entry is re-read, so a visitor may turn a leaf into a table and have the
 * walk descend into it. The walk stops at the first non-zero return.
 * Return: 0, the visitor's error, or -ERANGE if the range leaves the table's
 * input address space.
 */
int pgt_walk(struct hyp_pgtable *pgt, u64 addr, u64 size, struct pgt_walker *walker);

/**
 * prot_to_pte() - the leaf attribute bits for HS_PROT_* | PGT_PROT_STATE()
 * @prot in @stage. All mapping policy is here: EL2 mappings must be readable
 * and never W+X; device memory is never executable.
 * Return: the attributes (always non-zero: AF is set), or 0 if refused.
 */
u64 prot_to_pte(u8 stage, unsigned prot);

/** pte_to_prot() - HS_PROT_* | PGT_PROT_STATE() of a valid leaf; 0 if invalid. */
unsigned pte_to_prot(u8 stage, u64 pte);

/**
 * pgt_init_s1() - allocate an empty EL2 stage-1 table for @va_bits (25..48).
 * Return: 0, -EINVAL or -ENOMEM.
 */
int pgt_init_s1(struct hyp_pgtable *pgt, u32 va_bits, struct hyp_mm_ops *mm_ops);

/**
 * pgt_init_s2() - allocate an empty stage-2 table for @ipa_bits (25..48)
 * starting at @start_level (0..2). When one table at @start_level does not
 * resolve all the bits, 2^(missing bits) root pages are concatenated (at
 * most 16, allocated with zalloc_pages_exact).
 * Return: 0, -EINVAL (impossible geometry) or -ENOMEM.
 */
int pgt_init_s2(struct hyp_pgtable *pgt, u32 ipa_bits, s8 start_level, struct hyp_mm_ops *mm_ops);

/** pgt_s2_default_start_level() - shallowest start level using <= 16 concatenated roots. */
s8 pgt_s2_default_start_level(u32 ipa_bits);

/**
 * pgt_vtcr() - VTCR_EL2 for a stage-2 table: T0SZ, SL0, inner/outer WBWA,
 * inner shareable, 4K granule, PS for HS_PA_BITS, RES1 bit 31.
 */
u64 pgt_vtcr(u32 ipa_bits, s8 start_level);

/**
 * pgt_tcr_el2() - TCR_EL2 (nVHE) for the EL2 stage-1 table: T0SZ, inner/outer
 * WBWA, inner shareable, 4K granule, PS for HS_PA_BITS, RES1 bits 31 and 23.
 */
u64 pgt_tcr_el2(u32 va_bits);

/**
 * pgt_map() - map [@addr, @addr + @size) to @phys with @prot (see
 * prot_to_pte), using 1 GiB / 2 MiB blocks where address, phys and size
 * allow. Existing leaves in the way are replaced with break-before-make
 * (blocks split when only part of them is remapped); existing tables are
 * kept and filled. addr, size and phys must be page-aligned.
 * Return: 0, -EINVAL (alignment, refused prot), -ERANGE or -ENOMEM (the
 * part mapped so far stays mapped).
 */
int pgt_map(struct hyp_pgtable *pgt, u64 addr, u64 size, u64 phys, unsigned prot);

/**
 * pgt_unmap() - remove every leaf and (stage 2) annotation in the range,
 * splitting blocks that straddle its ends, invalidating TLBs, and freeing
 * the table pages left empty.
 * Return: 0, -EINVAL (alignment), -ERANGE or -ENOMEM (splitting a block).
 */
int pgt_unmap(struct hyp_pgtable *pgt, u64 addr, u64 size);

/**
 * pgt_set_owner() - stage 2 only: unmap the range and write @annotation (see
 * hs_annotation()) into each of its page-level entries. An annotation of 0
 * (host-owned) is a plain unmap.
 * Return: 0, -EINVAL (stage, alignment, annotation with the valid bit),
 * -ERANGE or -ENOMEM.
 */
int pgt_set_owner(struct hyp_pgtable *pgt, u64 addr, u64 size, u64 annotation);

/**
 * pgt_get_leaf() - the entry where a walk for @addr stops (a leaf, an
 * annotation or an empty entry) and its level. Either out pointer may be NULL.
 * Return: 0 or -ERANGE.
 */
int pgt_get_leaf(struct hyp_pgtable *pgt, u64 addr, u64 *pte, s8 *level);

/**
 * pgt_set_state() - set the page state (HS_PAGE_*) in the SW bits of every
 * valid leaf in the range, in place. Blocks straddling the range ends are
 * split first so pages outside it keep their state.
 * Return: 0, -EINVAL, -ERANGE or -ENOMEM.
 */
int pgt_set_state(struct hyp_pgtable *pgt, u64 addr, u64 size, unsigned state);

/**
 * pgt_s2_wrprotect() - clear the stage-2 write permission of the valid leaves
 * covering the range (whole leaves), with TLB invalidation.
 * Return: 0, -EINVAL or -ERANGE.
 */
int pgt_s2_wrprotect(struct hyp_pgtable *pgt, u64 addr, u64 size);

/**
 * pgt_s2_mkyoung() - set the access flag of the valid leaf covering @addr.
 * Return: 0, -ENOENT (no valid leaf), -EINVAL or -ERANGE.
 */
int pgt_s2_mkyoung(struct hyp_pgtable *pgt, u64 addr);

/**
 * pgt_s2_test_clear_young() - *@young = whether any valid leaf covering the
 * range has its access flag set; with @mkold also clear it. No TLBI, as in
 * Linux: a stale young entry only makes ageing less precise.
 * Return: 0, -EINVAL or -ERANGE.
 */
int pgt_s2_test_clear_young(struct hyp_pgtable *pgt, u64 addr, u64 size, bool mkold, bool *young);

/**
 * pgt_s2_relax_perms() - add the HS_PROT_R/W/X permissions in @prot to the
 * valid leaf covering @addr (never removes any; DEVICE is refused, and X on a
 * device leaf).
 * Return: 0, -ENOENT (no valid leaf), -EINVAL or -ERANGE.
 */
int pgt_s2_relax_perms(struct hyp_pgtable *pgt, u64 addr, unsigned prot);

/**
 * pgt_find_largest_block() - for a host stage-2 fault at @addr inside the
 * region [@range_start, @range_end): the largest naturally aligned block
 * (1 GiB, 2 MiB or a page) containing @addr, inside the region, in which
 * nothing is mapped or annotated, i.e. what the fault handler may map.
 * Return: 0 with *@out_start / *@out_size set; -EAGAIN if @addr is already
 * mapped (another CPU won the race); -EPERM if it is annotated (owned by hyp
 * or a guest); -EINVAL if @addr is outside the region; -ERANGE.
 */
int pgt_find_largest_block(struct hyp_pgtable *pgt, u64 addr, u64 range_start, u64 range_end,
			   u64 *out_start, u64 *out_size);

/**
 * pgt_destroy() - free every table page and the root(s). The table must no
 * longer be live in any TTBR/VTTBR.
 */
void pgt_destroy(struct hyp_pgtable *pgt);

#endif /* HYP_PGTABLE_H */
