// SPDX-License-Identifier: MIT
/*
 * Host unit tests of hyp/pgtable.c against fake physical memory.
 * Each test builds fresh tables in a fresh fake arena (the fixture).
 */
#include <check.h>
#include <stdlib.h>

#include "fake_mm.h"

#define SZ_4K 0x1000UL
#define SZ_2M 0x200000UL
#define SZ_1G 0x40000000UL

#define FAKE_PAGES 512

static struct fake_mm *mm;
static struct hyp_pgtable pgt;

static void setup(void)
{
	mm = fake_mm_init(FAKE_PAGES);
	memset(&pgt, 0, sizeof(pgt));
}

static void teardown(void)
{
	if (pgt.pgd)
		pgt_destroy(&pgt);
	ck_assert_uint_eq(mm->live_pages, 0);
	ck_assert_uint_eq(hs_fake_arch.warns, 0);
	fake_mm_fini();
}

static void init_s1(void)
{
	ck_assert_int_eq(pgt_init_s1(&pgt, 48, &mm->ops), 0);
}

static void init_s2(void)
{
	ck_assert_int_eq(pgt_init_s2(&pgt, 40, 1, &mm->ops), 0);
}

static u64 leaf(u64 addr, s8 *level)
{
	u64 pte = 0;

	ck_assert_int_eq(pgt_get_leaf(&pgt, addr, &pte, level), 0);
	return pte;
}

static unsigned long tlbis(void)
{
	return hs_fake_arch.tlbi_vae2is + hs_fake_arch.tlbi_ipas2e1is;
}

/* Refcount invariant: every table page has 1 + counted entries. */
static unsigned count_entries(const u64 *table, u8 stage)
{
	unsigned i, n = 0;

	for (i = 0; i < PGT_PTRS_PER_TABLE; i++)
		n += stage == HS_PGT_S2 ? table[i] != 0 : (table[i] & PTE_VALID) != 0;
	return n;
}

static int refcount_walker(const struct pgt_visit_ctx *ctx)
{
	u64 *child = ctx->mm_ops->phys_to_virt(pte_to_phys(ctx->old));
	unsigned *nr_tables = ctx->arg;

	(*nr_tables)++;
	ck_assert_int_eq(ctx->mm_ops->page_count(child), 1 + count_entries(child, pgt.stage));
	return 0;
}

/* Checks every table and root; returns the number of non-root tables. */
static unsigned check_refcounts(void)
{
	unsigned nr_tables = 0, i;
	struct pgt_walker walker = {
	    .cb = refcount_walker,
	    .arg = &nr_tables,
	    .flags = PGT_WALK_TABLE_PRE,
	};

	for (i = 0; i < pgt.nr_root_pages; i++) {
		u64 *root = pgt.pgd + i * PGT_PTRS_PER_TABLE;

		ck_assert_int_eq(fake_page_count(root), 1 + count_entries(root, pgt.stage));
	}
	ck_assert_int_eq(pgt_walk(&pgt, 0, 1UL << pgt.ia_bits, &walker), 0);
	ck_assert_uint_eq(mm->live_pages, pgt.nr_root_pages + nr_tables);
	return nr_tables;
}

START_TEST(test_s1_page_descriptor_bits)
{
	const u64 va = 0x40001000, pa = 0x12345000;
	s8 level;

	init_s1();
	ck_assert_int_eq(pgt_map(&pgt, va, SZ_4K, pa, HS_PROT_RW), 0);
	ck_assert_uint_eq(leaf(va, &level),
			  pa | 0x3 | (0 << 2) | (1UL << 6) | (3UL << 8) | (1UL << 10) | BIT(54));
	ck_assert_int_eq(level, 3);

	ck_assert_int_eq(pgt_map(&pgt, va + SZ_4K, SZ_4K, pa, HS_PROT_RX), 0);
	ck_assert_uint_eq(leaf(va + SZ_4K, NULL), pa | 0x3 | (3UL << 6) | (3UL << 8) | (1UL << 10));

	ck_assert_int_eq(
	    pgt_map(&pgt, va + 2 * SZ_4K, SZ_4K, 0x9000000, HS_PROT_RW | HS_PROT_DEVICE), 0);
	ck_assert_uint_eq(leaf(va + 2 * SZ_4K, NULL), 0x9000000 | 0x3 | (1UL << 2) | (1UL << 6) |
							  (3UL << 8) | (1UL << 10) | BIT(54));
}
END_TEST

