/* SPDX-License-Identifier: MIT */
/*
 * What inspection reads from a Linux image's DWARF, read once per machine (the image
 * never changes under it) and kept with the host: `struct hyp_page`, the stride of
 * `hyp_memory[]`, `struct hyp_fixmap_slot`, `struct bug_entry` and `struct hyp_pool`.
 * A query used to open the DWARF and look its type up each time (docs/linux-pkvm.md
 * has the figures); now the first query pays for all and the rest read this.
 */
#ifndef HS_LINUX_DWARF_H
#define HS_LINUX_DWARF_H

#include <stdbool.h>
#include <stdint.h>

#include "hs_error.h"
#include "machine.h"
#include "pool_layout.h"
#include "vmemmap_layout.h"

/* struct bug_entry (asm-generic/bug.h, relative pointers, verbose): member offsets. */
struct hs_lx_bug_entry {
	bool ok;
	uint64_t size, addr_disp, file_disp, line, flags;
};

struct hs_lx_dwarf {
	/* struct hyp_page as a vmemmap layout without its base (0 or the error's code) */
	int vmemmap_rc;
	struct hs_error vmemmap_err;
	struct hs_vmemmap_layout vmemmap;
	unsigned memblock_size; /* sizeof(struct memblock_region); 16 when not known */
	bool fixmap_ok;
	uint64_t fixmap_ptep; /* offsetof(struct hyp_fixmap_slot, ptep) */
	struct hs_lx_bug_entry bug;
	/* struct hyp_pool (nvhe/gfp.h) */
	int pool_rc;
	struct hs_error pool_err;
	struct hs_pool_layout pool;
};

/*
 * The facts of the machine's image, read on first use; NULL when the machine has no
 * host to keep them or the image has no DWARF.
 */
const struct hs_lx_dwarf *hs_lx_dwarf(struct hs_machine *m);
/* Free what hs_lx_dwarf kept (the host is going away). */
void hs_lx_dwarf_free(struct hs_lx_dwarf *d);

#endif
