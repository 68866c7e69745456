/* SPDX-License-Identifier: MIT */
/* Linux's hypervisor data layouts for inspection, from the image (linux_inspect.c). */
#ifndef HS_LINUX_INSPECT_H
#define HS_LINUX_INSPECT_H

#include <stdbool.h>
#include <stddef.h>

#include "hs_error.h"
#include "machine.h"
#include "pool_layout.h"
#include "vmemmap_layout.h"

/* struct hyp_page from DWARF, the base from __hyp_vmemmap. */
int hs_linux_vmemmap_layout(struct hs_machine *m, struct hs_vmemmap_layout *l,
			    struct hs_error *err);
/* struct hyp_pool from DWARF (the checker's pool rules, hs_profile.pool_layout). */
int hs_linux_pool_layout(struct hs_machine *m, struct hs_pool_layout *l, struct hs_error *err);
/* sizeof(struct memblock_region) from DWARF (16 when the image does not say). */
unsigned hs_linux_memblock_size(const struct hs_machine *m);

/*
 * EL2 stage-1 table pages Linux keeps an extra reference on, one per entry in pa[] (up
 * to max): the pages holding each fixmap slot's PTE (mm.c create_fixmap_slot keeps
 * the refcount up though the PTE is cleared) and 7.x's fixblock slot. Returns the count.
 */
unsigned hs_linux_pinned_tables(struct hs_machine *m, uint64_t *pa, unsigned max);

#endif