START_TEST(test_s2_page_descriptor_bits)
{
	s8 level;

	init_s2();
	ck_assert_int_eq(pgt_map(&pgt, 0x40000000, SZ_4K, 0x40000000, HS_PROT_RWX), 0);
	ck_assert_uint_eq(leaf(0x40000000, &level),
			  0x40000000 | 0x3 | (0xfUL << 2) | BIT(6) | BIT(7) | (3UL << 8) | BIT(10));
	ck_assert_int_eq(level, 3);

	ck_assert_int_eq(pgt_map(&pgt, 0x9000000, SZ_4K, 0x9000000, HS_PROT_RW | HS_PROT_DEVICE),
			 0);
	ck_assert_uint_eq(leaf(0x9000000, NULL), 0x9000000 | 0x3 | (0x1UL << 2) | BIT(6) | BIT(7) |
						     (3UL << 8) | BIT(10) | BIT(54));

	/* Page state rides in SW bits [56:55]. */
	ck_assert_int_eq(pgt_map(&pgt, 0x40001000, SZ_4K, 0x50000000,
				 HS_PROT_R | PGT_PROT_STATE(HS_PAGE_SHARED_BORROWED)),
			 0);
	ck_assert_uint_eq(pte_state(leaf(0x40001000, NULL)), HS_PAGE_SHARED_BORROWED);
	ck_assert_uint_eq(leaf(0x40001000, NULL) & PTE_ATTR_S2_W, 0);
}
END_TEST

static const struct {
	u8 stage;
	unsigned prot;
} prot_cases[] = {
    {HS_PGT_S1_EL2, HS_PROT_R},
    {HS_PGT_S1_EL2, HS_PROT_RW},
    {HS_PGT_S1_EL2, HS_PROT_RX},
    {HS_PGT_S1_EL2, HS_PROT_RW | HS_PROT_DEVICE},
    {HS_PGT_S1_EL2, HS_PROT_R | PGT_PROT_STATE(HS_PAGE_SHARED_OWNED)},
    {HS_PGT_S2, 0},
    {HS_PGT_S2, HS_PROT_R},
    {HS_PGT_S2, HS_PROT_RW},
    {HS_PGT_S2, HS_PROT_RWX},
    {HS_PGT_S2, HS_PROT_X},
    {HS_PGT_S2, HS_PROT_RW | HS_PROT_DEVICE},
    {HS_PGT_S2, HS_PROT_RWX | PGT_PROT_STATE(HS_PAGE_NOPAGE)},
};

START_TEST(test_prot_round_trips)
{
	u64 attr = prot_to_pte(prot_cases[_i].stage, prot_cases[_i].prot);

	ck_assert_uint_ne(attr, 0);
	ck_assert_uint_eq(pte_to_prot(prot_cases[_i].stage, attr | 0x3), prot_cases[_i].prot);
}
END_TEST

START_TEST(test_policy_refusals)
{
	ck_assert_uint_eq(prot_to_pte(HS_PGT_S1_EL2, HS_PROT_RWX), 0);
	ck_assert_uint_eq(prot_to_pte(HS_PGT_S1_EL2, HS_PROT_W | HS_PROT_R | HS_PROT_X), 0);
	ck_assert_uint_eq(prot_to_pte(HS_PGT_S1_EL2, HS_PROT_W), 0); /* no R at EL2 */
	ck_assert_uint_eq(prot_to_pte(HS_PGT_S1_EL2, HS_PROT_RX | HS_PROT_DEVICE), 0);
	ck_assert_uint_eq(prot_to_pte(HS_PGT_S2, HS_PROT_RX | HS_PROT_DEVICE), 0);
}
END_TEST

START_TEST(test_el2_wx_refused_changes_nothing)
{
	init_s1();
	ck_assert_int_eq(pgt_map(&pgt, 0x40000000, SZ_2M, 0x40000000, HS_PROT_RWX), -EINVAL);
	ck_assert_uint_eq(count_entries(pgt.pgd, pgt.stage), 0);
	ck_assert_uint_eq(mm->live_pages, 1);
	ck_assert_uint_eq(tlbis(), 0);
}
END_TEST

