/* SPDX-License-Identifier: MIT */
/* Hypercall and exception breakpoints, watchpoints on physical memory. */
#include <check.h>
#include <hypscope/abi.h>
#include <pthread.h>
#include <stdlib.h>

#include "debug.h"
#include "profile.h"
#include "host.h"
#include "host_boot.h"
#include "inspect_check.h"
#include "pt_translate.h"
#include "pt_walk.h"
#include "testutil.h"

static int phys_read(void *ud, uint64_t pa, void *buf, size_t len)
{
	return hs_phys_read(ud, pa, buf, len, NULL) ? -1 : 0;
}

START_TEST(break_on_a_hypercall_stops_at_the_el2_vector)
{
	struct hs_machine *m = hs_test_booted(1, 0);
	struct hs_error err = {0};
	ck_assert_int_eq(hs_break_on_hvc(m, HS_HC_FN(HS_HC_host_share_hyp), true, &err), 0);
	uint64_t pfn = (hs_machine_opts(m)->ram_base + 0x600000) >> 12;
	struct hs_host_op res;
	struct hs_stop stop;
	/* Another hypercall runs through. */
	ck_assert_int_eq(hs_host_hvc(m, 0, HS_HC_FN(HS_HC_nop), NULL, 0, &res, &stop, &err), 0);
	ck_assert_int_eq(stop.reason, HS_STOP_DONE);
	ck_assert_int_eq(
	    hs_host_hvc(m, 0, HS_HC_FN(HS_HC_host_share_hyp), &pfn, 1, &res, &stop, &err), 0);
	ck_assert_int_eq(stop.reason, HS_STOP_BREAKPOINT);
	uint64_t vbar;
	hs_cpu_sysreg(m, 0, HS_SR_VBAR_EL2, &vbar);
	ck_assert_uint_eq(stop.pc, vbar + 0x400);
	struct hs_cpu_state st;
	hs_cpu_state(m, 0, &st);
	ck_assert_uint_eq(st.el, 2);
	ck_assert(hs_op_pending(m));
	ck_assert_int_eq(hs_continue(m, &stop, &err), 0);
	ck_assert_int_eq(stop.reason, HS_STOP_DONE);
	ck_assert_int_eq(hs_last_stop(m)->reason, HS_STOP_DONE);
	hs_machine_destroy(m);
}
END_TEST

START_TEST(break_on_an_exception_class)
{
	struct hs_machine *m = hs_test_booted(1, 0);
	struct hs_error err = {0};
	ck_assert_int_ne(hs_break_on_ec(m, 0x40, true, &err), 0);
	ck_assert_int_eq(hs_break_on_ec(m, 0x24, true, &err), 0); /* DABT_LOW */
	struct hs_host_op res;
	struct hs_stop stop;
	/* A first host access to a page faults in the host stage 2. */
	uint64_t pa = hs_machine_opts(m)->ram_base + 0x8000000;
	ck_assert_int_eq(hs_host_access(m, 0, false, pa, 8, 0, &res, &stop, &err), 0);
	ck_assert_int_eq(stop.reason, HS_STOP_BREAKPOINT);
	uint64_t vbar, esr;
	hs_cpu_sysreg(m, 0, HS_SR_VBAR_EL2, &vbar);
	hs_cpu_sysreg(m, 0, HS_SR_ESR_EL2, &esr);
	ck_assert_uint_eq(stop.pc, vbar + 0x400);
	ck_assert_uint_eq(esr >> 26, 0x24);
	ck_assert_int_eq(hs_continue(m, &stop, &err), 0);
	ck_assert_int_eq(stop.reason, HS_STOP_DONE);
	ck_assert_int_eq(hs_break_on_ec(m, 0x24, false, &err), 0);
	hs_machine_destroy(m);
}
END_TEST

