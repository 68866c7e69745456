/* SPDX-License-Identifier: MIT */
/*
 * Record and reverse execution (issue 19): going back to instruction T by
 * restoring a checkpoint and running forward reaches exactly the state a
 * forward run had after T instructions, across exception entries, erets and
 * CPUs; reverse-continue finds the store that last changed a watched entry.
 */
#include <check.h>
#include <errno.h>
#include <hypscope/abi.h>
#include <string.h>

#include "checkpoint.h"
#include "debug.h"
#include "host.h"
#include "replay.h"
#include "testutil.h"

#define RAM (256ULL << 20)
#define PFN 0x48000ULL

struct regs {
	struct hs_cpu_state st;
	uint64_t elr, spsr, esr, vttbr;
};

static struct regs regs_of(struct hs_machine *m, unsigned cpu)
{
	struct regs r;
	ck_assert_int_eq(hs_cpu_state(m, cpu, &r.st), 0);
	hs_cpu_sysreg(m, cpu, HS_SR_ELR_EL2, &r.elr);
	hs_cpu_sysreg(m, cpu, HS_SR_SPSR_EL2, &r.spsr);
	hs_cpu_sysreg(m, cpu, HS_SR_ESR_EL2, &r.esr);
	hs_cpu_sysreg(m, cpu, HS_SR_VTTBR_EL2, &r.vttbr);
	return r;
}

static void assert_same_regs(struct regs a, struct regs b)
{
	ck_assert_uint_eq(a.st.pc, b.st.pc);
	ck_assert_uint_eq(a.st.el, b.st.el);
	ck_assert_uint_eq(a.st.sp, b.st.sp);
	ck_assert_uint_eq(a.st.pstate, b.st.pstate);
	ck_assert_uint_eq(a.st.icount, b.st.icount);
	for (int i = 0; i < 31; i++)
		ck_assert_uint_eq(a.st.x[i], b.st.x[i]);
	ck_assert_uint_eq(a.elr, b.elr);
	ck_assert_uint_eq(a.spsr, b.spsr);
	ck_assert_uint_eq(a.esr, b.esr);
	ck_assert_uint_eq(a.vttbr, b.vttbr);
}