START_TEST(test_s2_device_exec_refused)
{
	init_s2();
	ck_assert_int_eq(pgt_map(&pgt, 0x9000000, SZ_4K, 0x9000000, HS_PROT_RX | HS_PROT_DEVICE),
			 -EINVAL);
	ck_assert_uint_eq(count_entries(pgt.pgd, pgt.stage), 0);
}
END_TEST

START_TEST(test_1g_block_when_aligned)
{
	s8 level;
	u64 pte;

	init_s2();
	ck_assert_int_eq(pgt_map(&pgt, SZ_1G, SZ_1G, 2 * SZ_1G, HS_PROT_RWX), 0);
	pte = leaf(SZ_1G + 0x1234000, &level);
	ck_assert_int_eq(level, 1);
	ck_assert_uint_eq(pte & 0x3, 0x1); /* block */
	ck_assert_uint_eq(pte_to_phys(pte), 2 * SZ_1G);
	ck_assert_uint_eq(check_refcounts(), 0); /* root-level block: no tables */
}
END_TEST

START_TEST(test_2m_blocks_and_pages_when_partly_aligned)
{
	s8 level;

	init_s1();
	/* 2 MiB + 4 KiB: one block, then a page. */
	ck_assert_int_eq(pgt_map(&pgt, 0x40000000, SZ_2M + SZ_4K, 0x80000000, HS_PROT_RW), 0);
	ck_assert_uint_eq(leaf(0x40000000, &level) & 0x3, 0x1);
	ck_assert_int_eq(level, 2);
	ck_assert_uint_eq(pte_to_phys(leaf(0x40000000 + SZ_2M, &level)), 0x80000000 + SZ_2M);
	ck_assert_int_eq(level, 3);

	/* Output not 2 MiB aligned: pages only. */
	ck_assert_int_eq(pgt_map(&pgt, 0x60000000, SZ_2M, 0x80001000, HS_PROT_RW), 0);
	ck_assert_uint_eq(pte_to_phys(leaf(0x60000000, &level)), 0x80001000);
	ck_assert_int_eq(level, 3);
	check_refcounts();
}
END_TEST

START_TEST(test_partial_unmap_splits_block_bbm)
{
	const u64 va = 0x40000000, pa = 0x80000000;
	unsigned long before;
	s8 level;
	u64 pte;

	init_s1();
	ck_assert_int_eq(pgt_map(&pgt, va, SZ_2M, pa, HS_PROT_RW), 0);
	before = hs_fake_arch.tlbi_vae2is;
	ck_assert_int_eq(pgt_unmap(&pgt, va + 5 * SZ_4K, SZ_4K), 0);
	/* One TLBI for breaking the block, one for the unmapped page. */
	ck_assert_uint_eq(hs_fake_arch.tlbi_vae2is - before, 2);
	ck_assert_uint_eq(leaf(va + 5 * SZ_4K, &level), 0);
	ck_assert_int_eq(level, 3);

	pte = leaf(va + 4 * SZ_4K, &level);
	ck_assert_int_eq(level, 3);
	ck_assert_uint_eq(pte, (pa + 4 * SZ_4K) | 0x3 | prot_to_pte(HS_PGT_S1_EL2, HS_PROT_RW));
	ck_assert_uint_eq(pte_to_phys(leaf(va + SZ_2M - SZ_4K, NULL)), pa + SZ_2M - SZ_4K);
	check_refcounts();
}
END_TEST

START_TEST(test_s2_partial_unmap_flushes_by_ipa)
{
	init_s2();
	ck_assert_int_eq(pgt_map(&pgt, SZ_1G, SZ_1G, SZ_1G, HS_PROT_RWX), 0);
	ck_assert_int_eq(pgt_unmap(&pgt, SZ_1G, SZ_4K), 0);
	/* 1G block -> 2M blocks -> pages: two breaks, then the page. */
	ck_assert_uint_eq(hs_fake_arch.tlbi_ipas2e1is, 3);
	ck_assert_uint_eq(hs_fake_arch.tlbi_vmalle1is, 3);
	ck_assert_uint_eq(hs_fake_arch.last_tlbi_arg, SZ_1G >> 12);
	ck_assert_uint_eq(leaf(SZ_1G, NULL), 0);
	ck_assert_uint_eq(pte_to_phys(leaf(SZ_1G + SZ_4K, NULL)), SZ_1G + SZ_4K);
	ck_assert_uint_eq(pte_to_phys(leaf(SZ_1G + SZ_2M, NULL)), SZ_1G + SZ_2M);
	check_refcounts();
}
END_TEST

