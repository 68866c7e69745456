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
	return hs_test_tlb_report(tc);
}

static void assert_no_violation(const char *when)
{
	ck_assert_msg(hs_tlb_check_count(tc) == 0, "%s:\n%s", when, report());
}

static struct hs_host_op hvc_on(unsigned cpu, int nr, uint64_t a0, uint64_t a1)
{
	return hs_test_hvc(m, cpu, nr, a0, a1);
}

static void host_touch(unsigned cpu, uint64_t pfn, bool write)
{
	hs_test_host_touch(m, cpu, pfn, write);
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
	assert_no_violation("a guest's life");
	teardown();
}
END_TEST

/* ---- a random campaign -------------------------------------------------------- */

static uint64_t rng = 0x7b1c0ffee;
static uint64_t rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545F4914F6CDD1DULL;
}

struct campaign {
	uint64_t base, donated[32];
	unsigned nr_donated;
	uint64_t vm[3], next_gfn[3];
	bool prot[3];
	unsigned nr_vm;
	bool cpu1_on;
};

static void random_host_op(struct campaign *k, uint64_t r)
{
	static const int ops[4] = {HS_HC_host_share_hyp, HS_HC_host_unshare_hyp,
				   HS_HC_hyp_pin_shared, HS_HC_hyp_unpin_shared};
	unsigned cpu = k->cpu1_on && (r >> 62) % 2 ? 1 : 0;
	uint64_t pfn = k->base + (r >> 8) % 2048;
	unsigned what = (r >> 4) % 8;
	if (what < 4) {
		hvc_on(cpu, ops[what], pfn, 0);
	} else if (what < 6) {
		host_touch(cpu, pfn, what == 5);
	} else if (what == 6 && k->nr_donated < 32) {
		if (hvc_on(cpu, HS_HC_host_donate_hyp, pfn, 1).x1 == 0)
			k->donated[k->nr_donated++] = pfn;
	} else if (k->nr_donated) {
		unsigned i = (unsigned)((r >> 20) % k->nr_donated);
		hvc_on(cpu, HS_HC_hyp_donate_host, k->donated[i], 1);
		k->donated[i] = k->donated[--k->nr_donated];
	}
}

static void random_vm_op(struct campaign *k, uint64_t r)
{
	struct hs_error err = {0};
	int64_t ret;
	unsigned what = (r >> 8) % 5;
	if (!k->nr_vm || (what == 0 && k->nr_vm < 3)) {
		k->prot[k->nr_vm] = r & 1;
		k->next_gfn[k->nr_vm] = 0x48100;
		ck_assert_msg(hs_vm_create(m, 0, k->prot[k->nr_vm], &k->vm[k->nr_vm], &err) == 0,
			      "%s", err.msg);
		k->nr_vm++;
		return;
	}
	unsigned v = (unsigned)((r >> 16) % k->nr_vm);
	uint64_t pfn = k->base + (r >> 24) % 2048;
	struct hs_vm_exit x;
	switch (what) {
	case 0:
	case 1:
		if (k->prot[v])
			ck_assert_int_eq(
			    hs_vm_donate(m, 0, k->vm[v], pfn, k->next_gfn[v], &ret, &err), 0);
		else
			ck_assert_int_eq(hs_vm_share(m, 0, k->vm[v], pfn, k->next_gfn[v], 1 + r % 2,
						     HS_PROT_RW, &ret, &err),
					 0);
		k->next_gfn[v] += 2;
		break;
	case 2:
		if (!k->prot[v] && k->next_gfn[v] > 0x48100)
			ck_assert_int_eq(
			    hs_vm_unshare(m, 0, k->vm[v],
					  0x48100 + (r >> 32) % (k->next_gfn[v] - 0x48100), 1, &ret,
					  &err),
			    0);
		break;
	case 3:
		if (k->next_gfn[v] == 0x48100 || hs_vm_load(m, 0, k->vm[v], &ret, &err) || ret)
			break;
		ck_assert_msg(
		    hs_vm_run(m, 0, HS_VCPU_OP_WRITE,
			      (0x48100 + (r >> 32) % (k->next_gfn[v] - 0x48100)) << HS_PAGE_SHIFT,
			      r, &x, &err) == 0,
		    "%s", err.msg);
		ck_assert_int_eq(hs_vm_put(m, 0, &ret, &err), 0);
		break;
	default:
		if ((r >> 40) % 3)
			break;
		ck_assert_msg(hs_vm_teardown(m, 0, k->vm[v], &ret, &err) == 0, "%s", err.msg);
		k->vm[v] = k->vm[--k->nr_vm];
		k->prot[v] = k->prot[k->nr_vm];
		k->next_gfn[v] = k->next_gfn[k->nr_vm];
		break;
	}
}

START_TEST(random_campaign_is_clean)
{
	start(2);
	const char *env = getenv("HS_TLB_OPS");
	uint64_t n = env ? strtoull(env, NULL, 0) : 1500;
	struct campaign k = {.base = pfn0(), .cpu1_on = true};
	for (uint64_t i = 0; i < n; i++) {
		uint64_t r = rnd();
		unsigned kind = r % 100;
		if (kind < 75)
			random_host_op(&k, rnd());
		else if (kind < 97)
			random_vm_op(&k, rnd());
		else
			hs_test_toggle_cpu1(m, &k.cpu1_on);
		if (hs_tlb_check_count(tc))
			ck_abort_msg("operation %" PRIu64 " (kind %u):\n%s", i, kind, report());
	}
	struct hs_tlb_model_stats st;
	hs_tlb_model_stats(hs_tlb_check_model(tc), &st);
	fprintf(stderr,
		"tlb campaign: %" PRIu64 " operations, %" PRIu64 " table stores, %" PRIu64
		" TLBIs, %" PRIu64 " DSBs judged, 0 violations\n",
		n, st.stores, st.tlbis, st.dsbs);
	ck_assert_uint_gt(st.tlbis, n / 10);
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
	tcase_add_test(tc_, random_campaign_is_clean);
	suite_add_tcase(s, tc_);
	return hs_test_run(s);
}
