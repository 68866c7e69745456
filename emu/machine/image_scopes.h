/* SPDX-License-Identifier: MIT */
/*
 * Scopes of an image's code from its DWARF (libdw): the inlined functions
 * active at an address, and the tail calls a function makes. A debugger
 * needs both to show the frames gdb shows: a function inlined into its
 * caller is a frame of its own, and a function that tail-called the current
 * one has no frame on the stack but is one in the call chain.
 */
#ifndef HS_IMAGE_SCOPES_H
#define HS_IMAGE_SCOPES_H

#include <stdbool.h>
#include <stdint.h>

#include "image_dwarf.h"

/* One function active at an address. */
struct hs_scope_fn {
	const char *name;      /* valid while the DWARF is open; "??" when it has none */
	const char *call_file; /* where it was inlined into the next one; NULL for the last */
	int call_line;
	uint64_t entry; /* link address of its block's entry, as gdb 13 takes it (block_entry) */
	/*
	 * The block begins at link: its entry, or link - 1 is outside it. gdb
	 * presents the caller at the call site there ("skips" the inline frame).
	 */
	bool begins;
};

/*
 * The functions active at link address link, innermost first: inlined ones,
 * then the function they are inlined into (at most max). Returns the count
 * (0: no DWARF covers link).
 */
unsigned hs_dwarf_inline_chain(struct hs_dwarf *dw, uint64_t link, struct hs_scope_fn *out,
			       unsigned max);

/*
 * The tail calls of the function containing link address fn: the link
 * address just after each one's branch (DW_AT_call_return_pc of its
 * DW_TAG_call_site with DW_AT_call_tail_call), at most max. Returns the count.
 */
unsigned hs_dwarf_tail_calls(struct hs_dwarf *dw, uint64_t fn, uint64_t *after, unsigned max);

/*
 * Does the DWARF describe a call returning to link address after (a
 * DW_TAG_call_site of the function holding the call)? gdb builds tail-call
 * frames only from such a call.
 */
bool hs_dwarf_is_call_site(struct hs_dwarf *dw, uint64_t after);

/* One place where a function was inlined. */
struct hs_inline_site {
	uint64_t entry;	  /* link address: the inlined block's start (its first range's) */
	const char *file; /* the function's declaration (valid while the DWARF is open) */
	int line;
};

/*
 * The places where function `name` was inlined (DW_TAG_inlined_subroutine of
 * it in every unit), in DWARF order, at most max. gdb sets a location of
 * `break NAME` at each one. Returns the count.
 */
unsigned hs_dwarf_inline_sites(struct hs_dwarf *dw, const char *name, struct hs_inline_site *out,
			       unsigned max);

#endif