START_TEST(test_unmap_frees_empty_tables)
{
	init_s1();
	ck_assert_int_eq(pgt_map(&pgt, 0x40000000, SZ_4K, 0x40000000, HS_PROT_RW), 0);
	ck_assert_int_eq(pgt_map(&pgt, 0x40001000, SZ_4K, 0x40001000, HS_PROT_RW), 0);
	ck_assert_uint_eq(check_refcounts(), 3); /* levels 1, 2, 3 */
	ck_assert_int_eq(pgt_unmap(&pgt, 0x40000000, SZ_4K), 0);
	ck_assert_uint_eq(check_refcounts(), 3);
	ck_assert_int_eq(pgt_unmap(&pgt, 0x40001000, SZ_4K), 0);
	ck_assert_uint_eq(check_refcounts(), 0);
	ck_assert_uint_eq(mm->live_pages, 1);
}
END_TEST

START_TEST(test_freed_table_is_invalidated_at_its_own_address)
{
	/* The last page of a 1 GiB region: the walk ends at the next region's start. */
	init_s2();
	ck_assert_int_eq(pgt_map(&pgt, 0x7ffff000, SZ_4K, 0x7ffff000, HS_PROT_RW), 0);
	unsigned long live = mm->live_pages;
	ck_assert_int_eq(pgt_unmap(&pgt, 0x7ffff000, SZ_4K), 0);
	ck_assert_uint_eq(mm->live_pages, live - 2); /* the level-2 and level-3 tables */
	/* the last break is the level-1 entry: its TLBI is for its own range, not the next */
	ck_assert_uint_eq(hs_fake_arch.last_tlbi_arg, 0x40000000UL >> 12);
}
END_TEST

START_TEST(test_refcounts_track_entries_throughout)
{
	static const struct {
		bool map;
		u64 addr, size, phys;
	} ops[] = {
	    {true, 0x40000000, 3 * SZ_2M + 5 * SZ_4K, 0x40000000},
	    {true, 0x7fe00000, 4 * SZ_2M, 0x7fe00000}, /* crosses a 1 GiB line */
	    {false, 0x40100000, SZ_2M, 0},
	    {true, 0x40000000, SZ_4K, 0x90000000}, /* remap inside a split block */
	    {false, 0x7fe00000, 3 * SZ_2M + SZ_4K, 0},
	    {false, 0x40000000, SZ_1G, 0},
	    {false, 0x40000000, 2 * SZ_1G, 0},
	};
	unsigned i;

	init_s2();
	for (i = 0; i < ARRAY_SIZE(ops); i++) {
		if (ops[i].map)
			ck_assert_int_eq(
			    pgt_map(&pgt, ops[i].addr, ops[i].size, ops[i].phys, HS_PROT_RWX), 0);
		else
			ck_assert_int_eq(pgt_unmap(&pgt, ops[i].addr, ops[i].size), 0);
		check_refcounts();
	}
	ck_assert_uint_eq(mm->live_pages, pgt.nr_root_pages);
}
END_TEST

