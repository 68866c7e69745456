/* SPDX-License-Identifier: MIT */
/*
 * gdb's reverse-nexti, reverse-step, reverse-next and reverse-finish. The
 * machine replays the stretch of history before the present one instruction
 * at a time (hs_replay_span); the forward stepping rules (step_judge.h) then
 * say where each command would have stopped, and the machine goes back there
 * (hs_replay_to):
 *
 * - a call (BL, BLR) makes its callee one frame deeper until the CPU is back
 *   at its return address with the caller's SP, as `next` decides it runs
 *   over a call; an unmatched `ret` leaves the frame the stretch began in;
 * - reverse-step, reverse-next: where the forward command that arrived at
 *   the present began. The forward commands are replayed as a chain of stops
 *   from the start of the present's frame in the stretch (its caller's, at a
 *   function's entry); the stop before the present is the answer. When the
 *   chain passes over the present (it began elsewhere), the earliest
 *   instruction a forward command from which stops at the present, back to
 *   one that stops before it. A `step` down into an inlined frame that did
 *   not run is undone without replaying, and a stop is presented as far down
 *   its inlined frames as the forward step had gone;
 * - reverse-nexti: the latest instruction of this frame or its callers;
 *   reverse-finish: the call that entered this frame.
 *
 * A breakpoint or watchpoint hit on the way back (gdb: in a callee the
 * command runs over, say) stops the command there, by reverse-continue's rules
 * (conditions, ignore counts).
 *
 * Only the current CPU's instructions count (several CPUs: the others' are
 * skipped). When the stretch from the nearest checkpoint has no answer, the
 * one from the checkpoint before it is replayed, back to the start of the
 * recorded history.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd_reverse.h"
#include "replay.h"
#include "step_inline.h"
#include "step_judge.h"
#include "step_lines.h"

enum rev_kind { REV_NEXTI, REV_STEP, REV_NEXT, REV_FINISH };

/* One instruction of the current CPU: its machine count and its frame depth. */
struct rev_insn {
	uint64_t icount, pc;
	int depth;
};

struct rev_call {
	uint64_t pc, sp;
	int depth;
};

struct rev_hist {
	struct rev_insn *v;
	size_t n;
	bool from_start; /* v[0] is the first instruction of the recorded history */
};

/* The frame depth of each instruction, by the forward rules; the present is the last. */
static int build(struct cli *c, const struct hs_replay_span *span, unsigned cpu, struct rev_hist *h)
{
	struct hs_cpu_state st;
	hs_cpu_state(c->m, cpu, &st);
	h->v = malloc((span->n + 1) * sizeof(*h->v));
	struct rev_call *calls = NULL;
	size_t ncalls = 0, cap = 0;
	if (!h->v)
		return -1;
	h->n = 0;
	int depth = 0;
	for (size_t i = 0; i <= span->n; i++) {
		const struct hs_replay_insn *e = i < span->n ? &span->insns[i] : NULL;
		if (e && e->cpu != cpu)
			continue;
		uint64_t pc = e ? e->pc : st.pc, sp = e ? e->sp : st.sp;
		if (ncalls &&
		    step_call_returned(calls[ncalls - 1].pc, calls[ncalls - 1].sp, pc, sp))
			depth = calls[--ncalls].depth;
		h->v[h->n++] =
		    (struct rev_insn){.icount = span->start + i, .pc = pc, .depth = depth};
		uint32_t insn;
		if (!e || !step_insn_at(c, pc, &insn))
			continue;
		if (step_is_call(insn)) {
			if (ncalls == cap) {
				cap = cap ? 2 * cap : 64;
				void *p = realloc(calls, cap * sizeof(*calls));
				if (!p) {
					free(calls);
					return -1;
				}
				calls = p;
			}
			calls[ncalls++] = (struct rev_call){.pc = pc, .sp = sp, .depth = depth};
			depth++;
		} else if (step_is_ret(insn) && !ncalls) {
			depth--; /* the frame the stretch began in returns */
		}
	}
	free(calls);
	return 0;
}

/*
 * Where a forward line step (next when over) begun at a stop at v[i] first
 * stops: its index, or h->n when it runs past the present. step begins as
 * far down the inlined frames at v[i] as `step` goes before it runs.
 */
static size_t forward_stop(struct cli *c, const struct rev_hist *h, size_t i, bool over, bool *into)
{
	*into = false;
	struct step_info si = {0};
	struct step_loc start;
	uint64_t pc = h->v[i].pc;
	step_locate(c, pc, &start);
	step_frame_at(c, pc, &si.frame);
	if (!over)
		step_frame_down(c, pc, &si.frame, si.frame.skipped);
	si.file = si.frame.file;
	si.line = si.frame.line;
	si.row = start.ln;
	int d = h->v[i].depth;
	for (size_t k = i + 1; k < h->n; k++) {
		if (over && h->v[k].depth > d)
			continue; /* inside a call next runs over */
		if (h->v[k].depth < d)
			d = h->v[k].depth; /* the frame returned: stepping goes on in its caller */
		enum step_verdict v = step_judge(c, &si, over, &start, h->v[k].pc);
		*into = v == STEP_INTO_INLINE;
		if (v != STEP_ON)
			return k;
	}
	return h->n;
}

