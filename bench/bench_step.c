/* SPDX-License-Identifier: MIT */
/*
 * How interactive stepping feels: the cost of one `stepi` (hs_stepi, what the
 * REPL command runs) inside __pkvm_init, and what breakpoints that are never
 * hit cost a full boot. Uses the machine's breakpoints (emu/machine/code_breakpoints.h).
 * Usage: bench_step [hyp.elf]
 */
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include "code_breakpoints.h"
#include "host_boot.h"
#include "machine.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static struct hs_machine *machine(const char *elf)
{
	struct hs_machine_opts o;
	hs_machine_opts_default(&o);
	o.hyp_elf = elf;
	struct hs_machine *m;
	struct hs_error err = {0};
	if (hs_machine_create(&o, &m, &err)) {
		fprintf(stderr, "bench_step: %s\n", err.msg);
		return NULL;
	}
	return m;
}

static int add_bp(struct hs_machine *m, const char *sym)
{
	uint64_t pa;
	if (hs_sym_pa(m, sym, &pa, NULL))
		return -1;
	return hs_break_add(m, pa, NULL);
}

static double boot_ms(const char *elf, int nbps)
{
	static const char *const unhit[] = {"__pkvm_host_share_guest",	"__pkvm_teardown_vm",
					    "__pkvm_hyp_pin_shared",	"__pkvm_host_unshare_hyp",
					    "__pkvm_init_vm",		"__pkvm_vcpu_load",
					    "__pkvm_host_donate_guest", "__pkvm_vcpu_put"};
	double best = 1e9;
	for (int rep = 0; rep < 5; rep++) {
		struct hs_machine *m = machine(elf);
		if (!m)
			return -1;
		for (int i = 0; i < nbps; i++)
			add_bp(m, unhit[i % 8]);
		struct hs_stop stop;
		struct hs_error err = {0};
		double t0 = now();
		hs_boot(m, NULL, &stop, &err);
		double dt = now() - t0;
		if (stop.reason != HS_STOP_DONE)
			fprintf(stderr, "bench_step: boot stopped (%s)\n",
				hs_stop_reason_name(stop.reason));
		hs_machine_destroy(m);
		if (dt < best)
			best = dt;
	}
	return best * 1e3;
}

int main(int argc, char **argv)
{
	const char *elf = argc > 1 ? argv[1] : HS_DEFAULT_HYP_ELF;
	printf("boot, no breakpoint:            %.1f ms\n", boot_ms(elf, 0));
	printf("boot, 8 breakpoints never hit:  %.1f ms\n", boot_ms(elf, 8));

	struct hs_machine *m = machine(elf);
	if (!m)
		return 1;
	add_bp(m, "__pkvm_init");
	struct hs_stop stop;
	struct hs_error err = {0};
	hs_boot(m, NULL, &stop, &err);
	if (stop.reason != HS_STOP_BREAKPOINT) {
		fprintf(stderr, "bench_step: expected to stop at __pkvm_init (%s)\n", err.msg);
		return 1;
	}
	double t0 = now();
	hs_stepi(m, 1, &stop, &err);
	double first = now() - t0;
	const int n = 2000;
	t0 = now();
	for (int i = 0; i < n; i++) {
		if (hs_stepi(m, 1, &stop, &err) || stop.reason != HS_STOP_STEP)
			break;
	}
	double per = (now() - t0) / n;
	printf("stepi inside __pkvm_init: first %.2f ms (stepping mode drops translated code "
	       "once), then "
	       "%.1f us per step (%d steps)\n",
	       first * 1e3, per * 1e6, n);
	hs_machine_destroy(m);
	return 0;
}
