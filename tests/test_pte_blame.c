/* SPDX-License-Identifier: MIT */
/*
 * PTE provenance (pte_blame.h): each store into a walk-reachable table page
 * is kept per descriptor with its CPU, PC, instruction count and hypercall,
 * on the host's stage 2, a guest's, with several CPUs; a table page freed
 * with its VM leaves the index (the host's stores to it are data again).
 */
#include <check.h>
#include <string.h>

#include <hypscope/abi.h>

#include "host_vm.h"
#include "profile.h"
#include "pte_blame.h"
#include "testutil.h"

#define GFN 0x48100

static struct hs_blame *blame_on(struct hs_machine *m)
{
	struct hs_blame *b;
	struct hs_error err = {0};
	ck_assert_msg(hs_blame_new(m, &b, &err) == 0, "%s", err.msg);
	return b;
}

static void expect_where(struct hs_machine *m, uint64_t pc, const char *file)
{
	char where[200];
	hs_pc_where(m, pc, where, sizeof(where));
	ck_assert_msg(strstr(where, file), "store at %s, expected one in %s", where, file);
}

START_TEST(share_and_unshare_are_blamed_on_their_hypercalls)
{
	struct hs_machine *m = hs_test_booted(1, 0);
	struct hs_blame *b = blame_on(m);
	uint64_t pfn = (hs_machine_opts(m)->ram_base >> 12) + 0x8000;
	uint64_t before = hs_machine_icount(m);
	hs_test_hvc(m, 0, HS_HC_host_share_hyp, pfn, 0);
	uint64_t mid = hs_machine_icount(m);
	hs_test_hvc(m, 0, HS_HC_host_unshare_hyp, pfn, 0);
	uint64_t desc = hs_test_desc_pa(m, true, pfn << 12);
	struct hs_blame_rec r[HS_BLAME_DEPTH];
	uint64_t total;
	size_t n = hs_blame_history(b, desc, r, HS_BLAME_DEPTH, &total);
	ck_assert_uint_ge(n, 2);
	ck_assert_uint_eq(total, n);
	/* most recent first: the unshare, then the share */
	ck_assert_str_eq(r[0].hvc_name, "host_unshare_hyp");
	ck_assert_int_eq(r[0].hvc_nr, HS_HC_host_unshare_hyp);
	ck_assert_uint_eq(r[0].new, hs_test_rd64(m, desc));
	ck_assert_uint_gt(r[0].icount, mid);
	ck_assert_uint_eq(r[0].el, 2);
	expect_where(m, r[0].pc, "mem_protect.c");
	ck_assert_str_eq(r[1].hvc_name, "host_share_hyp");
	ck_assert_uint_eq(r[1].new, r[0].old);
	ck_assert_uint_gt(r[1].icount, before);
	ck_assert_uint_lt(r[1].icount, mid);
	expect_where(m, r[1].pc, "pgtable.c");
	/* a data page is no table: the host's stores to it are not recorded */
	struct hs_blame_stats st0, st1;
	hs_blame_stats(b, &st0);
	hs_test_host_touch(m, 0, pfn, true);
	hs_blame_stats(b, &st1);
	ck_assert_uint_eq(st1.stores, st0.stores);
	ck_assert(!hs_blame_epoch(b, pfn << 12, &(struct hs_blame_epoch){0}));
	hs_blame_free(b);
	hs_machine_destroy(m);
}
END_TEST

START_TEST(each_cpu_is_blamed_for_its_own_store)
{
	struct hs_machine *m = hs_test_booted(2, 0);
	struct hs_blame *b = blame_on(m);
	uint64_t pfn = (hs_machine_opts(m)->ram_base >> 12) + 0x8000;
	hs_test_hvc(m, 1, HS_HC_host_share_hyp, pfn, 0);
	hs_test_hvc(m, 0, HS_HC_host_unshare_hyp, pfn, 0);
	struct hs_blame_rec r[2];
	ck_assert_uint_ge(hs_blame_history(b, hs_test_desc_pa(m, true, pfn << 12), r, 2, NULL), 2);
	ck_assert_uint_eq(r[0].cpu, 0);
	ck_assert_str_eq(r[0].hvc_name, "host_unshare_hyp");
	ck_assert_uint_eq(r[1].cpu, 1);
	ck_assert_str_eq(r[1].hvc_name, "host_share_hyp");
	hs_blame_free(b);
	hs_machine_destroy(m);
}
END_TEST