/* The inlined depth of the frame presented at a stop at pc (0: the real function). */
static unsigned inline_depth(struct cli *c, uint64_t pc)
{
	struct step_frame f;
	step_frame_at(c, pc, &f);
	return f.n ? f.n - 1 - f.shown : 0;
}

/*
 * reverse-step/-next: where the forward command that arrived at the present
 * (the last instruction) began, the earliest of the stops a forward one from
 * which first stops here, back to one that stops before.
 */
static long line_origin(struct cli *c, const struct rev_hist *h, bool over)
{
	size_t present = h->n - 1;
	long best = -1;
	/* The shallowest frame seen going back: call depth, then inlined depth. */
	int dd = h->v[present].depth;
	unsigned di = inline_depth(c, h->v[present].pc);
	for (size_t i = present; i-- > 0;) {
		if (h->v[i].depth < dd) {
			dd = h->v[i].depth;
			di = UINT_MAX;
		}
		if (over && h->v[i].depth > dd)
			continue; /* in a callee: next does not begin there */
		if (over) {
			unsigned d = inline_depth(c, h->v[i].pc);
			if (d > di)
				continue; /* in an inlined body next runs over */
			di = d;
		}
		bool into;
		size_t k = forward_stop(c, h, i, over, &into);
		if (k == present)
			best = (long)i;
		else if (k < present)
			return best >= 0 ? best : (long)k;
	}
	return best;
}

/*
 * reverse-step/-next by replaying the forward commands: from the start of the
 * present's frame in this stretch (for a function's entry reached by a call,
 * its caller's), the chain of stops forward steps make; the one before the
 * present is where the command goes. -1: the chain passes over the present.
 */
static long line_chain(struct cli *c, const struct rev_hist *h, bool over, bool *arrived_into)
{
	*arrived_into = false;
	size_t present = h->n - 1;
	int d = h->v[present].depth;
	if (present && h->v[present - 1].depth < d && !over)
		d = h->v[present - 1].depth;
	size_t s = present;
	while (s > 0 && h->v[s - 1].depth >= d)
		s--;
	if (!s && !h->from_start)
		return -1; /* the frame began before this stretch */
	while (s < present) {
		bool into;
		size_t k = forward_stop(c, h, s, over, &into);
		if (k == present)
			return (long)s;
		s = k;
		*arrived_into = into;
	}
	return -1;
}

/*
 * The index of where the command goes, or -1 when this stretch of history has
 * none. *into for reverse-step: 1, the forward step from there began inlined
 * frames down (step went down without running); 2, the same, and the step
 * that arrived there ran into the first of them.
 */
static long find(struct cli *c, const struct rev_hist *h, enum rev_kind kind, int *into)
{
	*into = 0;
	if (!h->n)
		return -1;
	if (kind == REV_STEP || kind == REV_NEXT) {
		bool ran = false;
		long i = line_chain(c, h, kind == REV_NEXT, &ran);
		if (i < 0)
			i = line_origin(c, h, kind == REV_NEXT);
		if (i >= 0 && kind == REV_STEP)
			*into = ran ? 2 : 1;
		return i;
	}
	int d0 = h->v[h->n - 1].depth;
	for (size_t i = h->n - 1; i-- > 0;) {
		int d = h->v[i].depth;
		if (kind == REV_NEXTI && d <= d0)
			return (long)i;
		if (kind == REV_FINISH && d < d0)
			return (long)i;
	}
	return -1;
}

/* Replays print nothing: what they repeat was shown the first time. */
static int quiet_replay_to(struct cli *c, uint64_t target, struct hs_error *err)
{
	bool live = c->live;
	c->live = false;
	step_inline_forget(c);
	int rc = hs_replay_to(c->m, target, err);
	c->live = live;
	if (!rc)
		cli_bps_follow_walks(&c->bps);
	return rc;
}

/*
 * One reverse command: where it goes (*target), or *none when the recorded
 * history has no such place (the caller goes to its start).
 */
static int locate_target(struct cli *c, enum rev_kind kind, uint64_t *target, bool *none, int *into,
			 struct hs_error *err)
{
	unsigned cpu = hs_current_cpu(c->m);
	uint64_t first = hs_replay_history_start(c->m);
	uint64_t from = hs_machine_icount(c->m) - 1;
	*none = false;
	for (;;) {
		struct hs_replay_span span;
		bool live = c->live;
		c->live = false;
		int rc = hs_replay_span(c->m, from, &span, err);
		c->live = live;
		if (rc)
			return rc;
		struct rev_hist h = {.from_start = span.start <= first};
		if (build(c, &span, cpu, &h)) {
			hs_replay_span_free(&span);
			free(h.v);
			return hs_err(err, -ENOMEM, "out of memory");
		}
		long i = find(c, &h, kind, into);
		if (i >= 0)
			*target = h.v[i].icount;
		uint64_t start = span.start;
		hs_replay_span_free(&span);
		free(h.v);
		if (i >= 0)
			return 0;
		if (start <= first) {
			*none = true;
			return 0;
		}
		from = start - 1;
	}
}

