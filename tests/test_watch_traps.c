/* SPDX-License-Identifier: MIT */
/*
 * Write watchpoints on the page-granular store traps (watchpoints.c,
 * store_trap.h): exact stops (the store retired, never repeated) in the
 * orders nobody planned: watch, delete, watch again on the same page; two
 * watchpoints on one page and on one instruction; a watched page-table page
 * that PTE provenance records too; a checkpoint restored under a watchpoint;
 * another CPU; a store of the same value.
 */
#include <check.h>
#include <hypscope/abi.h>
#include <string.h>

#include "checkpoint.h"
#include "code_breakpoints.h"
#include "debug.h"
#include "host.h"
#include "host_boot.h"
#include "hyp_state.h"
#include "pte_blame.h"
#include "store_trap.h"
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

static struct hs_stop cont(struct hs_machine *m)
{
	struct hs_stop stop;
	struct hs_error err = {0};
	ck_assert_msg(hs_continue(m, &stop, &err) == 0, "%s", err.msg);
	return stop;
}

/*
 * handle_host_trap opens with `stp x29, x30, [sp, #-0x40]!`: the HYP VA of
 * that instruction and the PA of the 16 bytes it stores (found with a
 * breakpoint, then deleted; the call is finished).
 */
struct frame {
	uint64_t pc, slot, sp;
};

static struct frame first_frame(struct hs_machine *m, unsigned cpu)
{
	struct hs_error err = {0};
	uint64_t pa;
	ck_assert_int_eq(hs_sym_pa(m, "handle_host_trap", &pa, &err), 0);
	int bp = hs_break_add(m, pa, &err);
	ck_assert_int_gt(bp, 0);
	ck_assert_int_eq(nop(m, cpu).reason, HS_STOP_BREAKPOINT);
	struct hs_cpu_state st;
	hs_cpu_state(m, cpu, &st);
	struct frame f = {.pc = st.pc, .sp = st.sp};
	ck_assert_int_eq(hs_el2_va_to_pa(m, cpu, st.sp - 0x40, &f.slot, &err), 0);
	ck_assert_int_eq(hs_break_delete(m, bp, &err), 0);
	ck_assert_int_eq(cont(m).reason, HS_STOP_DONE);
	return f;
}

static void junk(struct hs_machine *m, uint64_t pa)
{
	uint64_t j[2] = {0x5555555555555555ULL, 0xaaaaaaaaaaaaaaaaULL};
	ck_assert_int_eq(hs_phys_write(m, pa, j, sizeof(j), NULL), 0);
}

/* The stop is watchpoint id's, at the frame's STP, retired: PC past it, SP lowered, memory written.
 */
static void assert_stp_hit(struct hs_machine *m, struct hs_stop s, int id, unsigned cpu,
			   const struct frame *f)
{
	ck_assert_msg(s.reason == HS_STOP_WATCH, "stop '%s'", hs_stop_reason_name(s.reason));
	ck_assert_int_eq(s.bp_id, id);
	const struct hs_watch_hit *hit = hs_watch_last_hit(m);
	ck_assert_ptr_nonnull(hit);
	ck_assert_int_eq(hit->id, id);
	ck_assert_uint_eq(hit->cpu, cpu);
	ck_assert_uint_eq(hit->pc, f->pc);
	struct hs_cpu_state st;
	hs_cpu_state(m, cpu, &st);
	ck_assert_uint_eq(st.pc, f->pc + 4);
	ck_assert_uint_eq(st.sp, f->sp - 0x40);
	uint64_t now[2];
	ck_assert_int_eq(hs_phys_read(m, f->slot, now, sizeof(now), NULL), 0);
	ck_assert_uint_eq(now[0], st.x[29]);
	ck_assert_uint_eq(now[1], st.x[30]);
	uint64_t want = hit->pa == f->slot ? st.x[29] : st.x[30];
	ck_assert_uint_eq(hit->new_value, want);
	ck_assert_uint_eq(hit->va, f->sp - 0x40 + (hit->pa - f->slot));
}

