/* SPDX-License-Identifier: MIT */
/*
 * Time travel figures (issue 19), on a booted machine of 1 GiB and 16 GiB:
 *  - checkpoint: the first one (copies every page holding anything), then one
 *    after a share (the pages written since), with the memory they keep;
 *  - restart to the first checkpoint;
 *  - save machine (1 GiB) and the file's size;
 *  - reverse-stepi with 10^8 instructions of recorded history (a host loop of
 *    null hypercalls under record);
 *  - record's overhead on that long run (the same loop with and without);
 *  - record over many short host operations with the hypercall trace the
 *    debugger attaches (record checkpoints at each one, so a checkpoint that
 *    copied the whole trace made this quadratic): three batches of share +
 *    unshare pairs, the later two under record, whose cost must not grow.
 * Targets: checkpoint 1 GiB <= 5 ms, 16 GiB <= 20 ms; restart <= 20 ms;
 * save 1 GiB <= 200 ms; reverse-stepi <= 100 ms; record <= 2x.
 * Usage: bench_timetravel [HISTORY_INSNS] [hyp.elf]
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <hypscope/abi.h>

#include "checkpoint.h"
#include "host.h"
#include "host_boot.h"
#include "inspect_trace.h"
#include "machine.h"
#include "machine_file.h"
#include "replay.h"
#include "write_log.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Process CPU time: the machine is shared, the wall clock varies 3x. */
static double cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int fail(const char *what, const struct hs_error *err)
{
	fprintf(stderr, "bench_timetravel: %s: %s\n", what, err ? err->msg : "");
	exit(1);
}

static struct hs_machine *booted(uint64_t ram, const char *hyp)
{
	struct hs_machine_opts o;
	hs_machine_opts_default(&o);
	o.ram_size = ram;
	o.insn_limit = 1ULL << 40;
	o.hyp_elf = hyp;
	struct hs_machine *m;
	struct hs_error err = {0};
	struct hs_stop stop;
	if (hs_machine_create(&o, &m, &err))
		fail("create", &err);
	if (hs_boot(m, NULL, &stop, &err) || stop.reason != HS_STOP_DONE)
		fail("boot", &err);
	return m;
}

/* One host operation: the hypercall fn on page pfn. */
static void host_call(struct hs_machine *m, uint64_t fn, uint64_t pfn, const char *what)
{
	uint64_t args[1] = {pfn};
	struct hs_host_op res;
	struct hs_stop stop;
	struct hs_error err = {0};
	if (hs_host_hvc(m, 0, fn, args, 1, &res, &stop, &err))
		fail(what, &err);
}

static void share(struct hs_machine *m, uint64_t pfn)
{
	host_call(m, HS_HC_FN(HS_HC_host_share_hyp), pfn, "share");
}

static void checkpoints(uint64_t ram, const char *hyp)
{
	struct hs_machine *m = booted(ram, hyp);
	struct hs_error err = {0};
	unsigned first, second;
	double t0 = now();
	if (hs_checkpoint_take(m, false, &first, &err))
		fail("checkpoint", &err);
	double t1 = now();
	share(m, 0x48000);
	double t2 = now();
	if (hs_checkpoint_take(m, false, &second, &err))
		fail("checkpoint", &err);
	double t3 = now();
	struct hs_checkpoint_info a, b;
	hs_checkpoint_get(m, first, &a);
	hs_checkpoint_get(m, second, &b);
	share(m, 0x48001);
	double t4 = now();
	if (hs_checkpoint_restore(m, first, &err))
		fail("restart", &err);
	double t5 = now();
	struct hs_checkpoint_stats st;
	hs_checkpoint_stats(m, &st);
	/* What each of record's checkpoints pays to learn the pages written: a take. */
	struct hs_write_log_reader *rd;
	if (hs_write_log_open_rare(m, &rd, &err))
		fail("write log", &err);
	struct hs_write_log_pages pg;
	double best_take = 1e9;
	for (int i = 0; i < 20; i++) {
		share(m, 0x48002 + (uint64_t)i);
		double w0 = now();
		hs_write_log_take(rd, &pg);
		double w1 = now() - w0;
		best_take = w1 < best_take ? w1 : best_take;
	}
	struct hs_write_log_stats ws;
	hs_write_log_stats(m, &ws);
	printf("%2" PRIu64 " GiB booted: write-log take after a share %.3f ms (%zu pages; %s)\n",
	       ram >> 30, best_take * 1e3, pg.nr, ws.kernel ? "the kernel's page tables" : "hooks");
	hs_write_log_close(rd);
	printf("%2" PRIu64 " GiB booted: first checkpoint %.2f ms (%" PRIu64
	       " pages), after a share %.3f ms (%" PRIu64 " pages); restart %.3f ms; kept %.1f "
	       "MiB\n",
	       ram >> 30, (t1 - t0) * 1e3, a.pages, (t3 - t2) * 1e3, b.pages, (t5 - t4) * 1e3,
	       st.bytes / 1048576.0);
	if (ram == (1ULL << 30)) {
		char path[] = "/tmp/bench_timetravel_XXXXXX";
		int fd = mkstemp(path);
		if (fd < 0)
			fail("mkstemp", NULL);
		close(fd);
		unlink(path);
		struct hs_machine_file_info info;
		double s0 = now();
		if (hs_machine_save(m, path, &info, &err))
			fail("save", &err);
		double s1 = now();
		printf("   save machine %.2f ms, %" PRIu64 " bytes (%" PRIu64 " pages)\n",
		       (s1 - s0) * 1e3, info.bytes, info.pages);
		unlink(path);
	}
	hs_machine_destroy(m);
}

