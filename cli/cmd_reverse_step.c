/* SPDX-License-Identifier: MIT */
/*
 * gdb's reverse-nexti, reverse-step, reverse-next and reverse-finish. The
 * machine replays the stretch of history before the present one instruction
 * at a time (hs_replay_span); the forward stepping rules (step_lines.h) then
 * say where each command would have stopped, read backwards, and the machine
 * goes there (hs_replay_to):
 *
 * - a call (BL, BLR) makes its callee one frame deeper until the CPU is back
 *   at its return address with the caller's SP, as `next` decides it runs
 *   over a call; an unmatched `ret` leaves the frame the stretch began in;
 * - a line stop is an instruction where a forward line step coming from the
 *   instruction before it in its frame would stop (a statement's first
 *   address on another line), a C function's opening line excepted (step
 *   passes over the prologue);
 * - reverse-step: the latest line stop, in this frame, a callee (entered
 *   backwards at its last line) or the caller once the frame's start is
 *   passed; reverse-next: the same in this frame or its callers only;
 *   reverse-nexti: the latest instruction of this frame or its callers;
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
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd_reverse.h"
#include "replay.h"
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
 * Would a forward line step coming to v[i] from the instruction before it in
 * its frame stop? `step` passes over a C function's opening line however it
 * was entered; `next` meets one only entered by a branch (a tail call), and
 * stops there.
 */
static bool line_stop(struct cli *c, const struct rev_hist *h, size_t i, bool over)
{
	struct step_loc now, from = {0};
	step_locate(c, h->v[i].pc, &now);
	if (!now.ln || !now.row_start || !now.ln->is_stmt)
		return false;
	size_t j = i;
	while (j-- > 0 && h->v[j].depth > h->v[i].depth)
		;
	if (j == (size_t)-1) {
		if (!h->from_start)
			return false; /* the stretch before it decides: look further back */
	} else {
		step_locate(c, h->v[j].pc, &from);
	}
	bool called = j == (size_t)-1 || h->v[j].depth < h->v[i].depth;
	return step_new_line(&now, &from) && !(step_c_entry(&now, &from) && (!over || called));
}

/* The index of where the command goes, or -1 when this stretch of history has none. */
static long find(struct cli *c, const struct rev_hist *h, enum rev_kind kind)
{
	if (!h->n)
		return -1;
	int d0 = h->v[h->n - 1].depth, dd = d0;
	for (size_t i = h->n - 1; i-- > 0;) {
		int d = h->v[i].depth;
		if (d < dd)
			dd = d;
		switch (kind) {
		case REV_NEXTI:
			if (d <= d0)
				return (long)i;
			break;
		case REV_FINISH:
			if (d < d0)
				return (long)i;
			break;
		case REV_STEP:
			if (line_stop(c, h, i, false))
				return (long)i;
			break;
		case REV_NEXT:
			if (d == dd && line_stop(c, h, i, true))
				return (long)i;
			break;
		}
	}
	return -1;
}

/* Replays print nothing: what they repeat was shown the first time. */
static int quiet_replay_to(struct cli *c, uint64_t target, struct hs_error *err)
{
	bool live = c->live;
	c->live = false;
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
static int locate_target(struct cli *c, enum rev_kind kind, uint64_t *target, bool *none,
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
		long i = find(c, &h, kind);
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
		if (hs_machine_icount(c->m) <= info.first_icount) {
			at_start = true;
			break;
		}
		uint64_t target = 0;
		struct hs_error err = {0};
		if (locate_target(c, kind, &target, &at_start, &err))
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
	}
	if (at_start && !said_start)
		printf("No more reverse-execution history.\n");
	hs_cpu_state(c->m, hs_current_cpu(c->m), &st);
	if (kind == REV_NEXTI || at_start) {
		cli_report_stop(c, &last);
		cli_stop_as_step(c);
		return 0;
	}
	if (kind == REV_FINISH && !c->json)
		printf("Run back to call of #0  %s\n", w0);
	struct step_loc now;
	step_locate(c, st.pc, &now);
	step_show_location(c, st.pc, kind == REV_FINISH || now.fn != l0.fn);
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
