/* SPDX-License-Identifier: MIT */
/* Snapshot diff and the hypercall trace on a real boot. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <hypscope/abi.h>

#include "host.h"
#include "inspect_snapshot.h"
#include "inspect_trace.h"
#include "testutil.h"

static struct hs_machine *m;
static struct hs_snapshot a, b;
static struct hs_diff d;

static void setup(void)
{
	m = hs_test_booted(1, 0);
	hs_snapshot_init(&a);
	hs_snapshot_init(&b);
	hs_diff_init(&d);
}

static void teardown(void)
{
	hs_snapshot_free(&a);
	hs_snapshot_free(&b);
	hs_diff_free(&d);
	hs_machine_destroy(m);
}

static void snap(struct hs_snapshot *s)
{
	struct hs_error err = {0};
	ck_assert_msg(hs_snapshot_take(m, 0, s, &err) == 0, "%s", err.msg);
}

static int64_t hvc1(int nr, uint64_t arg)
{
	struct hs_host_op res;
	struct hs_stop stop;
	struct hs_error err = {0};
	ck_assert_msg(hs_host_hvc(m, 0, HS_HC_FN(nr), &arg, 1, &res, &stop, &err) == 0, "%s",
		      err.msg);
	ck_assert_int_eq(res.x0, HS_SMCCC_SUCCESS);
	return res.x1;
}

static void touch(uint64_t pa)
{
	struct hs_host_op res;
	struct hs_stop stop;
	ck_assert_int_eq(hs_host_access(m, 0, false, pa, 8, 0, &res, &stop, NULL), 0);
	ck_assert(!res.refused);
}

static const char *diff_text(void)
{
	static char buf[8192];
	struct hs_strbuf sb;
	hs_sb_init(&sb);
	hs_diff_text(&sb, &d);
	snprintf(buf, sizeof(buf), "%s", hs_sb_str(&sb));
	hs_sb_free(&sb);
	return buf;
}

/* Records other than allocator bookkeeping (refcount/order of pool pages). */
static size_t ownership_records(void)
{
	size_t n = 0;
	for (size_t i = 0; i < d.nr; i++)
		if (d.recs[i].changes & ~HS_CHG_REFCOUNT)
			n++;
	return n;
}

START_TEST(identical_snapshots_no_diff)
{
	snap(&a);
	snap(&b);
	ck_assert_int_eq(hs_snapshot_diff(&a, &b, &d), 0);
	ck_assert_uint_eq(d.nr, 0);
}
END_TEST

START_TEST(share_hyp_changes_exactly_one_page_state)
{
	uint64_t pa = 0x50000000;
	touch(pa); /* host stage 2 holds a block there now */
	snap(&a);
	ck_assert_int_eq(hvc1(HS_HC_host_share_hyp, pa >> HS_PAGE_SHIFT), 0);
	snap(&b);
	ck_assert_int_eq(hs_snapshot_diff(&a, &b, &d), 0);
	ck_assert_msg(ownership_records() == 2, "%s", diff_text());
	for (size_t i = 0; i < d.nr; i++) {
		const struct hs_diff_rec *r = &d.recs[i];
		if (r->changes == HS_CHG_REFCOUNT) {
			/* a table page of the host stage-2 pool was allocated: hyp-owned */
			ck_assert_uint_eq(HS_VM_HYP(r->new_vm.val), HS_PAGE_OWNED);
			continue;
		}
		ck_assert_uint_eq(r->start, pa);
		ck_assert_uint_eq(r->end, pa + HS_PAGE_SIZE);
		ck_assert_uint_eq(r->changes, HS_CHG_STATE);
		if (r->table == HS_SNAP_VMEMMAP) {
			ck_assert_uint_eq(HS_VM_HOST(r->old_vm.val), HS_PAGE_OWNED);
			ck_assert_uint_eq(HS_VM_HOST(r->new_vm.val), HS_PAGE_SHARED_OWNED);
			ck_assert_uint_eq(HS_VM_HYP(r->old_vm.val), HS_PAGE_NOPAGE);
			ck_assert_uint_eq(HS_VM_HYP(r->new_vm.val), HS_PAGE_SHARED_BORROWED);
		} else {
			ck_assert_uint_eq(r->table, HS_SNAP_HOST_S2);
			ck_assert_uint_eq(r->old_pt.state, HS_PAGE_OWNED);
			ck_assert_uint_eq(r->new_pt.state, HS_PAGE_SHARED_OWNED);
		}
	}
	ck_assert_uint_eq(hs_diff_pages(&d, HS_SNAP_VMEMMAP, HS_CHG_STATE), 1);
	ck_assert_uint_eq(hs_diff_pages(&d, HS_SNAP_HYP_S1, ~0u), 0);
}
END_TEST