START_TEST(watch_delete_watch_again_on_the_same_page)
{
	struct hs_machine *m = hs_test_booted(1, 0);
	struct hs_error err = {0};
	struct frame f = first_frame(m, 0);
	/* Calibrated: the traps can stop exactly (uc_calibrate_tb.c). */
	ck_assert(hs_store_traps_can_leave(m));
	junk(m, f.slot);
	int w = hs_watch_add(m, f.slot, 8, &err);
	ck_assert_msg(w > 0, "%s", err.msg);
	/* On the traps: one page, no hook. */
	ck_assert_uint_eq(hs_store_trap_count(m, HS_TRAP_WATCH), 1);
	assert_stp_hit(m, nop(m, 0), w, 0, &f);
	ck_assert_uint_eq(hs_watch_last_hit(m)->old_value, 0x5555555555555555ULL);
	ck_assert_int_eq(cont(m).reason, HS_STOP_DONE);
	ck_assert_int_eq(hs_watch_del(m, w, &err), 0);
	ck_assert_uint_eq(hs_store_trap_count(m, HS_TRAP_WATCH), 0);
	/* Not watched: the call runs through. */
	junk(m, f.slot);
	ck_assert_int_eq(nop(m, 0).reason, HS_STOP_DONE);
	/* Watched again, the other half of the same store. */
	junk(m, f.slot);
	int w2 = hs_watch_add(m, f.slot + 8, 8, &err);
	ck_assert_int_gt(w2, w);
	assert_stp_hit(m, nop(m, 0), w2, 0, &f);
	ck_assert_uint_eq(hs_watch_last_hit(m)->pa, f.slot + 8);
	ck_assert_uint_eq(hs_watch_last_hit(m)->old_value, 0xaaaaaaaaaaaaaaaaULL);
	ck_assert_int_eq(cont(m).reason, HS_STOP_DONE);
	/* The call returned normally: its frame was popped as it was pushed. */
	ck_assert_int_eq(hs_host_last_op(m)->x0, HS_SMCCC_SUCCESS);
	hs_machine_destroy(m);
}
END_TEST

/*
 * Two watchpoints on the two halves of one STP: one stop (the first half's),
 * and resuming does not store again (no second stop). The same value stored
 * again by the next call is no change: no stop.
 */
START_TEST(two_watchpoints_on_one_store_stop_once_and_a_same_value_store_does_not_stop)
{
	struct hs_machine *m = hs_test_booted(1, 0);
	struct hs_error err = {0};
	struct frame f = first_frame(m, 0);
	junk(m, f.slot);
	int a = hs_watch_add(m, f.slot, 8, &err), b = hs_watch_add(m, f.slot + 8, 8, &err);
	ck_assert_int_gt(a, 0);
	ck_assert_int_gt(b, 0);
	ck_assert_uint_eq(hs_store_trap_count(m, HS_TRAP_WATCH), 1);
	uint64_t i0 = hs_machine_icount(m);
	assert_stp_hit(m, nop(m, 0), a, 0, &f);
	ck_assert_int_eq(cont(m).reason, HS_STOP_DONE);
	uint64_t watched = hs_machine_icount(m) - i0;
	/* The same frame with the same values: nothing changes, nothing stops. */
	i0 = hs_machine_icount(m);
	ck_assert_int_eq(nop(m, 0).reason, HS_STOP_DONE);
	ck_assert_uint_eq(hs_machine_icount(m) - i0, watched); /* nothing re-executed */
	ck_assert_int_eq(hs_watch_del(m, a, &err), 0);
	ck_assert_uint_eq(hs_store_trap_count(m, HS_TRAP_WATCH), 1); /* b keeps the page */
	junk(m, f.slot);
	assert_stp_hit(m, nop(m, 0), b, 0, &f);
	ck_assert_int_eq(cont(m).reason, HS_STOP_DONE);
	i0 = hs_machine_icount(m);
	ck_assert_int_eq(hs_watch_del(m, b, &err), 0);
	ck_assert_int_eq(nop(m, 0).reason, HS_STOP_DONE);
	ck_assert_uint_eq(hs_machine_icount(m) - i0, watched);
	hs_machine_destroy(m);
}
END_TEST

/* The last-level host stage-2 entry of pa (faulted in first). */
static uint64_t host_pte(struct hs_machine *m, uint64_t pa)
{
	struct hs_host_op res;
	struct hs_stop stop;
	struct hs_error err = {0};
	ck_assert_int_eq(hs_host_access(m, 0, false, pa, 8, 0, &res, &stop, &err), 0);
	return hs_test_desc_pa(m, true, pa);
}

/*
 * A watchpoint on a host stage-2 entry, whose page PTE provenance watches
 * too: the share stops at each store that changes the entry, and provenance
 * records each store once, as without the watchpoint.
 */
