/* SPDX-License-Identifier: MIT */
/*
 * gdb's record and reverse execution (issue 19): `record`, `record stop`,
 * `info record`, `reverse-stepi`, `reverse-continue`. The machine replays
 * from the nearest checkpoint (emu/machine/replay.h); here the session is kept
 * quiet while it does, and the stop is shown as a forward one would be.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "bp_control.h"
#include "cli.h"
#include "cmd_reverse.h"
#include "inspect_trace.h"
#include "replay.h"
#include "step_inline.h"

int cmd_record(struct cli *c, int argc, char **argv)
{
	struct hs_error err = {0};
	if (argc > 1 && !strcmp(argv[1], "stop")) {
		struct hs_record_info info;
		hs_record_info(c->m, &info);
		if (!info.active)
			return cli_error(c, "record stop: not recording");
		hs_record_stop(c->m);
		printf("recording stopped; its %zu checkpoints are forgotten\n", info.checkpoints);
		return 0;
	}
	if (argc > 1 && !strcmp(argv[1], "limit")) {
		struct hs_record_info info;
		hs_record_info(c->m, &info);
		struct hs_record_limits lim = info.limits;
		if (argc < 3 || !cli_parse_size(argv[2], &lim.max_bytes))
			return cli_error(c, "record limit: give a size (e.g. 256M, 0 for none)");
		if (hs_record_set_limits(c->m, &lim, &err))
			return cli_error(c, "record limit: %s", err.msg);
		return 0;
	}
	if (argc > 1 && strcmp(argv[1], "full"))
		return cli_error(c, "record: give nothing, full, stop or limit SIZE ('%s')",
				 argv[1]);
	if (hs_record_start(c->m, &err))
		return cli_error(c, "record: %s", err.msg);
	printf("recording from %" PRIu64 " instructions: reverse-stepi, reverse-continue ... go "
	       "back\n",
	       hs_machine_icount(c->m));
	return 0;
}

int cli_info_record(struct cli *c, struct hs_strbuf *sb)
{
	struct hs_record_info info;
	hs_record_info(c->m, &info);
	if (c->json) {
		hs_sb_printf(sb,
			     "{\"active\":%s,\"first\":%" PRIu64 ",\"now\":%" PRIu64
			     ",\"checkpoints\":%zu,\"folded\":%" PRIu64 ",\"dropped\":%" PRIu64
			     "}\n",
			     info.active ? "true" : "false", info.first_icount, info.now,
			     info.checkpoints, info.folded, info.dropped);
		return 0;
	}
	if (!info.active) {
		hs_sb_puts(sb, "No recording is active (record starts one).\n");
		return 0;
	}
	hs_sb_printf(sb,
		     "Recording from %" PRIu64 " instructions; now at %" PRIu64 " (%" PRIu64
		     " instructions of history), %zu checkpoints.\n",
		     info.first_icount, info.now, info.now - info.first_icount, info.checkpoints);
	if (info.folded || info.dropped)
		hs_sb_printf(sb,
			     "%" PRIu64 " older checkpoints thinned out, %" PRIu64
			     " dropped with the oldest history (record limit %" PRIu64 " bytes).\n",
			     info.folded, info.dropped, info.limits.max_bytes);
	return 0;
}

/* Replays print nothing: the console lines and events they repeat were shown the first time. */
static int quietly(struct cli *c, int (*fn)(struct hs_machine *, const void *, struct hs_error *),
		   const void *arg, struct hs_error *err)
{
	bool live = c->live;
	c->live = false;
	step_inline_forget(c);
	int rc = fn(c->m, arg, err);
	c->live = live;
	return rc;
}

static int replay_to(struct hs_machine *m, const void *arg, struct hs_error *err)
{
	return hs_replay_to(m, *(const uint64_t *)arg, err);
}

static int goto_hit(struct hs_machine *m, const void *arg, struct hs_error *err)
{
	return hs_replay_goto_hit(m, arg, err);
}

/*
 * gdb's rules going backwards: a hit counts where the breakpoint's condition
 * holds (evaluated on the machine at that hit, during the scan), and its
 * ignore count passes that many of them, the newest first.
 */
static bool rev_holds(void *ud, struct hs_machine *m, const struct hs_stop *s, int *tag)
{
	struct cli *c = ud;
	(void)m;
	if (s->reason == HS_STOP_WATCH) {
		/* Not classify: it would re-arm the watchpoint, and the hit's id would be stale. */
		*tag = cli_bps_watch_id(&c->bps, s);
	} else {
		int keep = c->bps.hit_id;
		struct cli_bp *bp = cli_bps_classify(&c->bps, s);
		c->bps.hit_id = keep;
		*tag = bp ? bp->id : 0;
	}
	return *tag <= 0 || cli_bpx_condition_holds(c, *tag);
}

static bool rev_take(void *ud, const struct hs_replay_hit *hit)
{
	return hit->tag <= 0 || cli_bpx_take_hit(ud, hit->tag);
}

