/* SPDX-License-Identifier: MIT */
/*
 * Hypercalls as the debugger runs them: one host operation each with the
 * hypercall trace it attaches to every machine (a table diff around every
 * call), at 1 GiB, 16 GiB and 64 GiB of RAM. What a call costs must not grow
 * with the RAM: the trace's snapshots cost what the call wrote
 * (inspect_snapshot_live.h). A null hypercall, then a host_share_hyp +
 * host_unshare_hyp pair (which changes both tables and the vmemmap).
 * Usage: bench_trace [N] [hyp.elf]   (N calls or pairs per run, best of 5)
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <hypscope/abi.h>

#include "host.h"
#include "host_boot.h"
#include "inspect_trace.h"
#include "machine.h"

#define RUNS 5
#define BENCH_PFN (0x50000000UL >> HS_PAGE_SHIFT) /* a host page */

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int call(struct hs_machine *m, uint64_t fn, uint64_t arg, unsigned nargs)
{
	struct hs_host_op res;
	struct hs_stop stop;
	struct hs_error err = {0};
	uint64_t args[1] = {arg};
	if (hs_host_hvc(m, 0, fn, args, nargs, &res, &stop, &err) || res.x0 != 0 || res.x1 < 0) {
		fprintf(stderr, "bench_trace: hypercall %#" PRIx64 " failed: %s\n", fn, err.msg);
		return 1;
	}
	return 0;
}

/* Best time per call (or pair) over RUNS runs of n. */
static int run(struct hs_machine *m, uint64_t n, bool pair, double *best)
{
	*best = 1e9;
	for (int r = 0; r < RUNS; r++) {
		double t0 = now();
		for (uint64_t i = 0; i < n; i++) {
			if (!pair && call(m, HS_HC_FN(HS_HC_nop), 0, 0))
				return 1;
			if (pair && (call(m, HS_HC_FN(HS_HC_host_share_hyp), BENCH_PFN, 1) ||
				     call(m, HS_HC_FN(HS_HC_host_unshare_hyp), BENCH_PFN, 1)))
				return 1;
		}
		double dt = (now() - t0) / n;
		*best = dt < *best ? dt : *best;
	}
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 0) : 2000;
	const char *hyp = argc > 2 ? argv[2] : HS_DEFAULT_HYP_ELF;
	const uint64_t sizes[] = {1ULL << 30, 16ULL << 30, 64ULL << 30};
	if (!n) {
		fprintf(stderr, "bench_trace: give a count of at least 1\n");
		return 1;
	}
	for (int i = 0; i < 3; i++) {
		struct hs_machine_opts o;
		hs_machine_opts_default(&o);
		o.hyp_elf = hyp;
		o.ram_size = sizes[i];
		struct hs_machine *m;
		struct hs_trace *t;
		struct hs_error err = {0};
		struct hs_stop stop;
		if (hs_machine_create(&o, &m, &err) ||
		    hs_trace_start(m, HS_TRACE_F_DIFF, &t, &err) || hs_boot(m, NULL, &stop, &err)) {
			fprintf(stderr, "bench_trace: %s\n", err.msg);
			return 1;
		}
		double nop, pair;
		if (run(m, n, false, &nop) || run(m, n, true, &pair))
			return 1;
		const struct hs_trace_entry *e = hs_trace_get(t, hs_trace_count(t) - 1);
		printf("traced host operation, %2" PRIu64 " GiB: null hypercall %.2f us, "
		       "share+unshare pair %.2f us (%" PRIu64 " each, best of %d; last diff %zu "
		       "record%s)\n",
		       sizes[i] >> 30, nop * 1e6, pair * 1e6, n, RUNS, e ? e->diff.nr : 0,
		       e && e->diff.nr == 1 ? "" : "s");
		hs_trace_stop(t);
		hs_machine_destroy(m);
	}
	return 0;
}
