/* SPDX-License-Identifier: MIT */
/*
 * Reading the hypervisor's own data structures (buddy pools, vmemmap) from
 * emulated memory, decoded with the shared ABI header.
 */
#ifndef HS_HYP_STATE_H
#define HS_HYP_STATE_H

#include <hypscope/abi.h>
#include <stdint.h>

#include "machine.h"
#include "vmemmap_layout.h"

struct hs_pool_stats {
	uint64_t range_start, range_end; /* PA */
	unsigned max_order;
	uint64_t free_blocks[HS_MAX_ORDER];
	uint64_t free_pages;
	int malformed; /* a list did not close, or pointed outside the pool */
	char why[160];
};

/* Read struct hyp_pool at symbol `name` ("hpool", "host_s2_pool"). */
int hs_read_pool(struct hs_machine *m, const char *name, struct hs_pool_stats *st,
		 struct hs_error *err);

/*
 * The raw vmemmap entry of a physical page (its entry_size bytes under the profile's
 * layout, zero-extended: abi.h's struct hs_hyp_page on the bundled hypervisor).
 */
int hs_read_vmemmap(struct hs_machine *m, uint64_t pa, uint64_t *raw, struct hs_error *err);
/* The entry decoded, with the page states from the tables where the vmemmap has none. */
int hs_read_vmemmap_entry(struct hs_machine *m, uint64_t pa, struct hs_vmemmap_entry *e,
			  struct hs_error *err);

/* A 64-bit variable of the hypervisor image by symbol; 0 if unknown or unreadable. */
uint64_t hs_read_sym_u64(struct hs_machine *m, const char *name);

/*
 * The host's stage-2 regime (VTCR_EL2, VTTBR_EL2) as CPU `cpu` has it, or as
 * the hypervisor records it (symbols host_vtcr/host_vttbr) while that CPU has
 * a guest's VTTBR loaded (VMID != 0: inside a world switch, or around a change
 * to a guest's table). Both 0 when the host has no stage 2 yet.
 */
void hs_host_s2_regs(struct hs_machine *m, unsigned cpu, uint64_t *vtcr, uint64_t *vttbr);

/* Translate an EL2 VA through the live TTBR0_EL2 of `cpu`. */
int hs_el2_va_to_pa(struct hs_machine *m, unsigned cpu, uint64_t va, uint64_t *pa,
		    struct hs_error *err);

#endif
