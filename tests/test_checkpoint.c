/* SPDX-License-Identifier: MIT */
/*
 * Checkpoints (issue 19): restoring one puts the whole machine back, so the
 * run after it is the run after the checkpoint again, to the instruction.
 */
#include <check.h>
#include <hypscope/abi.h>
#include <string.h>

#include "checkpoint.h"
#include "code_breakpoints.h"
#include "host.h"
#include "host_vm.h"
#include "testutil.h"

#define RAM (256ULL << 20)
#define PFN 0x48000ULL /* a host page, shared with the hypervisor below */
#define GFN 0x48100ULL

/* What must be equal after a replay: every CPU's registers and counters, and all of RAM. */
struct state {
	struct hs_cpu_state cpu[HS_MAX_CPUS];
	uint64_t sr[HS_MAX_CPUS][HS_SR_COUNT];
	uint64_t ram_hash, icount;
};

static void grab(struct hs_machine *m, struct state *s)
{
	memset(s, 0, sizeof(*s));
	for (unsigned i = 0; i < hs_nr_cpus(m); i++) {
		ck_assert_int_eq(hs_cpu_state(m, i, &s->cpu[i]), 0);
		for (unsigned r = 0; r < HS_SR_COUNT; r++)
			hs_cpu_sysreg(m, i, (enum hs_sysreg)r, &s->sr[i][r]);
	}
	s->ram_hash = hs_test_ram_hash(m);
	s->icount = hs_machine_icount(m);
}

static void assert_same(const struct state *a, const struct state *b, unsigned ncpus)
{
	ck_assert_uint_eq(a->icount, b->icount);
	for (unsigned i = 0; i < ncpus; i++) {
		ck_assert_uint_eq(a->cpu[i].pc, b->cpu[i].pc);
		ck_assert_uint_eq(a->cpu[i].pstate, b->cpu[i].pstate);
		ck_assert_uint_eq(a->cpu[i].icount, b->cpu[i].icount);
		for (unsigned r = 0; r < 31; r++)
			ck_assert_uint_eq(a->cpu[i].x[r], b->cpu[i].x[r]);
		for (unsigned r = 0; r < HS_SR_COUNT; r++)
			ck_assert_msg(a->sr[i][r] == b->sr[i][r], "cpu%u %s: %#lx then %#lx", i,
				      hs_sysreg_desc((enum hs_sysreg)r)->name,
				      (unsigned long)a->sr[i][r], (unsigned long)b->sr[i][r]);
	}
	ck_assert_uint_eq(a->ram_hash, b->ram_hash);
}