START_TEST(watch_on_a_blamed_table_page_records_each_store_once)
{
	struct hs_machine *plain = hs_test_booted(1, 0), *m = hs_test_booted(1, 0);
	struct hs_error err = {0};
	struct hs_blame *bp, *bm;
	ck_assert_int_eq(hs_blame_new(plain, &bp, &err), 0);
	ck_assert_int_eq(hs_blame_new(m, &bm, &err), 0);
	uint64_t pa = hs_machine_opts(m)->ram_base + 0x8000000, pfn = pa >> 12;
	uint64_t pte = host_pte(m, pa);
	ck_assert_uint_eq(host_pte(plain, pa), pte);
	hs_test_hvc(plain, 0, HS_HC_host_share_hyp, pfn, 0);
	int w = hs_watch_add(m, pte, 8, &err);
	ck_assert_int_gt(w, 0);
	struct hs_host_op res;
	struct hs_stop s;
	ck_assert_int_eq(hs_host_hvc(m, 0, HS_HC_FN(HS_HC_host_share_hyp), &pfn, 1, &res, &s, &err),
			 0);
	unsigned stops = 0;
	uint64_t prev = hs_test_rd64(plain, pte) ^ 1;
	while (s.reason == HS_STOP_WATCH) {
		const struct hs_watch_hit *hit = hs_watch_last_hit(m);
		ck_assert_uint_eq(hit->pa, pte);
		ck_assert_uint_ne(hit->old_value, hit->new_value);
		ck_assert_uint_eq(hit->new_value, hs_test_rd64(m, pte));
		ck_assert_uint_ne(hit->new_value, prev);
		prev = hit->new_value;
		/* Provenance has the store already, once. */
		struct hs_blame_rec r;
		ck_assert(hs_blame_last(bm, pte, &r));
		ck_assert_uint_eq(r.new, hit->new_value);
		ck_assert_uint_eq(r.pc, hit->pc);
		ck_assert_uint_lt(++stops, 10);
		s = cont(m);
	}
	ck_assert_int_eq(s.reason, HS_STOP_DONE);
	ck_assert_uint_ge(stops, 1);
	ck_assert_uint_eq(hs_test_rd64(m, pte), hs_test_rd64(plain, pte));
	struct hs_blame_rec rp[HS_BLAME_DEPTH], rm[HS_BLAME_DEPTH];
	uint64_t tp, tm;
	size_t np = hs_blame_history(bp, pte, rp, HS_BLAME_DEPTH, &tp);
	size_t nm = hs_blame_history(bm, pte, rm, HS_BLAME_DEPTH, &tm);
	ck_assert_uint_eq(nm, np);
	ck_assert_uint_eq(tm, tp);
	for (size_t i = 0; i < np; i++) {
		ck_assert_uint_eq(rm[i].new, rp[i].new);
		ck_assert_uint_eq(rm[i].pc, rp[i].pc);
		ck_assert_uint_eq(rm[i].icount, rp[i].icount);
	}
	hs_blame_free(bp);
	hs_blame_free(bm);
	hs_machine_destroy(plain);
	hs_machine_destroy(m);
}
END_TEST

