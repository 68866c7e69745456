/* SPDX-License-Identifier: MIT */
/*
 * Boot to a protected host: wall time (machine creation excluded and
 * included) and instructions executed, for 1 GiB and 16 GiB of RAM.
 * Usage: bench_boot [hyp.elf]
 */
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include "host_boot.h"
#include "machine.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	const uint64_t sizes[] = {1ULL << 30, 16ULL << 30};
	for (int i = 0; i < 2; i++) {
		double best_boot = 1e9, best_total = 1e9;
		uint64_t insns = 0;
		for (int rep = 0; rep < 5; rep++) {
			struct hs_machine_opts o;
			hs_machine_opts_default(&o);
			o.hyp_elf = argc > 1 ? argv[1] : HS_DEFAULT_HYP_ELF;
			o.ram_size = sizes[i];
			struct hs_machine *m;
			struct hs_error err = {0};
			struct hs_stop stop;
			double t0 = now();
			if (hs_machine_create(&o, &m, &err)) {
				fprintf(stderr, "bench_boot: %s\n", err.msg);
				return 1;
			}
			double t1 = now();
			if (hs_boot(m, NULL, &stop, &err) || stop.reason != HS_STOP_DONE) {
				fprintf(stderr, "bench_boot: %s\n", err.msg);
				return 1;
			}
			double t2 = now();
			insns = hs_machine_icount(m);
			hs_machine_destroy(m);
			if (t2 - t1 < best_boot)
				best_boot = t2 - t1;
			if (t2 - t0 < best_total)
				best_total = t2 - t0;
		}
		printf("boot to protected host, %2" PRIu64 " GiB: %.1f ms (%.1f ms with machine "
		       "creation), %" PRIu64 " instructions (best of 5)\n",
		       sizes[i] >> 30, best_boot * 1e3, best_total * 1e3, insns);
	}
	return 0;
}