START_TEST(test_set_owner_annotates_pages)
{
	const u64 base = SZ_1G, hyp = base + SZ_2M + 8 * SZ_4K;
	u64 ann = hs_annotation(HS_OWNER_HYP, 0), pte;
	s8 level;
	unsigned i;

	init_s2();
	ck_assert_int_eq(pgt_map(&pgt, base, SZ_1G, base, HS_PROT_RWX), 0);
	ck_assert_int_eq(pgt_set_owner(&pgt, hyp, 4 * SZ_4K, ann), 0);
	for (i = 0; i < 4; i++) {
		pte = leaf(hyp + i * SZ_4K, &level);
		ck_assert_int_eq(level, 3);
		ck_assert(!pte_valid(pte));
		ck_assert_uint_eq(pte, ann);
		ck_assert_uint_eq(hs_annotation_owner(pte), HS_OWNER_HYP);
	}
	/* Neighbours stay mapped, the rest of the 1 GiB too. */
	ck_assert(pte_valid(leaf(hyp - SZ_4K, NULL)));
	ck_assert(pte_valid(leaf(hyp + 4 * SZ_4K, NULL)));
	ck_assert_uint_eq(pte_to_phys(leaf(base + 5 * SZ_2M, NULL)), base + 5 * SZ_2M);
	check_refcounts();
}
END_TEST

START_TEST(test_set_owner_guest_metadata_on_empty_range)
{
	const u64 ipa = 0x48000000;
	u64 ann = hs_annotation(HS_OWNER_GUEST, 0x1003 | (0x1234UL << HS_ANNOT_META_GFN_SHIFT));
	u64 pte;

	init_s2();
	ck_assert_int_eq(pgt_set_owner(&pgt, ipa, SZ_4K, ann), 0);
	pte = leaf(ipa, NULL);
	ck_assert_uint_eq(hs_annotation_owner(pte), HS_OWNER_GUEST);
	ck_assert_uint_eq(hs_annotation_meta(pte) & HS_ANNOT_META_HANDLE_MASK, 0x1003);
	ck_assert_uint_eq(hs_annotation_meta(pte) >> HS_ANNOT_META_GFN_SHIFT, 0x1234);
	ck_assert_uint_eq(check_refcounts(), 2);

	/* Giving it back to the host (annotation 0) frees the tables again. */
	ck_assert_int_eq(pgt_set_owner(&pgt, ipa, SZ_4K, 0), 0);
	ck_assert_uint_eq(check_refcounts(), 0);
}
END_TEST

START_TEST(test_set_owner_refused_on_s1)
{
	init_s1();
	ck_assert_int_eq(pgt_set_owner(&pgt, 0, SZ_4K, hs_annotation(HS_OWNER_HYP, 0)), -EINVAL);
}
END_TEST

START_TEST(test_concatenated_s2_root)
{
	const u64 ipa = 1UL << 39; /* first entry of the second root page */

	init_s2();
	ck_assert_uint_eq(pgt.nr_root_pages, 2);
	ck_assert_int_eq(pgt.start_level, 1);
	ck_assert_uint_eq(pgt.pgd_pa & (2 * SZ_4K - 1), 0);
	ck_assert_uint_eq(mm->live_pages, 2);
	ck_assert_int_eq(pgt_map(&pgt, ipa, SZ_1G, 0x40000000, HS_PROT_RW), 0);
	ck_assert_uint_eq(pgt.pgd[PGT_PTRS_PER_TABLE],
			  0x40000000 | 0x1 | prot_to_pte(HS_PGT_S2, HS_PROT_RW));
	ck_assert_int_eq(pgt_map(&pgt, 1UL << 40, SZ_4K, 0, HS_PROT_RW), -ERANGE);
	check_refcounts();
}
END_TEST

START_TEST(test_s2_geometry_limits)
{
	ck_assert_int_eq(pgt_init_s2(&pgt, 44, 1, &mm->ops), -EINVAL); /* 32 roots */
	ck_assert_int_eq(pgt_init_s2(&pgt, 40, 3, &mm->ops), -EINVAL);
	ck_assert_int_eq(pgt_s2_default_start_level(40), 1);
	ck_assert_int_eq(pgt_s2_default_start_level(44), 0);
	ck_assert_int_eq(pgt_s2_default_start_level(32), 2);
	ck_assert_int_eq(pgt_init_s2(&pgt, 44, 0, &mm->ops), 0);
	ck_assert_uint_eq(pgt.nr_root_pages, 1);
}
END_TEST

