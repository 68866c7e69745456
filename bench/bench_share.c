/* SPDX-License-Identifier: MIT */
/*
 * host_share_hyp + host_unshare_hyp pairs per second from the host.
 *
 * Two figures:
 *  1. per operation: each hypercall is one host operation (hs_host_hvc), i.e.
 *     one uc_emu_start in Unicorn 2.0.1 — what the debugger and the tests pay;
 *  2. in a loop: the host runs its own EL1 loop (share, unshare, decrement,
 *     branch) written into one of its pages, so the figure is the cost of the
 *     guest instructions (host + hypervisor) without the per-operation
 *     overhead of the emulator. The loop is entered from the host model's
 *     hypercall-loop operation through a one-shot code hook, and branches back
 *     to its end, so the operation completes normally.
 * Both print guest instructions per pair, without and with PTE provenance
 * (pte_blame.h), in alternating rounds. Usage: bench_share [N] [hyp.elf]; with
 * HS_BENCH_BLAME=0 or 1, one round of that half only, the loop's (to compare under
 * callgrind).
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <hypscope/abi.h>
#include <unicorn/unicorn.h>

#include "code_breakpoints.h"
#include "host.h"
#include "host_boot.h"
#include "machine.h"
#include "pte_blame.h"
#include "store_trap.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* This process's CPU time: what the with/without comparison uses (the machine is shared). */
static double cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

#define BENCH_PFN (0x50000000UL >> HS_PAGE_SHIFT) /* a host page */

static int fail(const char *what, const struct hs_error *err)
{
	fprintf(stderr, "bench_share: %s: %s\n", what, err ? err->msg : "");
	return 1;
}

/* Seconds for n pairs, one host operation per hypercall (*cpu: CPU seconds); < 0 on failure. */
static double pairs_as_operations(struct hs_machine *m, uint64_t n, double *cpu)
{
	const uint64_t share = HS_HC_FN(HS_HC_host_share_hyp);
	const uint64_t unshare = HS_HC_FN(HS_HC_host_unshare_hyp);
	const uint64_t pfn = BENCH_PFN;
	struct hs_host_op res;
	struct hs_stop stop;
	struct hs_error err = {0};
	double t0 = now(), c0 = cpu_now();
	for (uint64_t i = 0; i < n; i++) {
		if (hs_host_hvc(m, 0, share, &pfn, 1, &res, &stop, &err) || res.x0 || res.x1)
			return fail("host_share_hyp", &err), -1;
		if (hs_host_hvc(m, 0, unshare, &pfn, 1, &res, &stop, &err) || res.x0 || res.x1)
			return fail("host_unshare_hyp", &err), -1;
	}
	*cpu = cpu_now() - c0;
	return now() - t0;
}

/* The host's own EL1 loop, written once at code_pa. */
static int write_loop(struct hs_machine *m, uint64_t code_pa)
{
	static const uint32_t loop[] = {
	    0xaa1403e0, /* mov x0, x20        (share) */
	    0xaa1603e1, /* mov x1, x22        (pfn) */
	    0xd4000002, /* hvc #0 */
	    0xaa0102f7, /* orr x23, x23, x1   (any error sticks) */
	    0xaa1503e0, /* mov x0, x21        (unshare) */
	    0xaa1603e1, /* mov x1, x22 */
	    0xd4000002, /* hvc #0 */
	    0xaa0102f7, /* orr x23, x23, x1 */
	    0xf1000673, /* subs x19, x19, #1 */
	    0x54fffee1, /* b.ne loop */
	    0,		/* b <end of the host's hypercall loop>, filled below */
	};
	uint32_t code[sizeof(loop) / 4];
	uint64_t host_page = hs_host_entry(m) - HS_HOST_OFF_IDLE;
	uint64_t back = host_page + HS_HOST_OFF_LOOP + 16; /* where the loop operation ends */
	for (unsigned i = 0; i < sizeof(loop) / 4; i++)
		code[i] = loop[i];
	int64_t off = ((int64_t)back - (int64_t)(code_pa + 40)) / 4;
	code[10] = 0x14000000u | ((uint32_t)off & 0x3ffffff); /* b back */
	struct hs_error err = {0};
	if (hs_phys_write(m, code_pa, code, sizeof(code), &err))
		return fail("write loop", &err);
	/* Kept for the whole run: the loop at code_pa branches past it, to `back`. */
	if (hs_break_add(m, host_page + HS_HOST_OFF_LOOP, &err) < 0)
		return fail("break", &err);
	return 0;
}

