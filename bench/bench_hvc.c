/* SPDX-License-Identifier: MIT */
/*
 * Null hypercalls per second from the host model, with events on: each call
 * is a real `hvc` at EL1, the exception entry to EL2, the hypervisor's
 * dispatcher and an `eret` back. Then the anchor: the same null-HVC loop,
 * bare metal (bench/qemu_anchor/null_hvc.S), under Debian's
 * qemu-system-aarch64 in the same run, so the ratio is measured rather than
 * remembered. Best of R runs each; the emulator's figures without and with
 * PTE provenance (pte_blame.h), in alternating rounds.
 * Usage: bench_hvc [N] [hyp.elf]   (HS_QEMU: the QEMU binary to use; HS_BENCH_BLAME=0 or 1:
 * one round of that half only, to compare instruction counts under callgrind)
 */
#include <fcntl.h>
#include <inttypes.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>

#include "host.h"
#include "host_boot.h"
#include "machine.h"
#include "pte_blame.h"

#define RUNS 5
#define ROUNDS 10 /* without, then with PTE provenance */

extern char **environ;

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

/* This process's CPU time: what the with/without comparison uses (the machine is shared). */
static double cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Seconds for one QEMU run of the anchor with `count` hypercalls; < 0 if QEMU did not run. */
static double qemu_run(const char *qemu, uint64_t count)
{
	char loader[96];
	snprintf(loader, sizeof(loader), "loader,addr=0x40100000,data=%" PRIu64 ",data-len=8",
		 count);
	char *argv[] = {(char *)qemu,
			"-M",
			"virt,virtualization=on",
			"-cpu",
			"cortex-a72",
			"-m",
			"256",
			"-display",
			"none",
			"-monitor",
			"none",
			"-serial",
			"none",
			"-nic",
			"none",
			"-kernel",
			HS_QEMU_ANCHOR_ELF,
			"-device",
			loader,
			NULL};
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	pid_t pid;
	double t0 = now();
	int rc = posix_spawnp(&pid, qemu, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc)
		return -1;
	int st;
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st))
		return -1;
	return now() - t0;
}