START_TEST(test_vtcr_and_tcr_values)
{
	/* T0SZ 24, SL0 01, IRGN/ORGN 01, SH 11, TG0 4K, PS 100 (44 bits), RES1. */
	ck_assert_uint_eq(pgt_vtcr(40, 1), BIT(31) | (4UL << 16) | (3UL << 12) | (1UL << 10) |
					       (1UL << 8) | (1UL << 6) | 24);
	ck_assert_uint_eq(pgt_tcr_el2(48), BIT(31) | BIT(23) | (4UL << 16) | (3UL << 12) |
					       (1UL << 10) | (1UL << 8) | 16);
	ck_assert_uint_eq(HS_MAIR_EL2_VALUE, 0x04ff);
}
END_TEST

START_TEST(test_find_largest_block_respects_bounds_and_annotations)
{
	u64 start = 0, size = 0;

	init_s2();
	/* Whole 1 GiB inside the region. */
	ck_assert_int_eq(
	    pgt_find_largest_block(&pgt, SZ_1G + 0x5000, SZ_1G, 2 * SZ_1G, &start, &size), 0);
	ck_assert_uint_eq(start, SZ_1G);
	ck_assert_uint_eq(size, SZ_1G);

	/* Region starting one page late: 2 MiB blocks, then a page at the edge. */
	ck_assert_int_eq(
	    pgt_find_largest_block(&pgt, SZ_1G + SZ_2M, SZ_1G + SZ_4K, 2 * SZ_1G, &start, &size),
	    0);
	ck_assert_uint_eq(start, SZ_1G + SZ_2M);
	ck_assert_uint_eq(size, SZ_2M);
	ck_assert_int_eq(
	    pgt_find_largest_block(&pgt, SZ_1G + 0x3000, SZ_1G + SZ_4K, 2 * SZ_1G, &start, &size),
	    0);
	ck_assert_uint_eq(start, SZ_1G + 0x3000);
	ck_assert_uint_eq(size, SZ_4K);

	/* An annotation shrinks what fits around it. */
	ck_assert_int_eq(
	    pgt_set_owner(&pgt, SZ_1G + SZ_2M + SZ_4K, SZ_4K, hs_annotation(HS_OWNER_HYP, 0)), 0);
	ck_assert_int_eq(
	    pgt_find_largest_block(&pgt, SZ_1G + SZ_2M, SZ_1G, 2 * SZ_1G, &start, &size), 0);
	ck_assert_uint_eq(size, SZ_4K);
	ck_assert_int_eq(
	    pgt_find_largest_block(&pgt, SZ_1G + 5 * SZ_2M, SZ_1G, 2 * SZ_1G, &start, &size), 0);
	ck_assert_uint_eq(start, SZ_1G + 5 * SZ_2M);
	ck_assert_uint_eq(size, SZ_2M);
	ck_assert_int_eq(
	    pgt_find_largest_block(&pgt, SZ_1G + SZ_2M + SZ_4K, SZ_1G, 2 * SZ_1G, &start, &size),
	    -EPERM);

	/* Mapped already (a racing CPU), or outside the region. */
	ck_assert_int_eq(pgt_map(&pgt, SZ_1G + SZ_2M, SZ_4K, SZ_1G + SZ_2M, HS_PROT_RWX), 0);
	ck_assert_int_eq(
	    pgt_find_largest_block(&pgt, SZ_1G + SZ_2M, SZ_1G, 2 * SZ_1G, &start, &size), -EAGAIN);
	ck_assert_int_eq(pgt_find_largest_block(&pgt, 0x1000, SZ_1G, 2 * SZ_1G, &start, &size),
			 -EINVAL);
}
END_TEST

START_TEST(test_test_clear_young_clears_af)
{
	const u64 ipa = 0x40000000;
	bool young = false;

	init_s2();
	ck_assert_int_eq(pgt_map(&pgt, ipa, 2 * SZ_4K, ipa, HS_PROT_RW), 0);
	ck_assert_int_eq(pgt_s2_test_clear_young(&pgt, ipa, 2 * SZ_4K, true, &young), 0);
	ck_assert(young);
	ck_assert_uint_eq(leaf(ipa, NULL) & PTE_ATTR_AF, 0);
	ck_assert_uint_eq(leaf(ipa + SZ_4K, NULL) & PTE_ATTR_AF, 0);
	ck_assert(pte_valid(leaf(ipa, NULL)));

	ck_assert_int_eq(pgt_s2_test_clear_young(&pgt, ipa, 2 * SZ_4K, true, &young), 0);
	ck_assert(!young);

	ck_assert_int_eq(pgt_s2_mkyoung(&pgt, ipa + SZ_4K), 0);
	ck_assert_int_eq(pgt_s2_test_clear_young(&pgt, ipa, 2 * SZ_4K, false, &young), 0);
	ck_assert(young);
	ck_assert_uint_ne(leaf(ipa + SZ_4K, NULL) & PTE_ATTR_AF, 0); /* !mkold: kept */
	ck_assert_int_eq(pgt_s2_mkyoung(&pgt, ipa + 2 * SZ_4K), -ENOENT);
}
END_TEST

