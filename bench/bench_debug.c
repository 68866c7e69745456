/* SPDX-License-Identifier: MIT */
/*
 * What the debugger costs when it is not stopping (issue 13): bench_hvc's
 * host EL1 loop of null hypercalls with no breakpoint, with N breakpoints
 * that are never hit, and with a (read) watchpoint that is never hit (the write one
 * on a page no store reaches and on a page every call stores to); the time and
 * RSS of adding a breakpoint and a watchpoint on a machine whose code has
 * run (1 and 4 CPUs); and the first `stepi` after start-up.
 * Usage: bench_debug [N] [hyp.elf]   (N: hypercalls per timed loop)
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "code_breakpoints.h"
#include "debug.h"
#include "host.h"
#include "host_boot.h"
#include "hyp_state.h"
#include "machine.h"
#include "store_trap.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts); /* CPU time: the machine is shared */
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Resident set size in MiB (VmRSS). */
static double rss_mib(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	double kb = 0;
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmRSS:", 6))
			kb = strtod(line + 6, NULL);
	if (f)
		fclose(f);
	return kb / 1024;
}

static struct hs_machine *booted(const char *elf, unsigned cpus)
{
	struct hs_machine_opts o;
	hs_machine_opts_default(&o);
	o.hyp_elf = elf;
	o.nr_cpus = cpus;
	struct hs_machine *m;
	struct hs_error err = {0};
	struct hs_stop stop;
	if (hs_machine_create(&o, &m, &err) || hs_boot(m, NULL, &stop, &err)) {
		fprintf(stderr, "bench_debug: %s\n", err.msg);
		exit(1);
	}
	return m;
}

/* Seconds per null hypercall from the host's own EL1 loop. */
static double loop_us(struct hs_machine *m, uint64_t n)
{
	struct hs_host_op res;
	struct hs_stop stop;
	struct hs_error err = {0};
	double t0 = now();
	if (hs_host_hvc_loop(m, 0, HS_HC_FN(HS_HC_nop), n, &res, &stop, &err) || res.x0 != 0 ||
	    stop.reason != HS_STOP_DONE) {
		fprintf(stderr, "bench_debug: loop failed (%s): %s\n",
			hs_stop_reason_name(stop.reason), err.msg);
		exit(1);
	}
	return (now() - t0) / n * 1e6;
}

/* Hypervisor functions a null hypercall never reaches. */
static const char *const unhit[] = {
    "__pkvm_host_share_hyp",	 "__pkvm_host_unshare_hyp", "__pkvm_host_share_guest",
    "__pkvm_teardown_vm",	 "__pkvm_hyp_pin_shared",   "__pkvm_init_vm",
    "__pkvm_vcpu_load",		 "__pkvm_vcpu_put",	    "__pkvm_host_donate_guest",
    "host_hyp_share_transition",
};
#define NR_UNHIT (sizeof(unhit) / sizeof(unhit[0]))

static int add_bp(struct hs_machine *m, const char *sym)
{
	uint64_t pa;
	struct hs_error err = {0};
	if (hs_sym_pa(m, sym, &pa, &err) || hs_break_add(m, pa, &err) < 0) {
		fprintf(stderr, "bench_debug: break %s: %s\n", sym, err.msg);
		exit(1);
	}
	return 0;
}

/*
 * The first bytes of the page of the hypervisor's stack that a null hypercall
 * stores its first frame to (handle_host_trap's): a page every call stores
 * to, at bytes no call reaches.
 */
static uint64_t hot_stack_bytes(struct hs_machine *m)
{
	uint64_t pa, slot;
	struct hs_error err = {0};
	struct hs_host_op res;
	struct hs_stop stop;
	struct hs_cpu_state st;
	int bp = hs_sym_pa(m, "handle_host_trap", &pa, &err) ? -1 : hs_break_add(m, pa, &err);
	if (bp < 0 || hs_host_hvc(m, 0, HS_HC_FN(HS_HC_nop), NULL, 0, &res, &stop, &err) ||
	    stop.reason != HS_STOP_BREAKPOINT || hs_cpu_state(m, 0, &st) ||
	    hs_el2_va_to_pa(m, 0, st.sp - 0x40, &slot, &err) || hs_break_delete(m, bp, &err) ||
	    hs_continue(m, &stop, &err) || stop.reason != HS_STOP_DONE) {
		fprintf(stderr, "bench_debug: finding the hypervisor's stack: %s\n", err.msg);
		exit(1);
	}
	return slot & ~0xfffULL;
}

/* loop_us with a watchpoint of that kind on 4 bytes at sym (or pa); *traps: traps per call. */
static double watched_loop_us(struct hs_machine *m, uint64_t n, enum hs_watch_kind kind,
			      const char *sym, uint64_t pa, double *traps)
{
	struct hs_error err = {0};
	int w = sym && hs_sym_pa(m, sym, &pa, &err) ? -1 : hs_watch_add_kind(m, pa, 4, kind, &err);
	if (w < 0) {
		fprintf(stderr, "bench_debug: watch %s: %s\n", sym, err.msg);
		exit(1);
	}
	struct hs_store_trap_stats st0, st1;
	hs_store_trap_stats(m, &st0);
	double t = loop_us(m, n);
	hs_store_trap_stats(m, &st1);
	*traps = (double)(st1.traps - st0.traps) / (double)n;
	hs_watch_del(m, w, NULL);
	return t;
}

