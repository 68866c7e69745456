/* SPDX-License-Identifier: MIT */
/*
 * The invariant checker on real boots: clean after boot and after
 * share/pin/unpin/unshare; and mutation tests — corrupt emulated memory the
 * way a hypervisor bug would and assert the right rule fires.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include <hypscope/abi.h>

#include "host.h"
#include "hyp_state.h"
#include "inspect_check.h"
#include "pt_translate.h"
#include "sysregs.h"
#include "testutil.h"

static struct hs_machine *m;
static struct hs_check_report rep;

static void setup(void)
{
	m = hs_test_booted(1, 0);
	hs_check_report_init(&rep);
}

static void teardown(void)
{
	hs_check_report_free(&rep);
	hs_machine_destroy(m);
}

static const char *report_text(void)
{
	static char buf[8192];
	struct hs_strbuf sb;
	hs_sb_init(&sb);
	hs_check_text(&rep, &sb);
	snprintf(buf, sizeof(buf), "%s", hs_sb_str(&sb));
	hs_sb_free(&sb);
	return buf;
}

static void assert_clean(const char *when)
{
	int n = hs_check(m, &rep);
	ck_assert_msg(n == 0, "%s: %d violations\n%s", when, n, report_text());
}

static void assert_fires(const char *rule, uint64_t pa)
{
	int n = hs_check(m, &rep);
	ck_assert_msg(n > 0, "no violation after corrupting (want %s)", rule);
	bool found = false;
	for (size_t i = 0; i < rep.nr; i++)
		if (!strcmp(rep.v[i].rule, rule) && (pa == ~0ULL || rep.v[i].pa == pa))
			found = true;
	ck_assert_msg(found, "rule %s did not fire at %#lx:\n%s", rule, (unsigned long)pa,
		      report_text());
}

static int64_t hvc1(int nr, uint64_t arg)
{
	struct hs_host_op res;
	struct hs_stop stop;
	struct hs_error err = {0};
	ck_assert_msg(hs_host_hvc(m, 0, HS_HC_FN(nr), &arg, 1, &res, &stop, &err) == 0, "%s",
		      err.msg);
	ck_assert_int_eq(stop.reason, HS_STOP_DONE);
	ck_assert_int_eq(res.x0, HS_SMCCC_SUCCESS);
	return res.x1;
}

static uint64_t sym(const char *name)
{
	uint64_t pa = 0;
	ck_assert_int_eq(hs_sym_pa(m, name, &pa, NULL), 0);
	return pa;
}

START_TEST(clean_after_boot)
{
	assert_clean("after boot");
	ck_assert_uint_eq(rep.pages_checked, HS_RAM_SIZE_DEFAULT >> HS_PAGE_SHIFT);
	ck_assert_uint_gt(rep.tables_checked, 3);
	ck_assert_uint_gt(rep.free_blocks_checked, 3);
}
END_TEST

START_TEST(clean_through_share_pin_unpin_unshare)
{
	uint64_t pfn = 0x50000000 >> HS_PAGE_SHIFT, pfn2 = 0x60000000 >> HS_PAGE_SHIFT;
	ck_assert_int_eq(hvc1(HS_HC_host_share_hyp, pfn), 0);
	assert_clean("after host_share_hyp");
	ck_assert_int_eq(hvc1(HS_HC_hyp_pin_shared, pfn), 0);
	assert_clean("after hyp_pin_shared");
	ck_assert_int_eq(hvc1(HS_HC_host_share_hyp, pfn2), 0);
	ck_assert_int_eq(hvc1(HS_HC_hyp_pin_shared, pfn2), 0);
	assert_clean("after a second share + pin");
	ck_assert_int_eq(hvc1(HS_HC_hyp_unpin_shared, pfn), 0);
	assert_clean("after hyp_unpin_shared");
	ck_assert_int_eq(hvc1(HS_HC_host_unshare_hyp, pfn), 0);
	assert_clean("after host_unshare_hyp");
	/* refused calls change nothing and stay clean */
	ck_assert_int_eq(hvc1(HS_HC_host_unshare_hyp, pfn2), -HS_EBUSY);
	ck_assert_int_eq(hvc1(HS_HC_host_share_hyp, sym("__hyp_text_start") >> HS_PAGE_SHIFT),
			 -HS_EPERM);
	assert_clean("after refused calls");
}
END_TEST

START_TEST(mutation_el2_pte_made_wx)
{
	const struct hs_layout *l = hs_machine_layout(m);
	uint64_t text = sym("__hyp_text_start") & ~(HS_PAGE_SIZE - 1);
	uint64_t d = hs_test_desc_pa(m, false, hs_layout_hyp_va(l, text));
	uint64_t pte = hs_test_rd64(m, d);
	ck_assert(pte & (1ULL << 7));		/* read-only text */
	hs_test_wr64(m, d, pte & ~(1ULL << 7)); /* AP[2] = 0: writable, still executable */
	assert_fires("el2-wx", text);
}
END_TEST

