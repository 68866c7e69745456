/* SPDX-License-Identifier: MIT */
/*
 * Inlined functions in source stepping, as gdb presents them. At a stop, the
 * inlined blocks that begin at the PC (innermost first) are "skipped": gdb
 * shows the function they are inlined into, at their call site
 * (DW_AT_call_file/line), as frame 0. `step` there goes down into them one at a
 * time without running; `next` treats a block as a call. The frame a line step
 * is stepping in is identified as gdb's frame ids are: the real function, the
 * presented block's entry and its inline depth.
 */
#ifndef HS_STEP_INLINE_H
#define HS_STEP_INLINE_H

#include <stdbool.h>
#include <stdint.h>

#include "cli.h"
#include "image_scopes.h"

#define STEP_MAX_INLINE 8

/* The functions active at a PC and the one presented as frame 0. */
struct step_frame {
	struct hs_scope_fn chain[STEP_MAX_INLINE]; /* innermost first, the real function last */
	unsigned n;				   /* 0: no DWARF function here */
	unsigned skipped; /* innermost inlined blocks that begin here (gdb skips them) */
	unsigned shown;	  /* chain index of frame 0 as presented */
	const char *file; /* frame 0's location: the call site of chain[shown - 1], else */
	int line;	  /* the line table's (NULL, 0: none) */
};

/* The frame gdb presents at pc right after stopping there (no `step` into it yet). */
void step_frame_at(struct cli *c, uint64_t pc, struct step_frame *f);
/* Frame f (at pc) presented `down` inlined frames further down, as `step`s there go. */
void step_frame_down(struct cli *c, uint64_t pc, struct step_frame *f, unsigned down);
/* The frame the CLI presents now at the current PC: after the `step`s down into it. */
void step_frame_now(struct cli *c, struct step_frame *f);
/* The frame that called frame 0 (for finish out of an inlined function); false if none. */
bool step_frame_caller(const struct step_frame *f, struct step_frame *out);
/* Same frame (gdb's frame_id_eq). */
bool step_frame_same(const struct step_frame *a, const struct step_frame *b);
/* now is an inlined frame (deeper) in the same real frame as outer (gdb's stepped_in_from). */
bool step_frame_inside(const struct step_frame *now, const struct step_frame *outer);
/* Frame 0 is an inlined function. */
bool step_frame_inlined(const struct step_frame *f);
/* Two source locations are the same file and line (file names as the DWARF spells them). */
bool step_same_place(const char *fa, int la, const char *fb, int lb);

/* Inlined frames the CLI hides at the current PC (bt and frame start below them). */
unsigned step_inline_hidden(struct cli *c);
/*
 * One inlined frame down at the current PC: `step` at a skipped inlined call
 * (without running), or a step that ran and stopped at one (ran).
 */
void step_inline_enter(struct cli *c, bool ran);
/* reverse-step undoing a step down that did not run: up again (false: there is none). */
bool step_inline_leave(struct cli *c);
/*
 * The machine runs or replays: what `step` went down into no longer holds
 * (the instruction count alone could meet it again after a replay).
 */
void step_inline_forget(struct cli *c);
/*
 * A stepi or nexti stop: gdb skips no inlined frame there (its
 * skip_inline_frames runs only when a line step or continue stops).
 */
void step_inline_no_skip(struct cli *c);
/* The last part of a path. */
const char *step_base_name(const char *path);

#endif