static int last_hit(struct hs_machine *m, const void *arg, struct hs_error *err)
{
	const void *const *a = arg;
	struct hs_replay_hit *hit = (void *)a[0];
	bool *found = (void *)a[1];
	const struct hs_replay_filter *f = a[2];
	return hs_replay_last_hit(m, f, hit, found, err);
}

/* The hypercall the stopped CPU is in, from the trace (the question is usually "which call"). */
static void print_call_in_flight(struct cli *c, unsigned cpu)
{
	size_t n = c->itrace ? hs_trace_count(c->itrace) : 0;
	for (size_t i = n; i-- > 0;) {
		const struct hs_trace_entry *e = hs_trace_get(c->itrace, i);
		if (e->cpu != cpu || e->completed)
			continue;
		printf("  in hypercall #%u %s(", e->seq, e->name);
		for (unsigned k = 0; k < e->nargs; k++)
			printf("%s%#" PRIx64, k ? ", " : "", e->args[k]);
		printf(") on cpu%u, entered at %" PRIu64 " instructions\n", e->cpu,
		       e->icount_enter);
		return;
	}
}

static uint64_t history_start(struct cli *c)
{
	struct hs_record_info info;
	hs_record_info(c->m, &info);
	return info.first_icount;
}

int cmd_reverse_stepi(struct cli *c, int argc, char **argv)
{
	uint64_t n = 1;
	if (argc > 1) {
		int64_t v;
		if (!cli_parse_num(argv[1], &v) || v <= 0)
			return cli_error(c, "%s: '%s' is not a positive count", argv[0], argv[1]);
		n = (uint64_t)v;
	}
	struct hs_record_info info;
	hs_record_info(c->m, &info);
	if (!info.active)
		return cli_error(c, "%s: not recording: `record` first, then run forward", argv[0]);
	uint64_t now = hs_machine_icount(c->m);
	uint64_t first = history_start(c);
	if (now <= first)
		return cli_error(
		    c,
		    "%s: no more reverse-execution history (it starts here, at %" PRIu64
		    " instructions)",
		    argv[0], first);
	uint64_t target = n > now - first ? first : now - n;
	struct hs_error err = {0};
	/* A breakpoint on the way back stops it there, as one on the way forward stops stepi. */
	bool hit = false;
	if (cli_reverse_to_hit(c, target, &hit, &err))
		return cli_error(c, "%s: %s", argv[0], err.msg);
	if (!hit && quietly(c, replay_to, &target, &err))
		return cli_error(c, "%s: %s", argv[0], err.msg);
	cli_bps_follow_walks(&c->bps);
	if (hit)
		return 0;
	step_inline_no_skip(c); /* like stepi's stop */
	if (target == first && n > now - first)
		printf("No more reverse-execution history.\n");
	struct hs_stop s;
	if (!cli_reverse_landed(c, &s))
		cli_report_stop(c, &s);
	return 0;
}

/* Which breakpoint the stop is (counted); never resume from it. */
static void classify(struct cli *c, struct hs_stop *s)
{
	bool single = c->run_single;
	c->run_single = true;
	cli_after_run(c, s);
	c->run_single = single;
}

int cli_reverse_to_hit(struct cli *c, uint64_t after, bool *stopped, struct hs_error *err)
{
	struct hs_replay_hit hit;
	bool found;
	struct hs_replay_filter f = {.holds = rev_holds, .take = rev_take, .ud = c, .after = after};
	const void *args[3] = {&hit, &found, &f};
	*stopped = false;
	if (quietly(c, last_hit, args, err))
		return -1;
	if (!found)
		return 0;
	if (quietly(c, goto_hit, &hit, err))
		return -1;
	struct hs_stop s = *hs_last_stop(c->m);
	s.stepped = false; /* the scan judged its condition and ignore count already */
	classify(c, &s);
	cli_report_stop(c, &s);
	print_call_in_flight(c, s.cpu);
	*stopped = true;
	return 0;
}

bool cli_reverse_landed(struct cli *c, struct hs_stop *s)
{
	*s = *hs_last_stop(c->m);
	classify(c, s);
	if (c->hit_id <= 0)
		return false;
	cli_report_stop(c, s);
	print_call_in_flight(c, s->cpu);
	return true;
}

int cmd_reverse_continue(struct cli *c, int argc, char **argv)
{
	(void)argc;
	struct hs_record_info info;
	hs_record_info(c->m, &info);
	if (!info.active)
		return cli_error(c, "%s: not recording: `record` first, then run forward", argv[0]);
	struct hs_error err = {0};
	bool stopped;
	if (cli_reverse_to_hit(c, 0, &stopped, &err))
		return cli_error(c, "%s: %s", argv[0], err.msg);
	if (stopped)
		return 0;
	uint64_t first = history_start(c);
	if (quietly(c, replay_to, &first, &err))
		return cli_error(c, "%s: %s", argv[0], err.msg);
	printf("No more reverse-execution history.\n");
	struct hs_stop s;
	if (!cli_reverse_landed(c, &s))
		cli_report_stop(c, &s);
	return 0;
}