static void replay_to(struct hs_machine *m, uint64_t t)
{
	struct hs_error err = {0};
	ck_assert_msg(hs_replay_to(m, t, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(hs_machine_icount(m), t);
}

static void record(struct hs_machine *m)
{
	struct hs_error err = {0};
	ck_assert_msg(hs_record_start(m, &err) == 0, "%s", err.msg);
}

static void share(struct hs_machine *m, unsigned cpu, uint64_t pfn)
{
	ck_assert_int_eq(hs_test_hvc(m, cpu, HS_HC_host_share_hyp, pfn, 0).x1, 0);
}

START_TEST(reverse_stepi_across_the_exception_entry_and_the_eret)
{
	struct hs_machine *m = hs_test_booted(1, RAM);
	record(m);
	uint64_t b = hs_machine_icount(m);
	share(m, 0, PFN);
	uint64_t p = hs_machine_icount(m);
	struct regs end = regs_of(m, 0);
	ck_assert_uint_eq(end.st.el, 1);
	uint64_t vbar = 0;
	hs_cpu_sysreg(m, 0, HS_SR_VBAR_EL2, &vbar);

	/* One back from the host: inside the hypervisor, at its eret. */
	replay_to(m, p - 1);
	struct regs r = regs_of(m, 0);
	ck_assert_uint_eq(r.st.el, 2);
	ck_assert(hs_op_pending(m));
	/* Forward one from there is the host again, exactly as before. */
	struct hs_stop stop;
	struct hs_error err = {0};
	ck_assert_msg(hs_stepi(m, 1, &stop, &err) == 0, "%s", err.msg);
	assert_same_regs(regs_of(m, 0), end);

	/* The first instruction of the call is the host's hvc, at EL1; after it, the vector. */
	replay_to(m, b);
	r = regs_of(m, 0);
	ck_assert_uint_eq(r.st.el, 1);
	ck_assert_uint_eq(r.st.pc, hs_machine_opts(m)->ram_base + HS_HOST_OFF_HVC);
	replay_to(m, b + 1);
	r = regs_of(m, 0);
	ck_assert_uint_eq(r.st.el, 2);
	ck_assert_uint_eq(r.st.pc, vbar + 0x400);
	ck_assert_uint_eq((r.esr >> 26) & 0x3f, 0x16); /* HVC64 */
	/* Before the history: refused, the machine stays. */
	ck_assert_int_eq(hs_replay_to(m, b - 1, &err), -ERANGE);
	ck_assert_uint_eq(hs_machine_icount(m), b + 1);
	hs_machine_destroy(m);
}
END_TEST

START_TEST(a_replay_reaches_the_state_of_the_forward_run)
{
	struct hs_machine *a = hs_test_booted(2, RAM);
	struct hs_machine *f = hs_test_booted(2, RAM);
	record(a);
	uint64_t b = hs_machine_icount(a);
	ck_assert_uint_eq(b, hs_machine_icount(f));
	share(a, 1, PFN);
	/* The forward run: the same call, one instruction at a time. */
	struct hs_host_op op = {.kind = HS_HOP_HVC, .cpu = 1, .fn = HS_HC_FN(HS_HC_host_share_hyp)};
	op.args[0] = PFN;
	struct hs_error err = {0};
	ck_assert_msg(hs_host_start_op(f, &op, &err) == 0, "%s", err.msg);
	static const uint64_t at[] = {1, 2, 37, 200, 500, 900};
	uint64_t done = 0;
	for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		struct hs_stop stop;
		ck_assert_msg(hs_stepi(f, at[i] - done, &stop, &err) == 0, "%s", err.msg);
		done = at[i];
		replay_to(a, b + at[i]);
		assert_same_regs(regs_of(a, 1), regs_of(f, 1));
		ck_assert_uint_eq(hs_current_cpu(a), 1);
		/* RAM too: the top 16 MiB hold the hypervisor's pool, stacks and tables. */
		uint64_t top = hs_machine_opts(a)->ram_base + RAM - (16 << 20);
		ck_assert_int_eq(
		    memcmp(hs_phys_ptr(a, top, 16 << 20), hs_phys_ptr(f, top, 16 << 20), 16 << 20),
		    0);
	}
	hs_machine_destroy(f);
	hs_machine_destroy(a);
}
END_TEST

START_TEST(reverse_continue_finds_the_store_of_the_share)
{
	struct hs_machine *m = hs_test_booted(2, RAM);
	record(m);
	uint64_t b = hs_machine_icount(m);
	share(m, 1, PFN);
	uint64_t e = hs_machine_icount(m);
	ck_assert_int_eq(hs_test_hvc(m, 0, HS_HC_host_donate_hyp, PFN + 0x100, 2).x1, 0);
	uint64_t desc = hs_test_desc_pa(m, true, PFN << 12);
	struct hs_error err = {0};
	ck_assert_int_gt(hs_watch_add(m, desc, 8, &err), 0);
	uint64_t now = hs_machine_icount(m);
	struct hs_replay_hit hit;
	bool found;
	ck_assert_msg(hs_replay_last_hit(m, NULL, &hit, &found, &err) == 0, "%s", err.msg);
	ck_assert(found);
	ck_assert_uint_eq(hs_machine_icount(m), now); /* the search leaves the machine be */
	ck_assert(hit.have_watch);
	ck_assert_uint_eq(hit.watch.pa, desc);
	ck_assert_uint_eq(hit.watch.cpu, 1);
	ck_assert_uint_eq(hit.watch.new_value, hs_test_rd64(m, desc));
	ck_assert(hit.icount > b && hit.icount < e);
	char sym[128];
	ck_assert(hs_symbolize(m, hit.watch.pc, sym, sizeof(sym)));
	ck_assert_msg(hit.watch.pc >> 47, "a store of the hypervisor (%s)", sym);
	ck_assert_msg(hs_replay_goto_hit(m, &hit, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(hs_last_stop(m)->reason, HS_STOP_WATCH);
	ck_assert_uint_eq(hs_test_rd64(m, desc), hit.watch.new_value);
	ck_assert_uint_eq(hs_current_cpu(m), 1);
	/* One instruction back, the entry holds what it held before the store. */
	replay_to(m, hit.icount - 1);
	ck_assert_uint_eq(hs_test_rd64(m, desc), hit.watch.old_value);
	/* The store before it, if any, is earlier still (the share may write it twice). */
	bool again;
	struct hs_replay_hit prev;
	ck_assert_msg(hs_replay_last_hit(m, NULL, &prev, &again, &err) == 0, "%s", err.msg);
	ck_assert(!again || prev.icount < hit.icount);
	hs_machine_destroy(m);
}
END_TEST

START_TEST(record_keeps_a_checkpoint_per_operation_and_per_interval)
{
	struct hs_machine *m = hs_test_booted(1, RAM);
	record(m);
	share(m, 0, PFN);
	share(m, 0, PFN + 1);
	struct hs_record_info info;
	hs_record_info(m, &info);
	ck_assert(info.active);
	ck_assert_uint_ge(info.checkpoints, 3); /* the start, and one per call */
	/* A long operation: a checkpoint per interval on the way (host loop of null calls). */
	struct hs_host_op res;
	struct hs_stop stop;
	struct hs_error err = {0};
	ck_assert_msg(
	    hs_host_hvc_loop(m, 0, HS_HC_FN(HS_HC_host_share_hyp), 20000, &res, &stop, &err) == 0,
	    "%s", err.msg);
	ck_assert_uint_eq(stop.reason, HS_STOP_DONE); /* record's stops are not the user's */
	hs_record_info(m, &info);
	uint64_t span = info.now - info.first_icount;
	ck_assert_uint_ge(info.checkpoints, 3 + span / HS_RECORD_INTERVAL);
	replay_to(m, info.first_icount + span / 2);
	hs_record_stop(m);
	hs_record_info(m, &info);
	ck_assert(!info.active);
	ck_assert_uint_eq(info.checkpoints, 0);
	hs_machine_destroy(m);
}
END_TEST

/* A booted machine recording with these limits. */
static struct hs_machine *recording_with(struct hs_record_limits lim)
{
	struct hs_machine *m = hs_test_booted(1, RAM);
	record(m);
	struct hs_error err = {0};
	ck_assert_msg(hs_record_set_limits(m, &lim, &err) == 0, "%s", err.msg);
	return m;
}

/*
 * Record thins the old checkpoints it takes inside an operation (replay.c):
 * with two kept dense, a long host loop keeps far fewer than it took, and a
 * point inside an interval whose checkpoint was folded away replays from an
 * older one to the same registers and RAM as the forward run had there.
 */
START_TEST(old_interval_checkpoints_are_thinned_and_replay_exactly)
{
	struct hs_machine *m = recording_with((struct hs_record_limits){.dense = 2});
	struct hs_error err = {0};
	enum { NP = 4 };
	static const uint64_t at[NP] = {1500000, 4500000, 7500000, 10500000};
	struct {
		uint64_t hash;
		struct regs r;
	} seen[NP];
	struct hs_host_op op = {.kind = HS_HOP_HVC_LOOP,
				.cpu = 0,
				.fn = HS_HC_FN(HS_HC_host_share_hyp),
				.args = {100000}};
	ck_assert_msg(hs_host_start_op(m, &op, &err) == 0, "%s", err.msg);
	uint64_t t0 = hs_machine_icount(m), done = 0;
	struct hs_stop stop;
	for (unsigned i = 0; i < NP; i++) {
		ck_assert_msg(hs_stepi(m, at[i] - done, &stop, &err) == 0, "%s", err.msg);
		done = at[i];
		ck_assert_uint_eq(hs_machine_icount(m), t0 + at[i]);
		seen[i].hash = hs_test_ram_hash(m);
		seen[i].r = regs_of(m, 0);
	}
	ck_assert_msg(hs_continue(m, &stop, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(stop.reason, HS_STOP_DONE);
	struct hs_record_info info;
	hs_record_info(m, &info);
	uint64_t taken = 2 + (info.now - t0) / HS_RECORD_INTERVAL;
	ck_assert_uint_gt(info.folded, 0);
	ck_assert_uint_lt(info.checkpoints, taken);
	for (unsigned i = 0; i < NP; i++) {
		replay_to(m, t0 + at[i]);
		assert_same_regs(regs_of(m, 0), seen[i].r);
		ck_assert_uint_eq(hs_test_ram_hash(m), seen[i].hash);
	}
	hs_machine_destroy(m);
}
END_TEST

/*
 * Past its memory bound record drops the oldest history (gdb's
 * insn-number-max): the start moves forward, going back before it is refused,
 * and the history kept replays as before.
 */
START_TEST(record_drops_its_oldest_history_past_the_memory_bound)
{
	struct hs_machine *m = recording_with(
	    (struct hs_record_limits){.dense = HS_RECORD_DENSE, .max_bytes = 2 << 20});
	struct hs_error err = {0};
	struct hs_record_info info;
	hs_record_info(m, &info);
	uint64_t start = info.first_icount;
	for (unsigned i = 0; i < 300; i++)
		ck_assert_int_eq(
		    hs_test_hvc(m, 0, i % 2 ? HS_HC_host_unshare_hyp : HS_HC_host_share_hyp, PFN, 0)
			.x1,
		    0);
	struct hs_checkpoint_stats st;
	hs_checkpoint_stats(m, &st);
	hs_record_info(m, &info);
	ck_assert_uint_gt(info.dropped, 0);
	ck_assert_uint_gt(info.first_icount, start);
	ck_assert_uint_le(st.bytes, (2 << 20) + (1 << 20)); /* measured every 16 checkpoints */
	ck_assert_int_eq(hs_replay_to(m, start, &err), -ERANGE);
	uint64_t mid = info.first_icount + (info.now - info.first_icount) / 2;
	replay_to(m, mid);
	hs_machine_destroy(m);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("replay");
	TCase *tc = tcase_create("replay");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, reverse_stepi_across_the_exception_entry_and_the_eret);
	tcase_add_test(tc, a_replay_reaches_the_state_of_the_forward_run);
	tcase_add_test(tc, reverse_continue_finds_the_store_of_the_share);
	tcase_add_test(tc, record_keeps_a_checkpoint_per_operation_and_per_interval);
	tcase_add_test(tc, old_interval_checkpoints_are_thinned_and_replay_exactly);
	tcase_add_test(tc, record_drops_its_oldest_history_past_the_memory_bound);
	suite_add_tcase(s, tc);
	return hs_test_run(s);
}