START_TEST(watch_a_host_stage2_entry_stops_on_the_store_that_changes_it)
{
	struct hs_machine *m = hs_test_booted(1, 0);
	struct hs_error err = {0};
	struct hs_host_op res;
	struct hs_stop stop;
	uint64_t pa = hs_machine_opts(m)->ram_base + 0x8000000;
	/* Fault the page in: the host stage 2 gets a block mapping for it. */
	ck_assert_int_eq(hs_host_access(m, 0, false, pa, 8, 0, &res, &stop, &err), 0);
	uint64_t vttbr, vtcr;
	hs_cpu_sysreg(m, 0, HS_SR_VTTBR_EL2, &vttbr);
	hs_cpu_sysreg(m, 0, HS_SR_VTCR_EL2, &vtcr);
	struct hs_pt_regime r;
	char msg[128];
	ck_assert_int_eq(hs_machine_regime_s2(m, vtcr, vttbr, &r, msg, sizeof(msg)), 0);
	struct hs_phys phys = {.read = phys_read, .ud = m};
	struct hs_pt_trace t;
	ck_assert_int_eq(hs_pt_translate(&phys, &r, pa, &t), 0);
	uint64_t pte_pa = t.steps[t.nr_steps - 1].desc_pa;
	int id = hs_watch_add(m, pte_pa, 8, &err);
	ck_assert_msg(id > 0, "%s", err.msg);
	/* Sharing the page splits the block: break-before-make writes that entry. */
	uint64_t pfn = pa >> 12;
	ck_assert_int_eq(
	    hs_host_hvc(m, 0, HS_HC_FN(HS_HC_host_share_hyp), &pfn, 1, &res, &stop, &err), 0);
	ck_assert_int_eq(stop.reason, HS_STOP_WATCH);
	const struct hs_watch_hit *hit = hs_watch_last_hit(m);
	ck_assert_ptr_nonnull(hit);
	ck_assert_int_eq(hit->id, id);
	ck_assert_uint_eq(hit->pa, pte_pa);
	ck_assert_uint_eq(hit->old_value, t.steps[t.nr_steps - 1].desc);
	ck_assert_uint_ne(hit->new_value, hit->old_value);
	/* The store is done, and the machine resumes right after it. */
	uint64_t now;
	ck_assert_int_eq(hs_phys_read(m, pte_pa, &now, 8, &err), 0);
	ck_assert_uint_eq(now, hit->new_value);
	int hits = 1;
	for (;;) {
		ck_assert_int_eq(hs_continue(m, &stop, &err), 0);
		if (stop.reason != HS_STOP_WATCH)
			break;
		ck_assert_int_lt(++hits, 10);
	}
	ck_assert_int_eq(stop.reason, HS_STOP_DONE);
	ck_assert_int_eq(hs_host_last_op(m)->x1, 0);
	struct hs_check_report rep;
	hs_check_report_init(&rep);
	ck_assert_int_eq(hs_check(m, &rep), 0);
	hs_check_report_free(&rep);
	ck_assert_int_eq(hs_watch_del(m, id, &err), 0);
	/* The page is shared and the host can still use it. */
	ck_assert_int_eq(hs_host_access(m, 0, true, pa, 8, 5, &res, &stop, &err), 0);
	ck_assert(!res.refused);
	ck_assert_int_ne(hs_watch_del(m, id, &err), 0);
	ck_assert_int_lt(hs_watch_add(m, 0x10, 8, &err), 0);
	ck_assert_int_lt(hs_watch_add(m, pte_pa, 0, &err), 0);
	hs_machine_destroy(m);
}
END_TEST

