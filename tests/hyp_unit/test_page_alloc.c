// SPDX-License-Identifier: MIT
/*
 * Host unit tests of hyp/page_alloc.c: the buddy allocator runs over a host
 * buffer posing as physical pages at FAKE_PHYS, with a vmemmap array
 * indexed (through hyp_vmemmap) by absolute pfn, as at EL2.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <hyp/arch.h>
#include <hyp/page_alloc.h>

struct hs_fake_arch_state hs_fake_arch;

#define FAKE_PHYS 0x880000000UL /* pfn 0x880000: aligned far beyond max order */
#define FAKE_PFN (FAKE_PHYS >> HS_PAGE_SHIFT)
#define NR_PAGES 100
#define RESERVED 3

static u8 *mem;
static struct hyp_page *vmemmap;
static struct hyp_pool pool;

static void *page_va(u64 idx)
{
	return mem + idx * HS_PAGE_SIZE;
}

static void setup(void)
{
	memset(&hs_fake_arch, 0, sizeof(hs_fake_arch));
	mem = aligned_alloc(HS_PAGE_SIZE, NR_PAGES * HS_PAGE_SIZE);
	ck_assert_ptr_nonnull(mem);
	memset(mem, 0xa5, NR_PAGES * HS_PAGE_SIZE); /* the pool must zero it */
	vmemmap = calloc(NR_PAGES, sizeof(*vmemmap));
	ck_assert_ptr_nonnull(vmemmap);
	hyp_vmemmap = vmemmap - FAKE_PFN;
	hyp_physvirt_offset = (s64)(FAKE_PHYS - (u64)(uintptr_t)mem);
	ck_assert_int_eq(hyp_pool_init(&pool, FAKE_PFN, NR_PAGES, RESERVED), 0);
}

static void teardown(void)
{
	ck_assert_int_eq(hs_fake_arch.locks_held, 0);
	free(mem);
	free(vmemmap);
}

static bool block_is_zero_past_node(const u8 *p, u8 order)
{
	u64 i;

	for (i = sizeof(struct hyp_list); i < (HS_PAGE_SIZE << order); i++) {
		if (p[i])
			return false;
	}
	return true;
}

/*
 * The checker's view: every list is a consistent circular list of free
 * block heads of its order, aligned, inside the pool, zeroed past the node;
 * returns the number of free pages and fills @bitmap with free page indexes.
 */
static u64 check_free_lists(u8 *bitmap)
{
	u64 free_pages = 0, i, idx;
	struct hyp_list *head, *node;
	struct hyp_page *p;
	u32 order;

	memset(bitmap, 0, NR_PAGES);
	for (order = 0; order < HS_MAX_ORDER; order++) {
		head = &pool.free_area[order];
		if (order > pool.max_order)
			ck_assert_ptr_eq(head->next, head);
		for (node = head->next; node != head; node = node->next) {
			ck_assert_ptr_eq(node->next->prev, node);
			u64 pa = hyp_virt_to_phys(node);

			ck_assert_uint_ge(pa, pool.range_start);
			ck_assert_uint_le(pa + (HS_PAGE_SIZE << order), pool.range_end);
			ck_assert_uint_eq(pa & ((HS_PAGE_SIZE << order) - 1), 0);
			p = hyp_virt_to_page(node);
			ck_assert_uint_eq(p->order, order);
			ck_assert_uint_eq(p->refcount, 0);
			ck_assert(block_is_zero_past_node((u8 *)node, order));
			idx = (pa - FAKE_PHYS) >> HS_PAGE_SHIFT;
			for (i = 0; i < (1UL << order); i++) {
				ck_assert_uint_eq(bitmap[idx + i], 0);
				bitmap[idx + i] = (u8)(order + 1);
			}
			free_pages += 1UL << order;
		}
	}
	return free_pages;
}

START_TEST(test_init_builds_buddy_lists)
{
	u8 bitmap[NR_PAGES];
	u64 i;

	ck_assert_uint_eq(check_free_lists(bitmap), NR_PAGES - RESERVED);
	ck_assert_uint_eq(pool.max_order, 7); /* 100 pages -> order 7 would hold them */
	ck_assert_uint_eq(pool.range_start, FAKE_PHYS);
	ck_assert_uint_eq(pool.range_end, FAKE_PHYS + NR_PAGES * HS_PAGE_SIZE);
	for (i = 0; i < NR_PAGES; i++)
		ck_assert_uint_eq(!bitmap[i], i < RESERVED);
	/* 3..99: 1@3, 4@4, 8@8, 32@32, 32@64, 4@96 */
	ck_assert_uint_eq(bitmap[3], 1);
	ck_assert_uint_eq(bitmap[4], 3);
	ck_assert_uint_eq(bitmap[8], 4);
	ck_assert_uint_eq(bitmap[16], 5);
	ck_assert_uint_eq(bitmap[32], 6);
	ck_assert_uint_eq(bitmap[64], 6);
	ck_assert_uint_eq(bitmap[96], 3);
}
END_TEST

