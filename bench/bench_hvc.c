/* SPDX-License-Identifier: MIT */
/*
 * Null hypercalls per second from the host model, with events on: each call
 * is a real `hvc` at EL1, the exception entry to EL2, the hypervisor's
 * dispatcher and an `eret` back. Usage: bench_hvc [N] [hyp.elf]
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "host.h"
#include "host_boot.h"
#include "machine.h"

static void count_event(const struct hs_event *ev, void *ud)
{
	(*(uint64_t *)ud)++;
	(void)ev;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 0) : 1000000;
	struct hs_machine_opts o;
	hs_machine_opts_default(&o);
	o.hyp_elf = argc > 2 ? argv[2] : HS_DEFAULT_HYP_ELF;
	struct hs_machine *m;
	struct hs_error err = {0};
	struct hs_stop stop;
	if (hs_machine_create(&o, &m, &err) || hs_boot(m, NULL, &stop, &err)) {
		fprintf(stderr, "bench_hvc: %s\n", err.msg);
		return 1;
	}
	uint64_t events = 0;
	hs_machine_subscribe(m, count_event, &events);
	struct hs_host_op res;
	uint64_t insns0 = hs_machine_icount(m);
	double t0 = now();
	for (uint64_t i = 0; i < n; i++) {
		if (hs_host_hvc(m, 0, HS_HC_FN(HS_HC_nop), NULL, 0, &res, &stop, &err) ||
		    res.x0 != 0) {
			fprintf(stderr, "bench_hvc: call %" PRIu64 " failed: %s\n", i, err.msg);
			return 1;
		}
	}
	double dt = now() - t0;
	printf("null hypercalls, one host operation each: %" PRIu64 " in %.3f s = %.0f per second "
	       "(%.3f us each), %" PRIu64 " events, %" PRIu64 " guest instructions per call\n",
	       n, dt, n / dt, dt / n * 1e6, events, (hs_machine_icount(m) - insns0) / n);

	/* The same calls issued by a loop in the host's own EL1 code. */
	events = 0;
	insns0 = hs_machine_icount(m);
	t0 = now();
	if (hs_host_hvc_loop(m, 0, HS_HC_FN(HS_HC_nop), n, &res, &stop, &err) || res.x0 != 0) {
		fprintf(stderr, "bench_hvc: loop failed: %s\n", err.msg);
		return 1;
	}
	dt = now() - t0;
	printf("null hypercalls, host EL1 loop:         %" PRIu64 " in %.3f s = %.0f per second "
	       "(%.3f us each), %" PRIu64 " events, %" PRIu64 " guest instructions per call\n",
	       n, dt, n / dt, dt / n * 1e6, events, (hs_machine_icount(m) - insns0) / n);
	hs_machine_destroy(m);
	return 0;
}