/*
 * Changes far apart, near both ends of memory and in the middle: the diff
 * skips identical heads and tails of the range arrays, so every change must
 * still be found, in both directions.
 */
START_TEST(changes_far_apart_are_each_reported)
{
	const uint64_t pas[] = {0x40400000, 0x50000000, 0x5ff00000, 0x7e000000};
	for (size_t i = 0; i < 4; i++)
		touch(pas[i]);
	snap(&a);
	for (size_t i = 0; i < 4; i++)
		ck_assert_int_eq(hvc1(HS_HC_host_share_hyp, pas[i] >> HS_PAGE_SHIFT), 0);
	snap(&b);
	for (int dir = 0; dir < 2; dir++) {
		hs_diff_free(&d);
		hs_diff_init(&d);
		ck_assert_int_eq(dir ? hs_snapshot_diff(&b, &a, &d) : hs_snapshot_diff(&a, &b, &d),
				 0);
		ck_assert_msg(hs_diff_pages(&d, HS_SNAP_VMEMMAP, HS_CHG_STATE) == 4, "%s",
			      diff_text());
		ck_assert_msg(hs_diff_pages(&d, HS_SNAP_HOST_S2, HS_CHG_STATE) == 4, "%s",
			      diff_text());
		for (size_t k = 0; k < 4; k++) {
			bool found = false;
			for (size_t i = 0; i < d.nr; i++)
				found |= d.recs[i].table == HS_SNAP_HOST_S2 &&
					 d.recs[i].start == pas[k] &&
					 d.recs[i].end == pas[k] + HS_PAGE_SIZE;
			ck_assert_msg(found, "no host-s2 record for %#lx:\n%s",
				      (unsigned long)pas[k], diff_text());
		}
	}
}
END_TEST

START_TEST(pin_maps_one_page_at_el2)
{
	uint64_t pa = 0x50000000;
	ck_assert_int_eq(hvc1(HS_HC_host_share_hyp, pa >> HS_PAGE_SHIFT), 0);
	snap(&a);
	ck_assert_int_eq(hvc1(HS_HC_hyp_pin_shared, pa >> HS_PAGE_SHIFT), 0);
	snap(&b);
	ck_assert_int_eq(hs_snapshot_diff(&a, &b, &d), 0);
	ck_assert_msg(hs_diff_pages(&d, HS_SNAP_HYP_S1, HS_CHG_MAPPED) == 1, "%s", diff_text());
	for (size_t i = 0; i < d.nr; i++)
		if (d.recs[i].table == HS_SNAP_HYP_S1) {
			ck_assert_uint_eq(d.recs[i].new_pt.oa, pa);
			ck_assert_uint_eq(d.recs[i].new_pt.state, HS_PAGE_SHARED_BORROWED);
		}
	/* unpin: unmapped again */
	hs_snapshot_free(&a);
	ck_assert_int_eq(hvc1(HS_HC_hyp_unpin_shared, pa >> HS_PAGE_SHIFT), 0);
	snap(&a);
	ck_assert_int_eq(hs_snapshot_diff(&b, &a, &d), 0);
	ck_assert_msg(hs_diff_pages(&d, HS_SNAP_HYP_S1, HS_CHG_UNMAPPED) == 1, "%s", diff_text());
}
END_TEST

