/* SPDX-License-Identifier: MIT */
/*
 * Boot to a protected host: wall time (machine creation excluded and
 * included) and instructions executed, for 1 GiB and 16 GiB of RAM with one
 * CPU and 64 GiB with four; each bare and with the hypercall trace the
 * debugger attaches to every machine (a table diff around every hypercall),
 * so the trace's share of a boot is measured, not guessed.
 * Wall time and the process's CPU time (steadier on a loaded machine).
 * Usage: bench_boot [hyp.elf] [RUNS]   (best of RUNS, default 5)
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "host_boot.h"
#include "inspect_trace.h"
#include "machine.h"

static double clock_s(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

struct config {
	uint64_t ram;
	unsigned cpus;
};

/*
 * One boot; times in *boot (hs_boot alone, wall), *cpu (its CPU time) and
 * *total (wall, with creation). 0 or 1.
 */
static int boot_once(const char *hyp, const struct config *c, bool trace, double *boot, double *cpu,
		     double *total, uint64_t *insns)
{
	struct hs_machine_opts o;
	hs_machine_opts_default(&o);
	o.hyp_elf = hyp;
	o.ram_size = c->ram;
	o.nr_cpus = c->cpus;
	struct hs_machine *m;
	struct hs_trace *t = NULL;
	struct hs_error err = {0};
	struct hs_stop stop;
	double t0 = clock_s(CLOCK_MONOTONIC);
	if (hs_machine_create(&o, &m, &err)) {
		fprintf(stderr, "bench_boot: %s\n", err.msg);
		return 1;
	}
	if (trace && hs_trace_start(m, HS_TRACE_F_DIFF, &t, &err)) {
		fprintf(stderr, "bench_boot: trace: %s\n", err.msg);
		hs_machine_destroy(m);
		return 1;
	}
	double t1 = clock_s(CLOCK_MONOTONIC), c1 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
	int rc = hs_boot(m, NULL, &stop, &err);
	double t2 = clock_s(CLOCK_MONOTONIC), c2 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
	if (rc || stop.reason != HS_STOP_DONE)
		fprintf(stderr, "bench_boot: %s\n", err.msg);
	*insns = hs_machine_icount(m);
	hs_trace_stop(t);
	hs_machine_destroy(m);
	*boot = t2 - t1;
	*cpu = c2 - c1;
	*total = t2 - t0;
	return rc || stop.reason != HS_STOP_DONE;
}

int main(int argc, char **argv)
{
	const char *hyp = argc > 1 ? argv[1] : HS_DEFAULT_HYP_ELF;
	int runs = argc > 2 ? atoi(argv[2]) : 5;
	if (runs < 1)
		runs = 1;
	const struct config configs[] = {{1ULL << 30, 1}, {16ULL << 30, 1}, {64ULL << 30, 4}};
	for (size_t i = 0; i < sizeof(configs) / sizeof(configs[0]); i++) {
		for (int trace = 0; trace < 2; trace++) {
			double best_boot = 1e9, best_cpu = 1e9, best_total = 1e9;
			uint64_t insns = 0;
			for (int rep = 0; rep < runs; rep++) {
				double b, c, t;
				if (boot_once(hyp, &configs[i], trace, &b, &c, &t, &insns))
					return 1;
				if (b < best_boot)
					best_boot = b;
				if (c < best_cpu)
					best_cpu = c;
				if (t < best_total)
					best_total = t;
			}
			printf("boot to protected host, %2" PRIu64 " GiB, %u CPU%s, %-8s %7.1f ms "
			       "(CPU %7.1f ms; %7.1f ms with machine creation), %" PRIu64
			       " instructions (best of %d)\n",
			       configs[i].ram >> 30, configs[i].cpus,
			       configs[i].cpus > 1 ? "s" : " ",
			       trace ? "traced:" : "bare:", best_boot * 1e3, best_cpu * 1e3,
			       best_total * 1e3, insns, runs);
		}
	}
	return 0;
}
