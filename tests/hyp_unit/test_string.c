// SPDX-License-Identifier: MIT
/*
 * Host unit tests of hyp/lib/string.c. Under HS_HOST_TEST hyp/string.h
 * renames the functions (hyp_memset, ...) so they coexist with the C library.
 */
#include <check.h>
#include <stdlib.h>
#include <sys/mman.h>

#include <hyp/string.h>

START_TEST(test_memset_unaligned_edges)
{
	u8 buf[64];
	unsigned start, len, i;

	for (start = 0; start < 9; start++) {
		for (len = 0; len < 40; len++) {
			for (i = 0; i < sizeof(buf); i++)
				buf[i] = 0x11;
			ck_assert_ptr_eq(memset(buf + start, 0xab, len), buf + start);
			for (i = 0; i < sizeof(buf); i++)
				ck_assert_uint_eq(buf[i],
						  i >= start && i < start + len ? 0xab : 0x11);
		}
	}
}
END_TEST

START_TEST(test_memcpy_and_memcmp)
{
	u8 src[48], dst[48];
	unsigned off, i;

	for (i = 0; i < sizeof(src); i++)
		src[i] = (u8)(i * 7 + 1);
	for (off = 0; off < 9; off++) {
		for (i = 0; i < sizeof(dst); i++)
			dst[i] = 0;
		ck_assert_ptr_eq(memcpy(dst + off, src + (off & 1), 30), dst + off);
		ck_assert_int_eq(memcmp(dst + off, src + (off & 1), 30), 0);
		ck_assert_uint_eq(dst[off + 30], 0);
	}
	ck_assert_int_lt(memcmp("abc", "abd", 3), 0);
	ck_assert_int_gt(memcmp("abd", "abc", 3), 0);
	ck_assert_int_eq(memcmp("abd", "abc", 2), 0);
}
END_TEST

/*
 * memzero_pages checks 1 KiB at a time and writes only the 64-byte blocks
 * that are not zero: non-zero bytes anywhere (either edge of a chunk, the
 * tail) are cleared, and a read-only zero page behind them is never written.
 */
START_TEST(test_memzero_pages_writes_only_nonzero_blocks)
{
	const size_t page = 4096;
	static const size_t offs[] = {0, 7, 63, 64, 1023, 1024, 2047, 4095, 4096 + 100};
	static const size_t lens[] = {8, 64, 1024, 1032, 4096, 4096 + 2048 + 8};
	u8 *m = mmap(NULL, 3 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(m, MAP_FAILED);
	for (size_t l = 0; l < sizeof(lens) / sizeof(lens[0]); l++) {
		for (size_t o = 0; o < sizeof(offs) / sizeof(offs[0]); o++) {
			u8 *p = m + 3 * page - lens[l] - page; /* ends at the read-only page */
			ck_assert_int_eq(mprotect(m, 2 * page, PROT_READ | PROT_WRITE), 0);
			memset(m, 0, 2 * page);
			if (offs[o] < lens[l])
				p[offs[o]] = 0x5a;
			p[lens[l] - 1] = 0x11;
			/* The zero page after the range: any store there faults. */
			ck_assert_int_eq(mprotect(m + 2 * page, page, PROT_READ), 0);
			memzero_pages(p, lens[l]);
			for (size_t i = 0; i < lens[l]; i++)
				ck_assert_uint_eq(p[i], 0);
			/*
			 * Zero 64-byte blocks are only read: clear them again read-only
			 * (a tail shorter than a block is always written).
			 */
			ck_assert_int_eq(mprotect(m, 2 * page, PROT_READ), 0);
			memzero_pages(p, lens[l] & ~(size_t)63);
		}
	}
	munmap(m, 3 * page);
}
END_TEST

START_TEST(test_strlen)
{
	ck_assert_uint_eq(strlen(""), 0);
	ck_assert_uint_eq(strlen("hypscope"), 8);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("hyp_string");
	TCase *tc = tcase_create("string");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_memset_unaligned_edges);
	tcase_add_test(tc, test_memcpy_and_memcmp);
	tcase_add_test(tc, test_memzero_pages_writes_only_nonzero_blocks);
	tcase_add_test(tc, test_strlen);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