static const char *const rev_names[] = {"reverse-nexti", "reverse-step", "reverse-next",
					"reverse-finish"};

static int reverse(struct cli *c, int argc, char **argv, enum rev_kind kind)
{
	const char *cmd = rev_names[kind];
	uint64_t n = 1;
	if (argc > 1 && kind != REV_FINISH) {
		int64_t v;
		if (!cli_parse_num(argv[1], &v) || v <= 0)
			return cli_error(c, "%s: '%s' is not a positive count", cmd, argv[1]);
		n = (uint64_t)v;
	}
	struct hs_record_info info;
	hs_record_info(c->m, &info);
	if (!info.active)
		return cli_error(c, "%s: not recording: `record` first, then run forward", cmd);
	struct hs_cpu_state st;
	hs_cpu_state(c->m, hs_current_cpu(c->m), &st);
	struct step_loc l0;
	step_locate(c, st.pc, &l0);
	if (kind != REV_NEXTI && !l0.image)
		return cli_error(c,
				 "%s: the PC %#" PRIx64 " is not in the hypervisor image (no "
				 "line information); use reverse-stepi",
				 cmd, st.pc);
	char w0[320];
	cli_where(c, st.pc, w0, sizeof(w0));
	bool at_start = false, said_start = false;
	struct hs_stop last = *hs_last_stop(c->m);
	for (uint64_t k = 0; k < n && !at_start; k++) {
		/* Undo a step down into an inlined frame: up again, nothing replayed. */
		if (kind == REV_STEP && step_inline_leave(c))
			continue;
		if (hs_machine_icount(c->m) <= info.first_icount) {
			at_start = true;
			break;
		}
		uint64_t target = 0;
		int into = 0;
		struct hs_error err = {0};
		if (locate_target(c, kind, &target, &at_start, &into, &err))
			return cli_error(c, "%s: %s", cmd, err.msg);
		if (at_start)
			target = info.first_icount;
		/* gdb: a breakpoint the way back passes (in a callee, say) stops it there. */
		bool hit = false;
		if (cli_reverse_to_hit(c, target, &hit, &err))
			return cli_error(c, "%s: %s", cmd, err.msg);
		if (hit) {
			cli_bps_follow_walks(&c->bps);
			return 0;
		}
		if (quiet_replay_to(c, target, &err))
			return cli_error(c, "%s: %s", cmd, err.msg);
		if (at_start) {
			printf("No more reverse-execution history.\n");
			said_start = true;
		}
		/* gdb: arriving at a breakpoint's instruction is a hit there. */
		if (cli_reverse_landed(c, &last)) {
			cli_bps_follow_walks(&c->bps);
			return 0;
		}
		/* The forward step began as far down the inlined frames there as it goes. */
		for (unsigned d = into && !at_start ? step_inline_hidden(c) : 0, k0 = d; d; d--)
			step_inline_enter(c, into == 2 && d == k0);
	}
	if (at_start && !said_start)
		printf("No more reverse-execution history.\n");
	hs_cpu_state(c->m, hs_current_cpu(c->m), &st);
	if (kind == REV_NEXTI || at_start) {
		if (kind == REV_NEXTI)
			step_inline_no_skip(c); /* like nexti's stop */
		cli_report_stop(c, &last);
		cli_stop_as_step(c);
		return 0;
	}
	if (kind == REV_FINISH) {
		/* gdb ends reverse-finish with a reverse stepi onto the call: no inlined frame
		 * skipped. */
		step_inline_no_skip(c);
		if (!c->json)
			printf("Run back to call of #0  %s\n", w0);
	}
	struct step_loc now;
	step_locate(c, st.pc, &now);
	step_inline_show(c, kind == REV_FINISH || now.fn != l0.fn);
	cli_stop_as_step(c);
	return 0;
}

int cmd_reverse_nexti(struct cli *c, int argc, char **argv)
{
	return reverse(c, argc, argv, REV_NEXTI);
}

int cmd_reverse_step(struct cli *c, int argc, char **argv)
{
	return reverse(c, argc, argv, REV_STEP);
}

int cmd_reverse_next(struct cli *c, int argc, char **argv)
{
	return reverse(c, argc, argv, REV_NEXT);
}

int cmd_reverse_finish(struct cli *c, int argc, char **argv)
{
	return reverse(c, argc, argv, REV_FINISH);
}