START_TEST(diff_of_one_page_is_fast)
{
	touch(0x50000000);
	snap(&a);
	ck_assert_int_eq(hvc1(HS_HC_host_share_hyp, 0x50000), 0);
	snap(&b);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < 100; i++)
		ck_assert_int_eq(hs_snapshot_diff(&a, &b, &d), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double ms = ((t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6) / 100;
	ck_assert_msg(ms < 5.0, "diff took %.3f ms", ms);
}
END_TEST

START_TEST(diff_text_and_json)
{
	touch(0x50000000);
	snap(&a);
	hvc1(HS_HC_host_share_hyp, 0x50000);
	snap(&b);
	hs_snapshot_diff(&a, &b, &d);
	ck_assert_ptr_nonnull(strstr(diff_text(), "host=OWNED hyp=NOPAGE -> rc=0 order=0 "
						  "host=SHARED_OWNED hyp=SHARED_BORROWED"));
	struct hs_strbuf sb;
	hs_sb_init(&sb);
	hs_diff_json(&sb, &d);
	ck_assert_ptr_nonnull(
	    strstr(hs_sb_str(&sb), "\"table\":\"host-s2\",\"start\":\"0x50000000\""));
	hs_sb_free(&sb);
}
END_TEST

START_TEST(trace_records_calls_diffs_and_checks)
{
	struct hs_trace *t;
	struct hs_error err = {0};
	ck_assert_int_eq(hs_trace_start(m, HS_TRACE_F_DIFF | HS_TRACE_F_CHECK, &t, &err), 0);
	touch(0x50000000);
	hvc1(HS_HC_host_share_hyp, 0x50000);
	hvc1(HS_HC_hyp_pin_shared, 0x50000);
	uint64_t none = 0;
	struct hs_host_op res;
	struct hs_stop stop;
	ck_assert_int_eq(hs_host_hvc(m, 0, HS_HC_FN(HS_HC_nop), &none, 0, &res, &stop, &err), 0);
	ck_assert_uint_eq(hs_trace_count(t), 3);
	const struct hs_trace_entry *e = hs_trace_get(t, 0);
	ck_assert_str_eq(e->name, "host_share_hyp");
	ck_assert_uint_eq(e->args[0], 0x50000);
	ck_assert(e->completed);
	ck_assert_int_eq(e->x0, 0);
	ck_assert_int_eq(e->x1, 0);
	ck_assert_uint_gt(e->insns, 0);
	ck_assert(e->has_diff);
	ck_assert_uint_eq(hs_diff_pages(&e->diff, HS_SNAP_VMEMMAP, HS_CHG_STATE), 1);
	ck_assert(e->checked);
	ck_assert_uint_eq(e->nr_violations, 0);
	e = hs_trace_get(t, 1);
	ck_assert_str_eq(e->name, "hyp_pin_shared");
	ck_assert_uint_eq(hs_diff_pages(&e->diff, HS_SNAP_HYP_S1, HS_CHG_MAPPED), 1);
	e = hs_trace_get(t, 2);
	ck_assert_str_eq(e->name, "nop");
	ck_assert_uint_eq(e->diff.nr, 0);
	const char *msg;
	ck_assert_int_eq(hs_trace_last_error(t, &msg), 0);

	struct hs_strbuf sb;
	hs_sb_init(&sb);
	hs_trace_text(t, &sb);
	ck_assert_ptr_nonnull(
	    strstr(hs_sb_str(&sb), "#0 cpu0 host_share_hyp(0x50000) = x0 0 x1 0"));
	ck_assert_ptr_nonnull(strstr(hs_sb_str(&sb), "check: clean"));
	hs_sb_reset(&sb);
	hs_trace_json(t, &sb);
	ck_assert_ptr_nonnull(strstr(hs_sb_str(&sb), "\"name\":\"hyp_pin_shared\""));
	hs_sb_free(&sb);
	hs_trace_stop(t);
}
END_TEST

/*
 * The trace is bounded: past its limit the oldest calls go, the numbering
 * stays that of the whole run, and the text says the trace was truncated.
 * (A million hypercalls kept a million entries, diffs and all, before.)
 */
START_TEST(trace_keeps_at_most_its_limit)
{
	struct hs_trace *t;
	struct hs_error err = {0};
	ck_assert_int_eq(hs_trace_start(m, HS_TRACE_F_DIFF, &t, NULL), 0);
	ck_assert_uint_eq(hs_trace_limit(t), HS_TRACE_DEFAULT_LIMIT);
	ck_assert_int_eq(hs_trace_set_limit(t, 0, &err), -EINVAL);
	ck_assert_int_eq(hs_trace_set_limit(t, 16, &err), 0);
	struct hs_host_op res;
	struct hs_stop stop;
	for (int i = 0; i < 100; i++)
		ck_assert_int_eq(hs_host_hvc(m, 0, HS_HC_FN(HS_HC_nop), NULL, 0, &res, &stop, &err),
				 0);
	ck_assert_uint_eq(hs_trace_count(t), 100);
	size_t first = hs_trace_first(t);
	ck_assert_uint_ge(hs_trace_count(t) - first, 1);
	ck_assert_uint_le(hs_trace_count(t) - first, 16);
	ck_assert_ptr_null(hs_trace_get(t, 0));
	ck_assert_ptr_null(hs_trace_get(t, first - 1));
	for (size_t i = first; i < 100; i++) {
		const struct hs_trace_entry *e = hs_trace_get(t, i);
		ck_assert_ptr_nonnull(e);
		ck_assert_uint_eq(e->seq, i);
		ck_assert(e->completed);
	}
	struct hs_strbuf sb;
	hs_sb_init(&sb);
	hs_trace_text(t, &sb);
	ck_assert_msg(strstr(hs_sb_str(&sb), "(trace truncated: ") &&
			  strstr(hs_sb_str(&sb), "#99 cpu0 nop()"),
		      "%s", hs_sb_str(&sb));
	hs_sb_free(&sb);
	/* a lower limit drops at once; clear starts the numbering again */
	ck_assert_int_eq(hs_trace_set_limit(t, 2, &err), 0);
	ck_assert_uint_eq(hs_trace_count(t) - hs_trace_first(t), 2);
	hs_trace_clear(t);
	ck_assert_uint_eq(hs_trace_count(t), 0);
	ck_assert_uint_eq(hs_trace_first(t), 0);
	hs_trace_stop(t);
}
END_TEST

START_TEST(trace_records_violations_after_a_call)
{
	struct hs_trace *t;
	ck_assert_int_eq(hs_trace_start(m, HS_TRACE_F_CHECK, &t, NULL), 0);
	/* corrupt a vmemmap entry behind the hypervisor's back, then make any call */
	uint64_t va = hs_machine_layout(m)->vmemmap_base + (0x50000000 >> HS_PAGE_SHIFT) * 8, epa;
	struct hs_snapshot s;
	hs_snapshot_init(&s);
	snap(&s);
	const struct hs_snap_pt_range *r = hs_snap_pt_find(&s, HS_SNAP_HYP_S1, va);
	ck_assert_ptr_nonnull(r);
	epa = r->oa + (va - r->start);
	hs_snapshot_free(&s);
	uint64_t v = (uint64_t)HS_PAGE_SHARED_OWNED << 24;
	ck_assert_int_eq(hs_phys_write(m, epa, &v, 8, NULL), 0);
	struct hs_host_op res;
	struct hs_stop stop;
	ck_assert_int_eq(hs_host_hvc(m, 0, HS_HC_FN(HS_HC_nop), NULL, 0, &res, &stop, NULL), 0);
	ck_assert_uint_eq(hs_trace_count(t), 1);
	const struct hs_trace_entry *e = hs_trace_get(t, 0);
	ck_assert(e->checked);
	ck_assert_uint_ge(e->nr_violations, 1);
	ck_assert_str_eq(e->violations[0].rule, "share-pair");
	hs_trace_stop(t);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("inspect_diff");
	TCase *tc = tcase_create("booted");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, identical_snapshots_no_diff);
	tcase_add_test(tc, share_hyp_changes_exactly_one_page_state);
	tcase_add_test(tc, pin_maps_one_page_at_el2);
	tcase_add_test(tc, changes_far_apart_are_each_reported);
	tcase_add_test(tc, diff_of_one_page_is_fast);
	tcase_add_test(tc, diff_text_and_json);
	tcase_add_test(tc, trace_records_calls_diffs_and_checks);
	tcase_add_test(tc, trace_records_violations_after_a_call);
	tcase_add_test(tc, trace_keeps_at_most_its_limit);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