/* The instructions a share of pfn takes on cpu, with the machine stopping where it likes. */
static uint64_t share_icount(struct hs_machine *m, unsigned cpu, uint64_t pfn, unsigned *stops,
			     struct hs_watch_hit *hits, unsigned max)
{
	struct hs_error err = {0};
	struct hs_host_op res;
	struct hs_stop stop;
	uint64_t i0 = hs_machine_icount(m);
	*stops = 0;
	ck_assert_int_eq(
	    hs_host_hvc(m, cpu, HS_HC_FN(HS_HC_host_share_hyp), &pfn, 1, &res, &stop, &err), 0);
	while (stop.reason == HS_STOP_WATCH) {
		const struct hs_watch_hit *hit = hs_watch_last_hit(m);
		ck_assert_ptr_nonnull(hit);
		ck_assert_uint_lt(*stops, max);
		hits[(*stops)++] = *hit;
		ck_assert_int_eq(hs_continue(m, &stop, &err), 0);
	}
	ck_assert_int_eq(stop.reason, HS_STOP_DONE);
	ck_assert_int_eq(hs_host_last_op(m)->x1, 0);
	return hs_machine_icount(m) - i0;
}

/*
 * rwatch on the host stage-2 lock, set after the lock code has run (boot): the
 * acquiring LDAXR stops with its destination written and the PC past it, on
 * whichever CPU ran it; the share then takes exactly the instructions it takes
 * unwatched (nothing re-executed, nothing skipped). awatch adds the stores (the
 * STXR's compare is not a load), and the host's own faulting load of the lock is
 * not an access.
 */
START_TEST(read_and_access_watchpoints_stop_after_the_instruction_retired)
{
	struct hs_machine *plain = hs_test_booted(2, 0);
	struct hs_machine *m = hs_test_booted(2, 0);
	struct hs_error err = {0};
	uint64_t lock, pfn = (hs_machine_opts(m)->ram_base + 0x600000) >> 12;
	ck_assert_int_eq(hs_sym_pa(m, "host_s2_lock", &lock, &err), 0);
	struct hs_watch_hit hits[8];
	unsigned n;
	uint64_t want = share_icount(plain, 1, pfn, &n, hits, 8);
	int id = hs_watch_add_kind(m, lock, 4, HS_WATCH_READ, &err);
	ck_assert_msg(id > 0, "%s", err.msg);
	struct hs_stop stop;
	struct hs_host_op res;
	uint64_t i0 = hs_machine_icount(m);
	ck_assert_int_eq(
	    hs_host_hvc(m, 1, HS_HC_FN(HS_HC_host_share_hyp), &pfn, 1, &res, &stop, &err), 0);
	ck_assert_int_eq(stop.reason, HS_STOP_WATCH);
	const struct hs_watch_hit *hit = hs_watch_last_hit(m);
	ck_assert(hit->read);
	ck_assert_int_eq(hit->id, id);
	ck_assert_uint_eq(hit->cpu, 1);
	ck_assert_uint_eq(hit->pa, lock);
	ck_assert_uint_eq(hit->old_value, 0);
	ck_assert_uint_eq(hit->new_value, 0);
	struct hs_cpu_state st;
	hs_cpu_state(m, 1, &st);
	ck_assert_uint_eq(st.pc, hit->pc + 4);
	uint64_t link;
	uint32_t insn;
	ck_assert(hs_addr_to_link(m, hit->pc, &link));
	ck_assert_int_eq(hs_phys_read(m, hs_link_to_pa(m, link), &insn, 4, &err), 0);
	/* LDAXR Wt, [Xn]: Wt holds what it read. */
	ck_assert_uint_eq(insn & 0xfffffc00u, 0x885ffc00u);
	ck_assert_uint_eq(st.x[insn & 31], 0);
	ck_assert_int_eq(hs_continue(m, &stop, &err), 0);
	ck_assert_int_eq(stop.reason, HS_STOP_DONE);
	ck_assert_uint_eq(hs_machine_icount(m) - i0, want);
	/* Delete, add again as awatch: the LDAXR, the STXR (0 -> 1), the release (1 -> 0). */
	ck_assert_int_eq(hs_watch_del(m, id, &err), 0);
	ck_assert_int_gt(hs_watch_add_kind(m, lock, 4, HS_WATCH_ACCESS, &err), 0);
	pfn++;
	uint64_t want2 = share_icount(plain, 0, pfn, &n, hits, 8);
	ck_assert_uint_eq(share_icount(m, 0, pfn, &n, hits, 8), want2);
	ck_assert_uint_eq(n, 3);
	ck_assert(hits[0].read);
	ck_assert(!hits[1].read);
	ck_assert_uint_eq(hits[1].old_value, 0);
	ck_assert_uint_eq(hits[1].new_value, 1);
	ck_assert(!hits[2].read);
	ck_assert_uint_eq(hits[2].new_value, 0);
	for (unsigned i = 0; i < n; i++)
		ck_assert_uint_ne(hits[i].pc, 0);
	/* The host's load of the hypervisor's lock faults: the first access is EL2's. */
	ck_assert_int_eq(hs_host_access(m, 0, false, lock, 4, 0, &res, &stop, &err), 0);
	ck_assert_int_eq(stop.reason, HS_STOP_WATCH);
	hs_cpu_state(m, 0, &st);
	ck_assert_uint_eq(st.el, 2);
	while (stop.reason == HS_STOP_WATCH)
		ck_assert_int_eq(hs_continue(m, &stop, &err), 0);
	ck_assert_int_eq(stop.reason, HS_STOP_DONE);
	ck_assert(res.refused || hs_host_last_op(m)->refused);
	ck_assert_int_lt(hs_watch_add_kind(m, lock, 4, 5, &err), 0);
	hs_machine_destroy(m);
	hs_machine_destroy(plain);
}
END_TEST

