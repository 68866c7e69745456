/* SPDX-License-Identifier: MIT */
/*
 * The TLB checker finds what it claims: each hypervisor variant built with
 * one injected defect (hyp/CMakeLists.txt, HS_HYP_DEFECTS) runs the flow that
 * reaches the defect, and the checker reports exactly that defect's rule;
 * the unmodified hypervisor runs the same flows clean. Without the variants
 * (HS_HYP_DEFECT_DIR unset) the defect tests pass vacuously with a note.
 */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hypscope/abi.h>

#include "host.h"
#include "host_boot.h"
#include "host_vm.h"
#include "hyp_state.h"
#include "testutil.h"
#include "tlb_check.h"

static struct hs_machine *m;
static struct hs_tlb_check *tc;

/* Boot the variant (NULL: the unmodified hypervisor); false when it was not built. */
static bool start(const char *defect, unsigned cpus)
{
	char path[512];
	struct hs_machine_opts o;
	hs_machine_opts_default(&o);
	o.hyp_elf = hs_test_hyp_elf();
	o.nr_cpus = cpus;
	if (defect) {
		const char *dir = getenv("HS_HYP_DEFECT_DIR");
		if (!dir) {
			fprintf(stderr, "defect %s: variants not built (HS_HYP_DEFECTS off)\n",
				defect);
			return false;
		}
		snprintf(path, sizeof(path), "%s/hyp-defect-%s.elf", dir, defect);
		o.hyp_elf = path;
	}
	struct hs_error err = {0};
	struct hs_stop stop;
	ck_assert_msg(hs_machine_create(&o, &m, &err) == 0, "%s", err.msg);
	ck_assert_msg(hs_boot(m, NULL, &stop, &err) == 0, "boot: %s", err.msg);
	ck_assert_int_eq(stop.reason, HS_STOP_DONE);
	ck_assert_msg(hs_tlb_check_new(m, &tc, &err) == 0, "%s", err.msg);
	return true;
}

static void finish(void)
{
	hs_tlb_check_free(tc);
	tc = NULL;
	hs_machine_destroy(m);
	m = NULL;
}

static const char *report(void)
{
	return hs_test_tlb_report(tc);
}

static void hvc(int nr, uint64_t a0, uint64_t a1)
{
	hs_test_hvc(m, 0, nr, a0, a1);
}

static void host_touch(uint64_t pfn, bool write)
{
	hs_test_host_touch(m, 0, pfn, write);
}

static uint64_t pfn0(void)
{
	return (hs_machine_opts(m)->ram_base >> HS_PAGE_SHIFT) + 0x20000;
}

/* The flows: each reaches one defect; all of them together reach every defect. */
static void flow_host(void)
{
	uint64_t p = pfn0();
	host_touch(p, false);		     /* a 2 MiB block in the host stage 2 */
	hvc(HS_HC_host_share_hyp, p + 3, 0); /* splits it: break-before-make */
	hvc(HS_HC_hyp_pin_shared, p + 3, 0); /* maps it at EL2 */
	hvc(HS_HC_hyp_unpin_shared, p + 3, 0);
	hvc(HS_HC_host_unshare_hyp, p + 3, 0);
	/* far from anything mapped: the annotation table empties and is freed */
	uint64_t q = p + 0x4000;
	hvc(HS_HC_host_donate_hyp, q, 1);
	hvc(HS_HC_hyp_donate_host, q, 1);
	host_touch(q, true);
}

