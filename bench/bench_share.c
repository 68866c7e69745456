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
 * Both print guest instructions per pair. Usage: bench_share [N] [hyp.elf]
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <hypscope/abi.h>
#include <unicorn/unicorn.h>

#include "code_breakpoints.h"
#include "host.h"
#include "host_boot.h"
#include "machine.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

#define BENCH_PFN (0x50000000UL >> HS_PAGE_SHIFT) /* a host page */

static int fail(const char *what, const struct hs_error *err)
{
	fprintf(stderr, "bench_share: %s: %s\n", what, err ? err->msg : "");
	return 1;
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
	if (hs_machine_create(&o, &m, &err) || hs_boot(m, NULL, &stop, &err))
		return fail("boot", &err);
	const uint64_t share = HS_HC_FN(HS_HC_host_share_hyp);
	const uint64_t unshare = HS_HC_FN(HS_HC_host_unshare_hyp);
	const uint64_t pfn = BENCH_PFN;
	struct hs_host_op res;

	/* 1. one host operation per hypercall */
	uint64_t insns0 = hs_machine_icount(m);
	double t0 = now();
	for (uint64_t i = 0; i < n; i++) {
		if (hs_host_hvc(m, 0, share, &pfn, 1, &res, &stop, &err) || res.x0 || res.x1)
			return fail("host_share_hyp", &err);
		if (hs_host_hvc(m, 0, unshare, &pfn, 1, &res, &stop, &err) || res.x0 || res.x1)
			return fail("host_unshare_hyp", &err);
	}
	double dt = now() - t0;
	uint64_t ipp = (hs_machine_icount(m) - insns0) / n;
	printf("share+unshare, one host operation per call: %" PRIu64 " pairs in %.3f s = %.0f "
	       "pairs/s (%.3f us per pair), %" PRIu64 " guest instructions per pair\n",
	       n, dt, n / dt, dt / n * 1e6, ipp);

	/* 2. the host's own EL1 loop */
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
	uint64_t code_pa = hs_machine_opts(m)->ram_base + 0x10000; /* a host page */
	uint64_t host_page = hs_host_entry(m) - HS_HOST_OFF_IDLE;
	uint64_t back = host_page + HS_HOST_OFF_LOOP + 16; /* where the loop operation ends */
	for (unsigned i = 0; i < sizeof(loop) / 4; i++)
		code[i] = loop[i];
	int64_t off = ((int64_t)back - (int64_t)(code_pa + 40)) / 4;
	code[10] = 0x14000000u | ((uint32_t)off & 0x3ffffff); /* b back */
	if (hs_phys_write(m, code_pa, code, sizeof(code), &err))
		return fail("write loop", &err);
	uint64_t at = host_page + HS_HOST_OFF_LOOP;
	int bp = hs_break_add(m, at, &err);
	if (bp < 0)
		return fail("break", &err);
	if (hs_host_hvc_loop(m, 0, HS_HC_FN(HS_HC_nop), 1, &res, &stop, &err) ||
	    stop.reason != HS_STOP_BREAKPOINT)
		return fail("enter the loop", &err);
	hs_break_delete(m, bp, NULL);
	hs_cpu_set_xreg(m, 0, 19, n);
	hs_cpu_set_xreg(m, 0, 20, share);
	hs_cpu_set_xreg(m, 0, 21, unshare);
	hs_cpu_set_xreg(m, 0, 22, pfn);
	hs_cpu_set_xreg(m, 0, 23, 0);
	hs_cpu_set_pc(m, 0, code_pa);
	insns0 = hs_machine_icount(m);
	t0 = now();
	if (hs_continue(m, &stop, &err) || stop.reason != HS_STOP_DONE)
		return fail("run the loop", &err);
	dt = now() - t0;
	struct hs_cpu_state st;
	hs_cpu_state(m, 0, &st);
	if (st.x[23] != 0 || st.x[19] != 0) {
		fprintf(stderr,
			"bench_share: loop ended with errors (x23 %#" PRIx64 ", x19 %" PRIu64 ")\n",
			st.x[23], st.x[19]);
		return 1;
	}
	ipp = (hs_machine_icount(m) - insns0) / n;
	printf("share+unshare, host EL1 loop:               %" PRIu64 " pairs in %.3f s = %.0f "
	       "pairs/s (%.3f us per pair), %" PRIu64 " guest instructions per pair\n",
	       n, dt, n / dt, dt / n * 1e6, ipp);
	hs_machine_destroy(m);
	return 0;
}