START_TEST(test_wrprotect_and_relax_perms)
{
	const u64 ipa = 0x40000000;
	unsigned long before;

	init_s2();
	ck_assert_int_eq(pgt_map(&pgt, ipa, SZ_4K, ipa, HS_PROT_RW), 0);
	before = hs_fake_arch.tlbi_ipas2e1is;
	ck_assert_int_eq(pgt_s2_wrprotect(&pgt, ipa, SZ_4K), 0);
	ck_assert_uint_eq(pte_to_prot(HS_PGT_S2, leaf(ipa, NULL)), HS_PROT_R);
	ck_assert_uint_eq(hs_fake_arch.tlbi_ipas2e1is - before, 1);

	ck_assert_int_eq(pgt_s2_relax_perms(&pgt, ipa, HS_PROT_W | HS_PROT_X), 0);
	ck_assert_uint_eq(pte_to_prot(HS_PGT_S2, leaf(ipa, NULL)), HS_PROT_RWX);
	ck_assert_int_eq(pgt_s2_relax_perms(&pgt, ipa + SZ_4K, HS_PROT_W), -ENOENT);

	ck_assert_int_eq(pgt_map(&pgt, 0x9000000, SZ_4K, 0x9000000, HS_PROT_R | HS_PROT_DEVICE), 0);
	ck_assert_int_eq(pgt_s2_relax_perms(&pgt, 0x9000000, HS_PROT_X), -EINVAL);
}
END_TEST

START_TEST(test_set_state_splits_and_changes_only_sw_bits)
{
	const u64 ipa = 0x40000000;
	u64 before_pte, after_pte;
	s8 level;

	init_s2();
	ck_assert_int_eq(pgt_map(&pgt, ipa, SZ_2M, ipa, HS_PROT_RWX), 0);
	ck_assert_int_eq(pgt_set_state(&pgt, ipa + SZ_4K, SZ_4K, HS_PAGE_SHARED_OWNED), 0);
	after_pte = leaf(ipa + SZ_4K, &level);
	ck_assert_int_eq(level, 3);
	ck_assert_uint_eq(pte_state(after_pte), HS_PAGE_SHARED_OWNED);
	ck_assert_uint_eq(pte_state(leaf(ipa, NULL)), HS_PAGE_OWNED);
	before_pte = leaf(ipa + 2 * SZ_4K, NULL);
	ck_assert_uint_eq(after_pte & ~HS_PTE_STATE_MASK, before_pte - SZ_4K);
	ck_assert_int_eq(pgt_set_state(&pgt, ipa, SZ_4K, 4), -EINVAL);
	check_refcounts();
}
END_TEST

START_TEST(test_remap_is_bbm_but_sw_bits_in_place)
{
	const u64 va = 0x40000000;
	unsigned long before;

	init_s1();
	ck_assert_int_eq(pgt_map(&pgt, va, SZ_4K, 0x80000000, HS_PROT_RW), 0);
	before = tlbis();
	/* Same output and attributes, other state: no break needed. */
	ck_assert_int_eq(pgt_map(&pgt, va, SZ_4K, 0x80000000,
				 HS_PROT_RW | PGT_PROT_STATE(HS_PAGE_SHARED_BORROWED)),
			 0);
	ck_assert_uint_eq(tlbis(), before);
	ck_assert_uint_eq(pte_state(leaf(va, NULL)), HS_PAGE_SHARED_BORROWED);
	/* New permissions: break (TLBI) before make. */
	ck_assert_int_eq(pgt_map(&pgt, va, SZ_4K, 0x80000000, HS_PROT_R), 0);
	ck_assert_uint_eq(tlbis(), before + 1);
	ck_assert_uint_eq(pte_to_prot(HS_PGT_S1_EL2, leaf(va, NULL)), HS_PROT_R);
	check_refcounts();
}
END_TEST