/* An interrupt asked before a run stops it before its first instruction; continue finishes it. */
START_TEST(interrupt_stops_before_the_next_block_and_continue_finishes_exactly)
{
	struct hs_machine *m = hs_test_booted(1, 0);
	struct hs_error err = {0};
	struct hs_host_op res;
	struct hs_stop stop;
	uint64_t i0 = hs_machine_icount(m);
	ck_assert_int_eq(hs_host_hvc(m, 0, HS_HC_FN(HS_HC_nop), NULL, 0, &res, &stop, &err), 0);
	uint64_t plain = hs_machine_icount(m) - i0;
	i0 = hs_machine_icount(m);
	hs_machine_interrupt(m);
	ck_assert_int_eq(hs_host_hvc(m, 0, HS_HC_FN(HS_HC_nop), NULL, 0, &res, &stop, &err), 0);
	ck_assert_int_eq(stop.reason, HS_STOP_INTERRUPTED);
	ck_assert_str_eq(hs_stop_reason_name(stop.reason), "interrupted");
	ck_assert(hs_op_pending(m));
	ck_assert_uint_eq(hs_machine_icount(m), i0); /* nothing ran */
	ck_assert_int_eq(hs_continue(m, &stop, &err), 0);
	ck_assert_int_eq(stop.reason, HS_STOP_DONE);
	ck_assert_int_eq(hs_host_last_op(m)->x0, 0);
	ck_assert_uint_eq(hs_machine_icount(m) - i0, plain);
	/* The request is consumed: the next run is not interrupted. */
	ck_assert_int_eq(hs_host_hvc(m, 0, HS_HC_FN(HS_HC_nop), NULL, 0, &res, &stop, &err), 0);
	ck_assert_int_eq(stop.reason, HS_STOP_DONE);
	hs_machine_destroy(m);
}
END_TEST

/*
 * The interrupter thread and the run meet at the `at`-th exception the run
 * delivers (a hypercall the loop makes): the run's thread waits there until
 * the other thread has called hs_machine_interrupt(), so the request always
 * comes in the middle of the run, however loaded the machine is (a timer
 * used to fire after the loop had finished now and then).
 */
struct meet {
	struct hs_machine *m;
	unsigned at, seen;
	bool reached, asked;
	pthread_mutex_t mu;
	pthread_cond_t cv;
};