static void loops(const char *elf, uint64_t n)
{
	struct hs_machine *m = booted(elf, 1);
	double base = 1e9, bps = 1e9, watch = 1e9, hot = 1e9, rwatch = 1e9;
	double watch_traps = 0, hot_traps = 0, rwatch_traps = 0;
	loop_us(m, n / 10); /* warm up: translate the loop's code */
	uint64_t stack = hot_stack_bytes(m);
	for (unsigned i = 0; i < NR_UNHIT; i++)
		add_bp(m, unhit[i]);
	/* Interleaved, best of 5: the machine is shared. */
	for (int rep = 0; rep < 5; rep++) {
		for (unsigned i = 0; i < NR_UNHIT; i++)
			hs_break_enable(m, (int)i + 1, false, NULL);
		double t = loop_us(m, n);
		base = t < base ? t : base;
		for (unsigned i = 0; i < NR_UNHIT; i++)
			hs_break_enable(m, (int)i + 1, true, NULL);
		t = loop_us(m, n);
		bps = t < bps ? t : bps;
		for (unsigned i = 0; i < NR_UNHIT; i++)
			hs_break_enable(m, (int)i + 1, false, NULL);
		/*
		 * The host stage-2 lock: a null hypercall never takes it, nor stores to
		 * its page (cold). The stack page: every call stores to it (hot).
		 */
		t = watched_loop_us(m, n, HS_WATCH_WRITE, "host_s2_lock", 0, &watch_traps);
		watch = t < watch ? t : watch;
		t = watched_loop_us(m, n, HS_WATCH_WRITE, NULL, stack, &hot_traps);
		hot = t < hot ? t : hot;
		t = watched_loop_us(m, n, HS_WATCH_READ, "host_s2_lock", 0, &rwatch_traps);
		rwatch = t < rwatch ? t : rwatch;
	}
	printf("null hypercall, host EL1 loop (%" PRIu64 " calls, best of 5):\n", n);
	printf("  no breakpoint:                %.3f us\n", base);
	printf("  %zu breakpoints, never hit:    %.3f us (%+.1f %%)\n", NR_UNHIT, bps,
	       (bps / base - 1) * 100);
	printf("  a watchpoint, never hit:      %.3f us (%+.1f %%), cold page: %.1f traps/call\n",
	       watch, (watch / base - 1) * 100, watch_traps);
	printf("  a watchpoint, hot page:       %.3f us (%+.1f %%), %.1f traps/call\n", hot,
	       (hot / base - 1) * 100, hot_traps);
	printf("  a read watchpoint, never hit: %.3f us (%+.1f %%)\n", rwatch,
	       (rwatch / base - 1) * 100);
	hs_machine_destroy(m);
}

static void add_cost(const char *elf, unsigned cpus)
{
	struct hs_machine *m = booted(elf, cpus);
	for (unsigned c = 0; c < cpus; c++) {
		struct hs_host_op res;
		struct hs_stop stop;
		hs_host_hvc_loop(m, c, HS_HC_FN(HS_HC_nop), 1000, &res, &stop, NULL);
	}
	double rss0 = rss_mib();
	uint64_t pa;
	hs_sym_pa(m, "handle_host_trap", &pa, NULL);
	double t0 = now();
	int id = hs_break_add(m, pa, NULL);
	double t_add = now() - t0;
	t0 = now();
	hs_break_delete(m, id, NULL);
	double t_del = now() - t0;
	double rss1 = rss_mib();
	hs_sym_pa(m, "host_s2_lock", &pa, NULL);
	t0 = now();
	int w = hs_watch_add(m, pa, 4, NULL);
	double t_watch = now() - t0;
	hs_watch_del(m, w, NULL);
	printf("%u CPU%s: add a breakpoint %.3f ms, delete it %.3f ms, add a watchpoint %.3f ms; "
	       "RSS %.0f -> %.0f MiB\n",
	       cpus, cpus > 1 ? "s" : "", t_add * 1e3, t_del * 1e3, t_watch * 1e3, rss0, rss1);
	hs_machine_destroy(m);
}

static void first_stepi(const char *elf)
{
	struct hs_machine_opts o;
	hs_machine_opts_default(&o);
	o.hyp_elf = elf;
	struct hs_machine *m;
	struct hs_error err = {0};
	struct hs_stop stop;
	if (hs_machine_create(&o, &m, &err))
		exit(1);
	add_bp(m, "__pkvm_init");
	hs_boot(m, NULL, &stop, &err);
	if (stop.reason != HS_STOP_BREAKPOINT) {
		fprintf(stderr, "bench_debug: expected to stop at __pkvm_init\n");
		exit(1);
	}
	double t0 = now();
	hs_stepi(m, 1, &stop, &err);
	double first = now() - t0;
	const int n = 2000;
	t0 = now();
	for (int i = 0; i < n && stop.reason == HS_STOP_STEP; i++)
		hs_stepi(m, 1, &stop, &err);
	double per = (now() - t0) / n;
	t0 = now();
	hs_continue(m, &stop, &err);
	double cont = now() - t0;
	printf("first stepi after start-up (stopped at __pkvm_init): %.3f ms; then %.1f us per "
	       "stepi; continue to the end of the boot %.1f ms\n",
	       first * 1e3, per * 1e6, cont * 1e3);
	hs_machine_destroy(m);
}

int main(int argc, char **argv)
{
	uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 0) : 200000;
	const char *elf = argc > 2 ? argv[2] : HS_DEFAULT_HYP_ELF;
	loops(elf, n);
	add_cost(elf, 1);
	add_cost(elf, 4);
	first_stepi(elf);
	return 0;
}