int main(int argc, char **argv)
{
	uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 0) : 1000000;
	struct hs_machine_opts o;
	hs_machine_opts_default(&o);
	o.insn_limit = 1ULL << 48; /* one run of N calls: far beyond the default stuck-loop limit */
	o.hyp_elf = argc > 2 ? argv[2] : HS_DEFAULT_HYP_ELF;
	struct hs_machine *m;
	struct hs_error err = {0};
	struct hs_stop stop;
	if (!n || hs_machine_create(&o, &m, &err) || hs_boot(m, NULL, &stop, &err)) {
		fprintf(stderr, "bench_hvc: %s\n", n ? err.msg : "give a count of at least 1");
		return 1;
	}
	uint64_t events = 0;
	hs_machine_subscribe(m, count_event, &events);
	struct hs_host_op res;
	/* [0] without, [1] with PTE provenance (pte_blame.h), in alternating rounds */
	double best_op[2] = {1e9, 1e9}, best_loop[2] = {1e9, 1e9};
	double cpu_op[2] = {1e9, 1e9}, cpu_loop[2] = {1e9, 1e9}; /* the same in CPU time */
	uint64_t op_insns = 0, loop_insns = 0, op_events = 0, loop_events = 0;
	/* HS_BENCH_BLAME=0 or 1: one round of that half only (to compare under callgrind) */
	const char *only = getenv("HS_BENCH_BLAME");
	for (int r = only ? atoi(only) != 0 : 0; r < (only ? 2 : 2 * ROUNDS); r += only ? 2 : 1) {
		int on = r & 1;
		struct hs_blame *b = NULL;
		if (on && hs_blame_new(m, &b, &err)) {
			fprintf(stderr, "bench_hvc: %s\n", err.msg);
			return 1;
		}
		events = 0;
		uint64_t insns0 = hs_machine_icount(m);
		double t0 = now(), c0 = cpu_now();
		for (uint64_t i = 0; i < n; i++) {
			if (hs_host_hvc(m, 0, HS_HC_FN(HS_HC_nop), NULL, 0, &res, &stop, &err) ||
			    res.x0 != 0) {
				fprintf(stderr, "bench_hvc: call %" PRIu64 " failed: %s\n", i,
					err.msg);
				return 1;
			}
		}
		double dt = now() - t0, dc = cpu_now() - c0;
		best_op[on] = dt < best_op[on] ? dt : best_op[on];
		cpu_op[on] = dc < cpu_op[on] ? dc : cpu_op[on];
		op_insns = (hs_machine_icount(m) - insns0) / n;
		op_events = events;

		/* The same calls issued by a loop in the host's own EL1 code. */
		events = 0;
		insns0 = hs_machine_icount(m);
		t0 = now();
		c0 = cpu_now();
		if (hs_host_hvc_loop(m, 0, HS_HC_FN(HS_HC_nop), n, &res, &stop, &err) ||
		    res.x0 != 0) {
			fprintf(stderr, "bench_hvc: loop failed: %s\n", err.msg);
			return 1;
		}
		dt = now() - t0;
		dc = cpu_now() - c0;
		best_loop[on] = dt < best_loop[on] ? dt : best_loop[on];
		cpu_loop[on] = dc < cpu_loop[on] ? dc : cpu_loop[on];
		loop_insns = (hs_machine_icount(m) - insns0) / n;
		loop_events = events;
		hs_blame_free(b);
	}
	for (int on = 0; on < 2; on++) {
		const char *with = on ? ", PTE provenance" : "";
		printf("null hypercalls, one host operation each%s: %" PRIu64
		       " in %.3f s = %.0f per second (%.3f us each), %" PRIu64 " events, %" PRIu64
		       " guest instructions per call (best of %d)\n",
		       with, n, best_op[on], n / best_op[on], best_op[on] / n * 1e6, op_events,
		       op_insns, ROUNDS);
		printf("null hypercalls, host EL1 loop%s:         %" PRIu64
		       " in %.3f s = %.0f per second (%.3f us each), %" PRIu64 " events, %" PRIu64
		       " guest instructions per call (best of %d)\n",
		       with, n, best_loop[on], n / best_loop[on], best_loop[on] / n * 1e6,
		       loop_events, loop_insns, ROUNDS);
	}
	printf("PTE provenance costs %+.1f %% per operation, %+.1f %% in the loop (process CPU "
	       "time, best of %d alternating rounds)\n",
	       (cpu_op[1] / cpu_op[0] - 1) * 100, (cpu_loop[1] / cpu_loop[0] - 1) * 100, ROUNDS);
	hs_machine_destroy(m);

	/* The anchor: QEMU's start-up is timed alone and taken off. */
	const char *qemu = getenv("HS_QEMU") ? getenv("HS_QEMU") : "qemu-system-aarch64";
	double q0 = 1e9, qn = 1e9;
	for (int r = 0; r < RUNS; r++) {
		double a = qemu_run(qemu, 0), b = a < 0 ? -1 : qemu_run(qemu, n);
		if (a < 0 || b < 0) {
			printf("QEMU anchor: skipped (%s did not run: apt-get install "
			       "qemu-system-arm)\n",
			       qemu);
			return 0;
		}
		q0 = a < q0 ? a : q0;
		qn = b < qn ? b : qn;
	}
	double per = (qn - q0) / n;
	printf("QEMU anchor (%s, virt, cortex-a72, bare metal): %" PRIu64
	       " null hypercalls in %.3f s after a %.3f s start = %.3f us each (best of %d); "
	       "hypscope's host loop takes %.2fx QEMU's time\n",
	       qemu, n, qn - q0, q0, per * 1e6, RUNS, best_loop[0] / n / per);
	return 0;
}