START_TEST(mutation_annotation_changed_owner)
{
	uint64_t text = sym("__hyp_text_start") & ~(HS_PAGE_SIZE - 1);
	uint64_t d = hs_test_desc_pa(m, true, text);
	uint64_t e = hs_test_rd64(m, d);
	ck_assert(!(e & 1));
	ck_assert_uint_eq(hs_annotation_owner(e), HS_OWNER_HYP);
	hs_test_wr64(m, d, hs_annotation(HS_OWNER_GUEST, HS_VM_HANDLE_OFFSET));
	assert_fires("annot-owner", text);
	assert_fires("owner-unique", text); /* hyp OWNED and a guest annotation */
}
END_TEST

/* A HYP annotation is exactly the owner id: teardown and donation compare it whole. */
START_TEST(mutation_hyp_annotation_metadata_set)
{
	uint64_t text = sym("__hyp_text_start") & ~(HS_PAGE_SIZE - 1);
	uint64_t d = hs_test_desc_pa(m, true, text);
	ck_assert_uint_eq(hs_test_rd64(m, d), hs_annotation(HS_OWNER_HYP, 0));
	hs_test_wr64(m, d, hs_annotation(HS_OWNER_HYP, 0x5));
	assert_fires("annot-meta", text);
}
END_TEST

/* EL2 maps a shared page only while pinned: the pin count dropped to 0 under the mapping. */
START_TEST(mutation_el2_maps_unpinned_shared_page)
{
	uint64_t pa = 0x50000000;
	ck_assert_int_eq(hvc1(HS_HC_host_share_hyp, pa >> HS_PAGE_SHIFT), 0);
	ck_assert_int_eq(hvc1(HS_HC_hyp_pin_shared, pa >> HS_PAGE_SHIFT), 0);
	assert_clean("after share + pin");
	uint64_t e = hs_test_vmemmap_entry_pa(m, pa);
	uint64_t raw = hs_test_rd64(m, e);
	ck_assert_uint_eq(raw & 0xffff, 1);
	hs_test_wr64(m, e, raw & ~0xffffULL);
	assert_fires("el2-pinned", pa);
}
END_TEST

/*
 * The converse: a page pinned twice whose EL2 mapping is gone (the first pin
 * maps it, only the last unpin may unmap it).
 */
START_TEST(mutation_pinned_page_not_mapped_at_el2)
{
	uint64_t pa = 0x50000000;
	ck_assert_int_eq(hvc1(HS_HC_host_share_hyp, pa >> HS_PAGE_SHIFT), 0);
	ck_assert_int_eq(hvc1(HS_HC_hyp_pin_shared, pa >> HS_PAGE_SHIFT), 0);
	ck_assert_int_eq(hvc1(HS_HC_hyp_pin_shared, pa >> HS_PAGE_SHIFT), 0);
	assert_clean("after share + two pins");
	const struct hs_layout *l = hs_machine_layout(m);
	uint64_t d = hs_test_desc_pa(m, false, hs_layout_hyp_va(l, pa));
	ck_assert(hs_test_rd64(m, d) & 1);
	hs_test_wr64(m, d, 0);
	assert_fires("el2-pinned-mapped", pa);
}
END_TEST

/* The UART's host stage-2 leaf made Normal, executable memory (MMIO is Device, XN). */
START_TEST(mutation_uart_leaf_normal_executable)
{
	struct hs_host_op res;
	struct hs_stop stop;
	ck_assert_int_eq(hs_host_access(m, 0, false, HS_UART_BASE + 0x18, 4, 0, &res, &stop, NULL),
			 0);
	ck_assert(!res.refused);
	assert_clean("after the host touched the UART");
	uint64_t d = hs_test_desc_pa(m, true, HS_UART_BASE);
	uint64_t e = hs_test_rd64(m, d);
	ck_assert(e & 1);
	ck_assert_uint_eq((e >> 53) & 3, 2);	  /* XN */
	e &= ~(3ULL << 53);			  /* executable at EL1 and EL0 */
	e = (e & ~(0xfULL << 2)) | (0xfULL << 2); /* MemAttr: Normal, write-back */
	hs_test_wr64(m, d, e);
	assert_fires("s2-mmio", ~0ULL);
	ck_assert_msg(strstr(report_text(), "Normal, executable"), "%s", report_text());
}
END_TEST

START_TEST(mutation_vmemmap_host_state_flipped)
{
	uint64_t pa = 0x50000000;
	struct hs_host_op res;
	struct hs_stop stop;
	ck_assert_int_eq(hs_host_access(m, 0, false, pa, 8, 0, &res, &stop, NULL), 0);
	assert_clean("after faulting the page in");
	uint64_t e = hs_test_vmemmap_entry_pa(m, pa);
	uint64_t raw = hs_test_rd64(m, e);
	ck_assert_uint_eq(hs_hyp_page_host_state(raw), HS_PAGE_OWNED);
	hs_test_wr64(m, e, (raw & ~(0xfULL << 24)) | ((uint64_t)HS_PAGE_NOPAGE << 24));
	assert_fires("host-nopage-annot", pa);
	assert_fires("s2-maps-nopage", pa);
	assert_fires("owner-unique", pa); /* nobody owns it now */
}
END_TEST