/* Seconds for n pairs from the host's loop at code_pa (*cpu: CPU seconds); < 0 on failure. */
static double pairs_in_a_loop(struct hs_machine *m, uint64_t n, uint64_t code_pa, double *cpu)
{
	struct hs_host_op res;
	struct hs_stop stop;
	struct hs_error err = {0};
	/* The breakpoint at the host's loop (write_loop) stops it; the loop at code_pa runs
	 * instead. */
	if (hs_host_hvc_loop(m, 0, HS_HC_FN(HS_HC_nop), 1, &res, &stop, &err) ||
	    stop.reason != HS_STOP_BREAKPOINT)
		return -2; /* the breakpoint did not stop it: no loop figure */
	hs_cpu_set_xreg(m, 0, 19, n);
	hs_cpu_set_xreg(m, 0, 20, HS_HC_FN(HS_HC_host_share_hyp));
	hs_cpu_set_xreg(m, 0, 21, HS_HC_FN(HS_HC_host_unshare_hyp));
	hs_cpu_set_xreg(m, 0, 22, BENCH_PFN);
	hs_cpu_set_xreg(m, 0, 23, 0);
	hs_cpu_set_pc(m, 0, code_pa);
	double t0 = now(), c0 = cpu_now();
	if (hs_continue(m, &stop, &err) || stop.reason != HS_STOP_DONE)
		return fail("run the loop", &err), -1;
	double dt = now() - t0;
	*cpu = cpu_now() - c0;
	struct hs_cpu_state st;
	hs_cpu_state(m, 0, &st);
	if (st.x[23] != 0 || st.x[19] != 0) {
		fprintf(stderr,
			"bench_share: loop ended with errors (x23 %#" PRIx64 ", x19 %" PRIu64 ")\n",
			st.x[23], st.x[19]);
		return -1;
	}
	return dt;
}

#define RUNS 10

static void report(const char *what, uint64_t n, double dt, uint64_t ipp)
{
	printf("share+unshare, %-44s %" PRIu64 " pairs in %.3f s = %.0f pairs/s (%.3f us per "
	       "pair), %" PRIu64 " guest instructions per pair\n",
	       what, n, dt, n / dt, dt / n * 1e6, ipp);
}

int main(int argc, char **argv)
{
	uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 0) : 200000;
	struct hs_machine_opts o;
	hs_machine_opts_default(&o);
	o.insn_limit = 1ULL << 48; /* one run of N calls: far beyond the default stuck-loop limit */
	o.hyp_elf = argc > 2 ? argv[2] : HS_DEFAULT_HYP_ELF;
	struct hs_machine *m;
	struct hs_error err = {0};
	struct hs_stop stop;
	if (!n || hs_machine_create(&o, &m, &err) || hs_boot(m, NULL, &stop, &err))
		return fail("boot", &err);
	uint64_t code_pa = hs_machine_opts(m)->ram_base + 0x10000; /* a host page */
	if (write_loop(m, code_pa))
		return 1;
	/*
	 * Rounds alternate without and with PTE provenance (pte_blame.h, what the
	 * CLI always runs), best of RUNS each, so load changes hit both alike.
	 */
	double best[2][2] = {{1e9, 1e9}, {1e9, 1e9}}; /* [blame][ops, loop] */
	double cpu[2][2] = {{1e9, 1e9}, {1e9, 1e9}};  /* the same in CPU time */
	uint64_t ipp[2] = {0, 0};
	bool loop_ok = true;
	/* HS_BENCH_BLAME=0 or 1: that half only (for callgrind: one run each, compared) */
	const char *only = getenv("HS_BENCH_BLAME");
	int first = only ? atoi(only) != 0 : 0, last = only ? first : 1;
	for (int r = 0; r < (only ? 1 : RUNS); r++) {
		for (int on = first; on <= last; on++) {
			struct hs_blame *b = NULL;
			if (on && hs_blame_new(m, &b, &err))
				return fail("blame", &err);
			uint64_t i0 = hs_machine_icount(m);
			double cop = 0, clp = 0;
			double op = pairs_as_operations(m, only ? 1 : n, &cop);
			uint64_t i1 = hs_machine_icount(m);
			double lp = op < 0 || !loop_ok ? -2 : pairs_in_a_loop(m, n, code_pa, &clp);
			uint64_t i2 = hs_machine_icount(m);
			hs_blame_free(b);
			loop_ok = loop_ok && lp != -2;
			if (op < 0 || (lp < 0 && lp != -2))
				return 1;
			best[on][0] = op < best[on][0] ? op : best[on][0];
			best[on][1] = lp < best[on][1] ? lp : best[on][1];
			cpu[on][0] = cop < cpu[on][0] ? cop : cpu[on][0];
			cpu[on][1] = clp < cpu[on][1] ? clp : cpu[on][1];
			ipp[0] = (i1 - i0) / n;
			ipp[1] = (i2 - i1) / n;
		}
	}
	report("one host operation per call:", n, best[0][0], ipp[0]);
	report("one host operation per call, PTE provenance:", n, best[1][0], ipp[0]);
	if (loop_ok) {
		report("host EL1 loop:", n, best[0][1], ipp[1]);
		report("host EL1 loop, PTE provenance:", n, best[1][1], ipp[1]);
	} else {
		printf("share+unshare, host EL1 loop: skipped (the breakpoint on the host's "
		       "hypercall loop did not stop it)\n");
	}
	printf("PTE provenance costs %+.1f %% per operation", (cpu[1][0] / cpu[0][0] - 1) * 100);
	if (loop_ok)
		printf(", %+.1f %% in the loop", (cpu[1][1] / cpu[0][1] - 1) * 100);
	struct hs_store_trap_stats ts;
	hs_store_trap_stats(m, &ts);
	printf(" (process CPU time, best of %d alternating rounds); %" PRIu64
	       " stores trapped in all\n",
	       RUNS, ts.traps);
	hs_machine_destroy(m);
	return 0;
}