/* A checkpoint restored under a watchpoint: the same store stops again, exactly. */
START_TEST(watch_then_checkpoint_restart_stops_at_the_same_store)
{
	struct hs_machine *m = hs_test_booted(1, 0);
	struct hs_error err = {0};
	struct frame f = first_frame(m, 0);
	junk(m, f.slot);
	unsigned ck;
	ck_assert_msg(hs_checkpoint_take(m, false, &ck, &err) == 0, "%s", err.msg);
	int w = hs_watch_add(m, f.slot, 16, &err);
	ck_assert_int_gt(w, 0);
	uint64_t i0 = hs_machine_icount(m);
	assert_stp_hit(m, nop(m, 0), w, 0, &f);
	uint64_t at = hs_machine_icount(m) - i0;
	ck_assert_int_eq(cont(m).reason, HS_STOP_DONE);
	ck_assert_msg(hs_checkpoint_restore(m, ck, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(hs_store_trap_count(m, HS_TRAP_WATCH), 1);
	i0 = hs_machine_icount(m);
	assert_stp_hit(m, nop(m, 0), w, 0, &f);
	ck_assert_uint_eq(hs_machine_icount(m) - i0, at);
	ck_assert_uint_eq(hs_watch_last_hit(m)->old_value, 0x5555555555555555ULL);
	ck_assert_int_eq(cont(m).reason, HS_STOP_DONE);
	ck_assert_int_eq(hs_host_last_op(m)->x0, HS_SMCCC_SUCCESS);
	hs_machine_destroy(m);
}
END_TEST

/*
 * Stopped at a breakpoint on the watched store itself: continue stops at the
 * watchpoint (the breakpoint is not hit twice), and so does a stepi over it,
 * one instruction (the step is not counted twice either).
 */
START_TEST(watch_on_the_instruction_under_a_breakpoint_and_stepi_over_it)
{
	struct hs_machine *m = hs_test_booted(1, 0);
	struct hs_error err = {0};
	struct frame f = first_frame(m, 0);
	uint64_t pa;
	ck_assert_int_eq(hs_sym_pa(m, "handle_host_trap", &pa, &err), 0);
	int bp = hs_break_add(m, pa, &err);
	ck_assert_int_eq(nop(m, 0).reason, HS_STOP_BREAKPOINT);
	junk(m, f.slot);
	int w = hs_watch_add(m, f.slot, 16, &err);
	assert_stp_hit(m, cont(m), w, 0, &f);
	ck_assert_int_eq(cont(m).reason, HS_STOP_DONE);
	/* Again, by stepi. */
	ck_assert_int_eq(nop(m, 0).reason, HS_STOP_BREAKPOINT);
	junk(m, f.slot);
	uint64_t i0 = hs_machine_icount(m);
	struct hs_stop s;
	ck_assert_int_eq(hs_stepi(m, 1, &s, &err), 0);
	assert_stp_hit(m, s, w, 0, &f);
	ck_assert_uint_eq(hs_machine_icount(m) - i0, 1);
	/* And a stepi that passes the store without changing anything is a plain step. */
	ck_assert_int_eq(hs_break_delete(m, bp, &err), 0);
	ck_assert_int_eq(cont(m).reason, HS_STOP_DONE);
	bp = hs_break_add(m, pa, &err);
	ck_assert_int_eq(nop(m, 0).reason, HS_STOP_BREAKPOINT);
	i0 = hs_machine_icount(m);
	ck_assert_int_eq(hs_stepi(m, 2, &s, &err), 0);
	ck_assert_int_eq(s.reason, HS_STOP_STEP);
	ck_assert_uint_eq(hs_machine_icount(m) - i0, 2);
	ck_assert_int_eq(hs_break_delete(m, bp, &err), 0);
	ck_assert_int_eq(cont(m).reason, HS_STOP_DONE);
	hs_machine_destroy(m);
}
END_TEST

/* CPU 1's own stack: its call stops on CPU 1; CPU 0's calls store elsewhere and run through. */
START_TEST(watch_on_another_cpu)
{
	struct hs_machine *m = hs_test_booted(2, 0);
	struct hs_error err = {0};
	struct frame f1 = first_frame(m, 1), f0 = first_frame(m, 0);
	ck_assert_uint_ne(f0.slot, f1.slot);
	junk(m, f1.slot);
	int w = hs_watch_add(m, f1.slot, 16, &err);
	ck_assert_int_gt(w, 0);
	ck_assert_int_eq(nop(m, 0).reason, HS_STOP_DONE);
	assert_stp_hit(m, nop(m, 1), w, 1, &f1);
	ck_assert_int_eq(cont(m).reason, HS_STOP_DONE);
	ck_assert_int_eq(hs_host_last_op(m)->x0, HS_SMCCC_SUCCESS);
	hs_machine_destroy(m);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("watch_traps");
	TCase *tc = tcase_create("watch_traps");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, watch_delete_watch_again_on_the_same_page);
	tcase_add_test(tc,
		       two_watchpoints_on_one_store_stop_once_and_a_same_value_store_does_not_stop);
	tcase_add_test(tc, watch_on_a_blamed_table_page_records_each_store_once);
	tcase_add_test(tc, watch_then_checkpoint_restart_stops_at_the_same_store);
	tcase_add_test(tc, watch_on_another_cpu);
	tcase_add_test(tc, watch_on_the_instruction_under_a_breakpoint_and_stepi_over_it);
	suite_add_tcase(s, tc);
	return hs_test_run(s);
}
