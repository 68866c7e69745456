/* SPDX-License-Identifier: MIT */
/*
 * A frame's arguments and local variables from the image's DWARF: where each
 * one is at a PC (DW_AT_location, its location list, DW_AT_const_value),
 * evaluated against the frame's registers and CFA. A variable whose location
 * the DWARF does not give at the PC, or gives in a way this evaluator does not
 * know (DW_OP_entry_value, pieces), is optimized out: never a wrong value.
 * Pure with respect to the machine: memory comes through a reader.
 */
#ifndef HS_IMAGE_LOCALS_H
#define HS_IMAGE_LOCALS_H

#include <stdbool.h>
#include <stdint.h>

#include "image_cfi.h"
#include "image_dwarf.h"

enum hs_var_where {
	HS_VAR_OPTIMIZED, /* not available at this PC */
	HS_VAR_REG,	  /* in register reg: its value in value */
	HS_VAR_MEM,	  /* in memory at addr (an EL2 virtual address) */
	HS_VAR_VALUE,	  /* no storage: the value is value (DW_OP_stack_value, a constant) */
};

struct hs_var {
	const char *name; /* valid while the DWARF is open */
	bool is_param;
	uint64_t type_off; /* the DIE offset of its type; 0: none */
	enum hs_var_where where;
	unsigned reg;
	uint64_t addr, value;
};

/* The frame whose variables are read. */
struct hs_var_frame {
	uint64_t look;	       /* link address to look up (a caller's call, not its return) */
	unsigned inline_depth; /* 0: the innermost function at look, 1: the one it is in, ... */
	struct hs_unwind_regs regs; /* known registers */
	uint64_t cfa;		    /* the physical frame's CFA */
	bool have_cfa;
	hs_unwind_read_fn read;			    /* DW_OP_deref */
	uint64_t (*reloc)(void *ud, uint64_t link); /* DW_OP_addr: a link address as code sees it */
	void *ud;
};

/*
 * The variables of the frame's function (inline_depth picks it in the inline
 * chain at look): its parameters (params) or its locals (!params: those of the
 * blocks holding look, innermost block first, each in declaration order, as
 * gdb's info locals lists them), at most max into out. Returns the count; -1
 * when no DWARF function covers look.
 */
int hs_dwarf_frame_vars(struct hs_dwarf *dw, const struct hs_var_frame *fr, bool params,
			struct hs_var *out, unsigned max);

#endif
