/* SPDX-License-Identifier: MIT */
/*
 * The call-frame information (CFI) of an image, read with libdw from its
 * .debug_frame (or .eh_frame): given one frame's registers, its caller's.
 * Pure with respect to the machine: memory comes through a reader, and the
 * PC to look up is a link address (the caller converts). The debugger's
 * backtrace is built on it (cli/cmd_frame.c), as gdb's is on the same CFI.
 */
#ifndef HS_IMAGE_CFI_H
#define HS_IMAGE_CFI_H

#include <stdbool.h>
#include <stdint.h>

#include "hs_error.h"
#include "image_dwarf.h"

/* AArch64 DWARF register numbers: x0..x30 are 0..30, SP is 31. */
#define HS_CFI_NR_REGS 32
#define HS_CFI_SP 31
#define HS_CFI_LR 30
#define HS_CFI_FP 29

/* One frame's general registers, as far as they are known. */
struct hs_unwind_regs {
	uint64_t r[HS_CFI_NR_REGS];
	uint32_t known; /* bit n: r[n] is known */
	uint64_t pc;
};

/* What unwinding one frame found besides the caller's registers. */
struct hs_unwind_info {
	uint64_t cfa; /* the frame's canonical frame address */
	uint64_t
	    saved_at[HS_CFI_NR_REGS]; /* where the frame saved its caller's register (0: not) */
	uint64_t fn_start, fn_end;    /* the link range the CFI entry covers */
};

/* Reads the 8 bytes at a virtual address of the frames' regime; 0 or negative. */
typedef int (*hs_unwind_read_fn)(void *ud, uint64_t addr, uint64_t *val);

struct hs_cfi;

/*
 * The CFI of an image whose DWARF is open (hs_dwarf_open): its .debug_frame,
 * else its .eh_frame; -ENOENT (with a message) when it has neither. Close it
 * before the DWARF.
 */
int hs_cfi_open(struct hs_dwarf *dw, struct hs_cfi **out, struct hs_error *err);
void hs_cfi_close(struct hs_cfi *cfi);

/*
 * The caller of the frame whose registers are `in` and whose code is at link
 * address `link` (for a frame above the innermost, look up its return
 * address minus one: the call itself, so that a call that ends a function
 * still finds that function). The caller's registers go to *out: its PC is
 * the return address rule's value, its SP the CFA, a callee-saved register
 * comes from where this frame saved it, an unchanged one is copied, a
 * clobbered one is unknown. Returns 0; 1 when the CFI says this is the
 * outermost frame (its return address is undefined); -ENOENT when the image
 * has no CFI for link; another negative code (message in err) when a rule
 * needs a register that is not known or memory that cannot be read.
 */
int hs_cfi_caller(struct hs_cfi *cfi, uint64_t link, const struct hs_unwind_regs *in,
		  hs_unwind_read_fn read, void *ud, struct hs_unwind_regs *out,
		  struct hs_unwind_info *info, struct hs_error *err);

#endif
