/* SPDX-License-Identifier: MIT */
/* gdb's stop test for step and next, inlined functions included (see step_judge.h). */
#include "step_judge.h"

enum step_verdict step_judge(struct cli *c, struct step_info *si, bool over,
			     const struct step_loc *start, uint64_t pc)
{
	struct step_loc now;
	step_locate(c, pc, &now);
	if (!now.ln || now.ln == si->row)
		return STEP_ON; /* no line here, or still in the step range */
	/*
	 * step into a called function stops where `break FUNC` does, gdb's
	 * handle_step_into_function: on these images (no prologue_end) the entry.
	 */
	if (!over && step_fn_entry(&now, start))
		return STEP_DONE;
	struct step_frame nf;
	step_frame_at(c, pc, &nf);
	/* At the start of an inlined call made by the stepping frame. */
	if (nf.skipped && step_frame_same(&nf, &si->frame)) {
		bool same = step_same_place(nf.file, nf.line, si->file, si->line);
		if (over)
			return same ? STEP_ON : STEP_DONE;
		return same ? STEP_INTO_INLINE : STEP_DONE;
	}
	/* Deeper in an inlined function called from the stepping frame: next runs over it. */
	if (step_frame_inlined(&nf) && !step_frame_same(&nf, &si->frame) &&
	    step_frame_inside(&nf, &si->frame))
		return over ? STEP_ON : STEP_DONE;
	if (now.row_start &&
	    (now.ln->line != si->line || !step_same_place(now.ln->file, 0, si->file, 0))) {
		if (now.ln->is_stmt)
			return STEP_DONE;
		/* Not a statement: the range moves on, the line being stepped stays. */
		if (step_frame_same(&nf, &si->frame)) {
			si->row = now.ln;
			return STEP_ON;
		}
		*si = (struct step_info){nf, now.ln->file, 0, now.ln};
		return STEP_ON;
	}
	/* The middle of a line (or the same line again): it becomes the line stepped. */
	*si = (struct step_info){nf, now.ln->file, now.ln->line, now.ln};
	return STEP_ON;
}
