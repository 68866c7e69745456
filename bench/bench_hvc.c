/* SPDX-License-Identifier: MIT */
/*
 * Null hypercalls per second from the host model, with events on: each call
 * is a real `hvc` at EL1, the exception entry to EL2, the hypervisor's
 * dispatcher and an `eret` back. Then the anchor: the same null-HVC loop,
 * bare metal (bench/qemu_anchor/null_hvc.S), under Debian's
 * qemu-system-aarch64 in the same run, so the ratio is measured rather than
 * remembered. Best of R runs each.
 * Usage: bench_hvc [N] [hyp.elf]   (HS_QEMU: the QEMU binary to use)
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

#define RUNS 5

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
	double best_op = 1e9, best_loop = 1e9;
	uint64_t op_insns = 0, loop_insns = 0, op_events = 0, loop_events = 0;
	for (int r = 0; r < RUNS; r++) {
		events = 0;
		uint64_t insns0 = hs_machine_icount(m);
		double t0 = now();
		for (uint64_t i = 0; i < n; i++) {
			if (hs_host_hvc(m, 0, HS_HC_FN(HS_HC_nop), NULL, 0, &res, &stop, &err) ||
			    res.x0 != 0) {
				fprintf(stderr, "bench_hvc: call %" PRIu64 " failed: %s\n", i,
					err.msg);
				return 1;
			}
		}
		double dt = now() - t0;
		best_op = dt < best_op ? dt : best_op;
		op_insns = (hs_machine_icount(m) - insns0) / n;
		op_events = events;

		/* The same calls issued by a loop in the host's own EL1 code. */
		events = 0;
		insns0 = hs_machine_icount(m);
		t0 = now();
		if (hs_host_hvc_loop(m, 0, HS_HC_FN(HS_HC_nop), n, &res, &stop, &err) ||
		    res.x0 != 0) {
			fprintf(stderr, "bench_hvc: loop failed: %s\n", err.msg);
			return 1;
		}
		dt = now() - t0;
		best_loop = dt < best_loop ? dt : best_loop;
		loop_insns = (hs_machine_icount(m) - insns0) / n;
		loop_events = events;
	}
	printf("null hypercalls, one host operation each: %" PRIu64 " in %.3f s = %.0f per second "
	       "(%.3f us each), %" PRIu64 " events, %" PRIu64
	       " guest instructions per call (best of %d)\n",
	       n, best_op, n / best_op, best_op / n * 1e6, op_events, op_insns, RUNS);
	printf("null hypercalls, host EL1 loop:         %" PRIu64 " in %.3f s = %.0f per second "
	       "(%.3f us each), %" PRIu64 " events, %" PRIu64
	       " guest instructions per call (best of %d)\n",
	       n, best_loop, n / best_loop, best_loop / n * 1e6, loop_events, loop_insns, RUNS);
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
	       qemu, n, qn - q0, q0, per * 1e6, RUNS, best_loop / n / per);
	return 0;
}