/* A host loop of null hypercalls: `loops` calls in one operation. */
static double run_loop(struct hs_machine *m, uint64_t loops)
{
	struct hs_host_op res;
	struct hs_stop stop;
	struct hs_error err = {0};
	double t0 = now();
	if (hs_host_hvc_loop(m, 0, HS_HC_FN(HS_HC_host_share_hyp), loops, &res, &stop, &err))
		fail("loop", &err);
	if (stop.reason != HS_STOP_DONE) {
		fprintf(stderr, "bench_timetravel: the loop stopped: %s\n",
			hs_stop_reason_name(stop.reason));
		exit(1);
	}
	return now() - t0;
}

static void reverse(uint64_t history, const char *hyp)
{
	/* Instructions per call of the loop, measured once. */
	struct hs_machine *m = booted(1ULL << 30, hyp);
	uint64_t i0 = hs_machine_icount(m);
	run_loop(m, 1000);
	uint64_t per_call = (hs_machine_icount(m) - i0) / 1000;
	uint64_t loops = history / per_call;
	double plain = run_loop(m, loops);
	hs_machine_destroy(m);

	m = booted(1ULL << 30, hyp);
	struct hs_error err = {0};
	if (hs_record_start(m, &err))
		fail("record", &err);
	double recorded = run_loop(m, loops);
	struct hs_record_info info;
	hs_record_info(m, &info);
	uint64_t t = hs_machine_icount(m);
	double r0 = now();
	if (hs_replay_to(m, t - 1, &err))
		fail("reverse-stepi", &err);
	double r1 = now();
	if (hs_replay_to(m, t - 2, &err))
		fail("reverse-stepi", &err);
	double r2 = now();
	struct hs_checkpoint_stats st;
	hs_checkpoint_stats(m, &st);
	printf("record: %" PRIu64 " instructions (%" PRIu64 " calls) %.3f s, %.3f s without: "
	       "%.2fx; %zu checkpoints, %.1f MiB\n",
	       info.now - info.first_icount, loops, recorded, plain, recorded / plain,
	       info.checkpoints, st.bytes / 1048576.0);
	printf("reverse-stepi with that history: %.2f ms, again %.2f ms\n", (r1 - r0) * 1e3,
	       (r2 - r1) * 1e3);
	hs_machine_destroy(m);
}

static void unshare(struct hs_machine *m, uint64_t pfn)
{
	host_call(m, HS_HC_FN(HS_HC_host_unshare_hyp), pfn, "unshare");
}

/* pairs share+unshare pairs as separate host operations; CPU seconds per pair. */
static double short_ops(struct hs_machine *m, unsigned pairs)
{
	double t0 = cpu_now();
	for (unsigned i = 0; i < pairs; i++) {
		share(m, 0x48000 + i % 64);
		unshare(m, 0x48000 + i % 64);
	}
	return (cpu_now() - t0) / pairs;
}

static void record_short_ops(const char *hyp)
{
	enum { PAIRS = 1500 };
	struct hs_machine *m = booted(1ULL << 30, hyp);
	struct hs_trace *t;
	struct hs_error err = {0};
	if (hs_trace_start(m, HS_TRACE_F_DIFF | HS_TRACE_F_CHECK, &t, &err))
		fail("trace", &err);
	double plain = short_ops(m, PAIRS);
	if (hs_record_start(m, &err))
		fail("record", &err);
	double first = short_ops(m, PAIRS);
	double second = short_ops(m, PAIRS);
	struct hs_record_info info;
	hs_record_info(m, &info);
	printf("record, traced short operations: %u share+unshare pairs %.1f us each without, "
	       "%.1f us under record (%.2fx), the next %u %.1f us (%.2fx the first); "
	       "%zu checkpoints\n",
	       PAIRS, plain * 1e6, first * 1e6, first / plain, PAIRS, second * 1e6, second / first,
	       info.checkpoints);
	hs_trace_stop(t);
	hs_machine_destroy(m);
}

int main(int argc, char **argv)
{
	uint64_t history = argc > 1 ? strtoull(argv[1], NULL, 0) : 100000000ULL;
	const char *hyp = argc > 2 ? argv[2] : HS_DEFAULT_HYP_ELF;
	checkpoints(1ULL << 30, hyp);
	checkpoints(16ULL << 30, hyp);
	reverse(history, hyp);
	record_short_ops(hyp);
	return 0;
}