static void stepi(struct hs_machine *m, uint64_t n)
{
	struct hs_stop stop;
	struct hs_error err = {0};
	ck_assert_msg(hs_stepi(m, n, &stop, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(stop.reason, HS_STOP_STEP);
}

/* Stop inside a share on CPU 1, at the hypervisor's trap handler. */
static void stop_inside_share(struct hs_machine *m)
{
	struct hs_error err = {0};
	const struct hs_symbol *s = hs_image_symbol(hs_machine_image(m), "handle_host_trap");
	ck_assert_ptr_nonnull(s);
	int bp = hs_break_add(m, hs_link_to_hyp_va(m, s->addr), &err);
	ck_assert_msg(bp > 0, "%s", err.msg);
	uint64_t args[1] = {PFN};
	struct hs_host_op res;
	struct hs_stop stop;
	ck_assert_msg(
	    hs_host_hvc(m, 1, HS_HC_FN(HS_HC_host_share_hyp), args, 1, &res, &stop, &err) == 0,
	    "%s", err.msg);
	ck_assert_uint_eq(stop.reason, HS_STOP_BREAKPOINT);
	ck_assert_int_eq(hs_break_delete(m, bp, &err), 0);
}

static int64_t finish_op(struct hs_machine *m)
{
	struct hs_stop stop;
	struct hs_error err = {0};
	ck_assert_msg(hs_continue(m, &stop, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(stop.reason, HS_STOP_DONE);
	return hs_host_last_op(m)->x1;
}

START_TEST(replay_after_restart_reaches_the_same_state)
{
	struct hs_machine *m = hs_test_booted(2, RAM);
	stop_inside_share(m);
	stepi(m, 40); /* N instructions into the call */
	unsigned id = hs_test_checkpoint(m);
	stepi(m, 150); /* M more */
	struct state first, again;
	grab(m, &first);
	int64_t x0 = finish_op(m);
	ck_assert_int_eq(x0, 0);
	/* The share happened: doing it again is refused. */
	ck_assert_int_ne(hs_test_hvc(m, 0, HS_HC_host_share_hyp, PFN, 0).x1, 0);

	hs_test_restart(m, id);
	ck_assert(hs_op_pending(m));
	stepi(m, 150);
	grab(m, &again);
	assert_same(&first, &again, 2);
	/* ... and the rest of the call is the same call: it succeeds once more. */
	ck_assert_int_eq(finish_op(m), 0);
	hs_test_assert_clean(m, "after the replayed share");
	hs_machine_destroy(m);
}
END_TEST

START_TEST(restart_twice_and_across_branches)
{
	struct hs_machine *m = hs_test_booted(1, RAM);
	struct state s0, s1, now;
	unsigned c0 = hs_test_checkpoint(m);
	grab(m, &s0);
	ck_assert_int_eq(hs_test_hvc(m, 0, HS_HC_host_share_hyp, PFN, 0).x1, 0);
	unsigned c1 = hs_test_checkpoint(m);
	grab(m, &s1);
	hs_test_restart(m, c0);
	grab(m, &now);
	assert_same(&s0, &now, 1);
	/* Another branch: share a different page, then jump to the first branch's end. */
	ck_assert_int_eq(hs_test_hvc(m, 0, HS_HC_host_share_hyp, PFN + 1, 0).x1, 0);
	hs_test_checkpoint(m);
	hs_test_restart(m, c1);
	grab(m, &now);
	assert_same(&s1, &now, 1);
	/* The host's records came back too: the page shared there is shared here. */
	ck_assert_int_eq(hs_test_hvc(m, 0, HS_HC_host_unshare_hyp, PFN, 0).x1, 0);
	ck_assert_int_ne(hs_test_hvc(m, 0, HS_HC_host_unshare_hyp, PFN + 1, 0).x1, 0);
	/* A deleted checkpoint is gone, the ones after it still restore. */
	struct hs_error err = {0};
	ck_assert_int_eq(hs_checkpoint_delete(m, c0, &err), 0);
	ck_assert_int_ne(hs_checkpoint_restore(m, c0, &err), 0);
	ck_assert_ptr_nonnull(strstr(err.msg, "no checkpoint"));
	hs_test_restart(m, c1);
	grab(m, &now);
	assert_same(&s1, &now, 1);
	hs_test_assert_clean(m, "after the restarts");
	hs_machine_destroy(m);
}
END_TEST

static uint64_t guest_calls(struct hs_machine *m)
{
	struct hs_vm_exit x;
	struct hs_error err = {0};
	ck_assert_msg(hs_vm_run(m, 0, HS_VCPU_OP_EXEC, GFN << 12, 0, &x, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(x.reason, HS_EXIT_GUEST_HVC);
	return x.x3;
}

START_TEST(restore_drops_the_code_translated_on_pages_it_changes)
{
	struct hs_machine *m = hs_test_booted(1, RAM);
	struct hs_error err = {0};
	uint64_t h;
	int64_t ret;
	ck_assert_msg(hs_vm_create(m, 0, false, &h, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(hs_vm_share(m, 0, h, PFN + 0x10, GFN, 1, HS_PROT_RWX, &ret, &err), 0);
	ck_assert_int_eq(ret, 0);
	hs_test_host_writes_function(m, (PFN + 0x10) << 12, 0x11);
	ck_assert_uint_eq(guest_calls(m), 0x11);
	unsigned id = hs_test_checkpoint(m);
	hs_test_host_writes_function(m, (PFN + 0x10) << 12, 0x22);
	ck_assert_uint_eq(guest_calls(m), 0x22);
	hs_test_restart(m, id);
	/* The translation of 0x22's code must not survive the page going back. */
	ck_assert_uint_eq(guest_calls(m), 0x11);
	hs_machine_destroy(m);
}
END_TEST

START_TEST(checkpoint_costs_the_pages_written_since)
{
	struct hs_machine *m = hs_test_booted(1, RAM);
	hs_test_checkpoint(m);
	ck_assert_int_eq(hs_test_hvc(m, 0, HS_HC_host_share_hyp, PFN, 0).x1, 0);
	unsigned id = hs_test_checkpoint(m);
	struct hs_checkpoint_info info;
	ck_assert(hs_checkpoint_get(m, id, &info));
	/* A share writes a handful of pages (tables, vmemmap, stacks, host context). */
	ck_assert_uint_gt(info.pages, 0);
	ck_assert_uint_lt(info.pages, 64);
	ck_assert_uint_eq(info.parent, 1);
	struct hs_checkpoint_info list[4];
	ck_assert_uint_eq(hs_checkpoint_list(m, false, list, 4), 2);
	ck_assert(list[1].current_base);
	hs_machine_destroy(m);
}
END_TEST

START_TEST(counters_read_the_instruction_clock)
{
	struct hs_machine *m = hs_test_booted(1, RAM);
	uint64_t pct = 0;
	ck_assert_int_eq(hs_cpu_sysreg(m, 0, HS_SR_CNTPCT_EL0, &pct), 0);
	struct hs_cpu_state st;
	hs_cpu_state(m, 0, &st);
	ck_assert_uint_eq(pct, st.icount);
	hs_machine_destroy(m);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("checkpoint");
	TCase *tc = tcase_create("checkpoint");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, replay_after_restart_reaches_the_same_state);
	tcase_add_test(tc, restart_twice_and_across_branches);
	tcase_add_test(tc, restore_drops_the_code_translated_on_pages_it_changes);
	tcase_add_test(tc, checkpoint_costs_the_pages_written_since);
	tcase_add_test(tc, counters_read_the_instruction_clock);
	suite_add_tcase(s, tc);
	return hs_test_run(s);
}