static void meet_on_event(const struct hs_event *ev, void *ud)
{
	struct meet *t = ud;
	if (ev->type != HS_EV_EXCEPTION || ++t->seen != t->at)
		return;
	pthread_mutex_lock(&t->mu);
	t->reached = true;
	pthread_cond_broadcast(&t->cv);
	while (!t->asked)
		pthread_cond_wait(&t->cv, &t->mu);
	pthread_mutex_unlock(&t->mu);
}

static void *interrupt_at_meeting(void *ud)
{
	struct meet *t = ud;
	pthread_mutex_lock(&t->mu);
	while (!t->reached)
		pthread_cond_wait(&t->cv, &t->mu);
	hs_machine_interrupt(t->m);
	t->asked = true;
	pthread_cond_broadcast(&t->cv);
	pthread_mutex_unlock(&t->mu);
	return NULL;
}

/* From another thread, mid-run: the loop stops somewhere, and resuming costs no instruction. */
START_TEST(interrupt_from_another_thread_keeps_the_run_deterministic)
{
	const uint64_t loops = 20000;
	struct hs_machine *m = hs_test_booted(1, 0);
	struct hs_error err = {0};
	struct hs_host_op res;
	struct hs_stop stop;
	uint64_t i0 = hs_machine_icount(m);
	ck_assert_int_eq(hs_host_hvc_loop(m, 0, HS_HC_FN(HS_HC_nop), loops, &res, &stop, &err), 0);
	ck_assert_int_eq(stop.reason, HS_STOP_DONE);
	uint64_t plain = hs_machine_icount(m) - i0;
	/* Meet at different calls of the loop: early, late, the last but one. */
	static const unsigned at[] = {1, 7, 1300, 19999};
	uint64_t stopped_at[4];
	for (unsigned i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		i0 = hs_machine_icount(m);
		struct meet t = {.m = m, .at = at[i]};
		pthread_mutex_init(&t.mu, NULL);
		pthread_cond_init(&t.cv, NULL);
		ck_assert_int_eq(hs_machine_subscribe(m, meet_on_event, &t), 0);
		pthread_t th;
		ck_assert_int_eq(pthread_create(&th, NULL, interrupt_at_meeting, &t), 0);
		ck_assert_int_eq(
		    hs_host_hvc_loop(m, 0, HS_HC_FN(HS_HC_nop), loops, &res, &stop, &err), 0);
		pthread_join(th, NULL);
		hs_machine_unsubscribe(m, meet_on_event, &t);
		ck_assert_msg(t.reached, "the loop made fewer than %u calls", at[i]);
		ck_assert_int_eq(stop.reason, HS_STOP_INTERRUPTED);
		ck_assert(hs_op_pending(m));
		stopped_at[i] = hs_machine_icount(m) - i0;
		ck_assert_uint_lt(stopped_at[i], plain);
		ck_assert(i == 0 || stopped_at[i] > stopped_at[i - 1]);
		ck_assert_int_eq(hs_continue(m, &stop, &err), 0);
		ck_assert_int_eq(stop.reason, HS_STOP_DONE);
		ck_assert_uint_eq(hs_machine_icount(m) - i0, plain);
		pthread_cond_destroy(&t.cv);
		pthread_mutex_destroy(&t.mu);
	}
	hs_machine_destroy(m);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("debug");
	TCase *tc = tcase_create("debug");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, break_on_a_hypercall_stops_at_the_el2_vector);
	tcase_add_test(tc, break_on_an_exception_class);
	tcase_add_test(tc, watch_a_host_stage2_entry_stops_on_the_store_that_changes_it);
	tcase_add_test(tc, read_and_access_watchpoints_stop_after_the_instruction_retired);
	tcase_add_test(tc, interrupt_stops_before_the_next_block_and_continue_finishes_exactly);
	tcase_add_test(tc, interrupt_from_another_thread_keeps_the_run_deterministic);
	suite_add_tcase(s, tc);
	return hs_test_run(s);
}