START_TEST(test_reserved_pages_stay_allocated)
{
	u64 i, n = 0;
	void *p;

	for (i = 0; i < RESERVED; i++) {
		ck_assert_int_eq(hyp_page_count(page_va(i)), 1);
		ck_assert_uint_eq(hyp_virt_to_page(page_va(i))->order, 0);
	}
	while ((p = hyp_alloc_pages(&pool, 0))) {
		ck_assert((u8 *)p >= (u8 *)page_va(RESERVED));
		n++;
	}
	ck_assert_uint_eq(n, NR_PAGES - RESERVED);
}
END_TEST

START_TEST(test_alloc_free_round_trip_restores_lists)
{
	static const u8 orders[] = {0, 3, 1, 5, 0, 2, 4, 0};
	u8 before[NR_PAGES], after[NR_PAGES];
	struct hyp_page vm_before[NR_PAGES];
	void *blocks[ARRAY_SIZE(orders)];
	unsigned i;

	check_free_lists(before);
	memcpy(vm_before, vmemmap, sizeof(vm_before));
	for (i = 0; i < ARRAY_SIZE(orders); i++) {
		blocks[i] = hyp_alloc_pages(&pool, orders[i]);
		ck_assert_ptr_nonnull(blocks[i]);
		memset(blocks[i], 0x5a, HS_PAGE_SIZE << orders[i]);
	}
	for (i = 0; i < ARRAY_SIZE(orders); i++)
		hyp_put_page(&pool, blocks[(i * 3) % ARRAY_SIZE(orders)]); /* mixed order */
	check_free_lists(after);
	ck_assert_mem_eq(before, after, sizeof(before));
	ck_assert_mem_eq(vm_before, vmemmap, sizeof(vm_before));
	ck_assert_uint_eq(hs_fake_arch.warns, 0);
}
END_TEST

START_TEST(test_alloc_splits_higher_order)
{
	u8 bitmap[NR_PAGES];
	void *p;

	/* Take the single page and the 4-page block: order 0 must split 8@8. */
	ck_assert_ptr_eq(hyp_alloc_pages(&pool, 0), page_va(3));
	ck_assert_ptr_eq(hyp_alloc_pages(&pool, 2), page_va(4));
	ck_assert_ptr_eq(hyp_alloc_pages(&pool, 2), page_va(96));
	p = hyp_alloc_pages(&pool, 0);
	ck_assert_ptr_eq(p, page_va(8));
	check_free_lists(bitmap);
	ck_assert_uint_eq(bitmap[9], 1); /* buddy halves left behind */
	ck_assert_uint_eq(bitmap[10], 2);
	ck_assert_uint_eq(bitmap[12], 3);
	ck_assert_uint_eq(hyp_virt_to_page(p)->order, 0);
}
END_TEST

START_TEST(test_free_coalesces_buddies)
{
	u8 bitmap[NR_PAGES];
	void *a, *b;

	ck_assert_ptr_eq(hyp_alloc_pages(&pool, 0), page_va(3));
	ck_assert_ptr_eq(hyp_alloc_pages(&pool, 2), page_va(4));
	ck_assert_ptr_eq(hyp_alloc_pages(&pool, 2), page_va(96));
	a = hyp_alloc_pages(&pool, 0);
	b = hyp_alloc_pages(&pool, 0);
	ck_assert_ptr_eq(b, page_va(9));
	hyp_put_page(&pool, a);
	check_free_lists(bitmap);
	ck_assert_uint_eq(bitmap[8], 1); /* buddy 9 still allocated */
	hyp_put_page(&pool, b);
	check_free_lists(bitmap);
	ck_assert_uint_eq(bitmap[8], 4); /* back to one 8-page block */
	ck_assert_uint_eq(hyp_virt_to_page(page_va(9))->order, HS_NO_ORDER);
}
END_TEST

START_TEST(test_blocks_are_aligned)
{
	u8 order;
	void *p;

	for (order = 0; order <= 5; order++) {
		p = hyp_alloc_pages(&pool, order);
		ck_assert_ptr_nonnull(p);
		ck_assert_uint_eq(hyp_virt_to_phys(p) & ((HS_PAGE_SIZE << order) - 1), 0);
	}
	/* 64@64 is the only order >= 5 block left and it is order 5. */
	ck_assert_ptr_null(hyp_alloc_pages(&pool, 6));
}
END_TEST

START_TEST(test_alloc_returns_zeroed_memory)
{
	u8 *p = hyp_alloc_pages(&pool, 1);
	u64 i;

	memset(p, 0xff, 2 * HS_PAGE_SIZE);
	hyp_put_page(&pool, p);
	p = hyp_alloc_pages(&pool, 1);
	for (i = 0; i < 2 * HS_PAGE_SIZE; i++)
		ck_assert_uint_eq(p[i], 0);
}
END_TEST