/* The deepest descriptor of the guest's stage-2 walk of ipa. */
static uint64_t guest_desc(struct hs_machine *m, uint64_t h, uint64_t ipa)
{
	uint64_t vttbr, vtcr;
	struct hs_error err = {0};
	ck_assert_msg(hs_vm_regs(m, h, &vttbr, &vtcr, &err) == 0, "%s", err.msg);
	struct hs_pt_regime r;
	char msg[128];
	ck_assert_msg(hs_machine_regime_s2(m, vtcr, vttbr, &r, msg, sizeof(msg)) == 0, "%s", msg);
	return hs_test_regime_desc_pa(m, &r, ipa);
}

static uint64_t vm_with_share(struct hs_machine *m, uint64_t pfn)
{
	uint64_t h;
	int64_t ret;
	struct hs_error err = {0};
	ck_assert_msg(hs_vm_create(m, 0, false, &h, &err) == 0, "%s", err.msg);
	ck_assert_msg(hs_vm_share(m, 0, h, pfn, GFN, 1, HS_PROT_RW, &ret, &err) == 0, "%s",
		      err.msg);
	ck_assert_int_eq(ret, 0);
	return h;
}

START_TEST(a_guest_stage2_entry_is_blamed_on_the_share)
{
	struct hs_machine *m = hs_test_booted(1, 0);
	struct hs_blame *b = blame_on(m);
	uint64_t pfn = (hs_machine_opts(m)->ram_base >> 12) + 0x400;
	uint64_t h = vm_with_share(m, pfn);
	struct hs_blame_rec r;
	uint64_t desc = guest_desc(m, h, (uint64_t)GFN << 12);
	ck_assert(hs_blame_last(b, desc, &r));
	ck_assert_str_eq(r.hvc_name, "host_share_guest");
	ck_assert_uint_eq(r.new, hs_test_rd64(m, desc));
	ck_assert_uint_eq(r.new & 0xfffffffff000ULL, pfn << 12);
	expect_where(m, r.pc, ".c");
	hs_blame_free(b);
	hs_machine_destroy(m);
}
END_TEST

START_TEST(a_freed_table_page_leaves_the_index_and_a_new_vm_starts_afresh)
{
	struct hs_machine *m = hs_test_booted(1, 0);
	struct hs_blame *b = blame_on(m);
	uint64_t pfn = (hs_machine_opts(m)->ram_base >> 12) + 0x400;
	uint64_t h1 = vm_with_share(m, pfn);
	uint64_t d1 = guest_desc(m, h1, (uint64_t)GFN << 12);
	struct hs_blame_epoch e1;
	ck_assert(hs_blame_epoch(b, d1, &e1));
	int64_t ret;
	struct hs_error err = {0};
	ck_assert_int_eq(hs_vm_teardown(m, 0, h1, &ret, &err), 0);
	ck_assert_int_eq(ret, 0);
	/* the VM's tables are gone from the index with it */
	ck_assert(!hs_blame_epoch(b, d1, &e1));
	/* the host owns the page again and writes it: data, not a table store */
	uint64_t gone = hs_machine_icount(m);
	hs_test_host_touch(m, 0, d1 >> 12, true);
	struct hs_blame_rec old[HS_BLAME_DEPTH];
	size_t nold = hs_blame_history(b, d1, old, HS_BLAME_DEPTH, NULL);
	for (size_t i = 0; i < nold; i++)
		ck_assert_uint_lt(old[i].icount, gone);
	uint64_t born = hs_machine_icount(m);
	uint64_t h2 = vm_with_share(m, pfn);
	uint64_t d2 = guest_desc(m, h2, (uint64_t)GFN << 12);
	struct hs_blame_epoch e2;
	ck_assert(hs_blame_epoch(b, d2, &e2));
	ck_assert_uint_gt(e2.icount, born);
	/* nothing from the first VM's life of these pages: every record is the second VM's */
	struct hs_blame_rec r[HS_BLAME_DEPTH];
	size_t n = hs_blame_history(b, d2, r, HS_BLAME_DEPTH, NULL);
	ck_assert_uint_ge(n, 1);
	for (size_t i = 0; i < n; i++)
		ck_assert_uint_gt(r[i].icount, born);
	hs_blame_free(b);
	hs_machine_destroy(m);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pte_blame");
	TCase *tc = tcase_create("blame");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, share_and_unshare_are_blamed_on_their_hypercalls);
	tcase_add_test(tc, each_cpu_is_blamed_for_its_own_store);
	tcase_add_test(tc, a_guest_stage2_entry_is_blamed_on_the_share);
	tcase_add_test(tc, a_freed_table_page_leaves_the_index_and_a_new_vm_starts_afresh);
	suite_add_tcase(s, tc);
	return hs_test_run(s);
}
