/* SPDX-License-Identifier: MIT */
/*
 * When a source line step stops, gdb's process_event_stop_test for step and
 * next with inlined functions: one set of rules, judged after every
 * instruction (cmd_step.c, forward) and for every instruction of replayed
 * history (cmd_reverse_step.c, where would a forward step have stopped).
 */
#ifndef HS_STEP_JUDGE_H
#define HS_STEP_JUDGE_H

#include <stdbool.h>
#include <stdint.h>

#include "cli.h"
#include "step_inline.h"
#include "step_lines.h"

/*
 * What a line step is stepping through, gdb's step info: the frame (as
 * presented, inlined functions included), the line being stepped (frame 0's
 * location when the step began: the call site of a skipped inlined call) and
 * the line-table row the PC started in (the step range).
 */
struct step_info {
	struct step_frame frame;
	const char *file; /* NULL: no line (finish out of an inlined function) */
	int line;
	const struct hs_line *row;
};

enum step_verdict {
	STEP_ON,	  /* keep going */
	STEP_DONE,	  /* stop here */
	STEP_INTO_INLINE, /* stop here, one inlined frame down (gdb's step_into_inline_frame) */
};

/*
 * A line step (next when over) with step info si, begun in the function of
 * start, is at pc: go on or stop? si is updated where gdb updates its step
 * range and refreshes its step info.
 */
enum step_verdict step_judge(struct cli *c, struct step_info *si, bool over,
			     const struct step_loc *start, uint64_t pc);

#endif
