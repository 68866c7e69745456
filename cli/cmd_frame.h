/* SPDX-License-Identifier: MIT */
/* Frames of the current CPU's stack (cmd_frame.c): what bt, frame, up, down and info frame see. */
#ifndef HS_CLI_CMD_FRAME_H
#define HS_CLI_CMD_FRAME_H

#include <stdbool.h>
#include <stddef.h>

#include "image_cfi.h"

#define CLI_MAX_FRAMES 64

struct cli;
struct hs_strbuf;

/*
 * A frame as bt shows it. A physical frame (one on the stack) may show as
 * several: the functions inlined into it (same registers), and before it the
 * functions that reached its callee by tail calls (no registers of their own).
 */
struct cli_frame {
	struct hs_unwind_regs regs; /* the frame's registers, as far as they are known */
	struct hs_unwind_info info; /* its CFA and where it saved its caller's registers */
	bool have_info;		    /* info is valid (the frame was unwound by its CFI) */
	const char *how; /* how it was found: "registers", "cfi", "frame record", "no frame",
			    "inlined", "tail call" */
	const char *fn;	 /* the function (DWARF), NULL: the symbol at the PC */
	bool inlined;	 /* fn is inlined here: no offset in it to show */
	const char *file;
	int line;	       /* 0: no line */
	uint64_t look;	       /* link address its DWARF is looked up at (a caller's: its call) */
	unsigned inline_depth; /* its place in the inline chain at look (0: innermost) */
	bool in_image;	       /* look is valid */
	uint64_t phys_cfa;     /* the CFA of the physical frame it is part of */
	bool have_phys_cfa;
};

/*
 * The current CPU's frames into f[0..max), innermost first: returns how many;
 * why says what ended the walk ("" when the CFI marked the outermost frame).
 */
unsigned cli_unwind(struct cli *c, struct cli_frame *f, unsigned max, char *why, size_t len);
/* The frame selected by frame/up/down (false: the innermost, i.e. the CPU's registers). */
bool cli_frame_selected(struct cli *c, struct cli_frame *out);
/* `info frame`. */
int cli_info_frame(struct cli *c, struct hs_strbuf *sb);

#endif