START_TEST(test_map_out_of_memory)
{
	init_s1();
	mm->alloc_limit = 2; /* root + one table */
	ck_assert_int_eq(pgt_map(&pgt, 0x40000000, SZ_4K, 0x40000000, HS_PROT_RW), -ENOMEM);
	check_refcounts();
	mm->alloc_limit = FAKE_PAGES;
}
END_TEST

START_TEST(test_unaligned_arguments_refused)
{
	init_s1();
	ck_assert_int_eq(pgt_map(&pgt, 0x40000800, SZ_4K, 0x40000000, HS_PROT_RW), -EINVAL);
	ck_assert_int_eq(pgt_map(&pgt, 0x40000000, SZ_4K, 0x40000010, HS_PROT_RW), -EINVAL);
	ck_assert_int_eq(pgt_unmap(&pgt, 0x40000000, 0x800), -EINVAL);
	ck_assert_uint_eq(mm->live_pages, 1);
}
END_TEST

START_TEST(test_destroy_frees_everything)
{
	init_s2();
	ck_assert_int_eq(pgt_map(&pgt, 0x40000000, 3 * SZ_2M + SZ_4K, 0x40000000, HS_PROT_RWX), 0);
	ck_assert_int_eq(pgt_set_owner(&pgt, 0x50000000, SZ_4K, hs_annotation(HS_OWNER_HYP, 0)), 0);
	ck_assert_int_eq(pgt_map(&pgt, 1UL << 39, SZ_4K, 0, HS_PROT_R), 0);
	ck_assert_uint_gt(mm->live_pages, 2);
	pgt_destroy(&pgt);
	ck_assert_ptr_null(pgt.pgd);
	ck_assert_uint_eq(mm->live_pages, 0);
}
END_TEST

static Suite *pgtable_suite(void)
{
	Suite *s = suite_create("hyp_pgtable");
	TCase *tc = tcase_create("pgtable");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_s1_page_descriptor_bits);
	tcase_add_test(tc, test_s2_page_descriptor_bits);
	tcase_add_loop_test(tc, test_prot_round_trips, 0, ARRAY_SIZE(prot_cases));
	tcase_add_test(tc, test_policy_refusals);
	tcase_add_test(tc, test_el2_wx_refused_changes_nothing);
	tcase_add_test(tc, test_s2_device_exec_refused);
	tcase_add_test(tc, test_1g_block_when_aligned);
	tcase_add_test(tc, test_2m_blocks_and_pages_when_partly_aligned);
	tcase_add_test(tc, test_partial_unmap_splits_block_bbm);
	tcase_add_test(tc, test_s2_partial_unmap_flushes_by_ipa);
	tcase_add_test(tc, test_unmap_frees_empty_tables);
	tcase_add_test(tc, test_freed_table_is_invalidated_at_its_own_address);
	tcase_add_test(tc, test_refcounts_track_entries_throughout);
	tcase_add_test(tc, test_set_owner_annotates_pages);
	tcase_add_test(tc, test_set_owner_guest_metadata_on_empty_range);
	tcase_add_test(tc, test_set_owner_refused_on_s1);
	tcase_add_test(tc, test_concatenated_s2_root);
	tcase_add_test(tc, test_s2_geometry_limits);
	tcase_add_test(tc, test_vtcr_and_tcr_values);
	tcase_add_test(tc, test_find_largest_block_respects_bounds_and_annotations);
	tcase_add_test(tc, test_test_clear_young_clears_af);
	tcase_add_test(tc, test_wrprotect_and_relax_perms);
	tcase_add_test(tc, test_set_state_splits_and_changes_only_sw_bits);
	tcase_add_test(tc, test_remap_is_bbm_but_sw_bits_in_place);
	tcase_add_test(tc, test_map_out_of_memory);
	tcase_add_test(tc, test_unaligned_arguments_refused);
	tcase_add_test(tc, test_destroy_frees_everything);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(pgtable_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