START_TEST(mutation_vmemmap_shared_without_borrower)
{
	uint64_t pa = 0x50000000;
	uint64_t e = hs_test_vmemmap_entry_pa(m, pa);
	uint64_t raw = hs_test_rd64(m, e);
	hs_test_wr64(m, e, (raw & ~(0xfULL << 24)) | ((uint64_t)HS_PAGE_SHARED_OWNED << 24));
	assert_fires("share-pair", pa);
}
END_TEST

START_TEST(mutation_free_list_next_broken)
{
	uint64_t pool_pa = sym("hpool");
	struct hs_hyp_pool_layout pool;
	ck_assert_int_eq(hs_phys_read(m, pool_pa, &pool, sizeof(pool), NULL), 0);
	const struct hs_layout *l = hs_machine_layout(m);
	uint64_t pool_va = hs_layout_hyp_va(l, pool_pa);
	/* the first non-empty list */
	unsigned o;
	for (o = 0; o < HS_MAX_ORDER; o++)
		if (pool.free_area[o].next != pool_va + o * sizeof(struct hs_list_node))
			break;
	ck_assert_uint_lt(o, HS_MAX_ORDER);
	uint64_t node_pa = hs_layout_pa(l, pool.free_area[o].next);
	hs_test_wr64(m, node_pa, 0xdead0000ULL); /* next -> nowhere */
	assert_fires("pool-list", node_pa);
}
END_TEST

START_TEST(mutation_free_page_dirty)
{
	uint64_t pool_pa = sym("host_s2_pool");
	struct hs_hyp_pool_layout pool;
	ck_assert_int_eq(hs_phys_read(m, pool_pa, &pool, sizeof(pool), NULL), 0);
	const struct hs_layout *l = hs_machine_layout(m);
	unsigned o = HS_MAX_ORDER - 1;
	while (o > 0 && pool.free_area[o].next == hs_layout_hyp_va(l, pool_pa) + o * 16)
		o--;
	uint64_t node_pa = hs_layout_pa(l, pool.free_area[o].next);
	hs_test_wr64(m, node_pa + 0x800, 0x1234);
	assert_fires("pool-zero", node_pa);
}
END_TEST

START_TEST(mutation_table_refcount_changed)
{
	uint64_t ttbr;
	hs_cpu_sysreg(m, 0, HS_SR_TTBR0_EL2, &ttbr);
	uint64_t root = ttbr & 0x0000fffffffff000ULL;
	uint64_t e = hs_test_vmemmap_entry_pa(m, root);
	hs_test_wr64(m, e, hs_test_rd64(m, e) + 1);
	assert_fires("table-refcount", root);

	uint64_t vttbr;
	hs_cpu_sysreg(m, 0, HS_SR_VTTBR_EL2, &vttbr);
	uint64_t s2root = vttbr & 0x0000fffffffff000ULL;
	e = hs_test_vmemmap_entry_pa(m, s2root);
	hs_test_wr64(m, e, hs_test_rd64(m, e) - 1);
	assert_fires("table-refcount", s2root);
}
END_TEST

START_TEST(not_booted_reports_check_error)
{
	struct hs_machine *fresh = hs_test_machine(1, 0);
	int n = hs_check(fresh, &rep);
	ck_assert_int_lt(n, 0);
	ck_assert_uint_eq(hs_check_count(&rep, "check-error"), 1);
	hs_machine_destroy(fresh);
}
END_TEST

START_TEST(json_report)
{
	hs_test_wr64(m, hs_test_vmemmap_entry_pa(m, 0x50000000),
		     (uint64_t)HS_PAGE_SHARED_OWNED << 24);
	ck_assert_int_gt(hs_check(m, &rep), 0);
	struct hs_strbuf sb;
	hs_sb_init(&sb);
	hs_check_json(&rep, &sb);
	const char *j = hs_sb_str(&sb);
	ck_assert_msg(strstr(j, "\"rule\":\"share-pair\"") && strstr(j, "\"pa\":\"0x50000000\""),
		      "%s", j);
	hs_sb_free(&sb);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("inspect_check");
	TCase *tc = tcase_create("booted");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, clean_after_boot);
	tcase_add_test(tc, clean_through_share_pin_unpin_unshare);
	tcase_add_test(tc, mutation_el2_pte_made_wx);
	tcase_add_test(tc, mutation_annotation_changed_owner);
	tcase_add_test(tc, mutation_vmemmap_host_state_flipped);
	tcase_add_test(tc, mutation_hyp_annotation_metadata_set);
	tcase_add_test(tc, mutation_el2_maps_unpinned_shared_page);
	tcase_add_test(tc, mutation_vmemmap_shared_without_borrower);
	tcase_add_test(tc, mutation_pinned_page_not_mapped_at_el2);
	tcase_add_test(tc, mutation_uart_leaf_normal_executable);
	tcase_add_test(tc, mutation_free_list_next_broken);
	tcase_add_test(tc, mutation_free_page_dirty);
	tcase_add_test(tc, mutation_table_refcount_changed);
	tcase_add_test(tc, not_booted_reports_check_error);
	tcase_add_test(tc, json_report);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
