/* SPDX-License-Identifier: MIT */
/*
 * Code breakpoints, a machine service. A breakpoint is an address the CPU
 * may run (a PA, a HYP VA, an idmap address, a host or guest address); the
 * machine arms it on every CPU and through every alias of the same code
 * (the image's PA, which is also its idmap address, and its HYP VA), and
 * drops the translated code of the page that holds it so that code which
 * already ran sees it. It stops the machine with HS_STOP_BREAKPOINT before
 * the instruction executes; hs_stop.bp_id says which one. Resuming from a
 * stop at a breakpoint executes that instruction (like gdb).
 */
#ifndef HS_CODE_BREAKPOINTS_H
#define HS_CODE_BREAKPOINTS_H

#include <stdbool.h>
#include <stdint.h>

#include "machine.h"

/* A breakpoint at addr. Returns its id (> 0) or a negative code with err filled. */
int hs_break_add(struct hs_machine *m, uint64_t addr, struct hs_error *err);
/* Delete breakpoint id (its hooks go, its page is retranslated without them). */
int hs_break_delete(struct hs_machine *m, int id, struct hs_error *err);
/* Disable (on = false) or enable a breakpoint; a disabled one costs nothing. */
int hs_break_enable(struct hs_machine *m, int id, bool on, struct hs_error *err);

struct hs_break_info {
	int id;
	bool enabled;
	uint64_t addr;	 /* as given */
	unsigned hits;	 /* stops it caused */
	unsigned naddrs; /* aliases armed (1 or 2) */
	uint64_t addrs[2];
};
/* Describe breakpoint id; -ENOENT when there is none. */
int hs_break_info(const struct hs_machine *m, int id, struct hs_break_info *out);

/*
 * Drop every CPU's translated code for [pa, pa + len) of RAM, through every
 * virtual address it was translated at (translated blocks are indexed by
 * the physical page). Costs the pages' retranslation only.
 */
void hs_code_invalidate(struct hs_machine *m, uint64_t pa, uint64_t len);

#endif
