// SPDX-License-Identifier: MIT
/* Host unit tests of hyp/early_alloc.c (the boot-time bump allocator). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <hyp/arch.h>
#include <hyp/early_alloc.h>

struct hs_fake_arch_state hs_fake_arch;

#define NR_PAGES 32

static u8 *mem;
static struct hyp_early_alloc ea;

static void setup(void)
{
	mem = aligned_alloc(0x10000, NR_PAGES * HS_PAGE_SIZE);
	ck_assert_ptr_nonnull(mem);
	memset(mem, 0xa5, NR_PAGES * HS_PAGE_SIZE);
	hyp_early_alloc_init(&ea, mem, NR_PAGES * HS_PAGE_SIZE);
}

static void teardown(void)
{
	free(mem);
}

static bool zeroed(const u8 *p, u64 size)
{
	while (size--) {
		if (*p++)
			return false;
	}
	return true;
}

START_TEST(test_pages_are_zeroed_and_sequential)
{
	u8 *a = hyp_early_alloc_page(&ea);
	u8 *b = hyp_early_alloc_contig(&ea, 3);

	ck_assert_ptr_eq(a, mem);
	ck_assert_ptr_eq(b, mem + HS_PAGE_SIZE);
	ck_assert(zeroed(a, 4 * HS_PAGE_SIZE));
	ck_assert(!zeroed(mem + 4 * HS_PAGE_SIZE, 1)); /* untouched beyond */
}
END_TEST

/* The table pools' pages are zeroed by their own allocators: carved out as they are. */
START_TEST(test_contig_unzeroed_leaves_contents)
{
	u8 *a = hyp_early_alloc_contig_unzeroed(&ea, 2);
	u8 *b = hyp_early_alloc_contig(&ea, 1);

	ck_assert_ptr_eq(a, mem);
	ck_assert_ptr_eq(b, mem + 2 * HS_PAGE_SIZE);
	for (u64 i = 0; i < 2 * HS_PAGE_SIZE; i++)
		ck_assert_uint_eq(a[i], 0xa5);
	ck_assert(zeroed(b, HS_PAGE_SIZE));
	ck_assert_uint_eq(hyp_early_alloc_nr_used_pages(&ea), 3);
	ck_assert_ptr_null(hyp_early_alloc_contig_unzeroed(&ea, NR_PAGES));
}
END_TEST

START_TEST(test_counts_and_reports_used_pages)
{
	ck_assert_uint_eq(hyp_early_alloc_nr_used_pages(&ea), 0);
	hyp_early_alloc_contig(&ea, 5);
	ck_assert_uint_eq(hyp_early_alloc_nr_used_pages(&ea), 5);
	ck_assert(hyp_early_alloc_page_used(&ea, mem + 4 * HS_PAGE_SIZE));
	ck_assert(!hyp_early_alloc_page_used(&ea, mem + 5 * HS_PAGE_SIZE));
	ck_assert(!hyp_early_alloc_page_used(&ea, mem - HS_PAGE_SIZE));
}
END_TEST

START_TEST(test_exhaustion_returns_null_and_uses_nothing)
{
	ck_assert_ptr_nonnull(hyp_early_alloc_contig(&ea, NR_PAGES - 1));
	ck_assert_ptr_null(hyp_early_alloc_contig(&ea, 2));
	ck_assert_uint_eq(hyp_early_alloc_nr_used_pages(&ea), NR_PAGES - 1);
	ck_assert_ptr_nonnull(hyp_early_alloc_page(&ea));
	ck_assert_ptr_null(hyp_early_alloc_page(&ea));
}
END_TEST

START_TEST(test_pages_exact_aligned)
{
	u8 *p;

	hyp_early_alloc_page(&ea);
	p = hyp_early_alloc_pages_exact(4 * HS_PAGE_SIZE, &ea);
	ck_assert_ptr_eq(p, mem + 4 * HS_PAGE_SIZE);
	ck_assert(zeroed(p, 4 * HS_PAGE_SIZE));
	ck_assert_uint_eq(hyp_early_alloc_nr_used_pages(&ea), 8); /* gap counts as used */
	ck_assert_ptr_null(hyp_early_alloc_pages_exact(3 * HS_PAGE_SIZE, &ea));
}
END_TEST

START_TEST(test_mm_ops_build_tables)
{
	struct hyp_mm_ops ops;
	struct hyp_pgtable pgt;

	hyp_early_alloc_mm_ops(&ops, &ea, NULL, NULL);
	ck_assert_ptr_eq(ops.arg, &ea);
	ck_assert_ptr_eq(ops.zalloc_page(ops.arg), mem);
	ck_assert_int_eq(ops.page_count(mem), 0);
	ops.get_page(mem);
	ops.put_page(mem);
	(void)pgt;
}
END_TEST

int main(void)
{
	Suite *s = suite_create("hyp_early_alloc");
	TCase *tc = tcase_create("early_alloc");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_pages_are_zeroed_and_sequential);
	tcase_add_test(tc, test_contig_unzeroed_leaves_contents);
	tcase_add_test(tc, test_counts_and_reports_used_pages);
	tcase_add_test(tc, test_exhaustion_returns_null_and_uses_nothing);
	tcase_add_test(tc, test_pages_exact_aligned);
	tcase_add_test(tc, test_mm_ops_build_tables);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