START_TEST(test_refcounts_get_put)
{
	void *p = hyp_alloc_pages(&pool, 0);

	ck_assert_int_eq(hyp_page_count(p), 1);
	hyp_get_page(&pool, p);
	ck_assert_int_eq(hyp_page_count(p), 2);
	hyp_put_page(&pool, p);
	ck_assert_int_eq(hyp_page_count(p), 1);
	hyp_put_page(&pool, p);
	ck_assert_int_eq(hyp_page_count(p), 0);
	ck_assert_uint_eq(hs_fake_arch.warns, 0);
}
END_TEST

START_TEST(test_refcount_underflow_warns)
{
	u8 before[NR_PAGES], after[NR_PAGES];
	void *p = hyp_alloc_pages(&pool, 0);

	hyp_put_page(&pool, p);
	check_free_lists(before);
	hyp_put_page(&pool, p); /* double free */
	ck_assert_uint_eq(hs_fake_arch.warns, 1);
	hyp_get_page(&pool, p); /* reviving a free page */
	ck_assert_uint_eq(hs_fake_arch.warns, 2);
	check_free_lists(after);
	ck_assert_mem_eq(before, after, sizeof(before));
}
END_TEST

START_TEST(test_refcount_overflow_warns)
{
	void *p = hyp_alloc_pages(&pool, 0);

	hyp_virt_to_page(p)->refcount = 0xffff;
	hyp_get_page(&pool, p);
	ck_assert_uint_eq(hs_fake_arch.warns, 1);
	ck_assert_int_eq(hyp_page_count(p), 0xffff);
}
END_TEST

START_TEST(test_split_page_frees_individually)
{
	u8 before[NR_PAGES], after[NR_PAGES];
	u8 *p;
	int i;

	check_free_lists(before);
	p = hyp_alloc_pages(&pool, 2);
	hyp_split_page(hyp_virt_to_page(p));
	for (i = 0; i < 4; i++) {
		ck_assert_int_eq(hyp_page_count(p + i * HS_PAGE_SIZE), 1);
		ck_assert_uint_eq(hyp_virt_to_page(p + i * HS_PAGE_SIZE)->order, 0);
	}
	for (i = 3; i >= 0; i--)
		hyp_put_page(&pool, p + i * HS_PAGE_SIZE);
	check_free_lists(after);
	ck_assert_mem_eq(before, after, sizeof(before));
}
END_TEST

START_TEST(test_too_large_order_fails)
{
	ck_assert_ptr_null(hyp_alloc_pages(&pool, (u8)(pool.max_order + 1)));
	ck_assert_ptr_null(hyp_alloc_pages(&pool, HS_MAX_ORDER));
}
END_TEST

START_TEST(test_hyp_page_layout_matches_abi)
{
	struct hyp_page pg = {0};
	u64 raw;

	ck_assert_uint_eq(hyp_page_hyp_state(&pg), HS_PAGE_NOPAGE); /* zeroed vmemmap */
	pg.refcount = 0x1234;
	pg.order = 7;
	hyp_page_set_host_state(&pg, HS_PAGE_SHARED_OWNED);
	hyp_page_set_hyp_state(&pg, HS_PAGE_SHARED_BORROWED);
	pg.guest_shares = 0xdeadbeef;
	memcpy(&raw, &pg, sizeof(raw));
	ck_assert_uint_eq(hs_hyp_page_refcount(raw), 0x1234);
	ck_assert_uint_eq(hs_hyp_page_order(raw), 7);
	ck_assert_uint_eq(hs_hyp_page_host_state(raw), HS_PAGE_SHARED_OWNED);
	ck_assert_uint_eq(hs_hyp_page_hyp_state(raw), HS_PAGE_SHARED_BORROWED);
	ck_assert_uint_eq(hs_hyp_page_guest_shares(raw), 0xdeadbeef);
}
END_TEST

START_TEST(test_init_rejects_bad_ranges)
{
	struct hyp_pool other;

	ck_assert_int_eq(hyp_pool_init(&other, FAKE_PFN, 0, 0), -EINVAL);
	ck_assert_int_eq(hyp_pool_init(&other, FAKE_PFN, 4, 5), -EINVAL);
}
END_TEST

static Suite *page_alloc_suite(void)
{
	Suite *s = suite_create("hyp_page_alloc");
	TCase *tc = tcase_create("buddy");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_init_builds_buddy_lists);
	tcase_add_test(tc, test_reserved_pages_stay_allocated);
	tcase_add_test(tc, test_alloc_free_round_trip_restores_lists);
	tcase_add_test(tc, test_alloc_splits_higher_order);
	tcase_add_test(tc, test_free_coalesces_buddies);
	tcase_add_test(tc, test_blocks_are_aligned);
	tcase_add_test(tc, test_alloc_returns_zeroed_memory);
	tcase_add_test(tc, test_refcounts_get_put);
	tcase_add_test(tc, test_refcount_underflow_warns);
	tcase_add_test(tc, test_refcount_overflow_warns);
	tcase_add_test(tc, test_split_page_frees_individually);
	tcase_add_test(tc, test_too_large_order_fails);
	tcase_add_test(tc, test_hyp_page_layout_matches_abi);
	tcase_add_test(tc, test_init_rejects_bad_ranges);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(page_alloc_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
