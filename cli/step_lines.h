/* SPDX-License-Identifier: MIT */
/*
 * The source-level stepping rules, one set for both directions: where a PC
 * is in the line table, a function entered at its entry, what is a
 * call and when its frame is back (step_judge.h has the rules of a line
 * step). cmd_step.c runs them forward (step, next, finish);
 * cmd_reverse_step.c applies them to a replayed stretch of history
 * (reverse-step, reverse-next, reverse-finish, reverse-nexti).
 */
#ifndef HS_STEP_LINES_H
#define HS_STEP_LINES_H

#include <stdbool.h>
#include <stdint.h>

#include "cli.h"

/* Where a PC is in the source. */
struct step_loc {
	bool image; /* in the hypervisor image */
	uint64_t link;
	const struct hs_line *ln; /* NULL: no line information */
	const struct hs_symbol *fn;
	bool row_start; /* pc is the first address of its line-table row */
};

void step_locate(struct cli *c, uint64_t pc, struct step_loc *l);
/* The instruction word at a PC the CPU runs (PA or HYP VA of the image). */
bool step_insn_at(struct cli *c, uint64_t pc, uint32_t *insn);
bool step_is_call(uint32_t insn); /* BL, BLR */
bool step_is_ret(uint32_t insn);
bool step_is_eret(uint32_t insn);

/* `now` is a function's first instruction, entered from `from` (another function). */
bool step_fn_entry(const struct step_loc *now, const struct step_loc *from);
/*
 * The frame that made a call at call_pc with SP call_sp is back: the CPU is at
 * the return address in that frame (not a deeper, recursive one).
 */
bool step_call_returned(uint64_t call_pc, uint64_t call_sp, uint64_t pc, uint64_t sp);

/* "func at file:line" and the source text, like gdb after a step. */
void step_show_location(struct cli *c, uint64_t pc, bool with_frame);
/*
 * The same for the current PC with frame 0 as gdb presents it after a stop:
 * the caller at the call site where inlined calls begin (step_inline.h).
 */
void step_inline_show(struct cli *c, bool with_frame);

#endif