static void flow_guest(void)
{
	struct hs_error err = {0};
	uint64_t h;
	int64_t ret;
	struct hs_vm_exit x;
	uint64_t p = pfn0() + 0x100;
	ck_assert_msg(hs_vm_create(m, 0, false, &h, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(hs_vm_share(m, 0, h, p, 0x48100, 1, HS_PROT_RW, &ret, &err), 0);
	ck_assert_int_eq(ret, 0);
	ck_assert_int_eq(hs_vm_load(m, 0, h, &ret, &err), 0);
	ck_assert_msg(hs_vm_run(m, 0, HS_VCPU_OP_WRITE, 0x48100ULL << HS_PAGE_SHIFT, 7, &x, &err) ==
			  0,
		      "%s", err.msg);
	ck_assert_int_eq(hs_vm_put(m, 0, &ret, &err), 0);
	ck_assert_int_eq(hs_vm_unshare(m, 0, h, 0x48100, 1, &ret, &err), 0);
	ck_assert_int_eq(ret, 0);
	ck_assert_msg(hs_vm_teardown(m, 0, h, &ret, &err) == 0, "%s", err.msg);
}

static void expect_only(const char *defect, const char *rule, void (*flow)(void))
{
	if (!start(defect, 1))
		return;
	flow();
	size_t n = hs_tlb_check_count(tc);
	if (getenv("HS_TLB_VERBOSE"))
		fprintf(stderr, "defect %s:\n%s", defect, report());
	ck_assert_msg(n > 0, "defect %s: nothing reported\n%s", defect, report());
	ck_assert_msg(hs_tlb_check_count_rule(tc, rule) == n, "defect %s: expected only %s\n%s",
		      defect, rule, report());
	/* every report names the storing instruction in the hypervisor's source */
	const struct hs_tlb_check_entry *e = hs_tlb_check_get(tc, 0);
	ck_assert_msg(strstr(e->where, ".c:"), "no source line: %s", e->where);
	ck_assert_msg(e->v.hvc[0], "no hypercall named");
	finish();
}

START_TEST(unmodified_hypervisor_is_clean)
{
	start(NULL, 1);
	flow_host();
	flow_guest();
	ck_assert_msg(hs_tlb_check_count(tc) == 0, "%s", report());
	finish();
}
END_TEST

START_TEST(skipped_tlbi_in_unmap)
{
	expect_only("unmap_no_tlbi", "unmap-no-tlbi", flow_host);
}
END_TEST

START_TEST(remap_without_break)
{
	expect_only("remap_no_bbm", "bbm", flow_host);
}
END_TEST

START_TEST(tlbi_before_the_dsb)
{
	expect_only("tlbi_before_dsb", "tlbi-before-dsb", flow_host);
}
END_TEST

START_TEST(table_freed_without_invalidation)
{
	expect_only("free_table_no_tlbi", "table-free-no-tlbi", flow_host);
}
END_TEST

START_TEST(guest_ipa_invalidated_with_vmid0)
{
	expect_only("guest_tlbi_vmid0", "tlbi-wrong-vmid", flow_guest);
}
END_TEST

START_TEST(stop_at_the_violation_like_a_watchpoint)
{
	if (!start("tlbi_before_dsb", 1))
		return;
	hs_tlb_check_set_stop(tc, true);
	uint64_t p = pfn0();
	host_touch(p, false);
	uint64_t args[1] = {p + 3};
	struct hs_host_op res;
	struct hs_stop stop;
	struct hs_error err = {0};
	ck_assert_msg(
	    hs_host_hvc(m, 0, HS_HC_FN(HS_HC_host_share_hyp), args, 1, &res, &stop, &err) == 0,
	    "%s", err.msg);
	/* stopped inside the hypercall, at the DSB right after the early TLBI, not run yet */
	ck_assert_int_eq(stop.reason, HS_STOP_CHECK);
	ck_assert(hs_op_pending(m));
	ck_assert_uint_eq(hs_tlb_check_count(tc), 1);
	const struct hs_tlb_check_entry *e = hs_tlb_check_get(tc, 0);
	ck_assert_str_eq(hs_tlb_rule_name(e->v.rule), "tlbi-before-dsb");
	ck_assert_str_eq(e->v.hvc, "host_share_hyp");
	ck_assert_uint_gt(stop.pc, e->v.at_pc);
	ck_assert_uint_le(stop.pc, e->v.at_pc + 8);
	uint32_t insn = 0;
	uint64_t pa = 0;
	ck_assert(hs_el2_va_to_pa(m, 0, stop.pc, &pa, &err) == 0);
	ck_assert_int_eq(hs_phys_read(m, pa, &insn, 4, &err), 0);
	ck_assert_uint_eq(insn, 0xd5033b9f); /* dsb ish */
	/* and the call goes on to its end */
	ck_assert_msg(hs_continue(m, &stop, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(stop.reason, HS_STOP_DONE);
	ck_assert_int_eq(hs_host_last_op(m)->x1, 0);
	ck_assert_uint_eq(hs_tlb_check_count(tc), 1);
	finish();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("tlb_defects");
	TCase *t = tcase_create("defects");
	tcase_set_timeout(t, 300);
	tcase_add_test(t, unmodified_hypervisor_is_clean);
	tcase_add_test(t, skipped_tlbi_in_unmap);
	tcase_add_test(t, remap_without_break);
	tcase_add_test(t, tlbi_before_the_dsb);
	tcase_add_test(t, table_freed_without_invalidation);
	tcase_add_test(t, guest_ipa_invalidated_with_vmid0);
	tcase_add_test(t, stop_at_the_violation_like_a_watchpoint);
	suite_add_tcase(s, t);
	return hs_test_run(s);
}
