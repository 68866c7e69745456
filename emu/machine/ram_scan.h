/* SPDX-License-Identifier: MIT */
/*
 * Which RAM pages may hold anything: the question a first checkpoint and a
 * saved machine ask, answered from the kernel's page tables (mincore, the
 * page map) rather than by reading every page, so its cost follows the pages
 * the machine used, not the RAM size.
 */
#ifndef HS_RAM_SCAN_H
#define HS_RAM_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "machine.h"

/* A growing list of page addresses (what a scan returns, what a restore collects). */
struct hs_page_list {
	uint64_t *pa;
	size_t nr, cap;
};
/* Append pa; 0 or -ENOMEM (the list is kept). */
int hs_page_list_push(struct hs_page_list *v, uint64_t pa);

/*
 * The RAM pages that may hold anything (resident in the process or swapped),
 * sorted; with nonzero, only those that do. *pa is malloc'd. 0 or -ENOMEM.
 */
int hs_ram_scan(struct hs_machine *m, bool nonzero, uint64_t **pa, size_t *nr);
/* The same for the pages of [pa, pa + len) (clipped to RAM). */
int hs_ram_scan_range(struct hs_machine *m, uint64_t pa, uint64_t len, bool nonzero, uint64_t **out,
		      size_t *nr);

#endif
