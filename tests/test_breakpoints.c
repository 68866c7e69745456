/* SPDX-License-Identifier: MIT */
/*
 * Code breakpoints and watchpoints as a user meets them (issue 13): set on
 * code that already ran, deleted and set again, disabled and enabled, on
 * several CPUs, through the PA and the HYP VA of the same instruction; and
 * watchpoints that stop after the storing instruction retired.
 */
#include <check.h>
#include <hypscope/abi.h>
#include <stdlib.h>
#include <string.h>

#include "code_breakpoints.h"
#include "debug.h"
#include "host.h"
#include "host_boot.h"
#include "hyp_state.h"
#include "testutil.h"

static struct hs_stop nop(struct hs_machine *m, unsigned cpu)
{
	struct hs_host_op res;
	struct hs_stop stop;
	struct hs_error err = {0};
	ck_assert_msg(hs_host_hvc(m, cpu, HS_HC_FN(HS_HC_nop), NULL, 0, &res, &stop, &err) == 0,
		      "%s", err.msg);
	return stop;
}

static void finish(struct hs_machine *m)
{
	struct hs_stop stop;
	struct hs_error err = {0};
	ck_assert_msg(hs_continue(m, &stop, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(stop.reason, HS_STOP_DONE);
	ck_assert_int_eq(hs_host_last_op(m)->x0, HS_SMCCC_SUCCESS);
}

static uint64_t sym_pa(struct hs_machine *m, const char *name)
{
	uint64_t pa;
	ck_assert_int_eq(hs_sym_pa(m, name, &pa, NULL), 0);
	return pa;
}

static uint64_t pa_to_hyp_va(struct hs_machine *m, uint64_t pa)
{
	uint64_t link;
	ck_assert(hs_addr_to_link(m, pa, &link));
	return hs_link_to_hyp_va(m, link);
}

static void assert_hit(struct hs_machine *m, struct hs_stop s, int id, unsigned cpu, uint64_t pc)
{
	ck_assert_msg(s.reason == HS_STOP_BREAKPOINT, "expected breakpoint %d, got stop '%s'", id,
		      hs_stop_reason_name(s.reason));
	ck_assert_int_eq(s.bp_id, id);
	ck_assert_uint_eq(s.cpu, cpu);
	ck_assert_uint_eq(s.pc, pc);
	struct hs_cpu_state st;
	hs_cpu_state(m, cpu, &st);
	ck_assert_uint_eq(st.pc, pc);
}

/* The hypercall path ran (and was translated) before the breakpoint existed. */
START_TEST(break_on_code_that_already_ran_is_hit)
{
	struct hs_machine *m = hs_test_booted(1, 0);
	struct hs_error err = {0};
	uint64_t pa = sym_pa(m, "handle_host_trap"), va = pa_to_hyp_va(m, pa);
	ck_assert_int_eq(nop(m, 0).reason, HS_STOP_DONE);
	int id = hs_break_add(m, pa, &err);
	ck_assert_msg(id > 0, "%s", err.msg);
	assert_hit(m, nop(m, 0), id, 0, va);
	finish(m);
	/* Again: resuming from it executed it; the next call stops again. */
	assert_hit(m, nop(m, 0), id, 0, va);
	finish(m);
	struct hs_break_info bi;
	ck_assert_int_eq(hs_break_info(m, id, &bi), 0);
	ck_assert_uint_eq(bi.hits, 2);
	ck_assert_uint_eq(bi.naddrs, 2);
	hs_machine_destroy(m);
}
END_TEST

START_TEST(break_delete_break_again_and_disable_enable)
{
	struct hs_machine *m = hs_test_booted(1, 0);
	struct hs_error err = {0};
	uint64_t pa = sym_pa(m, "host_hyp_share_transition"), va = pa_to_hyp_va(m, pa);
	uint64_t pfn = (hs_machine_opts(m)->ram_base + 0x600000) >> 12;
	uint64_t share = HS_HC_FN(HS_HC_host_share_hyp), unshare = HS_HC_FN(HS_HC_host_unshare_hyp);
	struct hs_host_op res;
	struct hs_stop s;
	/* The share path runs once without any breakpoint. */
	ck_assert_int_eq(hs_host_hvc(m, 0, share, &pfn, 1, &res, &s, &err), 0);
	ck_assert_int_eq(s.reason, HS_STOP_DONE);
	ck_assert_int_eq(hs_host_hvc(m, 0, unshare, &pfn, 1, &res, &s, &err), 0);
	int id = hs_break_add(m, va, &err); /* by HYP VA this time */
	ck_assert_int_gt(id, 0);
	ck_assert_int_eq(hs_break_delete(m, id, &err), 0);
	ck_assert_int_ne(hs_break_delete(m, id, &err), 0);
	ck_assert_int_eq(hs_host_hvc(m, 0, share, &pfn, 1, &res, &s, &err), 0);
	ck_assert_int_eq(s.reason, HS_STOP_DONE); /* deleted: not hit */
	ck_assert_int_eq(res.x1, 0);
	int id2 = hs_break_add(m, va, &err);
	ck_assert_int_gt(id2, id);
	ck_assert_int_eq(hs_host_hvc(m, 0, unshare, &pfn, 1, &res, &s, &err), 0);
	assert_hit(m, s, id2, 0, va);
	ck_assert_int_eq(hs_continue(m, &s, &err), 0);
	ck_assert_int_eq(s.reason, HS_STOP_DONE);
	ck_assert_int_eq(hs_break_enable(m, id2, false, &err), 0);
	ck_assert_int_eq(hs_host_hvc(m, 0, share, &pfn, 1, &res, &s, &err), 0);
	ck_assert_int_eq(s.reason, HS_STOP_DONE); /* disabled: not hit */
	ck_assert_int_eq(hs_break_enable(m, id2, true, &err), 0);
	ck_assert_int_eq(hs_host_hvc(m, 0, unshare, &pfn, 1, &res, &s, &err), 0);
	assert_hit(m, s, id2, 0, va);
	ck_assert_int_eq(hs_continue(m, &s, &err), 0);
	ck_assert_int_eq(s.reason, HS_STOP_DONE);
	ck_assert_int_eq(hs_host_last_op(m)->x1, 0);
	hs_machine_destroy(m);
}
END_TEST

/*
 * A breakpoint on the first instruction a new host operation runs (the host's
 * hvc stub, the first one of its hypercall loop) is hit before it executes,
 * as gdb reports a breakpoint at a PC the thread did not stop at; resuming
 * from it steps over it, and the next operation stops there again.
 */
START_TEST(break_on_an_operations_first_instruction_is_hit)
{
	struct hs_machine *m = hs_test_booted(2, 0);
	struct hs_error err = {0};
	uint64_t host_page = hs_host_entry(m) - HS_HOST_OFF_IDLE;
	int id = hs_break_add(m, host_page + HS_HOST_OFF_HVC, &err);
	ck_assert_msg(id > 0, "%s", err.msg);
	for (unsigned cpu = 0; cpu < 2; cpu++)
		for (int round = 0; round < 2; round++) {
			uint64_t before = hs_machine_icount(m);
			struct hs_stop s = nop(m, cpu);
			assert_hit(m, s, id, cpu, host_page + HS_HOST_OFF_HVC);
			ck_assert_uint_eq(hs_machine_icount(m), before); /* nothing ran yet */
			finish(m);
		}
	ck_assert_int_eq(hs_break_delete(m, id, &err), 0);
	int loop = hs_break_add(m, host_page + HS_HOST_OFF_LOOP, &err);
	ck_assert_int_gt(loop, 0);
	struct hs_host_op res;
	struct hs_stop s;
	ck_assert_int_eq(hs_host_hvc_loop(m, 0, HS_HC_FN(HS_HC_nop), 3, &res, &s, &err), 0);
	assert_hit(m, s, loop, 0, host_page + HS_HOST_OFF_LOOP);
	/* Resumed: steps over it, and the loop's branch back meets it twice more. */
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(hs_continue(m, &s, &err), 0);
		assert_hit(m, s, loop, 0, host_page + HS_HOST_OFF_LOOP);
	}
	finish(m);
	hs_machine_destroy(m);
}
END_TEST

/* Every CPU's engine has its own translated code: each must see the breakpoint. */
START_TEST(break_is_hit_on_every_cpu)
{
	struct hs_machine *m = hs_test_booted(3, 0);
	struct hs_error err = {0};
	uint64_t pa = sym_pa(m, "handle_host_trap"), va = pa_to_hyp_va(m, pa);
	for (unsigned cpu = 0; cpu < 3; cpu++)
		ck_assert_int_eq(nop(m, cpu).reason, HS_STOP_DONE);
	int id = hs_break_add(m, pa, &err);
	for (unsigned cpu = 3; cpu-- > 0;) {
		assert_hit(m, nop(m, cpu), id, cpu, va);
		finish(m);
	}
	hs_machine_destroy(m);
}
END_TEST

/*
 * __pkvm_init_switch_pgd runs at its PA (the idmap trampoline) on every CPU in the
 * boot; a breakpoint given by its HYP VA covers that alias, on each CPU.
 */
START_TEST(break_by_hyp_va_is_hit_at_the_pa_alias)
{
	struct hs_machine *m = hs_test_machine(2, 0);
	struct hs_error err = {0};
	struct hs_stop s;
	uint64_t pa = sym_pa(m, "__pkvm_init_switch_pgd");
	int id = hs_break_add(m, pa_to_hyp_va(m, pa), &err);
	ck_assert_int_gt(id, 0);
	ck_assert_int_eq(hs_boot(m, NULL, &s, &err), 0);
	assert_hit(m, s, id, 0, pa);
	ck_assert_int_eq(hs_continue(m, &s, &err), 0);
	assert_hit(m, s, id, 1, pa);
	ck_assert_int_eq(hs_break_delete(m, id, &err), 0);
	ck_assert_int_eq(hs_continue(m, &s, &err), 0);
	ck_assert_int_eq(s.reason, HS_STOP_DONE);
	ck_assert(!hs_op_pending(m));
	ck_assert_int_eq(nop(m, 1).reason, HS_STOP_DONE);
	hs_machine_destroy(m);
}
END_TEST

START_TEST(break_errors)
{
	struct hs_machine *m = hs_test_booted(1, 0);
	struct hs_error err = {0};
	ck_assert_int_lt(hs_break_add(m, sym_pa(m, "handle_host_trap") + 2, &err), 0);
	ck_assert_int_lt(hs_break_enable(m, 99, true, &err), 0);
	struct hs_break_info bi;
	ck_assert_int_lt(hs_break_info(m, 99, &bi), 0);
	hs_machine_destroy(m);
}
END_TEST

/* EL2 stage 1 translation of a hypervisor VA (CPU 0's registers). */
static uint64_t el2_translate(struct hs_machine *m, uint64_t va)
{
	uint64_t pa = 0;
	struct hs_error err = {0};
	ck_assert_msg(hs_el2_va_to_pa(m, 0, va, &pa, &err) == 0, "%s", err.msg);
	return pa;
}

/*
 * handle_host_trap opens with `stp x29, x30, [sp, #-0x40]!`. A watchpoint on
 * the slot it writes stops with the instruction retired: PC past it, SP
 * lowered, memory written; resuming does not store again.
 */
START_TEST(watch_stops_after_a_pre_index_store_retired)
{
	struct hs_machine *m = hs_test_booted(1, 0);
	struct hs_error err = {0};
	uint64_t pa = sym_pa(m, "handle_host_trap"), va = pa_to_hyp_va(m, pa);
	int bp = hs_break_add(m, pa, &err);
	assert_hit(m, nop(m, 0), bp, 0, va);
	struct hs_cpu_state st;
	hs_cpu_state(m, 0, &st);
	uint64_t sp0 = st.sp, slot = el2_translate(m, sp0 - 0x40);
	/* Make the slot differ from what the store writes. */
	uint64_t junk[2] = {0x5555555555555555ULL, 0xaaaaaaaaaaaaaaaaULL};
	ck_assert_int_eq(hs_phys_write(m, slot, junk, sizeof(junk), &err), 0);
	int w = hs_watch_add(m, slot, 16, &err);
	ck_assert_msg(w > 0, "%s", err.msg);
	struct hs_stop s;
	ck_assert_int_eq(hs_continue(m, &s, &err), 0);
	ck_assert_int_eq(s.reason, HS_STOP_WATCH);
	ck_assert_int_eq(s.bp_id, w);
	const struct hs_watch_hit *hit = hs_watch_last_hit(m);
	ck_assert_ptr_nonnull(hit);
	ck_assert_uint_eq(hit->pc, va);
	ck_assert_uint_eq(hit->old_value, junk[0]);
	hs_cpu_state(m, 0, &st);
	ck_assert_uint_eq(st.pc, va + 4);     /* past the store */
	ck_assert_uint_eq(st.sp, sp0 - 0x40); /* the writeback happened */
	uint64_t now[2];
	ck_assert_int_eq(hs_phys_read(m, slot, now, sizeof(now), &err), 0);
	ck_assert_uint_eq(now[0], st.x[29]);
	ck_assert_uint_eq(now[1], st.x[30]);
	ck_assert_uint_eq(hit->new_value, st.x[29]);
	ck_assert_int_eq(hs_watch_del(m, w, &err), 0);
	ck_assert_int_eq(hs_break_delete(m, bp, &err), 0);
	finish(m);
	/* The call returned normally: its frame was popped as it was pushed. */
	ck_assert_int_eq(nop(m, 0).reason, HS_STOP_DONE);
	hs_machine_destroy(m);
}
END_TEST

/*
 * The hypervisor's lock is taken with ldaxr/stxr: a watchpoint on it must not
 * make the stxr fail (it used to, and the hypervisor spun on its own lock).
 */
START_TEST(watch_on_a_lock_lets_the_exclusive_store_succeed)
{
	struct hs_machine *m = hs_test_booted(1, 0);
	struct hs_error err = {0};
	uint64_t lock = sym_pa(m, "host_s2_lock");
	int w = hs_watch_add(m, lock, 4, &err);
	ck_assert_int_gt(w, 0);
	uint64_t pfn = (hs_machine_opts(m)->ram_base + 0x600000) >> 12;
	struct hs_host_op res;
	struct hs_stop s;
	ck_assert_int_eq(hs_host_hvc(m, 0, HS_HC_FN(HS_HC_host_share_hyp), &pfn, 1, &res, &s, &err),
			 0);
	int hits = 0;
	uint32_t prev = 0;
	while (s.reason == HS_STOP_WATCH) {
		const struct hs_watch_hit *hit = hs_watch_last_hit(m);
		uint32_t now;
		ck_assert_int_eq(hs_phys_read(m, lock, &now, 4, &err), 0);
		ck_assert_uint_ne(now, prev); /* each stop is a real change, once */
		ck_assert_uint_eq(hit->new_value, now);
		struct hs_cpu_state st;
		hs_cpu_state(m, 0, &st);
		ck_assert_uint_eq(st.pc, hit->pc + 4);
		prev = now;
		ck_assert_int_lt(++hits, 10);
		ck_assert_int_eq(hs_continue(m, &s, &err), 0);
	}
	ck_assert_int_eq(s.reason, HS_STOP_DONE);
	ck_assert_int_ge(hits, 2); /* taken and released */
	ck_assert_int_eq(hs_host_last_op(m)->x1, 0);
	hs_machine_destroy(m);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("breakpoints");
	TCase *tc = tcase_create("breakpoints");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, break_on_code_that_already_ran_is_hit);
	tcase_add_test(tc, break_delete_break_again_and_disable_enable);
	tcase_add_test(tc, break_on_an_operations_first_instruction_is_hit);
	tcase_add_test(tc, break_is_hit_on_every_cpu);
	tcase_add_test(tc, break_by_hyp_va_is_hit_at_the_pa_alias);
	tcase_add_test(tc, break_errors);
	tcase_add_test(tc, watch_stops_after_a_pre_index_store_retired);
	tcase_add_test(tc, watch_on_a_lock_lets_the_exclusive_store_succeed);
	suite_add_tcase(s, tc);
	return hs_test_run(s);
}
